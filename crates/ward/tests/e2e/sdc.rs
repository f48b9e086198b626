//! IEEE 11073 SDC (issue 21) on a capture of the PyPI sdc11073 provider
//! and consumer in two network namespaces (made by `scripts/sdc-capture`):
//! WS-Discovery Hello/Probe/ProbeMatches/Bye against tshark's XML
//! dissector, the provider's identity from its DPWS metadata (read by the
//! HTTP analyzer's description hook) in the inventory, and the planted
//! patient-context canaries and metric value stored nowhere. Also the UPnP
//! device description of the SSDP fixture (MiniDLNA's /rootDesc.xml)
//! against tshark. The oracle tests skip when tshark is absent.

use crate::common::*;
use crate::privacy::assert_canaries_never_stored;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/sdc/sdc-netns.pcap")
}

const PROVIDER: &str = "10.78.0.2";
const CONSUMER: &str = "10.78.0.1";

/// XML's five predefined entities decoded (tshark shows character data raw).
fn unescape(v: &str) -> String {
    v.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The `show` attribute of a PDML line, unescaped once (PDML's own escaping).
fn show(line: &str) -> Option<String> {
    let start = line.find(" show=\"")? + 7;
    let end = start + line[start..].find('"')?;
    Some(unescape(&line[start..end]))
}

/// One packet of tshark's PDML: time (µs), source IP, and for each XML
/// element the character data of its leaf occurrences, in order, with the
/// namespace bindings its attributes declared.
#[derive(Default, Debug)]
struct Packet {
    us: i64,
    src: String,
    cdata: Vec<(String, String)>,
    xmlns: BTreeMap<String, String>,
}

fn tshark_xml(file: &Path, filter: &str) -> Vec<Packet> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-o", "xml.heuristic:TRUE", "-o", "xml.heuristic_udp:TRUE"])
        .args(["-Y", filter, "-T", "pdml"])
        .output()
        .expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut packets = Vec::new();
    let mut cur: Option<Packet> = None;
    let mut tag = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let l = line.trim_start();
        if l.starts_with("<packet>") {
            cur = Some(Packet::default());
            continue;
        }
        let Some(p) = cur.as_mut() else { continue };
        if l.starts_with("</packet>") {
            packets.push(cur.take().unwrap());
        } else if l.starts_with("<field name=\"frame.time_epoch\"") {
            let v = show(l).unwrap();
            let (secs, frac) = v.split_once('.').unwrap();
            p.us = secs.parse::<i64>().unwrap() * 1_000_000 + frac[..6].parse::<i64>().unwrap();
        } else if l.starts_with("<field name=\"ip.src\"") {
            p.src = show(l).unwrap();
        } else if l.starts_with("<field name=\"xml.tag\"") {
            // `<prefix:Local ...` : the local name.
            let v = show(l).unwrap();
            let name = v[1..]
                .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .next()
                .unwrap_or("");
            tag = name.rsplit(':').next().unwrap_or("").to_string();
        } else if l.starts_with("<field name=\"xml.attribute\"") {
            let v = show(l).unwrap();
            if let Some((k, val)) = v.strip_prefix("xmlns:").and_then(|a| a.split_once('=')) {
                p.xmlns
                    .insert(k.to_string(), val.trim_matches('"').to_string());
            }
        } else if l.starts_with("<field name=\"xml.cdata\"") {
            p.cdata.push((tag.clone(), unescape(&show(l).unwrap())));
        }
    }
    packets
}

const WSD_FIELDS: &[&str] = &[
    "action",
    "endpoint",
    "types (local)",
    "types (namespace)",
    "scopes",
    "xaddrs",
    "metadata_version",
];

