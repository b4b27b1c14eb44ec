//! `sync_runs` records pulls of the HR source beside CareSoft syncs: `source` says which (every run before
//! this migration was a CareSoft sync), `restored` counts employees that came back, and `source_digest`
//! holds the digest of the HR file a pull applied. The index serves "the latest success of a source",
//! which the scheduler, `freshness` and `/readyz` ask for.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SyncRuns {
    Table,
    Id,
    Source,
    Outcome,
    Restored,
    SourceDigest,
}

const BY_SOURCE: &str = "idx_sync_runs_source_outcome";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            ColumnDef::new(SyncRuns::Source)
                .string()
                .not_null()
                .default("caresoft")
                .to_owned(),
            ColumnDef::new(SyncRuns::Restored)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(SyncRuns::SourceDigest)
                .string()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SyncRuns::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(BY_SOURCE)
                    .table(SyncRuns::Table)
                    .col(SyncRuns::Source)
                    .col(SyncRuns::Outcome)
                    .col(SyncRuns::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(BY_SOURCE)
                    .table(SyncRuns::Table)
                    .to_owned(),
            )
            .await?;
        for column in [SyncRuns::SourceDigest, SyncRuns::Restored, SyncRuns::Source] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SyncRuns::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
