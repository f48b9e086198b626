//! One reader, many workers: the reader thread reads capture files and hands
//! each worker batches of the frames of its shard.
//!
//! A [`Batch`] holds copies of frames in one byte buffer (plus per-frame
//! offsets, times and link types). Each worker owns a fixed pool of
//! [`POOL`] batches that circulate between the reader (which fills them) and
//! the worker (which empties them and sends them back): no allocation per
//! packet once the buffers have grown, and memory bounded by the pool. The
//! channels carry one message per batch, not per packet.

use capture::{Frame, LinkType};
use model::Timestamp;
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, SyncSender};
use wire::Net;

/// Frame bytes after which a batch is handed over.
pub(crate) const BATCH_BYTES: usize = 256 * 1024;
/// Frames after which a batch is handed over.
pub(crate) const BATCH_FRAMES: usize = 1024;
/// Batches per worker (in flight, being filled and being emptied together).
pub(crate) const POOL: usize = 4;

/// Where one frame sits in a [`Batch`].
#[derive(Debug, Clone, Copy)]
struct Slot {
    ts: Timestamp,
    link: LinkType,
    /// End offset of the frame's bytes in [`Batch::data`] (it starts where the previous one ends).
    end: usize,
    orig_len: u32,
}

/// Copies of frames for one worker, reused once emptied.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    data: Vec<u8>,
    slots: Vec<Slot>,
}

impl Batch {
    /// An empty batch with room for a full batch.
    pub(crate) fn new() -> Batch {
        Batch {
            data: Vec::with_capacity(BATCH_BYTES + 2048),
            slots: Vec::with_capacity(BATCH_FRAMES),
        }
    }

    /// Appends a copy of `f`.
    #[inline]
    pub(crate) fn push(&mut self, f: &Frame<'_>) {
        self.data.extend_from_slice(f.data);
        self.slots.push(Slot {
            ts: f.ts,
            link: f.link,
            end: self.data.len(),
            orig_len: f.orig_len,
        });
    }

    /// Whether the batch should be handed over.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.data.len() >= BATCH_BYTES || self.slots.len() >= BATCH_FRAMES
    }

    /// Whether the batch holds no frame.
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Frames in the batch, in the order they were pushed.
    pub(crate) fn frames(&self) -> impl Iterator<Item = Frame<'_>> {
        let mut start = 0;
        self.slots.iter().map(move |s| {
            let data = self.data.get(start..s.end).unwrap_or_default();
            start = s.end;
            Frame {
                ts: s.ts,
                link: s.link,
                data,
                orig_len: s.orig_len,
            }
        })
    }

    /// Empties the batch, keeping its buffers. A batch that grew past its
    /// usual size (a run of maximum-size frames) gives the excess back.
    pub(crate) fn clear(&mut self) {
        self.data.clear();
        self.slots.clear();
        if self.data.capacity() > 2 * (BATCH_BYTES + capture::MAX_CAPLEN as usize) {
            self.data.shrink_to(BATCH_BYTES + 2048);
        }
    }
}

