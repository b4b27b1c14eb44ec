//! The sync against a CareSoft stand-in: first sync, idempotence, events, removal and return, the
//! mass-removal guard, dry runs, failures that change nothing, and concurrent syncs.

use caresoft_bridge::domain::{SyncOutcome, Trigger};
use caresoft_bridge::sync::{SyncRequest, Syncer};
use entity::{agent, roster_change, status_event, sync_run};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use wiremock::ResponseTemplate;

use crate::helpers::{StandIn, TestDb, agent_json, agents_json};
use crate::on_both_engines;

async fn sync(syncer: &Syncer) -> caresoft_bridge::sync::SyncReport {
    syncer
        .run(SyncRequest::new(Trigger::Cli))
        .await
        .expect("run is recorded")
}

/// A snapshot of the whole mirror, to prove a failed or refused sync changed nothing.
async fn snapshot(t: &TestDb) -> (Vec<agent::Model>, i64, i64) {
    (
        agent::Entity::find()
            .order_by_asc(agent::Column::Id)
            .all(&t.db)
            .await
            .expect("agents"),
        t.count("status_events").await,
        t.count("roster_changes").await,
    )
}

on_both_engines!(
    first_sync_mirrors_every_agent_and_records_the_run,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(5)).await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");

        let report = sync(&syncer).await;

        assert_eq!(report.outcome, SyncOutcome::Succeeded, "{:?}", report.error);
        assert_eq!(
            (
                report.counts.fetched,
                report.counts.added,
                report.counts.updated
            ),
            (5, 5, 0)
        );
        assert!(report.summary_line().starts_with(
            "sync ok: 5 agents, 5 added, 0 updated, 0 removed, 0 returned, 0 status changes in "
        ));
        let row = agent::Entity::find_by_id(3)
            .one(&t.db)
            .await
            .expect("query")
            .expect("agent 3 mirrored");
        assert_eq!(row.username.as_deref(), Some("Chuyên viên 3"));
        assert_eq!(row.group_name.as_deref(), Some("Chăm sóc khách hàng"));
        assert_eq!(row.chat_status.as_str(), "NOT_AVAILABLE");
        assert_eq!(row.chat_status_raw.as_deref(), Some("NOT AVAILABLE"));
        assert_eq!(row.domain, "acme");
        // 15:17:20 in Vietnam (UTC+7) is 08:17:20 UTC.
        assert_eq!(
            row.created_at.map(|t| t.to_rfc3339()),
            Some("2021-08-25T08:17:20+00:00".into())
        );
        assert_eq!(
            t.count("status_events").await,
            0,
            "a first sighting is the agent row itself, not a status event"
        );
        let run = sync_run::Entity::find_by_id(report.run_id)
            .one(&t.db)
            .await
            .expect("query")
            .expect("run");
        assert_eq!(
            (
                run.outcome.as_str(),
                run.trigger.as_str(),
                run.added,
                run.fetched
            ),
            ("succeeded", "cli", 5, 5)
        );
        assert!(run.finished_at.is_some());
    }
);

on_both_engines!(
    an_identical_second_sync_writes_no_agent_row,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(50)).await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");
        sync(&syncer).await;
        t.count_agent_writes().await;
        let events_before = t.count("status_events").await;

        let report = sync(&syncer).await;

        assert_eq!(report.outcome, SyncOutcome::Succeeded);
        assert_eq!(
            (
                report.counts.unchanged,
                report.counts.updated,
                report.counts.added
            ),
            (50, 0, 0)
        );
        assert_eq!(
            t.agent_writes().await,
            0,
            "no agent row may be written when nothing changed"
        );
        assert_eq!(t.count("status_events").await, events_before);
        assert_eq!(t.count("roster_changes").await, 0);
    }
);

on_both_engines!(
    rows_without_a_fingerprint_are_compared_in_full_and_filled_in_once,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(30)).await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");
        sync(&syncer).await;
        // What a database migrated from a version without fingerprints holds.
        t.db.execute_unprepared("UPDATE agents SET fingerprint = NULL")
            .await
            .expect("clear fingerprints");
        let (before, events, changes) = snapshot(&t).await;

        let report = sync(&syncer).await;

        assert_eq!(report.outcome, SyncOutcome::Succeeded, "{:?}", report.error);
        assert_eq!(
            (
                report.counts.unchanged,
                report.counts.updated,
                report.counts.status_changes
            ),
            (30, 0, 0)
        );
        let (after, events_after, changes_after) = snapshot(&t).await;
        assert_eq!(
            (events_after, changes_after),
            (events, changes),
            "no history for a refill"
        );
        assert!(after.iter().all(|row| row.fingerprint.is_some()));
        let without_fingerprint: Vec<agent::Model> = after
            .into_iter()
            .map(|row| agent::Model {
                fingerprint: None,
                ..row
            })
            .collect();
        assert_eq!(
            without_fingerprint, before,
            "only the fingerprints were written"
        );

        t.count_agent_writes().await;
        sync(&syncer).await;
        assert_eq!(t.agent_writes().await, 0, "filled in once, then matched");
    }
);

