//! NTLMSSP messages carried in SMB SESSION_SETUP security blobs.
//!
//! Spec: [MS-NLMP] §2.2.1.2 (CHALLENGE_MESSAGE), §2.2.1.3 (AUTHENTICATE_MESSAGE),
//! §2.2.2.1 (AV_PAIR), §2.2.2.10 (VERSION). The blob is usually SPNEGO (ASN.1)
//! wrapping NTLMSSP; instead of decoding SPNEGO we search for the `NTLMSSP\0`
//! signature, which is how raw NTLMSSP blobs start too. All offsets inside an
//! NTLM message are relative to the signature. Challenge responses (hashes)
//! are never looked at.

use crate::bytes::{slice, u16_le, u32_le, u8_at};

/// `NTLMSSP\0`.
pub const SIGNATURE: &[u8] = b"NTLMSSP\0";
/// NTLMSSP_NEGOTIATE_UNICODE.
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
/// NTLMSSP_NEGOTIATE_VERSION.
const NEGOTIATE_VERSION: u32 = 0x0200_0000;

/// A decoded NTLM message (borrowed from the blob).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ntlm<'a> {
    /// Type 2, server to client.
    Challenge(Challenge<'a>),
    /// Type 3, client to server.
    Authenticate(Authenticate<'a>),
}

/// The parts of a CHALLENGE_MESSAGE we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// Raw TargetInfo AV_PAIR list.
    pub target_info: &'a [u8],
    /// Server OS version (major, minor, build) when present.
    pub version: Option<(u8, u8, u16)>,
}

/// The identity fields of an AUTHENTICATE_MESSAGE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticate<'a> {
    /// Strings are UTF-16LE (NEGOTIATE_UNICODE), else OEM 8-bit.
    pub unicode: bool,
    /// DomainName.
    pub domain: &'a [u8],
    /// UserName.
    pub user: &'a [u8],
    /// Workstation.
    pub workstation: &'a [u8],
}

/// AV_PAIR ids we extract.
pub mod av {
    /// MsvAvNbComputerName.
    pub const NB_COMPUTER: u16 = 1;
    /// MsvAvNbDomainName.
    pub const NB_DOMAIN: u16 = 2;
    /// MsvAvDnsComputerName.
    pub const DNS_COMPUTER: u16 = 3;
    /// MsvAvDnsDomainName.
    pub const DNS_DOMAIN: u16 = 4;
    /// MsvAvDnsTreeName.
    pub const DNS_TREE: u16 = 5;
}

/// Finds the first NTLMSSP message inside a security blob.
pub fn find(blob: &[u8]) -> Option<&[u8]> {
    let at = memchr::memmem::find(blob, SIGNATURE)?;
    blob.get(at..)
}

/// Reads an 8-byte `{Len u16, MaxLen u16, Offset u32}` field descriptor at `at`
/// and returns the payload it points to (empty when out of bounds).
fn payload(msg: &[u8], at: usize) -> Option<&[u8]> {
    let len = u16_le(msg, at)? as usize;
    let off = u32_le(msg, at + 4)? as usize;
    if len == 0 {
        return Some(&[]);
    }
    slice(msg, off, len)
}

/// Parses a CHALLENGE or AUTHENTICATE message starting at the signature.
/// Other types and malformed messages give `None`.
pub fn parse(msg: &[u8]) -> Option<Ntlm<'_>> {
    if !msg.starts_with(SIGNATURE) {
        return None;
    }
    match u32_le(msg, 8)? {
        2 => {
            let flags = u32_le(msg, 20)?;
            // TargetInfoFields at 40 exist when the header is long enough.
            let target_info = payload(msg, 40).unwrap_or(&[]);
            let version = if flags & NEGOTIATE_VERSION != 0 {
                match (u8_at(msg, 48), u8_at(msg, 49), u16_le(msg, 50)) {
                    (Some(maj), Some(min), Some(build)) if maj != 0 => Some((maj, min, build)),
                    _ => None,
                }
            } else {
                None
            };
            Some(Ntlm::Challenge(Challenge {
                target_info,
                version,
            }))
        }
        3 => {
            let flags = u32_le(msg, 60)?;
            Some(Ntlm::Authenticate(Authenticate {
                unicode: flags & NEGOTIATE_UNICODE != 0,
                domain: payload(msg, 28)?,
                user: payload(msg, 36)?,
                workstation: payload(msg, 44)?,
            }))
        }
        _ => None,
    }
}

