//! Unit tests for the SSH analyzer: synthetic handshakes built here, and the
//! Zeek SSH traces compared with Zeek's ssh.log baselines when
//! `../shared/testdata` is present.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::Record;

/// Wraps a payload into a binary packet (RFC 4253 §6): length, padding
/// length, payload, 4..=11 bytes of padding so the total is a multiple of 8.
fn packet(payload: &[u8]) -> Vec<u8> {
    let mut pad = 8 - (5 + payload.len()) % 8;
    if pad < 4 {
        pad += 8;
    }
    let len = (1 + payload.len() + pad) as u32;
    let mut v = len.to_be_bytes().to_vec();
    v.push(pad as u8);
    v.extend_from_slice(payload);
    v.extend(std::iter::repeat_n(0u8, pad));
    v
}

fn name_list(v: &mut Vec<u8>, s: &str) {
    v.extend_from_slice(&(s.len() as u32).to_be_bytes());
    v.extend_from_slice(s.as_bytes());
}

/// An SSH_MSG_KEXINIT payload with the given kex, host key, cipher, MAC and
/// compression lists (same list for both directions).
fn kexinit(kex: &str, hostkey: &str, enc: &str, mac: &str, comp: &str) -> Vec<u8> {
    let mut v = vec![20];
    v.extend_from_slice(&[0x11; 16]); // cookie
    for l in [kex, hostkey, enc, enc, mac, mac, comp, comp, "", ""] {
        name_list(&mut v, l);
    }
    v.push(0); // first_kex_packet_follows
    v.extend_from_slice(&[0; 4]); // reserved
    v
}

const CLIENT_KEX: &str =
    "curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha256,ext-info-c";
const SERVER_KEX: &str = "ecdh-sha2-nistp256,curve25519-sha256";
const HOST_KEY_BLOB: &[u8] =
    b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

fn conversation() -> Vec<(Direction, Vec<u8>)> {
    let mut client = b"SSH-2.0-OpenSSH_9.6\r\n".to_vec();
    client.extend(packet(&kexinit(
        CLIENT_KEX,
        "ssh-ed25519,rsa-sha2-512",
        "aes128-ctr,aes256-ctr",
        "hmac-sha2-256",
        "none,zlib@openssh.com",
    )));
    let mut server = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n".to_vec();
    server.extend(packet(&kexinit(
        SERVER_KEX,
        "rsa-sha2-512,ssh-ed25519",
        "aes256-ctr,aes128-ctr",
        "hmac-sha2-256,hmac-sha1",
        "none",
    )));
    // SSH_MSG_KEX_ECDH_REPLY: string K_S, string Q_S, string signature.
    let mut reply = vec![31];
    reply.extend_from_slice(&(HOST_KEY_BLOB.len() as u32).to_be_bytes());
    reply.extend_from_slice(HOST_KEY_BLOB);
    name_list(&mut reply, "QSQSQSQS");
    name_list(&mut reply, "SIGSIG");
    let mut server2 = packet(&reply);
    server2.extend(packet(&[21])); // NEWKEYS
    server2.extend_from_slice(&[0xde; 64]); // encrypted
                                            // SSH_MSG_KEX_ECDH_INIT then NEWKEYS then encrypted bytes from the client.
    let mut client2 = packet(&[30, 0, 0, 0, 4, 1, 2, 3, 4]);
    client2.extend(packet(&[21]));
    client2.extend_from_slice(&[0xad; 64]);
    vec![
        (Direction::ToServer, client),
        (Direction::ToClient, server),
        (Direction::ToServer, client2),
        (Direction::ToClient, server2),
    ]
}

fn ssh_records(records: &[Record]) -> Vec<&SshRecord> {
    records
        .iter()
        .filter_map(|r| {
            if let Record::Ssh(s) = r {
                Some(s)
            } else {
                None
            }
        })
        .collect()
}

fn weirds(records: &[Record]) -> Vec<&str> {
    records
        .iter()
        .filter_map(|r| {
            if let Record::Weird(w) = r {
                Some(w.name.as_str())
            } else {
                None
            }
        })
        .collect()
}

