//! Tests for the FTP and Telnet login analyzers: scripted conversations,
//! split-point invariance, hostile input, and (when ../shared/testdata and
//! tshark exist) the Zeek FTP traces.

use crate::{Ftp, Telnet};
use analyzer_api::{testing, Probe, Protocol};
use model::records::{CleartextLogin, LoginProtocol, PasswordClass};
use model::{Direction, Record, Transport};

use Direction::{ToClient as S, ToServer as C};

fn logins(recs: &[Record]) -> Vec<CleartextLogin> {
    recs.iter()
        .filter_map(|r| match r {
            Record::Login(l) => Some(l.clone()),
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

/// Runs `conv` probed, then forced with each chunk split at every point and
/// byte by byte; all runs must give the same records.
fn run_invariant(proto: &dyn Protocol, port: u16, conv: &[(Direction, &[u8])]) -> Vec<Record> {
    let base = testing::run(proto, Transport::Tcp, port, conv);
    assert_eq!(
        testing::run_forced(proto, Transport::Tcp, port, conv),
        base,
        "forced"
    );
    for (i, (dir, chunk)) in conv.iter().enumerate() {
        for split in 1..chunk.len() {
            let mut v = conv.to_vec();
            let (a, b) = chunk.split_at(split);
            v.splice(i..=i, [(*dir, a), (*dir, b)]);
            assert_eq!(
                testing::run_forced(proto, Transport::Tcp, port, &v),
                base,
                "chunk {i} split at {split}"
            );
        }
    }
    let bytewise: Vec<(Direction, &[u8])> = conv
        .iter()
        .flat_map(|(d, c)| c.chunks(1).map(move |b| (*d, b)))
        .collect();
    assert_eq!(
        testing::run_forced(proto, Transport::Tcp, port, &bytewise),
        base,
        "byte by byte"
    );
    base
}

// ---------------------------------------------------------------- FTP

#[test]
fn ftp_multiline_greeting_and_failed_login() {
    let conv: &[(Direction, &[u8])] = &[
        (
            S,
            b"220-FileZilla Server 1.9.1\r\n220 Please visit https://filezilla-project.org/\r\n",
        ),
        (C, b"USER Admin\r\n"),
        (S, b"331 Please, specify the password.\r\n"),
        (C, b"PASS qwerty\r\n"),
        (S, b"530 Login incorrect.\r\n"),
    ];
    let recs = run_invariant(&Ftp, 21, conv);
    assert_eq!(weirds(&recs), Vec::<String>::new());
    let l = logins(&recs);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].protocol, LoginProtocol::Ftp);
    assert_eq!(l[0].user.as_deref(), Some("Admin"));
    assert_eq!(l[0].password, PasswordClass::Other);
    assert_eq!(
        l[0].banner.as_deref(),
        Some("FileZilla Server 1.9.1 Please visit https://filezilla-project.org/")
    );
    assert_eq!(l[0].success, Some(false));
    assert_eq!(l[0].reply_code, Some(530));
}

#[test]
fn ftp_anonymous_success_and_pipelining() {
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 (vsFTPd 3.0.5)\r\n"),
        // Pipelined: all three commands before any reply.
        (C, b"USER anonymous\r\nPASS guest@example.org\r\nSYST\r\n"),
        (S, b"331 Please specify the password.\r\n230-Welcome\r\n230-to the archive\r\n230 Login successful.\r\n215 UNIX Type: L8\r\n"),
        (C, b"RETR big.iso\r\n"),
        (S, b"150 Opening BINARY mode data connection.\r\n226 Transfer complete.\r\n"),
    ];
    let l = logins(&run_invariant(&Ftp, 21, conv));
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].user.as_deref(), Some("anonymous"));
    assert_eq!(l[0].password, PasswordClass::Default);
    assert_eq!(l[0].banner.as_deref(), Some("(vsFTPd 3.0.5)"));
    assert_eq!((l[0].success, l[0].reply_code), (Some(true), Some(230)));
}

