//! One worker's packet loop, and the multi-worker driver for capture files.

use crate::dispatch::{Dispatcher, FlowState};
use crate::fanout::{pool_size, Dealer, ExpiryClock, Item, Lane};
use crate::Error;
use analyzer_api::Out;
use capture::{Frame, Source};
use flow::{FlowConfig, FlowTable, PacketView, TcpFlags};
use identify::{Observer, ObserverLimits};
use model::{Event, Record, Timestamp, Transport};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use wire::{Net, L4};

/// Pipeline settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Worker threads (shards).
    pub workers: usize,
    /// Flow table limits, for all workers together (split evenly).
    pub flow: FlowConfig,
    /// Cap on unconsumed bytes an analyzer may leave buffered per direction.
    pub max_stream_buffer: usize,
    /// Fact limits, for all workers together (split evenly).
    pub observer: ObserverLimits,
    /// Fragmented datagrams reassembled at once, per worker.
    pub max_fragments: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: 1,
            flow: FlowConfig::default(),
            max_stream_buffer: 256 * 1024,
            observer: ObserverLimits::default(),
            max_fragments: 4096,
        }
    }
}

impl Config {
    /// Derives flow and fact limits from a memory budget in bytes, so that a
    /// run stays under it whatever the traffic. The constants are measured
    /// worst cases (see the memory-cap test) with a safety margin.
    pub fn with_memory_budget(mut self, bytes: u64) -> Self {
        // Fixed costs: binary, I/O buffers per worker, SQLite, allocator slack.
        let fixed = 48 * 1024 * 1024 + self.workers as u64 * 24 * 1024 * 1024;
        let usable = bytes.saturating_sub(fixed);
        // Per flow: slot + map entry + dispatch state + conn record in flight (~600 B),
        // plus a share of reassembly/analyzer buffers bounded separately below.
        let flows = (usable / 2 / 700).max(1024);
        self.flow.max_flows = self.flow.max_flows.min(flows as usize);
        // Facts: ~300 B each on average, one endpoint ~ a handful of facts.
        // Every worker may hold the whole endpoint limit (see `Engine::new`).
        let endpoints = (usable / 4 / 1500 / self.workers.max(1) as u64).max(1024);
        self.observer.max_endpoints = self.observer.max_endpoints.min(endpoints as usize);
        self
    }
}

/// Progress shared with a UI thread: bytes of input read so far (by the reader).
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes read.
    pub bytes: AtomicU64,
}

/// What a run produced, besides facts.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Frames read.
    pub packets: u64,
    /// Input bytes read.
    pub bytes: u64,
    /// Flows created.
    pub flows: u64,
    /// Records produced (including conn summaries).
    pub events: u64,
    /// Earliest packet time.
    pub first_packet: Option<Timestamp>,
    /// Latest packet time.
    pub last_packet: Option<Timestamp>,
    /// Per input file with packets, in order: its earliest and latest packet
    /// time (when the network was watched, for captures with gaps between them).
    pub inputs: Vec<(Timestamp, Timestamp)>,
    /// Counters: anomalies (malformed input, weirds) and engine statistics.
    pub counters: BTreeMap<String, u64>,
    /// Records per kind.
    pub records: BTreeMap<String, u64>,
}

/// Counter of packets that reached a live capture (kernel statistics:
/// AF_PACKET `PACKET_STATISTICS`, or libpcap's).
pub const KERNEL_PACKETS: &str = "capture.kernel_packets";
/// Counter of packets a live capture lost: the ring or buffer was full
/// (an anomaly: lost input, so it is stored with the run's anomalies).
pub const KERNEL_DROPS: &str = "anomaly.capture.kernel_drops";
/// Counter of packets the interface or driver dropped (libpcap only).
pub const INTERFACE_DROPS: &str = "anomaly.capture.interface_drops";

/// The earlier of two optional times (a missing one does not count).
fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Report {
    /// Adds another worker's (or checkpoint's) report.
    pub fn merge(&mut self, o: Report) {
        self.packets = self.packets.max(o.packets);
        self.bytes = self.bytes.max(o.bytes);
        self.flows += o.flows;
        self.events += o.events;
        self.first_packet = earliest(self.first_packet, o.first_packet);
        self.last_packet = self.last_packet.max(o.last_packet);
        self.inputs.extend(o.inputs);
        for (k, v) in o.counters {
            *self.counters.entry(k).or_default() += v;
        }
        for (k, v) in o.records {
            *self.records.entry(k).or_default() += v;
        }
    }

    /// Adds the report of other input (the next checkpoint, or another
    /// fanout worker's packets): unlike [`Report::merge`], frames and bytes
    /// add up.
    pub fn add(&mut self, o: Report) {
        let (packets, bytes) = (self.packets + o.packets, self.bytes + o.bytes);
        self.merge(o);
        self.packets = packets;
        self.bytes = bytes;
    }

    /// Packets that reached a live capture, as the kernel counted them
    /// (counter [`KERNEL_PACKETS`]; 0 for files).
    pub fn kernel_packets(&self) -> u64 {
        self.counters.get(KERNEL_PACKETS).copied().unwrap_or(0)
    }

    /// Packets a live capture lost because Ward was too slow, as the kernel
    /// counted them (counter [`KERNEL_DROPS`]).
    pub fn kernel_drops(&self) -> u64 {
        self.counters.get(KERNEL_DROPS).copied().unwrap_or(0)
    }

    /// Counters that describe malformed or lost input.
    pub fn anomalies(&self) -> Vec<(String, u64)> {
        self.counters
            .iter()
            .filter(|(k, _)| k.starts_with("anomaly."))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Link types seen that Ward does not decode: (pcap `LINKTYPE_*`, frames).
    pub fn unsupported_links(&self) -> Vec<(u32, u64)> {
        self.counters
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(UNSUPPORTED_LINK)?.parse().ok()?, *v)))
            .collect()
    }
}

