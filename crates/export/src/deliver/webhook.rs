//! Webhook delivery of alerts to SIEMs, in the shape each one ingests:
//!
//! - `generic`: `{"source":"ward","alerts":[...]}` ([`crate::format::json::generic`]),
//!   `Authorization: Bearer TOKEN` when a token is given;
//! - `splunk-hec`: Splunk HTTP Event Collector ([`crate::format::hec`]),
//!   `Authorization: Splunk TOKEN`;
//! - `elastic-bulk`: Elasticsearch `_bulk` NDJSON of ECS documents
//!   ([`crate::format::ecs`]), `Authorization: ApiKey KEY`. A response with
//!   `"errors": true` is a failure naming the first refused document.
//!
//! Microsoft Sentinel ingests the CEF-over-syslog export through its AMA/CEF
//! connector into `CommonSecurityLog` ([`crate::format::cef`]).
//!
//! Delivery: batches (default 100 alerts), each tried under the
//! [`RetryPolicy`]: connection errors, HTTP 429 and 5xx are retried; other
//! answers fail at once. No redirects are followed. Errors show the URL
//! without user info or query string ([`crate::secret::redact`]).

use crate::deliver::one_line;
use crate::deliver::retry::{GiveUp, Outcome, RetryPolicy};
use crate::format::{ecs, hec, json};
use crate::Error;
use std::time::Duration;
use store::StoredAlert;

/// Webhook body formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `{"source":"ward","alerts":[...]}`.
    Generic,
    /// Splunk HTTP Event Collector events (`/services/collector/event`).
    SplunkHec,
    /// Elasticsearch `_bulk` NDJSON with ECS fields.
    ElasticBulk,
}

/// Elastic index when none is given.
pub const DEFAULT_INDEX: &str = "ward-alerts";
/// Longest response read (bytes).
const MAX_RESPONSE: u64 = 4 << 20;

/// Where and how to deliver.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Target URL (`http://` or `https://`).
    pub url: String,
    /// Body format.
    pub format: WebhookFormat,
    /// Secret (HEC token, Elastic API key, or a bearer token for `generic`).
    pub token: Option<String>,
    /// Splunk index (optional) or Elastic index.
    pub index: Option<String>,
    /// Alerts per request.
    pub batch: usize,
    /// Tries per request and the waits between them.
    pub retry: RetryPolicy,
    /// Per-request timeout.
    pub timeout: Duration,
    /// `host` of Splunk events and `observer.hostname`.
    pub host: String,
}

impl Webhook {
    /// The request body of one batch and its content type.
    pub fn body(&self, batch: &[StoredAlert]) -> Result<(Vec<u8>, &'static str), Error> {
        Ok(match self.format {
            WebhookFormat::Generic => (json::generic(batch)?, "application/json"),
            WebhookFormat::SplunkHec => (
                hec::events(batch, &self.host, self.index.as_deref())?,
                "application/json",
            ),
            WebhookFormat::ElasticBulk => (
                ecs::bulk(
                    batch,
                    &self.host,
                    self.index.as_deref().unwrap_or(DEFAULT_INDEX),
                )?,
                "application/x-ndjson",
            ),
        })
    }

