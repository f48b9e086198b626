//! Ward's identification knowledge, kept as data.
//!
//! Every table is a tab-separated text file under `crates/knowledge/data/`,
//! embedded in the binary with `include_str!` and parsed once, on the first
//! use of that table, into a [`Knowledge`] (rows borrow the embedded text). A site can extend or correct it with its own file
//! ([`Knowledge::with_site`], `ward analyze --knowledge FILE`): a site row
//! with the key of an embedded row replaces it, any other row is added.
//!
//! Each row is an *entry* with an id (`TABLE/KEY`, e.g. `domain/withings.net`)
//! and the source and licence it was taken from, so every conclusion drawn
//! from it can cite it ([`Knowledge::cite`]) and an engineer can see why a
//! device was named so and correct it in the site file.
//!
//! # File format
//!
//! ```text
//! # Comment lines start with '#'.
//! # @source: where the following rows come from (URL, document, "Ward project")
//! # @licence: their licence (SPDX id where there is one)
//! withings.net	Withings	Health Mate	yes	-	medical_device
//! ```
//!
//! One row per line, columns separated by one TAB, `-` for an empty field.
//! The first column is the key. `@source` and `@licence` apply to the rows
//! after them until the next directive; every row must have both. A site file
//! holds several tables, each introduced by a `[TABLE]` line.
//!
//! # Adding a table
//!
//! 1. Write `data/NAME.tsv` (with `@source`/`@licence` lines) and note its
//!    origin in `data/SOURCES.md`.
//! 2. Add one [`TableSpec`] line to [`TABLES`] naming its columns.
//! 3. Read it with [`Knowledge::row`] (exact key), [`Knowledge::rows`] (all),
//!    or add a lookup method beside the others here if it needs a special
//!    match (suffix, prefix, words). The parser, the site-file override, the
//!    bounds and the citation come for free; the test `every_embedded_table_parses`
//!    checks the file.
//!
//! # Bounds
//!
//! The site file is hostile input like any other: at most [`MAX_SITE_BYTES`],
//! [`MAX_ROWS`] rows per table, [`MAX_FIELD`] characters per field, control
//! characters refused; an error is one line naming the file and line.

// The format example in the crate doc shows the rows' real TAB separators.
#![allow(clippy::tabs_in_doc_comments)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Largest site file accepted.
pub const MAX_SITE_BYTES: usize = 4 << 20;
/// Most rows one table may hold (embedded and site together).
pub const MAX_ROWS: usize = 100_000;
/// Longest field, in characters.
pub const MAX_FIELD: usize = 256;

/// One table: its name (the `TABLE` of entry ids), its columns (the key
/// first) and its embedded text.
#[derive(Debug)]
pub struct TableSpec {
    /// Table name, as in entry ids and site-file sections.
    pub name: &'static str,
    /// Column names, the key first.
    pub columns: &'static [&'static str],
    /// The embedded data file.
    pub text: &'static str,
}

/// Every table Ward knows. Add a line here to add a table.
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "domain",
        columns: &[
            "domain",
            "vendor",
            "app",
            "medical",
            "device_type",
            "category",
        ],
        text: include_str!("../data/domain.tsv"),
    },
    TableSpec {
        name: "os_domain",
        columns: &["domain", "os", "category"],
        text: include_str!("../data/os_domain.tsv"),
    },
    TableSpec {
        name: "oui_vendor",
        columns: &["pattern", "brand", "kind", "category", "device_type"],
        text: include_str!("../data/oui_vendor.tsv"),
    },
    TableSpec {
        name: "keyword",
        columns: &["keyword", "category", "weight", "device_type"],
        text: include_str!("../data/keyword.tsv"),
    },
    TableSpec {
        name: "model_token",
        columns: &["token", "vendor", "model", "device_type", "category"],
        text: include_str!("../data/model_token.tsv"),
    },
    TableSpec {
        name: "dhcp_vendor_class",
        columns: &["prefix", "os", "generic", "category"],
        text: include_str!("../data/dhcp_vendor_class.tsv"),
    },
    TableSpec {
        name: "dhcp_fingerprint",
        columns: &["option55", "os", "category"],
        text: include_str!("../data/dhcp_fingerprint.tsv"),
    },
    TableSpec {
        name: "ja4",
        columns: &["ja4", "client", "os", "category"],
        text: include_str!("../data/ja4.tsv"),
    },
    TableSpec {
        name: "app_sdk",
        columns: &["domain", "sdk", "platform", "category"],
        text: include_str!("../data/app_sdk.tsv"),
    },
    TableSpec {
        name: "host_word",
        columns: &["word", "os", "category"],
        text: include_str!("../data/host_word.tsv"),
    },
    TableSpec {
        name: "capture_address",
        columns: &["address", "tool", "role", "os", "category"],
        text: include_str!("../data/capture_address.tsv"),
    },
    TableSpec {
        name: "ble_company",
        columns: &["id", "company"],
        text: include_str!("../data/ble_company.tsv"),
    },
    TableSpec {
        name: "ble_uuid16",
        columns: &["uuid", "name"],
        text: include_str!("../data/ble_uuid16.tsv"),
    },
    TableSpec {
        name: "ble_appearance",
        columns: &["value", "name"],
        text: include_str!("../data/ble_appearance.tsv"),
    },
    TableSpec {
        name: "ble_health",
        columns: &["evidence", "device_type", "category"],
        text: include_str!("../data/ble_health.tsv"),
    },
    TableSpec {
        name: "user_agent",
        columns: &["token", "os", "category", "app"],
        text: include_str!("../data/user_agent.tsv"),
    },
];

