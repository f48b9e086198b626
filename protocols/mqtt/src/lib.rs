//! MQTT analyzer (MQTT 3.1, 3.1.1 — OASIS MQTT Version 3.1.1 — and 5.0, over
//! TCP; port 1883; 8883 is MQTT over TLS and goes to the TLS analyzer).
//!
//! Wire format (3.1.1 section 2): every control packet starts with a fixed
//! header — type in the high nibble of the first byte, flags in the low one,
//! then the remaining length as a variable byte integer of 1 to 4 bytes.
//! CONNECT (3.1) holds the protocol name and level, connect flags, keep alive
//! (5.0: properties) and a payload of client identifier, will (5.0: will
//! properties, topic, message), user name and password, in that order, each
//! present as its flag says. CONNACK (3.2) holds the session-present flag and
//! the return code (5.0: reason code). PUBLISH (3.3) starts with the topic
//! name; SUBSCRIBE (3.8) lists topic filters after the packet identifier
//! (5.0: and properties).
//!
//! What is kept ([`model::records::MqttRecord`], one per connection, emitted
//! when the flow ends or a second CONNECT starts a new session): the CONNECT
//! header fields, the user name, the password classified (never kept), the
//! CONNACK code, a count of PUBLISH packets and the first [`MAX_TOPICS`]
//! distinct topic names and filters. A CONNECT with a password also yields a
//! [`model::records::CleartextLogin`] (`mqtt`), once the CONNACK tells whether
//! it was accepted. Payloads are skipped by length and never read.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::{CleartextLogin, LoginProtocol, MqttRecord, PasswordClass};
use model::{text, Direction, Transport};

/// Bytes of a packet's body read for parsing (CONNECT, SUBSCRIBE, the topic
/// of a PUBLISH); the rest of a longer packet is skipped by length.
pub const BODY_PREFIX: usize = 8 * 1024;
/// Distinct topic names and filters listed per connection.
pub const MAX_TOPICS: usize = 32;
/// Longest topic name or filter kept.
const MAX_TOPIC: usize = 128;
/// Longest client identifier or user name kept.
const MAX_NAME: usize = 128;

const CONNECT: u8 = 1;
const CONNACK: u8 = 2;
const PUBLISH: u8 = 3;
const SUBSCRIBE: u8 = 8;

/// The MQTT protocol.
pub struct Mqtt;

impl Protocol for Mqtt {
    fn name(&self) -> &'static str {
        "mqtt"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[1883]
    }

    /// A connection opens with the client's CONNECT: `0x10`, the remaining
    /// length, then the protocol name `MQTT` (3.1.1, 5.0) or `MQIsdp` (3.1).
    fn probe(&self, dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        if dir != Direction::ToServer {
            return if data.is_empty() {
                Probe::NeedMore
            } else {
                Probe::NoMatch
            };
        }
        match data.first() {
            None => return Probe::NeedMore,
            Some(&0x10) => {}
            Some(_) => return Probe::NoMatch,
        }
        let (len, n) = match varint(&data[1..]) {
            Varint::Value(v, n) => (v, n),
            Varint::Short => return Probe::NeedMore,
            Varint::Bad => return Probe::NoMatch,
        };
        let body = &data[1 + n..];
        let names: [&[u8]; 2] = [b"\x00\x04MQTT", b"\x00\x06MQIsdp"];
        for name in names {
            let k = body.len().min(name.len());
            // The name, level, flags and keep alive must fit the length.
            if body[..k] == name[..k] && len >= name.len() + 4 {
                return if k < name.len() {
                    Probe::NeedMore
                } else {
                    Probe::Match
                };
            }
        }
        Probe::NoMatch
    }

    /// CONNECT.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[0x10])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(MqttAnalyzer::default())
    }
}

/// A variable byte integer (MQTT 3.1.1 section 2.2.3).
enum Varint {
    /// The value and the bytes it took.
    Value(usize, usize),
    /// More bytes are needed.
    Short,
    /// More than four bytes.
    Bad,
}

