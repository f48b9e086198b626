//! Unit tests: CONNECT variants (3.1, 3.1.1, 5.0), CONNACK, topics, bounds,
//! splits and the password never kept.

use super::*;
use analyzer_api::testing::{never_panics, run};
use model::Record;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn lstr(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

/// A packet: fixed header (type, flags, remaining length) and body.
fn packet(kind: u8, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![kind << 4 | flags];
    let mut n = body.len();
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        v.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    v.extend_from_slice(body);
    v
}

fn connect(level: u8, client: &str, user: Option<&str>, pw: Option<&str>, will: bool) -> Vec<u8> {
    let mut b = lstr(if level == 3 { b"MQIsdp" } else { b"MQTT" });
    b.push(level);
    let flags = 0x02
        | if will { 0x04 } else { 0 }
        | if user.is_some() { 0x80 } else { 0 }
        | if pw.is_some() { 0x40 } else { 0 };
    b.push(flags);
    b.extend_from_slice(&60u16.to_be_bytes());
    if level >= 5 {
        // Properties: session expiry interval (0x11, four bytes) 10.
        b.extend_from_slice(&[5, 0x11, 0, 0, 0, 10]);
    }
    b.extend(lstr(client.as_bytes()));
    if will {
        if level >= 5 {
            b.push(0);
        }
        b.extend(lstr(b"will/topic"));
        b.extend(lstr(b"WILL-PAYLOAD-SECRET"));
    }
    if let Some(u) = user {
        b.extend(lstr(u.as_bytes()));
    }
    if let Some(p) = pw {
        b.extend(lstr(p.as_bytes()));
    }
    packet(CONNECT, 0, &b)
}

fn publish(topic: &str, payload: &[u8], qos: u8) -> Vec<u8> {
    let mut b = lstr(topic.as_bytes());
    if qos > 0 {
        b.extend_from_slice(&[0, 1]);
    }
    b.extend_from_slice(payload);
    packet(PUBLISH, qos << 1, &b)
}

fn mqtt(records: &[Record]) -> Vec<&MqttRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Mqtt(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn logins(records: &[Record]) -> Vec<&CleartextLogin> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Login(l) => Some(l),
            _ => None,
        })
        .collect()
}

fn go(conv: &[(Direction, Vec<u8>)]) -> Vec<Record> {
    let chunks: Vec<(Direction, &[u8])> = conv.iter().map(|(d, b)| (*d, &b[..])).collect();
    run(&Mqtt, Transport::Tcp, 1883, &chunks)
}

#[test]
fn connect_connack_publish_subscribe_v311() {
    let mut sub = vec![0, 7];
    sub.extend(lstr(b"ward/+/alarm"));
    sub.push(1);
    sub.extend(lstr(b"ward/#"));
    sub.push(0);
    let out = go(&[
        (
            C,
            connect(4, "pump-0042", Some("biomed"), Some("admin"), true),
        ),
        (S, packet(CONNACK, 0, &[0, 0])),
        (C, publish("ward/icu/bed3/spo2", b"PAYLOAD-CANARY 97", 0)),
        (C, publish("ward/icu/bed3/spo2", b"PAYLOAD-CANARY 98", 1)),
        (C, publish("ward/icu/bed3/hr", b"PAYLOAD-CANARY 61", 0)),
        (C, packet(SUBSCRIBE, 2, &sub)),
        (S, publish("ward/cmd", b"PAYLOAD-CANARY reboot", 0)),
    ]);
    let m = mqtt(&out);
    assert_eq!(m.len(), 1, "{out:?}");
    let m = m[0];
    assert_eq!(m.protocol_name.as_deref(), Some("MQTT"));
    assert_eq!(m.protocol_level, Some(4));
    assert_eq!(m.client_id.as_deref(), Some("pump-0042"));
    assert_eq!(m.username.as_deref(), Some("biomed"));
    assert_eq!(m.password, PasswordClass::Default);
    assert!(m.clean_session && m.will);
    assert_eq!(m.keep_alive, 60);
    assert_eq!(m.connack_code, Some(0));
    assert_eq!(m.publishes, 4);
    assert_eq!(
        m.topics,
        ["ward/icu/bed3/spo2", "ward/icu/bed3/hr", "ward/cmd"]
    );
    assert_eq!(m.subscriptions, ["ward/+/alarm", "ward/#"]);
    let l = logins(&out);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].protocol, LoginProtocol::Mqtt);
    assert_eq!(l[0].user.as_deref(), Some("biomed"));
    assert_eq!(l[0].success, Some(true));
    let json = serde_json::to_string(&out).unwrap();
    for secret in ["admin", "PAYLOAD-CANARY", "WILL-PAYLOAD", "will/topic"] {
        assert!(!json.contains(secret), "{secret}: {json}");
    }
}

