//! Incremental inventory of a multi-site store: a rebuild redoes only the
//! devices that the facts ingested since the last rebuild can change, and
//! leaves the same inventory as a full rebuild from all of the site's facts.
//!
//! Ingest records the endpoints (MAC, IP) whose facts it merged in
//! `dirty_endpoints` and marks the site (`sites.dirty`: 0 current, 1 full
//! rebuild needed, 2 only the recorded endpoints changed). Why the partial
//! rebuild is exact follows from how `identify` builds an inventory:
//!
//! 1. **Grouping** looks across endpoints only through shared addresses: a
//!    MAC's router/forwarder status counts the IPs seen with that MAC, an
//!    IP-only endpoint joins the MAC seen with that IP (a local host
//!    address: no other makes a device). So the devices made from a
//!    *component* (endpoints linked by a shared MAC or local host IP,
//!    closed under both) depend on that component's facts alone. The changed
//!    endpoints' components are found by repeated lookups and rebuilt whole;
//!    every device they held before has a key (`mac:M`, `ip:A`) made from
//!    one of their addresses, so deleting those keys removes exactly the old
//!    devices (components only merge as facts grow).
//! 2. **Companions** (an uncategorised device whose only local peer runs a
//!    device app) depend on a device's `peer` facts and on the devices
//!    holding those peer addresses (local ones: a device holds no other).
//!    Devices whose peers point at an address of a rebuilt component are
//!    rebuilt too (their components), and the devices holding any rebuilt
//!    device's peer addresses are built beside them (not stored) so the
//!    companion step sees what a full build sees.
//!
//! When the changed endpoints are many against the site's devices (the
//! first ingest of a site), a full rebuild is cheaper and is done instead.
//! Lookups compare address texts as stored (canonical text written by Ward).
//! Ingest locks the site's `sites` row first and a rebuild reads it
//! `FOR UPDATE` (PostgreSQL), so a rebuild never clears an endpoint a
//! concurrent ingest recorded but did not commit yet.

use crate::db::{any_text, params, Conn, Dialect, Val};
use crate::Error;
use identify::{Device, Fact, FactKind};
use std::collections::HashSet;
use std::net::IpAddr;

/// SQLite migration: the changed endpoints (and the transport consumer's
/// state for the dashboard, [`crate::TransportStatus`]).
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE dirty_endpoints(
    site TEXT NOT NULL,
    mac TEXT NOT NULL,
    ip TEXT NOT NULL,
    PRIMARY KEY (site, mac, ip)
) WITHOUT ROWID;
UPDATE sites SET dirty = 1 WHERE dirty <> 0;
CREATE TABLE transport_status(
    consumer TEXT PRIMARY KEY,
    waiting INTEGER NOT NULL,
    unacknowledged INTEGER NOT NULL,
    redelivered INTEGER NOT NULL,
    ack_wait INTEGER NOT NULL,
    at INTEGER NOT NULL
);
"#;

/// PostgreSQL migration: the changed endpoints, and the indexes the
/// component lookups use (by IP; `peer` and `ip` facts by value).
pub(crate) const PG_MIGRATION: &str = r#"
CREATE TABLE dirty_endpoints(
    site TEXT COLLATE "C" NOT NULL,
    mac TEXT COLLATE "C" NOT NULL,
    ip TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (site, mac, ip)
);
CREATE INDEX facts_ip ON facts(site, ip);
CREATE INDEX facts_linked ON facts(site, value) WHERE kind IN ('peer', 'ip');
UPDATE sites SET dirty = 1 WHERE dirty <> 0;
CREATE TABLE transport_status(
    consumer TEXT COLLATE "C" PRIMARY KEY,
    waiting BIGINT NOT NULL,
    unacknowledged BIGINT NOT NULL,
    redelivered BIGINT NOT NULL,
    ack_wait BIGINT NOT NULL,
    at BIGINT NOT NULL
);
"#;

/// `sites.dirty`: a full rebuild is needed.
const FULL: i64 = 1;

/// Marks a site changed before its facts are merged (on PostgreSQL this
/// locks its row until the ingest commits); whether the site already waits
/// for a full rebuild. A site seen for the first time is rebuilt whole.
pub(crate) fn mark_site(c: &mut Conn, site: &str) -> Result<bool, Error> {
    let state = c
        .query_one(
            "INSERT INTO sites(site, dirty) VALUES (?1, 1) ON CONFLICT(site) DO UPDATE SET dirty = CASE WHEN sites.dirty = 1 THEN 1 ELSE 2 END RETURNING dirty",
            params![site],
        )?
        .i64(0)?;
    Ok(state == FULL)
}

/// Endpoints per batch below which they are recorded without asking how
/// many devices the site has.
const FEW_ENDPOINTS: usize = 1000;

