//! `agents.fingerprint`: a 64-bit hash of every field CareSoft sent for the agent, so that a resync finds
//! the unchanged agents (nearly all of them, nearly always) by reading three columns instead of the whole
//! mirror. NULL on rows written before this migration: the next sync compares those in full and fills it in.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Fingerprint,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .add_column(ColumnDef::new(Agents::Fingerprint).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .drop_column(Agents::Fingerprint)
                    .to_owned(),
            )
            .await
    }
}
