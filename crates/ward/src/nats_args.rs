//! Command-line options shared by `ward sensor` and `ward server`: where
//! NATS is and how to authenticate (credentials file, user/password, TLS
//! with an optional client certificate).

use clap::Args;
use std::path::PathBuf;

/// NATS connection options.
#[derive(Args, Clone, Debug)]
pub struct NatsArgs {
    /// NATS server URL(s), comma-separated (nats://HOST:4222, tls://HOST:4222).
    #[arg(long, value_name = "URL", default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    /// NATS credentials file (user JWT and nkey seed, made with nsc).
    #[arg(long, value_name = "FILE")]
    pub creds: Option<PathBuf>,
    /// NATS user (with --nats-password; prefer --creds or the WARD_NATS_PASSWORD variable over a password on the command line).
    #[arg(long, value_name = "USER")]
    pub nats_user: Option<String>,
    /// NATS password (default: the WARD_NATS_PASSWORD environment variable).
    #[arg(long, value_name = "PASSWORD")]
    pub nats_password: Option<String>,
    /// CA certificate (PEM) that signed the NATS server's certificate; turns TLS on.
    #[arg(long, value_name = "PEM")]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Client key (PEM) for mutual TLS.
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl NatsArgs {
    /// As transport options.
    pub fn options(&self, name: &str) -> transport::NatsOptions {
        transport::NatsOptions {
            url: self.nats.clone(),
            creds: self.creds.clone(),
            user: self.nats_user.clone(),
            password: self.nats_password.clone().or_else(|| {
                self.nats_user
                    .as_ref()
                    .and_then(|_| std::env::var("WARD_NATS_PASSWORD").ok())
            }),
            tls_ca: self.tls_ca.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            name: name.to_string(),
        }
    }
}
