//! CLSI POCT1-A2 point-of-care device messaging over TCP: the XML messages
//! a point-of-care device (glucose meter, blood gas or coagulation analyzer)
//! exchanges with its data manager.
//!
//! Wire format (POCT1-A2 device messaging layer): one XML document per
//! message, optionally after an `<?xml ...?>` declaration, sent back to back
//! on a TCP connection. The root element names the message type,
//! `XXX.Rnn`: `HEL.R01` hello, `DST.R01` device status, `OBS.R01` patient
//! and `OBS.R02` non-patient (QC) observations, `EOT.R01` end of topic,
//! `REQ.R01` request, `END.R01` end of conversation, `ACK.R01`
//! acknowledgement, `DTV` directives, `OPL` operator lists, `KPA` keep-alive,
//! `EVS` events. Segments are elements (`HDR`, `DEV`, `SVC`, `PT`, `OBS`,
//! `OPR`, `NTE`...) whose fields are elements `SEG.field` holding their
//! value in a `V="..."` attribute (`<DEV.serial_id V="0600100736"/>`). The
//! conversation goes HEL→ACK, DST→ACK, then topics (observations) each
//! acknowledged, EOT, END. No port is registered: the probe decides.
//!
//! The analyzer is a streaming, bounded XML scanner (no DOM, no buffering of
//! the message, no entity expansion, no element stack): per direction it
//! keeps the scanner state, the nesting depth, the current element name (at
//! most [`MAX_NAME`] bytes) and, only for the fields in [`KEPT`], their `V`
//! value (at most [`MAX_VALUE`] bytes). Every other attribute value and all
//! text content is skipped byte by byte, so patient (PT), observation (OBS),
//! operator (OPR) and note (NTE) values never reach memory beyond the
//! engine's stream buffer; of those segments only a count is kept.
//! Messages are reassembled across TCP segments by that state; a message
//! longer than [`MAX_MESSAGE`] bytes is reported truncated.

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::{PoctDevice, PoctRecord};
use model::{text, Direction, Transport};

/// Longest element name read; longer names are compared as unknown.
pub const MAX_NAME: usize = 32;
/// Longest kept `V` value (identity fields, codes).
pub const MAX_VALUE: usize = 128;
/// Bytes after which a message is reported truncated and skipped.
pub const MAX_MESSAGE: u32 = 1 << 20;
/// Nesting deeper than this is reported (the scanner keeps no stack).
pub const MAX_DEPTH: u32 = 64;
/// Bytes of an `<?xml ...?>` declaration the probe looks through.
const PROBE_PROLOG: usize = 256;

/// POCT1-A2 message type prefixes (the `XXX` of a root `XXX.Rnn`).
pub const MESSAGE_TYPES: &[&[u8; 3]] = &[
    b"ACK", b"DST", b"DTV", b"END", b"EOT", b"ESC", b"EVS", b"HEL", b"KPA", b"OBS", b"OPL", b"PTL",
    b"REQ",
];

/// Where a kept field's `V` value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    ControlId,
    VersionId,
    AckType,
    DeviceId,
    VendorId,
    ModelId,
    SerialId,
    Manufacturer,
    SwVersion,
    HwVersion,
    DeviceName,
}

/// The fields whose `V` attribute is read: message header, acknowledgement
/// code and the DEV segment's identity. Nothing else is ever kept.
const KEPT: &[(&[u8], Field)] = &[
    (b"HDR.control_id", Field::ControlId),
    (b"HDR.version_id", Field::VersionId),
    (b"ACK.type_cd", Field::AckType),
    (b"DEV.device_id", Field::DeviceId),
    (b"DEV.vendor_id", Field::VendorId),
    (b"DEV.model_id", Field::ModelId),
    (b"DEV.serial_id", Field::SerialId),
    (b"DEV.manufacturer_name", Field::Manufacturer),
    (b"DEV.sw_version", Field::SwVersion),
    (b"DEV.hw_version", Field::HwVersion),
    (b"DEV.device_name", Field::DeviceName),
];

/// Segments that are counted (never read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    Patient,
    Observation,
    Operator,
    Note,
}

const COUNTED: &[(&[u8], Segment)] = &[
    (b"PT", Segment::Patient),
    (b"OBS", Segment::Observation),
    (b"OPR", Segment::Operator),
    (b"NTE", Segment::Note),
];

