//! Subscriptions over WebSocket at `/graphql/ws` (graphql-transport-ws), served in-process: who may
//! subscribe, `syncCompleted` on both engines (in-process bus on SQLite, NOTIFY and the relay on
//! PostgreSQL), and the public `graphql-ws` npm client, for subscriptions and for queries and mutations
//! sent over the same socket.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{GraphqlWs, StandIn, TestApp, TestDb, WsFrame, agents_json, spawn_app};
use crate::on_both_engines;

const ADMIN: &str = "admin-s3cret";
const READER: &str = "reader-s3cret";
const SYNC_NOW: &str = "mutation { syncNow { id } }";

async fn with_tokens(t: TestDb) -> TestApp {
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(3)).await;
    spawn_app(
        t,
        caresoft,
        &[
            ("BRIDGE_ADMIN_TOKENS", ADMIN),
            ("BRIDGE_READ_TOKENS", READER),
        ],
    )
    .await
}

/// Runs `syncNow` as an admin and returns the run id.
async fn sync_now(app: &TestApp) -> String {
    let (status, body) = app.post(Some(ADMIN), SYNC_NOW).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["syncNow"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a run id: {body}"))
        .to_string()
}

/// Triggers syncs until subscription `id` delivers (graphql-transport-ws does not acknowledge `subscribe`,
/// and on PostgreSQL the relay may still be connecting, so the first run may go unheard). Returns the
/// event and the ids of the runs triggered.
async fn sync_until_delivered(app: &TestApp, ws: &mut GraphqlWs, id: &str) -> (Value, Vec<String>) {
    let mut triggered = Vec::new();
    for _ in 0..5 {
        triggered.push(sync_now(app).await);
        if let Some(data) = ws.try_next_of(id, Duration::from_secs(2)).await {
            return (data, triggered);
        }
    }
    panic!("no event on {id} after runs {triggered:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_without_a_valid_token_is_refused() {
    let app = with_tokens(TestDb::sqlite().await).await;
    let subscribe = json!({"id": "runs", "type": "subscribe", "payload": {"query": "subscription { syncCompleted { id } }"}});

    for (what, payload) in [
        ("no token", json!({})),
        ("a wrong token", json!({"Authorization": "Bearer wrong"})),
        ("a wrong bare token", json!({"token": "wrong"})),
        (
            "a wrong token in headers",
            json!({"headers": {"authorization": "Bearer wrong"}}),
        ),
    ] {
        // Act
        let mut ws = GraphqlWs::connect(&app.ws_url()).await;
        let answer = ws.init(payload).await;
        // Subscribing anyway, then a sync: nothing may flow.
        ws.try_send(subscribe.clone()).await;
        sync_now(&app).await;
        let after = ws.receive(Duration::from_millis(500)).await;

        // Assert
        match &answer {
            WsFrame::Closed(Some((_, reason))) => assert!(
                reason.contains("authentication required"),
                "{what}: {answer:?}"
            ),
            other => panic!("{what}: expected the socket closed, got {other:?}"),
        }
        assert!(
            !matches!(after, WsFrame::Message(_)),
            "{what}: data flowed: {after:?}"
        );
    }

    // Without any connection_init, a subscribe is refused too.
    let mut ws = GraphqlWs::connect(&app.ws_url()).await;
    ws.send(subscribe.clone()).await;
    sync_now(&app).await;
    let answer = ws.receive(Duration::from_secs(2)).await;
    assert!(matches!(answer, WsFrame::Closed(_)), "{answer:?}");
}

on_both_engines!(
    sync_completed_reaches_a_reader_after_sync_now,
    |t: TestDb| async move {
        // Arrange: a subscriber with a read token.
        let app = with_tokens(t).await;
        let mut ws = GraphqlWs::connect(&app.ws_url()).await;
        ws.init_ok(json!({"Authorization": format!("Bearer {READER}")}))
            .await;
        ws.subscribe(
            "runs",
            "subscription { syncCompleted { id trigger outcome fetched finishedAt } }",
        )
        .await;

        // Act
        let (event, triggered) = sync_until_delivered(&app, &mut ws, "runs").await;

        // Assert: the run the mutation made, finished.
        let run = &event["syncCompleted"];
        assert!(
            triggered.iter().any(|id| run["id"] == json!(id)),
            "{run} is one of {triggered:?}"
        );
        assert_eq!(
            (
                run["trigger"].clone(),
                run["outcome"].clone(),
                run["fetched"].clone()
            ),
            (json!("API"), json!("SUCCEEDED"), json!(3))
        );
        assert!(run["finishedAt"].is_string(), "{run}");
    }
);

/// The folder of the Node scripts that drive the public `graphql-ws` client, or `None` (the test says it
/// is skipped) when its packages are not installed outside CI.
fn graphql_ws_scripts() -> Option<&'static str> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/graphql-audit");
    if std::path::Path::new(dir)
        .join("node_modules/graphql-ws")
        .exists()
    {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI=true but {dir}/node_modules/graphql-ws is missing: run `npm ci` there (scripts/test does)"
        );
    }
    eprintln!(
        "SKIPPED: {dir}/node_modules/graphql-ws is missing (run scripts/test or `npm ci` there); \
         the graphql-ws client did not run"
    );
    None
}

