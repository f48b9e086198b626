//! Device categories, decided by weighted, explainable rules over facts.
//!
//! Each rule that fires adds a [`Reason`] (category, weight, why, evidence).
//! The category with the highest combined weight wins; its confidence is
//! `1 - Π(1 - wᵢ)` over its reasons, so independent signals reinforce each other.

use crate::facts::{Fact, FactKind};
use serde::{Deserialize, Serialize};

/// What kind of device this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// CT, MR, US, X-ray... sending images.
    ImagingModality,
    /// Picture archive: stores images.
    Pacs,
    /// Reading/review workstation querying images.
    ImagingWorkstation,
    /// HL7 interface engine / integration hub.
    Hl7InterfaceEngine,
    /// EHR / clinical information system.
    ClinicalInformationSystem,
    /// Bedside patient monitor.
    PatientMonitor,
    /// Infusion pump.
    InfusionPump,
    /// Laboratory analyzer.
    LabAnalyzer,
    /// Other medical device (wearables, home-care, ECG...).
    MedicalDevice,
    /// General-purpose workstation or PC.
    Workstation,
    /// Server.
    Server,
    /// Printer.
    Printer,
    /// Switch, router, access point.
    NetworkGear,
    /// VoIP phone.
    VoipPhone,
    /// Phone or tablet.
    MobileDevice,
    /// Consumer IoT (cameras, scales, speakers).
    IotDevice,
    /// Not enough evidence.
    Unknown,
}

/// Every category, in declaration order.
pub const ALL_CATEGORIES: &[Category] = &[
    Category::ImagingModality,
    Category::Pacs,
    Category::ImagingWorkstation,
    Category::Hl7InterfaceEngine,
    Category::ClinicalInformationSystem,
    Category::PatientMonitor,
    Category::InfusionPump,
    Category::LabAnalyzer,
    Category::MedicalDevice,
    Category::Workstation,
    Category::Server,
    Category::Printer,
    Category::NetworkGear,
    Category::VoipPhone,
    Category::MobileDevice,
    Category::IotDevice,
    Category::Unknown,
];

impl Category {
    /// Human label.
    pub fn label(self) -> &'static str {
        match self {
            Category::ImagingModality => "imaging modality",
            Category::Pacs => "PACS",
            Category::ImagingWorkstation => "imaging workstation",
            Category::Hl7InterfaceEngine => "HL7 interface engine",
            Category::ClinicalInformationSystem => "clinical information system",
            Category::PatientMonitor => "patient monitor",
            Category::InfusionPump => "infusion pump",
            Category::LabAnalyzer => "lab analyzer",
            Category::MedicalDevice => "medical device",
            Category::Workstation => "workstation",
            Category::Server => "server",
            Category::Printer => "printer",
            Category::NetworkGear => "network gear",
            Category::VoipPhone => "VoIP phone",
            Category::MobileDevice => "mobile device",
            Category::IotDevice => "IoT device",
            Category::Unknown => "unknown",
        }
    }

    /// True for clinical (medical) categories.
    pub fn is_medical(self) -> bool {
        matches!(
            self,
            Category::ImagingModality
                | Category::Pacs
                | Category::ImagingWorkstation
                | Category::Hl7InterfaceEngine
                | Category::ClinicalInformationSystem
                | Category::PatientMonitor
                | Category::InfusionPump
                | Category::LabAnalyzer
                | Category::MedicalDevice
        )
    }
}

/// One reason for a category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The category this reason supports.
    pub category: Category,
    /// Strength, 0..1.
    pub weight: f32,
    /// Why, in words.
    pub why: String,
    /// Evidence (flow or frame) of the fact behind it.
    pub evidence: String,
    /// The knowledge entry behind it (`keyword/pump`, `oui_vendor/baxter`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge: Option<String>,
}

