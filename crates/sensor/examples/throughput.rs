//! Pipeline throughput without the store: `cargo run --release -p sensor --example throughput -- FILE [WORKERS]`.

// The allocator the `ward` binary uses, so that the times are the pipeline's in `ward`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next() else {
        eprintln!("usage: throughput FILE [WORKERS]");
        std::process::exit(2);
    };
    let workers = args.next().and_then(|w| w.parse().ok()).unwrap_or(1);
    let cfg = sensor::Config {
        workers,
        ..Default::default()
    };
    let progress = sensor::Progress::default();
    let t = std::time::Instant::now();
    match sensor::analyze_files(&[file.into()], &cfg, &progress, None) {
        Ok((obs, r)) => {
            let s = t.elapsed().as_secs_f64();
            println!(
                "{} packets, {:.1} MB in {:.3} s: {:.0} MB/s, {:.2} Mpps, {} flows, {} records, {} endpoints",
                r.packets,
                r.bytes as f64 / 1e6,
                s,
                r.bytes as f64 / 1e6 / s,
                r.packets as f64 / 1e6 / s,
                r.flows,
                r.events,
                obs.endpoints()
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
