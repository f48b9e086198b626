//! Unit tests: Hello / Probe / ProbeMatches / Bye fields, type resolution,
//! patient-scope redaction, DPWS and UPnP descriptions, hostile XML
//! (entities, huge attributes, deep nesting, truncation), bounds, garbage.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::records::DescriptionKind;
use model::Record;

const C: Direction = Direction::ToServer;

const HELLO: &[u8] = br#"<?xml version='1.0' encoding='UTF-8'?>
<s12:Envelope xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" xmlns:s12="http://www.w3.org/2003/05/soap-envelope"><s12:Header><wsa:To>urn:docs-oasis-open-org:ws-dd:ns:discovery:2009:01</wsa:To><wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Hello</wsa:Action><wsa:MessageID>urn:uuid:21513085-e7c0-4d4c-9604-0456d91f77a7</wsa:MessageID></s12:Header><s12:Body><wsd:Hello><wsa:EndpointReference><wsa:Address>urn:uuid:7731a5dc-0b1e-4c2a-9d3e-77310000a5dc</wsa:Address></wsa:EndpointReference><wsd:Types xmlns:ns0="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01" xmlns:ns1="http://standards.ieee.org/downloads/11073/11073-20702-2016">ns0:Device ns1:MedicalDevice</wsd:Types><wsd:Scopes>sdc.ctxt.loc:/sdc.ctxt.loc.detail/ward?fac=ward&amp;poc=w7 sdc.ctxt.pat:/urn%3Aoid%3A1.2.3/MRN-CANARY-7731 sdc.mds.pkp:1.2.840.10004.20701.1.1</wsd:Scopes><wsd:XAddrs>http://10.78.0.2:34427/7731a5dc?session=abc</wsd:XAddrs><wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:Hello></s12:Body></s12:Envelope>"#;

const PROBE: &[u8] = br#"<s12:Envelope xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" xmlns:s12="http://www.w3.org/2003/05/soap-envelope"><s12:Header><wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/Probe</wsa:Action></s12:Header><s12:Body><wsd:Probe><wsd:Types xmlns:m="http://standards.ieee.org/downloads/11073/11073-20702-2016">m:MedicalDevice</wsd:Types></wsd:Probe></s12:Body></s12:Envelope>"#;

const MATCHES: &[u8] = br#"<s12:Envelope xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:wsd="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01" xmlns:s12="http://www.w3.org/2003/05/soap-envelope" xmlns:dpws="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01"><s12:Header><wsa:Action>http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01/ProbeMatches</wsa:Action></s12:Header><s12:Body><wsd:ProbeMatches><wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:one</wsa:Address></wsa:EndpointReference><wsd:Types>dpws:Device</wsd:Types><wsd:XAddrs>http://10.0.0.1/a http://10.0.0.1/b</wsd:XAddrs><wsd:MetadataVersion>7</wsd:MetadataVersion></wsd:ProbeMatch><wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:two</wsa:Address></wsa:EndpointReference></wsd:ProbeMatch></wsd:ProbeMatches></s12:Body></s12:Envelope>"#;

fn wsd(records: &[Record]) -> Vec<&WsdRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Wsd(w) => Some(w),
            _ => None,
        })
        .collect()
}

#[test]
fn probe_needs_the_discovery_namespace() {
    assert_eq!(Wsd.probe(C, HELLO, false), Probe::Match);
    assert_eq!(Wsd.probe(C, MATCHES, false), Probe::Match);
    assert_eq!(Wsd.probe(C, b"<html>hello</html>", true), Probe::NoMatch);
    assert_eq!(Wsd.probe(C, b"NOTIFY * HTTP/1.1\r\n", true), Probe::NoMatch);
    assert_eq!(Wsd.probe(C, b"", true), Probe::NeedMore);
}

