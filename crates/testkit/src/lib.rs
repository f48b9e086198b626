//! Test support shared by Ward's crates (a dev-dependency only; never part of
//! a shipped binary):
//!
//! - [`testdata`]: files under `../shared/testdata`, with the skip notice when absent;
//! - [`pcap`]: captures read with the `capture` crate (pcap and pcapng) and
//!   decoded with `wire` (the production decoders, not test copies), and a
//!   classic pcap [`pcap::Writer`] for generated fixtures;
//! - [`tcp`]: TCP connections of a capture reassembled into the ordered
//!   `(direction, bytes)` chunks that `analyzer_api::testing::run` takes;
//! - [`tshark`]: the tshark oracle harness (is it installed, run it, follow
//!   every TCP stream);
//! - [`zeek`]: Zeek TSV logs (the baselines beside the Zeek test traces).
//!
//! `tests/architecture.rs` checks the crate dependency rules of
//! `ARCHITECTURE.md` and the crate graph drawn there.

pub mod pcap;
pub mod tcp;
pub mod tshark;
pub mod zeek;

use std::path::PathBuf;

/// The shared test data folder (`../shared/testdata` beside the repository).
pub fn testdata_root() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ))
}

/// Path of `rel` under the shared test data, or `None` (after printing the
/// skip notice that names it) when it is not there.
pub fn testdata(rel: &str) -> Option<PathBuf> {
    let p = testdata_root().join(rel);
    if p.exists() {
        Some(p)
    } else {
        println!("skipping: ../shared/testdata not found ({rel})");
        None
    }
}

/// Decodes a hex string (as tshark prints payloads); `None` on a non-hex digit.
pub fn hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_decodes_and_refuses_junk() {
        assert_eq!(super::hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(super::hex(" 0a "), Some(vec![10]));
        assert_eq!(super::hex("0g"), None);
    }
}
