//! `link_history`: every change of an agent's match, so an admin can tell who held a seat, and when.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{LinkCause, MatchMethod, MatchStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "link_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub agent_id: i64,
    pub old_status: Option<MatchStatus>,
    pub old_method: Option<MatchMethod>,
    pub old_employee_id: Option<i64>,
    pub new_status: MatchStatus,
    pub new_method: Option<MatchMethod>,
    pub new_employee_id: Option<i64>,
    pub cause: LinkCause,
    pub changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
