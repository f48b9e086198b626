//! RFB (VNC) analyzer (RFC 6143, The Remote Framebuffer Protocol; TCP 5900
//! to 5909 and any port whose first bytes are an RFB ProtocolVersion).
//!
//! Handshake: the server sends its ProtocolVersion (`RFB 003.008\n`, 12
//! bytes), the client answers with its own. Security (7.1.2): with 3.3 the
//! server decides a 4-byte type (0 is a failure, followed by a reason
//! string); with 3.7 and later it offers a count and a list of 1-byte types
//! (count 0: a failure with a reason), and the client picks one byte. VNC
//! Authentication (type 2) is a 16-byte challenge and a 16-byte response.
//! SecurityResult (4 bytes, 0 OK) follows VNC Authentication, and every type
//! in 3.8 (a failure then carries a reason string). Then ClientInit (1 byte,
//! shared flag) and ServerInit: width (2), height (2), pixel format (16),
//! name length (4), desktop name.
//!
//! What is kept ([`model::records::VncRecord`], one per connection): the
//! versions, the types offered and used, the result and a failure reason,
//! the shared flag, framebuffer size and desktop name (cleaned, bounded), and
//! whether the session reached ServerInit without authentication (type None).
//! The challenge, the response and everything after ServerInit (screen
//! content, key and pointer events, clipboard) are never read. Other
//! security types (TLS, VeNCrypt, Tight...) end the analysis after the
//! choice: what follows is theirs.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::VncRecord;
use model::{text, Direction, Transport};

/// Security types listed per connection.
pub const MAX_TYPES: usize = 16;
/// Longest desktop name or failure reason kept.
pub const MAX_NAME: usize = 64;
/// Longest reason or desktop name read (the rest is not waited for).
const MAX_READ: usize = 1024;

const NONE: u8 = 1;
const VNC_AUTH: u8 = 2;

/// The RFB protocol.
pub struct Vnc;

/// `RFB ddd.ddd\n`, as far as `data` goes.
fn version_prefix(data: &[u8]) -> Option<bool> {
    const SHAPE: &[u8; 12] = b"RFB 000.000\n";
    for (i, &b) in data.iter().take(12).enumerate() {
        let ok = match SHAPE[i] {
            b'0' => b.is_ascii_digit(),
            c => b == c,
        };
        if !ok {
            return None;
        }
    }
    Some(data.len() >= 12)
}

impl Protocol for Vnc {
    fn name(&self) -> &'static str {
        "vnc"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[5900, 5901, 5902, 5903, 5904, 5905, 5906, 5907, 5908, 5909]
    }

    /// The server's ProtocolVersion opens the connection: `RFB ddd.ddd\n`.
    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        match version_prefix(data) {
            None => Probe::NoMatch,
            Some(false) => Probe::NeedMore,
            Some(true) => Probe::Match,
        }
    }

    /// `RFB `.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"R")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(VncAnalyzer::default())
    }
}

/// Where the server side of the handshake is.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    #[default]
    Version,
    Security,
    /// Waiting for the client's choice (3.7+).
    AwaitChoice,
    Challenge,
    Result,
    Init,
    Done,
}

/// Where the client side of the handshake is.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    #[default]
    Version,
    Choice,
    Response,
    Init,
    Done,
}

#[derive(Default)]
struct VncAnalyzer {
    rec: VncRecord,
    server: Server,
    client: Client,
    /// Minor version in use (3, 7, 8...; other values count as 8).
    minor: u16,
    emitted: bool,
}

/// Minor version number of a `RFB 003.00x\n` string.
fn minor(v: &[u8]) -> u16 {
    let digits = v.get(8..11).unwrap_or(b"008");
    digits
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d.wrapping_sub(b'0') % 10))
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// A 4-byte length and a string: (consumed bytes, text) or None to wait.
/// An over-long string is read only to `MAX_READ` and stops the analysis.
fn reason(data: &[u8]) -> Option<(usize, String, bool)> {
    let len = be32(data)? as usize;
    let want = len.min(MAX_READ);
    let s = data.get(4..4 + want)?;
    Some((4 + want, text::bounded(s, MAX_NAME), len > MAX_READ))
}

impl VncAnalyzer {
    fn emit(&mut self, out: &mut Out<'_>) {
        if !std::mem::replace(&mut self.emitted, true) {
            out.emit(std::mem::take(&mut self.rec));
        }
    }

    /// After the security type is known on both sides: what comes next.
    fn after_choice(&mut self, t: u8) -> Server {
        match t {
            VNC_AUTH => Server::Challenge,
            NONE if self.minor >= 8 => Server::Result,
            NONE => Server::Init,
            _ => Server::Done,
        }
    }

