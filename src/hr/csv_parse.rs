//! Parsing and validation of the HR employee CSV (DESIGN.md "HR employee CSV"); pure, no database.
//!
//! The file comes from a spreadsheet, so this module is forgiving about what spreadsheets do (a UTF-8 BOM,
//! CRLF line endings, header names in any case, extra columns, blank lines, padded cells) and strict about
//! what would corrupt the import (missing or duplicate codes, unknown statuses, malformed emails, text that
//! is not UTF-8, rows whose cells do not line up with the header). Row problems are collected, all of them,
//! with the physical line a spreadsheet user sees, so one pass tells HR everything to fix; the caller decides
//! whether any error blocks the import (by default it does). Only a file that cannot be read as a table at
//! all is a [`CsvFileError`].

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use crate::reconcile::keys::{is_blank, trim_blank};

pub use crate::domain::EmployeeStatus;

/// One valid employee row. Text is kept as written, trimmed; empty cells are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeRow {
    /// Physical line (1-based, header included) where the row starts.
    pub line: u64,
    /// The employee's unique code in the HR system.
    pub employee_code: String,
    /// Full name, diacritics intact.
    pub full_name: Option<String>,
    /// Email as written (not lowercased); may be masked with `*`, which makes it unusable as a match key.
    pub email: Option<String>,
    /// Phone as written; normalised only when a match key is computed.
    pub phone: Option<String>,
    /// Department name.
    pub department: Option<String>,
    /// Employment status (`active` when the cell is empty).
    pub status: EmployeeStatus,
}

/// A problem with one row, naming the line and, when one cell is at fault, its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Physical line (1-based, header included) where the row starts.
    pub line: u64,
    /// The column at fault (its contract name, e.g. `email`); `None` when the row as a whole is.
    pub column: Option<String>,
    /// What is wrong, for a person to read.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column {}: {}", self.line, column, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for RowError {}

/// The outcome of parsing a readable file: the rows that passed every check and the errors of the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedCsv {
    /// Valid rows, in file order. A row with any error is left out.
    pub rows: Vec<EmployeeRow>,
    /// Every row error, in file order.
    pub errors: Vec<RowError>,
}

/// The file as a whole cannot be used: no row-level report is possible.
#[derive(Debug, thiserror::Error)]
pub enum CsvFileError {
    /// No bytes at all (a BOM alone counts as nothing).
    #[error("the file is empty")]
    Empty,
    /// Bytes, but only blank lines: there is no header row.
    #[error("the file has no header row (it holds only blank lines)")]
    NoHeader,
    /// A required column is not in the header row.
    #[error("the header row (line {line}) has no column \"{column}\"; columns found: {found:?}")]
    MissingColumn {
        /// Line of the header row.
        line: u64,
        /// The required column's name.
        column: &'static str,
        /// The header names as read (trimmed), so a user can spot a typo or a `;` separator.
        found: Vec<String>,
    },
    /// A known column appears twice, so which cell to read is ambiguous.
    #[error("the header row (line {line}) has the column \"{column}\" more than once")]
    DuplicateColumn {
        /// Line of the header row.
        line: u64,
        /// The repeated column's name.
        column: &'static str,
    },
    /// The file could not be read.
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV structure is broken from this line on (e.g. a quote that is never closed).
    #[error("line {line}: {message}")]
    Structure {
        /// Line where the broken record starts.
        line: u64,
        /// What is broken.
        message: String,
    },
}

/// The columns this module reads; every other column is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    EmployeeCode,
    FullName,
    Email,
    Phone,
    Department,
    Status,
}

impl Column {
    const ALL: [Column; 6] = [
        Column::EmployeeCode,
        Column::FullName,
        Column::Email,
        Column::Phone,
        Column::Department,
        Column::Status,
    ];

    /// The contract's header name, also used to name the column in errors.
    fn name(self) -> &'static str {
        match self {
            Column::EmployeeCode => "employee_code",
            Column::FullName => "full_name",
            Column::Email => "email",
            Column::Phone => "phone",
            Column::Department => "department",
            Column::Status => "status",
        }
    }
}

