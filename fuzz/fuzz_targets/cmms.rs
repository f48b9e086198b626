//! Fuzz target: CMMS inventory import (CSV with a sniffed delimiter, or
//! xlsx when the bytes start like a zip) — never panics, stays bounded —
//! then reading every row's vendor, model and version the way matching does
//! (vendor keys and lineage, model words and aliases, the version grammar).
#![no_main]
use std::sync::OnceLock;

static DB: OnceLock<advisory::AdvisoryDb> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let db = DB.get_or_init(|| advisory::AdvisoryDb::new(Vec::new(), Vec::new()));
    if let Ok(import) = cmms::parse("fuzz.csv", data) {
        for r in import.rows.iter().take(64) {
            let id = advisory::DeviceIdentity {
                vendor: Some(r.vendor.clone()).filter(|s| !s.is_empty()),
                model: Some(r.model.clone()).filter(|s| !s.is_empty()),
                firmware: Some(r.firmware.clone()).filter(|s| !s.is_empty()),
            };
            let _ = advisory::match_device(&id, db);
            let _ = advisory::Version::parse(&r.firmware);
        }
    }
});
