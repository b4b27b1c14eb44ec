//! The enterprise's HR table, read where it lives (DESIGN.md part 2, "HR where it lives"): a query on its
//! own database (`HR_DATABASE_URL` + `HR_QUERY`: PostgreSQL, MySQL, MariaDB or SQLite), or a CSV file an
//! HR system drops (`HR_FILE`). This module only reads; what a pull applies is [`super::pull`].
//!
//! A query runs read-only (a `READ ONLY` transaction on PostgreSQL and MySQL, `mode=ro` on SQLite), under
//! a statement timeout set in the engine (`statement_timeout` on PostgreSQL, `max_statement_time` on
//! MariaDB, `max_execution_time` on MySQL, a progress handler on SQLite) and one on the client, on a connection of its own that is
//! closed after each pull. Its rows are streamed and validated one at a time, so only the valid rows are
//! ever held, never the raw result. Columns are found by name, case-insensitively; a column may be of any
//! type that reads as text or as an integer, and NULL is an empty cell.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::TryStreamExt as _;
use sea_orm::sqlx::{Column as _, Row as _, TypeInfo as _};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DbErr, QueryResult, Statement, StreamTrait, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};

use super::csv_parse::{ColumnsError, ParsedCsv, RawEmployee, RowValidator, locate_columns};

/// Where the HR table lives.
#[derive(Debug, Clone)]
pub enum HrSource {
    /// A query on the enterprise's database.
    Database(DatabaseSource),
    /// A CSV file in the HR CSV format.
    File(PathBuf),
}

/// `HR_DATABASE_URL`, `HR_QUERY` and `HR_QUERY_TIMEOUT`.
#[derive(Debug, Clone)]
pub struct DatabaseSource {
    url: SecretString,
    engine: Engine,
    query: String,
    timeout: Duration,
}

/// The engines an HR database may run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    /// MySQL or MariaDB: told apart at each pull, since they bound a statement differently.
    MySql,
    Sqlite,
}

impl Engine {
    /// The engine of a connection URL, by its scheme.
    pub fn of_url(url: &str) -> Option<Engine> {
        let scheme = url.split_once("://")?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Some(Engine::Postgres),
            "mysql" | "mariadb" => Some(Engine::MySql),
            "sqlite" => Some(Engine::Sqlite),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::MySql => "MySQL/MariaDB",
            Engine::Sqlite => "SQLite",
        }
    }
}

/// Why a source could not be read. Nothing is changed when it cannot.
#[derive(Debug, thiserror::Error)]
pub enum HrSourceError {
    #[error("cannot connect to the HR database (HR_DATABASE_URL, {engine}): {reason}")]
    Connect {
        engine: &'static str,
        reason: String,
    },
    #[error("HR_QUERY failed: {0}")]
    Query(String),
    #[error(
        "HR_QUERY did not finish within {} (HR_QUERY_TIMEOUT)",
        humantime::format_duration(*.0)
    )]
    Timeout(Duration),
    #[error(
        "HR_QUERY returned no column \"employee_code\"; the columns it returned: {}. Name the employee code \
         column with `AS employee_code`", .found.join(", ")
    )]
    MissingColumn { found: Vec<String> },
    #[error("HR_QUERY returned the column \"{0}\" more than once")]
    DuplicateColumn(&'static str),
    #[error(
        "HR_QUERY's column \"{column}\" is of type {type_name}, which reads as neither text nor an integer; \
         convert it in the query (CAST it to text, or map a flag with CASE WHEN … THEN 'terminated' ELSE 'active' END)"
    )]
    UnreadableColumn { column: String, type_name: String },
    #[error("HR_FILE {path}: {reason}")]
    File { path: String, reason: String },
}

/// Which setting of a database source is unusable, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingError {
    /// `HR_DATABASE_URL`.
    Url(String),
    /// `HR_QUERY`.
    Query(String),
}

