//! HTTP/1.x message syntax: start lines, header blocks, chunked framing.
//!
//! Pure functions over `&[u8]` returning borrowed views. References:
//! - RFC 9112 §2 (message format; empty lines before a request are ignored),
//!   §3 (request line), §4 (status line), §5 (field syntax, obs-fold),
//!   §6.3 (message body length), §7.1 (chunked transfer coding);
//! - RFC 1945 §4.1 (HTTP/0.9 "simple request": `GET uri CRLF`, no headers);
//! - RFC 7617 (Basic authentication: base64 of `user:password`);
//! - RFC 3986 §2.1 (percent-encoding).
//!
//! Header blocks are parsed with `httparse::parse_headers`; blocks it refuses
//! (invalid bytes, too many fields) go through a lenient line splitter so one
//! odd field does not hide the others.

/// Where a header block ends: the index just past the empty line, if the
/// block is complete within `data`. Lines end as in [`first_line`].
pub fn header_block_end(data: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let (line, used) = first_line(data.get(at..)?)?;
        at += used;
        if line.is_empty() {
            return Some(at);
        }
    }
}

/// The first line of `data` without its line end, and the bytes it used.
///
/// Like Zeek's line reader, a line ends at CRLF, at a bare LF or at a bare
/// CR (one not followed by LF). A CR that ends `data` could still start a
/// CRLF: the line is not complete yet.
pub fn first_line(data: &[u8]) -> Option<(&[u8], usize)> {
    let end = memchr::memchr2(b'\n', b'\r', data)?;
    match (data[end], data.get(end + 1)) {
        (b'\n', _) => Some((&data[..end], end + 1)),
        (_, Some(b'\n')) => Some((&data[..end], end + 2)),
        (_, Some(_)) => Some((&data[..end], end + 1)),
        (_, None) => None,
    }
}

/// Number of leading CR/LF bytes (empty lines between messages).
pub fn leading_newlines(data: &[u8]) -> usize {
    data.iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

/// The version part of a request line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReqVersion {
    /// `HTTP/x.y`.
    Http(u8, u8),
    /// Starts with `HTTP/` but is not `HTTP/d.d` (`HTTP/1.`): headers still follow.
    Malformed,
    /// No version: an HTTP/0.9 simple request (no headers follow).
    Simple,
}

/// A parsed request line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLine<'a> {
    /// Method token as sent.
    pub method: &'a [u8],
    /// Request target, raw (may be empty).
    pub uri: &'a [u8],
    /// Version token.
    pub version: ReqVersion,
}

/// True for an RFC 9110 `token` character.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses `HTTP/d.d`.
pub fn parse_version(v: &[u8]) -> Option<(u8, u8)> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some((a - b'0', b - b'0'))
        }
        _ => None,
    }
}

fn req_version(v: &[u8]) -> Option<ReqVersion> {
    match parse_version(v) {
        Some((a, b)) => Some(ReqVersion::Http(a, b)),
        None if v.len() <= 16 && v.starts_with(b"HTTP/") => Some(ReqVersion::Malformed),
        None => None,
    }
}

/// Parses a request line: `method SP target SP HTTP/x.y`, tolerating extra
/// spaces; `method SP target` alone is an HTTP/0.9 request.
pub fn request_line(line: &[u8]) -> Option<RequestLine<'_>> {
    let sp = line.iter().position(|&b| b == b' ')?;
    let method = &line[..sp];
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return None;
    }
    let rest = trim(&line[sp..]);
    if rest.iter().any(|&b| b < b' ' && b != b'\t') {
        return None;
    }
    let (uri, version) = match rest.iter().rposition(|&b| b == b' ') {
        Some(i) => match req_version(&rest[i + 1..]) {
            Some(v) => (trim(&rest[..i]), v),
            None => (rest, ReqVersion::Simple),
        },
        None => match req_version(rest) {
            // `OPTIONS HTTP/1.0`: empty target.
            Some(v) => (&rest[..0], v),
            None => (rest, ReqVersion::Simple),
        },
    };
    // Like Zeek, an HTTP/0.9 request needs a target and a method of at
    // least three characters (HTTP/0.9 only knew GET).
    if version == ReqVersion::Simple && (uri.is_empty() || uri.contains(&b' ') || method.len() < 3)
    {
        return None;
    }
    Some(RequestLine {
        method,
        uri,
        version,
    })
}

/// A parsed status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine<'a> {
    /// `(major, minor)`; `(0, 0)` when the version is not `d.d`.
    pub version: (u8, u8),
    /// The version was not `d.d` (`HTTP/!.4`).
    pub bad_version: bool,
    /// Status code; 0 when the three bytes after the version are not digits.
    pub code: u16,
    /// Reason phrase (may be empty).
    pub reason: &'a [u8],
}

