//! The contract between the packet engine and protocol analyzers.
//!
//! A protocol is a unit struct implementing [`Protocol`] (static metadata, a
//! cheap `probe`, and a factory) and a per-flow state machine implementing
//! [`Analyzer`] (bytes in, records out). Link-layer protocols without flows
//! (LLDP, CDP) implement [`LinkProtocol`] instead. Protocols are listed in one
//! static slice in the `registry` crate.
//!
//! **Contract** (checked by the conformance test for every registered protocol):
//! - analyzers never panic, never do I/O, never read the clock;
//! - malformed input becomes a [`Out::weird`] and, if unrecoverable, `Progress::Done`;
//! - analyzers never keep patient data: strings go through `model::text`.
//!
//! The engine owns buffering: for TCP, `feed` gets all unconsumed in-order bytes
//! of one direction; returning `Consumed(n)` keeps `data[n..]` for the next call
//! (bounded by the engine's per-flow cap). For UDP, `feed` gets exactly one
//! datagram and the returned count is ignored.

use model::{Direction, Event, FlowInfo, Record, Timestamp, Transport};

/// Outcome of looking at the first bytes of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// This protocol: start an analyzer.
    Match,
    /// Not this protocol.
    NoMatch,
    /// Too few bytes to tell; ask again with more.
    NeedMore,
}

/// How far an analyzer got with the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// This many bytes were consumed; the rest is offered again with more data.
    Consumed(usize),
    /// The analyzer wants no more bytes from this flow (either direction).
    Done,
}

/// A set of byte values: which first bytes a probe can accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    /// Every byte.
    pub const ALL: ByteSet = ByteSet([u64::MAX; 4]);
    /// No byte: the probe matches only on its own ports.
    pub const NONE: ByteSet = ByteSet([0; 4]);

    /// The bytes of `bytes`.
    pub const fn of(bytes: &[u8]) -> ByteSet {
        let mut set = ByteSet::NONE;
        let mut i = 0;
        while i < bytes.len() {
            set = set.with(bytes[i]);
            i += 1;
        }
        set
    }

    /// The bytes `lo..=hi`.
    pub const fn range(lo: u8, hi: u8) -> ByteSet {
        let mut set = ByteSet::NONE;
        let mut b = lo as usize;
        while b <= hi as usize {
            set = set.with(b as u8);
            b += 1;
        }
        set
    }

    /// This set and `b`.
    pub const fn with(self, b: u8) -> ByteSet {
        let mut words = self.0;
        words[(b >> 6) as usize] |= 1 << (b & 63);
        ByteSet(words)
    }

    /// Bytes in either set.
    pub const fn union(self, other: ByteSet) -> ByteSet {
        let (a, b) = (self.0, other.0);
        ByteSet([a[0] | b[0], a[1] | b[1], a[2] | b[2], a[3] | b[3]])
    }

    /// Whether `b` is in the set.
    pub const fn contains(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }
}

/// Static description of one flow-based protocol.
pub trait Protocol: Sync {
    /// Stable lowercase name used in records, `service` and metrics (`hl7`).
    fn name(&self) -> &'static str;
    /// Transports this protocol runs over.
    fn transports(&self) -> &'static [Transport];
    /// Well-known server ports. A hint for probe order, never a decision:
    /// a port match still has to pass `probe`.
    fn ports(&self) -> &'static [u16];
    /// Looks at the first payload bytes seen in `dir`. Must be cheap and must
    /// not allocate. `port_hint` says whether the server port is one of `ports()`.
    fn probe(&self, dir: Direction, data: &[u8], port_hint: bool) -> Probe;
    /// The bytes a payload can start with (either direction) for
    /// `probe(dir, data, false)` to say `Match`: off this protocol's ports the
    /// engine does not call `probe` for a payload starting with any other
    /// byte. Checked by the registry's conformance test. Every byte unless a
    /// protocol says otherwise.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::ALL
    }
    /// Creates per-flow state once `probe` says `Match`.
    fn start(&self) -> Box<dyn Analyzer>;
}