fn varint(data: &[u8]) -> Varint {
    let mut v = 0usize;
    for (i, &b) in data.iter().enumerate().take(4) {
        v |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Varint::Value(v, i + 1);
        }
    }
    if data.len() >= 4 {
        Varint::Bad
    } else {
        Varint::Short
    }
}

/// A cursor over a packet body; every read is checked.
struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.data.get(..2)?;
        let v = u16::from_be_bytes([b[0], b[1]]);
        self.data = &self.data[2..];
        Some(v)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.data.get(..n)?;
        self.data = &self.data[n..];
        Some(b)
    }

    /// A two-byte length and that many bytes (UTF-8 string or binary data).
    fn lstr(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// Skips 5.0 properties (a variable byte length, then that many bytes).
    fn skip_properties(&mut self) -> Option<()> {
        match varint(self.data) {
            Varint::Value(len, n) => {
                self.take(n)?;
                self.take(len)?;
                Some(())
            }
            _ => None,
        }
    }
}

/// The packet being read in one direction.
#[derive(Default)]
struct Side {
    /// Body bytes of the current packet still to skip (beyond the prefix read).
    skip: usize,
}

#[derive(Default)]
struct MqttAnalyzer {
    sides: [Side; 2],
    /// The connection so far; `None` before the CONNECT.
    conn: Option<MqttRecord>,
    /// Hashes of the topic names and filters listed or dropped (bounded).
    seen: Vec<u64>,
    /// A password crossed: a login record is due.
    login_due: bool,
    level: u8,
    second_connect_reported: bool,
    malformed_reported: bool,
}

/// FNV-1a: telling topics apart without allocating one string per PUBLISH.
fn fnv(bytes: &[u8], salt: u8) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(salt);
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn name(raw: &[u8], max: usize) -> Option<String> {
    let s = text::bounded(raw, max);
    (!s.is_empty()).then_some(s)
}

impl MqttAnalyzer {
    fn malformed(&mut self, out: &mut Out<'_>) {
        if !self.malformed_reported {
            self.malformed_reported = true;
            out.weird("mqtt_malformed_packet");
        }
    }

    /// Emits the connection (and its login, if still due).
    fn flush(&mut self, out: &mut Out<'_>) {
        self.emit_login(None, out);
        if let Some(c) = self.conn.take() {
            out.emit(c);
        }
        self.seen.clear();
    }

    fn emit_login(&mut self, success: Option<bool>, out: &mut Out<'_>) {
        if !std::mem::take(&mut self.login_due) {
            return;
        }
        let Some(c) = self.conn.as_ref() else { return };
        out.emit(CleartextLogin {
            protocol: LoginProtocol::Mqtt,
            user: c.username.clone(),
            password: c.password,
            banner: None,
            success,
            reply_code: c.connack_code.map(u16::from),
        });
    }

    fn connect(&mut self, body: &[u8], out: &mut Out<'_>) {
        if self.conn.is_some() {
            if !self.second_connect_reported {
                self.second_connect_reported = true;
                out.weird("mqtt_second_connect");
            }
            self.flush(out);
        }
        let mut r = MqttRecord::default();
        let parsed = read_connect(&mut r, body);
        self.level = r.protocol_level.unwrap_or(4);
        self.login_due = r.password != PasswordClass::None;
        self.conn = Some(r);
        if parsed.is_none() {
            self.malformed(out);
        }
    }

    fn topic(&mut self, raw: &[u8], subscription: bool) {
        let Some(c) = self.conn.as_mut() else { return };
        let h = fnv(raw, subscription as u8);
        if raw.is_empty() || self.seen.contains(&h) {
            return;
        }
        let list = if subscription {
            &mut c.subscriptions
        } else {
            &mut c.topics
        };
        if self.seen.len() >= 2 * MAX_TOPICS || list.len() >= MAX_TOPICS {
            // Counted once per distinct name while the hash list has room.
            if self.seen.len() < 4 * MAX_TOPICS {
                self.seen.push(h);
                c.topics_dropped = c.topics_dropped.saturating_add(1);
            }
            return;
        }
        self.seen.push(h);
        if let Some(t) = name(raw, MAX_TOPIC) {
            list.push(t);
        }
    }

