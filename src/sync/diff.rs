//! The pure heart of a sync: compare CareSoft's answer with the mirror and plan every write.
//!
//! No I/O here, so every rule (what counts as a change, which events it produces, who is removed or
//! returns) is tested without a database. `apply` turns a [`Plan`] into bulk statements.
//!
//! A resync compares in two steps. Every stored agent is known by its presence and [`fingerprint`] (three
//! narrow columns); an agent whose fingerprint matches is unchanged without its row being read. Only the
//! others, and the agents about to be removed, are loaded ([`rows_to_load`]) and compared field by field, so
//! a resync that changes nothing reads 20,000 small tuples instead of 20,000 full rows.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::agent;
use entity::search::agent_search_text;

use crate::caresoft::Agent;
use crate::domain::ChannelStatus;
pub use crate::events::StatusChange;
use crate::fingerprint::Fingerprint;
use crate::reconcile::keys::{email_key, phone_key};
use crate::store::agents::channels;
pub use crate::store::runs::SyncCounts;

/// A roster change to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterChange {
    pub agent_id: i64,
    /// username, email, phone_no, extension, group_id, group_name, role_id, or presence (removed / returned).
    pub field: &'static str,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// What a resync knows of a stored agent before loading its row.
pub use crate::store::agents::Presence as Stored;

impl Stored {
    /// Whether `incoming` is this current agent, unchanged: then its row need not be read.
    fn unchanged(&self, incoming: &agent::Model) -> bool {
        !self.removed && self.fingerprint == incoming.fingerprint
    }
}

/// The mirror as the diff sees it: every stored agent (removed ones included) by id, and the full rows of
/// those [`rows_to_load`] named.
#[derive(Debug, Default)]
pub struct Mirror {
    pub stored: HashMap<i64, Stored>,
    pub rows: HashMap<i64, agent::Model>,
}

/// Everything a sync will write.
#[derive(Debug, Default)]
pub struct Plan {
    /// New and changed rows, written with one upsert stream.
    pub upserts: Vec<agent::Model>,
    /// Unchanged rows whose stored fingerprint is missing or stale, written back with the right one (once,
    /// after an upgrade); not a change, so nothing is recomputed for them.
    pub refreshed: Vec<agent::Model>,
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

/// Bumped whenever [`fingerprint`] hashes differently, so stored fingerprints of the old kind never match.
const FINGERPRINT_VERSION: u8 = 1;

/// A stable 64-bit hash of every field [`same_content`] compares (see [`crate::fingerprint`]).
pub fn fingerprint(row: &agent::Model) -> i64 {
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros());
    Fingerprint::new(FINGERPRINT_VERSION)
        .text(Some(&row.domain))
        .text(row.username.as_deref())
        .text(row.email.as_deref())
        .text(row.phone_no.as_deref())
        .text(row.extension.as_deref())
        .int(row.group_id)
        .text(row.group_name.as_deref())
        .int(row.role_id)
        .int(time(row.created_at))
        .int(time(row.updated_at))
        .text(row.login_status_raw.as_deref())
        .text(row.call_status_raw.as_deref())
        .text(row.chat_status_raw.as_deref())
        .text(row.ticket_status_raw.as_deref())
        .text(Some(row.call_status.as_str()))
        .text(Some(row.chat_status.as_str()))
        .text(Some(row.ticket_status.as_str()))
        .text(row.email_key.as_deref())
        .text(row.phone_key.as_deref())
        .finish()
}

/// The fetched agents as they would be stored (bookkeeping stamped `now`), fingerprints included.
pub fn rows_of(fetched: &[Agent], domain: &str, now: DateTime<Utc>) -> Vec<agent::Model> {
    fetched
        .iter()
        .map(|source| stored_fields(source, domain, now))
        .collect()
}

