//! The CareSoft client against a local mock CareSoft (wiremock on 127.0.0.1), over real HTTP.
//! Backoffs are configured in milliseconds so the whole suite runs in a few seconds.

use std::time::{Duration, Instant};

use caresoft_bridge::caresoft::{AgentDirectory, CareSoftClient, CareSoftError, ClientConfig};
use caresoft_bridge::domain::ChannelStatus;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "test-token-s3cr3t";
const DOMAIN: &str = "acme";
const AGENTS_PATH: &str = "/acme/api/v1/agents";

// ---------------------------------------------------------------------------------------------- helpers

fn config_for(base_url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(base_url, DOMAIN, TOKEN.into());
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(5);
    config.max_attempts = 3;
    config.initial_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(40);
    config
}

fn client(config: ClientConfig) -> CareSoftClient {
    CareSoftClient::new(config).expect("test config is valid")
}

fn ok(agents: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "code": "ok", "agents": agents }))
}

async fn mount(server: &MockServer, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(AGENTS_PATH))
        .respond_with(response)
        .mount(server)
        .await;
}

/// Answers `first` once, then `then` for every later request.
async fn mount_sequence(server: &MockServer, first: ResponseTemplate, then: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(AGENTS_PATH))
        .respond_with(first)
        .up_to_n_times(1)
        .mount(server)
        .await;
    mount(server, then).await;
}

async fn requests_received(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .map_or(0, |requests| requests.len())
}

fn utc(text: &str) -> Option<DateTime<Utc>> {
    Some(
        DateTime::parse_from_rfc3339(text)
            .expect("valid test timestamp")
            .with_timezone(&Utc),
    )
}

/// The agent of the seed documentation's "thu thảo" examples, with the given statuses.
fn masked_agent(call: &str, ticket: &str, chat: &str) -> Value {
    json!({
        "id": 63203703,
        "username": "Đặng Phương Thu Thảo",
        "email": "thut***@gmail.com",
        "phone_no": "08***8",
        "agent_id": "5045",
        "created_at": "2021-08-25 15:17:20",
        "updated_at": "2025-10-15 11:31:52",
        "group_id": 15257,
        "group_name": "Không xóa bộ phận cũ đi nhé",
        "role_id": 1,
        "call_status": call,
        "ticket_status": ticket,
        "chat_status": chat
    })
}

fn numbered_agents(ids: std::ops::Range<i64>) -> Value {
    Value::Array(
        ids.map(|id| json!({ "id": id, "username": format!("agent {id}") }))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------- success

#[tokio::test]
async fn the_documented_sample_payload_is_decoded_field_by_field() {
    // Arrange: the sample answer of the CareSoft documentation page, verbatim (its email was obfuscated
    // by the page's host when it was saved, and is kept as saved).
    let server = MockServer::start().await;
    let body = r#"{
        "code": "ok",
        "agents": [
            {
                "id": 142928097,
                "username": "Sample",
                "email": "[email protected]",
                "phone_no": "0336842288",
                "agent_id": "50007",
                "created_at": "2022-07-08 09:48:41",
                "updated_at": "2022-08-08 17:42:08",
                "group_id": 12153,
                "group_name": "Default Group",
                "role_id": 1,
                "login_status": "AVAILABLE",
                "call_status": "AVAILABLE"
            }
            ]
    }"#;
    mount(
        &server,
        ResponseTemplate::new(200).set_body_raw(body, "application/json"),
    )
    .await;

    // Act
    let agents = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect("sample decodes");

    // Assert
    assert_eq!(agents.len(), 1);
    let agent = &agents[0];
    assert_eq!(agent.id, 142928097);
    assert_eq!(agent.username.as_deref(), Some("Sample"));
    assert_eq!(agent.email.as_deref(), Some("[email protected]"));
    assert_eq!(agent.phone_no.as_deref(), Some("0336842288"));
    assert_eq!(agent.agent_id.as_deref(), Some("50007"));
    // Vietnam time (UTC+7) converted to UTC.
    assert_eq!(agent.created_at, utc("2022-07-08T02:48:41Z"));
    assert_eq!(agent.updated_at, utc("2022-08-08T10:42:08Z"));
    assert_eq!(agent.group_id, Some(12153));
    assert_eq!(agent.group_name.as_deref(), Some("Default Group"));
    assert_eq!(agent.role_id, Some(1));
    assert_eq!(agent.login_status.as_deref(), Some("AVAILABLE"));
    assert_eq!(agent.call_status.as_deref(), Some("AVAILABLE"));
    assert_eq!(agent.chat_status, None);
    assert_eq!(agent.ticket_status, None);
    assert_eq!(agent.effective_ticket_status(), Some("AVAILABLE"));
}

#[tokio::test]
async fn the_request_carries_the_bearer_token_the_documented_path_and_the_first_page() {
    // Arrange: only a request with every expected part is answered.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(AGENTS_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("accept", "application/json"))
        .and(query_param("page", "1"))
        .and(query_param("count", "500"))
        .respond_with(ok(json!([{ "id": 1 }])))
        .expect(1)
        .mount(&server)
        .await;
    // A base URL with a trailing slash must give the same path.
    let base = format!("{}/", server.uri());

    // Act
    let agents = client(config_for(&base))
        .fetch_agents()
        .await
        .expect("matching request is answered");

    // Assert
    assert_eq!(agents.len(), 1);
    let requests = server.received_requests().await.expect("recording is on");
    let user_agent = requests[0]
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        user_agent.starts_with("caresoft-bridge/"),
        "user agent was {user_agent:?}"
    );
}

