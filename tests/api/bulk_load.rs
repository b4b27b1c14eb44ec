//! Loads into empty tables with their indexes (and PostgreSQL foreign keys) built after the rows: the
//! schema comes back exactly as it was, a failure leaves it untouched, a dangling reference still fails,
//! and a table a reader holds is written row by row.

use caresoft_bridge::domain::Trigger;
use caresoft_bridge::hr::{self, ImportOptions};
use caresoft_bridge::store::{self, bulk};
use caresoft_bridge::sync::SyncRequest;
use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::sea_query::{Alias, InsertStatement, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};

use crate::helpers::{StandIn, TestDb, agents_json, scalar};
use crate::on_both_engines;

const TABLES: [&str; 4] = ["agents", "employees", "agent_links", "link_history"];

/// Every index and foreign key of the four bulk-loaded tables, as the engine prints their definitions.
async fn schema_of(db: &impl ConnectionTrait) -> Vec<String> {
    let backend = db.get_database_backend();
    let tables = TABLES.map(|t| format!("'{t}'")).join(", ");
    let sql = match backend {
        DatabaseBackend::Postgres => format!(
            "SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index \
             WHERE indrelid::regclass::text IN ({tables}) \
             UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE conrelid::regclass::text IN ({tables}) ORDER BY 1"
        ),
        _ => format!(
            "SELECT sql AS def FROM sqlite_master WHERE tbl_name IN ({tables}) AND sql IS NOT NULL \
             ORDER BY 1"
        ),
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .expect("schema query");
    rows.iter()
        .map(|row| row.try_get::<String>("", "def").expect("definition"))
        .collect()
}

/// How many secondary (non-unique) indexes `table` has right now.
async fn secondary_indexes(db: &impl ConnectionTrait, table: &str) -> usize {
    schema_of(db)
        .await
        .iter()
        .filter(|def| {
            def.starts_with("CREATE INDEX")
                && (def.contains(&format!(" ON public.{table} "))
                    || def.contains(&format!(" ON \"{table}\""))
                    || def.contains(&format!(" ON {table} ")))
        })
        .count()
}

fn staff_csv(rows: usize) -> String {
    let mut csv = String::from("employee_code,full_name,email,phone,department,status\n");
    for n in 1..=rows {
        // Agents 1..=1000 carry this email; agents 1001..=1100 only share the phone.
        let email = if n <= 1000 {
            format!("agent{n}@acme.vn")
        } else {
            format!("staff{n}@acme.vn")
        };
        csv.push_str(&format!(
            "NV{n:05},Nhân viên {n},{email},09{n:08},Kinh doanh,active\n"
        ));
    }
    csv
}

async fn matched_by(db: &DatabaseConnection, method: &str) -> i64 {
    scalar(
        db,
        &format!(
            "SELECT COUNT(*) FROM agent_links WHERE status = 'MATCHED' AND method = '{method}'"
        ),
    )
    .await
}

on_both_engines!(
    a_first_import_and_sync_into_empty_tables_keep_every_index_and_foreign_key,
    |t: TestDb| async move {
        let before = schema_of(&t.db).await;
        assert!(
            before.len() >= 10,
            "the four tables have their indexes: {before:?}"
        );

        let parsed = hr::parse_employees(staff_csv(1_100).as_bytes()).expect("readable CSV");
        let report = hr::import_rows(&t.db, parsed.rows, parsed.errors, ImportOptions::default())
            .await
            .expect("import");
        assert_eq!(report.added, 1_100);
        assert_eq!(schema_of(&t.db).await, before, "after the first import");

        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(1_200)).await;
        let sync = caresoft
            .syncer(t.db.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("first sync");
        assert_eq!(sync.counts.added, 1_200);
        assert_eq!(schema_of(&t.db).await, before, "after the first sync");

        // The rows are all there and the links right, as a row-by-row load would have left them.
        assert_eq!(t.count("agents").await, 1_200);
        assert_eq!(t.count("agent_links").await, 1_200);
        assert_eq!(t.count("link_history").await, 1_200);
        assert_eq!(matched_by(&t.db, "EMAIL").await, 1_000);
        assert_eq!(matched_by(&t.db, "PHONE").await, 100);
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM agent_links WHERE status = 'UNMATCHED'"
            )
            .await,
            100
        );
        // The rebuilt indexes answer: one agent by group and status, one employee by email key.
        assert_eq!(
            scalar(
                &t.db,
                "SELECT COUNT(*) FROM agents WHERE group_name = 'Chăm sóc khách hàng' \
                 AND call_status = 'AVAILABLE' AND removed_at IS NULL"
            )
            .await,
            1_200
        );

        // A resync into the now full tables goes row by row and changes no definition either.
        let again = caresoft
            .syncer(t.db.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("resync");
        assert_eq!(again.counts.unchanged, 1_200);
        assert_eq!(schema_of(&t.db).await, before);
    }
);

