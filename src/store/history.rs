//! Per-agent history for the API: the latest status events, roster changes and link changes of a batch
//! of agents, each in one statement.

use entity::{agent, link_history, roster_change, status_event};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement};

use super::agents::channels;

/// How many history rows of each kind an agent shows.
pub const HISTORY_LIMIT: usize = 100;

/// The latest `HISTORY_LIMIT` rows per agent of a history table, in one statement (a window function
/// that SQLite and PostgreSQL both run), ordered by agent, newest first.
async fn latest_per_agent<M: FromQueryResult>(
    db: &impl ConnectionTrait,
    table: &str,
    agent_ids: &[i64],
) -> Result<Vec<M>, DbErr> {
    if agent_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = agent_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    // The ids are integers formatted here and the table a constant of this file, never client text.
    let sql = format!(
        "SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.agent_id ORDER BY t.id DESC) AS rn \
         FROM {table} t WHERE t.agent_id IN ({list})) ranked WHERE rn <= {HISTORY_LIMIT} ORDER BY agent_id, id DESC"
    );
    M::find_by_statement(Statement::from_string(db.get_database_backend(), sql))
        .all(db)
        .await
}

/// An agent's status history as the API shows it: `events` (its latest, newest first) followed, when they
/// are all it has, by its first sighting on each channel, which syncs do not store as events: the status it
/// was first seen with is the one its oldest event of that channel changed from, or the one it still has,
/// at `first_seen_at`. Databases written before keep their stored first sightings, and those channels get
/// none added.
pub fn with_first_sightings(
    agent: &agent::Model,
    mut events: Vec<status_event::Model>,
) -> Vec<status_event::Model> {
    if events.len() >= HISTORY_LIMIT {
        return events;
    }
    // Oldest last, as stored first sightings came: the ticket's was written after the call's.
    for (channel, status, raw) in channels(agent).into_iter().rev() {
        let of_channel = || events.iter().filter(|e| e.channel == channel);
        if of_channel().any(|e| e.old_status.is_none()) {
            continue;
        }
        let (first, first_raw) = match of_channel().next_back() {
            Some(oldest) => (oldest.old_status.unwrap_or(status), oldest.old_raw.clone()),
            None => (status, raw.map(str::to_string)),
        };
        events.push(status_event::Model {
            id: 0,
            agent_id: agent.id,
            channel,
            old_status: None,
            new_status: first,
            old_raw: None,
            new_raw: first_raw,
            observed_at: agent.first_seen_at,
            sync_run_id: 0,
        });
    }
    events
}

/// The latest channel status changes of each agent.
pub async fn status_events(
    db: &impl ConnectionTrait,
    agent_ids: &[i64],
) -> Result<Vec<status_event::Model>, DbErr> {
    latest_per_agent(db, "status_events", agent_ids).await
}

/// The latest roster changes of each agent.
pub async fn roster_changes(
    db: &impl ConnectionTrait,
    agent_ids: &[i64],
) -> Result<Vec<roster_change::Model>, DbErr> {
    latest_per_agent(db, "roster_changes", agent_ids).await
}

/// The latest link changes of each agent.
pub async fn link_changes(
    db: &impl ConnectionTrait,
    agent_ids: &[i64],
) -> Result<Vec<link_history::Model>, DbErr> {
    latest_per_agent(db, "link_history", agent_ids).await
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use entity::vocabulary::{Channel, ChannelStatus};

    use super::*;

    fn agent() -> agent::Model {
        let seen = Utc
            .with_ymd_and_hms(2026, 12, 1, 2, 0, 0)
            .single()
            .expect("instant");
        agent::Model {
            id: 7,
            domain: "acme".into(),
            username: None,
            email: None,
            phone_no: None,
            extension: None,
            group_id: None,
            group_name: None,
            role_id: None,
            created_at: None,
            updated_at: None,
            login_status_raw: None,
            call_status_raw: Some("LOGOUT".into()),
            chat_status_raw: Some("AVAILABLE".into()),
            ticket_status_raw: Some("AVAILABLE".into()),
            call_status: ChannelStatus::Logout,
            chat_status: ChannelStatus::Available,
            ticket_status: ChannelStatus::Available,
            email_key: None,
            phone_key: None,
            first_seen_at: seen,
            last_changed_at: seen,
            last_seen_at: seen,
            removed_at: None,
            fingerprint: None,
            search_text: String::new(),
            caresoft_id: 7,
        }
    }

    fn event(
        id: i64,
        channel: Channel,
        from: Option<ChannelStatus>,
        to: ChannelStatus,
    ) -> status_event::Model {
        status_event::Model {
            id,
            agent_id: 7,
            channel,
            old_status: from,
            new_status: to,
            old_raw: from.map(|s| s.as_str().to_string()),
            new_raw: Some(to.as_str().to_string()),
            observed_at: Utc::now(),
            sync_run_id: 1,
        }
    }

    #[test]
    fn first_sightings_come_from_the_oldest_change_or_the_row() {
        let changed = vec![event(
            9,
            Channel::Call,
            Some(ChannelStatus::Available),
            ChannelStatus::Logout,
        )];
        let shown = with_first_sightings(&agent(), changed);
        let firsts: Vec<_> = shown[1..]
            .iter()
            .map(|e| (e.channel, e.old_status, e.new_status))
            .collect();
        assert_eq!(
            firsts,
            [
                (Channel::Ticket, None, ChannelStatus::Available),
                (Channel::Chat, None, ChannelStatus::Available),
                (Channel::Call, None, ChannelStatus::Available),
            ],
            "the call was first seen AVAILABLE, as its change says"
        );
        assert!(
            shown[1..]
                .iter()
                .all(|e| e.observed_at == agent().first_seen_at)
        );
    }

    #[test]
    fn stored_first_sightings_are_not_shown_twice() {
        let stored = vec![
            event(3, Channel::Ticket, None, ChannelStatus::Available),
            event(2, Channel::Chat, None, ChannelStatus::Available),
            event(1, Channel::Call, None, ChannelStatus::Logout),
        ];
        assert_eq!(with_first_sightings(&agent(), stored.clone()), stored);
    }
}
