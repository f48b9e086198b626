//! The tshark oracle harness: tests compare analyzers with Wireshark's
//! dissectors on real captures, and reassemble TCP streams with tshark's
//! `-z follow,tcp,raw`. Every function returns `None` when tshark is not
//! installed (or fails), so a test can say it skips.

use model::Direction;
use std::path::Path;
use std::process::Command;

/// True when a working `tshark` is on the `PATH`; prints the skip notice otherwise.
pub fn available() -> bool {
    let ok = run(&["-v"]).is_some();
    if !ok {
        println!("skipping: tshark not installed");
    }
    ok
}

/// Runs tshark with `args`: its standard output when it exits successfully.
pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Option<String> {
    let out = Command::new("tshark").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The TCP connections tshark numbers `streams` (`tcp.stream`) in `file`,
/// reassembled by [`crate::tcp::conns`] (so an analyzer sees them as Ward
/// would); `None` when tshark fails.
pub fn tcp_conns(file: &Path, streams: &[impl std::fmt::Display]) -> Option<Vec<crate::tcp::Conn>> {
    let list: Vec<String> = streams.iter().map(ToString::to_string).collect();
    let filter = format!("tcp.stream in {{{}}}", list.join(","));
    let subset = std::env::temp_dir().join(format!(
        "ward-tshark-streams-{}-{:?}.pcap",
        std::process::id(),
        std::thread::current().id()
    ));
    let written = run(&[
        Path::new("-r"),
        file,
        Path::new("-Y"),
        Path::new(&filter),
        Path::new("-F"),
        Path::new("pcap"),
        Path::new("-w"),
        &subset,
    ]);
    let conns = written.map(|_| crate::tcp::conns(&subset));
    let _ = std::fs::remove_file(&subset);
    conns
}

/// One TCP stream as tshark reassembled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// tshark's `tcp.stream` number.
    pub id: u32,
    /// The server's port (tshark's "Node 1").
    pub port: u16,
    /// Payload chunks in capture order.
    pub chunks: Vec<(Direction, Vec<u8>)>,
}

impl Stream {
    /// Chunks borrowed, for `analyzer_api::testing::run`.
    pub fn borrowed(&self) -> Vec<(Direction, &[u8])> {
        crate::tcp::borrowed(&self.chunks)
    }
}

/// Every TCP stream of `file` that carries data, reassembled by tshark (two
/// runs: the stream numbers, then one follow per stream). `extra` goes before
/// the follows (e.g. `-d tcp.port==11113,dicom`).
pub fn follow_tcp(file: &Path, extra: &[&str]) -> Option<Vec<Stream>> {
    let file = file.to_str()?;
    let ids = run(&[
        "-r",
        file,
        "-Y",
        "tcp.len>0",
        "-T",
        "fields",
        "-e",
        "tcp.stream",
    ])?;
    let mut ids: Vec<u32> = ids.lines().filter_map(|l| l.trim().parse().ok()).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Some(Vec::new());
    }
    let mut args: Vec<String> = vec!["-r".into(), file.into(), "-q".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    for id in &ids {
        args.extend(["-z".to_string(), format!("follow,tcp,raw,{id}")]);
    }
    Some(parse_follow(&run(&args)?))
}

/// Parses the text of `tshark -q -z follow,tcp,raw,N ...`: per stream a
/// `Filter: tcp.stream eq N` line, `Node 0:`/`Node 1: addr:port` lines, and
/// hex lines, indented by a tab when the server sent them.
pub fn parse_follow(text: &str) -> Vec<Stream> {
    let mut streams: Vec<Stream> = Vec::new();
    for line in text.lines() {
        if let Some(id) = line.strip_prefix("Filter: tcp.stream eq ") {
            streams.push(Stream {
                id: id.trim().parse().unwrap_or(u32::MAX),
                port: 0,
                chunks: Vec::new(),
            });
        } else if let Some(node) = line.strip_prefix("Node 1: ") {
            if let Some(s) = streams.last_mut() {
                s.port = node
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.trim().parse().ok())
                    .unwrap_or(0);
            }
        } else if line.starts_with("=====")
            || line.starts_with("Node 0: ")
            || line.starts_with("Follow: ")
            || line.trim().is_empty()
        {
        } else if let Some(s) = streams.last_mut() {
            let dir = if line.starts_with('\t') {
                Direction::ToClient
            } else {
                Direction::ToServer
            };
            if let Some(bytes) = crate::hex(line) {
                s.chunks.push((dir, bytes));
            }
        }
    }
    streams
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_output_is_parsed() {
        let text = "\n===================================================================\n\
Follow: tcp,raw\nFilter: tcp.stream eq 3\nNode 0: 10.0.0.1:40000\nNode 1: 10.0.0.2:2575\n\
0b4d5348\n\t0b4d5341\n===================================================================\n";
        let s = parse_follow(text);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].id, s[0].port), (3, 2575));
        assert_eq!(
            s[0].borrowed(),
            vec![
                (Direction::ToServer, &b"\x0bMSH"[..]),
                (Direction::ToClient, &b"\x0bMSA"[..]),
            ]
        );
    }
}
