//! The PostgreSQL store, behind the `postgres` feature. The user-facing documentation (schema,
//! ids, connections) is on [`PostgresStore`].

use std::{
    collections::HashMap,
    error::Error as StdError,
    fmt,
    sync::{Mutex, MutexGuard, OnceLock, PoisonError},
};

use chrono::{DateTime, Utc};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{
    Client, Config, GenericClient, IsolationLevel, NoTls, Row, Statement, Transaction, error::SqlState, types::ToSql,
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
const MIGRATIONS: &[&str] = &[include_str!("postgres/migrations/0001_initial.sql")];

/// The advisory lock key that serializes migrations on one database: "clientel" in ASCII.
const MIGRATION_LOCK: i64 = 0x636c_6965_6e74_656c;

/// How many idle connections [`PostgresStore::connect`] keeps.
const DEFAULT_POOL_SIZE: usize = 4;

/// A store in a PostgreSQL database, shared by any number of stores and processes.
///
/// Every write is one transaction, so it either commits whole or leaves the database exactly
/// as it was. An insert, or a whole batch of them ([`insert_many`](Store::insert_many)), is a
/// single statement (customer rows, tags, attributes and purchases). An update locks the customer's row (`SELECT ... FOR UPDATE`) before reading the
/// stored version and purchases, checks the change against them with [`check_change`], and
/// writes the row, the new purchases and the new transitions (and the tags and attributes, if
/// they changed) before committing; concurrent writers to one customer queue on its row,
/// readers never wait. Reads of a customer, a history or a page are each one statement, so
/// each sees one consistent snapshot; [`query`](Store::query) evaluates the segment in the
/// database ([`Segment::to_sql`]) inside one repeatable-read, read-only transaction.
///
/// # Connections
///
/// The store is `Send + Sync` and runs operations from several threads in parallel, each on a
/// connection of its own. It keeps a small pool of idle connections: an operation takes an
/// idle connection, or opens a new one if none is idle, and gives it back afterwards unless
/// the pool already holds its size of idle connections (then it is closed). The number of
/// connections open at once is therefore not capped by the pool: it is the number of
/// operations running at once. A connection found closed (the server ended it, or it broke
/// during an operation) is discarded rather than given back; an operation that runs on a
/// connection the server closed while it was idle fails once with [`StoreError::Backend`].
///
/// Connections are made without TLS (the crate brings no TLS library): use the store on a
/// trusted network or over a Unix socket (`host=/var/run/postgresql`). A connection string
/// that requires TLS (`sslmode=require`) fails to connect.
///
/// Errors from the database are [`StoreError::Backend`] with a message that includes what the
/// server said; the [`postgres::Error`] is in its source chain.
///
/// # Schema
///
/// The schema is created and migrated by the crate: the migrations are SQL files embedded in
/// the binary (`src/store/postgres/migrations/`), applied in order inside one transaction that
/// first takes a transaction-level advisory lock (`pg_advisory_xact_lock`), so that stores
/// connecting at once to a new database migrate it once. The schema version is recorded in the
/// table `clientele_schema (version BIGINT NOT NULL)`, one row; a database with a newer
/// version is refused ([`StoreError::SchemaTooNew`]) before anything is written.
///
/// The tables are the SQLite store's (`SqliteStore`, feature `sqlite`), column for column, in
/// PostgreSQL types: every integer is `BIGINT` and every text column is `TEXT COLLATE "C"`
/// (compared byte by byte, as in SQLite, whatever the database's locale). Both stores fill
/// them with the same code. Version 1 has:
///
/// - `customers`: the id (see below), the optimistic-concurrency `version`, `data` (the
///   customer as JSON, without purchases and version: what is read back), and typed copies of
///   the segment fields that the segment pushdown reads (stage, demographics, ASCII-lowercased
///   region and city, income, instants in nanoseconds, dates as day numbers, channel
///   bitmasks), a few of them indexed.
/// - `purchases` and `transitions`: one row per purchase or transition, keyed by customer and
///   recording order, with their instant, amount or stages, and their JSON.
/// - `tags` (interests, lifestyle, needs and text-list attribute items) and `attributes`
///   (custom attributes, typed): rewritten when the customer's ones change.
///
/// Every row about a customer goes with it (`ON DELETE CASCADE`). The tables are created in
/// the current schema (the first schema of the connection's `search_path`, normally
/// `public`).
///
/// # Ids
///
/// A stored id is the customer id with its top bit flipped, read as two's complement (the
/// SQLite store's mapping): 0 becomes `i64::MIN` and `u64::MAX` becomes `i64::MAX`, so ids
/// sort in the database as they do in Rust and `scan` can page with the primary key.
///
/// # Example
///
/// ```no_run
/// use chrono::DateTime;
/// use clientele::{Customer, CustomerId, PostgresStore, Store};
/// let store = PostgresStore::connect("host=localhost user=postgres dbname=crm")?;
/// store.insert(Customer::new(CustomerId::new(1), "Ada", DateTime::UNIX_EPOCH))?;
/// assert_eq!(store.get(CustomerId::new(1))?.profile.display_name, "Ada");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PostgresStore {
    config: Config,
    /// The idle connections. A panic while it is locked cannot leave it inconsistent (it is
    /// only pushed to and popped from), so a poisoned lock is used as is.
    idle: Mutex<Vec<Conn>>,
    pool_size: usize,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Config`'s own Debug hides the password.
        f.debug_struct("PostgresStore")
            .field("config", &self.config)
            .field("pool_size", &self.pool_size)
            .field("idle", &self.idle().len())
            .finish()
    }
}

/// A pooled connection and the statements prepared on it.
struct Conn {
    client: Client,
    prepared: HashMap<&'static str, Statement>,
}

impl Conn {
    /// The statement for `sql`, prepared on this connection the first time. Statements are
    /// prepared before a transaction begins, so that the transaction can borrow the client.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).map_err(db)?;
        self.prepared.insert(sql, statement.clone());
        Ok(statement)
    }
}

impl PostgresStore {
    /// The schema version this version of the crate creates and understands.
    pub const SCHEMA_VERSION: i64 = 1;

    /// Connects to the database named by `conn_str`, and creates or migrates the schema.
    ///
    /// `conn_str` is a libpq-style connection string, as key-value pairs
    /// (`host=localhost port=5432 user=crm password=secret dbname=crm`) or as a URL
    /// (`postgresql://crm:secret@localhost:5432/crm`). The store keeps up to 4 idle
    /// connections; see [`with_pool_size`](PostgresStore::with_pool_size).
    ///
    /// # Errors
    ///
    /// [`StoreError::SchemaTooNew`] if the database was written by a newer version of the
    /// crate (nothing is changed); [`StoreError::Backend`] if the string does not parse, the
    /// server cannot be reached or refuses the login, or the schema cannot be created.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use clientele::{PostgresStore, Store};
    /// let store = PostgresStore::connect("postgresql://crm:secret@localhost/crm")?;
    /// println!("{} customers", store.count()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect(conn_str: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::with_pool_size(conn_str, DEFAULT_POOL_SIZE)
    }

    /// Like [`connect`](PostgresStore::connect), keeping up to `pool_size` idle connections
    /// for reuse (0: every operation opens and closes a connection of its own).
    ///
    /// # Errors
    ///
    /// As [`connect`](PostgresStore::connect).
    ///
    /// # Example
    ///
    /// ```no_run
    /// use clientele::{PostgresStore, Store};
    /// // Sixteen worker threads share this store: keep a connection for each.
    /// let store = PostgresStore::with_pool_size("host=localhost user=crm dbname=crm", 16)?;
    /// println!("{} customers", store.count()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_pool_size(conn_str: &str, pool_size: usize) -> Result<PostgresStore, StoreError> {
        let config: Config = conn_str.parse().map_err(db)?;
        let store = PostgresStore { config, idle: Mutex::new(Vec::new()), pool_size };
        store.with_conn(|conn| migrate(&mut conn.client))?;
        Ok(store)
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Conn>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `op` on a pooled connection, opening one if none is idle, and gives the connection
    /// back to the pool afterwards if it is still open and the pool has room. A connection
    /// whose `op` panicked is dropped (closed); its open transaction, if any, rolls back.
    fn with_conn<T>(&self, op: impl FnOnce(&mut Conn) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = loop {
            match self.idle().pop() {
                Some(conn) if conn.client.is_closed() => {}
                other => break other,
            }
        };
        let mut conn = match pooled {
            Some(conn) => conn,
            None => Conn { client: self.config.connect(NoTls).map_err(db)?, prepared: HashMap::new() },
        };
        let result = op(&mut conn);
        if !conn.client.is_closed() {
            let mut idle = self.idle();
            if idle.len() < self.pool_size {
                idle.push(conn);
            }
        }
        result
    }
}

