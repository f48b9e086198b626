//! The link-layer packet: access address(4), PDU header(2), payload, CRC(3).
//!
//! Advertising PDU header: PDU type (bits 0-3), ChSel (5), TxAdd (6),
//! RxAdd (7), then the payload length. Payloads (addresses little-endian
//! on air):
//! - ADV_IND, ADV_NONCONN_IND, ADV_SCAN_IND, SCAN_RSP: AdvA(6) AdvData;
//! - ADV_DIRECT_IND: AdvA(6) TargetA(6);
//! - SCAN_REQ: ScanA(6) AdvA(6); CONNECT_IND: InitA(6) AdvA(6) LLData(22);
//! - ADV_EXT_IND / AUX_* (type 7) and AUX_CONNECT_RSP (8): the common
//!   extended advertising payload, an extended header (length and mode, a
//!   flags byte, then AdvA, TargetA, CTEInfo, ADI, AuxPtr, SyncInfo, TxPower
//!   as flagged) and AdvData.

use crate::{ad, Radio, Skip, ADVERTISING_AA};
use model::records::{BleAddrKind, BleAddress, BlePdu, BleRecord};
use model::MacAddr;

/// Reads the 6-byte little-endian address at the start of `b`.
fn address(b: &[u8], random: bool) -> Option<BleAddress> {
    let a: [u8; 6] = b.get(..6)?.try_into().ok()?;
    let addr = MacAddr([a[5], a[4], a[3], a[2], a[1], a[0]]);
    Some(BleAddress {
        addr,
        kind: BleAddrKind::of(addr, random),
    })
}

/// Decodes one link-layer packet (CRC already judged by the capture header).
pub fn packet(p: &[u8], radio: Radio) -> Result<BleRecord, Skip> {
    let (&aa, rest) = p.split_first_chunk::<4>().ok_or(Skip::Truncated)?;
    let mk = |pdu| {
        let mut r = BleRecord::new(pdu);
        r.channel = radio.channel;
        r.rssi = radio.rssi;
        r
    };
    if u32::from_le_bytes(aa) != ADVERTISING_AA {
        return Ok(mk(BlePdu::Data));
    }
    let (&[h0, len], rest) = rest.split_first_chunk::<2>().ok_or(Skip::Truncated)?;
    // A capture cut short by the sniffer's snap length keeps what it has.
    let payload = rest.get(..usize::from(len)).unwrap_or(rest);
    let (tx_random, rx_random) = (h0 & 0x40 != 0, h0 & 0x80 != 0);
    let pdu = match h0 & 0x0f {
        0 => BlePdu::AdvInd,
        1 => BlePdu::AdvDirectInd,
        2 => BlePdu::AdvNonconnInd,
        3 => BlePdu::ScanReq,
        4 => BlePdu::ScanRsp,
        5 => BlePdu::ConnectInd,
        6 => BlePdu::AdvScanInd,
        7 if radio.channel.is_some_and(|c| c < 37) => BlePdu::AuxAdvInd,
        7 => BlePdu::AdvExtInd,
        8 => BlePdu::AuxConnectRsp,
        _ => return Err(Skip::ReservedPduType),
    };
    let mut r = mk(pdu);
    match pdu {
        BlePdu::AdvInd | BlePdu::AdvNonconnInd | BlePdu::AdvScanInd | BlePdu::ScanRsp => {
            r.advertiser = Some(address(payload, tx_random).ok_or(Skip::Truncated)?);
            ad::structures(payload.get(6..).unwrap_or_default(), &mut r);
        }
        BlePdu::AdvDirectInd => {
            r.advertiser = Some(address(payload, tx_random).ok_or(Skip::Truncated)?);
            r.peer = Some(
                address(payload.get(6..).unwrap_or_default(), rx_random).ok_or(Skip::Truncated)?,
            );
        }
        BlePdu::ScanReq | BlePdu::ConnectInd => {
            r.peer = Some(address(payload, tx_random).ok_or(Skip::Truncated)?);
            r.advertiser = Some(
                address(payload.get(6..).unwrap_or_default(), rx_random).ok_or(Skip::Truncated)?,
            );
        }
        BlePdu::AdvExtInd | BlePdu::AuxAdvInd | BlePdu::AuxConnectRsp => {
            extended(payload, tx_random, rx_random, &mut r)?;
        }
        BlePdu::Data => {}
    }
    Ok(r)
}

/// The common extended advertising payload format.
fn extended(p: &[u8], tx_random: bool, rx_random: bool, r: &mut BleRecord) -> Result<(), Skip> {
    let Some((&b0, rest)) = p.split_first() else {
        return Ok(());
    };
    let hlen = usize::from(b0 & 0x3f);
    let hdr = rest.get(..hlen).ok_or(Skip::Truncated)?;
    let data = rest.get(hlen..).unwrap_or_default();
    if let Some((&flags, mut f)) = hdr.split_first() {
        if flags & 0x01 != 0 {
            r.advertiser = Some(address(f, tx_random).ok_or(Skip::Truncated)?);
            f = f.get(6..).unwrap_or_default();
        }
        if flags & 0x02 != 0 {
            r.peer = Some(address(f, rx_random).ok_or(Skip::Truncated)?);
        }
    }
    ad::structures(data, r);
    Ok(())
}
