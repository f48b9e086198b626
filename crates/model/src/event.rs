//! Events: what the sensor learned, stamped with packet time and flow.

use crate::{Endpoint, Record, Timestamp, Transport};
use serde::{Deserialize, Serialize};

/// Which way bytes travel within a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the originator (client) to the responder (server).
    ToServer,
    /// From the responder (server) back to the originator (client).
    ToClient,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Self {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// Who talked to whom: the flow an event belongs to.
///
/// `client` is the originator (the side that sent the SYN, or the first
/// datagram); `server` is the responder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowInfo {
    /// Sequential flow id, unique within one analysis run.
    pub id: u64,
    /// TCP or UDP.
    pub transport: Transport,
    /// The originator.
    pub client: Endpoint,
    /// The responder.
    pub server: Endpoint,
    /// Outer 802.1Q VLAN id, if tagged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}

/// One thing the sensor learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Packet time of the bytes that completed this record.
    pub ts: Timestamp,
    /// The flow, for records that come from a TCP or UDP conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowInfo>,
    /// What was learned.
    #[serde(flatten)]
    pub record: Record,
}

impl Event {
    /// The event as it may be written outside the database (`ward analyze
    /// --events`): HTTP request targets reduced to their shape
    /// ([`crate::text::path_shape`]: identifier-like path segments replaced,
    /// query values already redacted) and SNMP communities reduced to their
    /// class ([`crate::records::SnmpRecord::community_class`]), as the facts
    /// in the database keep them. Paths of clinical web applications carry
    /// patient identifiers (`/patients/MRN424242/chart`); a community is a
    /// password.
    pub fn redacted(mut self) -> Event {
        match &mut self.record {
            Record::Http(h) => {
                if let Some(u) = &mut h.uri {
                    *u = crate::text::path_shape(u);
                }
            }
            Record::Snmp(s) => {
                if let Some(c) = &mut s.community {
                    *c = crate::records::SnmpRecord::community_class(c).to_string();
                }
            }
            _ => {}
        }
        self
    }
}
