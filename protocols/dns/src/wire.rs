//! Zero-copy DNS message wire format (RFC 1035 §4): header, names with
//! compression pointers, questions and resource records.
//!
//! Compression pointers must point strictly backwards (before the pointer
//! itself), and the bytes a jump may read end where the pointer was, so every
//! name walk terminates; a hop limit and the 255-byte name limit (RFC 1035
//! §3.1) bound the work further. Nothing here allocates: names are rendered
//! into a caller-provided fixed buffer.

/// Fixed header length.
pub const HEADER_LEN: usize = 12;
/// Longest rendered name (RFC 1035 §3.1: 255 octets on the wire).
pub const MAX_NAME: usize = 255;
/// Most compression pointers followed in one name.
const MAX_HOPS: usize = 64;

/// Why a message could not be parsed further. `name()` gives the weird name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Fewer than 12 bytes.
    ShortHeader,
    /// A name, question or record runs past the end of the message.
    Truncated,
    /// A compression pointer points forward or to itself.
    ForwardPointer,
    /// Too many compression pointers in one name.
    TooManyHops,
    /// A label length with the reserved 0x40/0x80 bits, or longer than 63.
    BadLabel,
    /// A name longer than 255 bytes.
    NameTooLong,
}

impl Error {
    /// Stable snake_case weird name.
    pub fn name(self) -> &'static str {
        match self {
            Error::ShortHeader => "dns_truncated_header",
            Error::Truncated => "dns_truncated",
            Error::ForwardPointer => "dns_label_forward_compress_offset",
            Error::TooManyHops => "dns_compression_too_deep",
            Error::BadLabel => "dns_bad_label",
            Error::NameTooLong => "dns_name_too_long",
        }
    }
}

/// The 12-byte message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Transaction id.
    pub id: u16,
    /// Flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode).
    pub flags: u16,
    /// Question count.
    pub qdcount: u16,
    /// Answer count.
    pub ancount: u16,
    /// Authority count.
    pub nscount: u16,
    /// Additional count.
    pub arcount: u16,
}

impl Header {
    /// Reads the header, if there are 12 bytes.
    pub fn parse(m: &[u8]) -> Option<Header> {
        let h = m.get(..HEADER_LEN)?;
        let w = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        Some(Header {
            id: w(0),
            flags: w(2),
            qdcount: w(4),
            ancount: w(6),
            nscount: w(8),
            arcount: w(10),
        })
    }
    /// QR bit: response.
    pub fn qr(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    /// Opcode (4 bits).
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }
    /// Authoritative answer.
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }
    /// Truncated.
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    /// Recursion desired.
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }
    /// Recursion available.
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }
    /// Zeek's Z: bits Z, AD, CD.
    pub fn z(&self) -> u8 {
        ((self.flags >> 4) & 0x7) as u8
    }
    /// Response code (low 4 bits; EDNS extended bits are not merged).
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
    /// Total resource records announced.
    pub fn rr_total(&self) -> usize {
        self.ancount as usize + self.nscount as usize + self.arcount as usize
    }

    /// Cheap structural sanity for `msg_len` bytes of message: at most 16
    /// questions, at least one entry, and counts that fit the length (a
    /// question takes at least 5 bytes, a record at least 11). Without a
    /// port hint the opcode must be an assigned one (0-2, 4-6); on a DNS port
    /// any opcode is read (and recorded with its number), as Suricata and
    /// Zeek do: unassigned opcodes are what scanners and tunnels send.
    pub fn plausible(&self, msg_len: usize, port_hint: bool) -> bool {
        let op = self.opcode();
        if !port_hint && (op > 6 || op == 3) {
            return false;
        }
        if self.qdcount > 16 || self.qdcount as usize + self.rr_total() == 0 {
            return false;
        }
        // A query with an error code is nonsense.
        if !self.qr() && self.rcode() != 0 {
            return false;
        }
        let min = HEADER_LEN + self.qdcount as usize * 5 + self.rr_total() * 11;
        min <= msg_len
    }
}

