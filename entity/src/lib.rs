//! sea-orm entities of caresoft-bridge. They are storage only: the GraphQL layer maps them to its own types
//! in one place (`caresoft_bridge::graphql::types`), so a column rename never changes the public API.

pub mod agent;
pub mod agent_link;
pub mod alert_attempt;
pub mod alert_delivery;
pub mod alert_event;
pub mod caresoft_group;
pub mod employee;
pub mod group_change;
pub mod link_candidate;
pub mod link_history;
pub mod link_override;
pub mod roster_change;
pub mod search;
pub mod status_event;
pub mod sync_run;
pub mod vocabulary;
