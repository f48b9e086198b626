//! `ward mud fetch`: downloads the MUD files whose URLs devices announced
//! (DHCP option 161, LLDP), validates them like `ward mud import` and stores
//! them linked to the announcing devices, so `ward monitor` raises
//! violation alerts against them.
//!
//! An explicit operator action: it contacts the manufacturer's MUD server
//! named in the URL, never the device. The URL is attacker-controlled (any
//! host on the segment can send DHCP or LLDP), so before and during the
//! request:
//! - the URL must be `https://` (RFC 8520 §6; `--allow-http` for labs),
//!   without user info, with a host, at most 2048 bytes, no controls;
//! - every address the host resolves to (also after redirects) must be
//!   public: loopback, link-local (cloud metadata), private, multicast and
//!   unspecified addresses are refused (`--allow-private` for an on-site
//!   mirror, `--allow-loopback` for tests; link-local never); no proxy is used;
//! - redirects are bounded (3), the response is capped at 1 MiB
//!   (`policy::mud::MAX_MUD_BYTES`), must be `application/mud+json` or
//!   `application/json`, and the request times out (`--timeout-secs`);
//! - the document must parse and validate as a MUD file, and its `mud-url`
//!   must be the URL fetched (a server cannot overwrite another vendor's file).
//!
//! **Signatures (RFC 8520 §13).** When the file names a `mud-signature`,
//! the signature is fetched under the same rules and its presence is
//! recorded; Ward does **not** verify CMS signatures (no maintained pure-Rust
//! CMS verifier with manufacturer trust anchors is part of the build), and the
//! stored status says so: `present (N bytes), not verified`.
//!
//! **Failures.** Each URL is fetched and stored on its own (one transaction
//! each): an error is printed (one line naming the URL), recorded as the
//! URL's last attempt and counted; the other URLs go on; what was stored
//! before (document, links, last success) is kept. The command exits 2 when
//! any URL failed.

use crate::fetch::{AddressPolicy, Fetcher, Options};
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Most URLs fetched in one run (a flood of DHCP announcements must not turn into a flood of requests).
const MAX_URLS: usize = 1000;
/// Longest MUD URL accepted.
const MAX_URL_LEN: usize = 2048;

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

/// Checks an announced URL before any request: scheme, host, no user info, no controls.
pub fn check_url(url: &str, allow_http: bool) -> Result<()> {
    if url.len() > MAX_URL_LEN {
        bail!("URL longer than {MAX_URL_LEN} bytes");
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        bail!("URL contains spaces or control characters");
    }
    let scheme = url
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .filter(|s| {
            s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        });
    match scheme.as_deref() {
        Some("https") => {}
        Some("http") if allow_http => {}
        Some("http") => bail!("http:// refused: RFC 8520 requires https (--allow-http for labs)"),
        Some(s) => bail!(
            "scheme {:?} refused: only https",
            model::text::bounded(s.as_bytes(), 16)
        ),
        None => bail!("not an absolute URL"),
    }
    let uri: ureq::http::Uri = url.parse().map_err(|_| anyhow!("not a valid URL"))?;
    let auth = uri.authority().ok_or_else(|| anyhow!("no host"))?;
    if auth.as_str().contains('@') {
        bail!("user info in the URL refused");
    }
    if auth.host().is_empty() {
        bail!("no host");
    }
    Ok(())
}

/// When a stored file is due again (seconds).
fn refresh_secs(args_refresh: Option<i64>, cache_validity_hours: Option<u8>) -> i64 {
    args_refresh.unwrap_or(i64::from(cache_validity_hours.unwrap_or(48)) * 3600)
}

/// Signature status of a fetched file (RFC 8520 §13).
fn signature_status(f: &mut Fetcher, m: &policy::mud::MudPolicy, allow_http: bool) -> String {
    let Some(sig) = &m.signature else {
        return "absent (the file names no mud-signature)".into();
    };
    if let Err(e) = check_url(sig, allow_http) {
        return format!("unavailable: {sig}: {e}");
    }
    match f.fetch(sig, "application/pkcs7-signature, */*;q=0.1", &[]) {
        Ok(got) if got.bytes.is_empty() => format!("unavailable: {sig}: empty response"),
        Ok(got) => format!(
            "present ({} bytes from {sig}), not verified: Ward does not verify CMS signatures",
            got.bytes.len()
        ),
        Err(e) => format!("unavailable: {e}"),
    }
}

