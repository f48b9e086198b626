//! LLDPDU (IEEE 802.1AB-2016 section 8): chassis ID, port ID, TTL, port
//! description, system name/description, system capabilities, management
//! address, end.

use std::net::Ipv4Addr;

use crate::packet::Mac;

/// Nearest-bridge multicast destination.
pub const LLDP_MULTICAST: Mac = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e];
/// System capability bit: bridge.
pub const CAP_BRIDGE: u16 = 0x0004;
/// System capability bit: router.
pub const CAP_ROUTER: u16 = 0x0010;

fn tlv(out: &mut Vec<u8>, tlv_type: u8, value: &[u8]) {
    let header = (u16::from(tlv_type) << 9) | (value.len() as u16 & 0x01ff);
    out.extend_from_slice(&header.to_be_bytes());
    out.extend_from_slice(value);
}

/// What a switch port advertises.
#[derive(Debug, Clone, Copy)]
pub struct Advert<'a> {
    /// Chassis MAC (chassis ID subtype 4).
    pub chassis_mac: Mac,
    /// Interface name (port ID subtype 5).
    pub port_id: &'a str,
    /// Port description.
    pub port_description: &'a str,
    /// System name.
    pub system_name: &'a str,
    /// System description.
    pub system_description: &'a str,
    /// Capabilities supported.
    pub capabilities: u16,
    /// Capabilities enabled.
    pub enabled: u16,
    /// IPv4 management address and its ifIndex.
    pub management: (Ipv4Addr, u32),
    /// Time to live in seconds.
    pub ttl: u16,
}

/// The ANSI/TIA-1057 LLDP-MED inventory an endpoint may add.
#[derive(Debug, Clone, Copy)]
pub struct Inventory<'a> {
    /// Firmware revision (subtype 6).
    pub firmware: &'a str,
    /// Manufacturer name (subtype 9).
    pub manufacturer: &'a str,
    /// Model name (subtype 10).
    pub model: &'a str,
}

/// Encodes the LLDPDU with LLDP-MED inventory TLVs before its end.
pub fn lldpdu_with_inventory(a: &Advert<'_>, inv: &Inventory<'_>) -> Vec<u8> {
    let mut out = lldpdu(a);
    out.truncate(out.len() - 2); // the End TLV
    for (subtype, v) in [(6u8, inv.firmware), (9, inv.manufacturer), (10, inv.model)] {
        let mut body = vec![0x00, 0x12, 0xbb, subtype];
        body.extend_from_slice(v.as_bytes());
        tlv(&mut out, 127, &body);
    }
    tlv(&mut out, 0, &[]);
    out
}

/// Encodes the LLDPDU (the Ethernet payload).
pub fn lldpdu(a: &Advert<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chassis = vec![4];
    chassis.extend_from_slice(&a.chassis_mac);
    tlv(&mut out, 1, &chassis);
    let mut port = vec![5];
    port.extend_from_slice(a.port_id.as_bytes());
    tlv(&mut out, 2, &port);
    tlv(&mut out, 3, &a.ttl.to_be_bytes());
    tlv(&mut out, 4, a.port_description.as_bytes());
    tlv(&mut out, 5, a.system_name.as_bytes());
    tlv(&mut out, 6, a.system_description.as_bytes());
    let mut caps = a.capabilities.to_be_bytes().to_vec();
    caps.extend_from_slice(&a.enabled.to_be_bytes());
    tlv(&mut out, 7, &caps);
    let mut mgmt = vec![5, 1]; // address string length (subtype + 4), IANA family IPv4
    mgmt.extend_from_slice(&a.management.0.octets());
    mgmt.push(2); // interface numbering: ifIndex
    mgmt.extend_from_slice(&a.management.1.to_be_bytes());
    mgmt.push(0); // no OID
    tlv(&mut out, 8, &mgmt);
    tlv(&mut out, 0, &[]);
    out
}
