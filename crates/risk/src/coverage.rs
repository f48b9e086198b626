//! Data protection: where each clinical-data producer's data goes, when it
//! last went there, and what is missing (issue 16, backup coverage).
//!
//! [`coverage`] reads the inventory's `transfer` facts (see
//! [`identify::transfer`]: DICOM C-STORE, HL7 messages, SMB/NFS/rsync/NDMP and
//! backup-agent traffic), names each destination from the inventory, and
//! judges every device of a [`PRODUCERS`] category against a window of
//! `stale_days` ending at the latest packet time in the inventory — never the
//! wall clock, so the same captures give the same verdicts. Findings:
//! - [`FindingKind::NoRecentCopy`]: no copy of a producer's data left it in
//!   the window (the evidence is the copy last seen, or the rule and the
//!   reason the device is a producer);
//! - [`FindingKind::NoOnwardCopy`]: an archive (PACS) with no copy to another
//!   archive or a backup service in the window;
//! - [`FindingKind::CleartextBackup`]: a copy over a channel that sends data
//!   unencrypted (rsync daemon, NFS, NDMP) or over SMBv1.
//!
//! Declared plans (the CMMS backup method, destination and last verified
//! restore) sit beside the observed copies, so a plan only on paper and an
//! undeclared copy both show ([`PlanState`]).
//!
//! These findings are reported on their own: they do not change the risk
//! score (a missing backup does not make a device easier to attack).

use crate::finding::{Evidence, Finding, FindingKind, Severity};
use identify::transfer::{channel_named, Transfer, DICOM_STORE};
use identify::{Category, Device, FactKind};
use model::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Default window: data not seen leaving for this many days is flagged.
pub const DEFAULT_STALE_DAYS: u32 = 7;

/// Longest window accepted (ten years).
pub const MAX_STALE_DAYS: u32 = 3650;

const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// A category that produces clinical data, and what counts as its copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Producer {
    /// The category.
    pub category: Category,
    /// Plural noun for the fleet line (`imaging modalities`).
    pub plural: &'static str,
    /// What a covered device did (`sent studies to an archive`).
    pub phrase: &'static str,
    /// Channels that count (empty: any transfer).
    pub channels: &'static [&'static str],
    /// Only copies to an archive, a server or over a backup service count
    /// (a PACS storing to a reading workstation is not a copy of the archive).
    pub archive_only: bool,
    /// Severity of a missing copy.
    pub severity: Severity,
}

/// The producers, as data. General-purpose workstations are left out: their
/// traffic says nothing about where clinical data is kept.
pub const PRODUCERS: &[Producer] = &[
    Producer {
        category: Category::ImagingModality,
        plural: "imaging modalities",
        phrase: "sent studies to an archive (DICOM C-STORE)",
        channels: &[DICOM_STORE],
        archive_only: false,
        severity: Severity::Medium,
    },
    Producer {
        category: Category::Pacs,
        plural: "PACS",
        phrase: "copied studies onward (another archive or a backup service)",
        channels: &[],
        archive_only: true,
        severity: Severity::High,
    },
    Producer {
        category: Category::LabAnalyzer,
        plural: "lab analyzers",
        phrase: "sent results out",
        channels: &[],
        archive_only: false,
        severity: Severity::Medium,
    },
    Producer {
        category: Category::PatientMonitor,
        plural: "patient monitors",
        phrase: "sent observations out",
        channels: &[],
        archive_only: false,
        severity: Severity::Low,
    },
    Producer {
        category: Category::Hl7InterfaceEngine,
        plural: "HL7 interface engines",
        phrase: "forwarded messages or were backed up",
        channels: &[],
        archive_only: false,
        severity: Severity::Medium,
    },
    Producer {
        category: Category::ClinicalInformationSystem,
        plural: "clinical information systems",
        phrase: "sent data out or were backed up",
        channels: &[],
        archive_only: false,
        severity: Severity::High,
    },
    Producer {
        category: Category::ImagingWorkstation,
        plural: "imaging workstations",
        phrase: "sent data out",
        channels: &[],
        archive_only: false,
        severity: Severity::Low,
    },
];

