//! What a run tells afterwards: a run whose process was killed is marked `INTERRUPTED` by the next one, a
//! failure carries a stable `errorCode` and tells read tokens no host, a refusal names the switch of the
//! surface it is read on, and processes sharing one SQLite file (`serve` and CLI commands) never fail
//! each other's writes.

use std::time::Duration;

use entity::sync_run;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use crate::helpers::{
    ServeProcess, StandIn, TestApp, TestDb, agents_json, bridge_command, eventually, graphql_post,
    spawn_app,
};
use crate::on_both_engines;

const ADMIN: &str = "admin-s3cret";
const READER: &str = "reader-s3cret";
const RUNS: &str = "{ syncRuns(first: 5) { id outcome error errorCode finishedAt } }";

/// `caresoft-bridge ARGS` against `t` and `caresoft`.
fn bridge(t: &TestDb, caresoft: &StandIn, args: &[&str]) -> tokio::process::Command {
    bridge_command(t, Some(caresoft), args)
}

async fn runs(t: &TestDb) -> Vec<sync_run::Model> {
    sync_run::Entity::find()
        .order_by_asc(sync_run::Column::Id)
        .all(&t.db)
        .await
        .expect("runs read")
}

async fn scheduled_syncs(t: &TestDb) -> usize {
    runs(t)
        .await
        .iter()
        .filter(|r| r.trigger.as_str() == "schedule")
        .count()
}

async fn with_tokens(t: TestDb, caresoft: StandIn) -> TestApp {
    spawn_app(
        t,
        caresoft,
        &[
            ("BRIDGE_ADMIN_TOKENS", ADMIN),
            ("BRIDGE_READ_TOKENS", READER),
            ("CARESOFT_MAX_ATTEMPTS", "1"),
        ],
    )
    .await
}

async fn data(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app.post(Some(token), query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["errors"].is_null(), "{query}: {body}");
    body["data"].clone()
}

on_both_engines!(
    a_sync_killed_mid_run_is_marked_interrupted_by_the_next_one,
    |t: TestDb| async move {
        // Arrange: CareSoft holds its answer, so the sync is caught between its start and its end.
        let caresoft = StandIn::start().await;
        caresoft
            .respond(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"code": "ok", "agents": agents_json(2)}))
                    .set_delay(Duration::from_secs(60)),
            )
            .await;
        let mut doomed = bridge(&t, &caresoft, &["sync"])
            .spawn()
            .expect("sync starts");
        let running = eventually(
            Duration::from_secs(20),
            "the run to be recorded",
            || async {
                let runs = runs(&t).await;
                (caresoft.requests().await > 0 && !runs.is_empty()).then(|| runs[0].clone())
            },
        )
        .await;
        assert_eq!(running.outcome.as_str(), "running");

        // Act: SIGKILL, then an ordinary sync.
        doomed.start_kill().expect("SIGKILL");
        doomed.wait().await.expect("reaped");
        caresoft.serve(&agents_json(2)).await;
        let next = bridge(&t, &caresoft, &["sync"])
            .output()
            .await
            .expect("sync runs");

        // Assert: the killed run is closed as interrupted, the new one applied.
        assert!(
            next.status.success(),
            "{}",
            String::from_utf8_lossy(&next.stderr)
        );
        let runs = runs(&t).await;
        assert_eq!(runs.len(), 2, "{runs:?}");
        let (killed, next) = (&runs[0], &runs[1]);
        assert_eq!(killed.id, running.id);
        assert_eq!(killed.outcome.as_str(), "interrupted", "{killed:?}");
        assert_eq!(killed.error_code.map(|c| c.as_str()), Some("INTERRUPTED"));
        let finished = killed.finished_at.expect("a finish time");
        assert!(
            finished >= killed.started_at && finished <= next.started_at,
            "{runs:?}"
        );
        assert_eq!(next.outcome.as_str(), "succeeded");
        assert_eq!(t.count("agents").await, 2);
    }
);