    /// The `Authorization` header value; Splunk HEC needs a token.
    fn auth(&self) -> Result<Option<String>, Error> {
        Ok(match (self.format, &self.token) {
            (WebhookFormat::SplunkHec, Some(t)) => Some(format!("Splunk {t}")),
            (WebhookFormat::SplunkHec, None) => return Err(Error::HecToken),
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
    ) -> Result<(), Outcome> {
        let mut req = agent.post(self.url.as_str()).header("Content-Type", ctype);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let resp = req
            .send(body)
            .map_err(|e| Outcome::Retry(one_line(&e.to_string(), 200)))?;
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
                Outcome::Retry(why)
            } else {
                Outcome::Fatal(why)
            });
        }
        if self.format == WebhookFormat::ElasticBulk {
            match ecs::bulk_refusals(&text) {
                Ok(None) => {}
                Ok(Some(why)) => return Err(Outcome::Fatal(why)),
                Err(e) => return Err(Outcome::Fatal(format!("unreadable _bulk response: {e}"))),
            }
        }
        Ok(())
    }

    /// Delivers the alerts in batches; returns how many requests were made.
    /// Each retry is announced on stderr (see [`Self::deliver_with`]).
    pub fn deliver(&self, alerts: &[StoredAlert]) -> Result<usize, Error> {
        self.deliver_with(alerts, |line| eprintln!("{line}"))
    }

    /// Delivers the alerts in batches, telling `on_retry` one line before
    /// each wait; returns how many requests were made.
    pub fn deliver_with(
        &self,
        alerts: &[StoredAlert],
        mut on_retry: impl FnMut(&str),
    ) -> Result<usize, Error> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(Error::WebhookUrl);
        }
        let auth = self.auth()?;
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let shown = crate::secret::redact(&self.url);
        let mut requests = 0;
        for (n, chunk) in alerts.chunks(self.batch.max(1)).enumerate() {
            let (body, ctype) = self.body(chunk)?;
            let batch = n + 1;
            let result = self.retry.run(
                || self.try_once(&agent, auth.as_deref(), &body, ctype),
                |why, wait| {
                    on_retry(&format!(
                        "webhook {shown}: batch {batch}: {why}; retrying in {} ms",
                        wait.as_millis()
                    ))
                },
            );
            match result {
                Ok(tries) => requests += tries as usize,
                Err((GiveUp::Fatal(why), _)) => {
                    return Err(Error::Refused {
                        url: shown,
                        batch,
                        why,
                    })
                }
                Err((GiveUp::Exhausted(why), attempts)) => {
                    return Err(Error::GaveUp {
                        url: shown,
                        batch,
                        why,
                        attempts,
                    })
                }
            }
        }
        Ok(requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fixture::stored;
    use crate::testing::receiver;
    use std::net::TcpListener;

    const TOKEN: &str = "s3cr3t-t0ken-11111111";

    fn hook(url: String, format: WebhookFormat, batch: usize) -> Webhook {
        Webhook {
            url,
            format,
            token: Some(TOKEN.into()),
            index: None,
            batch,
            retry: RetryPolicy {
                attempts: 3,
                backoff: Duration::from_millis(10),
                max_backoff: Duration::from_secs(60),
            },
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
            stored(2, "b", false),
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
        let events: Vec<serde_json::Value> = got
            .iter()
            .flat_map(|r| {
                serde_json::Deserializer::from_slice(&r.body)
                    .into_iter::<serde_json::Value>()
                    .map(Result::unwrap)
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(
            events
                .iter()
                .map(|e| e["event"]["id"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(events[0]["index"], "soc");
        // Without a token HEC would refuse: refused before sending.
        w.token = None;
        assert!(matches!(w.deliver(&alerts), Err(Error::HecToken)));
    }

    #[test]
    fn elastic_bulk_gets_ndjson_with_its_api_key() {
        let ok = r#"{"took":3,"errors":false,"items":[{"index":{"status":201}},{"index":{"status":201}}]}"#.to_string();
        let (base, h) = receiver(vec![(200, ok)]);
        let w = hook(format!("{base}/_bulk"), WebhookFormat::ElasticBulk, 100);
        assert_eq!(
            w.deliver(&[stored(1, "a", true), stored(2, "b", false)])
                .unwrap(),
            1
        );
        let r = &h.join().unwrap()[0];
        assert_eq!(
            r.header("authorization"),
            Some(format!("ApiKey {TOKEN}").as_str())
        );
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
        assert_eq!(String::from_utf8_lossy(&r.body).lines().count(), 4);
    }

    #[test]
    fn retries_are_bounded_and_secrets_stay_out_of_errors() {
        // 503 then 200: delivered on the second try, the retry announced.
        let (base, h) = receiver(vec![(503, "busy".into()), (200, "{}".into())]);
        let w = hook(
            format!("{base}/hook?token={TOKEN}"),
            WebhookFormat::Generic,
            100,
        );
        let mut told = Vec::new();
        assert_eq!(
            w.deliver_with(&[stored(1, "a", true)], |l| told.push(l.to_string()))
                .unwrap(),
            2
        );
        assert_eq!(told.len(), 1);
        assert!(
            told[0].contains("HTTP 503 busy; retrying in 10 ms") && !told[0].contains(TOKEN),
            "{told:?}"
        );
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
        let e = w
            .deliver_with(&[stored(1, "a", true)], |_| {})
            .unwrap_err()
            .to_string();
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
        let e = w
            .deliver_with(&[stored(1, "a", true)], |_| {})
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("gave up after 3 tries") && !e.contains(TOKEN),
            "{e}"
        );
        // Not HTTP: refused before any request.
        let w = hook("ftp://x/".into(), WebhookFormat::Generic, 100);
        assert!(matches!(w.deliver(&[]), Err(Error::WebhookUrl)));
    }
}
