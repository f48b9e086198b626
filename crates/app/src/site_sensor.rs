//! A site's sensor (`ward sensor`): analyzes the captures that appear in a
//! watch folder (or, with the `live` feature, batches from an interface)
//! with the local engine, cuts each analysis into bounded messages with
//! stable ids (`SENSOR:SHA256-OF-FILE:N`), puts them in the on-disk outbox
//! and publishes them to JetStream (`transport::publish`). A file moves to
//! `done/` once all its messages are in the outbox (to `failed/` if it is
//! not a capture); when the outbox is full the sensor stops reading input
//! until there is room again.
//!
//! With a baseline the sensor also monitors: each capture goes through the
//! alert detectors (`monitor::Detector`, default thresholds) against that
//! baseline — learnt at the centre and shipped to the site, or learnt on the
//! site's own traffic the same way — and the alerts, resolved to the
//! capture's device keys, are cut into `alert` messages with stable ids
//! (`SENSOR:SHA256-OF-FILE:aN`) that travel through the same outbox, with
//! the same at-least-once delivery, as the observations. The centre names
//! their devices `SITE/KEY`, folds and exports them.

use crate::{invalid, Context, Error, Notify, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use transport::outbox::Outbox;
use transport::publish::Shared;

/// What a site sensor does.
#[derive(Debug, Clone)]
pub struct SensorOptions {
    /// Site name (letters, digits, - and _): the subject `ward.obs.SITE` and the device-key prefix.
    pub site: Option<String>,
    /// Sensor id in message ids (default: the site name).
    pub sensor_id: Option<String>,
    /// Where NATS is and how to authenticate (its client name is set here).
    pub nats: transport::NatsOptions,
    /// Folder to watch for capture files; analyzed files move to DIR/done.
    pub watch: Option<PathBuf>,
    /// Capture from this interface in batches (feature `live`).
    pub interface: Option<String>,
    /// Seconds per live-capture batch.
    pub batch_seconds: u64,
    /// On-disk buffer (outbox) for messages not yet acknowledged.
    pub buffer_dir: Option<PathBuf>,
    /// Buffer size limit in MiB.
    pub buffer_max_mib: u64,
    /// Most facts per message.
    pub max_facts: usize,
    /// Return once the watch folder holds no new capture and everything buffered was delivered.
    pub exit_when_drained: bool,
    /// Worker threads for analysis.
    pub workers: Option<usize>,
    /// Monitor against this baseline file and send the alerts.
    pub baseline: Option<PathBuf>,
}

/// Runs the sensor until it is drained (`exit_when_drained`), the publisher
/// stops, or an error.
pub fn run(a: &SensorOptions, notify: &dyn Notify) -> Result<()> {
    let Some(site) = a.site.clone() else {
        invalid!("--site is required")
    };
    if !store::valid_site(&site) {
        invalid!("--site must be 1-64 letters, digits, - or _");
    }
    let sensor_id = a.sensor_id.clone().unwrap_or_else(|| site.clone());
    if sensor_id.is_empty() || sensor_id.len() > 64 || sensor_id.contains([':', '\n']) {
        invalid!("--sensor-id must be 1-64 characters without ':'");
    }
    let Some(buffer_dir) = a.buffer_dir.clone() else {
        invalid!("--buffer-dir is required")
    };
    if a.buffer_max_mib == 0 {
        invalid!("--buffer-max-mib must be at least 1");
    }
    if a.watch.is_none() && a.interface.is_none() {
        invalid!("give --watch DIR or --interface IF");
    }
    let cfg = crate::analyze::config(a.workers, None, None)?;
    let baseline = a
        .baseline
        .as_deref()
        .map(crate::monitor::read_baseline)
        .transpose()?;
    if a.interface.is_some() && baseline.is_some() {
        invalid!(
            "--baseline works with --watch (live monitoring on a site sensor is not supported yet)"
        );
    }
    let outbox = Arc::new(Outbox::open(&buffer_dir, a.buffer_max_mib * 1024 * 1024)?);
    let shared = Arc::new(Shared::default());
    let opts = transport::NatsOptions {
        name: format!("ward-sensor-{sensor_id}"),
        ..a.nats.clone()
    };
    let nats_label = opts.display_url();

    // The publisher runs on its own thread and runtime.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let client = rt.block_on(transport::connect(&opts, false))?;
    let publisher = {
        let (outbox, shared, site) = (outbox.clone(), shared.clone(), site.clone());
        rt.spawn(transport::publish::run(
            client, outbox, shared, site, nats_label,
        ))
    };
    notify.line(&format!(
        "ward sensor: site {site}, buffer {} (max {} MiB)",
        buffer_dir.display(),
        a.buffer_max_mib
    ));

    let result = if let Some(dir) = &a.watch {
        watch(
            dir,
            a,
            &site,
            &sensor_id,
            &cfg,
            baseline.as_ref(),
            &outbox,
            &shared,
            notify,
        )
    } else {
        live(a, &site, &sensor_id, &cfg, &outbox, &shared)
    };
    match &result {
        Ok(()) => shared.stop_when_drained.store(true, Ordering::Relaxed),
        Err(_) => shared.stop.store(true, Ordering::Relaxed),
    }
    let published = rt
        .block_on(publisher)
        .map_err(|_| Error::Thread("publisher task"))?;
    result?;
    published?;
    Ok(())
}

/// Puts one analysis's messages in the outbox, waiting while it is full.
fn enqueue(
    messages: Vec<transport::envelope::Envelope>,
    outbox: &Outbox,
    shared: &Shared,
) -> Result<()> {
    for m in messages {
        let payload = m.encode()?;
        loop {
            match outbox.push(&m.id, &payload) {
                Ok(_) => break,
                Err(transport::Error::Full { .. })
                    if ((payload.len() + m.id.len()) as u64) < outbox.max_bytes() =>
                {
                    shared.full.store(true, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    shared.full.store(false, Ordering::Relaxed);
    Ok(())
}

/// The SHA-256 of a file, in hex.
pub fn sha256_file(p: &Path) -> Result<String> {
    let mut f = std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn move_into(file: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = file.file_name().unwrap_or_default();
    std::fs::rename(file, dir.join(name))
        .with_context(|| format!("cannot move {} to {}", file.display(), dir.display()))
}

/// Capture files ready in the folder: regular files not hidden and not
/// modified in the last second (still being written), by name.
pub fn ready_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(md) = e.metadata() else { continue };
        if !md.is_file() || name.starts_with('.') {
            continue;
        }
        let fresh = md
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_none_or(|age| age < Duration::from_secs(1));
        if !fresh {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Analyses one capture: facts and report, and with a baseline the alerts
/// its traffic raises, resolved to the capture's device keys.
fn analyze_one(
    f: &Path,
    cfg: &sensor::Config,
    workers: Option<usize>,
    baseline: Option<&monitor::Baseline>,
    notify: &dyn Notify,
) -> Result<(Vec<identify::Fact>, sensor::Report, Vec<monitor::Alert>)> {
    let Some(base) = baseline else {
        let progress = sensor::Progress::default();
        let (o, r) = sensor::analyze_files(&[f.to_path_buf()], cfg, &progress, None)?;
        return Ok((o.into_facts(), r, Vec::new()));
    };
    let det = monitor::Detector::new(base.clone(), monitor::DetectorConfig::default());
    let (observer, report, det) =
        crate::monitor::run_pipeline(&[f.to_path_buf()], workers, det, |d, ev| d.observe(ev))?;
    let (mut alerts, dropped) = det.finish();
    if dropped > 0 {
        notify.line(&format!(
            "ward sensor: {}: {dropped} alerts or scan sources dropped at the limits",
            f.display()
        ));
    }
    let facts = observer.into_facts();
    let devices = identify::build_inventory(&facts);
    crate::monitor::resolve(&mut alerts, &crate::monitor::Directory::new(&devices, &[]));
    Ok((facts, report, alerts))
}

#[allow(clippy::too_many_arguments)]
fn watch(
    dir: &Path,
    a: &SensorOptions,
    site: &str,
    sensor_id: &str,
    cfg: &sensor::Config,
    baseline: Option<&monitor::Baseline>,
    outbox: &Outbox,
    shared: &Shared,
    notify: &dyn Notify,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    loop {
        let files = ready_files(dir)?;
        for f in &files {
            let digest = sha256_file(f)?;
            match analyze_one(f, cfg, a.workers, baseline, notify) {
                Ok((facts, report, alerts)) => {
                    let name = PathBuf::from(f.file_name().unwrap_or_default());
                    let summary = crate::analyze::run_summary(&[name], &report);
                    let base = format!("{sensor_id}:{}", &digest[..32]);
                    let mut messages = transport::envelope::split(
                        sensor_id,
                        site,
                        &base,
                        facts,
                        report.anomalies(),
                        summary,
                        a.max_facts,
                    )?;
                    let n_alerts = alerts.len();
                    messages.extend(transport::envelope::split_alerts(
                        sensor_id, site, &base, alerts,
                    )?);
                    let n = messages.len();
                    enqueue(messages, outbox, shared)?;
                    move_into(f, &dir.join("done"))?;
                    notify.line(&format!(
                        "ward sensor: {}: {n} messages queued",
                        f.display()
                    ));
                    if baseline.is_some() {
                        notify.line(&format!("ward sensor: {}: {n_alerts} alerts", f.display()));
                    }
                }
                Err(e) => {
                    notify.line(&format!("ward sensor: {}: not analyzed: {e}", f.display()));
                    move_into(f, &dir.join("failed"))?;
                }
            }
        }
        if files.is_empty() && a.exit_when_drained {
            return Ok(());
        }
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if files.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

#[cfg(feature = "live")]
fn live(
    a: &SensorOptions,
    site: &str,
    sensor_id: &str,
    cfg: &sensor::Config,
    outbox: &Outbox,
    shared: &Shared,
) -> Result<()> {
    let interface = a.interface.clone().unwrap_or_default();
    let mut src = capture::LiveCapture::open(&interface, None)?;
    let mut n = 0u64;
    loop {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let deadline = std::time::Instant::now() + Duration::from_secs(a.batch_seconds.max(1));
        let (observer, report) =
            sensor::analyze_source(&mut src, cfg, &|| std::time::Instant::now() >= deadline)?;
        let summary = crate::analyze::run_summary(
            &[PathBuf::from(format!("interface:{interface}"))],
            &report,
        );
        let base = format!("{sensor_id}:live-{started}-{n}");
        enqueue(
            transport::envelope::split(
                sensor_id,
                site,
                &base,
                observer.into_facts(),
                report.anomalies(),
                summary,
                a.max_facts,
            )?,
            outbox,
            shared,
        )?;
        n += 1;
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
    }
}

#[cfg(not(feature = "live"))]
fn live(
    _: &SensorOptions,
    _: &str,
    _: &str,
    _: &sensor::Config,
    _: &Outbox,
    _: &Shared,
) -> Result<()> {
    invalid!("--interface needs a ward built with the `live` feature (libpcap); use --watch with a capture folder")
}
