//! A CRM on PostgreSQL: run it twice against the same database and it carries on where it
//! left off.
//!
//! ```sh
//! cargo run --features postgres --example postgres_store -- "host=localhost user=crm dbname=crm"
//! CLIENTELE_PG_URL=postgresql://crm:secret@localhost/crm cargo run --features postgres --example postgres_store
//! ```
//!
//! Each run connects (creating or migrating the schema), welcomes three new customers,
//! records a purchase for every customer already there from four threads at once (the store
//! is shared; each thread's writes run on a pooled connection of their own), and prints what
//! the database now holds and who is in a segment.

use std::{collections::BTreeMap, error::Error, process::ExitCode};

use chrono::Utc;
use clientele::{
    Clock, Crm, Currency, Customer, CustomerId, Money, PostgresStore, Purchase, Stage, Store, SystemClock,
    segment::{Schema, Segment},
};

const USAGE: &str = "usage: postgres_store <connection string>  (or set CLIENTELE_PG_URL)
  e.g. postgres_store \"host=localhost user=crm password=secret dbname=crm\"
       postgres_store postgresql://crm:secret@localhost/crm";

fn main() -> ExitCode {
    let Some(conn_str) = std::env::args().nth(1).or_else(|| std::env::var("CLIENTELE_PG_URL").ok()) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(&conn_str) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(conn_str: &str) -> Result<(), Box<dyn Error>> {
    // The store creates the schema on first use, and migrates older databases.
    let crm = Crm::new(PostgresStore::connect(conn_str)?);

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

    // Everyone already there buys something, from four threads sharing the CRM: first-time
    // buyers become repeat customers. A conflicting write is retried by the CRM.
    let egp = Currency::EGP;
    std::thread::scope(|scope| -> Result<(), Box<dyn Error>> {
        let workers: Vec<_> = existing
            .chunks(existing.len().div_ceil(4).max(1))
            .map(|ids| {
                let crm = &crm;
                scope.spawn(move || -> Result<(), clientele::Error> {
                    for id in ids {
                        let amount = Money::new(10_000 + i64::try_from(id.get() % 7).unwrap_or(0) * 2_500, egp);
                        crm.record_purchase(*id, Purchase::new(SystemClock.now(), amount).with_category("books"))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().map_err(|_| "a worker thread panicked")??;
        }
        Ok(())
    })?;

    // Three new customers, each with a first purchase.
    let next = existing.last().map_or(1, |id| id.get() + 1);
    for k in 0..3 {
        let id = CustomerId::new(next + k);
        crm.insert(Customer::new(id, format!("Customer {}", id.get()), Utc::now()))?;
        crm.record_purchase(id, Purchase::new(SystemClock.now(), Money::new(7_500, egp)))?;
    }

    // What the database holds now.
    let mut by_stage = BTreeMap::<Stage, usize>::new();
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
    let regulars = Segment::compile("purchases(last 365 days) >= 2", &Schema::default())?;
    let members = crm.store().query(&regulars, Utc::now())?;
    println!("{} customers bought twice or more in the last year", members.len());
    let first = CustomerId::new(1);
    println!(
        "customer #1 has {} purchases and {} transitions",
        crm.get(first)?.purchases().as_slice().len(),
        crm.history(first)?.len()
    );
    println!("run the example again: it continues from this state");
    Ok(())
}
