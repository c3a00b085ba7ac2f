//! The SQLite store, behind the `sqlite` feature.
//!
//! # Schema
//!
//! The schema is created and migrated by the crate: the migrations are SQL files embedded in
//! the binary (`src/store/sqlite/migrations/`), applied in order inside one `BEGIN IMMEDIATE`
//! transaction, and the schema version is recorded in the database header
//! (`PRAGMA user_version`). Version 1 has three tables:
//!
//! - `customers (id, version, data, stage, country, city, birth_date, last_purchase_at)`:
//!   `id` is the customer id mapped onto SQLite's signed integers in order (see below),
//!   `version` the optimistic-concurrency version, `data` the customer as JSON (serde) without
//!   its purchases and version, and the rest copies of common segment fields, indexed for the
//!   segment pushdown to come: `stage`, `(country, city)`, `birth_date` (ISO text) and
//!   `last_purchase_at` (microseconds since the Unix epoch).
//! - `purchases (customer_id, seq, at, data)` and `transitions (customer_id, seq, at,
//!   from_stage, to_stage, data)`: one row per purchase or transition, keyed by customer and
//!   recording order, deleted with their customer (`ON DELETE CASCADE`); `purchases.at` is
//!   indexed.
//!
//! # Ids
//!
//! SQLite integers are signed, and customer ids are `u64`. A stored id is the customer id with
//! its top bit flipped, read as two's complement: 0 becomes `i64::MIN` and `u64::MAX` becomes
//! `i64::MAX`, so ids sort in the database as they do in Rust and `scan` can page with the
//! primary key.

use std::{
    error::Error as StdError,
    path::Path,
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, ffi, params};

use super::{Change, Store, StoreError, check_change};
use crate::{
    customer::{Customer, CustomerId, Purchase},
    lifecycle::Transition,
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

fn backend(e: impl Into<Box<dyn StdError + Send + Sync>>) -> StoreError {
    StoreError::Backend(e.into())
}

/// The stored form of a customer id: the id with its top bit flipped, as two's complement, so
/// that `0..=u64::MAX` maps in order onto `i64::MIN..=i64::MAX`.
fn to_sql_id(id: CustomerId) -> i64 {
    i64::from_ne_bytes(id.get().to_ne_bytes()) ^ i64::MIN
}

/// The inverse of [`to_sql_id`].
fn from_sql_id(id: i64) -> CustomerId {
    CustomerId::new(u64::from_ne_bytes((id ^ i64::MIN).to_ne_bytes()))
}

fn to_sql_version(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version).map_err(backend)
}

fn from_sql_version(version: i64) -> Result<u64, StoreError> {
    u64::try_from(version).map_err(|_| backend(format!("corrupt customer version {version}")))
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

/// Whether the error is a primary-key or unique constraint violation.
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == ErrorCode::ConstraintViolation
                && matches!(f.extended_code, ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE)
    )
}

/// The `data` column: the customer as JSON, without the purchases (in their own table) and
/// the version (in its own column).
fn customer_data(c: &Customer) -> Result<String, StoreError> {
    let mut value = serde_json::to_value(c).map_err(backend)?;
    if let Some(fields) = value.as_object_mut() {
        fields.remove("purchases");
        fields.remove("version");
    }
    serde_json::to_string(&value).map_err(backend)
}

