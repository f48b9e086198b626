//! Vendor remote-support tools: TeamViewer and AnyDesk presence (an MDS2
//! "remote service" question: can the manufacturer, or anyone, take control
//! of this device from outside?).
//!
//! Signatures are facts taken from nDPI (ntop, LGPL-3.0; no code copied):
//! - TeamViewer, `src/lib/protocols/teamviewer.c`: over TCP every packet of
//!   the protocol starts with the bytes `0x17 0x24` (later ones may start
//!   `0x11 0x30`); over UDP the payload is longer than 13 bytes, its first
//!   byte (a counter) is 0 and bytes 11-12 are `0x17 0x24`. A flow counts
//!   once four packets carried the signature, or at once on TeamViewer's
//!   port 5938 ([`TEAMVIEWER_CONFIRM`]).
//! - AnyDesk: nDPI has no AnyDesk dissector; it names AnyDesk from the TLS
//!   certificate (`AnyDesk Client`, the self-signed certificate every
//!   AnyDesk installation presents on its direct-connection port 7070) and
//!   from AnyDesk host names (`*.anydesk.com`). Here: a TLS flow on 7070 or
//!   6568 goes through Ward's TLS analyzer (its records are logged as for
//!   any TLS flow) and counts as AnyDesk when a certificate name or the
//!   server name matches [`ANYDESK_NAMES`], or when the first
//!   [`ANYDESK_SCAN`] bytes of either direction carry a certificate whose
//!   common name is `AnyDesk Client` (its DER encoding, [`ANYDESK_CN_DER`]):
//!   that also catches the client certificate AnyDesk peers send each
//!   other, when the server's handshake was not captured.
//!
//! One [`RemoteSupportRecord`] per recognised flow. Session contents (the
//! products encrypt them) are never read.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::{RemoteSupportProduct, RemoteSupportRecord, TlsRecord};
use model::{text, Direction, Event, Record, Transport};

/// TeamViewer's registered port.
pub const TEAMVIEWER_PORT: u16 = 5938;
/// Signature packets that confirm TeamViewer off its port (nDPI's stage 4).
pub const TEAMVIEWER_CONFIRM: u32 = 4;
/// AnyDesk's direct-connection (7070) and alternative (6568) ports.
pub const ANYDESK_PORTS: &[u16] = &[7070, 6568];

/// A packet signature: `bytes` at `offset` of the payload.
#[derive(Debug, Clone, Copy)]
pub struct Magic {
    /// Transport the signature applies to.
    pub transport: Transport,
    /// Offset of `bytes` in the payload.
    pub offset: usize,
    /// The signature bytes.
    pub bytes: &'static [u8],
    /// Shortest payload carrying it.
    pub min_len: usize,
    /// The first byte must be 0 (TeamViewer's UDP counter starts at 0).
    pub zero_first: bool,
    /// Counts only after a packet with an opening signature was seen.
    pub follow_up: bool,
}

/// TeamViewer packet signatures (nDPI `teamviewer.c`).
pub const TEAMVIEWER_MAGIC: &[Magic] = &[
    Magic {
        transport: Transport::Tcp,
        offset: 0,
        bytes: &[0x17, 0x24],
        min_len: 3,
        zero_first: false,
        follow_up: false,
    },
    Magic {
        transport: Transport::Tcp,
        offset: 0,
        bytes: &[0x11, 0x30],
        min_len: 3,
        zero_first: false,
        follow_up: true,
    },
    Magic {
        transport: Transport::Udp,
        offset: 11,
        bytes: &[0x17, 0x24],
        min_len: 14,
        zero_first: true,
        follow_up: false,
    },
];

/// Names (case-insensitive) that mark AnyDesk: a certificate subject or
/// issuer common name equal to the first, or a server name (SNI, SAN)
/// ending in one of the others.
pub const ANYDESK_NAMES: &[&str] = &["anydesk client", ".anydesk.com"];

/// A certificate common name `AnyDesk Client` as DER writes it: the
/// commonName OID (2.5.4.3), then the string's tag (UTF8String 0x0c or
/// PrintableString 0x13, the byte left out here) and its length, 14.
pub const ANYDESK_CN_DER: (&[u8], &[u8]) = (&[0x06, 0x03, 0x55, 0x04, 0x03], b"\x0eAnyDesk Client");
/// Bytes per direction searched for [`ANYDESK_CN_DER`] (the handshake).
pub const ANYDESK_SCAN: usize = 16 * 1024;

