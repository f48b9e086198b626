//! Matching a device against the advisories: [`match_device`].
//!
//! For every product entry of every advisory:
//! 1. **Vendor.** When the device's vendor is known it must match the
//!    product's vendor ([`crate::normalize::vendors_match`]); when unknown,
//!    matching goes on at reduced confidence (×0.8).
//! 2. **Model.** The device's model words must equal the product's (also
//!    ignoring spaces: "ApexPro" = "Apex Pro") — *exact* — or one must be a
//!    contiguous run of the other's words ("Sigma Spectrum" in "Sigma Spectrum
//!    Infusion System") — *partial*. A device without a model matches on
//!    vendor alone (*vendor only*), never a device whose model differs.
//! 3. **Version.** The product's [`VersionRule`] is checked against the
//!    firmware: *in* → matched, *out* → no match (a fixed version is not
//!    affected), *all versions*, or *unknown* (no firmware, or text that does
//!    not compare) → matched at lower confidence.
//! 4. **Status.** Only products the advisory lists as affected for a CVE
//!    produce matches; if the device's version is *in* a product listed as
//!    fixed or not affected for that CVE, the CVE is not reported for that
//!    advisory.
//!
//! Confidence (documented contract, see [`Strength`]): model+version in rule
//! 0.95 (partial model 0.80); model, rule covers all versions 0.75 (0.60);
//! model, version unknown 0.50 (0.40); vendor only 0.15. One match per
//! (advisory, CVE): the most confident.

use crate::model::{Advisory, KevEntry, Source, Status};
use crate::normalize::{fold, model_words, vendor_keys, vendors_match};
use crate::version::{CompiledRule, Verdict, Version};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What is known about a device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    /// Manufacturer.
    pub vendor: Option<String>,
    /// Model or product name.
    pub model: Option<String>,
    /// Firmware or software version.
    pub firmware: Option<String>,
}

/// How strong the evidence of a match is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// Vendor matches; the device's model is unknown.
    VendorOnly,
    /// Model matches; the version could not be compared.
    ModelUnknownVersion,
    /// Model matches; the advisory covers all versions.
    ModelAllVersions,
    /// Model matches and the version is within the affected rule.
    ModelAndVersion,
}

/// One advisory/CVE that applies to a device, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// Advisory id (CSAF tracking id, or the CVE id for NVD records).
    pub advisory: String,
    /// Where it came from.
    pub source: Source,
    /// Advisory title.
    pub title: String,
    /// CVE id.
    pub cve: String,
    /// CVSS v3 base score.
    pub cvss: Option<f32>,
    /// The product entry that matched: `vendor / name / version text` (product id).
    pub product: String,
    /// The version rule that applied.
    pub rule: String,
    /// Evidence strength.
    pub strength: Strength,
    /// 0..1, see the module doc.
    pub confidence: f32,
    /// Human-readable reasons.
    pub reason: String,
    /// First vendor fix (details and URL), if the advisory gives one.
    pub remediation: Option<String>,
    /// The KEV entry, when the CVE is known to be exploited.
    pub kev: Option<KevEntry>,
}

/// One product entry of one advisory, with everything matching needs
/// computed once: vendor keys, model words, the version rule parsed, and the
/// entry's status for each CVE of the advisory.
struct Indexed {
    adv: usize,
    prod: usize,
    words: Vec<String>,
    /// `words` without spaces ("Apex Pro" = "ApexPro").
    joined: String,
    /// One bit per word (see [`word_bits`]): a cheap test before comparing words.
    bits: u64,
    /// `vendor / name / version text (product id)`, as reported.
    label: String,
    /// The version rule as text, as reported.
    rule_text: String,
    rule: CompiledRule,
    /// (vulnerability index, status) for this product id, in advisory order.
    statuses: Vec<(usize, Status)>,
}

/// Product entries of one vendor (the same vendor keys).
struct VendorGroup {
    keys: Vec<String>,
    entries: Vec<usize>,
}

