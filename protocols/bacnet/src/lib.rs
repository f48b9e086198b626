//! BACnet/IP analyzer (ASHRAE 135: Annex J BACnet/IP over UDP 47808, clause 6
//! network layer, clause 20 APDU encoding).
//!
//! Wire format: a BVLC header — type `0x81`, function, total length (2) —
//! then, for the functions that carry one (Original-Unicast/Broadcast-NPDU,
//! Forwarded-NPDU with its 6-byte original source, Distribute-Broadcast), an
//! NPDU: version 1, control octet, optional destination (DNET, DLEN, DADR)
//! and source (SNET, SLEN, SADR) specifiers, a hop count with a destination,
//! then a network layer message type (control bit 7) or an APDU. The APDU
//! type is the high nibble of its first octet; confirmed requests carry max
//! segments/response, an invoke ID and the service choice, unconfirmed ones
//! the service choice, ACKs the invoke ID and service. Service parameters are
//! tagged (clause 20.2: tag number, class, length/value/type).
//!
//! What is kept ([`model::records::BacnetRecord`], one per datagram): the
//! BVLC function, NPDU control and network numbers, a network message type,
//! the APDU type, service and invoke ID; for Who-Is its range; for I-Am the
//! device instance, max APDU, segmentation and vendor ID (named from
//! [`vendor_name`]'s table); for ReadProperty and ReadPropertyMultiple
//! requests and ACKs the object and the property identifiers; and from ACKs
//! about a device object its vendor-name, model-name, firmware-revision,
//! application-software-version and object-name (cleaned, bounded). No other
//! property value is read.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::{BacnetIAm, BacnetRecord};
use model::{text, Direction, Transport};

/// Property identifiers listed per message.
pub const MAX_PROPERTIES: usize = 16;
/// Longest identity string kept.
const MAX_STRING: usize = 128;
/// Tags read per service parameter list (bounds the work on one datagram).
const MAX_TAGS: usize = 256;

const OBJECT_DEVICE: u16 = 8;
const PROP_APP_SW_VERSION: u32 = 12;
const PROP_FIRMWARE: u32 = 44;
const PROP_MODEL: u32 = 70;
const PROP_OBJECT_NAME: u32 = 77;
const PROP_VENDOR_NAME: u32 = 121;
const SERVICE_READ_PROPERTY: u8 = 12;
const SERVICE_READ_PROPERTY_MULTIPLE: u8 = 14;
const SERVICE_I_AM: u8 = 0;
const SERVICE_WHO_IS: u8 = 8;

/// The ASHRAE vendor identifier table (see the file's header for its source).
const VENDORS: &str = include_str!("../data/vendors.tsv");

/// The registered name of BACnet vendor `id`, when Ward's table has it.
pub fn vendor_name(id: u16) -> Option<&'static str> {
    VENDORS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .find(|(n, _)| n.parse::<u16>().ok() == Some(id))
        .map(|(_, name)| name)
}

/// The BACnet/IP protocol.
pub struct Bacnet;

impl Protocol for Bacnet {
    fn name(&self) -> &'static str {
        "bacnet"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp]
    }

    fn ports(&self) -> &'static [u16] {
        &[47808]
    }

    /// A BVLC header: type `0x81`, a known function (0x00..=0x0c) and a
    /// length equal to the datagram's; with an NPDU, its version is 1.
    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        let Some(h) = data.get(..4) else {
            return Probe::NoMatch; // one datagram: no more bytes will come
        };
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if h[0] != 0x81 || h[1] > 0x0c || len != data.len() {
            return Probe::NoMatch;
        }
        match npdu_offset(h[1]) {
            Some(off) if data.get(off) != Some(&1) => Probe::NoMatch,
            _ => Probe::Match,
        }
    }

    /// BVLC type for BACnet/IP.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[0x81])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(BacnetAnalyzer::default())
    }
}

