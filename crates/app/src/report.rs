//! The risk report of a store: `report.html` (self-contained, with charts),
//! `report.json`, `devices.csv` and `findings.csv`, each written next to its
//! target and renamed, so a reader never sees half a file.

use crate::{location, Context, Result};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `dir/name` atomically: a failed write (a full disk)
/// removes its temporary file and leaves the previous file as it was.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    use std::io::Write;
    let path = dir.join(name);
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

/// The report input of a store: every device scored, with a scope line
/// naming the store (`db`) and its runs.
pub fn input(store: &store::Store, db: &Path, title: String) -> Result<report::Input> {
    let devices = crate::scored_devices(store)?;
    let runs = store.run_count()?;
    let scope = format!(
        "{} devices from {} analysis run(s) in {}",
        devices.len(),
        runs,
        location::label(db)
    );
    let coverage = crate::coverage::coverage(store, Default::default())?;
    Ok(report::Input {
        title,
        scope,
        devices,
        coverage: Some(coverage),
        remediation: Some(crate::remediation::metrics(store, crate::now().secs(), 90)?),
    })
}

/// Writes the four report files into `out` (created if missing; files in
/// it are replaced); returns their paths.
pub fn write(out: &Path, input: &report::Input) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    Ok(vec![
        write_atomic(out, "report.html", report::html(input).as_bytes())?,
        write_atomic(out, "report.json", report::json(input)?.as_bytes())?,
        write_atomic(out, "devices.csv", &report::devices_csv(input)?)?,
        write_atomic(out, "findings.csv", &report::findings_csv(input)?)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_and_leave_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("ward-app-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        write_atomic(&dir, "a.txt", b"one").unwrap();
        let p = write_atomic(&dir, "a.txt", b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert!(!dir.join(".a.txt.tmp").exists());
        let e = write_atomic(&dir.join("missing"), "b.txt", b"x").unwrap_err();
        assert!(e.to_string().starts_with("cannot write "), "{e}");
        let input = report::Input {
            title: "t".into(),
            scope: "s".into(),
            devices: Vec::new(),
            coverage: None,
            remediation: None,
        };
        let files = write(&dir.join("out"), &input).unwrap();
        assert_eq!(files.len(), 4);
        assert!(files.iter().all(|f| f.exists()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