/// DICOM storage SOP classes sent by acquisition modalities (PS3.4 Annex B).
const MODALITY_STORAGE: &[(&str, &str)] = &[
    ("1.2.840.10008.5.1.4.1.1.2", "CT"),
    ("1.2.840.10008.5.1.4.1.1.2.1", "enhanced CT"),
    ("1.2.840.10008.5.1.4.1.1.4", "MR"),
    ("1.2.840.10008.5.1.4.1.1.4.1", "enhanced MR"),
    ("1.2.840.10008.5.1.4.1.1.6.1", "ultrasound"),
    ("1.2.840.10008.5.1.4.1.1.1", "CR"),
    ("1.2.840.10008.5.1.4.1.1.1.1", "digital X-ray"),
    ("1.2.840.10008.5.1.4.1.1.1.2", "mammography"),
    ("1.2.840.10008.5.1.4.1.1.12.1", "X-ray angiography"),
    ("1.2.840.10008.5.1.4.1.1.20", "nuclear medicine"),
    ("1.2.840.10008.5.1.4.1.1.128", "PET"),
    ("1.2.840.10008.5.1.4.1.1.481.5", "RT plan"),
];

/// Classifies a device from its facts and the IEEE organisation of its MAC,
/// with the knowledge in use ([`knowledge::global`]). Returns the winning
/// category, its confidence and every reason considered (winners first).
pub fn classify(facts: &[&Fact], vendor: Option<&str>) -> (Category, f32, Vec<Reason>) {
    let (extra, _, _) = crate::identity::identify(facts, vendor, knowledge::global());
    let mut reasons = rules(facts);
    reasons.extend(extra);
    combine(reasons)
}

