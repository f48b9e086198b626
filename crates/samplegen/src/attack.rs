//! An attack on the [`hospital`](crate::hospital) scenario's network, for
//! the monitoring tests of a site sensor: an intruder that joins the
//! network, runs a TCP connect scan of the PACS (SYN to every port of a
//! list; RST from closed ports, SYN-ACK then ACK and RST from open ones,
//! like `nmap -sT`) and logs in by Telnet on the lab analyzer with a
//! cleartext user name and password. It starts shortly after the hospital
//! capture's traffic, within the same hour, so a baseline learnt from
//! `samples/hospital-room.pcap` covers its time of day.

use crate::conv::{Frame, TcpConversation};
use crate::hospital::{self, Device, LAB_ANALYZER, PACS, START_MICROS};
use crate::packet::{eth_ipv4_tcp, tcp_flags, TcpSegment};
use crate::pcap::{PcapWriter, LINKTYPE_ETHERNET};
use std::io::{self, Write};
use std::net::Ipv4Addr;

/// The intruder (locally administered MAC: a laptop nobody registered).
pub const INTRUDER: Device = Device {
    role: "intruder",
    vendor: "",
    mac: [0x02, 0x66, 0x66, 0x00, 0x00, 0x66],
    ip: Ipv4Addr::new(10, 20, 0, 66),
    ttl: 64,
};

/// Ports the scan probes (the first ones of nmap's top ports, and DICOM).
pub const SCAN_PORTS: &[u16] = &[
    21, 22, 23, 25, 53, 80, 104, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389,
    5900, 8080, 11112, 2575, 8443, 5432,
];

/// Ports of [`SCAN_PORTS`] open on the PACS in the scenario.
const OPEN: &[u16] = &[22, 104, 443];

/// Seconds after the hospital capture's start when the attack begins.
pub const START_SECS: u64 = 300;

fn seg(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8) -> TcpSegment<'static> {
    TcpSegment {
        sport,
        dport,
        seq,
        ack,
        flags,
        window: 64_240,
        options: &[],
        payload: &[],
    }
}

/// The attack's frames, in time order.
pub fn frames() -> Vec<Frame> {
    use tcp_flags::{ACK, RST, SYN};
    let mut out = Vec::new();
    let mut t = START_MICROS + START_SECS * 1_000_000;
    let mut ident = 0x4000u16;
    for (i, &port) in SCAN_PORTS.iter().enumerate() {
        let sport = 45_000 + i as u16;
        let (me, pacs) = (INTRUDER.at(sport), PACS.at(port));
        let isn = 0x1000_0000 + i as u32 * 7919;
        out.push(Frame {
            ts_micros: t,
            data: eth_ipv4_tcp(&me, &pacs, ident, &seg(sport, port, isn, 0, SYN)),
        });
        t += 300;
        if OPEN.contains(&port) {
            let sisn = 0x2000_0000 + i as u32 * 104_729;
            out.push(Frame {
                ts_micros: t,
                data: eth_ipv4_tcp(
                    &pacs,
                    &me,
                    ident,
                    &seg(port, sport, sisn, isn + 1, SYN | ACK),
                ),
            });
            t += 200;
            out.push(Frame {
                ts_micros: t,
                data: eth_ipv4_tcp(
                    &me,
                    &pacs,
                    ident + 1,
                    &seg(sport, port, isn + 1, sisn + 1, ACK),
                ),
            });
            t += 200;
            out.push(Frame {
                ts_micros: t,
                data: eth_ipv4_tcp(
                    &me,
                    &pacs,
                    ident + 2,
                    &seg(sport, port, isn + 1, sisn + 1, RST | ACK),
                ),
            });
        } else {
            out.push(Frame {
                ts_micros: t,
                data: eth_ipv4_tcp(&pacs, &me, ident, &seg(port, sport, 0, isn + 1, RST | ACK)),
            });
        }
        t += 2_000;
        ident = ident.wrapping_add(3);
    }
    // The Telnet login, a few seconds later.
    const IAC: u8 = 255;
    const DO: u8 = 253;
    const WONT: u8 = 252;
    let start = t + 5_000_000;
    let mut c = TcpConversation::new(INTRUDER.at(51_023), LAB_ANALYZER.at(23), start);
    c.handshake()
        .server_send(&[IAC, DO, 24, IAC, DO, 32])
        .client_send(&[IAC, WONT, 24, IAC, WONT, 32])
        .server_send(b"\r\nADVIA Centaur service port\r\n\r\nlogin: ")
        .client_send(b"root\r\n")
        .server_send(b"root\r\nPassword: ")
        .client_send(b"toor\r\n")
        .server_send(b"\r\nWelcome to the ADVIA service shell\r\n# ")
        .client_send(b"cat /etc/shadow\r\n")
        .server_send(b"cat: /etc/shadow: Permission denied\r\n# ")
        .client_send(b"exit\r\n")
        .close();
    out.extend(c.into_frames());
    out.sort_by_key(|f| f.ts_micros);
    out
}

/// Writes the attack as a pcap (Ethernet link type).
pub fn write<W: Write>(out: W) -> io::Result<W> {
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    w.write_frames(&frames())?;
    w.into_inner()
}

/// The hospital's normal traffic followed by the attack, as one pcap.
pub fn write_with_hospital<W: Write>(out: W) -> io::Result<W> {
    let mut all = hospital::frames(hospital::Variant::Normal);
    all.extend(frames());
    all.sort_by_key(|f| f.ts_micros);
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    w.write_frames(&all)?;
    w.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_after_the_hospital_traffic() {
        assert_eq!(write(Vec::new()).unwrap(), write(Vec::new()).unwrap());
        let last_normal = hospital::frames(hospital::Variant::Normal)
            .iter()
            .map(|f| f.ts_micros)
            .max()
            .unwrap();
        let f = frames();
        assert!(f[0].ts_micros > last_normal);
        // Every probe has an answer: SYN + RST, or SYN, SYN-ACK, ACK, RST.
        let probes = SCAN_PORTS.len() * 2 + OPEN.len() * 2;
        assert!(f.len() > probes, "{} frames", f.len());
    }
}
