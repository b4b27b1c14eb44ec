//! The mutation root (admin only): sync CareSoft or pull HR now, manual overrides, and employee upserts that share the CSV
//! import's validation, transaction and mass-removal guard.

use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use sea_orm::DatabaseConnection;

use super::alerts::{self, AlertEvent};
use super::auth::AdminOnly;
use super::errors::{ApiError, OrInternal};
use super::query::parse_id;
use super::types::{Agent, EmployeeStatus, SyncRun, agent_by_id};
use crate::alerts::Deliverer;
use crate::config::MaxRemoval;
use crate::domain::{self, Trigger};
use crate::hr::HrPuller;
use crate::hr::csv_parse::{RawEmployee, RowError, validate_rows};
use crate::hr::{ImportError, ImportOptions, import_rows};
use crate::reconcile::overrides::{self, OverrideError};
use crate::store;
use crate::sync::{Job, Runner, SyncRequest, Syncers};

/// Runs `runner` once for the API and loads its run.
async fn run_now<J: Job>(
    ctx: &Context<'_>,
    runner: Arc<Runner<J>>,
    dry_run: Option<bool>,
    allow_mass_removal: Option<bool>,
) -> async_graphql::Result<SyncRun> {
    let request = SyncRequest {
        dry_run: dry_run.unwrap_or(false),
        allow_mass_removal: allow_mass_removal.unwrap_or(false),
        ..SyncRequest::new(Trigger::Api)
    };
    // On a task of its own: a client that disconnects must not cancel a run half-way and leave it
    // recorded as running forever.
    let report = tokio::spawn(async move { runner.run(request).await })
        .await
        .or_internal()?
        .or_internal()?;
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let run = store::runs::by_id(db, report.run_id).await.or_internal()?;
    run.map(SyncRun).ok_or_else(|| ApiError::Internal.into())
}

/// Writes; every field needs an admin token.
#[derive(Debug, Default)]
pub struct Mutation;

/// One HR employee to upsert, as a row of the HR CSV.
#[derive(Debug, Clone, InputObject)]
pub struct EmployeeInput {
    pub employee_code: String,
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub department: Option<String>,
    /// ACTIVE when omitted.
    pub status: Option<EmployeeStatus>,
}

/// A row the import could not take.
#[derive(Debug, Clone, SimpleObject)]
pub struct RowIssue {
    /// 1-based position of the row in `rows`.
    pub row: i64,
    /// The field at fault, as in the HR CSV (`employee_code`, `email`, ...).
    pub column: Option<String>,
    pub message: String,
}

impl From<&RowError> for RowIssue {
    fn from(err: &RowError) -> Self {
        RowIssue {
            row: err.line as i64,
            column: err.column.clone(),
            message: err.message.clone(),
        }
    }
}

/// What an employee upsert did (or would do, for a dry run).
#[derive(Debug, Clone, SimpleObject)]
pub struct ImportResult {
    pub added: i64,
    pub updated: i64,
    pub removed: i64,
    pub restored: i64,
    pub unchanged: i64,
    pub dry_run: bool,
    /// Rows left out with `skipInvalid`.
    pub skipped: Vec<RowIssue>,
}

fn override_error(err: OverrideError) -> async_graphql::Error {
    match err {
        OverrideError::UnknownAgent(_) | OverrideError::UnknownEmployee(_) => {
            ApiError::NotFound(err.to_string()).into()
        }
        OverrideError::RemovedEmployee(_) | OverrideError::NothingToUnlink(_) => {
            ApiError::bad_input(err.to_string()).into()
        }
        OverrideError::Database(db) => Err::<(), _>(db)
            .or_internal()
            .err()
            .unwrap_or_else(|| ApiError::Internal.into()),
    }
}