impl DatabaseSource {
    /// A source of `query` on the database at `url`; `Err` names what is wrong with either.
    pub fn new(url: SecretString, query: String, timeout: Duration) -> Result<Self, SettingError> {
        let engine = Engine::of_url(url.expose_secret()).ok_or_else(|| {
            SettingError::Url(
                "expected a postgres://, mysql:// (MySQL and MariaDB) or sqlite:// URL".to_string(),
            )
        })?;
        check_one_select(&query).map_err(SettingError::Query)?;
        Ok(Self {
            url,
            engine,
            query,
            timeout,
        })
    }

    /// The engine the URL names.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Runs the query and validates its rows as CSV rows are (line = row number of the result).
    #[tracing::instrument(skip_all, fields(engine = self.engine.name()))]
    pub async fn read(&self) -> Result<ParsedCsv, HrSourceError> {
        // The server's timeout cancels the statement; the client's, a little later, also covers the connect
        // and an engine (SQLite) that has none.
        let backstop = self.timeout + Duration::from_secs(5);
        match tokio::time::timeout(backstop, self.connect_and_read()).await {
            Ok(result) => result,
            Err(_) => Err(HrSourceError::Timeout(self.timeout)),
        }
    }

    async fn connect_and_read(&self) -> Result<ParsedCsv, HrSourceError> {
        let url = match self.engine {
            Engine::Sqlite => read_only_sqlite_url(self.url.expose_secret()),
            _ => self.url.expose_secret().to_string(),
        };
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(1)
            .min_connections(0)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        let db = Database::connect(options)
            .await
            .map_err(|err| HrSourceError::Connect {
                engine: self.engine.name(),
                reason: db_message(&err),
            })?;
        let result = self.read_rows(&db).await;
        if let Err(err) = db.close().await {
            tracing::debug!(error = %err, "closing the HR database connection");
        }
        result
    }

    async fn read_rows(&self, db: &DatabaseConnection) -> Result<ParsedCsv, HrSourceError> {
        let query_failed = |err: DbErr| self.query_error(err);
        // One connection in the pool: the session settings below apply to the transaction after them.
        if self.engine == Engine::MySql {
            let version = db
                .query_one_raw(Statement::from_string(
                    DatabaseBackend::MySql,
                    "SELECT VERSION()",
                ))
                .await
                .map_err(query_failed)?
                .and_then(|row| row.try_get_by_index::<String>(0).ok())
                .unwrap_or_default();
            let limit = if version.contains("MariaDB") {
                format!(
                    "SET SESSION max_statement_time = {:.3}",
                    self.timeout.as_secs_f64()
                )
            } else {
                format!(
                    "SET SESSION max_execution_time = {}",
                    self.timeout.as_millis()
                )
            };
            db.execute_unprepared(&limit).await.map_err(query_failed)?;
        }
        if self.engine == Engine::Sqlite {
            // SQLite has no statement timeout: a progress handler interrupts the query at the deadline.
            let deadline = Instant::now() + self.timeout;
            let mut connection = db
                .get_sqlite_connection_pool()
                .acquire()
                .await
                .map_err(|err| self.query_error(DbErr::Custom(err.to_string())))?;
            connection
                .lock_handle()
                .await
                .map_err(|err| self.query_error(DbErr::Custom(err.to_string())))?
                .set_progress_handler(10_000, move || Instant::now() < deadline);
        }
        let txn = match self.engine {
            // `mode=ro` makes the whole connection read-only; SQLite has no read-only transactions.
            Engine::Sqlite => db.begin().await,
            _ => db.begin_with_config(None, Some(AccessMode::ReadOnly)).await,
        }
        .map_err(query_failed)?;
        if self.engine == Engine::Postgres {
            txn.execute_unprepared(&format!(
                "SET LOCAL statement_timeout = {}",
                self.timeout.as_millis()
            ))
            .await
            .map_err(query_failed)?;
        }
        let parsed = {
            let mut rows = txn
                .stream_raw(Statement::from_string(
                    db.get_database_backend(),
                    self.query.clone(),
                ))
                .await
                .map_err(query_failed)?;
            let mut decoder: Option<RowDecoder> = None;
            let mut validator = RowValidator::default();
            let mut line = 0u64;
            while let Some(row) = rows.try_next().await.map_err(query_failed)? {
                line += 1;
                let decoder = match &mut decoder {
                    Some(decoder) => decoder,
                    None => decoder.insert(RowDecoder::new(&row)?),
                };
                validator.push(line, decoder.decode(&row)?);
            }
            validator.finish()
        };
        // Read-only: there is nothing to commit.
        txn.rollback().await.map_err(query_failed)?;
        Ok(parsed)
    }