on_both_engines!(
    a_refused_sync_now_names_the_graphql_switch,
    |t: TestDb| async move {
        // Arrange: ten agents mirrored, then CareSoft lists one.
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(10)).await;
        let app = with_tokens(t, caresoft).await;
        data(&app, ADMIN, "mutation { syncNow { outcome } }").await;
        app.caresoft.serve(&agents_json(1)).await;

        // Act
        let refused = data(
            &app,
            ADMIN,
            "mutation { syncNow { outcome error errorCode removed } }",
        )
        .await;
        let forced = data(
            &app,
            ADMIN,
            "mutation { syncNow(allowMassRemoval: true) { outcome removed } }",
        )
        .await;

        // Assert
        let refused = &refused["syncNow"];
        assert_eq!(refused["outcome"], "REFUSED", "{refused}");
        assert_eq!(refused["errorCode"], "MASS_REMOVAL", "{refused}");
        let error = refused["error"].as_str().expect("an error");
        assert!(error.contains("would remove 9 of 10"), "{error}");
        assert!(
            error.ends_with("run syncNow(allowMassRemoval: true)"),
            "{error}"
        );
        assert!(!error.contains("--allow"), "{error}");
        assert_eq!(
            forced["syncNow"],
            json!({"outcome": "SUCCEEDED", "removed": 9})
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_tells_readers_its_code_and_no_host_and_admins_the_cause() {
    // Arrange: CareSoft behind a gateway that answers 502 with a page naming its host.
    let caresoft = StandIn::start().await;
    caresoft
        .respond(ResponseTemplate::new(502).set_body_string(
            "<html><body>Bad gateway: upstream gw-07.core.internal (10.20.30.40) refused</body></html>",
        ))
        .await;
    let app = with_tokens(TestDb::sqlite().await, caresoft).await;
    let (_, body) = app
        .post(Some(ADMIN), "mutation { syncNow { outcome } }")
        .await;
    assert_eq!(body["data"]["syncNow"]["outcome"], "FAILED", "{body}");

    // Act
    let reader = data(&app, READER, RUNS).await;
    let admin = data(&app, ADMIN, RUNS).await;

    // Assert
    let (reader, admin) = (&reader["syncRuns"][0], &admin["syncRuns"][0]);
    assert_eq!(reader["errorCode"], "CARESOFT_UNREACHABLE", "{reader}");
    assert_eq!(admin["errorCode"], "CARESOFT_UNREACHABLE", "{admin}");
    let (said, cause) = (
        reader["error"].as_str().expect("a reader's error"),
        admin["error"].as_str().expect("an admin's error"),
    );
    for secret in ["gw-07", "10.20.30.40", "127.0.0.1", "502"] {
        assert!(!said.contains(secret), "a reader sees {secret:?}: {said}");
    }
    assert!(said.contains("CareSoft could not be reached"), "{said}");
    assert!(
        cause.contains("HTTP 502") && cause.contains("gw-07.core.internal"),
        "{cause}"
    );
}

/// `serve` syncing the file every second while CLI commands write to it in a loop: with every write
/// transaction IMMEDIATE, each waits its turn instead of failing with "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_and_cli_commands_share_one_sqlite_file_without_failing() {
    // Arrange
    let t = TestDb::sqlite().await;
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(200)).await;
    let serve = ServeProcess::start("serve", &caresoft.serve_vars(&t.url, "1s")).await;
    let csv = tempfile::NamedTempFile::new().expect("temp file");
    let rows: String = (1..=200)
        .map(|i| format!("NV{i:03},Nhân viên {i},agent{i}@acme.vn,,Chăm sóc khách hàng,active\n"))
        .collect();
    std::fs::write(
        csv.path(),
        format!("employee_code,full_name,email,phone,department,status\n{rows}"),
    )
    .expect("csv written");
    let csv = csv.path().to_str().expect("utf-8 path").to_string();

    // Act: three bursts of 25 rounds of import and ignore (and a sync) against the file `serve` writes
    // every second. Commands that follow each other closely keep SQLite's lock busy, and its busy handler
    // is not fair, so between bursts the test waits for `serve` to complete one more scheduled sync: each
    // burst then overlaps the ticks around it.
    let mut failures = Vec::new();
    let mut round = 0;
    for _ in 0..3 {
        let before = scheduled_syncs(&t).await;
        for _ in 0..25 {
            round += 1;
            let agent = (round % 200 + 1).to_string();
            let mut commands = vec![
                vec!["import-employees", csv.as_str()],
                vec!["ignore", agent.as_str()],
            ];
            if round % 25 == 12 {
                commands.push(vec!["sync"]);
            }
            for args in commands {
                let output = bridge(&t, &caresoft, &args).output().await.expect("runs");
                if !output.status.success() {
                    failures.push(format!(
                        "{args:?}: {} {}",
                        output.status,
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
            }
        }
        eventually(
            Duration::from_secs(30),
            "a scheduled sync after a burst",
            || async { (scheduled_syncs(&t).await > before).then_some(()) },
        )
        .await;
    }

    eprintln!(
        "{round} rounds, {} scheduled syncs",
        scheduled_syncs(&t).await
    );
    // Assert: every command succeeded, and so did every scheduled sync meanwhile.
    assert!(failures.is_empty(), "{failures:#?}\n{}", serve.log());
    // `serve` syncs every second: read the runs between two ticks, when none is still under way.
    let runs = eventually(
        Duration::from_secs(10),
        "a moment with no sync under way",
        || async {
            let runs = runs(&t).await;
            (!runs.iter().any(|r| r.outcome.as_str() == "running")).then_some(runs)
        },
    )
    .await;
    let bad: Vec<_> = runs
        .iter()
        .filter(|r| !matches!(r.outcome.as_str(), "succeeded"))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}\n{}", serve.log());
    let (status, body) = graphql_post(
        &reqwest::Client::new(),
        &serve.url("/graphql"),
        None,
        "{ agents(matchStatus: IGNORED) { totalCount } }",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let ignored = round.min(200);
    assert_eq!(body["data"]["agents"]["totalCount"], ignored, "{body}");
}