#[test]
fn ftp_user_without_pass() {
    // USER answered with 230 directly (no password asked).
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 py.fake ready\r\n"),
        (C, b"USER zeek\r\n"),
        (S, b"230 USER OK\r\n"),
    ];
    let l = logins(&run_invariant(&Ftp, 21, conv));
    assert_eq!(
        (l[0].password, l[0].success, l[0].reply_code),
        (PasswordClass::None, Some(true), Some(230))
    );
    // USER then nothing: reported at finish, outcome unknown.
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 x\r\n"),
        (C, b"USER admin\r\n"),
        (S, b"331 pw?\r\n"),
    ];
    let l = logins(&run_invariant(&Ftp, 21, conv));
    assert_eq!(l.len(), 1);
    assert_eq!(
        (l[0].user.as_deref(), l[0].password, l[0].success),
        (Some("admin"), PasswordClass::None, None)
    );
    // Two USERs in a row: the first is an attempt of its own.
    let conv: &[(Direction, &[u8])] = &[
        (C, b"USER a\r\nUSER b\r\nPASS b\r\n"),
        (S, b"331 x\r\n331 x\r\n230 ok\r\n"),
    ];
    let l = logins(&testing::run_forced(&Ftp, Transport::Tcp, 21, conv));
    assert_eq!(l.len(), 2);
    assert_eq!((l[0].user.as_deref(), l[0].success), (Some("a"), None));
    assert_eq!(
        (l[1].user.as_deref(), l[1].password, l[1].success),
        (Some("b"), PasswordClass::Default, Some(true))
    );
}

#[test]
fn ftp_auth_tls_stops() {
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 (vsFTPd 3.0.5)\r\n"),
        (C, b"AUTH TLS\r\n"),
        (S, b"234 Proceed with negotiation.\r\n"),
        (C, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03USER x\r\n"),
    ];
    let recs = run_invariant(&Ftp, 21, conv);
    assert!(recs.is_empty(), "{recs:?}");
}

/// A TLS record holding one handshake message.
fn tls_handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![22, 3, 1];
    v.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(&[ty, 0, (body.len() >> 8) as u8, body.len() as u8]);
    v.extend_from_slice(body);
    v
}

/// Minimal ClientHello (TLS 1.2, one cipher) and ServerHello records.
fn hellos() -> (Vec<u8>, Vec<u8>) {
    let mut ch = vec![3, 3];
    ch.extend_from_slice(&[0x42; 32]);
    ch.extend_from_slice(&[0, 0, 2, 0, 0x2f, 1, 0, 0, 0]);
    let mut sh = vec![3, 3];
    sh.extend_from_slice(&[0x24; 32]);
    sh.extend_from_slice(&[0, 0, 0x2f, 0, 0, 0]);
    (tls_handshake(1, &ch), tls_handshake(2, &sh))
}

fn tls(recs: &[Record]) -> Vec<&model::records::TlsRecord> {
    recs.iter()
        .filter_map(|r| {
            if let Record::Tls(t) = r {
                Some(t)
            } else {
                None
            }
        })
        .collect()
}

