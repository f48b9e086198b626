//! The NVD CVE API 2.0, paged with `startIndex`/`resultsPerPage`, optionally
//! only records modified in a window (`lastModStartDate`/`lastModEndDate`,
//! at most [`MAX_WINDOW_SECS`]). Each record is kept as its own document
//! named `BASE?cveId=CVE-…`, so paging and time windows do not change what
//! is stored; a record seen twice while paging keeps its last copy.

use crate::csaf::json;
use crate::{Error, Fetcher};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// The NVD API accepts a last-modified window of at most 120 days.
pub const MAX_WINDOW_SECS: i64 = 120 * 86_400;
/// Most NVD pages fetched in one sync.
const MAX_PAGES: u64 = 10_000;

/// One NVD sync.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The API base URL.
    pub base: &'a str,
    /// Only records last modified between these Unix times.
    pub window: Option<(i64, i64)>,
    /// Records per page (the API allows 1..=2000).
    pub page_size: u32,
    /// Pause between pages (the public API's rate limit).
    pub delay: Duration,
    /// The `apiKey` header.
    pub api_key: Option<String>,
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SS` (UTC).
pub fn iso(unix: i64) -> String {
    let (y, m, d, hh, mm, ss) = model::time::civil(unix);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}")
}

/// The URL of the page starting at record `start`.
pub fn page_url(plan: &Plan, start: u64) -> String {
    let base = plan.base;
    let sep = if base.contains('?') { '&' } else { '?' };
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
    url
}

/// The name one record is stored under.
pub fn record_name(base: &str, cve: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}cveId={cve}")
}

/// Fetches every page of the plan; the records (one file each) and the pages fetched.
pub fn fetch(f: &mut Fetcher, plan: &Plan) -> Result<(Vec<advisory::FeedFile>, u64), Error> {
    let mut out: Vec<advisory::FeedFile> = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut start = 0u64;
    let mut pages = 0u64;
    let headers: Vec<(&str, &str)> = plan
        .api_key
        .as_deref()
        .map(|k| ("apiKey", k))
        .into_iter()
        .collect();
    loop {
        let url = page_url(plan, start);
        if pages > 0 && !plan.delay.is_zero() {
            std::thread::sleep(plan.delay);
        }
        let bytes = f.get(&url, &headers)?;
        pages += 1;
        // The whole page through the feed parser first: errors name the page and the JSON path.
        let page = advisory::parse_feed(&url, &bytes)?;
        if !matches!(page.feed, advisory::Feed::Nvd(_)) {
            return Err(Error::unexpected(
                &url,
                format!(
                    "expected an NVD CVE API 2.0 response, got a {} document",
                    page.feed.kind()
                ),
            ));
        }
        let v = json(&url, &bytes)?;
        let total = v
            .get("totalResults")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::unexpected(&url, "totalResults: missing or not a number"))?;
        let vulns = v
            .get("vulnerabilities")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::unexpected(&url, "vulnerabilities: missing"))?;
        for (i, item) in vulns.iter().enumerate() {
            let cve = item.get("cve").ok_or_else(|| {
                Error::unexpected(&url, format!("vulnerabilities[{i}].cve: missing"))
            })?;
            let id = cve.get("id").and_then(Value::as_str).ok_or_else(|| {
                Error::unexpected(&url, format!("vulnerabilities[{i}].cve.id: missing"))
            })?;
            let record = serde_json::to_vec(cve)
                .map_err(|e| Error::unexpected(&url, format!("vulnerabilities[{i}]: {e}")))?;
            let file = advisory::parse_feed(&record_name(plan.base, id), &record)?;
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
            return Err(Error::unexpected(
                &url,
                format!("more than {MAX_PAGES} pages"),
            ));
        }
    }
    Ok((out, pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_urls_times_and_record_names() {
        assert_eq!(iso(0), "1970-01-01T00:00:00");
        assert_eq!(iso(1_709_251_199), "2024-02-29T23:59:59");
        let mut plan = Plan {
            base: "https://nvd/cves/2.0",
            window: None,
            page_size: 2000,
            delay: Duration::ZERO,
            api_key: None,
        };
        assert_eq!(
            page_url(&plan, 4000),
            "https://nvd/cves/2.0?startIndex=4000&resultsPerPage=2000"
        );
        plan.window = Some((0, 86_400));
        plan.base = "https://nvd/cves?x=1";
        assert_eq!(
            page_url(&plan, 0),
            "https://nvd/cves?x=1&startIndex=0&resultsPerPage=2000&lastModStartDate=1970-01-01T00:00:00.000%2B00:00&lastModEndDate=1970-01-02T00:00:00.000%2B00:00"
        );
        assert_eq!(
            record_name("https://nvd/cves/2.0", "CVE-2024-1"),
            "https://nvd/cves/2.0?cveId=CVE-2024-1"
        );
        assert_eq!(
            record_name("https://nvd/cves?x=1", "CVE-2024-1"),
            "https://nvd/cves?x=1&cveId=CVE-2024-1"
        );
    }
}
