//! Ward's persistent store: SQLite (embedded, the default single-box
//! backend) or PostgreSQL (the central store of a multi-site deployment),
//! behind one API ([`Store`]); see `db` for the shared SQL layer.
//!
//! What is stored: facts about endpoints (aggregated, with evidence), the
//! devices derived from them, analysis runs and anomaly counters. Never packet
//! payloads and never patient data — the records that reach the store have
//! none (see `model`).
//!
//! **Invariant:** every change is one transaction. An analysis either lands
//! whole (facts, run, anomalies, rebuilt devices) or not at all, so a failed or
//! interrupted run never loses or half-updates what was stored before.

mod accounts;
pub mod assets;
pub mod backup;
mod dashboard;
mod db;
mod feeds;
mod fresh;
mod incremental;
mod pgschema;
pub mod program;
pub mod secrets;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub use feeds::{
    DeclaredCounts, DeclaredDevice, FeedTotals, ImportCounts, ImportReport, SyncState,
};
mod users;
pub use users::{ApiTokenInfo, AuditEntry, SessionRow, User};
mod monitor;
pub use crate::monitor::{AlertFilter, Approval, IntakeEntry, SiteAlerts};
pub use dashboard::{SiteIngest, TransportStatus};
mod mud;
pub use crate::mud::{FetchedMud, MudFetch, MudLink};
pub mod lifecycle;
pub mod remediation;
pub use lifecycle::{AlertStatus, StatusAction, StatusError, StoredAlert};

