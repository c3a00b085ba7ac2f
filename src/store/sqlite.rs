//! The SQLite store, behind the `sqlite` feature.
//!
//! # Schema
//!
//! The schema is created and migrated by the crate: the migrations are SQL files embedded in
//! the binary (`src/store/sqlite/migrations/`), applied in order inside one `BEGIN IMMEDIATE`
//! transaction, and the schema version is recorded in the database header
//! (`PRAGMA user_version`). Version 1 has five tables:
//!
//! - `customers`: one row per customer: `id`, `version` (optimistic concurrency), `data` (the
//!   customer as JSON, without its purchases and version: what is read back), and typed copies
//!   of every field segments test, kept in step on every write: `stage`, `gender`, `credit`,
//!   `referrals`, `exclusive`, `birth_day`, `country`, `region_fold`, `city_fold`,
//!   `income_minor`/`income_currency`, `loyalty_day`, `created_ns`, `stage_since_ns`,
//!   `last_purchase_ns`, the channel bitmasks `reachable`/`preferred`/`opted_out`, and
//!   `rust_only` (see below).
//! - `purchases (customer_id, seq, at_ns, amount_minor, currency, data)` and `transitions
//!   (customer_id, seq, at_ns, from_stage, to_stage, data)`: one row per purchase or
//!   transition, keyed by customer and recording order.
//! - `tags (customer_id, list, tag)`: interests, lifestyle and needs, and the items of
//!   text-list attributes (list `attr:<name>`, ASCII-lowercased).
//! - `attributes (customer_id, name, kind, int_value, text_value, currency)`: one row per
//!   custom attribute.
//!
//! Rows of the last four are deleted with their customer (`ON DELETE CASCADE`). Indexes:
//! `customers (stage)`, `(country, city_fold)`, `(birth_day)`, `(last_purchase_ns)`,
//! `purchases (customer_id, at_ns)` for windowed counts and sums, `tags (list, tag)` and
//! `attributes (name, kind, int_value)`.
//!
//! Instants are nanoseconds since the Unix epoch, dates day numbers, texts compared ignoring
//! ASCII case are stored ASCII-lowercased: the encodings the segment pushdown reads (see
//! [`crate::segment::sql`]). A customer with an instant nanoseconds cannot hold in order
//! (before 1677-09-21, after 2262-04-11, or in a leap second) is marked `rust_only`, and
//! segment queries evaluate it in Rust.
//!
//! # Segment queries
//!
//! [`Store::query`] runs the segment's SQL form ([`Segment::to_sql`]) in SQLite. Parts with no
//! SQL form (RFM scores, decimal comparisons) or too complex for SQLite's parser are checked
//! in Rust on the rows the SQL selects; a sum that overflows SQLite's integers falls back to
//! evaluating every customer in Rust. The members are the same as the in-memory evaluators'.
//!
//! # Ids
//!
//! SQLite integers are signed, and customer ids are `u64`. A stored id is the customer id with
//! its top bit flipped, read as two's complement: 0 becomes `i64::MIN` and `u64::MAX` becomes
//! `i64::MAX`, so ids sort in the database as they do in Rust and `scan` can page with the
//! primary key.

