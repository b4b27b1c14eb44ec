//! `agents.search_text` and `employees.search_text`: each searchable row's fields folded for search
//! (`entity::search`), so `search:` is a plain `LIKE` on one column that answers alike on every engine.
//! Rows already stored are folded here, in Rust, as every later write folds them.

use entity::search::{agent_search_text, employee_search_text};
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, QueryResult};

use crate::backfill::backfill;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Agents {
    Table,
    Id,
    Username,
    Email,
    PhoneNo,
    Extension,
    SearchText,
}

#[derive(DeriveIden, Clone, Copy)]
enum Employees {
    Table,
    Id,
    EmployeeCode,
    FullName,
    Email,
    Phone,
    Department,
    SearchText,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Agents::Table.into_iden(), Employees::Table.into_iden()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(
                            ColumnDef::new(Agents::SearchText)
                                .text()
                                .not_null()
                                .default(""),
                        )
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();

        let text = |row: &QueryResult, column: &str| -> Result<Option<String>, DbErr> {
            row.try_get::<Option<String>>("", column)
        };
        let agents = db
            .query_all(
                &Query::select()
                    .columns([
                        Agents::Id,
                        Agents::Username,
                        Agents::Email,
                        Agents::PhoneNo,
                        Agents::Extension,
                    ])
                    .from(Agents::Table)
                    .to_owned(),
            )
            .await?;
        let mut folded = Vec::with_capacity(agents.len());
        for row in &agents {
            let fields = [
                text(row, "username")?,
                text(row, "email")?,
                text(row, "phone_no")?,
                text(row, "extension")?,
            ];
            let [username, email, phone, extension] = fields.each_ref().map(|f| f.as_deref());
            folded.push((
                row.try_get::<i64>("", "id")?,
                agent_search_text(username, email, phone, extension),
            ));
        }
        backfill(db, Agents::Table, Agents::Id, Agents::SearchText, &folded).await?;

        let employees = db
            .query_all(
                &Query::select()
                    .columns([
                        Employees::Id,
                        Employees::EmployeeCode,
                        Employees::FullName,
                        Employees::Email,
                        Employees::Phone,
                        Employees::Department,
                    ])
                    .from(Employees::Table)
                    .to_owned(),
            )
            .await?;
        let mut folded = Vec::with_capacity(employees.len());
        for row in &employees {
            let code: String = row.try_get("", "employee_code")?;
            let fields = [
                text(row, "full_name")?,
                text(row, "email")?,
                text(row, "phone")?,
                text(row, "department")?,
            ];
            let [name, email, phone, department] = fields.each_ref().map(|f| f.as_deref());
            folded.push((
                row.try_get::<i64>("", "id")?,
                employee_search_text(&code, name, email, phone, department),
            ));
        }
        backfill(
            db,
            Employees::Table,
            Employees::Id,
            Employees::SearchText,
            &folded,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Agents::Table.into_iden(), Employees::Table.into_iden()] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Agents::SearchText)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
