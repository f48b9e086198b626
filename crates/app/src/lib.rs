//! Ward's application layer (its `ide`): the use cases the command line
//! (`ward`), the web server (`web`) and the multi-site server share, with
//! typed inputs, outputs and errors. Nothing here parses arguments or
//! prints; progress and warnings go to a [`Notify`] the caller chooses.
//!
//! - [`location`]: where a store lives (`--db` path or `postgres://` URL).
//! - [`site_knowledge`]: the site's knowledge file, installed before identification.
//! - [`analyze`]: capture files through the sensor into a store.
//! - [`score`]: every device scored ([`ScoredDevice`]), with its advisory matches.
//! - [`advisories`]: devices (declared and observed) with the advisories that match them.
//! - [`monitor`]: learning baselines and running the detectors (assembly of
//!   the directory, MUD assignments and policies; files or, feature `live`, an interface).
//! - [`policy`]: policy simulation, generated files, MUD import.
//! - [`mud`]: the MUD files devices announced, fetched and stored.
//! - [`intake`]: resolving a device named by key or address.
//! - [`report`]: the risk report files, written atomically.
//! - [`compliance`]: the compliance report (controls judged on the store's evidence, the ePHI flow map) and the programme records.
//! - [`site_sensor`]: a site's sensor loop (watch folder or interface → outbox → JetStream).
//! - [`server`]: the centre's ingest loop (JetStream → store).
//!
//! **Invariant:** this crate depends on the domain crates below it and is
//! depended on by `ward` and `web` only; it holds no argv, no terminal and no
//! `anyhow`.

pub mod advisories;
pub mod analyze;
pub mod backup;
pub mod compliance;
pub mod coverage;
pub mod intake;
#[cfg(feature = "live")]
pub mod live;
pub mod location;
pub mod monitor;
pub mod mud;
pub mod policy;
pub mod remediation;
pub mod report;
pub mod score;
pub mod server;
pub mod site_knowledge;
pub mod site_sensor;

pub use risk::{DeviceKind, ScoredDevice};
pub use score::scored_devices;

use std::fmt::Display;

/// Errors of the use cases: one line each (with its causes), naming the
/// file, URL or store involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input the caller gave is not acceptable (the message says why).
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Reading or writing JSON failed.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// A capture could not be opened or read.
    #[error(transparent)]
    Capture(#[from] capture::Error),
    /// The sensor pipeline failed.
    #[error(transparent)]
    Sensor(#[from] sensor::Error),
    /// NATS, the outbox or an envelope failed.
    #[error(transparent)]
    Transport(#[from] transport::Error),
    /// A site knowledge file is malformed.
    #[error(transparent)]
    Knowledge(#[from] knowledge::Error),
    /// A policy or MUD file is malformed.
    #[error(transparent)]
    Policy(#[from] ::policy::Error),
    /// A report could not be rendered.
    #[error(transparent)]
    Report(#[from] ::report::Error),
    /// A worker thread of ours died (a bug).
    #[error("{0} failed")]
    Thread(&'static str),
    /// An error with what was being done when it happened.
    #[error("{context}")]
    Context {
        /// What was being done (the file, the store).
        context: String,
        /// Why it failed.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// Whether this is the store's "database is locked" after its busy
    /// timeout (another process held the write lock too long): nothing was
    /// changed and the same write can be retried.
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Store(e) => e.is_busy(),
            Error::Context { source, .. } => source.is_busy(),
            _ => false,
        }
    }

    /// The innermost error (below every [`Error::Context`]).
    pub fn root(&self) -> &Error {
        match self {
            Error::Context { source, .. } => source.root(),
            e => e,
        }
    }
}

/// An error and its causes on one line (`a: b: c`), as the command line
/// prints it.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Results of the use cases.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `bail!` for [`Error::Invalid`].
macro_rules! invalid {
    ($($t:tt)*) => { return Err($crate::Error::Invalid(format!($($t)*))) };
}
pub(crate) use invalid;

/// Adds what was being done to an error.
pub trait Context<T> {
    /// Wraps the error with `context`.
    fn context(self, context: impl Display) -> Result<T>;
    /// Wraps the error with the context `f` makes (only on error).
    fn with_context<D: Display>(self, f: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Display) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: context.to_string(),
            source: Box::new(e.into()),
        })
    }

    fn with_context<D: Display>(self, f: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: f().to_string(),
            source: Box::new(e.into()),
        })
    }
}

/// Where long-running use cases report progress and warnings, one line
/// each (the binary prints them on standard error).
pub trait Notify: Send + Sync {
    /// One line of progress or warning.
    fn line(&self, line: &str);
}

impl<F: Fn(&str) + Send + Sync> Notify for F {
    fn line(&self, line: &str) {
        self(line)
    }
}

/// Lines to standard error, as the command line shows them.
pub struct Stderr;

impl Notify for Stderr {
    fn line(&self, line: &str) {
        eprintln!("{line}");
    }
}

/// Wall-clock time now (for records an operator makes: approvals, assignments).
pub fn now() -> model::Timestamp {
    model::Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0),
    )
}

/// A new scratch directory for a test (`name` in its name) holding the
/// generated hospital room capture, and that capture's path.
#[cfg(test)]
pub(crate) fn scratch_room(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("ward-app-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("room.pcap");
    std::fs::write(
        &pcap,
        samplegen::hospital::write(Vec::new(), samplegen::hospital::Variant::Normal).unwrap(),
    )
    .unwrap();
    (dir, pcap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_chains_read_as_one_line() {
        let e: Result<()> = Err(std::io::Error::new(std::io::ErrorKind::NotFound, "gone"))
            .context("cannot read x.pcap");
        let e = e.unwrap_err();
        assert_eq!(e.to_string(), "cannot read x.pcap");
        let src = std::error::Error::source(&e).map(|s| s.to_string());
        assert_eq!(src.as_deref(), Some("gone"));
        assert!(matches!(e.root(), Error::Io(_)));
        assert!(!e.is_busy());
        assert_eq!(chain(&e), "cannot read x.pcap: gone");
    }
}
