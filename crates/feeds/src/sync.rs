//! One feed sync: the CISA KEV catalog, CISA's CSAF medical advisories
//! (ICSMA), NVD CVE API 2.0 records, FIRST's EPSS scores and openFDA device
//! recall (enforcement) reports, each fetched and parsed before
//! anything is returned, so the caller can store all of them together with
//! each source's sync time in one transaction — or nothing.
//!
//! **Sources** (base URLs overridable with `NAME=URL`, else the environment
//! variables `WARD_FEED_KEV_URL` / `WARD_FEED_CSAF_URL` / `WARD_FEED_NVD_URL` /
//! `WARD_FEED_EPSS_URL` / `WARD_FEED_FDA_URL`;
//! `off` skips a source). After a successful NVD sync the next one asks only
//! for records modified since then (at most [`nvd::MAX_WINDOW_SECS`], else
//! a full sync).

use crate::{csaf, fda, kev, nvd, Error, Fetcher};
use std::fmt;
use std::time::Duration;

/// The CISA KEV catalog.
pub const DEFAULT_KEV: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// CISA's CSAF provider metadata.
pub const DEFAULT_CSAF: &str = "https://www.cisa.gov/.well-known/csaf/provider-metadata.json";
/// The NVD CVE API 2.0.
pub const DEFAULT_NVD: &str = "https://services.nvd.nist.gov/rest/json/cves/2.0";
/// FIRST's daily EPSS scores.
pub const DEFAULT_EPSS: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";
/// openFDA's device enforcement reports (recalls with their class).
pub const DEFAULT_FDA: &str = "https://api.fda.gov/device/enforcement.json";

/// A feed source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// CISA KEV catalog.
    Kev,
    /// A CSAF provider.
    Csaf,
    /// The NVD CVE API 2.0.
    Nvd,
    /// FIRST EPSS scores.
    Epss,
    /// openFDA device recalls.
    Fda,
}

impl Source {
    /// Every source, in sync order.
    pub const ALL: [Source; 5] = [
        Source::Kev,
        Source::Csaf,
        Source::Nvd,
        Source::Epss,
        Source::Fda,
    ];

    /// `kev`, `csaf`, `nvd`, `epss`, `fda`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Kev => "kev",
            Source::Csaf => "csaf",
            Source::Nvd => "nvd",
            Source::Epss => "epss",
            Source::Fda => "fda",
        }
    }

    /// The public URL.
    pub fn default_url(self) -> &'static str {
        match self {
            Source::Kev => DEFAULT_KEV,
            Source::Csaf => DEFAULT_CSAF,
            Source::Nvd => DEFAULT_NVD,
            Source::Epss => DEFAULT_EPSS,
            Source::Fda => DEFAULT_FDA,
        }
    }
}

/// Each source's URL (`None`: skipped): the default, else `env("WARD_FEED_<NAME>_URL")`,
/// else an override `NAME=URL` (`off` skips). Only http and https URLs.
pub fn source_urls(
    overrides: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(Source, Option<String>)>, Error> {
    let mut urls: Vec<(Source, Option<String>)> = Source::ALL
        .iter()
        .map(|&s| {
            let var = format!("WARD_FEED_{}_URL", s.name().to_ascii_uppercase());
            let from_env = env(&var).filter(|v| !v.trim().is_empty());
            (
                s,
                Some(from_env.unwrap_or_else(|| s.default_url().to_string())),
            )
        })
        .collect();
    for given in overrides {
        let bad = |why: String| Error::Source {
            given: given.clone(),
            why,
        };
        let (name, url) = given
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=URL".into()))?;
        let slot = urls
            .iter_mut()
            .find(|(s, _)| s.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                bad(format!(
                    "unknown source {name:?} (kev, csaf, nvd, epss or fda)"
                ))
            })?;
        slot.1 = Some(url.trim().to_string());
    }
    for (_, url) in urls.iter_mut() {
        if url
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case("off"))
        {
            *url = None;
        } else if let Some(u) = url.as_deref() {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(Error::Scheme {
                    url: u.to_string(),
                    https_only: false,
                });
            }
        }
    }
    Ok(urls)
}

/// The last successful sync of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastSync {
    /// The URL synced from.
    pub url: String,
    /// When (Unix seconds).
    pub synced_unix: i64,
}

/// What a sync does.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Each source's URL, `None` to skip it (see [`source_urls`]).
    pub sources: Vec<(Source, Option<String>)>,
    /// Ignore the last NVD sync: fetch every record.
    pub nvd_full: bool,
    /// NVD records per page (clamped to 1..=2000).
    pub nvd_page_size: u32,
    /// Pause between NVD pages; default 6 s for the public NVD, 600 ms with an API key, 0 elsewhere.
    pub nvd_delay: Option<Duration>,
    /// The NVD API key.
    pub nvd_api_key: Option<String>,
    /// Largest document, bytes.
    pub max_document: u64,
    /// Most downloaded in the sync, bytes.
    pub max_total: u64,
    /// Timeout of one request.
    pub timeout: Duration,
}