/// Where each known column sits in the header (field index), if present.
struct Layout {
    width: usize,
    index: [Option<usize>; Column::ALL.len()],
}

impl Layout {
    fn get(&self, column: Column) -> Option<usize> {
        self.index[column as usize]
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell as written before `export` guarded it against spreadsheets: the leading `'` that `export` puts
/// before `=`, `+`, `-`, `@`, a tab or a carriage return is dropped again, so an export re-imports
/// unchanged (`'+84 912 345 678` is the phone `+84 912 345 678`). Any other `'` is part of the value.
pub fn without_formula_guard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

/// Parses an HR employee CSV, returning valid rows and every row error, or why the whole file is unusable.
///
/// The input is read to the end first: HR files are small, and having the bytes lets line numbers be counted
/// exactly (see `LineCounter`) and an unclosed quote be detected.
pub fn parse_employees<R: Read>(mut reader: R) -> Result<ParsedCsv, CsvFileError> {
    let mut buf = Vec::new();
    reader.read_to_end(&mut buf)?;
    // Excel's "CSV UTF-8" starts with a BOM; left in, it would glue itself to the first header name.
    let data = buf.strip_prefix(UTF8_BOM).unwrap_or(&buf);
    if data.is_empty() {
        return Err(CsvFileError::Empty);
    }

    // Flexible: a row with the wrong number of fields is that row's error, not the file's.
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut lines = LineCounter::default();
    let mut record = csv::ByteRecord::new();
    let mut layout: Option<Layout> = None;
    let mut last_start = None;
    let mut parsed = ParsedCsv::default();
    // employee_code → line of its first occurrence, valid or not: a code repeated after a bad row is still a
    // duplicate the user has to resolve.
    let mut seen: HashMap<String, u64> = HashMap::new();

    while read_record(&mut csv, &mut record)? {
        let start = record_start(data, &record);
        let line = lines.line_at(data, start);
        last_start = Some((start, line));
        if record.iter().all(is_blank_field) {
            continue;
        }
        match &layout {
            None => layout = Some(read_header(&record, line)?),
            Some(layout) => {
                if let Some(row) = parse_row(&record, line, layout, &mut seen, &mut parsed.errors) {
                    parsed.rows.push(row);
                }
            }
        }
    }

    // csv-core reads an unclosed quote to the end of the input without complaint, which would silently turn
    // the rest of the file into one cell; such a quote can only be in the last record.
    if let Some((start, line)) = last_start
        && ends_inside_quotes(&data[start..])
    {
        return Err(CsvFileError::Structure {
            line,
            message: "a quoted cell is never closed (a \" is missing); every line after it would be read as part of that cell".to_owned(),
        });
    }
    if layout.is_none() {
        return Err(CsvFileError::NoHeader);
    }
    Ok(parsed)
}

/// Reads the next record, mapping the csv crate's errors to the file-level ones.
fn read_record(
    csv: &mut csv::Reader<&[u8]>,
    record: &mut csv::ByteRecord,
) -> Result<bool, CsvFileError> {
    csv.read_byte_record(record).map_err(|err| {
        let line = err.position().map_or(0, csv::Position::line);
        let message = err.to_string();
        match err.into_kind() {
            csv::ErrorKind::Io(io) => CsvFileError::Io(io),
            _ => CsvFileError::Structure { line, message },
        }
    })
}

/// Byte offset where the record's first cell starts.
///
/// The csv crate stamps a record with the reader's position *before* it skips the blank lines and the `\n`
/// of a CRLF left over from the previous record, so its line would be too early; skip those bytes here.
fn record_start(data: &[u8], record: &csv::ByteRecord) -> usize {
    let from = record
        .position()
        .and_then(|p| usize::try_from(p.byte()).ok())
        .unwrap_or(0)
        .min(data.len());
    data[from..]
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .map_or(data.len(), |skip| from + skip)
}

/// Counts physical lines (`\n`, `\r\n` or a lone `\r` ends one) up to an offset, moving forward only, so the
/// whole file is scanned once however many records it has.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    breaks: u64,
}

impl LineCounter {
    /// 1-based line of byte `target`; `target` must not go backwards between calls.
    fn line_at(&mut self, data: &[u8], target: usize) -> u64 {
        let target = target.min(data.len());
        while self.offset < target {
            match data[self.offset] {
                b'\n' => self.breaks += 1,
                b'\r' if data.get(self.offset + 1) != Some(&b'\n') => self.breaks += 1,
                _ => {}
            }
            self.offset += 1;
        }
        self.breaks + 1
    }
}

/// True when the bytes (one record through to the end of the input) leave a quoted cell open, following
/// RFC 4180 as csv-core reads it: a quote opens a quoted cell only at the start of a cell, and `""` inside
/// one is an escaped quote.
fn ends_inside_quotes(bytes: &[u8]) -> bool {
    let mut in_quotes = false;
    let mut at_cell_start = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else if b == b'"' && at_cell_start {
            in_quotes = true;
            at_cell_start = false;
        } else {
            at_cell_start = matches!(b, b',' | b'\r' | b'\n');
        }
        i += 1;
    }
    in_quotes
}

