//! Bounded IPv4/IPv6 fragment reassembly.
//!
//! Datagrams are keyed by (source, destination, identification, and for IPv4
//! the protocol) as in RFC 791 / RFC 8200. Each pending datagram owns one
//! buffer that grows to the highest fragment end seen, plus a short sorted list
//! of covered byte ranges. When the last fragment has arrived and the ranges
//! cover `0..total`, the datagram is complete and its bytes (starting at the
//! L4 header) are returned.
//!
//! **Bounds**: at most `max_datagrams` pending datagrams and `max_bytes`
//! buffered bytes; when either would be exceeded, the oldest pending datagram
//! is dropped (`dropped_limit`). A datagram may not exceed 65,535 bytes of
//! fragment data nor 64 disjoint ranges (`invalid`). Overlapping fragments are
//! counted (`overlaps`); the bytes that arrived first win. Incomplete datagrams
//! older than 30 s are dropped by [`Defragmenter::expire`] (`dropped_timeout`).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use model::Timestamp;

use crate::IpPacket;

/// Incomplete datagrams older than this are dropped.
const TIMEOUT_US: i64 = 30_000_000;
/// Largest reassembled datagram (fragment data bytes).
const MAX_DATAGRAM: u32 = 65_535;
/// Most disjoint pieces a pending datagram may consist of.
const MAX_RANGES: usize = 64;
/// `expire` does a full scan at most this often (packet time).
const EXPIRE_EVERY_US: i64 = 1_000_000;

/// Reassembly counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Datagrams reassembled.
    pub completed: u64,
    /// Incomplete datagrams dropped after the timeout.
    pub dropped_timeout: u64,
    /// Incomplete datagrams dropped to stay within `max_datagrams` / `max_bytes`.
    pub dropped_limit: u64,
    /// Fragments that overlapped bytes already received.
    pub overlaps: u64,
    /// Datagrams dropped as impossible (too big, conflicting ends, too many pieces).
    pub invalid: u64,
    /// Datagrams pending right now.
    pub pending: u64,
    /// Bytes buffered right now.
    pub pending_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    /// IPv4 protocol; 0 for IPv6 (whose key has no protocol).
    proto: u8,
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    first_seen: Timestamp,
    data: Vec<u8>,
    /// Sorted, disjoint, non-adjacent covered ranges.
    ranges: Vec<(u32, u32)>,
    /// Datagram length, once the last fragment has arrived.
    total: Option<u32>,
    /// Bytes of IPv6 extension headers between the fragment header and L4 (from the first fragment).
    l4_skip: usize,
    /// Upper-layer protocol (from the first fragment, else any).
    proto: u8,
}

/// Bounded IPv4/IPv6 fragment reassembly. See the module docs.
#[derive(Debug)]
pub struct Defragmenter {
    max_datagrams: usize,
    max_bytes: usize,
    map: HashMap<Key, Entry>,
    /// Insertion order for eviction: (key, seq); stale pairs are skipped.
    order: VecDeque<(Key, u64)>,
    seq: u64,
    bytes: usize,
    out: Vec<u8>,
    out_skip: usize,
    out_proto: u8,
    last_expire: Option<Timestamp>,
    stats: DefragStats,
}

impl Defragmenter {
    /// Creates a reassembler holding at most `max_datagrams` incomplete
    /// datagrams and `max_bytes` buffered bytes.
    pub fn new(max_datagrams: usize, max_bytes: usize) -> Self {
        Defragmenter {
            max_datagrams: max_datagrams.max(1),
            max_bytes,
            map: HashMap::new(),
            order: VecDeque::new(),
            seq: 0,
            bytes: 0,
            out: Vec::new(),
            out_skip: 0,
            out_proto: 0,
            last_expire: None,
            stats: DefragStats::default(),
        }
    }

