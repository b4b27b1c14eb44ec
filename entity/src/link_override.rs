//! `link_overrides`: an admin's manual decisions (`link`, `ignore`), kept apart from computed links so that
//! no sync or import can overwrite them.

use sea_orm::entity::prelude::*;

use crate::vocabulary::OverrideKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "link_overrides")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: i64,
    pub kind: OverrideKind,
    /// The employee an admin linked the agent to (by code, which survives re-imports); NULL for ignore.
    pub employee_code: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
