//! Splunk HTTP Event Collector events (`POST /services/collector/event`):
//! one JSON object per alert — `time` (epoch seconds with milliseconds),
//! `host`, `source` `ward`, `sourcetype` `ward:alert`, optional `index`, and
//! the alert as `event` — batched by concatenation, as HEC reads them.

use serde_json::{json, Value};
use store::StoredAlert;

/// One alert as a Splunk HEC event object.
pub fn splunk_event(a: &StoredAlert, host: &str, index: Option<&str>) -> Value {
    // Epoch seconds with milliseconds, as HEC expects (`<sec>.<ms>`).
    let time = a.alert.last_seen.0.div_euclid(1000) as f64 / 1000.0;
    let mut v = json!({
        "time": time,
        "host": host,
        "source": "ward",
        "sourcetype": "ward:alert",
        "event": a,
    });
    if let Some(i) = index {
        v["index"] = i.into();
    }
    v
}

/// A HEC request body: the batch's events concatenated.
pub fn events(
    batch: &[StoredAlert],
    host: &str,
    index: Option<&str>,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    for a in batch {
        serde_json::to_writer(&mut out, &splunk_event(a, host, index))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fixture::stored;

    #[test]
    fn concatenated_events_read_back_one_per_alert() {
        let alerts = [stored(1, "a", true), stored(2, "b\n{\"event\":1}", false)];
        let body = events(&alerts, "ward-test", Some("soc")).unwrap();
        // What HEC does: read concatenated JSON objects, each with an event.
        let got: Vec<Value> = serde_json::Deserializer::from_slice(&body)
            .into_iter::<Value>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got.len(), 2);
        for (e, id) in got.iter().zip(1..) {
            assert_eq!(e["event"]["id"], id);
            assert_eq!(
                (
                    e["sourcetype"].as_str(),
                    e["source"].as_str(),
                    e["host"].as_str(),
                    e["index"].as_str()
                ),
                (
                    Some("ward:alert"),
                    Some("ward"),
                    Some("ward-test"),
                    Some("soc")
                )
            );
            assert_eq!(e["time"].as_f64(), Some(1_767_600_060.123));
            assert_eq!(e["event"]["kind"], "port_scan");
        }
        assert_eq!(got[1]["event"]["summary"], "b\n{\"event\":1}");
        assert!(splunk_event(&alerts[0], "h", None).get("index").is_none());
    }
}