on_both_engines!(
    changes_become_status_events_and_roster_changes,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        let mut agents = agents_json(3);
        caresoft.serve(&agents).await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");
        sync(&syncer).await;
        t.count_agent_writes().await;

        agents[0]["call_status"] = "LOGOUT".into();
        agents[0]["chat_status"] = "BUSY".into();
        agents[1]["group_name"] = "Kinh doanh".into();
        agents[1]["group_id"] = 777.into();
        agents[1]["email"] = "moved@acme.vn".into();
        caresoft.serve(&agents).await;
        let report = sync(&syncer).await;

        assert_eq!(report.outcome, SyncOutcome::Succeeded);
        assert_eq!(
            (
                report.counts.updated,
                report.counts.unchanged,
                report.counts.status_changes
            ),
            (2, 1, 2)
        );
        assert_eq!(
            t.agent_writes().await,
            2,
            "only the two changed rows are written"
        );
        let events = status_event::Entity::find()
            .filter(status_event::Column::SyncRunId.eq(report.run_id))
            .order_by_asc(status_event::Column::Channel)
            .all(&t.db)
            .await
            .expect("events");
        let seen: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    e.agent_id,
                    e.channel.as_str(),
                    e.old_status.map(|s| s.as_str()),
                    e.new_status.as_str(),
                    e.new_raw.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (1, "CALL", Some("AVAILABLE"), "LOGOUT", Some("LOGOUT")),
                (1, "CHAT", Some("NOT_AVAILABLE"), "UNKNOWN", Some("BUSY"))
            ]
        );
        let mut fields: Vec<_> = roster_change::Entity::find()
            .filter(roster_change::Column::AgentId.eq(2))
            .all(&t.db)
            .await
            .expect("changes")
            .into_iter()
            .map(|c| (c.field, c.old_value, c.new_value))
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                (
                    "email".into(),
                    Some("agent2@acme.vn".into()),
                    Some("moved@acme.vn".into())
                ),
                ("group_id".into(), Some("15257".into()), Some("777".into())),
                (
                    "group_name".into(),
                    Some("Chăm sóc khách hàng".into()),
                    Some("Kinh doanh".into())
                ),
            ]
        );
        let row = agent::Entity::find_by_id(2)
            .one(&t.db)
            .await
            .expect("query")
            .expect("agent 2");
        assert_eq!(row.email_key.as_deref(), Some("moved@acme.vn"));
    }
);

on_both_engines!(
    a_missing_agent_is_removed_and_a_returning_one_restored,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        let agents = agents_json(10);
        caresoft.serve(&agents).await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");
        let first = sync(&syncer).await;

        caresoft.serve(&agents[..9]).await;
        let report = sync(&syncer).await;
        assert_eq!(
            (report.outcome, report.counts.removed),
            (SyncOutcome::Succeeded, 1)
        );
        let gone = agent::Entity::find_by_id(10)
            .one(&t.db)
            .await
            .expect("query")
            .expect("kept, not deleted");
        assert!(gone.removed_at.is_some());
        let first_run = sync_run::Entity::find_by_id(first.run_id)
            .one(&t.db)
            .await
            .expect("query")
            .expect("run");
        assert_eq!(
            gone.last_seen_at, first_run.started_at,
            "last seen by the sync before the removal"
        );

        caresoft.serve(&agents).await;
        let report = sync(&syncer).await;
        assert_eq!(
            (
                report.counts.returned,
                report.counts.added,
                report.counts.removed
            ),
            (1, 0, 0)
        );
        let back = agent::Entity::find_by_id(10)
            .one(&t.db)
            .await
            .expect("query")
            .expect("agent 10");
        assert_eq!(back.removed_at, None);
        assert_eq!(
            back.first_seen_at, gone.first_seen_at,
            "a return keeps the first sighting"
        );
        let presence: Vec<_> = roster_change::Entity::find()
            .filter(roster_change::Column::AgentId.eq(10))
            .filter(roster_change::Column::Field.eq("presence"))
            .order_by_asc(roster_change::Column::Id)
            .all(&t.db)
            .await
            .expect("changes")
            .into_iter()
            .map(|c| c.new_value.unwrap_or_default())
            .collect();
        assert_eq!(presence, vec!["removed", "current"]);
    }
);

