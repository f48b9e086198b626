//! The scored inventory the pages and the API read: built once per store
//! generation (off the request path, one build at a time) and shared as an
//! `Arc`, with what every list request needs precomputed — a key index,
//! lower-case search text, the sort orders, categories, the overview figures,
//! the newest devices and the network graph. Serving a page of 100,000
//! devices is then one pass over in-memory rows, with no SQL and no sorting.

use crate::map::Graph;
use crate::view::{self, DeviceQuery, Overview};
use crate::{Error, Inventory};
use app::ScoredDevice;
use std::collections::HashMap;
use store::Store;

/// Devices shown as "newest" on the overview.
pub const NEWEST: u32 = 8;

/// One scored view of the store.
pub struct Snapshot {
    /// The store generation it was built from.
    pub generation: u64,
    /// Every device, scored, highest risk first (then by key).
    pub rows: Vec<ScoredDevice>,
    index: HashMap<String, usize>,
    haystack: Vec<String>,
    by_name: Vec<u32>,
    by_category: Vec<u32>,
    by_vendor: Vec<u32>,
    /// Category labels present, sorted.
    pub categories: Vec<String>,
    /// Sites present (multi-site deployments), sorted.
    pub sites: Vec<String>,
    /// Fleet figures.
    pub overview: Overview,
    /// Newest observed devices: (key, name, category, first seen).
    pub newest: Vec<(String, String, String, String)>,
    /// Who talks to whom.
    pub graph: Graph,
    /// Data protection (`app::coverage`, default window), when the store
    /// was read (not for fixed test inventories).
    pub coverage: Option<risk::coverage::Coverage>,
    /// How long the build took, milliseconds.
    pub build_ms: u128,
}

fn order(rows: &[ScoredDevice], key: impl Fn(&ScoredDevice) -> String) -> Vec<u32> {
    // Keys computed once per row (not per comparison); the sort is stable,
    // so ties keep the risk order.
    let keys: Vec<String> = rows.iter().map(key).collect();
    let mut idx: Vec<u32> = (0..rows.len() as u32).collect();
    idx.sort_by(|a, b| keys[*a as usize].cmp(&keys[*b as usize]));
    idx
}

impl Snapshot {
    /// Scores the store and precomputes everything the pages need.
    pub fn build(store: &Store, inventory: &Inventory, generation: u64) -> Result<Snapshot, Error> {
        let started = std::time::Instant::now();
        let mut rows = inventory.devices(store)?;
        rows.sort_by(|a, b| {
            b.assessment
                .score
                .cmp(&a.assessment.score)
                .then_with(|| a.assessment.key.cmp(&b.assessment.key))
        });
        let peers = store.site_facts_of_kind(identify::FactKind::Peer)?;
        let newest = store
            .newest_devices(NEWEST)?
            .into_iter()
            .map(|d| {
                (
                    d.key.clone(),
                    d.hostnames
                        .first()
                        .cloned()
                        .unwrap_or_else(|| d.key.clone()),
                    d.category.label().to_string(),
                    d.first_seen.iso(),
                )
            })
            .collect();
        let coverage = match inventory {
            Inventory::Scored => {
                Some(app::coverage::coverage(store, Default::default()).map_err(Error::Score)?)
            }
            Inventory::Fixed(_) => None,
        };
        let mut snap = Snapshot::from_rows(rows, &peers, newest, generation, started);
        snap.coverage = coverage;
        snap.build_ms = started.elapsed().as_millis();
        Ok(snap)
    }

