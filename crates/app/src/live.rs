//! Live learning and monitoring (feature `live`): one sensor engine per
//! capture worker on the interface (`sensor::analyze_live` over a
//! `capture::Live`: AF_PACKET fanout sockets, or one libpcap worker), their
//! records consumed on a thread of their own
//! (learner or detector), and every flush interval a checkpoint: the facts
//! gathered so far and the alerts drained from the detector are handed to the
//! caller on the main thread (which stores and exports them). SIGINT and
//! SIGTERM stop the capture; everything pending is then flushed. A second
//! signal aborts at once.

use crate::monitor::LiveSource;
use crate::{Context, Error, Notify, Result};
use identify::Observer;
use model::Event;
use monitor::Alert;
use sensor::Report;
use std::time::Duration;

/// What the live pipeline hands the main thread, in order.
// One message per checkpoint (seconds apart): the size of the larger variant
// costs nothing, boxing it would cost an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Out {
    /// Facts and counters since the previous checkpoint.
    Facts(Observer, Report),
    /// Alerts drained at a checkpoint (after that checkpoint's facts), and the alerts dropped at the limits so far.
    Alerts(Vec<Alert>, u64),
}

/// Where and how long to capture, and how often to checkpoint.
pub struct Options<'a> {
    /// Interface, filter, duration.
    pub source: &'a LiveSource,
    /// Checkpoint interval.
    pub every: Duration,
}

/// Stops the capture at the first SIGINT or SIGTERM; exits at the second.
fn on_signals(stop: capture::StopHandle) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    let (mut int, mut term) = rt
        .block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            ))
        })
        .context("cannot handle signals")?;
    std::thread::spawn(move || {
        rt.block_on(async move {
            tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
            eprintln!("ward: stopping: flushing what is pending (signal again to abort)");
            stop.stop();
            tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
            eprintln!("ward: aborted");
            std::process::exit(130);
        })
    });
    Ok(())
}

/// Opens `interface` with `workers` workers (AF_PACKET where possible,
/// else one libpcap worker).
pub fn open_live(interface: &str, filter: Option<String>, workers: usize) -> Result<capture::Live> {
    let o = capture::LiveOptions {
        filter,
        workers,
        force_libpcap: false,
    };
    Ok(capture::Live::open(interface, &o)?)
}

/// The backend and workers of a live capture, for a status line:
/// `af_packet (2 workers)` or `libpcap (1 worker; AF_PACKET: why)`.
pub fn describe(live: &capture::Live) -> String {
    let n = live.worker_count();
    let workers = format!("{n} worker{}", if n == 1 { "" } else { "s" });
    match live.fallback_reason() {
        Some(why) => format!("{} ({workers}; {why})", live.backend().name()),
        None => format!("{} ({workers})", live.backend().name()),
    }
}

/// The status line of the kernel's counters of a live run.
pub fn kernel_line(packets: u64, drops: u64) -> String {
    format!("ward: kernel counters: {packets} packets received, {drops} dropped")
}

/// Captures on `o.source.interface` until its duration, a signal, or an error of
/// `handle`; every record goes to `consume(&mut state, record)` and at each
/// checkpoint `drain(&mut state)` may return alerts. Returns the state once
/// every flow has ended and every record was consumed.
pub fn run<T: Send>(
    o: &Options<'_>,
    mut state: T,
    consume: impl Fn(&mut T, &Event) + Send,
    drain: impl Fn(&mut T) -> Option<(Vec<Alert>, u64)> + Send,
    notify: &dyn Notify,
    handle: &mut dyn FnMut(Out) -> Result<()>,
) -> Result<T> {
    let cfg = crate::analyze::config(o.source.workers, None, None)?;
    let mut src = open_live(&o.source.interface, o.source.filter.clone(), cfg.workers)?;
    let stop = src.stop_handle();
    on_signals(src.stop_handle())?;
    if let Some(d) = o.source.duration {
        src.stop_after(d);
    }
    let until = o
        .source
        .duration
        .map_or("Ctrl-C or SIGTERM".to_string(), |d| {
            format!("{} s, Ctrl-C or SIGTERM", d.as_secs())
        });
    notify.line(&format!(
        "ward: capturing on {} with {} (until {until}), checkpoint every {} s",
        o.source.interface,
        describe(&src),
        o.every.as_secs_f64()
    ));
    let (ev_tx, ev_rx) = std::sync::mpsc::sync_channel::<Vec<Event>>(64);
    let (out_tx, out_rx) = std::sync::mpsc::channel::<Out>();
    std::thread::scope(|s| {
        let out_c = out_tx.clone();
        let consumer = s.spawn(move || {
            for batch in ev_rx {
                // The engine never sends an empty batch: an empty one is a checkpoint marker.
                if batch.is_empty() {
                    if let Some((a, dropped)) = drain(&mut state) {
                        let _ = out_c.send(Out::Alerts(a, dropped));
                    }
                }
                for ev in &batch {
                    consume(&mut state, ev);
                }
            }
            state
        });
        let out_k = out_tx;
        let every = o.every;
        let capture = s.spawn(move || -> Result<()> {
            let marker = ev_tx.clone();
            let mut kernel = (0, 0);
            let r = sensor::analyze_live(&mut src, &cfg, Some(ev_tx), every, &mut |obs, rep| {
                kernel.0 += rep.kernel_packets();
                kernel.1 += rep.kernel_drops();
                if rep.kernel_drops() > 0 {
                    notify.line(&format!(
                        "warning: the kernel dropped {} packets since the last checkpoint \
                         (capture buffer full: Ward too slow for the link)",
                        rep.kernel_drops()
                    ));
                }
                out_k.send(Out::Facts(obs, rep)).is_ok() && marker.send(Vec::new()).is_ok()
            });
            drop(marker);
            let (obs, rep) = r?;
            kernel.0 += rep.kernel_packets();
            kernel.1 += rep.kernel_drops();
            notify.line(&kernel_line(kernel.0, kernel.1));
            let _ = out_k.send(Out::Facts(obs, rep));
            Ok(())
        });
        let mut failed = None;
        for m in out_rx {
            if failed.is_none() {
                if let Err(e) = handle(m) {
                    stop.stop();
                    failed = Some(e);
                }
            }
        }
        let state = consumer
            .join()
            .map_err(|_| Error::Thread("record consumer thread"))?;
        capture
            .join()
            .map_err(|_| Error::Thread("capture thread"))??;
        match failed {
            Some(e) => Err(e),
            None => Ok(state),
        }
    })
}
