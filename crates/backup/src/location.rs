//! Where a repository is, named the way restic names it: a local path, or
//! `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]` for an S3-compatible server
//! (credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, region
//! from `AWS_DEFAULT_REGION` or `us-east-1`).

use crate::{clean, Error};
use std::path::PathBuf;

/// A repository location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A directory.
    Local(PathBuf),
    /// An S3 bucket (path-style addressing).
    S3 {
        /// `http://host:port` or `https://host`.
        endpoint: String,
        /// Bucket name.
        bucket: String,
        /// Key prefix inside the bucket (may be empty).
        prefix: String,
    },
}

impl Location {
    /// Parses a repository name as given to `--repo`.
    pub fn parse(s: &str) -> Result<Location, Error> {
        if s.is_empty() {
            return Err(Error::BadLocation("name is empty".into()));
        }
        if let Some(rest) = s.strip_prefix("s3:") {
            let (scheme, after) = if let Some(a) = rest.strip_prefix("http://") {
                ("http", a)
            } else if let Some(a) = rest.strip_prefix("https://") {
                ("https", a)
            } else {
                return Err(Error::BadLocation(format!(
                    "{}: expected s3:http://HOST:PORT/BUCKET or s3:https://HOST/BUCKET",
                    clean(s)
                )));
            };
            let mut parts = after.splitn(3, '/');
            let host = parts.next().unwrap_or_default();
            let bucket = parts.next().unwrap_or_default();
            let prefix = parts.next().unwrap_or_default().trim_matches('/');
            let host_ok = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
            let bucket_ok = !bucket.is_empty()
                && bucket.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-')
                });
            if !host_ok || !bucket_ok || prefix.chars().any(|c| c.is_control()) {
                return Err(Error::BadLocation(format!(
                    "{}: expected s3:http://HOST:PORT/BUCKET[/PREFIX]",
                    clean(s)
                )));
            }
            return Ok(Location::S3 {
                endpoint: format!("{scheme}://{host}"),
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
        }
        if s.contains("://") || s.starts_with("sftp:") || s.starts_with("rest:") {
            return Err(Error::BadLocation(format!(
                "{}: only local paths and s3: repositories are supported",
                clean(s)
            )));
        }
        Ok(Location::Local(PathBuf::from(s)))
    }

    /// The name shown in messages and recorded with drills.
    pub fn display(&self) -> String {
        match self {
            Location::Local(p) => clean(&p.display().to_string()),
            Location::S3 {
                endpoint,
                bucket,
                prefix,
            } => {
                if prefix.is_empty() {
                    format!("s3:{endpoint}/{bucket}")
                } else {
                    format!("s3:{endpoint}/{bucket}/{}", clean(prefix))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_restic_names_them() {
        assert_eq!(
            Location::parse("/srv/backup").unwrap(),
            Location::Local("/srv/backup".into())
        );
        assert_eq!(
            Location::parse("s3:http://127.0.0.1:9000/ward/site-a").unwrap(),
            Location::S3 {
                endpoint: "http://127.0.0.1:9000".into(),
                bucket: "ward".into(),
                prefix: "site-a".into()
            }
        );
        assert!(Location::parse("s3:ftp://x/y").is_err());
        assert!(Location::parse("s3:http://host").is_err());
        assert!(Location::parse("s3:http://ho st/b").is_err());
        assert!(Location::parse("rest:http://x/").is_err());
        assert!(Location::parse("").is_err());
    }
}
