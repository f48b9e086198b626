//! Link and transport addresses.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// True for addresses of the site's own networks: RFC 1918, loopback,
/// link-local, carrier-grade NAT (100.64/10), IPv6 ULA and link-local.
pub fn is_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (v4.octets()[0] == 100 && v4.octets()[1] & 0xc0 == 64)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments()[0];
            v6.is_loopback() || (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80
        }
    }
}

/// True for unicast addresses routed on the internet: not the site's own
/// ([`is_local`]), not multicast, broadcast, unspecified or reserved (240/4).
/// Monitoring calls everything else inside the hospital; risk calls a service
/// reachable on such an address exposed.
pub fn is_public(ip: &IpAddr) -> bool {
    if is_local(ip) {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => !(v4.is_multicast() || v4.is_unspecified() || v4.octets()[0] >= 240),
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

/// True for addresses that name one host (not multicast, broadcast, a
/// subnet's `.255` or unspecified).
pub fn is_host(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.octets()[3] == 255)
        }
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

/// An IEEE 802 MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// Reads a MAC address from the first six bytes of `b`, if there are six.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        let a: [u8; 6] = b.get(..6)?.try_into().ok()?;
        Some(MacAddr(a))
    }

    /// True for group (multicast or broadcast) addresses.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// True for locally administered (often randomised) addresses.
    pub fn is_local(&self) -> bool {
        self.0[0] & 2 == 2
    }

    /// True for all-zero addresses (loopback captures use them).
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// The 24-bit organisationally unique identifier.
    pub fn oui(&self) -> [u8; 3] {
        [self.0[0], self.0[1], self.0[2]]
    }

    /// Parses `aa:bb:cc:dd:ee:ff` (also accepts `-` separators).
    pub fn parse(s: &str) -> Option<Self> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut out {
            *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
        }
        parts.next().is_none().then_some(MacAddr(out))
    }
}

impl MacAddr {
    /// The address as text, `aa:bb:cc:dd:ee:ff` (lowercase), without the
    /// formatting machinery (device keys, stored facts and JSON format many).
    pub fn text(&self) -> MacText {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut b = [b':'; 17];
        for (i, o) in self.0.iter().enumerate() {
            b[i * 3] = HEX[usize::from(o >> 4)];
            b[i * 3 + 1] = HEX[usize::from(o & 0xf)];
        }
        MacText(b)
    }
}

/// A MAC address as text ([`MacAddr::text`]).
#[derive(Clone, Copy)]
pub struct MacText([u8; 17]);

impl std::ops::Deref for MacText {
    type Target = str;
    fn deref(&self) -> &str {
        // Only ASCII hex digits and colons are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Display for MacAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Like the former `write!` of six `{:02x}`: width and fill flags are not applied.
        f.write_str(&self.text())
    }
}

impl std::fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MacAddr::parse(&s).ok_or_else(|| serde::de::Error::custom("bad MAC address"))
    }
}

/// Transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP: a byte stream, reassembled before analyzers see it.
    Tcp,
    /// UDP: analyzers see one datagram at a time.
    Udp,
}

impl Transport {
    /// Lowercase name (`tcp`, `udp`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// One side of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// Network address.
    pub ip: IpAddr,
    /// Transport port.
    pub port: u16,
    /// Link-layer address seen in frames sent by this side, when the link has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
}

/// Appends `ip` as text to `out` (IPv4 without the formatting machinery, which
/// matters on the per-flow path; IPv6 in its canonical `Display` form).
pub fn push_ip(out: &mut String, ip: &IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, o) in v4.octets().iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                if *o >= 100 {
                    out.push((b'0' + o / 100) as char);
                }
                if *o >= 10 {
                    out.push((b'0' + (o / 10) % 10) as char);
                }
                out.push((b'0' + o % 10) as char);
            }
        }
        IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod push_ip_tests {
    use super::*;

    #[test]
    fn mac_text_matches_hex_format() {
        for a in [[0u8; 6], [0xff; 6], [0x00, 0x09, 0xfb, 0x0a, 0xb0, 0x1c]] {
            let m = MacAddr(a);
            let want = format!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                a[0], a[1], a[2], a[3], a[4], a[5]
            );
            assert_eq!(&*m.text(), want);
            assert_eq!(m.to_string(), want);
            assert_eq!(
                format!("{m:<20}|"),
                format!("{want}|"),
                "no padding, as before"
            );
            assert_eq!(MacAddr::parse(&m.text()), Some(m));
        }
    }

    #[test]
    fn matches_display() {
        for s in [
            "0.0.0.0",
            "10.0.0.1",
            "192.168.100.255",
            "1.20.255.9",
            "::1",
            "2001:db8::8a2e:370:7334",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = s.parse().unwrap();
            let mut out = String::from("x");
            push_ip(&mut out, &ip);
            assert_eq!(out, format!("x{ip}"));
        }
    }
}

#[cfg(test)]
mod class_tests {
    use super::{is_host, is_local, is_public};
    use std::net::IpAddr;

    #[test]
    fn public_local_and_host_agree_on_each_class_of_address() {
        // (address, local, public, host)
        for (a, local, public, host) in [
            ("8.8.8.8", false, true, true),
            ("142.250.200.14", false, true, true),
            ("10.1.2.3", true, false, true),
            ("172.16.0.9", true, false, true),
            ("192.168.1.20", true, false, true),
            ("100.64.0.1", true, false, true),
            ("100.128.0.1", false, true, true),
            ("127.0.0.1", true, false, true),
            ("169.254.3.4", true, false, true),
            ("224.0.0.251", false, false, false),
            ("255.255.255.255", false, false, false),
            ("0.0.0.0", false, false, false),
            ("240.0.0.1", false, false, true),
            ("2001:4860:4860::8888", false, true, true),
            ("fd00::1", true, false, true),
            ("fe80::1", true, false, true),
            ("::1", true, false, true),
            ("ff02::fb", false, false, false),
            ("::", false, false, false),
        ] {
            let ip: IpAddr = a.parse().unwrap();
            assert_eq!(is_local(&ip), local, "is_local({a})");
            assert_eq!(is_public(&ip), public, "is_public({a})");
            assert_eq!(is_host(&ip), host, "is_host({a})");
        }
    }
}