    /// Feeds one fragment (`pkt.frag.is_some()`; other packets are ignored).
    /// Returns the complete L4 payload (starting at the L4 header) when the
    /// last piece arrives; decode it with [`crate::decode_l4`] and `pkt.proto`
    /// (or use [`Defragmenter::push_with_proto`], which is exact for IPv6
    /// with extension headers after the fragment header).
    pub fn push(&mut self, ts: Timestamp, pkt: &IpPacket<'_>) -> Option<&[u8]> {
        self.push_with_proto(ts, pkt).map(|(_, bytes)| bytes)
    }

    /// Like [`Defragmenter::push`], also returning the upper-layer protocol of
    /// the completed datagram (taken from its first fragment).
    pub fn push_with_proto(&mut self, ts: Timestamp, pkt: &IpPacket<'_>) -> Option<(u8, &[u8])> {
        let frag = pkt.frag?;
        let data = pkt.frag_data;
        let start = frag.offset;
        let end = start.saturating_add(u32::try_from(data.len()).unwrap_or(u32::MAX));
        let key = Key {
            src: pkt.src,
            dst: pkt.dst,
            id: frag.id,
            proto: if pkt.src.is_ipv4() { pkt.proto } else { 0 },
        };
        if end > MAX_DATAGRAM {
            self.stats.invalid += 1;
            self.remove(&key);
            return None;
        }
        if !self.map.contains_key(&key) {
            while self.map.len() >= self.max_datagrams {
                if !self.evict_oldest(None) {
                    break;
                }
            }
            self.seq += 1;
            self.order.push_back((key, self.seq));
            self.map.insert(
                key,
                Entry {
                    seq: self.seq,
                    first_seen: ts,
                    data: Vec::new(),
                    ranges: Vec::new(),
                    total: None,
                    l4_skip: 0,
                    proto: pkt.proto,
                },
            );
            self.compact_order();
        }
        // Byte budget for growing this datagram's buffer.
        let have = self.map.get(&key).map_or(0, |e| e.data.len());
        let grow = (end as usize).saturating_sub(have);
        while grow > 0 && self.bytes + grow > self.max_bytes {
            if !self.evict_oldest(Some(&key)) {
                break;
            }
        }
        if grow > 0 && self.bytes + grow > self.max_bytes {
            self.stats.dropped_limit += 1;
            self.remove(&key);
            return None;
        }
        let entry = self.map.get_mut(&key)?;
        if grow > 0 {
            entry.data.resize(end as usize, 0);
            self.bytes += grow;
        }
        if start == 0 {
            entry.l4_skip = data.len().saturating_sub(pkt.payload.len());
            entry.proto = pkt.proto;
        }
        let mut bad = false;
        if !frag.more {
            if entry.total.is_some_and(|t| t != end)
                || entry.ranges.last().is_some_and(|r| r.1 > end)
            {
                bad = true;
            }
            entry.total = Some(end);
        } else if entry.total.is_some_and(|t| end > t) {
            bad = true;
        }
        if bad {
            self.stats.invalid += 1;
            self.remove(&key);
            return None;
        }
        // Copy the parts not yet covered (first arrival wins).
        let (s, e) = (start, end);
        let mut cursor = s;
        let mut overlapped = false;
        for &(rs, re) in &entry.ranges {
            if re <= cursor || rs >= e {
                continue;
            }
            overlapped = true;
            if rs > cursor {
                copy(&mut entry.data, data, s, cursor, rs);
            }
            cursor = cursor.max(re);
            if cursor >= e {
                break;
            }
        }
        if cursor < e {
            copy(&mut entry.data, data, s, cursor, e);
        }
        if overlapped {
            self.stats.overlaps += 1;
        }
        if s < e && !insert_range(&mut entry.ranges, s, e) {
            self.stats.invalid += 1;
            self.remove(&key);
            return None;
        }
        let complete =
            matches!((entry.total, entry.ranges.as_slice()), (Some(t), [(0, re)]) if *re == t);
        if !complete {
            return None;
        }
        let entry = self.map.remove(&key)?;
        self.bytes = self.bytes.saturating_sub(entry.data.len());
        self.stats.completed += 1;
        self.out = entry.data;
        self.out_skip = entry.l4_skip.min(self.out.len());
        self.out_proto = entry.proto;
        Some((self.out_proto, self.out.get(self.out_skip..)?))
    }

