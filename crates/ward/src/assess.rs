//! `ward assess SBOM_OR_MDS2...`: procurement checks on a vendor's documents
//! (CycloneDX/SPDX JSON SBOMs, MDS2 xlsx forms), one verdict per document —
//! PASS, PASS WITH FINDINGS or FAIL — with every finding's reason and remedy.
//!
//! Every document is read and parsed **before** the database is opened, so a
//! malformed input stops the command (exit 2, one line naming the file and
//! the problem) without touching the database. The database is only read:
//! when `--db` does not exist, vulnerability matching is skipped (an info
//! finding says so) and no file is created.
//!
//! Exit status: 0 whenever verdicts were computed, **including FAIL** (the
//! verdict is data, read it from the output or `--json`); 2 on unreadable or
//! malformed input or an unusable database.

use ::assess::{evaluate, parse_document, Document, Report};
use anyhow::{Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Arguments of `ward assess`.
#[derive(clap::Args)]
pub struct AssessArgs {
    /// SBOMs (CycloneDX 1.2–1.6 or SPDX 2.x, JSON) and MDS2 forms (xlsx); kind detected by content.
    #[arg(required = true, value_name = "SBOM_OR_MDS2")]
    paths: Vec<PathBuf>,
    /// Database with imported advisories (`ward feeds import`); read only.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn read_bounded(p: &Path) -> Result<Vec<u8>> {
    let f = std::fs::File::open(p).with_context(|| format!("{}", p.display()))?;
    let mut buf = Vec::new();
    f.take(::assess::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("{}", p.display()))?;
    Ok(buf)
}

/// Runs `ward assess`.
pub fn run(args: AssessArgs) -> Result<()> {
    // 1. Parse everything first: bad input never reaches the database.
    let mut docs: Vec<(String, Document)> = Vec::with_capacity(args.paths.len());
    for p in &args.paths {
        let name = p.display().to_string();
        let bytes = read_bounded(p)?;
        docs.push((name.clone(), parse_document(&name, &bytes)?));
    }
    // 2. Advisories, only if the database exists (never created here).
    let needs_db = docs.iter().any(|(_, d)| matches!(d, Document::Sbom(_)));
    let adb = if needs_db && args.db.is_file() {
        let store =
            crate::location::open(&args.db).with_context(|| crate::location::label(&args.db))?;
        Some(
            store
                .advisory_db()
                .with_context(|| crate::location::label(&args.db))?,
        )
    } else {
        None
    };
    let reports: Vec<Report> = docs
        .iter()
        .map(|(n, d)| evaluate(n, d, adb.as_ref()))
        .collect();
    let mut w = crate::render::stdout();
    if args.json {
        printer::json(&mut w, &reports)?;
    } else {
        printer::assess::reports(&mut w, &reports)?;
    }
    Ok(())
}
