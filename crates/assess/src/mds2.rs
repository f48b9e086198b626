//! MDS2 (Manufacturer Disclosure Statement for Medical Device Security,
//! ANSI/NEMA HN 1-2019) forms as xlsx: reading the answers, and evaluating
//! them against a hospital baseline ([`BASELINE`]).
//!
//! **Reading.** Every sheet is streamed cell by cell (calamine's cell reader,
//! never a dense range: a hostile sheet with one cell at XFD1048576 would
//! otherwise allocate billions of cells). Only the first [`MAX_ROWS`] rows
//! and [`MAX_COLS`] columns are kept, each cell's text cut to [`MAX_CELL`]
//! characters, and the zip's parts are inflated once first, counting the bytes
//! that actually come out (never the sizes the zip declares) up to
//! [`MAX_UNCOMPRESSED`] (`cmms::xlsx::check_zip`, shared with CMMS imports). A
//! question row is a row with a cell holding a question ID (`DOC-1`,
//! `STCF-1`, `CSUP-2.1` …). A header row naming "Question ID"/"Question"/
//! "Answer"/"Note" fixes the columns when present; otherwise the answer is the
//! first Yes/No/N/A cell right of the ID.
//!
//! **Evaluating.** Each baseline rule names the question IDs that satisfy it
//! and the answer that does. The numbering follows HN 1-2019 as we read it;
//! every reason quotes the question text found in the vendor's form, so a
//! reviewer sees what was actually evaluated. A required answer of "No" is
//! high (the document FAILs); unanswered, N/A or free text is medium.

use crate::{Finding, Severity};
use calamine::{DataRef, Reader, Xlsx};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Cursor;

/// Rows read per sheet.
pub const MAX_ROWS: u32 = 5000;
/// Columns read per row.
pub const MAX_COLS: u32 = 32;
/// Characters kept per cell.
pub const MAX_CELL: usize = 1024;
/// Largest total size of the workbook's parts once inflated (counted, not
/// declared). A real MDS2 form inflates to a few MB.
pub const MAX_UNCOMPRESSED: u64 = 64 << 20;
/// Cells streamed per sheet before giving up on it.
const MAX_CELLS: usize = 500_000;

/// An answer as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Answer {
    /// Yes.
    Yes,
    /// No.
    No,
    /// N/A.
    NotApplicable,
    /// Something else (free text, "See note").
    Text(String),
    /// Empty.
    Missing,
}

impl Answer {
    fn read(s: &str) -> Answer {
        let t = s.trim().trim_end_matches('.').to_ascii_lowercase();
        match t.as_str() {
            "" => Answer::Missing,
            "yes" | "y" => Answer::Yes,
            "no" | "n" => Answer::No,
            "n/a" | "na" | "n.a" | "not applicable" => Answer::NotApplicable,
            _ => Answer::Text(s.trim().to_string()),
        }
    }

    fn is_choice(&self) -> bool {
        matches!(self, Answer::Yes | Answer::No | Answer::NotApplicable)
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Yes => f.write_str("Yes"),
            Answer::No => f.write_str("No"),
            Answer::NotApplicable => f.write_str("N/A"),
            Answer::Text(t) => write!(f, "{t:?}"),
            Answer::Missing => f.write_str("(no answer)"),
        }
    }
}

/// One question of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Question {
    /// Question ID (`STCF-1`).
    pub id: String,
    /// Question text as written.
    pub text: String,
    /// The answer.
    pub answer: Answer,
    /// The note, if any.
    pub note: Option<String>,
    /// Sheet and 1-based row.
    pub sheet: String,
    /// Row number (1-based, as Excel shows it).
    pub row: u32,
}

/// A read MDS2 form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mds2 {
    /// Questions by ID (the first occurrence wins).
    pub questions: BTreeMap<String, Question>,
    /// Manufacturer (DOC-1), when given.
    pub manufacturer: Option<String>,
    /// Device model (DOC-3), when given.
    pub model: Option<String>,
}

