//! JSON for people as well as tools: every `--json` output and API answer
//! goes through [`tidy`] before it is written.
//!
//! - Numbers held as `f32` (confidences, weights, points) are widened to
//!   `f64` by serde, which prints `0.94` as `0.9399999976158142`; they are
//!   written as the `f32` reads (`0.94`), at most 4 decimals.
//! - Timestamps are microseconds since the epoch (`first_seen`,
//!   `last_packet`...); each gets an RFC 3339 twin beside it with `_at`
//!   appended (`first_seen_at: "2026-01-05T08:00:50.002400Z"`). The
//!   microseconds stay for tools that read them.

use crate::Timestamp;
use serde_json::{Map, Number, Value};

/// Keys whose integer values are microsecond timestamps.
pub const TIME_KEYS: &[&str] = &[
    "first_seen",
    "last_seen",
    "first_packet",
    "last_packet",
    "seen",
    "ts",
];

/// Microsecond values treated as times: from 1973 to 5138 (smaller ones are
/// zero for "unknown", or counts).
const TIMES: std::ops::Range<i64> = 100_000_000_000_000..100_000_000_000_000_000;

/// Rounds `f32`-born numbers and adds `<key>_at` RFC 3339 twins to
/// microsecond timestamps, everywhere in `v`.
pub fn tidy(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(r) = n.as_f64().filter(|_| n.is_f64()).and_then(round) {
                *n = r;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(tidy),
        Value::Object(o) => tidy_object(o),
        _ => {}
    }
}

/// A value serialized to JSON and [`tidy`]-ed.
pub fn tidy_value<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<Value> {
    let mut v = serde_json::to_value(value)?;
    tidy(&mut v);
    Ok(v)
}

fn tidy_object(o: &mut Map<String, Value>) {
    let mut twins = Vec::new();
    for (k, v) in o.iter_mut() {
        if TIME_KEYS.contains(&k.as_str()) {
            if let Some(t) = v.as_i64().filter(|t| TIMES.contains(t)) {
                twins.push((format!("{k}_at"), Timestamp(t).iso()));
            }
        }
        tidy(v);
    }
    for (k, iso) in twins {
        o.entry(k).or_insert(Value::String(iso));
    }
}

/// `x` as written when it came from an `f32` (exactly representable as
/// one): its shortest `f32` reading, rounded to 4 decimals. `None` for
/// other numbers (computed as `f64`: left as they are).
fn round(x: f64) -> Option<Number> {
    let f = x as f32;
    if f64::from(f) != x || !f.is_finite() {
        return None;
    }
    let short: f64 = f.to_string().parse().ok()?;
    let r = (short * 1e4).round() / 1e4;
    Number::from_f64(if r.is_finite() { r } else { short })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn f32_numbers_read_as_written() {
        let mut v = json!({
            "confidence": 0.94f32,
            "weight": [0.1f32, 0.875f32, 1.0f32, 0.123456f32],
            "bytes": 12,
            "rate": 0.1f64 + 0.2f64,
            "ts_float": 1_254_722_767.529_046f64,
        });
        tidy(&mut v);
        assert_eq!(v["confidence"].to_string(), "0.94");
        assert_eq!(v["weight"].to_string(), "[0.1,0.875,1.0,0.1235]");
        assert_eq!(v["bytes"], 12);
        // Numbers computed as f64 are not touched.
        assert_eq!(v["rate"].to_string(), "0.30000000000000004");
        assert_eq!(v["ts_float"].to_string(), "1254722767.529046");
    }

    #[test]
    fn timestamps_get_rfc3339_twins() {
        let mut v = json!({
            "devices": [{"first_seen": 1_767_600_050_002_400i64, "last_seen": 0, "peer_count": 3}],
            "run": {"first_packet": 1_767_600_050_002_400i64, "last_packet": null},
            "first_seen": 17,
        });
        tidy(&mut v);
        let d = &v["devices"][0];
        assert_eq!(d["first_seen"], 1_767_600_050_002_400i64);
        assert_eq!(d["first_seen_at"], "2026-01-05T08:00:50.002400Z");
        assert!(d.get("last_seen_at").is_none(), "0 is unknown, not 1970");
        assert_eq!(v["run"]["first_packet_at"], "2026-01-05T08:00:50.002400Z");
        assert!(v["run"].get("last_packet_at").is_none());
        assert!(v.get("first_seen_at").is_none());
    }
}
