//! Device descriptions read from XML over HTTP: the identity parts of a
//! DPWS metadata answer (WS-Transfer Get / WS-MetadataExchange:
//! `ThisModel`, `ThisDevice`, hosted service types) and of a UPnP device
//! description (`<root><device>`). Only these identity fields are kept;
//! the rest of the document is never stored.

use serde::{Deserialize, Serialize};

/// Which kind of document the description came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionKind {
    /// DPWS `ThisModel`/`ThisDevice`/`Relationship` metadata.
    #[default]
    Dpws,
    /// UPnP Device Architecture device description.
    Upnp,
}

/// A device's self-description (sent by the HTTP server of the flow).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescriptionRecord {
    /// DPWS or UPnP.
    pub kind: DescriptionKind,
    /// Manufacturer (DPWS `Manufacturer`, UPnP `manufacturer`).
    pub manufacturer: Option<String>,
    /// Model name.
    pub model_name: Option<String>,
    /// Model number.
    pub model_number: Option<String>,
    /// UPnP `modelDescription`.
    pub model_description: Option<String>,
    /// Model URL (query string redacted).
    pub model_url: Option<String>,
    /// Presentation URL (query string redacted).
    pub presentation_url: Option<String>,
    /// Friendly name.
    pub friendly_name: Option<String>,
    /// DPWS `FirmwareVersion`.
    pub firmware_version: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// UPnP `deviceType` (`urn:schemas-upnp-org:device:MediaServer:1`).
    pub device_type: Option<String>,
    /// UPnP `UDN` (`uuid:...`) or the DPWS host's endpoint address.
    pub udn: Option<String>,
    /// Types of the hosted services (DPWS `Hosted/Types`, as
    /// `namespace#Local`) or UPnP `serviceType`s.
    pub service_types: Vec<String>,
}