#[test]
fn hello_fields() {
    let recs = run(&Wsd, Transport::Udp, 3702, &[(C, HELLO)]);
    let w = wsd(&recs);
    assert_eq!(w.len(), 1);
    let h = w[0];
    assert_eq!(h.action.as_deref(), Some("Hello"));
    assert_eq!(
        h.endpoint.as_deref(),
        Some("urn:uuid:7731a5dc-0b1e-4c2a-9d3e-77310000a5dc")
    );
    assert_eq!(h.types.len(), 2);
    assert_eq!(
        h.types[0].namespace,
        "http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01"
    );
    assert_eq!(h.types[0].local, "Device");
    assert_eq!(
        h.types[1].namespace,
        "http://standards.ieee.org/downloads/11073/11073-20702-2016"
    );
    assert_eq!(h.types[1].local, "MedicalDevice");
    assert_eq!(h.scopes.len(), 3);
    assert_eq!(
        h.scopes[0],
        "sdc.ctxt.loc:/sdc.ctxt.loc.detail/ward?fac=ward&poc=w7"
    );
    // The patient scope never leaves the analyzer.
    assert_eq!(h.scopes[1], "sdc.ctxt.pat:*");
    assert_eq!(h.xaddrs, vec!["http://10.78.0.2:34427/7731a5dc?session=*"]);
    assert_eq!(h.metadata_version, Some(1));
    let json = serde_json_like(&recs);
    assert!(!json.contains("MRN-CANARY"), "{json}");
}

fn serde_json_like(recs: &[Record]) -> String {
    format!("{recs:?}")
}

#[test]
fn probe_and_matches() {
    let recs = run(&Wsd, Transport::Udp, 3702, &[(C, PROBE)]);
    let p = wsd(&recs)[0];
    assert_eq!(p.action.as_deref(), Some("Probe"));
    assert_eq!(p.types[0].local, "MedicalDevice");
    assert!(p.endpoint.is_none());
    let recs = run(&Wsd, Transport::Udp, 40000, &[(C, MATCHES)]);
    let m = wsd(&recs)[0];
    assert_eq!(m.action.as_deref(), Some("ProbeMatches"));
    assert_eq!(m.matches, 2);
    // The first match's fields.
    assert_eq!(m.endpoint.as_deref(), Some("urn:uuid:one"));
    assert_eq!(
        m.types[0].namespace,
        "http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01"
    );
    assert_eq!(m.xaddrs.len(), 2);
    assert_eq!(m.metadata_version, Some(7));
}

#[test]
fn body_element_names_the_message_without_action() {
    let bye = br#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><e:Body><d:Bye><a:EndpointReference xmlns:a="x"><a:Address>urn:uuid:b</a:Address></a:EndpointReference></d:Bye></e:Body></e:Envelope>"#;
    let recs = run(&Wsd, Transport::Udp, 3702, &[(C, bye)]);
    let b = wsd(&recs)[0];
    assert_eq!(b.action.as_deref(), Some("Bye"));
    assert_eq!(b.endpoint.as_deref(), Some("urn:uuid:b"));
}

#[test]
fn not_an_envelope_is_malformed() {
    let doc = br#"<x xmlns="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"/>"#;
    assert!(parse(C, doc).is_none());
    let other = br#"<s:Envelope xmlns:s="s"><s:Body><s:Other/></s:Body></s:Envelope>"#;
    assert!(parse(C, other).is_none());
}

#[test]
fn bounds() {
    let mut many = String::from(
        r#"<s:Envelope xmlns:s="s"><s:Body><d:Hello xmlns:d="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"><d:Scopes>"#,
    );
    for i in 0..1000 {
        many.push_str(&format!("urn:scope:{i} "));
    }
    many.push_str(&format!(
        "</d:Scopes><d:XAddrs>{}</d:XAddrs></d:Hello></s:Body></s:Envelope>",
        "h".repeat(5000)
    ));
    let r = parse(C, many.as_bytes()).expect("parsed");
    assert_eq!(r.scopes.len(), MAX_LIST);
    assert!(r.xaddrs[0].len() <= MAX_VALUE);
    let msgs: Vec<(Direction, &[u8])> = (0..MAX_MESSAGES + 10).map(|_| (C, HELLO)).collect();
    let recs = run(&Wsd, Transport::Udp, 3702, &msgs);
    assert_eq!(wsd(&recs).len(), MAX_MESSAGES as usize);
}

