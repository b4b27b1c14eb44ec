//! A pull of the HR source: the whole table as a snapshot. What it lists is upserted, employees it no
//! longer lists are marked removed (kept), behind the mass-removal guard; rows are validated as CSV rows
//! are, and one bad row changes nothing. One transaction holds the changes and the link recompute
//! (`cause = hr` in the link history); the run is recorded under `source = hr`, whatever its outcome.
//!
//! A manual import (`import-employees`, `upsertEmployees`) beside a source is allowed; the next pull
//! makes the table what the source says again. An `HR_FILE` whose digest is the one the latest pull
//! applied, with no employee changed since, is not parsed again.

use std::sync::Arc;

use chrono::Utc;
use sea_orm::DatabaseConnection;

use super::import::{ApplyError, ImportOptions, apply_rows};
use super::source::{self, HrSource, HrSourceError};
use super::{CsvFileError, ParsedCsv, parse_employees};
use crate::config::{ConfigError, MaxRemoval};
use crate::domain::{LinkCause, SyncSource};
use crate::store::{self, WriteTxn};
use crate::sync::{Finish, Job, Runner, SourceError, SyncFailure, SyncReport, SyncRequest};

/// Pulls of the HR source.
pub type HrPuller = Runner<HrPull>;

impl HrPuller {
    /// A puller of `source`; without one (neither `HR_DATABASE_URL` nor `HR_FILE`), every pull fails
    /// saying what to set.
    pub fn new(
        db: DatabaseConnection,
        source: Result<HrSource, ConfigError>,
        max_removal: MaxRemoval,
    ) -> Self {
        Runner::with_job(
            db,
            HrPull {
                source: source.map_err(|err| Arc::new(SourceError::Config(err))),
                max_removal,
            },
        )
    }
}

/// What an HR pull reads and applies.
#[derive(Debug)]
pub struct HrPull {
    source: Result<HrSource, Arc<SourceError>>,
    max_removal: MaxRemoval,
}

/// What the source gave.
enum Snapshot {
    Rows {
        parsed: ParsedCsv,
        /// The file's digest (file sources).
        digest: Option<String>,
    },
    /// The file is the one the latest pull applied, and nothing changed the table since.
    Unchanged { digest: String, run_id: i64 },
}

impl Job for HrPull {
    const SOURCE: SyncSource = SyncSource::Hr;

    fn domain(&self) -> &str {
        ""
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
        let (parsed, digest) = match read(source, txn, request).await? {
            Snapshot::Rows { parsed, digest } => (parsed, digest),
            Snapshot::Unchanged { digest, run_id } => {
                let in_hr = store::employees::count_in_hr(&**txn).await? as usize;
                report.counts.fetched = in_hr;
                report.counts.unchanged = in_hr;
                report.preview.push(format!(
                    "HR_FILE is unchanged since run {run_id}: nothing to apply"
                ));
                return Ok(Finish::Commit {
                    digest: Some(digest),
                });
            }
        };
        if !parsed.errors.is_empty() {
            return Err(SyncFailure::HrRows(parsed.errors));
        }
        report.counts.fetched = parsed.rows.len();
        let options = ImportOptions {
            replace: true,
            dry_run: request.dry_run,
            skip_invalid: false,
            allow_mass_removal: request.allow_mass_removal,
            max_removal: self.max_removal,
        };
        let applied = match apply_rows(
            txn,
            &parsed.rows,
            options,
            LinkCause::Hr,
            Some(report.run_id),
            Utc::now(),
        )
        .await
        {
            Ok(applied) => applied,
            Err(ApplyError::MassRemoval {
                removing,
                current,
                limit,
            }) => {
                report.counts.removed = removing;
                return Err(SyncFailure::HrMassRemoval {
                    removing,
                    current,
                    limit,
                });
            }
            Err(ApplyError::Database(err)) => return Err(err.into()),
        };
        let c = &mut report.counts;
        c.added = applied.added;
        c.updated = applied.updated;
        c.removed = applied.removed;
        c.restored = applied.restored;
        c.unchanged = applied.unchanged;
        report.preview = applied.preview;
        Ok(match request.dry_run {
            true => Finish::DryRun,
            false => Finish::Commit { digest },
        })
    }
}

/// Reads the source: a query's rows, or a file's (unless it is the one applied last).
async fn read(
    source: &HrSource,
    txn: &WriteTxn,
    request: &SyncRequest,
) -> Result<Snapshot, SyncFailure> {
    match source {
        HrSource::Database(database) => Ok(Snapshot::Rows {
            parsed: database.read().await?,
            digest: None,
        }),
        HrSource::File(path) => {
            let bytes = source::read_file(path).await?;
            let digest = source::digest(&bytes);
            // A dry run always reads: it is asked to show what the file says.
            if !request.dry_run
                && let Some(last) =
                    store::runs::last_succeeded_run(&**txn, SyncSource::Hr, None).await?
                && last.source_digest.as_deref() == Some(digest.as_str())
                && !store::employees::changed_since(
                    &**txn,
                    last.finished_at.unwrap_or(last.started_at),
                )
                .await?
            {
                return Ok(Snapshot::Unchanged {
                    digest,
                    run_id: last.id,
                });
            }
            let parsed =
                parse_employees(&bytes[..]).map_err(|err: CsvFileError| HrSourceError::File {
                    path: path.display().to_string(),
                    reason: err.to_string(),
                })?;
            Ok(Snapshot::Rows {
                parsed,
                digest: Some(digest),
            })
        }
    }
}
