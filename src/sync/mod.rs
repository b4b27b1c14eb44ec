//! The sync: fetch CareSoft's whole agent list → validate → diff against the mirror → apply in ONE
//! transaction, with a mass-removal guard, dry runs, and a record of every run whatever its outcome.
//!
//! A failure at any step (fetch, decode, guard, database) rolls the transaction back, so the mirror stays
//! exactly as it was; only the `sync_runs` row, written outside the transaction, records what happened.
//! What every run shares with the pulls of the HR source (locking, records, metrics, announcements) is
//! [`runner::Runner`]; what is CareSoft's own is [`CareSoftSync`].

pub mod apply;
pub mod diff;
pub mod domains;
pub mod failure;
pub mod keys;
pub mod runner;
pub mod scheduler;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::agent;
use sea_orm::{DatabaseConnection, DbErr};

use crate::caresoft::{AgentDirectory, CareSoftError};
use crate::config::{ConfigError, MaxRemoval};
use crate::domain::{LinkCause, SyncOutcome, SyncSource, Trigger};
use crate::events::StatusChange;
use crate::store::{self, WriteTxn};
use crate::{alerts, reconcile};
pub use domains::Syncers;
pub use failure::{RunError, Surface, SyncFailure};
pub use runner::{Finish, Job, Runner};
pub use store::runs::SyncCounts;

/// What the caller asks of one run.
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

/// Why a runner has no source: it is not configured, or (CareSoft) its client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Client(#[from] CareSoftError),
}

/// The result of one run, as recorded in `sync_runs`.
#[derive(Debug, Clone)]
pub struct SyncReport {
    pub run_id: i64,
    pub source: SyncSource,
    pub trigger: Trigger,
    pub outcome: SyncOutcome,
    pub counts: SyncCounts,
    pub started_at: DateTime<Utc>,
    /// When the work ended, stamped before the transaction (and with it the PostgreSQL lock) is released.
    pub ended_at: Option<DateTime<Utc>>,
    pub duration: Duration,
    pub error: Option<RunError>,
    /// One human line per planned change (dry runs only).
    pub preview: Vec<String>,
    /// Status changes applied (empty unless succeeded), for live subscribers.
    pub status_changes: Vec<StatusChange>,
}

impl SyncReport {
    /// The report of run `run_id`, begun at `started_at`, before anything happened.
    pub fn started(
        run_id: i64,
        source: SyncSource,
        trigger: Trigger,
        started_at: DateTime<Utc>,
    ) -> Self {
        Self {
            run_id,
            source,
            trigger,
            outcome: SyncOutcome::Running,
            counts: SyncCounts::default(),
            started_at,
            ended_at: None,
            duration: Duration::ZERO,
            error: None,
            preview: Vec::new(),
            status_changes: Vec::new(),
        }
    }

    /// The one-line summary people and scripts read, e.g.
    /// `sync ok: 1204 agents, 3 added, 5 updated, 2 removed, 0 returned, 17 status changes in 0.84 s` or
    /// `sync-hr ok: 980 employees, 3 added, 2 updated, 1 removed, 0 restored, 975 unchanged in 0.31 s`.
    pub fn summary_line(&self) -> String {
        let word = match self.outcome {
            SyncOutcome::Succeeded => "ok",
            SyncOutcome::DryRun => "dry-run",
            SyncOutcome::Refused => "refused",
            SyncOutcome::Failed => "failed",
            SyncOutcome::Running => "running",
            SyncOutcome::Interrupted => "interrupted",
        };
        let c = &self.counts;
        let seconds = self.duration.as_secs_f64();
        let mut line = match self.source {
            SyncSource::Caresoft => format!(
                "sync {word}: {} agents, {} added, {} updated, {} removed, {} returned, {} status changes in {seconds:.2} s",
                c.fetched, c.added, c.updated, c.removed, c.returned, c.status_changes,
            ),
            SyncSource::Hr => format!(
                "sync-hr {word}: {} employees, {} added, {} updated, {} removed, {} restored, {} unchanged in {seconds:.2} s",
                c.fetched, c.added, c.updated, c.removed, c.restored, c.unchanged,
            ),
        };
        match (self.outcome, &self.error) {
            (SyncOutcome::DryRun, _) => line.push_str(" (dry run: nothing changed)"),
            (_, Some(_)) => {
                line.push_str(" — ");
                line.push_str(&self.error_for(Surface::Cli));
            }
            _ => {}
        }
        line
    }

    /// The report as JSON for `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "run_id": self.run_id,
            "source": self.source.as_str(),
            "trigger": self.trigger.as_str(),
            "outcome": self.outcome.as_str(),
            "counts": self.counts,
            "started_at": self.started_at.to_rfc3339(),
            "duration_seconds": self.duration.as_secs_f64(),
            "error": self.error.as_ref().map(|_| self.error_for(Surface::Cli)),
            "error_code": self.error.as_ref().map(|e| e.code.as_str()),
            "preview": self.preview,
        })
    }

    /// The error in full, with the advice in the words of `surface` (empty when the run did not fail).
    pub fn error_for(&self, surface: Surface) -> String {
        match &self.error {
            Some(error) => {
                failure::with_advice(&error.detail, Some(error.code), self.source, surface)
            }
            None => String::new(),
        }
    }

    /// How the run ended, for its record.
    pub fn end(&self, digest: Option<String>) -> store::runs::RunEnd<'_> {
        store::runs::RunEnd {
            outcome: self.outcome,
            finished_at: self.ended_at.unwrap_or_else(Utc::now),
            counts: &self.counts,
            error: self.error.as_ref(),
            digest,
        }
    }
}

