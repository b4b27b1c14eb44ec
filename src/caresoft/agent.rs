//! The agent as the rest of the app sees it. Wire quirks stay in `wire`; the channel statuses it carries
//! raw are mapped by [`crate::domain::ChannelStatus::from_caresoft`].

use chrono::{DateTime, Utc};

/// One CareSoft agent ("chuyên viên"), decoded and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// CareSoft's numeric id: the mirror's key.
    pub id: i64,
    /// Display name.
    pub username: Option<String>,
    /// Email exactly as sent (may be masked, e.g. `thut***@gmail.com`).
    pub email: Option<String>,
    /// Phone exactly as sent (may be masked, e.g. `08***8`).
    pub phone_no: Option<String>,
    /// The IP-phone extension (a string on the wire; a number is accepted and kept as its decimal text).
    pub agent_id: Option<String>,
    /// Creation time, read in the configured CareSoft time zone.
    pub created_at: Option<DateTime<Utc>>,
    /// Last update time, read in the configured CareSoft time zone.
    pub updated_at: Option<DateTime<Utc>>,
    /// Department id.
    pub group_id: Option<i64>,
    /// Department name.
    pub group_name: Option<String>,
    /// Role id.
    pub role_id: Option<i64>,
    /// Raw `login_status` as sent.
    pub login_status: Option<String>,
    /// Raw `call_status` as sent.
    pub call_status: Option<String>,
    /// Raw `chat_status` as sent.
    pub chat_status: Option<String>,
    /// Raw `ticket_status` as sent.
    pub ticket_status: Option<String>,
}

impl Agent {
    /// Ticket channel raw status: `ticket_status`, else `login_status` (older payloads carry only
    /// `login_status` and `call_status`, and there `login_status` stands for the ticket channel).
    pub fn effective_ticket_status(&self) -> Option<&str> {
        self.ticket_status
            .as_deref()
            .or(self.login_status.as_deref())
    }
}

/// One CareSoft group ("bộ phận", a department) of `GET /{domain}/api/v1/groups`, decoded and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `group_id`: the id agents carry as their `group_id`.
    pub id: i64,
    /// `group_name`.
    pub name: Option<String>,
    /// Creation time, read in the configured CareSoft time zone.
    pub created_at: Option<DateTime<Utc>>,
}
