//! From what a run changed to the alerts it raises, written in the run's own transaction.
//!
//! Nothing here scans the mirror: seats are named from the links the run's recompute rewrote and the
//! employees the run made TERMINATED, and run alerts from the run's outcome and its predecessor's.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{agent, employee};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use super::{Alert, AlertKind, AlertRow, MAX_ROWS};
use crate::domain::{EmployeeStatus, MatchStatus, SyncOutcome, SyncSource};
use crate::reconcile::LinkChange;
use crate::store;
use crate::sync::SyncReport;

/// What a run (or an import, or a pull) changed that admins hear about.
#[derive(Debug, Default)]
pub struct Changes<'a> {
    /// The links its recompute rewrote.
    pub links: &'a [LinkChange],
    /// Employees it made TERMINATED (they were ACTIVE before).
    pub terminated: &'a [i64],
    /// The run, if a run made them.
    pub run_id: Option<i64>,
}

/// Raises `seats.unmatched`, `seats.departed` and `review.needed`, one event per kind and CareSoft domain,
/// for what `changes` did. Returns how many events were written.
pub async fn raise_for_changes(
    db: &impl ConnectionTrait,
    changes: Changes<'_>,
    at: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let unmatched: Vec<i64> = changes
        .links
        .iter()
        .filter(|c| {
            c.new.status == MatchStatus::Unmatched && c.old_status != Some(MatchStatus::Unmatched)
        })
        .map(|c| c.agent_id)
        .collect();
    let review: Vec<i64> = changes
        .links
        .iter()
        .filter(|c| {
            matches!(c.new.status, MatchStatus::Ambiguous | MatchStatus::Conflict)
                && c.old_status != Some(c.new.status)
        })
        .map(|c| c.agent_id)
        .collect();
    // Newly matched seats whose employee is TERMINATED, and the seats of employees who just became so.
    let matched: Vec<(i64, i64)> = changes
        .links
        .iter()
        .filter(|c| c.new.status == MatchStatus::Matched)
        // A link rewritten to the same employee (matched by phone once HR changed the email, say) is not
        // news: the seat was reported when it first matched them.
        .filter(|c| {
            c.old_status != Some(MatchStatus::Matched) || c.old_employee_id != c.new.employee_id
        })
        .filter_map(|c| c.new.employee_id.map(|e| (c.agent_id, e)))
        .collect();
    let matched_to: Vec<i64> = matched.iter().map(|(_, e)| *e).collect();
    let statuses = store::employees::statuses(db, &matched_to).await?;
    let mut departed: BTreeMap<i64, i64> = matched
        .into_iter()
        .filter(|(_, e)| statuses.get(e) == Some(&EmployeeStatus::Terminated))
        .collect();
    for (employee, seats) in store::links::seats(db, changes.terminated).await? {
        for seat in seats {
            departed.insert(seat.id, employee);
        }
    }
    if unmatched.is_empty() && review.is_empty() && departed.is_empty() {
        return Ok(0);
    }

    // Every seat's domain (narrow), then the full rows of only the seats the events name.
    let all: Vec<i64> = unmatched
        .iter()
        .chain(&review)
        .chain(departed.keys())
        .copied()
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .collect();
    let domains = store::agents::domains(db, &all).await?;
    // Each kind's seats: (agent, the employee its row names).
    type Seats = Vec<(i64, Option<i64>)>;
    let lists: [(AlertKind, Seats); 3] = [
        (
            AlertKind::SeatsUnmatched,
            unmatched.iter().map(|a| (*a, None)).collect(),
        ),
        (
            AlertKind::SeatsDeparted,
            departed.iter().map(|(a, e)| (*a, Some(*e))).collect(),
        ),
        (
            AlertKind::ReviewNeeded,
            review.iter().map(|a| (*a, None)).collect(),
        ),
    ];
    // (kind, domain) → (how many seats, the first MAX_ROWS of them).
    let mut events: BTreeMap<(usize, &str), (usize, Seats)> = BTreeMap::new();
    for (n, (_, seats)) in lists.iter().enumerate() {
        for (agent_id, employee_id) in seats {
            let Some(domain) = domains.get(agent_id) else {
                continue;
            };
            let (count, named) = events.entry((n, domain.as_str())).or_default();
            *count += 1;
            if named.len() < MAX_ROWS {
                named.push((*agent_id, *employee_id));
            }
        }
    }
    let named: Vec<i64> = events
        .values()
        .flat_map(|(_, seats)| seats.iter().map(|(a, _)| *a))
        .collect();
    let agents: HashMap<i64, agent::Model> = store::agents::by_ids(db, &named)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let employee_ids: Vec<i64> = events
        .values()
        .flat_map(|(_, seats)| seats.iter().filter_map(|(_, e)| *e))
        .collect();
    let employees: HashMap<i64, employee::Model> = store::employees::by_ids(db, &employee_ids)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let status_of: HashMap<i64, MatchStatus> = changes
        .links
        .iter()
        .map(|c| (c.agent_id, c.new.status))
        .collect();

    let mut raised = 0;
    for ((n, domain), (count, seats)) in events {
        let kind = lists[n].0;
        let rows = seats
            .iter()
            .filter_map(|(agent_id, employee_id)| {
                let agent = agents.get(agent_id)?;
                let status = status_of
                    .get(agent_id)
                    .copied()
                    .unwrap_or(MatchStatus::Matched);
                Some(row(
                    agent,
                    status,
                    employee_id.and_then(|id| employees.get(&id)),
                ))
            })
            .collect();
        let mut alert = Alert::new(kind, Some(domain.to_string()), seats_summary(kind, count))
            .count("seats", count);
        alert.rows = rows;
        alert.run_id = changes.run_id;
        store::alerts::raise(db, &alert, at).await?;
        raised += 1;
    }
    Ok(raised)
}

