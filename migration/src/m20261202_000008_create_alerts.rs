//! The alert outbox: `alert_events` (what a run found, written in the run's own transaction),
//! `alert_deliveries` (one per event and webhook, planned by the first delivery worker that sees the event)
//! and `alert_attempts` (every POST, with its answer).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AlertEvents {
    Table,
    Id,
    EventId,
    Kind,
    At,
    Domain,
    Summary,
    Payload,
    SyncRunId,
    Planned,
}

#[derive(DeriveIden)]
enum AlertDeliveries {
    Table,
    Id,
    AlertEventId,
    TargetKey,
    Target,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LeaseToken,
    LastAttemptAt,
    LastError,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum AlertAttempts {
    Table,
    Id,
    AlertDeliveryId,
    At,
    StatusCode,
    Error,
    DurationMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AlertEvents::Table)
                    .col(big_pk_auto(AlertEvents::Id))
                    .col(text_uniq(AlertEvents::EventId))
                    .col(text(AlertEvents::Kind))
                    .col(timestamp_with_time_zone(AlertEvents::At))
                    .col(text_null(AlertEvents::Domain))
                    .col(text(AlertEvents::Summary))
                    .col(text(AlertEvents::Payload))
                    .col(big_integer_null(AlertEvents::SyncRunId))
                    .col(boolean(AlertEvents::Planned).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_events_planned")
                    .table(AlertEvents::Table)
                    .col(AlertEvents::Planned)
                    .col(AlertEvents::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertDeliveries::Table)
                    .col(big_pk_auto(AlertDeliveries::Id))
                    .col(big_integer(AlertDeliveries::AlertEventId))
                    .col(text(AlertDeliveries::TargetKey))
                    .col(text(AlertDeliveries::Target))
                    .col(text(AlertDeliveries::Status))
                    .col(integer(AlertDeliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(AlertDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(AlertDeliveries::LeaseUntil))
                    .col(text_null(AlertDeliveries::LeaseToken))
                    .col(timestamp_with_time_zone_null(
                        AlertDeliveries::LastAttemptAt,
                    ))
                    .col(text_null(AlertDeliveries::LastError))
                    .col(timestamp_with_time_zone_null(AlertDeliveries::DeliveredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_deliveries_event")
                            .from(AlertDeliveries::Table, AlertDeliveries::AlertEventId)
                            .to(AlertEvents::Table, AlertEvents::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_deliveries_event_target")
                    .table(AlertDeliveries::Table)
                    .col(AlertDeliveries::AlertEventId)
                    .col(AlertDeliveries::TargetKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_deliveries_due")
                    .table(AlertDeliveries::Table)
                    .col(AlertDeliveries::Status)
                    .col(AlertDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertAttempts::Table)
                    .col(big_pk_auto(AlertAttempts::Id))
                    .col(big_integer(AlertAttempts::AlertDeliveryId))
                    .col(timestamp_with_time_zone(AlertAttempts::At))
                    .col(integer_null(AlertAttempts::StatusCode))
                    .col(text_null(AlertAttempts::Error))
                    .col(big_integer(AlertAttempts::DurationMs))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_alert_attempts_delivery")
                            .from(AlertAttempts::Table, AlertAttempts::AlertDeliveryId)
                            .to(AlertDeliveries::Table, AlertDeliveries::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_alert_attempts_delivery")
                    .table(AlertAttempts::Table)
                    .col(AlertAttempts::AlertDeliveryId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AlertAttempts::Table.into_iden(),
            AlertDeliveries::Table.into_iden(),
            AlertEvents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
