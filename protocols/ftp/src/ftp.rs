//! FTP control connection analyzer (RFC 959; AUTH TLS from RFC 4217).
//!
//! Reads commands and replies line by line (lines capped at [`MAX_LINE`]).
//! Keeps the server greeting (`220`, possibly multi-line) as the banner and
//! pairs USER/PASS commands with their replies to emit one
//! [`CleartextLogin`] per login attempt: a PASS and its reply (230/202 →
//! success, 4xx/5xx → failure), a USER answered directly with 2xx/4xx/5xx,
//! or a USER never followed by PASS. Passwords are only classified.
//! After an accepted `AUTH TLS`/`AUTH SSL` (234) the rest of the connection
//! is TLS: it goes to the TLS analyzer, as Zeek hands it to its SSL analyzer,
//! so the TLS handshake is logged. After an accepted `AUTH GSSAPI` (334),
//! the security exchange travels base64-encoded in `ADAT` commands and
//! `335 ADAT=` / `235 ADAT=` replies (RFC 2228); GridFTP's GSI mechanism is
//! TLS, so, like Zeek, the decoded tokens go to a TLS analyzer when the
//! first one is a TLS handshake record. ADAT lines may be up to
//! [`MAX_ADAT_LINE`] long; decoded bytes wait for the TLS analyzer in a
//! buffer of at most [`MAX_ADAT_BUFFER`] per direction.

use crate::line::{LineReader, Next};
use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::{CleartextLogin, LoginProtocol, PasswordClass};
use model::{Direction, Transport};
use std::collections::VecDeque;

/// Longest command or reply line handled; longer lines are skipped.
pub const MAX_LINE: usize = 512;
/// Commands awaiting replies (pipelining); older ones are dropped beyond this.
const MAX_PENDING: usize = 32;
/// Login records emitted per connection at most.
const MAX_LOGINS: u32 = 256;
/// Malformed lines tolerated before giving up.
const MAX_BAD: u32 = 32;
/// Longest line read during an ADAT exchange (tokens carry certificates).
pub const MAX_ADAT_LINE: usize = 64 * 1024;
/// Decoded ADAT bytes kept for the TLS analyzer per direction.
pub const MAX_ADAT_BUFFER: usize = 64 * 1024;

/// FTP (`ftp`, TCP 21).
pub struct Ftp;

impl Protocol for Ftp {
    fn name(&self) -> &'static str {
        "ftp"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[21]
    }

    fn probe(&self, dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        match dir {
            Direction::ToClient => probe_greeting(data, port_hint),
            Direction::ToServer if port_hint => probe_command(data),
            Direction::ToServer => Probe::NoMatch,
        }
    }

    /// The `220` greeting (a client's command only on FTP ports).
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"2")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(FtpAnalyzer::default())
    }
}

