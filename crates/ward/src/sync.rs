//! `ward feeds sync`: fetches the CISA KEV catalog, CISA's CSAF medical
//! advisories (ICSMA) and NVD CVE API 2.0 records over HTTP(S) and stores them
//! through the same parser and store call as `ward feeds import`.
//!
//! **Atomic.** Every document of every source is fetched and parsed before
//! anything is stored; then one transaction stores all of them together with
//! each source's sync time. A failure anywhere (network, HTTP status, size
//! limit, malformed JSON) stops the command with one line naming the URL and
//! the problem, and the database is as it was.
//!
//! **Hostile responses.** Through `fetch::Fetcher`: one request has a timeout, redirects are limited,
//! each document is capped (`--max-document-mib`, default 64) and so is the
//! whole sync (`--max-total-mib`, default 256). Nothing here panics on what a
//! server sends.
//!
//! **Sources** (base URLs overridable with `--source NAME=URL` or
//! `WARD_FEED_KEV_URL` / `WARD_FEED_CSAF_URL` / `WARD_FEED_NVD_URL`; `off`
//! skips a source):
//! - `kev`: the KEV catalog JSON.
//! - `csaf`: a CSAF provider's `provider-metadata.json`; every ROLIE feed and
//!   `directory_url` (`index.txt`) it lists is read, and the advisories whose
//!   file name or id starts with `icsma-` are fetched.
//! - `nvd`: the CVE API 2.0, paged with `startIndex`/`resultsPerPage`. After a
//!   successful sync, the next one asks only for records modified since then
//!   (`lastModStartDate`/`lastModEndDate`, at most 120 days, else a full sync).
//!   Each record is stored as its own document named `BASE?cveId=CVE-…`, so
//!   paging and time windows do not change what is stored.

use anyhow::{anyhow, bail, Result};
use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::fetch::Fetcher;

/// The CISA KEV catalog.
pub const DEFAULT_KEV: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// CISA's CSAF provider metadata.
pub const DEFAULT_CSAF: &str = "https://www.cisa.gov/.well-known/csaf/provider-metadata.json";
/// The NVD CVE API 2.0.
pub const DEFAULT_NVD: &str = "https://services.nvd.nist.gov/rest/json/cves/2.0";

/// The NVD API accepts a last-modified window of at most 120 days.
const NVD_MAX_WINDOW_SECS: i64 = 120 * 86_400;
/// Most CSAF advisories fetched in one sync.
const MAX_ADVISORIES: usize = 100_000;
/// Most NVD pages fetched in one sync.
const MAX_PAGES: u64 = 10_000;

/// Arguments of `ward feeds sync`.
#[derive(clap::Args)]
pub struct SyncArgs {
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Override a source's URL: kev=URL (KEV JSON), csaf=URL (provider-metadata.json), nvd=URL (CVE API 2.0 base);
    /// URL `off` skips that source. Defaults: the public CISA and NVD URLs, or WARD_FEED_KEV_URL / WARD_FEED_CSAF_URL /
    /// WARD_FEED_NVD_URL.
    #[arg(long = "source", value_name = "NAME=URL")]
    sources: Vec<String>,
    /// Ignore the last NVD sync time and fetch every NVD record (large: the whole NVD).
    #[arg(long)]
    nvd_full: bool,
    /// NVD records per API page (1..=2000).
    #[arg(long, default_value_t = 2000)]
    nvd_page_size: u32,
    /// Pause between NVD pages in milliseconds (default: 6000 for the public NVD, 600 with NVD_API_KEY, 0 elsewhere).
    #[arg(long)]
    nvd_delay_ms: Option<u64>,
    /// Largest document accepted, MiB.
    #[arg(long, default_value_t = 64)]
    max_document_mib: u64,
    /// Most downloaded in one sync, MiB.
    #[arg(long, default_value_t = 256)]
    max_total_mib: u64,
    /// Timeout of one request (connecting and reading the whole response), seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

fn json(url: &str, bytes: &[u8]) -> Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| anyhow!("{url}: invalid JSON: {e}"))
}

