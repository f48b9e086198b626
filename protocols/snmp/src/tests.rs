//! Tests for the SNMP analyzer: hand-built v1/v2c/v3 messages with commented
//! BER, hostile lengths, and (when ../shared/testdata and tshark exist) the
//! Zeek SNMP traces.

use super::*;
use analyzer_api::testing;
use model::Record;

use Direction::{ToClient as S, ToServer as C};

/// Wraps `content` in a TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    match content.len() {
        n if n < 0x80 => v.push(n as u8),
        n if n < 0x100 => v.extend_from_slice(&[0x81, n as u8]),
        n => v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    v.extend_from_slice(content);
    v
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn int(v: u8) -> Vec<u8> {
    tlv(0x02, &[v])
}

fn varbind(oid: &[u8], value: Vec<u8>) -> Vec<u8> {
    seq(&[tlv(0x06, oid), value])
}

/// v1/v2c message: version, community, PDU(request-id 0x26, 0, 0, varbinds).
fn message(version: u8, community: &[u8], pdu_tag: u8, varbinds: &[Vec<u8>]) -> Vec<u8> {
    let pdu = tlv(
        pdu_tag,
        &[int(0x26), int(0), int(0), seq(varbinds)].concat(),
    );
    seq(&[int(version), tlv(0x04, community), pdu])
}

const NULL: [u8; 2] = [0x05, 0x00];

fn snmp_records(recs: &[Record]) -> Vec<SnmpRecord> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Snmp(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn weirds(recs: &[Record]) -> Vec<String> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Weird(w) => Some(w.name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn v1_get_and_response_with_system_group() {
    let get = message(
        0,
        b"public",
        0xa0,
        &[
            varbind(oids::SYS_DESCR, NULL.to_vec()),
            varbind(oids::SYS_OBJECT_ID, NULL.to_vec()),
            varbind(oids::SYS_NAME, NULL.to_vec()),
        ],
    );
    // sysObjectID = 1.3.6.1.4.1.2001.1.1 (2001 = 0x8f 0x51 in base 128)
    let resp = message(
        0,
        b"public",
        0xa2,
        &[
            varbind(oids::SYS_DESCR, tlv(0x04, b"Infusion Pump Gateway v2.1")),
            varbind(
                oids::SYS_OBJECT_ID,
                tlv(0x06, &[0x2b, 6, 1, 4, 1, 0x8f, 0x51, 1, 1]),
            ),
            varbind(oids::SYS_NAME, tlv(0x04, b"pump-gw-07")),
        ],
    );
    assert_eq!(Snmp.probe(C, &get, true), Probe::Match);
    assert_eq!(Snmp.probe(C, &get, false), Probe::Match);
    let recs = testing::run(&Snmp, Transport::Udp, 161, &[(C, &get), (S, &resp)]);
    assert_eq!(weirds(&recs), Vec::<String>::new());
    let r = snmp_records(&recs);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].version, "1");
    assert_eq!(r[0].community.as_deref(), Some("public"));
    assert_eq!(r[0].pdu, "get");
    assert_eq!(r[0].varbinds, 3);
    assert_eq!(r[0].sys_descr, None, "requests carry no values");
    assert_eq!(r[1].pdu, "response");
    assert_eq!(
        r[1].sys_descr.as_deref(),
        Some("Infusion Pump Gateway v2.1")
    );
    assert_eq!(r[1].sys_object_id.as_deref(), Some("1.3.6.1.4.1.2001.1.1"));
    assert_eq!(r[1].sys_name.as_deref(), Some("pump-gw-07"));
}

#[test]
fn v2c_pdu_types() {
    for (tag, name) in [
        (0xa1, "getnext"),
        (0xa3, "set"),
        (0xa5, "getbulk"),
        (0xa6, "inform"),
        (0xa7, "trapv2"),
        (0xa8, "report"),
    ] {
        let m = message(1, b"private", tag, &[varbind(&[0x2b, 6, 1], NULL.to_vec())]);
        let r = snmp_records(&testing::run(&Snmp, Transport::Udp, 161, &[(C, &m)]));
        assert_eq!(r[0].version, "2c");
        assert_eq!(r[0].community.as_deref(), Some("private"));
        assert_eq!(r[0].pdu, name);
    }
}

