//! The generated MDS2 form (see `fixtures/mds2_fixture.rs`) read and
//! evaluated through the public API; a truncated copy is a one-line error.

#[path = "fixtures/mds2_fixture.rs"]
mod mds2_fixture;

use assess::mds2::Answer;
use assess::{assess, parse_document, Document, Severity, Verdict};

fn fixture(tag: &str) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("assess-mds2-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("mds2.xlsx");
    mds2_fixture::write(&p);
    let bytes = std::fs::read(&p).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

#[test]
fn generated_form_is_read_and_fails_the_baseline() {
    let bytes = fixture("read");
    let Document::Mds2(form) = parse_document("mds2.xlsx", &bytes).unwrap() else {
        panic!("not MDS2")
    };
    assert_eq!(form.questions.len(), mds2_fixture::ROWS.len());
    assert_eq!(form.manufacturer.as_deref(), Some("Example Medical Inc."));
    assert_eq!(form.questions["STCF-1"].answer, Answer::No);
    assert_eq!(
        form.questions["STCF-1"].note.as_deref(),
        Some("Planned for release 3.0")
    );
    assert_eq!(form.questions["CSUP-12"].answer, Answer::Missing);
    assert_eq!(form.questions["SBOM-1"].answer, Answer::NotApplicable);

    let r = assess("mds2.xlsx", &bytes, None).unwrap();
    assert_eq!(r.kind, "MDS2");
    assert_eq!(r.verdict, Verdict::Fail);
    let got: Vec<(&str, Severity)> = r
        .findings
        .iter()
        .map(|f| (f.subject.as_str(), f.severity))
        .collect();
    assert_eq!(
        got,
        [
            ("STCF-1", Severity::High),
            ("PAUT-6", Severity::High),
            ("CSUP-12", Severity::Medium),
            ("SBOM-1", Severity::Medium),
            ("RDMP-3", Severity::Medium)
        ]
    );
    let stcf = r.findings.iter().find(|f| f.subject == "STCF-1").unwrap();
    assert!(
        stcf.reason
            .starts_with("STCF-1 answered No: data at rest is encrypted is required"),
        "{}",
        stcf.reason
    );
}

#[test]
fn truncated_form_is_an_error() {
    let bytes = fixture("cut");
    for cut in [bytes.len() / 2, 200, 30] {
        let e = parse_document("cut.xlsx", &bytes[..cut])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("cut.xlsx: not a readable xlsx"), "{e}");
        assert!(!e.contains('\n'));
    }
}

#[path = "fixtures/xlsx_bomb.rs"]
mod xlsx_bomb;

/// Issue 19, item 3: a workbook whose zip headers declare 4 KiB for a sheet
/// that inflates to 96 MiB is refused in one line by counting the bytes that
/// actually come out; the same workbook with honest headers and a small cell
/// is read (the generator makes valid workbooks).
#[test]
fn lying_zip_sizes_are_refused_by_the_bytes_inflated() {
    let small = xlsx_bomb::bomb(10_000, false);
    let Document::Mds2(form) = parse_document("small.xlsx", &small).unwrap() else {
        panic!("an MDS2 form");
    };
    assert!(form.questions.contains_key("DOC-1"));

    let bomb = xlsx_bomb::bomb(96 << 20, true);
    assert!(bomb.len() < 2 << 20, "the bomb is small: {}", bomb.len());
    let t = std::time::Instant::now();
    let e = parse_document("bomb.xlsx", &bomb).unwrap_err().to_string();
    // Refused by the count, or (zip >= 9) by the reader noticing the lie.
    assert!(
        e.starts_with("bomb.xlsx: workbook expands to more than the limit of")
            || e.starts_with("bomb.xlsx: not a readable xlsx (zip) file: part")
                && e.contains("larger than its declared"),
        "{e}"
    );
    assert!(e.contains("xl/worksheets/sheet1.xml"), "{e}");
    assert!(!e.contains('\n'));
    assert!(
        t.elapsed().as_secs() < 20,
        "bounded work: {:?}",
        t.elapsed()
    );
}
