//! Cisco Discovery Protocol (CDP v1/v2) parsing.
//!
//! Layout (Cisco's published CDP format, as decoded by Wireshark and tcpdump's
//! print-cdp.c): version (1 byte), TTL (1), checksum (2), then TLVs of a
//! 16-bit type and a 16-bit length that includes the 4-byte TLV header.
//! Types used: 0x0001 Device ID, 0x0002 Addresses, 0x0003 Port ID,
//! 0x0004 Capabilities, 0x0005 Software Version, 0x0006 Platform,
//! 0x0016 Management Addresses.
//!
//! An address list is a 32-bit count, then per address: protocol type (1 NLPID,
//! 2 802.2), protocol length, protocol, 16-bit address length, address.
//! NLPID 0xcc is IPv4; 802.2 protocol `AA AA 03 00 00 00 86 DD` is IPv6.

use crate::{description, push_addr};
use analyzer_api::{LinkFrame, Out};
use model::records::{NeighborProtocol, NeighborRecord};
use model::text;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Most TLVs looked at in one frame.
const MAX_TLVS: usize = 256;
/// 802.2 protocol id for IPv6 in a CDP address entry.
const PROTO_IPV6: [u8; 8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd];

/// Why the TLV walk stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlvError {
    /// A TLV length below 4 (the header itself).
    BadLength,
    /// A TLV runs past the end of the frame.
    Truncated,
    /// More than [`MAX_TLVS`] TLVs.
    TooMany,
}

/// Calls `f(type, value)` for every TLV after the 4-byte CDP header.
pub fn walk(mut data: &[u8], mut f: impl FnMut(u16, &[u8])) -> Result<(), TlvError> {
    for _ in 0..MAX_TLVS {
        if data.is_empty() {
            return Ok(());
        }
        let Some(hdr) = data.get(..4) else {
            return Err(TlvError::Truncated);
        };
        let t = u16::from_be_bytes([hdr[0], hdr[1]]);
        let len = u16::from_be_bytes([hdr[2], hdr[3]]) as usize;
        if len < 4 {
            return Err(TlvError::BadLength);
        }
        let Some(value) = data.get(4..len) else {
            return Err(TlvError::Truncated);
        };
        f(t, value);
        data = &data[len..];
    }
    Err(TlvError::TooMany)
}

/// Parses one CDP frame payload and emits its record.
pub fn handle(frame: &LinkFrame<'_>, out: &mut Out<'_>) {
    let Some(hdr) = frame.payload.get(..4) else {
        out.weird("cdp_truncated_header");
        return;
    };
    if !matches!(hdr[0], 1 | 2) {
        out.weird("cdp_bad_version");
        return;
    }
    let mut rec = NeighborRecord {
        protocol: NeighborProtocol::Cdp,
        src_mac: frame.src,
        chassis_id: None,
        port_id: None,
        port_description: None,
        system_name: None,
        system_description: None,
        platform: None,
        mgmt_addrs: Vec::new(),
        capabilities: Vec::new(),
        manufacturer: None,
        hardware: None,
        firmware: None,
        software: None,
        serial: None,
        mud_url: None,
    };
    let mut bad_value = false;
    let res = walk(&frame.payload[4..], |t, v| match t {
        0x0001 if rec.chassis_id.is_none() => rec.chassis_id = text::non_empty(v),
        0x0002 | 0x0016 => bad_value |= !addresses(v, &mut rec.mgmt_addrs),
        0x0003 if rec.port_id.is_none() => rec.port_id = text::non_empty(v),
        0x0004 if rec.capabilities.is_empty() => match v.get(..4) {
            Some(b) => {
                rec.capabilities = capability_names(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            None => bad_value = true,
        },
        0x0005 if rec.system_description.is_none() => rec.system_description = description(v),
        0x0006 if rec.platform.is_none() => rec.platform = text::non_empty(v),
        _ => {}
    });
    match res {
        Ok(()) => {}
        Err(TlvError::BadLength) => out.weird("cdp_tlv_bad_length"),
        Err(TlvError::Truncated) => out.weird("cdp_tlv_truncated"),
        Err(TlvError::TooMany) => out.weird("cdp_too_many_tlvs"),
    }
    if bad_value {
        out.weird("cdp_bad_tlv_value");
    }
    if rec.chassis_id.is_some()
        || rec.port_id.is_some()
        || rec.platform.is_some()
        || rec.system_description.is_some()
    {
        out.emit(rec);
    }
}

/// Decodes an address list into `list`; false if it is malformed.
fn addresses(v: &[u8], list: &mut Vec<String>) -> bool {
    let Some(n) = v
        .get(..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    else {
        return false;
    };
    let mut rest = &v[4..];
    for _ in 0..n.min(crate::MAX_ADDRS as u32) {
        let (Some(&ptype), Some(&plen)) = (rest.first(), rest.get(1)) else {
            return false;
        };
        let plen = plen as usize;
        let Some(proto) = rest.get(2..2 + plen) else {
            return false;
        };
        let at = 2 + plen;
        let Some(alen) = rest
            .get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        else {
            return false;
        };
        let Some(addr) = rest.get(at + 2..at + 2 + alen) else {
            return false;
        };
        match (ptype, proto, alen) {
            (1, [0xcc], 4) => push_addr(
                list,
                Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string(),
            ),
            (2, p, 16) if p == PROTO_IPV6 => {
                if let Ok(a) = <[u8; 16]>::try_from(addr) {
                    push_addr(list, Ipv6Addr::from(a).to_string());
                }
            }
            _ => {}
        }
        rest = &rest[at + 2 + alen..];
    }
    true
}

/// CDP capability names, in bit order (bit 0 router ... bit 10 two-port MAC relay).
pub fn capability_names(bits: u32) -> Vec<String> {
    const NAMES: [&str; 11] = [
        "router",
        "bridge",
        "source_route_bridge",
        "switch",
        "host",
        "igmp",
        "repeater",
        "telephone",
        "remote_managed",
        "cvta",
        "mac_relay",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| (*n).to_string())
        .collect()
}
