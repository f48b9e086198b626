//! SMB2/SMB3 message parsing: header, compound chains, NEGOTIATE,
//! SESSION_SETUP and TREE_CONNECT.
//!
//! Spec: [MS-SMB2] §2.2.1 (header), §2.2.3/§2.2.4 (NEGOTIATE request and
//! response), §2.2.5/§2.2.6 (SESSION_SETUP), §2.2.9 (TREE_CONNECT request),
//! §2.2.41 (TRANSFORM_HEADER, `\xfdSMB`). Buffer offsets inside a message are
//! relative to the start of that message's 64-byte header.

use crate::bytes::{slice, u16_le, u32_le};

/// SMB2 protocol id.
pub const MAGIC: &[u8; 4] = b"\xfeSMB";
/// SMB2 TRANSFORM_HEADER protocol id (encrypted message follows).
pub const TRANSFORM: &[u8; 4] = b"\xfdSMB";
/// SMB2 COMPRESSION_TRANSFORM_HEADER protocol id.
pub const COMPRESSED: &[u8; 4] = b"\xfcSMB";
/// Header length.
pub const HEADER_LEN: usize = 64;

/// SMB2 NEGOTIATE.
pub const NEGOTIATE: u16 = 0;
/// SMB2 SESSION_SETUP.
pub const SESSION_SETUP: u16 = 1;
/// SMB2 TREE_CONNECT.
pub const TREE_CONNECT: u16 = 3;
/// Longest compound chain followed.
const MAX_COMPOUND: usize = 16;

/// SMB2_FLAGS_SERVER_TO_REDIR.
const FLAGS_RESPONSE: u32 = 0x1;
/// SMB2_NEGOTIATE_SIGNING_REQUIRED.
const SIGNING_REQUIRED: u16 = 0x2;

/// STATUS_SUCCESS.
pub const STATUS_SUCCESS: u32 = 0;
/// STATUS_MORE_PROCESSING_REQUIRED (session setup in progress).
pub const STATUS_MORE_PROCESSING: u32 = 0xc000_0016;

/// One SMB2 message of a (possibly compound) NetBIOS frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// Command code.
    pub command: u16,
    /// NT status.
    pub status: u32,
    /// Flags.
    pub flags: u32,
    /// The message from its header up to the next compounded message.
    pub msg: &'a [u8],
}

impl Message<'_> {
    /// True for server responses.
    pub fn is_response(&self) -> bool {
        self.flags & FLAGS_RESPONSE != 0
    }
    /// Bytes after the header.
    pub fn body(&self) -> &[u8] {
        self.msg.get(HEADER_LEN..).unwrap_or(&[])
    }
}

/// Command and NextCommand of the first header, from as few bytes as possible
/// (20 + 4); used to decide whether a frame is worth buffering.
pub fn peek(head: &[u8]) -> Option<(u16, u32)> {
    if !head.starts_with(MAGIC) {
        return None;
    }
    Some((u16_le(head, 12)?, u32_le(head, 20)?))
}

/// Iterates the messages of a compound frame (at most 16). Stops at a header
/// that is truncated or does not start with the SMB2 magic; the flag says so.
pub fn messages(frame: &[u8]) -> (impl Iterator<Item = Message<'_>>, bool) {
    let mut out: [Option<Message<'_>>; MAX_COMPOUND] = [None; MAX_COMPOUND];
    let mut bad = false;
    let mut rest = frame;
    for slot in out.iter_mut() {
        if rest.len() < HEADER_LEN || !rest.starts_with(MAGIC) || u16_le(rest, 4) != Some(64) {
            bad = true;
            break;
        }
        let (Some(command), Some(status), Some(flags), Some(next)) = (
            u16_le(rest, 12),
            u32_le(rest, 8),
            u32_le(rest, 16),
            u32_le(rest, 20),
        ) else {
            bad = true;
            break;
        };
        let next = next as usize;
        let this = if next == 0 {
            rest
        } else {
            rest.get(..next).unwrap_or(rest)
        };
        *slot = Some(Message {
            command,
            status,
            flags,
            msg: this,
        });
        if next == 0 {
            break;
        }
        // NextCommand must leave room for a header and be 8-byte aligned.
        if next < HEADER_LEN || !next.is_multiple_of(8) || next >= rest.len() {
            bad = true;
            break;
        }
        rest = &rest[next..];
    }
    (out.into_iter().flatten(), bad)
}

/// Dialect revisions offered in a NEGOTIATE request, at most 32.
pub fn negotiate_request_dialects<'a>(m: &Message<'a>) -> impl Iterator<Item = u16> + 'a {
    let body: &'a [u8] = m.msg.get(HEADER_LEN..).unwrap_or(&[]);
    let ok = u16_le(body, 0) == Some(36);
    let count = if ok {
        u16_le(body, 2).unwrap_or(0) as usize
    } else {
        0
    };
    (0..count.min(32)).map_while(move |i| u16_le(body, 36 + 2 * i))
}

