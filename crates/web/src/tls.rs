//! TLS: the rustls server configuration (ring provider) from PEM files, and
//! the self-signed certificate generated on first start.

use crate::Error;
use axum_server::tls_rustls::RustlsConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The certificate and key in `state_dir` (`cert.pem`, `key.pem`), generated
/// when missing: self-signed for `localhost`, `127.0.0.1`, `::1` and this
/// host's name. The key file is written with mode 0600.
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
    let generated =
        rcgen::generate_simple_self_signed(names).map_err(|e| Error::Tls(e.to_string()))?;
    write_private(&key, generated.key_pair.serialize_pem().as_bytes()).map_err(io(&key))?;
    std::fs::write(&cert, generated.cert.pem()).map_err(io(&cert))?;
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
