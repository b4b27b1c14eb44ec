//! The real HTTP server on 127.0.0.1 port 0: the auth matrix, GraphQL over HTTP (GET, content types,
//! status codes), health probes, CORS, the IDE, and the demo binary end to end.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use caresoft_bridge::app::Application;
use caresoft_bridge::config::Settings;
use caresoft_bridge::domain::Trigger;
use caresoft_bridge::sync::SyncRequest;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::helpers::{DOMAIN, StandIn, TestDb, agents_json, chromium, offline_dom};

const ADMIN: &str = "admin-s3cret";
const READER: &str = "reader-s3cret";

struct Server {
    addr: SocketAddr,
    stop: CancellationToken,
    http: reqwest::Client,
    _caresoft: StandIn,
    _t: TestDb,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn settings(vars: &[(&str, String)]) -> Settings {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Settings::from_lookup(|name| map.get(name).cloned()).expect("valid settings")
}

async fn start(extra: &[(&str, &str)]) -> Server {
    let t = TestDb::sqlite().await;
    let caresoft = StandIn::start().await;
    caresoft.serve(&agents_json(3)).await;
    let mut vars = vec![
        ("DATABASE_URL", t.url.clone()),
        ("CARESOFT_BASE_URL", caresoft.server.uri()),
        ("CARESOFT_DOMAIN", DOMAIN.to_string()),
        ("CARESOFT_API_TOKEN", "test-token".to_string()),
        ("BRIDGE_SYNC_INTERVAL", "0".to_string()),
    ];
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let settings = settings(&vars);
    let app = Application::build(
        &settings,
        t.db.clone(),
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("builds");
    app.syncers()
        .pick(None)
        .expect("one domain")
        .run(SyncRequest::new(Trigger::Cli))
        .await
        .expect("first sync");
    let addr = app.local_addr().expect("bound");
    let stop = CancellationToken::new();
    tokio::spawn(app.run(stop.clone()));
    Server {
        addr,
        stop,
        http: reqwest::Client::new(),
        _caresoft: caresoft,
        _t: t,
    }
}

async fn with_tokens() -> Server {
    start(&[
        ("BRIDGE_ADMIN_TOKENS", ADMIN),
        ("BRIDGE_READ_TOKENS", READER),
    ])
    .await
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn post(&self, token: Option<&str>, query: &str) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("response");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }
}

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

#[tokio::test]
async fn the_auth_matrix_holds() {
    let server = with_tokens().await;
    let query = "{ agents(first: 1) { totalCount } }";
    let mutation = "mutation { syncNow(dryRun: true) { outcome } }";

    for (token, what) in [
        (None, query),
        (None, mutation),
        (Some("wrong"), query),
        (Some("wrong"), mutation),
    ] {
        let (status, body) = server.post(token, what).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?} {what}");
        assert_eq!(code(&body), Some("UNAUTHENTICATED"));
    }
    let (status, body) = server.post(Some(READER), query).await;
    assert_eq!(
        (status, body["data"]["agents"]["totalCount"].clone()),
        (StatusCode::OK, json!(3))
    );
    let (status, body) = server.post(Some(READER), mutation).await;
    assert_eq!((status, code(&body)), (StatusCode::OK, Some("FORBIDDEN")));
    let (status, body) = server.post(Some(ADMIN), query).await;
    assert_eq!(
        (status, body["data"]["agents"]["totalCount"].clone()),
        (StatusCode::OK, json!(3))
    );
    let (status, body) = server.post(Some(ADMIN), mutation).await;
    assert_eq!(
        (status, body["data"]["syncNow"]["outcome"].clone()),
        (StatusCode::OK, json!("DRY_RUN"))
    );
}

