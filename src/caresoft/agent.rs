//! The agent as the rest of the app sees it, and the channel-status vocabulary. Wire quirks stay in `wire`.

use std::fmt;

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

/// The status of one channel (call, chat, ticket), as the GraphQL `ChannelStatus` enum spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelStatus {
    /// `AVAILABLE`.
    Available,
    /// `NOT AVAILABLE` on the wire.
    NotAvailable,
    /// `LOGOUT`.
    Logout,
    /// Anything else, or nothing sent.
    Unknown,
}

impl ChannelStatus {
    /// Maps a raw CareSoft status: "AVAILABLE", "NOT AVAILABLE" (also "NOT_AVAILABLE"), "LOGOUT";
    /// trimmed and case-insensitive; anything else or `None` is `Unknown`.
    pub fn from_raw(raw: Option<&str>) -> Self {
        let Some(raw) = raw else {
            return Self::Unknown;
        };
        // Normalise separators so "NOT AVAILABLE", "NOT_AVAILABLE" and "not  available" compare equal.
        let normalised = raw
            .replace('_', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if normalised.eq_ignore_ascii_case("AVAILABLE") {
            Self::Available
        } else if normalised.eq_ignore_ascii_case("NOT AVAILABLE") {
            Self::NotAvailable
        } else if normalised.eq_ignore_ascii_case("LOGOUT") {
            Self::Logout
        } else {
            Self::Unknown
        }
    }

    /// The GraphQL enum spelling: "AVAILABLE", "NOT_AVAILABLE", "LOGOUT", "UNKNOWN".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::NotAvailable => "NOT_AVAILABLE",
            Self::Logout => "LOGOUT",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// The inverse of [`ChannelStatus::as_str`] (exact spelling only: this reads our own output).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "AVAILABLE" => Some(Self::Available),
            "NOT_AVAILABLE" => Some(Self::NotAvailable),
            "LOGOUT" => Some(Self::Logout),
            "UNKNOWN" => Some(Self::Unknown),
            _ => None,
        }
    }
}

impl fmt::Display for ChannelStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_statuses_map_case_and_separator_insensitively() {
        assert_eq!(
            ChannelStatus::from_raw(Some(" available ")),
            ChannelStatus::Available
        );
        assert_eq!(
            ChannelStatus::from_raw(Some("NOT AVAILABLE")),
            ChannelStatus::NotAvailable
        );
        assert_eq!(
            ChannelStatus::from_raw(Some("not_available")),
            ChannelStatus::NotAvailable
        );
        assert_eq!(
            ChannelStatus::from_raw(Some("LOGOUT")),
            ChannelStatus::Logout
        );
        assert_eq!(
            ChannelStatus::from_raw(Some("BUSY")),
            ChannelStatus::Unknown
        );
        assert_eq!(ChannelStatus::from_raw(Some("")), ChannelStatus::Unknown);
        assert_eq!(ChannelStatus::from_raw(None), ChannelStatus::Unknown);
    }

    #[test]
    fn as_str_and_parse_round_trip() {
        for s in [
            ChannelStatus::Available,
            ChannelStatus::NotAvailable,
            ChannelStatus::Logout,
            ChannelStatus::Unknown,
        ] {
            assert_eq!(ChannelStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ChannelStatus::parse("NOT AVAILABLE"), None);
    }
}
