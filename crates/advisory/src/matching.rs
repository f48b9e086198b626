//! Matching a device against the advisories: [`match_device`].
//!
//! For every product entry of every advisory:
//! 1. **Vendor.** When the device's vendor is known it must name the
//!    product's vendor ([`crate::normalize::vendors_match`]) or a company of
//!    the same family in the lineage tables ([`crate::knowledge`]: a Welch
//!    Allyn device meets Hillrom's and Baxter's advisories); when unknown,
//!    matching goes on at reduced confidence (×0.8).
//! 2. **Model.** The device's model must fit the product name
//!    ([`crate::names::fit`]): the same words in any order (*exact*), every
//!    product word in the model (*contained*: "LOGIQ E10" in "LOGIQ"), the
//!    same model number and a shared name word (*model number*), or a vaguer
//!    name of the product (*family*). Product names are read with their
//!    acronyms, slash lists, ranges ("MX400-MX850") and exclusions; model
//!    designations written in the version text ("model 35700BAX2") are names
//!    too. A device without a model matches on vendor alone (*vendor only*).
//! 3. **Version.** The product's rule ([`crate::version::read_rule`]) is
//!    checked against the firmware: *in* → matched, *out* → no match (a
//!    fixed version is not affected), *all versions*, or *unknown* (no
//!    firmware, or text that cannot be placed) → matched at lower
//!    confidence, and said so.
//! 4. **Status.** Only products the advisory lists as affected for a CVE
//!    produce matches; if the device's version is *in* a product listed as
//!    fixed or not affected for that CVE, the CVE is not reported for that
//!    advisory.
//!
//! Confidence (documented contract, see [`Strength`] and [`Fit`]):
//!
//! | version \ model fit | exact | contained | model number | family |
//! |---|---|---|---|---|
//! | in the rule          | 0.95 | 0.90 | 0.85 | 0.70 |
//! | all versions         | 0.75 | 0.70 | 0.65 | 0.50 |
//! | unknown              | 0.50 | 0.45 | 0.40 | 0.30 |
//!
//! vendor only 0.15; ×0.8 when the device's vendor is unknown. One finding
//! per CVE ([`merge`]): the most confident match, listing every advisory
//! (CSAF, NVD) and KEV entry behind it in [`Match::sources`].
//!
//! A device's model is compared only with the product forms that share a
//! word with it ([`NameIndex`]), and a [`Match`] is written (reason,
//! remediation, labels) only for the findings that are reported.

use crate::knowledge::Knowledge;
use crate::model::{Advisory, KevEntry, Source, Status, Vulnerability};
pub use crate::names::Fit;
use crate::names::{fit_forms, DeviceName, NameIndex, ProductName};
use crate::normalize::{fold, vendor_keys, vendors_match};
use crate::version::{read_rule, CompiledRule, Verdict, Version};
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
    /// The CVE's FIRST EPSS score (probability of exploitation in the next
    /// 30 days), when an EPSS file was imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<crate::epss::EpssScore>,
    /// Every source behind this finding: `ADVISORY [csaf|nvd]` per
    /// advisory that lists the CVE for the device, and `KEV` when the CVE is
    /// known exploited (see [`merge`]).
    #[serde(default)]
    pub sources: Vec<String>,
}

/// One product entry of one advisory, with everything matching needs
/// computed once: vendor keys, model words, the version rule parsed, and the
/// entry's status for each CVE of the advisory.
struct Indexed {
    adv: usize,
    /// The product name read for matching (index of [`AdvisoryDb::names`]).
    name: usize,
    /// Vendor families of the product's vendor.
    families: Vec<u32>,
    /// `vendor / name / version text (product id)`, as reported.
    label: String,
    /// The version rule as text, as reported.
    rule_text: String,
    /// The product's vendor and name quoted for reasons (`"Baxter"`).
    quoted_vendor: String,
    quoted_name: String,
    rule: CompiledRule,
    /// How the advisory lists this product id, per CVE, in advisory order.
    statuses: Vec<Listing>,
}

