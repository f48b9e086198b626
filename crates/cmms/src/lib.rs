//! CMMS imports: the device inventory a hospital's biomed team keeps
//! (computerised maintenance management system exports), as CSV — comma,
//! semicolon or tab, sniffed from the header line — or xlsx.
//!
//! Columns are found by the names biomed teams use, in any order and case:
//! manufacturer/vendor/make, model/model number/model name, serial/serial
//! number, asset tag/asset number/equipment id, MAC, IP, hostname/device
//! name, department/location/ward/room, firmware/software version. A model
//! or manufacturer column is required. Bad rows are reported (one line
//! each, with the row number) and skipped; [`parse`] never panics and
//! bounds file size, rows, fields and xlsx expansion.

use std::io::Cursor;

pub mod xlsx;

/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 64 << 20;
/// Most rows accepted.
pub const MAX_ROWS: usize = 1_000_000;
/// Longest field kept.
pub const MAX_FIELD: usize = 256;
/// Most bytes an xlsx may expand to: the sum of its parts' sizes once
/// inflated (counted by [`xlsx::check_zip`], not declared).
pub const MAX_XLSX_EXPANDED: u64 = 256 << 20;
/// Most problems listed (the rest are counted).
const MAX_PROBLEMS: usize = 1000;

/// A file that cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Too large, unreadable, or without the columns needed.
    #[error("{file}: {problem}")]
    Invalid {
        /// File name as given.
        file: String,
        /// What is wrong.
        problem: String,
    },
}

/// One device row of a CMMS export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// Manufacturer.
    pub vendor: String,
    /// Model (name or number).
    pub model: String,
    /// Firmware or software version.
    pub firmware: String,
    /// Serial number.
    pub serial: String,
    /// Asset tag.
    pub asset_tag: String,
    /// MAC address, normalised to `aa:bb:cc:dd:ee:ff` when it parses.
    pub mac: String,
    /// IP address.
    pub ip: String,
    /// Host name.
    pub hostname: String,
    /// Department / location.
    pub location: String,
    /// Declared backup method (`Veeam agent`, `DICOM to PACS`).
    pub backup_method: String,
    /// Declared backup destination (host, share or system).
    pub backup_destination: String,
    /// Last verified restore, as written.
    pub last_restore: String,
    /// Row number in the file (1 = header).
    pub line: u64,
}

/// What an import read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Import {
    /// Good rows.
    pub rows: Vec<Row>,
    /// One line per skipped row: `FILE:LINE: skipped: why`.
    pub problems: Vec<String>,
    /// Rows skipped.
    pub skipped: usize,
    /// The delimiter used (`,`, `;`, tab; `x` for xlsx).
    pub delimiter: char,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Vendor,
    Model,
    Firmware,
    Serial,
    AssetTag,
    Mac,
    Ip,
    Hostname,
    Location,
    BackupMethod,
    BackupDestination,
    LastRestore,
}

/// Header names (folded: lower case, letters and digits only) per field.
const HEADERS: &[(Field, &[&str])] = &[
    (
        Field::Vendor,
        &[
            "manufacturer",
            "vendor",
            "make",
            "mfr",
            "mfg",
            "manufacturername",
            "oem",
            "brand",
            "supplier",
        ],
    ),
    (
        Field::Model,
        &[
            "model",
            "modelnumber",
            "modelno",
            "modelname",
            "modelnum",
            "devicemodel",
            "product",
            "productname",
            "catalogmodel",
        ],
    ),
    (
        Field::Firmware,
        &[
            "firmware",
            "firmwareversion",
            "fwversion",
            "fw",
            "software",
            "softwareversion",
            "swversion",
            "sw",
            "version",
            "softwarerevision",
            "osversion",
            "revision",
        ],
    ),
    (
        Field::Serial,
        &["serial", "serialnumber", "serialno", "sn", "serialnum"],
    ),
    (
        Field::AssetTag,
        &[
            "assettag",
            "asset",
            "assetnumber",
            "assetno",
            "assetid",
            "equipmentid",
            "equipmentnumber",
            "tag",
            "controlnumber",
            "inventorynumber",
        ],
    ),
    (
        Field::Mac,
        &[
            "mac",
            "macaddress",
            "macaddr",
            "ethernetaddress",
            "hardwareaddress",
            "wifimac",
            "wiredmac",
        ],
    ),
    (
        Field::Ip,
        &[
            "ip",
            "ipaddress",
            "ipaddr",
            "ipv4",
            "ipv4address",
            "staticip",
        ],
    ),
    (
        Field::Hostname,
        &[
            "hostname",
            "host",
            "devicename",
            "networkname",
            "dnsname",
            "computername",
            "netbiosname",
        ],
    ),
    (
        Field::Location,
        &[
            "location",
            "department",
            "dept",
            "ward",
            "unit",
            "room",
            "site",
            "area",
            "costcenter",
            "building",
            "floor",
            "careunit",
        ],
    ),
    (
        Field::BackupMethod,
        &[
            "backupmethod",
            "backup",
            "backuptype",
            "backupsolution",
            "backupplan",
        ],
    ),
    (
        Field::BackupDestination,
        &[
            "backupdestination",
            "backuptarget",
            "backuplocation",
            "backupserver",
            "backupto",
        ],
    ),
    (
        Field::LastRestore,
        &[
            "lastverifiedrestore",
            "lastrestore",
            "lastrestoretest",
            "lastrestoredate",
            "restoreverified",
            "restoretested",
            "lastrestoreverified",
        ],
    ),
];

