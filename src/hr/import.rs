//! Applies validated employee rows: insert new codes, update changed ones, and with `replace` mark the
//! codes absent from the input as removed (kept, never deleted), behind a mass-removal guard like sync's.
//! All in one transaction, followed by a link recompute in that same transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::employee;
use entity::search::{employee_search_text, given_name};
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, DatabaseConnection, DbErr};

use super::csv_parse::{EmployeeRow, RowError};
use crate::alerts;
use crate::config::MaxRemoval;
use crate::domain::{EmployeeStatus, LinkCause};
use crate::fingerprint::Fingerprint;
use crate::reconcile::keys::{email_key, phone_key};
use crate::reconcile::recompute;
use crate::store::{self, WriteTxn};

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Mark employees absent from the input as removed.
    pub replace: bool,
    /// Plan and report, change nothing.
    pub dry_run: bool,
    /// Import the good rows even when some are bad (the bad ones are listed).
    pub skip_invalid: bool,
    /// Let `replace` remove more than `max_removal`.
    pub allow_mass_removal: bool,
    pub max_removal: MaxRemoval,
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    /// Employees removed earlier and present again (counted in `updated` too).
    pub restored: usize,
    pub unchanged: usize,
    pub dry_run: bool,
    /// Rows left out with `skip_invalid`.
    #[serde(serialize_with = "serialize_errors")]
    pub skipped: Vec<RowError>,
    /// One human line per planned change (dry runs only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<String>,
}

fn serialize_errors<S: serde::Serializer>(errors: &[RowError], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(errors.iter().map(ToString::to_string))
}

impl ImportReport {
    /// The one-line summary, e.g. `import ok: 3 added, 1 updated, 0 removed, 96 unchanged`.
    pub fn summary_line(&self) -> String {
        let mut line = format!(
            "import {}: {} added, {} updated, {} removed, {} unchanged",
            if self.dry_run { "dry-run" } else { "ok" },
            self.added,
            self.updated,
            self.removed,
            self.unchanged
        );
        if !self.skipped.is_empty() {
            line.push_str(&format!(", {} invalid rows skipped", self.skipped.len()));
        }
        if self.dry_run {
            line.push_str(" (dry run: nothing changed)");
        }
        line
    }
}

/// Why nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} invalid rows; nothing was imported (use --skip-invalid to import the good rows)", .0.len())]
    Invalid(Vec<RowError>),
    #[error(
        "refused: --replace would remove {removing} of {current} employees (limit {limit}); nothing was changed. \
         If the file is complete, rerun with --allow-mass-removal"
    )]
    MassRemoval {
        removing: usize,
        current: usize,
        limit: MaxRemoval,
    },
    #[error(
        "refusing --replace with {} invalid rows: the employees of those rows would be marked removed; \
         fix the rows, or import without --replace", .0.len()
    )]
    ReplaceWithInvalidRows(Vec<RowError>),
    #[error("database error")]
    Database(#[from] DbErr),
}

/// Why [`apply_rows`] changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The removals exceed the guard.
    #[error("would remove {removing} of {current} employees (limit {limit})")]
    MassRemoval {
        removing: usize,
        current: usize,
        limit: MaxRemoval,
    },
    #[error("database error")]
    Database(#[from] DbErr),
}

impl From<ApplyError> for ImportError {
    fn from(err: ApplyError) -> Self {
        match err {
            ApplyError::MassRemoval {
                removing,
                current,
                limit,
            } => ImportError::MassRemoval {
                removing,
                current,
                limit,
            },
            ApplyError::Database(err) => ImportError::Database(err),
        }
    }
}

fn same(row: &EmployeeRow, stored: &employee::Model) -> bool {
    stored.removed_at.is_none()
        && stored.full_name == row.full_name
        && stored.email == row.email
        && stored.phone == row.phone
        && stored.department == row.department
        && stored.status == row.status
}

/// Bumped whenever [`fingerprint`] hashes differently, so stored fingerprints of the old kind never match.
const FINGERPRINT_VERSION: u8 = 1;

