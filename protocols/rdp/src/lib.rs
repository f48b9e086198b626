//! RDP analyzer (MS-RDPBCGR; TCP 3389): the connection's negotiation.
//!
//! Wire format: a TPKT header (RFC 1006: version 3, reserved, 2-byte total
//! length) carries an X.224 TPDU (ITU-T X.224 / ISO 8073): length indicator,
//! code (0xE0 Connection Request, 0xD0 Connection Confirm), destination and
//! source references and class. The Connection Request (2.2.1.1) may hold a
//! `Cookie: mstshash=USER\r\n` or a routing token (`Cookie: msts=...\r\n`),
//! then an RDP_NEG_REQ (type 1, flags, length 8, requestedProtocols as a
//! little-endian u32). The Confirm (2.2.1.2) may hold an RDP_NEG_RSP (type 2,
//! flags, length, selectedProtocol) or an RDP_NEG_FAILURE (type 3, flags,
//! length, failureCode).
//!
//! What is kept ([`model::records::RdpRecord`], one per connection, emitted
//! at the Confirm): whether a cookie or routing token was present (never
//! their values: the cookie is a user name), the requested and selected
//! protocols and flags, a failure code, and whether the connection goes on
//! with standard RDP security (no TLS). When a TLS-based protocol is
//! selected (TLS, CredSSP, RDSTLS...), every later byte goes to an embedded
//! TLS analyzer ([`proto_tls::Tls`]) so the server certificate is logged.
//! With standard RDP security the analysis stops after the Confirm.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::RdpRecord;
use model::{Direction, Transport};

/// Largest TPKT read for the negotiation (a Connection Request with a long
/// routing token stays well below).
const MAX_TPKT: usize = 2048;
const TPDU_CR: u8 = 0xe0;
const TPDU_CC: u8 = 0xd0;
const NEG_REQ: u8 = 1;
const NEG_RSP: u8 = 2;
const NEG_FAILURE: u8 = 3;

/// The RDP protocol.
pub struct Rdp;

impl Protocol for Rdp {
    fn name(&self) -> &'static str {
        "rdp"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[3389]
    }

    /// A TPKT (03 00, length) holding an X.224 Connection Request whose
    /// length indicator matches; on other ports the request must also carry
    /// what only RDP puts there (a `Cookie:` line or an RDP_NEG_REQ), so
    /// ISO-on-TCP protocols such as S7comm (COTP with TSAP parameters) are
    /// left alone.
    fn probe(&self, dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        if dir != Direction::ToServer {
            return if data.is_empty() {
                Probe::NeedMore
            } else {
                Probe::NoMatch
            };
        }
        let want: [Option<u8>; 2] = [Some(3), Some(0)];
        for (i, w) in want.iter().enumerate() {
            match data.get(i) {
                None => return Probe::NeedMore,
                Some(b) if Some(*b) != *w => return Probe::NoMatch,
                _ => {}
            }
        }
        let Some(h) = data.get(..11) else {
            return Probe::NeedMore;
        };
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if !(11..=MAX_TPKT).contains(&len) || usize::from(h[4]) + 5 != len || h[5] != TPDU_CR {
            return Probe::NoMatch;
        }
        if port_hint {
            return Probe::Match;
        }
        let rest = &data[11..];
        if len == 11 || rest.starts_with(b"Cookie: ") || rest.first() == Some(&NEG_REQ) {
            Probe::Match
        } else if rest.len() < 8 && b"Cookie: ".starts_with(rest) {
            Probe::NeedMore
        } else {
            Probe::NoMatch
        }
    }

    /// TPKT version 3.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[3])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(RdpAnalyzer::default())
    }
}

#[derive(Default)]
struct RdpAnalyzer {
    rec: RdpRecord,
    request_seen: bool,
    /// After a TLS-based protocol was selected: every byte goes here.
    tls: Option<Box<dyn Analyzer>>,
    /// The Confirm selected a TLS-based protocol.
    tls_selected: bool,
    emitted: bool,
}

