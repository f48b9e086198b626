//! Mail protocol analyzers: SMTP (RFC 5321; STARTTLS, RFC 3207; AUTH,
//! RFC 4954), IMAP (RFC 9051; STARTTLS and LOGIN) and POP3 (RFC 1939; STLS,
//! RFC 2595; USER/PASS).
//!
//! Each reads the command phase of a connection line by line: the server's
//! greeting (its software, often), the client's EHLO/HELO name (SMTP),
//! whether the server offers STARTTLS and whether the client takes it. After
//! an accepted STARTTLS/STLS the rest of the connection is TLS and goes to
//! the TLS analyzer, as Zeek does, so the handshake and the server's
//! certificate are recorded. A login outside TLS (SMTP AUTH PLAIN/LOGIN,
//! IMAP LOGIN, POP3 USER/PASS) becomes a [`CleartextLogin`] with the user
//! name and the password only classified, never kept.
//!
//! **No mail content is read**: the analysis ends at the first message
//! transaction (SMTP MAIL), mailbox selection or listing (IMAP SELECT,
//! EXAMINE, FETCH...), or message retrieval (POP3 RETR/TOP/LIST), and after
//! a login's answer. One [`MailRecord`] per connection is emitted when the
//! analysis ends, before the TLS records of a STARTTLS.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::{CleartextLogin, LoginProtocol, MailProtocol, MailRecord, PasswordClass};
use model::{text, Direction, Transport};

#[cfg(test)]
mod tests;

/// Longest command or reply line read; a longer one ends the analysis.
pub const MAX_LINE: usize = 2048;
/// Command lines read before the analysis gives up (no STARTTLS, login or
/// transaction came).
pub const MAX_COMMANDS: u32 = 64;
/// Longest banner, EHLO name or user name kept.
const MAX_TEXT: usize = 128;

/// SMTP (ports 25, 587, 2525).
pub struct Smtp;
/// IMAP (port 143).
pub struct Imap;
/// POP3 (port 110).
pub struct Pop3;

fn starts_ci(line: &[u8], prefix: &[u8]) -> bool {
    line.len() >= prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The first line of `data` if complete (without its line end).
fn first_line(data: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr(b'\n', &data[..data.len().min(MAX_LINE)])?;
    Some(trim_eol(&data[..end]))
}

fn trim_eol(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Shared probe: the server's greeting decides; a client speaking first
/// (greeting missed) needs the port and a command this protocol has.
fn probe_lines(
    dir: Direction,
    data: &[u8],
    port_hint: bool,
    greeting: impl Fn(&[u8]) -> bool,
    client: &[&[u8]],
) -> Probe {
    let Some(line) = first_line(data) else {
        return if data.len() >= MAX_LINE {
            Probe::NoMatch
        } else {
            Probe::NeedMore
        };
    };
    match dir {
        Direction::ToClient => {
            if greeting(line) {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
        Direction::ToServer => {
            if port_hint && client.iter().any(|c| starts_ci(line, c)) {
                Probe::Match
            } else {
                Probe::NoMatch
            }
        }
    }
}

impl Protocol for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }
    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }
    fn ports(&self) -> &'static [u16] {
        &[25, 587, 2525]
    }
    /// `220 ` naming (E)SMTP, or any `220` greeting that does not name FTP
    /// on an SMTP port (FTP greets with 220 too); EHLO/HELO from a client.
    fn probe(&self, dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        probe_lines(
            dir,
            data,
            port_hint,
            |l| {
                (starts_ci(l, b"220 ") || starts_ci(l, b"220-"))
                    && (contains_ci(l, b"smtp") || (port_hint && !contains_ci(l, b"ftp")))
            },
            &[b"EHLO ", b"HELO "],
        )
    }
    /// The `220` greeting (client commands only on mail ports).
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"2")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(MailAnalyzer::new(MailProtocol::Smtp))
    }
}

impl Protocol for Imap {
    fn name(&self) -> &'static str {
        "imap"
    }
    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }
    fn ports(&self) -> &'static [u16] {
        &[143]
    }
    /// `* OK`/`* PREAUTH` naming IMAP, or any such greeting on port 143.
    fn probe(&self, dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        probe_lines(
            dir,
            data,
            port_hint,
            |l| {
                (starts_ci(l, b"* OK") || starts_ci(l, b"* PREAUTH"))
                    && (port_hint || contains_ci(l, b"imap"))
            },
            &[],
        )
    }
    /// The `* OK` or `* PREAUTH` greeting.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"*")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(MailAnalyzer::new(MailProtocol::Imap))
    }
}