/// Advisories and KEV entries, indexed for matching.
pub struct AdvisoryDb {
    advisories: Vec<Advisory>,
    kev: HashMap<String, KevEntry>,
    index: Vec<Indexed>,
    /// Entries grouped by vendor: a device with a known vendor is compared
    /// with each vendor once, then only with that vendor's entries.
    vendors: Vec<VendorGroup>,
    /// Vendor groups by the first word of each of their keys: two vendor
    /// keys can only match (equal, or one a word-prefix of the other) when
    /// their first words are equal.
    vendor_words: HashMap<String, Vec<usize>>,
    /// Entries whose vendor is unknown (compared with every device).
    no_vendor: Vec<usize>,
}

fn first_word(key: &str) -> &str {
    key.split(' ').next().unwrap_or(key)
}

impl AdvisoryDb {
    /// Indexes advisories and KEV entries.
    pub fn new(advisories: Vec<Advisory>, kev: Vec<KevEntry>) -> AdvisoryDb {
        let mut index = Vec::new();
        let mut vendors: Vec<VendorGroup> = Vec::new();
        let mut by_keys: HashMap<Vec<String>, usize> = HashMap::new();
        let mut no_vendor = Vec::new();
        for (ai, a) in advisories.iter().enumerate() {
            for (pi, p) in a.products.iter().enumerate() {
                let vk = vendor_keys(&p.vendor);
                let words = model_words(&p.name, &vk);
                let statuses = a
                    .vulnerabilities
                    .iter()
                    .enumerate()
                    .flat_map(|(vi, v)| {
                        v.status
                            .iter()
                            .filter(|(pid, _)| *pid == p.id)
                            .map(move |(_, st)| (vi, *st))
                    })
                    .collect();
                let i = index.len();
                if vk.is_empty() {
                    no_vendor.push(i);
                } else {
                    let g = *by_keys.entry(vk.clone()).or_insert_with(|| {
                        vendors.push(VendorGroup {
                            keys: vk,
                            entries: Vec::new(),
                        });
                        vendors.len() - 1
                    });
                    vendors[g].entries.push(i);
                }
                let label = format!(
                    "{} / {} / {} ({})",
                    p.vendor,
                    p.name,
                    if p.version_text.is_empty() {
                        "-"
                    } else {
                        &p.version_text
                    },
                    p.id
                );
                index.push(Indexed {
                    adv: ai,
                    prod: pi,
                    joined: words.concat(),
                    bits: word_bits(&words),
                    words,
                    rule: CompiledRule::new(&p.versions),
                    rule_text: p.versions.to_string(),
                    label,
                    statuses,
                });
            }
        }
        let mut vendor_words: HashMap<String, Vec<usize>> = HashMap::new();
        for (g, group) in vendors.iter().enumerate() {
            for k in &group.keys {
                let list = vendor_words.entry(first_word(k).to_string()).or_default();
                if list.last() != Some(&g) {
                    list.push(g);
                }
            }
        }
        AdvisoryDb {
            advisories,
            kev: kev.into_iter().map(|k| (k.cve.clone(), k)).collect(),
            index,
            vendors,
            vendor_words,
            no_vendor,
        }
    }

    /// The advisories.
    pub fn advisories(&self) -> &[Advisory] {
        &self.advisories
    }