/// Direction-independent shard of an address pair.
pub(crate) fn shard_of(a: &IpAddr, b: &IpAddr, shards: u32) -> u32 {
    fn fold(ip: &IpAddr) -> u64 {
        match ip {
            IpAddr::V4(v4) => u32::from(*v4) as u64,
            IpAddr::V6(v6) => {
                let x = u128::from(*v6);
                (x as u64) ^ ((x >> 64) as u64)
            }
        }
    }
    let h = (fold(a) ^ fold(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((h >> 32) % shards as u64) as u32
}

/// The shard of a frame: that of its (innermost, decoded) IP addresses, so
/// both directions of a flow and all fragments of a datagram share one;
/// shard 0 for everything else (link-layer frames, undecodable frames).
#[inline]
pub(crate) fn shard_of_frame(f: &Frame<'_>, shards: u32) -> u32 {
    if shards <= 1 {
        return 0;
    }
    if f.link == LinkType::Ethernet {
        if let Some(s) = ethernet_ipv4_shard(f.data, shards) {
            return s;
        }
    }
    match wire::decode(f.link, f.data) {
        Ok(p) => match &p.net {
            Net::Ip(ip) => shard_of(&ip.src, &ip.dst, shards),
            _ => 0,
        },
        Err(_) => 0,
    }
}

/// The shard of the most common frame, Ethernet (with up to 3 VLAN tags)
/// carrying IPv4 that is no tunnel, read from the addresses alone: the same
/// shard [`wire::decode`]'s addresses give. `None` for anything else (then
/// the frame is decoded). A frame that `wire::decode` would reject may get a
/// shard here rather than shard 0: it is then counted as malformed by that
/// worker, which changes no flow, and the same frame always gets the same
/// shard.
#[inline]
fn ethernet_ipv4_shard(d: &[u8], shards: u32) -> Option<u32> {
    let eth = d.first_chunk::<14>()?;
    let mut et = u16::from_be_bytes([eth[12], eth[13]]);
    let mut p = d.get(14..)?;
    for _ in 0..3 {
        if !matches!(et, 0x8100 | 0x88a8 | 0x9100 | 0x9200) {
            break;
        }
        let tag = p.first_chunk::<4>()?;
        et = u16::from_be_bytes([tag[2], tag[3]]);
        p = p.get(4..)?;
    }
    if et != 0x0800 {
        return None;
    }
    let h = p.first_chunk::<20>()?;
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if h[0] >> 4 != 4 || ihl < 20 {
        return None;
    }
    match h[9] {
        6 => {}
        17 => {
            // UDP to the VXLAN port (and any UDP whose ports are not there) is decoded.
            let udp = p.get(ihl..)?.first_chunk::<4>()?;
            if u16::from_be_bytes([udp[2], udp[3]]) == 4789 {
                return None;
            }
        }
        _ => return None,
    }
    let src = std::net::Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = std::net::Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    Some(shard_of(&IpAddr::V4(src), &IpAddr::V4(dst), shards))
}

/// The reader's end of one worker: the batch being filled, where full ones
/// go, and where emptied ones come back from.
pub(crate) struct Lane {
    filling: Batch,
    to_worker: SyncSender<Batch>,
    back: Receiver<Batch>,
}

/// The worker has gone away (its thread ended early: a bug).
#[derive(Debug)]
pub(crate) struct WorkerGone;

impl Lane {
    /// A lane and the worker's ends: where batches arrive, and where they go back.
    pub(crate) fn new() -> (Lane, Receiver<Batch>, SyncSender<Batch>) {
        let (to_worker, from_reader) = std::sync::mpsc::sync_channel(POOL);
        let (give_back, back) = std::sync::mpsc::sync_channel(POOL);
        for _ in 1..POOL {
            // The pool: POOL - 1 waiting, one being filled.
            let _ = give_back.send(Batch::new());
        }
        (
            Lane {
                filling: Batch::new(),
                to_worker,
                back,
            },
            from_reader,
            give_back,
        )
    }

    /// Adds a copy of `f`, handing the batch over when full.
    #[inline]
    pub(crate) fn push(&mut self, f: &Frame<'_>) -> Result<(), WorkerGone> {
        self.filling.push(f);
        if self.filling.is_full() {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the batch being filled over (if it holds anything) and takes an
    /// emptied one back, waiting for the worker if none is free.
    pub(crate) fn flush(&mut self) -> Result<(), WorkerGone> {
        if self.filling.is_empty() {
            return Ok(());
        }
        let mut next = self.back.recv().map_err(|_| WorkerGone)?;
        next.clear();
        let full = std::mem::replace(&mut self.filling, next);
        self.to_worker.send(full).map_err(|_| WorkerGone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ts: i64, data: &[u8]) -> Frame<'_> {
        Frame {
            ts: Timestamp(ts),
            link: LinkType::Ethernet,
            data,
            orig_len: data.len() as u32 + 1,
        }
    }

    #[test]
    fn a_batch_gives_back_the_frames_it_was_given_in_order() {
        let mut b = Batch::new();
        let frames: [&[u8]; 4] = [b"abc", b"", b"defgh", b"i"];
        for (i, d) in frames.iter().enumerate() {
            b.push(&frame(i as i64, d));
        }
        let got: Vec<_> = b
            .frames()
            .map(|f| (f.ts.0, f.data.to_vec(), f.orig_len))
            .collect();
        let want: Vec<_> = frames
            .iter()
            .enumerate()
            .map(|(i, d)| (i as i64, d.to_vec(), d.len() as u32 + 1))
            .collect();
        assert_eq!(got, want);
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.frames().count(), 0);
    }

    #[test]
    fn a_batch_is_full_by_frames_or_by_bytes() {
        let mut b = Batch::new();
        for _ in 0..BATCH_FRAMES - 1 {
            b.push(&frame(0, b"x"));
        }
        assert!(!b.is_full());
        b.push(&frame(0, b"x"));
        assert!(b.is_full());
        let mut b = Batch::new();
        let big = vec![0u8; BATCH_BYTES];
        b.push(&frame(0, &big));
        assert!(b.is_full());
    }

    #[test]
    fn batches_circulate_between_reader_and_worker() {
        let (mut lane, from_reader, give_back) = Lane::new();
        let worker = std::thread::spawn(move || {
            let mut n = 0usize;
            for b in from_reader {
                n += b.frames().count();
                // Once the reader is done, batches still queued are processed
                // and dropped (as `analyze_files`' workers do).
                let _ = give_back.send(b);
            }
            n
        });
        for i in 0..10 * BATCH_FRAMES + 3 {
            lane.push(&frame(i as i64, b"payload")).unwrap();
        }
        lane.flush().unwrap();
        drop(lane);
        assert_eq!(worker.join().unwrap(), 10 * BATCH_FRAMES + 3);
    }

    #[test]
    fn a_gone_worker_is_an_error_not_a_hang() {
        let (mut lane, from_reader, give_back) = Lane::new();
        drop((from_reader, give_back));
        let mut r = Ok(());
        for _ in 0..POOL * BATCH_FRAMES + 1 {
            r = lane.push(&frame(0, b"x"));
            if r.is_err() {
                break;
            }
        }
        assert!(r.is_err());
    }

    #[test]
    fn the_shard_of_an_address_pair_does_not_depend_on_direction() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "192.168.7.9".parse().unwrap();
        for n in 1..8 {
            assert_eq!(shard_of(&a, &b, n), shard_of(&b, &a, n));
            assert!(shard_of(&a, &b, n) < n);
        }
        // Non-IP bytes go to shard 0.
        assert_eq!(shard_of_frame(&frame(0, b"short"), 4), 0);
    }

    /// An Ethernet frame with `tags` VLAN tags carrying IPv4 protocol `proto`
    /// from `src` to `dst`, with 8 bytes of ports and more (UDP to `dport`).
    fn ipv4(tags: usize, proto: u8, src: [u8; 4], dst: [u8; 4], dport: u16) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        for _ in 0..tags {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x07]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&48u16.to_be_bytes());
        ip[8] = 64;
        ip[9] = proto;
        ip[12..16].copy_from_slice(&src);
        ip[16..20].copy_from_slice(&dst);
        f.extend_from_slice(&ip);
        let mut l4 = [0u8; 28];
        l4[0..2].copy_from_slice(&40000u16.to_be_bytes());
        l4[2..4].copy_from_slice(&dport.to_be_bytes());
        if proto == 17 {
            l4[4..6].copy_from_slice(&28u16.to_be_bytes());
        } else {
            l4[12] = 0x50;
            l4[13] = 0x18;
        }
        f.extend_from_slice(&l4);
        f
    }

    #[test]
    fn the_quick_shard_is_the_decoded_shard() {
        let (a, b) = ([10, 1, 2, 3], [192, 168, 40, 9]);
        for tags in 0..=3 {
            for (proto, dport) in [(6, 80), (17, 53), (17, 4789), (47, 0), (1, 0)] {
                let data = ipv4(tags, proto, a, b, dport);
                let f = frame(0, &data);
                let quick = ethernet_ipv4_shard(&data, 7);
                if (proto == 17 && dport == 4789) || !matches!(proto, 6 | 17) {
                    assert_eq!(quick, None, "{tags} tags, proto {proto}");
                }
                let decoded = match wire::decode(f.link, f.data).map(|p| p.net) {
                    Ok(Net::Ip(ip)) => shard_of(&ip.src, &ip.dst, 7),
                    other => panic!("{tags} tags, proto {proto}: {other:?}"),
                };
                assert_eq!(shard_of_frame(&f, 7), decoded, "{tags} tags, proto {proto}");
                if let Some(q) = quick {
                    assert_eq!(q, decoded);
                }
                // Both directions, one shard.
                let back = ipv4(tags, proto, b, a, dport);
                assert_eq!(shard_of_frame(&frame(0, &back), 7), decoded);
            }
        }
    }
}