/// Where the NPDU starts for BVLC functions that carry one.
fn npdu_offset(function: u8) -> Option<usize> {
    match function {
        0x09..=0x0b => Some(4), // Distribute-Broadcast, Original-Unicast, Original-Broadcast
        0x04 => Some(10),
        _ => None,
    }
}

#[derive(Default)]
struct BacnetAnalyzer {
    malformed_reported: bool,
}

/// A checked cursor over bytes.
struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.data.get(..n)?;
        self.data = &self.data[n..];
        Some(b)
    }

    /// Reads one tag header (clause 20.2.1).
    fn tag(&mut self) -> Option<Tag<'a>> {
        let first = self.u8()?;
        let mut number = first >> 4;
        let context = first & 0x08 != 0;
        let lvt = first & 0x07;
        if number == 15 {
            number = self.u8()?;
        }
        if context && lvt == 6 {
            return Some(Tag::Open(number));
        }
        if context && lvt == 7 {
            return Some(Tag::Close(number));
        }
        if !context && number == 1 {
            // Application Boolean: the value is the length field.
            return Some(Tag::App(1, &[]));
        }
        let len = match lvt {
            5 => match self.u8()? {
                254 => usize::from(self.u16()?),
                255 => {
                    let b = self.take(4)?;
                    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
                }
                n => usize::from(n),
            },
            n => usize::from(n),
        };
        let content = self.take(len)?;
        Some(if context {
            Tag::Ctx(number, content)
        } else {
            Tag::App(number, content)
        })
    }
}

