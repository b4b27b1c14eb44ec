//! The GraphQL schema in process (`schema.execute`): every query, filter, mutation and pagination edge,
//! the role rules, error codes, the statement count of a page, and the SDL golden file.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Request, Variables};
use caresoft_bridge::config::MaxRemoval;
use caresoft_bridge::domain::Trigger;
use caresoft_bridge::graphql::auth::Role;
use caresoft_bridge::graphql::{ApiDeps, AppSchema, build_schema, with_request_data};
use caresoft_bridge::hr::{self, ImportOptions};
use caresoft_bridge::sync::SyncRequest;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

use crate::helpers::{StandIn, TestDb, api_deps};
use crate::on_both_engines;

const STAFF: &str = "employee_code,full_name,email,phone,department,status
NV001,Nguyễn Văn An,an@acme.vn,,Chăm sóc khách hàng,active
NV002,Trần Thị Bình,binh@acme.vn,0912345678,Kinh doanh,terminated
NV003,Lê Hoàng Cường,cuong@acme.vn,,Kỹ thuật,active
NV004A,Phạm Dũng,shared@acme.vn,,Kỹ thuật,active
NV004B,Phạm Dung,shared@acme.vn,,Kỹ thuật,active
NV009,Đỗ Thị Không Ghế,noseat@acme.vn,,Kinh doanh,active
";

fn agent(id: i64, group: (i64, &str), email: Option<&str>, call: &str, chat: &str) -> Value {
    json!({"id": id, "username": format!("Chuyên viên {id:02}"), "email": email, "phone_no": null,
           "agent_id": format!("{}", 5000 + id), "group_id": group.0, "group_name": group.1, "role_id": 1,
           "call_status": call, "chat_status": chat, "ticket_status": "LOGOUT"})
}

const CSKH: (i64, &str) = (100, "Chăm sóc khách hàng");
const SALES: (i64, &str) = (200, "Kinh doanh");

fn roster() -> Vec<Value> {
    let mut agents = vec![
        agent(1, CSKH, Some("an@acme.vn"), "AVAILABLE", "AVAILABLE"),
        agent(2, SALES, Some("binh@acme.vn"), "NOT AVAILABLE", "AVAILABLE"),
        agent(3, CSKH, Some("cuong@acme.vn"), "LOGOUT", "NOT AVAILABLE"),
        agent(4, CSKH, Some("shared@acme.vn"), "AVAILABLE", "LOGOUT"),
        agent(5, SALES, Some("ghost@acme.vn"), "AVAILABLE", "AVAILABLE"),
        // Nguyễn Văn An holds a second seat.
        agent(6, SALES, Some("AN@acme.vn"), "BUSY", "AVAILABLE"),
    ];
    agents.extend((10..70).map(|id| agent(id, SALES, None, "LOGOUT", "LOGOUT")));
    agents
}

struct Api {
    schema: AppSchema,
    db: DatabaseConnection,
    caresoft: StandIn,
    t: TestDb,
}

impl Api {
    async fn new(t: TestDb) -> Api {
        let caresoft = StandIn::start().await;
        caresoft.serve(&roster()).await;
        let syncer = Arc::new(caresoft.syncer(t.db.clone(), "20%"));
        syncer
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("first sync");
        let parsed = hr::parse_employees(STAFF.as_bytes()).expect("CSV");
        hr::import_rows(&t.db, parsed.rows, parsed.errors, ImportOptions::default())
            .await
            .expect("import");
        let schema = build_schema(ApiDeps {
            max_removal: MaxRemoval::parse("20%").expect("share"),
            seat_price: Some(caresoft_bridge::seats::Money::parse("350000 VND").expect("price")),
            ..api_deps(&t.db, syncer)
        });
        Api {
            schema,
            db: t.db.clone(),
            caresoft,
            t,
        }
    }

    async fn run_as(&self, role: Role, query: &str, variables: Value) -> async_graphql::Response {
        let request = Request::new(query).variables(Variables::from_json(variables));
        self.schema
            .execute(with_request_data(request, &self.db, role))
            .await
    }

    /// Runs as admin and returns `data`, failing on any error.
    async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.run_as(Role::Admin, query, variables).await;
        assert!(response.errors.is_empty(), "{query}: {:?}", response.errors);
        response.data.into_json().expect("JSON data")
    }

    /// Runs as admin and returns the first error's code.
    async fn error_code(&self, query: &str, variables: Value) -> String {
        let response = self.run_as(Role::Admin, query, variables).await;
        let error = response
            .errors
            .first()
            .unwrap_or_else(|| panic!("{query} should fail"));
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .cloned();
        match code {
            Some(async_graphql::Value::String(code)) => code,
            other => panic!("error without a code: {error:?} {other:?}"),
        }
    }
}

fn ids(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_string())
        .collect()
}

