//! The matching rules and the set-based recompute of `agent_links`, `link_candidates` and `link_history`.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::{agent_link, link_candidate, link_history};
use sea_orm::{ActiveValue::NotSet, ActiveValue::Set, ConnectionTrait, DbErr};

use crate::domain::{LinkCause, MatchMethod, MatchStatus, OverrideKind};
use crate::store;

/// An agent's match as stored in `agent_links`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub status: MatchStatus,
    pub method: Option<MatchMethod>,
    pub employee_id: Option<i64>,
}

/// The outcome of matching one agent: its link and, for AMBIGUOUS and CONFLICT, the candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub link: Link,
    /// (employee id, which key pointed at it), sorted.
    pub candidates: BTreeSet<(i64, MatchMethod)>,
}

/// What a manual override says about an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override {
    /// Linked by an admin to a live employee.
    Link(i64),
    /// A service, test or supervisor seat: never linked, never reported.
    Ignore,
}

/// The employees one key points at: nearly always one, so one needs no allocation of its own.
#[derive(Debug, Clone)]
enum Ids {
    One(i64),
    Many(Vec<i64>),
}

impl Ids {
    fn push(&mut self, id: i64) {
        match self {
            Ids::One(first) => *self = Ids::Many(vec![*first, id]),
            Ids::Many(ids) => ids.push(id),
        }
    }

    fn as_slice(&self) -> &[i64] {
        match self {
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(ids) => ids,
        }
    }
}

/// Keys come from HR and CareSoft, not from API clients, so a fast hasher with per-process seeds is enough.
type KeyMap = HashMap<String, Ids, foldhash::fast::RandomState>;

/// Employees by key, the indexes the rules look up. Built from every employee on each recompute (100,000
/// in the benchmark), hence the care for allocations.
#[derive(Debug, Default)]
pub struct KeyIndex {
    by_email: KeyMap,
    by_phone: KeyMap,
}

impl KeyIndex {
    /// Indexes `(employee id, email key, phone key)` triples.
    pub fn build(
        employees: impl IntoIterator<Item = (i64, Option<String>, Option<String>)>,
    ) -> Self {
        let employees = employees.into_iter();
        let capacity = employees.size_hint().0;
        let mut index = Self {
            by_email: KeyMap::with_capacity_and_hasher(capacity, Default::default()),
            by_phone: KeyMap::with_capacity_and_hasher(capacity, Default::default()),
        };
        let add = |map: &mut KeyMap, key: String, id: i64| match map.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut ids) => ids.get_mut().push(id),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(Ids::One(id));
            }
        };
        for (id, email, phone) in employees {
            if let Some(key) = email {
                add(&mut index.by_email, key, id);
            }
            if let Some(key) = phone {
                add(&mut index.by_phone, key, id);
            }
        }
        index
    }

    fn email(&self, key: Option<&str>) -> &[i64] {
        key.and_then(|k| self.by_email.get(k))
            .map_or(&[], Ids::as_slice)
    }

    fn phone(&self, key: Option<&str>) -> &[i64] {
        key.and_then(|k| self.by_phone.get(k))
            .map_or(&[], Ids::as_slice)
    }
}

/// Applies the precedence of DESIGN.md to one agent: manual link, else email key (one → EMAIL, several →
/// AMBIGUOUS), else phone key (one → PHONE, several → AMBIGUOUS); email hitting exactly A while phone hits
/// exactly a different B is a CONFLICT; nothing is UNMATCHED.
pub fn decide(
    index: &KeyIndex,
    email_key: Option<&str>,
    phone_key: Option<&str>,
    manual: Option<Override>,
) -> Decision {
    let matched = |method, employee_id| Decision {
        link: Link {
            status: MatchStatus::Matched,
            method: Some(method),
            employee_id: Some(employee_id),
        },
        candidates: BTreeSet::new(),
    };
    let flagged = |status, candidates| Decision {
        link: Link {
            status,
            method: None,
            employee_id: None,
        },
        candidates,
    };
    match manual {
        Some(Override::Ignore) => return flagged(MatchStatus::Ignored, BTreeSet::new()),
        Some(Override::Link(employee_id)) => return matched(MatchMethod::Manual, employee_id),
        None => {}
    }
    let by_email = index.email(email_key);
    let by_phone = index.phone(phone_key);
    match (by_email, by_phone) {
        ([a], [b]) if a != b => flagged(
            MatchStatus::Conflict,
            BTreeSet::from([(*a, MatchMethod::Email), (*b, MatchMethod::Phone)]),
        ),
        ([a], _) => matched(MatchMethod::Email, *a),
        ([], [b]) => matched(MatchMethod::Phone, *b),
        ([], []) => flagged(MatchStatus::Unmatched, BTreeSet::new()),
        ([], many) => flagged(
            MatchStatus::Ambiguous,
            many.iter().map(|id| (*id, MatchMethod::Phone)).collect(),
        ),
        (many, _) => flagged(
            MatchStatus::Ambiguous,
            many.iter().map(|id| (*id, MatchMethod::Email)).collect(),
        ),
    }
}