    /// The snapshot of already scored rows (sorted by risk) and peer facts.
    pub fn from_rows(
        rows: Vec<ScoredDevice>,
        peers: &[(String, identify::Fact)],
        newest: Vec<(String, String, String, String)>,
        generation: u64,
        started: std::time::Instant,
    ) -> Snapshot {
        let index = rows
            .iter()
            .enumerate()
            .map(|(i, d)| (d.assessment.key.clone(), i))
            .collect();
        let haystack = rows
            .iter()
            .map(|d| {
                let mut s = d.assessment.key.to_lowercase();
                for f in d
                    .names
                    .iter()
                    .chain(&d.ips)
                    .chain(&d.vendor)
                    .chain(&d.model)
                {
                    s.push('\n');
                    s.push_str(&f.to_lowercase());
                }
                s
            })
            .collect();
        let by_name = order(&rows, |d| {
            d.names.first().unwrap_or(&d.assessment.key).to_lowercase()
        });
        let by_category = order(&rows, |d| d.category.to_string());
        let by_vendor = order(&rows, |d| {
            d.vendor.clone().unwrap_or_default().to_lowercase()
        });
        let mut categories: Vec<String> = rows.iter().map(|d| d.category.to_string()).collect();
        categories.sort();
        categories.dedup();
        let mut sites: Vec<String> = rows
            .iter()
            .filter_map(|d| view::site_of(&d.assessment.key))
            .map(str::to_string)
            .collect();
        sites.sort();
        sites.dedup();
        let overview = view::overview(&rows);
        let graph = Graph::build(&rows, peers);
        Snapshot {
            generation,
            index,
            haystack,
            by_name,
            by_category,
            by_vendor,
            categories,
            sites,
            overview,
            newest,
            graph,
            rows,
            coverage: None,
            build_ms: started.elapsed().as_millis(),
        }
    }

    /// The rows of one site (all when `site` is `None` or empty), in risk order.
    pub fn rows_of(&self, site: Option<&str>) -> Vec<ScoredDevice> {
        match site.filter(|s| !s.is_empty()) {
            None => self.rows.clone(),
            Some(s) => self
                .rows
                .iter()
                .filter(|d| view::site_of(&d.assessment.key) == Some(s))
                .cloned()
                .collect(),
        }
    }

    /// A device by key.
    pub fn get(&self, key: &str) -> Option<&ScoredDevice> {
        self.index.get(key).map(|i| &self.rows[*i])
    }

    /// Applies a query: filter, sort, page. Returns (total matching, page,
    /// page size, the page's rows).
    pub fn select(&self, q: &DeviceQuery) -> (usize, usize, usize, Vec<&ScoredDevice>) {
        let needle: Option<String> =
            q.q.as_deref()
                .map(|s| {
                    s.trim()
                        .chars()
                        .filter(|c| !c.is_control())
                        .collect::<String>()
                        .to_lowercase()
                })
                .filter(|s| !s.is_empty());
        // Either spelling (`infusion_pump`, `infusion pump`): the label.
        let cat = q
            .category
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(crate::names::category);
        let site = q.site.as_deref().filter(|s| !s.is_empty());
        let min = q.min_score.unwrap_or(0);
        let per_page = q.per_page.unwrap_or(50).clamp(1, 500);
        let wanted_page = q.page.unwrap_or(1).max(1);
        let keep = |i: usize| {
            let d = &self.rows[i];
            d.assessment.score >= min
                && cat.as_deref().is_none_or(|c| d.category == c)
                && site.is_none_or(|s| view::site_of(&d.assessment.key) == Some(s))
                && needle
                    .as_deref()
                    .is_none_or(|n| self.haystack[i].contains(n))
        };
        let ordering: Box<dyn Iterator<Item = usize> + '_> = match q.sort.as_deref() {
            Some("name") => Box::new(self.by_name.iter().map(|i| *i as usize)),
            Some("category") => Box::new(self.by_category.iter().map(|i| *i as usize)),
            Some("vendor") => Box::new(self.by_vendor.iter().map(|i| *i as usize)),
            _ => Box::new(0..self.rows.len()),
        };
        // One pass: count every match, keep the wanted page's (and, in case
        // the page is past the end, the last page's) rows.
        let mut total = 0usize;
        let mut shown = Vec::new();
        let mut tail: std::collections::VecDeque<usize> = Default::default();
        for i in ordering.filter(|i| keep(*i)) {
            let page_of = total / per_page + 1;
            if page_of == wanted_page {
                shown.push(i);
            }
            if total.is_multiple_of(per_page) {
                tail.clear();
            }
            tail.push_back(i);
            total += 1;
        }
        let pages = total.div_ceil(per_page).max(1);
        let page = wanted_page.min(pages);
        let rows = if page == wanted_page {
            shown
        } else {
            tail.into_iter().collect()
        };
        (
            total,
            page,
            per_page,
            rows.into_iter().map(|i| &self.rows[i]).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, name: &str, score: u8, cat: identify::Category) -> ScoredDevice {
        let d = identify::Device {
            key: key.into(),
            mac: None,
            vendor: Some(format!("Vendor {name}")),
            ips: Vec::new(),
            hostnames: vec![name.into()],
            category: cat,
            confidence: 0.5,
            reasons: Vec::new(),
            services_offered: Vec::new(),
            services_used: Vec::new(),
            roles: Vec::new(),
            software: Vec::new(),
            applications: Vec::new(),
            models: Vec::new(),
            peer_count: 0,
            first_seen: model::Timestamp(0),
            last_seen: model::Timestamp(0),
            identity: Default::default(),
            facts: Vec::new(),
        };
        let mut assessment = risk::assess(&d, &[]);
        assessment.score = score;
        ScoredDevice {
            kind: app::DeviceKind::Observed,
            category: cat.label(),
            medical: cat.is_medical(),
            vendor: d.vendor.clone(),
            model: None,
            firmware: None,
            names: vec![name.into()],
            ips: vec![format!("10.0.0.{score}")],
            assessment,
            advisories: Vec::new(),
        }
    }

