//! A persistent CRM in an SQLite file: run it twice and it carries on where it left off.
//!
//! ```sh
//! cargo run --features sqlite --example sqlite_store            # a file in the temp directory
//! cargo run --features sqlite --example sqlite_store -- my.db   # or a file of your choice
//! ```
//!
//! Each run opens (or creates) the database, welcomes three new customers, records a purchase
//! for every customer already there, and prints what the file now holds.

use std::error::Error;

use chrono::Utc;
use clientele::{Clock, Crm, Currency, Customer, CustomerId, Money, Purchase, SqliteStore, Stage, Store, SystemClock};

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .map_or_else(|| std::env::temp_dir().join("clientele-example.sqlite3"), std::path::PathBuf::from);
    // The store creates the file and its schema on first use, and migrates older files.
    let store = SqliteStore::open(&path)?;
    let crm = Crm::new(store);
    println!("database: {}", path.display());

    // Who is already there? Page through the customers in id order.
    let mut existing = Vec::new();
    let mut after = None;
    loop {
        let page = crm.store().scan(after, 100)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id());
        existing.extend(page.iter().map(Customer::id));
    }
    let run = existing.len() / 3 + 1;
    println!("run {run}: {} customers already stored", existing.len());

    // Everyone already there buys something: first-time buyers become repeat customers.
    let egp = Currency::EGP;
    for id in &existing {
        let amount = Money::new(10_000 + i64::try_from(id.get() % 7).unwrap_or(0) * 2_500, egp);
        crm.record_purchase(*id, Purchase::new(SystemClock.now(), amount).with_category("books"))?;
    }

    // Three new customers, each with a first purchase.
    let next = existing.last().map_or(1, |id| id.get() + 1);
    for k in 0..3 {
        let id = CustomerId::new(next + k);
        crm.insert(Customer::new(id, format!("Customer {}", id.get()), Utc::now()))?;
        crm.record_purchase(id, Purchase::new(SystemClock.now(), Money::new(7_500, egp)))?;
    }

    // What the file holds now.
    let mut by_stage = std::collections::BTreeMap::<Stage, usize>::new();
    let mut after = None;
    loop {
        let page = crm.store().scan(after, 100)?;
        let Some(last) = page.last() else { break };
        after = Some(last.id());
        for c in &page {
            *by_stage.entry(c.stage()).or_default() += 1;
        }
    }
    println!("now {} customers:", crm.store().count()?);
    for (stage, n) in by_stage {
        println!("  {stage:<12} {n}");
    }
    let first = CustomerId::new(1);
    println!(
        "customer #1 has {} purchases and {} transitions",
        crm.get(first)?.purchases().as_slice().len(),
        crm.history(first)?.len()
    );
    println!("run the example again: it continues from this state");
    Ok(())
}
