//! SSDP analyzer (UPnP Device Architecture 1.1 section 1: HTTP over UDP,
//! port 1900, multicast 239.255.255.250 / ff02::c).
//!
//! Three message shapes, each one datagram: a device's `NOTIFY * HTTP/1.1`
//! announcement (`NTS: ssdp:alive|byebye|update`, `NT`, `USN`, `LOCATION`,
//! `SERVER`), a control point's `M-SEARCH * HTTP/1.1` query (`ST`, `MAN:
//! "ssdp:discover"`, `USER-AGENT`) and a device's unicast answer
//! `HTTP/1.1 200 OK` (`ST`, `USN`, `LOCATION`, `SERVER`). Header names are
//! case-insensitive.
//!
//! What is kept ([`model::records::SsdpRecord`], one per datagram, at most
//! [`MAX_MESSAGES`] per flow): method or status, NTS, SERVER, USER-AGENT,
//! NT, ST, the USN split into its uuid and type, and LOCATION with its query
//! string redacted. The description document the LOCATION points to travels
//! over HTTP (TCP) and is not read: the HTTP analyzer counts bodies without
//! keeping them.

use analyzer_api::{Analyzer, ByteSet, DatagramLimits, Datagrams, Probe, Protocol};
use model::records::SsdpRecord;
use model::{text, Direction, Transport};

/// Datagrams recorded per flow (devices repeat their announcements).
pub const MAX_MESSAGES: u32 = 128;
/// Longest header value kept.
const MAX_VALUE: usize = 256;
/// Bytes of a datagram read (SSDP headers are short; anything after this
/// is ignored).
const MAX_DATAGRAM: usize = 8 * 1024;

/// The SSDP protocol.
pub struct Ssdp;

impl Protocol for Ssdp {
    fn name(&self) -> &'static str {
        "ssdp"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp]
    }

    fn ports(&self) -> &'static [u16] {
        &[1900]
    }

    /// `NOTIFY * HTTP/1.1` or `M-SEARCH * HTTP/1.1` anywhere; an
    /// `HTTP/1.1 200 OK` answer (HTTP itself never runs over UDP) with an
    /// `ST:` or `USN:` header on port 1900, with both elsewhere.
    fn probe(&self, _dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        for start in [&b"NOTIFY * HTTP/1."[..], b"M-SEARCH * HTTP/1."] {
            if data.len() >= start.len() && data[..start.len()].eq_ignore_ascii_case(start) {
                return Probe::Match;
            }
        }
        if data.starts_with(b"HTTP/1.1 200") {
            let head = &data[..data.len().min(MAX_DATAGRAM)];
            let has = |name: &[u8]| {
                head.windows(name.len())
                    .any(|w| w.eq_ignore_ascii_case(name))
            };
            // The answer goes from the device's port 1900 to the searcher's
            // own port, which the flow may take for the server's: off a
            // hinted port both SSDP headers must be there.
            let (st, usn) = (has(b"\nST:"), has(b"\nUSN:"));
            if (port_hint && (st || usn)) || (st && usn) {
                return Probe::Match;
            }
        }
        if data.is_empty() {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        }
    }

    /// NOTIFY or M-SEARCH in any case, or an `HTTP/1.1 200` answer.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"NnMmH")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(Datagrams::new(
            parse,
            DatagramLimits {
                max_len: MAX_DATAGRAM,
                max_messages: MAX_MESSAGES,
                bad: "ssdp_bad_message",
                too_many: "ssdp_too_many_messages",
            },
        ))
    }
}

fn value(v: &[u8]) -> Option<String> {
    text::non_empty(&v[..v.len().min(MAX_VALUE)])
}

/// Parses one datagram: start line, then headers up to an empty line.
fn parse(dir: Direction, data: &[u8]) -> Option<SsdpRecord> {
    let mut lines = data
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start = lines.next()?;
    let mut rec = SsdpRecord {
        direction: Some(dir),
        ..Default::default()
    };
    if let Some(status) = start.strip_prefix(b"HTTP/1.") {
        let code = status.get(2..5)?;
        if status.get(1) != Some(&b' ') || !code.iter().all(u8::is_ascii_digit) {
            return None;
        }
        rec.status_code = Some(code.iter().fold(0u16, |a, &d| a * 10 + u16::from(d - b'0')));
    } else {
        let mut parts = start.split(|&b| b == b' ');
        let method = parts.next()?;
        if parts.next()? != b"*" || !parts.next()?.starts_with(b"HTTP/1.") {
            return None;
        }
        if !method.eq_ignore_ascii_case(b"NOTIFY") && !method.eq_ignore_ascii_case(b"M-SEARCH") {
            return None;
        }
        rec.method = Some(text::field(method).to_ascii_uppercase());
    }
    for line in lines {
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        let v = line[colon + 1..].trim_ascii();
        let slot = if name.eq_ignore_ascii_case(b"nts") {
            &mut rec.nts
        } else if name.eq_ignore_ascii_case(b"server") {
            &mut rec.server
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            &mut rec.user_agent
        } else if name.eq_ignore_ascii_case(b"nt") {
            &mut rec.nt
        } else if name.eq_ignore_ascii_case(b"st") {
            &mut rec.st
        } else if name.eq_ignore_ascii_case(b"location") || name.eq_ignore_ascii_case(b"al") {
            if rec.location.is_none() {
                rec.location = value(v).map(|l| text::redact_query(&l).into_owned());
            }
            continue;
        } else if name.eq_ignore_ascii_case(b"usn") {
            if rec.usn_uuid.is_none() {
                let (uuid, kind) = usn(v);
                rec.usn_uuid = uuid;
                rec.usn_type = kind;
            }
            continue;
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = value(v);
        }
    }
    Some(rec)
}

/// Splits `uuid:UUID::TYPE` (or `uuid:UUID` alone) into the uuid and the type.
fn usn(v: &[u8]) -> (Option<String>, Option<String>) {
    let (id, kind) = match v.windows(2).position(|w| w == b"::") {
        Some(i) => (&v[..i], Some(&v[i + 2..])),
        None => (v, None),
    };
    let id = if id.len() >= 5 && id[..5].eq_ignore_ascii_case(b"uuid:") {
        &id[5..]
    } else {
        id
    };
    (value(id), kind.and_then(value))
}

#[cfg(test)]
mod tests;