/// Writes the customer row: inserts it, or replaces it at `expected` version.
fn write_customer(tx: &Transaction<'_>, c: &Customer, expected: Option<u64>) -> Result<usize, rusqlite::Error> {
    let data = customer_data(c).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    let version = to_sql_version(c.version()).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    let location = &c.profile.location;
    let country = location.country.as_ref().map(|code| code.as_str().to_owned());
    let birth_date = c.profile.birth_date.map(|d| d.to_string());
    let last_purchase_at = c.purchases().as_slice().last().map(|p| p.at.timestamp_micros());
    let id = to_sql_id(c.id());
    let stage = c.stage().name();
    match expected {
        None => tx.execute(
            "INSERT INTO customers (id, version, data, stage, country, city, birth_date, last_purchase_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![id, version, data, stage, country, location.city, birth_date, last_purchase_at],
        ),
        Some(expected) => tx.execute(
            "UPDATE customers SET version = ?2, data = ?3, stage = ?4, country = ?5, city = ?6, \
             birth_date = ?7, last_purchase_at = ?8 WHERE id = ?1 AND version = ?9",
            params![
                id,
                version,
                data,
                stage,
                country,
                location.city,
                birth_date,
                last_purchase_at,
                to_sql_version(expected).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?
            ],
        ),
    }
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
        .prepare_cached("INSERT INTO purchases (customer_id, seq, at, data) VALUES (?1, ?2, ?3, ?4)")
        .map_err(backend)?;
    for (seq, p) in (first..).zip(purchases) {
        let data = serde_json::to_string(p).map_err(backend)?;
        insert.execute(params![id, seq, p.at.timestamp_micros(), data]).map_err(backend)?;
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
            "INSERT INTO transitions (customer_id, seq, at, from_stage, to_stage, data) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?;
    for (seq, t) in (first..).zip(transitions) {
        let data = serde_json::to_string(t).map_err(backend)?;
        insert.execute(params![id, seq, t.at.timestamp_micros(), t.from.name(), t.to.name(), data]).map_err(backend)?;
    }
    Ok(())
}

/// Rebuilds a customer from its row and its purchases (in recording order).
fn decode_customer(version: i64, data: &str, purchases: Vec<Purchase>) -> Result<Customer, StoreError> {
    let mut customer: Customer = serde_json::from_str(data).map_err(backend)?;
    // Recording order, then a stable sort by time: the order the purchases had in memory.
    customer = customer.with_purchases(purchases).map_err(backend)?;
    customer.set_version(from_sql_version(version)?);
    Ok(customer)
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
        .map(|data| serde_json::from_str(&data.map_err(backend)?).map_err(backend))
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
        let tx = write_transaction(&mut conn)?;
        write_customer(&tx, &customer, None)
            .map_err(|e| if is_unique_violation(&e) { StoreError::AlreadyExists(id) } else { backend(e) })?;
        append_purchases(&tx, id, customer.purchases().as_slice())?;
        tx.commit().map_err(backend)?;
        Ok(1)
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
        // The write lock is held since the read, so the version cannot have moved.
        if write_customer(&tx, &customer, Some(found)).map_err(backend)? != 1 {
            return Err(backend("the customer row changed under the write lock"));
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
            .map(|data| serde_json::from_str(&data.map_err(backend)?).map_err(backend))
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
                mine.push(serde_json::from_str(&p).map_err(backend)?);
            }
            let customer = decode_customer(version, &data, mine)?;
            if customer.id() != from_sql_id(id) {
                return Err(backend(format!("corrupt row: key {} holds customer {}", from_sql_id(id), customer.id())));
            }
            page.push(customer);
        }
        Ok(page)
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
    fn ids_map_in_order_and_back() {
        let ids =
            [0, 1, 2, 1 << 62, i64::MAX.unsigned_abs() - 1, i64::MAX.unsigned_abs(), 1 << 63, u64::MAX - 1, u64::MAX];
        for pair in ids.windows(2) {
            assert!(to_sql_id(CustomerId::new(pair[0])) < to_sql_id(CustomerId::new(pair[1])), "{pair:?}");
        }
        for id in ids {
            assert_eq!(from_sql_id(to_sql_id(CustomerId::new(id))), CustomerId::new(id));
        }
        assert_eq!(to_sql_id(CustomerId::new(0)), i64::MIN);
        assert_eq!(to_sql_id(CustomerId::new(u64::MAX)), i64::MAX);
    }

    #[test]
    fn schema_version_matches_the_migrations() {
        assert_eq!(usize::try_from(SqliteStore::SCHEMA_VERSION).ok(), Some(MIGRATIONS.len()));
    }
}
