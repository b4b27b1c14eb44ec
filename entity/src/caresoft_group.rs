//! `caresoft_groups`: the mirror of CareSoft's group list (`GET /{domain}/api/v1/groups`), one row per
//! domain and group id, never deleted: a group CareSoft stops listing is marked removed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "caresoft_groups")]
pub struct Model {
    /// The mirror's own key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The CareSoft domain the group was read from.
    pub domain: String,
    /// CareSoft's `group_id`, unique within a domain.
    pub group_id: i64,
    pub name: Option<String>,
    /// CareSoft's `created_at`, converted from CareSoft's zone to UTC.
    pub created_at: Option<DateTimeUtc>,
    pub first_seen_at: DateTimeUtc,
    /// When the name last changed (or the group was removed or returned).
    pub last_changed_at: DateTimeUtc,
    pub removed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
