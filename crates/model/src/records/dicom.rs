//! DICOM upper-layer association metadata (PS3.8 section 9.3: A-ASSOCIATE-RQ/AC/RJ,
//! A-RELEASE-RQ/RP, A-ABORT). Dataset and pixel content is never kept.

use serde::{Deserialize, Serialize};

/// Kind of upper-layer PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DicomPdu {
    /// A-ASSOCIATE-RQ (type 0x01).
    AssociateRq,
    /// A-ASSOCIATE-AC (type 0x02).
    AssociateAc,
    /// A-ASSOCIATE-RJ (type 0x03).
    AssociateRj,
    /// A-RELEASE-RQ (type 0x05).
    ReleaseRq,
    /// A-RELEASE-RP (type 0x06).
    ReleaseRp,
    /// A-ABORT (type 0x07).
    Abort,
}

/// One association-level PDU. P-DATA-TF payloads (datasets, pixel data) are
/// skipped by length and only counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DicomRecord {
    /// PDU kind.
    pub pdu: DicomPdu,
    /// Calling AE title (the SCU), trimmed.
    pub calling_ae: Option<String>,
    /// Called AE title (the SCP), trimmed.
    pub called_ae: Option<String>,
    /// Implementation Class UID from the user-information item.
    pub implementation_class_uid: Option<String>,
    /// Implementation Version Name (e.g. `OFFIS_DCMTK_367`).
    pub implementation_version: Option<String>,
    /// Abstract syntaxes (SOP class UIDs) proposed (RQ) or, for AC, accepted
    /// (matched to the RQ's proposals by presentation context id), deduplicated,
    /// in wire order, capped at 128.
    pub abstract_syntaxes: Vec<String>,
    /// Transfer syntaxes proposed or accepted, deduplicated, capped at 128.
    pub transfer_syntaxes: Vec<String>,
    /// Max PDU length from the user-information item.
    pub max_pdu_length: Option<u32>,
    /// A-ASSOCIATE-RJ `result/source/reason` (e.g. `1/1/3`), or A-ABORT
    /// `source/reason` (e.g. `0/0`), as decimal numbers from PS3.8 9.3.4 / 9.3.8.
    pub reject_reason: Option<String>,
    /// P-DATA-TF bytes seen on the association before this PDU (count only).
    pub pdata_bytes: u64,
    /// Application Context Name (item 0x10), normally `1.2.840.10008.3.1.1.1`.
    #[serde(default)]
    pub application_context: Option<String>,
    /// User Identity Negotiation type (sub-item 0x58) offered by the requestor:
    /// `username`, `username_passcode`, `kerberos`, `saml`, `jwt` or `type_N`.
    /// The user name, passcode or token is never kept.
    #[serde(default)]
    pub user_identity: Option<String>,
}