on_both_engines!(
    a_deferred_load_drops_secondary_indexes_only_in_its_transaction,
    |t: TestDb| async move {
        let before = schema_of(&t.db).await;
        let indexes = secondary_indexes(&t.db, "agents").await;
        assert!(indexes >= 2, "agents has secondary indexes: {before:?}");

        let txn = store::begin_write(&t.db).await.expect("write transaction");
        assert!(
            bulk::defer_indexes(&*txn, "agents", bulk::MIN_ROWS - 1)
                .await
                .expect("defer")
                .is_none(),
            "a small load goes row by row"
        );
        let deferred = bulk::defer_indexes(&*txn, "agents", bulk::MIN_ROWS)
            .await
            .expect("defer")
            .expect("an empty table's load is deferred");
        assert_eq!(secondary_indexes(&*txn, "agents").await, 0);
        // Another connection still sees the schema whole (on SQLite, the file before this transaction).
        if t.backend() == DatabaseBackend::Sqlite {
            assert_eq!(schema_of(&t.db).await, before);
        }
        drop(deferred);
        txn.rollback().await.expect("rollback");
        assert_eq!(
            schema_of(&t.db).await,
            before,
            "a rolled-back load restores every index"
        );

        let txn = store::begin_write(&t.db).await.expect("write transaction");
        let deferred = bulk::defer_indexes(&*txn, "agents", bulk::MIN_ROWS)
            .await
            .expect("defer")
            .expect("deferred");
        deferred.rebuild(&*txn).await.expect("rebuild");
        txn.commit().await.expect("commit");
        assert_eq!(
            schema_of(&t.db).await,
            before,
            "a rebuilt table has its definitions back"
        );

        // A table with rows is never touched.
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(3)).await;
        caresoft
            .syncer(t.db.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        let txn = store::begin_write(&t.db).await.expect("write transaction");
        assert!(
            bulk::defer_indexes(&*txn, "agents", 100_000)
                .await
                .expect("defer")
                .is_none()
        );
        txn.rollback().await.expect("rollback");
    }
);

