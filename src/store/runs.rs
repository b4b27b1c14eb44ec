//! `sync_runs`: one row per run of either source (a CareSoft sync, a pull of the HR source). The rules
//! "latest run" and "last success" of a source are written here once; the schedulers, `lastSeenAt`,
//! `freshness`, `/readyz` and removed agents' `last_seen_at` ask them.

use chrono::{DateTime, Utc};
use entity::sync_run;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::{RunErrorCode, SyncOutcome, SyncSource, Trigger};

/// Counts of what a run does, as reported in the summary line and stored on its run. A CareSoft sync counts
/// agents (`returned`, `status_changes`); an HR pull counts employees (`restored`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncCounts {
    /// Rows the source gave: agents in CareSoft's answer, valid rows of the HR source.
    pub fetched: usize,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    /// Removed agents that CareSoft lists again.
    pub returned: usize,
    /// Removed employees that the HR source lists again (counted in `updated` too).
    pub restored: usize,
    pub unchanged: usize,
    /// Status changes of agents already mirrored (first sightings are recorded but not counted as changes).
    pub status_changes: usize,
}

/// The latest successful run of a source. Successes hold the write lock from start to finish, so the latest by id is
/// also the latest to start and to finish, whichever process ran it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastSuccess {
    /// When it started: every current agent was in CareSoft's answer of then or later.
    pub started_at: DateTime<Utc>,
    /// When its changes were committed: the age of the mirror.
    pub finished_at: DateTime<Utc>,
}

/// Records the start of a run (outside any transaction, so the record survives a rollback).
pub async fn start(
    db: &impl ConnectionTrait,
    source: SyncSource,
    trigger: Trigger,
    domain: &str,
    started_at: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let run = sync_run::ActiveModel {
        id: NotSet,
        trigger: Set(trigger),
        source: Set(source),
        domain: Set(domain.to_string()),
        started_at: Set(started_at),
        finished_at: Set(None),
        outcome: Set(SyncOutcome::Running),
        fetched: Set(0),
        added: Set(0),
        updated: Set(0),
        removed: Set(0),
        returned: Set(0),
        restored: Set(0),
        unchanged: Set(0),
        status_changes: Set(0),
        error: Set(None),
        error_code: Set(None),
        error_detail: Set(None),
        source_digest: Set(None),
    }
    .insert(db)
    .await?;
    Ok(run.id)
}

/// What a run records of its failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunError {
    pub code: RunErrorCode,
    /// Safe for every reader of the API.
    pub message: String,
    /// The whole cause, for administrators.
    pub detail: String,
}

/// The error of a run whose process died.
pub const INTERRUPTED: &str = "the process running it stopped before it finished (killed or crashed); nothing it read was applied";

/// How a run ended, as its record keeps it.
#[derive(Debug, Clone)]
pub struct RunEnd<'a> {
    pub outcome: SyncOutcome,
    pub finished_at: DateTime<Utc>,
    pub counts: &'a SyncCounts,
    pub error: Option<&'a RunError>,
    /// What an HR file pull applied (successes only).
    pub digest: Option<String>,
}

/// Records how a run ended. The runner writes it in the run's own transaction, so whoever takes the lock
/// next sees the end together with what the run changed (and a run still `running` then is one whose
/// process died).
pub async fn finish(db: &impl ConnectionTrait, run_id: i64, end: RunEnd<'_>) -> Result<(), DbErr> {
    let c = end.counts;
    sync_run::ActiveModel {
        id: Set(run_id),
        finished_at: Set(Some(end.finished_at)),
        outcome: Set(end.outcome),
        fetched: Set(c.fetched as i64),
        added: Set(c.added as i64),
        updated: Set(c.updated as i64),
        removed: Set(c.removed as i64),
        returned: Set(c.returned as i64),
        restored: Set(c.restored as i64),
        unchanged: Set(c.unchanged as i64),
        status_changes: Set(c.status_changes as i64),
        error: Set(end.error.map(|e| e.message.clone())),
        error_code: Set(end.error.map(|e| e.code)),
        error_detail: Set(end.error.map(|e| e.detail.clone())),
        source_digest: Set(end.digest),
        ..Default::default()
    }
    .update(db)
    .await
    .map(|_| ())
}

