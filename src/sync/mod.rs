//! The sync: fetch CareSoft's whole agent list → validate → diff against the mirror → apply in ONE
//! transaction, with a mass-removal guard, dry runs, and a record of every run whatever its outcome.
//!
//! A failure at any step (fetch, decode, guard, database) rolls the transaction back, so the mirror stays
//! exactly as it was; only the `sync_runs` row, written outside the transaction, records what happened.

pub mod apply;
pub mod diff;
pub mod lock;
pub mod scheduler;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::{agent, sync_run};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use tokio::sync::Mutex;

use crate::caresoft::{CareSoftClient, CareSoftError};
use crate::config::MaxRemoval;
use crate::domain::{LinkCause, SyncOutcome, Trigger};
use crate::events::EventBus;
use crate::reconcile;
pub use diff::{StatusChange, SyncCounts};

/// What the caller asks of one sync.
#[derive(Debug, Clone, Copy)]
pub struct SyncRequest {
    pub trigger: Trigger,
    pub dry_run: bool,
    pub allow_mass_removal: bool,
    /// Wait for a sync running elsewhere (CLI, API) or skip (the scheduler of a replica).
    pub wait_for_lock: bool,
}

impl SyncRequest {
    /// A plain sync started by `trigger` that waits its turn.
    pub fn new(trigger: Trigger) -> Self {
        Self {
            trigger,
            dry_run: false,
            allow_mass_removal: false,
            wait_for_lock: true,
        }
    }
}

/// Why a sync did not apply.
#[derive(Debug, thiserror::Error)]
pub enum SyncFailure {
    #[error("{0}")]
    NotConfigured(String),
    #[error("CareSoft fetch failed: {0}")]
    Fetch(#[from] CareSoftError),
    #[error(
        "refused: would remove {removing} of {current} mirrored agents (limit {limit}); nothing was changed. \
         If CareSoft's list is right, rerun with --allow-mass-removal"
    )]
    MassRemoval {
        removing: usize,
        current: usize,
        limit: MaxRemoval,
    },
    // The database text is logged, not stored: sync runs are readable through the API.
    #[error("database error (details in the server log)")]
    Database(#[from] DbErr),
}

/// The result of one sync, as recorded in `sync_runs`.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub run_id: i64,
    pub trigger: Trigger,
    pub outcome: SyncOutcome,
    pub counts: SyncCounts,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub error: Option<String>,
    /// One human line per planned change (dry runs only).
    pub preview: Vec<String>,
    /// Status changes applied (empty unless succeeded), for live subscribers.
    pub status_changes: Vec<StatusChange>,
}

impl SyncReport {
    /// The one-line summary people and scripts read, e.g.
    /// `sync ok: 1204 agents, 3 added, 5 updated, 2 removed, 0 returned, 17 status changes in 0.84 s`.
    pub fn summary_line(&self) -> String {
        let word = match self.outcome {
            SyncOutcome::Succeeded => "ok",
            SyncOutcome::DryRun => "dry-run",
            SyncOutcome::Refused => "refused",
            SyncOutcome::Failed => "failed",
            SyncOutcome::Running => "running",
        };
        let c = &self.counts;
        let mut line = format!(
            "sync {word}: {} agents, {} added, {} updated, {} removed, {} returned, {} status changes in {:.2} s",
            c.fetched,
            c.added,
            c.updated,
            c.removed,
            c.returned,
            c.status_changes,
            self.duration.as_secs_f64()
        );
        match (self.outcome, &self.error) {
            (SyncOutcome::DryRun, _) => line.push_str(" (dry run: nothing changed)"),
            (_, Some(error)) => {
                line.push_str(" — ");
                line.push_str(error);
            }
            _ => {}
        }
        line
    }

    /// The report as JSON for `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "run_id": self.run_id,
            "trigger": self.trigger.as_str(),
            "outcome": self.outcome.as_str(),
            "counts": self.counts,
            "started_at": self.started_at.to_rfc3339(),
            "duration_seconds": self.duration.as_secs_f64(),
            "error": self.error,
            "preview": self.preview,
        })
    }
}