use db::{params, Conn, Dialect};
use identify::{build_inventory, build_inventory_owned, Device, EndpointKey, Fact, FactKind};
use model::{MacAddr, Timestamp};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cell::RefCell;
use std::path::Path;

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database could not be opened or created.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// Path given.
        path: String,
        /// Cause.
        source: rusqlite::Error,
    },
    /// The PostgreSQL server could not be reached or refused the login.
    #[error("cannot connect to PostgreSQL {target}: {source}")]
    Connect {
        /// Host, port, database and user (never the password).
        target: String,
        /// Cause.
        source: postgres::Error,
    },
    /// The file exists but is not a Ward database (or is from a newer Ward).
    #[error("{path} is not a Ward database ({why})")]
    NotWard {
        /// Path given.
        path: String,
        /// Why.
        why: String,
    },
    /// A query failed (SQLite).
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A query failed (PostgreSQL).
    #[error("database error: {0}")]
    Pg(#[from] postgres::Error),
    /// A stored value has an unexpected type or is missing.
    #[error("unexpected stored value: {0}")]
    Value(String),
    /// A stored JSON document could not be read.
    #[error("corrupt stored document: {0}")]
    Json(#[from] serde_json::Error),
    /// A feed import contradicts what is stored (the same advisory revision
    /// with other content); nothing of the import is stored.
    #[error("{0}")]
    FeedConflict(String),
    /// An alert status change was refused (unknown id, change that does not apply, bad comment).
    #[error(transparent)]
    Status(#[from] lifecycle::StatusError),
    /// The key of the TOTP secrets at rest is missing, unreadable or not
    /// the one that sealed them (see `secrets`).
    #[error("{0}")]
    SecretKey(String),
    /// A remediation change was refused (unknown id, a change the lifecycle
    /// does not allow, a missing expiry, a bad comment).
    #[error(transparent)]
    Remediation(remediation::RemediationError),
}

/// How long a SQLite writer waits for another process's write transaction
/// (an ingest of a large capture, a live monitor's flush) before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Switches a SQLite database to WAL (readers never block the writer). The
/// switch needs a moment alone with the file: when another process holds it
/// (a concurrent first run), it is retried until the busy timeout.
fn set_wal(conn: &Connection) -> Result<(), Error> {
    let start = std::time::Instant::now();
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Ok(_) => return Ok(()),
            Err(e) if is_busy(&e) && start.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Creates `path` with mode 0600 when it does not exist; narrows an
/// existing database (and its WAL files) of ours that others may read.
fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let me = effective_uid();
                for p in [
                    path.to_path_buf(),
                    wal_companion(path, "-wal"),
                    wal_companion(path, "-shm"),
                ] {
                    if let Ok(m) = std::fs::metadata(&p) {
                        if m.is_file() && m.mode() & 0o077 != 0 && Some(m.uid()) == me {
                            std::fs::set_permissions(
                                &p,
                                std::fs::Permissions::from_mode(m.mode() & 0o700),
                            )?;
                        }
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// `path` with `suffix` appended to its file name.
fn wal_companion(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

/// This process's effective user id, without `unsafe`: the owner of
/// `/proc/self` (Linux; elsewhere unknown, and nothing is narrowed).
#[cfg(unix)]
fn effective_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl Error {
    /// Whether this is SQLite's "database is locked" after the busy timeout:
    /// another process held the write lock too long. Nothing was changed;
    /// the same call may be retried later.
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Sql(e) | Error::Open { source: e, .. } => is_busy(e),
            _ => false,
        }
    }
}

/// Schema version written to `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 16;

/// The schema [`MIGRATIONS`] build, as SQLite stores it (`sqlite_master`),
/// created in one batch on a new file: applying fourteen migrations one by
/// one re-reads the whole schema after every statement that changes it,
/// which was the largest part of a short `ward analyze`. Generated by the
/// test `fresh_schema_is_the_migrated_schema` (`WARD_UPDATE_SCHEMA=1`),
/// which also fails when it differs from what the migrations make.
const FRESH_SCHEMA: &str = include_str!("schema_sqlite.sql");

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE runs(
    id INTEGER PRIMARY KEY,
    inputs TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    flows INTEGER NOT NULL,
    events INTEGER NOT NULL,
    first_packet INTEGER,
    last_packet INTEGER,
    stats TEXT NOT NULL
);
CREATE TABLE facts(
    mac TEXT NOT NULL,
    ip TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    count INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (mac, ip, kind, value)
) WITHOUT ROWID;
CREATE TABLE devices(
    key TEXT PRIMARY KEY,
    mac TEXT,
    vendor TEXT,
    category TEXT NOT NULL,
    confidence REAL NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE anomalies(
    name TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
"#,
    feeds::MIGRATION,
    feeds::SYNC_MIGRATION,
    users::MIGRATION,
    SITES_MIGRATION,
    accounts::MIGRATION,
    crate::monitor::MIGRATION,
    crate::mud::MIGRATION,
    lifecycle::MIGRATION,
    incremental::MIGRATION,
    feeds::DECLARED_MIGRATION,
    feeds::BACKUP_PLAN_MIGRATION,
    feeds::RISK_FEEDS_MIGRATION,
    backup::MIGRATION,
    remediation::MIGRATION,
    program::MIGRATION,
];

/// Migration 5: sites (multi-site deployments; '' on a single box) and the
/// ids of ingested transport messages (idempotent ingest).
const SITES_MIGRATION: &str = r#"
CREATE TABLE facts5(
    site TEXT NOT NULL DEFAULT '',
    mac TEXT NOT NULL,
    ip TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    count INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (site, mac, ip, kind, value)
) WITHOUT ROWID;
INSERT INTO facts5 SELECT '', mac, ip, kind, value, source, first_seen, last_seen, count, evidence FROM facts;
DROP TABLE facts;
ALTER TABLE facts5 RENAME TO facts;
CREATE TABLE anomalies5(
    site TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (site, name)
) WITHOUT ROWID;
INSERT INTO anomalies5 SELECT '', name, count FROM anomalies;
DROP TABLE anomalies;
ALTER TABLE anomalies5 RENAME TO anomalies;
ALTER TABLE devices ADD COLUMN site TEXT NOT NULL DEFAULT '';
CREATE INDEX devices_site ON devices(site, key);
ALTER TABLE runs ADD COLUMN site TEXT NOT NULL DEFAULT '';
CREATE TABLE sites(
    site TEXT PRIMARY KEY,
    dirty INTEGER NOT NULL
);
CREATE TABLE ingested(
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    at INTEGER NOT NULL
);
"#;

/// Summary of one analysis run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Input files or interface.
    pub inputs: Vec<String>,
    /// Packets read.
    pub packets: u64,
    /// Bytes of input read.
    pub bytes: u64,
    /// Flows tracked.
    pub flows: u64,
    /// Records produced.
    pub events: u64,
    /// Earliest packet time.
    pub first_packet: Option<Timestamp>,
    /// Latest packet time.
    pub last_packet: Option<Timestamp>,
    /// Other counters (evictions, drops...).
    pub stats: Vec<(String, u64)>,
}

/// One unit of transported observations (a sensor's message): facts,
/// anomaly counters and optionally a run summary, for one site, under an id
/// that is stored on ingest so that a redelivered message changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Idempotency id (unique per message, stable across redeliveries).
    pub id: String,
    /// Site name (`[A-Za-z0-9_-]`, 1-64 chars).
    pub site: String,
    /// The run this message completes, if it is the run's last message.
    pub run: Option<RunSummary>,
    /// Facts observed.
    pub facts: Vec<Fact>,
    /// Anomaly counters.
    pub anomalies: Vec<(String, u64)>,
}

/// What [`Store::ingest_run`] stored.
#[derive(Debug, Clone, Default)]
pub struct Ingested {
    /// The devices the run saw (those holding a fact of one of its
    /// endpoints), rebuilt with all of their stored facts, sorted by key.
    pub devices: Vec<Device>,
    /// Devices in the inventory afterwards.
    pub inventory: u64,
}

/// What [`Store::ingest_observations`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestOutcome {
    /// Messages stored for the first time.
    pub new: u64,
    /// Messages already stored before (redeliveries), skipped.
    pub duplicate: u64,
    /// Facts merged from the new messages.
    pub facts: u64,
}

/// Whether a site name is acceptable: 1-64 of `[A-Za-z0-9_-]` (it becomes a
/// NATS subject token and a device-key prefix).
pub fn valid_site(site: &str) -> bool {
    (1..=64).contains(&site.len())
        && site
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The store: SQLite (embedded, single box) or PostgreSQL (central,
/// multi-site), behind one API.
pub struct Store {
    conn: RefCell<Conn>,
    /// The key of the TOTP secrets at rest (loaded on first use).
    secrets: RefCell<users::Secrets>,
}

/// SQLite's fact upsert, one `VALUES` row (repeated per statement by
/// [`sqlite_insert_rows`]). Qualified column names in `DO UPDATE`.
const FACTS_UPSERT_SQL: &str =
    "INSERT INTO facts(site, mac, ip, kind, value, source, first_seen, last_seen, count, evidence)
     VALUES (?,?,?,?,?,?,?,?,?,?)
     ON CONFLICT(site, mac, ip, kind, value) DO UPDATE SET
       count = facts.count + excluded.count,
       first_seen = CASE WHEN excluded.first_seen < facts.first_seen THEN excluded.first_seen ELSE facts.first_seen END,
       last_seen = CASE WHEN excluded.last_seen > facts.last_seen THEN excluded.last_seen ELSE facts.last_seen END,
       source = CASE WHEN (excluded.first_seen, excluded.evidence, excluded.source) < (facts.first_seen, facts.evidence, facts.source)
                THEN excluded.source ELSE facts.source END,
       evidence = CASE WHEN (excluded.first_seen, excluded.evidence, excluded.source) < (facts.first_seen, facts.evidence, facts.source)
                THEN excluded.evidence ELSE facts.evidence END";

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
    ///
    /// The file (and its `-wal`/`-shm` companions, which SQLite creates with
    /// the database's mode) is readable by its owner only: it holds account
    /// secrets. A database created readable by others is narrowed to 0600.
    pub fn open(path: &Path) -> Result<Store, Error> {
        let p = path.display().to_string();
        private_file(path).map_err(|e| Error::Open {
            path: p.clone(),
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(e.to_string()),
            ),
        })?;
        let conn = Connection::open(path).map_err(|source| Error::Open {
            path: p.clone(),
            source,
        })?;
        Self::init(conn, &p, secrets::KeySource::beside(path))
    }

    /// Opens a store by location: a `postgres://` or `postgresql://` URL is a
    /// PostgreSQL database, anything else a SQLite file path.
    pub fn open_url(location: &str) -> Result<Store, Error> {
        if is_postgres_url(location) {
            Self::open_postgres(location)
        } else {
            Self::open(Path::new(location))
        }
    }

    /// Opens a PostgreSQL store (`postgres://user@host:port/db`, libpq-style
    /// parameters such as `options=-c search_path=NAME` accepted) and brings
    /// its schema up to date.
    pub fn open_postgres(url: &str) -> Result<Store, Error> {
        Self::open_postgres_keyed(url, secrets::KeySource::postgres())
    }

    /// [`Store::open_postgres`] with the TOTP secret key in `key_file`
    /// (instead of `$WARD_KEY_FILE` or `ward-state/totp.key`).
    pub fn open_postgres_with_key_file(url: &str, key_file: &Path) -> Result<Store, Error> {
        Self::open_postgres_keyed(url, secrets::KeySource::File(key_file.to_path_buf()))
    }

    fn open_postgres_keyed(url: &str, key: secrets::KeySource) -> Result<Store, Error> {
        let config: postgres::Config = url.parse().map_err(|source| Error::Connect {
            target: "(unparsable URL)".into(),
            source,
        })?;
        let target = pg_target(&config);
        let client = config
            .connect(postgres::NoTls)
            .map_err(|source| Error::Connect {
                target: target.clone(),
                source,
            })?;
        let mut conn = Conn::Postgres(Box::new(db::Pg::new(client)));
        pgschema::migrate(&mut conn, &target)?;
        let store = Store {
            conn: RefCell::new(conn),
            secrets: RefCell::new(users::Secrets::new(key)),
        };
        store.seal_plaintext_secrets()?;
        Ok(store)
    }

    /// An in-memory store (tests).
    pub fn open_in_memory() -> Result<Store, Error> {
        let conn = Connection::open_in_memory().map_err(|source| Error::Open {
            path: ":memory:".into(),
            source,
        })?;
        Self::init(conn, ":memory:", secrets::KeySource::Ephemeral)
    }

    /// Which backend this store uses: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.conn.borrow().dialect() {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    fn init(conn: Connection, path: &str, key: secrets::KeySource) -> Result<Store, Error> {
        let not_ward = |why: String| Error::NotWard {
            path: path.to_string(),
            why,
        };
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Version and tables in one statement: one snapshot, so a first run
        // of another process committing in between cannot make a fresh file
        // look like a foreign one.
        let probe = |conn: &Connection| -> Result<(i64, i64), Error> {
            match conn.query_row(
                "SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ) {
                Ok(v) => Ok(v),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    Err(not_ward("not an SQLite file".into()))
                }
                Err(e) => Err(e.into()),
            }
        };
        let check = |(version, tables): (i64, i64)| {
            if version > SCHEMA_VERSION {
                return Err(not_ward(format!(
                    "schema version {version} is newer than this Ward ({SCHEMA_VERSION})"
                )));
            }
            if version == 0 && tables > 0 {
                return Err(not_ward("it has tables but no Ward schema version".into()));
            }
            Ok(version)
        };
        check(probe(&conn)?)?;
        set_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Concurrent first runs: the write lock is taken first and the
        // version read again under it, so they migrate one after the other.
        let mut conn = conn;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version = check(probe(&tx)?)?;
        if version == 0 {
            tx.execute_batch(FRESH_SCHEMA)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        let version = check(probe(&tx)?)?;
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(m)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        tx.commit()?;
        let store = Store {
            conn: RefCell::new(Conn::Sqlite(conn)),
            secrets: RefCell::new(users::Secrets::new(key)),
        };
        store.seal_plaintext_secrets()?;
        Ok(store)
    }

    fn conn(&self) -> std::cell::RefMut<'_, Conn> {
        self.conn.borrow_mut()
    }

    /// Adds one run's facts, anomaly counters and summary, then rebuilds the
    /// device inventory from all stored facts. One transaction. (Single box:
    /// site `''`.)
    pub fn ingest(
        &mut self,
        run: &RunSummary,
        facts: &[Fact],
        anomalies: &[(String, u64)],
    ) -> Result<Vec<Device>, Error> {
        self.ingest_facts(run, Cow::Borrowed(facts), anomalies)
    }

    /// [`Store::ingest`] of facts the caller no longer needs: the devices
    /// returned take them instead of copies.
    pub fn ingest_owned(
        &mut self,
        run: &RunSummary,
        facts: Vec<Fact>,
        anomalies: &[(String, u64)],
    ) -> Result<Vec<Device>, Error> {
        self.ingest_facts(run, Cow::Owned(facts), anomalies)
    }

    fn ingest_facts(
        &mut self,
        run: &RunSummary,
        facts: Cow<'_, [Fact]>,
        anomalies: &[(String, u64)],
    ) -> Result<Vec<Device>, Error> {
        self.conn.get_mut().transaction(|c| {
            // The site's row first (see `ingest_run`): concurrent runs on
            // PostgreSQL take turns, so only one of them finds a fresh store.
            incremental::mark_site(c, "")?;
            // A fresh store holds exactly this run's facts afterwards: the
            // inventory is built from them directly instead of reading them back.
            let had_facts = has_facts(c, "")?;
            upsert_facts(c, "", &facts)?;
            add_anomalies(c, "", anomalies)?;
            add_run(c, "", run)?;
            let devices = match facts {
                _ if had_facts => build_inventory_owned(load_facts(c, Some(""))?),
                Cow::Borrowed(facts) => build_inventory(facts),
                Cow::Owned(facts) => build_inventory_owned(facts),
            };
            store_devices(c, "", &devices)?;
            incremental::mark_current(c, "")?;
            Ok(devices)
        })
    }

    /// Adds one run's facts, anomaly counters and summary (single box: site
    /// `''`) and brings the inventory up to date by rebuilding only the
    /// devices the new facts can change (see [`incremental`]): unlike
    /// [`Store::ingest_owned`], the cost does not grow with the inventory
    /// when the run is small against it. One transaction. Returns the
    /// devices this run saw, each with all of its stored facts.
    pub fn ingest_run(
        &mut self,
        run: &RunSummary,
        facts: Vec<Fact>,
        anomalies: &[(String, u64)],
    ) -> Result<Ingested, Error> {
        self.conn.get_mut().transaction(|c| {
            let seen: std::collections::BTreeSet<EndpointKey> =
                facts.iter().map(|f| f.endpoint).collect();
            // The site's row first: on PostgreSQL a concurrent run waits here
            // until this one commits, so only one of them finds a fresh store.
            let full = incremental::mark_site(c, "")?;
            let fresh = !has_facts(c, "")?;
            upsert_facts(c, "", &facts)?;
            let (devices, inventory) = if fresh {
                // A fresh store: every device is this run's, built from its facts.
                let all = build_inventory_owned(facts);
                store_devices(c, "", &all)?;
                incremental::mark_current(c, "")?;
                let n = all.len();
                (all, n)
            } else {
                if !full {
                    incremental::record_endpoints(c, "", &facts)?;
                }
                drop(facts);
                let rebuilt = incremental::rebuild_site(c, "", incremental::Mode::Auto)?;
                let inventory = match rebuilt.inventory {
                    Some(n) => n,
                    None => incremental::device_count(c, "")?,
                };
                let mut devices = rebuilt.devices;
                devices.retain(|d| d.facts.iter().any(|f| seen.contains(&f.endpoint)));
                devices.sort_by(|a, b| a.key.cmp(&b.key));
                (devices, inventory)
            };
            add_anomalies(c, "", anomalies)?;
            add_run(c, "", run)?;
            Ok(Ingested {
                devices,
                inventory: inventory as u64,
            })
        })
    }

    /// Ingests transported observations in one transaction: each message id
    /// is recorded, and a message whose id is already stored is skipped, so a
    /// redelivered message never counts twice. The sites touched are marked
    /// for [`Store::rebuild_dirty_sites`] in the same transaction.
    pub fn ingest_observations(
        &mut self,
        batch: &[Observation],
        now: i64,
    ) -> Result<IngestOutcome, Error> {
        for o in batch {
            if !valid_site(&o.site) {
                return Err(Error::Value(format!(
                    "invalid site name {:?}",
                    o.site.chars().take(70).collect::<String>()
                )));
            }
        }
        self.conn.get_mut().transaction(|c| {
            let mut out = IngestOutcome::default();
            let mut fresh: Vec<&Observation> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for o in batch {
                // Also a duplicate within one batch.
                if !seen.insert(o.id.as_str()) {
                    out.duplicate += 1;
                    continue;
                }
                let n = c.execute("INSERT INTO ingested(id, site, at) VALUES (?1, ?2, ?3) ON CONFLICT(id) DO NOTHING", params![&o.id, &o.site, now])?;
                if n == 1 {
                    out.new += 1;
                    fresh.push(o);
                } else {
                    out.duplicate += 1;
                }
            }
            let mut sites: Vec<&str> = fresh.iter().map(|o| o.site.as_str()).collect();
            sites.sort_unstable();
            sites.dedup();
            for site in sites {
                let of_site: Vec<&&Observation> = fresh.iter().filter(|o| o.site == site).collect();
                let facts: Vec<Fact> = of_site.iter().flat_map(|o| o.facts.iter().cloned()).collect();
                out.facts += facts.len() as u64;
                // The site's row first: a concurrent rebuild waits for this commit.
                fresh::check(c, site)?;
                let full = incremental::mark_site(c, site)?;
                let first = upsert_facts(c, site, &facts)?;
                // A full rebuild reads every endpoint anyway.
                if !full {
                    incremental::record_endpoints(c, site, &facts)?;
                }
                // A site's first ingest: its rebuild can start from these facts.
                if let Some(first) = first {
                    fresh::add(c, site, facts, first)?;
                }
                for o in &of_site {
                    add_anomalies(c, site, &o.anomalies)?;
                    if let Some(run) = &o.run {
                        add_run(c, site, run)?;
                    }
                }
            }
            Ok(out)
        })
    }

    /// Rebuilds the inventory of every site with facts ingested since its
    /// last rebuild; the sites rebuilt. Only the devices the new facts can
    /// change are rebuilt (see [`incremental`]); the inventory is the same
    /// as a full rebuild's.
    pub fn rebuild_dirty_sites(&mut self) -> Result<Vec<String>, Error> {
        Ok(self.rebuild_dirty_sites_seen()?.sites)
    }

    /// [`Store::rebuild_dirty_sites`], also returning the devices it stored
    /// (keys as stored, `SITE/...`), each with all of its facts: what the
    /// facts ingested since the last rebuild can have changed, for the
    /// remediation items of those devices to follow
    /// (`app::remediation::sync_seen`).
    pub fn rebuild_dirty_sites_seen(&mut self) -> Result<Rebuilt, Error> {
        let c = self.conn.get_mut();
        let dirty: Vec<String> = c
            .query("SELECT site FROM sites WHERE dirty <> 0 ORDER BY site", &[])?
            .iter()
            .map(|r| r.str(0))
            .collect::<Result<_, _>>()?;
        let mut devices = Vec::new();
        for site in &dirty {
            let r =
                c.transaction(|c| incremental::rebuild_site(c, site, incremental::Mode::Auto))?;
            devices.extend(r.devices.into_iter().map(|mut d| {
                d.key = site_key(site, &d.key);
                d
            }));
        }
        Ok(Rebuilt {
            sites: dirty,
            devices,
        })
    }

    /// Sites whose inventory waits for [`Store::rebuild_dirty_sites`].
    pub fn dirty_sites(&self) -> Result<Vec<String>, Error> {
        self.conn()
            .query("SELECT site FROM sites WHERE dirty <> 0 ORDER BY site", &[])?
            .iter()
            .map(|r| r.str(0))
            .collect()
    }

    /// Sites with ingested observations, by name (not the single box, whose
    /// row only tracks its rebuilds).
    pub fn sites(&self) -> Result<Vec<String>, Error> {
        self.conn()
            .query("SELECT site FROM sites WHERE site <> '' ORDER BY site", &[])?
            .iter()
            .map(|r| r.str(0))
            .collect()
    }

    /// Number of transported messages ingested.
    pub fn ingested_count(&self) -> Result<u64, Error> {
        Ok(self
            .conn()
            .query_one("SELECT count(*) FROM ingested", &[])?
            .i64(0)?
            .max(0) as u64)
    }

    /// Every stored fact (all sites).
    pub fn facts(&self) -> Result<Vec<Fact>, Error> {
        load_facts(&mut self.conn(), None)
    }

    /// The facts of one site (`''`: the single-box site).
    pub fn site_facts(&self, site: &str) -> Result<Vec<Fact>, Error> {
        load_facts(&mut self.conn(), Some(site))
    }

    /// Number of stored facts.
    pub fn fact_count(&self) -> Result<u64, Error> {
        Ok(self
            .conn()
            .query_one("SELECT count(*) FROM facts", &[])?
            .i64(0)?
            .max(0) as u64)
    }

    /// The inventory of every site with every device's facts, rebuilt from
    /// the facts table: the single-box site `''` keeps its keys, a named
    /// site's devices have keys `SITE/KEY` (as in [`Store::devices`]);
    /// sorted by key. Each site is built from its own facts only.
    pub fn devices_with_facts(&self) -> Result<Vec<Device>, Error> {
        let sites: Vec<String> = self
            .conn()
            .query("SELECT DISTINCT site FROM facts ORDER BY site", &[])?
            .iter()
            .map(|r| r.str(0))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for site in sites {
            let mut devices = build_inventory_owned(self.site_facts(&site)?);
            if !site.is_empty() {
                for d in &mut devices {
                    d.key = site_key(&site, &d.key);
                }
            }
            out.append(&mut devices);
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// One site's inventory with every device's facts (keys without the
    /// site prefix), rebuilt from its facts.
    pub fn site_devices_with_facts(&self, site: &str) -> Result<Vec<Device>, Error> {
        Ok(build_inventory_owned(self.site_facts(site)?))
    }

    /// The current inventory (every site), sorted by key, without the facts
    /// behind each device (`devices_with_facts` has them). Devices of a named
    /// site have keys prefixed `SITE/`.
    pub fn devices(&self) -> Result<Vec<Device>, Error> {
        docs(
            &mut self.conn(),
            "SELECT doc FROM devices ORDER BY key",
            &[],
        )
    }

    /// The inventory of one site, sorted by key.
    pub fn site_devices(&self, site: &str) -> Result<Vec<Device>, Error> {
        docs(
            &mut self.conn(),
            "SELECT doc FROM devices WHERE site = ?1 ORDER BY key",
            params![site],
        )
    }

    /// One device by key.
    pub fn device(&self, key: &str) -> Result<Option<Device>, Error> {
        let doc = self
            .conn()
            .query_opt("SELECT doc FROM devices WHERE key = ?1", params![key])?;
        doc.map(|d| serde_json::from_str(&d.str(0)?).map_err(Error::from))
            .transpose()
    }

    /// Number of devices (all sites).
    pub fn device_count(&self) -> Result<u64, Error> {
        Ok(self
            .conn()
            .query_one("SELECT count(*) FROM devices", &[])?
            .i64(0)?
            .max(0) as u64)
    }

    /// Number of analysis runs stored.
    pub fn run_count(&self) -> Result<u64, Error> {
        Ok(self
            .conn()
            .query_one("SELECT count(*) FROM runs", &[])?
            .i64(0)?
            .max(0) as u64)
    }

    /// Anomaly counters accumulated over all runs and sites.
    pub fn anomalies(&self) -> Result<Vec<(String, u64)>, Error> {
        let rows = self.conn().query(
            "SELECT name, CAST(sum(count) AS BIGINT) FROM anomalies GROUP BY name ORDER BY name",
            &[],
        )?;
        rows.iter()
            .map(|r| Ok((r.str(0)?, r.i64(1)?.max(0) as u64)))
            .collect()
    }

    /// Anomaly counters of one site.
    pub fn site_anomalies(&self, site: &str) -> Result<Vec<(String, u64)>, Error> {
        let rows = self.conn().query(
            "SELECT name, count FROM anomalies WHERE site = ?1 ORDER BY name",
            params![site],
        )?;
        rows.iter()
            .map(|r| Ok((r.str(0)?, r.i64(1)?.max(0) as u64)))
            .collect()
    }
}

/// Whether a store location is a PostgreSQL URL.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// Host, port, database and user of a PostgreSQL config (never the password).
fn pg_target(c: &postgres::Config) -> String {
    let host = c
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(s) => s.clone(),
            postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_default();
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        c.get_user().unwrap_or(""),
        c.get_dbname().unwrap_or("")
    )
}

fn docs(c: &mut Conn, sql: &str, p: &[db::Val]) -> Result<Vec<Device>, Error> {
    c.query(sql, p)?
        .iter()
        .map(|r| serde_json::from_str(&r.str(0)?).map_err(Error::from))
        .collect()
}

/// Merges facts into the facts table: counts added, first/last seen
/// widened, and the source and evidence of the earliest sighting kept (ties:
/// the smaller evidence, then source). Every part of the merge is
/// commutative, so the stored result does not depend on the order in which
/// runs or transported messages arrive (redelivery may reorder them).
///
/// On PostgreSQL, also whether the site had no facts before (`None` on SQLite).
fn upsert_facts(c: &mut Conn, site: &str, facts: &[Fact]) -> Result<Option<bool>, Error> {
    match c {
        Conn::Sqlite(conn) => sqlite_upsert_facts(conn, site, facts).map(|()| None),
        Conn::Postgres(pg) => {
            let known = pg.kept.endpoints(site);
            pgschema::write_facts(&mut pg.client, site, facts, known).map(Some)
        }
    }
}

/// Rows per multi-row statement. Fewer statements than rows spare SQLite's
/// per-statement work, and rows after the first continue from where the
/// previous one landed in the B-tree; beyond 16 rows the gain turns into loss
/// (measured with the `ingest` example: 1 row 608M instructions, 8 519M,
/// 16 510M, 32 517M, 64 530M).
const ROWS_PER_STATEMENT: usize = 16;

/// SQLite: runs `sql` (an `INSERT` whose `VALUES` clause is `(?, ...)` with
/// `cols` placeholders) over `items`, `ROWS_PER_STATEMENT` rows per statement:
/// the `VALUES` row repeated, or one row for the rest (a statement costs
/// about as much to prepare as a few rows cost to insert). `bind` binds one
/// item's values from the given parameter index on. SQLite applies a
/// statement's rows one after the other, so a key repeated within one
/// statement merges (`ON CONFLICT`) as if in separate statements.
fn sqlite_insert_rows<T>(
    conn: &Connection,
    sql: &str,
    cols: usize,
    items: &[T],
    mut bind: impl FnMut(&mut rusqlite::CachedStatement<'_>, usize, &T) -> Result<(), Error>,
) -> Result<(), Error> {
    let row = format!("({})", vec!["?"; cols].join(","));
    let many = sql.replacen(&row, &vec![row.as_str(); ROWS_PER_STATEMENT].join(","), 1);
    debug_assert!(many != sql, "the VALUES row of {sql} is written ({row})");
    let whole = items.len() / ROWS_PER_STATEMENT * ROWS_PER_STATEMENT;
    // One statement per shape, rebound and rerun (each run resets it).
    for (sql, rows, items) in [
        (many.as_str(), ROWS_PER_STATEMENT, &items[..whole]),
        (sql, 1, &items[whole..]),
    ] {
        if items.is_empty() {
            continue;
        }
        let mut st = conn.prepare_cached(sql)?;
        for chunk in items.chunks(rows) {
            for (r, item) in chunk.iter().enumerate() {
                bind(&mut st, r * cols + 1, item)?;
            }
            st.raw_execute()?;
        }
    }
    Ok(())
}

/// Fact kinds ranked by their stored name (indexed by the kind's number):
/// the order of the `kind` column.
pub(crate) fn kind_ranks() -> [u8; 256] {
    let mut by_name: Vec<FactKind> = FactKind::ALL.to_vec();
    by_name.sort_by_key(|k| k.as_str());
    let mut rank = [0u8; 256];
    for (r, k) in by_name.iter().enumerate() {
        rank[*k as usize & 0xff] = r as u8;
    }
    rank
}

/// Where an endpoint's stored texts (MAC, IP) sort, cheaply compared. The
/// MAC's text orders like its bytes (fixed-width lowercase hex, none before
/// any), so it is compared as a number; the IP as text, whose first 16
/// bytes, zero-padded and big-endian, compare as the text does (an IPv4
/// address always fits; longer IPv6 texts are compared in full when those
/// bytes tie). The IP text itself is kept in a string shared by many keys.
pub(crate) struct EndpointText {
    mac: u64,
    ip_head: u128,
    /// The IP text's range in the shared string.
    ip: (u32, u32),
}

impl EndpointText {
    /// The key of `e`, its IP text appended to `text`.
    pub(crate) fn new(e: &EndpointKey, text: &mut String) -> EndpointText {
        let start = text.len();
        if let Some(ip) = e.ip {
            model::addr::push_ip(text, &ip);
        }
        let mut head = [0u8; 16];
        let ip_text = &text.as_bytes()[start..];
        let n = ip_text.len().min(16);
        head[..n].copy_from_slice(&ip_text[..n]);
        EndpointText {
            mac: e.mac.map_or(0, |m| {
                1 << 48 | m.0.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b))
            }),
            ip_head: u128::from_be_bytes(head),
            ip: (start as u32, text.len() as u32),
        }
    }

    /// The IP's stored text (`text`: the string it was appended to).
    pub(crate) fn ip_text<'a>(&self, text: &'a str) -> &'a str {
        &text[self.ip.0 as usize..self.ip.1 as usize]
    }

    /// The order of the two endpoints' stored texts (`text`: the string their IPs were appended to).
    pub(crate) fn cmp(&self, other: &EndpointText, text: &str) -> std::cmp::Ordering {
        (self.mac, self.ip_head)
            .cmp(&(other.mac, other.ip_head))
            .then_with(|| {
                if self.ip.1 - self.ip.0 > 16 || other.ip.1 - other.ip.0 > 16 {
                    self.ip_text(text).cmp(other.ip_text(text))
                } else {
                    std::cmp::Ordering::Equal
                }
            })
    }
}

