//! Flow summaries.

use crate::{Timestamp, Transport};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Summary of one flow, written when it closes or is evicted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ConnRecord {
    /// First packet time.
    pub start: Timestamp,
    /// Last packet time.
    pub end: Timestamp,
    /// Payload bytes from the originator.
    pub orig_bytes: u64,
    /// Payload bytes from the responder.
    pub resp_bytes: u64,
    /// Packets from the originator.
    pub orig_pkts: u64,
    /// Packets from the responder.
    pub resp_pkts: u64,
    /// Analyzers that confirmed the protocol (Zeek's `service`).
    pub service: Vec<Cow<'static, str>>,
    /// True when the responder answered (SYN-ACK or any reply datagram).
    pub established: bool,
    /// Why the summary was written: `closed`, `timeout`, `evicted`, `end_of_input`.
    pub reason: Cow<'static, str>,
    /// Transport (copied from the flow for convenience).
    pub transport: Option<Transport>,
}