/// Why a knowledge file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The file is larger than [`MAX_SITE_BYTES`].
    #[error("{file}: knowledge file larger than {max} bytes")]
    TooLarge {
        /// File name.
        file: String,
        /// The limit.
        max: usize,
    },
    /// A line could not be read.
    #[error("{file}:{line}: {message}")]
    Line {
        /// File name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// [`install`] was called after the knowledge was first used.
    #[error("the knowledge base was already in use when a site file was installed")]
    AlreadyInstalled,
}

/// Where entries come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file (`data/domain.tsv` embedded, or the site file's name).
    pub file: String,
    /// The source the file's `@source` line names.
    pub source: String,
    /// The licence its `@licence` line names.
    pub licence: String,
}

/// One entry of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    table: &'static str,
    columns: &'static [&'static str],
    /// Embedded rows borrow their fields from the embedded text; site rows own them.
    fields: Vec<Cow<'static, str>>,
    /// The key in lowercase, made once at load: the word searches compare
    /// it with every text they are asked about.
    lower: Cow<'static, str>,
    /// Index into its table's origins.
    origin: u32,
}

impl Row {
    /// The key (first column), as written.
    pub fn key(&self) -> &str {
        self.fields.first().map_or("", |f| f.as_ref())
    }

    /// The table it belongs to.
    pub fn table(&self) -> &'static str {
        self.table
    }

    /// Its id: `TABLE/KEY`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.table, self.key())
    }

    /// A column's value; None for an unknown column, an empty field or `-`.
    pub fn get(&self, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| *c == column)?;
        self.fields
            .get(i)
            .map(|f| f.as_ref())
            .filter(|v| !v.is_empty() && *v != "-")
    }

    /// A yes/no column.
    pub fn flag(&self, column: &str) -> bool {
        matches!(self.get(column), Some("yes" | "true" | "1"))
    }

    /// A numeric column (weights), when it reads as a number in 0..=1.
    pub fn weight(&self, column: &str) -> Option<f32> {
        self.get(column)
            .and_then(|v| v.parse::<f32>().ok())
            .filter(|w| (0.0..=1.0).contains(w))
    }
}

/// An entry cited by a conclusion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// The entry id (`domain/withings.net`).
    pub id: String,
    /// Where the entry comes from.
    pub source: String,
    /// Under which licence.
    pub licence: String,
    /// The file that held it.
    pub file: String,
}

#[derive(Debug, Default)]
struct Table {
    rows: Vec<Row>,
    /// Lowercased key → row index.
    index: HashMap<Cow<'static, str>, usize>,
    /// Where its rows come from (`Row::origin` indexes this).
    origins: Vec<Origin>,
    /// The word search's index: a key's first word (its leading run of
    /// letters and digits, lowercase) → the rows whose key starts with it,
    /// in row order. Made on the first word search of the table.
    by_first_word: OnceLock<WordIndex>,
}

/// See [`Table::by_first_word`].
#[derive(Debug, Default)]
struct WordIndex {
    words: HashMap<Cow<'static, str>, Vec<u32>>,
    /// Rows whose key does not start with a letter or digit: always tried.
    others: Vec<u32>,
}

