//! Pure, zero-copy parsing of HL7 v2 segments: segment ids, the MSH header and
//! MSA-1.
//!
//! References: HL7 v2.5.1 chapter 2 (Control): 2.5 message construction rules
//! (segments end with `<CR>`, fields separated by the character in MSH-1,
//! components/repetitions/escape/subcomponents by MSH-2), 2.14.9 MSH segment
//! (MSH-3..6 are HD, MSH-9 is MSG `type^trigger^structure`, MSH-11 is PT,
//! MSH-12 is VID), 2.14.8 MSA segment (MSA-1 acknowledgment code).
//!
//! Every function here borrows from its input; nothing allocates. Only the
//! header fields listed above are ever looked at: other segments are reduced to
//! their three-letter id.

/// Segments whose presence means the message carries patient-identifying data
/// (PID patient identification, PD1 additional demographics, NK1 next of kin,
/// PV1/PV2 patient visit, GT1 guarantor, IN1/IN2 insurance, MRG merge patient).
pub const PHI_SEGMENTS: &[&[u8; 3]] = &[
    b"PID", b"PD1", b"NK1", b"PV1", b"PV2", b"GT1", b"IN1", b"IN2", b"MRG",
];

/// Most encoding characters MSH-2 may hold (`^~\&#` since v2.7).
const MAX_ENCODING_CHARS: usize = 5;

/// Result of checking whether bytes start an MSH segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MshStart {
    /// `MSH`, a field separator, 1..=5 distinct encoding characters, and the
    /// field separator again. Holds the field separator.
    Yes(u8),
    /// A valid prefix of an MSH start; more bytes are needed to decide.
    Partial,
    /// Not an MSH segment start.
    No,
}

/// A delimiter must be printable ASCII punctuation (HL7 recommends `|^~\&`).
fn is_delimiter(b: u8) -> bool {
    b.is_ascii_punctuation()
}

/// Checks that `data` begins with `MSH` + field separator + encoding characters
/// + field separator, e.g. `MSH|^~\&|`.
pub fn msh_start(data: &[u8]) -> MshStart {
    tagged_start(data, b"MSH")
}

/// Like [`msh_start`] but also accepts the batch headers `FHS` (file header)
/// and `BHS` (batch header), which open a batch frame with the same delimiter
/// declaration (HL7 v2.5.1 2.10.3 and 2.15).
pub fn header_start(data: &[u8]) -> MshStart {
    let mut partial = false;
    for tag in [b"MSH", b"FHS", b"BHS"] {
        match tagged_start(data, tag) {
            MshStart::Yes(fs) => return MshStart::Yes(fs),
            MshStart::Partial => partial = true,
            MshStart::No => {}
        }
    }
    if partial {
        MshStart::Partial
    } else {
        MshStart::No
    }
}

fn tagged_start(data: &[u8], tag: &[u8; 3]) -> MshStart {
    let n = data.len().min(3);
    if data[..n] != tag[..n] {
        return MshStart::No;
    }
    let Some(&fs) = data.get(3) else {
        return MshStart::Partial;
    };
    if !is_delimiter(fs) {
        return MshStart::No;
    }
    let rest = data.get(4..).unwrap_or_default();
    for (i, &b) in rest.iter().enumerate().take(MAX_ENCODING_CHARS + 1) {
        if b == fs {
            return if i == 0 {
                MshStart::No
            } else {
                MshStart::Yes(fs)
            };
        }
        // Encoding characters must be delimiters, distinct from each other.
        if !is_delimiter(b) || rest[..i].contains(&b) {
            return MshStart::No;
        }
    }
    if rest.len() > MAX_ENCODING_CHARS {
        MshStart::No
    } else {
        MshStart::Partial
    }
}

/// The three-letter id of `seg` if it is a well-formed segment start: an
/// uppercase letter, two uppercase letters or digits, then `fs` or the end.
pub fn segment_id(seg: &[u8], fs: u8) -> Option<[u8; 3]> {
    let id: [u8; 3] = seg.get(..3)?.try_into().ok()?;
    let ok = id[0].is_ascii_uppercase()
        && id[1..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    (ok && seg.get(3).is_none_or(|&b| b == fs)).then_some(id)
}

/// Field `n` of a non-MSH segment (`seg` split on `fs`; field 0 is the id).
pub fn field(seg: &[u8], fs: u8, n: usize) -> Option<&[u8]> {
    seg.split(|&b| b == fs).nth(n)
}

/// A numeric observation from an OBX segment: OBX-2 must be `NM`, the code is
/// OBX-3's first component (letters, digits, `.-_:`, at most 32 bytes) and
/// the value OBX-5 parsed as a finite number. Nothing else of the segment
/// (nor of any other segment) is read.
pub fn numeric_observation(
    seg: &[u8],
    fs: u8,
    component: u8,
) -> Option<model::records::Observation> {
    if field(seg, fs, 2)? != b"NM" {
        return None;
    }
    let id = field(seg, fs, 3)?;
    let code = &id[..id.iter().position(|&b| b == component).unwrap_or(id.len())];
    if code.is_empty()
        || code.len() > 32
        || !code
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(b))
    {
        return None;
    }
    let raw = field(seg, fs, 5)?;
    let raw = &raw[..raw
        .iter()
        .position(|&b| b == component)
        .unwrap_or(raw.len())];
    if raw.len() > 32 {
        return None;
    }
    let value: f64 = std::str::from_utf8(raw).ok()?.trim().parse().ok()?;
    value.is_finite().then(|| model::records::Observation {
        code: String::from_utf8_lossy(code).into_owned(),
        value,
    })
}