/// What a recompute changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecomputeCounts {
    pub agents: usize,
    pub links_changed: usize,
    /// Manual links whose employee is missing or removed; the agent falls back to the computed match.
    pub dangling_overrides: usize,
}

/// One link a recompute rewrote: what the alerts of a run are computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkChange {
    pub agent_id: i64,
    /// The status before; `None` for an agent that had no link row (seen for the first time).
    pub old_status: Option<MatchStatus>,
    /// The employee the link named before.
    pub old_employee_id: Option<i64>,
    pub new: Link,
}

/// What a recompute did: its counts and the links it rewrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recomputed {
    pub counts: RecomputeCounts,
    pub changes: Vec<LinkChange>,
}

fn stored_link(row: &agent_link::Model) -> Link {
    Link {
        status: row.status,
        method: row.method,
        employee_id: row.employee_id,
    }
}

/// Recomputes the links of every current agent and writes what changed, recording `cause` in the history.
pub async fn recompute<C: ConnectionTrait>(
    db: &C,
    cause: LinkCause,
    now: DateTime<Utc>,
) -> Result<Recomputed, DbErr> {
    recompute_in(db, cause, now, None).await
}

/// [`recompute`] of the current agents of one CareSoft domain (all of them when `None`): what a sync of
/// that domain needs, since an agent's match depends only on its own keys, the employees and the
/// overrides, and the sync changed nothing else.
#[tracing::instrument(skip(db))]
pub async fn recompute_in<C: ConnectionTrait>(
    db: &C,
    cause: LinkCause,
    now: DateTime<Utc>,
    domain: Option<&str>,
) -> Result<Recomputed, DbErr> {
    let agents = store::agents::current_keys(db, domain).await?;
    // One domain's agents need only the employees sharing one of their keys; all agents, the table.
    let employees = match domain {
        None => store::employees::live_keys(db).await?,
        Some(_) => {
            let mut email_keys: Vec<&str> = agents.iter().filter_map(|a| a.1.as_deref()).collect();
            let mut phone_keys: Vec<&str> = agents.iter().filter_map(|a| a.2.as_deref()).collect();
            for keys in [&mut email_keys, &mut phone_keys] {
                keys.sort_unstable();
                keys.dedup();
            }
            store::employees::live_keys_matching(db, &email_keys, &phone_keys).await?
        }
    };

    let mut counts = RecomputeCounts {
        agents: agents.len(),
        ..RecomputeCounts::default()
    };
    let overrides = store::links::overrides(db).await?;
    let codes: Vec<&str> = overrides
        .iter()
        .filter_map(|o| o.employee_code.as_deref())
        .collect();
    let code_to_id = store::employees::live_ids_by_code(db, &codes).await?;
    let mut manual: HashMap<i64, Override> = HashMap::new();
    for row in &overrides {
        match (row.kind, row.employee_code.as_deref()) {
            (OverrideKind::Ignore, _) => {
                manual.insert(row.agent_id, Override::Ignore);
            }
            (OverrideKind::Link, Some(code)) => match code_to_id.get(code) {
                Some(id) => {
                    manual.insert(row.agent_id, Override::Link(*id));
                }
                None => {
                    counts.dangling_overrides += 1;
                    tracing::warn!(
                        agent_id = row.agent_id,
                        employee_code = code,
                        "manual link points at an employee who is no longer in HR; using the computed match"
                    );
                }
            },
            // A manual link that names no employee: nothing to link to, so the computed match stands.
            (OverrideKind::Link, None) => {}
        }
    }

    let index = KeyIndex::build(employees);
    let existing: HashMap<i64, Link> = store::links::all(db, domain)
        .await?
        .iter()
        .map(|row| (row.agent_id, stored_link(row)))
        .collect();
    let mut existing_candidates: HashMap<i64, BTreeSet<(i64, MatchMethod)>> = HashMap::new();
    for row in store::links::all_candidates(db, domain).await? {
        existing_candidates
            .entry(row.agent_id)
            .or_default()
            .insert((row.employee_id, row.via));
    }

    let mut changed_links = Vec::new();
    let mut changes = Vec::new();
    let mut history = Vec::new();
    let mut candidate_agents = Vec::new();
    let mut new_candidates = Vec::new();
    for (agent_id, email_key, phone_key) in &agents {
        let decision = decide(
            &index,
            email_key.as_deref(),
            phone_key.as_deref(),
            manual.get(agent_id).copied(),
        );
        let old = existing.get(agent_id);
        if old != Some(&decision.link) {
            history.push(link_history::ActiveModel {
                id: NotSet,
                agent_id: Set(*agent_id),
                old_status: Set(old.map(|l| l.status)),
                old_method: Set(old.and_then(|l| l.method)),
                old_employee_id: Set(old.and_then(|l| l.employee_id)),
                new_status: Set(decision.link.status),
                new_method: Set(decision.link.method),
                new_employee_id: Set(decision.link.employee_id),
                cause: Set(cause),
                changed_at: Set(now),
            });
            changed_links.push(agent_link::ActiveModel {
                agent_id: Set(*agent_id),
                status: Set(decision.link.status),
                method: Set(decision.link.method),
                employee_id: Set(decision.link.employee_id),
                updated_at: Set(now),
            });
            changes.push(LinkChange {
                agent_id: *agent_id,
                old_status: old.map(|l| l.status),
                old_employee_id: old.and_then(|l| l.employee_id),
                new: decision.link.clone(),
            });
        }
        let empty = BTreeSet::new();
        if existing_candidates.get(agent_id).unwrap_or(&empty) != &decision.candidates {
            candidate_agents.push(*agent_id);
            new_candidates.extend(decision.candidates.iter().map(|(employee_id, via)| {
                link_candidate::ActiveModel {
                    agent_id: Set(*agent_id),
                    employee_id: Set(*employee_id),
                    via: Set(*via),
                }
            }));
        }
    }
    counts.links_changed = changed_links.len();

    store::links::write(
        db,
        store::links::LinkWrites {
            links: changed_links,
            history,
            candidate_agents,
            candidates: new_candidates,
        },
    )
    .await?;
    tracing::debug!(
        agents = counts.agents,
        links_changed = counts.links_changed,
        "links recomputed"
    );
    Ok(Recomputed { counts, changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> KeyIndex {
        KeyIndex::build([
            (
                1,
                Some("an@x.vn".to_string()),
                Some("0901111111".to_string()),
            ),
            (
                2,
                Some("binh@x.vn".to_string()),
                Some("0902222222".to_string()),
            ),
            (
                3,
                Some("shared@x.vn".to_string()),
                Some("0903333333".to_string()),
            ),
            (
                4,
                Some("shared@x.vn".to_string()),
                Some("0903333333".to_string()),
            ),
        ])
    }

    /// (email key, phone key, override) → (status, method, employee).
    type Case<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<Override>,
        MatchStatus,
        Option<MatchMethod>,
        Option<i64>,
    );

    #[test]
    fn the_rules_apply_in_order() {
        let ix = index();
        let cases: &[Case] = &[
            (
                Some("an@x.vn"),
                None,
                None,
                MatchStatus::Matched,
                Some(MatchMethod::Email),
                Some(1),
            ),
            (
                Some("an@x.vn"),
                Some("0901111111"),
                None,
                MatchStatus::Matched,
                Some(MatchMethod::Email),
                Some(1),
            ),
            (
                None,
                Some("0902222222"),
                None,
                MatchStatus::Matched,
                Some(MatchMethod::Phone),
                Some(2),
            ),
            (
                Some("nobody@x.vn"),
                Some("0902222222"),
                None,
                MatchStatus::Matched,
                Some(MatchMethod::Phone),
                Some(2),
            ),
            (
                Some("an@x.vn"),
                Some("0902222222"),
                None,
                MatchStatus::Conflict,
                None,
                None,
            ),
            (
                Some("shared@x.vn"),
                None,
                None,
                MatchStatus::Ambiguous,
                None,
                None,
            ),
            (
                None,
                Some("0903333333"),
                None,
                MatchStatus::Ambiguous,
                None,
                None,
            ),
            // Email hits exactly one, phone hits several: email decides.
            (
                Some("an@x.vn"),
                Some("0903333333"),
                None,
                MatchStatus::Matched,
                Some(MatchMethod::Email),
                Some(1),
            ),
            (None, None, None, MatchStatus::Unmatched, None, None),
            (
                Some("an@x.vn"),
                None,
                Some(Override::Link(2)),
                MatchStatus::Matched,
                Some(MatchMethod::Manual),
                Some(2),
            ),
            (
                Some("an@x.vn"),
                None,
                Some(Override::Ignore),
                MatchStatus::Ignored,
                None,
                None,
            ),
        ];
        for (email, phone, manual, status, method, employee) in cases {
            let d = decide(&ix, *email, *phone, *manual);
            assert_eq!(
                (d.link.status, d.link.method, d.link.employee_id),
                (*status, *method, *employee),
                "{email:?} {phone:?} {manual:?}"
            );
        }
    }

    #[test]
    fn candidates_name_the_key_that_found_them() {
        let ix = index();
        let conflict = decide(&ix, Some("an@x.vn"), Some("0902222222"), None);
        assert_eq!(
            conflict.candidates,
            BTreeSet::from([(1, MatchMethod::Email), (2, MatchMethod::Phone)])
        );
        let ambiguous = decide(&ix, None, Some("0903333333"), None);
        assert_eq!(
            ambiguous.candidates,
            BTreeSet::from([(3, MatchMethod::Phone), (4, MatchMethod::Phone)])
        );
    }
}
