//! Alerts: each kind of run raises its events, in the run's transaction, and a real webhook receiver on
//! 127.0.0.1 gets them, signed, at least once, through retries, timeouts and refusals; two replicas on
//! PostgreSQL deliver each exactly once; a `serve` killed while a receiver holds its post open delivers
//! after its restart.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use wiremock::ResponseTemplate;

use crate::helpers::{
    ServeProcess, StandIn, TestApp, TestDb, agents_json, eventually, graphql_post, spawn_app,
};
use crate::on_both_engines;

const ADMIN: &str = "admin-s3cret";
const SECRET: &str = "webhook-s3cret";
const TEST_ALERT: &str = "mutation { testAlert { id } }";

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Holds the request open this long, then answers 200.
    Hang(Duration),
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: DateTime<Utc>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

#[derive(Debug, Default)]
struct Script {
    answers: Vec<Answer>,
    received: Vec<Received>,
}

/// A webhook receiver on 127.0.0.1 that records every request and answers from a script (then 200).
#[derive(Debug, Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub async fn start(answers: &[Answer]) -> Receiver {
        let script = Arc::new(Mutex::new(Script {
            answers: answers.iter().rev().copied().collect(),
            received: Vec::new(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("bound");
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(script.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, script }
    }

    /// The webhook URL, with a shape prefix when given (`slack:` …).
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().expect("script").received.clone()
    }
}

async fn receive(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let answer = {
        let mut script = script.lock().expect("script");
        script.received.push(Received {
            at: Utc::now(),
            headers,
            body,
        });
        script.answers.pop()
    };
    match answer {
        None => StatusCode::OK,
        Some(Answer::Status(code)) => StatusCode::from_u16(code).expect("a status"),
        Some(Answer::Hang(long)) => {
            tokio::time::sleep(long).await;
            StatusCode::OK
        }
    }
}

fn signed(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).expect("a key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn admin(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.post(Some(ADMIN), query).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["errors"].is_null(), "{query}: {body}");
    body["data"].clone()
}

const LOG: &str = "{ alerts(first: 50) { totalCount nodes { id type domain summary payload \
                   deliveries { target status attempts lastError history { statusCode error } } } } }";

/// The receiver's requests, once it has `n`.
async fn received(receiver: &Receiver, n: usize) -> Vec<Received> {
    eventually(
        Duration::from_secs(30),
        &format!("{n} requests at the receiver"),
        || async {
            let got = receiver.received();
            (got.len() >= n).then_some(got)
        },
    )
    .await
}

fn types(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

on_both_engines!(
    every_kind_of_run_raises_its_events_and_the_receiver_gets_them_signed,
    |t: TestDb| async move {
        // Arrange: three seats, no HR yet; an HR file the pulls read; one signed JSON webhook.
        let engine = format!("{:?}", t.backend());
        let receiver = Receiver::start(&[]).await;
        let hr = tempfile::NamedTempFile::new().expect("an HR file");
        let caresoft = StandIn::start().await;
        caresoft.serve(&agents_json(3)).await;
        let hook = receiver.url();
        let file = hr.path().display().to_string();
        let app = spawn_app(
            t,
            caresoft,
            &[
                ("BRIDGE_ADMIN_TOKENS", ADMIN),
                ("BRIDGE_ALERT_WEBHOOKS", &hook),
                ("BRIDGE_ALERT_SECRET", SECRET),
                ("CARESOFT_MAX_ATTEMPTS", "1"),
                ("HR_FILE", &file),
                ("HR_SYNC_INTERVAL", "0"),
            ],
        )
        .await;
        let sync = "mutation { syncNow { outcome } }";
        let pull = "mutation { syncHrNow { outcome errorCode } }";
        let write_hr = |csv: &str| std::fs::write(hr.path(), csv).expect("HR file written");

        // Act and assert, one run at a time.
        // 1. A first sync: three seats nobody in HR owns.
        assert_eq!(admin(&app, sync).await["syncNow"]["outcome"], "SUCCEEDED");
        let got = received(&receiver, 1).await;
        let unmatched = got[0].json();
        assert_eq!(unmatched["type"], "seats.unmatched");
        assert_eq!(unmatched["domain"], "acme");
        assert_eq!(unmatched["counts"]["seats"], 3);
        let ids: Vec<i64> = unmatched["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["agent_id"].as_i64().expect("id"))
            .collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert_eq!(
            unmatched["rows"][0]["username"], "Chuyên viên 1",
            "Vietnamese intact"
        );

        // 2. An HR pull: seat 1 is Thảo's, seat 2's email is two people's; seat 3 stays an orphan.
        write_hr(
            "employee_code,full_name,email,phone,department,status\n\
             NV1,Đặng Thu Thảo,agent1@acme.vn,,CSKH,active\n\
             NV2,Lê Văn Hai,agent2@acme.vn,,CSKH,active\n\
             NV3,Lê Văn Ba,agent2@acme.vn,,CSKH,active\n",
        );
        assert_eq!(admin(&app, pull).await["syncHrNow"]["outcome"], "SUCCEEDED");
        let got = received(&receiver, 2).await;
        let review = got[1].json();
        assert_eq!(review["type"], "review.needed");
        assert_eq!(review["rows"][0]["agent_id"], 2);
        assert_eq!(review["rows"][0]["match_status"], "AMBIGUOUS");

        // 3. Thảo leaves: her seat is news.
        write_hr(
            "employee_code,full_name,email,phone,department,status\n\
             NV1,Đặng Thu Thảo,agent1@acme.vn,,CSKH,terminated\n\
             NV2,Lê Văn Hai,agent2@acme.vn,,CSKH,active\n\
             NV3,Lê Văn Ba,agent2@acme.vn,,CSKH,active\n",
        );
        assert_eq!(admin(&app, pull).await["syncHrNow"]["outcome"], "SUCCEEDED");
        let got = received(&receiver, 3).await;
        let departed = got[2].json();
        assert_eq!(departed["type"], "seats.departed");
        assert_eq!(departed["rows"][0]["agent_id"], 1);
        assert_eq!(departed["rows"][0]["employee_code"], "NV1");
        assert_eq!(departed["rows"][0]["full_name"], "Đặng Thu Thảo");

        // 3b. HR rewrites her email; her seat now matches her by phone. Same seat, same person: no news
        //     (and none when step 5 restores the email and the match goes back to it).
        write_hr(
            "employee_code,full_name,email,phone,department,status\n\
             NV1,Đặng Thu Thảo,thao@other.vn,0900000001,CSKH,terminated\n\
             NV2,Lê Văn Hai,agent2@acme.vn,,CSKH,active\n\
             NV3,Lê Văn Ba,agent2@acme.vn,,CSKH,active\n",
        );
        assert_eq!(admin(&app, pull).await["syncHrNow"]["outcome"], "SUCCEEDED");
        let seat = admin(
            &app,
            "{ agent(id: 1) { matchStatus matchedBy employee { employeeCode } } }",
        )
        .await;
        assert_eq!(
            seat["agent"],
            serde_json::json!({"matchStatus": "MATCHED", "matchedBy": "PHONE", "employee": {"employeeCode": "NV1"}})
        );

        // 4. CareSoft fails twice (one alert: the second is the same failure), empties its list (refused),
        //    then answers again (recovered).
        app.caresoft.respond(ResponseTemplate::new(500)).await;
        assert_eq!(admin(&app, sync).await["syncNow"]["outcome"], "FAILED");
        assert_eq!(admin(&app, sync).await["syncNow"]["outcome"], "FAILED");
        app.caresoft.serve(&[]).await;
        assert_eq!(admin(&app, sync).await["syncNow"]["outcome"], "REFUSED");
        app.caresoft.serve(&agents_json(3)).await;
        assert_eq!(admin(&app, sync).await["syncNow"]["outcome"], "SUCCEEDED");

        // 5. The HR file goes bad, then would remove everyone, then is right again.
        write_hr("employee_code,full_name,email\n,Không mã,x@acme.vn\n");
        assert_eq!(
            admin(&app, pull).await["syncHrNow"]["errorCode"],
            "HR_BAD_ROWS"
        );
        write_hr("employee_code,full_name,email\n");
        assert_eq!(admin(&app, pull).await["syncHrNow"]["outcome"], "REFUSED");
        write_hr(
            "employee_code,full_name,email,phone,department,status\n\
             NV1,Đặng Thu Thảo,agent1@acme.vn,,CSKH,terminated\n\
             NV2,Lê Văn Hai,agent2@acme.vn,,CSKH,active\n\
             NV3,Lê Văn Ba,agent2@acme.vn,,CSKH,active\n",
        );
        assert_eq!(admin(&app, pull).await["syncHrNow"]["outcome"], "SUCCEEDED");

        // The worker posts what is due at once, concurrently: receivers order by the event's time, and
        // so does this test.
        let mut got = received(&receiver, 9).await;
        got.sort_by_key(|r| {
            let event = r.json();
            (
                event["at"].as_str().map(String::from),
                event["id"].as_str().map(String::from),
            )
        });
        assert_eq!(
            types(&got),
            [
                "seats.unmatched",
                "review.needed",
                "seats.departed",
                "sync.failed",
                "sync.refused",
                "sync.recovered",
                "hr.failed",
                "hr.refused",
                "hr.recovered"
            ]
        );
        let failed = got[3].json();
        assert_eq!(failed["error_code"], "CARESOFT_UNREACHABLE");
        assert!(
            !failed["summary"]
                .as_str()
                .expect("summary")
                .contains("127.0.0.1"),
            "no host in a message: {failed}"
        );
        assert_eq!(
            got[5].json()["counts"]["failures"],
            3,
            "two failures and a refusal"
        );

        // Every request is signed over its exact body and names its event.
        for request in &got {
            assert_eq!(
                request.header("x-bridge-signature"),
                Some(signed(&request.body))
            );
            assert_eq!(
                request.header("x-bridge-event-id").as_deref(),
                request.json()["id"].as_str()
            );
            assert_eq!(
                request.header("content-type").as_deref(),
                Some("application/json; charset=utf-8")
            );
        }
        // The delivery log says the same: nine events, each delivered at the first attempt, to the host.
        let log = admin(&app, LOG).await;
        let nodes = log["alerts"]["nodes"].as_array().expect("nodes").clone();
        assert_eq!(log["alerts"]["totalCount"], 9);
        for node in &nodes {
            let delivery = &node["deliveries"][0];
            assert_eq!(delivery["status"], "DELIVERED", "{node}");
            assert_eq!(delivery["attempts"], 1, "{node}");
            assert_eq!(delivery["target"], receiver.addr.to_string());
        }
        // From the run's end, stamped just before its commit, to the receiver's request.
        let delays: Vec<f64> = got
            .iter()
            .map(|r| {
                let at = DateTime::parse_from_rfc3339(r.json()["at"].as_str().expect("at"))
                    .expect("a time")
                    .with_timezone(&Utc);
                (r.at - at).num_microseconds().unwrap_or(0) as f64 / 1000.0
            })
            .collect();
        eprintln!(
            "{engine}: commit-to-receiver delay over {} events: median {:.1} ms, max {:.1} ms",
            delays.len(),
            median(delays.clone()),
            delays.iter().copied().fold(0.0, f64::max)
        );
    }
);

on_both_engines!(
    a_mirror_without_success_for_twice_the_interval_raises_mirror_stale_once,
    |t: TestDb| async move {
        // Arrange: CareSoft down from the start, syncs every second.
        let receiver = Receiver::start(&[]).await;
        let caresoft = StandIn::start().await;
        caresoft.respond(ResponseTemplate::new(503)).await;
        let hook = receiver.url();
        let app = spawn_app(
            t,
            caresoft,
            &[
                ("BRIDGE_ADMIN_TOKENS", ADMIN),
                ("BRIDGE_ALERT_WEBHOOKS", &hook),
                ("BRIDGE_SYNC_INTERVAL", "1s"),
                ("CARESOFT_MAX_ATTEMPTS", "1"),
            ],
        )
        .await;

        // Act: wait for the alerts.
        let got = received(&receiver, 2).await;

        // Assert: the first failure, then staleness, each once, while the retries go on failing.
        assert_eq!(types(&got), ["sync.failed", "mirror.stale"]);
        let stale = got[1].json();
        assert_eq!(stale["domain"], "acme");
        assert_eq!(stale["counts"]["source"], "caresoft");
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            receiver.received().len(),
            2,
            "{:?}",
            types(&receiver.received())
        );
        drop(app);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_that_fail_time_out_or_refuse_get_retries_or_a_failed_delivery() {
    // Arrange: one receiver fails once, one holds the first post past the timeout, one refuses (410);
    // the first is a Slack webhook behind a relay, so it gets Slack's shape.
    let flaky = Receiver::start(&[Answer::Status(500)]).await;
    let slow = Receiver::start(&[Answer::Hang(Duration::from_secs(5))]).await;
    let gone = Receiver::start(&[Answer::Status(410)]).await;
    let hooks = format!("slack:{},{},{}", flaky.url(), slow.url(), gone.url());
    let app = spawn_app(
        TestDb::sqlite().await,
        StandIn::start().await,
        &[
            ("BRIDGE_ADMIN_TOKENS", ADMIN),
            ("BRIDGE_ALERT_WEBHOOKS", &hooks),
            ("BRIDGE_ALERT_TIMEOUT", "1s"),
        ],
    )
    .await;

    // Act.
    let sent = admin(
        &app,
        "mutation { testAlert { id type deliveries { target status } } }",
    )
    .await;

    // Assert: planned at once for the three; then retried until delivered, or given up on 410.
    let event = sent["testAlert"]["id"].as_str().expect("id").to_string();
    assert_eq!(sent["testAlert"]["type"], "alert.test");
    let planned: Vec<&str> = sent["testAlert"]["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["status"].as_str().expect("status"))
        .collect();
    assert_eq!(planned, ["PENDING", "PENDING", "PENDING"]);
    let flaky_got = received(&flaky, 2).await;
    let slow_got = received(&slow, 2).await;
    let log = eventually(
        Duration::from_secs(30),
        "every delivery settled",
        || async {
            let log = admin(&app, LOG).await;
            let settled = log["alerts"]["nodes"][0]["deliveries"]
                .as_array()
                .is_some_and(|d| d.iter().all(|d| d["status"] != "PENDING"));
            settled.then_some(log)
        },
    )
    .await;
    let deliveries: HashMap<String, Value> = log["alerts"]["nodes"][0]["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| (d["target"].as_str().expect("target").to_string(), d.clone()))
        .collect();
    let of = |r: &Receiver| deliveries[&r.addr.to_string()].clone();
    assert_eq!(of(&flaky)["status"], "DELIVERED");
    assert_eq!(of(&flaky)["attempts"], 2);
    assert_eq!(of(&flaky)["history"][0]["statusCode"], 500);
    assert_eq!(of(&flaky)["history"][1]["statusCode"], 200);
    assert_eq!(of(&slow)["status"], "DELIVERED");
    assert_eq!(of(&slow)["history"][0]["statusCode"], Value::Null);
    assert_eq!(of(&slow)["history"][0]["error"], "no answer within 1s");
    assert_eq!(of(&gone)["status"], "FAILED");
    assert_eq!(of(&gone)["attempts"], 1);
    assert!(
        of(&gone)["lastError"]
            .as_str()
            .expect("error")
            .starts_with("HTTP 410"),
        "{}",
        of(&gone)
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(gone.received().len(), 1, "a refusal is not retried");
    // Retries carry the same event id; Slack gets its own shape, in Vietnamese as written.
    for request in flaky_got.iter().chain(&slow_got) {
        assert_eq!(
            request.header("x-bridge-event-id").as_deref(),
            Some(event.as_str())
        );
    }
    let text = flaky_got[1].json()["text"]
        .as_str()
        .expect("Slack text")
        .to_string();
    assert!(
        text.starts_with("*Test alert*\nTest alert from caresoft-bridge (testAlert)"),
        "{text}"
    );
    assert!(text.contains("Chào từ caresoft-bridge!"), "{text}");
    assert_eq!(
        flaky_got[0].header("x-bridge-signature"),
        None,
        "no secret, no signature"
    );
    // Deliveries by outcome, for dashboards.
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for outcome in ["delivered", "retried", "failed"] {
        let line = format!("caresoft_bridge_alert_deliveries_total{{outcome=\"{outcome}\"}}");
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_postgres_deliver_each_event_exactly_once() {
    let Some(t) = TestDb::postgres().await else {
        return;
    };
    // Arrange: two `serve` replicas on one database and one slow receiver, so their workers overlap; and
    // a third replica without webhooks, which must leave the events to the other two.
    let receiver = Receiver::start(&[Answer::Hang(Duration::from_millis(300)); 40]).await;
    let caresoft = StandIn::start().await;
    let quiet = caresoft.serve_vars(&t.url, "0");
    let mut vars = quiet.clone();
    vars.push(("BRIDGE_ALERT_WEBHOOKS", receiver.url()));
    let a = ServeProcess::start("replica-a", &vars).await;
    let b = ServeProcess::start("replica-b", &vars).await;
    let c = ServeProcess::start("replica-c", &quiet).await;

    // Act: 30 events written as a run in a third process writes them (unplanned, no replica woken).
    let http = reqwest::Client::new();
    for n in 0..30 {
        let alert = caresoft_bridge::alerts::Alert::new(
            caresoft_bridge::alerts::AlertKind::SeatsUnmatched,
            Some("acme".into()),
            format!("event {n}"),
        );
        caresoft_bridge::store::alerts::raise(&t.db, &alert, Utc::now())
            .await
            .expect("raised");
    }
    // And two test alerts, one through each replica.
    for replica in [&a, &b] {
        let (status, body) = graphql_post(&http, &replica.url("/graphql"), None, TEST_ALERT).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Assert: 32 events, each received exactly once, whichever replica posted it.
    let got = received(&receiver, 32).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = receiver.received().len().max(got.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for request in receiver.received() {
        *seen
            .entry(request.header("x-bridge-event-id").expect("an event id"))
            .or_default() += 1;
    }
    assert_eq!(seen.len(), 32, "{seen:?}");
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    assert_eq!(got, 32);
    let posted = a.logged("alert delivered") + b.logged("alert delivered");
    assert_eq!(posted, 32, "{}\n{}", a.log(), b.log());
    assert_eq!(c.logged("alert delivery off"), 1, "{}", c.log());
    let (_, refused) = graphql_post(&http, &c.url("/graphql"), None, TEST_ALERT).await;
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("BRIDGE_ALERT_WEBHOOKS")),
        "{refused}"
    );
}

on_both_engines!(
    a_serve_killed_while_the_receiver_holds_its_post_delivers_after_restart,
    |t: TestDb| async move {
        // Arrange: the receiver holds the first post open for a minute.
        let receiver = Receiver::start(&[Answer::Hang(Duration::from_secs(60))]).await;
        let caresoft = StandIn::start().await;
        let mut vars = caresoft.serve_vars(&t.url, "0");
        vars.push(("BRIDGE_ALERT_WEBHOOKS", receiver.url()));
        vars.push(("BRIDGE_ALERT_TIMEOUT", "2s".to_string()));
        let mut first = ServeProcess::start("first", &vars).await;
        let http = reqwest::Client::new();
        let (_, body) = graphql_post(&http, &first.url("/graphql"), None, TEST_ALERT).await;
        let event = body["data"]["testAlert"]["id"]
            .as_str()
            .expect("id")
            .to_string();
        received(&receiver, 1).await;

        // Act: SIGKILL mid-post, then start again.
        first.kill().await;
        let second = ServeProcess::start("second", &vars).await;

        // Assert: the restarted process posts the event again (once its lease ran out) and it lands.
        let got = received(&receiver, 2).await;
        assert_eq!(
            got[1].header("x-bridge-event-id").as_deref(),
            Some(event.as_str())
        );
        eventually(Duration::from_secs(20), "the delivery recorded", || async {
            let (_, body) = graphql_post(&http, &second.url("/graphql"), None, LOG).await;
            let delivery = body["data"]["alerts"]["nodes"][0]["deliveries"][0].clone();
            (delivery["status"] == "DELIVERED").then_some(())
        })
        .await;
        assert_eq!(receiver.received().len(), 2);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_test_posts_to_every_webhook_and_says_what_each_answered() {
    // Arrange.
    let good = Receiver::start(&[]).await;
    let gone = Receiver::start(&[Answer::Status(410)]).await;
    let t = TestDb::sqlite().await;

    // Act.
    let output = crate::helpers::bridge_command(&t, None, &["alert-test"])
        .env(
            "BRIDGE_ALERT_WEBHOOKS",
            format!("{},{}", good.url(), gone.url()),
        )
        .env("BRIDGE_ALERT_SECRET", SECRET)
        .output()
        .await
        .expect("alert-test runs");

    // Assert: one line per webhook, non-zero because one refused; the signed body reached the other.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("delivered to {} (HTTP 200)", good.addr)),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("not delivered to {}: HTTP 410", gone.addr)),
        "{stdout}"
    );
    let got = good.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["type"], "alert.test");
    assert_eq!(
        got[0].header("x-bridge-signature"),
        Some(signed(&got[0].body))
    );

    // Without webhooks it says what to set.
    let unset = crate::helpers::bridge_command(&t, None, &["alert-test"])
        .output()
        .await
        .expect("alert-test runs");
    assert_eq!(unset.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&unset.stderr).contains("BRIDGE_ALERT_WEBHOOKS is not set"));
}