/// A key's first word, as [`WordIndex`] files it.
fn first_word(key: &str) -> &str {
    let end = key
        .bytes()
        .position(|b| !is_word_byte(b))
        .unwrap_or(key.len());
    &key[..end]
}

impl Table {
    /// Adds a row, or replaces the row with the same key.
    fn put(&mut self, row: Row, origin: &Origin) -> Result<(), String> {
        let o = match self.origins.iter().rposition(|x| x == origin) {
            Some(o) => o,
            None => {
                self.origins.push(origin.clone());
                self.origins.len() - 1
            }
        };
        let row = Row {
            origin: o as u32,
            ..row
        };
        match self.index.get(&row.lower) {
            Some(&i) => self.rows[i] = row,
            None => {
                if self.rows.len() >= MAX_ROWS {
                    return Err(format!("more than {MAX_ROWS} rows in [{}]", row.table));
                }
                self.index.insert(row.lower.clone(), self.rows.len());
                self.rows.push(row);
            }
        }
        Ok(())
    }

    /// The rows whose (lowercase) key occurs as words in `hay` (lowercase),
    /// in row order: what filtering every row with [`contains_word`] gives,
    /// found through the words of `hay` instead of by trying every row.
    fn rows_in(&self, hay: &str) -> Vec<&Row> {
        let ix = self.by_first_word.get_or_init(|| {
            let mut ix = WordIndex::default();
            for (i, r) in self.rows.iter().enumerate() {
                let w = first_word(&r.lower);
                if w.is_empty() {
                    ix.others.push(i as u32);
                } else {
                    let w = match &r.lower {
                        Cow::Borrowed(b) => Cow::Borrowed(first_word(b)),
                        Cow::Owned(_) => Cow::Owned(w.to_string()),
                    };
                    ix.words.entry(w).or_default().push(i as u32);
                }
            }
            ix
        });
        let mut found: Vec<u32> = ix
            .others
            .iter()
            .copied()
            .filter(|&i| contains_word(hay, &self.rows[i as usize].lower))
            .collect();
        // A key starting with a letter or digit can only occur where a word
        // of `hay` starts, and that word's leading run is the key's first word.
        let h = hay.as_bytes();
        let mut i = 0;
        while i < h.len() {
            if !is_word_byte(h[i]) {
                i += 1;
                continue;
            }
            let end = h[i..]
                .iter()
                .position(|&b| !is_word_byte(b))
                .map_or(h.len(), |n| i + n);
            if let Some(rows) = ix.words.get(&hay[i..end]) {
                for &r in rows {
                    let key = self.rows[r as usize].lower.as_bytes();
                    let at = &h[i..];
                    if at.starts_with(key)
                        && (i + key.len() == h.len() || !is_word_byte(h[i + key.len()]))
                    {
                        found.push(r);
                    }
                }
            }
            i = end;
        }
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|i| &self.rows[i as usize]).collect()
    }
}

/// The knowledge base: every table, each parsed from its embedded text on
/// first use (an Ethernet capture never pays for the Bluetooth tables), with
/// the site file's rows applied on top.
#[derive(Debug)]
pub struct Knowledge {
    /// The site file's rows per table (validated when the file was read),
    /// with their origin.
    site: Vec<Vec<(Row, Origin)>>,
    tables: Vec<OnceLock<Table>>,
}

static GLOBAL: OnceLock<Knowledge> = OnceLock::new();

/// The knowledge in use: the embedded tables, extended by the site file given
/// to [`install`] if that was called before the first use.
pub fn global() -> &'static Knowledge {
    GLOBAL.get_or_init(Knowledge::embedded)
}

/// Makes `k` (usually [`Knowledge::with_site`]) the knowledge [`global`]
/// returns. Must come before the first use; later calls fail.
pub fn install(k: Knowledge) -> Result<(), Error> {
    GLOBAL.set(k).map_err(|_| Error::AlreadyInstalled)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// True if `needle` (lowercase) occurs in `hay` (lowercase) on word
/// boundaries: not preceded or followed by a letter or digit.
pub fn contains_word(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    // A plain scan: texts and keys are short, and a searcher's set-up
    // (`str::match_indices`) cost more than the search, once per table row.
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.len() > h.len() {
        return false;
    }
    (0..=h.len() - n.len()).any(|i| {
        h[i] == n[0]
            && &h[i..i + n.len()] == n
            && (i == 0 || !is_word_byte(h[i - 1]))
            && (i + n.len() == h.len() || !is_word_byte(h[i + n.len()]))
    })
}

/// One row as the parser read it: its table, its fields (borrowed from the
/// text) and its `@source`/`@licence`.
struct ParsedRow<'a> {
    table: usize,
    fields: Vec<&'a str>,
    source: &'a str,
    licence: &'a str,
}

