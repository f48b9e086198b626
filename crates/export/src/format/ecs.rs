//! Elastic Common Schema documents and Elasticsearch `_bulk` bodies.
//!
//! Per alert an ECS document: `@timestamp`, `event.kind` `alert`,
//! `event.severity` (0-10), `rule.name`, `source`/`destination`, `related.ip`,
//! `observer.product` `Ward`, and the rest under `ward`. The `_bulk` body has
//! per alert an `{"index":{"_index":..,"_id":"ward-ID"}}` line and the
//! document, every line ending in `\n`; the `_id` makes a re-export update
//! the documents (status changes) instead of duplicating them.

use serde_json::{json, Value};
use store::StoredAlert;

/// One alert as an ECS document; `host` is `observer.hostname`.
pub fn ecs_document(a: &StoredAlert, host: &str) -> Value {
    let al = &a.alert;
    let mut doc = json!({
        "@timestamp": al.last_seen.iso(),
        "message": al.summary,
        "event": {
            "kind": "alert",
            "category": ["network", "intrusion_detection"],
            "type": ["info"],
            "severity": al.severity.cef(),
            "action": al.kind.as_str(),
            "id": a.id.to_string(),
            "dataset": "ward.alert",
            "module": "ward",
            "start": al.first_seen.iso(),
            "end": al.last_seen.iso(),
        },
        "rule": {"name": al.kind.as_str(), "id": al.kind.as_str()},
        "observer": {"vendor": "Ward", "product": "Ward", "type": "ids", "version": env!("CARGO_PKG_VERSION"), "hostname": host},
        "ward": {
            "id": a.id,
            "device": al.device,
            "device_ip": al.ip.to_string(),
            "key": al.key,
            "severity": al.severity.as_str(),
            "count": al.count,
            "status": a.status.as_str(),
            "reopened": a.reopened,
            "evidence": al.evidence,
        },
    });
    let mut related = vec![al.ip.to_string()];
    match &al.evidence.flow {
        Some(f) => {
            doc["source"] = json!({"ip": f.client.to_string(), "port": f.client_port});
            doc["destination"] = json!({"ip": f.server.to_string(), "port": f.server_port});
            doc["network"] = json!({"transport": f.transport.as_str()});
            for ip in [f.client.to_string(), f.server.to_string()] {
                if !related.contains(&ip) {
                    related.push(ip);
                }
            }
        }
        // No flow: the alerted device is the source of what was seen.
        None => doc["source"] = json!({"ip": al.ip.to_string()}),
    }
    doc["related"] = json!({"ip": related});
    if let Some(by) = &a.status_by {
        doc["ward"]["status_by"] = by.as_str().into();
    }
    if let Some(at) = a.status_at {
        doc["ward"]["status_at"] = at.into();
    }
    if let Some(c) = &a.comment {
        doc["ward"]["comment"] = c.as_str().into();
    }
    doc
}

/// An Elasticsearch `_bulk` NDJSON body indexing `batch` into `index`.
pub fn bulk(batch: &[StoredAlert], host: &str, index: &str) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    for a in batch {
        serde_json::to_writer(
            &mut out,
            &json!({"index": {"_index": index, "_id": format!("ward-{}", a.id)}}),
        )?;
        out.push(b'\n');
        serde_json::to_writer(&mut out, &ecs_document(a, host))?;
        out.push(b'\n');
    }
    Ok(out)
}

/// The refusal in an Elasticsearch `_bulk` response, if any: how many
/// documents were refused, of how many, and the first refusal's type and reason.
/// `Err` when the response is no JSON.
pub fn bulk_refusals(response: &[u8]) -> Result<Option<String>, serde_json::Error> {
    let v: Value = serde_json::from_slice(response)?;
    if v["errors"].as_bool() != Some(true) {
        return Ok(None);
    }
    let items = v["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let refused: Vec<&Value> = items
        .iter()
        .filter_map(|i| i.as_object()?.values().next())
        .filter(|r| r.get("error").is_some())
        .collect();
    let first = refused
        .first()
        .map(|r| {
            format!(
                "{}: {}",
                r["error"]["type"].as_str().unwrap_or("?"),
                r["error"]["reason"].as_str().unwrap_or("?")
            )
        })
        .unwrap_or_default();
    Ok(Some(format!(
        "{} of {} documents refused (first: {})",
        refused.len(),
        items.len(),
        crate::deliver::one_line(&first, 200)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fixture::stored;

    #[test]
    fn bulk_pairs_actions_with_ecs_documents() {
        let body = bulk(
            &[stored(1, "a", true), stored(2, "b", false)],
            "ward-test",
            "ward-alerts",
        )
        .unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(text.ends_with('\n'), "the final line ends with a newline");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4, "action and document per alert");
        assert_eq!(
            lines[0],
            json!({"index": {"_index": "ward-alerts", "_id": "ward-1"}})
        );
        let d = &lines[1];
        assert_eq!(d["@timestamp"], "2026-01-05T08:01:00.123456Z");
        assert_eq!(
            (
                d["event"]["kind"].as_str(),
                d["event"]["severity"].as_u64(),
                d["rule"]["name"].as_str()
            ),
            (Some("alert"), Some(8), Some("port_scan"))
        );
        assert_eq!(
            (
                d["source"]["ip"].as_str(),
                d["source"]["port"].as_u64(),
                d["destination"]["ip"].as_str(),
                d["destination"]["port"].as_u64()
            ),
            (Some("10.0.0.1"), Some(51000), Some("10.0.0.200"), Some(23))
        );
        assert_eq!(d["related"]["ip"], json!(["10.0.0.1", "10.0.0.200"]));
        assert_eq!(
            (
                d["observer"]["hostname"].as_str(),
                d["network"]["transport"].as_str()
            ),
            (Some("ward-test"), Some("tcp"))
        );
        assert_eq!(
            (
                d["ward"]["status"].as_str(),
                d["ward"]["comment"].as_str(),
                d["ward"]["status_by"].as_str()
            ),
            (
                Some("acknowledged"),
                Some("on it \"<script>\""),
                Some("ana")
            )
        );
        assert_eq!(lines[3]["source"]["ip"], "10.0.0.2");
        assert!(lines[3].get("destination").is_none());
    }

    #[test]
    fn bulk_responses_with_errors_name_the_first_refusal() {
        let ok = br#"{"took":3,"errors":false,"items":[{"index":{"status":201}}]}"#;
        assert_eq!(bulk_refusals(ok).unwrap(), None);
        let refused = br#"{"errors":true,"items":[{"index":{"status":201}},{"index":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad\nline"}}}]}"#;
        assert_eq!(
            bulk_refusals(refused).unwrap().as_deref(),
            Some("1 of 2 documents refused (first: mapper_parsing_exception: bad line)")
        );
        assert!(bulk_refusals(b"<html>").is_err());
    }
}