/// Records the endpoints of merged facts as changed; when they are many
/// against the site's devices (a rebuild would read everything anyway, see
/// [`rebuild_site`]) the site is marked for a full rebuild instead.
pub(crate) fn record_endpoints(c: &mut Conn, site: &str, facts: &[Fact]) -> Result<(), Error> {
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut last = None;
    for f in facts {
        if last == Some(f.endpoint) {
            continue;
        }
        last = Some(f.endpoint);
        seen.insert(endpoint_text(f));
    }
    // Only asked for many endpoints (a count per small batch would cost more).
    if seen.len() > FEW_ENDPOINTS && seen.len() * 2 >= device_count(c, site)? {
        c.execute(
            "UPDATE sites SET dirty = ?2 WHERE site = ?1",
            params![site, FULL],
        )?;
        return Ok(());
    }
    let (macs, ips): (Vec<String>, Vec<String>) = seen.into_iter().unzip();
    match c.dialect() {
        Dialect::Postgres => {
            c.execute(
                "INSERT INTO dirty_endpoints(site, mac, ip) SELECT ?1, * FROM unnest(?2::text[], ?3::text[]) ON CONFLICT DO NOTHING",
                &[Val::from(site), Val::Texts(macs), Val::Texts(ips)],
            )?;
        }
        Dialect::Sqlite => {
            for (m, i) in macs.iter().zip(&ips) {
                c.execute(
                    "INSERT INTO dirty_endpoints(site, mac, ip) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                    params![site, m, i],
                )?;
            }
        }
    }
    Ok(())
}

/// How many devices a site's inventory holds.
pub(crate) fn device_count(c: &mut Conn, site: &str) -> Result<usize, Error> {
    Ok(c.query_one(
        "SELECT count(*) FROM devices WHERE site = ?1",
        params![site],
    )?
    .i64(0)?
    .max(0) as usize)
}

/// A fact's endpoint as stored: MAC and IP text, `""` for none.
fn endpoint_text(f: &Fact) -> (String, String) {
    (
        f.endpoint
            .mac
            .map(|m| m.text().to_string())
            .unwrap_or_default(),
        f.endpoint.ip.map(|i| i.to_string()).unwrap_or_default(),
    )
}

/// Marks a site's inventory current after a full rebuild that did not go
/// through [`rebuild_site`] (a single-box ingest): no endpoint waits.
pub(crate) fn mark_current(c: &mut Conn, site: &str) -> Result<(), Error> {
    c.execute(
        "INSERT INTO sites(site, dirty) VALUES (?1, 0) ON CONFLICT(site) DO UPDATE SET dirty = 0",
        params![site],
    )?;
    c.execute("DELETE FROM dirty_endpoints WHERE site = ?1", params![site])?;
    Ok(())
}

/// What [`rebuild_site`] did, and the devices it stored (with their facts).
pub(crate) struct Rebuild {
    /// How.
    #[cfg_attr(not(test), allow(dead_code))]
    pub how: Rebuilt,
    /// The devices stored: the whole site after a full rebuild, the
    /// rebuilt components' devices after a partial one, none when current.
    pub devices: Vec<Device>,
    /// Devices in the site afterwards, known without counting them again
    /// when it was rebuilt (`None` when it was current).
    pub inventory: Option<usize>,
}

/// How a site was rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rebuilt {
    /// Nothing to do.
    Current,
    /// From all of its facts.
    Full,
    /// Only the devices the changes can reach.
    Partial,
}

/// How to rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// In part when only recorded endpoints changed and they are few.
    Auto,
    /// In part whenever only recorded endpoints changed (tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Partial,
}

/// Rebuilds one site's inventory (in the caller's transaction): in part
/// when only recorded endpoints changed, else whole. Clears its marks.
pub(crate) fn rebuild_site(c: &mut Conn, site: &str, mode: Mode) -> Result<Rebuild, Error> {
    let current = Rebuild {
        how: Rebuilt::Current,
        devices: Vec::new(),
        inventory: None,
    };
    let lock = match c.dialect() {
        Dialect::Postgres => "SELECT dirty, xmin::text FROM sites WHERE site = ?1 FOR UPDATE",
        Dialect::Sqlite => "SELECT dirty, '' FROM sites WHERE site = ?1",
    };
    let (state, xmin) = match c.query_opt(lock, params![site])? {
        Some(r) => (r.i64(0)?, r.str(1)?),
        None => return Ok(current),
    };
    // The site's first ingest, if this connection still holds all of it.
    let kept = crate::fresh::take(c, site, &xmin);
    if state == 0 {
        return Ok(current);
    }
    let seeds = c.query(
        "SELECT mac, ip FROM dirty_endpoints WHERE site = ?1",
        params![site],
    )?;
    let devices = device_count(c, site)?;
    // Each changed endpoint costs a few lookups; past a fraction of the
    // site, reading everything once is cheaper.
    let few = mode == Mode::Partial || seeds.len() * 2 < devices;
    let out = if state == FULL || !few {
        let facts = match kept {
            Some(facts) => crate::fresh::merged(facts),
            None => crate::load_facts(c, Some(site))?,
        };
        let all = crate::build_inventory_owned(facts);
        crate::store_devices(c, site, &all)?;
        Rebuild {
            how: Rebuilt::Full,
            inventory: Some(all.len()),
            devices: all,
        }
    } else {
        let mut set = Closure::default();
        for r in &seeds {
            set.add(r.str(0)?, r.str(1)?);
        }
        let (mine, deleted) = partial(c, site, set)?;
        Rebuild {
            how: Rebuilt::Partial,
            inventory: Some((devices + mine.len()).saturating_sub(deleted)),
            devices: mine,
        }
    };
    c.execute("DELETE FROM dirty_endpoints WHERE site = ?1", params![site])?;
    c.execute("UPDATE sites SET dirty = 0 WHERE site = ?1", params![site])?;
    Ok(out)
}

