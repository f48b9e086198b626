//! Version strings as vendors write them, and the version rules advisories
//! state.
//!
//! [`Version::parse`] reads messy firmware strings ("v3.6.7", "3.6.7-r2",
//! "Build 1234", "FW 2.1(3)", "20d29", "C.00.04") as a list of numeric and
//! alphabetic tokens. Ordering, token by token:
//! * numbers compare numerically, words case-insensitively; a word sorts
//!   before a number at the same position;
//! * missing trailing tokens count as zero (`3.6` = `3.6.0`), except that a
//!   longer version whose extra part starts with a pre-release word (`alpha`,
//!   `beta`, `rc`, `pre`, `dev`, `preview`) sorts *before* the shorter one, and
//!   any other extra word (`-r2`, `sp1`, `build 7`) sorts *after* it.
//!
//! [`VersionRule`] is what one product entry of an advisory says about
//! versions: all versions, one exact version, a set of intervals (from CSAF
//! `product_version_range` text such as `<= 4.2` or `>= 5.01 | <= 6.4.0`,
//! purl `vers:generic/>=1.0|<2.3`, or NVD `versionStart/End…` bounds), or text
//! no machine can read (`"<May 2018"`), which is kept and reported as such.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Longest version string considered.
const MAX_LEN: usize = 128;
/// Most tokens in one version.
const MAX_TOKENS: usize = 32;

/// One token of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Num(u64),
    Word(String),
}

/// A parsed, comparable version. Equality is ordering equality (`3.6` = `3.6.0`).
#[derive(Debug, Clone)]
pub struct Version {
    toks: Vec<Tok>,
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

const PREFIXES: &[&str] = &[
    "version", "firmware", "software", "release", "build", "ver", "rev", "fw", "sw", "v",
];
const PRE_WORDS: &[&str] = &["alpha", "beta", "rc", "pre", "dev", "preview"];

impl Version {
    /// Parses a version string; `None` when it does not look like a version
    /// (no digit, starts with a word, wildcards such as `3.x`, too long).
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        if s.is_empty() || s.len() > MAX_LEN || s.contains('*') {
            return None;
        }
        let mut rest = s.to_ascii_lowercase();
        // Strip leading words such as "FW", "Version", "Build", "v".
        loop {
            let before = rest.len();
            for p in PREFIXES {
                if let Some(r) = rest.strip_prefix(p) {
                    let next = r.chars().next();
                    let ok = match next {
                        Some(c) if c.is_ascii_digit() => true,
                        Some(c) if c == ' ' || c == '.' || c == ':' || c == '-' || c == '_' => {
                            *p != "v"
                        }
                        _ => false,
                    };
                    if ok {
                        rest = r.trim_start_matches([' ', '.', ':', '-', '_']).to_string();
                        break;
                    }
                }
            }
            if rest.len() == before {
                break;
            }
        }
        let b = rest.as_bytes();
        // Must start with a digit, or with one letter followed by a digit or
        // by a separator and a digit ("R5.2", "C.00.04", "B.02").
        let starts_ok = match b {
            [d, ..] if d.is_ascii_digit() => true,
            [l, d, ..] if l.is_ascii_alphabetic() && d.is_ascii_digit() => true,
            [l, sep, d, ..]
                if l.is_ascii_alphabetic() && matches!(sep, b'.' | b'-') && d.is_ascii_digit() =>
            {
                true
            }
            _ => false,
        };
        if !starts_ok {
            return None;
        }
        let mut toks = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            let start = i;
            if c.is_ascii_digit() {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let n: u64 = rest[start..i].parse().ok()?;
                toks.push(Tok::Num(n));
            } else if c.is_ascii_alphabetic() {
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                let w = &rest[start..i];
                if w == "x" {
                    return None; // "3.x" is a wildcard, not a version
                }
                toks.push(Tok::Word(w.to_string()));
            } else if c.is_ascii() {
                i += 1;
            } else {
                return None;
            }
            if toks.len() > MAX_TOKENS {
                return None;
            }
        }
        if !toks.iter().any(|t| matches!(t, Tok::Num(_))) {
            return None;
        }
        Some(Version { toks })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.toks.len().max(other.toks.len());
        for i in 0..n {
            let o = match (self.toks.get(i), other.toks.get(i)) {
                (Some(a), Some(b)) => cmp_tok(a, b),
                (Some(a), None) => tail_vs_nothing(a),
                (None, Some(b)) => tail_vs_nothing(b).reverse(),
                (None, None) => Ordering::Equal,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn cmp_tok(a: &Tok, b: &Tok) -> Ordering {
    match (a, b) {
        (Tok::Num(x), Tok::Num(y)) => x.cmp(y),
        (Tok::Word(x), Tok::Word(y)) => {
            // Pre-release words sort before other words.
            let px = PRE_WORDS.contains(&x.as_str());
            let py = PRE_WORDS.contains(&y.as_str());
            py.cmp(&px).then_with(|| x.cmp(y))
        }
        (Tok::Word(_), Tok::Num(_)) => Ordering::Less,
        (Tok::Num(_), Tok::Word(_)) => Ordering::Greater,
    }
}

/// How an extra token compares with the end of a shorter version.
fn tail_vs_nothing(t: &Tok) -> Ordering {
    match t {
        Tok::Num(0) => Ordering::Equal,
        Tok::Num(_) => Ordering::Greater,
        Tok::Word(w) if PRE_WORDS.contains(&w.as_str()) => Ordering::Less,
        Tok::Word(_) => Ordering::Greater,
    }
}

/// One end of an interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    /// The version as written.
    pub version: String,
    /// Whether the bound itself is in the interval.
    pub inclusive: bool,
}

/// An interval of versions; a missing end is unbounded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end.
    pub lo: Option<Bound>,
    /// Upper end.
    pub hi: Option<Bound>,
}

impl Interval {
    fn point(v: &str) -> Interval {
        let b = Bound {
            version: v.to_string(),
            inclusive: true,
        };
        Interval {
            lo: Some(b.clone()),
            hi: Some(b),
        }
    }

