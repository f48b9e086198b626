//! SSH wire format: identification lines, binary packets, KEXINIT name-lists.
//!
//! Pure functions over `&[u8]` that return borrowed views. References:
//! - RFC 4253 §4.2 (protocol version exchange: `SSH-protoversion-softwareversion
//!   SP comments CR LF`, at most 255 bytes; a server may send other lines first),
//! - RFC 4253 §5.1 (compatibility: `SSH-1.99-` means "2.0 and 1.x"),
//! - RFC 4253 §6 (binary packet: `uint32 packet_length`, `byte padding_length`,
//!   payload, padding, MAC),
//! - RFC 4253 §7.1 (SSH_MSG_KEXINIT: cookie and ten name-lists),
//! - RFC 4251 §5 (`string` and `name-list` encodings).

/// Longest identification (or pre-banner) line, CR LF included (RFC 4253 §4.2).
pub const MAX_LINE: usize = 255;

/// What a protocol version in an identification string says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoVersion {
    /// `1.x` other than 1.99: SSH-1 only.
    V1,
    /// `1.99`: both 2.0 and 1.x.
    V199,
    /// `2.x`.
    V2,
    /// Anything else.
    Unknown,
}

impl ProtoVersion {
    /// Classifies the `protoversion` part of an identification string.
    pub fn parse(v: &[u8]) -> Self {
        match v {
            b"1.99" => ProtoVersion::V199,
            [b'2', b'.', ..] => ProtoVersion::V2,
            [b'1', b'.', ..] => ProtoVersion::V1,
            _ => ProtoVersion::Unknown,
        }
    }
}

/// Result of looking for one line at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line without its CR LF (or lone LF), and the bytes it used.
    Complete(&'a [u8], usize),
    /// No line end yet, and the line may still fit.
    Partial,
    /// No line end within [`MAX_LINE`] bytes.
    TooLong,
}

/// Splits the first LF-terminated line off `data`.
pub fn line(data: &[u8]) -> Line<'_> {
    match data.iter().take(MAX_LINE).position(|&b| b == b'\n') {
        Some(i) => {
            let l = &data[..i];
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            Line::Complete(l, i + 1)
        }
        None if data.len() < MAX_LINE => Line::Partial,
        None => Line::TooLong,
    }
}

/// An identification string `SSH-protoversion-softwareversion [comments]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ident<'a> {
    /// The whole line without CR LF.
    pub line: &'a [u8],
    /// `protoversion` (`2.0`, `1.99`, `1.5`).
    pub proto: &'a [u8],
}

/// Parses an identification line; `None` if it is not one.
pub fn ident(line: &[u8]) -> Option<Ident<'_>> {
    let rest = line.strip_prefix(b"SSH-")?;
    let dash = rest.iter().position(|&b| b == b'-')?;
    let proto = &rest[..dash];
    if proto.is_empty()
        || !proto.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        || !proto[0].is_ascii_digit()
    {
        return None;
    }
    Some(Ident { line, proto })
}

/// Prefix test for probing: `Some(true)` if `data` starts with `SSH-<digits>.`,
/// `None` if it is still a prefix of that, `Some(false)` otherwise.
pub fn starts_like_ident(data: &[u8]) -> Option<bool> {
    const HEAD: &[u8] = b"SSH-";
    let n = data.len().min(HEAD.len());
    if data[..n] != HEAD[..n] {
        return Some(false);
    }
    let rest = &data[n..];
    if n < HEAD.len() {
        return None;
    }
    // protoversion: digit, '.', digit.
    match rest.first() {
        None => None,
        Some(d) if !d.is_ascii_digit() => Some(false),
        Some(_) => match rest.get(1) {
            None => None,
            Some(b'.') => rest.get(2).map(u8::is_ascii_digit),
            Some(_) => Some(false),
        },
    }
}

/// One unencrypted binary packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// The payload (message type first) and the bytes the packet used.
    Complete(&'a [u8], usize),
    /// More bytes are needed.
    Partial,
    /// The length fields are impossible or over `max`.
    Bad,
}

/// Splits one binary packet (no MAC: before the first NEWKEYS) off `data`.
pub fn packet(data: &[u8], max: usize) -> Packet<'_> {
    let Some(len) = data.get(..4) else {
        return Packet::Partial;
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if !(5..=max).contains(&len) {
        return Packet::Bad;
    }
    let Some(body) = data.get(4..4 + len) else {
        return Packet::Partial;
    };
    let pad = body[0] as usize;
    // padding_length + 1 byte of itself must leave at least the message type.
    if pad + 2 > len {
        return Packet::Bad;
    }
    Packet::Complete(&body[1..len - pad], 4 + len)
}

/// Reads an SSH `string` (uint32 length + bytes) from the start of `data`.
pub fn string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = data.get(..4)?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let s = data.get(4..4usize.checked_add(len)?)?;
    Some((s, &data[4 + len..]))
}

/// The name-lists of an SSH_MSG_KEXINIT, borrowed from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KexInit<'a> {
    /// kex_algorithms.
    pub kex: &'a [u8],
    /// server_host_key_algorithms.
    pub host_key: &'a [u8],
    /// encryption_algorithms_client_to_server.
    pub enc_c2s: &'a [u8],
    /// encryption_algorithms_server_to_client.
    pub enc_s2c: &'a [u8],
    /// mac_algorithms_client_to_server.
    pub mac_c2s: &'a [u8],
    /// mac_algorithms_server_to_client.
    pub mac_s2c: &'a [u8],
    /// compression_algorithms_client_to_server.
    pub comp_c2s: &'a [u8],
    /// compression_algorithms_server_to_client.
    pub comp_s2c: &'a [u8],
}

