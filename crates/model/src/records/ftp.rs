//! Cleartext logins (FTP, Telnet, MQTT).

use serde::{Deserialize, Serialize};

/// Protocol that carried a cleartext login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginProtocol {
    /// FTP (USER/PASS).
    Ftp,
    /// Telnet (login prompt).
    Telnet,
    /// MQTT (CONNECT user name and password).
    Mqtt,
    /// SMTP AUTH PLAIN or LOGIN outside TLS.
    Smtp,
    /// IMAP LOGIN or AUTHENTICATE PLAIN outside TLS.
    Imap,
    /// POP3 USER/PASS outside TLS.
    Pop3,
}

impl LoginProtocol {
    /// Lowercase name (`ftp`, `pop3`).
    pub fn name(self) -> &'static str {
        match self {
            LoginProtocol::Ftp => "ftp",
            LoginProtocol::Telnet => "telnet",
            LoginProtocol::Mqtt => "mqtt",
            LoginProtocol::Smtp => "smtp",
            LoginProtocol::Imap => "imap",
            LoginProtocol::Pop3 => "pop3",
        }
    }
}

/// What kind of password was seen. The password itself is never kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordClass {
    /// No password was seen.
    None,
    /// An empty password.
    Empty,
    /// A well-known default (admin, password, 1234, the user name...).
    Default,
    /// Anything else.
    Other,
}

impl PasswordClass {
    /// Classifies a password without keeping it.
    pub fn classify(user: &str, password: &[u8]) -> Self {
        const DEFAULTS: &[&str] = &[
            "admin",
            "password",
            "1234",
            "12345",
            "123456",
            "root",
            "toor",
            "default",
            "guest",
            "user",
            "service",
            "support",
            "changeme",
            "pass",
            "system",
            "manager",
            "private",
            "public",
            "anonymous",
            "ftp",
            "test",
            "biomed",
            "philips",
            "ge",
            "siemens",
        ];
        if password.is_empty() {
            return PasswordClass::Empty;
        }
        let p = String::from_utf8_lossy(password).to_ascii_lowercase();
        if DEFAULTS.contains(&p.as_str())
            || p == user.to_ascii_lowercase()
            || p.contains('@') && user.eq_ignore_ascii_case("anonymous")
        {
            PasswordClass::Default
        } else {
            PasswordClass::Other
        }
    }
}

/// One cleartext login attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleartextLogin {
    /// FTP, Telnet, MQTT, SMTP, IMAP or POP3.
    pub protocol: LoginProtocol,
    /// User name (capped).
    pub user: Option<String>,
    /// Password classification.
    pub password: PasswordClass,
    /// Server greeting banner.
    pub banner: Option<String>,
    /// True if the server accepted the login, false if it refused, None if unknown.
    pub success: Option<bool>,
    /// Server reply code (FTP) to the login.
    pub reply_code: Option<u16>,
}