/// Whether `name` is a POCT1-A2 message type: a known prefix, `.R`, two digits.
pub fn is_message_type(name: &[u8]) -> bool {
    name.len() == 7 && matches!(message_prefix(name), Some(true))
}

/// Checks the bytes of a root name seen so far: `Some(true)` when the 7
/// bytes form a message type, `Some(false)` when a prefix of one (more
/// bytes needed), `None` when not one.
fn message_prefix(name: &[u8]) -> Option<bool> {
    for (i, &b) in name.iter().take(7).enumerate() {
        let ok = match i {
            0..=2 => MESSAGE_TYPES.iter().any(|t| t[..=i] == name[..=i]),
            3 => b == b'.',
            4 => b == b'R',
            _ => b.is_ascii_digit(),
        };
        if !ok {
            return None;
        }
    }
    Some(name.len() >= 7)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The CLSI POCT1-A2 device messaging protocol.
pub struct Poct1a;

impl Protocol for Poct1a {
    fn name(&self) -> &'static str {
        "poct1a"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    /// Ports are vendor-specific (and set per site): the probe decides.
    fn ports(&self) -> &'static [u16] {
        &[]
    }

    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        let mut d = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
        d = &d[d.iter().take_while(|&&b| is_space(b)).count()..];
        const DECL: &[u8] = b"<?xml";
        let n = d.len().min(DECL.len());
        if n > 0 && d[..n] == DECL[..n] {
            if n < DECL.len() {
                return Probe::NeedMore;
            }
            let window = &d[..d.len().min(PROBE_PROLOG)];
            match window.windows(2).position(|w| w == b"?>") {
                Some(p) => d = &d[p + 2..],
                None if d.len() < PROBE_PROLOG => return Probe::NeedMore,
                None => return Probe::NoMatch,
            }
            d = &d[d.iter().take_while(|&&b| is_space(b)).count()..];
        }
        match d.first() {
            None => return Probe::NeedMore,
            Some(b'<') => {}
            Some(_) => return Probe::NoMatch,
        }
        let name = &d[1..];
        match message_prefix(name) {
            None => Probe::NoMatch,
            Some(false) => Probe::NeedMore,
            Some(true) => match name.get(7) {
                None => Probe::NeedMore,
                Some(&b) if b == b'>' || b == b'/' || is_space(b) => Probe::Match,
                Some(_) => Probe::NoMatch,
            },
        }
    }

    /// A byte order mark, white space or `<`.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(b"\xef \t\r\n<")
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::<Poct1aAnalyzer>::default()
    }
}

/// Scanner state of one direction.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Character data (skipped).
    #[default]
    Text,
    /// After `<`.
    Open,
    /// An element name (`end`: of an end tag).
    Name { end: bool },
    /// Inside a start tag, between attributes.
    Attrs,
    /// An attribute name.
    AttrName,
    /// After an attribute name, before `=`.
    Eq,
    /// After `=`, before the opening quote.
    BeforeValue,
    /// An attribute value up to the closing `quote`.
    Value { quote: u8 },
    /// After `/` in a start tag: `>` ends an empty element.
    SelfClose,
    /// After an end tag's name, up to `>`.
    EndRest,
    /// `<?...?>` (`question`: the last byte was `?`).
    Pi { question: bool },
    /// After `<!`.
    Bang,
    /// `<!-- ... -->`; `dashes` counts trailing `-`.
    Comment { dashes: u8 },
    /// `<![CDATA[ ... ]]>`; `brackets` counts trailing `]`.
    Cdata { brackets: u8 },
    /// `<!DOCTYPE ...>` and other declarations; `depth` counts open `[`.
    Decl { depth: u32 },
}

/// The message being read.
struct Msg {
    record: PoctRecord,
    device: PoctDevice,
}

/// One direction of the flow.
#[derive(Default)]
struct Side {
    state: State,
    /// Element nesting depth (no stack is kept).
    depth: u32,
    name: [u8; MAX_NAME],
    name_len: usize,
    name_long: bool,
    /// The attribute being read is `V`.
    attr_v: bool,
    attr_len: usize,
    /// The element being read is a kept field (its `V` is read).
    field: Option<Field>,
    value: Vec<u8>,
    msg: Option<Msg>,
    /// After a gap, an unknown root or an oversized message: start tags
    /// are ignored until the root of a POCT1-A2 message.
    resync: bool,
    junk_reported: bool,
    unknown_reported: bool,
    deep_reported: bool,
}

