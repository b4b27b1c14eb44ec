//! HR employees: CSV parsing and validation (`csv_parse`), and the import that upserts them in one
//! transaction and recomputes links (`import`). The GraphQL `upsertEmployees` mutation shares this path.

pub mod csv_parse;
pub mod import;

pub use csv_parse::{CsvFileError, EmployeeRow, ParsedCsv, RowError, parse_employees};
pub use import::{ImportError, ImportOptions, ImportReport, import_rows};
