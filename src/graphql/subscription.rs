//! The subscription root: live status changes and finished runs (syncs and HR pulls), fed by the [`EventBus`].

use async_graphql::{Context, Subscription};
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::error::RecvError;

use super::types::{Agent, Channel, ChannelStatus, SyncRun, SyncSource};
use crate::domain;
use crate::events::{Event, EventBus};
use crate::store;

/// Live updates over WebSocket (graphql-transport-ws at `/graphql/ws`).
#[derive(Debug, Default)]
pub struct Subscription;

/// A channel of an agent changed status.
#[derive(Debug, Clone, async_graphql::SimpleObject)]
pub struct AgentStatusChange {
    pub agent: Agent,
    pub channel: Channel,
    pub from: ChannelStatus,
    pub to: ChannelStatus,
    pub at: chrono::DateTime<chrono::Utc>,
}

#[Subscription]
impl Subscription {
    /// Status changes of current agents, optionally of one CareSoft domain, one group (by name) and one
    /// channel.
    async fn agent_status_changed(
        &self,
        ctx: &Context<'_>,
        group: Option<String>,
        channel: Option<Channel>,
        domain: Option<String>,
    ) -> impl Stream<Item = AgentStatusChange> + use<> {
        let mut events = ctx.data_unchecked::<EventBus>().subscribe();
        let channel = channel.map(domain::Channel::from);
        async_stream::stream! {
            loop {
                let (change, agent, at) = match events.recv().await {
                    Ok(Event::StatusChanged { change, agent, at }) => (change, agent, at),
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a status subscriber fell behind and missed events");
                        continue;
                    }
                    Err(RecvError::Closed) => break,
                };
                if channel.is_some_and(|c| c != change.channel) {
                    continue;
                }
                // Only changes of agents already mirrored are announced, and they have a status before.
                let Some(from) = change.old_status else { continue };
                // The relay loaded the agent once for every subscriber, as this run left it.
                if group.as_deref().is_some_and(|g| agent.group_name.as_deref() != Some(g)) {
                    continue;
                }
                if domain.as_deref().is_some_and(|d| !agent.domain.eq_ignore_ascii_case(d.trim())) {
                    continue;
                }
                yield AgentStatusChange {
                    agent: Agent::new(agent.as_ref().clone()),
                    channel: change.channel.into(),
                    from: from.into(),
                    to: change.new_status.into(),
                    at,
                };
            }
        }
    }

    /// Every finished run (succeeded, failed, refused or dry run): CareSoft syncs and HR pulls, or only
    /// those of `source`, or only the syncs of one CareSoft `domain`.
    async fn sync_completed(
        &self,
        ctx: &Context<'_>,
        source: Option<SyncSource>,
        domain: Option<String>,
    ) -> impl Stream<Item = SyncRun> + use<> {
        let source: Option<domain::SyncSource> = source.map(Into::into);
        let mut events = ctx.data_unchecked::<EventBus>().subscribe();
        let db = ctx.data_unchecked::<DatabaseConnection>().clone();
        async_stream::stream! {
            loop {
                let run_id = match events.recv().await {
                    Ok(Event::SyncCompleted { run_id }) => run_id,
                    Ok(_) | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                if let Ok(Some(run)) = store::runs::by_id(&db, run_id).await
                    && source.is_none_or(|source| run.source == source)
                    && domain
                        .as_deref()
                        .is_none_or(|d| run.domain.eq_ignore_ascii_case(d.trim()))
                {
                    yield SyncRun(run);
                }
            }
        }
    }
}
