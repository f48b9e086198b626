//! TOTP second factor (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1, 6 digits,
//! 30-second steps) and the `otpauth://` provisioning URI authenticator apps
//! read. Own implementation (about 80 lines) tested against the RFC vectors.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// Seconds per time step.
pub const STEP: u64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// RFC 4648 base32 (case-insensitive, padding and spaces ignored); `None`
/// on any other character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let v = ALPHABET
            .iter()
            .position(|a| *a as char == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Some(out)
}

/// HOTP value (RFC 4226 §5.3) with `digits` digits.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0xf) as usize;
    let bin = (u32::from(h[off] & 0x7f) << 24)
        | (u32::from(h[off + 1]) << 16)
        | (u32::from(h[off + 2]) << 8)
        | u32::from(h[off + 3]);
    bin % 10u32.pow(digits)
}

/// The 6-digit code for Unix time `now`.
pub fn code(secret_b32: &str, now: u64) -> Option<String> {
    let key = base32_decode(secret_b32)?;
    Some(format!("{:06}", hotp(&key, now / STEP, DIGITS)))
}

/// Checks `code` against the steps around `now` (±1 step for clock drift);
/// returns the matching step, which the caller records to refuse replays.
pub fn verify(secret_b32: &str, code: &str, now: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = base32_decode(secret_b32)?;
    let step = now / STEP;
    let mut found = None;
    // Compare every candidate (no early exit on the first match).
    for s in [step.saturating_sub(1), step, step + 1] {
        let c = format!("{:06}", hotp(&key, s, DIGITS));
        if constant_time_eq(c.as_bytes(), code.as_bytes()) {
            found = Some(s);
        }
    }
    found
}

/// A fresh 160-bit secret, base32.
pub fn new_secret() -> Result<String, crate::Error> {
    Ok(base32_encode(&crate::auth::random_bytes::<20>()?))
}

/// The `otpauth://totp/...` URI for authenticator apps.
pub fn provisioning_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// Equality without data-dependent early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4226_hotp_vectors() {
        let key = b"12345678901234567890";
        let want = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(hotp(key, i as u64, 6), *w);
        }
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        let key = b"12345678901234567890";
        for (t, want) in [
            (59u64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(key, t / STEP, 8), want, "t={t}");
        }
        let b32 = base32_encode(key);
        assert_eq!(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(code(&b32, 59).unwrap(), "287082");
        assert_eq!(verify(&b32, "287082", 59 + 30), Some(1));
        assert_eq!(verify(&b32, "287082", 59 + 90), None);
        assert_eq!(verify(&b32, "28708", 59), None);
    }

    #[test]
    fn base32_round_trip() {
        for n in 0..25 {
            let v: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base32_decode(&base32_encode(&v)).unwrap(), v);
        }
        assert!(base32_decode("ab1").is_none());
    }

    #[test]
    fn uri_escapes_account() {
        let u = provisioning_uri("Ward", "a b&c", "ABC");
        assert_eq!(u, "otpauth://totp/Ward:a%20b%26c?secret=ABC&issuer=Ward&algorithm=SHA1&digits=6&period=30");
    }
}
