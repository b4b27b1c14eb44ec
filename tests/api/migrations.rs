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
        // The latest migrations (search text, run error codes, employee fingerprints, run sources).
        Migrator::down(&ddl, Some(4)).await.expect("down 4");
        assert_eq!(t.count("agents").await, 5, "rolling back keeps the rows");
        Migrator::up(&ddl, None).await.expect("up again");

        // A new pool, as a process upgraded in place would open: SQLite connections of the old pool keep
        // statements prepared against the columns dropped meanwhile.
        let db = store::connect(&t.url).await.expect("a new pool");
        let syncer = caresoft.syncer(db.clone(), "20%");
        let report = syncer
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync after reapplying");
        assert_eq!(report.outcome, SyncOutcome::Succeeded, "{:?}", report.error);
        assert_eq!((report.counts.unchanged, report.counts.updated), (5, 0));
        let rows = agent::Entity::find().all(&db).await.expect("agents");
        assert!(
            rows.iter().all(|row| row.fingerprint.is_some()),
            "fingerprints are filled in again"
        );
        let agent_1 = rows.iter().find(|row| row.id == 1).expect("agent 1");
        assert_eq!(
            agent_1.search_text, "chuyen vien 1\nagent1@acme.vn\n0900000001\n5001",
            "the search text is folded from the rows already stored"
        );

        Migrator::down(&ddl, None).await.expect("every down");
        Migrator::up(&ddl, None).await.expect("every up");
        assert_eq!(t.count("agents").await, 0);
    }
);
