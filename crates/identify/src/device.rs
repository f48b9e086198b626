//! Facts grouped into devices: one per MAC, or per IP where no usable MAC is seen.

use crate::classify::{classify, Category, Reason};
use crate::facts::{EndpointKey, Fact, FactKind};
use model::addr::{is_host, is_local};
use model::{MacAddr, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// A MAC seen with more distinct IPs than this is a router (or NAT); the IPs
/// behind it become devices of their own.
const ROUTER_MAC_IPS: usize = 8;

/// One device of the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Stable identity: `mac:aa:bb:..` or `ip:10.1.2.3`.
    pub key: String,
    /// Its MAC address, when known.
    pub mac: Option<MacAddr>,
    /// Vendor from the IEEE OUI registry.
    pub vendor: Option<String>,
    /// Addresses it used.
    pub ips: Vec<IpAddr>,
    /// Names it is known by.
    pub hostnames: Vec<String>,
    /// Category decided from the evidence.
    pub category: Category,
    /// Confidence in the category, 0..1.
    pub confidence: f32,
    /// Why (winning category first), each with evidence.
    pub reasons: Vec<Reason>,
    /// Services it offers (`hl7/tcp/2575`).
    pub services_offered: Vec<String>,
    /// Services it uses on other hosts.
    pub services_used: Vec<String>,
    /// Protocol roles (`dicom-scu`, `hl7-sender`...).
    pub roles: Vec<String>,
    /// Software and firmware strings.
    pub software: Vec<String>,
    /// Application endpoints (DICOM AEs with implementation, HL7 applications).
    pub applications: Vec<String>,
    /// Model names it states.
    pub models: Vec<String>,
    /// Distinct peers it talked to.
    pub peer_count: usize,
    /// First sighting.
    pub first_seen: Timestamp,
    /// Last sighting.
    pub last_seen: Timestamp,
    /// Every fact behind this device.
    pub facts: Vec<Fact>,
}

/// Groups facts into devices and classifies them. Deterministic: devices are
/// sorted by key.
pub fn build_inventory(facts: &[Fact]) -> Vec<Device> {
    // 1. Which IPs each MAC used on the wire.
    let mut mac_ips: BTreeMap<MacAddr, BTreeSet<IpAddr>> = BTreeMap::new();
    for f in facts {
        if let (Some(m), Some(ip)) = (f.endpoint.mac, f.endpoint.ip) {
            if is_host(&ip) {
                mac_ips.entry(m).or_default().insert(ip);
            }
        }
    }
    let routers: BTreeSet<MacAddr> = mac_ips.iter().filter(|(_, ips)| ips.len() > ROUTER_MAC_IPS).map(|(m, _)| *m).collect();
    // 2. IP-only endpoints that have a MAC elsewhere belong to that MAC.
    let mut ip_owner: BTreeMap<IpAddr, MacAddr> = BTreeMap::new();
    for (m, ips) in &mac_ips {
        if !routers.contains(m) {
            for ip in ips {
                ip_owner.entry(*ip).or_insert(*m);
            }
        }
    }
    let device_key = |ep: &EndpointKey| -> Option<(String, Option<MacAddr>)> {
        match (ep.mac, ep.ip) {
            (Some(m), Some(ip)) if routers.contains(&m) => ip_key(ip).map(|k| (k, None)),
            (Some(m), _) => Some((format!("mac:{m}"), Some(m))),
            (None, Some(ip)) => match ip_owner.get(&ip) {
                Some(m) => Some((format!("mac:{m}"), Some(*m))),
                None => ip_key(ip).map(|k| (k, None)),
            },
            (None, None) => None,
        }
    };
    // 3. Group.
    let mut groups: BTreeMap<String, (Option<MacAddr>, Vec<&Fact>, BTreeSet<IpAddr>)> = BTreeMap::new();
    for f in facts {
        let Some((key, mac)) = device_key(&f.endpoint) else { continue };
        let g = groups.entry(key).or_insert_with(|| (mac, Vec::new(), BTreeSet::new()));
        if let Some(ip) = f.endpoint.ip.filter(is_host) {
            if mac.is_none() || !routers.contains(&mac.unwrap_or_default()) {
                g.2.insert(ip);
            }
        }
        if f.kind == FactKind::Ip {
            if let Ok(ip) = f.value.parse::<IpAddr>() {
                g.2.insert(ip);
            }
        }
        g.1.push(f);
    }
    // 4. Summarise and classify.
    groups
        .into_iter()
        .map(|(key, (mac, facts, ips))| {
            let vendor = mac.as_ref().and_then(crate::oui::vendor);
            let (mut category, confidence, mut reasons) = classify(&facts, vendor.as_deref());
            if mac.is_some_and(|m| routers.contains(&m)) {
                let n = mac_ips.get(&mac.unwrap_or_default()).map_or(0, |s| s.len());
                reasons.insert(
                    0,
                    Reason {
                        category: Category::NetworkGear,
                        weight: 0.7,
                        why: format!("forwards traffic for {n} IP addresses (router or NAT)"),
                        evidence: "MAC/IP pairs seen in flows".into(),
                    },
                );
                if category == Category::Unknown || confidence < 0.7 {
                    category = Category::NetworkGear;
                }
            }
            let confidence = if category == Category::NetworkGear && reasons.first().is_some_and(|r| r.why.starts_with("forwards")) {
                confidence.max(0.7)
            } else {
                confidence
            };
            let values = |k: FactKind| -> Vec<String> {
                let set: BTreeSet<&str> = facts.iter().filter(|f| f.kind == k).map(|f| f.value.as_str()).collect();
                set.into_iter().map(str::to_string).collect()
            };
            let mut applications = values(FactKind::Application);
            applications.extend(values(FactKind::Hl7Application).into_iter().map(|a| format!("hl7 {a}")));
            let first_seen = facts.iter().map(|f| f.first_seen).min().unwrap_or_default();
            let last_seen = facts.iter().map(|f| f.last_seen).max().unwrap_or_default();
            let peer_count = facts.iter().filter(|f| f.kind == FactKind::Peer).map(|f| f.value.as_str()).collect::<BTreeSet<_>>().len();
            Device {
                key,
                mac,
                vendor,
                ips: ips.into_iter().collect(),
                hostnames: values(FactKind::Hostname),
                category,
                confidence,
                reasons,
                services_offered: values(FactKind::ServiceOffered),
                services_used: values(FactKind::ServiceUsed),
                roles: values(FactKind::Role),
                software: values(FactKind::Software),
                applications,
                models: values(FactKind::Model),
                peer_count,
                first_seen,
                last_seen,
                facts: facts.into_iter().cloned().collect(),
            }
        })
        .collect()
}