/// The producer row of a category.
pub fn producer(category: Category) -> Option<&'static Producer> {
    PRODUCERS.iter().find(|p| p.category == category)
}

/// Options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoverageConfig {
    /// Window length in days ([`DEFAULT_STALE_DAYS`]).
    pub stale_days: u32,
}

impl Default for CoverageConfig {
    fn default() -> Self {
        CoverageConfig {
            stale_days: DEFAULT_STALE_DAYS,
        }
    }
}

/// A backup plan as the CMMS declares it (strings as imported: clean them
/// before showing).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredPlan {
    /// Backup method (`Veeam agent`, `DICOM to PACS`, `none`).
    pub method: String,
    /// Destination (host, share or system name).
    pub destination: String,
    /// Last verified restore (as written).
    pub last_restore: String,
}

impl DeclaredPlan {
    /// True when any field is filled in.
    pub fn is_declared(&self) -> bool {
        !(self.method.trim().is_empty()
            && self.destination.trim().is_empty()
            && self.last_restore.trim().is_empty())
    }
}

/// Declared plan against what traffic showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanState {
    /// Declared, and copies were seen in the window.
    DeclaredAndObserved,
    /// Declared, but no copy was seen in the window: a plan on paper.
    DeclaredNotObserved,
    /// Copies seen, no plan declared.
    ObservedNotDeclared,
    /// Neither.
    Neither,
}

impl PlanState {
    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            PlanState::DeclaredAndObserved => "declared and observed",
            PlanState::DeclaredNotObserved => "declared, not observed (plan on paper only)",
            PlanState::ObservedNotDeclared => "observed, not declared",
            PlanState::Neither => "none declared, none observed",
        }
    }
}

/// A producer's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A counted copy left in the window.
    Protected,
    /// Copies seen, none in the window.
    Stale,
    /// No counted copy ever seen.
    NoneObserved,
    /// Not a producer (a destination, or a device with copies only).
    NotProducer,
}

impl Status {
    /// For people.
    pub fn label(self) -> &'static str {
        match self {
            Status::Protected => "protected",
            Status::Stale => "stale",
            Status::NoneObserved => "no copy observed",
            Status::NotProducer => "not a data producer",
        }
    }
}

/// One kind of copy from one device to one destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Copy {
    /// Channel (`dicom-store`, `hl7-oru`, `smb`, `veeam`...).
    pub channel: String,
    /// For people (`DICOM C-STORE`, `HL7 ORU`, `SMB file share`).
    pub label: String,
    /// Destination address.
    pub dest: IpAddr,
    /// Destination port.
    pub port: u16,
    /// `tcp`/`udp`.
    pub transport: String,
    /// The destination's device key, when it is in the inventory.
    pub dest_key: Option<String>,
    /// Its name (host name, AE title or HL7 application).
    pub dest_name: Option<String>,
    /// Its category.
    pub dest_category: Option<Category>,
    /// First copy seen (packet time).
    pub first_seen: Timestamp,
    /// Last copy seen.
    pub last_seen: Timestamp,
    /// Copies seen.
    pub count: u64,
    /// The first copy's flow.
    pub evidence: String,
    /// Counts as the producer's copy ([`Producer::channels`], `archive_only`).
    pub counts: bool,
    /// In the window.
    pub recent: bool,
    /// Over a channel that sends data unencrypted, or SMBv1.
    pub cleartext: bool,
}

/// A copy received from another device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// The sender's device key.
    pub from_key: String,
    /// Its name, when known.
    pub from_name: Option<String>,
    /// Channel.
    pub channel: String,
    /// Last copy seen.
    pub last_seen: Timestamp,
}