    /// The KEV entry of a CVE.
    pub fn kev(&self, cve: &str) -> Option<&KevEntry> {
        self.kev.get(cve)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fit {
    Exact,
    Partial,
}

fn contains_run(long: &[String], short: &[String]) -> bool {
    !short.is_empty() && short.len() <= long.len() && long.windows(short.len()).any(|w| w == short)
}

/// A 64-bit set of the words' hashes: if every word of `a` is in `b`, then
/// `word_bits(a) & !word_bits(b) == 0`.
fn word_bits(words: &[String]) -> u64 {
    words.iter().fold(0, |acc, w| {
        let h = w.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        acc | 1 << (h >> 58)
    })
}

fn model_fit(
    device: &[String],
    device_joined: &str,
    device_bits: u64,
    ix: &Indexed,
) -> Option<Fit> {
    let (product, product_joined) = (&ix.words[..], ix.joined.as_str());
    if device.is_empty() || product.is_empty() {
        return None;
    }
    // Equal words, or one name's words all in the other's, or the same letters without spaces.
    if device_bits & !ix.bits != 0
        && ix.bits & !device_bits != 0
        && device_joined.len() != product_joined.len()
    {
        return None;
    }
    if device == product || device_joined == product_joined {
        return Some(Fit::Exact);
    }
    let (short, long) = if device.len() <= product.len() {
        (device, product)
    } else {
        (product, device)
    };
    // The shorter name must say something: one word of 3+ characters.
    if short.iter().any(|w| w.len() >= 3) && contains_run(long, short) {
        return Some(Fit::Partial);
    }
    None
}

fn confidence(s: Strength, fit: Option<Fit>) -> f32 {
    let exact = fit == Some(Fit::Exact);
    match s {
        Strength::ModelAndVersion => {
            if exact {
                0.95
            } else {
                0.80
            }
        }
        Strength::ModelAllVersions => {
            if exact {
                0.75
            } else {
                0.60
            }
        }
        Strength::ModelUnknownVersion => {
            if exact {
                0.50
            } else {
                0.40
            }
        }
        Strength::VendorOnly => 0.15,
    }
}

/// Every advisory/CVE that applies to `device`, most confident first.
pub fn match_device(device: &DeviceIdentity, db: &AdvisoryDb) -> Vec<Match> {
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (vendor, model, firmware) = (
        clean(&device.vendor),
        clean(&device.model),
        clean(&device.firmware),
    );
    let dv = vendor.as_deref().map(vendor_keys).unwrap_or_default();
    let dm = model
        .as_deref()
        .map(|m| model_words(m, &dv))
        .unwrap_or_default();
    if dv.is_empty() && dm.is_empty() {
        return Vec::new();
    }
    let dm_joined = dm.concat();
    let dm_bits = word_bits(&dm);
    let parsed = firmware.as_deref().and_then(Version::parse);
    // Candidate entries, in index order (ties keep the first entry, as documented by the order of advisories).
    let mut candidates: Vec<(usize, Option<bool>)>;
    if dv.is_empty() {
        candidates = (0..db.index.len()).map(|i| (i, None)).collect();
    } else {
        candidates = db.no_vendor.iter().map(|&i| (i, None)).collect();
        let mut groups: Vec<usize> = dv
            .iter()
            .filter_map(|k| db.vendor_words.get(first_word(k)))
            .flatten()
            .copied()
            .collect();
        groups.sort_unstable();
        groups.dedup();
        for g in groups.into_iter().map(|g| &db.vendors[g]) {
            if vendors_match(&dv, &g.keys) {
                candidates.extend(g.entries.iter().map(|&i| (i, Some(true))));
            }
        }
        candidates.sort_unstable_by_key(|c| c.0);
    }
    // (advisory, CVE) → its most confident match; a device has few, a linear search is fastest.
    let mut best: Vec<((usize, &str), Match)> = Vec::new();
    let mut suppressed: Vec<(usize, &str)> = Vec::new();
    for (i, vendor_ok) in candidates {
        let ix = &db.index[i];
        let a = &db.advisories[ix.adv];
        let p = &a.products[ix.prod];
        let fit = model_fit(&dm, &dm_joined, dm_bits, ix);
        if !dm.is_empty() && fit.is_none() {
            continue;
        }
        if dm.is_empty() && vendor_ok != Some(true) {
            continue;
        }
        let verdict = ix.rule.check(firmware.as_deref(), parsed.as_ref());
        let strength = match (dm.is_empty(), verdict) {
            (true, _) => Strength::VendorOnly,
            (false, Verdict::Out) => continue,
            (false, Verdict::In) => Strength::ModelAndVersion,
            (false, Verdict::AllVersions) => Strength::ModelAllVersions,
            (false, Verdict::Unknown) => Strength::ModelUnknownVersion,
        };
        let mut conf = confidence(strength, fit);
        if vendor_ok.is_none() {
            conf *= 0.8;
        }
        for &(vi, st) in &ix.statuses {
            let v = &a.vulnerabilities[vi];
            match st {
                Status::Fixed | Status::NotAffected => {
                    if strength == Strength::ModelAndVersion {
                        suppressed.push((ix.adv, v.cve.as_str()));
                    }
                }
                Status::Affected => {
                    let key = (ix.adv, v.cve.as_str());
                    let slot = best.iter().position(|(k, _)| *k == key);
                    if slot.is_some_and(|i| best[i].1.confidence >= conf) {
                        continue;
                    }
                    let reason = explain(
                        &vendor,
                        vendor_ok,
                        &model,
                        fit,
                        &firmware,
                        verdict,
                        &p.vendor,
                        &p.name,
                        &ix.rule_text,
                    );
                    let remediation = v
                        .remediations
                        .iter()
                        .filter(|r| {
                            r.category == "vendor_fix"
                                && (r.product_ids.is_empty() || r.product_ids.contains(&p.id))
                        })
                        .map(|r| match &r.url {
                            Some(u) => format!("{} ({u})", r.details),
                            None => r.details.clone(),
                        })
                        .next();
                    let m = Match {
                        advisory: a.id.clone(),
                        source: a.source,
                        title: a.title.clone(),
                        cve: v.cve.clone(),
                        cvss: v.cvss,
                        product: ix.label.clone(),
                        rule: ix.rule_text.clone(),
                        strength,
                        confidence: conf,
                        reason,
                        remediation,
                        kev: db.kev.get(&v.cve).cloned(),
                    };
                    match slot {
                        Some(i) => best[i].1 = m,
                        None => best.push((key, m)),
                    }
                }
            }
        }
    }
    let mut out: Vec<Match> = best
        .into_iter()
        .filter(|(k, _)| !suppressed.contains(k))
        .map(|(_, m)| m)
        .collect();
    out.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(b.cvss.unwrap_or(0.0).total_cmp(&a.cvss.unwrap_or(0.0)))
            .then_with(|| a.cve.cmp(&b.cve))
            .then_with(|| a.advisory.cmp(&b.advisory))
    });
    out
}