/// The public `graphql-ws` client (npm), driven by `scripts/graphql-audit/subscribe.mjs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_graphql_ws_client_subscribes() {
    let Some(dir) = graphql_ws_scripts() else {
        return;
    };
    let app = with_tokens(TestDb::sqlite().await).await;
    let run = |token: &'static str| {
        tokio::process::Command::new("node")
            .arg(format!("{dir}/subscribe.mjs"))
            .arg(app.url("/graphql"))
            .arg(token)
            .kill_on_drop(true)
            .output()
    };

    // Act
    let (accepted, refused) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(30), run(ADMIN)),
        tokio::time::timeout(Duration::from_secs(30), run("wrong"))
    );
    let accepted = accepted.expect("node finishes").expect("node runs");
    let refused = refused.expect("node finishes").expect("node runs");

    // Assert
    let stdout = String::from_utf8_lossy(&accepted.stdout);
    assert!(
        accepted.status.success(),
        "graphql-ws client failed: {}\n{stdout}\n{}",
        accepted.status,
        String::from_utf8_lossy(&accepted.stderr)
    );
    let printed: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(printed["event"]["outcome"], "SUCCEEDED", "{printed}");
    assert!(
        printed["triggered"]
            .as_array()
            .is_some_and(|ids| ids.contains(&printed["event"]["id"])),
        "the event is a run the client triggered: {printed}"
    );
    assert!(
        !refused.status.success() && refused.stdout.is_empty(),
        "a wrong token gets nothing: {}\n{}",
        refused.status,
        String::from_utf8_lossy(&refused.stderr)
    );
}

/// What matters of an answer for comparing transports: the data, and each error's message and code.
fn essence(answer: &Value) -> Value {
    let errors: Vec<Value> = answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| json!([e["message"], e["extensions"]["code"]]))
                .collect()
        })
        .unwrap_or_default();
    json!({"data": answer.get("data").cloned().unwrap_or(Value::Null), "errors": errors})
}

