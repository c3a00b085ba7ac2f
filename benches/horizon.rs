//! Benchmarks of horizons (`Segment::horizon`) on 10 000 synthetic customers
//! (`clientele::synth`), for the time-dependent segments of the live-segment benchmark
//! (`benches/live.rs`), each measured next to its baseline in the same run:
//!
//! - `<segment>/matches`: the baseline, one evaluation, `Segment::matches(customer, t)`;
//! - `<segment>/horizon`: `Segment::horizon(customer, t)`;
//! - `<segment>/next_change_loop`: what the live-segment registry asks on every write, the
//!   first instant at which the value actually changes: the horizon, asked again while the
//!   value at it turns out the same, starting from the value at `t` (one evaluation, a
//!   horizon, one confirming evaluation, and more for compound segments).
//!
//! Every group reports `Throughput::Elements`: customers per second. `t` is the instant the
//! population is observed at, after every purchase, as for writes in the live benchmark.
//!
//! Run with `cargo bench --bench horizon` (`cargo bench --bench horizon -- P2` for one group).

#![allow(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::{hint::black_box, time::Duration as StdDuration};

use chrono::{DateTime, Utc};
use clientele::{
    Customer,
    segment::{Schema, Segment},
    synth::Population,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CUSTOMERS: usize = 10_000;

#[allow(dead_code, reason = "P3 is not time-dependent: its horizon is never, with no work")]
mod common;
use common::{P1, P2};

/// The time-dependent segments among the 20 of `benches/live.rs`, with short group names.
fn segments() -> Vec<(&'static str, String)> {
    let mut out = vec![("P1", P1.to_owned()), ("P2", P2.to_owned())];
    out.extend(
        [
            ("last_30d", "last_purchase within 30 days"),
            ("last_7d", "last_purchase within 7 days"),
            ("purchases_90d", "purchases(last 90 days) >= 3"),
            ("spent_365d", "spent(last 365 days) > 5000.00"),
            ("age_65", "age >= 65"),
            ("age_18_24", "age between 18 and 24"),
            ("lapsed", "purchases >= 2 and last_purchase within 365 days and not last_purchase within 90 days"),
            ("created_30d", "created_at within 30 days"),
            ("spent", "spent > 10000.00"),
        ]
        .map(|(name, text)| (name, text.to_owned())),
    );
    out
}

/// The first instant after `t` at which the value of `segment` for `c` differs from
/// `value`, its value at `t`: the loop of the live-segment registry, over the public API.
fn next_change(segment: &Segment, c: &Customer, t: DateTime<Utc>, value: bool) -> Option<DateTime<Utc>> {
    let mut h = segment.horizon(c, t)?;
    while segment.matches(c, h) == value {
        h = segment.horizon(c, h)?;
    }
    Some(h)
}

fn bench(c: &mut Criterion) {
    let population = Population::new(1);
    let t = population.as_of();
    let customers = population.customers(CUSTOMERS);
    let schema = Schema::new(population.currency());

    for (name, text) in segments() {
        let segment = Segment::compile(&text, &schema).expect("the benchmark segments compile");
        let values: Vec<bool> = customers.iter().map(|c| segment.matches(c, t)).collect();
        let changing = customers.iter().zip(&values).filter(|(c, v)| next_change(&segment, c, t, **v).is_some());
        eprintln!(
            "{name} ({text}): {} members, {} change with time, of {}",
            values.iter().filter(|v| **v).count(),
            changing.count(),
            customers.len()
        );

        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(customers.len() as u64));
        group.sample_size(10).warm_up_time(StdDuration::from_secs(1)).measurement_time(StdDuration::from_secs(3));
        group.bench_function("matches", |b| b.iter(|| customers.iter().filter(|c| segment.matches(c, t)).count()));
        group.bench_function("horizon", |b| {
            b.iter(|| customers.iter().filter_map(|c| segment.horizon(black_box(c), t)).max())
        });
        group.bench_function("next_change_loop", |b| {
            b.iter(|| {
                customers.iter().zip(&values).filter_map(|(c, v)| next_change(&segment, black_box(c), t, *v)).max()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