/// One worker: decodes the frames it is given, keeps their flows, runs
/// analyzers and turns records into facts. The caller splits the input by
/// flow between workers (the file reader by address pair, live the
/// kernel's AF_PACKET fanout), so an engine analyzes every frame it gets.
pub struct Engine {
    table: FlowTable<FlowState>,
    defrag: wire::Defragmenter,
    dispatcher: Dispatcher,
    observer: Observer,
    events: Vec<Event>,
    /// Events waiting to be sent to the sink, in batches of [`SINK_BATCH`].
    outbox: Vec<Event>,
    sink: Option<SyncSender<Vec<Event>>>,
    report: Report,
    /// Records per kind not yet added to `report.records`: a short list
    /// searched by the kind name's address (`Record::kind` returns the same
    /// literal each time), not a string-keyed map per record.
    kinds: Vec<(&'static str, u64)>,
    since_expire: u32,
    observer_limits: ObserverLimits,
    /// Table-wide counters already handed out by [`Engine::checkpoint`].
    reported: BTreeMap<&'static str, u64>,
}

/// Which flows [`Engine::end_flows`] ends.
#[derive(Clone, Copy)]
enum Ending {
    /// Idle ones from the least recently used, up to the first busy one (live).
    IdleFirst,
    /// Idle ones wherever they are (files: [`Engine::expire_at`]).
    IdleAnywhere,
    /// All (end of input).
    All,
}

/// Events sent to a sink at once: one allocation and one channel message per
/// batch, not per packet that produced a record.
const SINK_BATCH: usize = 1024;

/// Counts one record of `kind` in `kinds`.
#[inline]
fn count_kind(kinds: &mut Vec<(&'static str, u64)>, kind: &'static str) {
    if let Some(e) = kinds.iter_mut().find(|(k, _)| std::ptr::eq(*k, kind)) {
        e.1 += 1;
    } else if let Some(e) = kinds.iter_mut().find(|(k, _)| *k == kind) {
        e.1 += 1;
    } else {
        kinds.push((kind, 1));
    }
}

/// The counter of observations let go at a fact or endpoint limit.
const DROPPED: &str = "facts.dropped";

/// Prefix of the counter of frames of a link type Ward does not decode.
pub const UNSUPPORTED_LINK: &str = "link.unsupported.";
const UNSUPPORTED_KEY_LEN: usize = UNSUPPORTED_LINK.len() + 10;

/// `link.unsupported.N` written into `buf` (no allocation per frame).
fn unsupported_key(buf: &mut [u8; UNSUPPORTED_KEY_LEN], link: u32) -> &str {
    let mut digits = itoa::Buffer::new();
    let n = digits.format(link).as_bytes();
    let (head, tail) = buf.split_at_mut(UNSUPPORTED_LINK.len());
    head.copy_from_slice(UNSUPPORTED_LINK.as_bytes());
    tail[..n.len()].copy_from_slice(n);
    let len = UNSUPPORTED_LINK.len() + n.len();
    std::str::from_utf8(&buf[..len]).unwrap_or(UNSUPPORTED_LINK)
}

/// What the flow table needs of a decoded IP packet whose transport layer is
/// `l4` (the packet's own, or a reassembled datagram's); `None` for transports
/// other than TCP and UDP.
#[inline]
pub fn flow_view<'a>(
    ts: Timestamp,
    pkt: &wire::Packet<'a>,
    ip: &wire::IpPacket<'a>,
    l4: &L4<'a>,
) -> Option<PacketView<'a>> {
    let (transport, src_port, dst_port, tcp, payload) = match *l4 {
        L4::Tcp(t) => (
            Transport::Tcp,
            t.src_port,
            t.dst_port,
            Some(TcpFlags {
                seq: t.seq,
                flags: t.flags,
            }),
            t.payload,
        ),
        L4::Udp(u) => (Transport::Udp, u.src_port, u.dst_port, None, u.payload),
        L4::Other(_) => return None,
    };
    Some(PacketView {
        ts,
        src: ip.src,
        dst: ip.dst,
        src_mac: pkt.src_mac,
        dst_mac: pkt.dst_mac,
        vlan: pkt.vlan,
        transport,
        src_port,
        dst_port,
        tcp,
        payload,
    })
}

impl Engine {
    /// Creates worker `shard` of `shards`: flow ids start at `shard << 40`
    /// (frames read from files number their flows themselves), and the flow
    /// limit is split evenly. Each worker may hold up to the endpoint limit:
    /// the endpoints kept past it are those of lowest rank, the same whatever
    /// a worker saw, so every worker must be able to hold them all
    /// ([`Config::with_memory_budget`] divides the limit by the number of
    /// workers). Events are sent in batches to `sink` when given.
    pub fn new(
        cfg: &Config,
        shard: u32,
        shards: u32,
        sink: Option<SyncSender<Vec<Event>>>,
    ) -> Engine {
        let n = shards.max(1) as usize;
        let mut flow_cfg = cfg.flow;
        flow_cfg.max_flows = (flow_cfg.max_flows / n).max(64);
        let obs = cfg.observer;
        Engine {
            table: FlowTable::new(flow_cfg, (shard as u64) << 40),
            defrag: wire::Defragmenter::new(cfg.max_fragments, 16 * 1024 * 1024),
            dispatcher: Dispatcher::new(cfg.max_stream_buffer),
            observer: Observer::new(obs),
            events: Vec::with_capacity(256),
            outbox: Vec::new(),
            sink,
            report: Report::default(),
            kinds: Vec::new(),
            since_expire: 0,
            observer_limits: obs,
            reported: BTreeMap::new(),
        }
    }

