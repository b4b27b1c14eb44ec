//! Migrations roll back and reapply on both engines, keeping the mirror's rows where the schema allows.

use caresoft_bridge::domain::{SyncOutcome, Trigger};
use caresoft_bridge::sync::SyncRequest;
use entity::{agent, employee};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, EntityTrait};

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
        let parsed = caresoft_bridge::hr::parse_employees(
            "employee_code,full_name,department\nNV1,Đặng Phương Thu Thảo,Chăm sóc khách hàng\n"
                .as_bytes(),
        )
        .expect("CSV");
        caresoft_bridge::hr::import_rows(&t.db, parsed.rows, parsed.errors, Default::default())
            .await
            .expect("import");

        // Schema changes on one connection of their own, as `connect_and_migrate` makes them: on SQLite, DDL
        // spread over a pool's connections can meet a connection whose schema is out of date.
        let ddl = store::connection::migration_pool(&t.url)
            .await
            .expect("a migration connection");
        let index_sql = match t.backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'idx_agents_call_status'"
            }
            _ => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'idx_agents_call_status'"
            }
        };
        assert_eq!(
            crate::helpers::scalar(&t.db, index_sql).await,
            0,
            "unused indexes dropped"
        );
        // The latest migrations (link history without foreign keys, unused agent indexes, domains and
        // groups, the alert outbox, the write version, employees' given names, foreign keys, search text,
        // run error codes, employee fingerprints, run sources).
        Migrator::down(&ddl, Some(11)).await.expect("down 11");
        assert_eq!(t.count("agents").await, 5, "rolling back keeps the rows");
        assert_eq!(
            crate::helpers::scalar(&ddl, index_sql).await,
            1,
            "and restores the indexes"
        );
        Migrator::up(&ddl, None).await.expect("up again");
        assert_eq!(crate::helpers::scalar(&ddl, index_sql).await, 0);
        assert_eq!(
            crate::helpers::scalar(
                &t.db,
                "SELECT COUNT(*) FROM agents WHERE caresoft_id = id AND domain = 'acme'"
            )
            .await,
            5,
            "agents of the single domain keep their ids as CareSoft ids, in their domain"
        );

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
        let staff = employee::Entity::find().all(&db).await.expect("employees");
        assert_eq!(
            (
                staff[0].search_text.as_str(),
                staff[0].given_name.as_deref()
            ),
            (
                "nv1\ndang phuong thu thao\ncham soc khach hang",
                Some("thao")
            ),
            "employees get theirs too"
        );

        Migrator::down(&ddl, None).await.expect("every down");
        Migrator::up(&ddl, None).await.expect("every up");
        assert_eq!(t.count("agents").await, 0);
    }
);

on_both_engines!(
    foreign_keys_refuse_dangling_ids_and_their_migration_refuses_dangling_rows,
    |t: TestDb| async move {
        // Arrange: one agent, one employee.
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(1)).await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");
        syncer
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        let now = "'2026-12-02 10:00:00+00:00'";
        t.db.execute_unprepared(&format!(
            "INSERT INTO employees (id, employee_code, status, created_at, updated_at, search_text) \
             VALUES (1, 'NV1', 'active', {now}, {now}, 'nv1')"
        ))
        .await
        .expect("an employee");
        let candidate = |agent: i64, employee: i64| {
            format!(
                "INSERT INTO link_candidates (agent_id, employee_id, via) VALUES ({agent}, {employee}, 'email')"
            )
        };

        // Act and assert: the schema refuses an id that names nothing.
        t.db.execute_unprepared(&candidate(1, 1))
            .await
            .expect("a valid candidate");
        for (agent, employee) in [(999, 1), (1, 777)] {
            let refused = t.db.execute_unprepared(&candidate(agent, employee)).await;
            assert!(
                refused.is_err(),
                "agent {agent}, employee {employee} was accepted"
            );
        }

        // Without the keys, dangling rows get in; adding the keys then refuses, naming them.
        let ddl = store::connection::migration_pool(&t.url)
            .await
            .expect("a migration connection");
        // Down past the foreign keys (and the given names, the write version, the alert outbox, domains
        // and groups, the unused agent indexes and the link history's keys after them).
        Migrator::down(&ddl, Some(7)).await.expect("down 7");
        ddl.close().await.expect("closed");
        let db = store::connect(&t.url).await.expect("a new pool");
        for (agent, employee) in [(999, 1), (998, 1), (1, 777)] {
            db.execute_unprepared(&candidate(agent, employee))
                .await
                .expect("dangling, unchecked");
        }
        let ddl = store::connection::migration_pool(&t.url)
            .await
            .expect("a migration connection");
        let err = Migrator::up(&ddl, None)
            .await
            .expect_err("dangling rows refuse");
        let message = err.to_string();
        assert!(
            message.contains("2 rows of link_candidates whose agent_id names no row of agents (agents ids 998, 999)"),
            "{message}"
        );
        assert!(message.contains("employees ids 777"), "{message}");
        assert_eq!(t.count("link_candidates").await, 4, "nothing deleted");

        // Once the rows are dealt with, the keys go in.
        db.execute_unprepared("DELETE FROM link_candidates WHERE agent_id > 1 OR employee_id > 1")
            .await
            .expect("cleaned");
        Migrator::up(&ddl, None).await.expect("up once clean");
        ddl.close().await.expect("closed");
        let db = store::connect(&t.url).await.expect("a new pool");
        assert!(db.execute_unprepared(&candidate(999, 1)).await.is_err());
        assert_eq!(t.count("link_candidates").await, 1);
        let report = caresoft
            .syncer(db.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        assert_eq!(report.outcome, SyncOutcome::Succeeded, "{:?}", report.error);
    }
);

