//! The pipeline's floor: how fast the stages under the analyzers can go on one
//! core, each alone, so a throughput target can be checked against what the
//! plumbing itself costs before any protocol work or storing.
//!
//! `cargo run --release -p sensor --example floor -- STAGE FILE`, where STAGE is
//! - `read`: frames out of the capture file (the kernel's copy + block parsing);
//! - `decode`: `read` + `wire::decode` of every frame;
//! - `flows`: `decode` + the flow table, flows counted only (what a flow costs
//!   once its analyzer is done, or when none applies);
//! - `reassemble`: `flows` with every flow wanting its bytes (TCP reassembly,
//!   no analyzer).
//!
//! `scripts/bench` prints these beside the real run and the peers.

use capture::Source;
use flow::{FlowConfig, FlowState, FlowTable};
use wire::Net;

#[derive(Default)]
struct Counted;
impl FlowState for Counted {
    fn wants_data(&self) -> bool {
        false
    }
}

#[derive(Default)]
struct Wanted;
impl FlowState for Wanted {}

#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Read,
    Decode,
    Flows,
    Reassemble,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(stage), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: floor read|decode|flows|reassemble FILE");
        std::process::exit(2);
    };
    let stage = match stage.as_str() {
        "read" => Stage::Read,
        "decode" => Stage::Decode,
        "flows" => Stage::Flows,
        "reassemble" => Stage::Reassemble,
        other => {
            eprintln!("floor: unknown stage {other:?} (read, decode, flows, reassemble)");
            std::process::exit(2);
        }
    };
    let mut reader = match capture::FileReader::open(std::path::Path::new(&file)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("floor: {e}");
            std::process::exit(1);
        }
    };
    let t = std::time::Instant::now();
    let mut counted: FlowTable<Counted> = FlowTable::new(FlowConfig::default(), 0);
    let mut wanted: FlowTable<Wanted> = FlowTable::new(FlowConfig::default(), 0);
    let (mut frames, mut bytes, mut ip, mut data) = (0u64, 0u64, 0u64, 0u64);
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                eprintln!("floor: {e}");
                std::process::exit(1);
            }
        };
        frames += 1;
        bytes += frame.data.len() as u64;
        if stage == Stage::Read {
            continue;
        }
        let Ok(pkt) = wire::decode(frame.link, frame.data) else {
            continue;
        };
        let Net::Ip(p) = &pkt.net else { continue };
        ip += 1;
        if stage == Stage::Decode {
            continue;
        }
        let Some(view) = sensor::flow_view(frame.ts, &pkt, p, &p.l4) else {
            continue;
        };
        if stage == Stage::Flows {
            counted.push(&view, &mut |_, _, _| {});
        } else {
            wanted.push(&view, &mut |_, _, u| {
                if let flow::FlowUpdate::Data { bytes, .. } = u {
                    data += bytes.len() as u64;
                }
            });
        }
    }
    let flows = counted.stats().created + wanted.stats().created;
    let s = t.elapsed().as_secs_f64();
    println!(
        "{frames} frames, {:.1} MB of frames, {ip} IP packets, {flows} flows, {:.1} MB reassembled in {s:.3} s: {:.0} MB/s",
        bytes as f64 / 1e6,
        data as f64 / 1e6,
        reader.bytes_read() as f64 / 1e6 / s
    );
}