/// Runs syncs, one at a time per process (and, through the database lock, one at a time per database).
#[derive(Debug)]
pub struct Syncer {
    db: DatabaseConnection,
    client: Result<CareSoftClient, String>,
    domain: String,
    max_removal: MaxRemoval,
    single_flight: Mutex<()>,
    events: Option<EventBus>,
}

impl Syncer {
    /// A syncer; `client` is an error text when CareSoft is not configured (syncs then fail with it).
    pub fn new(
        db: DatabaseConnection,
        client: Result<CareSoftClient, String>,
        domain: String,
        max_removal: MaxRemoval,
    ) -> Self {
        Self {
            db,
            client,
            domain,
            max_removal,
            single_flight: Mutex::new(()),
            events: None,
        }
    }

    /// Publishes finished runs and applied status changes on `events`.
    pub fn with_events(mut self, events: EventBus) -> Self {
        self.events = Some(events);
        self
    }

    /// The database this syncer writes.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Runs one sync and records it, waiting for any sync already running (here or, on PostgreSQL, in
    /// another process). `Err` only when even the run record cannot be written.
    pub async fn run(&self, request: SyncRequest) -> Result<SyncReport, DbErr> {
        let request = SyncRequest {
            wait_for_lock: true,
            ..request
        };
        match self.run_inner(request, None).await? {
            Some(report) => Ok(report),
            // Unreachable while waiting for the lock, but a report beats a panic if that ever changes.
            None => Err(DbErr::Custom("sync skipped".into())),
        }
    }

    /// When the latest successful sync started, whichever process ran it.
    pub async fn last_success(&self) -> Result<Option<DateTime<Utc>>, DbErr> {
        last_success(&self.db).await
    }

    /// A scheduled sync: skipped (`None`, nothing recorded) when another sync holds the lock or a sync
    /// succeeded since `fresh_since`, so replicas sharing a database fetch once per interval between them.
    pub async fn run_scheduled(
        &self,
        fresh_since: DateTime<Utc>,
    ) -> Result<Option<SyncReport>, DbErr> {
        let request = SyncRequest {
            wait_for_lock: false,
            ..SyncRequest::new(Trigger::Schedule)
        };
        self.run_inner(request, Some(fresh_since)).await
    }

    #[tracing::instrument(skip(self), fields(trigger = request.trigger.as_str(), dry_run = request.dry_run))]
    async fn run_inner(
        &self,
        request: SyncRequest,
        fresh_since: Option<DateTime<Utc>>,
    ) -> Result<Option<SyncReport>, DbErr> {
        let _flight = if request.wait_for_lock {
            self.single_flight.lock().await
        } else {
            match self.single_flight.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(None),
            }
        };
        // The transaction and its lock come first, before the fetch: whoever holds the lock is the only one
        // talking to CareSoft, and the others wait (CLI, API) or skip (schedule).
        let txn = self.db.begin().await?;
        // Held to the end of this function, past commit or rollback inside `execute`.
        let Some(_write_lock) = lock::acquire(&txn, request.wait_for_lock).await? else {
            txn.rollback().await?;
            tracing::debug!("another sync, import or override holds the lock; skipped");
            return Ok(None);
        };
        // Read through the pool, not `txn`: on SQLite a read inside `txn` would pin its WAL snapshot before
        // the run row below is written from another connection, and the sync's first write would then fail
        // with SQLITE_BUSY_SNAPSHOT ("database is locked", code 517). On PostgreSQL the lock is held either
        // way and READ COMMITTED sees the same rows.
        if let Some(since) = fresh_since
            && let Some(last) = last_success(&self.db).await?
            && last >= since
        {
            txn.rollback().await?;
            tracing::debug!(last_success = %last, "a sync succeeded recently; skipped");
            return Ok(None);
        }
        // Stamped once the lock is ours: a run that waited for another replica's sync must not appear to
        // overlap it, and its duration (and the freshness checks built on `started_at`) exclude the wait.
        let started = Instant::now();
        let started_at = Utc::now();

        let run = sync_run::ActiveModel {
            id: NotSet,
            trigger: Set(request.trigger.as_str().into()),
            domain: Set(self.domain.clone()),
            started_at: Set(started_at),
            finished_at: Set(None),
            outcome: Set(SyncOutcome::Running.as_str().into()),
            fetched: Set(0),
            added: Set(0),
            updated: Set(0),
            removed: Set(0),
            returned: Set(0),
            unchanged: Set(0),
            status_changes: Set(0),
            error: Set(None),
        }
        .insert(&self.db)
        .await?;

