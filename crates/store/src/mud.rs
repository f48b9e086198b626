//! Fetched MUD files (SQLite migration 8, PostgreSQL migration 4): what
//! `ward mud fetch` learnt about each MUD URL the devices announced (last
//! attempt, last success, error, size, digest, signature status) and which
//! devices announced it (`mud_links`), so that `ward monitor` applies the
//! fetched file to them. The documents themselves live in `mud_files`
//! (migration 7), shared with `ward mud import`.
//!
//! **Invariant:** a failed fetch records the attempt and its error only; the
//! stored document, its links and the last success stay as they were. A
//! successful fetch stores the document, its fetch record and its links in
//! one transaction. Plain portable SQL, one block for both backends.

use crate::db::params;
use crate::{Error, Store};
use serde::{Deserialize, Serialize};

pub(crate) const MIGRATION: &str = r#"
CREATE TABLE mud_fetches(
    url TEXT PRIMARY KEY,
    attempted BIGINT NOT NULL,
    fetched BIGINT,
    status TEXT NOT NULL,
    failures BIGINT NOT NULL,
    bytes BIGINT,
    sha256 TEXT,
    signature TEXT NOT NULL
);
CREATE TABLE mud_links(
    device TEXT NOT NULL,
    url TEXT NOT NULL,
    source TEXT NOT NULL,
    linked BIGINT NOT NULL,
    PRIMARY KEY (device, url)
);
"#;

/// What is known about fetching one MUD URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MudFetch {
    /// The MUD URL.
    pub url: String,
    /// Last attempt (Unix seconds).
    pub attempted: i64,
    /// Last success (Unix seconds), if any.
    pub fetched: Option<i64>,
    /// `ok`, or the last attempt's error (one line).
    pub status: String,
    /// Failed attempts since the last success.
    pub failures: u64,
    /// Size of the stored document.
    pub bytes: Option<u64>,
    /// SHA-256 of the stored document (hex).
    pub sha256: Option<String>,
    /// Signature status (RFC 8520 §13): absent, present but not verified, or unavailable (why).
    pub signature: String,
}

/// A device that announced a MUD URL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MudLink {
    /// Device key (`mac:..` or `ip:..`).
    pub device: String,
    /// The URL it announced.
    pub url: String,
    /// Where (`dhcp`, `lldp`).
    pub source: String,
}

/// A successful fetch, as stored.
#[derive(Debug, Clone)]
pub struct FetchedMud<'a> {
    /// The MUD URL fetched (and the document's `mud-url`).
    pub url: &'a str,
    /// The document's `model-name`.
    pub model: Option<&'a str>,
    /// The document (validated MUD JSON).
    pub doc: &'a str,
    /// Its SHA-256 (hex).
    pub sha256: &'a str,
    /// Signature status.
    pub signature: &'a str,
    /// The devices that announced the URL.
    pub devices: &'a [MudLink],
}

impl Store {
    /// Stores a fetched MUD file, its fetch record and the devices that
    /// announced it (replacing the URL's earlier links), in one transaction.
    pub fn store_fetched_mud(&mut self, f: &FetchedMud<'_>, now_unix: i64) -> Result<(), Error> {
        self.conn().transaction(|c| {
            c.execute(
                "INSERT INTO mud_files(url, model, doc) VALUES (?1, ?2, ?3) ON CONFLICT(url) DO UPDATE SET model = excluded.model, doc = excluded.doc",
                params![f.url, f.model, f.doc],
            )?;
            c.execute(
                "INSERT INTO mud_fetches(url, attempted, fetched, status, failures, bytes, sha256, signature) VALUES (?1, ?2, ?2, 'ok', 0, ?3, ?4, ?5)
                 ON CONFLICT(url) DO UPDATE SET attempted = excluded.attempted, fetched = excluded.fetched, status = 'ok', failures = 0,
                   bytes = excluded.bytes, sha256 = excluded.sha256, signature = excluded.signature",
                params![f.url, now_unix, f.doc.len() as i64, f.sha256, f.signature],
            )?;
            c.execute("DELETE FROM mud_links WHERE url = ?1", params![f.url])?;
            for l in f.devices.iter().filter(|l| l.url == f.url) {
                c.execute(
                    "INSERT INTO mud_links(device, url, source, linked) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(device, url) DO NOTHING",
                    params![&l.device, &l.url, &l.source, now_unix],
                )?;
            }
            Ok(())
        })
    }

