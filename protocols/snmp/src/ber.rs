//! A minimal, zero-copy BER (X.690) reader for the subset SNMP uses:
//! single-byte tags, definite short and long lengths (up to 4 length bytes),
//! INTEGER, OCTET STRING, OBJECT IDENTIFIER and constructed SEQUENCE/PDU
//! values. Lengths are checked against the buffer and never trusted beyond
//! it; indefinite lengths and multi-byte tags are rejected (SNMP never uses
//! them, RFC 3417 §8).

/// One TLV: tag byte and the value bytes (borrowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet.
    pub tag: u8,
    /// The contents.
    pub value: &'a [u8],
}

/// Why a BER element could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The buffer ended before the element did.
    Truncated,
    /// Indefinite length, multi-byte tag or over-long length field.
    Unsupported,
}

/// Reads the header of one TLV: (tag, value length, header length).
/// Does not check that the value fits; see [`read`].
pub fn header(data: &[u8]) -> Result<(u8, usize, usize), Error> {
    let (&tag, rest) = data.split_first().ok_or(Error::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(Error::Unsupported);
    }
    let (&first, rest) = rest.split_first().ok_or(Error::Truncated)?;
    if first < 0x80 {
        return Ok((tag, first as usize, 2));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 {
        return Err(Error::Unsupported);
    }
    let bytes = rest.get(..n).ok_or(Error::Truncated)?;
    let len = bytes.iter().fold(0usize, |acc, &b| acc << 8 | b as usize);
    Ok((tag, len, 2 + n))
}

/// Reads one TLV from the front of `data`; returns it and the remaining bytes.
pub fn read(data: &[u8]) -> Result<(Tlv<'_>, &[u8]), Error> {
    let (tag, len, hl) = header(data)?;
    let end = hl.checked_add(len).ok_or(Error::Truncated)?;
    let value = data.get(hl..end).ok_or(Error::Truncated)?;
    Ok((Tlv { tag, value }, &data[end..]))
}

/// Reads one TLV and checks its tag.
pub fn expect(data: &[u8], tag: u8) -> Result<(&[u8], &[u8]), Error> {
    let (t, rest) = read(data)?;
    if t.tag != tag {
        return Err(Error::Unsupported);
    }
    Ok((t.value, rest))
}

/// Decodes a signed INTEGER that fits in i64.
pub fn integer(value: &[u8]) -> Option<i64> {
    if value.is_empty() || value.len() > 8 {
        return None;
    }
    let init: i64 = if value[0] & 0x80 != 0 { -1 } else { 0 };
    Some(value.iter().fold(init, |acc, &b| acc << 8 | b as i64))
}

/// Largest number of OID arcs rendered.
const MAX_ARCS: usize = 128;

/// Renders an OBJECT IDENTIFIER as dotted decimal. Returns `None` when a
/// sub-identifier is longer than 9 bytes, is truncated, or the OID is empty.
pub fn oid(value: &[u8]) -> Option<String> {
    check_oid(value).ok()?;
    let mut s = String::with_capacity(value.len() * 3);
    let mut acc: u64 = 0;
    let mut first = true;
    let mut arcs = 0;
    let mut in_arc = false;
    for &b in value {
        acc = acc << 7 | (b & 0x7f) as u64;
        in_arc = true;
        if b & 0x80 != 0 {
            continue;
        }
        in_arc = false;
        arcs += 1;
        if arcs > MAX_ARCS {
            return None;
        }
        if first {
            let (x, y) = match acc {
                0..=39 => (0, acc),
                40..=79 => (1, acc - 40),
                _ => (2, acc - 80),
            };
            s.push_str(&format!("{x}.{y}"));
            first = false;
        } else {
            s.push_str(&format!(".{acc}"));
        }
        acc = 0;
    }
    if in_arc || first {
        return None;
    }
    Some(s)
}

/// Longest sub-identifier accepted, in bytes (9 × 7 = 63 bits fit in u64).
const MAX_SUBID_BYTES: usize = 9;

/// Checks an encoded OID without rendering it: `Err` with a stable weird name
/// when a sub-identifier is longer than 9 bytes (Zeek's
/// `asn_oid_subidentifier_too_long`) or the last one is truncated.
pub fn check_oid(value: &[u8]) -> Result<(), &'static str> {
    let mut n = 0usize;
    for &b in value {
        n += 1;
        if n > MAX_SUBID_BYTES {
            return Err("asn_oid_subidentifier_too_long");
        }
        if b & 0x80 == 0 {
            n = 0;
        }
    }
    if n != 0 {
        Err("asn_oid_truncated")
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(header(&[0x30, 0x03]), Ok((0x30, 3, 2)));
        assert_eq!(header(&[0x30, 0x82, 0x01, 0x00]), Ok((0x30, 256, 4)));
        assert_eq!(header(&[0x30, 0x80]), Err(Error::Unsupported));
        assert_eq!(
            header(&[0x30, 0x85, 1, 1, 1, 1, 1]),
            Err(Error::Unsupported)
        );
        assert_eq!(header(&[0x1f, 0x01]), Err(Error::Unsupported));
        assert_eq!(header(&[0x30]), Err(Error::Truncated));
        assert_eq!(header(&[0x30, 0x82, 0x01]), Err(Error::Truncated));
        // A length beyond the buffer is never trusted.
        assert_eq!(
            read(&[0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0x41]),
            Err(Error::Truncated)
        );
        assert_eq!(read(&[0x04, 0x02, 0x41]), Err(Error::Truncated));
        let (t, rest) = read(&[0x04, 0x01, 0x41, 0x05]).unwrap();
        assert_eq!((t.tag, t.value, rest), (0x04, &b"A"[..], &[0x05][..]));
    }

    #[test]
    fn integers() {
        assert_eq!(integer(&[0x01]), Some(1));
        assert_eq!(integer(&[0xff]), Some(-1));
        assert_eq!(integer(&[0x00, 0x80]), Some(128));
        assert_eq!(integer(&[]), None);
        assert_eq!(integer(&[1; 9]), None);
    }

    #[test]
    fn oids() {
        // 1.3.6.1.2.1.1.2.0
        assert_eq!(
            oid(&[0x2b, 6, 1, 2, 1, 1, 2, 0]).as_deref(),
            Some("1.3.6.1.2.1.1.2.0")
        );
        // 1.3.6.1.4.1.2001.1 (2001 = 0x0f 0x51)
        assert_eq!(
            oid(&[0x2b, 6, 1, 4, 1, 0x8f, 0x51, 1]).as_deref(),
            Some("1.3.6.1.4.1.2001.1")
        );
        assert_eq!(oid(&[0x88, 0x37]).as_deref(), Some("2.999"));
        assert_eq!(oid(&[0x2b, 0x86]), None); // truncated arc
        assert_eq!(
            oid(&[0x2b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            None
        ); // > 64 bits
        assert_eq!(oid(&[]), None);
        assert_eq!(check_oid(&[0x2b, 6, 1]), Ok(()));
        assert_eq!(check_oid(&[0x2b, 0x86]), Err("asn_oid_truncated"));
        assert_eq!(
            check_oid(&[0x2b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            Err("asn_oid_subidentifier_too_long")
        );
        assert_eq!(
            check_oid(&[0x2b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
            Err("asn_oid_subidentifier_too_long")
        );
        assert_eq!(
            oid(&[0x2b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).as_deref(),
            Some("1.3.9223372036854775807")
        );
    }
}
