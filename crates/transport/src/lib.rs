//! Ward's multi-site transport: sensors publish observations to a NATS
//! JetStream stream (`WARD`, subjects `ward.obs.<site>`); the central server
//! consumes them into the store.
//!
//! - [`envelope`]: the versioned message format and how one analysis is cut
//!   into bounded messages with stable idempotency ids;
//! - [`outbox`]: the sensor's bounded on-disk buffer (every message passes
//!   through it; it leaves only once JetStream acknowledged it);
//! - [`publish`]: drains the outbox to JetStream in order and keeps the
//!   sensor's status file;
//! - [`ingest`]: the server's durable pull consumer: one store transaction
//!   per batch (facts plus the message ids), acknowledged only after commit.
//!
//! **Delivery:** at least once end to end (outbox until PubAck; ack after
//! commit), made idempotent twice: `Nats-Msg-Id` lets JetStream drop
//! duplicates within its window, and the store records every message id in
//! the same transaction as its facts, so a redelivered message never counts
//! twice. The store's merge is commutative, so redelivery order does not
//! matter either.

pub mod envelope;
pub mod ingest;
pub mod outbox;
pub mod publish;

use std::path::PathBuf;
use std::time::Duration;

/// JetStream stream name.
pub const STREAM: &str = "WARD";
/// Subject prefix; a site's subject is `ward.obs.<site>`.
pub const SUBJECT_PREFIX: &str = "ward.obs";

/// Transport errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// NATS connection or JetStream failure.
    #[error("NATS: {0}")]
    Nats(String),
    /// A message that is not a Ward envelope.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// JSON encoding.
    #[error("encoding: {0}")]
    Json(#[from] serde_json::Error),
    /// The outbox is full.
    #[error("buffer full: {pending} of {max} bytes used")]
    Full {
        /// Bytes waiting.
        pending: u64,
        /// Limit.
        max: u64,
    },
    /// File I/O.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Invalid configuration.
    #[error("{0}")]
    Config(String),
}

fn nats<E: std::fmt::Display>(e: E) -> Error {
    Error::Nats(e.to_string())
}

/// How to reach and authenticate to NATS.
#[derive(Debug, Clone, Default)]
pub struct NatsOptions {
    /// Server URL(s), comma-separated (`nats://host:4222`, `tls://host:4222`).
    pub url: String,
    /// NATS credentials file (user JWT + nkey seed, from `nsc`).
    pub creds: Option<PathBuf>,
    /// User name (with `password`).
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// CA certificate (PEM) to verify the server with; implies TLS.
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    pub tls_cert: Option<PathBuf>,
    /// Client key (PEM) for mutual TLS.
    pub tls_key: Option<PathBuf>,
    /// Client name shown by the server.
    pub name: String,
}

impl NatsOptions {
    /// The server address for logs and status (no credentials).
    pub fn display_url(&self) -> String {
        self.url
            .split(',')
            .map(|u| match (u.find("://"), u.rfind('@')) {
                (Some(s), Some(at)) if at > s => format!("{}{}", &u[..s + 3], &u[at + 1..]),
                _ => u.to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Connects to NATS. The client keeps reconnecting by itself; with
/// `wait == false` this returns at once even if the server is down (a
/// sensor starts buffering instead of failing).
pub async fn connect(o: &NatsOptions, wait: bool) -> Result<async_nats::Client, Error> {
    let mut c = async_nats::ConnectOptions::new()
        .name(&o.name)
        .connection_timeout(Duration::from_secs(5))
        .max_reconnects(None);
    if let Some(creds) = &o.creds {
        c = c.credentials_file(creds).await.map_err(|e| {
            Error::Config(format!(
                "cannot read NATS credentials {}: {e}",
                creds.display()
            ))
        })?;
    }
    match (&o.user, &o.password) {
        (Some(u), Some(p)) => c = c.user_and_password(u.clone(), p.clone()),
        (None, None) => {}
        _ => {
            return Err(Error::Config(
                "--nats-user and --nats-password go together".into(),
            ))
        }
    }
    if let Some(ca) = &o.tls_ca {
        c = c.add_root_certificates(ca.clone()).require_tls(true);
    }
    match (&o.tls_cert, &o.tls_key) {
        (Some(cert), Some(key)) => {
            c = c
                .add_client_certificate(cert.clone(), key.clone())
                .require_tls(true)
        }
        (None, None) => {}
        _ => return Err(Error::Config("--tls-cert and --tls-key go together".into())),
    }
    if !wait {
        c = c.retry_on_initial_connect();
    }
    let url = o.url.clone();
    c.connect(url)
        .await
        .map_err(|e| Error::Nats(format!("cannot connect to {}: {e}", o.display_url())))
}

/// The stream configuration (both sides create it if missing; work-queue
/// retention: a message leaves the stream once the server acknowledged it).
pub fn stream_config() -> async_nats::jetstream::stream::Config {
    async_nats::jetstream::stream::Config {
        name: STREAM.to_string(),
        subjects: vec![format!("{SUBJECT_PREFIX}.*")],
        retention: async_nats::jetstream::stream::RetentionPolicy::WorkQueue,
        storage: async_nats::jetstream::stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    }
}

/// The subject of a site.
pub fn subject(site: &str) -> String {
    format!("{SUBJECT_PREFIX}.{site}")
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_url_hides_credentials() {
        let o = NatsOptions {
            url: "nats://ward:s3cret@10.0.0.1:4222,tls://h2:4222".into(),
            ..Default::default()
        };
        assert_eq!(o.display_url(), "nats://10.0.0.1:4222,tls://h2:4222");
    }
}
