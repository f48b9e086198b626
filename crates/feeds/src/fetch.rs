//! HTTP(S) GET with limits, shared by the feed sync and the MUD fetch.
//!
//! A request has a global timeout (connecting, sending, reading the whole
//! body), a bounded number of redirects, and a body limit per document and
//! per run. Errors are one line naming the URL.
//!
//! For URLs that come from the network (MUD URLs announced in DHCP or LLDP),
//! [`Options`] adds the SSRF guards: HTTPS only (every redirect too), an
//! optional private CA file instead of the public roots, no proxy, and an
//! [`AddressPolicy`] applied to every address the host name resolves to — at
//! connection time, for every redirect, so DNS answers pointing at loopback,
//! link-local (cloud metadata), private, multicast or unspecified addresses
//! are refused (loopback and private only when allowed).

use crate::Error;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};

/// Which resolved addresses may be contacted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Refuse what [`refused`] refuses (else any address).
    pub guard: bool,
    /// Allow private addresses (RFC 1918, CGNAT, IPv6 ULA): an on-site MUD mirror.
    pub allow_private: bool,
    /// Allow loopback addresses (tests, labs). Link-local addresses (cloud
    /// metadata services) are always refused.
    pub allow_loopback: bool,
}

/// Why `ip` may not be contacted under `p`, if it may not.
pub fn refused(ip: IpAddr, p: &AddressPolicy) -> Option<&'static str> {
    if !p.guard {
        return None;
    }
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) addresses reach an IPv4 host.
        IpAddr::V6(v6) => v6.to_ipv4_mapped().or_else(|| {
            let s = v6.segments();
            (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]).then(|| {
                std::net::Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    s[6] as u8,
                    (s[7] >> 8) as u8,
                    s[7] as u8,
                )
            })
        }),
    };
    let (unspecified, multicast, loopback, link_local, private) = match (v4, ip) {
        (Some(a), _) => {
            let o = a.octets();
            (
                a.is_unspecified() || o[0] == 0,
                a.is_multicast() || a.is_broadcast() || o[0] >= 240,
                a.is_loopback(),
                a.is_link_local(),
                a.is_private() || (o[0] == 100 && o[1] & 0xc0 == 64),
            )
        }
        (None, IpAddr::V6(a)) => {
            let s0 = a.segments()[0];
            (
                a.is_unspecified(),
                a.is_multicast(),
                a.is_loopback(),
                s0 & 0xffc0 == 0xfe80,
                s0 & 0xfe00 == 0xfc00,
            )
        }
        (None, IpAddr::V4(_)) => (false, false, false, false, false),
    };
    if unspecified {
        Some("an unspecified address")
    } else if multicast {
        Some("a multicast, broadcast or reserved address")
    } else if loopback && !p.allow_loopback {
        Some("a loopback address (--allow-loopback for tests)")
    } else if link_local {
        Some("a link-local address")
    } else if private && !p.allow_private {
        Some("a private address (--allow-private for an on-site server)")
    } else {
        None
    }
}

/// The default resolver, keeping only the addresses the policy allows.
#[derive(Debug)]
struct GuardedResolver {
    inner: DefaultResolver,
    policy: AddressPolicy,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let all = self.inner.resolve(uri, config, timeout)?;
        let mut kept = self.inner.empty();
        let mut why = None;
        for a in all.iter() {
            match refused(a.ip(), &self.policy) {
                None => kept.push(*a),
                Some(w) => why = why.or(Some((w, *a))),
            }
        }
        if kept.is_empty() {
            let (w, a): (&str, SocketAddr) = why.ok_or(ureq::Error::HostNotFound)?;
            let host = uri.host().unwrap_or("?");
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("refused: {host} resolves to {}, {w}", a.ip()),
            )));
        }
        Ok(kept)
    }
}

/// How a [`Fetcher`] connects.
#[derive(Debug, Clone)]
pub struct Options {
    /// Timeout of one request (connect, send, whole body).
    pub timeout: Duration,
    /// Largest body, bytes.
    pub max_document: u64,
    /// Most bytes downloaded by this fetcher.
    pub max_total: u64,
    /// Redirects followed.
    pub max_redirects: u32,
    /// Refuse `http://` (also in redirects).
    pub https_only: bool,
    /// PEM file of the CA certificates to trust instead of the public roots.
    pub ca_file: Option<PathBuf>,
    /// Which resolved addresses may be contacted.
    pub addresses: AddressPolicy,
    /// Use the environment's proxy settings (only without the address guard).
    pub proxy_from_env: bool,
}

/// A response body and its media type.
#[derive(Debug)]
pub struct Fetched {
    /// The body.
    pub bytes: Vec<u8>,
    /// `Content-Type` without parameters, lower case.
    pub content_type: Option<String>,
}

