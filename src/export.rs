//! `export KIND [--format csv|json]`: agents, employees and the two unmatched lists, for spreadsheets and
//! reporting tools. Columns follow DESIGN.md; employee exports use the HR CSV columns, so they re-import.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use crate::store::pages::{AgentFilter, AgentOrder, EmployeeFilter, PageRead};
use crate::store::{self, pages};

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

fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Reads the rows of `kind` as strings (`None` for NULL), in column order. The lists are the store's
/// rules: every agent, [`AgentFilter::unmatched`], employees still in HR, [`EmployeeFilter::without_seat`].
pub async fn rows(
    db: &DatabaseConnection,
    kind: ExportKind,
) -> Result<Vec<Vec<Option<String>>>, DbErr> {
    let agents = match kind {
        ExportKind::Agents => AgentFilter::everyone(),
        ExportKind::UnmatchedAgents => AgentFilter::unmatched(),
        ExportKind::Employees => return employee_rows(db, &EmployeeFilter::default()).await,
        ExportKind::UnmatchedEmployees => {
            return employee_rows(db, &EmployeeFilter::without_seat()).await;
        }
    };
    let read = PageRead {
        links: true,
        employees: true,
    };
    let rows = pages::agents(db, &agents, AgentOrder::IdAsc, None, None, read).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let a = row.agent;
            let link = row.link.flatten();
            let employee = row.employee.flatten();
            vec![
                Some(a.id.to_string()),
                a.username,
                a.email,
                a.phone_no,
                a.extension,
                a.group_id.map(|v| v.to_string()),
                a.group_name,
                Some(a.call_status.to_string()),
                Some(a.chat_status.to_string()),
                Some(a.ticket_status.to_string()),
                Some(store::links::status_of(link.as_ref()).to_string()),
                link.and_then(|l| l.method).map(|m| m.to_string()),
                employee.map(|e| e.employee_code),
                time(a.removed_at),
            ]
        })
        .collect())
}

async fn employee_rows(
    db: &DatabaseConnection,
    filter: &EmployeeFilter,
) -> Result<Vec<Vec<Option<String>>>, DbErr> {
    let rows = pages::employees(db, filter, None, None).await?;
    Ok(rows
        .into_iter()
        .map(|e| {
            vec![
                Some(e.employee_code),
                e.full_name,
                e.email,
                e.phone,
                e.department,
                Some(e.status.to_string()),
            ]
        })
        .collect())
}

/// A CSV cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is a formula to Excel and LibreOffice, so it gets a leading `'`, which they show as text and hide
/// (OWASP's advice on CSV injection). An agent named `=HYPERLINK(…)` in CareSoft stays a name. The JSON export
/// keeps every value as it is.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
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
                let cells: Vec<_> = row
                    .iter()
                    .map(|v| spreadsheet_safe(v.as_deref().unwrap_or("")))
                    .collect();
                writer.write_record(cells.iter().map(|cell| cell.as_bytes()))?;
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

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn cells_a_spreadsheet_would_run_become_text() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x\",\"Bấm\")",
                "'=HYPERLINK(\"http://x\",\"Bấm\")",
            ),
            ("+84912345678", "'+84912345678"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("Nguyễn Văn An", "Nguyễn Văn An"),
            ("0912345678", "0912345678"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), written, "{cell:?}");
        }
    }
}
