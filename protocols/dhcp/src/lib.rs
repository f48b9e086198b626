//! DHCPv4 / BOOTP analyzer (RFC 951, RFC 2131, RFC 2132).
//!
//! One [`DhcpRecord`] per datagram: the fixed BOOTP header (op, xid, ciaddr,
//! yiaddr, chaddr) plus the options that identify a device: message type (53),
//! host name (12), requested address (50), lease (51), server id (54),
//! parameter request list (55, the classic DHCP fingerprint), message (56),
//! vendor class (60), client id (61), client FQDN (81, RFC 4702), domain (15)
//! and the MUD URL (161, RFC 8520). Values follow Zeek's `dhcp.log` formats
//! (message type names such as `DISCOVER`, `ACK`).
//!
//! Parsing is zero-copy over the datagram ([`wire`]); only the final record
//! allocates, and every string goes through `model::text`.

pub mod wire;

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::DhcpRecord;
use model::{text, Direction, Transport};
use std::fmt::Write as _;
use wire::{Header, OptionError};

/// Longest client id kept, in bytes (rendered as hex).
const MAX_CLIENT_ID: usize = 64;

/// The DHCPv4 protocol ("dhcp", UDP 67/68).
pub struct Dhcp;

impl Protocol for Dhcp {
    fn name(&self) -> &'static str {
        "dhcp"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp]
    }

    fn ports(&self) -> &'static [u16] {
        &[67, 68]
    }

    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        if data.is_empty() {
            return Probe::NeedMore;
        }
        match Header::parse(data) {
            Some(h) if h.plausible() && h.cookie_ok => Probe::Match,
            _ => Probe::NoMatch,
        }
    }

    /// Op: BOOTREQUEST or BOOTREPLY.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[1, 2])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(DhcpAnalyzer { bad_in_a_row: 0 })
    }
}

/// Per-flow state: DHCP is stateless per datagram; we only count garbage.
struct DhcpAnalyzer {
    bad_in_a_row: u8,
}

/// After this many consecutive non-DHCP datagrams the flow is given up.
const MAX_BAD_IN_A_ROW: u8 = 8;

impl Analyzer for DhcpAnalyzer {
    fn feed(&mut self, _dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let Some(h) = Header::parse(data) else {
            out.weird("dhcp_truncated");
            return self.bad(data.len());
        };
        if !h.plausible() {
            out.weird("dhcp_bad_header");
            return self.bad(data.len());
        }
        self.bad_in_a_row = 0;
        let rec = record(&h, data, out);
        out.emit(rec);
        Progress::Consumed(data.len())
    }
}

impl DhcpAnalyzer {
    fn bad(&mut self, len: usize) -> Progress {
        self.bad_in_a_row = self.bad_in_a_row.saturating_add(1);
        if self.bad_in_a_row >= MAX_BAD_IN_A_ROW {
            Progress::Done
        } else {
            Progress::Consumed(len)
        }
    }
}

/// Builds the record for one message whose header parsed.
fn record(h: &Header, msg: &[u8], out: &mut Out<'_>) -> DhcpRecord {
    let mut rec = DhcpRecord {
        xid: h.xid,
        client_mac: h.client_mac(),
        client_addr: non_zero(h.ciaddr),
        assigned_addr: non_zero(h.yiaddr),
        ..DhcpRecord::default()
    };
    let mut msg_type = None;
    if !h.cookie_ok {
        // Zeek ignores options after a bad cookie; so do we.
        out.weird("dhcp_bad_magic_cookie");
    } else {
        let res = wire::for_each_option(msg, |code, val| {
            apply_option(&mut rec, &mut msg_type, code, val);
        });
        match res {
            Ok(()) => {}
            Err(OptionError::Truncated) => out.weird("dhcp_option_truncated"),
            Err(OptionError::NoEnd) => out.weird("dhcp_option_no_end"),
        }
    }
    rec.msg_type = match msg_type {
        Some(t) => message_type_name(t),
        None if h.op == 1 => "BOOTREQUEST".to_string(),
        None => "BOOTREPLY".to_string(),
    };
    rec
}