fn run_conv(conv: &[(Direction, Vec<u8>)]) -> Vec<Record> {
    let chunks: Vec<(Direction, &[u8])> = conv.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    run(&Ssh, Transport::Tcp, 22, &chunks)
}

fn md5_hex(s: &str) -> String {
    wire::hex(&Md5::digest(s.as_bytes()))
}

#[test]
fn full_key_exchange() {
    let records = run_conv(&conversation());
    assert!(weirds(&records).is_empty(), "{records:?}");
    let s = ssh_records(&records);
    assert_eq!(s.len(), 1);
    let s = s[0];
    assert_eq!(s.version, Some(2));
    assert_eq!(s.client.as_deref(), Some("SSH-2.0-OpenSSH_9.6"));
    assert_eq!(
        s.server.as_deref(),
        Some("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6")
    );
    assert_eq!(s.kex_alg.as_deref(), Some("curve25519-sha256"));
    assert_eq!(s.host_key_alg.as_deref(), Some("ssh-ed25519"));
    assert_eq!(s.cipher_alg.as_deref(), Some("aes128-ctr"));
    assert_eq!(s.mac_alg.as_deref(), Some("hmac-sha2-256"));
    assert_eq!(s.compression_alg.as_deref(), Some("none"));
    let hassh = md5_hex(&format!(
        "{CLIENT_KEX};aes128-ctr,aes256-ctr;hmac-sha2-256;none,zlib@openssh.com"
    ));
    assert_eq!(s.hassh.as_deref(), Some(hassh.as_str()));
    let hassh_server = md5_hex(&format!(
        "{SERVER_KEX};aes256-ctr,aes128-ctr;hmac-sha2-256,hmac-sha1;none"
    ));
    assert_eq!(s.hassh_server.as_deref(), Some(hassh_server.as_str()));
    let fp = format!(
        "SHA256:{}",
        wire::base64_unpadded(&Sha256::digest(HOST_KEY_BLOB))
    );
    assert_eq!(s.host_key_fingerprint.as_deref(), Some(fp.as_str()));
}

#[test]
fn client_only() {
    let mut client = b"SSH-2.0-OpenSSH_7.4\r\n".to_vec();
    client.extend(packet(&kexinit(
        "kex1,kex2",
        "ssh-rsa",
        "aes128-ctr",
        "hmac-sha1",
        "none",
    )));
    let records = run_conv(&[(Direction::ToServer, client)]);
    let s = ssh_records(&records);
    assert_eq!(s.len(), 1);
    assert_eq!(
        s[0].hassh.as_deref(),
        Some(md5_hex("kex1,kex2;aes128-ctr;hmac-sha1;none").as_str())
    );
    assert_eq!(s[0].version, None, "one banner only");
    assert_eq!(s[0].server, None);
    assert_eq!(s[0].kex_alg, None);
}

#[test]
fn every_split_point_gives_the_same_record() {
    let conv = conversation();
    let whole = run_conv(&conv);
    let chunks: Vec<(Direction, &[u8])> = conv.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    assert_eq!(run_forced(&Ssh, Transport::Tcp, 22, &chunks), whole);
    // Forced: the test harness drops chunks on which the probe asked for more.
    for (n, (dir, bytes)) in conv.iter().enumerate() {
        for split in 0..=bytes.len() {
            let mut chunks: Vec<(Direction, &[u8])> =
                conv.iter().map(|(d, b)| (*d, b.as_slice())).collect();
            let (a, b) = bytes.split_at(split);
            chunks.splice(n..=n, [(*dir, a), (*dir, b)]);
            assert_eq!(
                run_forced(&Ssh, Transport::Tcp, 22, &chunks),
                whole,
                "chunk {n} split at {split}"
            );
        }
    }
}

