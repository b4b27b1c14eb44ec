//! DataLoaders for every relation a page can ask for (agent → link → employee, employee → agents, agent →
//! candidates and history), so a page costs a fixed number of statements whatever its size. A fresh set
//! is made per request (and per subscription event): values are cached only for that request, which lets
//! [`prefetch_agents`] load a whole page's relations up front in one batch per relation.

use std::collections::HashMap;

use async_graphql::Lookahead;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use chrono::{DateTime, Utc};
use entity::{
    agent, agent_link, employee, link_candidate, link_history, roster_change, status_event,
    sync_run,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    Statement,
};

use super::types::Agent;
use crate::domain::{MatchStatus, SyncOutcome};

/// How many history rows of each kind an agent shows.
pub const HISTORY_LIMIT: usize = 100;

/// The loader behind every key type below.
#[derive(Debug, Clone)]
pub struct DbLoader {
    db: DatabaseConnection,
}

/// The per-request loaders.
pub type Loaders = DataLoader<DbLoader, HashMapCache>;

/// A fresh loader set for one request.
pub fn loaders(db: DatabaseConnection) -> Loaders {
    DataLoader::with_cache(DbLoader { db }, tokio::spawn, HashMapCache::default())
}

/// Loads one value through the request's loaders, or through a fresh set when the context has none: a
/// subscription event is resolved with its connection's data, and loaders kept for a whole connection would
/// serve links and employees as they were at its first event.
pub async fn load_one<K>(
    ctx: &async_graphql::Context<'_>,
    key: K,
) -> Result<Option<<DbLoader as Loader<K>>::Value>, DbErr>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    DbLoader: Loader<K, Error = DbErr>,
{
    match ctx.data_opt::<Loaders>() {
        Some(loaders) => loaders.load_one(key).await,
        None => {
            loaders(ctx.data_unchecked::<DatabaseConnection>().clone())
                .load_one(key)
                .await
        }
    }
}

/// Whether a selection of agent fields needs the agents' links.
pub fn asks_for_links(nodes: &Lookahead<'_>) -> bool {
    ["matchStatus", "matchedBy", "employee"]
        .iter()
        .any(|field| nodes.field(field).exists())
}

/// Loads, in one batch per relation, what the selection `nodes` asks of a page of agents and the query
/// that read them did not join, so that the field resolvers find it cached. Batching by the loaders' time
/// window alone would split a large page into several batches whenever resolving it takes longer than
/// that window.
pub async fn prefetch_agents(
    loaders: &Loaders,
    agents: &[Agent],
    nodes: Lookahead<'_>,
) -> Result<(), DbErr> {
    let asks = |field: &str| nodes.field(field).exists();
    if asks("lastSeenAt") {
        loaders.load_one(LastSuccessKey).await?;
    }
    if !asks_for_links(&nodes) {
        return Ok(());
    }
    let links = loaders
        .load_many(
            agents
                .iter()
                .filter(|a| !a.has_link())
                .map(|a| LinkKey(a.row().id)),
        )
        .await?;
    if asks("employee") {
        let linked = links.values().filter_map(|l| l.employee_id);
        let employees: Vec<EmployeeKey> = agents
            .iter()
            .filter_map(Agent::employee_to_load)
            .chain(linked)
            .map(EmployeeKey)
            .collect();
        loaders.load_many(employees).await?;
    }
    if nodes.field("employee").field("agents").exists() {
        let employees = agents
            .iter()
            .filter_map(Agent::linked_employee_id)
            .chain(links.values().filter_map(|l| l.employee_id));
        loaders.load_many(employees.map(SeatsKey)).await?;
    }
    Ok(())
}

/// An agent by CareSoft id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgentKey(pub i64);
/// An agent's link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkKey(pub i64);
/// An employee by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmployeeKey(pub i64);
/// The current agents MATCHED to an employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeatsKey(pub i64);
/// The candidates of an AMBIGUOUS or CONFLICT agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CandidatesKey(pub i64);
/// An agent's latest status events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusEventsKey(pub i64);
/// An agent's latest roster changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RosterChangesKey(pub i64);
/// An agent's latest link changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkChangesKey(pub i64);
/// When the last successful sync started (current agents were seen then).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LastSuccessKey;

fn ids<K: Copy>(keys: &[K], id: impl Fn(K) -> i64) -> Vec<i64> {
    keys.iter().map(|k| id(*k)).collect()
}

impl Loader<AgentKey> for DbLoader {
    type Value = agent::Model;
    type Error = DbErr;

    async fn load(&self, keys: &[AgentKey]) -> Result<HashMap<AgentKey, Self::Value>, DbErr> {
        let rows = agent::Entity::find()
            .filter(agent::Column::Id.is_in(ids(keys, |k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (AgentKey(r.id), r)).collect())
    }
}

impl Loader<LinkKey> for DbLoader {
    type Value = agent_link::Model;
    type Error = DbErr;

    async fn load(&self, keys: &[LinkKey]) -> Result<HashMap<LinkKey, Self::Value>, DbErr> {
        let rows = agent_link::Entity::find()
            .filter(agent_link::Column::AgentId.is_in(ids(keys, |k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (LinkKey(r.agent_id), r)).collect())
    }
}

impl Loader<EmployeeKey> for DbLoader {
    type Value = employee::Model;
    type Error = DbErr;

