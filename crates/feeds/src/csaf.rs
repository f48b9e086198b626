//! CSAF 2.0 advisories from a provider (CSAF §7): its
//! `provider-metadata.json` lists distributions, each with ROLIE feeds
//! (`feed.entry[].content.src` or the `self` link) and/or a `directory_url`
//! whose `index.txt` names the documents. The advisories whose file name or
//! id starts with `ICSMA-` (CISA's medical advisories) are fetched.

use crate::link::{file_name, is_icsma, join};
use crate::{Error, Fetcher};
use serde_json::Value;
use std::collections::HashSet;

/// Most CSAF advisories fetched in one sync.
const MAX_ADVISORIES: usize = 100_000;
/// Most distributions, and ROLIE feeds per distribution, read.
const MAX_LISTINGS: usize = 64;

pub(crate) fn json(url: &str, bytes: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(bytes).map_err(|err| Error::Json {
        url: url.to_string(),
        err,
    })
}

/// The ICSMA advisory URLs a CSAF provider lists (first occurrence of each
/// file name), and how many documents the listings named in all.
pub fn listing(f: &mut Fetcher, url: &str) -> Result<(Vec<String>, usize), Error> {
    let meta = json(url, &f.get(url, &[])?)?;
    let dists = meta
        .get("distributions")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::unexpected(
                url,
                "not CSAF provider metadata (no \"distributions\" list)",
            )
        })?;
    let mut docs = Vec::new();
    let mut seen = HashSet::new();
    let mut listed = 0usize;
    let mut sources = 0;
    let mut add = |doc: String, id: &str, docs: &mut Vec<String>| -> Result<(), Error> {
        if !(is_icsma(file_name(&doc)) || is_icsma(id))
            || !file_name(&doc).to_ascii_lowercase().ends_with(".json")
        {
            return Ok(());
        }
        if seen.insert(file_name(&doc).to_ascii_lowercase()) {
            if docs.len() >= MAX_ADVISORIES {
                return Err(Error::unexpected(
                    url,
                    format!("more than {MAX_ADVISORIES} advisories listed"),
                ));
            }
            docs.push(doc);
        }
        Ok(())
    };
    for d in dists.iter().take(MAX_LISTINGS) {
        for feed in d
            .pointer("/rolie/feeds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(MAX_LISTINGS)
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
                .ok_or_else(|| {
                    Error::unexpected(&feed_url, "not a ROLIE feed (no \"feed.entry\" list)")
                })?;
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
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| Error::unexpected(&index, "not UTF-8 text"))?;
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
        return Err(Error::unexpected(
            url,
            "the provider lists no ROLIE feed and no directory_url",
        ));
    }
    Ok((docs, listed))
}

/// Fetches and parses every ICSMA advisory the provider at `url` lists;
/// the files and how many documents the listings named.
pub fn fetch(f: &mut Fetcher, url: &str) -> Result<(Vec<advisory::FeedFile>, usize), Error> {
    let (docs, listed) = listing(f, url)?;
    let mut out = Vec::with_capacity(docs.len());
    for d in &docs {
        let file = advisory::parse_feed(d, &f.get(d, &[])?)?;
        if !matches!(file.feed, advisory::Feed::Csaf(_)) {
            return Err(Error::unexpected(
                d,
                format!(
                    "expected a CSAF advisory, got a {} document",
                    file.feed.kind()
                ),
            ));
        }
        out.push(file);
    }
    Ok((out, listed))
}
