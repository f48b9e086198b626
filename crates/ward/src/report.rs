//! `ward report`: writes the risk report — `report.html` (self-contained, with
//! charts), `report.json`, `devices.csv` and `findings.csv` — into a folder.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `ward report`.
#[derive(Args)]
pub struct ReportArgs {
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Folder to write the report into (created if missing; files in it are replaced).
    #[arg(long, default_value = "ward-report")]
    out: PathBuf,
    /// Title of the report.
    #[arg(long, default_value = "Ward medical device risk report")]
    title: String,
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    use std::io::Write;
    let path = dir.join(name);
    // Write next to the target and rename, so a reader never sees half a file;
    // a failed write (a full disk) removes its temporary file and leaves the
    // previous report file as it was.
    let tmp = dir.join(format!(".{name}.tmp"));
    let attempt = || -> std::io::Result<()> {
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    if let Err(e) = attempt() {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(path)
}

/// Runs `ward report`.
pub fn run(args: ReportArgs) -> Result<()> {
    if !crate::location::exists(&args.db) {
        bail!(
            "no database at {} (run `ward analyze FILE --db {}` first)",
            args.db.display(),
            args.db.display()
        );
    }
    let store = crate::location::open(&args.db)?;
    let devices = crate::risk::scored_devices(&store)?;
    let runs = store.run_count()?;
    let scope = format!(
        "{} devices from {} analysis run(s) in {}",
        devices.len(),
        runs,
        crate::location::label(&args.db)
    );
    let input = report::Input {
        title: args.title,
        scope,
        devices,
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let written = [
        write(&args.out, "report.html", report::html(&input).as_bytes())?,
        write(&args.out, "report.json", report::json(&input)?.as_bytes())?,
        write(&args.out, "devices.csv", &report::devices_csv(&input)?)?,
        write(&args.out, "findings.csv", &report::findings_csv(&input)?)?,
    ];
    for p in written {
        println!("wrote {}", p.display());
    }
    Ok(())
}