impl PostgresStore {
    /// Inserts valid customers with distinct ids, in one statement: all or nothing.
    fn insert_batch(&self, customers: &[Customer]) -> Result<(), StoreError> {
        let batch = Batch::of(customers)?;
        let params = batch.params();
        self.with_conn(|conn| {
            let insert = conn.statement(batch.insert_sql())?;
            match conn.client.execute(&insert, &params) {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(already_stored(conn, customers).unwrap_or_else(|| db(e))),
                Err(e) => Err(db(e)),
            }
        })
    }
}

/// [`StoreError::AlreadyExists`] for the first of `customers` that is stored, after an insert
/// of them failed on a unique key; `None` if none is (any more).
fn already_stored(conn: &mut Conn, customers: &[Customer]) -> Option<StoreError> {
    if let [only] = customers {
        return Some(StoreError::AlreadyExists(only.id()));
    }
    let ids: Vec<i64> = customers.iter().map(|c| to_sql_id(c.id())).collect();
    let stored: std::collections::HashSet<i64> = conn
        .client
        .query("SELECT id FROM customers WHERE id = ANY($1::BIGINT[])", &[&ids])
        .ok()?
        .iter()
        .filter_map(|row| row.try_get(0).ok())
        .collect();
    customers.iter().find(|c| stored.contains(&to_sql_id(c.id()))).map(|c| StoreError::AlreadyExists(c.id()))
}

