use super::*;
use crate::inputs::*;

const NOW: i64 = 1_767_600_050; // 2026-01-05

fn flow(id: &str, name: &str) -> EphiFlow {
    EphiFlow {
        id: id.into(),
        source: FlowEnd {
            key: "mac:00:00:00:00:00:01".into(),
            ip: "10.0.0.1".into(),
            name: name.into(),
            category: "patient monitor".into(),
            application: Some("MON^ICU".into()),
        },
        dest: FlowEnd {
            key: "mac:00:00:00:00:00:02".into(),
            ip: "10.0.0.2".into(),
            name: "engine".into(),
            category: "HL7 interface engine".into(),
            application: None,
        },
        protocol: "HL7".into(),
        channel: "hl7-oru".into(),
        messages: vec!["ORU^R01".into()],
        port: 2575,
        transport: "tcp".into(),
        count: 3,
        first_seen: model::Timestamp(1),
        last_seen: model::Timestamp(2),
        encrypted: false,
        evidence: "10.0.0.1:40000 -> 10.0.0.2:2575/tcp".into(),
    }
}

fn inputs() -> Inputs {
    Inputs {
        now: NOW,
        scope: "test".into(),
        inventory: Inventory {
            runs: 1,
            observed: vec![DeviceRef {
                key: "mac:00:00:00:00:00:01".into(),
                category: "patient monitor".into(),
                medical: true,
                unknown: false,
                firmware_known: true,
            }],
            declared_unseen: Vec::new(),
            declared: 0,
        },
        flows: vec![flow("F1", "monitor")],
        accounts: Accounts {
            users: vec![Account {
                name: "ada".into(),
                role: "admin".into(),
                disabled: false,
                mfa: true,
            }],
            tokens_without_expiry: 0,
        },
        ..Default::default()
    }
}

fn status_of(r: &Report, id: &str) -> Status {
    r.controls.iter().find(|c| c.id == id).unwrap().status
}

#[test]
fn every_framework_parses_with_unique_ids_and_evidence() {
    for id in framework_ids() {
        let fw = framework(id).unwrap();
        assert_eq!(fw.id, id);
        assert!(fw.controls.len() >= 7, "{id}");
        let mut ids = std::collections::BTreeSet::new();
        for c in &fw.controls {
            assert!(ids.insert(c.id.clone()), "{id}: {} twice", c.id);
            assert!(!c.evidence.is_empty(), "{id}: {} has no evidence", c.id);
            assert!(!c.remediation.is_empty() && !c.requirement.is_empty());
        }
    }
    assert!(matches!(framework("sox"), Err(Error::UnknownFramework(_))));
    assert_eq!(framework("NIST").unwrap().id, "nist-csf");
    let e = framework("sox").unwrap_err().to_string();
    assert_eq!(
        e,
        "unknown framework \"sox\": choose one of hipaa, fda, iec80001, nist-csf"
    );
}

#[test]
fn control_lists_are_golden() {
    for id in framework_ids() {
        let fw = framework(id).unwrap();
        let list: Vec<serde_json::Value> = fw
            .controls
            .iter()
            .map(|c| serde_json::json!({"id": c.id, "title": c.title, "evidence": c.evidence}))
            .collect();
        insta::assert_json_snapshot!(format!("controls-{id}"), list);
    }
}

#[test]
fn statuses_combine() {
    use Status::*;
    assert_eq!(combine(&[Met, Met]), Met);
    assert_eq!(combine(&[Met, NotAssessable]), Partial);
    assert_eq!(combine(&[NotMet, NotAssessable]), NotMet);
    assert_eq!(combine(&[NotMet, Met]), Partial);
    assert_eq!(combine(&[Partial]), Partial);
    assert_eq!(combine(&[NotAssessable, NotAssessable]), NotAssessable);
}

