//! `export KIND [--format csv|json]`: agents, employees and the two unmatched lists, for spreadsheets and
//! reporting tools. Columns follow DESIGN.md; employee exports use the HR CSV columns, so they re-import.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

use crate::reconcile::SEATED_EMPLOYEE_IDS;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportKind {
    /// Every mirrored agent, removed ones included (see `removed_at`).
    Agents,
    /// Every employee still in HR.
    Employees,
    /// Current agents whose match status is UNMATCHED.
    UnmatchedAgents,
    /// ACTIVE employees with no MATCHED current agent.
    UnmatchedEmployees,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ExportFormat {
    /// RFC 4180 CSV with a UTF-8 byte-order mark, so Excel shows Vietnamese text correctly.
    #[default]
    Csv,
    /// A JSON array of objects keyed by the CSV column names.
    Json,
}

/// Agent columns, in order.
pub const AGENT_COLUMNS: [&str; 14] = [
    "id",
    "username",
    "email",
    "phone_no",
    "agent_id",
    "group_id",
    "group_name",
    "call_status",
    "chat_status",
    "ticket_status",
    "match_status",
    "matched_by",
    "employee_code",
    "removed_at",
];

/// Employee columns, as in the HR CSV.
pub const EMPLOYEE_COLUMNS: [&str; 6] = [
    "employee_code",
    "full_name",
    "email",
    "phone",
    "department",
    "status",
];

/// Failure of an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write the export: {0}")]
    Csv(#[from] csv::Error),
}

const AGENT_SELECT: &str = "SELECT a.id, a.username, a.email, a.phone_no, a.extension, a.group_id, a.group_name, \
     a.call_status, a.chat_status, a.ticket_status, COALESCE(l.status, 'UNMATCHED') AS match_status, \
     l.method, e.employee_code, a.removed_at \
     FROM agents a LEFT JOIN agent_links l ON l.agent_id = a.id LEFT JOIN employees e ON e.id = l.employee_id";

const EMPLOYEE_SELECT: &str = "SELECT e.employee_code, e.full_name, e.email, e.phone, e.department, e.status FROM employees e";

fn query(kind: ExportKind) -> String {
    match kind {
        ExportKind::Agents => format!("{AGENT_SELECT} ORDER BY a.id"),
        ExportKind::UnmatchedAgents => format!(
            "{AGENT_SELECT} WHERE a.removed_at IS NULL AND COALESCE(l.status, 'UNMATCHED') = 'UNMATCHED' ORDER BY a.id"
        ),
        ExportKind::Employees => {
            format!("{EMPLOYEE_SELECT} WHERE e.removed_at IS NULL ORDER BY e.employee_code")
        }
        ExportKind::UnmatchedEmployees => format!(
            "{EMPLOYEE_SELECT} WHERE e.removed_at IS NULL AND e.status = 'active' \
             AND e.id NOT IN ({SEATED_EMPLOYEE_IDS}) ORDER BY e.employee_code"
        ),
    }
}

/// Reads the rows of `kind` as strings (`None` for NULL), in column order.
pub async fn rows(
    db: &DatabaseConnection,
    kind: ExportKind,
) -> Result<Vec<Vec<Option<String>>>, DbErr> {
    let backend = db.get_database_backend();
    let result = db
        .query_all_raw(Statement::from_string(backend, query(kind)))
        .await?;
    let agent_like = matches!(kind, ExportKind::Agents | ExportKind::UnmatchedAgents);
    result
        .iter()
        .map(|row| {
            if agent_like {
                let removed: Option<DateTime<Utc>> = row.try_get_by_index(13)?;
                Ok(vec![
                    Some(row.try_get_by_index::<i64>(0)?.to_string()),
                    row.try_get_by_index(1)?,
                    row.try_get_by_index(2)?,
                    row.try_get_by_index(3)?,
                    row.try_get_by_index(4)?,
                    row.try_get_by_index::<Option<i64>>(5)?
                        .map(|v| v.to_string()),
                    row.try_get_by_index(6)?,
                    row.try_get_by_index(7)?,
                    row.try_get_by_index(8)?,
                    row.try_get_by_index(9)?,
                    row.try_get_by_index(10)?,
                    row.try_get_by_index(11)?,
                    row.try_get_by_index(12)?,
                    removed.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
                ])
            } else {
                let status: String = row.try_get_by_index(5)?;
                Ok(vec![
                    row.try_get_by_index(0)?,
                    row.try_get_by_index(1)?,
                    row.try_get_by_index(2)?,
                    row.try_get_by_index(3)?,
                    row.try_get_by_index(4)?,
                    Some(status),
                ])
            }
        })
        .collect()
}

/// Writes the export of `kind` to `out`.
pub async fn export(
    db: &DatabaseConnection,
    kind: ExportKind,
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<usize, ExportError> {
    let columns: &[&str] = match kind {
        ExportKind::Agents | ExportKind::UnmatchedAgents => &AGENT_COLUMNS,
        ExportKind::Employees | ExportKind::UnmatchedEmployees => &EMPLOYEE_COLUMNS,
    };
    let rows = rows(db, kind).await?;
    match format {
        ExportFormat::Csv => {
            // Excel only reads a CSV as UTF-8 when it starts with a byte-order mark.
            out.write_all("\u{feff}".as_bytes())?;
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(columns)?;
            for row in &rows {
                writer.write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))?;
            }
            writer.flush()?;
        }
        ExportFormat::Json => {
            let array: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|row| {
                    columns
                        .iter()
                        .zip(row)
                        .map(|(name, value)| {
                            let value = match (name, value) {
                                (_, None) => serde_json::Value::Null,
                                (&"id" | &"group_id", Some(v)) => v
                                    .parse::<i64>()
                                    .map_or_else(|_| v.clone().into(), Into::into),
                                (_, Some(v)) => v.clone().into(),
                            };
                            (name.to_string(), value)
                        })
                        .collect()
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &array).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(rows.len())
}
