//! SMB1 (CIFS) message parsing: header, AndX chains, and the few commands Ward
//! reads (NEGOTIATE, SESSION_SETUP_ANDX, TREE_CONNECT_ANDX).
//!
//! Spec: [MS-CIFS] §2.2.3.1 (header), §2.2.4.52 (NEGOTIATE), §2.2.4.53
//! (SESSION_SETUP_ANDX), §2.2.4.55 (TREE_CONNECT_ANDX); [MS-SMB] §2.2.4.5/6
//! (extended-security NEGOTIATE and SESSION_SETUP_ANDX). Every function takes
//! the whole SMB message (`msg[0..4] == b"\xffSMB"`); string alignment is
//! relative to `msg[0]`.

use crate::bytes::{slice, smb_string, u16_le, u32_le, u8_at};

/// SMB1 protocol id.
pub const MAGIC: &[u8; 4] = b"\xffSMB";
/// Header length.
pub const HEADER_LEN: usize = 32;

/// SMB_COM_NEGOTIATE.
pub const NEGOTIATE: u8 = 0x72;
/// SMB_COM_SESSION_SETUP_ANDX.
pub const SESSION_SETUP_ANDX: u8 = 0x73;
/// SMB_COM_TREE_CONNECT_ANDX.
pub const TREE_CONNECT_ANDX: u8 = 0x75;
/// AndXCommand value meaning "no further command".
const NO_ANDX: u8 = 0xff;
/// Longest AndX chain followed.
const MAX_CHAIN: usize = 8;

/// SMB_FLAGS_REPLY.
const FLAGS_REPLY: u8 = 0x80;
/// SMB_FLAGS2_UNICODE.
const FLAGS2_UNICODE: u16 = 0x8000;

/// The fixed SMB1 header fields we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// First command of the message.
    pub command: u8,
    /// NT status (or DOS error class/code packed).
    pub status: u32,
    /// Flags.
    pub flags: u8,
    /// Flags2.
    pub flags2: u16,
}

impl Header {
    /// True for server responses.
    pub fn is_reply(&self) -> bool {
        self.flags & FLAGS_REPLY != 0
    }
    /// True when strings are UTF-16LE.
    pub fn unicode(&self) -> bool {
        self.flags2 & FLAGS2_UNICODE != 0
    }
}

/// Parses the 32-byte header.
pub fn header(msg: &[u8]) -> Option<Header> {
    if !msg.starts_with(MAGIC) || msg.len() < HEADER_LEN {
        return None;
    }
    Some(Header {
        command: u8_at(msg, 4)?,
        status: u32_le(msg, 5)?,
        flags: u8_at(msg, 9)?,
        flags2: u16_le(msg, 10)?,
    })
}

/// One command block: parameter words and data bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// Command this block belongs to.
    pub command: u8,
    /// Parameter words (2 × WordCount bytes).
    pub words: &'a [u8],
    /// Data bytes (ByteCount bytes, clipped to the message).
    pub bytes: &'a [u8],
    /// Offset of `bytes` from the start of the message (for alignment).
    pub bytes_at: usize,
}

fn block(msg: &[u8], at: usize, command: u8) -> Option<Block<'_>> {
    let wc = u8_at(msg, at)? as usize;
    let words = slice(msg, at + 1, wc * 2)?;
    let bc_at = at + 1 + wc * 2;
    let bc = u16_le(msg, bc_at)? as usize;
    let bytes_at = bc_at + 2;
    let avail = msg.len().saturating_sub(bytes_at);
    let bytes = slice(msg, bytes_at, bc.min(avail))?;
    Some(Block {
        command,
        words,
        bytes,
        bytes_at,
    })
}

fn is_andx(command: u8) -> bool {
    // LOCKING, OPEN, READ, WRITE, SESSION_SETUP, LOGOFF, TREE_CONNECT, NT_CREATE
    matches!(
        command,
        0x24 | 0x2d | 0x2e | 0x2f | 0x73 | 0x74 | 0x75 | 0xa2
    )
}

