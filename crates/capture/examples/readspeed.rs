//! Throughput check: reads a capture file (default: the Ethernet benchmark
//! corpus in ../shared/testdata) with `FileReader`, decodes every frame with
//! `wire::decode`, and prints MB/s for reading alone and for reading + decoding.
//!
//! `cargo run --release -p capture --example readspeed [-- FILE]`

use std::path::PathBuf;
use std::time::Instant;

use capture::{FileReader, Source};

const DEFAULT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/benchmark/corpus_ethernet_real.pcap"
);

fn main() {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| DEFAULT.to_string()),
    );
    if !path.exists() {
        println!("skipping: {} not found", path.display());
        return;
    }
    let (mut best_read, mut best_dec) = (0f64, 0f64);
    for round in 0..5 {
        // Reading only.
        let t = Instant::now();
        let mut r = FileReader::open(&path).expect("open");
        let (mut frames, mut bytes) = (0u64, 0u64);
        while let Some(f) = r.next_frame().expect("read") {
            frames += 1;
            bytes += f.data.len() as u64;
        }
        let read_s = t.elapsed().as_secs_f64();
        let file_mb = r.file_len() as f64 / 1e6;

        // Reading + decoding.
        let t = Instant::now();
        let mut r = FileReader::open(&path).expect("open");
        let (mut ip, mut link, mut bad, mut payload) = (0u64, 0u64, 0u64, 0u64);
        while let Some(f) = r.next_frame().expect("read") {
            match wire::decode(f.link, f.data) {
                Ok(p) => match p.net {
                    wire::Net::Ip(i) => {
                        ip += 1;
                        payload += match i.l4 {
                            wire::L4::Tcp(t) => t.payload.len(),
                            wire::L4::Udp(u) => u.payload.len(),
                            wire::L4::Other(o) => o.len(),
                        } as u64;
                    }
                    wire::Net::Link(_) => link += 1,
                    wire::Net::None => {}
                },
                Err(_) => bad += 1,
            }
        }
        let dec_s = t.elapsed().as_secs_f64();
        best_read = best_read.max(file_mb / read_s);
        best_dec = best_dec.max(file_mb / dec_s);
        println!(
            "round {round}: {frames} frames, {file_mb:.1} MB file ({:.1} MB captured): read {:.0} MB/s ({:.1} Mfps), read+decode {:.0} MB/s ({:.1} Mfps); ip {ip} link {link} malformed {bad} l4 payload {:.1} MB",
            bytes as f64 / 1e6,
            file_mb / read_s,
            frames as f64 / read_s / 1e6,
            file_mb / dec_s,
            frames as f64 / dec_s / 1e6,
            payload as f64 / 1e6,
        );
    }
    println!("best: read {best_read:.0} MB/s, read+decode {best_dec:.0} MB/s");
}