/// Per-flow protocol state machine. Sans-IO: bytes in, records out.
pub trait Analyzer: Send {
    /// Consumes a prefix of `data` travelling in `dir`.
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress;
    /// Bytes that will never arrive in `dir` (capture loss, reassembly limits).
    fn gap(&mut self, _dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        out.weird("content_gap");
        Progress::Done
    }
    /// Called once when the flow ends; flush partial state here.
    fn finish(&mut self, _out: &mut Out<'_>) {}
}

/// Bad datagrams in a row after which a [`Datagrams`] analyzer gives up on a flow.
pub const MAX_BAD_DATAGRAMS: u32 = 8;

/// Bounds and weird names of a [`Datagrams`] analyzer.
#[derive(Debug, Clone, Copy)]
pub struct DatagramLimits {
    /// Bytes of each datagram handed to the parser (the rest is ignored).
    pub max_len: usize,
    /// Records emitted per flow; more are counted and reported at the end.
    pub max_messages: u32,
    /// Weird for a datagram the parser rejects.
    pub bad: &'static str,
    /// Weird, at the flow's end, when messages went past `max_messages`.
    pub too_many: &'static str,
}

/// The analyzer of a protocol whose every message is one datagram (SSDP,
/// CoAP, WS-Discovery, NetBIOS datagrams): each datagram is parsed on its
/// own into at most one record; records past the limit are counted, not
/// emitted; after [`MAX_BAD_DATAGRAMS`] rejected datagrams in a row the
/// flow is left alone.
pub struct Datagrams<R> {
    parse: fn(Direction, &[u8]) -> Option<R>,
    limits: DatagramLimits,
    messages: u32,
    bad: u32,
}

impl<R> Datagrams<R> {
    /// An analyzer parsing each datagram with `parse`.
    pub fn new(parse: fn(Direction, &[u8]) -> Option<R>, limits: DatagramLimits) -> Self {
        Datagrams {
            parse,
            limits,
            messages: 0,
            bad: 0,
        }
    }
}

impl<R: Into<Record>> Analyzer for Datagrams<R> {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        match (self.parse)(dir, &data[..data.len().min(self.limits.max_len)]) {
            Some(rec) => {
                self.bad = 0;
                self.messages = self.messages.saturating_add(1);
                if self.messages <= self.limits.max_messages {
                    out.emit(rec);
                }
            }
            None => {
                out.weird(self.limits.bad);
                self.bad += 1;
                if self.bad >= MAX_BAD_DATAGRAMS {
                    return Progress::Done;
                }
            }
        }
        Progress::Consumed(data.len())
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        if self.messages > self.limits.max_messages {
            out.weird(self.limits.too_many);
        }
    }
}

pub use model::LinkFrame;

/// A protocol carried directly in link-layer frames (LLDP, CDP), or a link
/// type of its own (Bluetooth LE).
pub trait LinkProtocol: Sync {
    /// Stable lowercase name.
    fn name(&self) -> &'static str;
    /// True if this protocol handles `frame` (by EtherType, SNAP id or raw link type). Cheap.
    fn accepts(&self, frame: &LinkFrame<'_>) -> bool;
    /// Parses one frame accepted by `accepts`.
    fn handle(&self, frame: &LinkFrame<'_>, out: &mut Out<'_>);
}

/// Where analyzers put what they learn. Stamps every record with the packet
/// time and the flow.
pub struct Out<'a> {
    ts: Timestamp,
    flow: Option<&'a FlowInfo>,
    source: &'static str,
    events: &'a mut Vec<Event>,
}

impl<'a> Out<'a> {
    /// Creates an output for records of `source` (analyzer name) at `ts`.
    pub fn new(
        ts: Timestamp,
        flow: Option<&'a FlowInfo>,
        source: &'static str,
        events: &'a mut Vec<Event>,
    ) -> Self {
        Out {
            ts,
            flow,
            source,
            events,
        }
    }

    /// Emits a record.
    pub fn emit(&mut self, record: impl Into<Record>) {
        self.events.push(Event {
            ts: self.ts,
            flow: self.flow.copied(),
            record: record.into(),
        });
    }

    /// Reports malformed or unexpected input. `name` is stable snake_case.
    pub fn weird(&mut self, name: &str) {
        self.emit(Record::Weird(model::records::Weird {
            name: name.to_string(),
            source: self.source.to_string(),
        }));
    }

    /// The flow being analyzed, if any.
    pub fn flow(&self) -> Option<&FlowInfo> {
        self.flow
    }

    /// Packet time of the bytes being analyzed.
    pub fn ts(&self) -> Timestamp {
        self.ts
    }
}

/// Test helpers shared by protocol crates: feed byte streams through an
/// analyzer the way the engine does (buffering unconsumed bytes).
pub mod testing {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    /// A made-up flow between 10.0.0.1:40000 and 10.0.0.2:`port`.
    pub fn flow(transport: Transport, port: u16) -> FlowInfo {
        FlowInfo {
            id: 1,
            transport,
            client: model::Endpoint {
                ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                port: 40000,
                mac: None,
            },
            server: model::Endpoint {
                ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
                port,
                mac: None,
            },
            vlan: None,
        }
    }

