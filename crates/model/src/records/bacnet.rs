//! BACnet/IP messages (ASHRAE 135 Annex J over UDP): the virtual link
//! function, the network layer header, the APDU type and service, I-Am
//! device announcements, Who-Is ranges, and the device object's identity
//! properties read with ReadProperty or ReadPropertyMultiple. Other property
//! values (present values, schedules, trends) are never kept.

use serde::{Deserialize, Serialize};

use crate::Direction;

/// An I-Am announcement (clause 16.10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacnetIAm {
    /// Device object instance number (0..=4194303).
    pub device_instance: u32,
    /// Largest APDU the device accepts, bytes.
    pub max_apdu: u32,
    /// Segmentation supported: 0 both, 1 transmit, 2 receive, 3 none.
    pub segmentation: u8,
    /// ASHRAE-assigned vendor identifier.
    pub vendor_id: u16,
    /// Vendor name for the identifier, from Ward's small table (when known).
    pub vendor: Option<String>,
}

/// The device object's identity properties carried by a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacnetDeviceProperties {
    /// vendor-name (121).
    pub vendor_name: Option<String>,
    /// model-name (70).
    pub model_name: Option<String>,
    /// firmware-revision (44).
    pub firmware_revision: Option<String>,
    /// application-software-version (12).
    pub application_software_version: Option<String>,
    /// object-name (77).
    pub object_name: Option<String>,
}

impl BacnetDeviceProperties {
    /// True when no property was read.
    pub fn is_empty(&self) -> bool {
        self.vendor_name.is_none()
            && self.model_name.is_none()
            && self.firmware_revision.is_none()
            && self.application_software_version.is_none()
            && self.object_name.is_none()
    }
}

/// One BACnet/IP datagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacnetRecord {
    /// Which way the datagram went on its flow (the sender is the flow's
    /// client for `to_server`).
    pub direction: Direction,
    /// BVLC function (0x0a Original-Unicast-NPDU, 0x0b Original-Broadcast-NPDU,
    /// 0x04 Forwarded-NPDU, 0x05 Register-Foreign-Device...).
    pub bvlc_function: u8,
    /// NPDU control octet, when an NPDU was carried.
    pub npdu_control: Option<u8>,
    /// Destination network number (0xffff: global broadcast).
    pub dnet: Option<u16>,
    /// Source network number (the message was routed).
    pub snet: Option<u16>,
    /// Network layer message type (Who-Is-Router-To-Network 0x00, I-Am-Router 0x01...).
    pub network_message: Option<u8>,
    /// APDU type: 0 confirmed request, 1 unconfirmed request, 2 simple ACK,
    /// 3 complex ACK, 4 segment ACK, 5 error, 6 reject, 7 abort.
    pub apdu_type: Option<u8>,
    /// Service choice (confirmed or unconfirmed, per `apdu_type`).
    pub service: Option<u8>,
    /// Invoke ID of a confirmed exchange.
    pub invoke_id: Option<u8>,
    /// The APDU was one segment of a segmented message (not decoded further).
    pub segmented: bool,
    /// Who-Is device instance range, when limited.
    pub who_is_range: Option<(u32, u32)>,
    /// I-Am contents.
    pub i_am: Option<BacnetIAm>,
    /// Object of a ReadProperty or the first of a ReadPropertyMultiple:
    /// (object type, instance); type 8 is the device object.
    pub object: Option<(u16, u32)>,
    /// Property identifiers requested or returned (bounded).
    pub properties: Vec<u32>,
    /// Identity properties of a device object, from a ReadProperty(-Multiple) ACK.
    pub device: Option<BacnetDeviceProperties>,
}
