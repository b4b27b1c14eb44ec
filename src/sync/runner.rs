//! What every run does, whichever source it reads: one at a time per process and, through the write lock,
//! per database; skipped by a scheduler when another replica ran it recently; recorded in `sync_runs`
//! whatever its outcome, measured, logged and announced to subscribers. A [`Job`] supplies the rest: the
//! read of its source and what it applies, inside the transaction the runner hands it.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr};
use tokio::sync::Mutex;

use super::{SourceError, SyncFailure, SyncReport, SyncRequest};
use crate::alerts;
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

    /// The CareSoft domain its runs are recorded with (empty for the HR source).
    pub fn domain(&self) -> &str {
        self.job.domain()
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

    /// The latest successful run of this source (and domain), whichever process ran it.
    pub async fn last_success(&self) -> Result<Option<store::runs::LastSuccess>, DbErr> {
        store::runs::last_success(&self.db, J::SOURCE, Some(self.job.domain())).await
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

    #[tracing::instrument(skip(self), fields(source = J::SOURCE.as_str(), domain = self.job.domain(), trigger = request.trigger.as_str(), dry_run = request.dry_run))]
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
        let sqlite = self.db.get_database_backend() != DatabaseBackend::Postgres;
        // A scheduled run reads freshness through the pool first, so that a replica's fresh run is
        // skipped without anything recorded (on SQLite a run is recorded before it takes the lock).
        if let Some(since) = fresh_since
            && self.succeeded_since(&self.db, since).await?
        {
            tracing::debug!("a run succeeded recently; skipped");
            return Ok(None);
        }
        // The run is recorded, outside any transaction, so that its row survives its process: a run still
        // `running` when the next one holds the lock died before it ended. On PostgreSQL it is recorded
        // once the lock is ours, so only lock holders ever write a `running` row. On SQLite the lock is the
        // file's write lock, which a row written from another connection would wait for: the row comes
        // first, and a run that waits for the lock behind another process's writer meanwhile shows as
        // `running` (should a third process take the lock before it, that one marks it interrupted, and
        // its own end, recorded last, sets it right).
        let mut recorded = None;
        if sqlite {
            recorded = Some(self.record_start(request.trigger).await?);
        }
        // The transaction and its lock come before the read: whoever holds the lock is the only one
        // reading the source, and the others wait (CLI, API) or skip (schedule).
        let txn = match request.wait_for_lock {
            true => store::begin_write(&self.db).await.map(Some),
            false => store::try_begin_write(&self.db).await,
        };
        let txn = match txn {
            Ok(Some(txn)) => txn,
            Ok(None) => {
                if let Some((run_id, _)) = recorded {
                    store::runs::discard(&self.db, run_id).await?;
                }
                tracing::debug!("another run, import or override holds the lock; skipped");
                return Ok(None);
            }
            Err(err) => {
                if let Some((run_id, started_at)) = recorded {
                    let report = self.lock_failed(run_id, started_at, &request, &err).await;
                    return report.map(Some);
                }
                return Err(err);
            }
        };
        if let Some(since) = fresh_since
            && self.succeeded_since(&*txn, since).await?
        {
            if let Some((run_id, _)) = recorded {
                store::runs::discard(&*txn, run_id).await?;
                txn.commit().await?;
            } else {
                txn.rollback().await?;
            }
            tracing::debug!("a run succeeded recently; skipped");
            return Ok(None);
        }
        // Stamped once the lock is ours: a run that waited for another replica's run must not appear to
        // overlap it, and its duration (and the freshness checks built on `started_at`) exclude the wait.
        let started = Instant::now();
        let started_at = Utc::now();
        let run_id = match recorded {
            Some((run_id, _)) => {
                store::runs::restamp(&*txn, run_id, started_at).await?;
                run_id
            }
            None => self.record_start(request.trigger).await?.0,
        };
        let interrupted = store::runs::close_interrupted(&*txn, run_id, started_at).await?;
        if interrupted > 0 {
            tracing::warn!(
                runs = interrupted,
                "marked runs whose process died before they finished as interrupted"
            );
        }

        let mut report = SyncReport::started(run_id, J::SOURCE, request.trigger, started_at);
        let error = self.execute(txn, &request, &mut report).await;
        if let Some(error) = error {
            // The run's end could not be committed with it: record it on its own.
            let failure = SyncFailure::Database(error);
            tracing::error!(error = %failure, "run rolled back on a database error");
            report.outcome = failure.outcome();
            report.error = Some(failure.run_error());
            report.status_changes.clear();
            self.finish_alone(&report, request.dry_run).await?;
        }
        report.duration = started.elapsed();

        let c = report.counts;
        crate::metrics::record_sync(
            J::SOURCE.as_str(),
            self.job.domain(),
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
            error = report.error.as_ref().map(|e| e.detail.as_str()),
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

    /// The job's work in a savepoint of `txn`, then the run's end recorded in `txn` and `txn` committed:
    /// the end is committed with the changes it reports (or alone, when the savepoint was rolled back), so
    /// whoever takes the lock next sees both, a replica's freshness check included. `ended_at` is stamped
    /// before the lock is released, so a run that takes the lock next never appears to start before this
    /// one ended. `Some` is a database error that kept the end from being committed.
    async fn execute(
        &self,
        txn: WriteTxn,
        request: &SyncRequest,
        report: &mut SyncReport,
    ) -> Option<DbErr> {
        let work = match txn.savepoint().await {
            Ok(work) => work,
            Err(err) => return Some(err),
        };
        let result = self.job.execute(&work, request, report).await;
        let ended = match result {
            Ok(Finish::Commit { digest }) => match work.commit().await {
                Ok(()) => Ok((SyncOutcome::Succeeded, digest)),
                Err(err) => Err(SyncFailure::Database(err)),
            },
            Ok(Finish::DryRun) => match work.rollback().await {
                Ok(()) => Ok((SyncOutcome::DryRun, None)),
                Err(err) => Err(SyncFailure::Database(err)),
            },
            Err(failure) => {
                if let Err(err) = work.rollback().await {
                    tracing::warn!(error = %err, "rolling back a failed run");
                }
                Err(failure)
            }
        };
        let ended_at = Utc::now();
        report.ended_at = Some(ended_at);
        let digest = match ended {
            Ok((outcome, digest)) => {
                report.outcome = outcome;
                digest
            }
            Err(failure) => {
                if let SyncFailure::Database(err) = &failure {
                    tracing::error!(error = %err, "run rolled back on a database error");
                }
                report.outcome = failure.outcome();
                report.error = Some(failure.run_error());
                report.status_changes.clear();
                None
            }
        };
        let committed = async {
            if !request.dry_run {
                alerts::findings::raise_for_run(&*txn, report, self.job.domain(), ended_at).await?;
            }
            store::runs::finish(&*txn, report.run_id, report.end(digest)).await?;
            txn.commit().await
        };
        committed.await.err()
    }

    /// Raises `mirror.stale` when this source has had no success for twice `interval` (the scheduler asks
    /// at every tick).
    pub async fn raise_if_stale(&self, interval: std::time::Duration) {
        let raised = alerts::findings::raise_if_stale(
            &self.db,
            J::SOURCE,
            self.job.domain(),
            interval,
            Utc::now(),
        )
        .await;
        match raised {
            Ok(true) => tracing::warn!(
                source = J::SOURCE.as_str(),
                "no successful run for twice the interval: mirror.stale raised"
            ),
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(source = J::SOURCE.as_str(), error = %err, "cannot check whether the data is stale")
            }
        }
    }

    /// Records a run's end outside its transaction (the transaction could not be committed, or never
    /// began), with its alert.
    async fn finish_alone(&self, report: &SyncReport, dry_run: bool) -> Result<(), DbErr> {
        if !dry_run
            && let Err(err) =
                alerts::findings::raise_for_run(&self.db, report, self.job.domain(), Utc::now())
                    .await
        {
            tracing::warn!(error = %err, "cannot raise the alert of a failed run");
        }
        store::runs::finish(&self.db, report.run_id, report.end(None)).await
    }

    /// Whether a run of this source (and domain) succeeded at or after `since`.
    async fn succeeded_since(
        &self,
        db: &impl ConnectionTrait,
        since: DateTime<Utc>,
    ) -> Result<bool, DbErr> {
        Ok(
            store::runs::last_success(db, J::SOURCE, Some(self.job.domain()))
                .await?
                .is_some_and(|last| last.started_at >= since),
        )
    }

    /// Records the start of a run now; its id and start time.
    async fn record_start(&self, trigger: Trigger) -> Result<(i64, DateTime<Utc>), DbErr> {
        let started_at = Utc::now();
        let run_id =
            store::runs::start(&self.db, J::SOURCE, trigger, self.job.domain(), started_at).await?;
        Ok((run_id, started_at))
    }

    /// The report of a run recorded before the lock that could not take it (SQLite: another process kept
    /// the file's write lock for the whole busy timeout).
    async fn lock_failed(
        &self,
        run_id: i64,
        started_at: DateTime<Utc>,
        request: &SyncRequest,
        err: &DbErr,
    ) -> Result<SyncReport, DbErr> {
        tracing::error!(error = %err, "a run could not take the write lock");
        let failure = SyncFailure::Database(err.clone());
        let mut report = SyncReport::started(run_id, J::SOURCE, request.trigger, started_at);
        report.outcome = failure.outcome();
        report.ended_at = Some(Utc::now());
        report.error = Some(failure.run_error());
        self.finish_alone(&report, request.dry_run).await?;
        report.duration = (Utc::now() - started_at).to_std().unwrap_or_default();
        Ok(report)
    }
}
