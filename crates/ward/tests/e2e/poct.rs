//! CLSI POCT1-A2 point-of-care traffic (issue 21), on a loopback capture of
//! a device (127.0.0.1) and a data manager (127.0.0.2) replaying the
//! standard's conversation with published example messages
//! (`scripts/poct-capture`, sources in its header). The device is identified
//! from its HEL.R01 DEV segment; the canary patient, result and operator
//! values of its observations are stored nowhere.

use crate::common::*;
use crate::privacy::assert_canaries_never_stored;
use serde_json::Value;
use std::path::PathBuf;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/poct/poct-loopback.pcap")
}

fn facts(d: &Value) -> Vec<(String, String)> {
    d["facts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (s(f, "kind").to_string(), s(f, "value").to_string()))
        .collect()
}

#[test]
fn poct_device_identified_from_its_hello() {
    let dir = scratch("poct-identity");
    let (inv, events) = analyze(&fixture(), &dir);
    let msgs = records(&events, "poct1a");
    let types: Vec<(&str, &str)> = msgs
        .iter()
        .map(|m| (s(m, "direction"), s(m, "message_type")))
        .collect();
    println!("poct1a messages: {types:?}");
    let up = |t: &'static str| ("to_server", t);
    let down = |t: &'static str| ("to_client", t);
    assert_eq!(
        types,
        vec![
            up("HEL.R01"),
            down("ACK.R01"),
            up("DST.R01"),
            down("ACK.R01"),
            down("REQ.R01"),
            up("OBS.R01"),
            down("ACK.R01"),
            up("OBS.R02"),
            down("ACK.R01"),
            up("EOT.R01"),
            down("ACK.R01"),
            down("END.R01"),
            up("ACK.R01"),
        ]
    );
    let hel = msgs[0];
    let d = &hel["device"];
    for (k, v) in [
        ("device_id", "GLU-ICU4-07"),
        ("vendor_id", "ACMEPOC"),
        ("model_id", "GlucoStat 300"),
        ("serial_id", "GS3-0042-1187"),
        ("manufacturer_name", "Acme Point of Care"),
        ("sw_version", "4.12.7"),
        ("hw_version", "B2"),
        ("device_name", "ICU4 meter 7"),
    ] {
        assert_eq!(s(d, k), v, "{k}: {hel:#}");
    }
    assert_eq!(s(hel, "control_id"), "1001");
    assert_eq!(s(hel, "version_id"), "POCT1");
    let phi: Vec<bool> = msgs.iter().map(|m| m["carries_phi"] == true).collect();
    assert_eq!(phi.iter().filter(|&&p| p).count(), 1, "only OBS.R01");
    assert!(msgs[5]["carries_phi"] == true);
    assert_eq!(msgs[5]["counts"]["patient"], 1);
    assert_eq!(msgs[5]["counts"]["observation"], 1);
    assert!(msgs.iter().all(|m| m["truncated"] == false));
    assert!(
        records(&events, "weird")
            .iter()
            .all(|w| s(w, "source") != "poct1a"),
        "no POCT1-A weirds on a well-formed conversation"
    );

    let meter = device(&inv, "127.0.0.1");
    let manager = device(&inv, "127.0.0.2");
    let f = facts(meter);
    println!(
        "device: category {} identity {} facts {f:?}",
        meter["category"], meter["identity"]
    );
    assert_eq!(meter["category"], "lab_analyzer", "{meter:#}");
    assert_eq!(meter["identity"]["model"], "GlucoStat 300");
    assert_eq!(meter["identity"]["firmware"], "4.12.7");
    for (k, v) in [
        ("manufacturer", "Acme Point of Care"),
        ("model", "GlucoStat 300"),
        ("firmware", "4.12.7"),
        ("serial", "GS3-0042-1187"),
        ("role", "poct-device"),
        ("cleartext_phi", "poct1a"),
        (
            "application",
            "poct1a device=GLU-ICU4-07 vendor=ACMEPOC manufacturer=Acme Point of Care \
             model=GlucoStat 300 serial=GS3-0042-1187 sw=4.12.7 hw=B2 name=ICU4 meter 7",
        ),
    ] {
        assert!(
            f.iter().any(|(a, b)| a == k && b == v),
            "{k}={v} missing: {f:?}"
        );
    }
    let m = facts(manager);
    assert!(m
        .iter()
        .any(|(a, b)| a == "role" && b == "poct-data-manager"));
    assert!(m.iter().any(|(a, b)| a == "cleartext_phi" && b == "poct1a"));
}

#[test]
fn poct_patient_and_result_canaries_never_stored() {
    assert_canaries_never_stored(
        &fixture(),
        &[
            "CANARY",
            "Canary",
            "PT-CANARY-5513",
            "CanaryPatient5513",
            "19030517",
            "7.77",
            "CANARYRESULT5513",
            "CANARYNOTE5513",
            "OPR-CANARY-5513",
            "CanaryOperator5513",
            "5.55",
        ],
        "poct1a",
    );
}