on_both_engines!(agents_filters_combine, |t: TestDb| async move {
    let api = Api::new(t).await;
    let q = "query($g: String, $gid: Int, $cs: ChannelStatusInput, $m: MatchStatus, $e: EmployeeStatus, $s: String) {
        agents(group: $g, groupId: $gid, channelStatus: $cs, matchStatus: $m, employeeStatus: $e, search: $s, first: 100) {
            totalCount nodes { id } } }";
    let cases = [
        (json!({"g": "Chăm sóc khách hàng"}), vec!["1", "3", "4"]),
        (
            json!({"gid": 100, "cs": {"channel": "CALL", "status": "AVAILABLE"}}),
            vec!["1", "4"],
        ),
        (json!({"cs": {"status": "NOT_AVAILABLE"}}), vec!["2", "3"]),
        (
            json!({"cs": {"channel": "CALL", "status": "UNKNOWN"}}),
            vec!["6"],
        ),
        (json!({"m": "AMBIGUOUS"}), vec!["4"]),
        (json!({"m": "MATCHED", "gid": 200}), vec!["2", "6"]),
        (json!({"e": "TERMINATED"}), vec!["2"]),
        (json!({"s": "GHOST"}), vec!["5"]),
        (json!({"s": "5003"}), vec!["3"]),
        (
            json!({"g": "Kinh doanh", "cs": {"channel": "CHAT", "status": "AVAILABLE"}, "m": "UNMATCHED"}),
            vec!["5"],
        ),
    ];
    for (variables, expected) in cases {
        let data = api.data(q, variables.clone()).await;
        assert_eq!(ids(&data["agents"]), expected, "{variables}");
        assert_eq!(data["agents"]["totalCount"], expected.len(), "{variables}");
    }
});