    /// Records a failed fetch of `url`: the attempt and its error. The stored
    /// document, links and last success are kept.
    pub fn record_mud_fetch_failure(
        &mut self,
        url: &str,
        error: &str,
        now_unix: i64,
    ) -> Result<(), Error> {
        self.conn().execute(
            "INSERT INTO mud_fetches(url, attempted, fetched, status, failures, signature) VALUES (?1, ?2, NULL, ?3, 1, 'unknown (not fetched)')
             ON CONFLICT(url) DO UPDATE SET attempted = excluded.attempted, status = excluded.status, failures = mud_fetches.failures + 1",
            params![url, now_unix, error],
        )?;
        Ok(())
    }

    /// Every fetch record, by URL.
    pub fn mud_fetches(&self) -> Result<Vec<MudFetch>, Error> {
        let rows = self.conn().query("SELECT url, attempted, fetched, status, failures, bytes, sha256, signature FROM mud_fetches ORDER BY url", &[])?;
        rows.iter()
            .map(|r| {
                Ok(MudFetch {
                    url: r.str(0)?,
                    attempted: r.i64(1)?,
                    fetched: r.opt_i64(2)?,
                    status: r.str(3)?,
                    failures: r.i64(4)?.max(0) as u64,
                    bytes: r.opt_i64(5)?.map(|b| b.max(0) as u64),
                    sha256: r.opt_str(6)?,
                    signature: r.str(7)?,
                })
            })
            .collect()
    }

    /// Devices linked to fetched MUD URLs, most recently linked first.
    pub fn mud_links(&self) -> Result<Vec<MudLink>, Error> {
        let rows = self.conn().query(
            "SELECT device, url, source FROM mud_links ORDER BY linked DESC, device, url",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(MudLink {
                    device: r.str(0)?,
                    url: r.str(1)?,
                    source: r.str(2)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetches_links_and_failures_keep_what_was_stored() {
        crate::testing::each_backend("mud_fetches_links_and_failures", |mut s| {
            let (u, v) = (
                "https://mud.example/pump.json",
                "https://mud.example/monitor.json",
            );
            // A failure before any success: an attempt, no document.
            s.record_mud_fetch_failure(u, "HTTP 500", 10).unwrap();
            let f = s.mud_fetches().unwrap();
            assert_eq!(
                (
                    f[0].attempted,
                    f[0].fetched,
                    f[0].status.as_str(),
                    f[0].failures
                ),
                (10, None, "HTTP 500", 1)
            );
            assert!(s.mud_files().unwrap().is_empty());
            let links = [
                MudLink {
                    device: "mac:00:00:00:00:00:01".into(),
                    url: u.into(),
                    source: "dhcp".into(),
                },
                MudLink {
                    device: "mac:00:00:00:00:00:02".into(),
                    url: u.into(),
                    source: "lldp".into(),
                },
                MudLink {
                    device: "mac:00:00:00:00:00:03".into(),
                    url: v.into(),
                    source: "dhcp".into(),
                },
            ];
            let ok = FetchedMud {
                url: u,
                model: Some("P1"),
                doc: "{\"a\":1}",
                sha256: "ab",
                signature: "absent",
                devices: &links,
            };
            s.store_fetched_mud(&ok, 20).unwrap();
            let f = &s.mud_fetches().unwrap()[0];
            assert_eq!(
                (
                    f.attempted,
                    f.fetched,
                    f.status.as_str(),
                    f.failures,
                    f.bytes
                ),
                (20, Some(20), "ok", 0, Some(7))
            );
            // Only the links of the fetched URL are stored.
            assert_eq!(s.mud_links().unwrap(), links[..2].to_vec());
            // A later failure keeps the document, the links and the last success.
            s.record_mud_fetch_failure(u, "timeout", 30).unwrap();
            s.record_mud_fetch_failure(u, "timeout again", 31).unwrap();
            let f = &s.mud_fetches().unwrap()[0];
            assert_eq!(
                (
                    f.attempted,
                    f.fetched,
                    f.status.as_str(),
                    f.failures,
                    f.sha256.as_deref()
                ),
                (31, Some(20), "timeout again", 2, Some("ab"))
            );
            assert_eq!(
                s.mud_files().unwrap(),
                vec![(
                    u.to_string(),
                    Some("P1".to_string()),
                    "{\"a\":1}".to_string()
                )]
            );
            assert_eq!(s.mud_links().unwrap().len(), 2);
            // A refetch replaces the links (a device that stopped announcing it is unlinked).
            s.store_fetched_mud(
                &FetchedMud {
                    devices: &links[1..2],
                    doc: "{}",
                    ..ok
                },
                40,
            )
            .unwrap();
            assert_eq!(s.mud_links().unwrap(), links[1..2].to_vec());
            assert_eq!(s.mud_fetches().unwrap()[0].failures, 0);
        });
    }
}
