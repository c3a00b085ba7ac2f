//! Live segments: a month of a shop's activity with segments that stay exact on every write
//! and as time passes, and campaigns triggered by customers entering them.
//!
//! 500 synthetic customers (from [`Population`]) are loaded into a [`MemoryStore`] wrapped in
//! a [`LiveStore`], with three segments registered:
//!
//! - `recent buyers`: `last_purchase within 30 days`, which a purchase enters and which the
//!   customer leaves thirty days later *with no write*, when the registry's timer reaches the
//!   window edge;
//! - `lapsing`: regular buyers whose last purchase is more than 90 days but less than a year
//!   old; entering it triggers a win-back offer (a time-driven trigger: nobody writes
//!   anything when a customer crosses the 90-day line);
//! - `lost`: `stage = lost`, which the lifecycle policy's nightly run moves customers into;
//!   entering it triggers a win-back call.
//!
//! A [`ManualClock`] moves day by day through January 2026; each day a few customers buy
//! (the registry is advanced to each purchase's instant before the write, the way an
//! application follows its clock), the policy runs, and the day's entries and exits are
//! printed, with the story of one customer who buys on the first day and leaves `recent
//! buyers` exactly thirty days later. Run it with
//!
//! ```text
//! cargo run --example live_segments
//! ```
//!
//! Everything is seeded and the clock is manual, so the output is the same on every run.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use chrono::Duration;
use clientele::{
    Clock, Crm, CustomerId, ManualClock, MemoryStore, Money, Purchase, Store,
    live::{LiveEvent, LiveStore},
    segment::{Schema, Segment},
    synth::{Population, Rng},
};

const SEGMENTS: &[(&str, &str)] = &[
    ("recent buyers", "last_purchase within 30 days"),
    ("lapsing", "purchases >= 2 and last_purchase within 365 days and not last_purchase within 90 days"),
    ("lost", "stage = lost"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let population = Population::new(2026);
    let schema = Schema::new(population.currency());
    let store = MemoryStore::new();
    store.insert_many(population.customers(500))?;

    // The day starts at 09:00; the registry is exact as of that instant.
    let start = population.as_of() + Duration::hours(9);
    let clock = ManualClock::new(start);
    let live = LiveStore::new(store, clock.now());
    for (name, text) in SEGMENTS {
        live.register(name, Segment::compile(text, &schema)?)?;
    }
    println!("{} customers on {}", live.count()?, start.format("%Y-%m-%d %H:%M"));
    for (name, text) in SEGMENTS {
        println!("  {name:<14} {:>4}  ({text})", live.member_count(name)?);
    }

    // Observers hear every entry and exit, after the write (or the time) that caused it.
    let day_log: Arc<Mutex<Vec<LiveEvent>>> = Arc::default();
    let log = Arc::clone(&day_log);
    live.observe(move |e: &LiveEvent| {
        if let Ok(mut log) = log.lock() {
            log.push(e.clone());
        }
    });

    // The customer whose story is told: the first one who has bought before, but not in the
    // last 30 days.
    let recent = live.members("recent buyers")?;
    let featured = (1..=500)
        .map(CustomerId::new)
        .find(|id| {
            recent.binary_search(id).is_err() && live.get(*id).is_ok_and(|c| !c.purchases().as_slice().is_empty())
        })
        .ok_or("every customer bought recently")?;

    let crm = Crm::new(live).with_clock(&clock);
    let mut rng = Rng::new(7);
    let mut offers = 0;
    println!("\nday     recent buyers   lapsing (offer)  lost (call)");
    for day in 0..31 {
        let morning = start + Duration::days(day);
        clock.set(morning);
        crm.store().advance_to(clock.now())?;

        // A few purchases during the day, at uneven times; the featured customer buys once,
        // on the first day, and never again this month.
        let mut buyers: Vec<CustomerId> =
            (0..3).map(|_| CustomerId::new(1 + rng.below(500))).filter(|id| *id != featured).collect();
        if day == 0 {
            buyers.insert(0, featured);
        }
        for (k, id) in (1..).zip(buyers) {
            clock.set(morning + Duration::minutes(97 * k) + Duration::seconds(13));
            crm.store().advance_to(clock.now())?;
            let amount = Money::new(i64::try_from(5_000 + rng.below(60_000))?, population.currency());
            crm.record_purchase(id, Purchase::new(clock.now(), amount))?;
        }

        // The nightly policy run: customers idle long enough become inactive or lost.
        clock.set(morning + Duration::hours(14));
        crm.store().advance_to(clock.now())?;
        crm.run_policy(clock.now())?;

        let events = std::mem::take(&mut *day_log.lock().map_err(|_| "poisoned")?);
        let mut moves: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for e in &events {
            let entry = moves.entry(e.segment()).or_default();
            if e.is_entry() { entry.0 += 1 } else { entry.1 += 1 }
        }
        let cell = |name: &str| -> Result<String, Box<dyn std::error::Error>> {
            let (entered, left) = moves.get(name).copied().unwrap_or_default();
            Ok(format!("+{entered:<2} -{left:<2} {:>4}", crm.store().member_count(name)?))
        };
        let triggered = moves.get("lapsing").map_or(0, |m| m.0) + moves.get("lost").map_or(0, |m| m.0);
        offers += triggered;
        println!("{}  {}  {}  {}", morning.format("%b %d"), cell("recent buyers")?, cell("lapsing")?, cell("lost")?);
        for e in events.iter().filter(|e| e.customer() == featured) {
            println!("    {e}");
        }
    }

    println!("\n{offers} win-back offers and calls triggered by segment entries in January");
    println!(
        "next membership change due at {}",
        crm.store().next_due()?.map_or("never".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
    );
    Ok(())
}
