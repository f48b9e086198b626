//! Turning attacker-controlled bytes into bounded, printable strings.
//!
//! Every string that leaves an analyzer goes through [`bounded`]: it is cut to a
//! maximum length, decoded as UTF-8 with Latin-1 fallback (HL7 on the wire is
//! often Latin-1), and stripped of control characters, so a record can be
//! printed, logged or stored without further checks.

/// Default cap for names, banners and header values.
pub const MAX_FIELD: usize = 256;

/// Decodes at most `max` bytes of `raw` into a printable string.
///
/// Control characters (including CR, LF, ESC) become `\u{fffd}`-free spaces or
/// are dropped, so the result is single-line. Trailing and leading ASCII
/// whitespace is trimmed.
pub fn bounded(raw: &[u8], max: usize) -> String {
    let raw = &raw[..raw.len().min(max)];
    // Fast path, the common case: printable ASCII only (nothing to decode,
    // replace or drop), so the result is the trimmed input itself.
    if raw.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        let start = raw.iter().position(|&b| b != b' ').unwrap_or(raw.len());
        let end = raw
            .iter()
            .rposition(|&b| b != b' ')
            .map_or(start, |i| i + 1);
        return String::from_utf8_lossy(&raw[start..end]).into_owned();
    }
    let mut out = String::with_capacity(raw.len());
    match std::str::from_utf8(raw) {
        Ok(s) => push_clean(&mut out, s.chars()),
        Err(e) if e.error_len().is_none() => {
            // Truncation cut a multi-byte character: keep the valid prefix.
            let valid = &raw[..e.valid_up_to()];
            push_clean(
                &mut out,
                std::str::from_utf8(valid).unwrap_or_default().chars(),
            );
        }
        Err(_) => push_clean(&mut out, raw.iter().map(|&b| b as char)),
    }
    let trimmed = out.trim();
    if trimmed.len() == out.len() {
        out
    } else {
        trimmed.to_string()
    }
}

/// [`bounded`] with [`MAX_FIELD`].
pub fn field(raw: &[u8]) -> String {
    bounded(raw, MAX_FIELD)
}

/// [`field`], or `None` when the result is empty.
pub fn non_empty(raw: &[u8]) -> Option<String> {
    let s = field(raw);
    (!s.is_empty()).then_some(s)
}

fn push_clean(out: &mut String, chars: impl Iterator<Item = char>) {
    for c in chars {
        if c == '\t' {
            out.push(' ');
        } else if !c.is_control() {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_and_caps_length() {
        assert_eq!(bounded(b"ab\r\ncd\x1b[0m", 100), "abcd[0m");
        assert_eq!(bounded(b"abcdef", 3), "abc");
    }

    #[test]
    fn latin1_fallback() {
        assert_eq!(bounded(b"M\xfcller", 100), "M\u{fc}ller");
    }

    #[test]
    fn ascii_fast_path_matches_the_general_rules() {
        assert_eq!(bounded(b"  Apache/2.4  ", 100), "Apache/2.4");
        assert_eq!(bounded(b"   ", 100), "");
        assert_eq!(bounded(b"", 100), "");
        assert_eq!(bounded(b"a\tb ", 100), "a b");
        assert_eq!(bounded(b" \tx\t ", 100), "x");
        assert_eq!(bounded(b"abc  def", 5), "abc");
    }

    #[test]
    fn cut_multibyte_keeps_prefix() {
        assert_eq!(bounded("aé".as_bytes(), 2), "a");
    }
}

/// Marker that replaces a redacted value.
pub const REDACTED: &str = "*";

/// A URI with the values of its query parameters replaced by [`REDACTED`]
/// and any fragment dropped: `/orders?mrn=123&name=DOE` becomes
/// `/orders?mrn=*&name=*`. Query strings of clinical web applications carry
/// patient identifiers; the path and the parameter names are kept, as they
/// describe the application, not the patient.
pub fn redact_query(uri: &str) -> std::borrow::Cow<'_, str> {
    let uri = uri.split('#').next().unwrap_or(uri);
    let Some((path, query)) = uri.split_once('?') else {
        return uri.into();
    };
    let mut out = String::with_capacity(uri.len());
    out.push_str(path);
    out.push('?');
    for (i, param) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match param.split_once('=') {
            Some((k, v)) if !v.is_empty() => {
                out.push_str(k);
                out.push('=');
                out.push_str(REDACTED);
            }
            Some((k, _)) => {
                out.push_str(k);
                out.push('=');
            }
            // A bare value (`?12345`) may itself be an identifier.
            None if param.is_empty() => {}
            None => out.push_str(REDACTED),
        }
    }
    out.into()
}

#[cfg(test)]
mod redact_tests {
    use super::*;

    #[test]
    fn query_values_are_redacted() {
        assert_eq!(redact_query("/a/b.html"), "/a/b.html");
        assert_eq!(
            redact_query("/orders?mrn=123&name=DOE^JOHN&x="),
            "/orders?mrn=*&name=*&x="
        );
        assert_eq!(redact_query("/p?1234567#frag"), "/p?*");
        assert_eq!(redact_query("/p#x?y=1"), "/p");
        assert_eq!(redact_query("/p?"), "/p?");
    }
}
