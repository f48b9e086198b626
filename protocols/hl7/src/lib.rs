//! HL7 v2 analyzer: MLLP deframing and MSH header extraction.
//!
//! Wire format:
//! - MLLP (HL7 v2.5.1 appendix C.4 "Minimal Lower Layer Protocol"; HL7
//!   Transport Specification MLLP release 2): a message is framed as
//!   `<VT=0x0B> message <FS=0x1C><CR=0x0D>`. We also accept a lone `0x1C`
//!   without the trailing `<CR>`, a missing end block (the next start block
//!   ends the message), and unframed streams of bare `MSH|^~\&|...` messages.
//! - HL7 v2 messages (HL7 v2.5.1 chapter 2): segments end with `<CR>` (we also
//!   accept `<LF>`); the first segment is MSH, whose MSH-1/MSH-2 declare the
//!   delimiters. Batches (FHS/BHS) carry several MSH in one frame: each MSH
//!   starts a new record.
//!
//! What is kept ([`model::records::Hl7Record`]): MSH-3..6 (first component),
//! MSH-9 as `TYPE^TRIGGER`, MSH-11, MSH-12, MSA-1, the ids of the segments
//! present, and whether a patient-identifying segment (PID, NK1, PV1, ...) was
//! present. No other field of any segment is ever read into a record.
//!
//! Streaming: the analyzer only ever waits for one segment at a time, at most
//! [`SEGMENT_PREFIX`] bytes; longer segments (encapsulated PDFs in OBX-5, for
//! example) are reduced to their id and skipped as they stream by. A message
//! longer than [`MAX_MESSAGE`] is reported (`hl7_message_too_large`) with what
//! was seen so far, and the rest is discarded up to the next message.

pub mod wire;

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::Hl7Record;
use model::{text, Direction, Transport};
use wire::{MshStart, PHI_SEGMENTS};

/// MLLP start block (vertical tab).
const START_BLOCK: u8 = 0x0b;
/// MLLP end block (file separator), normally followed by `<CR>`.
const END_BLOCK: u8 = 0x1c;
/// Bytes of one segment buffered before it is handled from its prefix and the
/// rest skipped. MSH, MSA and segment ids all live in the first few hundred bytes.
pub const SEGMENT_PREFIX: usize = 16 * 1024;
/// Longest message followed to its end; longer ones are cut (1 MiB).
pub const MAX_MESSAGE: u64 = 1 << 20;
/// Most distinct segment ids listed per message.
const MAX_SEGMENT_IDS: usize = 64;
/// Most numeric observations kept per message.
const MAX_OBSERVATIONS: usize = 32;
/// How far the probe looks for MSH-9 in an unframed `MSH|` line.
const PROBE_WINDOW: usize = 512;

/// The HL7 v2 protocol (MLLP-framed or bare).
pub struct Hl7;

impl Protocol for Hl7 {
    fn name(&self) -> &'static str {
        "hl7"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[2575]
    }

    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        match data.first() {
            None => Probe::NeedMore,
            // MLLP: start block, then an MSH (or batch header) start with sane
            // delimiters.
            Some(&START_BLOCK) => match wire::header_start(&data[1..]) {
                MshStart::Yes(_) => Probe::Match,
                MshStart::Partial => Probe::NeedMore,
                MshStart::No => Probe::NoMatch,
            },
            // Bare HL7: an MSH (or FHS/BHS batch header) start plus at least 8
            // field separators (so MSH-9 is present) on the first line.
            Some(b'M' | b'F' | b'B') => match wire::header_start(data) {
                MshStart::Yes(fs) => probe_bare_line(data, fs),
                MshStart::Partial => Probe::NeedMore,
                MshStart::No => Probe::NoMatch,
            },
            Some(_) => Probe::NoMatch,
        }
    }

    /// MLLP start block, or a bare MSH, FHS or BHS segment.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[START_BLOCK, b'M', b'F', b'B'])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(Hl7Analyzer::default())
    }
}

