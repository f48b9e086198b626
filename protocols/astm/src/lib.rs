//! ASTM laboratory analyzer: ASTM E1381 / CLSI LIS1-A framing and ASTM E1394
//! / CLSI LIS2-A2 records, over TCP.
//!
//! Wire format:
//! - Low level (E1381 / LIS1-A section 6, as carried over TCP): the sender
//!   opens a session with `<ENQ>`, the receiver answers `<ACK>` (or `<NAK>`);
//!   data travels in frames `<STX> FN text <ETB|ETX> C1 C2 <CR><LF>` where FN
//!   is the frame number `0`..`7`, `<ETB>` ends an intermediate frame (the
//!   record continues in the next one), `<ETX>` the last frame of a record and
//!   C1 C2 is the checksum: the sum modulo 256 of the bytes from FN through
//!   ETB/ETX, in two uppercase hex digits. `<EOT>` ends the session. Many
//!   instruments on TCP send records unframed instead (`H|\^&|...<CR>`); both
//!   are read.
//! - Records (E1394 / LIS2-A2 sections 6-7): one record per `<CR>`-ended line,
//!   a type letter first (H header, P patient, O order, R result, C comment,
//!   Q request, M manufacturer, S scientific, L terminator). The H record
//!   declares the delimiters: `H|\^&` is field `|`, repeat `\`, component
//!   `^`, escape `&`. A message runs from H to L.
//!
//! What is kept ([`model::records::AstmRecord`]): of the H record H-5 "sender
//! name or ID" (components name, software version, serial number), the first
//! component of H-10 receiver ID, H-12 processing ID and H-13 version; L-3 the
//! termination code; per record type a count; frames and checksum errors.
//! Only H and L records are ever buffered (at most [`RECORD_PREFIX`] bytes);
//! of every other record the analyzer sees the type letter and skips the rest,
//! so patient, order, result, comment and query contents never reach memory
//! beyond the stream buffer. H-4, the access password, is never read.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::AstmRecord;
use model::{text, Direction, Transport};

/// Start of text: opens a frame.
const STX: u8 = 0x02;
/// End of text: ends the last frame of a record.
const ETX: u8 = 0x03;
/// End of transmission: ends a session.
const EOT: u8 = 0x04;
/// Enquiry: opens a session.
const ENQ: u8 = 0x05;
/// Acknowledge.
const ACK: u8 = 0x06;
/// End of transmission block: ends an intermediate frame.
const ETB: u8 = 0x17;
/// Negative acknowledge.
const NAK: u8 = 0x15;
/// Bytes of an H or L record kept for parsing; the rest is skipped.
pub const RECORD_PREFIX: usize = 1024;
/// Longest kept string (sender name, version, serial, receiver).
const MAX_NAME: usize = 128;
/// Longest kept short code (processing id, version, termination code).
const MAX_CODE: usize = 32;
/// Session control bytes the probe skips before a frame or record.
const PROBE_CONTROL: usize = 8;

/// The ASTM E1381/E1394 (CLSI LIS1-A/LIS2-A2) protocol.
pub struct Astm;

impl Protocol for Astm {
    fn name(&self) -> &'static str {
        "astm"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    /// ASTM has no registered port: instruments and middleware use whatever
    /// the site configures. The probe decides.
    fn ports(&self) -> &'static [u16] {
        &[]
    }

    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        let skip = data
            .iter()
            .take(PROBE_CONTROL)
            .take_while(|&&b| matches!(b, ENQ | ACK | NAK | EOT))
            .count();
        let rest = &data[skip..];
        match rest.first() {
            // Only session control so far (`<ENQ>`, the answering `<ACK>`).
            None if skip < PROBE_CONTROL => Probe::NeedMore,
            None => Probe::NoMatch,
            Some(&STX) => match rest.get(1) {
                None => Probe::NeedMore,
                Some(b'0'..=b'7') => header_start(&rest[2..]).probe(),
                Some(_) => Probe::NoMatch,
            },
            Some(b'H') if skip == 0 => header_start(rest).probe(),
            Some(_) => Probe::NoMatch,
        }
    }

    /// ASTM frames or a bare H record, after session control characters.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[0x02, 0x04, 0x05, 0x06, 0x15, b'H'])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(AstmAnalyzer::default())
    }
}

/// Whether bytes begin an H record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderStart {
    /// `H`, four distinct delimiters (field, repeat, component, escape), and
    /// the field delimiter again: `H|\^&|`.
    Yes,
    /// A prefix of one; more bytes are needed.
    Partial,
    /// Not an H record.
    No,
}

