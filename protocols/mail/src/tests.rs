//! Tests: hand-written sessions of each protocol (STARTTLS, logins, the
//! end at the first message), hostile input, and the STARTTLS sessions of
//! the benchmark corpus (public test captures) against tshark.

use super::*;
use analyzer_api::testing::{never_panics, run};
use model::records::TlsRecord;
use model::Record;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn mail(recs: &[Record]) -> Vec<&MailRecord> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Mail(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn logins(recs: &[Record]) -> Vec<&CleartextLogin> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Login(l) => Some(l),
            _ => None,
        })
        .collect()
}

#[test]
fn probes_tell_the_protocols_apart() {
    let greet = b"220 mx.example.org ESMTP Postfix\r\n";
    assert_eq!(Smtp.probe(S, greet, false), Probe::Match);
    assert_eq!(
        Smtp.probe(S, b"220 ProFTPD Server ready\r\n", true),
        Probe::NoMatch
    );
    assert_eq!(Smtp.probe(S, b"220 mail ready\r\n", true), Probe::Match);
    assert_eq!(Smtp.probe(S, b"220 mail ready\r\n", false), Probe::NoMatch);
    assert_eq!(Smtp.probe(S, b"220 mx.exa", false), Probe::NeedMore);
    assert_eq!(
        Imap.probe(S, b"* OK [CAPABILITY IMAP4rev1] ready\r\n", false),
        Probe::Match
    );
    assert_eq!(Imap.probe(S, b"* OK ready\r\n", false), Probe::NoMatch);
    assert_eq!(Imap.probe(S, b"* OK ready\r\n", true), Probe::Match);
    assert_eq!(Pop3.probe(S, b"+OK Dovecot ready.\r\n", true), Probe::Match);
    assert_eq!(
        Pop3.probe(S, b"+OK Dovecot ready.\r\n", false),
        Probe::NoMatch
    );
    assert_eq!(
        Pop3.probe(S, b"+OK POP3 server ready\r\n", false),
        Probe::Match
    );
    assert_eq!(Smtp.probe(C, b"EHLO pump-17\r\n", true), Probe::Match);
    assert_eq!(Smtp.probe(C, b"EHLO pump-17\r\n", false), Probe::NoMatch);
}

