//! Per-flow protocol dispatch: probing the registry, feeding the chosen
//! analyzer, and buffering unconsumed bytes within a hard cap.

use analyzer_api::{Analyzer, Out, Probe, Progress};
use flow::{CloseReason, FlowCounters, FlowUpdate};
use model::records::ConnRecord;
use model::{Direction, Event, FlowInfo, Timestamp};

/// Bytes a flow may show before probing gives up.
const PROBE_WINDOW: usize = 4096;
/// Payload-carrying packets a flow may show before probing gives up.
const PROBE_PACKETS: u8 = 8;
/// The same for UDP, where one flow may multiplex protocols (RFC 7983: STUN
/// connectivity checks precede the DTLS handshake of WebRTC media) and a
/// protocol asks for more datagrams (`NeedMore`) until its own arrives.
const PROBE_DATAGRAMS: u8 = 16;

#[derive(Default)]
enum Phase {
    #[default]
    Probing,
    Active(Box<dyn Analyzer>),
    /// The analyzer finished or nothing matched: bytes are only counted.
    Passive,
}

/// Per-flow dispatch state, kept in the flow table.
#[derive(Default)]
pub struct FlowState {
    phase: Phase,
    /// Unconsumed bytes per direction (probe window, or analyzer leftovers).
    // Invariant: each buffer holds at most `max_buffer` bytes.
    buf: [Vec<u8>; 2],
    probe_packets: u8,
    service: Option<&'static str>,
}

impl flow::FlowState for FlowState {
    fn wants_data(&self) -> bool {
        !matches!(self.phase, Phase::Passive)
    }
}

/// Counters that dispatch keeps per worker.
#[derive(Default, Debug, Clone, Copy)]
pub struct DispatchStats {
    /// Analyzers started.
    pub analyzers_started: u64,
    /// Buffers that hit the cap (analyzer stopped).
    pub buffer_limit: u64,
}

/// Context shared by every dispatch call of one worker.
pub struct Dispatcher {
    pub max_buffer: usize,
    pub stats: DispatchStats,
    probes: ProbeIndex,
}

// Protocols are bits of a `u64` in the probe index.
const _: () = assert!(registry::FLOW.len() <= 64);

/// Which registered protocols a probing flow asks, as bit masks over
/// `registry::FLOW`: by transport, by server port (the hinted ones, asked
/// first) and by the payload's first byte (`Protocol::first_bytes`, for the
/// others). Asking in mask order keeps the registry's order.
struct ProbeIndex {
    /// TCP, then UDP.
    transports: [TransportIndex; 2],
}

struct TransportIndex {
    /// Every protocol of the transport (for an empty payload).
    all: u64,
    /// Protocols whose probe can match a payload starting with this byte off their ports.
    by_first_byte: [u64; 256],
    /// Protocols by well-known port, sorted by port.
    by_port: Vec<(u16, u64)>,
}

impl ProbeIndex {
    fn new() -> ProbeIndex {
        let build = |transport: model::Transport| {
            let mut t = TransportIndex {
                all: 0,
                by_first_byte: [0; 256],
                by_port: Vec::new(),
            };
            for (i, p) in registry::FLOW.iter().enumerate() {
                if !p.transports().contains(&transport) {
                    continue;
                }
                let bit = 1u64 << i;
                t.all |= bit;
                let first = p.first_bytes();
                for (b, mask) in t.by_first_byte.iter_mut().enumerate() {
                    if first.contains(b as u8) {
                        *mask |= bit;
                    }
                }
                for &port in p.ports() {
                    match t.by_port.binary_search_by_key(&port, |&(p, _)| p) {
                        Ok(k) => t.by_port[k].1 |= bit,
                        Err(k) => t.by_port.insert(k, (port, bit)),
                    }
                }
            }
            t
        };
        ProbeIndex {
            transports: [build(model::Transport::Tcp), build(model::Transport::Udp)],
        }
    }

    /// The protocols to ask on `port` (hinted), then the others that can
    /// match `window`.
    fn candidates(&self, transport: model::Transport, port: u16, window: &[u8]) -> (u64, u64) {
        let t = match transport {
            model::Transport::Tcp => &self.transports[0],
            model::Transport::Udp => &self.transports[1],
        };
        let hinted = t
            .by_port
            .binary_search_by_key(&port, |&(p, _)| p)
            .map_or(0, |k| t.by_port[k].1);
        let others = match window.first() {
            Some(&b) => t.by_first_byte[usize::from(b)],
            None => t.all,
        };
        (hinted, others & !hinted)
    }
}

