//! Status events by sync run: every replica's event relay loads a finished run's events by its id.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatusEvents {
    Table,
    SyncRunId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_status_events_sync_run")
                    .table(StatusEvents::Table)
                    .col(StatusEvents::SyncRunId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_status_events_sync_run")
                    .table(StatusEvents::Table)
                    .to_owned(),
            )
            .await
    }
}
