//! Advertising data: a sequence of AD structures, each `length(1) type(1)
//! data(length - 1)`; a zero length ends the sequence (padding).
//!
//! Kept: flags (0x01), service UUID lists (0x02-0x07), shortened and
//! complete local name (0x08, 0x09), TX power level (0x0a), service data
//! UUIDs (0x16, 0x20, 0x21), appearance (0x19), manufacturer-specific
//! data's company identifier (0xff). Payload bytes of service and
//! manufacturer data are never kept.

use model::records::{BleRecord, BleUuid};
use model::text;

/// Most service UUIDs kept per record.
pub const MAX_SERVICES: usize = 32;
/// Most service data UUIDs kept per record.
pub const MAX_SERVICE_DATA: usize = 16;
/// Most company identifiers kept per record.
pub const MAX_COMPANIES: usize = 8;
/// Longest local name kept, in bytes (the GAP device name's maximum).
pub const MAX_NAME: usize = 248;

fn push_capped<T: PartialEq>(list: &mut Vec<T>, v: T, cap: usize) {
    if list.len() < cap && !list.contains(&v) {
        list.push(v);
    }
}

fn le16(b: &[u8]) -> Option<u16> {
    Some(u16::from_le_bytes(*b.first_chunk::<2>()?))
}

fn uuid(b: &[u8], width: usize) -> Option<BleUuid> {
    match width {
        2 => le16(b).map(BleUuid::U16),
        4 => Some(BleUuid::U32(u32::from_le_bytes(*b.first_chunk::<4>()?))),
        _ => Some(BleUuid::from_le128(*b.first_chunk::<16>()?)),
    }
}

/// Reads the AD structures of `data` into `r`. Returns false when a
/// structure ran past the end (what it and those before hold is kept).
pub fn structures(mut data: &[u8], r: &mut BleRecord) -> bool {
    while let Some((&len, rest)) = data.split_first() {
        if len == 0 {
            return true;
        }
        // A structure cut short (snap length, bad length) is read as far as
        // it goes, like Wireshark does, and ends the sequence.
        let (s, complete) = match rest.get(..usize::from(len)) {
            Some(s) => (s, true),
            None => (rest, false),
        };
        data = rest.get(usize::from(len)..).unwrap_or_default();
        let Some((&ty, v)) = s.split_first() else {
            continue;
        };
        match ty {
            0x01 => r.flags = v.first().copied().or(r.flags),
            0x02..=0x07 => {
                let width = match ty {
                    0x02 | 0x03 => 2,
                    0x04 | 0x05 => 4,
                    _ => 16,
                };
                for c in v.chunks_exact(width) {
                    if let Some(u) = uuid(c, width) {
                        push_capped(&mut r.services, u, MAX_SERVICES);
                    }
                }
            }
            0x08 | 0x09 => {
                let complete = ty == 0x09;
                if complete || !r.name_complete {
                    let n = text::bounded(v, MAX_NAME);
                    if !n.is_empty() {
                        r.name = Some(n);
                        r.name_complete = complete;
                    }
                }
            }
            0x0a => r.tx_power = v.first().map(|&p| p as i8),
            0x16 | 0x20 | 0x21 => {
                let width = match ty {
                    0x16 => 2,
                    0x20 => 4,
                    _ => 16,
                };
                if let Some(u) = uuid(v, width) {
                    push_capped(&mut r.service_data, u, MAX_SERVICE_DATA);
                }
            }
            0x19 => r.appearance = le16(v).or(r.appearance),
            0xff => {
                if let Some(c) = le16(v) {
                    push_capped(&mut r.companies, c, MAX_COMPANIES);
                }
            }
            _ => {}
        }
        if !complete {
            return false;
        }
    }
    true
}