/// NEGOTIATE response: (DialectRevision, signing required).
pub fn negotiate_response(m: &Message<'_>) -> Option<(u16, bool)> {
    let body = m.body();
    if u16_le(body, 0)? != 65 {
        return None;
    }
    let mode = u16_le(body, 2)?;
    let dialect = u16_le(body, 4)?;
    Some((dialect, mode & SIGNING_REQUIRED != 0))
}

/// Security buffer of a SESSION_SETUP request or response.
pub fn session_setup_blob<'a>(m: &Message<'a>) -> Option<&'a [u8]> {
    let body = m.msg.get(HEADER_LEN..)?;
    let (off_at, size) = if m.is_response() { (4, 9) } else { (12, 25) };
    if u16_le(body, 0)? != size {
        return None;
    }
    let off = u16_le(body, off_at)? as usize;
    let len = u16_le(body, off_at + 2)? as usize;
    slice(m.msg, off, len)
}

/// UTF-16LE share path of a TREE_CONNECT request.
pub fn tree_connect_path<'a>(m: &Message<'a>) -> Option<&'a [u8]> {
    let body = m.msg.get(HEADER_LEN..)?;
    if u16_le(body, 0)? != 9 {
        return None;
    }
    let off = u16_le(body, 4)? as usize;
    let len = u16_le(body, 6)? as usize;
    slice(m.msg, off, len)
}

