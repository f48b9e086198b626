//! Vulnerability feeds and declared devices in the store: advisories (CSAF
//! and NVD) with their products, KEV entries, the feed files imported, and
//! devices declared in a CMMS export.
//!
//! **Invariants.** Each import is one transaction: it lands whole or not at
//! all. Imports are idempotent: importing the same content again changes no
//! row (counted as unchanged). An advisory is replaced only by a newer
//! revision (CSAF `tracking.version`, then `current_release_date`; NVD
//! `lastModified`); an older revision is skipped and counted. The same
//! revision with other content is an error ([`Error::FeedConflict`]): a
//! publisher changes an advisory by issuing a new revision, so a second
//! "same" revision is a forgery or a mistake and must not silently replace
//! what is stored.

use crate::db::{params, Conn};
use crate::{Error, Store};
use advisory::{Advisory, AdvisoryDb, Feed, FeedFile, KevEntry, Version};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Schema for feeds and declared devices (migration 2).
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE feed_files(
    path TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    items INTEGER NOT NULL
);
CREATE TABLE advisories(
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    severity TEXT,
    revision TEXT NOT NULL,
    release_date TEXT NOT NULL,
    file TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE advisory_products(
    advisory_id TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    version_text TEXT NOT NULL,
    rule TEXT NOT NULL,
    PRIMARY KEY (advisory_id, product_id)
) WITHOUT ROWID;
CREATE INDEX advisory_products_vendor ON advisory_products(vendor);
CREATE TABLE kev(
    cve TEXT PRIMARY KEY,
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    name TEXT NOT NULL,
    date_added TEXT NOT NULL,
    ransomware TEXT NOT NULL,
    catalog_version TEXT NOT NULL
);
CREATE TABLE declared_devices(
    key TEXT PRIMARY KEY,
    vendor TEXT NOT NULL,
    model TEXT NOT NULL,
    firmware TEXT NOT NULL,
    serial TEXT NOT NULL,
    location TEXT NOT NULL,
    source TEXT NOT NULL,
    line INTEGER NOT NULL
);
"#;

/// Schema for `ward feeds sync` (migration 3): when each source last synced
/// successfully, recorded in the same transaction as what it fetched.
pub(crate) const SYNC_MIGRATION: &str = r#"
CREATE TABLE feed_sync(
    source TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    synced_at TEXT NOT NULL,
    synced_unix INTEGER NOT NULL,
    documents INTEGER NOT NULL
);
"#;

/// Declared devices carry what links them to observed ones (migration 11;
/// PostgreSQL: the migration before `RISK_FEEDS_MIGRATION`):
/// asset tag, MAC, IP and host name.
pub(crate) const DECLARED_MIGRATION: &str = r#"
ALTER TABLE declared_devices ADD COLUMN asset_tag TEXT NOT NULL DEFAULT '';
ALTER TABLE declared_devices ADD COLUMN mac TEXT NOT NULL DEFAULT '';
ALTER TABLE declared_devices ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE declared_devices ADD COLUMN hostname TEXT NOT NULL DEFAULT '';
"#;

/// Declared backup plans (migration 12; PostgreSQL: the one after `DECLARED_MIGRATION`):
/// the CMMS backup method, destination and last verified restore, shown
/// beside the copies observed in traffic (`risk::coverage`).
pub(crate) const BACKUP_PLAN_MIGRATION: &str = r#"
ALTER TABLE declared_devices ADD COLUMN backup_method TEXT NOT NULL DEFAULT '';
ALTER TABLE declared_devices ADD COLUMN backup_destination TEXT NOT NULL DEFAULT '';
ALTER TABLE declared_devices ADD COLUMN last_restore TEXT NOT NULL DEFAULT '';
"#;

/// FIRST EPSS scores and openFDA device recalls (SQLite migration 13,
/// PostgreSQL: the one after `BACKUP_PLAN_MIGRATION`). An EPSS file is a daily snapshot: each
/// CVE keeps the score of the newest file imported; scores are kept in
/// parts per million (EPSS publishes five decimals), so both engines store
/// and compare them exactly.
pub(crate) const RISK_FEEDS_MIGRATION: &str = r#"
CREATE TABLE epss(
    cve TEXT PRIMARY KEY,
    epss_ppm BIGINT NOT NULL,
    percentile_ppm BIGINT NOT NULL,
    score_date TEXT NOT NULL,
    model_version TEXT NOT NULL
);
CREATE TABLE recalls(
    id TEXT PRIMARY KEY,
    firm TEXT NOT NULL,
    product TEXT NOT NULL,
    reason TEXT NOT NULL,
    class TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    started TEXT NOT NULL,
    product_code TEXT NOT NULL,
    file TEXT NOT NULL
);
"#;

/// The last successful sync of one feed source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// Source name (`kev`, `csaf`, `nvd`).
    pub source: String,
    /// Base URL it was fetched from.
    pub url: String,
    /// When that sync started, UTC, ISO 8601.
    pub synced_at: String,
    /// The same, in seconds since the Unix epoch.
    pub synced_unix: i64,
    /// Documents it fetched.
    pub documents: u64,
}

