//! Baselines: what each device (and each group of devices) normally does.

use model::{Direction, Event, FlowInfo, Record, Timestamp, Transport};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Caps per device: distinct talks, peers, services, protocols, application
/// names, observation codes. Beyond them a device's baseline is `truncated`.
pub const MAX_TALKS: usize = 1024;
/// Distinct peers kept per device.
pub const MAX_PEERS: usize = 512;
/// Distinct small items (services, protocols, HL7 senders, AE titles, codes) per device.
pub const MAX_ITEMS: usize = 256;
/// Devices kept in one baseline.
pub const MAX_DEVICES: usize = 65_536;
/// (device, volume window) cells kept while learning, all devices together;
/// a device that needs more gets no volume statistics (never a volume alert).
pub const MAX_VOLUME_CELLS: usize = 1 << 21;
/// Watched intervals kept in a baseline (beyond, the last one is widened to the end).
pub const MAX_COVERAGE: usize = 4096;
/// A day of hour-of-day bits.
pub(crate) const ALL_HOURS: u32 = (1 << 24) - 1;
/// Default volume window: 10 minutes.
pub const DEFAULT_VOLUME_WINDOW_SECS: u64 = 600;

/// Which side of a flow a device was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// It opened the flow.
    Client,
    /// It answered.
    Server,
}

/// A port a device uses (as client, the server's port) or offers (as server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Service {
    /// TCP or UDP.
    pub transport: Transport,
    /// The server's port.
    pub port: u16,
    /// The device's side.
    pub role: Role,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = match self.role {
            Role::Client => "to",
            Role::Server => "on",
        };
        write!(f, "{} {}/{}", r, self.transport.as_str(), self.port)
    }
}

/// One allowed conversation shape: with `peer`, on the server's `port`, the device being `role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Talk {
    /// The other side.
    pub peer: IpAddr,
    /// The service.
    pub service: Service,
}

/// Fewest values behind an observation code's statistics for them to be kept
/// (k-anonymity, k = 5). With fewer, min = max = mean is a patient's
/// measurement (one heart rate of 72): [`Learner::finish`] drops such
/// statistics, and a stored baseline is read without them, so they are never
/// stored, shown or exported.
pub const MIN_OBSERVATIONS: u64 = 5;

/// Running statistics of numeric values (Welford): count, min, max, mean, variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Stats {
    /// Values seen.
    pub count: u64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Stats {
    /// Adds one value (non-finite values are ignored).
    pub fn push(&mut self, v: f64) {
        if !v.is_finite() {
            return;
        }
        if self.count == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += 1;
        let d = v - self.mean;
        self.mean += d / self.count as f64;
        self.m2 += d * (v - self.mean);
    }

    /// Sample standard deviation (0 for fewer than two values).
    pub fn stddev(&self) -> f64 {
        if self.count < 2 {
            0.0
        } else {
            (self.m2 / (self.count - 1) as f64).sqrt()
        }
    }

    /// True when `v` lies outside the learnt range widened by `k` standard
    /// deviations (and by 10% of the range, so a constant series tolerates
    /// rounding). Needs at least `min_count` values to judge; else false.
    pub fn implausible(&self, v: f64, k: f64, min_count: u64) -> bool {
        if self.count < min_count || !v.is_finite() {
            return false;
        }
        let slack = k * self.stddev() + 0.1 * (self.max - self.min).abs() + 1e-9;
        v < self.min - slack || v > self.max + slack
    }
}

/// Nearest-rank quantiles of a per-window series (silent windows count as zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Quantiles {
    /// Median.
    pub p50: u64,
    /// 95th percentile.
    pub p95: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest window.
    pub max: u64,
}

impl Quantiles {
    /// Of the `active` values plus `zeros` silent windows.
    pub fn of(mut active: Vec<u64>, zeros: u64) -> Self {
        active.sort_unstable();
        let n = active.len() as u64 + zeros;
        let at = |percent: u64| -> u64 {
            if n == 0 {
                return 0;
            }
            // Nearest rank: the ceil(percent * n / 100)-th smallest (1-based).
            let rank = percent.saturating_mul(n).div_ceil(100).clamp(1, n);
            if rank <= zeros {
                0
            } else {
                active[(rank - zeros - 1) as usize]
            }
        };
        Quantiles {
            p50: at(50),
            p95: at(95),
            p99: at(99),
            max: active.last().copied().unwrap_or(0),
        }
    }
}

