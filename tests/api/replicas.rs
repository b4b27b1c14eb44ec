//! Several `caresoft-bridge serve` processes on one PostgreSQL database, as in production: they share the
//! scheduled syncs (about one fetch per interval between them, not one each), one carries on when the other
//! dies, a subscriber on one hears what the other applied, and a slow sync is never overlapped.

use std::time::Duration;

use entity::sync_run;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::helpers::{
    GraphqlWs, ServeProcess, StandIn, TestDb, agent_json, agents_json, eventually, graphql_post,
};

/// The interval the replicas sync at.
const INTERVAL: Duration = Duration::from_secs(1);

/// Finished runs, oldest first.
async fn finished_runs(t: &TestDb) -> Vec<sync_run::Model> {
    sync_run::Entity::find()
        .order_by_asc(sync_run::Column::StartedAt)
        .all(&t.db)
        .await
        .expect("sync runs")
        .into_iter()
        .filter(|run| run.finished_at.is_some())
        .collect()
}

/// Counts the stand-in's requests over `window`.
async fn fetches_during(caresoft: &StandIn, window: Duration) -> usize {
    let before = caresoft.requests().await;
    tokio::time::sleep(window).await;
    caresoft.requests().await - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_fetch_once_per_interval_between_them_and_the_survivor_carries_on() {
    // Arrange: two replicas syncing every second from one stand-in.
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(3)).await;
    let vars = caresoft.serve_vars(&t.url, "1s");
    let (a, b) = tokio::join!(
        ServeProcess::start("replica A", &vars),
        ServeProcess::start("replica B", &vars)
    );
    let mut replicas = [a, b];
    eventually(Duration::from_secs(10), "the start-up sync", || async {
        (!finished_runs(&t).await.is_empty()).then_some(())
    })
    .await;

    // Act: watch N intervals.
    const N: usize = 5;
    let synced_before = replicas.each_ref().map(|r| r.logged("sync finished"));
    let fetched = fetches_during(&caresoft, INTERVAL * N as u32).await;
    let synced = [0, 1].map(|i| replicas[i].logged("sync finished") - synced_before[i]);

    eprintln!(
        "{fetched} fetches in {N} intervals (A synced {}, B {})",
        synced[0], synced[1]
    );

    // Assert: about N fetches, not 2N, and both replicas serve reads meanwhile.
    assert!(
        (N - 2..=N + 1).contains(&fetched),
        "{fetched} fetches in {N} intervals (A synced {}, B {}); one replica alone would make {N}, \
         two uncoordinated ones {}",
        synced[0],
        synced[1],
        2 * N
    );
    for replica in &replicas {
        let (status, body) = graphql_post(
            &reqwest::Client::new(),
            &replica.url("/graphql"),
            None,
            "{ agents { totalCount } }",
        )
        .await;
        assert_eq!(
            (status, body["data"]["agents"]["totalCount"].clone()),
            (StatusCode::OK, json!(3)),
            "{} serves reads",
            replica.name
        );
    }

    // Act: SIGKILL the replica that has been syncing (mid-sync or not: its advisory lock dies with its
    // session).
    let (victim, survivor) = if synced[0] >= synced[1] {
        (0, 1)
    } else {
        (1, 0)
    };
    replicas[victim].kill().await;
    let at_kill = caresoft.requests().await;
    let survivor_synced = replicas[survivor].logged("sync finished");

    // Assert: the survivor takes over within about one interval and keeps one fetch per interval.
    eventually(INTERVAL * 3, "the survivor's first fetch", || async {
        (caresoft.requests().await > at_kill).then_some(())
    })
    .await;
    const M: usize = 3;
    let fetched = fetches_during(&caresoft, INTERVAL * M as u32).await;
    assert!(
        (M - 1..=M + 1).contains(&fetched),
        "{fetched} fetches in {M} intervals after {} died",
        replicas[victim].name
    );
    assert!(
        replicas[survivor].logged("sync finished") >= survivor_synced + M - 1,
        "{} carried on syncing",
        replicas[survivor].name
    );
    let runs = finished_runs(&t).await;
    assert!(
        runs.iter().all(|run| run.outcome.as_str() == "succeeded"),
        "{:?}",
        runs.iter().map(|r| &r.outcome).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_replica_hears_a_status_change_applied_by_another() {
    // Arrange: A syncs every second; B starts after A's first sync with a long interval, so its start-up
    // check finds a fresh success and it never syncs itself.
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(3)).await;
    let a = ServeProcess::start("replica A", &caresoft.serve_vars(&t.url, "1s")).await;
    eventually(Duration::from_secs(10), "A's first sync", || async {
        (!finished_runs(&t).await.is_empty()).then_some(())
    })
    .await;
    let b = ServeProcess::start("replica B", &caresoft.serve_vars(&t.url, "1h")).await;
    let mut ws = GraphqlWs::connect(&b.ws_url()).await;
    ws.init_ok(json!({})).await;
    ws.subscribe(
        "status",
        "subscription { agentStatusChanged { agent { id } channel from to } }",
    )
    .await;
    ws.subscribe("runs", "subscription { syncCompleted { id } }")
        .await;
    // A run announced by A arriving on B proves B's relay is listening before anything changes.
    ws.next_of("runs", Duration::from_secs(10)).await;

    // Act: agent 2 leaves the phone in CareSoft.
    let mut agents = agents_json(3);
    agents[1] = {
        let mut agent = agent_json(2);
        agent["call_status"] = json!("NOT AVAILABLE");
        agent
    };
    caresoft.serve(&agents).await;

    // Assert
    let change = ws.next_of("status", Duration::from_secs(10)).await;
    assert_eq!(
        change["agentStatusChanged"],
        json!({"agent": {"id": "2"}, "channel": "CALL", "from": "AVAILABLE", "to": "NOT_AVAILABLE"})
    );
    assert_eq!(b.logged("sync finished"), 0, "B applied nothing itself");
    assert!(a.logged("sync finished") >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sync_is_never_overlapped_by_the_next_tick_or_an_api_sync() {
    // Arrange: CareSoft answers after longer than the interval; two replicas tick every second.
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let caresoft = StandIn::start().await;
    caresoft
        .respond(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": "ok", "agents": agents_json(3)}))
                .set_delay(Duration::from_millis(1200)),
        )
        .await;
    let vars = caresoft.serve_vars(&t.url, "1s");
    let (a, b) = tokio::join!(
        ServeProcess::start("replica A", &vars),
        ServeProcess::start("replica B", &vars)
    );

    // Act: while a sync is running, admins ask both replicas for one more (they wait their turn).
    eventually(Duration::from_secs(10), "a running sync", || async {
        let runs = sync_run::Entity::find()
            .all(&t.db)
            .await
            .expect("sync runs");
        runs.iter()
            .any(|run| run.finished_at.is_none())
            .then_some(())
    })
    .await;
    let http = reqwest::Client::new();
    let mutation = "mutation { syncNow { outcome } }";
    let (url_a, url_b) = (a.url("/graphql"), b.url("/graphql"));
    let (on_a, on_b) = tokio::join!(
        graphql_post(&http, &url_a, None, mutation),
        graphql_post(&http, &url_b, None, mutation)
    );
    let runs = eventually(Duration::from_secs(15), "four finished runs", || async {
        let runs = finished_runs(&t).await;
        (runs.len() >= 4).then_some(runs)
    })
    .await;

    // Assert: every run ran alone and succeeded.
    for answer in [on_a, on_b] {
        assert_eq!(
            answer.1["data"]["syncNow"]["outcome"], "SUCCEEDED",
            "{answer:?}"
        );
    }
    let all = sync_run::Entity::find()
        .order_by_asc(sync_run::Column::StartedAt)
        .all(&t.db)
        .await
        .expect("sync runs");
    for pair in all.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        let finished = earlier.finished_at.expect("an earlier run has finished");
        assert!(
            later.started_at >= finished,
            "run {} ({}, started {}) overlaps run {} ({}, {} → {})",
            later.id,
            later.trigger,
            later.started_at,
            earlier.id,
            earlier.trigger,
            earlier.started_at,
            finished
        );
    }
    assert!(
        runs.iter().all(|run| run.outcome.as_str() == "succeeded"),
        "{:?}",
        runs.iter()
            .map(|r| (&r.trigger, &r.outcome, &r.error))
            .collect::<Vec<_>>()
    );
    assert!(
        runs.iter()
            .filter(|run| run.trigger.as_str() == "api")
            .count()
            == 2
    );
}