/// Whether `s` is a question ID: 2–5 capital letters, `-`, a number, optional `.n` parts.
pub fn is_question_id(s: &str) -> bool {
    let Some((sec, num)) = s.split_once('-') else {
        return false;
    };
    (2..=5).contains(&sec.len())
        && sec.bytes().all(|b| b.is_ascii_uppercase())
        && num.len() <= 12
        && num
            .split('.')
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn text(v: &DataRef<'_>) -> String {
    let s = match v {
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => {
            if *b {
                "Yes".into()
            } else {
                "No".into()
            }
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::DateTime(d) => d.as_f64().to_string(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    };
    // No escapes or bidi controls from a vendor's cell reach any output.
    let s = model::text::clean(&s);
    let s = s.trim();
    if s.chars().count() > MAX_CELL {
        s.chars().take(MAX_CELL).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

type Grid = BTreeMap<u32, BTreeMap<u32, String>>;

fn read_sheet(wb: &mut Xlsx<Cursor<&[u8]>>, name: &str) -> Result<Grid, String> {
    let mut grid = Grid::new();
    let mut reader = wb
        .worksheet_cells_reader(name)
        .map_err(|e| format!("sheet {name:?}: {e}"))?;
    let mut n = 0;
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| format!("sheet {name:?}: {e}"))?
    {
        n += 1;
        if n > MAX_CELLS {
            break;
        }
        let (r, c) = cell.get_position();
        if r >= MAX_ROWS || c >= MAX_COLS {
            continue;
        }
        let t = text(cell.get_value());
        if !t.is_empty() {
            grid.entry(r).or_default().insert(c, t);
        }
    }
    Ok(grid)
}

#[derive(Default, Clone, Copy)]
struct Columns {
    id: Option<u32>,
    question: Option<u32>,
    answer: Option<u32>,
    note: Option<u32>,
}

fn header(row: &BTreeMap<u32, String>) -> Option<Columns> {
    let mut c = Columns::default();
    for (&col, t) in row {
        let t = t.to_ascii_lowercase();
        if c.id.is_none() && (t == "question id" || t == "id" || t == "question #" || t == "ref") {
            c.id = Some(col);
        } else if c.answer.is_none()
            && (t.contains("answer") || t.contains("yes/no") || t == "response")
        {
            c.answer = Some(col);
        } else if c.note.is_none() && (t.starts_with("note") || t.contains("comment")) {
            c.note = Some(col);
        } else if c.question.is_none() && t.contains("question") {
            c.question = Some(col);
        }
    }
    (c.id.is_some() && c.answer.is_some()).then_some(c)
}

/// Reads an MDS2 xlsx form.
pub fn parse(bytes: &[u8]) -> Result<Mds2, String> {
    cmms::xlsx::check_zip(bytes, MAX_UNCOMPRESSED).map_err(|e| e.to_string())?;
    let mut wb =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| format!("not a readable xlsx workbook: {e}"))?;
    let mut questions = BTreeMap::new();
    for sheet in wb.sheet_names() {
        let grid = read_sheet(&mut wb, &sheet)?;
        let mut cols: Option<Columns> = None;
        for (&r, row) in &grid {
            if let Some(h) = header(row) {
                cols = Some(h);
                continue;
            }
            let id_col = match cols.and_then(|c| c.id) {
                Some(c) if row.get(&c).is_some_and(|t| is_question_id(t)) => c,
                _ => match row.iter().find(|(_, t)| is_question_id(t)) {
                    Some((&c, _)) => c,
                    None => continue,
                },
            };
            let id = row[&id_col].clone();
            let right = || row.range(id_col + 1..);
            let answer = match cols.and_then(|c| c.answer) {
                Some(a) if a > id_col || cols.and_then(|c| c.id) == Some(id_col) => {
                    Answer::read(row.get(&a).map_or("", String::as_str))
                }
                _ => right()
                    .map(|(_, t)| Answer::read(t))
                    .find(Answer::is_choice)
                    .unwrap_or(Answer::Missing),
            };
            let q_text = match cols.and_then(|c| c.question) {
                Some(q) => row.get(&q).cloned().unwrap_or_default(),
                None => right()
                    .map(|(_, t)| t)
                    .max_by_key(|t| t.len())
                    .cloned()
                    .unwrap_or_default(),
            };
            let note = cols.and_then(|c| c.note).and_then(|n| row.get(&n).cloned());
            questions.entry(id.clone()).or_insert(Question {
                id,
                text: q_text,
                answer,
                note,
                sheet: sheet.clone(),
                row: r + 1,
            });
        }
    }
    if questions.is_empty() {
        return Err(
            "no MDS2 question IDs found (expected rows with IDs such as DOC-1, STCF-1, PAUT-1)"
                .into(),
        );
    }
    let doc = |id: &str| match questions.get(id).map(|q: &Question| &q.answer) {
        Some(Answer::Text(t)) => Some(t.clone()),
        _ => None,
    };
    Ok(Mds2 {
        manufacturer: doc("DOC-1"),
        model: doc("DOC-3"),
        questions,
    })
}

/// One baseline requirement.
pub struct Rule {
    /// What the hospital requires.
    pub requirement: &'static str,
    /// Question IDs, any of which answered as `expect` satisfies the rule.
    pub ids: &'static [&'static str],
    /// The satisfying answer.
    pub expect: Answer,
    /// What to ask the vendor when the rule is not met.
    pub remediation: &'static str,
}

/// The hospital baseline (question numbering of HN 1-2019 as we read it;
/// verify against the NEMA template before relying on an ID). Every rule is
/// required: an answer of "No" fails the document.
pub const BASELINE: &[Rule] = &[
    Rule { requirement: "data at rest is encrypted", ids: &["STCF-1"], expect: Answer::Yes, remediation: "require encryption of stored patient data (full-disk or database)" },
    Rule { requirement: "transmitted patient data is encrypted", ids: &["TXCF-2"], expect: Answer::Yes, remediation: "require TLS (or equivalent) for all PHI in transit" },
    Rule { requirement: "unique user authentication for all users and roles", ids: &["PAUT-1"], expect: Answer::Yes, remediation: "require unique accounts per user and role, including service accounts" },
    Rule { requirement: "all default accounts are documented", ids: &["PAUT-5"], expect: Answer::Yes, remediation: "require a list of every default and service account" },
    Rule { requirement: "no hard-coded passwords: all passwords can be changed", ids: &["PAUT-6"], expect: Answer::Yes, remediation: "require that every password, including service passwords, can be changed by the hospital" },
    Rule { requirement: "audit logging", ids: &["AUDT-1"], expect: Answer::Yes, remediation: "require audit logs of logins and PHI access, exportable to the hospital SIEM" },
    Rule { requirement: "malware protection or application allow-listing", ids: &["MLDP-2", "MLDP-7"], expect: Answer::Yes, remediation: "require supported anti-malware or an application allow-list" },
    Rule { requirement: "a security update (patching) process", ids: &["CSUP-12"], expect: Answer::Yes, remediation: "require a documented process and timeline for validated security patches" },
    Rule { requirement: "an SBOM is provided", ids: &["SBOM-1"], expect: Answer::Yes, remediation: "require a CycloneDX or SPDX SBOM with every release" },
    Rule { requirement: "end-of-support dates are published", ids: &["RDMP-3"], expect: Answer::Yes, remediation: "require the end-of-support date in the contract" },
];

/// Evaluates a form against [`BASELINE`].
pub fn findings(form: &Mds2) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in BASELINE {
        let found: Vec<&Question> = rule
            .ids
            .iter()
            .filter_map(|id| form.questions.get(*id))
            .collect();
        if found.iter().any(|q| q.answer == rule.expect) {
            continue;
        }
        let ids = rule.ids.join("/");
        if found.is_empty() {
            out.push(Finding::new(
                Severity::Medium,
                "mds2-missing",
                ids.clone(),
                format!(
                    "{ids} not found in the form: cannot confirm {}",
                    rule.requirement
                ),
                rule.remediation,
            ));
            continue;
        }
        // The worst answer given decides: No → high; otherwise medium.
        let q = found
            .iter()
            .find(|q| q.answer == Answer::No)
            .unwrap_or(&found[0]);
        let quote: String = q.text.chars().take(160).collect();
        let (severity, check, why) = match &q.answer {
            Answer::No => (
                Severity::High,
                "mds2-baseline",
                format!("answered No: {} is required", rule.requirement),
            ),
            Answer::Missing => (
                Severity::Medium,
                "mds2-missing",
                format!("not answered: cannot confirm {}", rule.requirement),
            ),
            Answer::NotApplicable => (
                Severity::Medium,
                "mds2-baseline",
                format!(
                    "answered N/A: ask the vendor to justify, {} is required",
                    rule.requirement
                ),
            ),
            a => (
                Severity::Medium,
                "mds2-baseline",
                format!(
                    "answered {a}, not {}: {} is required",
                    rule.expect, rule.requirement
                ),
            ),
        };
        let note = q
            .note
            .as_deref()
            .map(|n| format!(" (note: {})", n.chars().take(120).collect::<String>()))
            .unwrap_or_default();
        out.push(Finding::new(
            severity,
            check,
            q.id.clone(),
            format!("{} {why} — \"{quote}\"{note}", q.id),
            rule.remediation,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_answers() {
        for ok in ["DOC-1", "STCF-1", "CSUP-2.1", "SBOM-2.10"] {
            assert!(is_question_id(ok), "{ok}");
        }
        for bad in [
            "doc-1",
            "DOC1",
            "D-1",
            "TOOLONG-1",
            "DOC-",
            "DOC-1.",
            "DOC-a",
            "Question ID",
        ] {
            assert!(!is_question_id(bad), "{bad}");
        }
        assert_eq!(Answer::read(" yes "), Answer::Yes);
        assert_eq!(Answer::read("No."), Answer::No);
        assert_eq!(Answer::read("N/A"), Answer::NotApplicable);
        assert_eq!(
            Answer::read("See note 3"),
            Answer::Text("See note 3".into())
        );
        assert_eq!(Answer::read(""), Answer::Missing);
    }

    fn form(answers: &[(&str, Answer)]) -> Mds2 {
        let questions = answers
            .iter()
            .map(|(id, a)| {
                (
                    id.to_string(),
                    Question {
                        id: id.to_string(),
                        text: format!("question {id}?"),
                        answer: a.clone(),
                        note: None,
                        sheet: "s".into(),
                        row: 1,
                    },
                )
            })
            .collect();
        Mds2 {
            questions,
            manufacturer: None,
            model: None,
        }
    }

    #[test]
    fn baseline() {
        let all_yes: Vec<(&str, Answer)> =
            BASELINE.iter().map(|r| (r.ids[0], Answer::Yes)).collect();
        assert!(findings(&form(&all_yes)).is_empty());
        let mut some = all_yes.clone();
        some.retain(|(id, _)| *id != "SBOM-1");
        some.iter_mut().for_each(|(id, a)| match *id {
            "STCF-1" => *a = Answer::No,
            "AUDT-1" => *a = Answer::NotApplicable,
            "MLDP-2" => *a = Answer::No,
            _ => {}
        });
        some.push(("MLDP-7", Answer::Yes)); // allow-listing satisfies the malware rule
        let f = findings(&form(&some));
        let got: Vec<(&str, &str, Severity)> = f
            .iter()
            .map(|f| (f.subject.as_str(), f.check.as_str(), f.severity))
            .collect();
        assert_eq!(
            got,
            [
                ("STCF-1", "mds2-baseline", Severity::High),
                ("AUDT-1", "mds2-baseline", Severity::Medium),
                ("SBOM-1", "mds2-missing", Severity::Medium)
            ]
        );
        assert!(
            f[0].reason
                .starts_with("STCF-1 answered No: data at rest is encrypted is required"),
            "{}",
            f[0].reason
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse(b"PK\x03\x04garbage")
            .unwrap_err()
            .starts_with("not a readable xlsx"));
        assert!(parse(b"").is_err());
    }
}
