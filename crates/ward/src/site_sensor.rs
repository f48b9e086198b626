//! `ward sensor`: arguments of a site's sensor (`app::site_sensor`: watch
//! folder or interface → outbox → JetStream, optionally monitoring against
//! a baseline) and `ward sensor status`.

use crate::nats_args::NatsArgs;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use transport::publish::Status;

/// Arguments of `ward sensor`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SensorArgs {
    #[command(subcommand)]
    action: Option<SensorCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum SensorCommand {
    /// Print the sensor's delivery status (connected, buffering, full; messages and bytes buffered).
    Status {
        /// The sensor's --buffer-dir.
        #[arg(long, value_name = "DIR")]
        buffer_dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Site name (letters, digits, - and _): the subject ward.obs.SITE and the device-key prefix.
    #[arg(long)]
    site: Option<String>,
    /// Sensor id in message ids (default: the site name).
    #[arg(long)]
    sensor_id: Option<String>,
    #[command(flatten)]
    nats: NatsArgs,
    /// Folder to watch for capture files (pcap/pcapng); analyzed files move to DIR/done.
    #[arg(long, value_name = "DIR")]
    watch: Option<PathBuf>,
    /// Capture from this interface in batches (needs the `live` feature).
    #[arg(long, value_name = "IF", conflicts_with = "watch")]
    interface: Option<String>,
    /// Seconds per live-capture batch.
    #[arg(long, default_value_t = 60)]
    batch_seconds: u64,
    /// On-disk buffer (outbox) for messages not yet acknowledged by NATS.
    #[arg(long, value_name = "DIR")]
    buffer_dir: Option<PathBuf>,
    /// Buffer size limit in MiB; when full, the sensor stops reading input until NATS takes messages again.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    buffer_max_mib: u64,
    /// Most facts per message.
    #[arg(long, default_value_t = 2000)]
    max_facts: usize,
    /// Exit once the watch folder holds no new capture and everything buffered was delivered.
    #[arg(long)]
    exit_when_drained: bool,
    /// Worker threads for analysis.
    #[arg(long)]
    workers: Option<usize>,
    /// Monitor against this baseline (JSON: `ward baseline learn --out FILE` at the centre or on site) and send the alerts.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
}

/// Runs `ward sensor`.
pub fn run(args: SensorArgs) -> Result<()> {
    match args.action {
        Some(SensorCommand::Status { buffer_dir, json }) => status(&buffer_dir, json),
        None => sense(args.run),
    }
}

fn status(dir: &Path, json: bool) -> Result<()> {
    let st = Status::read(dir)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&st)?);
    } else {
        println!(
            "site {}: {} — {} messages ({} of {} MiB) buffered, {} delivered since start, nats {}{}",
            st.site,
            st.state,
            st.pending_messages,
            st.pending_bytes / (1024 * 1024),
            st.max_bytes / (1024 * 1024),
            st.published,
            st.nats,
            st.last_error.map(|e| format!(", last error: {e}")).unwrap_or_default()
        );
    }
    Ok(())
}

fn sense(a: RunArgs) -> Result<()> {
    let opts = app::site_sensor::SensorOptions {
        site: a.site,
        sensor_id: a.sensor_id,
        nats: a.nats.options(""),
        watch: a.watch,
        interface: a.interface,
        batch_seconds: a.batch_seconds,
        buffer_dir: a.buffer_dir,
        buffer_max_mib: a.buffer_max_mib,
        max_facts: a.max_facts,
        exit_when_drained: a.exit_when_drained,
        workers: a.workers,
        baseline: a.baseline,
    };
    Ok(app::site_sensor::run(&opts, &app::Stderr)?)
}
