//! Detectors: records compared with a baseline, deviations raised as alerts.

use crate::alert::{AlertKind, Alerts, Evidence, FlowTuple};
use crate::baseline::{
    hl7_app, receiver_of, record_time, sender_of, window_index, Baseline, DeviceBaseline, Role,
    Service, Talk, ALL_HOURS,
};
use crate::{is_host, is_local, Alert};
use model::records::{ConnRecord, DicomPdu};
use model::{Event, FlowInfo, Record, Timestamp, Transport};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

type Map<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;
type Set<K> = hashbrown::HashSet<K, foldhash::fast::RandomState>;

/// Ports of management services: a session to one of them from a peer that
/// never used it is an unauthorized access.
pub const MANAGEMENT_PORTS: &[(Transport, u16, &str)] = &[
    (Transport::Tcp, 22, "ssh"),
    (Transport::Tcp, 23, "telnet"),
    (Transport::Tcp, 80, "http"),
    (Transport::Tcp, 443, "https"),
    (Transport::Tcp, 2323, "telnet"),
    (Transport::Tcp, 3389, "rdp"),
    (Transport::Tcp, 5900, "vnc"),
    (Transport::Tcp, 5985, "winrm"),
    (Transport::Tcp, 5986, "winrm"),
    (Transport::Tcp, 8080, "http"),
    (Transport::Tcp, 8443, "https"),
    (Transport::Udp, 161, "snmp"),
];

/// Detection thresholds and limits.
#[derive(Debug, Clone)]
pub struct DetectorConfig {
    /// Distinct ports probed on one host (no payload from the prober) that make a scan.
    pub scan_ports: usize,
    /// Distinct hosts probed that make a sweep.
    pub scan_hosts: usize,
    /// Distinct hosts with SMB sessions from one source that make a fan-out.
    pub smb_hosts: usize,
    /// Sources whose probes are tracked at once (beyond: ignored, counted).
    pub max_sources: usize,
    /// Distinct probe targets kept per source.
    pub max_targets: usize,
    /// Distinct alerts kept (beyond: dropped, counted).
    pub max_alerts: usize,
    /// Devices approved at intake: never "new", even when absent from the baseline.
    pub approved: BTreeSet<IpAddr>,
    /// Standard deviations beyond the learnt range that make an observation implausible.
    pub observation_sigmas: f64,
    /// Values needed in the baseline before a code's range is judged.
    pub observation_min_count: u64,
    /// Learning span (seconds) a baseline needs before hours of day are judged.
    pub off_hours_min_span_secs: i64,
    /// Flows a device needs in the baseline before its hours of day are judged.
    pub off_hours_min_flows: u64,
    /// Hours next to a learnt hour that count as usual too (a shift ending late).
    pub off_hours_slack: u8,
    /// A window's volume alerts above `volume_factor` × the learnt 99th percentile
    /// (and above the learnt maximum and the floor).
    pub volume_factor: f64,
    /// Volume windows the baseline needs before volumes are judged.
    pub volume_min_windows: u64,
    /// Bytes per window (sent or received) never alerted below.
    pub volume_floor_bytes: u64,
    /// Flows per window never alerted below.
    pub volume_floor_flows: u64,
    /// Long-running monitors forget a probing source idle for this long (seconds, packet time).
    pub scan_window_secs: i64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            scan_ports: 20,
            scan_hosts: 20,
            smb_hosts: 10,
            max_sources: 65_536,
            max_targets: 1024,
            max_alerts: 100_000,
            approved: BTreeSet::new(),
            observation_sigmas: 4.0,
            observation_min_count: 10,
            off_hours_min_span_secs: 86_400,
            off_hours_min_flows: 50,
            off_hours_slack: 1,
            volume_factor: 4.0,
            volume_min_windows: 36,
            volume_floor_bytes: 10 * 1024 * 1024,
            volume_floor_flows: 200,
            scan_window_secs: 900,
        }
    }
}

/// A flow as a policy sees it.
#[derive(Debug, Clone, Copy)]
pub struct FlowSummary<'a> {
    /// Who and where.
    pub flow: &'a FlowInfo,
    /// How much and when.
    pub conn: &'a ConnRecord,
}

