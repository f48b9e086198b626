//! Issue 17, acceptance item 1: one device through the whole remediation
//! lifecycle, by the binary. An infusion pump announcing firmware 2.4.1
//! (`ward-samplegen firmware`: LLDP-MED inventory) matches the sample
//! advisory (`< 2.5.0`): an item opens with a due date. A person assigns it,
//! starts it, marks it patched; a second capture a month later shows 2.5.0
//! and Ward verifies the item itself, with the firmware as evidence; a third
//! shows 2.4.1 again and the item reopens. Refused changes change nothing;
//! every change is in the item's history and the audit log; the firmware
//! changes are kept per device.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PUMP: &str = "mac:02:00:5e:10:00:21";
const CVE: &str = "CVE-0000-0001";
/// 2026-01-05 08:00 UTC, then a month apart.
const T1: u64 = 1_767_600_000;
const T2: u64 = T1 + 30 * 86_400;
const T3: u64 = T2 + 30 * 86_400;

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-remediation-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env("USER", "biomed1")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "ward {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn refused(args: &[&str]) -> String {
    let o = run(args);
    assert_eq!(o.status.code(), Some(2), "ward {args:?} should fail");
    let e = String::from_utf8(o.stderr).unwrap();
    assert_eq!(e.lines().count(), 1, "one line: {e}");
    e
}

