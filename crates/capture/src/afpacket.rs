//! Linux AF_PACKET live capture with a TPACKET_V3 block ring (feature `live`).
//!
//! One [`AfPacket`] is one packet socket bound to one interface, with a ring
//! of [`BLOCK_NR`] blocks of [`BLOCK_SIZE`] bytes mmap'd from the kernel.
//! The kernel fills a block with frames and hands it over (block status
//! `TP_STATUS_USER`) when it is full or after [`RETIRE_TOV_MS`] ms, so a
//! quiet link still delivers its few frames promptly. Frames are handed out
//! borrowed from the ring (zero copy; a frame whose VLAN tag the kernel
//! took off is the exception: it is rebuilt with its tag in one reusable
//! buffer); a block goes back to the kernel (`TP_STATUS_KERNEL`) at the
//! call after its last frame was handed out.
//!
//! Several sockets of one capture join one fanout group
//! (`PACKET_FANOUT_HASH` with `PACKET_FANOUT_FLAG_DEFRAG`): the kernel
//! reassembles IP fragments first and then sends every packet of a flow
//! (both directions: the hash is symmetric) to the same socket, so N workers
//! each see whole flows and share nothing.
//!
//! Waiting is `poll(2)` on the socket and an eventfd with a timeout
//! ([`POLL_MS`]): [`AfPacket::poll`] returns `Idle` on a quiet link, and a
//! `Waker` or `StopHandle` (which write to the eventfd) interrupt it at once.
//!
//! Kernel counters (`PACKET_STATISTICS`, which resets on every read) are
//! accumulated in 64 bits.
//!
//! **Safety.** All `unsafe` is here: system calls on owned descriptors, and
//! reads of the mmap'd ring. The kernel is trusted, but every offset and
//! length read from a block or frame header is still checked against the
//! block before memory is read, so a corrupt header ends the block (counted
//! in `LiveStats::corrupt_blocks`) instead of reading outside the ring.
//! A block is only read while its status says it belongs to user space.

#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use model::Timestamp;

use crate::live::{LiveStats, Polled};
use crate::{Frame, LinkType};

/// Bytes per ring block.
pub const BLOCK_SIZE: u32 = 1 << 20;
/// Blocks per ring (so [`BLOCK_SIZE`] × [`BLOCK_NR`] = 64 MiB per socket).
pub const BLOCK_NR: u32 = 64;
/// Frame size of the ring request (TPACKET_V3 packs frames of any size into
/// a block; the kernel only checks that blocks hold whole frames of this size).
const FRAME_SIZE: u32 = 2048;
/// A block not full after this many milliseconds is handed over anyway.
pub const RETIRE_TOV_MS: u32 = 50;
/// `poll(2)` timeout: `Idle` at least this often on a quiet link.
pub const POLL_MS: i32 = 200;
/// `TPACKET_V3` of `enum tpacket_versions`.
const TPACKET_V3: libc::c_int = 2;

// struct tpacket_block_desc { u32 version; u32 offset_to_priv; struct tpacket_hdr_v1 h1; }
// struct tpacket_hdr_v1 { u32 block_status; u32 num_pkts; u32 offset_to_first_pkt;
//                         u32 blk_len; u64 seq_num; tpacket_bd_ts ts_first, ts_last; }
const BD_STATUS: usize = 8;
const BD_NUM_PKTS: usize = 12;
const BD_FIRST: usize = 16;
const BD_BLK_LEN: usize = 20;
/// `sizeof(struct tpacket_block_desc)`.
const BD_LEN: usize = 48;

// struct tpacket3_hdr { u32 tp_next_offset, tp_sec, tp_nsec, tp_snaplen, tp_len, tp_status;
//   u16 tp_mac, tp_net; { u32 tp_rxhash, tp_vlan_tci; u16 tp_vlan_tpid, tp_padding; }; u8 pad[8]; }
// followed (at TPACKET_ALIGN(48) = 48) by a struct sockaddr_ll.
const TP_NEXT: usize = 0;
const TP_SEC: usize = 4;
const TP_NSEC: usize = 8;
const TP_SNAPLEN: usize = 12;
const TP_LEN: usize = 16;
const TP_STATUS: usize = 20;
const TP_MAC: usize = 24;
const TP_VLAN_TCI: usize = 32;
const TP_VLAN_TPID: usize = 36;
/// `sll_pkttype` of the `sockaddr_ll` after the header.
const TP_PKTTYPE: usize = 48 + 10;
/// Header and `sockaddr_ll` (up to `sll_pkttype`) that must fit in the block.
const TP_MIN: usize = TP_PKTTYPE + 1;