/// How an advisory lists a product for one of its vulnerabilities.
struct Listing {
    /// Vulnerability index in the advisory.
    vi: usize,
    /// Its CVE's number: equal CVE ids have equal numbers.
    cve: usize,
    status: Status,
    /// The first vendor fix for the product (details and URL), as reported.
    remediation: Option<String>,
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
    /// EPSS scores by CVE ([`AdvisoryDb::with_epss`]).
    epss: HashMap<String, crate::epss::EpssScore>,
    index: Vec<Indexed>,
    /// Entries grouped by vendor: a device with a known vendor is compared
    /// with each vendor once, then only with that vendor's entries.
    vendors: Vec<VendorGroup>,
    /// Vendor groups by the first word of each of their keys: two vendor
    /// keys can only match (equal, or one a word-prefix of the other) when
    /// their first words are equal.
    vendor_words: HashMap<String, Vec<usize>>,
    /// Entries whose vendor is unknown (compared with every device), as a
    /// bit set of entries ([`Entries`]).
    no_vendor: Entries,
    /// Vendor groups by vendor family (lineage).
    family_groups: HashMap<u32, Vec<usize>>,
    /// The entries' product names, each once (entries of one product in
    /// several versions or advisories share their name).
    names: Vec<ProductName>,
    /// `names` by word.
    name_index: NameIndex,
    /// Per advisory, how [`Match::sources`] names it: `ID [csaf]`.
    source_labels: Vec<String>,
    knowledge: Knowledge,
}

/// A set of entries (indexes of [`AdvisoryDb::index`]), one bit each.
#[derive(Debug, Clone, Default)]
struct Entries(Vec<u64>);

impl Entries {
    /// The set of `entries`, of `len` entries in all.
    fn of(len: usize, entries: impl IntoIterator<Item = usize>) -> Entries {
        let mut set = Entries(vec![0; len.div_ceil(64)]);
        entries.into_iter().for_each(|i| set.insert(i));
        set
    }

    /// Every entry of `len`.
    fn all(len: usize) -> Entries {
        let mut set = Entries(vec![u64::MAX; len.div_ceil(64)]);
        if let Some(last) = set.0.last_mut() {
            if !len.is_multiple_of(64) {
                *last = (1 << (len % 64)) - 1;
            }
        }
        set
    }

    fn insert(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// The entries, ascending.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(k, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let b = w.trailing_zeros() as usize;
                    w &= w - 1;
                    k * 64 + b
                })
            })
        })
    }
}

fn first_word(key: &str) -> &str {
    key.split(' ').next().unwrap_or(key)
}

impl AdvisoryDb {
    /// Indexes advisories and KEV entries with the embedded knowledge tables.
    pub fn new(advisories: Vec<Advisory>, kev: Vec<KevEntry>) -> AdvisoryDb {
        AdvisoryDb::with_knowledge(advisories, kev, Knowledge::embedded())
    }