on_both_engines!(
    a_dangling_reference_still_fails_a_deferred_load,
    |t: TestDb| async move {
        let txn = store::begin_write(&t.db).await.expect("write transaction");
        let deferred = bulk::defer_indexes(&*txn, "agent_links", bulk::MIN_ROWS)
            .await
            .expect("defer")
            .expect("an empty table's load is deferred");
        // No agent 424242: the foreign key must refuse the row, at the insert (SQLite keeps its foreign
        // keys) or when it is added back (PostgreSQL).
        let inserted = txn
            .execute_unprepared(
                "INSERT INTO agent_links (agent_id, status, updated_at) \
                 VALUES (424242, 'UNMATCHED', '2026-12-07T10:00:00Z')",
            )
            .await;
        let outcome = match inserted {
            Ok(_) => deferred.rebuild(&*txn).await,
            Err(err) => Err(err),
        };
        let err = outcome.expect_err("a dangling agent id is refused");
        assert!(
            err.to_string().to_lowercase().contains("foreign key"),
            "refused by the foreign key: {err}"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_a_reader_holds_is_loaded_row_by_row_on_postgres() {
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let before = schema_of(&t.db).await;
    // A reporting tool's open transaction that has read the table holds a lock a drop must wait for.
    let reader = t.another_pool().await;
    let reading = sea_orm::TransactionTrait::begin(&reader)
        .await
        .expect("reader");
    scalar(&reading, "SELECT COUNT(*) FROM agents").await;

    let txn = store::begin_write(&t.db).await.expect("write transaction");
    let deferred = bulk::defer_indexes(&*txn, "agents", bulk::MIN_ROWS)
        .await
        .expect("a lock that does not come is not an error");
    assert!(deferred.is_none(), "the load goes row by row");
    // The transaction is still usable, with every index.
    assert_eq!(scalar(&*txn, "SELECT COUNT(*) FROM agents").await, 0);
    assert_eq!(schema_of(&*txn).await, before);
    txn.commit().await.expect("commit");
    reading.rollback().await.expect("reader ends");
}

/// Ten chunks of 100 `(id, chunk)` rows, made as they are taken (counted in `taken`); `repeat` makes that
/// chunk's first row repeat id 0.
fn counted_chunks(
    taken: &AtomicUsize,
    repeat: Option<i64>,
) -> impl Iterator<Item = Vec<(i64, i64)>> + '_ {
    (0..10i64).map(move |chunk| {
        taken.fetch_add(1, Ordering::SeqCst);
        let mut rows: Vec<(i64, i64)> = (chunk * 100..chunk * 100 + 100)
            .map(|id| (id, chunk))
            .collect();
        if repeat == Some(chunk) {
            rows[0].0 = 0;
        }
        rows
    })
}

fn insert_chunk(rows: Vec<(i64, i64)>) -> InsertStatement {
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("chunked"))
        .columns([Alias::new("id"), Alias::new("chunk")]);
    for (id, chunk) in rows {
        insert.values_panic([id.into(), chunk.into()]);
    }
    insert
}

on_both_engines!(
    chunks_are_written_in_order_and_the_first_error_stops_the_rest,
    |t: TestDb| async move {
        // `seq` numbers the rows in the order the database wrote them.
        let seq = match t.backend() {
            DatabaseBackend::Postgres => "seq BIGSERIAL PRIMARY KEY",
            _ => "seq INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        t.db.execute_unprepared(&format!(
            "CREATE TABLE chunked ({seq}, id BIGINT NOT NULL UNIQUE, chunk BIGINT NOT NULL)"
        ))
        .await
        .expect("table");

        let taken = AtomicUsize::new(0);
        bulk::execute_chunks(&t.db, counted_chunks(&taken, None), insert_chunk)
            .await
            .expect("every chunk is written");
        assert_eq!(taken.load(Ordering::SeqCst), 10);
        assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM chunked").await, 1000);
        let out_of_order = "SELECT COUNT(*) FROM chunked a JOIN chunked b \
                            ON a.chunk < b.chunk AND a.seq > b.seq";
        assert_eq!(
            scalar(&t.db, out_of_order).await,
            0,
            "chunks written in order"
        );

        // The third chunk repeats an id: the fourth may have been made while it ran, never written.
        t.db.execute_unprepared("DELETE FROM chunked")
            .await
            .expect("empty");
        let taken = AtomicUsize::new(0);
        let txn = store::begin_write(&t.db).await.expect("write transaction");
        let failed: Result<(), DbErr> =
            bulk::execute_chunks(&*txn, counted_chunks(&taken, Some(2)), insert_chunk).await;
        let err = failed.expect_err("the repeated id is refused");
        assert!(
            err.to_string().to_lowercase().contains("unique"),
            "refused by the unique id: {err}"
        );
        let taken = taken.load(Ordering::SeqCst);
        assert!(
            (3..=4).contains(&taken),
            "made at most one chunk ahead of the failed one: {taken} taken"
        );
        if t.backend() == DatabaseBackend::Sqlite {
            // PostgreSQL's transaction is aborted by the error; SQLite's still reads.
            assert_eq!(
                scalar(&*txn, "SELECT COUNT(*) FROM chunked WHERE chunk >= 2").await,
                0,
                "nothing of the failed chunk or after it"
            );
        }
        txn.rollback().await.expect("rollback");
        assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM chunked").await, 0);
    }
);
