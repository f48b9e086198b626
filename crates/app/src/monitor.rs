//! Learning baselines and monitoring: the sensor pipeline with a consumer
//! of its records (a baseline learner or the alert detectors) on its own
//! thread, fed in batches, so the workers' hot path is unchanged; the
//! assembly of what the detectors need from the store (the [`Directory`]
//! of device keys and groups, the MUD files assigned to devices, the
//! [`Policies`]); and the runs themselves, over capture files or (feature
//! `live`) continuously on an interface with alerts stored and exported at
//! every flush.

use crate::analyze::{config, regular_input, store_analysis};
use crate::{invalid, Context, Error, Notify, Result};
use identify::{Device, Observer};
use model::{Event, Timestamp};
use monitor::{Alert, Baseline, Detector, DetectorConfig, FlowPolicy, FlowSummary, Learner};
use sensor::{Progress, Report};
use std::collections::BTreeMap;
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
        regular_input(f)?;
        capture::FileReader::open(f)?;
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
            .map_err(|_| Error::Thread("record consumer thread"))?;
        let (o, rep) = r?;
        Ok((o, rep, state))
    })
}

/// Device key and group (intake group, else category) per address.
#[derive(Debug, Default, Clone)]
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

/// Replaces `ip:` device names by inventory keys.
pub fn resolve(alerts: &mut [Alert], dir: &Directory) {
    for a in alerts {
        if let Some(k) = dir.key.get(&a.ip) {
            a.device = k.clone();
        }
    }
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
    let Ok(n) = num.parse::<i64>() else {
        invalid!("bad duration {s:?} (use e.g. 3600, 90m, 8h, 7d)");
    };
    if n <= 0 {
        invalid!("duration must be positive");
    }
    Ok(n.saturating_mul(mul))
}

/// Unix seconds as a packet time.
pub fn unix(t: f64) -> Result<Timestamp> {
    if !t.is_finite() || !(0.0..1e11).contains(&t) {
        invalid!("bad time {t} (Unix seconds expected)");
    }
    Ok(Timestamp((t * 1e6) as i64))
}

/// Stores one run over `files`, rebuilding only the devices its facts can
/// change ([`store::Store::ingest_run`], as `ward analyze` does), registers
/// the devices it saw for intake and brings their remediation items in line
/// ([`crate::remediation::sync_seen_notifying`]). Returns the whole
/// inventory, as stored.
fn ingest(
    store: &mut store::Store,
    files: &[PathBuf],
    observer: Observer,
    report: &Report,
    db: &Path,
    notify: &dyn Notify,
) -> Result<Vec<Device>> {
    let seen = store_analysis(store, files, observer, report, db)?.devices;
    register(store, &seen)?;
    crate::remediation::sync_seen_notifying(store, &seen, notify);
    Ok(store.devices()?)
}

/// Registers the devices for intake review (new ones as pending).
fn register(store: &mut store::Store, devices: &[Device]) -> Result<()> {
    let reg: Vec<Registration> = devices.iter().map(registration).collect();
    store.intake_register(&reg)?;
    Ok(())
}

/// A device as intake registers it: key, first seen, announced MUD URL.
type Registration = (String, Timestamp, Option<String>);

fn registration(d: &Device) -> Registration {
    (d.key.clone(), d.first_seen, mud_url_of(d))
}

fn mud_url_of(d: &Device) -> Option<String> {
    d.facts
        .iter()
        .find(|f| f.kind == identify::FactKind::MudUrl)
        .map(|f| f.value.clone())
}

/// Loads the baseline to compare with: a JSON file, or a stored name.
pub fn load_baseline(store: &store::Store, name: &str, file: Option<&Path>) -> Result<Baseline> {
    match file {
        Some(f) => read_baseline(f),
        None => store.baseline(name)?.ok_or_else(|| {
            Error::Invalid(format!(
                "no baseline {name:?} in the database (run `ward baseline learn CAPTURE` first)"
            ))
        }),
    }
}

/// Reads a baseline JSON file (`ward baseline learn --out`).
pub fn read_baseline(f: &Path) -> Result<Baseline> {
    let bytes = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{}: not a Ward baseline", f.display()))
}

