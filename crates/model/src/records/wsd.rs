//! WS-Discovery messages (OASIS WS-Discovery 1.1, SOAP over UDP 3702, the
//! discovery of DPWS devices and IEEE 11073 SDC providers): the action and,
//! for announcements and answers, the endpoint reference, types, scopes,
//! transport addresses and metadata version. Patient-context scopes
//! (`sdc.ctxt.pat:`) are never kept.

use serde::{Deserialize, Serialize};

use crate::Direction;

/// One WS-Discovery datagram.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WsdRecord {
    /// Which way the datagram travelled on the flow.
    pub direction: Option<Direction>,
    /// The message kind: `Hello`, `Bye`, `Probe`, `ProbeMatches`, `Resolve`,
    /// `ResolveMatches`; another action's last path segment otherwise.
    pub action: Option<String>,
    /// The endpoint reference address (`urn:uuid:...`) of the announced,
    /// matched or resolved service.
    pub endpoint: Option<String>,
    /// Types as sent (`prefix:Local`), with the namespace each prefix names.
    pub types: Vec<WsdType>,
    /// Scopes (patient-context scopes replaced by `sdc.ctxt.pat:<redacted>`).
    pub scopes: Vec<String>,
    /// Transport addresses (query strings redacted).
    pub xaddrs: Vec<String>,
    /// `MetadataVersion`.
    pub metadata_version: Option<u64>,
    /// `ProbeMatch`/`ResolveMatch` elements in an answer (the fields above
    /// are the first one's).
    pub matches: u32,
}

/// One qualified name of a `Types` list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WsdType {
    /// The namespace the prefix was bound to (empty if unbound).
    pub namespace: String,
    /// The local name (`Device`, `MedicalDevice`).
    pub local: String,
}
