//! Leaf certificate facts from a TLS Certificate message (TLS 1.2 and earlier).
//!
//! References: RFC 5246 §7.4.2 (Certificate message: a `uint24` list of
//! `uint24`-prefixed DER certificates, leaf first), RFC 5280 (X.509), and
//! RFC 4514 / OpenSSL `XN_FLAG_RFC2253` for the distinguished-name strings
//! Zeek logs (`CN=host,O=Org,C=US`: last RDN first, `,` between RDNs, `+`
//! inside one, special characters and non-ASCII bytes escaped).
//! Certificates are decoded with x509-parser.

use crate::names;
use sha2::{Digest, Sha256};
use x509_parser::asn1_rs::Tag;
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// Longest distinguished-name string kept.
pub const MAX_DN: usize = 512;
/// Most SAN DNS names kept.
pub const MAX_SAN: usize = 16;

/// What is kept of the leaf certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leaf {
    /// Subject, RFC 4514 style.
    pub subject: String,
    /// Issuer, RFC 4514 style.
    pub issuer: String,
    /// notBefore, seconds since the epoch.
    pub not_before: i64,
    /// notAfter, seconds since the epoch.
    pub not_after: i64,
    /// Public key size in bits (curve size for EC keys), if known.
    pub key_bits: Option<u32>,
    /// Key type as Zeek logs it (`rsa`, `ecdsa`, `dsa`, ...).
    pub key_type: String,
    /// Signature algorithm (OpenSSL long name).
    pub sig_alg: String,
    /// SHA-256 of the DER certificate, lowercase hex (Zeek's fingerprint).
    pub fingerprint: String,
    /// Serial number, uppercase hex as Zeek logs it.
    pub serial: String,
    /// DNS names of the subjectAltName extension (at most [`MAX_SAN`]).
    pub san_dns: Vec<String>,
}

/// The first (leaf) DER certificate of a Certificate message body.
pub fn first_certificate(body: &[u8]) -> Option<&[u8]> {
    let u24 = |d: &[u8]| {
        Some(((*d.first()? as usize) << 16) | ((*d.get(1)? as usize) << 8) | *d.get(2)? as usize)
    };
    let list_len = u24(body)?;
    let list = body.get(3..3 + list_len)?;
    let len = u24(list)?;
    list.get(3..3 + len)
}

/// Decodes the leaf certificate.
pub fn leaf(der: &[u8]) -> Option<Leaf> {
    // The same certificates come back on every connection to a server:
    // parse each once per worker thread (bounded cache keyed by its SHA-256).
    let digest: [u8; 32] = Sha256::digest(der).into();
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&digest).cloned()) {
        return hit;
    }
    let parsed = parse_leaf(der, &digest);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(digest, parsed.clone());
    });
    parsed
}

/// Certificates remembered per thread (each entry is a few hundred bytes).
const CACHE_ENTRIES: usize = 1024;

thread_local! {
    static CACHE: std::cell::RefCell<std::collections::HashMap<[u8; 32], Option<Leaf>>> = Default::default();
}

/// Lowercase hex digits by value.
pub(crate) const LOWER_HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase (or uppercase) hex of `bytes`, without per-byte formatting.
pub(crate) fn hex(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        LOWER_HEX
    };
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(digits[(b >> 4) as usize] as char);
        s.push(digits[(b & 15) as usize] as char);
    }
    s
}