/// Hostile documents: a DTD with nested entities (billion laughs), a huge
/// attribute, nesting far past the cap, truncations. Nothing panics,
/// entities are never expanded, and what is kept stays bounded.
#[test]
fn hostile_xml() {
    let mut lol = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        lol.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    lol.push_str("]><s:Envelope xmlns:s=\"s\"><s:Body><d:Hello xmlns:d=\"http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01\"><d:Types>&lol9;</d:Types><d:Scopes>&lol9; &amp;x &#65;&#x42;</d:Scopes></d:Hello></s:Body></s:Envelope>");
    let r = parse(C, lol.as_bytes()).expect("parsed");
    assert_eq!(r.types[0].local, "&lol9;");
    assert_eq!(r.scopes, vec!["&lol9;", "&x", "AB"]);
    let d = describe::extract(
        format!(
            "{}<root><device><manufacturer>&lol9;</manufacturer></device></root>",
            &lol[..lol.find("<s:Envelope").unwrap()]
        )
        .as_bytes(),
    )
    .expect("upnp");
    assert_eq!(d.manufacturer.as_deref(), Some("&lol9;"));

    let huge = format!(
        "<s:Envelope xmlns:s=\"s\" a=\"{}\"><s:Body><d:Bye xmlns:d=\"http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01\"/></s:Body></s:Envelope>",
        "x".repeat(60_000)
    );
    assert_eq!(
        parse(C, huge.as_bytes()).unwrap().action.as_deref(),
        Some("Bye")
    );
    let unterminated = format!("<s:Envelope a=\"{}", "x".repeat(60_000));
    assert!(parse(C, unterminated.as_bytes()).is_none());

    let deep = format!(
        "<s:Envelope xmlns:s=\"s\"><s:Body>{}<d:Hello xmlns:d=\"http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01\"/>",
        "<a>".repeat(50_000)
    );
    let _ = parse(C, deep.as_bytes());
    assert!(describe::extract(
        format!(
            "<root>{}<device><modelName>x</modelName></device>",
            "<device>".repeat(50_000)
        )
        .as_bytes()
    )
    .is_none());

    for cut in 0..HELLO.len() {
        let _ = parse(C, &HELLO[..cut]);
        let _ = describe::extract(&DPWS[..cut.min(DPWS.len())]);
    }
    assert!(never_panics(&Wsd, Transport::Udp, 3702, PROBE) > 0);
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    run_forced(&Wsd, Transport::Udp, 3702, &[(C, &garbage)]);
    let _ = describe::extract(&garbage);
}

