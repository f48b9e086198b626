//! Webhook delivery of alerts to SIEMs, in the shape each one ingests:
//!
//! - `generic`: `{"source":"ward","alerts":[...]}` (stored alerts as JSON);
//! - `splunk-hec`: Splunk HTTP Event Collector (`POST /services/collector/event`,
//!   `Authorization: Splunk TOKEN`): one JSON object per alert — `time` (epoch
//!   seconds with milliseconds), `host`, `source` `ward`, `sourcetype`
//!   `ward:alert`, optional `index`, and the alert as `event` — batched by
//!   concatenation;
//! - `elastic-bulk`: Elasticsearch `_bulk` NDJSON (`Authorization: ApiKey KEY`):
//!   per alert an `{"index":{"_index":..,"_id":"ward-ID"}}` line and an ECS
//!   document (`@timestamp`, `event.kind` `alert`, `event.severity`, `rule.name`,
//!   `source`/`destination`, `observer.product` `Ward`, the rest under `ward`),
//!   every line ending in `\n`; the `_id` makes a re-export update the
//!   documents (status changes) instead of duplicating them. A response with
//!   `"errors": true` is a failure naming the first refused document.
//!
//! Microsoft Sentinel ingests the CEF-over-syslog export (`--syslog`) through
//! its AMA/CEF connector into `CommonSecurityLog`; see `alerts::cef`.
//!
//! Delivery: batches (default 100 alerts), each tried at most `attempts`
//! times with doubling back-off on connection errors, HTTP 429 and 5xx; other
//! answers fail at once. Secrets never reach output: the token comes from a
//! file or an environment variable (not the command line, which `ps` shows),
//! and URLs are printed without user info or query string.

use anyhow::{anyhow, bail, Result};
use clap::ValueEnum;
use std::time::Duration;
use store::StoredAlert;

/// Webhook body formats.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `{"source":"ward","alerts":[...]}`.
    Generic,
    /// Splunk HTTP Event Collector events (`/services/collector/event`).
    SplunkHec,
    /// Elasticsearch `_bulk` NDJSON with ECS fields.
    ElasticBulk,
}

/// Where and how to deliver.
pub struct Webhook {
    /// Target URL.
    pub url: String,
    /// Body format.
    pub format: WebhookFormat,
    /// Secret (HEC token, Elastic API key, or a bearer token for `generic`).
    pub token: Option<String>,
    /// Splunk index (optional) or Elastic index.
    pub index: Option<String>,
    /// Alerts per request.
    pub batch: usize,
    /// Tries per request (at least 1).
    pub attempts: u32,
    /// Wait before the second try; doubles after each.
    pub backoff: Duration,
    /// Per-request timeout.
    pub timeout: Duration,
    /// `host` of Splunk events and `observer.hostname`.
    pub host: String,
}

/// Elastic index when none is given.
pub const DEFAULT_INDEX: &str = "ward-alerts";
/// Longest token accepted (bytes).
const MAX_TOKEN: usize = 8192;
/// Longest response read (bytes).
const MAX_RESPONSE: u64 = 4 << 20;

/// The URL as it may be printed: no user info, no query string.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_string(),
    };
    let path = match path.split_once('?') {
        Some((p, _)) => format!("{p}?***"),
        None => path.to_string(),
    };
    let authority = match authority.split_once('?') {
        Some((a, _)) => format!("{a}?***"),
        None => authority,
    };
    if scheme.is_empty() {
        format!("{authority}{path}")
    } else {
        format!("{scheme}://{authority}{path}")
    }
}