impl Side {
    /// The element name just read (a copy: the side is updated while it is
    /// looked at), or `None` when it was longer than [`MAX_NAME`].
    fn name(&self) -> Option<([u8; MAX_NAME], usize)> {
        (!self.name_long).then_some((self.name, self.name_len))
    }

    fn push_name(&mut self, b: u8) {
        if self.name_len < MAX_NAME {
            self.name[self.name_len] = b;
            self.name_len += 1;
        } else {
            self.name_long = true;
        }
    }

    /// A start tag's name is complete.
    fn start_element(&mut self, out: &mut Out<'_>) {
        self.field = None;
        if self.msg.is_none() {
            if self.depth > 0 {
                // Inside a skipped (oversized) message.
                return;
            }
            let name = self.name();
            let Some(name) = name
                .as_ref()
                .map(|(b, n)| &b[..*n])
                .filter(|n| is_message_type(n))
            else {
                if !self.resync && !self.unknown_reported {
                    self.unknown_reported = true;
                    out.weird("poct1a_unknown_message");
                }
                self.resync = true;
                return;
            };
            self.resync = false;
            self.msg = Some(Msg {
                record: PoctRecord {
                    message_type: String::from_utf8_lossy(name).into_owned(),
                    ..Default::default()
                },
                device: PoctDevice::default(),
            });
            return;
        }
        let Some((buf, len)) = self.name() else {
            return;
        };
        let name = &buf[..len];
        self.field = KEPT.iter().find(|(n, _)| *n == name).map(|&(_, f)| f);
        let seg = COUNTED.iter().find(|(n, _)| *n == name).map(|&(_, s)| s);
        let Some(m) = self.msg.as_mut() else { return };
        let c = &mut m.record.counts;
        c.elements = c.elements.saturating_add(1);
        if let Some(s) = seg {
            let slot = match s {
                Segment::Patient => &mut c.patient,
                Segment::Observation => &mut c.observation,
                Segment::Operator => &mut c.operator,
                Segment::Note => &mut c.note,
            };
            *slot = slot.saturating_add(1);
        }
    }

    /// A start tag ended (`empty`: with `/>`).
    fn start_tag_end(&mut self, empty: bool, dir: Direction, out: &mut Out<'_>) {
        self.field = None;
        if self.resync && self.msg.is_none() && self.depth == 0 {
            return;
        }
        if empty {
            if self.depth == 0 {
                self.emit(dir, false, out);
            }
            return;
        }
        self.depth = self.depth.saturating_add(1);
        if self.depth > MAX_DEPTH && !self.deep_reported {
            self.deep_reported = true;
            out.weird("poct1a_deep_nesting");
        }
    }

    /// An end tag ended.
    fn end_tag(&mut self, dir: Direction, out: &mut Out<'_>) {
        if self.depth == 0 {
            return;
        }
        self.depth -= 1;
        if self.depth == 0 {
            if self.msg.is_some() {
                self.emit(dir, false, out);
            }
            self.resync = false;
        }
    }

    /// A kept field's `V` value is complete.
    fn value_end(&mut self) {
        let (Some(field), Some(m)) = (self.field, self.msg.as_mut()) else {
            self.value.clear();
            return;
        };
        let v = unescape(&self.value);
        self.value.clear();
        let v = text::bounded(&v, MAX_VALUE);
        if v.is_empty() {
            return;
        }
        let d = &mut m.device;
        let slot = match field {
            Field::ControlId => &mut m.record.control_id,
            Field::VersionId => &mut m.record.version_id,
            Field::AckType => &mut m.record.ack_type,
            Field::DeviceId => &mut d.device_id,
            Field::VendorId => &mut d.vendor_id,
            Field::ModelId => &mut d.model_id,
            Field::SerialId => &mut d.serial_id,
            Field::Manufacturer => &mut d.manufacturer_name,
            Field::SwVersion => &mut d.sw_version,
            Field::HwVersion => &mut d.hw_version,
            Field::DeviceName => &mut d.device_name,
        };
        slot.get_or_insert(v);
    }

    fn emit(&mut self, dir: Direction, truncated: bool, out: &mut Out<'_>) {
        let Some(m) = self.msg.take() else { return };
        let mut r = m.record;
        r.direction = Some(dir);
        r.truncated = truncated;
        if !m.device.is_empty() {
            r.device = Some(m.device);
        }
        r.carries_phi =
            r.counts.patient > 0 || (r.message_type == "OBS.R01" && r.counts.observation > 0);
        out.emit(r);
    }

