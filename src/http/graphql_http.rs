//! GraphQL over HTTP: turns one HTTP request into one GraphQL execution and back, following the
//! GraphQL-over-HTTP specification (<https://graphql.github.io/graphql-over-http/draft/>).
//!
//! This module owns everything between the socket and the executor: the method rules (GET and POST
//! only; no mutations over GET, which would let a cross-site link change data), response media-type
//! negotiation between `application/graphql-response+json` and `application/json`, decoding of POST
//! JSON bodies and GET query strings, the body size limit, and the HTTP status of every GraphQL
//! response. It does not own the schema, authentication or routing: callers pass an executor and a
//! `prepare` hook that attaches per-request data.
//!
//! Route it with `any(..)` rather than `get(..).post(..)`, so that other methods reach [`handle`] and
//! get a GraphQL-shaped 405 with `Allow: GET, POST`.

use std::{
    collections::HashMap,
    future::poll_fn,
    num::NonZeroUsize,
    pin::Pin,
    sync::{Arc, Mutex},
};

use async_graphql::{
    Executor, Positioned, ServerError, Value, Variables,
    parser::{
        parse_query,
        types::{DocumentOperations, ExecutableDocument, OperationDefinition, OperationType},
    },
};
use axum::{
    body::{Body, HttpBody},
    extract::{Query, Request},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Map, json};
use tracing::{Instrument, Span, field::Empty};

/// Parsed documents by their text: clients send the same few documents over and over (a paging loop, a
/// dashboard's polls), and parsing one was about 5 % of the CPU of an agents page. A hit costs a clone of
/// the syntax tree, several times cheaper than parsing. Documents that fail to parse are not kept, nor
/// texts longer than [`DocumentCache::MAX_TEXT`], so the cache stays small whatever clients send.
#[derive(Debug)]
pub struct DocumentCache {
    documents: Mutex<lru::LruCache<String, Arc<ExecutableDocument>>>,
}

impl DocumentCache {
    /// The longest document text kept, in bytes.
    pub const MAX_TEXT: usize = 16 * 1024;

    /// A cache of at most `capacity` documents (the least recently used goes first).
    pub fn new(capacity: NonZeroUsize) -> DocumentCache {
        DocumentCache {
            documents: Mutex::new(lru::LruCache::new(capacity)),
        }
    }

    /// The parsed document of `text`, from the cache or parsed now.
    pub fn parse(&self, text: &str) -> async_graphql::parser::Result<ExecutableDocument> {
        let cached = self.lock().get(text).cloned();
        if let Some(document) = cached {
            return Ok(ExecutableDocument::clone(&document));
        }
        let document = parse_query(text)?;
        if text.len() <= Self::MAX_TEXT {
            self.lock().put(text.to_owned(), Arc::new(document.clone()));
        }
        Ok(document)
    }