        let mut report = SyncReport {
            run_id: run.id,
            trigger: request.trigger,
            outcome: SyncOutcome::Running,
            counts: SyncCounts::default(),
            started_at,
            duration: Duration::ZERO,
            error: None,
            preview: Vec::new(),
            status_changes: Vec::new(),
        };
        // When the work ended, stamped before the transaction (and with it the PostgreSQL lock) is released:
        // a run that takes the lock next then never appears to start before this one finished.
        let mut ended_at = None;
        match self
            .execute(txn, &request, run.id, &mut report, &mut ended_at)
            .await
        {
            Ok(outcome) => report.outcome = outcome,
            Err(failure) => {
                report.outcome = match failure {
                    SyncFailure::MassRemoval { .. } => SyncOutcome::Refused,
                    _ => SyncOutcome::Failed,
                };
                if let SyncFailure::Database(err) = &failure {
                    tracing::error!(error = %err, "sync rolled back on a database error");
                }
                report.error = Some(failure.to_string());
            }
        }
        report.duration = started.elapsed();

        let c = report.counts;
        sync_run::ActiveModel {
            id: Set(run.id),
            finished_at: Set(Some(ended_at.unwrap_or_else(Utc::now))),
            outcome: Set(report.outcome.as_str().into()),
            fetched: Set(c.fetched as i64),
            added: Set(c.added as i64),
            updated: Set(c.updated as i64),
            removed: Set(c.removed as i64),
            returned: Set(c.returned as i64),
            unchanged: Set(c.unchanged as i64),
            status_changes: Set(c.status_changes as i64),
            error: Set(report.error.clone()),
            ..Default::default()
        }
        .update(&self.db)
        .await?;

        crate::metrics::record_sync(
            report.outcome.as_str(),
            report.trigger.as_str(),
            report.duration,
        );
        tracing::info!(
            run_id = report.run_id,
            trigger = report.trigger.as_str(),
            outcome = report.outcome.as_str(),
            fetched = c.fetched,
            added = c.added,
            updated = c.updated,
            removed = c.removed,
            returned = c.returned,
            unchanged = c.unchanged,
            status_changes = c.status_changes,
            seconds = report.duration.as_secs_f64(),
            error = report.error.as_deref(),
            "sync finished"
        );
        if let Some(events) = &self.events {
            events
                .announce(&self.db, report.run_id, &report.status_changes, Utc::now())
                .await;
        }
        Ok(Some(report))
    }

    async fn execute(
        &self,
        txn: DatabaseTransaction,
        request: &SyncRequest,
        run_id: i64,
        report: &mut SyncReport,
        ended_at: &mut Option<DateTime<Utc>>,
    ) -> Result<SyncOutcome, SyncFailure> {
        let client = self
            .client
            .as_ref()
            .map_err(|msg| SyncFailure::NotConfigured(msg.clone()))?;
        let agents = match client.fetch_agents().await {
            Ok(agents) => agents,
            Err(err) => {
                *ended_at = Some(Utc::now());
                txn.rollback().await?;
                return Err(err.into());
            }
        };

        let now = Utc::now();
        let incoming = diff::rows_of(&agents, &self.domain, now);
        drop(agents);
        let mirror = read_mirror(&txn, &incoming).await?;
        let plan = diff::plan(&mirror, incoming);
        report.counts = plan.counts;
        if request.dry_run {
            // Before the guard, so a dry run that would be refused still shows what would be removed.
            report.preview = preview(&plan, &mirror.rows);
        }

        if !request.allow_mass_removal
            && self
                .max_removal
                .is_exceeded(plan.removals.len(), plan.current_before)
        {
            *ended_at = Some(Utc::now());
            txn.rollback().await?;
            return Err(SyncFailure::MassRemoval {
                removing: plan.removals.len(),
                current: plan.current_before,
                limit: self.max_removal,
            });
        }
        if request.dry_run {
            *ended_at = Some(Utc::now());
            txn.rollback().await?;
            return Ok(SyncOutcome::DryRun);
        }

        let previous_seen = last_success(&txn).await?.unwrap_or(now);
        apply::apply(&txn, &plan, run_id, now, previous_seen).await?;
        if !plan.is_empty() {
            reconcile::recompute(&txn, LinkCause::Sync, now).await?;
        }
        *ended_at = Some(Utc::now());
        // The success is committed with the changes it made: a replica that takes the lock the moment it is
        // released must already see it, or its freshness check would find the mirror stale and fetch again.
        sync_run::ActiveModel {
            id: Set(run_id),
            outcome: Set(SyncOutcome::Succeeded.as_str().into()),
            finished_at: Set(*ended_at),
            ..Default::default()
        }
        .update(&txn)
        .await?;
        txn.commit().await?;
        report.status_changes = plan
            .status_changes
            .into_iter()
            .filter(|c| c.old_status.is_some())
            .collect();
        Ok(SyncOutcome::Succeeded)
    }
}