/// Brings the schema to [`PostgresStore::SCHEMA_VERSION`], or refuses a newer one.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let latest = PostgresStore::SCHEMA_VERSION;
    match schema_version(client)? {
        Some(found) if found == latest => return Ok(()),
        // Refused before taking the lock: nothing is written to a newer database.
        Some(found) if found > latest => return Err(StoreError::SchemaTooNew { found, supported: latest }),
        _ => {}
    }
    // Read committed: after waiting for the lock, each statement sees what the migration
    // that held it committed.
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).map_err(db)?;
    let found = match schema_version(&mut tx)? {
        Some(found) => found,
        None => {
            tx.batch_execute(
                "CREATE TABLE clientele_schema (version BIGINT NOT NULL); INSERT INTO clientele_schema VALUES (0);",
            )
            .map_err(db)?;
            0
        }
    };
    if found > latest {
        return Err(StoreError::SchemaTooNew { found, supported: latest });
    }
    let from = usize::try_from(found).map_err(|_| backend(format!("invalid schema version {found}")))?;
    for (done, sql) in MIGRATIONS.iter().enumerate().skip(from) {
        tx.batch_execute(sql).map_err(db)?;
        let version = i64::try_from(done + 1).map_err(backend)?;
        tx.execute("UPDATE clientele_schema SET version = $1", &[&version]).map_err(db)?;
    }
    tx.commit().map_err(db)
}

/// The recorded schema version, or `None` if the database has no `clientele_schema` table.
fn schema_version(client: &mut impl GenericClient) -> Result<Option<i64>, StoreError> {
    // Read from the catalog table rather than with `to_regclass`, whose cached lookups are not
    // refreshed by taking an advisory lock, so that a migration that waited for the lock sees
    // the table another one created meanwhile.
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = 'clientele_schema' AND n.nspname = current_schema())",
            &[],
        )
        .and_then(|row| row.try_get(0))
        .map_err(db)?;
    if !exists {
        return Ok(None);
    }
    let rows = client.query("SELECT version FROM clientele_schema", &[]).map_err(db)?;
    match rows.as_slice() {
        [row] => row.try_get(0).map(Some).map_err(db),
        _ => Err(backend(format!("clientele_schema holds {} rows instead of one", rows.len()))),
    }
}

/// A failure of the database or the connection, as a [`StoreError::Backend`] whose source is
/// a [`DbFailure`].
fn db(e: postgres::Error) -> StoreError {
    StoreError::Backend(Box::new(DbFailure(e)))
}

/// A [`postgres::Error`] whose message includes what the server said (the client's own message
/// for a database error is just "db error").
#[derive(Debug)]
struct DbFailure(postgres::Error);

impl fmt::Display for DbFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        match (e.as_db_error(), e.source()) {
            (Some(server), _) => write!(f, "{}: {} (SQLSTATE {})", e, server, server.code().code()),
            (None, Some(cause)) => write!(f, "{e}: {cause}"),
            (None, None) => write!(f, "{e}"),
        }
    }
}

impl StdError for DbFailure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

/// Whether the error is a unique or primary-key violation (SQLSTATE 23505).
fn is_unique_violation(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

// The writes. Rows go to the server as one array per column, `unnest`ed: one statement per
// table, whatever the number of rows.

/// Appends the purchases in the arrays `$first` to `$first + 3` to customer `$1`, after its
/// last recorded one, if the `customer` of the enclosing `WITH` was written.
fn append_purchases_sql(first: usize) -> String {
    format!(
        "INSERT INTO purchases (customer_id, seq, at_ns, amount_minor, currency, data) \
         SELECT $1::BIGINT, next.seq + p.ord - 1, p.at_ns, p.amount_minor, p.currency, p.data \
         FROM customer, \
         (SELECT COALESCE(MAX(seq) + 1, 0) AS seq FROM purchases WHERE customer_id = $1::BIGINT) AS next, \
         unnest(${}::BIGINT[], ${}::BIGINT[], ${}::TEXT[], ${}::TEXT[]) WITH ORDINALITY \
         AS p (at_ns, amount_minor, currency, data, ord)",
        first,
        first + 1,
        first + 2,
        first + 3
    )
}

/// Appends the transitions in the arrays `$first` to `$first + 3` to customer `$1`, after its
/// last recorded one, if the `customer` of the enclosing `WITH` was written.
fn append_transitions_sql(first: usize) -> String {
    format!(
        "INSERT INTO transitions (customer_id, seq, at_ns, from_stage, to_stage, data) \
         SELECT $1::BIGINT, next.seq + t.ord - 1, t.at_ns, t.from_stage, t.to_stage, t.data \
         FROM customer, \
         (SELECT COALESCE(MAX(seq) + 1, 0) AS seq FROM transitions WHERE customer_id = $1::BIGINT) AS next, \
         unnest(${}::BIGINT[], ${}::TEXT[], ${}::TEXT[], ${}::TEXT[]) WITH ORDINALITY \
         AS t (at_ns, from_stage, to_stage, data, ord)",
        first,
        first + 1,
        first + 2,
        first + 3
    )
}

/// The customer row at an expected version, with the new purchases and transitions: one
/// statement, returning the number of customer rows written (1, or 0 if the version moved).
/// Parameters: the customer columns, the expected version, then [`PurchaseArrays`] and
/// [`TransitionArrays`].
fn update_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let n = CUSTOMER_COLUMNS.len();
        let sets: Vec<String> =
            CUSTOMER_COLUMNS.iter().enumerate().skip(1).map(|(i, col)| format!("{col} = ${}", i + 1)).collect();
        format!(
            "WITH customer AS (UPDATE customers SET {} WHERE id = $1 AND version = ${} RETURNING id), \
             purchase_rows AS ({}), transition_rows AS ({}) SELECT COUNT(*) FROM customer",
            sets.join(", "),
            n + 1,
            append_purchases_sql(n + 2),
            append_transitions_sql(n + 6)
        )
    })
}

