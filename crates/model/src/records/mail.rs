//! Mail protocol sessions (SMTP, IMAP, POP3): the server's greeting, the
//! client's announced name (SMTP EHLO/HELO), whether STARTTLS was offered
//! and taken. Messages, addresses and mailbox contents are never read.

use serde::{Deserialize, Serialize};

/// Which mail protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailProtocol {
    /// SMTP (RFC 5321), STARTTLS from RFC 3207.
    Smtp,
    /// IMAP (RFC 9051), STARTTLS from RFC 2595.
    Imap,
    /// POP3 (RFC 1939), STLS from RFC 2595.
    Pop3,
}

impl MailProtocol {
    /// Lowercase name (`smtp`).
    pub fn name(self) -> &'static str {
        match self {
            MailProtocol::Smtp => "smtp",
            MailProtocol::Imap => "imap",
            MailProtocol::Pop3 => "pop3",
        }
    }
}

/// One mail protocol connection, up to STARTTLS, a login or the first
/// message transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailRecord {
    /// SMTP, IMAP or POP3.
    pub protocol: MailProtocol,
    /// The server's greeting text (capped, cleaned): often its software.
    pub banner: Option<String>,
    /// SMTP: the name the client gave in EHLO/HELO (capped).
    pub helo: Option<String>,
    /// The server offered STARTTLS (SMTP EHLO keyword, IMAP capability, POP3 STLS).
    pub starttls_offered: bool,
    /// The client asked for STARTTLS (STLS) and the server accepted: the
    /// rest of the connection is TLS (its handshake is a TLS record).
    pub starttls: bool,
    /// Command lines the client sent before the record ended.
    pub commands: u32,
}
