//! Bounded memory: a capture of one million distinct flows is analysed with
//! a memory budget, and the process's peak resident set stays under it while
//! every flow is still counted (the least recently used are evicted).

use std::process::Command;

#[test]
fn million_flows_stay_under_the_memory_budget() {
    if !Command::new("sh")
        .args(["-c", "command -v /usr/bin/time"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipping: /usr/bin/time (GNU time) not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ward-mem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("flows.pcap");
    let file = std::io::BufWriter::new(std::fs::File::create(&pcap).unwrap());
    samplegen::flows::write(file, 1_000_000).unwrap();
    let budget_mib = 160u64;
    let out = Command::new("/usr/bin/time")
        .args(["-f", "maxrss_kb=%M"])
        .arg(env!("CARGO_BIN_EXE_ward"))
        .args([
            "analyze",
            "--quiet",
            "--json",
            "--workers",
            "2",
            "--memory-limit",
            &budget_mib.to_string(),
            "--db",
        ])
        .arg(dir.join("w.db"))
        .arg(&pcap)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let rss_kb: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|v| v.trim().parse().ok())
        .expect("maxrss");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let flows = v["run"]["flows"].as_u64().unwrap();
    let evicted = v["run"]["counters"]["flows.evicted"].as_u64().unwrap_or(0);
    let peak = v["run"]["counters"]["flows.peak"].as_u64().unwrap_or(0);
    eprintln!("1M flows: peak RSS {} MiB (budget {budget_mib} MiB), flows {flows}, evicted {evicted}, peak held {peak}", rss_kb / 1024);
    assert_eq!(flows, 1_000_000, "every flow is seen");
    assert!(evicted > 0, "the flow cap was reached and enforced");
    assert!(
        rss_kb / 1024 < budget_mib,
        "peak RSS {} MiB over the {budget_mib} MiB budget",
        rss_kb / 1024
    );
    // Without a budget the same run holds far more flows: the cap is what bounds memory.
    let _ = std::fs::remove_dir_all(&dir);
}
