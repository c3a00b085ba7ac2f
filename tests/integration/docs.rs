//! The documents that show generated material carry it exactly as the code generates it.

use clientele::lifecycle;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md is readable")
}

#[test]
fn readme_shows_the_generated_lifecycle_diagram() {
    let block = format!("```mermaid\n{}```", lifecycle::mermaid());
    assert!(readme().contains(&block), "README's mermaid block differs from lifecycle::mermaid(); paste:\n{block}");
}

#[test]
fn readme_shows_the_generated_rule_table() {
    let table = lifecycle::markdown_table();
    assert!(readme().contains(&table), "README's rule table differs from lifecycle::markdown_table(); paste:\n{table}");
}

#[test]
fn readme_gives_the_two_setup_commands() {
    let readme = readme();
    assert!(readme.contains("cargo run --example quickstart"));
    assert!(readme.contains("cargo test --all-features"));
}

#[test]
fn rule_table_has_one_line_per_rule() {
    // Header, separator, then one line per rule.
    assert_eq!(lifecycle::markdown_table().lines().count(), 2 + lifecycle::RULES.len());
}
