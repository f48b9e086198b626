//! The `fleet` scenario: N distinct DHCP clients (a large hospital's device
//! fleet) streamed straight to a pcap, for dashboard load tests. Client `i`
//! has its own MAC (real vendor OUIs, in turn), host name (`PUMP-000042`,
//! `MON-000043`...) and DHCP vendor class, sends a DHCP REQUEST for its
//! address in 10.64.0.0/10 (250 hosts per /24), and then one UDP datagram to
//! one of a few servers (DNS, HL7 engine, PACS, syslog), so the inventory
//! also has peers. Nothing is held in memory beyond the current frame.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::hospital::START_MICROS;
use crate::packet::{eth_ipv4_udp, Endpoint, BROADCAST_MAC};
use crate::payload::dhcp;
use crate::pcap::{PcapWriter, LINKTYPE_ETHERNET};

/// Vendor OUI, host name prefix and DHCP vendor class of each kind of client.
const KINDS: [([u8; 3], &str, &str); 5] = [
    ([0x00, 0x09, 0xfb], "MON", "Philips IntelliVue MX450"), // Philips Medizin Systeme
    ([0x00, 0x40, 0x17], "PUMP", "BD Alaris PC 8015"), // Silex Technology (pump radio modules)
    ([0x00, 0x1b, 0x24], "WS", "MSFT 5.0"),            // Quanta Computer
    ([0x00, 0x60, 0x35], "LAB", "Sysmex XN-1000"),     // Dallas Semiconductor
    ([0x00, 0x80, 0x77], "PRN", "Brother HL-L5100DN"), // Brother Industries
];

/// Servers the clients send one datagram to: (address, port, MAC).
const SERVERS: [(Ipv4Addr, u16, [u8; 6]); 4] = [
    (
        Ipv4Addr::new(10, 20, 0, 1),
        53,
        [0x00, 0x01, 0x42, 0x3a, 0x10, 0x01],
    ),
    (
        Ipv4Addr::new(10, 20, 0, 40),
        2575,
        [0x00, 0x50, 0x56, 0x9a, 0x00, 0x40],
    ),
    (
        Ipv4Addr::new(10, 20, 0, 41),
        104,
        [0x00, 0x50, 0x56, 0x9a, 0x00, 0x41],
    ),
    (
        Ipv4Addr::new(10, 20, 0, 42),
        514,
        [0x00, 0x50, 0x56, 0x9a, 0x00, 0x42],
    ),
];

/// Address of client `i`: 250 hosts per /24 in 10.64.0.0/10.
pub fn client_ip(i: u32) -> Ipv4Addr {
    let subnet = i / 250;
    Ipv4Addr::new(
        10,
        64 + (subnet / 256) as u8,
        (subnet % 256) as u8,
        (i % 250) as u8 + 1,
    )
}

/// MAC of client `i` (vendor OUI of its kind; unique for i < 2^24).
pub fn client_mac(i: u32) -> [u8; 6] {
    let (oui, _, _) = KINDS[i as usize % KINDS.len()];
    let b = i.to_be_bytes();
    [oui[0], oui[1], oui[2], b[1], b[2], b[3]]
}

/// Host name of client `i`.
pub fn hostname(i: u32) -> String {
    format!("{}-{i:06}", KINDS[i as usize % KINDS.len()].1)
}

/// Writes `n` DHCP clients (two frames each), 20 µs apart, and returns the writer.
pub fn write<W: Write>(out: W, n: u32) -> io::Result<W> {
    write_range(out, 0..n)
}

/// Writes clients `range` (so a large fleet can be split into several
/// captures: one analysis run keeps at most `identify`'s endpoint limit).
pub fn write_range<W: Write>(out: W, range: std::ops::Range<u32>) -> io::Result<W> {
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    let params = [1u8, 3, 6, 15, 28, 42];
    for i in range {
        let ts = START_MICROS + u64::from(i) * 20;
        let (_, _, vendor_class) = KINDS[i as usize % KINDS.len()];
        let mac = client_mac(i);
        let ip = client_ip(i);
        let name = hostname(i);
        let mut client_id = vec![1u8];
        client_id.extend_from_slice(&mac);
        let requested = ip.octets();
        let request = dhcp::Dhcp {
            op: dhcp::BOOTREQUEST,
            xid: i.wrapping_mul(2_654_435_761),
            secs: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: mac,
            options: vec![
                (53, &[dhcp::msg::REQUEST]),
                (61, &client_id),
                (50, &requested),
                (12, name.as_bytes()),
                (60, vendor_class.as_bytes()),
                (55, &params),
            ],
        }
        .encode();
        let from = Endpoint::new(mac, Ipv4Addr::UNSPECIFIED, 68);
        let to = Endpoint::new(BROADCAST_MAC, Ipv4Addr::BROADCAST, 67);
        w.write_frame(ts, &eth_ipv4_udp(&from, &to, i as u16, &request))?;
        let (sip, sport, smac) = SERVERS[(i as usize / KINDS.len()) % SERVERS.len()];
        let from = Endpoint::new(mac, ip, 40_000 + (i % 20_000) as u16);
        let to = Endpoint::new(smac, sip, sport);
        w.write_frame(
            ts + 10,
            &eth_ipv4_udp(
                &from,
                &to,
                (i as u16) ^ 0x5a5a,
                b"ward fleet sample datagram",
            ),
        )?;
    }
    w.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_distinct() {
        let mut macs = std::collections::HashSet::new();
        let mut ips = std::collections::HashSet::new();
        for i in 0..100_000 {
            assert!(macs.insert(client_mac(i)));
            assert!(ips.insert(client_ip(i)));
            let last = client_ip(i).octets()[3];
            assert!((1..=250).contains(&last));
        }
        assert_eq!(hostname(1), "PUMP-000001");
        // Ranges split a fleet: the halves hold the whole.
        let whole = write(Vec::new(), 4).unwrap();
        let (a, b) = (
            write_range(Vec::new(), 0..2).unwrap(),
            write_range(Vec::new(), 2..4).unwrap(),
        );
        assert_eq!(whole.len(), a.len() + b.len() - 24);
        assert_eq!(&whole[24..a.len()], &a[24..]);
    }

    #[test]
    fn two_frames_per_client() {
        let out = write(Vec::new(), 3).unwrap();
        // Walk the pcap records: a DHCP frame (at least 14+20+8+300 bytes)
        // then a datagram frame (14+20+8+26) per client.
        let mut at = 24;
        let mut lens = Vec::new();
        while at < out.len() {
            let len = u32::from_le_bytes(out[at + 8..at + 12].try_into().unwrap()) as usize;
            lens.push(len);
            at += 16 + len;
        }
        assert_eq!(at, out.len());
        assert_eq!(lens.len(), 6);
        for pair in lens.chunks(2) {
            assert!(pair[0] >= 342, "{lens:?}");
            assert_eq!(pair[1], 68);
        }
    }
}
