//! Live capture from a network interface through libpcap (feature `live`).
//!
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

/// Counters kept by libpcap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// Packets received.
    pub received: u32,
    /// Packets dropped because the buffer was full (we were too slow).
    pub dropped: u32,
    /// Packets dropped by the interface or driver.
    pub if_dropped: u32,
}

/// A live capture on one interface.
pub struct LiveCapture {
    device: String,
    cap: pcap::Capture<pcap::Active>,
    link: LinkType,
    buf: Vec<u8>,
    stop: Arc<AtomicBool>,
}

/// Ends a [`LiveCapture`]'s stream from any thread (e.g. a Ctrl-C handler thread).
pub struct StopHandle {
    flag: Arc<AtomicBool>,
    brk: pcap::BreakLoop,
}

impl StopHandle {
    /// Makes the capture's `next_frame` return `None` (now, or when the
    /// blocked read wakes up: at the latest after the next packet or timeout).
    pub fn stop(&self) {
        self.flag.store(true, Ordering::Relaxed);
        self.brk.breakloop();
    }
}

/// Interrupts a blocked [`LiveCapture::poll`] from another thread: the poll
/// returns [`Polled::Idle`] (the stream goes on).
pub struct Waker {
    brk: pcap::BreakLoop,
}

impl Waker {
    /// Wakes the capture's current (or next) read.
    pub fn wake(&self) {
        self.brk.breakloop();
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
            brk: self.cap.breakloop_handle(),
        }
    }

    /// A handle that makes a blocked [`LiveCapture::poll`] return [`Polled::Idle`].
    pub fn waker(&mut self) -> Waker {
        Waker {
            brk: self.cap.breakloop_handle(),
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
        let h = self.stop_handle();
        std::thread::spawn(move || {
            std::thread::sleep(d);
            h.stop();
        });
    }

    /// libpcap's packet and drop counters.
    pub fn stats(&mut self) -> Result<LiveStats, Error> {
        let s = self.cap.stats().map_err(|e| Error::Live {
            device: self.device.clone(),
            message: e.to_string(),
        })?;
        Ok(LiveStats {
            received: s.received,
            dropped: s.dropped,
            if_dropped: s.if_dropped,
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
}