fn parse_leaf(der: &[u8], digest: &[u8; 32]) -> Option<Leaf> {
    let (_, cert) = parse_x509_certificate(der).ok()?;
    let spki = cert.public_key();
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let key_bits = match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => Some(bits(rsa.modulus)),
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            curve
                .as_deref()
                .and_then(names::curve_bits)
                .or_else(|| u32::try_from(point.key_size()).ok().filter(|b| *b > 0))
        }
        Ok(PublicKey::DSA(y)) => Some(bits(y)),
        _ => u32::try_from(spki.subject_public_key.data.len().saturating_mul(8))
            .ok()
            .filter(|b| *b > 0),
    };
    let san_dns = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|g| match g {
                GeneralName::DNSName(n) => Some(model::text::field(n.as_bytes())),
                _ => None,
            })
            .take(MAX_SAN)
            .collect(),
        _ => Vec::new(),
    };
    Some(Leaf {
        subject: dn(cert.subject()),
        issuer: dn(cert.issuer()),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        key_bits,
        key_type: names::key_type(&key_oid),
        sig_alg: names::algorithm(&cert.signature_algorithm.algorithm.to_id_string()),
        fingerprint: hex(digest, false),
        serial: serial(cert.raw_serial()),
        san_dns,
    })
}

/// Serial number as Zeek prints it: uppercase hex without the sign byte.
fn serial(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    hex(&raw[start..], true)
}

/// Bit length of a big-endian unsigned integer (leading zeros ignored).
fn bits(n: &[u8]) -> u32 {
    let n = &n[n.iter().position(|&b| b != 0).unwrap_or(n.len())..];
    match n.first() {
        None => 0,
        Some(&first) => (n.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

/// A distinguished name as OpenSSL's `XN_FLAG_RFC2253` prints it.
pub fn dn(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for (i, rdn) in name.iter().collect::<Vec<_>>().iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = attr.attr_type().to_id_string();
            out.push_str(names::attribute(&oid).unwrap_or(&oid));
            out.push('=');
            value(attr, &mut out);
            if out.len() > MAX_DN {
                break;
            }
        }
        if out.len() > MAX_DN {
            break;
        }
    }
    model::text::bounded(out.as_bytes(), MAX_DN)
}

/// Appends an attribute value: strings decoded to UTF-8 and escaped, other
/// types as `#` and the hex of their content.
fn value(attr: &AttributeTypeAndValue<'_>, out: &mut String) {
    let any = attr.attr_value();
    let data = any.data;
    let text: Option<String> = match any.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => Some(String::from_utf8_lossy(data).into_owned()),
        Tag::TeletexString => Some(data.iter().map(|&b| b as char).collect()),
        Tag::BmpString => Some(
            char::decode_utf16(
                data.chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]])),
            )
            .map(|c| c.unwrap_or('\u{fffd}'))
            .collect(),
        ),
        Tag::UniversalString => Some(
            data.chunks_exact(4)
                .map(|c| {
                    char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                        .unwrap_or('\u{fffd}')
                })
                .collect(),
        ),
        _ => None,
    };
    let Some(text) = text else {
        out.push('#');
        for b in data.iter().take(MAX_DN) {
            out.push_str(&format!("{b:02X}"));
        }
        return;
    };
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let special = matches!(b, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';')
            || (i == 0 && (b == b'#' || b == b' '))
            || (i + 1 == bytes.len() && b == b' ');
        if special {
            out.push('\\');
            out.push(b as char);
        } else if !(0x20..0x7f).contains(&b) {
            out.push_str(&format!("\\{b:02X}"));
        } else {
            out.push(b as char);
        }
        if out.len() > MAX_DN {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bits(&[0x00, 0x80, 0, 0]), 24);
        assert_eq!(bits(&[0x01]), 1);
        assert_eq!(bits(&[]), 0);
        assert_eq!(bits(&[0; 3]), 0);
    }

    #[test]
    fn serials() {
        assert_eq!(serial(&[0x00, 0x99, 0xfa]), "99FA");
        assert_eq!(serial(&[0x0b, 0x67, 0x71]), "0B6771");
        assert_eq!(serial(&[0x00]), "00");
        assert_eq!(serial(&[]), "");
    }

    #[test]
    fn certificate_list() {
        // list length 7: one certificate of length 4.
        let body = [0, 0, 7, 0, 0, 4, 1, 2, 3, 4];
        assert_eq!(first_certificate(&body), Some(&[1, 2, 3, 4][..]));
        assert_eq!(first_certificate(&body[..8]), None);
        assert!(leaf(&[0x30, 0x03, 1, 2, 3]).is_none());
    }
}