impl Dispatcher {
    /// A dispatcher keeping at most `max_buffer` unconsumed bytes per flow direction.
    pub fn new(max_buffer: usize) -> Dispatcher {
        Dispatcher {
            max_buffer,
            stats: DispatchStats::default(),
            probes: ProbeIndex::new(),
        }
    }
}

fn idx(dir: Direction) -> usize {
    (dir == Direction::ToClient) as usize
}

impl Dispatcher {
    /// Handles in-order bytes of a flow.
    /// Routes one flow-table update (data, gap or close) to its handler.
    pub fn update(
        &mut self,
        info: &FlowInfo,
        st: &mut FlowState,
        upd: FlowUpdate<'_>,
        ts: Timestamp,
        events: &mut Vec<Event>,
    ) {
        match upd {
            FlowUpdate::Data { dir, bytes } => self.data(info, st, dir, bytes, ts, events),
            FlowUpdate::Gap { dir, len } => self.gap(info, st, dir, len, ts, events),
            FlowUpdate::Closed { reason, counters } => {
                self.closed(info, st, reason, counters, events)
            }
        }
    }

    pub fn data(
        &mut self,
        info: &FlowInfo,
        st: &mut FlowState,
        dir: Direction,
        bytes: &[u8],
        ts: Timestamp,
        events: &mut Vec<Event>,
    ) {
        if matches!(st.phase, Phase::Passive) {
            return;
        }
        if matches!(st.phase, Phase::Probing) {
            self.probe(info, st, dir, bytes, ts, events);
            return;
        }
        self.feed(info, st, dir, bytes, ts, events);
    }