    /// Upper-layer protocol of the datagram last returned by `push` (from its
    /// first fragment; differs from a later fragment's `proto` only for IPv6
    /// with extension headers after the fragment header).
    pub fn completed_proto(&self) -> u8 {
        self.out_proto
    }

    /// Drops incomplete datagrams first seen more than 30 s before `now` (or
    /// more than 30 s after it: capture clocks jump). Cheap to call per packet.
    pub fn expire(&mut self, now: Timestamp) {
        if let Some(last) = self.last_expire {
            if now.0 >= last.0 && now.0 - last.0 < EXPIRE_EVERY_US {
                return;
            }
        }
        self.last_expire = Some(now);
        let before = self.map.len();
        let bytes = &mut self.bytes;
        self.map.retain(|_, e| {
            let keep = now.0.saturating_sub(e.first_seen.0).saturating_abs() <= TIMEOUT_US;
            if !keep {
                *bytes = bytes.saturating_sub(e.data.len());
            }
            keep
        });
        self.stats.dropped_timeout += (before - self.map.len()) as u64;
        self.compact_order();
    }

    /// Counters.
    pub fn stats(&self) -> DefragStats {
        DefragStats {
            pending: self.map.len() as u64,
            pending_bytes: self.bytes as u64,
            ..self.stats
        }
    }

    #[cfg(test)]
    pub(crate) fn order_len(&self) -> usize {
        self.order.len()
    }

    fn remove(&mut self, key: &Key) {
        if let Some(e) = self.map.remove(key) {
            self.bytes = self.bytes.saturating_sub(e.data.len());
        }
    }

    /// Drops the oldest pending datagram other than `keep`. False if none.
    fn evict_oldest(&mut self, keep: Option<&Key>) -> bool {
        let mut kept = None;
        let mut evicted = false;
        while let Some((k, seq)) = self.order.pop_front() {
            let live = self.map.get(&k).is_some_and(|e| e.seq == seq);
            if !live {
                continue;
            }
            if Some(&k) == keep {
                kept = Some((k, seq));
                continue;
            }
            self.remove(&k);
            self.stats.dropped_limit += 1;
            evicted = true;
            break;
        }
        if let Some(k) = kept {
            self.order.push_front(k);
        }
        evicted
    }

    /// Keeps the order queue from filling with stale entries.
    fn compact_order(&mut self) {
        if self.order.len() > 2 * self.map.len() + 64 {
            let map = &self.map;
            self.order
                .retain(|(k, seq)| map.get(k).is_some_and(|e| e.seq == *seq));
        }
    }
}

/// Copies datagram bytes `from..to` out of a fragment that starts at `frag_start`.
fn copy(dst: &mut [u8], frag: &[u8], frag_start: u32, from: u32, to: u32) {
    let (a, b) = ((from - frag_start) as usize, (to - frag_start) as usize);
    if let (Some(d), Some(s)) = (dst.get_mut(from as usize..to as usize), frag.get(a..b)) {
        d.copy_from_slice(s);
    }
}

/// Adds `s..e` to sorted disjoint ranges, merging overlaps and neighbours.
/// False if that would exceed `MAX_RANGES`.
fn insert_range(ranges: &mut Vec<(u32, u32)>, s: u32, e: u32) -> bool {
    let first = ranges.partition_point(|r| r.1 < s);
    let last = ranges.partition_point(|r| r.0 <= e);
    if first >= last {
        if ranges.len() >= MAX_RANGES {
            return false;
        }
        ranges.insert(first, (s, e));
    } else {
        let ns = s.min(ranges[first].0);
        let ne = e.max(ranges[last - 1].1);
        ranges.drain(first + 1..last);
        ranges[first] = (ns, ne);
    }
    true
}
