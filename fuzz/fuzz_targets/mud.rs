//! Fuzz target: RFC 8520 MUD files and policy files (imported, hostile).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(m) = policy::mud::MudPolicy::parse(data) {
        let f = model::FlowInfo {
            id: 1,
            transport: model::Transport::Tcp,
            client: model::Endpoint {
                ip: [10, 0, 0, 1].into(),
                port: 40000,
                mac: None,
            },
            server: model::Endpoint {
                ip: [10, 0, 0, 2].into(),
                port: 443,
                mac: None,
            },
            vlan: None,
        };
        let _ = m.allows(f.client.ip, &f);
        let _ = m.allows(f.server.ip, &f);
    }
    let _ = policy::Policy::from_json(data);
});