/// Walks the AndX chain of a message: the first block, then each chained
/// block while offsets strictly advance (at most 8). The flag is true when
/// the chain was cut short because it was malformed.
pub fn blocks(msg: &[u8], first: u8) -> (impl Iterator<Item = Block<'_>>, &'static str) {
    let mut out: [Option<Block<'_>>; MAX_CHAIN] = [None; MAX_CHAIN];
    let mut problem = "";
    let mut at = HEADER_LEN;
    let mut command = first;
    for slot in out.iter_mut() {
        let Some(b) = block(msg, at, command) else {
            problem = "smb1_truncated_block";
            break;
        };
        *slot = Some(b);
        if !is_andx(command) || b.words.len() < 4 {
            break;
        }
        let next = b.words[0];
        if next == NO_ANDX {
            break;
        }
        let off = u16_le(b.words, 2).unwrap_or(0) as usize;
        if off <= at {
            problem = "smb1_andx_offset_not_advancing";
            break;
        }
        at = off;
        command = next;
    }
    (out.into_iter().flatten(), problem)
}

/// Dialect names of a NEGOTIATE request (`0x02 name NUL`...), at most 32.
pub fn negotiate_dialects(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|&b| b == 0)
        .filter_map(|s| s.strip_prefix(&[0x02]))
        .take(32)
}

/// NEGOTIATE response: (DialectIndex, SecurityMode for NT LM 0.12 responses).
pub fn negotiate_response(b: &Block<'_>) -> Option<(u16, Option<u8>)> {
    let index = u16_le(b.words, 0)?;
    let mode = if b.words.len() == 34 {
        u8_at(b.words, 2)
    } else {
        None
    };
    Some((index, mode))
}

/// Capabilities bit of a NEGOTIATE response: extended security (the data
/// bytes hold a server GUID and a security blob instead of names).
const CAP_EXTENDED_SECURITY: u32 = 0x8000_0000;
/// Flags2 bit: extended security negotiation.
const FLAGS2_EXTENDED_SECURITY: u16 = 0x0800;

/// NT LM 0.12 NEGOTIATE response without extended security (MS-CIFS
/// 2.2.4.52.2): the server's primary domain (workgroup) and its NetBIOS name,
/// after the challenge in the data bytes (raw, UTF-16LE when `unicode`; the
/// names are not aligned). `None` for other shapes, and when either the
/// header or the capabilities announce extended security.
pub fn negotiate_names<'a>(h: &Header, b: &Block<'a>) -> Option<(&'a [u8], &'a [u8])> {
    let unicode = h.unicode();
    if b.words.len() != 34 || h.flags2 & FLAGS2_EXTENDED_SECURITY != 0 {
        return None;
    }
    if u32_le(b.words, 19)? & CAP_EXTENDED_SECURITY != 0 {
        return None;
    }
    let challenge = usize::from(u8_at(b.words, 33)?);
    let rest = b.bytes.get(challenge..)?;
    let (domain, next) = smb_string(rest, 0, rest.len(), unicode)?;
    if next >= rest.len() {
        return Some((domain, &[]));
    }
    let (server, _) = smb_string(rest, next, rest.len(), unicode)?;
    Some((domain, server))
}

/// The strings and security blob of a SESSION_SETUP_ANDX request or response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionSetup<'a> {
    /// Extended-security blob (SPNEGO or raw NTLMSSP), possibly empty.
    pub blob: &'a [u8],
    /// AccountName (requests without extended security).
    pub account: &'a [u8],
    /// PrimaryDomain (requests without extended security).
    pub domain: &'a [u8],
    /// NativeOS.
    pub native_os: &'a [u8],
    /// NativeLanMan.
    pub native_lanman: &'a [u8],
}

/// Parses a SESSION_SETUP_ANDX block (request or response per `reply`).
pub fn session_setup<'a>(
    msg: &'a [u8],
    b: &Block<'a>,
    reply: bool,
    unicode: bool,
) -> Option<SessionSetup<'a>> {
    let end = b.bytes_at.checked_add(b.bytes.len())?;
    let mut s = SessionSetup::default();
    let mut pos = b.bytes_at;
    let wc = b.words.len() / 2;
    match (reply, wc) {
        // Request, extended security.
        (false, 12) => {
            let len = u16_le(b.words, 14)? as usize;
            s.blob = slice(msg, pos, len.min(b.bytes.len()))?;
            pos += s.blob.len();
            read_strings(
                msg,
                pos,
                end,
                unicode,
                &mut [&mut s.native_os, &mut s.native_lanman],
            );
        }
        // Request, NT LM 0.12 without extended security.
        (false, 13) => {
            let oem = u16_le(b.words, 14)? as usize;
            let uni = u16_le(b.words, 16)? as usize;
            pos = pos.checked_add(oem)?.checked_add(uni)?;
            read_strings(
                msg,
                pos,
                end,
                unicode,
                &mut [
                    &mut s.account,
                    &mut s.domain,
                    &mut s.native_os,
                    &mut s.native_lanman,
                ],
            );
        }
        // Request, LANMAN dialects.
        (false, 10) => {
            pos = pos.checked_add(u16_le(b.words, 14)? as usize)?;
            read_strings(
                msg,
                pos,
                end,
                unicode,
                &mut [
                    &mut s.account,
                    &mut s.domain,
                    &mut s.native_os,
                    &mut s.native_lanman,
                ],
            );
        }
        // Response, extended security.
        (true, 4) => {
            let len = u16_le(b.words, 6)? as usize;
            s.blob = slice(msg, pos, len.min(b.bytes.len()))?;
            pos += s.blob.len();
            read_strings(
                msg,
                pos,
                end,
                unicode,
                &mut [&mut s.native_os, &mut s.native_lanman],
            );
        }
        // Response without extended security.
        (true, 3) => {
            read_strings(
                msg,
                pos,
                end,
                unicode,
                &mut [&mut s.native_os, &mut s.native_lanman],
            );
        }
        _ => return None,
    }
    Some(s)
}

