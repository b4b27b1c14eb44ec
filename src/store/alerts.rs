//! The alert outbox: `alert_events`, `alert_deliveries`, `alert_attempts`. Events are written in the
//! transaction of whatever raised them; deliveries are planned by the first worker that claims the event
//! and leased one worker at a time, so replicas never post the same delivery at once; every attempt is
//! kept.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{alert_attempt, alert_delivery, alert_event};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::alerts::Alert;
use crate::domain::DeliveryStatus;

/// Writes `alert` to the outbox in `db`'s transaction, unplanned (a worker plans its deliveries); the row.
pub async fn raise(
    db: &impl ConnectionTrait,
    alert: &Alert,
    at: DateTime<Utc>,
) -> Result<alert_event::Model, DbErr> {
    let event_id = uuid::Uuid::now_v7().to_string();
    let payload = alert.payload(&event_id, at).to_string();
    alert_event::Entity::insert(alert_event::ActiveModel {
        id: NotSet,
        event_id: Set(event_id),
        kind: Set(alert.kind.as_str().to_string()),
        at: Set(at),
        domain: Set(alert.domain.clone()),
        summary: Set(alert.summary.clone()),
        payload: Set(payload),
        sync_run_id: Set(alert.run_id),
        planned: Set(false),
    })
    .exec_with_returning(db)
    .await
}