/// Counts field separators on the first line of an unframed MSH segment.
fn probe_bare_line(data: &[u8], fs: u8) -> Probe {
    let mut seps = 0;
    for &b in data.iter().take(PROBE_WINDOW) {
        match b {
            b'\r' | b'\n' => break,
            _ if b == fs => {
                seps += 1;
                if seps >= 8 {
                    return Probe::Match;
                }
            }
            _ if b.is_ascii_control() && b != b'\t' => return Probe::NoMatch,
            _ => {}
        }
    }
    if data.len() < PROBE_WINDOW && !data.iter().any(|&b| b == b'\r' || b == b'\n') {
        Probe::NeedMore
    } else {
        Probe::NoMatch
    }
}

/// Per-flow state: the two directions are independent message streams.
#[derive(Default)]
struct Hl7Analyzer {
    sides: [Side; 2],
}

/// One direction of the flow.
#[derive(Default)]
struct Side {
    /// The message (or frame) being read; `None` while hunting for a start.
    frame: Option<Frame>,
    /// Junk outside any message was already reported.
    junk_reported: bool,
    /// Skipping junk up to the next line end or start block.
    in_junk: bool,
}

/// A message being read.
struct Frame {
    /// Started by an MLLP start block (else a bare `MSH` line).
    framed: bool,
    /// The rest of the current segment is being skipped (it was longer than
    /// [`SEGMENT_PREFIX`]).
    skip_segment: bool,
    /// The message went over [`MAX_MESSAGE`] and was already emitted: the rest
    /// is discarded up to the next message.
    discard: bool,
    /// What is known so far.
    msg: Msg,
}

/// Facts collected from one message. Bounded: a fixed set of short strings
/// and at most [`MAX_SEGMENT_IDS`] ids.
#[derive(Default)]
struct Msg {
    record: Hl7Record,
    /// Field separator from MSH-1 (default `|` until the MSH is seen).
    fs: Option<u8>,
    /// Component and repetition separators from MSH-2.
    component: u8,
    repetition: u8,
    /// Bytes of the message so far.
    len: u64,
    /// Segments were glued with spaces (`| PID|`) in the MSH line.
    loose: bool,
    /// A malformed segment start was already reported.
    bad_id_reported: bool,
    /// The segment id list was full and this was reported.
    ids_full_reported: bool,
}

impl Frame {
    fn new(framed: bool) -> Self {
        Frame {
            framed,
            skip_segment: false,
            discard: false,
            msg: Msg::default(),
        }
    }
}

impl Msg {
    fn has_msh(&self) -> bool {
        self.fs.is_some()
    }

    fn add_id(&mut self, id: [u8; 3], out: &mut Out<'_>) {
        if PHI_SEGMENTS.contains(&&id) {
            self.record.carries_phi = true;
        }
        let ids = &mut self.record.segments;
        if ids.iter().any(|s| s.as_bytes() == id) {
            return;
        }
        if ids.len() >= MAX_SEGMENT_IDS {
            if !self.ids_full_reported {
                self.ids_full_reported = true;
                out.weird("hl7_too_many_segment_types");
            }
            return;
        }
        // `segment_id` only returns ASCII uppercase letters and digits.
        ids.push(String::from_utf8_lossy(&id).into_owned());
    }

    fn read_msh(&mut self, m: &wire::Msh<'_>) {
        let r = &mut self.record;
        r.sending_application = text::non_empty(m.first_component(m.sending_application));
        r.sending_facility = text::non_empty(m.first_component(m.sending_facility));
        r.receiving_application = text::non_empty(m.first_component(m.receiving_application));
        r.receiving_facility = text::non_empty(m.first_component(m.receiving_facility));
        let (ty, trigger) = m.type_and_trigger();
        r.message_type = match (text::non_empty(ty), text::non_empty(trigger)) {
            (Some(t), Some(e)) => Some(format!("{t}^{e}")),
            (t, _) => t,
        };
        r.processing_id = text::non_empty(m.first_component(m.processing_id));
        r.version = text::non_empty(m.first_component(m.version));
        self.fs = Some(m.fs);
        self.component = m.component;
        self.repetition = m.repetition;
    }
}