    /// One step on the server side: bytes consumed, or 0 to wait.
    fn server_step(&mut self, data: &[u8], out: &mut Out<'_>) -> usize {
        match self.server {
            Server::Version => {
                let Some(v) = data.get(..12) else { return 0 };
                if version_prefix(v) != Some(true) {
                    out.weird("vnc_bad_version");
                    self.server = Server::Done;
                    return 0;
                }
                self.rec.server_version = Some(text::bounded(&v[4..11], 7));
                self.minor = minor(v);
                self.server = Server::Security;
                12
            }
            Server::Security => {
                // The client's version decides the format; until it is seen,
                // the server's.
                if self.minor == 3 {
                    let Some(t) = be32(data) else { return 0 };
                    if t == 0 {
                        let Some((n, s, _)) = reason(&data[4..]) else {
                            return 0;
                        };
                        self.rec.failure_reason = Some(s);
                        self.server = Server::Done;
                        return 4 + n;
                    }
                    let t = u8::try_from(t).unwrap_or(u8::MAX);
                    self.rec.security_types.push(t);
                    self.rec.security_type = Some(t);
                    self.client = if t == VNC_AUTH {
                        Client::Response
                    } else {
                        Client::Init
                    };
                    self.server = self.after_choice(t);
                    return 4;
                }
                let Some(&n) = data.first() else { return 0 };
                if n == 0 {
                    let Some((k, s, _)) = reason(&data[1..]) else {
                        return 0;
                    };
                    self.rec.failure_reason = Some(s);
                    self.server = Server::Done;
                    return 1 + k;
                }
                let Some(types) = data.get(1..1 + usize::from(n)) else {
                    return 0;
                };
                self.rec.security_types = types.iter().copied().take(MAX_TYPES).collect();
                self.server = Server::AwaitChoice;
                1 + usize::from(n)
            }
            Server::AwaitChoice | Server::Done => 0,
            Server::Challenge => {
                // Sixteen random bytes: skipped, never kept.
                if data.len() < 16 {
                    return 0;
                }
                self.server = Server::Result;
                16
            }
            Server::Result => {
                let Some(r) = be32(data) else { return 0 };
                if r != 0 && self.minor >= 8 {
                    let Some((n, s, _)) = reason(&data[4..]) else {
                        return 0;
                    };
                    self.rec.auth_result = Some(r);
                    self.rec.failure_reason = Some(s);
                    self.server = Server::Done;
                    return 4 + n;
                }
                self.rec.auth_result = Some(r);
                self.server = if r == 0 { Server::Init } else { Server::Done };
                4
            }
            Server::Init => {
                let Some(h) = data.get(..24) else { return 0 };
                let len = be32(&h[20..]).unwrap_or(0) as usize;
                let want = len.min(MAX_READ);
                let Some(name) = data.get(24..24 + want) else {
                    return 0;
                };
                self.rec.width = Some(u16::from_be_bytes([h[0], h[1]]));
                self.rec.height = Some(u16::from_be_bytes([h[2], h[3]]));
                let name = text::bounded(name, MAX_NAME);
                self.rec.desktop_name = (!name.is_empty()).then_some(name);
                self.rec.no_auth = self.rec.security_type == Some(NONE);
                self.server = Server::Done;
                24 + want
            }
        }
    }

    /// One step on the client side: bytes consumed, or 0 to wait.
    fn client_step(&mut self, data: &[u8], out: &mut Out<'_>) -> usize {
        match self.client {
            Client::Version => {
                let Some(v) = data.get(..12) else { return 0 };
                if version_prefix(v) != Some(true) {
                    out.weird("vnc_bad_version");
                    self.client = Client::Done;
                    return 0;
                }
                self.rec.client_version = Some(text::bounded(&v[4..11], 7));
                let m = minor(v);
                self.minor = if self.rec.server_version.is_some() {
                    self.minor.min(m)
                } else {
                    m
                };
                self.client = if self.minor == 3 {
                    Client::Done // the server decides; see server_step
                } else {
                    Client::Choice
                };
                12
            }
            Client::Choice => {
                let Some(&t) = data.first() else { return 0 };
                self.rec.security_type = Some(t);
                if !self.rec.security_types.contains(&t) && !self.rec.security_types.is_empty() {
                    out.weird("vnc_unoffered_security_type");
                }
                self.server = self.after_choice(t);
                self.client = match t {
                    VNC_AUTH => Client::Response,
                    NONE => Client::Init,
                    _ => Client::Done,
                };
                1
            }
            Client::Response => {
                // The DES response to the challenge: skipped, never kept.
                if data.len() < 16 {
                    return 0;
                }
                self.client = Client::Init;
                16
            }
            Client::Init => {
                let Some(&f) = data.first() else { return 0 };
                self.rec.shared = Some(f != 0);
                self.client = Client::Done;
                1
            }
            Client::Done => 0,
        }
    }
}

impl Analyzer for VncAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let mut pos = 0;
        loop {
            let rest = &data[pos..];
            let n = match dir {
                Direction::ToClient => self.server_step(rest, out),
                Direction::ToServer => self.client_step(rest, out),
            };
            if n == 0 {
                break;
            }
            pos += n;
        }
        if self.server == Server::Done {
            self.emit(out);
            return Progress::Done;
        }
        // Waiting in one direction while the other says nothing more: bytes
        // that cannot be handled now are kept by the engine (bounded).
        Progress::Consumed(pos)
    }

    fn gap(&mut self, _dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        out.weird("content_gap");
        self.emit(out);
        Progress::Done
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.emit(out);
    }
}

#[cfg(test)]
mod tests;