    fn count(&mut self, name: &str) {
        match self.report.counters.get_mut(name) {
            Some(v) => *v += 1,
            None => {
                self.report.counters.insert(name.to_string(), 1);
            }
        }
    }

    /// Processes one frame and counts it in [`Report::packets`]. Flows are
    /// numbered by the worker (`shard << 40`, then one up per flow).
    pub fn process(&mut self, frame: &Frame<'_>) {
        self.process_inner(frame, None);
    }

    /// Processes frame number `number` (counted from 1 over all the files
    /// read) that the caller assigned to this worker (the file reader's
    /// `Dealer`) without counting it in [`Report::packets`]: the caller, who
    /// sees every frame, does. A flow it starts takes the frame's number as
    /// its id, so ids (and the evidence that names them) are the same for any
    /// number of workers, and name a frame an engineer can open.
    pub fn process_assigned(&mut self, frame: &Frame<'_>, number: u64) {
        self.process_inner(frame, Some(number));
    }

    #[inline(always)]
    fn process_inner(&mut self, frame: &Frame<'_>, number: Option<u64>) {
        let ts = frame.ts;
        let count_packet = number.is_none();
        if count_packet {
            self.report.packets += 1;
        }
        if self.report.first_packet.is_none_or(|f| ts < f) {
            self.report.first_packet = Some(ts);
        }
        if self.report.last_packet.is_none_or(|l| ts > l) {
            self.report.last_packet = Some(ts);
        }
        // Borrowed, not moved: the decoded packet stays where `decode` built it.
        let decoded = wire::decode(frame.link, frame.data);
        let pkt = match &decoded {
            Ok(p) => p,
            Err(wire::Malformed::UnsupportedLink) => {
                // Not malformed: a link type Ward does not decode, said once
                // per type with its number (`link.unsupported.N` frames).
                let mut buf = [0u8; UNSUPPORTED_KEY_LEN];
                self.count(unsupported_key(&mut buf, frame.link.to_linktype()));
                return;
            }
            Err(m) => {
                let key = format!("anomaly.decode.{}", m.name());
                self.count(&key);
                return;
            }
        };
        match &pkt.net {
            Net::Ip(ip) => {
                let whole;
                let l4 = if ip.frag.is_some() {
                    match self.defrag.push(ts, ip) {
                        Some(bytes) => match wire::decode_l4(ip.proto, bytes) {
                            Ok(l4) => {
                                whole = l4;
                                &whole
                            }
                            Err(m) => {
                                let key = format!("anomaly.decode.{}", m.name());
                                self.count(&key);
                                return;
                            }
                        },
                        None => return,
                    }
                } else {
                    &ip.l4
                };
                let Some(view) = flow_view(ts, pkt, ip, l4) else {
                    return;
                };
                let (d, events) = (&mut self.dispatcher, &mut self.events);
                let mut update = |info: &model::FlowInfo, st: &mut _, upd: flow::FlowUpdate<'_>| {
                    d.update(info, st, upd, ts, events)
                };
                match number {
                    Some(n) => self.table.push_numbered(&view, n, &mut update),
                    None => self.table.push(&view, &mut update),
                }
            }
            Net::Link(lf) => {
                for p in registry::LINK {
                    if p.accepts(lf) {
                        let mut out = Out::new(ts, None, p.name(), &mut self.events);
                        p.handle(lf, &mut out);
                    }
                }
            }
            Net::None => {}
        }
        if !self.events.is_empty() {
            self.drain();
        }
        // Frames read from files expire when the reader says (`expire_at`).
        if count_packet {
            self.since_expire += 1;
            if self.since_expire >= crate::fanout::EXPIRE_EVERY_FRAMES {
                self.since_expire = 0;
                self.expire();
            }
        }
    }

    /// Ends every flow idle at capture time `now`, wherever it is in the
    /// flow table, and the fragments waiting since before their timeout: the
    /// pass the file reader calls for at the same points of a capture for
    /// every worker ([`ExpiryClock`]), so that one worker and many end the
    /// same flows.
    pub(crate) fn expire_at(&mut self, now: Timestamp) {
        self.table.advance(now);
        self.end_flows(Ending::IdleAnywhere);
        self.defrag.expire(now);
        self.drain();
        self.send_outbox();
    }

    /// Ends the flows `which` names, 64 at a time, turning what each batch
    /// produced into facts: a mass expiry (a quiet hour in the capture) never
    /// piles up thousands of records before they are consumed.
    fn end_flows(&mut self, which: Ending) {
        loop {
            let (d, events) = (&mut self.dispatcher, &mut self.events);
            let mut update =
                |info: &model::FlowInfo, st: &mut FlowState, upd: flow::FlowUpdate<'_>| {
                    d.update(info, st, upd, Timestamp(0), events)
                };
            let more = match which {
                Ending::IdleFirst => self.table.expire_some(64, &mut update),
                Ending::IdleAnywhere => self.table.expire_anywhere_some(64, &mut update),
                Ending::All => self.table.flush_some(64, &mut update),
            };
            self.drain();
            if !more {
                break;
            }
        }
    }

    fn expire(&mut self) {
        self.end_flows(Ending::IdleFirst);
        if let Some(last) = self.report.last_packet {
            self.defrag.expire(last);
        }
        self.drain();
        // A live sensor's consumer should not wait long for a quiet worker's events.
        self.send_outbox();
    }

    /// Turns pending records into facts (and sends them to the sink).
    fn drain(&mut self) {
        for ev in &self.events {
            self.observer.observe(ev);
            count_kind(&mut self.kinds, ev.record.kind());
            if let Record::Weird(w) = &ev.record {
                let key = format!("anomaly.{}.{}", w.source, w.name);
                match self.report.counters.get_mut(&key) {
                    Some(v) => *v += 1,
                    None => {
                        self.report.counters.insert(key, 1);
                    }
                }
            }
        }
        self.report.events += self.events.len() as u64;
        if self.sink.is_some() {
            self.outbox.append(&mut self.events);
            if self.outbox.len() >= SINK_BATCH {
                self.send_outbox();
            }
        } else {
            self.events.clear();
        }
    }

    /// Sends the pending events to the sink.
    fn send_outbox(&mut self) {
        if let (Some(s), false) = (&self.sink, self.outbox.is_empty()) {
            let batch = std::mem::replace(&mut self.outbox, Vec::with_capacity(SINK_BATCH));
            // A closed sink (reader gone) only means nobody wants events.
            let _ = s.send(batch);
        }
    }

    /// For a long-running capture: expires the flows idle at `now` (the wall
    /// clock of a quiet link; packet time moves it too), hands the pending
    /// events to the sink, and returns the facts and the report gathered since
    /// the previous checkpoint. Flows in progress stay. Facts merge
    /// commutatively in the store, so storing each checkpoint's facts adds up
    /// to storing them all at the end.
    pub fn checkpoint(&mut self, now: Timestamp) -> (Observer, Report) {
        self.table.advance(now);
        self.expire();
        self.defrag.expire(now);
        self.send_outbox();
        let observer = std::mem::replace(&mut self.observer, Observer::new(self.observer_limits));
        let report = self.take_report();
        (observer, self.with_table_counters(report))
    }

    /// Hands out the report gathered so far, with the record counts.
    fn take_report(&mut self) -> Report {
        let mut r = std::mem::take(&mut self.report);
        for (kind, n) in self.kinds.drain(..) {
            *r.records.entry(kind.to_string()).or_default() += n;
        }
        r
    }

    /// Adds the flow table's, dispatcher's and defragmenter's counters (the
    /// part not handed out by a checkpoint yet) to `r`.
    fn with_table_counters(&mut self, mut r: Report) -> Report {
        let fs = self.table.stats();
        let ds = self.dispatcher.stats;
        let dfs = self.defrag.stats();
        for (k, v) in [
            ("flows", fs.created),
            ("flows.evicted", fs.evicted),
            ("flows.timed_out", fs.timed_out),
            ("flows.closed", fs.closed),
            ("flows.peak", fs.peak_flows),
            ("tcp.gap_bytes", fs.gap_bytes),
            ("analyzers.started", ds.analyzers_started),
            ("anomaly.stream_buffer_limit", ds.buffer_limit),
            ("fragments.completed", dfs.completed),
            ("anomaly.fragments.dropped_timeout", dfs.dropped_timeout),
            ("anomaly.fragments.dropped_limit", dfs.dropped_limit),
        ] {
            let before = self.reported.insert(k, v).unwrap_or(0);
            let v = v.saturating_sub(before);
            if k == "flows" {
                r.flows = v;
            } else if v > 0 {
                *r.counters.entry(k.to_string()).or_default() += v;
            }
        }
        // The observer's drops are its own (it is replaced at checkpoints).
        let dropped = self.observer.dropped();
        if dropped > 0 {
            *r.counters.entry(DROPPED.to_string()).or_default() += dropped;
        }
        r
    }

    /// Ends all flows and returns the facts and the report of this worker.
    pub fn finish(mut self) -> (Observer, Report) {
        self.end_flows(Ending::All);
        self.send_outbox();
        let report = self.take_report();
        let r = self.with_table_counters(report);
        (self.observer, r)
    }
}