    fn snap(n: usize) -> Snapshot {
        let cats = [
            identify::Category::InfusionPump,
            identify::Category::Printer,
            identify::Category::PatientMonitor,
        ];
        let mut rows: Vec<ScoredDevice> = (0..n)
            .map(|i| {
                row(
                    &format!("k{i:03}"),
                    &format!("Name-{:03}", n - i),
                    (i % 100) as u8,
                    cats[i % 3],
                )
            })
            .collect();
        rows.sort_by(|a, b| {
            b.assessment
                .score
                .cmp(&a.assessment.score)
                .then_with(|| a.assessment.key.cmp(&b.assessment.key))
        });
        Snapshot::from_rows(rows, &[], Vec::new(), 1, std::time::Instant::now())
    }

    #[test]
    fn select_filters_sorts_and_pages_like_a_full_sort() {
        let s = snap(230);
        let q = |f: &dyn Fn(&mut DeviceQuery)| {
            let mut q = DeviceQuery::default();
            f(&mut q);
            q
        };
        let (total, page, per, rows) = s.select(&q(&|_| {}));
        assert_eq!((total, page, per, rows.len()), (230, 1, 50, 50));
        assert!(rows
            .windows(2)
            .all(|w| w[0].assessment.score >= w[1].assessment.score));
        // Last page, and a page past the end shows the last page.
        let (_, page, _, rows) = s.select(&q(&|q| q.page = Some(5)));
        assert_eq!((page, rows.len()), (5, 30));
        let (_, page, _, past) = s.select(&q(&|q| q.page = Some(99)));
        assert_eq!(page, 5);
        assert_eq!(
            past.iter().map(|r| &r.assessment.key).collect::<Vec<_>>(),
            rows.iter().map(|r| &r.assessment.key).collect::<Vec<_>>()
        );
        // Name order matches sorting all rows by name.
        let (_, _, _, by_name) = s.select(&q(&|q| {
            q.sort = Some("name".into());
            q.per_page = Some(500)
        }));
        let mut names: Vec<String> = s.rows.iter().map(|r| r.names[0].to_lowercase()).collect();
        names.sort();
        assert_eq!(
            by_name
                .iter()
                .map(|r| r.names[0].to_lowercase())
                .collect::<Vec<_>>(),
            names
        );
        // Filters combine; search is case-insensitive over names, vendor, addresses.
        let (total, _, _, rows) = s.select(&q(&|q| {
            q.q = Some(" NAME-01".into());
            q.min_score = Some(50);
        }));
        assert!(rows
            .iter()
            .all(|r| r.names[0].starts_with("Name-01") && r.assessment.score >= 50));
        assert_eq!(
            total,
            s.rows
                .iter()
                .filter(|r| r.names[0].starts_with("Name-01") && r.assessment.score >= 50)
                .count()
        );
        let (total, _, _, _) = s.select(&q(&|q| q.category = Some("printer".into())));
        assert_eq!(
            total,
            s.rows.iter().filter(|r| r.category == "printer").count()
        );
        assert!(total > 0);
        assert_eq!(s.get("k007").unwrap().assessment.key, "k007");
        assert!(s.get("nope").is_none());
        assert_eq!(s.categories.len(), 3);
    }
}
