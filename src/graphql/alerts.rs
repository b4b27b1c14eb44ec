//! The delivery log as GraphQL (admin): `alerts(first:, after:)`, each event with its deliveries and their
//! attempts, and the types `testAlert` answers with.

use std::collections::HashMap;

use async_graphql::{Context, Enum, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{alert_attempt, alert_delivery, alert_event};
use sea_orm::{DatabaseConnection, DbErr};

use super::errors::OrInternal;
use super::lists::PageInfo;
use super::pagination::{Cursor, page_size};
use crate::store;

/// The list name of the log's cursors.
const LIST: &str = "alerts";

/// An alert: what a run found (or a test), as webhooks receive it.
#[derive(Debug, Clone)]
pub struct AlertEvent {
    event: alert_event::Model,
    deliveries: Vec<AlertDelivery>,
}

#[Object]
impl AlertEvent {
    /// The stable id receivers see (`id` of the body, `X-Bridge-Event-Id`).
    async fn id(&self) -> ID {
        ID(self.event.event_id.clone())
    }
    /// `sync.failed`, `sync.refused`, `sync.recovered`, `hr.failed`, `hr.refused`, `hr.recovered`,
    /// `mirror.stale`, `seats.unmatched`, `seats.departed`, `review.needed` or `alert.test`.
    #[graphql(name = "type")]
    async fn kind(&self) -> &str {
        &self.event.kind
    }
    async fn at(&self) -> DateTime<Utc> {
        self.event.at
    }
    /// The CareSoft domain concerned (null for HR events and tests).
    async fn domain(&self) -> Option<&str> {
        self.event.domain.as_deref()
    }
    async fn summary(&self) -> &str {
        &self.event.summary
    }
    /// The event as the JSON webhooks receive it (counts and up to 20 named seats).
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.event.payload).unwrap_or_default())
    }
    /// The run that raised it, if a run did.
    async fn sync_run_id(&self) -> Option<ID> {
        self.event.sync_run_id.map(|id| ID(id.to_string()))
    }
    /// One per webhook whose filter wants it (none until a delivery worker has planned them).
    async fn deliveries(&self) -> &[AlertDelivery] {
        &self.deliveries
    }
}

/// An alert on its way to one webhook.
#[derive(Debug, Clone)]
pub struct AlertDelivery {
    delivery: alert_delivery::Model,
    attempts: Vec<AlertAttempt>,
}

#[Object]
impl AlertDelivery {
    /// The webhook's host, never its URL (which carries its credential).
    async fn target(&self) -> &str {
        &self.delivery.target
    }
    async fn status(&self) -> DeliveryStatus {
        self.delivery.status.into()
    }
    async fn attempts(&self) -> i32 {
        self.delivery.attempts
    }
    async fn last_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.delivery.last_attempt_at
    }
    async fn last_error(&self) -> Option<&str> {
        self.delivery.last_error.as_deref()
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.delivery.delivered_at
    }
    /// When the next attempt is due (PENDING only).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.delivery.status == crate::domain::DeliveryStatus::Pending)
            .then_some(self.delivery.next_attempt_at)
    }
    /// Every attempt, oldest first.
    async fn history(&self) -> &[AlertAttempt] {
        &self.attempts
    }
}

/// One POST to a webhook.
#[derive(Debug, Clone, SimpleObject)]
pub struct AlertAttempt {
    pub at: DateTime<Utc>,
    /// The answer's HTTP status (null without an answer: timeout, connection refused).
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl From<alert_attempt::Model> for AlertAttempt {
    fn from(row: alert_attempt::Model) -> Self {
        AlertAttempt {
            at: row.at,
            status_code: row.status_code,
            error: row.error,
            duration_ms: row.duration_ms,
        }
    }
}

crate::graphql::types::api_enum! {
    /// Where a delivery stands.
    DeliveryStatus => crate::domain::DeliveryStatus {
        /// Waiting for its first attempt or a retry.
        Pending,
        /// The webhook answered 2xx.
        Delivered,
        /// Given up: refused (4xx other than 408 and 429), or every attempt failed.
        Failed,
    }
}

/// `events` with their deliveries and attempts, read in two statements.
pub async fn with_deliveries(
    db: &DatabaseConnection,
    events: Vec<alert_event::Model>,
) -> Result<Vec<AlertEvent>, DbErr> {
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    let mut deliveries = store::alerts::deliveries(db, &ids).await?;
    let delivery_ids: Vec<i64> = deliveries.values().flatten().map(|d| d.id).collect();
    let mut attempts: HashMap<i64, Vec<alert_attempt::Model>> =
        store::alerts::attempts(db, &delivery_ids).await?;
    Ok(events
        .into_iter()
        .map(|event| AlertEvent {
            deliveries: deliveries
                .remove(&event.id)
                .unwrap_or_default()
                .into_iter()
                .map(|delivery| AlertDelivery {
                    attempts: attempts
                        .remove(&delivery.id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                    delivery,
                })
                .collect(),
            event,
        })
        .collect())
}

/// A page of the delivery log, newest first.
#[derive(Debug)]
pub struct AlertEventConnection {
    nodes: Vec<(i64, AlertEvent)>,
    has_next: bool,
}

/// An alert and its cursor.
#[derive(Debug, SimpleObject)]
pub struct AlertEventEdge {
    pub cursor: String,
    pub node: AlertEvent,
}

fn cursor(id: i64) -> String {
    Cursor {
        list: LIST.into(),
        value: None,
        id,
    }
    .encode()
}

#[Object]
impl AlertEventConnection {
    /// Every event in the log.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        store::alerts::count(ctx.data_unchecked::<DatabaseConnection>())
            .await
            .or_internal()
    }
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: false,
            start_cursor: self.nodes.first().map(|(id, _)| cursor(*id)),
            end_cursor: self.nodes.last().map(|(id, _)| cursor(*id)),
        }
    }
    async fn edges(&self) -> Vec<AlertEventEdge> {
        self.nodes
            .iter()
            .map(|(id, node)| AlertEventEdge {
                cursor: cursor(*id),
                node: node.clone(),
            })
            .collect()
    }
    async fn nodes(&self) -> Vec<AlertEvent> {
        self.nodes.iter().map(|(_, node)| node.clone()).collect()
    }
}

/// Loads a page of the log.
pub async fn page(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<AlertEventConnection> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let limit = page_size(first)?.min(100);
    let after = match after {
        Some(text) => Some(Cursor::decode(text, LIST)?.id),
        None => None,
    };
    let mut rows = store::alerts::page(db, after, limit + 1)
        .await
        .or_internal()?;
    let has_next = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let events = with_deliveries(db, rows).await.or_internal()?;
    Ok(AlertEventConnection {
        nodes: ids.into_iter().zip(events).collect(),
        has_next,
    })
}

/// One event with its deliveries.
pub async fn one(db: &DatabaseConnection, event: alert_event::Model) -> Result<AlertEvent, DbErr> {
    let mut events = with_deliveries(db, vec![event]).await?;
    events
        .pop()
        .ok_or_else(|| DbErr::Custom("the event vanished".into()))
}
