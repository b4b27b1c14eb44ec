//! DataLoaders for every relation a page can ask for (agent → link → employee, employee → agents, agent →
//! candidates and history), so a page costs a fixed number of statements whatever its size. A fresh set
//! is made per request (and per subscription event): values are cached only for that request, which lets
//! [`prefetch_agents`] load a whole page's relations up front in one batch per relation.

use std::collections::HashMap;

use async_graphql::Lookahead;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entity::{agent, agent_link, employee, link_history, roster_change, status_event};
use sea_orm::{DatabaseConnection, DbErr};

use super::types::Agent;
use crate::domain::{MatchMethod, SyncSource};
use crate::reconcile::suggestions::{self, Lookup, Suggestion};
use crate::store;

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
        let domains: std::collections::BTreeSet<&str> =
            agents.iter().map(|a| a.row().domain.as_str()).collect();
        loaders
            .load_many(domains.into_iter().map(|d| LastSuccessKey(d.to_string())))
            .await?;
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
/// The suggested owners of an UNMATCHED agent, best first (at most [`MAX_SUGGESTIONS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SuggestionsKey(pub i64);
/// The last successful sync of a domain (its current agents were seen when it started).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LastSuccessKey(pub String);

fn ids<K: Copy>(keys: &[K], id: impl Fn(K) -> i64) -> Vec<i64> {
    keys.iter().map(|k| id(*k)).collect()
}

/// Keys by id, with an empty value for every key the store had nothing for.
fn by_key<K: Copy + Eq + std::hash::Hash, V: Default>(
    keys: &[K],
    mut found: HashMap<i64, V>,
    id: impl Fn(K) -> i64,
) -> HashMap<K, V> {
    keys.iter()
        .map(|k| (*k, found.remove(&id(*k)).unwrap_or_default()))
        .collect()
}

impl Loader<AgentKey> for DbLoader {
    type Value = agent::Model;
    type Error = DbErr;

    async fn load(&self, keys: &[AgentKey]) -> Result<HashMap<AgentKey, Self::Value>, DbErr> {
        let rows = store::agents::by_ids(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|r| (AgentKey(r.id), r)).collect())
    }
}

impl Loader<LinkKey> for DbLoader {
    type Value = agent_link::Model;
    type Error = DbErr;

    async fn load(&self, keys: &[LinkKey]) -> Result<HashMap<LinkKey, Self::Value>, DbErr> {
        let rows = store::links::of_agents(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|r| (LinkKey(r.agent_id), r)).collect())
    }
}

impl Loader<EmployeeKey> for DbLoader {
    type Value = employee::Model;
    type Error = DbErr;

    async fn load(&self, keys: &[EmployeeKey]) -> Result<HashMap<EmployeeKey, Self::Value>, DbErr> {
        let rows = store::employees::by_ids(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(rows.into_iter().map(|r| (EmployeeKey(r.id), r)).collect())
    }
}

impl Loader<SeatsKey> for DbLoader {
    type Value = Vec<agent::Model>;
    type Error = DbErr;

    async fn load(&self, keys: &[SeatsKey]) -> Result<HashMap<SeatsKey, Self::Value>, DbErr> {
        let seats = store::links::seats(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(by_key(keys, seats, |k| k.0))
    }
}

impl Loader<CandidatesKey> for DbLoader {
    type Value = Vec<(employee::Model, MatchMethod)>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[CandidatesKey],
    ) -> Result<HashMap<CandidatesKey, Self::Value>, DbErr> {
        let candidates = store::links::candidates(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(by_key(keys, candidates, |k| k.0))
    }
}

/// The most suggestions an agent lists.
pub const MAX_SUGGESTIONS: usize = 20;

impl Loader<SuggestionsKey> for DbLoader {
    type Value = Vec<Suggestion>;
    type Error = DbErr;

    /// A page's suggestions in two statements: its agents, then every candidate any of them may have.
    async fn load(
        &self,
        keys: &[SuggestionsKey],
    ) -> Result<HashMap<SuggestionsKey, Self::Value>, DbErr> {
        let agents = store::agents::by_ids(&self.db, &ids(keys, |k| k.0)).await?;
        let lookup = Lookup::of(&agents);
        let candidates = store::employees::suggestion_candidates(
            &self.db,
            &lookup.given_names,
            &lookup.phone_tails,
        )
        .await?;
        Ok(agents
            .iter()
            .map(|agent| {
                let found = suggestions::suggest(agent, &candidates, MAX_SUGGESTIONS);
                (SuggestionsKey(agent.id), found)
            })
            .collect())
    }
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
        let rows = store::history::status_events(&self.db, &ids(keys, |k| k.0)).await?;
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
        let rows = store::history::roster_changes(&self.db, &ids(keys, |k| k.0)).await?;
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
        let rows = store::history::link_changes(&self.db, &ids(keys, |k| k.0)).await?;
        Ok(group(keys, rows, |r: &link_history::Model| {
            LinkChangesKey(r.agent_id)
        }))
    }
}

impl Loader<LastSuccessKey> for DbLoader {
    type Value = store::runs::LastSuccess;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[LastSuccessKey],
    ) -> Result<HashMap<LastSuccessKey, Self::Value>, DbErr> {
        let mut found = HashMap::with_capacity(keys.len());
        for key in keys {
            if let Some(last) =
                store::runs::last_success(&self.db, SyncSource::Caresoft, Some(&key.0)).await?
            {
                found.insert(key.clone(), last);
            }
        }
        Ok(found)
    }
}
