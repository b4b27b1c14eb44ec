//! Reconcile: HR employees, computed agent links and their candidates, manual overrides, link history.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Employees {
    Table,
    Id,
    EmployeeCode,
    FullName,
    Email,
    Phone,
    Department,
    Status,
    EmailKey,
    PhoneKey,
    RemovedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AgentLinks {
    Table,
    AgentId,
    Status,
    Method,
    EmployeeId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LinkCandidates {
    Table,
    AgentId,
    EmployeeId,
    Via,
}

#[derive(DeriveIden)]
enum LinkOverrides {
    Table,
    AgentId,
    Kind,
    EmployeeCode,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LinkHistory {
    Table,
    Id,
    AgentId,
    OldStatus,
    OldMethod,
    OldEmployeeId,
    NewStatus,
    NewMethod,
    NewEmployeeId,
    Cause,
    ChangedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Employees::Table)
                    .col(big_pk_auto(Employees::Id))
                    .col(text_uniq(Employees::EmployeeCode))
                    .col(text_null(Employees::FullName))
                    .col(text_null(Employees::Email))
                    .col(text_null(Employees::Phone))
                    .col(text_null(Employees::Department))
                    .col(text(Employees::Status))
                    .col(text_null(Employees::EmailKey))
                    .col(text_null(Employees::PhoneKey))
                    .col(timestamp_with_time_zone_null(Employees::RemovedAt))
                    .col(timestamp_with_time_zone(Employees::CreatedAt))
                    .col(timestamp_with_time_zone(Employees::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_employees_email_key", Employees::EmailKey),
            ("idx_employees_phone_key", Employees::PhoneKey),
            ("idx_employees_status", Employees::Status),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Employees::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AgentLinks::Table)
                    .col(big_integer(AgentLinks::AgentId).primary_key())
                    .col(text(AgentLinks::Status))
                    .col(text_null(AgentLinks::Method))
                    .col(big_integer_null(AgentLinks::EmployeeId))
                    .col(timestamp_with_time_zone(AgentLinks::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_agent_links_status", AgentLinks::Status),
            ("idx_agent_links_employee", AgentLinks::EmployeeId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AgentLinks::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(LinkCandidates::Table)
                    .col(big_integer(LinkCandidates::AgentId))
                    .col(big_integer(LinkCandidates::EmployeeId))
                    .col(text(LinkCandidates::Via))
                    .primary_key(
                        Index::create()
                            .col(LinkCandidates::AgentId)
                            .col(LinkCandidates::EmployeeId),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LinkOverrides::Table)
                    .col(big_integer(LinkOverrides::AgentId).primary_key())
                    .col(text(LinkOverrides::Kind))
                    .col(text_null(LinkOverrides::EmployeeCode))
                    .col(timestamp_with_time_zone(LinkOverrides::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LinkHistory::Table)
                    .col(big_pk_auto(LinkHistory::Id))
                    .col(big_integer(LinkHistory::AgentId))
                    .col(text_null(LinkHistory::OldStatus))
                    .col(text_null(LinkHistory::OldMethod))
                    .col(big_integer_null(LinkHistory::OldEmployeeId))
                    .col(text(LinkHistory::NewStatus))
                    .col(text_null(LinkHistory::NewMethod))
                    .col(big_integer_null(LinkHistory::NewEmployeeId))
                    .col(text(LinkHistory::Cause))
                    .col(timestamp_with_time_zone(LinkHistory::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_link_history_agent")
                    .table(LinkHistory::Table)
                    .col(LinkHistory::AgentId)
                    .col(LinkHistory::ChangedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LinkHistory::Table.into_iden(),
            LinkOverrides::Table.into_iden(),
            LinkCandidates::Table.into_iden(),
            AgentLinks::Table.into_iden(),
            Employees::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