impl HeaderStart {
    fn probe(self) -> Probe {
        match self {
            HeaderStart::Yes => Probe::Match,
            HeaderStart::Partial => Probe::NeedMore,
            HeaderStart::No => Probe::NoMatch,
        }
    }
}

/// Checks that `data` begins with an H record's delimiter declaration.
pub fn header_start(data: &[u8]) -> HeaderStart {
    for (i, &b) in data.iter().take(6).enumerate() {
        let ok = match i {
            0 => b == b'H',
            1..=4 => b.is_ascii_punctuation() && !data[1..i].contains(&b),
            _ => b == data[1],
        };
        if !ok {
            return HeaderStart::No;
        }
    }
    if data.len() >= 6 {
        HeaderStart::Yes
    } else {
        HeaderStart::Partial
    }
}

/// Delimiters declared by an H record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Delims {
    field: u8,
    repeat: u8,
    component: u8,
}

impl Default for Delims {
    fn default() -> Self {
        Delims {
            field: b'|',
            repeat: b'\\',
            component: b'^',
        }
    }
}

impl Delims {
    /// The `n`th field of a record (field 0 is the type letter).
    fn field<'a>(&self, rec: &'a [u8], n: usize) -> &'a [u8] {
        rec.split(|&b| b == self.field).nth(n).unwrap_or_default()
    }

    /// The `n`th component of the first repetition of `field`.
    fn component<'a>(&self, field: &'a [u8], n: usize) -> &'a [u8] {
        let first = field
            .split(|&b| b == self.repeat)
            .next()
            .unwrap_or_default();
        first
            .split(|&b| b == self.component)
            .nth(n)
            .unwrap_or_default()
    }
}

fn short(raw: &[u8], max: usize) -> Option<String> {
    let s = text::bounded(raw, max);
    (!s.is_empty()).then_some(s)
}

/// Per-flow state: the two directions are independent streams (an
/// instrument sends results, the host sends orders and answers queries).
#[derive(Default)]
struct AstmAnalyzer {
    sides: [Side; 2],
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames or records.
    #[default]
    Idle,
    /// After `<STX>`: the frame number.
    FrameNumber,
    /// Frame text.
    Text,
    /// After `<ETB>`/`<ETX>`: the checksum digits.
    Checksum,
    /// After the checksum: `<CR><LF>`.
    Trailer,
    /// An unframed record, up to its `<CR>`.
    Bare,
    /// After a gap: skipping to the next frame or session byte.
    Resync,
}

/// The record being read.
#[derive(Default)]
struct RecordBuf {
    /// Its type letter, once its first byte arrived.
    kind: Option<u8>,
    /// Its text, for H and L records only (at most [`RECORD_PREFIX`] bytes).
    keep: Vec<u8>,
}

/// The message being read (H to L).
struct Msg {
    record: AstmRecord,
    /// The L record arrived: emitted at the end of its frame (so the frame's
    /// checksum counts in it), or at once when unframed.
    done: bool,
}

/// One direction of the flow.
#[derive(Default)]
struct Side {
    state: State,
    /// Running checksum of the current frame.
    sum: u8,
    /// Checksum digits read so far.
    digits: [u8; 2],
    ndigits: u8,
    /// Trailer bytes (`<CR><LF>`) read.
    trailer: u8,
    rec: RecordBuf,
    msg: Option<Msg>,
    delims: Delims,
    /// Frames and checksum errors seen outside any message, counted in the
    /// next one.
    pending_frames: u32,
    pending_errors: u32,
    /// The stream sends unframed records.
    bare: bool,
    junk_reported: bool,
    checksum_reported: bool,
    frame_reported: bool,
    orphan_reported: bool,
}

impl Side {
    fn emit(&mut self, dir: Direction, out: &mut Out<'_>) {
        let Some(msg) = self.msg.take() else { return };
        let mut r = msg.record;
        if !msg.done {
            out.weird("astm_missing_terminator");
        }
        r.direction = Some(dir);
        r.carries_phi = r.counts.patient > 0 || r.counts.result > 0;
        out.emit(r);
    }

    /// Adds record text (a run without delimiters of the framing).
    fn text(&mut self, run: &[u8]) {
        let Some(&first) = run.first() else { return };
        let kind = *self.rec.kind.get_or_insert(first);
        if matches!(kind, b'H' | b'L') {
            let room = RECORD_PREFIX.saturating_sub(self.rec.keep.len());
            self.rec.keep.extend_from_slice(&run[..run.len().min(room)]);
        }
        if let Some(m) = self.msg.as_mut() {
            let n = u32::try_from(run.len()).unwrap_or(u32::MAX);
            m.record.length = m.record.length.saturating_add(n);
        }
    }

