//! `export KIND [--format csv|json]`: agents, employees, the two unmatched lists and the seat report, for
//! spreadsheets and reporting tools. Columns follow DESIGN.md; employee exports use the HR CSV columns, so they re-import.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use entity::employee;

use crate::seats::{self, ListName, Lists, Money};
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
    /// The seat report: departed staff's, orphan, duplicate and idle seats, each with its reason (JSON adds
    /// the counts and, with BRIDGE_SEAT_PRICE, the monthly costs).
    SeatReport,
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

/// Agent columns, in order: DESIGN.md's fourteen, then the CareSoft domain (added last, so that readers of
/// the first fourteen by position keep working).
pub const AGENT_COLUMNS: [&str; 15] = [
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
    "domain",
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

/// The seat report's columns: the list and the reason, the agent columns but the domain, the employee's
/// name, then the domain (added last, like the agents export's).
pub fn seat_report_columns() -> Vec<&'static str> {
    let mut columns = vec!["list", "reason"];
    columns.extend(&AGENT_COLUMNS[..AGENT_COLUMNS.len() - 1]);
    columns.push("full_name");
    columns.push("domain");
    columns
}

/// One agent row of a page as strings, in [`AGENT_COLUMNS`] order.
fn agent_cells(row: pages::PageRow) -> (Vec<Option<String>>, Option<employee::Model>) {
    let a = row.agent;
    let link = row.link.flatten();
    let employee = row.employee.flatten();
    let cells = vec![
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
        employee.as_ref().map(|e| e.employee_code.clone()),
        time(a.removed_at),
        Some(a.domain),
    ];
    (cells, employee)
}

/// The rows of the seat report: every seat of each list (departed staff, orphan, duplicate, idle), with
/// the reason it is listed; a seat in several lists is a row of each.
pub async fn seat_report_rows(
    db: &DatabaseConnection,
    lists: &Lists,
) -> Result<Vec<Vec<Option<String>>>, DbErr> {
    let read = PageRead::everything();
    let mut out = Vec::new();
    for list in ListName::ALL {
        let rows =
            pages::agents(db, &list.filter(lists), AgentOrder::IdAsc, None, None, read).await?;
        let mut held: HashMap<i64, usize> = HashMap::new();
        if list == ListName::Duplicate {
            for row in &rows {
                if let Some(Some(employee)) = &row.employee {
                    *held.entry(employee.id).or_default() += 1;
                }
            }
        }
        for row in rows {
            let (mut cells, employee) = agent_cells(row);
            let domain = cells.pop().flatten();
            let named = employee
                .as_ref()
                .map(|e| (e.employee_code.as_str(), e.full_name.as_deref()));
            let seats = employee.as_ref().and_then(|e| held.get(&e.id).copied());
            let mut line = vec![
                Some(list.as_str().to_string()),
                Some(lists.reason(list, named, seats)),
            ];
            line.extend(cells);
            line.push(employee.and_then(|e| e.full_name));
            line.push(domain);
            out.push(line);
        }
    }
    Ok(out)
}

/// Writes the seat report (`export seat-report`, the `/seats` page's download): CSV rows as
/// [`seat_report_columns`], or JSON with the counts, the costs (with a `price`) and the rows.
pub async fn seat_report(
    db: &DatabaseConnection,
    lists: &Lists,
    price: Option<&Money>,
    format: ExportFormat,
    out: &mut impl Write,
) -> Result<usize, ExportError> {
    let columns = seat_report_columns();
    let rows = seat_report_rows(db, lists).await?;
    match format {
        ExportFormat::Csv => write_csv(&columns, &rows, out)?,
        ExportFormat::Json => {
            let counts = seats::counts(db, lists).await?;
            let cost = |n: i64| {
                price.map(|p| {
                let total = p.times(n);
                serde_json::json!({"amount": total.amount, "currency": total.currency, "formatted": total.formatted()})
            })
            };
            let report = serde_json::json!({
                "generated_at": time(Some(Utc::now())),
                "idle_days": lists.idle_days,
                "idle_since": time(Some(lists.idle_since)),
                "counts": counts,
                "seat_price": cost(1),
                "monthly_cost": {
                    "all": cost(counts.current),
                    "reclaimable": cost(counts.reclaimable),
                    "departed_staff": cost(counts.departed_staff),
                    "orphan": cost(counts.orphan),
                    "duplicate": cost(counts.duplicate),
                    "idle": cost(counts.idle),
                },
                "seats": json_objects(&columns, &rows),
            });
            serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(rows.len())
}

/// The seat report's lists with the default idle window, now.
fn default_lists() -> Lists {
    Lists::new(seats::DEFAULT_IDLE_DAYS, Utc::now())
        .unwrap_or_else(|_| unreachable!("the default idle window is valid"))
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
        ExportKind::SeatReport => return seat_report_rows(db, &default_lists()).await,
    };
    let read = PageRead::everything();
    let rows = pages::agents(db, &agents, AgentOrder::IdAsc, None, None, read).await?;
    Ok(rows.into_iter().map(|row| agent_cells(row).0).collect())
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
        ExportKind::SeatReport => {
            return seat_report(db, &default_lists(), None, format, out).await;
        }
    };
    let rows = rows(db, kind).await?;
    match format {
        ExportFormat::Csv => write_csv(columns, &rows, out)?,
        ExportFormat::Json => {
            let array = json_objects(columns, &rows);
            serde_json::to_writer_pretty(&mut *out, &array).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(rows.len())
}

fn write_csv(
    columns: &[&str],
    rows: &[Vec<Option<String>>],
    out: &mut impl Write,
) -> Result<(), ExportError> {
    // Excel only reads a CSV as UTF-8 when it starts with a byte-order mark.
    out.write_all("\u{feff}".as_bytes())?;
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(columns)?;
    for row in rows {
        let cells: Vec<_> = row
            .iter()
            .map(|v| spreadsheet_safe(v.as_deref().unwrap_or("")))
            .collect();
        writer.write_record(cells.iter().map(|cell| cell.as_bytes()))?;
    }
    writer.flush()?;
    Ok(())
}

/// Rows as JSON objects keyed by column, ids as numbers.
fn json_objects(
    columns: &[&str],
    rows: &[Vec<Option<String>>],
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    rows.iter()
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
        .collect()
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
