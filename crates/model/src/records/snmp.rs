//! SNMP messages.

use serde::{Deserialize, Serialize};

/// One SNMP message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SnmpRecord {
    /// `1`, `2c` or `3`.
    pub version: String,
    /// Community string seen in cleartext (v1/v2c only).
    pub community: Option<String>,
    /// PDU type (get, getnext, getbulk, response, set, trap, inform, report).
    pub pdu: String,
    /// Number of variable bindings.
    pub varbinds: u32,
    /// sysDescr.0 value when a response carries it.
    pub sys_descr: Option<String>,
    /// sysName.0 value when a response carries it.
    pub sys_name: Option<String>,
    /// sysObjectID.0 value when a response carries it.
    pub sys_object_id: Option<String>,
    /// SNMPv3 user name.
    pub v3_user: Option<String>,
}

impl SnmpRecord {
    /// What may be said of a community string: `public` and `private` (the
    /// well-known defaults) by name, any other as `other` — never the secret.
    pub fn community_class(community: &str) -> &'static str {
        match community {
            "public" => "public",
            "private" => "private",
            _ => "other",
        }
    }
}
