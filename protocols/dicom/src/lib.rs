//! DICOM upper-layer analyzer: association metadata, never dataset content.
//!
//! Protocol: DICOM PS3.8 section 9 (upper-layer protocol for TCP/IP). A TCP
//! connection carries a stream of PDUs, each a 6-byte header (type, reserved,
//! 32-bit big-endian length, 9.3.1) and a body; see [`pdu`] for the layouts.
//!
//! What is kept ([`model::records::DicomRecord`], one per association-level
//! PDU): for A-ASSOCIATE-RQ/AC (9.3.2, 9.3.3) the called/calling AE titles,
//! application context, abstract and transfer syntaxes (for an AC, those of
//! the accepted presentation contexts, matched by id to the RQ's proposals),
//! max PDU length, implementation class UID and version name (PS3.7 annex D),
//! and the user identity *type*; for A-ASSOCIATE-RJ (9.3.4) and A-ABORT (9.3.8)
//! the result/source/reason codes; A-RELEASE-RQ/RP (9.3.6, 9.3.7) are noted.
//!
//! P-DATA-TF (9.3.5) carries DIMSE commands and datasets, including patient
//! data and pixel data: it is never buffered or parsed. Its bytes are consumed
//! as they arrive and only counted (`pdata_bytes`). PDUs that are parsed are
//! buffered up to [`MAX_PDU`]; larger ones and unknown types are skipped by
//! length in the same streaming way.

pub mod pdu;

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::{DicomPdu, DicomRecord};
use model::{text, Direction, Transport};
use pdu::{item_type, pdu_type, Items};

/// Largest association-level PDU that is buffered and parsed (an RQ with 128
/// presentation contexts is about 16 KiB).
pub const MAX_PDU: u32 = 256 * 1024;
/// Most UIDs kept per list, and most presentation contexts remembered.
const MAX_UIDS: usize = 128;
/// Longest UID (PS3.5 9.1: 64 characters).
const MAX_UID_LEN: usize = 64;
/// Unknown PDU types tolerated before the flow is given up as not DICOM
/// (PS3.8 9.3.1 has the receiver abort on the first one).
const MAX_UNKNOWN_PDUS: u32 = 4;

/// The DICOM upper-layer protocol.
pub struct Dicom;

impl Protocol for Dicom {
    fn name(&self) -> &'static str {
        "dicom"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Tcp]
    }

    fn ports(&self) -> &'static [u16] {
        &[104, 11112]
    }

    fn probe(&self, _dir: Direction, data: &[u8], port_hint: bool) -> Probe {
        match data.first() {
            None => Probe::NeedMore,
            Some(&(pdu_type::ASSOCIATE_RQ | pdu_type::ASSOCIATE_AC)) => probe_associate(data),
            // A 10-byte A-ASSOCIATE-RJ alone is only believed on a DICOM port.
            Some(&pdu_type::ASSOCIATE_RJ) if port_hint => probe_reject(data),
            Some(_) => Probe::NoMatch,
        }
    }

    /// A-ASSOCIATE-RQ or -AC (a reject only on DICOM ports).
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[pdu_type::ASSOCIATE_RQ, pdu_type::ASSOCIATE_AC])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(DicomAnalyzer::default())
    }
}

