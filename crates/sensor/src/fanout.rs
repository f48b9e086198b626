//! One reader, many workers: the reader thread reads capture files, analyzes
//! the frames of its own shard (worker 0) and hands each thread worker
//! batches of the frames of its shard.
//!
//! A [`Batch`] holds no copy of a frame: it holds the capture reader's buffer
//! the frames lie in (reference counted, [`capture::SharedBuffer`]) and each
//! frame's offset, length, time and link type in it. Each worker owns a fixed
//! pool of batches ([`pool_size`]) that circulate between the reader (which fills
//! them) and the worker (which reads them, lets go of the buffer and sends
//! them back): no allocation per packet, and memory bounded by the pool (a
//! batch holds one buffer, so at most as many buffers as batches are held
//! besides the one being read into). The channels carry one message per
//! batch, not per packet.
//!
//! The reader also decides when idle flows expire ([`ExpiryClock`]): every
//! worker gets the same expiry marks at the same points of the capture, so
//! that flows end alike whatever the number of workers.

use capture::{Frame, LinkType, SharedBuffer};
use model::Timestamp;
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use wire::Net;

/// Frames after which a batch is handed over.
pub(crate) const BATCH_FRAMES: usize = 1024;
/// Batches per worker (in flight, being filled and being emptied together)
/// with `workers` workers: deep enough that a worker busy with a run of
/// costly frames (TLS handshakes) does not stall the reader, and with it the
/// other workers (on 2 cores, 4 distinct copies, 2 workers took 216 ms with 4
/// and 179 ms with 16, `docs/benchmarks.md`); and 64 batches at most over all
/// workers, since a batch holds one reader buffer (1 MiB): at most 16 MiB
/// per worker, within the 24 MiB per worker that
/// [`Config::with_memory_budget`](crate::Config::with_memory_budget) sets
/// aside for I/O buffers.
pub(crate) fn pool_size(workers: usize) -> usize {
    (MAX_BATCHES / workers.max(1)).clamp(4, 16)
}

/// Batches over all workers, past 4 per worker.
const MAX_BATCHES: usize = 64;

/// Where one frame sits in a [`Batch`]'s buffer, or (`len` [`EXPIRY`]) an
/// expiry mark at time `ts`.
#[derive(Debug, Clone, Copy)]
struct Slot {
    ts: Timestamp,
    /// The frame's number in the input, counted from 1 over all files.
    number: u64,
    link: LinkType,
    off: u32,
    len: u32,
    orig_len: u32,
}

/// The `len` of a slot that is an expiry mark, not a frame.
const EXPIRY: u32 = u32::MAX;

/// What a batch holds, in the order it was given.
#[derive(Debug)]
pub(crate) enum Item<'a> {
    /// A frame of the worker's shard, and its number in the input.
    Frame(Frame<'a>, u64),
    /// Idle flows expire here, at this capture time ([`ExpiryClock`]).
    Expire(Timestamp),
}

/// Frames passed between expiry passes at least.
pub(crate) const EXPIRE_EVERY_FRAMES: u32 = 4096;
/// Capture time passed between expiry passes at least, in microseconds.
const EXPIRE_EVERY_MICROS: i64 = 1_000_000;
/// Frames after which an expiry pass is due even if capture time stood still.
const EXPIRE_AT_LEAST_EVERY_FRAMES: u32 = 16 * EXPIRE_EVERY_FRAMES;

/// When the flows of a run of capture files expire: after at least
/// [`EXPIRE_EVERY_FRAMES`] frames and one second of capture time since the
/// previous pass (a pass looks at every flow: at most one per second of a
/// fast capture), at the newest frame time read so far. It counts every
/// frame read, whichever worker gets it, so one worker and many expire at the
/// same points of the capture at the same times; with a full pass
/// ([`flow::FlowTable::expire_anywhere_some`]) the same flows end.
/// When capture time stands still (a frame dated far in the future, then
/// older ones), a pass is still due every [`EXPIRE_AT_LEAST_EVERY_FRAMES`]
/// frames.
#[derive(Debug, Default)]
pub(crate) struct ExpiryClock {
    frames: u32,
    newest: Option<Timestamp>,
    last_pass: Option<Timestamp>,
}

