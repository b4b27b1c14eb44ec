//! `sync_runs`: one row per run of either source (a CareSoft sync, a pull of the HR source). The rules
//! "latest run" and "last success" of a source are written here once; the schedulers, `lastSeenAt`,
//! `freshness`, `/readyz` and removed agents' `last_seen_at` ask them.

use chrono::{DateTime, Utc};
use entity::sync_run;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain::{SyncOutcome, SyncSource, Trigger};

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
        source_digest: Set(None),
    }
    .insert(db)
    .await?;
    Ok(run.id)
}

/// Marks a run succeeded inside the transaction of its changes, so whoever takes the lock next sees the
/// success together with what it changed.
/// `digest` is what an HR file pull applied.
pub async fn mark_succeeded(
    txn: &impl ConnectionTrait,
    run_id: i64,
    finished_at: DateTime<Utc>,
    digest: Option<String>,
) -> Result<(), DbErr> {
    sync_run::ActiveModel {
        id: Set(run_id),
        outcome: Set(SyncOutcome::Succeeded),
        finished_at: Set(Some(finished_at)),
        source_digest: Set(digest),
        ..Default::default()
    }
    .update(txn)
    .await
    .map(|_| ())
}

/// Records how a run ended, with its counts and error.
pub async fn finish(
    db: &impl ConnectionTrait,
    run_id: i64,
    outcome: SyncOutcome,
    finished_at: DateTime<Utc>,
    counts: &SyncCounts,
    error: Option<String>,
) -> Result<(), DbErr> {
    sync_run::ActiveModel {
        id: Set(run_id),
        finished_at: Set(Some(finished_at)),
        outcome: Set(outcome),
        fetched: Set(counts.fetched as i64),
        added: Set(counts.added as i64),
        updated: Set(counts.updated as i64),
        removed: Set(counts.removed as i64),
        returned: Set(counts.returned as i64),
        restored: Set(counts.restored as i64),
        unchanged: Set(counts.unchanged as i64),
        status_changes: Set(counts.status_changes as i64),
        error: Set(error),
        ..Default::default()
    }
    .update(db)
    .await
    .map(|_| ())
}

/// The latest successful run of `source`.
pub async fn last_success(
    db: &impl ConnectionTrait,
    source: SyncSource,
) -> Result<Option<LastSuccess>, DbErr> {
    Ok(last_succeeded_run(db, source)
        .await?
        .map(|run| LastSuccess {
            started_at: run.started_at,
            // A success always has its finish time; a row written otherwise falls back to its start.
            finished_at: run.finished_at.unwrap_or(run.started_at),
        }))
}

/// The whole row of the latest successful run of `source` (an HR pull reads its digest).
pub async fn last_succeeded_run(
    db: &impl ConnectionTrait,
    source: SyncSource,
) -> Result<Option<sync_run::Model>, DbErr> {
    sync_run::Entity::find()
        .filter(sync_run::Column::Source.eq(source))
        .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded))
        .order_by_desc(sync_run::Column::Id)
        .one(db)
        .await
}

/// The latest runs, newest first, whatever their outcome; of one source, or of both.
pub async fn latest(
    db: &impl ConnectionTrait,
    limit: u64,
    source: Option<SyncSource>,
) -> Result<Vec<sync_run::Model>, DbErr> {
    let mut query = sync_run::Entity::find();
    if let Some(source) = source {
        query = query.filter(sync_run::Column::Source.eq(source));
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
