//! Criterion benchmarks of the strategy over 1 000 000 synthetic customers
//! (`clientele::synth::Population::new(1)`), on one core (neither spawns threads):
//!
//! - `rfm/all_purchases`: RFM scoring, frequency and monetary over every purchase up to the
//!   date;
//! - `rfm/last_365_days`: the same over a trailing 365-day window;
//! - `plan/two_weeks`: the contact plan for the two weeks after the population's date, each
//!   customer's level from the first of three segments they are in (evaluated row by row,
//!   as the plan does), with the default configuration.
//!
//! Each reports `Throughput::Elements`: customers per second. The target is under one second
//! per million customers for each. Generating the customers is not measured.
//!
//! Run with `cargo bench --bench rfm`.

#![allow(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::{hint::black_box, time::Duration as StdDuration};

use clientele::{
    Window,
    rfm::{RfmConfig, RfmScores},
    segment::{Schema, Segment},
    strategy::{
        ContactPlan, LevelAssignment, PlanConfig, PlanRange,
        RelationshipLevel::{Accountable, Partnership, Proactive, Reactive},
    },
    synth::Population,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CUSTOMERS: usize = 1_000_000;

fn bench(c: &mut Criterion) {
    let population = Population::new(1);
    let as_of = population.as_of();
    let customers = population.customers(CUSTOMERS);
    let all = RfmConfig { window: None, currency: population.currency() };
    let year = RfmConfig { window: Some(Window::days(365)), ..all.clone() };

    for (name, config) in [("all purchases", &all), ("last 365 days", &year)] {
        let scores = RfmScores::compute(&customers, as_of, config).expect("synthetic ids are unique");
        eprintln!("{name}: {} scored, {} without purchases", scores.len(), scores.unscored());
        eprintln!("  R {:?}  F {:?}  M {:?}", scores.r_counts(), scores.f_counts(), scores.m_counts());
        let groups: Vec<String> = scores.group_counts().map(|(g, n)| format!("{g} {n}")).collect();
        eprintln!("  {}", groups.join(", "));
    }

    let mut group = c.benchmark_group("rfm");
    group.throughput(Throughput::Elements(CUSTOMERS as u64));
    group.sample_size(10).warm_up_time(StdDuration::from_secs(1)).measurement_time(StdDuration::from_secs(8));
    group.bench_function("all_purchases", |b| {
        b.iter(|| RfmScores::compute(black_box(&customers), as_of, &all).map(|s| s.len()))
    });
    group.bench_function("last_365_days", |b| {
        b.iter(|| RfmScores::compute(black_box(&customers), as_of, &year).map(|s| s.len()))
    });
    group.finish();

    let schema = Schema::new(population.currency());
    let segment = |text: &str| Segment::compile(text, &schema).expect("the benchmark's segments compile");
    let levels = LevelAssignment::new(Reactive)
        .with(segment("exclusive and spent >= 20000.00"), Partnership)
        .with(segment("spent(last 365 days) >= 15000.00"), Proactive)
        .with(segment("purchases >= 2"), Accountable);
    let range = PlanRange::days(as_of.date_naive(), 14).expect("two weeks is a valid range");
    let matcher = levels.at(range.as_of());
    let config = PlanConfig { currency: population.currency(), ..PlanConfig::default() };

    let plan = ContactPlan::build(&customers, range, &matcher, &config).expect("synthetic ids are unique");
    eprintln!(
        "plan {range}: {} tasks, {} dropped by the caps, {} postponed, {} customers unreachable",
        plan.len(),
        plan.dropped().len(),
        plan.tasks().iter().filter(|t| t.postponed_from().is_some()).count(),
        plan.unreachable().len()
    );
    let kinds: Vec<String> = plan.count_by_kind().map(|(k, n)| format!("{k} {n}")).collect();
    eprintln!("  {}", kinds.join(", "));

    let mut group = c.benchmark_group("plan");
    group.throughput(Throughput::Elements(CUSTOMERS as u64));
    group.sample_size(10).warm_up_time(StdDuration::from_secs(1)).measurement_time(StdDuration::from_secs(8));
    group.bench_function("two_weeks", |b| {
        b.iter(|| ContactPlan::build(black_box(&customers), range, &matcher, &config).map(|p| p.len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
