//! The PostgreSQL store: the conformance suite, and fault tests (a write failing in the
//! middle, two stores writing one database, reconnecting, a schema from a newer version,
//! connects racing to migrate a new database, broken pooled connections), each on a fresh
//! database of the throwaway server in [`pg_server`](crate::pg_server). Without PostgreSQL
//! installed they skip (see there).

#![cfg(feature = "postgres")]

use crate::conformance::everything;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use clientele::{
    AttrValue, Change, Channel, CountryCode, Currency, Customer, CustomerId, Event, Money, PostgresStore, Purchase,
    Stage, Store, StoreError, lifecycle::Lifecycle,
};
use postgres::Client;

use crate::pg_server::{fresh_database, fresh_store, raw_client};

crate::conformance_suite!(pg, optional || fresh_store());

// ---------------------------------------------------------------------------------------------
// Fixtures.

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

/// The tables the store writes, including the schema version.
const TABLES: [&str; 6] = ["clientele_schema", "customers", "purchases", "transitions", "tags", "attributes"];

/// Every row of every table, as JSON text, sorted: equal dumps mean equal databases.
fn dump(raw: &mut Client) -> Vec<(String, Vec<String>)> {
    TABLES
        .iter()
        .map(|table| {
            let sql = format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY 1");
            let rows = raw.query(&sql, &[]).unwrap().iter().map(|r| r.get(0)).collect();
            ((*table).to_owned(), rows)
        })
        .collect()
}

fn raw_count(raw: &mut Client, table: &str) -> i64 {
    raw.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[]).unwrap().get(0)
}

// ---------------------------------------------------------------------------------------------
// Fault tests.

/// An update that fails after writing the customer row and a purchase (a trigger refuses its
/// transition) leaves the database exactly as before; so does an erase whose cascade fails;
/// the same change succeeds once the cause is gone.
#[test]
fn failed_write_in_the_middle_leaves_everything_as_before() {
    let Some(db) = fresh_database() else { return };
    let store = PostgresStore::connect(&db).unwrap();
    insert_buyer(&store, 1);
    insert_buyer(&store, 2);
    let mut raw = raw_client(&db);
    let before = (everything(&store), dump(&mut raw));

    raw.batch_execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$; \
         CREATE TRIGGER refuse BEFORE INSERT ON transitions FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .unwrap();

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
    assert_eq!((everything(&store), dump(&mut raw)), before);

    // An insert whose purchases are refused leaves no customer row behind.
    raw.batch_execute("CREATE TRIGGER refuse BEFORE INSERT ON purchases FOR EACH ROW EXECUTE FUNCTION refuse();")
        .unwrap();
    let mut imported = Customer::new(cid(3), "imported", t0()).with_purchases(vec![buy(hours(1), 5)]).unwrap();
    imported.referrals = 2;
    assert!(matches!(store.insert(imported.clone()), Err(StoreError::Backend(_))));
    assert_eq!((everything(&store), dump(&mut raw)), before);
    // So does a batch, whose customers without purchases come first.
    let batch = vec![Customer::new(cid(4), "plain", t0()), imported.clone()];
    assert!(matches!(store.insert_many(batch), Err(StoreError::Backend(_))));
    assert_eq!((everything(&store), dump(&mut raw)), before);

    // An erase is one statement: a failing cascade keeps the customer whole.
    raw.batch_execute("CREATE TRIGGER keep BEFORE DELETE ON purchases FOR EACH ROW EXECUTE FUNCTION refuse();")
        .unwrap();
    assert!(matches!(store.erase(cid(2)), Err(StoreError::Backend(_))));
    assert_eq!((everything(&store), dump(&mut raw)), before);

    raw.batch_execute(
        "DROP TRIGGER refuse ON transitions; DROP TRIGGER refuse ON purchases; DROP TRIGGER keep ON purchases;",
    )
    .unwrap();
    assert_eq!(store.update(make_change()).unwrap(), 3);
    let after = store.get(cid(1)).unwrap();
    assert_eq!((after.stage(), after.profile.display_name.as_str()), (Stage::Repeat, "changed"));
    assert_eq!(store.history(cid(1)).unwrap().len(), 2);
    assert_eq!(store.insert(imported).unwrap(), 1);
    store.erase(cid(2)).unwrap();
    assert_eq!(store.count().unwrap(), 2);
    assert_eq!((raw_count(&mut raw, "purchases"), raw_count(&mut raw, "transitions")), (3, 2));
}

