//! Live events for subscribers: agent status changes and finished syncs.
//!
//! On SQLite (one process) a sync publishes straight to the in-process [`EventBus`]. On PostgreSQL the
//! process that applies a sync sends `NOTIFY caresoft_bridge_events` with just the run id (payloads are
//! limited to 8,000 bytes), and every `serve` process, the sender included, runs [`relay_postgres`]: it
//! LISTENs, loads the run's status events from the database and publishes them on its own bus. So a
//! subscriber on any replica hears about a sync applied by any other, or by the CLI.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::agent;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::domain::{Channel, ChannelStatus};
use crate::store;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "caresoft_bridge_events";

/// A change of one agent's channel status, as a sync observes it (and stores it in `status_events`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub agent_id: i64,
    pub channel: Channel,
    /// `None` when the agent is seen for the first time.
    pub old_status: Option<ChannelStatus>,
    pub new_status: ChannelStatus,
    pub old_raw: Option<String>,
    pub new_raw: Option<String>,
}

/// Something subscribers may want.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A channel of an agent already mirrored changed status (first sightings are not announced), with
    /// the agent as the run left it: loaded once per run for every subscriber, not once per subscriber.
    StatusChanged {
        change: StatusChange,
        agent: Arc<agent::Model>,
        at: DateTime<Utc>,
    },
    /// A sync run finished (any outcome); subscribers load it by id.
    SyncCompleted { run_id: i64 },
}

/// A broadcast channel of events. Slow subscribers miss events rather than slow the sync down.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: Arc<broadcast::Sender<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus that keeps up to 4,096 undelivered events per subscriber.
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(4096);
        Self {
            sender: Arc::new(sender),
        }
    }

    /// Sends to every current subscriber; no subscriber is fine.
    pub fn publish(&self, event: Event) {
        let _ = self.sender.send(event);
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

impl EventBus {
    /// Announces a finished run and its applied status changes: NOTIFY on PostgreSQL (every replica's relay
    /// publishes it), straight to this bus on SQLite. Failing to notify is logged; the sync stands.
    pub async fn announce(
        &self,
        db: &DatabaseConnection,
        run_id: i64,
        changes: &[StatusChange],
        at: DateTime<Utc>,
    ) {
        if db.get_database_backend() == DatabaseBackend::Postgres {
            if let Err(err) = store::connection::notify(db, CHANNEL, &run_id.to_string()).await {
                tracing::warn!(error = %err, run_id, "cannot notify other replicas of a finished sync");
            }
            return;
        }
        let changes: Vec<(StatusChange, DateTime<Utc>)> = changes
            .iter()
            .filter(|c| c.old_status.is_some())
            .map(|c| (c.clone(), at))
            .collect();
        if let Err(err) = self.publish_changes(db, changes).await {
            tracing::warn!(error = %err, run_id, "cannot load the agents of a run's status changes");
        }
        self.publish(Event::SyncCompleted { run_id });
    }

    /// Publishes `changes` with their agents, loaded in one batch for the whole run, when anyone listens.
    async fn publish_changes(
        &self,
        db: &DatabaseConnection,
        changes: Vec<(StatusChange, DateTime<Utc>)>,
    ) -> Result<(), DbErr> {
        if changes.is_empty() || self.sender.receiver_count() == 0 {
            return Ok(());
        }
        let mut ids: Vec<i64> = changes.iter().map(|(c, _)| c.agent_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let agents: HashMap<i64, Arc<agent::Model>> = store::agents::by_ids(db, &ids)
            .await?
            .into_iter()
            .map(|row| (row.id, Arc::new(row)))
            .collect();
        for (change, at) in changes {
            if let Some(agent) = agents.get(&change.agent_id) {
                self.publish(Event::StatusChanged {
                    agent: Arc::clone(agent),
                    change,
                    at,
                });
            }
        }
        Ok(())
    }

    /// Loads the status changes of `run_id` and their agents from the database and publishes them, then
    /// the run itself: two statements per run, whatever the number of subscribers.
    async fn publish_run(&self, db: &DatabaseConnection, run_id: i64) -> Result<(), DbErr> {
        if self.sender.receiver_count() > 0 {
            let changes = store::agents::status_changes_of_run(db, run_id)
                .await?
                .into_iter()
                .map(|row| {
                    let change = StatusChange {
                        agent_id: row.agent_id,
                        channel: row.channel,
                        old_status: row.old_status,
                        new_status: row.new_status,
                        old_raw: row.old_raw,
                        new_raw: row.new_raw,
                    };
                    (change, row.observed_at)
                })
                .collect();
            self.publish_changes(db, changes).await?;
        }
        self.publish(Event::SyncCompleted { run_id });
        Ok(())
    }
}

/// LISTENs for finished syncs on PostgreSQL and publishes them on `bus` until `shutdown`. A lost
/// connection is re-established (sqlx's listener reconnects); notifications sent meanwhile are missed,
/// which subscribers tolerate as they would a slow consumer.
pub async fn relay_postgres(
    url: String,
    db: DatabaseConnection,
    bus: EventBus,
    shutdown: CancellationToken,
) {
    let mut listener = loop {
        match connect_listener(&url).await {
            Ok(listener) => break listener,
            Err(err) => {
                tracing::warn!(error = %err, "event relay cannot LISTEN yet; retrying in 5 s");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = shutdown.cancelled() => return,
                }
            }
        }
    };
    tracing::info!(channel = CHANNEL, "event relay listening");
    loop {
        let notification = tokio::select! {
            n = listener.recv() => n,
            _ = shutdown.cancelled() => break,
        };
        match notification {
            Ok(notification) => match notification.payload().parse::<i64>() {
                Ok(run_id) => {
                    if let Err(err) = bus.publish_run(&db, run_id).await {
                        tracing::warn!(error = %err, run_id, "event relay cannot load a run");
                    }
                }
                Err(_) => tracing::warn!(
                    payload = notification.payload(),
                    "event relay ignored a malformed notification"
                ),
            },
            Err(err) => {
                tracing::warn!(error = %err, "event relay lost its connection; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn connect_listener(url: &str) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
