//! `ward mud fetch`: downloads the MUD files whose URLs devices announced
//! (DHCP option 161, LLDP), validates them like `ward mud import` and stores
//! them linked to the announcing devices, so `ward monitor` raises
//! violation alerts against them.
//!
//! An explicit operator action: it contacts the manufacturer's MUD server
//! named in the URL, never the device. The URL is attacker-controlled, so
//! the checks before and during the request (https only, the SSRF address
//! guard, bounded redirects and size, content type, the file's own
//! `mud-url`) are crate `feeds`' (`feeds::mud`); signatures are looked up
//! but not verified, and the stored status says so.
//!
//! **Failures.** Each URL is fetched and stored on its own
//! (`app::mud::fetch_announced`): an error is printed (one line naming the
//! URL) and the other URLs go on. The command exits 2 when any URL failed.

use ::feeds::mud;
use ::feeds::Fetcher;
use anyhow::{bail, Result};
use app::mud::{FetchOptions, FetchOutcome};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Arguments of `ward mud fetch`.
#[derive(clap::Args)]
pub struct FetchArgs {
    /// Database file (or postgres:// URL).
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Refetch files older than this (e.g. `48h`, `7d`); default: each file's cache-validity (RFC 8520, default 48 hours).
    #[arg(long, value_name = "DURATION")]
    refresh: Option<String>,
    /// Fetch every announced URL, also fresh ones and URLs whose file was imported by hand.
    #[arg(long)]
    force: bool,
    /// Trust these CA certificates (PEM) instead of the public roots (an on-site MUD mirror, tests).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Accept http:// MUD URLs (labs only; RFC 8520 requires https).
    #[arg(long)]
    allow_http: bool,
    /// Allow MUD servers on private addresses (RFC 1918, CGNAT, IPv6 ULA).
    #[arg(long)]
    allow_private: bool,
    /// Allow MUD servers on loopback addresses (tests and labs; link-local addresses are always refused).
    #[arg(long)]
    allow_loopback: bool,
    /// Timeout of one request (connecting and reading the whole response), seconds.
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
}

/// Runs `ward mud fetch`.
pub fn fetch(args: FetchArgs) -> Result<()> {
    if !crate::location::exists(&args.db) {
        bail!("no database at {} (run `ward analyze CAPTURE` first: it records the MUD URLs devices announce)", args.db.display());
    }
    let refresh = args
        .refresh
        .as_deref()
        .map(app::monitor::parse_duration)
        .transpose()?;
    let opts = mud::options(
        Duration::from_secs(args.timeout_secs),
        args.allow_http,
        args.allow_private,
        args.allow_loopback,
        args.ca_file.clone(),
    );
    let mut f = Fetcher::with_options(&opts)?;
    let mut store = crate::location::open(&args.db)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let fetch = FetchOptions {
        force: args.force,
        refresh,
        allow_http: args.allow_http,
    };
    let mut o = crate::render::stdout();
    let mut print = |url: &str, outcome: &FetchOutcome| {
        if let FetchOutcome::Failed(msg) = outcome {
            eprintln!("ward: mud fetch: {msg}");
        } else if let Err(e) = printer::policy::mud_fetched(&mut o, url, outcome) {
            eprintln!("ward: mud fetch: {e}");
        }
    };
    let t = app::mud::fetch_announced(&mut store, &mut f, &fetch, now, &mut print, &app::Stderr)?;
    printer::policy::mud_fetch_totals(&mut o, &t)?;
    if t.failed > 0 {
        bail!(
            "{} of {} MUD URLs could not be fetched (errors above); the others are stored",
            t.failed,
            t.announced
        );
    }
    Ok(())
}