/// `220` + space or dash + printable text. Without the port hint the first
/// line must also mention FTP and not SMTP (SMTP greets with 220 too).
fn probe_greeting(data: &[u8], port_hint: bool) -> Probe {
    const PREFIX: &[u8] = b"220";
    if data.len() < 4 {
        return if PREFIX.starts_with(data) || data.starts_with(PREFIX) {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        };
    }
    if !data.starts_with(PREFIX) || !matches!(data[3], b' ' | b'-') {
        return Probe::NoMatch;
    }
    let window = &data[..data.len().min(MAX_LINE)];
    let line_end = memchr::memchr(b'\n', window);
    let line = &window[..line_end.unwrap_or(window.len())];
    if !line
        .iter()
        .all(|&b| b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80)
    {
        return Probe::NoMatch;
    }
    if port_hint {
        return Probe::Match;
    }
    if line_end.is_none() && data.len() < MAX_LINE {
        return Probe::NeedMore;
    }
    if contains_ci(line, b"ftp") && !contains_ci(line, b"smtp") {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}

/// A client that speaks first (greeting missed): `USER ` or `AUTH ` at the start.
fn probe_command(data: &[u8]) -> Probe {
    for cmd in [&b"USER "[..], b"AUTH "] {
        let n = data.len().min(cmd.len());
        if data[..n].eq_ignore_ascii_case(&cmd[..n]) {
            return if n == cmd.len() {
                Probe::Match
            } else {
                Probe::NeedMore
            };
        }
    }
    Probe::NoMatch
}

/// Decodes a base64 token (RFC 4648, padding optional, surrounding
/// whitespace ignored); `None` if it is not base64.
fn base64(s: &[u8]) -> Option<Vec<u8>> {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    let s = s.get(start..end)?;
    let s = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Case-insensitive substring test without allocating.
pub(crate) fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The mechanism an AUTH command asks for (RFC 2228, RFC 4217).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mech {
    /// `TLS`, `SSL`, `TLS-C`, `TLS-P`: the connection turns to TLS on 234.
    Tls,
    /// `GSSAPI`: ADAT exchange on 334 (GridFTP's GSI: TLS inside).
    Gssapi,
    Other,
}

/// A command waiting for its final reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    User,
    Pass(PasswordClass),
    Auth(Mech),
    Other,
}

/// Per-connection FTP state.
#[derive(Default)]
pub struct FtpAnalyzer {
    lines: [LineReader; 2],
    /// A greeting reply was seen (or skipped: first reply was not 220).
    greeted: bool,
    /// Code of the multi-line reply in progress.
    multiline: Option<u16>,
    /// The multi-line reply in progress is the greeting.
    in_greeting: bool,
    banner: String,
    pending: VecDeque<Cmd>,
    /// Argument of the last USER command.
    user: Option<String>,
    /// A USER was sent and no record covers it yet.
    user_open: bool,
    logins: u32,
    bad: u32,
    /// The TLS analyzer of an AUTH TLS session or an ADAT exchange.
    tls: Option<Box<dyn Analyzer>>,
    /// After AUTH TLS: every byte goes to `tls`.
    tls_stream: bool,
    /// An ADAT exchange is going on (its tokens go to `tls`).
    adat: bool,
    /// The next client token is the first of the exchange.
    adat_first: bool,
    /// Decoded ADAT bytes not yet consumed by `tls`, per direction.
    adat_buf: [Vec<u8>; 2],
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

/// `NNN` reply code at the start of a line, and the byte after it.
fn reply_code(line: &[u8]) -> Option<(u16, Option<u8>)> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
    Some((code, line.get(3).copied()))
}

impl FtpAnalyzer {
    fn emit(&mut self, password: PasswordClass, code: Option<u16>, out: &mut Out<'_>) {
        if self.logins >= MAX_LOGINS {
            if self.logins == MAX_LOGINS {
                out.weird("ftp_too_many_logins");
                self.logins += 1;
            }
            return;
        }
        self.logins += 1;
        let success = match code {
            Some(200..=299) => Some(true),
            Some(400..=599) => Some(false),
            _ => None,
        };
        out.emit(CleartextLogin {
            protocol: LoginProtocol::Ftp,
            user: self.user.clone(),
            password,
            banner: (!self.banner.is_empty()).then(|| self.banner.clone()),
            success,
            reply_code: code,
        });
    }

    fn bad_line(&mut self, name: &str, out: &mut Out<'_>) -> bool {
        out.weird(name);
        self.bad += 1;
        self.bad >= MAX_BAD
    }

    fn command(&mut self, line: &[u8], out: &mut Out<'_>) {
        let (verb, arg) = match memchr::memchr(b' ', line) {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &[][..]),
        };
        let cmd = if verb.eq_ignore_ascii_case(b"USER") {
            if self.user_open {
                self.emit(PasswordClass::None, None, out);
            }
            self.user = Some(model::text::field(arg));
            self.user_open = true;
            Cmd::User
        } else if verb.eq_ignore_ascii_case(b"PASS") {
            self.user_open = false;
            Cmd::Pass(PasswordClass::classify(
                self.user.as_deref().unwrap_or(""),
                arg,
            ))
        } else if verb.eq_ignore_ascii_case(b"AUTH") {
            self.end_adat(out);
            let mech = model::text::field(arg).to_ascii_uppercase();
            Cmd::Auth(match mech.as_str() {
                "TLS" | "SSL" | "TLS-C" | "TLS-P" => Mech::Tls,
                "GSSAPI" => Mech::Gssapi,
                _ => Mech::Other,
            })
        } else if verb.eq_ignore_ascii_case(b"ADAT") && self.adat {
            if let Some(token) = base64(arg) {
                if std::mem::take(&mut self.adat_first) && !token.starts_with(&[22, 3]) {
                    // A GSSAPI mechanism other than GSI's TLS.
                    self.end_adat(out);
                } else {
                    self.adat_feed(0, &token, out);
                }
            }
            Cmd::Other
        } else {
            Cmd::Other
        };
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
            out.weird("ftp_too_many_pending_commands");
        }
        self.pending.push_back(cmd);
    }

    fn append_banner(&mut self, text: &[u8]) {
        let text = model::text::field(text);
        if text.is_empty() || self.banner.len() >= model::text::MAX_FIELD {
            return;
        }
        if !self.banner.is_empty() {
            self.banner.push(' ');
        }
        self.banner.push_str(&text);
        if self.banner.len() > model::text::MAX_FIELD {
            let mut cut = model::text::MAX_FIELD;
            while !self.banner.is_char_boundary(cut) {
                cut -= 1;
            }
            self.banner.truncate(cut);
        }
    }

    /// Handles one server line; returns `Done` when the session turns to TLS.
    fn reply(&mut self, line: &[u8], out: &mut Out<'_>) -> Option<Progress> {
        let parsed = reply_code(line);
        if let Some(code) = self.multiline {
            // Inside a multi-line reply: it ends with "NNN " (same code).
            match parsed {
                Some((c, sep)) if c == code && sep != Some(b'-') => {
                    if self.in_greeting {
                        self.append_banner(line.get(4..).unwrap_or(&[]));
                    }
                    self.multiline = None;
                    self.in_greeting = false;
                    return self.final_reply(code, line, out);
                }
                _ => {
                    if self.in_greeting {
                        let text = match parsed {
                            Some((c, Some(b'-'))) if c == code => line.get(4..).unwrap_or(&[]),
                            _ => line,
                        };
                        self.append_banner(text);
                    }
                    return None;
                }
            }
        }
        let Some((code, sep)) = parsed else {
            return self
                .bad_line("ftp_invalid_reply", out)
                .then_some(Progress::Done);
        };
        let greeting = !self.greeted && code == 220;
        if greeting {
            self.append_banner(line.get(4..).unwrap_or(&[]));
        }
        if sep == Some(b'-') {
            self.multiline = Some(code);
            self.in_greeting = greeting;
            return None;
        }
        self.final_reply(code, line, out)
    }

    fn final_reply(&mut self, code: u16, line: &[u8], out: &mut Out<'_>) -> Option<Progress> {
        if self.adat {
            self.adat_reply(code, line, out);
        }
        if !self.greeted {
            self.greeted = true;
            if code == 220 || code == 120 {
                return None;
            }
        }
        if (100..200).contains(&code) {
            return None; // preliminary
        }
        let cmd = self.pending.pop_front()?;
        match cmd {
            Cmd::User => {
                if self.user_open && !matches!(code, 300..=399) {
                    self.user_open = false;
                    self.emit(PasswordClass::None, Some(code), out);
                }
            }
            Cmd::Pass(class) => self.emit(class, Some(code), out),
            Cmd::Auth(Mech::Tls) if code == 234 => {
                // The rest of the connection is TLS.
                self.flush(out);
                self.tls = Some(proto_tls::Tls.start());
                self.tls_stream = true;
            }
            Cmd::Auth(Mech::Gssapi) if code == 334 => {
                self.tls = Some(proto_tls::Tls.start());
                self.adat = true;
                self.adat_first = true;
            }
            Cmd::Auth(_) | Cmd::Other => {}
        }
        None
    }

    /// A reply during an ADAT exchange (RFC 2228 §3): 335 carries a token,
    /// 235 the last one; other outcomes end the exchange.
    fn adat_reply(&mut self, code: u16, line: &[u8], out: &mut Out<'_>) {
        match code {
            235 | 335 => {
                let text = line.get(4..).unwrap_or_default();
                let token = text
                    .windows(5)
                    .position(|w| w.eq_ignore_ascii_case(b"ADAT="))
                    .and_then(|p| base64(&text[p + 5..]));
                if let Some(token) = token {
                    self.adat_feed(1, &token, out);
                }
                if code == 235 {
                    self.end_adat(out);
                }
            }
            232 | 234 | 421 | 431 | 500 | 501 | 503 | 535 => self.end_adat(out),
            _ => {}
        }
    }

    /// Gives decoded ADAT bytes of direction `d` to the TLS analyzer.
    fn adat_feed(&mut self, d: usize, bytes: &[u8], out: &mut Out<'_>) {
        let Some(tls) = self.tls.as_mut() else { return };
        if self.adat_buf[d].len() + bytes.len() > MAX_ADAT_BUFFER {
            out.weird("ftp_adat_buffer_limit");
            self.end_adat(out);
            return;
        }
        self.adat_buf[d].extend_from_slice(bytes);
        let dir = if d == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let mut off = 0;
        let mut done = false;
        while off < self.adat_buf[d].len() {
            match tls.feed(dir, &self.adat_buf[d][off..], out) {
                Progress::Consumed(0) => break,
                Progress::Consumed(n) => off = (off + n).min(self.adat_buf[d].len()),
                Progress::Done => {
                    done = true;
                    break;
                }
            }
        }
        self.adat_buf[d].drain(..off);
        if done {
            self.end_adat(out);
        }
    }

    /// Ends an ADAT exchange, logging its TLS handshake.
    fn end_adat(&mut self, out: &mut Out<'_>) {
        if !self.adat {
            return;
        }
        self.adat = false;
        self.adat_buf = Default::default();
        if let Some(mut tls) = self.tls.take() {
            tls.finish(out);
        }
    }

    fn flush(&mut self, out: &mut Out<'_>) {
        while let Some(cmd) = self.pending.pop_front() {
            if let Cmd::Pass(class) = cmd {
                self.emit(class, None, out);
            }
        }
        if self.user_open {
            self.user_open = false;
            self.emit(PasswordClass::None, None, out);
        }
    }
}

