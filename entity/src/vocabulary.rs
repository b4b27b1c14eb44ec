//! The shared vocabulary of caresoft-bridge: channels and their statuses, match statuses and methods,
//! employee statuses, sync triggers, sources, outcomes and error codes, link causes and override kinds,
//! each with the spelling stored in the database (which is also the GraphQL enum value where the API shows it).
//!
//! The entities store these typed (sea-orm active enums), so a value this program did not write is a
//! decoding error naming the value, not a silent default. They live here, below the entities, because an
//! entity crate cannot depend on the application; `caresoft_bridge::domain` re-exports them.

use sea_orm::entity::prelude::*;

macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        pub enum $name { $($(#[$vmeta])* #[sea_orm(string_value = $text)] $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value for a stored spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum! {
    /// A CareSoft channel.
    Channel { Call => "CALL", Chat => "CHAT", Ticket => "TICKET" }
}

stored_enum! {
    /// The status of one channel, as the GraphQL `ChannelStatus` enum spells it (CareSoft's own spellings
    /// are read by [`ChannelStatus::from_caresoft`]).
    ChannelStatus {
        /// `AVAILABLE`.
        Available => "AVAILABLE",
        /// `NOT AVAILABLE` on the wire.
        NotAvailable => "NOT_AVAILABLE",
        /// `LOGOUT`.
        Logout => "LOGOUT",
        /// Anything else, or nothing sent.
        Unknown => "UNKNOWN",
    }
}

impl ChannelStatus {
    /// Maps a status as CareSoft sends it: "AVAILABLE", "NOT AVAILABLE" (also "NOT_AVAILABLE"), "LOGOUT";
    /// trimmed and case-insensitive; anything else or `None` is `Unknown` (DESIGN.md, "CareSoft facts").
    pub fn from_caresoft(raw: Option<&str>) -> Self {
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
}

stored_enum! {
    /// How an agent relates to the HR table.
    MatchStatus {
        Matched => "MATCHED",
        Unmatched => "UNMATCHED",
        Ambiguous => "AMBIGUOUS",
        Conflict => "CONFLICT",
        Ignored => "IGNORED",
    }
}

stored_enum! {
    /// Which rule produced a match.
    MatchMethod { Email => "EMAIL", Phone => "PHONE", Manual => "MANUAL" }
}

stored_enum! {
    /// An employee's HR status.
    EmployeeStatus { Active => "active", Terminated => "terminated" }
}

stored_enum! {
    /// What started a sync.
    Trigger { Cli => "cli", Schedule => "schedule", Api => "api" }
}

stored_enum! {
    /// How a sync run ended.
    SyncOutcome {
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Refused => "refused",
        DryRun => "dry_run",
        /// Its process died before it finished (killed, crashed, power lost); the next run that takes the
        /// lock says so.
        Interrupted => "interrupted",
    }
}

stored_enum! {
    /// Why a run did not apply, as a stable code clients may branch on (`SyncRun.errorCode`).
    RunErrorCode {
        /// CareSoft refused the API token (HTTP 401/403).
        CaresoftUnauthorized => "CARESOFT_UNAUTHORIZED",
        /// CareSoft could not be reached, timed out, or answered 5xx on every attempt.
        CaresoftUnreachable => "CARESOFT_UNREACHABLE",
        /// CareSoft's rate limit.
        CaresoftRateLimited => "CARESOFT_RATE_LIMITED",
        /// CareSoft answered something the bridge will not mirror.
        CaresoftBadAnswer => "CARESOFT_BAD_ANSWER",
        /// The mass-removal guard refused the run.
        MassRemoval => "MASS_REMOVAL",
        /// The HR source could not be read (connection, query, timeout, columns, file).
        HrQueryFailed => "HR_QUERY_FAILED",
        /// The HR source returned rows that fail validation.
        HrBadRows => "HR_BAD_ROWS",
        /// The bridge's own database failed.
        Database => "DATABASE",
        /// The source is not configured.
        NotConfigured => "NOT_CONFIGURED",
        /// The run's process died before it finished.
        Interrupted => "INTERRUPTED",
    }
}

stored_enum! {
    /// What caused a link to change.
    LinkCause {
        Sync => "sync",
        Import => "import",
        Override => "override",
        /// A pull of the HR source (`HR_DATABASE_URL` or `HR_FILE`).
        Hr => "hr",
    }
}

stored_enum! {
    /// What a run reads: CareSoft's agent list, or the enterprise's HR source.
    SyncSource { Caresoft => "caresoft", Hr => "hr" }
}

stored_enum! {
    /// An admin's manual decision about an agent.
    OverrideKind {
        /// Linked to an employee, whatever the keys say.
        Link => "link",
        /// A service, test or supervisor seat: never linked, never reported.
        Ignore => "ignore",
    }
}

stored_enum! {
    /// Where the delivery of an alert to one webhook stands.
    DeliveryStatus {
        /// Not delivered yet: waiting for its first attempt or for a retry.
        Pending => "PENDING",
        /// The webhook answered 2xx.
        Delivered => "DELIVERED",
        /// Given up: the webhook refused it (4xx other than 408 and 429) or every attempt failed.
        Failed => "FAILED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caresoft_statuses_map_case_and_separator_insensitively() {
        let cases = [
            (Some(" available "), ChannelStatus::Available),
            (Some("NOT AVAILABLE"), ChannelStatus::NotAvailable),
            (Some("not_available"), ChannelStatus::NotAvailable),
            (Some("LOGOUT"), ChannelStatus::Logout),
            (Some("BUSY"), ChannelStatus::Unknown),
            (Some(""), ChannelStatus::Unknown),
            (None, ChannelStatus::Unknown),
        ];
        for (raw, status) in cases {
            assert_eq!(ChannelStatus::from_caresoft(raw), status, "{raw:?}");
        }
    }

    #[test]
    fn stored_spellings_round_trip() {
        for status in ChannelStatus::ALL {
            assert_eq!(ChannelStatus::parse(status.as_str()), Some(*status));
            assert_eq!(
                ChannelStatus::try_from_value(&status.to_value()).ok(),
                Some(*status)
            );
        }
        assert_eq!(ChannelStatus::parse("NOT AVAILABLE"), None);
    }

    #[test]
    fn a_value_this_program_did_not_write_is_an_error_naming_it() {
        let err = MatchStatus::try_from_value(&"MATCHD".to_string()).expect_err("unknown value");
        assert!(err.to_string().contains("MATCHD"), "{err}");
    }
}