/// A live capture: interface, filter and how long (feature `live`).
#[derive(Debug, Clone, Default)]
pub struct LiveSource {
    /// Interface.
    pub interface: String,
    /// BPF filter (tcpdump syntax).
    pub filter: Option<String>,
    /// Stop after this long (wall clock); else at SIGINT/SIGTERM.
    pub duration: Option<std::time::Duration>,
    /// Workers (default: all cores): one AF_PACKET fanout socket each on
    /// Linux; libpcap, the fallback, has one.
    pub workers: Option<usize>,
}

impl LiveSource {
    /// The run's input as stored (`interface:NAME`).
    pub fn input_label(&self) -> Vec<PathBuf> {
        vec![PathBuf::from(format!("interface:{}", self.interface))]
    }
}

/// Where a baseline is learnt from or a monitor watches.
#[derive(Debug, Clone)]
pub enum Source {
    /// Capture files, with this many workers (default: all cores).
    Files(Vec<PathBuf>, Option<usize>),
    /// An interface (feature `live`).
    Live(LiveSource),
}

/// The error of a live source (or `ward capture`) in a build without the
/// `live` feature: which feature is missing and how to build it.
pub fn built_without_live() -> Error {
    Error::Invalid(
        "this ward was built without live capture (the `live` feature, which needs libpcap): \
         build it with `cargo build --release -p ward --features live`, \
         or give capture files"
            .into(),
    )
}

/// Learns a baseline from `source` into `learner` (the facts are stored as
/// runs, the devices registered for intake), groups it by intake group or
/// category and saves it under `name`.
pub fn learn(
    store: &mut store::Store,
    db: &Path,
    source: &Source,
    learner: Learner,
    name: &str,
    notify: &dyn Notify,
) -> Result<Baseline> {
    let (learner, devices) = match source {
        Source::Files(files, workers) => {
            let (observer, report, mut learner) =
                run_pipeline(files, *workers, learner, |l, ev| l.learn(ev))?;
            if report.inputs.len() > 1 {
                // Several captures: the network was watched only while each ran.
                learner.cover(&report.inputs);
            }
            (
                learner,
                ingest(store, files, observer, &report, db, notify)?,
            )
        }
        Source::Live(live) => learn_live(store, db, live, learner, notify)?,
    };
    let mut b = learner.finish();
    let dir = Directory::new(&devices, &store.intake()?);
    b.group(&|ip| dir.group.get(ip).cloned());
    store.save_baseline(name, &b)?;
    Ok(b)
}

/// A list of flow policies as one: the first violation any of them finds.
pub struct Policies(pub Vec<Box<dyn FlowPolicy>>);

impl FlowPolicy for Policies {
    fn violation(&self, f: &FlowSummary<'_>) -> Option<(IpAddr, String, String)> {
        self.0.iter().find_map(|p| p.violation(f))
    }
}

