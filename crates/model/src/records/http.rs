//! HTTP/1.x transactions.

use serde::{Deserialize, Serialize};

/// One HTTP request and, when seen, its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HttpRecord {
    /// Request method.
    pub method: Option<String>,
    /// Host header without its port (`pump-17.icu.local`, `[fe80::1]`), as
    /// Suricata logs `hostname`.
    pub host: Option<String>,
    /// The port the Host header names, if any (`8080` of `pump:8080`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_port: Option<u16>,
    /// Request target, percent-decoded as Zeek logs it, capped at 512 bytes,
    /// with query values redacted (`/orders?mrn=*`): no patient identifiers.
    pub uri: Option<String>,
    /// HTTP version (`1.1`) of the response, as Zeek logs it; `0.9` for
    /// HTTP/0.9 exchanges; `None` for unanswered requests.
    pub version: Option<String>,
    /// HTTP version of the request (`1.0`), kept apart from the response's
    /// `version`; `0.9` for a simple request, `None` when unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_version: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// Response status code.
    pub status_code: Option<u16>,
    /// Response reason phrase.
    pub status_msg: Option<String>,
    /// Server header of the response.
    pub server: Option<String>,
    /// User name from an `Authorization: Basic` header (the password is never kept).
    pub basic_auth_user: Option<String>,
    /// Classification of the Basic-auth password (`default`, `empty`, `other`).
    pub basic_auth_password: Option<crate::records::PasswordClass>,
    /// Content-Type of the response.
    pub content_type: Option<String>,
    /// Request body length in bytes (after de-chunking).
    pub request_body_len: u64,
    /// Response body length in bytes: after de-chunking, before any
    /// Content-Encoding is undone (Zeek counts gzip/deflate bodies decoded).
    pub response_body_len: u64,
}
