//! MUD files (RFC 8520) fetched from the URLs devices announce (DHCP option
//! 161, LLDP). The URL is attacker-controlled (any host on the segment can
//! send DHCP or LLDP), so before and during the request:
//! - [`check_url`]: `https://` only (RFC 8520 §6; `http://` when allowed, for
//!   labs), a host, no user info, at most [`MAX_URL_LEN`] bytes, no spaces or
//!   control characters;
//! - the [`Fetcher`] is built by the caller with the SSRF guard
//!   ([`crate::fetch::AddressPolicy`]), bounded redirects and the 1 MiB limit
//!   (`policy::mud::MAX_MUD_BYTES`): see [`options`];
//! - the response must be `application/mud+json` or `application/json`,
//!   parse and validate as a MUD file, and its `mud-url` must be the URL
//!   fetched (a server cannot overwrite another vendor's file).
//!
//! **Signatures (RFC 8520 §13).** When the file names a `mud-signature`, the
//! signature is fetched under the same rules and its presence is recorded;
//! Ward does **not** verify CMS signatures, and the status says so.

use crate::fetch::{AddressPolicy, Options};
use crate::{Error, Fetcher};
use policy::mud::MudPolicy;
use std::path::PathBuf;
use std::time::Duration;

/// Longest MUD URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why an announced URL is refused before any request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Longer than [`MAX_URL_LEN`].
    #[error("URL longer than {MAX_URL_LEN} bytes")]
    TooLong,
    /// Spaces or control characters.
    #[error("URL contains spaces or control characters")]
    Controls,
    /// `http://` without permission.
    #[error("http:// refused: RFC 8520 requires https (--allow-http for labs)")]
    Http,
    /// Another scheme (shown cleaned, at most 16 bytes).
    #[error("scheme {0:?} refused: only https")]
    Scheme(String),
    /// No scheme.
    #[error("not an absolute URL")]
    NotAbsolute,
    /// Unparseable.
    #[error("not a valid URL")]
    Invalid,
    /// No host.
    #[error("no host")]
    NoHost,
    /// User info (`user:pw@`).
    #[error("user info in the URL refused")]
    UserInfo,
}

/// Checks an announced URL before any request: length, characters, scheme, host, no user info.
pub fn check_url(url: &str, allow_http: bool) -> Result<(), UrlRefused> {
    if url.len() > MAX_URL_LEN {
        return Err(UrlRefused::TooLong);
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(UrlRefused::Controls);
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
        Some("http") => return Err(UrlRefused::Http),
        Some(s) => return Err(UrlRefused::Scheme(model::text::bounded(s.as_bytes(), 16))),
        None => return Err(UrlRefused::NotAbsolute),
    }
    let uri: ureq::http::Uri = url.parse().map_err(|_| UrlRefused::Invalid)?;
    let auth = uri.authority().ok_or(UrlRefused::NoHost)?;
    if auth.as_str().contains('@') {
        return Err(UrlRefused::UserInfo);
    }
    if auth.host().is_empty() {
        return Err(UrlRefused::NoHost);
    }
    Ok(())
}

/// Fetcher options for MUD URLs: the address guard always on (private and
/// loopback servers only when allowed; link-local never), no proxy,
/// 3 redirects, `https` only unless `allow_http`, documents up to
/// `policy::mud::MAX_MUD_BYTES`, `timeout` clamped to 1-600 s.
pub fn options(
    timeout: Duration,
    allow_http: bool,
    allow_private: bool,
    allow_loopback: bool,
    ca_file: Option<PathBuf>,
) -> Options {
    Options {
        timeout: timeout.clamp(Duration::from_secs(1), Duration::from_secs(600)),
        max_document: policy::mud::MAX_MUD_BYTES as u64,
        max_total: u64::MAX,
        max_redirects: 3,
        https_only: !allow_http,
        ca_file,
        addresses: AddressPolicy {
            guard: true,
            allow_private,
            allow_loopback,
        },
        proxy_from_env: false,
    }
}

