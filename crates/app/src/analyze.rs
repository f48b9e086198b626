//! Analyze capture files into a store: the sensor configuration from the
//! caller's limits, input checks before anything is opened, the multi-worker
//! run (records optionally written as JSON lines) and one stored run.

use crate::{invalid, location, Context, Error, Notify, Result};
use identify::Observer;
use sensor::{Config, Progress, Report};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The sensor configuration: `workers` (default: all cores, 1-256),
/// `max_flows` (at least 1) and a memory budget in MiB (at least 64) from
/// which flow and fact limits are derived.
pub fn config(
    workers: Option<usize>,
    max_flows: Option<usize>,
    memory_limit: Option<u64>,
) -> Result<Config> {
    let mut cfg = Config {
        workers: workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        ..Config::default()
    };
    if cfg.workers == 0 || cfg.workers > 256 {
        invalid!("--workers must be between 1 and 256");
    }
    if let Some(n) = max_flows {
        if n == 0 {
            invalid!("--max-flows must be at least 1");
        }
        cfg.flow.max_flows = n;
    }
    if let Some(mb) = memory_limit {
        if mb < 64 {
            invalid!("--memory-limit must be at least 64 MiB");
        }
        cfg = cfg.with_memory_budget(mb * 1024 * 1024);
    }
    Ok(cfg)
}

/// The size of capture input `f`, refusing what is not a regular file: a
/// named pipe (opening one blocks until a writer comes, reading it would
/// never end), a device or a directory, before anything is opened or
/// stored. Captures are files; live traffic goes through an interface.
pub fn regular_input(f: &Path) -> Result<u64> {
    let meta = std::fs::metadata(f).with_context(|| format!("cannot read {}", f.display()))?;
    if !meta.is_file() {
        invalid!(
            "{}: not a regular file or directory (a pipe or device); give a capture file",
            f.display()
        );
    }
    Ok(meta.len())
}

/// Deepest directory level [`capture_files_in`] descends to.
pub const MAX_DIR_DEPTH: usize = 16;
/// Most capture files one directory argument may expand to.
pub const MAX_DIR_FILES: usize = 100_000;

/// Whether the file starts with a magic number the capture reader reads
/// ([`capture::is_capture_magic`]).
fn looks_like_capture(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let ok = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic));
    ok.is_ok() && capture::is_capture_magic(magic)
}

/// The capture files under directory `dir`, in path order: regular files
/// (symbolic links to files too) that start like a pcap or pcapng file
/// (any magic number the capture reader reads), down
/// to [`MAX_DIR_DEPTH`] levels (linked directories are not followed, so a
/// loop cannot make it endless), at most [`MAX_DIR_FILES`]. Other files are
/// counted and reported through `notify`; a directory without any capture
/// is an error.
pub fn capture_files_in(dir: &Path, notify: &dyn Notify) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut other = 0usize;
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read {}", d.display()))?;
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                other += 1;
                continue;
            };
            if kind.is_dir() {
                if depth + 1 < MAX_DIR_DEPTH {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            // A link counts by what it points to; a link to a directory is skipped.
            let is_file = kind.is_file()
                || (kind.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()));
            if is_file && looks_like_capture(&path) {
                if found.len() >= MAX_DIR_FILES {
                    invalid!(
                        "{}: more than {MAX_DIR_FILES} capture files; give fewer at a time",
                        dir.display()
                    );
                }
                found.push(path);
            } else {
                other += 1;
            }
        }
    }
    if found.is_empty() {
        invalid!(
            "{}: no pcap or pcapng files in this directory",
            dir.display()
        );
    }
    found.sort();
    if other > 0 {
        notify.line(&format!(
            "ward: note: {}: {} capture files, {other} other files skipped",
            dir.display(),
            found.len()
        ));
    }
    Ok(found)
}

/// Checks every input before the database is touched: a directory stands for
/// the capture files under it ([`capture_files_in`]), other non-regular files
/// are refused ([`regular_input`]), malformed captures are an error, and
/// empty files are skipped with a warning (one forgotten empty rotation file
/// does not lose the run). Returns the inputs to read and their total size.
pub fn check_inputs(files: &[PathBuf], notify: &dyn Notify) -> Result<(Vec<PathBuf>, u64)> {
    let mut expanded = Vec::with_capacity(files.len());
    for f in files {
        if std::fs::metadata(f).is_ok_and(|m| m.is_dir()) {
            expanded.extend(capture_files_in(f, notify)?);
        } else {
            expanded.push(f.clone());
        }
    }
    let files = &expanded;
    let mut kept = Vec::with_capacity(files.len());
    let mut total = 0u64;
    for f in files {
        if regular_input(f)? == 0 {
            notify.line(&format!(
                "ward: warning: {}: empty file, skipped",
                f.display()
            ));
            continue;
        }
        let r = capture::FileReader::open(f)?;
        total += r.file_len();
        kept.push(f.clone());
    }
    if kept.is_empty() {
        invalid!("nothing to analyze: every input file is empty");
    }
    Ok((kept, total))
}

/// The run as the store records it.
pub fn run_summary(files: &[PathBuf], r: &Report) -> store::RunSummary {
    store::RunSummary {
        inputs: files.iter().map(|f| f.display().to_string()).collect(),
        packets: r.packets,
        bytes: r.bytes,
        flows: r.flows,
        events: r.events,
        first_packet: r.first_packet,
        last_packet: r.last_packet,
        stats: r.counters.iter().map(|(k, v)| (k.clone(), *v)).collect(),
    }
}