/// One device's data protection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Protection {
    /// Device key.
    pub key: String,
    /// Its category.
    pub category: Category,
    /// Its name, when known.
    pub name: Option<String>,
    /// Verdict.
    pub status: Status,
    /// Copies it sent, latest first.
    pub copies: Vec<Copy>,
    /// Last counted copy.
    pub last_copy: Option<Timestamp>,
    /// Copies it received (it is a destination), latest first, capped.
    pub received: Vec<Received>,
    /// The declared plan, when the CMMS has one for it.
    pub declared: Option<DeclaredPlan>,
    /// Declared against observed.
    pub plan: PlanState,
    /// Missing or unsafe copies.
    pub findings: Vec<Finding>,
}

/// One producer category across the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetLine {
    /// The category.
    pub category: Category,
    /// Devices of it.
    pub total: usize,
    /// Of them, protected in the window.
    pub protected: usize,
    /// Rounded percentage.
    pub percent: u32,
    /// `1 of 2 imaging modalities (50%) sent studies to an archive (DICOM C-STORE) in the last 7 days`.
    pub text: String,
}

/// The fleet's data protection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Window end: the latest packet time in the inventory.
    pub as_of: Timestamp,
    /// Window length in days.
    pub stale_days: u32,
    /// Per producer category present.
    pub fleet: Vec<FleetLine>,
    /// Producers, devices with copies and destinations, by key.
    pub devices: Vec<Protection>,
}

impl Coverage {
    /// The protection of device `key`.
    pub fn device(&self, key: &str) -> Option<&Protection> {
        self.devices
            .binary_search_by(|p| p.key.as_str().cmp(key))
            .ok()
            .and_then(|i| self.devices.get(i))
    }

    /// Every finding, with its device key.
    pub fn findings(&self) -> impl Iterator<Item = (&str, &Finding)> {
        self.devices
            .iter()
            .flat_map(|p| p.findings.iter().map(move |f| (p.key.as_str(), f)))
    }
}

/// Most received copies listed per destination.
pub const MAX_RECEIVED: usize = 50;

/// A device's name for people: host name, DICOM AE title or HL7 application.
pub fn device_name(d: &Device) -> Option<String> {
    d.hostnames.first().cloned().or_else(|| {
        [FactKind::AeTitle, FactKind::Hl7Application]
            .iter()
            .find_map(|k| d.facts.iter().find(|f| f.kind == *k))
            .map(|f| f.value.clone())
    })
}

/// The site of a device key (`SITE/KEY`; `""` on a single box).
fn site_of(key: &str) -> &str {
    key.split_once('/').map_or("", |(site, _)| site)
}

fn label(channel: &str) -> String {
    if channel == DICOM_STORE {
        return "DICOM C-STORE".into();
    }
    if let Some(t) = channel.strip_prefix("hl7-") {
        return format!("HL7 {}", t.to_ascii_uppercase());
    }
    channel_named(channel).map_or_else(|| channel.to_string(), |c| c.label.to_string())
}

fn has_smb1(d: &Device) -> bool {
    d.facts.iter().any(|f| f.kind == FactKind::Smb1)
}