/// SQLite's upsert path: the facts put in the table's key order (text order
/// of site, mac, ip, kind, value, which is also SQLite's BINARY collation),
/// then upserted several rows per statement ([`sqlite_insert_rows`]). In key
/// order each row lands next to the previous one in the B-tree; the merge is
/// commutative, so the order changes no stored value.
fn sqlite_upsert_facts(conn: &Connection, site: &str, facts: &[Fact]) -> Result<(), Error> {
    let rank = kind_ranks();
    struct Key {
        endpoint: EndpointText,
        kind: u8,
        index: u32,
    }
    let mut text = String::with_capacity(facts.len() * 16);
    let mut keys: Vec<Key> = facts
        .iter()
        .enumerate()
        .map(|(i, f)| Key {
            endpoint: EndpointText::new(&f.endpoint, &mut text),
            kind: rank[f.kind as usize & 0xff],
            index: i as u32,
        })
        .collect();
    // Unstable, with the input position last: the same order as a stable sort.
    keys.sort_unstable_by(|a, b| {
        a.endpoint
            .cmp(&b.endpoint, &text)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| {
                facts[a.index as usize]
                    .value
                    .cmp(&facts[b.index as usize].value)
            })
            .then(a.index.cmp(&b.index))
    });
    sqlite_insert_rows(conn, FACTS_UPSERT_SQL, 10, &keys, |st, p, k| {
        let f = &facts[k.index as usize];
        let mac = f.endpoint.mac.map(|m| m.text());
        st.raw_bind_parameter(p, site)?;
        st.raw_bind_parameter(p + 1, mac.as_deref().unwrap_or(""))?;
        st.raw_bind_parameter(p + 2, k.endpoint.ip_text(&text))?;
        st.raw_bind_parameter(p + 3, f.kind.as_str())?;
        st.raw_bind_parameter(p + 4, f.value.as_str())?;
        st.raw_bind_parameter(p + 5, f.source.as_str())?;
        st.raw_bind_parameter(p + 6, f.first_seen.0)?;
        st.raw_bind_parameter(p + 7, f.last_seen.0)?;
        st.raw_bind_parameter(p + 8, f.count.min(i64::MAX as u64) as i64)?;
        st.raw_bind_parameter(p + 9, f.evidence.as_str())?;
        Ok(())
    })
}

