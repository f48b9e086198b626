//! TLS analyzer: handshake facts, JA3/JA3S/JA4, leaf certificate.
//!
//! Follows a TLS connection (SSL 3.0 to TLS 1.3, RFC 5246 / RFC 8446) from
//! its first record to the end of the handshake and emits one
//! [`TlsRecord`] per connection:
//! - record layer (RFC 8446 §5.1): records are framed per direction; only
//!   the 5-byte header ever waits in the engine's buffer; record bodies are
//!   consumed as they stream, and encrypted ones are skipped unread;
//! - handshake messages may span records: they are reassembled in a
//!   per-direction buffer bounded by [`MAX_HANDSHAKE`] (longer messages are
//!   reported and skipped);
//! - ClientHello: highest offered version, SNI, JA3, JA4 ([`hello`]);
//!   ServerHello: version (supported_versions for TLS 1.3), cipher (IANA
//!   name), key_share group, ALPN, JA3S; ServerKeyExchange: ECDHE curve;
//!   Certificate (TLS 1.2 and earlier, in clear): leaf subject, issuer,
//!   validity, key, signature algorithm, fingerprint ([`cert`]);
//! - resumption as Zeek decides it: the client's session id echoed (TLS
//!   1.2 and earlier), a session ticket followed by a client CCS without key
//!   exchange, or a pre_shared_key accepted by the server;
//! - `established` as Zeek decides it: an encrypted record once both sides
//!   have switched to encryption (ChangeCipherSpec up to TLS 1.2, the first
//!   application-data record in TLS 1.3). The analysis then stops.
//!
//! SSL 2.0 CLIENT-HELLOs (sent by old clients for compatibility) give the
//! offered version only.

pub mod cert;
mod dtls;
pub mod hello;

pub use dtls::Dtls;
pub mod names;

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::TlsRecord;
use model::{text, Direction, Transport};

/// Longest handshake message reassembled (certificate chains included).
pub const MAX_HANDSHAKE: usize = 64 * 1024;
/// Longest record body accepted (TLSCiphertext: 2^14 + 2048, RFC 5246 §6.2.3).
pub const MAX_RECORD: usize = 16384 + 2048;
/// Longest `ssl_history` (Zeek's `max_ssl_history_length`).
pub const MAX_HISTORY: usize = 100;
/// Encrypted records skipped from one side before giving up on seeing the
/// other side switch to encryption.
const MAX_LONELY_CIPHERTEXT: u32 = 64;

/// Record content types (RFC 8446 §5.1, RFC 6520).
mod content {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
    pub const HEARTBEAT: u8 = 24;
}

/// The TLS protocol (over TCP).
pub struct Tls;

impl Protocol for Tls {
    fn name(&self) -> &'static str {
        "tls"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[
            443, 8443, 993, 995, 465, 636, 989, 990, 992, 5223, 5061, 2762,
        ]
    }

    fn probe(&self, dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        match dir {
            Direction::ToServer => probe_hello(data, 1).or_else_v2(data),
            Direction::ToClient => probe_hello(data, 2),
        }
    }

    /// A handshake record, or an SSL 2.0 CLIENT-HELLO.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::range(0x80, 0xff).with(content::HANDSHAKE)
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(TlsAnalyzer::default())
    }
}

/// Checks a handshake record header followed by a hello of type `msg`:
/// `16 03 0x LL LL <msg> LL LL LL 03`.
fn probe_hello(data: &[u8], msg: u8) -> Probe {
    // (position, predicate) for each byte checked.
    let checks: [(usize, &dyn Fn(u8) -> bool); 6] = [
        (0, &|b| b == content::HANDSHAKE),
        (1, &|b| b == 3),
        (2, &|b| b <= 4),
        (5, &|b| b == msg),
        (6, &|b| b == 0),
        (9, &|b| b == 3 || b == 0x7f),
    ];
    if data.is_empty() {
        return Probe::NeedMore;
    }
    for (i, ok) in checks {
        match data.get(i) {
            None => return Probe::NeedMore,
            Some(&b) if !ok(b) => return Probe::NoMatch,
            Some(_) => {}
        }
    }
    let len = u16::from_be_bytes([data[3], data[4]]) as usize;
    if !(4..=MAX_RECORD).contains(&len) {
        return Probe::NoMatch;
    }
    Probe::Match
}

trait ProbeExt {
    fn or_else_v2(self, data: &[u8]) -> Probe;
}

