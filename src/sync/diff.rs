//! The pure heart of a sync: compare CareSoft's answer with the mirror and plan every write.
//!
//! No I/O here, so every rule (what counts as a change, which events it produces, who is removed or
//! returns) is tested without a database. `apply` turns a [`Plan`] into bulk statements.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::agent;

use crate::caresoft::{Agent, ChannelStatus};
use crate::domain::Channel;
use crate::reconcile::keys::{email_key, phone_key};

/// A status event to insert.
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

/// A roster change to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterChange {
    pub agent_id: i64,
    /// username, email, phone_no, extension, group_id, group_name, role_id, or presence (removed / returned).
    pub field: &'static str,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// Counts of what a plan does, as reported in the summary line and stored on the sync run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncCounts {
    pub fetched: usize,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub returned: usize,
    pub unchanged: usize,
    /// Status changes of agents already mirrored (first sightings are recorded but not counted as changes).
    pub status_changes: usize,
}

/// Everything a sync will write.
#[derive(Debug, Default)]
pub struct Plan {
    /// New and changed rows, written with one upsert stream.
    pub upserts: Vec<agent::Model>,
    /// Ids of current agents absent from the answer.
    pub removals: Vec<i64>,
    pub status_changes: Vec<StatusChange>,
    pub roster_changes: Vec<RosterChange>,
    pub counts: SyncCounts,
    /// Number of agents currently in the mirror (not removed), the base of the mass-removal guard.
    pub current_before: usize,
}

impl Plan {
    /// True when the plan writes nothing to the agents table.
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removals.is_empty()
    }
}

/// The mirrored fields of one fetched agent, as they would be stored.
fn stored_fields(source: &Agent, domain: &str, now: DateTime<Utc>) -> agent::Model {
    let call = source.call_status.clone();
    let chat = source.chat_status.clone();
    let ticket = source.effective_ticket_status().map(str::to_string);
    agent::Model {
        id: source.id,
        domain: domain.to_string(),
        username: source.username.clone(),
        email: source.email.clone(),
        phone_no: source.phone_no.clone(),
        extension: source.agent_id.clone(),
        group_id: source.group_id,
        group_name: source.group_name.clone(),
        role_id: source.role_id,
        created_at: source.created_at,
        updated_at: source.updated_at,
        login_status_raw: source.login_status.clone(),
        call_status: ChannelStatus::from_raw(call.as_deref())
            .as_str()
            .to_string(),
        chat_status: ChannelStatus::from_raw(chat.as_deref())
            .as_str()
            .to_string(),
        ticket_status: ChannelStatus::from_raw(ticket.as_deref())
            .as_str()
            .to_string(),
        call_status_raw: call,
        chat_status_raw: chat,
        ticket_status_raw: source.ticket_status.clone(),
        email_key: source.email.as_deref().and_then(email_key),
        phone_key: source.phone_no.as_deref().and_then(phone_key),
        first_seen_at: now,
        last_changed_at: now,
        last_seen_at: now,
        removed_at: None,
    }
}

/// Whether two rows differ in anything CareSoft sent (bookkeeping columns are ignored).
fn same_content(a: &agent::Model, b: &agent::Model) -> bool {
    a.domain == b.domain
        && a.username == b.username
        && a.email == b.email
        && a.phone_no == b.phone_no
        && a.extension == b.extension
        && a.group_id == b.group_id
        && a.group_name == b.group_name
        && a.role_id == b.role_id
        && a.created_at == b.created_at
        && a.updated_at == b.updated_at
        && a.login_status_raw == b.login_status_raw
        && a.call_status_raw == b.call_status_raw
        && a.chat_status_raw == b.chat_status_raw
        && a.ticket_status_raw == b.ticket_status_raw
        && a.call_status == b.call_status
        && a.chat_status == b.chat_status
        && a.ticket_status == b.ticket_status
        && a.email_key == b.email_key
        && a.phone_key == b.phone_key
}

