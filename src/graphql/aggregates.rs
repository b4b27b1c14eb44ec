//! Aggregates for dashboards and reporting tools: per group, current agents per channel and status, in one
//! GROUP BY (the group-by Hasura and seaography users keep asking for).

use entity::agent;
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Order, Query as Sql};
use sea_orm::{ConnectionTrait, DatabaseConnection, Iden};

use super::errors::OrInternal;
use super::types::{Channel, ChannelStatus, Group, StatusCount};
use crate::domain;

const CHANNEL_COLUMNS: [(domain::Channel, agent::Column); 3] = [
    (domain::Channel::Call, agent::Column::CallStatus),
    (domain::Channel::Chat, agent::Column::ChatStatus),
    (domain::Channel::Ticket, agent::Column::TicketStatus),
];
const STATUSES: [domain::ChannelStatus; 4] = [
    domain::ChannelStatus::Available,
    domain::ChannelStatus::NotAvailable,
    domain::ChannelStatus::Logout,
    domain::ChannelStatus::Unknown,
];

pub fn all_counts(mut count: impl FnMut(usize, usize) -> i64) -> Vec<StatusCount> {
    let mut out = Vec::with_capacity(12);
    for (c, (channel, _)) in CHANNEL_COLUMNS.iter().enumerate() {
        for (s, status) in STATUSES.iter().enumerate() {
            out.push(StatusCount {
                channel: Channel::from(*channel),
                status: ChannelStatus::from(*status),
                count: count(c, s),
            });
        }
    }
    out
}

/// Per-group counts of every channel × status in one GROUP BY over current agents.
pub async fn status_groups(
    db: &DatabaseConnection,
    group_id: Option<i64>,
) -> async_graphql::Result<Vec<Group>> {
    let mut select = Sql::select();
    select
        .column(agent::Column::GroupId)
        .expr(Expr::col(agent::Column::GroupName).max())
        .expr(Expr::col(Asterisk).count())
        .from(agent::Entity)
        .and_where(Expr::col(agent::Column::RemovedAt).is_null())
        .group_by_col(agent::Column::GroupId)
        .order_by(agent::Column::GroupId, Order::Asc);
    for (_, column) in CHANNEL_COLUMNS {
        for status in STATUSES {
            // Only constants of this file are formatted in. CAST: SUM is NUMERIC on PostgreSQL; both
            // engines then return a 64-bit integer. (Bound CASE values came back NULL through SQLite.)
            select.expr(Expr::cust(format!(
                "CAST(SUM(CASE WHEN {} = '{}' THEN 1 ELSE 0 END) AS BIGINT)",
                column.to_string(),
                status.as_str()
            )));
        }
    }
    if let Some(id) = group_id {
        select.and_where(Expr::col(agent::Column::GroupId).eq(id));
    }
    let statement = db.get_database_backend().build(&select);
    let rows = db.query_all_raw(statement).await.or_internal()?;
    rows.iter()
        .map(|row| {
            let mut values = Vec::with_capacity(12);
            for i in 0..12 {
                values.push(row.try_get_by_index::<i64>(3 + i).or_internal()?);
            }
            Ok(Group {
                id: row.try_get_by_index(0).or_internal()?,
                name: row.try_get_by_index(1).or_internal()?,
                agent_count: row.try_get_by_index(2).or_internal()?,
                counts: all_counts(|c, s| values[c * 4 + s]),
            })
        })
        .collect()
}
