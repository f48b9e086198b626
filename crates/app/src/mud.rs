//! `ward mud fetch`'s use case: the MUD files whose URLs devices announced
//! (DHCP option 161, LLDP) fetched through crate `feeds` (https, the SSRF
//! guard, bounded redirects and size, the file's own `mud-url` checked) and
//! stored linked to the announcing devices, so the monitor raises violation
//! alerts against them.
//!
//! Each URL is fetched and stored on its own (one transaction each): a
//! failure is reported, recorded as the URL's last attempt and counted; the
//! other URLs go on; what was stored before is kept.

use crate::{Notify, Result};
use feeds::{mud, Fetcher};
use std::collections::BTreeMap;

/// Most URLs fetched in one run (a flood of DHCP announcements must not turn into a flood of requests).
pub const MAX_URLS: usize = 1000;

/// How [`fetch_announced`] treats stored files.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchOptions {
    /// Fetch every announced URL, also fresh ones and files imported by hand.
    pub force: bool,
    /// Refetch files older than this many seconds (default: each file's cache-validity).
    pub refresh: Option<i64>,
    /// Accept `http://` MUD URLs.
    pub allow_http: bool,
}

/// What happened to one announced URL.
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// Its file was imported by hand (`ward mud import`): not fetched.
    ByHand,
    /// Fetched recently enough.
    Fresh {
        /// Seconds since it was fetched.
        age_secs: i64,
    },
    /// Fetched and stored.
    Fetched {
        /// Size of the document.
        bytes: usize,
        /// Its access-control entries.
        aces: usize,
        /// The model it names.
        model: Option<String>,
        /// The signature's status.
        signature: String,
        /// The devices that announced it, with where (`KEY (SOURCE), ...`).
        devices: String,
    },
    /// Fetching or storing failed (one line, recorded as the last attempt).
    Failed(String),
}

/// The counts of one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchTotals {
    /// Distinct URLs announced.
    pub announced: usize,
    /// Fetched and stored.
    pub fetched: usize,
    /// Up to date, not fetched.
    pub fresh: usize,
    /// Imported by hand, not fetched.
    pub by_hand: usize,
    /// Failed (or left for the next run beyond [`MAX_URLS`]).
    pub failed: usize,
}

/// Every announced MUD URL with the devices that announced it (and where).
fn announced(store: &store::Store) -> Result<BTreeMap<String, Vec<store::MudLink>>> {
    let mut announced: BTreeMap<String, Vec<store::MudLink>> = BTreeMap::new();
    for d in store.devices_with_facts()? {
        for fact in d
            .facts
            .iter()
            .filter(|f| f.kind == identify::FactKind::MudUrl)
        {
            let links = announced.entry(fact.value.clone()).or_default();
            if !links.iter().any(|l| l.device == d.key) {
                links.push(store::MudLink {
                    device: d.key.clone(),
                    url: fact.value.clone(),
                    source: fact.source.clone(),
                });
            }
        }
    }
    Ok(announced)
}

/// Fetches the MUD files devices announced with `f` and stores them at
/// time `now` (Unix seconds); `on` hears each URL's outcome in URL order.
pub fn fetch_announced(
    store: &mut store::Store,
    f: &mut Fetcher,
    opts: &FetchOptions,
    now: i64,
    on: &mut dyn FnMut(&str, &FetchOutcome),
    notify: &dyn Notify,
) -> Result<FetchTotals> {
    let announced = announced(store)?;
    let mut t = FetchTotals {
        announced: announced.len(),
        ..FetchTotals::default()
    };
    if announced.is_empty() {
        return Ok(t);
    }
    let files: BTreeMap<String, Option<u8>> = store
        .mud_files()?
        .into_iter()
        .map(|(url, _, doc)| {
            let validity = policy::mud::MudPolicy::parse(doc.as_bytes()).ok();
            (url, validity.map(|m| m.cache_validity))
        })
        .collect();
    let fetches: BTreeMap<String, store::MudFetch> = store
        .mud_fetches()?
        .into_iter()
        .map(|r| (r.url.clone(), r))
        .collect();
    for (n, (url, links)) in announced.iter().enumerate() {
        if n >= MAX_URLS {
            notify.line(&format!("ward: mud fetch: more than {MAX_URLS} announced URLs; the rest are left for the next run"));
            t.failed += t.announced - n;
            break;
        }
        if !opts.force {
            let last_ok = fetches.get(url).and_then(|r| r.fetched);
            let outcome = match (files.get(url), last_ok) {
                (Some(_), None) => Some(FetchOutcome::ByHand),
                (Some(cv), Some(at)) if now - at < mud::refresh_secs(opts.refresh, *cv) => {
                    Some(FetchOutcome::Fresh { age_secs: now - at })
                }
                _ => None,
            };
            match &outcome {
                Some(FetchOutcome::ByHand) => t.by_hand += 1,
                Some(_) => t.fresh += 1,
                None => {}
            }
            if let Some(o) = outcome {
                on(url, &o);
                continue;
            }
        }
        let outcome = match mud::fetch(f, url, opts.allow_http) {
            Ok(got) => {
                let m = &got.policy;
                let rec = store::FetchedMud {
                    url,
                    model: m.model.as_deref(),
                    doc: &got.doc,
                    sha256: &got.sha256,
                    signature: &got.signature,
                    devices: links,
                };
                store.store_fetched_mud(&rec, now)?;
                t.fetched += 1;
                let devices = links
                    .iter()
                    .map(|l| format!("{} ({})", l.device, l.source))
                    .collect::<Vec<_>>()
                    .join(", ");
                FetchOutcome::Fetched {
                    bytes: got.doc.len(),
                    aces: m.aces.len(),
                    model: m.model.clone(),
                    signature: got.signature.clone(),
                    devices,
                }
            }
            Err(e) => {
                let msg = feeds::fetch::one_line(&format!("{e:#}"));
                store.record_mud_fetch_failure(url, &msg, now)?;
                t.failed += 1;
                FetchOutcome::Failed(msg)
            }
        };
        on(url, &outcome);
    }
    Ok(t)
}
