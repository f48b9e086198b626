//! The server's side: a durable pull consumer (`ward-server`) on the
//! stream; each fetched batch is decoded and stored in one transaction
//! together with its message ids ([`store::Store::ingest_observations`]),
//! and acknowledged only after the commit. A batch's transaction runs while
//! the next batch is fetched and decoded; batches commit in fetch order. A crash between commit and ack
//! redelivers the batch, which the stored ids turn into no-ops. Messages
//! that are not Ward envelopes are counted, logged in one line and
//! acknowledged (they would never become valid). Site inventories are
//! rebuilt when the stream is idle or every `rebuild_every` (less often while
//! a backlog waits: those rebuilds would be redone for the next batches);
//! the devices a rebuild stored go to the [`RebuildHook`] (the server's
//! remediation sync).
//!
//! `alert` messages are folded into the central alerts in a second
//! transaction of the same batch ([`store::Store::ingest_alerts`], ids
//! recorded beside the observations' ids), before the batch is acknowledged;
//! the alerts a batch newly stored (with their ids and lifecycle) go to the
//! [`AlertHook`] (the server's syslog, CEF and webhook exports) after the
//! commit. A redelivered alert message is skipped whole: no count added, no
//! closed alert reopened, nothing exported twice.

use crate::envelope::{Body, Decoded, Envelope};
use crate::{nats, now_unix, Error};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::Store;

/// Receives the alerts a batch newly stored, as stored (ids, status,
/// folded counts, devices `SITE/...`), after the commit; runs on a blocking
/// thread. A failure to export is the hook's to report: the alerts are
/// stored either way.
pub type AlertHook = Arc<dyn Fn(Vec<store::StoredAlert>) + Send + Sync>;

/// Receives the devices an inventory rebuild stored (keys `SITE/...`, each
/// with all of its facts), with the store, after the rebuild commits; runs
/// on a blocking thread while the store is held. The server brings those
/// devices' remediation items in line with it. A failure is the hook's to
/// report: the inventory is stored either way.
pub type RebuildHook = Arc<dyn Fn(&mut Store, Vec<identify::Device>) + Send + Sync>;

/// What the consumer calls besides storing: the server's exports and
/// follow-ups.
#[derive(Clone, Default)]
pub struct Hooks {
    /// After a batch's new alerts are stored.
    pub alerts: Option<AlertHook>,
    /// After an inventory rebuild.
    pub rebuilt: Option<RebuildHook>,
}

/// Durable consumer name.
pub const DURABLE: &str = "ward-server";

/// Consumer settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Most messages per batch (and per transaction).
    pub batch: usize,
    /// How long JetStream waits for an ack before redelivering.
    pub ack_wait: Duration,
    /// Longest time between inventory rebuilds while messages keep coming
    /// (times [`BACKLOG_REBUILD_FACTOR`] while a backlog waits).
    pub rebuild_every: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            batch: 256,
            ack_wait: Duration::from_secs(30),
            rebuild_every: Duration::from_secs(5),
        }
    }
}

/// While a backlog waits, inventories are rebuilt this many times less
/// often than [`Options::rebuild_every`].
pub const BACKLOG_REBUILD_FACTOR: u32 = 6;

/// Counters of a running consumer.
#[derive(Debug, Default)]
pub struct Stats {
    /// Messages received (including redeliveries).
    pub received: AtomicU64,
    /// Messages stored for the first time.
    pub new: AtomicU64,
    /// Redelivered messages skipped.
    pub duplicate: AtomicU64,
    /// Facts merged.
    pub facts: AtomicU64,
    /// Alerts folded in from new `alert` messages.
    pub alerts: AtomicU64,
    /// Messages that were not Ward envelopes.
    pub malformed: AtomicU64,
    /// Messages of a kind or version this server does not know.
    pub unknown: AtomicU64,
    /// Batches committed.
    pub batches: AtomicU64,
    /// Set to stop the consumer.
    pub stop: AtomicBool,
}

