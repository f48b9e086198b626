//! ClientHello / ServerHello parsing and the JA3, JA3S and JA4 fingerprints.
//!
//! Zero-copy views over handshake message bodies. References:
//! - RFC 8446 §4.1.2 (ClientHello), §4.1.3 (ServerHello, HelloRetryRequest
//!   random), §4.2 (extensions: supported_versions 43, key_share 51,
//!   pre_shared_key 41, signature_algorithms 13, supported_groups 10);
//! - RFC 5246 §7.4.1 (TLS 1.2 hellos), RFC 6066 §3 (server_name 0),
//!   RFC 7301 (ALPN 16), RFC 8422 §5.1.2 (ec_point_formats 11),
//!   RFC 8701 (GREASE values `0x?a?a`);
//! - draft-ietf-tls-tls13-18 §4.1.3 (draft ServerHello without session id or
//!   compression, versions `0x7f00`..`0x7f15`);
//! - SSL 2.0 (draft-hickman-netscape-ssl-00) CLIENT-HELLO, for the version only;
//! - JA3/JA3S (Salesforce, BSD-3): MD5 of
//!   `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`
//!   (decimal, `-`-joined, GREASE removed) and `SSLVersion,Cipher,Extensions`;
//! - JA4 (FoxIO, BSD-3 for JA4 itself): `t13d1516h2_<ciphers>_<extensions>`,
//!   see [`ja4`].

use md5::Md5;
use sha2::{Digest, Sha256};

/// Extension code points used here.
pub mod ext {
    /// server_name (RFC 6066).
    pub const SERVER_NAME: u16 = 0;
    /// supported_groups (RFC 8422 / 8446).
    pub const SUPPORTED_GROUPS: u16 = 10;
    /// ec_point_formats (RFC 8422).
    pub const EC_POINT_FORMATS: u16 = 11;
    /// signature_algorithms (RFC 8446).
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    /// application_layer_protocol_negotiation (RFC 7301).
    pub const ALPN: u16 = 16;
    /// session_ticket (RFC 5077).
    pub const SESSION_TICKET: u16 = 35;
    /// pre_shared_key (RFC 8446).
    pub const PRE_SHARED_KEY: u16 = 41;
    /// supported_versions (RFC 8446).
    pub const SUPPORTED_VERSIONS: u16 = 43;
    /// key_share (RFC 8446).
    pub const KEY_SHARE: u16 = 51;
    /// key_share in TLS 1.3 drafts before 23.
    pub const KEY_SHARE_DRAFT: u16 = 40;
}

/// The ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3).
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// True for RFC 8701 GREASE values (`0x0a0a`, `0x1a1a`, ... `0xfafa`).
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

fn u16_at(d: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(i)?, *d.get(i + 1)?]))
}

/// Splits a `u8`-length-prefixed vector off `d`.
fn vec8(d: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&n, rest) = d.split_first()?;
    let n = n as usize;
    Some((rest.get(..n)?, &rest[n..]))
}

/// Splits a `u16`-length-prefixed vector off `d`.
fn vec16(d: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = u16_at(d, 0)? as usize;
    let v = d.get(2..2 + n)?;
    Some((v, &d[2 + n..]))
}

/// Big-endian `u16`s of a byte slice (a trailing odd byte is ignored).
pub fn u16s(d: &[u8]) -> impl Iterator<Item = u16> + Clone + '_ {
    d.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))
}

/// Iterates `(type, data)` over an extensions block. Stops at the first
/// malformed entry; [`extensions_valid`] tells whether there was one.
pub fn extensions(block: &[u8]) -> impl Iterator<Item = (u16, &[u8])> + Clone {
    let mut rest = block;
    std::iter::from_fn(move || {
        let t = u16_at(rest, 0)?;
        let (data, r) = vec16(rest.get(2..)?)?;
        rest = r;
        Some((t, data))
    })
}

/// True if the extensions block parses to its end.
pub fn extensions_valid(block: &[u8]) -> bool {
    let mut rest = block;
    while !rest.is_empty() {
        match rest.get(2..).and_then(vec16) {
            Some((_, r)) => rest = r,
            None => return false,
        }
    }
    true
}