    /// How many documents the cache holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the cache holds no document.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<String, Arc<ExecutableDocument>>> {
        // A panic while the lock was held cannot leave the cache inconsistent in a way that matters:
        // at worst an entry is missing.
        self.documents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for DocumentCache {
    /// Room for 256 documents: far more than the distinct documents of the frontends and tools of one
    /// deployment.
    fn default() -> DocumentCache {
        const CAPACITY: NonZeroUsize = NonZeroUsize::new(256).expect("not zero");
        DocumentCache::new(CAPACITY)
    }
}

/// Executes a GraphQL request received over HTTP per the GraphQL-over-HTTP spec.
///
/// `documents` keeps parsed documents across requests. `body_limit` caps the POST body in bytes (413
/// beyond it). `prepare` lets the caller attach per-request data (auth role) before execution; it must
/// not replace the query text, because the document parsed here is handed to the executor as is.
pub async fn handle<E: Executor>(
    executor: &E,
    documents: &DocumentCache,
    request: Request,
    body_limit: usize,
    prepare: impl FnOnce(async_graphql::Request) -> async_graphql::Request,
) -> Response {
    let span = tracing::info_span!(
        "graphql_http",
        http.method = %request.method(),
        graphql.operation.name = Empty,
        graphql.operation.type = Empty,
        http.status = Empty,
    );
    async move {
        let response = match serve(executor, documents, request, body_limit, prepare).await {
            Ok(response) => response,
            Err((rejection, media)) => {
                tracing::debug!(?rejection, "request rejected before execution");
                rejection.into_response(media)
            }
        };
        Span::current().record("http.status", response.status().as_u16());
        response
    }
    .instrument(span)
    .await
}

/// The steps of [`handle`]; a rejection carries the media type to answer in, when known.
async fn serve<E: Executor>(
    executor: &E,
    documents: &DocumentCache,
    request: Request,
    body_limit: usize,
    prepare: impl FnOnce(async_graphql::Request) -> async_graphql::Request,
) -> Result<Response, (Rejection, MediaType)> {
    let (parts, body) = request.into_parts();
    let is_get = match parts.method {
        Method::GET => true,
        Method::POST => false,
        _ => return Err((Rejection::MethodNotAllowed, MediaType::Json)),
    };
    let media = negotiate(&parts.headers).ok_or((Rejection::NotAcceptable, MediaType::Json))?;
    let reject = |rejection| (rejection, media);

    let params = if is_get {
        let pairs = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|_| reject(Rejection::BadRequest("the query string is malformed")))?;
        Params::from_query_string(pairs.0).map_err(reject)?
    } else {
        if !is_json_content_type(&parts.headers) {
            return Err(reject(Rejection::UnsupportedMediaType));
        }
        let body = read_body(body, &parts.headers, body_limit)
            .await
            .map_err(reject)?;
        let json: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| reject(Rejection::BadRequest("the request body is not valid JSON")))?;
        let serde_json::Value::Object(object) = json else {
            return Err(reject(Rejection::BadRequest(
                "the request body must be a JSON object",
            )));
        };
        Params::from_json(object).map_err(reject)?
    };

    // The document is parsed here, not only in the executor, for two reasons: the GET rule needs the
    // operation type before anything runs, and a syntax error is a request error we can name
    // without guessing. The parsed document is then handed over so it is not parsed twice.
    let document = match documents.parse(&params.query) {
        Ok(document) => document,
        Err(error) => {
            let error = with_code(ServerError::from(error), "BAD_USER_INPUT");
            return Ok(request_error(vec![error], media));
        }
    };

    // When no operation can be selected (unknown or missing name) the executor reports it as a
    // request error without executing anything, so there is nothing to check here.
    if let Some((name, operation)) = select_operation(&document, params.operation_name.as_deref()) {
        let span = Span::current();
        if let Some(name) = name {
            span.record("graphql.operation.name", name);
        }
        span.record("graphql.operation.type", operation_type(operation.node.ty));
        if is_get && operation.node.ty == OperationType::Mutation {
            return Err(reject(Rejection::MutationOverGet));
        }
        let failures = variable_coercion_failures(&operation.node, &params.variables);
        if !failures.is_empty() {
            return Ok(request_error(failures, media));
        }
    }

    let mut graphql_request = async_graphql::Request::new(params.query).variables(params.variables);
    graphql_request.operation_name = params.operation_name;
    graphql_request.extensions = async_graphql::Extensions(params.extensions);
    graphql_request.set_parsed_query(document);
    let response = executor.execute(prepare(graphql_request)).await;

    if is_request_error(&response) {
        let errors = label_request_errors(response).errors;
        return Ok(request_error(errors, media));
    }
    Ok(execution_result(response, media))
}

/// Gives the errors of a rejected document (see `is_request_error`) the `BAD_USER_INPUT` code; an
/// execution result passes unchanged. Both transports answer with it, HTTP and the WebSocket.
pub fn label_request_errors(mut response: async_graphql::Response) -> async_graphql::Response {
    if is_request_error(&response) {
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(|error| with_code(error, "BAD_USER_INPUT"))
            .collect();
    }
    response
}

/// Tells a request error (the document was rejected and nothing ran) from an execution result.
///
/// async-graphql 7.2 gives no flag for this, so the rule follows its code paths: `Schema::execute`
/// returns `Response::from_errors` (data `null`, errors without `path`) when `prepare_request`
/// fails, i.e. for validation rules (including variable values of the wrong type, checked by
/// `ArgumentsOfCorrectType` against the supplied variables), depth/complexity limits, an unknown or
/// missing operation name, and errors from extensions before execution. Once execution starts,
/// every field error carries its field's `path` (`Context::set_error_path`), even when all root
/// fields fail and `data` ends up null. Hence: `data` is null and no error has a path. The one
/// execution-time error without a path is "subscriptions are not supported on this transport",
/// a request error in substance, so it lands on the right side too. A custom `Extension` that
/// fails the `execute` hook without a path would be misread as a request error: acceptable, since
/// nothing it produced reaches the client as data. Syntax errors and null or missing non-null
/// variables never get this far: [`serve`] detects them itself.
fn is_request_error(response: &async_graphql::Response) -> bool {
    !response.errors.is_empty()
        && response.data == Value::Null
        && response.errors.iter().all(|error| error.path.is_empty())
}