fn tshark_wsd(file: &Path) -> BTreeMap<(i64, String), Vec<String>> {
    let mut msgs = BTreeMap::new();
    for p in tshark_xml(file, "udp && xml") {
        let first = |t: &str| {
            p.cdata
                .iter()
                .find(|(k, _)| k == t)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let words = |t: &str| first(t).split_whitespace().collect::<Vec<_>>().join(" ");
        let types: Vec<(String, String)> = first("Types")
            .split_whitespace()
            .map(|q| match q.split_once(':') {
                Some((pre, l)) => (p.xmlns.get(pre).cloned().unwrap_or_default(), l.to_string()),
                None => (String::new(), q.to_string()),
            })
            .collect();
        let action = first("Action");
        let vals = vec![
            action.rsplit('/').next().unwrap_or("").to_string(),
            first("Address"),
            types
                .iter()
                .map(|t| t.1.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            types
                .iter()
                .map(|t| t.0.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            words("Scopes"),
            words("XAddrs"),
            first("MetadataVersion"),
        ];
        msgs.insert((p.us, p.src.clone()), vals);
    }
    msgs
}

fn sender_ip(r: &Value) -> String {
    let end = if s(r, "direction") == "to_client" {
        "server"
    } else {
        "client"
    };
    r["flow"][end]["ip"].as_str().expect("flow").to_string()
}

fn ward_wsd(events: &[Value]) -> BTreeMap<(i64, String), Vec<String>> {
    let mut msgs = BTreeMap::new();
    for r in records(events, "wsd") {
        let list = |k: &str| strings(&r[k]).join(" ");
        let types = r["types"].as_array().cloned().unwrap_or_default();
        let tf = |k: &str| {
            types
                .iter()
                .map(|t| s(t, k).to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let vals = vec![
            s(r, "action").to_string(),
            s(r, "endpoint").to_string(),
            tf("local"),
            tf("namespace"),
            list("scopes"),
            list("xaddrs"),
            r["metadata_version"]
                .as_u64()
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ];
        msgs.insert((r["ts"].as_i64().expect("ts"), sender_ip(r)), vals);
    }
    msgs
}

#[test]
fn sdc_wsd_fields_agree_with_tshark() {
    if !have("tshark") {
        return;
    }
    let file = fixture();
    let dir = scratch("sdc-oracle");
    let (_inv, events) = analyze(&file, &dir);
    let oracle = tshark_wsd(&file);
    let ours = ward_wsd(&events);
    assert!(oracle.len() >= 15, "{oracle:#?}");
    let kinds: std::collections::BTreeSet<&str> = ours.values().map(|v| v[0].as_str()).collect();
    for k in ["Hello", "Probe", "ProbeMatches", "Bye"] {
        assert!(kinds.contains(k), "{k} in {kinds:?}");
    }
    let pct = field_agreement("wsd", "message", WSD_FIELDS, &oracle, &ours);
    assert!(pct >= 95.0, "agreement {pct:.1}%");
}

#[test]
fn sdc_provider_identified_from_dpws_metadata_and_discovery() {
    let dir = scratch("sdc-identity");
    let (inv, events) = analyze(&fixture(), &dir);
    let desc = records(&events, "description");
    assert_eq!(desc.len(), 1, "one GetMetadata answer: {desc:#?}");
    let d = desc[0];
    assert_eq!(s(d, "kind"), "dpws");
    assert_eq!(s(d, "manufacturer"), "Wardtest Medical GmbH");
    assert_eq!(s(d, "model_name"), "InfuWard SDC 7731");
    assert_eq!(s(d, "model_number"), "IW-7731-B");
    assert_eq!(s(d, "friendly_name"), "Ward7 Bed3 Pump");
    assert_eq!(s(d, "firmware_version"), "fw-4.2.7731");
    assert_eq!(s(d, "serial_number"), "SN-IW-0007731");
    assert!(
        strings(&d["service_types"])
            .iter()
            .any(|t| t.ends_with("#GetService")),
        "{d:#}"
    );

    let p = device(&inv, PROVIDER);
    let id = &p["identity"];
    println!(
        "sdc provider: model {} firmware {} hostnames {} roles {} category {}",
        id["model"], id["firmware"], p["hostnames"], p["roles"], p["category"]
    );
    assert_eq!(id["model"], "InfuWard SDC 7731", "{p:#}");
    assert_eq!(id["firmware"], "fw-4.2.7731", "{p:#}");
    assert!(
        strings(&p["hostnames"]).contains(&"Ward7 Bed3 Pump"),
        "{p:#}"
    );
    assert_eq!(p["category"], "medical_device", "{p:#}");
    // Each identity conclusion says where it came from (dpws) and which flow.
    for (field, value) in [
        ("vendor", "Wardtest Medical GmbH"),
        ("model", "InfuWard SDC 7731"),
        ("firmware", "fw-4.2.7731"),
    ] {
        let c = id["conclusions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["field"] == field)
            .unwrap_or_else(|| panic!("no {field} conclusion in {id:#}"));
        println!(
            "  {field} = {} ({}; {})",
            c["value"], c["why"], c["evidence"]
        );
        assert_eq!(c["value"], value);
        assert!(s(c, "why").contains("(dpws)"), "{c:#}");
        assert!(s(c, "evidence").starts_with("flow "), "{c:#}");
    }
    assert!(
        p.to_string().contains("SN-IW-0007731"),
        "the serial in {p:#}"
    );
    let roles = strings(&p["roles"]);
    assert!(roles.contains(&"sdc-provider"), "{roles:?}");
    assert!(roles.contains(&"dpws-device"), "{roles:?}");
    let apps = strings(&p["applications"]);
    assert!(
        apps.iter()
            .any(|a| a.starts_with("wsd endpoint=urn:uuid:7731a5dc")
                && a.ends_with("types=Device,MedicalDevice")),
        "{apps:?}"
    );
    let c = device(&inv, CONSUMER);
    let croles = strings(&c["roles"]);
    assert!(croles.contains(&"sdc-consumer"), "{croles:?}");
}

#[test]
fn sdc_patient_canaries_and_metric_never_stored() {
    assert_canaries_never_stored(
        &fixture(),
        &[
            "CanaryGiven7731",
            "CanaryFamily7731",
            "MRN-CANARY-7731",
            "1931-07-31",
            "97.73117",
        ],
        "sdc",
    );
}

const UPNP_FIELDS: &[&str] = &["friendlyName", "manufacturer", "modelName", "modelNumber"];

/// MiniDLNA's device description in the SSDP fixture, as tshark's XML
/// dissector shows it (HTTP bodies of type text/xml) and as Ward's
/// description records carry it; keyed by the server's IP and occurrence.
#[test]
fn upnp_description_agrees_with_tshark() {
    if !have("tshark") {
        return;
    }
    let file = repo().join("crates/ward/tests/fixtures/ssdp/ssdp-netns.pcap");
    let dir = scratch("upnp-oracle");
    let (inv, events) = analyze(&file, &dir);
    let mut oracle = BTreeMap::new();
    for p in tshark_xml(&file, "http.response && xml") {
        let first = |t: &str| {
            p.cdata
                .iter()
                .find(|(k, _)| k == t)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        if p.cdata.iter().any(|(k, _)| k == "friendlyName") {
            let n = oracle.len();
            oracle.insert(
                (p.src.clone(), n),
                UPNP_FIELDS.iter().map(|f| first(f)).collect::<Vec<_>>(),
            );
        }
    }
    // The description comes from the HTTP server: the flow's server end.
    let ours: BTreeMap<(String, usize), Vec<String>> = records(&events, "description")
        .iter()
        .filter(|r| s(r, "kind") == "upnp")
        .enumerate()
        .map(|(n, r)| {
            let ip = r["flow"]["server"]["ip"].as_str().unwrap_or("").to_string();
            let vals = [
                "friendly_name",
                "manufacturer",
                "model_name",
                "model_number",
            ]
            .iter()
            .map(|k| s(r, k).to_string())
            .collect();
            ((ip, n), vals)
        })
        .collect();
    assert!(!oracle.is_empty(), "tshark shows the description");
    let pct = field_agreement("upnp description", "document", UPNP_FIELDS, &oracle, &ours);
    assert!(pct >= 95.0, "agreement {pct:.1}%");
    let dev = device(&inv, "10.77.0.2");
    let want = oracle.values().next().unwrap();
    println!(
        "upnp device: model {} hostnames {}",
        dev["identity"]["model"], dev["hostnames"]
    );
    assert!(
        strings(&dev["hostnames"]).contains(&want[0].as_str()),
        "{dev:#}"
    );
    assert!(
        strings(&dev["models"]).contains(&want[2].as_str()),
        "{dev:#}"
    );
}