/// Resolves `rel` against `base` (absolute, host-absolute or relative).
fn join(base: &str, rel: &str) -> Result<String> {
    let rel = rel.trim();
    if rel.starts_with("https://") || rel.starts_with("http://") {
        return Ok(rel.to_string());
    }
    if rel.is_empty() || rel.contains("://") || rel.len() > 4096 {
        bail!(
            "{base}: unsupported link {:?}",
            rel.chars().take(200).collect::<String>()
        );
    }
    let scheme_end = base
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| anyhow!("{base}: not an absolute URL"))?;
    let host_end = base[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(base.len(), |i| i + scheme_end);
    if let Some(r) = rel.strip_prefix("//") {
        return Ok(format!("{}{r}", &base[..scheme_end]));
    }
    if rel.starts_with('/') {
        return Ok(format!("{}{rel}", &base[..host_end]));
    }
    let path = base.split(['?', '#']).next().unwrap_or(base);
    let dir = match path.rfind('/') {
        Some(i) if i >= host_end => &path[..=i],
        _ => {
            return Ok(format!(
                "{}/{}",
                &base[..host_end],
                rel.trim_start_matches("./")
            ))
        }
    };
    Ok(format!("{dir}{}", rel.trim_start_matches("./")))
}

fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}

fn is_icsma(s: &str) -> bool {
    s.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("icsma-"))
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SS` (UTC).
fn iso(unix: i64) -> String {
    let (y, m, d, hh, mm, ss) = model::time::civil(unix);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}")
}

fn kev(f: &mut Fetcher, url: &str) -> Result<Vec<advisory::FeedFile>> {
    let bytes = f.get(url, &[])?;
    let file = advisory::parse_feed(url, &bytes)?;
    if !matches!(file.feed, advisory::Feed::Kev(_)) {
        bail!(
            "{url}: expected the KEV catalog, got a {} document",
            file.feed.kind()
        );
    }
    println!(
        "kev: fetched the catalog ({} entries, {} bytes) from {url}",
        file.feed.items(),
        file.bytes
    );
    Ok(vec![file])
}

/// The ICSMA advisory URLs a CSAF provider lists.
fn csaf_listing(f: &mut Fetcher, url: &str) -> Result<(Vec<String>, usize)> {
    let meta = json(url, &f.get(url, &[])?)?;
    let dists = meta
        .get("distributions")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("{url}: not CSAF provider metadata (no \"distributions\" list)"))?;
    let mut docs = Vec::new();
    let mut seen = HashSet::new();
    let mut listed = 0usize;
    let mut sources = 0;
    let mut add = |doc: String, id: &str, docs: &mut Vec<String>| -> Result<()> {
        if !(is_icsma(file_name(&doc)) || is_icsma(id))
            || !file_name(&doc).to_ascii_lowercase().ends_with(".json")
        {
            return Ok(());
        }
        if seen.insert(file_name(&doc).to_ascii_lowercase()) {
            if docs.len() >= MAX_ADVISORIES {
                bail!("{url}: more than {MAX_ADVISORIES} advisories listed");
            }
            docs.push(doc);
        }
        Ok(())
    };
    for d in dists.iter().take(64) {
        for feed in d
            .pointer("/rolie/feeds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(64)
        {
            let Some(feed_url) = feed.get("url").and_then(Value::as_str) else {
                continue;
            };
            let feed_url = join(url, feed_url)?;
            sources += 1;
            let v = json(&feed_url, &f.get(&feed_url, &[])?)?;
            let entries = v
                .pointer("/feed/entry")
                .and_then(Value::as_array)
                .ok_or_else(|| anyhow!("{feed_url}: not a ROLIE feed (no \"feed.entry\" list)"))?;
            for e in entries {
                let id = e.get("id").and_then(Value::as_str).unwrap_or("");
                let self_link = || {
                    e.get("link")?
                        .as_array()?
                        .iter()
                        .find(|l| l.get("rel").and_then(Value::as_str) == Some("self"))?
                        .get("href")?
                        .as_str()
                };
                let Some(href) = e
                    .pointer("/content/src")
                    .and_then(Value::as_str)
                    .or_else(self_link)
                else {
                    continue;
                };
                listed += 1;
                add(join(&feed_url, href)?, id, &mut docs)?;
            }
        }
        if let Some(dir) = d.get("directory_url").and_then(Value::as_str) {
            let mut dir = join(url, dir)?;
            if !dir.ends_with('/') {
                dir.push('/');
            }
            let index = format!("{dir}index.txt");
            sources += 1;
            let bytes = f.get(&index, &[])?;
            let text =
                std::str::from_utf8(&bytes).map_err(|_| anyhow!("{index}: not UTF-8 text"))?;
            for line in text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                listed += 1;
                add(join(&dir, line)?, "", &mut docs)?;
            }
        }
    }
    if sources == 0 {
        bail!("{url}: the provider lists no ROLIE feed and no directory_url");
    }
    Ok((docs, listed))
}

fn csaf(f: &mut Fetcher, url: &str) -> Result<Vec<advisory::FeedFile>> {
    let (docs, listed) = csaf_listing(f, url)?;
    let mut out = Vec::with_capacity(docs.len());
    for d in &docs {
        let file = advisory::parse_feed(d, &f.get(d, &[])?)?;
        if !matches!(file.feed, advisory::Feed::Csaf(_)) {
            bail!(
                "{d}: expected a CSAF advisory, got a {} document",
                file.feed.kind()
            );
        }
        out.push(file);
    }
    println!(
        "csaf: fetched {} ICSMA advisories ({listed} documents listed) from {url}",
        out.len()
    );
    Ok(out)
}

struct NvdPlan<'a> {
    base: &'a str,
    window: Option<(i64, i64)>,
    page_size: u32,
    delay: Duration,
    api_key: Option<String>,
}

fn nvd(f: &mut Fetcher, plan: &NvdPlan) -> Result<Vec<advisory::FeedFile>> {
    let base = plan.base;
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out: Vec<advisory::FeedFile> = Vec::new();
    let mut ids: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut start = 0u64;
    let mut pages = 0u64;
    loop {
        let mut url = format!(
            "{base}{sep}startIndex={start}&resultsPerPage={}",
            plan.page_size
        );
        if let Some((from, to)) = plan.window {
            url.push_str(&format!(
                "&lastModStartDate={}.000%2B00:00&lastModEndDate={}.000%2B00:00",
                iso(from),
                iso(to)
            ));
        }
        if pages > 0 && !plan.delay.is_zero() {
            std::thread::sleep(plan.delay);
        }
        let headers: Vec<(&str, &str)> = plan
            .api_key
            .as_deref()
            .map(|k| ("apiKey", k))
            .into_iter()
            .collect();
        let bytes = f.get(&url, &headers)?;
        pages += 1;
        // The whole page through the feed parser first: errors name the page and the JSON path.
        let page = advisory::parse_feed(&url, &bytes)?;
        if !matches!(page.feed, advisory::Feed::Nvd(_)) {
            bail!(
                "{url}: expected an NVD CVE API 2.0 response, got a {} document",
                page.feed.kind()
            );
        }
        let v = json(&url, &bytes)?;
        let total = v
            .get("totalResults")
            .and_then(Value::as_u64)
            .ok_or_else(|| anyhow!("{url}: totalResults: missing or not a number"))?;
        let vulns = v
            .get("vulnerabilities")
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow!("{url}: vulnerabilities: missing"))?;
        for (i, item) in vulns.iter().enumerate() {
            let cve = item
                .get("cve")
                .ok_or_else(|| anyhow!("{url}: vulnerabilities[{i}].cve: missing"))?;
            let id = cve
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("{url}: vulnerabilities[{i}].cve.id: missing"))?;
            let name = format!("{base}{sep}cveId={id}");
            let record =
                serde_json::to_vec(cve).map_err(|e| anyhow!("{url}: vulnerabilities[{i}]: {e}"))?;
            let file = advisory::parse_feed(&name, &record)?;
            // A record modified while paging can appear twice: keep the last.
            match ids.get(id) {
                Some(&k) => out[k] = file,
                None => {
                    ids.insert(id.to_string(), out.len());
                    out.push(file);
                }
            }
        }
        start += vulns.len() as u64;
        if vulns.is_empty() || start >= total {
            break;
        }
        if pages >= MAX_PAGES {
            bail!("{url}: more than {MAX_PAGES} pages");
        }
    }
    let how = match plan.window {
        Some((from, _)) => format!("modified since {}Z", iso(from)),
        None => "full".to_string(),
    };
    println!(
        "nvd: fetched {} CVE records in {pages} pages ({how}) from {base}",
        out.len()
    );
    Ok(out)
}

fn source_urls(args: &SyncArgs) -> Result<[(&'static str, Option<String>); 3]> {
    let mut urls = [
        ("kev", DEFAULT_KEV),
        ("csaf", DEFAULT_CSAF),
        ("nvd", DEFAULT_NVD),
    ]
    .map(|(name, default)| {
        let env = std::env::var(format!("WARD_FEED_{}_URL", name.to_ascii_uppercase()))
            .ok()
            .filter(|v| !v.trim().is_empty());
        (name, Some(env.unwrap_or_else(|| default.to_string())))
    });
    for s in &args.sources {
        let (name, url) = s
            .split_once('=')
            .ok_or_else(|| anyhow!("--source {s}: expected NAME=URL"))?;
        let slot = urls
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| anyhow!("--source {s}: unknown source {name:?} (kev, csaf or nvd)"))?;
        slot.1 = Some(url.trim().to_string());
    }
    for (_, url) in urls.iter_mut() {
        if url
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case("off"))
        {
            *url = None;
        } else if let Some(u) = url.as_deref() {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                bail!("{u}: only http and https URLs are supported");
            }
        }
    }
    Ok(urls)
}

/// Runs `ward feeds sync`.
pub fn sync(args: SyncArgs) -> Result<()> {
    let urls = source_urls(&args)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Open (and migrate) the database first: a bad --db fails before any download.
    let last_nvd = crate::location::open(&args.db)?.sync_state("nvd")?;
    let mut f = Fetcher::new(
        Duration::from_secs(args.timeout_secs.max(1)),
        args.max_document_mib.max(1) << 20,
        args.max_total_mib.max(1) << 20,
    );
    let mut parsed = Vec::new();
    let mut states = Vec::new();
    for (name, url) in &urls {
        let Some(url) = url.as_deref() else {
            println!("{name}: skipped");
            continue;
        };
        let files = match *name {
            "kev" => kev(&mut f, url)?,
            "csaf" => csaf(&mut f, url)?,
            _ => {
                let api_key = std::env::var("NVD_API_KEY")
                    .ok()
                    .filter(|k| !k.trim().is_empty());
                let public = url == DEFAULT_NVD;
                let delay = args.nvd_delay_ms.unwrap_or(match (public, &api_key) {
                    (false, _) => 0,
                    (true, Some(_)) => 600,
                    (true, None) => 6000,
                });
                let window = match &last_nvd {
                    Some(s)
                        if !args.nvd_full
                            && s.url == url
                            && now - s.synced_unix <= NVD_MAX_WINDOW_SECS
                            && s.synced_unix <= now =>
                    {
                        Some((s.synced_unix, now))
                    }
                    _ => None,
                };
                let plan = NvdPlan {
                    base: url,
                    window,
                    page_size: args.nvd_page_size.clamp(1, 2000),
                    delay: Duration::from_millis(delay),
                    api_key,
                };
                nvd(&mut f, &plan)?
            }
        };
        states.push(store::SyncState {
            source: name.to_string(),
            url: url.to_string(),
            synced_at: format!("{}Z", iso(now)),
            synced_unix: now,
            documents: files.len() as u64,
        });
        parsed.extend(files);
    }
    println!(
        "downloaded {:.1} MiB in {} requests",
        f.downloaded as f64 / (1u64 << 20) as f64,
        f.requests
    );
    crate::feeds::store_and_report(&args.db, &parsed, &states)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_times() {
        assert_eq!(
            join("https://a.b/x/y.json", "z.json").unwrap(),
            "https://a.b/x/z.json"
        );
        assert_eq!(
            join("https://a.b/x/y.json", "/z.json").unwrap(),
            "https://a.b/z.json"
        );
        assert_eq!(
            join("https://a.b", "2024/z.json").unwrap(),
            "https://a.b/2024/z.json"
        );
        assert_eq!(
            join("https://a.b/x/", "https://c.d/e").unwrap(),
            "https://c.d/e"
        );
        assert!(join("https://a.b/x/", "file:///etc/passwd").is_err());
        assert!(is_icsma(file_name(
            "https://a.b/2024/ICSMA-24-163-01.json?x"
        )));
        assert!(!is_icsma(file_name("https://a.b/2024/icsa-24-163-01.json")));
        assert_eq!(iso(0), "1970-01-01T00:00:00");
        assert_eq!(iso(1_709_251_199), "2024-02-29T23:59:59");
    }
}
