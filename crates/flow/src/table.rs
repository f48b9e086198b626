//! The flow table: a seeded hash map from a direction-independent 5-tuple to
//! slots kept in least-recently-used order.
//!
//! The map holds only slot indices (4 bytes each, with the key's hash kept in
//! the slot), and the LRU links live in their own small array: a lookup
//! touches the map's control bytes, a 4-byte entry and the slot it needs
//! anyway, and removing a flow touches no other flow's slot. With the input
//! streaming through the caches, the map and links stay small enough to
//! remain cached.

use crate::reassembly::{Segment, StreamState};
use foldhash::fast::RandomState;
use model::{Direction, Endpoint, FlowInfo, MacAddr, Timestamp, Transport};
use std::hash::BuildHasher;
use std::net::IpAddr;

const NIL: u32 = u32::MAX;

/// Limits and timeouts of a flow table.
#[derive(Debug, Clone, Copy)]
pub struct FlowConfig {
    /// Most flows tracked at once; the least recently used is evicted beyond.
    pub max_flows: usize,
    /// Out-of-order bytes buffered per direction of a TCP flow.
    pub max_ooo_bytes: usize,
    /// Idle timeout of TCP flows, in seconds of packet time.
    pub tcp_timeout_secs: i64,
    /// Idle timeout of UDP flows.
    pub udp_timeout_secs: i64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 262_144,
            max_ooo_bytes: 64 * 1024,
            tcp_timeout_secs: 300,
            udp_timeout_secs: 60,
        }
    }
}

/// TCP header fields the table needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpFlags {
    /// Sequence number.
    pub seq: u32,
    /// Flag bits: FIN=1 SYN=2 RST=4 PSH=8 ACK=16.
    pub flags: u8,
}

impl TcpFlags {
    const FIN: u8 = 1;
    const SYN: u8 = 2;
    const RST: u8 = 4;
    const ACK: u8 = 16;
}

/// The parts of a decoded packet the flow table uses. Borrows the payload.
#[derive(Debug, Clone, Copy)]
pub struct PacketView<'a> {
    /// Capture time.
    pub ts: Timestamp,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source MAC, if the link has one.
    pub src_mac: Option<MacAddr>,
    /// Destination MAC.
    pub dst_mac: Option<MacAddr>,
    /// Outer VLAN id.
    pub vlan: Option<u16>,
    /// TCP or UDP.
    pub transport: Transport,
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// TCP fields (None for UDP).
    pub tcp: Option<TcpFlags>,
    /// Transport payload.
    pub payload: &'a [u8],
}

/// Why a flow ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// FIN in both directions, or RST.
    Closed,
    /// Idle longer than the timeout.
    Timeout,
    /// Evicted to make room (table full).
    Evicted,
    /// The input ended.
    EndOfInput,
}

impl CloseReason {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Closed => "closed",
            CloseReason::Timeout => "timeout",
            CloseReason::Evicted => "evicted",
            CloseReason::EndOfInput => "end_of_input",
        }
    }
}

/// Counters of one flow.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowCounters {
    /// First packet time.
    pub start: Timestamp,
    /// Last packet time.
    pub last: Timestamp,
    /// Payload bytes from the originator.
    pub orig_bytes: u64,
    /// Payload bytes from the responder.
    pub resp_bytes: u64,
    /// Packets from the originator.
    pub orig_pkts: u64,
    /// Packets from the responder.
    pub resp_pkts: u64,
    /// The responder answered.
    pub established: bool,
}

/// What the table tells its caller about a flow.
#[derive(Debug)]
pub enum FlowUpdate<'a> {
    /// In-order bytes: reassembled TCP, or exactly one UDP datagram.
    Data {
        /// Which way the bytes travel.
        dir: Direction,
        /// The bytes (borrowed from the packet or the reassembly buffer).
        bytes: &'a [u8],
    },
    /// Bytes that will never arrive.
    Gap {
        /// Which way.
        dir: Direction,
        /// How many bytes are missing.
        len: u64,
    },
    /// The flow ended; it will not be reported again.
    Closed {
        /// Why.
        reason: CloseReason,
        /// Final counters.
        counters: FlowCounters,
    },
}

