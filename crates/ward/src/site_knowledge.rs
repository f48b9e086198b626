//! `--knowledge FILE`: the site's knowledge file (extra or corrected entries
//! of the `knowledge` tables), read and installed before any identification.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Reads and installs the site knowledge file, if one is given. A bad file is
/// one line naming the file and line; nothing is analyzed or stored then.
pub fn install(path: Option<&Path>) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let len = std::fs::metadata(path)
        .with_context(|| format!("{}", path.display()))?
        .len();
    if len > knowledge::MAX_SITE_BYTES as u64 {
        bail!(
            "{}: knowledge file larger than {} bytes",
            path.display(),
            knowledge::MAX_SITE_BYTES
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    let Ok(text) = String::from_utf8(bytes) else {
        bail!("{}: knowledge file is not UTF-8 text", path.display());
    };
    let k = knowledge::Knowledge::with_site(&text, &path.display().to_string())?;
    knowledge::install(k)?;
    Ok(())
}
