//! Ward's own backups: a consistent snapshot of the SQLite store (taken with
//! `VACUUM INTO` while other processes may write, never a copy of the live
//! file), the store's secret key file and the state directory (TLS
//! certificate and key, anything `ward serve` keeps there), plus a manifest
//! (`manifest.json`: Ward and schema version, device/alert/audit counts), all
//! written into an encrypted, deduplicated repository in restic's format
//! through `rustic_core`, so the stock `restic` binary can list and restore
//! what Ward writes.
//!
//! Inside a snapshot everything lives under `/ward`:
//! `ward.db`, `ward.db.key` (when the store has one), `state/…` and
//! `manifest.json`. [`restore`] writes those files into a new directory;
//! [`verify_restore`] restores into a scratch directory, opens the restored
//! store, runs SQLite's integrity check, compares its counts with the
//! manifest and returns a [`store::backup::Drill`] for the caller to record.
//!
//! **Invariants:** the password is read from a file or the environment, held
//! in [`Password`] (whose `Debug` prints nothing of it) and never part of an
//! error or a log line; every error is one line. A failed operation leaves
//! what exists as it was: `restore` writes into a fresh sibling directory and
//! renames it into place only when every file was read and verified.

mod location;
mod password;
mod repo;
mod s3;

pub use location::Location;
pub use password::Password;
pub use repo::{
    check, create, forget, init, list, restore, verify_restore, CheckReport, Created, Forgot,
    Manifest, Restored, SnapshotInfo, Source, MANIFEST_FILE,
};

/// What can go wrong; every message is one line and names no secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No repository at the named location (nothing was changed).
    #[error("no backup repository at {0} (create one with `ward backup init`)")]
    Missing(String),
    /// `init` found a repository already there.
    #[error("a backup repository already exists at {0}")]
    Exists(String),
    /// The password opens no key of the repository.
    #[error("wrong password for the backup repository at {0}")]
    WrongPassword(String),
    /// The repository location could not be understood.
    #[error("repository {0}")]
    BadLocation(String),
    /// The password file or variable is unusable.
    #[error("{0}")]
    Password(String),
    /// Data read from the repository did not verify (damaged pack, index or tree).
    #[error("the backup repository at {repo} is damaged: {detail} (run `ward backup check`)")]
    Damaged {
        /// The repository.
        repo: String,
        /// What failed, one line.
        detail: String,
    },
    /// No snapshot matched.
    #[error("no snapshot {0} in the repository")]
    NoSnapshot(String),
    /// A snapshot lacks what Ward writes (not a Ward backup, or damaged).
    #[error("snapshot {snapshot} is not a Ward backup: {why}")]
    NotWard {
        /// Snapshot id.
        snapshot: String,
        /// Why.
        why: String,
    },
    /// The restore target is not usable (exists and is not empty, ...).
    #[error("{0}")]
    Target(String),
    /// A local file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The store could not be read or snapshotted.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The repository library reported another error (one line).
    #[error("backup repository: {0}")]
    Repository(String),
    /// The retention options are not usable.
    #[error("{0}")]
    Retention(String),
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: clean(&path.display().to_string()),
        source,
    }
}

/// A printable one-line version of text from outside (file names, library
/// messages): control characters become spaces, runs of spaces collapse, at
/// most 300 characters.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(300));
    let mut space = false;
    for c in s.chars() {
        let c = if c.is_control() || c == '\u{200b}' || c == '\u{feff}' {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if space {
                continue;
            }
            space = true;
        } else {
            space = false;
        }
        out.push(c);
        if out.chars().count() >= 300 {
            out.push('…');
            break;
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clean_makes_one_printable_line() {
        assert_eq!(super::clean("a\n\tb\u{1b}[31m  c"), "a b [31m c");
        assert!(super::clean(&"x".repeat(1000)).chars().count() <= 301);
    }
}
