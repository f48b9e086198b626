//! A site's first ingest kept in memory (PostgreSQL): while every fact a
//! site has came through this connection's `ingest_observations` since the
//! site had none, those facts are kept, and the site's next full rebuild
//! builds its inventory from them instead of reading them back.
//!
//! Whether the kept facts are still all of the site's is told by the
//! `xmin` of its `sites` row: every fact writer updates that row first
//! (`incremental::mark_site`) and holds it until it commits, so the row
//! still carrying the id of this connection's last ingest transaction
//! means no other transaction (another Ward process, a rebuild elsewhere)
//! wrote the site since. Facts are kept only once their transaction has
//! committed ([`Kept::settle`]); any doubt drops them (the rebuild then
//! reads the site back, as before).

use crate::db::{params, Conn};
use crate::Error;
use identify::{EndpointKey, Fact};
use std::collections::{HashMap, HashSet};

/// Most facts kept, all sites together (about 200 bytes each): past it a
/// site's kept facts are dropped and its rebuild reads them back.
pub(crate) const LIMIT: usize = 2_000_000;

/// A set of endpoints (MAC bytes, IP).
pub(crate) struct Endpoints(HashSet<(Option<[u8; 6]>, Option<std::net::IpAddr>)>);

impl Endpoints {
    fn key(e: &EndpointKey) -> (Option<[u8; 6]>, Option<std::net::IpAddr>) {
        (e.mac.map(|m| m.0), e.ip)
    }
    /// Adds the endpoints of facts (grouped by endpoint, as sensors send them).
    fn extend(&mut self, facts: &[Fact]) {
        let mut last = None;
        for f in facts {
            if last != Some(f.endpoint) {
                last = Some(f.endpoint);
                self.0.insert(Self::key(&f.endpoint));
            }
        }
    }
    /// Whether `e` is in the set.
    pub(crate) fn contains(&self, e: &EndpointKey) -> bool {
        self.0.contains(&Self::key(e))
    }
}

/// One site's kept facts: as ingested (not merged), their endpoints, and
/// the `xmin` of its `sites` row after the last ingest that added to them.
struct Site {
    facts: Vec<Fact>,
    endpoints: Endpoints,
    xmin: String,
}

/// An ingest's addition, kept once its transaction commits.
struct Pending {
    site: String,
    facts: Vec<Fact>,
    xmin: String,
    /// The site had no facts before this ingest: the kept facts start here.
    first: bool,
}

/// The kept facts of a connection's sites.
#[derive(Default)]
pub(crate) struct Kept {
    sites: HashMap<String, Site>,
    pending: Vec<Pending>,
    /// Sites whose kept facts this transaction may invalidate if it fails.
    touched: Vec<String>,
    /// Sites whose kept facts [`check`] found current in this transaction.
    current: Vec<String>,
    /// Rebuilds that started from kept facts (tests).
    #[cfg(test)]
    pub(crate) used: usize,
}

impl Kept {
    /// The endpoints of a site's stored facts, when its kept facts are all
    /// of them ([`check`] found them current in this transaction).
    pub(crate) fn endpoints(&self, site: &str) -> Option<&Endpoints> {
        if !self.current.iter().any(|s| s == site) {
            return None;
        }
        self.sites.get(site).map(|s| &s.endpoints)
    }

    fn total(&self) -> usize {
        self.sites.values().map(|s| s.facts.len()).sum()
    }

    /// After a transaction: its additions kept if it committed; else the
    /// sites it touched dropped (what is stored is no longer known here).
    pub(crate) fn settle(&mut self, committed: bool) {
        let pending = std::mem::take(&mut self.pending);
        let touched = std::mem::take(&mut self.touched);
        self.current.clear();
        if !committed {
            for s in touched {
                self.sites.remove(&s);
            }
            return;
        }
        for p in pending {
            if p.first {
                let mut endpoints = Endpoints(HashSet::new());
                endpoints.extend(&p.facts);
                self.sites.insert(
                    p.site,
                    Site {
                        facts: p.facts,
                        endpoints,
                        xmin: p.xmin,
                    },
                );
            } else if let Some(s) = self.sites.get_mut(&p.site) {
                s.endpoints.extend(&p.facts);
                s.facts.extend(p.facts);
                s.xmin = p.xmin;
            }
        }
        if self.total() > LIMIT {
            // The largest sites go first.
            let mut sizes: Vec<(usize, String)> = self
                .sites
                .iter()
                .map(|(k, s)| (s.facts.len(), k.clone()))
                .collect();
            sizes.sort_unstable_by(|a, b| b.cmp(a));
            let mut total = self.total();
            for (n, k) in sizes {
                if total <= LIMIT {
                    break;
                }
                self.sites.remove(&k);
                total -= n;
            }
        }
    }
}