/// Reads `paths` in order and calls `each` with every frame and the reader's
/// buffer it lies in (which `each` may keep, see
/// [`capture::FileReader::next_shared`]); returns the
/// input's side of the report: frames, bytes, first and last packet time,
/// each file's span and the capture-format anomalies. Updates `progress`.
fn read_files<E: From<capture::Error>>(
    paths: &[PathBuf],
    progress: &Progress,
    mut each: impl FnMut(&Frame<'_>, &capture::SharedBuffer) -> Result<(), E>,
) -> Result<Report, E> {
    let mut input = Report::default();
    for p in paths {
        let mut reader = capture::FileReader::open(p)?;
        // This file's own first and last packet.
        let (mut first, mut last): (Option<Timestamp>, Option<Timestamp>) = (None, None);
        let mut n = 0u32;
        while let Some((frame, buf)) = reader.next_shared()? {
            let ts = frame.ts;
            if first.is_none_or(|f| ts < f) {
                first = Some(ts);
            }
            if last.is_none_or(|l| ts > l) {
                last = Some(ts);
            }
            each(&frame, buf)?;
            n = n.wrapping_add(1);
            input.packets += 1;
            if n & 1023 == 0 {
                progress
                    .bytes
                    .store(input.bytes + reader.bytes_read(), Ordering::Relaxed);
            }
        }
        if let (Some(a), Some(b)) = (first, last) {
            input.inputs.push((a, b));
        }
        input.first_packet = earliest(input.first_packet, first);
        input.last_packet = input.last_packet.max(last);
        let a = reader.anomalies();
        for (k, v) in [
            ("anomaly.capture.truncated_records", a.truncated_records),
            ("anomaly.capture.bad_blocks", a.bad_blocks),
            ("anomaly.capture.oversized_records", a.oversized_records),
        ] {
            if v > 0 {
                *input.counters.entry(k.to_string()).or_default() += v;
            }
        }
        input.bytes += reader.file_len();
        progress.bytes.store(input.bytes, Ordering::Relaxed);
    }
    Ok(input)
}

/// Reads capture files with `cfg.workers` workers and returns the merged
/// facts and report. Events go to `sink` when given (in batches, in no
/// particular order across workers).
///
/// The calling thread reads and is worker 0. With more workers it also
/// decodes each frame far enough to know its address pair, deals each pair
/// to a worker (`fanout::Dealer`: itself or a thread worker) and hands the
/// frame's place in the reader's buffer, in batches, to a thread worker's
/// pairs; workers share nothing else until the results are merged at the
/// end. The reader decides when idle flows expire (`fanout::ExpiryClock`),
/// at the same points of the capture for any number of workers.
pub fn analyze_files(
    paths: &[PathBuf],
    cfg: &Config,
    progress: &Progress,
    sink: Option<SyncSender<Vec<Event>>>,
) -> Result<(Observer, Report), Error> {
    // Open every file up front so a bad path fails before any work.
    for p in paths {
        capture::FileReader::open(p)?;
    }
    let shards = cfg.workers.max(1) as u32;
    let results = fan_out(paths, cfg, progress, &sink, shards);
    drop(sink);
    merge_results(cfg, results)
}

/// The workers' facts merged into one observer (the largest, collecting the
/// others': the merge moves whole the endpoints it lacks, so the less there
/// is to move, the better), and the reports added up.
fn merge_results(cfg: &Config, (input, results): Results) -> Result<(Observer, Report), Error> {
    let mut observers = Vec::with_capacity(results.len());
    let mut report = Report::default();
    for r in results {
        let (o, rep) = r?;
        report.merge(rep);
        observers.push(o);
    }
    // A worker's error (a panic) says more than the reader's "worker gone".
    report.merge(input?);
    let largest = (0..observers.len()).max_by_key(|&i| observers[i].endpoints());
    let mut observer = largest
        .map(|i| observers.swap_remove(i))
        .unwrap_or_default();
    // Each worker held its share of the limits; together they hold all of them.
    observer.raise_limits(cfg.observer);
    for o in observers {
        observer.merge(o);
    }
    // The observations let go in all, not the sum of the workers' (the merge
    // lets go of more when a limit is reached).
    match observer.dropped() {
        0 => report.counters.remove(DROPPED),
        d => report.counters.insert(DROPPED.to_string(), d),
    };
    Ok((observer, report))
}

/// The input side of a run and each worker's result.
type Results = (
    Result<Report, Error>,
    Vec<Result<(Observer, Report), Error>>,
);

/// [`analyze_files`]'s work: the calling thread reads, deals and is worker 0
/// itself; workers 1.. (`shards` - 1 of them, maybe none) run in threads fed
/// by it. A new address pair goes to the thread worker with the fewest
/// frames waiting while that is under half its pool, else to the reader: the
/// thread workers are kept busy and the reader analyzes what they cannot take
/// (on two cores, two threads, not three sharing them). Which worker gets a
/// pair then depends on timing, and the output does not
/// (`tests/worker_counts.rs`).
fn fan_out(
    paths: &[PathBuf],
    cfg: &Config,
    progress: &Progress,
    sink: &Option<SyncSender<Vec<Event>>>,
    shards: u32,
) -> Results {
    let pool = pool_size(shards.saturating_sub(1).max(1) as usize);
    // Frames waiting for a thread worker past which new pairs go to the reader.
    let hungry_below = (pool as u64 / 2).max(1) * crate::fanout::BATCH_FRAMES as u64;
    fan_out_with(paths, cfg, progress, sink, shards, hungry_below)
}

/// [`fan_out`], new pairs going to the reader once every thread worker has
/// `hungry_below` frames waiting.
fn fan_out_with(
    paths: &[PathBuf],
    cfg: &Config,
    progress: &Progress,
    sink: &Option<SyncSender<Vec<Event>>>,
    shards: u32,
    hungry_below: u64,
) -> Results {
    let threads = shards.saturating_sub(1) as usize;
    let pool = pool_size(threads);
    // Frames each thread worker has analyzed.
    let done: Vec<AtomicU64> = (0..threads).map(|_| AtomicU64::new(0)).collect();
    std::thread::scope(|scope| {
        let mut lanes = Vec::with_capacity(threads);
        let handles: Vec<_> = (1..=threads as u32)
            .map(|shard| {
                let (lane, from_reader, give_back) = Lane::new(pool);
                lanes.push(lane);
                let sink = sink.clone();
                let done = &done[shard as usize - 1];
                scope.spawn(move || -> (Observer, Report) {
                    let mut engine = Engine::new(cfg, shard, shards, sink);
                    for mut batch in from_reader {
                        let mut frames = 0;
                        for item in batch.items() {
                            match item {
                                Item::Frame(f, number) => {
                                    engine.process_assigned(&f, number);
                                    frames += 1;
                                }
                                Item::Expire(now) => engine.expire_at(now),
                            }
                        }
                        done.fetch_add(frames, Ordering::Relaxed);
                        // Let go of the reader's buffer before the batch travels back.
                        batch.clear();
                        // The reader may have stopped (an error): the batch is then dropped.
                        let _ = give_back.send(batch);
                    }
                    engine.finish()
                })
            })
            .collect();
        let gone = |_| Error::Worker("a worker ended before the input did".to_string());
        let mut own = Engine::new(cfg, 0, shards, sink.clone());
        let mut pushed = vec![0u64; threads];
        let mut dealer = Dealer::new(shards);
        let mut clock = ExpiryClock::default();
        let mut number = 0u64;
        let input = read_files::<Error>(paths, progress, |f, buf| {
            number += 1;
            let shard = dealer.deal(f, || pick_worker(&pushed, &done, hungry_below)) as usize;
            if shard == 0 {
                own.process_assigned(f, number);
            } else if let Some(lane) = lanes.get_mut(shard - 1) {
                lane.push(f, number, buf).map_err(gone)?;
                pushed[shard - 1] += 1;
            }
            if let Some(now) = clock.tick(f.ts) {
                // Every worker, also one given none of the frames since the last pass.
                own.expire_at(now);
                for lane in &mut lanes {
                    lane.push_expiry(now).map_err(gone)?;
                }
            }
            Ok(())
        })
        .and_then(|input| {
            for lane in &mut lanes {
                lane.flush().map_err(gone)?;
            }
            Ok(input)
        });
        // Closing the lanes ends the workers.
        drop(lanes);
        let mut results = vec![Ok(own.finish())];
        results.extend(
            handles
                .into_iter()
                .map(|h| h.join().map_err(|e| Error::Worker(format!("{e:?}")))),
        );
        (input, results)
    })
}

/// The worker for a new address pair: the thread worker (1..) with the
/// fewest frames waiting (`pushed` to it less `done` by it) if that is under
/// `hungry_below`, else the reader itself (0).
fn pick_worker(pushed: &[u64], done: &[AtomicU64], hungry_below: u64) -> u32 {
    let waiting = |i: usize| {
        let d = done.get(i).map_or(0, |d| d.load(Ordering::Relaxed));
        pushed[i].saturating_sub(d)
    };
    match (0..pushed.len()).min_by_key(|&i| waiting(i)) {
        Some(i) if waiting(i) < hungry_below => i as u32 + 1,
        _ => 0,
    }
}

/// Runs one engine over any frame source (a live interface) until it ends or
/// `stop` returns true.
pub fn analyze_source(
    source: &mut dyn Source,
    cfg: &Config,
    stop: &dyn Fn() -> bool,
) -> Result<(Observer, Report), Error> {
    let mut engine = Engine::new(cfg, 0, 1, None);
    while !stop() {
        match source.next_frame()? {
            Some(frame) => engine.process(&frame),
            None => break,
        }
    }
    Ok(engine.finish())
}

/// Runs one engine per worker of a live capture (one per AF_PACKET fanout
/// socket, or the one libpcap worker) until it is stopped (a
/// [`capture::StopHandle`]) or `checkpoint` returns false. Every `every`
/// (wall clock, also on a quiet link: each worker's read is woken) every
/// engine checkpoints — idle flows expire, pending events go to `sink`, and
/// the kernel's packet and drop counters since the previous checkpoint join
/// its report ([`KERNEL_PACKETS`], [`KERNEL_DROPS`]) — and `checkpoint` gets
/// the workers' facts and reports since the previous one, merged (facts
/// merge commutatively, reports of disjoint traffic add up). Returns the
/// rest once every flow is ended. `checkpoint` runs on the calling thread.
#[cfg(feature = "live")]
pub fn analyze_live(
    src: &mut capture::Live,
    cfg: &Config,
    sink: Option<SyncSender<Vec<Event>>>,
    every: std::time::Duration,
    checkpoint: &mut dyn FnMut(Observer, Report) -> bool,
) -> Result<(Observer, Report), Error> {
    use std::sync::mpsc::RecvTimeoutError;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
    let wall = || {
        Timestamp(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as i64),
        )
    };
    /// What a worker tells the calling thread.
    enum Msg {
        Checkpoint(Observer, Report),
        Done(Result<(Observer, Report), Error>),
    }
    let stop = src.stop_handle();
    let workers = src.workers_mut();
    let n = workers.len();
    let wakers: Vec<capture::Waker> = workers.iter_mut().map(|w| w.waker()).collect();
    // Bumped every `every`: each worker checkpoints when it sees a new value.
    let round = AtomicU64::new(0);
    let every = every.max(Duration::from_millis(100));
    // At most one message per worker and round (plus one at the end).
    let (tx, rx) = std::sync::mpsc::channel::<Msg>();
    let mut acc: Option<(Observer, Report)> = None;
    let mut finals: Option<(Observer, Report)> = None;
    let mut failed: Option<Error> = None;
    let add = |acc: &mut Option<(Observer, Report)>, o, r| add_up(acc, o, r, cfg.observer);
    std::thread::scope(|s| {
        for (i, w) in workers.iter_mut().enumerate() {
            let (tx, sink, round) = (tx.clone(), sink.clone(), &round);
            s.spawn(move || {
                let mut engine = Engine::new(cfg, i as u32, n as u32, sink);
                let mut seen_round = 0;
                let mut kernel = capture::LiveStats::default();
                let r = loop {
                    match w.poll() {
                        Ok(capture::Polled::Frame(f)) => {
                            engine.report.bytes += f.data.len() as u64;
                            engine.process(&f);
                        }
                        Ok(capture::Polled::Idle) => {}
                        Ok(capture::Polled::End) => break Ok(()),
                        Err(e) => break Err(Error::from(e)),
                    }
                    let now = round.load(Ordering::Relaxed);
                    if now != seen_round {
                        seen_round = now;
                        let (o, mut r) = engine.checkpoint(wall());
                        kernel_counters(&mut r, w, &mut kernel);
                        if tx.send(Msg::Checkpoint(o, r)).is_err() {
                            break Ok(());
                        }
                    }
                };
                let r = r.map(|()| {
                    let (o, mut r) = engine.finish();
                    kernel_counters(&mut r, w, &mut kernel);
                    (o, r)
                });
                let _ = tx.send(Msg::Done(r));
            });
        }
        drop(tx);
        let mut running = n;
        let mut reported = 0;
        let mut handing_out = true;
        let mut next = Instant::now() + every;
        while running > 0 {
            match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Ok(Msg::Checkpoint(o, r)) => {
                    add(&mut acc, o, r);
                    reported += 1;
                }
                Ok(Msg::Done(Ok((o, r)))) => {
                    add(&mut finals, o, r);
                    running -= 1;
                }
                Ok(Msg::Done(Err(e))) => {
                    failed.get_or_insert(e);
                    stop.stop();
                    running -= 1;
                }
                Err(RecvTimeoutError::Timeout) => {
                    // A worker that has not answered the last round (busy)
                    // joins the next one; what came in is handed out now.
                    reported = running;
                    round.fetch_add(1, Ordering::Relaxed);
                    for w in &wakers {
                        w.wake();
                    }
                    next = Instant::now() + every;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if reported >= running && reported > 0 {
                reported = 0;
                if let (true, Some((o, r))) = (handing_out, acc.take()) {
                    if !checkpoint(o, r) {
                        handing_out = false;
                        stop.stop();
                    }
                }
            }
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    // Checkpoints not handed out (the consumer stopped) go with the rest.
    let mut out = finals;
    if let Some((o, r)) = acc {
        add(&mut out, o, r);
    }
    Ok(out.unwrap_or_default())
}

/// Adds the facts and report of one more part of a live run (another
/// worker's, or those since the previous checkpoint) to `total`. The first
/// part's fact limits are raised to `limits`: each worker held its share,
/// together they hold all of them.
#[cfg(feature = "live")]
pub fn add_up(
    total: &mut Option<(Observer, Report)>,
    o: Observer,
    r: Report,
    limits: ObserverLimits,
) {
    match total {
        Some((to, tr)) => {
            to.merge(o);
            tr.add(r);
        }
        None => {
            let mut o = o;
            o.raise_limits(limits);
            *total = Some((o, r));
        }
    }
}

/// Adds the kernel counters of worker `w` since `before` to `r`.
#[cfg(feature = "live")]
fn kernel_counters(r: &mut Report, w: &mut capture::LiveWorker, before: &mut capture::LiveStats) {
    let Ok(now) = w.stats() else {
        return;
    };
    for (k, v, b) in [
        (KERNEL_PACKETS, now.received, before.received),
        (KERNEL_DROPS, now.dropped, before.dropped),
        (INTERFACE_DROPS, now.if_dropped, before.if_dropped),
        (
            "anomaly.capture.corrupt_blocks",
            now.corrupt_blocks,
            before.corrupt_blocks,
        ),
    ] {
        let d = v.saturating_sub(b);
        if d > 0 {
            *r.counters.entry(k.to_string()).or_default() += d;
        }
    }
    *before = now;
}

#[cfg(test)]
mod tests {
    #[test]
    fn several_workers_spread_the_flows_over_workers() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let paths = [root.join("samples/hospital-room.pcap")];
        let cfg = super::Config {
            workers: 3,
            ..Default::default()
        };
        let (input, results) = super::fan_out(&paths, &cfg, &super::Progress::default(), &None, 3);
        assert!(input.expect("input").packets > 100);
        // Both thread workers started flows of their own (the reader keeps
        // new pairs only when they are backed up).
        let flows: Vec<u64> = results
            .into_iter()
            .map(|r| r.expect("worker").1.flows)
            .collect();
        assert_eq!(flows.len(), 3);
        assert!(flows[1] > 0 && flows[2] > 0, "flows per worker: {flows:?}");
    }

    #[test]
    fn however_the_reader_deals_the_pairs_the_output_is_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let paths = [
            root.join("samples/hospital-room.pcap"),
            root.join("crates/ward/tests/fixtures/ssdp/ssdp-netns.pcap"),
        ];
        let mut cfg = super::Config {
            workers: 1,
            ..Default::default()
        };
        // Tight limits, so that facts and endpoints are let go too.
        cfg.observer.max_endpoints = 8;
        cfg.observer.max_per_kind = 2;
        let summary = |(o, r): (identify::Observer, super::Report)| {
            let counts = format!(
                "{} {} {:?}",
                r.flows,
                r.events,
                r.counters.get("facts.dropped")
            );
            (o.into_facts(), counts)
        };
        let one = summary(
            super::analyze_files(&paths, &cfg, &super::Progress::default(), None).expect("run"),
        );
        assert!(one.0.len() > 8, "{} facts", one.0.len());
        assert!(one.1.contains("Some("), "limits not reached: {}", one.1);
        cfg.workers = 3;
        // The reader keeps every new pair, gives each to an idle worker only,
        // or gives them all away.
        for hungry_below in [0, 1, u64::MAX] {
            let results = super::fan_out_with(
                &paths,
                &cfg,
                &super::Progress::default(),
                &None,
                3,
                hungry_below,
            );
            let merged = super::merge_results(&cfg, results).expect("run");
            assert_eq!(
                summary(merged),
                one,
                "new pairs to the reader past {hungry_below} waiting"
            );
        }
    }

    #[test]
    fn a_new_pair_goes_to_the_least_busy_worker_or_stays_with_the_reader() {
        use std::sync::atomic::AtomicU64;
        let done = [AtomicU64::new(90), AtomicU64::new(10)];
        // Waiting: 10 and 30 frames.
        assert_eq!(super::pick_worker(&[100, 40], &done, 64), 1);
        assert_eq!(super::pick_worker(&[100, 15], &done, 64), 2);
        // Both backed up: the reader keeps it.
        assert_eq!(super::pick_worker(&[200, 100], &done, 64), 0);
        assert_eq!(super::pick_worker(&[], &[], 64), 0);
    }

    use super::*;

    #[test]
    fn record_kinds_are_counted_by_name() {
        let mut kinds = Vec::new();
        let conn: &'static str = "conn";
        // The same name at another address (another literal) counts as the same kind.
        let other: &'static str = Box::leak(String::from("conn").into_boxed_str());
        for k in [conn, "dns", conn, other, "dns", conn] {
            count_kind(&mut kinds, k);
        }
        kinds.sort();
        assert_eq!(kinds, vec![("conn", 4), ("dns", 2)]);
    }

    fn frame(link: u32, data: &[u8]) -> Frame<'_> {
        Frame {
            ts: Timestamp(1),
            link: capture::LinkType::from_dlt(link),
            data,
            orig_len: data.len() as u32,
        }
    }

    #[test]
    fn ble_frames_become_records_and_unknown_link_types_are_named_not_anomalies() {
        let mut e = Engine::new(&Config::default(), 0, 1, None);
        // nRF sniffer v2 SCAN_REQ (protocols/ble's unit test frame).
        let scan_req = [
            0x00, 0x1f, 0x00, 0x02, 0x84, 0xc2, 0x06, 0x0a, 0x01, 0x27, 0x4f, 0, 0, 0, 0, 0, 0,
            0xd6, 0xbe, 0x89, 0x8e, 0x83, 0x0c, 0x1f, 0xea, 0x7d, 0x03, 0x4c, 0x20, 0xc3, 0xb8,
            0x40, 0xe3, 0xe3, 0xe6, 0x68, 0x20, 0x7f,
        ];
        for _ in 0..3 {
            e.process(&frame(272, &scan_req));
            e.process(&frame(147, &[1, 2, 3]));
            e.process(&frame(4_000_000_000, &[]));
        }
        let (_, r) = e.finish();
        assert_eq!(r.records.get("ble"), Some(&3));
        assert!(r.anomalies().is_empty(), "{:?}", r.anomalies());
        assert_eq!(r.unsupported_links(), vec![(147, 3), (4_000_000_000, 3)]);
    }

    /// Two AF_PACKET workers on `lo` (one libpcap worker where AF_PACKET is
    /// not available): every UDP datagram sent is counted once, in the
    /// checkpoints and the rest together, and the kernel counted them too.
    #[cfg(feature = "live")]
    #[test]
    fn live_workers_count_every_packet_once_across_checkpoints() {
        use std::net::UdpSocket;
        use std::time::Duration;
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = rx.local_addr().unwrap().port();
        let o = capture::LiveOptions {
            filter: Some(format!("udp and dst port {port}")),
            workers: 2,
            force_libpcap: false,
        };
        let mut live = match capture::Live::open("lo", &o) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("skipped: cannot capture on lo (not root?): {e}");
                return;
            }
        };
        let workers = live.workers_mut().len();
        let sent = 24u64;
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            let socks: Vec<UdpSocket> = (0..6)
                .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
                .collect();
            for i in 0..sent {
                socks[(i % 6) as usize]
                    .send_to(b"ward", ("127.0.0.1", port))
                    .unwrap();
            }
        });
        live.stop_after(Duration::from_millis(1500));
        let mut total = Report::default();
        let mut rounds = 0;
        let (_, rest) = analyze_live(
            &mut live,
            &Config::default(),
            None,
            Duration::from_millis(200),
            &mut |_, r| {
                rounds += 1;
                total.add(r);
                true
            },
        )
        .unwrap();
        sender.join().unwrap();
        total.add(rest);
        assert!(rounds >= 2, "{rounds} checkpoints");
        assert_eq!(total.packets, sent, "{workers} workers: {total:?}");
        assert!(total.kernel_packets() >= sent, "{total:?}");
        assert_eq!(total.kernel_drops(), 0);
        assert_eq!(total.bytes, sent * (14 + 20 + 8 + 4));
    }
}
