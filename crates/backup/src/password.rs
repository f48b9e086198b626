//! The repository password: from a file (`--password-file`, read the way
//! restic reads `RESTIC_PASSWORD_FILE`: surrounding white space trimmed, so
//! one file serves both) or the `WARD_BACKUP_PASSWORD` variable; never from
//! the command line. `Debug` shows nothing of it.

use crate::{clean, Error};
use std::path::Path;

/// The environment variable a password may come from.
pub const PASSWORD_ENV: &str = "WARD_BACKUP_PASSWORD";

/// Longest password file read (a password, not a document).
const MAX_FILE: u64 = 4096;

/// A repository password.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    /// A password from its text (white space around it trimmed); empty is refused.
    pub fn new(text: &str) -> Result<Password, Error> {
        let t = text.trim();
        if t.is_empty() {
            return Err(Error::Password("the backup password is empty".into()));
        }
        Ok(Password(t.to_string()))
    }

    /// Reads the password file `path`.
    pub fn from_file(path: &Path) -> Result<Password, Error> {
        let shown = clean(&path.display().to_string());
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::Password(format!("password file {shown}: {e}")))?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return Err(Error::Password(format!(
                "password file {shown}: not a file of at most {MAX_FILE} bytes"
            )));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Password(format!("password file {shown}: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::Password(format!("password file {shown}: not UTF-8 text")))?;
        Password::new(&text).map_err(|_| Error::Password(format!("password file {shown} is empty")))
    }

    /// The password in `WARD_BACKUP_PASSWORD`, if that is set.
    pub fn from_env() -> Option<Result<Password, Error>> {
        let v = std::env::var_os(PASSWORD_ENV)?;
        Some(match v.into_string() {
            Ok(s) => {
                Password::new(&s).map_err(|_| Error::Password(format!("{PASSWORD_ENV} is empty")))
            }
            Err(_) => Err(Error::Password(format!("{PASSWORD_ENV} is not UTF-8"))),
        })
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the password replaced (for messages
    /// from the repository library, which should never hold it anyway).
    pub(crate) fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "(password)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_it_and_white_space_is_trimmed() {
        let p = Password::new("  s3cret\n").unwrap();
        assert_eq!(p.expose(), "s3cret");
        assert!(!format!("{p:?}").contains("s3cret"));
        assert_eq!(p.redact("x s3cret y"), "x (password) y");
        assert!(Password::new(" \n").is_err());
    }
}
