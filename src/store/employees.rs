//! `employees`: the enterprise's HR staff, never deleted. The rule "staff without a seat" (ACTIVE, still
//! in HR, holding no seat) is [`EmployeeFilter::without_seat`](super::pages::EmployeeFilter::without_seat)
//! over [`super::links::seated_employee_ids`]; this module holds the import's reads and writes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::employee;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition as Cond, ConnectionTrait, DbErr, EntityTrait, Iterable, PaginatorTrait,
    QueryFilter, QuerySelect,
};

use super::bulk::{self, insert_all, upsert_all};
use super::connection::rows_per_statement;
use super::links::seated_employee_ids;

/// "Still in HR": not marked removed by a `--replace` import.
fn in_hr() -> sea_orm::sea_query::SimpleExpr {
    employee::Column::RemovedAt.is_null()
}

/// What an import or a pull needs of a stored employee to tell whether a row changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub id: i64,
    /// NULL on rows written before fingerprints existed.
    pub fingerprint: Option<i64>,
    /// Marked removed (no longer in HR).
    pub removed: bool,
}

/// The owners an orphan seat may have ("suggestion candidates"): employees still in HR, ACTIVE or
/// TERMINATED, holding no MATCHED current seat, whose given name is one of `given_names` or whose phone
/// ends with one of `phone_tails`. Scoring them is [`crate::reconcile::suggestions`]'s.
pub async fn suggestion_candidates(
    db: &impl ConnectionTrait,
    given_names: &[String],
    phone_tails: &[String],
) -> Result<Vec<employee::Model>, DbErr> {
    if given_names.is_empty() && phone_tails.is_empty() {
        return Ok(Vec::new());
    }
    let mut any = Cond::any();
    if !given_names.is_empty() {
        any = any.add(employee::Column::GivenName.is_in(given_names.iter().cloned()));
    }
    for tail in phone_tails {
        any = any.add(employee::Column::PhoneKey.like(format!("%{tail}")));
    }
    employee::Entity::find()
        .filter(in_hr())
        .filter(any)
        .filter(employee::Column::Id.not_in_subquery(seated_employee_ids()))
        .all(db)
        .await
}

/// (id, code, fingerprint, removed at), as [`presence`] reads them.
type PresenceRow = (i64, String, Option<i64>, Option<DateTime<Utc>>);

/// Every employee, removed ones included, by code: four narrow columns, not the rows.
pub async fn presence(db: &impl ConnectionTrait) -> Result<HashMap<String, Presence>, DbErr> {
    let rows: Vec<PresenceRow> = employee::Entity::find()
        .select_only()
        .columns([
            employee::Column::Id,
            employee::Column::EmployeeCode,
            employee::Column::Fingerprint,
            employee::Column::RemovedAt,
        ])
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, code, fingerprint, removed_at)| {
            let presence = Presence {
                id,
                fingerprint,
                removed: removed_at.is_some(),
            };
            (code, presence)
        })
        .collect())
}

/// One employee by HR code, removed or not.
pub async fn by_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> Result<Option<employee::Model>, DbErr> {
    employee::Entity::find()
        .filter(employee::Column::EmployeeCode.eq(code))
        .one(db)
        .await
}

/// The employees of `ids`.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<employee::Model>, DbErr> {
    let mut rows = Vec::with_capacity(ids.len());
    for ids in ids.chunks(rows_per_statement(db.get_database_backend(), 1)) {
        rows.extend(
            employee::Entity::find()
                .filter(employee::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await?,
        );
    }
    Ok(rows)
}

/// The match keys of every employee still in HR: (id, email key, phone key).
pub async fn live_keys(
    db: &impl ConnectionTrait,
) -> Result<Vec<(i64, Option<String>, Option<String>)>, DbErr> {
    employee::Entity::find()
        .select_only()
        .columns([
            employee::Column::Id,
            employee::Column::EmailKey,
            employee::Column::PhoneKey,
        ])
        .filter(in_hr())
        .into_tuple()
        .all(db)
        .await
}

/// The keys of the employees still in HR whose email key is one of `email_keys` or whose phone key is one
/// of `phone_keys`, each employee once: all that matching agents carrying only those keys needs, read
/// through the key indexes instead of the whole table.
pub async fn live_keys_matching(
    db: &impl ConnectionTrait,
    email_keys: &[&str],
    phone_keys: &[&str],
) -> Result<Vec<(i64, Option<String>, Option<String>)>, DbErr> {
    let chunk = rows_per_statement(db.get_database_backend(), 1)
        .saturating_sub(1)
        .max(1);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (column, keys) in [
        (employee::Column::EmailKey, email_keys),
        (employee::Column::PhoneKey, phone_keys),
    ] {
        for keys in keys.chunks(chunk) {
            let rows: Vec<(i64, Option<String>, Option<String>)> = employee::Entity::find()
                .select_only()
                .columns([
                    employee::Column::Id,
                    employee::Column::EmailKey,
                    employee::Column::PhoneKey,
                ])
                .filter(in_hr())
                .filter(column.is_in(keys.iter().copied()))
                .into_tuple()
                .all(db)
                .await?;
            out.extend(rows.into_iter().filter(|row| seen.insert(row.0)));
        }
    }
    Ok(out)
}

