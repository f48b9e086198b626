//! SSH banners and key-exchange algorithms.

use serde::{Deserialize, Serialize};

/// What the start of one SSH connection revealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SshRecord {
    /// Protocol version from the banners (1 or 2).
    pub version: Option<u8>,
    /// Client identification string (`SSH-2.0-OpenSSH_8.9p1 Ubuntu-3`).
    pub client: Option<String>,
    /// Server identification string.
    pub server: Option<String>,
    /// Negotiated key-exchange algorithm.
    pub kex_alg: Option<String>,
    /// Negotiated host-key algorithm.
    pub host_key_alg: Option<String>,
    /// Negotiated cipher. When the two directions differ, Zeek's form
    /// `To server: <c2s>, to client: <s2c>`; likewise for MAC and compression.
    pub cipher_alg: Option<String>,
    /// Negotiated MAC.
    pub mac_alg: Option<String>,
    /// Negotiated compression.
    pub compression_alg: Option<String>,
    /// HASSH client fingerprint (MD5 hex).
    pub hassh: Option<String>,
    /// HASSH server fingerprint (MD5 hex).
    pub hassh_server: Option<String>,
    /// Server host key fingerprint as OpenSSH prints it: `SHA256:` and the
    /// unpadded base64 of the SHA-256 of the host key blob from the server's
    /// key-exchange reply.
    pub host_key_fingerprint: Option<String>,
}