/// A ClientHello body (after the 4-byte handshake header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// legacy_version (client_version before TLS 1.3).
    pub legacy_version: u16,
    /// legacy_session_id.
    pub session_id: &'a [u8],
    /// cipher_suites, raw (pairs of bytes).
    pub ciphers: &'a [u8],
    /// The extensions block (empty if absent).
    pub extensions: &'a [u8],
}

/// Parses a ClientHello body.
pub fn client_hello(b: &[u8]) -> Option<ClientHello<'_>> {
    let legacy_version = u16_at(b, 0)?;
    let rest = b.get(34..)?; // version + random
    let (session_id, rest) = vec8(rest)?;
    let (ciphers, rest) = vec16(rest)?;
    let (_compression, rest) = vec8(rest)?;
    let extensions = extensions_block(rest);
    if session_id.len() > 32 || ciphers.len() % 2 != 0 {
        return None;
    }
    Some(ClientHello {
        legacy_version,
        session_id,
        ciphers,
        extensions,
    })
}

impl<'a> ClientHello<'a> {
    /// Cipher suites in order.
    pub fn cipher_suites(&self) -> impl Iterator<Item = u16> + Clone + 'a {
        u16s(self.ciphers)
    }

    /// Data of the first extension of type `t`.
    pub fn extension(&self, t: u16) -> Option<&'a [u8]> {
        extensions(self.extensions)
            .find(|(ty, _)| *ty == t)
            .map(|(_, d)| d)
    }

    /// Highest non-GREASE supported_versions entry, else legacy_version.
    pub fn highest_version(&self) -> u16 {
        self.extension(ext::SUPPORTED_VERSIONS)
            .and_then(|d| vec8(d))
            .and_then(|(v, _)| {
                u16s(v)
                    .filter(|v| !is_grease(*v))
                    .max_by_key(|v| version_rank(*v))
            })
            .unwrap_or(self.legacy_version)
    }

    /// First host_name of the server_name extension.
    pub fn server_name(&self) -> Option<&'a [u8]> {
        let (list, _) = vec16(self.extension(ext::SERVER_NAME)?)?;
        let mut rest = list;
        while let Some((&ty, r)) = rest.split_first() {
            let (name, r) = vec16(r)?;
            if ty == 0 {
                return Some(name);
            }
            rest = r;
        }
        None
    }

    /// First protocol of the ALPN extension.
    pub fn alpn(&self) -> Option<&'a [u8]> {
        first_alpn(self.extension(ext::ALPN)?)
    }

    /// supported_groups entries.
    pub fn groups(&self) -> impl Iterator<Item = u16> + Clone + 'a {
        let d = self
            .extension(ext::SUPPORTED_GROUPS)
            .and_then(vec16)
            .map_or(&[][..], |(v, _)| v);
        u16s(d)
    }

    /// ec_point_formats entries.
    pub fn point_formats(&self) -> &'a [u8] {
        self.extension(ext::EC_POINT_FORMATS)
            .and_then(vec8)
            .map_or(&[][..], |(v, _)| v)
    }

    /// signature_algorithms entries, in order.
    pub fn signature_algorithms(&self) -> impl Iterator<Item = u16> + Clone + 'a {
        let d = self
            .extension(ext::SIGNATURE_ALGORITHMS)
            .and_then(vec16)
            .map_or(&[][..], |(v, _)| v);
        u16s(d)
    }
}

/// Orders versions so that TLS 1.3 drafts (`0x7fNN`, Facebook's `0xfbNN`)
/// rank just below 1.3 and
/// DTLS (counting down from `0xfeff`) ranks by its TLS equivalent.
fn version_rank(v: u16) -> u32 {
    match v {
        0x7f00..=0x7fff | 0xfb00..=0xfbff => 0x0303_ff00 + u32::from(v & 0xff),
        0xfeff => 0x0302_0000,
        0xfefd => 0x0303_0000,
        0xfefc => 0x0304_0000,
        _ => u32::from(v) << 16,
    }
}

fn first_alpn(d: &[u8]) -> Option<&[u8]> {
    let (list, _) = vec16(d)?;
    Some(vec8(list)?.0)
}

/// A ServerHello (or HelloRetryRequest) body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// legacy_version (the negotiated version before TLS 1.3).
    pub legacy_version: u16,
    /// random (32 bytes).
    pub random: &'a [u8],
    /// legacy_session_id_echo (empty in TLS 1.3 drafts before 22).
    pub session_id: &'a [u8],
    /// cipher_suite.
    pub cipher: u16,
    /// The extensions block (empty if absent).
    pub extensions: &'a [u8],
}

