//! Test support: TCP conversations out of a capture file.
//!
//! Reads a pcap/pcapng file with the `capture` crate, decodes Ethernet
//! (with 802.1Q tags), Linux cooked, loopback and raw-IP frames carrying IPv4
//! or IPv6 and TCP, and reassembles each connection into the ordered list of
//! `(direction, bytes)` chunks that `analyzer_api::testing::run` takes.
//! Reassembly is simple (retransmissions trimmed, out-of-order segments held
//! until the hole fills, no limits): good enough for the small Zeek test
//! traces, not for production. Shared by the http, tls and ssh test suites
//! (included with `#[path]`).

#![allow(dead_code)]

use capture::{LinkType, Source};
use model::Direction;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// One reassembled TCP connection.
#[derive(Debug, Default)]
pub struct Conn {
    /// Client (SYN sender, else first sender) address and port.
    pub client: Option<(IpAddr, u16)>,
    /// Server address and port.
    pub server: Option<(IpAddr, u16)>,
    /// In-order payload chunks in capture order.
    pub chunks: Vec<(Direction, Vec<u8>)>,
    next: [Option<u32>; 2],
    ooo: [BTreeMap<u32, Vec<u8>>; 2],
}

impl Conn {
    /// Chunks borrowed, for `analyzer_api::testing::run`.
    pub fn borrowed(&self) -> Vec<(Direction, &[u8])> {
        self.chunks
            .iter()
            .map(|(d, b)| (*d, b.as_slice()))
            .collect()
    }

    /// True if the client is `addr` and `port` (as Zeek's `id.orig_h`/`id.orig_p`).
    pub fn is_from(&self, addr: &str, port: u16) -> bool {
        self.client
            .is_some_and(|(a, p)| p == port && a.to_string() == addr)
    }

    /// Server port (0 if unknown).
    pub fn port(&self) -> u16 {
        self.server.map_or(0, |s| s.1)
    }

    fn push(&mut self, dir: Direction, seq: u32, syn: bool, payload: &[u8]) {
        let i = (dir == Direction::ToClient) as usize;
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        let next = *self.next[i].get_or_insert(seq);
        if payload.is_empty() {
            return;
        }
        let off = seq.wrapping_sub(next) as i32;
        if off > 0 {
            self.ooo[i].insert(seq, payload.to_vec());
            return;
        }
        let skip = (-off) as usize;
        if skip >= payload.len() {
            return;
        }
        self.deliver(i, dir, &payload[skip..]);
        // Drain held segments that now fit.
        while let Some(n) = self.next[i] {
            let Some((&s, _)) = self.ooo[i]
                .iter()
                .find(|(&s, _)| (s.wrapping_sub(n) as i32) <= 0)
            else {
                break;
            };
            let p = self.ooo[i].remove(&s).unwrap_or_default();
            let skip = n.wrapping_sub(s) as usize;
            if skip < p.len() {
                self.deliver(i, dir, &p[skip..]);
            }
        }
    }

    fn deliver(&mut self, i: usize, dir: Direction, data: &[u8]) {
        self.next[i] = self.next[i].map(|n| n.wrapping_add(data.len() as u32));
        // Keep packet boundaries: one chunk per segment.
        self.chunks.push((dir, data.to_vec()));
    }
}

/// Path of a file under `shared/testdata`, or `None` (after printing the
/// skip notice) when the test data is not there.
pub fn testdata(rel: &str, manifest_dir: &str) -> Option<PathBuf> {
    let p = Path::new(manifest_dir)
        .join("../../../shared/testdata")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        println!("skipping: ../shared/testdata not found");
        None
    }
}

