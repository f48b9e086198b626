//! LLDP (IEEE 802.1AB-2016 §8) TLV parsing.
//!
//! Each TLV has a 16-bit header: 7-bit type, 9-bit length, then the value.
//! Types used: 0 End, 1 Chassis ID, 2 Port ID, 3 TTL, 4 Port Description,
//! 5 System Name, 6 System Description, 7 System Capabilities, 8 Management
//! Address, 127 Organizationally Specific. Org-specific TLVs decoded:
//! LLDP-MED inventory (OUI 00-12-BB, ANSI/TIA-1057 §10.2.6, subtypes 5-10) and
//! the MUD URL (OUI 00-00-5E subtype 1, RFC 8520 §10).

use crate::{description, hex, push_addr};
use analyzer_api::{LinkFrame, Out};
use model::records::{NeighborProtocol, NeighborRecord};
use model::{text, MacAddr};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Most TLVs looked at in one frame.
const MAX_TLVS: usize = 512;
/// LLDP-MED OUI.
const OUI_MED: [u8; 3] = [0x00, 0x12, 0xbb];
/// IANA OUI (MUD URL extension).
const OUI_IANA: [u8; 3] = [0x00, 0x00, 0x5e];

/// Why the TLV walk stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlvError {
    /// A TLV header or value runs past the end of the frame.
    Truncated,
    /// More than [`MAX_TLVS`] TLVs.
    TooMany,
}

/// Calls `f(type, value)` for every TLV up to End. Zero-copy.
pub fn walk(mut data: &[u8], mut f: impl FnMut(u8, &[u8])) -> Result<(), TlvError> {
    for _ in 0..MAX_TLVS {
        let Some(hdr) = data.get(..2) else {
            // No End TLV: tolerated when the frame simply ends.
            return if data.is_empty() {
                Ok(())
            } else {
                Err(TlvError::Truncated)
            };
        };
        let h = u16::from_be_bytes([hdr[0], hdr[1]]);
        let (t, len) = ((h >> 9) as u8, (h & 0x1ff) as usize);
        if t == 0 {
            return Ok(());
        }
        let Some(value) = data.get(2..2 + len) else {
            return Err(TlvError::Truncated);
        };
        f(t, value);
        data = &data[2 + len..];
    }
    Err(TlvError::TooMany)
}

