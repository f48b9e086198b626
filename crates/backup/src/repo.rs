//! The repository operations behind `ward backup`: `init`, `create`, `list`,
//! `check`, `restore`, `forget` (with prune) and `verify_restore`, each
//! opening the repository through `rustic_core` with the cache off (nothing is
//! written outside the repository and the scratch directories Ward makes and
//! removes).
//!
//! Restores do not use `rustic_core`'s parallel restorer (it panics in worker
//! threads on a blob that does not decrypt); each file is written with
//! `Repository::dump`, which returns the error, into a fresh directory that
//! is renamed into place only when everything verified.

use crate::{clean, io_err, Error, Location, Password};
use rustic_core::jiff::Zoned;
use rustic_core::repofile::SnapshotFile;
use rustic_core::{
    BackupOptions, CheckOptions, ConfigOptions, Credentials, KeepOptions, KeyOptions, LsOptions,
    OpenStatus, PathList, PruneOptions, Repository, RepositoryBackends, RepositoryOptions,
    RusticError, SnapshotOptions,
};
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use store::backup::{Counts, Drill};

/// The manifest's file name inside a snapshot (beside `ward.db`).
pub const MANIFEST_FILE: &str = "manifest.json";
/// The path everything has inside a snapshot.
const ROOT: &str = "/ward";
const DB_FILE: &str = "ward.db";
const KEY_FILE: &str = "ward.db.key";
const STATE_DIR: &str = "state";
/// The tag every Ward snapshot carries.
const TAG: &str = "ward";

/// What a snapshot holds, written into it as `manifest.json` and, as one JSON
/// line, into the snapshot's description (so `list` needs no restore).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format (1).
    pub format: u32,
    /// The Ward version that wrote it.
    pub ward_version: String,
    /// When the store snapshot was taken (Unix seconds).
    pub created_at: i64,
    /// Counts of the store snapshot (read from the snapshot file itself).
    pub counts: Counts,
    /// Whether the store's secret key file is included (`ward.db.key`).
    pub key_file: bool,
    /// Files included from the state directory (under `state/`).
    pub state_files: u64,
}

/// What to back up.
#[derive(Debug, Clone)]
pub struct Source {
    /// The store (it is snapshotted, never copied).
    pub db: PathBuf,
    /// The store's secret key file, when it has one.
    pub key_file: Option<PathBuf>,
    /// The state directory (certificates, ...), when it exists.
    pub state_dir: Option<PathBuf>,
    /// Where the scratch directory for the snapshot is made.
    pub scratch: PathBuf,
}

/// A new snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    /// Snapshot id (hex).
    pub snapshot: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// Bytes of the files backed up.
    pub bytes_processed: u64,
    /// New data this snapshot added to the repository (before compression).
    pub bytes_added: u64,
    /// New data as stored (compressed, encrypted).
    pub bytes_added_packed: u64,
    /// Seconds it took.
    pub seconds: f64,
}

/// One snapshot as listed.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    /// Snapshot id (hex).
    pub id: String,
    /// When it was taken (RFC 3339).
    pub time: String,
    /// Host that took it.
    pub host: String,
    /// Total bytes of its files.
    pub bytes: u64,
    /// Bytes it added to the repository.
    pub bytes_added: u64,
    /// The manifest from its description, when it is a Ward snapshot.
    pub manifest: Option<Manifest>,
}

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Snapshots in the repository.
    pub snapshots: usize,
    /// Errors (damage), one line each.
    pub errors: Vec<String>,
    /// Warnings (integrity not affected), one line each.
    pub warnings: Vec<String>,
}

/// A restored snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    /// Snapshot id (hex).
    pub snapshot: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// Where the files are.
    pub dir: PathBuf,
    /// Files written.
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// What `forget` did.
#[derive(Debug, Clone, Serialize)]
pub struct Forgot {
    /// Snapshots kept.
    pub kept: Vec<String>,
    /// Snapshots removed.
    pub removed: Vec<String>,
}

