//! Fuzz target: dtls analyzer (TLS analyzer in datagram mode) on arbitrary datagrams.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| analyzer_api::testing::fuzz(&proto_tls::Dtls, data));
