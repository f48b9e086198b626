//! QR codes as inline SVG, drawn here from the `qrcode` crate's module grid
//! (no image file, no `data:` URL: the page's CSP stays as it is). Used for
//! the `otpauth://` URI an authenticator app scans at account creation.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of white border around the code (the quiet zone the standard asks).
const QUIET: usize = 4;

/// `text` as a QR code (error correction M): one `<svg>` element with one
/// `<path>` of the dark modules, `px` pixels wide. `None` if `text` is too
/// long for a QR code.
pub fn svg(text: &str, px: usize) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let n = code.width();
    let colors = code.to_colors();
    let side = n + 2 * QUIET;
    let mut path = String::with_capacity(n * n);
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if colors[y * n + x] == Color::Dark {
                let start = x;
                while x < n && colors[y * n + x] == Color::Dark {
                    x += 1;
                }
                path.push_str(&format!(
                    "M{} {}h{}v1h-{}z",
                    start + QUIET,
                    y + QUIET,
                    x - start,
                    x - start
                ));
            } else {
                x += 1;
            }
        }
    }
    Some(format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{px}\" height=\"{px}\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code for the authenticator app\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

/// `text` as a QR code in text for a terminal: two module rows per line in
/// half blocks, light modules (and the quiet zone) drawn, dark ones blank —
/// as `qrencode -t UTF8` does, for the light-on-dark text of most terminals.
/// `None` if `text` is too long for a QR code.
pub fn text(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let n = code.width();
    let colors = code.to_colors();
    let side = n + 2 * QUIET;
    // Light outside the code.
    let light = |x: usize, y: usize| -> bool {
        if x < QUIET || y < QUIET || x >= n + QUIET || y >= n + QUIET {
            true
        } else {
            colors[(y - QUIET) * n + (x - QUIET)] == Color::Light
        }
    };
    let mut out = String::new();
    for y in (0..side).step_by(2) {
        for x in 0..side {
            let top = light(x, y);
            let bottom = y + 1 >= side || light(x, y + 1);
            out.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Some(out)
}

/// The dark modules of an SVG from [`svg`] as rows of booleans, quiet zone
/// included (tests read codes back with it).
pub fn modules(svg: &str) -> Option<Vec<Vec<bool>>> {
    let side: usize = svg
        .split("viewBox=\"0 0 ")
        .nth(1)?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    let d = svg.split(" d=\"").nth(1)?.split('"').next()?;
    let mut grid = vec![vec![false; side]; side];
    for run in d.split('M').filter(|r| !r.is_empty()) {
        let (xy, rest) = run.split_once('h')?;
        let (x, y) = xy.split_once(' ')?;
        let (x, y): (usize, usize) = (x.parse().ok()?, y.parse().ok()?);
        let w: usize = rest.split('v').next()?.parse().ok()?;
        for cell in grid.get_mut(y)?.get_mut(x..x + w)? {
            *cell = true;
        }
    }
    Some(grid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the code in `svg` back with an independent decoder, the grid
    /// drawn 4 pixels per module.
    pub fn decode(svg: &str) -> String {
        let grid = modules(svg).unwrap();
        let scale = 4;
        let side = grid.len() * scale;
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            if grid[y / scale][x / scale] {
                0
            } else {
                255
            }
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    #[test]
    fn otpauth_uri_reads_back() {
        let uri =
            crate::totp::provisioning_uri("Ward", "dr. ärztin", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let svg = svg(&uri, 200).unwrap();
        assert!(svg.starts_with("<svg class=\"qr\""));
        assert!(!svg.contains("data:"));
        assert_eq!(decode(&svg), uri);
    }

    #[test]
    fn terminal_text_reads_back() {
        let uri = crate::totp::provisioning_uri("Ward", "alice", "JBSWY3DPEHPK3PXP");
        let t = text(&uri).unwrap();
        // Rows of half blocks back to modules (dark = not drawn).
        let lines: Vec<Vec<char>> = t.lines().map(|l| l.chars().collect()).collect();
        let side = lines[0].len();
        let scale = 4;
        let dark = |x: usize, y: usize| {
            let c = lines[y / 2][x];
            let lit = if y.is_multiple_of(2) {
                matches!(c, '█' | '▀')
            } else {
                matches!(c, '█' | '▄')
            };
            !lit
        };
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(side * scale, side * scale, |x, y| {
                if dark(x / scale, y / scale) {
                    0
                } else {
                    255
                }
            });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        assert_eq!(grids[0].decode().unwrap().1, uri);
    }

    #[test]
    fn too_long_is_none() {
        assert!(svg(&"x".repeat(5000), 200).is_none());
    }
}