    fn junk(&mut self, out: &mut Out<'_>) {
        if !self.junk_reported {
            self.junk_reported = true;
            out.weird("poct1a_data_outside_message");
        }
    }

    /// Scans `data`; every byte is consumed.
    fn scan(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) {
        let mut pos = 0;
        while pos < data.len() {
            let start = pos;
            pos = self.step(dir, data, pos, out);
            if let Some(m) = self.msg.as_mut() {
                let n = u32::try_from(pos - start).unwrap_or(u32::MAX);
                m.record.length = m.record.length.saturating_add(n);
                if m.record.length > MAX_MESSAGE {
                    out.weird("poct1a_message_too_long");
                    self.emit(dir, true, out);
                    // Skip the rest of it: depth still tracks its end.
                    self.resync = true;
                }
            }
        }
    }

    /// Advances the scanner from `pos`; returns the new position (> `pos`).
    fn step(&mut self, dir: Direction, data: &[u8], pos: usize, out: &mut Out<'_>) -> usize {
        let b = data[pos];
        match self.state {
            State::Text => {
                let rest = &data[pos..];
                let run = rest.iter().position(|&c| c == b'<').unwrap_or(rest.len());
                if self.depth == 0
                    && !self.resync
                    && rest[..run].iter().any(|&c| !is_space(c) && c != 0)
                {
                    self.junk(out);
                }
                if run < rest.len() {
                    self.state = State::Open;
                    return pos + run + 1;
                }
                return pos + run;
            }
            State::Open => match b {
                b'/' => {
                    self.name_len = 0;
                    self.name_long = false;
                    self.state = State::Name { end: true };
                }
                b'?' => self.state = State::Pi { question: false },
                b'!' => self.state = State::Bang,
                _ if is_space(b) || b == b'>' || b == b'<' => {
                    // Not markup: a stray `<`.
                    if self.depth == 0 {
                        self.junk(out);
                    }
                    self.state = State::Text;
                    return pos + usize::from(b != b'<');
                }
                _ => {
                    self.name_len = 0;
                    self.name_long = false;
                    self.push_name(b);
                    self.state = State::Name { end: false };
                }
            },
            State::Name { end } => {
                if is_space(b) || b == b'>' || b == b'/' {
                    if end {
                        self.state = State::EndRest;
                        return pos;
                    }
                    self.start_element(out);
                    self.state = State::Attrs;
                    return pos;
                }
                let rest = &data[pos..];
                let run = rest
                    .iter()
                    .position(|&c| is_space(c) || c == b'>' || c == b'/')
                    .unwrap_or(rest.len());
                for &c in &rest[..run] {
                    self.push_name(c);
                }
                return pos + run;
            }
            State::Attrs => match b {
                b'>' => {
                    self.state = State::Text;
                    self.start_tag_end(false, dir, out);
                }
                b'/' => self.state = State::SelfClose,
                _ if is_space(b) => {}
                b'=' | b'"' | b'\'' | b'<' => {
                    // Malformed tag: give up on it.
                    self.bad_tag(out);
                    return pos + usize::from(b != b'<');
                }
                _ => {
                    self.attr_len = 1;
                    self.attr_v = b == b'V';
                    self.state = State::AttrName;
                }
            },
            State::AttrName => {
                if b == b'=' {
                    self.state = State::BeforeValue;
                } else if is_space(b) {
                    self.state = State::Eq;
                } else if matches!(b, b'>' | b'/' | b'<' | b'"' | b'\'') {
                    self.bad_tag(out);
                    return pos + usize::from(b != b'<');
                } else {
                    self.attr_len = self.attr_len.saturating_add(1);
                    self.attr_v = false;
                }
            }
            State::Eq => match b {
                b'=' => self.state = State::BeforeValue,
                _ if is_space(b) => {}
                _ => {
                    self.bad_tag(out);
                    return pos + usize::from(b != b'<');
                }
            },
            State::BeforeValue => match b {
                b'"' | b'\'' => {
                    self.value.clear();
                    self.state = State::Value { quote: b };
                }
                _ if is_space(b) => {}
                _ => {
                    self.bad_tag(out);
                    return pos + usize::from(b != b'<');
                }
            },
            State::Value { quote } => {
                let rest = &data[pos..];
                let run = rest.iter().position(|&c| c == quote).unwrap_or(rest.len());
                if self.attr_v && self.field.is_some() && self.msg.is_some() {
                    // Twice the kept size, for entity references.
                    let room = (2 * MAX_VALUE).saturating_sub(self.value.len());
                    self.value.extend_from_slice(&rest[..run.min(room)]);
                }
                if run < rest.len() {
                    if self.attr_v {
                        self.value_end();
                    }
                    self.value.clear();
                    self.state = State::Attrs;
                    return pos + run + 1;
                }
                return pos + run;
            }
            State::SelfClose => {
                if b == b'>' {
                    self.state = State::Text;
                    self.start_tag_end(true, dir, out);
                } else {
                    self.bad_tag(out);
                    return pos + usize::from(b != b'<');
                }
            }
            State::EndRest => {
                if b == b'>' {
                    self.state = State::Text;
                    self.end_tag(dir, out);
                } else if !is_space(b) {
                    self.bad_tag(out);
                    return pos + usize::from(b != b'<');
                }
            }
            State::Pi { question } => {
                self.state = match b {
                    b'>' if question => State::Text,
                    b'?' => State::Pi { question: true },
                    _ => State::Pi { question: false },
                };
            }
            State::Bang => {
                self.state = match b {
                    b'-' => State::Comment { dashes: 0 },
                    b'[' => State::Cdata { brackets: 0 },
                    _ => State::Decl { depth: 0 },
                };
            }
            State::Comment { dashes } => {
                self.state = match b {
                    b'>' if dashes >= 2 => State::Text,
                    b'-' => State::Comment {
                        dashes: dashes.saturating_add(1),
                    },
                    _ => State::Comment { dashes: 0 },
                };
            }
            State::Cdata { brackets } => {
                self.state = match b {
                    b'>' if brackets >= 2 => State::Text,
                    b']' => State::Cdata {
                        brackets: brackets.saturating_add(1),
                    },
                    _ => State::Cdata { brackets: 0 },
                };
            }
            State::Decl { depth } => {
                // DOCTYPE internal subsets (entity declarations included)
                // are skipped: entities are never expanded.
                self.state = match b {
                    b'[' => State::Decl {
                        depth: depth.saturating_add(1),
                    },
                    b']' => State::Decl {
                        depth: depth.saturating_sub(1),
                    },
                    b'>' if depth == 0 => State::Text,
                    _ => State::Decl { depth },
                };
            }
        }
        pos + 1
    }

