//! Fuzz target: netbios analyzer on arbitrary conversations.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| analyzer_api::testing::fuzz(
    &proto_netbios::Netbios,
    data
));