fn kept(c: &mut Conn) -> Option<&mut Kept> {
    match c {
        Conn::Postgres(pg) => Some(&mut pg.kept),
        Conn::Sqlite(_) => None,
    }
}

/// The `xmin` of a site's `sites` row, locked (`FOR UPDATE`).
fn locked_xmin(c: &mut Conn, site: &str) -> Result<Option<String>, Error> {
    c.query_opt(
        "SELECT xmin::text FROM sites WHERE site = ?1 FOR UPDATE",
        params![site],
    )?
    .map(|r| r.str(0))
    .transpose()
}

/// Before an ingest marks the site (PostgreSQL): drops its kept facts when
/// another transaction wrote the site since they were kept. Takes the
/// site's row lock (as `mark_site` would).
pub(crate) fn check(c: &mut Conn, site: &str) -> Result<(), Error> {
    let has = kept(c).is_some_and(|k| k.sites.contains_key(site));
    if !has {
        return Ok(());
    }
    let xmin = locked_xmin(c, site)?;
    if let Some(k) = kept(c) {
        k.touched.push(site.to_string());
        if k.sites.get(site).map(|s| Some(&s.xmin)) == Some(xmin.as_ref()) {
            k.current.push(site.to_string());
        } else {
            k.sites.remove(site);
        }
    }
    Ok(())
}

/// After an ingest wrote a site's facts (PostgreSQL), in its transaction:
/// keeps them (once committed) if the site had none before (`first`) or
/// its kept facts are still all of its facts ([`check`] ran first).
pub(crate) fn add(c: &mut Conn, site: &str, facts: Vec<Fact>, first: bool) -> Result<(), Error> {
    let wanted = kept(c).is_some_and(|k| first || k.current.iter().any(|s| s == site));
    if !wanted {
        return Ok(());
    }
    let Some(xmin) = locked_xmin(c, site)? else {
        return Ok(());
    };
    if let Some(k) = kept(c) {
        k.touched.push(site.to_string());
        k.pending.push(Pending {
            site: site.to_string(),
            facts,
            xmin,
            first,
        });
    }
    Ok(())
}

/// A site's kept facts, taken (they are dropped either way) for a rebuild
/// that read the row's `xmin` under its lock, as ingested ([`merged`] makes
/// them what a read-back gives), or `None` when none are kept or another
/// transaction wrote the site since.
pub(crate) fn take(c: &mut Conn, site: &str, xmin: &str) -> Option<Vec<Fact>> {
    let k = kept(c)?;
    let s = k.sites.remove(site)?;
    k.touched.push(site.to_string());
    if s.xmin != xmin {
        return None;
    }
    #[cfg(test)]
    {
        k.used += 1;
    }
    Some(s.facts)
}

