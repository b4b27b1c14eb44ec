//! The query root: the contract's lists and lookups, plus what admins and reporting tools need around
//! them (ordering, departed staff, status aggregates, the review list, freshness).

use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::SeatPrice;
use super::alerts::{self, AlertEventConnection};
use super::auth::AdminOnly;
use super::errors::{ApiError, OrInternal};
use super::lists::{self, AgentConnection, ChannelStatusInput, EmployeeConnection};
use super::memoised::{Resolved, memoised_resolved};
use super::seats::SeatReport;
use super::types::{
    Agent, AgentOrderBy, Employee, EmployeeStatus, Group, MatchStatus, StatusCount, SyncRun,
    SyncSource, agent_by_id, status_counts,
};
use crate::domain;
use crate::hr::HrPuller;
use crate::reconcile::overrides;
use crate::seats::{DEFAULT_IDLE_DAYS, Lists};
use crate::store::{self, AgentFilter, EmployeeFilter};
use crate::sync::Syncers;

/// Reads.
#[derive(Debug, Default)]
pub struct Query;

/// How fresh the mirror is. The top-level fields are the CareSoft mirror's (with several domains, of the
/// stalest one); `sources` has each CareSoft domain, then the HR source.
#[derive(Debug, Clone, SimpleObject)]
pub struct Freshness {
    /// The latest CareSoft sync of any domain, whatever its outcome.
    pub last_run: Option<SyncRun>,
    /// When the latest successful CareSoft sync finished; with several domains, the oldest of their
    /// latest successes (null while one of them never succeeded).
    pub last_success_at: Option<DateTime<Utc>>,
    /// Seconds since then.
    pub age_seconds: Option<i64>,
    /// Each source: each CareSoft domain's agent list, then the HR source.
    pub sources: Vec<SourceFreshness>,
}

/// How fresh the data of one source is.
#[derive(Debug, Clone, SimpleObject)]
pub struct SourceFreshness {
    pub source: SyncSource,
    /// The CareSoft domain (null for the HR source, and for CareSoft while no domain is configured).
    pub domain: Option<String>,
    /// Whether the source is set up (CareSoft's domain and token; `HR_DATABASE_URL` or `HR_FILE`); false
    /// for a domain taken out of the configuration whose agents are still current.
    pub configured: bool,
    /// Its latest run, whatever its outcome.
    pub last_run: Option<SyncRun>,
    /// When its latest successful run finished.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Seconds since then.
    pub age_seconds: Option<i64>,
}

async fn source_freshness(
    db: &DatabaseConnection,
    source: domain::SyncSource,
    domain: Option<&str>,
    configured: bool,
) -> async_graphql::Result<SourceFreshness> {
    let last_run = store::runs::latest(db, 1, Some(source), domain)
        .await
        .or_internal()?
        .pop();
    let last_success_at = store::runs::last_success(db, source, domain)
        .await
        .or_internal()?
        .map(|last| last.finished_at);
    Ok(SourceFreshness {
        source: source.into(),
        domain: domain.map(str::to_string),
        configured,
        last_run: last_run.map(SyncRun),
        last_success_at,
        age_seconds: last_success_at.map(|t| (Utc::now() - t).num_seconds()),
    })
}

/// A manual link whose employee is no longer in HR (the agent falls back to its computed match).
#[derive(Debug, Clone, SimpleObject)]
pub struct DanglingOverride {
    pub agent_id: ID,
    pub employee_code: String,
}

pub(crate) fn parse_id(id: &ID, what: &str) -> Result<i64, ApiError> {
    id.trim().parse::<i64>().map_err(|_| {
        ApiError::bad_input(format!(
            "{what} must be a numeric id (got {:?})",
            id.as_str()
        ))
    })
}

