//! The shared vocabulary of caresoft-bridge: channels and channel statuses, match statuses and methods,
//! employee statuses, sync triggers, sources, outcomes and error codes, link causes and override kinds.
//!
//! Defined in the entity crate ([`entity::vocabulary`]), because the entities store them typed; every
//! other module names them through here.

pub use entity::vocabulary::{
    Channel, ChannelStatus, DeliveryStatus, EmployeeStatus, LinkCause, MatchMethod, MatchStatus,
    OverrideKind, RunErrorCode, SyncOutcome, SyncSource, Trigger,
};
