//! DNS, mDNS and LLMNR analyzer (RFC 1035, RFC 6762, RFC 6763, RFC 4795).
//!
//! One [`DnsRecord`] per message, over UDP (one datagram = one message) or TCP
//! (RFC 1035 §4.2.2: each message prefixed by a 2-byte length). The flavor is
//! taken from the ports: 5353 is mDNS, 5355 is LLMNR, anything else plain DNS.
//!
//! Values follow Zeek's `dns.log`: names lowercased, type/rcode/class/opcode
//! names from Zeek's `consts.zeek`, and answers rendered like Zeek's `answers`
//! column (see [`render`]). For mDNS the additional section is kept too: DNS-SD
//! TXT and SRV records there carry model and firmware strings.
//!
//! The parser ([`wire`]) is hand-rolled and zero-copy; compression pointers
//! may only point backwards, so hostile messages cannot loop it.

pub mod consts;
pub mod wire;

use analyzer_api::{Analyzer, Out, Probe, Progress, Protocol};
use model::records::{DnsAnswer, DnsRecord};
use model::{text, Direction, Transport};
use std::fmt::Write as _;
use std::net::Ipv6Addr;
use wire::{Error, Header, NameBuf, Rr, HEADER_LEN};

/// Most answers (and, for mDNS, additional records) kept per message.
pub const MAX_ANSWERS: usize = 64;
/// Longest rendered answer data (TXT records can hold many strings).
const MAX_DATA: usize = 2048;
/// After this many consecutive unparsable messages the flow is given up.
const MAX_BAD_IN_A_ROW: u8 = 8;

/// The DNS protocol ("dns": UDP and TCP 53, mDNS 5353, LLMNR 5355).
pub struct Dns;

impl Protocol for Dns {
    fn name(&self) -> &'static str {
        "dns"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp, Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[53, 5353, 5355]
    }

    fn probe(&self, _dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        if data.is_empty() {
            return Probe::NeedMore;
        }
        // As a UDP datagram: the message starts at offset 0.
        if looks_like_message(data, data.len(), port_hint) {
            return Probe::Match;
        }
        // As a TCP stream: a 2-byte length, then the message.
        if let Some(len) = data
            .get(..2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        {
            let body = &data[2..];
            if len >= HEADER_LEN {
                if body.len() >= len {
                    if looks_like_message(&body[..len], len, port_hint) {
                        return Probe::Match;
                    }
                } else if body.len() >= HEADER_LEN {
                    match Header::parse(body) {
                        Some(h) if h.plausible(len, port_hint) => {
                            return if port_hint && questions_parse(body, &h) {
                                Probe::Match
                            } else {
                                Probe::NeedMore
                            };
                        }
                        _ => {}
                    }
                } else {
                    return Probe::NeedMore;
                }
            }
        }
        if data.len() < HEADER_LEN {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        }
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(DnsAnalyzer { bad_in_a_row: 0 })
    }
}

/// Probe test for a complete message of `len` bytes. With a port hint the
/// header and the questions must parse; without one the whole message must
/// parse exactly, with at least one question of a sane class.
fn looks_like_message(m: &[u8], len: usize, port_hint: bool) -> bool {
    let Some(h) = Header::parse(m) else {
        return false;
    };
    if !h.plausible(len, port_hint) {
        return false;
    }
    if port_hint {
        return questions_parse(m, &h);
    }
    if h.qdcount == 0 || wire::validate(m) != Ok(m.len()) {
        return false;
    }
    match wire::read_question(m, HEADER_LEN) {
        Ok((q, _)) => matches!(q.qclass & 0x7fff, 1 | 3 | 4 | 254 | 255),
        Err(_) => false,
    }
}

fn questions_parse(m: &[u8], h: &Header) -> bool {
    let mut pos = HEADER_LEN;
    for _ in 0..h.qdcount {
        match wire::read_question(m, pos) {
            Ok((_, p)) => pos = p,
            Err(_) => return false,
        }
    }
    true
}