/// Consumes until `stats.stop` is set. Transient NATS or store failures are
/// logged and retried (unacknowledged messages come back).
pub async fn run(
    client: async_nats::Client,
    store: Store,
    opts: Options,
    stats: Arc<Stats>,
    hooks: Hooks,
) -> Result<(), Error> {
    let store = Arc::new(Mutex::new(store));
    let r = consume(client, store.clone(), opts, stats, hooks).await;
    // The synchronous PostgreSQL client must not be dropped on an async thread.
    let _ = tokio::task::spawn_blocking(move || drop(store)).await;
    r
}

/// Most bytes per fetch: under nats-server's default `max_pending` (64 MiB
/// per client), past which the server drops the consumer's connection as a
/// slow consumer while it decodes a batch (seen with `scripts/bench-ingest`
/// on a busy machine: 256 messages of 2,000 facts pass 64 MiB); its
/// messages then wait out `ack_wait` (30 s) to be redelivered.
const FETCH_MAX_BYTES: usize = 32 << 20;

async fn consume(
    client: async_nats::Client,
    store: Arc<Mutex<Store>>,
    opts: Options,
    stats: Arc<Stats>,
    hooks: Hooks,
) -> Result<(), Error> {
    let hook = hooks.alerts;
    let rebuilt = hooks.rebuilt;
    let js = async_nats::jetstream::new(client);
    let mut backoff = Duration::from_millis(200);
    // The inventory of sites whose last ingest was not rebuilt yet (crash).
    rebuild(&store, &rebuilt).await?;
    let mut last_rebuild = Instant::now();
    // New observations are stored but their sites not rebuilt yet (kept
    // across reconnects).
    let mut dirty = false;
    'connect: loop {
        if stats.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let consumer = match consumer(&js, &opts).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("ward server: {e}; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        let mut status = StatusWriter::default();
        // The batch being stored while the next one is fetched and decoded.
        let mut inflight: Option<InFlight> = None;
        loop {
            if stats.stop.load(Ordering::Relaxed) {
                if let Some(f) = inflight.take() {
                    finish(f, &stats, &hook, &mut backoff).await?;
                }
                return Ok(());
            }
            status.tick(&consumer, &store, opts.ack_wait).await;
            let fetched = consumer
                .fetch()
                .max_messages(opts.batch)
                .max_bytes(FETCH_MAX_BYTES)
                .expires(Duration::from_millis(500))
                .messages()
                .await;
            let mut messages = match fetched {
                Ok(m) => m,
                Err(e) => {
                    if let Some(f) = inflight.take() {
                        dirty |= finish(f, &stats, &hook, &mut backoff).await?;
                    }
                    eprintln!("ward server: fetch: {e}; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue 'connect;
                }
            };
            let mut batch = Vec::new();
            while let Some(m) = messages.next().await {
                match m {
                    Ok(m) => batch.push(m),
                    // The next message would pass FETCH_MAX_BYTES: the batch is whole.
                    Err(e) if e.to_string().contains("Message Size Exceeds MaxBytes") => break,
                    Err(e) => {
                        eprintln!("ward server: fetch: {e}");
                        break;
                    }
                }
            }
            if batch.is_empty() {
                if let Some(f) = inflight.take() {
                    dirty |= finish(f, &stats, &hook, &mut backoff).await?;
                }
                if dirty {
                    rebuild(&store, &rebuilt).await?;
                    dirty = false;
                    last_rebuild = Instant::now();
                }
                continue;
            }
            stats
                .received
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            let mut obs = Vec::with_capacity(batch.len());
            let mut alerts = Vec::new();
            for m in &batch {
                match Envelope::decode(&m.payload) {
                    Ok(Decoded::Message(e)) => match e.body {
                        Body::Observation(o) => obs.push(o),
                        Body::Alert(a) => alerts.push(a),
                    },
                    Ok(Decoded::Unknown(k)) => {
                        stats.unknown.fetch_add(1, Ordering::Relaxed);
                        eprintln!(
                            "ward server: skipped a message of unknown kind ({k}) on {}",
                            m.subject
                        );
                    }
                    Err(e) => {
                        stats.malformed.fetch_add(1, Ordering::Relaxed);
                        eprintln!(
                            "ward server: dropped a malformed message on {}: {}",
                            m.subject,
                            e.to_string().chars().take(200).collect::<String>()
                        );
                    }
                }
            }
            // The previous batch is committed and acknowledged first: batches
            // are stored in the order they were fetched.
            if let Some(f) = inflight.take() {
                dirty |= finish(f, &stats, &hook, &mut backoff).await?;
            }
            // While a backlog waits (the fetch came back full, or messages
            // were waiting at the last look), rebuilding now would be redone
            // for the next batches: rebuild less often then, and as usual
            // once the stream keeps up.
            let backlog = batch.len() >= opts.batch || status.waiting > 0;
            let every = if backlog {
                opts.rebuild_every * BACKLOG_REBUILD_FACTOR
            } else {
                opts.rebuild_every
            };
            if dirty && last_rebuild.elapsed() >= every {
                rebuild(&store, &rebuilt).await?;
                dirty = false;
                last_rebuild = Instant::now();
            }
            let st = store.clone();
            let exporting = hook.is_some();
            let task = tokio::task::spawn_blocking(move || {
                let mut s = st.lock().unwrap_or_else(|p| p.into_inner());
                let out = s.ingest_observations(&obs, now_unix())?;
                if alerts.is_empty() {
                    return Ok((out, 0, 0, 0, Vec::new()));
                }
                let (stored, dup) = s.ingest_alerts(&alerts, now_unix())?;
                let fresh = (alerts.len() as u64).saturating_sub(dup);
                let folded = stored.len() as u64;
                // Read back with ids and status for the exports (after the commit).
                let export = if exporting && !stored.is_empty() {
                    s.stored_alerts_for(&stored).unwrap_or_else(|e| {
                        eprintln!("ward server: cannot read back alerts to export them: {e}");
                        Vec::new()
                    })
                } else {
                    Vec::new()
                };
                Ok::<_, store::Error>((out, fresh, dup, folded, export))
            });
            inflight = Some(InFlight { batch, task });
        }
    }
}

/// What storing a batch yields: the observations' outcome, alert messages
/// new and duplicate, alerts folded, and the stored alerts to export.
type Stored = (store::IngestOutcome, u64, u64, u64, Vec<store::StoredAlert>);

/// A batch whose transaction runs on a blocking thread.
struct InFlight {
    batch: Vec<async_nats::jetstream::Message>,
    task: tokio::task::JoinHandle<Result<Stored, store::Error>>,
}

/// Waits for a batch's commit, then acknowledges its messages and hands its
/// new alerts to the exports; whether it stored new observations. A batch
/// that could not be stored is not acknowledged (it is redelivered).
async fn finish(
    f: InFlight,
    stats: &Stats,
    hook: &Option<AlertHook>,
    backoff: &mut Duration,
) -> Result<bool, Error> {
    let result = f
        .task
        .await
        .map_err(|_| Error::Config("ingest task failed".into()))?;
    match result {
        Ok((out, fresh, dup, folded, export)) => {
            stats.alerts.fetch_add(folded, Ordering::Relaxed);
            stats.new.fetch_add(out.new + fresh, Ordering::Relaxed);
            stats
                .duplicate
                .fetch_add(out.duplicate + dup, Ordering::Relaxed);
            stats.facts.fetch_add(out.facts, Ordering::Relaxed);
            stats.batches.fetch_add(1, Ordering::Relaxed);
            for m in &f.batch {
                if let Err(e) = m.ack().await {
                    // Unacknowledged: it comes back and is skipped as a duplicate.
                    eprintln!("ward server: ack: {e}");
                }
            }
            if !export.is_empty() {
                if let Some(h) = hook.clone() {
                    let _ = tokio::task::spawn_blocking(move || h(export)).await;
                }
            }
            *backoff = Duration::from_millis(200);
            Ok(out.new > 0)
        }
        Err(e) => {
            // Not acknowledged: redelivered after ack_wait.
            eprintln!(
                "ward server: cannot store a batch of {}: {e}; it will be redelivered",
                f.batch.len()
            );
            tokio::time::sleep(*backoff).await;
            *backoff = (*backoff * 2).min(Duration::from_secs(5));
            Ok(false)
        }
    }
}

/// Records the consumer's state in the store for the dashboard
/// ([`store::TransportStatus`]): read at most every 2 s, written when it
/// changed or every minute (so that its time shows it is current).
#[derive(Default)]
struct StatusWriter {
    /// Messages waiting for this consumer at the last look.
    waiting: u64,
    read: Option<Instant>,
    written: Option<(store::TransportStatus, Instant)>,
}

impl StatusWriter {
    async fn tick(
        &mut self,
        consumer: &async_nats::jetstream::consumer::PullConsumer,
        store: &Arc<Mutex<Store>>,
        ack_wait: Duration,
    ) {
        if self
            .read
            .is_some_and(|t| t.elapsed() < Duration::from_secs(2))
        {
            return;
        }
        self.read = Some(Instant::now());
        let Ok(info) = consumer.get_info().await else {
            return;
        };
        self.waiting = info.num_pending;
        let s = store::TransportStatus {
            consumer: DURABLE.to_string(),
            waiting: info.num_pending,
            unacknowledged: info.num_ack_pending as u64,
            redelivered: info.num_redelivered as u64,
            ack_wait: ack_wait.as_secs(),
            at: now_unix(),
        };
        let same = self.written.as_ref().is_some_and(|(w, t)| {
            t.elapsed() < Duration::from_secs(60)
                && (w.waiting, w.unacknowledged, w.redelivered)
                    == (s.waiting, s.unacknowledged, s.redelivered)
        });
        if same {
            return;
        }
        let st = store.clone();
        let rec = s.clone();
        // Not while a batch is being stored (the consumer would wait for
        // it instead of fetching the next batch): tried again next time.
        let r = tokio::task::spawn_blocking(move || match st.try_lock() {
            Ok(mut s) => Some(s.record_transport_status(&rec)),
            Err(std::sync::TryLockError::Poisoned(p)) => {
                Some(p.into_inner().record_transport_status(&rec))
            }
            Err(std::sync::TryLockError::WouldBlock) => None,
        })
        .await;
        match r {
            Ok(Some(Ok(()))) => self.written = Some((s, Instant::now())),
            Ok(Some(Err(e))) => {
                eprintln!("ward server: cannot record the transport status: {e}")
            }
            Ok(None) | Err(_) => {}
        }
    }
}

async fn consumer(
    js: &async_nats::jetstream::Context,
    opts: &Options,
) -> Result<async_nats::jetstream::consumer::PullConsumer, Error> {
    let stream = js
        .get_or_create_stream(crate::stream_config())
        .await
        .map_err(nats)?;
    stream
        .get_or_create_consumer(
            DURABLE,
            async_nats::jetstream::consumer::pull::Config {
                durable_name: Some(DURABLE.to_string()),
                ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
                ack_wait: opts.ack_wait,
                max_ack_pending: (opts.batch as i64 * 4).max(64),
                ..Default::default()
            },
        )
        .await
        .map_err(nats)
}

async fn rebuild(store: &Arc<Mutex<Store>>, hook: &Option<RebuildHook>) -> Result<(), Error> {
    let st = store.clone();
    let hook = hook.clone();
    let sites = tokio::task::spawn_blocking(move || {
        let mut st = st.lock().unwrap_or_else(|p| p.into_inner());
        let r = st.rebuild_dirty_sites_seen()?;
        if let Some(h) = hook.filter(|_| !r.devices.is_empty()) {
            h(&mut st, r.devices);
        }
        Ok::<_, store::Error>(r.sites)
    })
    .await
    .map_err(|_| Error::Config("rebuild task failed".into()))?;
    match sites {
        Ok(_) => Ok(()),
        Err(e) => {
            // The sites stay marked dirty; the next rebuild retries them.
            eprintln!("ward server: inventory rebuild failed: {e}");
            Ok(())
        }
    }
}