/// Where a segment glued to the previous one with spaces starts: some senders
/// (and files edited by hand) put ` PID|` where `<CR>PID|` belongs. Finds
/// one or more spaces, a segment id and `fs`, and returns the id's offset.
/// When `strict`, the spaces must follow `fs` (used to detect the habit from
/// the MSH line; once detected, any preceding byte is accepted).
pub fn loose_boundary(seg: &[u8], fs: u8, strict: bool) -> Option<usize> {
    let mut from = 0;
    while let Some(rel) = seg
        .get(from..)?
        .windows(2)
        .position(|w| (w[0] == fs || !strict && w[0] != b' ') && w[1] == b' ')
    {
        let mut i = from + rel + 1;
        while seg.get(i) == Some(&b' ') {
            i += 1;
        }
        if seg.get(i + 3) == Some(&fs) && segment_id(seg.get(i..)?, fs).is_some() {
            return Some(i);
        }
        from = i;
    }
    None
}

/// A parsed MSH segment: borrowed views of the header fields Ward keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msh<'a> {
    /// MSH-1 field separator.
    pub fs: u8,
    /// MSH-2 component separator.
    pub component: u8,
    /// MSH-2 repetition separator.
    pub repetition: u8,
    /// MSH-3 sending application.
    pub sending_application: &'a [u8],
    /// MSH-4 sending facility.
    pub sending_facility: &'a [u8],
    /// MSH-5 receiving application.
    pub receiving_application: &'a [u8],
    /// MSH-6 receiving facility.
    pub receiving_facility: &'a [u8],
    /// MSH-9 message type.
    pub message_type: &'a [u8],
    /// MSH-11 processing id.
    pub processing_id: &'a [u8],
    /// MSH-12 version id.
    pub version: &'a [u8],
}

impl<'a> Msh<'a> {
    /// Parses an MSH segment (without its terminator). Missing trailing fields
    /// are empty.
    pub fn parse(seg: &'a [u8]) -> Option<Self> {
        let fs = match msh_start(seg) {
            MshStart::Yes(fs) => fs,
            // A segment that ends inside MSH-2 (`MSH|^~\&`) is still a header.
            MshStart::Partial if seg.len() >= 5 => *seg.get(3)?,
            _ => return None,
        };
        // fields[0] is MSH-2, fields[k] is MSH-(k+2).
        let mut fields: [&[u8]; 11] = [&[]; 11];
        for (slot, f) in fields.iter_mut().zip(seg.get(4..)?.split(|&b| b == fs)) {
            *slot = f;
        }
        let enc = fields[0];
        let component = enc.first().copied().unwrap_or(b'^');
        let repetition = enc.get(1).copied().unwrap_or(b'~');
        Some(Msh {
            fs,
            component,
            repetition,
            sending_application: fields[1],
            sending_facility: fields[2],
            receiving_application: fields[3],
            receiving_facility: fields[4],
            message_type: fields[7],
            processing_id: fields[9],
            version: fields[10],
        })
    }