    fn query_error(&self, err: DbErr) -> HrSourceError {
        let message = db_message(&err);
        let lowered = message.to_lowercase();
        // PostgreSQL 57014, MariaDB 1969, MySQL 3024, SQLite's interrupt by the progress handler.
        if lowered.contains("statement timeout")
            || lowered.contains("max_statement_time")
            || lowered.contains("maximum statement execution time")
            || (self.engine == Engine::Sqlite && lowered.contains("interrupted"))
        {
            HrSourceError::Timeout(self.timeout)
        } else {
            HrSourceError::Query(message)
        }
    }
}

/// The message of a database error without sea-orm's wrapping ("Execution Error: error returned from
/// database: …"), which says nothing to the admin who wrote the query.
fn db_message(err: &DbErr) -> String {
    let text = err.to_string();
    let text = text
        .rsplit_once("error returned from database: ")
        .map_or(text.as_str(), |(_, message)| message);
    text.trim().to_string()
}

/// `url` with `mode=ro`, whatever mode it asked for: a pull never writes the HR database.
fn read_only_sqlite_url(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("mode="))
        .collect();
    params.push("mode=ro");
    format!("{path}?{}", params.join("&"))
}

/// How the cells of one column read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CellKind {
    Text,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
}

impl CellKind {
    const ALL: [CellKind; 7] = [
        CellKind::Text,
        CellKind::I64,
        CellKind::I32,
        CellKind::I16,
        CellKind::I8,
        CellKind::U64,
        CellKind::U32,
    ];

    /// The cell as text (`None` for NULL), or `None` when the cell is not of this kind.
    fn read(self, row: &QueryResult, index: usize) -> Option<Option<String>> {
        fn text<T: ToString>(value: Result<Option<T>, DbErr>) -> Option<Option<String>> {
            value.ok().map(|v| v.map(|v| v.to_string()))
        }
        match self {
            CellKind::Text => row.try_get_by_index::<Option<String>>(index).ok(),
            CellKind::I64 => text(row.try_get_by_index::<Option<i64>>(index)),
            CellKind::I32 => text(row.try_get_by_index::<Option<i32>>(index)),
            CellKind::I16 => text(row.try_get_by_index::<Option<i16>>(index)),
            CellKind::I8 => text(row.try_get_by_index::<Option<i8>>(index)),
            CellKind::U64 => text(row.try_get_by_index::<Option<u64>>(index)),
            CellKind::U32 => text(row.try_get_by_index::<Option<u32>>(index)),
        }
    }
}

/// Reads the known columns of each row of one result, remembering how each column reads.
#[derive(Debug)]
struct RowDecoder {
    names: Vec<String>,
    /// Per known column (`locate_columns` order): its index in the row and how it read last.
    columns: [Option<(usize, CellKind)>; 6],
}

impl RowDecoder {
    fn new(first: &QueryResult) -> Result<Self, HrSourceError> {
        let names = first.column_names();
        let index = locate_columns(&names).map_err(|err| match err {
            ColumnsError::Missing(_) => HrSourceError::MissingColumn {
                found: names.clone(),
            },
            ColumnsError::Duplicate(column) => HrSourceError::DuplicateColumn(column),
        })?;
        Ok(Self {
            names,
            columns: index.map(|i| i.map(|i| (i, CellKind::Text))),
        })
    }

