//! A page of agents reads only the columns its selection asks for (`store::pages::Columns`): every field
//! of `Agent` and of its `employee`, asked alone, through fragments, under aliases, with `edges` and
//! `nodes` together, and across the cursors of every order, answers what a read of the whole row answers.

use std::sync::{Arc, Mutex};

use async_graphql::Request;
use caresoft_bridge::domain::Trigger;
use caresoft_bridge::graphql::auth::Role;
use caresoft_bridge::graphql::{AppSchema, build_schema, with_request_data};
use caresoft_bridge::hr::{self, ImportOptions};
use caresoft_bridge::sync::SyncRequest;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

use crate::helpers::{StandIn, TestDb, agent_json, api_deps};
use crate::on_both_engines;

const STAFF: &str = "employee_code,full_name,email,phone,department,status
NV001,Nguyễn Văn An,agent1@acme.vn,,Chăm sóc khách hàng,active
NV002,Trần Thị Bình,agent2@acme.vn,0912345678,Kinh doanh,terminated
NV003,Lê Hoàng Cường,agent3@acme.vn,,,active
NV004,Phạm Dũng,dung@acme.vn,0900000004,Kỹ thuật,active
";

/// Agents whose every field differs from the placeholder of a column left unread: statuses unknown to the
/// mapping, an older payload with `login_status` and no `ticket_status`, missing and masked values.
fn roster(with_last: bool) -> Vec<Value> {
    let mut agents: Vec<Value> = (1..=6).map(agent_json).collect();
    agents[1]["call_status"] = json!("BUSY");
    agents[2]["email"] = Value::Null;
    agents[2]["phone_no"] = json!("09****1234");
    agents[2]["username"] = json!("Ánh Dương");
    agents[3]["ticket_status"] = Value::Null;
    agents[3]["login_status"] = json!("LOGOUT");
    agents[4]["group_id"] = json!(200);
    agents[4]["group_name"] = json!("Kinh doanh");
    agents[4]["role_id"] = json!(7);
    agents[5]["created_at"] = Value::Null;
    if !with_last {
        agents.pop();
    }
    agents
}

struct Fixture {
    schema: AppSchema,
    db: DatabaseConnection,
    /// The SQL of every statement sent through `db`.
    sql: Arc<Mutex<Vec<String>>>,
    _caresoft: StandIn,
    _t: TestDb,
}

impl Fixture {
    async fn new(t: TestDb) -> Fixture {
        let caresoft = StandIn::start().await;
        let syncer = Arc::new(caresoft.syncer(t.db.clone(), "50%"));
        caresoft.serve(&roster(true)).await;
        syncer
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("first sync");
        // Agent 6 leaves: a removed row, with its removal time and last sighting.
        caresoft.serve(&roster(false)).await;
        syncer
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("second sync");
        let parsed = hr::parse_employees(STAFF.as_bytes()).expect("CSV");
        hr::import_rows(&t.db, parsed.rows, parsed.errors, ImportOptions::default())
            .await
            .expect("import");

        let mut db = t.another_pool().await;
        let sql = Arc::new(Mutex::new(Vec::new()));
        let seen = sql.clone();
        db.set_metric_callback(move |info| {
            seen.lock()
                .expect("the statement log")
                .push(info.statement.sql.clone());
        });
        let schema = build_schema(api_deps(&db, syncer));
        Fixture {
            schema,
            db,
            sql,
            _caresoft: caresoft,
            _t: t,
        }
    }

    async fn data(&self, query: &str) -> Value {
        let response = self
            .schema
            .execute(with_request_data(
                Request::new(query),
                &self.db,
                Role::Admin,
            ))
            .await;
        assert!(response.errors.is_empty(), "{query}: {:?}", response.errors);
        response.data.into_json().expect("JSON data")
    }

    /// The statements `query` sent, with its data.
    async fn statements(&self, query: &str) -> (Vec<String>, Value) {
        self.sql.lock().expect("the statement log").clear();
        let data = self.data(query).await;
        (
            std::mem::take(&mut *self.sql.lock().expect("the statement log")),
            data,
        )
    }

    /// The fields of `type_name` that take no required argument and return a scalar or an enum (or a list
    /// of them).
    async fn plain_fields(&self, type_name: &str) -> Vec<String> {
        let data = self
            .data(&format!(
                "{{ __type(name: \"{type_name}\") {{ fields {{ name \
                 args {{ type {{ kind }} defaultValue }} \
                 type {{ kind ofType {{ kind ofType {{ kind ofType {{ kind }} }} }} }} }} }} }}"
            ))
            .await;
        let fields = data["__type"]["fields"].as_array().expect("fields");
        let innermost = |mut t: &Value| {
            while !t["ofType"].is_null() {
                t = &t["ofType"];
            }
            t["kind"].as_str().unwrap_or_default().to_string()
        };
        fields
            .iter()
            .filter(|f| {
                f["args"]
                    .as_array()
                    .is_none_or(|args| args.iter().all(|a| a["type"]["kind"] != "NON_NULL"))
            })
            .filter(|f| matches!(innermost(&f["type"]).as_str(), "SCALAR" | "ENUM"))
            .map(|f| f["name"].as_str().expect("name").to_string())
            .collect()
    }
}

fn nodes(data: &Value) -> &Vec<Value> {
    data["agents"]["nodes"].as_array().expect("nodes")
}

