//! Facts grouped into devices: one per MAC, or per IP where no usable MAC is seen.

use crate::classify::{combine, rules, Category, Reason};
use crate::facts::{EndpointKey, Fact, FactKind};
use crate::identity::{self, Identity};
use knowledge::Knowledge;
use model::addr::{is_host, is_local, is_public};
use model::{MacAddr, Timestamp};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A MAC seen with more distinct local IPv4 addresses than this routes
/// between local networks; the IPs behind it become devices of their own.
/// (IPv6 addresses do not count: one host holds many — link-local, stable,
/// rotating privacy addresses.)
const ROUTER_MAC_IPS: usize = 8;

/// A MAC seen with global IPv6 addresses in more distinct /64 networks than
/// this forwards IPv6 traffic (one host's own addresses share a prefix or two).
const FORWARDER_V6_PREFIXES: usize = 2;

/// One device of the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Stable identity: `mac:aa:bb:..` or `ip:10.1.2.3`.
    pub key: String,
    /// Its MAC address, when known.
    pub mac: Option<MacAddr>,
    /// Vendor (brand): stated by the device, named by a model code, its MAC
    /// prefix's maker unless that is a chip maker, or the vendor whose device
    /// service it uses (`identity.conclusions` says which).
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
    /// Model, firmware, OS, device type, apps, and every identity
    /// conclusion with its evidence and knowledge entry.
    #[serde(default)]
    pub identity: Identity,
    /// Every fact behind this device.
    pub facts: Vec<Fact>,
}

/// Groups facts into devices and classifies them. Deterministic: devices are
/// sorted by key.
pub fn build_inventory(facts: &[Fact]) -> Vec<Device> {
    build_inventory_with(facts, knowledge::global())
}

/// [`build_inventory`] with the given knowledge.
pub fn build_inventory_with(facts: &[Fact], k: &Knowledge) -> Vec<Device> {
    let (groups, _) = group(facts, k);
    let mut devices: Vec<Device> = groups
        .iter()
        .map(|g| {
            let mut d = summarise(g, k);
            d.facts = g.facts.iter().map(|f| (*f).clone()).collect();
            d
        })
        .collect();
    companions(&mut devices, k);
    devices
}

/// [`build_inventory`] over facts the caller no longer needs: each device
/// takes its facts instead of copies. Same devices, same order.
pub fn build_inventory_owned(facts: Vec<Fact>) -> Vec<Device> {
    let mut devices = inventory_parts(facts);
    apply_companions(&mut devices);
    devices
}

