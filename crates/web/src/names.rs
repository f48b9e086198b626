//! What people read instead of internal names: the display name of every
//! alert kind (one table, [`ALERT_KINDS`]) and of every device category
//! (`identify::Category::label`), filters that accept both the JSON
//! spelling (`infusion_pump`, `port_scan`) and the display one
//! (`infusion pump`, `Port scan`), and a device's best name ([`DeviceLabel`]):
//! host name, DICOM AE title, HL7 application or declared model/location
//! (`app::scored_devices` puts them in that order), else its model, with
//! category and address beside it and the key in small print. Every page and
//! chart names kinds, categories and devices through here.

use app::ScoredDevice;
use monitor::AlertKind;

/// Display name of every alert kind, in [`monitor::ALL_KINDS`] order.
pub const ALERT_KINDS: &[(AlertKind, &str)] = &[
    (AlertKind::NewDevice, "New device"),
    (AlertKind::NewPeer, "New peer"),
    (AlertKind::NewPort, "New port"),
    (AlertKind::NewProtocol, "New protocol"),
    (AlertKind::InternetTraffic, "Internet traffic"),
    (AlertKind::CleartextCredential, "Cleartext login"),
    (
        AlertKind::UnauthorizedManagementAccess,
        "Unauthorized management access",
    ),
    (AlertKind::PortScan, "Port scan"),
    (AlertKind::SmbFanout, "SMB fan-out"),
    (AlertKind::Hl7UnexpectedSender, "Unexpected HL7 sender"),
    (AlertKind::DicomUnknownAe, "Unknown DICOM AE title"),
    (AlertKind::ImplausibleObservation, "Implausible observation"),
    (AlertKind::PolicyViolation, "Policy violation"),
    (AlertKind::OffHours, "Off-hours activity"),
    (AlertKind::VolumeSpike, "Traffic volume spike"),
    (AlertKind::NewAdvisoryMatch, "New advisory for this device"),
];

/// The display name of an alert kind.
pub fn kind(k: AlertKind) -> &'static str {
    ALERT_KINDS
        .iter()
        .find(|(x, _)| *x == k)
        .map_or(k.as_str(), |(_, n)| n)
}

/// The display name of a stored kind name (`port_scan`); an unknown one as is.
pub fn kind_str(s: &str) -> String {
    parse_kind(s).map_or_else(|| s.to_string(), |k| kind(k).to_string())
}

/// Lower case, `_` and `-` as spaces, spaces folded: `Infusion_Pump` and
/// `infusion  pump` compare equal.
pub fn fold(s: &str) -> String {
    s.split(|c: char| c == '_' || c == '-' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// An alert kind from its JSON spelling (`port_scan`) or its display name
/// (`Port scan`, any case).
pub fn parse_kind(s: &str) -> Option<AlertKind> {
    let f = fold(s);
    ALERT_KINDS
        .iter()
        .find(|(k, n)| fold(k.as_str()) == f || fold(n) == f)
        .map(|(k, _)| *k)
}

/// True when a category filter (`infusion_pump`, `infusion pump`,
/// `Infusion pump`) names the category whose display label is `label`.
pub fn category_matches(filter: &str, label: &str) -> bool {
    fold(filter) == fold(label)
}

/// The display label of a category given in either spelling (the JSON one,
/// `infusion_pump`, or the label); an unknown one as given.
pub fn category(s: &str) -> String {
    identify::ALL_CATEGORIES
        .iter()
        .map(|c| c.label())
        .find(|l| category_matches(s, l))
        .map_or_else(|| s.to_string(), str::to_string)
}

/// How a device is named on every page: its best name, then category and
/// address, its key in small print (only when a name is shown).
#[derive(Debug, Clone, Default)]
pub struct DeviceLabel {
    /// The device key (link target).
    pub key: String,
    /// What people read first: the best name, else the key.
    pub name: String,
    /// Category and first address (`infusion pump · 10.1.2.3`).
    pub detail: String,
    /// True when `name` is a name (not the key).
    pub named: bool,
    /// True when the device is in the inventory (it has a page).
    pub linked: bool,
}

/// The best name of a device: the first of its names (host name, DICOM AE
/// title, HL7 application, declared model or location), else vendor and
/// model. `None`: nothing names it.
pub fn best_name(d: &ScoredDevice) -> Option<String> {
    if let Some(n) = d.names.iter().find(|n| !n.trim().is_empty()) {
        return Some(n.clone());
    }
    let m = d.model.as_deref().filter(|m| !m.trim().is_empty())?;
    Some(match d.vendor.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(v) if !m.starts_with(v) => format!("{v} {m}"),
        _ => m.to_string(),
    })
}

impl DeviceLabel {
    /// The label of an inventory device.
    pub fn of(d: &ScoredDevice) -> DeviceLabel {
        let name = best_name(d);
        let mut detail = vec![d.category.to_string()];
        if let Some(ip) = d.ips.first() {
            detail.push(ip.clone());
        }
        DeviceLabel {
            key: d.assessment.key.clone(),
            named: name.is_some(),
            name: name.unwrap_or_else(|| d.assessment.key.clone()),
            detail: detail.join(" · "),
            linked: true,
        }
    }

    /// The label of a key that may not be in the inventory (an alert's or
    /// an intake record's device): the inventory device's label when found
    /// (by key, or for `ip:ADDR` by address), else the key itself.
    pub fn of_key(snap: &crate::snapshot::Snapshot, key: &str) -> DeviceLabel {
        match crate::alerts::device_link(snap, key).and_then(|k| snap.get(&k)) {
            Some(d) => DeviceLabel::of(d),
            None => DeviceLabel {
                key: key.to_string(),
                name: key.to_string(),
                detail: String::new(),
                named: false,
                linked: false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_display_name_and_both_spellings_parse() {
        assert_eq!(ALERT_KINDS.len(), monitor::ALL_KINDS.len());
        for (i, k) in monitor::ALL_KINDS.iter().enumerate() {
            assert_eq!(ALERT_KINDS[i].0, *k, "table in ALL_KINDS order");
            let n = kind(*k);
            assert!(!n.contains('_'), "{n}");
            assert_eq!(parse_kind(k.as_str()), Some(*k));
            assert_eq!(parse_kind(n), Some(*k));
            assert_eq!(parse_kind(&n.to_uppercase()), Some(*k));
        }
        assert_eq!(
            kind_str("unauthorized_management_access"),
            "Unauthorized management access"
        );
        assert_eq!(kind_str("something_else"), "something_else");
        assert_eq!(parse_kind("nope"), None);
    }

    #[test]
    fn categories_accept_both_spellings() {
        for c in identify::ALL_CATEGORIES {
            let json = serde_json::to_value(c).unwrap();
            let json = json.as_str().unwrap();
            assert!(category_matches(json, c.label()), "{json}");
            assert!(category_matches(c.label(), c.label()));
            assert_eq!(category(json), c.label());
        }
        assert!(category_matches("infusion_pump", "infusion pump"));
        assert!(category_matches("Infusion  Pump", "infusion pump"));
        assert!(!category_matches("infusion", "infusion pump"));
        assert_eq!(category("voip_phone"), "VoIP phone");
    }
}
