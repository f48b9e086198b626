//! Modbus/TCP analyzer (Modbus Application Protocol Specification V1.1b3 and
//! Modbus Messaging on TCP/IP Implementation Guide V1.0b; TCP port 502).
//!
//! Wire format: every application data unit (ADU) starts with the 7-byte MBAP
//! header — transaction identifier (2 bytes), protocol identifier (2, always
//! 0), length (2: the bytes that follow, unit identifier included, at most
//! 254) and unit identifier (1) — followed by the PDU: a function code (1..127;
//! a response with the high bit set is an exception response whose one data
//! byte is the exception code) and its data. Function 43 with MEI type 14
//! (Read Device Identification, section 6.21) answers with the read device ID
//! code, conformity level, more-follows flag, next object id, number of
//! objects, then objects as (id, length, value): 0 VendorName, 1 ProductCode,
//! 2 MajorMinorRevision, 3 VendorUrl, 4 ProductName, 5 ModelName,
//! 6 UserApplicationName.
//!
//! What is kept ([`model::records::ModbusRecord`], one per connection, emitted
//! when the flow ends): request and response counts, responses matching no
//! outstanding transaction, the unit identifiers addressed, per function code
//! counts, exception responses by function and code, and the device
//! identification strings (cleaned, bounded). Register, coil and file values
//! are never read: only the function code byte of other PDUs is looked at.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::{ModbusDeviceId, ModbusException, ModbusFunctionCount, ModbusRecord};
use model::{text, Direction, Transport};

/// Largest MBAP length (unit identifier and a PDU of at most 253 bytes).
pub const MAX_LENGTH: usize = 254;
/// Distinct unit identifiers listed per connection.
pub const MAX_UNITS: usize = 16;
/// Distinct function codes counted per connection.
pub const MAX_FUNCTIONS: usize = 32;
/// Distinct (function, exception code) pairs counted per connection.
pub const MAX_EXCEPTIONS: usize = 16;
/// Outstanding requests remembered for matching responses.
const MAX_PENDING: usize = 64;
/// Longest device identification string kept.
const MAX_OBJECT: usize = 128;

const MBAP: usize = 7;
/// Encapsulated Interface Transport (MEI) function code.
const FC_MEI: u8 = 43;
/// MEI type: Read Device Identification.
const MEI_DEVICE_ID: u8 = 14;

/// The Modbus/TCP protocol.
pub struct Modbus;

impl Protocol for Modbus {
    fn name(&self) -> &'static str {
        "modbus"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[502]
    }

    /// An MBAP header with protocol identifier 0, a length of 2..=254 and a
    /// function code 1..=127 (a request; a response when the capture starts
    /// mid-connection, where an exception code has the high bit set). The
    /// header says little on its own, so only flows to port 502 are taken.
    fn probe(&self, dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        if !port_hint {
            return Probe::NoMatch;
        }
        if data.len() < MBAP + 1 {
            // Check what is there already.
            if data.len() >= 4 && (data[2], data[3]) != (0, 0) {
                return Probe::NoMatch;
            }
            return Probe::NeedMore;
        }
        let len = usize::from(u16::from_be_bytes([data[4], data[5]]));
        let fc = data[7];
        let fc_ok = match dir {
            Direction::ToServer => (1..0x80).contains(&fc),
            Direction::ToClient => fc != 0,
        };
        if (data[2], data[3]) == (0, 0) && (2..=MAX_LENGTH).contains(&len) && fc_ok {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }

    /// Only on its ports.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::NONE
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(ModbusAnalyzer::default())
    }
}

#[derive(Default)]
struct ModbusAnalyzer {
    rec: ModbusRecord,
    /// Outstanding requests: transaction identifier (bounded, oldest dropped).
    pending: Vec<u16>,
    seen: bool,
    malformed_reported: bool,
}

/// Counts `fc` in `list` (bounded).
fn count_function(list: &mut Vec<ModbusFunctionCount>, fc: u8, request: bool) {
    let i = match list.iter().position(|f| f.code == fc) {
        Some(i) => i,
        None if list.len() < MAX_FUNCTIONS => {
            list.push(ModbusFunctionCount {
                code: fc,
                requests: 0,
                responses: 0,
            });
            list.len() - 1
        }
        None => return,
    };
    let f = &mut list[i];
    if request {
        f.requests = f.requests.saturating_add(1);
    } else {
        f.responses = f.responses.saturating_add(1);
    }
}