/// Per-flow state: messages are independent; we only count garbage.
struct DnsAnalyzer {
    bad_in_a_row: u8,
}

impl Analyzer for DnsAnalyzer {
    fn feed(&mut self, _dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let (transport, flavor) = match out.flow() {
            Some(f) => (f.transport, flavor_for_ports(f.server.port, f.client.port)),
            None => (Transport::Udp, "dns"),
        };
        if transport == Transport::Udp {
            let ok = self.message(data, flavor, out);
            return self.after(ok, data.len());
        }
        let mut consumed = 0usize;
        loop {
            let rest = &data[consumed..];
            let Some(len) = rest
                .get(..2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
            else {
                return Progress::Consumed(consumed);
            };
            let Some(msg) = rest.get(2..2 + len) else {
                return Progress::Consumed(consumed);
            };
            let ok = self.message(msg, flavor, out);
            consumed += 2 + len;
            if self.after(ok, 0) == Progress::Done {
                return Progress::Done;
            }
        }
    }
}

impl DnsAnalyzer {
    /// Parses one message and emits its record; false if it was garbage.
    fn message(&mut self, msg: &[u8], flavor: &'static str, out: &mut Out<'_>) -> bool {
        let Some(h) = Header::parse(msg) else {
            out.weird(Error::ShortHeader.name());
            return false;
        };
        let (rec, err) = record(&h, msg, flavor);
        if let Some(e) = err {
            out.weird(e.name());
        }
        out.emit(rec);
        err.is_none()
    }

    fn after(&mut self, ok: bool, consumed: usize) -> Progress {
        if ok {
            self.bad_in_a_row = 0;
        } else {
            self.bad_in_a_row = self.bad_in_a_row.saturating_add(1);
            if self.bad_in_a_row >= MAX_BAD_IN_A_ROW {
                return Progress::Done;
            }
        }
        Progress::Consumed(consumed)
    }
}

/// `mdns` for port 5353, `llmnr` for 5355, else `dns`.
pub fn flavor_for_ports(server: u16, client: u16) -> &'static str {
    if server == 5353 || client == 5353 {
        "mdns"
    } else if server == 5355 || client == 5355 {
        "llmnr"
    } else {
        "dns"
    }
}

/// Builds the record for one message; returns the first parse error too (the
/// record then holds what was parsed before it).
pub fn record(h: &Header, msg: &[u8], flavor: &'static str) -> (DnsRecord, Option<Error>) {
    let mut rec = DnsRecord {
        flavor: flavor.to_string(),
        trans_id: h.id,
        is_response: h.qr(),
        rcode: h.rcode(),
        rcode_name: consts::rcode_name(h.rcode().into()).into_owned(),
        aa: h.aa(),
        tc: h.tc(),
        rd: h.rd(),
        ra: h.ra(),
        opcode: h.opcode(),
        opcode_name: consts::opcode_name(h.opcode()).into_owned(),
        z: h.z(),
        ..DnsRecord::default()
    };
    let err = fill(&mut rec, h, msg, flavor == "mdns").err();
    (rec, err)
}