    fn contains(&self, v: &Version) -> Option<bool> {
        if let Some(lo) = &self.lo {
            let l = Version::parse(&lo.version)?;
            let ok = if lo.inclusive { *v >= l } else { *v > l };
            if !ok {
                return Some(false);
            }
        }
        if let Some(hi) = &self.hi {
            let h = Version::parse(&hi.version)?;
            let ok = if hi.inclusive { *v <= h } else { *v < h };
            if !ok {
                return Some(false);
            }
        }
        Some(true)
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.lo, &self.hi) {
            (Some(l), Some(h)) if l == h => write!(f, "= {}", l.version),
            (lo, hi) => {
                let mut parts = Vec::new();
                if let Some(l) = lo {
                    parts.push(format!(
                        "{} {}",
                        if l.inclusive { ">=" } else { ">" },
                        l.version
                    ));
                }
                if let Some(h) = hi {
                    parts.push(format!(
                        "{} {}",
                        if h.inclusive { "<=" } else { "<" },
                        h.version
                    ));
                }
                if parts.is_empty() {
                    parts.push("*".into());
                }
                write!(f, "{}", parts.join(" and "))
            }
        }
    }
}

/// What an advisory's product entry says about versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VersionRule {
    /// Every version (`vers:all/*`, "All versions", a CPE version `*` without bounds).
    Any,
    /// Exactly this version.
    Exact {
        /// The version as written.
        version: String,
    },
    /// Any of these intervals (points are intervals with equal ends).
    Ranges {
        /// The intervals.
        intervals: Vec<Interval>,
        /// Versions excluded (`!=` in `vers:`).
        excluded: Vec<String>,
    },
    /// Text no rule could be read from; kept for the reader.
    Unreadable {
        /// The text.
        text: String,
    },
}