/// The protocol-behaviour rules (roles, services, capabilities): reasons
/// that need no knowledge table.
pub(crate) fn rules(facts: &[&Fact]) -> Vec<Reason> {
    let mut reasons: Vec<Reason> = Vec::new();
    let mut add = |category, weight: f32, why: String, evidence: &str| {
        reasons.push(Reason {
            category,
            weight,
            why,
            evidence: evidence.to_string(),
            knowledge: None,
        });
    };
    let has =
        |kind: FactKind, value: &str| facts.iter().find(|f| f.kind == kind && f.value == value);
    let count = |kind: FactKind| facts.iter().filter(|f| f.kind == kind).count();

    // DICOM roles.
    if let Some(f) = has(FactKind::Role, "dicom-scu") {
        let sent: Vec<&str> = facts
            .iter()
            .filter(|f| f.kind == FactKind::SopClass)
            .filter_map(|f| {
                MODALITY_STORAGE
                    .iter()
                    .find(|(uid, _)| *uid == f.value)
                    .map(|(_, n)| *n)
            })
            .collect();
        if sent.is_empty()
            || has(FactKind::Role, "dicom-scp").is_some() && count(FactKind::SopClass) > 20
        {
            add(
                Category::ImagingWorkstation,
                0.4,
                "opens DICOM associations without proposing modality storage".into(),
                &f.evidence,
            );
        } else {
            add(
                Category::ImagingModality,
                0.6,
                format!("DICOM client proposing {} image storage", sent.join("/")),
                &f.evidence,
            );
        }
    }
    if let Some(f) = has(FactKind::Role, "dicom-scp") {
        add(
            Category::Pacs,
            0.6,
            "accepts DICOM associations (storage SCP)".into(),
            &f.evidence,
        );
    }
    // HL7 roles.
    let hl7_peers = facts
        .iter()
        .filter(|f| f.kind == FactKind::Hl7Application)
        .count();
    if let Some(f) = has(FactKind::Role, "hl7-receiver") {
        let w = if hl7_peers > 1 { 0.6 } else { 0.45 };
        add(
            Category::Hl7InterfaceEngine,
            w,
            format!("receives HL7 over MLLP ({hl7_peers} application/facility names)"),
            &f.evidence,
        );
    }
    if let Some(f) = has(FactKind::Role, "hl7-sender") {
        let types: Vec<&str> = facts
            .iter()
            .filter(|f| f.kind == FactKind::Hl7MessageType)
            .map(|f| f.value.as_str())
            .collect();
        if types.iter().any(|t| t.starts_with("ORU")) {
            add(
                Category::MedicalDevice,
                0.45,
                "sends HL7 observation results (ORU)".into(),
                &f.evidence,
            );
        }
        if types.iter().any(|t| {
            t.starts_with("ADT")
                || t.starts_with("ORM")
                || t.starts_with("SIU")
                || t.starts_with("DFT")
                || t.starts_with("BAR")
        }) {
            add(
                Category::ClinicalInformationSystem,
                0.55,
                "sends HL7 ADT/orders/scheduling/billing messages".into(),
                &f.evidence,
            );
        }
    }
    // ASTM E1394 / LIS2-A2 roles: the instrument sends results and queries,
    // the laboratory information system receives them and sends orders.
    if let Some(f) = has(FactKind::Role, "astm-instrument") {
        add(
            Category::LabAnalyzer,
            0.7,
            "sends laboratory results or host queries over ASTM (E1394/LIS2-A2)".into(),
            &f.evidence,
        );
    }
    if let Some(f) = has(FactKind::Role, "astm-host") {
        add(
            Category::ClinicalInformationSystem,
            0.5,
            "laboratory information system: receives ASTM results, sends orders".into(),
            &f.evidence,
        );
    }
    // CLSI POCT1-A2: the device (glucose meter, blood gas or coagulation
    // analyzer) says hello, reports status and observations to its data
    // manager.
    if let Some(f) = has(FactKind::Role, "poct-device") {
        add(
            Category::LabAnalyzer,
            0.7,
            "point-of-care analyzer: sends POCT1-A2 hello, status and observations".into(),
            &f.evidence,
        );
    }
    if let Some(f) = has(FactKind::Role, "poct-data-manager") {
        add(
            Category::ClinicalInformationSystem,
            0.5,
            "point-of-care data manager: receives POCT1-A2 device messages".into(),
            &f.evidence,
        );
    }
    // Modbus/TCP: the server end is a PLC, a building-automation controller
    // or a gateway to field devices.
    if let Some(f) = has(FactKind::Role, "modbus-server") {
        add(
            Category::IotDevice,
            0.5,
            "Modbus/TCP server (PLC, building-automation controller or field gateway)".into(),
            &f.evidence,
        );
    }
    // BACnet: the device end (I-Am, answers about its device object) is a
    // building-automation controller.
    if let Some(f) = has(FactKind::Role, "bacnet-device") {
        add(
            Category::IotDevice,
            0.5,
            "BACnet device (building-automation controller: HVAC, lighting, access)".into(),
            &f.evidence,
        );
    }
    // SIP: the agent that registers is a phone or handset (nurse call,
    // DECT/Wi-Fi handsets); the host it registers with is a registrar.
    let registrar = has(FactKind::Role, "sip-registrar");
    if let Some(f) = registrar {
        add(
            Category::Server,
            0.5,
            "SIP registrar: phones register with it".into(),
            &f.evidence,
        );
    }
    if let Some(f) = has(FactKind::Role, "sip-ua").filter(|_| registrar.is_none()) {
        add(
            Category::VoipPhone,
            0.6,
            "SIP user agent: registers with a registrar or places calls".into(),
            &f.evidence,
        );
    }
    // UPnP device types announced over SSDP that say what the device is.
    if has(FactKind::Role, "upnp-device").is_some() {
        for f in facts.iter().filter(|f| f.kind == FactKind::Application) {
            let Some(t) = f.value.strip_prefix("upnp device=") else {
                continue;
            };
            if t.contains(":device:Printer:") {
                add(
                    Category::Printer,
                    0.6,
                    format!("announces UPnP device type {t}"),
                    &f.evidence,
                );
            } else if t.contains(":device:InternetGatewayDevice:")
                || t.contains(":device:WLANAccessPointDevice:")
            {
                add(
                    Category::NetworkGear,
                    0.6,
                    format!("announces UPnP device type {t}"),
                    &f.evidence,
                );
            }
        }
    }
    // NetBIOS browser announcements: what the host says it runs.
    for (role, category, weight, why) in [
        (
            "netbios-domain-controller",
            Category::Server,
            0.5,
            "announces itself as a domain controller (NetBIOS browser)",
        ),
        (
            "netbios-sql-server",
            Category::Server,
            0.4,
            "announces a SQL server (NetBIOS browser)",
        ),
        (
            "netbios-workstation",
            Category::Workstation,
            0.2,
            "announces itself as a workstation (NetBIOS browser)",
        ),
    ] {
        if let Some(f) = has(FactKind::Role, role) {
            add(category, weight, why.into(), &f.evidence);
        }
    }
    // An IEEE 11073 SDC provider announces itself as a networked medical device.
    if let Some(f) = has(FactKind::Role, "sdc-provider") {
        add(
            Category::MedicalDevice,
            0.6,
            "announces an IEEE 11073 SDC MedicalDevice (WS-Discovery)".into(),
            &f.evidence,
        );
    }
    // A CoAP server is a constrained device (sensor, gateway, actuator).
    if let Some(f) = has(FactKind::Role, "coap-server") {
        add(
            Category::IotDevice,
            0.3,
            "serves CoAP resources (constrained IoT device)".into(),
            &f.evidence,
        );
    }
    // Services and capabilities.
    for f in facts {
        match f.kind {
            FactKind::ServiceOffered => {
                let port = f
                    .value
                    .rsplit('/')
                    .next()
                    .and_then(|p| p.parse::<u16>().ok())
                    .unwrap_or(0);
                match port {
                    9100 | 515 | 631 => add(
                        Category::Printer,
                        0.6,
                        format!("offers printing service {}", f.value),
                        &f.evidence,
                    ),
                    445 | 139 | 3389 | 1433 | 3306 | 5432 | 389 | 88 => add(
                        Category::Server,
                        0.3,
                        format!("offers server service {}", f.value),
                        &f.evidence,
                    ),
                    _ => {}
                }
            }
            FactKind::Capability => match f.value.as_str() {
                "router" | "bridge" | "wlan-access-point" | "wlan access point" | "repeater"
                | "switch" => add(
                    Category::NetworkGear,
                    0.8,
                    format!("announces {} capability ({})", f.value, f.source),
                    &f.evidence,
                ),
                "telephone" | "phone" => add(
                    Category::VoipPhone,
                    0.8,
                    format!("announces telephone capability ({})", f.source),
                    &f.evidence,
                ),
                _ => {}
            },
            FactKind::MdnsService
                if f.value.contains("_ipp")
                    || f.value.contains("_printer")
                    || f.value.contains("_pdl-datastream") =>
            {
                add(
                    Category::Printer,
                    0.7,
                    format!("advertises {} over mDNS", f.value),
                    &f.evidence,
                )
            }
            FactKind::Smb1 | FactKind::Os if f.source == "smb" => add(
                Category::Workstation,
                0.2,
                format!("speaks SMB ({})", f.value),
                &f.evidence,
            ),
            _ => {}
        }
    }
    // Serving addresses and names to others: the network's gateway.
    let dns_server = has(FactKind::Role, "dns-server").is_some();
    if let Some(d) = has(FactKind::Role, "dhcp-server").filter(|_| dns_server) {
        add(
            Category::NetworkGear,
            0.6,
            "gateway: serves DHCP and DNS to the network".into(),
            &d.evidence,
        );
    } else if let Some(d) = has(FactKind::Role, "dhcp-server") {
        add(
            Category::NetworkGear,
            0.4,
            "serves DHCP (router or gateway)".into(),
            &d.evidence,
        );
    }
    reasons.extend(crate::ble::reasons(facts));
    reasons
}