#[tokio::test]
async fn the_client_can_be_used_through_the_agent_directory_trait() {
    async fn count(directory: &dyn AgentDirectory) -> usize {
        directory
            .fetch_agents()
            .await
            .map_or(0, |agents| agents.len())
    }
    let server = MockServer::start().await;
    mount(&server, ok(numbered_agents(1..4))).await;

    let directory: std::sync::Arc<dyn AgentDirectory> =
        std::sync::Arc::new(client(config_for(&server.uri())));

    assert_eq!(count(directory.as_ref()).await, 3);
}

// ---------------------------------------------------------------------------------------------- auth

#[tokio::test]
async fn a_401_fails_at_once_naming_the_token_and_domain_variables() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(401)
            .set_body_json(json!({"code": "errors", "message": "Unauthorized"})),
    )
    .await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("401 must fail");

    assert!(
        matches!(error, CareSoftError::Unauthorized { status: 401 }),
        "{error:?}"
    );
    assert_eq!(requests_received(&server).await, 1);
    let message = error.to_string();
    assert!(
        message.contains("CARESOFT_API_TOKEN") && message.contains("CARESOFT_DOMAIN"),
        "{message}"
    );
    assert!(!message.contains(TOKEN));
    assert_eq!(error.kind(), "unauthorized");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_403_fails_at_once_too() {
    let server = MockServer::start().await;
    mount(&server, ResponseTemplate::new(403)).await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("403 must fail");

    assert!(
        matches!(error, CareSoftError::Unauthorized { status: 403 }),
        "{error:?}"
    );
    assert_eq!(requests_received(&server).await, 1);
}

// ---------------------------------------------------------------------------------------------- retries

