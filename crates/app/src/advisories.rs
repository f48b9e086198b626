//! Devices with the advisories that match them, and why: one row per asset
//! (`store::assets`) — a declared device (CMMS import), an observed one, or
//! both linked by MAC, serial, IP or host name — matched under every
//! identity it has (declared vendor/model/firmware, the observed models with
//! that firmware, software strings) and merged once
//! ([`advisory::match_identities`]): one finding per CVE, every source
//! behind it listed.

use crate::Result;
use advisory::{match_identities, Match};
use serde::Serialize;

/// One device and its matches.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceMatches {
    /// `declared`, `observed` or `declared+observed`.
    pub kind: &'static str,
    /// Inventory key (observed), else `declared:` and the declared key.
    pub key: String,
    /// Vendor (declared first).
    pub vendor: Option<String>,
    /// Model (declared first).
    pub model: Option<String>,
    /// Firmware (declared first, else what the device states).
    pub firmware: Option<String>,
    /// Serial number (declared devices).
    pub serial: Option<String>,
    /// Asset tag (declared devices).
    pub asset_tag: Option<String>,
    /// Location (declared devices).
    pub location: Option<String>,
    /// Why a declared row and an observed device are one asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked: Option<String>,
    /// The advisories that match, best first.
    pub matches: Vec<Match>,
}

fn opt(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}

/// Every device in the store as one asset, declared first, with its
/// matches; and the advisory database they were matched against.
pub fn device_matches(store: &store::Store) -> Result<(Vec<DeviceMatches>, advisory::AdvisoryDb)> {
    let adb = store.advisory_db()?;
    let mut out = Vec::new();
    for a in store.assets()? {
        let d = a.declared.as_ref();
        out.push(DeviceMatches {
            kind: a.kind(),
            key: a.key(),
            vendor: a.vendor(),
            model: a.model(),
            firmware: a.firmware(),
            serial: d.and_then(|d| opt(&d.serial)),
            asset_tag: d.and_then(|d| opt(&d.asset_tag)),
            location: d.and_then(|d| opt(&d.location)),
            linked: a.link.as_ref().map(|l| l.describe()),
            matches: match_identities(&a.identities(), &adb),
        });
    }
    Ok((out, adb))
}
