//! Fuzz target: WS-Discovery analyzer (and the DPWS/UPnP description reader) on arbitrary input.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    analyzer_api::testing::fuzz(&proto_wsd::Wsd, data);
    let _ = proto_wsd::describe::extract(data);
});
