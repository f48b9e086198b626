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
use crate::version::{Verdict, VersionRule};
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

struct Indexed {
    adv: usize,
    prod: usize,
    vendor_keys: Vec<String>,
    words: Vec<String>,
}

/// Advisories and KEV entries, indexed for matching.
pub struct AdvisoryDb {
    advisories: Vec<Advisory>,
    kev: HashMap<String, KevEntry>,
    index: Vec<Indexed>,
}

impl AdvisoryDb {
    /// Indexes advisories and KEV entries.
    pub fn new(advisories: Vec<Advisory>, kev: Vec<KevEntry>) -> AdvisoryDb {
        let mut index = Vec::new();
        for (ai, a) in advisories.iter().enumerate() {
            for (pi, p) in a.products.iter().enumerate() {
                let vk = vendor_keys(&p.vendor);
                let words = model_words(&p.name, &vk);
                index.push(Indexed { adv: ai, prod: pi, vendor_keys: vk, words });
            }
        }
        AdvisoryDb { advisories, kev: kev.into_iter().map(|k| (k.cve.clone(), k)).collect(), index }
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

fn model_fit(device: &[String], product: &[String]) -> Option<Fit> {
    if device.is_empty() || product.is_empty() {
        return None;
    }
    if device == product || device.concat() == product.concat() {
        return Some(Fit::Exact);
    }
    let (short, long) = if device.len() <= product.len() { (device, product) } else { (product, device) };
    // The shorter name must say something: one word of 3+ characters.
    if short.iter().any(|w| w.len() >= 3) && contains_run(long, short) {
        return Some(Fit::Partial);
    }
    None
}

fn confidence(s: Strength, fit: Option<Fit>) -> f32 {
    let exact = fit == Some(Fit::Exact);
    match s {
        Strength::ModelAndVersion => if exact { 0.95 } else { 0.80 },
        Strength::ModelAllVersions => if exact { 0.75 } else { 0.60 },
        Strength::ModelUnknownVersion => if exact { 0.50 } else { 0.40 },
        Strength::VendorOnly => 0.15,
    }
}

/// Every advisory/CVE that applies to `device`, most confident first.
pub fn match_device(device: &DeviceIdentity, db: &AdvisoryDb) -> Vec<Match> {
    let clean = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let (vendor, model, firmware) = (clean(&device.vendor), clean(&device.model), clean(&device.firmware));
    let dv = vendor.as_deref().map(vendor_keys).unwrap_or_default();
    let dm = model.as_deref().map(|m| model_words(m, &dv)).unwrap_or_default();
    if dv.is_empty() && dm.is_empty() {
        return Vec::new();
    }
    let mut best: HashMap<(usize, String), Match> = HashMap::new();
    let mut suppressed: Vec<(usize, String)> = Vec::new();
    for ix in &db.index {
        let a = &db.advisories[ix.adv];
        let p = &a.products[ix.prod];
        let vendor_ok = if dv.is_empty() || ix.vendor_keys.is_empty() { None } else { Some(vendors_match(&dv, &ix.vendor_keys)) };
        if vendor_ok == Some(false) {
            continue;
        }
        let fit = model_fit(&dm, &ix.words);
        let verdict = p.versions.check(firmware.as_deref());
        let strength = match (dm.is_empty(), fit, verdict) {
            (true, _, _) if vendor_ok == Some(true) => Strength::VendorOnly,
            (true, _, _) | (false, None, _) => continue,
            (false, Some(_), Verdict::Out) => continue,
            (false, Some(_), Verdict::In) => Strength::ModelAndVersion,
            (false, Some(_), Verdict::AllVersions) => Strength::ModelAllVersions,
            (false, Some(_), Verdict::Unknown) => Strength::ModelUnknownVersion,
        };
        let mut conf = confidence(strength, fit);
        if vendor_ok.is_none() {
            conf *= 0.8;
        }
        for v in &a.vulnerabilities {
            for (pid, st) in &v.status {
                if pid != &p.id {
                    continue;
                }
                match st {
                    Status::Fixed | Status::NotAffected => {
                        if strength == Strength::ModelAndVersion {
                            suppressed.push((ix.adv, v.cve.clone()));
                        }
                    }
                    Status::Affected => {
                        let key = (ix.adv, v.cve.clone());
                        if best.get(&key).is_some_and(|m| m.confidence >= conf) {
                            continue;
                        }
                        let reason = explain(&vendor, vendor_ok, &model, fit, &firmware, verdict, &p.vendor, &p.name, &p.versions);
                        let remediation = v
                            .remediations
                            .iter()
                            .filter(|r| r.category == "vendor_fix" && (r.product_ids.is_empty() || r.product_ids.contains(&p.id)))
                            .map(|r| match &r.url {
                                Some(u) => format!("{} ({u})", r.details),
                                None => r.details.clone(),
                            })
                            .next();
                        best.insert(
                            key,
                            Match {
                                advisory: a.id.clone(),
                                source: a.source,
                                title: a.title.clone(),
                                cve: v.cve.clone(),
                                cvss: v.cvss,
                                product: format!("{} / {} / {} ({})", p.vendor, p.name, if p.version_text.is_empty() { "-" } else { &p.version_text }, p.id),
                                rule: p.versions.to_string(),
                                strength,
                                confidence: conf,
                                reason,
                                remediation,
                                kev: db.kev.get(&v.cve).cloned(),
                            },
                        );
                    }
                }
            }
        }
    }
    let mut out: Vec<Match> = best.into_iter().filter(|(k, _)| !suppressed.contains(k)).map(|(_, m)| m).collect();
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
    rule: &VersionRule,
) -> String {
    let mut r = Vec::new();
    match (vendor, vendor_ok) {
        (Some(v), Some(true)) => r.push(format!("vendor {v:?} matches {pv:?}")),
        _ => r.push("device vendor unknown".to_string()),
    }
    match (model, fit) {
        (Some(m), Some(Fit::Exact)) => r.push(format!("model {m:?} = product {pn:?}")),
        (Some(m), Some(Fit::Partial)) => r.push(format!("model {m:?} overlaps product {pn:?}")),
        _ => r.push(format!("device model unknown (advisory product {pn:?})")),
    }
    match (firmware, verdict) {
        (Some(f), Verdict::In) => r.push(format!("version {f} is within {rule}")),
        (_, Verdict::AllVersions) => r.push("advisory covers all versions".to_string()),
        (Some(f), _) => r.push(format!("version {f} cannot be compared with {rule}")),
        (None, _) => r.push(format!("version unknown; affected: {rule}")),
    }
    r.join("; ")
}

/// Identities to match for a device seen on the network: its OUI vendor with
/// each stated model, and each software string read as `product version`
/// ("Apache/2.4.1", "OFFIS_DCMTK_367" → OFFIS / DCMTK / 3.6.7). Software
/// products are matched without the OUI vendor (a NIC vendor is not the
/// software's vendor).
pub fn observed_identities(vendor: Option<&str>, models: &[String], software: &[String]) -> Vec<DeviceIdentity> {
    let mut out = Vec::new();
    for m in models.iter().take(16) {
        out.push(DeviceIdentity { vendor: vendor.map(str::to_string), model: Some(m.clone()), firmware: None });
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
            return Some(DeviceIdentity { vendor: Some("OFFIS".into()), model: Some("DCMTK".into()), firmware: Some(dotted.join(".")) });
        }
    }
    let words: Vec<&str> = s.split(['/', ' ', '_', '(', ')', ';']).filter(|w| !w.is_empty()).collect();
    let vi = words.iter().position(|w| w.bytes().next().is_some_and(|b| b.is_ascii_digit()) || (w.starts_with(['v', 'V']) && w.len() > 1 && w.as_bytes()[1].is_ascii_digit()))?;
    if vi == 0 {
        return None;
    }
    let model = words[..vi].join(" ");
    if fold(&model).is_empty() {
        return None;
    }
    Some(DeviceIdentity { vendor: None, model: Some(model), firmware: Some(words[vi].to_string()) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Product, Remediation, Vulnerability};

    fn adv(products: Vec<(&str, &str, &str, &str, VersionRule)>, status: Vec<(&str, Status)>) -> Advisory {
        Advisory {
            id: "ADV-1".into(),
            source: Source::Csaf,
            title: "t".into(),
            severity: None,
            revision: "1".into(),
            release_date: "d".into(),
            products: products
                .into_iter()
                .map(|(id, v, n, t, r)| Product { id: id.into(), vendor: v.into(), name: n.into(), version_text: t.into(), versions: r, full_name: n.into() })
                .collect(),
            vulnerabilities: vec![Vulnerability {
                cve: "CVE-2022-2119".into(),
                cvss: Some(7.5),
                cvss_vector: None,
                status: status.into_iter().map(|(p, s)| (p.to_string(), s)).collect(),
                remediations: vec![Remediation { category: "vendor_fix".into(), details: "update".into(), url: None, product_ids: vec![] }],
            }],
        }
    }

    fn dev(v: Option<&str>, m: Option<&str>, f: Option<&str>) -> DeviceIdentity {
        DeviceIdentity { vendor: v.map(Into::into), model: m.map(Into::into), firmware: f.map(Into::into) }
    }

    #[test]
    fn strengths_and_non_matches() {
        let db = AdvisoryDb::new(
            vec![adv(
                vec![
                    ("P1", "OFFIS", "DCMTK", "< 3.6.7", VersionRule::from_range_text("< 3.6.7")),
                    ("P2", "OFFIS", "DCMTK", "3.6.7", VersionRule::from_version_text("3.6.7")),
                ],
                vec![("P1", Status::Affected), ("P2", Status::Fixed)],
            )],
            vec![],
        );
        let m = match_device(&dev(Some("OFFIS e.V."), Some("dcmtk"), Some("v3.6.6")), &db);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].strength, m[0].confidence), (Strength::ModelAndVersion, 0.95));
        assert!(m[0].reason.contains("version v3.6.6 is within < 3.6.7"), "{}", m[0].reason);
        assert_eq!(m[0].remediation.as_deref(), Some("update"));
        assert!(match_device(&dev(Some("OFFIS"), Some("DCMTK"), Some("3.6.7")), &db).is_empty(), "fixed version");
        assert!(match_device(&dev(Some("OFFIS"), Some("DCMTK"), Some("3.7.0")), &db).is_empty(), "newer version");
        let m = match_device(&dev(Some("OFFIS"), Some("DCMTK"), None), &db);
        assert_eq!(m[0].strength, Strength::ModelUnknownVersion);
        let m = match_device(&dev(Some("OFFIS"), None, None), &db);
        assert_eq!(m[0].strength, Strength::VendorOnly);
        assert!(match_device(&dev(Some("Philips"), Some("DCMTK"), Some("3.6.0")), &db).is_empty(), "other vendor");
        assert!(match_device(&dev(Some("OFFIS"), Some("Orthanc"), Some("1.0")), &db).is_empty(), "other model");
        let m = match_device(&dev(None, Some("DCMTK"), Some("3.6.0")), &db);
        assert!((m[0].confidence - 0.76).abs() < 1e-6, "vendor unknown lowers confidence");
        assert!(match_device(&dev(None, None, None), &db).is_empty());
    }

    #[test]
    fn fixed_product_suppresses_affected_all_versions() {
        let db = AdvisoryDb::new(
            vec![adv(
                vec![("P1", "Baxter", "Sigma Spectrum", "", VersionRule::Any), ("P2", "Baxter", "Sigma Spectrum", "8.1", VersionRule::from_version_text("8.1"))],
                vec![("P1", Status::Affected), ("P2", Status::Fixed)],
            )],
            vec![],
        );
        assert!(match_device(&dev(Some("Baxter Healthcare Corporation"), Some("Sigma Spectrum"), Some("8.1")), &db).is_empty());
        let m = match_device(&dev(Some("Baxter Healthcare Corporation"), Some("Sigma Spectrum"), Some("8.0")), &db);
        assert_eq!(m[0].strength, Strength::ModelAllVersions);
        let m = match_device(&dev(Some("Baxter"), Some("Spectrum"), Some("8.0")), &db);
        assert_eq!(m[0].confidence, 0.60, "partial model");
    }

    #[test]
    fn software_strings() {
        let ids = observed_identities(Some("Intel"), &[], &["OFFIS_DCMTK_367".into(), "Apache/2.4.1 (Unix)".into(), "nonsense".into()]);
        assert_eq!(ids[0], dev(Some("OFFIS"), Some("DCMTK"), Some("3.6.7")));
        assert_eq!(ids[1], dev(None, Some("Apache"), Some("2.4.1")));
        assert_eq!(ids.len(), 2);
    }
}
