//! What Ward's own backups need from the store (SQLite migration 14,
//! PostgreSQL: the last migration): a consistent copy of a SQLite database taken
//! while other processes write (`VACUUM INTO`, one read transaction), the
//! counts a backup's manifest records and a restore drill compares, SQLite's
//! integrity check, the drills themselves (`backup_drills`), kept as
//! evidence that restores were tried and how they went, and the backups
//! taken (`backup_runs`: the dashboard's and the API's backup status).
//!
//! **Invariant:** a snapshot is never a copy of the live file: it is what one
//! read transaction sees, so a writer committing meanwhile is either wholly in
//! it or wholly absent. Plain portable SQL, one block for both backends.

use crate::db::{params, Conn};
use crate::{Error, Store};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub(crate) const MIGRATION: &str = r#"
CREATE TABLE backup_drills(
    at BIGINT NOT NULL,
    snapshot TEXT NOT NULL,
    repository TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    passed BIGINT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX backup_drills_at ON backup_drills(at);
CREATE TABLE backup_runs(
    at BIGINT NOT NULL,
    snapshot TEXT NOT NULL,
    repository TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    passed BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    bytes_added BIGINT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX backup_runs_at ON backup_runs(at);
"#;

/// One backup of Ward's own state (`ward backup create` or a scheduled one
/// of `ward serve --backup-every`): when, into which repository, how big,
/// and whether it worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRun {
    /// When it finished (Unix seconds).
    pub at: i64,
    /// Snapshot id (restic's hex id); empty when it failed.
    pub snapshot: String,
    /// The repository, as named on the command line (never a password).
    pub repository: String,
    /// How long it took.
    pub duration_ms: u64,
    /// Whether a snapshot was written.
    pub passed: bool,
    /// Bytes of the files backed up.
    pub bytes: u64,
    /// New data it added to the repository, as stored (compressed, encrypted).
    pub bytes_added: u64,
    /// One line: what it holds, or what failed.
    pub detail: String,
}

/// What a backup's manifest counts and a restore drill compares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Schema version of the database.
    pub schema_version: i64,
    /// Rows in `devices` (the inventory).
    pub devices: u64,
    /// Rows in `facts`.
    pub facts: u64,
    /// Rows in `alerts`.
    pub alerts: u64,
    /// Rows in `audit` (the audit log).
    pub audit: u64,
    /// Accounts.
    pub users: u64,
    /// Analysis runs.
    pub runs: u64,
}

/// One restore drill: a snapshot restored into a scratch directory, opened and
/// compared with its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drill {
    /// When it ran (Unix seconds).
    pub at: i64,
    /// Snapshot id (restic's hex id).
    pub snapshot: String,
    /// The repository, as named on the command line (never a password).
    pub repository: String,
    /// How long restore, open and comparison took.
    pub duration_ms: u64,
    /// Whether the restored store opened, passed the integrity check and matched the manifest.
    pub passed: bool,
    /// One line: what was compared, or what failed.
    pub detail: String,
}