#[test]
fn mqtt_31_and_50_connects() {
    let out = go(&[(C, connect(3, "old-client", None, None, false))]);
    let m = mqtt(&out)[0];
    assert_eq!(m.protocol_name.as_deref(), Some("MQIsdp"));
    assert_eq!(m.protocol_level, Some(3));
    assert_eq!(m.password, PasswordClass::None);
    assert!(logins(&out).is_empty());

    let out = go(&[
        (
            C,
            connect(5, "v5-client", Some("u"), Some("other-pw-x"), true),
        ),
        // 5.0 CONNACK: flags, reason code 0x86 (bad user name or password), no properties.
        (S, packet(CONNACK, 0, &[0, 0x86, 0])),
    ]);
    let m = mqtt(&out)[0];
    assert_eq!(m.protocol_level, Some(5));
    assert_eq!(m.client_id.as_deref(), Some("v5-client"));
    assert_eq!(m.username.as_deref(), Some("u"));
    assert_eq!(m.password, PasswordClass::Other);
    assert_eq!(m.connack_code, Some(0x86));
    assert_eq!(logins(&out)[0].success, Some(false));
}

#[test]
fn probe() {
    let p = |d: &[u8]| Mqtt.probe(C, d, true);
    let c = connect(4, "x", None, None, false);
    assert_eq!(p(&c), Probe::Match);
    assert_eq!(p(&c[..5]), Probe::NeedMore);
    assert_eq!(p(&c[..1]), Probe::NeedMore);
    assert_eq!(p(b""), Probe::NeedMore);
    assert_eq!(p(b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(p(&[0x10, 0xff, 0xff, 0xff, 0xff]), Probe::NoMatch);
    assert_eq!(p(&[0x10, 2, 0, 4]), Probe::NoMatch);
    assert_eq!(Mqtt.probe(S, &[0x20, 2, 0, 0], true), Probe::NoMatch);
}

#[test]
fn large_payloads_are_skipped_and_topics_bounded() {
    let mut conv = vec![(C, connect(4, "c", None, None, false))];
    conv.push((C, publish("big/one", &vec![b'x'; 200_000], 0)));
    for i in 0..100 {
        conv.push((C, publish(&format!("t/{i}"), b"v", 0)));
    }
    let out = go(&conv);
    let m = mqtt(&out)[0];
    assert_eq!(m.publishes, 101);
    assert_eq!(m.topics.len(), MAX_TOPICS);
    assert_eq!(m.topics[0], "big/one");
    assert!(m.topics_dropped > 0);
}

#[test]
fn every_split_point_gives_the_same_record() {
    let mut bytes = connect(4, "split-client", Some("user"), Some("pw"), false);
    bytes.extend(publish("a/b", b"1234", 1));
    bytes.extend(publish("c/d", &[0; 300], 0));
    let whole = run(&Mqtt, Transport::Tcp, 1883, &[(C, &bytes)]);
    assert_eq!(mqtt(&whole)[0].topics, ["a/b", "c/d"]);
    for split in 1..bytes.len() {
        let (a, b) = bytes.split_at(split);
        let out = run(&Mqtt, Transport::Tcp, 1883, &[(C, a), (C, b)]);
        if split >= 12 {
            assert_eq!(out, whole, "split at {split}");
        }
    }
    assert!(never_panics(&Mqtt, Transport::Tcp, 1883, &bytes) > 0);
}

#[test]
fn garbage_after_connect_stops_cleanly() {
    let mut bytes = connect(4, "c", None, None, false);
    bytes.extend_from_slice(&[0x00, 0x05, 1, 2, 3]);
    let out = run(&Mqtt, Transport::Tcp, 1883, &[(C, &bytes)]);
    assert_eq!(mqtt(&out).len(), 1);
    assert!(out
        .iter()
        .any(|r| matches!(r, Record::Weird(w) if w.name == "mqtt_malformed_packet")));
}
