//! The CISA Known Exploited Vulnerabilities catalog: one JSON document.

use crate::{Error, Fetcher};

/// Fetches and parses the KEV catalog at `url`; the file and how many entries it holds.
pub fn fetch(f: &mut Fetcher, url: &str) -> Result<(advisory::FeedFile, usize), Error> {
    let bytes = f.get(url, &[])?;
    let file = advisory::parse_feed(url, &bytes)?;
    if !matches!(file.feed, advisory::Feed::Kev(_)) {
        return Err(Error::unexpected(
            url,
            format!(
                "expected the KEV catalog, got a {} document",
                file.feed.kind()
            ),
        ));
    }
    let entries = file.feed.items();
    Ok((file, entries))
}
