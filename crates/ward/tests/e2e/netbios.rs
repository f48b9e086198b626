//! NetBIOS datagram service (issue 21): browser announcements on
//! `\MAILSLOT\BROWSE` against tshark's NBDS, SMB and browser dissectors, on
//! the public Zeek traces that carry them (read from ../shared/testdata,
//! never copied): per announcement (paired on packet time) the datagram
//! type, source and destination names, mailslot, browser command, server
//! name, OS version, server type and comment. Then the announced host name
//! in the inventory. Skips when tshark or the traces are absent.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

const TRACES: &[&str] = &[
    "zeek/Traces/smb/smb_v2_only_non_zero_reserved1.pcap",
    "zeek/Traces/smb/raw_ntlm_in_smb.pcap",
];

const FIELDS: &[&str] = &[
    "nbdgm.type",
    "nbdgm.source_name",
    "nbdgm.destination_name",
    "smb.trans_name",
    "browser.command",
    "browser.server",
    "browser.os_major",
    "browser.os_minor",
    "browser.server_type",
    "browser.comment",
];

fn tshark_announcements(file: &std::path::Path) -> BTreeMap<i64, Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(file)
        .args(["-Y", "browser", "-T", "fields", "-E", "separator=/t"])
        .args(["-e", "frame.time_epoch"]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut msgs = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (secs, frac) = f[0].split_once('.').expect("epoch");
        let us = secs.parse::<i64>().unwrap() * 1_000_000 + frac[..6].parse::<i64>().unwrap();
        let vals = (0..FIELDS.len())
            .map(|i| f.get(i + 1).copied().unwrap_or("").to_string())
            .collect();
        msgs.insert(us, vals);
    }
    msgs
}

/// Ward's records in tshark's notation (`NAME<20>`, `0x01`, `0x00009003`).
fn ward_announcements(events: &[Value]) -> BTreeMap<i64, Vec<String>> {
    let mut msgs = BTreeMap::new();
    for r in records(events, "netbios") {
        let name = |n: &str, sfx: &str| match (r[n].as_str(), r[sfx].as_u64()) {
            (Some(n), Some(x)) => format!("{n}<{x:02x}>"),
            _ => String::new(),
        };
        let num = |k: &str| r[k].as_u64().map(|n| n.to_string()).unwrap_or_default();
        let vals = vec![
            num("msg_type"),
            name("source_name", "source_suffix"),
            name("destination_name", "destination_suffix"),
            s(r, "mailslot").to_string(),
            r["browser_command"]
                .as_u64()
                .map(|n| format!("0x{n:02x}"))
                .unwrap_or_default(),
            s(r, "server_name").to_string(),
            num("os_major"),
            num("os_minor"),
            r["server_type"]
                .as_u64()
                .map(|n| format!("0x{n:08x}"))
                .unwrap_or_default(),
            s(r, "comment").to_string(),
        ];
        msgs.insert(r["ts"].as_i64().expect("ts"), vals);
    }
    msgs
}

#[test]
fn netbios_browser_announcements_agree_with_tshark() {
    if !have("tshark") {
        return;
    }
    let Some(td) = testdata() else { return };
    let (mut fields, mut agree, mut seen) = (0usize, 0usize, 0usize);
    for t in TRACES {
        let file = td.join(t);
        if !file.exists() {
            eprintln!("skipping {t}: not in ../shared/testdata");
            continue;
        }
        let dir = scratch(&format!("netbios-{}", seen));
        let (inv, events) = analyze(&file, &dir);
        let oracle = tshark_announcements(&file);
        let ours = ward_announcements(&events);
        seen += oracle.len();
        for (ts, want) in &oracle {
            let empty = vec![String::new(); FIELDS.len()];
            let got = ours.get(ts).unwrap_or(&empty);
            for (i, (a, b)) in want.iter().zip(got).enumerate() {
                fields += 1;
                agree += usize::from(a == b);
                if a != b {
                    eprintln!("{t} {ts} {}: tshark {a:?} ward {b:?}", FIELDS[i]);
                }
            }
            // The announced host name is the device's host name.
            let host = &want[5];
            let found = inv["devices"].as_array().unwrap().iter().any(|d| {
                d["hostnames"]
                    .as_array()
                    .is_some_and(|h| h.iter().any(|n| n == host.as_str()))
            });
            assert!(found, "{host} not a host name in {inv:#}");
        }
    }
    if seen == 0 {
        eprintln!("skipping: no browser announcements found");
        return;
    }
    let pct = 100.0 * agree as f64 / fields as f64;
    println!("netbios browser vs tshark: {agree}/{fields} fields agree ({pct:.1}%) over {seen} announcements");
    assert!(pct >= 95.0, "agreement {pct:.1}%");
}