/// Whether a site has any stored fact.
fn has_facts(c: &mut Conn, site: &str) -> Result<bool, Error> {
    Ok(c.query_one(
        "SELECT EXISTS(SELECT 1 FROM facts WHERE site = ?1)",
        params![site],
    )?
    .i64(0)?
        != 0)
}

fn add_anomalies(c: &mut Conn, site: &str, anomalies: &[(String, u64)]) -> Result<(), Error> {
    for (name, n) in anomalies {
        c.execute(
            "INSERT INTO anomalies(site, name, count) VALUES (?1, ?2, ?3)
             ON CONFLICT(site, name) DO UPDATE SET count = anomalies.count + excluded.count",
            params![site, name, *n],
        )?;
    }
    Ok(())
}

fn add_run(c: &mut Conn, site: &str, run: &RunSummary) -> Result<(), Error> {
    c.execute(
        "INSERT INTO runs(site, inputs, packets, bytes, flows, events, first_packet, last_packet, stats) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            site,
            serde_json::to_string(&run.inputs)?,
            run.packets,
            run.bytes,
            run.flows,
            run.events,
            run.first_packet.map(|t| t.0),
            run.last_packet.map(|t| t.0),
            serde_json::to_string(&run.stats)?,
        ],
    )?;
    Ok(())
}