impl ExpiryClock {
    /// Counts a frame of time `ts`; the time of the expiry pass due after it, if one is.
    #[inline]
    pub(crate) fn tick(&mut self, ts: Timestamp) -> Option<Timestamp> {
        self.frames = self.frames.saturating_add(1);
        let newest = match self.newest {
            Some(n) if n >= ts => n,
            _ => ts,
        };
        self.newest = Some(newest);
        if self.frames < EXPIRE_EVERY_FRAMES {
            return None;
        }
        if self.frames < EXPIRE_AT_LEAST_EVERY_FRAMES
            && self
                .last_pass
                .is_some_and(|l| newest.micros_since(l) < EXPIRE_EVERY_MICROS)
        {
            return None;
        }
        self.frames = 0;
        self.last_pass = Some(newest);
        Some(newest)
    }
}

/// Frames of one worker, all in one buffer of the reader, reused once emptied.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    buf: Option<SharedBuffer>,
    slots: Vec<Slot>,
}

impl Batch {
    /// An empty batch with room for a full batch.
    pub(crate) fn new() -> Batch {
        Batch {
            buf: None,
            slots: Vec::with_capacity(BATCH_FRAMES),
        }
    }

    /// Whether frames of `buf` can join the batch (it is empty or holds `buf`'s frames).
    #[inline]
    fn holds(&self, buf: &SharedBuffer) -> bool {
        match &self.buf {
            Some(b) => Arc::ptr_eq(b, buf),
            None => true,
        }
    }

    /// Adds `f`, frame `number` of the input, which lies in `buf` (the
    /// caller checked [`Batch::holds`]).
    #[inline]
    fn push(&mut self, f: &Frame<'_>, number: u64, buf: &SharedBuffer) {
        if self.buf.is_none() {
            self.buf = Some(Arc::clone(buf));
        }
        let off = capture::FileReader::offset_in(f.data, buf);
        self.slots.push(Slot {
            ts: f.ts,
            number,
            link: f.link,
            // Buffers are at most capture's 16 MiB; an offset that does not fit reads as empty.
            off: u32::try_from(off).unwrap_or(u32::MAX),
            len: f.data.len() as u32,
            orig_len: f.orig_len,
        });
    }

    /// Adds an expiry mark at time `now`.
    #[inline]
    fn push_expiry(&mut self, now: Timestamp) {
        self.slots.push(Slot {
            ts: now,
            number: 0,
            link: LinkType::Ethernet,
            off: 0,
            len: EXPIRY,
            orig_len: 0,
        });
    }

    /// Whether the batch should be handed over.
    #[inline]
    fn is_full(&self) -> bool {
        self.slots.len() >= BATCH_FRAMES
    }

    /// Whether the batch holds no frame.
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Frames and expiry marks in the batch, in the order they were pushed.
    pub(crate) fn items(&self) -> impl Iterator<Item = Item<'_>> {
        let buf: &[u8] = self.buf.as_deref().map(Vec::as_slice).unwrap_or_default();
        self.slots.iter().map(move |s| {
            if s.len == EXPIRY {
                return Item::Expire(s.ts);
            }
            let (off, len) = (s.off as usize, s.len as usize);
            Item::Frame(
                Frame {
                    ts: s.ts,
                    link: s.link,
                    data: buf.get(off..off + len).unwrap_or_default(),
                    orig_len: s.orig_len,
                },
                s.number,
            )
        })
    }

    /// Frames in the batch, in the order they were pushed.
    #[cfg(test)]
    fn frames(&self) -> impl Iterator<Item = Frame<'_>> {
        self.items().filter_map(|i| match i {
            Item::Frame(f, _) => Some(f),
            Item::Expire(_) => None,
        })
    }

    /// Empties the batch and lets go of its buffer, so the reader can reuse it.
    pub(crate) fn clear(&mut self) {
        self.buf = None;
        self.slots.clear();
    }
}

