//! Counting message-body bytes the way Zeek's `http.log` reports them
//! (`request_body_len` / `response_body_len`, from `HTTP_Entity::body_length`).
//!
//! Zeek counts the body after removing the transfer coding (chunk framing is
//! never counted) and *after* removing a `gzip`/`x-gzip`/`deflate` content
//! coding, and in its line mode it counts each line's bytes plus 2 for the
//! line end, whatever that end was:
//! - [`Counter::Raw`]: every byte (Content-Length bodies, chunk data, bodies
//!   read until the server closes after `Connection: close`, HTTP/0.9 replies);
//! - [`Counter::Lines`]: responses read until close without `Connection:
//!   close` are read line by line: a line ends at CRLF, LF or a bare CR and
//!   counts its bytes + 2, an unterminated last line too (so a bare LF counts
//!   one byte more than sent, a missing final CRLF two);
//! - [`Counter::CrlfLines`]: `multipart/*` bodies with a Content-Length are
//!   parsed as MIME, whose parts end lines only at CRLF: the bytes sent, plus
//!   2 when the body does not end with CRLF (an approximation of Zeek's MIME
//!   reader: parts with a Content-Length of their own are read raw);
//! - [`Counter::Inflate`]: the decoded size of a compressed body, decoded the
//!   way Zeek's zlib setup does it (gzip or zlib header detected, raw deflate
//!   when neither is there, nothing after the end of the compressed stream,
//!   nothing more after an error). A compressed MIME (`multipart/*`,
//!   `message/*`) body reaches Zeek's decoder line by line with the line
//!   ends (CR, LF) removed, so they are removed here too.
//!
//! Memory: the inflater (about 43 KiB, most of it the 32 KiB window) is
//! held per compressed body while it is read; at the body's end it is kept
//! for the next body of the same thread (at most one per data format and
//! thread: a fresh one costs 43 KiB of zeroing, a reused one only a reset).
//! Decoded bytes go through a 4 KiB stack buffer and are only counted.

use miniz_oxide::inflate::stream::{inflate, InflateState, MinReset};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};
use std::cell::RefCell;

/// How the bytes of one message body are counted.
#[derive(Default)]
pub enum Counter {
    /// Every byte.
    #[default]
    Raw,
    /// Zeek's line mode (CRLF, LF or CR end a line; each line counts + 2).
    Lines {
        /// The previous byte was a CR (a following LF belongs to it).
        cr: bool,
        /// Bytes of an unterminated line are pending.
        partial: bool,
    },
    /// MIME bodies: bytes as sent, + 2 if the body does not end with CRLF.
    CrlfLines {
        /// Bytes seen.
        any: bool,
        /// The last two bytes seen, oldest first.
        tail: [u8; 2],
    },
    /// Decoded size of a gzip/deflate body.
    Inflate(Box<Inflater>),
    /// The same, CR and LF bytes removed before decoding.
    InflateLines(Box<Inflater>),
}

impl Counter {
    /// A counter in Zeek's line mode.
    pub fn lines() -> Counter {
        Counter::Lines {
            cr: false,
            partial: false,
        }
    }

    /// A counter for MIME bodies with a Content-Length.
    pub fn crlf_lines() -> Counter {
        Counter::CrlfLines {
            any: false,
            tail: [0; 2],
        }
    }

    /// A counter of decoded bytes.
    pub fn inflate() -> Counter {
        Counter::Inflate(Box::default())
    }

    /// A counter of decoded bytes of a body read line by line.
    pub fn inflate_lines() -> Counter {
        Counter::InflateLines(Box::default())
    }

    /// Counts `data`, the next body bytes; returns how many count.
    pub fn add(&mut self, data: &[u8]) -> u64 {
        match self {
            Counter::Raw => data.len() as u64,
            Counter::Lines { cr, partial } => {
                let mut n = 0u64;
                let mut rest = data;
                while let Some(i) = memchr::memchr2(b'\r', b'\n', rest) {
                    if i > 0 {
                        n += i as u64;
                        *cr = false;
                    }
                    let b = rest[i];
                    // An LF right after a CR completes that CR's line end.
                    if !(b == b'\n' && *cr && i == 0) {
                        n += 2;
                    }
                    *cr = b == b'\r';
                    *partial = false;
                    rest = &rest[i + 1..];
                }
                if !rest.is_empty() {
                    n += rest.len() as u64;
                    *cr = false;
                    *partial = true;
                }
                n
            }
            Counter::CrlfLines { any, tail } => {
                match data {
                    [] => {}
                    [b] => *tail = [tail[1], *b],
                    [.., a, b] => *tail = [*a, *b],
                }
                *any |= !data.is_empty();
                data.len() as u64
            }
            Counter::Inflate(z) => z.add(data),
            Counter::InflateLines(z) => {
                let mut n = 0;
                for piece in data.split(|&b| b == b'\r' || b == b'\n') {
                    n += z.add(piece);
                }
                n
            }
        }
    }