/// A-ASSOCIATE-RQ/AC: reserved byte 0, plausible length, protocol version 1,
/// printable AE titles, and the application context item first.
fn probe_associate(data: &[u8]) -> Probe {
    if data.get(1).is_some_and(|&r| r != 0) {
        return Probe::NoMatch;
    }
    let Some(h) = pdu::header(data) else {
        return Probe::NeedMore;
    };
    let min = (pdu::ASSOCIATE_FIXED_LEN + 4) as u32;
    if h.len < min || h.len > MAX_PDU {
        return Probe::NoMatch;
    }
    let Some(body) = data.get(pdu::HEADER_LEN..) else {
        return Probe::NeedMore;
    };
    if body.len() >= 2 && body[..2] != [0x00, 0x01] {
        return Probe::NoMatch;
    }
    match (body.get(4..20), body.get(20..36)) {
        (Some(called), Some(calling)) if !(ae_plausible(called) && ae_plausible(calling)) => {
            return Probe::NoMatch
        }
        (Some(_), Some(_)) => {}
        _ => return Probe::NeedMore,
    }
    match body.get(pdu::ASSOCIATE_FIXED_LEN) {
        Some(&item_type::APPLICATION_CONTEXT) => Probe::Match,
        Some(_) => Probe::NoMatch,
        None => Probe::NeedMore,
    }
}

/// AE titles: 16 bytes of printable ASCII (PS3.5 AE value representation),
/// padded with spaces (some stacks pad with NULs), not all blank.
fn ae_plausible(ae: &[u8]) -> bool {
    ae.iter().all(|&b| b == 0 || (0x20..0x7f).contains(&b)) && ae.iter().any(|&b| b > 0x20)
}

/// A-ASSOCIATE-RJ: exactly one 10-byte PDU with defined result/source/reason.
fn probe_reject(data: &[u8]) -> Probe {
    if data.len() < 10 {
        return if data.len() > 1 && data[1] != 0 {
            Probe::NoMatch
        } else {
            Probe::NeedMore
        };
    }
    let ok = data.len() == 10
        && data[1..7] == [0, 0, 0, 0, 4, 0]
        && matches!(data[7], 1 | 2)
        && matches!(data[8], 1..=3)
        && data[9] <= 7;
    if ok {
        Probe::Match
    } else {
        Probe::NoMatch
    }
}

/// Per-flow state.
#[derive(Default)]
struct DicomAnalyzer {
    /// Stream state per direction (to server, to client).
    sides: [Side; 2],
    /// Presentation contexts proposed by the last A-ASSOCIATE-RQ: (id, abstract syntax).
    proposals: Vec<(u8, String)>,
    /// P-DATA-TF payload bytes seen so far, both directions.
    pdata_bytes: u64,
    /// Unknown PDU types seen.
    unknown: u32,
}

/// One direction of the PDU stream.
#[derive(Default)]
struct Side {
    /// Bytes of the current PDU still to skip.
    skip: u64,
    /// The PDU being skipped is a P-DATA-TF (its bytes are counted).
    skipping_pdata: bool,
}

impl Analyzer for DicomAnalyzer {
    fn feed(&mut self, dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        let idx = (dir == Direction::ToClient) as usize;
        let mut pos = 0usize;
        loop {
            let rest = data.get(pos..).unwrap_or_default();
            let side = &mut self.sides[idx];
            if side.skip > 0 {
                let n = usize::try_from(side.skip)
                    .unwrap_or(usize::MAX)
                    .min(rest.len());
                side.skip -= n as u64;
                if side.skipping_pdata {
                    self.pdata_bytes = self.pdata_bytes.saturating_add(n as u64);
                }
                pos += n;
                if side.skip > 0 {
                    return Progress::Consumed(pos);
                }
                continue;
            }
            let Some(h) = pdu::header(rest) else {
                return Progress::Consumed(pos);
            };
            let parsed = matches!(
                h.ty,
                pdu_type::ASSOCIATE_RQ
                    | pdu_type::ASSOCIATE_AC
                    | pdu_type::ASSOCIATE_RJ
                    | pdu_type::RELEASE_RQ
                    | pdu_type::RELEASE_RP
                    | pdu_type::ABORT
            );
            if parsed && h.len <= MAX_PDU {
                let total = pdu::HEADER_LEN + h.len as usize;
                let Some(body) = rest.get(pdu::HEADER_LEN..total) else {
                    return Progress::Consumed(pos);
                };
                self.pdu(h.ty, h.len, body, out);
                pos += total;
                continue;
            }
            if h.ty == pdu_type::P_DATA_TF {
                side.skipping_pdata = true;
            } else {
                side.skipping_pdata = false;
                if parsed {
                    out.weird("dicom_pdu_too_large");
                } else {
                    out.weird("dicom_unknown_pdu_type");
                    self.unknown += 1;
                    if self.unknown > MAX_UNKNOWN_PDUS {
                        return Progress::Done;
                    }
                }
            }
            side.skip = u64::from(h.len);
            pos += pdu::HEADER_LEN;
        }
    }

