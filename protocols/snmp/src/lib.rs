//! SNMP analyzer (v1, v2c, v3 over UDP 161/162).
//!
//! Specs: RFC 1157 (v1 message and Trap-PDU), RFC 3416 (v2 PDUs), RFC 3412
//! §6 (v3 message), RFC 3414 §2.4 (USM security parameters). Decoding uses
//! the small zero-copy BER reader in [`ber`]. One [`SnmpRecord`] is emitted
//! per datagram: version, community (v1/v2c), USM user name (v3), PDU type,
//! varbind count and, for responses, sysDescr.0 / sysObjectID.0 / sysName.0.
//! Encrypted v3 PDUs are reported with PDU type `encrypted`.

pub mod ber;

use analyzer_api::{Analyzer, ByteSet, Out, Probe, Progress, Protocol};
use model::records::SnmpRecord;
use model::{Direction, Transport};

/// The SNMP protocol (`snmp`, UDP 161 and 162).
pub struct Snmp;

/// Universal tags used by SNMP.
mod tag {
    pub const INTEGER: u8 = 0x02;
    pub const OCTET_STRING: u8 = 0x04;
    pub const OID: u8 = 0x06;
    pub const SEQUENCE: u8 = 0x30;
}

/// Encoded names (OID contents) of the MIB-II system objects we keep.
mod oids {
    /// 1.3.6.1.2.1.1.1.0 sysDescr.0
    pub const SYS_DESCR: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 1, 0];
    /// 1.3.6.1.2.1.1.2.0 sysObjectID.0
    pub const SYS_OBJECT_ID: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 2, 0];
    /// 1.3.6.1.2.1.1.5.0 sysName.0
    pub const SYS_NAME: &[u8] = &[0x2b, 6, 1, 2, 1, 1, 5, 0];
}

/// Consecutive undecodable datagrams after which the analyzer gives up.
const MAX_BAD: u32 = 8;

impl Protocol for Snmp {
    fn name(&self) -> &'static str {
        "snmp"
    }

    fn transports(&self) -> &'static [Transport] {
        &[Transport::Udp]
    }

    fn ports(&self) -> &'static [u16] {
        &[161, 162]
    }

    fn probe(&self, _dir: Direction, data: &[u8], _port_hint: bool) -> Probe {
        if looks_like_snmp(data) {
            Probe::Match
        } else {
            Probe::NoMatch
        }
    }

    /// A BER SEQUENCE.
    fn first_bytes(&self) -> ByteSet {
        ByteSet::of(&[0x30])
    }

    fn start(&self) -> Box<dyn Analyzer> {
        Box::new(SnmpAnalyzer::default())
    }
}

/// A SEQUENCE spanning exactly the datagram, starting with INTEGER version
/// 0, 1 or 3, followed by an OCTET STRING community (v1/v2c) or a SEQUENCE
/// header (v3).
fn looks_like_snmp(data: &[u8]) -> bool {
    let Ok((tag::SEQUENCE, len, hl)) = ber::header(data) else {
        return false;
    };
    if hl.checked_add(len) != Some(data.len()) {
        return false;
    }
    let body = &data[hl..];
    let Ok((version, rest)) = ber::expect(body, tag::INTEGER) else {
        return false;
    };
    match version {
        [0] | [1] => matches!(ber::header(rest), Ok((tag::OCTET_STRING, _, _))),
        [3] => matches!(ber::header(rest), Ok((tag::SEQUENCE, _, _))),
        _ => false,
    }
}

/// A decoded SNMP message (borrowed from the datagram).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// msgVersion: 0 (v1), 1 (v2c), 3 (v3).
    pub version: i64,
    /// Community (v1/v2c).
    pub community: Option<&'a [u8]>,
    /// USM msgUserName (v3).
    pub user: Option<&'a [u8]>,
    /// The PDU, or `None` when encrypted (v3 privacy).
    pub pdu: Option<Pdu<'a>>,
}

