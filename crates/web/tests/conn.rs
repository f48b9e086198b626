//! Issue 19, item 8: idle connections cannot starve real users. Raw TCP
//! connections that never start TLS, and TLS connections that never send a
//! request, are closed after the handshake and header-read deadlines; past
//! the connection cap new connections are closed at once; a real user is
//! served meanwhile.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};
use web::conn::ConnLimits;
use web::{AppState, Config, Transport};

fn tls_client(cert: &std::path::Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A TLS connection (handshake done) to `addr`.
fn tls_connect(
    cfg: &Arc<rustls::ClientConfig>,
    addr: std::net::SocketAddr,
) -> std::io::Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(cfg.clone(), name).map_err(std::io::Error::other)?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn.complete_io(&mut s.sock)?;
    }
    Ok(s)
}

/// One GET over a fresh TLS connection; the status line.
fn get(cfg: &Arc<rustls::ClientConfig>, addr: std::net::SocketAddr) -> std::io::Result<String> {
    let mut s = tls_connect(cfg, addr)?;
    s.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    match text.lines().next() {
        Some(l) if l.starts_with("HTTP/1.1") => Ok(l.to_string()),
        _ => Err(std::io::Error::other(format!("no response: {text:?}"))),
    }
}

/// Whether the server closed `s` within `limit` (a read returns EOF or an error).
fn closed_within(s: &mut impl Read, limit: Duration) -> bool {
    let t = Instant::now();
    let mut b = [0u8; 64];
    while t.elapsed() < limit {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                continue
            }
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn idle_connections_time_out_and_real_users_are_served() {
    let dir = std::env::temp_dir().join(format!("ward-web-conn-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = store::Store::open_in_memory().unwrap();
    let state = AppState::new(store, web::Inventory::Scored, true, "test.db");
    let limits = ConnLimits {
        max_connections: 12,
        handshake: Duration::from_secs(1),
        header_read: Duration::from_secs(1),
    };
    let bound = rt
        .block_on(web::bind(
            Config {
                listen: "127.0.0.1:0".parse().unwrap(),
                transport: Transport::SelfSigned {
                    state_dir: dir.clone(),
                },
                limits,
            },
            state,
        ))
        .unwrap();
    let addr = bound.addr;
    let cfg = tls_client(&dir.join("cert.pem"));
    rt.spawn(bound.run());

    assert!(get(&cfg, addr).unwrap().starts_with("HTTP/1.1 3"), "served");
    // Idle clients: TLS handshakes without a request, and raw connections
    // that never say anything, far more than the cap.
    let mut idle_tls: Vec<_> = (0..4).map(|_| tls_connect(&cfg, addr).unwrap()).collect();
    let mut idle_tcp: Vec<TcpStream> = (0..40)
        .map(|_| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            s
        })
        .collect();
    // A real user is served within a few seconds all the same.
    let t = Instant::now();
    let status = loop {
        match get(&cfg, addr) {
            Ok(s) => break s,
            Err(e) => {
                assert!(t.elapsed() < Duration::from_secs(8), "never served: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    assert!(status.starts_with("HTTP/1.1 3"), "{status}");
    // And every idle connection is closed by the server.
    for (i, s) in idle_tls.iter_mut().enumerate() {
        s.sock
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        assert!(
            closed_within(s, Duration::from_secs(5)),
            "idle TLS connection {i} still open"
        );
    }
    for (i, s) in idle_tcp.iter_mut().enumerate() {
        assert!(
            closed_within(s, Duration::from_secs(5)),
            "idle TCP connection {i} still open"
        );
    }
    // A kept-alive connection that goes quiet after a request is closed too.
    let mut s = tls_connect(&cfg, addr).unwrap();
    s.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut b = [0u8; 4096];
    let n = s.read(&mut b).unwrap();
    assert!(String::from_utf8_lossy(&b[..n]).starts_with("HTTP/1.1 3"));
    s.sock
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(
        closed_within(&mut s, Duration::from_secs(5)),
        "idle keep-alive connection still open"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
