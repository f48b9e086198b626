//! Identity from device description documents: DPWS metadata (the answer
//! to a WS-Transfer Get or WS-MetadataExchange GetMetadata: `ThisModel`,
//! `ThisDevice`, and the `Relationship` naming the host and its hosted
//! services) and UPnP device descriptions (`<root><device>`, UPnP Device
//! Architecture 1.1 section 2.3).
//!
//! [`extract`] returns only the identity fields listed in [`FIELDS`]; any
//! other content of the document (an SDC provider's MDIB, patient context,
//! measurements) is skipped by the scanner and never copied.

use crate::xml::{self, Namespaces, Scanner, Token};
use model::records::{DescriptionKind, DescriptionRecord};
use model::text;

/// Longest value kept.
pub const MAX_VALUE: usize = 256;
/// Service types kept per document.
pub const MAX_SERVICES: usize = 16;

/// Where a value goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Manufacturer,
    ModelName,
    ModelNumber,
    ModelDescription,
    ModelUrl,
    PresentationUrl,
    FriendlyName,
    Firmware,
    Serial,
    DeviceType,
    Udn,
    HostedTypes,
    ServiceType,
}

/// `(parent element, element, slot)` by local names: DPWS 1.1 sections
/// 5.1 and 5.2 first, then UPnP's `device` element.
const FIELDS: &[(&[u8], &[u8], Slot)] = &[
    (b"ThisModel", b"Manufacturer", Slot::Manufacturer),
    (b"ThisModel", b"ModelName", Slot::ModelName),
    (b"ThisModel", b"ModelNumber", Slot::ModelNumber),
    (b"ThisModel", b"ModelUrl", Slot::ModelUrl),
    (b"ThisModel", b"PresentationUrl", Slot::PresentationUrl),
    (b"ThisDevice", b"FriendlyName", Slot::FriendlyName),
    (b"ThisDevice", b"FirmwareVersion", Slot::Firmware),
    (b"ThisDevice", b"SerialNumber", Slot::Serial),
    (b"Hosted", b"Types", Slot::HostedTypes),
    (b"device", b"deviceType", Slot::DeviceType),
    (b"device", b"friendlyName", Slot::FriendlyName),
    (b"device", b"manufacturer", Slot::Manufacturer),
    (b"device", b"modelName", Slot::ModelName),
    (b"device", b"modelNumber", Slot::ModelNumber),
    (b"device", b"modelDescription", Slot::ModelDescription),
    (b"device", b"modelURL", Slot::ModelUrl),
    (b"device", b"presentationURL", Slot::PresentationUrl),
    (b"device", b"serialNumber", Slot::Serial),
    (b"device", b"UDN", Slot::Udn),
    (b"service", b"serviceType", Slot::ServiceType),
];

/// The identity fields of a DPWS metadata or UPnP description document;
/// None if it is neither or names nothing.
pub fn extract(doc: &[u8]) -> Option<DescriptionRecord> {
    let mut rec = DescriptionRecord::default();
    let mut ns = Namespaces::default();
    let mut stack: Vec<&[u8]> = Vec::new();
    let mut slot: Option<Slot> = None;
    let (mut dpws, mut upnp) = (false, false);
    // Inside dpws:Host: its EndpointReference address is the device's.
    let mut in_host = false;
    for tok in Scanner::new(doc) {
        match tok {
            Token::Start { name, attrs, empty } => {
                ns.declare(attrs);
                let l = xml::local(name);
                let parent = stack.last().copied().unwrap_or_default();
                dpws |= matches!(l, b"ThisModel" | b"ThisDevice");
                upnp |= l == b"device" && parent == b"root";
                slot = FIELDS
                    .iter()
                    .find(|(p, n, _)| *p == parent && *n == l)
                    .map(|f| f.2);
                if in_host && l == b"Address" {
                    slot = Some(Slot::Udn);
                }
                if !empty {
                    in_host |= l == b"Host";
                    stack.push(l);
                }
            }
            Token::End(name) => {
                if xml::local(name) == b"Host" {
                    in_host = false;
                }
                stack.pop();
                slot = None;
            }
            Token::Text(raw) => {
                if let Some(s) = slot.take() {
                    store(s, raw, &ns, &mut rec);
                }
            }
        }
    }
    rec.kind = match (dpws, upnp) {
        (true, _) => DescriptionKind::Dpws,
        (false, true) => DescriptionKind::Upnp,
        (false, false) => return None,
    };
    let named = [
        &rec.manufacturer,
        &rec.model_name,
        &rec.model_number,
        &rec.friendly_name,
        &rec.firmware_version,
        &rec.serial_number,
        &rec.device_type,
    ]
    .iter()
    .any(|v| v.is_some());
    named.then_some(rec)
}

fn store<'a>(s: Slot, raw: &'a [u8], ns: &Namespaces<'a>, rec: &mut DescriptionRecord) {
    let first = |dst: &mut Option<String>| {
        if dst.is_none() {
            *dst = xml::text(raw, MAX_VALUE);
        }
    };
    let url = |dst: &mut Option<String>| {
        if dst.is_none() {
            *dst = xml::text(raw, MAX_VALUE).map(|u| text::redact_query(&u).into_owned());
        }
    };
    match s {
        Slot::Manufacturer => first(&mut rec.manufacturer),
        Slot::ModelName => first(&mut rec.model_name),
        Slot::ModelNumber => first(&mut rec.model_number),
        Slot::ModelDescription => first(&mut rec.model_description),
        Slot::ModelUrl => url(&mut rec.model_url),
        Slot::PresentationUrl => url(&mut rec.presentation_url),
        Slot::FriendlyName => first(&mut rec.friendly_name),
        Slot::Firmware => first(&mut rec.firmware_version),
        Slot::Serial => first(&mut rec.serial_number),
        Slot::DeviceType => first(&mut rec.device_type),
        Slot::Udn => first(&mut rec.udn),
        Slot::HostedTypes => {
            for w in raw
                .trim_ascii()
                .split(|b| b.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
            {
                if rec.service_types.len() >= MAX_SERVICES {
                    break;
                }
                let (n, l) = ns.resolve(w);
                let mut v = Vec::with_capacity(n.len() + l.len() + 1);
                v.extend_from_slice(n);
                v.push(b'#');
                v.extend_from_slice(l);
                if let Some(t) = xml::text(&v, MAX_VALUE) {
                    if !rec.service_types.contains(&t) {
                        rec.service_types.push(t);
                    }
                }
            }
        }
        Slot::ServiceType => {
            if rec.service_types.len() < MAX_SERVICES {
                if let Some(t) = xml::text(raw, MAX_VALUE) {
                    if !rec.service_types.contains(&t) {
                        rec.service_types.push(t);
                    }
                }
            }
        }
    }
}