/// A stable hash of every field [`same`] compares (see [`crate::fingerprint`]).
pub fn fingerprint(row: &EmployeeRow) -> i64 {
    Fingerprint::new(FINGERPRINT_VERSION)
        .text(row.full_name.as_deref())
        .text(row.email.as_deref())
        .text(row.phone.as_deref())
        .text(row.department.as_deref())
        .text(Some(row.status.as_str()))
        .finish()
}

/// The row as stored. An update leaves `created_at` alone (the upsert does not write it), so updates pass
/// `now` for it.
fn active_model(row: &EmployeeRow, id: Option<i64>, now: DateTime<Utc>) -> employee::ActiveModel {
    employee::ActiveModel {
        id: id.map_or(NotSet, Set),
        employee_code: Set(row.employee_code.clone()),
        full_name: Set(row.full_name.clone()),
        email: Set(row.email.clone()),
        phone: Set(row.phone.clone()),
        department: Set(row.department.clone()),
        status: Set(row.status),
        email_key: Set(row.email.as_deref().and_then(email_key)),
        phone_key: Set(row.phone.as_deref().and_then(phone_key)),
        removed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        fingerprint: Set(Some(fingerprint(row))),
        search_text: Set(employee_search_text(
            &row.employee_code,
            row.full_name.as_deref(),
            row.email.as_deref(),
            row.phone.as_deref(),
            row.department.as_deref(),
        )),
        given_name: Set(row.full_name.as_deref().and_then(given_name)),
    }
}

/// Human lines describing what an import would do, for dry runs; `gone` are the employees it would
/// mark removed.
fn preview(
    inserts: &[&EmployeeRow],
    updates: &[(&EmployeeRow, bool)],
    mut gone: Vec<employee::Model>,
) -> Vec<String> {
    let name = |code: &str, full_name: Option<&str>| match full_name {
        Some(full_name) => format!("{code} ({full_name})"),
        None => code.to_string(),
    };
    let mut lines = Vec::with_capacity(inserts.len() + updates.len() + gone.len());
    for row in inserts {
        lines.push(format!(
            "add {}",
            name(&row.employee_code, row.full_name.as_deref())
        ));
    }
    for (row, restored) in updates {
        let verb = if *restored { "restore" } else { "update" };
        lines.push(format!(
            "{verb} {}",
            name(&row.employee_code, row.full_name.as_deref())
        ));
    }
    gone.sort_by(|a, b| a.employee_code.cmp(&b.employee_code));
    for e in gone {
        lines.push(format!(
            "remove {}",
            name(&e.employee_code, e.full_name.as_deref())
        ));
    }
    lines
}

/// Imports rows that passed validation; `invalid` are the rows that did not.
#[tracing::instrument(skip_all, fields(rows = rows.len(), invalid = invalid.len(), replace = options.replace))]
pub async fn import_rows(
    db: &DatabaseConnection,
    rows: Vec<EmployeeRow>,
    invalid: Vec<RowError>,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    if !invalid.is_empty() && !options.skip_invalid {
        return Err(ImportError::Invalid(invalid));
    }
    if !invalid.is_empty() && options.replace {
        // A skipped row's employee is absent from `rows`, so --replace would mark them removed.
        return Err(ImportError::ReplaceWithInvalidRows(invalid));
    }
    // Links are recomputed from agents' keys below: no sync or override may change them meanwhile.
    let txn = store::begin_write(db).await?;
    let mut report = apply_rows(&txn, &rows, options, LinkCause::Import, None, Utc::now()).await?;
    report.skipped = invalid;
    if options.dry_run {
        txn.rollback().await?;
    } else {
        txn.commit().await?;
    }
    Ok(report)
}