/// A set of endpoints closed under shared addresses (once [`Closure::close`]d).
#[derive(Default)]
struct Closure {
    macs: HashSet<String>,
    ips: HashSet<String>,
    /// Addresses added since the last lookup.
    new_macs: Vec<String>,
    new_ips: Vec<String>,
}

impl Closure {
    /// Adds an endpoint's addresses; only an IP that [`links`] is kept.
    fn add(&mut self, mac: String, ip: String) -> bool {
        let mut grew = false;
        if !mac.is_empty() && !self.macs.contains(&mac) {
            self.macs.insert(mac.clone());
            self.new_macs.push(mac);
            grew = true;
        }
        if !ip.is_empty() && !self.ips.contains(&ip) && links(&ip) {
            self.ips.insert(ip.clone());
            self.new_ips.push(ip);
            grew = true;
        }
        grew
    }

    /// Adds every endpoint sharing an address with the set, until none is new.
    fn close(&mut self, c: &mut Conn, site: &str, look: &Lookup) -> Result<(), Error> {
        while !self.new_macs.is_empty() || !self.new_ips.is_empty() {
            let macs = std::mem::take(&mut self.new_macs);
            let ips = std::mem::take(&mut self.new_ips);
            for (m, i) in look.sharing(c, site, macs, ips)? {
                self.add(m, i);
            }
        }
        Ok(())
    }

    /// Every stored device key its endpoints' devices may have had.
    fn keys(&self, site: &str) -> Vec<String> {
        let mut keys = Vec::with_capacity(self.macs.len() + self.ips.len());
        for m in &self.macs {
            keys.push(crate::site_key(site, &format!("mac:{m}")));
        }
        for i in &self.ips {
            keys.push(crate::site_key(site, &format!("ip:{i}")));
        }
        keys
    }

    fn len(&self) -> usize {
        self.macs.len() + self.ips.len()
    }
}

/// Whether an endpoint's IP ties it to the other endpoints holding that IP.
/// Grouping compares IPs across endpoints only where they can be a local
/// device's (a local host address: an IP-only endpoint joins the MAC seen
/// with it); a broadcast, multicast or internet address ties nothing, or
/// every endpoint seen with 255.255.255.255, or every router that carried
/// one server's traffic, would be one component.
fn links(ip: &str) -> bool {
    ip.parse::<IpAddr>()
        .is_ok_and(|ip| model::addr::is_host(&ip) && model::addr::is_local(&ip))
}

/// Whether an address can be a device's (a device's addresses are local,
/// see `identify`): only such peers make companions, so only they tie a
/// device to the devices it talks to.
fn device_address(ip: &IpAddr) -> bool {
    model::addr::is_local(ip)
}

/// How a partial rebuild finds endpoints. On PostgreSQL by indexed queries
/// (`facts_ip`, `facts_linked`). SQLite has no index on a fact's IP or value
/// (they would cost every ingest: inserting a store's facts in key order took
/// two to three times as long with them), so there each such query scanned
/// all of the site's facts; instead the site's endpoints and `peer`/`ip`
/// facts are read in one pass and looked up in memory ([`Graph`]).
enum Lookup {
    Indexed,
    Memory(Box<Graph>),
}

/// Endpoints as (MAC text, IP text), `""` for none.
type Endpoints = Vec<(String, String)>;

impl Lookup {
    fn new(c: &mut Conn, site: &str) -> Result<Lookup, Error> {
        Ok(match c.dialect() {
            Dialect::Postgres => Lookup::Indexed,
            Dialect::Sqlite => Lookup::Memory(Box::new(Graph::load(c, site)?)),
        })
    }

