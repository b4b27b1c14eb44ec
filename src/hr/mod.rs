//! HR employees: CSV parsing and validation (`csv_parse`), the import that upserts them in one
//! transaction and recomputes links (`import`; the GraphQL `upsertEmployees` mutation shares it), and the
//! HR source read where it lives (`source`) and pulled on a schedule (`pull`).

pub mod csv_parse;
pub mod import;
pub mod pull;
pub mod source;

pub use csv_parse::{CsvFileError, EmployeeRow, ParsedCsv, RowError, parse_employees};
pub use import::{ApplyError, ImportError, ImportOptions, ImportReport, import_rows};
pub use pull::{HrPull, HrPuller};
pub use source::{HrSource, HrSourceError};