fn fill(rec: &mut DnsRecord, h: &Header, msg: &[u8], mdns: bool) -> Result<(), Error> {
    let mut name = NameBuf::default();
    let mut pos = HEADER_LEN;
    for i in 0..h.qdcount {
        let (q, next) = wire::read_question(msg, pos)?;
        if i == 0 {
            wire::read_name(msg, q.name_pos, Some(&mut name))?;
            rec.query = Some(name_string(&name));
            rec.qtype = Some(q.qtype);
            rec.qtype_name = Some(consts::qtype_name(q.qtype).into_owned());
            rec.qclass = Some(q.qclass);
            rec.qclass_name = Some(consts::class_name(q.qclass).into_owned());
        }
        pos = next;
    }
    for i in 0..h.ancount {
        let (rr, next) = wire::read_rr(msg, pos)?;
        pos = next;
        if i == 0 && rec.query.is_none() {
            // Zeek: a response without a question is named after its first answer.
            wire::read_name(msg, rr.name_pos, Some(&mut name))?;
            rec.query = Some(name_string(&name));
        }
        if rec.answers.len() < MAX_ANSWERS {
            if let Some(a) = answer(msg, &rr, false) {
                rec.answers.push(a);
            }
        }
    }
    if !mdns {
        return Ok(());
    }
    for _ in 0..h.nscount {
        pos = wire::read_rr(msg, pos)?.1;
    }
    for _ in 0..h.arcount {
        if rec.additional.len() >= MAX_ANSWERS {
            break;
        }
        let (rr, next) = wire::read_rr(msg, pos)?;
        pos = next;
        if let Some(a) = answer(msg, &rr, true) {
            rec.additional.push(a);
        }
    }
    Ok(())
}

/// Renders one record as a [`DnsAnswer`], or `None` if Zeek would not log it
/// (and, with `extended`, also for types of no use such as OPT).
fn answer(msg: &[u8], rr: &Rr, extended: bool) -> Option<DnsAnswer> {
    let data = render(msg, rr, extended)?;
    let mut owner = NameBuf::default();
    wire::read_name(msg, rr.name_pos, Some(&mut owner)).ok()?;
    Some(DnsAnswer {
        name: name_string(&owner),
        rtype: consts::qtype_name(rr.rtype).into_owned(),
        data,
        ttl: rr.ttl,
    })
}

/// Lowercased, printable, capped form of a rendered name.
fn name_string(n: &NameBuf) -> String {
    // Lowercased in a stack copy: the heap holds only the result.
    let raw = n.as_bytes();
    let mut buf = [0u8; wire::MAX_NAME];
    let lower = &mut buf[..raw.len().min(wire::MAX_NAME)];
    lower.copy_from_slice(&raw[..lower.len()]);
    lower.make_ascii_lowercase();
    text::bounded(lower, wire::MAX_NAME)
}

/// An IPv4 address in dotted decimal, as `Ipv4Addr`'s `Display` writes it
/// (without the formatting machinery).
fn ipv4(b: [u8; 4]) -> String {
    let mut s = String::with_capacity(15);
    model::addr::push_ip(&mut s, &std::net::IpAddr::V4(b.into()));
    s
}

/// Renders the name at `pos` (inside RDATA), lowercased.
fn rdata_name(msg: &[u8], pos: usize) -> Option<String> {
    let mut n = NameBuf::default();
    wire::read_name(msg, pos, Some(&mut n)).ok()?;
    Some(name_string(&n))
}

