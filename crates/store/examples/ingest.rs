//! Times `Store::ingest` alone on real facts: loads the single-box facts of
//! an existing database (e.g. one `ward analyze` wrote), puts them in the
//! order `identify::Observer::into_facts` hands them out, then ingests them
//! into a fresh SQLite file and once more into the same file (the append path).
//!
//! `cargo run --release -p store --example ingest -- SOURCE.db SCRATCH.db [ROUNDS [fresh]]` (`fresh`: no append)

use std::time::Instant;
use store::{RunSummary, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(src), Some(scratch)) = (args.get(1), args.get(2)) else {
        return Err("usage: ingest SOURCE.db SCRATCH.db [ROUNDS [fresh]]".into());
    };
    let rounds: usize = args.get(3).map_or(Ok(1), |r| r.parse())?;
    let append = args.get(4).map(String::as_str) != Some("fresh");
    let mut facts = Store::open(std::path::Path::new(src))?.site_facts("")?;
    facts.sort_by(|a, b| (a.endpoint, a.kind, &a.value).cmp(&(b.endpoint, b.kind, &b.value)));
    println!("{} facts", facts.len());
    for _ in 0..rounds {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{scratch}{suffix}"));
        }
        let mut s = Store::open(std::path::Path::new(scratch))?;
        let run_facts = facts.clone();
        let t = Instant::now();
        let n = s
            .ingest_owned(&RunSummary::default(), run_facts, &[])?
            .len();
        let fresh = t.elapsed();
        if append {
            let t = Instant::now();
            s.ingest(&RunSummary::default(), &facts, &[])?;
            println!(
                "{n} devices; fresh ingest {fresh:?}, append ingest {:?}",
                t.elapsed()
            );
        } else {
            println!("{n} devices; fresh ingest {fresh:?}");
        }
    }
    Ok(())
}