/// Direction-independent key of an address pair: the XOR of the two
/// addresses, each folded to 64 bits. Distinct pairs may share a key; they
/// then share a worker, which is all the key is for.
pub(crate) fn pair_key(a: &IpAddr, b: &IpAddr) -> u64 {
    fn fold(ip: &IpAddr) -> u64 {
        match ip {
            IpAddr::V4(v4) => u32::from(*v4) as u64,
            IpAddr::V6(v6) => {
                let x = u128::from(*v6);
                (x as u64) ^ ((x >> 64) as u64)
            }
        }
    }
    fold(a) ^ fold(b)
}

/// The pair key of a frame: that of its (innermost, decoded) IP addresses,
/// so both directions of a flow and all fragments of a datagram share one;
/// `None` for everything else (link-layer frames, undecodable frames).
#[inline]
pub(crate) fn pair_key_of_frame(f: &Frame<'_>) -> Option<u64> {
    if f.link == LinkType::Ethernet {
        if let Some(k) = ethernet_ipv4_key(f.data) {
            return Some(k);
        }
    }
    match wire::decode(f.link, f.data) {
        Ok(p) => match &p.net {
            Net::Ip(ip) => Some(pair_key(&ip.src, &ip.dst)),
            _ => None,
        },
        Err(_) => None,
    }
}

/// The pair key of the most common frame, Ethernet (with up to 3 VLAN tags)
/// carrying IPv4 that is no tunnel, read from the addresses alone: the same
/// key [`wire::decode`]'s addresses give. `None` for anything else (then
/// the frame is decoded). A frame that `wire::decode` would reject may get a
/// key here rather than none: it is then counted as malformed by that
/// worker, which changes no flow, and the same frame always gets the same
/// worker.
#[inline]
fn ethernet_ipv4_key(d: &[u8]) -> Option<u64> {
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
    let src = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
    let dst = u32::from_be_bytes([h[16], h[17], h[18], h[19]]);
    Some(u64::from(src ^ dst))
}

/// Address pairs remembered by a [`Dealer`]; pairs first seen after that
/// go by a fixed hash of their key.
pub(crate) const MAX_DEALT_PAIRS: usize = 1 << 18;

/// Deals frames to workers: every frame of an address pair to one worker,
/// chosen by the caller when the pair is first seen (`pick`: the reader
/// gives a new pair to a worker with little waiting, or keeps it) and
/// remembered. However the pairs are dealt, each lives in one worker, so the
/// output does not depend on the number of workers nor on the dealing.
/// Frames without an address pair go to worker 0. Memory is bounded by
/// [`MAX_DEALT_PAIRS`]: pairs first seen past it go by a fixed hash.
pub(crate) struct Dealer {
    shards: u32,
    dealt: hashbrown::HashMap<u64, u32, foldhash::fast::FixedState>,
    /// The last pair dealt and its worker (frames of one pair often come in runs).
    last: Option<(u64, u32)>,
}

impl Dealer {
    pub(crate) fn new(shards: u32) -> Dealer {
        Dealer {
            shards: shards.max(1),
            dealt: hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::default()),
            last: None,
        }
    }

    /// The worker of `f`; a pair first seen goes to the worker `pick` names.
    #[inline]
    pub(crate) fn deal(&mut self, f: &Frame<'_>, pick: impl FnOnce() -> u32) -> u32 {
        if self.shards <= 1 {
            return 0;
        }
        match pair_key_of_frame(f) {
            None => 0,
            Some(key) => match self.last {
                Some((k, s)) if k == key => s,
                _ => {
                    let s = match self.dealt.get(&key) {
                        Some(&s) => s,
                        None if self.dealt.len() < MAX_DEALT_PAIRS => {
                            let s = pick().min(self.shards - 1);
                            self.dealt.insert(key, s);
                            s
                        }
                        None => fixed_shard(key, self.shards),
                    };
                    self.last = Some((key, s));
                    s
                }
            },
        }
    }
}