    fn decode(&mut self, row: &QueryResult) -> Result<RawEmployee, HrSourceError> {
        let mut cells: [Option<String>; 6] = Default::default();
        for (cell, column) in cells.iter_mut().zip(self.columns.iter_mut()) {
            let Some((index, kind)) = column else {
                continue;
            };
            *cell = match kind.read(row, *index) {
                Some(value) => value,
                // SQLite types each value, not each column: the next row's cell may read otherwise.
                None => {
                    let (found, value) = CellKind::ALL
                        .iter()
                        .find_map(|k| k.read(row, *index).map(|v| (*k, v)))
                        .ok_or_else(|| HrSourceError::UnreadableColumn {
                            column: self.names[*index].clone(),
                            type_name: type_name(row, *index),
                        })?;
                    *kind = found;
                    value
                }
            };
        }
        let [employee_code, full_name, email, phone, department, status] = cells;
        Ok(RawEmployee {
            employee_code,
            full_name,
            email,
            phone,
            department,
            status,
        })
    }
}

/// The SQL type of a cell, as its engine names it, for error messages.
fn type_name(row: &QueryResult, index: usize) -> String {
    if let Some(row) = row.try_as_pg_row() {
        return row.columns()[index].type_info().name().to_string();
    }
    if let Some(row) = row.try_as_mysql_row() {
        return row.columns()[index].type_info().name().to_string();
    }
    if let Some(row) = row.try_as_sqlite_row() {
        return row.columns()[index].type_info().name().to_string();
    }
    "unknown".to_string()
}

