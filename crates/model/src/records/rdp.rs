//! RDP connection openings (MS-RDPBCGR 2.2.1.1 and 2.2.1.2: the X.224
//! Connection Request and Confirm with the RDP negotiation structures). The
//! `mstshash` cookie is a user name: only its presence is kept. When TLS or
//! CredSSP is selected, the TLS handshake that follows is logged by the TLS
//! analyzer as its own record.

use serde::{Deserialize, Serialize};

/// One RDP connection opening.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RdpRecord {
    /// The Connection Request carried a `Cookie: mstshash=` (its value, a
    /// user name, is never kept).
    pub cookie: bool,
    /// The Connection Request carried a routing token (`Cookie: msts=`; not kept).
    pub routing_token: bool,
    /// RDP_NEG_REQ requestedProtocols (0 standard RDP security, bit 0 TLS,
    /// 1 CredSSP, 2 RDSTLS, 3 CredSSP with Early User Authorization, 4 RDSAAD).
    pub requested_protocols: Option<u32>,
    /// RDP_NEG_REQ flags.
    pub request_flags: Option<u8>,
    /// The server answered with an X.224 Connection Confirm.
    pub confirmed: bool,
    /// RDP_NEG_RSP selectedProtocol.
    pub selected_protocol: Option<u32>,
    /// RDP_NEG_RSP flags.
    pub response_flags: Option<u8>,
    /// RDP_NEG_FAILURE failureCode (1 SSL required by server, 2 SSL not
    /// allowed, 3 SSL certificate not on server, 4 inconsistent flags,
    /// 5 hybrid required, 6 SSL with user auth required).
    pub failure_code: Option<u32>,
    /// The connection went on with standard RDP security (no TLS): RC4 with
    /// no server authentication, a weak transport.
    pub standard_security: bool,
}