on_both_engines!(
    pages_follow_relay_and_stay_stable_while_rows_are_added,
    |t: TestDb| async move {
        let api = Api::new(t).await;
        let q = "query($first: Int, $after: String, $o: AgentOrderBy) { agents(first: $first, after: $after, orderBy: $o) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } nodes { id } } }";
        let all = api.data(q, json!({})).await;
        assert_eq!(all["agents"]["totalCount"], 66);
        assert_eq!(ids(&all["agents"]).len(), 50, "first defaults to 50");
        assert_eq!(all["agents"]["pageInfo"]["hasNextPage"], true);

        let first = api.data(q, json!({"first": 3})).await;
        assert_eq!(ids(&first["agents"]), ["1", "2", "3"]);
        let cursor = first["agents"]["pageInfo"]["endCursor"]
            .as_str()
            .expect("cursor")
            .to_string();
        assert_eq!(first["agents"]["edges"][2]["cursor"], cursor.as_str());

        // A new agent with a smaller id arrives between the two pages: the next page neither repeats nor skips.
        let mut agents = roster();
        agents.push(agent(0, CSKH, None, "LOGOUT", "LOGOUT"));
        api.caresoft.serve(&agents).await;
        api.caresoft
            .syncer(api.db.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        let next = api.data(q, json!({"first": 3, "after": cursor})).await;
        assert_eq!(ids(&next["agents"]), ["4", "5", "6"]);

        let by_name = api.data(q, json!({"first": 2, "o": "USERNAME_DESC"})).await;
        assert_eq!(ids(&by_name["agents"]), ["69", "68"]);
        let after = by_name["agents"]["pageInfo"]["endCursor"]
            .as_str()
            .expect("cursor");
        let more = api
            .data(q, json!({"first": 2, "o": "USERNAME_DESC", "after": after}))
            .await;
        assert_eq!(ids(&more["agents"]), ["67", "66"]);

        let last = api.data(q, json!({"first": 500, "after": cursor})).await;
        assert_eq!(last["agents"]["pageInfo"]["hasNextPage"], false);
    }
);

on_both_engines!(
    bad_page_arguments_are_bad_user_input,
    |t: TestDb| async move {
        let api = Api::new(t).await;
        let q = "query($first: Int, $after: String, $o: AgentOrderBy) { agents(first: $first, after: $after, orderBy: $o) { nodes { id } } }";
        assert_eq!(
            api.error_code(q, json!({"first": -1})).await,
            "BAD_USER_INPUT"
        );
        let capped = api.data(q, json!({"first": 501})).await;
        assert_eq!(
            capped["agents"]["nodes"].as_array().map(Vec::len),
            Some(66),
            "501 is capped at 500"
        );
        assert_eq!(
            api.error_code(q, json!({"after": "garbage!"})).await,
            "BAD_USER_INPUT"
        );
        let employees = api
            .data(
                "{ employees(first: 1) { pageInfo { endCursor } } }",
                json!({}),
            )
            .await;
        let foreign = employees["employees"]["pageInfo"]["endCursor"]
            .as_str()
            .expect("cursor");
        assert_eq!(
            api.error_code(q, json!({"after": foreign})).await,
            "BAD_USER_INPUT",
            "a cursor of another list"
        );
        let by_id = api
            .data("{ agents(first: 1) { pageInfo { endCursor } } }", json!({}))
            .await;
        let other_order = by_id["agents"]["pageInfo"]["endCursor"]
            .as_str()
            .expect("cursor");
        assert_eq!(
            api.error_code(q, json!({"after": other_order, "o": "USERNAME_ASC"}))
                .await,
            "BAD_USER_INPUT"
        );
        assert_eq!(
            api.error_code("{ agent(id: \"abc\") { id } }", json!({}))
                .await,
            "BAD_USER_INPUT"
        );
    }
);

on_both_engines!(
    agents_employees_and_the_unmatched_lists,
    |t: TestDb| async move {
        let api = Api::new(t).await;
        let data = api
        .data(
            r#"{
            agent(id: "1") { id username agentId groupId groupName callStatus chatStatus ticketStatus ticketStatusRaw
                             matchStatus matchedBy employee { employeeCode fullName status } removedAt }
            missing: agent(id: "424242") { id }
            employee(code: "NV001") { fullName department agents { id } }
            unmatchedAgents(first: 100) { totalCount nodes { id } }
            unmatchedEmployees { totalCount nodes { employeeCode } }
            employees(search: "phạm") { totalCount nodes { employeeCode } }
            terminated: employees(status: TERMINATED) { nodes { employeeCode } }
        }"#,
            json!({}),
        )
        .await;
        assert_eq!(
            data["agent"],
            json!({"id": "1", "username": "Chuyên viên 01", "agentId": "5001", "groupId": 100, "groupName": "Chăm sóc khách hàng",
               "callStatus": "AVAILABLE", "chatStatus": "AVAILABLE", "ticketStatus": "LOGOUT", "ticketStatusRaw": "LOGOUT",
               "matchStatus": "MATCHED", "matchedBy": "EMAIL",
               "employee": {"employeeCode": "NV001", "fullName": "Nguyễn Văn An", "status": "ACTIVE"}, "removedAt": null})
        );
        assert_eq!(data["missing"], Value::Null);
        assert_eq!(
            data["employee"]["agents"],
            json!([{"id": "1"}, {"id": "6"}]),
            "two seats, one person"
        );
        assert_eq!(data["unmatchedAgents"]["totalCount"], 61);
        assert_eq!(ids(&data["unmatchedAgents"])[0], "5");
        let codes: Vec<&str> = data["unmatchedEmployees"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .filter_map(|n| n["employeeCode"].as_str())
            .collect();
        assert_eq!(codes, ["NV004A", "NV004B", "NV009"]);
        assert_eq!(data["employees"]["totalCount"], 2);
        assert_eq!(
            data["terminated"]["nodes"],
            json!([{"employeeCode": "NV002"}])
        );
    }
);

on_both_engines!(groups_count_statuses_per_channel, |t: TestDb| async move {
    let api = Api::new(t).await;
    let data = api
        .data(
            "{ groups { id name agentCount onCall: available(channel: CALL) counts { channel status count } }
               statusSummary(groupId: 100) { channel status count } }",
            json!({}),
        )
        .await;
    let groups = data["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 2);
    assert_eq!(
        (
            groups[0]["id"].clone(),
            groups[0]["agentCount"].clone(),
            groups[0]["onCall"].clone()
        ),
        (json!(100), json!(3), json!(2))
    );
    assert_eq!(
        (groups[1]["name"].clone(), groups[1]["agentCount"].clone()),
        (json!("Kinh doanh"), json!(63))
    );
    let count = |counts: &Value, channel: &str, status: &str| {
        counts
            .as_array()
            .expect("counts")
            .iter()
            .find(|c| c["channel"] == channel && c["status"] == status)
            .expect("combo")["count"]
            .clone()
    };
    assert_eq!(count(&groups[1]["counts"], "CHAT", "AVAILABLE"), 3);
    assert_eq!(count(&groups[1]["counts"], "CALL", "UNKNOWN"), 1);
    assert_eq!(count(&groups[1]["counts"], "TICKET", "LOGOUT"), 63);
    assert_eq!(data["statusSummary"].as_array().expect("summary").len(), 12);
    assert_eq!(count(&data["statusSummary"], "CHAT", "NOT_AVAILABLE"), 1);
});

on_both_engines!(review_history_and_freshness, |t: TestDb| async move {
    let api = Api::new(t).await;
    let mut agents = roster();
    agents[0]["call_status"] = "LOGOUT".into();
    agents[0]["group_name"] = "Kinh doanh".into();
    api.caresoft.serve(&agents).await;
    api.caresoft
        .syncer(api.db.clone(), "20%")
        .run(SyncRequest::new(Trigger::Cli))
        .await
        .expect("sync");

    let data = api
        .data(
            r#"{ reviewAgents { totalCount nodes { id matchStatus matchedBy employee { id } candidates { via employee { employeeCode } } } }
                 agent(id: "1") {
                   statusEvents { channel from to toRaw }
                   rosterChanges { field oldValue newValue }
                   linkChanges { oldStatus newStatus newMethod newEmployee { employeeCode } cause } }
                 syncRuns(first: 5) { trigger outcome fetched added updated statusChanges error durationSeconds }
                 freshness { ageSeconds lastRun { outcome } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["reviewAgents"],
        json!({"totalCount": 1, "nodes": [{"id": "4", "matchStatus": "AMBIGUOUS", "matchedBy": null, "employee": null,
               "candidates": [{"via": "EMAIL", "employee": {"employeeCode": "NV004A"}}, {"via": "EMAIL", "employee": {"employeeCode": "NV004B"}}]}]})
    );
    let agent = &data["agent"];
    assert_eq!(
        agent["statusEvents"][0],
        json!({"channel": "CALL", "from": "AVAILABLE", "to": "LOGOUT", "toRaw": "LOGOUT"})
    );
    assert_eq!(
        agent["statusEvents"].as_array().expect("events").len(),
        4,
        "three first sightings and one change"
    );
    assert_eq!(
        agent["rosterChanges"],
        json!([{"field": "group_name", "oldValue": "Chăm sóc khách hàng", "newValue": "Kinh doanh"}])
    );
    assert_eq!(
        agent["linkChanges"],
        json!([{"oldStatus": "UNMATCHED", "newStatus": "MATCHED", "newMethod": "EMAIL", "newEmployee": {"employeeCode": "NV001"}, "cause": "import"},
               {"oldStatus": null, "newStatus": "UNMATCHED", "newMethod": null, "newEmployee": null, "cause": "sync"}])
    );
    let runs = data["syncRuns"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (
            runs[0]["outcome"].clone(),
            runs[0]["updated"].clone(),
            runs[0]["statusChanges"].clone()
        ),
        (json!("SUCCEEDED"), json!(1), json!(1))
    );
    assert_eq!(runs[1]["added"], 66);
    assert_eq!(data["freshness"]["lastRun"]["outcome"], "SUCCEEDED");
    assert!(
        data["freshness"]["ageSeconds"]
            .as_i64()
            .is_some_and(|age| (0..60).contains(&age))
    );
});

on_both_engines!(overrides_through_mutations, |t: TestDb| async move {
    let api = Api::new(t).await;
    let link = api
        .data(r#"mutation { linkAgent(agentId: "5", employeeCode: "NV009") { id matchStatus matchedBy employee { employeeCode } } }"#, json!({}))
        .await;
    assert_eq!(
        link["linkAgent"],
        json!({"id": "5", "matchStatus": "MATCHED", "matchedBy": "MANUAL", "employee": {"employeeCode": "NV009"}})
    );
    let ignored = api
        .data(
            r#"mutation { ignoreAgent(agentId: "10") { matchStatus } }"#,
            json!({}),
        )
        .await;
    assert_eq!(ignored["ignoreAgent"]["matchStatus"], "IGNORED");
    let unlinked = api
        .data(
            r#"mutation { unlinkAgent(agentId: "5") { matchStatus matchedBy } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        unlinked["unlinkAgent"],
        json!({"matchStatus": "UNMATCHED", "matchedBy": null})
    );
    let counts = api
        .data("{ unmatchedAgents { totalCount } }", json!({}))
        .await;
    assert_eq!(
        counts["unmatchedAgents"]["totalCount"], 60,
        "the ignored seat left the list"
    );

    assert_eq!(
        api.error_code(
            r#"mutation { linkAgent(agentId: "5", employeeCode: "NOPE") { id } }"#,
            json!({})
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        api.error_code(
            r#"mutation { linkAgent(agentId: "999", employeeCode: "NV001") { id } }"#,
            json!({})
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        api.error_code(
            r#"mutation { unlinkAgent(agentId: "5") { id } }"#,
            json!({})
        )
        .await,
        "BAD_USER_INPUT"
    );
});

on_both_engines!(
    upsert_employees_shares_the_import_rules,
    |t: TestDb| async move {
        let api = Api::new(t).await;
        let q = "mutation($rows: [EmployeeInput!]!, $replace: Boolean, $dry: Boolean) {
        upsertEmployees(rows: $rows, replace: $replace, dryRun: $dry) { added updated removed unchanged dryRun } }";
        let rows = json!([
            {"employeeCode": "NV005", "fullName": "Võ Thị Em", "email": "ghost@acme.vn", "status": "ACTIVE"},
            {"employeeCode": "NV009", "fullName": "Đỗ Thị Không Ghế", "email": "noseat@acme.vn", "department": "Kinh doanh"}
        ]);
        let dry = api.data(q, json!({"rows": rows, "dry": true})).await;
        assert_eq!(
            dry["upsertEmployees"],
            json!({"added": 1, "updated": 0, "removed": 0, "unchanged": 1, "dryRun": true})
        );
        let done = api.data(q, json!({"rows": rows})).await;
        assert_eq!(done["upsertEmployees"]["added"], 1);
        let agent = api
            .data(
                r#"{ agent(id: "5") { matchStatus employee { employeeCode } } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            agent["agent"],
            json!({"matchStatus": "MATCHED", "employee": {"employeeCode": "NV005"}})
        );

        let bad = api
        .run_as(Role::Admin, q, json!({"rows": [{"employeeCode": " "}, {"employeeCode": "X1", "email": "a@@b"}, {"employeeCode": "X1"}]}))
        .await;
        let error = &bad.errors[0];
        let extensions = error.extensions.as_ref().expect("extensions");
        assert_eq!(
            extensions.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
        let issues = extensions
            .get("rows")
            .cloned()
            .expect("rows")
            .into_json()
            .expect("json");
        assert_eq!(issues.as_array().map(Vec::len), Some(3), "{issues}");
        assert_eq!(issues[0]["row"], 1);
        assert_eq!(issues[0]["column"], "employee_code");
        assert_eq!(issues[1]["column"], "email");
        assert!(
            issues[2]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("duplicate")
        );

        let guard = api
            .run_as(
                Role::Admin,
                q,
                json!({"rows": [rows[0].clone()], "replace": true}),
            )
            .await;
        assert!(
            guard.errors[0].message.contains("refused")
                && guard.errors[0].message.ends_with("allowMassRemoval: true")
                && !guard.errors[0].message.contains("--"),
            "{:?}",
            guard.errors
        );
        assert_eq!(
            api.t.count("employees").await,
            7,
            "nothing removed by the refused call"
        );
    }
);

on_both_engines!(sync_now_returns_the_run, |t: TestDb| async move {
    let api = Api::new(t).await;
    let data = api
        .data(
            "mutation { syncNow(dryRun: true) { trigger outcome fetched unchanged } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["syncNow"],
        json!({"trigger": "API", "outcome": "DRY_RUN", "fetched": 66, "unchanged": 66})
    );
    let data = api
        .data("mutation { syncNow { outcome } }", json!({}))
        .await;
    assert_eq!(data["syncNow"]["outcome"], "SUCCEEDED");
});

on_both_engines!(readers_cannot_mutate, |t: TestDb| async move {
    let api = Api::new(t).await;
    for mutation in [
        "mutation { syncNow { id } }",
        r#"mutation { linkAgent(agentId: "1", employeeCode: "NV001") { id } }"#,
        r#"mutation { unlinkAgent(agentId: "1") { id } }"#,
        r#"mutation { ignoreAgent(agentId: "1") { id } }"#,
        r#"mutation { upsertEmployees(rows: []) { added } }"#,
    ] {
        let response = api.run_as(Role::Read, mutation, json!({})).await;
        let code = response
            .errors
            .first()
            .and_then(|e| e.extensions.as_ref())
            .and_then(|e| e.get("code"))
            .cloned();
        assert_eq!(
            code,
            Some(async_graphql::Value::from("FORBIDDEN")),
            "{mutation}"
        );
    }
    let read = api
        .run_as(Role::Read, "{ agents(first: 1) { totalCount } }", json!({}))
        .await;
    assert!(read.errors.is_empty());
    assert_eq!(
        api.t.count("sync_runs").await,
        1,
        "no sync ran for the reader"
    );
});

/// Runs `query` as a reader on a pool of its own and returns the statements it sent, with its data.
async fn counting(t: &TestDb, query: &str) -> (usize, Value) {
    let mut db = t.another_pool().await;
    let counter = Arc::new(AtomicUsize::new(0));
    let seen = counter.clone();
    db.set_metric_callback(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let caresoft = StandIn::start().await;
    let schema = build_schema(api_deps(&db, Arc::new(caresoft.syncer(db.clone(), "20%"))));
    let response = schema
        .execute(with_request_data(Request::new(query), &db, Role::Read))
        .await;
    assert!(response.errors.is_empty(), "{query}: {:?}", response.errors);
    let data = response.data.into_json().expect("JSON data");
    (counter.load(Ordering::SeqCst), data)
}

/// Counts the statements a page costs: it must not grow with the page size.
async fn statements_for(t: &TestDb, first: usize) -> usize {
    let query = format!(
        "{{ agents(first: {first}) {{ totalCount nodes {{ id username matchStatus matchedBy lastSeenAt employee {{ employeeCode agents {{ id }} }} }} }}
           groups {{ id agentCount counts {{ count }} }} }}"
    );
    counting(t, &query).await.0
}

on_both_engines!(
    a_page_of_agents_with_their_employees_is_one_statement,
    |t: TestDb| async move {
        let api = Api::new(t).await;
        let (statements, data) = counting(
            &api.t,
            r#"{ agents(group: "Chăm sóc khách hàng", first: 3) { pageInfo { hasNextPage }
                 nodes { id matchStatus matchedBy employee { employeeCode status } } } }"#,
        )
        .await;
        assert_eq!(statements, 1, "page, links and employees in one statement");
        assert_eq!(
            data["agents"],
            json!({ "pageInfo": { "hasNextPage": false }, "nodes": [
                { "id": "1", "matchStatus": "MATCHED", "matchedBy": "EMAIL",
                  "employee": { "employeeCode": "NV001", "status": "ACTIVE" } },
                { "id": "3", "matchStatus": "MATCHED", "matchedBy": "EMAIL",
                  "employee": { "employeeCode": "NV003", "status": "ACTIVE" } },
                { "id": "4", "matchStatus": "AMBIGUOUS", "matchedBy": null, "employee": null },
            ]})
        );
        // Through edges, the same agents carry the same joined link and employee; the employee's own
        // seats (NV001 holds two) come from their loader.
        let (statements, data) = counting(
            &api.t,
            r#"{ agents(group: "Chăm sóc khách hàng", first: 3) {
                 edges { node { id matchStatus employee { employeeCode agents { id } } } } } }"#,
        )
        .await;
        assert_eq!(
            statements, 3,
            "the joined page, then the seats' links and agents"
        );
        assert_eq!(
            data["agents"]["edges"],
            json!([
                { "node": { "id": "1", "matchStatus": "MATCHED",
                            "employee": { "employeeCode": "NV001", "agents": [{ "id": "1" }, { "id": "6" }] } } },
                { "node": { "id": "3", "matchStatus": "MATCHED",
                            "employee": { "employeeCode": "NV003", "agents": [{ "id": "3" }] } } },
                { "node": { "id": "4", "matchStatus": "AMBIGUOUS", "employee": null } },
            ])
        );
        // Ordered by username, descending, the join keeps the page's order and its cursor.
        let (_, data) = counting(
            &api.t,
            r#"{ agents(group: "Chăm sóc khách hàng", orderBy: USERNAME_DESC, first: 2) {
                 pageInfo { hasNextPage } nodes { id employee { employeeCode } } } }"#,
        )
        .await;
        assert_eq!(
            data["agents"],
            json!({ "pageInfo": { "hasNextPage": true }, "nodes": [
                { "id": "4", "employee": null },
                { "id": "3", "employee": { "employeeCode": "NV003" } },
            ]})
        );
    }
);

