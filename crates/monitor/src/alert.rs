//! Alerts: kinds, severities, evidence, and folding of duplicates.

use model::{FlowInfo, Timestamp, Transport};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What was detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A device absent from the baseline and not approved at intake.
    NewDevice,
    /// A device talked to a peer it never talked to.
    NewPeer,
    /// A device used or offered a port it never used or offered with that peer.
    NewPort,
    /// A protocol never seen on the device.
    NewProtocol,
    /// A local device talked to an internet address it never talked to.
    InternetTraffic,
    /// A cleartext login (FTP, Telnet, HTTP Basic).
    CleartextCredential,
    /// A session to a management service (Telnet, SSH, web, SNMP, RDP, VNC)
    /// of a device from a peer that never used it.
    UnauthorizedManagementAccess,
    /// Many ports or hosts probed by one source.
    PortScan,
    /// SMB sessions to many hosts from one source (ransomware spreading).
    SmbFanout,
    /// HL7 from a sending application/facility the receiver never got messages from.
    Hl7UnexpectedSender,
    /// A DICOM association request with a calling (or called) AE title unknown to the SCP.
    DicomUnknownAe,
    /// An HL7 numeric observation far outside the range learnt for this device and code.
    ImplausibleObservation,
    /// Traffic that the device's MUD policy (or an imported policy) does not allow.
    PolicyViolation,
    /// A device talked at an hour of the day (UTC) at which it never did during a
    /// baseline long enough to know its hours.
    OffHours,
    /// A device's bytes sent, bytes received or flows in one volume window far
    /// above what it ever did in a window of the baseline (exfiltration, mass DICOM pulls).
    VolumeSpike,
    /// An advisory imported or synced (`ward feeds import`/`sync`) matches a
    /// device it did not match before: the manufacturer's news reaching the
    /// people who look after that device.
    NewAdvisoryMatch,
}

impl AlertKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::NewDevice => "new_device",
            AlertKind::NewPeer => "new_peer",
            AlertKind::NewPort => "new_port",
            AlertKind::NewProtocol => "new_protocol",
            AlertKind::InternetTraffic => "internet_traffic",
            AlertKind::CleartextCredential => "cleartext_credential",
            AlertKind::UnauthorizedManagementAccess => "unauthorized_management_access",
            AlertKind::PortScan => "port_scan",
            AlertKind::SmbFanout => "smb_fanout",
            AlertKind::Hl7UnexpectedSender => "hl7_unexpected_sender",
            AlertKind::DicomUnknownAe => "dicom_unknown_ae",
            AlertKind::ImplausibleObservation => "implausible_observation",
            AlertKind::PolicyViolation => "policy_violation",
            AlertKind::OffHours => "off_hours",
            AlertKind::VolumeSpike => "volume_spike",
            AlertKind::NewAdvisoryMatch => "new_advisory_match",
        }
    }

    /// Parses [`AlertKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == s)
    }

    /// Default severity.
    pub fn severity(self) -> Severity {
        match self {
            AlertKind::NewPeer | AlertKind::NewPort | AlertKind::NewProtocol => Severity::Low,
            AlertKind::NewDevice
            | AlertKind::Hl7UnexpectedSender
            | AlertKind::DicomUnknownAe
            | AlertKind::ImplausibleObservation
            | AlertKind::OffHours => Severity::Medium,
            AlertKind::InternetTraffic
            | AlertKind::CleartextCredential
            | AlertKind::PortScan
            | AlertKind::PolicyViolation
            | AlertKind::VolumeSpike
            | AlertKind::NewAdvisoryMatch => Severity::High,
            AlertKind::UnauthorizedManagementAccess | AlertKind::SmbFanout => Severity::Critical,
        }
    }
}

/// Every kind, in order.
pub const ALL_KINDS: &[AlertKind] = &[
    AlertKind::NewDevice,
    AlertKind::NewPeer,
    AlertKind::NewPort,
    AlertKind::NewProtocol,
    AlertKind::InternetTraffic,
    AlertKind::CleartextCredential,
    AlertKind::UnauthorizedManagementAccess,
    AlertKind::PortScan,
    AlertKind::SmbFanout,
    AlertKind::Hl7UnexpectedSender,
    AlertKind::DicomUnknownAe,
    AlertKind::ImplausibleObservation,
    AlertKind::PolicyViolation,
    AlertKind::OffHours,
    AlertKind::VolumeSpike,
    AlertKind::NewAdvisoryMatch,
];

/// How bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Investigate.
    Medium,
    /// Act soon.
    High,
    /// Act now.
    Critical,
}

