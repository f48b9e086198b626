//! `ward baseline learn|show` and `ward monitor`: arguments and printing
//! over the learning and monitoring use cases (`app::monitor`), on capture
//! files or (feature `live`) an interface.

use anyhow::{bail, Context, Result};
use app::monitor::{parse_duration, unix, LiveSource, Source};
use clap::{Args, Subcommand};
use monitor::{DetectorConfig, Learner, Window};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `ward baseline ...`
#[derive(Subcommand)]
pub enum BaselineCommand {
    /// Learn how each device and group normally communicates from captures or an interface (also adds them to the inventory).
    Learn(LearnArgs),
    /// Print a stored baseline as JSON.
    Show {
        /// Database file.
        #[arg(long, default_value = "ward.db")]
        db: PathBuf,
        /// Baseline name.
        #[arg(long, default_value = "default")]
        name: String,
    },
}

/// The live-capture options of `baseline learn` and `monitor`.
#[derive(Args)]
pub struct LiveArgs {
    /// Capture from this network interface instead of files, until --duration or Ctrl-C/SIGTERM (feature `live`).
    #[arg(long, short, value_name = "IF", conflicts_with = "files")]
    interface: Option<String>,
    /// With --interface: a BPF filter (tcpdump syntax).
    #[arg(long, requires = "interface")]
    filter: Option<String>,
    /// With --interface: stop after this long (e.g. 3600, 90m, 8h, 7d).
    #[arg(long, value_name = "DURATION", requires = "interface")]
    duration: Option<String>,
}

impl LiveArgs {
    fn source(&self) -> Result<LiveSource> {
        let duration = self
            .duration
            .as_deref()
            .map(parse_duration)
            .transpose()?
            .map(|s| std::time::Duration::from_secs(s as u64));
        Ok(LiveSource {
            interface: self.interface.clone().unwrap_or_default(),
            filter: self.filter.clone(),
            duration,
            workers: None,
        })
    }
}

/// Arguments of `ward baseline learn`.
#[derive(Args)]
pub struct LearnArgs {
    /// Capture files (pcap or pcapng).
    #[arg(required_unless_present = "interface")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
    /// Seconds per volume window of the learnt volume statistics.
    #[arg(long, value_name = "SECONDS", default_value_t = monitor::DEFAULT_VOLUME_WINDOW_SECS)]
    volume_window: u64,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Baseline name (monitor and policy use `default` unless told).
    #[arg(long, default_value = "default")]
    name: String,
    /// Learn only this long from the first flow (e.g. `3600`, `90m`, `8h`, `7d`).
    #[arg(long, value_name = "DURATION")]
    window: Option<String>,
    /// Learn only flows that start before this time (Unix seconds).
    #[arg(long, value_name = "UNIX_SECONDS")]
    until: Option<f64>,
    /// Learn only flows that start at or after this time (Unix seconds).
    #[arg(long, value_name = "UNIX_SECONDS")]
    from: Option<f64>,
    /// Also write the baseline as JSON to this file.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores); with --interface, one AF_PACKET
    /// fanout socket each (libpcap, the fallback, has one).
    #[arg(long)]
    workers: Option<usize>,
}

/// Runs `ward baseline learn`.
pub fn learn(args: LearnArgs) -> Result<()> {
    let window = Window {
        from: args.from.map(unix).transpose()?,
        until: args.until.map(unix).transpose()?,
        seconds: args.window.as_deref().map(parse_duration).transpose()?,
    };
    if args.volume_window == 0 || args.volume_window > 7 * 86_400 {
        bail!("--volume-window must be between 1 and 604800 seconds");
    }
    let learner = Learner::new(window).with_volume_window(args.volume_window);
    let mut store = crate::location::open(&args.db)?;
    let source = match args.live.interface {
        Some(_) => Source::Live(LiveSource {
            workers: args.workers,
            ..args.live.source()?
        }),
        None => Source::Files(args.files.clone(), args.workers),
    };
    let b = app::monitor::learn(
        &mut store,
        &args.db,
        &source,
        learner,
        &args.name,
        &app::Stderr,
    )?;
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_vec_pretty(&b)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    printer::baseline::learnt(&mut crate::render::stdout(), &args.name, &b)?;
    Ok(())
}

/// Arguments of `ward monitor`.
#[derive(Args)]
pub struct MonitorArgs {
    /// Capture files (pcap or pcapng).
    #[arg(required_unless_present = "interface")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
    /// With --interface: seconds between flushes (alerts stored and exported, inventory updated at most every minute).
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    flush: f64,
    /// Print each alert as a JSON line as it is stored (instead of a table).
    #[arg(long, conflicts_with = "json")]
    jsonl: bool,
    /// Also send the alerts as RFC 5424 syslog (CEF message) to udp://HOST:PORT or tcp://HOST:PORT.
    #[arg(long, value_name = "URL")]
    syslog: Option<String>,
    #[command(flatten)]
    hook: crate::alerts::WebhookArgs,
    /// Database file (inventory, baseline, intake; alerts are stored here).
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Stored baseline to compare with.
    #[arg(long, default_value = "default")]
    baseline: String,
    /// Or a baseline JSON file (`ward baseline learn --out`).
    #[arg(long, value_name = "FILE")]
    baseline_file: Option<PathBuf>,
    /// Also raise policy-violation alerts against this policy (`ward policy generate`'s policy.json).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Print the alerts of this run as JSON.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: all cores); with --interface, one AF_PACKET
    /// fanout socket each (libpcap, the fallback, has one).
    #[arg(long)]
    workers: Option<usize>,
    #[command(flatten)]
    thresholds: Thresholds,
}

