//! `ward backup`: Ward's own state (the SQLite store, its secret key file and
//! the state directory) into an encrypted restic-format repository, and back
//! (crate `backup` does the repository work). This module knows where Ward
//! keeps things: the key file beside the store (or `$WARD_KEY_FILE`), the
//! state directory, the scratch directory; and it records restore drills in
//! the store as evidence.

use backup::{Location, Password};
use std::path::{Path, PathBuf};
use store::backup::{BackupRun, Drill};

pub use backup::{CheckReport, Created, Forgot, Manifest, Restored, SnapshotInfo};

/// What can go wrong (one line each).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository side.
    #[error(transparent)]
    Backup(#[from] backup::Error),
    /// The store side.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// No store at the path given.
    #[error("no Ward database at {0}")]
    NoStore(String),
    /// A PostgreSQL store.
    #[error(
        "{0} is a PostgreSQL store: back it up with pg_dump (ward backup covers SQLite stores)"
    )]
    Postgres(String),
    /// Neither `--password-file` nor `WARD_BACKUP_PASSWORD`.
    #[error("no backup password: give --password-file FILE or set WARD_BACKUP_PASSWORD")]
    NoPassword,
}

/// A repository and its password.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where.
    pub location: Location,
    /// The password.
    pub password: Password,
}

impl Target {
    /// From `--repo` and `--password-file` (else `WARD_BACKUP_PASSWORD`).
    pub fn new(repo: &str, password_file: Option<&Path>) -> Result<Target, Error> {
        let location = Location::parse(repo)?;
        let password = match password_file {
            Some(f) => Password::from_file(f)?,
            None => Password::from_env().ok_or(Error::NoPassword)??,
        };
        Ok(Target { location, password })
    }
}

/// The key file of the SQLite store at `db` (as the store finds it).
fn key_file(db: &Path) -> PathBuf {
    match std::env::var_os(store::secrets::KEY_FILE_ENV).filter(|v| !v.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => {
            let mut s = db.as_os_str().to_owned();
            s.push(".key");
            s.into()
        }
    }
}

fn existing_sqlite(db: &Path) -> Result<store::Store, Error> {
    let shown = crate::location::label(db);
    if db.to_str().is_some_and(store::is_postgres_url) {
        return Err(Error::Postgres(shown));
    }
    if !db.is_file() {
        return Err(Error::NoStore(model::text::clean(&shown).into_owned()));
    }
    Ok(store::Store::open(db)?)
}

/// Creates a repository.
pub fn init(t: &Target) -> Result<(), Error> {
    Ok(backup::init(&t.location, &t.password)?)
}

