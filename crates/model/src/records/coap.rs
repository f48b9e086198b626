//! CoAP messages (RFC 7252 over UDP 5683): header, request target (Uri-Host
//! and Uri-Path, bounded), Content-Format, and the link targets of a
//! `/.well-known/core` resource discovery answer (RFC 6690). Payloads,
//! queries and tokens' values are never kept.

use serde::{Deserialize, Serialize};

use crate::Direction;

/// One CoAP message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoapRecord {
    /// Which way the message travelled on the flow.
    pub direction: Option<Direction>,
    /// Version (1).
    pub version: u8,
    /// Type: 0 confirmable, 1 non-confirmable, 2 acknowledgement, 3 reset.
    pub msg_type: u8,
    /// Code as one byte (class << 5 | detail): 1 GET, 2 POST, 69 = 2.05 Content...
    pub code: u8,
    /// The code as text: `GET`, `POST`, `PUT`, `DELETE`, `FETCH`... or `2.05`.
    pub code_name: String,
    /// Message ID.
    pub message_id: u16,
    /// Token length (the token itself is not kept).
    pub token_length: u8,
    /// Uri-Host option.
    pub uri_host: Option<String>,
    /// Uri-Path segments (bounded count and length).
    pub uri_path: Vec<String>,
    /// Content-Format option (0 text/plain, 40 link-format, 50 JSON, 60 CBOR...).
    pub content_format: Option<u16>,
    /// Link targets of a link-format (40) payload: `/.well-known/core` answers (bounded).
    pub links: Vec<String>,
}