/// Table-wide counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowStats {
    /// Flows created.
    pub created: u64,
    /// Flows evicted because the table was full.
    pub evicted: u64,
    /// Flows expired by idle timeout.
    pub timed_out: u64,
    /// Flows closed by FIN/RST.
    pub closed: u64,
    /// Bytes declared lost in TCP gaps.
    pub gap_bytes: u64,
    /// Most flows held at once.
    pub peak_flows: u64,
}

/// Direction-independent flow key: the lower (address, port) end first.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    /// Addresses as IPv6 (IPv4 mapped), big-endian numbers.
    a: u128,
    b: u128,
    /// Ports of `a` and `b`, transport and VLAN, packed.
    rest: u64,
}

fn ip_num(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl Key {
    #[inline]
    fn of(p: &PacketView<'_>) -> Key {
        let s = (ip_num(p.src), p.src_port);
        let d = (ip_num(p.dst), p.dst_port);
        let (lo, hi) = if s <= d { (s, d) } else { (d, s) };
        let rest = u64::from(lo.1) << 48
            | u64::from(hi.1) << 32
            | u64::from(p.transport as u8) << 16
            | u64::from(p.vlan.unwrap_or(0));
        Key {
            a: lo.0,
            b: hi.0,
            rest,
        }
    }

    #[inline]
    fn hash(&self, h: &RandomState) -> u64 {
        h.hash_one((self.a, self.b, self.rest))
    }
}

/// LRU neighbours of a slot.
#[derive(Clone, Copy)]
struct Link {
    prev: u32,
    next: u32,
}

const UNLINKED: Link = Link {
    prev: NIL,
    next: NIL,
};

struct Slot<S> {
    key: Key,
    /// `key`'s hash (the map stores only slot indices).
    hash: u64,
    info: FlowInfo,
    counters: FlowCounters,
    streams: [StreamState; 2],
    /// The flow was reported closed; the slot lingers to absorb stray packets.
    closed: bool,
    state: S,
}

/// Tracks flows and reassembles TCP. Generic over per-flow caller state `S`.
pub struct FlowTable<S> {
    cfg: FlowConfig,
    hasher: RandomState,
    /// Indices into `slots`, found by the slot's key and hash.
    map: hashbrown::HashTable<u32>,
    slots: Vec<Slot<S>>,
    /// LRU links, parallel to `slots`.
    links: Vec<Link>,
    free: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
    now: Timestamp,
    /// Where a walk of [`FlowTable::expire_anywhere_some`] goes on (towards
    /// the head); moved on when that slot is unlinked.
    walk: u32,
    next_id: u64,
    stats: FlowStats,
}

/// Ports that identify the server side of a flow even when both ports are high.
const SERVER_PORTS: &[u16] = &[
    104, 2575, 11112, 8080, 8443, 8000, 8008, 8888, 3389, 5432, 3306, 1433, 1883, 8883, 5353, 5683,
    6661, 9100, 4242,
];

/// Whether `port` is the server's end of a flow whose first packet had no
/// SYN to tell. A well-known port (below 1024) outranks any registered high
/// port (`9100 -> 53` is a DNS query from a client that happened to pick
/// 9100, not a printer); between high ports, a listed server port wins.
fn looks_like_server(port: u16, other: u16) -> bool {
    match (port < 1024, other < 1024) {
        (true, false) => true,
        (false, true) => false,
        (true, true) => false,
        (false, false) => SERVER_PORTS.contains(&port) && !SERVER_PORTS.contains(&other),
    }
}

/// What the table asks of the caller's per-flow state.
pub trait FlowState: Default {
    /// False once the caller needs no more payload of this flow (its analyzer
    /// finished or none applies): the table then stops reassembling it and
    /// only keeps counters, so passive flows cost no copies.
    fn wants_data(&self) -> bool {
        true
    }
}

impl<S: FlowState> FlowTable<S> {
    /// Creates an empty table. `id_base` offsets flow ids so several tables
    /// (one per worker) produce distinct ids.
    pub fn new(cfg: FlowConfig, id_base: u64) -> Self {
        // Grown on demand: a map sized for the peak stays denser in cache than one sized for the cap.
        let cap = cfg.max_flows.min(1 << 12);
        FlowTable {
            cfg,
            hasher: RandomState::default(),
            map: hashbrown::HashTable::with_capacity(cap),
            slots: Vec::with_capacity(cap),
            links: Vec::with_capacity(cap),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            now: Timestamp(i64::MIN),
            walk: NIL,
            next_id: id_base,
            stats: FlowStats::default(),
        }
    }

    /// Table-wide counters.
    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    /// Flows currently tracked.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no flow is tracked.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Feeds one packet; `f` sees in-order data, gaps and closes. A flow it
    /// starts is numbered by the table (its base, then one up per flow).
    pub fn push(
        &mut self,
        p: &PacketView<'_>,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) {
        self.push_inner(p, None, f);
    }

    /// [`FlowTable::push`] of the packet of frame number `frame` of the
    /// input: a flow it starts takes that number as its id. A frame starts at
    /// most one flow, so ids stay distinct; and a flow's id is the same
    /// however the input's flows were shared out among tables (workers).
    pub fn push_numbered(
        &mut self,
        p: &PacketView<'_>,
        frame: u64,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) {
        self.push_inner(p, Some(frame), f);
    }

    #[inline(always)]
    fn push_inner(
        &mut self,
        p: &PacketView<'_>,
        frame: Option<u64>,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) {
        if p.ts > self.now {
            self.now = p.ts;
        }
        let key = Key::of(p);
        let hash = key.hash(&self.hasher);
        let slots = &self.slots;
        let idx = match self.map.find(hash, |&i| slots[i as usize].key == key) {
            Some(&i) => {
                let tcp_syn = p
                    .tcp
                    .is_some_and(|t| t.flags & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN);
                let slot = &self.slots[i as usize];
                if tcp_syn && slot.closed {
                    // Port reuse after a close: start over.
                    self.remove(i, None, f);
                    self.create(key, hash, p, frame, f)
                } else if self.idle_at(i, p.ts) {
                    // Idle past its timeout: the flow ended there, whether or
                    // not an expiry pass has run since.
                    self.time_out(i, f);
                    self.create(key, hash, p, frame, f)
                } else {
                    self.touch(i);
                    i
                }
            }
            None => self.create(key, hash, p, frame, f),
        };
        self.update(idx, p, f);
    }

    /// Moves the table's clock to `now` (a live capture on a quiet link: the
    /// wall clock, so idle flows still time out). Never moves it back.
    pub fn advance(&mut self, now: Timestamp) {
        if now > self.now {
            self.now = now;
        }
    }

    /// Expires flows idle for longer than their timeout (packet time).
    pub fn expire(&mut self, f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>)) {
        while self.expire_some(usize::MAX, f) {}
    }

    /// Expires at most `max` idle flows; true if more may be due. Lets the
    /// caller consume what the closed flows produced between batches.
    pub fn expire_some(
        &mut self,
        max: usize,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) -> bool {
        let mut n = 0;
        while self.tail != NIL {
            if n == max {
                return true;
            }
            n += 1;
            if !self.idle_at(self.tail, self.now) {
                break;
            }
            self.time_out(self.tail, f);
        }
        false
    }

    /// Like [`FlowTable::expire_some`], but walks the whole table: ends every
    /// flow idle at the table's time, also those behind a busier flow in the
    /// least-recently-used order, which a capture whose time goes back (files
    /// of different days joined end to end) and flows of different timeouts
    /// leave there. Which flows end then depends only on the table's time,
    /// not on the order of the flows, so that passes made at the same points
    /// of a capture end the same flows whether one worker holds all flows or
    /// each holds a share. A walk left with `true` goes on at the next call
    /// (the caller consumes what the ended flows produced in between); one
    /// that ended starts again from the tail. Costs one look at every flow.
    pub fn expire_anywhere_some(
        &mut self,
        max: usize,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) -> bool {
        if self.walk == NIL {
            self.walk = self.tail;
        }
        let mut n = 0;
        while self.walk != NIL {
            let idx = self.walk;
            if !self.idle_at(idx, self.now) {
                self.walk = self.links[idx as usize].prev;
                continue;
            }
            if n == max {
                return true;
            }
            n += 1;
            // Unlinking moves the walk on.
            self.time_out(idx, f);
        }
        false
    }

    /// Whether flow `idx` has been idle past its timeout at time `at`.
    fn idle_at(&self, idx: u32, at: Timestamp) -> bool {
        let s = &self.slots[idx as usize];
        at.micros_since(s.counters.last) > self.idle_limit(s)
    }

    /// Ends flow `idx` for being idle (counted as timed out unless it had closed).
    fn time_out(&mut self, idx: u32, f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>)) {
        if !self.slots[idx as usize].closed {
            self.stats.timed_out += 1;
        }
        self.remove(idx, Some(CloseReason::Timeout), f);
    }

    /// Microseconds a flow may stay idle before it times out (a closed TCP
    /// flow lingers 5 s to absorb stray packets).
    fn idle_limit(&self, s: &Slot<S>) -> i64 {
        let secs = match s.info.transport {
            Transport::Tcp if s.closed => 5,
            Transport::Tcp => self.cfg.tcp_timeout_secs,
            Transport::Udp => self.cfg.udp_timeout_secs,
        };
        secs.saturating_mul(1_000_000)
    }

    /// Ends every flow (end of input).
    pub fn flush(&mut self, f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>)) {
        while self.flush_some(usize::MAX, f) {}
    }

    /// Ends at most `max` flows; true if some remain.
    pub fn flush_some(
        &mut self,
        max: usize,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) -> bool {
        for _ in 0..max {
            if self.tail == NIL {
                return false;
            }
            self.remove(self.tail, Some(CloseReason::EndOfInput), f);
        }
        self.tail != NIL
    }

    fn create(
        &mut self,
        key: Key,
        hash: u64,
        p: &PacketView<'_>,
        frame: Option<u64>,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) -> u32 {
        if self.map.len() >= self.cfg.max_flows.max(1) {
            self.stats.evicted += 1;
            self.remove(self.tail, Some(CloseReason::Evicted), f);
        }
        let src = Endpoint {
            ip: p.src,
            port: p.src_port,
            mac: p.src_mac,
        };
        let dst = Endpoint {
            ip: p.dst,
            port: p.dst_port,
            mac: p.dst_mac,
        };
        let src_is_client = match p.tcp {
            Some(t) if t.flags & TcpFlags::SYN != 0 => t.flags & TcpFlags::ACK == 0,
            _ => !looks_like_server(p.src_port, p.dst_port),
        };
        let (client, server) = if src_is_client {
            (src, dst)
        } else {
            (dst, src)
        };
        let id = frame.unwrap_or_else(|| {
            self.next_id += 1;
            self.next_id
        });
        let info = FlowInfo {
            id,
            transport: p.transport,
            client,
            server,
            vlan: p.vlan,
        };
        let slot = Slot {
            key,
            hash,
            info,
            counters: FlowCounters {
                start: p.ts,
                last: p.ts,
                ..Default::default()
            },
            streams: Default::default(),
            closed: false,
            state: S::default(),
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                self.links.push(UNLINKED);
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.map
            .insert_unique(hash, idx, |&i| slots[i as usize].hash);
        self.link_front(idx);
        self.stats.created += 1;
        self.stats.peak_flows = self.stats.peak_flows.max(self.map.len() as u64);
        idx
    }

    fn update(
        &mut self,
        idx: u32,
        p: &PacketView<'_>,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) {
        let max_ooo = self.cfg.max_ooo_bytes;
        let slot = &mut self.slots[idx as usize];
        let dir = if p.src == slot.info.client.ip && p.src_port == slot.info.client.port {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let c = &mut slot.counters;
        if p.ts > c.last {
            c.last = p.ts;
        }
        match dir {
            Direction::ToServer => {
                c.orig_pkts += 1;
                c.orig_bytes += p.payload.len() as u64;
                if slot.info.client.mac.is_none() {
                    slot.info.client.mac = p.src_mac;
                }
            }
            Direction::ToClient => {
                c.resp_pkts += 1;
                c.resp_bytes += p.payload.len() as u64;
                c.established = true;
                if slot.info.server.mac.is_none() {
                    slot.info.server.mac = p.src_mac;
                }
            }
        }
        if slot.closed {
            return;
        }
        let Slot {
            info,
            streams,
            state,
            ..
        } = slot;
        let mut gap_bytes = 0;
        if !state.wants_data() {
            // Nobody reads this flow's bytes: track only its end.
            if let Some(t) = p.tcp {
                let st = &mut streams[(dir == Direction::ToClient) as usize];
                if st.buffered() > 0 {
                    let fin = st.fin;
                    *st = StreamState::default();
                    st.fin = fin;
                }
                if t.flags & TcpFlags::FIN != 0 {
                    st.fin = true;
                }
                if t.flags & TcpFlags::RST != 0 || (streams[0].fin && streams[1].fin) {
                    self.stats.closed += 1;
                    self.close(idx, CloseReason::Closed, f);
                }
            }
            return;
        }
        match p.tcp {
            None => {
                if !p.payload.is_empty() {
                    f(
                        info,
                        state,
                        FlowUpdate::Data {
                            dir,
                            bytes: p.payload,
                        },
                    );
                }
            }
            Some(t) => {
                let st = &mut streams[(dir == Direction::ToClient) as usize];
                let mut seq = t.seq;
                if t.flags & TcpFlags::SYN != 0 {
                    st.set_isn(t.seq.wrapping_add(1));
                    seq = seq.wrapping_add(1);
                }
                st.push(seq, p.payload, max_ooo, &mut |s| match s {
                    Segment::Data(bytes) => f(info, state, FlowUpdate::Data { dir, bytes }),
                    Segment::Gap(len) => {
                        gap_bytes += len;
                        f(info, state, FlowUpdate::Gap { dir, len })
                    }
                });
                if t.flags & TcpFlags::FIN != 0 {
                    st.fin = true;
                }
                let done = t.flags & TcpFlags::RST != 0 || (streams[0].fin && streams[1].fin);
                self.stats.gap_bytes += gap_bytes;
                if done {
                    self.stats.closed += 1;
                    self.close(idx, CloseReason::Closed, f);
                }
                return;
            }
        }
        self.stats.gap_bytes += gap_bytes;
    }

    /// Flushes reassembly buffers and reports the close, keeping the slot.
    fn close(
        &mut self,
        idx: u32,
        reason: CloseReason,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) {
        let slot = &mut self.slots[idx as usize];
        if slot.closed {
            return;
        }
        slot.closed = true;
        let Slot {
            info,
            streams,
            state,
            counters,
            ..
        } = slot;
        for (i, st) in streams.iter_mut().enumerate() {
            let dir = if i == 0 {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            st.flush(&mut |s| match s {
                Segment::Data(bytes) => f(info, state, FlowUpdate::Data { dir, bytes }),
                Segment::Gap(len) => f(info, state, FlowUpdate::Gap { dir, len }),
            });
        }
        f(
            info,
            state,
            FlowUpdate::Closed {
                reason,
                counters: *counters,
            },
        );
        // Free per-flow caller state and buffers now; the slot only lingers as a tombstone.
        *state = S::default();
        *streams = Default::default();
    }

    fn remove(
        &mut self,
        idx: u32,
        reason: Option<CloseReason>,
        f: &mut impl FnMut(&FlowInfo, &mut S, FlowUpdate<'_>),
    ) {
        if idx == NIL {
            return;
        }
        if let Some(r) = reason {
            self.close(idx, r, f);
        }
        self.unlink(idx);
        if let Ok(e) = self
            .map
            .find_entry(self.slots[idx as usize].hash, |&i| i == idx)
        {
            e.remove();
        }
        self.slots[idx as usize].state = S::default();
        self.free.push(idx);
    }

    fn touch(&mut self, idx: u32) {
        if self.head != idx {
            self.unlink(idx);
            self.link_front(idx);
        }
    }

    fn link_front(&mut self, idx: u32) {
        let old = self.head;
        self.links[idx as usize] = Link {
            prev: NIL,
            next: old,
        };
        if old != NIL {
            self.links[old as usize].prev = idx;
        } else {
            self.tail = idx;
        }
        self.head = idx;
    }

    fn unlink(&mut self, idx: u32) {
        let Link { prev, next } = self.links[idx as usize];
        if self.walk == idx {
            self.walk = prev;
        }
        if prev != NIL {
            self.links[prev as usize].next = next;
        } else {
            self.head = next;
        }
        if next != NIL {
            self.links[next as usize].prev = prev;
        } else {
            self.tail = prev;
        }
        self.links[idx as usize] = UNLINKED;
    }
}

#[cfg(test)]
mod direction_tests {
    use super::looks_like_server;

    #[test]
    fn a_well_known_port_outranks_a_registered_high_port() {
        // A DNS query from source port 9100 (a listed printer port): 53 serves.
        assert!(!looks_like_server(9100, 53));
        assert!(looks_like_server(53, 9100));
        // The Withings BPM's DHCP: 68 -> 67 is a client on 68.
        assert!(!looks_like_server(68, 67));
        // Between high ports a listed server port wins; an unlisted pair keeps the first sender as client.
        assert!(looks_like_server(2575, 40000));
        assert!(!looks_like_server(40000, 2575));
        assert!(!looks_like_server(40000, 40001));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn pkt(
        src: u8,
        sp: u16,
        dst: u8,
        dp: u16,
        ts: i64,
        tcp: Option<TcpFlags>,
        payload: &[u8],
    ) -> PacketView<'_> {
        PacketView {
            ts: Timestamp(ts * 1_000_000),
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, src)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, dst)),
            src_mac: None,
            dst_mac: None,
            vlan: None,
            transport: if tcp.is_some() {
                Transport::Tcp
            } else {
                Transport::Udp
            },
            src_port: sp,
            dst_port: dp,
            tcp,
            payload,
        }
    }

    #[derive(Default)]
    struct Seen(Vec<u8>, Vec<u8>, u32);

    impl FlowState for Seen {}

    /// Takes the first data it is given, then wants no more.
    #[derive(Default)]
    struct FirstOnly(usize);

    impl FlowState for FirstOnly {
        fn wants_data(&self) -> bool {
            self.0 == 0
        }
    }

    #[test]
    fn flows_that_want_no_data_are_not_reassembled_but_still_close() {
        let mut t = FlowTable::<FirstOnly>::new(FlowConfig::default(), 0);
        let mut closed = Vec::new();
        let mut data = 0;
        let mut push = |t: &mut FlowTable<FirstOnly>, p: &PacketView<'_>| {
            t.push(p, &mut |_, s, u| match u {
                FlowUpdate::Data { bytes, .. } => {
                    s.0 += bytes.len();
                    data += 1;
                }
                FlowUpdate::Gap { .. } => {}
                FlowUpdate::Closed { counters, .. } => {
                    closed.push(counters.orig_pkts + counters.resp_pkts)
                }
            })
        };
        push(
            &mut t,
            &pkt(
                1,
                40000,
                2,
                80,
                1,
                Some(TcpFlags {
                    seq: 100,
                    flags: TcpFlags::SYN,
                }),
                b"",
            ),
        );
        push(
            &mut t,
            &pkt(
                1,
                40000,
                2,
                80,
                2,
                Some(TcpFlags {
                    seq: 101,
                    flags: TcpFlags::ACK,
                }),
                b"GET",
            ),
        );
        // Out of order and in order after the state lost interest: nothing delivered, nothing buffered.
        push(
            &mut t,
            &pkt(
                1,
                40000,
                2,
                80,
                3,
                Some(TcpFlags {
                    seq: 115,
                    flags: TcpFlags::ACK,
                }),
                b"later",
            ),
        );
        push(
            &mut t,
            &pkt(
                1,
                40000,
                2,
                80,
                4,
                Some(TcpFlags {
                    seq: 104,
                    flags: TcpFlags::ACK,
                }),
                b" / HTTP/1.0",
            ),
        );
        push(
            &mut t,
            &pkt(
                1,
                40000,
                2,
                80,
                5,
                Some(TcpFlags {
                    seq: 120,
                    flags: TcpFlags::FIN | TcpFlags::ACK,
                }),
                b"",
            ),
        );
        push(
            &mut t,
            &pkt(
                2,
                80,
                1,
                40000,
                6,
                Some(TcpFlags {
                    seq: 900,
                    flags: TcpFlags::FIN | TcpFlags::ACK,
                }),
                b"",
            ),
        );
        assert_eq!(data, 1);
        assert_eq!(
            closed,
            vec![6],
            "closed by the FINs, with every packet counted"
        );
    }

    fn collect(t: &mut FlowTable<Seen>, p: &PacketView<'_>, log: &mut Vec<String>) {
        t.push(p, &mut |info, s, u| match u {
            FlowUpdate::Data {
                dir: Direction::ToServer,
                bytes,
            } => s.0.extend_from_slice(bytes),
            FlowUpdate::Data {
                dir: Direction::ToClient,
                bytes,
            } => s.1.extend_from_slice(bytes),
            FlowUpdate::Gap { .. } => s.2 += 1,
            FlowUpdate::Closed { reason, counters } => log.push(format!(
                "{} {}->{} {} {}/{} {:?} {:?}",
                info.id,
                info.client.port,
                info.server.port,
                reason.as_str(),
                counters.orig_pkts,
                counters.resp_pkts,
                String::from_utf8_lossy(&s.0),
                String::from_utf8_lossy(&s.1)
            )),
        });
    }

    fn tcp(seq: u32, flags: u8) -> Option<TcpFlags> {
        Some(TcpFlags { seq, flags })
    }

    #[test]
    fn tcp_session_with_handshake_and_fin() {
        let mut t = FlowTable::<Seen>::new(FlowConfig::default(), 0);
        let mut log = vec![];
        // SYN-ACK seen first still orients the client correctly.
        collect(
            &mut t,
            &pkt(2, 2575, 1, 40000, 1, tcp(900, 0x12), b""),
            &mut log,
        );
        collect(
            &mut t,
            &pkt(1, 40000, 2, 2575, 1, tcp(100, 0x10), b"hel"),
            &mut log,
        );
        collect(
            &mut t,
            &pkt(1, 40000, 2, 2575, 1, tcp(103, 0x18), b"lo"),
            &mut log,
        );
        collect(
            &mut t,
            &pkt(2, 2575, 1, 40000, 2, tcp(901, 0x18), b"ok"),
            &mut log,
        );
        collect(
            &mut t,
            &pkt(1, 40000, 2, 2575, 2, tcp(105, 0x11), b""),
            &mut log,
        );
        collect(
            &mut t,
            &pkt(2, 2575, 1, 40000, 2, tcp(903, 0x11), b""),
            &mut log,
        );
        assert_eq!(log, vec![r#"1 40000->2575 closed 3/3 "hello" "ok""#]);
        // A stray ACK after close does not create a new flow.
        collect(
            &mut t,
            &pkt(1, 40000, 2, 2575, 3, tcp(106, 0x10), b""),
            &mut log,
        );
        assert_eq!(t.stats().created, 1);
    }

    #[test]
    fn eviction_keeps_table_bounded() {
        let cfg = FlowConfig {
            max_flows: 10,
            ..Default::default()
        };
        let mut t = FlowTable::<Seen>::new(cfg, 0);
        let mut log = vec![];
        for i in 0..1000u16 {
            collect(&mut t, &pkt(1, 1000 + i, 2, 53, 1, None, b"q"), &mut log);
            assert!(t.len() <= 10);
        }
        assert_eq!(t.stats().evicted, 990);
        assert_eq!(log.len(), 990);
        assert!(log[0].contains("evicted"));
    }

    #[test]
    fn idle_flows_expire() {
        let mut t = FlowTable::<Seen>::new(FlowConfig::default(), 0);
        let mut log = vec![];
        collect(&mut t, &pkt(1, 5000, 2, 53, 1, None, b"q"), &mut log);
        collect(&mut t, &pkt(3, 5000, 2, 53, 100, None, b"q"), &mut log);
        t.expire(&mut |_, _, u| {
            if let FlowUpdate::Closed { reason, .. } = u {
                log.push(reason.as_str().to_string())
            }
        });
        assert_eq!(log, vec!["timeout"]);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn a_flow_idle_past_its_timeout_ends_at_its_next_packet_without_an_expiry_pass() {
        let mut t = FlowTable::<Seen>::new(FlowConfig::default(), 0);
        let mut log = vec![];
        let closes = |t: &mut FlowTable<Seen>, p: &PacketView<'_>, log: &mut Vec<String>| {
            t.push(p, &mut |info, _, u| {
                if let FlowUpdate::Closed { reason, .. } = u {
                    log.push(format!("{} {}", info.id, reason.as_str()));
                }
            })
        };
        closes(&mut t, &pkt(1, 5000, 2, 53, 1, None, b"q"), &mut log);
        closes(&mut t, &pkt(1, 5000, 2, 53, 60, None, b"q"), &mut log);
        assert!(log.is_empty(), "within the UDP timeout: {log:?}");
        closes(&mut t, &pkt(1, 5000, 2, 53, 121, None, b"q"), &mut log);
        assert_eq!(log, vec!["1 timeout"]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.stats().timed_out, 1);
        assert_eq!(t.stats().created, 2);
    }

    #[test]
    fn a_full_expiry_ends_idle_flows_behind_a_busier_one() {
        let mut t = FlowTable::<Seen>::new(FlowConfig::default(), 0);
        let mut log = vec![];
        // The least recently used flow is TCP (300 s timeout), the next UDP (60 s).
        collect(
            &mut t,
            &pkt(1, 40000, 2, 2575, 100, tcp(1, 0x18), b"x"),
            &mut log,
        );
        collect(&mut t, &pkt(3, 5000, 4, 53, 110, None, b"q"), &mut log);
        collect(&mut t, &pkt(5, 5001, 6, 53, 190, None, b"q"), &mut log);
        t.advance(Timestamp(200 * 1_000_000));
        let ended = |t: &mut FlowTable<Seen>, full: bool| {
            let mut out = vec![];
            let mut f = |info: &FlowInfo, _: &mut Seen, u: FlowUpdate<'_>| {
                if let FlowUpdate::Closed { reason, .. } = u {
                    out.push(format!("{} {}", info.client.port, reason.as_str()));
                }
            };
            if full {
                // One flow per call: the walk goes on where it stopped.
                while t.expire_anywhere_some(1, &mut f) {}
            } else {
                t.expire(&mut f);
            }
            out
        };
        // The LRU pass stops at the busy TCP flow; the full one looks past it.
        assert!(ended(&mut t, false).is_empty());
        assert_eq!(ended(&mut t, true), vec!["5000 timeout"]);
        assert_eq!((t.len(), t.stats().timed_out), (2, 1));
        // A second walk starts from the tail again.
        t.advance(Timestamp(251 * 1_000_000));
        assert_eq!(ended(&mut t, true), vec!["5001 timeout"]);
        t.advance(Timestamp(401 * 1_000_000));
        assert_eq!(ended(&mut t, true), vec!["40000 timeout"]);
        assert!(t.is_empty());
        assert!(log.is_empty(), "{log:?}");
    }

    #[test]
    fn udp_orientation_prefers_well_known_port() {
        let mut t = FlowTable::<Seen>::new(FlowConfig::default(), 0);
        let mut log = vec![];
        collect(&mut t, &pkt(2, 53, 1, 40000, 1, None, b"answer"), &mut log);
        t.flush(&mut |info, _, _| log.push(format!("{}", info.server.port)));
        assert_eq!(log, vec!["53"]);
    }
}
