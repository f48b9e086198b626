//! `ward baseline learn` and `ward monitor`: the sensor pipeline with a
//! consumer of its records (a baseline learner or the alert detectors) on
//! its own thread, fed in batches, so the workers' hot path is unchanged.

use crate::analyze::{config, run_summary};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use identify::{Device, Observer};
use model::{Event, Timestamp};
use monitor::{Alert, Baseline, Detector, DetectorConfig, FlowPolicy, FlowSummary, Learner, Window};
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
        let state = consumer.join().map_err(|_| anyhow::anyhow!("record consumer thread failed"))?;
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
        let groups: BTreeMap<&str, &str> = intake.iter().filter_map(|i| Some((i.device.as_str(), i.group.as_deref()?))).collect();
        let mut key = BTreeMap::new();
        let mut group = BTreeMap::new();
        for d in devices {
            for ip in &d.ips {
                key.insert(*ip, d.key.clone());
                let g = groups.get(d.key.as_str()).map(|g| g.to_string()).unwrap_or_else(|| d.category.label().to_string());
                group.insert(*ip, g);
            }
        }
        Directory { key, group }
    }
}

/// `ward baseline ...`
#[derive(Subcommand)]
pub enum BaselineCommand {
    /// Learn how each device and group normally communicates from captures (also adds them to the inventory).
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

/// Arguments of `ward baseline learn`.
#[derive(Args)]
pub struct LearnArgs {
    /// Capture files (pcap or pcapng).
    #[arg(required = true)]
    files: Vec<PathBuf>,
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
    let n: i64 = num.parse().with_context(|| format!("bad duration {s:?} (use e.g. 3600, 90m, 8h, 7d)"))?;
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

fn ingest(store: &mut store::Store, files: &[PathBuf], observer: Observer, report: &Report, db: &Path) -> Result<Vec<Device>> {
    let summary = run_summary(files, report);
    let devices = store.ingest(&summary, &observer.into_facts(), &report.anomalies()).with_context(|| format!("cannot store results in {}", db.display()))?;
    let reg: Vec<(String, Timestamp, Option<String>)> = devices.iter().map(|d| (d.key.clone(), d.first_seen, mud_url_of(d))).collect();
    store.intake_register(&reg)?;
    Ok(devices)
}

fn mud_url_of(d: &Device) -> Option<String> {
    d.facts.iter().find(|f| f.kind == identify::FactKind::MudUrl).map(|f| f.value.clone())
}

/// Runs `ward baseline learn`.
pub fn learn(args: LearnArgs) -> Result<()> {
    let window = Window {
        from: args.from.map(unix).transpose()?,
        until: args.until.map(unix).transpose()?,
        seconds: args.window.as_deref().map(parse_duration).transpose()?,
    };
    let mut store = crate::location::open(&args.db)?;
    let (observer, report, learner) = run_pipeline(&args.files, args.workers, Learner::new(window), |l, ev| l.learn(ev))?;
    let mut b = learner.finish();
    let devices = ingest(&mut store, &args.files, observer, &report, &args.db)?;
    let dir = Directory::new(&devices, &store.intake()?);
    b.group(&|ip| dir.group.get(ip).cloned());
    store.save_baseline(&args.name, &b)?;
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_vec_pretty(&b)?).with_context(|| format!("cannot write {}", out.display()))?;
    }
    let mut o = std::io::stdout().lock();
    let span = match (b.start, b.end) {
        (Some(s), Some(e)) => format!("{} .. {}", s.iso(), e.iso()),
        _ => "no flows".into(),
    };
    writeln!(o, "baseline {:?}: {} flows learnt ({span}), {} devices, {} groups", args.name, b.records, b.devices.len(), b.groups.len())?;
    for (g, gb) in &b.groups {
        writeln!(
            o,
            "  {g}: {} devices, {} conversations, services {}",
            gb.members.len(),
            gb.talks.len(),
            gb.services.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
        )?;
    }
    Ok(())
}

/// Loads the baseline to compare with: a JSON file, or a stored name.
pub fn load_baseline(store: &store::Store, name: &str, file: Option<&Path>) -> Result<Baseline> {
    if let Some(f) = file {
        let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        return serde_json::from_slice(&bytes).with_context(|| format!("{}: not a Ward baseline", f.display()));
    }
    store.baseline(name)?.with_context(|| format!("no baseline {name:?} in the database (run `ward baseline learn CAPTURE` first)"))
}

/// Arguments of `ward monitor`.
#[derive(Args)]
pub struct MonitorArgs {
    /// Capture files (pcap or pcapng).
    #[arg(required = true)]
    files: Vec<PathBuf>,
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
}

struct Policies(Vec<Box<dyn FlowPolicy>>);

impl FlowPolicy for Policies {
    fn violation(&self, f: &FlowSummary<'_>) -> Option<(IpAddr, String, String)> {
        self.0.iter().find_map(|p| p.violation(f))
    }
}

/// The MUD files assigned to devices (intake, `ward mud fetch` links, or announced MUD URL), by address.
fn mud_assignments(store: &store::Store, devices: &[Device], intake: &[store::IntakeEntry]) -> Result<policy::mud::MudAssignments> {
    let mut files = BTreeMap::new();
    for (url, _, doc) in store.mud_files()? {
        let m = policy::mud::MudPolicy::parse(doc.as_bytes()).with_context(|| format!("stored MUD file {url}"))?;
        files.insert(url, std::sync::Arc::new(m));
    }
    let assigned: BTreeMap<&str, &str> = intake.iter().filter_map(|i| Some((i.device.as_str(), i.mud_url.as_deref()?))).collect();
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
    let announced: BTreeMap<IpAddr, String> =
        store.facts()?.into_iter().filter(|f| f.kind == identify::FactKind::MudUrl).filter_map(|f| Some((f.endpoint.ip?, f.value))).collect();
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
    let approved_keys: std::collections::BTreeSet<&str> = intake.iter().filter(|i| i.approved).map(|i| i.device.as_str()).collect();
    let approved = before.iter().filter(|d| approved_keys.contains(d.key.as_str())).flat_map(|d| d.ips.iter().copied()).collect();
    let mut policies: Vec<Box<dyn FlowPolicy>> = Vec::new();
    let muds = mud_assignments(&store, &before, &intake)?;
    if !muds.by_ip.is_empty() {
        policies.push(Box::new(muds));
    }
    if let Some(p) = &args.policy {
        let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        policies.push(Box::new(policy::Policy::from_json(&bytes).with_context(|| format!("{}", p.display()))?));
    }
    let mut det = Detector::new(base, DetectorConfig { approved, ..DetectorConfig::default() });
    if !policies.is_empty() {
        det = det.with_policy(Box::new(Policies(policies)));
    }
    let (observer, report, det) = run_pipeline(&args.files, args.workers, det, |d, ev| d.observe(ev))?;
    let (mut alerts, dropped) = det.finish();
    let devices = ingest(&mut store, &args.files, observer, &report, &args.db)?;
    let dir = Directory::new(&devices, &store.intake()?);
    resolve(&mut alerts, &dir);
    store.store_alerts(&alerts)?;
    let mut o = std::io::stdout().lock();
    if args.json {
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
            writeln!(o, "warning: {dropped} alerts or scan sources dropped at the limits")?;
        }
    }
    Ok(())
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
    let mut o = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut o, &b)?;
    writeln!(o)?;
    Ok(())
}
