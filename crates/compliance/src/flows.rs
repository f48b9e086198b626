//! The ePHI flow map: which device sends patient data to which, from the
//! stored `transfer` facts (`identify::transfer`): HL7 messages other than
//! acknowledgements (`hl7-oru`, `hl7-adt`...) and DICOM associations that
//! carried a C-STORE (`dicom-store`). Metadata only: endpoints, protocol,
//! message or command types, counts, times, and whether the flow was
//! readable on the wire.
//!
//! Ward parses HL7 and DICOM only where they cross the wire unencrypted
//! (MLLP and the DICOM upper layer in the clear), so every flow found here is
//! cleartext; `encrypted` exists for flows other evidence marks as protected.

use identify::transfer::Transfer;
use identify::{Device, FactKind};
use model::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// One end of a flow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlowEnd {
    /// Device key (`mac:..`, `ip:..`); the address when no device has it.
    pub key: String,
    /// Address.
    pub ip: String,
    /// What people call it (host name, HL7 application or AE title, else vendor and category).
    pub name: String,
    /// Category label.
    pub category: String,
    /// The HL7 application or DICOM AE title it used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
}

/// One ePHI flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EphiFlow {
    /// `F1`, `F2`... in map order.
    pub id: String,
    /// Sender.
    pub source: FlowEnd,
    /// Receiver.
    pub dest: FlowEnd,
    /// `HL7` or `DICOM`.
    pub protocol: String,
    /// Channel (`hl7-oru`, `dicom-store`).
    pub channel: String,
    /// Message types (`ORU^R01`) or DICOM commands (`C-STORE`).
    pub messages: Vec<String>,
    /// Destination port.
    pub port: u16,
    /// `tcp`.
    pub transport: String,
    /// Transfers seen.
    pub count: u64,
    /// First seen (packet time).
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
    /// Protected in transit.
    pub encrypted: bool,
    /// The first transfer's flow (`10.0.0.1:40000 -> 10.0.0.2:2575/tcp`).
    pub evidence: String,
}

impl EphiFlow {
    /// One line: `F1 EPIC^HOSP -> MIRTH^HOSP HL7 ADT^A01 (cleartext)`.
    pub fn describe(&self) -> String {
        format!(
            "{} {} -> {} {} {} ({})",
            self.id,
            self.source.name,
            self.dest.name,
            self.protocol,
            self.messages.join(", "),
            if self.encrypted {
                "encrypted"
            } else {
                "cleartext"
            }
        )
    }
}

fn first_fact(d: &Device, kind: FactKind) -> Option<&str> {
    d.facts
        .iter()
        .filter(|f| f.kind == kind && !f.value.is_empty())
        .max_by_key(|f| f.count)
        .map(|f| f.value.as_str())
}

fn end(d: Option<&Device>, ip: &str, protocol: &str) -> FlowEnd {
    let Some(d) = d else {
        return FlowEnd {
            key: format!("ip:{ip}"),
            ip: ip.to_string(),
            name: ip.to_string(),
            category: "unknown".into(),
            application: None,
        };
    };
    let application = match protocol {
        "HL7" => first_fact(d, FactKind::Hl7Application),
        _ => first_fact(d, FactKind::AeTitle),
    }
    .map(str::to_string);
    let name = d
        .hostnames
        .first()
        .cloned()
        .or_else(|| application.clone())
        .or_else(|| {
            d.vendor
                .as_ref()
                .map(|v| format!("{v} {}", d.category.label()))
        })
        .unwrap_or_else(|| d.key.clone());
    FlowEnd {
        key: d.key.clone(),
        ip: ip.to_string(),
        name,
        category: d.category.label().to_string(),
        application,
    }
}

/// The ePHI flows among `devices` (with their facts), ordered by sender,
/// receiver and channel, numbered `F1`...
pub fn ephi_flows(devices: &[Device]) -> Vec<EphiFlow> {
    let mut by_ip: BTreeMap<String, &Device> = BTreeMap::new();
    for d in devices {
        for ip in &d.ips {
            by_ip.entry(ip.to_string()).or_insert(d);
        }
    }
    let mut flows: Vec<EphiFlow> = Vec::new();
    for d in devices {
        for f in d.facts.iter().filter(|f| f.kind == FactKind::Transfer) {
            let Some(t) = Transfer::parse(&f.value) else {
                continue;
            };
            let protocol = if t.channel.starts_with("hl7-") {
                "HL7"
            } else if t.channel == identify::transfer::DICOM_STORE {
                "DICOM"
            } else {
                continue;
            };
            let messages: Vec<String> = if protocol == "HL7" {
                let mut m: Vec<String> = d
                    .facts
                    .iter()
                    .filter(|m| {
                        m.kind == FactKind::Hl7MessageType
                            && identify::transfer::hl7_channel(&m.value).as_deref()
                                == Some(t.channel.as_str())
                    })
                    .map(|m| m.value.clone())
                    .collect();
                m.sort();
                m.dedup();
                if m.is_empty() {
                    m.push(t.channel.trim_start_matches("hl7-").to_ascii_uppercase());
                }
                m
            } else {
                vec!["C-STORE".to_string()]
            };
            let src_ip = f
                .endpoint
                .ip
                .map(|ip| ip.to_string())
                .or_else(|| d.ips.first().map(|ip| ip.to_string()))
                .unwrap_or_default();
            let dest_ip = t.dest.to_string();
            flows.push(EphiFlow {
                id: String::new(),
                source: end(Some(d), &src_ip, protocol),
                dest: end(by_ip.get(&dest_ip).copied(), &dest_ip, protocol),
                protocol: protocol.to_string(),
                channel: t.channel.clone(),
                messages,
                port: t.port,
                transport: t.transport.clone(),
                count: f.count,
                first_seen: f.first_seen,
                last_seen: f.last_seen,
                encrypted: false,
                evidence: f.evidence.clone(),
            });
        }
    }
    flows.sort_by(|a, b| {
        (&a.source.key, &a.dest.key, &a.channel, a.port).cmp(&(
            &b.source.key,
            &b.dest.key,
            &b.channel,
            b.port,
        ))
    });
    for (n, f) in flows.iter_mut().enumerate() {
        f.id = format!("F{}", n + 1);
    }
    flows
}