    fn gap(&mut self, dir: Direction, len: u64, out: &mut Out<'_>) -> Progress {
        let side = &mut self.sides[(dir == Direction::ToClient) as usize];
        if side.skip >= len {
            // Lost bytes inside a PDU we were skipping: framing is intact.
            side.skip -= len;
            if side.skipping_pdata {
                self.pdata_bytes = self.pdata_bytes.saturating_add(len);
            }
            return Progress::Consumed(0);
        }
        out.weird("content_gap");
        Progress::Done
    }
}

impl DicomAnalyzer {
    /// Handles one complete association-level PDU body.
    fn pdu(&mut self, ty: u8, len: u32, body: &[u8], out: &mut Out<'_>) {
        let mut record = DicomRecord {
            pdu: DicomPdu::ReleaseRq,
            calling_ae: None,
            called_ae: None,
            implementation_class_uid: None,
            implementation_version: None,
            abstract_syntaxes: Vec::new(),
            transfer_syntaxes: Vec::new(),
            max_pdu_length: None,
            reject_reason: None,
            pdata_bytes: self.pdata_bytes,
            application_context: None,
            user_identity: None,
        };
        match ty {
            pdu_type::ASSOCIATE_RQ | pdu_type::ASSOCIATE_AC => {
                let rq = ty == pdu_type::ASSOCIATE_RQ;
                record.pdu = if rq {
                    DicomPdu::AssociateRq
                } else {
                    DicomPdu::AssociateAc
                };
                let Some(a) = pdu::associate(body) else {
                    out.weird("dicom_truncated_pdu");
                    return;
                };
                if a.version & 1 == 0 {
                    out.weird("dicom_unsupported_protocol_version");
                }
                record.called_ae = text::non_empty(a.called_ae);
                record.calling_ae = text::non_empty(a.calling_ae);
                self.associate_items(rq, a.items, &mut record, out);
            }
            pdu_type::ASSOCIATE_RJ => {
                record.pdu = DicomPdu::AssociateRj;
                record.reject_reason = self
                    .reasons(len, pdu::reject(body), out)
                    .map(|r| format!("{}/{}/{}", r.result, r.source, r.reason));
            }
            pdu_type::ABORT => {
                record.pdu = DicomPdu::Abort;
                record.reject_reason = self
                    .reasons(len, pdu::abort(body), out)
                    .map(|r| format!("{}/{}", r.source, r.reason));
            }
            pdu_type::RELEASE_RQ | pdu_type::RELEASE_RP => {
                record.pdu = if ty == pdu_type::RELEASE_RQ {
                    DicomPdu::ReleaseRq
                } else {
                    DicomPdu::ReleaseRp
                };
                if len != 4 {
                    out.weird("dicom_bad_pdu_length");
                }
            }
            _ => return,
        }
        out.emit(record);
    }

    /// Checks the 4-byte length of RJ/ABORT and passes their codes through.
    fn reasons(
        &self,
        len: u32,
        r: Option<pdu::Reasons>,
        out: &mut Out<'_>,
    ) -> Option<pdu::Reasons> {
        if len != 4 {
            out.weird("dicom_bad_pdu_length");
        }
        r
    }

