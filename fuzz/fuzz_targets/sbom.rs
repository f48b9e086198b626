//! Fuzz target: procurement documents (CycloneDX / SPDX JSON SBOMs, MDS2 xlsx).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = assess::parse_document("fuzz.json", data);
    let _ = assess::parse_document("fuzz.xlsx", data);
});