    async fn load(&self, keys: &[EmployeeKey]) -> Result<HashMap<EmployeeKey, Self::Value>, DbErr> {
        let rows = employee::Entity::find()
            .filter(employee::Column::Id.is_in(ids(keys, |k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (EmployeeKey(r.id), r)).collect())
    }
}

impl Loader<SeatsKey> for DbLoader {
    type Value = Vec<agent::Model>;
    type Error = DbErr;

    async fn load(&self, keys: &[SeatsKey]) -> Result<HashMap<SeatsKey, Self::Value>, DbErr> {
        let links = agent_link::Entity::find()
            .filter(agent_link::Column::EmployeeId.is_in(ids(keys, |k| k.0)))
            .filter(agent_link::Column::Status.eq(MatchStatus::Matched.as_str()))
            .all(&self.db)
            .await?;
        let agents: HashMap<i64, agent::Model> = agent::Entity::find()
            .filter(agent::Column::Id.is_in(links.iter().map(|l| l.agent_id)))
            .filter(agent::Column::RemovedAt.is_null())
            .order_by_asc(agent::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut out: HashMap<SeatsKey, Vec<agent::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for link in links {
            if let (Some(employee_id), Some(agent)) = (link.employee_id, agents.get(&link.agent_id))
            {
                out.entry(SeatsKey(employee_id))
                    .or_default()
                    .push(agent.clone());
            }
        }
        for seats in out.values_mut() {
            seats.sort_by_key(|a| a.id);
        }
        Ok(out)
    }
}

impl Loader<CandidatesKey> for DbLoader {
    type Value = Vec<(employee::Model, String)>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[CandidatesKey],
    ) -> Result<HashMap<CandidatesKey, Self::Value>, DbErr> {
        let candidates = link_candidate::Entity::find()
            .filter(link_candidate::Column::AgentId.is_in(ids(keys, |k| k.0)))
            .all(&self.db)
            .await?;
        let employees: HashMap<i64, employee::Model> = employee::Entity::find()
            .filter(employee::Column::Id.is_in(candidates.iter().map(|c| c.employee_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let mut out: HashMap<CandidatesKey, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for candidate in candidates {
            if let Some(employee) = employees.get(&candidate.employee_id) {
                out.entry(CandidatesKey(candidate.agent_id))
                    .or_default()
                    .push((employee.clone(), candidate.via));
            }
        }
        for list in out.values_mut() {
            list.sort_by(|a, b| a.0.employee_code.cmp(&b.0.employee_code));
        }
        Ok(out)
    }
}

/// The latest `HISTORY_LIMIT` rows per agent of a history table, in one statement (a window function
/// that SQLite and PostgreSQL both run).
async fn latest_per_agent<M: FromQueryResult>(
    db: &DatabaseConnection,
    table: &str,
    agent_ids: &[i64],
) -> Result<Vec<M>, DbErr> {
    if agent_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = agent_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    // The ids are integers formatted here, never client text, so inlining them is safe.
    let sql = format!(
        "SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.agent_id ORDER BY t.id DESC) AS rn \
         FROM {table} t WHERE t.agent_id IN ({list})) ranked WHERE rn <= {HISTORY_LIMIT} ORDER BY agent_id, id DESC"
    );
    M::find_by_statement(Statement::from_string(db.get_database_backend(), sql))
        .all(db)
        .await
}

fn group<K: Copy + Eq + std::hash::Hash, V>(
    keys: &[K],
    rows: Vec<V>,
    key_of: impl Fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut out: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        out.entry(key_of(&row)).or_default().push(row);
    }
    out
}

impl Loader<StatusEventsKey> for DbLoader {
    type Value = Vec<status_event::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[StatusEventsKey],
    ) -> Result<HashMap<StatusEventsKey, Self::Value>, DbErr> {
        let rows = latest_per_agent(&self.db, "status_events", &ids(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r: &status_event::Model| {
            StatusEventsKey(r.agent_id)
        }))
    }
}

impl Loader<RosterChangesKey> for DbLoader {
    type Value = Vec<roster_change::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[RosterChangesKey],
    ) -> Result<HashMap<RosterChangesKey, Self::Value>, DbErr> {
        let rows = latest_per_agent(&self.db, "roster_changes", &ids(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r: &roster_change::Model| {
            RosterChangesKey(r.agent_id)
        }))
    }
}

impl Loader<LinkChangesKey> for DbLoader {
    type Value = Vec<link_history::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[LinkChangesKey],
    ) -> Result<HashMap<LinkChangesKey, Self::Value>, DbErr> {
        let rows = latest_per_agent(&self.db, "link_history", &ids(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r: &link_history::Model| {
            LinkChangesKey(r.agent_id)
        }))
    }
}

impl Loader<LastSuccessKey> for DbLoader {
    type Value = DateTime<Utc>;
    type Error = DbErr;

    async fn load(
        &self,
        _: &[LastSuccessKey],
    ) -> Result<HashMap<LastSuccessKey, Self::Value>, DbErr> {
        let run = sync_run::Entity::find()
            .filter(sync_run::Column::Outcome.eq(SyncOutcome::Succeeded.as_str()))
            .order_by_desc(sync_run::Column::StartedAt)
            .one(&self.db)
            .await?;
        Ok(run
            .map(|r| (LastSuccessKey, r.started_at))
            .into_iter()
            .collect())
    }
}