/// What one import did, per kind of item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Files of this kind in the command.
    pub files: u64,
    /// Of those, files whose content was already recorded.
    pub files_unchanged: u64,
    /// Items stored for the first time.
    pub new: u64,
    /// Items replaced by a newer revision (or changed KEV entries).
    pub updated: u64,
    /// Items identical to what was stored.
    pub unchanged: u64,
    /// Items older than the stored revision (kept the stored one).
    pub older: u64,
}

/// What `import_feeds` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// CSAF advisories.
    pub csaf: ImportCounts,
    /// NVD CVE records.
    pub nvd: ImportCounts,
    /// KEV entries.
    pub kev: ImportCounts,
    /// EPSS scores.
    pub epss: ImportCounts,
    /// openFDA recalls.
    pub recalls: ImportCounts,
}

/// What the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedTotals {
    /// CSAF advisories.
    pub csaf: u64,
    /// NVD records.
    pub nvd: u64,
    /// Advisory product entries.
    pub products: u64,
    /// KEV entries.
    pub kev: u64,
    /// CVEs with an EPSS score.
    pub epss: u64,
    /// openFDA recalls.
    pub recalls: u64,
    /// Feed files recorded.
    pub files: u64,
}

/// A device declared by the hospital (CMMS export), not observed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredDevice {
    /// Manufacturer.
    pub vendor: String,
    /// Model.
    pub model: String,
    /// Firmware version.
    pub firmware: String,
    /// Serial number.
    pub serial: String,
    /// Location.
    pub location: String,
    /// Asset tag (the hospital's own number).
    #[serde(default)]
    pub asset_tag: String,
    /// MAC address, `aa:bb:cc:dd:ee:ff`, or empty.
    #[serde(default)]
    pub mac: String,
    /// IP address, or empty.
    #[serde(default)]
    pub ip: String,
    /// Host name, or empty.
    #[serde(default)]
    pub hostname: String,
    /// Declared backup method (`Veeam agent`, `DICOM to PACS`), or empty.
    #[serde(default)]
    pub backup_method: String,
    /// Declared backup destination, or empty.
    #[serde(default)]
    pub backup_destination: String,
    /// Last verified restore, as written, or empty.
    #[serde(default)]
    pub last_restore: String,
    /// File it came from.
    pub source: String,
    /// Line in that file.
    pub line: u64,
}