/// What one source gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Summary {
    /// The KEV catalog: its entries and size.
    Kev {
        /// Catalog entries.
        entries: usize,
        /// Bytes.
        bytes: usize,
    },
    /// CSAF: advisories fetched and documents listed.
    Csaf {
        /// ICSMA advisories fetched.
        advisories: usize,
        /// Documents the listings named.
        listed: usize,
    },
    /// NVD: records, pages and the window start (`None`: full).
    Nvd {
        /// CVE records.
        records: usize,
        /// Pages fetched.
        pages: u64,
        /// Modified since (Unix seconds), or a full sync.
        since: Option<i64>,
    },
    /// EPSS: the scores.
    Epss {
        /// CVEs scored.
        scores: usize,
    },
    /// openFDA: recall reports and pages.
    Fda {
        /// Reports.
        reports: usize,
        /// Pages fetched.
        pages: usize,
    },
}

/// Progress of a sync, one event per source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The source is off.
    Skipped(Source),
    /// The source was fetched and parsed.
    Fetched {
        /// Which.
        source: Source,
        /// From where.
        url: String,
        /// What it gave.
        summary: Summary,
    },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::Skipped(s) => write!(f, "{}: skipped", s.name()),
            Progress::Fetched { url, summary, .. } => match summary {
                Summary::Kev { entries, bytes } => write!(
                    f,
                    "kev: fetched the catalog ({entries} entries, {bytes} bytes) from {url}"
                ),
                Summary::Csaf { advisories, listed } => write!(
                    f,
                    "csaf: fetched {advisories} ICSMA advisories ({listed} documents listed) from {url}"
                ),
                Summary::Nvd {
                    records,
                    pages,
                    since,
                } => {
                    let how = match since {
                        Some(from) => format!("modified since {}Z", nvd::iso(*from)),
                        None => "full".to_string(),
                    };
                    write!(
                        f,
                        "nvd: fetched {records} CVE records in {pages} pages ({how}) from {url}"
                    )
                }
                Summary::Epss { scores } => write!(f, "epss: fetched {scores} scores from {url}"),
                Summary::Fda { reports, pages } => write!(
                    f,
                    "fda: fetched {reports} device recall reports of the last {} days in {pages} pages from {url}",
                    fda::WINDOW_DAYS
                ),
            },
        }
    }
}

/// A source's successful sync, to be stored with its documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceState {
    /// The source.
    pub source: Source,
    /// Its URL.
    pub url: String,
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    pub synced_at: String,
    /// When, Unix seconds.
    pub synced_unix: i64,
    /// Documents fetched.
    pub documents: u64,
}

/// Everything a sync fetched.
#[derive(Debug)]
pub struct Synced {
    /// Every parsed document of every source.
    pub files: Vec<advisory::FeedFile>,
    /// Each synced source's state.
    pub states: Vec<SourceState>,
    /// Bytes downloaded.
    pub downloaded: u64,
    /// Requests made.
    pub requests: u64,
}

/// The NVD window after `last` at `now`: only when the last sync was from
/// the same URL, not in the future and at most [`nvd::MAX_WINDOW_SECS`] ago.
pub fn nvd_window(last: Option<&LastSync>, url: &str, now: i64, full: bool) -> Option<(i64, i64)> {
    match last {
        Some(s)
            if !full
                && s.url == url
                && now - s.synced_unix <= nvd::MAX_WINDOW_SECS
                && s.synced_unix <= now =>
        {
            Some((s.synced_unix, now))
        }
        _ => None,
    }
}