/// Syncs of CareSoft's agent list.
pub type Syncer = Runner<CareSoftSync>;

impl Syncer {
    /// A syncer of the agents `source` lists; when it has none (CareSoft not configured), every sync
    /// fails saying why.
    pub fn new(
        db: DatabaseConnection,
        source: Result<Arc<dyn AgentDirectory>, SourceError>,
        domain: String,
        max_removal: MaxRemoval,
    ) -> Self {
        Runner::with_job(
            db,
            CareSoftSync {
                source: source.map_err(Arc::new),
                domain,
                max_removal,
            },
        )
    }
}

/// The CareSoft sync: fetch, diff against the mirror, guard, apply, recompute links.
#[derive(Debug)]
pub struct CareSoftSync {
    source: Result<Arc<dyn AgentDirectory>, Arc<SourceError>>,
    domain: String,
    max_removal: MaxRemoval,
}

impl Job for CareSoftSync {
    const SOURCE: SyncSource = SyncSource::Caresoft;

    fn domain(&self) -> &str {
        &self.domain
    }

    fn source_error(&self) -> Option<&Arc<SourceError>> {
        self.source.as_ref().err()
    }

    async fn execute(
        &self,
        txn: &WriteTxn,
        request: &SyncRequest,
        report: &mut SyncReport,
    ) -> Result<Finish, SyncFailure> {
        let source = self
            .source
            .as_ref()
            .map_err(|err| SyncFailure::NotConfigured(err.clone()))?;
        // Both lists or nothing: a failure of either fails the run before anything is written.
        let (agents, groups) = tokio::try_join!(source.fetch_agents(), source.fetch_groups())?;

        let now = Utc::now();
        let mut incoming = diff::rows_of(&agents, &self.domain, now);
        drop(agents);
        let mirror = read_mirror(txn, &self.domain, &mut incoming).await?;
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
            return Err(SyncFailure::MassRemoval {
                removing: plan.removals.len(),
                current: plan.current_before,
                limit: self.max_removal,
            });
        }
        if request.dry_run {
            return Ok(Finish::DryRun);
        }

        let previous_seen =
            store::runs::last_success(&**txn, SyncSource::Caresoft, Some(&self.domain))
                .await?
                .map_or(now, |last| last.started_at);
        apply::apply(&**txn, &plan, report.run_id, now, previous_seen).await?;
        let groups = store::groups::sync(&**txn, &self.domain, &groups, report.run_id, now).await?;
        if !groups.is_empty() {
            tracing::info!(
                domain = %self.domain,
                added = groups.added,
                renamed = groups.renamed,
                removed = groups.removed,
                returned = groups.returned,
                "CareSoft groups changed"
            );
        }
        if !plan.is_empty() {
            let recomputed =
                reconcile::matching::recompute_in(&**txn, LinkCause::Sync, now, Some(&self.domain))
                    .await?;
            let changes = alerts::findings::Changes {
                links: &recomputed.changes,
                terminated: &[],
                run_id: Some(report.run_id),
            };
            alerts::findings::raise_for_changes(&**txn, changes, now).await?;
        }
        report.status_changes = plan
            .status_changes
            .into_iter()
            .filter(|c| c.old_status.is_some())
            .collect();
        Ok(Finish::Commit { digest: None })
    }
}

/// Every stored agent's presence and fingerprint in `domain`, the mirror key of each of `incoming`
/// ([`keys::assign`]), then the full rows of those the diff must compare.
#[tracing::instrument(skip_all, fields(stored, loaded, offset_keys))]
async fn read_mirror(
    txn: &WriteTxn,
    domain: &str,
    incoming: &mut [agent::Model],
) -> Result<diff::Mirror, DbErr> {
    let store::agents::DomainMirror {
        presence: stored,
        keys: known,
    } = store::agents::presence(&**txn, domain).await?;
    // Other domains' keys matter only for agents this domain has never had.
    let mut taken = HashSet::new();
    if incoming
        .iter()
        .any(|row| !known.contains_key(&row.caresoft_id))
    {
        taken.extend(store::agents::keys_outside(&**txn, domain).await?);
    }
    let offset = keys::assign(incoming, &known, &mut taken);
    if offset > 0 {
        tracing::warn!(
            domain,
            agents = offset,
            "CareSoft ids already held by another domain's agents: given keys of their own"
        );
    }
    let wanted = diff::rows_to_load(&stored, incoming);
    let rows: HashMap<i64, agent::Model> = store::agents::by_ids(&**txn, &wanted)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let span = tracing::Span::current();
    span.record("stored", stored.len());
    span.record("loaded", rows.len());
    span.record("offset_keys", offset);
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