on_both_engines!(a_count_alone_reads_no_page, |t: TestDb| async move {
    let api = Api::new(t).await;
    let (statements, data) =
        counting(&api.t, "{ unmatchedEmployees(first: 50) { totalCount } }").await;
    assert_eq!(statements, 2, "the write version and the COUNT, no page");
    // NV009 has no seat and NV004A/B share the email of an AMBIGUOUS one; NV002 left, so is not counted.
    assert_eq!(data["unmatchedEmployees"]["totalCount"], json!(3));
    let (statements, data) =
        counting(&api.t, r#"{ agents(group: "Kinh doanh") { totalCount } }"#).await;
    assert_eq!(statements, 2);
    assert_eq!(data["agents"]["totalCount"], json!(63));
});

on_both_engines!(
    a_page_costs_the_same_statements_whatever_its_size,
    |t: TestDb| async move {
        let _api = Api::new(t).await;
        let t = &_api.t;
        let small = statements_for(t, 5).await;
        let large = statements_for(t, 50).await;
        assert_eq!(small, large, "statement count grows with the page: N+1");
        assert!(
            large <= 10,
            "a page with employees and groups took {large} statements"
        );
    }
);

#[test]
fn schema_graphql_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .unwrap_or_default();
    let current = caresoft_bridge::graphql::sdl();
    assert!(
        committed == current,
        "schema.graphql is out of date; regenerate it with: cargo run -- schema > schema.graphql"
    );
}

