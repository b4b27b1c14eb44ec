//! Alerts: what a run found, told to the admins' chat. DESIGN.md part 2, "Alerts".
//!
//! - [`findings`] turns what a run changed (its outcome, the links its recompute rewrote, the employees it
//!   made TERMINATED) into [`Alert`]s, and writes them to the outbox in the run's own transaction: a crash
//!   after the commit loses none, a rolled-back run (or a dry run) raises none.
//! - [`delivery`] is the worker of `serve` that plans each event's deliveries (one per configured webhook
//!   whose filter wants it) and posts them, at least once, with backoff, leased so that exactly one replica
//!   delivers each.
//! - [`message`] shapes the body for Slack, Microsoft Teams (workflow webhooks), Google Chat or anyone
//!   (the JSON event) and signs it.
//! - [`config`] reads `BRIDGE_ALERT_*`.
//!
//! The SQL lives in [`crate::store::alerts`].

pub mod config;
pub mod delivery;
pub mod findings;
pub mod message;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use config::{AlertSettings, Shape, Webhook};
pub use delivery::Deliverer;

/// The kinds of event, as receivers and `BRIDGE_ALERT_EVENTS` spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// A CareSoft sync failed (the first of a streak, or with a new error code).
    SyncFailed,
    /// A CareSoft sync was refused by the mass-removal guard.
    SyncRefused,
    /// A CareSoft sync succeeded after failed or refused ones.
    SyncRecovered,
    /// A pull of the HR source failed.
    HrFailed,
    /// A pull of the HR source was refused by the mass-removal guard.
    HrRefused,
    /// A pull of the HR source succeeded after failed or refused ones.
    HrRecovered,
    /// No successful run for twice the schedule's interval.
    MirrorStale,
    /// Seats that became UNMATCHED.
    SeatsUnmatched,
    /// Seats of staff who left: their employee became TERMINATED, or they were matched to one.
    SeatsDeparted,
    /// Seats that became AMBIGUOUS or CONFLICT.
    ReviewNeeded,
    /// Sent by `testAlert` or `caresoft-bridge alert-test`.
    Test,
}

impl AlertKind {
    /// Every kind, in the order of DESIGN.md.
    pub const ALL: &'static [AlertKind] = &[
        AlertKind::SyncFailed,
        AlertKind::SyncRefused,
        AlertKind::SyncRecovered,
        AlertKind::HrFailed,
        AlertKind::HrRefused,
        AlertKind::HrRecovered,
        AlertKind::MirrorStale,
        AlertKind::SeatsUnmatched,
        AlertKind::SeatsDeparted,
        AlertKind::ReviewNeeded,
        AlertKind::Test,
    ];

    /// The spelling of the event's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::SyncFailed => "sync.failed",
            AlertKind::SyncRefused => "sync.refused",
            AlertKind::SyncRecovered => "sync.recovered",
            AlertKind::HrFailed => "hr.failed",
            AlertKind::HrRefused => "hr.refused",
            AlertKind::HrRecovered => "hr.recovered",
            AlertKind::MirrorStale => "mirror.stale",
            AlertKind::SeatsUnmatched => "seats.unmatched",
            AlertKind::SeatsDeparted => "seats.departed",
            AlertKind::ReviewNeeded => "review.needed",
            AlertKind::Test => "alert.test",
        }
    }

    /// The kind spelled `text`.
    pub fn parse(text: &str) -> Option<AlertKind> {
        AlertKind::ALL.iter().copied().find(|k| k.as_str() == text)
    }

    /// A short title for chat messages.
    pub fn title(self) -> &'static str {
        match self {
            AlertKind::SyncFailed => "CareSoft sync failed",
            AlertKind::SyncRefused => "CareSoft sync refused",
            AlertKind::SyncRecovered => "CareSoft sync recovered",
            AlertKind::HrFailed => "HR pull failed",
            AlertKind::HrRefused => "HR pull refused",
            AlertKind::HrRecovered => "HR pull recovered",
            AlertKind::MirrorStale => "Mirror is stale",
            AlertKind::SeatsUnmatched => "Seats without an owner",
            AlertKind::SeatsDeparted => "Seats of staff who left",
            AlertKind::ReviewNeeded => "Seats to review",
            AlertKind::Test => "Test alert",
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most rows an event names; its counts say how many there were in all.
pub const MAX_ROWS: usize = 20;

/// One seat an event names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRow {
    pub agent_id: i64,
    pub domain: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone_no: Option<String>,
    pub group_name: Option<String>,
    pub match_status: String,
    pub employee_code: Option<String>,
    pub full_name: Option<String>,
}

/// An event about to be written to the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    pub domain: Option<String>,
    pub summary: String,
    /// Counts by name (`seats`, `failures`, …).
    pub counts: serde_json::Map<String, serde_json::Value>,
    /// Up to [`MAX_ROWS`] seats.
    pub rows: Vec<AlertRow>,
    /// The run that raised it.
    pub run_id: Option<i64>,
    /// A failed or refused run's error code.
    pub error_code: Option<String>,
}

impl Alert {
    /// An event of `kind` saying `summary`, with no counts or rows yet.
    pub fn new(kind: AlertKind, domain: Option<String>, summary: impl Into<String>) -> Self {
        Self {
            kind,
            domain,
            summary: summary.into(),
            counts: serde_json::Map::new(),
            rows: Vec::new(),
            run_id: None,
            error_code: None,
        }
    }

    /// Adds a count.
    pub fn count(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.counts.insert(name.into(), value.into());
        self
    }

    /// The event as receivers get it, with its stable id and time.
    pub fn payload(&self, event_id: &str, at: DateTime<Utc>) -> serde_json::Value {
        serde_json::json!({
            "id": event_id,
            "type": self.kind.as_str(),
            "at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "domain": self.domain,
            "summary": self.summary,
            "counts": self.counts,
            "rows": self.rows,
            "run_id": self.run_id,
            "error_code": self.error_code,
        })
    }
}