/// Runs `operations` over `/graphql/ws` with the public `graphql-ws` client (`operate.mjs`).
async fn over_websocket(dir: &str, app: &TestApp, token: &str, operations: &[Value]) -> Vec<Value> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("node")
        .arg(format!("{dir}/operate.mjs"))
        .arg(app.url("/graphql"))
        .arg(token)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().expect("a stdin");
    stdin
        .write_all(json!(operations).to_string().as_bytes())
        .await
        .expect("operations written");
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("node finishes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "graphql-ws client failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("one JSON array")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_and_mutations_over_the_websocket_answer_as_over_http() {
    let Some(dir) = graphql_ws_scripts() else {
        return;
    };
    // Arrange: a mirrored domain, and a set of operations with pages, relations, a refused mutation and
    // an invalid document.
    let app = with_tokens(TestDb::sqlite().await).await;
    let (status, body) = app
        .post(
            Some(ADMIN),
            r#"mutation { upsertEmployees(rows: [{employeeCode: "NV1", fullName: "Nguyễn Văn Một", email: "agent1@acme.vn"}]) { added } }"#,
        )
        .await;
    assert_eq!(
        (status, &body["data"]["upsertEmployees"]["added"]),
        (StatusCode::OK, &json!(1)),
        "{body}"
    );
    sync_now(&app).await;
    let reads = [
        "{ agents(first: 2) { totalCount pageInfo { hasNextPage } nodes { id username matchStatus employee { employeeCode } statusEvents { channel } } } }",
        "query Named { unmatchedAgents(first: 5) { totalCount edges { node { id } } } groups { name agentCount } }",
        "{ employees(first: 2) { totalCount nodes { employeeCode agents { id matchedBy } } } }",
        "{ agent(id: \"1\") { id email } }",
        "mutation { syncNow(dryRun: true) { outcome } }",
        "{ noSuchField }",
    ];
    let operations: Vec<Value> = reads.iter().map(|q| json!({"query": q})).collect();

    for token in [READER, ADMIN] {
        // Act
        let websocket = over_websocket(dir, &app, token, &operations).await;
        let mut http = Vec::new();
        for query in reads {
            http.push(app.post(Some(token), query).await.1);
        }

        // Assert: the same answers, operation by operation.
        assert_eq!(websocket.len(), reads.len(), "{websocket:?}");
        for ((query, ws), http) in reads.iter().zip(&websocket).zip(&http) {
            assert_eq!(essence(ws), essence(http), "{token}: {query}");
        }
        assert_eq!(
            websocket[0]["data"]["agents"]["totalCount"], 3,
            "{}",
            websocket[0]
        );
        assert_eq!(
            websocket[2]["data"]["employees"]["nodes"][0]["agents"],
            json!([{"id": "1", "matchedBy": "EMAIL"}]),
            "{}",
            websocket[2]
        );
        let dry_run = &essence(&websocket[4]);
        if token == READER {
            assert_eq!(dry_run["errors"][0][1], "FORBIDDEN", "{dry_run}");
        } else {
            assert_eq!(
                dry_run["data"]["syncNow"]["outcome"], "DRY_RUN",
                "{dry_run}"
            );
        }
        assert_eq!(
            essence(&websocket[5])["errors"][0][1],
            "BAD_USER_INPUT",
            "{}",
            websocket[5]
        );
    }
}

/// Agents whose call status is `call`.
fn agents_on_call(count: i64, call: &str) -> Vec<Value> {
    agents_json(count)
        .into_iter()
        .map(|mut agent| {
            agent["call_status"] = json!(call);
            agent
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_loads_a_runs_agents_once_for_every_subscriber() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_graphql::futures_util::StreamExt;
    use caresoft_bridge::domain::Trigger;
    use caresoft_bridge::events::{EventBus, relay_postgres};
    use caresoft_bridge::graphql::auth::Role;
    use caresoft_bridge::graphql::{ApiDeps, build_schema};
    use caresoft_bridge::store;
    use caresoft_bridge::sync::SyncRequest;
    use tokio_util::sync::CancellationToken;

    use crate::helpers::api_deps;

    // Arrange: the relay and 20 subscribers on a pool of their own that counts its statements, and a
    // syncer on another that announces its runs.
    const SUBSCRIBERS: usize = 20;
    const AGENTS: i64 = 30;
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    let statements = Arc::new(AtomicUsize::new(0));
    let mut relay_db = store::connect(&t.url).await.expect("a pool");
    let counter = Arc::clone(&statements);
    relay_db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let bus = EventBus::new();
    let stop = CancellationToken::new();
    tokio::spawn(relay_postgres(
        t.url.clone(),
        relay_db.clone(),
        bus.clone(),
        stop.clone(),
    ));
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_on_call(AGENTS, "AVAILABLE")).await;
    let syncer = Arc::new(
        caresoft
            .syncer(t.db.clone(), "20%")
            .with_events(EventBus::new()),
    );
    syncer
        .run(SyncRequest::new(Trigger::Cli))
        .await
        .expect("first sync");
    let schema = build_schema(ApiDeps {
        events: bus.clone(),
        introspection: false,
        ..api_deps(&relay_db, Arc::clone(&syncer))
    });
    let mut streams: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| {
            let request = async_graphql::Request::new(
                "subscription { agentStatusChanged { agent { id username groupName } from to } }",
            )
            .data(Role::Read);
            schema.execute_stream(request)
        })
        .collect();
    // A subscription joins the bus when its stream is first polled.
    for stream in &mut streams {
        let _ = tokio::time::timeout(Duration::from_millis(20), stream.next()).await;
    }
    // The relay may still be connecting: flip statuses until the subscribers hear a run.
    let mut call = "AVAILABLE";
    let mut heard = false;
    for _ in 0..10 {
        call = if call == "AVAILABLE" {
            "LOGOUT"
        } else {
            "AVAILABLE"
        };
        caresoft.serve(&agents_on_call(AGENTS, call)).await;
        syncer
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        if tokio::time::timeout(Duration::from_secs(2), streams[0].next())
            .await
            .is_ok()
        {
            heard = true;
            break;
        }
    }
    assert!(heard, "the relay never delivered");
    // Drain the rest of what that run sent (one event per agent to each), then count from zero.
    for (i, stream) in streams.iter_mut().enumerate() {
        for _ in 0..AGENTS as usize - usize::from(i == 0) {
            tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("the rest of the run");
        }
    }
    statements.store(0, Ordering::SeqCst);

    // Act: one run that changes the call status of all 30 agents.
    call = if call == "AVAILABLE" {
        "LOGOUT"
    } else {
        "AVAILABLE"
    };
    caresoft.serve(&agents_on_call(AGENTS, call)).await;
    syncer
        .run(SyncRequest::new(Trigger::Cli))
        .await
        .expect("sync");
    let mut received = 0;
    for stream in &mut streams {
        for _ in 0..AGENTS {
            let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("an event in time")
                .expect("the stream goes on");
            assert!(event.errors.is_empty(), "{:?}", event.errors);
            let event = event.data.into_json().expect("JSON");
            assert_eq!(event["agentStatusChanged"]["to"], call, "{event}");
            assert_eq!(
                event["agentStatusChanged"]["agent"]["groupName"],
                "Chăm sóc khách hàng"
            );
            received += 1;
        }
    }

    // Assert: 600 events, from two statements (the run's status events and its agents), where loading
    // each event's agent per subscriber took 600.
    let issued = statements.load(Ordering::SeqCst);
    eprintln!("{received} events to {SUBSCRIBERS} subscribers from {issued} statements");
    assert_eq!(received, SUBSCRIBERS * AGENTS as usize);
    assert_eq!(issued, 2, "statements for one run's events");
    stop.cancel();
}
