//! The zip check every xlsx reader in Ward runs first (CMMS imports here,
//! MDS2 forms in `assess`): an xlsx is a zip, and the sizes a zip declares
//! are not to be trusted. A hostile file declares kilobytes and inflates to
//! gigabytes, and several directory entries may share one compressed stream.
//! [`check_zip`] inflates every part once into nothing and counts the bytes
//! that actually come out, stopping at a limit, so time and memory stay
//! bounded whatever the headers say; calamine (the same `zip` crate) then
//! reads the same bytes again.

use std::io::{Cursor, Read};

/// Why a workbook was refused before it was read.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    /// Not a zip, or a part that cannot be inflated (including one the zip
    /// crate finds larger than its declared size).
    #[error("not a readable xlsx (zip) file: {0}")]
    Unreadable(String),
    /// The parts inflate to more than the limit.
    #[error(
        "workbook expands to more than the limit of {limit} bytes (at part {part:?}; its header declares {declared} bytes)"
    )]
    TooLarge {
        /// The limit, bytes.
        limit: u64,
        /// The part at which the count passed the limit (cleaned, bounded).
        part: String,
        /// The size that part's header declares.
        declared: u64,
    },
}

/// Inflates every part of the zip in `bytes` once, counting the bytes that
/// come out (never the declared sizes) up to `limit`; returns the total.
/// At most `limit + 1` bytes are inflated, and none is kept.
pub fn check_zip(bytes: &[u8], limit: u64) -> Result<u64, ZipError> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| ZipError::Unreadable(e.to_string()))?;
    let mut total: u64 = 0;
    for i in 0..z.len() {
        let mut f = z
            .by_index(i)
            .map_err(|e| ZipError::Unreadable(e.to_string()))?;
        let part = f
            .name()
            .map(|n| model::text::bounded(n.as_bytes(), 128))
            .unwrap_or_default();
        let budget = limit - total;
        let n = std::io::copy(&mut (&mut f).take(budget + 1), &mut std::io::sink())
            .map_err(|e| ZipError::Unreadable(format!("part {part:?}: {e}")))?;
        total += n;
        if total > limit {
            return Err(ZipError::TooLarge {
                limit,
                part,
                declared: f.size(),
            });
        }
    }
    Ok(total)
}