/// Parses a ServerHello body.
pub fn server_hello(b: &[u8]) -> Option<ServerHello<'_>> {
    let legacy_version = u16_at(b, 0)?;
    let random = b.get(2..34)?;
    let rest = &b[34..];
    // TLS 1.3 drafts up to 21: version, random, cipher_suite, extensions.
    let draft = || {
        let cipher = u16_at(rest, 0)?;
        let extensions = vec16(rest.get(2..)?)?.0;
        Some(ServerHello {
            legacy_version,
            random,
            session_id: &[],
            cipher,
            extensions,
        })
    };
    if (0x7f00..0x7f16).contains(&legacy_version) {
        return draft();
    }
    let standard = || {
        let (session_id, rest) = vec8(rest)?;
        let cipher = u16_at(rest, 0)?;
        let rest = rest.get(3..)?; // cipher + compression
        if session_id.len() > 32 {
            return None;
        }
        let extensions = extensions_block(rest);
        Some(ServerHello {
            legacy_version,
            random,
            session_id,
            cipher,
            extensions,
        })
    };
    // Some pre-standard TLS 1.3 servers used the draft layout with 0x0304.
    standard().or_else(|| {
        if legacy_version == 0x0304 {
            draft()
        } else {
            None
        }
    })
}

/// The extensions block after a hello's fixed fields: absent (or a stray
/// byte) means none; a block longer than what is left is taken as far as it
/// goes ([`extensions_valid`] then reports it).
fn extensions_block(rest: &[u8]) -> &[u8] {
    match rest.len() {
        0 | 1 => &[],
        _ => vec16(rest).map_or(&rest[2..], |(e, _)| e),
    }
}

impl<'a> ServerHello<'a> {
    /// Data of the first extension of type `t`.
    pub fn extension(&self, t: u16) -> Option<&'a [u8]> {
        extensions(self.extensions)
            .find(|(ty, _)| *ty == t)
            .map(|(_, d)| d)
    }

    /// The negotiated version: supported_versions (TLS 1.3) or legacy_version.
    pub fn version(&self) -> u16 {
        self.extension(ext::SUPPORTED_VERSIONS)
            .and_then(|d| u16_at(d, 0))
            .unwrap_or(self.legacy_version)
    }

    /// True for a HelloRetryRequest.
    pub fn is_hrr(&self) -> bool {
        self.random == HRR_RANDOM
    }

    /// The key_share group chosen by the server (extension 51, or 40 as in
    /// TLS 1.3 drafts before 23).
    pub fn key_share_group(&self) -> Option<u16> {
        u16_at(
            self.extension(ext::KEY_SHARE)
                .or_else(|| self.extension(ext::KEY_SHARE_DRAFT))?,
            0,
        )
    }

    /// The ALPN protocol chosen by the server (TLS 1.2 and earlier).
    pub fn alpn(&self) -> Option<&'a [u8]> {
        first_alpn(self.extension(ext::ALPN)?)
    }
}

/// SSL 2.0 CLIENT-HELLO: the version it offers, if `record` is one
/// (two-byte header with the high bit set, message type 1).
pub fn sslv2_client_hello_version(record: &[u8]) -> Option<u16> {
    match record {
        [h, _, 1, maj, min, ..] if h & 0x80 != 0 => Some(u16::from_be_bytes([*maj, *min])),
        _ => None,
    }
}

/// An SSL 2.0 SERVER-HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sslv2ServerHello<'a> {
    /// server_version (0x0002).
    pub version: u16,
    /// The server's certificate (DER), may be empty.
    pub certificate: &'a [u8],
    /// The first 3-byte cipher kind.
    pub first_cipher: Option<u32>,
}

/// Parses an SSL 2.0 SERVER-HELLO record (two-byte header, type 4):
/// session-id-hit, certificate type, version, certificate length, cipher
/// specs length, connection id length, then the three fields.
pub fn sslv2_server_hello(record: &[u8]) -> Option<Sslv2ServerHello<'_>> {
    let [h, _, 4, _hit, _ctype, v1, v2, c1, c2, s1, s2, _i1, _i2, rest @ ..] = record else {
        return None;
    };
    if h & 0x80 == 0 {
        return None;
    }
    let cert_len = u16::from_be_bytes([*c1, *c2]) as usize;
    let specs_len = u16::from_be_bytes([*s1, *s2]) as usize;
    let certificate = rest.get(..cert_len)?;
    let specs = rest.get(cert_len..cert_len + specs_len)?;
    let first_cipher = specs
        .get(..3)
        .map(|c| u32::from_be_bytes([0, c[0], c[1], c[2]]));
    Some(Sslv2ServerHello {
        version: u16::from_be_bytes([*v1, *v2]),
        certificate,
        first_cipher,
    })
}

