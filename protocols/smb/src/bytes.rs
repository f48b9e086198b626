//! Bounds-checked little-endian readers and string decoders shared by the SMB
//! parsers. Every reader returns `None` instead of panicking when the input is
//! too short; offsets use checked arithmetic.

/// Sub-slice `b[off..off + len]`, or `None` when out of bounds or overflowing.
pub fn slice(b: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(len)?)
}

/// Byte at `off`.
pub fn u8_at(b: &[u8], off: usize) -> Option<u8> {
    b.get(off).copied()
}

/// Little-endian u16 at `off`.
pub fn u16_le(b: &[u8], off: usize) -> Option<u16> {
    let s = slice(b, off, 2)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

/// Little-endian u32 at `off`.
pub fn u32_le(b: &[u8], off: usize) -> Option<u32> {
    let s = slice(b, off, 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Decodes UTF-16LE into a bounded printable string (`None` when empty).
/// Unpaired surrogates become U+FFFD; at most [`model::text::MAX_FIELD`]
/// characters are decoded.
pub fn utf16_field(raw: &[u8]) -> Option<String> {
    let max = model::text::MAX_FIELD;
    let units = raw
        .chunks_exact(2)
        .take(max)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    let mut s = String::with_capacity(raw.len().min(2 * max) / 2);
    for c in char::decode_utf16(units) {
        s.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    model::text::non_empty(s.as_bytes())
}

/// Decodes a string that is UTF-16LE when `unicode`, else 8-bit text.
pub fn str_field(raw: &[u8], unicode: bool) -> Option<String> {
    if unicode {
        utf16_field(raw)
    } else {
        model::text::non_empty(raw)
    }
}

/// Reads one NUL-terminated SMB1 string starting at `pos` within `msg[..end]`.
///
/// Unicode strings are aligned to an even offset from the start of the SMB
/// header (`msg[0]`) and end with a 16-bit NUL; others end with one NUL byte.
/// A missing terminator takes the rest of the range. Returns the raw string
/// bytes (without terminator) and the position after the terminator.
pub fn smb_string(msg: &[u8], pos: usize, end: usize, unicode: bool) -> Option<(&[u8], usize)> {
    let end = end.min(msg.len());
    let mut pos = pos;
    if unicode && pos % 2 == 1 {
        pos = pos.checked_add(1)?;
    }
    let rest = msg.get(pos..end)?;
    if unicode {
        let mut i = 0;
        while i + 1 < rest.len() {
            if rest[i] == 0 && rest[i + 1] == 0 {
                return Some((&rest[..i], pos + i + 2));
            }
            i += 2;
        }
        Some((rest, end))
    } else {
        match rest.iter().position(|&b| b == 0) {
            Some(i) => Some((&rest[..i], pos + i + 1)),
            None => Some((rest, end)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_are_bounds_checked() {
        assert_eq!(u16_le(&[1, 2], 0), Some(0x0201));
        assert_eq!(u16_le(&[1, 2], 1), None);
        assert_eq!(u32_le(&[1, 2, 3], 0), None);
        assert_eq!(slice(&[1, 2, 3], usize::MAX, 2), None);
    }

    #[test]
    fn utf16_decoding() {
        assert_eq!(utf16_field(b"W\0i\0n\0"), Some("Win".to_string()));
        assert_eq!(utf16_field(b"\0\xd8A\0"), Some("\u{fffd}A".to_string()));
        assert_eq!(utf16_field(b""), None);
    }

    #[test]
    fn smb_strings() {
        // offset 1 is odd: unicode string is padded to offset 2.
        let msg = b"x\0A\0B\0\0\0C\0";
        let (s, next) = smb_string(msg, 1, msg.len(), true).unwrap();
        assert_eq!(s, b"A\0B\0");
        assert_eq!(next, 8);
        let (s, next) = smb_string(msg, next, msg.len(), true).unwrap();
        assert_eq!(s, b"C\0");
        assert_eq!(next, msg.len());
        let (s, next) = smb_string(b"ab\0cd", 0, 5, false).unwrap();
        assert_eq!((s, next), (&b"ab"[..], 3));
        assert!(smb_string(b"ab", 5, 2, false).is_none());
    }
}
