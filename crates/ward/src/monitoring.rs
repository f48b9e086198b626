//! `ward baseline learn` and `ward monitor`: the sensor pipeline with a
//! consumer of its records (a baseline learner or the alert detectors) on
//! its own thread, fed in batches, so the workers' hot path is unchanged.
//! On capture files, or (feature `live`, see `live.rs`) continuously on an
//! interface with alerts stored and exported at every flush.

use crate::analyze::{config, run_summary};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use identify::{Device, Observer};
use model::{Event, Timestamp};
use monitor::{
    Alert, Baseline, Detector, DetectorConfig, FlowPolicy, FlowSummary, Learner, Window,
};
use sensor::{Progress, Report};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Runs the sensor over `files`, handing every record to `consume(&mut
/// state, record)` on a separate thread; returns the facts, the report and the state.
pub fn run_pipeline<T: Send>(
    files: &[PathBuf],
    workers: Option<usize>,
    mut state: T,
    consume: impl Fn(&mut T, &Event) + Send,
) -> Result<(Observer, Report, T)> {
    let cfg = config(workers, None, None)?;
    for f in files {
        crate::analyze::regular_input(f)?;
        capture::FileReader::open(f).map_err(anyhow::Error::from)?;
    }
    let progress = Progress::default();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Event>>(64);
    std::thread::scope(|s| {
        let consumer = s.spawn(move || {
            for batch in rx {
                for ev in &batch {
                    consume(&mut state, ev);
                }
            }
            state
        });
        let r = sensor::analyze_files(files, &cfg, &progress, Some(tx));
        let state = consumer
            .join()
            .map_err(|_| anyhow::anyhow!("record consumer thread failed"))?;
        let (o, rep) = r?;
        Ok((o, rep, state))
    })
}

/// Device key and group (intake group, else category) per address.
pub struct Directory {
    /// Address → device key.
    pub key: BTreeMap<IpAddr, String>,
    /// Address → group.
    pub group: BTreeMap<IpAddr, String>,
}

impl Directory {
    /// From the inventory and the intake records.
    pub fn new(devices: &[Device], intake: &[store::IntakeEntry]) -> Self {
        let groups: BTreeMap<&str, &str> = intake
            .iter()
            .filter_map(|i| Some((i.device.as_str(), i.group.as_deref()?)))
            .collect();
        let mut key = BTreeMap::new();
        let mut group = BTreeMap::new();
        for d in devices {
            for ip in &d.ips {
                key.insert(*ip, d.key.clone());
                let g = groups
                    .get(d.key.as_str())
                    .map(|g| g.to_string())
                    .unwrap_or_else(|| d.category.label().to_string());
                group.insert(*ip, g);
            }
        }
        Directory { key, group }
    }
}

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
#[cfg_attr(not(feature = "live"), allow(dead_code))]
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
    #[cfg(feature = "live")]
    fn options(&self, every: std::time::Duration) -> Result<crate::live::Options<'_>> {
        let interface = self.interface.as_deref().unwrap_or_default();
        let duration = self
            .duration
            .as_deref()
            .map(parse_duration)
            .transpose()?
            .map(|s| std::time::Duration::from_secs(s as u64));
        Ok(crate::live::Options {
            interface,
            filter: self.filter.as_deref(),
            duration,
            every,
        })
    }

    #[cfg(feature = "live")]
    fn input_label(&self) -> Vec<PathBuf> {
        vec![PathBuf::from(format!(
            "interface:{}",
            self.interface.as_deref().unwrap_or_default()
        ))]
    }
}

/// The error of `--interface` in a build without the `live` feature.
#[cfg(not(feature = "live"))]
fn built_without_live() -> anyhow::Error {
    anyhow::anyhow!("this ward was built without live capture: rebuild with `cargo build --release --features live` (needs libpcap), or give capture files")
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
    /// Worker threads (default: all cores).
    #[arg(long)]
    workers: Option<usize>,
}

