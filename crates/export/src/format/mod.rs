//! Alert formats: pure functions from [`store::StoredAlert`]s to the text or
//! bytes each consumer ingests. No I/O and no clock; the exporting host's
//! name is a parameter (see [`crate::hostname`]).

pub mod cef;
pub mod ecs;
pub mod hec;
pub mod json;
pub mod syslog;

/// The site of an alert raised by a site sensor (device key `SITE/KEY`).
pub fn site_of(device: &str) -> Option<&str> {
    device
        .split_once('/')
        .map(|(s, _)| s)
        .filter(|s| store::valid_site(s))
}

/// Alerts for the format tests.
#[cfg(test)]
pub(crate) mod fixture {
    use model::Timestamp;
    use monitor::{Alert, AlertKind, Evidence, FlowTuple, Severity};
    use store::{AlertStatus, StoredAlert};

    /// Alert `id` about `10.0.0.ID`, with a flow from it to 10.0.0.200:23 when `flow`.
    pub fn stored(id: i64, summary: &str, flow: bool) -> StoredAlert {
        StoredAlert {
            id,
            alert: Alert {
                kind: AlertKind::PortScan,
                severity: Severity::High,
                device: format!("ip:10.0.0.{id}"),
                ip: format!("10.0.0.{id}").parse().unwrap(),
                key: "scan".into(),
                summary: summary.into(),
                evidence: Evidence {
                    flow: flow.then(|| FlowTuple {
                        transport: model::Transport::Tcp,
                        client: format!("10.0.0.{id}").parse().unwrap(),
                        client_port: 51000,
                        server: "10.0.0.200".parse().unwrap(),
                        server_port: 23,
                    }),
                    first_packet: Timestamp(1_767_600_000_000_000),
                    last_packet: Timestamp(1_767_600_001_000_000),
                    counts: [("ports".to_string(), 40)].into_iter().collect(),
                },
                count: 3,
                first_seen: Timestamp(1_767_600_000_000_000),
                last_seen: Timestamp(1_767_600_060_123_456),
            },
            status: AlertStatus::Acknowledged,
            status_by: Some("ana".into()),
            status_at: Some(1_767_700_000),
            comment: Some("on it \"<script>\"".into()),
            reopened: 0,
        }
    }

    /// A cleartext-credential alert whose summary needs every CEF escape.
    pub fn credential(flow: bool) -> StoredAlert {
        StoredAlert {
            id: 7,
            alert: Alert {
                kind: AlertKind::CleartextCredential,
                severity: Severity::High,
                device: "mac:00:11:22:33:44:55".into(),
                ip: "10.0.0.1".parse().unwrap(),
                key: "telnet from 10.0.0.9".into(),
                summary: "a|b=c\\d\nx\ry".into(),
                evidence: Evidence {
                    flow: flow.then(|| FlowTuple {
                        transport: model::Transport::Tcp,
                        client: "10.0.0.9".parse().unwrap(),
                        client_port: 51000,
                        server: "10.0.0.1".parse().unwrap(),
                        server_port: 23,
                    }),
                    counts: [("ports".to_string(), 3), ("hosts".to_string(), 2)]
                        .into_iter()
                        .collect(),
                    ..Default::default()
                },
                count: 3,
                first_seen: Timestamp(1_767_600_050_002_400),
                last_seen: Timestamp(1_767_600_060_000_000),
            },
            status: AlertStatus::Acknowledged,
            status_by: Some("ana".into()),
            status_at: Some(1),
            comment: None,
            reopened: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn site_of_reads_valid_site_prefixes_only() {
        assert_eq!(super::site_of("north/mac:00:11:22:33:44:55"), Some("north"));
        assert_eq!(super::site_of("mac:00:11:22:33:44:55"), None);
        assert_eq!(super::site_of("bad site!/x"), None);
    }
}
