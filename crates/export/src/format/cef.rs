//! ArcSight Common Event Format, one event per line.
//!
//! CEF follows the ArcSight CEF specification: `|` and `\` escaped in the
//! header, `=` and `\` in extension values, line breaks as `\n`/`\r`, each
//! extension key once. The keys map onto Microsoft Sentinel's
//! `CommonSecurityLog` (AMA/CEF connector): deviceVendor/Product/Version,
//! signatureId (`DeviceEventClassID`: the alert kind), name (`Activity`),
//! severity 0-10 (`LogSeverity`), `src`/`spt`/`dst`/`dpt`/`proto`, `rt`/`start`/`end`
//! (ms since the epoch), `cnt` (`EventCount`), `externalId` (`ExternalID`:
//! the alert id), `dvchost` (`DeviceName`: this host), `cat`, `act`
//! (`DeviceAction`: the status), `msg` (`Message`) and `cs1`-`cs5` with labels.

use store::StoredAlert;

/// CEF header field: `\` and `|` escaped, no line breaks or other control characters.
fn header(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('|', "\\|")
}

/// CEF extension value: `\` and `=` escaped, line breaks as `\n`/`\r`, other control characters as spaces.
fn value(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '=' => o.push_str("\\="),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// One alert as a CEF line (no trailing newline). `host` is this host
/// (`dvchost`). With a flow, `src`/`dst` are its ends; without one, `src` is
/// the alerted device's address.
pub fn cef(s: &StoredAlert, host: &str) -> String {
    let a = &s.alert;
    let ms = |t: model::Timestamp| t.0.div_euclid(1000);
    let mut ext = vec![
        format!("rt={}", ms(a.last_seen)),
        format!("start={}", ms(a.first_seen)),
        format!("end={}", ms(a.last_seen)),
        format!("cnt={}", a.count),
        format!("externalId={}", s.id),
        format!("dvchost={}", value(host)),
        "cat=ward:alert".to_string(),
        format!("act={}", s.status.as_str()),
    ];
    match &a.evidence.flow {
        Some(f) => ext.push(format!(
            "proto={} src={} spt={} dst={} dpt={}",
            f.transport.as_str().to_ascii_uppercase(),
            f.client,
            f.client_port,
            f.server,
            f.server_port
        )),
        None => ext.push(format!("src={}", a.ip)),
    }
    ext.push(format!("cs1Label=key cs1={}", value(&a.key)));
    ext.push(format!("cs2Label=device cs2={}", value(&a.device)));
    ext.push(format!("cs3Label=deviceAddress cs3={}", a.ip));
    if let Some(site) = super::site_of(&a.device) {
        ext.push(format!("cs5Label=site cs5={}", value(site)));
    }
    if !a.evidence.counts.is_empty() {
        let counts: Vec<String> = a
            .evidence
            .counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        ext.push(format!("cs4Label=counts cs4={}", value(&counts.join(", "))));
    }
    ext.push(format!("msg={}", value(&a.summary)));
    format!(
        "CEF:0|Ward|Ward|{}|{}|{}|{}|{}",
        env!("CARGO_PKG_VERSION"),
        a.kind.as_str(),
        header(&a.summary),
        a.severity.cef(),
        ext.join(" ")
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::format::fixture::credential;

    /// Splits a CEF line as a CEF parser does: 7 header fields (`\|` is not a
    /// separator), then `key=value` pairs (a key is a word before an unescaped `=`).
    pub(crate) fn parse_cef(line: &str) -> (Vec<String>, Vec<(String, String)>) {
        let mut header = Vec::new();
        let mut cur = String::new();
        let mut chars = line.chars();
        while header.len() < 7 {
            match chars.next().expect("7 header fields") {
                '\\' => {
                    let c = chars.next().unwrap();
                    assert!(c == '\\' || c == '|', "bad header escape \\{c}");
                    cur.push(c);
                }
                '|' => header.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        let ext: String = chars.collect();
        // Unescaped '=' positions mark keys: the word before each.
        let b: Vec<char> = ext.chars().collect();
        let mut eqs = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == '\\' {
                i += 2;
                continue;
            }
            if b[i] == '=' {
                eqs.push(i);
            }
            i += 1;
        }
        let mut pairs = Vec::new();
        for (n, &e) in eqs.iter().enumerate() {
            let key_start = b[..e]
                .iter()
                .rposition(|c| *c == ' ')
                .map(|p| p + 1)
                .unwrap_or(0);
            let key: String = b[key_start..e].iter().collect();
            let end = eqs
                .get(n + 1)
                .map(|&ne| b[..ne].iter().rposition(|c| *c == ' ').unwrap())
                .unwrap_or(b.len());
            let raw: String = b[e + 1..end].iter().collect();
            let val = raw
                .replace("\\=", "=")
                .replace("\\n", "\n")
                .replace("\\r", "\r")
                .replace("\\\\", "\\");
            pairs.push((key, val));
        }
        (header, pairs)
    }

    #[test]
    fn cef_follows_the_spec() {
        let c = cef(&credential(true), "wardhost");
        assert!(!c.contains('\n') && !c.contains('\r'));
        let (h, ext) = parse_cef(&c);
        assert_eq!(h[..3], ["CEF:0", "Ward", "Ward"]);
        assert_eq!(
            (h[4].as_str(), h[5].as_str(), h[6].as_str()),
            ("cleartext_credential", "a|b=c\\d x y", "8")
        );
        let get = |k: &str| {
            ext.iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        let keys: Vec<&str> = ext.iter().map(|(k, _)| k.as_str()).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "each key once: {keys:?}");
        assert_eq!(
            get("msg"),
            ["a|b=c\\d\nx\ry"],
            "the summary survives the round trip"
        );
        assert_eq!(
            (get("src"), get("spt"), get("dst"), get("dpt"), get("proto")),
            (
                vec!["10.0.0.9"],
                vec!["51000"],
                vec!["10.0.0.1"],
                vec!["23"],
                vec!["TCP"]
            )
        );
        assert_eq!(
            (get("rt"), get("start"), get("cnt"), get("externalId")),
            (
                vec!["1767600060000"],
                vec!["1767600050002"],
                vec!["3"],
                vec!["7"]
            )
        );
        assert_eq!(
            (get("dvchost"), get("act"), get("cs1"), get("cs1Label")),
            (
                vec!["wardhost"],
                vec!["acknowledged"],
                vec!["telnet from 10.0.0.9"],
                vec!["key"]
            )
        );
        assert_eq!(get("cs4"), ["hosts 2, ports 3"]);
        assert!(get("cs5").is_empty(), "no site for a local device");
        // Without a flow the device is the source.
        let (_, ext) = parse_cef(&cef(&credential(false), "h"));
        assert!(
            ext.iter().any(|(k, v)| k == "src" && v == "10.0.0.1")
                && !ext.iter().any(|(k, _)| k == "dst")
        );
    }

    #[test]
    fn site_sensor_alerts_name_their_site_and_hostile_hosts_are_escaped() {
        let mut a = credential(false);
        a.alert.device = "north/mac:00:11:22:33:44:55".into();
        let (_, ext) = parse_cef(&cef(&a, "h=x\ny"));
        let get = |k: &str| {
            ext.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("cs5"), Some("north"));
        assert_eq!(get("cs5Label"), Some("site"));
        assert_eq!(get("dvchost"), Some("h=x\ny"));
    }
}