#[test]
fn ssh1_stops_after_banners() {
    let conv = vec![
        (
            Direction::ToClient,
            b"SSH-1.99-OpenSSH_6.6.1p1 Ubuntu-2ubuntu2\n".to_vec(),
        ),
        (Direction::ToServer, b"SSH-1.5-OpenSSH_6.2\n".to_vec()),
        (
            Direction::ToClient,
            vec![0, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 2, 9, 9, 9],
        ),
    ];
    let records = run_conv(&conv);
    assert!(weirds(&records).is_empty(), "{records:?}");
    let s = ssh_records(&records);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].version, Some(1));
    assert_eq!(s[0].client.as_deref(), Some("SSH-1.5-OpenSSH_6.2"));
    assert!(s[0].kex_alg.is_none());
}

#[test]
fn pre_banner_lines_are_skipped() {
    let server =
        b"Welcome to the imaging gateway\r\nAuthorized use only\r\nSSH-2.0-dropbear_2019.78\r\n";
    assert_eq!(Ssh.probe(Direction::ToClient, server, true), Probe::Match);
    assert_eq!(
        Ssh.probe(Direction::ToClient, &server[..20], true),
        Probe::NeedMore
    );
    assert_eq!(
        Ssh.probe(Direction::ToClient, server, false),
        Probe::NoMatch
    );
    let records = run_conv(&[
        (Direction::ToClient, server.to_vec()),
        (
            Direction::ToServer,
            b"SSH-2.0-PuTTY_Release_0.78\r\n".to_vec(),
        ),
    ]);
    let s = ssh_records(&records);
    assert_eq!(s[0].server.as_deref(), Some("SSH-2.0-dropbear_2019.78"));
    assert_eq!(s[0].version, Some(2));
}

#[test]
fn probe() {
    assert_eq!(
        Ssh.probe(Direction::ToServer, b"SSH-2.0-x\r\n", false),
        Probe::Match
    );
    assert_eq!(
        Ssh.probe(Direction::ToServer, b"SSH", false),
        Probe::NeedMore
    );
    assert_eq!(
        Ssh.probe(Direction::ToServer, b"GET / HTTP/1.1\r\n", true),
        Probe::NoMatch
    );
    assert_eq!(
        Ssh.probe(Direction::ToServer, b"SSH-x", true),
        Probe::NoMatch
    );
    assert_eq!(
        Ssh.probe(Direction::ToClient, b"\x16\x03\x01\x02\x00", true),
        Probe::NoMatch
    );
    assert_eq!(Ssh.probe(Direction::ToServer, b"", true), Probe::NeedMore);
}

#[test]
fn malformed_input() {
    let long = [b'A'; 400];
    let records = run_forced(&Ssh, Transport::Tcp, 22, &[(Direction::ToServer, &long)]);
    assert_eq!(weirds(&records), ["ssh_banner_too_long"]);
    let mut bad = b"SSH-2.0-x\r\n".to_vec();
    bad.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0]);
    let records = run(&Ssh, Transport::Tcp, 22, &[(Direction::ToServer, &bad)]);
    assert_eq!(weirds(&records), ["ssh_bad_packet_length"]);
    assert_eq!(ssh_records(&records).len(), 1);
    // KEXINIT cut short inside the name-lists.
    let mut k = b"SSH-2.0-x\r\n".to_vec();
    let mut payload = kexinit("a", "b", "c", "d", "e");
    payload.truncate(30);
    k.extend(packet(&payload));
    let records = run(&Ssh, Transport::Tcp, 22, &[(Direction::ToServer, &k)]);
    assert_eq!(weirds(&records), ["ssh_bad_kexinit"]);
}

#[test]
fn negotiation_failure_and_split_directions() {
    let mut client = b"SSH-2.0-a\r\n".to_vec();
    client.extend(packet(&kexinit(
        "k1",
        "h1",
        "aes128-ctr,aes256-ctr",
        "m1",
        "none",
    )));
    let mut server = b"SSH-2.0-b\r\n".to_vec();
    let mut p = vec![20];
    p.extend_from_slice(&[0; 16]);
    for l in [
        "k2",
        "h1",
        "aes256-ctr",
        "aes128-ctr",
        "m1",
        "m1",
        "none",
        "none",
        "",
        "",
    ] {
        name_list(&mut p, l);
    }
    p.extend_from_slice(&[0; 5]);
    server.extend(packet(&p));
    let records = run_conv(&[(Direction::ToServer, client), (Direction::ToClient, server)]);
    assert_eq!(weirds(&records), ["ssh_algorithm_negotiation_failed"]);
    let s = ssh_records(&records)[0];
    assert_eq!(s.kex_alg, None);
    assert_eq!(
        s.cipher_alg.as_deref(),
        Some("To server: aes256-ctr, to client: aes128-ctr")
    );
}