impl Hl7Analyzer {
    fn side(&mut self, dir: Direction) -> &mut Side {
        &mut self.sides[(dir == Direction::ToClient) as usize]
    }
}

/// Emits the message collected in `msg` (if it holds anything).
fn emit(msg: Msg, dir: Direction, out: &mut Out<'_>) {
    if msg.record.segments.is_empty() {
        out.weird("hl7_empty_message");
        return;
    }
    if !msg.has_msh() {
        out.weird("hl7_missing_msh");
    }
    let mut record = msg.record;
    record.direction = Some(dir);
    record.length = u32::try_from(msg.len.min(MAX_MESSAGE)).unwrap_or(u32::MAX);
    out.emit(record);
}

impl Side {
    /// Handles one segment (without terminator) of the current frame. May end
    /// the current message and start a new one (a second MSH in a batch or in
    /// an unframed stream).
    fn segment(&mut self, seg: &[u8], dir: Direction, out: &mut Out<'_>) {
        let Some(frame) = self.frame.as_mut() else {
            return;
        };
        let seg = &seg[..seg.len().min(SEGMENT_PREFIX)];
        if seg.is_empty() {
            return;
        }
        if let MshStart::Yes(_) | MshStart::Partial = wire::msh_start(seg) {
            if let Some(m) = wire::Msh::parse(seg) {
                if frame.msg.has_msh() || frame.discard {
                    // A new message in the same frame or stream.
                    let old = std::mem::take(&mut frame.msg);
                    if !frame.discard {
                        emit(old, dir, out);
                    }
                    frame.discard = false;
                }
                let msg = &mut frame.msg;
                msg.read_msh(&m);
                msg.loose = wire::loose_boundary(seg, m.fs, true).is_some();
                if msg.loose {
                    out.weird("hl7_space_separated_segments");
                }
            }
        }
        if frame.discard {
            return;
        }
        let msg = &mut frame.msg;
        let fs = msg.fs.unwrap_or(b'|');
        let mut rest = seg;
        loop {
            let (this, next) = match msg
                .loose
                .then(|| wire::loose_boundary(rest, fs, false))
                .flatten()
            {
                Some(i) => (&rest[..i], Some(&rest[i..])),
                None => (rest, None),
            };
            match wire::segment_id(this, fs) {
                Some(id) => {
                    if &id == b"MSA" && msg.record.ack_code.is_none() {
                        let (c, r) = if msg.has_msh() {
                            (msg.component, msg.repetition)
                        } else {
                            (b'^', b'~')
                        };
                        msg.record.ack_code = wire::field(this, fs, 1).and_then(|f| {
                            let end = f.iter().position(|&b| b == c || b == r).unwrap_or(f.len());
                            text::non_empty(&f[..end])
                        });
                    }
                    if &id == b"OBX" && msg.record.observations.len() < MAX_OBSERVATIONS {
                        let c = if msg.has_msh() { msg.component } else { b'^' };
                        if let Some(o) = wire::numeric_observation(this, fs, c) {
                            msg.record.observations.push(o);
                        }
                    }
                    msg.add_id(id, out);
                }
                None if !msg.bad_id_reported => {
                    msg.bad_id_reported = true;
                    out.weird("hl7_bad_segment_id");
                }
                None => {}
            }
            match next {
                Some(n) => rest = n,
                None => break,
            }
        }
    }

    /// Adds `n` bytes to the current message and cuts it if it grew too large.
    fn count(&mut self, n: usize, dir: Direction, out: &mut Out<'_>) {
        let Some(frame) = self.frame.as_mut() else {
            return;
        };
        if frame.discard {
            return;
        }
        frame.msg.len = frame.msg.len.saturating_add(n as u64);
        if frame.msg.len > MAX_MESSAGE {
            out.weird("hl7_message_too_large");
            let msg = std::mem::take(&mut frame.msg);
            (frame.msg.fs, frame.msg.component, frame.msg.repetition) =
                (msg.fs, msg.component, msg.repetition);
            frame.discard = true;
            emit(msg, dir, out);
        }
    }

