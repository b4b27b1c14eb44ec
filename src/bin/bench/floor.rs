//! The floor: the reads behind each benchmarked GraphQL query, done as the very SQL statements the resolvers
//! issue (same text, same bound values, same order, each statement fed by the previous one's rows as the
//! loaders are), straight through sqlx on a pool of the same size, without GraphQL, HTTP or sea-orm.
//!
//! The SQL below is copied from what the resolvers send (`graphql/lists.rs`, `graphql/loaders.rs`,
//! `graphql/query.rs`); [`check_against_resolvers`] proves it still is, before any figure is taken, by
//! running each query in-process with sea-orm's metric callback recording the statements and comparing them
//! with what the floor issues for the same variables.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, bail};
use caresoft_bridge::config::MaxRemoval;
use caresoft_bridge::events::EventBus;
use caresoft_bridge::graphql::auth::Role;
use caresoft_bridge::graphql::{ApiDeps, build_schema, with_request_data};
use caresoft_bridge::sync::Syncer;
use sea_orm::sqlx::{self, AssertSqlSafe, PgPool, Row as _, SqlitePool};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use serde_json::{Value, json};

/// The queries under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Agents,
    UnmatchedEmployees,
    Groups,
}

impl QueryKind {
    pub const ALL: [QueryKind; 3] = [
        QueryKind::Agents,
        QueryKind::UnmatchedEmployees,
        QueryKind::Groups,
    ];

    /// The label in tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            QueryKind::Agents => "agents(first: 50) + employee, group + channelStatus filter",
            QueryKind::UnmatchedEmployees => "unmatchedEmployees(first: 50) { totalCount }",
            QueryKind::Groups => "groups { id name agentCount counts }",
        }
    }

    /// A short key for JSON.
    pub fn key(self) -> &'static str {
        match self {
            QueryKind::Agents => "agents",
            QueryKind::UnmatchedEmployees => "unmatched_employees",
            QueryKind::Groups => "groups",
        }
    }

    /// The GraphQL document sent to the server.
    pub fn document(self) -> &'static str {
        match self {
            QueryKind::Agents => {
                "query Agents($group: String!) { agents(group: $group, \
                 channelStatus: {channel: CALL, status: AVAILABLE}, first: 50) { \
                 pageInfo { hasNextPage endCursor } \
                 nodes { id username email groupName callStatus matchStatus \
                 employee { employeeCode fullName } } } }"
            }
            QueryKind::UnmatchedEmployees => {
                "query Unseated { unmatchedEmployees(first: 50) { totalCount } }"
            }
            QueryKind::Groups => {
                "query Groups { groups { id name agentCount counts { channel status count } } }"
            }
        }
    }

    /// The variables of request number `i`: the agents query rotates through the largest groups, so that
    /// neither side answers the same page over and over.
    pub fn variables(self, groups: &[String], i: usize) -> Value {
        match self {
            QueryKind::Agents if !groups.is_empty() => json!({ "group": groups[i % groups.len()] }),
            _ => json!({}),
        }
    }
}

/// A bound value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Arg {
    Int(i64),
    Text(String),
    /// A value of a type the floor never binds (only seen in captured statements).
    Other(String),
}

impl Arg {
    fn from_sea(value: &sea_orm::Value) -> Arg {
        use sea_orm::Value as V;
        match value {
            V::BigInt(Some(v)) => Arg::Int(*v),
            V::Int(Some(v)) => Arg::Int(i64::from(*v)),
            V::Unsigned(Some(v)) => Arg::Int(i64::from(*v)),
            V::BigUnsigned(Some(v)) => i64::try_from(*v).map_or(Arg::Other(v.to_string()), Arg::Int),
            V::String(Some(s)) => Arg::Text(s.clone()),
            other => Arg::Other(format!("{other:?}")),
        }
    }
}

/// One statement as issued: SQL text and bound values.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Issued {
    sql: String,
    args: Vec<Arg>,
}