/// One URL: fetch, check, parse. Returns (policy, document, sha256, signature status).
fn fetch_one(
    f: &mut Fetcher,
    url: &str,
    allow_http: bool,
) -> Result<(policy::mud::MudPolicy, String, String, String)> {
    check_url(url, allow_http).map_err(|e| anyhow!("{url}: {e}"))?;
    let got = f.fetch(url, "application/mud+json, application/json;q=0.9", &[])?;
    match got.content_type.as_deref() {
        Some("application/mud+json" | "application/json") => {}
        Some(t) => bail!(
            "{url}: content type {:?} is not application/mud+json",
            model::text::bounded(t.as_bytes(), 64)
        ),
        None => bail!("{url}: no content type (application/mud+json expected)"),
    }
    let (m, doc) = app::policy::read_mud(url, &got.bytes)?;
    if m.url != url {
        bail!("{url}: the file's mud-url is {:?}, not the URL fetched (refused: it would replace another file)", m.url);
    }
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(doc.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let sig = signature_status(f, &m, allow_http);
    Ok((m, doc, sha, sig))
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
    let opts = Options {
        timeout: Duration::from_secs(args.timeout_secs.clamp(1, 600)),
        max_document: policy::mud::MAX_MUD_BYTES as u64,
        max_total: u64::MAX,
        max_redirects: 3,
        https_only: !args.allow_http,
        ca_file: args.ca_file.clone(),
        addresses: AddressPolicy {
            guard: true,
            allow_private: args.allow_private,
            allow_loopback: args.allow_loopback,
        },
        proxy_from_env: false,
    };
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
                (Some(cv), Some(t)) if now - t < refresh_secs(refresh, *cv) => {
                    println!("{url}: up to date (fetched {}s ago)", now - t);
                    fresh += 1;
                    continue;
                }
                _ => {}
            }
        }
        match fetch_one(&mut f, url, args.allow_http) {
            Ok((m, doc, sha, sig)) => {
                let rec = store::FetchedMud {
                    url,
                    model: m.model.as_deref(),
                    doc: &doc,
                    sha256: &sha,
                    signature: &sig,
                    devices: links,
                };
                store.store_fetched_mud(&rec, now)?;
                println!("{url}: fetched {} bytes, {} ACEs, model {}; signature {sig}; applies to {devices}", doc.len(), m.aces.len(), m.model.as_deref().unwrap_or("-"));
                fetched += 1;
            }
            Err(e) => {
                let msg = crate::fetch::one_line(&format!("{e:#}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_urls_are_checked_before_any_request() {
        assert!(check_url("https://mud.example.com/.well-known/mud/v1/pump", false).is_ok());
        assert!(check_url("https://[2001:db8::1]:8443/mud.json", false).is_ok());
        for (url, want) in [
            ("http://mud.example.com/x", "RFC 8520 requires https"),
            ("file:///etc/passwd", "only https"),
            ("gopher://h/x", "only https"),
            ("ftp://h/x", "only https"),
            ("https://user:pw@mud.example.com/x", "user info"),
            ("https://mud.example.com/a b", "spaces or control"),
            ("https://mud.example.com/\u{1b}[2J", "spaces or control"),
            ("/relative/path", "not an absolute URL"),
            ("", "not an absolute URL"),
            ("https://", "not a valid URL"),
        ] {
            let e = check_url(url, false).unwrap_err().to_string();
            assert!(e.contains(want), "{url:?}: {e}");
        }
        assert!(check_url("http://mud.example.com/x", true).is_ok());
        assert!(check_url(&format!("https://h/{}", "a".repeat(MAX_URL_LEN)), false).is_err());
        assert_eq!(refresh_secs(None, None), 48 * 3600);
        assert_eq!(refresh_secs(None, Some(2)), 7200);
        assert_eq!(refresh_secs(Some(60), Some(2)), 60);
    }
}