#[tokio::test]
async fn a_429_with_retry_after_is_waited_for_and_then_succeeds() {
    let server = MockServer::start().await;
    let too_many = ResponseTemplate::new(429)
        .insert_header("Retry-After", "1")
        .set_body_string("Too Many Attempts.");
    mount_sequence(&server, too_many, ok(json!([{ "id": 7 }]))).await;

    let started = Instant::now();
    let agents = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect("second attempt succeeds");

    assert_eq!(agents[0].id, 7);
    assert_eq!(requests_received(&server).await, 2);
    // Retry-After (1 s) beats the 10-40 ms backoff.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_the_limit_stops_at_once_as_rate_limited() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(429).insert_header("Retry-After", "120"),
    )
    .await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("must not wait 2 minutes");

    assert!(
        matches!(error, CareSoftError::RateLimited { attempts: 1, retry_after: Some(d) } if d == Duration::from_secs(120)),
        "{error:?}"
    );
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn caresofts_404_retry_after_15_minutes_is_rate_limiting_without_hammering() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(404)
            .set_body_string("Too many requests. Please Retry After 15 minutes"),
    )
    .await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("rate limited");

    assert!(
        matches!(error, CareSoftError::RateLimited { attempts: 1, retry_after: Some(d) } if d == Duration::from_secs(900)),
        "{error:?}"
    );
    assert_eq!(requests_received(&server).await, 1);
    assert_eq!(error.kind(), "rate_limited");
}

#[tokio::test]
async fn any_other_404_is_an_http_error_hinting_at_the_domain() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(404).set_body_string("Not Found"),
    )
    .await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("404 fails");

    assert!(
        matches!(&error, CareSoftError::Http { status: 404, excerpt } if excerpt == "Not Found"),
        "{error:?}"
    );
    assert!(error.to_string().contains("CARESOFT_DOMAIN"));
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn a_500_then_a_200_succeeds() {
    let server = MockServer::start().await;
    mount_sequence(
        &server,
        ResponseTemplate::new(500),
        ok(json!([{ "id": 9 }])),
    )
    .await;

    let agents = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect("retry succeeds");

    assert_eq!(agents[0].id, 9);
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn a_persistent_500_fails_as_server_error_after_exactly_max_attempts() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(500)
            .set_body_json(json!({"code": "errors", "message": "Internal failure"})),
    )
    .await;
    let mut config = config_for(&server.uri());
    config.max_attempts = 4;

    let error = client(config)
        .fetch_agents()
        .await
        .expect_err("500 forever");

    assert!(
        matches!(&error, CareSoftError::Server { status: 500, attempts: 4, excerpt } if excerpt == "Internal failure"),
        "{error:?}"
    );
    assert_eq!(requests_received(&server).await, 4);
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_slow_answer_times_out_after_max_attempts() {
    let server = MockServer::start().await;
    mount(&server, ok(json!([])).set_delay(Duration::from_secs(3))).await;
    let mut config = config_for(&server.uri());
    config.request_timeout = Duration::from_millis(200);
    config.max_attempts = 2;

    let error = client(config).fetch_agents().await.expect_err("too slow");

    assert!(
        matches!(error, CareSoftError::Timeout { attempts: 2 }),
        "{error:?}"
    );
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error_after_max_attempts() {
    // Arrange: a port that was just free and is now closed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("bound address");
    drop(listener);
    let mut config = config_for(&format!("http://{address}"));
    config.max_attempts = 2;

    let error = client(config)
        .fetch_agents()
        .await
        .expect_err("nothing listens");

    assert!(
        matches!(error, CareSoftError::Connect { attempts: 2, .. }),
        "{error:?}"
    );
    assert_eq!(error.kind(), "connect");
}

#[tokio::test]
async fn the_fallback_host_is_used_after_a_503_from_the_primary() {
    let primary = MockServer::start().await;
    let fallback = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(AGENTS_PATH))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&primary)
        .await;
    Mock::given(method("GET"))
        .and(path(AGENTS_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ok(json!([{ "id": 11 }])))
        .expect(1)
        .mount(&fallback)
        .await;
    let mut config = config_for(&primary.uri());
    config.fallback_url = Some(fallback.uri());

    let agents = client(config)
        .fetch_agents()
        .await
        .expect("fallback answers");

    assert_eq!(agents[0].id, 11);
    assert_eq!(requests_received(&primary).await, 1);
    assert_eq!(requests_received(&fallback).await, 1);
}

// ---------------------------------------------------------------------------------------------- bad bodies