/// The page's nodes by agent id.
fn by_id(nodes: &[Value]) -> std::collections::BTreeMap<String, &Value> {
    nodes
        .iter()
        .map(|n| (n["id"].as_str().expect("id").to_string(), n))
        .collect()
}

const PAGE: &str = "agents(first: 100, includeRemoved: true)";

on_both_engines!(
    every_field_reads_right_under_every_selection,
    |t: TestDb| async move {
        let f = Fixture::new(t).await;
        let agent_fields = f.plain_fields("Agent").await;
        let employee_fields = f.plain_fields("Employee").await;
        for expected in [
            "callStatusRaw",
            "ticketStatusRaw",
            "lastSeenAt",
            "matchStatus",
            "domain",
        ] {
            assert!(
                agent_fields.iter().any(|n| n == expected),
                "{agent_fields:?}"
            );
        }
        assert!(employee_fields.iter().any(|n| n == "department"));

        // The reference: `statusEvents` is not in the table of narrow fields, so this page reads whole rows.
        let (sql, full) = f
            .statements(&format!(
                "{{ {PAGE} {{ nodes {{ {} statusEvents {{ at }} employee {{ {} }} }} }} }}",
                agent_fields.join(" "),
                employee_fields.join(" ")
            ))
            .await;
        assert!(
            sql.iter().any(|s| s.contains("search_text")),
            "a whole-row page reads every column: {sql:?}"
        );
        let full = nodes(&full).clone();
        assert_eq!(full.len(), 6, "five current agents and one removed");
        assert!(full.iter().any(|n| !n["removedAt"].is_null()));
        assert!(full.iter().filter(|n| n["employee"].is_object()).count() >= 3);
        let full = by_id(&full);

        for field in &agent_fields {
            let (sql, data) = f
                .statements(&format!("{{ {PAGE} {{ nodes {{ id {field} }} }} }}"))
                .await;
            let page = nodes(&data);
            assert_eq!(page.len(), full.len(), "{field}");
            for node in page {
                let id = node["id"].as_str().expect("id");
                assert_eq!(node[field], full[id][field], "Agent.{field} of agent {id}");
            }
            assert!(
                sql.iter().all(|s| !s.contains("search_text")),
                "a page of {field} reads only the columns it needs: {sql:?}"
            );
        }
        for field in &employee_fields {
            let data = f
                .data(&format!(
                    "{{ {PAGE} {{ nodes {{ id employee {{ {field} }} }} }} }}"
                ))
                .await;
            for node in nodes(&data) {
                let id = node["id"].as_str().expect("id");
                let expected = match &full[id]["employee"] {
                    Value::Null => Value::Null,
                    employee => json!({ field.as_str(): employee[field] }),
                };
                assert_eq!(node["employee"], expected, "Employee.{field} of agent {id}");
            }
        }

        // Fragments (named and inline), aliases, and `edges` beside `nodes`, each asking other fields.
        let data = f
            .data(&format!(
                "query {{ {PAGE} {{ ...Page edges {{ node {{ mail: email ... on Agent {{ groupId }} }} }} }} }}
                 fragment Page on AgentConnection {{ nodes {{ ...Seat who: employee {{ ...Staff }} }} }}
                 fragment Seat on Agent {{ key: id username ... on Agent {{ ticketStatusRaw }} }}
                 fragment Staff on Employee {{ code: employeeCode department }}"
            ))
            .await;
        let edges = data["agents"]["edges"].as_array().expect("edges");
        for (node, edge) in nodes(&data).iter().zip(edges) {
            let id = node["key"].as_str().expect("id");
            let whole = full[id];
            assert_eq!(node["username"], whole["username"], "agent {id}");
            assert_eq!(
                node["ticketStatusRaw"], whole["ticketStatusRaw"],
                "agent {id}"
            );
            assert_eq!(edge["node"]["mail"], whole["email"], "agent {id}");
            assert_eq!(edge["node"]["groupId"], whole["groupId"], "agent {id}");
            let expected = match &whole["employee"] {
                Value::Null => Value::Null,
                e => json!({ "code": e["employeeCode"], "department": e["department"] }),
            };
            assert_eq!(node["who"], expected, "agent {id}");
        }

        // Every order's cursor carries its sort value, which the page must read even when not selected.
        for order in [
            "ID_ASC",
            "ID_DESC",
            "USERNAME_ASC",
            "USERNAME_DESC",
            "LAST_CHANGED_DESC",
        ] {
            let all = f
                .data(&format!(
                    "{{ agents(orderBy: {order}, includeRemoved: true) {{ nodes {{ id }} }} }}"
                ))
                .await;
            let expected: Vec<&Value> = nodes(&all).iter().map(|n| &n["id"]).collect();
            let mut walked = Vec::new();
            let mut after = Value::Null;
            loop {
                let data = f
                    .data(&format!(
                        "{{ agents(orderBy: {order}, includeRemoved: true, first: 2, after: {after}) \
                         {{ pageInfo {{ hasNextPage endCursor }} nodes {{ id }} }} }}"
                    ))
                    .await;
                walked.extend(nodes(&data).iter().map(|n| n["id"].clone()));
                let info = &data["agents"]["pageInfo"];
                if info["hasNextPage"] != json!(true) {
                    break;
                }
                after = info["endCursor"].clone();
            }
            assert_eq!(
                walked.iter().collect::<Vec<_>>(),
                expected,
                "pages of two in {order}"
            );
        }
    }
);
