//! `alert_deliveries`: an alert on its way to one webhook; leased by one worker at a time.

use sea_orm::entity::prelude::*;

use crate::vocabulary::DeliveryStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub alert_event_id: i64,
    /// A digest of the webhook's URL (the URL is a secret and is never stored).
    pub target_key: String,
    /// The webhook's host, for people.
    pub target: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When the next attempt is due.
    pub next_attempt_at: DateTimeUtc,
    /// Until when a worker holds it (an attempt in flight); another worker may take it after.
    pub lease_until: Option<DateTimeUtc>,
    /// Which worker's lease it is, so a worker whose lease ran out cannot record over another's attempt.
    pub lease_token: Option<String>,
    pub last_attempt_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