/// The ids of the employees still in HR among `codes` (the few that manual links name), by code.
pub async fn live_ids_by_code(
    db: &impl ConnectionTrait,
    codes: &[&str],
) -> Result<HashMap<String, i64>, DbErr> {
    let mut ids = HashMap::with_capacity(codes.len());
    let chunk = rows_per_statement(db.get_database_backend(), 1)
        .saturating_sub(1)
        .max(1);
    for codes in codes.chunks(chunk) {
        let rows: Vec<(i64, String)> = employee::Entity::find()
            .select_only()
            .columns([employee::Column::Id, employee::Column::EmployeeCode])
            .filter(in_hr())
            .filter(employee::Column::EmployeeCode.is_in(codes.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        ids.extend(rows.into_iter().map(|(id, code)| (code, id)));
    }
    Ok(ids)
}

/// The codes still in HR among `codes`.
pub async fn live_codes(
    db: &impl ConnectionTrait,
    codes: &[&str],
) -> Result<std::collections::HashSet<String>, DbErr> {
    Ok(live_ids_by_code(db, codes).await?.into_keys().collect())
}

/// How many employees are still in HR.
pub async fn count_in_hr(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    employee::Entity::find().filter(in_hr()).count(db).await
}

/// Whether any employee was written (imported, changed, removed) after `since`.
pub async fn changed_since(db: &impl ConnectionTrait, since: DateTime<Utc>) -> Result<bool, DbErr> {
    Ok(employee::Entity::find()
        .select_only()
        .column(employee::Column::Id)
        .filter(employee::Column::UpdatedAt.gt(since))
        .into_tuple::<i64>()
        .one(db)
        .await?
        .is_some())
}

/// What an import writes, in the caller's transaction. The rows to insert and update are iterators, so
/// that each chunk's rows are made while the database writes the chunk before
/// ([`bulk::execute_chunks`]).
#[derive(Debug, Default)]
pub struct EmployeeWrites<I, U> {
    /// New codes.
    pub inserts: I,
    /// Changed or restored employees, by id.
    pub updates: U,
    /// Employees to mark removed.
    pub removals: Vec<i64>,
}

/// Writes an import with bulk statements in engine-sized chunks.
pub async fn write<I, U>(
    txn: &impl ConnectionTrait,
    writes: EmployeeWrites<I, U>,
    now: DateTime<Utc>,
) -> Result<(), DbErr>
where
    I: ExactSizeIterator<Item = employee::ActiveModel>,
    U: Iterator<Item = employee::ActiveModel>,
{
    bulk::with_generic_plans(txn, write_rows(txn, writes, now)).await
}

async fn write_rows<I, U>(
    txn: &impl ConnectionTrait,
    writes: EmployeeWrites<I, U>,
    now: DateTime<Utc>,
) -> Result<(), DbErr>
where
    I: ExactSizeIterator<Item = employee::ActiveModel>,
    U: Iterator<Item = employee::ActiveModel>,
{
    let backend = txn.get_database_backend();
    // A first import fills an empty table: its indexes are built once, after the rows.
    let rows = writes.inserts.len();
    bulk::load(txn, employee::Entity, rows, insert_all(txn, writes.inserts)).await?;
    let update_columns = employee::Column::iter()
        .filter(|c| !matches!(c, employee::Column::Id | employee::Column::CreatedAt));
    upsert_all(txn, writes.updates, employee::Column::Id, update_columns).await?;
    for chunk in writes
        .removals
        .chunks(rows_per_statement(backend, 1).saturating_sub(4).max(1))
    {
        employee::Entity::update_many()
            .col_expr(employee::Column::RemovedAt, Expr::value(now))
            .col_expr(employee::Column::UpdatedAt, Expr::value(now))
            .filter(employee::Column::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The HR status of each of `ids`: two narrow columns.
pub async fn statuses(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, crate::domain::EmployeeStatus>, DbErr> {
    let mut out = HashMap::with_capacity(ids.len());
    for ids in ids.chunks(rows_per_statement(db.get_database_backend(), 1)) {
        let rows: Vec<(i64, crate::domain::EmployeeStatus)> = employee::Entity::find()
            .select_only()
            .column(employee::Column::Id)
            .column(employee::Column::Status)
            .filter(employee::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}
