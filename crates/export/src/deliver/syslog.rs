//! Syslog delivery: RFC 5424 messages ([`crate::format::syslog`]) to a
//! collector as UDP datagrams (one message each, `udp://HOST:PORT`) or over
//! TCP with RFC 6587 octet-counting framing (`tcp://HOST:PORT`), with a
//! 10-second connect and write timeout.

use crate::format::syslog::{octet_counted, syslog_line};
use crate::Error;
use std::io::Write;
use std::net::ToSocketAddrs;
use std::time::Duration;
use store::StoredAlert;

/// Connect and write timeout.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Sends each alert to the collector at `url` as this host (`host`).
pub fn send_syslog_as(url: &str, alerts: &[StoredAlert], host: &str) -> Result<(), Error> {
    let err = |err: std::io::Error| Error::Syslog {
        url: url.to_string(),
        err,
    };
    let procid = std::process::id();
    if let Some(addr) = url.strip_prefix("udp://") {
        let any = if addr.starts_with('[') {
            "[::]:0"
        } else {
            "0.0.0.0:0"
        };
        let sock = std::net::UdpSocket::bind(any).map_err(err)?;
        sock.connect(addr).map_err(err)?;
        for a in alerts {
            sock.send(syslog_line(a, host, procid).as_bytes())
                .map_err(err)?;
        }
    } else if let Some(addr) = url.strip_prefix("tcp://") {
        let sa = addr
            .to_socket_addrs()
            .map_err(err)?
            .next()
            .ok_or_else(|| Error::SyslogNoAddress(url.to_string()))?;
        let mut s = std::net::TcpStream::connect_timeout(&sa, TIMEOUT).map_err(err)?;
        s.set_write_timeout(Some(TIMEOUT)).map_err(err)?;
        let mut w = std::io::BufWriter::new(&mut s);
        for a in alerts {
            w.write_all(octet_counted(&syslog_line(a, host, procid)).as_bytes())
                .map_err(err)?;
        }
        w.flush().map_err(err)?;
    } else {
        return Err(Error::SyslogUrl(url.to_string()));
    }
    Ok(())
}

/// Sends each alert to the collector at `url` as [`crate::hostname`].
pub fn send_syslog(url: &str, alerts: &[StoredAlert]) -> Result<(), Error> {
    send_syslog_as(url, alerts, &crate::hostname())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fixture::stored;
    use std::io::Read;

    #[test]
    fn udp_sends_one_datagram_per_alert_and_tcp_frames_by_octet_count() {
        let alerts = [stored(1, "a", true), stored(2, "b", false)];
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let url = format!("udp://{}", rx.local_addr().unwrap());
        send_syslog_as(&url, &alerts, "h").unwrap();
        let mut buf = [0u8; 4096];
        for id in 1..=2 {
            let n = rx.recv(&mut buf).unwrap();
            let msg = std::str::from_utf8(&buf[..n]).unwrap();
            assert!(
                msg.starts_with("<163>1 ") && msg.contains(&format!("id=\"{id}\"")),
                "{msg}"
            );
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("tcp://{}", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let mut got = String::new();
            l.accept().unwrap().0.read_to_string(&mut got).unwrap();
            got
        });
        send_syslog_as(&url, &alerts, "h").unwrap();
        let got = h.join().unwrap();
        // Read back as a collector does: LEN SP MSG, repeated.
        let mut rest = got.as_str();
        let mut n = 0;
        while !rest.is_empty() {
            let (len, tail) = rest.split_once(' ').unwrap();
            let len: usize = len.parse().unwrap();
            assert!(tail[..len].starts_with("<163>1 "), "{tail}");
            rest = &tail[len..];
            n += 1;
        }
        assert_eq!(n, 2);
        let e = send_syslog_as("http://x", &alerts, "h")
            .unwrap_err()
            .to_string();
        assert!(e.contains("udp://HOST:PORT or tcp://HOST:PORT"), "{e}");
    }
}