/// SSH_MSG_KEXINIT message number.
pub const MSG_KEXINIT: u8 = 20;
/// SSH_MSG_NEWKEYS message number: what follows is encrypted.
pub const MSG_NEWKEYS: u8 = 21;
/// SSH_MSG_DISCONNECT message number.
pub const MSG_DISCONNECT: u8 = 1;
/// SSH_MSG_KEXDH_REPLY / SSH_MSG_KEX_ECDH_REPLY (and SSH_MSG_KEX_DH_GEX_GROUP
/// in group exchange).
pub const MSG_KEX_REPLY: u8 = 31;
/// SSH_MSG_KEX_DH_GEX_REPLY (RFC 4419).
pub const MSG_KEX_GEX_REPLY: u8 = 33;

/// Parses a KEXINIT payload (starting with the message number).
pub fn kexinit(payload: &[u8]) -> Option<KexInit<'_>> {
    let (&ty, rest) = payload.split_first()?;
    if ty != MSG_KEXINIT {
        return None;
    }
    let mut rest = rest.get(16..)?; // cookie
    let mut lists: [&[u8]; 10] = [&[]; 10];
    for l in lists.iter_mut() {
        let (s, r) = string(rest)?;
        // name-lists are US-ASCII names separated by commas.
        if !s.iter().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        *l = s;
        rest = r;
    }
    // first_kex_packet_follows (boolean) and reserved (uint32).
    if rest.len() < 5 {
        return None;
    }
    let [kex, host_key, enc_c2s, enc_s2c, mac_c2s, mac_s2c, comp_c2s, comp_s2c, _, _] = lists;
    Some(KexInit {
        kex,
        host_key,
        enc_c2s,
        enc_s2c,
        mac_c2s,
        mac_s2c,
        comp_c2s,
        comp_s2c,
    })
}

/// Iterates the names of a name-list (at most `max` of them).
pub fn names(list: &[u8], max: usize) -> impl Iterator<Item = &[u8]> {
    list.split(|&b| b == b',')
        .filter(|n| !n.is_empty())
        .take(max)
}

/// RFC 4253 §7.1 negotiation: the first client algorithm the server also
/// supports. Looks at most at `max` names of each list.
pub fn negotiate<'a>(client: &'a [u8], server: &[u8], max: usize) -> Option<&'a [u8]> {
    names(client, max).find(|c| names(server, max).any(|s| s == *c))
}

/// Standard base64 without padding (as OpenSSH prints key fingerprints).
pub fn base64_unpadded(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Lowercase hex.
pub fn hex(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(data.len() * 2);
    for b in data {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(line(b"SSH-2.0-x\r\nrest"), Line::Complete(b"SSH-2.0-x", 11));
        assert_eq!(line(b"SSH-2.0-x\nrest"), Line::Complete(b"SSH-2.0-x", 10));
        assert_eq!(line(b"SSH-2.0-x"), Line::Partial);
        assert_eq!(line(&[b'a'; 300]), Line::TooLong);
    }

    #[test]
    fn idents() {
        let i = ident(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3").unwrap();
        assert_eq!(i.proto, b"2.0");
        assert_eq!(ProtoVersion::parse(i.proto), ProtoVersion::V2);
        assert_eq!(
            ProtoVersion::parse(ident(b"SSH-1.99-Cisco-1.25").unwrap().proto),
            ProtoVersion::V199
        );
        assert_eq!(
            ProtoVersion::parse(ident(b"SSH-1.5-OpenSSH_6.2").unwrap().proto),
            ProtoVersion::V1
        );
        assert!(ident(b"SSH-").is_none());
        assert!(ident(b"SSH--x").is_none());
        assert!(ident(b"HTTP/1.1 200 OK").is_none());
    }

    #[test]
    fn probe_prefix() {
        assert_eq!(starts_like_ident(b"SSH-2.0-OpenSSH"), Some(true));
        assert_eq!(starts_like_ident(b"SS"), None);
        assert_eq!(starts_like_ident(b"SSH-2"), None);
        assert_eq!(starts_like_ident(b"SSH-2."), None);
        assert_eq!(starts_like_ident(b"SSH-x"), Some(false));
        assert_eq!(starts_like_ident(b"SSH-2.x"), Some(false));
        assert_eq!(starts_like_ident(b"GET /"), Some(false));
    }

    #[test]
    fn packets() {
        // packet_length 12, padding_length 4, payload [21, 1, 2, 3, 4, 5, 6], padding.
        let p = [0, 0, 0, 12, 4, 21, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 9];
        assert_eq!(
            packet(&p, 1000),
            Packet::Complete(&[21, 1, 2, 3, 4, 5, 6], 16)
        );
        assert_eq!(packet(&p[..10], 1000), Packet::Partial);
        assert_eq!(packet(&[0, 0, 0, 1, 0], 1000), Packet::Bad);
        assert_eq!(packet(&[0, 0, 0, 5, 4, 1, 0, 0, 0], 1000), Packet::Bad);
        assert_eq!(packet(&[0xff, 0, 0, 5], 1000), Packet::Bad);
    }

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(b"a,b,c", b"c,b", 64), Some(&b"b"[..]));
        assert_eq!(negotiate(b"a", b"b", 64), None);
        assert_eq!(negotiate(b"", b"", 64), None);
    }

    #[test]
    fn base64() {
        assert_eq!(base64_unpadded(b""), "");
        assert_eq!(base64_unpadded(b"f"), "Zg");
        assert_eq!(base64_unpadded(b"fo"), "Zm8");
        assert_eq!(base64_unpadded(b"foo"), "Zm9v");
        assert_eq!(base64_unpadded(b"foobar"), "Zm9vYmFy");
    }
}