/// A request error: no `data` key; 400 under graphql-response+json, 200 under legacy JSON (the
/// spec's watershed rule: application/json clients expect 200 for any well-formed request).
fn request_error(errors: Vec<ServerError>, media: MediaType) -> Response {
    tracing::debug!(errors = errors.len(), "GraphQL request error");
    let status = match media {
        MediaType::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        MediaType::Json => StatusCode::OK,
    };
    let body = json!({ "errors": errors });
    json_response(status, body.to_string(), media)
}

/// An execution result: always 200, whether or not fields failed, because `data` is present.
fn execution_result(mut response: async_graphql::Response, media: MediaType) -> Response {
    let resolver_headers = std::mem::take(&mut response.http_headers);
    let cache_control = response
        .is_ok()
        .then(|| response.cache_control.value())
        .flatten();
    let body = match serde_json::to_string(&response) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not serialise a GraphQL response");
            let body = handler_error_body("internal error", "INTERNAL");
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, body, media);
        }
    };
    let mut http_response = Response::new(Body::from(body));
    // Resolver headers first, so that the content type negotiated here always wins.
    http_response.headers_mut().extend(resolver_headers);
    if let Some(value) = cache_control.and_then(|value| HeaderValue::from_str(&value).ok()) {
        http_response
            .headers_mut()
            .insert(header::CACHE_CONTROL, value);
    }
    set_media_headers(http_response.headers_mut(), media);
    http_response
}

fn json_response(status: StatusCode, body: String, media: MediaType) -> Response {
    let mut response = (status, body).into_response();
    set_media_headers(response.headers_mut(), media);
    response
}

fn set_media_headers(headers: &mut HeaderMap, media: MediaType) {
    headers.insert(header::CONTENT_TYPE, media.content_type());
    // The body's type depends on Accept, so caches must key on it.
    headers.insert(header::VARY, HeaderValue::from_static("accept"));
}

/// Adds `extensions.code` unless the error already has one (an extension's own code wins).
fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

/// The response media types this server produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MediaType {
    GraphqlResponseJson,
    Json,
}

impl MediaType {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }

    fn subtype(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "graphql-response+json",
            Self::Json => "json",
        }
    }

    /// How specifically `type/subtype` names this media type: 2 exact, 1 `application/*`, 0 `*/*`.
    fn specificity(self, ty: &str, subtype: &str) -> Option<u8> {
        if ty == "*" && subtype == "*" {
            Some(0)
        } else if !ty.eq_ignore_ascii_case("application") {
            None
        } else if subtype == "*" {
            Some(1)
        } else if subtype.eq_ignore_ascii_case(self.subtype()) {
            Some(2)
        } else {
            None
        }
    }
}

/// Picks the response media type from `Accept`; `None` means 406.
///
/// No (or an empty) `Accept` means application/json, as the spec asks for legacy clients. For each
/// type the most specific matching range sets its quality (RFC 9110 §12.5.1). The higher quality
/// wins; on a tie an exact mention beats a wildcard, and between two exact mentions
/// graphql-response+json wins. Between two wildcards (`*/*`) application/json wins, because a
/// client that names neither is most likely a legacy one.
fn negotiate(headers: &HeaderMap) -> Option<MediaType> {
    let ranges: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|range| !range.is_empty())
        .collect();
    if ranges.is_empty() {
        return Some(MediaType::Json);
    }

    let mut best: [Option<(u8, f32)>; 2] = [None, None];
    let candidates = [MediaType::GraphqlResponseJson, MediaType::Json];
    for range in ranges {
        let mut pieces = range.split(';');
        let essence = pieces.next().unwrap_or_default().trim();
        let Some((ty, subtype)) = essence.split_once('/') else {
            continue;
        };
        let Some(quality) = quality(pieces) else {
            continue;
        };
        for (slot, candidate) in best.iter_mut().zip(candidates) {
            let Some(specificity) = candidate.specificity(ty.trim(), subtype.trim()) else {
                continue;
            };
            *slot = match *slot {
                Some((held, held_q)) if held > specificity => Some((held, held_q)),
                Some((held, held_q)) if held == specificity => Some((held, held_q.max(quality))),
                _ => Some((specificity, quality)),
            };
        }
    }

    let acceptable = |slot: Option<(u8, f32)>| slot.filter(|(_, quality)| *quality > 0.0);
    match (acceptable(best[0]), acceptable(best[1])) {
        (None, None) => None,
        (Some(_), None) => Some(MediaType::GraphqlResponseJson),
        (None, Some(_)) => Some(MediaType::Json),
        (Some((gql_spec, gql_q)), Some((json_spec, json_q))) => {
            let gql_wins = if gql_q != json_q {
                gql_q > json_q
            } else if gql_spec != json_spec {
                gql_spec > json_spec
            } else {
                gql_spec == 2
            };
            Some(if gql_wins {
                MediaType::GraphqlResponseJson
            } else {
                MediaType::Json
            })
        }
    }
}

