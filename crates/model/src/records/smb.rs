//! SMB negotiation and session facts.

use serde::{Deserialize, Serialize};

/// SMB facts from one connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SmbRecord {
    /// Dialects the client offered: SMB1 dialect strings as sent (`NT LM 0.12`,
    /// `SMB 2.002`) and SMB2 dialect revisions (`2.0.2`, `2.1`, `3.0`, `3.0.2`, `3.1.1`).
    pub offered_dialects: Vec<String>,
    /// Dialect the server chose.
    pub dialect: Option<String>,
    /// True when SMBv1 is in use: the server answered in SMB1, the client sent an
    /// SMB1 command other than NEGOTIATE, or the client offered only SMB1 dialects.
    /// A multi-protocol SMB1 NEGOTIATE answered in SMB2 does not count.
    pub smb1: bool,
    /// SMB1 native OS string sent by the server (SESSION_SETUP_ANDX response).
    pub native_os: Option<String>,
    /// SMB1 native LAN manager string sent by the server.
    pub native_lanman: Option<String>,
    /// SMB1 native OS string sent by the client (SESSION_SETUP_ANDX request).
    #[serde(default)]
    pub client_native_os: Option<String>,
    /// SMB1 native LAN manager string sent by the client.
    #[serde(default)]
    pub client_native_lanman: Option<String>,
    /// NTLM user name used to authenticate (no hashes kept). The first non-empty
    /// AUTHENTICATE user name of the connection (or the SMB1 plaintext AccountName).
    pub ntlm_user: Option<String>,
    /// NTLM domain.
    pub ntlm_domain: Option<String>,
    /// NTLM client host name.
    pub ntlm_host: Option<String>,
    /// Server NetBIOS computer name from the NTLM challenge.
    pub server_nb_name: Option<String>,
    /// Server DNS computer name from the NTLM challenge.
    pub server_dns_name: Option<String>,
    /// Server NetBIOS domain name from the NTLM challenge.
    #[serde(default)]
    pub server_nb_domain: Option<String>,
    /// Server DNS domain name from the NTLM challenge.
    #[serde(default)]
    pub server_dns_domain: Option<String>,
    /// Server DNS tree (forest) name from the NTLM challenge.
    pub server_tree_name: Option<String>,
    /// Server OS version from the NTLM challenge (`10.0.19041`).
    pub server_os_version: Option<String>,
    /// Share paths mapped (tree connect requests, `\\host\share`), unique, at most 32.
    pub tree_paths: Vec<String>,
    /// True when message signing was required by the server.
    pub signing_required: Option<bool>,
    /// True when an SMB3 transform (encrypted) header was seen; analysis stops there.
    #[serde(default)]
    pub encrypted: bool,
}
