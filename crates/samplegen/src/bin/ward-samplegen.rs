//! `ward-samplegen`: writes synthetic pcaps for Ward's tests.
//!
//! ```text
//! ward-samplegen hospital OUT.pcap   deterministic hospital-room capture
//! ward-samplegen hostile OUT.pcap    same, with hostile device names
//! ward-samplegen flows N OUT.pcap    N distinct flows, streamed
//! ward-samplegen fleet N OUT.pcap    N DHCP clients (distinct MACs and names), streamed
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;

use samplegen::{fleet, flows, hospital};

const USAGE: &str = "usage:\n  ward-samplegen hospital OUT.pcap\n  ward-samplegen hostile OUT.pcap\n  ward-samplegen flows N OUT.pcap\n  ward-samplegen fleet N OUT.pcap";

fn create(path: &str) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
}

fn run(args: &[String]) -> Result<(), String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let io = |e: std::io::Error| e.to_string();
    match args.as_slice() {
        ["hospital", out] => hospital::write(create(out).map_err(io)?, hospital::Variant::Normal)
            .map(drop)
            .map_err(io),
        ["hostile", out] => hospital::write(create(out).map_err(io)?, hospital::Variant::Hostile)
            .map(drop)
            .map_err(io),
        ["flows", n, out] => {
            let n: u64 = n
                .parse()
                .map_err(|_| format!("not a number: {n}\n{USAGE}"))?;
            flows::write(create(out).map_err(io)?, n)
                .map(drop)
                .map_err(io)
        }
        ["fleet", n, out] => {
            let n: u32 = n
                .parse()
                .map_err(|_| format!("not a number: {n}\n{USAGE}"))?;
            fleet::write(create(out).map_err(io)?, n)
                .map(drop)
                .map_err(io)
        }
        _ => Err(USAGE.to_string()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