/// Longest evidence string.
const MAX_EVIDENCE: usize = 128;

/// Whether `data` carries a TeamViewer signature over `transport`:
/// `Some(follow_up)` when it does.
fn teamviewer_magic(transport: Transport, data: &[u8]) -> Option<bool> {
    TEAMVIEWER_MAGIC
        .iter()
        .find(|m| {
            m.transport == transport
                && data.len() >= m.min_len
                && (!m.zero_first || data[0] == 0)
                && data.get(m.offset..m.offset + m.bytes.len()) == Some(m.bytes)
        })
        .map(|m| m.follow_up)
}

/// TeamViewer over TCP and UDP.
pub struct TeamViewer;

impl Protocol for TeamViewer {
    fn name(&self) -> &'static str {
        "teamviewer"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp, Transport::Udp]
    }

    fn ports(&self) -> &'static [u16] {
        &[TEAMVIEWER_PORT]
    }

    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        // The TCP signature is the first two bytes; the UDP one needs 14.
        if data.len() < 3 {
            return if data.is_empty() || data[0] == 0x17 {
                Probe::NeedMore
            } else {
                Probe::NoMatch
            };
        }
        for t in [Transport::Tcp, Transport::Udp] {
            if teamviewer_magic(t, data) == Some(false) {
                return Probe::Match;
            }
        }
        Probe::NoMatch
    }

    /// The TCP signatures, or the UDP one's leading zero.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[0x00, 0x11, 0x17])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::<TeamViewerAnalyzer>::default()
    }
}

#[derive(Default)]
struct TeamViewerAnalyzer {
    packets: u32,
    opened: bool,
    reported: bool,
}

impl Analyzer for TeamViewerAnalyzer {
    fn feed(&mut self, _dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let Some(flow) = out.flow().copied() else {
            return Progress::Done;
        };
        match teamviewer_magic(flow.transport, data) {
            Some(false) => self.opened = true,
            Some(true) if self.opened => {}
            _ => return Progress::Consumed(data.len()),
        }
        self.packets = self.packets.saturating_add(1);
        let known_port = flow.server.port == TEAMVIEWER_PORT || flow.client.port == TEAMVIEWER_PORT;
        if !self.reported && (known_port || self.packets >= TEAMVIEWER_CONFIRM) {
            self.reported = true;
            let t = flow.transport.as_str();
            out.emit(RemoteSupportRecord {
                product: RemoteSupportProduct::TeamViewer,
                evidence: format!("{t} magic 0x1724 x{}", self.packets),
                signature_packets: self.packets,
                known_port,
            });
            return Progress::Done;
        }
        Progress::Consumed(data.len())
    }

    fn gap(&mut self, _dir: Direction, _len: u64, _out: &mut Out<'_>) -> Progress {
        // The next data arrival starts a packet again.
        Progress::Consumed(0)
    }
}

/// AnyDesk direct connections (TLS on 7070/6568).
pub struct AnyDesk;

impl Protocol for AnyDesk {
    fn name(&self) -> &'static str {
        "anydesk"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        ANYDESK_PORTS
    }

    /// A TLS handshake record on an AnyDesk port; elsewhere the TLS
    /// analyzer takes the flow.
    fn probe(&self, _dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        if !port_hint {
            return Probe::NoMatch;
        }
        match data {
            [] | [0x16] => Probe::NeedMore,
            [0x16, 0x03, ..] => Probe::Match,
            _ => Probe::NoMatch,
        }
    }

    /// Only on its ports.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::NONE
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(AnyDeskAnalyzer {
            tls: proto_tls::Tls.start(),
            reported: false,
            scanned: [0; 2],
            carry: [Vec::new(), Vec::new()],
        })
    }
}

struct AnyDeskAnalyzer {
    tls: Box<dyn Analyzer>,
    reported: bool,
    /// Bytes searched per direction.
    scanned: [usize; 2],
    /// The last bytes of the previous data per direction (a name split
    /// across segments), at most the signature's length.
    carry: [Vec<u8>; 2],
}

