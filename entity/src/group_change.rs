//! `group_changes`: the history of CareSoft groups: renames (`name`) and `presence` (removed, returned).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `caresoft_groups.id`.
    pub group_key: i64,
    /// `name` or `presence`.
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub changed_at: DateTimeUtc,
    pub sync_run_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
