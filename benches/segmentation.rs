//! Criterion benchmarks of segment evaluation on 1 000 000 synthetic customers
//! (`clientele::synth`), for the three predicates of the segmentation issue, each measured
//! next to a hand-written Rust closure over the same customers:
//!
//! - `P*/closure`: the baseline, a compact hand-written closure over `&Customer`;
//! - `P*/row`: the row evaluator, `Segment::at(as_of).matches(&customer)`;
//! - `P*/batch_1_thread`: `Segment::evaluate` over a columnar `Snapshot`;
//! - `P*/batch_all_cores`: `Segment::evaluate_parallel` on every core.
//!
//! Every group reports `Throughput::Elements`: customers per second. Before measuring, the
//! four answers are checked to be the same member set. `compile/P2` measures parse + check +
//! compile of P2.
//!
//! Run with `cargo bench --bench segmentation`.

#![allow(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::{hint::black_box, time::Duration as StdDuration};

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use clientele::{
    Channel, CountryCode, Customer, Gender, Stage,
    segment::{AttrType, Schema, Segment, Snapshot},
    synth::Population,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const CUSTOMERS: usize = 1_000_000;

mod common;
use common::{P1, P2, p3};

/// P1 by hand: the birth-date bounds of "25 to 40 years old" computed once.
fn p1_closure(as_of: DateTime<Utc>) -> impl Fn(&Customer) -> bool {
    let today = as_of.date_naive();
    let born_by = today.checked_sub_months(Months::new(25 * 12)).unwrap_or(NaiveDate::MIN);
    let born_after = today.checked_sub_months(Months::new(41 * 12)).unwrap_or(NaiveDate::MIN);
    let eg = CountryCode::new("EG").ok();
    move |c| c.profile.birth_date.is_some_and(|b| b > born_after && b <= born_by) && c.profile.location.country == eg
}

/// P2 by hand, over the time-ordered purchase list.
fn p2_closure(as_of: DateTime<Utc>, currency: clientele::Currency) -> impl Fn(&Customer) -> bool {
    let d90 = as_of - Duration::days(90);
    let d30 = as_of - Duration::days(30);
    let d365 = as_of - Duration::days(365);
    move |c| {
        let list = c.purchases().as_slice();
        let upto = list.partition_point(|p| p.at <= as_of);
        let list = &list[..upto];
        let recent = matches!(c.stage(), Stage::Repeat | Stage::Client | Stage::Advocate)
            && list.len() - list.partition_point(|p| p.at <= d90) >= 3
            && list.last().is_some_and(|p| p.at > d30);
        recent
            || (c.loyalty.is_some() && {
                let from = list.partition_point(|p| p.at <= d365);
                let spent: i64 =
                    list[from..].iter().filter(|p| p.amount.currency() == currency).map(|p| p.amount.minor()).sum();
                spent > 100_000
            })
    }
}

/// P3 by hand.
fn p3_closure() -> impl Fn(&Customer) -> bool {
    let cities = Population::ten_cities();
    move |c| {
        c.interests.contains_normalized("sports")
            && c.channels.reachable_by(Channel::Web)
            && c.profile
                .location
                .city
                .as_deref()
                .is_some_and(|city| cities.iter().any(|x| x.eq_ignore_ascii_case(city)))
            && c.profile.gender != Gender::Unknown
    }
}

/// What every case runs over.
struct Setup<'a> {
    customers: &'a [Customer],
    snapshot: &'a Snapshot,
    schema: &'a Schema,
    as_of: DateTime<Utc>,
    threads: usize,
}

/// Checks that the four evaluators agree on one predicate, then measures each. Generic over
/// the closure so that the baseline is inlined, as hand-written code would be.
fn run_case(c: &mut Criterion, s: &Setup<'_>, name: &str, text: &str, closure: impl Fn(&Customer) -> bool) {
    let (customers, snapshot, as_of, threads) = (s.customers, s.snapshot, s.as_of, s.threads);
    let segment = Segment::compile(text, s.schema).expect("the benchmark predicates compile");
    let matcher = segment.at(as_of);

    // The four evaluators must agree before their speed means anything.
    let by_closure: Vec<usize> = (0..customers.len()).filter(|&i| closure(&customers[i])).collect();
    let by_row: Vec<usize> = (0..customers.len()).filter(|&i| matcher.matches(&customers[i])).collect();
    let by_batch: Vec<usize> = segment.evaluate(snapshot, as_of).expect("same currency").iter().collect();
    let by_parallel: Vec<usize> =
        segment.evaluate_parallel(snapshot, as_of, threads).expect("same currency").iter().collect();
    assert_eq!(by_row, by_closure, "{name}: row evaluator disagrees with the closure");
    assert_eq!(by_batch, by_closure, "{name}: batch evaluator disagrees with the closure");
    assert_eq!(by_parallel, by_closure, "{name}: parallel evaluator disagrees with the closure");
    eprintln!("{name}: {} members of {}", by_closure.len(), customers.len());

    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(customers.len() as u64));
    group.sample_size(10).warm_up_time(StdDuration::from_secs(1)).measurement_time(StdDuration::from_secs(4));
    group.bench_function("closure", |b| b.iter(|| customers.iter().filter(|c| closure(c)).count()));
    group.bench_function("row", |b| b.iter(|| customers.iter().filter(|c| matcher.matches(c)).count()));
    group.bench_function("batch_1_thread", |b| {
        b.iter(|| segment.evaluate(black_box(snapshot), as_of).map(|m| m.count()))
    });
    group.bench_function(BenchmarkId::new("batch_all_cores", threads), |b| {
        b.iter(|| segment.evaluate_parallel(black_box(snapshot), as_of, threads).map(|m| m.count()))
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let population = Population::new(1);
    let as_of = population.as_of();
    let customers = population.customers(CUSTOMERS);
    let schema = Schema::new(population.currency())
        .with_attribute("nps", AttrType::Int)
        .and_then(|s| s.with_attribute("survey_done", AttrType::Bool))
        .expect("valid attribute names");
    let snapshot = Snapshot::build(&customers, &schema);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);

    let ctx = Setup { customers: &customers, snapshot: &snapshot, schema: &schema, as_of, threads };
    run_case(c, &ctx, "P1", P1, p1_closure(as_of));
    run_case(c, &ctx, "P2", P2, p2_closure(as_of, population.currency()));
    run_case(c, &ctx, "P3", &p3(), p3_closure());

    let mut group = c.benchmark_group("compile");
    group.bench_function("P2", |b| b.iter(|| Segment::compile(black_box(P2), &schema)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
