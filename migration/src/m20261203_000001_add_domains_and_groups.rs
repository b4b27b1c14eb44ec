//! Several CareSoft domains in one database, and CareSoft's group list.
//!
//! `agents.caresoft_id` is the id CareSoft gave the agent; `agents.id` stays the mirror's key. The two are
//! equal except when two domains hand out the same id: the second agent then gets a key of its own
//! (`sync::keys`), so no domain can ever overwrite another's row. Rows already stored get their own id, in
//! the domain they were synced from (every agent row has always carried it), so a single-domain database
//! is migrated in place.
//!
//! `caresoft_groups` mirrors `GET /{domain}/api/v1/groups` (groups with no agent included), keyed like
//! agents; `group_changes` is the history of their renames, removals and returns.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Domain,
    CaresoftId,
}

#[derive(DeriveIden)]
enum CaresoftGroups {
    Table,
    Id,
    Domain,
    GroupId,
    Name,
    CreatedAt,
    FirstSeenAt,
    LastChangedAt,
    RemovedAt,
}

#[derive(DeriveIden)]
enum GroupChanges {
    Table,
    Id,
    GroupKey,
    Field,
    OldValue,
    NewValue,
    ChangedAt,
    SyncRunId,
}

const AGENTS_BY_DOMAIN: &str = "idx_agents_domain_caresoft_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .add_column(big_integer(Agents::CaresoftId).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("UPDATE agents SET caresoft_id = id")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(AGENTS_BY_DOMAIN)
                    .table(Agents::Table)
                    .col(Agents::Domain)
                    .col(Agents::CaresoftId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaresoftGroups::Table)
                    .col(big_pk_auto(CaresoftGroups::Id))
                    .col(text(CaresoftGroups::Domain))
                    .col(big_integer(CaresoftGroups::GroupId))
                    .col(text_null(CaresoftGroups::Name))
                    .col(timestamp_with_time_zone_null(CaresoftGroups::CreatedAt))
                    .col(timestamp_with_time_zone(CaresoftGroups::FirstSeenAt))
                    .col(timestamp_with_time_zone(CaresoftGroups::LastChangedAt))
                    .col(timestamp_with_time_zone_null(CaresoftGroups::RemovedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_caresoft_groups_domain_group")
                    .table(CaresoftGroups::Table)
                    .col(CaresoftGroups::Domain)
                    .col(CaresoftGroups::GroupId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupChanges::Table)
                    .col(big_pk_auto(GroupChanges::Id))
                    .col(big_integer(GroupChanges::GroupKey))
                    .col(text(GroupChanges::Field))
                    .col(text_null(GroupChanges::OldValue))
                    .col(text_null(GroupChanges::NewValue))
                    .col(timestamp_with_time_zone(GroupChanges::ChangedAt))
                    .col(big_integer_null(GroupChanges::SyncRunId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_group_changes_group_key")
                            .from(GroupChanges::Table, GroupChanges::GroupKey)
                            .to(CaresoftGroups::Table, CaresoftGroups::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_changes_group_key")
                    .table(GroupChanges::Table)
                    .col(GroupChanges::GroupKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            GroupChanges::Table.into_iden(),
            CaresoftGroups::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name(AGENTS_BY_DOMAIN)
                    .table(Agents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Agents::Table)
                    .drop_column(Agents::CaresoftId)
                    .to_owned(),
            )
            .await
    }
}