/// Replacing a customer's tags and attributes: the deletes, then the inserts, as separate
/// statements (rows deleted and inserted again in one statement would collide on the key).
const DELETE_TAGS: &str = "DELETE FROM tags WHERE customer_id = $1";

const DELETE_ATTRIBUTES: &str = "DELETE FROM attributes WHERE customer_id = $1";

/// Inserts customer `$1`'s tags, from [`TagArrays`].
const INSERT_TAGS: &str = "INSERT INTO tags (customer_id, list, tag) SELECT $1::BIGINT, t.list, t.tag \
     FROM unnest($2::TEXT[], $3::TEXT[]) AS t (list, tag)";

/// Inserts customer `$1`'s attributes, from [`AttributeArrays`].
const INSERT_ATTRIBUTES: &str = "INSERT INTO attributes (customer_id, name, kind, int_value, text_value, currency) \
     SELECT $1::BIGINT, a.name, a.kind, a.int_value, a.text_value, a.currency \
     FROM unnest($2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::TEXT[], $6::TEXT[]) \
     AS a (name, kind, int_value, text_value, currency)";

/// New customers with their tags, attributes and purchases, as one array per column: what
/// [`Batch::insert_sql`] takes.
#[derive(Default)]
struct Batch {
    /// `customers`, one array per column of [`CUSTOMER_COLUMNS`]: `BIGINT[]` or `TEXT[]`.
    customers: Vec<Column>,
    tag_owners: Vec<i64>,
    tag_lists: Vec<String>,
    tags: Vec<String>,
    attribute_owners: Vec<i64>,
    attribute_names: Vec<String>,
    attribute_kinds: Vec<&'static str>,
    attribute_ints: Vec<Option<i64>>,
    attribute_texts: Vec<Option<String>>,
    attribute_currencies: Vec<Option<String>>,
    purchase_owners: Vec<i64>,
    purchase_seqs: Vec<i64>,
    purchase_at: Vec<i64>,
    purchase_amounts: Vec<i64>,
    purchase_currencies: Vec<String>,
    purchase_data: Vec<String>,
}

/// The values of one customer column, for all the customers of a [`Batch`].
enum Column {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
}

impl Batch {
    /// The rows of `customers`, each at version 1.
    fn of(customers: &[Customer]) -> Result<Batch, StoreError> {
        let mut batch = Batch::default();
        for c in customers {
            let row = CustomerRow::of_new(c)?;
            if batch.customers.is_empty() {
                batch.customers = row
                    .values()
                    .iter()
                    .map(|v| match v {
                        Value::Int(_) => Column::Int(Vec::new()),
                        Value::Text(_) => Column::Text(Vec::new()),
                    })
                    .collect();
            }
            for (column, value) in batch.customers.iter_mut().zip(row.values()) {
                match (column, value) {
                    (Column::Int(column), Value::Int(v)) => column.push(*v),
                    (Column::Text(column), Value::Text(v)) => column.push(v.clone()),
                    _ => return Err(backend("a customer column changed type between rows")),
                }
            }
            let id = to_sql_id(c.id());
            for (list, tag) in row.tags {
                batch.tag_owners.push(id);
                batch.tag_lists.push(list);
                batch.tags.push(tag);
            }
            for a in row.attributes {
                batch.attribute_owners.push(id);
                batch.attribute_names.push(a.name);
                batch.attribute_kinds.push(a.kind);
                batch.attribute_ints.push(a.int_value);
                batch.attribute_texts.push(a.text_value);
                batch.attribute_currencies.push(a.currency);
            }
            for (seq, p) in (0..).zip(c.purchases().as_slice()) {
                let p = PurchaseRow::of(p)?;
                batch.purchase_owners.push(id);
                batch.purchase_seqs.push(seq);
                batch.purchase_at.push(p.at_ns);
                batch.purchase_amounts.push(p.amount_minor);
                batch.purchase_currencies.push(p.currency);
                batch.purchase_data.push(p.data);
            }
        }
        Ok(batch)
    }

