//! The SQLite store: the conformance suite on an in-memory database and on a file, and fault
//! tests (a write failing in the middle, two stores writing one file, reopening, a schema
//! from a newer version).

#![cfg(feature = "sqlite")]

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
};

use crate::conformance::everything;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use clientele::{
    Change, Channel, CountryCode, Currency, Customer, CustomerId, Event, Money, Purchase, SqliteStore, Stage, Store,
    StoreError, Transition, lifecycle::Lifecycle, segment::Segment,
};
use rusqlite::Connection;

crate::conformance_suite!(sqlite_memory, || SqliteStore::in_memory().unwrap());
crate::conformance_suite!(sqlite_file, || FileStore::new("conformance"));

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// A database file in the temporary directory, removed (with its WAL and shared-memory
/// files) when dropped.
#[derive(Debug)]
struct TempDb {
    path: PathBuf,
}

impl TempDb {
    fn new(tag: &str) -> TempDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("clientele-{tag}-{}-{n}.db", std::process::id()));
        let db = TempDb { path };
        db.remove();
        db
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.path.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A store on a temporary file, for the conformance suite.
#[derive(Debug)]
struct FileStore {
    // Declared first: the store closes before the file is removed.
    store: SqliteStore,
    _db: TempDb,
}

impl FileStore {
    fn new(tag: &str) -> FileStore {
        let db = TempDb::new(tag);
        FileStore { store: SqliteStore::open(db.path()).unwrap(), _db: db }
    }
}

impl Store for FileStore {
    fn insert(&self, customer: Customer) -> Result<u64, StoreError> {
        self.store.insert(customer)
    }
    fn get(&self, id: CustomerId) -> Result<Customer, StoreError> {
        self.store.get(id)
    }
    fn update(&self, change: Change) -> Result<u64, StoreError> {
        self.store.update(change)
    }
    fn history(&self, id: CustomerId) -> Result<Vec<Transition>, StoreError> {
        self.store.history(id)
    }
    fn count(&self) -> Result<usize, StoreError> {
        self.store.count()
    }
    fn scan(&self, after: Option<CustomerId>, limit: usize) -> Result<Vec<Customer>, StoreError> {
        self.store.scan(after, limit)
    }
    fn erase(&self, id: CustomerId) -> Result<(), StoreError> {
        self.store.erase(id)
    }
    fn query(&self, segment: &Segment, as_of: DateTime<Utc>) -> Result<Vec<CustomerId>, StoreError> {
        self.store.query(segment, as_of)
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap()
}

fn hours(n: i64) -> DateTime<Utc> {
    t0() + Duration::hours(n)
}

fn buy(at: DateTime<Utc>, cents: i64) -> Purchase {
    Purchase::new(at, Money::new(cents, Currency::new("USD").unwrap()))
}

fn cid(n: u64) -> CustomerId {
    CustomerId::new(n)
}

/// Inserts a customer with descriptive fields, then records a purchase (one transition):
/// version 2.
fn insert_buyer<S: Store>(store: &S, n: u64) {
    let mut c = Customer::new(cid(n), format!("c{n}"), t0());
    c.profile.birth_date = NaiveDate::from_ymd_opt(1990, 5, 17);
    c.profile.location.country = Some(CountryCode::new("EG").unwrap());
    c.profile.location.city = Some("Cairo".into());
    c.interests.insert("tea");
    c.channels.preferred.insert(Channel::Email);
    store.insert(c).unwrap();
    let mut change = Change::new(store.get(cid(n)).unwrap());
    change.record_purchase(&Lifecycle::default(), buy(hours(1), 1_000), hours(1)).unwrap();
    assert_eq!(store.update(change).unwrap(), 2);
}

fn raw_count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Fault tests.

/// An update that fails after writing the customer row and a purchase (a trigger refuses its
/// transition) leaves the database exactly as before; the same change succeeds once the cause
/// is gone.
#[test]
fn failed_write_in_the_middle_leaves_everything_as_before() {
    let db = TempDb::new("mid-write");
    let store = SqliteStore::open(db.path()).unwrap();
    insert_buyer(&store, 1);
    insert_buyer(&store, 2);
    let before = everything(&store);

    let raw = Connection::open(db.path()).unwrap();
    raw.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON transitions BEGIN SELECT RAISE(ABORT, 'forced failure'); END;",
    )
    .unwrap();
    let (purchases, transitions) = (raw_count(&raw, "purchases"), raw_count(&raw, "transitions"));