/// Reads every TCP connection of a capture file, in order of first packet.
pub fn tcp_conns(path: &Path) -> Vec<Conn> {
    let mut reader = capture::FileReader::open(path).expect("open capture");
    let mut conns: Vec<Conn> = Vec::new();
    type Endpoint = (IpAddr, u16);
    let mut index: BTreeMap<(Endpoint, Endpoint), usize> = BTreeMap::new();
    while let Some(frame) = reader.next_frame().expect("read capture") {
        let Some(ip) = link_payload(frame.link, frame.data) else {
            continue;
        };
        let Some((src, dst, tcp)) = ip_tcp(ip) else {
            continue;
        };
        if tcp.len() < 20 {
            continue;
        }
        let sport = u16::from_be_bytes([tcp[0], tcp[1]]);
        let dport = u16::from_be_bytes([tcp[2], tcp[3]]);
        let seq = u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]);
        let hlen = ((tcp[12] >> 4) as usize) * 4;
        let flags = tcp[13];
        let (syn, ack) = (flags & 0x02 != 0, flags & 0x10 != 0);
        let payload = tcp.get(hlen..).unwrap_or_default();
        let a = (src, sport);
        let b = (dst, dport);
        let key = if a <= b { (a, b) } else { (b, a) };
        // A new SYN on a known, finished tuple starts a new connection.
        let ci = match index.get(&key) {
            Some(&ci)
                if !syn || ack || conns[ci].client != Some(a) || conns[ci].chunks.is_empty() =>
            {
                ci
            }
            _ => {
                let mut c = Conn::default();
                if syn && ack {
                    c.client = Some(b);
                    c.server = Some(a);
                } else {
                    c.client = Some(a);
                    c.server = Some(b);
                }
                conns.push(c);
                index.insert(key, conns.len() - 1);
                conns.len() - 1
            }
        };
        let c = &mut conns[ci];
        let dir = if c.client == Some(a) {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        c.push(dir, seq, syn, payload);
    }
    conns
}

fn link_payload(link: LinkType, d: &[u8]) -> Option<&[u8]> {
    match link {
        LinkType::Ethernet => {
            let mut et = u16::from_be_bytes([*d.get(12)?, *d.get(13)?]);
            let mut off = 14;
            while et == 0x8100 || et == 0x88a8 {
                et = u16::from_be_bytes([*d.get(off + 2)?, *d.get(off + 3)?]);
                off += 4;
            }
            matches!(et, 0x0800 | 0x86dd)
                .then(|| d.get(off..))
                .flatten()
        }
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => Some(d),
        LinkType::Null | LinkType::Loop => d.get(4..),
        LinkType::LinuxSll => d.get(16..),
        LinkType::LinuxSll2 => d.get(20..),
        // Bluetooth LE and unknown link types carry no IP packets.
        _ => None,
    }
}

fn ip_tcp(ip: &[u8]) -> Option<(IpAddr, IpAddr, &[u8])> {
    match ip.first()? >> 4 {
        4 => {
            let ihl = ((ip[0] & 15) as usize) * 4;
            let total = u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]) as usize;
            if *ip.get(9)? != 6 {
                return None;
            }
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            let end = total.min(ip.len());
            Some((IpAddr::from(src), IpAddr::from(dst), ip.get(ihl..end)?))
        }
        6 => {
            if *ip.get(6)? != 6 {
                return None;
            }
            let plen = u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]) as usize;
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let end = (40 + plen).min(ip.len());
            Some((IpAddr::from(src), IpAddr::from(dst), ip.get(40..end)?))
        }
        _ => None,
    }
}

/// Reads a Zeek TSV log: the `#fields` names (or a plain header line) and the data rows.
pub fn zeek_log(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).expect("read zeek log");
    let mut fields = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').map(str::to_string).collect();
        } else if !line.starts_with('#') && !line.is_empty() {
            if fields.is_empty() {
                // zeek-cut style: a plain header line instead of `#fields`.
                fields = line.split('\t').map(str::to_string).collect();
                continue;
            }
            rows.push(line.split('\t').map(str::to_string).collect());
        }
    }
    (fields, rows)
}

/// The value of column `name` in `row` (`None` for Zeek's `-` and unknown columns).
pub fn col<'a>(fields: &[String], row: &'a [String], name: &str) -> Option<&'a str> {
    let i = fields.iter().position(|f| f == name)?;
    row.get(i).map(String::as_str).filter(|v| *v != "-")
}