/// The outcome of testing a version against a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The version is covered by the rule.
    In,
    /// The version is outside the rule.
    Out,
    /// The rule covers every version.
    AllVersions,
    /// Cannot tell: the version or the rule is not comparable.
    Unknown,
}

impl VersionRule {
    /// Reads a CSAF `product_version_range` name: `vers:` purl ranges, or the
    /// free text CISA writes (`<2024.2`, `<= 4.2`, `>= 5.01 | <= 6.4.0`,
    /// `9.13 | 9.19`, "All versions").
    pub fn from_range_text(text: &str) -> VersionRule {
        let t = text.trim();
        if let Some(rest) = t.strip_prefix("vers:") {
            let Some((_scheme, constraints)) = rest.split_once('/') else {
                return VersionRule::Unreadable {
                    text: t.to_string(),
                };
            };
            let c = constraints.trim();
            if c == "*" {
                return VersionRule::Any;
            }
            return Self::parse_constraints(c).unwrap_or_else(|| VersionRule::Unreadable {
                text: t.to_string(),
            });
        }
        let lower = t.to_ascii_lowercase();
        if lower.is_empty() || lower == "*" || lower == "all" || lower == "all versions" {
            return VersionRule::Any;
        }
        Self::parse_constraints(t).unwrap_or_else(|| VersionRule::Unreadable {
            text: t.to_string(),
        })
    }

    /// Reads a CSAF `product_version` name: one version.
    pub fn from_version_text(text: &str) -> VersionRule {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if lower == "all versions" || lower == "all" || t == "*" {
            return VersionRule::Any;
        }
        if t.contains('|') || t.starts_with(['<', '>']) {
            return Self::from_range_text(t);
        }
        VersionRule::Exact {
            version: t.to_string(),
        }
    }

    /// Builds a rule from NVD CPE match data: the CPE's version field and the
    /// optional start/end bounds.
    pub fn from_cpe(
        cpe_version: &str,
        start_incl: Option<&str>,
        start_excl: Option<&str>,
        end_incl: Option<&str>,
        end_excl: Option<&str>,
    ) -> VersionRule {
        let b = |v: Option<&str>, inclusive| {
            v.map(|v| Bound {
                version: v.to_string(),
                inclusive,
            })
        };
        let lo = b(start_incl, true).or(b(start_excl, false));
        let hi = b(end_incl, true).or(b(end_excl, false));
        if lo.is_some() || hi.is_some() {
            return VersionRule::Ranges {
                intervals: vec![Interval { lo, hi }],
                excluded: Vec::new(),
            };
        }
        match cpe_version {
            "*" | "" => VersionRule::Any,
            // "-" is CPE "not applicable": the product has no versions.
            "-" => VersionRule::Any,
            v => VersionRule::Exact {
                version: v.to_string(),
            },
        }
    }

    /// `|`-separated constraints, each `<`, `<=`, `>`, `>=`, `=`, `!=` or a
    /// bare version. A lower bound pairs with the next upper bound; an upper
    /// bound without a lower one starts from the bottom.
    fn parse_constraints(text: &str) -> Option<VersionRule> {
        let mut intervals = Vec::new();
        let mut excluded = Vec::new();
        let mut open: Option<Bound> = None;
        for piece in text.split('|') {
            let p = piece.trim();
            if p.is_empty() {
                continue;
            }
            let (op, v) = ["<=", ">=", "!=", "<", ">", "="]
                .iter()
                .find_map(|op| p.strip_prefix(op).map(|r| (*op, r.trim())))
                .unwrap_or(("=", p));
            // Every version in a rule must be comparable, or the rule is unreadable.
            Version::parse(v)?;
            let bound = |inclusive| Bound {
                version: v.to_string(),
                inclusive,
            };
            match op {
                ">=" | ">" => {
                    if let Some(lo) = open.take() {
                        intervals.push(Interval {
                            lo: Some(lo),
                            hi: None,
                        });
                    }
                    open = Some(bound(op == ">="));
                }
                "<=" | "<" => intervals.push(Interval {
                    lo: open.take(),
                    hi: Some(bound(op == "<=")),
                }),
                "!=" => excluded.push(v.to_string()),
                _ => intervals.push(Interval::point(v)),
            }
        }
        if let Some(lo) = open.take() {
            intervals.push(Interval {
                lo: Some(lo),
                hi: None,
            });
        }
        if intervals.is_empty() && excluded.is_empty() {
            return None;
        }
        if intervals.is_empty() {
            intervals.push(Interval { lo: None, hi: None });
        }
        Some(VersionRule::Ranges {
            intervals,
            excluded,
        })
    }