/// Reads a knowledge file line by line and hands every row to `each`;
/// `table` is the table of an embedded file, None for a site file (sections
/// name the tables). With `lenient`, a bad row is skipped instead of ending
/// the read (embedded files, which `every_embedded_table_parses` checks).
fn parse<'a>(
    text: &'a str,
    file: &str,
    table: Option<usize>,
    lenient: bool,
    mut each: impl FnMut(ParsedRow<'a>) -> Result<(), String>,
) -> Result<(), Error> {
    let err = |line: usize, message: String| Error::Line {
        file: file.to_string(),
        line,
        message,
    };
    let mut current = table;
    let mut source: Option<&'a str> = None;
    let mut licence: Option<&'a str> = None;
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let row = (|| -> Result<Option<ParsedRow<'a>>, String> {
            if let Some(c) = line.strip_prefix('#') {
                let c = c.trim();
                if let Some(v) = c.strip_prefix("@source:") {
                    source = Some(check_field(v.trim())?);
                } else if let Some(v) = c.strip_prefix("@licence:") {
                    licence = Some(check_field(v.trim())?);
                }
                return Ok(None);
            }
            if let Some(name) = line
                .trim()
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
            {
                if table.is_some() {
                    return Err("sections only in site files".into());
                }
                current = Some(
                    TABLES
                        .iter()
                        .position(|t| t.name == name.trim())
                        .ok_or_else(|| format!("unknown table [{}]", name.trim()))?,
                );
                return Ok(None);
            }
            let Some(t) = current else {
                return Err("a row before any [TABLE] section".to_string());
            };
            let spec = &TABLES[t];
            let fields = line
                .split('\t')
                .map(|f| check_field(f.trim()))
                .collect::<Result<Vec<&str>, String>>()?;
            if fields.len() != spec.columns.len() {
                return Err(format!(
                    "[{}] rows have {} tab-separated columns ({}), this one has {}",
                    spec.name,
                    spec.columns.len(),
                    spec.columns.join(", "),
                    fields.len()
                ));
            }
            if fields[0].is_empty() || fields[0] == "-" {
                return Err("empty key".into());
            }
            let (Some(source), Some(licence)) = (source, licence) else {
                return Err("a row without a preceding '# @source:' and '# @licence:' line".into());
            };
            Ok(Some(ParsedRow {
                table: t,
                fields,
                source,
                licence,
            }))
        })();
        let result = match row {
            Ok(Some(r)) => each(r),
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {}
            Err(_) if lenient => {}
            Err(e) => return Err(err(line_no, e)),
        }
    }
    Ok(())
}

/// The lowercase form of a key, borrowed when it already is lowercase.
fn lowercase<'a>(key: Cow<'a, str>) -> Cow<'a, str> {
    if key.chars().any(char::is_uppercase) {
        Cow::Owned(key.to_lowercase())
    } else {
        key
    }
}

fn make_row(table: usize, fields: Vec<Cow<'static, str>>) -> Row {
    let spec = &TABLES[table];
    let lower = lowercase(fields[0].clone());
    Row {
        table: spec.name,
        columns: spec.columns,
        fields,
        lower,
        origin: 0,
    }
}

