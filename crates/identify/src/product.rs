//! A device's make and model as the inventory identifies it (for per-model
//! policies such as `ward policy generate`'s MUD files).
//!
//! The model is the first of, in this order of trust:
//! 1. a model the device states (LLDP-MED model, CDP platform, mDNS TXT `md`/`ty`...);
//! 2. a DHCP vendor class (option 60) naming a product (not a DHCP stack such as `MSFT 5.0` or `dhcpcd-…`);
//! 3. its LLDP/CDP system description;
//! 4. its DICOM implementation version name (`OFFIS_DCMTK_367` → `OFFIS DCMTK`);
//! 5. its HTTP `Server` string (when it offers HTTP);
//! 6. its SNMP `sysObjectID`.
//!
//! Software-derived names lose their version (`Apache/2.4.1` → `Apache`), so
//! firmware updates do not split a model. The manufacturer is the one the
//! device states (LLDP-MED, mDNS), else the IEEE OUI registry's vendor of its
//! MAC (a NIC vendor, which `Product::manufacturer_source` says). Values are
//! facts' bounded printable strings, further cut to 64 characters.

use crate::device::Device;
use crate::facts::{Fact, FactKind};

/// Longest model or manufacturer name kept.
const MAX_NAME: usize = 64;

/// A device's make and model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Manufacturer, when known.
    pub manufacturer: Option<String>,
    /// Where the manufacturer comes from (`lldp`, `mdns`, `IEEE OUI registry`).
    pub manufacturer_source: Option<String>,
    /// Model name.
    pub model: String,
    /// Where the model comes from (`lldp model`, `dhcp vendor class`, `dicom implementation version`...).
    pub model_source: String,
}

impl Product {
    /// A key under which devices of the same make and model meet: case and
    /// spacing folded.
    pub fn key(&self) -> (String, String) {
        let fold = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        (
            self.manufacturer.as_deref().map(fold).unwrap_or_default(),
            fold(&self.model),
        )
    }
}

/// DHCP client stacks whose vendor class names no device model.
const GENERIC_VENDOR_CLASSES: &[&str] = &[
    "msft",
    "dhcpcd",
    "udhcp",
    "android-dhcp",
    "pxeclient",
    "anaconda",
    "linux",
    "busybox",
    "systemd",
    "isc-dhclient",
    "dhclient",
];

/// Control characters read as spaces (registry names hold line breaks:
/// "Becton, Dickinson\nand Company"), spacing collapsed, at most
/// [`MAX_NAME`] characters. Shared with `identity`.
pub(crate) fn cut(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.chars()
        .take(MAX_NAME)
        .collect::<String>()
        .trim()
        .to_string()
}

fn is_version(w: &str) -> bool {
    let b = w.as_bytes();
    b.first().is_some_and(u8::is_ascii_digit)
        || (b.len() > 1 && (b[0] == b'v' || b[0] == b'V') && b[1].is_ascii_digit())
}

/// `Apache/2.4.1 (Unix)` → `Apache`; `OFFIS_DCMTK_367` → `OFFIS DCMTK`; None when nothing precedes the version.
fn without_version(s: &str) -> Option<String> {
    let words: Vec<&str> = s
        .split(['/', ' ', '_', '(', ')', ';', ','])
        .filter(|w| !w.is_empty())
        .collect();
    let end = words
        .iter()
        .position(|w| is_version(w))
        .unwrap_or(words.len())
        .min(6);
    let name = cut(&words[..end].join(" "));
    (!name.is_empty() && name.chars().any(|c| c.is_alphabetic())).then_some(name)
}

fn first(facts: &[Fact], kind: FactKind, pred: impl Fn(&Fact) -> bool) -> Option<&Fact> {
    // Facts are stored sorted; the most sighted value wins, ties by value.
    facts
        .iter()
        .filter(|f| f.kind == kind && !f.value.trim().is_empty() && pred(f))
        .max_by(|a, b| a.count.cmp(&b.count).then_with(|| b.value.cmp(&a.value)))
}

