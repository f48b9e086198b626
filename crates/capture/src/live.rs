//! Live capture from a network interface (feature `live`): [`Live`] picks
//! the backend — AF_PACKET sockets in a fanout group, one per worker, on
//! Linux (`afpacket`), else one libpcap [`LiveCapture`] — and hands out one
//! [`LiveWorker`] per worker.
//!
//! The libpcap backend:
//! Opens the interface in promiscuous and immediate mode with a 65,535-byte
//! snap length, a 32 MiB buffer and an optional BPF filter. Frames are copied
//! out of libpcap's ring into one reusable buffer (live rates are far below
//! file rates, and the copy keeps the borrow simple).
//!
//! `next_frame` blocks until a packet arrives (libpcap on Linux keeps polling
//! through its read timeout), so to end a capture on a quiet interface use
//! [`LiveCapture::stop_after`] or a [`StopHandle`] from
//! [`LiveCapture::stop_handle`]: it sets a flag and calls `pcap_breakloop`,
//! which wakes a blocked read on libpcap >= 1.10.
//!
//! A long-running consumer that must act on a quiet link (flush alerts every
//! few seconds) uses [`LiveCapture::poll`] instead: it also returns
//! [`Polled::Idle`] when the read timeout passes or a [`Waker`] interrupts
//! the read, without ending the stream.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use model::Timestamp;

use crate::{Error, Frame, LinkType, Source};

/// libpcap read timeout (where the platform honours it in immediate mode), so
/// the stop flag is also checked regularly.
const TIMEOUT_MS: i32 = 200;
/// Snap length.
const SNAPLEN: i32 = 65_535;
/// libpcap's buffer for packets not read yet, bytes. With its default (about
/// 2 MB, in immediate mode) a live monitor beside four analyses on two cores
/// dropped hundreds of packets of a port scan and a telnet login while
/// waiting for the CPU; 32 MiB rides out such bursts.
const BUFFER_BYTES: i32 = 32 << 20;

/// Capture counters kept by the kernel (through libpcap or the AF_PACKET
/// socket), since the capture was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Packets that reached the capture (including the dropped ones).
    pub received: u64,
    /// Packets dropped because the buffer or ring was full (we were too slow).
    pub dropped: u64,
    /// Packets dropped by the interface or driver (libpcap only).
    pub if_dropped: u64,
    /// AF_PACKET: times the ring was frozen (full) when a packet arrived.
    pub freeze_q: u64,
    /// AF_PACKET: ring blocks whose headers made no sense (the rest of the
    /// block was skipped; a kernel or memory fault, never seen in practice).
    pub corrupt_blocks: u64,
}

impl LiveStats {
    /// Sum of two workers' counters.
    pub fn add(&mut self, o: LiveStats) {
        self.received += o.received;
        self.dropped += o.dropped;
        self.if_dropped += o.if_dropped;
        self.freeze_q += o.freeze_q;
        self.corrupt_blocks += o.corrupt_blocks;
    }
}

/// What wakes one worker's blocked read.
enum Wake {
    /// `pcap_breakloop`.
    Pcap(pcap::BreakLoop),
    /// The AF_PACKET socket's eventfd.
    #[cfg(target_os = "linux")]
    Event(Arc<crate::afpacket::EventFd>),
}

impl Wake {
    fn wake(&self) {
        match self {
            Wake::Pcap(b) => b.breakloop(),
            #[cfg(target_os = "linux")]
            Wake::Event(e) => e.wake(),
        }
    }
}

/// A live capture on one interface.
pub struct LiveCapture {
    device: String,
    cap: pcap::Capture<pcap::Active>,
    link: LinkType,
    buf: Vec<u8>,
    stop: Arc<AtomicBool>,
}

/// Ends a live capture's stream (every worker's) from any thread (e.g. a
/// Ctrl-C handler thread).
pub struct StopHandle {
    flag: Arc<AtomicBool>,
    wakes: Vec<Wake>,
}

impl StopHandle {
    /// Stops the capture after `d` (wall clock), from a small timer thread.
    pub fn stop_after(self, d: std::time::Duration) {
        std::thread::spawn(move || {
            std::thread::sleep(d);
            self.stop();
        });
    }

    /// Makes the capture's `next_frame` return `None` and `poll` return
    /// `End` (now, or when the blocked read wakes up: at the latest after the
    /// next packet or timeout).
    pub fn stop(&self) {
        self.flag.store(true, Ordering::Relaxed);
        for w in &self.wakes {
            w.wake();
        }
    }
}

/// Interrupts a blocked `poll` ([`LiveCapture::poll`], [`LiveWorker::poll`])
/// from another thread: the poll returns [`Polled::Idle`] (the stream goes on).
pub struct Waker {
    wake: Wake,
}

