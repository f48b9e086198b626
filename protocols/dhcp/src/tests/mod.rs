//! Tests for the DHCP analyzer: hand-built messages, malformed input, and the
//! real captures in ../shared/testdata (tcpdump's dhcp-mud case and Zeek's
//! dhcp traces), compared with their expected outputs.

use testkit::pcap;

use super::*;
use analyzer_api::testing;
use model::{MacAddr, Record};
use std::net::Ipv4Addr;

/// Builds a BOOTP header (fields commented) followed by the cookie and `options`.
fn message(op: u8, xid: u32, ciaddr: [u8; 4], yiaddr: [u8; 4], options: &[u8]) -> Vec<u8> {
    let mut m = vec![op]; // op: 1 BOOTREQUEST, 2 BOOTREPLY
    m.push(1); // htype: Ethernet
    m.push(6); // hlen
    m.push(0); // hops
    m.extend_from_slice(&xid.to_be_bytes()); // xid
    m.extend_from_slice(&[0, 0]); // secs
    m.extend_from_slice(&[0x80, 0]); // flags: broadcast
    m.extend_from_slice(&ciaddr); // ciaddr
    m.extend_from_slice(&yiaddr); // yiaddr
    m.extend_from_slice(&[0; 4]); // siaddr
    m.extend_from_slice(&[0; 4]); // giaddr
    m.extend_from_slice(&[0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]); // chaddr (6 of 16 bytes)
    m.extend_from_slice(&[0; 10]); // chaddr padding
    m.extend_from_slice(&[0; 64]); // sname
    m.extend_from_slice(&[0; 128]); // file
    m.extend_from_slice(&[99, 130, 83, 99]); // magic cookie
    m.extend_from_slice(options);
    m
}

fn dhcp_records(recs: Vec<Record>) -> (Vec<DhcpRecord>, Vec<String>) {
    let mut d = Vec::new();
    let mut w = Vec::new();
    for r in recs {
        match r {
            Record::Dhcp(x) => d.push(x),
            Record::Weird(x) => w.push(x.name),
            other => panic!("unexpected record {other:?}"),
        }
    }
    (d, w)
}

fn run_one(msg: &[u8]) -> (Vec<DhcpRecord>, Vec<String>) {
    dhcp_records(testing::run(
        &Dhcp,
        Transport::Udp,
        67,
        &[(Direction::ToServer, msg)],
    ))
}

#[test]
fn discover_with_fingerprint_options() {
    let opts = [
        53, 1, 1, // DHCP message type: DISCOVER
        0, 0, // two pad bytes
        61, 7, 1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42, // client id: htype 1 + MAC
        50, 4, 208, 67, 222, 222, // requested address
        12, 8, b't', b'e', b's', b't', b'0', b'0', b'0', b'0', // host name "test0000"
        55, 4, 1, 3, 6, 15, // parameter request list
        60, 4, b'M', b'S', b'F', b'T', // vendor class
        81, 7, 0x05, 0, 0, 1, b'a', 1,
        b'b', // client FQDN, E flag: wire labels "a","b" (truncated: no root)
        161, 4, b'h', b't', b't', b'p', // MUD URL
        255,  // end
    ];
    let msg = message(1, 0x1234_5678, [0; 4], [0; 4], &opts);
    assert_eq!(Dhcp.probe(Direction::ToServer, &msg, true), Probe::Match);
    let (d, w) = run_one(&msg);
    assert!(w.is_empty(), "{w:?}");
    let r = &d[0];
    assert_eq!(r.msg_type, "DISCOVER");
    assert_eq!(r.xid, 0x1234_5678);
    assert_eq!(r.client_mac, MacAddr::parse("00:0b:82:01:fc:42"));
    assert_eq!(r.client_addr, None);
    assert_eq!(r.requested_addr, Some(Ipv4Addr::new(208, 67, 222, 222)));
    assert_eq!(r.hostname.as_deref(), Some("test0000"));
    assert_eq!(r.client_id.as_deref(), Some("01000b8201fc42"));
    assert_eq!(r.param_request_list.as_deref(), Some("1,3,6,15"));
    assert_eq!(r.vendor_class.as_deref(), Some("MSFT"));
    assert_eq!(r.client_fqdn.as_deref(), Some("a.b"));
    assert_eq!(r.mud_url.as_deref(), Some("http"));
}

