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
    match wire::decode(f.link, f.data) {
        Ok(p) => match &p.net {
            Net::Ip(ip) => shard_of(&ip.src, &ip.dst, shards),
            _ => 0,
        },
        Err(_) => 0,
    }
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
                if give_back.send(b).is_err() {
                    break;
                }
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
}