#[test]
fn programme_records_move_controls_to_met() {
    let fw = framework("hipaa").unwrap();
    let mut i = inputs();
    let before = evaluate(&fw, &i);
    assert_eq!(status_of(&before, "164.308(a)(2)"), Status::NotMet);
    assert_eq!(status_of(&before, "164.308(a)(5)(i)"), Status::NotMet);
    assert_eq!(status_of(&before, "164.316(b)(2)(iii)"), Status::NotMet);
    assert_eq!(
        status_of(&before, "164.312(e)(1)"),
        Status::NotMet,
        "cleartext flow"
    );
    assert_eq!(
        status_of(&before, "164.312(d) (NPRM multi-factor authentication)"),
        Status::Met
    );
    i.program.officer = Some(Officer {
        user: "ada".into(),
        since: NOW - 10,
        disabled: false,
    });
    i.program.training.push(Training {
        user: "ada".into(),
        course: "HIPAA security".into(),
        completed: "2025-06-01".into(),
    });
    i.program.documents.push(Document {
        kind: "policy".into(),
        title: "Security policy".into(),
        version: "2".into(),
        review_by: "2026-06-01".into(),
        link: String::new(),
        owner: "ada".into(),
        recorded_at: NOW,
    });
    let after = evaluate(&fw, &i);
    assert_eq!(status_of(&after, "164.308(a)(2)"), Status::Met);
    assert_eq!(status_of(&after, "164.308(a)(5)(i)"), Status::Met);
    assert_eq!(status_of(&after, "164.316(b)(2)(iii)"), Status::Met);
    // Overdue training and documents are gaps.
    i.program.training[0].completed = "2024-12-01".into();
    i.program.documents[0].review_by = "2025-12-31".into();
    let overdue = evaluate(&fw, &i);
    assert_eq!(status_of(&overdue, "164.308(a)(5)(i)"), Status::NotMet);
    let pol = overdue
        .controls
        .iter()
        .find(|c| c.id == "164.316(b)(2)(iii)")
        .unwrap();
    assert_eq!(pol.status, Status::NotMet);
    assert!(
        pol.gaps[0].contains("1 past their review date"),
        "{:?}",
        pol.gaps
    );
    assert!(pol.remediation.is_some());
}

#[test]
fn restore_drills_meet_the_72_hour_target_or_not() {
    let fw = framework("hipaa").unwrap();
    let id = "164.308(a)(7)(ii)(B) (NPRM 72-hour restore)";
    let mut i = inputs();
    assert_eq!(status_of(&evaluate(&fw, &i), id), Status::NotMet);
    i.backup.drills.push(DrillRef {
        at: NOW - 86_400,
        snapshot: "abc".into(),
        passed: true,
        duration_ms: 5_000,
    });
    assert_eq!(status_of(&evaluate(&fw, &i), id), Status::Met);
    i.backup.drills[0].duration_ms = 73 * 3600 * 1000;
    assert_eq!(status_of(&evaluate(&fw, &i), id), Status::NotMet);
}

#[test]
fn hostile_names_render_as_text() {
    let fw = framework("hipaa").unwrap();
    let mut i = inputs();
    i.flows = vec![flow("F1", "<script>alert(1)</script>")];
    i.program.documents.push(Document {
        kind: "policy".into(),
        title: "<img src=x onerror=alert(1)>".into(),
        version: "1".into(),
        review_by: "2026-06-01".into(),
        link: "javascript:alert(1)".into(),
        owner: String::new(),
        recorded_at: NOW,
    });
    let page = html(&evaluate(&fw, &i));
    assert!(!page.contains("<script>alert"), "script element");
    assert!(!page.contains("<img src=x"), "img element");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("href=\"javascript"));
    // Self-contained: no external resource.
    for bad in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(!page.contains(bad), "{bad}");
    }
    let j = json(&evaluate(&fw, &i)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&j).unwrap();
    assert_eq!(
        v["ephi_flows"][0]["source"]["name"],
        "<script>alert(1)</script>"
    );
    assert_eq!(v["controls"].as_array().unwrap().len(), fw.controls.len());
}