/// Runs the sync at `now` (Unix seconds); `last_nvd` is the last NVD sync.
/// `progress` hears of each source as it is done. Stops at the first error.
pub fn run(
    o: &SyncOptions,
    last_nvd: Option<&LastSync>,
    now: i64,
    mut progress: impl FnMut(&Progress),
) -> Result<Synced, Error> {
    let mut f = Fetcher::new(
        o.timeout.max(Duration::from_secs(1)),
        o.max_document.max(1),
        o.max_total.max(1),
    );
    let mut files = Vec::new();
    let mut states = Vec::new();
    for (source, url) in &o.sources {
        let Some(url) = url.as_deref() else {
            progress(&Progress::Skipped(*source));
            continue;
        };
        let (got, summary) = match source {
            Source::Kev => {
                let (file, entries) = kev::fetch(&mut f, url)?;
                let bytes = file.bytes;
                (vec![file], Summary::Kev { entries, bytes })
            }
            Source::Csaf => {
                let (got, listed) = csaf::fetch(&mut f, url)?;
                let advisories = got.len();
                (got, Summary::Csaf { advisories, listed })
            }
            Source::Nvd => {
                let public = url == DEFAULT_NVD;
                let delay = o.nvd_delay.unwrap_or(match (public, &o.nvd_api_key) {
                    (false, _) => Duration::ZERO,
                    (true, Some(_)) => Duration::from_millis(600),
                    (true, None) => Duration::from_millis(6000),
                });
                let plan = nvd::Plan {
                    base: url,
                    window: nvd_window(last_nvd, url, now, o.nvd_full),
                    page_size: o.nvd_page_size.clamp(1, 2000),
                    delay,
                    api_key: o.nvd_api_key.clone(),
                };
                let (got, pages) = nvd::fetch(&mut f, &plan)?;
                let records = got.len();
                let since = plan.window.map(|(from, _)| from);
                (
                    got,
                    Summary::Nvd {
                        records,
                        pages,
                        since,
                    },
                )
            }
            Source::Epss => {
                let (file, scores) = fda::fetch_epss(&mut f, url)?;
                (vec![file], Summary::Epss { scores })
            }
            Source::Fda => {
                let (got, reports) = fda::fetch_recalls(&mut f, url, now)?;
                let pages = got.len();
                (got, Summary::Fda { reports, pages })
            }
        };
        progress(&Progress::Fetched {
            source: *source,
            url: url.to_string(),
            summary,
        });
        states.push(SourceState {
            source: *source,
            url: url.to_string(),
            synced_at: format!("{}Z", nvd::iso(now)),
            synced_unix: now,
            documents: got.len() as u64,
        });
        files.extend(got);
    }
    Ok(Synced {
        files,
        states,
        downloaded: f.downloaded,
        requests: f.requests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_come_from_defaults_environment_and_overrides() {
        let env = |v: &str| (v == "WARD_FEED_CSAF_URL").then(|| "http://mirror/p.json".to_string());
        let got = source_urls(
            &[
                "NVD=off".into(),
                " kev = https://k/kev.json ".into(),
                "fda=off".into(),
            ],
            env,
        )
        .unwrap();
        assert_eq!(
            got,
            [
                (Source::Kev, Some("https://k/kev.json".to_string())),
                (Source::Csaf, Some("http://mirror/p.json".to_string())),
                (Source::Nvd, None),
                (Source::Epss, Some(DEFAULT_EPSS.to_string())),
                (Source::Fda, None),
            ]
        );
        assert_eq!(
            source_urls(&[], |_| None).unwrap()[2].1.as_deref(),
            Some(DEFAULT_NVD)
        );
        for (given, want) in [
            ("kev", "--source kev: expected NAME=URL"),
            (
                "osv=https://x",
                "--source osv=https://x: unknown source \"osv\" (kev, csaf, nvd, epss or fda)",
            ),
            (
                "kev=ftp://x",
                "ftp://x: only http and https URLs are supported",
            ),
        ] {
            assert_eq!(
                source_urls(&[given.to_string()], |_| None)
                    .unwrap_err()
                    .to_string(),
                want
            );
        }
    }

    #[test]
    fn the_nvd_window_follows_the_last_sync_of_the_same_url() {
        let last = LastSync {
            url: "u".into(),
            synced_unix: 1000,
        };
        assert_eq!(
            nvd_window(Some(&last), "u", 5000, false),
            Some((1000, 5000))
        );
        assert_eq!(nvd_window(Some(&last), "u", 5000, true), None, "--nvd-full");
        assert_eq!(nvd_window(Some(&last), "other", 5000, false), None);
        assert_eq!(
            nvd_window(Some(&last), "u", 500, false),
            None,
            "a sync in the future"
        );
        assert_eq!(
            nvd_window(Some(&last), "u", 1000 + nvd::MAX_WINDOW_SECS + 1, false),
            None
        );
        assert_eq!(nvd_window(None, "u", 5000, false), None);
    }

    #[test]
    fn progress_lines() {
        let p = Progress::Fetched {
            source: Source::Nvd,
            url: "u".into(),
            summary: Summary::Nvd {
                records: 2,
                pages: 1,
                since: Some(0),
            },
        };
        assert_eq!(
            p.to_string(),
            "nvd: fetched 2 CVE records in 1 pages (modified since 1970-01-01T00:00:00Z) from u"
        );
        assert_eq!(Progress::Skipped(Source::Csaf).to_string(), "csaf: skipped");
    }
}