    /// Ends the current message, emitting it unless it was already cut.
    fn end(&mut self, dir: Direction, out: &mut Out<'_>) {
        if let Some(frame) = self.frame.take() {
            if !frame.discard {
                emit(frame.msg, dir, out);
            }
        }
    }

    fn junk(&mut self, out: &mut Out<'_>) {
        self.in_junk = true;
        if !self.junk_reported {
            self.junk_reported = true;
            out.weird("hl7_data_outside_message");
        }
    }
}

impl Analyzer for Hl7Analyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let side = self.side(dir);
        let mut pos = 0;
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            let Some(frame) = side.frame.as_mut() else {
                if side.in_junk {
                    // Skip to the next line end or start block, where a message may begin.
                    match rest
                        .iter()
                        .position(|&b| matches!(b, START_BLOCK | b'\r' | b'\n'))
                    {
                        Some(p) => {
                            side.in_junk = false;
                            pos += p;
                        }
                        None => pos = data.len(),
                    }
                    continue;
                }
                // Hunting for the next message start.
                match rest[0] {
                    START_BLOCK => {
                        side.frame = Some(Frame::new(true));
                        pos += 1;
                    }
                    // Filler between frames: the <CR> after an end block, stray
                    // end blocks, keep-alive newlines.
                    b'\r' | b'\n' | END_BLOCK | b' ' | b'\t' | 0 => pos += 1,
                    b'M' | b'F' | b'B' => match wire::header_start(rest) {
                        MshStart::Yes(_) => side.frame = Some(Frame::new(false)),
                        MshStart::Partial => return Progress::Consumed(pos),
                        MshStart::No => {
                            side.junk(out);
                            pos += 1;
                        }
                    },
                    _ => {
                        side.junk(out);
                        pos += 1;
                    }
                }
                continue;
            };
            let Some(i) = rest
                .iter()
                .position(|&b| matches!(b, b'\r' | b'\n' | END_BLOCK | START_BLOCK))
            else {
                // No complete segment yet.
                if frame.skip_segment {
                    side.count(rest.len(), dir, out);
                    return Progress::Consumed(data.len());
                }
                if rest.len() < SEGMENT_PREFIX {
                    return Progress::Consumed(pos);
                }
                // A very long segment: handle its prefix, skip the rest.
                frame.skip_segment = true;
                side.segment(rest, dir, out);
                side.count(rest.len(), dir, out);
                return Progress::Consumed(data.len());
            };
            let seg = &rest[..i];
            if std::mem::take(&mut frame.skip_segment) {
                side.count(seg.len(), dir, out);
            } else {
                side.segment(seg, dir, out);
                side.count(seg.len(), dir, out);
            }
            match rest[i] {
                END_BLOCK => {
                    side.end(dir, out);
                    pos += i + 1;
                }
                START_BLOCK => {
                    if side.frame.as_ref().is_some_and(|f| f.framed) {
                        out.weird("hl7_missing_end_block");
                    }
                    side.end(dir, out);
                    pos += i;
                }
                _ => {
                    side.count(1, dir, out);
                    pos += i + 1;
                }
            }
        }
        Progress::Consumed(pos)
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Out<'_>) -> Progress {
        let side = self.side(dir);
        if let Some(frame) = side.frame.as_mut() {
            if frame.skip_segment {
                // Lost bytes inside a segment we were skipping anyway.
                side.count(usize::try_from(len).unwrap_or(usize::MAX), dir, out);
                return Progress::Consumed(0);
            }
        }
        out.weird("content_gap");
        side.end(dir, out);
        // Whatever follows starts mid-line: resynchronise at a line end or start block.
        side.in_junk = true;
        Progress::Consumed(0)
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        for (side, dir) in self
            .sides
            .iter_mut()
            .zip([Direction::ToServer, Direction::ToClient])
        {
            if side.frame.as_ref().is_some_and(|f| f.framed && !f.discard) {
                out.weird("hl7_unterminated_message");
            }
            side.end(dir, out);
        }
    }
}

#[cfg(test)]
mod tests;