/// An eventfd that wakes a blocked [`AfPacket::poll`].
#[derive(Debug)]
pub(crate) struct EventFd(OwnedFd);

impl EventFd {
    fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd takes no pointers; a non-negative result is a new
        // descriptor that we own from here on.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh, open descriptor owned by nobody else.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Makes the descriptor readable (and the poll return).
    pub(crate) fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our descriptor. A full
        // counter (EAGAIN) already means "readable": nothing to do.
        let _ = unsafe {
            libc::write(
                self.0.as_raw_fd(),
                (&one as *const u64).cast::<libc::c_void>(),
                8,
            )
        };
    }

    /// Resets the counter (non-blocking).
    fn drain(&self) {
        let mut n: u64 = 0;
        // SAFETY: reads at most 8 bytes into a live u64; EAGAIN (not woken) is fine.
        let _ = unsafe {
            libc::read(
                self.0.as_raw_fd(),
                (&mut n as *mut u64).cast::<libc::c_void>(),
                8,
            )
        };
    }
}

/// The mmap'd ring; unmapped on drop.
struct Ring {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone (no other handle to it
// exists in the process); moving it to another thread moves that ownership.
unsafe impl Send for Ring {}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned; no borrow of the
        // ring outlives `&mut AfPacket`, so nothing refers to it any more.
        unsafe {
            libc::munmap(self.ptr.cast::<libc::c_void>(), self.len);
        }
    }
}

/// Where to find one frame, read from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHdr {
    /// Offset of the next frame from this one (0 for the last).
    pub next: u32,
    /// Captured bytes: `data..data + snaplen` of the block.
    pub data: usize,
    pub snaplen: usize,
    pub orig_len: u32,
    pub ts: Timestamp,
    /// VLAN tag the kernel took off the frame: (TPID, TCI).
    pub vlan: Option<(u16, u16)>,
    /// `sll_pkttype` (4: `PACKET_OUTGOING`).
    pub pkttype: u8,
}

fn rd32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn rd16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// A handed-over block's header: (frames, offset of the first, used length).
/// `None` when it does not fit the block.
pub(crate) fn parse_block(block: &[u8]) -> Option<(u32, usize, usize)> {
    let n = rd32(block, BD_NUM_PKTS)?;
    let first = rd32(block, BD_FIRST)? as usize;
    let used = rd32(block, BD_BLK_LEN)? as usize;
    if used > block.len() || (n > 0 && (first < BD_LEN || first >= used)) {
        return None;
    }
    Some((n, first, used))
}

/// The frame header at `off` of the first `used` bytes of a block, checked:
/// the header, its `sockaddr_ll` and the captured bytes lie inside them.
pub(crate) fn parse_frame(block: &[u8], used: usize, off: usize) -> Option<FrameHdr> {
    let b = block.get(..used)?;
    let h = b.get(off..off.checked_add(TP_MIN)?)?;
    let snaplen = rd32(h, TP_SNAPLEN)? as usize;
    let data = off.checked_add(rd16(h, TP_MAC)? as usize)?;
    if data < off + TP_MIN || data.checked_add(snaplen)? > used {
        return None;
    }
    let status = rd32(h, TP_STATUS)?;
    let tci = rd32(h, TP_VLAN_TCI)?;
    let vlan = if status & libc::TP_STATUS_VLAN_VALID != 0 || tci != 0 {
        let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
            rd16(h, TP_VLAN_TPID)?
        } else {
            0x8100
        };
        Some((tpid, tci as u16))
    } else {
        None
    };
    Some(FrameHdr {
        next: rd32(h, TP_NEXT)?,
        data,
        snaplen,
        orig_len: rd32(h, TP_LEN)?,
        ts: Timestamp::from_secs_micros(
            i64::from(rd32(h, TP_SEC)?),
            i64::from(rd32(h, TP_NSEC)? / 1000),
        ),
        vlan,
        pkttype: *h.get(TP_PKTTYPE)?,
    })
}

/// One AF_PACKET socket with its ring.
pub struct AfPacket {
    device: String,
    fd: OwnedFd,
    ring: Ring,
    /// Current block (the oldest not given back).
    cur: usize,
    /// Whether block `cur` is ours (handed over and opened).
    owned: bool,
    /// Frames of block `cur` not handed out yet, the next one's offset, and
    /// the block's used length.
    left: u32,
    next: usize,
    used: usize,
    /// On the loopback interface every packet is seen leaving and arriving:
    /// the outgoing copy is skipped (as libpcap does).
    loopback: bool,
    event: Arc<EventFd>,
    stop: Arc<AtomicBool>,
    totals: LiveStats,
    corrupt: u64,
    /// A frame with its VLAN tag put back (the only copy).
    scratch: Vec<u8>,
}