const DPWS: &[u8] = br#"<?xml version='1.0' encoding='UTF-8'?>
<s12:Envelope xmlns:s12="http://www.w3.org/2003/05/soap-envelope" xmlns:dpws="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01" xmlns:mex="http://schemas.xmlsoap.org/ws/2004/09/mex" xmlns:wsa="http://www.w3.org/2005/08/addressing"><s12:Body><mex:Metadata><mex:MetadataSection Dialect="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01/ThisModel"><dpws:ThisModel><dpws:Manufacturer xml:lang="en">Wardtest &amp; Co</dpws:Manufacturer><dpws:ManufacturerUrl>http://x/</dpws:ManufacturerUrl><dpws:ModelName>InfuWard</dpws:ModelName><dpws:ModelNumber>7</dpws:ModelNumber><dpws:ModelUrl>http://x/m?id=1</dpws:ModelUrl></dpws:ThisModel></mex:MetadataSection><mex:MetadataSection Dialect="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01/ThisDevice"><dpws:ThisDevice><dpws:FriendlyName>Pump 3</dpws:FriendlyName><dpws:FirmwareVersion>4.2</dpws:FirmwareVersion><dpws:SerialNumber>SN1</dpws:SerialNumber></dpws:ThisDevice></mex:MetadataSection><mex:MetadataSection Dialect="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01/Relationship"><dpws:Relationship Type="http://docs.oasis-open.org/ws-dd/ns/dpws/2009/01/host"><dpws:Host><wsa:EndpointReference><wsa:Address>urn:uuid:host</wsa:Address></wsa:EndpointReference><dpws:Types>dpws:Device</dpws:Types></dpws:Host><dpws:Hosted><wsa:EndpointReference><wsa:Address>http://10.0.0.1/Get</wsa:Address></wsa:EndpointReference><dpws:Types xmlns:g="http://standards.ieee.org/downloads/11073/11073-20701-2018">g:GetService g:ContextService</dpws:Types><dpws:ServiceId>Get</dpws:ServiceId></dpws:Hosted></dpws:Relationship></mex:MetadataSection></mex:Metadata><pm:PatientContextState xmlns:pm="p"><pm:Givenname>CanaryGiven7731</pm:Givenname></pm:PatientContextState></s12:Body></s12:Envelope>"#;

#[test]
fn dpws_metadata_identity_only() {
    let d = describe::extract(DPWS).expect("dpws");
    assert_eq!(d.kind, DescriptionKind::Dpws);
    assert_eq!(d.manufacturer.as_deref(), Some("Wardtest & Co"));
    assert_eq!(d.model_name.as_deref(), Some("InfuWard"));
    assert_eq!(d.model_number.as_deref(), Some("7"));
    assert_eq!(d.model_url.as_deref(), Some("http://x/m?id=*"));
    assert_eq!(d.friendly_name.as_deref(), Some("Pump 3"));
    assert_eq!(d.firmware_version.as_deref(), Some("4.2"));
    assert_eq!(d.serial_number.as_deref(), Some("SN1"));
    assert_eq!(d.udn.as_deref(), Some("urn:uuid:host"));
    assert_eq!(
        d.service_types,
        vec![
            "http://standards.ieee.org/downloads/11073/11073-20701-2018#GetService",
            "http://standards.ieee.org/downloads/11073/11073-20701-2018#ContextService"
        ]
    );
    assert!(!format!("{d:?}").contains("Canary"));
}

#[test]
fn upnp_description() {
    let doc = br#"<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major></specVersion><device><deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType><friendlyName>Ward 7 Media</friendlyName><manufacturer>Justin Maggard</manufacturer><modelDescription>MiniDLNA on Linux</modelDescription><modelName>Windows Media Connect compatible (MiniDLNA)</modelName><modelNumber>1.3.2</modelNumber><serialNumber>WARD-7731</serialNumber><UDN>uuid:4d696e69</UDN><serviceList><service><serviceType>urn:schemas-upnp-org:service:ContentDirectory:1</serviceType></service></serviceList></device></root>"#;
    let d = describe::extract(doc).expect("upnp");
    assert_eq!(d.kind, DescriptionKind::Upnp);
    assert_eq!(d.friendly_name.as_deref(), Some("Ward 7 Media"));
    assert_eq!(d.manufacturer.as_deref(), Some("Justin Maggard"));
    assert_eq!(d.model_number.as_deref(), Some("1.3.2"));
    assert_eq!(d.serial_number.as_deref(), Some("WARD-7731"));
    assert_eq!(d.udn.as_deref(), Some("uuid:4d696e69"));
    assert_eq!(
        d.device_type.as_deref(),
        Some("urn:schemas-upnp-org:device:MediaServer:1")
    );
    assert_eq!(
        d.service_types,
        vec!["urn:schemas-upnp-org:service:ContentDirectory:1"]
    );
    assert!(describe::extract(b"<html><body>hi</body></html>").is_none());
}