impl Issued {
    /// Values compared as a multiset: a loader's IN list follows a hash map's order, which carries no meaning.
    fn same_as(&self, other: &Issued) -> bool {
        let set = |args: &[Arg]| {
            let mut sorted = args.to_vec();
            sorted.sort();
            sorted
        };
        self.sql == other.sql && set(&self.args) == set(&other.args)
    }
}

enum Pool {
    Pg(PgPool),
    Sqlite(SqlitePool),
}

/// Runs `query` with `args` and returns the row count and column `column` of each row as an integer.
macro_rules! fetch_ints {
    ($pool:expr, $sql:expr, $args:expr, $column:expr) => {{
        let mut query = sqlx::query(AssertSqlSafe($sql));
        for arg in $args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Text(s) => query.bind(s.as_str()),
                Arg::Other(s) => bail!("the floor cannot bind {s}"),
            };
        }
        let rows = query.fetch_all($pool).await?;
        let mut ints = Vec::with_capacity(rows.len());
        if let Some(column) = $column {
            for row in &rows {
                ints.push(row.try_get::<Option<i64>, _>(column)?);
            }
        }
        (rows.len(), ints)
    }};
}

/// The raw-SQL side of the comparison.
pub struct Floor {
    pool: Pool,
    backend: DatabaseBackend,
    groups: Vec<String>,
}

impl std::fmt::Debug for Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Floor")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

const AGENT_COLUMNS: [&str; 24] = [
    "id",
    "domain",
    "username",
    "email",
    "phone_no",
    "extension",
    "group_id",
    "group_name",
    "role_id",
    "created_at",
    "updated_at",
    "login_status_raw",
    "call_status_raw",
    "chat_status_raw",
    "ticket_status_raw",
    "call_status",
    "chat_status",
    "ticket_status",
    "email_key",
    "phone_key",
    "first_seen_at",
    "last_changed_at",
    "last_seen_at",
    "removed_at",
];
const LINK_COLUMNS: [&str; 5] = ["agent_id", "status", "method", "employee_id", "updated_at"];
const EMPLOYEE_COLUMNS: [&str; 12] = [
    "id",
    "employee_code",
    "full_name",
    "email",
    "phone",
    "department",
    "status",
    "email_key",
    "phone_key",
    "removed_at",
    "created_at",
    "updated_at",
];

impl Floor {
    /// The floor on `db`'s own sqlx pool: `db` comes from `caresoft_bridge::db::connect`, so the pool has the
    /// size and settings the server's has.
    pub fn new(db: &DatabaseConnection, groups: Vec<String>) -> Floor {
        let backend = db.get_database_backend();
        let pool = match backend {
            DatabaseBackend::Postgres => Pool::Pg(db.get_postgres_connection_pool().clone()),
            _ => Pool::Sqlite(db.get_sqlite_connection_pool().clone()),
        };
        Floor {
            pool,
            backend,
            groups,
        }
    }