/// Seconds after which a stored file is due again: `refresh` when given,
/// else the file's `cache-validity` hours (RFC 8520 default 48).
pub fn refresh_secs(refresh: Option<i64>, cache_validity_hours: Option<u8>) -> i64 {
    refresh.unwrap_or(i64::from(cache_validity_hours.unwrap_or(48)) * 3600)
}

/// Reads a MUD file (imported from disk or fetched): the parsed policy and
/// the document as stored. Errors name `name`.
pub fn read(name: &str, bytes: &[u8]) -> Result<(MudPolicy, String), Error> {
    let mud = |why: String| Error::Mud {
        url: name.to_string(),
        why,
    };
    let m = MudPolicy::parse(bytes).map_err(|e| mud(e.to_string()))?;
    let doc = String::from_utf8(bytes.to_vec()).map_err(|e| mud(format!("not UTF-8: {e}")))?;
    Ok((m, doc))
}

/// A fetched, validated MUD file.
#[derive(Debug)]
pub struct FetchedMud {
    /// The parsed policy.
    pub policy: MudPolicy,
    /// The document as stored.
    pub doc: String,
    /// SHA-256 of the document, lower-case hex.
    pub sha256: String,
    /// The signature's status (present with its size, absent or unavailable; never "verified").
    pub signature: String,
}

/// Signature status of a fetched file (RFC 8520 §13).
fn signature_status(f: &mut Fetcher, m: &MudPolicy, allow_http: bool) -> String {
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

/// Fetches one announced URL: checked, fetched, content type, parsed and
/// validated, `mud-url` matched, hashed, signature looked up.
pub fn fetch(f: &mut Fetcher, url: &str, allow_http: bool) -> Result<FetchedMud, Error> {
    check_url(url, allow_http).map_err(|why| Error::MudUrl {
        url: url.to_string(),
        why,
    })?;
    let refused = |why: String| Error::Mud {
        url: url.to_string(),
        why,
    };
    let got = f.fetch(url, "application/mud+json, application/json;q=0.9", &[])?;
    match got.content_type.as_deref() {
        Some("application/mud+json" | "application/json") => {}
        Some(t) => {
            return Err(refused(format!(
                "content type {:?} is not application/mud+json",
                model::text::bounded(t.as_bytes(), 64)
            )))
        }
        None => {
            return Err(refused(
                "no content type (application/mud+json expected)".into(),
            ))
        }
    }
    let (m, doc) = read(url, &got.bytes)?;
    if m.url != url {
        return Err(refused(format!("the file's mud-url is {:?}, not the URL fetched (refused: it would replace another file)", m.url)));
    }
    let sha256 = {
        use sha2::Digest;
        sha2::Sha256::digest(doc.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let signature = signature_status(f, &m, allow_http);
    Ok(FetchedMud {
        policy: m,
        doc,
        sha256,
        signature,
    })
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
        assert_eq!(
            check_url(&format!("https://h/{}", "a".repeat(MAX_URL_LEN)), false),
            Err(UrlRefused::TooLong)
        );
        assert_eq!(refresh_secs(None, None), 48 * 3600);
        assert_eq!(refresh_secs(None, Some(2)), 7200);
        assert_eq!(refresh_secs(Some(60), Some(2)), 60);
    }

    #[test]
    fn options_always_guard_addresses() {
        let o = options(Duration::from_secs(100_000), false, true, false, None);
        assert_eq!(o.timeout, Duration::from_secs(600));
        assert!(
            o.https_only && !o.proxy_from_env && o.addresses.guard && o.addresses.allow_private
        );
        assert!(!o.addresses.allow_loopback);
        assert_eq!(o.max_document, policy::mud::MAX_MUD_BYTES as u64);
    }

    #[test]
    fn read_names_the_file_and_refuses_non_mud() {
        let e = read("x.json", b"{}").unwrap_err().to_string();
        assert!(e.starts_with("x.json: "), "{e}");
    }
}