/// One whole TPKT at the start of `data`: (its X.224 TPDU, total length),
/// `Ok(None)` to wait, `Err` when this is not a TPKT.
fn tpkt(data: &[u8]) -> Result<Option<(&[u8], usize)>, ()> {
    let Some(h) = data.get(..4) else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if h[0] != 3 || !(7..=MAX_TPKT).contains(&len) {
        return Err(());
    }
    Ok(data.get(4..len).map(|t| (t, len)))
}

fn le32(b: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(..4)?.try_into().ok()?))
}

impl RdpAnalyzer {
    fn emit(&mut self, out: &mut Out<'_>) {
        if !std::mem::replace(&mut self.emitted, true) {
            out.emit(std::mem::take(&mut self.rec));
        }
    }

    /// The Connection Request's variable part: cookie or token, NEG_REQ.
    fn request(&mut self, mut v: &[u8]) {
        self.request_seen = true;
        if v.starts_with(b"Cookie: ") {
            if v.starts_with(b"Cookie: mstshash=") {
                self.rec.cookie = true;
            } else {
                self.rec.routing_token = true;
            }
            // The line ends with CR LF; its value is never looked at.
            match v.windows(2).position(|w| w == b"\r\n") {
                Some(i) => v = &v[i + 2..],
                None => return,
            }
        }
        if v.first() == Some(&NEG_REQ) {
            self.rec.request_flags = v.get(1).copied();
            self.rec.requested_protocols = v.get(4..).and_then(le32);
        }
    }

    /// The Connection Confirm's variable part: NEG_RSP or NEG_FAILURE.
    fn confirm(&mut self, v: &[u8]) {
        self.rec.confirmed = true;
        match v.first() {
            Some(&NEG_RSP) => {
                self.rec.response_flags = v.get(1).copied();
                self.rec.selected_protocol = v.get(4..).and_then(le32);
            }
            Some(&NEG_FAILURE) => self.rec.failure_code = v.get(4..).and_then(le32),
            _ => {}
        }
        let selected = self.rec.selected_protocol.unwrap_or(0);
        self.rec.standard_security = self.rec.failure_code.is_none() && selected == 0;
        self.tls_selected = self.rec.failure_code.is_none() && selected != 0;
    }
}

impl Analyzer for RdpAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        if let Some(tls) = self.tls.as_mut() {
            return tls.feed(dir, data, out);
        }
        let (tpdu, len) = match tpkt(data) {
            Ok(Some(t)) => t,
            Ok(None) => return Progress::Consumed(0),
            Err(()) => {
                out.weird("rdp_bad_tpkt");
                self.emit(out);
                return Progress::Done;
            }
        };
        // X.224: length indicator, code, dst-ref, src-ref, class.
        let code = tpdu.get(1).copied().unwrap_or(0);
        let var = tpdu.get(7..).unwrap_or(&[]);
        match (dir, code & 0xf0) {
            (Direction::ToServer, TPDU_CR) if !self.request_seen => self.request(var),
            (Direction::ToClient, TPDU_CC) => {
                self.confirm(var);
                self.emit(out);
                if self.tls_selected {
                    // The TLS handshake follows on this connection.
                    self.tls = Some(proto_tls::Tls.start());
                    return Progress::Consumed(len);
                }
                return Progress::Done;
            }
            _ => {
                // Anything else before the Confirm: not a negotiation we follow.
                out.weird("rdp_unexpected_tpdu");
                self.emit(out);
                return Progress::Done;
            }
        }
        Progress::Consumed(len)
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Out<'_>) -> Progress {
        if let Some(tls) = self.tls.as_mut() {
            return tls.gap(dir, len, out);
        }
        out.weird("content_gap");
        self.emit(out);
        Progress::Done
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.emit(out);
        if let Some(mut tls) = self.tls.take() {
            tls.finish(out);
        }
    }
}

#[cfg(test)]
mod tests;