/// Stores one option's value in the record. First occurrence wins.
fn apply_option(rec: &mut DhcpRecord, msg_type: &mut Option<u8>, code: u8, val: &[u8]) {
    match code {
        12 if rec.hostname.is_none() => rec.hostname = text::non_empty(val),
        15 if rec.domain.is_none() => rec.domain = text::non_empty(val),
        50 if rec.requested_addr.is_none() => rec.requested_addr = ipv4(val),
        51 if rec.lease_time.is_none() => {
            rec.lease_time = val
                .get(..4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        }
        53 if msg_type.is_none() => *msg_type = val.first().copied(),
        54 if rec.server_id.is_none() => rec.server_id = ipv4(val),
        55 if rec.param_request_list.is_none() && !val.is_empty() => {
            let mut s = String::with_capacity(val.len() * 4);
            for (i, b) in val.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                let _ = write!(s, "{b}");
            }
            rec.param_request_list = Some(s);
        }
        56 if rec.message.is_none() => rec.message = text::non_empty(val),
        60 if rec.vendor_class.is_none() => rec.vendor_class = text::non_empty(val),
        61 if rec.client_id.is_none() && !val.is_empty() => {
            let v = &val[..val.len().min(MAX_CLIENT_ID)];
            let mut s = String::with_capacity(v.len() * 2);
            for b in v {
                let _ = write!(s, "{b:02x}");
            }
            rec.client_id = Some(s);
        }
        81 if rec.client_fqdn.is_none() => rec.client_fqdn = client_fqdn(val),
        161 if rec.mud_url.is_none() => rec.mud_url = text::non_empty(val),
        _ => {}
    }
}

/// Option 81 (RFC 4702): flags, RCODE1, RCODE2, then the name. With the E flag
/// the name is in DNS wire format (uncompressed labels), else ASCII.
fn client_fqdn(val: &[u8]) -> Option<String> {
    let (&flags, rest) = val.split_first()?;
    let name = rest.get(2..)?;
    if flags & 0x04 == 0 {
        return text::non_empty(name);
    }
    let mut buf = [0u8; 255];
    let mut len = 0usize;
    let mut pos = 0usize;
    while let Some(&l) = name.get(pos) {
        let l = l as usize;
        if l == 0 || l > 63 {
            break;
        }
        let Some(label) = name.get(pos + 1..pos + 1 + l) else {
            break;
        };
        let need = l + usize::from(len > 0);
        if len + need > buf.len() {
            break;
        }
        if len > 0 {
            buf[len] = b'.';
            len += 1;
        }
        buf[len..len + l].copy_from_slice(label);
        len += l;
        pos += 1 + l;
    }
    text::non_empty(&buf[..len])
}

fn ipv4(val: &[u8]) -> Option<std::net::Ipv4Addr> {
    let b: [u8; 4] = val.get(..4)?.try_into().ok()?;
    Some(std::net::Ipv4Addr::from(b))
}

fn non_zero(a: std::net::Ipv4Addr) -> Option<std::net::Ipv4Addr> {
    (!a.is_unspecified()).then_some(a)
}

/// DHCP message type names as Zeek's `DHCP::message_types` prints them.
pub fn message_type_name(t: u8) -> String {
    let name = match t {
        1 => "DISCOVER",
        2 => "OFFER",
        3 => "REQUEST",
        4 => "DECLINE",
        5 => "ACK",
        6 => "NAK",
        7 => "RELEASE",
        8 => "INFORM",
        9 => "FORCERENEW",
        10 => "LEASEQUERY",
        11 => "LEASEUNASSIGNED",
        12 => "LEASEUNKNOWN",
        13 => "LEASEACTIVE",
        14 => "BULKLEASEQUERY",
        15 => "LEASEQUERYDONE",
        16 => "ACTIVELEASEQUERY",
        17 => "LEASEQUERYSTATUS",
        18 => "TLS",
        n => return format!("unknown-message-type-{n}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests;