/// HTTP GETs with limits.
pub struct Fetcher {
    agent: ureq::Agent,
    /// Largest body, bytes.
    pub max_document: u64,
    /// Most bytes downloaded by this fetcher.
    pub max_total: u64,
    /// Bytes downloaded so far.
    pub downloaded: u64,
    /// Requests made so far.
    pub requests: u64,
    https_only: bool,
}

/// Collapses whitespace (errors from servers and libraries are one line).
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Fetcher {
    /// The public-internet fetcher of `ward feeds sync`: 5 redirects, http and https.
    pub fn new(timeout: Duration, max_document: u64, max_total: u64) -> Fetcher {
        let opts = Options {
            timeout,
            max_document,
            max_total,
            max_redirects: 5,
            https_only: false,
            ca_file: None,
            addresses: AddressPolicy::default(),
            proxy_from_env: true,
        };
        // Without a CA file nothing can fail.
        Fetcher::with_options(&opts).unwrap_or_else(|_| unreachable!("no CA file to read"))
    }

    /// A fetcher with every option.
    pub fn with_options(o: &Options) -> Result<Fetcher, Error> {
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &o.ca_file {
            let ca_error = |why: String| Error::CaFile {
                path: ca.display().to_string(),
                why,
            };
            let pem =
                std::fs::read(ca).map_err(|e| ca_error(format!("cannot read the CA file: {e}")))?;
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                if let ureq::tls::PemItem::Certificate(c) =
                    item.map_err(|e| ca_error(one_line(&e.to_string())))?
                {
                    certs.push(c);
                }
            }
            if certs.is_empty() {
                return Err(ca_error("no PEM certificate in the CA file".into()));
            }
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(o.timeout))
            .timeout_connect(Some(o.timeout.min(Duration::from_secs(30))))
            .max_redirects(o.max_redirects)
            .https_only(o.https_only)
            .http_status_as_error(false)
            .tls_config(tls.build())
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")));
        if !o.proxy_from_env || o.addresses.guard {
            // A proxy would resolve the host itself, past the address guard.
            config = config.proxy(None);
        }
        let config = config.build();
        let agent = if o.addresses.guard {
            let connector = ureq::unversioned::transport::DefaultConnector::default();
            ureq::Agent::with_parts(
                config,
                connector,
                GuardedResolver {
                    inner: DefaultResolver::default(),
                    policy: o.addresses,
                },
            )
        } else {
            ureq::Agent::new_with_config(config)
        };
        Ok(Fetcher {
            agent,
            max_document: o.max_document,
            max_total: o.max_total,
            downloaded: 0,
            requests: 0,
            https_only: o.https_only,
        })
    }

    /// GET `url`; the body.
    pub fn get(&mut self, url: &str, headers: &[(&str, &str)]) -> Result<Vec<u8>, Error> {
        Ok(self
            .fetch(
                url,
                "application/json, text/plain;q=0.9, */*;q=0.1",
                headers,
            )?
            .bytes)
    }

    /// GET `url` with `Accept: accept`; the body and its media type.
    pub fn fetch(
        &mut self,
        url: &str,
        accept: &str,
        headers: &[(&str, &str)],
    ) -> Result<Fetched, Error> {
        let https = url.starts_with("https://");
        if !(https || (!self.https_only && url.starts_with("http://"))) {
            return Err(Error::Scheme {
                url: url.to_string(),
                https_only: self.https_only,
            });
        }
        let mut req = self.agent.get(url).header("Accept", accept);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.requests += 1;
        let resp = req.call().map_err(|e| Error::Request {
            url: url.to_string(),
            why: one_line(&e.to_string()),
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(Error::Status {
                url: url.to_string(),
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_string(),
            });
        }
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|v| !v.is_empty());
        let left = self.max_total.saturating_sub(self.downloaded);
        let limit = self.max_document.min(left);
        let mut body = resp.into_body();
        let bytes = body
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) if limit == self.max_document => {
                    Error::DocumentTooLarge {
                        url: url.to_string(),
                        limit: self.max_document,
                    }
                }
                ureq::Error::BodyExceedsLimit(_) => Error::RunTooLarge {
                    url: url.to_string(),
                    limit: self.max_total,
                },
                e => Error::Request {
                    url: url.to_string(),
                    why: format!("reading the response: {}", one_line(&e.to_string())),
                },
            })?;
        self.downloaded += bytes.len() as u64;
        Ok(Fetched {
            bytes,
            content_type,
        })
    }
}

