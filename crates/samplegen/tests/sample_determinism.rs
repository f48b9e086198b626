//! Determinism check: regenerating `samples/hospital-room.pcap` with the
//! `ward-samplegen` binary must reproduce the committed file byte for byte.
//! If this fails after an intentional scenario change, regenerate with
//! `cargo run -p samplegen --bin ward-samplegen -- hospital samples/hospital-room.pcap`
//! and update samples/README.md.

use std::path::PathBuf;
use std::process::Command;

fn committed() -> Vec<u8> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/hospital-room.pcap"
    ));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn binary_regenerates_committed_sample() {
    let tmp = std::env::temp_dir().join(format!(
        "ward-samplegen-hospital-{}.pcap",
        std::process::id()
    ));
    let status = Command::new(env!("CARGO_BIN_EXE_ward-samplegen"))
        .arg("hospital")
        .arg(&tmp)
        .status()
        .expect("run ward-samplegen");
    assert!(status.success());
    let fresh = std::fs::read(&tmp).expect("read regenerated sample");
    let _ = std::fs::remove_file(&tmp);
    assert!(
        fresh == committed(),
        "samples/hospital-room.pcap is stale or generation is not deterministic"
    );
}

#[test]
fn library_regenerates_committed_sample() {
    let fresh =
        samplegen::hospital::write(Vec::new(), samplegen::hospital::Variant::Normal).unwrap();
    assert!(
        fresh == committed(),
        "samples/hospital-room.pcap is stale or generation is not deterministic"
    );
}
