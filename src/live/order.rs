//! The dependency order of registered segments: a segment that refers to another registered
//! segment's name comes after it.

use std::{collections::BTreeSet, sync::Arc};

use super::registry::Entry;
use crate::segment::{Expr, Schema};

/// The names `expr` refers to, and, with a schema, those its named segments' definitions
/// refer to, transitively.
pub(super) fn references(expr: &Expr, schema: Option<&Schema>) -> BTreeSet<String> {
    fn walk(expr: &Expr, out: &mut Vec<String>) {
        match expr {
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| walk(e, out)),
            Expr::Not(inner) => walk(inner, out),
            Expr::Segment(name) => out.push(name.value().clone()),
            _ => {}
        }
    }
    let mut found = BTreeSet::new();
    let mut todo = Vec::new();
    walk(expr, &mut todo);
    while let Some(name) = todo.pop() {
        if !found.insert(name.clone()) {
            continue;
        }
        if let Some(def) = schema.and_then(|s| s.segment(&name)) {
            walk(def, &mut todo);
        }
    }
    found
}

/// Orders `entries` so that each comes after the registered segments it refers to, ties in
/// registration order. If some refer to each other in a circle, gives them back (in
/// registration order) with the registration numbers of those that cannot be placed (in a
/// circle or after one), in order.
pub(super) fn dependency_order(mut entries: Vec<Entry>) -> Result<Vec<Entry>, (Vec<Entry>, Vec<u64>)> {
    entries.sort_by_key(|e| e.seq);
    let names: Vec<Arc<str>> = entries.iter().map(|e| Arc::clone(&e.name)).collect();
    // deps[i]: indices of the registered segments entry i refers to (not itself).
    let deps: Vec<Vec<usize>> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            names.iter().enumerate().filter(|(j, n)| *j != i && e.refs.contains(&***n)).map(|(j, _)| j).collect()
        })
        .collect();
    let mut placed = vec![false; entries.len()];
    let mut order = Vec::with_capacity(entries.len());
    while order.len() < entries.len() {
        let next = (0..entries.len()).find(|&i| !placed[i] && deps[i].iter().all(|&j| placed[j]));
        let Some(i) = next else {
            let stuck = (0..entries.len()).filter(|&i| !placed[i]).map(|i| entries[i].seq).collect();
            return Err((entries, stuck));
        };
        placed[i] = true;
        order.push(i);
    }
    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}