/// Parses `90`, `90s`, `15m`, `8h`, `7d` into seconds.
pub fn parse_duration(s: &str) -> Result<i64> {
    let s = s.trim();
    let (num, mul) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1),
        Some((i, 'm')) => (&s[..i], 60),
        Some((i, 'h')) => (&s[..i], 3600),
        Some((i, 'd')) => (&s[..i], 86_400),
        _ => (s, 1),
    };
    let n: i64 = num
        .parse()
        .with_context(|| format!("bad duration {s:?} (use e.g. 3600, 90m, 8h, 7d)"))?;
    if n <= 0 {
        bail!("duration must be positive");
    }
    Ok(n.saturating_mul(mul))
}

fn unix(t: f64) -> Result<Timestamp> {
    if !t.is_finite() || !(0.0..1e11).contains(&t) {
        bail!("bad time {t} (Unix seconds expected)");
    }
    Ok(Timestamp((t * 1e6) as i64))
}

fn ingest(
    store: &mut store::Store,
    files: &[PathBuf],
    observer: Observer,
    report: &Report,
    db: &Path,
) -> Result<Vec<Device>> {
    let summary = run_summary(files, report);
    let devices = store
        .ingest_owned(&summary, observer.into_facts(), &report.anomalies())
        .with_context(|| format!("cannot store results in {}", db.display()))?;
    register(store, &devices)?;
    Ok(devices)
}

/// Registers the devices for intake review (new ones as pending).
fn register(store: &mut store::Store, devices: &[Device]) -> Result<()> {
    let reg: Vec<(String, Timestamp, Option<String>)> = devices
        .iter()
        .map(|d| (d.key.clone(), d.first_seen, mud_url_of(d)))
        .collect();
    store.intake_register(&reg)?;
    Ok(())
}

/// Whether `e` is the store's "database is locked" after its busy timeout
/// (another process held the write lock too long): nothing was changed and
/// the same write can be retried.
#[cfg(feature = "live")]
fn busy(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<store::Error>()
            .is_some_and(store::Error::is_busy)
    })
}

/// How often a live run retries a busy store at shutdown before giving up
/// (each attempt already waits for the store's busy timeout).
#[cfg(feature = "live")]
const FINAL_ATTEMPTS: u32 = 5;