impl Waker {
    /// Wakes the capture's current (or next) read.
    pub fn wake(&self) {
        self.wake.wake();
    }
}

impl std::fmt::Debug for Waker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waker").finish()
    }
}

/// What [`LiveCapture::poll`] got.
#[derive(Debug)]
pub enum Polled<'a> {
    /// A frame.
    Frame(Frame<'a>),
    /// No packet yet (read timeout, or woken by a [`Waker`]).
    Idle,
    /// Stopped through a [`StopHandle`] (or the interface went away).
    End,
}

impl std::fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopHandle")
            .field("stopped", &self.flag.load(Ordering::Relaxed))
            .finish()
    }
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("device", &self.device)
            .field("link", &self.link)
            .finish()
    }
}

impl LiveCapture {
    /// Opens `device` (promiscuous, immediate mode, snap length 65,535, a
    /// 32 MiB buffer) and
    /// installs `filter` (BPF syntax, as for tcpdump) if given.
    pub fn open(device: &str, filter: Option<&str>) -> Result<LiveCapture, Error> {
        let err = |e: pcap::Error| Error::Live {
            device: device.to_string(),
            message: e.to_string(),
        };
        let mut cap = pcap::Capture::from_device(device)
            .map_err(err)?
            .promisc(true)
            .snaplen(SNAPLEN)
            .buffer_size(BUFFER_BYTES)
            .immediate_mode(true)
            .timeout(TIMEOUT_MS)
            .open()
            .map_err(err)?;
        if let Some(f) = filter {
            cap.filter(f, true).map_err(err)?;
        }
        let dlt = u32::try_from(cap.get_datalink().0).unwrap_or(u32::MAX);
        Ok(LiveCapture {
            device: device.to_string(),
            cap,
            link: LinkType::from_dlt(dlt),
            buf: Vec::with_capacity(SNAPLEN as usize),
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Link type of the interface.
    pub fn link(&self) -> LinkType {
        self.link
    }

    /// Interface name.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// A handle that makes `next_frame` return `None`, usable from another thread.
    pub fn stop_handle(&mut self) -> StopHandle {
        StopHandle {
            flag: Arc::clone(&self.stop),
            wakes: vec![Wake::Pcap(self.cap.breakloop_handle())],
        }
    }

    /// A handle that makes a blocked [`LiveCapture::poll`] return [`Polled::Idle`].
    pub fn waker(&mut self) -> Waker {
        Waker {
            wake: Wake::Pcap(self.cap.breakloop_handle()),
        }
    }

    /// The next frame, or `Idle` when none arrived within the read timeout
    /// (where the platform honours it) or a [`Waker`] interrupted the read,
    /// or `End` once a [`StopHandle`] stopped the capture.
    pub fn poll(&mut self) -> Result<Polled<'_>, Error> {
        Ok(match self.read()? {
            Read::Packet(ts, orig_len) => Polled::Frame(Frame {
                ts,
                link: self.link,
                data: &self.buf,
                orig_len,
            }),
            Read::Idle => Polled::Idle,
            Read::End => Polled::End,
        })
    }

    /// One read: a packet (copied into `buf`), idle, or the end.
    fn read(&mut self) -> Result<Read, Error> {
        if self.stop.load(Ordering::Relaxed) {
            return Ok(Read::End);
        }
        match self.cap.next_packet() {
            Ok(p) => {
                let h = p.header;
                // time_t / suseconds_t are i64 here but narrower on some platforms.
                #[allow(clippy::useless_conversion)]
                let ts =
                    Timestamp::from_secs_micros(i64::from(h.ts.tv_sec), i64::from(h.ts.tv_usec));
                self.buf.clear();
                self.buf.extend_from_slice(p.data);
                Ok(Read::Packet(ts, h.len))
            }
            Err(pcap::Error::TimeoutExpired) => Ok(Read::Idle),
            // pcap_breakloop makes the read return PCAP_ERROR_BREAK, reported as NoMorePackets:
            // a stop when the flag is set, else a wake-up.
            Err(pcap::Error::NoMorePackets) => Ok(if self.stop.load(Ordering::Relaxed) {
                Read::End
            } else {
                Read::Idle
            }),
            Err(e) => Err(Error::Live {
                device: self.device.clone(),
                message: e.to_string(),
            }),
        }
    }

    /// Ends the stream after `d` (wall clock), even on a quiet interface where
    /// `next_frame` would otherwise block until the next packet. Spawns a
    /// small timer thread holding a [`StopHandle`].
    pub fn stop_after(&mut self, d: std::time::Duration) {
        self.stop_handle().stop_after(d);
    }

    /// libpcap's packet and drop counters.
    pub fn stats(&mut self) -> Result<LiveStats, Error> {
        let s = self.cap.stats().map_err(|e| Error::Live {
            device: self.device.clone(),
            message: e.to_string(),
        })?;
        Ok(LiveStats {
            received: u64::from(s.received),
            dropped: u64::from(s.dropped),
            if_dropped: u64::from(s.if_dropped),
            freeze_q: 0,
            corrupt_blocks: 0,
        })
    }
}

/// What one read got (the packet's bytes are in `LiveCapture::buf`).
enum Read {
    Packet(Timestamp, u32),
    Idle,
    End,
}

impl Source for LiveCapture {
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Error> {
        loop {
            match self.read()? {
                Read::Packet(ts, orig_len) => {
                    return Ok(Some(Frame {
                        ts,
                        link: self.link,
                        data: &self.buf,
                        orig_len,
                    }))
                }
                // A timeout or wake-up is not the end of the stream.
                Read::Idle => continue,
                Read::End => return Ok(None),
            }
        }
    }
}

/// Which backend a live capture uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Linux AF_PACKET sockets with TPACKET_V3 rings (and a fanout group).
    AfPacket,
    /// libpcap, one worker.
    Libpcap,
}

impl Backend {
    /// Stable name: `af_packet` or `libpcap`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::AfPacket => "af_packet",
            Backend::Libpcap => "libpcap",
        }
    }
}