/// The (status, raw) of each channel as stored: the ticket raw value is the one its status was mapped from.
fn channels(row: &agent::Model) -> [(Channel, &str, Option<&str>); 3] {
    [
        (
            Channel::Call,
            row.call_status.as_str(),
            row.call_status_raw.as_deref(),
        ),
        (
            Channel::Chat,
            row.chat_status.as_str(),
            row.chat_status_raw.as_deref(),
        ),
        (
            Channel::Ticket,
            row.ticket_status.as_str(),
            row.ticket_status_raw
                .as_deref()
                .or(row.login_status_raw.as_deref()),
        ),
    ]
}

fn status_of(stored: &str) -> ChannelStatus {
    ChannelStatus::parse(stored).unwrap_or(ChannelStatus::Unknown)
}

fn roster_fields(row: &agent::Model) -> [(&'static str, Option<String>); 7] {
    [
        ("username", row.username.clone()),
        ("email", row.email.clone()),
        ("phone_no", row.phone_no.clone()),
        ("extension", row.extension.clone()),
        ("group_id", row.group_id.map(|v| v.to_string())),
        ("group_name", row.group_name.clone()),
        ("role_id", row.role_id.map(|v| v.to_string())),
    ]
}

/// Plans the writes that bring `mirror` (every stored agent, removed ones included) in line with `fetched`.
pub fn plan(
    mirror: &HashMap<i64, agent::Model>,
    fetched: &[Agent],
    domain: &str,
    now: DateTime<Utc>,
) -> Plan {
    let mut plan = Plan {
        current_before: mirror
            .values()
            .filter(|row| row.removed_at.is_none())
            .count(),
        ..Plan::default()
    };
    plan.counts.fetched = fetched.len();
    let mut seen = HashSet::with_capacity(fetched.len());

    for source in fetched {
        seen.insert(source.id);
        let mut row = stored_fields(source, domain, now);
        let Some(old) = mirror.get(&source.id) else {
            for (channel, status, raw) in channels(&row) {
                plan.status_changes.push(StatusChange {
                    agent_id: row.id,
                    channel,
                    old_status: None,
                    new_status: status_of(status),
                    old_raw: None,
                    new_raw: raw.map(str::to_string),
                });
            }
            plan.counts.added += 1;
            plan.upserts.push(row);
            continue;
        };

        let returning = old.removed_at.is_some();
        if !returning && same_content(old, &row) {
            plan.counts.unchanged += 1;
            continue;
        }
        row.first_seen_at = old.first_seen_at;
        if returning {
            plan.counts.returned += 1;
            plan.roster_changes.push(RosterChange {
                agent_id: row.id,
                field: "presence",
                old_value: Some("removed".into()),
                new_value: Some("current".into()),
            });
        } else {
            plan.counts.updated += 1;
        }
        for ((field, before), (_, after)) in roster_fields(old).into_iter().zip(roster_fields(&row))
        {
            if before != after {
                plan.roster_changes.push(RosterChange {
                    agent_id: row.id,
                    field,
                    old_value: before,
                    new_value: after,
                });
            }
        }
        for ((channel, old_status, old_raw), (_, new_status, new_raw)) in
            channels(old).into_iter().zip(channels(&row))
        {
            // A raw change between two unknown values ("BUSY" -> "AWAY") is a change too: the raw text is the truth.
            if old_status != new_status || old_raw != new_raw {
                plan.status_changes.push(StatusChange {
                    agent_id: row.id,
                    channel,
                    old_status: Some(status_of(old_status)),
                    new_status: status_of(new_status),
                    old_raw: old_raw.map(str::to_string),
                    new_raw: new_raw.map(str::to_string),
                });
                plan.counts.status_changes += 1;
            }
        }
        plan.upserts.push(row);
    }

    let mut removals: Vec<i64> = mirror
        .values()
        .filter(|row| row.removed_at.is_none() && !seen.contains(&row.id))
        .map(|row| row.id)
        .collect();
    removals.sort_unstable();
    for &id in &removals {
        plan.roster_changes.push(RosterChange {
            agent_id: id,
            field: "presence",
            old_value: Some("current".into()),
            new_value: Some("removed".into()),
        });
    }
    plan.counts.removed = removals.len();
    plan.removals = removals;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: i64) -> Agent {
        Agent {
            id,
            username: Some(format!("agent{id}")),
            email: Some(format!("agent{id}@example.vn")),
            phone_no: Some("0336842288".into()),
            agent_id: Some("5045".into()),
            created_at: None,
            updated_at: None,
            group_id: Some(1),
            group_name: Some("CSKH".into()),
            role_id: Some(1),
            login_status: None,
            call_status: Some("AVAILABLE".into()),
            chat_status: Some("NOT AVAILABLE".into()),
            ticket_status: Some("LOGOUT".into()),
        }
    }

    fn mirror_of(agents: &[Agent], now: DateTime<Utc>) -> HashMap<i64, agent::Model> {
        agents
            .iter()
            .map(|a| (a.id, stored_fields(a, "acme", now)))
            .collect()
    }

    #[test]
    fn a_new_agent_is_added_with_three_first_sightings() {
        let now = Utc::now();
        let plan = plan(&HashMap::new(), &[agent(1)], "acme", now);
        assert_eq!(plan.counts.added, 1);
        assert_eq!(
            plan.counts.status_changes, 0,
            "first sightings are not changes"
        );
        assert_eq!(plan.status_changes.len(), 3);
        assert!(plan.status_changes.iter().all(|c| c.old_status.is_none()));
        assert_eq!(plan.upserts[0].chat_status, "NOT_AVAILABLE");
        assert_eq!(
            plan.upserts[0].email_key.as_deref(),
            Some("agent1@example.vn")
        );
    }

    #[test]
    fn an_identical_answer_plans_nothing() {
        let now = Utc::now();
        let agents = [agent(1), agent(2)];
        let plan = plan(&mirror_of(&agents, now), &agents, "acme", now);
        assert!(plan.is_empty());
        assert_eq!(plan.counts.unchanged, 2);
        assert!(plan.status_changes.is_empty() && plan.roster_changes.is_empty());
    }

    #[test]
    fn a_status_and_a_group_change_produce_events() {
        let now = Utc::now();
        let mirror = mirror_of(&[agent(1)], now);
        let mut changed = agent(1);
        changed.call_status = Some("LOGOUT".into());
        changed.group_name = Some("Sales".into());
        let plan = plan(&mirror, &[changed], "acme", now);
        assert_eq!(plan.counts.updated, 1);
        assert_eq!(plan.counts.status_changes, 1);
        assert_eq!(plan.status_changes[0].channel, Channel::Call);
        assert_eq!(
            plan.status_changes[0].old_status,
            Some(ChannelStatus::Available)
        );
        assert_eq!(plan.status_changes[0].new_status, ChannelStatus::Logout);
        assert_eq!(plan.roster_changes.len(), 1);
        assert_eq!(plan.roster_changes[0].field, "group_name");
        assert_eq!(plan.roster_changes[0].new_value.as_deref(), Some("Sales"));
    }

    #[test]
    fn missing_agents_are_removed_and_returning_ones_restored() {
        let now = Utc::now();
        let mut mirror = mirror_of(&[agent(1), agent(2), agent(3)], now);
        if let Some(row) = mirror.get_mut(&3) {
            row.removed_at = Some(now);
        }
        let plan = plan(&mirror, &[agent(1), agent(3)], "acme", now);
        assert_eq!(plan.removals, vec![2]);
        assert_eq!(plan.counts.returned, 1);
        assert_eq!(plan.counts.updated, 0);
        assert_eq!(plan.current_before, 2);
        let returned = plan
            .upserts
            .iter()
            .find(|r| r.id == 3)
            .expect("agent 3 is restored");
        assert_eq!(returned.removed_at, None);
    }

    #[test]
    fn an_unknown_raw_change_is_a_status_change() {
        let now = Utc::now();
        let mut busy = agent(1);
        busy.chat_status = Some("BUSY".into());
        let mirror = mirror_of(&[busy.clone()], now);
        busy.chat_status = Some("AWAY".into());
        let plan = plan(&mirror, &[busy], "acme", now);
        assert_eq!(plan.counts.status_changes, 1);
        assert_eq!(
            plan.status_changes[0].old_status,
            Some(ChannelStatus::Unknown)
        );
        assert_eq!(plan.status_changes[0].new_raw.as_deref(), Some("AWAY"));
    }
}