    /// Indexes advisories and KEV entries with these knowledge tables
    /// (e.g. [`Knowledge::with_site`]).
    pub fn with_knowledge(
        advisories: Vec<Advisory>,
        kev: Vec<KevEntry>,
        knowledge: Knowledge,
    ) -> AdvisoryDb {
        let mut index = Vec::new();
        let mut vendors: Vec<VendorGroup> = Vec::new();
        let mut by_keys: HashMap<Vec<String>, usize> = HashMap::new();
        let mut no_vendor = Vec::new();
        let mut cve_numbers: HashMap<&str, usize> = HashMap::new();
        let mut family_groups: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut names = Vec::new();
        let mut name_ids: HashMap<(String, Vec<String>, Vec<u32>), usize> = HashMap::new();
        for (ai, a) in advisories.iter().enumerate() {
            let cves: Vec<usize> = a
                .vulnerabilities
                .iter()
                .map(|v| {
                    let n = cve_numbers.len();
                    *cve_numbers.entry(&v.cve).or_insert(n)
                })
                .collect();
            for p in &a.products {
                let vk = vendor_keys(&p.vendor);
                let families = knowledge.families(&vk);
                // CSAF version text is read again with the current grammar
                // (stored advisories keep the rule of the Ward that imported them).
                let (rule, designations) = match a.source {
                    Source::Csaf if !p.version_text.is_empty() => {
                        let r = read_rule(&p.version_text);
                        (r.rule, r.designations)
                    }
                    _ => (p.versions.clone(), Vec::new()),
                };
                // A name is read from the product name, designations and vendor families alone.
                let name = *name_ids
                    .entry((p.name.clone(), designations, families.clone()))
                    .or_insert_with_key(|(n, d, f)| {
                        names.push(ProductName::read(n, d, &knowledge, f));
                        names.len() - 1
                    });
                let statuses = a
                    .vulnerabilities
                    .iter()
                    .enumerate()
                    .flat_map(|(vi, v)| {
                        let cve = cves[vi];
                        v.status
                            .iter()
                            .filter(|(pid, _)| *pid == p.id)
                            .map(move |(_, st)| Listing {
                                vi,
                                cve,
                                status: *st,
                                remediation: remediation(v, &p.id),
                            })
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
                    for f in &families {
                        let list = family_groups.entry(*f).or_default();
                        if list.last() != Some(&g) {
                            list.push(g);
                        }
                    }
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
                let quote = |s: &str| {
                    let mut q = String::new();
                    push_quoted(&mut q, s);
                    q
                };
                index.push(Indexed {
                    quoted_vendor: quote(&p.vendor),
                    quoted_name: quote(&p.name),
                    adv: ai,
                    name,
                    families: families.clone(),
                    rule: CompiledRule::new(&rule),
                    rule_text: rule.to_string(),
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
        let name_index = NameIndex::new(&names);
        let no_vendor = Entries::of(index.len(), no_vendor);
        let source_labels = advisories
            .iter()
            .map(|a| format!("{} [{}]", a.id, a.source.as_str()))
            .collect();
        AdvisoryDb {
            advisories,
            kev: kev.into_iter().map(|k| (k.cve.clone(), k)).collect(),
            epss: HashMap::new(),
            names,
            name_index,
            source_labels,
            index,
            vendors,
            vendor_words,
            no_vendor,
            family_groups,
            knowledge,
        }
    }

    /// The knowledge tables in use.
    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// The advisories.
    pub fn advisories(&self) -> &[Advisory] {
        &self.advisories
    }

    /// The KEV entry of a CVE.
    pub fn kev(&self, cve: &str) -> Option<&KevEntry> {
        self.kev.get(cve)
    }

    /// Adds EPSS scores: every match of their CVEs carries its score.
    pub fn with_epss(mut self, scores: impl IntoIterator<Item = crate::epss::EpssScore>) -> Self {
        self.epss = scores.into_iter().map(|s| (s.cve.clone(), s)).collect();
        self
    }
}

/// The first vendor fix of a vulnerability for a product id (details and URL).
fn remediation(v: &Vulnerability, product: &str) -> Option<String> {
    v.remediations
        .iter()
        .filter(|r| {
            r.category == "vendor_fix"
                && (r.product_ids.is_empty() || r.product_ids.iter().any(|id| id == product))
        })
        .map(|r| match &r.url {
            Some(u) => format!("{} ({u})", r.details),
            None => r.details.clone(),
        })
        .next()
}

fn confidence(s: Strength, fit: Option<Fit>) -> f32 {
    let col = match fit {
        Some(Fit::Exact) => 0,
        Some(Fit::Contained) => 1,
        Some(Fit::ModelNumber) => 2,
        Some(Fit::Family) | None => 3,
    };
    match s {
        Strength::ModelAndVersion => [0.95, 0.90, 0.85, 0.70][col],
        Strength::ModelAllVersions => [0.75, 0.70, 0.65, 0.50][col],
        Strength::ModelUnknownVersion => [0.50, 0.45, 0.40, 0.30][col],
        Strength::VendorOnly => 0.15,
    }
}

/// Every CVE that applies to `device`, one finding per CVE (see [`merge`]),
/// most confident first.
pub fn match_device(device: &DeviceIdentity, db: &AdvisoryDb) -> Vec<Match> {
    merge_hits(db, hits(device, db))
}

/// Every CVE that applies to a device known under several identities (a
/// declared row and what the wire says, a component's name, CPE and purl):
/// the matches of all identities merged once — one finding per CVE.
pub fn match_identities<'a>(
    ids: impl IntoIterator<Item = &'a DeviceIdentity>,
    db: &AdvisoryDb,
) -> Vec<Match> {
    merge_hits(db, ids.into_iter().flat_map(|id| hits(id, db)))
}

/// The matches of one identity before [`merge`]: the most confident match
/// per (advisory, CVE), fixed versions already suppressed. Callers that
/// combine identities or filter matches merge the result once with
/// [`merge`]; [`match_device`] and [`match_identities`] do it for them.
pub fn match_raw(device: &DeviceIdentity, db: &AdvisoryDb) -> Vec<Match> {
    hits(device, db)
        .iter()
        .map(|h| write(db, h, db.kev.get(h.cve(db))))
        .collect()
}

/// A device identity's fields, trimmed, blank ones dropped.
#[derive(Debug, Clone, Copy)]
struct Reading<'a> {
    vendor: Option<&'a str>,
    model: Option<&'a str>,
    firmware: Option<&'a str>,
}

/// One (advisory, CVE) that applies to an identity: what [`write`] needs to
/// make its [`Match`], without the strings.
#[derive(Debug, Clone, Copy)]
struct Hit<'a> {
    id: Reading<'a>,
    /// The product entry (index of [`AdvisoryDb::index`]).
    entry: usize,
    /// The entry's listing ([`Indexed::statuses`]).
    si: usize,
    /// The vulnerability of the entry's advisory.
    vi: usize,
    /// Its CVE's number ([`Indexed::statuses`]).
    cve: usize,
    strength: Strength,
    conf: f32,
    fit: Option<Fit>,
    verdict: Verdict,
    vendor_ok: Option<bool>,
}

impl Hit<'_> {
    fn advisory<'d>(&self, db: &'d AdvisoryDb) -> &'d Advisory {
        &db.advisories[db.index[self.entry].adv]
    }