impl Protocol for Pop3 {
    fn name(&self) -> &'static str {
        "pop3"
    }
    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }
    fn ports(&self) -> &'static [u16] {
        &[110]
    }
    /// `+OK` on port 110 (POP3 greetings rarely name the protocol), or a
    /// greeting naming POP anywhere.
    fn probe(&self, dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        probe_lines(
            dir,
            data,
            port_hint,
            |l| starts_ci(l, b"+OK") && (port_hint || contains_ci(l, b"pop")),
            &[b"CAPA", b"USER ", b"STLS"],
        )
    }
    /// The `+OK` greeting.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"+")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(MailAnalyzer::new(MailProtocol::Pop3))
    }
}

/// What the client's last command waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Nothing,
    /// STARTTLS / STLS.
    StartTls,
    /// A login whose answer decides `success`.
    Login,
    /// SMTP AUTH LOGIN: the server's 334 prompts for the user, then the password.
    AuthLoginUser,
    AuthLoginPass,
    /// SMTP AUTH PLAIN without an initial response: the token follows.
    AuthPlain,
    /// POP3 USER: PASS follows.
    Pop3User,
}

/// Per-connection state, shared by the three protocols.
struct MailAnalyzer {
    rec: MailRecord,
    emitted: bool,
    greeted: bool,
    waiting: Waiting,
    /// The IMAP tag of the command waited for.
    tag: Vec<u8>,
    /// A login waiting for its answer.
    login: Option<CleartextLogin>,
    /// User name from SMTP AUTH LOGIN or POP3 USER, until the password.
    user: Option<String>,
    /// TLS after STARTTLS.
    tls: Option<Box<dyn Analyzer>>,
}

impl MailAnalyzer {
    fn new(protocol: MailProtocol) -> Self {
        MailAnalyzer {
            rec: MailRecord {
                protocol,
                banner: None,
                helo: None,
                starttls_offered: false,
                starttls: false,
                commands: 0,
            },
            emitted: false,
            greeted: false,
            waiting: Waiting::Nothing,
            tag: Vec::new(),
            login: None,
            user: None,
            tls: None,
        }
    }

    fn login_protocol(&self) -> LoginProtocol {
        match self.rec.protocol {
            MailProtocol::Smtp => LoginProtocol::Smtp,
            MailProtocol::Imap => LoginProtocol::Imap,
            MailProtocol::Pop3 => LoginProtocol::Pop3,
        }
    }

    fn emit(&mut self, out: &mut Out<'_>) {
        if !self.emitted {
            self.emitted = true;
            out.emit(self.rec.clone());
        }
        if let Some(l) = self.login.take() {
            out.emit(l);
        }
    }

    fn open_login(&mut self, user: Option<String>, password: &[u8]) {
        let password = PasswordClass::classify(user.as_deref().unwrap_or(""), password);
        self.login = Some(CleartextLogin {
            protocol: self.login_protocol(),
            user,
            password,
            banner: self.rec.banner.clone(),
            success: None,
            reply_code: None,
        });
        self.waiting = Waiting::Login;
    }