/// How much a device sends, receives and how many flows it has per volume
/// window (`Baseline::volume_window` seconds), over the learning span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Volume {
    /// Windows in the learning span (with or without traffic of this device).
    pub windows: u64,
    /// Windows in which the device had flows.
    pub active_windows: u64,
    /// Payload bytes sent per window.
    pub bytes_sent: Quantiles,
    /// Payload bytes received per window.
    pub bytes_received: Quantiles,
    /// Flows started per window.
    pub flows: Quantiles,
}

fn insert_capped<T: Ord>(set: &mut BTreeSet<T>, v: T, cap: usize, truncated: &mut bool) {
    if set.len() < cap {
        set.insert(v);
    } else if !set.contains(&v) {
        *truncated = true;
    }
}

/// How one device communicated during the learning window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DeviceBaseline {
    /// Conversations (peer, port, role).
    pub talks: BTreeSet<Talk>,
    /// Peers.
    pub peers: BTreeSet<IpAddr>,
    /// Services used and offered, whatever the peer.
    pub services: BTreeSet<Service>,
    /// Protocols recognised on its flows (`hl7`, `dicom`, `http`...).
    pub protocols: BTreeSet<String>,
    /// Payload bytes it sent.
    pub bytes_sent: u64,
    /// Payload bytes it received.
    pub bytes_received: u64,
    /// Packets in its flows.
    pub packets: u64,
    /// Flows it took part in.
    pub flows: u64,
    /// Flows started per hour of day (UTC).
    pub hours: [u64; 24],
    /// HL7 `application^facility` that sent messages to it.
    pub hl7_senders: BTreeSet<String>,
    /// DICOM calling AE titles that asked it for an association.
    pub dicom_callers: BTreeSet<String>,
    /// DICOM AE titles it was called as.
    pub dicom_called: BTreeSet<String>,
    /// Numeric observation values it sent, per observation code (statistics
    /// only, and only from [`MIN_OBSERVATIONS`] values up).
    #[serde(deserialize_with = "enough_observations")]
    pub observations: BTreeMap<String, Stats>,
    /// Per-window volume statistics (absent in baselines of older Ward
    /// versions, or when the learner's cell cap was reached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<Volume>,
    /// True when a cap was reached (the sets are incomplete).
    pub truncated: bool,
}

/// The union of a group's members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GroupBaseline {
    /// Member addresses.
    pub members: BTreeSet<IpAddr>,
    /// Conversations of all members.
    pub talks: BTreeSet<Talk>,
    /// Services of all members.
    pub services: BTreeSet<Service>,
    /// Protocols of all members.
    pub protocols: BTreeSet<String>,
}

/// The learning window, in packet time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Window {
    /// Records before this are ignored.
    pub from: Option<Timestamp>,
    /// Records at or after this are ignored.
    pub until: Option<Timestamp>,
    /// Or: learn this many seconds from the first record seen.
    pub seconds: Option<i64>,
}

/// A learnt baseline. Serializable (JSON); keyed by IP address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Baseline {
    /// Format version.
    pub version: u32,
    /// First record learnt.
    pub start: Option<Timestamp>,
    /// Last record learnt.
    pub end: Option<Timestamp>,
    /// Records learnt.
    pub records: u64,
    /// Per device.
    pub devices: BTreeMap<IpAddr, DeviceBaseline>,
    /// Per group (see [`Baseline::group`]).
    pub groups: BTreeMap<String, GroupBaseline>,
    /// Devices not learnt because of [`MAX_DEVICES`].
    pub dropped_devices: u64,
    /// Seconds per volume window of [`DeviceBaseline::volume`] (0: no volume statistics).
    #[serde(default)]
    pub volume_window: u64,
    /// When the network was watched, if learnt from captures with gaps
    /// between them: each input's first to last packet, sorted, overlaps
    /// joined. Empty: one continuous watch from `start` to `end` (one capture,
    /// live learning, or a baseline from before this field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<(Timestamp, Timestamp)>,
    /// Cleartext logins seen while learning. They are never learnt as
    /// normal (the monitor raises `cleartext_credential` for every one);
    /// they are kept so that `baseline learn` warns about them. At most
    /// [`MAX_UNSAFE_LOGINS`], sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsafe_logins: Vec<UnsafeLogin>,
}