    fn cve<'d>(&self, db: &'d AdvisoryDb) -> &'d str {
        &self.advisory(db).vulnerabilities[self.vi].cve
    }
}

/// [`match_raw`] without the strings.
fn hits<'a>(device: &'a DeviceIdentity, db: &'a AdvisoryDb) -> Vec<Hit<'a>> {
    let clean = |s: &'a Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let id = Reading {
        vendor: clean(&device.vendor),
        model: clean(&device.model),
        firmware: clean(&device.firmware),
    };
    let dv = id.vendor.map(vendor_keys).unwrap_or_default();
    let families = db.knowledge.families(&dv);
    let dm = id
        .model
        .map(|m| DeviceName::read(m, &db.knowledge, &families))
        .unwrap_or_default();
    if dv.is_empty() && dm.is_empty() {
        return Vec::new();
    }
    // A model that is only a number says which product only beside its vendor.
    let bare_number = !dm.is_empty()
        && dm
            .words()
            .iter()
            .all(|w| w.bytes().all(|b| b.is_ascii_digit()));
    if dv.is_empty() && bare_number {
        return Vec::new();
    }
    let parsed = id.firmware.and_then(Version::parse);
    // The product forms the model can fit (none to compare without a model).
    let forms = (!dm.is_empty()).then(|| db.name_index.candidates(&dm));
    // How the model fits each name, once known.
    let mut fits: Vec<Option<Option<Fit>>> = Vec::new();
    // Candidate entries, taken in index order (ties keep the first entry,
    // as documented by the order of advisories), and those whose vendor the
    // device's vendor matches.
    let (candidates, vendor_matched) = if dv.is_empty() {
        (Entries::all(db.index.len()), Entries::default())
    } else {
        let mut candidates = db.no_vendor.clone();
        let mut matched = Entries::of(db.index.len(), []);
        let mut groups: Vec<usize> = dv
            .iter()
            .filter_map(|k| db.vendor_words.get(first_word(k)))
            .flatten()
            .copied()
            .collect();
        groups.extend(
            families
                .iter()
                .filter_map(|f| db.family_groups.get(f))
                .flatten()
                .copied(),
        );
        groups.sort_unstable();
        groups.dedup();
        for g in groups.into_iter().map(|g| &db.vendors[g]) {
            let same_family = g
                .entries
                .first()
                .is_some_and(|&i| db.index[i].families.iter().any(|f| families.contains(f)));
            if same_family || vendors_match(&dv, &g.keys) {
                for &i in &g.entries {
                    candidates.insert(i);
                    matched.insert(i);
                }
            }
        }
        (candidates, matched)
    };
    // (advisory, CVE) → its most confident match; a device has few, a linear search is fastest.
    let mut best: Vec<((usize, usize), Hit)> = Vec::new();
    let mut suppressed: Vec<(usize, usize)> = Vec::new();
    for i in candidates.iter() {
        let vendor_ok = vendor_matched.contains(i).then_some(true);
        let ix = &db.index[i];
        let fit = match &forms {
            None => None,
            Some(forms) => {
                let mask = forms.mask(ix.name);
                if mask == 0 {
                    continue;
                }
                if fits.is_empty() {
                    fits = vec![None; db.names.len()];
                }
                let known = &mut fits[ix.name];
                match *known.get_or_insert_with(|| fit_forms(&dm, &db.names[ix.name], mask)) {
                    None => continue,
                    f => f,
                }
            }
        };
        if (dm.is_empty() || bare_number) && vendor_ok != Some(true) {
            continue;
        }
        let verdict = ix.rule.check(id.firmware, parsed.as_ref());
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
        for (
            si,
            &Listing {
                vi, cve, status, ..
            },
        ) in ix.statuses.iter().enumerate()
        {
            let key = (ix.adv, cve);
            match status {
                Status::Fixed | Status::NotAffected => {
                    if strength == Strength::ModelAndVersion {
                        suppressed.push(key);
                    }
                }
                Status::Affected => {
                    let hit = Hit {
                        id,
                        entry: i,
                        si,
                        vi,
                        cve,
                        strength,
                        conf,
                        fit,
                        verdict,
                        vendor_ok,
                    };
                    match best.iter().position(|(k, _)| *k == key) {
                        Some(s) if best[s].1.conf >= conf => {}
                        Some(s) => best[s].1 = hit,
                        None => best.push((key, hit)),
                    }
                }
            }
        }
    }
    best.into_iter()
        .filter(|(k, _)| !suppressed.contains(k))
        .map(|(_, h)| h)
        .collect()
}