on_both_engines!(
    search_ignores_case_diacritics_and_unicode_form,
    |t: TestDb| async move {
        // Arrange: Vietnamese names as CareSoft and HR spell them, one of them in NFD.
        let api = Api::new(t).await;
        let named = |id: i64, username: &str| {
            let mut agent = agent(id, CSKH, None, "AVAILABLE", "LOGOUT");
            agent["username"] = json!(username);
            agent
        };
        let nfd_nguyen = "Nguye\u{0302}\u{0303}n Thu Trang";
        api.caresoft
            .serve(&[
                named(1, "Đặng Mỹ Vy"),
                named(2, "Đỗ Khánh Thảo"),
                named(3, "Đinh Gia Tùng"),
                named(4, "Nguyễn Văn Hùng"),
                named(5, nfd_nguyen),
                named(6, "Trương Thị Ơn"),
            ])
            .await;
        let syncer = api.caresoft.syncer(api.db.clone(), "100%");
        syncer
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        let api = &api;
        let agents = |term: &str| {
            let query = "query($s: String) { agents(search: $s) { nodes { id } } }";
            let variables = json!({"s": term});
            async move {
                let mut found = ids(&api.data(query, variables).await["agents"]);
                found.sort();
                found
            }
        };
        let employees = |term: &str| {
            let query = "query($s: String) { employees(search: $s) { nodes { employeeCode } } }";
            let variables = json!({"s": term});
            async move {
                let data = api.data(query, variables).await;
                let mut codes: Vec<String> = data["employees"]["nodes"]
                    .as_array()
                    .expect("nodes")
                    .iter()
                    .map(|n| n["employeeCode"].as_str().expect("code").to_string())
                    .collect();
                codes.sort();
                codes
            }
        };

        // Act and assert: each spelling finds the same agents.
        for term in ["Đặng", "đặng", "ĐẶNG", "dang", "DANG", "  dang  my "] {
            assert_eq!(agents(term).await, ["1"], "{term:?}");
        }
        for term in ["Đỗ", "do khanh", "thao"] {
            assert_eq!(agents(term).await, ["2"], "{term:?}");
        }
        assert_eq!(agents("Đinh").await, ["3"]);
        assert_eq!(agents("dinh gia").await, ["3"]);
        for term in ["nguyen", "Nguyễn", "NGUYỄN", "Nguye\u{0302}\u{0303}n"] {
            assert_eq!(agents(term).await, ["4", "5"], "{term:?}");
        }
        assert_eq!(agents("on").await, ["6"], "ư, ơ fold to u, o");
        assert_eq!(agents("truong").await, ["6"]);
        assert!(agents("dang_").await.is_empty(), "_ is not a wildcard");
        assert!(agents("%").await.is_empty(), "% is not a wildcard");
        // Employees: name, department, code, email.
        assert_eq!(employees("nguyen van an").await, ["NV001"]);
        assert_eq!(employees("KY THUAT").await, ["NV003", "NV004A", "NV004B"]);
        assert_eq!(employees("pham dung").await, ["NV004A", "NV004B"]);
        assert_eq!(employees("phạm dũng").await, ["NV004A", "NV004B"]);
        assert_eq!(employees("do thi khong ghe").await, ["NV009"]);
        assert_eq!(employees("nv00").await.len(), 6);
        assert_eq!(employees("binh@").await, ["NV002"]);
    }
);

