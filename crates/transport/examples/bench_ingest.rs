//! Ingest benchmark (run by `scripts/bench-ingest`): publishes N synthetic
//! observations to JetStream in messages of PER_MESSAGE facts (default: the
//! sensor's `--max-facts`, 2000), then runs the server's consumer with the
//! server's default settings (`ingest::Options::default()`: batch 256,
//! rebuild every 5 s and when idle) into a fresh PostgreSQL schema, and
//! prints the end-to-end rate: observations per second from the first
//! fetch until every fact is committed AND the last inventory rebuild is
//! done (no site left dirty) — what a dashboard user waits for.
//!
//! `bench_ingest NATS_URL PG_URL N [PER_MESSAGE]`

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fact(i: u64) -> identify::Fact {
    let kinds = [
        identify::FactKind::Hostname,
        identify::FactKind::ServiceOffered,
        identify::FactKind::Software,
        identify::FactKind::Peer,
    ];
    let host = i / 4;
    identify::Fact {
        endpoint: identify::EndpointKey {
            mac: None,
            ip: Some(std::net::IpAddr::from(
                (0x0a00_0000u32 | (host as u32 & 0x00ff_ffff)).to_be_bytes(),
            )),
        },
        kind: kinds[(i % 4) as usize],
        value: format!("value-{i}"),
        source: "bench".into(),
        first_seen: model::Timestamp(i as i64),
        last_seen: model::Timestamp(i as i64 + 10),
        count: 1,
        evidence: format!("flow {i}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: bench_ingest NATS_URL PG_URL N [PER_MESSAGE]");
        std::process::exit(2);
    }
    let (nats_url, pg_url) = (args[1].clone(), args[2].clone());
    let n: u64 = args[3].parse().expect("N");
    let per: u64 = args
        .get(4)
        .map_or(2000, |s| s.parse().expect("PER_MESSAGE"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let opts = transport::NatsOptions { url: nats_url, name: "ward-bench".into(), ..Default::default() };
        let client = transport::connect(&opts, true).await.expect("connect to NATS");
        let js = async_nats::jetstream::new(client.clone());
        js.get_or_create_stream(transport::stream_config()).await.expect("stream");
        let t = Instant::now();
        let mut acks = Vec::new();
        let mut i = 0u64;
        let mut m = 0u64;
        while i < n {
            let facts: Vec<identify::Fact> = (i..(i + per).min(n)).map(fact).collect();
            i += facts.len() as u64;
            let msgs = transport::envelope::split("bench", "bench", &format!("bench:{m}"), facts, vec![], store::RunSummary::default(), per as usize).unwrap();
            for e in msgs {
                let mut h = async_nats::HeaderMap::new();
                h.insert("Nats-Msg-Id", e.id.as_str());
                acks.push(js.publish_with_headers(transport::subject("bench"), h, e.encode().unwrap().into()).await.expect("publish"));
            }
            m += 1;
            if acks.len() >= 32 {
                for a in acks.drain(..) {
                    a.await.expect("ack");
                }
            }
        }
        for a in acks.drain(..) {
            a.await.expect("ack");
        }
        println!("publish: {n} observations in {m} messages, {:.2} s", t.elapsed().as_secs_f64());

        let url = pg_url.clone();
        let store = tokio::task::spawn_blocking(move || store::Store::open_postgres(&url)).await.unwrap().expect("open PostgreSQL");
        let stats = Arc::new(transport::ingest::Stats::default());
        let o = transport::ingest::Options::default();
        let t = Instant::now();
        let task = tokio::spawn(transport::ingest::run(client, store, o, stats.clone(), Default::default()));
        while stats.facts.load(Ordering::Relaxed) < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let committed = t.elapsed().as_secs_f64();
        // The consumer rebuilds the inventory on its own (every 5 s while
        // messages keep coming, then when the stream is idle): wait for it.
        let url = pg_url.clone();
        let watcher = tokio::task::spawn_blocking(move || store::Store::open_postgres(&url)).await.unwrap().expect("open PostgreSQL");
        let watcher = Arc::new(std::sync::Mutex::new(watcher));
        loop {
            let w = watcher.clone();
            let dirty = tokio::task::spawn_blocking(move || w.lock().unwrap().dirty_sites().expect("dirty sites")).await.unwrap();
            if dirty.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let secs = t.elapsed().as_secs_f64();
        stats.stop.store(true, Ordering::Relaxed);
        let _ = task.await;
        let w = watcher.clone();
        let devices = tokio::task::spawn_blocking(move || w.lock().unwrap().device_count().expect("devices")).await.unwrap();
        tokio::task::spawn_blocking(move || drop(watcher)).await.unwrap();
        println!(
            "ingest: {n} observations committed in {committed:.2} s ({} batches); inventory current ({devices} devices) after {secs:.2} s",
            stats.batches.load(Ordering::Relaxed)
        );
        println!("end to end (server defaults, last rebuild included): {:.0} observations/s", n as f64 / secs);
    });
}