/// [`build_inventory_owned`] before its last step ([`apply_companions`]):
/// every device grouped and classified from its own facts only. A store that
/// rebuilds part of an inventory builds the affected devices (and those they
/// may lean on) with this, then applies the companion step over them.
pub fn inventory_parts(facts: Vec<Fact>) -> Vec<Device> {
    let k = knowledge::global();
    let (mut devices, assign) = {
        let (groups, assign) = group(&facts, k);
        let devices: Vec<Device> = groups
            .iter()
            .map(|g| {
                let mut d = summarise(g, k);
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

/// The last step of [`build_inventory`] over devices from
/// [`inventory_parts`] (sorted by key): an uncategorised device whose only
/// local peer runs a device vendor's app becomes that app's device. A
/// device's outcome depends on its own facts and on the devices (as
/// [`inventory_parts`] left them) holding its peers' addresses.
pub fn apply_companions(devices: &mut [Device]) {
    companions(devices, knowledge::global());
}

/// Devices with no category of their own whose only local peer is a phone or
/// computer running a vendor's app that serves a kind of device (an ear
/// camera that only the phone's otoscope app talks to): they are that app's
/// device, at a modest confidence, citing the app's knowledge entry.
fn companions(devices: &mut [Device], k: &Knowledge) {
    let mut by_ip: Map<IpAddr, usize> = Map::default();
    for (i, d) in devices.iter().enumerate() {
        for ip in &d.ips {
            by_ip.entry(*ip).or_insert(i);
        }
    }
    let mut found: Vec<(usize, Reason, String)> = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        if d.category != Category::Unknown {
            continue;
        }
        let mut peer: Option<(usize, &Fact)> = None;
        let mut alone = true;
        for f in d.facts.iter().filter(|f| f.kind == FactKind::Peer) {
            let Ok(ip) = f.value.parse::<IpAddr>() else {
                continue;
            };
            let Some(&j) = by_ip.get(&ip) else { continue };
            match peer {
                None => peer = Some((j, f)),
                Some((p, _)) if p == j => {}
                Some(_) => alone = false,
            }
        }
        let (Some((j, f)), true) = (peer, alone) else {
            continue;
        };
        let Some(p) = devices.get(j).filter(|p| {
            j != i && matches!(p.category, Category::MobileDevice | Category::Workstation)
        }) else {
            continue;
        };
        // The app that names a device type, medical ones first.
        let mut apps: Vec<&crate::identity::AppUse> = p.identity.apps.iter().collect();
        apps.sort_by_key(|a| !a.medical);
        let Some((app, row)) = apps.iter().find_map(|a| {
            let row = k.entry(&a.knowledge)?;
            row.get("device_type")?;
            Some((*a, row))
        }) else {
            continue;
        };
        let (Some(cat), Some(t)) = (
            row.get("category").and_then(identity::category_of),
            row.get("device_type"),
        ) else {
            continue;
        };
        found.push((
            i,
            Reason {
                category: cat,
                weight: 0.45,
                why: format!(
                    "talks only to {} ({}), which runs {} {} — the app of a {t}",
                    p.key,
                    p.category.label(),
                    app.vendor,
                    app.app
                ),
                evidence: f.evidence.clone(),
                knowledge: Some(row.id()),
            },
            t.to_string(),
        ));
    }
    for (i, r, t) in found {
        let Some(d) = devices.get_mut(i) else {
            continue;
        };
        d.category = r.category;
        d.confidence = r.weight;
        d.identity.device_type = Some(t.clone());
        d.identity.conclusions.push(identity::Conclusion {
            field: "device_type".into(),
            value: t,
            why: r.why.clone(),
            seen: d.first_seen,
            evidence: r.evidence.clone(),
            knowledge: r.knowledge.clone(),
        });
        d.reasons.insert(0, r);
    }
}

/// One device's facts before classification.
struct Group<'a> {
    key: String,
    mac: Option<MacAddr>,
    /// Distinct host IPs of a router's MAC (when `mac` is a router's).
    router_ips: Option<usize>,
    /// Internet addresses whose traffic this MAC carried (it is their next hop):
    /// how many, and the earliest such fact's sighting and evidence (the
    /// earliest, not the first read: the same whatever order the facts come
    /// in, from a run or read back from a store).
    forwarded: Option<(usize, Timestamp, String)>,
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
/// index of its group (`u32::MAX`: none, e.g. a remote host seen only as an
/// IP, or a capture tool's virtual DNS resolver seen without a MAC).
fn group<'a>(facts: &'a [Fact], k: &Knowledge) -> (Vec<Group<'a>>, Vec<u32>) {
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
    let mut forwarders: Map<MacAddr, usize> = Map::default();
    for run in pairs.chunk_by(|a, b| a.0 == b.0) {
        let local_v4 = run
            .iter()
            .filter(|(_, ip)| ip.is_ipv4() && is_local(ip))
            .count();
        if local_v4 > ROUTER_MAC_IPS {
            routers.insert(run[0].0, local_v4);
        }
        let public_v4 = run
            .iter()
            .filter(|(_, ip)| ip.is_ipv4() && is_public(ip))
            .count();
        let mut v6_nets: Vec<u64> = run
            .iter()
            .filter_map(|(_, ip)| match ip {
                IpAddr::V6(v6) if is_public(ip) => Some((v6.to_bits() >> 64) as u64),
                _ => None,
            })
            .collect();
        v6_nets.sort_unstable();
        v6_nets.dedup();
        let public_v6 = run
            .iter()
            .filter(|(_, ip)| ip.is_ipv6() && is_public(ip))
            .count();
        if public_v4 > 0 || v6_nets.len() > FORWARDER_V6_PREFIXES {
            let n = public_v4
                + if v6_nets.len() > FORWARDER_V6_PREFIXES {
                    public_v6
                } else {
                    0
                };
            forwarders.insert(run[0].0, n);
        }
    }
    // 2. IP-only endpoints that have a MAC elsewhere belong to that MAC (the
    //    lowest non-router MAC that used the IP).
    let mut ip_owner: Map<IpAddr, MacAddr> = Map::default();
    for (m, ip) in &pairs {
        if !routers.contains_key(m) && is_local(ip) {
            ip_owner.entry(*ip).or_insert(*m);
        }
    }
    // A MAC's fact about a public address describes the internet host behind
    // it (a router's MAC carries every server's certificates and banners):
    // never the local device's own. Such facts only count the forwarding.
    let forwarded_of = |ep: &EndpointKey| -> bool {
        match (ep.mac, ep.ip) {
            (Some(m), Some(ip)) if is_public(&ip) => ip.is_ipv4() || forwarders.contains_key(&m),
            _ => false,
        }
    };
    let group_of = |ep: &EndpointKey| -> Option<GroupId> {
        match (ep.mac, ep.ip) {
            (Some(m), _) if forwarded_of(ep) => Some(GroupId::Mac(m)),
            (Some(m), Some(ip)) if routers.contains_key(&m) => {
                is_device_ip(ip).then_some(GroupId::Ip(ip))
            }
            (Some(m), _) => Some(GroupId::Mac(m)),
            (None, Some(ip)) => match ip_owner.get(&ip) {
                Some(m) => Some(GroupId::Mac(*m)),
                None => (is_device_ip(ip) && !virtual_resolver(k, &ip)).then_some(GroupId::Ip(ip)),
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
                            forwarded: None,
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
        let Some(grp) = groups.get_mut(g as usize) else {
            assign.push(g);
            continue;
        };
        if forwarded_of(&f.endpoint) {
            // Counted for the gateway, not part of the device.
            match &mut grp.forwarded {
                None => {
                    let n = f.endpoint.mac.and_then(|m| forwarders.get(&m).copied());
                    grp.forwarded = Some((n.unwrap_or(1), f.first_seen, f.evidence.clone()));
                }
                Some((_, seen, evidence)) if (f.first_seen, &f.evidence) < (*seen, &*evidence) => {
                    *seen = f.first_seen;
                    evidence.clone_from(&f.evidence);
                }
                Some(_) => {}
            }
            assign.push(u32::MAX);
            continue;
        }
        assign.push(g);
        if let Some(ip) = f.endpoint.ip.filter(|ip| is_host(ip) && is_local(ip)) {
            // Facts of a router's MAC with an IP went to that IP's device.
            if grp.router_ips.is_none() {
                grp.ips.push(ip);
            }
        }
        if f.kind == FactKind::Ip {
            if let Ok(ip) = f.value.parse::<IpAddr>() {
                if is_local(&ip) {
                    grp.ips.push(ip);
                }
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
fn summarise(g: &Group<'_>, k: &Knowledge) -> Device {
    let facts = &g.facts;
    // A BLE random address's bits are no IEEE prefix (see `ble`).
    let oui = if crate::ble::random_address(facts) {
        None
    } else {
        g.mac.as_ref().and_then(crate::oui::vendor)
    };
    let mut reasons = rules(facts);
    let (extra, mut ident, brand) = identity::identify(facts, oui.as_deref(), k);
    reasons.extend(extra);
    if let Some(n) = g.router_ips {
        reasons.push(Reason {
            category: Category::NetworkGear,
            weight: 0.7,
            why: format!("forwards traffic for {n} local IPv4 addresses (router or NAT)"),
            evidence: "MAC/IP pairs seen in flows".into(),
            knowledge: None,
        });
    }
    if let Some((n, _, ev)) = &g.forwarded {
        reasons.push(Reason {
            category: Category::NetworkGear,
            weight: 0.7,
            why: format!("gateway: forwards traffic for {n} internet addresses"),
            evidence: ev.clone(),
            knowledge: None,
        });
    }
    let (category, confidence, reasons) = combine(reasons);
    if let Some((t, entry)) = identity::device_type(&ident, category, &reasons, k) {
        ident.conclusions.push(identity::Conclusion {
            field: "device_type".into(),
            value: t.clone(),
            why: format!("what the strongest {} reason names", category.label()),
            seen: Timestamp::default(),
            evidence: reasons
                .first()
                .map(|r| r.evidence.clone())
                .unwrap_or_default(),
            knowledge: entry,
        });
        ident.device_type = Some(t);
    }
    let vendor = brand;
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
        identity: ident,
        facts: Vec::new(),
    }
}

/// A capture tool's own DNS proxy address (PCAPdroid's 10.215.173.2): it
/// answers the capturing device's queries from inside the tool, so it is not
/// a device (only checked for addresses seen without a MAC).
fn virtual_resolver(k: &Knowledge, ip: &IpAddr) -> bool {
    k.capture_address(ip)
        .is_some_and(|r| r.get("role") == Some("virtual-resolver"))
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
    use std::net::Ipv4Addr;

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
    fn astm_instrument_is_a_lab_analyzer_with_its_stated_identity() {
        let mut o = Observer::default();
        let f = flow(1, [10, 0, 0, 5], 1, [10, 0, 0, 9], 2, 15200);
        o.observe(&Event {
            ts: Timestamp(7),
            flow: Some(f),
            record: Record::Astm(model::records::AstmRecord {
                direction: Some(Direction::ToServer),
                sender_name: Some("Cobalyzer 9000".into()),
                sender_version: Some("4.2.1".into()),
                sender_serial: Some("SN-88123".into()),
                receiver_id: Some("LIS-HOST".into()),
                counts: model::records::AstmCounts {
                    header: 1,
                    patient: 1,
                    result: 2,
                    terminator: 1,
                    ..Default::default()
                },
                carries_phi: true,
                ..Default::default()
            }),
        });
        let inv = build_inventory(&o.into_facts());
        assert_eq!(inv.len(), 2);
        let analyzer = &inv[0];
        assert_eq!(analyzer.category, Category::LabAnalyzer);
        assert!(analyzer.reasons[0]
            .evidence
            .contains("10.0.0.5:40000 -> 10.0.0.9:15200/tcp"));
        assert_eq!(analyzer.identity.model.as_deref(), Some("Cobalyzer 9000"));
        assert_eq!(analyzer.identity.firmware.as_deref(), Some("4.2.1"));
        assert!(analyzer
            .applications
            .contains(&"astm sender=Cobalyzer 9000 version=4.2.1 serial=SN-88123".to_string()));
        assert!(analyzer
            .facts
            .iter()
            .any(|f| f.kind == FactKind::Serial && f.value == "SN-88123"));
        let lis = &inv[1];
        assert_eq!(lis.category, Category::ClinicalInformationSystem);
        assert!(lis
            .applications
            .contains(&"astm receiver=LIS-HOST".to_string()));
        for d in &inv {
            assert!(d
                .facts
                .iter()
                .any(|f| f.kind == FactKind::CleartextPhi && f.value == "astm"));
        }
    }

    #[test]
    fn poct_device_is_identified_from_its_hello() {
        let mut o = Observer::default();
        let f = flow(1, [10, 0, 0, 5], 1, [10, 0, 0, 9], 2, 15300);
        let msg = |t: &str, dir, device, patient| Event {
            ts: Timestamp(7),
            flow: Some(f),
            record: Record::Poct1a(model::records::PoctRecord {
                direction: Some(dir),
                message_type: t.into(),
                device,
                counts: model::records::PoctCounts {
                    patient,
                    observation: patient,
                    ..Default::default()
                },
                carries_phi: patient > 0,
                ..Default::default()
            }),
        };
        let dev = model::records::PoctDevice {
            vendor_id: Some("ACMEPOC".into()),
            manufacturer_name: Some("Acme Point of Care".into()),
            model_id: Some("GlucoStat 300".into()),
            serial_id: Some("GS3-0042".into()),
            sw_version: Some("4.12.7".into()),
            ..Default::default()
        };
        o.observe(&msg("ACK.R01", Direction::ToClient, None, 0));
        o.observe(&msg("HEL.R01", Direction::ToServer, Some(dev), 0));
        o.observe(&msg("OBS.R01", Direction::ToServer, None, 1));
        let inv = build_inventory(&o.into_facts());
        assert_eq!(inv.len(), 2);
        let meter = &inv[0];
        assert_eq!(meter.category, Category::LabAnalyzer);
        assert_eq!(meter.identity.model.as_deref(), Some("GlucoStat 300"));
        assert_eq!(meter.identity.firmware.as_deref(), Some("4.12.7"));
        assert!(meter.facts.iter().any(|f| f.kind == FactKind::Manufacturer
            && f.value == "Acme Point of Care"
            && f.evidence.contains("10.0.0.5:40000 -> 10.0.0.9:15300/tcp")));
        assert!(meter
            .facts
            .iter()
            .any(|f| f.kind == FactKind::Serial && f.value == "GS3-0042"));
        let manager = &inv[1];
        assert_eq!(manager.category, Category::ClinicalInformationSystem);
        assert!(manager
            .facts
            .iter()
            .any(|f| f.kind == FactKind::Role && f.value == "poct-data-manager"));
        for d in &inv {
            assert!(d
                .facts
                .iter()
                .any(|f| f.kind == FactKind::CleartextPhi && f.value == "poct1a"));
        }
    }

    #[test]
    fn modbus_identity_and_open_vnc_carry_their_evidence() {
        let mut o = Observer::default();
        o.observe(&Event {
            ts: Timestamp(7),
            flow: Some(flow(1, [10, 0, 0, 5], 1, [10, 0, 0, 9], 2, 502)),
            record: Record::Modbus(model::records::ModbusRecord {
                requests: 1,
                responses: 1,
                device_id: Some(model::records::ModbusDeviceId {
                    vendor_name: Some("Acme Building Controls".into()),
                    product_code: Some("ABC-200".into()),
                    model_name: Some("AHU-200".into()),
                    revision: Some("4.7.2".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        });
        o.observe(&Event {
            ts: Timestamp(9),
            flow: Some(flow(2, [10, 0, 0, 6], 3, [10, 0, 0, 9], 2, 5900)),
            record: Record::Vnc(model::records::VncRecord {
                server_version: Some("003.008".into()),
                security_types: vec![1],
                security_type: Some(1),
                width: Some(800),
                height: Some(480),
                desktop_name: Some("AHU panel".into()),
                no_auth: true,
                ..Default::default()
            }),
        });
        let inv = build_inventory(&o.into_facts());
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        let plc = inv
            .iter()
            .find(|d| d.ips.contains(&ip))
            .expect("the server");
        assert_eq!(plc.category, Category::IotDevice);
        assert_eq!(plc.identity.model.as_deref(), Some("AHU-200"));
        assert_eq!(plc.identity.firmware.as_deref(), Some("4.7.2"));
        assert!(plc.reasons[0]
            .evidence
            .contains("10.0.0.5:40000 -> 10.0.0.9:502/tcp"));
        let open = plc
            .facts
            .iter()
            .find(|f| f.kind == FactKind::Role && f.value == "vnc-no-auth")
            .expect("the vnc-no-auth fact");
        assert!(open
            .evidence
            .contains("10.0.0.6:40000 -> 10.0.0.9:5900/tcp"));
        assert!(plc
            .applications
            .contains(&"vnc rfb=003.008 security=1 800x480 desktop=AHU panel".to_string()));
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

    /// The gateway reason cites the earliest sighting of the traffic it
    /// forwarded, whatever order the facts come in: a run's order and a
    /// store's (text) order make the same device.
    #[test]
    fn a_gateways_evidence_does_not_depend_on_the_order_of_facts() {
        let gw = Some(MacAddr([0, 0x1b, 0x21, 0, 0, 1]));
        let fact = |ip: [u8; 4], t: i64| Fact {
            endpoint: EndpointKey {
                mac: gw,
                ip: Some(IpAddr::V4(Ipv4Addr::from(ip))),
            },
            kind: FactKind::ServiceOffered,
            value: "https/tcp/443".into(),
            source: "tls".into(),
            first_seen: Timestamp(t),
            last_seen: Timestamp(t + 5),
            count: 1,
            evidence: format!("flow {t}"),
        };
        let facts = vec![
            fact([8, 8, 4, 4], 30),
            fact([93, 184, 216, 34], 10),
            fact([140, 82, 112, 3], 20),
        ];
        let mut reversed = facts.clone();
        reversed.reverse();
        let a = build_inventory(&facts);
        let b = build_inventory(&reversed);
        assert_eq!(a, b);
        let why: Vec<(&str, &str)> = a[0]
            .reasons
            .iter()
            .map(|r| (r.why.as_str(), r.evidence.as_str()))
            .filter(|(w, _)| w.starts_with("gateway"))
            .collect();
        assert_eq!(
            why,
            [(
                "gateway: forwards traffic for 3 internet addresses",
                "flow 10"
            )]
        );
    }

    /// A tunnel capture (no MACs) as a phone's capture app records it: DNS
    /// queries to the tool's virtual resolver, which answers them.
    fn tunnel_dns(o: &mut Observer, id: u64, client: [u8; 4], resolver: [u8; 4], q: &str) {
        let f = FlowInfo {
            id,
            transport: Transport::Udp,
            client: Endpoint {
                ip: IpAddr::V4(Ipv4Addr::from(client)),
                port: 40000 + id as u16,
                mac: None,
            },
            server: Endpoint {
                ip: IpAddr::V4(Ipv4Addr::from(resolver)),
                port: 53,
                mac: None,
            },
            vlan: None,
        };
        for is_response in [false, true] {
            o.observe(&Event {
                ts: Timestamp(id as i64),
                flow: Some(f),
                record: Record::Dns(model::records::DnsRecord {
                    flavor: "dns".into(),
                    is_response,
                    query: Some(q.into()),
                    ..Default::default()
                }),
            });
        }
    }

    #[test]
    fn a_vendor_app_makes_the_phone_run_it_not_be_the_device() {
        // The capture tool's address: its resolver is not a device, the
        // capturing device is a phone running the vendor's app.
        let mut o = Observer::default();
        tunnel_dns(
            &mut o,
            1,
            [10, 215, 173, 1],
            [10, 215, 173, 2],
            "us-kardia-production.alivecor.com",
        );
        let inv = build_inventory(&o.into_facts());
        assert_eq!(
            inv.len(),
            1,
            "{:?}",
            inv.iter().map(|d| &d.key).collect::<Vec<_>>()
        );
        let phone = &inv[0];
        assert_eq!(phone.key, "ip:10.215.173.1");
        assert_eq!(
            phone.category,
            Category::MobileDevice,
            "{:?}",
            phone.reasons
        );
        assert_eq!(phone.identity.os.as_deref(), Some("Android"));
        assert_eq!(phone.identity.apps[0].vendor, "AliveCor");

        // Elsewhere (another address, another resolver): an app SDK service
        // or a per-platform API host says the client runs apps.
        for sdk in ["sdk.iad-03.braze.com", "android-api.fitbit.com"] {
            let mut o = Observer::default();
            tunnel_dns(&mut o, 1, [10, 9, 0, 5], [10, 9, 0, 1], "api.wyzecam.com");
            tunnel_dns(&mut o, 2, [10, 9, 0, 5], [10, 9, 0, 1], sdk);
            let inv = build_inventory(&o.into_facts());
            let d = inv.iter().find(|d| d.key == "ip:10.9.0.5").unwrap();
            assert_eq!(d.category, Category::MobileDevice, "{sdk}: {:?}", d.reasons);
            assert!(!d.identity.apps.is_empty(), "{sdk}");
            // A real resolver on a LAN address is a device.
            assert!(inv.iter().any(|d| d.key == "ip:10.9.0.1"));
        }

        // Without either, the vendor's service names the vendor's device.
        let mut o = Observer::default();
        tunnel_dns(&mut o, 1, [10, 9, 0, 5], [10, 9, 0, 1], "api.wyzecam.com");
        let inv = build_inventory(&o.into_facts());
        let d = inv.iter().find(|d| d.key == "ip:10.9.0.5").unwrap();
        assert_eq!(d.category, Category::IotDevice);
        assert!(d.identity.apps.is_empty());
    }
}