on_both_engines!(
    orphan_seats_carry_ranked_suggestions_that_an_admin_accepts,
    |t: TestDb| async move {
        // Arrange: seats nobody's keys match, and HR staff who may own them.
        let api = Api::new(t).await;
        let seat = |id: i64, username: &str, email: Option<&str>, phone: Option<&str>| {
            let mut agent = agent(id, CSKH, email, "AVAILABLE", "LOGOUT");
            agent["username"] = json!(username);
            agent["phone_no"] = json!(phone);
            agent
        };
        api.caresoft
            .serve(&[
                // Matched by email: holds a seat, so never a suggestion.
                seat(1, "An CSKH", Some("an@acme.vn"), None),
                seat(21, "Thảo Đặng Phương", None, None),
                seat(22, "Thảo", Some("thao.dpt@gmail.com"), None),
                seat(23, "Lê Minh Khoa", None, None),
                seat(24, "Nguyễn Văn Bình", None, None),
                // CareSoft masks part of the number: no phone key, but its last 7 digits.
                seat(25, "Hà Tổng đài", None, Some("09**111.2233")),
                seat(26, "Trực tổng đài", None, Some("09**111.2233")),
            ])
            .await;
        api.caresoft
            .syncer(api.db.clone(), "100%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        let staff = "employee_code,full_name,email,phone,department,status
NV001,Nguyễn Văn An,an@acme.vn,,Chăm sóc khách hàng,active
NV101,Đặng Phương Thu Thảo,,,Chăm sóc khách hàng,active
NV102,Lê Minh Khoa,,,Kinh doanh,active
NV103,Lê Minh Khoa,,,Kinh doanh,terminated
NV104,Nguyễn Văn Cường,,,Kinh doanh,active
NV105,Phạm Thị Hà,,097 111 2233,Kỹ thuật,active
";
        let parsed = hr::parse_employees(staff.as_bytes()).expect("CSV");
        hr::import_rows(
            &api.db,
            parsed.rows,
            parsed.errors,
            ImportOptions::default(),
        )
        .await
        .expect("import");

        // Act
        let data = api
            .data(
                "{ unmatchedAgents(first: 50) { nodes { id suggestions(first: 5) {
                   employee { employeeCode } score reasons } } }
                   matched: agent(id: \"1\") { matchStatus suggestions { score } } }",
                json!({}),
            )
            .await;

        // Assert
        let of = |id: &str| -> Vec<(String, f64, Vec<String>)> {
            data["unmatchedAgents"]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .find(|n| n["id"] == id)
                .unwrap_or_else(|| panic!("agent {id} is unmatched: {data}"))["suggestions"]
                .as_array()
                .expect("suggestions")
                .iter()
                .map(|s| {
                    (
                        s["employee"]["employeeCode"]
                            .as_str()
                            .expect("code")
                            .to_string(),
                        s["score"].as_f64().expect("score"),
                        serde_json::from_value(s["reasons"].clone()).expect("reasons"),
                    )
                })
                .collect()
        };
        let reordered = of("21");
        assert_eq!(reordered.len(), 1, "{reordered:?}");
        assert_eq!(reordered[0].0, "NV101");
        assert!(
            reordered[0].1 >= 0.8 && reordered[0].1 < 1.0,
            "{reordered:?}"
        );
        assert!(
            reordered[0]
                .2
                .contains(&"same given name and 2 of 3 other names".to_string())
        );
        let initials = of("22");
        assert_eq!(initials[0].0, "NV101", "{initials:?}");
        assert!(
            initials[0]
                .2
                .contains(&"email local part matches the name's initials".to_string())
        );
        let namesakes = of("23");
        assert_eq!(
            namesakes.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
            ["NV102", "NV103"],
            "both namesakes, terminated too"
        );
        assert_eq!(
            namesakes[0].1, namesakes[1].1,
            "neither above the other by name alone"
        );
        assert!(of("24").is_empty(), "sharing Nguyễn Văn is no suggestion");
        let phone = of("25");
        assert_eq!(phone[0].0, "NV105", "{phone:?}");
        assert_eq!(
            phone[0].2,
            ["same given name", "last 7 digits of the phone match"],
            "{phone:?}"
        );
        assert!(of("26").is_empty(), "a phone tail alone stays below 0.5");
        assert_eq!(
            data["matched"]["suggestions"],
            json!([]),
            "a MATCHED seat has none"
        );

        // Accepting one is the admin's linkAgent; the seat then has no suggestions.
        let linked = api
            .data(
                r#"mutation { linkAgent(agentId: "21", employeeCode: "NV101") { matchStatus suggestions { score } } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            linked["linkAgent"],
            json!({"matchStatus": "MATCHED", "suggestions": []})
        );
        let after = api
            .data(
                r#"{ agent(id: "22") { suggestions { employee { employeeCode } } } }"#,
                json!({}),
            )
            .await;
        assert_eq!(
            after["agent"]["suggestions"],
            json!([]),
            "NV101 holds a seat now"
        );
    }
);