/// A cell that holds nothing a person could see; a row of only such cells is a blank line.
fn is_blank_field(field: &[u8]) -> bool {
    // Non-UTF-8 bytes are content, so decode lossily: they become U+FFFD, which is not blank.
    trim_blank(&String::from_utf8_lossy(field)).is_empty()
}

/// Why a list of column names (a CSV header, the columns of an HR query) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnsError {
    /// `employee_code` is not among them.
    Missing(&'static str),
    /// A known column appears twice.
    Duplicate(&'static str),
}

/// Where each known column (`employee_code`, `full_name`, `email`, `phone`, `department`, `status`, in
/// that order) sits among `names`, matched case-insensitively; the others are ignored.
pub fn locate_columns(names: &[String]) -> Result<[Option<usize>; 6], ColumnsError> {
    let mut index = [None; Column::ALL.len()];
    for column in Column::ALL {
        let mut positions = names
            .iter()
            .enumerate()
            .filter(|(_, name)| trim_blank(name).to_lowercase() == column.name())
            .map(|(i, _)| i);
        index[column as usize] = positions.next();
        if positions.next().is_some() {
            return Err(ColumnsError::Duplicate(column.name()));
        }
    }
    if index[Column::EmployeeCode as usize].is_none() {
        return Err(ColumnsError::Missing(Column::EmployeeCode.name()));
    }
    Ok(index)
}

/// Finds the known columns in the header row.
fn read_header(record: &csv::ByteRecord, line: u64) -> Result<Layout, CsvFileError> {
    // Lossy: a header cell that is not UTF-8 cannot be one of ours, and is then simply an ignored column.
    let names: Vec<String> = record
        .iter()
        .map(|cell| trim_blank(&String::from_utf8_lossy(cell)).to_owned())
        .collect();
    let index = locate_columns(&names).map_err(|err| match err {
        ColumnsError::Missing(column) => CsvFileError::MissingColumn {
            line,
            column,
            found: names.clone(),
        },
        ColumnsError::Duplicate(column) => CsvFileError::DuplicateColumn { line, column },
    })?;
    Ok(Layout {
        width: names.len(),
        index,
    })
}

/// Validates one data row; pushes its errors and returns it only when it has none.
fn parse_row(
    record: &csv::ByteRecord,
    line: u64,
    layout: &Layout,
    seen: &mut HashMap<String, u64>,
    errors: &mut Vec<RowError>,
) -> Option<EmployeeRow> {
    let error = |column: Option<Column>, message: String| RowError {
        line,
        column: column.map(|c| c.name().to_owned()),
        message,
    };
    if record.len() != layout.width {
        // The cells no longer line up with the header (typically an unquoted comma in a name), so reading
        // them by position would put values in the wrong columns: report the row once and read no further.
        errors.push(error(
            None,
            format!(
                "expected {} cells as in the header, found {} (a comma inside a value must be quoted)",
                layout.width,
                record.len()
            ),
        ));
        return None;
    }

    // Outer None: the cell is not UTF-8 (already reported, so the checks below skip it rather than also
    // calling it missing); inner None: the cell is empty or the column absent.
    let mut cell = |column: Column| -> Option<Option<String>> {
        let Some(raw) = layout.get(column).and_then(|i| record.get(i)) else {
            return Some(None);
        };
        match std::str::from_utf8(raw) {
            Ok(text) => Some(
                Some(trim_blank(without_formula_guard(trim_blank(text))))
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            ),
            Err(err) => {
                let at = err.valid_up_to();
                errors.push(error(
                    Some(column),
                    format!(
                        "not UTF-8 text (byte 0x{:02X} at position {}); save the file as \"CSV UTF-8\"",
                        raw.get(at).copied().unwrap_or_default(),
                        at + 1
                    ),
                ));
                None
            }
        }
    };
    let cells = Column::ALL.map(&mut cell);
    // An undecodable cell is None here, which makes check_cells skip its checks and return no row.
    check_cells(line, cells, seen, errors)
}

/// One employee as given through the API (GraphQL `upsertEmployees`), before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEmployee {
    pub employee_code: Option<String>,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub department: Option<String>,
    pub status: Option<String>,
}

