//! The nRF Sniffer for Bluetooth LE capture header (`LINKTYPE_NORDIC_BLE`).
//!
//! ```text
//! board id (1)
//! header, 6 bytes; the protocol version is always the third byte:
//!   v1:     header length(1) payload length(1) version(1) counter(2) packet id(1)
//!   v2, v3: payload length(2, LE)              version(1) counter(2) packet id(1)
//! packet header, its length first (10 in every version seen):
//!   length(1) flags(1) channel(1) RSSI(1, negated) event counter(2) time(4)
//! the link-layer packet
//! ```
//! Packet ids: 0x06 `EVENT_PACKET` (v1, v2: every radio packet; v3: data
//! channel), 0x02 `EVENT_PACKET_ADV_PDU` (v3: advertising channel). Flags:
//! bit 0 CRC good, bits 4-6 PHY (0 1M, 1 2M, 2 Coded). The legacy header of
//! sniffer 0.9.7 (starting 0xBEEF) is not decoded.

use crate::{Radio, Skip};

/// Event packet (every version).
const EVENT_PACKET: u8 = 0x06;
/// Advertising-channel packet (version 3).
const EVENT_PACKET_ADV_PDU: u8 = 0x02;
/// Smallest packet header (length, flags, channel, RSSI, event counter, time).
const MIN_PACKET_HEADER: usize = 10;

/// Splits a frame into what the headers say and the link-layer packet.
pub fn header(d: &[u8]) -> Result<(Radio, &[u8]), Skip> {
    if d.starts_with(&[0xBE, 0xEF]) {
        return Err(Skip::UnknownHeader);
    }
    let (&[_board, _, _, version, _, _, id], rest) =
        d.split_first_chunk::<7>().ok_or(Skip::Truncated)?;
    if !(1..=3).contains(&version) {
        return Err(Skip::UnknownHeader);
    }
    if id != EVENT_PACKET && !(version >= 3 && id == EVENT_PACKET_ADV_PDU) {
        return Err(Skip::UnknownHeader);
    }
    let (&[hlen, flags, channel, rssi], _) =
        rest.split_first_chunk::<4>().ok_or(Skip::Truncated)?;
    let hlen = usize::from(hlen);
    if hlen < MIN_PACKET_HEADER {
        return Err(Skip::UnknownHeader);
    }
    let packet = rest.get(hlen..).ok_or(Skip::Truncated)?;
    if flags & 1 == 0 {
        return Err(Skip::CrcError);
    }
    if (flags >> 4) & 7 == 2 {
        return Err(Skip::CodedPhy);
    }
    let radio = Radio {
        channel: (channel <= 39).then_some(channel),
        rssi: Some(i8::try_from(-i16::from(rssi)).unwrap_or(i8::MIN)),
    };
    Ok((radio, packet))
}
