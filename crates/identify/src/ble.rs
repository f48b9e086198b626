//! Bluetooth LE advertisers as devices: facts from advertising records,
//! category reasons from GATT services, appearance and name keywords, and
//! the vendor from Bluetooth SIG company identifiers.
//!
//! **Keying.** An advertiser is the endpoint of its 48-bit address
//! (`EndpointKey { mac, ip: None }`), marked by a `ble-advertiser` role and
//! its address kind (`ble-address-public`, `-random_static`, ...). A public
//! address is an IEEE EUI-48, unique like any MAC, so it cannot be another
//! interface's Wi-Fi MAC; a random static address is 46 random bits kept
//! until power-cycle, so a clash with a Wi-Fi MAC is negligible. Resolvable
//! and non-resolvable private addresses rotate (typically every 15 minutes):
//! keying them would make a phantom device per rotation, so such an
//! advertiser becomes a device only when it says who it is (a name, a
//! service UUID or an appearance) — anonymous beacons (exposure
//! notifications, phones' manufacturer data) are counted as records only.
//! A random address's bits are no IEEE prefix: its vendor comes only from
//! the Bluetooth SIG company identifier or member service UUID it
//! advertises, never from the OUI registry.
//!
//! **Knowledge** (crate `knowledge`, each entry citable): `ble_company`
//! (company identifiers), `ble_uuid16` (16-bit GATT service and member
//! UUIDs), `ble_appearance` (appearance values) are the Bluetooth SIG
//! assigned numbers as shipped in Wireshark 4.0.17's value tables;
//! `ble_health` maps health services, appearance categories, name words and
//! product-name prefixes to a device type and category. Sources in
//! `crates/knowledge/data/SOURCES.md`.

use crate::classify::{Category, Reason};
use crate::facts::{EndpointKey, Fact, FactKind};
use crate::identity::category_of;
use crate::observe::Observer;
use model::records::{BleAddrKind, BleRecord, BleUuid};
use model::Timestamp;

/// Role fact marking an endpoint as a Bluetooth LE advertiser.
pub const ROLE: &str = "ble-advertiser";
/// Prefix of the role fact naming the address kind.
const ADDR_ROLE: &str = "ble-address-";
/// Capability fact prefixes.
const SERVICE: &str = "ble-service:";
const APPEARANCE_CAP: &str = "ble-appearance:";

/// A `0xNNNN`-keyed table's name column.
fn numbered(table: &str, column: &str, id: u16) -> Option<&'static str> {
    knowledge::global()
        .row(table, &format!("0x{id:04x}"))
        .and_then(|r| r.get(column))
}

/// The Bluetooth SIG name of company identifier `id`.
pub fn company(id: u16) -> Option<&'static str> {
    numbered("ble_company", "company", id)
}

/// The Bluetooth SIG name of a 16-bit service or member UUID.
pub fn uuid16(id: u16) -> Option<&'static str> {
    numbered("ble_uuid16", "name", id)
}

/// The Bluetooth SIG name of an appearance value.
fn appearance(v: u16) -> Option<&'static str> {
    numbered("ble_appearance", "name", v)
}

/// True for 16-bit UUIDs assigned to a member company (0xFC00-0xFEFF,
/// 0xFD.. included): their SIG name is the company's.
fn is_member_uuid(id: u16) -> bool {
    (0xFC00..=0xFEFF).contains(&id)
}

/// The `ble_health` entry for `KIND KEY`: (device type, category, entry id).
fn health(kind: &str, key: &str) -> Option<(&'static str, Category, String)> {
    let r = knowledge::global().row("ble_health", &format!("{kind} {key}"))?;
    Some((
        r.get("device_type")?,
        r.get("category").and_then(category_of)?,
        r.id(),
    ))
}

