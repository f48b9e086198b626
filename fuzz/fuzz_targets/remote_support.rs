//! Fuzz target: TeamViewer and AnyDesk (remote-support) analyzers on arbitrary conversations.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    analyzer_api::testing::fuzz(&proto_remote_support::TeamViewer, data);
    analyzer_api::testing::fuzz(&proto_remote_support::AnyDesk, data);
});