/// Data protection of every device of `devices` (one site's inventory),
/// with the declared plans by device key.
pub fn coverage(
    devices: &[Device],
    plans: &HashMap<String, DeclaredPlan>,
    cfg: CoverageConfig,
) -> Coverage {
    let days = cfg.stale_days.clamp(1, MAX_STALE_DAYS);
    let as_of = devices
        .iter()
        .map(|d| d.last_seen)
        .max()
        .unwrap_or_default();
    let since = Timestamp(as_of.0.saturating_sub(i64::from(days) * DAY_MICROS));
    // Destinations are looked up within the sender's site (multi-site keys
    // are `SITE/KEY`; two sites may use the same private addresses).
    let mut by_ip: HashMap<(&str, IpAddr), &Device> = HashMap::new();
    for d in devices {
        for ip in &d.ips {
            by_ip.entry((site_of(&d.key), *ip)).or_insert(d);
        }
    }
    let mut received: BTreeMap<&str, Vec<Received>> = BTreeMap::new();
    let mut out: Vec<Protection> = Vec::new();
    for d in devices {
        let prod = producer(d.category);
        let mut copies = Vec::new();
        for f in d.facts.iter().filter(|f| f.kind == FactKind::Transfer) {
            let Some(t) = Transfer::parse(&f.value) else {
                continue;
            };
            let dest = by_ip.get(&(site_of(&d.key), t.dest)).copied();
            if dest.is_some_and(|x| x.key == d.key) {
                continue; // to itself (an address it shares): not a copy
            }
            let row = channel_named(&t.channel);
            let backup = row.is_some();
            let smb1 = t.channel == "smb" && has_smb1(d) && dest.is_some_and(has_smb1);
            let counts = prod.is_some_and(|p| {
                (p.channels.is_empty() || p.channels.contains(&t.channel.as_str()))
                    && (!p.archive_only
                        || backup
                        || dest.is_none_or(|x| {
                            matches!(
                                x.category,
                                Category::Pacs | Category::Server | Category::Unknown
                            )
                        }))
            });
            if let Some(x) = dest {
                received.entry(x.key.as_str()).or_default().push(Received {
                    from_key: d.key.clone(),
                    from_name: device_name(d),
                    channel: t.channel.clone(),
                    last_seen: f.last_seen,
                });
            }
            copies.push(Copy {
                label: label(&t.channel),
                cleartext: row.is_some_and(|r| r.cleartext) || smb1,
                channel: t.channel,
                dest: t.dest,
                port: t.port,
                transport: t.transport,
                dest_key: dest.map(|x| x.key.clone()),
                dest_name: dest.and_then(device_name),
                dest_category: dest.map(|x| x.category),
                first_seen: f.first_seen,
                last_seen: f.last_seen,
                count: f.count,
                evidence: f.evidence.clone(),
                counts,
                recent: f.last_seen >= since,
            });
        }
        copies.sort_by(|a, b| {
            (b.last_seen, &a.channel, a.dest).cmp(&(a.last_seen, &b.channel, b.dest))
        });
        let last_copy = copies
            .iter()
            .filter(|c| c.counts)
            .map(|c| c.last_seen)
            .max();
        let status = match (prod, last_copy) {
            (None, _) => Status::NotProducer,
            (Some(_), Some(t)) if t >= since => Status::Protected,
            (Some(_), Some(_)) => Status::Stale,
            (Some(_), None) => Status::NoneObserved,
        };
        let mut findings = Vec::new();
        if let Some(p) = prod.filter(|_| status != Status::Protected) {
            findings.push(missing_copy(d, p, &copies, last_copy, since, as_of, days));
        }
        for c in copies.iter().filter(|c| c.cleartext) {
            findings.push(cleartext_copy(d, c));
        }
        let declared = plans.get(&d.key).filter(|p| p.is_declared()).cloned();
        let observed = copies
            .iter()
            .any(|c| c.recent && (c.counts || prod.is_none()));
        let plan = match (declared.is_some(), observed) {
            (true, true) => PlanState::DeclaredAndObserved,
            (true, false) => PlanState::DeclaredNotObserved,
            (false, true) => PlanState::ObservedNotDeclared,
            (false, false) => PlanState::Neither,
        };
        out.push(Protection {
            key: d.key.clone(),
            category: d.category,
            name: device_name(d),
            status,
            copies,
            last_copy,
            received: Vec::new(),
            declared,
            plan,
            findings,
        });
    }
    for p in &mut out {
        if let Some(mut r) = received.remove(p.key.as_str()) {
            r.sort_by(|a, b| (b.last_seen, &a.from_key).cmp(&(a.last_seen, &b.from_key)));
            r.truncate(MAX_RECEIVED);
            p.received = r;
        }
    }
    // Keep producers, devices with copies or a plan, and destinations.
    out.retain(|p| {
        p.status != Status::NotProducer
            || !p.copies.is_empty()
            || !p.received.is_empty()
            || p.declared.is_some()
    });
    out.sort_by(|a, b| a.key.cmp(&b.key));
    let fleet = PRODUCERS
        .iter()
        .filter_map(|pr| {
            let of: Vec<&Protection> = out.iter().filter(|p| p.category == pr.category).collect();
            if of.is_empty() {
                return None;
            }
            let total = of.len();
            let protected = of.iter().filter(|p| p.status == Status::Protected).count();
            let percent = ((protected * 100 + total / 2) / total) as u32;
            Some(FleetLine {
                category: pr.category,
                total,
                protected,
                percent,
                text: format!(
                    "{protected} of {total} {} ({percent}%) {} in the last {days} days",
                    pr.plural, pr.phrase
                ),
            })
        })
        .collect();
    Coverage {
        as_of,
        stale_days: days,
        fleet,
        devices: out,
    }
}