/// Whether `data` holds a DER common name `AnyDesk Client`.
fn has_anydesk_cn(data: &[u8]) -> bool {
    let (oid, name) = ANYDESK_CN_DER;
    let n = oid.len() + 1 + name.len();
    data.windows(n)
        .any(|w| w.starts_with(oid) && matches!(w[oid.len()], 0x0c | 0x13) && w.ends_with(name))
}

/// The AnyDesk name a TLS record carries, if any.
fn anydesk_evidence(t: &TlsRecord) -> Option<String> {
    let cn = |dn: &Option<String>| -> Option<String> {
        let dn = dn.as_deref()?;
        dn.split(',')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("CN="))
            .map(str::to_string)
    };
    for (what, name) in [
        ("certificate", cn(&t.cert_subject)),
        ("issuer", cn(&t.cert_issuer)),
    ] {
        if let Some(n) = name.filter(|n| n.eq_ignore_ascii_case(ANYDESK_NAMES[0])) {
            return Some(format!("tls {what} CN={n}"));
        }
    }
    let names = t.server_name.iter().chain(t.cert_san_dns.iter());
    for n in names {
        let lower = n.to_ascii_lowercase();
        if ANYDESK_NAMES[1..].iter().any(|s| lower.ends_with(s)) {
            return Some(format!("tls name {n}"));
        }
    }
    None
}

impl AnyDeskAnalyzer {
    /// Runs the TLS analyzer into a scratch list, passes its records on and
    /// looks at its TLS records.
    fn inner(
        &mut self,
        out: &mut Out<'_>,
        f: impl FnOnce(&mut dyn Analyzer, &mut Out<'_>) -> Option<Progress>,
    ) -> Option<Progress> {
        let flow = out.flow().copied();
        let mut events: Vec<Event> = Vec::new();
        let p = {
            let mut inner = Out::new(out.ts(), flow.as_ref(), "tls", &mut events);
            f(self.tls.as_mut(), &mut inner)
        };
        for e in events {
            if let Record::Tls(t) = &e.record {
                if !self.reported {
                    if let Some(ev) = anydesk_evidence(t) {
                        self.reported = true;
                        let known_port =
                            flow.is_some_and(|f| ANYDESK_PORTS.contains(&f.server.port));
                        out.emit(RemoteSupportRecord {
                            product: RemoteSupportProduct::AnyDesk,
                            evidence: text::bounded(ev.as_bytes(), MAX_EVIDENCE),
                            signature_packets: 1,
                            known_port,
                        });
                    }
                }
            }
            out.emit(e.record);
        }
        p
    }
}

impl AnyDeskAnalyzer {
    /// Searches the handshake bytes of `dir` for the AnyDesk certificate.
    fn scan(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) {
        let i = (dir == Direction::ToClient) as usize;
        if self.reported || self.scanned[i] >= ANYDESK_SCAN {
            return;
        }
        let take = data.len().min(ANYDESK_SCAN - self.scanned[i]);
        self.scanned[i] += take;
        let keep = ANYDESK_CN_DER.0.len() + ANYDESK_CN_DER.1.len();
        let mut window = std::mem::take(&mut self.carry[i]);
        window.extend_from_slice(&data[..take]);
        if has_anydesk_cn(&window) {
            self.reported = true;
            let side = match dir {
                Direction::ToServer => "client",
                Direction::ToClient => "server",
            };
            let known_port = out
                .flow()
                .is_some_and(|f| ANYDESK_PORTS.contains(&f.server.port));
            out.emit(RemoteSupportRecord {
                product: RemoteSupportProduct::AnyDesk,
                evidence: format!("tls {side} certificate CN=AnyDesk Client"),
                signature_packets: 1,
                known_port,
            });
            return;
        }
        let from = window.len().saturating_sub(keep);
        window.drain(..from);
        self.carry[i] = window;
    }
}

impl Analyzer for AnyDeskAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        self.scan(dir, data, out);
        self.inner(out, |a, o| Some(a.feed(dir, data, o)))
            .unwrap_or(Progress::Done)
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Out<'_>) -> Progress {
        self.inner(out, |a, o| Some(a.gap(dir, len, o)))
            .unwrap_or(Progress::Done)
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.inner(out, |a, o| {
            a.finish(o);
            None
        });
    }
}

#[cfg(test)]
mod tests;