/// Parses a status line as leniently as Zeek's `HTTP_ReplyLine`:
/// `HTTP/` (any case), a version that is `d.d` or else logged as `0.0`,
/// whitespace, three bytes of code (0 unless digits), then after the next
/// whitespace the reason phrase. `None` (not a status line) without
/// `HTTP/` or without three bytes after the whitespace.
pub fn status_line(line: &[u8]) -> Option<StatusLine<'_>> {
    if !line.get(..5)?.eq_ignore_ascii_case(b"HTTP/") {
        return None;
    }
    let after = &line[5..];
    let (version, bad_version) = match after {
        [a, b'.', b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
            ((a - b'0', b - b'0'), false)
        }
        _ => ((0, 0), true),
    };
    let ws = after.iter().position(|&b| b == b' ' || b == b'\t')?;
    let rest = trim_start(&after[ws..]);
    let code = match rest.get(..3)? {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => 0,
    };
    let tail = &rest[3..];
    let reason = match tail.iter().position(|&b| b == b' ' || b == b'\t') {
        Some(i) => trim(&tail[i..]),
        None => &[][..],
    };
    Some(StatusLine {
        version,
        bad_version,
        code,
        reason,
    })
}

/// Calls `f(name, value)` for each field of a header block (the lines after
/// the start line, up to and including the empty line). Returns false if
/// the block needed the lenient fallback.
///
/// The lenient path splits lines like [`first_line`], skips lines without a
/// colon, and joins obsolete line folding (RFC 9112 §5.2: a line starting
/// with a space or tab continues the previous field's value) with a space,
/// as Zeek's MIME reader does. Folded values are capped at [`MAX_FOLDED`].
pub fn for_each_header(block: &[u8], mut f: impl FnMut(&[u8], &[u8])) -> bool {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    if let Ok(httparse::Status::Complete((_, hs))) = httparse::parse_headers(block, &mut headers) {
        for h in hs.iter() {
            f(h.name.as_bytes(), h.value);
        }
        return true;
    }
    // The field being read: (name, value), the value owned only once folded.
    let mut current: Option<(&[u8], std::borrow::Cow<'_, [u8]>)> = None;
    let mut rest = block;
    while let Some((line, used)) = first_line(rest) {
        rest = &rest[used..];
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some((_, value)) = current.as_mut() {
                let more = trim(line);
                let v = value.to_mut();
                if !more.is_empty() && v.len() + 1 + more.len() <= MAX_FOLDED {
                    if !v.is_empty() {
                        v.push(b' ');
                    }
                    v.extend_from_slice(more);
                }
            }
            continue;
        }
        if let Some((name, value)) = current.take() {
            f(name, &value);
        }
        if let Some(c) = line.iter().position(|&b| b == b':') {
            current = Some((
                trim(&line[..c]),
                std::borrow::Cow::Borrowed(trim(&line[c + 1..])),
            ));
        }
    }
    if let Some((name, value)) = current.take() {
        f(name, &value);
    }
    false
}

/// Longest value rebuilt from folded lines.
pub const MAX_FOLDED: usize = 4096;

/// Parses a Content-Length value the way Zeek does (`atoi_n` on the value
/// token): leading whitespace skipped, then decimal digits up to the first
/// other byte. `None` without a digit, for a negative value, or above
/// `i64::MAX` (Zeek's signed 64-bit length: `18446744073709551615` is
/// rejected, not taken as "the rest of the connection").
pub fn content_length(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    let digits = v.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let n = v[..digits].iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    (n <= i64::MAX as u64).then_some(n)
}

/// True if a Transfer-Encoding value selects chunked framing: its first
/// coding is `chunked` (as Zeek reads the value token; `chunked, identity`
/// is chunked) or its last one is (RFC 9112 §6.1: `gzip, chunked`).
pub fn is_chunked(v: &[u8]) -> bool {
    let mut codings = v.split(|&b| b == b',').map(trim);
    let first = codings
        .next()
        .is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"));
    first
        || v.rsplit(|&b| b == b',')
            .next()
            .is_some_and(|last| trim(last).eq_ignore_ascii_case(b"chunked"))
}

/// A chunk-size line (RFC 9112 §7.1) read like Zeek's `atoi_n(.., 16, ..)`:
/// hex digits from the first byte up to the first other byte (so
/// `;extensions` are ignored). `None` when the line does not start with a
/// hex digit or the size exceeds `i64::MAX` (2^64 must not wrap to 0).
pub fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return None;
    }
    let n = line[..digits].iter().try_fold(0u64, |acc, &d| {
        let v = (d as char).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(u64::from(v))
    })?;
    (n <= i64::MAX as u64).then_some(n)
}

