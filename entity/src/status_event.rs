//! `status_events`: every observed change of a channel status, for availability reporting.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{Channel, ChannelStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub agent_id: i64,
    pub channel: Channel,
    /// NULL when the agent was first seen.
    pub old_status: Option<ChannelStatus>,
    pub new_status: ChannelStatus,
    pub old_raw: Option<String>,
    pub new_raw: Option<String>,
    pub observed_at: DateTimeUtc,
    pub sync_run_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
