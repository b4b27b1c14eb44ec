//! The shared vocabulary of caresoft-bridge: channels, match statuses and methods, employee statuses, sync
//! triggers and outcomes, with the spellings stored in the database (which are also the GraphQL enum values).

pub use crate::caresoft::ChannelStatus;

macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

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
    }
}

stored_enum! {
    /// What caused a link to change.
    LinkCause { Sync => "sync", Import => "import", Override => "override" }
}