/// Facts from one advertising record (see the module doc for which).
pub(crate) fn observe(obs: &mut Observer, r: &BleRecord, ts: Timestamp) {
    let Some(adv) = r.advertiser else { return };
    if adv.addr.is_zero() {
        return;
    }
    let says_who = r.name.is_some()
        || r.appearance.is_some()
        || r.services.iter().any(|u| {
            u.short()
                .is_some_and(|v| health("service", &format!("0x{v:04x}")).is_some())
        });
    if !adv.kind.is_stable() && !says_who {
        return;
    }
    let ep = EndpointKey {
        mac: Some(adv.addr),
        ip: None,
    };
    let evidence = || {
        let mut s = format!("ble {} from {}", r.pdu.as_str(), &*adv.addr.text());
        if let Some(c) = r.channel {
            s.push_str(" on channel ");
            s.push_str(itoa::Buffer::new().format(c));
        }
        s
    };
    const SRC: &str = "ble";
    obs.add(ep, FactKind::Role, ROLE, SRC, ts, &evidence);
    let kind_role = match adv.kind {
        BleAddrKind::Public => "ble-address-public",
        BleAddrKind::RandomStatic => "ble-address-random_static",
        BleAddrKind::RandomResolvable => "ble-address-random_resolvable",
        BleAddrKind::RandomNonResolvable => "ble-address-random_non_resolvable",
        BleAddrKind::RandomReserved => "ble-address-random_reserved",
    };
    obs.add(ep, FactKind::Role, kind_role, SRC, ts, &evidence);
    if let Some(n) = &r.name {
        obs.add(ep, FactKind::Hostname, n, SRC, ts, &evidence);
    }
    // 0x0000 (Ericsson) is what many cheap devices leave in the field: no maker.
    for &c in r.companies.iter().filter(|&&c| c != 0) {
        if let Some(name) = company(c) {
            obs.add(ep, FactKind::Manufacturer, name, SRC, ts, &evidence);
        }
    }
    let mut buf = String::new();
    for u in r.services.iter().chain(&r.service_data) {
        buf.clear();
        buf.push_str(SERVICE);
        buf.push_str(&u.to_string());
        if let BleUuid::U16(v) = u {
            if let Some(name) = uuid16(*v) {
                buf.push(' ');
                buf.push_str(name);
                if is_member_uuid(*v) {
                    obs.add(ep, FactKind::Manufacturer, name, SRC, ts, &evidence);
                }
            }
        }
        obs.add(ep, FactKind::Capability, &buf, SRC, ts, &evidence);
    }
    if let Some(a) = r.appearance {
        buf.clear();
        buf.push_str(APPEARANCE_CAP);
        buf.push_str(&format!("0x{a:04x}"));
        if let Some(name) = appearance(a) {
            buf.push(' ');
            buf.push_str(name);
        }
        obs.add(ep, FactKind::Capability, &buf, SRC, ts, &evidence);
    }
}

/// True when the facts are a BLE advertiser's with a random address (its
/// bits say nothing about the maker).
pub fn random_address(facts: &[&Fact]) -> bool {
    facts.iter().any(|f| {
        f.kind == FactKind::Role
            && f.value.starts_with(ADDR_ROLE)
            && f.value != "ble-address-public"
    })
}

/// The maker a BLE advertiser names (company identifier or member UUID).
pub fn vendor(facts: &[&Fact]) -> Option<String> {
    facts
        .iter()
        .find(|f| f.kind == FactKind::Manufacturer && f.source == "ble")
        .map(|f| f.value.clone())
}

