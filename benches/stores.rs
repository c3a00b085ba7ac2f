//! Criterion benchmarks of the stores on synthetic customers (`clientele::synth`):
//!
//! - `insert_one_by_one/<store>`: one `Store::insert` per customer (each its own transaction
//!   in the SQL stores), [`ONE_BY_ONE_BATCH`] customers per iteration into a fresh, empty
//!   store;
//! - `insert_many/<store>`: [`INSERT_BATCH`] customers in one `Store::insert_many` call (one
//!   transaction) into a fresh, empty store;
//! - `query_P1` to `query_P3`: the three predicates of `benches/segmentation.rs` over
//!   1 000 000 stored customers, per store: `<store>_pushdown` is `Store::query` (the segment
//!   evaluated in the database, see `clientele::segment::sql`), `<store>_scan` is
//!   `clientele::store::query_by_scan` (every customer read back and evaluated in Rust).
//!   Baselines in the same run: `memory_query` (`MemoryStore::query`, which is the scan over
//!   the memory store) and `snapshot_all_cores` (`Segment::evaluate_parallel` over a columnar
//!   `Snapshot` on every core, the in-memory evaluator).
//!
//! Every group reports `Throughput::Elements`: customers inserted, or customers scanned (the
//! whole population), per second. Before measuring, every way of answering a query is checked
//! to give the same member set. Generating customers, building the snapshot and loading the
//! stores are not measured; the load of the query stores (`insert_many` in chunks of
//! [`INSERT_BATCH`] into a growing store) is timed once and printed.
//!
//! The stores: `memory` (`MemoryStore`), `sqlite` (`SqliteStore` on a file in a temporary
//! directory, in WAL mode with SQLite's default `synchronous = FULL`, as `SqliteStore::open`
//! sets it up; removed at the end) and, with the `postgres` feature, `postgres`
//! (`PostgresStore`). PostgreSQL is the database named by `CLIENTELE_BENCH_PG_URL` if set (it
//! must hold no customers: the bench empties it between insert iterations and leaves the
//! population in it), else a throwaway server started by the integration tests' harness
//! (`tests/integration/pg_server.rs`: a temporary directory, a free loopback port, `fsync`,
//! `synchronous_commit` and `full_page_writes` off), stopped and removed when the bench ends.
//! After loading, the PostgreSQL tables get `VACUUM ANALYZE` (what autovacuum does after a
//! bulk load); SQLite gets nothing (the store never runs `ANALYZE`).
//!
//! Takes about 20 minutes at 1 000 000 customers, most of it in the `*_scan` cases (each
//! reads every customer back: 10 to 15 s an iteration, 12 iterations each). Set
//! `CLIENTELE_BENCH_CUSTOMERS` to store fewer customers for a quick run. Run with
//! `cargo bench --all-features --bench stores`.

#![allow(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::{
    hint::black_box,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration as StdDuration, Instant},
};

use chrono::{DateTime, Utc};
#[cfg(feature = "postgres")]
use clientele::PostgresStore;
use clientele::{
    Customer, CustomerId, MemoryStore, SqliteStore, Store,
    segment::{AttrType, Schema, Segment, Snapshot},
    store::query_by_scan,
    synth::Population,
};
use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

/// The integration tests' throwaway PostgreSQL server.
#[cfg(feature = "postgres")]
#[allow(dead_code, clippy::unwrap_used, reason = "the integration tests' harness, used as is")]
#[path = "../tests/integration/pg_server.rs"]
mod pg_server;

/// Customers stored for the queries, unless `CLIENTELE_BENCH_CUSTOMERS` says otherwise.
const CUSTOMERS: usize = 1_000_000;

/// Customers per `insert_many` iteration, and per `insert_many` call when loading.
const INSERT_BATCH: usize = 10_000;

/// Customers per one-by-one insert iteration: fewer, as the SQL stores commit each.
const ONE_BY_ONE_BATCH: usize = 1_000;

mod common;
use common::{P1, P2, p3};

/// How many customers to store for the queries.
fn customers_to_store() -> usize {
    match std::env::var("CLIENTELE_BENCH_CUSTOMERS") {
        Ok(text) => text.replace('_', "").parse().expect("CLIENTELE_BENCH_CUSTOMERS is a number of customers"),
        Err(_) => CUSTOMERS,
    }
}

