//! Live events for subscribers: agent status changes and finished syncs. The process that applies a sync
//! publishes here; with PostgreSQL, `notify` relays them between replicas.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::domain::{Channel, ChannelStatus};

/// One status change of one agent's channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChanged {
    pub agent_id: i64,
    pub channel: Channel,
    pub from: ChannelStatus,
    pub to: ChannelStatus,
    pub at: DateTime<Utc>,
}

/// Something subscribers may want.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    StatusChanged(StatusChanged),
    /// A sync run finished (any outcome); subscribers load it by id.
    SyncCompleted {
        run_id: i64,
    },
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
