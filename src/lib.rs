//! caresoft-bridge mirrors CareSoft's agent list into the enterprise database, reconciles each agent with
//! the HR employee table, and serves it all over GraphQL.
//!
//! Module map:
//! - [`alerts`]: what a run found, told to webhooks: the outbox, delivery, message shapes.
//! - [`app`]: the running service (HTTP server, scheduler) wired together.
//! - [`http`]: the axum router, GraphQL over HTTP, the IDE, health probes.
//! - [`config`]: typed settings from the environment, validated at start-up.
//! - [`caresoft`]: the REST client (wire types, retries, errors).
//! - [`sync`]: fetch → diff → apply in one transaction; the guard, dry runs and the run record.
//! - [`reconcile`]: match keys, the matching rules, manual overrides.
//! - [`hr`]: employee CSV parsing and import.
//! - [`metrics`]: Prometheus metrics.
//! - [`export`]: CSV/JSON exports for spreadsheets and reporting tools.
//! - [`seats`]: the seat report: its lists, counts, costs and reasons.
//! - [`store`]: the storage layer: every SQL statement and every rule about stored data, by name; the
//!   connections and the write lock.
//! - [`graphql`]: the GraphQL schema (types, roots, loaders, auth).
//! - [`events`]: live events for subscribers.
//! - [`demo`]: the self-contained showcase (sample data, CareSoft stand-in).
//! - [`domain`]: the shared vocabulary (channels, statuses, methods) and its stored spellings.
//! - [`cli`]: the commands behind the binary.
//! - [`telemetry`]: logging set-up.

pub mod alerts;
pub mod app;
pub mod caresoft;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod events;
pub mod export;
pub mod fingerprint;
pub mod graphql;
pub mod hr;
pub mod http;
pub mod metrics;
pub mod reconcile;
pub mod seats;
pub mod store;
pub mod sync;
pub mod telemetry;
