//! `ward analyze` (and `ward capture`): run the sensor over inputs, store the
//! facts, print the inventory.

use crate::render;
use anyhow::{bail, Context, Result};
use clap::Args;
use sensor::{Config, Progress, Report};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Arguments of `ward analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Database: a SQLite file (created if missing, appended to if present) or a postgres:// URL.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Print the inventory as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write every protocol record as JSON lines to this file (metadata only, no patient data).
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Most flows tracked at once (least recently used are evicted beyond).
    #[arg(long)]
    max_flows: Option<usize>,
    /// Memory budget in MiB; flow and fact limits are derived from it.
    #[arg(long, value_name = "MIB")]
    memory_limit: Option<u64>,
    /// Do not show a progress bar.
    #[arg(long)]
    quiet: bool,
    /// Site knowledge file: extra or corrected knowledge entries (format in `crates/knowledge`).
    #[arg(long, value_name = "FILE")]
    knowledge: Option<PathBuf>,
}

pub(crate) fn config(
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
        bail!("--workers must be between 1 and 256");
    }
    if let Some(n) = max_flows {
        if n == 0 {
            bail!("--max-flows must be at least 1");
        }
        cfg.flow.max_flows = n;
    }
    if let Some(mb) = memory_limit {
        if mb < 64 {
            bail!("--memory-limit must be at least 64 MiB");
        }
        cfg = cfg.with_memory_budget(mb * 1024 * 1024);
    }
    Ok(cfg)
}

/// Runs `ward analyze`.
pub fn run(args: AnalyzeArgs) -> Result<()> {
    let cfg = config(args.workers, args.max_flows, args.memory_limit)?;
    crate::site_knowledge::install(args.knowledge.as_deref())?;
    // Check every input before touching the database.
    let mut total = 0u64;
    for f in &args.files {
        let r = capture::FileReader::open(f).map_err(anyhow::Error::from)?;
        total += r.file_len();
    }
    let mut store = crate::location::open(&args.db)?;

    let timing = std::env::var_os("WARD_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let progress = Progress::default();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<model::Event>>(64);
    let events_path = args.events.clone();
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
                serde_json::to_writer(&mut w, &ev)?;
                w.write_all(b"\n")?;
                n += 1;
            }
        }
        w.flush()?;
        Ok(n)
    });
    let sink = args.events.is_some().then_some(tx);
    let bar = (!args.quiet && !args.json).then(|| render::progress_bar(total));
    let done = std::sync::atomic::AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        if let Some(bar) = &bar {
            let (p, d) = (&progress, &done);
            s.spawn(move || {
                while !d.load(Ordering::Relaxed) {
                    bar.set_position(p.bytes.load(Ordering::Relaxed));
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            });
        }
        let r = sensor::analyze_files(&args.files, &cfg, &progress, sink);
        done.store(true, Ordering::Relaxed);
        r
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let (observer, report) = result?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("event writer thread failed"))??;

    let t1 = std::time::Instant::now();
    let facts = observer.into_facts();
    let summary = run_summary(&args.files, &report);
    let devices = store
        .ingest_owned(&summary, facts, &report.anomalies())
        .with_context(|| {
            format!(
                "cannot store results in {}",
                crate::location::label(&args.db)
            )
        })?;
    if timing {
        eprintln!("timing: analysis {:?}, store {:?}", t1 - t0, t1.elapsed());
    }
    // Stdout is line-buffered: without a BufWriter every table row is its own write call.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        render::json(&mut out, &devices, Some(&report))?;
    } else {
        render::table(&mut out, &devices)?;
        render::summary(&mut out, &report, &args.db)?;
    }
    out.flush()?;
    Ok(())
}

pub(crate) fn run_summary(files: &[PathBuf], r: &Report) -> store::RunSummary {
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

/// Runs `ward inventory`.
/// `ward inventory --explain KEY`: one device's conclusions, evidence and
/// knowledge entries, rebuilt from the stored facts.
pub fn explain_device(db: &Path, key: &str) -> Result<()> {
    if !crate::location::exists(db) {
        bail!(
            "no database at {} (run `ward analyze FILE --db {}` first)",
            db.display(),
            db.display()
        );
    }
    let store = crate::location::open(db)?;
    let devices = store.devices_with_facts()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    crate::explain::explain(&mut out, &devices, key)?;
    out.flush()?;
    Ok(())
}

/// `rebuild`: devices rebuilt from the stored facts (with the installed
/// knowledge) instead of read as stored.
pub fn show_inventory(db: &Path, json: bool, rebuild: bool) -> Result<()> {
    if !crate::location::exists(db) {
        bail!(
            "no database at {} (run `ward analyze FILE --db {}` first)",
            db.display(),
            db.display()
        );
    }
    let store = crate::location::open(db)?;
    let devices = if json || rebuild {
        store.devices_with_facts()?
    } else {
        store.devices()?
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        render::json(&mut out, &devices, None)?;
    } else {
        render::table(&mut out, &devices)?;
    }
    out.flush()?;
    Ok(())
}

/// Arguments of `ward capture`.
#[cfg(feature = "live")]
#[derive(Args)]
pub struct CaptureArgs {
    /// Interface to capture from.
    #[arg(long, short)]
    interface: String,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Optional BPF filter.
    #[arg(long)]
    filter: Option<String>,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `ward capture`.
#[cfg(feature = "live")]
pub fn capture(args: CaptureArgs) -> Result<()> {
    let cfg = config(Some(1), None, None)?;
    let mut src = capture::LiveCapture::open(&args.interface, args.filter.as_deref())?;
    let mut store = crate::location::open(&args.db)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(args.seconds);
    let (observer, report) =
        sensor::analyze_source(&mut src, &cfg, &|| std::time::Instant::now() >= deadline)?;
    let summary = run_summary(
        &[PathBuf::from(format!("interface:{}", args.interface))],
        &report,
    );
    let devices = store.ingest_owned(&summary, observer.into_facts(), &report.anomalies())?;
    let mut out = std::io::stdout().lock();
    if args.json {
        render::json(&mut out, &devices, Some(&report))
    } else {
        render::table(&mut out, &devices)
    }
}
