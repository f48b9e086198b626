//! Laboratory instrument messages: ASTM E1394 / CLSI LIS2-A2 records, usually
//! framed by ASTM E1381 / CLSI LIS1-A (ENQ/ACK, `<STX>` frames with
//! checksums). Only the header (H) and terminator (L) records are read; of
//! every other record only its type letter is counted, so patient (P),
//! order (O), result (R), comment (C) and query (Q) contents are never kept.

use serde::{Deserialize, Serialize};

/// How many records of each type one message held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AstmCounts {
    /// H: message header.
    pub header: u32,
    /// P: patient information.
    pub patient: u32,
    /// O: test order.
    pub order: u32,
    /// R: result.
    pub result: u32,
    /// C: comment.
    pub comment: u32,
    /// Q: request information (host query).
    pub query: u32,
    /// M: manufacturer information.
    pub manufacturer: u32,
    /// S: scientific.
    pub scientific: u32,
    /// L: message terminator.
    pub terminator: u32,
    /// Any other record type.
    pub other: u32,
}

/// One ASTM/LIS2 message (H record to L record) in one direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AstmRecord {
    /// Direction of the message within the flow (`to_server` / `to_client`).
    pub direction: Option<crate::Direction>,
    /// H-5 sender name or ID, first component (the instrument or host name).
    pub sender_name: Option<String>,
    /// H-5 second component: the sender's software version.
    pub sender_version: Option<String>,
    /// H-5 third component: the sender's serial number.
    pub sender_serial: Option<String>,
    /// H-10 receiver ID, first component.
    pub receiver_id: Option<String>,
    /// H-12 processing ID (P production, T training, D debugging, Q quality control).
    pub processing_id: Option<String>,
    /// H-13 version of the specification (`LIS2-A2`, `E1394-97`, `1`).
    pub version: Option<String>,
    /// L-3 termination code (N normal, T, R, E, Q, I, F).
    pub termination_code: Option<String>,
    /// Records per type.
    pub counts: AstmCounts,
    /// E1381 frames that carried the message (0 when it came unframed).
    pub frames: u32,
    /// Frames whose checksum did not match.
    pub checksum_errors: u32,
    /// True when the message held patient (P) or result (R) records in
    /// cleartext. Only the fact is kept, never the contents.
    pub carries_phi: bool,
    /// Bytes of record text (frame control characters excluded), capped.
    pub length: u32,
}
