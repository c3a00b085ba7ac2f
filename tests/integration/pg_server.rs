//! A throwaway PostgreSQL server for the tests: one per test process, started on first use on
//! a temporary directory and a free loopback port, with a fresh database for every store a
//! test makes, and stopped and removed when the process ends.
//!
//! The server binaries (`initdb`, `pg_ctl`, `postgres`) are looked up on `PATH`, then in the
//! newest `/usr/lib/postgresql/<version>/bin` (Debian's layout). Without them every PostgreSQL
//! test is skipped with a message, unless `CLIENTELE_REQUIRE_PG=1`, which turns a missing or
//! failing server into a test failure (CI sets it).
//!
//! `initdb` refuses to run as root, so as root the directory is given to the `postgres` user
//! (which Debian's package creates) and the binaries run through `runuser -u postgres --`.
//!
//! Statics are never dropped, so the process cannot stop the server when it ends; a guardian
//! does: a small shell started first, whose standard input is a pipe from this process. When
//! this process exits, however it exits, the pipe closes, and the guardian stops the server
//! (`pg_ctl stop -m immediate`) and removes the directory.

#![cfg(feature = "postgres")]

use std::{
    env,
    ffi::OsString,
    io::Write,
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::{ChildStdin, Command, Output, Stdio},
    sync::{
        Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use chrono::{DateTime, Utc};
use clientele::{Change, Customer, CustomerId, PostgresStore, Store, StoreError, Transition, segment::Segment};
use postgres::{Client, NoTls};

/// Set to `1` to make a missing or failing server a test failure instead of a skip.
const REQUIRE_VAR: &str = "CLIENTELE_REQUIRE_PG";

const NOT_FOUND: &str = "PostgreSQL server binaries not found (initdb/pg_ctl)";

const NOT_FOUND_HELP: &str = "install Debian's postgresql package or set CLIENTELE_REQUIRE_PG=1 to fail instead";

/// The running server.
pub struct Server {
    port: u16,
    /// A connection to the `postgres` database, to create the test databases.
    admin: Mutex<Client>,
    /// The write end of the guardian's standard input: closed only when the process exits.
    _guardian: ChildStdin,
}

/// Why there is no server.
#[derive(Debug)]
enum Unavailable {
    /// The binaries are not installed.
    Absent,
    /// They are, but the server did not start.
    Failed(String),
}

impl Server {
    /// The connection string of database `db` on this server.
    pub fn conn_str(&self, db: &str) -> String {
        format!("host=127.0.0.1 port={} user=postgres dbname={db}", self.port)
    }

    /// A new, empty database; returns its connection string.
    pub fn fresh_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let db = format!("t_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let mut admin = self.admin.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        admin.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
        self.conn_str(&db)
    }
}

/// The server, started on first use; `None` (after printing why) if the tests should skip.
///
/// # Panics
///
/// If the server is missing or failed to start and `CLIENTELE_REQUIRE_PG=1`.
pub fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Result<Server, Unavailable>> = OnceLock::new();
    static SAID: OnceLock<()> = OnceLock::new();
    let why = match SERVER.get_or_init(start) {
        Ok(server) => return Some(server),
        Err(why) => why,
    };
    if env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
        match why {
            Unavailable::Absent => panic!(
                "{REQUIRE_VAR}=1 but {NOT_FOUND} on PATH or in /usr/lib/postgresql/*/bin: install Debian's \
                 postgresql package"
            ),
            Unavailable::Failed(e) => panic!("{REQUIRE_VAR}=1 but the PostgreSQL test server did not start: {e}"),
        }
    }
    let message = match why {
        Unavailable::Absent => format!("skipped: {NOT_FOUND}; {NOT_FOUND_HELP}"),
        Unavailable::Failed(e) => format!("skipped: the PostgreSQL test server did not start: {e}"),
    };
    // Once on the real standard error, where `cargo test` shows it, and in every test's output.
    SAID.get_or_init(|| {
        let _ = writeln!(std::io::stderr(), "{message}");
    });
    eprintln!("{message}");
    None
}

/// A connection string to a new, empty database, or `None` to skip.
pub fn fresh_database() -> Option<String> {
    server().map(Server::fresh_database)
}

/// A store on an empty database, or `None` to skip: a database a finished test's store was
/// on, emptied (`TRUNCATE`), if one is free, else a new one. Creating and migrating a database
/// takes a hundred milliseconds or more, emptying one a few; tests that change the schema or
/// need a database nothing has touched use [`fresh_database`].
pub fn fresh_store() -> Option<TestStore> {
    let server = server()?;
    let recycled = FREE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
    let (store, raw) = match recycled {
        Some((store, raw)) => {
            raw.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .batch_execute("TRUNCATE customers, purchases, transitions, tags, attributes")
                .unwrap();
            (store, raw)
        }
        None => {
            let conn_str = server.fresh_database();
            (PostgresStore::connect(&conn_str).unwrap(), Mutex::new(raw_client(&conn_str)))
        }
    };
    Some(TestStore { parts: Some((store, raw)) })
}