    /// The body ended: what its end adds (an unterminated last line).
    pub fn end(&mut self) -> u64 {
        let extra = match self {
            Counter::Lines { partial: true, .. } => 2,
            Counter::CrlfLines { any: true, tail } if *tail != *b"\r\n" => 2,
            _ => 0,
        };
        *self = Counter::Raw;
        extra
    }

    /// True once a compressed body could not be decoded.
    pub fn failed(&self) -> bool {
        matches!(self, Counter::Inflate(z) | Counter::InflateLines(z) if z.phase == Phase::Failed)
    }
}

/// Where the decoder is in the compressed stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    /// Waiting for the first two bytes to tell gzip, zlib or raw deflate.
    #[default]
    Detect,
    /// Inside a gzip member header (RFC 1952 §2.3).
    GzipHeader,
    /// Inflating.
    Inflate,
    /// The compressed stream ended; later bytes are not counted.
    Done,
    /// Undecodable; nothing more is counted.
    Failed,
}

/// Progress through a gzip header (RFC 1952 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Gz {
    /// Bytes of the fixed 10-byte header read.
    #[default]
    Fixed,
    /// FEXTRA length (2 bytes) being read.
    ExtraLen,
    /// FEXTRA bytes left to skip.
    Extra,
    /// Zero-terminated FNAME.
    Name,
    /// Zero-terminated FCOMMENT.
    Comment,
    /// FHCRC (2 bytes).
    Crc,
}

/// A streaming gzip/zlib/deflate decoder that only counts its output.
#[derive(Default)]
pub struct Inflater {
    phase: Phase,
    /// The first bytes, kept until the format is known.
    first: [u8; 2],
    have: usize,
    gz: Gz,
    flags: u8,
    /// Bytes read in the current gzip header field (fixed part, lengths).
    got: usize,
    /// FEXTRA length, then bytes left to skip.
    extra: usize,
    state: Option<Box<InflateState>>,
    /// The state decodes zlib (else raw deflate).
    zlib: bool,
}

thread_local! {
    /// Decoder states of ended bodies, `[raw deflate, zlib]`, for reuse.
    static SPARE: RefCell<[Option<Box<InflateState>>; 2]> = const { RefCell::new([None, None]) };
}

/// A decoder state for `format` (`zlib` or raw deflate): a spare one reset,
/// else a new one.
///
/// The spare is reset without zeroing its window: bytes left there by an
/// earlier body can only be copied by back-references reaching before the
/// start of this body's output, and only the number of bytes decoded is
/// used, never their values, so counts do not depend on them.
fn take_state(zlib: bool) -> Box<InflateState> {
    let spare = SPARE
        .try_with(|s| s.try_borrow_mut().ok()?[usize::from(zlib)].take())
        .ok()
        .flatten();
    match spare {
        Some(mut state) => {
            state.reset_as(MinReset);
            state
        }
        None => InflateState::new_boxed(if zlib {
            DataFormat::Zlib
        } else {
            DataFormat::Raw
        }),
    }
}

/// Keeps `state` for the next body of this thread (one per format).
fn give_back(state: Box<InflateState>, zlib: bool) {
    let _ = SPARE.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            s[usize::from(zlib)] = Some(state);
        }
    });
}

impl Drop for Inflater {
    fn drop(&mut self) {
        self.release_state();
    }
}

impl Inflater {
    /// Hands the decoder state (if any) back for the thread's next body.
    fn release_state(&mut self) {
        if let Some(state) = self.state.take() {
            give_back(state, self.zlib);
        }
    }

    /// Feeds compressed bytes; returns the decoded bytes they produced.
    pub fn add(&mut self, data: &[u8]) -> u64 {
        let mut rest = data;
        if self.phase == Phase::Detect {
            while self.have < 2 {
                let Some((&b, r)) = rest.split_first() else {
                    return 0;
                };
                self.first[self.have] = b;
                self.have += 1;
                rest = r;
            }
            let [a, b] = self.first;
            self.zlib = if a == 0x1f && b == 0x8b {
                self.phase = Phase::GzipHeader;
                false
            } else {
                self.phase = Phase::Inflate;
                // zlib: CM 8 and the header check (RFC 1950 §2.2); else raw
                // deflate (Zeek retries servers that send no zlib header so).
                a & 0x0f == 8 && (u16::from(a) * 256 + u16::from(b)) % 31 == 0
            };
            self.state = Some(take_state(self.zlib));
            let first = self.first;
            let n = self.step(&first);
            return n + self.step(rest);
        }
        self.step(rest)
    }