/// Reads a Read Device Identification response PDU (after function code and
/// MEI type) into `id`; `None` when it ends early.
fn read_device_id(id: &mut ModbusDeviceId, data: &[u8]) -> Option<()> {
    let (&_code, rest) = data.split_first()?;
    let (&conformity, rest) = rest.split_first()?;
    id.conformity_level = Some(conformity);
    // more follows, next object id, number of objects
    let hdr = rest.get(..3)?;
    let mut rest = &rest[3..];
    for _ in 0..hdr[2] {
        let (&oid, r) = rest.split_first()?;
        let (&len, r) = r.split_first()?;
        let value = r.get(..usize::from(len))?;
        rest = &r[usize::from(len)..];
        let slot = match oid {
            0 => &mut id.vendor_name,
            1 => &mut id.product_code,
            2 => &mut id.revision,
            3 => &mut id.vendor_url,
            4 => &mut id.product_name,
            5 => &mut id.model_name,
            6 => &mut id.user_application_name,
            _ => continue, // extended or private objects: not kept
        };
        let s = text::bounded(value, MAX_OBJECT);
        if !s.is_empty() {
            *slot = Some(s);
        }
    }
    Some(())
}

impl ModbusAnalyzer {
    fn malformed(&mut self, out: &mut Out<'_>) {
        if !self.malformed_reported {
            self.malformed_reported = true;
            out.weird("modbus_malformed_adu");
        }
    }

    fn flush(&mut self, out: &mut Out<'_>) {
        if std::mem::take(&mut self.seen) {
            out.emit(std::mem::take(&mut self.rec));
        }
    }

    /// Handles one ADU: its transaction and unit identifiers and its PDU.
    fn adu(&mut self, dir: Direction, tid: u16, unit: u8, pdu: &[u8], out: &mut Out<'_>) {
        self.seen = true;
        let r = &mut self.rec;
        if !r.unit_ids.contains(&unit) && r.unit_ids.len() < MAX_UNITS {
            r.unit_ids.push(unit);
        }
        let Some((&fc, data)) = pdu.split_first() else {
            return;
        };
        if dir == Direction::ToServer {
            r.requests = r.requests.saturating_add(1);
            if fc == 0 || fc >= 0x80 {
                self.malformed(out);
                return;
            }
            count_function(&mut r.functions, fc, true);
            if self.pending.len() >= MAX_PENDING {
                self.pending.remove(0);
            }
            self.pending.push(tid);
            return;
        }
        r.responses = r.responses.saturating_add(1);
        match self.pending.iter().position(|&t| t == tid) {
            Some(i) => {
                self.pending.remove(i);
            }
            None => r.unmatched_responses = r.unmatched_responses.saturating_add(1),
        }
        if fc == 0 {
            self.malformed(out);
            return;
        }
        // (0x80, function 0, is what some servers send for a code they do
        // not know: counted as an exception of function 0.)
        if fc & 0x80 != 0 {
            let function = fc & 0x7f;
            let Some(&code) = data.first() else {
                self.malformed(out);
                return;
            };
            let known = r
                .exceptions
                .iter()
                .position(|e| e.function == function && e.code == code);
            match known {
                Some(i) => r.exceptions[i].count = r.exceptions[i].count.saturating_add(1),
                None if r.exceptions.len() < MAX_EXCEPTIONS => r.exceptions.push(ModbusException {
                    function,
                    code,
                    count: 1,
                }),
                None => {}
            }
            return;
        }
        count_function(&mut r.functions, fc, false);
        if fc == FC_MEI && data.first() == Some(&MEI_DEVICE_ID) {
            let id = r.device_id.get_or_insert_with(Default::default);
            if read_device_id(id, &data[1..]).is_none() {
                self.malformed(out);
            }
        }
    }
}

impl Analyzer for ModbusAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let mut pos = 0;
        while let Some(h) = data.get(pos..pos + MBAP) {
            let tid = u16::from_be_bytes([h[0], h[1]]);
            let proto = u16::from_be_bytes([h[2], h[3]]);
            let len = usize::from(u16::from_be_bytes([h[4], h[5]]));
            if proto != 0 || !(2..=MAX_LENGTH).contains(&len) {
                // Frame boundaries are lost or this is not Modbus.
                self.malformed(out);
                self.flush(out);
                return Progress::Done;
            }
            let Some(pdu) = data.get(pos + MBAP..pos + 6 + len) else {
                break; // wait for the rest of the ADU (at most 260 bytes)
            };
            self.adu(dir, tid, h[6], pdu, out);
            pos += 6 + len;
        }
        Progress::Consumed(pos)
    }

    fn gap(&mut self, _dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        out.weird("content_gap");
        self.flush(out);
        Progress::Done
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.flush(out);
    }
}

#[cfg(test)]
mod tests;