/// The stores of finished tests, with a plain client on their databases.
static FREE: Mutex<Vec<(PostgresStore, Mutex<Client>)>> = Mutex::new(Vec::new());

/// A [`PostgresStore`] on a database of its own while it lives; its database is reused by a
/// later [`fresh_store`] after it is dropped.
pub struct TestStore {
    parts: Option<(PostgresStore, Mutex<Client>)>,
}

impl TestStore {
    fn store(&self) -> &PostgresStore {
        &self.parts.as_ref().expect("present until dropped").0
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(parts) = self.parts.take() {
            FREE.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(parts);
        }
    }
}

impl Store for TestStore {
    fn insert(&self, customer: Customer) -> Result<u64, StoreError> {
        self.store().insert(customer)
    }
    fn insert_many(&self, customers: Vec<Customer>) -> Result<usize, StoreError> {
        self.store().insert_many(customers)
    }
    fn get(&self, id: CustomerId) -> Result<Customer, StoreError> {
        self.store().get(id)
    }
    fn update(&self, change: Change) -> Result<u64, StoreError> {
        self.store().update(change)
    }
    fn history(&self, id: CustomerId) -> Result<Vec<Transition>, StoreError> {
        self.store().history(id)
    }
    fn count(&self) -> Result<usize, StoreError> {
        self.store().count()
    }
    fn scan(&self, after: Option<CustomerId>, limit: usize) -> Result<Vec<Customer>, StoreError> {
        self.store().scan(after, limit)
    }
    fn erase(&self, id: CustomerId) -> Result<(), StoreError> {
        self.store().erase(id)
    }
    fn query(&self, segment: &Segment, as_of: DateTime<Utc>) -> Result<Vec<CustomerId>, StoreError> {
        self.store().query(segment, as_of)
    }
}

/// A plain client on the database, for looking under the store.
pub fn raw_client(conn_str: &str) -> Client {
    Client::connect(conn_str, NoTls).unwrap()
}

/// Where the server binaries are: the `PATH` directory holding `initdb` and `pg_ctl`, else the
/// newest `/usr/lib/postgresql/*/bin` that holds them.
fn bin_dir() -> Option<PathBuf> {
    let has_binaries = |dir: &Path| ["initdb", "pg_ctl", "postgres"].iter().all(|b| dir.join(b).is_file());
    if let Some(path) = env::var_os("PATH") {
        if let Some(dir) = env::split_paths(&path).find(|dir| has_binaries(dir)) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_binaries(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// The command to run `program` as the server's owner: itself, or through `runuser` as root.
fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Runs a command to completion; its output on success, or a message with its error output.
fn run(what: &str, command: &mut Command) -> Result<Output, String> {
    let out = command.stdin(Stdio::null()).output().map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn start() -> Result<Server, Unavailable> {
    let bin = bin_dir().ok_or(Unavailable::Absent)?;
    start_in(&bin).map_err(Unavailable::Failed)
}

fn start_in(bin: &Path) -> Result<Server, String> {
    let as_postgres = is_root();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = env::temp_dir().join(format!("clientele-pg-{}-{nanos}", std::process::id()));
    let (data, sockets, log) = (dir.join("data"), dir.join("sockets"), dir.join("server.log"));
    std::fs::create_dir_all(&sockets).map_err(|e| format!("cannot create {}: {e}", sockets.display()))?;

    // The guardian first, so that whatever happens next is cleaned up.
    let mut guardian = Command::new("sh");
    guardian
        .arg("-c")
        .arg(r#"read _; "$@" stop -D "$CLIENTELE_PG_DATA" -m immediate -w; rm -rf "$CLIENTELE_PG_DIR""#)
        .arg("guardian");
    if as_postgres {
        guardian.args(["runuser", "-u", "postgres", "--"]);
    }
    let guardian = guardian
        .arg(bin.join("pg_ctl"))
        .env("CLIENTELE_PG_DATA", &data)
        .env("CLIENTELE_PG_DIR", &dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the guardian shell: {e}"))?
        .stdin
        .ok_or("the guardian has no standard input")?;

    if as_postgres {
        run("chown", Command::new("chown").arg("-R").arg("postgres:").arg(&dir))?;
    }
    run(
        "initdb",
        command(as_postgres, &bin.join("initdb")).arg("-D").arg(&data).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ]),
    )?;

    // A free port: bound and released, so another process may take it before the server
    // does; then try again with another.
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let mut options = OsString::from(format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200 -k "
        ));
        options.push(&sockets);
        let started = run(
            "pg_ctl start",
            command(as_postgres, &bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o"])
                .arg(options)
                .arg("start"),
        );
        match started {
            Ok(_) => {
                let admin =
                    Client::connect(&format!("host=127.0.0.1 port={port} user=postgres dbname=postgres"), NoTls)
                        .map_err(|e| format!("cannot connect to the test server: {e}"))?;
                return Ok(Server { port, admin: Mutex::new(admin), _guardian: guardian });
            }
            Err(e) => {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                if !log.contains("could not bind") && !log.contains("already in use") {
                    return Err(format!("{e}\n{log}"));
                }
                last_error = e;
            }
        }
    }
    Err(last_error)
}
