//! One asset per device: a device declared in a CMMS import and the same
//! device observed on the wire are linked ([`link`]) by what both sides can
//! know — MAC address, serial number, IP address, host name, in that order
//! of trust — so inventory, advisories and risk show one row for it.
//!
//! **Rules.** A link needs exactly one candidate on each side: an IP
//! address or host name shared by two observed devices (DHCP reuse, cloned
//! images) or written on two declared rows links nothing, and says nothing
//! either. Each declared row links to at most one observed device and each
//! observed device to at most one declared row; stronger keys are tried
//! first for every row before weaker ones. Host names compare
//! case-insensitively on their first label (`PUMP-7.icu.example.org` is
//! `pump-7`). Every link states the key and value that made it.
//!
//! [`assemble`] turns declared rows and observed devices into [`Asset`]s:
//! what advisories and risk report, one per device. An asset's identities
//! for matching are the declared row's and the observed ones, the observed
//! models taking the declared firmware (one device runs one version); a
//! declared model names the category (`advisory::knowledge` model-category
//! table) when the table knows it, and says which line decided.

use crate::DeclaredDevice;
use advisory::knowledge::Knowledge;
use advisory::{observed_identities, DeviceIdentity};
use identify::{Category, Device, EndpointKey, Fact, FactKind, Reason};
use model::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What linked a declared device to an observed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKey {
    /// The same MAC address.
    Mac,
    /// The same serial number (the device states it, e.g. in SNMP or HL7).
    Serial,
    /// The same IP address.
    Ip,
    /// The same host name.
    Hostname,
}

impl LinkKey {
    /// `mac`, `serial`, `ip`, `hostname`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKey::Mac => "mac",
            LinkKey::Serial => "serial",
            LinkKey::Ip => "ip",
            LinkKey::Hostname => "hostname",
        }
    }
}

/// A declared row and the observed device it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Index into the declared devices given to [`link`].
    pub declared: usize,
    /// Index into the observed devices given to [`link`].
    pub observed: usize,
    /// Which key linked them.
    pub by: LinkKey,
    /// Its value (`00:1a:2b:3c:4d:5e`, `10.1.2.3`, …).
    pub value: String,
}

impl Link {
    /// `linked to the observed device by mac 00:1a:…`.
    pub fn describe(&self) -> String {
        format!(
            "declared and observed linked by {} {}",
            self.by.as_str(),
            self.value
        )
    }
}

fn host(h: &str) -> String {
    h.trim()
        .split('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The values of one key for a declared row (normalised for comparison).
fn declared_values(d: &DeclaredDevice, k: LinkKey) -> Vec<String> {
    let v = match k {
        LinkKey::Mac => d.mac.trim().to_ascii_lowercase(),
        LinkKey::Serial => d.serial.trim().to_ascii_uppercase(),
        LinkKey::Ip => match d.ip.trim().parse::<std::net::IpAddr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => String::new(),
        },
        LinkKey::Hostname => host(&d.hostname),
    };
    if v.is_empty() {
        Vec::new()
    } else {
        vec![v]
    }
}

/// The values of one key for an observed device.
fn observed_values(d: &Device, k: LinkKey) -> Vec<String> {
    let mut v: Vec<String> = match k {
        LinkKey::Mac => d.mac.iter().map(|m| m.text().to_string()).collect(),
        LinkKey::Serial => d
            .facts
            .iter()
            .filter(|f| f.kind == FactKind::Serial)
            .map(|f| f.value.trim().to_ascii_uppercase())
            .collect(),
        LinkKey::Ip => d.ips.iter().map(|ip| ip.to_string()).collect(),
        LinkKey::Hostname => d.hostnames.iter().map(|h| host(h)).collect(),
    };
    v.retain(|s| !s.is_empty());
    v.sort();
    v.dedup();
    v
}

/// Links declared rows to observed devices (see the module doc), in
/// declared order.
pub fn link(declared: &[DeclaredDevice], observed: &[Device]) -> Vec<Link> {
    let mut links = Vec::new();
    let mut d_taken = vec![false; declared.len()];
    let mut o_taken = vec![false; observed.len()];
    for key in [
        LinkKey::Mac,
        LinkKey::Serial,
        LinkKey::Ip,
        LinkKey::Hostname,
    ] {
        // value → indices on each side (a value on two devices of one side is ambiguous).
        let mut obs: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, d) in observed.iter().enumerate() {
            for v in observed_values(d, key) {
                obs.entry(v).or_default().push(i);
            }
        }
        let mut dec: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, d) in declared.iter().enumerate() {
            for v in declared_values(d, key) {
                dec.entry(v).or_default().push(i);
            }
        }
        for (di, d) in declared.iter().enumerate() {
            if d_taken[di] {
                continue;
            }
            for v in declared_values(d, key) {
                let (Some(o), Some(ds)) = (obs.get(&v), dec.get(&v)) else {
                    continue;
                };
                if o.len() != 1 || ds.len() != 1 || o_taken[o[0]] {
                    continue;
                }
                d_taken[di] = true;
                o_taken[o[0]] = true;
                links.push(Link {
                    declared: di,
                    observed: o[0],
                    by: key,
                    value: v,
                });
                break;
            }
        }
    }
    links.sort_by_key(|l| l.declared);
    links
}