/// Most distinct [`UnsafeLogin`]s a baseline keeps.
pub const MAX_UNSAFE_LOGINS: usize = 256;

/// How credentials crossed in cleartext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleartextMethod {
    /// FTP USER/PASS.
    Ftp,
    /// A Telnet login prompt.
    Telnet,
    /// HTTP Basic authentication.
    HttpBasic,
    /// An MQTT CONNECT with a password.
    Mqtt,
    /// SMTP AUTH outside TLS.
    Smtp,
    /// IMAP LOGIN or AUTHENTICATE outside TLS.
    Imap,
    /// POP3 USER/PASS outside TLS.
    Pop3,
}

impl CleartextMethod {
    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            CleartextMethod::Ftp => "FTP",
            CleartextMethod::Telnet => "Telnet",
            CleartextMethod::HttpBasic => "HTTP Basic",
            CleartextMethod::Mqtt => "MQTT",
            CleartextMethod::Smtp => "SMTP",
            CleartextMethod::Imap => "IMAP",
            CleartextMethod::Pop3 => "POP3",
        }
    }
}

/// A cleartext login seen in the learning window (per server, port, client
/// and method), with how often and what the password was like. No user
/// name and no password are kept.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnsafeLogin {
    /// The server logged in to.
    pub server: IpAddr,
    /// Its port.
    pub port: u16,
    /// The client.
    pub client: IpAddr,
    /// How the credentials crossed.
    pub method: CleartextMethod,
    /// A well-known default or empty password was used at least once.
    pub default_password: bool,
    /// At least one such login was accepted.
    pub accepted: bool,
    /// Logins seen.
    pub count: u64,
    /// First seen.
    pub first: Timestamp,
}

impl Baseline {
    /// The watched intervals within `start..=end`: `coverage` clipped, or that
    /// span alone when there is no coverage.
    pub fn watched(&self) -> Vec<(Timestamp, Timestamp)> {
        let (Some(s), Some(e)) = (self.start, self.end) else {
            return Vec::new();
        };
        if self.coverage.is_empty() {
            return vec![(s, e)];
        }
        self.coverage
            .iter()
            .filter_map(|&(a, b)| {
                let (a, b) = (a.max(s), b.min(e));
                (a <= b).then_some((a, b))
            })
            .collect()
    }

    /// Seconds the network was watched while learning.
    pub fn watched_secs(&self) -> i64 {
        self.watched()
            .iter()
            .map(|(a, b)| b.0.saturating_sub(a.0) / 1_000_000)
            .sum()
    }

    /// Hours of the day (UTC; bit h) in which the network was watched at
    /// least once: a device's silence in other hours says nothing.
    pub fn watched_hours(&self) -> u32 {
        const HOUR: i64 = 3_600_000_000;
        let mut mask = 0u32;
        for (a, b) in self.watched() {
            let (first, last) = (a.0.div_euclid(HOUR), b.0.div_euclid(HOUR));
            let mut h = first;
            while h <= last && h - first < 24 {
                mask |= 1 << h.rem_euclid(24);
                h += 1;
            }
            if mask == ALL_HOURS {
                break;
            }
        }
        mask
    }

    /// Rebuilds `groups`: each device goes to `group_of(ip)` (devices without a group are left out).
    pub fn group(&mut self, group_of: &dyn Fn(&IpAddr) -> Option<String>) {
        self.groups.clear();
        for (ip, d) in &self.devices {
            let Some(g) = group_of(ip) else { continue };
            let gb = self.groups.entry(g).or_default();
            gb.members.insert(*ip);
            gb.talks.extend(d.talks.iter().copied());
            gb.services.extend(d.services.iter().copied());
            gb.protocols.extend(d.protocols.iter().cloned());
        }
    }

    /// The group a device belongs to, if any.
    pub fn group_of(&self, ip: &IpAddr) -> Option<(&str, &GroupBaseline)> {
        self.groups
            .iter()
            .find(|(_, g)| g.members.contains(ip))
            .map(|(n, g)| (n.as_str(), g))
    }
}

