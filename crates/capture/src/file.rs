//! Streaming reader for classic pcap and pcapng capture files.
//!
//! The file is read with large `read` calls into one reusable buffer; records
//! are parsed in place and handed out as [`Frame`]s borrowing the buffer. When
//! a record straddles the end of the buffer, the partial record is moved to the
//! front (compaction) and the rest of the buffer is refilled.
//!
//! [`FileReader::next_shared`] also hands out the buffer itself (reference
//! counted), so that other threads can keep reading frames in it without a
//! copy; while any of them holds it, the reader continues in another buffer
//! (one it used before and everybody let go of, or a new one), moving only the
//! partial record over.
//!
//! Corrupt input handling:
//! - classic pcap: a captured length above [`MAX_CAPLEN`] is either an
//!   oversized record (the next header after it is plausible: skip it) or lost
//!   framing (scan forward byte by byte for a plausible header followed by
//!   another plausible header);
//! - pcapng: a block whose length is impossible or whose trailing length copy
//!   does not match is corrupt: scan forward in 4-byte steps for a known block
//!   type whose length and trailer agree;
//! - a file that ends inside a record ends the stream (counted, not an error).
//!
//! Specs: draft-ietf-opsawg-pcap (record header: ts_sec, ts_frac, caplen,
//! origlen) and draft-ietf-opsawg-pcapng (SHB 0x0A0D0D0A with byte-order magic
//! 0x1A2B3C4D, IDB 1, PB 2, SPB 3, EPB 6; options `if_tsresol` 9, `if_tsoffset` 14).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use model::Timestamp;

use crate::{Anomalies, Error, Frame, LinkType, Source, MAX_CAPLEN};

/// Default buffer size.
const INIT_BUF: usize = 1 << 20;
/// Spare buffers kept for reuse by [`FileReader::switch_buffer`].
const MAX_SPARES: usize = 64;
/// The buffer never grows beyond this (largest pcapng block we accept).
const MAX_BUF: usize = 16 << 20;
/// Smallest buffer (for small files).
const MIN_BUF: usize = 64 << 10;
/// Interface descriptions kept per pcapng section.
const MAX_IFACES: usize = 4096;
/// Records looked at to choose between 16- and 24-byte pcap record headers.
const PROBE_RECORDS: usize = 8;
/// While resynchronising, only blocks up to this size are accepted as candidates.
const RESYNC_MAX_BLOCK: usize = 1 << 20;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
const BOM: u32 = 0x1A2B_3C4D;
const BOM_SWAPPED: u32 = 0x4D3C_2B1A;

/// Classic pcap variant.
#[derive(Debug, Clone, Copy)]
struct PcapFmt {
    /// Fields are big-endian.
    be: bool,
    /// Fraction field is nanoseconds (magic 0xA1B23C4D).
    nsec: bool,
    /// Link type from the file header.
    link: LinkType,
    /// Record header length: 16, or 24 for the Kuznetzov variant (0xA1B2CD34).
    hdr_len: usize,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Pcap(PcapFmt),
    PcapNg,
}

/// Outcome of reading the first record headers with one layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// All probed records made sense.
    Full,
    /// The records made sense and the file ended exactly after the last one.
    CleanEnd,
    /// The file ended inside a record.
    CutShort,
    /// A record header made no sense.
    Implausible,
}

/// Converts pcapng timestamp units to microseconds.
#[derive(Debug, Clone, Copy)]
enum TsConv {
    Mul(u64),
    Div(u64),
    /// micros = units * 1e6 / 2^n
    Shift(u32),
}

impl TsConv {
    fn from_tsresol(r: u8) -> TsConv {
        if r & 0x80 == 0 {
            let n = u32::from(r);
            if n <= 6 {
                TsConv::Mul(10u64.pow(6 - n))
            } else if n - 6 <= 19 {
                TsConv::Div(10u64.pow(n - 6))
            } else {
                TsConv::Div(u64::MAX)
            }
        } else {
            TsConv::Shift(u32::from(r & 0x7f))
        }
    }

    fn micros(self, units: u64) -> i64 {
        let v = match self {
            TsConv::Mul(1) => units,
            TsConv::Mul(m) => units.saturating_mul(m),
            TsConv::Div(d) => units / d,
            TsConv::Shift(n) => {
                u64::try_from((u128::from(units) * 1_000_000) >> n).unwrap_or(u64::MAX)
            }
        };
        i64::try_from(v).unwrap_or(i64::MAX)
    }
}