#[test]
fn v1_trap() {
    // Trap-PDU: enterprise, agent-addr (IpAddress), generic-trap, specific-trap, time-stamp, varbinds.
    let trap = tlv(
        0xa4,
        &[
            tlv(0x06, &[0x2b, 6, 1, 4, 1, 0x8f, 0x51]), // enterprise 1.3.6.1.4.1.2001
            tlv(0x40, &[10, 0, 0, 9]),                  // agent-addr
            int(6),                                     // generic-trap: enterpriseSpecific
            int(1),                                     // specific-trap
            tlv(0x43, &[0x01, 0x00]),                   // time-stamp (TimeTicks)
            seq(&[varbind(&[0x2b, 6, 1, 2, 1, 2, 1, 0], tlv(0x02, &[2]))]),
        ]
        .concat(),
    );
    let m = seq(&[int(0), tlv(0x04, b"public"), trap]);
    let r = snmp_records(&testing::run(&Snmp, Transport::Udp, 162, &[(C, &m)]));
    assert_eq!((r[0].pdu.as_str(), r[0].varbinds), ("trap", 1));
}

/// SNMPv3 message with USM user `user`, optionally encrypted.
fn v3(user: &[u8], encrypted: bool) -> Vec<u8> {
    let header = seq(&[
        tlv(0x02, &[0x20, 0x7b]),                    // msgID
        tlv(0x02, &[0x40, 0x00]),                    // msgMaxSize 16384
        tlv(0x04, &[if encrypted { 7 } else { 4 }]), // msgFlags: reportable (+auth+priv)
        int(3),                                      // msgSecurityModel: USM
    ]);
    let usm = seq(&[
        tlv(0x04, &[0x80, 0x00, 0x1f, 0x88, 0x80]), // msgAuthoritativeEngineID
        int(0x2a),                                  // msgAuthoritativeEngineBoots
        int(0x2a),                                  // msgAuthoritativeEngineTime
        tlv(0x04, user),                            // msgUserName
        tlv(0x04, &[0; 12]),                        // msgAuthenticationParameters
        tlv(0x04, &[]),                             // msgPrivacyParameters
    ]);
    let data = if encrypted {
        tlv(0x04, &[0x5a; 40]) // encryptedPDU
    } else {
        let pdu = tlv(
            0xa0,
            &[
                int(1),
                int(0),
                int(0),
                seq(&[varbind(oids::SYS_NAME, NULL.to_vec())]),
            ]
            .concat(),
        );
        seq(&[tlv(0x04, &[]), tlv(0x04, &[]), pdu]) // ScopedPDU
    };
    seq(&[int(3), header, tlv(0x04, &usm), data])
}

#[test]
fn v3_user_and_encrypted_pdu() {
    let plain = v3(b"username", false);
    let enc = v3(b"Admin001", true);
    assert_eq!(Snmp.probe(C, &plain, true), Probe::Match);
    let r = snmp_records(&testing::run(
        &Snmp,
        Transport::Udp,
        161,
        &[(C, &plain), (S, &enc)],
    ));
    assert_eq!(r[0].version, "3");
    assert_eq!(r[0].community, None);
    assert_eq!(r[0].v3_user.as_deref(), Some("username"));
    assert_eq!((r[0].pdu.as_str(), r[0].varbinds), ("get", 1));
    assert_eq!(r[1].v3_user.as_deref(), Some("Admin001"));
    assert_eq!(r[1].pdu, "encrypted");
}

#[test]
fn oid_subidentifier_too_long_is_weird() {
    let m = message(
        0,
        b"public",
        0xa0,
        &[varbind(
            &[
                0x2b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
            ],
            NULL.to_vec(),
        )],
    );
    let recs = testing::run(&Snmp, Transport::Udp, 161, &[(C, &m)]);
    assert_eq!(weirds(&recs), ["asn_oid_subidentifier_too_long"]);
    assert_eq!(snmp_records(&recs)[0].varbinds, 1);
}

#[test]
fn hostile_lengths_and_garbage() {
    let good = message(
        1,
        b"public",
        0xa0,
        &[varbind(oids::SYS_DESCR, NULL.to_vec())],
    );
    // Every truncation and every single-byte corruption: no panic.
    testing::never_panics(&Snmp, Transport::Udp, 161, &good);
    for i in 0..good.len() {
        for x in [0x00, 0x7f, 0x80, 0x84, 0xff] {
            let mut m = good.clone();
            m[i] = x;
            testing::run_forced(&Snmp, Transport::Udp, 161, &[(C, &m)]);
        }
    }
    // Length claiming 4 GiB.
    let huge = [0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00];
    assert_eq!(Snmp.probe(C, &huge, true), Probe::NoMatch);
    let recs = testing::run_forced(&Snmp, Transport::Udp, 161, &[(C, &huge)]);
    assert_eq!(weirds(&recs), ["snmp_malformed"]);
    // Not SNMP.
    assert_eq!(Snmp.probe(C, b"\x30\x03\x02\x01\x02", true), Probe::NoMatch);
    assert_eq!(
        Snmp.probe(C, b"GET / HTTP/1.0\r\n\r\n", true),
        Probe::NoMatch
    );
    assert_eq!(Snmp.probe(C, &good[..good.len() - 1], true), Probe::NoMatch);
    // Too many bad datagrams: give up.
    let junk: Vec<(Direction, &[u8])> = (0..20).map(|_| (C, &b"junk"[..])).collect();
    assert_eq!(
        weirds(&testing::run_forced(&Snmp, Transport::Udp, 161, &junk)).len(),
        MAX_BAD as usize
    );
}

