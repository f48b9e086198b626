//! DHCP messages (RFC 2131 BOOTP layout, RFC 2132 options, RFC 8520 MUD URL
//! option 161).

use std::net::Ipv4Addr;

use crate::packet::Mac;

/// BOOTREQUEST (client to server).
pub const BOOTREQUEST: u8 = 1;
/// BOOTREPLY (server to client).
pub const BOOTREPLY: u8 = 2;

/// DHCP message types (option 53).
pub mod msg {
    /// DHCPDISCOVER.
    pub const DISCOVER: u8 = 1;
    /// DHCPOFFER.
    pub const OFFER: u8 = 2;
    /// DHCPREQUEST.
    pub const REQUEST: u8 = 3;
    /// DHCPACK.
    pub const ACK: u8 = 5;
}

/// A DHCP message to encode.
#[derive(Debug, Clone)]
pub struct Dhcp<'a> {
    /// BOOTREQUEST or BOOTREPLY.
    pub op: u8,
    /// Transaction id.
    pub xid: u32,
    /// Seconds since the client began acquisition.
    pub secs: u16,
    /// Client IP address (ciaddr).
    pub ciaddr: Ipv4Addr,
    /// "Your" IP address (yiaddr).
    pub yiaddr: Ipv4Addr,
    /// Next server (siaddr).
    pub siaddr: Ipv4Addr,
    /// Client hardware address.
    pub chaddr: Mac,
    /// Options in order, excluding the END option; each value is at most 255 bytes.
    pub options: Vec<(u8, &'a [u8])>,
}

impl Dhcp<'_> {
    /// Encodes the message with the broadcast flag set, padded to the
    /// 300-byte BOOTP minimum.
    pub fn encode(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(300);
        m.extend_from_slice(&[self.op, 1, 6, 0]); // op, htype Ethernet, hlen 6, hops
        m.extend_from_slice(&self.xid.to_be_bytes());
        m.extend_from_slice(&self.secs.to_be_bytes());
        m.extend_from_slice(&0x8000u16.to_be_bytes()); // broadcast flag
        m.extend_from_slice(&self.ciaddr.octets());
        m.extend_from_slice(&self.yiaddr.octets());
        m.extend_from_slice(&self.siaddr.octets());
        m.extend_from_slice(&[0; 4]); // giaddr
        m.extend_from_slice(&self.chaddr);
        m.extend_from_slice(&[0; 10]); // chaddr padding
        m.extend_from_slice(&[0; 64]); // sname
        m.extend_from_slice(&[0; 128]); // file
        m.extend_from_slice(&[99, 130, 83, 99]); // magic cookie
        for (code, value) in &self.options {
            m.push(*code);
            m.push(u8::try_from(value.len()).expect("DHCP option longer than 255 bytes"));
            m.extend_from_slice(value);
        }
        m.push(255);
        if m.len() < 300 {
            m.resize(300, 0);
        }
        m
    }
}