/// Decodes the credentials of an `Authorization: Basic ...` value into
/// `(user, password)` bytes. `None` for other schemes or bad base64.
pub fn basic_auth(v: &[u8], buf: &mut [u8; 384]) -> Option<(usize, usize)> {
    let v = trim(v);
    let sp = v.iter().position(|&b| b == b' ')?;
    if !v[..sp].eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let n = base64_decode(trim(&v[sp..]), buf)?;
    let colon = buf[..n].iter().position(|&b| b == b':').unwrap_or(n);
    Some((colon, n))
}

/// Standard base64 decoding into `out` (padding optional); `None` if invalid
/// or longer than `out`.
pub fn base64_decode(s: &[u8], out: &mut [u8]) -> Option<usize> {
    let s = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    let mut n = 0;
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    Some(n)
}

/// Percent-decoding as Zeek logs URIs: `%XX` becomes the byte, anything else
/// (including a `%` without two hex digits) is kept. Returns the decoded
/// bytes and whether a malformed escape was seen.
pub fn unescape(uri: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::with_capacity(uri.len());
    let mut bad = false;
    let mut rest = uri;
    // Runs without `%` are copied whole.
    while let Some(i) = memchr::memchr(b'%', rest) {
        out.extend_from_slice(&rest[..i]);
        let hex = |j: usize| rest.get(j).and_then(|&c| (c as char).to_digit(16));
        if let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2)) {
            out.push((h * 16 + l) as u8);
            rest = rest.get(i + 3..).unwrap_or_default();
        } else {
            bad = true;
            out.push(b'%');
            rest = &rest[i + 1..];
        }
    }
    out.extend_from_slice(rest);
    (out, bad)
}

/// Trims ASCII spaces and tabs on both ends.
pub fn trim(v: &[u8]) -> &[u8] {
    let v = trim_start(v);
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &v[..end]
}