impl std::fmt::Debug for AfPacket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfPacket")
            .field("device", &self.device)
            .field("fd", &self.fd.as_raw_fd())
            .finish()
    }
}

/// A failed system call as an error message.
fn os(what: &str) -> String {
    format!("{what}: {}", io::Error::last_os_error())
}

/// `setsockopt(fd, level, name, &v)`.
fn setopt<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, v: &T) -> Result<(), String> {
    // SAFETY: passes a pointer to a live `T` and its exact size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (v as *const T).cast::<libc::c_void>(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(os(&format!("setsockopt({name})")))
    } else {
        Ok(())
    }
}

/// `getsockopt(fd, level, name)` into `v`.
fn getopt<T: Copy>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, mut v: T) -> io::Result<T> {
    let mut len = std::mem::size_of::<T>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into the live `v`.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut v as *mut T).cast::<libc::c_void>(),
            &mut len,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(v)
    }
}

/// A compiled BPF filter in the kernel's layout.
pub(crate) struct Bpf(Vec<libc::sock_filter>);

impl Bpf {
    /// Compiles `filter` (tcpdump syntax) for Ethernet with libpcap.
    pub(crate) fn compile(filter: &str) -> Result<Bpf, String> {
        let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).map_err(|e| e.to_string())?;
        let prog = dead.compile(filter, true).map_err(|e| e.to_string())?;
        let insns = prog.get_instructions();
        const _: () = assert!(
            std::mem::size_of::<pcap::BpfInstruction>() == std::mem::size_of::<libc::sock_filter>()
        );
        // SAFETY: `BpfInstruction` is `repr(transparent)` over libpcap's
        // `struct bpf_insn { u16 code; u8 jt; u8 jf; u32 k; }` (`repr(C)`),
        // which is the layout of the kernel's `struct sock_filter` (the size
        // is asserted above); the slice is live while `prog` is.
        let raw = unsafe {
            std::slice::from_raw_parts(insns.as_ptr().cast::<libc::sock_filter>(), insns.len())
        };
        Ok(Bpf(raw.to_vec()))
    }
}

/// How a socket joins its capture's fanout group.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fanout {
    /// One socket: no group.
    None,
    /// The first socket: the kernel picks a free group id.
    New,
    /// A further socket: joins this group.
    Join(u16),
}

/// `PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG`.
const FANOUT_MODE: u32 = libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_DEFRAG;

