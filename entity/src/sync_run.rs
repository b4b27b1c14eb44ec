//! `sync_runs`: one row per run, whatever its outcome: a CareSoft sync or a pull of the HR source.

use sea_orm::entity::prelude::*;

use crate::vocabulary::{RunErrorCode, SyncOutcome, SyncSource, Trigger};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sync_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub trigger: Trigger,
    pub source: SyncSource,
    pub domain: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    pub outcome: SyncOutcome,
    pub fetched: i64,
    pub added: i64,
    pub updated: i64,
    pub removed: i64,
    pub returned: i64,
    /// HR pulls: employees marked removed earlier and present again.
    pub restored: i64,
    pub unchanged: i64,
    pub status_changes: i64,
    /// Why the run failed or was refused, in a sentence safe for any reader of the API.
    pub error: Option<String>,
    /// A stable code for `error` (`CARESOFT_UNAUTHORIZED`, `MASS_REMOVAL`, …).
    pub error_code: Option<RunErrorCode>,
    /// The whole cause (hosts, addresses, answer excerpts): for administrators and the log.
    pub error_detail: Option<String>,
    /// HR file pulls: the digest of the file applied, so an unchanged file is not parsed again.
    pub source_digest: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
