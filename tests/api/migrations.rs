//! Migrations roll back and reapply on both engines, keeping the mirror's rows where the schema allows.

use caresoft_bridge::domain::{SyncOutcome, Trigger};
use caresoft_bridge::sync::SyncRequest;
use entity::agent;
use migration::{Migrator, MigratorTrait};
use sea_orm::EntityTrait;

use caresoft_bridge::store;

use crate::helpers::{StandIn, TestDb, agents_json};
use crate::on_both_engines;

on_both_engines!(
    the_latest_migrations_roll_back_and_reapply_without_losing_agents,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(5)).await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");
        syncer
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("first sync");

        // Schema changes on one connection of their own, as `connect_and_migrate` makes them: on SQLite, DDL
        // spread over a pool's connections can meet a connection whose schema is out of date.
        let ddl = store::connection::migration_pool(&t.url)
            .await
            .expect("a migration connection");
        // The latest migrations (employee fingerprints, run sources).
        Migrator::down(&ddl, Some(2)).await.expect("down 2");
        assert_eq!(t.count("agents").await, 5, "rolling back keeps the rows");
        Migrator::up(&ddl, None).await.expect("up again");

        let report = syncer
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync after reapplying");
        assert_eq!(report.outcome, SyncOutcome::Succeeded, "{:?}", report.error);
        assert_eq!((report.counts.unchanged, report.counts.updated), (5, 0));
        let rows = agent::Entity::find().all(&t.db).await.expect("agents");
        assert!(
            rows.iter().all(|row| row.fingerprint.is_some()),
            "fingerprints are filled in again"
        );

        Migrator::down(&ddl, None).await.expect("every down");
        Migrator::up(&ddl, None).await.expect("every up");
        assert_eq!(t.count("agents").await, 0);
    }
);