/// Every stored agent's presence and fingerprint, then the full rows of those the diff must compare.
#[tracing::instrument(skip_all, fields(stored, loaded))]
async fn read_mirror(
    txn: &DatabaseTransaction,
    incoming: &[agent::Model],
) -> Result<diff::Mirror, DbErr> {
    let stored: HashMap<i64, diff::Stored> = agent::Entity::find()
        .select_only()
        .columns([
            agent::Column::Id,
            agent::Column::RemovedAt,
            agent::Column::Fingerprint,
        ])
        .into_tuple::<(i64, Option<DateTime<Utc>>, Option<i64>)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, removed_at, fingerprint)| {
            let stored = diff::Stored {
                removed: removed_at.is_some(),
                fingerprint,
            };
            (id, stored)
        })
        .collect();
    let wanted = diff::rows_to_load(&stored, incoming);
    let mut rows = HashMap::with_capacity(wanted.len());
    let chunk = crate::db::rows_per_statement(txn.get_database_backend(), 1);
    for ids in wanted.chunks(chunk) {
        for row in agent::Entity::find()
            .filter(agent::Column::Id.is_in(ids.iter().copied()))
            .all(txn)
            .await?
        {
            rows.insert(row.id, row);
        }
    }
    let span = tracing::Span::current();
    span.record("stored", stored.len());
    span.record("loaded", rows.len());
    Ok(diff::Mirror { stored, rows })
}

/// When the latest successful sync started.
async fn last_success(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(sync_run::Entity::find()
        .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded.as_str()))
        .order_by_desc(sync_run::Column::StartedAt)
        .one(db)
        .await?
        .map(|run| run.started_at))
}

/// Human lines describing a plan, for `--dry-run`.
fn preview(plan: &diff::Plan, mirror: &HashMap<i64, agent::Model>) -> Vec<String> {
    let name = |id: i64, row: Option<&agent::Model>| match row.and_then(|r| r.username.as_deref()) {
        Some(username) => format!("{id} ({username})"),
        None => id.to_string(),
    };
    let mut lines = Vec::new();
    for row in &plan.upserts {
        match mirror.get(&row.id) {
            None => lines.push(format!("add {}", name(row.id, Some(row)))),
            Some(old) if old.removed_at.is_some() => {
                lines.push(format!("return {}", name(row.id, Some(row))))
            }
            Some(_) => {}
        }
    }
    for change in &plan.roster_changes {
        if change.field != "presence" {
            lines.push(format!(
                "update {}: {} {} -> {}",
                name(change.agent_id, mirror.get(&change.agent_id)),
                change.field,
                change.old_value.as_deref().unwrap_or("null"),
                change.new_value.as_deref().unwrap_or("null")
            ));
        }
    }
    for change in plan
        .status_changes
        .iter()
        .filter(|c| c.old_status.is_some())
    {
        lines.push(format!(
            "status {}: {} {} -> {}",
            name(change.agent_id, mirror.get(&change.agent_id)),
            change.channel,
            change.old_status.map_or("null", |s| s.as_str()),
            change.new_status.as_str()
        ));
    }
    for &id in &plan.removals {
        lines.push(format!("remove {}", name(id, mirror.get(&id))));
    }
    lines
}