impl DeclaredDevice {
    /// Identity: the serial number, else the asset tag, else vendor, model
    /// and location.
    pub fn key(&self) -> String {
        if !self.serial.trim().is_empty() {
            format!(
                "serial:{}|{}",
                self.vendor.trim().to_lowercase(),
                self.serial.trim()
            )
        } else if !self.asset_tag.trim().is_empty() {
            format!("asset:{}", self.asset_tag.trim())
        } else {
            format!(
                "vml:{}|{}|{}",
                self.vendor.trim().to_lowercase(),
                self.model.trim().to_lowercase(),
                self.location.trim().to_lowercase()
            )
        }
    }

    /// The fields an import compares to tell "updated" from "unchanged".
    fn content(&self) -> [&str; 12] {
        [
            &self.vendor,
            &self.model,
            &self.firmware,
            &self.serial,
            &self.location,
            &self.asset_tag,
            &self.mac,
            &self.ip,
            &self.hostname,
            &self.backup_method,
            &self.backup_destination,
            &self.last_restore,
        ]
    }
}

/// New/updated/unchanged counts of a declared-device import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredCounts {
    /// First seen.
    pub new: u64,
    /// Changed (firmware, model or location).
    pub updated: u64,
    /// Identical.
    pub unchanged: u64,
}

fn newer(incoming: &Advisory, rev: &str, date: &str) -> Ordering {
    let by_rev = match (Version::parse(&incoming.revision), Version::parse(rev)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => incoming.revision.as_str().cmp(rev),
    };
    by_rev.then_with(|| incoming.release_date.as_str().cmp(date))
}

fn put_advisory(
    c: &mut Conn,
    a: &Advisory,
    file: &str,
    counts: &mut ImportCounts,
) -> Result<(), Error> {
    let doc = serde_json::to_string(a)?;
    let old = c.query_opt(
        "SELECT revision, release_date, doc, file FROM advisories WHERE id = ?1",
        params![&a.id],
    )?;
    match &old {
        Some(r) => match newer(a, &r.str(0)?, &r.str(1)?) {
            Ordering::Less => {
                counts.older += 1;
                return Ok(());
            }
            Ordering::Equal => {
                let stored = r.str(2)?;
                // Compared as the current model reads the stored document, so
                // a document stored by an older Ward still counts as the same.
                let same = stored == doc
                    || serde_json::from_str::<Advisory>(&stored)
                        .ok()
                        .and_then(|s| serde_json::to_string(&s).ok())
                        .is_some_and(|s| s == doc);
                if same {
                    counts.unchanged += 1;
                    return Ok(());
                }
                return Err(Error::FeedConflict(format!(
                    "{file}: advisory {} revision {:?} ({}) is already stored with other content (from {}); a changed advisory needs a new revision",
                    a.id,
                    a.revision,
                    a.release_date,
                    r.str(3)?
                )));
            }
            Ordering::Greater => counts.updated += 1,
        },
        None => counts.new += 1,
    }
    c.execute(
        "DELETE FROM advisory_products WHERE advisory_id = ?1",
        params![&a.id],
    )?;
    c.execute(
        "INSERT INTO advisories(id, source, title, severity, revision, release_date, file, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO UPDATE SET source = excluded.source, title = excluded.title, severity = excluded.severity,
           revision = excluded.revision, release_date = excluded.release_date, file = excluded.file, doc = excluded.doc",
        params![&a.id, a.source.as_str(), &a.title, a.severity.clone(), &a.revision, &a.release_date, file, doc],
    )?;
    for p in &a.products {
        c.execute(
            "INSERT INTO advisory_products(advisory_id, product_id, vendor, product, version_text, rule) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(advisory_id, product_id) DO UPDATE SET vendor = excluded.vendor, product = excluded.product,
               version_text = excluded.version_text, rule = excluded.rule",
            params![&a.id, &p.id, &p.vendor, &p.name, &p.version_text, serde_json::to_string(&p.versions)?],
        )?;
    }
    Ok(())
}