    /// Endpoints whose MAC is one of `macs` or whose IP is one of `ips`.
    fn sharing(
        &self,
        c: &mut Conn,
        site: &str,
        macs: Vec<String>,
        ips: Vec<String>,
    ) -> Result<Endpoints, Error> {
        match self {
            Lookup::Memory(g) => {
                Ok(g.endpoints_of([(&g.by_mac, &macs), (&g.by_ip, &ips)].into_iter()))
            }
            Lookup::Indexed => {
                let d = c.dialect();
                let filter = format!("({} OR {})", any_text(d, "mac", 2), any_text(d, "ip", 3));
                endpoints_by(c, site, &filter, vec![macs, ips])
            }
        }
    }

    /// Endpoints with a `peer` fact naming one of `addresses`.
    fn peering(
        &self,
        c: &mut Conn,
        site: &str,
        addresses: Vec<String>,
    ) -> Result<Endpoints, Error> {
        match self {
            Lookup::Memory(g) => Ok(g.endpoints_of([(&g.peering, &addresses)].into_iter())),
            Lookup::Indexed => {
                let filter = format!(
                    "kind IN ('peer', 'ip') AND kind = 'peer' AND {}",
                    any_text(c.dialect(), "value", 2)
                );
                endpoints_by(c, site, &filter, vec![addresses])
            }
        }
    }

    /// Endpoints holding one of `addresses`: as their IP, or stated by an
    /// `ip` fact.
    fn holding(
        &self,
        c: &mut Conn,
        site: &str,
        addresses: Vec<String>,
    ) -> Result<Endpoints, Error> {
        match self {
            Lookup::Memory(g) => {
                Ok(g.endpoints_of([(&g.by_ip, &addresses), (&g.stating, &addresses)].into_iter()))
            }
            Lookup::Indexed => {
                let d = c.dialect();
                let filter = format!(
                    "({} OR (kind IN ('peer', 'ip') AND kind = 'ip' AND {}))",
                    any_text(d, "ip", 2),
                    any_text(d, "value", 2)
                );
                endpoints_by(c, site, &filter, vec![addresses])
            }
        }
    }

    /// The facts of the set's endpoints, in the order a full build reads them.
    fn facts(&self, c: &mut Conn, site: &str, set: &Closure) -> Result<Vec<Fact>, Error> {
        match self {
            Lookup::Memory(g) => {
                // Each endpoint's facts by the primary key, in key order.
                let ids = g
                    .ids_of([(&g.by_mac, set.macs.iter()), (&g.by_ip, set.ips.iter())].into_iter());
                let sql = format!(
                    "{} WHERE site = ?1 AND mac = ?2 AND ip = ?3 ORDER BY kind, value",
                    crate::FACT_COLUMNS
                );
                let mut out = Vec::new();
                for id in ids {
                    let (m, i) = &g.endpoints[id as usize];
                    out.extend(crate::query_facts(c, &sql, params![site, m, i])?);
                }
                Ok(out)
            }
            Lookup::Indexed => {
                let d = c.dialect();
                let sql = format!(
                    "{} WHERE site = ?1 AND ({} OR {}) ORDER BY mac, ip, kind, value",
                    crate::FACT_COLUMNS,
                    any_text(d, "mac", 2),
                    any_text(d, "ip", 3)
                );
                crate::query_facts(
                    c,
                    &sql,
                    &[
                        Val::from(site),
                        Val::Texts(set.macs.iter().cloned().collect()),
                        Val::Texts(set.ips.iter().cloned().collect()),
                    ],
                )
            }
        }
    }
}

/// A site's endpoints and the addresses that link them, read in one pass
/// over its facts (in key order, borrowed: only each endpoint's addresses
/// and the `peer`/`ip` facts' values are copied).
#[derive(Default)]
struct Graph {
    /// Every endpoint, in key order (an endpoint's id is its index).
    endpoints: Endpoints,
    by_mac: Index,
    by_ip: Index,
    /// Endpoints by the values of their `peer` facts.
    peering: Index,
    /// Endpoints by the values of their `ip` facts.
    stating: Index,
}

/// Endpoint ids by an address text.
type Index = std::collections::HashMap<String, Vec<u32>>;

