//! Issue 19, item 3, for CMMS imports: an xlsx whose zip headers lie about
//! its part sizes is refused in one line by counting the bytes that actually
//! come out (`cmms::xlsx::check_zip`, shared with `assess`'s MDS2 reader);
//! the same workbook with honest headers and a small cell is read.

#[path = "../../assess/tests/fixtures/xlsx_bomb.rs"]
mod xlsx_bomb;

use cmms::xlsx::{check_zip, ZipError};

#[test]
fn lying_zip_sizes_are_refused_by_the_bytes_inflated() {
    // Honest and small: read (and refused only for its columns, which are
    // an MDS2 form's, not a CMMS export's).
    let small = xlsx_bomb::bomb(10_000, false);
    let e = cmms::parse("small.xlsx", &small).unwrap_err().to_string();
    assert!(
        e.starts_with("small.xlsx:") && !e.contains("zip") && !e.contains("expands"),
        "{e}"
    );

    let inflated = cmms::MAX_XLSX_EXPANDED + (32 << 20);
    let bomb = xlsx_bomb::bomb(inflated, true);
    assert!(
        (bomb.len() as u64) < inflated / 64,
        "the bomb is small: {}",
        bomb.len()
    );
    let t = std::time::Instant::now();
    let e = cmms::parse("bomb.xlsx", &bomb).unwrap_err().to_string();
    // Refused by the count, or (zip >= 9) by the reader noticing the lie.
    assert!(
        e.starts_with("bomb.xlsx: workbook expands to more than the limit of")
            || e.starts_with("bomb.xlsx: not a readable xlsx (zip) file: part")
                && e.contains("larger than its declared"),
        "{e}"
    );
    assert!(e.contains("xl/worksheets/sheet1.xml"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    assert!(
        t.elapsed().as_secs() < 20,
        "bounded work: {:?}",
        t.elapsed()
    );
}

/// The count itself, on honest headers: the total inflated, and a refusal
/// naming the part at which the limit was passed.
#[test]
fn check_zip_counts_the_bytes_inflated() {
    let small = xlsx_bomb::bomb(10_000, false);
    let total = check_zip(&small, 1 << 20).unwrap();
    assert!((10_000..20_000).contains(&total), "{total}");
    match check_zip(&small, 5_000) {
        Err(ZipError::TooLarge {
            limit,
            part,
            declared,
        }) => {
            assert_eq!(limit, 5_000);
            assert_eq!(part, "xl/worksheets/sheet1.xml");
            assert!(declared > 10_000, "{declared}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        check_zip(b"not a zip", 1 << 20),
        Err(ZipError::Unreadable(_))
    ));
}