/// Combines reasons per category: the winner, its confidence, the reasons
/// (winners first, strongest first, at most 16).
pub(crate) fn combine(mut reasons: Vec<Reason>) -> (Category, f32, Vec<Reason>) {
    // Combine per category.
    let mut scores: Vec<(Category, f32)> = Vec::new();
    for r in &reasons {
        match scores.iter_mut().find(|(c, _)| *c == r.category) {
            Some((_, miss)) => *miss *= 1.0 - r.weight.clamp(0.0, 0.99),
            None => scores.push((r.category, 1.0 - r.weight.clamp(0.0, 0.99))),
        }
    }
    let best = scores
        .iter()
        .map(|(c, miss)| (*c, 1.0 - miss))
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
    let (cat, conf) = best.unwrap_or((Category::Unknown, 0.0));
    // Ties in the text, so that the order (and which reasons the limit
    // keeps) does not depend on the order the facts came in: a run's own
    // build and a rebuild from the store read them in different orders.
    reasons.sort_by(|a, b| {
        (b.category == cat)
            .cmp(&(a.category == cat))
            .then(b.weight.total_cmp(&a.weight))
            .then_with(|| a.why.cmp(&b.why))
            .then_with(|| a.evidence.cmp(&b.evidence))
    });
    reasons.truncate(16);
    (cat, (conf * 100.0).round() / 100.0, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::EndpointKey;
    use model::Timestamp;

    fn fact(kind: FactKind, value: &str) -> Fact {
        Fact {
            endpoint: EndpointKey {
                mac: None,
                ip: None,
            },
            kind,
            value: value.into(),
            source: "test".into(),
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
            count: 1,
            evidence: "flow 1".into(),
        }
    }

    #[test]
    fn ct_scanner_is_a_modality() {
        let f = [
            fact(FactKind::Role, "dicom-scu"),
            fact(FactKind::SopClass, "1.2.840.10008.5.1.4.1.1.2"),
            fact(FactKind::AeTitle, "MODALITY_CT"),
        ];
        let refs: Vec<&Fact> = f.iter().collect();
        let (c, conf, reasons) = classify(&refs, None);
        assert_eq!(c, Category::ImagingModality);
        assert!(conf > 0.7, "{conf}");
        assert!(reasons[0].why.contains("CT"));
    }

    /// Reasons of equal weight come out in one order, whatever order the
    /// facts behind them came in.
    #[test]
    fn the_order_of_facts_does_not_order_the_reasons() {
        let f = [
            fact(FactKind::Os, "Windows NT 6.1"),
            fact(FactKind::Software, "Mozilla/5.0 (Windows NT 6.1; rv:11.0)"),
            fact(FactKind::Hostname, "WIN7-WORKSTATION"),
        ];
        let refs: Vec<&Fact> = f.iter().collect();
        let reversed: Vec<&Fact> = f.iter().rev().collect();
        let (a, b) = (classify(&refs, None), classify(&reversed, None));
        assert!(a.2.len() > 1, "{:?}", a.2);
        assert_eq!(a, b);
    }

    #[test]
    fn pump_by_hl7_application() {
        let f = [
            fact(FactKind::Role, "hl7-sender"),
            fact(FactKind::Hl7MessageType, "ORU^R01"),
            fact(FactKind::Hl7Application, "ALARIS^ICU"),
        ];
        let refs: Vec<&Fact> = f.iter().collect();
        assert_eq!(classify(&refs, None).0, Category::InfusionPump);
    }

    #[test]
    fn nothing_known_is_unknown() {
        assert_eq!(classify(&[], None).0, Category::Unknown);
        let f = [fact(FactKind::Hostname, "label-maker")];
        let refs: Vec<&Fact> = f.iter().collect();
        assert_eq!(
            classify(&refs, None).0,
            Category::Unknown,
            "'lab' must match whole words only"
        );
    }
}