/// After an accepted AUTH TLS the connection is TLS: its handshake is
/// analyzed (the ClientHello may share a segment with nothing else, or the
/// 234 reply with the ServerHello).
#[test]
fn ftp_auth_tls_hands_over_to_tls() {
    let (ch, sh) = hellos();
    let reply = [&b"234 Proceed with negotiation.\r\n"[..], &sh].concat();
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 (vsFTPd 3.0.5)\r\n"),
        (C, b"USER a\r\nAUTH TLS\r\n"),
        (S, b"331 x\r\n"),
        (S, b"234 ok\r\n"),
        (C, &ch),
        (S, &sh),
    ];
    let recs = testing::run(&Ftp, Transport::Tcp, 21, conv);
    let t = tls(&recs);
    assert_eq!(t.len(), 1, "{recs:?}");
    assert_eq!(
        (t[0].version.as_deref(), t[0].cipher.as_deref()),
        (Some("TLSv12"), Some("TLS_RSA_WITH_AES_128_CBC_SHA"))
    );
    assert_eq!(t[0].history, "Cs");
    // The USER before AUTH is still a login attempt.
    assert_eq!(logins(&recs).len(), 1);
    // The ClientHello in pieces; the reply's segment ends with the ServerHello
    // (a server that answers early).
    let (ch1, ch2) = ch.split_at(3);
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 x\r\n"),
        (C, b"AUTH SSL\r\n"),
        (S, &reply),
        (C, ch1),
        (C, ch2),
    ];
    let t = tls(&testing::run(&Ftp, Transport::Tcp, 21, conv))
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].history, "sC");
    // AUTH TLS refused: still FTP.
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 x\r\n"),
        (C, b"AUTH TLS\r\n"),
        (S, b"500 no\r\n"),
        (C, b"USER b\r\n"),
        (S, b"530 no\r\n"),
    ];
    let recs = testing::run(&Ftp, Transport::Tcp, 21, conv);
    assert!(tls(&recs).is_empty());
    assert_eq!(logins(&recs)[0].user.as_deref(), Some("b"));
}

fn b64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// GridFTP (GSI over AUTH GSSAPI): TLS travels base64-encoded in ADAT
/// commands and 335 ADAT= replies.
#[test]
fn ftp_adat_tokens_carry_tls() {
    let (ch, sh) = hellos();
    let adat = format!("ADAT {}\r\n", b64(&ch));
    let reply = format!("335 ADAT={}\r\n", b64(&sh));
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 GridFTP Server ready.\r\n"),
        (C, b"AUTH GSSAPI\r\n"),
        (S, b"334 Using authentication type; ADAT must follow.\r\n"),
        (C, adat.as_bytes()),
        (S, reply.as_bytes()),
        (C, b"USER :globus-mapping:\r\n"),
    ];
    let recs = run_invariant(&Ftp, 2811, conv);
    let t = tls(&recs);
    assert_eq!(t.len(), 1, "{recs:?}");
    assert_eq!(
        (t[0].version.as_deref(), t[0].history.as_str()),
        (Some("TLSv12"), "Cs")
    );
    // A GSSAPI mechanism that is not TLS (Kerberos) is left alone.
    let krb = format!("ADAT {}\r\n", b64(b"\x60\x82\x02\x00kerberos"));
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 x\r\n"),
        (C, b"AUTH GSSAPI\r\n"),
        (S, b"334 ok\r\n"),
        (C, krb.as_bytes()),
        (S, b"335 ADAT=AAAA\r\n"),
    ];
    assert!(tls(&testing::run(&Ftp, Transport::Tcp, 21, conv)).is_empty());
}

#[test]
fn ftp_long_lines_and_bad_replies() {
    let long = [b"USER ".as_slice(), &[b'a'; 2000], b"\r\n"].concat();
    let conv: &[(Direction, &[u8])] = &[
        (S, b"220 ok\r\n"),
        (C, &long),
        (S, b"xyz not a reply\r\n500 too long\r\n"),
        (C, b"USER bob\r\nPASS bob\r\n"),
        (S, b"331 ok\r\n230 ok\r\n"),
    ];
    let recs = testing::run(&Ftp, Transport::Tcp, 21, conv);
    assert_eq!(weirds(&recs), ["ftp_line_too_long", "ftp_invalid_reply"]);
    let l = logins(&recs);
    // The over-long USER was dropped, so 500 answers USER bob (unknown)... and
    // replies stay in order afterwards.
    assert!(l
        .iter()
        .any(|l| l.user.as_deref() == Some("bob") && l.password == PasswordClass::Default));
}