#[test]
fn ascii_fqdn_and_overload() {
    // Option 52 = 1: the `file` field carries more options.
    let mut msg = message(
        2,
        7,
        [0; 4],
        [10, 0, 0, 9],
        &[53, 1, 5, 52, 1, 1, 81, 6, 0, 0, 0, b'h', b'.', b'x', 255],
    );
    let file = 108;
    msg[file..file + 7].copy_from_slice(&[51, 4, 0, 0, 0x0e, 0x10, 255]); // lease 3600 then end
    let (d, w) = run_one(&msg);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(d[0].msg_type, "ACK");
    assert_eq!(d[0].assigned_addr, Some(Ipv4Addr::new(10, 0, 0, 9)));
    assert_eq!(d[0].lease_time, Some(3600));
    assert_eq!(d[0].client_fqdn.as_deref(), Some("h.x"));
}

#[test]
fn malformed_options_are_weird_not_fatal() {
    let (d, w) = run_one(&message(1, 1, [0; 4], [0; 4], &[53, 1, 3, 12, 200, b'x']));
    assert_eq!(d[0].msg_type, "REQUEST");
    assert_eq!(w, ["dhcp_option_truncated"]);
    let (d, w) = run_one(&message(1, 1, [0; 4], [0; 4], &[53, 1, 8]));
    assert_eq!(d[0].msg_type, "INFORM");
    assert_eq!(w, ["dhcp_option_no_end"]);
    let (d, _) = run_one(&message(1, 1, [0; 4], [0; 4], &[255]));
    assert_eq!(d[0].msg_type, "BOOTREQUEST");
    let (d, _) = run_one(&message(2, 1, [0; 4], [0; 4], &[53, 1, 99, 255]));
    assert_eq!(d[0].msg_type, "unknown-message-type-99");
}

#[test]
fn bad_cookie_ignores_options() {
    let mut msg = message(1, 1, [0; 4], [0; 4], &[53, 1, 1, 12, 1, b'x', 255]);
    assert_eq!(Dhcp.probe(Direction::ToServer, &msg, true), Probe::Match);
    msg[239] = 0;
    assert_eq!(Dhcp.probe(Direction::ToServer, &msg, true), Probe::NoMatch);
    let (d, w) = dhcp_records(testing::run_forced(
        &Dhcp,
        Transport::Udp,
        67,
        &[(Direction::ToServer, &msg)],
    ));
    assert_eq!(d[0].hostname, None);
    assert_eq!(w, ["dhcp_bad_magic_cookie"]);
}

#[test]
fn probe_rejects_non_dhcp() {
    assert_eq!(Dhcp.probe(Direction::ToServer, &[], true), Probe::NeedMore);
    assert_eq!(
        Dhcp.probe(Direction::ToServer, &[1; 100], true),
        Probe::NoMatch
    );
    let mut m = message(3, 1, [0; 4], [0; 4], &[255]);
    assert_eq!(Dhcp.probe(Direction::ToServer, &m, true), Probe::NoMatch);
    m[0] = 1;
    m[2] = 17; // hlen too large
    assert_eq!(Dhcp.probe(Direction::ToServer, &m, true), Probe::NoMatch);
}

#[test]
fn truncations_never_panic() {
    let msg = message(
        1,
        9,
        [1, 2, 3, 4],
        [0; 4],
        &[53, 1, 1, 55, 3, 1, 2, 3, 81, 5, 4, 0, 0, 63, b'a', 255],
    );
    assert!(testing::never_panics(&Dhcp, Transport::Udp, 67, &msg) > 0);
    for cut in 0..msg.len() {
        testing::run_forced(
            &Dhcp,
            Transport::Udp,
            67,
            &[(Direction::ToServer, &msg[..cut])],
        );
    }
}

/// All DHCP payloads of a capture, in order.
fn payloads(path: &std::path::Path) -> Vec<Vec<u8>> {
    pcap::frames(path)
        .iter()
        .filter_map(|f| {
            pcap::decode(f)
                .filter(|p| {
                    p.proto == 17 && (matches!(p.sport, 67 | 68) || matches!(p.dport, 67 | 68))
                })
                .map(|p| p.payload.to_vec())
        })
        .collect()
}

fn analyze(path: &std::path::Path) -> Vec<DhcpRecord> {
    let mut out = Vec::new();
    for p in payloads(path) {
        assert_eq!(Dhcp.probe(Direction::ToServer, &p, true), Probe::Match);
        let (d, w) = run_one(&p);
        assert!(w.is_empty(), "{w:?}");
        out.extend(d);
    }
    out
}

