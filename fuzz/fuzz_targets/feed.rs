//! Fuzz target: vulnerability feed parsing (CSAF 2.0, CISA KEV, NVD CVE 2.0)
//! and version-rule matching on whatever parses.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(file) = advisory::parse_feed("fuzz.json", data) {
        if let advisory::Feed::Csaf(a) = file.feed {
            let db = advisory::AdvisoryDb::new(vec![a], Vec::new());
            let id = advisory::DeviceIdentity {
                vendor: Some("acme".into()),
                model: Some("pump 1".into()),
                firmware: Some("2.1(3)".into()),
            };
            let _ = advisory::match_device(&id, &db);
        }
    }
});
