//! Schema migrations of caresoft-bridge, applied in order by `caresoft-bridge migrate` (and by `serve`),
//! or on their own with the `migration` binary. Every migration has an `up` and a `down`.

pub use sea_orm_migration::prelude::*;

mod backfill;

mod m20261124_000001_create_mirror;
mod m20261124_000002_create_reconcile;
mod m20261124_000003_index_status_events_run;
mod m20261201_000001_add_agent_fingerprint;
mod m20261201_000002_index_agents_by_group_and_status;
mod m20261202_000001_add_run_source;
mod m20261202_000002_add_employee_fingerprint;
mod m20261202_000003_add_run_error_code;
mod m20261202_000004_add_search_text;
mod m20261202_000005_add_foreign_keys;
mod m20261202_000006_add_employee_given_name;
mod m20261202_000007_create_write_version;
mod m20261202_000008_create_alerts;
mod m20261203_000001_add_domains_and_groups;
mod m20261204_000001_drop_unused_agent_indexes;
mod m20261207_000001_link_history_without_foreign_keys;

/// All migrations, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_mirror::Migration),
            Box::new(m20261124_000002_create_reconcile::Migration),
            Box::new(m20261124_000003_index_status_events_run::Migration),
            Box::new(m20261201_000001_add_agent_fingerprint::Migration),
            Box::new(m20261201_000002_index_agents_by_group_and_status::Migration),
            Box::new(m20261202_000001_add_run_source::Migration),
            Box::new(m20261202_000002_add_employee_fingerprint::Migration),
            Box::new(m20261202_000003_add_run_error_code::Migration),
            Box::new(m20261202_000004_add_search_text::Migration),
            Box::new(m20261202_000005_add_foreign_keys::Migration),
            Box::new(m20261202_000006_add_employee_given_name::Migration),
            Box::new(m20261202_000007_create_write_version::Migration),
            Box::new(m20261202_000008_create_alerts::Migration),
            Box::new(m20261203_000001_add_domains_and_groups::Migration),
            Box::new(m20261204_000001_drop_unused_agent_indexes::Migration),
            Box::new(m20261207_000001_link_history_without_foreign_keys::Migration),
        ]
    }
}
