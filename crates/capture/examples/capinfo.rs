//! Prints, per capture file given on the command line, the frame count, the
//! link types seen, the reader's anomaly counters and what `wire::decode`
//! could not decode (frame numbers are 1-based, as in Wireshark).
//!
//! `cargo run --release -p capture --example capinfo -- FILE...`

use std::collections::BTreeMap;
use std::path::Path;

use capture::{FileReader, Source};

fn main() {
    for arg in std::env::args().skip(1) {
        let mut r = match FileReader::open(Path::new(&arg)) {
            Ok(r) => r,
            Err(e) => {
                println!("{e}");
                continue;
            }
        };
        let mut frames = 0u64;
        let mut links: BTreeMap<u32, u64> = BTreeMap::new();
        let mut malformed: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        loop {
            match r.next_frame() {
                Ok(Some(f)) => {
                    frames += 1;
                    *links.entry(f.link.to_linktype()).or_default() += 1;
                    if let Err(m) = wire::decode(f.link, f.data) {
                        let e = malformed.entry(m.name()).or_insert((0, frames));
                        e.0 += 1;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    println!("{e}");
                    break;
                }
            }
        }
        let anomalies: Vec<String> = r
            .anomalies()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        let malformed: Vec<String> = malformed
            .iter()
            .map(|(k, (n, first))| format!("{k}={n} (first: frame {first})"))
            .collect();
        println!(
            "{arg}\tframes={frames}\tlinktypes={links:?}\t{}\t{}",
            anomalies.join(" "),
            malformed.join(" ")
        );
    }
}
