//! HL7 v2 message headers (MSH) seen over MLLP (HL7 v2.x chapter 2; MLLP in
//! HL7 v2.5.1 appendix C.4). Only header fields are kept, never patient data.

use serde::{Deserialize, Serialize};

/// One HL7 v2 message. Only MSH header fields are kept, plus the names of
/// segments present; field contents of PID, OBX and every other segment are
/// never copied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Hl7Record {
    /// Direction of the message within the flow (`to_server` / `to_client`).
    pub direction: Option<crate::Direction>,
    /// MSH-3 sending application (first component).
    pub sending_application: Option<String>,
    /// MSH-4 sending facility (first component).
    pub sending_facility: Option<String>,
    /// MSH-5 receiving application (first component).
    pub receiving_application: Option<String>,
    /// MSH-6 receiving facility (first component).
    pub receiving_facility: Option<String>,
    /// MSH-9 message type as `TYPE^TRIGGER` (e.g. `ORU^R01`, `ACK`).
    pub message_type: Option<String>,
    /// MSH-11 processing id (P, T, D).
    pub processing_id: Option<String>,
    /// MSH-12 version id (e.g. `2.5.1`).
    pub version: Option<String>,
    /// MSA-1 acknowledgment code for ACK messages (AA, AE, AR, CA, CE, CR).
    pub ack_code: Option<String>,
    /// Segment ids present, in order, deduplicated (e.g. `MSH,PID,OBR,OBX`).
    pub segments: Vec<String>,
    /// True when the message carries patient-identifying segments (PID, NK1,
    /// PV1, ...) in cleartext. Only the fact is kept, never the contents.
    pub carries_phi: bool,
    /// Length of the message in bytes (between the MLLP start and end blocks),
    /// capped at the analyzer's message limit (1 MiB).
    pub length: u32,
    /// Numeric observations (OBX with value type `NM`): observation code and
    /// value, for the monitor's per-device statistics. Never serialized: it
    /// reaches no event file, database or export, and carries nothing that
    /// identifies the patient (no PID field, no OBX field but 3 and 5).
    #[serde(skip)]
    pub observations: Vec<Observation>,
}

/// One numeric observation value (OBX-3 first component, OBX-5 as a number).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observation {
    /// Observation identifier code (e.g. LOINC `8867-4`), bounded.
    pub code: String,
    /// The value.
    pub value: f64,
}