/// Facts merged per key as the store's upsert merges them, in the order of
/// `ORDER BY mac, ip, kind, value` on the stored texts (byte order).
pub(crate) fn merged(facts: Vec<Fact>) -> Vec<Fact> {
    // Each endpoint once per run of facts with that endpoint, with a key
    // that orders like its stored texts.
    let mut text = String::new();
    let mut eps: Vec<crate::EndpointText> = Vec::new();
    let mut of: Vec<u32> = Vec::with_capacity(facts.len());
    let mut last = None;
    for f in &facts {
        if last != Some(f.endpoint) {
            last = Some(f.endpoint);
            eps.push(crate::EndpointText::new(&f.endpoint, &mut text));
        }
        of.push((eps.len() - 1) as u32);
    }
    let cmp = |a: &crate::EndpointText, b: &crate::EndpointText| a.cmp(b, &text);
    // Endpoints ranked in that order (equal texts, equal ranks).
    let mut order: Vec<u32> = (0..eps.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| cmp(&eps[a as usize], &eps[b as usize]));
    let mut rank = vec![0u32; eps.len()];
    let mut r = 0u32;
    for (n, &i) in order.iter().enumerate() {
        if n > 0 && cmp(&eps[order[n - 1] as usize], &eps[i as usize]).is_ne() {
            r += 1;
        }
        rank[i as usize] = r;
    }
    drop(eps);
    let kind_rank = crate::kind_ranks();
    // Sorted as (endpoint rank, kind rank) numbers, then the value, then
    // the input position (a total order: the sort need not be stable).
    let mut keys: Vec<(u64, u32)> = of
        .iter()
        .zip(&facts)
        .enumerate()
        .map(|(i, (&e, f))| {
            (
                u64::from(rank[e as usize]) << 8 | u64::from(kind_rank[f.kind as usize & 0xff]),
                i as u32,
            )
        })
        .collect();
    drop(of);
    keys.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| facts[a.1 as usize].value.cmp(&facts[b.1 as usize].value))
            .then(a.1.cmp(&b.1))
    });
    let mut slots: Vec<Option<Fact>> = facts.into_iter().map(Some).collect();
    let mut out: Vec<Fact> = Vec::with_capacity(keys.len());
    let mut prev: Option<u64> = None;
    for (k, i) in keys {
        let Some(f) = slots.get_mut(i as usize).and_then(Option::take) else {
            continue;
        };
        match out.last_mut() {
            Some(r) if prev == Some(k) && r.value == f.value => {
                // The upsert's rule (`upsert_facts` in lib.rs).
                if (f.first_seen, &f.evidence, &f.source) < (r.first_seen, &r.evidence, &r.source) {
                    r.source = f.source;
                    r.evidence = f.evidence;
                }
                r.first_seen = r.first_seen.min(f.first_seen);
                r.last_seen = r.last_seen.max(f.last_seen);
                r.count = r.count.saturating_add(f.count).min(i64::MAX as u64);
            }
            _ => {
                let mut f = f;
                f.count = f.count.min(i64::MAX as u64);
                out.push(f);
            }
        }
        prev = Some(k);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{testing, Observation, Store};
    use identify::{EndpointKey, Fact, FactKind};
    use model::{MacAddr, Timestamp};

    use crate::testing::{rebuilt_docs, stored_docs, Rng};

    /// Facts over a few hundred endpoints (MAC and IP, IP only, MAC only)
    /// and few values, so that keys repeat within a batch and across
    /// batches (the merge: counts, first/last times, earliest evidence with
    /// ties on the time); `fresh` endpoints are new to every batch.
    fn facts(r: &mut Rng, batch: u64, n: usize) -> Vec<Fact> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let host = if r.next(3) == 0 {
                1000 * (batch + 1) + i as u64
            } else {
                r.next(60)
            };
            let mac = Some(MacAddr([0x02, 0, 0, 0, (host >> 8) as u8, host as u8]));
            let ip: Option<std::net::IpAddr> = Some(
                format!("10.{}.{}.{}", host >> 16, (host >> 8) & 255, host & 255)
                    .parse()
                    .unwrap(),
            );
            let endpoint = match host % 5 {
                0 => EndpointKey { mac: None, ip },
                1 => EndpointKey { mac, ip: None },
                _ => EndpointKey { mac, ip },
            };
            let (kind, value) = match r.next(5) {
                0 => (FactKind::Hostname, format!("host-{}", r.next(3))),
                1 => (FactKind::Peer, format!("10.0.0.{}", r.next(8))),
                2 => (FactKind::Ip, format!("10.0.0.{}", r.next(8))),
                3 => (
                    FactKind::ServiceOffered,
                    format!("http/tcp/{}", 80 + r.next(2)),
                ),
                _ => (FactKind::Software, format!("nginx/1.{}", r.next(2))),
            };
            let t = r.next(50) as i64;
            out.push(Fact {
                endpoint,
                kind,
                value,
                source: format!("s{}", r.next(3)),
                first_seen: Timestamp(t),
                last_seen: Timestamp(t + r.next(20) as i64),
                count: 1 + r.next(3),
                evidence: format!("flow {}", r.next(4)),
            });
        }
        out
    }

    fn obs(id: &str, site: &str, facts: Vec<Fact>) -> Observation {
        Observation {
            id: id.into(),
            site: site.into(),
            facts,
            ..Default::default()
        }
    }

    fn used(s: &mut Store) -> usize {
        match s.conn.get_mut() {
            crate::db::Conn::Postgres(pg) => pg.kept.used,
            crate::db::Conn::Sqlite(_) => 0,
        }
    }

    /// The facts and inventory written by `COPY` and built from kept facts
    /// equal what the upsert path stores (SQLite's, and PostgreSQL's own
    /// upsert), over first ingests, merges into stored keys, a second
    /// writer on the same site (its kept facts dropped), and a later ingest.
    #[test]
    fn copy_and_kept_facts_store_what_the_upsert_stores() {
        let Some(db) = testing::ScratchDb::new("fresh_copy") else {
            return;
        };
        let Some(old) = testing::ScratchDb::new("fresh_upsert") else {
            return;
        };
        let mut s = db.store();
        let mut other = db.store();
        let mut lite = Store::open_in_memory().unwrap();
        let mut upsert = old.store();
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let mut n = 0;
        let mut next = |r: &mut Rng, site: &str, size: usize| {
            n += 1;
            obs(&format!("m{n}"), site, facts(r, n, size))
        };
        // (store, observations): 0 = s, 1 = the other writer.
        let rounds: Vec<(usize, Vec<Observation>)> = vec![
            (
                0,
                vec![next(&mut r, "north", 900), next(&mut r, "south", 400)],
            ),
            (1, vec![next(&mut r, "south", 300)]),
            (
                0,
                vec![
                    next(&mut r, "north", 900),
                    next(&mut r, "south", 300),
                    next(&mut r, "north", 200),
                ],
            ),
        ];
        let check = |s: &Store, lite: &Store, upsert: &Store, when: &str| {
            for site in ["north", "south"] {
                let got = s.site_facts(site).unwrap();
                assert_eq!(
                    got,
                    lite.site_facts(site).unwrap(),
                    "{when} {site}: facts as SQLite's upsert"
                );
                assert_eq!(
                    got,
                    upsert.site_facts(site).unwrap(),
                    "{when} {site}: facts as the PostgreSQL upsert"
                );
            }
        };
        for (who, batch) in &rounds {
            let w = if *who == 0 { &mut s } else { &mut other };
            w.ingest_observations(batch, 1).unwrap();
            lite.ingest_observations(batch, 1).unwrap();
            upsert
                .conn
                .get_mut()
                .transaction(|c| {
                    for o in batch {
                        crate::incremental::mark_site(c, &o.site)?;
                        let crate::db::Conn::Postgres(pg) = c else {
                            unreachable!()
                        };
                        crate::pgschema::upsert_facts(&mut pg.client, &o.site, &o.facts)?;
                    }
                    Ok(())
                })
                .unwrap();
        }
        check(&s, &lite, &upsert, "first ingests");
        // Keys were merged into stored rows, and facts repeated within a batch.
        let stored: u64 = ["north", "south"]
            .iter()
            .map(|s| lite.site_facts(s).unwrap().len() as u64)
            .sum();
        let sent: u64 = rounds
            .iter()
            .flat_map(|(_, b)| b)
            .map(|o| o.facts.len() as u64)
            .sum();
        assert!(stored + 500 < sent, "{stored} of {sent}");
        // The facts a rebuild of north starts from are those read back:
        // merged as the upsert merges them, in the same order.
        let kept = match s.conn.get_mut() {
            crate::db::Conn::Postgres(pg) => pg.kept.sites.get("north").map(|k| k.facts.clone()),
            crate::db::Conn::Sqlite(_) => None,
        };
        assert_eq!(
            super::merged(kept.expect("north's facts kept")),
            s.site_facts("north").unwrap()
        );
        s.rebuild_dirty_sites().unwrap();
        lite.rebuild_dirty_sites().unwrap();
        // north was built from the facts kept in memory, south (written by
        // the other writer meanwhile) from the facts read back.
        assert_eq!(used(&mut s), 1);
        for site in ["north", "south"] {
            assert_eq!(stored_docs(&s, site), rebuilt_docs(&s, site), "{site}");
            assert_eq!(stored_docs(&s, site), stored_docs(&lite, site), "{site}");
        }
        // Later ingests into the stored sites: the first round's facts
        // again under new ids (every endpoint stored: upserted whole after
        // the sample), then new and stored endpoints together.
        let again: Vec<Observation> = rounds[0]
            .1
            .iter()
            .map(|o| Observation {
                id: format!("again-{}", o.id),
                ..o.clone()
            })
            .collect();
        let later = vec![next(&mut r, "north", 900), next(&mut r, "south", 900)];
        for batch in [&again, &later] {
            s.ingest_observations(batch, 2).unwrap();
            lite.ingest_observations(batch, 2).unwrap();
            upsert
                .conn
                .get_mut()
                .transaction(|c| {
                    for o in batch {
                        let crate::db::Conn::Postgres(pg) = c else {
                            unreachable!()
                        };
                        crate::pgschema::upsert_facts(&mut pg.client, &o.site, &o.facts)?;
                    }
                    Ok(())
                })
                .unwrap();
            check(&s, &lite, &upsert, "later ingest");
        }
        s.rebuild_dirty_sites().unwrap();
        lite.rebuild_dirty_sites().unwrap();
        assert_eq!(used(&mut s), 1, "nothing kept once the site had facts");
        for site in ["north", "south"] {
            assert_eq!(stored_docs(&s, site), rebuilt_docs(&s, site), "{site}");
            assert_eq!(stored_docs(&s, site), stored_docs(&lite, site), "{site}");
        }
    }

    /// Two writers (two Ward processes) ingesting into the same sites at
    /// once: every batch lands, and the first writer's rebuild afterwards
    /// (from its kept facts only if the other did not write the site
    /// since) leaves the facts and inventory of the same batches stored
    /// one by one.
    #[test]
    fn concurrent_writers_store_every_batch() {
        let Some(db) = testing::ScratchDb::new("fresh_race") else {
            return;
        };
        drop(db.store());
        let batches: Vec<Vec<Observation>> = (0..2u64)
            .map(|w| {
                let mut r = Rng(w + 11);
                (0..8u64)
                    .map(|i| {
                        let site = if i % 2 == 0 { "north" } else { "south" };
                        obs(&format!("w{w}-{i}"), site, facts(&mut r, w * 100 + i, 1000))
                    })
                    .collect()
            })
            .collect();
        let mut writers: Vec<Store> = std::thread::scope(|t| {
            let running: Vec<_> = batches
                .iter()
                .map(|mine| {
                    let db = &db;
                    t.spawn(move || {
                        let mut s = db.store();
                        for o in mine {
                            s.ingest_observations(std::slice::from_ref(o), 1).unwrap();
                        }
                        s
                    })
                })
                .collect();
            running.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let s = &mut writers[0];
        s.rebuild_dirty_sites().unwrap();
        let mut lite = Store::open_in_memory().unwrap();
        for o in batches.iter().flatten() {
            lite.ingest_observations(std::slice::from_ref(o), 1)
                .unwrap();
        }
        lite.rebuild_dirty_sites().unwrap();
        assert_eq!(s.ingested_count().unwrap(), 16);
        for site in ["north", "south"] {
            assert_eq!(s.site_facts(site).unwrap(), lite.site_facts(site).unwrap());
            assert_eq!(stored_docs(s, site), rebuilt_docs(s, site), "{site}");
            assert_eq!(stored_docs(s, site), stored_docs(&lite, site), "{site}");
        }
        assert!(s.dirty_sites().unwrap().is_empty());
    }

    /// A failed ingest keeps nothing: the rebuild reads the site back.
    #[test]
    fn a_failed_ingest_drops_the_kept_facts() {
        let Some(db) = testing::ScratchDb::new("fresh_failed") else {
            return;
        };
        let mut s = db.store();
        let mut r = Rng(7);
        s.ingest_observations(&[obs("a", "north", facts(&mut r, 1, 100))], 1)
            .unwrap();
        let mut bad = facts(&mut r, 2, 100);
        bad[50].value = "nul \0 byte".into();
        assert!(s.ingest_observations(&[obs("b", "north", bad)], 1).is_err());
        s.rebuild_dirty_sites().unwrap();
        assert_eq!(used(&mut s), 0);
        assert_eq!(stored_docs(&s, "north"), rebuilt_docs(&s, "north"));
    }
}