/// Backs up the store at `db` and the state directory `state_dir` (when it exists).
pub fn create(t: &Target, db: &Path, state_dir: &Path) -> Result<Created, Error> {
    let store = existing_sqlite(db)?;
    let source = backup::Source {
        db: db.to_path_buf(),
        key_file: Some(key_file(db)),
        state_dir: Some(state_dir.to_path_buf()),
        scratch: std::env::temp_dir(),
    };
    let created = backup::create(
        &t.location,
        &t.password,
        &source,
        &store,
        env!("CARGO_PKG_VERSION"),
    )?;
    let m = &created.manifest.counts;
    store.record_backup_run(&BackupRun {
        at: unix_now(),
        snapshot: created.snapshot.clone(),
        repository: t.location.display(),
        duration_ms: (created.seconds * 1000.0).round().max(0.0) as u64,
        passed: true,
        bytes: created.bytes_processed,
        bytes_added: created.bytes_added_packed,
        detail: format!(
            "{} devices, {} alerts, {} audit entries, {} users",
            m.devices, m.alerts, m.audit, m.users
        ),
    })?;
    Ok(created)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A scheduled backup (`ward serve --backup-every`): [`create`], and when it
/// fails, the failure recorded in the store (one line, no password) so the
/// dashboard shows it. Returns the line to log.
pub fn scheduled(t: &Target, db: &Path, state_dir: &Path) -> String {
    let started = std::time::Instant::now();
    match create(t, db, state_dir) {
        Ok(c) => format!(
            "backup: snapshot {} of {} into {} ({} bytes added)",
            c.snapshot,
            crate::location::label(db),
            t.location.display(),
            c.bytes_added_packed
        ),
        Err(e) => {
            let why = model::text::bounded(e.to_string().as_bytes(), 300);
            let run = BackupRun {
                at: unix_now(),
                snapshot: String::new(),
                repository: t.location.display(),
                duration_ms: started.elapsed().as_millis() as u64,
                passed: false,
                bytes: 0,
                bytes_added: 0,
                detail: why.clone(),
            };
            if let Ok(s) = existing_sqlite(db) {
                let _ = s.record_backup_run(&run);
            }
            format!("backup: FAILED into {}: {why}", t.location.display())
        }
    }
}

/// Backup status for the dashboard and the API: the last successful and
/// the last failed backup, recent backups and recent drills.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Status {
    /// The newest successful backup.
    pub last_success: Option<BackupRun>,
    /// The newest failed one, when newer than the last success.
    pub failing_since: Option<BackupRun>,
    /// Seconds since the last success (at `now`).
    pub age_secs: Option<i64>,
    /// The newest backups, newest first (at most 20).
    pub runs: Vec<BackupRun>,
    /// The newest restore drills, newest first (at most 20).
    pub drills: Vec<Drill>,
}

/// [`Status`] of the store `s` at `now` (Unix seconds).
pub fn status(s: &store::Store, now: i64) -> Result<Status, store::Error> {
    let runs = s.backup_runs(20)?;
    let last_success = match runs.iter().find(|r| r.passed) {
        Some(r) => Some(r.clone()),
        None => s.backup_runs(10_000)?.into_iter().find(|r| r.passed),
    };
    let failing_since = runs.iter().take_while(|r| !r.passed).last().cloned();
    Ok(Status {
        age_secs: last_success.as_ref().map(|r| (now - r.at).max(0)),
        last_success,
        failing_since,
        runs,
        drills: s.drills(20)?,
    })
}

/// The repository's snapshots, and the drills recorded in the store at `db`
/// (none when there is no store there).
pub fn list(t: &Target, db: &Path) -> Result<(Vec<SnapshotInfo>, Vec<Drill>), Error> {
    let snaps = backup::list(&t.location, &t.password)?;
    let drills = drills(db, 20)?;
    Ok((snaps, drills))
}

/// The most recent drills recorded in the store at `db` (none without a store).
pub fn drills(db: &Path, limit: u32) -> Result<Vec<Drill>, Error> {
    if db.is_file() {
        Ok(store::Store::open(db)?.drills(limit)?)
    } else {
        Ok(Vec::new())
    }
}

/// Checks the repository (reading every pack unless `structure_only`).
pub fn check(t: &Target, structure_only: bool) -> Result<CheckReport, Error> {
    Ok(backup::check(&t.location, &t.password, !structure_only)?)
}

/// Restores snapshot `which` into `to`.
pub fn restore(t: &Target, which: &str, to: &Path) -> Result<Restored, Error> {
    Ok(backup::restore(&t.location, &t.password, which, to)?)
}

/// Applies the retention and prunes.
pub fn forget(t: &Target, daily: u32, weekly: u32) -> Result<Forgot, Error> {
    Ok(backup::forget(&t.location, &t.password, daily, weekly)?)
}

/// Runs a restore drill of `which` and records it in the store at `db`.
pub fn verify_restore(t: &Target, which: &str, db: &Path) -> Result<Drill, Error> {
    let store = existing_sqlite(db)?;
    let drill = backup::verify_restore(&t.location, &t.password, which, &std::env::temp_dir())?;
    store.record_drill(&drill)?;
    Ok(drill)
}