    /// Runs `proto` over a conversation given as (direction, chunk) pairs, with
    /// engine-like buffering, and returns the emitted records. Probing is done
    /// on the first chunk; if it does not match, nothing is emitted.
    pub fn run(
        proto: &dyn Protocol,
        transport: Transport,
        port: u16,
        chunks: &[(Direction, &[u8])],
    ) -> Vec<Record> {
        run_inner(proto, transport, port, chunks, false)
    }

    /// Like [`run`] but starts the analyzer without probing (for robustness tests).
    pub fn run_forced(
        proto: &dyn Protocol,
        transport: Transport,
        port: u16,
        chunks: &[(Direction, &[u8])],
    ) -> Vec<Record> {
        run_inner(proto, transport, port, chunks, true)
    }

    /// Fuzz entry point: the first byte chooses transport and how the rest is
    /// split into alternating-direction chunks; the analyzer is forced on.
    pub fn fuzz(proto: &dyn Protocol, data: &[u8]) {
        let Some((&ctl, rest)) = data.split_first() else {
            return;
        };
        let transport = proto.transports()[ctl as usize % proto.transports().len()];
        let port = proto.ports().first().copied().unwrap_or(1);
        let chunk = 1 + (ctl as usize >> 2) * 8;
        let chunks: Vec<(Direction, &[u8])> = rest
            .chunks(chunk)
            .enumerate()
            .map(|(i, c)| {
                (
                    if (i + (ctl as usize & 2)) % 3 == 2 {
                        Direction::ToClient
                    } else {
                        Direction::ToServer
                    },
                    c,
                )
            })
            .collect();
        run_inner(proto, transport, port, &chunks, true);
        run_inner(proto, transport, port, &chunks, false);
    }

    fn run_inner(
        proto: &dyn Protocol,
        transport: Transport,
        port: u16,
        chunks: &[(Direction, &[u8])],
        forced: bool,
    ) -> Vec<Record> {
        let info = flow(transport, port);
        let mut events = Vec::new();
        let mut analyzer: Option<Box<dyn Analyzer>> = None;
        let mut pending: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        let mut done = false;
        for (dir, chunk) in chunks {
            if done {
                break;
            }
            let idx = (*dir == Direction::ToClient) as usize;
            if analyzer.is_none() && forced {
                analyzer = Some(proto.start());
            }
            if analyzer.is_none() {
                match proto.probe(*dir, chunk, proto.ports().contains(&port)) {
                    Probe::Match => analyzer = Some(proto.start()),
                    _ => continue,
                }
            }
            let Some(a) = analyzer.as_mut() else { continue };
            let mut out = Out::new(Timestamp(0), Some(&info), proto.name(), &mut events);
            if transport == Transport::Udp {
                if a.feed(*dir, chunk, &mut out) == Progress::Done {
                    done = true;
                }
                continue;
            }
            pending[idx].extend_from_slice(chunk);
            loop {
                if pending[idx].is_empty() {
                    break;
                }
                match a.feed(*dir, &pending[idx], &mut out) {
                    Progress::Consumed(0) => break,
                    Progress::Consumed(n) => {
                        let n = n.min(pending[idx].len());
                        pending[idx].drain(..n);
                    }
                    Progress::Done => {
                        done = true;
                        break;
                    }
                }
            }
        }
        if let Some(a) = analyzer.as_mut() {
            let mut out = Out::new(Timestamp(0), Some(&info), proto.name(), &mut events);
            a.finish(&mut out);
        }
        events.into_iter().map(|e| e.record).collect()
    }

    /// Feeds `data` split at every possible point plus random garbage through
    /// `proto` and checks nothing panics. Returns the number of runs.
    pub fn never_panics(
        proto: &dyn Protocol,
        transport: Transport,
        port: u16,
        data: &[u8],
    ) -> usize {
        let mut runs = 0;
        for split in 0..=data.len() {
            let (a, b) = data.split_at(split);
            run(
                proto,
                transport,
                port,
                &[(Direction::ToServer, a), (Direction::ToServer, b)],
            );
            runs += 1;
        }
        for cut in 0..data.len() {
            run(
                proto,
                transport,
                port,
                &[(Direction::ToServer, &data[..cut])],
            );
            runs += 1;
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::ByteSet;

    #[test]
    fn byte_sets_hold_exactly_their_bytes() {
        let set = ByteSet::of(b"A\x00\xff").union(ByteSet::range(0x40, 0x41));
        let held: Vec<u8> = (0..=255u8).filter(|&b| set.contains(b)).collect();
        assert_eq!(held, [0x00, 0x40, 0x41, 0xff]);
        assert!((0..=255u8).all(|b| ByteSet::ALL.contains(b) && !ByteSet::NONE.contains(b)));
        assert_eq!(ByteSet::range(0, 255), ByteSet::ALL);
        assert_eq!(ByteSet::NONE.with(7), ByteSet::of(&[7]));
    }
}