#[allow(clippy::too_many_arguments)]
fn explain(
    vendor: &Option<String>,
    vendor_ok: Option<bool>,
    model: &Option<String>,
    fit: Option<Fit>,
    firmware: &Option<String>,
    verdict: Verdict,
    pv: &str,
    pn: &str,
    rule: &str,
) -> String {
    use std::fmt::Write;
    let mut r = String::with_capacity(160);
    let _ = match (vendor, vendor_ok) {
        (Some(v), Some(true)) => write!(r, "vendor {v:?} matches {pv:?}; "),
        _ => write!(r, "device vendor unknown; "),
    };
    let _ = match (model, fit) {
        (Some(m), Some(Fit::Exact)) => write!(r, "model {m:?} = product {pn:?}; "),
        (Some(m), Some(Fit::Partial)) => write!(r, "model {m:?} overlaps product {pn:?}; "),
        _ => write!(r, "device model unknown (advisory product {pn:?}); "),
    };
    let _ = match (firmware, verdict) {
        (Some(f), Verdict::In) => write!(r, "version {f} is within {rule}"),
        (_, Verdict::AllVersions) => write!(r, "advisory covers all versions"),
        (Some(f), _) => write!(r, "version {f} cannot be compared with {rule}"),
        (None, _) => write!(r, "version unknown; affected: {rule}"),
    };
    r
}