    /// One client line; `true` ends the analysis.
    fn command(&mut self, line: &[u8]) -> bool {
        self.rec.commands = self.rec.commands.saturating_add(1);
        // SMTP AUTH LOGIN and POP3 USER continue over several lines.
        match self.waiting {
            Waiting::AuthLoginUser => {
                self.user = base64(line).map(|u| text::bounded(&u, MAX_TEXT));
                self.waiting = Waiting::AuthLoginPass;
                return false;
            }
            Waiting::AuthLoginPass => {
                let user = self.user.take();
                let pass = base64(line).unwrap_or_default();
                self.open_login(user, &pass);
                return false;
            }
            Waiting::AuthPlain => {
                let (user, pass) = plain(line);
                self.open_login(user, &pass);
                return false;
            }
            _ => {}
        }
        let (tag, rest) = match self.rec.protocol {
            MailProtocol::Imap => split_word(line),
            _ => (&b""[..], line),
        };
        let (verb, args) = split_word(rest);
        let verb_is = |v: &[u8]| verb.eq_ignore_ascii_case(v);
        match self.rec.protocol {
            MailProtocol::Smtp => {
                if verb_is(b"EHLO") || verb_is(b"HELO") {
                    let (name, _) = split_word(args);
                    self.rec.helo = text::non_empty(&name[..name.len().min(MAX_TEXT)]);
                } else if verb_is(b"STARTTLS") {
                    self.waiting = Waiting::StartTls;
                } else if verb_is(b"AUTH") {
                    let (mech, initial) = split_word(args);
                    if mech.eq_ignore_ascii_case(b"PLAIN") && !initial.is_empty() {
                        let (user, pass) = plain(initial);
                        self.open_login(user, &pass);
                    } else if mech.eq_ignore_ascii_case(b"LOGIN") {
                        self.waiting = if initial.is_empty() {
                            Waiting::AuthLoginUser
                        } else {
                            self.user = base64(initial).map(|u| text::bounded(&u, MAX_TEXT));
                            Waiting::AuthLoginPass
                        };
                    } else if mech.eq_ignore_ascii_case(b"PLAIN") {
                        self.waiting = Waiting::AuthPlain; // the token follows alone
                    }
                } else if verb_is(b"MAIL") || verb_is(b"DATA") || verb_is(b"BDAT") {
                    return true; // a message transaction: never read
                }
            }
            MailProtocol::Imap => {
                self.tag = tag.to_vec();
                if verb_is(b"STARTTLS") {
                    self.waiting = Waiting::StartTls;
                } else if verb_is(b"LOGIN") {
                    let (user, rest) = imap_string(args);
                    let (pass, _) = imap_string(rest);
                    let user = text::non_empty(&user[..user.len().min(MAX_TEXT)]);
                    self.open_login(user, pass);
                } else if verb_is(b"AUTHENTICATE") {
                    let (mech, initial) = split_word(args);
                    if mech.eq_ignore_ascii_case(b"PLAIN") && !initial.is_empty() {
                        let (user, pass) = plain(initial);
                        self.open_login(user, &pass);
                    } else {
                        return true; // a SASL exchange we do not follow
                    }
                } else if [
                    &b"SELECT"[..],
                    b"EXAMINE",
                    b"FETCH",
                    b"UID",
                    b"APPEND",
                    b"LIST",
                    b"SEARCH",
                ]
                .iter()
                .any(|v| verb_is(v))
                {
                    return true; // mailbox contents: never read
                }
            }
            MailProtocol::Pop3 => {
                if verb_is(b"STLS") {
                    self.waiting = Waiting::StartTls;
                } else if verb_is(b"USER") {
                    self.user = text::non_empty(&args[..args.len().min(MAX_TEXT)]);
                    self.waiting = Waiting::Pop3User;
                } else if verb_is(b"PASS") {
                    let user = self.user.take();
                    self.open_login(user, args);
                } else if verb_is(b"APOP") {
                    return true; // digest login: no password crosses
                } else if [&b"RETR"[..], b"TOP", b"LIST", b"UIDL", b"STAT"]
                    .iter()
                    .any(|v| verb_is(v))
                {
                    return true;
                }
            }
        }
        self.rec.commands >= MAX_COMMANDS
    }

    /// One server line; `Some(true)` ends the analysis, `Some(false)` starts
    /// TLS after this line.
    fn reply(&mut self, line: &[u8]) -> Option<bool> {
        if !self.greeted {
            self.greeted = true;
            let text = match self.rec.protocol {
                MailProtocol::Smtp => line.get(4..).unwrap_or_default(),
                MailProtocol::Imap => line.get(2..).unwrap_or_default(),
                MailProtocol::Pop3 => line.get(3..).unwrap_or_default(),
            };
            let text = text.trim_ascii();
            self.rec.banner = text::non_empty(&text[..text.len().min(MAX_TEXT)]);
            if self.rec.protocol == MailProtocol::Imap && contains_ci(line, b"STARTTLS") {
                self.rec.starttls_offered = true;
            }
            return None;
        }
        // Capabilities: SMTP EHLO keywords, IMAP CAPABILITY, POP3 CAPA.
        let offered = match self.rec.protocol {
            MailProtocol::Smtp => {
                line.len() > 4
                    && line.get(..3) == Some(b"250")
                    && starts_ci(line[4..].trim_ascii(), b"STARTTLS")
            }
            MailProtocol::Imap => starts_ci(line, b"* ") && contains_ci(line, b"STARTTLS"),
            MailProtocol::Pop3 => line.eq_ignore_ascii_case(b"STLS"),
        };
        self.rec.starttls_offered |= offered;
        let (ok, final_line) = match self.rec.protocol {
            // Multi-line replies: `250-...` lines continue; the last has a space.
            MailProtocol::Smtp => (
                line.first().is_some_and(|b| matches!(b, b'2' | b'3')),
                line.get(3) != Some(&b'-'),
            ),
            MailProtocol::Imap => {
                let (tag, rest) = split_word(line);
                if tag == b"*" || tag == b"+" || tag != self.tag.as_slice() {
                    return None;
                }
                (starts_ci(rest, b"OK"), true)
            }
            MailProtocol::Pop3 => {
                if !(starts_ci(line, b"+OK") || starts_ci(line, b"-ERR")) {
                    return None;
                }
                (starts_ci(line, b"+OK"), true)
            }
        };
        if !final_line {
            return None;
        }
        match self.waiting {
            Waiting::StartTls => {
                self.waiting = Waiting::Nothing;
                let accepted = match self.rec.protocol {
                    MailProtocol::Smtp => line.get(..3) == Some(b"220"),
                    _ => ok,
                };
                if accepted {
                    self.rec.starttls = true;
                    return Some(false);
                }
            }
            Waiting::Login => {
                self.waiting = Waiting::Nothing;
                if let Some(l) = self.login.as_mut() {
                    l.success = Some(ok && line.get(..3) != Some(b"334"));
                    if self.rec.protocol == MailProtocol::Smtp {
                        l.reply_code = std::str::from_utf8(line.get(..3).unwrap_or_default())
                            .ok()
                            .and_then(|c| c.parse().ok());
                    }
                }
                return Some(true);
            }
            Waiting::Pop3User => {
                if !ok {
                    self.waiting = Waiting::Nothing;
                }
            }
            Waiting::AuthLoginUser | Waiting::AuthLoginPass | Waiting::AuthPlain => {
                // 334 prompts; anything else ends the exchange.
                if line.get(..3) != Some(b"334") {
                    self.waiting = Waiting::Nothing;
                }
            }
            Waiting::Nothing => {}
        }
        None
    }
}