/// Renders RDATA like Zeek's `answers` column:
/// A/AAAA → address; NS/CNAME/PTR/MX/SRV → target name; SOA → primary name;
/// TXT/SPF → `TXT <len> <text>` per string, space separated; RRSIG →
/// `RRSIG <type covered> <signer>`; DNSKEY → `DNSKEY <alg>`; DS → `DS <alg>
/// <digest type>`; NSEC → `NSEC <owner> <next>`; SSHFP → `SSHFP: <hex>`;
/// LOC → `LOC:  <size> <hp> <vp>`; NAPTR → `NAPTR <order> <pref> <flags>
/// <service> <regexp> <replacement>` (empty regexp/replacement left out, as
/// in Zeek's naptr baseline); types Zeek parses without logging (WKS,
/// HINFO, CAA, OPT, TSIG, TKEY, SVCB, HTTPS, NB) → `None`, except that
/// `extended` (the mDNS additional section) renders HINFO as `<cpu> <os>`;
/// anything else → `<unknown type=N>`.
pub fn render(msg: &[u8], rr: &Rr, extended: bool) -> Option<String> {
    let rd = rr.rdata(msg);
    let p = rr.rdata_pos;
    match rr.rtype {
        1 => {
            let b: [u8; 4] = rd.try_into().ok()?;
            Some(ipv4(b))
        }
        28 | 38 => {
            let b: [u8; 16] = rd.try_into().ok()?;
            Some(Ipv6Addr::from(b).to_string())
        }
        2 | 5 | 12 => rdata_name(msg, p),
        6 => rdata_name(msg, p),
        15 if rd.len() > 2 => rdata_name(msg, p + 2),
        33 if rd.len() > 6 => rdata_name(msg, p + 6),
        16 => Some(strings("TXT", rd)).filter(|s| !s.is_empty()),
        99 => Some(strings("SPF", rd)).filter(|s| !s.is_empty()),
        46 if rd.len() > 18 => {
            let covered = u16::from_be_bytes([rd[0], rd[1]]);
            let signer = rdata_name(msg, p + 18)?;
            let signer = if signer.is_empty() {
                "<Root>".to_string()
            } else {
                signer
            };
            Some(format!("RRSIG {covered} {signer}"))
        }
        48 if rd.len() >= 4 => Some(format!("DNSKEY {}", rd[3])),
        43 if rd.len() >= 4 => Some(format!("DS {} {}", rd[2], rd[3])),
        47 => {
            let owner = rdata_name(msg, rr.name_pos)?;
            let next = rdata_name(msg, p)?;
            Some(format!("NSEC {owner} {next}"))
        }
        50 => Some("NSEC3".to_string()),
        51 => Some("NSEC3PARAM".to_string()),
        65534 => Some("BIND9 signing signal".to_string()),
        44 if rd.len() > 2 => {
            let fp = &rd[2..rd.len().min(2 + 64)];
            let mut s = String::from("SSHFP: ");
            for b in fp {
                let _ = write!(s, "{b:02x}");
            }
            Some(s)
        }
        29 if rd.len() >= 4 => Some(format!("LOC:  {} {} {}", rd[1], rd[2], rd[3])),
        35 if rd.len() > 4 => {
            // RFC 3403 §4.1: order, preference, flags, services, regexp, replacement.
            let order = u16::from_be_bytes([rd[0], rd[1]]);
            let pref = u16::from_be_bytes([rd[2], rd[3]]);
            let (flags, rest) = char_string(rd.get(4..)?)?;
            let (service, rest) = char_string(rest)?;
            let (regexp, rest) = char_string(rest)?;
            let replacement = rdata_name(msg, p + (rd.len() - rest.len()))?;
            let tail: Vec<String> = [text::field(regexp), replacement]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            Some(format!(
                "NAPTR {order} {pref} {} {} {}",
                text::field(flags),
                text::field(service),
                tail.join(" ")
            ))
        }
        13 if extended => {
            let (cpu, rest) = char_string(rd)?;
            let os = char_string(rest).map(|(s, _)| s).unwrap_or_default();
            Some(text::bounded(
                format!("{} {}", text::field(cpu), text::field(os))
                    .trim()
                    .as_bytes(),
                512,
            ))
        }
        // Parsed by Zeek but not logged in `answers` (or malformed RDATA).
        11 | 13 | 15 | 29 | 32 | 33 | 41 | 43 | 44 | 46 | 48 | 64 | 65 | 249 | 250 | 257 => None,
        t => Some(format!("<unknown type={t}>")),
    }
}

/// One <character-string>: a length byte and that many bytes.
fn char_string(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&l, rest) = b.split_first()?;
    let s = rest.get(..l as usize)?;
    Some((s, &rest[l as usize..]))
}

/// Zeek's TXT/SPF rendering: `<kind> <len> <text>` per string, space separated.
fn strings(kind: &str, mut rd: &[u8]) -> String {
    let mut s = String::new();
    while let Some((one, rest)) = char_string(rd) {
        if s.len() >= MAX_DATA {
            break;
        }
        if !s.is_empty() {
            s.push(' ');
        }
        let _ = write!(s, "{kind} {} {}", one.len(), text::field(one));
        rd = rest;
    }
    s
}

#[cfg(test)]
mod tests;