/// A name rendered into a fixed buffer (no allocation). Labels are joined by
/// `.`, with no trailing dot; the root name is empty.
pub struct NameBuf {
    buf: [u8; MAX_NAME],
    len: usize,
}

impl Default for NameBuf {
    fn default() -> Self {
        NameBuf {
            buf: [0; MAX_NAME],
            len: 0,
        }
    }
}

impl NameBuf {
    /// The rendered bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    fn clear(&mut self) {
        self.len = 0;
    }
    fn push_label(&mut self, label: &[u8]) -> Result<(), Error> {
        let dot = usize::from(self.len > 0);
        let end = self.len + dot + label.len();
        if end > MAX_NAME {
            return Err(Error::NameTooLong);
        }
        if dot == 1 {
            self.buf[self.len] = b'.';
        }
        self.buf[self.len + dot..end].copy_from_slice(label);
        self.len = end;
        Ok(())
    }
}

/// Walks the name at `pos` in `msg`, optionally rendering it into `out`.
/// Returns the position just after the name in the original byte stream.
pub fn read_name(msg: &[u8], pos: usize, mut out: Option<&mut NameBuf>) -> Result<usize, Error> {
    if let Some(o) = out.as_deref_mut() {
        o.clear();
    }
    let mut cur = pos;
    // Bytes readable from `cur`: up to `limit` (the last pointer's position).
    let mut limit = msg.len();
    let mut end_after: Option<usize> = None;
    let mut hops = 0usize;
    let mut wire_len = 0usize;
    loop {
        if cur >= limit {
            return Err(Error::Truncated);
        }
        let b = msg[cur];
        match b & 0xc0 {
            0x00 => {
                let l = b as usize;
                if l == 0 {
                    return Ok(end_after.unwrap_or(cur + 1));
                }
                let label = msg
                    .get(cur + 1..cur + 1 + l)
                    .filter(|_| cur + 1 + l <= limit)
                    .ok_or(Error::Truncated)?;
                wire_len += l + 1;
                if wire_len > MAX_NAME {
                    return Err(Error::NameTooLong);
                }
                if let Some(o) = out.as_deref_mut() {
                    o.push_label(label)?;
                }
                cur += 1 + l;
            }
            0xc0 => {
                let lo = *msg
                    .get(cur + 1)
                    .filter(|_| cur + 1 < limit)
                    .ok_or(Error::Truncated)?;
                let target = (((b & 0x3f) as usize) << 8) | lo as usize;
                if target >= cur {
                    return Err(Error::ForwardPointer);
                }
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(Error::TooManyHops);
                }
                if end_after.is_none() {
                    end_after = Some(cur + 2);
                }
                limit = cur;
                cur = target;
            }
            _ => return Err(Error::BadLabel),
        }
    }
}

/// One question entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    /// Offset of the name in the message.
    pub name_pos: usize,
    /// QTYPE.
    pub qtype: u16,
    /// QCLASS (for mDNS, bit 15 is the unicast-response flag).
    pub qclass: u16,
}

/// One resource record; rdata is referenced by offset so names inside it can
/// be decompressed against the whole message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rr {
    /// Offset of the owner name.
    pub name_pos: usize,
    /// TYPE.
    pub rtype: u16,
    /// CLASS (for mDNS, bit 15 is cache-flush).
    pub class: u16,
    /// TTL in seconds.
    pub ttl: u32,
    /// Offset of RDATA.
    pub rdata_pos: usize,
    /// RDLENGTH.
    pub rdlen: usize,
}

impl Rr {
    /// The RDATA bytes.
    pub fn rdata<'a>(&self, msg: &'a [u8]) -> &'a [u8] {
        msg.get(self.rdata_pos..self.rdata_pos + self.rdlen)
            .unwrap_or(&[])
    }
}