/// The `q` parameter of a media range (1 when absent); `None` when it is malformed, so the range is
/// ignored rather than guessed at.
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> Option<f32> {
    for param in params {
        if let Some((name, value)) = param.split_once('=')
            && name.trim().eq_ignore_ascii_case("q")
        {
            return value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q));
        }
    }
    Some(1.0)
}

/// `application/json`, optionally with `charset=utf-8` (JSON has no other legal encoding).
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let mut pieces = value.split(';');
    let essence = pieces.next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        && pieces.all(|param| match param.split_once('=') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
                value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            }
            _ => true,
        })
}

/// Reads the body, refusing to buffer more than `limit` bytes.
///
/// Done by hand rather than with `axum::body::to_bytes` because telling its "too large" error from
/// an I/O error needs `http_body_util`, which this crate does not otherwise depend on.
async fn read_body(
    mut body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Vec<u8>, Rejection> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Rejection::PayloadTooLarge);
    }
    let mut bytes = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|error| {
            tracing::debug!(%error, "could not read the request body");
            Rejection::BadRequest("the request body could not be read")
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len().saturating_add(data.len()) > limit {
                return Err(Rejection::PayloadTooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

/// The GraphQL-over-HTTP request parameters, checked for shape.
struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Variables,
    extensions: HashMap<String, Value>,
}

impl Params {
    /// From a POST body; `null` counts as absent for every optional parameter, as the spec allows.
    fn from_json(mut object: Map<String, serde_json::Value>) -> Result<Self, Rejection> {
        use serde_json::Value as Json;
        let query = match object.remove("query") {
            Some(Json::String(query)) => query,
            None | Some(Json::Null) => {
                return Err(Rejection::BadRequest("the query parameter is missing"));
            }
            Some(_) => {
                return Err(Rejection::BadRequest(
                    "the query parameter must be a string",
                ));
            }
        };
        let operation_name = match object.remove("operationName") {
            Some(Json::String(name)) => Some(name),
            None | Some(Json::Null) => None,
            Some(_) => {
                return Err(Rejection::BadRequest(
                    "the operationName parameter must be a string",
                ));
            }
        };
        let variables = json_map(
            object.remove("variables"),
            "the variables parameter must be an object",
        )?;
        let extensions = json_map(
            object.remove("extensions"),
            "the extensions parameter must be an object",
        )?;
        Ok(Self {
            query,
            operation_name,
            variables: Variables::from_value(Value::Object(variables.into_iter().collect())),
            extensions: extensions
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
        })
    }

    /// From a GET query string, where `variables` and `extensions` are JSON-encoded.
    fn from_query_string(pairs: Vec<(String, String)>) -> Result<Self, Rejection> {
        let mut object = Map::new();
        for (name, value) in pairs {
            let value = match name.as_str() {
                "query" | "operationName" if value.is_empty() => continue,
                "query" | "operationName" => serde_json::Value::String(value),
                "variables" | "extensions" => serde_json::from_str(&value).map_err(|_| {
                    Rejection::BadRequest("the variables and extensions parameters must be JSON")
                })?,
                // Other parameters are not ours to judge (cache busters, tracing ids).
                _ => continue,
            };
            if object.insert(name, value).is_some() {
                return Err(Rejection::BadRequest("a request parameter is repeated"));
            }
        }
        Self::from_json(object)
    }
}

/// A JSON object parameter as GraphQL values; absent and `null` mean empty.
fn json_map(
    value: Option<serde_json::Value>,
    message: &'static str,
) -> Result<async_graphql::indexmap::IndexMap<async_graphql::Name, Value>, Rejection> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(Default::default()),
        Some(object @ serde_json::Value::Object(_)) => match Value::from_json(object) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Rejection::BadRequest(message)),
        },
        Some(_) => Err(Rejection::BadRequest(message)),
    }
}