#[tokio::test]
async fn graphql_over_http_get_content_types_and_status_codes() {
    let server = start(&[]).await;
    let get = server
        .http
        .get(server.url("/graphql"))
        .query(&[("query", "{ agents { totalCount } }")])
        .send()
        .await
        .expect("GET");
    assert_eq!(get.status(), StatusCode::OK);
    assert!(
        get.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/json")
    );
    assert_eq!(
        get.json::<Value>().await.expect("JSON")["data"]["agents"]["totalCount"],
        3
    );

    let mutation_over_get = server
        .http
        .get(server.url("/graphql"))
        .query(&[("query", "mutation { syncNow { id } }")])
        .send()
        .await
        .expect("GET");
    assert_eq!(mutation_over_get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(mutation_over_get.headers()["allow"], "POST");

    let graphql_response = server
        .http
        .post(server.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({"query": "{ agents { nope } }"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(
        graphql_response.status(),
        StatusCode::BAD_REQUEST,
        "a validation error is a request error"
    );
    assert!(
        graphql_response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/graphql-response+json")
    );
    let body: Value = graphql_response.json().await.expect("JSON");
    assert!(body.get("data").is_none());
    assert_eq!(code(&body), Some("BAD_USER_INPUT"));

    let not_json = server
        .http
        .post(server.url("/graphql"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("POST");
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let not_acceptable = server
        .http
        .post(server.url("/graphql"))
        .header("accept", "text/html")
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(not_acceptable.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn health_and_readiness() {
    let server = start(&[]).await;
    let health = server
        .http
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(
        (health.status(), health.text().await.expect("text")),
        (StatusCode::OK, "ok".to_string())
    );
    let ready = server
        .http
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.expect("JSON");
    assert_eq!(
        (body["ready"].clone(), body["database"].clone()),
        (json!(true), json!("ok"))
    );
    assert!(
        body["lastSuccessfulSyncAgeSeconds"]
            .as_u64()
            .is_some_and(|age| age < 60),
        "{body}"
    );
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let server = start(&[("BRIDGE_CORS_ORIGINS", "https://intranet.acme.vn")]).await;
    let allowed = server
        .http
        .request(reqwest::Method::OPTIONS, server.url("/graphql"))
        .header("origin", "https://intranet.acme.vn")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("preflight");
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("https://intranet.acme.vn")
    );
    let other = server
        .http
        .post(server.url("/graphql"))
        .header("origin", "https://evil.example")
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .expect("POST");
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn the_ide_is_served_from_the_binary() {
    let server = start(&[]).await;
    let page = server
        .http
        .get(server.url("/"))
        .send()
        .await
        .expect("IDE")
        .text()
        .await
        .expect("HTML");
    assert!(
        page.contains("/ide/graphiql.min.js") && page.contains("AvailableOnChat"),
        "examples are preloaded"
    );
    let script = server
        .http
        .get(server.url("/ide/graphiql.min.js"))
        .send()
        .await
        .expect("asset");
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.bytes().await.expect("bytes").len() > 100_000);
    let playground = server
        .http
        .get(server.url("/playground"))
        .send()
        .await
        .expect("playground");
    assert_eq!(playground.status(), StatusCode::OK);
    let favicon = server
        .http
        .get(server.url("/ide/playground/favicon.png"))
        .send()
        .await
        .expect("favicon");
    assert_eq!(
        favicon.headers()["content-type"],
        "image/png",
        "Playground's assets are served too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playground_opens_its_editor_in_chromium_without_internet() {
    let Some(chromium) = chromium() else { return };
    let server = start(&[]).await;

    let dom = offline_dom(&chromium, &server.url("/playground")).await;

    assert!(
        dom.contains("CodeMirror-code") && dom.contains("/ide/playground/middleware.js"),
        "no editor on the page:\n{}",
        &dom[..dom.len().min(2000)]
    );
}

#[tokio::test]
async fn an_open_server_refuses_a_public_address() {
    let t = TestDb::sqlite().await;
    let err = Application::build(
        &settings(&[]),
        t.db.clone(),
        "0.0.0.0:0".parse().expect("addr"),
    )
    .await
    .expect_err("refused");
    assert!(err.to_string().contains("BRIDGE_ADMIN_TOKENS"), "{err}");
}

#[test]
fn the_demo_starts_and_answers_a_query() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caresoft-bridge"))
        .arg("demo")
        .env("BRIDGE_LISTEN", "127.0.0.1:0")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("demo starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut url = None;
    let mut summaries = Vec::new();
    for line in lines.by_ref().take(40) {
        let line = line.expect("line");
        if line.contains(": sync ok:") {
            summaries.push(line.clone());
        }
        if let Some(rest) = line.strip_prefix("caresoft-bridge demo is running at ") {
            url = Some(rest.trim().to_string());
            break;
        }
    }
    let url = url.expect("the demo prints its URL");
    assert_eq!(
        summaries
            .iter()
            .map(|s| s.split(": sync ok:").next().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["demo", "demo-hotline"],
        "the demo syncs both of its domains before serving: {summaries:?}"
    );
    assert!(
        summaries.iter().all(|s| s.contains(" added")),
        "{summaries:?}"
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let body: Value = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}graphql"))
            .json(&json!({"query": "{ agents(first: 5) { totalCount nodes { id username employee { fullName } } } unmatchedEmployees { totalCount } }"}))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .expect("query")
            .json()
            .await
            .expect("JSON")
    });
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().expect("demo exits");
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        body["data"]["agents"]["totalCount"]
            .as_i64()
            .is_some_and(|n| n >= 200),
        "{body}"
    );
    assert!(
        body["data"]["unmatchedEmployees"]["totalCount"]
            .as_i64()
            .is_some_and(|n| n > 0),
        "{body}"
    );
    assert!(
        status.success(),
        "the demo stops cleanly on Ctrl-C: {status}"
    );
}

/// The public GraphQL-over-HTTP audit suite (npm `graphql-http`) and graphql-js's `buildClientSchema`,
/// run by `scripts/graphql-audit/audit.mjs` against a real server. `scripts/test` installs its packages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_over_http_audits_pass_and_graphql_js_loads_the_schema() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/graphql-audit");
    if !std::path::Path::new(dir)
        .join("node_modules/graphql-http")
        .exists()
    {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but {dir}/node_modules is missing: run `npm ci` there (scripts/test does)"
            );
        }
        eprintln!(
            "SKIPPED: {dir}/node_modules is missing (run scripts/test or `npm ci` there); the audits did not run"
        );
        return;
    }
    let server = start(&[]).await;
    let url = server.url("/graphql");
    let output = tokio::process::Command::new("node")
        .arg(format!("{dir}/audit.mjs"))
        .arg(&url)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_string();
    assert!(
        output.status.success(),
        "audits failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    eprintln!("graphql-http audits: {last}");
}

#[tokio::test]
async fn an_open_server_refuses_foreign_host_names_and_websocket_origins() {
    let server = start(&[]).await;
    let rebound = server
        .http
        .post(server.url("/graphql"))
        .header("host", "evil.example:8080")
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(
        rebound.status(),
        StatusCode::FORBIDDEN,
        "DNS rebinding is refused in open mode"
    );

    let upgrade = |origin: &'static str| {
        server
            .http
            .get(server.url("/graphql/ws"))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-protocol", "graphql-transport-ws")
            .header("origin", origin)
            .send()
    };
    let foreign = upgrade("https://evil.example").await.expect("upgrade");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let own = upgrade(Box::leak(
        format!("http://{}", server.addr).into_boxed_str(),
    ))
    .await
    .expect("upgrade");
    assert_eq!(own.status(), StatusCode::SWITCHING_PROTOCOLS);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let server = with_tokens().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = server
            .http
            .post(server.url("/graphql"))
            .header("authorization", format!("{scheme} {ADMIN}"))
            .json(&json!({ "query": "mutation { syncNow(dryRun: true) { outcome } }" }))
            .send()
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(
            body["data"]["syncNow"]["outcome"], "DRY_RUN",
            "{scheme}: {body}"
        );
    }
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_for_admin_tokens_only() {
    // Arrange: a 2 MiB document (a query padded with a comment).
    let server = with_tokens().await;
    let query = format!(
        "{{ agents {{ totalCount }} }}\n#{}",
        "x".repeat(2 * 1024 * 1024)
    );

    // Act
    let (read_status, read_body) = server.post(Some(READER), &query).await;
    let (admin_status, admin_body) = server.post(Some(ADMIN), &query).await;
    let (small_status, small_body) = server.post(Some(READER), "{ agents { totalCount } }").await;

    // Assert
    assert_eq!(read_status, StatusCode::PAYLOAD_TOO_LARGE, "{read_body}");
    assert_eq!(code(&read_body), Some("PAYLOAD_TOO_LARGE"), "{read_body}");
    assert_eq!(admin_status, StatusCode::OK, "{admin_body}");
    assert_eq!(
        admin_body["data"]["agents"]["totalCount"], 3,
        "{admin_body}"
    );
    assert_eq!(small_status, StatusCode::OK, "{small_body}");
}
