//! WS-Discovery analyzer (OASIS WS-Discovery 1.1, and the April 2005
//! draft used by printers and cameras): SOAP 1.2 envelopes over UDP, port
//! 3702, multicast 239.255.255.250 / ff02::c. DPWS devices and IEEE 11073
//! SDC providers (11073-20702) announce themselves with it.
//!
//! Messages: a device's `Hello` and `Bye` (multicast), a client's `Probe`
//! (Types and Scopes it looks for) and `Resolve` (an endpoint address), and
//! the device's unicast `ProbeMatches` and `ResolveMatches`, which go
//! between two ephemeral ports: the probe therefore recognises the
//! discovery namespace on any port.
//!
//! What is kept ([`model::records::WsdRecord`], one per datagram, at most
//! [`MAX_MESSAGES`] per flow): the action, the endpoint reference address,
//! up to [`MAX_LIST`] Types (resolved to their namespaces), Scopes and
//! XAddrs, and the MetadataVersion. SDC patient-context scopes
//! (`sdc.ctxt.pat:`) are replaced by a marker; XAddrs lose their query
//! values.
//!
//! [`describe`] reads the identity part of DPWS metadata and UPnP device
//! descriptions; the HTTP analyzer uses it on XML response bodies.

pub mod describe;
pub mod xml;

use analyzer_api::{Analyzer, ByteSet, DatagramLimits, Datagrams, Probe, Protocol};
use model::records::{WsdRecord, WsdType};
use model::{text, Direction, Transport};
use xml::{Namespaces, Scanner, Token};

/// Datagrams recorded per flow (announcements are repeated).
pub const MAX_MESSAGES: u32 = 128;
/// Types, Scopes or XAddrs kept per message.
pub const MAX_LIST: usize = 16;
/// Longest value kept.
pub const MAX_VALUE: usize = 256;
/// Bytes of a datagram read.
const MAX_DATAGRAM: usize = 64 * 1024;
/// Bytes the probe looks into for the discovery namespace.
const PROBE_WINDOW: usize = 2048;

/// Namespaces of WS-Discovery (1.1, and the 2005 draft).
const DISCOVERY_NS: &[&[u8]] = &[
    b"http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01",
    b"http://schemas.xmlsoap.org/ws/2005/04/discovery",
];

/// Message kinds, by the local name of the first element of the body.
const KINDS: &[&str] = &[
    "Hello",
    "Bye",
    "Probe",
    "ProbeMatches",
    "Resolve",
    "ResolveMatches",
];

/// Scope prefixes that may identify a patient (IEEE 11073-20701 patient
/// context scopes): never kept.
const PRIVATE_SCOPES: &[&str] = &["sdc.ctxt.pat:"];

/// The WS-Discovery protocol.
pub struct Wsd;

impl Protocol for Wsd {
    fn name(&self) -> &'static str {
        "wsd"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp]
    }

    fn ports(&self) -> &'static [u16] {
        &[3702]
    }

    /// An XML document (`<` after optional BOM and white space) naming a
    /// WS-Discovery namespace in its first bytes, on any port.
    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        if data.is_empty() {
            return Probe::NeedMore;
        }
        let body = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
        if body.trim_ascii_start().first() != Some(&b'<') {
            return Probe::NoMatch;
        }
        let head = &data[..data.len().min(PROBE_WINDOW)];
        if DISCOVERY_NS
            .iter()
            .any(|ns| memchr::memmem::find(head, ns).is_some())
        {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }

    /// A byte order mark, white space or `<`.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"\xef \t\n\x0c\r<")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(Datagrams::new(
            parse,
            DatagramLimits {
                max_len: MAX_DATAGRAM,
                max_messages: MAX_MESSAGES,
                bad: "wsd_bad_message",
                too_many: "wsd_too_many_messages",
            },
        ))
    }
}

/// Where in the envelope the scanner is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    Action,
    Address,
    Types,
    Scopes,
    XAddrs,
    MetadataVersion,
}

