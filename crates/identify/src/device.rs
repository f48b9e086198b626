//! Facts grouped into devices: one per MAC, or per IP where no usable MAC is seen.

use crate::classify::{classify, Category, Reason};
use crate::facts::{EndpointKey, Fact, FactKind};
use model::addr::{is_host, is_local};
use model::{MacAddr, Timestamp};
use serde::{Deserialize, Serialize};
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
    let (groups, _) = group(facts);
    groups
        .iter()
        .map(|g| {
            let mut d = summarise(g);
            d.facts = g.facts.iter().map(|f| (*f).clone()).collect();
            d
        })
        .collect()
}

/// [`build_inventory`] over facts the caller no longer needs: each device
/// takes its facts instead of copies. Same devices, same order.
pub fn build_inventory_owned(facts: Vec<Fact>) -> Vec<Device> {
    let (mut devices, assign) = {
        let (groups, assign) = group(&facts);
        let devices: Vec<Device> = groups
            .iter()
            .map(|g| {
                let mut d = summarise(g);
                d.facts.reserve_exact(g.facts.len());
                d
            })
            .collect();
        (devices, assign)
    };
    for (f, g) in facts.into_iter().zip(assign) {
        if let Some(d) = devices.get_mut(g as usize) {
            d.facts.push(f);
        }
    }
    devices
}

/// One device's facts before classification.
struct Group<'a> {
    key: String,
    mac: Option<MacAddr>,
    /// Distinct host IPs of a router's MAC (when `mac` is a router's).
    router_ips: Option<usize>,
    /// In input order.
    facts: Vec<&'a Fact>,
    /// Unsorted, with repeats.
    ips: Vec<IpAddr>,
}

/// Which device a fact belongs to, before devices have their text keys.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum GroupId {
    Mac(MacAddr),
    Ip(IpAddr),
}

type Map<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;