/// One pcapng interface description.
#[derive(Debug, Clone, Copy)]
struct Iface {
    link: LinkType,
    snaplen: u32,
    conv: TsConv,
    offset_us: i64,
}

/// Where a located record's bytes are in the buffer.
struct Loc {
    off: usize,
    len: usize,
    ts: Timestamp,
    link: LinkType,
    orig_len: u32,
}

/// Streaming pcap/pcapng reader with bounded memory. See the crate docs.
pub struct FileReader {
    name: String,
    reader: Box<dyn Read + Send>,
    buf: SharedBuffer,
    /// Earlier buffers, reused once nobody else holds them.
    spare: Vec<SharedBuffer>,
    /// Unparsed data is `buf[start..end]`.
    start: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    file_len: u64,
    kind: Kind,
    /// pcapng: current section is big-endian.
    be: bool,
    /// pcapng: interfaces of the current section.
    ifaces: Vec<Iface>,
    /// pcapng: timestamp of the last timestamped packet (SPBs have none).
    last_ts: Timestamp,
    anomalies: Anomalies,
}

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("bytes_read", &self.bytes_read())
            .field("file_len", &self.file_len)
            .field("anomalies", &self.anomalies)
            .finish()
    }
}

#[inline]
fn rd16(b: &[u8], off: usize, be: bool) -> u16 {
    match b.get(off..off + 2) {
        Some(&[x, y]) => {
            if be {
                u16::from_be_bytes([x, y])
            } else {
                u16::from_le_bytes([x, y])
            }
        }
        _ => 0,
    }
}

#[inline]
fn rd32(b: &[u8], off: usize, be: bool) -> u32 {
    match b.get(off..off + 4) {
        Some(&[a, b2, c, d]) => {
            if be {
                u32::from_be_bytes([a, b2, c, d])
            } else {
                u32::from_le_bytes([a, b2, c, d])
            }
        }
        _ => 0,
    }
}

/// Reads a u32 at a constant offset of a fixed-size header (no bounds check left).
#[inline(always)]
fn rd32_at<const N: usize>(h: &[u8; N], off: usize, be: bool) -> u32 {
    let v = match h.get(off..off + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    };
    if be {
        v.swap_bytes()
    } else {
        v
    }
}

#[inline]
fn rd64(b: &[u8], off: usize, be: bool) -> u64 {
    let hi_lo = (u64::from(rd32(b, off, be)), u64::from(rd32(b, off + 4, be)));
    if be {
        hi_lo.0 << 32 | hi_lo.1
    } else {
        hi_lo.1 << 32 | hi_lo.0
    }
}

/// A classic pcap magic number (read little-endian) → big-endian file,
/// nanosecond timestamps, record header length.
fn pcap_magic(magic: u32) -> Option<(bool, bool, usize)> {
    Some(match magic {
        0xA1B2_C3D4 => (false, false, 16),
        0xD4C3_B2A1 => (true, false, 16),
        0xA1B2_3C4D => (false, true, 16),
        0x4D3C_B2A1 => (true, true, 16),
        0xA1B2_CD34 => (false, false, 24),
        0x34CD_B2A1 => (true, false, 24),
        _ => return None,
    })
}

/// Whether a file's first four bytes are a magic number [`FileReader`]
/// reads (any classic pcap variant, or a pcapng section header): how a
/// directory walk tells captures from other files without opening them as one.
pub fn is_capture_magic(first: [u8; 4]) -> bool {
    let m = u32::from_le_bytes(first);
    m == SHB || pcap_magic(m).is_some()
}

