//! `sync_runs.error_code` and `sync_runs.error_detail`: a failed or refused run keeps a stable code
//! (`CARESOFT_UNAUTHORIZED`, `MASS_REMOVAL`, …) and two texts, `error` (a sentence safe for any reader
//! of the API) and `error_detail` (the whole cause, with hosts and answer excerpts, for administrators
//! and the log). Runs recorded before keep their text as the detail; their `error` becomes a sentence
//! that says where the detail is.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    ErrorCode,
    ErrorDetail,
}

/// What readers see of a run recorded before codes existed.
const EARLIER_ERROR: &str =
    "the run did not apply; administrators can read why in its error detail";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [SyncRuns::ErrorCode, SyncRuns::ErrorDetail] {
            manager
                .alter_table(
                    Table::alter()
                        .table(SyncRuns::Table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        db.execute(
            &Query::update()
                .table(SyncRuns::Table)
                .value(SyncRuns::ErrorDetail, Expr::col(Alias::new("error")))
                .value(Alias::new("error"), EARLIER_ERROR)
                .and_where(Expr::col(Alias::new("error")).is_not_null())
                .to_owned(),
        )
        .await
        .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute(
            &Query::update()
                .table(SyncRuns::Table)
                .value(Alias::new("error"), Expr::col(SyncRuns::ErrorDetail))
                .and_where(Expr::col(SyncRuns::ErrorDetail).is_not_null())
                .to_owned(),
        )
        .await?;
        for column in [SyncRuns::ErrorCode, SyncRuns::ErrorDetail] {
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
