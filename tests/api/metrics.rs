//! `/metrics` (Prometheus text whose figures match what happened) and `/readyz` turning unready when syncs
//! stop succeeding. The metrics recorder is process-global and other tests of this binary sync too, so the
//! metrics are read from a `serve` process of their own.

use std::time::Duration;

use prometheus_parse::{Sample, Scrape, Value as Metric};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use crate::helpers::{
    ServeProcess, StandIn, TestDb, agents_json, eventually, graphql_post, spawn_app,
};

/// Every sample of `name` whose labels include `labels`.
fn samples<'a>(scrape: &'a Scrape, name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect()
}

/// The value of the one counter, gauge or untyped sample of `name` with `labels`.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    match samples(scrape, name, labels).as_slice() {
        [sample] => match sample.value {
            Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => v,
            ref other => panic!("{name}{labels:?} is not a single value: {other:?}"),
        },
        found => panic!("expected one {name}{labels:?}, found {}", found.len()),
    }
}

/// Parses Prometheus text, insisting that every sample line was understood (the parser skips lines it
/// cannot read).
fn parse_strictly(text: &str) -> Scrape {
    let scrape = Scrape::parse(text.lines().map(|line| Ok(line.to_string()))).expect("parses");
    let sample_lines = text
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .count();
    let parsed: usize = scrape
        .samples
        .iter()
        .map(|s| match &s.value {
            Metric::Histogram(buckets) => buckets.len(),
            Metric::Summary(quantiles) => quantiles.len(),
            _ => 1,
        })
        .sum();
    assert_eq!(
        parsed, sample_lines,
        "some sample lines are not valid Prometheus text:\n{text}"
    );
    scrape
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_parse_as_prometheus_text_and_count_what_happened() {
    // Arrange: 4 agents with mixed statuses, 2 employees of whom one matches agent 1, a server of its own.
    let t = TestDb::sqlite().await;
    let caresoft = StandIn::start().await;
    let mut agents = agents_json(4);
    agents[0]["call_status"] = json!("LOGOUT");
    agents[1]["chat_status"] = json!("AVAILABLE");
    agents[2]["ticket_status"] = json!("ON BREAK");
    caresoft.serve(&agents).await;
    let server = ServeProcess::start("metrics server", &caresoft.serve_vars(&t.url, "0")).await;
    let http = reqwest::Client::new();
    let graphql = server.url("/graphql");
    let post = |query: &'static str| graphql_post(&http, &graphql, None, query);
    let (_, body) = post(
        r#"mutation { upsertEmployees(rows: [
            {employeeCode: "E1", email: "agent1@acme.vn"},
            {employeeCode: "E2", email: "nobody@acme.vn"}]) { added } }"#,
    )
    .await;
    assert_eq!(body["data"]["upsertEmployees"]["added"], 2, "{body}");

    // Act: exactly two syncs and one dry run, then a scrape.
    let mut outcomes = Vec::new();
    for mutation in [
        "mutation { syncNow { outcome } }",
        "mutation { syncNow { outcome } }",
        "mutation { syncNow(dryRun: true) { outcome } }",
    ] {
        let (_, body) = post(mutation).await;
        outcomes.push(body["data"]["syncNow"]["outcome"].clone());
    }
    let (_, counts) = post(
        "{ agents { totalCount } unmatchedAgents { totalCount } unmatchedEmployees { totalCount } }",
    )
    .await;
    let response = http
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("scrape");
    let status = response.status();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    let text = response.text().await.expect("text");

    // Assert
    // Nothing scrapes a server between scrapes: a thread of its own folds the histograms' samples (one
    // per request) into their buckets, or they would pile up with every request.
    let threads: Vec<String> = std::fs::read_dir(format!("/proc/{}/task", server.pid()))
        .expect("the server's threads")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect();
    assert!(
        threads
            .iter()
            .any(|name| name == caresoft_bridge::metrics::UPKEEP_THREAD),
        "no metrics upkeep thread among {threads:?}"
    );
    assert_eq!(
        outcomes,
        [json!("SUCCEEDED"), json!("SUCCEEDED"), json!("DRY_RUN")]
    );
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let scrape = parse_strictly(&text);
    let syncs = "caresoft_bridge_syncs_total";
    assert_eq!(
        value(
            &scrape,
            syncs,
            &[("outcome", "succeeded"), ("trigger", "api")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &scrape,
            syncs,
            &[("outcome", "dry_run"), ("trigger", "api")]
        ),
        1.0
    );
    assert_eq!(
        samples(&scrape, syncs, &[]).len(),
        2,
        "no other outcome or trigger"
    );
    let durations = "caresoft_bridge_sync_duration_seconds";
    for (outcome, count) in [("succeeded", 2.0), ("dry_run", 1.0)] {
        assert_eq!(
            value(
                &scrape,
                &format!("{durations}_count"),
                &[("outcome", outcome)]
            ),
            count,
            "{outcome} durations"
        );
        match samples(&scrape, durations, &[("outcome", outcome)]).as_slice() {
            [
                Sample {
                    value: Metric::Histogram(buckets),
                    ..
                },
            ] => {
                let total = buckets.iter().find(|b| b.less_than.is_infinite());
                assert_eq!(total.map(|b| b.count), Some(count), "{buckets:?}");
            }
            other => panic!("a {outcome} duration histogram: {other:?}"),
        }
    }
    let served = caresoft.requests().await;
    assert_eq!(served, 3);
    assert_eq!(
        value(
            &scrape,
            "caresoft_bridge_caresoft_requests_total",
            &[("outcome", "ok"), ("list", "agents")]
        ),
        served as f64
    );
    let current = counts["data"]["agents"]["totalCount"]
        .as_f64()
        .expect("count");
    assert_eq!(current, 4.0);
    for channel in ["CALL", "CHAT", "TICKET"] {
        let by_status = samples(&scrape, "caresoft_bridge_agents", &[("channel", channel)]);
        let sum: f64 = by_status
            .iter()
            .map(|s| match s.value {
                Metric::Gauge(v) => v,
                ref other => panic!("a gauge: {other:?}"),
            })
            .sum();
        assert_eq!(sum, current, "agents on {channel}");
    }
    assert_eq!(
        value(
            &scrape,
            "caresoft_bridge_agents",
            &[("channel", "TICKET"), ("status", "UNKNOWN")]
        ),
        1.0
    );
    assert_eq!(
        value(&scrape, "caresoft_bridge_unmatched_agents", &[]),
        counts["data"]["unmatchedAgents"]["totalCount"]
            .as_f64()
            .expect("count")
    );
    assert_eq!(
        value(&scrape, "caresoft_bridge_unmatched_employees", &[]),
        counts["data"]["unmatchedEmployees"]["totalCount"]
            .as_f64()
            .expect("count")
    );
    assert_eq!(
        (
            counts["data"]["unmatchedAgents"]["totalCount"].clone(),
            counts["data"]["unmatchedEmployees"]["totalCount"].clone()
        ),
        (json!(3), json!(1)),
        "the figures compared are not trivially zero"
    );
    let graphql_latency = samples(
        &scrape,
        "caresoft_bridge_http_request_duration_seconds",
        &[("route", "/graphql"), ("method", "POST"), ("status", "200")],
    );
    assert!(
        matches!(
            graphql_latency.as_slice(),
            [Sample {
                value: Metric::Histogram(_),
                ..
            }]
        ),
        "{graphql_latency:?}"
    );
    assert_eq!(
        value(
            &scrape,
            "caresoft_bridge_http_request_duration_seconds_count",
            &[("route", "/graphql"), ("method", "POST"), ("status", "200")]
        ),
        5.0,
        "one per POST: the upsert, three syncs, the counts"
    );
    for state in ["idle", "in_use"] {
        assert_eq!(
            samples(
                &scrape,
                "caresoft_bridge_db_pool_connections",
                &[("state", state)]
            )
            .len(),
            1,
            "pool gauge {state}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_turns_unready_when_the_last_success_is_older_than_twice_the_interval() {
    // Arrange: a 1 s schedule whose start-up sync succeeds.
    let t = TestDb::sqlite().await;
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(3)).await;
    let app = spawn_app(
        t,
        caresoft,
        &[
            ("BRIDGE_SYNC_INTERVAL", "1s"),
            ("CARESOFT_MAX_ATTEMPTS", "1"),
        ],
    )
    .await;
    let readyz = || async {
        let response = app
            .http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz");
        (
            response.status(),
            response.json::<Value>().await.expect("JSON"),
        )
    };
    eventually(Duration::from_secs(10), "ready after a sync", || async {
        let (status, body) = readyz().await;
        (status == StatusCode::OK && body["lastSuccessfulSync"].is_string()).then_some(())
    })
    .await;

    // Act: CareSoft starts failing.
    app.caresoft
        .respond(ResponseTemplate::new(500).set_body_string("down"))
        .await;

    // Assert: unready, with the reason, once the success is over 2 s old.
    let body = eventually(Duration::from_secs(10), "unready", || async {
        let (status, body) = readyz().await;
        (status == StatusCode::SERVICE_UNAVAILABLE).then_some(body)
    })
    .await;
    assert_eq!(body["ready"], false, "{body}");
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("more than twice the 1s interval")),
        "{body}"
    );
    assert!(
        body["lastSuccessfulSyncAgeSeconds"]
            .as_u64()
            .is_some_and(|age| age >= 2),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_is_unready_when_no_sync_ever_succeeds() {
    // Arrange: a 1 s schedule against a CareSoft that always fails.
    let t = TestDb::sqlite().await;
    let caresoft = StandIn::start().await;
    caresoft
        .respond(ResponseTemplate::new(500).set_body_string("down"))
        .await;
    let app = spawn_app(
        t,
        caresoft,
        &[
            ("BRIDGE_SYNC_INTERVAL", "1s"),
            ("CARESOFT_MAX_ATTEMPTS", "1"),
        ],
    )
    .await;

    // Act + Assert: unready within a few seconds, saying there was never a success.
    let body = eventually(Duration::from_secs(10), "unready", || async {
        let response = app
            .http
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("readyz");
        (response.status() == StatusCode::SERVICE_UNAVAILABLE).then(|| response.json::<Value>())
    })
    .await
    .await
    .expect("JSON");
    assert_eq!(
        (body["ready"].clone(), body["lastSuccessfulSync"].clone()),
        (json!(false), Value::Null),
        "{body}"
    );
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("no successful sync in")),
        "{body}"
    );
}