/// A temporary directory, removed with everything in it when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("clientele-bench-stores-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the temporary directory can be created");
        TempDir(path)
    }

    /// A path for a new database file in the directory.
    fn new_file(&self, tag: &str) -> PathBuf {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        self.0.join(format!("{tag}-{}.db", NEXT.fetch_add(1, Ordering::Relaxed)))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes an SQLite database file and its WAL and shared-memory files.
fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.to_path_buf().into_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

/// A fresh store for one insert iteration, with what to clean up once it is closed.
struct Fresh {
    store: Box<dyn Store>,
    file: Option<PathBuf>,
}

impl Drop for Fresh {
    fn drop(&mut self) {
        // Close the store (SQLite checkpoints the WAL on close) before removing its files.
        self.store = Box::new(MemoryStore::new());
        if let Some(path) = &self.file {
            remove_db(path);
        }
    }
}

/// A kind of store: its name and how to make a fresh, empty one.
struct Kind<'a> {
    name: &'static str,
    fresh: Box<dyn Fn() -> Fresh + 'a>,
}

fn kinds<'a>(dir: &'a TempDir, pg: Option<&'a Pg>) -> Vec<Kind<'a>> {
    let mut kinds = vec![
        Kind { name: "memory", fresh: Box::new(|| Fresh { store: Box::new(MemoryStore::new()), file: None }) },
        Kind {
            name: "sqlite",
            fresh: Box::new(|| {
                let path = dir.new_file("insert");
                let store = SqliteStore::open(&path).expect("a new SQLite database opens");
                Fresh { store: Box::new(store), file: Some(path) }
            }),
        },
    ];
    if let Some(pg) = pg {
        kinds.push(Kind { name: "postgres", fresh: Box::new(|| Fresh { store: Box::new(pg.emptied()), file: None }) });
    }
    kinds
}

/// The PostgreSQL database the bench uses, if any.
#[cfg(feature = "postgres")]
struct Pg {
    url: String,
    admin: std::sync::Mutex<postgres::Client>,
}

#[cfg(feature = "postgres")]
impl Pg {
    /// `CLIENTELE_BENCH_PG_URL`, else a database on a throwaway server; `None` (with a
    /// message) if there is neither.
    fn new() -> Option<Pg> {
        let url = match std::env::var("CLIENTELE_BENCH_PG_URL") {
            Ok(url) => url,
            Err(_) => pg_server::fresh_database()?,
        };
        let store = PostgresStore::connect(&url).expect("the PostgreSQL database is reachable");
        assert_eq!(
            store.count().expect("count"),
            0,
            "the bench empties and fills its PostgreSQL database: give it an empty one"
        );
        let admin = postgres::Client::connect(&url, postgres::NoTls).expect("the PostgreSQL database is reachable");
        Some(Pg { url, admin: std::sync::Mutex::new(admin) })
    }

    fn run(&self, sql: &str) {
        let mut admin = self.admin.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        admin.batch_execute(sql).expect("the bench's own SQL runs");
    }

    /// A store on the database, emptied first.
    fn emptied(&self) -> PostgresStore {
        self.run("TRUNCATE customers, purchases, transitions, tags, attributes");
        PostgresStore::connect(&self.url).expect("the PostgreSQL database is reachable")
    }
}

/// Without the `postgres` feature there is no PostgreSQL database.
#[cfg(not(feature = "postgres"))]
enum Pg {}

#[cfg(not(feature = "postgres"))]
impl Pg {
    fn new() -> Option<Pg> {
        None
    }

    fn run(&self, _: &str) {
        match *self {}
    }

    fn emptied(&self) -> MemoryStore {
        match *self {}
    }
}