impl Knowledge {
    /// The embedded tables only.
    pub fn embedded() -> Knowledge {
        Knowledge {
            site: TABLES.iter().map(|_| Vec::new()).collect(),
            tables: TABLES.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// The embedded tables extended and overridden by a site file (`name`
    /// is how errors and citations name it).
    pub fn with_site(text: &str, name: &str) -> Result<Knowledge, Error> {
        if text.len() > MAX_SITE_BYTES {
            return Err(Error::TooLarge {
                file: name.to_string(),
                max: MAX_SITE_BYTES,
            });
        }
        let mut k = Knowledge::embedded();
        let mut counts = vec![0usize; TABLES.len()];
        parse(text, name, None, false, |p| {
            counts[p.table] += 1;
            if counts[p.table] > MAX_ROWS {
                return Err(format!(
                    "more than {MAX_ROWS} rows in [{}]",
                    TABLES[p.table].name
                ));
            }
            let fields = p.fields.iter().map(|f| Cow::Owned(f.to_string())).collect();
            let origin = Origin {
                file: name.to_string(),
                source: p.source.to_string(),
                licence: p.licence.to_string(),
            };
            k.site[p.table].push((make_row(p.table, fields), origin));
            Ok(())
        })?;
        Ok(k)
    }

    /// Parses embedded table `i` and applies the site rows for it.
    fn build(&self, i: usize) -> Table {
        let spec = &TABLES[i];
        let file = format!("data/{}.tsv", spec.name);
        let mut t = Table::default();
        let mut origin = Origin {
            file: file.clone(),
            source: String::new(),
            licence: String::new(),
        };
        let _ = parse(spec.text, &file, Some(i), true, |p: ParsedRow<'static>| {
            if origin.source != p.source || origin.licence != p.licence {
                origin.source = p.source.to_string();
                origin.licence = p.licence.to_string();
            }
            let fields = p.fields.into_iter().map(Cow::Borrowed).collect();
            t.put(make_row(p.table, fields), &origin)
        });
        for (row, origin) in &self.site[i] {
            // The site rows were counted when the file was read; together
            // with the embedded ones they may still pass the bound: the
            // excess is dropped.
            let _ = t.put(row.clone(), origin);
        }
        t
    }

    /// Reads embedded table `i` strictly: the first bad line is an error
    /// (the test that keeps the embedded files right).
    #[cfg(test)]
    fn check_embedded(i: usize) -> Result<usize, Error> {
        let spec = &TABLES[i];
        let mut n = 0;
        parse(spec.text, spec.name, Some(i), false, |_| {
            n += 1;
            Ok(())
        })?;
        Ok(n)
    }

    fn table(&self, name: &str) -> Option<&Table> {
        let i = TABLES.iter().position(|t| t.name == name)?;
        Some(self.tables.get(i)?.get_or_init(|| self.build(i)))
    }

    /// Every row of a table, in file order (embedded, then site additions).
    pub fn rows(&self, table: &str) -> &[Row] {
        self.table(table).map_or(&[], |t| t.rows.as_slice())
    }

    /// The row of `table` whose key is `key` (case-insensitive).
    pub fn row(&self, table: &str, key: &str) -> Option<&Row> {
        let t = self.table(table)?;
        let i = *t.index.get(lowercase(Cow::Borrowed(key)).as_ref())?;
        t.rows.get(i)
    }

    /// The entry an id (`TABLE/KEY`) names.
    pub fn entry(&self, id: &str) -> Option<&Row> {
        let (table, key) = id.split_once('/')?;
        self.row(table, key)
    }

    /// Source and licence of a row, for a conclusion to cite.
    pub fn cite(&self, row: &Row) -> Citation {
        let o = self
            .table(row.table)
            .and_then(|t| t.origins.get(row.origin as usize));
        Citation {
            id: row.id(),
            source: o.map(|o| o.source.clone()).unwrap_or_default(),
            licence: o.map(|o| o.licence.clone()).unwrap_or_default(),
            file: o.map(|o| o.file.clone()).unwrap_or_default(),
        }
    }

    /// The most specific row of a domain-keyed table (`domain`, `os_domain`)
    /// for a host name: the name itself, then its parents down to its
    /// registered domain (public suffix list), never a bare public suffix.
    /// `wyze-app-monitor.wyzecam.com` finds `wyzecam.com`; `notwyzecam.com`
    /// does not.
    pub fn domain_in(&self, table: &str, host: &str) -> Option<&Row> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() || host.len() > 253 {
            return None;
        }
        let registered = registered_domain(&host)?;
        let t = self.table(table)?;
        let mut name = host.as_str();
        loop {
            if let Some(&i) = t.index.get(name) {
                return t.rows.get(i);
            }
            if name.len() <= registered.len() {
                return None;
            }
            name = name.split_once('.')?.1;
        }
    }

    /// [`Knowledge::domain_in`] the `domain` table (vendor, app, medical...).
    pub fn domain(&self, host: &str) -> Option<&Row> {
        self.domain_in("domain", host)
    }

    /// The `oui_vendor` row for an IEEE organisation name (or a stated
    /// manufacturer): the longest pattern that occurs in it as words.
    pub fn vendor(&self, organisation: &str) -> Option<&Row> {
        let hay = organisation.to_lowercase();
        self.table("oui_vendor")?
            .rows_in(&hay)
            .into_iter()
            .max_by_key(|r| r.key().len())
    }

