//! The sensor's publisher: drains the [`Outbox`] to JetStream, oldest first,
//! one message at a time, removing each only after its PubAck; while NATS
//! is unreachable it keeps retrying (with backoff) and the status says
//! `buffering`. The status file (`status.json` in the buffer directory) is
//! what `ward sensor status` prints.

use crate::outbox::Outbox;
use crate::{now_unix, subject, Error};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Name of the status file in the buffer directory.
pub const STATUS_FILE: &str = "status.json";

/// What a sensor reports about its delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// `connected` (outbox drained or draining), `buffering` (NATS
    /// unreachable: messages kept on disk) or `full` (buffer full: input
    /// reading paused).
    pub state: String,
    /// Site.
    pub site: String,
    /// NATS server (no credentials).
    pub nats: String,
    /// Messages waiting in the buffer.
    pub pending_messages: u64,
    /// Bytes waiting in the buffer.
    pub pending_bytes: u64,
    /// Buffer limit in bytes.
    pub max_bytes: u64,
    /// Messages delivered since the sensor started.
    pub published: u64,
    /// Last delivery error, if the last attempt failed.
    pub last_error: Option<String>,
    /// When this was written (Unix seconds).
    pub updated: i64,
}

impl Status {
    /// Reads the status file of a buffer directory.
    pub fn read(dir: &Path) -> Result<Status, Error> {
        let p = dir.join(STATUS_FILE);
        let data = std::fs::read(&p).map_err(|source| Error::Io {
            what: format!("cannot read {}", p.display()),
            source,
        })?;
        serde_json::from_slice(&data).map_err(|e| Error::Malformed(format!("{}: {e}", p.display())))
    }

    /// Writes it atomically.
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let p = dir.join(STATUS_FILE);
        let tmp = dir.join("status.json.part");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .and_then(|()| std::fs::rename(&tmp, &p))
            .map_err(|source| Error::Io {
                what: format!("cannot write {}", p.display()),
                source,
            })
    }
}

/// Shared between the publisher and the input loop.
#[derive(Debug, Default)]
pub struct Shared {
    /// Set by the input loop while it waits for room in the outbox.
    pub full: AtomicBool,
    /// Set to stop the publisher once the outbox is empty.
    pub stop_when_drained: AtomicBool,
    /// Set to stop at once.
    pub stop: AtomicBool,
    /// Messages delivered.
    pub published: AtomicU64,
}

/// Publishes until told to stop. Returns when `stop` is set, or when
/// `stop_when_drained` is set and the outbox is empty.
pub async fn run(
    client: async_nats::Client,
    outbox: Arc<Outbox>,
    shared: Arc<Shared>,
    site: String,
    nats: String,
) -> Result<(), Error> {
    let js = async_nats::jetstream::new(client.clone());
    let dir: PathBuf = outbox.dir().to_path_buf();
    let mut stream_ready = false;
    let mut last_error: Option<String> = None;
    let mut last_state = String::new();
    let mut last_write = Instant::now() - Duration::from_secs(10);
    let mut backoff = Duration::from_millis(200);
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let (pending, _) = outbox.pending();
        let state = if shared.full.load(Ordering::Relaxed) {
            "full"
        } else if last_error.is_some()
            || client.connection_state() != async_nats::connection::State::Connected
        {
            "buffering"
        } else {
            "connected"
        };
        if state != last_state || last_write.elapsed() >= Duration::from_secs(1) {
            let (n, bytes) = outbox.pending();
            if state != last_state {
                eprintln!(
                    "ward sensor: {state}: {n} messages ({bytes} bytes) buffered{}",
                    last_error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                );
            }
            let st = Status {
                state: state.to_string(),
                site: site.clone(),
                nats: nats.clone(),
                pending_messages: n,
                pending_bytes: bytes,
                max_bytes: outbox.max_bytes(),
                published: shared.published.load(Ordering::Relaxed),
                last_error: last_error.clone(),
                updated: now_unix(),
            };
            if let Err(e) = st.write(&dir) {
                eprintln!("ward sensor: {e}");
            }
            last_state = state.to_string();
            last_write = Instant::now();
        }
        if pending == 0 {
            if shared.stop_when_drained.load(Ordering::Relaxed) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        if !stream_ready {
            // Create the stream if this sensor may; if not, the server does.
            match js.get_or_create_stream(crate::stream_config()).await {
                Ok(_) => stream_ready = true,
                Err(e) => {
                    last_error = Some(format!("stream: {e}"));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            }
        }
        let batch = outbox.peek(64)?;
        for e in batch {
            let site_of = match crate::envelope::Envelope::decode(&e.payload) {
                Ok(crate::envelope::Decoded::Message(m)) => m.site,
                _ => site.clone(),
            };
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", e.id.as_str());
            let sent = async {
                let ack = js
                    .publish_with_headers(subject(&site_of), headers, e.payload.clone().into())
                    .await
                    .map_err(|e| e.to_string())?;
                ack.await.map_err(|e| e.to_string())
            };
            match tokio::time::timeout(Duration::from_secs(10), sent).await {
                Ok(Ok(_ack)) => {
                    outbox.remove(e.seq)?;
                    shared.published.fetch_add(1, Ordering::Relaxed);
                    last_error = None;
                    backoff = Duration::from_millis(200);
                }
                Ok(Err(err)) => {
                    last_error = Some(err);
                    break;
                }
                Err(_) => {
                    last_error = Some("no acknowledgement within 10 s".into());
                    break;
                }
            }
        }
        if last_error.is_some() {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
}
