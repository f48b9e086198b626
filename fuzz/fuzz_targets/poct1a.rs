//! Fuzz target: poct1a (CLSI POCT1-A2 XML) analyzer on arbitrary conversations.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| analyzer_api::testing::fuzz(&proto_poct1a::Poct1a, data));
