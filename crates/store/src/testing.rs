//! Test support (feature `testing`): scratch PostgreSQL schemas, so that PG
//! tests run in parallel and leave nothing behind, a helper that runs a
//! test body on each backend, and for concurrent writers the runs a store
//! holds, a short busy timeout and another process's write lock.
//!
//! The server is `WARD_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it is unreachable the PG
//! variants are skipped with a message on stderr, unless
//! `WARD_REQUIRE_SERVICES=1`, where they fail.

use crate::Store;
use std::sync::atomic::{AtomicU64, Ordering};

/// The PostgreSQL server tests use.
pub fn postgres_url() -> String {
    std::env::var("WARD_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Whether missing services must fail tests instead of skipping them.
pub fn services_required() -> bool {
    std::env::var("WARD_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// A fresh schema on the test server, dropped (with everything in it) on drop.
pub struct ScratchDb {
    /// URL whose connections use the schema (`options=-c search_path=...`).
    pub url: String,
    /// Schema name.
    pub schema: String,
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl ScratchDb {
    /// A new scratch schema; `None` (after printing why) when the server is
    /// unreachable and services are not required.
    ///
    /// # Panics
    /// When the server is unreachable and `WARD_REQUIRE_SERVICES=1`.
    pub fn new(test: &str) -> Option<ScratchDb> {
        let base = postgres_url();
        let mut client = match postgres::Client::connect(&base, postgres::NoTls) {
            Ok(c) => c,
            Err(e) => {
                if services_required() {
                    panic!("PostgreSQL at {base} unreachable and WARD_REQUIRE_SERVICES=1: {e}");
                }
                eprintln!("skipping PostgreSQL variant of {test}: {base} unreachable ({e})");
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let schema = format!(
            "ward_t{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        if let Err(e) = client.batch_execute(&format!("CREATE SCHEMA {schema}")) {
            panic!("cannot create schema on {base}: {e}");
        }
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(ScratchDb {
            url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
            schema,
        })
    }

    /// Opens a store on the schema.
    ///
    /// # Panics
    /// When it cannot (a test failure).
    pub fn store(&self) -> Store {
        Store::open_postgres_with_key_file(&self.url, &self.key_file())
            .unwrap_or_else(|e| panic!("cannot open PostgreSQL store: {e}"))
    }

    /// The schema's TOTP secret key file (in the temporary directory,
    /// removed on drop).
    pub fn key_file(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{}.key", self.schema))
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.key_file());
        if let Ok(mut c) = postgres::Client::connect(&postgres_url(), postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

/// Runs `body` on a fresh in-memory SQLite store, then on a fresh
/// PostgreSQL store (skipped as described in the module doc).
pub fn each_backend(test: &str, body: impl Fn(Store)) {
    body(Store::open_in_memory().unwrap_or_else(|e| panic!("cannot open SQLite store: {e}")));
    if let Some(db) = ScratchDb::new(test) {
        body(db.store());
    }
}

/// The inputs each stored run named, oldest first: whose runs a store holds
/// (an analysis names its capture files, a live run its interface), to count
/// them after several processes wrote at once.
///
/// # Panics
/// When the store cannot be read (a test failure).
pub fn run_inputs(store: &Store) -> Vec<Vec<String>> {
    store
        .conn()
        .query("SELECT inputs FROM runs ORDER BY id", &[])
        .and_then(|rows| rows.iter().map(|r| r.str(0)).collect::<Result<Vec<_>, _>>())
        .expect("runs readable")
        .iter()
        .map(|s| serde_json::from_str(s).expect("inputs are a JSON array"))
        .collect()
}

/// Sets how long a SQLite store waits for another writer before its write
/// fails as busy ([`crate::Error::is_busy`]); tests of the busy path use a
/// short one instead of the two minutes stores wait.
///
/// # Panics
/// On a PostgreSQL store.
pub fn set_busy_timeout(store: &Store, timeout: std::time::Duration) {
    match &*store.conn() {
        crate::db::Conn::Sqlite(c) => c.busy_timeout(timeout).expect("busy timeout set"),
        crate::db::Conn::Postgres(_) => panic!("set_busy_timeout is for SQLite stores"),
    }
}

/// Another process's write transaction on a SQLite database: the write lock
/// is held (`BEGIN IMMEDIATE` on a connection of its own) until dropped.
pub struct WriteLock(rusqlite::Connection);

/// Takes the write lock of the SQLite database at `path`.
///
/// # Panics
/// When it cannot (a test failure).
pub fn hold_write_lock(path: &std::path::Path) -> WriteLock {
    let c = rusqlite::Connection::open(path).expect("database opens");
    c.execute_batch("BEGIN IMMEDIATE")
        .expect("write lock taken");
    WriteLock(c)
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

/// A small deterministic generator for tests (xorshift; the seed must not be 0).
pub struct Rng(pub u64);

impl Rng {
    /// The next number below `n` (`n` > 0).
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A site's stored devices: (key, document), in key order.
#[cfg(test)]
pub(crate) fn stored_docs(s: &Store, site: &str) -> Vec<(String, String)> {
    s.conn()
        .query(
            "SELECT key, doc FROM devices WHERE site = ?1 ORDER BY key",
            crate::db::params![site],
        )
        .unwrap()
        .iter()
        .map(|r| (r.str(0).unwrap(), r.str(1).unwrap()))
        .collect()
}

/// The devices a full rebuild of a site gives from its facts read back, as
/// [`stored_docs`] lists them.
#[cfg(test)]
pub(crate) fn rebuilt_docs(s: &Store, site: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        identify::build_inventory_owned(s.site_facts(site).unwrap())
            .iter()
            .map(|d| {
                let k = crate::site_key(site, &d.key);
                let doc = serde_json::to_string(&crate::DeviceDoc(d, &k)).unwrap();
                (k, doc)
            })
            .collect();
    out.sort();
    out
}