on_both_engines!(
    an_empty_list_is_refused_and_changes_nothing,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(4)).await;
        let syncer = caresoft.syncer(t.db.clone(), "100%");
        sync(&syncer).await;
        let before = snapshot(&t).await;

        caresoft.serve(&[]).await;
        let report = sync(&syncer).await;

        assert_eq!(report.outcome, SyncOutcome::Refused);
        assert_eq!(report.counts.removed, 4, "the refusal reports its numbers");
        let line = report.summary_line();
        assert!(line.starts_with("sync refused: 0 agents"), "{line}");
        assert!(line.contains("--allow-mass-removal"), "{line}");
        assert_eq!(snapshot(&t).await, before);
        let run = sync_run::Entity::find_by_id(report.run_id)
            .one(&t.db)
            .await
            .expect("query")
            .expect("run");
        assert_eq!((run.outcome.as_str(), run.removed), ("refused", 4));
    }
);

on_both_engines!(
    a_large_drop_is_refused_unless_allowed,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        let agents = agents_json(10);
        caresoft.serve(&agents).await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");
        sync(&syncer).await;
        let before = snapshot(&t).await;

        // Three of ten is 30%, over the 20% limit.
        caresoft.serve(&agents[..7]).await;
        let refused = sync(&syncer).await;
        assert_eq!(
            (refused.outcome, refused.counts.removed),
            (SyncOutcome::Refused, 3)
        );
        assert_eq!(snapshot(&t).await, before);

        let allowed = syncer
            .run(SyncRequest {
                allow_mass_removal: true,
                ..SyncRequest::new(Trigger::Cli)
            })
            .await
            .expect("recorded");
        assert_eq!(
            (allowed.outcome, allowed.counts.removed),
            (SyncOutcome::Succeeded, 3)
        );
        let current = agent::Entity::find()
            .filter(agent::Column::RemovedAt.is_null())
            .all(&t.db)
            .await
            .expect("q");
        assert_eq!(current.len(), 7);
    }
);

on_both_engines!(
    a_dry_run_reports_and_changes_nothing,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        let mut agents = agents_json(3);
        caresoft.serve(&agents).await;
        let syncer = caresoft.syncer(t.db.clone(), "50%");
        sync(&syncer).await;
        let before = snapshot(&t).await;

        agents[2]["call_status"] = "NOT AVAILABLE".into();
        agents.push(agent_json(4));
        caresoft.serve(&agents[1..]).await;
        let report = syncer
            .run(SyncRequest {
                dry_run: true,
                ..SyncRequest::new(Trigger::Cli)
            })
            .await
            .expect("recorded");

        assert_eq!(report.outcome, SyncOutcome::DryRun);
        assert_eq!(
            (
                report.counts.added,
                report.counts.removed,
                report.counts.status_changes
            ),
            (1, 1, 1)
        );
        assert!(
            report.preview.iter().any(|l| l == "add 4 (Chuyên viên 4)"),
            "{:?}",
            report.preview
        );
        assert!(
            report
                .preview
                .iter()
                .any(|l| l == "remove 1 (Chuyên viên 1)"),
            "{:?}",
            report.preview
        );
        assert!(report.preview.iter().any(|l| l.starts_with("status 3 (Chuyên viên 3): CALL AVAILABLE -> NOT_AVAILABLE")));
        assert!(report.summary_line().contains("(dry run: nothing changed)"));
        assert_eq!(snapshot(&t).await, before);
    }
);

on_both_engines!(
    a_failed_fetch_changes_nothing_and_records_a_failed_run,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(3)).await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");
        sync(&syncer).await;
        let before = snapshot(&t).await;

        for failure in [
            ResponseTemplate::new(500).set_body_string("upstream exploded"),
            ResponseTemplate::new(200).set_body_string("<html><body>502 Bad Gateway</body></html>"),
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"code": "errors", "message": "Token hết hạn"})),
            ResponseTemplate::new(401),
        ] {
            caresoft.respond(failure).await;
            let report = sync(&syncer).await;
            assert_eq!(report.outcome, SyncOutcome::Failed);
            let line = report.summary_line();
            assert!(line.starts_with("sync failed: 0 agents"), "{line}");
            let run = sync_run::Entity::find_by_id(report.run_id)
                .one(&t.db)
                .await
                .expect("query")
                .expect("run");
            assert_eq!(run.outcome.as_str(), "failed");
            assert!(run.error.as_deref().is_some_and(|e| !e.is_empty()));
            assert!(
                !run.error.unwrap_or_default().contains("test-token"),
                "the token never reaches the record"
            );
            assert_eq!(snapshot(&t).await, before);
        }
    }
);