/// Per (device, window): bytes sent, bytes received, flows.
type Cells = hashbrown::HashMap<(IpAddr, i64), [u64; 3], foldhash::fast::RandomState>;

/// Turns records into a [`Baseline`].
#[derive(Debug, Default)]
pub struct Learner {
    window: Window,
    first: Option<Timestamp>,
    b: Baseline,
    cells: Cells,
    /// Devices that lost cells at [`MAX_VOLUME_CELLS`].
    cells_dropped: BTreeSet<IpAddr>,
    /// First and last volume window index of the flows learnt.
    span: Option<(i64, i64)>,
}

/// The volume window index of a time.
pub(crate) fn window_index(t: Timestamp, window_secs: u64) -> i64 {
    t.0.div_euclid(window_secs.max(1) as i64 * 1_000_000)
}

/// The start time of a record's flow, when it is a flow summary; else the record time.
pub(crate) fn record_time(ev: &Event) -> Timestamp {
    match &ev.record {
        Record::Conn(c) if c.start.0 != 0 => c.start,
        _ => ev.ts,
    }
}

impl Learner {
    /// A learner for records within `window`.
    pub fn new(window: Window) -> Self {
        Learner {
            window,
            b: Baseline {
                version: 1,
                volume_window: DEFAULT_VOLUME_WINDOW_SECS,
                ..Baseline::default()
            },
            ..Learner::default()
        }
    }