#[tokio::test]
async fn malformed_json_is_a_decode_error_with_an_excerpt() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"code":"ok","agents":[{"id":1,"#, "application/json"),
    )
    .await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("truncated JSON");

    match &error {
        CareSoftError::Decode {
            status: 200,
            excerpt,
            ..
        } => assert_eq!(excerpt, r#"{"code":"ok","agents":[{"id":1,"#),
        other => panic!("expected Decode, got {other:?}"),
    }
    assert_eq!(requests_received(&server).await, 1);
    assert_eq!(error.to_string().lines().count(), 1);
}

#[tokio::test]
async fn json_without_code_or_agents_is_a_decode_error_naming_the_expected_shape() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({"code": "ok", "data": []})),
    )
    .await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("wrong shape");

    assert!(
        matches!(&error, CareSoftError::Decode { detail, .. } if detail.contains(r#"{"code":"ok","agents":[...]}"#)),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_html_502_page_fails_as_server_error_showing_the_html_and_status() {
    let server = MockServer::start().await;
    let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    mount(
        &server,
        ResponseTemplate::new(502).set_body_raw(html, "text/html"),
    )
    .await;
    let mut config = config_for(&server.uri());
    config.max_attempts = 2;

    let error = client(config)
        .fetch_agents()
        .await
        .expect_err("gateway down");

    match &error {
        CareSoftError::Server {
            status: 502,
            excerpt,
            attempts: 2,
        } => {
            assert!(
                excerpt.starts_with("<html> <head><title>502 Bad Gateway</title></head>"),
                "{excerpt}"
            );
            assert!(!excerpt.contains('\n'));
        }
        other => panic!("expected Server, got {other:?}"),
    }
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn a_200_with_code_errors_is_an_api_error_carrying_caresofts_message() {
    let server = MockServer::start().await;
    mount(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"code": "errors", "message": "Invalid token"})),
    )
    .await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("api error");

    assert!(
        matches!(&error, CareSoftError::Api { message } if message == "Invalid token"),
        "{error:?}"
    );
    assert_eq!(requests_received(&server).await, 1);
}

#[tokio::test]
async fn a_body_announced_larger_than_the_limit_is_refused() {
    let server = MockServer::start().await;
    mount(&server, ok(numbered_agents(1..200))).await;
    let mut config = config_for(&server.uri());
    config.max_body_bytes = 1024;

    let error = client(config).fetch_agents().await.expect_err("too large");

    assert!(
        matches!(error, CareSoftError::BodyTooLarge { limit: 1024 }),
        "{error:?}"
    );
    assert_eq!(error.kind(), "too_large");
}

#[tokio::test]
async fn a_chunked_body_growing_past_the_limit_is_refused_while_streaming() {
    // Arrange: a one-shot HTTP server on loopback that sends no Content-Length, only chunks.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("bound address");
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("client connects");
        let mut request = [0_u8; 4096];
        let _ = socket.read(&mut request).await;
        let mut answer = String::from(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        );
        let chunk = format!(
            "{{\"code\":\"ok\",\"agents\":[{}",
            "{\"id\":1},".repeat(100)
        );
        for _ in 0..4 {
            answer.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
        }
        answer.push_str("0\r\n\r\n");
        let _ = socket.write_all(answer.as_bytes()).await;
    });
    let mut config = config_for(&format!("http://{address}"));
    config.max_body_bytes = 2048;

    let error = client(config).fetch_agents().await.expect_err("too large");

    assert!(
        matches!(error, CareSoftError::BodyTooLarge { limit: 2048 }),
        "{error:?}"
    );
    server.abort();
}

// ---------------------------------------------------------------------------------------------- tolerant decoding