use std::{
    path::Path,
    sync::{LazyLock, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, ToSql, Transaction, TransactionBehavior, ffi, params, types::ToSqlOutput,
};

use super::{
    Change, Store, StoreError, check_batch, check_change,
    rows::{
        CUSTOMER_COLUMNS, CustomerRow, PurchaseRow, TransitionRow, Value, backend, decode_customer, decode_purchase,
        decode_transition, from_sql_id, tags_or_attributes_changed, to_sql_id, to_sql_version,
    },
};
use crate::{
    customer::{Customer, CustomerId, Purchase},
    lifecycle::Transition,
    segment::{
        Segment,
        sql::{Dialect, SqlParam},
    },
};

/// The migrations, in order: migration `i` (from 0) takes the schema from version `i` to
/// version `i + 1`. Applied ones are never edited; changes go in a new file.
const MIGRATIONS: &[&str] = &[include_str!("sqlite/migrations/0001_initial.sql")];

/// How long a write waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The pause between attempts to open a database another connection is setting up.
const OPEN_RETRY_PAUSE: Duration = Duration::from_millis(5);

/// A store in an SQLite database: a file shared by any number of stores and processes, or a
/// private in-memory database.
///
/// Every write is one transaction begun with `BEGIN IMMEDIATE`, which takes the database's
/// write lock before reading the stored version, so a write either commits whole or leaves
/// the database exactly as it was. Files are opened in WAL mode (readers do not block the
/// writer) with foreign keys on and a busy timeout, so writers from several stores or
/// processes queue rather than fail.
///
/// One store holds one connection behind a mutex: it is `Send + Sync`, and its operations run
/// one at a time. Open several stores on the same file for parallel reads.
///
/// # Example
///
/// ```
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, SqliteStore, Store};
/// let store = SqliteStore::in_memory()?;
/// store.insert(Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH))?;
/// assert_eq!(store.get(CustomerId::new(1))?.profile.display_name, "Ada");
/// assert_eq!(store.count()?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SqliteStore {
    /// The connection. A panic while it is locked drops the open transaction, which rolls
    /// back, so a poisoned lock still guards a consistent database.
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// The schema version this version of the crate creates and understands.
    pub const SCHEMA_VERSION: i64 = 1;

    /// Opens (creating if needed) the database file at `path`, in WAL mode with foreign keys
    /// on and a busy timeout, and creates or migrates the schema.
    ///
    /// # Errors
    ///
    /// [`StoreError::SchemaTooNew`] if the database was written by a newer version of the
    /// crate (nothing is changed); [`StoreError::Backend`] if the file cannot be opened or is
    /// not a database.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::DateTime;
    /// use clientele::{Customer, CustomerId, SqliteStore, Store};
    /// let path = std::env::temp_dir().join(format!("clientele-doc-{}.db", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// SqliteStore::open(&path)?.insert(Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH))?;
    /// assert_eq!(SqliteStore::open(&path)?.count()?, 1); // still there after reopening
    /// # for ext in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{ext}", path.display())); }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        // Switching a new file to WAL mode while other connections open it can fail with
        // SQLITE_BUSY without waiting on the busy timeout (SQLite refuses to wait where waiting
        // could deadlock), so opening is retried, within the same timeout.
        let deadline = Instant::now() + BUSY_TIMEOUT;
        loop {
            match SqliteStore::try_open(path) {
                Err(e) if is_busy(&e) && Instant::now() < deadline => std::thread::sleep(OPEN_RETRY_PAUSE),
                result => return result,
            }
        }
    }

    fn try_open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(backend(format!("cannot switch the database to WAL mode (it is in {mode} mode)")));
        }
        SqliteStore::setup(conn)
    }

    /// A new, empty database in memory, private to this store.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if SQLite cannot allocate it.
    ///
    /// # Example
    ///
    /// ```
    /// use clientele::{SqliteStore, Store};
    /// assert_eq!(SqliteStore::in_memory()?.count()?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::setup(Connection::open_in_memory().map_err(backend)?)
    }

    fn setup(mut conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.pragma_update(None, "foreign_keys", true).map_err(backend)?;
        migrate(&mut conn)?;
        Ok(SqliteStore { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Brings the schema to [`SqliteStore::SCHEMA_VERSION`], or refuses a newer one.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let latest = SqliteStore::SCHEMA_VERSION;
    match schema_version(conn)? {
        found if found == latest => return Ok(()),
        // Refused before taking the write lock: nothing is written to a newer database.
        found if found > latest => return Err(StoreError::SchemaTooNew { found, supported: latest }),
        _ => {}
    }
    // Under the write lock, read again: another connection may have migrated meanwhile.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
    let found = schema_version(&tx)?;
    if found > latest {
        return Err(StoreError::SchemaTooNew { found, supported: latest });
    }
    let from = usize::try_from(found).map_err(|_| backend(format!("invalid schema version {found}")))?;
    for (done, sql) in MIGRATIONS.iter().enumerate().skip(from) {
        tx.execute_batch(sql).map_err(backend)?;
        let version = i64::try_from(done + 1).map_err(backend)?;
        tx.pragma_update(None, "user_version", version).map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(backend)
}

/// Whether the error is SQLite's "database is busy" (or locked).
fn is_busy(e: &StoreError) -> bool {
    let StoreError::Backend(source) = e else { return false };
    matches!(
        source.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Whether the error is SQLite's "integer overflow" (from `SUM`).
fn is_integer_overflow(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(_, Some(msg)) if msg.contains("integer overflow"))
}

/// A filter parameter as SQLite takes it: lists as JSON arrays, for `json_each`.
fn bind_param(p: &SqlParam) -> Result<rusqlite::types::Value, StoreError> {
    use rusqlite::types::Value as V;
    Ok(match p {
        SqlParam::Int(v) => V::Integer(*v),
        SqlParam::Text(v) => V::Text(v.clone()),
        SqlParam::IntList(v) => V::Text(serde_json::to_string(v).map_err(backend)?),
        SqlParam::TextList(v) => V::Text(serde_json::to_string(v).map_err(backend)?),
        // A parameter kind added later would be a bug here, not bad input.
        #[allow(unreachable_patterns, reason = "SqlParam is non_exhaustive")]
        _ => return Err(backend("unsupported SQL parameter kind")),
    })
}

/// Whether the error is a primary-key or unique constraint violation.
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == ErrorCode::ConstraintViolation
                && matches!(f.extended_code, ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE)
    )
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Value::Int(v) => v.to_sql(),
            Value::Text(v) => v.to_sql(),
        }
    }
}

