//! `employees.given_name`: the last word of the full name, folded (`entity::search::given_name`), indexed,
//! so that the owners an orphan seat may have are found by the name that tells Vietnamese people apart
//! (family and middle names are shared by millions) without reading every employee.

use entity::search::given_name;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::backfill::backfill;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Employees {
    Table,
    Id,
    FullName,
    GivenName,
}

const INDEX: &str = "idx_employees_given_name";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Employees::Table)
                    .add_column(ColumnDef::new(Employees::GivenName).text().null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let rows = db
            .query_all(
                &Query::select()
                    .columns([Employees::Id, Employees::FullName])
                    .from(Employees::Table)
                    .and_where(Expr::col(Employees::FullName).is_not_null())
                    .to_owned(),
            )
            .await?;
        let mut named = Vec::with_capacity(rows.len());
        for row in &rows {
            let full_name: String = row.try_get("", "full_name")?;
            if let Some(given) = given_name(&full_name) {
                named.push((row.try_get::<i64>("", "id")?, given));
            }
        }
        backfill(
            db,
            Employees::Table,
            Employees::Id,
            Employees::GivenName,
            &named,
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Employees::Table)
                    .col(Employees::GivenName)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Employees::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Employees::Table)
                    .drop_column(Employees::GivenName)
                    .to_owned(),
            )
            .await
    }
}
