//! `agents` (the mirror of CareSoft's list) and its history tables `status_events` and `roster_changes`.
//! The rule "current agent" (in CareSoft's latest list: not removed) is [`is_current`]; the channel ×
//! status table that `groups`, `statusSummary` and the agents gauge report is [`status_counts`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{agent, roster_change, status_event};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, OnConflict, Order, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Iden, IntoActiveModel,
    Iterable, QueryFilter, QuerySelect, QueryTrait,
};

use super::bulk::{self, execute_chunks, insert_all};
use super::connection::rows_per_statement;
use crate::domain::{Channel, ChannelStatus};

/// "Current agent": an agent of CareSoft's latest list, i.e. not removed. `table` is the alias of
/// `agents` in the statement.
pub fn is_current(table: impl sea_orm::sea_query::IntoIden) -> SimpleExpr {
    Expr::col((table.into_iden(), agent::Column::RemovedAt)).is_null()
}

/// The column holding each channel's mapped status.
pub const CHANNEL_COLUMNS: [(Channel, agent::Column); 3] = [
    (Channel::Call, agent::Column::CallStatus),
    (Channel::Chat, agent::Column::ChatStatus),
    (Channel::Ticket, agent::Column::TicketStatus),
];

/// What a resync knows of a stored agent before loading its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub removed: bool,
    /// NULL on rows written before fingerprints existed.
    pub fingerprint: Option<i64>,
}

/// What a resync knows of the agents of one domain before loading any row: by mirror key, each agent's
/// presence and fingerprint; by CareSoft id, its key.
#[derive(Debug, Default)]
pub struct DomainMirror {
    pub presence: HashMap<i64, Presence>,
    pub keys: HashMap<i64, i64>,
}

/// Every stored agent of `domain` (removed ones included), read as four narrow columns.
pub async fn presence(db: &impl ConnectionTrait, domain: &str) -> Result<DomainMirror, DbErr> {
    let rows = agent::Entity::find()
        .select_only()
        .columns([
            agent::Column::Id,
            agent::Column::CaresoftId,
            agent::Column::RemovedAt,
            agent::Column::Fingerprint,
        ])
        .filter(agent::Column::Domain.eq(domain))
        .into_tuple::<(i64, i64, Option<DateTime<Utc>>, Option<i64>)>()
        .all(db)
        .await?;
    let mut mirror = DomainMirror {
        presence: HashMap::with_capacity(rows.len()),
        keys: HashMap::with_capacity(rows.len()),
    };
    for (id, caresoft_id, removed_at, fingerprint) in rows {
        let presence = Presence {
            removed: removed_at.is_some(),
            fingerprint,
        };
        mirror.presence.insert(id, presence);
        mirror.keys.insert(caresoft_id, id);
    }
    Ok(mirror)
}

/// The mirror keys held by agents of every domain but `domain`.
pub async fn keys_outside(db: &impl ConnectionTrait, domain: &str) -> Result<Vec<i64>, DbErr> {
    agent::Entity::find()
        .select_only()
        .column(agent::Column::Id)
        .filter(agent::Column::Domain.ne(domain))
        .into_tuple()
        .all(db)
        .await
}

/// The domains agents were mirrored from, with how many of each are current, by name.
pub async fn domains_seen(db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
    let a = Alias::new("a");
    let mut select = Query::select();
    select
        .column((a.clone(), agent::Column::Domain))
        .expr(Expr::cust(
            "CAST(SUM(CASE WHEN a.removed_at IS NULL THEN 1 ELSE 0 END) AS BIGINT)",
        ))
        .from_as(agent::Entity, a.clone())
        .group_by_col((a.clone(), agent::Column::Domain))
        .order_by((a, agent::Column::Domain), Order::Asc);
    let rows = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
        .collect()
}

/// The (status, raw) of each channel as stored: the ticket raw value is the one its status was mapped from.
pub fn channels(row: &agent::Model) -> [(Channel, ChannelStatus, Option<&str>); 3] {
    [
        (
            Channel::Call,
            row.call_status,
            row.call_status_raw.as_deref(),
        ),
        (
            Channel::Chat,
            row.chat_status,
            row.chat_status_raw.as_deref(),
        ),
        (
            Channel::Ticket,
            row.ticket_status,
            row.ticket_status_raw
                .as_deref()
                .or(row.login_status_raw.as_deref()),
        ),
    ]
}