impl ProbeExt for Probe {
    /// An SSL 2.0 CLIENT-HELLO offering SSL 2/3 or TLS: `8x LL 01 03 0x`.
    fn or_else_v2(self, data: &[u8]) -> Probe {
        if self != Probe::NoMatch {
            return self;
        }
        match data {
            [h, ..] if h & 0x80 == 0 => Probe::NoMatch,
            [_] | [_, _] | [_, _, 1] | [_, _, 1, _] => Probe::NeedMore,
            [h, l, 1, maj, min, ..] if (*maj == 3 && *min <= 4) || (*maj == 0 && *min == 2) => {
                let len = ((*h as usize & 0x7f) << 8) | *l as usize;
                if len >= 9 {
                    Probe::Match
                } else {
                    Probe::NoMatch
                }
            }
            _ => Probe::NoMatch,
        }
    }
}

/// One direction of the connection.
#[derive(Default)]
struct Side {
    /// This side sends encrypted records.
    enc: bool,
    /// Inside a record: `(content type, body bytes left)`.
    record: Option<(u8, usize)>,
    /// Records seen from this side.
    records: u32,
    /// Encrypted records seen while the other side was still in clear.
    lonely: u32,
    /// Partial handshake message.
    hs: Vec<u8>,
    /// Bytes of an oversized handshake message still to skip.
    hs_skip: usize,
    /// Nothing more is parsed from this side.
    ignore: bool,
    /// DTLS: the message_seq expected next, and the message being reassembled.
    dtls_next: u16,
    dtls_msg: Option<dtls::Message>,
}

/// What the handshake revealed so far.
#[derive(Default)]
struct Facts {
    client_hello: bool,
    server_hello: bool,
    client_version: Option<u16>,
    server_name: Option<String>,
    ja3: Option<String>,
    ja4: Option<String>,
    /// Client session id (non-empty, not all zeros), for resumption.
    session_id: Option<Vec<u8>>,
    /// The client sent a non-empty session ticket.
    client_ticket: bool,
    /// The client offered a pre-shared key.
    client_psk: bool,
    client_key_exchange: bool,
    version: Option<u16>,
    cipher: Option<u16>,
    /// Cipher name when not a TLS cipher suite (SSL 2.0 cipher kinds).
    cipher_name: Option<String>,
    curve: Option<u16>,
    alpn: Option<String>,
    ja3s: Option<String>,
    resumed: bool,
    established: bool,
    last_alert: Option<u8>,
    history: String,
    leaf: Option<cert::Leaf>,
}

/// Per-connection state.
#[derive(Default)]
struct TlsAnalyzer {
    /// `[client to server, server to client]`.
    sides: [Side; 2],
    facts: Facts,
    emitted: bool,
    /// DTLS over UDP: each `feed` is one datagram of DTLS records.
    dtls: bool,
    /// DTLS: whether the flow's server sent the ClientHello (roles flipped),
    /// once known.
    flipped: Option<bool>,
}

fn idx(dir: Direction) -> usize {
    (dir == Direction::ToClient) as usize
}

impl Analyzer for TlsAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        if self.dtls {
            self.datagram(dir, data, out);
            if self.facts.established || self.sides.iter().all(|s| s.ignore) {
                return Progress::Done;
            }
            return Progress::Consumed(data.len());
        }
        let i = idx(dir);
        let used = if self.sides[i].ignore {
            data.len()
        } else {
            match self.sides[i].record {
                None => self.header(i, data, out),
                Some((ct, left)) => self.body(i, ct, left, data, out),
            }
        };
        if self.facts.established || self.sides.iter().all(|s| s.ignore) {
            return Progress::Done;
        }
        Progress::Consumed(used)
    }

    fn gap(&mut self, dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        out.weird("content_gap");
        self.sides[idx(dir)].ignore = true;
        if self.sides.iter().all(|s| s.ignore) {
            Progress::Done
        } else {
            Progress::Consumed(0)
        }
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        if self.emitted {
            return;
        }
        self.emitted = true;
        let f = std::mem::take(&mut self.facts);
        if !f.client_hello && !f.server_hello {
            return;
        }
        let leaf = f.leaf.unwrap_or_default();
        let has_leaf = !leaf.fingerprint.is_empty();
        let some = |s: String| (has_leaf && !s.is_empty()).then_some(s);
        out.emit(TlsRecord {
            version: f.version.map(names::version),
            client_version: f.client_version.map(names::version),
            cipher: f.cipher.map(names::cipher).or(f.cipher_name),
            curve: f.curve.map(names::group),
            server_name: f.server_name,
            alpn: f.alpn,
            resumed: f.resumed,
            established: f.established,
            ja3: f.ja3,
            ja3s: f.ja3s,
            ja4: f.ja4,
            cert_not_before: has_leaf.then_some(leaf.not_before),
            cert_not_after: has_leaf.then_some(leaf.not_after),
            cert_self_signed: has_leaf.then_some(leaf.subject == leaf.issuer),
            cert_key_bits: leaf.key_bits.filter(|_| has_leaf),
            cert_subject: some(leaf.subject),
            cert_issuer: some(leaf.issuer),
            cert_sig_alg: some(leaf.sig_alg),
            cert_key_type: some(leaf.key_type),
            cert_fingerprint: some(leaf.fingerprint),
            cert_serial: some(leaf.serial),
            cert_san_dns: leaf.san_dns,
            last_alert: f.last_alert.map(names::alert),
            history: f.history,
        });
    }
}