    /// Placeholders `first..first + count` in this backend's style.
    fn placeholders(&self, first: usize, count: usize) -> String {
        (first..first + count)
            .map(|n| match self.backend {
                DatabaseBackend::Postgres => format!("${n}"),
                _ => "?".to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn columns(table: &str, columns: &[&str]) -> String {
        columns
            .iter()
            .map(|c| format!("\"{table}\".\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `lists::agents` with a group and a call-status filter, ordered by id, one row more than the page.
    fn agents_page_sql(&self) -> String {
        let p = |n| self.placeholders(n, 1);
        format!(
            "SELECT {} FROM \"agents\" AS \"a\" LEFT JOIN \"agent_links\" AS \"l\" ON \"l\".\"agent_id\" = \"a\".\"id\" \
             WHERE \"a\".\"removed_at\" IS NULL AND \"a\".\"group_name\" = {} AND \"a\".\"call_status\" = {} \
             ORDER BY \"a\".\"id\" ASC LIMIT {}",
            Self::columns("a", &AGENT_COLUMNS),
            p(1),
            p(2),
            p(3)
        )
    }

    /// The `LinkKey` loader.
    fn links_sql(&self, count: usize) -> String {
        format!(
            "SELECT {} FROM \"agent_links\" WHERE \"agent_links\".\"agent_id\" IN ({})",
            Self::columns("agent_links", &LINK_COLUMNS),
            self.placeholders(1, count)
        )
    }

    /// The `EmployeeKey` loader.
    fn employees_sql(&self, count: usize) -> String {
        format!(
            "SELECT {} FROM \"employees\" WHERE \"employees\".\"id\" IN ({})",
            Self::columns("employees", &EMPLOYEE_COLUMNS),
            self.placeholders(1, count)
        )
    }

    /// `lists::employees` with the `unmatchedEmployees` filter: ACTIVE, not removed, no MATCHED current agent.
    fn unseated_where(&self) -> String {
        let p = |n| self.placeholders(n, 1);
        format!(
            "WHERE \"e\".\"removed_at\" IS NULL AND \"e\".\"status\" = {} AND NOT EXISTS(SELECT {} FROM \"agent_links\" AS \"l\" \
             INNER JOIN \"agents\" AS \"a\" ON \"a\".\"id\" = \"l\".\"agent_id\" WHERE \"l\".\"employee_id\" = \"e\".\"id\" \
             AND \"l\".\"status\" = {} AND \"a\".\"removed_at\" IS NULL)",
            p(1),
            p(2),
            p(3)
        )
    }

    fn unseated_page_sql(&self) -> String {
        format!(
            "SELECT {} FROM \"employees\" AS \"e\" {} ORDER BY \"e\".\"employee_code\" ASC LIMIT {}",
            Self::columns("e", &EMPLOYEE_COLUMNS),
            self.unseated_where(),
            self.placeholders(4, 1)
        )
    }

    fn unseated_count_sql(&self) -> String {
        format!(
            "SELECT COUNT(*) FROM \"employees\" AS \"e\" {}",
            self.unseated_where()
        )
    }

    /// `query::status_groups` without a group filter.
    fn groups_sql(&self) -> String {
        let mut sums = Vec::new();
        for column in ["call_status", "chat_status", "ticket_status"] {
            for status in ["AVAILABLE", "NOT_AVAILABLE", "LOGOUT", "UNKNOWN"] {
                sums.push(format!(
                    "CAST(SUM(CASE WHEN {column} = '{status}' THEN 1 ELSE 0 END) AS BIGINT)"
                ));
            }
        }
        format!(
            "SELECT group_id, MAX(group_name), COUNT(*), {} FROM agents WHERE removed_at IS NULL  \
             GROUP BY group_id ORDER BY group_id",
            sums.join(", ")
        )
    }

    async fn fetch(
        &self,
        sql: String,
        args: Vec<Arg>,
        column: Option<usize>,
        trace: &mut Option<Vec<Issued>>,
    ) -> anyhow::Result<(usize, Vec<Option<i64>>)> {
        let result = match &self.pool {
            Pool::Pg(pool) => fetch_ints!(pool, sql.as_str(), &args, column),
            Pool::Sqlite(pool) => fetch_ints!(pool, sql.as_str(), &args, column),
        };
        if let Some(trace) = trace {
            trace.push(Issued { sql, args });
        }
        Ok(result)
    }

    /// Does the reads of request number `i` of `kind`; returns the rows read.
    pub async fn run(&self, kind: QueryKind, i: usize) -> anyhow::Result<usize> {
        self.run_traced(kind, i, &mut None).await
    }

    async fn run_traced(
        &self,
        kind: QueryKind,
        i: usize,
        trace: &mut Option<Vec<Issued>>,
    ) -> anyhow::Result<usize> {
        match kind {
            QueryKind::Agents => {
                let group = self.groups.get(i % self.groups.len().max(1)).cloned();
                let group = group.context("no group to filter on")?;
                let args = vec![
                    Arg::Text(group),
                    Arg::Text("AVAILABLE".into()),
                    Arg::Int(51),
                ];
                let (rows, mut ids) = self
                    .fetch(self.agents_page_sql(), args, Some(0), trace)
                    .await?;
                // The page is 50 rows; the 51st only tells that there is a next page.
                ids.truncate(50);
                if ids.is_empty() {
                    return Ok(rows);
                }
                let args: Vec<Arg> = ids.iter().flatten().map(|id| Arg::Int(*id)).collect();
                let (links, employee_ids) = self
                    .fetch(self.links_sql(args.len()), args, Some(3), trace)
                    .await?;
                let employee_ids: BTreeSet<i64> = employee_ids.into_iter().flatten().collect();
                if employee_ids.is_empty() {
                    return Ok(rows + links);
                }
                let args: Vec<Arg> = employee_ids.into_iter().map(Arg::Int).collect();
                let (employees, _) = self
                    .fetch(self.employees_sql(args.len()), args, None, trace)
                    .await?;
                Ok(rows + links + employees)
            }
            QueryKind::UnmatchedEmployees => {
                let args = || {
                    vec![
                        Arg::Text("active".into()),
                        Arg::Int(1),
                        Arg::Text("MATCHED".into()),
                    ]
                };
                let mut page_args = args();
                page_args.push(Arg::Int(51));
                let (page, _) = self
                    .fetch(self.unseated_page_sql(), page_args, None, trace)
                    .await?;
                let (count, _) = self
                    .fetch(self.unseated_count_sql(), args(), Some(0), trace)
                    .await?;
                Ok(page + count)
            }
            QueryKind::Groups => {
                let (rows, _) = self.fetch(self.groups_sql(), vec![], None, trace).await?;
                Ok(rows)
            }
        }
    }
}

/// Runs every query once in-process through the real schema, recording the statements sea-orm sends, and
/// fails unless the floor sends the same ones. Returns how many statements each query issues.
pub async fn check_against_resolvers(
    url: &str,
    floor: &Floor,
    groups: &[String],
) -> anyhow::Result<Vec<(QueryKind, usize)>> {
    let mut db = caresoft_bridge::db::connect(url).await?;
    let seen: Arc<Mutex<Vec<Issued>>> = Arc::default();
    let sink = Arc::clone(&seen);
    db.set_metric_callback(move |info| {
        let statement = info.statement;
        let args = statement
            .values
            .as_ref()
            .map(|values| values.0.iter().map(Arg::from_sea).collect())
            .unwrap_or_default();
        sink.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Issued {
                sql: statement.sql.clone(),
                args,
            });
    });
    let syncer = Syncer::new(
        db.clone(),
        Err("the benchmark's in-process schema never syncs".into()),
        "acme".into(),
        MaxRemoval::default(),
    );
    let schema = build_schema(ApiDeps {
        db: db.clone(),
        syncer: Arc::new(syncer),
        events: EventBus::new(),
        max_removal: MaxRemoval::default(),
        introspection: false,
    });

    let mut counts = Vec::new();
    for kind in QueryKind::ALL {
        seen.lock().unwrap_or_else(PoisonError::into_inner).clear();
        let variables = kind.variables(groups, 0);
        let request = async_graphql::Request::new(kind.document())
            .variables(async_graphql::Variables::from_json(variables));
        let response = schema
            .execute(with_request_data(request, &db, Role::Read))
            .await;
        if !response.errors.is_empty() {
            bail!(
                "{} failed in-process: {:?}",
                kind.label(),
                response.errors
            );
        }
        let resolvers = std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
        let mut trace = Some(Vec::new());
        floor.run_traced(kind, 0, &mut trace).await?;
        let ours = trace.unwrap_or_default();
        let same = resolvers.len() == ours.len()
            && resolvers.iter().zip(&ours).all(|(a, b)| a.same_as(b));
        if !same {
            let show = |list: &[Issued]| {
                list.iter()
                    .map(|s| format!("  {}\n    {:?}", s.sql, s.args))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            bail!(
                "the floor no longer issues the resolvers' SQL for {}; update src/bin/bench/floor.rs\n\
                 resolvers:\n{}\nfloor:\n{}",
                kind.label(),
                show(&resolvers),
                show(&ours)
            );
        }
        counts.push((kind, ours.len()));
    }
    db.close().await?;
    Ok(counts)
}