/// The full rows of `ids`, in as many statements as the engine's parameter limit asks.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<agent::Model>, DbErr> {
    let mut rows = Vec::with_capacity(ids.len());
    for ids in ids.chunks(rows_per_statement(db.get_database_backend(), 1)) {
        rows.extend(
            agent::Entity::find()
                .filter(agent::Column::Id.is_in(ids.iter().copied()))
                .all(db)
                .await?,
        );
    }
    Ok(rows)
}

/// The CareSoft domain of each of `ids`: two narrow columns, for grouping many agents cheaply.
pub async fn domains(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, String>, DbErr> {
    let mut out = HashMap::with_capacity(ids.len());
    for ids in ids.chunks(rows_per_statement(db.get_database_backend(), 1)) {
        let rows: Vec<(i64, String)> = agent::Entity::find()
            .select_only()
            .column(agent::Column::Id)
            .column(agent::Column::Domain)
            .filter(agent::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Whether an agent with this id was ever mirrored.
pub async fn exists(db: &impl ConnectionTrait, id: i64) -> Result<bool, DbErr> {
    Ok(agent::Entity::find_by_id(id).one(db).await?.is_some())
}

/// The match keys of every current agent (of `domain`, when given): (id, email key, phone key).
pub async fn current_keys(
    db: &impl ConnectionTrait,
    domain: Option<&str>,
) -> Result<Vec<(i64, Option<String>, Option<String>)>, DbErr> {
    let mut query = agent::Entity::find()
        .select_only()
        .columns([
            agent::Column::Id,
            agent::Column::EmailKey,
            agent::Column::PhoneKey,
        ])
        .filter(is_current(agent::Entity));
    if let Some(domain) = domain {
        query = query.filter(agent::Column::Domain.eq(domain));
    }
    query.into_tuple().all(db).await
}

/// What a sync writes to the mirror, in the caller's transaction.
#[derive(Debug, Default)]
pub struct MirrorWrites<'a> {
    /// New, changed and re-fingerprinted rows, written whole with one upsert stream.
    pub rows: Vec<&'a agent::Model>,
    /// Current agents absent from CareSoft's answer: marked removed, never deleted.
    pub removals: &'a [i64],
    pub status_events: Vec<status_event::ActiveModel>,
    pub roster_changes: Vec<roster_change::ActiveModel>,
}

/// Writes a sync's changes with bulk statements, in chunks that respect the engine's parameter limit;
/// `previous_seen` is when removed agents were last seen (the start of the last successful sync).
pub async fn write(
    txn: &impl ConnectionTrait,
    writes: MirrorWrites<'_>,
    now: DateTime<Utc>,
    previous_seen: DateTime<Utc>,
) -> Result<(), DbErr> {
    bulk::with_generic_plans(txn, write_rows(txn, writes, now, previous_seen)).await
}

async fn write_rows(
    txn: &impl ConnectionTrait,
    writes: MirrorWrites<'_>,
    now: DateTime<Utc>,
    previous_seen: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let agent_columns = agent::Column::iter().count();
    let update_columns: Vec<agent::Column> = agent::Column::iter()
        .filter(|c| !matches!(c, agent::Column::Id))
        .collect();
    // A first sync fills an empty table: its indexes are built once, after the rows.
    let rows = writes.rows.len();
    let chunks = writes
        .rows
        .chunks(rows_per_statement(backend, agent_columns));
    // Not `bulk::upsert_all`: the rows are borrowed from the plan, and an iterator that clones them
    // lazily makes the sync's future lose `Send`; each chunk's rows are cloned as it is built instead.
    let upsert = execute_chunks(txn, chunks, |chunk| {
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
            .into_query()
    });
    bulk::load(txn, agent::Entity, rows, upsert).await?;
    for chunk in writes
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
    insert_all(txn, writes.status_events).await?;
    insert_all(txn, writes.roster_changes).await
}

/// The status changes a run recorded for agents already mirrored (first sightings left out), in order.
pub async fn status_changes_of_run(
    db: &impl ConnectionTrait,
    run_id: i64,
) -> Result<Vec<status_event::Model>, DbErr> {
    use sea_orm::QueryOrder as _;
    status_event::Entity::find()
        .filter(status_event::Column::SyncRunId.eq(run_id))
        .filter(status_event::Column::OldStatus.is_not_null())
        .order_by_asc(status_event::Column::Id)
        .all(db)
        .await
}

/// The statuses of a channel, in the order of [`StatusCounts`].
pub const STATUSES: [ChannelStatus; 4] = [
    ChannelStatus::Available,
    ChannelStatus::NotAvailable,
    ChannelStatus::Logout,
    ChannelStatus::Unknown,
];

/// Current agents per channel (rows, in [`CHANNEL_COLUMNS`] order) and status (columns, in [`STATUSES`]
/// order).
pub type StatusCounts = [[i64; 4]; 3];

/// A group of current agents and its channel × status table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCounts {
    /// The CareSoft domain of the group.
    pub domain: String,
    pub group_id: Option<i64>,
    pub group_name: Option<String>,
    pub agents: i64,
    pub counts: StatusCounts,
}

/// Per domain and group (or in the one group `group_id`, or in one domain), current agents per channel and
/// status, in one GROUP BY.
pub async fn status_counts(
    db: &impl ConnectionTrait,
    group_id: Option<i64>,
    domain: Option<&str>,
) -> Result<Vec<GroupCounts>, DbErr> {
    let a = Alias::new("a");
    let mut select = Query::select();
    select
        .column((a.clone(), agent::Column::Domain))
        .column((a.clone(), agent::Column::GroupId))
        .expr(Expr::col((a.clone(), agent::Column::GroupName)).max())
        .expr(Expr::col(Asterisk).count())
        .from_as(agent::Entity, a.clone())
        .and_where(is_current(a.clone()))
        .group_by_col((a.clone(), agent::Column::Domain))
        .group_by_col((a.clone(), agent::Column::GroupId))
        .order_by((a.clone(), agent::Column::Domain), Order::Asc)
        .order_by((a.clone(), agent::Column::GroupId), Order::Asc);
    for (_, column) in CHANNEL_COLUMNS {
        for status in STATUSES {
            // Only constants are formatted in. CAST: SUM is NUMERIC on PostgreSQL; both engines then
            // return a 64-bit integer. (Bound CASE values came back NULL through SQLite.)
            select.expr(Expr::cust(format!(
                "CAST(SUM(CASE WHEN a.{} = '{}' THEN 1 ELSE 0 END) AS BIGINT)",
                column.to_string(),
                status.as_str()
            )));
        }
    }
    if let Some(id) = group_id {
        select.and_where(Expr::col((a.clone(), agent::Column::GroupId)).eq(id));
    }
    if let Some(domain) = domain {
        select.and_where(Expr::col((a, agent::Column::Domain)).eq(domain));
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?;
    rows.iter()
        .map(|row| {
            let mut counts: StatusCounts = [[0; 4]; 3];
            for (c, channel) in counts.iter_mut().enumerate() {
                for (s, count) in channel.iter_mut().enumerate() {
                    *count = row.try_get_by_index::<i64>(4 + c * 4 + s)?;
                }
            }
            Ok(GroupCounts {
                domain: row.try_get_by_index(0)?,
                group_id: row.try_get_by_index(1)?,
                group_name: row.try_get_by_index(2)?,
                agents: row.try_get_by_index(3)?,
                counts,
            })
        })
        .collect()
}

/// The channel × status table of all current agents (or of one group, or of one domain), summed over
/// groups.
pub async fn status_totals(
    db: &impl ConnectionTrait,
    group_id: Option<i64>,
    domain: Option<&str>,
) -> Result<StatusCounts, DbErr> {
    let mut totals: StatusCounts = [[0; 4]; 3];
    for group in status_counts(db, group_id, domain).await? {
        for (total, counts) in totals.iter_mut().zip(group.counts) {
            for (total, count) in total.iter_mut().zip(counts) {
                *total += count;
            }
        }
    }
    Ok(totals)
}