/// The letter of a handshake message type in the history (Zeek's `ssl_history`;
/// lower case, upper case when the client sent it).
pub(crate) fn history_letter(ty: u8) -> char {
    match ty {
        0 => 'h',
        1 => 'c',
        2 => 's',
        3 => 'v',
        4 => 't',
        5 => 'e',
        6 => 'j',
        8 => 'o',
        11 => 'x',
        12 => 'k',
        13 => 'r',
        14 => 'n',
        15 => 'y',
        16 => 'g',
        20 => 'f',
        21 => 'w',
        22 => 'u',
        23 => 'a',
        24 => 'p',
        254 => 'm',
        _ => 'z',
    }
}

impl TlsAnalyzer {
    /// True once TLS 1.3 (or a draft of it) was negotiated: ChangeCipherSpec
    /// is then a no-op and application data marks encryption.
    fn tls13(&self) -> bool {
        self.facts
            .version
            .is_some_and(|v| (0x0304..0xfe00).contains(&v) || (v & 0xff00) == 0x7e00)
    }

    fn history(&mut self, client: bool, c: char) {
        let h = &mut self.facts.history;
        if h.len() < MAX_HISTORY {
            h.push(if client { c.to_ascii_uppercase() } else { c });
        }
    }

    /// Reads a record header (or an SSL 2.0 CLIENT-HELLO) of side `i`.
    fn header(&mut self, i: usize, data: &[u8], out: &mut Out<'_>) -> usize {
        if self.sides[i].records == 0 && data.first().is_some_and(|b| b & 0x80 != 0) {
            return self.sslv2(i, data, out);
        }
        let Some(h) = data.get(..5) else { return 0 };
        let (ct, major, len) = (h[0], h[1], u16::from_be_bytes([h[3], h[4]]) as usize);
        if !(content::CHANGE_CIPHER_SPEC..=content::HEARTBEAT).contains(&ct)
            || major != 3
            || len > MAX_RECORD
        {
            // Not TLS (any more): stop, as Zeek does on a protocol violation.
            out.weird("tls_bad_record_header");
            self.sides.iter_mut().for_each(|s| s.ignore = true);
            return data.len();
        }
        let side = &mut self.sides[i];
        side.records = side.records.saturating_add(1);
        let encrypted = side.enc || ct == content::APPLICATION_DATA;
        if ct == content::CHANGE_CIPHER_SPEC && !side.enc {
            self.history(i == 0, 'i');
            if !self.tls13() {
                self.sides[i].enc = true;
            }
            if i == 0 && self.facts.client_ticket && !self.facts.client_key_exchange {
                self.facts.resumed = true;
            }
        } else if encrypted {
            self.ciphertext(i);
        } else if ct == content::HEARTBEAT {
            self.history(i == 0, 'b');
        }
        self.sides[i].record = (len > 0).then_some((ct, len));
        5
    }

    /// An encrypted record from side `i`.
    fn ciphertext(&mut self, i: usize) {
        self.sides[i].enc = true;
        if self.sides[1 - i].enc {
            self.facts.established = true;
            return;
        }
        let side = &mut self.sides[i];
        side.lonely += 1;
        if side.lonely >= MAX_LONELY_CIPHERTEXT {
            // The other side may never be seen (one-sided capture): stop here.
            self.sides.iter_mut().for_each(|s| s.ignore = true);
        }
    }

