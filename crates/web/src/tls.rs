//! TLS: the rustls server configuration (ring provider) from PEM files, and
//! the self-signed certificate generated on first start.

use crate::Error;
use axum_server::tls_rustls::RustlsConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Validity of the generated self-signed certificate, days (at most 825).
pub const SELF_SIGNED_DAYS: i64 = 825;

/// A certificate Ward generated is replaced when it expires within this many days.
pub const RENEW_DAYS: i64 = 30;

/// The subject (and issuer) of the certificates Ward generates: rcgen's
/// default, which tells them apart from any other certificate in the file.
const GENERATED_CN: &str = "rcgen self signed cert";

/// The certificate and key in `state_dir` (`cert.pem`, `key.pem`), generated
/// when missing: self-signed for `localhost`, `127.0.0.1`, `::1` and this
/// host's name, valid from a day ago for [`SELF_SIGNED_DAYS`] days (the
/// CA/Browser Forum's former 825-day ceiling; rcgen's default runs to 4096).
/// The key file is written with mode 0600.
///
/// A certificate Ward generated earlier is generated anew (and one stderr
/// line says why) when it has expired, expires within [`RENEW_DAYS`] days,
/// or is valid for more than [`SELF_SIGNED_DAYS`] days (older versions made
/// them valid until 4096). Any other certificate found there is kept as it
/// is; an operator's certificate given with `--cert`/`--key`
/// ([`crate::Transport::Tls`]) never comes here.
pub fn self_signed(state_dir: &Path) -> Result<(PathBuf, PathBuf), Error> {
    let cert = state_dir.join("cert.pem");
    let key = state_dir.join("key.pem");
    if cert.exists() && key.exists() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match std::fs::read(&cert).ok().and_then(|pem| renewal(&pem, now)) {
            None => return Ok((cert, key)),
            Some(why) => eprintln!(
                "ward serve: the self-signed certificate {} {why}; generating a new one (browsers will ask to trust it again)",
                cert.display()
            ),
        }
    }
    let io = |what: &Path| {
        let what = what.display().to_string();
        move |source| Error::Io {
            what: format!("cannot write {what}"),
            source,
        }
    };
    std::fs::create_dir_all(state_dir).map_err(io(state_dir))?;
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        let h = h.trim();
        if !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            names.push(h.to_string());
        }
    }
    let tls = |e: rcgen::Error| Error::Tls(e.to_string());
    let mut params = rcgen::CertificateParams::new(names).map_err(tls)?;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS - 1);
    let key_pair = rcgen::KeyPair::generate().map_err(tls)?;
    let generated = params.self_signed(&key_pair).map_err(tls)?;
    write_private(&key, key_pair.serialize_pem().as_bytes()).map_err(io(&key))?;
    std::fs::write(&cert, generated.pem()).map_err(io(&cert))?;
    Ok((cert, key))
}

/// Why the certificate in `pem` must be generated anew at `now` (Unix
/// seconds); `None` to keep it, and for anything Ward did not generate
/// (another subject or issuer) or cannot read.
fn renewal(pem: &[u8], now: i64) -> Option<String> {
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::CertificateDer::from_pem_slice(pem).ok()?;
    let (_, c) = x509_parser::parse_x509_certificate(&der).ok()?;
    let cn = c.subject().iter_common_name().next()?.as_str().ok()?;
    if cn != GENERATED_CN || c.issuer() != c.subject() {
        return None;
    }
    let v = c.validity();
    let (from, until) = (v.not_before.timestamp(), v.not_after.timestamp());
    let date = v.not_after.to_datetime().date();
    let days = (until - from) / 86_400;
    if until <= now {
        Some(format!("expired on {date}"))
    } else if until - now < RENEW_DAYS * 86_400 {
        Some(format!("expires on {date}, within {RENEW_DAYS} days"))
    } else if days > SELF_SIGNED_DAYS {
        Some(format!(
            "is valid for {days} days (until {date}), more than {SELF_SIGNED_DAYS}"
        ))
    } else {
        None
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
}

/// A rustls server configuration (TLS 1.2 and 1.3, ring, HTTP/1.1).
pub fn server_config(cert: &Path, key: &Path) -> Result<RustlsConfig, Error> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            Error::Tls(format!(
                "cannot read certificates from {}: {e}",
                cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::Tls(format!("no certificate in {}", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        Error::Tls(format!(
            "cannot read private key from {}: {e}",
            key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_certificate_is_valid_at_most_825_days() {
        let dir = std::env::temp_dir().join(format!("ward-tls-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (cert, key) = self_signed(&dir).unwrap();
        let pem = std::fs::read(&cert).unwrap();
        use rustls::pki_types::pem::PemObject;
        let der = rustls::pki_types::CertificateDer::from_pem_slice(&pem).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
        let v = parsed.validity();
        let days = (v.not_after.timestamp() - v.not_before.timestamp()) / 86_400;
        assert!(days <= 825, "valid for {days} days");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(v.not_before.timestamp() <= now && now < v.not_after.timestamp());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key readable by others: {mode:o}");
        }
        server_config(&cert, &key).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A certificate and key as rcgen makes them, valid `from`..`until`
    /// (days from now), self-signed with rcgen's default subject, or issued
    /// by another CA (`ca`).
    fn write_cert(dir: &Path, from: i64, until: i64, ca: bool) -> Vec<u8> {
        std::fs::create_dir_all(dir).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params.not_before = now + time::Duration::days(from);
        params.not_after = now + time::Duration::days(until);
        let key = rcgen::KeyPair::generate().unwrap();
        let pem = if ca {
            let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            ca.distinguished_name = rcgen::DistinguishedName::new();
            ca.distinguished_name
                .push(rcgen::DnType::CommonName, "Hospital CA");
            ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let ca_key = rcgen::KeyPair::generate().unwrap();
            let issuer = rcgen::Issuer::new(ca, ca_key);
            params.signed_by(&key, &issuer).unwrap().pem()
        } else {
            params.self_signed(&key).unwrap().pem()
        };
        std::fs::write(dir.join("cert.pem"), &pem).unwrap();
        write_private(&dir.join("key.pem"), key.serialize_pem().as_bytes()).unwrap();
        pem.into_bytes()
    }

    /// Issue 19, item 8: a generated certificate that is expired, expires
    /// within 30 days or is valid for more than 825 days (an old one, valid
    /// until 4096) is generated anew; a good one, and a certificate Ward did
    /// not generate, are kept byte for byte.
    #[test]
    fn generated_certificates_are_renewed_and_others_kept() {
        let dir = std::env::temp_dir().join(format!("ward-tls-renew-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let y4096 = time::Date::from_calendar_date(4096, time::Month::January, 1).unwrap();
        let until_4096 = (time::OffsetDateTime::new_utc(y4096, time::Time::MIDNIGHT)
            - time::OffsetDateTime::now_utc())
        .whole_days();
        for (from, until, ca, renewed) in [
            (-1, 824, false, false),
            (-1, until_4096, false, true),
            (-900, -1, false, true),
            (-800, 10, false, true),
            (-1, until_4096, true, false),
            (-900, -1, true, false),
        ] {
            let old = write_cert(&dir, from, until, ca);
            assert_eq!(
                renewal(&old, now).is_some(),
                renewed,
                "{from}..{until} ca={ca}"
            );
            let (cert, key) = self_signed(&dir).unwrap();
            let new = std::fs::read(&cert).unwrap();
            assert_eq!(new != old, renewed, "{from}..{until} ca={ca}");
            if renewed {
                assert_eq!(renewal(&new, now), None);
                server_config(&cert, &key).unwrap();
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