#[test]
fn ftp_probe() {
    assert_eq!(
        Ftp.probe(S, b"220 ProFTPD Server ready.\r\n", false),
        Probe::Match
    );
    assert_eq!(
        Ftp.probe(S, b"220 mail.example.com ESMTP Postfix\r\n", false),
        Probe::NoMatch
    );
    assert_eq!(
        Ftp.probe(S, b"220 mail.example.com ESMTP Postfix\r\n", true),
        Probe::Match
    );
    assert_eq!(
        Ftp.probe(S, b"220-Microsoft FTP Service", false),
        Probe::NeedMore
    );
    assert_eq!(Ftp.probe(S, b"22", false), Probe::NeedMore);
    assert_eq!(Ftp.probe(S, b"SSH-2.0-OpenSSH\r\n", true), Probe::NoMatch);
    assert_eq!(Ftp.probe(S, b"220 \x01\x02\x03\r\n", true), Probe::NoMatch);
    assert_eq!(Ftp.probe(C, b"USER anonymous\r\n", true), Probe::Match);
    assert_eq!(Ftp.probe(C, b"user anonymous\r\n", true), Probe::Match);
    assert_eq!(Ftp.probe(C, b"US", true), Probe::NeedMore);
    assert_eq!(Ftp.probe(C, b"USER anonymous\r\n", false), Probe::NoMatch);
    assert_eq!(Ftp.probe(C, b"GET / HTTP/1.1\r\n", true), Probe::NoMatch);
}

#[test]
fn ftp_never_panics() {
    let conv = b"220-a\r\n220 b\r\nUSER x\r\n331 y\r\nPASS z\r\n530 no\r\n";
    testing::never_panics(&Ftp, Transport::Tcp, 21, conv);
    testing::never_panics(&Ftp, Transport::Tcp, 21, &[0xff; 700]);
}

/// One TCP conversation as (direction, bytes) chunks.
type Stream = Vec<(Direction, Vec<u8>)>;

/// Follows every TCP stream of a pcap with tshark (one process) and returns
/// those whose server port is in `ports`; `None` when tshark or the file is missing.
fn tshark_streams(path: &str, ports: &[u16]) -> Option<Vec<Stream>> {
    let path = std::path::Path::new(path);
    if !path.exists() {
        return None;
    }
    let streams = testkit::tshark::follow_tcp(path, &[])?;
    Some(
        streams
            .into_iter()
            .filter(|s| ports.contains(&s.port))
            .map(|s| s.chunks)
            .collect(),
    )
}

const FTP_TRACES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/zeek/Traces/ftp/"
);

fn ftp_trace(name: &str) -> Option<Vec<Record>> {
    let Some(streams) = tshark_streams(&format!("{FTP_TRACES}{name}"), &[21]) else {
        println!("skipping: ../shared/testdata not found");
        return None;
    };
    let mut recs = Vec::new();
    for s in streams {
        let chunks: Vec<(Direction, &[u8])> = s.iter().map(|(d, b)| (*d, b.as_slice())).collect();
        recs.extend(testing::run(&Ftp, Transport::Tcp, 21, &chunks));
    }
    Some(recs)
}