/// The `INSERT` for a customer row, written once.
static INSERT_CUSTOMER_SQL: LazyLock<String> = LazyLock::new(|| {
    let placeholders: Vec<String> = (1..=CUSTOMER_COLUMNS.len()).map(|i| format!("?{i}")).collect();
    format!("INSERT INTO customers ({}) VALUES ({})", CUSTOMER_COLUMNS.join(", "), placeholders.join(", "))
});

/// The `UPDATE` of a customer row at an expected version (the last parameter), written once.
static UPDATE_CUSTOMER_SQL: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> =
        CUSTOMER_COLUMNS.iter().enumerate().skip(1).map(|(i, col)| format!("{col} = ?{}", i + 1)).collect();
    format!("UPDATE customers SET {} WHERE id = ?1 AND version = ?{}", sets.join(", "), CUSTOMER_COLUMNS.len() + 1)
});

/// Writes the customer row: inserts it, or replaces it at `expected` version. Returns the
/// number of rows written.
fn write_customer(tx: &Transaction<'_>, row: &CustomerRow, expected: Option<u64>) -> Result<usize, rusqlite::Error> {
    let values = row.values();
    match expected {
        None => tx.prepare_cached(&INSERT_CUSTOMER_SQL)?.execute(rusqlite::params_from_iter(values)),
        Some(expected) => {
            let expected = to_sql_version(expected).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
            let mut all: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
            all.push(&expected);
            tx.prepare_cached(&UPDATE_CUSTOMER_SQL)?.execute(all.as_slice())
        }
    }
}

