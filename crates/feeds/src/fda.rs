//! FIRST EPSS scores and openFDA device recalls, fetched.
//!
//! - **EPSS**: one file, the daily `epss_scores-current.csv.gz` (gzip
//!   decompressed to at most `advisory::MAX_FILE_BYTES`).
//! - **openFDA**: `device/enforcement.json` (recall class, status) pages of
//!   [`PAGE`] reports reported in the last [`WINDOW_DAYS`] days
//!   (`search=report_date:[FROM+TO+TO]`), `skip` advancing until the total
//!   the first page announces is reached; openFDA refuses a `skip` beyond
//!   [`MAX_SKIP`], so at most that many are fetched (a line says so).

use crate::{Error, Fetcher};

/// Reports per openFDA page (the API's largest).
pub const PAGE: u64 = 1000;
/// openFDA's largest `skip`.
pub const MAX_SKIP: u64 = 25_000;
/// How far back recall reports are fetched.
pub const WINDOW_DAYS: i64 = 730;

/// Fetches and parses the EPSS file at `url`: the file and its score count.
pub fn fetch_epss(f: &mut Fetcher, url: &str) -> Result<(advisory::FeedFile, usize), Error> {
    let raw = f.get(url, &[])?;
    let bytes =
        crate::gunzip_bounded(raw).map_err(|e| Error::unexpected(url, format!("gzip: {e}")))?;
    let file = advisory::parse_feed(url, &bytes)?;
    if !matches!(file.feed, advisory::Feed::Epss(_)) {
        return Err(Error::unexpected(
            url,
            format!("expected the EPSS CSV, got a {} document", file.feed.kind()),
        ));
    }
    let n = file.feed.items();
    Ok((file, n))
}

/// `YYYYMMDD` of a Unix time.
fn day(unix: i64) -> String {
    let (y, m, d, ..) = model::time::civil(unix);
    format!("{y:04}{m:02}{d:02}")
}

/// The `meta.results.total` of an openFDA page (0 when absent).
fn total(bytes: &[u8]) -> u64 {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["meta"]["results"]["total"].as_u64())
        .unwrap_or(0)
}

/// Fetches the device enforcement reports of the last [`WINDOW_DAYS`] days
/// before `now` from the openFDA endpoint `url`: the pages (one feed file
/// each) and how many reports they hold. openFDA answers a search without
/// results with 404: that is no reports, not an error.
pub fn fetch_recalls(
    f: &mut Fetcher,
    url: &str,
    now: i64,
) -> Result<(Vec<advisory::FeedFile>, usize), Error> {
    let window = format!(
        "report_date:[{}+TO+{}]",
        day(now - WINDOW_DAYS * 86_400),
        day(now)
    );
    let mut files = Vec::new();
    let mut reports = 0usize;
    let mut skip = 0u64;
    loop {
        let page_url = format!("{url}?search={window}&limit={PAGE}&skip={skip}");
        let bytes = match f.get(&page_url, &[]) {
            Ok(b) => b,
            Err(Error::Status { status: 404, .. }) if skip == 0 => break,
            Err(e) => return Err(e),
        };
        let all = total(&bytes);
        let file = advisory::parse_feed(&page_url, &bytes)?;
        let advisory::Feed::Recalls(got) = &file.feed else {
            return Err(Error::unexpected(
                &page_url,
                format!(
                    "expected openFDA recalls, got a {} document",
                    file.feed.kind()
                ),
            ));
        };
        let n = got.len() as u64;
        reports += got.len();
        files.push(file);
        skip += n;
        if n == 0 || skip >= all || skip > MAX_SKIP {
            break;
        }
    }
    Ok((files, reports))
}