/// The [`Match`] of a hit (no sources yet), with the KEV entry of its CVE.
fn write(db: &AdvisoryDb, h: &Hit, kev: Option<&KevEntry>) -> Match {
    let ix = &db.index[h.entry];
    let a = &db.advisories[ix.adv];
    let v = &a.vulnerabilities[h.vi];
    let reason = explain(
        h.id.vendor,
        h.vendor_ok,
        h.id.model,
        h.fit,
        h.id.firmware,
        h.verdict,
        &ix.quoted_vendor,
        &ix.quoted_name,
        &ix.rule_text,
    );
    let remediation = ix.statuses.get(h.si).and_then(|l| l.remediation.clone());
    Match {
        advisory: a.id.clone(),
        source: a.source,
        title: a.title.clone(),
        cve: v.cve.clone(),
        cvss: v.cvss,
        product: ix.label.clone(),
        rule: ix.rule_text.clone(),
        strength: h.strength,
        confidence: h.conf,
        reason,
        remediation,
        kev: kev.cloned(),
        epss: db.epss.get(&v.cve).cloned(),
        sources: Vec::new(),
    }
}

/// One CVE's hits merged, as [`merge`] merges their matches.
struct Finding<'a> {
    best: Hit<'a>,
    cvss: Option<f32>,
    kev: Option<&'a KevEntry>,
    /// Advisories behind it (indexes of [`AdvisoryDb::advisories`]).
    advisories: Vec<usize>,
}

/// [`merge`] of the hits' matches, writing only the matches that stand for
/// a CVE. The hits of one CVE are merged in their order, as [`merge`] does;
/// the order of CVEs does not matter (the findings are sorted by a key that
/// differs for every CVE).
fn merge_hits<'a>(db: &'a AdvisoryDb, hits: impl IntoIterator<Item = Hit<'a>>) -> Vec<Match> {
    let hits: Vec<Hit> = hits.into_iter().collect();
    // By CVE, each CVE's hits in their order.
    let mut order: Vec<(usize, usize)> = hits.iter().enumerate().map(|(i, h)| (h.cve, i)).collect();
    order.sort_unstable();
    let mut by_cve: Vec<Finding> = Vec::new();
    for same in order.chunk_by(|a, b| a.0 == b.0) {
        let mut same = same.iter().map(|&(_, i)| &hits[i]);
        let Some(first) = same.next() else {
            continue;
        };
        let mut f = Finding {
            best: *first,
            cvss: first.advisory(db).vulnerabilities[first.vi].cvss,
            kev: db.kev.get(first.cve(db)),
            advisories: vec![db.index[first.entry].adv],
        };
        for h in same {
            let adv = db.index[h.entry].adv;
            let a = &db.advisories[adv];
            let better = h.conf > f.best.conf
                || (h.conf == f.best.conf
                    && (a.source == Source::Csaf && f.best.advisory(db).source != Source::Csaf));
            f.cvss = match (f.cvss, a.vulnerabilities[h.vi].cvss) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            f.advisories.push(adv);
            if better {
                f.best = *h;
            }
        }
        by_cve.push(f);
    }
    by_cve.sort_by(|a, b| {
        b.best
            .conf
            .total_cmp(&a.best.conf)
            .then(b.cvss.unwrap_or(0.0).total_cmp(&a.cvss.unwrap_or(0.0)))
            .then_with(|| a.best.cve(db).cmp(b.best.cve(db)))
            .then_with(|| a.best.advisory(db).id.cmp(&b.best.advisory(db).id))
    });
    by_cve
        .into_iter()
        .map(|mut f| {
            let mut m = write(db, &f.best, f.kev);
            f.advisories.sort_unstable();
            f.advisories.dedup();
            let mut sources: Vec<String> = f
                .advisories
                .iter()
                .filter_map(|&i| db.source_labels.get(i).cloned())
                .collect();
            if f.kev.is_some() {
                sources.push("KEV".into());
            }
            sources.sort();
            sources.dedup();
            m.cvss = f.cvss;
            m.sources = sources;
            m
        })
        .collect()
}