/// Parses one LLDPDU and emits its record (and weirds for malformed TLVs).
pub fn handle(frame: &LinkFrame<'_>, out: &mut Out<'_>) {
    let mut rec = NeighborRecord {
        protocol: NeighborProtocol::Lldp,
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
    let mut bad_tlv = false;
    let mut first = true;
    let mut missing_chassis = false;
    let res = walk(frame.payload, |t, v| {
        if first {
            missing_chassis = t != 1;
            first = false;
        }
        if !apply(&mut rec, t, v) {
            bad_tlv = true;
        }
    });
    match res {
        Ok(()) => {}
        Err(TlvError::Truncated) => out.weird("lldp_tlv_truncated"),
        Err(TlvError::TooMany) => out.weird("lldp_too_many_tlvs"),
    }
    if missing_chassis {
        out.weird("lldp_missing_chassis_id");
    }
    if bad_tlv {
        out.weird("lldp_bad_tlv_value");
    }
    let empty = rec.chassis_id.is_none()
        && rec.port_id.is_none()
        && rec.system_name.is_none()
        && rec.system_description.is_none()
        && rec.mgmt_addrs.is_empty()
        && rec.capabilities.is_empty()
        && rec.platform.is_none()
        && rec.manufacturer.is_none()
        && rec.mud_url.is_none();
    if !empty {
        out.emit(rec);
    }
}

/// Stores one TLV; false if its value is malformed. First occurrence wins.
fn apply(rec: &mut NeighborRecord, t: u8, v: &[u8]) -> bool {
    match t {
        1 if rec.chassis_id.is_none() => {
            let Some((&sub, id)) = v.split_first() else {
                return false;
            };
            rec.chassis_id = chassis_id(sub, id);
        }
        2 if rec.port_id.is_none() => {
            let Some((&sub, id)) = v.split_first() else {
                return false;
            };
            rec.port_id = port_id(sub, id);
        }
        4 if rec.port_description.is_none() => rec.port_description = text::non_empty(v),
        5 if rec.system_name.is_none() => rec.system_name = text::non_empty(v),
        6 if rec.system_description.is_none() => rec.system_description = description(v),
        7 if rec.capabilities.is_empty() => {
            let Some(b) = v.get(2..4) else { return false };
            rec.capabilities = capability_names(u16::from_be_bytes([b[0], b[1]]));
        }
        8 => return mgmt_addr(rec, v),
        127 => return org_specific(rec, v),
        _ => {}
    }
    true
}

/// Chassis ID subtypes (802.1AB §8.5.2.2): 4 MAC address, 5 network address,
/// 1/2/3/6/7 text (component, alias, port component, interface name, local).
fn chassis_id(sub: u8, id: &[u8]) -> Option<String> {
    match sub {
        4 => Some(mac_or_hex(id)),
        5 => network_address(id),
        1 | 2 | 3 | 6 | 7 => text::non_empty(id),
        _ => (!id.is_empty()).then(|| hex(id)),
    }
}

/// Port ID subtypes (802.1AB §8.5.3.2): 3 MAC address, 4 network address,
/// 6 agent circuit id (binary), 1/2/5/7 text (alias, component, name, local).
fn port_id(sub: u8, id: &[u8]) -> Option<String> {
    match sub {
        3 => Some(mac_or_hex(id)),
        4 => network_address(id),
        1 | 2 | 5 | 7 => text::non_empty(id),
        _ => (!id.is_empty()).then(|| hex(id)),
    }
}

fn mac_or_hex(b: &[u8]) -> String {
    match MacAddr::from_slice(b).filter(|_| b.len() == 6) {
        Some(m) => m.to_string(),
        None => hex(b),
    }
}

/// An IANA address-family byte then the address (1 IPv4, 2 IPv6, 6 802 MAC).
fn network_address(b: &[u8]) -> Option<String> {
    let (&afi, a) = b.split_first()?;
    Some(match (afi, a.len()) {
        (1, 4) => Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string(),
        (2, 16) => {
            let x: [u8; 16] = a.try_into().ok()?;
            Ipv6Addr::from(x).to_string()
        }
        (6, 6) => mac_or_hex(a),
        _ if a.is_empty() => return None,
        _ => hex(a),
    })
}

/// Enabled-capability names (802.1AB §8.5.8, Table 8-4), in bit order.
pub fn capability_names(bits: u16) -> Vec<String> {
    const NAMES: [&str; 11] = [
        "other",
        "repeater",
        "bridge",
        "wlan_ap",
        "router",
        "telephone",
        "docsis",
        "station",
        "c_vlan",
        "s_vlan",
        "tpmr",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| (*n).to_string())
        .collect()
}

/// Management Address TLV (§8.5.9): address string length (subtype + address),
/// address subtype, address, interface numbering, OID.
fn mgmt_addr(rec: &mut NeighborRecord, v: &[u8]) -> bool {
    let Some((&len, rest)) = v.split_first() else {
        return false;
    };
    let len = len as usize;
    if !(2..=32).contains(&len) {
        return false;
    }
    let Some(addr) = rest.get(..len) else {
        return false;
    };
    if let Some(a) = network_address(addr) {
        push_addr(&mut rec.mgmt_addrs, a);
    }
    true
}

/// Organizationally specific TLV: OUI, subtype, information string.
fn org_specific(rec: &mut NeighborRecord, v: &[u8]) -> bool {
    let (Some(oui), Some(&sub)) = (v.get(..3), v.get(3)) else {
        return false;
    };
    let info = &v[4..];
    let slot = match (oui, sub) {
        (o, 5) if o == OUI_MED => &mut rec.hardware,
        (o, 6) if o == OUI_MED => &mut rec.firmware,
        (o, 7) if o == OUI_MED => &mut rec.software,
        (o, 8) if o == OUI_MED => &mut rec.serial,
        (o, 9) if o == OUI_MED => &mut rec.manufacturer,
        (o, 10) if o == OUI_MED => &mut rec.platform,
        (o, 1) if o == OUI_IANA => &mut rec.mud_url,
        _ => return true,
    };
    if slot.is_none() {
        *slot = text::non_empty(info);
    }
    true
}