    /// A tag that is not well-formed: it is dropped and scanning goes on
    /// with the next markup.
    fn bad_tag(&mut self, out: &mut Out<'_>) {
        out.weird("poct1a_malformed_tag");
        self.field = None;
        self.value.clear();
        self.state = State::Text;
    }
}

/// Replaces XML's predefined entity and character references in a kept
/// value; anything else is left as written.
fn unescape(raw: &[u8]) -> Vec<u8> {
    const NAMED: &[(&[u8], u8)] = &[
        (b"&amp;", b'&'),
        (b"&lt;", b'<'),
        (b"&gt;", b'>'),
        (b"&quot;", b'"'),
        (b"&apos;", b'\''),
    ];
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'&' {
            if let Some((n, c)) = NAMED.iter().find(|(n, _)| raw[i..].starts_with(n)) {
                out.push(*c);
                i += n.len();
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// Per-flow state: the device and the data manager each send messages.
#[derive(Default)]
struct Poct1aAnalyzer {
    sides: [Side; 2],
}

impl Analyzer for Poct1aAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        self.sides[(dir == Direction::ToClient) as usize].scan(dir, data, out);
        Progress::Consumed(data.len())
    }

    fn gap(&mut self, dir: Direction, _len: u64, out: &mut Out<'_>) -> Progress {
        out.weird("content_gap");
        let side = &mut self.sides[(dir == Direction::ToClient) as usize];
        side.emit(dir, true, out);
        side.state = State::Text;
        side.depth = 0;
        side.field = None;
        side.value.clear();
        side.resync = true;
        Progress::Consumed(0)
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        for (side, dir) in self
            .sides
            .iter_mut()
            .zip([Direction::ToServer, Direction::ToClient])
        {
            if side.msg.is_some() {
                out.weird("poct1a_unterminated_message");
                side.emit(dir, true, out);
            }
        }
    }
}

#[cfg(test)]
mod tests;
