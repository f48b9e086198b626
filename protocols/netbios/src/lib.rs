//! NetBIOS datagram service analyzer (RFC 1002 section 4.4, UDP 138) and the
//! browser announcements it carries (MS-BRWS, in SMB mailslot messages).
//!
//! A datagram (4.4.1, 4.4.2) opens with a 10-byte header — type, flags,
//! datagram id, source IP and port — then, for direct unique (0x10),
//! direct group (0x11) and broadcast (0x12) datagrams, the length of what
//! follows, the packet offset, the source and destination NetBIOS names
//! (first-level encoded, RFC 1001 14.1: a 0x20 length byte, 32 letters
//! `A`..`P` two per byte, optional scope labels, a zero byte) and the user
//! data: an SMB (1) Transaction request (command 0x25) naming a mailslot.
//! On `\MAILSLOT\BROWSE` (and `\MAILSLOT\LANMAN`) the transaction data is a
//! browser frame; host (1), domain (0x0c) and local master (0x0f)
//! announcements (MS-BRWS 2.2.1, 2.2.12, 2.2.18) hold an update count,
//! periodicity, a 16-byte server name, OS major/minor version, server type
//! flags, browser version, signature and a zero-terminated comment.
//!
//! What is kept ([`model::records::NetbiosRecord`], one per datagram, at most
//! [`MAX_MESSAGES`] per flow): datagram type, source and destination names
//! and suffixes, the mailslot name, and for announcements the browser
//! opcode, server name, OS version, server type flags (with their names)
//! and comment (at most [`MAX_COMMENT`] bytes). Other user data is not read.

use analyzer_api::{Analyzer, ByteSet, DatagramLimits, Datagrams, Probe, Protocol};
use model::records::NetbiosRecord;
use model::{text, Direction, Transport};

/// Datagrams recorded per flow (hosts announce every few minutes).
pub const MAX_MESSAGES: u32 = 128;
/// Longest comment kept (MS-BRWS limits it to 43 bytes).
pub const MAX_COMMENT: usize = 64;

/// The NetBIOS datagram service.
pub struct Netbios;

impl Protocol for Netbios {
    fn name(&self) -> &'static str {
        "netbios"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp]
    }

    fn ports(&self) -> &'static [u16] {
        &[138]
    }

    /// A direct or broadcast datagram whose length field matches the
    /// datagram and whose source name starts with the 0x20 length byte.
    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        if data.is_empty() {
            return Probe::NeedMore;
        }
        if header(data).is_some() {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }

    /// Direct unique, direct group or broadcast datagram.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::range(0x10, 0x12)
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(Datagrams::new(
            |_, d| parse(d),
            DatagramLimits {
                max_len: usize::MAX,
                max_messages: MAX_MESSAGES,
                bad: "netbios_bad_datagram",
                too_many: "netbios_too_many_datagrams",
            },
        ))
    }
}

/// Checks the datagram header; returns the type and the bytes after the
/// packet offset field (names and user data).
fn header(data: &[u8]) -> Option<(u8, &[u8])> {
    let kind = *data.first()?;
    if !(0x10..=0x12).contains(&kind) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([*data.get(10)?, *data.get(11)?]));
    let rest = data.get(14..)?;
    if len != rest.len() || rest.first() != Some(&0x20) {
        return None;
    }
    Some((kind, rest))
}

