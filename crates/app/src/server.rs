//! The centre of a multi-site deployment (`ward server`): consumes the
//! sensors' observations and alerts from JetStream into the store
//! (`transport::ingest`) on a runtime of its own, hands the alerts it newly
//! stores to an [`transport::ingest::AlertHook`] (syslog/webhook export),
//! brings the remediation items of the devices each inventory rebuild
//! stores in line ([`crate::remediation::sync_seen`]) and reports its
//! counters. It runs either until SIGTERM or Ctrl-C
//! ([`Ingest::run_until_signal`]) or beside the dashboard
//! ([`Ingest::in_background`], stopped with [`Background::stop`]): the batch
//! in flight commits or is redelivered, and the store is closed off the
//! async runtime (the synchronous PostgreSQL client must not be dropped on it).

use crate::{invalid, Context, Error, Notify, Result};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use transport::ingest::{AlertHook, Stats};

/// How the centre consumes.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Most messages per ingest transaction (1-10000).
    pub batch: usize,
    /// Seconds JetStream waits for an acknowledgement before redelivering (at least 1).
    pub ack_wait_secs: u64,
    /// Report the counters every this many seconds (0: never).
    pub stats_every: u64,
}

impl IngestOptions {
    /// Checks the limits.
    pub fn check(&self) -> Result<()> {
        if self.batch == 0 || self.batch > 10_000 {
            invalid!("--batch must be between 1 and 10000");
        }
        if self.ack_wait_secs == 0 {
            invalid!("--ack-wait-secs must be at least 1");
        }
        Ok(())
    }
}

/// The counters as one line.
pub fn stats_line(s: &Stats) -> String {
    format!(
        "ward server: {} messages received, {} new, {} duplicate, {} facts, {} alerts, {} malformed, {} unknown",
        s.received.load(Ordering::Relaxed),
        s.new.load(Ordering::Relaxed),
        s.duplicate.load(Ordering::Relaxed),
        s.facts.load(Ordering::Relaxed),
        s.alerts.load(Ordering::Relaxed),
        s.malformed.load(Ordering::Relaxed),
        s.unknown.load(Ordering::Relaxed)
    )
}

/// A running consumer.
pub struct Ingest {
    rt: tokio::runtime::Runtime,
    task: tokio::task::JoinHandle<Result<(), transport::Error>>,
    stats: Arc<Stats>,
}

/// Waits for SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl Ingest {
    /// Connects to NATS (`nats`, its client name set to `ward-server`) and
    /// starts consuming into `store`.
    pub fn start(
        store: store::Store,
        nats: &transport::NatsOptions,
        opts: &IngestOptions,
        hook: Option<AlertHook>,
        notify: Arc<dyn Notify>,
    ) -> Result<Ingest> {
        opts.check()?;
        let nats = transport::NatsOptions {
            name: "ward-server".into(),
            ..nats.clone()
        };
        let consumer = transport::ingest::Options {
            batch: opts.batch,
            ack_wait: Duration::from_secs(opts.ack_wait_secs),
            ..Default::default()
        };
        let stats = Arc::new(Stats::default());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let client = rt.block_on(transport::connect(&nats, false))?;
        notify.line(&format!(
            "ward server: consuming {} from {}",
            transport::STREAM,
            nats.display_url()
        ));
        // The items of the devices each rebuild stored follow them, as after
        // a single-box run; what changed is one line.
        let synced = notify.clone();
        let hooks = transport::ingest::Hooks {
            alerts: hook,
            rebuilt: Some(Arc::new(move |store, devices| {
                crate::remediation::sync_seen_notifying(store, &devices, &*synced)
            })),
        };
        let task = rt.spawn(transport::ingest::run(
            client,
            store,
            consumer,
            stats.clone(),
            hooks,
        ));
        if opts.stats_every > 0 {
            let (s, every) = (stats.clone(), opts.stats_every);
            rt.spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(every)).await;
                    notify.line(&stats_line(&s));
                }
            });
        }
        Ok(Ingest { rt, task, stats })
    }

    /// The counters so far.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Consumes until SIGTERM/Ctrl-C (then lets the batch in flight finish)
    /// or until ingest fails.
    pub fn run_until_signal(self) -> Result<()> {
        let Ingest {
            rt,
            mut task,
            stats,
        } = self;
        let done = rt.block_on(async {
            tokio::select! {
                r = &mut task => Some(r),
                _ = shutdown_signal() => None,
            }
        });
        let r = match done {
            Some(r) => r,
            None => {
                stats.stop.store(true, Ordering::Relaxed);
                rt.block_on(task)
            }
        };
        drop(rt);
        r.map_err(|_| Error::Thread("ingest task"))??;
        Ok(())
    }

    /// Consumes on a thread of its own; `on_error` gets the error if ingest fails.
    pub fn in_background(self, on_error: impl FnOnce(Error) + Send + 'static) -> Background {
        let Ingest { rt, task, stats } = self;
        let thread = std::thread::spawn(move || {
            let r = rt.block_on(task);
            drop(rt);
            if let Ok(Err(e)) = r {
                on_error(e.into());
            }
        });
        Background { thread, stats }
    }
}

/// A consumer running beside something else (the dashboard).
pub struct Background {
    thread: std::thread::JoinHandle<()>,
    stats: Arc<Stats>,
}

impl Background {
    /// Stops consuming: the batch in flight commits (or not: it is
    /// redelivered) and the store is closed. A consumer stuck reconnecting
    /// to NATS is not waited for beyond a few seconds.
    pub fn stop(self) {
        self.stats.stop.store(true, Ordering::Relaxed);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !self.thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.thread.is_finished() {
            let _ = self.thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let o = |batch, ack_wait_secs| IngestOptions {
            batch,
            ack_wait_secs,
            stats_every: 0,
        };
        assert!(o(256, 30).check().is_ok());
        assert!(o(0, 30).check().is_err());
        assert!(o(10_001, 30).check().is_err());
        assert_eq!(
            o(1, 0).check().unwrap_err().to_string(),
            "--ack-wait-secs must be at least 1"
        );
        let s = Stats::default();
        s.new.store(3, Ordering::Relaxed);
        assert!(stats_line(&s).contains("3 new"));
    }
}