fn mud_url_of(d: &Device) -> Option<String> {
    d.facts
        .iter()
        .find(|f| f.kind == identify::FactKind::MudUrl)
        .map(|f| f.value.clone())
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
    let (learner, devices) = if args.live.interface.is_some() {
        learn_live(&args, &mut store, learner)?
    } else {
        let (observer, report, mut learner) =
            run_pipeline(&args.files, args.workers, learner, |l, ev| l.learn(ev))?;
        if report.inputs.len() > 1 {
            // Several captures: the network was watched only while each ran.
            learner.cover(&report.inputs);
        }
        (
            learner,
            ingest(&mut store, &args.files, observer, &report, &args.db)?,
        )
    };
    let mut b = learner.finish();
    let dir = Directory::new(&devices, &store.intake()?);
    b.group(&|ip| dir.group.get(ip).cloned());
    store.save_baseline(&args.name, &b)?;
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_vec_pretty(&b)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let mut o = crate::render::stdout();
    let span = match (b.start, b.end) {
        (Some(s), Some(e)) => format!("{} .. {}", s.iso(), e.iso()),
        _ => "no flows".into(),
    };
    writeln!(
        o,
        "baseline {:?}: {} flows learnt ({span}), {} devices, {} groups",
        args.name,
        b.records,
        b.devices.len(),
        b.groups.len()
    )?;
    let windows = b
        .devices
        .values()
        .filter_map(|d| d.volume.map(|v| v.windows))
        .max()
        .unwrap_or(0);
    let def = DetectorConfig::default();
    let watched = b.watched_hours().count_ones();
    writeln!(
        o,
        "  hours of day: {}; volumes: {windows} windows of {} s ({})",
        if b.watched_secs() < def.off_hours_min_span_secs {
            "not judged (the network was watched less than 24 h)".to_string()
        } else if watched < 24 {
            format!("judged in the {watched} hours of the day the captures covered")
        } else {
            "judged".to_string()
        },
        b.volume_window,
        if windows >= def.volume_min_windows {
            "judged"
        } else {
            "not judged (fewer than 36 windows)"
        }
    )?;
    for (g, gb) in &b.groups {
        writeln!(
            o,
            "  {g}: {} devices, {} conversations, services {}",
            gb.members.len(),
            gb.talks.len(),
            gb.services
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    Ok(())
}

/// A run a busy store refused: its summary, facts and anomaly counters.
#[cfg(feature = "live")]
type UnsavedRun = (store::RunSummary, Vec<identify::Fact>, Vec<(String, u64)>);

/// Facts of a live run waiting to be stored, and when they were last stored.
/// Runs the store refused as busy (another process held its write lock
/// past the busy timeout) are kept, in order, and stored first next time.
#[cfg(feature = "live")]
struct PendingFacts {
    facts: Option<(Observer, Report)>,
    unsaved: Vec<UnsavedRun>,
    last: std::time::Instant,
}

#[cfg(feature = "live")]
impl PendingFacts {
    fn new() -> Self {
        PendingFacts {
            facts: None,
            unsaved: Vec::new(),
            last: std::time::Instant::now(),
        }
    }

    fn add(&mut self, o: Observer, r: Report) {
        match &mut self.facts {
            Some((ao, ar)) => {
                ao.merge(o);
                // Checkpoints follow each other (`merge` is for workers reading the same input).
                let (packets, bytes) = (ar.packets + r.packets, ar.bytes + r.bytes);
                ar.merge(r);
                ar.packets = packets;
                ar.bytes = bytes;
            }
            None => self.facts = Some((o, r)),
        }
    }

    /// Stores the pending facts (one run each), returning the rebuilt
    /// inventory. A busy store keeps them for the next call (`Ok(None)`, a
    /// warning printed); any other failure is an error.
    fn store(
        &mut self,
        store: &mut store::Store,
        inputs: &[PathBuf],
        db: &Path,
    ) -> Result<Option<Vec<Device>>> {
        self.last = std::time::Instant::now();
        if let Some((o, r)) = self.facts.take() {
            self.unsaved
                .push((run_summary(inputs, &r), o.into_facts(), r.anomalies()));
        }
        let mut devices = None;
        while let Some((run, facts, anomalies)) = self.unsaved.first() {
            match store
                .ingest(run, facts, anomalies)
                .with_context(|| format!("cannot store results in {}", db.display()))
            {
                Ok(d) => {
                    self.unsaved.remove(0);
                    devices = Some(d);
                }
                Err(e) if busy(&e) => {
                    eprintln!(
                        "warning: {e:#}; {} runs kept, retried at the next flush",
                        self.unsaved.len()
                    );
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(d) = &devices {
            match register(store, d) {
                Err(e) if busy(&e) => {
                    eprintln!("warning: {e:#}; devices registered at the next flush")
                }
                r => r?,
            }
        }
        Ok(devices)
    }

    /// Whether runs are still waiting to be stored.
    fn is_empty(&self) -> bool {
        self.facts.is_none() && self.unsaved.is_empty()
    }
}

/// Live `baseline learn`: facts stored every minute, the learner returned at the end.
#[cfg(feature = "live")]
fn learn_live(
    args: &LearnArgs,
    store: &mut store::Store,
    learner: Learner,
) -> Result<(Learner, Vec<Device>)> {
    let opts = args.live.options(std::time::Duration::from_secs(10))?;
    let inputs = args.live.input_label();
    let mut pending = PendingFacts::new();
    let learner = crate::live::run(&opts, learner, |l, ev| l.learn(ev), |_| None, &mut |out| {
        if let crate::live::Out::Facts(o, r) = out {
            pending.add(o, r);
            if pending.last.elapsed() >= std::time::Duration::from_secs(60) {
                pending.store(store, &inputs, &args.db)?;
            }
        }
        Ok(())
    })?;
    let mut devices = pending.store(store, &inputs, &args.db)?;
    for _ in 1..FINAL_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
        devices = pending.store(store, &inputs, &args.db)?.or(devices);
    }
    if !pending.is_empty() {
        bail!(
            "{} stayed locked by another process: the last facts were not stored",
            args.db.display()
        );
    }
    let devices = match devices {
        Some(d) => d,
        None => store.devices()?,
    };
    Ok((learner, devices))
}

#[cfg(not(feature = "live"))]
fn learn_live(_: &LearnArgs, _: &mut store::Store, _: Learner) -> Result<(Learner, Vec<Device>)> {
    Err(built_without_live())
}

/// Loads the baseline to compare with: a JSON file, or a stored name.
pub fn load_baseline(store: &store::Store, name: &str, file: Option<&Path>) -> Result<Baseline> {
    if let Some(f) = file {
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        return serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a Ward baseline", f.display()));
    }
    store.baseline(name)?.with_context(|| {
        format!("no baseline {name:?} in the database (run `ward baseline learn CAPTURE` first)")
    })
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
    /// Worker threads (default: all cores).
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

struct Policies(Vec<Box<dyn FlowPolicy>>);

impl FlowPolicy for Policies {
    fn violation(&self, f: &FlowSummary<'_>) -> Option<(IpAddr, String, String)> {
        self.0.iter().find_map(|p| p.violation(f))
    }
}

/// The MUD files assigned to devices (intake, `ward mud fetch` links, or announced MUD URL), by address.
fn mud_assignments(
    store: &store::Store,
    devices: &[Device],
    intake: &[store::IntakeEntry],
) -> Result<policy::mud::MudAssignments> {
    let mut files = BTreeMap::new();
    for (url, _, doc) in store.mud_files()? {
        let m = policy::mud::MudPolicy::parse(doc.as_bytes())
            .with_context(|| format!("stored MUD file {url}"))?;
        files.insert(url, std::sync::Arc::new(m));
    }
    let assigned: BTreeMap<&str, &str> = intake
        .iter()
        .filter_map(|i| Some((i.device.as_str(), i.mud_url.as_deref()?)))
        .collect();
    let mut out = policy::mud::MudAssignments::default();
    if files.is_empty() {
        return Ok(out);
    }
    // URLs the devices announced (DHCP option 161, LLDP): by device as `ward mud fetch` linked them
    // (most recent first), else by address.
    let mut linked: BTreeMap<String, String> = BTreeMap::new();
    for l in store.mud_links()? {
        linked.entry(l.device).or_insert(l.url);
    }
    let announced: BTreeMap<IpAddr, String> = store
        .facts()?
        .into_iter()
        .filter(|f| f.kind == identify::FactKind::MudUrl)
        .filter_map(|f| Some((f.endpoint.ip?, f.value)))
        .collect();
    for d in devices {
        let stored = |u: &&str| files.contains_key(*u);
        let url = assigned
            .get(d.key.as_str())
            .copied()
            .filter(stored)
            .or_else(|| linked.get(&d.key).map(String::as_str).filter(stored))
            .map(str::to_string)
            .or_else(|| d.ips.iter().find_map(|ip| announced.get(ip).cloned()));
        if let Some(m) = url.and_then(|u| files.get(&u)) {
            for ip in &d.ips {
                out.by_ip.insert(*ip, m.clone());
            }
        }
    }
    Ok(out)
}

/// Runs `ward monitor`.
pub fn monitor(args: MonitorArgs) -> Result<()> {
    let mut store = crate::location::open(&args.db)?;
    let base = load_baseline(&store, &args.baseline, args.baseline_file.as_deref())?;
    let before = store.devices()?;
    let intake = store.intake()?;
    let approved_keys: std::collections::BTreeSet<&str> = intake
        .iter()
        .filter(|i| i.approved)
        .map(|i| i.device.as_str())
        .collect();
    let approved = before
        .iter()
        .filter(|d| approved_keys.contains(d.key.as_str()))
        .flat_map(|d| d.ips.iter().copied())
        .collect();
    let mut policies: Vec<Box<dyn FlowPolicy>> = Vec::new();
    let muds = mud_assignments(&store, &before, &intake)?;
    if !muds.by_ip.is_empty() {
        policies.push(Box::new(muds));
    }
    if let Some(p) = &args.policy {
        let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        policies.push(Box::new(
            policy::Policy::from_json(&bytes).with_context(|| format!("{}", p.display()))?,
        ));
    }
    let mut det = Detector::new(
        base,
        args.thresholds.apply(DetectorConfig {
            approved,
            ..DetectorConfig::default()
        }),
    );
    if !policies.is_empty() {
        det = det.with_policy(Box::new(Policies(policies)));
    }
    if let Some(u) = &args.syslog {
        if !(u.starts_with("udp://") || u.starts_with("tcp://")) {
            bail!("--syslog wants udp://HOST:PORT or tcp://HOST:PORT, not {u:?}");
        }
    }
    let hook = args.hook.webhook()?;
    if args.live.interface.is_some() {
        if !(args.flush.is_finite() && (0.1..=3600.0).contains(&args.flush)) {
            bail!("--flush must be between 0.1 and 3600 seconds");
        }
        return monitor_live(&args, &mut store, det, hook.as_ref());
    }
    let (observer, report, det) =
        run_pipeline(&args.files, args.workers, det, |d, ev| d.observe(ev))?;
    let (mut alerts, dropped) = det.finish();
    let devices = ingest(&mut store, &args.files, observer, &report, &args.db)?;
    let dir = Directory::new(&devices, &store.intake()?);
    resolve(&mut alerts, &dir);
    store.store_alerts(&alerts)?;
    export(&args, &store, hook.as_ref(), &alerts);
    let mut o = crate::render::stdout();
    if args.jsonl {
        for a in &alerts {
            serde_json::to_writer(&mut o, a)?;
            writeln!(o)?;
        }
    } else if args.json {
        serde_json::to_writer_pretty(&mut o, &alerts)?;
        writeln!(o)?;
    } else {
        crate::alerts::table(&mut o, &alerts)?;
        writeln!(
            o,
            "{} alerts ({} occurrences) from {} packets, {} flows; stored in {}",
            alerts.len(),
            alerts.iter().map(|a| a.count).sum::<u64>(),
            report.packets,
            report.flows,
            args.db.display()
        )?;
        if dropped > 0 {
            writeln!(
                o,
                "warning: {dropped} alerts or scan sources dropped at the limits"
            )?;
        }
    }
    Ok(())
}

/// Sends the stored versions of `alerts` (ids, status, folded counts) to
/// the syslog and webhook targets; a failure is a warning (the alerts are
/// stored, and `ward alerts` can send them again).
fn export(
    args: &MonitorArgs,
    store: &store::Store,
    hook: Option<&::export::Webhook>,
    alerts: &[Alert],
) {
    if alerts.is_empty() || (args.syslog.is_none() && hook.is_none()) {
        return;
    }
    let stored = match store.stored_alerts_for(alerts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("warning: cannot read back the stored alerts to export them: {e}");
            return;
        }
    };
    if let Some(u) = &args.syslog {
        if let Err(e) = ::export::send_syslog(u, &stored) {
            eprintln!("warning: {e:#}");
        }
    }
    if let Some(h) = hook {
        if let Err(e) = h.deliver(&stored) {
            eprintln!("warning: {e:#}");
        }
    }
}

/// Live `ward monitor`: at every flush the alerts are resolved to inventory
/// keys (storing the pending facts first when an alert names a device not in
/// the inventory yet), stored, printed and exported.
#[cfg(feature = "live")]
fn monitor_live(
    args: &MonitorArgs,
    store: &mut store::Store,
    det: Detector,
    hook: Option<&::export::Webhook>,
) -> Result<()> {
    let opts = args
        .live
        .options(std::time::Duration::from_secs_f64(args.flush))?;
    let inputs = args.live.input_label();
    let mut pending = PendingFacts::new();
    let mut dir = Directory::new(&store.devices()?, &store.intake()?);
    let (mut total, mut occurrences, mut dropped_seen) = (0usize, 0u64, 0u64);
    // Alerts a busy store refused: stored (and then printed and exported)
    // with the next flush's, never dropped.
    let mut unsent: Vec<Alert> = Vec::new();
    // Whether the alerts were stored (`false`: kept for the next flush).
    let mut deliver = |store: &mut store::Store,
                       pending: &mut PendingFacts,
                       dir: &mut Directory,
                       fresh: Vec<Alert>,
                       dropped: u64|
     -> Result<bool> {
        let mut alerts = std::mem::take(&mut unsent);
        alerts.extend(fresh);
        if alerts.iter().any(|a| !dir.key.contains_key(&a.ip)) {
            if let Some(devices) = pending.store(store, &inputs, &args.db)? {
                *dir = Directory::new(&devices, &store.intake()?);
            }
        }
        resolve(&mut alerts, dir);
        if let Err(e) = store.store_alerts(&alerts).with_context(|| {
            format!(
                "cannot store alerts in {}",
                crate::location::label(&args.db)
            )
        }) {
            if !busy(&e) {
                return Err(e);
            }
            eprintln!(
                "warning: {e:#}; {} alerts kept, retried at the next flush",
                alerts.len()
            );
            unsent = alerts;
            return Ok(false);
        }
        export(args, store, hook, &alerts);
        let mut o = crate::render::stdout();
        for a in &alerts {
            if args.jsonl || args.json {
                serde_json::to_writer(&mut o, a)?;
                writeln!(o)?;
            } else {
                writeln!(
                    o,
                    "{:<9} {:<31} {:<26} {:>6}  {:<27} {}",
                    a.severity.as_str(),
                    a.kind.as_str(),
                    a.device,
                    a.count,
                    a.first_seen.iso(),
                    a.summary
                )?;
            }
        }
        o.flush()?;
        total += alerts.len();
        occurrences += alerts.iter().map(|a| a.count).sum::<u64>();
        if dropped > dropped_seen {
            eprintln!(
                "warning: {} alerts or scan sources dropped at the limits",
                dropped - dropped_seen
            );
            dropped_seen = dropped;
        }
        Ok(true)
    };
    let det = crate::live::run(
        &opts,
        det,
        |d, ev| d.observe(ev),
        |d| Some(d.drain()),
        &mut |out| {
            match out {
                crate::live::Out::Facts(o, r) => {
                    pending.add(o, r);
                    if pending.last.elapsed() >= std::time::Duration::from_secs(60) {
                        if let Some(devices) = pending.store(store, &inputs, &args.db)? {
                            dir = Directory::new(&devices, &store.intake()?);
                        }
                    }
                }
                crate::live::Out::Alerts(a, dropped) => {
                    deliver(store, &mut pending, &mut dir, a, dropped)?;
                }
            }
            Ok(())
        },
    )?;
    let (alerts, dropped) = det.finish();
    // Shutdown: nothing pending may be lost to a busy store.
    let mut last = Some(alerts);
    let mut attempt = 0;
    loop {
        attempt += 1;
        if let Some(devices) = pending.store(store, &inputs, &args.db)? {
            dir = Directory::new(&devices, &store.intake()?);
        }
        if pending.is_empty()
            && deliver(
                store,
                &mut pending,
                &mut dir,
                last.take().unwrap_or_default(),
                dropped,
            )?
        {
            break;
        }
        if attempt >= FINAL_ATTEMPTS {
            bail!(
                "{} stayed locked by another process: the last results were not stored",
                crate::location::label(&args.db)
            );
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    eprintln!(
        "ward: stopped; {total} alerts ({occurrences} occurrences) stored in {}",
        crate::location::label(&args.db)
    );
    Ok(())
}

#[cfg(not(feature = "live"))]
fn monitor_live(
    _: &MonitorArgs,
    _: &mut store::Store,
    _: Detector,
    _: Option<&::export::Webhook>,
) -> Result<()> {
    Err(built_without_live())
}

/// Replaces `ip:` device names by inventory keys.
pub fn resolve(alerts: &mut [Alert], dir: &Directory) {
    for a in alerts {
        if let Some(k) = dir.key.get(&a.ip) {
            a.device = k.clone();
        }
    }
}

/// Runs `ward baseline show`.
pub fn show(db: &Path, name: &str) -> Result<()> {
    if !crate::location::exists(db) {
        bail!("no database at {}", db.display());
    }
    let store = crate::location::open(db)?;
    let b = load_baseline(&store, name, None)?;
    let mut o = crate::render::stdout();
    serde_json::to_writer_pretty(&mut o, &b)?;
    writeln!(o)?;
    Ok(())
}
