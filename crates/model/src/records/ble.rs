//! Bluetooth Low Energy link-layer PDUs: advertising metadata only.
//!
//! A record keeps what identifies an advertiser (its address and what it
//! announces about itself: name, services, company, appearance), never
//! payload bytes: manufacturer-specific data is reduced to its company
//! identifier, service data to its UUID.

use crate::MacAddr;
use serde::{Deserialize, Serialize};

/// Which link-layer PDU a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlePdu {
    /// Connectable, scannable undirected advertising.
    AdvInd,
    /// Connectable directed advertising.
    AdvDirectInd,
    /// Non-connectable, non-scannable undirected advertising.
    AdvNonconnInd,
    /// A scanner asks an advertiser for more data.
    ScanReq,
    /// The advertiser's answer to a scan request.
    ScanRsp,
    /// An initiator opens a connection to an advertiser.
    ConnectInd,
    /// Scannable, non-connectable undirected advertising.
    AdvScanInd,
    /// Extended advertising on a primary channel (37-39).
    AdvExtInd,
    /// Extended advertising on a secondary channel (AUX_ADV_IND,
    /// AUX_SCAN_RSP, AUX_CHAIN_IND, AUX_SYNC_IND share the PDU type).
    AuxAdvInd,
    /// AUX_CONNECT_RSP.
    AuxConnectRsp,
    /// A data-channel PDU of a connection (counted; contents not kept).
    Data,
}

impl BlePdu {
    /// The specification's name (`ADV_IND`), as Wireshark shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            BlePdu::AdvInd => "ADV_IND",
            BlePdu::AdvDirectInd => "ADV_DIRECT_IND",
            BlePdu::AdvNonconnInd => "ADV_NONCONN_IND",
            BlePdu::ScanReq => "SCAN_REQ",
            BlePdu::ScanRsp => "SCAN_RSP",
            BlePdu::ConnectInd => "CONNECT_IND",
            BlePdu::AdvScanInd => "ADV_SCAN_IND",
            BlePdu::AdvExtInd => "ADV_EXT_IND",
            BlePdu::AuxAdvInd => "AUX_ADV_IND",
            BlePdu::AuxConnectRsp => "AUX_CONNECT_RSP",
            BlePdu::Data => "DATA",
        }
    }
}

/// The kind of a device address (Core spec Vol 6 Part B §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BleAddrKind {
    /// An IEEE-assigned public address (its OUI names the maker).
    Public,
    /// A random static address (two top bits 11): stable until power cycle.
    RandomStatic,
    /// A resolvable private address (top bits 01): rotates, typically every 15 min.
    RandomResolvable,
    /// A non-resolvable private address (top bits 00): rotates.
    RandomNonResolvable,
    /// Random with the reserved top bits 10.
    RandomReserved,
}

impl BleAddrKind {
    /// The kind of `addr` (display order, most significant byte first) given
    /// the PDU header's TxAdd/RxAdd bit (`random`).
    pub fn of(addr: MacAddr, random: bool) -> BleAddrKind {
        if !random {
            return BleAddrKind::Public;
        }
        match addr.0[0] >> 6 {
            0b11 => BleAddrKind::RandomStatic,
            0b01 => BleAddrKind::RandomResolvable,
            0b00 => BleAddrKind::RandomNonResolvable,
            _ => BleAddrKind::RandomReserved,
        }
    }

    /// True for addresses that stay with a device (public, random static).
    pub fn is_stable(self) -> bool {
        matches!(self, BleAddrKind::Public | BleAddrKind::RandomStatic)
    }

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            BleAddrKind::Public => "public",
            BleAddrKind::RandomStatic => "random_static",
            BleAddrKind::RandomResolvable => "random_resolvable",
            BleAddrKind::RandomNonResolvable => "random_non_resolvable",
            BleAddrKind::RandomReserved => "random_reserved",
        }
    }
}

/// A device address with its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BleAddress {
    /// The 48-bit address in display order (most significant byte first).
    pub addr: MacAddr,
    /// Public or which kind of random.
    pub kind: BleAddrKind,
}

/// A service UUID: 16- and 32-bit ones are offsets in the Bluetooth base
/// UUID; 128-bit ones outside it are vendor-specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BleUuid {
    /// A 16-bit assigned number (`0x1810` Blood Pressure).
    U16(u16),
    /// A 32-bit assigned number.
    U32(u32),
    /// A 128-bit UUID (big-endian, as written `xxxxxxxx-xxxx-...`).
    U128([u8; 16]),
}