fn rule_evidence(what: String, at: String, first: Timestamp, last: Timestamp) -> Evidence {
    Evidence {
        what,
        at,
        first_seen: Some(first),
        last_seen: Some(last),
        count: 0,
    }
}

fn missing_copy(
    d: &Device,
    p: &Producer,
    copies: &[Copy],
    last_copy: Option<Timestamp>,
    since: Timestamp,
    as_of: Timestamp,
    days: u32,
) -> Finding {
    let archive = p.archive_only;
    let kind = if archive {
        FindingKind::NoOnwardCopy
    } else {
        FindingKind::NoRecentCopy
    };
    let what = if archive {
        "no onward copy (to another archive or a backup service)"
    } else {
        "no copy of its data"
    };
    let title = match last_copy {
        Some(t) => format!(
            "{what} seen leaving in the last {days} days (last one {})",
            t.iso()
        ),
        None => format!("{what} seen leaving in the captures"),
    };
    let mut evidence = vec![rule_evidence(
        format!(
            "rule: every {} must have {} within {days} days of the latest capture time",
            d.category.label(),
            p.phrase
        ),
        format!("window {} to {}", since.iso(), as_of.iso()),
        d.first_seen,
        d.last_seen,
    )];
    if let Some(r) = d.reasons.first() {
        evidence.push(rule_evidence(
            format!("{}: {}", d.category.label(), r.why),
            r.evidence.clone(),
            d.first_seen,
            d.last_seen,
        ));
    }
    for c in copies.iter().filter(|c| c.counts).take(3) {
        evidence.push(Evidence {
            what: format!("last {} to {}", c.label, c.dest),
            at: c.evidence.clone(),
            first_seen: Some(c.first_seen),
            last_seen: Some(c.last_seen),
            count: c.count,
        });
    }
    let remediation = if archive {
        "Confirm the archive replicates to a second archive (VNA, DR site) or is backed up; if it is, add that path to the monitored network or declare it in the CMMS (backup method, destination, last verified restore)."
    } else {
        "Check the device's export or backup configuration (DICOM destination AE, HL7 outbound interface, backup agent) and that the destination accepts it; if its data goes out by a path Ward cannot see, declare it in the CMMS (backup method, destination, last verified restore)."
    };
    Finding {
        kind,
        severity: p.severity,
        title,
        remediation: remediation.into(),
        evidence,
    }
}

