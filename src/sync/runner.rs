//! What every run does, whichever source it reads: one at a time per process and, through the write lock,
//! per database; skipped by a scheduler when another replica ran it recently; recorded in `sync_runs`
//! whatever its outcome, measured, logged and announced to subscribers. A [`Job`] supplies the rest: the
//! read of its source and what it applies, inside the transaction the runner hands it.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Mutex;

use super::{SourceError, SyncCounts, SyncFailure, SyncReport, SyncRequest};
use crate::domain::{SyncOutcome, SyncSource, Trigger};
use crate::events::EventBus;
use crate::store::{self, WriteTxn};

/// A kind of run: what it reads and what it applies.
pub trait Job: Send + Sync + std::fmt::Debug + 'static {
    /// The source its runs are recorded under.
    const SOURCE: SyncSource;

    /// The CareSoft domain its runs are recorded with (empty for the HR source).
    fn domain(&self) -> &str;

    /// Why its source is not set up, if it is not; its runs then fail with it
    /// ([`SyncFailure::NotConfigured`]).
    fn source_error(&self) -> Option<&Arc<SourceError>>;

    /// Reads the source and applies it in `txn`, which holds the write lock, filling `report` as it goes.
    /// The runner ends the transaction: it commits on [`Finish::Commit`] and rolls back otherwise.
    fn execute(
        &self,
        txn: &WriteTxn,
        request: &SyncRequest,
        report: &mut SyncReport,
    ) -> impl Future<Output = Result<Finish, SyncFailure>> + Send;
}

/// How a job's work ends, short of a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// Commit the changes, recording the digest of what was applied (an HR file), if any.
    Commit { digest: Option<String> },
    /// A dry run: roll everything back.
    DryRun,
}

/// Runs the runs of one [`Job`].
#[derive(Debug)]
pub struct Runner<J> {
    db: DatabaseConnection,
    job: J,
    single_flight: Mutex<()>,
    events: Option<EventBus>,
}

impl<J: Job> Runner<J> {
    /// A runner of `job` writing to `db`.
    pub fn with_job(db: DatabaseConnection, job: J) -> Self {
        Self {
            db,
            job,
            single_flight: Mutex::new(()),
            events: None,
        }
    }

    /// Publishes finished runs and applied status changes on `events`.
    pub fn with_events(mut self, events: EventBus) -> Self {
        self.events = Some(events);
        self
    }

    /// The database this runner writes.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Whether its source is set up.
    pub fn configured(&self) -> bool {
        self.job.source_error().is_none()
    }

    /// Runs once and records it, waiting for any run or write already going on (here or, on PostgreSQL,
    /// in another process). `Err` only when even the run record cannot be written.
    pub async fn run(&self, request: SyncRequest) -> Result<SyncReport, DbErr> {
        let request = SyncRequest {
            wait_for_lock: true,
            ..request
        };
        match self.run_inner(request, None).await? {
            Some(report) => Ok(report),
            // Unreachable while waiting for the lock, but a report beats a panic if that ever changes.
            None => Err(DbErr::Custom("run skipped".into())),
        }
    }

    /// The latest successful run of this source, whichever process ran it.
    pub async fn last_success(&self) -> Result<Option<store::runs::LastSuccess>, DbErr> {
        store::runs::last_success(&self.db, J::SOURCE).await
    }

    /// A scheduled run: skipped (`None`, nothing recorded) when another writer holds the lock or a run of
    /// this source succeeded since `fresh_since`, so replicas sharing a database run once per interval
    /// between them.
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