#[Object]
impl Query {
    /// Agents, current ones unless `includeRemoved`; every filter combines with the others.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn agents(
        &self,
        ctx: &Context<'_>,
        group: Option<String>,
        group_id: Option<i64>,
        channel_status: Option<ChannelStatusInput>,
        match_status: Option<MatchStatus>,
        #[graphql(
            desc = "Only agents MATCHED to employees of this HR status (TERMINATED: seats of people who left)."
        )]
        employee_status: Option<EmployeeStatus>,
        #[graphql(
            desc = "Case-insensitive part of username, email, phone or extension, or an exact id."
        )]
        search: Option<String>,
        #[graphql(default_with = "Some(false)")] include_removed: Option<bool>,
        #[graphql(default_with = "Some(AgentOrderBy::IdAsc)")] order_by: Option<AgentOrderBy>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(desc = "Only agents of this CareSoft domain.")] domain: Option<String>,
    ) -> async_graphql::Result<AgentConnection> {
        let domain = domain.and_then(|d| ctx.data_unchecked::<Arc<Syncers>>().canonical(&d));
        let filter = AgentFilter {
            domain,
            group,
            group_id,
            channel_status: channel_status.map(Into::into),
            match_statuses: match_status.map(Into::into).into_iter().collect(),
            employee_status: employee_status.map(Into::into),
            search,
            include_removed: include_removed.unwrap_or(false),
            seat_lists: Vec::new(),
        };
        let order = order_by.unwrap_or(AgentOrderBy::IdAsc);
        lists::agents(ctx, "agents", filter, order, first, after.as_deref()).await
    }

    /// One agent by its id (`Agent.id`: its CareSoft id unless two domains share it), removed or not.
    async fn agent(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Agent>> {
        agent_by_id(ctx, parse_id(&id, "id")?).await
    }

    /// HR employees (still in HR unless `includeRemoved`), ordered by code.
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn employees(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Case-insensitive part of code, name, email, phone or department.")]
        search: Option<String>,
        status: Option<EmployeeStatus>,
        #[graphql(default_with = "Some(false)")] include_removed: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EmployeeConnection> {
        let filter = EmployeeFilter {
            search,
            status: status.map(Into::into),
            include_removed: include_removed.unwrap_or(false),
            without_seat: false,
        };
        lists::employees(ctx, "employees", filter, first, after.as_deref()).await
    }

    /// One employee by HR code.
    async fn employee(
        &self,
        ctx: &Context<'_>,
        code: String,
    ) -> async_graphql::Result<Option<Employee>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let row = store::employees::by_code(db, code.trim())
            .await
            .or_internal()?;
        Ok(row.map(Employee))
    }

    /// ACTIVE employees with no MATCHED current agent: staff without a seat.
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn unmatched_employees(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<EmployeeConnection> {
        lists::employees(
            ctx,
            "unmatchedEmployees",
            EmployeeFilter::without_seat(),
            first,
            after.as_deref(),
        )
        .await
    }

    /// Current agents that are UNMATCHED: seats that belong to nobody in HR.
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn unmatched_agents(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AgentConnection> {
        lists::agents(
            ctx,
            "unmatchedAgents",
            AgentFilter::unmatched(),
            AgentOrderBy::IdAsc,
            first,
            after.as_deref(),
        )
        .await
    }

    /// Current AMBIGUOUS and CONFLICT agents, for an admin to resolve (see `Agent.candidates`).
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn review_agents(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AgentConnection> {
        lists::agents(
            ctx,
            "reviewAgents",
            AgentFilter::to_review(),
            AgentOrderBy::IdAsc,
            first,
            after.as_deref(),
        )
        .await
    }

    /// CareSoft's groups, by domain then id: every group CareSoft lists (groups with no current agent
    /// too, with counts of zero) and every group current agents name, with per-channel status counts.
    async fn groups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the groups of this CareSoft domain.")] domain: Option<String>,
    ) -> async_graphql::Result<Resolved<Vec<Group>>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let domain = domain.and_then(|d| ctx.data_unchecked::<Arc<Syncers>>().canonical(&d));
        let domain = domain.as_deref();
        memoised_resolved(ctx, format!("groups {domain:?}"), || async {
            let groups = store::groups::listing(db, domain).await?;
            Ok(groups.into_iter().map(Group::from).collect::<Vec<_>>())
        })
        .await
    }

    /// Current agents per channel and status, across all groups or in one, in every domain or in one.
    async fn status_summary(
        &self,
        ctx: &Context<'_>,
        group_id: Option<i64>,
        #[graphql(desc = "Only the agents of this CareSoft domain.")] domain: Option<String>,
    ) -> async_graphql::Result<Resolved<Vec<StatusCount>>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let domain = domain.and_then(|d| ctx.data_unchecked::<Arc<Syncers>>().canonical(&d));
        let domain = domain.as_deref();
        memoised_resolved(
            ctx,
            format!("status totals {group_id:?} {domain:?}"),
            || async {
                let totals = store::agents::status_totals(db, group_id, domain).await?;
                Ok(status_counts(&totals))
            },
        )
        .await
    }

    /// The latest runs, newest first (at most 100): of one source, or of both when `source` is omitted.
    async fn sync_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] first: Option<i32>,
        source: Option<SyncSource>,
        #[graphql(desc = "Only runs of this CareSoft domain.")] domain: Option<String>,
    ) -> async_graphql::Result<Vec<SyncRun>> {
        let first = first.unwrap_or(20);
        if !(0..=100).contains(&first) {
            return Err(ApiError::bad_input(format!(
                "`first` must be between 0 and 100 (got {first})"
            ))
            .into());
        }
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let domain = domain.and_then(|d| ctx.data_unchecked::<Arc<Syncers>>().canonical(&d));
        let rows = store::runs::latest(db, first as u64, source.map(Into::into), domain.as_deref())
            .await
            .or_internal()?;
        Ok(rows.into_iter().map(SyncRun).collect())
    }

    /// How fresh the data is: for each source, its latest run and the age of its latest success.
    async fn freshness(&self, ctx: &Context<'_>) -> async_graphql::Result<Freshness> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let syncers = ctx.data_unchecked::<Arc<Syncers>>();
        let mut sources = Vec::new();
        if !syncers.configured() && syncers.retired().is_empty() {
            sources.push(source_freshness(db, domain::SyncSource::Caresoft, None, false).await?);
        }
        for (syncers, configured) in [(syncers.scheduled(), true), (syncers.retired(), false)] {
            for syncer in syncers {
                let domain = Some(syncer.domain());
                sources.push(
                    source_freshness(db, domain::SyncSource::Caresoft, domain, configured).await?,
                );
            }
        }
        let last_run = store::runs::latest(db, 1, Some(domain::SyncSource::Caresoft), None)
            .await
            .or_internal()?
            .pop()
            .map(SyncRun);
        // The stalest configured domain speaks for the mirror: null while one never succeeded. A retired
        // domain is listed, but is not synced any more.
        let last_success_at = sources
            .iter()
            .filter(|s| s.configured || s.domain.is_none())
            .map(|s| s.last_success_at)
            .collect::<Option<Vec<_>>>()
            .and_then(|all| all.into_iter().min());
        sources.push(
            source_freshness(
                db,
                domain::SyncSource::Hr,
                None,
                ctx.data_unchecked::<Arc<HrPuller>>().configured(),
            )
            .await?,
        );
        Ok(Freshness {
            last_run,
            last_success_at,
            age_seconds: last_success_at.map(|t| (Utc::now() - t).num_seconds()),
            sources,
        })
    }

    /// What the seats are, which could be reclaimed and what they cost a month: current, matched, departed
    /// staff's, orphan, duplicate and idle seats (LOGOUT on every channel for the whole last `idleDays`).
    async fn seat_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(DEFAULT_IDLE_DAYS)")] idle_days: Option<i32>,
    ) -> async_graphql::Result<SeatReport> {
        let lists = Lists::new(idle_days.unwrap_or(DEFAULT_IDLE_DAYS), Utc::now())
            .map_err(ApiError::bad_input)?;
        Ok(SeatReport {
            lists,
            price: ctx.data_unchecked::<SeatPrice>().0.clone(),
        })
    }

    /// The delivery log of alerts, newest first (admin): each event with its deliveries and attempts.
    #[graphql(guard = "AdminOnly")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AlertEventConnection> {
        alerts::page(ctx, first, after.as_deref()).await
    }

    /// Manual links whose employee left HR: reported here instead of silently dropped.
    async fn dangling_overrides(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<DanglingOverride>> {
        let rows = overrides::dangling(ctx.data_unchecked())
            .await
            .or_internal()?;
        Ok(rows
            .into_iter()
            .map(|(agent_id, employee_code)| DanglingOverride {
                agent_id: ID(agent_id.to_string()),
                employee_code,
            })
            .collect())
    }
}
