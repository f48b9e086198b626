//! `ward-samplegen`: writes synthetic pcaps for Ward's tests.
//!
//! ```text
//! ward-samplegen hospital OUT.pcap   deterministic hospital-room capture
//! ward-samplegen hostile OUT.pcap    same, with hostile device names
//! ward-samplegen coverage OUT.pcap   backup-coverage scenario (one ultrasound never sends)
//! ward-samplegen firmware VERSION START OUT.pcap   an infusion pump announcing firmware VERSION (LLDP-MED) from START (Unix seconds)
//! ward-samplegen flows N OUT.pcap    N distinct flows, streamed
//! ward-samplegen fleet N OUT.pcap [FIRST]   N DHCP clients (distinct MACs and names) from client FIRST, streamed
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;

use samplegen::{coverage, firmware, fleet, flows, hospital};

const USAGE: &str = "usage:\n  ward-samplegen hospital OUT.pcap\n  ward-samplegen hostile OUT.pcap\n  ward-samplegen coverage OUT.pcap\n  ward-samplegen firmware VERSION START OUT.pcap\n  ward-samplegen flows N OUT.pcap\n  ward-samplegen fleet N OUT.pcap [FIRST]";

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
        ["coverage", out] => coverage::write(create(out).map_err(io)?)
            .map(drop)
            .map_err(io),
        ["firmware", version, start, out] => {
            let start: u64 = start
                .parse()
                .map_err(|_| format!("not a number: {start}\n{USAGE}"))?;
            firmware::write(create(out).map_err(io)?, version, start)
                .map(drop)
                .map_err(io)
        }
        ["flows", n, out] => {
            let n: u64 = n
                .parse()
                .map_err(|_| format!("not a number: {n}\n{USAGE}"))?;
            flows::write(create(out).map_err(io)?, n)
                .map(drop)
                .map_err(io)
        }
        ["fleet", n, out, rest @ ..] if rest.len() <= 1 => {
            let num = |s: &str| {
                s.parse::<u32>()
                    .map_err(|_| format!("not a number: {s}\n{USAGE}"))
            };
            let (n, first) = (
                num(n)?,
                rest.first().map(|f| num(f)).transpose()?.unwrap_or(0),
            );
            let end = first
                .checked_add(n)
                .ok_or_else(|| format!("too many clients\n{USAGE}"))?;
            fleet::write_range(create(out).map_err(io)?, first..end)
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