    fn probe(
        &mut self,
        info: &FlowInfo,
        st: &mut FlowState,
        dir: Direction,
        bytes: &[u8],
        ts: Timestamp,
        events: &mut Vec<Event>,
    ) {
        let i = idx(dir);
        let udp = info.transport == model::Transport::Udp;
        st.probe_packets = st.probe_packets.saturating_add(1);
        // Probe on the accumulated window (TCP) or this datagram (UDP).
        let mut appended = 0;
        let window: &[u8] = if !udp && !st.buf[i].is_empty() {
            let room = PROBE_WINDOW.saturating_sub(st.buf[i].len());
            appended = bytes.len().min(room);
            st.buf[i].extend_from_slice(&bytes[..appended]);
            &st.buf[i]
        } else {
            bytes
        };
        let (hinted, others) = self
            .probes
            .candidates(info.transport, info.server.port, window);
        let mut need_more = false;
        let mut chosen = None;
        'ask: for (mut mask, hint) in [(hinted, true), (others, false)] {
            while mask != 0 {
                let p = registry::FLOW[mask.trailing_zeros() as usize];
                mask &= mask - 1;
                match p.probe(dir, window, hint) {
                    Probe::Match => {
                        chosen = Some(p);
                        break 'ask;
                    }
                    Probe::NeedMore => need_more = true,
                    Probe::NoMatch => {}
                }
            }
        }
        if let Some(p) = chosen {
            self.stats.analyzers_started += 1;
            st.service = Some(p.name());
            st.phase = Phase::Active(p.start());
            // Bytes the other direction buffered while probing came first:
            // feed them first (a request a port-hinted probe could not
            // read, answered by a status line that it can).
            let other = 1 - i;
            if !udp && !st.buf[other].is_empty() {
                let window = std::mem::take(&mut st.buf[other]);
                let other_dir = if other == 0 {
                    Direction::ToServer
                } else {
                    Direction::ToClient
                };
                self.feed(info, st, other_dir, &window, ts, events);
                if !matches!(st.phase, Phase::Active(_)) {
                    return;
                }
            }
            if udp || st.buf[i].is_empty() {
                self.feed(info, st, dir, bytes, ts, events);
            } else {
                // The window already holds these bytes: feed it as leftovers.
                let window = std::mem::take(&mut st.buf[i]);
                self.feed(info, st, dir, &window, ts, events);
                if let Some(rest) = bytes.get(appended..).filter(|r| !r.is_empty()) {
                    self.feed(info, st, dir, rest, ts, events);
                }
            }
            return;
        }
        let budget = if udp { PROBE_DATAGRAMS } else { PROBE_PACKETS };
        let exhausted = st.buf[i].len() >= PROBE_WINDOW || st.probe_packets >= budget;
        if udp || !need_more || exhausted {
            if udp && need_more && !exhausted {
                return; // Let the next datagram try.
            }
            st.phase = Phase::Passive;
            st.buf = Default::default();
        } else if st.buf[i].is_empty() {
            st.buf[i].extend_from_slice(&bytes[..bytes.len().min(PROBE_WINDOW)]);
        }
    }

    fn feed(
        &mut self,
        info: &FlowInfo,
        st: &mut FlowState,
        dir: Direction,
        bytes: &[u8],
        ts: Timestamp,
        events: &mut Vec<Event>,
    ) {
        let Phase::Active(a) = &mut st.phase else {
            return;
        };
        let name = st.service.unwrap_or("unknown");
        let mut out = Out::new(ts, Some(info), name, events);
        if info.transport == model::Transport::Udp {
            if a.feed(dir, bytes, &mut out) == Progress::Done {
                a.finish(&mut out);
                st.phase = Phase::Passive;
            }
            return;
        }
        let i = idx(dir);
        let mut done = false;
        let mut limit = false;
        if st.buf[i].is_empty() {
            // Zero-copy path: feed straight from the packet; keep only leftovers.
            let mut rest = bytes;
            while !rest.is_empty() {
                match a.feed(dir, rest, &mut out) {
                    Progress::Consumed(0) => break,
                    Progress::Consumed(n) => rest = rest.get(n..).unwrap_or_default(),
                    Progress::Done => {
                        done = true;
                        break;
                    }
                }
            }
            if !done && !rest.is_empty() {
                if rest.len() > self.max_buffer {
                    done = true;
                    limit = true;
                } else {
                    st.buf[i].extend_from_slice(rest);
                }
            }
        } else {
            if st.buf[i].len() + bytes.len() > self.max_buffer {
                done = true;
                limit = true;
            } else {
                st.buf[i].extend_from_slice(bytes);
                let mut off = 0;
                while off < st.buf[i].len() {
                    match a.feed(dir, &st.buf[i][off..], &mut out) {
                        Progress::Consumed(0) => break,
                        Progress::Consumed(n) => off = (off + n).min(st.buf[i].len()),
                        Progress::Done => {
                            done = true;
                            break;
                        }
                    }
                }
                st.buf[i].drain(..off);
            }
        }
        if done {
            if limit {
                self.stats.buffer_limit += 1;
                out.weird("stream_buffer_limit");
            }
            a.finish(&mut out);
            st.phase = Phase::Passive;
            st.buf = Default::default();
        } else if st.buf[i].capacity() > 4 * st.buf[i].len().max(4096) {
            st.buf[i].shrink_to(st.buf[i].len().max(4096));
        }
    }

    /// Handles missing bytes.
    pub fn gap(
        &mut self,
        info: &FlowInfo,
        st: &mut FlowState,
        dir: Direction,
        len: u64,
        ts: Timestamp,
        events: &mut Vec<Event>,
    ) {
        match &mut st.phase {
            Phase::Probing => {
                st.phase = Phase::Passive;
                st.buf = Default::default();
            }
            Phase::Active(a) => {
                st.buf[idx(dir)].clear();
                let mut out = Out::new(ts, Some(info), st.service.unwrap_or("unknown"), events);
                if a.gap(dir, len, &mut out) == Progress::Done {
                    a.finish(&mut out);
                    st.phase = Phase::Passive;
                    st.buf = Default::default();
                }
            }
            Phase::Passive => {}
        }
    }

    /// Handles the end of a flow: flushes the analyzer and writes the conn record.
    pub fn closed(
        &mut self,
        info: &FlowInfo,
        st: &mut FlowState,
        reason: CloseReason,
        c: FlowCounters,
        events: &mut Vec<Event>,
    ) {
        if let Phase::Active(a) = &mut st.phase {
            let mut out = Out::new(c.last, Some(info), st.service.unwrap_or("unknown"), events);
            a.finish(&mut out);
        }
        st.phase = Phase::Passive;
        st.buf = Default::default();
        events.push(Event {
            ts: c.last,
            flow: Some(*info),
            record: model::Record::Conn(ConnRecord {
                start: c.start,
                end: c.last,
                orig_bytes: c.orig_bytes,
                resp_bytes: c.resp_bytes,
                orig_pkts: c.orig_pkts,
                resp_pkts: c.resp_pkts,
                service: st.service.map(|s| vec![s.into()]).unwrap_or_default(),
                established: c.established,
                reason: reason.as_str().into(),
                transport: Some(info.transport),
            }),
        });
    }
}