/// A policy that may refuse flows (MUD files, generated allow-lists).
pub trait FlowPolicy: Send {
    /// `Some((device, key, summary))` when the flow is not allowed for `device`.
    fn violation(&self, flow: &FlowSummary<'_>) -> Option<(IpAddr, String, String)>;
}

#[derive(Default)]
struct Source {
    targets: Set<(IpAddr, u16)>,
    smb: Set<IpAddr>,
    probes: u64,
    first: Option<(Timestamp, FlowTuple)>,
    last: Timestamp,
    truncated: bool,
    /// Probes and SMB hosts already reported (a long-running monitor re-raises only on new ones).
    reported: (u64, usize),
}

/// Names of the three volume measures, in [`VolumeLimits`] order.
const VOLUME_MEASURES: [&str; 3] = ["bytes_sent", "bytes_received", "flows"];

/// Per device: the alert thresholds of the three measures and the learnt
/// statistics they came from.
struct VolumeLimits {
    limit: [u64; 3],
    p99: [u64; 3],
    max: [u64; 3],
    windows: u64,
}

/// One device's totals in one volume window, and which measures already alerted.
#[derive(Clone, Copy)]
struct WindowTotals {
    window: i64,
    totals: [u64; 3],
    alerted: [bool; 3],
}

/// Volume windows tracked per device at once (records of several workers arrive a little out of order).
const OPEN_WINDOWS: usize = 4;

/// Compares records with a baseline and raises folded alerts.
pub struct Detector {
    base: Baseline,
    cfg: DetectorConfig,
    approved: Set<IpAddr>,
    groups: Map<IpAddr, String>,
    /// Per device: (group of the peer, service) of its talks, so a peer of a
    /// known group doing what its group mates did is expected.
    peer_groups: Map<IpAddr, Set<(u32, Service)>>,
    group_ids: Map<IpAddr, u32>,
    sources: Map<IpAddr, Source>,
    sources_dropped: u64,
    alerts: Alerts,
    policy: Option<Box<dyn FlowPolicy>>,
    records: u64,
    /// Per device judged for hours: bit h set when hour h (UTC) is usual.
    usual_hours: Map<IpAddr, u32>,
    /// Hours the network was watched while the baseline was learnt (evidence).
    watched_hours: u64,
    /// Per device judged for volumes.
    volume_limits: Map<IpAddr, VolumeLimits>,
    volume_open: Map<IpAddr, Vec<WindowTotals>>,
    /// Newest record time seen.
    latest: Timestamp,
    /// Alert keys held back at the previous drain.
    held: Set<(AlertKind, IpAddr, String)>,
}

/// The usual-hours mask of a device (learnt hours widened by `slack`, plus
/// the hours of the day never watched, which cannot be judged), when the
/// device is well enough known to judge. `watched`: the baseline's watched
/// hours of the day ([`Baseline::watched_hours`]).
fn usual_hours(watched: u32, d: &DeviceBaseline, cfg: &DetectorConfig) -> Option<u32> {
    if d.flows < cfg.off_hours_min_flows {
        return None;
    }
    let mut mask = 0u32;
    for h in 0..24i32 {
        if d.hours[h as usize] > 0 {
            for k in -(cfg.off_hours_slack as i32)..=cfg.off_hours_slack as i32 {
                mask |= 1 << (h + k).rem_euclid(24);
            }
        }
    }
    mask |= !watched & ALL_HOURS;
    (mask != ALL_HOURS).then_some(mask)
}

/// Learnt hours as ranges, e.g. `07-17, 22`.
fn hour_ranges(hours: &[u64; 24]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut h = 0;
    while h < 24 {
        if hours[h] == 0 {
            h += 1;
            continue;
        }
        let start = h;
        while h + 1 < 24 && hours[h + 1] > 0 {
            h += 1;
        }
        out.push(if start == h {
            format!("{start:02}")
        } else {
            format!("{start:02}-{h:02}")
        });
        h += 1;
    }
    out.join(", ")
}

fn volume_limits(
    base: &Baseline,
    d: &DeviceBaseline,
    cfg: &DetectorConfig,
) -> Option<VolumeLimits> {
    let v = d.volume.as_ref()?;
    if base.volume_window == 0 || v.windows < cfg.volume_min_windows {
        return None;
    }
    let q = [v.bytes_sent, v.bytes_received, v.flows];
    let floor = [
        cfg.volume_floor_bytes,
        cfg.volume_floor_bytes,
        cfg.volume_floor_flows,
    ];
    let mut l = VolumeLimits {
        limit: [0; 3],
        p99: [0; 3],
        max: [0; 3],
        windows: v.windows,
    };
    for i in 0..3 {
        let k = (cfg.volume_factor * q[i].p99 as f64).min(u64::MAX as f64) as u64;
        l.limit[i] = k.max(q[i].max).max(floor[i]);
        l.p99[i] = q[i].p99;
        l.max[i] = q[i].max;
    }
    Some(l)
}

/// Byte counts for people: `31.5 MB`.
fn human(n: u64, measure: &str) -> String {
    if measure == "flows" {
        return format!("{n} flows");
    }
    match n {
        0..=9_999 => format!("{n} B"),
        10_000..=9_999_999 => format!("{:.1} kB", n as f64 / 1e3),
        10_000_000..=9_999_999_999 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

fn evidence(flow: Option<&FlowInfo>, t0: Timestamp, t1: Timestamp) -> Evidence {
    Evidence {
        flow: flow.map(FlowTuple::from),
        first_packet: t0,
        last_packet: t1,
        counts: BTreeMap::new(),
    }
}

impl Detector {
    /// A detector over `base` (with its groups).
    pub fn new(base: Baseline, cfg: DetectorConfig) -> Self {
        let approved = cfg.approved.iter().copied().collect();
        let mut groups = Map::default();
        for (name, g) in &base.groups {
            for m in &g.members {
                groups.insert(*m, name.clone());
            }
        }
        let mut group_ids = Map::default();
        for (i, g) in base.groups.values().enumerate() {
            for m in &g.members {
                group_ids.insert(*m, i as u32);
            }
        }
        let mut peer_groups: Map<IpAddr, Set<(u32, Service)>> = Map::default();
        for (ip, d) in &base.devices {
            for t in &d.talks {
                if let Some(g) = group_ids.get(&t.peer) {
                    peer_groups.entry(*ip).or_default().insert((*g, t.service));
                }
            }
        }
        let alerts = Alerts::new(cfg.max_alerts);
        let mut hours = Map::default();
        let mut limits = Map::default();
        // Hours of the day are judged only once the network was watched long enough.
        let watched_secs = base.watched_secs();
        let watched = (watched_secs >= cfg.off_hours_min_span_secs).then(|| base.watched_hours());
        for (ip, d) in &base.devices {
            if let Some(m) = watched.and_then(|w| usual_hours(w, d, &cfg)) {
                hours.insert(*ip, m);
            }
            if let Some(l) = volume_limits(&base, d, &cfg) {
                limits.insert(*ip, l);
            }
        }
        Detector {
            base,
            cfg,
            approved,
            groups,
            peer_groups,
            group_ids,
            sources: Map::default(),
            sources_dropped: 0,
            alerts,
            policy: None,
            records: 0,
            usual_hours: hours,
            watched_hours: (watched_secs / 3600).max(0) as u64,
            volume_limits: limits,
            volume_open: Map::default(),
            latest: Timestamp(i64::MIN),
            held: Set::default(),
        }
    }

    /// Also checks every flow against `policy`.
    pub fn with_policy(mut self, policy: Box<dyn FlowPolicy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The baseline in use.
    pub fn baseline(&self) -> &Baseline {
        &self.base
    }

    fn known(&self, ip: &IpAddr) -> bool {
        self.base.devices.contains_key(ip) || self.approved.contains(ip)
    }

    /// A talk is expected when the device or its group did it in the baseline,
    /// or the device did it with a peer of the same group as this peer.
    fn talk_known(&self, ip: &IpAddr, d: &DeviceBaseline, t: &Talk) -> bool {
        d.talks.contains(t)
            || self
                .groups
                .get(ip)
                .and_then(|g| self.base.groups.get(g))
                .is_some_and(|g| g.talks.contains(t))
            || self.group_ids.get(&t.peer).is_some_and(|g| {
                self.peer_groups
                    .get(ip)
                    .is_some_and(|s| s.contains(&(*g, t.service)))
            })
    }

    /// Examines one record.
    pub fn observe(&mut self, ev: &Event) {
        self.records += 1;
        let Some(flow) = ev.flow.as_ref() else { return };
        match &ev.record {
            Record::Conn(c) => self.conn(flow, c),
            Record::Login(l) => {
                let proto = l.protocol.name();
                let (c, s) = (flow.client.ip, flow.server.ip);
                let outcome = match l.success {
                    Some(true) => "accepted",
                    Some(false) => "refused",
                    None => "outcome unknown",
                };
                self.alerts.raise(
                    AlertKind::CleartextCredential,
                    s,
                    format!("{proto} from {c}"),
                    || {
                        format!(
                            "cleartext {proto} login to {s}:{} from {c} ({outcome})",
                            flow.server.port
                        )
                    },
                    evidence(Some(flow), ev.ts, ev.ts),
                );
            }
            Record::Http(h) if h.basic_auth_user.is_some() => {
                let (c, s) = (flow.client.ip, flow.server.ip);
                self.alerts.raise(
                    AlertKind::CleartextCredential,
                    s,
                    format!("http-basic from {c}"),
                    || {
                        format!(
                            "cleartext HTTP Basic credentials sent to {s}:{} from {c}",
                            flow.server.port
                        )
                    },
                    evidence(Some(flow), ev.ts, ev.ts),
                );
            }
            Record::Hl7(h) => {
                let recv = receiver_of(flow, h.direction);
                if let (Some(app), Some(d)) = (hl7_app(h), self.base.devices.get(&recv)) {
                    if !d.hl7_senders.is_empty() && !d.hl7_senders.contains(&app) && !d.truncated {
                        let from = sender_of(flow, h.direction);
                        self.alerts.raise(
                            AlertKind::Hl7UnexpectedSender,
                            recv,
                            app.clone(),
                            || format!("HL7 from unexpected sending application^facility {app} (from {from}) to {recv}"),
                            evidence(Some(flow), ev.ts, ev.ts),
                        );
                    }
                }
                if !h.observations.is_empty() {
                    let sender = sender_of(flow, h.direction);
                    if let Some(d) = self.base.devices.get(&sender) {
                        for o in &h.observations {
                            let Some(s) = d.observations.get(&o.code) else {
                                continue;
                            };
                            if s.implausible(
                                o.value,
                                self.cfg.observation_sigmas,
                                self.cfg.observation_min_count,
                            ) {
                                let mut e = evidence(Some(flow), ev.ts, ev.ts);
                                e.counts.insert("learnt_values".into(), s.count);
                                let (lo, hi, code) = (s.min, s.max, &o.code);
                                // The value itself is not kept: statistics only.
                                self.alerts.raise(
                                    AlertKind::ImplausibleObservation,
                                    sender,
                                    code.clone(),
                                    || format!("HL7 observation {code} from {sender} outside its learnt range {lo}..{hi}"),
                                    e,
                                );
                            }
                        }
                    }
                }
            }
            Record::Dicom(r) if r.pdu == DicomPdu::AssociateRq => {
                let s = flow.server.ip;
                let Some(d) = self.base.devices.get(&s) else {
                    return;
                };
                if d.truncated {
                    return;
                }
                for (role, ae, set) in [
                    ("calling", &r.calling_ae, &d.dicom_callers),
                    ("called", &r.called_ae, &d.dicom_called),
                ] {
                    let Some(ae) = ae else { continue };
                    if !set.is_empty() && !set.contains(ae) {
                        let c = flow.client.ip;
                        self.alerts.raise(
                            AlertKind::DicomUnknownAe,
                            s,
                            format!("{role} {ae}"),
                            || format!("DICOM association to {s} from {c} with unknown {role} AE title {ae}"),
                            evidence(Some(flow), ev.ts, ev.ts),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn conn(&mut self, flow: &FlowInfo, c: &ConnRecord) {
        let (t0, t1) = (if c.start.0 != 0 { c.start } else { c.end }, c.end);
        let (ci, si) = (flow.client.ip, flow.server.ip);
        self.latest = self.latest.max(t1);
        if c.orig_bytes > 0 {
            for (me, peer) in [(ci, si), (si, ci)] {
                self.hours(me, peer, flow, t0, t1);
            }
        }
        if !self.volume_limits.is_empty() {
            self.volume(ci, [c.orig_bytes, c.resp_bytes, 1], flow, t0, t1);
            self.volume(si, [c.resp_bytes, c.orig_bytes, 1], flow, t0, t1);
        }
        // Probes: flows in which the originator sent nothing.
        if c.orig_bytes == 0 && is_host(&si) {
            self.probe(ci, si, flow, t0);
        }
        if matches!(flow.server.port, 445 | 139) && c.established && c.orig_bytes > 0 {
            if let Some(src) = self.source(ci) {
                if src.smb.len() < 4096 {
                    src.smb.insert(si);
                }
                src.first.get_or_insert((t0, FlowTuple::from(flow)));
                src.last = src.last.max(t1);
            }
        }
        for ip in [ci, si] {
            if is_host(&ip) && is_local(&ip) && !self.known(&ip) {
                self.alerts.raise(
                    AlertKind::NewDevice,
                    ip,
                    ip.to_string(),
                    || format!("new device {ip} (not in the baseline, not approved at intake)"),
                    evidence(Some(flow), t0, t1),
                );
            }
        }
        // Management sessions: the device is the server.
        if let Some((_, _, name)) = MANAGEMENT_PORTS
            .iter()
            .find(|(t, p, _)| *t == flow.transport && *p == flow.server.port)
        {
            if c.orig_bytes > 0 && c.established {
                if let Some(d) = self.base.devices.get(&si) {
                    let talk = Talk {
                        peer: ci,
                        service: Service {
                            transport: flow.transport,
                            port: flow.server.port,
                            role: Role::Server,
                        },
                    };
                    if !self.talk_known(&si, d, &talk) {
                        let port = flow.server.port;
                        self.alerts.raise(
                            AlertKind::UnauthorizedManagementAccess,
                            si,
                            format!("{name}/{port} from {ci}"),
                            || format!("{name} session to management port {port} of {si} from {ci}, which never used it"),
                            evidence(Some(flow), t0, t1),
                        );
                    }
                }
            }
        }
        for (me, peer, role) in [(ci, si, Role::Client), (si, ci, Role::Server)] {
            let Some(d) = self.base.devices.get(&me) else {
                continue;
            };
            let service = Service {
                transport: flow.transport,
                port: flow.server.port,
                role,
            };
            if role == Role::Server
                && MANAGEMENT_PORTS
                    .iter()
                    .any(|(t, p, _)| *t == flow.transport && *p == flow.server.port)
                && c.orig_bytes > 0
            {
                continue; // judged above
            }
            if !is_host(&peer) {
                continue;
            }
            if !is_local(&peer) {
                if !d.peers.contains(&peer) && !d.truncated {
                    self.alerts.raise(
                        AlertKind::InternetTraffic,
                        me,
                        peer.to_string(),
                        || format!("{me} talked to internet address {peer} ({service}), never seen in the baseline"),
                        evidence(Some(flow), t0, t1),
                    );
                }
                continue;
            }
            if !self.known(&peer) || d.truncated {
                continue; // a new device is its own alert
            }
            let talk = Talk { peer, service };
            if self.talk_known(&me, d, &talk) {
                for s in &c.service {
                    if !d.protocols.contains(s.as_ref()) {
                        let s = s.to_string();
                        self.alerts.raise(
                            AlertKind::NewProtocol,
                            me,
                            s.clone(),
                            || format!("{me} spoke {s} with {peer}, a protocol never seen on it"),
                            evidence(Some(flow), t0, t1),
                        );
                    }
                }
            } else if !d.peers.contains(&peer) {
                self.alerts.raise(
                    AlertKind::NewPeer,
                    me,
                    peer.to_string(),
                    || {
                        format!(
                            "{me} talked to {peer} ({service}), a peer never seen in the baseline"
                        )
                    },
                    evidence(Some(flow), t0, t1),
                );
            } else {
                self.alerts.raise(
                    AlertKind::NewPort,
                    me,
                    format!("{peer} {service}"),
                    || format!("{me} talked to {peer} {service}, a port never used with this peer"),
                    evidence(Some(flow), t0, t1),
                );
            }
        }
        if let Some(p) = &self.policy {
            if let Some((dev, key, summary)) = p.violation(&FlowSummary { flow, conn: c }) {
                self.alerts.raise(
                    AlertKind::PolicyViolation,
                    dev,
                    key,
                    || summary,
                    evidence(Some(flow), t0, t1),
                );
            }
        }
    }

    /// Off-hours: `me` talked (with `peer`) at an hour it never did.
    fn hours(&mut self, me: IpAddr, peer: IpAddr, flow: &FlowInfo, t0: Timestamp, t1: Timestamp) {
        let Some(mask) = self.usual_hours.get(&me) else {
            return;
        };
        let hour = (t0.secs().rem_euclid(86_400) / 3600) as u32;
        if mask & (1 << hour) != 0 {
            return;
        }
        let Some(d) = self.base.devices.get(&me) else {
            return;
        };
        let mut e = evidence(Some(flow), t0, t1);
        e.counts.insert("hour_utc".into(), hour as u64);
        e.counts
            .insert("learnt_flows_in_hour".into(), d.hours[hour as usize]);
        e.counts.insert("learnt_flows".into(), d.flows);
        let span_h = self.watched_hours;
        e.counts.insert("learnt_hours_span".into(), span_h);
        let usual = hour_ranges(&d.hours);
        let (flows, svc) = (
            d.flows,
            format!("{}/{}", flow.transport.as_str(), flow.server.port),
        );
        self.alerts.raise(
            AlertKind::OffHours,
            me,
            format!("{hour:02}h UTC"),
            || format!("{me} talked with {peer} ({svc}) at {hour:02}:00-{hour:02}:59 UTC, an hour it never talked in a {span_h} h baseline ({flows} flows; usual hours {usual} UTC)"),
            e,
        );
    }

    /// Volume: adds one flow to `me`'s window and alerts when a measure crosses its limit.
    fn volume(&mut self, me: IpAddr, add: [u64; 3], flow: &FlowInfo, t0: Timestamp, t1: Timestamp) {
        let Some(lim) = self.volume_limits.get(&me) else {
            return;
        };
        let ws = self.base.volume_window;
        let w = window_index(t0, ws);
        let open = self.volume_open.entry(me).or_default();
        let slot = match open.iter().position(|o| o.window == w) {
            Some(i) => i,
            None => {
                if open.len() >= OPEN_WINDOWS {
                    // Forget the oldest window (a record older than all kept ones is ignored).
                    let (i, oldest) = open
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, o)| o.window)
                        .map(|(i, o)| (i, o.window))
                        .unwrap_or((0, w));
                    if w < oldest {
                        return;
                    }
                    open.swap_remove(i);
                }
                open.push(WindowTotals {
                    window: w,
                    totals: [0; 3],
                    alerted: [false; 3],
                });
                open.len() - 1
            }
        };
        let o = &mut open[slot];
        for (i, a) in add.iter().enumerate() {
            o.totals[i] = o.totals[i].saturating_add(*a);
        }
        let mut crossed = Vec::new();
        for i in 0..3 {
            if !o.alerted[i] && o.totals[i] > lim.limit[i] {
                o.alerted[i] = true;
                crossed.push((i, o.totals[i]));
            }
        }
        for (i, observed) in crossed {
            let m = VOLUME_MEASURES[i];
            let mut e = evidence(Some(flow), t0, t1);
            let start = w.saturating_mul(ws as i64);
            e.counts.insert("window_start".into(), start.max(0) as u64);
            e.counts.insert("window_secs".into(), ws);
            e.counts.insert("observed".into(), observed);
            e.counts.insert("learnt_p99".into(), lim.p99[i]);
            e.counts.insert("learnt_max".into(), lim.max[i]);
            e.counts.insert("threshold".into(), lim.limit[i]);
            e.counts.insert("learnt_windows".into(), lim.windows);
            let (obs, p99, max, thr) = (
                human(observed, m),
                human(lim.p99[i], m),
                human(lim.max[i], m),
                human(lim.limit[i], m),
            );
            let at = Timestamp(start.saturating_mul(1_000_000)).iso();
            let what = match i {
                0 => "sent",
                1 => "received",
                _ => "had",
            };
            self.alerts.raise(
                AlertKind::VolumeSpike,
                me,
                m.to_string(),
                || format!("{me} {what} {obs} in the {} min window from {at} (learnt per window: 99th percentile {p99}, max {max}; threshold {thr})", ws / 60),
                e,
            );
        }
    }

    fn source(&mut self, ip: IpAddr) -> Option<&mut Source> {
        if !self.sources.contains_key(&ip) && self.sources.len() >= self.cfg.max_sources {
            self.sources_dropped += 1;
            return None;
        }
        Some(self.sources.entry(ip).or_default())
    }

    fn probe(&mut self, src: IpAddr, dst: IpAddr, flow: &FlowInfo, t: Timestamp) {
        let max = self.cfg.max_targets;
        let Some(s) = self.source(src) else { return };
        s.probes += 1;
        if s.targets.len() < max {
            s.targets.insert((dst, flow.server.port));
        } else {
            s.truncated = true;
        }
        match &s.first {
            Some((t0, _)) if *t0 <= t => {}
            _ => s.first = Some((t, FlowTuple::from(flow))),
        }
        s.last = s.last.max(t);
    }

    /// Records examined.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Scan and fan-out verdicts on the probes so far (a source already
    /// reported is raised again only when it probed more), then drops the
    /// new-peer/port/protocol and flow-volume alerts the scanners caused.
    fn verdicts(&mut self) {
        let mut scanners: Set<IpAddr> = Set::default();
        for (ip, s) in &mut self.sources {
            let Some((t0, first)) = s.first else { continue };
            let mut per_host: Map<IpAddr, usize> = Map::default();
            for (h, _) in &s.targets {
                *per_host.entry(*h).or_default() += 1;
            }
            let ports = per_host.values().copied().max().unwrap_or(0);
            let hosts = per_host.len();
            if ports >= self.cfg.scan_ports || hosts >= self.cfg.scan_hosts {
                scanners.insert(*ip);
                if s.probes > s.reported.0 {
                    s.reported.0 = s.probes;
                    let mut e = Evidence {
                        flow: Some(first),
                        first_packet: t0,
                        last_packet: s.last,
                        counts: BTreeMap::new(),
                    };
                    e.counts.insert("probes".into(), s.probes);
                    e.counts.insert("hosts".into(), hosts as u64);
                    e.counts
                        .insert("max_ports_on_one_host".into(), ports as u64);
                    let what = if ports >= self.cfg.scan_ports {
                        "port scan"
                    } else {
                        "host sweep"
                    };
                    self.alerts.raise(AlertKind::PortScan, *ip, "scan".into(), || format!("{what} from {ip}: {} probes, {hosts} hosts, up to {ports} ports on one host", s.probes), e);
                }
            }
            if s.smb.len() >= self.cfg.smb_hosts {
                scanners.insert(*ip);
                if s.smb.len() > s.reported.1 {
                    s.reported.1 = s.smb.len();
                    let mut e = Evidence {
                        flow: Some(first),
                        first_packet: t0,
                        last_packet: s.last,
                        counts: BTreeMap::new(),
                    };
                    e.counts.insert("smb_hosts".into(), s.smb.len() as u64);
                    let n = s.smb.len();
                    self.alerts.raise(AlertKind::SmbFanout, *ip, "smb".into(), || format!("SMB sessions from {ip} to {n} hosts (lateral movement, typical of ransomware)"), e);
                }
            }
        }
        if !scanners.is_empty() {
            self.alerts.retain(|a| {
                !(held_back(a) || (a.kind == AlertKind::VolumeSpike && a.key == "flows"))
                    || !a.evidence.flow.is_some_and(|f| {
                        scanners.contains(&f.client) || scanners.contains(&f.server)
                    })
            });
        }
    }

    /// Scan and fan-out verdicts, then the folded alerts, sorted. Alerts about
    /// new peers and ports caused by a scanner are dropped: the scan is the alert.
    pub fn finish(mut self) -> (Vec<Alert>, u64) {
        self.verdicts();
        let dropped = self.alerts.dropped() + self.sources_dropped;
        (self.alerts.into_sorted(), dropped)
    }

    /// For a long-running monitor: the alerts raised since the previous
    /// drain, folded over that span, after the scan verdicts on the probes so
    /// far. New peer/port/protocol alerts are held back for one drain, so a
    /// scan decided by then still drops the ones it caused. Sources idle for
    /// `scan_window_secs` (packet time) are forgotten, so state stays bounded
    /// however long it runs. Also returns the alerts and sources dropped at
    /// the limits so far.
    pub fn drain(&mut self) -> (Vec<Alert>, u64) {
        self.verdicts();
        let held = std::mem::take(&mut self.held);
        let out = self
            .alerts
            .take(|a| !held_back(a) || held.contains(&(a.kind, a.ip, a.key.clone())));
        self.alerts.retain(|a| {
            self.held.insert((a.kind, a.ip, a.key.clone()));
            true
        });
        let horizon = self
            .latest
            .0
            .saturating_sub(self.cfg.scan_window_secs.saturating_mul(1_000_000));
        self.sources.retain(|_, s| s.last.0 >= horizon);
        (out, self.alerts.dropped() + self.sources_dropped)
    }

    /// Learnt record time of an event (for callers that window the stream).
    pub fn record_time(ev: &Event) -> Timestamp {
        record_time(ev)
    }
}

/// Alerts a long-running monitor holds back for one drain (a scan may still explain them).
fn held_back(a: &Alert) -> bool {
    matches!(
        a.kind,
        AlertKind::NewPeer | AlertKind::NewPort | AlertKind::NewProtocol
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AlertKind as K, Learner, Severity, Window};
    use model::records::{
        CleartextLogin, DicomRecord, Hl7Record, LoginProtocol, Observation, PasswordClass,
    };
    use model::Endpoint;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn flow(c: &str, cp: u16, s: &str, sp: u16) -> FlowInfo {
        FlowInfo {
            id: 1,
            transport: Transport::Tcp,
            client: Endpoint {
                ip: ip(c),
                port: cp,
                mac: None,
            },
            server: Endpoint {
                ip: ip(s),
                port: sp,
                mac: None,
            },
            vlan: None,
        }
    }

    fn conn(c: &str, s: &str, sp: u16, t: i64, orig: u64) -> Event {
        Event {
            ts: Timestamp(t),
            flow: Some(flow(c, 40000, s, sp)),
            record: Record::Conn(ConnRecord {
                start: Timestamp(t),
                end: Timestamp(t + 5),
                orig_bytes: orig,
                resp_bytes: 10,
                established: true,
                ..Default::default()
            }),
        }
    }

    fn assoc(c: &str, s: &str, calling: &str, t: i64) -> Event {
        Event {
            ts: Timestamp(t),
            flow: Some(flow(c, 40001, s, 104)),
            record: Record::Dicom(DicomRecord {
                pdu: DicomPdu::AssociateRq,
                calling_ae: Some(calling.into()),
                called_ae: Some("PACS".into()),
                implementation_class_uid: None,
                implementation_version: None,
                abstract_syntaxes: vec![],
                transfer_syntaxes: vec![],
                max_pdu_length: None,
                reject_reason: None,
                pdata_bytes: 0,
                application_context: None,
                user_identity: None,
            }),
        }
    }

    fn hl7(c: &str, s: &str, app: &str, obs: f64, t: i64) -> Event {
        Event {
            ts: Timestamp(t),
            flow: Some(flow(c, 40002, s, 2575)),
            record: Record::Hl7(Hl7Record {
                direction: Some(model::Direction::ToServer),
                sending_application: Some(app.into()),
                sending_facility: Some("ICU".into()),
                observations: vec![Observation {
                    code: "8867-4".into(),
                    value: obs,
                }],
                ..Default::default()
            }),
        }
    }

    /// Normal day: modality .2 sends images to PACS .1, monitor .3 sends HL7 to engine .4.
    fn normal(t: i64) -> Vec<Event> {
        let mut v = vec![
            conn("10.0.0.2", "10.0.0.1", 104, t, 5000),
            assoc("10.0.0.2", "10.0.0.1", "CT1", t),
        ];
        for i in 0..12 {
            v.push(hl7(
                "10.0.0.3",
                "10.0.0.4",
                "MONITOR",
                70.0 + i as f64,
                t + i,
            ));
        }
        v.push(conn("10.0.0.3", "10.0.0.4", 2575, t, 900));
        v
    }

    fn learn(evs: &[Event]) -> Baseline {
        let mut l = Learner::new(Window::default());
        evs.iter().for_each(|e| l.learn(e));
        let mut b = l.finish();
        b.group(&|ip| {
            Some(if ip.to_string().ends_with(".2") {
                "ct".into()
            } else {
                "other".into()
            })
        });
        b
    }

    fn detect(b: &Baseline, evs: &[Event]) -> Vec<(K, String, String)> {
        let mut d = Detector::new(b.clone(), DetectorConfig::default());
        evs.iter().for_each(|e| d.observe(e));
        d.finish()
            .0
            .into_iter()
            .map(|a| (a.kind, a.device, a.key))
            .collect()
    }

    /// Issue 19, item 7: statistics of fewer than `MIN_OBSERVATIONS` values
    /// (one heart rate: min = max = mean = 72) are a patient's measurement and
    /// are never kept — not learnt, not serialized, not read back.
    #[test]
    fn observation_statistics_need_k_values() {
        use crate::baseline::MIN_OBSERVATIONS;
        assert_eq!(MIN_OBSERVATIONS, 5);
        let series = |n: i64| -> Vec<Event> {
            (0..n)
                .map(|i| hl7("10.0.0.3", "10.0.0.4", "MONITOR", 72.0, 1_000_000 + i))
                .collect()
        };
        for n in [1, 4] {
            let b = learn(&series(n));
            assert!(
                b.devices
                    .get(&ip("10.0.0.3"))
                    .is_none_or(|d| d.observations.is_empty()),
                "{n} values kept"
            );
            let j = serde_json::to_string(&b).unwrap();
            assert!(!j.contains("8867-4") && !j.contains("72"), "{j}");
        }
        let b = learn(&series(5));
        assert_eq!(b.devices[&ip("10.0.0.3")].observations["8867-4"].count, 5);
        // A baseline stored before the rule is read without the small statistics.
        let mut old = b.clone();
        for s in old
            .devices
            .get_mut(&ip("10.0.0.3"))
            .unwrap()
            .observations
            .values_mut()
        {
            s.count = 1;
        }
        let back: Baseline = serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        assert!(back.devices[&ip("10.0.0.3")].observations.is_empty());
    }

    #[test]
    fn normal_traffic_raises_nothing() {
        let b = learn(&normal(1_000_000));
        assert_eq!(b.devices.len(), 4);
        let s = &b.devices[&ip("10.0.0.3")].observations["8867-4"];
        assert_eq!((s.count, s.min, s.max), (12, 70.0, 81.0));
        assert!(detect(&b, &normal(9_000_000)).is_empty());
        // The baseline survives JSON.
        let j = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Baseline>(&j).unwrap(), b);
    }

    #[test]
    fn each_deviation_yields_its_alert() {
        let b = learn(&normal(1_000_000));
        let mut evs = normal(9_000_000);
        // Unknown AE title from the known modality.
        evs.push(assoc("10.0.0.2", "10.0.0.1", "ROGUE", 9_000_100));
        evs.push(assoc("10.0.0.2", "10.0.0.1", "ROGUE", 9_000_200));
        // HL7 from another application, and an implausible heart rate.
        evs.push(hl7("10.0.0.3", "10.0.0.4", "INTRUDER", 75.0, 9_000_300));
        evs.push(hl7("10.0.0.3", "10.0.0.4", "MONITOR", 400.0, 9_000_400));
        // The modality talks to the HL7 engine (new peer), and to PACS on a new port.
        evs.push(conn("10.0.0.2", "10.0.0.4", 2575, 9_000_500, 10));
        evs.push(conn("10.0.0.2", "10.0.0.1", 8104, 9_000_600, 10));
        // Internet.
        evs.push(conn("10.0.0.3", "8.8.8.8", 443, 9_000_700, 10));
        let got = detect(&b, &evs);
        let want = vec![
            (
                K::DicomUnknownAe,
                "ip:10.0.0.1".to_string(),
                "calling ROGUE".to_string(),
            ),
            (
                K::Hl7UnexpectedSender,
                "ip:10.0.0.4".into(),
                "INTRUDER^ICU".into(),
            ),
            (
                K::ImplausibleObservation,
                "ip:10.0.0.3".into(),
                "8867-4".into(),
            ),
            (K::NewPeer, "ip:10.0.0.2".into(), "10.0.0.4".into()),
            (K::NewPeer, "ip:10.0.0.4".into(), "10.0.0.2".into()),
            (
                K::NewPort,
                "ip:10.0.0.1".into(),
                "10.0.0.2 on tcp/8104".into(),
            ),
            (
                K::NewPort,
                "ip:10.0.0.2".into(),
                "10.0.0.1 to tcp/8104".into(),
            ),
            (K::InternetTraffic, "ip:10.0.0.3".into(), "8.8.8.8".into()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn logins_in_the_learning_window_are_listed_and_still_raised() {
        let login = |ts: i64, password: PasswordClass| Event {
            ts: Timestamp(ts),
            flow: Some(flow("10.0.0.2", 40000, "10.0.0.1", 23)),
            record: Record::Login(CleartextLogin {
                protocol: LoginProtocol::Telnet,
                user: Some("admin".into()),
                password,
                banner: None,
                success: Some(true),
                reply_code: None,
            }),
        };
        let mut evs = normal(1_000_000);
        evs.push(conn("10.0.0.2", "10.0.0.1", 23, 1_000_100, 40));
        evs.push(login(1_000_101, PasswordClass::Other));
        evs.push(login(1_000_200, PasswordClass::Default));
        let b = learn(&evs);
        assert_eq!(b.unsafe_logins.len(), 1, "{:?}", b.unsafe_logins);
        let u = &b.unsafe_logins[0];
        assert_eq!(
            (u.method, u.port, u.count, u.default_password, u.accepted),
            (crate::CleartextMethod::Telnet, 23, 2, true, true)
        );
        assert_eq!(u.server.to_string(), "10.0.0.1");
        // The baseline keeps no user name or password.
        let json = serde_json::to_string(&b).unwrap();
        assert!(!json.contains("admin"), "{json}");
        // Learnt or not, the same login later is a finding.
        let mut later = normal(9_000_000);
        later.push(conn("10.0.0.2", "10.0.0.1", 23, 9_000_100, 40));
        later.push(login(9_000_101, PasswordClass::Default));
        let got = detect(&b, &later);
        assert!(got.iter().any(|g| g.0 == K::CleartextCredential), "{got:?}");
    }

    #[test]
    fn scan_telnet_and_new_device() {
        let b = learn(&normal(1_000_000));
        let mut evs = normal(9_000_000);
        for p in 1..=100u16 {
            evs.push(conn("10.0.0.66", "10.0.0.1", p, 9_000_000 + p as i64, 0));
        }
        evs.push(conn("10.0.0.66", "10.0.0.1", 23, 9_001_000, 40));
        evs.push(Event {
            ts: Timestamp(9_001_001),
            flow: Some(flow("10.0.0.66", 40000, "10.0.0.1", 23)),
            record: Record::Login(CleartextLogin {
                protocol: LoginProtocol::Telnet,
                user: Some("root".into()),
                password: PasswordClass::Other,
                banner: None,
                success: Some(true),
                reply_code: None,
            }),
        });
        let got = detect(&b, &evs);
        let kinds: Vec<K> = got.iter().map(|g| g.0).collect();
        assert_eq!(
            kinds,
            [
                K::NewDevice,
                K::PortScan,
                K::UnauthorizedManagementAccess,
                K::CleartextCredential
            ],
            "{got:?}"
        );
        // A known host scanning: the scan, not a hundred new ports.
        let mut evs = normal(9_000_000);
        for p in 1..=100u16 {
            evs.push(conn(
                "10.0.0.2",
                "10.0.0.1",
                p + 1000,
                9_000_000 + p as i64,
                0,
            ));
        }
        assert_eq!(
            detect(&b, &evs),
            [(K::PortScan, "ip:10.0.0.2".to_string(), "scan".to_string())]
        );
    }

    #[test]
    fn smb_fanout_and_group_allowance() {
        let mut b = learn(&normal(1_000_000));
        let mut evs = Vec::new();
        for h in 10..30 {
            evs.push(conn(
                "10.0.0.3",
                &format!("10.0.1.{h}"),
                445,
                9_000_000 + h,
                300,
            ));
        }
        let got = detect(&b, &evs);
        assert!(
            got.contains(&(K::SmbFanout, "ip:10.0.0.3".into(), "smb".into())),
            "{got:?}"
        );
        assert!(got.iter().all(|g| g.0 != K::NewPeer), "{got:?}");
        // A second CT (approved at intake) doing what the CT group does: no alert.
        b.devices.insert(ip("10.0.0.12"), DeviceBaseline::default());
        b.group(&|ip| {
            Some(if ip.to_string().ends_with("2") {
                "ct".into()
            } else {
                "other".into()
            })
        });
        let mut d = Detector::new(b, DetectorConfig::default());
        d.observe(&conn("10.0.0.12", "10.0.0.1", 104, 9_000_000, 100));
        assert!(d.finish().0.is_empty());
    }

    #[test]
    fn learning_window() {
        let evs = [
            conn("10.0.0.2", "10.0.0.1", 104, 1_000_000, 5),
            conn("10.0.0.2", "10.0.0.1", 22, 5_000_000, 5),
            conn("10.0.0.2", "10.0.0.1", 23, 9_000_000, 5),
        ];
        let ports = |w: Window| {
            let mut l = Learner::new(w);
            evs.iter().for_each(|e| l.learn(e));
            l.finish()
                .devices
                .get(&ip("10.0.0.1"))
                .map(|d| d.services.iter().map(|s| s.port).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(ports(Window::default()), [22, 23, 104]);
        assert_eq!(
            ports(Window {
                seconds: Some(3),
                ..Default::default()
            }),
            [104]
        );
        assert_eq!(
            ports(Window {
                until: Some(Timestamp(9_000_000)),
                ..Default::default()
            }),
            [22, 104]
        );
        assert_eq!(
            ports(Window {
                from: Some(Timestamp(5_000_000)),
                ..Default::default()
            }),
            [22, 23]
        );
    }

    /// A flow of `bytes` sent by the client at `t` (µs), ending 5 s later.
    fn sized(c: &str, s: &str, sp: u16, t: i64, sent: u64, recv: u64) -> Event {
        let mut e = conn(c, s, sp, t, sent);
        if let Record::Conn(r) = &mut e.record {
            r.resp_bytes = recv;
        }
        e
    }

    const HOUR: i64 = 3_600_000_000;
    const DAY: i64 = 24 * HOUR;

    /// Three working days: every 10 minutes from 08:00 to 17:50 UTC the
    /// modality sends 200 kB to the PACS, the monitor 1 kB to the HL7 engine.
    fn working_days(days: i64) -> Vec<Event> {
        let mut v = Vec::new();
        for day in 0..days {
            for slot in 0..60 {
                let t = 20_000 * DAY + day * DAY + 8 * HOUR + slot * 600_000_000;
                v.push(sized(
                    "10.0.0.2",
                    "10.0.0.1",
                    104,
                    t,
                    200_000 + (slot as u64 % 7) * 10_000,
                    300,
                ));
                v.push(sized("10.0.0.3", "10.0.0.4", 2575, t + 1_000_000, 1000, 50));
            }
        }
        v
    }

    /// Learns `evs` as captures covering `inputs` (first and last packet each).
    fn learn_covered(evs: &[Event], inputs: &[(i64, i64)]) -> Baseline {
        let mut l = Learner::new(Window::default());
        evs.iter().for_each(|e| l.learn(e));
        let inputs: Vec<_> = inputs
            .iter()
            .map(|&(a, b)| (Timestamp(a), Timestamp(b)))
            .collect();
        l.cover(&inputs);
        l.finish()
    }

    #[test]
    fn hours_and_windows_never_watched_are_not_taken_as_quiet() {
        // The three working days as three captures, 08:00-17:59 each: 30 h
        // watched (enough to judge hours), but never at night.
        let day = |d: i64| 20_000 * DAY + d * DAY;
        let mornings: Vec<(i64, i64)> = (0..3)
            .map(|d| (day(d) + 8 * HOUR, day(d) + 18 * HOUR - 1))
            .collect();
        let b = learn_covered(&working_days(3), &mornings);
        assert_eq!(b.coverage.len(), 3);
        // Two full mornings and the third up to its last flow (17:50).
        assert_eq!(
            b.watched_secs(),
            2 * (10 * 3600 - 1) + (9 * 3600 + 50 * 60 + 1)
        );
        assert_eq!(b.watched_hours(), (8..=17).fold(0, |m, h| m | 1 << h));
        // Volumes: the 180 watched windows, not the 348 from first to last.
        let v = b.devices[&ip("10.0.0.2")].volume.unwrap();
        assert_eq!((v.windows, v.active_windows), (180, 180));
        let night = vec![sized(
            "10.0.0.2",
            "10.0.0.1",
            104,
            day(3) + 3 * HOUR + 600_000_000,
            200_000,
            300,
        )];
        // 03:10 was never watched: nothing to say.
        assert!(
            detect(&b, &night).iter().all(|a| a.0 != K::OffHours),
            "{:?}",
            detect(&b, &night)
        );
        // One night watched (and quiet) makes 03h judged again.
        let mut inputs = mornings.clone();
        inputs.push((day(1), day(1) + 6 * HOUR));
        let mut evs = working_days(3);
        // The watch starts with the capture's first flow (coverage is clipped to the flows learnt).
        evs.push(sized("10.0.0.3", "10.0.0.4", 2575, day(0), 10, 10));
        let b = learn_covered(&evs, &inputs);
        assert_eq!(b.watched_hours() & (1 << 3), 1 << 3);
        assert!(detect(&b, &night)
            .iter()
            .any(|a| (a.0, a.2.as_str()) == (K::OffHours, "03h UTC")));
        // One capture (or none given) is one continuous watch, as before.
        let single = learn_covered(&working_days(3), &[(day(0), day(3))]);
        assert_eq!(single.watched_hours(), (1 << 24) - 1);
        assert_eq!(learn(&working_days(3)).coverage, vec![]);
    }

    #[test]
    fn quantiles_count_silent_windows() {
        let q = crate::baseline::Quantiles::of(vec![5, 1, 9], 97);
        assert_eq!((q.p50, q.p95, q.p99, q.max), (0, 0, 5, 9));
        let q = crate::baseline::Quantiles::of((1..=100).collect(), 0);
        assert_eq!((q.p50, q.p95, q.p99, q.max), (50, 95, 99, 100));
        assert_eq!(
            crate::baseline::Quantiles::of(vec![], 0),
            crate::baseline::Quantiles::default()
        );
    }

    #[test]
    fn off_hours_needs_coverage_and_alerts_at_unusual_hours() {
        let b = learn(&working_days(3));
        let d = &b.devices[&ip("10.0.0.2")];
        assert_eq!(
            d.hours
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(h, _)| h)
                .collect::<Vec<_>>(),
            (8..=17).collect::<Vec<_>>()
        );
        let v = d.volume.unwrap();
        assert_eq!((v.active_windows, v.flows.max), (180, 1));
        // The same traffic on day 4: nothing; 18:30 is within the slack hour.
        let mut normal_day: Vec<Event> = working_days(1)
            .into_iter()
            .map(|mut e| {
                shift(&mut e, 3 * DAY);
                e
            })
            .collect();
        normal_day.push(sized(
            "10.0.0.2",
            "10.0.0.1",
            104,
            20_003 * DAY + 18 * HOUR + 1_800_000_000,
            200_000,
            300,
        ));
        assert_eq!(detect(&b, &normal_day), []);
        // At 03:10: the modality, the PACS, the monitor and the HL7 engine all talked off hours, once per hour bucket.
        let night = vec![
            sized(
                "10.0.0.2",
                "10.0.0.1",
                104,
                20_003 * DAY + 3 * HOUR + 600_000_000,
                200_000,
                300,
            ),
            sized(
                "10.0.0.2",
                "10.0.0.1",
                104,
                20_003 * DAY + 3 * HOUR + 1_200_000_000,
                200_000,
                300,
            ),
            sized(
                "10.0.0.3",
                "10.0.0.4",
                2575,
                20_003 * DAY + 3 * HOUR + 600_000_000,
                1000,
                50,
            ),
        ];
        let mut det = Detector::new(b.clone(), DetectorConfig::default());
        night.iter().for_each(|e| det.observe(e));
        let (alerts, _) = det.finish();
        let got: Vec<(K, String, String, u64)> = alerts
            .iter()
            .map(|a| (a.kind, a.device.clone(), a.key.clone(), a.count))
            .collect();
        assert_eq!(
            got,
            [
                (
                    K::OffHours,
                    "ip:10.0.0.1".to_string(),
                    "03h UTC".to_string(),
                    2
                ),
                (K::OffHours, "ip:10.0.0.2".into(), "03h UTC".into(), 2),
                (K::OffHours, "ip:10.0.0.3".into(), "03h UTC".into(), 1),
                (K::OffHours, "ip:10.0.0.4".into(), "03h UTC".into(), 1),
            ]
        );
        let a = &alerts[1];
        assert_eq!(a.severity, Severity::Medium);
        assert_eq!(
            (
                a.evidence.counts["hour_utc"],
                a.evidence.counts["learnt_flows_in_hour"],
                a.evidence.counts["learnt_flows"]
            ),
            (3, 0, 180)
        );
        assert_eq!(
            a.evidence.first_packet,
            Timestamp(20_003 * DAY + 3 * HOUR + 600_000_000)
        );
        assert!(a.summary.contains("usual hours 08-17 UTC"), "{}", a.summary);
        // A baseline of less than a day knows no hours: nothing.
        let short = learn(&working_days(1)[..100]);
        assert_eq!(detect(&short, &night), []);
    }

    fn shift(e: &mut Event, by: i64) {
        e.ts = Timestamp(e.ts.0 + by);
        if let Record::Conn(c) = &mut e.record {
            c.start = Timestamp(c.start.0 + by);
            c.end = Timestamp(c.end.0 + by);
        }
    }

    #[test]
    fn volume_spike_over_the_learnt_percentiles() {
        let b = learn(&working_days(3));
        let t = 20_003 * DAY + 10 * HOUR;
        // Twice the usual bytes in a window: well within max(4 x p99, max, floor).
        let evs = vec![
            sized("10.0.0.2", "10.0.0.1", 104, t, 260_000, 300),
            sized("10.0.0.2", "10.0.0.1", 104, t + 60_000_000, 260_000, 300),
        ];
        assert_eq!(detect(&b, &evs), []);
        // A mass pull: the PACS sends 30 MB to the modality in ten flows of one window.
        let mut evs = Vec::new();
        for i in 0..10 {
            evs.push(sized(
                "10.0.0.2",
                "10.0.0.1",
                104,
                t + i * 30_000_000,
                500,
                3_000_000,
            ));
        }
        let mut det = Detector::new(b.clone(), DetectorConfig::default());
        evs.iter().for_each(|e| det.observe(e));
        let (alerts, _) = det.finish();
        let got: Vec<(K, String, String)> = alerts
            .iter()
            .map(|a| (a.kind, a.device.clone(), a.key.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    K::VolumeSpike,
                    "ip:10.0.0.1".to_string(),
                    "bytes_sent".to_string()
                ),
                (
                    K::VolumeSpike,
                    "ip:10.0.0.2".into(),
                    "bytes_received".into()
                )
            ]
        );
        let a = &alerts[0];
        assert_eq!(a.severity, Severity::High);
        // Crossed the 10 MiB floor on the 4th flow (12 MB).
        assert_eq!(
            (
                a.evidence.counts["observed"],
                a.evidence.counts["threshold"],
                a.evidence.counts["learnt_max"]
            ),
            (12_000_000, 10 * 1024 * 1024, 300)
        );
        assert_eq!(a.evidence.first_packet, Timestamp(t + 90_000_000));
        assert_eq!(a.evidence.counts["window_start"], (t / 1_000_000) as u64);
        // One alert per window that crossed: a second window folds into it.
        let mut det = Detector::new(b.clone(), DetectorConfig::default());
        for w in [0, 600_000_000] {
            evs.iter().for_each(|e| {
                let mut e = e.clone();
                shift(&mut e, w);
                det.observe(&e)
            });
        }
        let (alerts, _) = det.finish();
        assert_eq!(alerts.iter().map(|a| a.count).collect::<Vec<_>>(), [2, 2]);
        // Too few windows learnt: no volume judgement.
        let short = learn(&working_days(1)[..40]);
        assert_eq!(detect(&short, &evs), []);
        // An old baseline without volumes still loads and judges nothing.
        let mut old: serde_json::Value = serde_json::to_value(&b).unwrap();
        old.as_object_mut().unwrap().remove("volume_window");
        for d in old["devices"].as_object_mut().unwrap().values_mut() {
            d.as_object_mut().unwrap().remove("volume");
        }
        let old: Baseline = serde_json::from_value(old).unwrap();
        assert_eq!(detect(&old, &evs), []);
    }

    #[test]
    fn drain_holds_what_a_scan_may_explain() {
        let b = learn(&normal(1_000_000));
        let mut d = Detector::new(b, DetectorConfig::default());
        // A known host probes 10 ports, then a drain: the new ports are held.
        for p in 1..=10u16 {
            d.observe(&conn(
                "10.0.0.2",
                "10.0.0.1",
                p + 1000,
                9_000_000 + p as i64,
                0,
            ));
        }
        d.observe(&conn("10.0.0.3", "8.8.8.8", 443, 9_000_100, 10));
        let (first, _) = d.drain();
        assert_eq!(
            first.iter().map(|a| a.kind).collect::<Vec<_>>(),
            [K::InternetTraffic]
        );
        // It goes on to 100: the scan, and the held new ports are dropped.
        for p in 11..=100u16 {
            d.observe(&conn(
                "10.0.0.2",
                "10.0.0.1",
                p + 1000,
                9_000_000 + p as i64,
                0,
            ));
        }
        let (second, _) = d.drain();
        assert_eq!(
            second.iter().map(|a| (a.kind, a.count)).collect::<Vec<_>>(),
            [(K::PortScan, 1)]
        );
        // Nothing new: nothing drained, and the scan is not raised again.
        assert_eq!(d.drain().0, []);
        // A new port without any scan: held once, then drained.
        d.observe(&conn("10.0.0.3", "10.0.0.4", 2576, 9_500_000, 10));
        assert_eq!(d.drain().0, []);
        assert_eq!(
            d.drain().0.iter().map(|a| a.kind).collect::<Vec<_>>(),
            [K::NewPort, K::NewPort]
        );
        // The scanner keeps scanning after a long pause: a second occurrence.
        for p in 1..=30u16 {
            d.observe(&conn(
                "10.0.0.2",
                "10.0.0.1",
                p + 3000,
                9_000_000_000 + p as i64,
                0,
            ));
        }
        let (third, _) = d.drain();
        assert_eq!(
            third.iter().map(|a| a.kind).collect::<Vec<_>>(),
            [K::PortScan]
        );
        // Sources idle for the scan window are forgotten.
        d.observe(&conn(
            "10.0.0.3",
            "10.0.0.4",
            2575,
            9_000_000_000 + 3_600_000_000,
            10,
        ));
        d.drain();
        assert!(d.sources.is_empty());
    }

    #[test]
    fn bounded_sources() {
        let b = learn(&normal(1_000_000));
        let cfg = DetectorConfig {
            max_sources: 4,
            max_alerts: 3,
            ..Default::default()
        };
        let mut d = Detector::new(b, cfg);
        for i in 0..50u8 {
            d.observe(&conn(&format!("10.9.0.{i}"), "10.0.0.1", 80, 1, 0));
        }
        let (alerts, dropped) = d.finish();
        assert_eq!(alerts.len(), 3);
        assert!(dropped > 0);
    }
}