    // A second purchase makes a repeat customer: customer row, purchase, then transition.
    let make_change = || {
        let mut change = Change::new(store.get(cid(1)).unwrap());
        change.customer_mut().profile.display_name = "changed".into();
        let moves = change.record_purchase(&Lifecycle::default(), buy(hours(2), 2_000), hours(2)).unwrap();
        assert_eq!(moves.len(), 1);
        change
    };
    match store.update(make_change()) {
        Err(StoreError::Backend(source)) => assert!(source.to_string().contains("forced failure"), "{source}"),
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert_eq!(everything(&store), before);
    assert_eq!((raw_count(&raw, "purchases"), raw_count(&raw, "transitions")), (purchases, transitions));

    // An erase is one transaction too: a failing cascade keeps the customer whole.
    raw.execute_batch(
        "CREATE TRIGGER keep BEFORE DELETE ON purchases BEGIN SELECT RAISE(ABORT, 'forced failure'); END;",
    )
    .unwrap();
    assert!(matches!(store.erase(cid(2)), Err(StoreError::Backend(_))));
    assert_eq!(everything(&store), before);

    raw.execute_batch("DROP TRIGGER refuse; DROP TRIGGER keep;").unwrap();
    assert_eq!(store.update(make_change()).unwrap(), 3);
    let after = store.get(cid(1)).unwrap();
    assert_eq!((after.stage(), after.profile.display_name.as_str()), (Stage::Repeat, "changed"));
    assert_eq!(store.history(cid(1)).unwrap().len(), 2);
    store.erase(cid(2)).unwrap();
    assert_eq!(store.count().unwrap(), 1);
}

/// Two stores on one file, each used by several threads, record purchases with retries on
/// conflicts: nothing is lost or doubled and both stores see the same result.
#[test]
fn two_stores_on_one_file_stay_consistent() {
    let db = TempDb::new("two-stores");
    crate::conformance::check_two_stores_on_one_database(&[
        SqliteStore::open(db.path()).unwrap(),
        SqliteStore::open(db.path()).unwrap(),
    ]);
}

/// Everything written is there after closing and reopening the file.
#[test]
fn reopening_a_file_keeps_everything() {
    let db = TempDb::new("reopen");
    let before = {
        let store = SqliteStore::open(db.path()).unwrap();
        for n in [0, 7, u64::MAX] {
            insert_buyer(&store, n);
        }
        let mut change = Change::new(store.get(cid(7)).unwrap());
        change.apply(&Lifecycle::default(), Event::Lapse, t0() + Duration::days(400), Some("moved away")).unwrap();
        store.update(change).unwrap();
        store.erase(cid(0)).unwrap();
        everything(&store)
    };
    assert_eq!(before.len(), 2);
    let store = SqliteStore::open(db.path()).unwrap();
    assert_eq!(everything(&store), before);
    assert_eq!(store.history(cid(7)).unwrap().last().unwrap().note.as_deref(), Some("moved away"));
    // And it keeps working: versions continue from the stored ones.
    let mut change = Change::new(store.get(cid(u64::MAX)).unwrap());
    change.customer_mut().referrals = 4;
    assert_eq!(store.update(change).unwrap(), 3);
}

/// A database whose schema is newer than the crate's is refused with a typed error, and left
/// untouched.
#[test]
fn newer_schema_is_refused() {
    let db = TempDb::new("newer-schema");
    insert_buyer(&SqliteStore::open(db.path()).unwrap(), 1);
    let raw = Connection::open(db.path()).unwrap();
    let version = |raw: &Connection| -> i64 { raw.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap() };
    assert_eq!(version(&raw), SqliteStore::SCHEMA_VERSION);
    let newer = SqliteStore::SCHEMA_VERSION + 1;
    raw.pragma_update(None, "user_version", newer).unwrap();

    match SqliteStore::open(db.path()) {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (newer, SqliteStore::SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_eq!(version(&raw), newer);
    assert_eq!(raw_count(&raw, "customers"), 1);
    assert_eq!(raw_count(&raw, "purchases"), 1);

    // Back at the supported version, the data is all there.
    raw.pragma_update(None, "user_version", SqliteStore::SCHEMA_VERSION).unwrap();
    assert_eq!(SqliteStore::open(db.path()).unwrap().get(cid(1)).unwrap().version(), 2);
}

/// Stores opened at once on a new file all see one schema, created once.
#[test]
fn concurrent_opens_create_the_schema_once() {
    let db = TempDb::new("concurrent-open");
    let stores: Vec<SqliteStore> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4).map(|_| scope.spawn(|| SqliteStore::open(db.path()).unwrap())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    insert_buyer(&stores[0], 1);
    for store in &stores {
        assert_eq!(store.get(cid(1)).unwrap().version(), 2);
    }
}

/// A new file gets the current schema, its version recorded, and indexes on the segment
/// columns; a file that is not a database is a backend error.
#[test]
fn schema_is_created_and_recorded() {
    let db = TempDb::new("schema");
    drop(SqliteStore::open(db.path()).unwrap());
    let raw = Connection::open(db.path()).unwrap();
    let version: i64 = raw.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, SqliteStore::SCHEMA_VERSION);
    let mode: String = raw.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let mut stmt =
        raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").unwrap();
    let indexes: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(
        indexes,
        [
            "attributes_name_kind",
            "customers_birth_day",
            "customers_country_city",
            "customers_last_purchase",
            "customers_rust_only",
            "customers_stage",
            "purchases_customer_at",
            "tags_list_tag",
        ]
    );

    let junk = TempDb::new("junk");
    std::fs::write(junk.path(), b"this is not an SQLite database, not even close to one......").unwrap();
    assert!(matches!(SqliteStore::open(junk.path()), Err(StoreError::Backend(_))));
}

/// The segment columns follow the customer on every write.
#[test]
fn segment_columns_follow_the_customer() {
    let db = TempDb::new("columns");
    let store = SqliteStore::open(db.path()).unwrap();
    insert_buyer(&store, 5);
    let raw = Connection::open(db.path()).unwrap();
    let row = |raw: &Connection| -> (String, Option<String>, Option<String>, Option<i64>, Option<i64>) {
        raw.query_row("SELECT stage, country, city_fold, birth_day, last_purchase_ns FROM customers", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
    };
    assert_eq!(
        row(&raw),
        (
            "first_time".into(),
            Some("EG".into()),
            Some("cairo".into()),
            Some(i64::from(NaiveDate::from_ymd_opt(1990, 5, 17).unwrap().num_days_from_ce())),
            hours(1).timestamp_nanos_opt()
        )
    );
    let mut change = Change::new(store.get(cid(5)).unwrap());
    change.customer_mut().profile.location.city = None;
    change.record_purchase(&Lifecycle::default(), buy(hours(4), 1), hours(4)).unwrap();
    store.update(change).unwrap();
    let (stage, _, city, _, last) = row(&raw);
    assert_eq!((stage.as_str(), city, last), ("repeat", None, hours(4).timestamp_nanos_opt()));
}
