//! The mirror: agents, their status events and roster changes, and the sync runs that wrote them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    Domain,
    Username,
    Email,
    PhoneNo,
    Extension,
    GroupId,
    GroupName,
    RoleId,
    CreatedAt,
    UpdatedAt,
    LoginStatusRaw,
    CallStatusRaw,
    ChatStatusRaw,
    TicketStatusRaw,
    CallStatus,
    ChatStatus,
    TicketStatus,
    EmailKey,
    PhoneKey,
    FirstSeenAt,
    LastChangedAt,
    LastSeenAt,
    RemovedAt,
}

#[derive(DeriveIden)]
enum StatusEvents {
    Table,
    Id,
    AgentId,
    Channel,
    OldStatus,
    NewStatus,
    OldRaw,
    NewRaw,
    ObservedAt,
    SyncRunId,
}

#[derive(DeriveIden)]
enum RosterChanges {
    Table,
    Id,
    AgentId,
    Field,
    OldValue,
    NewValue,
    ChangedAt,
    SyncRunId,
}

#[derive(DeriveIden)]
enum SyncRuns {
    Table,
    Id,
    Trigger,
    Domain,
    StartedAt,
    FinishedAt,
    Outcome,
    Fetched,
    Added,
    Updated,
    Removed,
    Returned,
    Unchanged,
    StatusChanges,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agents::Table)
                    .col(big_integer(Agents::Id).primary_key())
                    .col(text(Agents::Domain))
                    .col(text_null(Agents::Username))
                    .col(text_null(Agents::Email))
                    .col(text_null(Agents::PhoneNo))
                    .col(text_null(Agents::Extension))
                    .col(big_integer_null(Agents::GroupId))
                    .col(text_null(Agents::GroupName))
                    .col(big_integer_null(Agents::RoleId))
                    .col(timestamp_with_time_zone_null(Agents::CreatedAt))
                    .col(timestamp_with_time_zone_null(Agents::UpdatedAt))
                    .col(text_null(Agents::LoginStatusRaw))
                    .col(text_null(Agents::CallStatusRaw))
                    .col(text_null(Agents::ChatStatusRaw))
                    .col(text_null(Agents::TicketStatusRaw))
                    .col(text(Agents::CallStatus))
                    .col(text(Agents::ChatStatus))
                    .col(text(Agents::TicketStatus))
                    .col(text_null(Agents::EmailKey))
                    .col(text_null(Agents::PhoneKey))
                    .col(timestamp_with_time_zone(Agents::FirstSeenAt))
                    .col(timestamp_with_time_zone(Agents::LastChangedAt))
                    .col(timestamp_with_time_zone(Agents::LastSeenAt))
                    .col(timestamp_with_time_zone_null(Agents::RemovedAt))
                    .to_owned(),
            )
            .await?;
        // One index per filter the API offers, and the match keys the reconcile joins on.
        for (name, col) in [
            ("idx_agents_group_id", Agents::GroupId),
            ("idx_agents_group_name", Agents::GroupName),
            ("idx_agents_removed_at", Agents::RemovedAt),
            ("idx_agents_call_status", Agents::CallStatus),
            ("idx_agents_chat_status", Agents::ChatStatus),
            ("idx_agents_ticket_status", Agents::TicketStatus),
            ("idx_agents_email_key", Agents::EmailKey),
            ("idx_agents_phone_key", Agents::PhoneKey),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Agents::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(StatusEvents::Table)
                    .col(big_pk_auto(StatusEvents::Id))
                    .col(big_integer(StatusEvents::AgentId))
                    .col(text(StatusEvents::Channel))
                    .col(text_null(StatusEvents::OldStatus))
                    .col(text(StatusEvents::NewStatus))
                    .col(text_null(StatusEvents::OldRaw))
                    .col(text_null(StatusEvents::NewRaw))
                    .col(timestamp_with_time_zone(StatusEvents::ObservedAt))
                    .col(big_integer(StatusEvents::SyncRunId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_status_events_agent")
                    .table(StatusEvents::Table)
                    .col(StatusEvents::AgentId)
                    .col(StatusEvents::ObservedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_status_events_observed_at")
                    .table(StatusEvents::Table)
                    .col(StatusEvents::ObservedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RosterChanges::Table)
                    .col(big_pk_auto(RosterChanges::Id))
                    .col(big_integer(RosterChanges::AgentId))
                    .col(text(RosterChanges::Field))
                    .col(text_null(RosterChanges::OldValue))
                    .col(text_null(RosterChanges::NewValue))
                    .col(timestamp_with_time_zone(RosterChanges::ChangedAt))
                    .col(big_integer(RosterChanges::SyncRunId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_roster_changes_agent")
                    .table(RosterChanges::Table)
                    .col(RosterChanges::AgentId)
                    .col(RosterChanges::ChangedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SyncRuns::Table)
                    .col(big_pk_auto(SyncRuns::Id))
                    .col(text(SyncRuns::Trigger))
                    .col(text(SyncRuns::Domain))
                    .col(timestamp_with_time_zone(SyncRuns::StartedAt))
                    .col(timestamp_with_time_zone_null(SyncRuns::FinishedAt))
                    .col(text(SyncRuns::Outcome))
                    .col(big_integer(SyncRuns::Fetched).default(0))
                    .col(big_integer(SyncRuns::Added).default(0))
                    .col(big_integer(SyncRuns::Updated).default(0))
                    .col(big_integer(SyncRuns::Removed).default(0))
                    .col(big_integer(SyncRuns::Returned).default(0))
                    .col(big_integer(SyncRuns::Unchanged).default(0))
                    .col(big_integer(SyncRuns::StatusChanges).default(0))
                    .col(text_null(SyncRuns::Error))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sync_runs_outcome_started")
                    .table(SyncRuns::Table)
                    .col(SyncRuns::Outcome)
                    .col(SyncRuns::StartedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SyncRuns::Table.into_iden(),
            RosterChanges::Table.into_iden(),
            StatusEvents::Table.into_iden(),
            Agents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
