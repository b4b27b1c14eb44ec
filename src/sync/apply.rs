//! Writes a [`Plan`] inside the caller's transaction with bulk statements, in chunks that respect each
//! engine's bind-parameter limit. Nothing here runs a statement per unchanged agent.

use chrono::{DateTime, Utc};
use entity::{agent, roster_change, status_event};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, Iterable, QueryFilter,
};

use super::diff::Plan;
use crate::db::rows_per_statement;

/// Applies the plan; `previous_seen` is when removed agents were last seen (the last successful sync).
pub async fn apply(
    txn: &DatabaseTransaction,
    plan: &Plan,
    run_id: i64,
    now: DateTime<Utc>,
    previous_seen: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();

    let agent_columns = agent::Column::iter().count();
    let update_columns: Vec<agent::Column> = agent::Column::iter()
        .filter(|c| !matches!(c, agent::Column::Id))
        .collect();
    let rows: Vec<&agent::Model> = plan.upserts.iter().chain(&plan.refreshed).collect();
    for chunk in rows.chunks(rows_per_statement(backend, agent_columns)) {
        // into_active_model marks values Unchanged; reset_all makes the upsert send all of them.
        let rows = chunk
            .iter()
            .map(|row| (*row).clone().into_active_model().reset_all());
        agent::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(agent::Column::Id)
                    .update_columns(update_columns.clone())
                    .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }

    for chunk in plan
        .removals
        .chunks(rows_per_statement(backend, 1).saturating_sub(8).max(1))
    {
        agent::Entity::update_many()
            .col_expr(agent::Column::RemovedAt, Expr::value(now))
            .col_expr(agent::Column::LastChangedAt, Expr::value(now))
            .col_expr(agent::Column::LastSeenAt, Expr::value(previous_seen))
            .filter(agent::Column::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }

    let events: Vec<status_event::ActiveModel> = plan
        .status_changes
        .iter()
        .map(|change| status_event::ActiveModel {
            id: NotSet,
            agent_id: Set(change.agent_id),
            channel: Set(change.channel.as_str().to_string()),
            old_status: Set(change.old_status.map(|s| s.as_str().to_string())),
            new_status: Set(change.new_status.as_str().to_string()),
            old_raw: Set(change.old_raw.clone()),
            new_raw: Set(change.new_raw.clone()),
            observed_at: Set(now),
            sync_run_id: Set(run_id),
        })
        .collect();
    for chunk in events.chunks(rows_per_statement(
        backend,
        status_event::Column::iter().count(),
    )) {
        status_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }

    let changes: Vec<roster_change::ActiveModel> = plan
        .roster_changes
        .iter()
        .map(|change| roster_change::ActiveModel {
            id: NotSet,
            agent_id: Set(change.agent_id),
            field: Set(change.field.to_string()),
            old_value: Set(change.old_value.clone()),
            new_value: Set(change.new_value.clone()),
            changed_at: Set(now),
            sync_run_id: Set(run_id),
        })
        .collect();
    for chunk in changes.chunks(rows_per_statement(
        backend,
        roster_change::Column::iter().count(),
    )) {
        roster_change::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