/// The detectors' thresholds that a site tunes (the defaults are
/// `monitor::DetectorConfig::default()`'s). Checked when the command line is
/// parsed, before anything is opened.
#[derive(Args, Debug, Clone)]
pub struct Thresholds {
    /// Distinct ports of one host probed by one source that make a port scan.
    #[arg(long, value_name = "N", default_value_t = DetectorConfig::default().scan_ports as u32,
          value_parser = clap::value_parser!(u32).range(2..=65_535))]
    scan_ports: u32,
    /// Distinct hosts probed by one source that make a host sweep.
    #[arg(long, value_name = "N", default_value_t = DetectorConfig::default().scan_hosts as u32,
          value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    scan_hosts: u32,
    /// Distinct hosts with SMB sessions from one source that make an SMB fan-out.
    #[arg(long, value_name = "N", default_value_t = DetectorConfig::default().smb_hosts as u32,
          value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    smb_hosts: u32,
    /// Hours next to a learnt hour of day that count as usual too (a shift ending late).
    #[arg(long, value_name = "HOURS", default_value_t = DetectorConfig::default().off_hours_slack,
          value_parser = clap::value_parser!(u8).range(0..=11))]
    off_hours_slack: u8,
    /// A volume window alerts above this many times the learnt 99th percentile (and above the learnt maximum).
    #[arg(long, value_name = "FACTOR", default_value_t = DetectorConfig::default().volume_factor,
          value_parser = factor_over_one)]
    volume_factor: f64,
    /// Standard deviations beyond the learnt range that make an HL7 observation implausible.
    #[arg(long, value_name = "SIGMAS", default_value_t = DetectorConfig::default().observation_sigmas,
          value_parser = positive_number)]
    observation_sigmas: f64,
}

impl Thresholds {
    /// `cfg` with these thresholds.
    fn apply(&self, cfg: DetectorConfig) -> DetectorConfig {
        DetectorConfig {
            scan_ports: self.scan_ports as usize,
            scan_hosts: self.scan_hosts as usize,
            smb_hosts: self.smb_hosts as usize,
            off_hours_slack: self.off_hours_slack,
            volume_factor: self.volume_factor,
            observation_sigmas: self.observation_sigmas,
            ..cfg
        }
    }
}

/// A finite number above `min`, up to 1e9 (a command-line threshold).
fn number_over(s: &str, min: f64) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > min && v <= 1e9 => Ok(v),
        _ => Err(format!("{s:?} must be a number above {min}, up to 1e9")),
    }
}

fn factor_over_one(s: &str) -> std::result::Result<f64, String> {
    number_over(s, 1.0)
}

fn positive_number(s: &str) -> std::result::Result<f64, String> {
    number_over(s, 0.0)
}

/// Runs `ward monitor`.
pub fn monitor(args: MonitorArgs) -> Result<()> {
    let mut store = crate::location::open(&args.db)?;
    let base = app::monitor::load_baseline(&store, &args.baseline, args.baseline_file.as_deref())?;
    let det = app::monitor::detector(
        &store,
        base,
        args.policy.as_deref(),
        args.thresholds.apply(DetectorConfig::default()),
    )?;
    if let Some(u) = &args.syslog {
        if !(u.starts_with("udp://") || u.starts_with("tcp://")) {
            bail!("--syslog wants udp://HOST:PORT or tcp://HOST:PORT, not {u:?}");
        }
    }
    let hook = args.hook.webhook()?;
    let send = |stored: &[store::StoredAlert]| {
        if let Some(u) = &args.syslog {
            if let Err(e) = ::export::send_syslog(u, stored) {
                eprintln!("warning: {e:#}");
            }
        }
        if let Some(h) = &hook {
            if let Err(e) = h.deliver(stored) {
                eprintln!("warning: {e:#}");
            }
        }
    };
    let export: Option<app::monitor::Export<'_>> =
        (args.syslog.is_some() || hook.is_some()).then_some(&send);
    if args.live.interface.is_some() {
        if !(args.flush.is_finite() && (0.1..=3600.0).contains(&args.flush)) {
            bail!("--flush must be between 0.1 and 3600 seconds");
        }
        let mut print = |alerts: &[monitor::Alert]| -> app::Result<()> {
            let mut o = crate::render::stdout();
            for a in alerts {
                if args.jsonl || args.json {
                    printer::json_line(&mut o, a)?;
                } else {
                    printer::alerts::row(&mut o, a)?;
                }
            }
            o.flush()?;
            Ok(())
        };
        let t = app::monitor::monitor_live(
            &mut store,
            &args.db,
            &LiveSource {
                workers: args.workers,
                ..args.live.source()?
            },
            std::time::Duration::from_secs_f64(args.flush),
            det,
            export,
            &mut print,
            &app::Stderr,
        )?;
        eprintln!(
            "ward: stopped; {} alerts ({} occurrences) stored in {}",
            t.alerts,
            t.occurrences,
            crate::location::label(&args.db)
        );
        return Ok(());
    }
    let run = app::monitor::monitor_files(
        &mut store,
        &args.db,
        &args.files,
        args.workers,
        det,
        export,
        &app::Stderr,
    )?;
    let mut o = crate::render::stdout();
    if args.jsonl {
        for a in &run.alerts {
            printer::json_line(&mut o, a)?;
        }
    } else if args.json {
        printer::json(&mut o, &run.alerts)?;
    } else {
        printer::alerts::monitor_run(&mut o, &run, &args.db)?;
    }
    Ok(())
}

/// Runs `ward baseline show`.
pub fn show(db: &Path, name: &str) -> Result<()> {
    if !crate::location::exists(db) {
        bail!("no database at {}", db.display());
    }
    let store = crate::location::open(db)?;
    let b = app::monitor::load_baseline(&store, name, None)?;
    printer::json(&mut crate::render::stdout(), &b)?;
    Ok(())
}
