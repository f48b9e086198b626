//! Fuzz target: dns analyzer on arbitrary conversations (UDP datagrams and
//! length-prefixed TCP streams, on the DNS, mDNS and LLMNR ports).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    analyzer_api::testing::fuzz(&proto_dns::Dns, data);
    // The flavor (and the mDNS additional-section path) depends on the port.
    for port in [5353, 5355] {
        for t in [model::Transport::Udp, model::Transport::Tcp] {
            analyzer_api::testing::run_forced(
                &proto_dns::Dns,
                t,
                port,
                &[(model::Direction::ToServer, data)],
            );
        }
    }
});
