//! Minimal ASN.1 BER/DER encoder (ITU-T X.690): definite lengths, INTEGER,
//! OCTET STRING, NULL, OBJECT IDENTIFIER and constructed values. Used for
//! SNMP (RFC 3416) and SPNEGO (RFC 4178) blobs.

/// Appends a definite-form length (short form below 128, long form above).
pub fn push_len(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Tag, length, value.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 4);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// A constructed value whose content is the concatenation of `parts`.
pub fn constructed(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// SEQUENCE of `parts`.
pub fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    constructed(0x30, parts)
}

/// INTEGER in minimal two's complement form.
pub fn integer(v: i64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let mut start = 0;
    while start < 7 {
        let redundant = (b[start] == 0x00 && b[start + 1] & 0x80 == 0)
            || (b[start] == 0xff && b[start + 1] & 0x80 != 0);
        if !redundant {
            break;
        }
        start += 1;
    }
    tlv(0x02, &b[start..])
}

/// OCTET STRING.
pub fn octet_string(s: &[u8]) -> Vec<u8> {
    tlv(0x04, s)
}

/// NULL.
pub fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

/// OBJECT IDENTIFIER from its arcs (at least two).
pub fn oid(arcs: &[u32]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut push_arc = |mut v: u32| {
        let mut tmp = [0u8; 5];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        for (k, byte) in tmp[i..].iter().enumerate() {
            let more = i + k + 1 < tmp.len();
            body.push(if more { byte | 0x80 } else { *byte });
        }
    };
    push_arc(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push_arc(a);
    }
    tlv(0x06, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(integer(0), [2, 1, 0]);
        assert_eq!(integer(128), [2, 2, 0, 128]);
        assert_eq!(integer(-1), [2, 1, 0xff]);
        assert_eq!(
            oid(&[1, 3, 6, 1, 2, 1, 1, 1, 0]),
            [6, 8, 0x2b, 6, 1, 2, 1, 1, 1, 0]
        );
        assert_eq!(
            oid(&[1, 3, 6, 1, 4, 1, 311, 2, 2, 10]),
            [6, 10, 0x2b, 6, 1, 4, 1, 0x82, 0x37, 2, 2, 10]
        );
        assert_eq!(tlv(4, &[0; 200])[..3], [4, 0x81, 200]);
    }
}
