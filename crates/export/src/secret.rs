//! Secrets and what may be printed: webhook tokens come from a file or an
//! environment variable (never the command line, which `ps` shows), and URLs
//! are printed without user info or query string.

use crate::Error;
use std::path::Path;

/// Longest token accepted (bytes).
pub const MAX_TOKEN: usize = 8192;

/// The URL as it may be printed: no user info, no query string.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_string(),
    };
    let path = match path.split_once('?') {
        Some((p, _)) => format!("{p}?***"),
        None => path.to_string(),
    };
    let authority = match authority.split_once('?') {
        Some((a, _)) => format!("{a}?***"),
        None => authority,
    };
    if scheme.is_empty() {
        format!("{authority}{path}")
    } else {
        format!("{scheme}://{authority}{path}")
    }
}

/// Reads a secret from `file` (first line, trimmed) or else from the
/// environment variable `env`; `None` when neither gives one. Errors never
/// contain the secret.
pub fn read_token(file: Option<&Path>, env: &str) -> Result<Option<String>, Error> {
    let raw = match file {
        Some(p) => {
            let shown = || p.display().to_string();
            let meta =
                std::fs::metadata(p).map_err(|err| Error::TokenFile { path: shown(), err })?;
            if meta.len() > MAX_TOKEN as u64 {
                return Err(Error::TokenTooLarge(shown()));
            }
            let s = std::fs::read_to_string(p)
                .map_err(|err| Error::TokenFile { path: shown(), err })?;
            let t = s.lines().next().unwrap_or("").trim().to_string();
            if t.is_empty() {
                return Err(Error::TokenEmpty(shown()));
            }
            t
        }
        None => match std::env::var(env) {
            Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
            _ => return Ok(None),
        },
    };
    if raw.len() > MAX_TOKEN || raw.bytes().any(|b| b.is_ascii_control() || !b.is_ascii()) {
        return Err(Error::TokenInvalid);
    }
    Ok(Some(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "s3cr3t-t0ken-11111111";

    #[test]
    fn urls_are_redacted_and_tokens_read_from_file_or_env() {
        assert_eq!(
            redact("https://u:p@splunk:8088/services/collector/event?token=x"),
            "https://***@splunk:8088/services/collector/event?***"
        );
        assert_eq!(redact("http://es:9200/_bulk"), "http://es:9200/_bulk");
        assert_eq!(redact("http://es:9200?x=1"), "http://es:9200?***");
        let dir = std::env::temp_dir().join(format!("ward-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("token");
        std::fs::write(&f, format!("  {TOKEN}\n")).unwrap();
        assert_eq!(
            read_token(Some(&f), "WARD_TEST_UNSET_VAR")
                .unwrap()
                .as_deref(),
            Some(TOKEN)
        );
        std::fs::write(&f, "\n").unwrap();
        assert!(matches!(
            read_token(Some(&f), "X"),
            Err(Error::TokenEmpty(_))
        ));
        std::fs::write(&f, "abc\u{1b}def").unwrap();
        let e = read_token(Some(&f), "X").unwrap_err().to_string();
        assert!(!e.contains("abc"), "{e}");
        std::fs::write(&f, "x".repeat(MAX_TOKEN + 1)).unwrap();
        assert!(matches!(
            read_token(Some(&f), "X"),
            Err(Error::TokenTooLarge(_))
        ));
        assert!(matches!(
            read_token(Some(&dir.join("missing")), "X"),
            Err(Error::TokenFile { .. })
        ));
        assert_eq!(read_token(None, "WARD_TEST_UNSET_VAR_2").unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