/// A PDU: its context tag and the encoded VarBindList contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pdu<'a> {
    /// 0xa0..=0xa8.
    pub tag: u8,
    /// Contents of the VarBindList SEQUENCE.
    pub varbinds: &'a [u8],
}

/// PDU type name for a context tag.
pub fn pdu_name(tag: u8) -> Option<&'static str> {
    Some(match tag {
        0xa0 => "get",
        0xa1 => "getnext",
        0xa2 => "response",
        0xa3 => "set",
        0xa4 => "trap",
        0xa5 => "getbulk",
        0xa6 => "inform",
        0xa7 => "trapv2",
        0xa8 => "report",
        _ => return None,
    })
}

fn bad(_: ber::Error) -> &'static str {
    "snmp_malformed"
}

/// Parses one SNMP message. Errors are stable weird names.
pub fn parse(data: &[u8]) -> Result<Message<'_>, &'static str> {
    let (body, _) = ber::expect(data, tag::SEQUENCE).map_err(bad)?;
    let (version, rest) = ber::expect(body, tag::INTEGER).map_err(bad)?;
    let version = ber::integer(version).ok_or("snmp_malformed")?;
    match version {
        0 | 1 => {
            let (community, rest) = ber::expect(rest, tag::OCTET_STRING).map_err(bad)?;
            let pdu = parse_pdu(rest)?;
            Ok(Message {
                version,
                community: Some(community),
                user: None,
                pdu: Some(pdu),
            })
        }
        3 => parse_v3(rest),
        _ => Err("snmp_unknown_version"),
    }
}

fn parse_pdu(data: &[u8]) -> Result<Pdu<'_>, &'static str> {
    let (pdu, _) = ber::read(data).map_err(bad)?;
    pdu_name(pdu.tag).ok_or("snmp_unknown_pdu_type")?;
    let mut rest = pdu.value;
    if pdu.tag == 0xa4 {
        // Trap-PDU: enterprise OID, agent-addr, generic-trap, specific-trap, time-stamp.
        for _ in 0..5 {
            rest = ber::read(rest).map_err(bad)?.1;
        }
    } else {
        // request-id, error-status (non-repeaters), error-index (max-repetitions).
        for _ in 0..3 {
            rest = ber::expect(rest, tag::INTEGER).map_err(bad)?.1;
        }
    }
    let (varbinds, _) = ber::expect(rest, tag::SEQUENCE).map_err(bad)?;
    Ok(Pdu {
        tag: pdu.tag,
        varbinds,
    })
}

fn parse_v3(data: &[u8]) -> Result<Message<'_>, &'static str> {
    // HeaderData: msgID, msgMaxSize, msgFlags, msgSecurityModel.
    let (header, rest) = ber::expect(data, tag::SEQUENCE).map_err(bad)?;
    let h = ber::expect(header, tag::INTEGER).map_err(bad)?.1;
    let h = ber::expect(h, tag::INTEGER).map_err(bad)?.1;
    let (flags, h) = ber::expect(h, tag::OCTET_STRING).map_err(bad)?;
    let (model, _) = ber::expect(h, tag::INTEGER).map_err(bad)?;
    let (sec, rest) = ber::expect(rest, tag::OCTET_STRING).map_err(bad)?;
    let user = if ber::integer(model) == Some(3) {
        usm_user(sec)
    } else {
        None
    };
    let privacy = flags.first().is_some_and(|f| f & 0x02 != 0);
    let (data, _) = ber::read(rest).map_err(bad)?;
    let pdu = match data.tag {
        tag::OCTET_STRING => None,
        tag::SEQUENCE if !privacy => {
            // ScopedPDU: contextEngineID, contextName, PDU.
            let r = ber::expect(data.value, tag::OCTET_STRING).map_err(bad)?.1;
            let r = ber::expect(r, tag::OCTET_STRING).map_err(bad)?.1;
            Some(parse_pdu(r)?)
        }
        _ => return Err("snmp_malformed"),
    };
    Ok(Message {
        version: 3,
        community: None,
        user,
        pdu,
    })
}