/// Checks that `query` is exactly one `SELECT` (or `WITH … SELECT`) statement: a `;` may only end it.
/// Quotes, quoted names, comments and PostgreSQL's dollar quotes are skipped, so a `;` inside them counts
/// for nothing.
pub fn check_one_select(query: &str) -> Result<(), String> {
    let bytes = query.as_bytes();
    let mut i = 0;
    let mut end = None;
    // Bytes, not chars: every delimiter is ASCII, and UTF-8 never uses ASCII bytes inside a character.
    while i < bytes.len() {
        let rest = &bytes[i..];
        match bytes[i] {
            b'\'' | b'"' | b'`' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    // MySQL's backslash escapes; a doubled quote is two quoted strings back to back.
                    if bytes[i] == b'\\' && quote == b'\'' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    return Err("a quote is never closed".into());
                }
                i += 1;
            }
            b'-' if rest.starts_with(b"--") => {
                i = find(rest, b"\n").map_or(bytes.len(), |n| i + n + 1);
            }
            b'#' => {
                i = find(rest, b"\n").map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if rest.starts_with(b"/*") => {
                i = find(&rest[2..], b"*/")
                    .map(|n| i + 2 + n + 2)
                    .ok_or_else(|| "a /* comment is never closed".to_string())?;
            }
            b'$' => {
                // `$tag$ … $tag$` (PostgreSQL); a `$1` parameter has no closing `$`.
                let tag_len = rest[1..]
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80))
                    .filter(|&n| rest[1 + n] == b'$');
                match tag_len {
                    Some(n) => {
                        let tag = &rest[..n + 2];
                        i = find(&rest[tag.len()..], tag)
                            .map(|m| i + tag.len() + m + tag.len())
                            .ok_or_else(|| {
                                format!("a {} quote is never closed", String::from_utf8_lossy(tag))
                            })?;
                    }
                    None => i += 1,
                }
            }
            b';' => {
                end = Some(i);
                break;
            }
            _ => i += 1,
        }
    }
    let body = &query[..end.unwrap_or(query.len())];
    if let Some(end) = end
        && !only_comments(&query[end + 1..])
    {
        return Err(
            "expected exactly one statement; a ';' may only end the query, nothing may follow it"
                .into(),
        );
    }
    let first_word: String = strip_leading_comments(body)
        .trim_start_matches(|c: char| c == '(' || c.is_whitespace())
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    match first_word.as_str() {
        "SELECT" | "WITH" => Ok(()),
        "" => Err("the query is empty".into()),
        other => Err(format!(
            "expected one SELECT statement (or WITH … SELECT), not {other}"
        )),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn strip_leading_comments(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix("--").or_else(|| text.strip_prefix('#')) {
            text = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = text.strip_prefix("/*") {
            text = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return text;
        }
    }
}

fn only_comments(text: &str) -> bool {
    strip_leading_comments(text).is_empty()
}

/// Reads `HR_FILE` whole (an HR file is megabytes at most), with the path in any error.
pub async fn read_file(path: &Path) -> Result<Vec<u8>, HrSourceError> {
    tokio::fs::read(path)
        .await
        .map_err(|err| HrSourceError::File {
            path: path.display().to_string(),
            reason: err.to_string(),
        })
}

/// The digest of a file's content that a pull records, to skip a file that did not change.
pub fn digest(bytes: &[u8]) -> String {
    format!("xxh3-128:{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_select_passes_whatever_it_quotes() {
        for query in [
            "SELECT ma_nv AS employee_code FROM nhan_vien",
            "  select 1 AS employee_code;  ",
            "SELECT 1 AS employee_code; -- the end",
            "WITH t AS (SELECT 1 AS c) SELECT c AS employee_code FROM t",
            "(SELECT 'a;b' AS employee_code)",
            "SELECT \"mã;nv\" AS employee_code FROM \"nhân viên\"",
            "SELECT `mã;nv` AS employee_code FROM nhan_vien",
            "SELECT $$a;b$$ AS employee_code",
            "SELECT $x$ ; $x$ AS employee_code",
            "/* HR ; view */ SELECT 1 AS employee_code",
            "-- comment; here\nSELECT 1 AS employee_code",
            "SELECT 'it''s; fine' AS employee_code",
            "SELECT 'it\\'s; fine' AS employee_code",
            "SELECT ho_tên AS full_name, mã AS employee_code FROM nhân_viên WHERE phòng = 'Kế toán'",
        ] {
            assert_eq!(check_one_select(query), Ok(()), "{query}");
        }
    }

    #[test]
    fn a_second_statement_or_a_write_is_refused() {
        for (query, says) in [
            ("SELECT 1; DELETE FROM nhan_vien", "exactly one statement"),
            ("SELECT 1;;", "exactly one statement"),
            ("DELETE FROM nhan_vien", "not DELETE"),
            ("UPDATE nhan_vien SET x = 1", "not UPDATE"),
            ("", "empty"),
            ("-- nothing", "empty"),
            ("SELECT 'unclosed", "never closed"),
            ("SELECT 1 /* open", "never closed"),
        ] {
            let err = check_one_select(query).expect_err(query);
            assert!(err.contains(says), "{query}: {err}");
        }
    }

    #[test]
    fn sqlite_sources_are_opened_read_only() {
        assert_eq!(
            read_only_sqlite_url("sqlite:///srv/hr.db?mode=rwc"),
            "sqlite:///srv/hr.db?mode=ro"
        );
        assert_eq!(
            read_only_sqlite_url("sqlite:///srv/hr.db"),
            "sqlite:///srv/hr.db?mode=ro"
        );
        assert_eq!(
            read_only_sqlite_url("sqlite:///srv/hr.db?cache=shared&mode=rw"),
            "sqlite:///srv/hr.db?cache=shared&mode=ro"
        );
    }

    #[test]
    fn engines_are_known_by_scheme() {
        assert_eq!(Engine::of_url("postgres://u@h/db"), Some(Engine::Postgres));
        assert_eq!(
            Engine::of_url("postgresql://u@h/db"),
            Some(Engine::Postgres)
        );
        assert_eq!(
            Engine::of_url("mysql://root@127.0.0.1/hr"),
            Some(Engine::MySql)
        );
        assert_eq!(Engine::of_url("sqlite:///hr.db"), Some(Engine::Sqlite));
        assert_eq!(Engine::of_url("oracle://x"), None);
        assert_eq!(Engine::of_url("hr.db"), None);
    }
}