/// Validates API rows with exactly the rules of CSV rows; errors name the 1-based position of the row as
/// their `line`.
pub fn validate_rows(rows: impl IntoIterator<Item = RawEmployee>) -> ParsedCsv {
    let mut validator = RowValidator::default();
    for (index, raw) in rows.into_iter().enumerate() {
        validator.push(index as u64 + 1, raw);
    }
    validator.finish()
}

/// Validates rows one at a time with exactly the rules of CSV rows, for sources that stream them (an HR
/// query): only the valid rows are kept, never the raw ones.
#[derive(Debug, Default)]
pub struct RowValidator {
    parsed: ParsedCsv,
    seen: HashMap<String, u64>,
}

impl RowValidator {
    /// Checks one row; `line` names it in errors.
    pub fn push(&mut self, line: u64, raw: RawEmployee) {
        let clean = |value: Option<String>| {
            Some(
                value
                    .map(|v| trim_blank(&v).to_owned())
                    .filter(|v| !v.is_empty()),
            )
        };
        let cells = [
            clean(raw.employee_code),
            clean(raw.full_name),
            clean(raw.email),
            clean(raw.phone),
            clean(raw.department),
            clean(raw.status),
        ];
        if let Some(row) = check_cells(line, cells, &mut self.seen, &mut self.parsed.errors) {
            self.parsed.rows.push(row);
        }
    }

    /// The valid rows and every error, in input order.
    pub fn finish(self) -> ParsedCsv {
        self.parsed
    }
}

/// The row checks shared by CSV and API input. Each cell is `None` when it could not be decoded (already
/// reported), `Some(None)` when empty, in `Column::ALL` order.
fn check_cells(
    line: u64,
    cells: [Option<Option<String>>; 6],
    seen: &mut HashMap<String, u64>,
    errors: &mut Vec<RowError>,
) -> Option<EmployeeRow> {
    let error = |column: Option<Column>, message: String| RowError {
        line,
        column: column.map(|c| c.name().to_owned()),
        message,
    };
    let before = errors.len();
    let [code, full_name, email, phone, department, status] = cells;
    match &code {
        Some(None) => errors.push(error(
            Some(Column::EmployeeCode),
            "missing employee_code".to_owned(),
        )),
        Some(Some(code)) => match seen.get(code) {
            Some(first) => errors.push(error(
                Some(Column::EmployeeCode),
                format!("duplicate employee_code \"{code}\" (first on line {first})"),
            )),
            None => {
                seen.insert(code.clone(), line);
            }
        },
        None => {}
    }
    let status = match status {
        Some(Some(written)) => match written.to_lowercase().as_str() {
            "active" => Some(EmployeeStatus::Active),
            "terminated" => Some(EmployeeStatus::Terminated),
            _ => {
                errors.push(error(
                    Some(Column::Status),
                    format!(
                        "unknown status \"{written}\"; accepted values: active, terminated (empty means active)"
                    ),
                ));
                None
            }
        },
        Some(None) => Some(EmployeeStatus::Active),
        None => None,
    };
    if let Some(Some(email)) = &email
        && !is_acceptable_email(email)
    {
        errors.push(error(
            Some(Column::Email),
            format!("malformed email \"{email}\""),
        ));
    }

    if errors.len() != before {
        return None;
    }
    Some(EmployeeRow {
        line,
        employee_code: code.flatten()?,
        full_name: full_name?,
        email: email?,
        phone: phone?,
        department: department?,
        status: status?,
    })
}