/// How to open a [`Live`] capture.
#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    /// BPF filter (tcpdump syntax).
    pub filter: Option<String>,
    /// Workers wanted (at least 1). AF_PACKET gives each its own socket in
    /// one fanout group; libpcap has one.
    pub workers: usize,
    /// Use libpcap even where AF_PACKET is available.
    pub force_libpcap: bool,
}

/// One worker's frame source of a [`Live`] capture.
pub struct LiveWorker(WorkerInner);

enum WorkerInner {
    Pcap(LiveCapture),
    #[cfg(target_os = "linux")]
    AfPacket(crate::afpacket::AfPacket),
}

impl std::fmt::Debug for LiveWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            WorkerInner::Pcap(c) => c.fmt(f),
            #[cfg(target_os = "linux")]
            WorkerInner::AfPacket(a) => a.fmt(f),
        }
    }
}

impl LiveWorker {
    /// The next frame, `Idle` (read timeout, or a [`Waker`]), or `End` once
    /// the capture's [`StopHandle`] stopped it.
    pub fn poll(&mut self) -> Result<Polled<'_>, Error> {
        match &mut self.0 {
            WorkerInner::Pcap(c) => c.poll(),
            #[cfg(target_os = "linux")]
            WorkerInner::AfPacket(a) => a.poll(),
        }
    }

    /// A handle that makes this worker's blocked `poll` return `Idle`.
    pub fn waker(&mut self) -> Waker {
        Waker { wake: self.wake() }
    }

    fn wake(&mut self) -> Wake {
        match &mut self.0 {
            WorkerInner::Pcap(c) => Wake::Pcap(c.cap.breakloop_handle()),
            #[cfg(target_os = "linux")]
            WorkerInner::AfPacket(a) => Wake::Event(a.event()),
        }
    }

    /// This worker's kernel counters since the capture was opened.
    pub fn stats(&mut self) -> Result<LiveStats, Error> {
        match &mut self.0 {
            WorkerInner::Pcap(c) => c.stats(),
            #[cfg(target_os = "linux")]
            WorkerInner::AfPacket(a) => a.stats(),
        }
    }

    /// Link type of the frames.
    pub fn link(&self) -> LinkType {
        match &self.0 {
            WorkerInner::Pcap(c) => c.link(),
            #[cfg(target_os = "linux")]
            WorkerInner::AfPacket(a) => a.link(),
        }
    }
}