/// msgUserName from UsmSecurityParameters (RFC 3414 §2.4).
fn usm_user(sec: &[u8]) -> Option<&[u8]> {
    let (usm, _) = ber::expect(sec, tag::SEQUENCE).ok()?;
    let r = ber::expect(usm, tag::OCTET_STRING).ok()?.1; // msgAuthoritativeEngineID
    let r = ber::expect(r, tag::INTEGER).ok()?.1; // msgAuthoritativeEngineBoots
    let r = ber::expect(r, tag::INTEGER).ok()?.1; // msgAuthoritativeEngineTime
    Some(ber::expect(r, tag::OCTET_STRING).ok()?.0) // msgUserName
}

/// One VarBind: encoded name and value TLV.
pub fn varbinds(list: &[u8]) -> impl Iterator<Item = Result<(&[u8], ber::Tlv<'_>), &'static str>> {
    let mut rest = list;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let item = (|| {
            let (vb, r) = ber::expect(rest, tag::SEQUENCE).map_err(bad)?;
            rest = r;
            let (name, v) = ber::expect(vb, tag::OID).map_err(bad)?;
            let (value, _) = ber::read(v).map_err(bad)?;
            Ok((name, value))
        })();
        if item.is_err() {
            rest = &[];
        }
        Some(item)
    })
}

/// Builds the record for one message, reporting problems to `out`.
fn record(msg: &Message<'_>, out: &mut Out<'_>) -> SnmpRecord {
    let mut rec = SnmpRecord {
        version: match msg.version {
            0 => "1",
            1 => "2c",
            _ => "3",
        }
        .to_string(),
        community: msg.community.map(model::text::field),
        v3_user: msg.user.and_then(model::text::non_empty),
        ..SnmpRecord::default()
    };
    let Some(pdu) = msg.pdu else {
        rec.pdu = "encrypted".to_string();
        return rec;
    };
    rec.pdu = pdu_name(pdu.tag).unwrap_or("unknown").to_string();
    for vb in varbinds(pdu.varbinds) {
        let (name, value) = match vb {
            Ok(v) => v,
            Err(w) => {
                out.weird(w);
                break;
            }
        };
        rec.varbinds = rec.varbinds.saturating_add(1);
        if let Err(w) = ber::check_oid(name) {
            out.weird(w);
        }
        if pdu.tag != 0xa2 {
            continue;
        }
        match (name, value.tag) {
            (oids::SYS_DESCR, tag::OCTET_STRING) => {
                rec.sys_descr = model::text::non_empty(value.value)
            }
            (oids::SYS_NAME, tag::OCTET_STRING) => {
                rec.sys_name = model::text::non_empty(value.value)
            }
            (oids::SYS_OBJECT_ID, tag::OID) => match ber::oid(value.value) {
                Some(o) => rec.sys_object_id = Some(o),
                None => out.weird("snmp_bad_sys_object_id"),
            },
            _ => {}
        }
    }
    rec
}

/// Per-flow SNMP state: only a count of consecutive bad datagrams.
#[derive(Default)]
pub struct SnmpAnalyzer {
    bad: u32,
}

impl Analyzer for SnmpAnalyzer {
    fn feed(&mut self, _dir: Direction, data: &[u8], out: &mut Out<'_>) -> Progress {
        match parse(data) {
            Ok(msg) => {
                self.bad = 0;
                let rec = record(&msg, out);
                out.emit(rec);
            }
            Err(w) => {
                out.weird(w);
                self.bad += 1;
                if self.bad >= MAX_BAD {
                    return Progress::Done;
                }
            }
        }
        Progress::Consumed(data.len())
    }
}

#[cfg(test)]
mod tests;
