//! DTLS 1.0 / 1.2 / 1.3 (RFC 4347, RFC 6347, RFC 9147): TLS over UDP.
//!
//! Each datagram holds one or more records with a 13-byte header (type,
//! version `fe ff`/`fe fd`, epoch, 48-bit sequence number, length).
//! Handshake messages carry a 12-byte header (type, length, message_seq,
//! fragment_offset, fragment_length) and may be split across records and
//! datagrams, retransmitted, or both. Fragments are reassembled per
//! direction in order of message_seq (retransmissions of completed
//! messages are dropped; a fragment that does not continue the message being
//! built is dropped too: the sender retransmits), bounded by
//! [`MAX_HANDSHAKE`](crate::MAX_HANDSHAKE) per message (a longer one is
//! handled from its first bytes, like TLS). Complete messages go through
//! the same handling as TLS (history, hello facts, certificate); records of
//! a non-zero epoch are encrypted, and so are DTLS 1.3 records with the
//! unified header. A complete message sent again adds its history letter
//! again (Zeek's `CCC` for a ClientHello nobody answered).
//!
//! WebRTC multiplexes STUN, DTLS and SRTP on one UDP flow (RFC 7983 §7):
//! the probe asks for more datagrams while it sees STUN (first byte 0–3),
//! and the ClientHello may come from the flow's responder, in which case the
//! roles are flipped (Zeek marks that with `^` in the history).

use super::{content, idx, Out, TlsAnalyzer, MAX_HANDSHAKE};
use analyzer_api::{Analyzer, ByteSet, Probe, Protocol};
use model::{Direction, Transport};

/// DTLS (over UDP).
pub struct Dtls;

impl Protocol for Dtls {
    fn name(&self) -> &'static str {
        "dtls"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp]
    }

    fn ports(&self) -> &'static [u16] {
        &[443, 4433, 5061, 5684, 853]
    }

    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        probe(data)
    }

    /// A handshake record, or STUN's first bytes (RFC 7983) to wait past.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::range(0, 3).with(content::HANDSHAKE)
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(TlsAnalyzer {
            dtls: true,
            ..TlsAnalyzer::default()
        })
    }
}

/// Record header length.
const RECORD_HEADER: usize = 13;
/// Handshake message header length.
const HS_HEADER: usize = 12;