/// Reads a secret from `file` (first line, trimmed) or else from the
/// environment variable `env`; `None` when neither gives one. Errors never
/// contain the secret.
pub fn read_token(file: Option<&std::path::Path>, env: &str) -> Result<Option<String>> {
    let raw = match file {
        Some(p) => {
            let meta = std::fs::metadata(p)
                .map_err(|e| anyhow!("cannot read token file {}: {e}", p.display()))?;
            if meta.len() > MAX_TOKEN as u64 {
                bail!(
                    "token file {} is larger than {MAX_TOKEN} bytes",
                    p.display()
                );
            }
            let s = std::fs::read_to_string(p)
                .map_err(|e| anyhow!("cannot read token file {}: {e}", p.display()))?;
            let t = s.lines().next().unwrap_or("").trim().to_string();
            if t.is_empty() {
                bail!("token file {} is empty", p.display());
            }
            t
        }
        None => match std::env::var(env) {
            Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
            _ => return Ok(None),
        },
    };
    if raw.len() > MAX_TOKEN || raw.bytes().any(|b| b.is_ascii_control() || !b.is_ascii()) {
        bail!("the webhook token must be printable ASCII of at most {MAX_TOKEN} bytes");
    }
    Ok(Some(raw))
}

fn iso(t: model::Timestamp) -> String {
    t.iso()
}

