//! GraphQL-over-HTTP behaviour of `http::graphql_http::handle`, exercised over a real socket with a
//! toy schema, so the tests pin the HTTP contract rather than the domain schema. (The audit suite runs
//! against the real server in `http.rs`.)

use async_graphql::{Context, EmptySubscription, Object, Schema};
use axum::{Router, extract::State, response::Response, routing::any};
use std::sync::Arc;

use caresoft_bridge::http::graphql_http::{self, DocumentCache};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

/// Above `DocumentCache::MAX_TEXT`, so a document too long to be kept can still be sent.
const BODY_LIMIT: usize = 64 * 1024;
const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

struct Query;

#[Object]
impl Query {
    /// Greets `name`, or the world.
    async fn hello(&self, name: Option<String>) -> Option<String> {
        Some(format!("Hello, {}!", name.as_deref().unwrap_or("world")))
    }

    /// The role `prepare` attached to the request, if any.
    async fn role(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.data_opt::<Role>().map(|role| role.0.to_owned())
    }

    /// Always fails, to produce an execution error next to data.
    async fn broken(&self) -> async_graphql::Result<Option<String>> {
        Err("this field always fails".into())
    }
}

/// Per-request data, standing in for the auth role the real server attaches.
struct Role(&'static str);

struct Mutation;

#[Object]
impl Mutation {
    /// Does nothing, successfully.
    async fn touch(&self) -> bool {
        true
    }
}

type ToySchema = Schema<Query, Mutation, EmptySubscription>;

async fn graphql(
    State((schema, documents)): State<(ToySchema, Arc<DocumentCache>)>,
    request: axum::extract::Request,
) -> Response {
    graphql_http::handle(&schema, &documents, request, BODY_LIMIT, |request| {
        request.data(Role("viewer"))
    })
    .await
}

struct TestApp {
    url: String,
    client: reqwest::Client,
    documents: Arc<DocumentCache>,
}

/// Serves the toy schema on a random loopback port.
async fn spawn_app() -> TestApp {
    let schema = Schema::build(Query, Mutation, EmptySubscription).finish();
    let documents = Arc::new(DocumentCache::default());
    let router = Router::new()
        .route("/graphql", any(graphql))
        .with_state((schema, Arc::clone(&documents)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let address = listener.local_addr().expect("read the bound address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    TestApp {
        url: format!("http://{address}/graphql"),
        client: reqwest::Client::new(),
        documents,
    }
}

impl TestApp {
    async fn post_json(&self, accept: Option<&str>, body: Value) -> reqwest::Response {
        self.post_raw(accept, Some(JSON), body.to_string()).await
    }

    async fn post_raw(
        &self,
        accept: Option<&str>,
        content_type: Option<&str>,
        body: String,
    ) -> reqwest::Response {
        let mut request = self.client.post(&self.url).body(body);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        request.send().await.expect("send the request")
    }

    async fn get(&self, accept: Option<&str>, params: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.get(&self.url).query(params);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        request.send().await.expect("send the request")
    }
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn allow(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(header::ALLOW)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

async fn body(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

fn first_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn graphql_response_json_is_used_when_the_client_asks_for_it() {
    let app = spawn_app().await;

    let response = app
        .post_json(Some(GQL), json!({ "query": "{ hello }" }))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        content_type(&response),
        "application/graphql-response+json; charset=utf-8"
    );
    assert_eq!(
        body(response).await,
        json!({ "data": { "hello": "Hello, world!" } })
    );
}

#[tokio::test]
async fn graphql_response_json_is_preferred_when_both_types_are_acceptable() {
    let app = spawn_app().await;

    let response = app
        .post_json(
            Some("application/json, application/graphql-response+json"),
            json!({ "query": "{ hello }" }),
        )
        .await;

    assert_eq!(
        content_type(&response),
        "application/graphql-response+json; charset=utf-8"
    );
}

#[tokio::test]
async fn application_json_is_used_for_json_wildcards_and_no_accept() {
    let app = spawn_app().await;

    for accept in [Some(JSON), Some("*/*"), None] {
        let response = app.post_json(accept, json!({ "query": "{ hello }" })).await;

        assert_eq!(response.status(), StatusCode::OK, "Accept: {accept:?}");
        assert_eq!(
            content_type(&response),
            "application/json; charset=utf-8",
            "Accept: {accept:?}"
        );
        assert_eq!(
            response.headers().get(header::VARY).map(|v| v.as_bytes()),
            Some(&b"accept"[..])
        );
    }
}

#[tokio::test]
async fn an_unsatisfiable_accept_header_gets_406() {
    let app = spawn_app().await;

    let response = app
        .post_json(Some("text/html"), json!({ "query": "{ hello }" }))
        .await;

    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    assert_eq!(first_code(&body(response).await), "NOT_ACCEPTABLE");
}

#[tokio::test]
async fn a_query_over_get_with_variables_is_executed() {
    let app = spawn_app().await;

    let response = app
        .get(
            Some(GQL),
            &[
                ("query", "query Greet($name: String) { hello(name: $name) }"),
                ("variables", r#"{"name":"Ada"}"#),
                ("operationName", "Greet"),
            ],
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        body(response).await,
        json!({ "data": { "hello": "Hello, Ada!" } })
    );
}

#[tokio::test]
async fn data_attached_by_prepare_reaches_resolvers() {
    let app = spawn_app().await;

    let response = app
        .post_json(Some(GQL), json!({ "query": "{ role }" }))
        .await;

    assert_eq!(
        body(response).await,
        json!({ "data": { "role": "viewer" } })
    );
}

#[tokio::test]
async fn a_mutation_over_get_is_refused_with_405_allow_post() {
    let app = spawn_app().await;

    let response = app.get(Some(GQL), &[("query", "mutation { touch }")]).await;

    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(allow(&response).as_deref(), Some("POST"));
    assert_eq!(first_code(&body(response).await), "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn a_mutation_over_post_is_executed() {
    let app = spawn_app().await;

    let response = app
        .post_json(Some(GQL), json!({ "query": "mutation { touch }" }))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body(response).await, json!({ "data": { "touch": true } }));
}

#[tokio::test]
async fn other_methods_get_405_allow_get_post() {
    let app = spawn_app().await;

    let response = app
        .client
        .put(&app.url)
        .send()
        .await
        .expect("send the request");

    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(allow(&response).as_deref(), Some("GET, POST"));
    assert_eq!(first_code(&body(response).await), "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn a_post_body_that_is_not_json_gets_415() {
    let app = spawn_app().await;
    let query = json!({ "query": "{ hello }" }).to_string();

    for content_type in [
        Some("text/plain"),
        None,
        Some("application/json; charset=latin1"),
    ] {
        let response = app.post_raw(Some(GQL), content_type, query.clone()).await;

        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type: {content_type:?}"
        );
        assert_eq!(first_code(&body(response).await), "UNSUPPORTED_MEDIA_TYPE");
    }
}

#[tokio::test]
async fn json_with_a_utf8_charset_is_accepted() {
    let app = spawn_app().await;

    let response = app
        .post_raw(
            Some(GQL),
            Some("application/json; charset=utf-8"),
            json!({ "query": "{ hello }" }).to_string(),
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn malformed_json_gets_400_under_both_types() {
    let app = spawn_app().await;

    for accept in [GQL, JSON] {
        let response = app
            .post_raw(Some(accept), Some(JSON), r#"{ "not a JSON"#.to_owned())
            .await;

        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "Accept: {accept}"
        );
        assert_eq!(first_code(&body(response).await), "BAD_USER_INPUT");
    }
}

#[tokio::test]
async fn badly_shaped_parameters_get_400() {
    let app = spawn_app().await;
    let bodies = [
        json!({ "notquery": "{ hello }" }),
        json!({ "query": 0 }),
        json!({ "query": ["{ hello }"] }),
        json!(["{ hello }"]),
        json!({ "query": "{ hello }", "variables": "string" }),
        json!({ "query": "{ hello }", "operationName": false }),
        json!({ "query": "{ hello }", "extensions": ["array"] }),
    ];

    for request in bodies {
        let response = app.post_json(Some(JSON), request.clone()).await;

        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "body: {request}"
        );
        let body = body(response).await;
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "body: {request}");
        assert!(body.get("data").is_none());
    }
}

#[tokio::test]
async fn null_optional_parameters_are_allowed() {
    let app = spawn_app().await;

    let response = app
        .post_json(Some(GQL), json!({ "query": "{ hello }", "variables": null, "operationName": null, "extensions": null }))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_syntax_error_is_400_without_data_under_graphql_response_json_and_200_under_json() {
    let app = spawn_app().await;

    let strict = app.post_json(Some(GQL), json!({ "query": "{" })).await;
    let legacy = app.post_json(Some(JSON), json!({ "query": "{" })).await;

    assert_eq!(strict.status(), StatusCode::BAD_REQUEST);
    let strict = body(strict).await;
    assert!(strict.get("data").is_none());
    assert_eq!(first_code(&strict), "BAD_USER_INPUT");
    assert_eq!(legacy.status(), StatusCode::OK);
    assert!(body(legacy).await["errors"].is_array());
}

#[tokio::test]
async fn a_validation_error_is_400_without_data_under_graphql_response_json_and_200_under_json() {
    let app = spawn_app().await;

    let strict = app
        .post_json(Some(GQL), json!({ "query": "{ noSuchField }" }))
        .await;
    let legacy = app
        .post_json(Some(JSON), json!({ "query": "{ noSuchField }" }))
        .await;

    assert_eq!(strict.status(), StatusCode::BAD_REQUEST);
    let strict = body(strict).await;
    assert!(strict.get("data").is_none());
    assert_eq!(first_code(&strict), "BAD_USER_INPUT");
    assert_eq!(legacy.status(), StatusCode::OK);
    assert!(body(legacy).await.get("data").is_none());
}

#[tokio::test]
async fn variables_of_the_wrong_type_are_400_under_graphql_response_json() {
    let app = spawn_app().await;
    let request = json!({ "query": "query ($name: String) { hello(name: $name) }", "variables": { "name": 42 } });

    let strict = app.post_json(Some(GQL), request.clone()).await;
    let legacy = app.post_json(Some(JSON), request).await;

    assert_eq!(strict.status(), StatusCode::BAD_REQUEST);
    assert!(body(strict).await.get("data").is_none());
    assert_eq!(legacy.status(), StatusCode::OK);
}

#[tokio::test]
async fn null_or_missing_non_null_variables_are_400_under_graphql_response_json() {
    let app = spawn_app().await;
    let requests = [
        json!({ "query": "query ($name: String!) { hello(name: $name) }", "variables": { "name": null } }),
        json!({ "query": "query ($name: String!) { hello(name: $name) }" }),
    ];

    for request in requests {
        let strict = app.post_json(Some(GQL), request.clone()).await;
        let legacy = app.post_json(Some(JSON), request.clone()).await;

        assert_eq!(strict.status(), StatusCode::BAD_REQUEST, "body: {request}");
        let strict = body(strict).await;
        assert!(strict.get("data").is_none());
        assert_eq!(first_code(&strict), "BAD_USER_INPUT");
        assert_eq!(legacy.status(), StatusCode::OK, "body: {request}");
    }
}

#[tokio::test]
async fn an_execution_error_is_200_with_data_and_a_path() {
    let app = spawn_app().await;

    let response = app
        .post_json(Some(GQL), json!({ "query": "{ hello broken }" }))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let body = body(response).await;
    // async-graphql 7.2 leaves a failed nullable field out of `data` instead of writing `null`.
    assert_eq!(body["data"]["hello"], json!("Hello, world!"));
    assert!(body["data"]["broken"].is_null());
    assert_eq!(body["errors"][0]["path"], json!(["broken"]));
}

#[tokio::test]
async fn an_execution_error_that_nulls_all_data_is_still_200_with_a_data_key() {
    let app = spawn_app().await;

    let response = app
        .post_json(Some(GQL), json!({ "query": "{ broken }" }))
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let body = body(response).await;
    assert_eq!(body.get("data"), Some(&Value::Null));
    assert_eq!(body["errors"][0]["path"], json!(["broken"]));
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let app = spawn_app().await;
    let padding = " ".repeat(BODY_LIMIT);

    let response = app
        .post_raw(
            Some(GQL),
            Some(JSON),
            format!(r#"{{"query":"{{ hello }}{padding}"}}"#),
        )
        .await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(first_code(&body(response).await), "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_gets_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    // A chunked body has no Content-Length, so the limit must hold while reading. Written by hand
    // over TCP because reqwest's streaming bodies need extra crates.
    let address = app
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/graphql")
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let chunk = " ".repeat(BODY_LIMIT / 2);
    let mut request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    for piece in ["{\"query\":\"{ hello }", &chunk, &chunk, &chunk, "\"}"] {
        request.push_str(&format!("{:x}\r\n{piece}\r\n", piece.len()));
    }
    request.push_str("0\r\n\r\n");

    stream
        .write_all(request.as_bytes())
        .await
        .expect("write the request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("read the response");

    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 413"), "response: {response}");
}

#[tokio::test]
async fn a_document_sent_again_is_answered_from_the_parsed_copy() {
    let app = spawn_app().await;
    let query = "query Greet($name: String) { hello(name: $name) }";

    let mut answers = Vec::new();
    for name in ["Lan", "Minh"] {
        let response = app
            .post_json(
                Some(GQL),
                json!({ "query": query, "variables": { "name": name } }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        answers.push(body(response).await);
    }

    assert_eq!(app.documents.len(), 1);
    assert_eq!(answers[0], json!({ "data": { "hello": "Hello, Lan!" } }));
    assert_eq!(answers[1], json!({ "data": { "hello": "Hello, Minh!" } }));
}

#[tokio::test]
async fn a_cached_document_still_follows_the_get_rules_and_operation_names() {
    let app = spawn_app().await;
    let document = "query Q { hello } mutation M { touch }";

    let posted = app
        .post_json(
            Some(GQL),
            json!({ "query": document, "operationName": "M" }),
        )
        .await;
    let over_get = app
        .get(Some(GQL), &[("query", document), ("operationName", "M")])
        .await;
    let query_over_get = app
        .get(Some(GQL), &[("query", document), ("operationName", "Q")])
        .await;

    assert_eq!(app.documents.len(), 1);
    assert_eq!(body(posted).await, json!({ "data": { "touch": true } }));
    assert_eq!(over_get.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        body(query_over_get).await,
        json!({ "data": { "hello": "Hello, world!" } })
    );
}

#[tokio::test]
async fn documents_that_fail_to_parse_or_are_too_long_are_not_kept() {
    let app = spawn_app().await;
    let long = format!("{{ hello }}{}", " ".repeat(DocumentCache::MAX_TEXT));

    let broken = app.post_json(Some(GQL), json!({ "query": "{" })).await;
    let padded = app.post_json(Some(GQL), json!({ "query": long })).await;

    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body(padded).await,
        json!({ "data": { "hello": "Hello, world!" } })
    );
    assert!(
        app.documents.is_empty(),
        "{} documents kept",
        app.documents.len()
    );
}
