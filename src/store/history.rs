//! Per-agent history for the API: the latest status events, roster changes and link changes of a batch
//! of agents, each in one statement.

use entity::{link_history, roster_change, status_event};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};

/// How many history rows of each kind an agent shows.
pub const HISTORY_LIMIT: usize = 100;

/// The latest `HISTORY_LIMIT` rows per agent of a history table, in one statement (a window function
/// that SQLite and PostgreSQL both run), ordered by agent, newest first.
async fn latest_per_agent<M: FromQueryResult>(
    db: &impl ConnectionTrait,
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
    // The ids are integers formatted here and the table a constant of this file, never client text.
    let sql = format!(
        "SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.agent_id ORDER BY t.id DESC) AS rn \
         FROM {table} t WHERE t.agent_id IN ({list})) ranked WHERE rn <= {HISTORY_LIMIT} ORDER BY agent_id, id DESC"
    );
    M::find_by_statement(Statement::from_string(db.get_database_backend(), sql))
        .all(db)
        .await
}

/// The latest channel status changes of each agent.
pub async fn status_events(
    db: &impl ConnectionTrait,
    agent_ids: &[i64],
) -> Result<Vec<status_event::Model>, DbErr> {
    latest_per_agent(db, "status_events", agent_ids).await
}

/// The latest roster changes of each agent.
pub async fn roster_changes(
    db: &impl ConnectionTrait,
    agent_ids: &[i64],
) -> Result<Vec<roster_change::Model>, DbErr> {
    latest_per_agent(db, "roster_changes", agent_ids).await
}

/// The latest link changes of each agent.
pub async fn link_changes(
    db: &impl ConnectionTrait,
    agent_ids: &[i64],
) -> Result<Vec<link_history::Model>, DbErr> {
    latest_per_agent(db, "link_history", agent_ids).await
}
