//! `ward feeds import PATH...` and `ward feeds sync`: feed documents read
//! from disk or fetched (crate `feeds`), then stored in one transaction, so
//! a malformed file or a failed download stops the command before anything
//! of it is stored.
//!
//! `import` walks directories for `*.json`; JSON files that are no feed (a
//! schema beside the catalog) are skipped with a warning. `sync` fetches the
//! CISA KEV catalog, CISA's CSAF medical advisories (ICSMA) and NVD CVE API
//! 2.0 records with per-request timeouts, bounded redirects and per-document
//! and per-run size limits, and stores each source's sync time with them;
//! the next NVD sync asks only for records modified since.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Arguments of `ward feeds import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// Feed files or directories (CSAF 2.0, CISA KEV JSON, NVD CVE 2.0 JSON, FIRST EPSS CSV or .csv.gz,
    /// openFDA device recall or enforcement JSON; detected by content).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Arguments of `ward feeds sync`.
#[derive(clap::Args)]
pub struct SyncArgs {
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Override a source's URL: kev=URL (KEV JSON), csaf=URL (provider-metadata.json), nvd=URL (CVE API 2.0 base),
    /// epss=URL (FIRST EPSS .csv.gz), fda=URL (openFDA device/enforcement.json);
    /// URL `off` skips that source. Defaults: the public CISA, NVD, FIRST and openFDA URLs, or WARD_FEED_KEV_URL /
    /// WARD_FEED_CSAF_URL / WARD_FEED_NVD_URL / WARD_FEED_EPSS_URL / WARD_FEED_FDA_URL.
    #[arg(long = "source", value_name = "NAME=URL")]
    sources: Vec<String>,
    /// Ignore the last NVD sync time and fetch every NVD record (large: the whole NVD).
    #[arg(long)]
    nvd_full: bool,
    /// NVD records per API page (1..=2000).
    #[arg(long, default_value_t = 2000)]
    nvd_page_size: u32,
    /// Pause between NVD pages in milliseconds (default: 6000 for the public NVD, 600 with NVD_API_KEY, 0 elsewhere).
    #[arg(long)]
    nvd_delay_ms: Option<u64>,
    /// Largest document accepted, MiB.
    #[arg(long, default_value_t = 64)]
    max_document_mib: u64,
    /// Most downloaded in one sync, MiB.
    #[arg(long, default_value_t = 256)]
    max_total_mib: u64,
    /// Timeout of one request (connecting and reading the whole response), seconds.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

/// Runs `ward feeds import`.
pub fn import(args: ImportArgs) -> Result<()> {
    let got = ::feeds::import::read_paths(&args.paths)?;
    for why in &got.skipped {
        eprintln!("warning: skipped {why}");
    }
    if got.files.is_empty() {
        bail!("no feed files found (CSAF 2.0, CISA KEV, NVD CVE 2.0, EPSS CSV or openFDA recall JSON)");
    }
    store_and_report(&args.db, &got.files, &[])
}

/// Runs `ward feeds sync`.
pub fn sync(args: SyncArgs) -> Result<()> {
    let env = |v: &str| std::env::var(v).ok();
    let sources = ::feeds::sync::source_urls(&args.sources, env)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Open (and migrate) the database first: a bad --db fails before any download.
    let last_nvd = crate::location::open(&args.db)?
        .sync_state("nvd")?
        .map(|s| ::feeds::sync::LastSync {
            url: s.url,
            synced_unix: s.synced_unix,
        });
    let opts = ::feeds::sync::SyncOptions {
        sources,
        nvd_full: args.nvd_full,
        nvd_page_size: args.nvd_page_size,
        nvd_delay: args.nvd_delay_ms.map(Duration::from_millis),
        nvd_api_key: std::env::var("NVD_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty()),
        max_document: args.max_document_mib.max(1) << 20,
        max_total: args.max_total_mib.max(1) << 20,
        timeout: Duration::from_secs(args.timeout_secs.max(1)),
    };
    let got = ::feeds::sync::run(&opts, last_nvd.as_ref(), now, |p| println!("{p}"))?;
    println!(
        "downloaded {:.1} MiB in {} requests",
        got.downloaded as f64 / (1u64 << 20) as f64,
        got.requests
    );
    let states: Vec<store::SyncState> = got
        .states
        .into_iter()
        .map(|s| store::SyncState {
            source: s.source.name().to_string(),
            url: s.url,
            synced_at: s.synced_at,
            synced_unix: s.synced_unix,
            documents: s.documents,
        })
        .collect();
    store_and_report(&args.db, &got.files, &states)
}

/// Stores parsed feed files (and sync states) in one transaction and prints
/// what changed and the totals. Shared by `feeds import` and `feeds sync`.
fn store_and_report(
    db: &Path,
    parsed: &[advisory::FeedFile],
    sync: &[store::SyncState],
) -> Result<()> {
    let mut store = crate::location::open(db)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let got = app::advisories::import_feeds(&mut store, parsed, sync, model::Timestamp(now))?;
    printer::feeds::imported(
        &mut crate::render::stdout(),
        &got.report,
        &store.feed_totals()?,
        &got.alerts,
    )?;
    crate::remediate::sync_after(&mut store, false);
    Ok(())
}
