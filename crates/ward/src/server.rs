//! `ward server`: the central server of a multi-site deployment. Consumes
//! the sensors' observations and alerts from JetStream into the store
//! (PostgreSQL; `transport::ingest`) on its own thread, exports the alerts
//! it newly stores (syslog/CEF, webhooks, as `ward monitor` does, with the
//! site named) and serves the dashboard and API for all sites (`ward
//! serve`, with the site filter). SIGTERM or Ctrl-C stops both: requests in
//! flight finish, the batch in flight commits or is redelivered, and the
//! store is closed off the async runtime.

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
    /// Send the alerts the sensors deliver, as stored, as RFC 5424 syslog (CEF message) to udp://HOST:PORT or tcp://HOST:PORT.
    #[arg(long, value_name = "URL")]
    syslog: Option<String>,
    #[command(flatten)]
    hook: crate::alerts::WebhookArgs,
}

/// Runs `ward server`.
pub fn run(args: ServerArgs) -> Result<()> {
    if args.batch == 0 || args.batch > 10_000 {
        bail!("--batch must be between 1 and 10000");
    }
    if args.ack_wait_secs == 0 {
        bail!("--ack-wait-secs must be at least 1");
    }
    if let Some(u) = &args.syslog {
        if !(u.starts_with("udp://") || u.starts_with("tcp://")) {
            bail!("--syslog wants udp://HOST:PORT or tcp://HOST:PORT, not {u:?}");
        }
    }
    let webhook = args.hook.webhook()?;
    let hook: Option<transport::ingest::AlertHook> = if args.syslog.is_some() || webhook.is_some() {
        let syslog = args.syslog.clone();
        Some(Arc::new(move |stored: Vec<store::StoredAlert>| {
            // A failed export is a warning: the alerts are stored, and
            // `ward alerts --syslog/--webhook` can send them again.
            if let Some(u) = &syslog {
                if let Err(e) = export::send_syslog(u, &stored) {
                    eprintln!("ward server: warning: {e:#}");
                }
            }
            if let Some(h) = &webhook {
                if let Err(e) = h.deliver(&stored) {
                    eprintln!("ward server: warning: {e:#}");
                }
            }
        }))
    } else {
        None
    };
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
    let ingest = rt.spawn(transport::ingest::run(
        client,
        store,
        opts,
        stats.clone(),
        hook,
    ));
    if args.stats_every > 0 {
        let (s, every) = (stats.clone(), args.stats_every);
        rt.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(every)).await;
                eprintln!(
                    "ward server: {} messages received, {} new, {} duplicate, {} facts, {} alerts, {} malformed, {} unknown",
                    s.received.load(Ordering::Relaxed),
                    s.new.load(Ordering::Relaxed),
                    s.duplicate.load(Ordering::Relaxed),
                    s.facts.load(Ordering::Relaxed),
                    s.alerts.load(Ordering::Relaxed),
                    s.malformed.load(Ordering::Relaxed),
                    s.unknown.load(Ordering::Relaxed)
                );
            }
        });
    }
    let stop = stats.clone();
    if args.no_web {
        // Until SIGTERM/Ctrl-C, or until ingest fails.
        let mut ingest = ingest;
        let done = rt.block_on(async {
            tokio::select! {
                r = &mut ingest => Some(r),
                _ = web::shutdown_signal() => None,
            }
        });
        let r = match done {
            Some(r) => r,
            None => {
                stop.stop.store(true, Ordering::Relaxed);
                rt.block_on(ingest)
            }
        };
        drop(rt);
        r.map_err(|_| anyhow::anyhow!("ingest task failed"))??;
        eprintln!("ward server: stopped");
        return Ok(());
    }
    // The dashboard runs on the main thread; ingest failing ends the process.
    let consumer = std::thread::spawn(move || {
        let r = rt.block_on(ingest);
        drop(rt);
        if let Ok(Err(e)) = r {
            eprintln!("ward: error: ingest stopped: {e}");
            std::process::exit(2);
        }
    });
    let served = crate::serve::run(args.web);
    // The dashboard stopped (SIGTERM, Ctrl-C or an error): stop consuming,
    // let the batch in flight commit (or not: it is redelivered) and close
    // the store off the runtime. A consumer stuck reconnecting to NATS is
    // not waited for beyond a few seconds.
    stop.stop.store(true, Ordering::Relaxed);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !consumer.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if consumer.is_finished() {
        let _ = consumer.join();
    }
    served
}
