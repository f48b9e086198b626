//! ARP (RFC 826) over Ethernet/IPv4: who claims which address.

use crate::MacAddr;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// One ARP request or reply: the sender's MAC/IPv4 binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArpRecord {
    /// 1 = request, 2 = reply (other opcodes are reported as weird).
    pub op: u16,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address (0.0.0.0 for an address probe, RFC 5227).
    pub sender_ip: Ipv4Addr,
    /// Target hardware address (zero in requests).
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
    /// Sender and target address are the same (gratuitous ARP / announcement).
    pub gratuitous: bool,
}