/// A fixed worker for a pair key: a multiplicative hash whose top 32 bits
/// are scaled to `0..shards`.
#[inline]
fn fixed_shard(key: u64, shards: u32) -> u32 {
    let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    ((h * u64::from(shards)) >> 32) as u32
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
    /// A lane with `pool` batches and the worker's ends: where batches
    /// arrive, and where they go back.
    pub(crate) fn new(pool: usize) -> (Lane, Receiver<Batch>, SyncSender<Batch>) {
        let pool = pool.max(2);
        let (to_worker, from_reader) = std::sync::mpsc::sync_channel(pool);
        let (give_back, back) = std::sync::mpsc::sync_channel(pool);
        for _ in 1..pool {
            // The pool: pool - 1 waiting, one being filled.
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

    /// Adds `f`, frame `number` of the input, which lies in `buf`, handing
    /// the batch over when full or when `f` lies in another buffer than the
    /// batch's frames.
    #[inline]
    pub(crate) fn push(
        &mut self,
        f: &Frame<'_>,
        number: u64,
        buf: &SharedBuffer,
    ) -> Result<(), WorkerGone> {
        if !self.filling.holds(buf) {
            self.flush()?;
        }
        self.filling.push(f, number, buf);
        self.flush_if_full()
    }

    /// Adds an expiry mark at time `now` (after the frames pushed so far).
    pub(crate) fn push_expiry(&mut self, now: Timestamp) -> Result<(), WorkerGone> {
        self.filling.push_expiry(now);
        self.flush_if_full()
    }

    /// Hands the batch being filled over if it is full.
    #[inline]
    fn flush_if_full(&mut self) -> Result<(), WorkerGone> {
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

    /// A buffer holding `parts` one after the other, and each part's frame in it.
    fn in_buffer(parts: &[&[u8]]) -> SharedBuffer {
        Arc::new(parts.concat())
    }

    fn frames_of<'a>(buf: &'a SharedBuffer, lens: &[usize]) -> Vec<Frame<'a>> {
        let mut at = 0;
        lens.iter()
            .enumerate()
            .map(|(i, &n)| {
                let f = frame(i as i64, &buf[at..at + n]);
                at += n;
                f
            })
            .collect()
    }

    #[test]
    fn a_batch_gives_back_the_frames_it_was_given_in_order() {
        let parts: [&[u8]; 4] = [b"abc", b"", b"defgh", b"i"];
        let buf = in_buffer(&parts);
        let mut b = Batch::new();
        for (i, f) in frames_of(&buf, &[3, 0, 5, 1]).iter().enumerate() {
            assert!(b.holds(&buf));
            b.push(f, 10 + i as u64, &buf);
            if i == 1 {
                b.push_expiry(Timestamp(77));
            }
        }
        let got: Vec<_> = b
            .items()
            .map(|i| match i {
                Item::Frame(f, n) => (f.ts.0, f.data.to_vec(), f.orig_len, n),
                Item::Expire(now) => (now.0, b"expire".to_vec(), 0, 0),
            })
            .collect();
        let mut want: Vec<_> = parts
            .iter()
            .enumerate()
            .map(|(i, d)| (i as i64, d.to_vec(), d.len() as u32 + 1, 10 + i as u64))
            .collect();
        want.insert(2, (77, b"expire".to_vec(), 0, 0));
        assert_eq!(got, want);
        // The batch holds the buffer, not a copy; clearing lets go of it.
        assert_eq!(Arc::strong_count(&buf), 2);
        assert!(!b.holds(&in_buffer(&[b"x"])));
        b.clear();
        assert_eq!(Arc::strong_count(&buf), 1);
        assert!(b.is_empty());
        assert_eq!(b.frames().count(), 0);
    }

    #[test]
    fn expiry_passes_come_after_enough_frames_and_capture_time() {
        let second = 1_000_000;
        let mut clock = ExpiryClock::default();
        let passes = |clock: &mut ExpiryClock, frames: u32, ts: &dyn Fn(u32) -> i64| {
            (0..frames)
                .filter_map(|i| clock.tick(Timestamp(ts(i))).map(|t| (i, t.0)))
                .collect::<Vec<_>>()
        };
        // A frame every millisecond: a pass after 4096 frames, at the newest
        // time (not the frame's own).
        let got = passes(&mut clock, 5000, &|i| {
            if i == 10 {
                30 * second
            } else {
                i64::from(i) * 1000
            }
        });
        assert_eq!(got, vec![(EXPIRE_EVERY_FRAMES - 1, 30 * second)]);
        // 8192 frames over 0.8 s: no pass, less than a second has passed.
        assert!(passes(&mut clock, 8192, &|i| 30 * second + i64::from(i) * 100).is_empty());
        // The frames are there: the first frame a second on brings the pass.
        let got = passes(&mut clock, 4096, &|i| 31 * second + i64::from(i) * 1000);
        assert_eq!(got, vec![(0, 31 * second)]);
        // Time standing still (older frames after a frame dated far ahead):
        // still a pass every 16 batches of frames.
        let mut clock = ExpiryClock::default();
        let got = passes(&mut clock, 3 * EXPIRE_AT_LEAST_EVERY_FRAMES, &|i| {
            if i == 0 {
                1 << 60
            } else {
                i64::from(i)
            }
        });
        let at: Vec<u32> = got.iter().map(|p| p.0).collect();
        assert_eq!(
            at,
            vec![
                EXPIRE_EVERY_FRAMES - 1,
                EXPIRE_EVERY_FRAMES - 1 + EXPIRE_AT_LEAST_EVERY_FRAMES,
                EXPIRE_EVERY_FRAMES - 1 + 2 * EXPIRE_AT_LEAST_EVERY_FRAMES
            ]
        );
        assert!(got.iter().all(|p| p.1 == 1 << 60));
    }

    #[test]
    fn a_batch_is_full_by_frames() {
        let buf = in_buffer(&[b"x"]);
        let f = frames_of(&buf, &[1]).remove(0);
        let mut b = Batch::new();
        for _ in 0..BATCH_FRAMES - 1 {
            b.push(&f, 1, &buf);
        }
        assert!(!b.is_full());
        b.push(&f, 1, &buf);
        assert!(b.is_full());
    }

    #[test]
    fn batches_circulate_between_reader_and_worker() {
        let (mut lane, from_reader, give_back) = Lane::new(4);
        let worker = std::thread::spawn(move || {
            let (mut n, mut bytes) = (0usize, Vec::new());
            for mut b in from_reader {
                for f in b.frames() {
                    n += 1;
                    bytes.extend_from_slice(f.data);
                }
                // Once the reader is done, batches still queued are processed
                // and dropped (as `analyze_files`' workers do).
                b.clear();
                let _ = give_back.send(b);
            }
            (n, bytes)
        });
        // Frames from several buffers, as a reader switching buffers hands them out.
        let mut want = Vec::new();
        let mut pushed = 0;
        for round in 0..5u8 {
            let buf = in_buffer(&[&[round; 4096]]);
            for f in frames_of(&buf, &[7; 500]) {
                lane.push(&f, 1, &buf).unwrap();
                want.extend_from_slice(f.data);
                pushed += 1;
            }
        }
        lane.flush().unwrap();
        drop(lane);
        let (n, bytes) = worker.join().unwrap();
        assert_eq!((n, bytes), (pushed, want));
    }

    #[test]
    fn pools_stay_within_the_batch_budget() {
        assert_eq!(pool_size(1), 16);
        assert_eq!(pool_size(2), 16);
        assert_eq!(pool_size(8), 8);
        assert_eq!(pool_size(64), 4);
        for w in 1..100 {
            assert!(pool_size(w) * w <= MAX_BATCHES.max(4 * w));
        }
    }

    #[test]
    fn a_gone_worker_is_an_error_not_a_hang() {
        let (mut lane, from_reader, give_back) = Lane::new(4);
        drop((from_reader, give_back));
        let buf = in_buffer(&[b"x"]);
        let f = frames_of(&buf, &[1]).remove(0);
        let mut r = Ok(());
        for _ in 0..4 * BATCH_FRAMES + 1 {
            r = lane.push(&f, 1, &buf);
            if r.is_err() {
                break;
            }
        }
        assert!(r.is_err());
    }

    #[test]
    fn the_key_of_an_address_pair_does_not_depend_on_direction() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "192.168.7.9".parse().unwrap();
        assert_eq!(pair_key(&a, &b), pair_key(&b, &a));
        let (c, d): (IpAddr, IpAddr) = ("fe80::1".parse().unwrap(), "ff02::fb".parse().unwrap());
        assert_eq!(pair_key(&c, &d), pair_key(&d, &c));
        // Non-IP bytes have none (they go to worker 0).
        assert_eq!(pair_key_of_frame(&frame(0, b"short")), None);
        for n in 1..8 {
            assert!(fixed_shard(pair_key(&a, &b), n) < n);
        }
    }

    #[test]
    fn the_dealer_keeps_a_pair_on_one_worker_and_asks_only_for_new_pairs() {
        let mut dealer = Dealer::new(3);
        let mut asked = 0;
        let mut next = 0u32;
        let mut deal = |dealer: &mut Dealer, f: &[u8]| {
            dealer.deal(&frame(0, f), || {
                asked += 1;
                next += 1;
                next % 4 // 3 names no worker: it is held to the last one
            })
        };
        let a = ipv4(0, 6, [10, 0, 0, 1], [10, 0, 0, 2], 443);
        let a_back = ipv4(0, 6, [10, 0, 0, 2], [10, 0, 0, 1], 443);
        let b = ipv4(0, 17, [10, 1, 0, 1], [10, 2, 0, 1], 53);
        let c = ipv4(0, 17, [10, 1, 0, 2], [10, 2, 0, 1], 53);
        let d = ipv4(0, 17, [10, 1, 0, 3], [10, 2, 0, 1], 53);
        let got: Vec<u32> = [&a, &b, &a_back, &c, &d, &b, &a, &d]
            .iter()
            .map(|f| deal(&mut dealer, f))
            .collect();
        assert_eq!(got, vec![1, 2, 1, 2, 0, 2, 1, 0]);
        // Frames without an address pair go to worker 0; one worker takes all.
        assert_eq!(deal(&mut dealer, b"short"), 0);
        assert_eq!(asked, 4);
        assert_eq!(Dealer::new(1).deal(&frame(0, &a), || 1), 0);
    }

    #[test]
    fn past_its_memory_the_dealer_still_keeps_each_pair_on_one_worker() {
        let mut dealer = Dealer::new(3);
        dealer
            .dealt
            .extend((0..MAX_DEALT_PAIRS as u64).map(|k| (u64::MAX - k, 0)));
        for i in 0..30u8 {
            let f = ipv4(0, 6, [10, 9, 0, i], [10, 8, 0, 1], 80);
            let w = dealer.deal(&frame(0, &f), || 0);
            assert_eq!(w, fixed_shard(pair_key_of_frame(&frame(0, &f)).unwrap(), 3));
            assert_eq!(dealer.deal(&frame(0, &f), || 0), w);
        }
        assert_eq!(dealer.dealt.len(), MAX_DEALT_PAIRS);
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
    fn the_quick_key_is_the_decoded_key() {
        let (a, b) = ([10, 1, 2, 3], [192, 168, 40, 9]);
        for tags in 0..=3 {
            for (proto, dport) in [(6, 80), (17, 53), (17, 4789), (47, 0), (1, 0)] {
                let data = ipv4(tags, proto, a, b, dport);
                let f = frame(0, &data);
                let quick = ethernet_ipv4_key(&data);
                if (proto == 17 && dport == 4789) || !matches!(proto, 6 | 17) {
                    assert_eq!(quick, None, "{tags} tags, proto {proto}");
                }
                let decoded = match wire::decode(f.link, f.data).map(|p| p.net) {
                    Ok(Net::Ip(ip)) => pair_key(&ip.src, &ip.dst),
                    other => panic!("{tags} tags, proto {proto}: {other:?}"),
                };
                assert_eq!(
                    pair_key_of_frame(&f),
                    Some(decoded),
                    "{tags} tags, proto {proto}"
                );
                if let Some(q) = quick {
                    assert_eq!(q, decoded);
                }
                // Both directions, one key.
                let back = ipv4(tags, proto, b, a, dport);
                assert_eq!(pair_key_of_frame(&frame(0, &back)), Some(decoded));
            }
        }
    }
}
