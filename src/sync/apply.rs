//! Turns a [`Plan`] into the rows the store writes: the plan's agents, removals, status events and
//! roster changes, stamped with the run and the time. The statements themselves are
//! [`store::agents::write`].

use chrono::{DateTime, Utc};
use entity::{roster_change, status_event};
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait, DbErr};

use super::diff::Plan;
use crate::store;

/// Applies the plan; `previous_seen` is when removed agents were last seen (the last successful sync).
pub async fn apply(
    txn: &impl ConnectionTrait,
    plan: &Plan,
    run_id: i64,
    now: DateTime<Utc>,
    previous_seen: DateTime<Utc>,
) -> Result<(), DbErr> {
    let status_events = plan
        .status_changes
        .iter()
        .map(|change| status_event::ActiveModel {
            id: NotSet,
            agent_id: Set(change.agent_id),
            channel: Set(change.channel),
            old_status: Set(change.old_status),
            new_status: Set(change.new_status),
            old_raw: Set(change.old_raw.clone()),
            new_raw: Set(change.new_raw.clone()),
            observed_at: Set(now),
            sync_run_id: Set(run_id),
        })
        .collect();
    let roster_changes = plan
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
    let writes = store::agents::MirrorWrites {
        rows: plan.upserts.iter().chain(&plan.refreshed).collect(),
        removals: &plan.removals,
        status_events,
        roster_changes,
    };
    store::agents::write(txn, writes, now, previous_seen).await
}