    /// The statement's parameters, in order.
    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        let mut params: Vec<&(dyn ToSql + Sync)> = self
            .customers
            .iter()
            .map(|column| -> &(dyn ToSql + Sync) {
                match column {
                    Column::Int(v) => v,
                    Column::Text(v) => v,
                }
            })
            .collect();
        params.extend::<[&(dyn ToSql + Sync); 15]>([
            &self.tag_owners,
            &self.tag_lists,
            &self.tags,
            &self.attribute_owners,
            &self.attribute_names,
            &self.attribute_kinds,
            &self.attribute_ints,
            &self.attribute_texts,
            &self.attribute_currencies,
            &self.purchase_owners,
            &self.purchase_seqs,
            &self.purchase_at,
            &self.purchase_amounts,
            &self.purchase_currencies,
            &self.purchase_data,
        ]);
        params
    }

    /// The `INSERT` of a batch: one statement, so one transaction and one round trip, whatever
    /// the number of customers (foreign keys are checked at the end of the statement, when the
    /// customer rows are there).
    fn insert_sql(&self) -> &'static str {
        static SQL: OnceLock<String> = OnceLock::new();
        SQL.get_or_init(|| {
            let mut n = 0;
            let mut arrays = |types: &[&str]| -> String {
                let list: Vec<String> = types
                    .iter()
                    .map(|ty| {
                        n += 1;
                        format!("${n}::{ty}[]")
                    })
                    .collect();
                list.join(", ")
            };
            let customer_types: Vec<&str> =
                self.customers.iter().map(|c| if matches!(c, Column::Int(_)) { "BIGINT" } else { "TEXT" }).collect();
            let customers = arrays(&customer_types);
            let tags = arrays(&["BIGINT", "TEXT", "TEXT"]);
            let attributes = arrays(&["BIGINT", "TEXT", "TEXT", "BIGINT", "TEXT", "TEXT"]);
            let purchases = arrays(&["BIGINT", "BIGINT", "BIGINT", "BIGINT", "TEXT", "TEXT"]);
            format!(
                "WITH customer_rows AS (INSERT INTO customers ({}) SELECT * FROM unnest({customers})), \
                 tag_rows AS (INSERT INTO tags (customer_id, list, tag) SELECT * FROM unnest({tags})), \
                 attribute_rows AS (INSERT INTO attributes \
                 (customer_id, name, kind, int_value, text_value, currency) SELECT * FROM unnest({attributes})) \
                 INSERT INTO purchases (customer_id, seq, at_ns, amount_minor, currency, data) \
                 SELECT * FROM unnest({purchases})",
                CUSTOMER_COLUMNS.join(", ")
            )
        })
    }
}

/// The statements that replace a customer's tags and attributes, prepared.
struct TagStatements {
    delete_tags: Statement,
    delete_attributes: Statement,
    insert_tags: Statement,
    insert_attributes: Statement,
}

impl TagStatements {
    fn prepare(conn: &mut Conn) -> Result<TagStatements, StoreError> {
        Ok(TagStatements {
            delete_tags: conn.statement(DELETE_TAGS)?,
            delete_attributes: conn.statement(DELETE_ATTRIBUTES)?,
            insert_tags: conn.statement(INSERT_TAGS)?,
            insert_attributes: conn.statement(INSERT_ATTRIBUTES)?,
        })
    }

    /// Replaces the tags and attributes of customer `id` (stored form) with `row`'s.
    fn run(&self, tx: &mut Transaction<'_>, id: i64, row: &CustomerRow) -> Result<(), StoreError> {
        tx.execute(&self.delete_tags, &[&id]).map_err(db)?;
        tx.execute(&self.delete_attributes, &[&id]).map_err(db)?;
        if !row.tags.is_empty() {
            let tags = TagArrays::of(row);
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&id];
            params.extend(tags.params());
            tx.execute(&self.insert_tags, &params).map_err(db)?;
        }
        if !row.attributes.is_empty() {
            let attributes = AttributeArrays::of(row);
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&id];
            params.extend(attributes.params());
            tx.execute(&self.insert_attributes, &params).map_err(db)?;
        }
        Ok(())
    }
}

/// A column value as a statement parameter.
fn param(value: &Value) -> &(dyn ToSql + Sync) {
    match value {
        Value::Int(v) => v,
        Value::Text(v) => v,
    }
}

/// A customer's tags, as the arrays [`INSERT_TAGS`] takes.
struct TagArrays<'a> {
    lists: Vec<&'a str>,
    tags: Vec<&'a str>,
}