    /// First component of the first repetition of `field`.
    pub fn first_component(&self, field: &'a [u8]) -> &'a [u8] {
        let end = field
            .iter()
            .position(|&b| b == self.component || b == self.repetition)
            .unwrap_or(field.len());
        &field[..end]
    }

    /// MSH-9 message type and trigger event (`ORU`, `R01`); the message
    /// structure (third component) is dropped.
    pub fn type_and_trigger(&self) -> (&'a [u8], &'a [u8]) {
        let rep_end = self
            .message_type
            .iter()
            .position(|&b| b == self.repetition)
            .unwrap_or(self.message_type.len());
        let mut parts = self.message_type[..rep_end].split(|&b| b == self.component);
        (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msh_start_variants() {
        assert_eq!(msh_start(b"MSH|^~\\&|APP"), MshStart::Yes(b'|'));
        assert_eq!(msh_start(b"MSH|^~\\&#|APP"), MshStart::Yes(b'|'));
        assert_eq!(
            msh_start(b"MSH|^~|"),
            MshStart::Yes(b'|'),
            "two encoding chars"
        );
        assert_eq!(msh_start(b"FHS|^~\\&|"), MshStart::No);
        assert_eq!(header_start(b"FHS|^~\\&|"), MshStart::Yes(b'|'));
        assert_eq!(header_start(b"BHS|^~\\&|"), MshStart::Yes(b'|'));
        assert_eq!(header_start(b"B"), MshStart::Partial);
        assert_eq!(header_start(b"PID|1|"), MshStart::No);
        assert_eq!(msh_start(b"MSH"), MshStart::Partial);
        assert_eq!(msh_start(b"MS"), MshStart::Partial);
        assert_eq!(msh_start(b""), MshStart::Partial);
        assert_eq!(msh_start(b"MSH|^~"), MshStart::Partial);
        assert_eq!(msh_start(b"MSH||"), MshStart::No, "empty MSH-2");
        assert_eq!(
            msh_start(b"MSH|^^|"),
            MshStart::No,
            "repeated encoding char"
        );
        assert_eq!(
            msh_start(b"MSH|^~\\&#!|"),
            MshStart::No,
            "six encoding chars"
        );
        assert_eq!(msh_start(b"MSHX^~\\&X"), MshStart::No);
        assert_eq!(msh_start(b"GET / HTTP/1.1"), MshStart::No);
    }

    #[test]
    fn segment_ids() {
        assert_eq!(segment_id(b"PID|1||x", b'|'), Some(*b"PID"));
        assert_eq!(segment_id(b"PV1|", b'|'), Some(*b"PV1"));
        assert_eq!(segment_id(b"ZPD", b'|'), Some(*b"ZPD"));
        assert_eq!(segment_id(b"1AB|", b'|'), None);
        assert_eq!(segment_id(b"pid|", b'|'), None);
        assert_eq!(segment_id(b"PIDX|", b'|'), None);
        assert_eq!(segment_id(b"PI", b'|'), None);
        assert_eq!(segment_id(b"PID#", b'|'), None);
    }

    #[test]
    fn msh_fields() {
        // MSH-1 '|', MSH-2 "^~\&", MSH-3 app^oid^ISO, MSH-4 facility, MSH-5, MSH-6,
        // MSH-7 time, MSH-8 security, MSH-9 ORU^R01^ORU_R01, MSH-10 control id,
        // MSH-11 P^T (PT: id + mode), MSH-12 2.5.1 (VID).
        let seg = b"MSH|^~\\&|LAB^1.2.3^ISO|HOSP|EHR|CLINIC|20240101120000||ORU^R01^ORU_R01|MSG1|P^T|2.5.1|||AL";
        let m = Msh::parse(seg).unwrap();
        assert_eq!(m.first_component(m.sending_application), b"LAB");
        assert_eq!(m.sending_facility, b"HOSP");
        assert_eq!(m.receiving_application, b"EHR");
        assert_eq!(m.receiving_facility, b"CLINIC");
        assert_eq!(m.type_and_trigger(), (&b"ORU"[..], &b"R01"[..]));
        assert_eq!(m.first_component(m.processing_id), b"P");
        assert_eq!(m.version, b"2.5.1");
    }

    #[test]
    fn msh_custom_delimiters_and_short_header() {
        // Field separator '#', component '$', repetition '%'.
        let m = Msh::parse(b"MSH#$%\\&#A$x#B#C#D#T##ACK$A01#1#P#2.3").unwrap();
        assert_eq!(m.fs, b'#');
        assert_eq!(m.type_and_trigger(), (&b"ACK"[..], &b"A01"[..]));
        assert_eq!(m.first_component(m.sending_application), b"A");
        assert_eq!(m.version, b"2.3");
        let short = Msh::parse(b"MSH|^~\\&|APP").unwrap();
        assert_eq!(short.sending_application, b"APP");
        assert_eq!(short.message_type, b"");
        assert!(Msh::parse(b"MSH|^~\\&").is_some());
        assert!(Msh::parse(b"MSH|").is_none());
    }

    #[test]
    fn loose_boundaries() {
        assert_eq!(
            loose_boundary(b"MSH|^~\\&|A|||| EVN|A01", b'|', true),
            Some(15)
        );
        assert_eq!(
            loose_boundary(b"MSH|^~\\&|A||||   PID|1", b'|', true),
            Some(17)
        );
        assert_eq!(loose_boundary(b"PID|1||X|NO NK1|1", b'|', true), None);
        assert_eq!(loose_boundary(b"PID|1||X|NO NK1|1", b'|', false), Some(12));
        assert_eq!(loose_boundary(b"OBX|1|TX| some text|", b'|', false), None);
        assert_eq!(loose_boundary(b"OBX|1|TX| ABCD|", b'|', false), None);
        assert_eq!(loose_boundary(b"OBX|1|TX| ", b'|', false), None);
        assert_eq!(loose_boundary(b" ", b'|', false), None);
        assert_eq!(loose_boundary(b"", b'|', true), None);
    }

    #[test]
    fn fields_of_other_segments() {
        assert_eq!(field(b"MSA|AA|CTRL1", b'|', 1), Some(&b"AA"[..]));
        assert_eq!(field(b"MSA", b'|', 1), None);
    }
}
