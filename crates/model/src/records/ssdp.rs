//! SSDP messages (UPnP Device Architecture 1.1 section 1, HTTP over UDP
//! 1900): NOTIFY announcements, M-SEARCH queries and their answers — the
//! product string, notification or search target, unique service name
//! (uuid and type URN) and the location of the description document.

use serde::{Deserialize, Serialize};

use crate::Direction;

/// One SSDP datagram.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SsdpRecord {
    /// Which way the datagram travelled on the flow.
    pub direction: Option<Direction>,
    /// `NOTIFY` or `M-SEARCH`; None for a search response.
    pub method: Option<String>,
    /// Status code of a search response (200).
    pub status_code: Option<u16>,
    /// NOTIFY sub type (`ssdp:alive`, `ssdp:byebye`, `ssdp:update`).
    pub nts: Option<String>,
    /// `SERVER` (announcements, responses): `OS/version UPnP/1.x product/version`.
    pub server: Option<String>,
    /// `USER-AGENT` (searches, UDA 1.1).
    pub user_agent: Option<String>,
    /// Notification type (`NT`, NOTIFY).
    pub nt: Option<String>,
    /// Search target (`ST`, M-SEARCH and responses).
    pub st: Option<String>,
    /// The uuid of the `USN` (`uuid:...` without the prefix).
    pub usn_uuid: Option<String>,
    /// The type after `::` in the `USN` (`urn:schemas-upnp-org:device:MediaServer:1`,
    /// `upnp:rootdevice`).
    pub usn_type: Option<String>,
    /// `LOCATION`: the description document's URL (query string redacted).
    pub location: Option<String>,
}