#[test]
fn zeek_ftp_traces() {
    // ftp.log: Admin, PASS, 530.
    let Some(recs) = ftp_trace("ftp-password-pass-command.pcap") else {
        return;
    };
    let l = logins(&recs);
    assert_eq!(l.len(), 1, "{recs:?}");
    assert_eq!(
        (l[0].user.as_deref(), l[0].success, l[0].reply_code),
        (Some("Admin"), Some(false), Some(530))
    );
    assert_eq!(
        l[0].banner.as_deref(),
        Some("FileZilla Server 1.9.1 Please visit https://filezilla-project.org/")
    );
    // ftp.log: anonymous / test, logged in (230).
    let Some(recs) = ftp_trace("ipv4.pcap") else {
        return;
    };
    let l = logins(&recs);
    assert!(
        !l.is_empty() && l.iter().all(|l| l.user.as_deref() == Some("anonymous")),
        "{l:?}"
    );
    assert!(
        l.iter()
            .any(|l| l.success == Some(true) && l.password == PasswordClass::Default),
        "{l:?}"
    );
    // ftp.log: anonymous, PASS reply 230 after a multi-line greeting.
    let Some(recs) = ftp_trace("ipv6-multiline-reply.pcap") else {
        return;
    };
    let l = logins(&recs);
    assert!(
        l.iter()
            .any(|l| l.user.as_deref() == Some("anonymous") && l.reply_code == Some(230)),
        "{l:?}"
    );
    // AUTH TLS: no login, stops.
    let Some(recs) = ftp_trace("ftp-auth-tls.pcap") else {
        return;
    };
    assert!(logins(&recs).is_empty(), "{recs:?}");
    // Brute force: many failed attempts.
    let Some(recs) = ftp_trace("bruteforce.pcap") else {
        return;
    };
    let l = logins(&recs);
    assert!(
        l.iter().filter(|l| l.success == Some(false)).count() >= 10,
        "{}",
        l.len()
    );
    // Every trace: no panic.
    for e in std::fs::read_dir(FTP_TRACES)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".pcap") {
            if let Some(recs) = ftp_trace(&name) {
                println!(
                    "{name}: {} logins, weirds {:?}",
                    logins(&recs).len(),
                    weirds(&recs)
                );
            }
        }
    }
}

// ---------------------------------------------------------------- Telnet

const IAC: u8 = 0xff;
const DO: u8 = 0xfd;
const WILL: u8 = 0xfb;
const SB: u8 = 0xfa;
const SE: u8 = 0xf0;

#[test]
fn telnet_char_at_a_time_login_success() {
    // Server negotiates ECHO / SUPPRESS-GO-AHEAD / TERMINAL-TYPE, client answers with a subnegotiation.
    let neg_s = [IAC, DO, 24, IAC, WILL, 1, IAC, WILL, 3];
    let neg_c = [
        IAC, WILL, 24, IAC, DO, 1, IAC, DO, 3, IAC, SB, 24, 0, b'x', b't', b'e', b'r', b'm', IAC,
        SE,
    ];
    let conv: &[(Direction, &[u8])] = &[
        (S, &neg_s),
        (C, &neg_c),
        (S, b"\r\nUbuntu 22.04 LTS\r\n\r\ninfusion-gw login: "),
        (C, b"r"),
        (S, b"r"),
        (C, b"o"),
        (S, b"o"),
        (C, b"x"),
        (S, b"x"),
        (C, b"\x7f"),
        (S, b"\x08 \x08"),
        (C, b"o"),
        (S, b"o"),
        (C, b"t"),
        (S, b"t"),
        (C, b"\r\0"),
        (S, b"\r\nPassword: "),
        (C, b"toor\r\n"),
        (
            S,
            b"\r\nLast login: Mon Jan  1 00:00:00 2024 from 10.0.0.1\r\n$ ",
        ),
        (C, b"id\r\n"),
    ];
    assert_eq!(Telnet.probe(S, &neg_s, false), Probe::Match);
    let recs = run_invariant(&Telnet, 23, conv);
    assert_eq!(weirds(&recs), Vec::<String>::new());
    let l = logins(&recs);
    assert_eq!(l.len(), 1, "{recs:?}");
    assert_eq!(l[0].protocol, LoginProtocol::Telnet);
    assert_eq!(l[0].user.as_deref(), Some("root"));
    assert_eq!(l[0].password, PasswordClass::Default);
    assert_eq!(l[0].success, Some(true));
    assert_eq!(l[0].reply_code, None);
    assert_eq!(
        l[0].banner.as_deref(),
        Some("Ubuntu 22.04 LTS infusion-gw login:")
    );
}