/// The MUD files assigned to devices (intake, `ward mud fetch` links, or announced MUD URL), by address.
pub fn mud_assignments(
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

/// The detectors against `base`, as the store configures them: approved
/// devices raise no new-device alert; the MUD files assigned to devices and
/// the policy file `policy` (`ward policy generate`'s policy.json), if
/// given, raise policy violations. `cfg` holds the site's thresholds.
pub fn detector(
    store: &store::Store,
    base: Baseline,
    policy_file: Option<&Path>,
    cfg: DetectorConfig,
) -> Result<Detector> {
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
    let muds = mud_assignments(store, &before, &intake)?;
    if !muds.by_ip.is_empty() {
        policies.push(Box::new(muds));
    }
    if let Some(p) = policy_file {
        let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        policies.push(Box::new(
            policy::Policy::from_json(&bytes).with_context(|| p.display())?,
        ));
    }
    let mut det = Detector::new(base, DetectorConfig { approved, ..cfg });
    if !policies.is_empty() {
        det = det.with_policy(Box::new(Policies(policies)));
    }
    Ok(det)
}

/// Where stored alerts go besides the store (syslog, webhooks): it gets
/// them as stored (ids, status, folded counts); it reports its own failures
/// (the alerts are stored, and can be sent again).
pub type Export<'a> = &'a dyn Fn(&[store::StoredAlert]);

/// Sends the stored versions of `alerts` to `export`; a failure to read
/// them back is a warning.
fn export(store: &store::Store, to: Option<Export<'_>>, alerts: &[Alert], notify: &dyn Notify) {
    let Some(to) = to else { return };
    if alerts.is_empty() {
        return;
    }
    match store.stored_alerts_for(alerts) {
        Ok(s) => to(&s),
        Err(e) => notify.line(&format!(
            "warning: cannot read back the stored alerts to export them: {e}"
        )),
    }
}

/// What a monitor run over capture files found.
#[derive(Debug)]
pub struct MonitorRun {
    /// The alerts, resolved to inventory keys, as stored.
    pub alerts: Vec<Alert>,
    /// Alerts or scan sources dropped at the limits.
    pub dropped: u64,
    /// The sensor's report.
    pub report: Report,
}

/// Monitors capture files: the detectors run over them, the facts are
/// stored (devices registered for intake), the alerts resolved to inventory
/// keys, stored and exported.
pub fn monitor_files(
    store: &mut store::Store,
    db: &Path,
    files: &[PathBuf],
    workers: Option<usize>,
    det: Detector,
    to: Option<Export<'_>>,
    notify: &dyn Notify,
) -> Result<MonitorRun> {
    let (observer, report, det) = run_pipeline(files, workers, det, |d, ev| d.observe(ev))?;
    let (mut alerts, dropped) = det.finish();
    let devices = ingest(store, files, observer, &report, db, notify)?;
    let dir = Directory::new(&devices, &store.intake()?);
    resolve(&mut alerts, &dir);
    store.store_alerts(&alerts)?;
    export(store, to, &alerts, notify);
    Ok(MonitorRun {
        alerts,
        dropped,
        report,
    })
}

/// Totals of a live monitor run.
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveTotals {
    /// Alerts stored.
    pub alerts: usize,
    /// Their occurrences.
    pub occurrences: u64,
}

/// How often a live run retries a busy store at shutdown before giving up
/// (each attempt already waits for the store's busy timeout).
#[cfg(feature = "live")]
const FINAL_ATTEMPTS: u32 = 5;

/// A run a busy store refused: its summary, facts and anomaly counters.
#[cfg(feature = "live")]
type UnsavedRun = (store::RunSummary, Vec<identify::Fact>, Vec<(String, u64)>);

/// Facts of a live run waiting to be stored, and when they were last stored.
/// Runs the store refused as busy (another process held its write lock
/// past the busy timeout) are kept, in order, and stored first next time;
/// so are the intake registrations of devices stored runs saw.
#[cfg(feature = "live")]
struct PendingFacts {
    facts: Option<(Observer, Report)>,
    unsaved: Vec<UnsavedRun>,
    unregistered: BTreeMap<String, Registration>,
    last: std::time::Instant,
}

#[cfg(feature = "live")]
impl PendingFacts {
    fn new() -> Self {
        PendingFacts {
            facts: None,
            unsaved: Vec::new(),
            unregistered: BTreeMap::new(),
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

    /// Stores the pending facts (one run each, rebuilding only the devices
    /// its facts can change, not the whole inventory each flush), brings the
    /// remediation items of the devices each run saw in line and registers
    /// them for intake; returns the whole inventory as stored, or `None` when
    /// no run was stored. A busy store keeps the runs (and registrations) for
    /// the next call (a warning given); any other failure is an error.
    fn store(
        &mut self,
        store: &mut store::Store,
        inputs: &[PathBuf],
        db: &Path,
        notify: &dyn Notify,
    ) -> Result<Option<Vec<Device>>> {
        self.last = std::time::Instant::now();
        if let Some((o, r)) = self.facts.take() {
            self.unsaved.push((
                crate::analyze::run_summary(inputs, &r),
                o.into_facts(),
                r.anomalies(),
            ));
        }
        let mut stored = false;
        while let Some((run, facts, anomalies)) = self.unsaved.first() {
            // A copy: a busy store refuses the run whole, and it is kept for the next try.
            match store
                .ingest_run(run, facts.clone(), anomalies)
                .with_context(|| format!("cannot store results in {}", db.display()))
            {
                Ok(ingested) => {
                    self.unsaved.remove(0);
                    stored = true;
                    for d in &ingested.devices {
                        self.unregistered.insert(d.key.clone(), registration(d));
                    }
                    crate::remediation::sync_seen_notifying(store, &ingested.devices, notify);
                }
                Err(e) if e.is_busy() => {
                    notify.line(&format!(
                        "warning: {}; {} runs kept, retried at the next flush",
                        crate::chain(&e),
                        self.unsaved.len()
                    ));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if !self.unregistered.is_empty() {
            let entries: Vec<Registration> = self.unregistered.values().cloned().collect();
            match store.intake_register(&entries) {
                Ok(_) => self.unregistered.clear(),
                Err(e) if e.is_busy() => notify.line(&format!(
                    "warning: {}; devices registered at the next flush",
                    crate::chain(&e)
                )),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(if stored { Some(store.devices()?) } else { None })
    }

    /// Whether runs are still waiting to be stored.
    fn is_empty(&self) -> bool {
        self.facts.is_none() && self.unsaved.is_empty()
    }
}

/// Live learning: facts stored every minute, the learner returned at the end.
#[cfg(feature = "live")]
fn learn_live(
    store: &mut store::Store,
    db: &Path,
    live: &LiveSource,
    learner: Learner,
    notify: &dyn Notify,
) -> Result<(Learner, Vec<Device>)> {
    let opts = crate::live::Options {
        source: live,
        every: std::time::Duration::from_secs(10),
    };
    let inputs = live.input_label();
    let mut pending = PendingFacts::new();
    let learner = crate::live::run(
        &opts,
        learner,
        |l, ev| l.learn(ev),
        |_| None,
        notify,
        &mut |out| {
            if let crate::live::Out::Facts(o, r) = out {
                pending.add(o, r);
                if pending.last.elapsed() >= std::time::Duration::from_secs(60) {
                    pending.store(store, &inputs, db, notify)?;
                }
            }
            Ok(())
        },
    )?;
    let mut devices = pending.store(store, &inputs, db, notify)?;
    for _ in 1..FINAL_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
        devices = pending.store(store, &inputs, db, notify)?.or(devices);
    }
    if !pending.is_empty() {
        invalid!(
            "{} stayed locked by another process: the last facts were not stored",
            db.display()
        );
    }
    let devices = match devices {
        Some(d) => d,
        None => store.devices()?,
    };
    Ok((learner, devices))
}

#[cfg(not(feature = "live"))]
fn learn_live(
    _: &mut store::Store,
    _: &Path,
    _: &LiveSource,
    _: Learner,
    _: &dyn Notify,
) -> Result<(Learner, Vec<Device>)> {
    Err(built_without_live())
}

/// Live monitoring: at every flush (`every`) the alerts are resolved to
/// inventory keys (storing the pending facts first when an alert names a
/// device not in the inventory yet), stored, handed to `print` and
/// exported; the inventory is updated at most every minute. Alerts and runs
/// a busy store refused are kept and stored at the next flush, retried at
/// shutdown.
#[cfg(feature = "live")]
#[allow(clippy::too_many_arguments)]
pub fn monitor_live(
    store: &mut store::Store,
    db: &Path,
    live: &LiveSource,
    every: std::time::Duration,
    det: Detector,
    to: Option<Export<'_>>,
    print: &mut dyn FnMut(&[Alert]) -> Result<()>,
    notify: &dyn Notify,
) -> Result<LiveTotals> {
    let opts = crate::live::Options {
        source: live,
        every,
    };
    let inputs = live.input_label();
    let mut pending = PendingFacts::new();
    let mut dir = Directory::new(&store.devices()?, &store.intake()?);
    let mut totals = LiveTotals::default();
    let mut dropped_seen = 0u64;
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
            if let Some(devices) = pending.store(store, &inputs, db, notify)? {
                *dir = Directory::new(&devices, &store.intake()?);
            }
        }
        resolve(&mut alerts, dir);
        if let Err(e) = store
            .store_alerts(&alerts)
            .with_context(|| format!("cannot store alerts in {}", crate::location::label(db)))
        {
            if !e.is_busy() {
                return Err(e);
            }
            notify.line(&format!(
                "warning: {}; {} alerts kept, retried at the next flush",
                crate::chain(&e),
                alerts.len()
            ));
            unsent = alerts;
            return Ok(false);
        }
        export(store, to, &alerts, notify);
        print(&alerts)?;
        totals.alerts += alerts.len();
        totals.occurrences += alerts.iter().map(|a| a.count).sum::<u64>();
        if dropped > dropped_seen {
            notify.line(&format!(
                "warning: {} alerts or scan sources dropped at the limits",
                dropped - dropped_seen
            ));
            dropped_seen = dropped;
        }
        Ok(true)
    };
    let det = crate::live::run(
        &opts,
        det,
        |d, ev| d.observe(ev),
        |d| Some(d.drain()),
        notify,
        &mut |out| {
            match out {
                crate::live::Out::Facts(o, r) => {
                    pending.add(o, r);
                    if pending.last.elapsed() >= std::time::Duration::from_secs(60) {
                        if let Some(devices) = pending.store(store, &inputs, db, notify)? {
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
        if let Some(devices) = pending.store(store, &inputs, db, notify)? {
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
            invalid!(
                "{} stayed locked by another process: the last results were not stored",
                crate::location::label(db)
            );
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    Ok(totals)
}

/// Live monitoring needs the `live` feature.
#[cfg(not(feature = "live"))]
#[allow(clippy::too_many_arguments)]
pub fn monitor_live(
    _: &mut store::Store,
    _: &Path,
    _: &LiveSource,
    _: std::time::Duration,
    _: Detector,
    _: Option<Export<'_>>,
    _: &mut dyn FnMut(&[Alert]) -> Result<()>,
    _: &dyn Notify,
) -> Result<LiveTotals> {
    Err(built_without_live())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert_eq!(parse_duration("90s").unwrap(), 90);
        assert_eq!(parse_duration(" 15m ").unwrap(), 900);
        assert_eq!(parse_duration("8h").unwrap(), 8 * 3600);
        assert_eq!(parse_duration("7d").unwrap(), 7 * 86_400);
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("-5m").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
        assert!(unix(f64::NAN).is_err());
        assert!(unix(-1.0).is_err());
        assert_eq!(unix(1.5).unwrap(), Timestamp(1_500_000));
    }

    fn device(key: &str, ip: &str) -> Device {
        let facts = vec![identify::Fact {
            endpoint: identify::EndpointKey {
                mac: None,
                ip: Some(ip.parse().unwrap()),
            },
            kind: identify::FactKind::Hostname,
            value: key.into(),
            source: "dhcp".into(),
            first_seen: Timestamp(1),
            last_seen: Timestamp(2),
            count: 1,
            evidence: String::new(),
        }];
        let mut d = identify::build_inventory(&facts).remove(0);
        d.key = key.into();
        d
    }

    /// Issue 19, item 5: runs a store refuses as busy (another process holds
    /// the write lock past the busy timeout) are kept, in order, and stored
    /// at the next flush once the lock is gone; nothing is lost.
    #[cfg(feature = "live")]
    #[test]
    fn busy_store_keeps_runs_for_the_next_flush() {
        use crate::analyze::{analyze, check_inputs};
        let (dir, pcap) = crate::scratch_room("busy");
        let (files, _) = check_inputs(std::slice::from_ref(&pcap), &|_: &str| {}).unwrap();
        let cfg = config(Some(1), None, None).unwrap();
        let facts = || analyze(&files, &cfg, &Progress::default(), None).unwrap();
        let db = dir.join("ward.db");
        let mut store = crate::location::open(&db).unwrap();
        store::testing::set_busy_timeout(&store, std::time::Duration::from_millis(50));
        let lines = std::sync::Mutex::new(Vec::<String>::new());
        let notify = |l: &str| lines.lock().unwrap().push(l.to_string());
        let inputs = vec![PathBuf::from("interface:test0")];
        let mut pending = PendingFacts::new();

        let lock = store::testing::hold_write_lock(&db);
        for flush in 1..=2 {
            let (o, r, _) = facts();
            pending.add(o, r);
            let stored = pending.store(&mut store, &inputs, &db, &notify).unwrap();
            assert!(stored.is_none(), "flush {flush}: refused as busy");
            assert_eq!(pending.unsaved.len(), flush, "kept, in order");
            assert!(!pending.is_empty());
        }
        let warned = lines.lock().unwrap().clone();
        assert_eq!(warned.len(), 2, "{warned:?}");
        assert!(
            warned[1].starts_with("warning: cannot store results in")
                && warned[1].ends_with("2 runs kept, retried at the next flush"),
            "{warned:?}"
        );
        drop(lock);
        let devices = pending
            .store(&mut store, &inputs, &db, &notify)
            .unwrap()
            .expect("stored at the next flush");
        assert!(!devices.is_empty());
        assert!(pending.is_empty());
        assert_eq!(store.run_count().unwrap(), 2, "both kept runs stored");
        assert_eq!(
            store::testing::run_inputs(&store),
            vec![vec!["interface:test0".to_string()]; 2]
        );
        let after: Vec<String> = lines.lock().unwrap()[2..].to_vec();
        assert!(
            after.iter().all(|l| l.starts_with("remediation: ")),
            "no further warning: {after:?}"
        );
        assert!(
            !store.intake().unwrap().is_empty(),
            "the devices the runs saw are registered"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A monitor run over capture files is stored as `ward analyze` stores
    /// one: the devices it saw are registered for intake (not those of
    /// earlier runs it did not see) and their remediation items opened, in
    /// one line said.
    #[test]
    fn a_monitor_run_is_stored_like_an_analysis() {
        let (dir, room) = crate::scratch_room("monitor-run");
        let db = dir.join("ward.db");
        let mut store = crate::location::open(&db).unwrap();
        // An earlier run saw a device this one does not.
        let earlier = device("mac:earlier", "10.9.9.9").facts;
        store
            .ingest_run(&store::RunSummary::default(), earlier, &[])
            .unwrap();
        let lines = std::sync::Mutex::new(Vec::<String>::new());
        let notify = |l: &str| lines.lock().unwrap().push(l.to_string());
        let det = Detector::new(Baseline::default(), DetectorConfig::default());
        let run = monitor_files(&mut store, &db, &[room], Some(1), det, None, &notify).unwrap();
        assert!(run.report.packets > 0);

        let devices = store.devices().unwrap();
        let registered: Vec<String> = store
            .intake()
            .unwrap()
            .into_iter()
            .map(|i| i.device)
            .collect();
        let earlier_key = devices
            .iter()
            .find(|d| d.ips.contains(&"10.9.9.9".parse().unwrap()))
            .map(|d| d.key.clone())
            .expect("the earlier device is in the inventory");
        assert!(!registered.contains(&earlier_key), "{registered:?}");
        assert_eq!(
            registered.len(),
            devices.len() - 1,
            "every device the run saw"
        );

        let tracked = store.remediation_tracked().unwrap();
        assert!(!tracked.is_empty(), "the run's problems are tracked");
        let said = lines.lock().unwrap().clone();
        let expected = format!("remediation: {} opened,", tracked.len());
        assert!(said.iter().any(|l| l.starts_with(&expected)), "{said:?}");
        assert!(!said.iter().any(|l| l.starts_with("warning")), "{said:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directory_groups_by_intake_then_category() {
        let devices = [device("mac:a", "10.0.0.1"), device("mac:b", "10.0.0.2")];
        let intake = [store::IntakeEntry {
            device: "mac:a".into(),
            approved: false,
            owner: None,
            location: None,
            group: Some("infusion".into()),
            mud_url: None,
            first_seen: Timestamp(1),
        }];
        let dir = Directory::new(&devices, &intake);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(dir.group[&a], "infusion");
        assert_eq!(dir.group[&b], devices[1].category.label());
        assert_eq!(dir.key[&b], "mac:b");
    }
}