/// Identities to match for a device seen on the network: its OUI vendor with
/// each stated model, and each software string read as `product version`
/// ("Apache/2.4.1", "OFFIS_DCMTK_367" → OFFIS / DCMTK / 3.6.7). Software
/// products are matched without the OUI vendor (a NIC vendor is not the
/// software's vendor).
pub fn observed_identities(
    vendor: Option<&str>,
    models: &[String],
    software: &[String],
) -> Vec<DeviceIdentity> {
    let mut out = Vec::new();
    for m in models.iter().take(16) {
        out.push(DeviceIdentity {
            vendor: vendor.map(str::to_string),
            model: Some(m.clone()),
            firmware: None,
        });
    }
    for s in software.iter().take(32) {
        if let Some(id) = software_identity(s) {
            out.push(id);
        }
    }
    out.dedup();
    out
}

fn software_identity(s: &str) -> Option<DeviceIdentity> {
    let s = s.trim();
    if s.is_empty() || s.len() > 256 {
        return None;
    }
    // DICOM implementation version names of DCMTK: OFFIS_DCMTK_367 = 3.6.7.
    if let Some(d) = s.strip_prefix("OFFIS_DCMTK_") {
        if !d.is_empty() && d.len() <= 4 && d.bytes().all(|b| b.is_ascii_digit()) {
            let dotted: Vec<String> = d.chars().map(|c| c.to_string()).collect();
            return Some(DeviceIdentity {
                vendor: Some("OFFIS".into()),
                model: Some("DCMTK".into()),
                firmware: Some(dotted.join(".")),
            });
        }
    }
    let words: Vec<&str> = s
        .split(['/', ' ', '_', '(', ')', ';'])
        .filter(|w| !w.is_empty())
        .collect();
    let vi = words.iter().position(|w| {
        w.bytes().next().is_some_and(|b| b.is_ascii_digit())
            || (w.starts_with(['v', 'V']) && w.len() > 1 && w.as_bytes()[1].is_ascii_digit())
    })?;
    if vi == 0 {
        return None;
    }
    let model = words[..vi].join(" ");
    if fold(&model).is_empty() {
        return None;
    }
    Some(DeviceIdentity {
        vendor: None,
        model: Some(model),
        firmware: Some(words[vi].to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Product, Remediation, Vulnerability};
    use crate::version::VersionRule;

    fn adv(
        products: Vec<(&str, &str, &str, &str, VersionRule)>,
        status: Vec<(&str, Status)>,
    ) -> Advisory {
        Advisory {
            id: "ADV-1".into(),
            source: Source::Csaf,
            title: "t".into(),
            severity: None,
            revision: "1".into(),
            release_date: "d".into(),
            products: products
                .into_iter()
                .map(|(id, v, n, t, r)| Product {
                    id: id.into(),
                    vendor: v.into(),
                    name: n.into(),
                    version_text: t.into(),
                    versions: r,
                    full_name: n.into(),
                })
                .collect(),
            vulnerabilities: vec![Vulnerability {
                cve: "CVE-2022-2119".into(),
                cvss: Some(7.5),
                cvss_vector: None,
                status: status
                    .into_iter()
                    .map(|(p, s)| (p.to_string(), s))
                    .collect(),
                remediations: vec![Remediation {
                    category: "vendor_fix".into(),
                    details: "update".into(),
                    url: None,
                    product_ids: vec![],
                }],
            }],
        }
    }

    fn dev(v: Option<&str>, m: Option<&str>, f: Option<&str>) -> DeviceIdentity {
        DeviceIdentity {
            vendor: v.map(Into::into),
            model: m.map(Into::into),
            firmware: f.map(Into::into),
        }
    }

    #[test]
    fn strengths_and_non_matches() {
        let db = AdvisoryDb::new(
            vec![adv(
                vec![
                    (
                        "P1",
                        "OFFIS",
                        "DCMTK",
                        "< 3.6.7",
                        VersionRule::from_range_text("< 3.6.7"),
                    ),
                    (
                        "P2",
                        "OFFIS",
                        "DCMTK",
                        "3.6.7",
                        VersionRule::from_version_text("3.6.7"),
                    ),
                ],
                vec![("P1", Status::Affected), ("P2", Status::Fixed)],
            )],
            vec![],
        );
        let m = match_device(&dev(Some("OFFIS e.V."), Some("dcmtk"), Some("v3.6.6")), &db);
        assert_eq!(m.len(), 1);
        assert_eq!(
            (m[0].strength, m[0].confidence),
            (Strength::ModelAndVersion, 0.95)
        );
        assert!(
            m[0].reason.contains("version v3.6.6 is within < 3.6.7"),
            "{}",
            m[0].reason
        );
        assert_eq!(m[0].remediation.as_deref(), Some("update"));
        assert!(
            match_device(&dev(Some("OFFIS"), Some("DCMTK"), Some("3.6.7")), &db).is_empty(),
            "fixed version"
        );
        assert!(
            match_device(&dev(Some("OFFIS"), Some("DCMTK"), Some("3.7.0")), &db).is_empty(),
            "newer version"
        );
        let m = match_device(&dev(Some("OFFIS"), Some("DCMTK"), None), &db);
        assert_eq!(m[0].strength, Strength::ModelUnknownVersion);
        let m = match_device(&dev(Some("OFFIS"), None, None), &db);
        assert_eq!(m[0].strength, Strength::VendorOnly);
        assert!(
            match_device(&dev(Some("Philips"), Some("DCMTK"), Some("3.6.0")), &db).is_empty(),
            "other vendor"
        );
        assert!(
            match_device(&dev(Some("OFFIS"), Some("Orthanc"), Some("1.0")), &db).is_empty(),
            "other model"
        );
        let m = match_device(&dev(None, Some("DCMTK"), Some("3.6.0")), &db);
        assert!(
            (m[0].confidence - 0.76).abs() < 1e-6,
            "vendor unknown lowers confidence"
        );
        assert!(match_device(&dev(None, None, None), &db).is_empty());
    }

    #[test]
    fn fixed_product_suppresses_affected_all_versions() {
        let db = AdvisoryDb::new(
            vec![adv(
                vec![
                    ("P1", "Baxter", "Sigma Spectrum", "", VersionRule::Any),
                    (
                        "P2",
                        "Baxter",
                        "Sigma Spectrum",
                        "8.1",
                        VersionRule::from_version_text("8.1"),
                    ),
                ],
                vec![("P1", Status::Affected), ("P2", Status::Fixed)],
            )],
            vec![],
        );
        assert!(match_device(
            &dev(
                Some("Baxter Healthcare Corporation"),
                Some("Sigma Spectrum"),
                Some("8.1")
            ),
            &db
        )
        .is_empty());
        let m = match_device(
            &dev(
                Some("Baxter Healthcare Corporation"),
                Some("Sigma Spectrum"),
                Some("8.0"),
            ),
            &db,
        );
        assert_eq!(m[0].strength, Strength::ModelAllVersions);
        let m = match_device(&dev(Some("Baxter"), Some("Spectrum"), Some("8.0")), &db);
        assert_eq!(m[0].confidence, 0.60, "partial model");
    }

    #[test]
    fn software_strings() {
        let ids = observed_identities(
            Some("Intel"),
            &[],
            &[
                "OFFIS_DCMTK_367".into(),
                "Apache/2.4.1 (Unix)".into(),
                "nonsense".into(),
            ],
        );
        assert_eq!(ids[0], dev(Some("OFFIS"), Some("DCMTK"), Some("3.6.7")));
        assert_eq!(ids[1], dev(None, Some("Apache"), Some("2.4.1")));
        assert_eq!(ids.len(), 2);
    }
}