    /// Every `keyword` row occurring (as words) in `text`.
    pub fn keywords<'a>(&'a self, text: &str) -> Vec<&'a Row> {
        let hay = text.to_lowercase();
        self.table("keyword")
            .map_or_else(Vec::new, |t| t.rows_in(&hay))
    }

    /// `model_token` rows for the words of `text` (split on anything but
    /// letters and digits; a token also matches at the start of a word
    /// followed by a hyphen, as in `wpm05-ws`).
    pub fn model_tokens<'a>(&'a self, text: &str) -> Vec<&'a Row> {
        let Some(t) = self.table("model_token") else {
            return Vec::new();
        };
        let mut out: Vec<&Row> = Vec::new();
        for w in text.split(|c: char| !c.is_ascii_alphanumeric()) {
            if w.len() < 2 || w.len() > 32 {
                continue;
            }
            if let Some(r) = t
                .index
                .get(w.to_ascii_lowercase().as_str())
                .and_then(|&i| t.rows.get(i))
            {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// The `dhcp_vendor_class` row whose key is the longest prefix of the
    /// vendor class (case-insensitive).
    pub fn dhcp_vendor_class(&self, vendor_class: &str) -> Option<&Row> {
        let v = vendor_class.trim().to_lowercase();
        self.rows("dhcp_vendor_class")
            .iter()
            .filter(|r| v.starts_with(r.lower.as_ref()))
            .max_by_key(|r| r.key().len())
    }

    /// The `dhcp_fingerprint` row for an option 55 list (`1,3,6,15`; spaces ignored).
    pub fn dhcp_fingerprint(&self, option55: &str) -> Option<&Row> {
        let key: String = option55.chars().filter(|c| !c.is_whitespace()).collect();
        self.row("dhcp_fingerprint", &key)
    }

    /// The `ja4` row for a JA4 client fingerprint.
    pub fn ja4(&self, ja4: &str) -> Option<&Row> {
        self.row("ja4", ja4.trim())
    }

    /// The `capture_address` row for an address a capture tool gives its
    /// virtual network (the caller applies it only to addresses seen without
    /// a MAC).
    pub fn capture_address(&self, ip: &std::net::IpAddr) -> Option<&Row> {
        self.row("capture_address", &ip.to_string())
    }

    /// `host_word` rows for the words of a host name's labels left of its
    /// registered domain (`android-api.fitbit.com` → `android`); none for a
    /// name without a registered domain.
    pub fn host_words<'a>(&'a self, host: &str) -> Vec<&'a Row> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        let Some(reg) = registered_domain(&host) else {
            return Vec::new();
        };
        let sub = host
            .strip_suffix(reg.as_str())
            .unwrap_or("")
            .trim_end_matches('.');
        let mut out: Vec<&Row> = Vec::new();
        for w in sub.split(|c: char| !c.is_ascii_alphanumeric()) {
            if let Some(r) = self.row("host_word", w) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        out
    }

    /// Every `user_agent` row whose token occurs (as words) in a User-Agent.
    pub fn user_agent<'a>(&'a self, ua: &str) -> Vec<&'a Row> {
        let hay = ua.to_lowercase();
        self.table("user_agent")
            .map_or_else(Vec::new, |t| t.rows_in(&hay))
    }
}

/// The registered (registrable) domain of a host name by the public suffix
/// list: `us-kardia-production.alivecor.com` → `alivecor.com`,
/// `a.b.example.co.uk` → `example.co.uk`. None for bare suffixes, single
/// labels and IP addresses.
pub fn registered_domain(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() || !host.contains('.') {
        return None;
    }
    let d = psl::domain(host.as_bytes())?;
    // A suffix the list does not know is matched by its `*` rule: only
    // trust registered domains under a known suffix.
    if !d.suffix().is_known() {
        return None;
    }
    std::str::from_utf8(d.as_bytes()).ok().map(str::to_string)
}

/// A field as read: no control characters, at most [`MAX_FIELD`] characters.
fn check_field(v: &str) -> Result<&str, String> {
    if v.chars().any(char::is_control) {
        return Err("control characters in a field".into());
    }
    if v.chars().count() > MAX_FIELD {
        return Err(format!("a field longer than {MAX_FIELD} characters"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests;
