//! `ward risk` on the bundled sample: exposures found from the traffic, scored
//! by clinical impact, each factor with evidence (flow, packet time) and a fix.

use crate::common::*;

#[test]
fn sample_risk_is_explained() {
    let file = repo().join("samples/hospital-room.pcap");
    let dir = scratch("risk");
    let db = dir.join("ward.db");
    let db = db.to_str().unwrap();
    assert!(
        ward(&["analyze", "--quiet", "--db", db, file.to_str().unwrap()])
            .status
            .success()
    );
    let out = ward(&["risk", "--json", "--db", db]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("risk JSON");
    let score = |v: &serde_json::Value| v["score"].as_u64().unwrap();
    assert!(
        all.windows(2).all(|w| score(&w[0]) >= score(&w[1])),
        "highest risk first"
    );
    let find = |name: &str| {
        all.iter()
            .find(|d| d["names"].to_string().contains(name))
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let kinds = |d: &serde_json::Value| -> Vec<String> {
        d["factors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["finding"]["kind"].as_str().unwrap().to_string())
            .collect()
    };

    // The infusion pump's web UI took `admin` with its default password: the top risk.
    let pump = find("ALARIS-PC-07");
    assert_eq!(pump["category"], "infusion pump");
    assert_eq!(kinds(pump)[0], "default_credential", "{pump}");
    assert!(
        score(pump) >= 50 && score(pump) == score(&all[0]),
        "{}",
        score(pump)
    );
    // The patient monitor sends HL7 in cleartext; the switch answers SNMP `public`.
    assert!(kinds(find("INTELLIVUE-ICU3")).contains(&"cleartext_phi".to_string()));
    assert!(kinds(find("icu-sw-01")).contains(&"default_credential".to_string()));

    for d in &all {
        let factors = d["factors"].as_array().unwrap();
        assert_eq!(
            score(d) == 0,
            factors.is_empty(),
            "a score comes only from factors: {d}"
        );
        let points: f64 = factors.iter().map(|f| f["points"].as_f64().unwrap()).sum();
        assert!(
            (points - score(d) as f64).abs() < 1.0,
            "factor points add up to the score: {d}"
        );
        for f in factors {
            let fi = &f["finding"];
            assert!(!fi["remediation"].as_str().unwrap().is_empty(), "{fi}");
            let ev = fi["evidence"].as_array().unwrap();
            assert!(!ev.is_empty(), "{fi}");
            // Traffic findings point at a flow and a packet time.
            if fi["kind"] != "known_vulnerability" && fi["kind"] != "known_exploited" {
                assert!(ev[0]["at"].as_str().unwrap().starts_with("flow "), "{fi}");
                assert!(ev[0]["first_seen"].as_i64().unwrap() > 0, "{fi}");
            }
        }
    }
    // The text view says the same for people.
    let text = ward(&["risk", "--db", db, "--top", "3"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("ALARIS-PC-07")
            && text.contains("evidence: ")
            && text.contains("fix: ")
            && text.contains("first seen 20"),
        "{text}"
    );
}

#[test]
fn risk_without_a_database_is_a_clear_error() {
    let dir = scratch("risk-nodb");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["risk", "--db", dir.join("missing.db").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("ward: error: no database at") && err.lines().count() == 1,
        "{err}"
    );
}
