//! `employees.fingerprint`: a 64-bit hash of the fields an HR row carries (name, email, phone, department,
//! status), so that an HR pull or an import finds the unchanged employees by reading four narrow columns
//! instead of every row in full. NULL on rows written before this migration: the next pull or import
//! rewrites those once with theirs.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Employees {
    Table,
    Fingerprint,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Employees::Table)
                    .add_column(ColumnDef::new(Employees::Fingerprint).big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Employees::Table)
                    .drop_column(Employees::Fingerprint)
                    .to_owned(),
            )
            .await
    }
}