/// A present email must be `local@domain` with both parts non-empty and no whitespace inside. A masked email
/// (containing `*`, as CareSoft exports show them) is accepted as is: it is a fact about the row, only
/// unusable as a match key later.
fn is_acceptable_email(email: &str) -> bool {
    if email.contains('*') {
        return true;
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty() && !domain.is_empty() && !email.chars().any(is_blank)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "employee_code,full_name,email,phone,department,status\n";

    fn parse(input: &[u8]) -> ParsedCsv {
        match parse_employees(input) {
            Ok(parsed) => parsed,
            Err(err) => panic!("file rejected: {err}"),
        }
    }

    fn row(line: u64, code: &str) -> EmployeeRow {
        EmployeeRow {
            line,
            employee_code: code.to_owned(),
            full_name: None,
            email: None,
            phone: None,
            department: None,
            status: EmployeeStatus::Active,
        }
    }

    fn error_lines(parsed: &ParsedCsv) -> Vec<String> {
        parsed.errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_full_row_is_read_with_vietnamese_text_intact() {
        let input = format!(
            "{HEADER}E001,Đặng Phương Thu Thảo,thao.dpt@corp.vn,0336 842 288,Phòng Chăm sóc khách hàng,active\n"
        );
        let parsed = parse(input.as_bytes());
        assert_eq!(parsed.errors, vec![]);
        assert_eq!(
            parsed.rows,
            vec![EmployeeRow {
                line: 2,
                employee_code: "E001".into(),
                full_name: Some("Đặng Phương Thu Thảo".into()),
                email: Some("thao.dpt@corp.vn".into()),
                phone: Some("0336 842 288".into()),
                department: Some("Phòng Chăm sóc khách hàng".into()),
                status: EmployeeStatus::Active,
            }]
        );
    }

    #[test]
    fn header_variants_are_accepted() {
        // (case, input, expected code and email of the single row on line 2)
        let cases: &[(&str, &str)] = &[
            ("plain", "employee_code,email\nE1,a@b.vn\n"),
            ("bom", "\u{FEFF}employee_code,email\nE1,a@b.vn\n"),
            (
                "bom and padding",
                "\u{FEFF} Employee_Code ,\u{00A0}EMAIL\u{00A0}\nE1,a@b.vn\n",
            ),
            ("mixed case", "EMPLOYEE_CODE,Email\nE1,a@b.vn\n"),
            (
                "extra columns",
                "note,employee_code,manager,email,\nx,E1,y,a@b.vn,\n",
            ),
            ("reordered", "email,status,employee_code\na@b.vn,,E1\n"),
            ("crlf", "employee_code,email\r\nE1,a@b.vn\r\n"),
            ("no final newline", "employee_code,email\nE1,a@b.vn"),
            ("only the code column", "employee_code\nE1\n"),
        ];
        for (case, input) in cases {
            let parsed = parse(input.as_bytes());
            assert_eq!(parsed.errors, vec![], "{case}");
            assert_eq!(parsed.rows.len(), 1, "{case}");
            assert_eq!(parsed.rows[0].line, 2, "{case}");
            assert_eq!(parsed.rows[0].employee_code, "E1", "{case}");
            let want_email = (*case != "only the code column").then(|| "a@b.vn".to_owned());
            assert_eq!(parsed.rows[0].email, want_email, "{case}");
        }
    }

    #[test]
    fn the_export_guard_is_dropped_and_other_quotes_kept() {
        for (cell, read) in [
            (
                "'=HYPERLINK(\"http://x\",\"Bấm\")",
                "=HYPERLINK(\"http://x\",\"Bấm\")",
            ),
            ("'+84 912 345 678", "+84 912 345 678"),
            ("'-1", "-1"),
            ("'@ops", "@ops"),
            ("'Tis", "'Tis"),
            ("''=x", "''=x"),
            ("'", "'"),
            ("plain", "plain"),
        ] {
            assert_eq!(without_formula_guard(cell), read, "{cell:?}");
        }
    }

    #[test]
    fn cells_are_trimmed_and_empty_cells_are_none() {
        let input = format!("{HEADER}\u{00A0}E1\u{00A0},  , \u{200B} ,\t,\u{3000}Sales\u{3000},\n");
        let parsed = parse(input.as_bytes());
        assert_eq!(parsed.errors, vec![]);
        assert_eq!(
            parsed.rows,
            vec![EmployeeRow {
                department: Some("Sales".into()),
                ..row(2, "E1")
            }]
        );
    }

    #[test]
    fn quoting_follows_rfc_4180_and_later_lines_stay_right() {
        let input = concat!(
            "employee_code,full_name,department\r\n",
            "E1,\"Nguyễn, Văn An\",\"Phòng \"\"VIP\"\"\"\r\n",
            "E2,\"Trần Thị\r\nBình\",\"Kho\nvận\"\r\n",
            "E3,Lê Văn C,\r\n",
        );
        let parsed = parse(input.as_bytes());
        assert_eq!(parsed.errors, vec![]);
        let got: Vec<_> = parsed
            .rows
            .iter()
            .map(|r| {
                (
                    r.line,
                    r.employee_code.as_str(),
                    r.full_name.as_deref(),
                    r.department.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "E1", Some("Nguyễn, Văn An"), Some("Phòng \"VIP\"")),
                (3, "E2", Some("Trần Thị\r\nBình"), Some("Kho\nvận")),
                // E2 spans lines 3 to 5: one break in each quoted cell.
                (6, "E3", Some("Lê Văn C"), None),
            ]
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_do_not_shift_line_numbers() {
        let cases: &[(&str, &str, &[u64])] = &[
            (
                "lf",
                "\n\nemployee_code,status\n\nE1,\n,\n \n\nE2,\n",
                &[5, 9],
            ),
            (
                "crlf",
                "\r\n\r\nemployee_code,status\r\n\r\nE1,\r\n,\r\n \r\n\r\nE2,\r\n",
                &[5, 9],
            ),
            ("cr only", "employee_code\rE1\r\rE2\r", &[2, 4]),
        ];
        for (case, input, want) in cases {
            let parsed = parse(input.as_bytes());
            assert_eq!(parsed.errors, vec![], "{case}");
            let lines: Vec<u64> = parsed.rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, *want, "{case}");
        }
    }

    #[test]
    fn status_defaults_to_active_and_ignores_case() {
        let cases: &[(&str, EmployeeStatus)] = &[
            ("", EmployeeStatus::Active),
            ("  ", EmployeeStatus::Active),
            ("active", EmployeeStatus::Active),
            ("Active", EmployeeStatus::Active),
            (" ACTIVE ", EmployeeStatus::Active),
            ("terminated", EmployeeStatus::Terminated),
            ("Terminated", EmployeeStatus::Terminated),
            ("TERMINATED\u{00A0}", EmployeeStatus::Terminated),
        ];
        for (cell, want) in cases {
            let input = format!("employee_code,status\nE1,{cell}\n");
            let parsed = parse(input.as_bytes());
            assert_eq!(parsed.errors, vec![], "status {cell:?}");
            assert_eq!(parsed.rows[0].status, *want, "status {cell:?}");
        }
    }

    #[test]
    fn emails_are_checked_but_masked_ones_are_kept() {
        let cases: &[(&str, Option<&str>)] = &[
            ("a@b.vn", None),
            ("Thu.Thao+cskh@Corp.VN", None),
            ("th***@corp.vn", None),
            ("***", None),
            ("a@@b", Some("malformed email \"a@@b\"")),
            ("a@b@c", Some("malformed email \"a@b@c\"")),
            ("ab.vn", Some("malformed email \"ab.vn\"")),
            ("@b.vn", Some("malformed email \"@b.vn\"")),
            ("a@", Some("malformed email \"a@\"")),
            ("a b@c.vn", Some("malformed email \"a b@c.vn\"")),
            (
                "a@c\u{00A0}d.vn",
                Some("malformed email \"a@c\u{00A0}d.vn\""),
            ),
            (
                "a@c\u{200B}d.vn",
                Some("malformed email \"a@c\u{200B}d.vn\""),
            ),
        ];
        for (cell, want) in cases {
            let input = format!("employee_code,email\nE1,\"{cell}\"\n");
            let parsed = parse(input.as_bytes());
            match want {
                None => {
                    assert_eq!(parsed.errors, vec![], "email {cell:?}");
                    assert_eq!(
                        parsed.rows[0].email.as_deref(),
                        Some(*cell),
                        "email {cell:?}"
                    );
                }
                Some(message) => {
                    assert_eq!(
                        parsed.errors,
                        vec![RowError {
                            line: 2,
                            column: Some("email".into()),
                            message: (*message).into()
                        }],
                        "email {cell:?}"
                    );
                    assert_eq!(parsed.rows, vec![], "email {cell:?}");
                }
            }
        }
    }

    #[test]
    fn every_row_error_kind_names_its_line_and_column() {
        let cases: &[(&str, &[u8], &[&str])] = &[
            (
                "missing code",
                b"employee_code,email\n,a@b.vn\n",
                &["line 2, column employee_code: missing employee_code"],
            ),
            (
                "duplicate code",
                b"employee_code\nE001\nE002\nE001\n",
                &[
                    "line 4, column employee_code: duplicate employee_code \"E001\" (first on line 2)",
                ],
            ),
            (
                "unknown status",
                b"employee_code,status\nE1,left\n",
                &[
                    "line 2, column status: unknown status \"left\"; accepted values: active, terminated (empty means active)",
                ],
            ),
            (
                "malformed email",
                b"employee_code,email\nE1,a@@b\n",
                &["line 2, column email: malformed email \"a@@b\""],
            ),
            (
                "latin-1 name",
                b"employee_code,full_name\nE1,Nguy\xeAn\n",
                &[
                    "line 2, column full_name: not UTF-8 text (byte 0xEA at position 5); save the file as \"CSV UTF-8\"",
                ],
            ),
            (
                "latin-1 code is not also reported missing",
                b"employee_code\n\xc9001\n",
                &[
                    "line 2, column employee_code: not UTF-8 text (byte 0xC9 at position 1); save the file as \"CSV UTF-8\"",
                ],
            ),
            (
                "too few cells",
                b"employee_code,full_name,email\nE1,An\n",
                &[
                    "line 2: expected 3 cells as in the header, found 2 (a comma inside a value must be quoted)",
                ],
            ),
            (
                "too many cells",
                b"employee_code,full_name,email\nE1,Nguyen, Van An,a@b.vn\n",
                &[
                    "line 2: expected 3 cells as in the header, found 4 (a comma inside a value must be quoted)",
                ],
            ),
        ];
        for (case, input, want) in cases {
            let parsed = parse(input);
            assert_eq!(error_lines(&parsed), *want, "{case}");
            let bad_lines: Vec<u64> = parsed.errors.iter().map(|e| e.line).collect();
            assert!(
                parsed.rows.iter().all(|r| !bad_lines.contains(&r.line)),
                "{case}: a bad row was kept"
            );
        }
    }

    #[test]
    fn non_utf8_in_an_ignored_column_is_not_an_error() {
        let parsed = parse(b"employee_code,note\nE1,caf\xe9\n");
        assert_eq!(parsed.errors, vec![]);
        assert_eq!(parsed.rows, vec![row(2, "E1")]);
    }

    #[test]
    fn all_errors_are_reported_together_and_good_rows_are_kept() {
        let input: &[u8] = concat!(
            "\u{FEFF}employee_code,full_name,email,status\r\n",
            "E001,\"Đặng, Thu Thảo\",thao@corp.vn,\r\n",
            ",No Code,nocode@corp.vn,active\r\n",
            "E002,\"Hai\r\nLines\",x@@y,retired\r\n",
            "E001,Again,again@corp.vn,terminated\r\n",
            "E003,Short\r\n",
            "E004,Fine,,Terminated\r\n",
            "E002,Dup Of Bad Row,,\r\n",
        )
        .as_bytes();
        let parsed = parse(input);
        assert_eq!(
            error_lines(&parsed),
            vec![
                "line 3, column employee_code: missing employee_code",
                "line 4, column status: unknown status \"retired\"; accepted values: active, terminated (empty means active)",
                "line 4, column email: malformed email \"x@@y\"",
                "line 6, column employee_code: duplicate employee_code \"E001\" (first on line 2)",
                "line 7: expected 4 cells as in the header, found 2 (a comma inside a value must be quoted)",
                "line 9, column employee_code: duplicate employee_code \"E002\" (first on line 4)",
            ]
        );
        let got: Vec<_> = parsed
            .rows
            .iter()
            .map(|r| (r.line, r.employee_code.as_str(), r.status))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "E001", EmployeeStatus::Active),
                (8, "E004", EmployeeStatus::Terminated)
            ]
        );
    }

    #[test]
    fn unusable_files_are_rejected_whole() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("empty", b"", "the file is empty"),
            ("bom only", b"\xEF\xBB\xBF", "the file is empty"),
            (
                "blank lines only",
                b"\r\n\n  \n,,\n",
                "the file has no header row (it holds only blank lines)",
            ),
            (
                "no employee_code",
                b"code,full_name\nE1,An\n",
                "the header row (line 1) has no column \"employee_code\"; columns found: [\"code\", \"full_name\"]",
            ),
            (
                "semicolon separated",
                b"employee_code;full_name\nE1;An\n",
                "the header row (line 1) has no column \"employee_code\"; columns found: [\"employee_code;full_name\"]",
            ),
            (
                "repeated column",
                b"employee_code,Email,email\nE1,a@b.vn,c@d.vn\n",
                "the header row (line 1) has the column \"email\" more than once",
            ),
            (
                "unclosed quote",
                b"employee_code,full_name\nE1,An\nE2,\"Binh\nE3,Chi\n",
                "line 3: a quoted cell is never closed (a \" is missing); every line after it would be read as part of that cell",
            ),
        ];
        for (case, input, want) in cases {
            match parse_employees(*input) {
                Ok(parsed) => panic!("{case}: accepted: {parsed:?}"),
                Err(err) => assert_eq!(err.to_string(), *want, "{case}"),
            }
        }
    }

    #[test]
    fn missing_column_error_names_the_column() {
        let err = parse_employees(&b"name\nAn\n"[..]).err();
        assert!(
            matches!(
                err,
                Some(CsvFileError::MissingColumn {
                    line: 1,
                    column: "employee_code",
                    ..
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn read_failures_are_io_errors() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk gone"))
            }
        }
        let err = parse_employees(Broken).err();
        assert!(matches!(err, Some(CsvFileError::Io(_))), "{err:?}");
    }

    #[test]
    fn quotes_that_close_properly_are_not_flagged() {
        let cases: &[&[u8]] = &[
            b"employee_code,full_name\nE1,\"An \"\"Bo\"\"\"\n",
            b"employee_code,full_name\nE1,5\" screen\n",
            b"employee_code,full_name\nE1,\"\"\n",
        ];
        for input in cases {
            assert!(
                parse_employees(*input).is_ok(),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