/// The counts, one statement (one read snapshot) for the rows.
fn counts(conn: &mut Conn) -> Result<Counts, Error> {
    let version_sql = match conn {
        Conn::Sqlite(_) => "SELECT user_version FROM pragma_user_version",
        Conn::Postgres(_) => "SELECT version FROM ward_schema",
    };
    let schema_version = conn.query_one(version_sql, &[])?.i64(0)?;
    let row = conn.query_one(
        "SELECT (SELECT count(*) FROM devices), (SELECT count(*) FROM facts), \
         (SELECT count(*) FROM alerts), (SELECT count(*) FROM audit), \
         (SELECT count(*) FROM users), (SELECT count(*) FROM runs)",
        &[],
    )?;
    let n = |i: usize| -> Result<u64, Error> { Ok(row.i64(i)?.max(0) as u64) };
    Ok(Counts {
        schema_version,
        devices: n(0)?,
        facts: n(1)?,
        alerts: n(2)?,
        audit: n(3)?,
        users: n(4)?,
        runs: n(5)?,
    })
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `dest` (which must
    /// not exist) with `VACUUM INTO`: what one read transaction sees, compacted.
    /// Writers in other processes go on meanwhile. Returns the copy's counts
    /// (read from the copy, so they describe exactly what it holds).
    /// PostgreSQL stores are refused (back them up with `pg_dump`).
    pub fn snapshot_into(&self, dest: &Path) -> Result<Counts, Error> {
        let dest_str = dest
            .to_str()
            .ok_or_else(|| Error::Value("snapshot path is not UTF-8".into()))?;
        match &mut *self.conn() {
            Conn::Sqlite(c) => {
                c.execute("VACUUM INTO ?1", [dest_str])?;
            }
            Conn::Postgres(_) => {
                return Err(Error::Value(
                    "a PostgreSQL store is backed up with pg_dump, not ward backup".into(),
                ))
            }
        }
        let copy = rusqlite::Connection::open_with_flags(
            dest,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mut conn = Conn::Sqlite(copy);
        counts(&mut conn)
    }

    /// The counts a backup manifest records.
    pub fn backup_counts(&self) -> Result<Counts, Error> {
        counts(&mut self.conn())
    }

    /// SQLite's `PRAGMA integrity_check`: `Ok(())` when it answers `ok`,
    /// else its first findings (one line). PostgreSQL has no such check: `Ok(())`.
    pub fn integrity_check(&self) -> Result<Result<(), String>, Error> {
        match &mut *self.conn() {
            Conn::Sqlite(c) => {
                let mut st = c.prepare("PRAGMA integrity_check(20)")?;
                let lines: Vec<String> = st
                    .query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<_, _>>()?;
                if lines.len() == 1 && lines[0] == "ok" {
                    Ok(Ok(()))
                } else {
                    Ok(Err(lines.join("; ")))
                }
            }
            Conn::Postgres(_) => Ok(Ok(())),
        }
    }

    /// Records a restore drill.
    pub fn record_drill(&self, d: &Drill) -> Result<(), Error> {
        self.conn().execute(
            "INSERT INTO backup_drills(at, snapshot, repository, duration_ms, passed, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                d.at,
                d.snapshot.as_str(),
                d.repository.as_str(),
                d.duration_ms.min(i64::MAX as u64) as i64,
                i64::from(d.passed),
                d.detail.as_str()
            ],
        )?;
        Ok(())
    }

    /// Records a backup of Ward's own state.
    pub fn record_backup_run(&self, r: &BackupRun) -> Result<(), Error> {
        let big = |v: u64| v.min(i64::MAX as u64) as i64;
        self.conn().execute(
            "INSERT INTO backup_runs(at, snapshot, repository, duration_ms, passed, bytes, bytes_added, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                r.at,
                r.snapshot.as_str(),
                r.repository.as_str(),
                big(r.duration_ms),
                i64::from(r.passed),
                big(r.bytes),
                big(r.bytes_added),
                r.detail.as_str()
            ],
        )?;
        Ok(())
    }

    /// The most recent backups of Ward's own state, newest first.
    pub fn backup_runs(&self, limit: u32) -> Result<Vec<BackupRun>, Error> {
        let rows = self.conn().query(
            "SELECT at, snapshot, repository, duration_ms, passed, bytes, bytes_added, detail FROM backup_runs ORDER BY at DESC LIMIT ?1",
            params![i64::from(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(BackupRun {
                    at: r.i64(0)?,
                    snapshot: r.str(1)?,
                    repository: r.str(2)?,
                    duration_ms: r.i64(3)?.max(0) as u64,
                    passed: r.i64(4)? != 0,
                    bytes: r.i64(5)?.max(0) as u64,
                    bytes_added: r.i64(6)?.max(0) as u64,
                    detail: r.str(7)?,
                })
            })
            .collect()
    }

    /// The most recent restore drills, newest first.
    pub fn drills(&self, limit: u32) -> Result<Vec<Drill>, Error> {
        let rows = self.conn().query(
            "SELECT at, snapshot, repository, duration_ms, passed, detail FROM backup_drills ORDER BY at DESC LIMIT ?1",
            params![i64::from(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Drill {
                    at: r.i64(0)?,
                    snapshot: r.str(1)?,
                    repository: r.str(2)?,
                    duration_ms: r.i64(3)?.max(0) as u64,
                    passed: r.i64(4)? != 0,
                    detail: r.str(5)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_holds_what_was_committed_and_drills_are_kept() {
        let dir = std::env::temp_dir().join(format!("ward-store-backup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("a.db")).unwrap();
        store
            .record_drill(&Drill {
                at: 5,
                snapshot: "abc".into(),
                repository: "/r".into(),
                duration_ms: 12,
                passed: true,
                detail: "ok".into(),
            })
            .unwrap();
        let before = store.backup_counts().unwrap();
        assert_eq!(store.snapshot_into(&dir.join("copy.db")).unwrap(), before);
        let copy = Store::open(&dir.join("copy.db")).unwrap();
        assert_eq!(copy.backup_counts().unwrap(), before);
        assert_eq!(copy.integrity_check().unwrap(), Ok(()));
        assert_eq!(copy.drills(10).unwrap().len(), 1);
        assert_eq!(before.schema_version, crate::SCHEMA_VERSION);
        // An existing destination is refused, not overwritten.
        assert!(store.snapshot_into(&dir.join("copy.db")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
