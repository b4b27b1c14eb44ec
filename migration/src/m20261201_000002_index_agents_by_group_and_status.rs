//! The list every admin opens, agents of a group in one channel status (`agents(group:, channelStatus:)`),
//! pages in id order. With an index on the group alone PostgreSQL walks the primary key and drops the other
//! groups' rows (≈ 2,200 rows read for a 50-row page of 20,000 agents); with the group, the channel's status
//! and the id in one index a page reads its 50 rows. The new indexes also serve group lookups, so the
//! group-only index goes.
//!
//! PostgreSQL weighs them against the primary key with `random_page_cost`; its default prices random reads
//! as from disk, and a table this size is always in memory: see "PostgreSQL planner" in the README.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Agents {
    Table,
    Id,
    GroupName,
    CallStatus,
    ChatStatus,
    TicketStatus,
}

const GROUP_ONLY: &str = "idx_agents_group_name";

/// (index, channel status column).
const BY_GROUP_AND_STATUS: [(&str, Agents); 3] = [
    ("idx_agents_group_call_status", Agents::CallStatus),
    ("idx_agents_group_chat_status", Agents::ChatStatus),
    ("idx_agents_group_ticket_status", Agents::TicketStatus),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, status) in BY_GROUP_AND_STATUS {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Agents::Table)
                        .col(Agents::GroupName)
                        .col(status)
                        .col(Agents::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name(GROUP_ONLY)
                    .table(Agents::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(GROUP_ONLY)
                    .table(Agents::Table)
                    .col(Agents::GroupName)
                    .to_owned(),
            )
            .await?;
        for (name, _) in BY_GROUP_AND_STATUS {
            manager
                .drop_index(Index::drop().name(name).table(Agents::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