    /// Tests `version` (as the device states it; `None` when unknown).
    pub fn check(&self, version: Option<&str>) -> Verdict {
        let raw = version.map(str::trim).filter(|v| !v.is_empty());
        match (self, raw) {
            (VersionRule::Any, _) => Verdict::AllVersions,
            (VersionRule::Unreadable { .. }, _) | (_, None) => Verdict::Unknown,
            (VersionRule::Exact { version: want }, Some(raw)) => {
                if want.eq_ignore_ascii_case(raw) {
                    return Verdict::In;
                }
                match (Version::parse(raw), Version::parse(want)) {
                    (Some(a), Some(b)) if a == b => Verdict::In,
                    (Some(_), Some(_)) => Verdict::Out,
                    _ => Verdict::Unknown,
                }
            }
            (
                VersionRule::Ranges {
                    intervals,
                    excluded,
                },
                Some(raw),
            ) => {
                let Some(v) = Version::parse(raw) else {
                    return Verdict::Unknown;
                };
                if excluded
                    .iter()
                    .filter_map(|e| Version::parse(e))
                    .any(|e| e == v)
                {
                    return Verdict::Out;
                }
                let mut unknown = false;
                for iv in intervals {
                    match iv.contains(&v) {
                        Some(true) => return Verdict::In,
                        Some(false) => {}
                        None => unknown = true,
                    }
                }
                if unknown {
                    Verdict::Unknown
                } else {
                    Verdict::Out
                }
            }
        }
    }
}

/// A [`VersionRule`] with every version in it parsed once, for matching many
/// devices: [`CompiledRule::check`] gives the same verdict as
/// [`VersionRule::check`] without parsing the rule's versions again.
#[derive(Debug, Clone)]
pub struct CompiledRule(Compiled);

/// One end of an interval: the parsed version (`None`: unreadable) and whether it is inclusive.
type End = Option<(Option<Version>, bool)>;

#[derive(Debug, Clone)]
enum Compiled {
    Any,
    Unreadable,
    Exact {
        raw: String,
        version: Option<Version>,
    },
    /// Per interval: each present end as (parsed version, inclusive).
    Ranges {
        intervals: Vec<[End; 2]>,
        excluded: Vec<Version>,
    },
}

impl CompiledRule {
    /// Parses the rule's versions.
    pub fn new(rule: &VersionRule) -> CompiledRule {
        let end = |b: &Option<Bound>| {
            b.as_ref()
                .map(|b| (Version::parse(&b.version), b.inclusive))
        };
        CompiledRule(match rule {
            VersionRule::Any => Compiled::Any,
            VersionRule::Unreadable { .. } => Compiled::Unreadable,
            VersionRule::Exact { version } => Compiled::Exact {
                raw: version.clone(),
                version: Version::parse(version),
            },
            VersionRule::Ranges {
                intervals,
                excluded,
            } => Compiled::Ranges {
                intervals: intervals
                    .iter()
                    .map(|iv| [end(&iv.lo), end(&iv.hi)])
                    .collect(),
                excluded: excluded.iter().filter_map(|e| Version::parse(e)).collect(),
            },
        })
    }