    /// Consumes record body bytes of side `i`.
    fn body(&mut self, i: usize, ct: u8, left: usize, data: &[u8], out: &mut Out<'_>) -> usize {
        let take = left.min(data.len());
        let chunk = &data[..take];
        let encrypted = self.sides[i].enc || ct == content::APPLICATION_DATA;
        let used = match ct {
            content::HANDSHAKE if !encrypted => {
                self.handshake(i, chunk, out);
                take
            }
            content::ALERT if !encrypted => {
                // Alerts are two bytes each: wait for the whole (small) record.
                if take < left && left <= 64 {
                    return 0;
                }
                for a in chunk.chunks_exact(2) {
                    self.facts.last_alert = Some(a[1]);
                    self.history(i == 0, 'l');
                }
                take
            }
            _ => take,
        };
        let rest = left - used;
        self.sides[i].record = (rest > 0).then_some((ct, rest));
        used
    }

    /// Feeds handshake-record bytes of side `i` to the message reassembler.
    fn handshake(&mut self, i: usize, mut chunk: &[u8], out: &mut Out<'_>) {
        let side = &mut self.sides[i];
        if side.hs_skip > 0 {
            let n = side.hs_skip.min(chunk.len());
            side.hs_skip -= n;
            chunk = &chunk[n..];
        }
        if chunk.is_empty() {
            return;
        }
        let mut buf = std::mem::take(&mut self.sides[i].hs);
        let input: &[u8] = if buf.is_empty() {
            chunk
        } else {
            buf.extend_from_slice(chunk);
            &buf
        };
        let mut rest = input;
        while let Some(h) = rest.get(..4) {
            let len = ((h[1] as usize) << 16) | ((h[2] as usize) << 8) | h[3] as usize;
            if len > MAX_HANDSHAKE {
                // Too long to keep whole (a certificate chain of hundreds of
                // KiB sent as many records): handle its first MAX_HANDSHAKE
                // bytes, which hold the leaf certificate, and skip the rest.
                let Some(prefix) = rest.get(4..4 + MAX_HANDSHAKE) else {
                    break;
                };
                out.weird("tls_handshake_too_large");
                self.message(i, h[0], prefix, out);
                let have = rest.len() - 4;
                if have >= len {
                    rest = &rest[4 + len..];
                    continue;
                }
                self.sides[i].hs_skip = len - have;
                rest = &rest[rest.len()..];
                break;
            }
            let Some(body) = rest.get(4..4 + len) else {
                break;
            };
            self.message(i, h[0], body, out);
            rest = &rest[4 + len..];
        }
        let leftover = rest.to_vec();
        buf.clear();
        buf.extend_from_slice(&leftover);
        self.sides[i].hs = buf;
    }

    /// Handles one complete handshake message of side `i`.
    fn message(&mut self, i: usize, ty: u8, body: &[u8], out: &mut Out<'_>) {
        let client = i == 0;
        let letter = history_letter(ty);
        match (client, ty) {
            (true, 1) => {
                self.history(true, letter);
                self.client_hello(body, out);
            }
            (true, 16) => {
                self.history(true, letter);
                self.facts.client_key_exchange = true;
            }
            (false, 2) => self.server_hello(body, out),
            (false, 11) => {
                self.history(false, letter);
                if !self.tls13() && self.facts.leaf.is_none() {
                    match cert::first_certificate(body)
                        .or_else(|| first_certificate_of_prefix(body))
                        .and_then(cert::leaf)
                    {
                        Some(l) => self.facts.leaf = Some(l),
                        None => out.weird("tls_bad_certificate"),
                    }
                }
            }
            (false, 12) => {
                self.history(false, letter);
                // ECParameters: curve_type 3 (named_curve), NamedCurve.
                if self.facts.cipher.is_some_and(names::cipher_is_ecdhe) {
                    if let [3, a, b, ..] = body {
                        self.facts.curve = Some(u16::from_be_bytes([*a, *b]));
                    }
                }
            }
            _ => self.history(client, letter),
        }
    }