/// Decodes a first-level encoded name at the start of `data`; returns the
/// name (trailing spaces removed), its suffix and the bytes after it
/// (scope labels skipped).
fn name(data: &[u8]) -> Option<(String, u8, &[u8])> {
    if data.first() != Some(&0x20) {
        return None;
    }
    let enc = data.get(1..33)?;
    let mut raw = [0u8; 16];
    for (i, pair) in enc.chunks_exact(2).enumerate() {
        let (hi, lo) = (pair[0].wrapping_sub(b'A'), pair[1].wrapping_sub(b'A'));
        if hi > 15 || lo > 15 {
            return None;
        }
        raw[i] = hi << 4 | lo;
    }
    // Scope labels, then the zero byte.
    let mut rest = data.get(33..)?;
    loop {
        let (&l, tail) = rest.split_first()?;
        if l == 0 {
            rest = tail;
            break;
        }
        rest = tail.get(usize::from(l)..)?;
    }
    let end = raw[..15]
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .map_or(0, |e| e + 1);
    Some((text::bounded(&raw[..end], 15), raw[15], rest))
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

fn parse(data: &[u8]) -> Option<NetbiosRecord> {
    let (kind, rest) = header(data)?;
    let (src, src_suffix, rest) = name(rest)?;
    let (dst, dst_suffix, smb) = name(rest)?;
    let mut rec = NetbiosRecord {
        msg_type: kind,
        source_name: Some(src).filter(|s| !s.is_empty()),
        source_suffix: Some(src_suffix),
        destination_name: Some(dst).filter(|s| !s.is_empty()),
        destination_suffix: Some(dst_suffix),
        ..Default::default()
    };
    // SMB1 header (32 bytes), Transaction request (0x25).
    if smb.get(..4) != Some(b"\xffSMB") || smb.get(4) != Some(&0x25) {
        return Some(rec);
    }
    let words = usize::from(*smb.get(32)?);
    if words < 14 {
        return Some(rec);
    }
    let w = smb.get(33..33 + words * 2)?;
    let data_count = le16(w, 22)?;
    let data_offset = le16(w, 24)?;
    let bytes = smb.get(33 + words * 2 + 2..)?;
    // The transaction name: a zero-terminated ASCII string (OEM for mailslots).
    let name_end = bytes.iter().take(64).position(|&b| b == 0)?;
    let slot = text::bounded(&bytes[..name_end], 64);
    let browse = slot.eq_ignore_ascii_case("\\MAILSLOT\\BROWSE")
        || slot.eq_ignore_ascii_case("\\MAILSLOT\\LANMAN");
    rec.mailslot = Some(slot);
    if !browse {
        return Some(rec);
    }
    let frame = smb.get(data_offset..)?;
    let frame = &frame[..frame.len().min(data_count)];
    let (&op, body) = frame.split_first()?;
    rec.browser_command = Some(op);
    if matches!(op, 0x01 | 0x0c | 0x0f) {
        announcement(body, &mut rec);
    }
    Some(rec)
}

/// Reads an announcement body (after the opcode); a truncated one keeps
/// what was read.
fn announcement(b: &[u8], rec: &mut NetbiosRecord) {
    // Update count (1), periodicity (4), server name (16).
    let Some(server) = b.get(5..21) else { return };
    let end = server.iter().position(|&c| c == 0).unwrap_or(16);
    rec.server_name = text::non_empty(&server[..end]);
    rec.os_major = b.get(21).copied();
    rec.os_minor = b.get(22).copied();
    let Some(t) = b.get(23..27) else { return };
    let t = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
    rec.server_type = Some(t);
    rec.server_roles = SERVER_TYPES
        .iter()
        .filter(|(bit, _)| t & bit != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    // Browser version (2), signature (2), then the comment.
    let Some(comment) = b.get(31..) else { return };
    let end = comment
        .iter()
        .position(|&c| c == 0)
        .unwrap_or(comment.len());
    rec.comment = text::non_empty(&comment[..end.min(MAX_COMMENT)]);
}

/// Server type flags (MS-BRWS 2.2.1.1 / MS-RAP SV_TYPE_*).
pub const SERVER_TYPES: &[(u32, &str)] = &[
    (0x0000_0001, "workstation"),
    (0x0000_0002, "server"),
    (0x0000_0004, "sql-server"),
    (0x0000_0008, "domain-controller"),
    (0x0000_0010, "backup-domain-controller"),
    (0x0000_0020, "time-source"),
    (0x0000_0040, "apple"),
    (0x0000_0080, "novell"),
    (0x0000_0100, "domain-member"),
    (0x0000_0200, "print-queue"),
    (0x0000_0400, "dialin"),
    (0x0000_0800, "unix"),
    (0x0000_1000, "nt"),
    (0x0000_2000, "wfw"),
    (0x0000_4000, "mfpn"),
    (0x0000_8000, "nt-server"),
    (0x0001_0000, "potential-browser"),
    (0x0002_0000, "backup-browser"),
    (0x0004_0000, "master-browser"),
    (0x0008_0000, "domain-master-browser"),
    (0x0010_0000, "osf"),
    (0x0020_0000, "vms"),
    (0x0040_0000, "windows"),
    (0x0080_0000, "dfs"),
    (0x0100_0000, "cluster-nt"),
    (0x0200_0000, "terminal-server"),
    (0x0400_0000, "cluster-vs-nt"),
    (0x1000_0000, "dce"),
    (0x2000_0000, "alternate-xport"),
    (0x4000_0000, "local-list-only"),
    (0x8000_0000, "domain-enum"),
];

#[cfg(test)]
mod tests;
