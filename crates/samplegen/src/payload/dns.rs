//! DNS messages (RFC 1035 section 4) and the record types DNS-SD/mDNS uses
//! (RFC 6762, RFC 6763). Names are written uncompressed.

use std::net::Ipv4Addr;

/// Record type A.
pub const A: u16 = 1;
/// Record type PTR.
pub const PTR: u16 = 12;
/// Record type TXT.
pub const TXT: u16 = 16;
/// Record type SRV.
pub const SRV: u16 = 33;
/// Class IN.
pub const IN: u16 = 1;
/// mDNS cache-flush bit OR-ed into the class of unique records.
pub const CACHE_FLUSH: u16 = 0x8000;

/// Appends `name` as a sequence of labels and the root label.
pub fn push_name(out: &mut Vec<u8>, name: &str) {
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        out.push(u8::try_from(label.len()).expect("DNS label longer than 63 bytes"));
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// One resource record.
#[derive(Debug, Clone)]
pub struct Rr {
    /// Owner name.
    pub name: String,
    /// Record type.
    pub rtype: u16,
    /// Class (possibly with the mDNS cache-flush bit).
    pub class: u16,
    /// Time to live in seconds.
    pub ttl: u32,
    /// Encoded RDATA.
    pub rdata: Vec<u8>,
}

impl Rr {
    /// An A record.
    pub fn a(name: &str, class: u16, ttl: u32, addr: Ipv4Addr) -> Self {
        Self {
            name: name.into(),
            rtype: A,
            class,
            ttl,
            rdata: addr.octets().to_vec(),
        }
    }

    /// A PTR record.
    pub fn ptr(name: &str, class: u16, ttl: u32, target: &str) -> Self {
        let mut rdata = Vec::new();
        push_name(&mut rdata, target);
        Self {
            name: name.into(),
            rtype: PTR,
            class,
            ttl,
            rdata,
        }
    }

    /// A TXT record from its strings.
    pub fn txt(name: &str, class: u16, ttl: u32, strings: &[&str]) -> Self {
        let mut rdata = Vec::new();
        for s in strings {
            rdata.push(u8::try_from(s.len()).expect("TXT string longer than 255 bytes"));
            rdata.extend_from_slice(s.as_bytes());
        }
        Self {
            name: name.into(),
            rtype: TXT,
            class,
            ttl,
            rdata,
        }
    }

    /// An SRV record.
    pub fn srv(name: &str, class: u16, ttl: u32, port: u16, target: &str) -> Self {
        let mut rdata = vec![0, 0, 0, 0]; // priority, weight
        rdata.extend_from_slice(&port.to_be_bytes());
        push_name(&mut rdata, target);
        Self {
            name: name.into(),
            rtype: SRV,
            class,
            ttl,
            rdata,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        push_name(out, &self.name);
        out.extend_from_slice(&self.rtype.to_be_bytes());
        out.extend_from_slice(&self.class.to_be_bytes());
        out.extend_from_slice(&self.ttl.to_be_bytes());
        out.extend_from_slice(&(self.rdata.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.rdata);
    }
}

/// A DNS message with the given header flags, questions `(name, type)` (class
/// IN), answers and additional records.
pub fn message(
    id: u16,
    flags: u16,
    questions: &[(&str, u16)],
    answers: &[Rr],
    additionals: &[Rr],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(512);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&(questions.len() as u16).to_be_bytes());
    m.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    m.extend_from_slice(&0u16.to_be_bytes());
    m.extend_from_slice(&(additionals.len() as u16).to_be_bytes());
    for (name, qtype) in questions {
        push_name(&mut m, name);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&IN.to_be_bytes());
    }
    for rr in answers.iter().chain(additionals) {
        rr.encode(&mut m);
    }
    m
}

/// Standard query flags: RD.
pub const FLAGS_QUERY: u16 = 0x0100;
/// Standard response flags: QR, RD, RA, rcode 0.
pub const FLAGS_RESPONSE: u16 = 0x8180;
/// Response flags with rcode 3 (NXDOMAIN).
pub const FLAGS_NXDOMAIN: u16 = 0x8183;
/// mDNS response flags: QR, AA.
pub const FLAGS_MDNS_RESPONSE: u16 = 0x8400;