    /// The verdict for a device version: `raw` trimmed and non-empty (or
    /// `None`), `parsed` = `Version::parse(raw)`, computed once per device.
    pub fn check(&self, raw: Option<&str>, parsed: Option<&Version>) -> Verdict {
        match (&self.0, raw) {
            (Compiled::Any, _) => Verdict::AllVersions,
            (Compiled::Unreadable, _) | (_, None) => Verdict::Unknown,
            (Compiled::Exact { raw: want, version }, Some(raw)) => {
                if want.eq_ignore_ascii_case(raw) {
                    return Verdict::In;
                }
                match (parsed, version) {
                    (Some(a), Some(b)) if a == b => Verdict::In,
                    (Some(_), Some(_)) => Verdict::Out,
                    _ => Verdict::Unknown,
                }
            }
            (
                Compiled::Ranges {
                    intervals,
                    excluded,
                },
                Some(_),
            ) => {
                let Some(v) = parsed else {
                    return Verdict::Unknown;
                };
                if excluded.iter().any(|e| e == v) {
                    return Verdict::Out;
                }
                let mut unknown = false;
                for [lo, hi] in intervals {
                    let inside = (|| {
                        if let Some((l, inclusive)) = lo {
                            let l = l.as_ref()?;
                            if !(if *inclusive { v >= l } else { v > l }) {
                                return Some(false);
                            }
                        }
                        if let Some((h, inclusive)) = hi {
                            let h = h.as_ref()?;
                            if !(if *inclusive { v <= h } else { v < h }) {
                                return Some(false);
                            }
                        }
                        Some(true)
                    })();
                    match inside {
                        Some(true) => return Verdict::In,
                        Some(false) => {}
                        None => unknown = true,
                    }
                }
                if unknown {
                    Verdict::Unknown
                } else {
                    Verdict::Out
                }
            }
        }
    }
}

