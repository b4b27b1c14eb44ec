//! The integration suite: one binary, every test on a fresh database (SQLite and PostgreSQL) and, where
//! CareSoft is involved, a stand-in on 127.0.0.1 reached by the real client over real HTTP.

mod helpers;

mod alerts;
mod bulk_load;
mod caresoft_client;
mod cli;
mod domains;
mod graphql;
mod graphql_http;
mod hr_source;
mod http;
mod metrics;
mod migrations;
mod pool;
mod reconcile;
mod replicas;
mod runs;
mod seats;
mod selections;
mod subscriptions;
mod sync;