/// The operation the executor will run, with its name, following GraphQL's GetOperation.
fn select_operation<'a>(
    document: &'a ExecutableDocument,
    name: Option<&'a str>,
) -> Option<(Option<&'a str>, &'a Positioned<OperationDefinition>)> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => Some((None, operation)),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .get(name)
            .map(|operation| (Some(name), operation)),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => operations
            .iter()
            .next()
            .map(|(name, operation)| (Some(name.as_str()), operation)),
        _ => None,
    }
}

fn operation_type(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// Non-null variables that are missing (with no default) or null: the part of GraphQL's
/// CoerceVariableValues that async-graphql 7.2 leaves to execution time, where it would surface as
/// a field error with `data` instead of a request error. Values of the wrong type are caught by
/// async-graphql's validation (see [`is_request_error`]).
fn variable_coercion_failures(
    operation: &OperationDefinition,
    variables: &Variables,
) -> Vec<ServerError> {
    operation
        .variable_definitions
        .iter()
        .filter(|definition| !definition.node.var_type.node.nullable)
        .filter_map(|definition| {
            let name = &definition.node.name.node;
            let ty = &definition.node.var_type.node;
            let message = match variables.get(name) {
                Some(Value::Null) => {
                    format!(r#"Variable "${name}" of non-null type "{ty}" must not be null."#)
                }
                None if definition.node.default_value.is_none() => {
                    format!(r#"Variable "${name}" of required type "{ty}" was not provided."#)
                }
                _ => return None,
            };
            Some(with_code(
                ServerError::new(message, Some(definition.pos)),
                "BAD_USER_INPUT",
            ))
        })
        .collect()
}

/// Why the handler refused a request before any GraphQL work; each message is safe to show.
#[derive(Debug)]
enum Rejection {
    MethodNotAllowed,
    MutationOverGet,
    NotAcceptable,
    UnsupportedMediaType,
    PayloadTooLarge,
    BadRequest(&'static str),
}

impl Rejection {
    fn into_response(self, media: MediaType) -> Response {
        let (status, code, message) = match self {
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "GraphQL requests must use GET or POST",
            ),
            Self::MutationOverGet => (
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "mutations must be sent with POST",
            ),
            Self::NotAcceptable => (
                StatusCode::NOT_ACCEPTABLE,
                "NOT_ACCEPTABLE",
                "Accept must allow application/graphql-response+json or application/json",
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "POST bodies must be application/json",
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "the request body is too large",
            ),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, "BAD_USER_INPUT", message),
        };
        let mut response = json_response(status, handler_error_body(message, code), media);
        let allow = match self {
            Self::MethodNotAllowed => Some("GET, POST"),
            Self::MutationOverGet => Some("POST"),
            _ => None,
        };
        if let Some(allow) = allow {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

fn handler_error_body(message: &str, code: &str) -> String {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(header::ACCEPT, value);
        }
        headers
    }

    #[test]
    fn negotiation_follows_the_spec_and_q_values() {
        use MediaType::{GraphqlResponseJson as Gql, Json};
        let cases = [
            ("", Some(Json)),
            ("*/*", Some(Json)),
            ("application/*", Some(Json)),
            ("application/json", Some(Json)),
            ("application/graphql-response+json", Some(Gql)),
            (
                "application/json, application/graphql-response+json",
                Some(Gql),
            ),
            (
                "application/graphql-response+json, application/json;q=0.9",
                Some(Gql),
            ),
            (
                "application/graphql-response+json;q=0.5, application/json",
                Some(Json),
            ),
            ("application/graphql-response+json, */*;q=0.1", Some(Gql)),
            ("application/json;q=0, */*", Some(Gql)),
            ("application/json; charset=utf-8", Some(Json)),
            ("text/html", None),
            ("application/json;q=0", None),
            ("application/json;q=nonsense", None),
        ];
        for (header, expected) in cases {
            assert_eq!(negotiate(&accept(header)), expected, "Accept: {header}");
        }
    }

    #[test]
    fn json_content_type_allows_only_utf8() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            is_json_content_type(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=\"UTF-8\""));
        assert!(!with("application/json; charset=latin1"));
        assert!(!with("text/plain"));
        assert!(!is_json_content_type(&HeaderMap::new()));
    }
}
