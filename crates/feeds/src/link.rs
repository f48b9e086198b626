//! Links found in feed listings (ROLIE entries, `index.txt` lines, provider
//! metadata) resolved against the document they were found in, with the
//! `url` crate (RFC 3986 reference resolution); only `http`/`https`
//! results are accepted.

use crate::Error;
use url::Url;

/// Longest link accepted (bytes).
const MAX_LINK: usize = 4096;

/// Resolves `rel` (absolute, scheme-relative, host-absolute or relative)
/// against `base`. Links to other schemes (`file:`, `ftp:`, ...), empty and
/// overlong links are refused.
pub fn join(base: &str, rel: &str) -> Result<String, Error> {
    let rel = rel.trim();
    let unsupported = || {
        Error::unexpected(
            base,
            format!(
                "unsupported link {:?}",
                rel.chars().take(200).collect::<String>()
            ),
        )
    };
    if rel.is_empty() || rel.len() > MAX_LINK {
        return Err(unsupported());
    }
    let base_url = Url::parse(base).map_err(|_| Error::unexpected(base, "not an absolute URL"))?;
    let joined = base_url.join(rel).map_err(|_| unsupported())?;
    if !matches!(joined.scheme(), "http" | "https") || !joined.has_host() {
        return Err(unsupported());
    }
    Ok(joined.into())
}

/// The last path segment of `url` (no query or fragment).
pub fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether a file name or advisory id is a CISA ICS medical advisory (`ICSMA-…`).
pub fn is_icsma(s: &str) -> bool {
    s.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("icsma-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_like_a_browser_and_other_schemes_are_refused() {
        for (base, rel, want) in [
            ("https://a.b/x/y.json", "z.json", "https://a.b/x/z.json"),
            ("https://a.b/x/y.json", "./z.json", "https://a.b/x/z.json"),
            ("https://a.b/x/y.json", "../z.json", "https://a.b/z.json"),
            ("https://a.b/x/y.json", "/z.json", "https://a.b/z.json"),
            ("https://a.b", "2024/z.json", "https://a.b/2024/z.json"),
            ("https://a.b/x/", "https://c.d/e", "https://c.d/e"),
            ("https://a.b/x/", " //c.d/e ", "https://c.d/e"),
            (
                "http://127.0.0.1:8080/csaf/p.json?x=1",
                "f/1.json",
                "http://127.0.0.1:8080/csaf/f/1.json",
            ),
        ] {
            assert_eq!(join(base, rel).unwrap(), want, "{base} + {rel}");
        }
        for rel in [
            "file:///etc/passwd",
            "ftp://h/x",
            "",
            "  ",
            "mailto:a@b",
            &"a".repeat(5000),
        ] {
            let e = join("https://a.b/x/", rel).unwrap_err().to_string();
            assert!(
                e.starts_with("https://a.b/x/: unsupported link"),
                "{rel:?}: {e}"
            );
        }
        assert!(join("not a url", "x")
            .unwrap_err()
            .to_string()
            .contains("not an absolute URL"));
    }

    #[test]
    fn file_names_and_icsma() {
        assert_eq!(
            file_name("https://a.b/2024/ICSMA-24-163-01.json?x#y"),
            "ICSMA-24-163-01.json"
        );
        assert!(is_icsma(file_name(
            "https://a.b/2024/ICSMA-24-163-01.json?x"
        )));
        assert!(!is_icsma(file_name("https://a.b/2024/icsa-24-163-01.json")));
        assert!(!is_icsma("icsm"));
    }
}