    /// Reads the variable items of an A-ASSOCIATE-RQ (`rq`) or -AC.
    fn associate_items(
        &mut self,
        rq: bool,
        items: &[u8],
        record: &mut DicomRecord,
        out: &mut Out<'_>,
    ) {
        let mut lists_full = false;
        let mut malformed = false;
        if rq {
            self.proposals.clear();
        }
        let mut it = Items::new(items);
        for item in it.by_ref() {
            match item.ty {
                item_type::APPLICATION_CONTEXT => record.application_context = uid(item.value),
                item_type::PRESENTATION_CONTEXT_RQ | item_type::PRESENTATION_CONTEXT_AC => {
                    if rq != (item.ty == item_type::PRESENTATION_CONTEXT_RQ) {
                        out.weird("dicom_unexpected_item");
                        continue;
                    }
                    let Some(mut pc) = pdu::presentation_context(item.value) else {
                        malformed = true;
                        continue;
                    };
                    let mut abstract_syntax = None;
                    let mut transfer = Vec::new();
                    for sub in pc.sub_items.by_ref() {
                        match sub.ty {
                            item_type::ABSTRACT_SYNTAX if abstract_syntax.is_none() => {
                                abstract_syntax = uid(sub.value)
                            }
                            item_type::TRANSFER_SYNTAX => transfer.push(sub.value),
                            _ => {}
                        }
                    }
                    malformed |= pc.sub_items.malformed;
                    if rq {
                        if let Some(a) = &abstract_syntax {
                            if self.proposals.len() < MAX_UIDS {
                                self.proposals.push((pc.id, a.clone()));
                            }
                        }
                    } else if pc.result == 0 {
                        // Accepted: the abstract syntax is the one proposed under this id.
                        abstract_syntax = self
                            .proposals
                            .iter()
                            .find(|(id, _)| *id == pc.id)
                            .map(|(_, a)| a.clone());
                    } else {
                        continue;
                    }
                    if let Some(a) = abstract_syntax {
                        lists_full |= push_unique(&mut record.abstract_syntaxes, a);
                    }
                    for t in transfer.into_iter().filter_map(uid) {
                        lists_full |= push_unique(&mut record.transfer_syntaxes, t);
                    }
                }
                item_type::USER_INFO => {
                    let mut subs = Items::new(item.value);
                    for sub in subs.by_ref() {
                        match sub.ty {
                            item_type::MAX_LENGTH => match <[u8; 4]>::try_from(sub.value) {
                                Ok(b) => record.max_pdu_length = Some(u32::from_be_bytes(b)),
                                Err(_) => malformed = true,
                            },
                            item_type::IMPLEMENTATION_CLASS_UID => {
                                record.implementation_class_uid = uid(sub.value)
                            }
                            item_type::IMPLEMENTATION_VERSION => {
                                record.implementation_version = text::non_empty(sub.value)
                            }
                            // Only the type is kept: never the user name, passcode or token.
                            item_type::USER_IDENTITY if rq => {
                                record.user_identity = sub
                                    .value
                                    .first()
                                    .map(|&t| pdu::user_identity_name(t).into_owned());
                            }
                            _ => {}
                        }
                    }
                    malformed |= subs.malformed;
                }
                // Unknown item types are ignored (PS3.8 9.3.1).
                _ => {}
            }
        }
        if it.malformed || malformed {
            out.weird("dicom_bad_item_length");
        }
        if lists_full {
            out.weird("dicom_too_many_uids");
        }
    }
}

/// A UID from an item value: trailing NUL/space padding stripped, capped.
fn uid(value: &[u8]) -> Option<String> {
    let s = text::bounded(value, MAX_UID_LEN);
    (!s.is_empty()).then_some(s)
}

/// Appends `v` unless present; returns true if it was dropped because the
/// list is full.
fn push_unique(list: &mut Vec<String>, v: String) -> bool {
    if list.contains(&v) {
        false
    } else if list.len() >= MAX_UIDS {
        true
    } else {
        list.push(v);
        false
    }
}

#[cfg(test)]
mod tests;
