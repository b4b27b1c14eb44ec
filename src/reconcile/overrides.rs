//! Manual overrides (`link`, `unlink`, `ignore`): stored in `link_overrides`, apart from computed links,
//! so no sync or import overwrites them; each one recomputes links in its own transaction.

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbErr};

use super::matching::recompute;
use crate::domain::{LinkCause, MatchMethod, MatchStatus, OverrideKind};
use crate::store;

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
    match store::agents::exists(db, agent_id).await? {
        true => Ok(()),
        false => Err(OverrideError::UnknownAgent(agent_id)),
    }
}

async fn store_override(
    db: &DatabaseConnection,
    agent_id: i64,
    kind: OverrideKind,
    code: Option<String>,
) -> Result<LinkState, OverrideError> {
    let txn = store::begin_write(db).await?;
    store::links::set_override(&*txn, agent_id, kind, code, Utc::now()).await?;
    recompute(&*txn, LinkCause::Override, Utc::now()).await?;
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
    let employee = store::employees::by_code(db, employee_code)
        .await?
        .ok_or_else(|| OverrideError::UnknownEmployee(employee_code.to_string()))?;
    if employee.removed_at.is_some() {
        return Err(OverrideError::RemovedEmployee(employee_code.to_string()));
    }
    store_override(
        db,
        agent_id,
        OverrideKind::Link,
        Some(employee.employee_code),
    )
    .await
}

/// Marks a service, test or supervisor seat: IGNORED, never linked, never in unmatched lists.
pub async fn ignore(db: &DatabaseConnection, agent_id: i64) -> Result<LinkState, OverrideError> {
    ensure_agent(db, agent_id).await?;
    store_override(db, agent_id, OverrideKind::Ignore, None).await
}

/// Drops the agent's manual override (link or ignore); its match is computed again.
pub async fn unlink(db: &DatabaseConnection, agent_id: i64) -> Result<LinkState, OverrideError> {
    ensure_agent(db, agent_id).await?;
    let txn = store::begin_write(db).await?;
    if !store::links::delete_override(&*txn, agent_id).await? {
        txn.rollback().await?;
        return Err(OverrideError::NothingToUnlink(agent_id));
    }
    recompute(&*txn, LinkCause::Override, Utc::now()).await?;
    txn.commit().await?;
    state(db, agent_id).await
}

/// The agent's current link.
pub async fn state(db: &DatabaseConnection, agent_id: i64) -> Result<LinkState, OverrideError> {
    let link = store::links::of_agents(db, &[agent_id])
        .await?
        .into_iter()
        .next();
    let (status, method, employee_id) = match &link {
        Some(row) => (row.status, row.method, row.employee_id),
        None => (MatchStatus::Unmatched, None, None),
    };
    let employee_code = match employee_id {
        Some(id) => store::employees::by_ids(db, &[id])
            .await?
            .into_iter()
            .next()
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
    store::links::dangling_overrides(db).await
}
