//! `ward analyze` (and `ward capture`): run the sensor over inputs, store the
//! facts, print the inventory.

use crate::render;
use anyhow::{bail, Result};
use clap::Args;
use sensor::Progress;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Arguments of `ward analyze`.
#[derive(Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng), or directories holding them.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Database: a SQLite file (created if missing, appended to if present) or a postgres:// URL.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Print the devices this run saw (with their facts) as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Print every table cell in full, however wide (default: fit the terminal).
    #[arg(long)]
    wide: bool,
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

/// Runs `ward analyze`.
pub fn run(args: AnalyzeArgs) -> Result<()> {
    let cfg = app::analyze::config(args.workers, args.max_flows, args.memory_limit)?;
    app::site_knowledge::install(args.knowledge.as_deref())?;
    // Check every input before touching the database.
    let (files, total) = app::analyze::check_inputs(&args.files, &app::Stderr)?;
    let mut store = crate::location::open(&args.db)?;

    let timing = std::env::var_os("WARD_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let progress = Progress::default();
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
        let r = app::analyze::analyze(&files, &cfg, &progress, args.events.as_deref());
        done.store(true, Ordering::Relaxed);
        r
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let (observer, report, _) = result?;

    let t1 = std::time::Instant::now();
    let ingested = app::analyze::store_analysis(&mut store, &files, observer, &report, &args.db)?;
    let devices = ingested.devices;
    crate::remediate::sync_after_run(&mut store, &devices, args.quiet || args.json);
    if timing {
        eprintln!("timing: analysis {:?}, store {:?}", t1 - t0, t1.elapsed());
    }
    // Stdout is line-buffered: without a BufWriter every table row is its own write call.
    let mut out = std::io::BufWriter::new(crate::render::stdout());
    if args.json {
        printer::inventory::json(&mut out, &devices, Some(&report))?;
    } else {
        printer::inventory::table_width(&mut out, &devices, render::table_width(args.wide))?;
        printer::inventory::summary(&mut out, &report, &args.db)?;
        printer::inventory::seen_of(&mut out, devices.len(), ingested.inventory)?;
    }
    out.flush()?;
    Ok(())
}

/// The store at `db`, which `ward analyze` made.
pub(crate) fn open_existing(db: &Path) -> Result<store::Store> {
    let hint = format!("ward analyze FILE --db {}", db.display());
    Ok(app::analyze::open_existing(db, &hint)?)
}

/// `ward inventory --explain KEY`: one device's conclusions, evidence and
/// knowledge entries, rebuilt from the stored facts.
pub fn explain_device(db: &Path, key: &str) -> Result<()> {
    let store = open_existing(db)?;
    let devices = store.devices_with_facts()?;
    let Some(d) = devices.iter().find(|d| d.key == key) else {
        bail!(
            "no device {} in the inventory (see `ward inventory`)",
            model::text::bounded(key.as_bytes(), 512)
        );
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    printer::explain::device(&mut out, d)?;
    out.flush()?;
    drop(out);
    crate::coverage::explain_section(&store, key)
}

/// `rebuild`: devices rebuilt from the stored facts (with the installed
/// knowledge) instead of read as stored.
pub fn show_inventory(db: &Path, json: bool, wide: bool, rebuild: bool) -> Result<()> {
    let store = open_existing(db)?;
    let devices = if json || rebuild {
        store.devices_with_facts()?
    } else {
        store.devices()?
    };
    let mut out = std::io::BufWriter::new(crate::render::stdout());
    if json {
        printer::inventory::json(&mut out, &devices, None)?;
    } else {
        printer::inventory::table_width(&mut out, &devices, render::table_width(wide))?;
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
    /// Print the devices this run saw (with their facts) as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: all cores): one AF_PACKET fanout socket
    /// each (libpcap, the fallback where AF_PACKET is not available, has one).
    #[arg(long)]
    workers: Option<usize>,
}

/// Runs `ward capture`: the workers checkpoint every 10 s (idle flows
/// expire), and the run is stored once at the end, as `ward analyze` stores
/// one (only the devices it can change rebuilt, their remediation items
/// brought in line), and the devices it saw printed. Says on stderr which
/// backend captured and what the kernel counted and dropped.
#[cfg(feature = "live")]
pub fn capture(args: CaptureArgs) -> Result<()> {
    let cfg = app::analyze::config(args.workers, None, None)?;
    let mut src = app::live::open_live(&args.interface, args.filter.clone(), cfg.workers)?;
    let mut store = crate::location::open(&args.db)?;
    let duration = std::time::Duration::from_secs(args.seconds);
    eprintln!(
        "ward: capturing on {} with {} for {} s",
        args.interface,
        app::live::describe(&src),
        args.seconds
    );
    src.stop_after(duration);
    let mut acc: Option<(identify::Observer, sensor::Report)> = None;
    let every = std::time::Duration::from_secs(10);
    let (o, r) = sensor::analyze_live(&mut src, &cfg, None, every, &mut |o, r| {
        sensor::add_up(&mut acc, o, r, cfg.observer);
        true
    })?;
    sensor::add_up(&mut acc, o, r, cfg.observer);
    let (observer, report) = acc.unwrap_or_default();
    eprintln!(
        "{}",
        app::live::kernel_line(report.kernel_packets(), report.kernel_drops())
    );
    let inputs = [PathBuf::from(format!("interface:{}", args.interface))];
    let ingested = app::analyze::store_analysis(&mut store, &inputs, observer, &report, &args.db)?;
    let devices = ingested.devices;
    crate::remediate::sync_after_run(&mut store, &devices, args.json);
    let mut out = std::io::BufWriter::new(crate::render::stdout());
    if args.json {
        printer::inventory::json(&mut out, &devices, Some(&report))?;
    } else {
        printer::inventory::table(&mut out, &devices)?;
        printer::inventory::seen_of(&mut out, devices.len(), ingested.inventory)?;
    }
    out.flush()?;
    Ok(())
}