impl FileReader {
    /// Opens a capture file and detects its format from the magic number.
    pub fn open(path: &Path) -> Result<FileReader, Error> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| Error::Io {
            path: name.clone(),
            source,
        })?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        Self::from_read(name, Box::new(file), len)
    }

    /// Reads a capture from any byte stream (a pipe, stdin, memory). `name` is
    /// used in error messages; `len` is the total size if known (0 otherwise),
    /// only used by [`FileReader::file_len`] and to size the buffer.
    pub fn from_read(
        name: impl Into<String>,
        reader: Box<dyn Read + Send>,
        len: u64,
    ) -> Result<FileReader, Error> {
        let size = if len == 0 {
            INIT_BUF
        } else {
            usize::try_from(len.saturating_add(64))
                .unwrap_or(INIT_BUF)
                .clamp(MIN_BUF, INIT_BUF)
        };
        Self::with_buffer(name.into(), reader, len, size)
    }

    fn with_buffer(
        name: String,
        reader: Box<dyn Read + Send>,
        len: u64,
        size: usize,
    ) -> Result<FileReader, Error> {
        let mut r = FileReader {
            name,
            reader,
            buf: Arc::new(vec![0; size.max(32)]),
            spare: Vec::new(),
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            file_len: len,
            kind: Kind::PcapNg,
            be: false,
            ifaces: Vec::new(),
            last_ts: Timestamp(0),
            anomalies: Anomalies::default(),
        };
        r.detect()?;
        Ok(r)
    }

    fn detect(&mut self) -> Result<(), Error> {
        if !self.fill(4)? {
            return Err(Error::NotACapture {
                path: self.name.clone(),
            });
        }
        let magic = rd32(&self.buf, self.start, false);
        let (be, nsec, hdr_len) = match magic {
            SHB => {
                if !self.fill(12)? {
                    return Err(Error::Truncated {
                        path: self.name.clone(),
                        what: "section header block",
                    });
                }
                self.be = match rd32(&self.buf, self.start + 8, false) {
                    BOM => false,
                    BOM_SWAPPED => true,
                    _ => {
                        return Err(Error::NotACapture {
                            path: self.name.clone(),
                        })
                    }
                };
                self.kind = Kind::PcapNg;
                return Ok(());
            }
            m => pcap_magic(m).ok_or_else(|| Error::NotACapture {
                path: self.name.clone(),
            })?,
        };
        if !self.fill(24)? {
            return Err(Error::Truncated {
                path: self.name.clone(),
                what: "file header",
            });
        }
        // The upper 6 bits of the link type field carry FCS information.
        let link = LinkType::from_dlt(rd32(&self.buf, self.start + 20, be) & 0x03FF_FFFF);
        self.start += 24;
        let mut fmt = PcapFmt {
            be,
            nsec,
            link,
            hdr_len,
        };
        if hdr_len == 16 {
            // Some writers (old Red Hat/SuSE patched libpcaps, some BLE sniffers)
            // use 24-byte record headers behind the standard magic. Like
            // Wireshark, switch only if the standard layout makes no sense and
            // the other one reads the first records flawlessly.
            if self.probe_layout(fmt)? == Probe::Implausible {
                let alt = PcapFmt { hdr_len: 24, ..fmt };
                if matches!(self.probe_layout(alt)?, Probe::Full | Probe::CleanEnd) {
                    fmt = alt;
                }
            }
        }
        self.kind = Kind::Pcap(fmt);
        Ok(())
    }

    /// Reads the first `PROBE_RECORDS` record headers with layout `f`.
    fn probe_layout(&mut self, f: PcapFmt) -> Result<Probe, Error> {
        let mut at = 0usize;
        for _ in 0..PROBE_RECORDS {
            if !self.fill(at + f.hdr_len)? {
                return Ok(if self.avail() == at {
                    Probe::CleanEnd
                } else {
                    Probe::CutShort
                });
            }
            let (_, frac, caplen, orig) = self.pcap_hdr(f, self.start + at);
            // Zero-length records are legal but make runs of zero bytes look plausible.
            if !Self::pcap_plausible(f, frac, caplen, orig) || orig == 0 {
                return Ok(Probe::Implausible);
            }
            at += f.hdr_len + caplen as usize;
        }
        Ok(Probe::Full)
    }

    /// File offset up to which records have been handed out (for progress bars).
    pub fn bytes_read(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Total file size, if known (0 for pipes).
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// What was wrong with the file so far.
    pub fn anomalies(&self) -> &Anomalies {
        &self.anomalies
    }

    /// The name used in error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True for pcapng files.
    pub fn is_pcapng(&self) -> bool {
        matches!(self.kind, Kind::PcapNg)
    }

    /// Link type of a classic pcap file (pcapng files have one per interface).
    pub fn pcap_link_type(&self) -> Option<LinkType> {
        match self.kind {
            Kind::Pcap(f) => Some(f.link),
            Kind::PcapNg => None,
        }
    }

    fn avail(&self) -> usize {
        self.end - self.start
    }

    /// Makes sure at least `need` unparsed bytes are buffered. Returns false
    /// at end of file (fewer bytes remain). `need` must not exceed `MAX_BUF`.
    #[inline]
    fn fill(&mut self, need: usize) -> Result<bool, Error> {
        if self.avail() >= need {
            return Ok(true);
        }
        self.fill_slow(need)
    }

    #[cold]
    fn fill_slow(&mut self, need: usize) -> Result<bool, Error> {
        if self.eof || need > MAX_BUF {
            return Ok(false);
        }
        if Arc::get_mut(&mut self.buf).is_none() {
            // Frames of this buffer are still being read elsewhere.
            self.switch_buffer();
        }
        // Only the reader holds the buffer now (`switch_buffer` gave it one of its own).
        let Some(buf) = Arc::get_mut(&mut self.buf) else {
            return Ok(false);
        };
        // Move the partial record to the front so one big read refills the rest.
        if self.start > 0 {
            buf.copy_within(self.start..self.end, 0);
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        if buf.len() < need {
            // Do not grow the buffer for bytes the file (size known at open) does not have.
            if self.file_len > 0 && self.base + need as u64 > self.file_len {
                return Ok(false);
            }
            let n = need.max(buf.len().saturating_mul(2)).min(MAX_BUF);
            buf.resize(n, 0);
        }
        while self.end - self.start < need {
            let Some(space) = buf.get_mut(self.end..) else {
                return Ok(false);
            };
            match self.reader.read(space) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => self.end = (self.end + n).min(buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::Io {
                        path: self.name.clone(),
                        source,
                    })
                }
            }
        }
        Ok(true)
    }

    /// Continues in a buffer nobody else holds: a spare one whose frames
    /// everybody let go of, else a new one of the same size. The unparsed
    /// bytes move over; the old buffer becomes a spare.
    #[cold]
    fn switch_buffer(&mut self) {
        let free = self
            .spare
            .iter()
            .position(|b| Arc::strong_count(b) == 1 && Arc::weak_count(b) == 0);
        let mut next = match free {
            Some(i) => self.spare.swap_remove(i),
            None => Arc::new(vec![0; self.buf.len()]),
        };
        if let Some(dst) = Arc::get_mut(&mut next) {
            let rest = self.buf.get(self.start..self.end).unwrap_or_default();
            if dst.len() < rest.len().max(self.buf.len()) {
                dst.resize(rest.len().max(self.buf.len()), 0);
            }
            if let Some(d) = dst.get_mut(..rest.len()) {
                d.copy_from_slice(rest);
            }
            self.base += self.start as u64;
            self.end -= self.start;
            self.start = 0;
        }
        let old = std::mem::replace(&mut self.buf, next);
        // Spares are bounded by how many buffers the consumers can hold at once;
        // past that (they hold more than expected) old buffers are simply dropped.
        if self.spare.len() < MAX_SPARES {
            self.spare.push(old);
        }
    }

    /// End of stream: a partial record left over is a truncated tail. The
    /// stream stays ended (what follows would be the rest of that record).
    fn finish(&mut self) -> Option<Loc> {
        if self.avail() > 0 {
            self.anomalies.truncated_records += 1;
            self.start = self.end;
        }
        self.eof = true;
        None
    }

    // ---- classic pcap ----

    #[inline]
    fn pcap_hdr(&self, f: PcapFmt, at: usize) -> (u32, u32, u32, u32) {
        let b = &self.buf;
        (
            rd32(b, at, f.be),
            rd32(b, at + 4, f.be),
            rd32(b, at + 8, f.be),
            rd32(b, at + 12, f.be),
        )
    }

    fn pcap_plausible(f: PcapFmt, frac: u32, caplen: u32, orig: u32) -> bool {
        caplen <= MAX_CAPLEN
            && caplen <= orig
            && frac < if f.nsec { 1_000_000_000 } else { 1_000_000 }
    }

    /// True if a plausible record header sits `at` bytes after `start`, or the file ends exactly there.
    fn pcap_next_ok(&mut self, f: PcapFmt, at: usize) -> Result<bool, Error> {
        if at.saturating_add(f.hdr_len) > MAX_BUF {
            return Ok(false);
        }
        if self.fill(at + f.hdr_len)? {
            let (_, frac, caplen, orig) = self.pcap_hdr(f, self.start + at);
            Ok(Self::pcap_plausible(f, frac, caplen, orig))
        } else {
            Ok(self.avail() == at)
        }
    }

    #[inline]
    fn locate_pcap(&mut self, f: PcapFmt) -> Result<Option<Loc>, Error> {
        // The common case: a plausible record wholly in the buffer, its header
        // read once (every record header starts with the same 16 bytes).
        let h = f.hdr_len;
        if let Some(rest) = self.buf.get(self.start..self.end) {
            if let Some(hdr) = rest.first_chunk::<16>() {
                let caplen = rd32_at(hdr, 8, f.be);
                let total = h + caplen as usize;
                if caplen <= MAX_CAPLEN && total <= rest.len() {
                    let (sec, frac, orig) = (
                        rd32_at(hdr, 0, f.be),
                        rd32_at(hdr, 4, f.be),
                        rd32_at(hdr, 12, f.be),
                    );
                    let off = self.start + h;
                    self.start += total;
                    let micros = if f.nsec { frac / 1000 } else { frac };
                    return Ok(Some(Loc {
                        off,
                        len: caplen as usize,
                        ts: Timestamp::from_secs_micros(i64::from(sec), i64::from(micros)),
                        link: f.link,
                        orig_len: orig,
                    }));
                }
            }
        }
        self.locate_pcap_slow(f)
    }

    #[inline(never)]
    fn locate_pcap_slow(&mut self, f: PcapFmt) -> Result<Option<Loc>, Error> {
        let h = f.hdr_len;
        loop {
            if !self.fill(h)? {
                return Ok(self.finish());
            }
            let (sec, frac, caplen, orig) = self.pcap_hdr(f, self.start);
            if caplen > MAX_CAPLEN {
                let total = h.saturating_add(caplen as usize);
                if self.pcap_next_ok(f, total)? {
                    self.anomalies.oversized_records += 1;
                    self.start += total;
                } else {
                    self.anomalies.bad_records += 1;
                    self.resync_pcap(f)?;
                }
                continue;
            }
            let total = h + caplen as usize;
            if !self.fill(total)? {
                return Ok(self.finish());
            }
            let off = self.start + h;
            self.start += total;
            let micros = if f.nsec { frac / 1000 } else { frac };
            let ts = Timestamp::from_secs_micros(i64::from(sec), i64::from(micros));
            return Ok(Some(Loc {
                off,
                len: caplen as usize,
                ts,
                link: f.link,
                orig_len: orig,
            }));
        }
    }

    fn resync_pcap(&mut self, f: PcapFmt) -> Result<(), Error> {
        self.anomalies.resyncs += 1;
        let from = self.bytes_read();
        loop {
            self.start = (self.start + 1).min(self.end);
            if !self.fill(f.hdr_len)? {
                self.start = self.end;
                break;
            }
            let (_, frac, caplen, orig) = self.pcap_hdr(f, self.start);
            if Self::pcap_plausible(f, frac, caplen, orig)
                && self.pcap_next_ok(f, f.hdr_len + caplen as usize)?
            {
                break;
            }
        }
        self.anomalies.resync_skipped_bytes += self.bytes_read() - from;
        Ok(())
    }

    // ---- pcapng ----

    fn locate_ng(&mut self) -> Result<Option<Loc>, Error> {
        loop {
            if !self.fill(12)? {
                return Ok(self.finish());
            }
            let s = self.start;
            // Block type(4) and total length(4): `fill(12)` made them available.
            let Some(head) = self.buf.get(s..).and_then(|b| b.first_chunk::<8>()) else {
                return Ok(self.finish());
            };
            let btype = rd32_at(head, 0, self.be);
            if btype == SHB {
                // The block type is a palindrome; the byte-order magic decides.
                match rd32(&self.buf, s + 8, false) {
                    BOM => self.be = false,
                    BOM_SWAPPED => self.be = true,
                    _ => {
                        self.anomalies.bad_blocks += 1;
                        self.resync_ng()?;
                        continue;
                    }
                }
            }
            let len = rd32_at(head, 4, self.be) as usize;
            if len < 12 || len & 3 != 0 || len > MAX_BUF {
                self.anomalies.bad_blocks += 1;
                self.resync_ng()?;
                continue;
            }
            if !self.fill(len)? {
                return Ok(self.finish());
            }
            let s = self.start; // `fill` may have moved the data
            if rd32(&self.buf, s + len - 4, self.be) as usize != len {
                self.anomalies.bad_blocks += 1;
                self.resync_ng()?;
                continue;
            }
            // Consume the block now; its bytes stay in the buffer until the next `fill`.
            self.start += len;
            let body = s + 8;
            let body_len = len - 12;
            match btype {
                SHB => self.parse_shb(body, body_len),
                IDB => self.parse_idb(body, body_len),
                EPB | PB => {
                    if let Some(loc) = self.parse_epb(btype == PB, body, body_len) {
                        return Ok(Some(loc));
                    }
                }
                SPB => {
                    if let Some(loc) = self.parse_spb(body, body_len) {
                        return Ok(Some(loc));
                    }
                }
                _ => self.anomalies.skipped_blocks += 1,
            }
        }
    }

    fn parse_shb(&mut self, body: usize, body_len: usize) {
        // BOM(4) major(2) minor(2) section length(8) options
        if body_len < 16 || rd16(&self.buf, body + 4, self.be) != 1 {
            self.anomalies.bad_blocks += 1;
        }
        self.ifaces.clear();
    }

    fn parse_idb(&mut self, body: usize, body_len: usize) {
        // linktype(2) reserved(2) snaplen(4) options
        if body_len < 8 {
            self.anomalies.bad_blocks += 1;
            return;
        }
        let be = self.be;
        let link = LinkType::from_dlt(u32::from(rd16(&self.buf, body, be)));
        let snaplen = rd32(&self.buf, body + 4, be);
        let mut conv = TsConv::Mul(1);
        let mut offset_us = 0i64;
        let end = body + body_len;
        let mut p = body + 8;
        while p + 4 <= end {
            let code = rd16(&self.buf, p, be);
            let olen = usize::from(rd16(&self.buf, p + 2, be));
            p += 4;
            if code == 0 || p + olen > end {
                break;
            }
            match code {
                9 if olen >= 1 => {
                    conv = TsConv::from_tsresol(self.buf.get(p).copied().unwrap_or(6))
                }
                14 if olen >= 8 => {
                    offset_us = (rd64(&self.buf, p, be) as i64).saturating_mul(1_000_000)
                }
                _ => {}
            }
            p += (olen + 3) & !3;
        }
        if self.ifaces.len() >= MAX_IFACES {
            self.anomalies.too_many_interfaces += 1;
            return;
        }
        self.ifaces.push(Iface {
            link,
            snaplen,
            conv,
            offset_us,
        });
    }

    fn parse_epb(&mut self, obsolete: bool, body: usize, body_len: usize) -> Option<Loc> {
        // EPB: interface(4) ts_high(4) ts_low(4) caplen(4) origlen(4) data
        // PB:  interface(2) drops(2)   ts_high(4) ts_low(4) caplen(4) len(4) data
        if body_len < 20 {
            self.anomalies.bad_blocks += 1;
            return None;
        }
        let be = self.be;
        let Some(h) = self.buf.get(body..).and_then(|b| b.first_chunk::<20>()) else {
            self.anomalies.bad_blocks += 1;
            return None;
        };
        let ifid = if obsolete {
            u32::from(rd16(h, 0, be))
        } else {
            rd32_at(h, 0, be)
        };
        let units = u64::from(rd32_at(h, 4, be)) << 32 | u64::from(rd32_at(h, 8, be));
        let caplen = rd32_at(h, 12, be);
        let orig_len = rd32_at(h, 16, be);
        if caplen as usize > body_len - 20 {
            self.anomalies.bad_blocks += 1;
            return None;
        }
        if caplen > MAX_CAPLEN {
            self.anomalies.oversized_records += 1;
            return None;
        }
        let Some(iface) = self.ifaces.get(ifid as usize).copied() else {
            self.anomalies.unknown_interface += 1;
            return None;
        };
        let ts = Timestamp(iface.conv.micros(units).saturating_add(iface.offset_us));
        self.last_ts = ts;
        Some(Loc {
            off: body + 20,
            len: caplen as usize,
            ts,
            link: iface.link,
            orig_len,
        })
    }

    fn parse_spb(&mut self, body: usize, body_len: usize) -> Option<Loc> {
        // origlen(4) data; interface 0, no timestamp.
        if body_len < 4 {
            self.anomalies.bad_blocks += 1;
            return None;
        }
        let orig_len = rd32(&self.buf, body, self.be);
        let Some(iface) = self.ifaces.first().copied() else {
            self.anomalies.unknown_interface += 1;
            return None;
        };
        let mut caplen = (orig_len as usize).min(body_len - 4);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        if caplen > MAX_CAPLEN as usize {
            self.anomalies.oversized_records += 1;
            return None;
        }
        Some(Loc {
            off: body + 4,
            len: caplen,
            ts: self.last_ts,
            link: iface.link,
            orig_len,
        })
    }

    /// True if a block that looks intact starts at `start`.
    fn ng_candidate_ok(&mut self) -> Result<bool, Error> {
        let s = self.start;
        let raw = rd32(&self.buf, s, self.be);
        let be = if raw == SHB {
            match rd32(&self.buf, s + 8, false) {
                BOM => false,
                BOM_SWAPPED => true,
                _ => return Ok(false),
            }
        } else if (1..=10).contains(&raw) {
            self.be
        } else {
            return Ok(false);
        };
        let len = rd32(&self.buf, s + 4, be) as usize;
        if len < 12 || len & 3 != 0 || len > RESYNC_MAX_BLOCK || !self.fill(len)? {
            return Ok(false);
        }
        Ok(rd32(&self.buf, self.start + len - 4, be) as usize == len)
    }

    fn resync_ng(&mut self) -> Result<(), Error> {
        self.anomalies.resyncs += 1;
        let from = self.bytes_read();
        loop {
            self.start = (self.start + 4).min(self.end);
            if !self.fill(12)? {
                self.start = self.end;
                break;
            }
            if self.ng_candidate_ok()? {
                break;
            }
        }
        self.anomalies.resync_skipped_bytes += self.bytes_read() - from;
        Ok(())
    }
}

