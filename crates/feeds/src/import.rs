//! Feed files from disk (`ward feeds import`): paths walked (directories for
//! `*.json`, `*.csv` and `*.csv.gz`, sorted, at most 16 deep), each file read
//! up to `advisory::MAX_FILE_BYTES` + 1 (a gzip file is decompressed to at
//! most that) and parsed. JSON that is no feed (a
//! schema beside the catalog) is skipped and reported; a malformed feed
//! stops the import before anything is returned.

use crate::Error;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Deepest directory nesting walked.
const MAX_DEPTH: u32 = 16;

/// What was read.
#[derive(Debug, Default)]
pub struct Imported {
    /// Parsed feed files, in path order.
    pub files: Vec<advisory::FeedFile>,
    /// Files that are valid JSON but no feed, with why (one line each).
    pub skipped: Vec<String>,
}

fn io(p: &Path, e: std::io::Error) -> Error {
    Error::Unexpected {
        url: p.display().to_string(),
        what: e.to_string(),
    }
}

fn collect(p: &Path, depth: u32, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let meta = std::fs::metadata(p).map_err(|e| io(p, e))?;
    if meta.is_dir() {
        if depth > MAX_DEPTH {
            return Err(Error::unexpected(
                &p.display().to_string(),
                "directories nested too deep",
            ));
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| io(p, e))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| io(p, e))?;
        entries.sort();
        for e in entries {
            let is_dir = std::fs::metadata(&e).map(|m| m.is_dir()).unwrap_or(false);
            let name = e
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if is_dir
                || [".json", ".csv", ".csv.gz"]
                    .iter()
                    .any(|x| name.ends_with(x))
            {
                collect(&e, depth + 1, out)?;
            }
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

fn read_bounded(p: &Path) -> Result<Vec<u8>, Error> {
    let f = std::fs::File::open(p).map_err(|e| io(p, e))?;
    let mut buf = Vec::new();
    f.take(advisory::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| io(p, e))?;
    crate::gunzip_bounded(buf).map_err(|e| io(p, e))
}

/// Reads and parses the feed files under `paths`.
pub fn read_paths(paths: &[PathBuf]) -> Result<Imported, Error> {
    let mut found = Vec::new();
    for p in paths {
        collect(p, 0, &mut found)?;
    }
    let mut out = Imported::default();
    for f in &found {
        let bytes = read_bounded(f)?;
        match advisory::parse_feed(&f.display().to_string(), &bytes) {
            Ok(p) => out.files.push(p),
            Err(e @ advisory::Error::Unrecognised { .. }) => out
                .skipped
                .push(model::text::bounded(e.to_string().as_bytes(), 512)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_json_files_skips_non_feeds_and_stops_on_malformed_ones() {
        let dir = std::env::temp_dir().join(format!("ward-feeds-import-{}", std::process::id()));
        let sub = dir.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        let kev = r#"{"title":"CISA Catalog of Known Exploited Vulnerabilities","catalogVersion":"2024.01.01","dateReleased":"2024-01-01T00:00:00.000Z","count":0,"vulnerabilities":[]}"#;
        std::fs::write(sub.join("kev.json"), kev).unwrap();
        std::fs::write(dir.join("schema.json"), r#"{"$schema":"x"}"#).unwrap();
        std::fs::write(dir.join("notes.txt"), "not json").unwrap();
        let got = read_paths(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(got.files.len(), 1, "{:?}", got.skipped);
        assert_eq!(got.skipped.len(), 1);
        assert!(got.skipped[0].contains("schema.json"), "{:?}", got.skipped);
        std::fs::write(dir.join("bad.json"), "{").unwrap();
        assert!(read_paths(std::slice::from_ref(&dir)).is_err());
        assert!(read_paths(&[dir.join("missing")]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