async fn reload(ctx: &Context<'_>, agent_id: i64) -> async_graphql::Result<Agent> {
    agent_by_id(ctx, agent_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no agent with id {agent_id}")).into())
}

#[Object]
impl Mutation {
    /// Sends a test alert to every configured webhook (admin); the event, its deliveries PENDING until the
    /// delivery worker of `serve` posts them (see `alerts`).
    #[graphql(guard = "AdminOnly")]
    async fn test_alert(&self, ctx: &Context<'_>) -> async_graphql::Result<AlertEvent> {
        let deliverer = ctx.data_unchecked::<Deliverer>();
        if deliverer.settings().webhooks.is_empty() {
            return Err(ApiError::bad_input(
                "no webhook to test: alerts are off until BRIDGE_ALERT_WEBHOOKS names one",
            )
            .into());
        }
        let event = deliverer.raise_test("testAlert").await.or_internal()?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        alerts::one(db, event).await.or_internal()
    }

    /// Runs a sync of one CareSoft domain's agents and groups now and returns its run (waits if a run is
    /// already going on). `domain` may be omitted when one domain is synced here. `allowMassRemoval`
    /// applies a sync that would remove more than `BRIDGE_MAX_REMOVAL` of the domain's agents.
    #[graphql(guard = "AdminOnly")]
    async fn sync_now(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(false)")] dry_run: Option<bool>,
        #[graphql(default_with = "Some(false)")] allow_mass_removal: Option<bool>,
        domain: Option<String>,
    ) -> async_graphql::Result<SyncRun> {
        let syncer = ctx
            .data_unchecked::<Arc<Syncers>>()
            .pick(domain.as_deref())
            .map_err(ApiError::bad_input)?;
        run_now(ctx, syncer, dry_run, allow_mass_removal).await
    }

    /// Syncs every CareSoft domain now, one after the other, each as its own run (one failing or refused
    /// leaves the others applied), and returns their runs in the configuration's order. A domain taken
    /// out of the configuration keeps its guard here even with `allowMassRemoval`: confirm its removal
    /// with `syncNow(domain:, allowMassRemoval: true)`.
    #[graphql(guard = "AdminOnly")]
    async fn sync_all_now(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(false)")] dry_run: Option<bool>,
        #[graphql(default_with = "Some(false)")] allow_mass_removal: Option<bool>,
    ) -> async_graphql::Result<Vec<SyncRun>> {
        let syncers = ctx.data_unchecked::<Arc<Syncers>>().clone();
        let request = SyncRequest {
            dry_run: dry_run.unwrap_or(false),
            allow_mass_removal: allow_mass_removal.unwrap_or(false),
            ..SyncRequest::new(Trigger::Api)
        };
        // One task for all of them: a client that disconnects must not leave the later domains unsynced.
        let reports = tokio::spawn(async move { syncers.run_all(request).await })
            .await
            .or_internal()?;
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let mut runs = Vec::with_capacity(reports.len());
        for report in reports {
            let run = store::runs::by_id(db, report.or_internal()?.run_id)
                .await
                .or_internal()?;
            runs.push(run.map(SyncRun).ok_or(ApiError::Internal)?);
        }
        Ok(runs)
    }

    /// Pulls the HR source (`HR_DATABASE_URL` or `HR_FILE`) now and returns its run (waits if a run is
    /// already going on). `allowMassRemoval` applies a pull that would remove more than
    /// `BRIDGE_MAX_REMOVAL` of the employees.
    #[graphql(guard = "AdminOnly")]
    async fn sync_hr_now(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(false)")] dry_run: Option<bool>,
        #[graphql(default_with = "Some(false)")] allow_mass_removal: Option<bool>,
    ) -> async_graphql::Result<SyncRun> {
        let puller = ctx.data_unchecked::<Arc<HrPuller>>().clone();
        run_now(ctx, puller, dry_run, allow_mass_removal).await
    }

    /// Links an agent to an employee whatever the keys say (MATCHED by MANUAL); survives syncs and imports.
    #[graphql(guard = "AdminOnly")]
    async fn link_agent(
        &self,
        ctx: &Context<'_>,
        agent_id: ID,
        employee_code: String,
    ) -> async_graphql::Result<Agent> {
        let id = parse_id(&agent_id, "agentId")?;
        overrides::link(ctx.data_unchecked(), id, employee_code.trim())
            .await
            .map_err(override_error)?;
        reload(ctx, id).await
    }

    /// Drops an agent's manual override (link or ignore); its match is computed again.
    #[graphql(guard = "AdminOnly")]
    async fn unlink_agent(&self, ctx: &Context<'_>, agent_id: ID) -> async_graphql::Result<Agent> {
        let id = parse_id(&agent_id, "agentId")?;
        overrides::unlink(ctx.data_unchecked(), id)
            .await
            .map_err(override_error)?;
        reload(ctx, id).await
    }

    /// Marks a service, test or supervisor seat: IGNORED, never linked, never in unmatched lists.
    #[graphql(guard = "AdminOnly")]
    async fn ignore_agent(&self, ctx: &Context<'_>, agent_id: ID) -> async_graphql::Result<Agent> {
        let id = parse_id(&agent_id, "agentId")?;
        overrides::ignore(ctx.data_unchecked(), id)
            .await
            .map_err(override_error)?;
        reload(ctx, id).await
    }

    /// Upserts HR employees with the CSV import's rules. By default all or nothing: any invalid row fails the
    /// call with BAD_USER_INPUT and `extensions.rows` listing every problem. `replace` marks employees absent
    /// from `rows` as removed, refused beyond BRIDGE_MAX_REMOVAL unless `allowMassRemoval`.
    #[allow(clippy::too_many_arguments)]
    #[graphql(guard = "AdminOnly")]
    async fn upsert_employees(
        &self,
        ctx: &Context<'_>,
        rows: Vec<EmployeeInput>,
        #[graphql(default_with = "Some(false)")] replace: Option<bool>,
        #[graphql(default_with = "Some(false)")] dry_run: Option<bool>,
        #[graphql(default_with = "Some(false)")] skip_invalid: Option<bool>,
        #[graphql(default_with = "Some(false)")] allow_mass_removal: Option<bool>,
    ) -> async_graphql::Result<ImportResult> {
        let parsed = validate_rows(rows.into_iter().map(|r| {
            RawEmployee {
                employee_code: Some(r.employee_code),
                full_name: r.full_name,
                email: r.email,
                phone: r.phone,
                department: r.department,
                status: r
                    .status
                    .map(|s| domain::EmployeeStatus::from(s).as_str().to_string()),
            }
        }));
        // Arguments are nullable with defaults so that a client passing an unset variable gets the default.
        let options = ImportOptions {
            replace: replace.unwrap_or(false),
            dry_run: dry_run.unwrap_or(false),
            skip_invalid: skip_invalid.unwrap_or(false),
            allow_mass_removal: allow_mass_removal.unwrap_or(false),
            max_removal: *ctx.data_unchecked::<MaxRemoval>(),
        };
        match import_rows(ctx.data_unchecked(), parsed.rows, parsed.errors, options).await {
            Ok(report) => Ok(ImportResult {
                added: report.added as i64,
                updated: report.updated as i64,
                removed: report.removed as i64,
                restored: report.restored as i64,
                unchanged: report.unchanged as i64,
                dry_run: report.dry_run,
                skipped: report.skipped.iter().map(RowIssue::from).collect(),
            }),
            Err(ImportError::Invalid(errors)) => {
                let issues: Vec<async_graphql::Value> = errors
                    .iter()
                    .map(|e| {
                        let issue = RowIssue::from(e);
                        async_graphql::Value::from_json(serde_json::json!({
                            "row": issue.row, "column": issue.column, "message": issue.message
                        }))
                        .unwrap_or_default()
                    })
                    .collect();
                let first = errors.first().map(ToString::to_string).unwrap_or_default();
                let message = format!(
                    "{} invalid rows; nothing was imported: {first}",
                    errors.len()
                );
                Err(ApiError::bad_input(message)
                    .extend_with(|_, ext| ext.set("rows", async_graphql::Value::List(issues))))
            }
            // The CLI's wording names its flags; this names the arguments of this mutation.
            Err(ImportError::MassRemoval {
                removing,
                current,
                limit,
            }) => Err(ApiError::bad_input(format!(
                "refused: replace would remove {removing} of {current} employees (limit {limit}); nothing \
                 was changed. If the rows are complete, send them again with allowMassRemoval: true"
            ))
            .into()),
            Err(ImportError::ReplaceWithInvalidRows(errors)) => Err(ApiError::bad_input(format!(
                "refusing replace: true with {} invalid rows: the employees of those rows would be marked \
                 removed; fix the rows, or send them without replace",
                errors.len()
            ))
            .into()),
            Err(ImportError::Database(err)) => Err::<ImportResult, _>(err).or_internal(),
        }
    }
}