#[test]
fn telnet_failure_then_success_by_prompt() {
    let conv: &[(Direction, &[u8])] = &[
        (S, b"Welcome to PACS-01\r\nUsername: "),
        (C, b"service\r\n"),
        (S, b"service\r\nPassword: "),
        (C, b"wrong-one\r\n"),
        (S, b"\r\n% Authentication failed\r\n\r\nUsername: "),
        (C, b"service\r\n"),
        (S, b"service\r\nPassword: "),
        (C, b"S3cret!\r\n"),
        (S, b"\r\nPACS-01> "),
        (C, b"show version\r\n"),
        (S, b"should not be analyzed\r\nlogin: "),
    ];
    let l = logins(&run_invariant(&Telnet, 23, conv));
    assert_eq!(l.len(), 2);
    assert_eq!(
        (l[0].user.as_deref(), l[0].password, l[0].success),
        (Some("service"), PasswordClass::Other, Some(false))
    );
    assert_eq!(
        (l[1].user.as_deref(), l[1].password, l[1].success),
        (Some("service"), PasswordClass::Other, Some(true))
    );
    assert_eq!(l[0].banner.as_deref(), Some("Welcome to PACS-01 Username:"));
}

#[test]
fn telnet_password_only_and_unknown_outcome() {
    // A device that only asks for a password; the session ends before any outcome text.
    let conv: &[(Direction, &[u8])] = &[
        (S, b"\r\nUser Access Verification\r\n\r\nPassword: "),
        (C, b"\r\n"),
    ];
    let l = logins(&run_invariant(&Telnet, 23, conv));
    assert_eq!(l.len(), 1);
    assert_eq!(
        (l[0].user.as_deref(), l[0].password, l[0].success),
        (None, PasswordClass::Empty, None)
    );
    // Re-prompted for the password: failure.
    let conv: &[(Direction, &[u8])] = &[
        (S, b"login: "),
        (C, b"admin\r\n"),
        (S, b"Password: "),
        (C, b"admin\r\n"),
        (S, b"\r\nPassword: "),
    ];
    let l = logins(&run_invariant(&Telnet, 23, conv));
    assert_eq!(
        (l[0].user.as_deref(), l[0].password, l[0].success),
        (Some("admin"), PasswordClass::Default, Some(false))
    );
}

#[test]
fn telnet_probe() {
    assert_eq!(Telnet.probe(S, &[IAC, DO, 24], false), Probe::Match);
    assert_eq!(
        Telnet.probe(C, &[IAC, WILL, 31, IAC, WILL, 32], false),
        Probe::Match
    );
    assert_eq!(Telnet.probe(C, &[IAC, WILL], false), Probe::NeedMore);
    assert_eq!(Telnet.probe(C, &[IAC, WILL, 200], false), Probe::NoMatch);
    assert_eq!(Telnet.probe(C, &[IAC, 0x10, 1], false), Probe::NoMatch);
    assert_eq!(Telnet.probe(S, b"\r\nlogin: ", true), Probe::Match);
    assert_eq!(Telnet.probe(S, b"\r\nlogin: ", false), Probe::NoMatch);
    assert_eq!(Telnet.probe(S, b"\x16\x03\x01\x00", true), Probe::NoMatch);
    assert_eq!(Telnet.probe(S, &[], true), Probe::NeedMore);
}

#[test]
fn telnet_hostile_input() {
    // Unterminated subnegotiation, endless line, NULs.
    let mut sb = vec![IAC, SB, 24];
    sb.extend(std::iter::repeat_n(b'a', 5000));
    let recs = testing::run_forced(
        &Telnet,
        Transport::Tcp,
        23,
        &[(C, &sb), (S, b"login: "), (C, &[b'u'; 3000])],
    );
    // After the cap the rest of the suboption is treated as text (one over-long line),
    // then the login line overflows too.
    assert_eq!(
        weirds(&recs),
        [
            "telnet_suboption_too_long",
            "telnet_line_too_long",
            "telnet_line_too_long"
        ]
    );
    testing::never_panics(
        &Telnet,
        Transport::Tcp,
        23,
        b"\xff\xfd\x18login: \xff\xfa\x18\x00a\xff\xf0root\r\n",
    );
    testing::never_panics(&Telnet, Transport::Tcp, 23, &[0xff; 300]);
}
