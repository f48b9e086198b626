//! Issue 18, acceptance 2, through the CLI: the infusion pump observed in
//! `samples/hospital-room.pcap` (DHCP vendor class "CareFusion Alaris PC
//! 8015") matches ICSMA-17-017-02 after `ward analyze` and `ward feeds
//! import` of the shared advisories; the three devices of the issue, written
//! as a biomed team writes them in a semicolon-separated CMMS export, match
//! the advisories that cover them (lineage Welch Allyn → Hillrom → Baxter,
//! CareFusion → BD, Sigma Spectrum's v8.x branch) with one finding per CVE;
//! declared models give categories; and the declared pump with the observed
//! pump's MAC address is one device, not two.

use crate::common::{repo, scratch, testdata, ward};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&ward(args).stdout).expect("JSON output")
}

/// Advisory ids behind a device's findings of one strength class
/// (`affected`: the version is in the rule or all versions are; `unknown`).
fn advisories(d: &Value, unknown: bool) -> Vec<String> {
    let mut v: Vec<String> = d["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| (m["strength"] == "model_unknown_version") == unknown)
        .flat_map(|m| m["sources"].as_array().unwrap().clone())
        .filter_map(|s| {
            s.as_str()
                .and_then(|s| s.split(' ').next())
                .map(String::from)
        })
        .filter(|s| s != "KEV")
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn observed_and_declared_devices_meet_their_advisories() {
    let Some(data) = testdata() else { return };
    let dir = scratch("advisories");
    let db = dir.join("ward.db");
    let db = db.to_str().unwrap();
    let pcap = repo().join("samples/hospital-room.pcap");
    ward(&["analyze", "--quiet", "--db", db, pcap.to_str().unwrap()]);
    // The whole folder: the KEV schema beside the catalog is skipped with a warning.
    let vuln = data.join("vuln");
    let o = ward(&["feeds", "import", vuln.to_str().unwrap(), "--db", db]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("known_exploited_vulnerabilities_schema.json"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // 1. The observed pump, from its DHCP vendor class alone.
    let all = json(&["advisories", "--db", db, "--json"]);
    let devices = all.as_array().unwrap();
    let pump = devices
        .iter()
        .find(|d| d["key"].as_str().unwrap().contains("f8:c6:78:07:a1:15"))
        .unwrap_or_else(|| panic!("the Alaris pump is a device: {all:#}"));
    assert_eq!(pump["kind"], "observed");
    assert!(
        pump["model"]
            .as_str()
            .unwrap_or("")
            .contains("Alaris PC 8015"),
        "{pump:#}"
    );
    let found = advisories(pump, false)
        .into_iter()
        .chain(advisories(pump, true))
        .collect::<Vec<_>>();
    assert!(found.iter().any(|a| a == "ICSMA-17-017-02"), "{pump:#}");

    // 2. A CMMS export as a biomed team writes it.
    let csv = dir.join("cmms.csv");
    std::fs::write(
        &csv,
        "Asset Tag;Manufacturer;Model Number;Serial Number;Software Version;MAC Address;Department\n\
         BME-1001;Welch Allyn;Connex Spot Monitor;WA1001;1.51;;Med-Surg 4\n\
         BME-1002;BD;Alaris PC 8015;BD1002;9.19;F8-C6-78-07-A1-15;ICU 3\n\
         BME-1003;Baxter;Sigma Spectrum;SS1003;8.00.01;;ICU 3\n\
         BME-1004;Smiths Medical;Medfusion 4000;SM1004;1.1.2;;NICU\n\
         BME-1005;Dräger;Infinity Delta;DR1005;VF9.1;;ICU 3\n",
    )
    .unwrap();
    let o = ward(&["inventory", "import", csv.to_str().unwrap(), "--db", db]);
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("declared devices: 5 new, 0 updated, 0 unchanged, 0 bad rows skipped"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let all = json(&["advisories", "--db", db, "--json"]);
    let devices = all.as_array().unwrap();
    let by_tag = |t: &str| {
        devices
            .iter()
            .find(|d| d["asset_tag"] == t)
            .unwrap_or_else(|| panic!("{t}: {all:#}"))
            .clone()
    };
    // Welch Allyn was bought by Hillrom, Hillrom by Baxter.
    let wa = by_tag("BME-1001");
    assert_eq!(
        advisories(&wa, false),
        ["ICSMA-21-152-01", "ICSMA-24-151-02"],
        "{wa:#}"
    );
    // CareFusion is BD; and the declared pump is the observed one (same MAC): one row.
    let alaris = by_tag("BME-1002");
    assert_eq!(alaris["kind"], "declared+observed", "{alaris:#}");
    assert_eq!(alaris["key"], pump["key"]);
    assert!(
        alaris["linked"]
            .as_str()
            .unwrap()
            .contains("mac f8:c6:78:07:a1:15"),
        "{alaris:#}"
    );
    assert!(
        devices.iter().filter(|d| d["key"] == pump["key"]).count() == 1,
        "one row for the pump"
    );
    assert!(
        advisories(&alaris, false).contains(&"ICSMA-17-017-02".to_string()),
        "{alaris:#}"
    );
    // Sigma Spectrum 8.00.01: through the v8.x branch, version in the rule.
    let sigma = by_tag("BME-1003");
    let m: Vec<&Value> = sigma["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s.as_str().unwrap().starts_with("ICSMA-20-170-04"))
        })
        .collect();
    assert!(!m.is_empty(), "{sigma:#}");
    for m in &m {
        assert_eq!(m["strength"], "model_and_version", "{m:#}");
        assert!(
            m["product"].as_str().unwrap().contains("35700BAX2"),
            "{m:#}"
        );
    }
    // One finding per CVE, whatever the number of sources.
    for d in devices {
        let mut cves: Vec<&str> = d["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["cve"].as_str().unwrap())
            .collect();
        let n = cves.len();
        cves.sort();
        cves.dedup();
        assert_eq!(cves.len(), n, "a CVE listed twice: {d:#}");
    }

    // 3. Declared models give categories; the linked pump is scored once.
    let risk = json(&["risk", "--db", db, "--json"]);
    let rows = risk.as_array().unwrap();
    let category = |model: &str| {
        rows.iter()
            .find(|r| r["model"] == model)
            .unwrap_or_else(|| panic!("{model}: {risk:#}"))["category"]
            .clone()
    };
    assert_eq!(category("Medfusion 4000"), "infusion pump");
    assert_eq!(category("Infinity Delta"), "patient monitor");
    assert_eq!(category("Connex Spot Monitor"), "patient monitor");
    let pumps: Vec<&Value> = rows
        .iter()
        .filter(|r| r["model"] == "Alaris PC 8015")
        .collect();
    assert_eq!(pumps.len(), 1, "{pumps:#?}");
    assert_eq!(pumps[0]["kind"], "declared+observed");
    assert_eq!(pumps[0]["firmware"], "9.19");
    let _ = std::fs::remove_dir_all(&dir);
}