#[tokio::test]
async fn missing_and_null_fields_decode_as_absent() {
    let server = MockServer::start().await;
    let agents = json!([
        { "id": 1 },
        { "id": 2, "username": null, "email": null, "phone_no": null, "agent_id": null, "created_at": null,
          "updated_at": "not a date", "group_id": null, "group_name": null, "role_id": null,
          "login_status": null, "call_status": null, "chat_status": null, "ticket_status": null,
          "some_future_field": {"nested": true} }
    ]);
    mount(&server, ok(agents)).await;

    let agents = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect("tolerant");

    for agent in &agents {
        assert_eq!(agent.username, None);
        assert_eq!(agent.email, None);
        assert_eq!(agent.phone_no, None);
        assert_eq!(agent.agent_id, None);
        assert_eq!(agent.created_at, None);
        assert_eq!(agent.updated_at, None);
        assert_eq!(agent.group_id, None);
        assert_eq!(agent.group_name, None);
        assert_eq!(agent.role_id, None);
        assert_eq!(agent.effective_ticket_status(), None);
        assert_eq!(
            ChannelStatus::from_caresoft(agent.call_status.as_deref()),
            ChannelStatus::Unknown
        );
        assert_eq!(
            ChannelStatus::from_caresoft(agent.chat_status.as_deref()),
            ChannelStatus::Unknown
        );
    }
}

#[tokio::test]
async fn masked_values_are_kept_exactly_as_sent() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok(json!([masked_agent("AVAILABLE", "AVAILABLE", "AVAILABLE")])),
    )
    .await;

    let agents = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect("decodes");

    assert_eq!(agents[0].email.as_deref(), Some("thut***@gmail.com"));
    assert_eq!(agents[0].phone_no.as_deref(), Some("08***8"));
    assert_eq!(agents[0].username.as_deref(), Some("Đặng Phương Thu Thảo"));
    assert_eq!(
        agents[0].group_name.as_deref(),
        Some("Không xóa bộ phận cũ đi nhé")
    );
    assert_eq!(agents[0].created_at, utc("2021-08-25T08:17:20Z"));
}

#[tokio::test]
async fn ids_sent_as_strings_and_extensions_sent_as_numbers_are_accepted() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok(json!([{ "id": "142928097", "group_id": "12153", "role_id": "1", "agent_id": 50007 }])),
    )
    .await;

    let agents = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect("decodes");

    assert_eq!(agents[0].id, 142928097);
    assert_eq!(agents[0].group_id, Some(12153));
    assert_eq!(agents[0].role_id, Some(1));
    assert_eq!(agents[0].agent_id.as_deref(), Some("50007"));
}

#[tokio::test]
async fn statuses_are_kept_raw_and_unknown_values_map_to_unknown() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok(json!([masked_agent("NOT AVAILABLE", "LOGOUT", "BUSY")])),
    )
    .await;

    let agents = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect("decodes");

    let agent = &agents[0];
    assert_eq!(agent.call_status.as_deref(), Some("NOT AVAILABLE"));
    assert_eq!(agent.ticket_status.as_deref(), Some("LOGOUT"));
    assert_eq!(agent.chat_status.as_deref(), Some("BUSY"));
    assert_eq!(
        ChannelStatus::from_caresoft(agent.call_status.as_deref()),
        ChannelStatus::NotAvailable
    );
    assert_eq!(
        ChannelStatus::from_caresoft(agent.effective_ticket_status()),
        ChannelStatus::Logout
    );
    assert_eq!(
        ChannelStatus::from_caresoft(agent.chat_status.as_deref()),
        ChannelStatus::Unknown
    );
    assert_eq!(ChannelStatus::NotAvailable.as_str(), "NOT_AVAILABLE");
}

#[tokio::test]
async fn an_older_payload_with_only_login_and_call_status_uses_login_status_for_tickets() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok(json!([{ "id": 3, "login_status": "NOT AVAILABLE", "call_status": "AVAILABLE" }])),
    )
    .await;

    let agents = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect("decodes");

    let agent = &agents[0];
    assert_eq!(agent.ticket_status, None);
    assert_eq!(agent.effective_ticket_status(), Some("NOT AVAILABLE"));
    assert_eq!(
        ChannelStatus::from_caresoft(agent.effective_ticket_status()),
        ChannelStatus::NotAvailable
    );
    assert_eq!(
        ChannelStatus::from_caresoft(agent.call_status.as_deref()),
        ChannelStatus::Available
    );
    assert_eq!(
        ChannelStatus::from_caresoft(agent.chat_status.as_deref()),
        ChannelStatus::Unknown
    );
}

