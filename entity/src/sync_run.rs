//! `sync_runs`: one row per sync attempt, whatever its outcome.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{SyncOutcome, Trigger};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub trigger: Trigger,
    pub domain: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub outcome: SyncOutcome,
    pub fetched: i64,
    pub added: i64,
    pub updated: i64,
    pub removed: i64,
    pub returned: i64,
    pub unchanged: i64,
    pub status_changes: i64,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
