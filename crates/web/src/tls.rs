//! TLS: the rustls server configuration (ring provider) from PEM files, and
//! the self-signed certificate generated on first start.

use crate::Error;
use axum_server::tls_rustls::RustlsConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Validity of the generated self-signed certificate, days (at most 825).
pub const SELF_SIGNED_DAYS: i64 = 825;

/// The certificate and key in `state_dir` (`cert.pem`, `key.pem`), generated
/// when missing: self-signed for `localhost`, `127.0.0.1`, `::1` and this
/// host's name, valid from a day ago for [`SELF_SIGNED_DAYS`] days (the
/// CA/Browser Forum's former 825-day ceiling; rcgen's default runs to 4096).
/// The key file is written with mode 0600.
pub fn self_signed(state_dir: &Path) -> Result<(PathBuf, PathBuf), Error> {
    let cert = state_dir.join("cert.pem");
    let key = state_dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
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
}
