//! LLDP and CDP link-layer neighbor announcements.
//!
//! Two [`LinkProtocol`]s, each producing one [`NeighborRecord`] per frame:
//! - [`Lldp`]: IEEE 802.1AB Link Layer Discovery Protocol on EtherType 0x88cc,
//!   including the ANSI/TIA-1057 LLDP-MED inventory TLVs (hardware, firmware
//!   and software revision, serial, manufacturer, model) and the RFC 8520 §10
//!   MUD URL TLV (see [`lldp`]);
//! - [`Cdp`]: Cisco Discovery Protocol v1/v2 on LLC/SNAP OUI 00:00:0c, PID
//!   0x2000 (see [`cdp`]).
//!
//! Both parsers are zero-copy TLV walkers whose every step consumes at least
//! one TLV header, so malformed frames cannot loop; strings go through
//! `model::text`, and lists are capped.

pub mod cdp;
pub mod lldp;

use analyzer_api::{LinkFrame, LinkProtocol, Out};
use model::text;
use std::fmt::Write as _;

/// Most management addresses kept per frame.
pub const MAX_ADDRS: usize = 16;
/// Longest description kept (system description, CDP software version).
pub const MAX_DESCRIPTION: usize = 512;
/// Longest binary id rendered as hex, in bytes.
const MAX_HEX: usize = 64;

/// LLDP on EtherType 0x88cc ("lldp").
pub struct Lldp;

/// LLDP's EtherType.
pub const LLDP_ETHERTYPE: u16 = 0x88cc;

impl LinkProtocol for Lldp {
    fn name(&self) -> &'static str {
        "lldp"
    }

    fn accepts(&self, frame: &LinkFrame<'_>) -> bool {
        frame.ethertype == Some(LLDP_ETHERTYPE)
    }

    fn handle(&self, frame: &LinkFrame<'_>, out: &mut Out<'_>) {
        lldp::handle(frame, out);
    }
}

/// CDP on LLC/SNAP 00:00:0c / 0x2000 ("cdp").
pub struct Cdp;

/// CDP's SNAP OUI and protocol id.
pub const CDP_SNAP: ([u8; 3], u16) = ([0x00, 0x00, 0x0c], 0x2000);

impl LinkProtocol for Cdp {
    fn name(&self) -> &'static str {
        "cdp"
    }

    fn accepts(&self, frame: &LinkFrame<'_>) -> bool {
        frame.snap == Some(CDP_SNAP)
    }

    fn handle(&self, frame: &LinkFrame<'_>, out: &mut Out<'_>) {
        cdp::handle(frame, out);
    }
}

/// Lowercase hex of at most [`MAX_HEX`] bytes.
fn hex(b: &[u8]) -> String {
    let b = &b[..b.len().min(MAX_HEX)];
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// A multi-line description (Cisco version banners) as one printable line:
/// line breaks become spaces, runs of spaces collapse.
fn description(raw: &[u8]) -> Option<String> {
    let s = text::bounded(
        &raw.iter()
            .take(MAX_DESCRIPTION)
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
            .collect::<Vec<u8>>(),
        MAX_DESCRIPTION,
    );
    let mut out = String::with_capacity(s.len());
    for w in s.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    (!out.is_empty()).then_some(out)
}

/// Adds `addr` to `list` unless present or the list is full.
fn push_addr(list: &mut Vec<String>, addr: String) {
    if list.len() < MAX_ADDRS && !list.contains(&addr) {
        list.push(addr);
    }
}

#[cfg(test)]
mod tests;
