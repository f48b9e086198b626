//! RFB (VNC) session openings (RFC 6143): both ends' protocol versions, the
//! security types the server offered and the one used, the security result,
//! and the ServerInit's framebuffer size and desktop name. The VNC
//! authentication challenge and response and all screen content are never
//! kept.

use serde::{Deserialize, Serialize};

/// One RFB connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VncRecord {
    /// Server ProtocolVersion (`003.008`).
    pub server_version: Option<String>,
    /// Client ProtocolVersion.
    pub client_version: Option<String>,
    /// Security types the server offered (3.7+; for 3.3 the one it decided).
    pub security_types: Vec<u8>,
    /// Security type used: 1 None, 2 VNC Authentication, 16 Tight, 18 TLS,
    /// 19 VeNCrypt, 30 Apple ARD...
    pub security_type: Option<u8>,
    /// SecurityResult (0 OK, 1 failed), when sent.
    pub auth_result: Option<u32>,
    /// Reason given for a refused connection or failed authentication (bounded).
    pub failure_reason: Option<String>,
    /// ClientInit shared-flag.
    pub shared: Option<bool>,
    /// ServerInit framebuffer width.
    pub width: Option<u16>,
    /// ServerInit framebuffer height.
    pub height: Option<u16>,
    /// ServerInit desktop name (cleaned, bounded).
    pub desktop_name: Option<String>,
    /// The session reached ServerInit with security type None: anyone on the
    /// network can take remote control of this screen.
    pub no_auth: bool,
}