#[tokio::test]
async fn duplicate_agent_ids_are_refused() {
    let server = MockServer::start().await;
    mount(&server, ok(json!([{ "id": 5 }, { "id": "5" }]))).await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("duplicate");

    assert!(
        matches!(error, CareSoftError::DuplicateAgentId { id: 5 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_agent_without_a_usable_id_is_refused_with_its_position() {
    let server = MockServer::start().await;
    mount(
        &server,
        ok(json!([{ "id": 5 }, { "id": "abc", "username": "no id" }])),
    )
    .await;

    let error = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect_err("missing id");

    assert!(
        matches!(error, CareSoftError::MissingAgentId { index: 1 }),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------------- paging

#[tokio::test]
async fn an_answer_announcing_more_agents_is_paged_through_across_three_pages() {
    let server = MockServer::start().await;
    let pages = [
        (1, numbered_agents(1..501)),
        (2, numbered_agents(501..1001)),
        (3, numbered_agents(1001..1002)),
    ];
    for (page, agents) in pages {
        Mock::given(method("GET"))
            .and(path(AGENTS_PATH))
            .and(query_param("page", page.to_string().as_str()))
            .and(query_param("count", "500"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"code": "ok", "numFound": "1001", "agents": agents})),
            )
            .expect(1)
            .mount(&server)
            .await;
    }

    let agents = client(config_for(&server.uri()))
        .fetch_agents()
        .await
        .expect("three pages");

    assert_eq!(agents.len(), 1001);
    assert_eq!(agents.first().map(|a| a.id), Some(1));
    assert_eq!(agents.last().map(|a| a.id), Some(1001));
    assert_eq!(requests_received(&server).await, 3);
}

// ---------------------------------------------------------------------------------------------- secrets and config

#[tokio::test]
async fn debug_output_of_the_config_and_client_never_shows_the_token() {
    let config = config_for("https://api.caresoft.vn");

    let config_debug = format!("{config:?}");
    let client_debug = format!("{:?}", client(config));

    assert!(!config_debug.contains(TOKEN), "{config_debug}");
    assert!(!client_debug.contains(TOKEN), "{client_debug}");
    assert!(config_debug.contains("REDACTED"));
}

#[test]
fn an_empty_domain_or_token_is_an_invalid_config() {
    let no_domain = CareSoftClient::new(ClientConfig::new(
        "https://api.caresoft.vn",
        " ",
        TOKEN.into(),
    ));
    let no_token = CareSoftClient::new(ClientConfig::new(
        "https://api.caresoft.vn",
        DOMAIN,
        "".into(),
    ));
    let bad_url = CareSoftClient::new(ClientConfig::new("api.caresoft.vn", DOMAIN, TOKEN.into()));

    for result in [no_domain, no_token, bad_url] {
        let error = result.expect_err("invalid config");
        assert!(
            matches!(error, CareSoftError::InvalidConfig(_)),
            "{error:?}"
        );
        assert_eq!(error.kind(), "invalid");
    }
}

#[tokio::test]
async fn an_empty_page_before_num_found_is_incomplete_paging_not_a_short_list() {
    let server = MockServer::start().await;
    let first: Vec<Value> = (1..=500).map(|id| json!({"id": id})).collect();
    Mock::given(method("GET"))
        .and(path(AGENTS_PATH))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": "ok", "numFound": 900, "agents": first})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(AGENTS_PATH))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"code": "ok", "numFound": 900, "agents": []})),
        )
        .mount(&server)
        .await;
    let client = CareSoftClient::new(config_for(&server.uri())).expect("client");

    let err = client
        .fetch_agents()
        .await
        .expect_err("a short list would remove real agents");

    assert!(
        matches!(
            err,
            CareSoftError::IncompletePaging {
                received: 500,
                num_found: 900,
                ..
            }
        ),
        "{err}"
    );
}
