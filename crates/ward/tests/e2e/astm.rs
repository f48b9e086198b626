//! ASTM E1381/E1394 (CLSI LIS1-A/LIS2-A2) laboratory traffic (issue 21), on a
//! capture made by two independent implementations: the PyPI `astm`
//! package's client (the instrument, 127.0.0.1) and server (the LIS,
//! 127.0.0.2) on loopback, recorded by `scripts/astm-capture`. The instrument
//! is identified from its H record; the canary patient data and result values
//! it sent are stored nowhere.

use crate::common::*;
use crate::privacy::assert_canaries_never_stored;
use std::path::PathBuf;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/astm/astm-loopback.pcap")
}

#[test]
fn astm_instrument_identified_from_the_astm_package_capture() {
    let dir = scratch("astm-identity");
    let (inv, events) = analyze(&fixture(), &dir);
    let msgs = records(&events, "astm");
    // Two sessions: one record per frame, then 64-byte frames (ETB).
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    for m in &msgs {
        assert_eq!(s(m, "direction"), "to_server");
        assert_eq!(s(m, "sender_name"), "Cobalyzer 9000");
        assert_eq!(s(m, "sender_version"), "4.2.1");
        assert_eq!(s(m, "sender_serial"), "SN-88123");
        assert_eq!(s(m, "receiver_id"), "LIS-HOST");
        assert_eq!(s(m, "processing_id"), "P");
        assert_eq!(s(m, "version"), "LIS2-A2");
        assert_eq!(s(m, "termination_code"), "N");
        let c = &m["counts"];
        let n = |k: &str| c[k].as_u64().unwrap_or(0);
        assert_eq!(
            (
                n("header"),
                n("patient"),
                n("order"),
                n("result"),
                n("comment"),
                n("terminator")
            ),
            (1, 1, 1, 2, 1, 1),
            "{m:#}"
        );
        assert_eq!(m["checksum_errors"], 0);
        assert_eq!(m["carries_phi"], true);
    }
    assert_eq!(msgs[0]["frames"], 7, "one frame per record");
    assert!(msgs[1]["frames"].as_u64().unwrap() > 7, "64-byte frames");
    assert!(
        records(&events, "weird")
            .iter()
            .all(|w| s(w, "source") != "astm"),
        "no ASTM weirds on a well-formed conversation"
    );

    let analyzer = device(&inv, "127.0.0.1");
    let lis = device(&inv, "127.0.0.2");
    println!(
        "instrument: category {} model {} firmware {} applications {:?}",
        analyzer["category"],
        analyzer["identity"]["model"],
        analyzer["identity"]["firmware"],
        strings(&analyzer["applications"])
    );
    assert_eq!(analyzer["category"], "lab_analyzer", "{analyzer:#}");
    assert_eq!(analyzer["identity"]["model"], "Cobalyzer 9000");
    assert_eq!(analyzer["identity"]["firmware"], "4.2.1");
    assert!(strings(&analyzer["applications"])
        .contains(&"astm sender=Cobalyzer 9000 version=4.2.1 serial=SN-88123"));
    assert!(strings(&analyzer["roles"]).contains(&"astm-instrument"));
    assert!(strings(&lis["roles"]).contains(&"astm-host"));
    assert!(strings(&lis["applications"]).contains(&"astm receiver=LIS-HOST"));
    assert!(strings(&lis["services_offered"]).contains(&"astm/tcp/15200"));
}

#[test]
fn astm_patient_and_result_canaries_never_stored() {
    assert_canaries_never_stored(
        &fixture(),
        &[
            "CANARY",
            "ZEBULON",
            "QUIXANDER",
            "PID-CANARY-7731",
            "19070413",
            "987.654",
            "CANARYVALUE-31",
            "mmol/L",
        ],
        "astm",
    );
}
