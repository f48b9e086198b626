//! [`ScoredDevice`]: what scoring produces for one device — who it is (as
//! far as the evidence says), its assessment and the advisories that match
//! it. The application layer (`app::score`) builds them; reports and the
//! dashboard render them.

use crate::Assessment;
use advisory::Match;
use serde::Serialize;

/// Where a device is known from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// Seen in traffic.
    Observed,
    /// Declared in a CMMS import.
    Declared,
    /// Declared in a CMMS import and seen in traffic: one device.
    #[serde(rename = "declared+observed")]
    Linked,
}

impl DeviceKind {
    /// `observed`, `declared` or `declared+observed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Observed => "observed",
            DeviceKind::Declared => "declared",
            DeviceKind::Linked => "declared+observed",
        }
    }
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One device, scored.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredDevice {
    /// Observed (from traffic) or declared (CMMS import).
    pub kind: DeviceKind,
    /// Category label.
    pub category: &'static str,
    /// True for clinical categories.
    pub medical: bool,
    /// Vendor.
    pub vendor: Option<String>,
    /// Model, when known.
    pub model: Option<String>,
    /// Firmware or software version, when known.
    pub firmware: Option<String>,
    /// Names (host names, declared location).
    pub names: Vec<String>,
    /// Addresses.
    pub ips: Vec<String>,
    /// Score and factors (its `key` is the device's key).
    #[serde(flatten)]
    pub assessment: Assessment,
    /// Advisories that match it, best first.
    pub advisories: Vec<Match>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialize_as_their_names() {
        assert_eq!(
            serde_json::to_string(&DeviceKind::Declared).unwrap(),
            "\"declared\""
        );
        assert_eq!(DeviceKind::Observed.to_string(), "observed");
        assert_eq!(
            serde_json::to_string(&DeviceKind::Linked).unwrap(),
            format!("\"{}\"", DeviceKind::Linked)
        );
    }
}
