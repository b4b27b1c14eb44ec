//! `agent_links`, `link_candidates`, `link_history` and `link_overrides`: each agent's match, the
//! candidates of the ones an admin must review, every change of a match, and the admins' overrides.
//! Two rules live here: an agent with no link row is UNMATCHED ([`match_status`]), and an employee is
//! "seated" when MATCHED to a current agent ([`seated_employee_ids`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{agent, agent_link, employee, link_candidate, link_history, link_override};
use sea_orm::sea_query::{
    Alias, Expr, ExprTrait, Func, IntoIden, JoinType, OnConflict, Query, SelectStatement,
    SimpleExpr,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::agents::is_current;
use super::bulk::{self, insert_all, upsert_all};
use super::connection::rows_per_statement;
use crate::domain::{MatchMethod, MatchStatus, OverrideKind};

/// An agent's match status: its link's, UNMATCHED when it has none. `link` is the alias of the left-joined
/// `agent_links`.
pub fn match_status(link: impl IntoIden) -> SimpleExpr {
    Func::coalesce([
        Expr::col((link.into_iden(), agent_link::Column::Status)),
        Expr::val(MatchStatus::Unmatched.as_str()),
    ])
    .into()
}

/// The same rule on a link read from the database: UNMATCHED when there is none.
pub fn status_of(link: Option<&agent_link::Model>) -> MatchStatus {
    link.map_or(MatchStatus::Unmatched, |l| l.status)
}

/// The ids of employees holding a seat: MATCHED to a current agent. "Staff without a seat" are the ACTIVE
/// employees not in this set. `NOT IN` over this uncorrelated subquery is evaluated once (a hashed
/// anti-join); a correlated `NOT EXISTS` probed the links per employee, which took seconds on SQLite with
/// 100,000 employees.
pub fn seated_employee_ids() -> SelectStatement {
    let (l, a) = (Alias::new("sl"), Alias::new("sa"));
    Query::select()
        .column((l.clone(), agent_link::Column::EmployeeId))
        .from_as(agent_link::Entity, l.clone())
        .join_as(
            JoinType::InnerJoin,
            agent::Entity,
            a.clone(),
            Expr::col((a.clone(), agent::Column::Id))
                .equals((l.clone(), agent_link::Column::AgentId)),
        )
        // A literal, not a bound value, as when this rule was hand-written SQL: the planner then knows
        // how many links are MATCHED without waiting for a custom plan (BENCHMARKS.md, storage layer A/B).
        .and_where(
            Expr::col((l.clone(), agent_link::Column::Status))
                .eq(Expr::cust(format!("'{}'", MatchStatus::Matched.as_str()))),
        )
        .and_where(is_current(a))
        .and_where(Expr::col((l, agent_link::Column::EmployeeId)).is_not_null())
        .to_owned()
}

/// Every stored link.
pub async fn all(
    db: &impl ConnectionTrait,
    domain: Option<&str>,
) -> Result<Vec<agent_link::Model>, DbErr> {
    let mut query = agent_link::Entity::find();
    if let Some(domain) = domain {
        query = query.filter(agent_link::Column::AgentId.in_subquery(agents_of(domain)));
    }
    query.all(db).await
}

/// Every stored candidate (of the agents of `domain`, when given).
pub async fn all_candidates(
    db: &impl ConnectionTrait,
    domain: Option<&str>,
) -> Result<Vec<link_candidate::Model>, DbErr> {
    let mut query = link_candidate::Entity::find();
    if let Some(domain) = domain {
        query = query.filter(link_candidate::Column::AgentId.in_subquery(agents_of(domain)));
    }
    query.all(db).await
}

/// `SELECT id FROM agents WHERE domain = ?`.
fn agents_of(domain: &str) -> SelectStatement {
    Query::select()
        .column(agent::Column::Id)
        .from(agent::Entity)
        .and_where(Expr::col(agent::Column::Domain).eq(domain))
        .to_owned()
}

/// Every manual override.
pub async fn overrides(db: &impl ConnectionTrait) -> Result<Vec<link_override::Model>, DbErr> {
    link_override::Entity::find().all(db).await
}

/// The links of `agent_ids` (agents without a link row have none here).
pub async fn of_agents(
    db: &impl ConnectionTrait,
    agent_ids: &[i64],
) -> Result<Vec<agent_link::Model>, DbErr> {
    agent_link::Entity::find()
        .filter(agent_link::Column::AgentId.is_in(agent_ids.iter().copied()))
        .all(db)
        .await
}

/// What a recompute writes, in the caller's transaction.
#[derive(Debug, Default)]
pub struct LinkWrites {
    /// Links whose status, method or employee changed.
    pub links: Vec<agent_link::ActiveModel>,
    /// One history row per changed link.
    pub history: Vec<link_history::ActiveModel>,
    /// Agents whose candidates changed: theirs are replaced by [`LinkWrites::candidates`].
    pub candidate_agents: Vec<i64>,
    pub candidates: Vec<link_candidate::ActiveModel>,
}

/// Writes a recompute's changes with bulk statements in engine-sized chunks.
pub async fn write(txn: &impl ConnectionTrait, writes: LinkWrites) -> Result<(), DbErr> {
    bulk::with_generic_plans(txn, write_rows(txn, writes)).await
}

async fn write_rows(txn: &impl ConnectionTrait, writes: LinkWrites) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    // A first sync fills the empty link tables: their indexes and foreign keys are built after the rows.
    let rows = writes.links.len();
    let upsert = upsert_all(
        txn,
        writes.links,
        agent_link::Column::AgentId,
        [
            agent_link::Column::Status,
            agent_link::Column::Method,
            agent_link::Column::EmployeeId,
            agent_link::Column::UpdatedAt,
        ],
    );
    bulk::load(txn, agent_link::Entity, rows, upsert).await?;
    let rows = writes.history.len();
    bulk::load(
        txn,
        link_history::Entity,
        rows,
        insert_all(txn, writes.history),
    )
    .await?;
    for chunk in writes
        .candidate_agents
        .chunks(rows_per_statement(backend, 1).saturating_sub(1).max(1))
    {
        link_candidate::Entity::delete_many()
            .filter(link_candidate::Column::AgentId.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    insert_all(txn, writes.candidates).await
}

/// The current agents MATCHED to each of `employee_ids`, ordered by agent id.
pub async fn seats(
    db: &impl ConnectionTrait,
    employee_ids: &[i64],
) -> Result<HashMap<i64, Vec<agent::Model>>, DbErr> {
    // An import that terminates a whole department names thousands: in chunks under the engine's limit
    // on bound parameters.
    let per_statement = rows_per_statement(db.get_database_backend(), 1)
        .saturating_sub(8)
        .max(1);
    let mut links = Vec::new();
    for ids in employee_ids.chunks(per_statement) {
        links.extend(
            agent_link::Entity::find()
                .filter(agent_link::Column::EmployeeId.is_in(ids.iter().copied()))
                .filter(agent_link::Column::Status.eq(MatchStatus::Matched))
                .all(db)
                .await?,
        );
    }
    let agent_ids: Vec<i64> = links.iter().map(|l| l.agent_id).collect();
    let mut agents: HashMap<i64, agent::Model> = HashMap::with_capacity(agent_ids.len());
    for ids in agent_ids.chunks(per_statement) {
        agents.extend(
            agent::Entity::find()
                .filter(agent::Column::Id.is_in(ids.iter().copied()))
                .filter(is_current(agent::Entity))
                .all(db)
                .await?
                .into_iter()
                .map(|a| (a.id, a)),
        );
    }
    let mut out: HashMap<i64, Vec<agent::Model>> =
        employee_ids.iter().map(|id| (*id, Vec::new())).collect();
    for link in links {
        if let (Some(employee_id), Some(agent)) = (link.employee_id, agents.get(&link.agent_id)) {
            out.entry(employee_id).or_default().push(agent.clone());
        }
    }
    for seats in out.values_mut() {
        seats.sort_by_key(|a| a.id);
    }
    Ok(out)
}

/// The candidates of each of `agent_ids`: the employee and the key that pointed at it, by employee code.
pub async fn candidates(
    db: &impl ConnectionTrait,
    agent_ids: &[i64],
) -> Result<HashMap<i64, Vec<(employee::Model, MatchMethod)>>, DbErr> {
    let candidates = link_candidate::Entity::find()
        .filter(link_candidate::Column::AgentId.is_in(agent_ids.iter().copied()))
        .all(db)
        .await?;
    let employee_ids: Vec<i64> = candidates.iter().map(|c| c.employee_id).collect();
    let employees: HashMap<i64, employee::Model> = super::employees::by_ids(db, &employee_ids)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut out: HashMap<i64, Vec<(employee::Model, MatchMethod)>> =
        agent_ids.iter().map(|id| (*id, Vec::new())).collect();
    for candidate in candidates {
        if let Some(employee) = employees.get(&candidate.employee_id) {
            out.entry(candidate.agent_id)
                .or_default()
                .push((employee.clone(), candidate.via));
        }
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| a.0.employee_code.cmp(&b.0.employee_code));
    }
    Ok(out)
}

/// Stores an admin's override of an agent (replacing any earlier one).
pub async fn set_override(
    txn: &impl ConnectionTrait,
    agent_id: i64,
    kind: OverrideKind,
    employee_code: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    link_override::Entity::insert(link_override::ActiveModel {
        agent_id: Set(agent_id),
        kind: Set(kind),
        employee_code: Set(employee_code),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(link_override::Column::AgentId)
            .update_columns([
                link_override::Column::Kind,
                link_override::Column::EmployeeCode,
                link_override::Column::CreatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await
    .map(|_| ())
}

/// Drops an agent's override; false when it had none.
pub async fn delete_override(txn: &impl ConnectionTrait, agent_id: i64) -> Result<bool, DbErr> {
    let deleted = link_override::Entity::delete_by_id(agent_id)
        .exec(txn)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// Manual links whose employee is missing or no longer in HR: (agent id, employee code), by agent id.
pub async fn dangling_overrides(db: &impl ConnectionTrait) -> Result<Vec<(i64, String)>, DbErr> {
    let overrides = link_override::Entity::find()
        .filter(link_override::Column::Kind.eq(OverrideKind::Link))
        .order_by_asc(link_override::Column::AgentId)
        .all(db)
        .await?;
    let codes: Vec<&str> = overrides
        .iter()
        .filter_map(|o| o.employee_code.as_deref())
        .collect();
    let live = super::employees::live_codes(db, &codes).await?;
    Ok(overrides
        .iter()
        .filter_map(|o| {
            o.employee_code
                .as_ref()
                .filter(|code| !live.contains(*code))
                .map(|code| (o.agent_id, code.clone()))
        })
        .collect())
}
