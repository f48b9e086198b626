//! Ward's alert exports, laid out like Vector's sinks: **formats** apart from
//! **delivery**.
//!
//! - [`format`]: pure functions from stored alerts ([`store::StoredAlert`]) to
//!   text or bytes — ArcSight CEF ([`format::cef`]), RFC 5424 syslog with a CEF
//!   message ([`format::syslog`]), Elastic Common Schema documents and `_bulk`
//!   bodies ([`format::ecs`]), Splunk HTTP Event Collector events
//!   ([`format::hec`]) and JSON (one array, JSON lines, the generic webhook
//!   body: [`format::json`]). No I/O, no clock: the host name is a parameter.
//! - [`deliver`]: where the bytes go — a syslog collector over UDP datagrams or
//!   TCP with octet-counting framing ([`deliver::syslog`]), and webhooks
//!   ([`deliver::webhook`]: generic JSON, Splunk HEC, Elasticsearch `_bulk`),
//!   batched and retried under one [`deliver::retry::RetryPolicy`].
//! - [`secret`]: webhook secrets read from a file or the environment, and URLs
//!   redacted before they are printed; [`hostname`]: this host's name as the
//!   formats carry it.
//!
//! Errors are typed ([`Error`]); none of them contains a secret.

pub mod deliver;
pub mod format;
pub mod secret;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use deliver::retry::RetryPolicy;
pub use deliver::syslog::send_syslog;
pub use deliver::webhook::{Webhook, WebhookFormat, DEFAULT_INDEX};

/// What can go wrong exporting alerts. Messages are one line and never hold a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A body could not be encoded as JSON.
    #[error("encoding alerts as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The syslog URL is not `udp://HOST:PORT` or `tcp://HOST:PORT`.
    #[error("--syslog wants udp://HOST:PORT or tcp://HOST:PORT, not {0:?}")]
    SyslogUrl(String),
    /// The syslog host name resolved to no address.
    #[error("syslog {0}: no address")]
    SyslogNoAddress(String),
    /// Sending to the syslog collector failed.
    #[error("syslog {url}: {err}")]
    Syslog {
        /// The collector's URL.
        url: String,
        /// What failed.
        err: std::io::Error,
    },
    /// The webhook URL is not `http://` or `https://`.
    #[error("--webhook wants an http:// or https:// URL")]
    WebhookUrl,
    /// Splunk HEC refuses requests without its token: refused before sending.
    #[error("--webhook-format splunk-hec needs the HEC token (--webhook-token-file or $WARD_WEBHOOK_TOKEN)")]
    HecToken,
    /// The receiver refused a batch with an answer that another try would not change.
    #[error("webhook {url}: batch {batch}: {why}")]
    Refused {
        /// The URL without user info or query string.
        url: String,
        /// Which batch (from 1).
        batch: usize,
        /// The receiver's answer, one line.
        why: String,
    },
    /// Every try of a batch failed with a retryable error.
    #[error("webhook {url}: batch {batch}: {why} (gave up after {attempts} tries)")]
    GaveUp {
        /// The URL without user info or query string.
        url: String,
        /// Which batch (from 1).
        batch: usize,
        /// The last failure, one line.
        why: String,
        /// Tries made.
        attempts: u32,
    },
    /// The token file could not be read.
    #[error("cannot read token file {path}: {err}")]
    TokenFile {
        /// The file.
        path: String,
        /// Why.
        err: std::io::Error,
    },
    /// The token file is larger than any token.
    #[error("token file {0} is larger than {max} bytes", max = secret::MAX_TOKEN)]
    TokenTooLarge(String),
    /// The token file holds no token.
    #[error("token file {0} is empty")]
    TokenEmpty(String),
    /// The token is not printable ASCII or too long (the token itself is not shown).
    #[error("the webhook token must be printable ASCII of at most {max} bytes", max = secret::MAX_TOKEN)]
    TokenInvalid,
}

/// This host's name as the exports carry it (`dvchost`, syslog HOSTNAME,
/// HEC `host`, ECS `observer.hostname`): printable ASCII, at most 255
/// characters, `-` when unknown (RFC 5424's NILVALUE).
pub fn hostname() -> String {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let h: String = h
        .trim()
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if h.is_empty() {
        "-".into()
    } else {
        h
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hostname_is_printable_and_never_empty() {
        let h = super::hostname();
        assert!(!h.is_empty() && h.len() <= 255);
        assert!(h.chars().all(|c| c.is_ascii_graphic()), "{h:?}");
    }
}
