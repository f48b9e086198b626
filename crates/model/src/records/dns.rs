//! DNS, mDNS and LLMNR messages.

use serde::{Deserialize, Serialize};

/// One answer resource record, rendered as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsAnswer {
    /// Owner name.
    pub name: String,
    /// Record type name (A, AAAA, PTR, SRV, TXT, CNAME...).
    pub rtype: String,
    /// Rendered data as in Zeek's `answers` column: address for A/AAAA, target
    /// name for CNAME/PTR/NS/MX/SRV, SOA primary name, `TXT <len> <text>` per
    /// string (space separated), `<unknown type=N>` for types Zeek does not parse.
    pub data: String,
    /// Time to live in seconds.
    pub ttl: u32,
}

/// One DNS message (a query or a response).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DnsRecord {
    /// `dns`, `mdns` or `llmnr`.
    pub flavor: String,
    /// Transaction id.
    pub trans_id: u16,
    /// True for responses (QR bit).
    pub is_response: bool,
    /// First question name, lowercased as Zeek logs it.
    pub query: Option<String>,
    /// First question class number.
    pub qclass: Option<u16>,
    /// First question type number.
    pub qtype: Option<u16>,
    /// First question type name.
    pub qtype_name: Option<String>,
    /// Response code number.
    pub rcode: u8,
    /// Response code name.
    pub rcode_name: String,
    /// Flags.
    pub aa: bool,
    /// Truncated.
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// Opcode number (0 query, 4 notify, 5 dynamic update...).
    #[serde(default)]
    pub opcode: u8,
    /// Opcode name as Zeek prints it (`query`, `notify`, `dynamic-update`...).
    #[serde(default)]
    pub opcode_name: String,
    /// First question class name as Zeek prints it (`C_INTERNET`...).
    #[serde(default)]
    pub qclass_name: Option<String>,
    /// Zeek's `Z` field: the three bits Z, AD and CD, `(flags >> 4) & 7`.
    #[serde(default)]
    pub z: u8,
    /// Answer section, rendered like Zeek's `answers`/`TTLs` columns (records
    /// Zeek does not log, such as HINFO or OPT, are left out). For responses
    /// without a question, `query` is the first answer's owner name, as in Zeek.
    pub answers: Vec<DnsAnswer>,
    /// mDNS only: additional-section records (DNS-SD SRV/TXT/A/AAAA/HINFO),
    /// which carry device model and firmware strings. Empty for unicast DNS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional: Vec<DnsAnswer>,
}