fn capture(dir: &Path, version: &str, start: u64) -> PathBuf {
    let p = dir.join(format!("pump-{version}-{start}.pcap"));
    std::fs::write(
        &p,
        samplegen::firmware::write(Vec::new(), version, start).unwrap(),
    )
    .unwrap();
    p
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

/// Every item, whatever its status.
fn all_items(db: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(&ok(&[
        "remediation",
        "list",
        "--status",
        "all",
        "--json",
        "--db",
        db,
    ]))
    .unwrap();
    all.as_array().unwrap().clone()
}

/// The pump's item for the sample CVE.
fn pump_item(db: &str) -> Value {
    let all = all_items(db);
    let mine: Vec<&Value> = all
        .iter()
        .filter(|i| i["device"] == PUMP && i["subject"]["cve"] == CVE)
        .collect();
    assert_eq!(mine.len(), 1, "one item per device and CVE: {all:#?}");
    mine[0].clone()
}

/// `ward analyze --quiet` of the sample room into `db`.
fn analyze_room(db: &str) {
    ok(&[
        "analyze",
        "--quiet",
        "--db",
        db,
        &sample("hospital-room.pcap"),
    ]);
}

fn show(db: &str, id: &str) -> Value {
    serde_json::from_str(&ok(&["remediation", "show", id, "--json", "--db", db])).unwrap()
}

#[test]
fn one_device_through_the_whole_lifecycle() {
    let dir = tempdir("lifecycle");
    let db = dir.join("ward.db");
    let d = db.to_str().unwrap();

    // Capture 1: firmware 2.4.1, then the advisory arrives: an open item.
    ok(&[
        "analyze",
        "--quiet",
        "--db",
        d,
        capture(&dir, "2.4.1", T1).to_str().unwrap(),
    ]);
    let inv: Value = serde_json::from_str(&ok(&["inventory", "--json", "--db", d])).unwrap();
    let pump = inv["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == PUMP)
        .unwrap_or_else(|| panic!("no pump in {inv:#}"));
    assert_eq!(pump["identity"]["firmware"], "2.4.1", "{pump:#}");
    ok(&["feeds", "import", "--db", d, &sample("advisory.csaf.json")]);
    let item = pump_item(d);
    assert_eq!(item["status"], "open");
    let id = item["id"].as_i64().unwrap().to_string();
    let (opened, due) = (
        item["opened_at"].as_i64().unwrap(),
        item["due"].as_i64().unwrap(),
    );
    let sla_days = match item["severity"].as_str().unwrap() {
        "critical" => 15,
        "high" => 30,
        "medium" => 90,
        _ => 180,
    };
    assert_eq!(
        due - opened,
        sla_days * 86_400,
        "due from the default SLA: {item:#}"
    );
    assert!(
        item["evidence"].as_str().unwrap().contains("<2.5.0"),
        "{item:#}"
    );

    // A person takes it: owner, due date, comment; started; patched.
    ok(&[
        "remediation",
        "assign",
        &id,
        "--owner",
        "Biomed team",
        "--due",
        "2026-03-01",
        "--comment",
        "vendor case 4711",
        "--db",
        d,
    ]);
    ok(&[
        "remediation",
        "set",
        &id,
        "--to",
        "in-progress",
        "--comment",
        "update booked",
        "--db",
        d,
    ]);
    // Refused, and nothing changes: acceptance without an expiry, verifying
    // what is not yet fixed, an unknown id, a comment with a control character.
    refused(&[
        "remediation",
        "set",
        &id,
        "--to",
        "risk-accepted",
        "--db",
        d,
    ]);
    let e = refused(&["remediation", "set", &id, "--to", "verified", "--db", d]);
    assert!(
        e.contains("only a mitigated or patched item can be verified"),
        "{e}"
    );
    refused(&[
        "remediation",
        "set",
        &id,
        "999999",
        "--to",
        "patched",
        "--db",
        d,
    ]);
    refused(&[
        "remediation",
        "set",
        &id,
        "--to",
        "patched",
        "--comment",
        "a\u{1b}[2Jb",
        "--db",
        d,
    ]);
    assert_eq!(
        pump_item(d)["status"],
        "in_progress",
        "refusals changed nothing"
    );
    ok(&[
        "remediation",
        "set",
        &id,
        "--to",
        "patched",
        "--comment",
        "2.5.0 installed",
        "--db",
        d,
    ]);
    let item = pump_item(d);
    assert_eq!(
        (item["status"].as_str(), item["owner"].as_str()),
        (Some("patched"), Some("Biomed team"))
    );
    assert_eq!(
        model::time::date(item["due"].as_i64().unwrap()),
        "2026-03-01"
    );

    // Capture 2, a month later: 2.5.0. Ward verifies the item itself.
    ok(&[
        "analyze",
        "--quiet",
        "--db",
        d,
        capture(&dir, "2.5.0", T2).to_str().unwrap(),
    ]);
    let item = pump_item(d);
    assert_eq!(item["status"], "verified", "{item:#}");
    let ev = item["evidence"].as_str().unwrap();
    assert!(
        ev.contains("firmware 2.5.0") && ev.contains("lldp"),
        "the firmware is the evidence: {ev}"
    );

    // Capture 3: 2.4.1 again (a rollback). The item reopens.
    ok(&[
        "analyze",
        "--quiet",
        "--db",
        d,
        capture(&dir, "2.4.1", T3).to_str().unwrap(),
    ]);
    let item = pump_item(d);
    assert_eq!(
        (item["status"].as_str(), item["reopened"].as_i64()),
        (Some("open"), Some(1)),
        "{item:#}"
    );
    assert!(
        item["evidence"].as_str().unwrap().starts_with("seen again"),
        "{item:#}"
    );

    // Accepted for a while, with who and until when.
    ok(&[
        "remediation",
        "set",
        &id,
        "--to",
        "risk-accepted",
        "--until",
        "2099-12-31",
        "--comment",
        "pump retired in Q1",
        "--by",
        "ciso",
        "--db",
        d,
    ]);
    let item = pump_item(d);
    assert_eq!(
        (item["status"].as_str(), item["accepted_by"].as_str()),
        (Some("risk_accepted"), Some("ciso"))
    );

    // The history, in order, and the audit log with every change.
    let h = show(d, &id);
    let actions: Vec<(&str, &str, &str)> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["to"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("ward", "opened", "open"),
            ("cli:biomed1", "remediation_assigned", "open"),
            ("cli:biomed1", "remediation_started", "in_progress"),
            ("cli:biomed1", "remediation_patched", "patched"),
            ("ward", "verified_automatically", "verified"),
            ("ward", "reopened_automatically", "open"),
            ("ciso", "remediation_risk_accepted", "risk_accepted"),
        ]
    );
    let store = store::Store::open(&db).unwrap();
    let audit: Vec<(String, String)> = store
        .audit_log(1000)
        .unwrap()
        .into_iter()
        .rev()
        .filter(|a| a.action.starts_with("remediation_") && a.detail.contains(&format!("#{id} ")))
        .map(|a| (a.actor, a.action))
        .collect();
    let expect: Vec<(String, String)> = [
        ("ward", "remediation_opened"),
        ("cli:biomed1", "remediation_assigned"),
        ("cli:biomed1", "remediation_started"),
        ("cli:biomed1", "remediation_patched"),
        ("ward", "remediation_verified"),
        ("ward", "remediation_reopened"),
        ("ciso", "remediation_risk_accepted"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(audit, expect);

    // Firmware changes per device: first seen, updated, rolled back.
    let fw: Value = serde_json::from_str(&ok(&[
        "firmware", "changes", "--device", PUMP, "--json", "--db", d,
    ]))
    .unwrap();
    let rows: Vec<(Value, Value, i64)> = fw
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["from"].clone(),
                c["to"].clone(),
                c["at"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (Value::Null, "2.4.1".into(), T1 as i64),
            ("2.4.1".into(), "2.5.0".into(), T2 as i64),
            ("2.5.0".into(), "2.4.1".into(), T3 as i64 + 180),
        ]
    );
    // The fleet views: the pump is behind its vendor's fix; nothing is
    // stale at 10,000 days, everything at 0.
    let behind = ok(&["firmware", "behind", "--db", d]);
    assert!(
        behind.contains(PUMP) && behind.contains("2.5.0 or later"),
        "{behind}"
    );
    let stale: Value = serde_json::from_str(&ok(&[
        "firmware", "stale", "--days", "0", "--json", "--db", d,
    ]))
    .unwrap();
    assert_eq!(stale[0]["device"], PUMP);
    let table = ok(&["remediation", "list", "--db", d]);
    assert!(
        table.contains("risk accepted") && table.contains(CVE),
        "{table}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_sample_opens_finding_items_and_metrics_count_them() {
    let dir = tempdir("sample");
    let db = dir.join("ward.db");
    let d = db.to_str().unwrap();
    analyze_room(d);
    let items: Value =
        serde_json::from_str(&ok(&["remediation", "list", "--json", "--db", d])).unwrap();
    let items = items.as_array().unwrap();
    // The EHR's and the monitor's HL7 with patient data in cleartext.
    let phi: Vec<&str> = items
        .iter()
        .filter(|i| i["subject"]["kind"] == "cleartext_phi")
        .map(|i| i["device"].as_str().unwrap())
        .collect();
    assert!(phi.len() >= 2, "{items:#?}");
    assert!(items
        .iter()
        .any(|i| i["subject"]["kind"] == "default_credential"));
    // A second analysis of the same capture opens nothing new.
    let n = items.len();
    analyze_room(d);
    let again: Value =
        serde_json::from_str(&ok(&["remediation", "list", "--json", "--db", d])).unwrap();
    assert_eq!(again.as_array().unwrap().len(), n);
    let m: Value =
        serde_json::from_str(&ok(&["remediation", "metrics", "--json", "--db", d])).unwrap();
    assert_eq!(m["total"].as_u64(), Some(n as u64));
    assert_eq!(m["open"].as_u64(), Some(n as u64));
    assert_eq!(m["open_over_time"].as_array().unwrap().len(), 90);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run that sees only some devices (the pump's capture) into a store that
/// holds the sample room: the run shows and syncs only the devices it saw,
/// the room's items stay exactly as they were, and a whole sync afterwards
/// finds nothing left to do (the scoped sync decided what it would have).
#[test]
fn a_run_syncs_the_devices_it_saw_and_a_whole_sync_agrees() {
    let dir = tempdir("seen");
    let db = dir.join("ward.db");
    let d = db.to_str().unwrap();
    analyze_room(d);
    let room = all_items(d);
    assert!(!room.is_empty());
    let pump = capture(&dir, "2.4.1", T1);
    let p = pump.to_str().unwrap();
    let out = ok(&["analyze", "--db", d, p]);
    let line = out
        .lines()
        .find(|l| l.contains("devices seen in this run,"))
        .unwrap_or_else(|| panic!("no seen line: {out}"));
    let inventory: Value = serde_json::from_str(&ok(&["inventory", "--json", "--db", d])).unwrap();
    let total = inventory["devices"].as_array().unwrap().len();
    assert!(
        line.ends_with(&format!(
            "{total} in the inventory (`ward inventory` lists them all)"
        )),
        "{line}"
    );
    // The same run again, as JSON: only the devices it saw, the pump among them.
    let run: Value = serde_json::from_str(&ok(&["analyze", "--json", "--db", d, p])).unwrap();
    let seen: Vec<&str> = run["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert!(seen.contains(&PUMP), "{seen:?}");
    assert!(seen.len() < total, "{seen:?} of {total}");
    assert!(
        line.starts_with(&format!("{} devices seen", seen.len())),
        "{line}"
    );
    // The items of devices the run did not see are untouched; what is new
    // or changed is the run's devices'.
    let after = all_items(d);
    let unseen = |i: &&Value| !seen.contains(&i["device"].as_str().unwrap());
    let kept: Vec<&Value> = room.iter().filter(unseen).collect();
    assert!(!kept.is_empty());
    for item in kept {
        assert!(after.contains(item), "changed: {item:#}");
    }
    for item in after.iter().filter(|i| !room.contains(i)) {
        assert!(seen.contains(&item["device"].as_str().unwrap()), "{item:#}");
    }
    // A whole sync finds nothing the scoped ones left undone.
    assert_eq!(
        ok(&["remediation", "sync", "--db", d]).trim(),
        "remediation: 0 opened, 0 verified automatically, 0 reopened; 0 firmware changes"
    );
    assert_eq!(all_items(d), after);
    let _ = std::fs::remove_dir_all(&dir);
}

#[path = "support/dashboard.rs"]
mod dashboard;
use dashboard::{add_user, enc, login, serve};

#[test]
fn the_dashboard_and_the_api_show_and_change_items() {
    let dir = tempdir("web");
    let db = dir.join("ward.db");
    let d = db.to_str().unwrap();
    ok(&[
        "analyze",
        "--quiet",
        "--db",
        d,
        capture(&dir, "2.4.1", T1).to_str().unwrap(),
    ]);
    ok(&["feeds", "import", "--db", d, &sample("advisory.csaf.json")]);
    let id = pump_item(d)["id"].as_i64().unwrap();
    let secret = add_user(&db, "ana", "analyst");
    let token = ok(&["user", "token", "ana", "--db", d]);
    let auth = format!("Bearer {}", token.trim());
    let srv = serve(&db, &dir.join("state"));

    // API: the items, a refused change (nothing changes), an accepted one, the metrics.
    let (status, _, body) = srv.call("/api/v1/remediation", "", &auth, None);
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let item = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(
        (item["status"].as_str(), item["subject"].as_str()),
        (Some("open"), Some("cve:CVE-0000-0001"))
    );
    let path = format!("/api/v1/remediation/{id}");
    let (status, body) = srv.post_json(&path, &auth, r#"{"action":"verify","owner":"nobody"}"#);
    assert_eq!(status, 409, "{body}");
    let (status, body) = srv.post_json(&path, &auth, r#"{"action":"accept"}"#);
    assert_eq!(status, 400, "{body}");
    let (status, body) =
        srv.post_json("/api/v1/remediation/999999", &auth, r#"{"action":"patch"}"#);
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        pump_item(d)["owner"],
        Value::Null,
        "a refused change changes nothing"
    );
    let (status, body) = srv.post_json(
        &path,
        &auth,
        r#"{"action":"patch","owner":"Biomed <b>team</b>","comment":"2.5.0 installed"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["status"].as_str(), v["owner"].as_str()),
        (Some("patched"), Some("Biomed <b>team</b>"))
    );
    let (status, _, body) = srv.call("/api/v1/remediation/metrics", "", &auth, None);
    assert_eq!(status, 200, "{body}");
    let m: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(m["by_severity"].as_array().unwrap().len(), 4);
    assert_eq!(m["open_over_time"].as_array().unwrap().len(), 90);
    let remediated: u64 = m["by_severity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["remediated"].as_u64().unwrap())
        .sum();
    assert_eq!(remediated, 1, "{m:#}");

    // Pages: the remediation page (table, charts, the owner as text) and the
    // device page's items and firmware history.
    let session = login(&srv, "ana", &secret);
    let (status, _, page) = srv.call("/remediation?status=all", &session, "", None);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("CVE-0000-0001")
            && page.contains("<svg")
            && page.contains("Days to remediate"),
        "{page}"
    );
    assert!(
        page.contains("Biomed &#60;b&#62;team&#60;/b&#62;")
            || page.contains("Biomed &lt;b&gt;team&lt;/b&gt;"),
        "owner as text"
    );
    assert!(!page.contains("<b>team</b>"));
    // An unknown filter says so and shows the default list (as the alerts page does).
    let (status, _, page) = srv.call("/remediation?status=bogus", &session, "", None);
    assert_eq!(status, 200);
    assert!(page.contains("Unknown status"), "{page}");
    let (status, _, page) = srv.call(&format!("/device?key={}", enc(PUMP)), &session, "", None);
    assert_eq!(status, 200, "{page}");
    let fw = &page[page.find("id=\"firmware\"").expect("firmware history")..];
    assert!(
        fw.contains("(first seen)") && fw.contains("2.4.1") && fw.contains("lldp"),
        "{fw}"
    );
    assert!(
        page.contains("id=\"remediation\"") && page.contains("cve:CVE-0000-0001")
            || page.contains("CVE-0000-0001")
    );
    // The form: a change through the page (CSRF) lands, audited.
    let i = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = page[i..].split('"').next().unwrap().to_string();
    let form = format!("csrf={csrf}&id={id}&action=verify&until=&owner=&comment=checked+on+site");
    let (status, _, body) = srv.call("/remediation/status", &session, "", Some(&form));
    assert_eq!(status, 303, "{body}");
    assert_eq!(pump_item(d)["status"], "verified");
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}