fn put_kev(
    c: &mut Conn,
    version: &str,
    e: &KevEntry,
    counts: &mut ImportCounts,
) -> Result<(), Error> {
    let old = c.query_opt(
        "SELECT vendor, product, name, date_added, ransomware, due_date FROM kev WHERE cve = ?1",
        params![&e.cve],
    )?;
    let now = (
        e.vendor.clone(),
        e.product.clone(),
        e.name.clone(),
        e.date_added.clone(),
        e.ransomware.clone(),
        e.due_date.clone(),
    );
    match old {
        Some(o)
            if (
                o.str(0)?,
                o.str(1)?,
                o.str(2)?,
                o.str(3)?,
                o.str(4)?,
                o.str(5)?,
            ) == now =>
        {
            counts.unchanged += 1;
            return Ok(());
        }
        Some(_) => counts.updated += 1,
        None => counts.new += 1,
    }
    c.execute(
        "INSERT INTO kev(cve, vendor, product, name, date_added, ransomware, catalog_version, due_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(cve) DO UPDATE SET vendor = excluded.vendor, product = excluded.product, name = excluded.name,
           date_added = excluded.date_added, ransomware = excluded.ransomware, catalog_version = excluded.catalog_version,
           due_date = excluded.due_date",
        params![&e.cve, &e.vendor, &e.product, &e.name, &e.date_added, &e.ransomware, version, &e.due_date],
    )?;
    Ok(())
}

/// Scores of an EPSS file: inserted, or replaced when the file is at least
/// as new as the stored score (`score_date`); an older file's scores are
/// skipped and counted.
fn put_epss(
    c: &mut Conn,
    cat: &advisory::EpssCatalog,
    counts: &mut ImportCounts,
) -> Result<(), Error> {
    for e in &cat.scores {
        let (ppm, pct) = (to_ppm(e.epss), to_ppm(e.percentile));
        let old = c.query_opt(
            "SELECT epss_ppm, percentile_ppm, score_date FROM epss WHERE cve = ?1",
            params![&e.cve],
        )?;
        match old {
            Some(o) if o.str(2)?.as_str() > cat.score_date.as_str() => {
                counts.older += 1;
                continue;
            }
            Some(o) if o.i64(0)? == ppm && o.i64(1)? == pct => {
                counts.unchanged += 1;
                continue;
            }
            Some(_) => counts.updated += 1,
            None => counts.new += 1,
        }
        c.execute(
            "INSERT INTO epss(cve, epss_ppm, percentile_ppm, score_date, model_version) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(cve) DO UPDATE SET epss_ppm = excluded.epss_ppm, percentile_ppm = excluded.percentile_ppm,
               score_date = excluded.score_date, model_version = excluded.model_version",
            params![&e.cve, ppm, pct, &cat.score_date, &cat.model_version],
        )?;
    }
    Ok(())
}

/// A score in 0..=1 as parts per million.
fn to_ppm(v: f32) -> i64 {
    (f64::from(v) * 1e6).round() as i64
}

/// One recall, inserted or replaced by its id. The class (only in
/// enforcement reports) and the action (only in recall records) of the same
/// recall are kept when the other file leaves them empty.
fn put_recall(
    c: &mut Conn,
    r: &advisory::Recall,
    file: &str,
    counts: &mut ImportCounts,
) -> Result<(), Error> {
    let old = c.query_opt(
        "SELECT firm, product, reason, class, action, status, started, product_code FROM recalls WHERE id = ?1",
        params![&r.id],
    )?;
    let now = [
        &r.firm,
        &r.product,
        &r.reason,
        &r.class,
        &r.action,
        &r.status,
        &r.date,
        &r.product_code,
    ];
    match old {
        Some(o)
            if (0..8)
                .map(|i| o.str(i))
                .collect::<Result<Vec<_>, _>>()?
                .iter()
                .zip(now)
                .enumerate()
                // class (3) and action (4) are kept when this file leaves them empty.
                .all(|(i, (a, b))| a == b || ((i == 3 || i == 4) && b.is_empty())) =>
        {
            counts.unchanged += 1;
            return Ok(());
        }
        Some(_) => counts.updated += 1,
        None => counts.new += 1,
    }
    c.execute(
        "INSERT INTO recalls(id, firm, product, reason, class, action, status, started, product_code, file)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(id) DO UPDATE SET firm = excluded.firm, product = excluded.product, reason = excluded.reason,
           class = CASE WHEN excluded.class <> '' THEN excluded.class ELSE recalls.class END,
           action = CASE WHEN excluded.action <> '' THEN excluded.action ELSE recalls.action END,
           status = excluded.status, started = excluded.started,
           product_code = excluded.product_code, file = excluded.file",
        params![&r.id, &r.firm, &r.product, &r.reason, &r.class, &r.action, &r.status, &r.date, &r.product_code, file],
    )?;
    Ok(())
}