/// How many foreign keys `table` has.
async fn foreign_keys(db: &impl ConnectionTrait, table: &str) -> i64 {
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => format!(
            "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'f'"
        ),
        _ => format!("SELECT COUNT(*) FROM pragma_foreign_key_list('{table}')"),
    };
    crate::helpers::scalar(db, &sql).await
}

on_both_engines!(
    the_link_history_declares_its_relations_instead_of_checking_them,
    |t: TestDb| async move {
        // Arrange: agents matched to employees, so that the history names both.
        let parsed = caresoft_bridge::hr::parse_employees(
            "employee_code,full_name,email\nNV1,An,agent1@acme.vn\nNV2,Bình,agent2@acme.vn\n"
                .as_bytes(),
        )
        .expect("CSV");
        caresoft_bridge::hr::import_rows(&t.db, parsed.rows, parsed.errors, Default::default())
            .await
            .expect("import");
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(3)).await;
        caresoft
            .syncer(t.db.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        assert_eq!(t.count("link_history").await, 3);

        // The history has no foreign keys; links and candidates keep theirs.
        assert_eq!(foreign_keys(&t.db, "link_history").await, 0);
        assert_eq!(foreign_keys(&t.db, "agent_links").await, 2);
        assert_eq!(foreign_keys(&t.db, "link_candidates").await, 2);

        // Every id the history holds names a row: the relations it declares hold.
        for (column, parent) in [
            ("agent_id", "agents"),
            ("old_employee_id", "employees"),
            ("new_employee_id", "employees"),
        ] {
            let dangling = crate::helpers::scalar(
                &t.db,
                &format!(
                    "SELECT COUNT(*) FROM link_history h LEFT JOIN {parent} p ON p.id = h.{column} \
                     WHERE h.{column} IS NOT NULL AND p.id IS NULL"
                ),
            )
            .await;
            assert_eq!(dangling, 0, "{column}");
        }
        let named = crate::helpers::scalar(
            &t.db,
            "SELECT COUNT(*) FROM link_history WHERE new_employee_id IS NOT NULL",
        )
        .await;
        assert_eq!(named, 2, "two agents matched by email");

        // On PostgreSQL the table's comment declares the three relations for PostGraphile.
        if t.backend() == sea_orm::DatabaseBackend::Postgres {
            let comment: String =
                t.db.query_one_raw(sea_orm::Statement::from_string(
                    t.backend(),
                    "SELECT obj_description('link_history'::regclass, 'pg_class') AS c",
                ))
                .await
                .expect("comment query")
                .expect("a row")
                .try_get("", "c")
                .expect("a comment");
            let tags: Vec<&str> = comment
                .lines()
                .filter(|line| line.starts_with('@'))
                .collect();
            assert_eq!(
                tags,
                [
                    "@foreignKey (agent_id) references agents (id)",
                    "@foreignKey (old_employee_id) references employees (id)",
                    "@foreignKey (new_employee_id) references employees (id)",
                ],
                "{comment}"
            );
        }

        // One step down brings the keys back, with the rows; up drops them again.
        let ddl = store::connection::migration_pool(&t.url)
            .await
            .expect("a migration connection");
        Migrator::down(&ddl, Some(1)).await.expect("down 1");
        assert_eq!(foreign_keys(&ddl, "link_history").await, 3);
        assert_eq!(
            crate::helpers::scalar(&ddl, "SELECT COUNT(*) FROM link_history").await,
            3
        );
        Migrator::up(&ddl, None).await.expect("up again");
        assert_eq!(foreign_keys(&ddl, "link_history").await, 0);
        assert_eq!(
            crate::helpers::scalar(&ddl, "SELECT COUNT(*) FROM link_history").await,
            3
        );
    }
);
