//! Alerts as JSON: one pretty array (`ward alerts --format json`), JSON
//! lines (one object per line), and the generic webhook body
//! `{"source":"ward","alerts":[...]}`. The first two go through
//! `model::json::tidy` (RFC 3339 twins of the microsecond times, `f32`
//! numbers as written); the webhook body is left as receivers parse it.

use std::io::Write;
use store::StoredAlert;

/// JSON lines: one compact object per alert, each line ending in `\n`.
pub fn lines(alerts: &[StoredAlert], out: &mut dyn Write) -> Result<(), serde_json::Error> {
    for a in alerts {
        serde_json::to_writer(&mut *out, &model::json::tidy_value(a)?)?;
        out.write_all(b"\n").map_err(serde_json::Error::io)?;
    }
    Ok(())
}

/// One pretty-printed array and a newline.
pub fn array(alerts: &[StoredAlert], out: &mut dyn Write) -> Result<(), serde_json::Error> {
    serde_json::to_writer_pretty(&mut *out, &model::json::tidy_value(alerts)?)?;
    out.write_all(b"\n").map_err(serde_json::Error::io)
}

/// The generic webhook body: `{"source":"ward","alerts":[...]}`.
pub fn generic(batch: &[StoredAlert]) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&serde_json::json!({"source": "ward", "alerts": batch}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fixture::stored;

    #[test]
    fn lines_are_one_object_each_and_generic_wraps_the_batch() {
        let alerts = [stored(1, "a\nb", true), stored(2, "c", false)];
        let mut out = Vec::new();
        lines(&alerts, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let got: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got.len(), 2, "an embedded newline stays escaped: {text}");
        assert_eq!(
            (got[0]["id"].as_i64(), got[0]["summary"].as_str()),
            (Some(1), Some("a\nb"))
        );
        let v: serde_json::Value = serde_json::from_slice(&generic(&alerts).unwrap()).unwrap();
        assert_eq!(
            (v["source"].as_str(), v["alerts"][1]["id"].as_i64()),
            (Some("ward"), Some(2))
        );
        let mut out = Vec::new();
        array(&alerts, &mut out).unwrap();
        let back: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
        assert_eq!(back.len(), 2);
    }
}