on_both_engines!(
    duplicate_ids_in_an_answer_fail_without_writing,
    |t: TestDb| async move {
        let caresoft = StandIn::start().await;
        caresoft
            .serve(&[agent_json(1), agent_json(2), agent_json(1)])
            .await;
        let syncer = caresoft.syncer(t.db.clone(), "20%");

        let report = sync(&syncer).await;

        assert_eq!(report.outcome, SyncOutcome::Failed);
        assert!(
            report
                .error
                .as_ref()
                .is_some_and(|e| e.detail.contains('1')),
            "{:?}",
            report.error
        );
        assert_eq!(t.count("agents").await, 0);
    }
);

on_both_engines!(running_twice_is_idempotent, |t: TestDb| async move {
    let caresoft = StandIn::start().await;
    let mut agents = agents_json(20);
    caresoft.serve(&agents).await;
    let syncer = caresoft.syncer(t.db.clone(), "20%");
    sync(&syncer).await;
    agents[4]["ticket_status"] = "LOGOUT".into();
    agents.truncate(19);
    caresoft.serve(&agents).await;

    let first = sync(&syncer).await;
    let after_first = snapshot(&t).await;
    let second = sync(&syncer).await;

    assert_eq!((first.counts.updated, first.counts.removed), (1, 1));
    assert_eq!(
        (
            second.counts.updated,
            second.counts.removed,
            second.counts.unchanged
        ),
        (0, 0, 19)
    );
    assert_eq!(snapshot(&t).await, after_first);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_syncs_on_postgres_do_not_interleave() {
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let caresoft = StandIn::start().await;
    // A slow answer makes both syncs fetch at the same time, so both reach the apply step together.
    caresoft
        .respond(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"code": "ok", "agents": agents_json(200)}))
                .set_delay(std::time::Duration::from_millis(300)),
        )
        .await;
    // Two syncers with their own pools stand for two processes: they share nothing but the database.
    let a = caresoft.syncer(t.another_pool().await, "20%");
    let b = caresoft.syncer(t.another_pool().await, "20%");

    let (ra, rb) = tokio::join!(sync(&a), sync(&b));

    assert_eq!(
        (ra.outcome, rb.outcome),
        (SyncOutcome::Succeeded, SyncOutcome::Succeeded)
    );
    assert_eq!(
        ra.counts.added + rb.counts.added,
        200,
        "the second sync must see the first one's agents"
    );
    assert_eq!(ra.counts.unchanged + rb.counts.unchanged, 200);
    assert_eq!(t.count("agents").await, 200, "every agent is stored once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_sync_skips_while_another_process_holds_the_lock() {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(2)).await;
    let holder = t.another_pool().await;
    let txn = holder.begin().await.expect("begin");
    txn.execute_raw(Statement::from_string(
        sea_orm::DatabaseBackend::Postgres,
        format!(
            "SELECT pg_advisory_xact_lock({})",
            caresoft_bridge::store::lock::SYNC_LOCK_KEY
        ),
    ))
    .await
    .expect("lock taken");
    let syncer = caresoft.syncer(t.db.clone(), "20%");

    let skipped = syncer
        .run_scheduled(chrono::Utc::now())
        .await
        .expect("no database error");

    assert!(skipped.is_none(), "the lock holder syncs; this one skips");
    assert_eq!(caresoft.requests().await, 0, "no fetch without the lock");
    assert_eq!(t.count("sync_runs").await, 0, "a skip records nothing");
    txn.rollback().await.expect("release");
    let ran = syncer
        .run_scheduled(chrono::Utc::now())
        .await
        .expect("runs");
    assert_eq!(ran.map(|r| r.outcome), Some(SyncOutcome::Succeeded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_sync_skips_when_one_succeeded_recently() {
    let t = TestDb::sqlite().await;
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(2)).await;
    let syncer = caresoft.syncer(t.db.clone(), "20%");
    let before = chrono::Utc::now();
    sync(&syncer).await;

    assert!(
        syncer
            .run_scheduled(before)
            .await
            .expect("no error")
            .is_none()
    );
    assert_eq!(caresoft.requests().await, 1);
}

/// An agent list held in memory: the sync needs nothing of CareSoft but [`AgentDirectory`].
#[derive(Debug)]
struct InProcess(Vec<caresoft_bridge::caresoft::Agent>);

impl caresoft_bridge::caresoft::AgentDirectory for InProcess {
    fn fetch_agents(
        &self,
    ) -> futures_util::future::BoxFuture<
        '_,
        Result<Vec<caresoft_bridge::caresoft::Agent>, caresoft_bridge::caresoft::CareSoftError>,
    > {
        let agents = self.0.clone();
        Box::pin(async move { Ok(agents) })
    }

    /// No group list: the groups these tests need are those their agents name.
    fn fetch_groups(
        &self,
    ) -> futures_util::future::BoxFuture<
        '_,
        Result<Vec<caresoft_bridge::caresoft::Group>, caresoft_bridge::caresoft::CareSoftError>,
    > {
        Box::pin(async { Ok(Vec::new()) })
    }
}

fn in_process_agent(id: i64, chat: &str) -> caresoft_bridge::caresoft::Agent {
    caresoft_bridge::caresoft::Agent {
        id,
        username: Some(format!("Chuyên viên {id}")),
        email: Some(format!("cv{id}@acme.vn")),
        phone_no: None,
        agent_id: None,
        created_at: None,
        updated_at: None,
        group_id: Some(1),
        group_name: Some("Chăm sóc khách hàng".into()),
        role_id: None,
        login_status: None,
        call_status: Some("AVAILABLE".into()),
        chat_status: Some(chat.into()),
        ticket_status: None,
    }
}

fn in_process_syncer(t: &TestDb, agents: Vec<caresoft_bridge::caresoft::Agent>) -> Syncer {
    Syncer::new(
        t.db.clone(),
        Ok(std::sync::Arc::new(InProcess(agents))),
        "acme".into(),
        caresoft_bridge::config::MaxRemoval::default(),
    )
}

on_both_engines!(
    a_sync_mirrors_whatever_agent_directory_it_is_given,
    |t: TestDb| async move {
        let first = sync(&in_process_syncer(
            &t,
            vec![
                in_process_agent(1, "AVAILABLE"),
                in_process_agent(2, "LOGOUT"),
            ],
        ))
        .await;
        let second = sync(&in_process_syncer(
            &t,
            vec![
                in_process_agent(1, "NOT AVAILABLE"),
                in_process_agent(2, "LOGOUT"),
            ],
        ))
        .await;

        assert_eq!(first.outcome, SyncOutcome::Succeeded, "{:?}", first.error);
        assert_eq!(first.counts.added, 2);
        assert_eq!(second.outcome, SyncOutcome::Succeeded, "{:?}", second.error);
        assert_eq!(
            (second.counts.updated, second.counts.status_changes),
            (1, 1)
        );
        let row = agent::Entity::find_by_id(1)
            .one(&t.db)
            .await
            .expect("query")
            .expect("agent 1 mirrored");
        assert_eq!(row.chat_status.as_str(), "NOT_AVAILABLE");
    }
);

on_both_engines!(
    a_syncer_without_a_source_records_a_failed_run_naming_the_missing_setting,
    |t: TestDb| async move {
        let missing = caresoft_bridge::config::ConfigError::Missing {
            name: "CARESOFT_API_TOKEN",
            needed_for: "sync",
        };
        let syncer = Syncer::new(
            t.db.clone(),
            Err(missing.into()),
            "acme".into(),
            caresoft_bridge::config::MaxRemoval::default(),
        );

        let report = sync(&syncer).await;

        assert_eq!(report.outcome, SyncOutcome::Failed);
        let error = report.error.expect("an error").detail;
        assert!(error.contains("CARESOFT_API_TOKEN is not set"), "{error}");
        let run = sync_run::Entity::find_by_id(report.run_id)
            .one(&t.db)
            .await
            .expect("query")
            .expect("run recorded");
        assert_eq!(run.outcome.as_str(), "failed");
        assert_eq!(run.error_detail.as_deref(), Some(error.as_str()));
        assert_eq!(run.error_code.map(|c| c.as_str()), Some("NOT_CONFIGURED"));
        assert_eq!(t.count("agents").await, 0);
    }
);
