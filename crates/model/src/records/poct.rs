//! Point-of-care device messages: CLSI POCT1-A2 device messaging layer (XML
//! messages such as `HEL.R01`, `DST.R01`, `OBS.R01` between a point-of-care
//! device and its data manager, over TCP). Of each message the root name
//! (message type), the HDR control and version ids, the ACK type code, the
//! device identity of a DEV segment (hello and status messages) and counts
//! of patient, observation, operator and note segments are kept. Patient
//! (PT), observation (OBS), operator (OPR) and note (NTE) values are never
//! read.

use serde::{Deserialize, Serialize};

/// The DEV segment: who the device says it is (`DEV.*` `V` attributes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PoctDevice {
    /// DEV.device_id: the site's name for the device.
    pub device_id: Option<String>,
    /// DEV.vendor_id: the vendor's short code (`NOVABIO`).
    pub vendor_id: Option<String>,
    /// DEV.model_id.
    pub model_id: Option<String>,
    /// DEV.serial_id.
    pub serial_id: Option<String>,
    /// DEV.manufacturer_name.
    pub manufacturer_name: Option<String>,
    /// DEV.sw_version.
    pub sw_version: Option<String>,
    /// DEV.hw_version.
    pub hw_version: Option<String>,
    /// DEV.device_name.
    pub device_name: Option<String>,
}

impl PoctDevice {
    /// True when no field was seen.
    pub fn is_empty(&self) -> bool {
        *self == PoctDevice::default()
    }
}

/// How many segments of each kind one message held (their contents are
/// never kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PoctCounts {
    /// PT: patient segments.
    pub patient: u32,
    /// OBS: observation (result) segments.
    pub observation: u32,
    /// OPR: operator segments.
    pub operator: u32,
    /// NTE: note segments.
    pub note: u32,
    /// Elements of any name (the message's size in elements).
    pub elements: u32,
}

/// One POCT1-A2 message in one direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PoctRecord {
    /// Direction of the message within the flow (`to_server` / `to_client`).
    pub direction: Option<crate::Direction>,
    /// The root element: the message type (`HEL.R01`, `OBS.R01`, `ACK.R01`).
    pub message_type: String,
    /// HDR.control_id: the message's sequence number.
    pub control_id: Option<String>,
    /// HDR.version_id (`POCT1`).
    pub version_id: Option<String>,
    /// ACK.type_cd (`AA` accepted, `AE` error) of an acknowledgement.
    pub ack_type: Option<String>,
    /// The DEV segment's identity fields, when the message had one.
    pub device: Option<PoctDevice>,
    /// Segments per kind.
    pub counts: PoctCounts,
    /// True when the message carried patient segments, or patient
    /// observations (`OBS.R01` results), in cleartext. Only the fact is kept.
    pub carries_phi: bool,
    /// Bytes of the message (capped).
    pub length: u32,
    /// The message hit the size cap or the flow ended before its end tag.
    pub truncated: bool,
}
