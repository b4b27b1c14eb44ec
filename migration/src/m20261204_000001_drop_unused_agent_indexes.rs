//! Four single-column indexes of `agents` that no query uses, dropped: each costs every insert and update
//! of an agent (a first sync of 20,000 agents spends most of its time maintaining indexes), and none
//! serves a read. `removed_at IS NULL` keeps almost every row, so the planner never picks its index;
//! the lists by channel status go by group (the composite group × status × id indexes) or walk the
//! primary key in page order, and the counts by status read every current row anyway. BENCHMARKS.md
//! ("Indexes") shows the plans with and without them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Agents {
    Table,
    RemovedAt,
    CallStatus,
    ChatStatus,
    TicketStatus,
}

/// (index, column), as `m20261124_000001_create_mirror` created them.
const UNUSED: [(&str, Agents); 4] = [
    ("idx_agents_removed_at", Agents::RemovedAt),
    ("idx_agents_call_status", Agents::CallStatus),
    ("idx_agents_chat_status", Agents::ChatStatus),
    ("idx_agents_ticket_status", Agents::TicketStatus),
];

/// An index already dropped by hand is no error, nor one already there on the way down.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in UNUSED {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Agents::Table)
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in UNUSED {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Agents::Table)
                        .col(column)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