fn bench_inserts(c: &mut Criterion, kinds: &[Kind<'_>], population: &Population) {
    // The same customers every iteration, each time into a fresh store.
    let batch = population.customers(INSERT_BATCH);
    let few = &batch[..ONE_BY_ONE_BATCH];

    let mut group = c.benchmark_group("insert_one_by_one");
    group.throughput(Throughput::Elements(ONE_BY_ONE_BATCH as u64));
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.warm_up_time(StdDuration::from_secs(1)).measurement_time(StdDuration::from_secs(5));
    for kind in kinds {
        group.bench_function(kind.name, |b| {
            b.iter_batched(
                || ((kind.fresh)(), few.to_vec()),
                |(fresh, batch)| {
                    for customer in batch {
                        fresh.store.insert(customer).expect("new customers insert");
                    }
                    fresh
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();

    let mut group = c.benchmark_group("insert_many");
    group.throughput(Throughput::Elements(INSERT_BATCH as u64));
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.warm_up_time(StdDuration::from_secs(1)).measurement_time(StdDuration::from_secs(5));
    for kind in kinds {
        group.bench_function(kind.name, |b| {
            b.iter_batched(
                || ((kind.fresh)(), batch.clone()),
                |(fresh, batch)| {
                    fresh.store.insert_many(batch).expect("new customers insert");
                    fresh
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

/// Stores `customers` with `insert_many` in chunks; prints how long it took (copying each
/// chunk included).
fn load(name: &str, store: &dyn Store, customers: &[Customer]) {
    let start = Instant::now();
    for chunk in customers.chunks(INSERT_BATCH) {
        store.insert_many(chunk.to_vec()).expect("the synthetic customers insert");
    }
    let took = start.elapsed();
    #[allow(clippy::cast_precision_loss, reason = "a rate for a message")]
    let rate = customers.len() as f64 / took.as_secs_f64();
    eprintln!("{name}: loaded {} customers in {:.1} s ({:.0} customers/s)", customers.len(), took.as_secs_f64(), rate);
}

/// What the queries run over.
struct Loaded<'a> {
    /// The stores holding the population, by name.
    stores: Vec<(&'static str, &'a dyn Store)>,
    memory: &'a MemoryStore,
    snapshot: &'a Snapshot,
    schema: &'a Schema,
    as_of: DateTime<Utc>,
    threads: usize,
}

/// Checks that every way of answering agrees on one predicate, then measures each.
fn bench_query(c: &mut Criterion, l: &Loaded<'_>, name: &str, text: &str) {
    let (snapshot, as_of, threads) = (l.snapshot, l.as_of, l.threads);
    let segment = Segment::compile(text, l.schema).expect("the benchmark predicates compile");
    let by_snapshot = |s: &Segment| -> Vec<CustomerId> {
        let members = s.evaluate_parallel(snapshot, as_of, threads).expect("same currency");
        members.iter().map(|row| snapshot.ids()[row]).collect()
    };

    // Every answer must be the same before its speed means anything.
    let expected = by_snapshot(&segment);
    assert_eq!(l.memory.query(&segment, as_of).expect("memory query"), expected, "{name}: MemoryStore::query");
    for (store, s) in &l.stores {
        let pushed = s.query(&segment, as_of).expect("store query");
        assert_eq!(pushed, expected, "{name}: {store} Store::query disagrees with the snapshot");
        let scanned = query_by_scan(*s, &segment, as_of).expect("store scan");
        assert_eq!(scanned, expected, "{name}: {store} query_by_scan disagrees with the snapshot");
    }
    eprintln!("{name}: {} members of {}", expected.len(), snapshot.len());

    let mut group = c.benchmark_group(format!("query_{name}"));
    group.throughput(Throughput::Elements(snapshot.len() as u64));
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.warm_up_time(StdDuration::from_millis(500)).measurement_time(StdDuration::from_secs(4));
    group.bench_function(BenchmarkId::new("snapshot_all_cores", threads), |b| {
        b.iter(|| segment.evaluate_parallel(black_box(snapshot), as_of, threads).map(|m| m.count()))
    });
    group.bench_function("memory_query", |b| b.iter(|| l.memory.query(&segment, as_of).map(|m| m.len())));
    for (store, s) in &l.stores {
        group.bench_function(format!("{store}_pushdown"), |b| b.iter(|| s.query(&segment, as_of).map(|m| m.len())));
        group.bench_function(format!("{store}_scan"), |b| {
            b.iter(|| query_by_scan(*s, &segment, as_of).map(|m| m.len()))
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    let population = Population::new(1);
    let as_of = population.as_of();
    let dir = TempDir::new();
    let pg = Pg::new();

    bench_inserts(c, &kinds(&dir, pg.as_ref()), &population);

    let n = customers_to_store();
    // Kept to the end: dropping a million customers leaves glibc's heap so fragmented that
    // every later allocation slows down (reading them all back took 5 to 10 times longer).
    let customers = population.customers(n);
    let schema = Schema::new(population.currency())
        .with_attribute("nps", AttrType::Int)
        .and_then(|s| s.with_attribute("survey_done", AttrType::Bool))
        .expect("valid attribute names");
    let snapshot = Snapshot::build(&customers, &schema);
    let threads = std::thread::available_parallelism().map_or(1, usize::from);

    let memory = MemoryStore::new();
    load("memory", &memory, &customers);
    let sqlite = SqliteStore::open(dir.new_file("query")).expect("a new SQLite database opens");
    load("sqlite", &sqlite, &customers);
    let mut stores: Vec<(&'static str, &dyn Store)> = vec![("sqlite", &sqlite)];
    let postgres = pg.as_ref().map(|pg| {
        let store = pg.emptied();
        load("postgres", &store, &customers);
        pg.run("VACUUM ANALYZE");
        store
    });
    if let Some(store) = &postgres {
        stores.push(("postgres", store));
    }

    let loaded = Loaded { stores, memory: &memory, snapshot: &snapshot, schema: &schema, as_of, threads };
    bench_query(c, &loaded, "P1", P1);
    bench_query(c, &loaded, "P2", P2);
    bench_query(c, &loaded, "P3", &p3());
}

criterion_group!(benches, bench);
criterion_main!(benches);
