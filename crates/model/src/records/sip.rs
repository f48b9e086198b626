//! SIP messages (RFC 3261, over UDP or TCP): the request method and
//! request-URI host, the response status, the product strings (`User-Agent`,
//! `Server`) and the *domains* of From, To and Contact. User parts and
//! display names (extensions, phone numbers, people's names), Call-IDs and
//! bodies (SDP) are never kept.

use serde::{Deserialize, Serialize};

use crate::Direction;

/// One SIP request or response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SipRecord {
    /// Which way the message travelled on the flow.
    pub direction: Option<Direction>,
    /// Request method (`REGISTER`, `INVITE`, `OPTIONS`...); None for a response.
    pub method: Option<String>,
    /// Host part of the request-URI (no user part, no port).
    pub request_uri_host: Option<String>,
    /// Response status code; None for a request.
    pub status_code: Option<u16>,
    /// Method named in the CSeq header (says what a response answers).
    pub cseq_method: Option<String>,
    /// Via header values (1: the message comes straight from the agent that
    /// made it; more: a proxy forwarded it, and its product strings are
    /// another host's).
    pub vias: u8,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// `Server` header.
    pub server: Option<String>,
    /// Host part of the From URI.
    pub from_domain: Option<String>,
    /// Host part of the To URI.
    pub to_domain: Option<String>,
    /// Host part of the (first) Contact URI.
    pub contact_host: Option<String>,
    /// Maker named by the product string (`Yealink`), when it parses.
    pub product_vendor: Option<String>,
    /// Model named by the product string (`SIP-T46S`).
    pub product_model: Option<String>,
    /// Version named by the product string (`66.86.0.15`).
    pub product_version: Option<String>,
}
