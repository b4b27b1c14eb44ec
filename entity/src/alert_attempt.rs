//! `alert_attempts`: every POST of an alert to a webhook, with the answer's status or the error.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub alert_delivery_id: i64,
    pub at: DateTimeUtc,
    /// The HTTP status of the answer; none when there was no answer (timeout, connection error).
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