/// `64 MiB`, `1 KiB`, `100 bytes`.
pub fn size(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_guard() {
        let strict = AddressPolicy {
            guard: true,
            ..Default::default()
        };
        let lab = AddressPolicy {
            guard: true,
            allow_private: true,
            allow_loopback: true,
        };
        for (ip, strict_ok, lab_ok) in [
            ("93.184.216.34", true, true),
            ("2606:2800:220:1:248:1893:25c8:1946", true, true),
            ("127.0.0.1", false, true),
            ("::1", false, true),
            ("169.254.169.254", false, false),
            ("fe80::1", false, false),
            ("10.1.2.3", false, true),
            ("172.16.0.1", false, true),
            ("192.168.1.1", false, true),
            ("100.64.0.1", false, true),
            ("fd00::1", false, true),
            ("::ffff:127.0.0.1", false, true),
            ("::ffff:169.254.169.254", false, false),
            ("64:ff9b::a9fe:a9fe", false, false),
            ("64:ff9b::808:808", true, true),
            ("0.0.0.0", false, false),
            ("0.1.2.3", false, false),
            ("::", false, false),
            ("224.0.0.1", false, false),
            ("255.255.255.255", false, false),
            ("ff02::1", false, false),
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(refused(ip, &strict).is_none(), strict_ok, "{ip} strict");
            assert_eq!(refused(ip, &lab).is_none(), lab_ok, "{ip} lab");
            assert!(refused(ip, &AddressPolicy::default()).is_none());
        }
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(1 << 20), "1 MiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    /// A server on 127.0.0.1 answering each connection with the next of `replies`.
    fn serve(replies: Vec<String>) -> String {
        use std::io::{BufRead, BufReader, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        std::thread::spawn(move || {
            for reply in replies {
                let (s, _) = l.accept().unwrap();
                let mut r = BufReader::new(s);
                let mut line = String::new();
                while r.read_line(&mut line).unwrap() > 2 {
                    line.clear();
                }
                let _ = r.into_inner().write_all(reply.as_bytes());
            }
        });
        base
    }

    fn ok(ctype: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn limits_statuses_and_schemes() {
        let base = serve(vec![
            ok("Application/JSON; charset=utf-8", "{}"),
            ok("text/plain", &"x".repeat(2000)),
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
            ok("text/plain", &"y".repeat(900)),
            ok("text/plain", &"z".repeat(900)),
        ]);
        let mut f = Fetcher::new(Duration::from_secs(10), 1024, 1500);
        let got = f.fetch(&format!("{base}/a"), "*/*", &[]).unwrap();
        assert_eq!(
            (got.bytes.as_slice(), got.content_type.as_deref()),
            (&b"{}"[..], Some("application/json"))
        );
        let e = f.get(&format!("{base}/big"), &[]).unwrap_err();
        assert!(
            matches!(e, Error::DocumentTooLarge { limit: 1024, .. }),
            "{e}"
        );
        assert!(
            e.to_string()
                .ends_with("/big: response is larger than the limit of 1 KiB per document"),
            "{e}"
        );
        let e = f.get(&format!("{base}/missing"), &[]).unwrap_err();
        assert_eq!(e.to_string(), format!("{base}/missing: HTTP 404 Not Found"));
        assert_eq!(f.get(&format!("{base}/y"), &[]).unwrap().len(), 900);
        let e = f.get(&format!("{base}/z"), &[]).unwrap_err();
        assert!(matches!(e, Error::RunTooLarge { limit: 1500, .. }), "{e}");
        assert_eq!((f.requests, f.downloaded), (5, 902));
        let e = f.get("file:///etc/passwd", &[]).unwrap_err().to_string();
        assert_eq!(
            e,
            "file:///etc/passwd: only http and https URLs are supported"
        );
    }

    #[test]
    fn the_guard_refuses_before_connecting() {
        let opts = |allow_loopback| Options {
            timeout: Duration::from_secs(10),
            max_document: 1 << 20,
            max_total: 1 << 20,
            max_redirects: 0,
            https_only: false,
            ca_file: None,
            addresses: AddressPolicy {
                guard: true,
                allow_private: false,
                allow_loopback,
            },
            proxy_from_env: false,
        };
        let base = serve(vec![ok("application/json", "[]")]);
        let e = Fetcher::with_options(&opts(false))
            .unwrap()
            .get(&format!("{base}/x"), &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address"),
            "{e}"
        );
        let got = Fetcher::with_options(&opts(true))
            .unwrap()
            .get(&format!("{base}/x"), &[])
            .unwrap();
        assert_eq!(got, b"[]");
        let mut https = opts(true);
        https.https_only = true;
        let e = Fetcher::with_options(&https)
            .unwrap()
            .get(&format!("{base}/x"), &[])
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("only https URLs are allowed"), "{e}");
        let mut ca = opts(true);
        ca.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(matches!(
            Fetcher::with_options(&ca),
            Err(Error::CaFile { .. })
        ));
    }
}