/// Iterates `(AvId, value)` pairs of a TargetInfo list, stopping at
/// MsvAvEOL, at the first truncated pair, or after 64 pairs.
pub fn av_pairs(info: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut pos = 0usize;
    let mut n = 0;
    std::iter::from_fn(move || {
        n += 1;
        if n > 64 {
            return None;
        }
        let id = u16_le(info, pos)?;
        let len = u16_le(info, pos + 2)? as usize;
        if id == 0 {
            return None;
        }
        let value = slice(info, pos + 4, len)?;
        pos = pos + 4 + len;
        Some((id, value))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    /// Builds a CHALLENGE_MESSAGE with the given AV pairs and version 10.0.19041.
    pub(crate) fn challenge(pairs: &[(u16, &str)]) -> Vec<u8> {
        let mut info = Vec::new();
        for (id, v) in pairs {
            let v = utf16(v);
            info.extend_from_slice(&id.to_le_bytes());
            info.extend_from_slice(&(v.len() as u16).to_le_bytes());
            info.extend_from_slice(&v);
        }
        info.extend_from_slice(&[0, 0, 0, 0]); // MsvAvEOL
        let mut m = Vec::new();
        m.extend_from_slice(SIGNATURE);
        m.extend_from_slice(&2u32.to_le_bytes()); // MessageType
        m.extend_from_slice(&[0, 0, 0, 0, 56, 0, 0, 0]); // TargetNameFields (empty)
        m.extend_from_slice(&(0x0281_8205u32).to_le_bytes()); // NegotiateFlags incl. VERSION, UNICODE
        m.extend_from_slice(&[0x11; 8]); // ServerChallenge
        m.extend_from_slice(&[0; 8]); // Reserved
        m.extend_from_slice(&(info.len() as u16).to_le_bytes()); // TargetInfoLen
        m.extend_from_slice(&(info.len() as u16).to_le_bytes()); // TargetInfoMaxLen
        m.extend_from_slice(&56u32.to_le_bytes()); // TargetInfoBufferOffset
        m.extend_from_slice(&[10, 0, 0x61, 0x4a, 0, 0, 0, 15]); // Version 10.0.19041, NTLM rev 15
        m.extend_from_slice(&info);
        m
    }

    /// Builds an AUTHENTICATE_MESSAGE (Unicode) with fake LM/NT responses.
    pub(crate) fn authenticate(domain: &str, user: &str, host: &str) -> Vec<u8> {
        let (d, u, h) = (utf16(domain), utf16(user), utf16(host));
        let lm = [0u8; 24];
        let nt = [0xaau8; 24];
        let mut payload = Vec::new();
        let base = 72usize; // header incl. version, no MIC
        let mut fields = Vec::new();
        for part in [&lm[..], &nt[..], &d[..], &u[..], &h[..], &[][..]] {
            let off = base + payload.len();
            fields.extend_from_slice(&(part.len() as u16).to_le_bytes());
            fields.extend_from_slice(&(part.len() as u16).to_le_bytes());
            fields.extend_from_slice(&(off as u32).to_le_bytes());
            payload.extend_from_slice(part);
        }
        let mut m = Vec::new();
        m.extend_from_slice(SIGNATURE);
        m.extend_from_slice(&3u32.to_le_bytes());
        m.extend_from_slice(&fields); // Lm, Nt, Domain, User, Workstation, SessionKey (48 bytes)
        m.extend_from_slice(&(0x0208_8215u32).to_le_bytes()); // NegotiateFlags incl. UNICODE
        m.extend_from_slice(&[6, 1, 0xb1, 0x1d, 0, 0, 0, 15]); // Version
        assert_eq!(m.len(), base);
        m.extend_from_slice(&payload);
        m
    }

    #[test]
    fn challenge_target_info_and_version() {
        let m = challenge(&[
            (av::NB_COMPUTER, "SERVER002"),
            (av::DNS_COMPUTER, "server002.contoso.com"),
        ]);
        let blob = [&b"\xa1\x81\xce0\x81\xcb"[..], &m].concat();
        let Some(Ntlm::Challenge(c)) = parse(find(&blob).unwrap()) else {
            panic!()
        };
        assert_eq!(c.version, Some((10, 0, 19041)));
        let pairs: Vec<_> = av_pairs(c.target_info).collect();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].0, av::NB_COMPUTER);
        assert_eq!(
            crate::bytes::utf16_field(pairs[0].1).as_deref(),
            Some("SERVER002")
        );
    }

    #[test]
    fn authenticate_fields() {
        let m = authenticate("CONTOSO", "Administrator", "SERVER01");
        let Some(Ntlm::Authenticate(a)) = parse(&m) else {
            panic!()
        };
        assert!(a.unicode);
        assert_eq!(
            crate::bytes::utf16_field(a.user).as_deref(),
            Some("Administrator")
        );
        assert_eq!(
            crate::bytes::utf16_field(a.domain).as_deref(),
            Some("CONTOSO")
        );
        assert_eq!(
            crate::bytes::utf16_field(a.workstation).as_deref(),
            Some("SERVER01")
        );
    }

    #[test]
    fn truncated_messages_are_none_or_safe() {
        let m = authenticate("D", "U", "H");
        for cut in 0..m.len() {
            let _ = parse(&m[..cut]);
        }
        let c = challenge(&[(1, "X")]);
        for cut in 0..c.len() {
            if let Some(Ntlm::Challenge(ch)) = parse(&c[..cut]) {
                let _ = av_pairs(ch.target_info).count();
            }
        }
        // Bad field offsets.
        let mut bad = m.clone();
        bad[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&bad), None);
    }
}