/// Ids of the stored rows [`plan`] must see in full: agents that may have changed (fingerprint different
/// or unknown), returning ones, and current ones absent from `incoming` (about to be removed). Sorted.
pub fn rows_to_load(stored: &HashMap<i64, Stored>, incoming: &[agent::Model]) -> Vec<i64> {
    let mut seen = HashSet::with_capacity(incoming.len());
    let mut ids = Vec::new();
    for row in incoming {
        seen.insert(row.id);
        if stored.get(&row.id).is_some_and(|old| !old.unchanged(row)) {
            ids.push(row.id);
        }
    }
    ids.extend(
        stored
            .iter()
            .filter(|(id, old)| !old.removed && !seen.contains(*id))
            .map(|(id, _)| *id),
    );
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The mirrored fields of one fetched agent, as they would be stored.
fn stored_fields(source: &Agent, domain: &str, now: DateTime<Utc>) -> agent::Model {
    let call = source.call_status.clone();
    let chat = source.chat_status.clone();
    let ticket = source.effective_ticket_status().map(str::to_string);
    let mut row = agent::Model {
        // CareSoft's id until `keys::assign` gives the mirror's key.
        id: source.id,
        caresoft_id: source.id,
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
        call_status: ChannelStatus::from_caresoft(call.as_deref()),
        chat_status: ChannelStatus::from_caresoft(chat.as_deref()),
        ticket_status: ChannelStatus::from_caresoft(ticket.as_deref()),
        call_status_raw: call,
        chat_status_raw: chat,
        ticket_status_raw: source.ticket_status.clone(),
        email_key: source.email.as_deref().and_then(email_key),
        phone_key: source.phone_no.as_deref().and_then(phone_key),
        first_seen_at: now,
        last_changed_at: now,
        last_seen_at: now,
        removed_at: None,
        fingerprint: None,
        // Folded only for the rows that are written (see `written`): most of a resync's agents are not.
        search_text: String::new(),
    };
    row.fingerprint = Some(fingerprint(&row));
    row
}

/// A row about to be written, with its search text.
fn written(mut row: agent::Model) -> agent::Model {
    row.search_text = agent_search_text(
        row.username.as_deref(),
        row.email.as_deref(),
        row.phone_no.as_deref(),
        row.extension.as_deref(),
    );
    row
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

/// Plans the writes that bring `mirror` in line with `incoming` (from [`rows_of`]); `mirror.rows` must hold
/// at least the rows [`rows_to_load`] names.
pub fn plan(mirror: &Mirror, incoming: Vec<agent::Model>) -> Plan {
    let mut plan = Plan {
        current_before: mirror.stored.values().filter(|s| !s.removed).count(),
        ..Plan::default()
    };
    plan.counts.fetched = incoming.len();
    let mut seen = HashSet::with_capacity(incoming.len());

    for mut row in incoming {
        seen.insert(row.id);
        if mirror
            .stored
            .get(&row.id)
            .is_some_and(|s| s.unchanged(&row))
        {
            plan.counts.unchanged += 1;
            continue;
        }
        // A stored row that was not loaded cannot happen when the caller follows `rows_to_load`; should it,
        // the agent is written as first seen rather than silently skipped.
        // A first sighting writes no status event: the row holds its first statuses and `first_seen_at`,
        // and the next change's event keeps the status it changed from, so the history loses nothing
        // (`store::history::with_first_sightings` shows it again).
        let Some(old) = mirror.rows.get(&row.id) else {
            plan.counts.added += 1;
            plan.upserts.push(written(row));
            continue;
        };

        let returning = old.removed_at.is_some();
        if !returning && same_content(old, &row) {
            plan.counts.unchanged += 1;
            if old.fingerprint != row.fingerprint {
                plan.refreshed.push(agent::Model {
                    fingerprint: row.fingerprint,
                    ..old.clone()
                });
            }
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
                    old_status: Some(old_status),
                    new_status,
                    old_raw: old_raw.map(str::to_string),
                    new_raw: new_raw.map(str::to_string),
                });
                plan.counts.status_changes += 1;
            }
        }
        plan.upserts.push(written(row));
    }

    let mut removals: Vec<i64> = mirror
        .stored
        .iter()
        .filter(|(id, stored)| !stored.removed && !seen.contains(*id))
        .map(|(id, _)| *id)
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
    use crate::domain::Channel;

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

    impl Mirror {
        /// A mirror whose every row is loaded.
        fn from_rows(rows: impl IntoIterator<Item = agent::Model>) -> Mirror {
            let rows: HashMap<i64, agent::Model> = rows.into_iter().map(|r| (r.id, r)).collect();
            let stored = rows
                .values()
                .map(|r| {
                    let stored = Stored {
                        removed: r.removed_at.is_some(),
                        fingerprint: r.fingerprint,
                    };
                    (r.id, stored)
                })
                .collect();
            Mirror { stored, rows }
        }
    }

    fn mirror_of(agents: &[Agent], now: DateTime<Utc>) -> Mirror {
        Mirror::from_rows(rows_of(agents, "acme", now))
    }

    fn plan_for(mirror: &Mirror, agents: &[Agent], now: DateTime<Utc>) -> Plan {
        plan(mirror, rows_of(agents, "acme", now))
    }

    #[test]
    fn a_new_agent_is_added_without_status_events() {
        let now = Utc::now();
        let plan = plan_for(&Mirror::default(), &[agent(1)], now);
        assert_eq!(plan.counts.added, 1);
        assert_eq!(
            plan.counts.status_changes, 0,
            "first sightings are not changes"
        );
        assert!(
            plan.status_changes.is_empty(),
            "the row holds its first statuses"
        );
        assert_eq!(plan.upserts[0].chat_status, ChannelStatus::NotAvailable);
        assert_eq!(
            plan.upserts[0].email_key.as_deref(),
            Some("agent1@example.vn")
        );
    }

    #[test]
    fn an_identical_answer_plans_nothing() {
        let now = Utc::now();
        let agents = [agent(1), agent(2)];
        let plan = plan_for(&mirror_of(&agents, now), &agents, now);
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
        let plan = plan_for(&mirror, &[changed], now);
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
        if let Some(row) = mirror.rows.get_mut(&3) {
            row.removed_at = Some(now);
        }
        let mirror = Mirror::from_rows(mirror.rows.into_values());
        let plan = plan_for(&mirror, &[agent(1), agent(3)], now);
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
        let plan = plan_for(&mirror, &[busy], now);
        assert_eq!(plan.counts.status_changes, 1);
        assert_eq!(
            plan.status_changes[0].old_status,
            Some(ChannelStatus::Unknown)
        );
        assert_eq!(plan.status_changes[0].new_raw.as_deref(), Some("AWAY"));
    }

    /// Only presence and fingerprints, as the sync reads them: no row is loaded.
    fn summary_of(mirror: &Mirror) -> Mirror {
        Mirror {
            stored: mirror.stored.clone(),
            rows: HashMap::new(),
        }
    }

    #[test]
    fn unchanged_agents_are_recognised_without_loading_their_rows() {
        let now = Utc::now();
        let agents = [agent(1), agent(2), agent(3)];
        let summary = summary_of(&mirror_of(&agents, now));
        let later = now + chrono::Duration::hours(24);
        assert!(rows_to_load(&summary.stored, &rows_of(&agents, "acme", later)).is_empty());
        let plan = plan_for(&summary, &agents, later);
        assert!(plan.is_empty() && plan.refreshed.is_empty());
        assert_eq!(plan.counts.unchanged, 3);
    }

    #[test]
    fn changed_returning_and_vanished_agents_are_the_rows_to_load() {
        let now = Utc::now();
        let mut mirror = mirror_of(&[agent(1), agent(2), agent(3), agent(4)], now);
        if let Some(row) = mirror.stored.get_mut(&3) {
            row.removed = true;
        }
        let mut changed = agent(2);
        changed.chat_status = Some("LOGOUT".into());
        let incoming = rows_of(&[agent(1), changed, agent(3)], "acme", now);
        // 2 changed, 3 returns, 4 vanished; 1 is unchanged and stays unread.
        assert_eq!(rows_to_load(&mirror.stored, &incoming), vec![2, 3, 4]);
    }

    #[test]
    fn a_missing_fingerprint_is_filled_in_without_counting_a_change() {
        let now = Utc::now();
        let agents = [agent(1)];
        let mut mirror = mirror_of(&agents, now);
        for row in mirror.rows.values_mut() {
            row.fingerprint = None;
        }
        let mirror = Mirror::from_rows(mirror.rows.into_values());
        let incoming = rows_of(&agents, "acme", now);
        assert_eq!(rows_to_load(&mirror.stored, &incoming), vec![1]);
        let plan = plan(&mirror, incoming);
        assert!(plan.is_empty(), "nothing changed, so nothing is recomputed");
        assert_eq!(plan.counts.unchanged, 1);
        assert_eq!(plan.refreshed.len(), 1);
        assert_eq!(
            plan.refreshed[0].fingerprint,
            Some(fingerprint(&plan.refreshed[0]))
        );
        assert!(plan.status_changes.is_empty() && plan.roster_changes.is_empty());
    }

    #[test]
    fn every_compared_field_moves_the_fingerprint_and_bookkeeping_does_not() {
        let now = Utc::now();
        let base = rows_of(&[agent(1)], "acme", now).remove(0);
        let edits: [fn(&mut agent::Model); 8] = [
            |r| r.username = None,
            |r| r.email = Some("other@example.vn".into()),
            |r| r.group_id = Some(2),
            |r| r.role_id = None,
            |r| r.updated_at = Some(Utc::now()),
            |r| r.ticket_status_raw = Some("BUSY".into()),
            |r| r.chat_status = ChannelStatus::Unknown,
            |r| r.phone_key = None,
        ];
        for edit in edits {
            let mut row = base.clone();
            edit(&mut row);
            assert_ne!(fingerprint(&row), fingerprint(&base), "{row:?}");
        }
        // A value moving from one field to the next is a change too.
        let mut moved = base.clone();
        moved.username = Some(String::new());
        moved.email = Some(format!(
            "{}{}",
            base.username.clone().unwrap_or_default(),
            base.email.clone().unwrap_or_default()
        ));
        assert_ne!(fingerprint(&moved), fingerprint(&base));
        let mut later = base.clone();
        later.first_seen_at = now + chrono::Duration::days(1);
        later.last_changed_at = later.first_seen_at;
        later.last_seen_at = later.first_seen_at;
        assert_eq!(fingerprint(&later), fingerprint(&base));
    }

    #[test]
    fn fingerprints_are_stable_across_builds() {
        // Stored fingerprints are compared by later versions: this value must never change without a bump of
        // FINGERPRINT_VERSION (which makes every stored row compare in full once).
        let row = rows_of(&[agent(7)], "acme", Utc::now()).remove(0);
        assert_eq!(row.fingerprint, Some(GOLDEN_FINGERPRINT));
    }

    const GOLDEN_FINGERPRINT: i64 = 4_735_851_741_794_018_454;
}