#[test]
fn smtp_starttls_hands_the_connection_to_tls() {
    let hello = tls_client_hello("mx.example.org");
    let recs = run(
        &Smtp,
        Transport::Tcp,
        25,
        &[
            (S, b"220 mx.example.org ESMTP Postfix (Debian)\r\n"),
            (C, b"EHLO infusion-gw.icu.local\r\n"),
            (
                S,
                b"250-mx.example.org\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
            ),
            (C, b"STARTTLS\r\n"),
            (S, b"220 2.0.0 Ready to start TLS\r\n"),
            (C, &hello),
        ],
    );
    let m = mail(&recs);
    assert_eq!(m.len(), 1, "{recs:?}");
    assert_eq!(
        m[0].banner.as_deref(),
        Some("mx.example.org ESMTP Postfix (Debian)")
    );
    assert_eq!(m[0].helo.as_deref(), Some("infusion-gw.icu.local"));
    assert!(m[0].starttls_offered && m[0].starttls);
    let tls: Vec<&TlsRecord> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Tls(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(tls.len(), 1, "{recs:?}");
    assert_eq!(tls[0].server_name.as_deref(), Some("mx.example.org"));
}

#[test]
fn smtp_auth_outside_tls_is_a_cleartext_login_and_mail_is_never_read() {
    // AUTH PLAIN "\0biomed\0admin", then a message with a canary.
    let recs = run(
        &Smtp,
        Transport::Tcp,
        587,
        &[
            (S, b"220 relay ESMTP\r\n"),
            (C, b"EHLO lab-analyzer-3\r\n"),
            (S, b"250-relay\r\n250 AUTH PLAIN LOGIN\r\n"),
            (C, b"AUTH PLAIN AGJpb21lZABhZG1pbg==\r\n"),
            (S, b"235 2.7.0 Authentication successful\r\n"),
            (C, b"MAIL FROM:<CANARY-PATIENT-DOE@example.org>\r\n"),
            (S, b"250 OK\r\n"),
            (C, b"DATA\r\n"),
            (S, b"354 go\r\n"),
            (C, b"Subject: CANARY-MRN-12345 potassium 6.1\r\n.\r\n"),
        ],
    );
    let l = logins(&recs);
    assert_eq!(l.len(), 1, "{recs:?}");
    assert_eq!(l[0].protocol, LoginProtocol::Smtp);
    assert_eq!(l[0].user.as_deref(), Some("biomed"));
    assert_eq!(l[0].password, PasswordClass::Default);
    assert_eq!((l[0].success, l[0].reply_code), (Some(true), Some(235)));
    let all = format!("{recs:?}");
    assert!(!all.contains("CANARY"), "{all}");
    assert!(!mail(&recs)[0].starttls);
}

#[test]
fn smtp_auth_login_over_several_lines() {
    let recs = run(
        &Smtp,
        Transport::Tcp,
        25,
        &[
            (S, b"220 relay ESMTP\r\n"),
            (C, b"AUTH LOGIN\r\n"),
            (S, b"334 VXNlcm5hbWU6\r\n"),
            (C, b"bnVyc2U=\r\n"), // nurse
            (S, b"334 UGFzc3dvcmQ6\r\n"),
            (C, b"czNjcjN0LVBhc3M=\r\n"), // s3cr3t-Pass
            (S, b"535 5.7.8 Authentication failed\r\n"),
        ],
    );
    let l = logins(&recs);
    assert_eq!(l.len(), 1, "{recs:?}");
    assert_eq!(l[0].user.as_deref(), Some("nurse"));
    assert_eq!(l[0].password, PasswordClass::Other);
    assert_eq!((l[0].success, l[0].reply_code), (Some(false), Some(535)));
}

#[test]
fn imap_login_and_pop3_user_pass() {
    let recs = run(
        &Imap,
        Transport::Tcp,
        143,
        &[
            (
                S,
                b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.\r\n",
            ),
            (C, b"a1 LOGIN \"radiology\" \"changeme\"\r\n"),
            (S, b"a1 OK Logged in\r\n"),
            (C, b"a2 SELECT INBOX\r\n"),
            (S, b"* 3 EXISTS\r\n"),
        ],
    );
    let l = logins(&recs);
    assert_eq!(l.len(), 1, "{recs:?}");
    assert_eq!(
        (l[0].user.as_deref(), l[0].password, l[0].success),
        (Some("radiology"), PasswordClass::Default, Some(true))
    );
    assert!(mail(&recs)[0].starttls_offered);
    let recs = run(
        &Pop3,
        Transport::Tcp,
        110,
        &[
            (S, b"+OK ready\r\n"),
            (C, b"USER ward3\r\n"),
            (S, b"+OK\r\n"),
            (C, b"PASS ward3\r\n"),
            (S, b"-ERR authentication failed\r\n"),
        ],
    );
    let l = logins(&recs);
    assert_eq!(l.len(), 1, "{recs:?}");
    assert_eq!(
        (l[0].user.as_deref(), l[0].password, l[0].success),
        (Some("ward3"), PasswordClass::Default, Some(false))
    );
}

#[test]
fn garbage_never_panics() {
    for p in [&Smtp as &dyn Protocol, &Imap, &Pop3] {
        let mut all = b"220 x ESMTP\r\n* OK IMAP\r\n+OK POP\r\nEHLO a\r\nAUTH LOGIN\r\na LOGIN \"x\r\nSTARTTLS\r\n220 go\r\n".to_vec();
        all.extend_from_slice(&tls_client_hello("a"));
        assert!(never_panics(p, Transport::Tcp, 25, &all) > 0);
    }
}

/// A minimal TLS 1.2 ClientHello with a server name.
fn tls_client_hello(sni: &str) -> Vec<u8> {
    let name = sni.as_bytes();
    let mut sni_ext = vec![0x00, 0x00];
    let list_len = name.len() + 3;
    sni_ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
    sni_ext.extend_from_slice(&(list_len as u16).to_be_bytes());
    sni_ext.push(0);
    sni_ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni_ext.extend_from_slice(name);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7u8; 32]);
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher
    body.extend_from_slice(&[1, 0]); // null compression
    body.extend_from_slice(&(sni_ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&sni_ext);
    let mut hs = vec![1, 0, 0, 0];
    hs[1..4].copy_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// Every STARTTLS/STLS session of the benchmark corpus (public test
/// captures: IMAP, POP3 and SMTP from suricata-verify and nDPI) is read
/// through the STARTTLS into TLS: the TLS record's server version and
/// cipher agree with tshark's ServerHello, and the mail record says
/// STARTTLS was taken. Before there was no SMTP, IMAP or POP3 analyzer and
/// these handshakes were never seen.
#[test]
fn starttls_sessions_of_public_captures_agree_with_tshark() {
    let Some(file) = testkit::testdata("benchmark/corpus_ethernet_real.pcap") else {
        return;
    };
    let file = file.to_str().unwrap();
    let Some(out) = testkit::tshark::run(&[
        "-r",
        file,
        "-Y",
        "tls.handshake.type == 2 and tcp.srcport in {25, 587, 143, 110}",
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.dstport",
        "-e",
        "tls.handshake.version",
        "-e",
        "tls.handshake.ciphersuite",
    ]) else {
        println!("skipping: tshark not installed");
        return;
    };
    let hex = |s: &str| u16::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
    let mut want = std::collections::BTreeMap::new();
    let mut streams = Vec::new();
    for l in out.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        let port: u16 = f[1].parse().unwrap();
        want.insert(
            port,
            (
                proto_tls::names::version(hex(f[2])),
                proto_tls::names::cipher(hex(f[3])),
            ),
        );
        streams.push(f[0].to_string());
    }
    assert!(want.len() >= 2, "STARTTLS sessions in the corpus: {want:?}");
    let conns =
        testkit::tshark::tcp_conns(file.as_ref(), &streams).expect("tshark writes the streams");
    let mut agreed = 0;
    for c in &conns {
        let Some((version, cipher)) = c.client.and_then(|(_, p)| want.get(&p)) else {
            continue;
        };
        let proto: &dyn Protocol = match c.port() {
            143 => &Imap,
            110 => &Pop3,
            _ => &Smtp,
        };
        let recs = run(proto, Transport::Tcp, c.port(), &c.borrowed());
        let m = mail(&recs);
        assert!(
            m.first().is_some_and(|m| m.starttls),
            "{:?}: {recs:?}",
            c.client
        );
        let t = recs.iter().find_map(|r| match r {
            Record::Tls(t) => Some(t),
            _ => None,
        });
        let got = t.map(|t| (t.version.clone(), t.cipher.clone()));
        assert_eq!(
            got,
            Some((Some(version.clone()), Some(cipher.clone()))),
            "{:?}",
            c.client
        );
        agreed += 1;
    }
    println!(
        "starttls: {agreed}/{} sessions agree with tshark",
        want.len()
    );
    assert_eq!(agreed, want.len());
}