/// Asks the counts through GraphQL, checks them against the store's, and returns them.
async fn check(what: &str, api: &Api) -> Value {
    let query =
        "{ unmatchedAgents { totalCount } unmatchedEmployees { totalCount } agents { totalCount }
                   employees { totalCount } groups { agentCount } statusSummary { count } }";
    let data = api.data(query, json!({})).await;
    let asked = json!({
        "unmatchedAgents": data["unmatchedAgents"]["totalCount"],
        "unmatchedEmployees": data["unmatchedEmployees"]["totalCount"],
        "agents": data["agents"]["totalCount"],
        "employees": data["employees"]["totalCount"],
        "groups": data["groups"].as_array().expect("groups").iter().map(|g| g["agentCount"].clone()).collect::<Vec<_>>(),
    });
    assert_eq!(asked, counts_now(&api.db).await, "after {what}");
    let summary: i64 = data["statusSummary"]
        .as_array()
        .expect("summary")
        .iter()
        .map(|c| c["count"].as_i64().expect("count"))
        .sum();
    assert_eq!(
        summary,
        3 * data["agents"]["totalCount"].as_i64().expect("total"),
        "after {what}"
    );
    asked
}

/// The counts as the store computes them, without any memo.
async fn counts_now(db: &DatabaseConnection) -> Value {
    use caresoft_bridge::store::{AgentFilter, EmployeeFilter, pages};
    let groups = caresoft_bridge::store::groups::listing(db, None)
        .await
        .expect("groups");
    json!({
        "unmatchedAgents": pages::count_agents(db, &AgentFilter::unmatched()).await.expect("count"),
        "unmatchedEmployees": pages::count_employees(db, &EmployeeFilter::without_seat()).await.expect("count"),
        "agents": pages::count_agents(db, &AgentFilter::default()).await.expect("count"),
        "employees": pages::count_employees(db, &EmployeeFilter::default()).await.expect("count"),
        "groups": groups.iter().map(|g| g.agents).collect::<Vec<_>>(),
    })
}

