//! Prints the customer lifecycle as a diagram, generated from the transition table
//! (`clientele::lifecycle::RULES`), for pasting into documentation.
//!
//! ```text
//! cargo run --example lifecycle_diagram            # Mermaid (the default)
//! cargo run --example lifecycle_diagram -- mermaid # the same
//! cargo run --example lifecycle_diagram -- dot     # Graphviz: pipe into `dot -Tsvg`
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let format = std::env::args().nth(1);
    match format.as_deref() {
        None | Some("mermaid") => print!("{}", clientele::lifecycle::mermaid()),
        Some("dot") => print!("{}", clientele::lifecycle::dot()),
        Some(other) => {
            eprintln!("unknown format `{other}`: expected `mermaid` (the default) or `dot`");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