    /// Ends the record being read.
    fn end_record(&mut self, dir: Direction, out: &mut Out<'_>) {
        let Some(kind) = self.rec.kind.take() else {
            return;
        };
        let keep = std::mem::take(&mut self.rec.keep);
        if kind == b'H' {
            if self.msg.is_some() {
                self.emit(dir, out);
            }
            let mut r = self.header(&keep, out);
            r.frames = std::mem::take(&mut self.pending_frames);
            r.checksum_errors = std::mem::take(&mut self.pending_errors);
            r.length = u32::try_from(keep.len()).unwrap_or(u32::MAX);
            self.msg = Some(Msg {
                record: r,
                done: false,
            });
        } else if self.msg.as_ref().is_none_or(|m| m.done) {
            // A record outside a message (no H before it, or after the L).
            if !self.orphan_reported {
                self.orphan_reported = true;
                out.weird("astm_record_outside_message");
            }
            self.rebuffer(keep);
            return;
        }
        let d = self.delims;
        let Some(m) = self.msg.as_mut() else { return };
        let c = &mut m.record.counts;
        let slot = match kind {
            b'H' => &mut c.header,
            b'P' => &mut c.patient,
            b'O' => &mut c.order,
            b'R' => &mut c.result,
            b'C' => &mut c.comment,
            b'Q' => &mut c.query,
            b'M' => &mut c.manufacturer,
            b'S' => &mut c.scientific,
            b'L' => &mut c.terminator,
            _ => &mut c.other,
        };
        *slot = slot.saturating_add(1);
        if kind == b'L' {
            m.record.termination_code = short(d.component(d.field(&keep, 2), 0), MAX_CODE);
            m.done = true;
        }
        self.rebuffer(keep);
    }

    /// Gives the record buffer back (its allocation is reused).
    fn rebuffer(&mut self, mut keep: Vec<u8>) {
        keep.clear();
        self.rec.keep = keep;
    }

    /// Reads an H record: delimiters, sender, receiver, processing id, version.
    fn header(&mut self, rec: &[u8], out: &mut Out<'_>) -> AstmRecord {
        match header_start(rec) {
            HeaderStart::Yes | HeaderStart::Partial if rec.len() >= 5 => {
                self.delims = Delims {
                    field: rec[1],
                    repeat: rec[2],
                    component: rec[3],
                };
            }
            _ => out.weird("astm_bad_delimiters"),
        }
        let d = self.delims;
        let sender = d.field(rec, 4);
        AstmRecord {
            sender_name: short(d.component(sender, 0), MAX_NAME),
            sender_version: short(d.component(sender, 1), MAX_NAME),
            sender_serial: short(d.component(sender, 2), MAX_NAME),
            receiver_id: short(d.component(d.field(rec, 9), 0), MAX_NAME),
            processing_id: short(d.component(d.field(rec, 11), 0), MAX_CODE),
            version: short(d.component(d.field(rec, 12), 0), MAX_CODE),
            ..Default::default()
        }
    }

    /// A frame ended (its checksum read): counts it against the message and
    /// emits a message its L record completed.
    fn frame_end(&mut self, ok: bool, dir: Direction, out: &mut Out<'_>) {
        if !ok {
            if !self.checksum_reported {
                self.checksum_reported = true;
                out.weird("astm_checksum_error");
            }
            match self.msg.as_mut() {
                Some(m) => m.record.checksum_errors = m.record.checksum_errors.saturating_add(1),
                None => self.pending_errors = self.pending_errors.saturating_add(1),
            }
        }
        if self.msg.as_ref().is_some_and(|m| m.done) {
            self.emit(dir, out);
        }
    }

    fn junk(&mut self, out: &mut Out<'_>) {
        if !self.junk_reported {
            self.junk_reported = true;
            out.weird("astm_data_outside_frame");
        }
    }