impl Severity {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parses [`Severity::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// Syslog severity (RFC 5424): critical 2, high 3, medium 4, low 5.
    pub fn syslog(self) -> u8 {
        match self {
            Severity::Critical => 2,
            Severity::High => 3,
            Severity::Medium => 4,
            Severity::Low => 5,
        }
    }

    /// CEF severity 0-10.
    pub fn cef(self) -> u8 {
        match self {
            Severity::Critical => 10,
            Severity::High => 8,
            Severity::Medium => 5,
            Severity::Low => 3,
        }
    }
}

/// A flow's 5-tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowTuple {
    /// TCP or UDP.
    pub transport: Transport,
    /// Originator address.
    pub client: IpAddr,
    /// Originator port.
    pub client_port: u16,
    /// Responder address.
    pub server: IpAddr,
    /// Responder port.
    pub server_port: u16,
}

impl From<&FlowInfo> for FlowTuple {
    fn from(f: &FlowInfo) -> Self {
        FlowTuple {
            transport: f.transport,
            client: f.client.ip,
            client_port: f.client.port,
            server: f.server.ip,
            server_port: f.server.port,
        }
    }
}

impl std::fmt::Display for FlowTuple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}:{} -> {}:{}",
            self.transport.as_str(),
            self.client,
            self.client_port,
            self.server,
            self.server_port
        )
    }
}

/// Why an alert was raised: the first flow, packet times and counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Evidence {
    /// The first flow that showed it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flow: Option<FlowTuple>,
    /// First packet time of that evidence.
    pub first_packet: Timestamp,
    /// Last packet time of that evidence.
    pub last_packet: Timestamp,
    /// Counters (`ports`, `hosts`, `bytes`...).
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
}

/// One (folded) alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// What.
    pub kind: AlertKind,
    /// How bad.
    pub severity: Severity,
    /// The device concerned: `ip:ADDR` from the detector, a device key (`mac:..`) once resolved.
    pub device: String,
    /// Its address.
    pub ip: IpAddr,
    /// What makes this alert distinct for its device (the peer, the port, the AE title...).
    pub key: String,
    /// One line for people.
    pub summary: String,
    /// Evidence of the first occurrence.
    pub evidence: Evidence,
    /// Occurrences folded into this alert.
    pub count: u64,
    /// First occurrence (packet time).
    pub first_seen: Timestamp,
    /// Last occurrence (packet time).
    pub last_seen: Timestamp,
}

impl Alert {
    /// The folding identity.
    pub fn fold_key(&self) -> (AlertKind, String, String) {
        (self.kind, self.device.clone(), self.key.clone())
    }
}

/// Folded alerts, bounded: `(kind, device, key)` → one alert with a count.
#[derive(Debug, Default)]
pub struct Alerts {
    map: hashbrown::HashMap<(AlertKind, IpAddr, String), Alert, foldhash::fast::RandomState>,
    cap: usize,
    dropped: u64,
}

impl Alerts {
    /// Keeps at most `cap` distinct alerts (later distinct ones are counted in `dropped`).
    pub fn new(cap: usize) -> Self {
        Alerts {
            map: Default::default(),
            cap,
            dropped: 0,
        }
    }

    /// Adds one occurrence.
    pub fn raise(
        &mut self,
        kind: AlertKind,
        ip: IpAddr,
        key: String,
        summary: impl FnOnce() -> String,
        evidence: Evidence,
    ) {
        let t0 = evidence.first_packet;
        let t1 = evidence.last_packet.max(t0);
        if let Some(a) = self.map.get_mut(&(kind, ip, key.clone())) {
            a.count += 1;
            if t0 < a.first_seen {
                a.first_seen = t0;
                a.evidence = evidence;
            }
            a.last_seen = a.last_seen.max(t1);
            return;
        }
        if self.map.len() >= self.cap {
            self.dropped += 1;
            return;
        }
        let a = Alert {
            kind,
            severity: kind.severity(),
            device: format!("ip:{ip}"),
            ip,
            key: key.clone(),
            summary: summary(),
            evidence,
            count: 1,
            first_seen: t0,
            last_seen: t1,
        };
        self.map.insert((kind, ip, key), a);
    }

    /// Removes and returns (sorted) the alerts for which `take` is true.
    pub fn take(&mut self, mut take: impl FnMut(&Alert) -> bool) -> Vec<Alert> {
        let mut v: Vec<Alert> = self
            .map
            .extract_if(|_, a| take(a))
            .map(|(_, a)| a)
            .collect();
        sort(&mut v);
        v
    }

    /// Drops the alerts for which `keep` is false.
    pub fn retain(&mut self, mut keep: impl FnMut(&Alert) -> bool) {
        self.map.retain(|_, a| keep(a));
    }

    /// Distinct alerts dropped at the cap.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Number of distinct alerts.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The alerts, sorted by first occurrence, kind and device.
    pub fn into_sorted(self) -> Vec<Alert> {
        let mut v: Vec<Alert> = self.map.into_values().collect();
        sort(&mut v);
        v
    }
}

fn sort(v: &mut [Alert]) {
    v.sort_by(|a, b| {
        (a.first_seen, a.kind, &a.device, &a.key).cmp(&(b.first_seen, b.kind, &b.device, &b.key))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_by_kind_device_key_and_caps() {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let mut a = Alerts::new(2);
        let ev = |t| Evidence {
            first_packet: Timestamp(t),
            last_packet: Timestamp(t),
            ..Default::default()
        };
        a.raise(
            AlertKind::NewPeer,
            ip,
            "10.0.0.2".into(),
            || "x".into(),
            ev(5),
        );
        a.raise(
            AlertKind::NewPeer,
            ip,
            "10.0.0.2".into(),
            || "x".into(),
            ev(3),
        );
        a.raise(
            AlertKind::NewPeer,
            ip,
            "10.0.0.2".into(),
            || "x".into(),
            ev(9),
        );
        a.raise(
            AlertKind::NewPort,
            ip,
            "10.0.0.2".into(),
            || "y".into(),
            ev(1),
        );
        a.raise(AlertKind::PortScan, ip, "scan".into(), || "z".into(), ev(1));
        assert_eq!(a.dropped(), 1);
        let v = a.into_sorted();
        assert_eq!(v.len(), 2);
        let p = v.iter().find(|x| x.kind == AlertKind::NewPeer).unwrap();
        assert_eq!(
            (p.count, p.first_seen, p.last_seen, p.evidence.first_packet),
            (3, Timestamp(3), Timestamp(9), Timestamp(3))
        );
        for k in ALL_KINDS {
            assert_eq!(AlertKind::parse(k.as_str()), Some(*k));
        }
    }
}
