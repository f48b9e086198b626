//! FIRST EPSS scores: the daily CSV (`epss_scores-YYYY-MM-DD.csv`, served
//! gzipped; callers gunzip), one optional `#model_version:…,score_date:…`
//! line, the header `cve,epss,percentile`, then one row per CVE with the
//! probability of exploitation in the next 30 days and its percentile.
//!
//! Every row is checked: a CVE id of the form `CVE-YYYY-NNNN…`, two numbers
//! in 0..=1. The first bad row stops the parse with its line number, so a
//! truncated or forged file is refused whole.

use crate::bounded::SHORT;
use serde::{Deserialize, Serialize};

/// Most rows accepted (the real file has about 300,000).
pub const MAX_ROWS: usize = 2_000_000;

/// One CVE's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpssScore {
    /// `CVE-2024-3400`.
    pub cve: String,
    /// Probability of exploitation activity in the next 30 days, 0..=1.
    pub epss: f32,
    /// Share of CVEs scored lower or equal, 0..=1.
    pub percentile: f32,
}

/// One EPSS file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpssCatalog {
    /// `v2025.03.14` (from the metadata line; empty without one).
    pub model_version: String,
    /// `2026-12-05T00:00:00Z` (from the metadata line; empty without one).
    pub score_date: String,
    /// The scores, in file order.
    pub scores: Vec<EpssScore>,
}

/// True when `bytes` starts like an EPSS CSV (metadata line or header).
pub fn looks_like(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    b.starts_with(b"#model_version:") || b.starts_with(b"cve,epss,percentile")
}

/// `CVE-` + four-digit year + `-` + at least four digits.
pub fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && (4..=19).contains(&num.len())
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.bytes().all(|b| b.is_ascii_digit())
}

fn unit(s: &str) -> Option<f32> {
    let v: f32 = s.trim().parse().ok()?;
    (v.is_finite() && (0.0..=1.0).contains(&v)).then_some(v)
}

/// Parses an EPSS CSV; the error names the line.
pub fn parse(bytes: &[u8]) -> Result<EpssCatalog, String> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|e| format!("not UTF-8 text: {e}"))?;
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let mut cat = EpssCatalog {
        model_version: String::new(),
        score_date: String::new(),
        scores: Vec::new(),
    };
    let mut header = lines.next();
    if let Some((_, meta)) = header.filter(|(_, l)| l.starts_with('#')) {
        for kv in meta.trim_start_matches('#').split(',') {
            let (k, v) = kv.split_once(':').unwrap_or((kv, ""));
            let v = v.trim();
            if v.len() > SHORT || v.chars().any(char::is_control) {
                return Err(format!("line 1: {k} is not a plain value"));
            }
            match k.trim() {
                "model_version" => cat.model_version = v.to_string(),
                "score_date" => cat.score_date = v.to_string(),
                _ => {}
            }
        }
        header = lines.next();
    }
    match header {
        Some((_, h)) if h.trim() == "cve,epss,percentile" => {}
        Some((n, _)) => return Err(format!("line {n}: the header is not `cve,epss,percentile`")),
        None => return Err("no header `cve,epss,percentile`".into()),
    }
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        if cat.scores.len() >= MAX_ROWS {
            return Err(format!("line {n}: more than {MAX_ROWS} rows"));
        }
        let mut f = line.split(',');
        let (Some(cve), Some(epss), Some(pct), None) = (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(format!("line {n}: not three fields"));
        };
        let cve = cve.trim();
        if !is_cve_id(cve) {
            return Err(format!(
                "line {n}: `{}` is not a CVE id",
                model::text::bounded(cve.as_bytes(), 40)
            ));
        }
        let (Some(epss), Some(percentile)) = (unit(epss), unit(pct)) else {
            return Err(format!("line {n}: scores must be numbers from 0 to 1"));
        };
        cat.scores.push(EpssScore {
            cve: cve.to_string(),
            epss,
            percentile,
        });
    }
    if cat.scores.is_empty() {
        return Err("no scores".into());
    }
    Ok(cat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_daily_file_and_refuses_bad_rows() {
        let good = "#model_version:v2025.03.14,score_date:2026-12-05T00:00:00Z\ncve,epss,percentile\nCVE-1999-0001,0.0046,0.7385\r\nCVE-2024-3400,0.95732,0.99721\n";
        let c = parse(good.as_bytes()).unwrap();
        assert_eq!(c.model_version, "v2025.03.14");
        assert_eq!(c.score_date, "2026-12-05T00:00:00Z");
        assert_eq!(c.scores.len(), 2);
        assert_eq!(c.scores[1].cve, "CVE-2024-3400");
        assert!((c.scores[1].epss - 0.95732).abs() < 1e-6);
        assert!(looks_like(good.as_bytes()));
        assert!(parse(b"cve,epss,percentile\nCVE-2024-3400,0.5,0.5\n").is_ok());
        for (bad, why) in [
            ("cve,epss\nCVE-2024-3400,0.5\n", "line 1: the header"),
            (
                "cve,epss,percentile\nCVE-2024-3400,1.5,0.5\n",
                "line 2: scores",
            ),
            (
                "cve,epss,percentile\nCVE-2024-3400,NaN,0.5\n",
                "line 2: scores",
            ),
            (
                "cve,epss,percentile\nCVE-24-1,0.1,0.5\n",
                "line 2: `CVE-24-1`",
            ),
            (
                "cve,epss,percentile\nCVE-2024-3400,0.1,0.5,9\n",
                "line 2: not three",
            ),
            ("cve,epss,percentile\n", "no scores"),
            ("", "no header"),
        ] {
            let e = parse(bad.as_bytes()).unwrap_err();
            assert!(e.starts_with(why), "{bad:?}: {e}");
        }
    }
}
