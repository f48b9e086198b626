//! `ward feeds import PATH...`: reads CSAF, KEV and NVD files (directories
//! are walked for `*.json`), parses all of them first, then stores them in one
//! transaction, so a malformed file stops the command before anything of it
//! is stored. JSON files that are no feed (a schema beside the catalog) are
//! skipped with a warning.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Arguments of `ward feeds import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// Feed files or directories (CSAF 2.0, CISA KEV JSON, NVD CVE 2.0 JSON; detected by content).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

fn collect(p: &Path, depth: u32, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(p).with_context(|| format!("{}", p.display()))?;
    if meta.is_dir() {
        if depth > 16 {
            bail!("{}: directories nested too deep", p.display());
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .with_context(|| format!("{}", p.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            let is_dir = std::fs::metadata(&e).map(|m| m.is_dir()).unwrap_or(false);
            if is_dir
                || e.extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("json"))
            {
                collect(&e, depth + 1, out)?;
            }
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

fn read_bounded(p: &Path) -> Result<Vec<u8>> {
    let f = std::fs::File::open(p).with_context(|| format!("{}", p.display()))?;
    let mut buf = Vec::new();
    f.take(advisory::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("{}", p.display()))?;
    Ok(buf)
}

/// Runs `ward feeds import`.
pub fn import(args: ImportArgs) -> Result<()> {
    let mut files = Vec::new();
    for p in &args.paths {
        collect(p, 0, &mut files)?;
    }
    let mut parsed = Vec::with_capacity(files.len());
    for f in &files {
        let bytes = read_bounded(f)?;
        match advisory::parse_feed(&f.display().to_string(), &bytes) {
            Ok(p) => parsed.push(p),
            // A file that is valid JSON but no feed (the KEV schema beside
            // the catalog): skipped with a warning. Malformed feeds still stop.
            Err(e @ advisory::Error::Unrecognised { .. }) => {
                eprintln!(
                    "warning: skipped {}",
                    model::text::bounded(e.to_string().as_bytes(), 512)
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    if parsed.is_empty() {
        bail!("no feed files found (CSAF 2.0, CISA KEV or NVD CVE 2.0 JSON)");
    }
    store_and_report(&args.db, &parsed, &[])
}

/// Stores parsed feed files (and sync states) in one transaction and prints
/// what changed and the totals. Shared by `feeds import` and `feeds sync`.
pub(crate) fn store_and_report(
    db: &Path,
    parsed: &[advisory::FeedFile],
    sync: &[store::SyncState],
) -> Result<()> {
    let mut store = crate::location::open(db)?;
    let rep = store.import_feeds_synced(parsed, sync)?;
    for (kind, c, what) in [
        ("csaf", rep.csaf, "advisories"),
        ("nvd", rep.nvd, "CVE records"),
        ("kev", rep.kev, "KEV entries"),
    ] {
        if c.files == 0 {
            continue;
        }
        println!(
            "{kind}: {} files ({} unchanged): {what} {} new, {} updated, {} unchanged, {} older revisions skipped",
            c.files, c.files_unchanged, c.new, c.updated, c.unchanged, c.older
        );
    }
    let t = store.feed_totals()?;
    println!(
        "stored: {} CSAF advisories, {} NVD records, {} products, {} KEV entries, {} files",
        t.csaf, t.nvd, t.products, t.kev, t.files
    );
    Ok(())
}
