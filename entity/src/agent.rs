//! `agents`: the mirror of CareSoft's agent lists, one row per domain and CareSoft agent id, never deleted.

use sea_orm::entity::prelude::*;

use crate::vocabulary::ChannelStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    /// The mirror's key: CareSoft's agent id, unless another domain's agent already holds that id (then
    /// a key of its own, see `caresoft_bridge::sync::keys`). Never changes once given.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    /// The CareSoft domain (tenant) the agent was read from.
    pub domain: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone_no: Option<String>,
    /// The IP-phone extension (`agent_id` on the wire).
    pub extension: Option<String>,
    pub group_id: Option<i64>,
    pub group_name: Option<String>,
    pub role_id: Option<i64>,
    /// CareSoft's own timestamps, converted from CareSoft's zone to UTC.
    pub created_at: Option<DateTimeUtc>,
    pub updated_at: Option<DateTimeUtc>,
    /// Raw status strings exactly as CareSoft sent them (unknown values are kept here).
    pub login_status_raw: Option<String>,
    pub call_status_raw: Option<String>,
    pub chat_status_raw: Option<String>,
    pub ticket_status_raw: Option<String>,
    /// Mapped statuses: AVAILABLE, NOT_AVAILABLE, LOGOUT or UNKNOWN.
    pub call_status: ChannelStatus,
    pub chat_status: ChannelStatus,
    pub ticket_status: ChannelStatus,
    /// Match keys derived from email and phone (`reconcile::keys`); NULL when unusable (masked, empty).
    pub email_key: Option<String>,
    pub phone_key: Option<String>,
    pub first_seen_at: DateTimeUtc,
    /// When any mirrored field last changed (or the agent was removed or returned).
    pub last_changed_at: DateTimeUtc,
    /// The last sync that saw this agent, written only when the row is written for another reason or the
    /// agent is removed; current agents were seen by the latest successful sync.
    pub last_seen_at: DateTimeUtc,
    pub removed_at: Option<DateTimeUtc>,
    /// A hash of the fields above that CareSoft sent (`sync::diff::fingerprint`), so a resync finds the
    /// unchanged agents without loading them; NULL on rows written before it existed.
    pub fingerprint: Option<i64>,
    /// Username, email, phone and extension folded for search (`crate::search`).
    pub search_text: String,
    /// The id CareSoft gave the agent, unique within its domain.
    pub caresoft_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