/// Parses one datagram; None unless it is a SOAP envelope with a
/// WS-Discovery action or body element.
pub fn parse(dir: Direction, data: &[u8]) -> Option<WsdRecord> {
    let mut rec = WsdRecord {
        direction: Some(dir),
        ..Default::default()
    };
    let mut ns = Namespaces::default();
    let mut scan = Scanner::new(data);
    let (mut envelope, mut in_body, mut in_epr) = (false, false, false);
    let mut body_depth = 0;
    let mut field = Field::None;
    let mut body_kind: Option<&str> = None;
    // Fields are taken from the first match of an answer only.
    let mut done_first = false;
    while let Some(tok) = scan.next() {
        match tok {
            Token::Start { name, attrs, empty } => {
                ns.declare(attrs);
                let l = xml::local(name);
                field = Field::None;
                if !envelope {
                    if l != b"Envelope" {
                        return None;
                    }
                    envelope = true;
                    continue;
                }
                if l == b"Body" && !in_body {
                    in_body = true;
                    body_depth = scan.depth();
                    continue;
                }
                // The element's own depth (a self-closing one adds no level).
                let depth = scan.depth() + usize::from(empty);
                if in_body && body_kind.is_none() && depth == body_depth + 1 {
                    let n = std::str::from_utf8(l).unwrap_or_default();
                    body_kind = KINDS.iter().copied().find(|k| *k == n);
                }
                if matches!(l, b"ProbeMatch" | b"ResolveMatch") {
                    rec.matches = rec.matches.saturating_add(1);
                    done_first = rec.matches > 1;
                }
                if empty || done_first {
                    continue;
                }
                field = match l {
                    b"Action" if !in_body => Field::Action,
                    b"EndpointReference" if in_body => {
                        in_epr = true;
                        Field::None
                    }
                    b"Address" if in_epr => Field::Address,
                    b"Types" if in_body => Field::Types,
                    b"Scopes" if in_body => Field::Scopes,
                    b"XAddrs" if in_body => Field::XAddrs,
                    b"MetadataVersion" if in_body => Field::MetadataVersion,
                    _ => Field::None,
                };
            }
            Token::End(name) => {
                if xml::local(name) == b"EndpointReference" {
                    in_epr = false;
                }
                field = Field::None;
            }
            Token::Text(raw) => {
                take(field, raw, &ns, &mut rec);
                field = Field::None;
            }
        }
    }
    if !envelope {
        return None;
    }
    let from_action = rec
        .action
        .as_deref()
        .and_then(|a| a.rsplit('/').next())
        .and_then(|last| KINDS.iter().copied().find(|k| *k == last));
    match (from_action, body_kind) {
        (Some(k), _) | (None, Some(k)) => rec.action = Some(k.to_string()),
        // Another action of the discovery family (a fault, a proxy's Hello).
        (None, None) if rec.action.as_deref().is_some_and(is_discovery_action) => {
            let last = rec.action.as_deref().and_then(|a| a.rsplit('/').next());
            rec.action = last.and_then(|l| text::non_empty(l.as_bytes()));
        }
        (None, None) => return None,
    }
    Some(rec)
}

fn is_discovery_action(a: &str) -> bool {
    DISCOVERY_NS.iter().any(|ns| a.as_bytes().starts_with(ns))
}

/// Stores the text of the element `field`.
fn take<'a>(field: Field, raw: &'a [u8], ns: &Namespaces<'a>, rec: &mut WsdRecord) {
    let words = || {
        raw.trim_ascii()
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .take(MAX_LIST)
    };
    match field {
        Field::None => {}
        Field::Action if rec.action.is_none() => rec.action = xml::text(raw, MAX_VALUE),
        Field::Address if rec.endpoint.is_none() => rec.endpoint = xml::text(raw, MAX_VALUE),
        Field::Types if rec.types.is_empty() => {
            for w in words() {
                let (n, l) = ns.resolve(w);
                if let Some(local) = xml::text(l, MAX_VALUE) {
                    rec.types.push(WsdType {
                        namespace: xml::text(n, MAX_VALUE).unwrap_or_default(),
                        local,
                    });
                }
            }
        }
        Field::Scopes if rec.scopes.is_empty() => {
            for w in words() {
                let Some(s) = xml::text(w, MAX_VALUE) else {
                    continue;
                };
                let private = PRIVATE_SCOPES.iter().find(|p| {
                    s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
                });
                rec.scopes.push(match private {
                    Some(p) => format!("{p}{}", text::REDACTED),
                    None => s,
                });
            }
        }
        Field::XAddrs if rec.xaddrs.is_empty() => {
            for w in words() {
                if let Some(x) = xml::text(w, MAX_VALUE) {
                    rec.xaddrs.push(text::redact_query(&x).into_owned());
                }
            }
        }
        Field::MetadataVersion if rec.metadata_version.is_none() => {
            rec.metadata_version = std::str::from_utf8(raw.trim_ascii())
                .ok()
                .and_then(|v| v.parse().ok());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