impl Graph {
    fn load(c: &mut Conn, site: &str) -> Result<Graph, Error> {
        fn push(index: &mut Index, key: &str, id: u32) {
            match index.get_mut(key) {
                Some(ids) if ids.last() == Some(&id) => {}
                Some(ids) => ids.push(id),
                None => {
                    index.insert(key.to_string(), vec![id]);
                }
            }
        }
        let mut g = Graph::default();
        c.query_each(
            "SELECT mac, ip, kind, value FROM facts WHERE site = ?1 ORDER BY mac, ip",
            params![site],
            |r| {
                let (mac, ip) = (r.str(0)?, r.str(1)?);
                if g.endpoints.last().is_none_or(|(m, i)| m != mac || i != ip) {
                    let id = g.endpoints.len() as u32;
                    g.endpoints.push((mac.to_string(), ip.to_string()));
                    if !mac.is_empty() {
                        push(&mut g.by_mac, mac, id);
                    }
                    if !ip.is_empty() {
                        push(&mut g.by_ip, ip, id);
                    }
                }
                let id = g.endpoints.len() as u32 - 1;
                match r.str(2)? {
                    "peer" => push(&mut g.peering, r.str(3)?, id),
                    "ip" => push(&mut g.stating, r.str(3)?, id),
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok(g)
    }

    /// The ids of the endpoints each index gives for its keys, each once, in
    /// key order.
    fn ids_of<'k>(
        &self,
        lookups: impl Iterator<Item = (&'k Index, impl Iterator<Item = &'k String>)>,
    ) -> Vec<u32> {
        let mut ids = Vec::new();
        for (index, keys) in lookups {
            for k in keys {
                if let Some(found) = index.get(k) {
                    ids.extend_from_slice(found);
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The endpoints each index gives for its keys, each once.
    fn endpoints_of<'k>(
        &self,
        lookups: impl Iterator<Item = (&'k Index, &'k Vec<String>)>,
    ) -> Endpoints {
        self.ids_of(lookups.map(|(index, keys)| (index, keys.iter())))
            .into_iter()
            .map(|id| self.endpoints[id as usize].clone())
            .collect()
    }
}

/// Endpoints of the facts matching `filter`, whose list parameters `?2`,
/// `?3`... are `lists`.
fn endpoints_by(
    c: &mut Conn,
    site: &str,
    filter: &str,
    lists: Vec<Vec<String>>,
) -> Result<Endpoints, Error> {
    if lists.iter().all(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT DISTINCT mac, ip FROM facts WHERE site = ?1 AND {filter}");
    let mut p = vec![Val::from(site)];
    p.extend(lists.into_iter().map(Val::Texts));
    c.query(&sql, &p)?
        .iter()
        .map(|r| Ok((r.str(0)?, r.str(1)?)))
        .collect()
}

/// The partial rebuild (see the module doc): the devices it stored, and how
/// many stored devices it deleted first.
fn partial(c: &mut Conn, site: &str, mut set: Closure) -> Result<(Vec<Device>, usize), Error> {
    let d = c.dialect();
    if d == Dialect::Postgres {
        // Every lookup below is a few thousand index probes. PostgreSQL
        // estimates `= ANY(...)` of addresses newer than its statistics far
        // too high and may then scan the whole facts table instead (30 ms
        // became 300 ms per query at 500,000 devices, see
        // docs/benchmarks.md); a partial rebuild never wants that. Until
        // the transaction ends.
        c.batch("SET LOCAL enable_seqscan = off")?;
    }
    let look = Lookup::new(c, site)?;
    // 1. The changed components.
    set.close(c, site, &look)?;
    let mut facts = look.facts(c, site, &set)?;
    // 2. Devices whose peers may be these components' addresses.
    // The set's IPs are local host addresses already (`links`).
    let mut addresses: HashSet<String> = set.ips.iter().cloned().collect();
    for f in facts.iter().filter(|f| f.kind == FactKind::Ip) {
        if let Ok(ip) = f.value.parse::<IpAddr>() {
            if device_address(&ip) {
                addresses.insert(ip.to_string());
            }
        }
    }
    let before = set.len();
    for (m, i) in look.peering(c, site, addresses.into_iter().collect())? {
        set.add(m, i);
    }
    set.close(c, site, &look)?;
    if set.len() != before {
        facts = look.facts(c, site, &set)?;
    }
    let stored = set.keys(site);
    // 3. Beside them (not stored), the devices holding their peers' addresses.
    let mut peers: HashSet<String> = HashSet::new();
    for f in facts.iter().filter(|f| f.kind == FactKind::Peer) {
        if let Ok(ip) = f.value.parse::<IpAddr>() {
            if device_address(&ip) {
                peers.insert(ip.to_string());
            }
        }
    }
    let peers: Vec<String> = peers.into_iter().collect();
    let mut context = Closure {
        macs: set.macs.clone(),
        ips: set.ips.clone(),
        ..Default::default()
    };
    let before = context.len();
    for (m, i) in look.holding(c, site, peers)? {
        context.add(m, i);
    }
    context.close(c, site, &look)?;
    if context.len() != before {
        facts = look.facts(c, site, &context)?;
    }
    let mut devices = identify::inventory_parts(facts);
    identify::apply_companions(&mut devices);
    // Only the devices of the rebuilt components are stored.
    let keep: HashSet<&str> = stored.iter().map(String::as_str).collect();
    let mut mine: Vec<Device> = Vec::with_capacity(devices.len());
    for dev in devices {
        if keep.contains(crate::site_key(site, &dev.key).as_str()) {
            mine.push(dev);
        }
    }
    let sql = format!(
        "DELETE FROM devices WHERE site = ?1 AND {}",
        any_text(d, "key", 2)
    );
    let deleted = c.execute(&sql, &[Val::from(site), Val::Texts(stored)])?;
    crate::insert_devices(c, site, &mine)?;
    Ok((mine, deleted as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{testing, Observation, Store};
    use identify::EndpointKey;
    use model::{MacAddr, Timestamp};

    use crate::testing::{rebuilt_docs, stored_docs, Rng};

    fn ip(r: &mut Rng) -> std::net::IpAddr {
        match r.next(14) {
            // Addresses of no one device: they tie nothing together.
            10 => "255.255.255.255".parse().unwrap(),
            11 => "224.0.0.251".parse().unwrap(),
            12 => "ff02::fb".parse().unwrap(),
            13 => "10.0.1.255".parse().unwrap(),
            0 => format!("93.184.{}.{}", r.next(2), r.next(4))
                .parse()
                .unwrap(),
            1 => format!("fe80::{:x}", r.next(6) + 1).parse().unwrap(),
            2 => format!("2001:db8:{:x}::1", r.next(5)).parse().unwrap(),
            _ => format!("10.0.{}.{}", r.next(2), r.next(20) + 1)
                .parse()
                .unwrap(),
        }
    }

    /// One batch: endpoints with a MAC and IP, an IP only or a MAC only;
    /// a MAC that gains local addresses until it routes (the grouping of
    /// its IPs changes), peers and `ip` facts pointing across devices, and
    /// a phone running an ear-camera app with a camera that talks only to it
    /// (the companion step).
    fn batch(r: &mut Rng, round: u64) -> Vec<Fact> {
        let mac = |n: u64| Some(MacAddr([0x02, 0, 0, 0, 0, n as u8]));
        let mut out = Vec::new();
        let mut push =
            |mac: Option<MacAddr>, ip: Option<std::net::IpAddr>, kind, value: String, t| {
                out.push(Fact {
                    endpoint: EndpointKey { mac, ip },
                    kind,
                    value,
                    source: format!("s{t}"),
                    first_seen: Timestamp(t as i64),
                    last_seen: Timestamp(t as i64 + 3),
                    count: 1,
                    evidence: format!("flow {t}"),
                });
            };
        for i in 0..60 {
            let t = round * 1000 + i;
            let (m, a) = match r.next(4) {
                0 => (None, Some(ip(r))),
                1 => (mac(r.next(12)), None),
                _ => (mac(r.next(12)), Some(ip(r))),
            };
            let (kind, value) = match r.next(6) {
                0 => (FactKind::Peer, ip(r).to_string()),
                1 => (FactKind::Ip, ip(r).to_string()),
                2 => (FactKind::Hostname, format!("host-{}", r.next(5))),
                3 => (
                    FactKind::ServiceOffered,
                    format!("http/tcp/{}", 80 + r.next(3)),
                ),
                4 => (FactKind::Software, format!("nginx/1.{}", r.next(3))),
                _ => (FactKind::DnsQuery, format!("q{}.example.org", r.next(4))),
            };
            push(m, a, kind, value, t);
        }
        // The router: two more local addresses per round.
        for k in 0..2 {
            let a: std::net::IpAddr = format!("10.1.0.{}", round * 2 + k + 1).parse().unwrap();
            push(
                mac(40),
                Some(a),
                FactKind::Hostname,
                format!("behind-{round}-{k}"),
                round,
            );
        }
        // The phone and its camera (from round 2 on; the camera's only
        // peer is the phone's address).
        if round >= 2 {
            let phone: std::net::IpAddr = "10.2.0.5".parse().unwrap();
            push(
                mac(50),
                Some(phone),
                FactKind::DhcpVendorClass,
                "android-dhcp-13".into(),
                round,
            );
            push(
                mac(50),
                Some(phone),
                FactKind::Hostname,
                "Galaxy-S23".into(),
                round,
            );
            push(
                mac(50),
                Some(phone),
                FactKind::DnsQuery,
                "api.simicloud.com".into(),
                round,
            );
            push(
                mac(51),
                Some("10.2.0.9".parse().unwrap()),
                FactKind::Peer,
                phone.to_string(),
                round,
            );
        }
        out
    }

    #[test]
    fn ingest_run_equals_a_full_rebuild_and_returns_what_the_run_saw() {
        testing::each_backend("ingest_run", |mut s| {
            // A fresh store: 300 hosts, built straight from the run's facts.
            let base: Vec<Fact> = (0..300u32)
                .map(|i| Fact {
                    endpoint: EndpointKey {
                        mac: Some(MacAddr([0x06, 0, 0, 0, (i >> 8) as u8, i as u8])),
                        ip: Some(format!("10.9.{}.{}", i / 200, i % 200 + 1).parse().unwrap()),
                    },
                    kind: FactKind::Hostname,
                    value: format!("base-{i}"),
                    source: "dhcp".into(),
                    first_seen: Timestamp(1),
                    last_seen: Timestamp(2),
                    count: 1,
                    evidence: format!("flow {i}"),
                })
                .collect();
            let first = s
                .ingest_run(&crate::RunSummary::default(), base, &[])
                .unwrap();
            assert_eq!(first.devices.len(), 300);
            assert_eq!(first.inventory, 300);
            assert_eq!(stored_docs(&s, ""), rebuilt_docs(&s, ""));
            let mut r = Rng(0x2545_f491_4f6c_dd1d);
            let mut partial_rounds = 0;
            for round in 0..6 {
                let facts = batch(&mut r, round);
                let seen: std::collections::BTreeSet<EndpointKey> =
                    facts.iter().map(|f| f.endpoint).collect();
                let before = s.run_count().unwrap();
                let got = s
                    .ingest_run(&crate::RunSummary::default(), facts, &[])
                    .unwrap();
                assert_eq!(s.run_count().unwrap(), before + 1);
                // The stored inventory is a full rebuild's.
                assert_eq!(stored_docs(&s, ""), rebuilt_docs(&s, ""), "round {round}");
                // What comes back: the devices holding a fact of the run's
                // endpoints, each with all of its stored facts.
                let want: Vec<Device> = s
                    .site_devices_with_facts("")
                    .unwrap()
                    .into_iter()
                    .filter(|d| d.facts.iter().any(|f| seen.contains(&f.endpoint)))
                    .collect();
                assert!(!want.is_empty());
                assert_eq!(got.devices, want, "round {round}");
                assert_eq!(got.inventory, s.device_count().unwrap());
                if got.inventory > 2 * want.len() as u64 {
                    partial_rounds += 1;
                }
            }
            assert!(partial_rounds > 0, "no round was small against the store");
            // The whole-inventory ingest beside it leaves the site current.
            s.ingest(&crate::RunSummary::default(), &batch(&mut r, 9), &[])
                .unwrap();
            assert!(s.dirty_sites().unwrap().is_empty());
            let got = s
                .ingest_run(&crate::RunSummary::default(), batch(&mut r, 10), &[])
                .unwrap();
            assert_eq!(stored_docs(&s, ""), rebuilt_docs(&s, ""));
            assert_eq!(got.inventory, s.device_count().unwrap());
        });
    }

    /// Four writers at once on one store, each run by `ingest_run` or
    /// `ingest` in turn: every run lands and the inventory is a full
    /// rebuild's (on PostgreSQL only one of the first runs may find the
    /// store fresh).
    #[test]
    fn concurrent_runs_leave_the_inventory_of_all_their_facts() {
        fn writer(open: &(dyn Fn() -> Store + Sync), w: u8) {
            let mut s = open();
            for r in 0..4u8 {
                let facts: Vec<Fact> = (0..50u8)
                    .map(|k| Fact {
                        endpoint: EndpointKey {
                            mac: Some(MacAddr([0x0a, w, 0, 0, 0, k])),
                            ip: Some(format!("10.{w}.{r}.{}", k + 1).parse().unwrap()),
                        },
                        kind: FactKind::Hostname,
                        value: format!("h-{w}-{k}"),
                        source: "dhcp".into(),
                        first_seen: Timestamp(i64::from(r)),
                        last_seen: Timestamp(i64::from(r) + 1),
                        count: 1,
                        evidence: format!("run {r}"),
                    })
                    .collect();
                let run = crate::RunSummary::default();
                if (w + r).is_multiple_of(2) {
                    let got = s.ingest_run(&run, facts, &[]).unwrap();
                    assert_eq!(got.devices.len(), 50);
                } else {
                    s.ingest(&run, &facts, &[]).unwrap();
                }
            }
        }
        fn race(open: &(dyn Fn() -> Store + Sync)) {
            std::thread::scope(|t| {
                for w in 0..4u8 {
                    t.spawn(move || writer(open, w));
                }
            });
            let s = open();
            assert_eq!(s.run_count().unwrap(), 16);
            assert_eq!(s.device_count().unwrap(), 200);
            assert_eq!(stored_docs(&s, ""), rebuilt_docs(&s, ""));
            assert!(s.dirty_sites().unwrap().is_empty());
        }
        let dir = std::env::temp_dir().join(format!("ward-incr-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("ward.db");
        Store::open(&db).unwrap();
        race(&|| Store::open(&db).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
        if let Some(pg) = testing::ScratchDb::new("incremental_race") {
            drop(pg.store());
            race(&|| Store::open_postgres_with_key_file(&pg.url, &pg.key_file()).unwrap());
        }
    }

    /// Many devices that all announce to broadcast and multicast addresses
    /// and fetch from one internet server, and a DHCP server's role seen on
    /// the broadcast address itself: a run touching that pseudo-endpoint
    /// and one device rebuilds that device, not every device that shares
    /// a non-device address with it.
    #[test]
    fn addresses_of_no_device_tie_nothing() {
        testing::each_backend("group_addresses", |mut s| {
            let fact = |mac: Option<u16>, ip: &str, kind, value: &str, t: i64| Fact {
                endpoint: EndpointKey {
                    mac: mac.map(|n| MacAddr([0x02, 0, 0, 0, (n >> 8) as u8, n as u8])),
                    ip: Some(ip.parse().unwrap()),
                },
                kind,
                value: value.into(),
                source: "test".into(),
                first_seen: Timestamp(t),
                last_seen: Timestamp(t + 1),
                count: 1,
                evidence: format!("flow {t}"),
            };
            let mut base = Vec::new();
            for n in 0..200u16 {
                let ip = format!("10.4.{}.{}", n / 200, n % 200 + 1);
                for peer in [
                    "255.255.255.255",
                    "224.0.0.251",
                    "ff02::fb",
                    "93.184.216.34",
                ] {
                    base.push(fact(Some(n), &ip, FactKind::Peer, peer, 1));
                }
                // The gateway's view of the server, under this device's MAC.
                base.push(fact(
                    Some(n),
                    "93.184.216.34",
                    FactKind::Software,
                    "nginx",
                    1,
                ));
            }
            base.push(fact(
                None,
                "255.255.255.255",
                FactKind::Role,
                "dhcp-server",
                1,
            ));
            s.ingest_observations(
                &[Observation {
                    id: "base".into(),
                    site: "north".into(),
                    facts: base,
                    ..Default::default()
                }],
                1,
            )
            .unwrap();
            s.conn
                .get_mut()
                .transaction(|c| rebuild_site(c, "north", Mode::Auto))
                .unwrap();
            assert_eq!(stored_docs(&s, "north").len(), 200);
            let run = vec![
                fact(None, "255.255.255.255", FactKind::Role, "dhcp-server", 2),
                fact(Some(7), "10.4.0.8", FactKind::Hostname, "pump-7", 2),
                fact(Some(7), "93.184.216.34", FactKind::Software, "nginx", 2),
            ];
            s.ingest_observations(
                &[Observation {
                    id: "run".into(),
                    site: "north".into(),
                    facts: run,
                    ..Default::default()
                }],
                2,
            )
            .unwrap();
            let got = s
                .conn
                .get_mut()
                .transaction(|c| rebuild_site(c, "north", Mode::Auto))
                .unwrap();
            assert_eq!(got.how, Rebuilt::Partial);
            let keys: Vec<&str> = got.devices.iter().map(|d| d.key.as_str()).collect();
            assert_eq!(keys, ["mac:02:00:00:00:00:07"]);
            assert_eq!(stored_docs(&s, "north"), rebuilt_docs(&s, "north"));
        });
    }

    #[test]
    fn a_partial_rebuild_equals_a_full_rebuild() {
        testing::each_backend("partial_rebuild", |mut s| {
            let mut r = Rng(0x9e37_79b9_7f4a_7c15);
            let mut partial_rounds = 0;
            let mut companion = false;
            for round in 0..8 {
                let o = Observation {
                    id: format!("m{round}"),
                    site: "north".into(),
                    facts: batch(&mut r, round),
                    ..Default::default()
                };
                // Another site's facts never enter north's inventory.
                let other = Observation {
                    id: format!("o{round}"),
                    site: "south".into(),
                    facts: batch(&mut Rng(round + 7), round),
                    ..Default::default()
                };
                s.ingest_observations(&[o, other], round as i64).unwrap();
                let modes: Vec<Rebuilt> = ["north", "south"]
                    .iter()
                    .map(|site| {
                        s.conn
                            .get_mut()
                            .transaction(|c| rebuild_site(c, site, Mode::Partial))
                            .unwrap()
                            .how
                    })
                    .collect();
                if round > 0 {
                    assert!(modes[0] == Rebuilt::Partial, "{modes:?}");
                    partial_rounds += 1;
                }
                assert!(s.dirty_sites().unwrap().is_empty());
                for site in ["north", "south"] {
                    let got = stored_docs(&s, site);
                    let want = rebuilt_docs(&s, site);
                    assert_eq!(got.len(), want.len(), "round {round} {site}");
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!(g, w, "round {round} {site}");
                    }
                }
                companion |= stored_docs(&s, "north").iter().any(|(k, d)| {
                    k == "north/mac:02:00:00:00:00:33" && d.contains("talks only to")
                });
            }
            assert_eq!(partial_rounds, 7);
            assert!(companion, "the camera became the app's device");
            // The router's addresses became devices of their own.
            assert!(stored_docs(&s, "north")
                .iter()
                .any(|(k, _)| k == "north/ip:10.1.0.9"));
        });
    }
}
