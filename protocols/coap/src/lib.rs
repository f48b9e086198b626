//! CoAP analyzer (RFC 7252 over UDP, port 5683; 5684 is CoAP over DTLS and
//! goes to the DTLS analyzer).
//!
//! Wire format (RFC 7252 section 3): a 4-byte header — version (2 bits, 1),
//! type (2 bits: CON, NON, ACK, RST), token length (4 bits, 0..8), code
//! (class.detail, 3 + 5 bits) and message ID — then the token, options
//! (each a delta and length nibble, 13 and 14 meaning one or two extension
//! bytes, 15 reserved) and, after a 0xFF marker, the payload. Option numbers
//! kept: Uri-Host (3), Uri-Path (11), Content-Format (12).
//!
//! What is kept ([`model::records::CoapRecord`], one per datagram, at most
//! [`MAX_MESSAGES`] per flow): the header fields, the token length (not the
//! token), Uri-Host, up to [`MAX_SEGMENTS`] Uri-Path segments, Content-Format
//! and, for a link-format payload (Content-Format 40, the answer to
//! `GET /.well-known/core`, RFC 6690), up to [`MAX_LINKS`] link targets.
//! Uri-Query and other payloads are never read.

use analyzer_api::{Analyzer, ByteSet, DatagramLimits, Datagrams, Probe, Protocol};
use model::records::CoapRecord;
use model::{text, Direction, Transport};

/// Messages recorded per flow.
pub const MAX_MESSAGES: u32 = 256;
/// Uri-Path segments kept per message.
pub const MAX_SEGMENTS: usize = 16;
/// Longest Uri-Path segment or Uri-Host kept.
pub const MAX_SEGMENT: usize = 64;
/// Link targets kept per discovery answer.
pub const MAX_LINKS: usize = 32;
/// Longest link target kept.
const MAX_LINK: usize = 128;

const URI_HOST: u32 = 3;
const URI_PATH: u32 = 11;
const CONTENT_FORMAT: u32 = 12;
const LINK_FORMAT: u16 = 40;

/// The CoAP protocol.
pub struct Coap;

impl Protocol for Coap {
    fn name(&self) -> &'static str {
        "coap"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp]
    }

    fn ports(&self) -> &'static [u16] {
        &[5683]
    }

    /// Only on port 5683 (a 4-byte binary header is too weak a signature
    /// elsewhere), and only a datagram whose header, token and options all
    /// parse: version 1, token length at most 8, a defined code class.
    fn probe(&self, _dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        if data.is_empty() {
            return Probe::NeedMore;
        }
        if port_hint && parse(Direction::ToServer, data).is_some() {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }

    /// Only on its ports.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::NONE
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(Datagrams::new(
            parse,
            DatagramLimits {
                max_len: usize::MAX,
                max_messages: MAX_MESSAGES,
                bad: "coap_bad_message",
                too_many: "coap_too_many_messages",
            },
        ))
    }
}

/// The name of a code: a method for requests, `c.dd` otherwise.
fn code_name(code: u8) -> String {
    let name = match code {
        0 => "empty",
        1 => "GET",
        2 => "POST",
        3 => "PUT",
        4 => "DELETE",
        5 => "FETCH",
        6 => "PATCH",
        7 => "iPATCH",
        _ => return format!("{}.{:02}", code >> 5, code & 0x1f),
    };
    name.to_string()
}

/// An option's delta or length with its extension bytes (RFC 7252 3.1).
fn extended(nibble: u8, data: &mut &[u8]) -> Option<u32> {
    match nibble {
        0..=12 => Some(u32::from(nibble)),
        13 => {
            let (&b, rest) = data.split_first()?;
            *data = rest;
            Some(u32::from(b) + 13)
        }
        14 => {
            let b = data.get(..2)?;
            let v = u32::from(u16::from_be_bytes([b[0], b[1]])) + 269;
            *data = &data[2..];
            Some(v)
        }
        _ => None,
    }
}

fn parse(dir: Direction, data: &[u8]) -> Option<CoapRecord> {
    let h = data.get(..4)?;
    let version = h[0] >> 6;
    let tkl = h[0] & 0x0f;
    let code = h[1];
    if version != 1 || tkl > 8 || matches!(code >> 5, 1 | 6 | 7) {
        return None;
    }
    // An empty message is the header alone.
    if code == 0 && (tkl != 0 || data.len() != 4) {
        return None;
    }
    let mut rec = CoapRecord {
        direction: Some(dir),
        version,
        msg_type: (h[0] >> 4) & 3,
        code,
        code_name: code_name(code),
        message_id: u16::from_be_bytes([h[2], h[3]]),
        token_length: tkl,
        ..Default::default()
    };
    let mut rest = data.get(4 + usize::from(tkl)..)?;
    let mut number = 0u32;
    let mut payload: &[u8] = &[];
    while let Some((&b, tail)) = rest.split_first() {
        if b == 0xff {
            if tail.is_empty() {
                return None; // A marker must be followed by a payload.
            }
            payload = tail;
            break;
        }
        rest = tail;
        let delta = extended(b >> 4, &mut rest)?;
        let len = extended(b & 0x0f, &mut rest)? as usize;
        let value = rest.get(..len)?;
        rest = &rest[len..];
        number = number.checked_add(delta)?;
        match number {
            URI_HOST => rec.uri_host = text::non_empty(&value[..len.min(MAX_SEGMENT)]),
            URI_PATH if rec.uri_path.len() < MAX_SEGMENTS => rec
                .uri_path
                .push(text::bounded(&value[..len.min(MAX_SEGMENT)], MAX_SEGMENT)),
            CONTENT_FORMAT if len <= 2 => {
                rec.content_format = Some(value.iter().fold(0u16, |a, &b| a << 8 | u16::from(b)))
            }
            _ => {}
        }
    }
    if rec.content_format == Some(LINK_FORMAT) {
        rec.links = links(payload);
    }
    Some(rec)
}

/// Link targets (`<...>`) of a link-format document (RFC 6690 section 2).
fn links(payload: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = payload;
    while out.len() < MAX_LINKS {
        let Some(lt) = rest.iter().position(|&b| b == b'<') else {
            break;
        };
        let tail = &rest[lt + 1..];
        let Some(gt) = tail.iter().position(|&b| b == b'>') else {
            break;
        };
        out.push(text::bounded(&tail[..gt], MAX_LINK));
        // Skip the attributes up to the next link (a quoted value may hold `<` or `,`).
        let mut i = gt + 1;
        let mut quoted = false;
        while let Some(&c) = tail.get(i) {
            match c {
                b'"' => quoted = !quoted,
                b',' if !quoted => break,
                _ => {}
            }
            i += 1;
        }
        rest = tail.get(i..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests;