fn row(agent: &agent::Model, status: MatchStatus, employee: Option<&employee::Model>) -> AlertRow {
    AlertRow {
        agent_id: agent.id,
        domain: agent.domain.clone(),
        username: agent.username.clone(),
        email: agent.email.clone(),
        phone_no: agent.phone_no.clone(),
        group_name: agent.group_name.clone(),
        match_status: status.as_str().to_string(),
        employee_code: employee.map(|e| e.employee_code.clone()),
        full_name: employee.and_then(|e| e.full_name.clone()),
    }
}

fn seats_summary(kind: AlertKind, seats: usize) -> String {
    let n = match seats {
        1 => "1 seat".to_string(),
        n => format!("{n} seats"),
    };
    let verb = if seats == 1 { "is" } else { "are" };
    match kind {
        AlertKind::SeatsUnmatched => {
            format!("{n} became unmatched: no employee in HR has their email or phone")
        }
        AlertKind::SeatsDeparted => {
            format!("{n} {verb} held by staff who left (TERMINATED in HR): candidates to reclaim")
        }
        _ => format!(
            "{n} need{} review: their email or phone points at several employees, or at two different ones",
            if seats == 1 { "s" } else { "" }
        ),
    }
}

/// The run alert of a finished run, written in `db`'s transaction (the run's own): `*.failed` and
/// `*.refused` on the first run of a streak (or when the error changes), `*.recovered` on the success
/// that ends one. Dry runs raise none.
pub async fn raise_for_run(
    db: &impl ConnectionTrait,
    report: &SyncReport,
    domain: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let (failed, refused, recovered) = match report.source {
        SyncSource::Caresoft => (
            AlertKind::SyncFailed,
            AlertKind::SyncRefused,
            AlertKind::SyncRecovered,
        ),
        SyncSource::Hr => (
            AlertKind::HrFailed,
            AlertKind::HrRefused,
            AlertKind::HrRecovered,
        ),
    };
    let what = match report.source {
        SyncSource::Caresoft if domain.is_empty() => "CareSoft sync".to_string(),
        SyncSource::Caresoft => format!("CareSoft sync of {domain}"),
        SyncSource::Hr => "HR pull".to_string(),
    };
    let previous = store::runs::previous_end(db, report.source, domain, report.run_id).await?;
    let alert = match (report.outcome, &report.error) {
        (SyncOutcome::Succeeded, _) => {
            let was_failing = previous
                .as_ref()
                .is_some_and(|p| matches!(p.outcome, SyncOutcome::Failed | SyncOutcome::Refused));
            if !was_failing {
                return Ok(false);
            }
            let failures =
                store::runs::failures_before(db, report.source, domain, report.run_id).await?;
            Alert::new(
                recovered,
                domain_of(domain),
                format!(
                    "{what} succeeded again after {failures} failed or refused run{}",
                    if failures == 1 { "" } else { "s" }
                ),
            )
            .count("failures", failures)
        }
        (outcome @ (SyncOutcome::Failed | SyncOutcome::Refused), Some(error)) => {
            let repeated = previous
                .as_ref()
                .is_some_and(|p| p.outcome == outcome && p.error_code == Some(error.code));
            if repeated {
                return Ok(false);
            }
            let (kind, verb) = match outcome {
                SyncOutcome::Refused => (refused, "was refused"),
                _ => (failed, "failed"),
            };
            let mut alert = Alert::new(
                kind,
                domain_of(domain),
                format!("{what} {verb}: {}", error.message),
            )
            .count("fetched", report.counts.fetched)
            .count("removing", report.counts.removed);
            alert.error_code = Some(error.code.as_str().to_string());
            alert
        }
        _ => return Ok(false),
    };
    let mut alert = alert;
    alert.run_id = Some(report.run_id);
    store::alerts::raise(db, &alert, at).await?;
    Ok(true)
}