impl Analyzer for FtpAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        if self.tls_stream {
            return self
                .tls
                .as_mut()
                .map_or(Progress::Done, |t| t.feed(dir, data, out));
        }
        let d = dir_index(dir);
        let mut pos = 0;
        while pos < data.len() {
            let max = if self.adat { MAX_ADAT_LINE } else { MAX_LINE };
            match self.lines[d].next(&data[pos..], max) {
                Next::Incomplete => break,
                Next::Skipped(n) => pos += n,
                Next::TooLong(n) => {
                    pos += n;
                    if self.bad_line("ftp_line_too_long", out) {
                        self.flush(out);
                        return Progress::Done;
                    }
                }
                Next::Line(line, n) => {
                    pos += n;
                    let done = match dir {
                        Direction::ToServer => {
                            self.command(line, out);
                            None
                        }
                        Direction::ToClient => self.reply(line, out),
                    };
                    if let Some(p) = done {
                        self.flush(out);
                        return p;
                    }
                    if self.tls_stream {
                        // AUTH TLS accepted: the bytes after this reply are TLS.
                        let rest = &data[pos..];
                        if rest.is_empty() {
                            return Progress::Consumed(pos);
                        }
                        return match self
                            .tls
                            .as_mut()
                            .map_or(Progress::Done, |t| t.feed(dir, rest, out))
                        {
                            Progress::Consumed(n) => Progress::Consumed(pos + n),
                            Progress::Done => Progress::Done,
                        };
                    }
                }
            }
        }
        Progress::Consumed(pos)
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Out<'_>) -> Progress {
        if self.tls_stream {
            return self
                .tls
                .as_mut()
                .map_or(Progress::Done, |t| t.gap(dir, len, out));
        }
        out.weird("content_gap");
        self.flush(out);
        Progress::Done
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.flush(out);
        self.adat = true; // end_adat also ends an AUTH TLS session's analyzer.
        self.end_adat(out);
    }
}
