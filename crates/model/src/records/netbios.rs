//! NetBIOS datagram service (RFC 1002 section 4.4, UDP 138) carrying SMB
//! mailslot messages; for the browser mailslot (`\MAILSLOT\BROWSE`, MS-BRWS)
//! the announcements a host makes of itself: its name, OS version, server
//! type flags and comment.

use serde::{Deserialize, Serialize};

/// One NetBIOS datagram (direct unique, direct group or broadcast).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetbiosRecord {
    /// Datagram type (0x10 direct unique, 0x11 direct group, 0x12 broadcast).
    pub msg_type: u8,
    /// Source NetBIOS name, trailing spaces removed.
    pub source_name: Option<String>,
    /// Source name's suffix byte (0x00 workstation, 0x20 server...).
    pub source_suffix: Option<u8>,
    /// Destination NetBIOS name.
    pub destination_name: Option<String>,
    /// Destination name's suffix byte (0x1d master browser, 0x1e browser election...).
    pub destination_suffix: Option<u8>,
    /// SMB transaction (mailslot) name (`\MAILSLOT\BROWSE`).
    pub mailslot: Option<String>,
    /// Browser opcode (MS-BRWS 2.2: 1 host, 0x0c domain, 0x0f local master announcement...).
    pub browser_command: Option<u8>,
    /// Announced server (host) name; the domain (workgroup) for a domain announcement.
    pub server_name: Option<String>,
    /// Announced OS major version.
    pub os_major: Option<u8>,
    /// Announced OS minor version.
    pub os_minor: Option<u8>,
    /// Announced server type flags (MS-BRWS 2.2.1: SV_TYPE_*).
    pub server_type: Option<u32>,
    /// The flags of [`Self::server_type`] by name (`workstation`, `server`, `sql-server`...).
    pub server_roles: Vec<String>,
    /// Announced comment (bounded); a domain announcement's master browser name.
    pub comment: Option<String>,
}