    /// Tells the learner when the network was watched: each input's first and
    /// last packet, for captures with gaps between them (a morning each day).
    /// Hours of the day and volume windows outside them are then not taken as
    /// quiet. Without it the baseline counts as one continuous watch.
    pub fn cover(&mut self, inputs: &[(Timestamp, Timestamp)]) {
        let mut v: Vec<(Timestamp, Timestamp)> =
            inputs.iter().copied().filter(|(a, b)| a <= b).collect();
        v.sort_unstable();
        let mut merged: Vec<(Timestamp, Timestamp)> = Vec::new();
        for (a, b) in v {
            let full = merged.len() >= MAX_COVERAGE;
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                // Too many gaps to keep: the last interval is widened (counted as watched).
                Some(last) if full => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.b.coverage = merged;
    }

    /// Learns volumes per `secs`-second window instead of the default 10 minutes.
    pub fn with_volume_window(mut self, secs: u64) -> Self {
        self.b.volume_window = secs.max(1);
        self
    }

    fn in_window(&mut self, t: Timestamp) -> bool {
        if self.window.from.is_some_and(|f| t < f) || self.window.until.is_some_and(|u| t >= u) {
            return false;
        }
        if let Some(s) = self.window.seconds {
            // Batches from several workers arrive out of order: the window
            // starts at the earliest time seen so far.
            let first = *self.first.get_or_insert(t);
            if t < first {
                self.first = Some(t);
            }
            return t.0
                < self
                    .first
                    .unwrap_or(first)
                    .0
                    .saturating_add(s.saturating_mul(1_000_000));
        }
        true
    }

    fn device(&mut self, ip: IpAddr) -> Option<&mut DeviceBaseline> {
        if !crate::is_host(&ip) {
            return None;
        }
        if !self.b.devices.contains_key(&ip) && self.b.devices.len() >= MAX_DEVICES {
            self.b.dropped_devices += 1;
            return None;
        }
        Some(self.b.devices.entry(ip).or_default())
    }

    /// Learns one record.
    pub fn learn(&mut self, ev: &Event) {
        let t = record_time(ev);
        if !self.in_window(t) {
            return;
        }
        let Some(flow) = ev.flow else { return };
        match &ev.record {
            Record::Conn(c) => {
                self.b.records += 1;
                let t0 = if c.start.0 != 0 { c.start } else { t };
                self.b.start = Some(self.b.start.map_or(t0, |s| s.min(t0)));
                self.b.end = Some(self.b.end.map_or(c.end.max(t0), |e| e.max(c.end)));
                let hour = (t0.secs().rem_euclid(86_400) / 3600) as usize;
                let w = window_index(t0, self.b.volume_window);
                self.span = Some(self.span.map_or((w, w), |(a, b)| (a.min(w), b.max(w))));
                for (me, peer, role, sent, recv) in [
                    (
                        flow.client.ip,
                        flow.server.ip,
                        Role::Client,
                        c.orig_bytes,
                        c.resp_bytes,
                    ),
                    (
                        flow.server.ip,
                        flow.client.ip,
                        Role::Server,
                        c.resp_bytes,
                        c.orig_bytes,
                    ),
                ] {
                    let Some(d) = self.device(me) else { continue };
                    let service = Service {
                        transport: flow.transport,
                        port: flow.server.port,
                        role,
                    };
                    let mut tr = d.truncated;
                    insert_capped(&mut d.talks, Talk { peer, service }, MAX_TALKS, &mut tr);
                    insert_capped(&mut d.peers, peer, MAX_PEERS, &mut tr);
                    insert_capped(&mut d.services, service, MAX_ITEMS, &mut tr);
                    for s in &c.service {
                        if !d.protocols.contains(s.as_ref()) {
                            insert_capped(&mut d.protocols, s.to_string(), MAX_ITEMS, &mut tr);
                        }
                    }
                    d.truncated = tr;
                    d.bytes_sent = d.bytes_sent.saturating_add(sent);
                    d.bytes_received = d.bytes_received.saturating_add(recv);
                    d.packets = d
                        .packets
                        .saturating_add(c.orig_pkts.saturating_add(c.resp_pkts));
                    d.flows += 1;
                    d.hours[hour.min(23)] += 1;
                    if !self.cells.contains_key(&(me, w)) && self.cells.len() >= MAX_VOLUME_CELLS {
                        self.cells_dropped.insert(me);
                        continue;
                    }
                    let cell = self.cells.entry((me, w)).or_default();
                    cell[0] = cell[0].saturating_add(sent);
                    cell[1] = cell[1].saturating_add(recv);
                    cell[2] += 1;
                }
            }
            Record::Hl7(h) => {
                let receiver = receiver_of(&flow, h.direction);
                let sender = sender_of(&flow, h.direction);
                if let Some(app) = hl7_app(h) {
                    if let Some(d) = self.device(receiver) {
                        let mut tr = d.truncated;
                        if !d.hl7_senders.contains(&app) {
                            insert_capped(&mut d.hl7_senders, app, MAX_ITEMS, &mut tr);
                        }
                        d.truncated = tr;
                    }
                }
                if !h.observations.is_empty() {
                    if let Some(d) = self.device(sender) {
                        for o in &h.observations {
                            if let Some(s) = d.observations.get_mut(&o.code) {
                                s.push(o.value);
                            } else if d.observations.len() < MAX_ITEMS {
                                let mut s = Stats::default();
                                s.push(o.value);
                                d.observations.insert(o.code.clone(), s);
                            } else {
                                d.truncated = true;
                            }
                        }
                    }
                }
            }
            Record::Login(l) => {
                let method = match l.protocol {
                    model::records::LoginProtocol::Ftp => CleartextMethod::Ftp,
                    model::records::LoginProtocol::Telnet => CleartextMethod::Telnet,
                    model::records::LoginProtocol::Mqtt => CleartextMethod::Mqtt,
                    model::records::LoginProtocol::Smtp => CleartextMethod::Smtp,
                    model::records::LoginProtocol::Imap => CleartextMethod::Imap,
                    model::records::LoginProtocol::Pop3 => CleartextMethod::Pop3,
                };
                let weak = matches!(
                    l.password,
                    model::records::PasswordClass::Default | model::records::PasswordClass::Empty
                );
                self.unsafe_login(&flow, method, weak, l.success == Some(true), t);
            }
            Record::Http(h) if h.basic_auth_user.is_some() => {
                self.unsafe_login(&flow, CleartextMethod::HttpBasic, false, false, t);
            }
            Record::Dicom(r) if r.pdu == model::records::DicomPdu::AssociateRq => {
                if let Some(d) = self.device(flow.server.ip) {
                    let mut tr = d.truncated;
                    if let Some(a) = &r.calling_ae {
                        if !d.dicom_callers.contains(a) {
                            insert_capped(&mut d.dicom_callers, a.clone(), MAX_ITEMS, &mut tr);
                        }
                    }
                    if let Some(a) = &r.called_ae {
                        if !d.dicom_called.contains(a) {
                            insert_capped(&mut d.dicom_called, a.clone(), MAX_ITEMS, &mut tr);
                        }
                    }
                    d.truncated = tr;
                }
            }
            _ => {}
        }
    }

    /// Counts a cleartext login of the learning window (see [`Baseline::unsafe_logins`]).
    fn unsafe_login(
        &mut self,
        flow: &FlowInfo,
        method: CleartextMethod,
        weak: bool,
        accepted: bool,
        t: Timestamp,
    ) {
        let (server, port, client) = (flow.server.ip, flow.server.port, flow.client.ip);
        let list = &mut self.b.unsafe_logins;
        let at = list.binary_search_by(|u| {
            (u.server, u.port, u.client, u.method).cmp(&(server, port, client, method))
        });
        match at {
            Ok(i) => {
                let u = &mut list[i];
                u.count = u.count.saturating_add(1);
                u.default_password |= weak;
                u.accepted |= accepted;
                u.first = u.first.min(t);
            }
            Err(i) if list.len() < MAX_UNSAFE_LOGINS => list.insert(
                i,
                UnsafeLogin {
                    server,
                    port,
                    client,
                    method,
                    default_password: weak,
                    accepted,
                    count: 1,
                    first: t,
                },
            ),
            Err(_) => {}
        }
    }

    /// The baseline learnt so far (groups empty: see [`Baseline::group`]).
    pub fn finish(self) -> Baseline {
        let mut b = self.b;
        // Too few values are a patient's measurements, not a device's range.
        for d in b.devices.values_mut() {
            d.observations.retain(|_, s| s.count >= MIN_OBSERVATIONS);
        }
        let vw = b.volume_window;
        // Windows the network was watched in, between the first and last learnt:
        // every one of them, or only those within the coverage.
        let windows = match self.span {
            None => 0,
            Some((a, z)) if b.coverage.is_empty() => (z - a + 1) as u64,
            Some((a, z)) => {
                let (mut n, mut next) = (0u64, a);
                for (s, e) in b.watched() {
                    let (i, j) = (window_index(s, vw).max(next), window_index(e, vw).min(z));
                    if i <= j {
                        n += (j - i + 1) as u64;
                        next = j + 1;
                    }
                }
                n
            }
        };
        let mut per: BTreeMap<IpAddr, Vec<[u64; 3]>> = BTreeMap::new();
        for ((ip, _), c) in self.cells {
            per.entry(ip).or_default().push(c);
        }
        for (ip, cells) in per {
            if self.cells_dropped.contains(&ip) {
                continue;
            }
            let Some(d) = b.devices.get_mut(&ip) else {
                continue;
            };
            let active = cells.len() as u64;
            let zeros = windows.saturating_sub(active);
            let col = |i: usize| Quantiles::of(cells.iter().map(|c| c[i]).collect(), zeros);
            d.volume = Some(Volume {
                windows: windows.max(active),
                active_windows: active,
                bytes_sent: col(0),
                bytes_received: col(1),
                flows: col(2),
            });
        }
        b
    }
}

/// Reads per-code statistics, dropping those of fewer than
/// [`MIN_OBSERVATIONS`] values (baselines stored by older versions).
fn enough_observations<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Stats>, D::Error> {
    let mut m = BTreeMap::<String, Stats>::deserialize(d)?;
    m.retain(|_, s| s.count >= MIN_OBSERVATIONS);
    Ok(m)
}

/// The HL7 `application^facility` of a message's sender.
pub(crate) fn hl7_app(h: &model::records::Hl7Record) -> Option<String> {
    let app = h.sending_application.as_deref().unwrap_or("");
    let fac = h.sending_facility.as_deref().unwrap_or("");
    (!app.is_empty() || !fac.is_empty()).then(|| format!("{app}^{fac}"))
}

/// The address that received an HL7 message (by default the flow's server).
pub(crate) fn receiver_of(flow: &FlowInfo, dir: Option<Direction>) -> IpAddr {
    match dir {
        Some(Direction::ToClient) => flow.client.ip,
        _ => flow.server.ip,
    }
}

/// The address that sent an HL7 message.
pub(crate) fn sender_of(flow: &FlowInfo, dir: Option<Direction>) -> IpAddr {
    match dir {
        Some(Direction::ToClient) => flow.server.ip,
        _ => flow.client.ip,
    }
}