impl AfPacket {
    /// Opens a socket with its ring on `device` (promiscuous), `bpf`
    /// attached, in `fanout`'s group. Errors are messages (the caller falls
    /// back to libpcap and says why). Returns the socket and its group id.
    pub(crate) fn open(
        device: &str,
        bpf: Option<&Bpf>,
        fanout: Fanout,
        stop: Arc<AtomicBool>,
    ) -> Result<(AfPacket, u16), String> {
        let name =
            CString::new(device).map_err(|_| "interface name with a NUL byte".to_string())?;
        // SAFETY: `name` is a valid NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if ifindex == 0 {
            return Err(os("no such interface"));
        }
        // Protocol 0: the socket receives nothing until `bind` names the
        // interface and ETH_P_ALL, so no frame of another interface lands
        // in the ring first.
        // SAFETY: socket takes no pointers; a non-negative result is ours.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(os("socket(AF_PACKET)"));
        }
        // SAFETY: `fd` is a fresh descriptor owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        setopt(&fd, libc::SOL_PACKET, libc::PACKET_VERSION, &TPACKET_V3)?;
        if let Some(Bpf(prog)) = bpf {
            let fprog = libc::sock_fprog {
                len: u16::try_from(prog.len()).map_err(|_| "filter too long".to_string())?,
                filter: prog.as_ptr().cast_mut(),
            };
            setopt(&fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)?;
        }
        let req = libc::tpacket_req3 {
            tp_block_size: BLOCK_SIZE,
            tp_block_nr: BLOCK_NR,
            tp_frame_size: FRAME_SIZE,
            tp_frame_nr: BLOCK_SIZE / FRAME_SIZE * BLOCK_NR,
            tp_retire_blk_tov: RETIRE_TOV_MS,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setopt(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        let len = BLOCK_SIZE as usize * BLOCK_NR as usize;
        // SAFETY: maps the ring the kernel just set up for `fd`; the result
        // is checked and owned by `Ring` (unmapped on drop).
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(os("mmap of the ring"));
        }
        let ring = Ring {
            ptr: ptr.cast::<u8>(),
            len,
        };
        // SAFETY: an all-zero sockaddr_ll is valid; the fields are set below.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        sll.sll_ifindex = ifindex as i32;
        // SAFETY: passes a live sockaddr_ll and its size.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&sll as *const libc::sockaddr_ll).cast::<libc::sockaddr>(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r < 0 {
            return Err(os("bind"));
        }
        // What the interface is: only Ethernet-framed ones are read here.
        let mut bound = sll;
        let mut blen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        // SAFETY: the kernel writes at most `blen` bytes into the live `bound`.
        let r = unsafe {
            libc::getsockname(
                fd.as_raw_fd(),
                (&mut bound as *mut libc::sockaddr_ll).cast::<libc::sockaddr>(),
                &mut blen,
            )
        };
        if r < 0 {
            return Err(os("getsockname"));
        }
        let loopback = match bound.sll_hatype {
            libc::ARPHRD_ETHER => false,
            libc::ARPHRD_LOOPBACK => true,
            t => return Err(format!("not an Ethernet interface (ARPHRD {t})")),
        };
        let mreq = libc::packet_mreq {
            mr_ifindex: ifindex as i32,
            mr_type: libc::PACKET_MR_PROMISC as u16,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        setopt(&fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)?;
        // PACKET_FANOUT's argument: the group id (low 16 bits), mode and flags.
        let join = |arg: u32| {
            setopt(
                &fd,
                libc::SOL_PACKET,
                libc::PACKET_FANOUT,
                &(arg as libc::c_int),
            )
        };
        let group = match fanout {
            Fanout::None => 0,
            Fanout::New => {
                join((FANOUT_MODE | libc::PACKET_FANOUT_FLAG_UNIQUEID) << 16)?;
                let got: libc::c_int = getopt(&fd, libc::SOL_PACKET, libc::PACKET_FANOUT, 0)
                    .map_err(|e| format!("getsockopt(PACKET_FANOUT): {e}"))?;
                (got as u32 & 0xffff) as u16
            }
            Fanout::Join(id) => {
                join(u32::from(id) | FANOUT_MODE << 16)?;
                id
            }
        };
        let event = EventFd::new().map_err(|e| format!("eventfd: {e}"))?;
        let mut s = AfPacket {
            device: device.to_string(),
            fd,
            ring,
            cur: 0,
            owned: false,
            left: 0,
            next: 0,
            used: 0,
            loopback,
            event: Arc::new(event),
            stop,
            totals: LiveStats::default(),
            corrupt: 0,
            scratch: Vec::with_capacity(crate::MAX_CAPLEN as usize + 4),
        };
        // Counters start now (reading resets them).
        s.stats().map_err(|e| e.to_string())?;
        s.totals = LiveStats::default();
        Ok((s, group))
    }

    /// Link type (Ethernet; the loopback interface has Ethernet framing too).
    pub fn link(&self) -> LinkType {
        LinkType::from_dlt(1)
    }

    /// The eventfd that wakes [`AfPacket::poll`].
    pub(crate) fn event(&self) -> Arc<EventFd> {
        Arc::clone(&self.event)
    }

    /// Block `i`'s status word.
    fn status(&self, i: usize) -> &AtomicU32 {
        debug_assert!(i < BLOCK_NR as usize);
        // SAFETY: `i < BLOCK_NR`, so the word lies inside the mapping; it is
        // 4-byte aligned (blocks are page aligned) and only ever accessed
        // atomically by us (the kernel's writes are ordered by its barriers).
        unsafe {
            &*self
                .ring
                .ptr
                .add(i * BLOCK_SIZE as usize + BD_STATUS)
                .cast::<AtomicU32>()
        }
    }

    /// Block `i` as bytes. Only for a block handed over to user space (its
    /// status read with `Acquire`): the kernel does not write to it until it
    /// is given back.
    fn block(&self, i: usize) -> &[u8] {
        debug_assert!(i < BLOCK_NR as usize);
        // SAFETY: the block lies inside the mapping (i < BLOCK_NR) and, being
        // ours, is not written by the kernel while this borrow of `self` lives.
        unsafe {
            std::slice::from_raw_parts(
                self.ring.ptr.add(i * BLOCK_SIZE as usize),
                BLOCK_SIZE as usize,
            )
        }
    }

    /// Gives block `cur` back to the kernel and moves to the next.
    fn release(&mut self) {
        self.status(self.cur)
            .store(libc::TP_STATUS_KERNEL, Ordering::Release);
        self.owned = false;
        self.left = 0;
        self.cur = (self.cur + 1) % BLOCK_NR as usize;
    }

    /// The next frame (`Idle` on a quiet link or when woken, `End` once stopped).
    pub fn poll(&mut self) -> Result<Polled<'_>, crate::Error> {
        let hdr = loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(Polled::End);
            }
            if self.owned {
                if self.left == 0 {
                    self.release();
                    continue;
                }
                self.left -= 1;
                let Some(h) = parse_frame(self.block(self.cur), self.used, self.next) else {
                    self.corrupt += 1;
                    self.left = 0;
                    continue;
                };
                if self.left > 0 {
                    match self.next.checked_add(h.next as usize) {
                        Some(n) if h.next != 0 => self.next = n,
                        _ => {
                            self.corrupt += 1;
                            self.left = 0;
                        }
                    }
                }
                if self.loopback && h.pkttype == libc::PACKET_OUTGOING {
                    continue;
                }
                break h;
            }
            if self.status(self.cur).load(Ordering::Acquire) & libc::TP_STATUS_USER != 0 {
                match parse_block(self.block(self.cur)) {
                    Some((n, first, used)) => {
                        (self.left, self.next, self.used) = (n, first, used);
                    }
                    None => self.corrupt += 1,
                }
                self.owned = true;
                continue;
            }
            self.wait()?;
            if self.status(self.cur).load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
                return Ok(if self.stop.load(Ordering::Relaxed) {
                    Polled::End
                } else {
                    Polled::Idle
                });
            }
        };
        let orig_len = hdr.orig_len;
        let data = match hdr.vlan {
            None => &self.block(self.cur)[hdr.data..hdr.data + hdr.snaplen],
            Some((tpid, tci)) => {
                // The kernel took the tag off: put it back after the MAC
                // addresses, as libpcap does (one copy into a reused buffer).
                let mut s = std::mem::take(&mut self.scratch);
                s.clear();
                let f = &self.block(self.cur)[hdr.data..hdr.data + hdr.snaplen];
                if f.len() >= 12 {
                    s.extend_from_slice(&f[..12]);
                    s.extend_from_slice(&tpid.to_be_bytes());
                    s.extend_from_slice(&tci.to_be_bytes());
                    s.extend_from_slice(&f[12..]);
                } else {
                    s.extend_from_slice(f);
                }
                self.scratch = s;
                return Ok(Polled::Frame(Frame {
                    ts: hdr.ts,
                    link: self.link(),
                    data: &self.scratch,
                    orig_len: orig_len.saturating_add(4),
                }));
            }
        };
        Ok(Polled::Frame(Frame {
            ts: hdr.ts,
            link: LinkType::from_dlt(1),
            data,
            orig_len,
        }))
    }

    /// Waits for the socket or the eventfd, at most [`POLL_MS`].
    fn wait(&mut self) -> Result<(), crate::Error> {
        let mut fds = [
            libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.event.0.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: passes a live array of two pollfd and its length.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, POLL_MS) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(());
            }
            return Err(self.error(format!("poll: {e}")));
        }
        if fds[1].revents != 0 {
            self.event.drain();
        }
        if fds[0].revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            // A pending socket error (e.g. ENETDOWN) is read and cleared here.
            let e: libc::c_int = getopt(&self.fd, libc::SOL_SOCKET, libc::SO_ERROR, 0).unwrap_or(0);
            if fds[0].revents & libc::POLLNVAL != 0 || e == libc::ENXIO || e == libc::ENODEV {
                return Err(self.error(format!(
                    "socket error: {}",
                    io::Error::from_raw_os_error(if e == 0 { libc::EBADF } else { e })
                )));
            }
        }
        Ok(())
    }

    fn error(&self, message: String) -> crate::Error {
        crate::Error::Live {
            device: self.device.clone(),
            message,
        }
    }

    /// The kernel's counters since the socket was opened (read and reset
    /// from the kernel, accumulated here).
    pub fn stats(&mut self) -> Result<LiveStats, crate::Error> {
        let zero = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let s = getopt(&self.fd, libc::SOL_PACKET, libc::PACKET_STATISTICS, zero)
            .map_err(|e| self.error(format!("getsockopt(PACKET_STATISTICS): {e}")))?;
        // tp_packets already counts the dropped ones.
        self.totals.received += u64::from(s.tp_packets);
        self.totals.dropped += u64::from(s.tp_drops);
        self.totals.freeze_q += u64::from(s.tp_freeze_q_cnt);
        self.totals.corrupt_blocks = self.corrupt;
        Ok(self.totals)
    }
}

#[cfg(test)]
mod tests;
