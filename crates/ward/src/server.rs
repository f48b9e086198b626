//! `ward server`: the central server of a multi-site deployment. Consumes
//! the sensors' observations from JetStream into the store (PostgreSQL;
//! `transport::ingest`) on its own thread and serves the dashboard and API
//! for all sites (`ward serve`, with the site filter).

use crate::nats_args::NatsArgs;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `ward server`.
#[derive(Args)]
pub struct ServerArgs {
    #[command(flatten)]
    nats: NatsArgs,
    #[command(flatten)]
    web: crate::serve::ServeArgs,
    /// Most messages per ingest transaction.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Seconds JetStream waits for an acknowledgement before redelivering a message.
    #[arg(long, default_value_t = 30)]
    ack_wait_secs: u64,
    /// Only ingest; do not serve the dashboard.
    #[arg(long)]
    no_web: bool,
    /// Print ingest counters every N seconds (0: never).
    #[arg(long, default_value_t = 10)]
    stats_every: u64,
}

/// Runs `ward server`.
pub fn run(args: ServerArgs) -> Result<()> {
    if args.batch == 0 || args.batch > 10_000 {
        bail!("--batch must be between 1 and 10000");
    }
    if args.ack_wait_secs == 0 {
        bail!("--ack-wait-secs must be at least 1");
    }
    let store = crate::location::open(&args.web.db)?;
    let opts = transport::ingest::Options {
        batch: args.batch,
        ack_wait: Duration::from_secs(args.ack_wait_secs),
        ..Default::default()
    };
    let nats = args.nats.options("ward-server");
    let stats = Arc::new(transport::ingest::Stats::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let client = rt.block_on(transport::connect(&nats, false))?;
    eprintln!(
        "ward server: consuming {} from {}",
        transport::STREAM,
        nats.display_url()
    );
    let ingest = rt.spawn(transport::ingest::run(client, store, opts, stats.clone()));
    if args.stats_every > 0 {
        let (s, every) = (stats.clone(), args.stats_every);
        rt.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(every)).await;
                eprintln!(
                    "ward server: {} messages received, {} new, {} duplicate, {} facts, {} malformed, {} unknown",
                    s.received.load(Ordering::Relaxed),
                    s.new.load(Ordering::Relaxed),
                    s.duplicate.load(Ordering::Relaxed),
                    s.facts.load(Ordering::Relaxed),
                    s.malformed.load(Ordering::Relaxed),
                    s.unknown.load(Ordering::Relaxed)
                );
            }
        });
    }
    if args.no_web {
        rt.block_on(ingest)
            .map_err(|_| anyhow::anyhow!("ingest task failed"))??;
        return Ok(());
    }
    // The dashboard runs on the main thread; ingest failing ends the process.
    let r = std::thread::spawn(move || rt.block_on(ingest));
    let watcher = std::thread::spawn(move || {
        if let Ok(Ok(Err(e))) = r.join() {
            eprintln!("ward: error: ingest stopped: {e}");
            std::process::exit(2);
        }
    });
    let served = crate::serve::run(args.web);
    drop(watcher);
    served
}