    fn step(&mut self, mut data: &[u8]) -> u64 {
        if self.phase == Phase::GzipHeader {
            data = self.gzip_header(data);
        }
        if self.phase != Phase::Inflate || data.is_empty() {
            return 0;
        }
        let Some(state) = self.state.as_mut() else {
            return 0;
        };
        let mut buf = [0u8; 4096];
        let mut produced = 0u64;
        loop {
            let r = inflate(state, data, &mut buf, MZFlush::None);
            produced += r.bytes_written as u64;
            data = data.get(r.bytes_consumed..).unwrap_or_default();
            match r.status {
                Ok(MZStatus::StreamEnd) => {
                    self.phase = Phase::Done;
                    self.release_state();
                    break;
                }
                Ok(_) => {
                    let full = r.bytes_written == buf.len();
                    if !full && (data.is_empty() || r.bytes_consumed == 0) {
                        break;
                    }
                }
                Err(MZError::Buf) => break,
                Err(_) => {
                    self.phase = Phase::Failed;
                    self.release_state();
                    break;
                }
            }
        }
        produced
    }

    /// Skips gzip header bytes; returns the bytes after the header.
    fn gzip_header<'a>(&mut self, mut data: &'a [u8]) -> &'a [u8] {
        const FHCRC: u8 = 2;
        const FEXTRA: u8 = 4;
        const FNAME: u8 = 8;
        const FCOMMENT: u8 = 16;
        while self.phase == Phase::GzipHeader {
            let next = |g: Gz, flags: u8| match g {
                Gz::Fixed if flags & FEXTRA != 0 => Gz::ExtraLen,
                Gz::Fixed | Gz::ExtraLen | Gz::Extra if flags & FNAME != 0 => Gz::Name,
                Gz::Fixed | Gz::ExtraLen | Gz::Extra | Gz::Name if flags & FCOMMENT != 0 => {
                    Gz::Comment
                }
                Gz::Fixed | Gz::ExtraLen | Gz::Extra | Gz::Name | Gz::Comment
                    if flags & FHCRC != 0 =>
                {
                    Gz::Crc
                }
                _ => Gz::Fixed,
            };
            let Some((&b, rest)) = data.split_first() else {
                return data;
            };
            match self.gz {
                Gz::Fixed => {
                    // ID1 ID2 (already checked) CM FLG MTIME(4) XFL OS
                    if self.got == 2 && b != 8 {
                        self.phase = Phase::Failed;
                        return &[];
                    }
                    if self.got == 3 {
                        self.flags = b;
                    }
                    self.got += 1;
                    data = rest;
                    if self.got == 10 {
                        self.got = 0;
                        self.advance(next(Gz::Fixed, self.flags));
                    }
                }
                Gz::ExtraLen => {
                    self.extra |= usize::from(b) << (8 * self.got);
                    self.got += 1;
                    data = rest;
                    if self.got == 2 {
                        self.got = 0;
                        self.gz = Gz::Extra;
                        if self.extra == 0 {
                            self.advance(next(Gz::Extra, self.flags));
                        }
                    }
                }
                Gz::Extra => {
                    let n = self.extra.min(data.len());
                    self.extra -= n;
                    data = &data[n..];
                    if self.extra == 0 {
                        self.advance(next(Gz::Extra, self.flags));
                    }
                }
                Gz::Name | Gz::Comment => {
                    data = rest;
                    if b == 0 {
                        self.advance(next(self.gz, self.flags));
                    }
                }
                Gz::Crc => {
                    self.got += 1;
                    data = rest;
                    if self.got == 2 {
                        self.advance(Gz::Fixed);
                    }
                }
            }
        }
        data
    }

    /// Moves to header part `g`; `Fixed` (wrapping around) ends the header.
    fn advance(&mut self, g: Gz) {
        self.got = 0;
        if g == Gz::Fixed {
            self.phase = Phase::Inflate;
        }
        self.gz = g;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(mut c: Counter, parts: &[&[u8]]) -> u64 {
        parts.iter().map(|p| c.add(p)).sum::<u64>() + c.end()
    }

    #[test]
    fn raw_counts_bytes() {
        assert_eq!(count(Counter::Raw, &[b"abc\r\n", b"de"]), 7);
    }

    #[test]
    fn line_mode_counts_line_ends_as_two() {
        // CRLF lines are exact.
        assert_eq!(count(Counter::lines(), &[b"ab\r\ncd\r\n"]), 8);
        // A bare LF counts one more, a bare CR too.
        assert_eq!(count(Counter::lines(), &[b"ab\ncd\rx\r\n"]), 11);
        // An unterminated last line counts two more.
        assert_eq!(
            count(Counter::lines(), &[b"POST request received successfully!"]),
            37
        );
        // A CRLF split across deliveries is one line end.
        assert_eq!(count(Counter::lines(), &[b"ab\r", b"\ncd\r\n"]), 8);
        // Empty lines.
        assert_eq!(count(Counter::lines(), &[b"\r\n\n"]), 4);
        assert_eq!(count(Counter::lines(), &[]), 0);
    }

    #[test]
    fn mime_bodies_add_two_without_final_crlf() {
        assert_eq!(
            count(Counter::crlf_lines(), &[b"--b\r\nx\ny\r\n--b--\r\n"]),
            17
        );
        assert_eq!(count(Counter::crlf_lines(), &[b"--b\r\n--b--"]), 12);
        assert_eq!(count(Counter::crlf_lines(), &[b"--b--\r", b"\n"]), 7);
        assert_eq!(count(Counter::crlf_lines(), &[]), 0);
    }

    /// "hello hello hello hello\n" compressed by `gzip -n` (with FNAME set
    /// by hand to "a") and by zlib, and as raw deflate.
    const TEXT: &[u8] = b"hello hello hello hello\n";

    fn deflate_raw() -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec(TEXT, 6)
    }

    fn gzip(flags: u8, extra: &[u8]) -> Vec<u8> {
        let mut v = vec![0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3];
        if flags & 4 != 0 {
            v.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            v.extend_from_slice(extra);
        }
        if flags & 8 != 0 {
            v.extend_from_slice(b"a\0");
        }
        if flags & 16 != 0 {
            v.extend_from_slice(b"comment\0");
        }
        if flags & 2 != 0 {
            v.extend_from_slice(&[0, 0]);
        }
        v.extend_from_slice(&deflate_raw());
        v.extend_from_slice(&[0; 8]); // CRC32 and ISIZE (not checked)
        v
    }

    #[test]
    fn inflates_gzip_zlib_and_raw_deflate_in_any_split() {
        let zlib = miniz_oxide::deflate::compress_to_vec_zlib(TEXT, 6);
        let inputs = [
            gzip(0, b""),
            gzip(8, b""),
            gzip(4 | 8 | 16 | 2, b"xyz"),
            zlib,
            deflate_raw(),
        ];
        for input in &inputs {
            for split in 0..input.len() {
                let (a, b) = input.split_at(split);
                assert_eq!(
                    count(Counter::inflate(), &[a, b]),
                    TEXT.len() as u64,
                    "{input:?} at {split}"
                );
            }
            // One byte at a time.
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(count(Counter::inflate(), &bytes), TEXT.len() as u64);
        }
    }

    #[test]
    fn line_ends_are_removed_before_decoding_mime_bodies() {
        let z = miniz_oxide::deflate::compress_to_vec_zlib(TEXT, 6);
        // Split the compressed bytes with line ends: they are not part of it.
        let (a, b) = z.split_at(z.len() / 2);
        let with_crlf = [a, b"\r\n", b, b"\n"].concat();
        assert_eq!(
            count(Counter::inflate_lines(), &[&with_crlf]),
            TEXT.len() as u64
        );
    }

    #[test]
    fn reused_decoder_states_count_the_same() {
        let zlib = miniz_oxide::deflate::compress_to_vec_zlib(TEXT, 6);
        let inputs = [gzip(0, b""), zlib, deflate_raw()];
        for _ in 0..3 {
            for input in &inputs {
                // A body cut short (its state dropped mid-stream), a failed
                // one, then a whole one: each state comes back reset.
                let mut cut = Counter::inflate();
                cut.add(&input[..input.len() / 2]);
                drop(cut);
                let mut bad = Counter::inflate();
                bad.add(&[0x78, 0x9c, 0xff, 0xff, 0xff]);
                drop(bad);
                assert_eq!(count(Counter::inflate(), &[input]), TEXT.len() as u64);
            }
        }
    }

    #[test]
    fn bytes_after_the_compressed_stream_and_garbage_are_not_counted() {
        let mut g = gzip(0, b"");
        g.extend_from_slice(b"trailing junk");
        assert_eq!(count(Counter::inflate(), &[&g]), TEXT.len() as u64);
        let mut c = Counter::inflate();
        c.add(&[0xff; 64]);
        assert!(c.failed());
        assert_eq!(c.add(b"more"), 0);
    }
}