/// The text a fingerprint hashes, built byte by byte without the `fmt`
/// machinery, then hashed in one call. Its length is bounded by the
/// handshake message it comes from ([`crate::MAX_HANDSHAKE`]).
#[derive(Default)]
struct Text(Vec<u8>);

impl Text {
    /// `v` in decimal.
    fn dec(&mut self, v: u16) {
        self.0
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// `v` as four lowercase hex digits.
    fn hex4(&mut self, v: u16) {
        const D: &[u8; 16] = crate::cert::LOWER_HEX;
        let v = v as usize;
        self.0
            .extend_from_slice(&[D[v >> 12], D[(v >> 8) & 15], D[(v >> 4) & 15], D[v & 15]]);
    }

    /// `items` written by `put`, joined by `sep`.
    fn join(&mut self, items: impl Iterator<Item = u16>, sep: u8, put: fn(&mut Text, u16)) {
        for (i, v) in items.enumerate() {
            if i > 0 {
                self.0.push(sep);
            }
            put(self, v);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    crate::cert::hex(bytes, false)
}

/// JA3 of a ClientHello (MD5 hex).
pub fn ja3(ch: &ClientHello<'_>) -> String {
    let mut t = Text::default();
    t.dec(ch.legacy_version);
    t.0.push(b',');
    t.join(
        ch.cipher_suites().filter(|c| !is_grease(*c)),
        b'-',
        Text::dec,
    );
    t.0.push(b',');
    t.join(
        extensions(ch.extensions)
            .map(|(t, _)| t)
            .filter(|t| !is_grease(*t)),
        b'-',
        Text::dec,
    );
    t.0.push(b',');
    t.join(ch.groups().filter(|g| !is_grease(*g)), b'-', Text::dec);
    t.0.push(b',');
    t.join(
        ch.point_formats().iter().map(|&p| u16::from(p)),
        b'-',
        Text::dec,
    );
    hex(&Md5::digest(&t.0))
}

/// JA3S of a ServerHello (MD5 hex).
pub fn ja3s(sh: &ServerHello<'_>) -> String {
    let mut t = Text::default();
    t.dec(sh.legacy_version);
    t.0.push(b',');
    t.dec(sh.cipher);
    t.0.push(b',');
    t.join(
        extensions(sh.extensions)
            .map(|(t, _)| t)
            .filter(|t| !is_grease(*t)),
        b'-',
        Text::dec,
    );
    hex(&Md5::digest(&t.0))
}

/// JA4 (TLS over TCP) of a ClientHello, per the FoxIO specification:
/// - `a`: `t`, the two-character version (highest supported_versions entry,
///   else legacy_version: `13`, `12`, `11`, `10`, `s3`, `s2`, `d1`..`d3`,
///   `00`), `d` if a server_name extension is present else `i`, the number
///   of cipher suites and of extensions (GREASE excluded, two digits, at most
///   99), and the first and last characters of the first ALPN value (`00`
///   without ALPN; the first and last hex digits of the value if either end
///   is not ASCII alphanumeric);
/// - `b`: the first 12 hex characters of the SHA-256 of the cipher suites as
///   4-digit hex, sorted, comma-joined (`000000000000` if none);
/// - `c`: the same of the extension types, sorted, without GREASE, SNI (0)
///   and ALPN (16), then `_` and the signature algorithms in their original
///   order (no `_` when there are none; `000000000000` without extensions).
pub fn ja4(ch: &ClientHello<'_>) -> String {
    const HEX: &[u8; 16] = crate::cert::LOWER_HEX;
    let version = match ch.highest_version() {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    };
    let exts = extensions(ch.extensions)
        .map(|(t, _)| t)
        .filter(|t| !is_grease(*t));
    let sni = if exts.clone().any(|t| t == ext::SERVER_NAME) {
        'd'
    } else {
        'i'
    };
    let mut ciphers: Vec<u16> = ch.cipher_suites().filter(|c| !is_grease(*c)).collect();
    let n_ext = exts.clone().count();
    let mut out = String::with_capacity(36);
    out.push('t');
    out.push_str(version);
    out.push(sni);
    for n in [ciphers.len().min(99), n_ext.min(99)] {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    }
    match ch.alpn().filter(|a| !a.is_empty()) {
        None => out.push_str("00"),
        Some(a) => {
            let (first, last) = (a[0], a[a.len() - 1]);
            if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
                out.push(first as char);
                out.push(last as char);
            } else {
                // First hex digit of the value and last hex digit of the value.
                out.push(char::from(HEX[usize::from(first >> 4)]));
                out.push(char::from(HEX[usize::from(last & 15)]));
            }
        }
    }
    // The first 12 hex digits of the SHA-256 of `t`.
    let digest12 = |out: &mut String, t: &Text| {
        let d = Sha256::digest(&t.0);
        out.push_str(&hex(&d[..6]));
    };

    out.push('_');
    ciphers.sort_unstable();
    if ciphers.is_empty() {
        out.push_str("000000000000");
    } else {
        let mut t = Text::default();
        t.join(ciphers.iter().copied(), b',', Text::hex4);
        digest12(&mut out, &t);
    }

    out.push('_');
    let mut sorted: Vec<u16> = exts
        .filter(|t| *t != ext::SERVER_NAME && *t != ext::ALPN)
        .collect();
    sorted.sort_unstable();
    if n_ext == 0 {
        out.push_str("000000000000");
    } else {
        let mut t = Text::default();
        t.join(sorted.iter().copied(), b',', Text::hex4);
        let mut sigs = ch
            .signature_algorithms()
            .filter(|s| !is_grease(*s))
            .peekable();
        if sigs.peek().is_some() {
            t.0.push(b'_');
            t.join(sigs, b',', Text::hex4);
        }
        digest12(&mut out, &t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a ClientHello body with the given parts.
    pub(crate) fn client_hello_body(
        version: u16,
        ciphers: &[u16],
        exts: &[(u16, Vec<u8>)],
    ) -> Vec<u8> {
        let mut b = version.to_be_bytes().to_vec();
        b.extend_from_slice(&[0x42; 32]); // random
        b.push(0); // session id
        b.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
        for c in ciphers {
            b.extend_from_slice(&c.to_be_bytes());
        }
        b.extend_from_slice(&[1, 0]); // compression: null
        let mut e = Vec::new();
        for (t, d) in exts {
            e.extend_from_slice(&t.to_be_bytes());
            e.extend_from_slice(&(d.len() as u16).to_be_bytes());
            e.extend_from_slice(d);
        }
        b.extend_from_slice(&(e.len() as u16).to_be_bytes());
        b.extend_from_slice(&e);
        b
    }

    fn list16(items: &[u16]) -> Vec<u8> {
        let mut v = ((items.len() * 2) as u16).to_be_bytes().to_vec();
        for i in items {
            v.extend_from_slice(&i.to_be_bytes());
        }
        v
    }

    /// The ClientHello of the FoxIO JA4 README example (Chrome):
    /// JA4 `t13d1516h2_8daaf6152771_e5627efa2ab1`.
    fn foxio_example() -> Vec<u8> {
        let ciphers = [
            0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
            0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let sni = {
            let name = b"example.com";
            let mut v = ((name.len() + 3) as u16).to_be_bytes().to_vec();
            v.push(0);
            v.extend_from_slice(&(name.len() as u16).to_be_bytes());
            v.extend_from_slice(name);
            v
        };
        let alpn = vec![
            0, 12, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1', b'.', b'1',
        ];
        let sigs = list16(&[
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ]);
        let exts = vec![
            (0x1a1a, vec![]),
            (0x0000, sni),
            (0x0017, vec![]),
            (0xff01, vec![0]),
            (0x000a, list16(&[0x2a2a, 0x001d, 0x0017, 0x0018])),
            (0x000b, vec![1, 0]),
            (0x0023, vec![]),
            (0x0010, alpn),
            (0x0005, vec![1, 0, 0, 0, 0]),
            (0x000d, sigs),
            (0x0012, vec![]),
            (0x0033, vec![0, 0]),
            (0x002d, vec![1, 1]),
            (0x002b, vec![6, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03]),
            (0x001b, vec![2, 0, 2]),
            (0x4469, vec![]),
            (0x0015, vec![]),
            (0x2a2a, vec![0]),
        ];
        client_hello_body(0x0303, &ciphers, &exts)
    }

    #[test]
    fn ja4_matches_the_published_example() {
        let body = foxio_example();
        let ch = client_hello(&body).unwrap();
        assert_eq!(ja4(&ch), "t13d1516h2_8daaf6152771_e5627efa2ab1");
        assert_eq!(ch.server_name(), Some(&b"example.com"[..]));
        assert_eq!(ch.alpn(), Some(&b"h2"[..]));
        assert_eq!(ch.highest_version(), 0x0304);
    }

    #[test]
    fn ja3_string_rules() {
        let body = foxio_example();
        let ch = client_hello(&body).unwrap();
        // GREASE removed from ciphers, extensions and groups; formats kept.
        let s = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,\
                 0-23-65281-10-11-35-16-5-13-18-51-45-43-27-17513-21,29-23-24,0";
        assert_eq!(ja3(&ch), hex(&Md5::digest(s.as_bytes())));
    }

    #[test]
    fn ja4_edge_cases() {
        // No extensions, no ciphers, TLS 1.0.
        let body = client_hello_body(0x0301, &[], &[]);
        let ch = client_hello(&body).unwrap();
        assert_eq!(ja4(&ch), "t10i000000_000000000000_000000000000");
        // Non-alphanumeric ALPN: first and last hex digits.
        let alpn = vec![0, 3, 2, 0xab, 0xcd];
        let body = client_hello_body(0x0303, &[0x002f], &[(0x0010, alpn)]);
        let ch = client_hello(&body).unwrap();
        assert!(ja4(&ch).starts_with("t12i0101ad_"), "{}", ja4(&ch));
    }

    #[test]
    fn server_hellos() {
        // TLS 1.3 ServerHello: supported_versions 0x0304, key_share x25519.
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&[7; 32]);
        b.push(0);
        b.extend_from_slice(&[0x13, 0x01, 0]);
        let exts = [
            0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x00,
        ];
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(&exts);
        let sh = server_hello(&b).unwrap();
        assert_eq!(
            (sh.version(), sh.cipher, sh.key_share_group()),
            (0x0304, 0x1301, Some(29))
        );
        assert!(!sh.is_hrr());
        assert_eq!(ja3s(&sh), hex(&Md5::digest(b"771,4865,43-51")));
        // Draft-16 ServerHello: no session id, no compression.
        let mut d = vec![0x7f, 0x10];
        d.extend_from_slice(&[7; 32]);
        d.extend_from_slice(&[0x13, 0x03, 0, 0]);
        let sh = server_hello(&d).unwrap();
        assert_eq!((sh.version(), sh.cipher), (0x7f10, 0x1303));
        assert!(server_hello(&d[..20]).is_none());
    }

    #[test]
    fn lenient_hellos() {
        // Compression list empty, then a stray byte instead of extensions.
        let mut b = client_hello_body(0x0301, &[0x0004], &[]);
        b.truncate(b.len() - 4);
        b.extend_from_slice(&[0, 0]);
        let ch = client_hello(&b).unwrap();
        assert!(ch.extensions.is_empty());
        // Extensions block announcing more than is there.
        let mut b = client_hello_body(0x0303, &[0x002f], &[(0x0017, vec![])]);
        let n = b.len();
        b[n - 6] = 0x10; // extensions length 0x1004
        let ch = client_hello(&b).unwrap();
        assert_eq!(
            extensions(ch.extensions)
                .map(|(t, _)| t)
                .collect::<Vec<_>>(),
            [0x0017]
        );
        // Pre-standard TLS 1.3 ServerHello: draft layout with version 0x0304.
        let mut d = vec![0x03, 0x04];
        d.extend_from_slice(&[7; 32]);
        d.extend_from_slice(&[0x13, 0x01, 0, 4, 0, 0x2b, 0, 0]);
        let sh = server_hello(&d).unwrap();
        assert_eq!((sh.cipher, sh.session_id.len()), (0x1301, 0));
    }

    #[test]
    fn grease() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa));
        assert!(!is_grease(0x0a1a) && !is_grease(0x1301));
    }
}