/// Writes the customer's `tags` and `attributes` rows, replacing any there.
fn write_tags_and_attributes(
    tx: &Transaction<'_>,
    id: CustomerId,
    row: &CustomerRow,
    replace: bool,
) -> Result<(), StoreError> {
    let id = to_sql_id(id);
    if replace {
        tx.prepare_cached("DELETE FROM tags WHERE customer_id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(backend)?;
        tx.prepare_cached("DELETE FROM attributes WHERE customer_id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(backend)?;
    }
    if !row.tags.is_empty() {
        let mut insert =
            tx.prepare_cached("INSERT INTO tags (customer_id, list, tag) VALUES (?1, ?2, ?3)").map_err(backend)?;
        for (list, tag) in &row.tags {
            insert.execute(params![id, list, tag]).map_err(backend)?;
        }
    }
    if !row.attributes.is_empty() {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO attributes (customer_id, name, kind, int_value, text_value, currency) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?;
        for a in &row.attributes {
            insert.execute(params![id, a.name, a.kind, a.int_value, a.text_value, a.currency]).map_err(backend)?;
        }
    }
    Ok(())
}

/// Appends purchases after the customer's last recorded one.
fn append_purchases(tx: &Transaction<'_>, id: CustomerId, purchases: &[Purchase]) -> Result<(), StoreError> {
    if purchases.is_empty() {
        return Ok(());
    }
    let id = to_sql_id(id);
    let first: i64 = tx
        .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM purchases WHERE customer_id = ?1", [id], |r| r.get(0))
        .map_err(backend)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO purchases (customer_id, seq, at_ns, amount_minor, currency, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?;
    for (seq, p) in (first..).zip(purchases) {
        let row = PurchaseRow::of(p)?;
        insert.execute(params![id, seq, row.at_ns, row.amount_minor, row.currency, row.data]).map_err(backend)?;
    }
    Ok(())
}

/// Appends transitions after the customer's last recorded one.
fn append_transitions(tx: &Transaction<'_>, id: CustomerId, transitions: &[Transition]) -> Result<(), StoreError> {
    if transitions.is_empty() {
        return Ok(());
    }
    let id = to_sql_id(id);
    let first: i64 = tx
        .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM transitions WHERE customer_id = ?1", [id], |r| r.get(0))
        .map_err(backend)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO transitions (customer_id, seq, at_ns, from_stage, to_stage, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?;
    for (seq, t) in (first..).zip(transitions) {
        let row = TransitionRow::of(t)?;
        insert.execute(params![id, seq, row.at_ns, row.from_stage, row.to_stage, row.data]).map_err(backend)?;
    }
    Ok(())
}

/// Reads one customer, or `None`.
fn read_customer(conn: &Connection, id: CustomerId) -> Result<Option<Customer>, StoreError> {
    let sql_id = to_sql_id(id);
    let row: Option<(i64, String)> = conn
        .query_row("SELECT version, data FROM customers WHERE id = ?1", [sql_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(backend)?;
    let Some((version, data)) = row else { return Ok(None) };
    let mut stmt =
        conn.prepare_cached("SELECT data FROM purchases WHERE customer_id = ?1 ORDER BY seq").map_err(backend)?;
    let purchases = stmt
        .query_map([sql_id], |r| r.get::<_, String>(0))
        .map_err(backend)?
        .map(|data| decode_purchase(&data.map_err(backend)?))
        .collect::<Result<Vec<Purchase>, StoreError>>()?;
    decode_customer(version, &data, purchases).map(Some)
}

fn read_transaction(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    // Deferred: a consistent snapshot from the first read, without taking the write lock.
    conn.transaction().map_err(backend)
}

fn write_transaction(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)
}

impl Store for SqliteStore {
    fn insert(&self, mut customer: Customer) -> Result<u64, StoreError> {
        let id = customer.id();
        customer.validate().map_err(|source| StoreError::InvalidData { id, source })?;
        customer.set_version(1);
        let mut conn = self.conn();
        let row = CustomerRow::of(&customer)?;
        let tx = write_transaction(&mut conn)?;
        write_customer(&tx, &row, None)
            .map_err(|e| if is_unique_violation(&e) { StoreError::AlreadyExists(id) } else { backend(e) })?;
        write_tags_and_attributes(&tx, id, &row, false)?;
        append_purchases(&tx, id, customer.purchases().as_slice())?;
        tx.commit().map_err(backend)?;
        Ok(1)
    }

    fn insert_many(&self, customers: Vec<Customer>) -> Result<usize, StoreError> {
        check_batch(&customers)?;
        let rows = customers.iter().map(CustomerRow::of_new).collect::<Result<Vec<_>, _>>()?;
        let mut conn = self.conn();
        let tx = write_transaction(&mut conn)?;
        for (customer, row) in customers.iter().zip(&rows) {
            let id = customer.id();
            write_customer(&tx, row, None)
                .map_err(|e| if is_unique_violation(&e) { StoreError::AlreadyExists(id) } else { backend(e) })?;
            write_tags_and_attributes(&tx, id, row, false)?;
            append_purchases(&tx, id, customer.purchases().as_slice())?;
        }
        tx.commit().map_err(backend)?;
        Ok(customers.len())
    }

    fn get(&self, id: CustomerId) -> Result<Customer, StoreError> {
        let mut conn = self.conn();
        let tx = read_transaction(&mut conn)?;
        read_customer(&tx, id)?.ok_or(StoreError::NotFound(id))
    }

    fn update(&self, change: Change) -> Result<u64, StoreError> {
        let expected = change.expected_version();
        let (mut customer, purchases, transitions) = change.into_parts();
        let id = customer.id();
        let mut conn = self.conn();
        let tx = write_transaction(&mut conn)?;
        let stored = read_customer(&tx, id)?.ok_or(StoreError::NotFound(id))?;
        let found = stored.version();
        if found != expected {
            return Err(StoreError::Conflict { id, expected, found });
        }
        check_change(&stored, &customer, &purchases, &transitions)?;
        let version = found + 1;
        customer.set_version(version);
        let row = CustomerRow::of(&customer)?;
        // The write lock is held since the read, so the version cannot have moved.
        if write_customer(&tx, &row, Some(found)).map_err(backend)? != 1 {
            return Err(backend("the customer row changed under the write lock"));
        }
        // Most writes (events, purchases) leave tags and attributes as they were.
        if tags_or_attributes_changed(&stored, &customer) {
            write_tags_and_attributes(&tx, id, &row, true)?;
        }
        append_purchases(&tx, id, &purchases)?;
        append_transitions(&tx, id, &transitions)?;
        tx.commit().map_err(backend)?;
        Ok(version)
    }

    fn history(&self, id: CustomerId) -> Result<Vec<Transition>, StoreError> {
        let mut conn = self.conn();
        let tx = read_transaction(&mut conn)?;
        let sql_id = to_sql_id(id);
        let exists = tx
            .query_row("SELECT 1 FROM customers WHERE id = ?1", [sql_id], |_| Ok(()))
            .optional()
            .map_err(backend)?
            .is_some();
        if !exists {
            return Err(StoreError::NotFound(id));
        }
        let mut stmt =
            tx.prepare_cached("SELECT data FROM transitions WHERE customer_id = ?1 ORDER BY seq").map_err(backend)?;
        stmt.query_map([sql_id], |r| r.get::<_, String>(0))
            .map_err(backend)?
            .map(|data| decode_transition(&data.map_err(backend)?))
            .collect()
    }

    fn count(&self) -> Result<usize, StoreError> {
        let n: i64 = self.conn().query_row("SELECT COUNT(*) FROM customers", [], |r| r.get(0)).map_err(backend)?;
        usize::try_from(n).map_err(backend)
    }

    fn scan(&self, after: Option<CustomerId>, limit: usize) -> Result<Vec<Customer>, StoreError> {
        let from = match after {
            None => i64::MIN,
            Some(after) => match to_sql_id(after).checked_add(1) {
                Some(next) => next,
                // Nothing sorts after the largest id.
                None => return Ok(Vec::new()),
            },
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut conn = self.conn();
        let tx = read_transaction(&mut conn)?;
        let rows = {
            let mut stmt = tx
                .prepare_cached("SELECT id, version, data FROM customers WHERE id >= ?1 ORDER BY id LIMIT ?2")
                .map_err(backend)?;
            stmt.query_map(params![from, limit], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get(2)?)))
                .map_err(backend)?
                .collect::<Result<Vec<(i64, i64, String)>, _>>()
                .map_err(backend)?
        };
        let Some(&(last, _, _)) = rows.last() else { return Ok(Vec::new()) };
        // The page's purchases in one query, grouped by customer in recording order.
        let mut purchases = {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT customer_id, data FROM purchases WHERE customer_id BETWEEN ?1 AND ?2 \
                     ORDER BY customer_id, seq",
                )
                .map_err(backend)?;
            stmt.query_map(params![from, last], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?
                .into_iter()
                .peekable()
        };
        let mut page = Vec::with_capacity(rows.len());
        for (id, version, data) in rows {
            let mut mine = Vec::new();
            while let Some((_, p)) = purchases.next_if(|(owner, _)| *owner == id) {
                mine.push(decode_purchase(&p)?);
            }
            let customer = decode_customer(version, &data, mine)?;
            if customer.id() != from_sql_id(id) {
                return Err(backend(format!("corrupt row: key {} holds customer {}", from_sql_id(id), customer.id())));
            }
            page.push(customer);
        }
        Ok(page)
    }

    /// Runs the segment in SQLite (see [`Segment::to_sql`]): the rows its SQL form selects,
    /// and, where some of it stays in Rust, those rows checked in Rust too. Customers with
    /// instants SQL cannot hold exactly (`rust_only`) are always checked in Rust. The answer is
    /// the same as the scan-and-evaluate default's.
    fn query(&self, segment: &Segment, as_of: DateTime<Utc>) -> Result<Vec<CustomerId>, StoreError> {
        let filter = segment.to_sql(Dialect::Sqlite, as_of);
        let exact = filter.is_exact();
        let (fragment, params) = filter.into_parts();
        let params = params.iter().map(bind_param).collect::<Result<Vec<rusqlite::types::Value>, StoreError>>()?;
        let mut conn = self.conn();
        let tx = read_transaction(&mut conn)?;
        // Decided in SQL: the ordinary rows of an exact filter. Checked in Rust: the rest.
        let run = |condition: &str, with_params: bool| -> Result<Vec<i64>, rusqlite::Error> {
            let mut stmt = tx.prepare(&format!("SELECT c.id FROM customers c WHERE {condition} ORDER BY c.id"))?;
            let params = if with_params { params.as_slice() } else { &[] };
            stmt.query_map(rusqlite::params_from_iter(params), |r| r.get(0))?.collect()
        };
        let (decided, to_check) = if exact {
            (run(&format!("c.rust_only = 0 AND ({fragment})"), true), run("c.rust_only = 1", false))
        } else {
            (Ok(Vec::new()), run(&format!("c.rust_only = 1 OR ({fragment})"), true))
        };
        let (decided, to_check) = match (decided, to_check) {
            (Ok(decided), Ok(to_check)) => (decided, to_check),
            // SUM overflows i64 where Rust saturates: evaluate every row in Rust.
            (Err(e), _) | (_, Err(e)) if is_integer_overflow(&e) => {
                drop(tx);
                drop(conn);
                return super::query_by_scan(self, segment, as_of);
            }
            (Err(e), _) | (_, Err(e)) => return Err(backend(e)),
        };
        let matcher = segment.at(as_of);
        let mut members: Vec<CustomerId> = decided.into_iter().map(from_sql_id).collect();
        for id in to_check {
            let id = from_sql_id(id);
            if let Some(c) = read_customer(&tx, id)? {
                if matcher.matches(&c) {
                    members.push(id);
                }
            }
        }
        members.sort_unstable();
        Ok(members)
    }

    fn erase(&self, id: CustomerId) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = write_transaction(&mut conn)?;
        // Purchases and transitions go with the customer (ON DELETE CASCADE).
        let deleted = tx.execute("DELETE FROM customers WHERE id = ?1", [to_sql_id(id)]).map_err(backend)?;
        if deleted == 0 {
            return Err(StoreError::NotFound(id));
        }
        tx.commit().map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_version_matches_the_migrations() {
        assert_eq!(usize::try_from(SqliteStore::SCHEMA_VERSION).ok(), Some(MIGRATIONS.len()));
    }
}