    #[tracing::instrument(skip(self), fields(source = J::SOURCE.as_str(), trigger = request.trigger.as_str(), dry_run = request.dry_run))]
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
        // The transaction and its lock come first, before the read: whoever holds the lock is the only one
        // reading the source, and the others wait (CLI, API) or skip (schedule).
        let txn = match request.wait_for_lock {
            true => Some(store::begin_write(&self.db).await?),
            false => store::try_begin_write(&self.db).await?,
        };
        let Some(txn) = txn else {
            tracing::debug!("another run, import or override holds the lock; skipped");
            return Ok(None);
        };
        // Read through the pool, not `txn`: on SQLite a read inside `txn` would pin its WAL snapshot before
        // the run row below is written from another connection, and the run's first write would then fail
        // with SQLITE_BUSY_SNAPSHOT ("database is locked", code 517). On PostgreSQL the lock is held either
        // way and READ COMMITTED sees the same rows.
        if let Some(since) = fresh_since
            && let Some(last) = store::runs::last_success(&self.db, J::SOURCE).await?
            && last.started_at >= since
        {
            txn.rollback().await?;
            tracing::debug!(last_success = %last.started_at, "a run succeeded recently; skipped");
            return Ok(None);
        }
        // Stamped once the lock is ours: a run that waited for another replica's run must not appear to
        // overlap it, and its duration (and the freshness checks built on `started_at`) exclude the wait.
        let started = Instant::now();
        let started_at = Utc::now();
        let run_id = store::runs::start(
            &self.db,
            J::SOURCE,
            request.trigger,
            self.job.domain(),
            started_at,
        )
        .await?;

        let mut report = SyncReport {
            run_id,
            source: J::SOURCE,
            trigger: request.trigger,
            outcome: SyncOutcome::Running,
            counts: SyncCounts::default(),
            started_at,
            ended_at: None,
            duration: Duration::ZERO,
            error: None,
            preview: Vec::new(),
            status_changes: Vec::new(),
        };
        match self.execute(txn, &request, &mut report).await {
            Ok(outcome) => report.outcome = outcome,
            Err(failure) => {
                report.outcome = failure.outcome();
                if let SyncFailure::Database(err) = &failure {
                    tracing::error!(error = %err, "run rolled back on a database error");
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
            report.ended_at.unwrap_or_else(Utc::now),
            &c,
            report.error.clone(),
        )
        .await?;

        crate::metrics::record_sync(
            J::SOURCE.as_str(),
            report.outcome.as_str(),
            report.trigger.as_str(),
            report.duration,
        );
        tracing::info!(
            run_id = report.run_id,
            source = J::SOURCE.as_str(),
            trigger = report.trigger.as_str(),
            outcome = report.outcome.as_str(),
            fetched = c.fetched,
            added = c.added,
            updated = c.updated,
            removed = c.removed,
            returned = c.returned,
            restored = c.restored,
            unchanged = c.unchanged,
            status_changes = c.status_changes,
            seconds = report.duration.as_secs_f64(),
            error = report.error.as_deref(),
            "{} finished",
            match J::SOURCE {
                SyncSource::Caresoft => "sync",
                SyncSource::Hr => "HR pull",
            }
        );
        if let Some(events) = &self.events {
            events
                .announce(&self.db, report.run_id, &report.status_changes, Utc::now())
                .await;
        }
        Ok(Some(report))
    }

    /// The job's work in `txn`, and the end of `txn`. `ended_at` is stamped before the transaction (and with
    /// it the PostgreSQL lock) is released, so a run that takes the lock next never appears to start before
    /// this one ended; a success is committed with the changes it made, so whoever takes the lock next
    /// sees both (a replica's freshness check included).
    async fn execute(
        &self,
        txn: WriteTxn,
        request: &SyncRequest,
        report: &mut SyncReport,
    ) -> Result<SyncOutcome, SyncFailure> {
        let result = self.job.execute(&txn, request, report).await;
        let ended_at = Utc::now();
        report.ended_at = Some(ended_at);
        match result {
            Ok(Finish::Commit { digest }) => {
                let committed = async {
                    store::runs::mark_succeeded(&*txn, report.run_id, ended_at, digest).await?;
                    txn.commit().await
                };
                if let Err(err) = committed.await {
                    report.status_changes.clear();
                    return Err(err.into());
                }
                Ok(SyncOutcome::Succeeded)
            }
            Ok(Finish::DryRun) => {
                txn.rollback().await?;
                Ok(SyncOutcome::DryRun)
            }
            Err(failure) => {
                report.status_changes.clear();
                if let Err(err) = txn.rollback().await {
                    tracing::warn!(error = %err, "rolling back a failed run");
                }
                Err(failure)
            }
        }
    }
}
