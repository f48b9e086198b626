//! RFC 5424 syslog messages (facility local4) carrying a CEF event as MSG,
//! with Ward's structured data `[ward@32473 ...]` (id, status, device, key,
//! count and, for site sensors, the site).

use store::StoredAlert;

/// Facility local4 (RFC 5424 §6.2.1).
const FACILITY: u32 = 20;

/// A structured-data parameter value: `\`, `"` and `]` escaped (RFC 5424 §6.3.3).
fn sd_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(']', "\\]")
}

/// One alert as an RFC 5424 syslog message without framing or newline.
/// `host` is HOSTNAME, `procid` PROCID (the exporting process).
pub fn syslog_line(s: &StoredAlert, host: &str, procid: u32) -> String {
    let a = &s.alert;
    let pri = FACILITY * 8 + a.severity.syslog() as u32;
    let iso = a.last_seen.iso();
    // MSGID: at most 32 printable characters.
    let msgid: String = a.kind.as_str().chars().take(32).collect();
    let site = super::site_of(&a.device)
        .map(|x| format!(" site=\"{}\"", sd_value(x)))
        .unwrap_or_default();
    format!(
        "<{pri}>1 {iso} {host} ward {procid} {msgid} [ward@32473 id=\"{}\" status=\"{}\" device=\"{}\" key=\"{}\" count=\"{}\"{site}] {}",
        s.id,
        s.status.as_str(),
        sd_value(&a.device),
        sd_value(&a.key),
        a.count,
        super::cef::cef(s, host)
    )
}

/// RFC 6587 octet-counting framing for syslog over TCP: `LEN SP MSG`.
pub fn octet_counted(line: &str) -> String {
    format!("{} {line}", line.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fixture::credential;

    #[test]
    fn rfc5424_header_structured_data_and_cef_message() {
        let s = syslog_line(&credential(true), "h", 42);
        assert!(
            s.starts_with("<163>1 2026-01-05T08:01:00.000000Z h ward 42 "),
            "{s}"
        );
        assert!(s.contains(" cleartext_credential [ward@32473 id=\"7\" status=\"acknowledged\" device=\"mac:00:11:22:33:44:55\" key=\"telnet from 10.0.0.9\" count=\"3\"] CEF:0|"), "{s}");
        assert!(!s.contains('\n'));
        let mut a = credential(false);
        a.alert.device = "north/ip:10.0.0.1".into();
        a.alert.key = "a\"]b\\".into();
        let s = syslog_line(&a, "h", 1);
        assert!(
            s.contains(r#"key="a\"\]b\\" count="3" site="north"]"#),
            "{s}"
        );
        assert_eq!(octet_counted("<1>1 x"), "6 <1>1 x");
        assert_eq!(octet_counted("é"), "2 é", "the length is in octets");
    }
}
