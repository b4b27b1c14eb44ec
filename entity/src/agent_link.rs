//! `agent_links`: the computed (or overridden) match of each agent to an employee.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{MatchMethod, MatchStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: i64,
    pub status: MatchStatus,
    /// NULL unless MATCHED.
    pub method: Option<MatchMethod>,
    /// NULL unless MATCHED.
    pub employee_id: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
