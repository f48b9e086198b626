//! Cleartext login analyzers: FTP control connections ([`Ftp`], RFC 959) and
//! Telnet sessions ([`Telnet`], RFC 854).
//!
//! Both emit one [`model::records::CleartextLogin`] per login attempt with the
//! user name, a [`model::records::PasswordClass`] (the password itself is
//! never kept), the server banner and, when known, whether it succeeded.

mod ftp;
mod line;
mod telnet;

pub use ftp::{Ftp, FtpAnalyzer};
pub use telnet::{Telnet, TelnetAnalyzer};

#[cfg(test)]
mod tests;
