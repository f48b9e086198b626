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
}

/// Keyword → category hints, matched case-insensitively against names,
/// applications, models, vendors and software strings.
const KEYWORDS: &[(&str, Category, f32)] = &[
    ("infus", Category::InfusionPump, 0.6),
    ("pump", Category::InfusionPump, 0.5),
    ("alaris", Category::InfusionPump, 0.7),
    ("sigma spectrum", Category::InfusionPump, 0.7),
    ("plum", Category::InfusionPump, 0.4),
    ("b. braun", Category::InfusionPump, 0.3),
    ("monitor", Category::PatientMonitor, 0.5),
    ("intellivue", Category::PatientMonitor, 0.8),
    ("carescape", Category::PatientMonitor, 0.8),
    ("vital", Category::PatientMonitor, 0.4),
    ("bedside", Category::PatientMonitor, 0.5),
    ("spacelabs", Category::PatientMonitor, 0.5),
    ("nihon kohden", Category::PatientMonitor, 0.4),
    ("mindray", Category::PatientMonitor, 0.4),
    ("drager", Category::PatientMonitor, 0.3),
    ("draeger", Category::PatientMonitor, 0.3),
    ("pacs", Category::Pacs, 0.7),
    ("archive", Category::Pacs, 0.4),
    ("modality", Category::ImagingModality, 0.6),
    ("scanner", Category::ImagingModality, 0.4),
    ("ultrasound", Category::ImagingModality, 0.6),
    ("workstation", Category::ImagingWorkstation, 0.3),
    ("viewer", Category::ImagingWorkstation, 0.4),
    ("lab", Category::LabAnalyzer, 0.4),
    ("analyzer", Category::LabAnalyzer, 0.5),
    ("analyser", Category::LabAnalyzer, 0.5),
    ("lis", Category::LabAnalyzer, 0.3),
    ("epic", Category::ClinicalInformationSystem, 0.5),
    ("cerner", Category::ClinicalInformationSystem, 0.5),
    ("ehr", Category::ClinicalInformationSystem, 0.5),
    ("his", Category::ClinicalInformationSystem, 0.3),
    ("emr", Category::ClinicalInformationSystem, 0.5),
    ("mirth", Category::Hl7InterfaceEngine, 0.8),
    ("rhapsody", Category::Hl7InterfaceEngine, 0.7),
    ("cloverleaf", Category::Hl7InterfaceEngine, 0.8),
    ("interface engine", Category::Hl7InterfaceEngine, 0.8),
    ("printer", Category::Printer, 0.7),
    ("laserjet", Category::Printer, 0.8),
    ("officejet", Category::Printer, 0.8),
    ("epson", Category::Printer, 0.4),
    ("zebra", Category::Printer, 0.5),
    ("cisco ios", Category::NetworkGear, 0.7),
    ("switch", Category::NetworkGear, 0.5),
    ("router", Category::NetworkGear, 0.5),
    ("junos", Category::NetworkGear, 0.7),
    ("procurve", Category::NetworkGear, 0.7),
    ("access point", Category::NetworkGear, 0.6),
    ("iphone", Category::MobileDevice, 0.7),
    ("ipad", Category::MobileDevice, 0.7),
    ("android", Category::MobileDevice, 0.6),
    ("windows nt", Category::Workstation, 0.4),
    ("msft 5.0", Category::Workstation, 0.5),
    ("windows", Category::Workstation, 0.3),
    ("withings", Category::MedicalDevice, 0.6),
    ("fitbit", Category::MedicalDevice, 0.5),
    ("kardia", Category::MedicalDevice, 0.7),
    ("alivecor", Category::MedicalDevice, 0.7),
    ("medtronic", Category::MedicalDevice, 0.6),
    ("baxter", Category::InfusionPump, 0.5),
    ("hospira", Category::InfusionPump, 0.6),
    ("icu medical", Category::InfusionPump, 0.5),
    ("carefusion", Category::InfusionPump, 0.5),
    ("becton", Category::InfusionPump, 0.3),
    ("philips medical", Category::PatientMonitor, 0.4),
    ("ge healthcare", Category::MedicalDevice, 0.4),
    ("siemens healthineers", Category::ImagingModality, 0.4),
    ("sysmex", Category::LabAnalyzer, 0.7),
    ("advia", Category::LabAnalyzer, 0.7),
    ("healthcare diagnostics", Category::LabAnalyzer, 0.5),
    ("roche diagnostics", Category::LabAnalyzer, 0.5),
    ("beckman", Category::LabAnalyzer, 0.5),
    ("abbott", Category::LabAnalyzer, 0.4),
    ("cobas", Category::LabAnalyzer, 0.7),
    ("welch allyn", Category::PatientMonitor, 0.5),
    ("masimo", Category::PatientMonitor, 0.6),
    ("ventilator", Category::MedicalDevice, 0.6),
    ("camera", Category::IotDevice, 0.4),
    ("wyze", Category::IotDevice, 0.5),
    ("espressif", Category::IotDevice, 0.4),
    ("tuya", Category::IotDevice, 0.4),
];

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