/// Runs the sensor over checked `files` (see [`check_inputs`]), `progress`
/// counting the bytes read; with `events`, every record is also written to
/// that file as a JSON line (redacted: paths to their shape, SNMP
/// communities to their class). Returns the facts, the report and the
/// number of records written.
pub fn analyze(
    files: &[PathBuf],
    cfg: &Config,
    progress: &Progress,
    events: Option<&Path>,
) -> Result<(Observer, Report, u64)> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<model::Event>>(64);
    let events_path = events.map(Path::to_path_buf);
    let writer = std::thread::spawn(move || -> Result<u64> {
        let Some(path) = events_path else {
            for _ in rx {}
            return Ok(0);
        };
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot write events to {}", path.display()))?;
        let mut w = std::io::BufWriter::new(file);
        let mut n = 0;
        for batch in rx {
            for ev in batch {
                serde_json::to_writer(&mut w, &ev.redacted())?;
                w.write_all(b"\n")?;
                n += 1;
            }
        }
        w.flush()?;
        Ok(n)
    });
    let sink = events.is_some().then_some(tx);
    let result = sensor::analyze_files(files, cfg, progress, sink);
    let (observer, report) = result?;
    let n = writer
        .join()
        .map_err(|_| Error::Thread("event writer thread"))??;
    Ok((observer, report, n))
}

/// Stores one run (`ward analyze`, `ward capture`, monitoring, learning),
/// rebuilding only the devices its facts can change
/// ([`store::Store::ingest_run`]); returns the devices it saw (with their
/// facts) and the inventory's size. `db` names the store in the error.
pub fn store_analysis(
    store: &mut store::Store,
    files: &[PathBuf],
    observer: Observer,
    report: &Report,
    db: &Path,
) -> Result<store::Ingested> {
    let summary = run_summary(files, report);
    store
        .ingest_run(&summary, observer.into_facts(), &report.anomalies())
        .with_context(|| format!("cannot store results in {}", location::label(db)))
}

/// Opens the store at `db` only if there is one, else says which command
/// makes it (`hint`, e.g. "ward analyze FILE --db ward.db").
pub fn open_existing(db: &Path, hint: &str) -> Result<store::Store> {
    if !location::exists(db) {
        invalid!("no database at {} (run `{hint}` first)", db.display());
    }
    Ok(location::open(db)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked() {
        assert!(config(Some(0), None, None).is_err());
        assert!(config(Some(257), None, None).is_err());
        assert_eq!(
            config(Some(0), None, None).unwrap_err().to_string(),
            "--workers must be between 1 and 256"
        );
        assert!(config(Some(1), Some(0), None).is_err());
        assert!(config(Some(1), None, Some(63)).is_err());
        let c = config(Some(3), Some(10), Some(64)).unwrap();
        assert_eq!(c.workers, 3);
    }

    #[test]
    fn inputs_refuse_directories_and_skip_empty_files() {
        let dir = std::env::temp_dir().join(format!("ward-app-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = regular_input(&dir).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let empty = dir.join("empty.pcap");
        std::fs::write(&empty, b"").unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        let note = |l: &str| seen.lock().unwrap().push(l.to_string());
        let e = check_inputs(std::slice::from_ref(&empty), &note).unwrap_err();
        assert_eq!(
            e.to_string(),
            "nothing to analyze: every input file is empty"
        );
        assert_eq!(seen.lock().unwrap().len(), 1);
        let junk = dir.join("junk.pcap");
        std::fs::write(&junk, b"not a capture at all").unwrap();
        assert!(matches!(
            check_inputs(&[empty, junk], &note).unwrap_err(),
            Error::Capture(_)
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_stands_for_the_captures_under_it() {
        let dir = std::env::temp_dir().join(format!("ward-app-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b/deeper")).unwrap();
        std::fs::create_dir_all(dir.join("a")).unwrap();
        let sample =
            samplegen::hospital::write(Vec::new(), samplegen::hospital::Variant::Normal).unwrap();
        // Captures are told by their first bytes, not their names.
        std::fs::write(dir.join("b/deeper/room.cap"), &sample).unwrap();
        std::fs::write(dir.join("a/room"), &sample).unwrap();
        std::fs::write(dir.join("a/INDEX.md"), b"# not a capture").unwrap();
        std::fs::write(dir.join("b/short"), b"ab").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&dir, dir.join("b/loop")).unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        let note = |l: &str| seen.lock().unwrap().push(l.to_string());
        let (files, total) = check_inputs(std::slice::from_ref(&dir), &note).unwrap();
        assert_eq!(
            files,
            vec![dir.join("a/room"), dir.join("b/deeper/room.cap")]
        );
        assert_eq!(total, 2 * sample.len() as u64);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            seen[0].contains("2 capture files, 3 other files skipped"),
            "{seen:?}"
        );
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let e = check_inputs(std::slice::from_ref(&empty), &|_: &str| {}).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("no pcap or pcapng files in this directory"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sample_capture_is_analyzed_into_a_store() {
        let (dir, pcap) = crate::scratch_room("analyze");
        let events = dir.join("events.jsonl");
        let cfg = config(Some(2), None, None).unwrap();
        let (files, total) = check_inputs(std::slice::from_ref(&pcap), &|_: &str| {}).unwrap();
        assert!(total > 0);
        let (obs, report, n) = analyze(&files, &cfg, &Progress::default(), Some(&events)).unwrap();
        assert!(n > 0 && report.packets > 0);
        let lines = std::fs::read_to_string(&events).unwrap().lines().count();
        assert_eq!(lines as u64, n);
        let db = dir.join("ward.db");
        let mut store = location::open(&db).unwrap();
        let ingested = store_analysis(&mut store, &files, obs, &report, &db).unwrap();
        assert!(!ingested.devices.is_empty());
        assert_eq!(ingested.inventory, ingested.devices.len() as u64);
        assert_eq!(store.run_count().unwrap(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
