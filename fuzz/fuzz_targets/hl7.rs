//! Fuzz target: hl7 analyzer on arbitrary conversations.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| analyzer_api::testing::fuzz(&proto_hl7::Hl7, data));
