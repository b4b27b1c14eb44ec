//! `alert_events`: the outbox of alerts, each written in the same transaction as the run (or action) that
//! caused it, so a committed run always has its alerts and a rolled-back one has none.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_events")]
pub struct Model {
    /// Order of writing; the delivery log pages on it.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The stable id receivers see (`id` in the body, `X-Bridge-Event-Id`): a UUID.
    #[sea_orm(unique)]
    pub event_id: String,
    /// `sync.failed`, `seats.unmatched`, … (DESIGN.md, "Alerts").
    pub kind: String,
    pub at: DateTimeUtc,
    /// The CareSoft domain concerned; none for HR events.
    pub domain: Option<String>,
    /// One human sentence.
    pub summary: String,
    /// The event as receivers get it (JSON text).
    pub payload: String,
    /// The run that raised it, if a run did.
    pub sync_run_id: Option<i64>,
    /// Whether a delivery worker has planned its deliveries.
    pub planned: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
