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
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

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
    /// The device's first address (observed devices; declared ones that
    /// give one): where a `new_advisory_match` alert points.
    #[serde(skip)]
    pub ip: Option<IpAddr>,
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
            ip: a
                .observed
                .as_ref()
                .and_then(|o| o.ips.first().copied())
                .or_else(|| d.and_then(|d| d.ip.trim().parse().ok())),
            linked: a.link.as_ref().map(|l| l.describe()),
            matches: match_identities(&a.identities(), &adb),
        });
    }
    Ok((out, adb))
}

/// The (device, CVE) pairs that match, with the match for each.
fn matched_pairs(
    devices: &[DeviceMatches],
) -> BTreeMap<(String, String), (&DeviceMatches, &Match)> {
    let mut out = BTreeMap::new();
    for d in devices {
        for m in &d.matches {
            let vuln = if m.cve.is_empty() {
                &m.advisory
            } else {
                &m.cve
            };
            out.entry((d.key.clone(), vuln.clone())).or_insert((d, m));
        }
    }
    out
}

/// Longest advisory text quoted in an alert summary (characters).
const SUMMARY_TEXT: usize = 160;

fn short(s: &str) -> String {
    let s = model::text::clean(s);
    match s.char_indices().nth(SUMMARY_TEXT) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.into_owned(),
    }
}

/// One `new_advisory_match` alert per device and advisory for every
/// (device, CVE) pair that matches in `after` but did not in `before`: an
/// advisory new to the store, a newer revision that widens its affected
/// versions, or a newly declared device. The alert's key is the advisory
/// id, its summary names the advisory, the CVEs, the product entry and rule
/// that matched (the evidence an engineer checks), its counters the CVE
/// count and the best CVSS ×10, and its time is `now` (the import's wall
/// clock: the news is the import, not a packet).
pub fn new_match_alerts(
    before: &[DeviceMatches],
    after: &[DeviceMatches],
    now: model::Timestamp,
) -> Vec<monitor::Alert> {
    let known = matched_pairs(before);
    // (device key, advisory id) → the new matches of that advisory on that device.
    let mut fresh: BTreeMap<(String, String), Vec<(&DeviceMatches, &Match)>> = BTreeMap::new();
    for (pair, (d, m)) in matched_pairs(after) {
        if !known.contains_key(&pair) {
            fresh
                .entry((d.key.clone(), m.advisory.clone()))
                .or_default()
                .push((d, m));
        }
    }
    fresh
        .into_iter()
        .map(|((device, advisory), found)| {
            let (d, first) = found[0];
            let cves: Vec<&str> = found
                .iter()
                .map(|(_, m)| m.cve.as_str())
                .filter(|c| !c.is_empty())
                .collect();
            let best = found
                .iter()
                .filter_map(|(_, m)| m.cvss)
                .fold(None, |a: Option<f32>, c| Some(a.map_or(c, |a| a.max(c))));
            let kev = found.iter().any(|(_, m)| m.kev.is_some());
            let what = [
                d.vendor.as_deref(),
                d.model.as_deref(),
                d.firmware.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let mut summary = format!(
                "{} ({}) now matches {}: product {} by rule {}",
                short(&advisory),
                if cves.is_empty() {
                    "no CVE".to_string()
                } else {
                    short(&cves.join(", "))
                },
                if what.is_empty() {
                    short(&device)
                } else {
                    short(&what)
                },
                short(&first.product),
                short(&first.rule),
            );
            if kev {
                summary.push_str("; known exploited (KEV)");
            }
            if let Some(fix) = &first.remediation {
                summary.push_str("; fix: ");
                summary.push_str(&short(fix));
            }
            let mut counts = BTreeMap::new();
            counts.insert("cves".to_string(), found.len() as u64);
            if let Some(c) = best {
                counts.insert("cvss_x10".to_string(), (c * 10.0).round() as u64);
            }
            let severity = match best {
                _ if kev => monitor::Severity::Critical,
                Some(c) if c >= 9.0 => monitor::Severity::Critical,
                Some(c) if c < 4.0 => monitor::Severity::Medium,
                _ => monitor::AlertKind::NewAdvisoryMatch.severity(),
            };
            monitor::Alert {
                kind: monitor::AlertKind::NewAdvisoryMatch,
                severity,
                ip: d.ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                device,
                key: advisory,
                summary,
                evidence: monitor::Evidence {
                    flow: None,
                    first_packet: now,
                    last_packet: now,
                    counts,
                },
                count: 1,
                first_seen: now,
                last_seen: now,
            }
        })
        .collect()
}

/// What [`import_feeds`] did: the import's counts and the alerts it raised.
#[derive(Debug)]
pub struct FeedImport {
    /// Per kind of feed item.
    pub report: store::ImportReport,
    /// One per device and newly matching advisory, stored.
    pub alerts: Vec<monitor::Alert>,
}

/// Stores parsed feed files (and the sync states) in one transaction, then
/// raises and stores a `new_advisory_match` alert for every device that an
/// advisory matches now and did not before ([`new_match_alerts`]) — unless
/// the store held no advisory before: that first import is the baseline.
/// Alerts fold like the others: importing the same feed again raises
/// nothing new.
pub fn import_feeds(
    store: &mut store::Store,
    files: &[advisory::FeedFile],
    sync: &[store::SyncState],
    now: model::Timestamp,
) -> Result<FeedImport> {
    let held = store.feed_totals()?;
    // The first advisories a store receives are its baseline: their matches
    // are the devices' findings (`ward risk`), not news, and a fresh install
    // importing the whole ICSMA catalog must not open an alert per match.
    let baseline = held.csaf + held.nvd == 0;
    // Matching every asset is the costly part: only when alerts can follow.
    let before = if baseline {
        None
    } else {
        Some(device_matches(store)?.0)
    };
    let report = store.import_feeds_synced(files, sync)?;
    let alerts = match before {
        None => Vec::new(),
        Some(before) => new_match_alerts(&before, &device_matches(store)?.0, now),
    };
    store.store_alerts_at(&alerts, now.secs())?;
    Ok(FeedImport { report, alerts })
}