#[test]
fn garbage_never_panics() {
    let conv = conversation();
    let all: Vec<u8> = conv.iter().flat_map(|(_, b)| b.clone()).collect();
    assert!(never_panics(&Ssh, Transport::Tcp, 22, &all) > 0);
}

/// Runs every connection of a Zeek SSH trace and compares with ssh.log.
fn compare_with_zeek(trace: &str, baseline: &str) {
    let (Some(trace), Some(log)) = (testkit::testdata(trace), testkit::testdata(baseline)) else {
        return;
    };
    let conns = testkit::tcp::conns(&trace);
    let (fields, rows) = testkit::zeek::log(&log);
    assert!(!rows.is_empty());
    let with_data: Vec<&testkit::tcp::Conn> =
        conns.iter().filter(|c| !c.chunks.is_empty()).collect();
    for (n, row) in rows.iter().enumerate() {
        let col = |n: &str| testkit::zeek::col(&fields, row, n);
        // Some baselines log no connection id: then rows follow the trace order.
        let port: u16 = col("id.orig_p").map_or(0, |p| p.parse().unwrap());
        let conn = match col("id.orig_h") {
            Some(h) => conns
                .iter()
                .find(|c| c.is_from(h, port))
                .expect("connection in trace"),
            None => with_data[n],
        };
        let records = run(&Ssh, Transport::Tcp, conn.port(), &conn.borrowed());
        let s = ssh_records(&records);
        assert_eq!(s.len(), 1, "{port}: {records:?}");
        let s = s[0];
        let ctx = format!("{trace:?} {port}");
        assert_eq!(
            s.version.map(|v| v.to_string()).as_deref(),
            col("version"),
            "{ctx}"
        );
        assert_eq!(s.client.as_deref(), col("client"), "{ctx}");
        assert_eq!(s.server.as_deref(), col("server"), "{ctx}");
        assert_eq!(s.kex_alg.as_deref(), col("kex_alg"), "{ctx}");
        assert_eq!(s.host_key_alg.as_deref(), col("host_key_alg"), "{ctx}");
        assert_eq!(s.cipher_alg.as_deref(), col("cipher_alg"), "{ctx}");
        assert_eq!(s.mac_alg.as_deref(), col("mac_alg"), "{ctx}");
        assert_eq!(
            s.compression_alg.as_deref(),
            col("compression_alg"),
            "{ctx}"
        );
        if let Some(fp) = col("host_key_fingerprint") {
            let ours = s.host_key_fingerprint.as_deref().unwrap_or("");
            assert!(ours.starts_with(fp), "{ctx}: {ours} vs {fp}");
        }
    }
}

#[test]
fn zeek_ssh_basic() {
    compare_with_zeek(
        "zeek/Traces/ssh/ssh.pcap",
        "zeek/Baseline/scripts.base.protocols.ssh.basic/ssh.log",
    );
}

#[test]
fn zeek_ssh_variants() {
    for (t, b) in [
        ("ssh/ssh_version_199.pcap", "ssh_version_199"),
        ("ssh/server-pre-banner-data.pcap", "pre-banner"),
        ("ssh/ssh_kex_curve25519.pcap", "curve25519_kex"),
        ("ssh/ssh_kex_dh_group18.pcap", "dh_group18_kex"),
        ("ssh/ssh_kex_mlkem.pcap", "mlkem_kex"),
        ("ssh/ssh.client-side-half-duplex.pcap", "half-duplex-client"),
        ("ssh/ssh.server-side-half-duplex.pcap", "half-duplex-server"),
    ] {
        compare_with_zeek(
            &format!("zeek/Traces/{t}"),
            &format!("zeek/Baseline/scripts.base.protocols.ssh.{b}/ssh.log"),
        );
    }
}