/// One alert as a Splunk HEC event object.
pub fn splunk_event(a: &StoredAlert, host: &str, index: Option<&str>) -> serde_json::Value {
    // Epoch seconds with milliseconds, as HEC expects (`<sec>.<ms>`).
    let time = a.alert.last_seen.0.div_euclid(1000) as f64 / 1000.0;
    let mut v = serde_json::json!({
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

/// One alert as an ECS document for Elasticsearch.
pub fn ecs_document(a: &StoredAlert, host: &str) -> serde_json::Value {
    let al = &a.alert;
    let mut doc = serde_json::json!({
        "@timestamp": iso(al.last_seen),
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
            "start": iso(al.first_seen),
            "end": iso(al.last_seen),
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
            doc["source"] = serde_json::json!({"ip": f.client.to_string(), "port": f.client_port});
            doc["destination"] =
                serde_json::json!({"ip": f.server.to_string(), "port": f.server_port});
            doc["network"] = serde_json::json!({"transport": f.transport.as_str()});
            for ip in [f.client.to_string(), f.server.to_string()] {
                if !related.contains(&ip) {
                    related.push(ip);
                }
            }
        }
        // No flow: the alerted device is the source of what was seen.
        None => doc["source"] = serde_json::json!({"ip": al.ip.to_string()}),
    }
    doc["related"] = serde_json::json!({"ip": related});
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

/// The request body of one batch and its content type.
pub fn body(w: &Webhook, batch: &[StoredAlert]) -> Result<(Vec<u8>, &'static str)> {
    Ok(match w.format {
        WebhookFormat::Generic => (
            serde_json::to_vec(&serde_json::json!({"source": "ward", "alerts": batch}))?,
            "application/json",
        ),
        WebhookFormat::SplunkHec => {
            let mut out = Vec::new();
            for a in batch {
                serde_json::to_writer(&mut out, &splunk_event(a, &w.host, w.index.as_deref()))?;
            }
            (out, "application/json")
        }
        WebhookFormat::ElasticBulk => {
            let index = w.index.as_deref().unwrap_or(DEFAULT_INDEX);
            let mut out = Vec::new();
            for a in batch {
                serde_json::to_writer(
                    &mut out,
                    &serde_json::json!({"index": {"_index": index, "_id": format!("ward-{}", a.id)}}),
                )?;
                out.push(b'\n');
                serde_json::to_writer(&mut out, &ecs_document(a, &w.host))?;
                out.push(b'\n');
            }
            (out, "application/x-ndjson")
        }
    })
}

fn one_line(s: &str, max: usize) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s
    }
}

/// Why one try failed, and whether another may succeed.
enum Failure {
    Retry(String),
    Fatal(String),
}

impl Webhook {
    fn auth(&self) -> Result<Option<String>> {
        Ok(match (self.format, &self.token) {
            (WebhookFormat::SplunkHec, Some(t)) => Some(format!("Splunk {t}")),
            (WebhookFormat::SplunkHec, None) => bail!("--webhook-format splunk-hec needs the HEC token (--webhook-token-file or $WARD_WEBHOOK_TOKEN)"),
            (WebhookFormat::ElasticBulk, Some(t)) => Some(format!("ApiKey {t}")),
            (WebhookFormat::Generic, Some(t)) => Some(format!("Bearer {t}")),
            (_, None) => None,
        })
    }

    fn try_once(
        &self,
        agent: &ureq::Agent,
        auth: Option<&str>,
        body: &[u8],
        ctype: &str,
    ) -> Result<(), Failure> {
        let mut req = agent.post(self.url.as_str()).header("Content-Type", ctype);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let resp = req
            .send(body)
            .map_err(|e| Failure::Retry(one_line(&e.to_string(), 200)))?;
        let status = resp.status();
        let text = resp
            .into_body()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .unwrap_or_default();
        if !status.is_success() {
            let why = format!(
                "HTTP {} {}",
                status.as_u16(),
                one_line(&String::from_utf8_lossy(&text), 200)
            );
            return Err(if status.as_u16() == 429 || status.is_server_error() {
                Failure::Retry(why)
            } else {
                Failure::Fatal(why)
            });
        }
        if self.format == WebhookFormat::ElasticBulk {
            let v: serde_json::Value = serde_json::from_slice(&text)
                .map_err(|e| Failure::Fatal(format!("unreadable _bulk response: {e}")))?;
            if v["errors"].as_bool() == Some(true) {
                let items = v["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                let refused: Vec<&serde_json::Value> = items
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
                return Err(Failure::Fatal(format!(
                    "{} of {} documents refused (first: {})",
                    refused.len(),
                    items.len(),
                    one_line(&first, 200)
                )));
            }
        }
        Ok(())
    }

    /// Delivers the alerts in batches; returns how many requests were made.
    pub fn deliver(&self, alerts: &[StoredAlert]) -> Result<usize> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            bail!("--webhook wants an http:// or https:// URL");
        }
        let auth = self.auth()?;
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let shown = redact(&self.url);
        let mut requests = 0;
        for (n, chunk) in alerts.chunks(self.batch.max(1)).enumerate() {
            let (body, ctype) = body(self, chunk)?;
            let mut wait = self.backoff;
            let attempts = self.attempts.max(1);
            for attempt in 1..=attempts {
                requests += 1;
                match self.try_once(&agent, auth.as_deref(), &body, ctype) {
                    Ok(()) => break,
                    Err(Failure::Fatal(why)) => bail!("webhook {shown}: batch {}: {why}", n + 1),
                    Err(Failure::Retry(why)) if attempt == attempts => bail!(
                        "webhook {shown}: batch {}: {why} (gave up after {attempts} tries)",
                        n + 1
                    ),
                    Err(Failure::Retry(why)) => {
                        eprintln!(
                            "webhook {shown}: batch {}: {why}; retrying in {} ms",
                            n + 1,
                            wait.as_millis()
                        );
                        std::thread::sleep(wait);
                        wait = (wait * 2).min(Duration::from_secs(60));
                    }
                }
            }
        }
        Ok(requests)
    }
}

#[cfg(test)]
#[path = "../tests/support/http_receiver.rs"]
mod http_receiver;

#[cfg(test)]
mod tests {
    use super::*;
    use http_receiver::receiver;
    use model::Timestamp;
    use monitor::{Alert, AlertKind, Evidence, FlowTuple, Severity};
    use std::net::TcpListener;

    const TOKEN: &str = "s3cr3t-t0ken-11111111";

    fn stored(id: i64, summary: &str, flow: bool) -> StoredAlert {
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
            status: store::AlertStatus::Acknowledged,
            status_by: Some("ana".into()),
            status_at: Some(1_767_700_000),
            comment: Some("on it \"<script>\"".into()),
            reopened: 0,
        }
    }

    fn hook(url: String, format: WebhookFormat, batch: usize) -> Webhook {
        Webhook {
            url,
            format,
            token: Some(TOKEN.into()),
            index: None,
            batch,
            attempts: 3,
            backoff: Duration::from_millis(10),
            timeout: Duration::from_secs(10),
            host: "ward-test".into(),
        }
    }

    #[test]
    fn splunk_hec_gets_concatenated_events_with_its_token() {
        let ok = r#"{"text":"Success","code":0}"#.to_string();
        let (base, h) = receiver(vec![(200, ok.clone()), (200, ok)]);
        let alerts = vec![
            stored(1, "a", true),
            stored(2, "b\n{\"event\":1}", false),
            stored(3, "c", true),
        ];
        let mut w = hook(
            format!("{base}/services/collector/event"),
            WebhookFormat::SplunkHec,
            2,
        );
        w.index = Some("soc".into());
        assert_eq!(w.deliver(&alerts).unwrap(), 2);
        let got = h.join().unwrap();
        assert_eq!(got[0].line, "POST /services/collector/event HTTP/1.1");
        assert_eq!(
            got[0].header("authorization"),
            Some(format!("Splunk {TOKEN}").as_str())
        );
        // What HEC does: read concatenated JSON objects, each with an event.
        let events: Vec<serde_json::Value> = got
            .iter()
            .flat_map(|r| {
                serde_json::Deserializer::from_slice(&r.body)
                    .into_iter::<serde_json::Value>()
                    .map(Result::unwrap)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(events.len(), 3);
        for (e, id) in events.iter().zip(1..) {
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
            assert_eq!(e["event"]["status"], "acknowledged");
        }
        assert_eq!(events[1]["event"]["summary"], "b\n{\"event\":1}");
        // Without a token HEC would refuse: refused before sending.
        w.token = None;
        assert!(w
            .deliver(&alerts)
            .unwrap_err()
            .to_string()
            .contains("needs the HEC token"));
    }

    #[test]
    fn elastic_bulk_gets_ndjson_pairs_with_ecs_fields() {
        let ok = r#"{"took":3,"errors":false,"items":[{"index":{"status":201}},{"index":{"status":201}}]}"#.to_string();
        let (base, h) = receiver(vec![(200, ok)]);
        let alerts = vec![stored(1, "a", true), stored(2, "b", false)];
        let w = hook(format!("{base}/_bulk"), WebhookFormat::ElasticBulk, 100);
        assert_eq!(w.deliver(&alerts).unwrap(), 1);
        let got = h.join().unwrap();
        let r = &got[0];
        assert_eq!(
            r.header("authorization"),
            Some(format!("ApiKey {TOKEN}").as_str())
        );
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
        let text = String::from_utf8(r.body.clone()).unwrap();
        assert!(text.ends_with('\n'), "the final line ends with a newline");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4, "action and document per alert");
        assert_eq!(
            lines[0],
            serde_json::json!({"index": {"_index": "ward-alerts", "_id": "ward-1"}})
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
        assert_eq!(
            (
                d["observer"]["product"].as_str(),
                d["network"]["transport"].as_str()
            ),
            (Some("Ward"), Some("tcp"))
        );
        assert_eq!(
            (d["ward"]["status"].as_str(), d["ward"]["comment"].as_str()),
            (Some("acknowledged"), Some("on it \"<script>\""))
        );
        assert_eq!(lines[3]["source"]["ip"], "10.0.0.2");
        assert!(lines[3].get("destination").is_none());
    }

    #[test]
    fn retries_are_bounded_and_secrets_stay_out_of_errors() {
        // 503 then 200: delivered on the second try.
        let (base, h) = receiver(vec![(503, "busy".into()), (200, "{}".into())]);
        let w = hook(
            format!("{base}/hook?token={TOKEN}"),
            WebhookFormat::Generic,
            100,
        );
        assert_eq!(w.deliver(&[stored(1, "a", true)]).unwrap(), 2);
        let got = h.join().unwrap();
        assert_eq!(
            got[1].header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        let v: serde_json::Value = serde_json::from_slice(&got[1].body).unwrap();
        assert_eq!(
            (v["source"].as_str(), v["alerts"][0]["id"].as_i64()),
            (Some("ward"), Some(1))
        );
        // Always 500: exactly `attempts` tries, then an error without the token.
        let (base, h) = receiver(vec![
            (500, "x".into()),
            (500, "x".into()),
            (500, "x".into()),
        ]);
        let w = hook(
            format!("{base}/hook?token={TOKEN}"),
            WebhookFormat::Generic,
            100,
        );
        let e = w.deliver(&[stored(1, "a", true)]).unwrap_err().to_string();
        assert_eq!(h.join().unwrap().len(), 3);
        assert!(
            e.contains("gave up after 3 tries") && !e.contains(TOKEN),
            "{e}"
        );
        // 401 is not retried.
        let (base, h) = receiver(vec![(401, r#"{"text":"Invalid token","code":4}"#.into())]);
        let w = hook(
            format!("{base}/services/collector/event?token={TOKEN}"),
            WebhookFormat::SplunkHec,
            100,
        );
        let e = w.deliver(&[stored(1, "a", true)]).unwrap_err().to_string();
        assert_eq!(h.join().unwrap().len(), 1);
        assert!(
            e.contains("HTTP 401") && e.contains("Invalid token") && !e.contains(TOKEN),
            "{e}"
        );
        // Elastic partial failures are failures.
        let refused = r#"{"errors":true,"items":[{"index":{"status":201}},{"index":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad"}}}]}"#;
        let (base, h) = receiver(vec![(200, refused.into())]);
        let w = hook(format!("{base}/_bulk"), WebhookFormat::ElasticBulk, 100);
        let e = w
            .deliver(&[stored(1, "a", true), stored(2, "b", true)])
            .unwrap_err()
            .to_string();
        h.join().unwrap();
        assert!(
            e.contains("1 of 2 documents refused (first: mapper_parsing_exception: bad)"),
            "{e}"
        );
        // Nobody listening: bounded tries, then an error.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let w = hook(
            format!("http://127.0.0.1:{port}/hook?token={TOKEN}"),
            WebhookFormat::Generic,
            100,
        );
        let e = w.deliver(&[stored(1, "a", true)]).unwrap_err().to_string();
        assert!(
            e.contains("gave up after 3 tries") && !e.contains(TOKEN),
            "{e}"
        );
    }

    #[test]
    fn urls_are_redacted_and_tokens_read_from_file_or_env() {
        assert_eq!(
            redact("https://u:p@splunk:8088/services/collector/event?token=x"),
            "https://***@splunk:8088/services/collector/event?***"
        );
        assert_eq!(redact("http://es:9200/_bulk"), "http://es:9200/_bulk");
        assert_eq!(redact("http://es:9200?x=1"), "http://es:9200?***");
        let dir = std::env::temp_dir().join(format!("ward-siem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("token");
        std::fs::write(&f, format!("  {TOKEN}\n")).unwrap();
        assert_eq!(
            read_token(Some(&f), "WARD_TEST_UNSET_VAR")
                .unwrap()
                .as_deref(),
            Some(TOKEN)
        );
        std::fs::write(&f, "\n").unwrap();
        assert!(read_token(Some(&f), "X").is_err());
        std::fs::write(&f, "abc\u{1b}def").unwrap();
        let e = read_token(Some(&f), "X").unwrap_err().to_string();
        assert!(!e.contains("abc"), "{e}");
        assert_eq!(read_token(None, "WARD_TEST_UNSET_VAR_2").unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