impl Store {
    /// Every stored openFDA recall, by id.
    pub fn recalls(&self) -> Result<Vec<advisory::Recall>, Error> {
        let rows = self.conn().query(
            "SELECT id, firm, product, reason, class, action, status, started, product_code FROM recalls ORDER BY id",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(advisory::Recall {
                    id: r.str(0)?,
                    firm: r.str(1)?,
                    product: r.str(2)?,
                    reason: r.str(3)?,
                    class: r.str(4)?,
                    action: r.str(5)?,
                    status: r.str(6)?,
                    date: r.str(7)?,
                    product_code: r.str(8)?,
                })
            })
            .collect()
    }

    /// Stores parsed feed files. One transaction: on error nothing of this
    /// call is stored.
    pub fn import_feeds(&mut self, files: &[FeedFile]) -> Result<ImportReport, Error> {
        self.import_feeds_synced(files, &[])
    }

    /// Stores parsed feed files and records the sync states, in one
    /// transaction: on error nothing of this call is stored.
    pub fn import_feeds_synced(
        &mut self,
        files: &[FeedFile],
        sync: &[SyncState],
    ) -> Result<ImportReport, Error> {
        self.conn.get_mut().transaction(|tx| {
            for st in sync {
                tx.execute(
                    "INSERT INTO feed_sync(source, url, synced_at, synced_unix, documents) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(source) DO UPDATE SET url = excluded.url, synced_at = excluded.synced_at,
                       synced_unix = excluded.synced_unix, documents = excluded.documents",
                    params![&st.source, &st.url, &st.synced_at, st.synced_unix, st.documents],
                )?;
            }
            let mut rep = ImportReport::default();
            for f in files {
                let c = match f.feed {
                    Feed::Csaf(_) => &mut rep.csaf,
                    Feed::Nvd(_) => &mut rep.nvd,
                    Feed::Kev(_) => &mut rep.kev,
                    Feed::Epss(_) => &mut rep.epss,
                    Feed::Recalls(_) => &mut rep.recalls,
                };
                c.files += 1;
                let known = tx.query_opt("SELECT sha256 FROM feed_files WHERE path = ?1", params![&f.name])?.map(|r| r.str(0)).transpose()?;
                if known.as_deref() == Some(f.sha256.as_str()) {
                    c.files_unchanged += 1;
                } else {
                    tx.execute(
                        "INSERT INTO feed_files(path, kind, sha256, bytes, items) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT(path) DO UPDATE SET kind = excluded.kind, sha256 = excluded.sha256, bytes = excluded.bytes, items = excluded.items",
                        params![&f.name, f.feed.kind(), &f.sha256, f.bytes as u64, f.feed.items() as u64],
                    )?;
                }
                match &f.feed {
                    Feed::Csaf(a) => put_advisory(tx, a, &f.name, c)?,
                    Feed::Nvd(v) => {
                        for a in v {
                            put_advisory(tx, a, &f.name, c)?;
                        }
                    }
                    Feed::Kev(k) => {
                        for e in &k.entries {
                            put_kev(tx, &k.version, e, c)?;
                        }
                    }
                    Feed::Epss(e) => put_epss(tx, e, c)?,
                    Feed::Recalls(v) => {
                        for r in v {
                            put_recall(tx, r, &f.name, c)?;
                        }
                    }
                }
            }
            Ok(rep)
        })
    }

    /// The last successful sync of `source`, if any.
    pub fn sync_state(&self, source: &str) -> Result<Option<SyncState>, Error> {
        let row = self.conn().query_opt("SELECT source, url, synced_at, synced_unix, documents FROM feed_sync WHERE source = ?1", params![source])?;
        row.map(|r| {
            Ok(SyncState {
                source: r.str(0)?,
                url: r.str(1)?,
                synced_at: r.str(2)?,
                synced_unix: r.i64(3)?,
                documents: r.i64(4)?.max(0) as u64,
            })
        })
        .transpose()
    }

    /// Counts of what is stored.
    pub fn feed_totals(&self) -> Result<FeedTotals, Error> {
        let mut c = self.conn();
        let mut n =
            |sql: &str| -> Result<u64, Error> { Ok(c.query_one(sql, &[])?.i64(0)?.max(0) as u64) };
        Ok(FeedTotals {
            csaf: n("SELECT count(*) FROM advisories WHERE source = 'csaf'")?,
            nvd: n("SELECT count(*) FROM advisories WHERE source = 'nvd'")?,
            products: n("SELECT count(*) FROM advisory_products")?,
            kev: n("SELECT count(*) FROM kev")?,
            epss: n("SELECT count(*) FROM epss")?,
            recalls: n("SELECT count(*) FROM recalls")?,
            files: n("SELECT count(*) FROM feed_files")?,
        })
    }

    /// Every stored advisory and KEV entry, indexed for matching.
    pub fn advisory_db(&self) -> Result<AdvisoryDb, Error> {
        let mut c = self.conn();
        let advisories = c
            .query("SELECT doc FROM advisories ORDER BY id", &[])?
            .iter()
            .map(|r| Ok(serde_json::from_str(&r.str(0)?)?))
            .collect::<Result<Vec<Advisory>, Error>>()?;
        let kev = c
            .query(
                "SELECT cve, vendor, product, name, date_added, ransomware, due_date FROM kev ORDER BY cve",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(KevEntry {
                    cve: r.str(0)?,
                    vendor: r.str(1)?,
                    product: r.str(2)?,
                    name: r.str(3)?,
                    date_added: r.str(4)?,
                    ransomware: r.str(5)?,
                    due_date: r.str(6)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let epss = c
            .query("SELECT cve, epss_ppm, percentile_ppm FROM epss", &[])?
            .iter()
            .map(|r| {
                Ok(advisory::EpssScore {
                    cve: r.str(0)?,
                    epss: (r.i64(1)? as f64 / 1e6) as f32,
                    percentile: (r.i64(2)? as f64 / 1e6) as f32,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(AdvisoryDb::new(advisories, kev).with_epss(epss))
    }

    /// Stores declared devices (upsert by [`DeclaredDevice::key`]). One transaction.
    pub fn import_declared(&mut self, devices: &[DeclaredDevice]) -> Result<DeclaredCounts, Error> {
        self.conn.get_mut().transaction(|tx| {
            let mut c = DeclaredCounts::default();
            for d in devices {
                let key = d.key();
                let old = tx.query_opt(
                    "SELECT vendor, model, firmware, serial, location, asset_tag, mac, ip, hostname, backup_method, backup_destination, last_restore FROM declared_devices WHERE key = ?1",
                    params![&key],
                )?;
                match old {
                    Some(o) => {
                        let stored = (0..12).map(|i| o.str(i)).collect::<Result<Vec<_>, Error>>()?;
                        if stored.iter().map(String::as_str).eq(d.content()) {
                            c.unchanged += 1;
                            continue;
                        }
                        c.updated += 1;
                    }
                    None => c.new += 1,
                }
                tx.execute(
                    "INSERT INTO declared_devices(key, vendor, model, firmware, serial, location, source, line, asset_tag, mac, ip, hostname, backup_method, backup_destination, last_restore)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                     ON CONFLICT(key) DO UPDATE SET vendor = excluded.vendor, model = excluded.model, firmware = excluded.firmware,
                       serial = excluded.serial, location = excluded.location, source = excluded.source, line = excluded.line,
                       asset_tag = excluded.asset_tag, mac = excluded.mac, ip = excluded.ip, hostname = excluded.hostname,
                       backup_method = excluded.backup_method, backup_destination = excluded.backup_destination, last_restore = excluded.last_restore",
                    params![&key, &d.vendor, &d.model, &d.firmware, &d.serial, &d.location, &d.source, d.line, &d.asset_tag, &d.mac, &d.ip, &d.hostname, &d.backup_method, &d.backup_destination, &d.last_restore],
                )?;
            }
            Ok(c)
        })
    }

    /// Whether any device is declared (a CMMS import holds a row).
    pub fn has_declared_devices(&self) -> Result<bool, Error> {
        Ok(self
            .conn()
            .query_opt("SELECT 1 FROM declared_devices LIMIT 1", &[])?
            .is_some())
    }

    /// Declared devices, by key.
    pub fn declared_devices(&self) -> Result<Vec<DeclaredDevice>, Error> {
        let rows = self.conn().query(
            "SELECT vendor, model, firmware, serial, location, source, line, asset_tag, mac, ip, hostname, backup_method, backup_destination, last_restore FROM declared_devices ORDER BY key",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(DeclaredDevice {
                    vendor: r.str(0)?,
                    model: r.str(1)?,
                    firmware: r.str(2)?,
                    serial: r.str(3)?,
                    location: r.str(4)?,
                    source: r.str(5)?,
                    line: r.i64(6)?.max(0) as u64,
                    asset_tag: r.str(7)?,
                    mac: r.str(8)?,
                    ip: r.str(9)?,
                    hostname: r.str(10)?,
                    backup_method: r.str(11)?,
                    backup_destination: r.str(12)?,
                    last_restore: r.str(13)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use advisory::parse_feed;

    fn csaf(version: &str, date: &str, range: &str) -> FeedFile {
        let j = format!(
            r#"{{"document":{{"csaf_version":"2.0","title":"DCMTK","tracking":{{"id":"ICSMA-X","version":"{version}","current_release_date":"{date}"}}}},
            "product_tree":{{"branches":[{{"category":"vendor","name":"OFFIS","branches":[{{"category":"product_name","name":"DCMTK","branches":[
              {{"category":"product_version_range","name":"{range}","product":{{"name":"DCMTK","product_id":"P1"}}}}]}}]}}]}},
            "vulnerabilities":[{{"cve":"CVE-2022-2119","product_status":{{"known_affected":["P1"]}}}}]}}"#
        );
        parse_feed("x.json", j.as_bytes()).unwrap()
    }

    #[test]
    fn idempotent_and_revision_aware() {
        crate::testing::each_backend("feeds_idempotent", idempotent);
    }

    fn idempotent(mut s: Store) {
        let r = s
            .import_feeds(&[csaf("1", "2022-01-01", "< 3.6.7")])
            .unwrap();
        assert_eq!((r.csaf.new, r.csaf.files), (1, 1));
        let r = s
            .import_feeds(&[csaf("1", "2022-01-01", "< 3.6.7")])
            .unwrap();
        assert_eq!(
            (r.csaf.new, r.csaf.unchanged, r.csaf.files_unchanged),
            (0, 1, 1)
        );
        let r = s
            .import_feeds(&[csaf("2", "2022-02-01", "< 3.6.8")])
            .unwrap();
        assert_eq!(r.csaf.updated, 1);
        let r = s
            .import_feeds(&[csaf("1", "2022-01-01", "< 3.6.7")])
            .unwrap();
        assert_eq!(r.csaf.older, 1);
        let db = s.advisory_db().unwrap();
        assert_eq!(
            db.advisories()[0].products[0].version_text,
            "< 3.6.8",
            "the newer revision is kept"
        );
        assert_eq!(
            s.feed_totals().unwrap(),
            FeedTotals {
                csaf: 1,
                nvd: 0,
                products: 1,
                kev: 0,
                epss: 0,
                recalls: 0,
                files: 1
            }
        );
    }

    /// Issue 19, item 8: the same advisory revision with other content is an
    /// error naming both files, and the import stores nothing (the stored
    /// revision stays).
    #[test]
    fn same_revision_other_content_is_refused() {
        crate::testing::each_backend("feeds_same_revision", same_revision);
    }

    fn same_revision(mut s: Store) {
        s.import_feeds(&[csaf("2", "2022-02-01", "< 3.6.8")])
            .unwrap();
        let mut forged = csaf("2", "2022-02-01", "< 9.9.9");
        forged.name = "forged.json".into();
        let e = s.import_feeds(&[forged]).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "forged.json: advisory ICSMA-X revision \"2\" (2022-02-01) is already stored with other content (from x.json)"
            ),
            "{e}"
        );
        let db = s.advisory_db().unwrap();
        assert_eq!(db.advisories()[0].products[0].version_text, "< 3.6.8");
        assert_eq!(s.feed_totals().unwrap().files, 1, "nothing of it stored");
        // The same content again is still simply unchanged.
        let r = s
            .import_feeds(&[csaf("2", "2022-02-01", "< 3.6.8")])
            .unwrap();
        assert_eq!(r.csaf.unchanged, 1);
    }

    #[test]
    fn declared_devices_upsert() {
        crate::testing::each_backend("declared_devices_upsert", declared);
    }

    fn declared(mut s: Store) {
        let d = DeclaredDevice {
            vendor: "OFFIS".into(),
            model: "DCMTK".into(),
            firmware: "3.6.6".into(),
            serial: "S1".into(),
            ..Default::default()
        };
        assert_eq!(s.import_declared(std::slice::from_ref(&d)).unwrap().new, 1);
        assert_eq!(
            s.import_declared(std::slice::from_ref(&d))
                .unwrap()
                .unchanged,
            1
        );
        let d2 = DeclaredDevice {
            firmware: "3.6.7".into(),
            ..d
        };
        assert_eq!(
            s.import_declared(std::slice::from_ref(&d2))
                .unwrap()
                .updated,
            1
        );
        assert_eq!(s.declared_devices().unwrap()[0].firmware, "3.6.7");
        // The link fields are stored, and a change to one is an update.
        let d3 = DeclaredDevice {
            mac: "00:1a:2b:3c:4d:5e".into(),
            ip: "10.1.2.3".into(),
            hostname: "pump-7".into(),
            asset_tag: "BME-0042".into(),
            ..d2
        };
        assert_eq!(
            s.import_declared(std::slice::from_ref(&d3))
                .unwrap()
                .updated,
            1
        );
        assert_eq!(s.declared_devices().unwrap(), vec![d3.clone()]);
        assert_eq!(
            s.import_declared(std::slice::from_ref(&d3))
                .unwrap()
                .unchanged,
            1
        );
        // So is the declared backup plan (migration 12).
        let d4 = DeclaredDevice {
            backup_method: "Veeam agent".into(),
            backup_destination: "vault-2".into(),
            last_restore: "2025-11-02".into(),
            ..d3
        };
        assert_eq!(
            s.import_declared(std::slice::from_ref(&d4))
                .unwrap()
                .updated,
            1
        );
        assert_eq!(s.declared_devices().unwrap(), vec![d4.clone()]);
        assert_eq!(s.import_declared(&[d4]).unwrap().unchanged, 1);
    }
}