/// Display name of a dialect revision (`3.1.1`), or hex for unknown values.
pub fn dialect_name(d: u16) -> String {
    match d {
        0x0202 => "2.0.2".into(),
        0x0210 => "2.1".into(),
        0x0222 => "2.2.2".into(),
        0x0224 => "2.2.4".into(),
        0x02ff => "2.???".into(),
        0x0300 => "3.0".into(),
        0x0302 => "3.0.2".into(),
        0x0310 => "3.1".into(),
        0x0311 => "3.1.1".into(),
        _ => format!("0x{d:04x}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds one SMB2 message: 64-byte header + body.
    pub(crate) fn message(command: u16, response: bool, status: u32, body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(MAGIC);
        m.extend_from_slice(&64u16.to_le_bytes()); // StructureSize
        m.extend_from_slice(&1u16.to_le_bytes()); // CreditCharge
        m.extend_from_slice(&status.to_le_bytes()); // Status
        m.extend_from_slice(&command.to_le_bytes()); // Command
        m.extend_from_slice(&1u16.to_le_bytes()); // Credits
        m.extend_from_slice(&(response as u32).to_le_bytes()); // Flags
        m.extend_from_slice(&0u32.to_le_bytes()); // NextCommand
        m.extend_from_slice(&7u64.to_le_bytes()); // MessageId
        m.extend_from_slice(&[0; 4]); // Reserved
        m.extend_from_slice(&[0; 4]); // TreeId
        m.extend_from_slice(&[0; 8]); // SessionId
        m.extend_from_slice(&[0; 16]); // Signature
        assert_eq!(m.len(), HEADER_LEN);
        m.extend_from_slice(body);
        m
    }

    pub(crate) fn negotiate_request(dialects: &[u16]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&36u16.to_le_bytes()); // StructureSize
        b.extend_from_slice(&(dialects.len() as u16).to_le_bytes()); // DialectCount
        b.extend_from_slice(&1u16.to_le_bytes()); // SecurityMode: signing enabled
        b.extend_from_slice(&[0; 2]); // Reserved
        b.extend_from_slice(&0x7fu32.to_le_bytes()); // Capabilities
        b.extend_from_slice(&[0x42; 16]); // ClientGuid
        b.extend_from_slice(&[0; 8]); // NegotiateContextOffset/Count
        for d in dialects {
            b.extend_from_slice(&d.to_le_bytes());
        }
        message(NEGOTIATE, false, 0, &b)
    }

    pub(crate) fn negotiate_response(dialect: u16, mode: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&65u16.to_le_bytes()); // StructureSize
        b.extend_from_slice(&mode.to_le_bytes()); // SecurityMode
        b.extend_from_slice(&dialect.to_le_bytes()); // DialectRevision
        b.extend_from_slice(&[0; 2]); // NegotiateContextCount
        b.extend_from_slice(&[0x24; 16]); // ServerGuid
        b.extend_from_slice(&[0; 4 + 4 + 4 + 4 + 8 + 8]); // Capabilities..ServerStartTime
        b.extend_from_slice(&128u16.to_le_bytes()); // SecurityBufferOffset
        b.extend_from_slice(&0u16.to_le_bytes()); // SecurityBufferLength
        b.extend_from_slice(&[0; 4]); // NegotiateContextOffset
        message(NEGOTIATE, true, 0, &b)
    }

    /// SESSION_SETUP request or response carrying `blob`.
    pub(crate) fn session_setup(response: bool, status: u32, blob: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        if response {
            b.extend_from_slice(&9u16.to_le_bytes()); // StructureSize
            b.extend_from_slice(&0u16.to_le_bytes()); // SessionFlags
            b.extend_from_slice(&72u16.to_le_bytes()); // SecurityBufferOffset
            b.extend_from_slice(&(blob.len() as u16).to_le_bytes()); // SecurityBufferLength
        } else {
            b.extend_from_slice(&25u16.to_le_bytes()); // StructureSize
            b.push(0); // Flags
            b.push(1); // SecurityMode
            b.extend_from_slice(&[0; 4]); // Capabilities
            b.extend_from_slice(&[0; 4]); // Channel
            b.extend_from_slice(&88u16.to_le_bytes()); // SecurityBufferOffset
            b.extend_from_slice(&(blob.len() as u16).to_le_bytes()); // SecurityBufferLength
            b.extend_from_slice(&[0; 8]); // PreviousSessionId
        }
        b.extend_from_slice(blob);
        message(SESSION_SETUP, response, status, &b)
    }

    pub(crate) fn tree_connect(path: &str) -> Vec<u8> {
        let p: Vec<u8> = path.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let mut b = Vec::new();
        b.extend_from_slice(&9u16.to_le_bytes()); // StructureSize
        b.extend_from_slice(&[0; 2]); // Flags
        b.extend_from_slice(&72u16.to_le_bytes()); // PathOffset
        b.extend_from_slice(&(p.len() as u16).to_le_bytes()); // PathLength
        b.extend_from_slice(&p);
        message(TREE_CONNECT, false, 0, &b)
    }

    #[test]
    fn negotiate_round_trip() {
        let req = negotiate_request(&[0x0202, 0x0210, 0x0300, 0x0302, 0x0311]);
        let (mut it, bad) = messages(&req);
        assert!(!bad);
        let m = it.next().unwrap();
        let names: Vec<_> = negotiate_request_dialects(&m).map(dialect_name).collect();
        assert_eq!(names, ["2.0.2", "2.1", "3.0", "3.0.2", "3.1.1"]);
        let resp = negotiate_response(0x0311, 3);
        let m = messages(&resp).0.next().unwrap();
        assert!(m.is_response());
        assert_eq!(super::negotiate_response(&m), Some((0x0311, true)));
    }

    #[test]
    fn compound_chain() {
        let mut a = tree_connect("\\\\h\\s");
        while !a.len().is_multiple_of(8) {
            a.push(0);
        }
        let next = a.len() as u32;
        a[20..24].copy_from_slice(&next.to_le_bytes());
        a.extend_from_slice(&message(5, false, 0, &[0; 8]));
        let (it, bad) = messages(&a);
        let cmds: Vec<u16> = it.map(|m| m.command).collect();
        assert_eq!(cmds, [TREE_CONNECT, 5]);
        assert!(!bad);
        // A NextCommand past the end is malformed.
        a[20..24].copy_from_slice(&4096u32.to_le_bytes());
        let (it, bad) = messages(&a);
        assert_eq!(it.count(), 1);
        assert!(bad);
    }

    #[test]
    fn unknown_dialects_are_hex() {
        assert_eq!(dialect_name(0x0abc), "0x0abc");
    }
}