/// Replaces a site's devices. Devices of a named site get keys `SITE/KEY`.
fn store_devices(c: &mut Conn, site: &str, devices: &[Device]) -> Result<(), Error> {
    c.execute("DELETE FROM devices WHERE site = ?1", params![site])?;
    insert_devices(c, site, devices)
}

/// Adds devices to a site's inventory (none of their keys stored).
fn insert_devices(c: &mut Conn, site: &str, devices: &[Device]) -> Result<(), Error> {
    if let Conn::Postgres(pg) = c {
        return pgschema::insert_devices(&mut pg.client, site, devices);
    }
    let Conn::Sqlite(conn) = c else { return Ok(()) };
    let mut doc = Vec::new();
    sqlite_insert_rows(
        conn,
        "INSERT INTO devices(site, key, mac, vendor, category, confidence, first_seen, last_seen, doc) VALUES (?,?,?,?,?,?,?,?,?)",
        9,
        devices,
        |st, p, d| {
            let key = site_key(site, &d.key);
            doc.clear();
            serde_json::to_writer(&mut doc, &DeviceDoc(d, &key))?;
            // serde_json writes UTF-8.
            let doc = std::str::from_utf8(&doc).map_err(|e| Error::Value(e.to_string()))?;
            st.raw_bind_parameter(p, site)?;
            st.raw_bind_parameter(p + 1, key.as_str())?;
            st.raw_bind_parameter(p + 2, d.mac.map(|m| m.text()).as_deref())?;
            st.raw_bind_parameter(p + 3, d.vendor.as_deref())?;
            st.raw_bind_parameter(p + 4, d.category.label())?;
            st.raw_bind_parameter(p + 5, d.confidence as f64)?;
            st.raw_bind_parameter(p + 6, d.first_seen.0)?;
            st.raw_bind_parameter(p + 7, d.last_seen.0)?;
            st.raw_bind_parameter(p + 8, doc)?;
            Ok(())
        },
    )
}

