//! SIP analyzer (RFC 3261 over UDP and TCP, port 5060; 5061 is SIP over TLS
//! and goes to the TLS analyzer).
//!
//! Wire format (RFC 3261 section 7): a start line — a request line
//! `METHOD request-URI SIP/2.0` or a status line `SIP/2.0 code reason` —
//! then header fields up to an empty line, then a body whose length the
//! `Content-Length` header gives (mandatory over TCP; over UDP the datagram
//! ends the message). Header names are case-insensitive and have compact
//! forms (`f` From, `t` To, `m` Contact, `l` Content-Length, section 7.3.3).
//!
//! What is kept ([`model::records::SipRecord`], one per message, at most
//! [`MAX_MESSAGES`] per flow): method, request-URI host, status code, CSeq
//! method, `User-Agent` and `Server` (with the product's vendor, model and
//! version when the string parses, see [`product`]), and the host parts of
//! From, To and Contact. User parts and display names (extensions, phone
//! numbers, people's names), Call-IDs, authentication headers and bodies
//! (SDP) are never read into a record.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::SipRecord;
use model::{text, Direction, Transport};

/// Longest header block (start line and headers) read over TCP; a longer
/// one ends the analysis.
pub const MAX_HEADER: usize = 16 * 1024;
/// Messages recorded per flow (later ones are counted in a weird only).
pub const MAX_MESSAGES: u32 = 256;
/// Longest method, host, product string kept.
const MAX_TOKEN: usize = 128;

/// Request methods the probe accepts (RFC 3261 and extensions).
const METHODS: &[&[u8]] = &[
    b"REGISTER",
    b"INVITE",
    b"ACK",
    b"BYE",
    b"CANCEL",
    b"OPTIONS",
    b"SUBSCRIBE",
    b"NOTIFY",
    b"PUBLISH",
    b"MESSAGE",
    b"INFO",
    b"REFER",
    b"PRACK",
    b"UPDATE",
];

/// The SIP protocol.
pub struct Sip;

impl Protocol for Sip {
    fn name(&self) -> &'static str {
        "sip"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp, Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[5060]
    }

    /// A request line `METHOD sip:... SIP/2.0` (a known method, a `sip:`,
    /// `sips:` or `tel:` URI, the version at the end of the line) or a
    /// status line `SIP/2.0 NNN `.
    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        probe_start(data)
    }

    /// `SIP/2.0` or a method's first letter.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"SRIABCONPMU")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(SipAnalyzer::default())
    }
}

