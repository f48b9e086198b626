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
        let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let starts_ok = match b {
            [d, ..] if d.is_ascii_digit() => true,
            // "VM5.0", "BT03", "SV20.1": a short release-train prefix.
            _ if (2..=3).contains(&letters) && b.get(letters).is_some_and(u8::is_ascii_digit) => {
                true
            }
            [l, d, ..] if l.is_ascii_alphabetic() && d.is_ascii_digit() => true,
            [l, sep, d, ..]
                if l.is_ascii_alphabetic() && matches!(sep, b'.' | b'-') && d.is_ascii_digit() =>
            {
                true
            }
            _ => false,
        };
        // A lone revision letter ("N", "Rev K") is a version: Philips and
        // others number releases with letters.
        if b.len() == 1 && b[0].is_ascii_alphabetic() && b[0] != b'x' {
            return Some(Version {
                toks: vec![Tok::Word(rest)],
            });
        }
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

impl Version {
    /// Whether the version has one number or several ("8" vs "8.0.1"):
    /// versions of different shapes name different kinds of things.
    fn shape(&self) -> bool {
        self.toks
            .iter()
            .filter(|t| matches!(t, Tok::Num(_)))
            .count()
            > 1
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
    /// Reads a CSAF `product_version_range` name (see [`read_rule`]).
    pub fn from_range_text(text: &str) -> VersionRule {
        read_rule(text).rule
    }

    /// Reads a CSAF `product_version` name (see [`read_rule`]): the same
    /// grammar, since advisories write ranges there too.
    pub fn from_version_text(text: &str) -> VersionRule {
        read_rule(text).rule
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

    /// Tests `version` (as the device states it; `None` when unknown).
    pub fn check(&self, version: Option<&str>) -> Verdict {
        let raw = version.map(str::trim).filter(|v| !v.is_empty());
        let parsed = raw.and_then(Version::parse);
        CompiledRule::new(self).check(raw, parsed.as_ref())
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
                    (Some(a), Some(b)) if a.shape() != b.shape() => Verdict::Unknown,
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
                    // A single version written in another shape than the
                    // device's ("2490C" against "4.1") cannot be compared.
                    if let (Some((Some(l), true)), Some((Some(h), true))) = (lo, hi) {
                        if l == h && l != v && l.shape() != v.shape() {
                            unknown = true;
                            continue;
                        }
                    }
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

// ---------------------------------------------------------------------------
// The grammar of version text in advisories.
// ---------------------------------------------------------------------------

/// What the version text of an advisory's product entry says: the rule, and
/// the model designations written where a version was expected
/// ("MMT-1715 | MMT-1754", "v8.x model 35700BAX2" → `35700BAX2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleText {
    /// The version rule.
    pub rule: VersionRule,
    /// Model designations (model numbers, part numbers, variants), as written.
    pub designations: Vec<String>,
}

/// Longest version text read.
const MAX_RULE_TEXT: usize = 1024;

/// Words that open a version without meaning anything ("Versions 2.1", "SW 3.36").
const NOISE: &[&str] = &[
    "all",
    "versions",
    "version",
    "software",
    "firmware",
    "revisions",
    "revision",
    "rev",
    "releases",
    "release",
    "sw",
    "fw",
    "ver",
    "models",
    "model",
    "of",
    "the",
];
/// "X and prior" and its kin: X is the last affected version.
const UPTO_SUFFIX: &[&str] = &[
    "and all prior versions",
    "and prior versions",
    "and previous versions",
    "and earlier versions",
    "and older versions",
    "and lower versions",
    "and prior",
    "or prior",
    "and earlier",
    "or earlier",
    "and below",
    "or below",
    "and lower",
    "or lower",
    "and older",
    "or older",
    "and previous",
    "or previous",
    "and before",
    "or before",
    "and under",
];
/// "X and later": X is the first affected version.
const FROM_SUFFIX: &[&str] = &[
    "and all later versions",
    "and later versions",
    "and later",
    "or later",
    "and higher",
    "or higher",
    "and above",
    "or above",
    "and newer",
    "or newer",
    "and up",
    "onwards",
    "+",
];
/// "prior to X": X is the first version not affected.
const BEFORE_PREFIX: &[&str] = &[
    "prior to",
    "before",
    "earlier than",
    "older than",
    "lower than",
    "less than",
    "below",
    "up to",
    "until",
];
/// Infixes of an inclusive range "X through Y".
const THROUGH: &[&str] = &[" through ", " thru ", " to ", " until ", " - "];
/// Words that make a text prose (dates, conditions), not a version or a model.
const PROSE: &[&str] = &[
    "with",
    "shipped",
    "between",
    "running",
    "released",
    "manufactured",
    "distributed",
    "using",
    "installed",
    "contact",
    "may",
    "affected",
    "on",
    "prior",
    "before",
    "after",
    "since",
    "operating",
    "release",
    "releases",
    "not",
    "sold",
    "replaced",
    "part",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "if",
    "when",
    "only",
];
/// Words in front of a model designation that name its kind.
const DESIGNATION_NOISE: &[&str] = &[
    "model",
    "models",
    "number",
    "numbers",
    "no",
    "part",
    "product",
    "id",
    "reorder",
    "udi",
    "ndc",
    "catalog",
    "catalogue",
    "ref",
    "udi/model/ndc",
    "id/reorder",
    "type",
];

/// One end of a bound as read: a plain version, or a wildcard (`8.x`) given
/// as its prefix and the prefix's successor (`8`, `9`).
#[derive(Debug, Clone)]
enum V {
    Plain(String),
    Wild(String, String),
}

/// Increments the last number (or, failing that, the last letter) of a
/// version text: `12.2` → `12.3`, `c.0` → `c.1`, `n` → `o`.
fn successor(core: &str) -> Option<String> {
    let b = core.as_bytes();
    if let Some(end) = b.iter().rposition(|c| c.is_ascii_digit()) {
        let start = b[..=end]
            .iter()
            .rposition(|c| !c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        let n: u64 = core[start..=end].parse().ok()?;
        return Some(format!(
            "{}{}{}",
            &core[..start],
            n.checked_add(1)?,
            &core[end + 1..]
        ));
    }
    let end = b.iter().rposition(|c| c.is_ascii_alphabetic())?;
    let c = b[end];
    if c == b'z' || c == b'Z' {
        return None;
    }
    Some(format!(
        "{}{}{}",
        &core[..end],
        (c + 1) as char,
        &core[end + 1..]
    ))
}

/// Reads one version as written in a rule (`v8.x`, `12.2.x.x`, `9.33`, `N`).
/// `loose`: any text that parses as a version (an operator says it is one);
/// otherwise it must look like a version on its own ([`version_like`]).
fn read_v(s: &str, loose: bool) -> Option<V> {
    let s = s.trim().trim_end_matches([',', ';', ':']).trim();
    if s.is_empty() || s.len() > MAX_LEN || s.contains('/') {
        return None;
    }
    let lower = s.to_ascii_lowercase().replace(". x", ".x");
    // Wildcards: "8.x", "12.2.x.x", "C.0x", "2.*".
    let mut core = lower.trim_start_matches('v').to_string();
    let mut wild = false;
    loop {
        let stripped = core
            .strip_suffix(".x")
            .or_else(|| core.strip_suffix(".*"))
            .or_else(|| {
                core.strip_suffix('x')
                    .or_else(|| core.strip_suffix('*'))
                    .filter(|r| r.ends_with(|c: char| c.is_ascii_digit()))
            });
        match stripped {
            Some(r) if !r.is_empty() => {
                core = r.to_string();
                wild = true;
            }
            _ => break,
        }
    }
    if wild {
        Version::parse(&core)?;
        // "C.0x": the last component's tens (C.00 to C.09), not C.0.anything.
        let digit_wild = !lower.trim_end_matches(['x', '*', '.']).ends_with('.')
            && core.ends_with(|c: char| c.is_ascii_digit())
            && (lower.ends_with('x') || lower.ends_with('*'))
            && !lower.ends_with(".x")
            && !lower.ends_with(".*");
        if digit_wild {
            let start = core
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |i| i + 1);
            let tens: u64 = core[start..].parse().ok()?;
            let lo = format!("{}{}", &core[..start], tens.checked_mul(10)?);
            let hi = format!(
                "{}{}",
                &core[..start],
                tens.checked_add(1)?.checked_mul(10)?
            );
            return Some(V::Wild(lo, hi));
        }
        let next = successor(&core)?;
        return Some(V::Wild(core, next));
    }
    Version::parse(s)?;
    if loose || version_like(&lower) {
        Some(V::Plain(s.to_string()))
    } else {
        None
    }
}

/// Whether a text standing alone is a version rather than a model
/// designation: dotted ("9.19", "A.01"), a short number ("8"), "v"+digits,
/// one letter ("N"), a build ("20d29", "053L000091") or a short code of one
/// or two letters and up to three digits ("BT03", "A10").
fn version_like(lower: &str) -> bool {
    let b = lower.as_bytes();
    if lower.contains('.') {
        return true;
    }
    if b.iter().all(u8::is_ascii_digit) {
        return b.len() <= 2;
    }
    if b.len() == 1 && b[0].is_ascii_alphabetic() {
        return true;
    }
    if b.len() > 1 && b[0] == b'v' && b[1].is_ascii_digit() {
        return true;
    }
    if b[0].is_ascii_digit() && b.iter().all(u8::is_ascii_alphanumeric) {
        return b.iter().any(u8::is_ascii_alphabetic);
    }
    let letters = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let digits = b[letters..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    (1..=2).contains(&letters) && (1..=3).contains(&digits) && letters + digits == b.len()
}

fn lower_bound(v: &V, inclusive: bool) -> Bound {
    match v {
        V::Plain(s) => Bound {
            version: s.clone(),
            inclusive,
        },
        // >= 8.x: from 8; > 8.x: from 9.
        V::Wild(core, next) => Bound {
            version: if inclusive {
                core.clone()
            } else {
                next.clone()
            },
            inclusive: true,
        },
    }
}

fn upper_bound(v: &V, inclusive: bool) -> Bound {
    match v {
        // <= N (a revision letter) covers N.00.03: below the next letter.
        V::Plain(s) if inclusive && s.len() == 1 && s.as_bytes()[0].is_ascii_alphabetic() => {
            match successor(s) {
                Some(n) => Bound {
                    version: n,
                    inclusive: false,
                },
                None => Bound {
                    version: s.clone(),
                    inclusive,
                },
            }
        }
        V::Plain(s) => Bound {
            version: s.clone(),
            inclusive,
        },
        // <= 11.x: below 12; < 3.x: below 3.
        V::Wild(core, next) => Bound {
            version: if inclusive {
                next.clone()
            } else {
                core.clone()
            },
            inclusive: false,
        },
    }
}

fn point(v: &V) -> Interval {
    match v {
        V::Plain(s) => Interval::point(s),
        V::Wild(..) => Interval {
            lo: Some(lower_bound(v, true)),
            hi: Some(upper_bound(v, true)),
        },
    }
}

/// A single short number ("Version 8") means the whole major release.
fn widen(v: V) -> V {
    match v {
        V::Plain(s) if s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()) => {
            match successor(&s) {
                Some(n) => V::Wild(s, n),
                None => V::Plain(s),
            }
        }
        other => other,
    }
}

/// What one `|`-separated piece of a rule says.
enum Piece {
    /// Intervals, and whether the first is an open lower bound (`>= X`)
    /// waiting for the next piece's upper bound.
    Ranges(Vec<Interval>),
    Lower(Bound),
    Upper(Bound),
    Designation(String),
    Prose,
}

fn strip_noise(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        let word_end = t.find([' ', ':']).unwrap_or(t.len());
        let w = t[..word_end].to_ascii_lowercase();
        let rest = t[word_end..].trim_start_matches([' ', ':']);
        if !rest.is_empty() && NOISE.contains(&w.as_str()) {
            s = rest;
            continue;
        }
        return t;
    }
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

/// A version followed by prose ("11.2 on Windows 8.1"): the version alone.
fn leading_version(s: &str, loose: bool) -> Option<V> {
    if let Some(v) = read_v(s, loose) {
        return Some(v);
    }
    let mut words = s.split_whitespace();
    let first = words.next()?;
    let second = words.next().map(str::to_ascii_lowercase);
    let stops = ["on", "with", "for", "in", "running", "and", "or", "("];
    if second.as_deref().is_some_and(|w| stops.contains(&w)) {
        return read_v(first, loose);
    }
    // "LPI 3.5.12.P30": a product prefix before the version.
    if first.bytes().all(|b| b.is_ascii_alphabetic()) && first.len() <= 4 {
        let rest = s[first.len()..].trim();
        return read_v(rest, false);
    }
    None
}

fn read_piece(piece: &str) -> Piece {
    let p = strip_noise(piece.trim());
    let p = p.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = p.to_ascii_lowercase();
    if p.is_empty() {
        return Piece::Prose;
    }
    if lower == "*" || lower == "all" || lower == "all versions" {
        return Piece::Ranges(vec![Interval { lo: None, hi: None }]);
    }
    // Leading operators.
    for op in ["<=", ">=", "!=", "=<", "=>", "<", ">", "="] {
        if let Some(rest) = p.strip_prefix(op) {
            let rest = strip_noise(rest.trim());
            // "A.01 <= C.0x" has no left side here; "<= X" has none.
            let Some(v) = leading_version(rest, true) else {
                return Piece::Prose;
            };
            return match op {
                "<=" | "=<" => Piece::Upper(upper_bound(&v, true)),
                "<" => Piece::Upper(upper_bound(&v, false)),
                ">=" | "=>" => Piece::Lower(lower_bound(&v, true)),
                ">" => Piece::Lower(lower_bound(&v, false)),
                "!=" => Piece::Prose,
                _ => Piece::Ranges(vec![point(&v)]),
            };
        }
    }
    // Infix operators: "A.01 <= C.0x", "A10 < A11".
    for (op, incl) in [("<=", true), ("<", false)] {
        if let Some((a, b)) = p.split_once(op) {
            if let (Some(lo), Some(hi)) = (read_v(a, true), leading_version(b.trim(), true)) {
                return Piece::Ranges(vec![Interval {
                    lo: Some(lower_bound(&lo, true)),
                    hi: Some(upper_bound(&hi, incl)),
                }]);
            }
            return Piece::Prose;
        }
    }
    // "X and prior", "X or later".
    for (list, upper) in [(UPTO_SUFFIX, true), (FROM_SUFFIX, false)] {
        for suf in list {
            if let Some(i) = find_ci(&p, suf) {
                let at_end = i + suf.len() == p.len();
                if !at_end && *suf == "+" {
                    continue;
                }
                let Some(v) = leading_version(strip_noise(&p[..i]), true) else {
                    return Piece::Prose;
                };
                return if upper {
                    Piece::Upper(upper_bound(&v, true))
                } else {
                    Piece::Lower(lower_bound(&v, true))
                };
            }
        }
    }
    // "prior to X", "before X".
    for pre in BEFORE_PREFIX {
        if let Some(rest) = lower.strip_prefix(pre).filter(|r| r.starts_with(' ')) {
            let rest = strip_noise(&p[p.len() - rest.len()..]);
            return match leading_version(rest, true) {
                Some(v) => Piece::Upper(upper_bound(&v, false)),
                None => Piece::Prose,
            };
        }
    }
    // "from X to Y", "between X and Y", "X through Y", "J-M".
    let body = lower
        .strip_prefix("from ")
        .or_else(|| lower.strip_prefix("between "))
        .map(|r| &p[p.len() - r.len()..])
        .unwrap_or(&p);
    let infixes: Vec<&str> = if lower.starts_with("between ") {
        vec![" and "]
    } else {
        THROUGH.to_vec()
    };
    for inf in infixes {
        if let Some(i) = find_ci(body, inf) {
            let (a, b) = (&body[..i], strip_noise(&body[i + inf.len()..]));
            if let (Some(lo), Some(hi)) = (read_v(a, true), leading_version(b, true)) {
                return Piece::Ranges(vec![Interval {
                    lo: Some(lower_bound(&lo, true)),
                    hi: Some(upper_bound(&hi, true)),
                }]);
            }
        }
    }
    if let Some((a, b)) = p.split_once('-') {
        if a.len() == 1 && b.len() == 1 {
            if let (Some(lo), Some(hi)) = (read_v(a, false), read_v(b, false)) {
                return Piece::Ranges(vec![Interval {
                    lo: Some(lower_bound(&lo, true)),
                    hi: Some(upper_bound(&hi, true)),
                }]);
            }
        }
    }
    // One version.
    if let Some(v) = read_v(&p, false) {
        let several: Vec<&str> = p.split_whitespace().collect();
        let list = several.len() > 1
            && several
                .iter()
                .all(|w| w.contains('.') && w.starts_with(|c: char| c.is_ascii_digit()));
        if !list {
            return Piece::Ranges(vec![point(&widen(v))]);
        }
    }
    // Lists: "1.3.2 1.4.0 1.4.1", "2131 and 2141", "Version A, Firmware A.03.09".
    let parts: Vec<&str> = p
        .split([',', ' ', '/'])
        .map(str::trim)
        .filter(|w| !w.is_empty() && !["and", "or", "&"].contains(&w.to_ascii_lowercase().as_str()))
        .collect();
    if parts.len() > 1 {
        let joined = p
            .replace(" and ", ",")
            .replace(" or ", ",")
            .replace(" / ", ",");
        let items: Vec<&str> = joined
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect();
        let as_versions: Option<Vec<V>> = if items.len() > 1 {
            items
                .iter()
                .map(|w| read_v(strip_noise(w), false))
                .collect()
        } else {
            parts.iter().map(|w| read_v(w, false)).collect()
        };
        if let Some(vs) = as_versions {
            return Piece::Ranges(vs.into_iter().map(|v| point(&widen(v))).collect());
        }
        if items.len() > 1 && items.iter().all(|w| designation_like(w)) {
            return Piece::Designation(items.join(" | "));
        }
    }
    if designation_like(&p) {
        return Piece::Designation(p);
    }
    Piece::Prose
}

/// Whether a text is a model designation ("MMT-1715", "CR-IR 357",
/// "Accu-Chek Inform II", "882300 Gemini 16 Slice") rather than prose.
fn designation_like(s: &str) -> bool {
    let words: Vec<String> = s
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    !words.is_empty()
        && words.len() <= 8
        && s.bytes().any(|b| b.is_ascii_alphanumeric())
        && !s.contains([':', '#', ';'])
        && !words
            .iter()
            .any(|w| PROSE.contains(&w.trim_matches(|c: char| !c.is_ascii_alphanumeric())))
}

fn clean_designation(s: &str) -> Option<String> {
    let words: Vec<&str> = s
        .split_whitespace()
        .skip_while(|w| DESIGNATION_NOISE.contains(&w.to_ascii_lowercase().as_str()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Removes parenthesised asides (and an unclosed one to the end); returns
/// the text outside and the asides.
pub(crate) fn strip_parens_pub(s: &str) -> (String, Vec<String>) {
    strip_parens(s)
}

fn strip_parens(s: &str) -> (String, Vec<String>) {
    let mut main = String::with_capacity(s.len());
    let mut asides = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                if depth > 0 {
                    cur.push(' ');
                }
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    asides.push(std::mem::take(&mut cur));
                } else {
                    cur.push(' ');
                }
            }
            _ if depth > 0 => cur.push(c),
            _ => main.push(c),
        }
    }
    if !cur.trim().is_empty() {
        asides.push(cur);
    }
    (main, asides)
}

/// Reads the version text of an advisory's product entry, in any of the
/// forms advisories use:
/// * all versions: `vers:all/*`, `*`, "All versions", "(all models)";
/// * operators: `<= 4.2`, `<2024.2`, `>= 5.01 | <= 6.4.0` (a lower bound
///   pairs with the next upper bound), `vers:generic/>=1.0|<2.3|!=1.5`;
/// * words: "9.33 and prior", "8.x and earlier", "all versions prior to
///   3.2", "before 1.10", "2.0 and later", "1.3.4 through 1.5.3", "Rev J-M";
/// * wildcards: `2.X` (= ≥ 2 and < 3), `<= 12.2.x.x` (< 12.3), `< 3.x` (< 3);
/// * revision letters: `<=N` (up to any N.xx.yy), builds `>= 20D29 | <= 22D28`;
/// * lists: `9.13 | 9.19`, "1.3.2 1.4.0 1.4.1", "Version 8" (= 8.x);
/// * model designations written as versions ("MMT-1715 | MMT-1754",
///   "v8.x model 35700BAX2"): kept as [`RuleText::designations`]; alone,
///   they leave the rule at all versions of that model.
///
/// Asides in parentheses ("(with Wireless Battery Modules …)", "(end-of-life
/// 2011)") are dropped. Text that is none of these (dates, "May 2018",
/// conditions) is [`VersionRule::Unreadable`]: matching reports it as unknown.
pub fn read_rule(text: &str) -> RuleText {
    let t = text.trim();
    let unreadable = || RuleText {
        rule: VersionRule::Unreadable {
            text: t.chars().take(MAX_RULE_TEXT).collect(),
        },
        designations: Vec::new(),
    };
    if t.len() > MAX_RULE_TEXT {
        return unreadable();
    }
    let any = |designations| RuleText {
        rule: VersionRule::Any,
        designations,
    };
    if let Some(rest) = t.strip_prefix("vers:") {
        let Some((_scheme, constraints)) = rest.split_once('/') else {
            return unreadable();
        };
        let c = constraints.trim();
        if c == "*" {
            return any(Vec::new());
        }
        let mut excluded = Vec::new();
        let mut kept = Vec::new();
        for piece in c.split('|') {
            match piece.trim().strip_prefix("!=") {
                Some(v) => excluded.push(v.trim().to_string()),
                None => kept.push(piece),
            }
        }
        let mut r = read_pieces(&kept.join("|"));
        if let VersionRule::Ranges {
            excluded: e,
            intervals,
        } = &mut r.rule
        {
            e.extend(excluded);
            if intervals.is_empty() {
                intervals.push(Interval { lo: None, hi: None });
            }
        } else if !excluded.is_empty() && kept.is_empty() {
            r.rule = VersionRule::Ranges {
                intervals: vec![Interval { lo: None, hi: None }],
                excluded,
            };
        }
        return r;
    }
    let (main, asides) = strip_parens(t);
    let lower = main.trim().to_ascii_lowercase();
    if lower.is_empty()
        && asides.iter().all(|a| {
            let a = a.trim().to_ascii_lowercase();
            a == "all models" || a == "all versions"
        })
        && !asides.is_empty()
    {
        return any(Vec::new());
    }
    if lower == "*" || lower == "all" || lower == "all versions" || lower == "all models" {
        return any(Vec::new());
    }
    let main = if lower.is_empty() {
        asides.join(" ")
    } else {
        main
    };
    // "v8.x model 35700BAX2": the model part is a designation.
    let mut designations = Vec::new();
    let mut body = main.clone();
    let lw = format!(" {} ", main.to_ascii_lowercase());
    for kw in [" models ", " model "] {
        if let Some(i) = lw.find(kw) {
            if i > 0 {
                let head = main[..i].trim().to_string();
                let tail = &main[(i + kw.len() - 1).min(main.len())..];
                for d in tail.split(['|', ',']).flat_map(|d| d.split(" and ")) {
                    if let Some(d) = clean_designation(d) {
                        designations.push(d);
                    }
                }
                body = head;
            }
            break;
        }
    }
    let mut r = read_pieces(&body);
    r.designations.splice(0..0, designations);
    r
}

fn read_pieces(body: &str) -> RuleText {
    let mut intervals = Vec::new();
    let mut designations = Vec::new();
    let mut open: Option<Bound> = None;
    let mut prose = false;
    let mut pieces: Vec<Piece> = Vec::new();
    let mut has_operator_or_dot = false;
    for raw in body.split('|') {
        if raw.trim().is_empty() {
            continue;
        }
        if raw.contains(['<', '>', '.', '*']) {
            has_operator_or_dot = true;
        }
        pieces.push(read_piece(raw));
    }
    // Model numbers listed with bare codes ("620 | 650 | 650c"): all designations.
    let any_designation = pieces.iter().any(|p| matches!(p, Piece::Designation(_)));
    if any_designation && !has_operator_or_dot {
        let all: Vec<String> = body
            .split('|')
            .flat_map(|d| d.split(" and "))
            .filter_map(clean_designation)
            .collect();
        if all.iter().all(|d| designation_like(d)) {
            return RuleText {
                rule: VersionRule::Any,
                designations: all,
            };
        }
    }
    for piece in pieces {
        match piece {
            Piece::Ranges(v) => {
                if let Some(lo) = open.take() {
                    intervals.push(Interval {
                        lo: Some(lo),
                        hi: None,
                    });
                }
                intervals.extend(v)
            }
            Piece::Lower(b) => {
                if let Some(lo) = open.take() {
                    intervals.push(Interval {
                        lo: Some(lo),
                        hi: None,
                    });
                }
                open = Some(b);
            }
            Piece::Upper(b) => intervals.push(Interval {
                lo: open.take(),
                hi: Some(b),
            }),
            Piece::Designation(d) => {
                designations.extend(d.split(" | ").filter_map(clean_designation))
            }
            Piece::Prose => prose = true,
        }
    }
    if let Some(lo) = open.take() {
        intervals.push(Interval {
            lo: Some(lo),
            hi: None,
        });
    }
    let rule = if !intervals.is_empty() {
        if intervals.iter().any(|i| i.lo.is_none() && i.hi.is_none()) {
            VersionRule::Any
        } else {
            VersionRule::Ranges {
                intervals,
                excluded: Vec::new(),
            }
        }
    } else if !designations.is_empty() && !prose {
        VersionRule::Any
    } else {
        VersionRule::Unreadable {
            text: body.trim().chars().take(MAX_RULE_TEXT).collect(),
        }
    };
    RuleText { rule, designations }
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
            "x",
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
        let r = VersionRule::from_range_text("< 3.x");
        assert_eq!(r.check(Some("2.9.9")), Verdict::In);
        assert_eq!(r.check(Some("3.0")), Verdict::Out);
        assert_eq!(
            VersionRule::from_range_text("<May 2018").check(Some("1.0")),
            Verdict::Unknown
        );
    }

    #[test]
    fn grammar_of_advisories_and_devices() {
        let c = |rule: &str, v: &str| read_rule(rule).rule.check(Some(v));
        use Verdict::*;
        // Wildcards.
        assert_eq!(c("2.X", "2.0.4"), In);
        assert_eq!(c("2.X", "3.1"), Out);
        assert_eq!(c("<= 12.2.x.x", "12.2.8.410"), In);
        assert_eq!(c("<= 12.2.x.x", "12.3"), Out);
        assert_eq!(c("4.X | 5.X", "5.2"), In);
        assert_eq!(c("v8.x model 35700BAX2", "SW 8.00.01"), In);
        assert_eq!(c("v6.x model 35700BAX", "8.00.01"), Out);
        assert_eq!(
            read_rule("v8.x model 35700BAX2").designations,
            ["35700BAX2"]
        );
        assert_eq!(c("8.x and earlier", "8.9"), In);
        assert_eq!(c("8.x and earlier", "9.0"), Out);
        assert_eq!(c("14.1.x", "14.1.7"), In);
        assert_eq!(c("14.1.x", "14.2"), Out);
        assert_eq!(c("A.01 <= C.0x | 4.0", "C.03"), In);
        assert_ne!(c("A.01 <= C.0x | 4.0", "C.10"), In);
        // Words.
        assert_eq!(c("all versions prior to 3.2", "3.1.9"), In);
        assert_eq!(c("all versions prior to 3.2", "3.2"), Out);
        assert_eq!(c("before 1.10", "1.9"), In);
        assert_eq!(c("9.33 and prior", "Rev 9.19.2"), In);
        assert_eq!(c("Versions 1.3.4 through 1.5.3", "1.5.3"), In);
        assert_eq!(c("Versions 1.3.4 through 1.5.3", "1.5.4"), Out);
        assert_eq!(c("2.0 and later", "v2.1"), In);
        assert_eq!(c("2.3.6 and  below", "2.3.6"), In);
        // Builds and revision letters.
        assert_eq!(c(">= 20D29 | <= 22D28", "22d19"), In);
        assert_eq!(c(">= 20D29 | <= 22D28", "22D29"), Out);
        assert_eq!(c("<=N", "M.00.03"), In);
        assert_eq!(c("<=N", "N.01"), In);
        assert_eq!(c("<=N", "P.01"), Out);
        assert_eq!(c("Rev J-M", "M.00.03"), In);
        assert_eq!(c("Rev J-M", "H.1"), Out);
        // Lists, single numbers, asides.
        assert_eq!(c("(Release 1.3.2 1.4.0 1.4.1)", "1.4.1"), In);
        assert_eq!(c("(Release 1.3.2 1.4.0 1.4.1)", "1.4.2"), Out);
        assert_eq!(c("8", "8.4"), In, "Version 8 is the 8 release");
        assert_eq!(
            c(
                "9.x (with Wireless Battery Modules >= 22D19 | <= v22D28)",
                "9.02"
            ),
            In
        );
        assert_eq!(c("<= 1.54 (integrated into GE MobileLink)", "1.54"), In);
        assert_eq!(read_rule("vers:all/*").rule, VersionRule::Any);
        assert_eq!(read_rule("* (end-of-life 2011)").rule, VersionRule::Any);
        // Designations written as versions: all versions of that model.
        let r = read_rule("MMT-1715 | MMT-1754 | MMT-1755");
        assert_eq!((r.rule, r.designations.len()), (VersionRule::Any, 3));
        assert_eq!(read_rule("2131 and 2141").designations, ["2131", "2141"]);
        // Unplaceable: unknown, never in or out.
        for t in [
            "<May 2018",
            "<8/30/2024",
            "with wireless option (shipped 2016)",
        ] {
            assert_eq!(c(t, "1.0"), Unknown, "{t}");
        }
        assert_eq!(
            c("2490C", "4.1"),
            Unknown,
            "a model code is not comparable with a version"
        );
        assert_eq!(c("9.19", "junk"), Unknown);
        // Device strings.
        assert_eq!(Version::parse("SW 8.00.01"), Version::parse("8.0.1"));
        assert_eq!(Version::parse("Rev 1.51.0"), Version::parse("1.51"));
        assert_eq!(Version::parse("v9.19.2"), Version::parse("9.19.2"));
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