/// One finding per CVE from any number of matches — of one device under
/// several identities, or from several sources (a CSAF advisory and the NVD
/// record of the same CVE): the most confident match stands for the CVE,
/// its [`Match::sources`] lists every advisory behind it (`ID [csaf]`,
/// `CVE-… [nvd]`) and `KEV` when the CVE is known exploited; the highest
/// CVSS score is kept. Most confident first, then by CVSS, CVE and advisory.
pub fn merge(matches: impl IntoIterator<Item = Match>) -> Vec<Match> {
    let mut by_cve: Vec<Match> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for mut m in matches {
        let mut srcs = std::mem::take(&mut m.sources);
        srcs.push(format!("{} [{}]", m.advisory, m.source.as_str()));
        if m.kev.is_some() {
            srcs.push("KEV".into());
        }
        match index.get(&m.cve) {
            Some(&i) => {
                let cur = &mut by_cve[i];
                let better = m.confidence > cur.confidence
                    || (m.confidence == cur.confidence
                        && (m.source == Source::Csaf && cur.source != Source::Csaf));
                let cvss = match (cur.cvss, m.cvss) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                let kev = cur.kev.take().or_else(|| m.kev.clone());
                let mut all = std::mem::take(&mut cur.sources);
                all.extend(srcs);
                if better {
                    *cur = m;
                }
                cur.cvss = cvss;
                cur.kev = kev;
                cur.sources = all;
            }
            None => {
                index.insert(m.cve.clone(), by_cve.len());
                m.sources = srcs;
                by_cve.push(m);
            }
        }
    }
    for m in &mut by_cve {
        m.sources.sort();
        m.sources.dedup();
    }
    by_cve.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(b.cvss.unwrap_or(0.0).total_cmp(&a.cvss.unwrap_or(0.0)))
            .then_with(|| a.cve.cmp(&b.cve))
            .then_with(|| a.advisory.cmp(&b.advisory))
    });
    by_cve
}

/// Appends `s` as `{s:?}` writes it: quoted, escaped. Printable ASCII
/// without quotes or backslashes is copied as it is.
fn push_quoted(r: &mut String, s: &str) {
    if s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        r.push('"');
        r.push_str(s);
        r.push('"');
    } else {
        use std::fmt::Write;
        let _ = write!(r, "{s:?}");
    }
}