/// A live capture on one interface, read by one or more workers.
///
/// [`Live::open`] uses AF_PACKET (TPACKET_V3 rings, one socket per worker
/// in a `PACKET_FANOUT_HASH` group, so each worker gets whole flows) on
/// Linux when the process may and the interface is Ethernet or loopback;
/// otherwise it falls back to one libpcap worker and says why
/// ([`Live::fallback_reason`]).
pub struct Live {
    device: String,
    backend: Backend,
    fallback: Option<String>,
    workers: Vec<LiveWorker>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("device", &self.device)
            .field("backend", &self.backend)
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl Live {
    /// Opens `device` with `o.workers` workers (see the type's documentation).
    pub fn open(device: &str, o: &LiveOptions) -> Result<Live, Error> {
        let workers = o.workers.max(1);
        let why = if o.force_libpcap {
            "libpcap asked for".to_string()
        } else {
            match Live::open_af_packet(device, o.filter.as_deref(), workers) {
                Ok(live) => return Ok(live),
                Err(why) => why,
            }
        };
        let cap = LiveCapture::open(device, o.filter.as_deref())?;
        let stop = Arc::clone(&cap.stop);
        Ok(Live {
            device: device.to_string(),
            backend: Backend::Libpcap,
            fallback: Some(why),
            workers: vec![LiveWorker(WorkerInner::Pcap(cap))],
            stop,
        })
    }

    #[cfg(target_os = "linux")]
    fn open_af_packet(device: &str, filter: Option<&str>, workers: usize) -> Result<Live, String> {
        use crate::afpacket::{AfPacket, Bpf, Fanout};
        let bpf = filter.map(Bpf::compile).transpose()?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut socks = Vec::with_capacity(workers);
        let mut group = None;
        for _ in 0..workers {
            let fanout = match (workers, group) {
                (1, _) => Fanout::None,
                (_, None) => Fanout::New,
                (_, Some(id)) => Fanout::Join(id),
            };
            let (s, id) = AfPacket::open(device, bpf.as_ref(), fanout, Arc::clone(&stop))
                .map_err(|e| format!("AF_PACKET: {e}"))?;
            group = Some(id);
            socks.push(LiveWorker(WorkerInner::AfPacket(s)));
        }
        Ok(Live {
            device: device.to_string(),
            backend: Backend::AfPacket,
            fallback: None,
            workers: socks,
            stop,
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn open_af_packet(_: &str, _: Option<&str>, _: usize) -> Result<Live, String> {
        Err("AF_PACKET is Linux only".to_string())
    }

    /// Interface name.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Why AF_PACKET is not used (with the libpcap backend).
    pub fn fallback_reason(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// Link type of the frames.
    pub fn link(&self) -> LinkType {
        self.workers
            .first()
            .map_or(LinkType::from_dlt(1), LiveWorker::link)
    }

    /// Number of workers.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// The workers (one per socket; one with libpcap).
    pub fn workers_mut(&mut self) -> &mut [LiveWorker] {
        &mut self.workers
    }

    /// A handle that stops every worker, usable from another thread.
    pub fn stop_handle(&mut self) -> StopHandle {
        StopHandle {
            flag: Arc::clone(&self.stop),
            wakes: self.workers.iter_mut().map(LiveWorker::wake).collect(),
        }
    }

    /// Stops every worker after `d` (wall clock), even on a quiet interface.
    pub fn stop_after(&mut self, d: std::time::Duration) {
        self.stop_handle().stop_after(d);
    }

    /// The workers' kernel counters together.
    pub fn stats(&mut self) -> Result<LiveStats, Error> {
        let mut t = LiveStats::default();
        for w in &mut self.workers {
            t.add(w.stats()?);
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_interface_is_a_one_line_error() {
        match LiveCapture::open("ward-no-such-if0", None) {
            Err(e @ Error::Live { .. }) => {
                let msg = e.to_string();
                assert!(msg.starts_with("ward-no-such-if0: live capture: "), "{msg}");
                assert!(!msg.contains('\n'));
            }
            Err(e) => panic!("unexpected error kind: {e}"),
            // Running as root on a system that somehow has this interface: nothing to check.
            Ok(_) => {}
        }
    }

    #[test]
    fn live_picks_af_packet_on_linux_as_root_and_stops_every_worker() {
        let o = LiveOptions {
            filter: Some("udp and port 9".into()),
            workers: 2,
            force_libpcap: false,
        };
        let mut live = match Live::open("lo", &o) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("skipped: cannot capture on lo: {e}");
                return;
            }
        };
        if live.backend() == Backend::Libpcap {
            eprintln!(
                "skipped: libpcap backend ({})",
                live.fallback_reason().unwrap_or("")
            );
            assert_eq!(live.workers_mut().len(), 1);
            return;
        }
        assert_eq!(live.workers_mut().len(), 2);
        assert!(live.fallback_reason().is_none());
        let stop = live.stop_handle();
        stop.stop();
        for w in live.workers_mut() {
            assert!(matches!(w.poll().unwrap(), Polled::End));
        }
        assert_eq!(live.stats().unwrap().dropped, 0);
        // Asked for libpcap: one worker, and it says why.
        let o = LiveOptions {
            force_libpcap: true,
            ..o
        };
        let mut live = Live::open("lo", &o).unwrap();
        assert_eq!(live.backend(), Backend::Libpcap);
        assert_eq!(live.workers_mut().len(), 1);
        assert!(live.fallback_reason().is_some());
    }
}
