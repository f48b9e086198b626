//! Bounded memory: a capture of one million distinct flows is analysed with
//! a memory budget, and the process's peak resident set stays under it while
//! every flow is still counted (the least recently used are evicted); an
//! xlsx whose zip headers lie about its sizes is refused by `ward assess`
//! and by `ward inventory import` with a small peak resident set (issue 19,
//! item 3).

use std::process::Command;

#[path = "../../assess/tests/fixtures/xlsx_bomb.rs"]
mod xlsx_bomb;

fn gnu_time() -> bool {
    Command::new("sh")
        .args(["-c", "command -v /usr/bin/time"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Peak resident set (KiB) from GNU time's `maxrss_kb=%M` line.
fn maxrss_kb(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|v| v.trim().parse().ok())
        .expect("maxrss")
}

/// Issue 19, item 3: a ~5 MB MDS2 workbook whose headers declare 4 KiB
/// for a sheet that inflates to 512 MiB (the reported attack: 613 KB used
/// 1.86 GB). `ward assess` refuses it in one line, and its peak resident
/// set stays far below what inflating the sheet would take.
#[test]
fn lying_xlsx_sizes_keep_assess_memory_bounded() {
    if !gnu_time() {
        eprintln!("skipping: /usr/bin/time (GNU time, Debian package `time`) not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ward-mem-xlsx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bomb = dir.join("mds2.xlsx");
    let bytes = xlsx_bomb::bomb(512 << 20, true);
    assert!(
        bytes.len() < (512 << 20) / 64,
        "a file far smaller than its content: {}",
        bytes.len()
    );
    std::fs::write(&bomb, &bytes).unwrap();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "maxrss_kb=%M"])
        .arg(env!("CARGO_BIN_EXE_ward"))
        .arg("assess")
        .arg(&bomb)
        .arg("--db")
        .arg(dir.join("absent.db"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss_mib = maxrss_kb(&stderr) / 1024;
    eprintln!(
        "xlsx bomb ({} KiB, 512 MiB inflated): peak RSS {rss_mib} MiB",
        bytes.len() / 1024
    );
    assert!(!out.status.success(), "refused");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("ward: error"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("mds2.xlsx"), "{stderr}");
    assert!(
        rss_mib < 128,
        "peak RSS {rss_mib} MiB: the sheet was inflated into memory"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 19, item 3, for CMMS imports: the same kind of lying workbook
/// (512 MiB inflated, 4 KiB declared) given to `ward inventory import` is
/// refused in one line, with a small peak resident set.
#[test]
fn lying_xlsx_sizes_keep_cmms_import_memory_bounded() {
    if !gnu_time() {
        eprintln!("skipping: /usr/bin/time (GNU time, Debian package `time`) not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ward-mem-cmms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bomb = dir.join("cmms.xlsx");
    let bytes = xlsx_bomb::bomb(512 << 20, true);
    std::fs::write(&bomb, &bytes).unwrap();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "maxrss_kb=%M"])
        .arg(env!("CARGO_BIN_EXE_ward"))
        .args(["inventory", "import"])
        .arg(&bomb)
        .arg("--db")
        .arg(dir.join("ward.db"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss_mib = maxrss_kb(&stderr) / 1024;
    eprintln!(
        "CMMS xlsx bomb ({} KiB, 512 MiB inflated): peak RSS {rss_mib} MiB",
        bytes.len() / 1024
    );
    assert!(!out.status.success(), "refused");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("ward: error"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("cmms.xlsx"), "{stderr}");
    assert!(
        errors[0].contains("xl/worksheets/sheet1.xml"),
        "names the part: {stderr}"
    );
    assert!(
        rss_mib < 128,
        "peak RSS {rss_mib} MiB: the sheet was inflated into memory"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn million_flows_stay_under_the_memory_budget() {
    if !gnu_time() {
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
    let rss_kb = maxrss_kb(&stderr);
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
