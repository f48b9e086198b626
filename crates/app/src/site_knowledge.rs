//! `--knowledge FILE`: the site's knowledge file (extra or corrected entries
//! of the `knowledge` tables), read and installed before any identification.

use crate::{invalid, Context, Result};
use std::path::Path;

/// Reads and installs the site knowledge file, if one is given. A bad file is
/// one line naming the file and line; nothing is analyzed or stored then.
pub fn install(path: Option<&Path>) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let len = std::fs::metadata(path)
        .with_context(|| path.display())?
        .len();
    if len > knowledge::MAX_SITE_BYTES as u64 {
        invalid!(
            "{}: knowledge file larger than {} bytes",
            path.display(),
            knowledge::MAX_SITE_BYTES
        );
    }
    let bytes = std::fs::read(path).with_context(|| path.display())?;
    let Ok(text) = String::from_utf8(bytes) else {
        invalid!("{}: knowledge file is not UTF-8 text", path.display());
    };
    let k = knowledge::Knowledge::with_site(&text, &path.display().to_string())?;
    knowledge::install(k)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_is_nothing_to_do_and_a_missing_one_names_itself() {
        assert!(install(None).is_ok());
        let e = install(Some(Path::new("/nonexistent/site.toml"))).unwrap_err();
        assert_eq!(e.to_string(), "/nonexistent/site.toml");
        assert!(matches!(e.root(), crate::Error::Io(_)));
    }
}
