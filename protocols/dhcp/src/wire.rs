//! Zero-copy BOOTP/DHCPv4 wire format: the 236-byte fixed header (RFC 951,
//! RFC 2131 §2), the magic cookie 99.130.83.99 (RFC 2132 §2), and an option
//! walker that handles pad (0), end (255) and option overload (52, RFC 2132
//! §9.3: options continued in the `file` and/or `sname` fields).

use model::MacAddr;
use std::net::Ipv4Addr;

/// RFC 2132 §2 magic cookie.
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Offset of the magic cookie (end of the fixed BOOTP header).
pub const COOKIE_OFFSET: usize = 236;
/// Offset of the first option.
pub const OPTIONS_OFFSET: usize = 240;
const SNAME: std::ops::Range<usize> = 44..108;
const FILE: std::ops::Range<usize> = 108..236;

/// The fixed BOOTP header fields Ward uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 1 BOOTREQUEST, 2 BOOTREPLY.
    pub op: u8,
    /// Hardware address type (1 Ethernet).
    pub htype: u8,
    /// Hardware address length.
    pub hlen: u8,
    /// Relay hops.
    pub hops: u8,
    /// Transaction id.
    pub xid: u32,
    /// Client address (ciaddr).
    pub ciaddr: Ipv4Addr,
    /// "Your" address (yiaddr).
    pub yiaddr: Ipv4Addr,
    /// Client hardware address field (16 bytes).
    pub chaddr: [u8; 16],
    /// True if the magic cookie is present at offset 236.
    pub cookie_ok: bool,
}

impl Header {
    /// Reads the header from a datagram of at least 240 bytes (header + cookie).
    pub fn parse(d: &[u8]) -> Option<Header> {
        let h = d.get(..OPTIONS_OFFSET)?;
        let ip = |o: usize| Ipv4Addr::new(h[o], h[o + 1], h[o + 2], h[o + 3]);
        let mut chaddr = [0u8; 16];
        chaddr.copy_from_slice(&h[28..44]);
        Some(Header {
            op: h[0],
            htype: h[1],
            hlen: h[2],
            hops: h[3],
            xid: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
            ciaddr: ip(12),
            yiaddr: ip(16),
            chaddr,
            cookie_ok: h[COOKIE_OFFSET..OPTIONS_OFFSET] == MAGIC_COOKIE,
        })
    }

    /// Structural sanity: op is request/reply, hlen fits chaddr, hops bounded
    /// (RFC 1542 relays drop messages past 16 hops).
    pub fn plausible(&self) -> bool {
        matches!(self.op, 1 | 2) && self.hlen <= 16 && self.hops <= 16
    }

    /// chaddr as a MAC address when htype is Ethernet and hlen is 6.
    pub fn client_mac(&self) -> Option<MacAddr> {
        (self.htype == 1 && self.hlen == 6)
            .then(|| MacAddr::from_slice(&self.chaddr))
            .flatten()
    }
}

/// Why an option area could not be walked to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionError {
    /// An option's length runs past the end of its area.
    Truncated,
    /// The main option area ended without an END option.
    NoEnd,
}

/// Walks one option area, calling `f(code, value)` for every option other than
/// pad and end. Returns whether END was seen.
fn walk_area(area: &[u8], f: &mut impl FnMut(u8, &[u8])) -> Result<bool, OptionError> {
    let mut pos = 0usize;
    while let Some(&code) = area.get(pos) {
        match code {
            0 => pos += 1,
            255 => return Ok(true),
            _ => {
                let Some(&len) = area.get(pos + 1) else {
                    return Err(OptionError::Truncated);
                };
                let start = pos + 2;
                let end = start + len as usize;
                let Some(val) = area.get(start..end) else {
                    return Err(OptionError::Truncated);
                };
                f(code, val);
                pos = end;
            }
        }
    }
    Ok(false)
}

/// Walks every option of the message `msg` (starting at offset 240), then the
/// `file` and `sname` fields if option 52 says they are overloaded. Pad and end
/// are not reported. Requires the cookie to have been checked by the caller.
pub fn for_each_option(msg: &[u8], mut f: impl FnMut(u8, &[u8])) -> Result<(), OptionError> {
    let Some(main) = msg.get(OPTIONS_OFFSET..) else {
        return Err(OptionError::Truncated);
    };
    let mut overload = 0u8;
    let saw_end = walk_area(main, &mut |code, val| {
        if code == 52 && overload == 0 {
            overload = val.first().copied().unwrap_or(0) & 3;
        }
        f(code, val);
    })?;
    // RFC 2132 §9.3: file first, then sname. Errors there are not fatal to the
    // main area's values but are still reported.
    let mut result = if saw_end {
        Ok(())
    } else {
        Err(OptionError::NoEnd)
    };
    if overload & 1 != 0 {
        if let Some(area) = msg.get(FILE) {
            if let Err(e) = walk_area(area, &mut f) {
                result = Err(e);
            }
        }
    }
    if overload & 2 != 0 {
        if let Some(area) = msg.get(SNAME) {
            if let Err(e) = walk_area(area, &mut f) {
                result = Err(e);
            }
        }
    }
    result
}