fn read_strings<'a>(
    msg: &'a [u8],
    mut pos: usize,
    end: usize,
    unicode: bool,
    dst: &mut [&mut &'a [u8]],
) {
    for d in dst {
        if pos >= end {
            return;
        }
        let Some((s, next)) = smb_string(msg, pos, end, unicode) else {
            return;
        };
        **d = s;
        pos = next;
    }
}

/// Path of a TREE_CONNECT_ANDX request (raw bytes, UTF-16LE when `unicode`).
pub fn tree_connect_path<'a>(msg: &'a [u8], b: &Block<'a>, unicode: bool) -> Option<&'a [u8]> {
    if b.words.len() != 8 {
        return None;
    }
    let pw = u16_le(b.words, 6)? as usize;
    let end = b.bytes_at.checked_add(b.bytes.len())?;
    let pos = b.bytes_at.checked_add(pw)?;
    if pos >= end {
        return None;
    }
    smb_string(msg, pos, end, unicode).map(|(s, _)| s)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds an SMB1 message: header + one block.
    pub(crate) fn message(
        command: u8,
        reply: bool,
        flags2: u16,
        words: &[u8],
        bytes: &[u8],
    ) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(MAGIC);
        m.push(command);
        m.extend_from_slice(&[0, 0, 0, 0]); // Status
        m.push(if reply { 0x98 } else { 0x18 }); // Flags
        m.extend_from_slice(&flags2.to_le_bytes()); // Flags2
        m.extend_from_slice(&[0; 12]); // PIDHigh, SecurityFeatures, Reserved
        m.extend_from_slice(&[0, 0, 0xff, 0xfe, 0, 0, 0x40, 0]); // TID, PIDLow, UID, MID
        assert_eq!(m.len(), HEADER_LEN);
        m.push((words.len() / 2) as u8); // WordCount
        m.extend_from_slice(words);
        m.extend_from_slice(&(bytes.len() as u16).to_le_bytes()); // ByteCount
        m.extend_from_slice(bytes);
        m
    }

    #[test]
    fn negotiate_dialect_list() {
        let bytes = b"\x02PC NETWORK PROGRAM 1.0\0\x02NT LM 0.12\0\x02SMB 2.002\0";
        let m = message(NEGOTIATE, false, 0xc853, &[], bytes);
        let h = header(&m).unwrap();
        assert!(!h.is_reply());
        let (mut it, problem) = blocks(&m, h.command);
        assert_eq!(problem, "");
        let b = it.next().unwrap();
        let d: Vec<_> = negotiate_dialects(b.bytes).collect();
        assert_eq!(
            d,
            vec![&b"PC NETWORK PROGRAM 1.0"[..], b"NT LM 0.12", b"SMB 2.002"]
        );
    }

    #[test]
    fn andx_offsets_must_advance() {
        // SESSION_SETUP_ANDX whose AndX points back at itself.
        let mut words = vec![TREE_CONNECT_ANDX, 0, 32, 0];
        words.extend_from_slice(&[0; 20]);
        let m = message(SESSION_SETUP_ANDX, false, 0, &words, b"");
        let (it, problem) = blocks(&m, SESSION_SETUP_ANDX);
        assert_eq!(it.count(), 1);
        assert_eq!(problem, "smb1_andx_offset_not_advancing");
    }
}