fn backends(loc: &Location) -> Result<RepositoryBackends, Error> {
    match loc {
        Location::Local(p) => {
            let s = p.to_str().ok_or_else(|| {
                Error::BadLocation(format!("{}: path is not UTF-8", loc.display()))
            })?;
            let be = rustic_backend::local::LocalBackend::new(s, Vec::<(String, String)>::new())
                .map_err(|e| Error::Repository(one_line(&e, None)))?;
            Ok(RepositoryBackends::new(Arc::new(be), None))
        }
        Location::S3 { .. } => crate::s3::backends(loc),
    }
}

fn one_line(e: &RusticError, pw: Option<&Password>) -> String {
    let text = e.display_log();
    let text = text.strip_prefix("Error: ").unwrap_or(&text);
    let text = match pw {
        Some(p) => p.redact(text),
        None => text.to_string(),
    };
    clean(&text)
}

/// Maps a library error to ours: wrong password, damage, or one line.
fn map<'a>(loc: &'a Location, pw: &'a Password) -> impl Fn(Box<RusticError>) -> Error + 'a {
    move |e| {
        if e.is_incorrect_password() {
            return Error::WrongPassword(loc.display());
        }
        let line = one_line(&e, Some(pw));
        // The kind is named in the line ("kind: related to cryptographic operations").
        let damaged = line.contains("cryptographic")
            || line.contains("verification")
            || line.contains("decrypt")
            || line.contains("MAC")
            || line.contains("hash");
        if damaged {
            Error::Damaged {
                repo: loc.display(),
                detail: line,
            }
        } else {
            Error::Repository(line)
        }
    }
}

fn new_repo(loc: &Location) -> Result<Repository<()>, Error> {
    let be = backends(loc)?;
    Repository::new(&RepositoryOptions::default().no_cache(true), &be)
        .map_err(|e| Error::Repository(one_line(&e, None)))
}

fn exists(loc: &Location, repo: &Repository<()>) -> Result<bool, Error> {
    if let Location::Local(p) = loc {
        if !p.join("config").is_file() {
            return Ok(false);
        }
    }
    Ok(repo
        .config_id()
        .map_err(|e| Error::Repository(one_line(&e, None)))?
        .is_some())
}

fn open(loc: &Location, pw: &Password) -> Result<Repository<OpenStatus>, Error> {
    let repo = new_repo(loc)?;
    if !exists(loc, &repo)? {
        return Err(Error::Missing(loc.display()));
    }
    repo.open(&Credentials::password(pw.expose()))
        .map_err(map(loc, pw))
}

/// Creates a repository (restic format, version 2: compressed). Refuses a
/// location that already holds one.
pub fn init(loc: &Location, pw: &Password) -> Result<(), Error> {
    let repo = new_repo(loc)?;
    if exists(loc, &repo)? {
        return Err(Error::Exists(loc.display()));
    }
    repo.init(
        &Credentials::password(pw.expose()),
        &KeyOptions::default(),
        &ConfigOptions::default(),
    )
    .map_err(map(loc, pw))?;
    Ok(())
}

/// A directory that is removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(parent: &Path, what: &str) -> Result<Scratch, Error> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = parent.join(format!(".ward-{what}-{}-{nanos}", std::process::id()));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.recursive(false).create(&dir).map_err(io_err(&dir))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Copies the regular files and directories of `from` into `to` (symbolic
/// links and special files are left out), skipping the live store's files.
fn copy_tree(from: &Path, to: &Path, skip: &[PathBuf], n: &mut u64) -> Result<(), Error> {
    std::fs::create_dir_all(to).map_err(io_err(to))?;
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .map_err(io_err(from))?
        .collect::<Result<_, _>>()
        .map_err(io_err(from))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let ty = e.file_type().map_err(io_err(&path))?;
        let canon = path.canonicalize().unwrap_or_else(|_| path.clone());
        if skip.contains(&canon) {
            continue;
        }
        let dest = to.join(e.file_name());
        if ty.is_dir() {
            copy_tree(&path, &dest, skip, n)?;
        } else if ty.is_file() {
            std::fs::copy(&path, &dest).map_err(io_err(&path))?;
            *n += 1;
        }
    }
    Ok(())
}

