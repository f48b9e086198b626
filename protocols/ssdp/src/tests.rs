//! Unit tests: probe shapes, NOTIFY / M-SEARCH / answer fields, USN split,
//! LOCATION query redaction, bounds and garbage.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::Record;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

const NOTIFY: &[u8] = b"NOTIFY * HTTP/1.1\r\n\
HOST: 239.255.255.250:1900\r\n\
CACHE-CONTROL: max-age=1800\r\n\
LOCATION: http://10.0.0.7:8200/rootDesc.xml?token=s3cr3t\r\n\
SERVER: Debian/12 DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.2\r\n\
NT: urn:schemas-upnp-org:device:MediaServer:1\r\n\
USN: uuid:4d696e69-444c-164e-9d41-b827eb000001::urn:schemas-upnp-org:device:MediaServer:1\r\n\
NTS: ssdp:alive\r\n\r\n";

const SEARCH: &[u8] = b"M-SEARCH * HTTP/1.1\r\n\
HOST: 239.255.255.250:1900\r\n\
MAN: \"ssdp:discover\"\r\n\
MX: 1\r\n\
ST: ssdp:all\r\n\
USER-AGENT: Linux/6.1 UPnP/2.0 async_upnp_client/0.49.0\r\n\r\n";

const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\n\
CACHE-CONTROL: max-age=1800\r\n\
ST: upnp:rootdevice\r\n\
USN: uuid:4d696e69-444c-164e-9d41-b827eb000001::upnp:rootdevice\r\n\
EXT:\r\n\
SERVER: Debian/12 DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.2\r\n\
Location: http://10.0.0.7:8200/rootDesc.xml\r\n\r\n";

fn ssdp(records: &[Record]) -> Vec<&SsdpRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Ssdp(s) => Some(s),
            _ => None,
        })
        .collect()
}

#[test]
fn probe_takes_ssdp_shapes_only() {
    assert_eq!(Ssdp.probe(C, NOTIFY, false), Probe::Match);
    assert_eq!(Ssdp.probe(C, SEARCH, false), Probe::Match);
    assert_eq!(Ssdp.probe(S, ANSWER, true), Probe::Match);
    // Off port 1900 an answer needs both ST and USN.
    assert_eq!(Ssdp.probe(C, ANSWER, false), Probe::Match);
    assert_eq!(
        Ssdp.probe(C, b"HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\n\r\n", false),
        Probe::NoMatch
    );
    assert_eq!(
        Ssdp.probe(S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
        Probe::NoMatch
    );
    assert_eq!(
        Ssdp.probe(C, b"NOTIFY sip:x SIP/2.0\r\n", true),
        Probe::NoMatch
    );
    assert_eq!(Ssdp.probe(C, b"GET / HTTP/1.1\r\n", true), Probe::NoMatch);
    assert_eq!(Ssdp.probe(C, b"", true), Probe::NeedMore);
}

#[test]
fn notify_search_and_answer() {
    let recs = run(&Ssdp, Transport::Udp, 1900, &[(C, NOTIFY)]);
    let n = ssdp(&recs)[0];
    assert_eq!(n.method.as_deref(), Some("NOTIFY"));
    assert_eq!(n.nts.as_deref(), Some("ssdp:alive"));
    assert_eq!(
        n.server.as_deref(),
        Some("Debian/12 DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.2")
    );
    assert_eq!(
        n.nt.as_deref(),
        Some("urn:schemas-upnp-org:device:MediaServer:1")
    );
    assert_eq!(
        n.usn_uuid.as_deref(),
        Some("4d696e69-444c-164e-9d41-b827eb000001")
    );
    assert_eq!(
        n.usn_type.as_deref(),
        Some("urn:schemas-upnp-org:device:MediaServer:1")
    );
    assert_eq!(
        n.location.as_deref(),
        Some("http://10.0.0.7:8200/rootDesc.xml?token=*")
    );
    let recs = run(&Ssdp, Transport::Udp, 1900, &[(C, SEARCH), (S, ANSWER)]);
    let s = ssdp(&recs);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].method.as_deref(), Some("M-SEARCH"));
    assert_eq!(s[0].st.as_deref(), Some("ssdp:all"));
    assert_eq!(
        s[0].user_agent.as_deref(),
        Some("Linux/6.1 UPnP/2.0 async_upnp_client/0.49.0")
    );
    assert_eq!(s[1].status_code, Some(200));
    assert_eq!(s[1].direction, Some(S));
    assert_eq!(s[1].st.as_deref(), Some("upnp:rootdevice"));
    assert_eq!(s[1].usn_type.as_deref(), Some("upnp:rootdevice"));
    assert_eq!(
        s[1].location.as_deref(),
        Some("http://10.0.0.7:8200/rootDesc.xml")
    );
}

#[test]
fn bounds_and_garbage() {
    let mut big = b"NOTIFY * HTTP/1.1\r\nSERVER: ".to_vec();
    big.extend(std::iter::repeat_n(b'A', 20_000));
    big.extend_from_slice(b"\r\n\r\n");
    let recs = run(&Ssdp, Transport::Udp, 1900, &[(C, &big)]);
    assert!(ssdp(&recs)[0].server.as_ref().unwrap().len() <= MAX_VALUE);
    let many: Vec<(Direction, &[u8])> = (0..MAX_MESSAGES + 5).map(|_| (C, NOTIFY)).collect();
    let recs = run(&Ssdp, Transport::Udp, 1900, &many);
    assert_eq!(ssdp(&recs).len(), MAX_MESSAGES as usize);
    let garbage: Vec<u8> = (0..=255u8).cycle().take(700).collect();
    run_forced(&Ssdp, Transport::Udp, 1900, &[(C, &garbage)]);
    assert!(never_panics(&Ssdp, Transport::Udp, 1900, NOTIFY) > 0);
    assert!(never_panics(&Ssdp, Transport::Udp, 1900, ANSWER) > 0);
    for cut in 0..NOTIFY.len() {
        run_forced(&Ssdp, Transport::Udp, 1900, &[(C, &NOTIFY[..cut])]);
    }
}
