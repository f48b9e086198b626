//! Shared by the real-tool monitoring tests (`monitor.rs`, `monitor_live.rs`):
//! running `ward`, and whether this machine can run the network-namespace
//! scenario (root, DCMTK, nmap, busybox, telnetd, tcpdump, iproute2).

use std::process::{Command, Output};

/// Runs the `ward` under test; panics with its stderr when it fails.
pub fn ward(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .expect("run ward");
    assert!(
        out.status.success(),
        "ward {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Whether `tool` is on the PATH (or an executable path).
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `Some(why)` when this process is not root (`root_for`: what needs root).
pub fn not_root(root_for: &str) -> Option<String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    (uid != "0").then(|| format!("not root ({root_for} need it)"))
}

/// Why the scenario cannot run here (`root_for`: what needs root), or `None`.
pub fn missing(root_for: &str) -> Option<String> {
    if let Some(why) = not_root(root_for) {
        return Some(why);
    }
    let tools = [
        "ip",
        "tcpdump",
        "storescp",
        "storescu",
        "echoscu",
        "dump2dcm",
        "nmap",
        "busybox",
        "/usr/sbin/telnetd",
    ];
    let absent: Vec<&str> = tools.into_iter().filter(|t| !have(t)).collect();
    (!absent.is_empty()).then(|| {
        format!(
            "missing {} (apt-get install iproute2 tcpdump dcmtk nmap busybox inetutils-telnetd)",
            absent.join(", ")
        )
    })
}