fn u16_at(m: &[u8], p: usize) -> Result<u16, Error> {
    m.get(p..p + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or(Error::Truncated)
}

fn u32_at(m: &[u8], p: usize) -> Result<u32, Error> {
    m.get(p..p + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(Error::Truncated)
}

/// Reads a question at `pos`; returns it and the next position.
pub fn read_question(msg: &[u8], pos: usize) -> Result<(Question, usize), Error> {
    let p = read_name(msg, pos, None)?;
    let qtype = u16_at(msg, p)?;
    let qclass = u16_at(msg, p + 2)?;
    Ok((
        Question {
            name_pos: pos,
            qtype,
            qclass,
        },
        p + 4,
    ))
}

/// Reads a resource record at `pos`; returns it and the next position.
pub fn read_rr(msg: &[u8], pos: usize) -> Result<(Rr, usize), Error> {
    let p = read_name(msg, pos, None)?;
    let rtype = u16_at(msg, p)?;
    let class = u16_at(msg, p + 2)?;
    let ttl = u32_at(msg, p + 4)?;
    let rdlen = u16_at(msg, p + 8)? as usize;
    let rdata_pos = p + 10;
    let end = rdata_pos + rdlen;
    if end > msg.len() {
        return Err(Error::Truncated);
    }
    Ok((
        Rr {
            name_pos: pos,
            rtype,
            class,
            ttl,
            rdata_pos,
            rdlen,
        },
        end,
    ))
}

/// Walks the whole message without allocating. Returns the number of bytes
/// the message occupies (which may be less than `msg.len()`).
pub fn validate(msg: &[u8]) -> Result<usize, Error> {
    let h = Header::parse(msg).ok_or(Error::ShortHeader)?;
    let mut pos = HEADER_LEN;
    for _ in 0..h.qdcount {
        pos = read_question(msg, pos)?.1;
    }
    for _ in 0..h.rr_total() {
        pos = read_rr(msg, pos)?.1;
    }
    Ok(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(msg: &[u8], pos: usize) -> Result<(String, usize), Error> {
        let mut b = NameBuf::default();
        let end = read_name(msg, pos, Some(&mut b))?;
        Ok((String::from_utf8_lossy(b.as_bytes()).into_owned(), end))
    }

    #[test]
    fn plain_and_compressed_names() {
        // 12 bytes of header padding, then "a.bc" at 12, then a pointer to 14 ("bc").
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[1, b'a', 2, b'b', b'c', 0]); // 12..18: a.bc
        m.extend_from_slice(&[1, b'x', 0xc0, 14]); // 18..22: x + ptr(14)
        assert_eq!(name(&m, 12).unwrap(), ("a.bc".to_string(), 18));
        assert_eq!(name(&m, 18).unwrap(), ("x.bc".to_string(), 22));
        assert_eq!(name(&m, 17).unwrap(), (String::new(), 18)); // root
    }

    #[test]
    fn pointer_loops_and_forward_pointers_fail() {
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[0xc0, 12]); // points at itself
        assert_eq!(read_name(&m, 12, None), Err(Error::ForwardPointer));
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[0xc0, 14, 0]); // forward
        assert_eq!(read_name(&m, 12, None), Err(Error::ForwardPointer));
        // Two pointers pointing at each other: 12 -> 14 is forward; 14 -> 12 is
        // backward but the bytes at 12 may only be read up to 14 (the pointer's
        // 2nd byte is outside), so the walk stops.
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[0xc0, 14, 0xc0, 12]);
        assert!(read_name(&m, 14, None).is_err());
    }

    #[test]
    fn bad_labels() {
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[0x40, 0]);
        assert_eq!(read_name(&m, 12, None), Err(Error::BadLabel));
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[5, b'a']);
        assert_eq!(read_name(&m, 12, None), Err(Error::Truncated));
        let mut m = vec![0u8; 12];
        for _ in 0..5 {
            m.push(63);
            m.extend_from_slice(&[b'a'; 63]);
        }
        m.push(0);
        assert_eq!(read_name(&m, 12, None), Err(Error::NameTooLong));
    }
}
