//! The browser IDEs: GraphiQL at `/` with ready example queries, its assets served from the binary (so it
//! works offline, behind an intranet proxy or a strict CSP), and GraphQL Playground at `/playground`, whose
//! assets are served from the binary too.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

const GRAPHIQL_JS: &[u8] = include_bytes!("../../assets/graphiql/graphiql.min.js");
const GRAPHIQL_CSS: &[u8] = include_bytes!("../../assets/graphiql/graphiql.min.css");
const REACT_JS: &[u8] = include_bytes!("../../assets/graphiql/react.production.min.js");
const REACT_DOM_JS: &[u8] = include_bytes!("../../assets/graphiql/react-dom.production.min.js");
const PLAYGROUND_JS: &[u8] = include_bytes!("../../assets/playground/middleware.js");
const PLAYGROUND_CSS: &[u8] = include_bytes!("../../assets/playground/index.css");
const PLAYGROUND_FAVICON: &[u8] = include_bytes!("../../assets/playground/favicon.png");

/// Where async-graphql's Playground page loads its assets from, and where this server serves them.
const PLAYGROUND_ASSETS: [(&str, &str); 3] = [
    (
        "//cdn.jsdelivr.net/npm/graphql-playground-react/build/static/css/index.css",
        "/ide/playground/index.css",
    ),
    (
        "//cdn.jsdelivr.net/npm/graphql-playground-react/build/favicon.png",
        "/ide/playground/favicon.png",
    ),
    (
        "//cdn.jsdelivr.net/npm/graphql-playground-react/build/static/js/middleware.js",
        "/ide/playground/middleware.js",
    ),
];
/// The page's web fonts, replaced by the system's (see `PLAYGROUND_FONTS`).
const PLAYGROUND_WEB_FONTS: &str = r#"<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Open+Sans:300,400,600,700|Source+Code+Pro:400,700" />"#;
const PLAYGROUND_FONTS: &str = r#"<style>html, body { font-family: "Open Sans", system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }</style>"#;

/// The example queries opened as tabs in the IDE (also printed by `demo`).
pub const EXAMPLES: [(&str, &str); 5] = [
    (
        "Available on chat",
        "# Agents of one group who are available on chat, with the employee holding each seat.\n\
         query AvailableOnChat {\n  agents(group: \"Chăm sóc khách hàng\", channelStatus: {channel: CHAT, status: AVAILABLE}, first: 20) {\n    totalCount\n    nodes { id username chatStatus employee { employeeCode fullName department } }\n  }\n}\n",
    ),
    (
        "Unmatched",
        "# Seats that belong to nobody in HR, and HR staff without a seat.\n\
         query Unmatched {\n  unmatchedAgents(first: 50) { totalCount nodes { id username email phoneNo groupName } }\n  unmatchedEmployees(first: 50) { totalCount nodes { employeeCode fullName email department } }\n}\n",
    ),
    (
        "Departed staff",
        "# Seats still held by people who left: candidates to cut.\n\
         query DepartedStaffWithSeats {\n  agents(employeeStatus: TERMINATED, first: 50) {\n    totalCount\n    nodes { id username groupName lastSeenAt employee { employeeCode fullName status } }\n  }\n}\n",
    ),
    (
        "Status by group",
        "# Per group, agents per channel and status.\n\
         query StatusByGroup {\n  groups { id name agentCount availableOnCall: available(channel: CALL) counts { channel status count } }\n  freshness { lastSuccessAt ageSeconds lastRun { outcome error } }\n}\n",
    ),
    (
        "Review",
        "# AMBIGUOUS and CONFLICT seats with the employees their email or phone point at.\n\
         query Review {\n  reviewAgents(first: 20) {\n    totalCount\n    nodes { id username email phoneNo matchStatus candidates { via employee { employeeCode fullName email phone } } }\n  }\n}\n",
    ),
];

fn asset(body: &'static [u8], content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // The assets change only with the binary; let browsers keep them for a day.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        body,
    )
        .into_response()
}

/// `/ide/graphiql.min.js`
pub async fn graphiql_js() -> Response {
    asset(GRAPHIQL_JS, "application/javascript; charset=utf-8")
}
/// `/ide/graphiql.min.css`
pub async fn graphiql_css() -> Response {
    asset(GRAPHIQL_CSS, "text/css; charset=utf-8")
}
/// `/ide/react.production.min.js`
pub async fn react_js() -> Response {
    asset(REACT_JS, "application/javascript; charset=utf-8")
}
/// `/ide/react-dom.production.min.js`
pub async fn react_dom_js() -> Response {
    asset(REACT_DOM_JS, "application/javascript; charset=utf-8")
}

/// `/ide/playground/middleware.js`
pub async fn playground_js() -> Response {
    asset(PLAYGROUND_JS, "application/javascript; charset=utf-8")
}
/// `/ide/playground/index.css`
pub async fn playground_css() -> Response {
    asset(PLAYGROUND_CSS, "text/css; charset=utf-8")
}
/// `/ide/playground/favicon.png`
pub async fn playground_favicon() -> Response {
    asset(PLAYGROUND_FAVICON, "image/png")
}

/// GraphiQL, opened on the example queries; the token field sends `Authorization` on every request.
pub async fn graphiql() -> Html<String> {
    let tabs: Vec<serde_json::Value> = EXAMPLES
        .iter()
        .map(|(_, query)| serde_json::json!({ "query": query }))
        .collect();
    let tabs = serde_json::to_string(&tabs).unwrap_or_else(|_| "[]".into());
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>caresoft-bridge · GraphiQL</title>
  <link rel="stylesheet" href="/ide/graphiql.min.css">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading the IDE…</div>
  <script src="/ide/react.production.min.js"></script>
  <script src="/ide/react-dom.production.min.js"></script>
  <script src="/ide/graphiql.min.js"></script>
  <script>
    const wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';
    const fetcher = GraphiQL.createFetcher({{ url: '/graphql', subscriptionUrl: wsUrl }});
    const root = ReactDOM.createRoot(document.getElementById('graphiql'));
    root.render(React.createElement(GraphiQL, {{
      fetcher,
      defaultTabs: {tabs},
      defaultHeaders: JSON.stringify({{ Authorization: 'Bearer <token, if the server has BRIDGE_*_TOKENS>' }}, null, 2),
      shouldPersistHeaders: true,
    }}));
  </script>
</body>
</html>"#
    ))
}

/// GraphQL Playground, for teams used to it: async-graphql's page (pinned with async-graphql 7.2), its
/// CDN assets pointed at this server and its web fonts replaced by the system's, so that it works with no
/// internet. A test checks that nothing external is left on the page.
pub async fn playground() -> Html<String> {
    Html(playground_page())
}

fn playground_page() -> String {
    let mut page = async_graphql::http::playground_source(
        async_graphql::http::GraphQLPlaygroundConfig::new("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("caresoft-bridge · GraphQL Playground"),
    );
    for (cdn, local) in PLAYGROUND_ASSETS {
        page = page.replace(cdn, local);
    }
    page.replace(PLAYGROUND_WEB_FONTS, PLAYGROUND_FONTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_playground_page_loads_nothing_from_elsewhere() {
        let page = playground_page();
        for (_, local) in PLAYGROUND_ASSETS {
            assert!(page.contains(local), "{local} is not on the page");
        }
        for external in [
            "//cdn.",
            "googleapis",
            "src=\"http",
            "href=\"http",
            "src=\"//",
            "href=\"//",
        ] {
            assert!(
                !page.contains(external),
                "the page still loads {external:?}"
            );
        }
    }
}