/// tcpdump's dhcp-mud test: a REQUEST carrying the MUD URL option and its ACK.
#[test]
fn tcpdump_dhcp_mud() {
    let Some(path) = testkit::testdata("lldp_dhcp/dhcp-mud.pcap") else {
        return;
    };
    let d = analyze(&path);
    assert_eq!(d.len(), 2);
    let (req, ack) = (&d[0], &d[1]);
    // dhcp-mud.out, packet 1.
    assert_eq!(req.msg_type, "REQUEST");
    assert_eq!(req.xid, 0x068c_4847);
    assert_eq!(req.client_addr, Some(Ipv4Addr::new(62, 12, 173, 123)));
    assert_eq!(req.client_mac, MacAddr::parse("b8:27:eb:b8:53:c8"));
    assert_eq!(req.client_id.as_deref(), Some("01b827ebb853c8"));
    assert_eq!(
        req.mud_url.as_deref(),
        Some("https://mudctl.example.com/.well-known/mud/v1/rasbp101")
    );
    assert_eq!(
        req.vendor_class.as_deref(),
        Some("dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709")
    );
    assert_eq!(req.hostname.as_deref(), Some("raspberrypi"));
    assert_eq!(
        req.param_request_list.as_deref(),
        Some("1,121,33,3,6,12,15,28,42,51,54,58,59,100,101,119")
    );
    // Packet 2.
    assert_eq!(ack.msg_type, "ACK");
    assert_eq!(ack.assigned_addr, Some(Ipv4Addr::new(62, 12, 173, 123)));
    assert_eq!(ack.server_id, Some(Ipv4Addr::new(62, 12, 173, 114)));
    assert_eq!(ack.lease_time, Some(600));
    assert_eq!(ack.domain.as_deref(), Some("ofcourseimright.com"));
}

/// Zeek's dhcp-all-msg-types baseline (dhcp.log): the same values, spread over
/// per-message records.
#[test]
fn zeek_dhcp_all_msg_types() {
    let Some(path) = testkit::testdata("zeek/Traces/dhcp/dhcp.pcap") else {
        return;
    };
    let d = analyze(&path);
    let types: Vec<&str> = d.iter().map(|r| r.msg_type.as_str()).collect();
    assert_eq!(
        types,
        ["DISCOVER", "OFFER", "REQUEST", "NAK", "REQUEST", "ACK", "DECLINE", "RELEASE", "INFORM"]
    );
    let mac = MacAddr::parse("90:b1:1c:99:49:29");
    assert!(d.iter().all(|r| r.client_mac == mac));
    assert!(d
        .iter()
        .any(|r| r.hostname.as_deref() == Some("btest.is.cool")));
    assert!(d.iter().any(|r| r.domain.as_deref() == Some("cmu.edu")));
    assert!(d
        .iter()
        .any(|r| r.requested_addr == Some(Ipv4Addr::new(128, 2, 6, 189))));
    assert!(d
        .iter()
        .any(|r| r.assigned_addr == Some(Ipv4Addr::new(128, 2, 6, 189))));
    assert!(d.iter().any(|r| r.lease_time == Some(900)));
    let nak = &d[3];
    assert_eq!(
        nak.message.as_deref(),
        Some("requested address not available")
    );
}

/// Zeek's dhcp-discover-msg-types baseline: host name and requested address.
#[test]
fn zeek_dhcp_discover() {
    let Some(path) =
        testkit::testdata("zeek/Traces/dhcp/dhcp_discover_param_req_and_client_id.pcap")
    else {
        return;
    };
    let d = analyze(&path);
    assert_eq!(d[0].msg_type, "DISCOVER");
    assert_eq!(d[0].hostname.as_deref(), Some("test0000"));
    assert_eq!(d[0].requested_addr, Some(Ipv4Addr::new(208, 67, 222, 222)));
    assert_eq!(d[0].client_mac, MacAddr::parse("00:0b:82:01:fc:42"));
}

/// Every DHCP trace in the shared data parses without panicking.
#[test]
fn all_traces_never_panic() {
    let Some(dir) = testkit::testdata("zeek/Traces/dhcp") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    if let Some(p) = testkit::testdata("lldp_dhcp") {
        files.extend(std::fs::read_dir(p).unwrap().map(|e| e.unwrap().path()));
    }
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "pcap"))
    {
        for p in payloads(f) {
            let recs = testing::run(&Dhcp, Transport::Udp, 67, &[(Direction::ToServer, &p)]);
            let _ = recs;
        }
    }
}