/// One device: declared in a CMMS import, observed on the wire, or both.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The declared row, if any.
    pub declared: Option<DeclaredDevice>,
    /// The observed device, if any.
    pub observed: Option<Device>,
    /// Why the two are one device, when both are present.
    pub link: Option<Link>,
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// identify's category of a label in the model-category table
/// (`infusion pump` → [`Category::InfusionPump`]).
pub fn category_of_label(label: &str) -> Option<Category> {
    let snake = label.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    serde_json::from_value(serde_json::Value::String(snake)).ok()
}

impl Asset {
    /// `declared+observed`, `declared` or `observed`.
    pub fn kind(&self) -> &'static str {
        match (&self.declared, &self.observed) {
            (Some(_), Some(_)) => "declared+observed",
            (Some(_), None) => "declared",
            _ => "observed",
        }
    }

    /// The observed device's key, else `declared:` and the declared key.
    pub fn key(&self) -> String {
        match (&self.observed, &self.declared) {
            (Some(o), _) => o.key.clone(),
            (None, Some(d)) => format!("declared:{}", d.key()),
            (None, None) => String::new(),
        }
    }

    /// The declared manufacturer, else the observed vendor.
    pub fn vendor(&self) -> Option<String> {
        self.declared
            .as_ref()
            .and_then(|d| non_empty(&d.vendor))
            .or_else(|| self.observed.as_ref().and_then(|o| o.vendor.clone()))
    }

    /// The declared model, else the model the device states.
    pub fn model(&self) -> Option<String> {
        self.declared
            .as_ref()
            .and_then(|d| non_empty(&d.model))
            .or_else(|| {
                self.observed.as_ref().and_then(|o| {
                    o.identity
                        .model
                        .clone()
                        .or_else(|| o.models.first().cloned())
                })
            })
    }

    /// The declared firmware, else the firmware the device states.
    pub fn firmware(&self) -> Option<String> {
        self.declared
            .as_ref()
            .and_then(|d| non_empty(&d.firmware))
            .or_else(|| {
                self.observed
                    .as_ref()
                    .and_then(|o| o.identity.firmware.clone())
            })
    }

    /// The identities to match: the declared row's, then the observed
    /// device's models (with the asset's firmware) and software strings.
    pub fn identities(&self) -> Vec<DeviceIdentity> {
        let mut ids = Vec::new();
        if let Some(d) = &self.declared {
            let id = DeviceIdentity {
                vendor: non_empty(&d.vendor),
                model: non_empty(&d.model),
                firmware: non_empty(&d.firmware),
            };
            if id.vendor.is_some() || id.model.is_some() {
                ids.push(id);
            }
        }
        if let Some(o) = &self.observed {
            let firmware = self.firmware();
            // The model identify concluded (a DHCP vendor class "CareFusion
            // Alaris PC 8015") besides the models the device stated.
            let mut models = o.models.clone();
            if let Some(m) = &o.identity.model {
                if !models.contains(m) {
                    models.insert(0, m.clone());
                }
            }
            for mut id in observed_identities(o.vendor.as_deref(), &models, &o.software) {
                if id.firmware.is_none() && id.vendor.as_deref() == o.vendor.as_deref() {
                    id.firmware.clone_from(&firmware);
                }
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids
    }

    /// The category the declared model gives (first matching line of the
    /// model-category table), with the reason.
    pub fn declared_category(&self, k: &Knowledge) -> Option<Reason> {
        let d = self.declared.as_ref()?;
        if d.model.trim().is_empty() {
            return None;
        }
        let rule = k.category(&d.vendor, &d.model)?;
        let category = category_of_label(&rule.category)?;
        Some(Reason {
            category,
            weight: 0.9,
            why: format!(
                "declared model {:?} is a {} ({})",
                d.model, rule.category, rule.source
            ),
            evidence: format!("declared in {} line {}", d.source, d.line),
            knowledge: Some(format!("model_category/{}", rule.words.join(" "))),
        })
    }

    /// The device risk scoring sees: the observed device (its category
    /// replaced by the declared model's when the table knows it), or a
    /// declared row as an inventory entry whose vendor, model and firmware
    /// are its facts.
    pub fn device(&self, k: &Knowledge) -> Device {
        let mut dev = match (&self.observed, &self.declared) {
            (Some(o), _) => o.clone(),
            (None, Some(d)) => declared_device(d),
            (None, None) => declared_device(&DeclaredDevice::default()),
        };
        if let Some(r) = self.declared_category(k) {
            dev.category = r.category;
            dev.confidence = dev.confidence.max(r.weight);
            dev.reasons.insert(0, r);
        }
        if dev.vendor.is_none() {
            dev.vendor = self.vendor();
        }
        if let Some(m) = self.declared.as_ref().and_then(|d| non_empty(&d.model)) {
            if !dev.models.contains(&m) {
                dev.models.insert(0, m);
            }
        }
        dev
    }
}

/// A declared row as an inventory entry: its stated vendor, model and
/// firmware are its facts, so it is classified like an observed one.
fn declared_device(d: &DeclaredDevice) -> Device {
    let evidence = format!("declared in {} line {}", d.source, d.line);
    let fact = |kind, value: &str| Fact {
        endpoint: EndpointKey {
            mac: None,
            ip: None,
        },
        kind,
        value: value.to_string(),
        source: "cmms".into(),
        first_seen: Timestamp(0),
        last_seen: Timestamp(0),
        count: 1,
        evidence: evidence.clone(),
    };
    let facts: Vec<Fact> = [
        (FactKind::Manufacturer, &d.vendor),
        (FactKind::Model, &d.model),
        (FactKind::Firmware, &d.firmware),
        (FactKind::Serial, &d.serial),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| fact(k, v))
    .collect();
    let refs: Vec<&Fact> = facts.iter().collect();
    let vendor = non_empty(&d.vendor);
    let (category, confidence, reasons) = identify::classify(&refs, vendor.as_deref());
    Device {
        key: format!("declared:{}", d.key()),
        mac: model::MacAddr::parse(&d.mac),
        vendor,
        ips: d.ip.trim().parse().into_iter().collect(),
        hostnames: non_empty(&d.hostname).into_iter().collect(),
        category,
        confidence,
        reasons,
        services_offered: Vec::new(),
        services_used: Vec::new(),
        roles: Vec::new(),
        software: Vec::new(),
        applications: Vec::new(),
        models: non_empty(&d.model).into_iter().collect(),
        peer_count: 0,
        first_seen: Timestamp(0),
        last_seen: Timestamp(0),
        identity: Default::default(),
        facts,
    }
}

/// Declared rows and observed devices as assets: each link one asset, the
/// unlinked declared rows and observed devices one each (declared first, in
/// the order given).
pub fn assemble(declared: Vec<DeclaredDevice>, observed: Vec<Device>) -> Vec<Asset> {
    let links = link(&declared, &observed);
    let mut obs: Vec<Option<Device>> = observed.into_iter().map(Some).collect();
    let mut by_declared: HashMap<usize, Link> =
        links.into_iter().map(|l| (l.declared, l)).collect();
    let mut out = Vec::with_capacity(declared.len() + obs.len());
    for (i, d) in declared.into_iter().enumerate() {
        let link = by_declared.remove(&i);
        let observed = link.as_ref().and_then(|l| obs[l.observed].take());
        out.push(Asset {
            declared: Some(d),
            observed,
            link,
        });
    }
    out.extend(obs.into_iter().flatten().map(|o| Asset {
        declared: None,
        observed: Some(o),
        link: None,
    }));
    out
}

impl crate::Store {
    /// Every device as one asset: declared rows linked to the observed
    /// devices they are (see the module doc).
    pub fn assets(&self) -> Result<Vec<Asset>, crate::Error> {
        Ok(assemble(
            self.declared_devices()?,
            self.devices_with_facts()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MacAddr;

    fn observed(mac: Option<[u8; 6]>, ip: &str, host: &str, serial: &str) -> Device {
        let facts = if serial.is_empty() {
            Vec::new()
        } else {
            vec![Fact {
                endpoint: EndpointKey {
                    mac: None,
                    ip: None,
                },
                kind: FactKind::Serial,
                value: serial.into(),
                source: "snmp".into(),
                first_seen: Timestamp(0),
                last_seen: Timestamp(0),
                count: 1,
                evidence: String::new(),
            }]
        };
        Device {
            key: format!("{mac:?}{ip}"),
            mac: mac.map(MacAddr),
            vendor: None,
            ips: ip.parse().into_iter().collect(),
            hostnames: if host.is_empty() {
                vec![]
            } else {
                vec![host.into()]
            },
            category: identify::Category::Unknown,
            confidence: 0.0,
            reasons: vec![],
            services_offered: vec![],
            services_used: vec![],
            roles: vec![],
            software: vec![],
            applications: vec![],
            models: vec![],
            peer_count: 0,
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
            identity: Default::default(),
            facts,
        }
    }

    fn declared(mac: &str, ip: &str, host: &str, serial: &str) -> DeclaredDevice {
        DeclaredDevice {
            vendor: "BD".into(),
            model: "Alaris PC 8015".into(),
            mac: mac.into(),
            ip: ip.into(),
            hostname: host.into(),
            serial: serial.into(),
            ..Default::default()
        }
    }

    #[test]
    fn links_by_the_strongest_unambiguous_key() {
        let obs = vec![
            observed(
                Some([0, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e]),
                "10.0.0.5",
                "pump-1",
                "",
            ),
            observed(Some([2; 6]), "10.0.0.6", "PUMP-2.icu.example.org", ""),
            observed(Some([3; 6]), "10.0.0.7", "shared", "SN-77"),
            observed(Some([4; 6]), "10.0.0.8", "shared", ""),
        ];
        let dec = vec![
            // MAC wins over a contradicting IP.
            declared("00:1a:2b:3c:4d:5e", "10.0.0.6", "", ""),
            declared("", "", "pump-2", ""),
            declared("", "", "", "sn-77"),
            // Hostname "shared" names two observed devices: no link.
            declared("", "", "shared", ""),
            // Nothing in common.
            declared("", "10.9.9.9", "", ""),
        ];
        let l = link(&dec, &obs);
        let got: Vec<(usize, usize, LinkKey)> =
            l.iter().map(|l| (l.declared, l.observed, l.by)).collect();
        assert_eq!(
            got,
            [
                (0, 0, LinkKey::Mac),
                (1, 1, LinkKey::Hostname),
                (2, 2, LinkKey::Serial)
            ]
        );
        assert_eq!(
            l[0].describe(),
            "declared and observed linked by mac 00:1a:2b:3c:4d:5e"
        );
    }

    #[test]
    fn one_declared_row_per_observed_device() {
        let obs = vec![observed(Some([1; 6]), "10.0.0.5", "", "")];
        // Two rows with the same IP are ambiguous; a MAC row takes the device first.
        let dec = vec![
            declared("", "10.0.0.5", "", ""),
            declared("01:01:01:01:01:01", "", "", ""),
        ];
        let l = link(&dec, &obs);
        assert_eq!(l.len(), 1);
        assert_eq!((l[0].declared, l[0].by), (1, LinkKey::Mac));
        let twice = declared("", "10.0.0.5", "", "");
        assert!(link(&[twice.clone(), twice], &obs).is_empty());
    }
}

#[cfg(test)]
mod asset_tests {
    use super::*;

    #[test]
    fn declared_model_gives_the_category_and_firmware() {
        let k = Knowledge::embedded();
        let d = DeclaredDevice {
            vendor: "Smiths Medical".into(),
            model: "Medfusion 4000".into(),
            firmware: "1.1.2".into(),
            source: "c.csv".into(),
            line: 3,
            ..Default::default()
        };
        let a = assemble(vec![d], vec![]);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].kind(), "declared");
        let dev = a[0].device(&k);
        assert_eq!(dev.category, Category::InfusionPump);
        assert!(
            dev.reasons[0]
                .why
                .contains("declared model \"Medfusion 4000\""),
            "{:?}",
            dev.reasons
        );
        assert_eq!(a[0].identities()[0].firmware.as_deref(), Some("1.1.2"));
        assert_eq!(category_of_label("PACS"), Some(Category::Pacs));
        assert_eq!(
            category_of_label("HL7 interface engine"),
            Some(Category::Hl7InterfaceEngine)
        );
        assert_eq!(category_of_label("nonsense"), None);
    }
}