fn trim_start(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(v.len());
    &v[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_crlf_lf_or_bare_cr() {
        assert_eq!(first_line(b"ab\r\ncd"), Some((&b"ab"[..], 4)));
        assert_eq!(first_line(b"ab\ncd"), Some((&b"ab"[..], 3)));
        assert_eq!(first_line(b"ab\rcd"), Some((&b"ab"[..], 3)));
        // A CR at the end may be the first half of a CRLF.
        assert_eq!(first_line(b"ab\r"), None);
        assert_eq!(first_line(b"ab"), None);
        assert_eq!(header_block_end(b"GET / HTTP/1.1\nA: b\n\rrest"), Some(21));
    }

    #[test]
    fn obsolete_line_folding_joins_values() {
        let mut seen = Vec::new();
        let block = b"Host: target\r\nTransfer-Encoding:\r\n chunked\r\nX: a\r\n\tb\r\n\r\n";
        assert!(!for_each_header(block, |n, v| seen.push((n.to_vec(), v.to_vec()))));
        assert_eq!(
            seen,
            [
                (b"Host".to_vec(), b"target".to_vec()),
                (b"Transfer-Encoding".to_vec(), b"chunked".to_vec()),
                (b"X".to_vec(), b"a b".to_vec())
            ]
        );
    }

    #[test]
    fn block_end() {
        assert_eq!(
            header_block_end(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nbody"),
            Some(27)
        );
        assert_eq!(
            header_block_end(b"GET / HTTP/1.1\nHost: a\n\nbody"),
            Some(24)
        );
        assert_eq!(header_block_end(b"GET / HTTP/1.1\r\nHost: a\r\n"), None);
        assert_eq!(header_block_end(b"GET / HTTP/1.1\r\n\r\n"), Some(18));
    }

    #[test]
    fn request_lines() {
        let r = request_line(b"GET /a?b HTTP/1.1").unwrap();
        assert_eq!(
            (r.method, r.uri, r.version),
            (&b"GET"[..], &b"/a?b"[..], ReqVersion::Http(1, 1))
        );
        let r = request_line(b"GET /HTTP/1.1").unwrap();
        assert_eq!((r.uri, r.version), (&b"/HTTP/1.1"[..], ReqVersion::Simple));
        let r = request_line(b"OPTIONS HTTP/1.0").unwrap();
        assert_eq!((r.uri, r.version), (&b""[..], ReqVersion::Http(1, 0)));
        let r = request_line(b"GET / HTTP/1.").unwrap();
        assert_eq!((r.uri, r.version), (&b"/"[..], ReqVersion::Malformed));
        assert!(request_line(b"T / HTTP").is_none());
        let r = request_line(b"CONNECT host:25 / HTTP/1.0").unwrap();
        assert_eq!(r.uri, b"host:25 /");
        assert!(request_line(b"GET").is_none());
        assert!(request_line(b"G(T / HTTP/1.1").is_none());
        assert!(request_line(b"GET a b c").is_none());
        // HTTP/0.9 needs a method of three characters or more.
        assert!(request_line(b"GE /x").is_none());
    }

    #[test]
    fn status_lines() {
        let s = status_line(b"HTTP/1.1 200 OK").unwrap();
        assert_eq!((s.version, s.code, s.reason), ((1, 1), 200, &b"OK"[..]));
        assert_eq!(status_line(b"HTTP/1.0 404").unwrap().reason, b"");
        assert_eq!(
            status_line(b"HTTP/1.1 101 Web Socket Protocol Handshake")
                .unwrap()
                .reason,
            b"Web Socket Protocol Handshake"
        );
        // Zeek's leniency: three bytes of code, then the reason after the next space.
        let s = status_line(b"HTTP/1.1 2000 OK").unwrap();
        assert_eq!((s.code, s.reason), (200, &b"OK"[..]));
        let s = status_line(b"HTTP/!.4 206 t").unwrap();
        assert_eq!(
            (s.version, s.bad_version, s.code, s.reason),
            ((0, 0), true, 206, &b"t"[..])
        );
        let s = status_line(b"http/1.0 abc").unwrap();
        assert_eq!((s.version, s.code, s.reason), ((1, 0), 0, &b""[..]));
        assert!(status_line(b"HTTP/1.1").is_none());
        assert!(status_line(b"HTTP/1.1 20").is_none());
        assert!(status_line(b"SSH-2.0-x").is_none());
    }

    #[test]
    fn headers_strict_and_lenient() {
        let mut seen = Vec::new();
        assert!(for_each_header(b"Host: a\r\nX: b\r\n\r\n", |n, v| seen
            .push((n.to_vec(), v.to_vec()))));
        assert_eq!(seen.len(), 2);
        seen.clear();
        assert!(!for_each_header(
            b"Host: a\r\nBad Name: b\r\n folded\r\nUser-Agent: c\r\n\r\n",
            |n, v| seen.push((n.to_vec(), v.to_vec()))
        ));
        assert_eq!(
            seen,
            [
                (b"Host".to_vec(), b"a".to_vec()),
                (b"Bad Name".to_vec(), b"b folded".to_vec()),
                (b"User-Agent".to_vec(), b"c".to_vec())
            ]
        );
    }

    #[test]
    fn lengths() {
        assert_eq!(content_length(b" 0042 "), Some(42));
        assert_eq!(content_length(b"-1"), None);
        assert_eq!(content_length(b"18446744073709551616"), None);
        assert_eq!(content_length(b"50abc"), Some(50));
        assert_eq!(
            content_length(b"9223372036854775807"),
            Some(i64::MAX as u64)
        );
        // u64::MAX is not a length Zeek accepts (it would swallow the connection).
        assert_eq!(content_length(b"18446744073709551615"), None);
        assert_eq!(content_length(b""), None);
        assert_eq!(chunk_size(b"1a;ext=1"), Some(26));
        assert_eq!(chunk_size(b"1A "), Some(26));
        // 2^64 must not wrap around to 0 (or be taken as a huge chunk).
        assert_eq!(chunk_size(b"10000000000000000"), None);
        assert_eq!(chunk_size(b"8000000000000000"), None);
        assert_eq!(chunk_size(b"7fffffffffffffff"), Some(i64::MAX as u64));
        assert_eq!(chunk_size(b"zz"), None);
        assert_eq!(chunk_size(b"-1"), None);
        assert_eq!(chunk_size(b" 1"), None);
        assert!(is_chunked(b"gzip, Chunked"));
        // Zeek reads the first coding: `chunked, identity` is chunked.
        assert!(is_chunked(b"chunked, identity"));
        assert!(!is_chunked(b"gzip"));
        assert!(!is_chunked(b"identity, gzip"));
    }

    #[test]
    fn basic() {
        let mut buf = [0u8; 384];
        // "test:1:34"
        let (u, n) = basic_auth(b"Basic dGVzdDoxOjM0", &mut buf).unwrap();
        assert_eq!((&buf[..u], &buf[u + 1..n]), (&b"test"[..], &b"1:34"[..]));
        let (u, _) = basic_auth(b"basic  dGVzdDoxMjM0", &mut buf).unwrap();
        assert_eq!(&buf[..u], b"test");
        assert!(basic_auth(b"Bearer abc", &mut buf).is_none());
        assert!(basic_auth(b"Basic !!!", &mut buf).is_none());
    }

    #[test]
    fn percent() {
        assert_eq!(unescape(b"/a%20b%3d"), (b"/a b=".to_vec(), false));
        assert_eq!(unescape(b"/%"), (b"/%".to_vec(), true));
        assert_eq!(unescape(b"/%5"), (b"/%5".to_vec(), true));
        assert_eq!(unescape(b"%41%%42x%4g%"), (b"A%Bx%4g%".to_vec(), true));
        assert_eq!(unescape(b"%7e"), (b"~".to_vec(), false));
        assert_eq!(unescape(b""), (Vec::new(), false));
    }
}