fn fold_header(h: &str) -> String {
    h.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn field_of(h: &str) -> Option<Field> {
    let f = fold_header(h);
    HEADERS
        .iter()
        .find(|(_, names)| names.contains(&f.as_str()))
        .map(|(field, _)| *field)
}

/// Header words per field, for headers not in [`HEADERS`] ("FW Rev",
/// "Equipment #", "Manufacturer Model No.", "Dept. Name"): the first rule
/// with a word of the header decides. Columns that describe rather than
/// name ("Model Description", "Equipment Type") are not taken.
const HEADER_WORDS: &[(Field, &[&str])] = &[
    (Field::Serial, &["serial", "sn", "serialno", "serialnumber"]),
    (Field::Mac, &["mac", "macaddress", "macaddr"]),
    (Field::Ip, &["ip", "ipv4", "ipaddress", "ipaddr"]),
    (
        Field::Hostname,
        &["host", "hostname", "dns", "netbios", "fqdn"],
    ),
    (
        Field::Firmware,
        &[
            "firmware", "software", "fw", "sw", "os", "version", "ver", "rev", "revision",
        ],
    ),
    (Field::Model, &["model", "modelno", "modelnumber"]),
    (
        Field::Vendor,
        &[
            "manufacturer",
            "vendor",
            "mfr",
            "mfg",
            "make",
            "maker",
            "oem",
            "brand",
        ],
    ),
    (
        Field::AssetTag,
        &[
            "asset",
            "tag",
            "equipment",
            "equip",
            "control",
            "inventory",
            "cmms",
        ],
    ),
    (
        Field::Location,
        &[
            "location",
            "department",
            "dept",
            "ward",
            "unit",
            "room",
            "site",
            "area",
            "building",
            "floor",
            "facility",
            "campus",
        ],
    ),
];

/// Header words that make a column a description, never an identifier.
const DESCRIPTIVE: &[&str] = &[
    "description",
    "desc",
    "type",
    "class",
    "category",
    "nomenclature",
    "comment",
    "comments",
    "notes",
    "date",
    "status",
    "owner",
    "contact",
    "cost",
    "price",
    "due",
    "last",
    "next",
];

fn field_of_words(h: &str) -> Option<Field> {
    let words: Vec<String> = h
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() || words.iter().any(|w| DESCRIPTIVE.contains(&w.as_str())) {
        return None;
    }
    HEADER_WORDS
        .iter()
        .find(|(_, names)| words.iter().any(|w| names.contains(&w.as_str())))
        .map(|(field, _)| *field)
}

/// The field of each header cell: exact names first; a word rule only for
/// fields no exact name claimed.
fn fields_of(header: &[String]) -> Vec<Option<Field>> {
    let mut cols: Vec<Option<Field>> = header.iter().map(|h| field_of(h)).collect();
    let exact: Vec<Field> = cols.iter().flatten().copied().collect();
    for (c, h) in cols.iter_mut().zip(header) {
        if c.is_none() {
            *c = field_of_words(h).filter(|f| !exact.contains(f));
        }
    }
    cols
}

/// Whether a header row names a manufacturer or model column.
fn is_header(cells: &[String]) -> bool {
    fields_of(cells)
        .iter()
        .any(|c| matches!(c, Some(Field::Vendor) | Some(Field::Model)))
}

/// Rows a report may print above its header (title, date, filters).
const MAX_PREAMBLE: usize = 10;

/// Normalises a MAC address (`00-1A-2B-3C-4D-5E`, `001a.2b3c.4d5e`,
/// `001A2B3C4D5E`) to `00:1a:2b:3c:4d:5e`; `None` when it is not one.
pub fn normalize_mac(s: &str) -> Option<String> {
    let hex: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(
        (0..6)
            .map(|i| &h[i * 2..i * 2 + 2])
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// Picks the delimiter: the most frequent of `,`, `;` and tab outside
/// quotes on the busiest of the first lines (a report title above the
/// header has none), comma on ties.
fn sniff(text: &[u8]) -> u8 {
    let mut best_counts = [0usize; 3];
    for line in text.split(|&b| b == b'\n').take(MAX_PREAMBLE + 1) {
        let mut counts = [0usize; 3];
        let mut quoted = false;
        for &b in line {
            match b {
                b'"' => quoted = !quoted,
                b',' if !quoted => counts[0] += 1,
                b';' if !quoted => counts[1] += 1,
                b'\t' if !quoted => counts[2] += 1,
                _ => {}
            }
        }
        for i in 0..3 {
            best_counts[i] = best_counts[i].max(counts[i]);
        }
    }
    let best = (0..3)
        .max_by_key(|&i| (best_counts[i], usize::from(i == 0)))
        .unwrap_or(0);
    [b',', b';', b'\t'][best]
}

struct Builder {
    file: String,
    cols: Vec<Option<Field>>,
    /// CSV rows must have the header's width (a short or long row has
    /// shifted columns); xlsx rows end at their last non-empty cell.
    csv: bool,
    out: Import,
}

impl Builder {
    fn new(file: &str, header: &[String], delimiter: char) -> Result<Builder, Error> {
        let cols = fields_of(header);
        if !cols
            .iter()
            .any(|c| matches!(c, Some(Field::Vendor) | Some(Field::Model)))
        {
            let found: Vec<String> = header
                .iter()
                .take(32)
                .map(|h| h.chars().take(40).collect())
                .collect();
            return Err(Error::Invalid {
                file: file.into(),
                problem: format!(
                    "line 1: the header has no manufacturer/vendor or model column (found: {})",
                    found.join(", ")
                ),
            });
        }
        Ok(Builder {
            file: file.into(),
            cols,
            csv: delimiter != 'x',
            out: Import {
                delimiter,
                ..Import::default()
            },
        })
    }

    fn skip(&mut self, line: u64, why: String) {
        self.out.skipped += 1;
        if self.out.problems.len() < MAX_PROBLEMS {
            self.out
                .problems
                .push(format!("{}:{line}: skipped: {why}", self.file));
        }
    }

    fn row(&mut self, line: u64, cells: &[String]) -> Result<(), Error> {
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        let width = cells.len()
            - cells
                .iter()
                .skip(self.cols.len())
                .rev()
                .take_while(|c| c.trim().is_empty())
                .count();
        if self.csv && width != self.cols.len() {
            let why = format!("{width} fields, the header has {}", self.cols.len());
            self.skip(line, why);
            return Ok(());
        }
        if self.out.rows.len() >= MAX_ROWS {
            return Err(Error::Invalid {
                file: self.file.clone(),
                problem: format!("line {line}: more than {MAX_ROWS} rows"),
            });
        }
        let mut r = Row {
            line,
            ..Row::default()
        };
        for (i, c) in cells.iter().enumerate() {
            let Some(Some(f)) = self.cols.get(i) else {
                continue;
            };
            let v = c.trim();
            if v.len() > MAX_FIELD {
                self.skip(
                    line,
                    format!("a field of {} bytes is longer than {MAX_FIELD}", v.len()),
                );
                return Ok(());
            }
            let slot = match f {
                Field::Vendor => &mut r.vendor,
                Field::Model => &mut r.model,
                Field::Firmware => &mut r.firmware,
                Field::Serial => &mut r.serial,
                Field::AssetTag => &mut r.asset_tag,
                Field::Mac => &mut r.mac,
                Field::Ip => &mut r.ip,
                Field::Hostname => &mut r.hostname,
                Field::Location => &mut r.location,
                Field::BackupMethod => &mut r.backup_method,
                Field::BackupDestination => &mut r.backup_destination,
                Field::LastRestore => &mut r.last_restore,
            };
            // Several columns of one kind (department and room): joined.
            if slot.is_empty() {
                *slot = v.to_string();
            } else if !v.is_empty() {
                slot.push_str(" / ");
                slot.push_str(v);
            }
        }
        if !r.mac.is_empty() {
            match normalize_mac(&r.mac) {
                Some(m) => r.mac = m,
                None => {
                    let why = format!(
                        "MAC address {:?} is not one",
                        r.mac.chars().take(40).collect::<String>()
                    );
                    self.skip(line, why);
                    return Ok(());
                }
            }
        }
        if !r.ip.is_empty() && r.ip.parse::<std::net::IpAddr>().is_err() {
            let why = format!(
                "IP address {:?} is not one",
                r.ip.chars().take(40).collect::<String>()
            );
            self.skip(line, why);
            return Ok(());
        }
        if r.vendor.is_empty() && r.model.is_empty() {
            self.skip(line, "no manufacturer and no model".into());
            return Ok(());
        }
        self.out.rows.push(r);
        Ok(())
    }
}

/// Reads a CMMS export (CSV or xlsx, detected by content).
pub fn parse(file: &str, bytes: &[u8]) -> Result<Import, Error> {
    let invalid = |problem: String| Error::Invalid {
        file: file.into(),
        problem,
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(invalid(format!(
            "{} bytes is larger than the limit of {MAX_FILE_BYTES}",
            bytes.len()
        )));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return parse_xlsx(file, bytes);
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let delim = sniff(text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .delimiter(delim)
        .from_reader(text);
    let mut records = rdr.byte_records();
    let cells = |h: &csv::ByteRecord| {
        h.iter()
            .map(|c| String::from_utf8_lossy(c).trim().to_string())
            .collect::<Vec<_>>()
    };
    // The header is the first row naming a manufacturer or model column,
    // within the first rows (a report may print a title above it).
    let mut header = match records.next() {
        Some(Ok(h)) => cells(&h),
        Some(Err(e)) => return Err(invalid(format!("line 1: cannot read the header row: {e}"))),
        None => return Err(invalid("empty file".into())),
    };
    let mut preamble = 0;
    while !is_header(&header) && preamble < MAX_PREAMBLE {
        match records.next() {
            Some(Ok(h)) if is_header(&cells(&h)) => header = cells(&h),
            Some(Ok(_)) => {}
            _ => break,
        }
        preamble += 1;
    }
    let mut b = Builder::new(file, &header, delim as char)?;
    for rec in records {
        match rec {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                let cells: Vec<String> = r
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                b.row(line, &cells)?;
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                b.skip(line, e.to_string());
            }
        }
    }
    Ok(b.out)
}

fn parse_xlsx(file: &str, bytes: &[u8]) -> Result<Import, Error> {
    use calamine::{Reader, Xlsx};
    let invalid = |problem: String| Error::Invalid {
        file: file.into(),
        problem,
    };
    // The bytes the parts actually inflate to, counted before calamine reads
    // any of them (the declared sizes of a zip bomb lie).
    xlsx::check_zip(bytes, MAX_XLSX_EXPANDED).map_err(|e| invalid(e.to_string()))?;
    let mut wb = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| invalid(format!("not a readable xlsx workbook: {e}")))?;
    let sheet = wb
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| invalid("the workbook has no sheet".into()))?;
    let mut reader = wb
        .worksheet_cells_reader(&sheet)
        .map_err(|e| invalid(format!("sheet {sheet:?}: {e}")))?;
    let mut grid: std::collections::BTreeMap<u32, Vec<(u32, String)>> = Default::default();
    let mut cells = 0usize;
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| invalid(format!("sheet {sheet:?}: {e}")))?
    {
        cells += 1;
        if cells > MAX_ROWS * 4 {
            return Err(invalid(format!(
                "sheet {sheet:?}: more than {} cells",
                MAX_ROWS * 4
            )));
        }
        let (r, c) = cell.get_position();
        if c >= 256 {
            continue;
        }
        let v = match cell.get_value() {
            calamine::DataRef::String(s) => s.clone(),
            calamine::DataRef::SharedString(s) => s.to_string(),
            calamine::DataRef::Float(f) => {
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    format!("{}", *f as i64)
                } else {
                    f.to_string()
                }
            }
            calamine::DataRef::Int(i) => i.to_string(),
            calamine::DataRef::Bool(b) => b.to_string(),
            _ => String::new(),
        };
        let v: String = v.chars().take(MAX_FIELD + 1).collect();
        grid.entry(r).or_default().push((c, v));
    }
    let to_row = |cells: &[(u32, String)]| {
        let width = cells
            .iter()
            .map(|(c, _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut v = vec![String::new(); width];
        for (c, s) in cells {
            v[*c as usize] = s.clone();
        }
        v
    };
    let mut rows = grid.into_iter().peekable();
    let Some((_, first)) = rows.next() else {
        return Err(invalid("empty sheet".into()));
    };
    // The header: the first row naming a manufacturer or model column
    // (a title row above it is skipped), else the first row.
    let mut header = to_row(&first);
    for _ in 0..MAX_PREAMBLE {
        if is_header(&header) {
            break;
        }
        match rows.peek() {
            Some((_, next)) if is_header(&to_row(next)) => {
                header = to_row(next);
                rows.next();
            }
            Some(_) => {
                rows.next();
            }
            None => break,
        }
    }
    let mut b = Builder::new(file, &header, 'x')?;
    for (r, cells) in rows {
        b.row(u64::from(r) + 1, &to_row(&cells))?;
    }
    Ok(b.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hospital_headers_and_delimiters() {
        let csv = "Manufacturer;Model Number;Serial Number;Asset Tag;MAC Address;IP Address;Department;Software Version\n\
                   BD;Alaris PC 8015;S1;A-1;00-1A-2B-3C-4D-5E;10.0.0.5;ICU 3;9.19\n\
                   ;;;;;;;\n\
                   Philips;;S2;A-2;nonsense;;ED;\n\
                   ;;S3;A-3;;;ED;\n\
                   Baxter;Sigma Spectrum\n\
                   GE;B450;S4;A-4;;;ICU;1.0;;\n";
        let i = parse("c.csv", csv.as_bytes()).unwrap();
        assert_eq!(i.delimiter, ';');
        assert_eq!(i.rows.len(), 2, "{:?}", i.problems);
        let r = &i.rows[0];
        assert_eq!(
            (r.vendor.as_str(), r.model.as_str(), r.firmware.as_str()),
            ("BD", "Alaris PC 8015", "9.19")
        );
        assert_eq!(
            (
                r.mac.as_str(),
                r.ip.as_str(),
                r.location.as_str(),
                r.asset_tag.as_str()
            ),
            ("00:1a:2b:3c:4d:5e", "10.0.0.5", "ICU 3", "A-1")
        );
        assert_eq!(r.line, 2);
        assert_eq!(i.skipped, 3);
        assert!(
            i.problems[0].starts_with("c.csv:4: skipped: MAC address \"nonsense\""),
            "{:?}",
            i.problems
        );
        assert_eq!(
            i.problems[1],
            "c.csv:5: skipped: no manufacturer and no model"
        );
        assert_eq!(
            i.problems[2],
            "c.csv:6: skipped: 2 fields, the header has 8"
        );
        assert_eq!(
            i.rows[1].model, "B450",
            "empty trailing fields are not fields"
        );
        let tsv = "Vendor\tModel\tFirmware\nDräger\tInfinity Delta\tVF9.1\n";
        let i = parse("t.tsv", tsv.as_bytes()).unwrap();
        assert_eq!((i.delimiter, i.rows[0].vendor.as_str()), ('\t', "Dräger"));
        let comma = "\u{feff}Make,\"Model, name\",Serial\nGE,\"CARESCAPE B450\",X\n";
        let i = parse("m.csv", comma.as_bytes()).unwrap();
        assert_eq!(
            (i.delimiter, i.rows[0].model.as_str()),
            (',', "CARESCAPE B450")
        );
    }

    #[test]
    fn declared_backup_plan_columns() {
        let csv = "Manufacturer,Model,Serial,Backup Method,Backup Destination,Last Verified Restore,Backup Location\n\
                   Siemens,SOMATOM,S1,DICOM to PACS,PACS_MAIN,2025-11-02,\n\
                   GE,LOGIQ E10,S2,,,,\n\
                   Sysmex,XN-1000,S3,<b>Veeam</b>,,,vault-2\n";
        let i = parse("c.csv", csv.as_bytes()).unwrap();
        assert_eq!(i.rows.len(), 3, "{:?}", i.problems);
        let r = &i.rows[0];
        assert_eq!(
            (
                r.backup_method.as_str(),
                r.backup_destination.as_str(),
                r.last_restore.as_str()
            ),
            ("DICOM to PACS", "PACS_MAIN", "2025-11-02")
        );
        // "Last ..." is a descriptive word: the restore column must come from
        // its exact name, and "Backup Location" is no location.
        assert_eq!(r.location, "");
        assert!(i.rows[1].backup_method.is_empty() && i.rows[1].last_restore.is_empty());
        // Kept as written (the importer cleans before storing, pages escape).
        assert_eq!(i.rows[2].backup_method, "<b>Veeam</b>");
        assert_eq!(i.rows[2].backup_destination, "vault-2");
    }

    #[test]
    fn other_hospitals_headers_and_a_title_row() {
        let csv = "Equipment Listing - printed 2026-11-30\n\
                   \n\
                   Equip #,Mfr Name,Manufacturer Model No.,Model Description,S/N,FW Rev,Dept. Name,IP Addr,Equipment Type\n\
                   00417,CAREFUSION 303 INC,8015,PC UNIT,1234,9.19.2,ICU,10.1.2.3,INFUSION PUMP\n";
        let i = parse("h.csv", csv.as_bytes()).unwrap();
        assert_eq!(i.delimiter, ',');
        assert!(i.problems.is_empty(), "{:?}", i.problems);
        let r = &i.rows[0];
        assert_eq!(
            (
                r.asset_tag.as_str(),
                r.vendor.as_str(),
                r.model.as_str(),
                r.serial.as_str(),
                r.firmware.as_str(),
                r.location.as_str(),
                r.ip.as_str()
            ),
            (
                "00417",
                "CAREFUSION 303 INC",
                "8015",
                "1234",
                "9.19.2",
                "ICU",
                "10.1.2.3"
            )
        );
        assert_eq!(r.line, 4);
        assert_eq!(field_of_words("Software Rev."), Some(Field::Firmware));
        assert_eq!(field_of_words("Control No."), Some(Field::AssetTag));
        assert_eq!(field_of_words("Host Name"), Some(Field::Hostname));
        assert_eq!(field_of_words("Equipment Type"), None);
        assert_eq!(field_of_words("Last PM Date"), None);
    }

    #[test]
    fn refuses_files_without_the_columns() {
        let e = parse("x.csv", b"a,b,c\n1,2,3\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "x.csv: line 1: the header has no manufacturer/vendor or model column (found: a, b, c)"
        );
        assert!(parse("e.csv", b"").is_err());
        assert!(parse("z.xlsx", b"PK\x03\x04garbage")
            .unwrap_err()
            .to_string()
            .contains("not a readable xlsx"));
    }

    #[test]
    fn mac_forms() {
        for m in [
            "00:1a:2b:3c:4d:5e",
            "00-1A-2B-3C-4D-5E",
            "001a.2b3c.4d5e",
            "001A2B3C4D5E",
        ] {
            assert_eq!(
                normalize_mac(m).as_deref(),
                Some("00:1a:2b:3c:4d:5e"),
                "{m}"
            );
        }
        assert_eq!(normalize_mac("00:1a:2b"), None);
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let mut seed = 7u64;
        for n in 0..300 {
            let mut v = b"Manufacturer,Model,IP\n".to_vec();
            for _ in 0..n {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                v.push((seed >> 56) as u8);
            }
            let _ = parse("f.csv", &v);
            let mut z = b"PK\x03\x04".to_vec();
            z.extend_from_slice(&v);
            let _ = parse("f.xlsx", &z);
        }
    }
}