/// A handshake record of epoch 0 whose first message is a ClientHello,
/// ServerHello or HelloVerifyRequest; STUN (RFC 7983) asks for more.
fn probe(data: &[u8]) -> Probe {
    match data.first() {
        None => return Probe::NeedMore,
        Some(0..=3) => return Probe::NeedMore,
        Some(_) => {}
    }
    let ok = data.len() >= RECORD_HEADER + HS_HEADER
        && data[0] == content::HANDSHAKE
        && data[1] == 0xfe
        && matches!(data[2], 0xff | 0xfd)
        && data[3..5] == [0, 0]
        && matches!(data[RECORD_HEADER], 1..=3);
    if ok {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}

/// A handshake message being reassembled.
#[derive(Debug)]
pub(crate) struct Message {
    seq: u16,
    ty: u8,
    /// Announced length.
    len: usize,
    /// Bytes received so far (at most `MAX_HANDSHAKE`).
    buf: Vec<u8>,
}

/// A DTLS ClientHello body without its cookie: the TLS layout.
pub(crate) fn without_cookie(body: &[u8]) -> Option<Vec<u8>> {
    let sid_end = 35 + usize::from(*body.get(34)?);
    let cookie_len = usize::from(*body.get(sid_end)?);
    let rest = body.get(sid_end + 1 + cookie_len..)?;
    let mut v = Vec::with_capacity(sid_end + rest.len());
    v.extend_from_slice(body.get(..sid_end)?);
    v.extend_from_slice(rest);
    Some(v)
}

fn u16_at(d: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([d[i], d[i + 1]])
}

fn u24_at(d: &[u8], i: usize) -> usize {
    (usize::from(d[i]) << 16) | (usize::from(d[i + 1]) << 8) | usize::from(d[i + 2])
}

impl TlsAnalyzer {
    /// Handles one datagram travelling in `dir`.
    pub(crate) fn datagram(&mut self, dir: Direction, mut data: &[u8], out: &mut Out<'_>) {
        while !data.is_empty() {
            let Some(h) = data.get(..RECORD_HEADER) else {
                out.weird("dtls_bad_record");
                return;
            };
            if data[0] & 0xe0 == 0x20 {
                data = self.unified(dir, data);
                continue;
            }
            let (ct, epoch, len) = (h[0], u16_at(h, 3), usize::from(u16_at(h, 11)));
            if !(content::CHANGE_CIPHER_SPEC..=content::HEARTBEAT).contains(&ct) || h[1] != 0xfe {
                // Not DTLS: STUN or SRTP sharing the flow (RFC 7983).
                return;
            }
            let Some(body) = data.get(RECORD_HEADER..RECORD_HEADER + len) else {
                out.weird("dtls_bad_record");
                return;
            };
            data = &data[RECORD_HEADER + len..];
            let i = self.role(dir, ct, epoch, body);
            if self.sides[i].ignore {
                continue;
            }
            self.sides[i].records = self.sides[i].records.saturating_add(1);
            if ct == content::CHANGE_CIPHER_SPEC {
                if !self.sides[i].enc {
                    self.history(i == 0, 'i');
                    self.sides[i].enc = true;
                    if i == 0 && self.facts.client_ticket && !self.facts.client_key_exchange {
                        self.facts.resumed = true;
                    }
                }
            } else if epoch > 0 || ct == content::APPLICATION_DATA {
                self.ciphertext(i);
            } else {
                match ct {
                    content::HANDSHAKE => self.fragments(i, body, out),
                    content::ALERT => {
                        for a in body.chunks_exact(2) {
                            self.facts.last_alert = Some(a[1]);
                            self.history(i == 0, 'l');
                        }
                    }
                    content::HEARTBEAT => self.history(i == 0, 'b'),
                    _ => {}
                }
            }
            if self.facts.established {
                return;
            }
        }
    }

    /// A DTLS 1.3 record with the unified header (RFC 9147 §4: first byte
    /// `001CSLEE`): always encrypted. Returns what follows it in the datagram;
    /// without a length (L clear), or with a connection id whose length only
    /// the handshake told (C set), the record runs to the datagram's end.
    fn unified<'d>(&mut self, dir: Direction, data: &'d [u8]) -> &'d [u8] {
        let flags = data[0];
        let (cid, long_seq, has_len) = (flags & 0x10 != 0, flags & 0x08 != 0, flags & 0x04 != 0);
        let header = 1 + if long_seq { 2 } else { 1 };
        let rest = match data.get(header..header + 2) {
            Some(l) if has_len && !cid => data
                .get(header + 2 + usize::from(u16::from_be_bytes([l[0], l[1]]))..)
                .unwrap_or_default(),
            _ => &[],
        };
        let i = idx(dir) ^ usize::from(self.flipped == Some(true));
        if !self.sides[i].ignore {
            self.sides[i].records = self.sides[i].records.saturating_add(1);
            self.ciphertext(i);
        }
        rest
    }

    /// The side (0 = TLS client) that sent a record travelling in `dir`.
    /// The first hello decides whether the flow's roles are flipped.
    fn role(&mut self, dir: Direction, ct: u8, epoch: u16, body: &[u8]) -> usize {
        if self.flipped.is_none() && ct == content::HANDSHAKE && epoch == 0 {
            let from_server = dir == Direction::ToClient;
            let flipped = match body.first() {
                Some(1) => Some(from_server),
                Some(2 | 3) => Some(!from_server),
                _ => None,
            };
            if flipped == Some(true) && self.facts.history.is_empty() {
                self.facts.history.push('^');
            }
            self.flipped = flipped;
        }
        idx(dir) ^ usize::from(self.flipped == Some(true))
    }

    /// Handshake fragments of one record from side `i`.
    fn fragments(&mut self, i: usize, mut body: &[u8], out: &mut Out<'_>) {
        while let Some(h) = body.get(..HS_HEADER) {
            let (ty, len, seq, off, flen) =
                (h[0], u24_at(h, 1), u16_at(h, 4), u24_at(h, 6), u24_at(h, 9));
            let Some(frag) = body.get(HS_HEADER..HS_HEADER + flen) else {
                out.weird("dtls_bad_handshake_fragment");
                return;
            };
            body = &body[HS_HEADER + flen..];
            if seq < self.sides[i].dtls_next && off == 0 && flen == len {
                // A complete message sent again (the peer did not answer):
                // in the history once more, as Zeek logs it, not handled twice.
                self.history(i == 0, crate::history_letter(ty));
                continue;
            }
            if let Some((ty, buf, truncated)) = self.reassemble(i, ty, len, seq, off, frag) {
                if truncated {
                    out.weird("tls_handshake_too_large");
                }
                self.message(i, ty, &buf, out);
            }
        }
    }

    /// Adds a fragment; returns a message once complete (type, body, and
    /// whether only its first `MAX_HANDSHAKE` bytes were kept).
    fn reassemble(
        &mut self,
        i: usize,
        ty: u8,
        len: usize,
        seq: u16,
        off: usize,
        frag: &[u8],
    ) -> Option<(u8, Vec<u8>, bool)> {
        let side = &mut self.sides[i];
        if seq < side.dtls_next {
            return None; // Retransmission of a message already handled.
        }
        let keep = len.min(MAX_HANDSHAKE);
        let same = side
            .dtls_msg
            .as_ref()
            .is_some_and(|m| m.seq == seq && m.ty == ty && m.len == len);
        if !same {
            if off != 0 {
                return None; // Not the start of a message: wait for a retransmission.
            }
            side.dtls_msg = Some(Message {
                seq,
                ty,
                len,
                buf: Vec::with_capacity(keep.min(16 * 1024)),
            });
        }
        let m = side.dtls_msg.as_mut()?;
        let have = m.buf.len();
        if off > have {
            return None; // A gap: dropped (the sender retransmits).
        }
        let end = off.saturating_add(frag.len()).min(keep);
        if end > have {
            m.buf.extend_from_slice(&frag[have - off..end - off]);
        }
        if m.buf.len() < keep {
            return None;
        }
        let m = side.dtls_msg.take()?;
        side.dtls_next = seq.saturating_add(1);
        Some((m.ty, m.buf, m.len > keep))
    }
}