/// The device's make and model, or None when nothing names a model.
pub fn product(d: &Device) -> Option<Product> {
    let facts = &d.facts;
    let from = |f: &Fact| f.source.clone();
    let concluded = |field: &str| {
        d.identity
            .conclusions
            .iter()
            .find(|c| c.field == field)
            .map(|c| match &c.knowledge {
                Some(k) => format!("{} ({k})", c.why),
                None => c.why.clone(),
            })
    };
    // The identity's model (stated, a known model code, a product DHCP vendor
    // class); else what network gear says of itself. Software names (web
    // servers, SSH banners, DICOM toolkits, browsers) are never models.
    let model = d
        .identity
        .model
        .as_ref()
        .map(|m| {
            (
                cut(m),
                concluded("model").unwrap_or_else(|| "identity".into()),
            )
        })
        .or_else(|| {
            first(facts, FactKind::Software, |f| {
                f.source == "lldp" || f.source == "cdp"
            })
            .and_then(|f| {
                Some((
                    without_version(&f.value)?,
                    format!("{} system description", from(f)),
                ))
            })
        })
        .or_else(|| {
            first(facts, FactKind::Model, |f| {
                f.value.starts_with("sysObjectID")
            })
            .map(|f| (cut(&f.value), "snmp sysObjectID".to_string()))
        })
        .or_else(|| {
            // A device built without the identity (older stored documents):
            // the stated model or a product vendor class.
            first(facts, FactKind::Model, |f| {
                !f.value.starts_with("sysObjectID")
            })
            .map(|f| (cut(&f.value), format!("{} model", from(f))))
            .or_else(|| {
                first(facts, FactKind::DhcpVendorClass, |f| {
                    let v = f.value.trim().to_ascii_lowercase();
                    !GENERIC_VENDOR_CLASSES.iter().any(|g| v.starts_with(g))
                })
                .and_then(|f| Some((without_version(&f.value)?, "dhcp vendor class".to_string())))
            })
        })?;
    let (model, model_source) = model;
    if model.is_empty() {
        return None;
    }
    let (manufacturer, manufacturer_source) = match first(facts, FactKind::Manufacturer, |_| true) {
        Some(f) => (Some(cut(&f.value)), Some(from(f))),
        None => match &d.vendor {
            Some(v) => (
                Some(cut(v)),
                Some(concluded("vendor").unwrap_or_else(|| "IEEE OUI registry".to_string())),
            ),
            None => (None, None),
        },
    };
    let manufacturer = manufacturer.filter(|m| !m.is_empty());
    let manufacturer_source = manufacturer.as_ref().and(manufacturer_source);
    Some(Product {
        manufacturer,
        manufacturer_source,
        model,
        model_source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Category;
    use crate::facts::EndpointKey;
    use model::Timestamp;

    fn fact(kind: FactKind, value: &str, source: &str) -> Fact {
        Fact {
            endpoint: EndpointKey {
                mac: None,
                ip: None,
            },
            kind,
            value: value.into(),
            source: source.into(),
            first_seen: Timestamp(1),
            last_seen: Timestamp(1),
            count: 1,
            evidence: String::new(),
        }
    }

    fn device(vendor: Option<&str>, roles: &[&str], facts: Vec<Fact>) -> Device {
        Device {
            key: "mac:00:00:00:00:00:01".into(),
            mac: None,
            vendor: vendor.map(Into::into),
            ips: vec![],
            hostnames: vec![],
            category: Category::Unknown,
            confidence: 0.0,
            reasons: vec![],
            services_offered: vec![],
            services_used: vec![],
            roles: roles.iter().map(|r| r.to_string()).collect(),
            software: vec![],
            applications: vec![],
            models: vec![],
            peer_count: 0,
            first_seen: Timestamp(1),
            last_seen: Timestamp(1),
            identity: Default::default(),
            facts,
        }
    }

    #[test]
    fn models_in_order_of_trust() {
        let lldp = device(
            Some("Philips Medical Systems"),
            &[],
            vec![
                fact(FactKind::Model, "IntelliVue MX800", "lldp"),
                fact(FactKind::Manufacturer, "Philips", "lldp"),
                fact(FactKind::Software, "OFFIS_DCMTK_367", "dicom"),
            ],
        );
        let p = product(&lldp).unwrap();
        assert_eq!(
            (
                p.manufacturer.as_deref(),
                p.model.as_str(),
                p.model_source.as_str()
            ),
            (Some("Philips"), "IntelliVue MX800", "lldp model")
        );
        assert_eq!(p.manufacturer_source.as_deref(), Some("lldp"));
        assert_eq!(p.key(), ("philips".into(), "intellivue mx800".into()));

        let dcm = device(
            Some("Intel Corporate"),
            &[],
            vec![
                fact(FactKind::Software, "OFFIS_DCMTK_367", "dicom"),
                fact(FactKind::Model, "sysObjectID 1.3.6.1.4.1.9", "snmp"),
            ],
        );
        // A DICOM toolkit is software, not the device's model.
        let p = product(&dcm).unwrap();
        assert_eq!(
            (p.manufacturer.as_deref(), p.model.as_str()),
            (Some("Intel Corporate"), "sysObjectID 1.3.6.1.4.1.9")
        );
        assert_eq!(p.manufacturer_source.as_deref(), Some("IEEE OUI registry"));

        // A generic DHCP stack names no model; a product vendor class does (without its version).
        let generic = device(
            None,
            &[],
            vec![
                fact(FactKind::DhcpVendorClass, "MSFT 5.0", "dhcp"),
                fact(FactKind::DhcpVendorClass, "dhcpcd-9.4.1:Linux", "dhcp"),
            ],
        );
        assert_eq!(product(&generic), None);
        let pump = device(
            None,
            &[],
            vec![fact(
                FactKind::DhcpVendorClass,
                "BD Alaris PCU 9.33",
                "dhcp",
            )],
        );
        let p = product(&pump).unwrap();
        assert_eq!(
            (p.manufacturer, p.model.as_str(), p.model_source.as_str()),
            (None, "BD Alaris PCU", "dhcp vendor class")
        );

        // Web servers, browsers and SSH banners are software, never a model
        // ("Dell Inc. Mozilla 5.0", "SSH-2.0-OpenSSH 7.4", "GODICOM 1").
        let web = device(
            Some("Dell Inc."),
            &["http-server"],
            vec![
                fact(FactKind::Software, "Mozilla/5.0 (X11)", "http"),
                fact(FactKind::Software, "GoAhead-Webs/2.5", "http"),
                fact(FactKind::Software, "SSH-2.0-OpenSSH_7.4", "ssh"),
                fact(FactKind::Software, "GODICOM_1_0", "dicom"),
            ],
        );
        assert_eq!(product(&web), None);
        let snmp = device(
            None,
            &[],
            vec![fact(FactKind::Model, "sysObjectID 1.3.6.1.4.1.9", "snmp")],
        );
        assert_eq!(product(&snmp).unwrap().model_source, "snmp sysObjectID");
    }

    #[test]
    fn hostile_names_are_cut_and_cleaned() {
        let long = "A".repeat(500);
        let d = device(
            None,
            &[],
            vec![
                fact(FactKind::Model, &format!("../../{long}\u{7}\u{1b}"), "lldp"),
                fact(FactKind::Manufacturer, "  ", "mdns"),
            ],
        );
        let p = product(&d).unwrap();
        assert!(
            p.model.chars().count() <= MAX_NAME && !p.model.chars().any(char::is_control),
            "{:?}",
            p.model
        );
        assert_eq!(p.manufacturer, None);
        assert_eq!(
            product(&device(
                None,
                &[],
                vec![fact(FactKind::Software, "2.4.1", "dicom")]
            )),
            None
        );
    }
}