/// Groups facts into devices: the groups sorted by key, and per fact the
/// index of its group (`u32::MAX`: none, e.g. a remote host seen only as an IP).
fn group(facts: &[Fact]) -> (Vec<Group<'_>>, Vec<u32>) {
    // 1. Which host IPs each MAC used on the wire: (MAC, IP) pairs, sorted
    //    and distinct (facts come grouped by endpoint, so most repeats are
    //    consecutive and never pushed).
    let mut pairs: Vec<(MacAddr, IpAddr)> = Vec::new();
    for f in facts {
        if let (Some(m), Some(ip)) = (f.endpoint.mac, f.endpoint.ip) {
            if pairs.last() != Some(&(m, ip)) && is_host(&ip) {
                pairs.push((m, ip));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut routers: Map<MacAddr, usize> = Map::default();
    for run in pairs.chunk_by(|a, b| a.0 == b.0) {
        if run.len() > ROUTER_MAC_IPS {
            routers.insert(run[0].0, run.len());
        }
    }
    // 2. IP-only endpoints that have a MAC elsewhere belong to that MAC (the
    //    lowest non-router MAC that used the IP).
    let mut ip_owner: Map<IpAddr, MacAddr> = Map::default();
    for (m, ip) in &pairs {
        if !routers.contains_key(m) {
            ip_owner.entry(*ip).or_insert(*m);
        }
    }
    let group_of = |ep: &EndpointKey| -> Option<GroupId> {
        match (ep.mac, ep.ip) {
            (Some(m), Some(ip)) if routers.contains_key(&m) => {
                is_device_ip(ip).then_some(GroupId::Ip(ip))
            }
            (Some(m), _) => Some(GroupId::Mac(m)),
            (None, Some(ip)) => match ip_owner.get(&ip) {
                Some(m) => Some(GroupId::Mac(*m)),
                None => is_device_ip(ip).then_some(GroupId::Ip(ip)),
            },
            (None, None) => None,
        }
    };
    // 3. Group, in order of first appearance, then sort by key.
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut index: Map<GroupId, u32> = Map::default();
    let mut assign: Vec<u32> = Vec::with_capacity(facts.len());
    let mut last: Option<(EndpointKey, u32)> = None;
    for f in facts {
        let g = match last {
            Some((ep, g)) if ep == f.endpoint => g,
            _ => {
                let g = match group_of(&f.endpoint) {
                    None => u32::MAX,
                    Some(id) => *index.entry(id).or_insert_with(|| {
                        let (key, mac) = match id {
                            GroupId::Mac(m) => (format!("mac:{}", &*m.text()), Some(m)),
                            GroupId::Ip(ip) => {
                                let mut k = String::with_capacity(20);
                                k.push_str("ip:");
                                model::addr::push_ip(&mut k, &ip);
                                (k, None)
                            }
                        };
                        let router_ips = mac.and_then(|m| routers.get(&m).copied());
                        groups.push(Group {
                            key,
                            mac,
                            router_ips,
                            facts: Vec::new(),
                            ips: Vec::new(),
                        });
                        (groups.len() - 1) as u32
                    }),
                };
                last = Some((f.endpoint, g));
                g
            }
        };
        assign.push(g);
        let Some(grp) = groups.get_mut(g as usize) else {
            continue;
        };
        if let Some(ip) = f.endpoint.ip.filter(is_host) {
            // Facts of a router's MAC with an IP went to that IP's device.
            if grp.router_ips.is_none() {
                grp.ips.push(ip);
            }
        }
        if f.kind == FactKind::Ip {
            if let Ok(ip) = f.value.parse::<IpAddr>() {
                grp.ips.push(ip);
            }
        }
        grp.facts.push(f);
    }
    let mut order: Vec<u32> = (0..groups.len() as u32).collect();
    order.sort_unstable_by(|a, b| groups[*a as usize].key.cmp(&groups[*b as usize].key));
    let mut rank = vec![0u32; groups.len()];
    for (r, g) in order.iter().enumerate() {
        rank[*g as usize] = r as u32;
    }
    for g in &mut assign {
        if let Some(r) = rank.get(*g as usize) {
            *g = *r;
        }
    }
    let mut slots: Vec<Option<Group<'_>>> = groups.into_iter().map(Some).collect();
    let sorted = order
        .iter()
        .filter_map(|g| slots.get_mut(*g as usize).and_then(Option::take))
        .collect();
    (sorted, assign)
}

/// A group's device, classified, without its facts.
fn summarise(g: &Group<'_>) -> Device {
    let facts = &g.facts;
    // A BLE random address's bits are no IEEE prefix (see `ble`).
    let vendor = if crate::ble::random_address(facts) {
        crate::ble::vendor(facts)
    } else {
        g.mac
            .as_ref()
            .and_then(crate::oui::vendor)
            .or_else(|| crate::ble::vendor(facts))
    };
    let (mut category, confidence, mut reasons) = classify(facts, vendor.as_deref());
    if let Some(n) = g.router_ips {
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
    let confidence = if category == Category::NetworkGear
        && reasons
            .first()
            .is_some_and(|r| r.why.starts_with("forwards"))
    {
        confidence.max(0.7)
    } else {
        confidence
    };
    let distinct = |k: FactKind| -> Vec<&str> {
        let mut v: Vec<&str> = facts
            .iter()
            .filter(|f| f.kind == k)
            .map(|f| f.value.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let values =
        |k: FactKind| -> Vec<String> { distinct(k).into_iter().map(str::to_string).collect() };
    let mut applications = values(FactKind::Application);
    applications.extend(
        distinct(FactKind::Hl7Application)
            .into_iter()
            .map(|a| format!("hl7 {a}")),
    );
    let first_seen = facts.iter().map(|f| f.first_seen).min().unwrap_or_default();
    let last_seen = facts.iter().map(|f| f.last_seen).max().unwrap_or_default();
    let mut ips = g.ips.clone();
    ips.sort_unstable();
    ips.dedup();
    Device {
        key: g.key.clone(),
        mac: g.mac,
        vendor,
        ips,
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
        peer_count: distinct(FactKind::Peer).len(),
        first_seen,
        last_seen,
        facts: Vec::new(),
    }
}

/// Whether an IP without a (usable) MAC is a device of its own: only local
/// (private, link-local, loopback, CGNAT, ULA) host addresses are; a public
/// address seen without a MAC is a remote server, not part of the inventory.
fn is_device_ip(ip: IpAddr) -> bool {
    is_host(&ip) && is_local(&ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Observer;
    use model::records::{ConnRecord, Hl7Record};
    use model::{Direction, Endpoint, Event, FlowInfo, Record, Transport};
    use std::collections::{BTreeMap, BTreeSet};
    use std::net::Ipv4Addr;

    /// The grouping as it was first written (BTreeMaps keyed by text), the
    /// oracle for the faster one.
    #[allow(clippy::type_complexity)]
    fn build_inventory_reference(facts: &[Fact]) -> Vec<Device> {
        // 1. Which IPs each MAC used on the wire.
        let mut mac_ips: BTreeMap<MacAddr, BTreeSet<IpAddr>> = BTreeMap::new();
        for f in facts {
            if let (Some(m), Some(ip)) = (f.endpoint.mac, f.endpoint.ip) {
                if is_host(&ip) {
                    mac_ips.entry(m).or_default().insert(ip);
                }
            }
        }
        let routers: BTreeSet<MacAddr> = mac_ips
            .iter()
            .filter(|(_, ips)| ips.len() > ROUTER_MAC_IPS)
            .map(|(m, _)| *m)
            .collect();
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
                (Some(m), Some(ip)) if routers.contains(&m) => {
                    ip_key_reference(ip).map(|k| (k, None))
                }
                (Some(m), _) => Some((format!("mac:{m}"), Some(m))),
                (None, Some(ip)) => match ip_owner.get(&ip) {
                    Some(m) => Some((format!("mac:{m}"), Some(*m))),
                    None => ip_key_reference(ip).map(|k| (k, None)),
                },
                (None, None) => None,
            }
        };
        // 3. Group.
        let mut groups: BTreeMap<String, (Option<MacAddr>, Vec<&Fact>, BTreeSet<IpAddr>)> =
            BTreeMap::new();
        for f in facts {
            let Some((key, mac)) = device_key(&f.endpoint) else {
                continue;
            };
            let g = groups
                .entry(key)
                .or_insert_with(|| (mac, Vec::new(), BTreeSet::new()));
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
                let confidence = if category == Category::NetworkGear
                    && reasons
                        .first()
                        .is_some_and(|r| r.why.starts_with("forwards"))
                {
                    confidence.max(0.7)
                } else {
                    confidence
                };
                let values = |k: FactKind| -> Vec<String> {
                    let set: BTreeSet<&str> = facts
                        .iter()
                        .filter(|f| f.kind == k)
                        .map(|f| f.value.as_str())
                        .collect();
                    set.into_iter().map(str::to_string).collect()
                };
                let mut applications = values(FactKind::Application);
                applications.extend(
                    values(FactKind::Hl7Application)
                        .into_iter()
                        .map(|a| format!("hl7 {a}")),
                );
                let first_seen = facts.iter().map(|f| f.first_seen).min().unwrap_or_default();
                let last_seen = facts.iter().map(|f| f.last_seen).max().unwrap_or_default();
                let peer_count = facts
                    .iter()
                    .filter(|f| f.kind == FactKind::Peer)
                    .map(|f| f.value.as_str())
                    .collect::<BTreeSet<_>>()
                    .len();
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

    fn ip_key_reference(ip: IpAddr) -> Option<String> {
        (is_host(&ip) && is_local(&ip)).then(|| format!("ip:{ip}"))
    }

    fn flow(id: u64, c: [u8; 4], cmac: u8, s: [u8; 4], smac: u8, port: u16) -> FlowInfo {
        FlowInfo {
            id,
            transport: Transport::Tcp,
            client: Endpoint {
                ip: IpAddr::V4(Ipv4Addr::from(c)),
                port: 40000,
                mac: Some(MacAddr([0, 0x09, 0xfb, 0, 0, cmac])),
            },
            server: Endpoint {
                ip: IpAddr::V4(Ipv4Addr::from(s)),
                port,
                mac: Some(MacAddr([0, 0x1b, 0x21, 0, 0, smac])),
            },
            vlan: None,
        }
    }

    /// Facts over a small space of MACs (one a router's), IPs (local, public,
    /// IPv6, broadcast), kinds and values, in a scrambled order.
    fn assorted_facts(n: u32) -> Vec<Fact> {
        let mut x: u32 = 0x9e37_79b9;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let ips = [
            "10.0.0.1",
            "10.0.0.2",
            "10.0.0.10",
            "10.0.0.255",
            "192.168.1.9",
            "8.8.8.8",
            "fe80::1",
            "2001:db8::5",
            "224.0.0.1",
            "10.0.0.9",
        ];
        let kinds = [
            FactKind::Ip,
            FactKind::Hostname,
            FactKind::Peer,
            FactKind::Software,
            FactKind::Role,
            FactKind::Application,
            FactKind::Hl7Application,
            FactKind::ServiceOffered,
            FactKind::Model,
            FactKind::Capability,
        ];
        let values = [
            "10.0.0.2",
            "pump-1",
            "LaserJet",
            "router",
            "hl7-sender",
            "dicom-scu",
            "x",
            "10.0.0.77",
            "monitor",
        ];
        (0..n)
            .map(|i| {
                let r = next();
                let mac = match r % 5 {
                    0 => None,
                    1 => Some(MacAddr([0, 0x09, 0xfb, 0, 0, 1])),
                    2 => Some(MacAddr([0, 0x1b, 0x21, 0, 0, (r >> 8) as u8 % 3])),
                    _ => Some(MacAddr([0xaa, 0, 0, 0, 0, 0x63])),
                };
                // The last MAC routes: it is seen with every IP.
                let ip = match (mac, r >> 4 & 7) {
                    (_, 0) => None,
                    (Some(MacAddr([0xaa, ..])), _) => {
                        Some(IpAddr::V4(Ipv4Addr::new(10, 1, 0, (r >> 12) as u8 % 20)))
                    }
                    _ => ips[(r >> 16) as usize % ips.len()].parse().ok(),
                };
                let mut f = Fact {
                    endpoint: EndpointKey { mac, ip },
                    kind: kinds[(r >> 20) as usize % kinds.len()],
                    value: values[(r >> 24) as usize % values.len()].into(),
                    source: "test".into(),
                    first_seen: Timestamp(i64::from(r % 1000)),
                    last_seen: Timestamp(i64::from(r % 1000 + i)),
                    count: 1,
                    evidence: format!("flow {i}"),
                };
                if f.endpoint.mac.is_none() && f.endpoint.ip.is_none() {
                    f.endpoint.ip = "10.0.0.1".parse().ok();
                }
                f
            })
            .collect()
    }

    #[test]
    fn grouping_matches_reference() {
        for n in [0, 1, 5, 40, 300, 2000] {
            let mut facts = assorted_facts(n);
            assert_eq!(
                build_inventory(&facts),
                build_inventory_reference(&facts),
                "{n} facts"
            );
            assert_eq!(
                build_inventory_owned(facts.clone()),
                build_inventory_reference(&facts),
                "{n} facts, owned"
            );
            // As the observer and the store hand them out: sorted by endpoint.
            facts.sort_by(|a, b| {
                (a.endpoint, a.kind, &a.value).cmp(&(b.endpoint, b.kind, &b.value))
            });
            assert_eq!(
                build_inventory(&facts),
                build_inventory_reference(&facts),
                "{n} sorted facts"
            );
        }
        let facts = assorted_facts(2000);
        assert!(
            build_inventory(&facts).iter().any(|d| d
                .reasons
                .first()
                .is_some_and(|r| r.why.starts_with("forwards"))),
            "a router is found"
        );
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
            record: Record::Conn(ConnRecord {
                established: true,
                service: vec!["hl7".into()],
                ..Default::default()
            }),
        });
        let inv = build_inventory(&o.into_facts());
        assert_eq!(inv.len(), 2);
        let monitor = &inv[0];
        assert_eq!(monitor.key, "mac:00:09:fb:00:00:01");
        assert_eq!(monitor.category, Category::PatientMonitor);
        assert!(monitor.reasons[0]
            .evidence
            .contains("10.0.0.5:40000 -> 10.0.0.9:2575/tcp"));
        assert_eq!(inv[1].category, Category::Hl7InterfaceEngine);
        assert_eq!(inv[1].services_offered, vec!["hl7/tcp/2575"]);
    }

    #[test]
    fn router_mac_splits_into_ip_devices() {
        let mut o = Observer::default();
        for i in 0..20u8 {
            let f = flow(i as u64, [10, 0, 1, i], 99, [10, 0, 0, 9], 2, 443);
            o.observe(&Event {
                ts: Timestamp(1),
                flow: Some(f),
                record: Record::Conn(ConnRecord {
                    established: true,
                    ..Default::default()
                }),
            });
        }
        let inv = build_inventory(&o.into_facts());
        assert!(inv.iter().any(|d| d.key == "ip:10.0.1.7"));
        assert!(!inv.iter().any(|d| d.key == "mac:00:09:fb:00:00:63"));
    }
}
