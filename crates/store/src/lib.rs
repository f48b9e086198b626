//! Ward's persistent store (SQLite, embedded; the default single-box backend).
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
mod dashboard;
mod feeds;
pub use feeds::{DeclaredCounts, DeclaredDevice, FeedTotals, ImportCounts, ImportReport, SyncState};
mod users;
pub use users::{ApiTokenInfo, AuditEntry, SessionRow, User};
mod monitor;
pub use crate::monitor::{AlertFilter, Approval, IntakeEntry};

use identify::{build_inventory, Device, EndpointKey, Fact, FactKind};
use model::{MacAddr, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
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
    /// The file exists but is not a Ward database (or is from a newer Ward).
    #[error("{path} is not a Ward database ({why})")]
    NotWard {
        /// Path given.
        path: String,
        /// Why.
        why: String,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A stored JSON document could not be read.
    #[error("corrupt stored document: {0}")]
    Json(#[from] serde_json::Error),
}

/// Schema version written to `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 6;

const MIGRATIONS: &[&str] = &[r#"
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
"#, feeds::MIGRATION, feeds::SYNC_MIGRATION, users::MIGRATION, accounts::MIGRATION, crate::monitor::MIGRATION];

/// Summary of one analysis run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

/// The SQLite store.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, Error> {
        let p = path.display().to_string();
        let conn = Connection::open(path).map_err(|source| Error::Open { path: p.clone(), source })?;
        Self::init(conn, &p)
    }

    /// An in-memory store (tests).
    pub fn open_in_memory() -> Result<Store, Error> {
        let conn = Connection::open_in_memory().map_err(|source| Error::Open { path: ":memory:".into(), source })?;
        Self::init(conn, ":memory:")
    }

    fn init(conn: Connection, path: &str) -> Result<Store, Error> {
        let not_ward = |why: String| Error::NotWard { path: path.to_string(), why };
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = match conn.query_row("PRAGMA user_version", [], |r| r.get(0)) {
            Ok(v) => v,
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::NotADatabase => {
                return Err(not_ward("not an SQLite file".into()))
            }
            Err(e) => return Err(e.into()),
        };
        if version > SCHEMA_VERSION {
            return Err(not_ward(format!("schema version {version} is newer than this Ward ({SCHEMA_VERSION})")));
        }
        if version == 0 {
            let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
            if tables > 0 {
                return Err(not_ward("it has tables but no Ward schema version".into()));
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut store = Store { conn };
        let tx = store.conn.transaction()?;
        for (i, m) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(m)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        tx.commit()?;
        Ok(store)
    }

    /// Adds one run's facts, anomaly counters and summary, then rebuilds the
    /// device inventory from all stored facts. One transaction.
    pub fn ingest(&mut self, run: &RunSummary, facts: &[Fact], anomalies: &[(String, u64)]) -> Result<Vec<Device>, Error> {
        let tx = self.conn.transaction()?;
        // A fresh store holds exactly this run's facts afterwards: the
        // inventory is built from them directly instead of reading them back.
        let had_facts: bool = tx.query_row("SELECT EXISTS(SELECT 1 FROM facts)", [], |r| r.get(0))?;
        {
            let mut up = tx.prepare_cached(
                "INSERT INTO facts(mac, ip, kind, value, source, first_seen, last_seen, count, evidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(mac, ip, kind, value) DO UPDATE SET
                   count = count + excluded.count,
                   first_seen = min(first_seen, excluded.first_seen),
                   last_seen = max(last_seen, excluded.last_seen)",
            )?;
            for f in facts {
                up.execute(params![
                    f.endpoint.mac.map(|m| m.to_string()).unwrap_or_default(),
                    f.endpoint.ip.map(|i| i.to_string()).unwrap_or_default(),
                    f.kind.as_str(),
                    f.value,
                    f.source,
                    f.first_seen.0,
                    f.last_seen.0,
                    f.count as i64,
                    f.evidence,
                ])?;
            }
            let mut an = tx.prepare_cached(
                "INSERT INTO anomalies(name, count) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET count = count + excluded.count",
            )?;
            for (name, n) in anomalies {
                an.execute(params![name, *n as i64])?;
            }
            tx.execute(
                "INSERT INTO runs(inputs, packets, bytes, flows, events, first_packet, last_packet, stats) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    serde_json::to_string(&run.inputs)?,
                    run.packets as i64,
                    run.bytes as i64,
                    run.flows as i64,
                    run.events as i64,
                    run.first_packet.map(|t| t.0),
                    run.last_packet.map(|t| t.0),
                    serde_json::to_string(&run.stats)?,
                ],
            )?;
        }
        let devices = if had_facts { build_inventory(&load_facts(&tx)?) } else { build_inventory(facts) };
        tx.execute("DELETE FROM devices", [])?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO devices(key, mac, vendor, category, confidence, first_seen, last_seen, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for d in &devices {
                // The facts stay in their own table; the document holds the
                // derived view (see `devices_with_facts`).
                let doc = serde_json::to_string(&DeviceDoc(d))?;
                ins.execute(params![
                    d.key,
                    d.mac.map(|m| m.to_string()),
                    d.vendor,
                    d.category.label(),
                    d.confidence as f64,
                    d.first_seen.0,
                    d.last_seen.0,
                    doc,
                ])?;
            }
        }
        tx.commit()?;
        Ok(devices)
    }

    /// Every stored fact.
    pub fn facts(&self) -> Result<Vec<Fact>, Error> {
        load_facts(&self.conn)
    }

    /// The current inventory with every device's facts, sorted by key
    /// (rebuilt from the facts table).
    pub fn devices_with_facts(&self) -> Result<Vec<Device>, Error> {
        Ok(build_inventory(&self.facts()?))
    }

    /// The current inventory, sorted by key, without the facts behind each
    /// device (`devices_with_facts` has them).
    pub fn devices(&self) -> Result<Vec<Device>, Error> {
        let mut st = self.conn.prepare("SELECT doc FROM devices ORDER BY key")?;
        let docs = st.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        docs.iter().map(|d| serde_json::from_str(d).map_err(Error::from)).collect()
    }

    /// One device by key.
    pub fn device(&self, key: &str) -> Result<Option<Device>, Error> {
        let doc: Option<String> = self.conn.query_row("SELECT doc FROM devices WHERE key = ?1", [key], |r| r.get(0)).optional()?;
        doc.map(|d| serde_json::from_str(&d).map_err(Error::from)).transpose()
    }

    /// Number of analysis runs stored.
    pub fn run_count(&self) -> Result<u64, Error> {
        Ok(self.conn.query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Anomaly counters accumulated over all runs.
    pub fn anomalies(&self) -> Result<Vec<(String, u64)>, Error> {
        let mut st = self.conn.prepare("SELECT name, count FROM anomalies ORDER BY name")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// A device as stored: everything but its facts.
struct DeviceDoc<'a>(&'a Device);

impl Serialize for DeviceDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // Serialize through serde_json's Value would copy every fact; instead
        // write the device's fields and leave `facts` empty.
        let d = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("key", &d.key)?;
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
        m.serialize_entry("facts", &[] as &[Fact])?;
        m.end()
    }
}

fn load_facts(conn: &Connection) -> Result<Vec<Fact>, Error> {
    load_facts_where(conn, None)
}

/// Stored facts, all or of one kind.
fn load_facts_where(conn: &Connection, kind: Option<&str>) -> Result<Vec<Fact>, Error> {
    let sql = "SELECT mac, ip, kind, value, source, first_seen, last_seen, count, evidence FROM facts";
    let mut st = match kind {
        Some(_) => conn.prepare(&format!("{sql} WHERE kind = ?1 ORDER BY mac, ip, kind, value"))?,
        None => conn.prepare(&format!("{sql} ORDER BY mac, ip, kind, value"))?,
    };
    let args: Vec<&str> = kind.into_iter().collect();
    let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, String>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mac, ip, kind, value, source, first, last, count, evidence) = row?;
        // Rows this version does not understand (from a newer schema) are skipped, not fatal.
        let Some(kind) = FactKind::parse(&kind) else { continue };
        out.push(Fact {
            endpoint: EndpointKey { mac: MacAddr::parse(&mac), ip: ip.parse().ok() },
            kind,
            value,
            source,
            first_seen: Timestamp(first),
            last_seen: Timestamp(last),
            count: count.max(0) as u64,
            evidence,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(ip: &str, kind: FactKind, value: &str, ts: i64) -> Fact {
        Fact {
            endpoint: EndpointKey { mac: None, ip: ip.parse().ok() },
            kind,
            value: value.into(),
            source: "test".into(),
            first_seen: Timestamp(ts),
            last_seen: Timestamp(ts),
            count: 1,
            evidence: "flow 1".into(),
        }
    }

    #[test]
    fn runs_append_into_one_inventory() {
        let mut s = Store::open_in_memory().unwrap();
        s.ingest(&RunSummary::default(), &[fact("10.0.0.1", FactKind::Hostname, "pump-1", 5)], &[("x".into(), 2)]).unwrap();
        let devs = s
            .ingest(&RunSummary::default(), &[fact("10.0.0.1", FactKind::Hostname, "pump-1", 9), fact("10.0.0.2", FactKind::Hostname, "ct-2", 7)], &[("x".into(), 3)])
            .unwrap();
        assert_eq!(devs.len(), 2);
        assert_eq!(s.devices_with_facts().unwrap(), devs);
        // Stored documents hold every field but the facts.
        let bare: Vec<Device> = devs.iter().cloned().map(|d| Device { facts: Vec::new(), ..d }).collect();
        assert_eq!(s.devices().unwrap(), bare);
        let f = s.facts().unwrap();
        assert_eq!((f[0].count, f[0].first_seen, f[0].last_seen), (2, Timestamp(5), Timestamp(9)));
        assert_eq!(s.anomalies().unwrap(), vec![("x".to_string(), 5)]);
        assert_eq!(s.run_count().unwrap(), 2);
        assert_eq!(s.device("ip:10.0.0.2").unwrap().unwrap().hostnames, vec!["ct-2"]);
    }

    #[test]
    fn refuses_foreign_files() {
        let dir = std::env::temp_dir().join(format!("ward-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("not-a-db");
        let content = b"this is not sqlite, it is a text file that is long enough to have a header......";
        std::fs::write(&p, content).unwrap();
        let e = Store::open(&p).err().unwrap().to_string();
        assert!(e.contains("not a Ward database") || e.contains("cannot open"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), content, "foreign file untouched");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