/// Bit `b` set for every ASCII byte `b` of `s`.
const fn ascii_mask(s: &str) -> u128 {
    let b = s.as_bytes();
    let mut m = 0u128;
    let mut i = 0;
    while i < b.len() {
        if b[i] < 128 {
            m |= 1 << b[i];
        }
        i += 1;
    }
    m
}

/// [`ascii_mask`] of each keyword (all ASCII): a keyword whose bytes are not
/// all in a text cannot occur in it, which rules most keywords out at once.
const KEYWORD_MASKS: [u128; KEYWORDS.len()] = {
    let mut out = [0; KEYWORDS.len()];
    let mut i = 0;
    while i < KEYWORDS.len() {
        out[i] = ascii_mask(KEYWORDS[i].0);
        i += 1;
    }
    out
};

/// The keywords that occur in `hay` (lowercase), in `KEYWORDS` order.
fn keywords_in(hay: &str) -> impl Iterator<Item = &'static (&'static str, Category, f32)> + '_ {
    let have = ascii_mask(hay);
    KEYWORDS
        .iter()
        .zip(KEYWORD_MASKS)
        .filter(move |(kw, need)| need & !have == 0 && word_match(hay, kw.0))
        .map(|(kw, _)| kw)
}

fn word_match(hay: &str, kw: &str) -> bool {
    // Short keywords must match whole words ("lab" in "lab1", not in "label").
    if kw.len() > 4 {
        return hay.contains(kw);
    }
    hay.match_indices(kw).any(|(i, _)| {
        let before = hay[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphabetic());
        let after = hay[i + kw.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_alphabetic());
        before && after
    })
}

/// Classifies a device from its facts and vendor. Returns the winning
/// category, its confidence and every reason considered (winners first).
pub fn classify(facts: &[&Fact], vendor: Option<&str>) -> (Category, f32, Vec<Reason>) {
    let mut reasons: Vec<Reason> = Vec::new();
    let mut add = |category, weight: f32, why: String, evidence: &str| {
        reasons.push(Reason {
            category,
            weight,
            why,
            evidence: evidence.to_string(),
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
        // Keyword hints in self-descriptions.
        if matches!(
            f.kind,
            FactKind::Hostname
                | FactKind::Hl7Application
                | FactKind::AeTitle
                | FactKind::Model
                | FactKind::Manufacturer
                | FactKind::Software
                | FactKind::DhcpVendorClass
                | FactKind::Os
        ) {
            let hay = f.value.to_ascii_lowercase();
            for (kw, cat, w) in keywords_in(&hay) {
                add(
                    *cat,
                    *w,
                    format!(
                        "{} \"{}\" mentions \"{kw}\"",
                        f.kind.as_str().replace('_', " "),
                        f.value
                    ),
                    &f.evidence,
                );
            }
        }
    }
    for r in crate::ble::reasons(facts) {
        add(r.category, r.weight, r.why, &r.evidence);
    }
    if let Some(v) = vendor {
        let hay = v.to_ascii_lowercase();
        for (_, cat, w) in keywords_in(&hay) {
            add(
                *cat,
                *w * 0.8,
                format!("MAC vendor \"{v}\" (IEEE OUI)"),
                "IEEE OUI registry",
            );
        }
    }

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
    reasons.sort_by(|a, b| {
        (b.category == cat)
            .cmp(&(a.category == cat))
            .then(b.weight.total_cmp(&a.weight))
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
    fn keyword_prefilter_keeps_every_match() {
        for hay in [
            "philips medical systems",
            "lab1 analyzer",
            "label-maker",
            "hp laserjet 4250",
            "cisco ios software",
            "",
            "é lab é",
            "windows nt 6.1",
        ] {
            let slow: Vec<&str> = KEYWORDS
                .iter()
                .filter(|(kw, _, _)| word_match(hay, kw))
                .map(|(kw, _, _)| *kw)
                .collect();
            let fast: Vec<&str> = keywords_in(hay).map(|(kw, _, _)| *kw).collect();
            assert_eq!(fast, slow, "{hay}");
        }
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
