//! caresoft-bridge mirrors CareSoft's agent list into the enterprise database, reconciles each agent with
//! the HR employee table, and serves it all over GraphQL.
//!
//! Module map:
//! - [`config`]: typed settings from the environment, validated at start-up.
//! - [`caresoft`]: the REST client (wire types, retries, errors).
//! - [`sync`]: fetch → diff → apply in one transaction; the guard, dry runs and the run record.
//! - [`reconcile`]: match keys, the matching rules, manual overrides.
//! - [`hr`]: employee CSV parsing and import.
//! - [`export`]: CSV/JSON exports for spreadsheets and reporting tools.
//! - [`db`]: connections and the engine differences.
//! - [`domain`]: the shared vocabulary (channels, statuses, methods) and its stored spellings.
//! - [`cli`]: the commands behind the binary.
//! - [`telemetry`]: logging set-up.

pub mod caresoft;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod export;
pub mod hr;
pub mod reconcile;
pub mod sync;
pub mod telemetry;