/// Plans valid rows against the stored employees and, unless a dry run, writes them and recomputes the
/// links (recorded with `cause`) in `txn`, which the caller commits, or rolls back for a dry run, and
/// raises the alerts of what changed (of run `run_id`, for a pull). The import and the pulls of the HR
/// source share it, so both follow one set of rules.
pub async fn apply_rows(
    txn: &WriteTxn,
    rows: &[EmployeeRow],
    options: ImportOptions,
    cause: LinkCause,
    run_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<ImportReport, ApplyError> {
    let stored = store::employees::presence(&**txn).await?;
    // Rows written before fingerprints existed are compared in full, once.
    let unknown: Vec<i64> = rows
        .iter()
        .filter_map(|row| stored.get(&row.employee_code))
        .filter(|e| e.fingerprint.is_none() && !e.removed)
        .map(|e| e.id)
        .collect();
    let full: HashMap<i64, employee::Model> = store::employees::by_ids(&**txn, &unknown)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();

    let mut report = ImportReport {
        dry_run: options.dry_run,
        ..ImportReport::default()
    };
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    let mut present = HashSet::with_capacity(rows.len());
    for row in rows {
        present.insert(row.employee_code.as_str());
        let Some(old) = stored.get(&row.employee_code) else {
            report.added += 1;
            inserts.push(row);
            continue;
        };
        let unchanged = match old.fingerprint {
            Some(stored) => !old.removed && stored == fingerprint(row),
            None => full.get(&old.id).is_some_and(|full| same(row, full)),
        };
        if unchanged {
            report.unchanged += 1;
            if old.fingerprint.is_none() {
                // Written back with its fingerprint, not counted as a change.
                updates.push((row, *old, false));
            }
            continue;
        }
        report.updated += 1;
        if old.removed {
            report.restored += 1;
        }
        updates.push((row, *old, true));
    }
    let removals: Vec<i64> = if options.replace {
        stored
            .iter()
            .filter(|(code, e)| !e.removed && !present.contains(code.as_str()))
            .map(|(_, e)| e.id)
            .collect()
    } else {
        Vec::new()
    };
    report.removed = removals.len();
    let current = stored.values().filter(|e| !e.removed).count();
    if !options.allow_mass_removal && options.max_removal.is_exceeded(removals.len(), current) {
        return Err(ApplyError::MassRemoval {
            removing: removals.len(),
            current,
            limit: options.max_removal,
        });
    }
    if options.dry_run {
        let changed: Vec<(&EmployeeRow, bool)> = updates
            .iter()
            .filter(|(_, _, counted)| *counted)
            .map(|(row, old, _)| (*row, old.removed))
            .collect();
        let gone = store::employees::by_ids(&**txn, &removals).await?;
        report.preview = preview(&inserts, &changed, gone);
        return Ok(report);
    }

    // Who this write makes TERMINATED: their seats are news for the admins.
    let changed: Vec<i64> = updates
        .iter()
        .filter(|(row, _, counted)| *counted && row.status == EmployeeStatus::Terminated)
        .map(|(_, old, _)| old.id)
        .collect();
    let before = store::employees::statuses(&**txn, &changed).await?;
    let terminated: Vec<i64> = changed
        .into_iter()
        .filter(|id| before.get(id) != Some(&EmployeeStatus::Terminated))
        .collect();

    // Made chunk by chunk as they are written. Boxed: the closures' own types in this future defeat the
    // compiler's proof that the future is `Send` ("implementation of `FnOnce` is not general enough").
    let writes = store::employees::EmployeeWrites {
        inserts: Box::new(inserts.iter().map(move |row| active_model(row, None, now)))
            as Box<dyn ExactSizeIterator<Item = employee::ActiveModel> + Send + '_>,
        updates: Box::new(
            updates
                .iter()
                .map(move |(row, old, _)| active_model(row, Some(old.id), now)),
        ) as Box<dyn Iterator<Item = employee::ActiveModel> + Send + '_>,
        removals,
    };
    store::employees::write(&**txn, writes, now).await?;
    if report.added + report.updated + report.removed > 0 {
        let recomputed = recompute(&**txn, cause, now).await?;
        let changes = alerts::findings::Changes {
            links: &recomputed.changes,
            terminated: &terminated,
            run_id,
        };
        alerts::findings::raise_for_changes(&**txn, changes, now).await?;
    }
    Ok(report)
}
