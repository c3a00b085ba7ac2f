//! Diagrams of the transition table, generated from [`RULES`](super::RULES).

use std::fmt::Write;

use super::{Guard, RULES, Stage, Target};

/// The edges to draw: `(from, to, label)`, with `to = None` meaning "the earlier stage", one
/// edge per pair of stages carrying every event that moves along it. Rows that keep the
/// stage are not drawn.
fn edges() -> Vec<(Stage, Option<Stage>, String)> {
    let mut edges: Vec<(Stage, Option<Stage>, String)> = Vec::new();
    for rule in RULES {
        let to = match rule.to {
            Target::Stay => continue,
            Target::Stage(s) => Some(s),
            Target::Resume => None,
        };
        match edges.iter_mut().find(|(f, t, _)| *f == rule.from && *t == to) {
            Some((_, _, label)) if !label.split(", ").any(|e| e == rule.event.name()) => {
                label.push_str(", ");
                label.push_str(rule.event.name());
            }
            Some(_) => {}
            None => edges.push((rule.from, to, rule.event.name().to_owned())),
        }
    }
    edges
}

/// The lifecycle as a Mermaid state diagram.
///
/// # Example
///
/// ```
/// let text = clientele::lifecycle::mermaid();
/// assert!(text.starts_with("stateDiagram-v2"));
/// assert!(text.contains("lost --> repeat: purchase, win_back"));
/// ```
pub fn mermaid() -> String {
    let mut out = String::from("stateDiagram-v2\n    [*] --> suspect\n");
    for (from, to, label) in edges() {
        let to = to.map_or("earlier_stage", Stage::name);
        // Writing to a String cannot fail.
        let _ = writeln!(out, "    {} --> {to}: {label}", from.name());
    }
    out.push_str("    note right of earlier_stage: the customer stage held before going inactive\n");
    out
}

/// The lifecycle as a Graphviz `dot` digraph.
///
/// # Example
///
/// ```
/// let text = clientele::lifecycle::dot();
/// assert!(text.starts_with("digraph lifecycle {"));
/// assert!(text.contains("suspect -> prospect [label=\"qualify\"];"));
/// ```
pub fn dot() -> String {
    let mut out = String::from("digraph lifecycle {\n    rankdir=LR;\n    node [shape=box, style=rounded];\n");
    out.push_str("    earlier_stage [shape=note, label=\"earlier stage\"];\n");
    for (from, to, label) in edges() {
        let to = to.map_or("earlier_stage", Stage::name);
        let _ = writeln!(out, "    {} -> {to} [label=\"{label}\"];", from.name());
    }
    out.push_str("}\n");
    out
}

/// The transition table as a Markdown table: one row per rule, in the order rules are tried.
///
/// # Example
///
/// ```
/// let table = clientele::lifecycle::markdown_table();
/// assert!(table.contains("| lost | purchase | always | repeat | win_back |"));
/// ```
pub fn markdown_table() -> String {
    let mut out = String::from("| from | event | guard | to | kind |\n|---|---|---|---|---|\n");
    for rule in RULES {
        let guard = match rule.guard {
            Guard::Always => "always".to_owned(),
            g => g.to_string(),
        };
        let (to, kind) = match rule.to {
            Target::Stage(s) => (s.name(), rule.kind.name()),
            Target::Stay => ("(stays)", "-"),
            Target::Resume => ("(earlier stage)", rule.kind.name()),
        };
        let _ = writeln!(out, "| {} | {} | {guard} | {to} | {kind} |", rule.from.name(), rule.event.name());
    }
    out
}