/// Claims up to `limit` events no worker has planned yet, oldest first, marking them planned; the caller
/// plans their deliveries in the same transaction. Two workers never claim the same event.
pub async fn claim_unplanned(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<alert_event::Model>, DbErr> {
    let mut unplanned = Query::select();
    unplanned
        .column(alert_event::Column::Id)
        .from(alert_event::Entity)
        .and_where(alert_event::Column::Planned.eq(false))
        .order_by(alert_event::Column::Id, sea_orm::Order::Asc)
        .limit(limit);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        unplanned.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut claimed = alert_event::Entity::update_many()
        .col_expr(alert_event::Column::Planned, Expr::val(true))
        .filter(alert_event::Column::Id.in_subquery(unplanned))
        .filter(alert_event::Column::Planned.eq(false))
        .exec_with_returning(db)
        .await?;
    claimed.sort_by_key(|e| e.id);
    Ok(claimed)
}

/// A delivery to plan: the event, the webhook's digest and host, and when it is first due.
#[derive(Debug, Clone)]
pub struct PlannedDelivery {
    pub event: i64,
    pub target_key: String,
    pub target: String,
    pub due: DateTime<Utc>,
    /// Planned as given up already (an event too old to send when first planned), with the reason.
    pub skipped: Option<String>,
}

/// Stores planned deliveries (a delivery already planned for the same event and webhook is kept).
pub async fn plan(db: &impl ConnectionTrait, planned: &[PlannedDelivery]) -> Result<(), DbErr> {
    if planned.is_empty() {
        return Ok(());
    }
    let rows = planned.iter().map(|p| alert_delivery::ActiveModel {
        id: NotSet,
        alert_event_id: Set(p.event),
        target_key: Set(p.target_key.clone()),
        target: Set(p.target.clone()),
        status: Set(match p.skipped {
            Some(_) => DeliveryStatus::Failed,
            None => DeliveryStatus::Pending,
        }),
        attempts: Set(0),
        next_attempt_at: Set(p.due),
        lease_until: Set(None),
        lease_token: Set(None),
        last_attempt_at: Set(None),
        last_error: Set(p.skipped.clone()),
        delivered_at: Set(None),
    });
    alert_delivery::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                alert_delivery::Column::AlertEventId,
                alert_delivery::Column::TargetKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// Leases up to `limit` deliveries that are due at `now` and held by no worker (or by one whose lease ran
/// out: it died mid-post), until `until`, under `token`; of one event only when `event` is given. On
/// PostgreSQL rows another worker is leasing are skipped, not waited for.
pub async fn lease_due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    token: &str,
    limit: u64,
    event: Option<i64>,
) -> Result<Vec<alert_delivery::Model>, DbErr> {
    let free = || {
        Condition::any()
            .add(alert_delivery::Column::LeaseUntil.is_null())
            .add(alert_delivery::Column::LeaseUntil.lt(now))
    };
    let mut due = Query::select();
    due.column(alert_delivery::Column::Id)
        .from(alert_delivery::Entity)
        .and_where(alert_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .and_where(alert_delivery::Column::NextAttemptAt.lte(now))
        .cond_where(free())
        .order_by(alert_delivery::Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(limit);
    if let Some(event) = event {
        due.and_where(alert_delivery::Column::AlertEventId.eq(event));
    }
    if db.get_database_backend() == DatabaseBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    alert_delivery::Entity::update_many()
        .col_expr(alert_delivery::Column::LeaseUntil, Expr::val(until))
        .col_expr(alert_delivery::Column::LeaseToken, Expr::val(token))
        .filter(alert_delivery::Column::Id.in_subquery(due))
        // Again here: on PostgreSQL a row leased meanwhile is re-read before it is updated.
        .filter(alert_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(free())
        .exec_with_returning(db)
        .await
}

/// The events of `ids`, by id.
pub async fn events(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, alert_event::Model>, DbErr> {
    Ok(alert_event::Entity::find()
        .filter(alert_event::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect())
}

/// One attempt and what it leaves the delivery at.
#[derive(Debug, Clone)]
pub struct Attempted {
    pub at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// Where the delivery stands after it.
    pub status: DeliveryStatus,
    /// When to try again (PENDING only).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Records an attempt of `delivery`, made under the lease `token`, and releases the lease; false when the
/// lease had run out and another worker took the delivery (the attempt is kept, the delivery left to it).
pub async fn record(
    db: &impl ConnectionTrait,
    delivery: i64,
    token: &str,
    attempt: &Attempted,
) -> Result<bool, DbErr> {
    alert_attempt::Entity::insert(alert_attempt::ActiveModel {
        id: NotSet,
        alert_delivery_id: Set(delivery),
        at: Set(attempt.at),
        status_code: Set(attempt.status_code),
        error: Set(attempt.error.clone()),
        duration_ms: Set(attempt.duration_ms),
    })
    .exec_without_returning(db)
    .await?;
    let mut update = alert_delivery::Entity::update_many()
        .col_expr(
            alert_delivery::Column::Status,
            Expr::val(attempt.status.as_str()),
        )
        .col_expr(
            alert_delivery::Column::Attempts,
            Expr::col(alert_delivery::Column::Attempts).add(1),
        )
        .col_expr(alert_delivery::Column::LastAttemptAt, Expr::val(attempt.at))
        .col_expr(
            alert_delivery::Column::LastError,
            Expr::val(attempt.error.clone()),
        )
        .col_expr(
            alert_delivery::Column::LeaseUntil,
            Expr::val(None::<DateTime<Utc>>),
        )
        .col_expr(
            alert_delivery::Column::LeaseToken,
            Expr::val(None::<String>),
        );
    if let Some(next) = attempt.next_attempt_at {
        update = update.col_expr(alert_delivery::Column::NextAttemptAt, Expr::val(next));
    }
    if attempt.status == DeliveryStatus::Delivered {
        update = update.col_expr(alert_delivery::Column::DeliveredAt, Expr::val(attempt.at));
    }
    let updated = update
        .filter(alert_delivery::Column::Id.eq(delivery))
        .filter(alert_delivery::Column::LeaseToken.eq(token))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// A page of the delivery log: events newest first, after the event `after` (its row id).
pub async fn page(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<alert_event::Model>, DbErr> {
    let mut query = alert_event::Entity::find();
    if let Some(after) = after {
        query = query.filter(alert_event::Column::Id.lt(after));
    }
    query
        .order_by_desc(alert_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Every event in the log.
pub async fn count(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let count = alert_event::Entity::find().count(db).await?;
    Ok(i64::try_from(count).unwrap_or(i64::MAX))
}

/// The deliveries of `events`, by event, in target order.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    events: &[i64],
) -> Result<HashMap<i64, Vec<alert_delivery::Model>>, DbErr> {
    let mut out: HashMap<i64, Vec<alert_delivery::Model>> = HashMap::new();
    for row in alert_delivery::Entity::find()
        .filter(alert_delivery::Column::AlertEventId.is_in(events.iter().copied()))
        .order_by_asc(alert_delivery::Column::Id)
        .all(db)
        .await?
    {
        out.entry(row.alert_event_id).or_default().push(row);
    }
    Ok(out)
}

/// The attempts of `deliveries`, by delivery, oldest first.
pub async fn attempts(
    db: &impl ConnectionTrait,
    deliveries: &[i64],
) -> Result<HashMap<i64, Vec<alert_attempt::Model>>, DbErr> {
    let mut out: HashMap<i64, Vec<alert_attempt::Model>> = HashMap::new();
    for row in alert_attempt::Entity::find()
        .filter(alert_attempt::Column::AlertDeliveryId.is_in(deliveries.iter().copied()))
        .order_by_asc(alert_attempt::Column::Id)
        .all(db)
        .await?
    {
        out.entry(row.alert_delivery_id).or_default().push(row);
    }
    Ok(out)
}

/// The latest event of `kind` about `domain` (none: events about no domain).
pub async fn latest_of_kind(
    db: &impl ConnectionTrait,
    kind: &str,
    domain: Option<&str>,
) -> Result<Option<alert_event::Model>, DbErr> {
    let query = alert_event::Entity::find().filter(alert_event::Column::Kind.eq(kind));
    let query = match domain {
        Some(domain) => query.filter(alert_event::Column::Domain.eq(domain)),
        None => query.filter(alert_event::Column::Domain.is_null()),
    };
    query.order_by_desc(alert_event::Column::Id).one(db).await
}

/// Marks event `id` planned (its deliveries were planned with it).
pub async fn mark_planned(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    alert_event::Entity::update_many()
        .col_expr(alert_event::Column::Planned, Expr::val(true))
        .filter(alert_event::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Whether any event waits to be planned, or any delivery is due at `now` and free: read without a
/// write, so an idle worker never takes SQLite's write lock.
pub async fn work_waiting(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let unplanned = alert_event::Entity::find()
        .filter(alert_event::Column::Planned.eq(false))
        .one(db)
        .await?
        .is_some();
    if unplanned {
        return Ok(true);
    }
    Ok(alert_delivery::Entity::find()
        .filter(alert_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(alert_delivery::Column::NextAttemptAt.lte(now))
        .filter(
            Condition::any()
                .add(alert_delivery::Column::LeaseUntil.is_null())
                .add(alert_delivery::Column::LeaseUntil.lt(now)),
        )
        .one(db)
        .await?
        .is_some())
}
