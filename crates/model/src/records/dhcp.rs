//! DHCPv4 messages.

use crate::MacAddr;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// One DHCP message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DhcpRecord {
    /// Message type name (DISCOVER, OFFER, REQUEST, ACK, NAK, INFORM, RELEASE, DECLINE...).
    pub msg_type: String,
    /// Transaction id.
    pub xid: u32,
    /// chaddr: the client's hardware address.
    pub client_mac: Option<MacAddr>,
    /// ciaddr, when non-zero.
    pub client_addr: Option<Ipv4Addr>,
    /// yiaddr: address assigned by the server, when non-zero.
    pub assigned_addr: Option<Ipv4Addr>,
    /// Option 50: requested address.
    pub requested_addr: Option<Ipv4Addr>,
    /// Option 54: server identifier.
    pub server_id: Option<Ipv4Addr>,
    /// Option 12: host name.
    pub hostname: Option<String>,
    /// Option 81: client FQDN.
    pub client_fqdn: Option<String>,
    /// Option 15: domain name.
    pub domain: Option<String>,
    /// Option 60: vendor class identifier.
    pub vendor_class: Option<String>,
    /// Option 61: client identifier, hex.
    pub client_id: Option<String>,
    /// Option 55 parameter request list, comma separated (the classic DHCP fingerprint).
    pub param_request_list: Option<String>,
    /// Option 51: lease time in seconds.
    pub lease_time: Option<u32>,
    /// Option 56: message text.
    pub message: Option<String>,
    /// Option 161: Manufacturer Usage Description URL (RFC 8520).
    pub mud_url: Option<String>,
}
