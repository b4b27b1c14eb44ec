//! The storage layer: the only module that writes SQL on the bridge's own database (the HR query, which an
//! admin writes for the enterprise's database, runs in [`crate::hr::source`]). Every rule about stored data is written here once
//! and asked for by name by GraphQL, the exports, the metrics, the probes, the sync, the HR import and pulls,
//! and the overrides:
//!
//! | rule | where |
//! | --- | --- |
//! | current agent (in CareSoft's latest list) | [`agents::is_current`] |
//! | an agent without a link is UNMATCHED | [`links::match_status`] |
//! | unmatched agents | [`AgentFilter::unmatched`] |
//! | seated employee (MATCHED to a current agent) | [`links::seated_employee_ids`] |
//! | staff without a seat | [`EmployeeFilter::without_seat`] |
//! | who an orphan seat may belong to | [`employees::suggestion_candidates`] |
//! | agents per channel and status | [`agents::status_counts`] |
//! | groups, listed by CareSoft or named by agents | [`groups::listing`] |
//! | latest run, last success, per source (CareSoft, HR) | [`runs::latest`], [`runs::last_success`] |
//! | employees changed since a pull | [`employees::changed_since`] |
//! | one writer at a time | [`begin_write`] |
//! | answers that hold until the next write | [`memo::Memo`], [`memo::write_version`] |
//!
//! Layout, by table: [`agents`] (the mirror and its status and roster history), [`employees`] (HR),
//! [`links`] (matches, candidates, link history, overrides), [`groups`] (CareSoft's group lists), [`runs`]
//! (sync runs), [`history`] (per-agent history for the API), [`pages`] (filtered, keyset-paged lists and
//! their counts); [`bulk`] (bulk writes: chunked statements built ahead, loads into empty tables, generic
//! plans), [`connection`] (pools, migrations, engine limits) and [`lock`] (the write lock, beside the
//! connection).

pub mod agents;
pub mod alerts;
pub mod bulk;
pub mod connection;
pub mod employees;
pub mod groups;
pub mod history;
pub mod links;
pub mod lock;
pub mod memo;
pub mod pages;
pub mod runs;

pub use connection::{connect, connect_and_migrate, ping};
pub use lock::{WriteTxn, begin_bookkeeping, begin_write, try_begin_write};
pub use pages::{AgentFilter, AgentOrder, EmployeeFilter};