impl<'a> TagArrays<'a> {
    fn of(row: &'a CustomerRow) -> TagArrays<'a> {
        let (lists, tags) = row.tags.iter().map(|(l, t)| (l.as_str(), t.as_str())).unzip();
        TagArrays { lists, tags }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 2] {
        [&self.lists, &self.tags]
    }
}

/// A customer's attributes, as the arrays [`INSERT_ATTRIBUTES`] takes.
struct AttributeArrays<'a> {
    names: Vec<&'a str>,
    kinds: Vec<&'a str>,
    ints: Vec<Option<i64>>,
    texts: Vec<Option<&'a str>>,
    currencies: Vec<Option<&'a str>>,
}

impl<'a> AttributeArrays<'a> {
    fn of(row: &'a CustomerRow) -> AttributeArrays<'a> {
        let a = &row.attributes;
        AttributeArrays {
            names: a.iter().map(|a| a.name.as_str()).collect(),
            kinds: a.iter().map(|a| a.kind).collect(),
            ints: a.iter().map(|a| a.int_value).collect(),
            texts: a.iter().map(|a| a.text_value.as_deref()).collect(),
            currencies: a.iter().map(|a| a.currency.as_deref()).collect(),
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 5] {
        [&self.names, &self.kinds, &self.ints, &self.texts, &self.currencies]
    }
}

/// Purchases, as the arrays [`append_purchases_sql`] takes.
struct PurchaseArrays {
    at: Vec<i64>,
    amounts: Vec<i64>,
    currencies: Vec<String>,
    data: Vec<String>,
}

impl PurchaseArrays {
    fn of(purchases: &[Purchase]) -> Result<PurchaseArrays, StoreError> {
        let mut arrays =
            PurchaseArrays { at: Vec::new(), amounts: Vec::new(), currencies: Vec::new(), data: Vec::new() };
        for p in purchases {
            let row = PurchaseRow::of(p)?;
            arrays.at.push(row.at_ns);
            arrays.amounts.push(row.amount_minor);
            arrays.currencies.push(row.currency);
            arrays.data.push(row.data);
        }
        Ok(arrays)
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 4] {
        [&self.at, &self.amounts, &self.currencies, &self.data]
    }
}

/// Transitions, as the arrays [`append_transitions_sql`] takes.
struct TransitionArrays {
    at: Vec<i64>,
    from: Vec<&'static str>,
    to: Vec<&'static str>,
    data: Vec<String>,
}

impl TransitionArrays {
    fn of(transitions: &[Transition]) -> Result<TransitionArrays, StoreError> {
        let mut arrays = TransitionArrays { at: Vec::new(), from: Vec::new(), to: Vec::new(), data: Vec::new() };
        for t in transitions {
            let row = TransitionRow::of(t)?;
            arrays.at.push(row.at_ns);
            arrays.from.push(row.from_stage);
            arrays.to.push(row.to_stage);
            arrays.data.push(row.data);
        }
        Ok(arrays)
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 4] {
        [&self.at, &self.from, &self.to, &self.data]
    }
}

/// Rebuilds a customer from its `version`, `data` and purchases' `data` (in recording order).
fn decode(version: i64, data: &str, purchases: &[String]) -> Result<Customer, StoreError> {
    let purchases = purchases.iter().map(|p| decode_purchase(p)).collect::<Result<Vec<_>, _>>()?;
    decode_customer(version, data, purchases)
}

/// A customer from a row of `id, version, data, purchases' data` ([`SCAN`] and the like),
/// checked to be the one its key says.
fn decode_row(row: &Row) -> Result<Customer, StoreError> {
    let (id, version, data, purchases): (i64, i64, String, Vec<String>) = (
        row.try_get(0).map_err(db)?,
        row.try_get(1).map_err(db)?,
        row.try_get(2).map_err(db)?,
        row.try_get(3).map_err(db)?,
    );
    let customer = decode(version, &data, &purchases)?;
    if customer.id() != from_sql_id(id) {
        return Err(backend(format!("corrupt row: key {} holds customer {}", from_sql_id(id), customer.id())));
    }
    Ok(customer)
}

/// The columns of a customer row with its purchases, for [`decode_row`].
const CUSTOMER_WITH_PURCHASES: &str =
    "c.id, c.version, c.data, ARRAY(SELECT p.data FROM purchases p WHERE p.customer_id = c.id ORDER BY p.seq)";

/// A customer with its purchases, in one statement (one snapshot).
const GET_CUSTOMER: &str = "SELECT c.id, c.version, c.data, \
     ARRAY(SELECT p.data FROM purchases p WHERE p.customer_id = c.id ORDER BY p.seq) \
     FROM customers c WHERE c.id = $1";

/// The customer's row, locked until the transaction ends. Its purchases are read by a second
/// statement, after the lock is held: a statement that waited for the lock sees the row as
/// the other writer committed it, but subqueries in it would still see the older snapshot.
const LOCK_CUSTOMER: &str = "SELECT version, data FROM customers WHERE id = $1 FOR UPDATE";

const PURCHASES_OF: &str = "SELECT data FROM purchases WHERE customer_id = $1 ORDER BY seq";

/// The history, or no row if there is no such customer, in one statement.
const HISTORY: &str = "SELECT ARRAY(SELECT t.data FROM transitions t WHERE t.customer_id = c.id ORDER BY t.seq) \
     FROM customers c WHERE c.id = $1";

/// A page of customers with their purchases, in one statement.
const SCAN: &str = "SELECT c.id, c.version, c.data, \
     ARRAY(SELECT p.data FROM purchases p WHERE p.customer_id = c.id ORDER BY p.seq) \
     FROM customers c WHERE c.id >= $1 ORDER BY c.id LIMIT $2";

/// A filter parameter as PostgreSQL takes it (the fragment casts each placeholder).
fn bind_param(p: &SqlParam) -> Result<&(dyn ToSql + Sync), StoreError> {
    Ok(match p {
        SqlParam::Int(v) => v,
        SqlParam::Text(v) => v,
        SqlParam::IntList(v) => v,
        SqlParam::TextList(v) => v,
        // A parameter kind added later would be a bug here, not bad input.
        #[allow(unreachable_patterns, reason = "SqlParam is non_exhaustive")]
        _ => return Err(backend("unsupported SQL parameter kind")),
    })
}

impl Store for PostgresStore {
    fn insert(&self, customer: Customer) -> Result<u64, StoreError> {
        let id = customer.id();
        customer.validate().map_err(|source| StoreError::InvalidData { id, source })?;
        self.insert_batch(std::slice::from_ref(&customer))?;
        Ok(1)
    }

    fn insert_many(&self, customers: Vec<Customer>) -> Result<usize, StoreError> {
        check_batch(&customers)?;
        if !customers.is_empty() {
            self.insert_batch(&customers)?;
        }
        Ok(customers.len())
    }

    fn get(&self, id: CustomerId) -> Result<Customer, StoreError> {
        self.with_conn(|conn| {
            let statement = conn.statement(GET_CUSTOMER)?;
            let row = conn.client.query_opt(&statement, &[&to_sql_id(id)]).map_err(db)?;
            decode_row(&row.ok_or(StoreError::NotFound(id))?)
        })
    }

    fn update(&self, change: Change) -> Result<u64, StoreError> {
        let expected = change.expected_version();
        let (mut customer, purchases, transitions) = change.into_parts();
        let id = customer.id();
        let sql_id = to_sql_id(id);
        let (purchase_arrays, transition_arrays) =
            (PurchaseArrays::of(&purchases)?, TransitionArrays::of(&transitions)?);
        self.with_conn(|conn| {
            let lock = conn.statement(LOCK_CUSTOMER)?;
            let purchases_of = conn.statement(PURCHASES_OF)?;
            let update = conn.statement(update_sql())?;
            let replace = TagStatements::prepare(conn)?;
            let mut tx = conn.client.transaction().map_err(db)?;
            let row = tx.query_opt(&lock, &[&sql_id]).map_err(db)?.ok_or(StoreError::NotFound(id))?;
            let (version, data): (i64, String) = (row.try_get(0).map_err(db)?, row.try_get(1).map_err(db)?);
            let stored_purchases = tx
                .query(&purchases_of, &[&sql_id])
                .map_err(db)?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<Vec<String>, _>>()
                .map_err(db)?;
            let stored = decode(version, &data, &stored_purchases)?;
            let found = stored.version();
            if found != expected {
                return Err(StoreError::Conflict { id, expected, found });
            }
            check_change(&stored, &customer, &purchases, &transitions)?;
            let version = found + 1;
            customer.set_version(version);
            let row = CustomerRow::of(&customer)?;
            let found_sql = to_sql_version(found)?;
            let mut params: Vec<&(dyn ToSql + Sync)> = row.values().iter().map(param).collect();
            params.push(&found_sql);
            params.extend(purchase_arrays.params());
            params.extend(transition_arrays.params());
            // The row is locked since it was read, so the version cannot have moved.
            let written: i64 = tx.query_one(&update, &params).and_then(|r| r.try_get(0)).map_err(db)?;
            if written != 1 {
                return Err(backend("the customer row changed while locked"));
            }
            // Most writes (events, purchases) leave tags and attributes as they were.
            if tags_or_attributes_changed(&stored, &customer) {
                replace.run(&mut tx, sql_id, &row)?;
            }
            tx.commit().map_err(db)?;
            Ok(version)
        })
    }

    fn history(&self, id: CustomerId) -> Result<Vec<Transition>, StoreError> {
        self.with_conn(|conn| {
            let statement = conn.statement(HISTORY)?;
            let row = conn.client.query_opt(&statement, &[&to_sql_id(id)]).map_err(db)?;
            let data: Vec<String> = row.ok_or(StoreError::NotFound(id))?.try_get(0).map_err(db)?;
            data.iter().map(|t| decode_transition(t)).collect()
        })
    }

    fn count(&self) -> Result<usize, StoreError> {
        self.with_conn(|conn| {
            let n: i64 = conn
                .client
                .query_one("SELECT COUNT(*) FROM customers", &[])
                .and_then(|row| row.try_get(0))
                .map_err(db)?;
            usize::try_from(n).map_err(backend)
        })
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
        self.with_conn(|conn| {
            let statement = conn.statement(SCAN)?;
            let rows = conn.client.query(&statement, &[&from, &limit]).map_err(db)?;
            rows.iter().map(decode_row).collect()
        })
    }

    /// Runs the segment in PostgreSQL (see [`Segment::to_sql`]): the rows its SQL form
    /// selects, and, where some of it stays in Rust, those rows checked in Rust too. Customers
    /// with instants SQL cannot hold exactly (`rust_only`) are always checked in Rust. Both
    /// parts read one snapshot (a repeatable-read, read-only transaction). The answer is the
    /// same as the scan-and-evaluate default's.
    fn query(&self, segment: &Segment, as_of: DateTime<Utc>) -> Result<Vec<CustomerId>, StoreError> {
        let filter = segment.to_sql(Dialect::Postgres, as_of);
        let exact = filter.is_exact();
        let (fragment, params) = filter.into_parts();
        let params = params.iter().map(bind_param).collect::<Result<Vec<_>, StoreError>>()?;
        let matcher = segment.at(as_of);
        self.with_conn(|conn| {
            let mut tx = conn
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .map_err(db)?;
            // Decided in SQL: the ordinary rows of an exact filter. Checked in Rust: the rest,
            // read whole and streamed.
            let (mut members, to_check) = if exact {
                let decided = tx
                    .query(&format!("SELECT c.id FROM customers c WHERE c.rust_only = 0 AND ({fragment})"), &params)
                    .map_err(db)?
                    .iter()
                    .map(|row| row.try_get(0).map(from_sql_id))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db)?;
                (decided, ("c.rust_only = 1".to_owned(), Vec::new()))
            } else {
                (Vec::new(), (format!("c.rust_only = 1 OR ({fragment})"), params))
            };
            let (condition, params) = to_check;
            let sql = format!("SELECT {CUSTOMER_WITH_PURCHASES} FROM customers c WHERE {condition}");
            let mut rows = tx.query_raw(&sql, params).map_err(db)?;
            while let Some(row) = rows.next().map_err(db)? {
                let customer = decode_row(&row)?;
                if matcher.matches(&customer) {
                    members.push(customer.id());
                }
            }
            drop(rows);
            tx.commit().map_err(db)?;
            members.sort_unstable();
            Ok(members)
        })
    }

    fn erase(&self, id: CustomerId) -> Result<(), StoreError> {
        self.with_conn(|conn| {
            // One statement, so one transaction: purchases, transitions, tags and attributes go
            // with the customer (ON DELETE CASCADE), or nothing goes.
            let deleted = conn.client.execute("DELETE FROM customers WHERE id = $1", &[&to_sql_id(id)]).map_err(db)?;
            if deleted == 0 {
                return Err(StoreError::NotFound(id));
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_version_matches_the_migrations() {
        assert_eq!(usize::try_from(PostgresStore::SCHEMA_VERSION).ok(), Some(MIGRATIONS.len()));
    }

    /// The tables of a schema file: for each `CREATE TABLE`, its name and its columns' names,
    /// and the names of the indexes.
    fn layout(sql: &str) -> (Vec<(String, Vec<String>)>, Vec<String>) {
        let (mut tables, mut indexes) = (Vec::<(String, Vec<String>)>::new(), Vec::new());
        let mut open = false;
        let first_word = |text: &str| text.split_whitespace().next().unwrap_or_default().to_owned();
        for line in sql.lines().map(str::trim) {
            if line.is_empty() || line.starts_with("--") {
            } else if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                tables.push((first_word(rest), Vec::new()));
                open = true;
            } else if let Some(rest) = line.strip_prefix("CREATE INDEX ") {
                indexes.push(first_word(rest));
            } else if line.starts_with(')') {
                open = false;
            } else if open && !line.starts_with("PRIMARY KEY") {
                if let Some((_, columns)) = tables.last_mut() {
                    columns.push(first_word(line));
                }
            }
        }
        (tables, indexes)
    }

    /// The PostgreSQL schema mirrors the SQLite one: same tables, same columns in the same
    /// order, same indexes; and `customers` has the columns the shared row code writes.
    #[test]
    fn schema_mirrors_sqlite() {
        let sqlite = layout(include_str!("sqlite/migrations/0001_initial.sql"));
        let postgres = layout(include_str!("postgres/migrations/0001_initial.sql"));
        assert_eq!(postgres, sqlite);
        let names: Vec<&str> = postgres.0.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["customers", "purchases", "transitions", "tags", "attributes"]);
        assert_eq!(postgres.0[0].1, CUSTOMER_COLUMNS);
        // The update statement takes the id as its first parameter.
        assert_eq!(CUSTOMER_COLUMNS[0], "id");
    }
}
