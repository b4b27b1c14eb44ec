//! `link_candidates`: the employees an AMBIGUOUS or CONFLICT agent could belong to, for review.

use sea_orm::entity::prelude::*;

use crate::vocabulary::MatchMethod;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "link_candidates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub employee_id: i64,
    /// Which key (EMAIL or PHONE) pointed at this candidate.
    pub via: MatchMethod,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
