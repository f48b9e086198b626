//! Zeek TSV logs, the baselines shipped beside the Zeek test traces.

use std::path::Path;

/// Reads a Zeek TSV log: the `#fields` names (or a plain header line, as
/// `zeek-cut` writes) and the data rows.
pub fn log(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse(&text)
}

/// [`log`] over text already read.
pub fn parse(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut fields = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').map(str::to_string).collect();
        } else if !line.starts_with('#') && !line.is_empty() {
            if fields.is_empty() {
                fields = line.split('\t').map(str::to_string).collect();
                continue;
            }
            rows.push(line.split('\t').map(str::to_string).collect());
        }
    }
    (fields, rows)
}

/// The value of column `name` in `row` (`None` for Zeek's `-` and unknown columns).
pub fn col<'a>(fields: &[String], row: &'a [String], name: &str) -> Option<&'a str> {
    let i = fields.iter().position(|f| f == name)?;
    row.get(i).map(String::as_str).filter(|v| *v != "-")
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_header_styles() {
        let (f, r) = super::parse("#separator \\x09\n#fields\tts\tuid\n1.0\t-\n");
        assert_eq!(r.len(), 1);
        assert_eq!(super::col(&f, &r[0], "ts"), Some("1.0"));
        assert_eq!(super::col(&f, &r[0], "uid"), None);
        let (f, r) = super::parse("ts\tuid\n2.0\tCx\n");
        assert_eq!(super::col(&f, &r[0], "uid"), Some("Cx"));
    }
}
