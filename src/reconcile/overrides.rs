//! Manual overrides (`link`, `unlink`, `ignore`): stored in `link_overrides`, apart from computed links,
//! so no sync or import overwrites them; each one recomputes links in its own transaction.

use chrono::Utc;
use entity::{agent, agent_link, employee, link_override};
use sea_orm::sea_query::OnConflict;
use std::collections::HashSet;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};

use super::matching::recompute;
use crate::domain::{LinkCause, MatchMethod, MatchStatus};
use crate::sync::lock;

/// Why an override was not applied; every message is safe to show an admin.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("no agent with id {0} in the mirror (run a sync first?)")]
    UnknownAgent(i64),
    #[error("no employee with code {0:?} in HR (import it first)")]
    UnknownEmployee(String),
    #[error("employee {0:?} was removed from HR; restore it by importing it again before linking")]
    RemovedEmployee(String),
    #[error(
        "agent {0} has no manual override; its match is computed from email and phone (use ignore to stop it matching)"
    )]
    NothingToUnlink(i64),
    #[error("database error")]
    Database(#[from] DbErr),
}

/// The agent's link after an override, for the command's confirmation line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    pub agent_id: i64,
    pub status: MatchStatus,
    pub method: Option<MatchMethod>,
    pub employee_code: Option<String>,
}

impl std::fmt::Display for LinkState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "agent {}: {}", self.agent_id, self.status)?;
        if let Some(method) = self.method {
            write!(f, " by {method}")?;
        }
        if let Some(code) = &self.employee_code {
            write!(f, " to employee {code}")?;
        }
        Ok(())
    }
}

async fn ensure_agent(db: &DatabaseConnection, agent_id: i64) -> Result<(), OverrideError> {
    match agent::Entity::find_by_id(agent_id).one(db).await? {
        Some(_) => Ok(()),
        None => Err(OverrideError::UnknownAgent(agent_id)),
    }
}

async fn store(
    db: &DatabaseConnection,
    agent_id: i64,
    kind: &str,
    code: Option<String>,
) -> Result<LinkState, OverrideError> {
    let txn = db.begin().await?;
    let _write_lock = lock::acquire(&txn, true).await?;
    link_override::Entity::insert(link_override::ActiveModel {
        agent_id: Set(agent_id),
        kind: Set(kind.to_string()),
        employee_code: Set(code),
        created_at: Set(Utc::now()),
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
    .exec_without_returning(&txn)
    .await?;
    recompute(&txn, LinkCause::Override, Utc::now()).await?;
    txn.commit().await?;
    state(db, agent_id).await
}

/// Links `agent_id` to the employee `employee_code`, whatever the keys say.
pub async fn link(
    db: &DatabaseConnection,
    agent_id: i64,
    employee_code: &str,
) -> Result<LinkState, OverrideError> {
    ensure_agent(db, agent_id).await?;
    let employee = employee::Entity::find()
        .filter(employee::Column::EmployeeCode.eq(employee_code))
        .one(db)
        .await?
        .ok_or_else(|| OverrideError::UnknownEmployee(employee_code.to_string()))?;
    if employee.removed_at.is_some() {
        return Err(OverrideError::RemovedEmployee(employee_code.to_string()));
    }
    store(db, agent_id, "link", Some(employee.employee_code)).await
}

/// Marks a service, test or supervisor seat: IGNORED, never linked, never in unmatched lists.
pub async fn ignore(db: &DatabaseConnection, agent_id: i64) -> Result<LinkState, OverrideError> {
    ensure_agent(db, agent_id).await?;
    store(db, agent_id, "ignore", None).await
}

/// Drops the agent's manual override (link or ignore); its match is computed again.
pub async fn unlink(db: &DatabaseConnection, agent_id: i64) -> Result<LinkState, OverrideError> {
    ensure_agent(db, agent_id).await?;
    let txn = db.begin().await?;
    let _write_lock = lock::acquire(&txn, true).await?;
    let deleted = link_override::Entity::delete_by_id(agent_id)
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(OverrideError::NothingToUnlink(agent_id));
    }
    recompute(&txn, LinkCause::Override, Utc::now()).await?;
    txn.commit().await?;
    state(db, agent_id).await
}

/// The agent's current link.
pub async fn state(db: &DatabaseConnection, agent_id: i64) -> Result<LinkState, OverrideError> {
    let link = agent_link::Entity::find_by_id(agent_id).one(db).await?;
    let (status, method, employee_id) = match &link {
        Some(row) => (
            MatchStatus::parse(&row.status).unwrap_or(MatchStatus::Unmatched),
            row.method.as_deref().and_then(MatchMethod::parse),
            row.employee_id,
        ),
        None => (MatchStatus::Unmatched, None, None),
    };
    let employee_code = match employee_id {
        Some(id) => employee::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|e| e.employee_code),
        None => None,
    };
    Ok(LinkState {
        agent_id,
        status,
        method,
        employee_code,
    })
}

/// Manual links whose employee is missing or removed: reported to admins rather than silently dropped.
pub async fn dangling(db: &DatabaseConnection) -> Result<Vec<(i64, String)>, DbErr> {
    let overrides = link_override::Entity::find()
        .filter(link_override::Column::Kind.eq("link"))
        .all(db)
        .await?;
    let codes: Vec<String> = overrides
        .iter()
        .filter_map(|o| o.employee_code.clone())
        .collect();
    let live: HashSet<String> = employee::Entity::find()
        .select_only()
        .column(employee::Column::EmployeeCode)
        .filter(employee::Column::EmployeeCode.is_in(codes))
        .filter(employee::Column::RemovedAt.is_null())
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(overrides
        .into_iter()
        .filter_map(|o| {
            o.employee_code
                .filter(|code| !live.contains(code))
                .map(|code| (o.agent_id, code))
        })
        .collect())
}