/// Snapshots the store and the state into a new repository snapshot.
/// `ward_version` goes into the manifest.
pub fn create(
    loc: &Location,
    pw: &Password,
    source: &Source,
    store: &store::Store,
    ward_version: &str,
) -> Result<Created, Error> {
    let started = Instant::now();
    let repo = open(loc, pw)?;
    let scratch = Scratch::new(&source.scratch, "backup")?;
    let stage = scratch.0.join("ward");
    std::fs::create_dir(&stage).map_err(io_err(&stage))?;
    let db = stage.join(DB_FILE);
    let counts = store.snapshot_into(&db)?;
    let key_file = match &source.key_file {
        Some(k) if k.is_file() => {
            std::fs::copy(k, stage.join(KEY_FILE)).map_err(io_err(k))?;
            true
        }
        _ => false,
    };
    let mut state_files = 0;
    if let Some(state) = source.state_dir.as_ref().filter(|d| d.is_dir()) {
        let mut skip = Vec::new();
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut s = source.db.as_os_str().to_owned();
            s.push(suffix);
            if let Ok(c) = Path::new(&s).canonicalize() {
                skip.push(c);
            }
        }
        copy_tree(state, &stage.join(STATE_DIR), &skip, &mut state_files)?;
    }
    let manifest = Manifest {
        format: 1,
        ward_version: clean(ward_version),
        created_at: now(),
        counts,
        key_file,
        state_files,
    };
    let json = serde_json::to_string(&manifest).map_err(|e| Error::Repository(e.to_string()))?;
    let mpath = stage.join(MANIFEST_FILE);
    std::fs::write(&mpath, format!("{json}\n")).map_err(io_err(&mpath))?;

    let stage_str = stage
        .to_str()
        .ok_or_else(|| Error::Target("the scratch directory's path is not UTF-8".into()))?;
    let paths = PathList::from_string(stage_str)
        .map_err(map(loc, pw))?
        .sanitize()
        .map_err(|e| Error::Repository(clean(&e.to_string())))?;
    let snap = SnapshotOptions::default()
        .add_tags(TAG)
        .and_then(|o| o.description(json.clone()).to_snapshot())
        .map_err(map(loc, pw))?;
    let opts = BackupOptions::default().as_path(PathBuf::from(ROOT));
    let repo = repo.to_indexed_ids().map_err(map(loc, pw))?;
    let snap = repo.backup(&opts, &paths, snap).map_err(map(loc, pw))?;
    let summary = snap.summary.clone().unwrap_or_default();
    Ok(Created {
        snapshot: snap.id.to_hex().to_string(),
        manifest,
        bytes_processed: summary.total_bytes_processed,
        bytes_added: summary.data_added,
        bytes_added_packed: summary.data_added_packed,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn manifest_of(snap: &SnapshotFile) -> Option<Manifest> {
    snap.description
        .as_deref()
        .and_then(|d| serde_json::from_str(d.trim()).ok())
}

/// The snapshots, oldest first.
pub fn list(loc: &Location, pw: &Password) -> Result<Vec<SnapshotInfo>, Error> {
    let repo = open(loc, pw)?;
    let mut snaps = repo.get_all_snapshots().map_err(map(loc, pw))?;
    snaps.sort_by(|a, b| a.time.cmp(&b.time));
    Ok(snaps
        .iter()
        .map(|s| {
            let summary = s.summary.clone().unwrap_or_default();
            SnapshotInfo {
                id: s.id.to_hex().to_string(),
                time: clean(&s.time.timestamp().to_string()),
                host: clean(&s.hostname),
                bytes: summary.total_bytes_processed,
                bytes_added: summary.data_added,
                manifest: manifest_of(s),
            }
        })
        .collect())
}

/// Checks the repository structure and reads every pack (`read_data`), or
/// only the structure.
pub fn check(loc: &Location, pw: &Password, read_data: bool) -> Result<CheckReport, Error> {
    let repo = open(loc, pw)?;
    let snapshots = repo.get_all_snapshots().map_err(map(loc, pw))?.len();
    let results = repo
        .check(CheckOptions::default().read_data(read_data))
        .map_err(map(loc, pw))?;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for (level, e) in results.0 {
        let line = clean(&pw.redact(&e.to_string()));
        // The level's type is not exported by rustic_core; its Debug names it.
        if format!("{level:?}") == "Warn" {
            warnings.push(line);
        } else {
            errors.push(line);
        }
    }
    Ok(CheckReport {
        snapshots,
        errors,
        warnings,
    })
}

/// Keeps the last `daily` days' and `weekly` weeks' newest snapshots, removes
/// the others and prunes the data only they used.
pub fn forget(loc: &Location, pw: &Password, daily: u32, weekly: u32) -> Result<Forgot, Error> {
    if daily == 0 && weekly == 0 {
        return Err(Error::Retention(
            "give --keep-daily or --keep-weekly (at least one above 0)".into(),
        ));
    }
    let to_i32 = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let repo = open(loc, pw)?;
    let snaps = repo.get_all_snapshots().map_err(map(loc, pw))?;
    let mut keep = KeepOptions::default();
    if daily > 0 {
        keep = keep.keep_daily(to_i32(daily));
    }
    if weekly > 0 {
        keep = keep.keep_weekly(to_i32(weekly));
    }
    let decided = keep
        .apply(snaps, &Zoned::now())
        .map_err(|e| Error::Retention(one_line(&e, Some(pw))))?;
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    let mut ids = Vec::new();
    for d in decided {
        let id = d.snapshot.id.to_hex().to_string();
        if d.keep {
            kept.push(id);
        } else {
            removed.push(id);
            ids.push(d.snapshot.id);
        }
    }
    if !ids.is_empty() {
        repo.delete_snapshots(&ids).map_err(map(loc, pw))?;
        let opts = PruneOptions::default();
        let plan = repo.prune_plan(&opts).map_err(map(loc, pw))?;
        repo.prune(&opts, plan).map_err(map(loc, pw))?;
    }
    Ok(Forgot { kept, removed })
}

/// A snapshot's relative path, refused when it would leave the target.
fn safe_relative(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Restores snapshot `which` (`latest` or an id prefix) into `to`, which must
/// not exist or be an empty directory. On any error nothing is left at `to`.
pub fn restore(loc: &Location, pw: &Password, which: &str, to: &Path) -> Result<Restored, Error> {
    let target_state = match std::fs::read_dir(to) {
        Ok(mut rd) => {
            if rd.next().is_some() {
                return Err(Error::Target(format!(
                    "{} exists and is not empty (restore into a new directory)",
                    clean(&to.display().to_string())
                )));
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(to)(e)),
    };
    let repo = open(loc, pw)?;
    let parent = match to.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Error::Target(format!(
            "{} does not exist",
            clean(&parent.display().to_string())
        )));
    }
    let scratch = Scratch::new(&parent, "restore")?;
    let mut restored = restore_into(repo, loc, pw, which, &scratch.0)?;
    if target_state {
        std::fs::remove_dir(to).map_err(io_err(to))?;
    }
    std::fs::rename(&scratch.0, to).map_err(io_err(to))?;
    restored.dir = to.to_path_buf();
    Ok(restored)
}

fn restore_into(
    repo: Repository<OpenStatus>,
    loc: &Location,
    pw: &Password,
    which: &str,
    dir: &Path,
) -> Result<Restored, Error> {
    let which = which.trim();
    if which.is_empty()
        || which.len() > 80
        || !which.chars().all(|c| c.is_ascii_alphanumeric() || c == '~')
    {
        return Err(Error::NoSnapshot(clean(which)));
    }
    let snap = repo
        .get_snapshot_from_str(which, |s| s.tags.contains(TAG))
        .map_err(|e| match map(loc, pw)(e) {
            Error::Repository(_) => Error::NoSnapshot(clean(which)),
            other => other,
        })?;
    let id = snap.id.to_hex().to_string();
    let not_ward = |why: &str| Error::NotWard {
        snapshot: id.clone(),
        why: why.to_string(),
    };
    let repo = repo.to_indexed().map_err(map(loc, pw))?;
    let root = repo
        .node_from_snapshot_and_path(&snap, ROOT.trim_start_matches('/'))
        .map_err(|e| match map(loc, pw)(e) {
            damaged @ Error::Damaged { .. } => damaged,
            _ => not_ward("no /ward directory"),
        })?;
    let mut files = 0u64;
    let mut bytes = 0u64;
    for item in repo
        .ls(&root, &LsOptions::default())
        .map_err(map(loc, pw))?
    {
        let (path, node) = item.map_err(map(loc, pw))?;
        let rel = safe_relative(&path).ok_or_else(|| not_ward("a path leaves the snapshot"))?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        let dest = dir.join(&rel);
        if node.is_dir() {
            std::fs::create_dir_all(&dest).map_err(io_err(&dest))?;
        } else if node.is_file() {
            if let Some(p) = dest.parent() {
                std::fs::create_dir_all(p).map_err(io_err(p))?;
            }
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            let f = o.open(&dest).map_err(io_err(&dest))?;
            let mut w = std::io::BufWriter::new(f);
            repo.dump(&node, &mut w).map_err(map(loc, pw))?;
            let f = w.into_inner().map_err(|e| io_err(&dest)(e.into_error()))?;
            f.sync_all().map_err(io_err(&dest))?;
            files += 1;
            bytes += node.meta.size;
        }
    }
    let mpath = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&mpath).map_err(|_| not_ward("no manifest.json"))?;
    let manifest: Manifest =
        serde_json::from_str(&text).map_err(|_| not_ward("manifest.json is not readable"))?;
    if !dir.join(DB_FILE).is_file() {
        return Err(not_ward("no ward.db"));
    }
    Ok(Restored {
        snapshot: id,
        manifest,
        dir: dir.to_path_buf(),
        files,
        bytes,
    })
}

/// A restore drill: restores `which` into a scratch directory under
/// `scratch`, opens the restored store, runs its integrity check and compares
/// its counts with the manifest. Opening the repository failing (missing,
/// wrong password) is an error; anything after that is a failed drill.
pub fn verify_restore(
    loc: &Location,
    pw: &Password,
    which: &str,
    scratch: &Path,
) -> Result<Drill, Error> {
    let started = Instant::now();
    let repo = open(loc, pw)?;
    let dir = Scratch::new(scratch, "drill")?;
    let outcome = (|| -> Result<(String, Result<String, String>), Error> {
        let r = restore_into(repo, loc, pw, which, &dir.0)?;
        let db = dir.0.join(DB_FILE);
        let restored = store::Store::open(&db)?;
        if let Err(why) = restored.integrity_check()? {
            return Ok((
                r.snapshot,
                Err(format!("integrity check failed: {}", clean(&why))),
            ));
        }
        let got = restored.backup_counts()?;
        let want = r.manifest.counts;
        let verdict = if got == want {
            Ok(format!(
                "restored {} files, {} bytes; integrity ok; {} devices, {} alerts, {} audit entries, {} facts, {} users match the manifest",
                r.files, r.bytes, got.devices, got.alerts, got.audit, got.facts, got.users
            ))
        } else {
            Err(format!(
                "counts differ from the manifest: restored {} devices/{} alerts/{} audit/{} facts, manifest {}/{}/{}/{}",
                got.devices, got.alerts, got.audit, got.facts, want.devices, want.alerts, want.audit, want.facts
            ))
        };
        Ok((r.snapshot, verdict))
    })();
    let (snapshot, verdict) = match outcome {
        Ok(v) => v,
        Err(e) => (clean(which), Err(clean(&e.to_string()))),
    };
    let (passed, detail) = match verdict {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    Ok(Drill {
        at: now(),
        snapshot,
        repository: loc.display(),
        duration_ms: started.elapsed().as_millis().min(u128::from(u64::MAX)) as u64,
        passed,
        detail,
    })
}