fn probe_start(data: &[u8]) -> Probe {
    if data.is_empty() {
        return Probe::NeedMore;
    }
    const STATUS: &[u8] = b"SIP/2.0 ";
    let n = data.len().min(STATUS.len());
    if data[..n] == STATUS[..n] {
        let Some(code) = data.get(STATUS.len()..STATUS.len() + 4) else {
            return Probe::NeedMore;
        };
        let ok = code[..3].iter().all(u8::is_ascii_digit) && code[0] != b'0' && code[3] == b' ';
        return if ok { Probe::Match } else { Probe::NoMatch };
    }
    let Some(method) = METHODS.iter().find(|m| {
        let k = data.len().min(m.len());
        data[..k] == m[..k] && data.get(m.len()).is_none_or(|&b| b == b' ')
    }) else {
        return Probe::NoMatch;
    };
    if data.len() <= method.len() {
        return Probe::NeedMore;
    }
    // The whole line: URI scheme and version.
    let Some(end) = data.iter().take(MAX_TOKEN * 8).position(|&b| b == b'\n') else {
        return if data.len() < MAX_TOKEN * 8 {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        };
    };
    let line = trim_cr(&data[..end]);
    let rest = line.get(method.len() + 1..).unwrap_or_default();
    let uri_ok = [&b"sip:"[..], b"sips:", b"tel:"]
        .iter()
        .any(|s| starts_with_ci(rest, s));
    if uri_ok && line.ends_with(b" SIP/2.0") {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn starts_with_ci(data: &[u8], prefix: &[u8]) -> bool {
    data.len() >= prefix.len() && data[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Per-direction TCP state: body bytes still to skip.
#[derive(Default)]
struct Stream {
    skip: usize,
}

/// Per-flow SIP state.
#[derive(Default)]
pub struct SipAnalyzer {
    streams: [Stream; 2],
    messages: u32,
    bad: u32,
}

impl Analyzer for SipAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let udp = out.flow().is_none_or(|f| f.transport == Transport::Udp);
        if udp {
            self.datagram(dir, data, out)
        } else {
            self.stream(dir, data, out)
        }
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        if self.messages > MAX_MESSAGES {
            out.weird("sip_too_many_messages");
        }
    }
}

impl SipAnalyzer {
    fn datagram(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        // Keep-alives (CRLF, RFC 5626) carry no message.
        if data.iter().all(|b| b.is_ascii_whitespace()) {
            return Progress::Consumed(data.len());
        }
        let head_end = find_head_end(data).map_or(data.len(), |(h, _)| h);
        match parse(dir, &data[..head_end]) {
            Some((rec, _)) => {
                self.bad = 0;
                self.record(rec, out);
            }
            None => {
                out.weird("sip_bad_message");
                self.bad += 1;
                if self.bad >= 8 {
                    return Progress::Done;
                }
            }
        }
        Progress::Consumed(data.len())
    }

    fn stream(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let st = &mut self.streams[(dir == Direction::ToClient) as usize];
        let mut used = 0;
        loop {
            let rest = &data[used..];
            if st.skip > 0 {
                let n = st.skip.min(rest.len());
                st.skip -= n;
                used += n;
                if st.skip > 0 {
                    return Progress::Consumed(used);
                }
                continue;
            }
            // Keep-alive CRLFs between messages.
            let ws = rest
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            if ws > 0 {
                used += ws;
                continue;
            }
            if rest.is_empty() {
                return Progress::Consumed(used);
            }
            let Some((head, total)) = find_head_end(rest) else {
                if rest.len() >= MAX_HEADER {
                    out.weird("sip_header_too_long");
                    return Progress::Done;
                }
                return Progress::Consumed(used);
            };
            let Some((rec, body)) = parse(dir, &rest[..head]) else {
                out.weird("sip_bad_message");
                return Progress::Done;
            };
            used += total;
            self.messages += 1;
            if self.messages <= MAX_MESSAGES {
                out.emit(rec);
            }
            st.skip = body;
        }
    }

    fn record(&mut self, rec: SipRecord, out: &mut Out<'_>) {
        self.messages = self.messages.saturating_add(1);
        if self.messages <= MAX_MESSAGES {
            out.emit(rec);
        }
    }
}

/// End of the header block: (length of start line and headers, length
/// including the empty line). Accepts CRLF CRLF and bare LF LF.
fn find_head_end(data: &[u8]) -> Option<(usize, usize)> {
    let window = &data[..data.len().min(MAX_HEADER)];
    let mut i = 0;
    while let Some(p) = window[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let next = &window[nl + 1..];
        if next.starts_with(b"\r\n") {
            return Some((nl + 1, nl + 3));
        }
        if next.starts_with(b"\n") {
            return Some((nl + 1, nl + 2));
        }
        i = nl + 1;
    }
    None
}

/// Parses a start line and headers (without the empty line). Returns the
/// record and the Content-Length (0 when absent or unreadable).
fn parse(dir: Direction, head: &[u8]) -> Option<(SipRecord, usize)> {
    let mut lines = head.split(|&b| b == b'\n').map(trim_cr);
    let start = lines.next()?;
    let mut rec = SipRecord {
        direction: Some(dir),
        ..Default::default()
    };
    if let Some(status) = start.strip_prefix(b"SIP/2.0 ") {
        let code = status.get(..3)?;
        if !code.iter().all(u8::is_ascii_digit) || status.get(3).is_some_and(|&b| b != b' ') {
            return None;
        }
        let code = code.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0'));
        if !(100..700).contains(&code) {
            return None;
        }
        rec.status_code = Some(code);
    } else {
        let mut parts = start.splitn(3, |&b| b == b' ');
        let method = parts.next()?;
        let uri = parts.next()?;
        if parts.next()? != b"SIP/2.0"
            || method.is_empty()
            || !method
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        {
            return None;
        }
        rec.method = Some(text::bounded(method, MAX_TOKEN));
        rec.request_uri_host = uri_host(uri);
    }
    let mut body = 0;
    for line in lines {
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            continue; // A folded continuation: none of the kept headers need it.
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        let value = line[colon + 1..].trim_ascii();
        let is = |long: &[u8], short: &[u8]| {
            name.eq_ignore_ascii_case(long)
                || (!short.is_empty() && name.eq_ignore_ascii_case(short))
        };
        if is(b"user-agent", b"") {
            rec.user_agent
                .get_or_insert_with(|| text::bounded(value, MAX_TOKEN));
        } else if is(b"server", b"") {
            rec.server
                .get_or_insert_with(|| text::bounded(value, MAX_TOKEN));
        } else if is(b"from", b"f") {
            if rec.from_domain.is_none() {
                rec.from_domain = addr_host(value);
            }
        } else if is(b"to", b"t") {
            if rec.to_domain.is_none() {
                rec.to_domain = addr_host(value);
            }
        } else if is(b"contact", b"m") {
            if rec.contact_host.is_none() {
                rec.contact_host = addr_host(value);
            }
        } else if is(b"via", b"v") {
            let n = 1 + value.iter().filter(|&&b| b == b',').count();
            rec.vias = rec.vias.saturating_add(u8::try_from(n).unwrap_or(u8::MAX));
        } else if is(b"cseq", b"") {
            let m = value
                .split(|&b| b == b' ' || b == b'\t')
                .filter(|t| !t.is_empty())
                .nth(1);
            rec.cseq_method = m.and_then(|m| text::non_empty(&m[..m.len().min(MAX_TOKEN)]));
        } else if is(b"content-length", b"l") {
            body = value
                .iter()
                .take(9)
                .take_while(|b| b.is_ascii_digit())
                .fold(0usize, |a, &d| a * 10 + usize::from(d - b'0'));
        }
    }
    let stated = rec.user_agent.as_deref().or(rec.server.as_deref());
    if let Some((v, m, ver)) = stated.and_then(product) {
        rec.product_vendor = Some(v);
        rec.product_model = m;
        rec.product_version = ver;
    }
    Some((rec, body))
}

/// The host of a name-addr or addr-spec header value (From, To, Contact):
/// `"Name" <sip:user@host:port;p>;tag=x` or `sip:user@host;tag=x`.
fn addr_host(value: &[u8]) -> Option<String> {
    let uri = match value.iter().position(|&b| b == b'<') {
        Some(lt) => {
            let inner = &value[lt + 1..];
            &inner[..inner.iter().position(|&b| b == b'>').unwrap_or(inner.len())]
        }
        // Without angle brackets, parameters belong to the header.
        None => &value[..value.iter().position(|&b| b == b';').unwrap_or(value.len())],
    };
    uri_host(uri.trim_ascii())
}

/// The host part of a `sip:`/`sips:` URI (no user part, no port, no
/// parameters); None for other schemes (`tel:` names no host).
fn uri_host(uri: &[u8]) -> Option<String> {
    let rest = if starts_with_ci(uri, b"sip:") {
        &uri[4..]
    } else if starts_with_ci(uri, b"sips:") {
        &uri[5..]
    } else {
        return None;
    };
    let end = rest
        .iter()
        .position(|&b| matches!(b, b';' | b'?' | b'>' | b' '))
        .unwrap_or(rest.len());
    let rest = &rest[..end];
    let hostport = match rest.iter().rposition(|&b| b == b'@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    let host = if let Some(v6) = hostport.strip_prefix(b"[") {
        &v6[..v6.iter().position(|&b| b == b']').unwrap_or(v6.len())]
    } else {
        &hostport[..hostport
            .iter()
            .position(|&b| b == b':')
            .unwrap_or(hostport.len())]
    };
    text::non_empty(&host[..host.len().min(MAX_TOKEN)])
}

/// Makers of phones, handsets and nurse-call terminals whose name opens
/// their product strings, with the spelling kept. Software (PBXs, proxies,
/// softphones, test tools) is left out: its string names no device maker.
const VENDORS: &[(&str, &str)] = &[
    ("yealink", "Yealink"),
    ("cisco", "Cisco"),
    ("polycom", "Polycom"),
    ("poly", "Poly"),
    ("grandstream", "Grandstream"),
    ("snom", "snom"),
    ("aastra", "Aastra"),
    ("mitel", "Mitel"),
    ("avaya", "Avaya"),
    ("spectralink", "Spectralink"),
    ("ascom", "Ascom"),
    ("fanvil", "Fanvil"),
    ("panasonic", "Panasonic"),
    ("gigaset", "Gigaset"),
    ("alcatel", "Alcatel-Lucent"),
    ("openstage", "Unify"),
    ("unify", "Unify"),
    ("vocera", "Vocera"),
    ("zultys", "Zultys"),
    ("htek", "Htek"),
];

/// Reads a SIP product string (`User-Agent`, `Server`) into (vendor, model,
/// version). Forms seen on phones and servers:
/// `Yealink SIP-T46S 66.86.0.15`, `Cisco-CP7841/11.0.1`,
/// `PolycomVVX-VVX_410-UA/5.9.0.9373`, `snom760/10.1.39.11`,
/// `Grandstream GXP2160 1.0.11.23`, `Ascom i63 4.3.12`. Only makers in [`VENDORS`] are named (a product
/// string is otherwise too free-form to trust); the model is the token
/// after the maker, the version the first token that starts with a digit.
pub fn product(s: &str) -> Option<(String, Option<String>, Option<String>)> {
    let lower = s.to_ascii_lowercase();
    let (key, vendor) = VENDORS.iter().find(|(k, _)| lower.starts_with(k))?;
    // Tokens: split on spaces, '/', parentheses; the first token holds the
    // maker (maybe glued to the model: `snom760`, `Cisco-CP7841`).
    let tokens: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || matches!(c, '/' | '(' | ')' | ','))
        .filter(|t| !t.is_empty())
        .take(16)
        .collect();
    let first = tokens.first()?;
    let glued = first
        .get(key.len()..)
        .unwrap_or("")
        .trim_start_matches(['-', '_']);
    let digit = |t: &str| {
        let t = t.strip_prefix('v').unwrap_or(t);
        t.starts_with(|c: char| c.is_ascii_digit())
    };
    let version = tokens
        .iter()
        .skip(1)
        .find(|t| digit(t))
        .map(|v| v.strip_prefix('v').unwrap_or(v).to_string());
    let model = if !glued.is_empty() {
        Some(glued.to_string())
    } else {
        tokens
            .get(1)
            .filter(|t| !digit(t))
            .filter(|t| !matches!(t.to_ascii_lowercase().as_str(), "sip" | "pbx" | "ua" | "v"))
            .map(|t| t.to_string())
    };
    let cut = |t: String| t.chars().take(64).collect::<String>();
    Some((vendor.to_string(), model.map(cut), version.map(cut)))
}

#[cfg(test)]
mod tests;