impl BleUuid {
    /// A 128-bit UUID from its on-air (little-endian) bytes, shortened to
    /// 16 or 32 bits when it lies in the Bluetooth base UUID.
    pub fn from_le128(le: [u8; 16]) -> BleUuid {
        let mut be = le;
        be.reverse();
        // Base UUID 0000xxxx-0000-1000-8000-00805F9B34FB.
        const BASE_TAIL: [u8; 12] = [
            0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0x80, 0x5f, 0x9b, 0x34, 0xfb,
        ];
        if be[4..] == BASE_TAIL {
            let v = u32::from_be_bytes([be[0], be[1], be[2], be[3]]);
            return match u16::try_from(v) {
                Ok(s) => BleUuid::U16(s),
                Err(_) => BleUuid::U32(v),
            };
        }
        BleUuid::U128(be)
    }

    /// The 16-bit value, if this is one.
    pub fn short(self) -> Option<u16> {
        match self {
            BleUuid::U16(v) => Some(v),
            _ => None,
        }
    }
}

impl std::fmt::Display for BleUuid {
    /// `0x180d`, `0x0000fe95` style for short ones, the canonical
    /// lowercase 8-4-4-4-12 form for 128-bit ones.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BleUuid::U16(v) => write!(f, "0x{v:04x}"),
            BleUuid::U32(v) => write!(f, "0x{v:08x}"),
            BleUuid::U128(b) => {
                for (i, x) in b.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// One Bluetooth LE link-layer PDU with a good CRC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BleRecord {
    /// Which PDU.
    pub pdu: BlePdu,
    /// RF channel index (0-39) when the capture header gives it.
    pub channel: Option<u8>,
    /// Received signal strength in dBm when the capture header gives it.
    pub rssi: Option<i8>,
    /// The advertiser (AdvA), when the PDU carries it.
    pub advertiser: Option<BleAddress>,
    /// The other party: scanner (SCAN_REQ), initiator (CONNECT_IND) or
    /// target (directed advertising).
    pub peer: Option<BleAddress>,
    /// AD type 0x01 flags (discoverable modes, BR/EDR support).
    pub flags: Option<u8>,
    /// Complete (0x09) or shortened (0x08) local name.
    pub name: Option<String>,
    /// True when `name` was the complete local name.
    #[serde(default)]
    pub name_complete: bool,
    /// Service UUIDs listed (AD types 0x02-0x07), in order, deduplicated.
    pub services: Vec<BleUuid>,
    /// UUIDs of service data (AD types 0x16, 0x20, 0x21); the data is not kept.
    pub service_data: Vec<BleUuid>,
    /// Company identifiers of manufacturer-specific data (AD type 0xff); the data is not kept.
    pub companies: Vec<u16>,
    /// GAP appearance (AD type 0x19).
    pub appearance: Option<u16>,
    /// Advertised TX power level in dBm (AD type 0x0a).
    pub tx_power: Option<i8>,
}

impl BleRecord {
    /// An empty record of `pdu`.
    pub fn new(pdu: BlePdu) -> BleRecord {
        BleRecord {
            pdu,
            channel: None,
            rssi: None,
            advertiser: None,
            peer: None,
            flags: None,
            name: None,
            name_complete: false,
            services: Vec::new(),
            service_data: Vec::new(),
            companies: Vec::new(),
            appearance: None,
            tx_power: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_uuids_shorten_and_print() {
        let mut le = [
            0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00, 0x10, 0x18,
            0x00, 0x00,
        ];
        assert_eq!(BleUuid::from_le128(le), BleUuid::U16(0x1810));
        le[14] = 0x01;
        assert_eq!(BleUuid::from_le128(le), BleUuid::U32(0x0001_1810));
        le[0] = 0xfc;
        let u = BleUuid::from_le128(le);
        assert_eq!(u.to_string(), "00011810-0000-1000-8000-00805f9b34fc");
        assert_eq!(BleUuid::U16(0x180d).to_string(), "0x180d");
    }

    #[test]
    fn address_kinds_from_top_bits() {
        let a = |b0| MacAddr([b0, 1, 2, 3, 4, 5]);
        assert_eq!(BleAddrKind::of(a(0xe6), false), BleAddrKind::Public);
        assert_eq!(BleAddrKind::of(a(0xe6), true), BleAddrKind::RandomStatic);
        assert_eq!(
            BleAddrKind::of(a(0x4a), true),
            BleAddrKind::RandomResolvable
        );
        assert_eq!(
            BleAddrKind::of(a(0x0a), true),
            BleAddrKind::RandomNonResolvable
        );
        assert_eq!(BleAddrKind::of(a(0x8a), true), BleAddrKind::RandomReserved);
        assert!(BleAddrKind::RandomStatic.is_stable());
        assert!(!BleAddrKind::RandomResolvable.is_stable());
    }
}
