//! Malformed or unexpected input, counted rather than fatal.

use serde::{Deserialize, Serialize};

/// Something malformed or unexpected in the traffic (Zeek's weird.log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weird {
    /// Stable snake_case name (`hl7_bad_msh`, `tcp_buffer_limit`).
    pub name: String,
    /// Analyzer or layer that reported it.
    pub source: String,
}
