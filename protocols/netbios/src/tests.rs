//! Unit tests: name decoding, a host announcement built field by field,
//! the probe, truncations and garbage.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::Record;

const C: Direction = Direction::ToServer;

fn encode(name: &str, suffix: u8) -> Vec<u8> {
    let mut raw = [b' '; 16];
    raw[..name.len()].copy_from_slice(name.as_bytes());
    raw[15] = suffix;
    let mut v = vec![0x20];
    for b in raw {
        v.push(b'A' + (b >> 4));
        v.push(b'A' + (b & 15));
    }
    v.push(0);
    v
}

/// A broadcast datagram carrying a browser frame in a mailslot transaction.
fn datagram(src: &str, dst: &str, dst_suffix: u8, frame: &[u8]) -> Vec<u8> {
    let slot = b"\\MAILSLOT\\BROWSE\0";
    let mut smb = b"\xffSMB\x25".to_vec();
    smb.resize(32, 0);
    let words = 17u8;
    let data_offset = 32 + 1 + 2 * words as usize + 2 + slot.len();
    smb.push(words);
    let mut w = [0u16; 17];
    w[1] = frame.len() as u16;
    w[11] = frame.len() as u16;
    w[12] = data_offset as u16;
    w[13] = 3;
    w[14] = 1;
    for x in w {
        smb.extend_from_slice(&x.to_le_bytes());
    }
    smb.extend_from_slice(&((slot.len() + frame.len()) as u16).to_le_bytes());
    smb.extend_from_slice(slot);
    smb.extend_from_slice(frame);
    let mut body = encode(src, 0x20);
    body.extend(encode(dst, dst_suffix));
    body.extend(smb);
    let mut d = vec![0x11, 0x02, 0x12, 0x34, 10, 0, 0, 5, 0, 138];
    d.extend_from_slice(&(body.len() as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend(body);
    d
}

fn host_announcement(comment: &[u8]) -> Vec<u8> {
    let mut f = vec![0x01, 3];
    f.extend_from_slice(&720_000u32.to_le_bytes());
    let mut name = [0u8; 16];
    name[..8].copy_from_slice(b"MODALITY");
    f.extend_from_slice(&name);
    f.extend_from_slice(&[6, 1]);
    f.extend_from_slice(&0x0000_9007u32.to_le_bytes());
    f.extend_from_slice(&[15, 1, 0x55, 0xaa]);
    f.extend_from_slice(comment);
    f.push(0);
    f
}

fn nb(records: &[Record]) -> Vec<&NetbiosRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Netbios(n) => Some(n),
            _ => None,
        })
        .collect()
}

#[test]
fn host_announcement_fields() {
    let d = datagram(
        "MODALITY",
        "RADIOLOGY",
        0x1d,
        &host_announcement(b"CT scanner room 3"),
    );
    assert_eq!(Netbios.probe(C, &d, false), Probe::Match);
    let recs = run(&Netbios, Transport::Udp, 138, &[(C, &d)]);
    let n = nb(&recs)[0];
    assert_eq!(n.msg_type, 0x11);
    assert_eq!(n.source_name.as_deref(), Some("MODALITY"));
    assert_eq!(n.source_suffix, Some(0x20));
    assert_eq!(n.destination_name.as_deref(), Some("RADIOLOGY"));
    assert_eq!(n.destination_suffix, Some(0x1d));
    assert_eq!(n.mailslot.as_deref(), Some("\\MAILSLOT\\BROWSE"));
    assert_eq!(n.browser_command, Some(1));
    assert_eq!(n.server_name.as_deref(), Some("MODALITY"));
    assert_eq!((n.os_major, n.os_minor), (Some(6), Some(1)));
    assert_eq!(n.server_type, Some(0x9007));
    assert_eq!(
        n.server_roles,
        ["workstation", "server", "sql-server", "nt", "nt-server"]
    );
    assert_eq!(n.comment.as_deref(), Some("CT scanner room 3"));
}

#[test]
fn probe_and_bounds() {
    assert_eq!(Netbios.probe(C, b"", true), Probe::NeedMore);
    assert_eq!(Netbios.probe(C, b"\x11\x02\x00", true), Probe::NoMatch);
    // A DNS-looking datagram on 138 is not NetBIOS.
    assert_eq!(
        Netbios.probe(
            C,
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www",
            true
        ),
        Probe::NoMatch
    );
    let long = vec![b'x'; 500];
    let d = datagram("A", "B", 0x1e, &host_announcement(&long));
    let recs = run(&Netbios, Transport::Udp, 138, &[(C, &d)]);
    assert!(nb(&recs)[0].comment.as_ref().unwrap().len() <= MAX_COMMENT);
    assert!(never_panics(&Netbios, Transport::Udp, 138, &d) > 0);
    for cut in 0..d.len() {
        run_forced(&Netbios, Transport::Udp, 138, &[(C, &d[..cut])]);
    }
    let garbage: Vec<u8> = (0..=255u8).cycle().take(700).collect();
    run_forced(&Netbios, Transport::Udp, 138, &[(C, &garbage)]);
    let many: Vec<(Direction, &[u8])> = (0..MAX_MESSAGES + 3).map(|_| (C, &d[..])).collect();
    assert_eq!(
        nb(&run(&Netbios, Transport::Udp, 138, &many)).len(),
        MAX_MESSAGES as usize
    );
}