    fn bad_frame(&mut self, out: &mut Out<'_>) {
        if !self.frame_reported {
            self.frame_reported = true;
            out.weird("astm_malformed_frame");
        }
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

impl Analyzer for AstmAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let side = &mut self.sides[(dir == Direction::ToClient) as usize];
        let mut pos = 0;
        while let Some(&b) = data.get(pos) {
            match side.state {
                State::Idle => match b {
                    STX => {
                        side.state = State::FrameNumber;
                        pos += 1;
                    }
                    EOT => {
                        // End of the session: whatever was open ends here.
                        side.end_record(dir, out);
                        side.emit(dir, out);
                        pos += 1;
                    }
                    ENQ | ACK | NAK | b'\r' | b'\n' | 0 => pos += 1,
                    b'H' => match header_start(&data[pos..]) {
                        HeaderStart::Yes => {
                            side.bare = true;
                            side.state = State::Bare;
                        }
                        HeaderStart::Partial => return Progress::Consumed(pos),
                        HeaderStart::No => {
                            side.junk(out);
                            pos += 1;
                        }
                    },
                    b'A'..=b'Z' if side.bare => side.state = State::Bare,
                    _ => {
                        side.junk(out);
                        pos += 1;
                    }
                },
                State::FrameNumber => {
                    if matches!(b, b'0'..=b'7') {
                        side.sum = b;
                        side.ndigits = 0;
                        side.state = State::Text;
                        match side.msg.as_mut() {
                            Some(m) => m.record.frames = m.record.frames.saturating_add(1),
                            None => side.pending_frames = side.pending_frames.saturating_add(1),
                        }
                        pos += 1;
                    } else {
                        side.bad_frame(out);
                        side.state = State::Idle;
                    }
                }
                State::Text => {
                    let rest = &data[pos..];
                    let end = rest
                        .iter()
                        .position(|&c| matches!(c, b'\r' | b'\n' | ETX | ETB | STX | ENQ | EOT));
                    let run = &rest[..end.unwrap_or(rest.len())];
                    side.sum = run.iter().fold(side.sum, |s, &c| s.wrapping_add(c));
                    side.text(run);
                    pos += run.len();
                    let Some(&c) = rest.get(run.len()) else {
                        break;
                    };
                    match c {
                        b'\r' | b'\n' | ETX | ETB => {
                            side.sum = side.sum.wrapping_add(c);
                            if c != ETB {
                                side.end_record(dir, out);
                            }
                            if matches!(c, ETX | ETB) {
                                side.state = State::Checksum;
                            }
                            pos += 1;
                        }
                        _ => {
                            // A frame or session byte inside a frame: the frame
                            // was cut short.
                            side.bad_frame(out);
                            side.end_record(dir, out);
                            side.state = State::Idle;
                        }
                    }
                }
                State::Checksum => match hex(b) {
                    Some(v) => {
                        side.digits[usize::from(side.ndigits.min(1))] = v;
                        side.ndigits += 1;
                        pos += 1;
                        if side.ndigits == 2 {
                            let ok = side.digits[0] << 4 | side.digits[1] == side.sum;
                            side.frame_end(ok, dir, out);
                            side.trailer = 0;
                            side.state = State::Trailer;
                        }
                    }
                    None => {
                        // Missing or malformed checksum.
                        side.frame_end(false, dir, out);
                        side.trailer = 0;
                        side.state = State::Trailer;
                    }
                },
                State::Trailer => {
                    if matches!(b, b'\r' | b'\n') && side.trailer < 2 {
                        side.trailer += 1;
                        pos += 1;
                    } else {
                        side.state = State::Idle;
                    }
                }
                State::Bare => {
                    let rest = &data[pos..];
                    let end = rest
                        .iter()
                        .position(|&c| matches!(c, b'\r' | b'\n' | STX | ENQ | EOT));
                    let run = &rest[..end.unwrap_or(rest.len())];
                    side.text(run);
                    pos += run.len();
                    if end.is_none() {
                        break;
                    }
                    side.end_record(dir, out);
                    if side.msg.as_ref().is_some_and(|m| m.done) {
                        side.emit(dir, out);
                    }
                    side.state = State::Idle;
                }
                State::Resync => {
                    match data[pos..]
                        .iter()
                        .position(|&c| matches!(c, STX | ENQ | EOT))
                    {
                        Some(p) => {
                            pos += p;
                            side.state = State::Idle;
                        }
                        None => pos = data.len(),
                    }
                }
            }
        }
        Progress::Consumed(pos)
    }

    fn gap(&mut self, dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        out.weird("content_gap");
        let side = &mut self.sides[(dir == Direction::ToClient) as usize];
        side.rec.kind = None;
        side.rec.keep.clear();
        side.emit(dir, out);
        side.state = State::Resync;
        Progress::Consumed(0)
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        for (side, dir) in self
            .sides
            .iter_mut()
            .zip([Direction::ToServer, Direction::ToClient])
        {
            if side.state == State::Bare {
                side.end_record(dir, out);
            }
            side.emit(dir, out);
        }
    }
}

#[cfg(test)]
mod tests;