/// Two stores on one database, each used by several threads, record purchases with retries on
/// conflicts: nothing is lost or doubled and both stores see the same result.
#[test]
fn two_stores_on_one_database_stay_consistent() {
    let Some(db) = fresh_database() else { return };
    // Pools smaller than the threads using them: connections are opened beyond the pool's
    // size and closed when it is full.
    let stores = [PostgresStore::with_pool_size(&db, 1).unwrap(), PostgresStore::with_pool_size(&db, 2).unwrap()];
    let total = crate::conformance::check_two_stores_on_one_database(&stores);
    let mut raw = raw_client(&db);
    assert_eq!(raw_count(&mut raw, "purchases"), i64::try_from(total).unwrap());
}

/// Everything written is there after dropping the store and connecting again.
#[test]
fn reconnecting_keeps_everything() {
    let Some(db) = fresh_database() else { return };
    let before = {
        let store = PostgresStore::connect(&db).unwrap();
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
    let store = PostgresStore::connect(&db).unwrap();
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
    let Some(db) = fresh_database() else { return };
    insert_buyer(&PostgresStore::connect(&db).unwrap(), 1);
    let mut raw = raw_client(&db);
    let version =
        |raw: &mut Client| -> i64 { raw.query_one("SELECT version FROM clientele_schema", &[]).unwrap().get(0) };
    assert_eq!(version(&mut raw), PostgresStore::SCHEMA_VERSION);
    let newer = PostgresStore::SCHEMA_VERSION + 1;
    raw.execute("UPDATE clientele_schema SET version = $1", &[&newer]).unwrap();
    let before = dump(&mut raw);

    match PostgresStore::connect(&db) {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (newer, PostgresStore::SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    assert_eq!(dump(&mut raw), before);
    assert_eq!(version(&mut raw), newer);
    assert_eq!(raw_count(&mut raw, "customers"), 1);

    // Back at the supported version, the data is all there.
    raw.execute("UPDATE clientele_schema SET version = $1", &[&PostgresStore::SCHEMA_VERSION]).unwrap();
    assert_eq!(PostgresStore::connect(&db).unwrap().get(cid(1)).unwrap().version(), 2);
}

/// Stores connecting at once to a new database all see one schema, created once: a second
/// migration would fail on the existing tables, or record a second version row.
#[test]
fn concurrent_first_connects_migrate_once() {
    let Some(db) = fresh_database() else { return };
    let stores: Vec<PostgresStore> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6).map(|_| scope.spawn(|| PostgresStore::connect(&db).unwrap())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut raw = raw_client(&db);
    let versions: Vec<i64> =
        raw.query("SELECT version FROM clientele_schema", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, [PostgresStore::SCHEMA_VERSION]);
    insert_buyer(&stores[0], 1);
    for store in &stores {
        assert_eq!(store.get(cid(1)).unwrap().version(), 2);
    }
}

/// A new database gets the current schema, its version recorded, the indexes on the segment
/// columns, and the column types of the layout: every integer `BIGINT`, every text compared
/// byte-wise.
#[test]
fn schema_is_created_and_recorded() {
    let Some(db) = fresh_database() else { return };
    drop(PostgresStore::connect(&db).unwrap());
    let mut raw = raw_client(&db);
    let version: i64 = raw.query_one("SELECT version FROM clientele_schema", &[]).unwrap().get(0);
    assert_eq!(version, PostgresStore::SCHEMA_VERSION);
    let tables: Vec<String> = raw
        .query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tables, ["attributes", "clientele_schema", "customers", "purchases", "tags", "transitions"]);
    let columns = raw
        .query(
            "SELECT table_name::text, column_name::text, data_type::text, collation_name::text \
             FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, ordinal_position",
            &[],
        )
        .unwrap();
    assert!(columns.len() > 40, "{}", columns.len());
    for row in &columns {
        let (table, column, ty, collation): (String, String, String, Option<String>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        match ty.as_str() {
            "bigint" => {}
            "text" => assert_eq!(collation.as_deref(), Some("C"), "{table}.{column}"),
            other => panic!("{table}.{column} has type {other}"),
        }
    }
    let indexes: Vec<String> = raw
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
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
}

/// The segment columns follow the customer on every write.
#[test]
fn segment_columns_follow_the_customer() {
    let Some(db) = fresh_database() else { return };
    let store = PostgresStore::connect(&db).unwrap();
    insert_buyer(&store, 5);
    let mut raw = raw_client(&db);
    let row = |raw: &mut Client| -> (String, Option<String>, Option<String>, Option<i64>, Option<i64>) {
        let r =
            raw.query_one("SELECT stage, country, city_fold, birth_day, last_purchase_ns FROM customers", &[]).unwrap();
        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
    };
    assert_eq!(
        row(&mut raw),
        (
            "first_time".into(),
            Some("EG".into()),
            Some("cairo".into()),
            Some(i64::from(NaiveDate::from_ymd_opt(1990, 5, 17).unwrap().num_days_from_ce())),
            hours(1).timestamp_nanos_opt()
        )
    );
    let tags = |raw: &mut Client| -> Vec<(String, String)> {
        raw.query("SELECT list, tag FROM tags ORDER BY 1, 2", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    assert_eq!(tags(&mut raw), [("interests".to_owned(), "tea".to_owned())]);
    let mut change = Change::new(store.get(cid(5)).unwrap());
    change.customer_mut().profile.location.city = None;
    change.customer_mut().interests.insert("chess");
    change.customer_mut().attributes.set("nps", AttrValue::Int(9)).unwrap();
    change.record_purchase(&Lifecycle::default(), buy(hours(4), 1), hours(4)).unwrap();
    store.update(change).unwrap();
    let (stage, _, city, _, last) = row(&mut raw);
    assert_eq!((stage.as_str(), city, last), ("repeat", None, hours(4).timestamp_nanos_opt()));
    assert_eq!(
        tags(&mut raw),
        [("interests".to_owned(), "chess".to_owned()), ("interests".to_owned(), "tea".to_owned())]
    );
    let attribute = raw.query_one("SELECT name, kind, int_value FROM attributes", &[]).unwrap();
    assert_eq!(
        (attribute.get::<_, String>(0), attribute.get::<_, String>(1), attribute.get::<_, Option<i64>>(2)),
        ("nps".to_owned(), "int".to_owned(), Some(9))
    );
    let purchases: Vec<(i64, i64, String)> = raw
        .query("SELECT at_ns, amount_minor, currency FROM purchases ORDER BY seq", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        purchases,
        [
            (hours(1).timestamp_nanos_opt().unwrap(), 1_000, "USD".to_owned()),
            (hours(4).timestamp_nanos_opt().unwrap(), 1, "USD".to_owned())
        ]
    );
    // Erasing removes every row about the customer.
    store.erase(cid(5)).unwrap();
    for table in ["customers", "purchases", "transitions", "tags", "attributes"] {
        assert_eq!(raw_count(&mut raw, table), 0, "{table}");
    }
}

/// A pooled connection the server ended while it was idle fails the one operation that finds
/// it broken, and is discarded: the next operation opens a new connection.
#[test]
fn broken_pooled_connection_is_discarded() {
    let Some(db) = fresh_database() else { return };
    let store = PostgresStore::with_pool_size(&db, 1).unwrap();
    insert_buyer(&store, 1);
    let mut raw = raw_client(&db);
    // End every other session on the database (the store's idle one), waiting until it is gone.
    let ended: Vec<bool> = raw
        .query(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ended, [true]);
    assert!(matches!(store.count(), Err(StoreError::Backend(_))));
    assert_eq!(store.count().unwrap(), 1);
    assert_eq!(store.get(cid(1)).unwrap().version(), 2);
}

/// Connection strings that do not parse, and servers that cannot be reached, are backend
/// errors.
#[test]
fn bad_connection_strings_are_backend_errors() {
    let Some(server) = crate::pg_server::server() else { return };
    assert!(matches!(PostgresStore::connect("port=notanumber"), Err(StoreError::Backend(_))));
    assert!(matches!(PostgresStore::connect(&server.conn_str("no_such_database")), Err(StoreError::Backend(_))));
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = format!("host=127.0.0.1 port={port} user=postgres connect_timeout=5");
    assert!(matches!(PostgresStore::connect(&unreachable), Err(StoreError::Backend(_))));
}