/// A device's stored key: `SITE/KEY` for a named site, `KEY` on a single box.
pub fn site_key(site: &str, key: &str) -> String {
    if site.is_empty() {
        key.to_string()
    } else {
        format!("{site}/{key}")
    }
}

/// What [`Store::rebuild_dirty_sites_seen`] rebuilt.
#[derive(Debug, Default)]
pub struct Rebuilt {
    /// The sites rebuilt, by name.
    pub sites: Vec<String>,
    /// The devices stored by the rebuilds (keys `SITE/...` as stored), each
    /// with all of its facts: the whole site after a full rebuild, the
    /// changed part after a partial one.
    pub devices: Vec<Device>,
}

/// A device as stored: everything but its facts.
pub(crate) struct DeviceDoc<'a>(pub &'a Device, pub &'a str);

impl Serialize for DeviceDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // Serialize through serde_json's Value would copy every fact; instead
        // write the device's fields and leave `facts` empty.
        let d = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("key", self.1)?;
        m.serialize_entry("mac", &d.mac)?;
        m.serialize_entry("vendor", &d.vendor)?;
        m.serialize_entry("ips", &d.ips)?;
        m.serialize_entry("hostnames", &d.hostnames)?;
        m.serialize_entry("category", &d.category)?;
        m.serialize_entry("confidence", &d.confidence)?;
        m.serialize_entry("reasons", &d.reasons)?;
        m.serialize_entry("services_offered", &d.services_offered)?;
        m.serialize_entry("services_used", &d.services_used)?;
        m.serialize_entry("roles", &d.roles)?;
        m.serialize_entry("software", &d.software)?;
        m.serialize_entry("applications", &d.applications)?;
        m.serialize_entry("models", &d.models)?;
        m.serialize_entry("peer_count", &d.peer_count)?;
        m.serialize_entry("first_seen", &d.first_seen)?;
        m.serialize_entry("last_seen", &d.last_seen)?;
        m.serialize_entry("identity", &d.identity)?;
        m.serialize_entry("facts", &[] as &[Fact])?;
        m.end()
    }
}

/// Stored facts: all, or of one site, or of one kind.
fn load_facts(c: &mut Conn, site: Option<&str>) -> Result<Vec<Fact>, Error> {
    load_facts_where(c, site, None)
}

/// The columns [`query_facts`] reads.
const FACT_COLUMNS: &str =
    "SELECT mac, ip, kind, value, source, first_seen, last_seen, count, evidence FROM facts";

fn load_facts_where(
    c: &mut Conn,
    site: Option<&str>,
    kind: Option<&str>,
) -> Result<Vec<Fact>, Error> {
    const COLS: &str = FACT_COLUMNS;
    match (site, kind) {
        (Some(s), None) => query_facts(
            c,
            &format!("{COLS} WHERE site = ?1 ORDER BY mac, ip, kind, value"),
            params![s],
        ),
        (None, Some(k)) => query_facts(
            c,
            &format!("{COLS} WHERE kind = ?1 ORDER BY site, mac, ip, kind, value"),
            params![k],
        ),
        (Some(s), Some(k)) => query_facts(
            c,
            &format!("{COLS} WHERE site = ?1 AND kind = ?2 ORDER BY mac, ip, kind, value"),
            params![s, k],
        ),
        (None, None) => query_facts(
            c,
            &format!("{COLS} ORDER BY site, mac, ip, kind, value"),
            &[],
        ),
    }
}

