//! Ward's downloads: vulnerability feeds and MUD files, over HTTP(S) with
//! limits. No store and no printing: the binary stores what is returned and
//! prints the typed progress.
//!
//! - [`fetch`]: GET with a global timeout, bounded redirects, a body limit
//!   per document and per run, and for URLs that come from the network the
//!   SSRF guard ([`fetch::AddressPolicy`]: every resolved address checked at
//!   connection time, also after redirects).
//! - [`link`]: links in listings resolved against their document (the `url`
//!   crate), file names, ICSMA advisories.
//! - [`kev`], [`csaf`] (provider metadata → ROLIE feeds and `index.txt`
//!   directories → ICSMA advisories), [`nvd`] (CVE API 2.0 paging, with
//!   last-modified windows): each source fetched and parsed with
//!   `advisory::parse_feed`.
//! - [`sync`]: which sources, from where, and one run over all of them
//!   that returns every parsed document and each source's sync state, so the
//!   caller can store everything in one transaction (or nothing).
//! - [`import`]: feed files read from disk and parsed.
//! - [`mud`]: RFC 8520 MUD files fetched from the URLs devices announce:
//!   URL checks before any request, content type, validation, the file's own
//!   `mud-url`, and the signature's presence.

pub mod csaf;
pub mod fda;
pub mod fetch;
pub mod import;
pub mod kev;
pub mod link;
pub mod mud;
pub mod nvd;
pub mod sync;

pub use fetch::{AddressPolicy, Fetcher, Options};

/// `bytes` as they are, or decompressed when they are gzip (the EPSS file
/// is published as `.csv.gz`), to at most `advisory::MAX_FILE_BYTES` + 1
/// bytes (the parser refuses more): a gzip bomb stops there.
pub fn gunzip_bounded(bytes: Vec<u8>) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .take(advisory::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// What can go wrong fetching feeds or MUD files. Every message is one line
/// naming the URL (or file) and the problem.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request failed (connection, TLS, refused address, timeout, ...).
    #[error("{url}: {why}")]
    Request {
        /// The URL.
        url: String,
        /// What failed, one line.
        why: String,
    },
    /// The server answered with a status other than 2xx.
    #[error("{url}: HTTP {status} {reason}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// Its canonical reason phrase.
        reason: String,
    },
    /// The URL's scheme is not allowed.
    #[error("{url}: {}", if *https_only { "only https URLs are allowed" } else { "only http and https URLs are supported" })]
    Scheme {
        /// The URL.
        url: String,
        /// Whether only `https://` is allowed.
        https_only: bool,
    },
    /// A response is larger than the per-document limit.
    #[error("{url}: response is larger than the limit of {} per document", fetch::size(*limit))]
    DocumentTooLarge {
        /// The URL.
        url: String,
        /// The limit, bytes.
        limit: u64,
    },
    /// The run downloaded more than its limit.
    #[error("{url}: the run exceeds its download limit of {}", fetch::size(*limit))]
    RunTooLarge {
        /// The URL.
        url: String,
        /// The limit, bytes.
        limit: u64,
    },
    /// The CA file could not be used.
    #[error("{path}: {why}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// A response is not JSON.
    #[error("{url}: invalid JSON: {err}")]
    Json {
        /// The URL.
        url: String,
        /// The parser's error.
        err: serde_json::Error,
    },
    /// A response is JSON (or text) of the wrong shape, or a listing is out of bounds.
    #[error("{url}: {what}")]
    Unexpected {
        /// The URL (or document name).
        url: String,
        /// What is wrong.
        what: String,
    },
    /// A feed document is malformed (the parser's error names it).
    #[error(transparent)]
    Feed(#[from] advisory::Error),
    /// A source override is malformed.
    #[error("--source {given}: {why}")]
    Source {
        /// The override as given.
        given: String,
        /// Why.
        why: String,
    },
    /// An announced MUD URL is refused before any request.
    #[error("{url}: {why}")]
    MudUrl {
        /// The URL.
        url: String,
        /// Why.
        why: mud::UrlRefused,
    },
    /// A MUD file is refused.
    #[error("{url}: {why}")]
    Mud {
        /// The URL (or file name).
        url: String,
        /// Why.
        why: String,
    },
}

impl Error {
    /// An [`Error::Unexpected`] about `url`.
    pub(crate) fn unexpected(url: &str, what: impl Into<String>) -> Error {
        Error::Unexpected {
            url: url.to_string(),
            what: what.into(),
        }
    }
}
