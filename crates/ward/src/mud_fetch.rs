//! `ward mud fetch`: downloads the MUD files whose URLs devices announced
//! (DHCP option 161, LLDP), validates them like `ward mud import` and stores
//! them linked to the announcing devices, so `ward monitor` raises
//! violation alerts against them.
//!
//! An explicit operator action: it contacts the manufacturer's MUD server
//! named in the URL, never the device. The URL is attacker-controlled, so
//! the checks before and during the request (https only, the SSRF address
//! guard, bounded redirects and size, content type, the file's own
//! `mud-url`) are crate `feeds`' (`feeds::mud`); signatures are looked up
//! but not verified, and the stored status says so.
//!
//! **Failures.** Each URL is fetched and stored on its own (one transaction
//! each): an error is printed (one line naming the URL), recorded as the
//! URL's last attempt and counted; the other URLs go on; what was stored
//! before (document, links, last success) is kept. The command exits 2 when
//! any URL failed.

use ::feeds::mud;
use ::feeds::Fetcher;
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most URLs fetched in one run (a flood of DHCP announcements must not turn into a flood of requests).
const MAX_URLS: usize = 1000;

/// Arguments of `ward mud fetch`.
#[derive(clap::Args)]
pub struct FetchArgs {
    /// Database file (or postgres:// URL).
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Refetch files older than this (e.g. `48h`, `7d`); default: each file's cache-validity (RFC 8520, default 48 hours).
    #[arg(long, value_name = "DURATION")]
    refresh: Option<String>,
    /// Fetch every announced URL, also fresh ones and URLs whose file was imported by hand.
    #[arg(long)]
    force: bool,
    /// Trust these CA certificates (PEM) instead of the public roots (an on-site MUD mirror, tests).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Accept http:// MUD URLs (labs only; RFC 8520 requires https).
    #[arg(long)]
    allow_http: bool,
    /// Allow MUD servers on private addresses (RFC 1918, CGNAT, IPv6 ULA).
    #[arg(long)]
    allow_private: bool,
    /// Allow MUD servers on loopback addresses (tests and labs; link-local addresses are always refused).
    #[arg(long)]
    allow_loopback: bool,
    /// Timeout of one request (connecting and reading the whole response), seconds.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
}

/// Runs `ward mud fetch`.
pub fn fetch(args: FetchArgs) -> Result<()> {
    if !crate::location::exists(&args.db) {
        bail!("no database at {} (run `ward analyze CAPTURE` first: it records the MUD URLs devices announce)", args.db.display());
    }
    let refresh = args
        .refresh
        .as_deref()
        .map(app::monitor::parse_duration)
        .transpose()?;
    let opts = mud::options(
        Duration::from_secs(args.timeout_secs),
        args.allow_http,
        args.allow_private,
        args.allow_loopback,
        args.ca_file.clone(),
    );
    let mut f = Fetcher::with_options(&opts)?;
    let mut store = crate::location::open(&args.db)?;
    // Who announced what: every MUD URL fact of every device.
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
    if announced.is_empty() {
        println!("no device announced a MUD URL (DHCP option 161, LLDP); nothing to fetch");
        return Ok(());
    }
    let files: BTreeMap<String, Option<u8>> = store
        .mud_files()?
        .into_iter()
        .map(|(url, _, doc)| {
            (
                url,
                policy::mud::MudPolicy::parse(doc.as_bytes())
                    .ok()
                    .map(|m| m.cache_validity),
            )
        })
        .collect();
    let fetches: BTreeMap<String, store::MudFetch> = store
        .mud_fetches()?
        .into_iter()
        .map(|r| (r.url.clone(), r))
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (mut fetched, mut fresh, mut by_hand, mut failed) = (0usize, 0usize, 0usize, 0usize);
    let total = announced.len();
    for (n, (url, links)) in announced.iter().enumerate() {
        let devices = links
            .iter()
            .map(|l| format!("{} ({})", l.device, l.source))
            .collect::<Vec<_>>()
            .join(", ");
        if n >= MAX_URLS {
            eprintln!("ward: mud fetch: more than {MAX_URLS} announced URLs; the rest are left for the next run");
            failed += total - n;
            break;
        }
        if !args.force {
            let last_ok = fetches.get(url).and_then(|r| r.fetched);
            match (files.get(url), last_ok) {
                (Some(_), None) => {
                    println!("{url}: imported from a file (ward mud import), not fetched (--force to fetch)");
                    by_hand += 1;
                    continue;
                }
                (Some(cv), Some(t)) if now - t < mud::refresh_secs(refresh, *cv) => {
                    println!("{url}: up to date (fetched {}s ago)", now - t);
                    fresh += 1;
                    continue;
                }
                _ => {}
            }
        }
        match mud::fetch(&mut f, url, args.allow_http) {
            Ok(got) => {
                let (m, doc, sig) = (&got.policy, &got.doc, &got.signature);
                let rec = store::FetchedMud {
                    url,
                    model: m.model.as_deref(),
                    doc,
                    sha256: &got.sha256,
                    signature: sig,
                    devices: links,
                };
                store.store_fetched_mud(&rec, now)?;
                println!("{url}: fetched {} bytes, {} ACEs, model {}; signature {sig}; applies to {devices}", doc.len(), m.aces.len(), m.model.as_deref().unwrap_or("-"));
                fetched += 1;
            }
            Err(e) => {
                let msg = ::feeds::fetch::one_line(&format!("{e:#}"));
                eprintln!("ward: mud fetch: {msg}");
                store.record_mud_fetch_failure(url, &msg, now)?;
                failed += 1;
            }
        }
    }
    println!("{total} MUD URLs announced: {fetched} fetched, {fresh} up to date, {by_hand} imported by hand, {failed} failed");
    if failed > 0 {
        bail!("{failed} of {total} MUD URLs could not be fetched (errors above); the others are stored");
    }
    Ok(())
}