/// One tagged item.
#[derive(Debug, Clone, Copy)]
enum Tag<'a> {
    App(u8, &'a [u8]),
    Ctx(u8, &'a [u8]),
    Open(u8),
    Close(u8),
}

/// An unsigned integer of 1..=4 bytes.
fn unsigned(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 4 {
        return None;
    }
    Some(b.iter().fold(0u32, |v, &x| (v << 8) | u32::from(x)))
}

/// An object identifier: (type, instance).
fn object_id(b: &[u8]) -> Option<(u16, u32)> {
    let v = u32::from_be_bytes(b.try_into().ok()?);
    Some(((v >> 22) as u16, v & 0x3f_ffff))
}

/// A CharacterString's content (charset octet, then the bytes), decoded.
fn char_string(b: &[u8]) -> Option<String> {
    let (&charset, raw) = b.split_first()?;
    let s = match charset {
        // ANSI X3.4 / UTF-8, and ISO 8859-1 (only its ASCII part survives cleaning).
        0 | 5 => text::bounded(raw, MAX_STRING),
        // UCS-2, big-endian.
        4 => {
            let units = raw
                .chunks_exact(2)
                .take(MAX_STRING)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            let decoded: String = char::decode_utf16(units)
                .map(|c| c.unwrap_or('\u{fffd}'))
                .collect();
            text::bounded(decoded.as_bytes(), MAX_STRING)
        }
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// Stores the value of property `prop` of a device object, when it is one
/// of the identity properties and a character string.
fn device_property(rec: &mut BacnetRecord, prop: u32, value: Tag<'_>) {
    let Tag::App(7, content) = value else { return };
    if !matches!(
        prop,
        PROP_VENDOR_NAME | PROP_MODEL | PROP_FIRMWARE | PROP_APP_SW_VERSION | PROP_OBJECT_NAME
    ) {
        return;
    }
    let Some(s) = char_string(content) else {
        return;
    };
    let d = rec.device.get_or_insert_with(Default::default);
    let slot = match prop {
        PROP_VENDOR_NAME => &mut d.vendor_name,
        PROP_MODEL => &mut d.model_name,
        PROP_FIRMWARE => &mut d.firmware_revision,
        PROP_APP_SW_VERSION => &mut d.application_software_version,
        _ => &mut d.object_name,
    };
    *slot = Some(s);
}

fn push_property(rec: &mut BacnetRecord, prop: u32) {
    if rec.properties.len() < MAX_PROPERTIES {
        rec.properties.push(prop);
    }
}

/// ReadProperty request (ack = false) or ACK.
fn read_property(rec: &mut BacnetRecord, c: &mut Cursor<'_>, ack: bool) -> Option<()> {
    let Tag::Ctx(0, oid) = c.tag()? else {
        return None;
    };
    let oid = object_id(oid)?;
    rec.object = Some(oid);
    let Tag::Ctx(1, p) = c.tag()? else {
        return None;
    };
    let prop = unsigned(p)?;
    push_property(rec, prop);
    if !ack {
        return Some(());
    }
    let mut t = c.tag()?;
    if let Tag::Ctx(2, _) = t {
        t = c.tag()?; // array index: an element, not the property itself
        if oid.0 == OBJECT_DEVICE {
            return Some(());
        }
    }
    let Tag::Open(3) = t else { return None };
    let value = c.tag()?;
    if oid.0 == OBJECT_DEVICE {
        device_property(rec, prop, value);
    }
    Some(())
}

/// ReadPropertyMultiple request or ACK: every (object, property) listed;
/// values of the device object's identity properties from the ACK.
///
/// Request: `{ [0] object, [1]( { [0] property, [1] index? }* ) }*`;
/// ACK: `{ [0] object, [1]( { [2] property, [3] index?, [4](value) | [5](error) }* ) }*`.
fn read_property_multiple(rec: &mut BacnetRecord, c: &mut Cursor<'_>, ack: bool) -> Option<()> {
    let mut oid: Option<(u16, u32)> = None;
    let mut in_list = false;
    // Inside a value ([4]) or an error ([5]): nesting depth, and whether the
    // value is the one to keep (a device identity property, not an element).
    let mut depth = 0usize;
    let mut keep = false;
    let mut prop: Option<u32> = None;
    let mut indexed = false;
    for _ in 0..MAX_TAGS {
        if c.data.is_empty() {
            return Some(());
        }
        let t = c.tag()?;
        if depth > 0 {
            match t {
                Tag::Open(_) => depth += 1,
                Tag::Close(_) => depth -= 1,
                v if depth == 1 && keep => {
                    if let Some(p) = prop {
                        device_property(rec, p, v);
                    }
                    keep = false;
                }
                _ => {}
            }
            continue;
        }
        match (in_list, t) {
            (false, Tag::Ctx(0, b)) => {
                oid = Some(object_id(b)?);
                if rec.object.is_none() {
                    rec.object = oid;
                }
            }
            (false, Tag::Open(1)) => in_list = true,
            (true, Tag::Close(1)) => in_list = false,
            (true, Tag::Ctx(0, b)) if !ack => push_property(rec, unsigned(b)?),
            (true, Tag::Ctx(2, b)) if ack => {
                let p = unsigned(b)?;
                push_property(rec, p);
                prop = Some(p);
                indexed = false;
            }
            (true, Tag::Ctx(3, _)) if ack => indexed = true,
            (true, Tag::Open(n @ (4 | 5))) if ack => {
                depth = 1;
                keep = n == 4 && !indexed && matches!(oid, Some((OBJECT_DEVICE, _)));
            }
            (_, Tag::Ctx(1, _)) => {} // array index of a requested property
            _ => return None,
        }
    }
    Some(())
}

/// Parses one datagram; `None` when it ends early or is malformed (what was
/// read is kept in `rec`).
fn parse(rec: &mut BacnetRecord, data: &[u8]) -> Option<()> {
    let off = npdu_offset(rec.bvlc_function)?;
    let mut c = Cursor {
        data: data.get(off..)?,
    };
    if c.u8()? != 1 {
        return None;
    }
    let control = c.u8()?;
    rec.npdu_control = Some(control);
    if control & 0x20 != 0 {
        rec.dnet = Some(c.u16()?);
        let dlen = c.u8()?;
        c.take(usize::from(dlen))?;
    }
    if control & 0x08 != 0 {
        rec.snet = Some(c.u16()?);
        let slen = c.u8()?;
        c.take(usize::from(slen))?;
    }
    if control & 0x20 != 0 {
        c.u8()?; // hop count
    }
    if control & 0x80 != 0 {
        rec.network_message = Some(c.u8()?);
        return Some(());
    }
    let first = c.u8()?;
    let kind = first >> 4;
    rec.apdu_type = Some(kind);
    match kind {
        0 => {
            rec.segmented = first & 0x08 != 0;
            c.u8()?; // max segments, max APDU accepted
            rec.invoke_id = Some(c.u8()?);
            if rec.segmented {
                c.take(2)?;
            }
            let service = c.u8()?;
            rec.service = Some(service);
            if rec.segmented {
                return Some(());
            }
            match service {
                SERVICE_READ_PROPERTY => read_property(rec, &mut c, false)?,
                SERVICE_READ_PROPERTY_MULTIPLE => read_property_multiple(rec, &mut c, false)?,
                _ => {}
            }
        }
        1 => {
            let service = c.u8()?;
            rec.service = Some(service);
            match service {
                SERVICE_I_AM => {
                    let (Tag::App(12, oid), Tag::App(2, max), Tag::App(9, seg), Tag::App(2, v)) =
                        (c.tag()?, c.tag()?, c.tag()?, c.tag()?)
                    else {
                        return None;
                    };
                    let (_, instance) = object_id(oid)?;
                    let vendor_id = u16::try_from(unsigned(v)?).ok()?;
                    rec.i_am = Some(BacnetIAm {
                        device_instance: instance,
                        max_apdu: unsigned(max)?,
                        segmentation: u8::try_from(unsigned(seg)?).ok()?,
                        vendor_id,
                        vendor: vendor_name(vendor_id).map(str::to_string),
                    });
                }
                SERVICE_WHO_IS if !c.data.is_empty() => {
                    let (Tag::Ctx(0, lo), Tag::Ctx(1, hi)) = (c.tag()?, c.tag()?) else {
                        return None;
                    };
                    rec.who_is_range = Some((unsigned(lo)?, unsigned(hi)?));
                }
                _ => {}
            }
        }
        2 => {
            rec.invoke_id = Some(c.u8()?);
            rec.service = Some(c.u8()?);
        }
        3 => {
            rec.segmented = first & 0x08 != 0;
            rec.invoke_id = Some(c.u8()?);
            if rec.segmented {
                c.take(2)?;
            }
            let service = c.u8()?;
            rec.service = Some(service);
            if rec.segmented {
                return Some(());
            }
            match service {
                SERVICE_READ_PROPERTY => read_property(rec, &mut c, true)?,
                SERVICE_READ_PROPERTY_MULTIPLE => read_property_multiple(rec, &mut c, true)?,
                _ => {}
            }
        }
        5 => {
            rec.invoke_id = Some(c.u8()?);
            rec.service = Some(c.u8()?);
        }
        4 | 6 | 7 => {
            rec.invoke_id = Some(c.u8()?);
        }
        _ => return None,
    }
    Some(())
}

impl Analyzer for BacnetAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let valid = data.len() >= 4
            && data[0] == 0x81
            && usize::from(u16::from_be_bytes([data[2], data[3]])) == data.len();
        if !valid {
            if !self.malformed_reported {
                self.malformed_reported = true;
                out.weird("bacnet_bad_bvlc");
            }
            return Progress::Consumed(data.len());
        }
        let mut rec = BacnetRecord {
            direction: dir,
            bvlc_function: data[1],
            npdu_control: None,
            dnet: None,
            snet: None,
            network_message: None,
            apdu_type: None,
            service: None,
            invoke_id: None,
            segmented: false,
            who_is_range: None,
            i_am: None,
            object: None,
            properties: Vec::new(),
            device: None,
        };
        if npdu_offset(rec.bvlc_function).is_some()
            && parse(&mut rec, data).is_none()
            && !self.malformed_reported
        {
            self.malformed_reported = true;
            out.weird("bacnet_malformed_npdu");
        }
        out.emit(rec);
        Progress::Consumed(data.len())
    }
}

#[cfg(test)]
mod tests;