impl std::fmt::Display for VersionRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersionRule::Any => write!(f, "all versions"),
            VersionRule::Exact { version } => write!(f, "= {version}"),
            VersionRule::Ranges {
                intervals,
                excluded,
            } => {
                let mut s: Vec<String> = intervals.iter().map(|i| i.to_string()).collect();
                s.extend(excluded.iter().map(|e| format!("!= {e}")));
                write!(f, "{}", s.join(" | "))
            }
            VersionRule::Unreadable { text } => write!(f, "unreadable rule {text:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn messy_firmware_strings_compare_as_versions() {
        assert_eq!(v("v3.6.7"), v("3.6.7"));
        assert_eq!(v("3.6"), v("3.6.0"));
        assert!(v("3.6.7-r2") > v("3.6.7"));
        assert!(v("3.6.7-rc1") < v("3.6.7"));
        assert!(v("3.6.10") > v("3.6.9"));
        assert_eq!(v("Build 1234"), v("1234"));
        assert_eq!(v("FW 2.1(3)"), v("2.1.3"));
        assert_eq!(v("Firmware: 2.1"), v("2.1"));
        assert!(v("20d29") < v("20d32"));
        assert!(v("22d19") > v("20d32"));
        assert!(v("C.00.04") > v("B.02"));
        assert!(v("1.8.4 Service Pack 01") > v("1.8.4"));
        assert!(v("2024.1") < v("2024.2"));
        for bad in [
            "",
            "May 2018",
            "all versions",
            "3.x",
            "3.*",
            "Accu-Chek Inform II",
            "N",
            "vendor",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
        assert!(Version::parse(&"1.".repeat(100)).is_none(), "too long");
        assert!(
            Version::parse("99999999999999999999999").is_none(),
            "overflow"
        );
    }

    #[test]
    fn csaf_range_text() {
        let r = VersionRule::from_range_text("< 3.6.7");
        assert_eq!(r.check(Some("3.6.6")), Verdict::In);
        assert_eq!(
            r.check(Some("3.6.7")),
            Verdict::Out,
            "the fixed version is not affected"
        );
        assert_eq!(r.check(Some("3.6.8")), Verdict::Out);
        assert_eq!(r.check(None), Verdict::Unknown);
        let r = VersionRule::from_range_text("<=4.2");
        assert_eq!(r.check(Some("4.2")), Verdict::In);
        assert_eq!(r.check(Some("4.2.1")), Verdict::Out);
        let r = VersionRule::from_range_text(">= 5.01 | <= 6.4.0");
        assert_eq!(r.check(Some("5.0")), Verdict::Out);
        assert_eq!(r.check(Some("6.0")), Verdict::In);
        assert_eq!(r.check(Some("6.4.1")), Verdict::Out);
        let r = VersionRule::from_range_text("9.13 | 9.19 | 12.1");
        assert_eq!(r.check(Some("9.19")), Verdict::In);
        assert_eq!(r.check(Some("9.20")), Verdict::Out);
        assert_eq!(VersionRule::from_range_text("vers:all/*"), VersionRule::Any);
        assert!(matches!(
            VersionRule::from_range_text("<May 2018"),
            VersionRule::Unreadable { .. }
        ));
        assert!(matches!(
            VersionRule::from_range_text("distributed  < april 1, 2018"),
            VersionRule::Unreadable { .. }
        ));
        assert!(matches!(
            VersionRule::from_range_text("< 3.x"),
            VersionRule::Unreadable { .. }
        ));
        assert_eq!(
            VersionRule::from_range_text("<May 2018").check(Some("1.0")),
            Verdict::Unknown
        );
    }

    #[test]
    fn vers_ranges() {
        let r = VersionRule::from_range_text("vers:generic/>=1.0|<2.3");
        assert_eq!(r.check(Some("0.9")), Verdict::Out);
        assert_eq!(r.check(Some("1.0")), Verdict::In);
        assert_eq!(r.check(Some("2.2.9")), Verdict::In);
        assert_eq!(r.check(Some("2.3")), Verdict::Out);
        let r = VersionRule::from_range_text("vers:generic/>=1.0|<2.0|>=3.0");
        assert_eq!(r.check(Some("2.5")), Verdict::Out);
        assert_eq!(r.check(Some("3.1")), Verdict::In);
        let r = VersionRule::from_range_text("vers:generic/!=1.5");
        assert_eq!(r.check(Some("1.5")), Verdict::Out);
        assert_eq!(r.check(Some("1.6")), Verdict::In);
        assert!(matches!(
            VersionRule::from_range_text("vers:nonsense"),
            VersionRule::Unreadable { .. }
        ));
    }

    #[test]
    fn cpe_bounds() {
        let r = VersionRule::from_cpe("*", None, None, None, Some("3.6.7"));
        assert_eq!(r.check(Some("3.6.7")), Verdict::Out);
        assert_eq!(r.check(Some("3.6.6")), Verdict::In);
        let r = VersionRule::from_cpe("*", Some("20d29"), None, Some("20d32"), None);
        assert_eq!(r.check(Some("20d29")), Verdict::In);
        assert_eq!(r.check(Some("20d32")), Verdict::In);
        assert_eq!(r.check(Some("20d33")), Verdict::Out);
        let r = VersionRule::from_cpe("*", None, Some("1.0"), None, None);
        assert_eq!(r.check(Some("1.0")), Verdict::Out);
        assert_eq!(r.check(Some("1.0.1")), Verdict::In);
        assert_eq!(
            VersionRule::from_cpe("*", None, None, None, None),
            VersionRule::Any
        );
        let r = VersionRule::from_cpe("16d38", None, None, None, None);
        assert_eq!(r.check(Some("16D38")), Verdict::In);
        assert_eq!(r.check(Some("16d39")), Verdict::Out);
        assert_eq!(r.check(Some("weird build")), Verdict::Unknown);
    }
}