/// Marks every run older than `run_id` that is still `running` as interrupted at `at`. Called by a run
/// holding the write lock: every run records its end before it releases the lock, so an older run still
/// `running` then is one whose process died.
pub async fn close_interrupted(
    db: &impl ConnectionTrait,
    run_id: i64,
    at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = sync_run::Entity::update_many()
        .col_expr(
            sync_run::Column::Outcome,
            Expr::value(SyncOutcome::Interrupted.as_str()),
        )
        .col_expr(sync_run::Column::FinishedAt, Expr::value(at))
        .col_expr(sync_run::Column::Error, Expr::value(INTERRUPTED))
        .col_expr(
            sync_run::Column::ErrorCode,
            Expr::value(RunErrorCode::Interrupted.as_str()),
        )
        .col_expr(sync_run::Column::ErrorDetail, Expr::value(INTERRUPTED))
        .filter(sync_run::Column::Outcome.eq(SyncOutcome::Running))
        .filter(sync_run::Column::Id.lt(run_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Moves the start of a run recorded before it took the lock to when it did.
pub async fn restamp(
    db: &impl ConnectionTrait,
    run_id: i64,
    started_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    sync_run::ActiveModel {
        id: Set(run_id),
        started_at: Set(started_at),
        ..Default::default()
    }
    .update(db)
    .await
    .map(|_| ())
}

/// Deletes the record of a run that never started (SQLite: recorded before the lock, then skipped).
pub async fn discard(db: &impl ConnectionTrait, run_id: i64) -> Result<(), DbErr> {
    sync_run::Entity::delete_by_id(run_id)
        .exec(db)
        .await
        .map(|_| ())
}

/// The latest successful run of `source`, in `domain` or in any.
pub async fn last_success(
    db: &impl ConnectionTrait,
    source: SyncSource,
    domain: Option<&str>,
) -> Result<Option<LastSuccess>, DbErr> {
    Ok(last_succeeded_run(db, source, domain)
        .await?
        .map(|run| LastSuccess {
            started_at: run.started_at,
            // A success always has its finish time; a row written otherwise falls back to its start.
            finished_at: run.finished_at.unwrap_or(run.started_at),
        }))
}

/// When the latest successful run of `source` finished, per domain, by domain.
pub async fn last_success_per_domain(
    db: &impl ConnectionTrait,
    source: SyncSource,
) -> Result<Vec<(String, DateTime<Utc>)>, DbErr> {
    use sea_orm::QuerySelect as _;
    let rows: Vec<(String, Option<DateTime<Utc>>)> = sync_run::Entity::find()
        .select_only()
        .column(sync_run::Column::Domain)
        .column_as(sync_run::Column::FinishedAt.max(), "finished_at")
        .filter(sync_run::Column::Source.eq(source))
        .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded))
        .group_by(sync_run::Column::Domain)
        .order_by_asc(sync_run::Column::Domain)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(domain, finished)| Some((domain, finished?)))
        .collect())
}

/// The whole row of the latest successful run of `source` (an HR pull reads its digest), in `domain` or
/// in any.
pub async fn last_succeeded_run(
    db: &impl ConnectionTrait,
    source: SyncSource,
    domain: Option<&str>,
) -> Result<Option<sync_run::Model>, DbErr> {
    let mut query = sync_run::Entity::find()
        .filter(sync_run::Column::Source.eq(source))
        .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded));
    if let Some(domain) = domain {
        query = query.filter(sync_run::Column::Domain.eq(domain));
    }
    query.order_by_desc(sync_run::Column::Id).one(db).await
}

/// The latest runs, newest first, whatever their outcome; of one source or of both, of one CareSoft
/// domain or of all.
pub async fn latest(
    db: &impl ConnectionTrait,
    limit: u64,
    source: Option<SyncSource>,
    domain: Option<&str>,
) -> Result<Vec<sync_run::Model>, DbErr> {
    let mut query = sync_run::Entity::find();
    if let Some(source) = source {
        query = query.filter(sync_run::Column::Source.eq(source));
    }
    if let Some(domain) = domain {
        query = query.filter(sync_run::Column::Domain.eq(domain));
    }
    query
        .order_by_desc(sync_run::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// One run by id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    run_id: i64,
) -> Result<Option<sync_run::Model>, DbErr> {
    sync_run::Entity::find_by_id(run_id).one(db).await
}

/// The latest run of `source` in `domain` before run `before` that ended (succeeded, failed or was
/// refused). Dry runs and running ones are not endings of the mirror's state, and neither is an
/// interrupted run: a streak of failures looks through a restart, so a failure that goes on after one is
/// not announced again.
pub async fn previous_end(
    db: &impl ConnectionTrait,
    source: SyncSource,
    domain: &str,
    before: i64,
) -> Result<Option<sync_run::Model>, DbErr> {
    sync_run::Entity::find()
        .filter(sync_run::Column::Source.eq(source))
        .filter(sync_run::Column::Domain.eq(domain))
        .filter(sync_run::Column::Id.lt(before))
        .filter(sync_run::Column::Outcome.is_in([
            SyncOutcome::Succeeded,
            SyncOutcome::Failed,
            SyncOutcome::Refused,
        ]))
        .order_by_desc(sync_run::Column::Id)
        .one(db)
        .await
}

/// How many runs of `source` in `domain` before run `before` failed or were refused since the latest
/// success before it.
pub async fn failures_before(
    db: &impl ConnectionTrait,
    source: SyncSource,
    domain: &str,
    before: i64,
) -> Result<u64, DbErr> {
    let since = sync_run::Entity::find()
        .filter(sync_run::Column::Source.eq(source))
        .filter(sync_run::Column::Domain.eq(domain))
        .filter(sync_run::Column::Id.lt(before))
        .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded))
        .order_by_desc(sync_run::Column::Id)
        .one(db)
        .await?
        .map_or(0, |run| run.id);
    sync_run::Entity::find()
        .filter(sync_run::Column::Source.eq(source))
        .filter(sync_run::Column::Domain.eq(domain))
        .filter(sync_run::Column::Id.gt(since))
        .filter(sync_run::Column::Id.lt(before))
        .filter(sync_run::Column::Outcome.is_in([SyncOutcome::Failed, SyncOutcome::Refused]))
        .count(db)
        .await
}

/// The earliest run of `source` in `domain`, if any ran.
pub async fn first_run(
    db: &impl ConnectionTrait,
    source: SyncSource,
    domain: &str,
) -> Result<Option<sync_run::Model>, DbErr> {
    sync_run::Entity::find()
        .filter(sync_run::Column::Source.eq(source))
        .filter(sync_run::Column::Domain.eq(domain))
        .order_by_asc(sync_run::Column::Id)
        .one(db)
        .await
}