    /// Handles one packet: its type and flags, and the first bytes of its body.
    fn packet(&mut self, dir: Direction, first: u8, body: &[u8], out: &mut Out<'_>) {
        let kind = first >> 4;
        match (kind, dir) {
            (CONNECT, Direction::ToServer) => self.connect(body, out),
            (CONNACK, Direction::ToClient) => {
                let code = body.get(1).copied();
                if let Some(c) = self.conn.as_mut() {
                    c.connack_code = code;
                }
                self.emit_login(code.map(|c| c == 0), out);
            }
            (PUBLISH, _) => {
                if let Some(c) = self.conn.as_mut() {
                    c.publishes = c.publishes.saturating_add(1);
                }
                match (Cursor { data: body }).lstr() {
                    Some(t) => self.topic(t, false),
                    None => self.malformed(out),
                }
            }
            (SUBSCRIBE, Direction::ToServer) => {
                let mut cur = Cursor { data: body };
                let ok = cur.u16().is_some() && (self.level < 5 || cur.skip_properties().is_some());
                if !ok {
                    self.malformed(out);
                    return;
                }
                // Topic filters, each followed by its options byte.
                while let Some(f) = cur.lstr() {
                    self.topic(f, true);
                    if cur.u8().is_none() {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
}

/// Reads a CONNECT body into `r`; `None` when it ends early or is malformed
/// (what was read is kept).
fn read_connect(r: &mut MqttRecord, body: &[u8]) -> Option<()> {
    let mut c = Cursor { data: body };
    r.protocol_name = name(c.lstr()?, 16);
    let level = c.u8()?;
    r.protocol_level = Some(level);
    let flags = c.u8()?;
    r.clean_session = flags & 0x02 != 0;
    r.will = flags & 0x04 != 0;
    r.keep_alive = c.u16()?;
    let (user_flag, password_flag) = (flags & 0x80 != 0, flags & 0x40 != 0);
    if level >= 5 {
        c.skip_properties()?;
    }
    r.client_id = name(c.lstr()?, MAX_NAME);
    if r.will {
        if level >= 5 {
            c.skip_properties()?;
        }
        c.lstr()?; // will topic
        c.lstr()?; // will message, never read
    }
    if user_flag {
        r.username = Some(text::bounded(c.lstr()?, MAX_NAME));
    }
    if password_flag {
        // 3.1.1 3.1.2.9: a password needs a user name; count it anyway.
        let pw = c.lstr()?;
        r.password = PasswordClass::classify(r.username.as_deref().unwrap_or(""), pw);
    }
    Some(())
}

impl Analyzer for MqttAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let i = (dir == Direction::ToClient) as usize;
        let mut pos = 0;
        loop {
            let side = &mut self.sides[i];
            if side.skip > 0 {
                let n = side.skip.min(data.len() - pos);
                side.skip -= n;
                pos += n;
            }
            let rest = &data[pos..];
            if rest.is_empty() {
                break;
            }
            let (len, n) = match varint(&rest[1..]) {
                Varint::Value(v, n) => (v, n),
                Varint::Short => break,
                Varint::Bad => {
                    self.malformed(out);
                    self.flush(out);
                    return Progress::Done;
                }
            };
            let first = rest[0];
            if first >> 4 == 0 {
                // Type 0 is reserved: this is not (or no longer) MQTT.
                self.malformed(out);
                self.flush(out);
                return Progress::Done;
            }
            let want = len.min(BODY_PREFIX);
            let Some(body) = rest.get(1 + n..1 + n + want) else {
                break; // wait for the prefix
            };
            self.packet(dir, first, body, out);
            pos += 1 + n + want;
            self.sides[i].skip = len - want;
        }
        Progress::Consumed(pos)
    }

    fn gap(&mut self, _dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        // Packet boundaries are lost: keep what is known and stop.
        out.weird("content_gap");
        self.flush(out);
        Progress::Done
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        self.flush(out);
    }
}

#[cfg(test)]
mod tests;