/// Category reasons from a BLE advertiser's facts: health GATT services and
/// appearance categories (Bluetooth SIG assigned numbers) and device-type
/// words in the advertised name (knowledge table `ble_health`).
pub fn reasons(facts: &[&Fact]) -> Vec<Reason> {
    let mut out: Vec<Reason> = Vec::new();
    let mut push = |cat, weight, why: String, f: &Fact, entry: String| {
        if !out.iter().any(|r| r.why == why) {
            out.push(Reason {
                category: cat,
                weight,
                why,
                evidence: f.evidence.clone(),
                knowledge: Some(entry),
            });
        }
    };
    for f in facts.iter().filter(|f| f.source == "ble") {
        match f.kind {
            FactKind::Capability => {
                if let Some(rest) = f.value.strip_prefix(SERVICE) {
                    let id = rest.split(' ').next().unwrap_or("");
                    if let Some((device, cat, entry)) = health("service", id) {
                        push(
                            cat,
                            0.8,
                            format!("advertises GATT service {rest} (Bluetooth SIG): a {device}"),
                            f,
                            entry,
                        );
                    }
                } else if let Some(rest) = f.value.strip_prefix(APPEARANCE_CAP) {
                    let id = rest.split(' ').next().unwrap_or("");
                    let Some(v) = id
                        .strip_prefix("0x")
                        .and_then(|h| u16::from_str_radix(h, 16).ok())
                    else {
                        continue;
                    };
                    let class = (v >> 6).to_string();
                    if let Some((device, cat, entry)) = health("appearance", &class) {
                        push(
                            cat,
                            0.75,
                            format!("advertises appearance {rest} (Bluetooth SIG): a {device}"),
                            f,
                            entry,
                        );
                    }
                }
            }
            FactKind::Hostname => {
                let lower = f.value.to_ascii_lowercase();
                for word in lower.split(|c: char| !c.is_ascii_alphanumeric()) {
                    if word.is_empty() {
                        continue;
                    }
                    if let Some((device, cat, entry)) = health("name", word) {
                        push(
                            cat,
                            0.55,
                            format!("advertised name \"{}\" says {word}: a {device}", f.value),
                            f,
                            entry,
                        );
                    }
                }
                for r in knowledge::global().rows("ble_health") {
                    let Some(prefix) = r.key().strip_prefix("product ") else {
                        continue;
                    };
                    let (Some(device), Some(cat)) = (
                        r.get("device_type"),
                        r.get("category").and_then(category_of),
                    ) else {
                        continue;
                    };
                    if lower.starts_with(&prefix.to_ascii_lowercase()) {
                        push(
                            cat,
                            0.7,
                            format!(
                                "advertised name \"{}\" is the product line \"{prefix}\": a {device}",
                                f.value
                            ),
                            f,
                            r.id(),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::records::{BleAddress, BlePdu};
    use model::{Event, MacAddr, Record};

    fn rec(addr: &str, kind: BleAddrKind) -> BleRecord {
        let mut r = BleRecord::new(BlePdu::AdvInd);
        r.advertiser = Some(BleAddress {
            addr: MacAddr::parse(addr).unwrap(),
            kind,
        });
        r
    }

    fn devices(records: Vec<BleRecord>) -> Vec<crate::Device> {
        let mut obs = Observer::new(Default::default());
        for r in records {
            obs.observe(&Event {
                ts: Timestamp(1),
                flow: None,
                record: Record::Ble(r),
            });
        }
        crate::build_inventory(&obs.into_facts())
    }

    #[test]
    fn tables_load() {
        assert_eq!(company(0x03ff), Some("Withings"));
        assert_eq!(uuid16(0x1810), Some("Blood Pressure"));
        assert!(knowledge::global().rows("ble_health").len() > 20);
        assert_eq!(
            health("service", "0x1810").map(|h| h.0),
            Some("blood pressure monitor")
        );
    }

    #[test]
    fn health_service_names_the_category_and_vendor_comes_from_the_company_id() {
        let mut r = rec("d7:3a:6b:c2:53:00", BleAddrKind::RandomStatic);
        r.services.push(BleUuid::U16(0x1810));
        r.companies.push(0x03ff);
        let d = devices(vec![r]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].category, Category::MedicalDevice);
        assert!(
            d[0].reasons[0].why.contains("blood pressure monitor"),
            "{:?}",
            d[0].reasons
        );
        assert_eq!(d[0].vendor.as_deref(), Some("Withings"));
    }

    #[test]
    fn appearance_and_name_words_name_the_category() {
        let mut r = rec("c1:02:03:04:05:06", BleAddrKind::RandomStatic);
        r.appearance = Some(0x0c41);
        let d = devices(vec![r]);
        assert_eq!(d[0].category, Category::MedicalDevice);
        assert!(d[0].reasons[0].why.contains("pulse oximeter"));
        let mut r = rec("c1:02:03:04:05:07", BleAddrKind::RandomStatic);
        r.name = Some("Acme Glucose 7".into());
        let d = devices(vec![r]);
        assert_eq!(d[0].category, Category::MedicalDevice);
    }

    #[test]
    fn rotating_anonymous_advertisers_are_not_devices_and_random_bits_have_no_oui() {
        let mut r = rec("4a:00:00:00:00:01", BleAddrKind::RandomResolvable);
        r.companies.push(0x004c);
        assert!(devices(vec![r]).is_empty());
        // A random static address whose bits look like a registered OUI.
        let d = devices(vec![rec("c0:00:00:00:00:01", BleAddrKind::RandomStatic)]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].vendor, None);
        // A named rotating advertiser is a device.
        let mut r = rec("4a:00:00:00:00:02", BleAddrKind::RandomResolvable);
        r.name = Some("Thermometer".into());
        assert_eq!(devices(vec![r]).len(), 1);
    }
}