/// Datagrams of every UDP stream of a pcap, via tshark; `None` if unavailable.
fn tshark_datagrams(path: &str) -> Option<Vec<(Direction, Vec<u8>)>> {
    if !std::path::Path::new(path).exists() {
        return None;
    }
    let text = testkit::tshark::run(&[
        "-r",
        path,
        "-T",
        "fields",
        "-e",
        "udp.dstport",
        "-e",
        "udp.payload",
    ])?;
    let mut v = Vec::new();
    for line in text.lines() {
        let mut f = line.split('\t');
        let port: u16 = f.next()?.parse().ok()?;
        let bytes = testkit::hex(f.next()?)?;
        v.push((if port == 161 || port == 162 { C } else { S }, bytes));
    }
    Some(v)
}

const TRACES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/zeek/Traces/snmp/"
);

fn trace(name: &str) -> Option<Vec<Record>> {
    let Some(d) = tshark_datagrams(&format!("{TRACES}{name}")) else {
        println!("skipping: ../shared/testdata not found");
        return None;
    };
    let mut recs = Vec::new();
    for (dir, bytes) in &d {
        recs.extend(testing::run_forced(
            &Snmp,
            Transport::Udp,
            161,
            &[(*dir, bytes.as_slice())],
        ));
    }
    Some(recs)
}

#[test]
fn zeek_traces() {
    // Zeek snmp.log v3: version 3, community (= USM user) "username".
    let Some(recs) = trace("snmpv3_get_next.pcap") else {
        return;
    };
    let r = snmp_records(&recs);
    assert!(r.iter().all(|r| r.version == "3"));
    assert!(r.iter().any(|r| r.v3_user.as_deref() == Some("username")));
    assert!(r.iter().any(|r| r.pdu == "report"));
    // snmp-crash-62790: encrypted v3 PDUs.
    let Some(recs) = trace("snmp-crash-62790.pcap") else {
        return;
    };
    let r = snmp_records(&recs);
    assert!(
        !r.is_empty()
            && r.iter()
                .all(|r| r.version == "3" && r.pdu == "encrypted" && r.community.is_none())
    );
    // v1: response carries sysObjectID 1.3.6.1.4.1.2001.1.1.1.297.93.1.27.2.2.1 (Zeek out1).
    let Some(recs) = trace("snmpv1_get.pcap") else {
        return;
    };
    let r = snmp_records(&recs);
    assert!(r
        .iter()
        .all(|r| r.version == "1" && r.community.as_deref() == Some("public")));
    assert!(r.iter().any(|r| r.sys_object_id.as_deref() == Some("1.3.6.1.4.1.2001.1.1.1.297.93.1.27.2.2.1")), "{r:?}");
    assert!(
        r.iter().any(|r| r.sys_name.as_deref() == Some("B6300")),
        "{r:?}"
    );
    // snmpwalk: sysDescr in a v2c response.
    let Some(recs) = trace("snmpwalk-short.pcap") else {
        return;
    };
    let r = snmp_records(&recs);
    assert!(
        r.iter().any(|r| r.version == "2c"
            && r.sys_descr
                .as_deref()
                .is_some_and(|d| d.starts_with("Linux ubuntu"))),
        "{r:?}"
    );
    // Zeek weird.log: asn_oid_subidentifier_too_long.
    let Some(recs) = trace("snmp-oid-subidentifier-too-long.pcap") else {
        return;
    };
    assert!(weirds(&recs).contains(&"asn_oid_subidentifier_too_long".to_string()));
    // Every trace: no panic, every datagram decodes.
    for e in std::fs::read_dir(TRACES).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(recs) = trace(&name) {
            let w = weirds(&recs);
            assert!(w.iter().all(|w| w.starts_with("asn_")), "{name}: {w:?}");
        }
    }
}
