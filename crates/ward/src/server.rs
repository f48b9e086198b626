//! `ward server`: the central server of a multi-site deployment. Consumes
//! the sensors' observations and alerts from JetStream into the store
//! (PostgreSQL; `app::server`) on its own thread, exports the alerts
//! it newly stores (syslog/CEF, webhooks, as `ward monitor` does, with the
//! site named) and serves the dashboard and API for all sites (`ward
//! serve`, with the site filter). SIGTERM or Ctrl-C stops both: requests in
//! flight finish, the batch in flight commits or is redelivered, and the
//! store is closed off the async runtime.

use crate::nats_args::NatsArgs;
use anyhow::{bail, Result};
use clap::Args;
use std::sync::Arc;

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
    let ingest = app::server::IngestOptions {
        batch: args.batch,
        ack_wait_secs: args.ack_wait_secs,
        stats_every: args.stats_every,
    };
    ingest.check()?;
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
    let consumer = app::server::Ingest::start(
        store,
        &args.nats.options(""),
        &ingest,
        hook,
        Arc::new(app::Stderr),
    )?;
    if args.no_web {
        consumer.run_until_signal()?;
        eprintln!("ward server: stopped");
        return Ok(());
    }
    // The dashboard runs on the main thread; ingest failing ends the process.
    let consumer = consumer.in_background(|e| {
        eprintln!("ward: error: ingest stopped: {e}");
        std::process::exit(2);
    });
    let served = crate::serve::run(args.web);
    // The dashboard stopped (SIGTERM, Ctrl-C or an error): stop consuming.
    consumer.stop();
    served
}