fn domain_of(domain: &str) -> Option<String> {
    (!domain.is_empty()).then(|| domain.to_string())
}

/// Raises `mirror.stale` when no run of `source` in `domain` succeeded for twice `interval` (or, when none
/// ever did, since the first run), once per stale spell; true when it raised one. Checked by the
/// scheduler at every tick; the write takes the write lock, so replicas raise it once between them.
pub async fn raise_if_stale(
    db: &DatabaseConnection,
    source: SyncSource,
    domain: &str,
    interval: Duration,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let limit = chrono::Duration::from_std(interval * 2).unwrap_or(chrono::Duration::MAX);
    let scope = match source {
        SyncSource::Caresoft => Some(domain),
        SyncSource::Hr => None,
    };
    let since = match store::runs::last_success(db, source, scope).await? {
        Some(last) => Some(last.finished_at),
        None => store::runs::first_run(db, source, domain)
            .await?
            .map(|run| run.started_at),
    };
    let Some(since) = since.filter(|since| now - *since > limit) else {
        return Ok(false);
    };
    let stale_domain = match source {
        SyncSource::Caresoft => domain_of(domain),
        SyncSource::Hr => None,
    };
    let told =
        store::alerts::latest_of_kind(db, AlertKind::MirrorStale.as_str(), stale_domain.as_deref())
            .await?
            .is_some_and(|event| event.at >= since);
    if told {
        return Ok(false);
    }
    let txn = store::begin_write(db).await?;
    let told = store::alerts::latest_of_kind(
        &*txn,
        AlertKind::MirrorStale.as_str(),
        stale_domain.as_deref(),
    )
    .await?
    .is_some_and(|event| event.at >= since);
    if told {
        txn.rollback().await?;
        return Ok(false);
    }
    let hours = (now - since).num_minutes() as f64 / 60.0;
    let what = match source {
        SyncSource::Caresoft => "CareSoft agents",
        SyncSource::Hr => "HR employees",
    };
    let alert = Alert::new(
        AlertKind::MirrorStale,
        stale_domain,
        format!(
            "{what} have not been refreshed for {hours:.1} h (no successful run since {}), more than twice the {} interval",
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            humantime::format_duration(interval)
        ),
    )
    .count("seconds_since_success", (now - since).num_seconds())
    .count("source", source.as_str());
    store::alerts::raise(&*txn, &alert, now).await?;
    txn.commit().await?;
    Ok(true)
}
