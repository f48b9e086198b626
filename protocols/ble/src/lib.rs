//! Bluetooth Low Energy link layer: advertising PDUs and what advertisers
//! say about themselves.
//!
//! One [`LinkProtocol`], [`Ble`], for frames of three pcap link types, which
//! `wire` hands over whole (`LinkFrame::raw_link`):
//! - 272 `LINKTYPE_NORDIC_BLE`: Nordic nRF Sniffer for Bluetooth LE, a
//!   board id, a 6-byte header (versions 1, 2 and 3: the protocol version is
//!   its third byte) and a packet header (flags with the CRC result and PHY,
//!   channel index, RSSI, event counter, time) before the link-layer packet
//!   (see [`nordic`]);
//! - 256 `LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR`: a 10-byte pseudo-header (RF
//!   channel, signal power, flags with the CRC result) before the packet;
//! - 251 `LINKTYPE_BLUETOOTH_LE_LL`: the packet alone.
//!
//! The link-layer packet (access address, PDU header, payload, CRC) is read
//! by [`pdu`]: advertising-channel PDUs (access address 0x8E89BED6) become
//! one [`BleRecord`] each with the advertiser's address and kind, the peer's
//! (scanner, initiator, target), and the AD structures (see [`ad`]).
//! Data-channel PDUs become a [`BlePdu::Data`] record without contents, so
//! they are counted, not reported as malformed. Frames with a bad CRC are a
//! `crc_error` weird and nothing else: radio noise must not name devices.
//!
//! Zero-copy: every read is a bounds-checked slice of the frame; strings go
//! through `model::text`, lists are capped; never panics.
//!
//! References: Bluetooth Core Specification 5.4, Vol 6 Part B §2 (air
//! interface packets) and Vol 3 Part C §11 with the Core Specification
//! Supplement Part A (AD types); <https://www.tcpdump.org/linktypes.html>;
//! Nordic's nRF Sniffer UART protocol as documented in Wireshark's
//! `packet-nordic_ble.c`.

pub mod ad;
pub mod nordic;
pub mod pdu;

use analyzer_api::{LinkFrame, LinkProtocol, Out};
pub use model::records::{BleAddrKind, BleAddress, BlePdu, BleRecord, BleUuid};

/// pcap `LINKTYPE_BLUETOOTH_LE_LL`.
pub const LINKTYPE_BLE_LL: u32 = 251;
/// pcap `LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR`.
pub const LINKTYPE_BLE_LL_WITH_PHDR: u32 = 256;
/// pcap `LINKTYPE_NORDIC_BLE`.
pub const LINKTYPE_NORDIC_BLE: u32 = 272;

/// The advertising channels' access address.
pub const ADVERTISING_AA: u32 = 0x8E89_BED6;

/// Bluetooth LE frames ("ble").
pub struct Ble;

impl LinkProtocol for Ble {
    fn name(&self) -> &'static str {
        "ble"
    }

    fn accepts(&self, frame: &LinkFrame<'_>) -> bool {
        matches!(
            frame.raw_link,
            Some(LINKTYPE_BLE_LL | LINKTYPE_BLE_LL_WITH_PHDR | LINKTYPE_NORDIC_BLE)
        )
    }

    fn handle(&self, frame: &LinkFrame<'_>, out: &mut Out<'_>) {
        let Some(link) = frame.raw_link else { return };
        if let Err(e) = handle(link, frame.payload, out) {
            out.weird(e.name());
        }
    }
}

/// Why a frame yielded no record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The capture reported a bad CRC (radio noise, collisions).
    CrcError,
    /// Shorter than its headers say.
    Truncated,
    /// A Nordic header version or packet id that is not a radio packet.
    UnknownHeader,
    /// LE Coded PHY packets (not decoded).
    CodedPhy,
    /// An advertising PDU type that is reserved.
    ReservedPduType,
    /// Not a link type of this protocol.
    NotBle,
}

impl Skip {
    /// Stable snake_case name (the weird's name).
    pub fn name(self) -> &'static str {
        match self {
            Skip::CrcError => "crc_error",
            Skip::Truncated => "truncated",
            Skip::UnknownHeader => "unknown_header",
            Skip::CodedPhy => "coded_phy",
            Skip::ReservedPduType => "reserved_pdu_type",
            Skip::NotBle => "not_ble",
        }
    }
}

/// What a capture header says about the radio packet that follows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Radio {
    /// Channel index 0-39 (37-39 are the primary advertising channels).
    pub channel: Option<u8>,
    /// Signal strength in dBm.
    pub rssi: Option<i8>,
}

/// Decodes one frame of pcap link type `link` into records on `out`.
pub fn handle(link: u32, data: &[u8], out: &mut Out<'_>) -> Result<(), Skip> {
    let rec = decode(link, data)?;
    out.emit(rec);
    Ok(())
}

/// Decodes one frame of pcap link type `link` into its record.
pub fn decode(link: u32, data: &[u8]) -> Result<BleRecord, Skip> {
    let (radio, packet) = match link {
        LINKTYPE_NORDIC_BLE => nordic::header(data)?,
        LINKTYPE_BLE_LL_WITH_PHDR => phdr(data)?,
        LINKTYPE_BLE_LL => (Radio::default(), data),
        _ => return Err(Skip::NotBle),
    };
    pdu::packet(packet, radio)
}

/// `LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR`: RF channel(1) signal power(1)
/// noise power(1) access address offenses(1) reference access address(4)
/// flags(2, little-endian), then the packet.
fn phdr(d: &[u8]) -> Result<(Radio, &[u8]), Skip> {
    let (&[rf, signal, _noise, _off, _, _, _, _, f0, f1], packet) =
        d.split_first_chunk::<10>().ok_or(Skip::Truncated)?;
    let flags = u16::from_le_bytes([f0, f1]);
    const SIGNAL_VALID: u16 = 0x0002;
    const CRC_CHECKED: u16 = 0x0400;
    const CRC_VALID: u16 = 0x0800;
    const PHY_MASK: u16 = 0xC000;
    if flags & CRC_CHECKED != 0 && flags & CRC_VALID == 0 {
        return Err(Skip::CrcError);
    }
    if (flags & PHY_MASK) >> 14 == 2 {
        return Err(Skip::CodedPhy);
    }
    let radio = Radio {
        channel: channel_index(rf),
        rssi: (flags & SIGNAL_VALID != 0).then_some(signal as i8),
    };
    Ok((radio, packet))
}

/// The channel index of an RF channel (0 = 2402 MHz ... 39 = 2480 MHz).
pub fn channel_index(rf: u8) -> Option<u8> {
    match rf {
        0 => Some(37),
        12 => Some(38),
        39 => Some(39),
        1..=11 => Some(rf - 1),
        13..=38 => Some(rf - 2),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