impl Analyzer for MailAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        if let Some(tls) = self.tls.as_mut() {
            return tls.feed(dir, data, out);
        }
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            let Some(end) = memchr::memchr(b'\n', &rest[..rest.len().min(MAX_LINE)]) else {
                if rest.len() >= MAX_LINE {
                    out.weird("mail_line_too_long");
                    self.emit(out);
                    return Progress::Done;
                }
                return Progress::Consumed(pos);
            };
            let line = trim_eol(&rest[..end]);
            pos += end + 1;
            let done = match dir {
                Direction::ToServer => self.command(line),
                Direction::ToClient => match self.reply(line) {
                    Some(true) => true,
                    Some(false) => {
                        // STARTTLS accepted: the bytes after this line are TLS.
                        self.emit(out);
                        self.tls = Some(proto_tls::Tls.start());
                        let rest = &data[pos..];
                        if rest.is_empty() {
                            return Progress::Consumed(pos);
                        }
                        return match self.tls.as_mut().map(|t| t.feed(dir, rest, out)) {
                            Some(Progress::Consumed(n)) => Progress::Consumed(pos + n),
                            _ => Progress::Done,
                        };
                    }
                    None => false,
                },
            };
            if done {
                self.emit(out);
                return Progress::Done;
            }
        }
        Progress::Consumed(pos)
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Out<'_>) -> Progress {
        if let Some(tls) = self.tls.as_mut() {
            return tls.gap(dir, len, out);
        }
        out.weird("content_gap");
        self.emit(out);
        Progress::Done
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.emit(out);
        if let Some(tls) = self.tls.as_mut() {
            tls.finish(out);
        }
    }
}

/// The first space-separated word and the rest (leading spaces skipped).
fn split_word(line: &[u8]) -> (&[u8], &[u8]) {
    let line = line.trim_ascii();
    match memchr::memchr(b' ', line) {
        Some(i) => (&line[..i], line[i + 1..].trim_ascii()),
        None => (line, &[]),
    }
}

/// An IMAP astring (atom or quoted string; literals are not followed) and the rest.
fn imap_string(v: &[u8]) -> (&[u8], &[u8]) {
    let v = v.trim_ascii();
    if v.first() == Some(&b'"') {
        let mut i = 1;
        while i < v.len() {
            match v[i] {
                b'\\' => i += 2,
                b'"' => return (&v[1..i], v.get(i + 1..).unwrap_or_default()),
                _ => i += 1,
            }
        }
        (v.get(1..).unwrap_or_default(), &[])
    } else {
        split_word(v)
    }
}

/// SASL PLAIN (RFC 4616): base64 of `authzid NUL authcid NUL password`.
fn plain(token: &[u8]) -> (Option<String>, Vec<u8>) {
    let Some(d) = base64(token) else {
        return (None, Vec::new());
    };
    let mut parts = d.splitn(3, |&b| b == 0);
    let _authz = parts.next();
    let user = parts
        .next()
        .and_then(|u| text::non_empty(&u[..u.len().min(MAX_TEXT)]));
    let pass = parts.next().unwrap_or_default().to_vec();
    (user, pass)
}

/// Decodes base64 (RFC 4648, padding optional); `None` if it is not base64.
/// At most [`MAX_LINE`] input bytes.
fn base64(s: &[u8]) -> Option<Vec<u8>> {
    let s = s.trim_ascii();
    let s = &s[..s.len().min(MAX_LINE)];
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
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