#[allow(clippy::too_many_arguments)]
fn explain(
    vendor: Option<&str>,
    vendor_ok: Option<bool>,
    model: Option<&str>,
    fit: Option<Fit>,
    firmware: Option<&str>,
    verdict: Verdict,
    quoted_pv: &str,
    quoted_pn: &str,
    rule: &str,
) -> String {
    let lens = [
        vendor,
        model,
        firmware,
        Some(quoted_pv),
        Some(quoted_pn),
        Some(rule),
    ];
    let mut r = String::with_capacity(120 + lens.iter().flatten().map(|s| s.len()).sum::<usize>());
    match (vendor, vendor_ok) {
        (Some(v), Some(true)) => {
            r.push_str("vendor ");
            push_quoted(&mut r, v);
            r.push_str(" matches ");
            r.push_str(quoted_pv);
            r.push_str("; ");
        }
        _ => r.push_str("device vendor unknown; "),
    }
    match (model, fit) {
        (Some(m), Some(f)) => {
            r.push_str("model ");
            push_quoted(&mut r, m);
            r.push(' ');
            r.push_str(f.describe());
            r.push_str(" product ");
        }
        _ => r.push_str("device model unknown (advisory product "),
    }
    r.push_str(quoted_pn);
    r.push_str(if model.is_some() && fit.is_some() {
        "; "
    } else {
        "); "
    });
    match (firmware, verdict) {
        (Some(f), Verdict::In) => {
            r.push_str("version ");
            r.push_str(f);
            r.push_str(" is within ");
        }
        (_, Verdict::AllVersions) => {
            r.push_str("advisory covers all versions");
            return r;
        }
        (Some(f), _) => {
            r.push_str("version ");
            r.push_str(f);
            r.push_str(" unknown: cannot be placed in ");
        }
        (None, _) => r.push_str("version unknown; affected: "),
    }
    r.push_str(rule);
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
        let m = match_device(
            &dev(Some("Baxter"), Some("Sigma Spectrum 35700BAX"), Some("8.0")),
            &db,
        );
        assert_eq!(
            m[0].confidence, 0.70,
            "the model says more than the product"
        );
        assert!(
            match_device(&dev(Some("Baxter"), Some("Spectrum"), Some("8.0")), &db).is_empty(),
            "one word of the product name is not a fit"
        );
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

    /// Reasons read as they did when written with `write!` and `{:?}`.
    #[test]
    fn reasons_are_written_as_before() {
        use std::fmt::Write;
        #[allow(clippy::too_many_arguments)]
        fn reference(
            vendor: Option<&str>,
            vendor_ok: Option<bool>,
            model: Option<&str>,
            fit: Option<Fit>,
            firmware: Option<&str>,
            verdict: Verdict,
            pv: &str,
            pn: &str,
            rule: &str,
        ) -> String {
            let mut r = String::new();
            let _ = match (vendor, vendor_ok) {
                (Some(v), Some(true)) => write!(r, "vendor {v:?} matches {pv:?}; "),
                _ => write!(r, "device vendor unknown; "),
            };
            let _ = match (model, fit) {
                (Some(m), Some(f)) => write!(r, "model {m:?} {} product {pn:?}; ", f.describe()),
                _ => write!(r, "device model unknown (advisory product {pn:?}); "),
            };
            let _ = match (firmware, verdict) {
                (Some(f), Verdict::In) => write!(r, "version {f} is within {rule}"),
                (_, Verdict::AllVersions) => write!(r, "advisory covers all versions"),
                (Some(f), _) => write!(r, "version {f} unknown: cannot be placed in {rule}"),
                (None, _) => write!(r, "version unknown; affected: {rule}"),
            };
            r
        }
        let texts = [
            "Baxter",
            "",
            "say \"hi\"",
            "back\\slash",
            "tab\there",
            "new\nline",
            "it's",
            "Dräger",
            "e\u{301}",
            "\u{7f}",
        ];
        let quote = |s: &str| {
            let mut q = String::new();
            push_quoted(&mut q, s);
            q
        };
        for t in texts {
            assert_eq!(quote(t), format!("{t:?}"));
        }
        let opt = |i: usize| (!i.is_multiple_of(3)).then_some(texts[i % texts.len()]);
        let fits = [None, Some(Fit::Exact), Some(Fit::Family)];
        let verdicts = [
            Verdict::In,
            Verdict::Out,
            Verdict::AllVersions,
            Verdict::Unknown,
        ];
        for i in 0..texts.len() * 6 {
            for (j, verdict) in verdicts.into_iter().enumerate() {
                let (v, m, f) = (opt(i), opt(i + j + 1), opt(i + 2 * j + 2));
                let ok = [Some(true), None][j % 2];
                let fit = fits[(i + j) % 3];
                let (pv, pn, rule) = (texts[i % 10], texts[(i + 3) % 10], texts[(j + 5) % 10]);
                assert_eq!(
                    explain(v, ok, m, fit, f, verdict, &quote(pv), &quote(pn), rule),
                    reference(v, ok, m, fit, f, verdict, pv, pn, rule)
                );
            }
        }
    }
}