on_both_engines!(
    memoised_counts_follow_every_write_path_at_once,
    |t: TestDb| async move {
        // Arrange: counts asked once, so the memo holds them.
        let api = Api::new(t).await;
        let mut seen = Vec::new();
        seen.push(check("the start", &api).await);

        // Act and assert: each write path, each read at once.
        let mut roster = roster();
        roster.truncate(60);
        api.caresoft.serve(&roster).await;
        // A sync through a pool of its own, as another replica or the CLI would write.
        let other = api.t.another_pool().await;
        api.caresoft
            .syncer(other.clone(), "20%")
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("sync");
        seen.push(check("a sync", &api).await);

        let parsed = hr::parse_employees(
            "employee_code,full_name,email\nNV100,Ngô Thị Mới,moi@acme.vn\n".as_bytes(),
        )
        .expect("CSV");
        hr::import_rows(&other, parsed.rows, parsed.errors, ImportOptions::default())
            .await
            .expect("import");
        seen.push(check("an import", &api).await);

        api.data(
            r#"mutation { upsertEmployees(rows: [{employeeCode: "NV101", fullName: "Vũ Văn Hai", email: "ghost@acme.vn"}]) { added } }"#,
            json!({}),
        )
        .await;
        seen.push(check("upsertEmployees", &api).await);

        api.data(
            r#"mutation { linkAgent(agentId: "10", employeeCode: "NV009") { id } }"#,
            json!({}),
        )
        .await;
        seen.push(check("linkAgent", &api).await);
        api.data(
            r#"mutation { ignoreAgent(agentId: "11") { id } }"#,
            json!({}),
        )
        .await;
        seen.push(check("ignoreAgent", &api).await);
        api.data(
            r#"mutation { unlinkAgent(agentId: "10") { id } }"#,
            json!({}),
        )
        .await;
        seen.push(check("unlinkAgent", &api).await);

        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("nhan_su.csv");
        std::fs::write(
            &path,
            "employee_code,full_name,email,status\nNV001,Nguyễn Văn An,an@acme.vn,active\nNV002,Trần Thị Bình,binh@acme.vn,terminated\n\
             NV003,Lê Hoàng Cường,cuong@acme.vn,active\nNV004A,Phạm Dũng,shared@acme.vn,active\nNV004B,Phạm Dung,shared@acme.vn,active\n\
             NV009,Đỗ Thị Không Ghế,noseat@acme.vn,active\nNV100,Ngô Thị Mới,moi@acme.vn,active\nNV101,Vũ Văn Hai,ghost@acme.vn,terminated\n",
        )
        .expect("HR file");
        let puller = hr::HrPuller::new(
            other.clone(),
            Ok(hr::source::HrSource::File(path)),
            MaxRemoval::parse("100%").expect("share"),
        );
        let pulled = puller
            .run(SyncRequest::new(Trigger::Cli))
            .await
            .expect("pull");
        assert_eq!(
            pulled.outcome.as_str(),
            "succeeded",
            "{}",
            pulled.summary_line()
        );
        seen.push(check("an HR pull", &api).await);

        // The writes did move the counts, so a stale memo would have been caught.
        seen.dedup();
        assert!(
            seen.len() >= 5,
            "the counts moved only {} times: {seen:?}",
            seen.len() - 1
        );
    }
);

on_both_engines!(
    memoised_values_answer_each_selection_its_own,
    |t: TestDb| async move {
        // Arrange: one write version throughout; each answer checked against a schema with an empty memo.
        let api = Api::new(t).await;
        let fresh = |query: String| {
            let t = &api.t;
            async move { counting(t, &query).await.1 }
        };
        let asked = [
            "{ groups { name agentCount } }",
            "{ groups { name } }",
            "{ groups { n: name } }",
            "{ groups { n: name counts { count } } }",
            "{ groups { ...G } } fragment G on Group { id c: counts { channel status } }",
            "{ groups { available(channel: CALL) } }",
            "{ groups { available(channel: CHAT) } }",
            "{ statusSummary { channel count } }",
            "{ statusSummary { status } s: statusSummary { count } }",
        ];
        for query in asked {
            // Act: twice, the second from the memo.
            let first = api.data(query, json!({})).await;
            let second = api.data(query, json!({})).await;
            // Assert
            assert_eq!(first, second, "{query}");
            assert_eq!(first, fresh(query.to_string()).await, "{query}");
        }

        // One document, other variables: directives and arguments are part of the selection.
        let query = "query($channel: Channel!, $with: Boolean!) \
                     { groups { available(channel: $channel) agentCount @include(if: $with) } }";
        for (channel, with) in [
            ("CALL", true),
            ("CHAT", false),
            ("CALL", false),
            ("CHAT", true),
        ] {
            let data = api
                .data(query, json!({ "channel": channel, "with": with }))
                .await;
            let literal = format!(
                "{{ groups {{ available(channel: {channel}) agentCount @include(if: {with}) }} }}"
            );
            assert_eq!(data, fresh(literal).await, "{channel} {with}");
            let first = &data["groups"][0];
            assert_eq!(
                first.get("agentCount").is_some(),
                with,
                "{channel} {with}: {first}"
            );
        }
    }
);