    fn client_hello(&mut self, body: &[u8], out: &mut Out<'_>) {
        // A DTLS ClientHello has a cookie after the session id (RFC 6347
        // §4.2.1); without it, it reads like a TLS one.
        let without_cookie;
        let body = if self.dtls {
            match dtls::without_cookie(body) {
                Some(b) => {
                    without_cookie = b;
                    &without_cookie[..]
                }
                None => {
                    out.weird("tls_bad_client_hello");
                    return;
                }
            }
        } else {
            body
        };
        let Some(ch) = hello::client_hello(body) else {
            out.weird("tls_bad_client_hello");
            return;
        };
        if !hello::extensions_valid(ch.extensions) {
            out.weird("tls_bad_extensions");
        }
        let f = &mut self.facts;
        if ch.extension(hello::ext::PRE_SHARED_KEY).is_some() {
            f.client_psk = true;
        }
        if f.client_hello {
            return; // Second ClientHello after a HelloRetryRequest.
        }
        f.client_hello = true;
        f.client_version = Some(ch.highest_version());
        f.server_name = ch.server_name().and_then(text::non_empty);
        f.ja3 = Some(hello::ja3(&ch));
        f.ja4 = Some(hello::ja4(&ch));
        if !ch.session_id.is_empty() && ch.session_id.iter().any(|&b| b != 0) {
            f.session_id = Some(ch.session_id.to_vec());
        }
        f.client_ticket = ch
            .extension(hello::ext::SESSION_TICKET)
            .is_some_and(|t| !t.is_empty());
    }

    fn server_hello(&mut self, body: &[u8], out: &mut Out<'_>) {
        let Some(sh) = hello::server_hello(body) else {
            self.history(false, 's');
            out.weird("tls_bad_server_hello");
            return;
        };
        if !hello::extensions_valid(sh.extensions) {
            out.weird("tls_bad_extensions");
        }
        self.history(false, if sh.is_hrr() { 'j' } else { 's' });
        let f = &mut self.facts;
        f.server_hello = true;
        let version = sh.version();
        f.version = Some(version);
        f.cipher = Some(sh.cipher);
        if let Some(g) = sh.key_share_group() {
            f.curve = Some(g);
        }
        if let Some(a) = sh.alpn() {
            f.alpn = text::non_empty(a);
        }
        f.ja3s = Some(hello::ja3s(&sh));
        // Zeek's rule: an echoed session id means resumption, except in DTLS,
        // TLS 1.3 and its drafts, Facebook's too (the compatibility-mode echo).
        let excluded = matches!(version >> 8, 0xfe | 0x7f | 0xfb) || version == 0x0304;
        if f.session_id.as_deref() == Some(sh.session_id) && !excluded {
            self.facts.resumed = true;
        }
        if self.facts.client_psk && sh.extension(hello::ext::PRE_SHARED_KEY).is_some() {
            self.facts.resumed = true;
        }
    }

    /// An SSL 2.0 record at the start of side `i`: a CLIENT-HELLO gives the
    /// offered version; a SERVER-HELLO gives version, first cipher kind and
    /// certificate, after which everything is encrypted.
    fn sslv2(&mut self, i: usize, data: &[u8], out: &mut Out<'_>) -> usize {
        let Some(h) = data.get(..2) else { return 0 };
        let len = ((h[0] as usize & 0x7f) << 8) | h[1] as usize;
        let Some(record) = data.get(..2 + len) else {
            return 0;
        };
        self.sides[i].records = 1;
        if i == 0 {
            if let Some(v) = hello::sslv2_client_hello_version(record) {
                self.facts.client_hello = true;
                self.facts.client_version = Some(v);
                self.history(true, 'c');
                return record.len();
            }
        } else if let Some(sh) = hello::sslv2_server_hello(record) {
            self.history(false, 's');
            self.facts.server_hello = true;
            self.facts.version = Some(sh.version);
            self.facts.cipher_name = sh.first_cipher.map(names::sslv2_cipher);
            if !sh.certificate.is_empty() {
                match cert::leaf(sh.certificate) {
                    Some(l) => self.facts.leaf = Some(l),
                    None => out.weird("tls_bad_certificate"),
                }
            }
            self.sides.iter_mut().for_each(|s| s.ignore = true);
            return record.len();
        }
        out.weird("tls_bad_sslv2_record");
        self.sides.iter_mut().for_each(|s| s.ignore = true);
        data.len()
    }
}

/// The first certificate of a Certificate message of which only a prefix
/// was kept (the list length then exceeds the bytes at hand).
fn first_certificate_of_prefix(body: &[u8]) -> Option<&[u8]> {
    let u24 = |d: &[u8]| {
        Some(((*d.first()? as usize) << 16) | ((*d.get(1)? as usize) << 8) | *d.get(2)? as usize)
    };
    let len = u24(body.get(3..)?)?;
    body.get(6..6 + len)
}

#[cfg(test)]
mod tests;