/// A reader's buffer, shared with whoever reads frames in it.
pub type SharedBuffer = Arc<Vec<u8>>;

impl FileReader {
    /// The next frame and the buffer it lies in. Whoever keeps a clone of
    /// the buffer may read the frame's bytes later at their offset in it
    /// ([`FileReader::offset_in`]): the reader does not write into a
    /// buffer somebody else holds.
    #[inline]
    pub fn next_shared(&mut self) -> Result<Option<(Frame<'_>, &SharedBuffer)>, Error> {
        let loc = match self.kind {
            Kind::Pcap(f) => self.locate_pcap(f)?,
            Kind::PcapNg => self.locate_ng()?,
        };
        Ok(loc.map(|l| {
            (
                Frame {
                    ts: l.ts,
                    link: l.link,
                    data: self.buf.get(l.off..l.off + l.len).unwrap_or(&[]),
                    orig_len: l.orig_len,
                },
                &self.buf,
            )
        }))
    }

    /// Where `data` (a frame handed out with `buf` by
    /// [`FileReader::next_shared`]) starts in `buf`.
    #[inline]
    pub fn offset_in(data: &[u8], buf: &SharedBuffer) -> usize {
        (data.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize)
    }
}

impl Source for FileReader {
    /// Inlined so that the frame reaches the caller in registers, not through
    /// a returned struct read back with wider loads than it was written with.
    #[inline]
    fn next_frame(&mut self) -> Result<Option<Frame<'_>>, Error> {
        let loc = match self.kind {
            Kind::Pcap(f) => self.locate_pcap(f)?,
            Kind::PcapNg => self.locate_ng()?,
        };
        Ok(loc.map(|l| Frame {
            ts: l.ts,
            link: l.link,
            data: self.buf.get(l.off..l.off + l.len).unwrap_or(&[]),
            orig_len: l.orig_len,
        }))
    }
}

#[cfg(test)]
mod tests;
