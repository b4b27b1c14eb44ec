//! The sync: fetch CareSoft's whole agent list → validate → diff against the mirror → apply in ONE
//! transaction, with a mass-removal guard, dry runs, and a record of every run whatever its outcome.
//!
//! A failure at any step (fetch, decode, guard, database) rolls the transaction back, so the mirror stays
//! exactly as it was; only the `sync_runs` row, written outside the transaction, records what happened.

pub mod apply;
pub mod diff;
pub mod scheduler;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::agent;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Mutex;

use crate::caresoft::{AgentDirectory, CareSoftError};
use crate::config::{ConfigError, MaxRemoval};
use crate::domain::{LinkCause, SyncOutcome, Trigger};
use crate::events::{EventBus, StatusChange};
use crate::reconcile;
use crate::store::{self, WriteTxn};
pub use store::runs::SyncCounts;

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

/// Why a syncer has no agent source: CareSoft is not configured, or its client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Client(#[from] CareSoftError),
}

/// Why a sync did not apply.
#[derive(Debug, thiserror::Error)]
pub enum SyncFailure {
    #[error("{0}")]
    NotConfigured(Arc<SourceError>),
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
    source: Result<Arc<dyn AgentDirectory>, Arc<SourceError>>,
    domain: String,
    max_removal: MaxRemoval,
    single_flight: Mutex<()>,
    events: Option<EventBus>,
}

impl Syncer {
    /// A syncer of the agents `source` lists; when it has none (CareSoft not configured), every sync
    /// fails saying why.
    pub fn new(
        db: DatabaseConnection,
        source: Result<Arc<dyn AgentDirectory>, SourceError>,
        domain: String,
        max_removal: MaxRemoval,
    ) -> Self {
        Self {
            db,
            source: source.map_err(Arc::new),
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

    /// The latest successful sync, whichever process ran it.
    pub async fn last_success(&self) -> Result<Option<store::runs::LastSuccess>, DbErr> {
        store::runs::last_success(&self.db).await
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
        let txn = match request.wait_for_lock {
            true => Some(store::begin_write(&self.db).await?),
            false => store::try_begin_write(&self.db).await?,
        };
        let Some(txn) = txn else {
            tracing::debug!("another sync, import or override holds the lock; skipped");
            return Ok(None);
        };
        // Read through the pool, not `txn`: on SQLite a read inside `txn` would pin its WAL snapshot before
        // the run row below is written from another connection, and the sync's first write would then fail
        // with SQLITE_BUSY_SNAPSHOT ("database is locked", code 517). On PostgreSQL the lock is held either
        // way and READ COMMITTED sees the same rows.
        if let Some(since) = fresh_since
            && let Some(last) = store::runs::last_success(&self.db).await?
            && last.started_at >= since
        {
            txn.rollback().await?;
            tracing::debug!(last_success = %last.started_at, "a sync succeeded recently; skipped");
            return Ok(None);
        }
        // Stamped once the lock is ours: a run that waited for another replica's sync must not appear to
        // overlap it, and its duration (and the freshness checks built on `started_at`) exclude the wait.
        let started = Instant::now();
        let started_at = Utc::now();

        let run_id =
            store::runs::start(&self.db, request.trigger, &self.domain, started_at).await?;

        let mut report = SyncReport {
            run_id,
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
            .execute(txn, &request, run_id, &mut report, &mut ended_at)
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
        store::runs::finish(
            &self.db,
            run_id,
            report.outcome,
            ended_at.unwrap_or_else(Utc::now),
            &c,
            report.error.clone(),
        )
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
        txn: WriteTxn,
        request: &SyncRequest,
        run_id: i64,
        report: &mut SyncReport,
        ended_at: &mut Option<DateTime<Utc>>,
    ) -> Result<SyncOutcome, SyncFailure> {
        let source = match &self.source {
            Ok(source) => source,
            Err(err) => {
                txn.rollback().await?;
                return Err(SyncFailure::NotConfigured(err.clone()));
            }
        };
        let agents = match source.fetch_agents().await {
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

        let previous_seen = store::runs::last_success(&*txn)
            .await?
            .map_or(now, |last| last.started_at);
        apply::apply(&*txn, &plan, run_id, now, previous_seen).await?;
        if !plan.is_empty() {
            reconcile::recompute(&*txn, LinkCause::Sync, now).await?;
        }
        let finished_at = Utc::now();
        *ended_at = Some(finished_at);
        // The success is committed with the changes it made: a replica that takes the lock the moment it is
        // released must already see it, or its freshness check would find the mirror stale and fetch again.
        store::runs::mark_succeeded(&*txn, run_id, finished_at).await?;
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
async fn read_mirror(txn: &WriteTxn, incoming: &[agent::Model]) -> Result<diff::Mirror, DbErr> {
    let stored = store::agents::presence(&**txn).await?;
    let wanted = diff::rows_to_load(&stored, incoming);
    let rows: HashMap<i64, agent::Model> = store::agents::by_ids(&**txn, &wanted)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let span = tracing::Span::current();
    span.record("stored", stored.len());
    span.record("loaded", rows.len());
    Ok(diff::Mirror { stored, rows })
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