fn cleartext_copy(d: &Device, c: &Copy) -> Finding {
    let smb1 = c.channel == "smb";
    let why = if smb1 {
        "over SMBv1 (both ends negotiated SMB1)".to_string()
    } else {
        format!("over {}, which sends data unencrypted", c.label)
    };
    let mut evidence = vec![Evidence {
        what: format!("{} to {} port {}", c.label, c.dest, c.port),
        at: c.evidence.clone(),
        first_seen: Some(c.first_seen),
        last_seen: Some(c.last_seen),
        count: c.count,
    }];
    if smb1 {
        if let Some(f) = d.facts.iter().find(|f| f.kind == FactKind::Smb1) {
            evidence.push(Evidence::of_fact(f));
        }
    } else if let Some(row) = channel_named(&c.channel) {
        evidence.push(Evidence {
            what: format!("rule: {} is a cleartext channel", row.label),
            at: row.reference.to_string(),
            first_seen: None,
            last_seen: None,
            count: 0,
        });
    }
    Finding {
        kind: FindingKind::CleartextBackup,
        severity: Severity::High,
        title: format!("copies data to {} {why}", c.dest),
        remediation: if smb1 {
            "Disable SMBv1 on both ends and use SMB 3 with encryption for the backup share.".into()
        } else {
            "Move the copy to an encrypted channel (rsync over SSH, NFS with krb5p, the backup product's TLS/encryption) or an isolated backup network.".into()
        },
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use identify::{EndpointKey, Fact};
    use model::MacAddr;

    const DAY: i64 = DAY_MICROS;

    fn ep(n: u8) -> EndpointKey {
        EndpointKey {
            mac: Some(MacAddr([0x02, 0, 0, 0, 0, n])),
            ip: Some(IpAddr::from([10, 0, 0, n])),
        }
    }

    fn fact(n: u8, kind: FactKind, value: &str, first: i64, last: i64) -> Fact {
        Fact {
            endpoint: ep(n),
            kind,
            value: value.into(),
            source: "test".into(),
            first_seen: Timestamp(first),
            last_seen: Timestamp(last),
            count: 1,
            evidence: format!("flow {n} test"),
        }
    }

    const CT: u8 = 1;
    const PACS: u8 = 2;
    const US: u8 = 3;
    const BACKUP: u8 = 4;
    const VIEWER: u8 = 5;

    /// CT stores to PACS at `ct_at`, PACS copies with `pacs_copy` at day 10,
    /// an ultrasound proposes storage and sends nothing.
    fn room(ct_at: i64, pacs_copy: Option<(&str, u8)>) -> Vec<Fact> {
        let mut f = vec![
            fact(CT, FactKind::Role, "dicom-scu", 0, ct_at),
            fact(
                CT,
                FactKind::SopClass,
                "1.2.840.10008.5.1.4.1.1.2",
                0,
                ct_at,
            ),
            fact(
                CT,
                FactKind::Transfer,
                "dicom-store 10.0.0.2 104/tcp",
                ct_at,
                ct_at,
            ),
            fact(PACS, FactKind::Role, "dicom-scp", 0, 10 * DAY),
            fact(PACS, FactKind::AeTitle, "PACS_MAIN", 0, 10 * DAY),
            fact(US, FactKind::Role, "dicom-scu", DAY, DAY),
            fact(
                US,
                FactKind::SopClass,
                "1.2.840.10008.5.1.4.1.1.6.1",
                DAY,
                DAY,
            ),
            fact(BACKUP, FactKind::Peer, "10.0.0.2", 0, 10 * DAY),
            fact(VIEWER, FactKind::Role, "dicom-scu", 0, 0),
            // The reading workstation sends its key images back to the PACS.
            fact(
                VIEWER,
                FactKind::Transfer,
                "dicom-store 10.0.0.2 104/tcp",
                10 * DAY,
                10 * DAY,
            ),
        ];
        if let Some((chan, to)) = pacs_copy {
            let port = if chan == "rsync" { 873 } else { 445 };
            f.push(fact(
                PACS,
                FactKind::Transfer,
                &format!("{chan} 10.0.0.{to} {port}/tcp"),
                10 * DAY,
                10 * DAY,
            ));
        }
        f
    }

    fn run(facts: &[Fact], days: u32) -> Coverage {
        let devices = identify::build_inventory(facts);
        coverage(
            &devices,
            &HashMap::new(),
            CoverageConfig { stale_days: days },
        )
    }

    fn flagged(c: &Coverage) -> Vec<(String, FindingKind)> {
        c.findings().map(|(k, f)| (k.to_string(), f.kind)).collect()
    }

    fn key(n: u8) -> String {
        format!("mac:02:00:00:00:00:{n:02x}")
    }

    #[test]
    fn only_the_silent_modality_is_flagged() {
        let c = run(&room(9 * DAY, Some(("commvault", BACKUP))), 7);
        assert_eq!(flagged(&c), vec![(key(US), FindingKind::NoRecentCopy)]);
        let us = c.device(&key(US)).unwrap();
        assert_eq!(us.category, Category::ImagingModality);
        assert_eq!(us.status, Status::NoneObserved);
        let ev = &us.findings[0].evidence;
        assert!(ev[0]
            .what
            .starts_with("rule: every imaging modality must have sent studies"));
        assert!(ev[1].what.contains("ultrasound"), "{ev:?}");
        let ct = c.device(&key(CT)).unwrap();
        assert_eq!(ct.status, Status::Protected);
        assert_eq!(ct.copies[0].dest_name.as_deref(), Some("PACS_MAIN"));
        assert_eq!(ct.copies[0].dest_category, Some(Category::Pacs));
        assert_eq!(ct.copies[0].label, "DICOM C-STORE");
        // The PACS lists what it received.
        let pacs = c.device(&key(PACS)).unwrap();
        assert!(pacs.received.iter().any(|r| r.from_key == key(CT)));
        assert_eq!(pacs.status, Status::Protected);
        assert_eq!(
            c.fleet[0].text,
            "1 of 2 imaging modalities (50%) sent studies to an archive (DICOM C-STORE) in the last 7 days"
        );
    }

    #[test]
    fn the_window_ends_at_the_latest_packet_not_the_clock() {
        // Last CT store on day 2, latest packet day 10: stale at 7 days.
        let c = run(&room(2 * DAY, Some(("commvault", BACKUP))), 7);
        let ct = c.device(&key(CT)).unwrap();
        assert_eq!(ct.status, Status::Stale);
        assert_eq!(c.as_of, Timestamp(10 * DAY));
        let f = &ct.findings[0];
        assert_eq!(f.kind, FindingKind::NoRecentCopy);
        assert!(f.title.contains("last one 1970-01-03"), "{}", f.title);
        assert!(f
            .evidence
            .iter()
            .any(|e| e.what == "last DICOM C-STORE to 10.0.0.2"));
        // A longer window covers it.
        let c = run(&room(2 * DAY, Some(("commvault", BACKUP))), 9);
        assert_eq!(c.device(&key(CT)).unwrap().status, Status::Protected);
    }

    #[test]
    fn an_archive_needs_an_onward_copy_and_a_safe_one() {
        // Nothing onward.
        let c = run(&room(9 * DAY, None), 7);
        let pacs = c.device(&key(PACS)).unwrap();
        assert_eq!(pacs.findings[0].kind, FindingKind::NoOnwardCopy);
        assert_eq!(pacs.findings[0].severity, Severity::High);
        // Storing to a reading workstation is not an onward copy.
        let mut facts = room(9 * DAY, None);
        facts.push(fact(
            PACS,
            FactKind::Transfer,
            "dicom-store 10.0.0.5 104/tcp",
            10 * DAY,
            10 * DAY,
        ));
        let c = run(&facts, 7);
        let pacs = c.device(&key(PACS)).unwrap();
        assert_eq!(pacs.status, Status::NoneObserved, "{pacs:?}");
        assert!(!pacs.copies[0].counts);
        // rsync counts as a copy, but a cleartext one.
        let c = run(&room(9 * DAY, Some(("rsync", BACKUP))), 7);
        let pacs = c.device(&key(PACS)).unwrap();
        assert_eq!(pacs.status, Status::Protected);
        assert_eq!(
            pacs.findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            vec![FindingKind::CleartextBackup]
        );
        assert!(pacs.findings[0].evidence[1].at.contains("rsync"));
    }

    #[test]
    fn smb_copies_are_flagged_only_when_both_ends_speak_smb1() {
        let c = run(&room(9 * DAY, Some(("smb", BACKUP))), 7);
        assert!(c.device(&key(PACS)).unwrap().findings.is_empty());
        let mut facts = room(9 * DAY, Some(("smb", BACKUP)));
        facts.push(fact(PACS, FactKind::Smb1, "smb1", 0, 0));
        let c = run(&facts, 7);
        assert!(c.device(&key(PACS)).unwrap().findings.is_empty());
        facts.push(fact(BACKUP, FactKind::Smb1, "smb1", 0, 0));
        let c = run(&facts, 7);
        let f = &c.device(&key(PACS)).unwrap().findings;
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FindingKind::CleartextBackup);
        assert!(f[0].title.contains("SMBv1"));
    }

    #[test]
    fn declared_plans_sit_beside_what_was_seen() {
        let devices = identify::build_inventory(&room(9 * DAY, Some(("commvault", BACKUP))));
        let plan = DeclaredPlan {
            method: "DICOM to PACS".into(),
            destination: "PACS_MAIN".into(),
            last_restore: "2025-11-02".into(),
        };
        let plans: HashMap<String, DeclaredPlan> = [(key(US), plan.clone()), (key(CT), plan)]
            .into_iter()
            .collect();
        let c = coverage(&devices, &plans, CoverageConfig::default());
        assert_eq!(
            c.device(&key(US)).unwrap().plan,
            PlanState::DeclaredNotObserved
        );
        assert_eq!(
            c.device(&key(CT)).unwrap().plan,
            PlanState::DeclaredAndObserved
        );
        assert_eq!(
            c.device(&key(PACS)).unwrap().plan,
            PlanState::ObservedNotDeclared
        );
        // An empty row is no plan.
        let plans: HashMap<String, DeclaredPlan> =
            [(key(US), DeclaredPlan::default())].into_iter().collect();
        let c = coverage(&devices, &plans, CoverageConfig::default());
        assert_eq!(c.device(&key(US)).unwrap().plan, PlanState::Neither);
    }

    #[test]
    fn destinations_are_named_within_the_senders_site() {
        let mut devices = identify::build_inventory(&room(9 * DAY, None));
        let mut other = identify::build_inventory(&room(9 * DAY, None));
        for d in &mut devices {
            d.key = format!("north/{}", d.key);
        }
        // The south site's PACS has the same address and a different name.
        for d in &mut other {
            d.key = format!("south/{}", d.key);
            d.hostnames = vec!["SOUTH".into()];
        }
        devices.append(&mut other);
        devices.sort_by(|a, b| a.key.cmp(&b.key));
        let c = coverage(&devices, &HashMap::new(), CoverageConfig::default());
        let ct = c.device(&format!("north/{}", key(CT))).unwrap();
        assert_eq!(ct.copies[0].dest_key, Some(format!("north/{}", key(PACS))));
        assert_eq!(ct.copies[0].dest_name.as_deref(), Some("PACS_MAIN"));
        let ct = c.device(&format!("south/{}", key(CT))).unwrap();
        assert_eq!(ct.copies[0].dest_key, Some(format!("south/{}", key(PACS))));
        assert_eq!(ct.copies[0].dest_name.as_deref(), Some("SOUTH"));
    }

    #[test]
    fn malformed_transfer_values_are_ignored() {
        let mut facts = room(9 * DAY, Some(("commvault", BACKUP)));
        facts.push(fact(
            US,
            FactKind::Transfer,
            "<script> 10.0.0.2 104/tcp",
            DAY,
            DAY,
        ));
        facts.push(fact(
            US,
            FactKind::Transfer,
            "dicom-store nowhere 104/tcp",
            DAY,
            DAY,
        ));
        let c = run(&facts, 7);
        let us = c.device(&key(US)).unwrap();
        assert!(us.copies.is_empty());
        assert_eq!(us.status, Status::NoneObserved);
        // And an empty inventory is an empty coverage.
        let c = coverage(&[], &HashMap::new(), CoverageConfig { stale_days: 0 });
        assert!(c.devices.is_empty() && c.fleet.is_empty());
        assert_eq!(c.stale_days, 1);
    }
}