/// Key for an IP-only device, or None for remote hosts that only appear as
/// peers. Only local (private, link-local, loopback, CGNAT, ULA) addresses
/// without a MAC become devices: a public address seen without a MAC is a
/// remote server, not part of the inventory.
fn ip_key(ip: IpAddr) -> Option<String> {
    (is_host(&ip) && is_local(&ip)).then(|| format!("ip:{ip}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Observer;
    use model::records::{ConnRecord, Hl7Record};
    use model::{Direction, Endpoint, Event, FlowInfo, Record, Transport};
    use std::net::Ipv4Addr;

    fn flow(id: u64, c: [u8; 4], cmac: u8, s: [u8; 4], smac: u8, port: u16) -> FlowInfo {
        FlowInfo {
            id,
            transport: Transport::Tcp,
            client: Endpoint { ip: IpAddr::V4(Ipv4Addr::from(c)), port: 40000, mac: Some(MacAddr([0, 0x09, 0xfb, 0, 0, cmac])) },
            server: Endpoint { ip: IpAddr::V4(Ipv4Addr::from(s)), port, mac: Some(MacAddr([0, 0x1b, 0x21, 0, 0, smac])) },
            vlan: None,
        }
    }

    #[test]
    fn hl7_sender_and_engine() {
        let mut o = Observer::default();
        let f = flow(1, [10, 0, 0, 5], 1, [10, 0, 0, 9], 2, 2575);
        o.observe(&Event {
            ts: Timestamp(1),
            flow: Some(f),
            record: Record::Hl7(Hl7Record {
                direction: Some(Direction::ToServer),
                sending_application: Some("INTELLIVUE".into()),
                sending_facility: Some("ICU".into()),
                receiving_application: Some("ENGINE".into()),
                message_type: Some("ORU^R01".into()),
                carries_phi: true,
                ..Default::default()
            }),
        });
        o.observe(&Event {
            ts: Timestamp(2),
            flow: Some(f),
            record: Record::Conn(ConnRecord { established: true, service: vec!["hl7".into()], ..Default::default() }),
        });
        let inv = build_inventory(&o.into_facts());
        assert_eq!(inv.len(), 2);
        let monitor = &inv[0];
        assert_eq!(monitor.key, "mac:00:09:fb:00:00:01");
        assert_eq!(monitor.category, Category::PatientMonitor);
        assert!(monitor.reasons[0].evidence.contains("10.0.0.5:40000 -> 10.0.0.9:2575/tcp"));
        assert_eq!(inv[1].category, Category::Hl7InterfaceEngine);
        assert_eq!(inv[1].services_offered, vec!["hl7/tcp/2575"]);
    }

    #[test]
    fn router_mac_splits_into_ip_devices() {
        let mut o = Observer::default();
        for i in 0..20u8 {
            let f = flow(i as u64, [10, 0, 1, i], 99, [10, 0, 0, 9], 2, 443);
            o.observe(&Event { ts: Timestamp(1), flow: Some(f), record: Record::Conn(ConnRecord { established: true, ..Default::default() }) });
        }
        let inv = build_inventory(&o.into_facts());
        assert!(inv.iter().any(|d| d.key == "ip:10.0.1.7"));
        assert!(!inv.iter().any(|d| d.key == "mac:00:09:fb:00:00:63"));
    }
}