/// Facts from a query of [`FACT_COLUMNS`], read row by row in place. Rows
/// of one endpoint come together (every query orders by MAC and IP), so each
/// endpoint's addresses are parsed once.
fn query_facts(c: &mut Conn, sql: &str, p: &[db::Val]) -> Result<Vec<Fact>, Error> {
    let mut out = Vec::new();
    let mut last: Option<(String, String, EndpointKey)> = None;
    c.query_each(sql, p, |r| {
        // Rows this version does not understand (from a newer schema) are skipped, not fatal.
        let Some(kind) = FactKind::parse(r.str(2)?) else {
            return Ok(());
        };
        let (mac, ip) = (r.str(0)?, r.str(1)?);
        let endpoint = match &last {
            Some((m, i, e)) if m == mac && i == ip => *e,
            _ => {
                let e = EndpointKey {
                    mac: MacAddr::parse(mac),
                    ip: ip.parse().ok(),
                };
                last = Some((mac.to_string(), ip.to_string(), e));
                e
            }
        };
        out.push(Fact {
            endpoint,
            kind,
            value: r.str(3)?.to_string(),
            source: r.str(4)?.to_string(),
            first_seen: Timestamp(r.i64(5)?),
            last_seen: Timestamp(r.i64(6)?),
            count: r.i64(7)?.max(0) as u64,
            evidence: r.str(8)?.to_string(),
        });
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod schema_tests;

#[cfg(test)]
mod tests {
    use super::*;

    /// A fact of `ip` seen once at `ts` (store tests).
    pub(crate) fn fact(ip: &str, kind: FactKind, value: &str, ts: i64) -> Fact {
        Fact {
            endpoint: EndpointKey {
                mac: None,
                ip: ip.parse().ok(),
            },
            kind,
            value: value.into(),
            source: "test".into(),
            first_seen: Timestamp(ts),
            last_seen: Timestamp(ts),
            count: 1,
            evidence: "flow 1".into(),
        }
    }

    fn obs(
        id: &str,
        site: &str,
        facts: Vec<Fact>,
        anomalies: Vec<(String, u64)>,
        run: bool,
    ) -> Observation {
        Observation {
            id: id.into(),
            site: site.into(),
            run: run.then(|| RunSummary {
                packets: 7,
                ..Default::default()
            }),
            facts,
            anomalies,
        }
    }

    #[test]
    fn the_stored_device_document_has_every_field_of_a_device_but_its_facts() {
        // `DeviceDoc` writes the fields by hand (to skip copying the facts):
        // a field added to `Device` and not to it would silently not be stored.
        let devices = identify::build_inventory(&[
            fact("10.0.0.1", FactKind::Hostname, "pump-1", 5),
            fact("10.0.0.1", FactKind::ServiceOffered, "hl7/tcp/2575", 6),
            fact("10.0.0.1", FactKind::Software, "Alaris 9.33", 7),
            fact("10.0.0.1", FactKind::Peer, "10.0.0.9", 8),
        ]);
        assert!(!devices.is_empty());
        for d in &devices {
            let doc = serde_json::to_value(DeviceDoc(d, &d.key)).unwrap();
            let want = serde_json::to_value(Device {
                facts: Vec::new(),
                ..d.clone()
            })
            .unwrap();
            assert_eq!(doc, want);
        }
    }

    #[test]
    fn runs_append_into_one_inventory() {
        testing::each_backend("runs_append_into_one_inventory", |mut s| {
            s.ingest(
                &RunSummary::default(),
                &[fact("10.0.0.1", FactKind::Hostname, "pump-1", 5)],
                &[("x".into(), 2)],
            )
            .unwrap();
            let devs = s
                .ingest(
                    &RunSummary::default(),
                    &[
                        fact("10.0.0.1", FactKind::Hostname, "pump-1", 9),
                        fact("10.0.0.2", FactKind::Hostname, "ct-2", 7),
                    ],
                    &[("x".into(), 3)],
                )
                .unwrap();
            assert_eq!(devs.len(), 2);
            assert_eq!(s.devices_with_facts().unwrap(), devs);
            // Stored documents hold every field but the facts.
            let bare: Vec<Device> = devs
                .iter()
                .cloned()
                .map(|d| Device {
                    facts: Vec::new(),
                    ..d
                })
                .collect();
            assert_eq!(s.devices().unwrap(), bare);
            let f = s.facts().unwrap();
            assert_eq!(
                (f[0].count, f[0].first_seen, f[0].last_seen),
                (2, Timestamp(5), Timestamp(9))
            );
            assert_eq!(s.anomalies().unwrap(), vec![("x".to_string(), 5)]);
            assert_eq!(s.run_count().unwrap(), 2);
            assert_eq!(
                s.device("ip:10.0.0.2").unwrap().unwrap().hostnames,
                vec!["ct-2"]
            );
            assert_eq!(s.device_count().unwrap(), 2);
        });
    }

    #[test]
    fn facts_merge_widens_and_keeps_first_evidence() {
        testing::each_backend("facts_merge", |mut s| {
            let mut late = fact("10.0.0.1", FactKind::Software, "OFFIS_DCMTK_367", 50);
            late.count = 4;
            let mut early = fact("10.0.0.1", FactKind::Software, "OFFIS_DCMTK_367", 10);
            early.source = "second".into();
            early.evidence = "flow 2".into();
            // Same key twice in one call, then again later.
            s.ingest(&RunSummary::default(), &[late.clone(), early.clone()], &[])
                .unwrap();
            s.ingest(
                &RunSummary::default(),
                &[fact("10.0.0.1", FactKind::Software, "OFFIS_DCMTK_367", 30)],
                &[],
            )
            .unwrap();
            let f = s.facts().unwrap();
            assert_eq!(f.len(), 1);
            assert_eq!(
                (f[0].count, f[0].first_seen, f[0].last_seen),
                (6, Timestamp(10), Timestamp(50))
            );
            assert_eq!(
                (f[0].source.as_str(), f[0].evidence.as_str()),
                ("second", "flow 2"),
                "earliest sighting's evidence kept"
            );
            // The same facts in another order give the same row.
            let mut t = Store::open_in_memory().unwrap();
            t.ingest(
                &RunSummary::default(),
                &[fact("10.0.0.1", FactKind::Software, "OFFIS_DCMTK_367", 30)],
                &[],
            )
            .unwrap();
            t.ingest(&RunSummary::default(), &[early, late], &[])
                .unwrap();
            assert_eq!(t.facts().unwrap(), f);
            // Hostile text round-trips unchanged (quotes, NUL-free unicode, SQL).
            let odd = fact(
                "10.0.0.9",
                FactKind::Hostname,
                "x'); DROP TABLE facts;-- é\u{202e}",
                1,
            );
            s.ingest(&RunSummary::default(), &[odd], &[]).unwrap();
            assert!(s
                .facts()
                .unwrap()
                .iter()
                .any(|f| f.value.starts_with("x'); DROP")));
        });
    }

    #[test]
    fn batched_upsert_merges_like_one_row_at_a_time() {
        // More facts than one multi-row statement holds, keys repeated within
        // and across statements, MAC-only, IP-only and both, IPv4 and IPv6.
        let mut facts = Vec::new();
        for i in 0..150u32 {
            let mut f = fact(
                &format!("10.0.{}.{}", i % 2, 5 + i % 10),
                FactKind::ALL[(i % 3) as usize],
                &format!("v{}", i % 2),
                i64::from(i),
            );
            f.endpoint.mac = (i % 4 != 0).then_some(MacAddr([0, 0x1b, 0x21, 0, 0, (i % 3) as u8]));
            if i % 9 == 0 {
                f.endpoint.ip = "fe80::1".parse().ok();
            }
            if i % 13 == 0 {
                f.endpoint.ip = None;
            }
            f.evidence = format!("flow {}", 200 - i);
            f.count = u64::from(i % 3 + 1);
            facts.push(f);
        }
        testing::each_backend("batched_upsert", |mut s| {
            s.ingest(&RunSummary::default(), &facts, &[]).unwrap();
            let mut one = Store::open_in_memory().unwrap();
            for f in facts.iter().rev() {
                one.ingest(&RunSummary::default(), std::slice::from_ref(f), &[])
                    .unwrap();
            }
            assert_eq!(s.facts().unwrap(), one.facts().unwrap());
            assert!(
                s.facts().unwrap().iter().any(|f| f.count > 3),
                "repeated keys merged"
            );
        });
    }

    #[test]
    fn observations_are_idempotent_per_site() {
        testing::each_backend("observations_idempotent", |mut s| {
            let a = obs(
                "s1:f1:0",
                "north",
                vec![fact("10.0.0.1", FactKind::Hostname, "pump-1", 5)],
                vec![("bad_ip".into(), 1)],
                false,
            );
            let b = obs(
                "s1:f1:1",
                "north",
                vec![fact("10.0.0.1", FactKind::Hostname, "pump-1", 8)],
                vec![],
                true,
            );
            let c = obs(
                "s2:f9:0",
                "south",
                vec![fact("10.0.0.1", FactKind::Hostname, "ct-9", 6)],
                vec![("bad_ip".into(), 2)],
                true,
            );
            let o = s
                .ingest_observations(&[a.clone(), b.clone(), a.clone()], 1)
                .unwrap();
            assert_eq!((o.new, o.duplicate, o.facts), (2, 1, 2));
            let o = s.ingest_observations(&[b.clone(), c.clone()], 2).unwrap();
            assert_eq!((o.new, o.duplicate), (1, 1));
            assert_eq!(s.ingested_count().unwrap(), 3);
            assert_eq!(s.run_count().unwrap(), 2);
            assert_eq!(s.anomalies().unwrap(), vec![("bad_ip".to_string(), 3)]);
            assert_eq!(
                s.site_anomalies("south").unwrap(),
                vec![("bad_ip".to_string(), 2)]
            );
            let north = s.site_facts("north").unwrap();
            assert_eq!((north.len(), north[0].count), (1, 2));
            // Devices appear once the dirty sites are rebuilt, keyed SITE/KEY.
            assert_eq!(s.device_count().unwrap(), 0);
            assert_eq!(s.rebuild_dirty_sites().unwrap(), vec!["north", "south"]);
            assert!(s.rebuild_dirty_sites().unwrap().is_empty());
            assert_eq!(s.sites().unwrap(), vec!["north", "south"]);
            let status = s.site_ingest().unwrap();
            assert_eq!(
                status
                    .iter()
                    .map(|x| (x.site.as_str(), x.messages, x.rebuild_pending))
                    .collect::<Vec<_>>(),
                vec![("north", 2, false), ("south", 1, false)]
            );
            let keys: Vec<String> = s.devices().unwrap().into_iter().map(|d| d.key).collect();
            assert_eq!(keys, vec!["north/ip:10.0.0.1", "south/ip:10.0.0.1"]);
            assert_eq!(s.site_devices("south").unwrap()[0].hostnames, vec!["ct-9"]);
            assert_eq!(
                s.device("north/ip:10.0.0.1").unwrap().unwrap().hostnames,
                vec!["pump-1"]
            );
            // The single-box inventory is untouched by named sites...
            assert!(s.site_devices_with_facts("").unwrap().is_empty());
            // ...and the full view (scoring, reports) holds every site's
            // devices under their stored keys, each with its own facts.
            let full = s.devices_with_facts().unwrap();
            let keys: Vec<&str> = full.iter().map(|d| d.key.as_str()).collect();
            assert_eq!(keys, vec!["north/ip:10.0.0.1", "south/ip:10.0.0.1"]);
            assert_eq!(full[1].hostnames, vec!["ct-9"]);
            assert!(full.iter().all(|d| !d.facts.is_empty()));
            // Invalid site names are refused before anything is stored.
            assert!(s
                .ingest_observations(&[obs("x", "a.b", vec![], vec![], false)], 3)
                .is_err());
            assert!(s
                .ingest_observations(&[obs("y", "", vec![], vec![], false)], 3)
                .is_err());
            assert_eq!(s.ingested_count().unwrap(), 3);
        });
    }

    #[test]
    fn a_failed_batch_stores_nothing() {
        testing::each_backend("failed_batch", |mut s| {
            let good = obs(
                "ok",
                "north",
                vec![fact("10.0.0.1", FactKind::Hostname, "pump-1", 5)],
                vec![],
                false,
            );
            let bad = obs("bad", "bad site", vec![], vec![], false);
            assert!(s.ingest_observations(&[good.clone(), bad], 1).is_err());
            assert_eq!(
                (s.ingested_count().unwrap(), s.fact_count().unwrap()),
                (0, 0)
            );
            assert_eq!(s.ingest_observations(&[good], 1).unwrap().new, 1);
        });
    }

    #[test]
    fn sqlite_v4_database_is_migrated_in_place() {
        let dir = std::env::temp_dir().join(format!("ward-store-v4-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("old.db");
        let _ = std::fs::remove_file(&p);
        {
            let c = Connection::open(&p).unwrap();
            for m in &MIGRATIONS[..4] {
                c.execute_batch(m).unwrap();
            }
            c.execute_batch(
                "PRAGMA user_version = 4; INSERT INTO facts VALUES ('', '10.0.0.1', 'hostname', 'pump-1', 't', 1, 2, 3, 'e'); INSERT INTO anomalies VALUES ('x', 4);",
            )
            .unwrap();
        }
        let mut s = Store::open(&p).unwrap();
        let f = s.facts().unwrap();
        assert_eq!((f.len(), f[0].count, f[0].value.as_str()), (1, 3, "pump-1"));
        assert_eq!(s.anomalies().unwrap(), vec![("x".to_string(), 4)]);
        s.ingest(
            &RunSummary::default(),
            &[fact("10.0.0.1", FactKind::Hostname, "pump-1", 9)],
            &[],
        )
        .unwrap();
        assert_eq!(s.facts().unwrap()[0].count, 4);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn postgres_refuses_foreign_schema() {
        let Some(db) = testing::ScratchDb::new("postgres_refuses_foreign_schema") else {
            return;
        };
        let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
        c.batch_execute("CREATE TABLE patients(name TEXT)").unwrap();
        let e = Store::open_postgres(&db.url).err().unwrap().to_string();
        assert!(e.contains("not a Ward database"), "{e}");
        assert!(!e.contains("password"), "{e}");
        // Unreachable server: a one-line error naming the target, not the password.
        let e = Store::open_url("postgres://ward:s3cret@127.0.0.1:1/none")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("127.0.0.1:1") && !e.contains("s3cret"), "{e}");
    }

    #[test]
    fn refuses_foreign_files() {
        let dir = std::env::temp_dir().join(format!("ward-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("not-a-db");
        let content =
            b"this is not sqlite, it is a text file that is long enough to have a header......";
        std::fs::write(&p, content).unwrap();
        let e = Store::open(&p).err().unwrap().to_string();
        assert!(
            e.contains("not a Ward database") || e.contains("cannot open"),
            "{e}"
        );
        assert_eq!(
            std::fs::read(&p).unwrap(),
            content,
            "foreign file untouched"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
