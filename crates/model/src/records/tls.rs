//! TLS handshakes and certificates.

use serde::{Deserialize, Serialize};

/// What the handshake of one TLS connection revealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TlsRecord {
    /// Negotiated version (`TLSv12`, `TLSv13`, `SSLv3`...), Zeek spelling.
    pub version: Option<String>,
    /// Highest version the client offered (supported_versions, else client_version).
    pub client_version: Option<String>,
    /// Negotiated cipher suite name (IANA name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`).
    pub cipher: Option<String>,
    /// Negotiated curve / group name (`secp256r1`, `x25519`), from the
    /// ServerKeyExchange (TLS 1.2) or the server's key_share (TLS 1.3).
    pub curve: Option<String>,
    /// Server Name Indication.
    pub server_name: Option<String>,
    /// ALPN protocol chosen by the server (Zeek's `next_protocol`; only
    /// visible up to TLS 1.2).
    pub alpn: Option<String>,
    /// True when the session was resumed.
    pub resumed: bool,
    /// True when the handshake completed (Zeek's rule: encrypted records
    /// after both sides switched to encryption).
    pub established: bool,
    /// JA3 client fingerprint (MD5 hex) of the first ClientHello.
    pub ja3: Option<String>,
    /// JA3S server fingerprint (MD5 hex) of the last ServerHello (after a
    /// HelloRetryRequest, the real one).
    pub ja3s: Option<String>,
    /// JA4 client fingerprint (FoxIO `t13d1516h2_..._...`).
    pub ja4: Option<String>,
    /// Leaf certificate subject (RFC 4514 string as Zeek logs it: `CN=host,O=Org,C=US`).
    pub cert_subject: Option<String>,
    /// Leaf certificate issuer.
    pub cert_issuer: Option<String>,
    /// Leaf certificate notBefore (seconds since epoch).
    pub cert_not_before: Option<i64>,
    /// Leaf certificate notAfter (seconds since epoch).
    pub cert_not_after: Option<i64>,
    /// Leaf certificate is self-signed (subject == issuer).
    pub cert_self_signed: Option<bool>,
    /// Leaf certificate public key size in bits.
    pub cert_key_bits: Option<u32>,
    /// Leaf certificate signature algorithm (OpenSSL long name, `sha256WithRSAEncryption`).
    pub cert_sig_alg: Option<String>,
    /// Leaf certificate key type as Zeek logs it (`rsa`, `ecdsa`, `dsa`, ...).
    pub cert_key_type: Option<String>,
    /// Leaf certificate SHA-256 fingerprint (lowercase hex, Zeek's x509 `fingerprint`).
    pub cert_fingerprint: Option<String>,
    /// Leaf certificate serial number (uppercase hex, as Zeek logs it).
    pub cert_serial: Option<String>,
    /// DNS names from the leaf certificate's subjectAltName (at most 16).
    pub cert_san_dns: Vec<String>,
    /// Last alert seen in cleartext (`handshake_failure`, `unknown_ca`...).
    pub last_alert: Option<String>,
    /// Zeek's `ssl_history`: one letter per handshake message, CCS, alert or
    /// heartbeat seen in cleartext, upper case from the client (at most 100).
    pub history: String,
}
