//! The floor: the reads behind each benchmarked GraphQL query, done as the very SQL statements the resolvers
//! issue, straight through sqlx on a pool of the same size, without GraphQL, HTTP or sea-orm.
//!
//! "The very statements" is meant literally: [`Floor::capture`] runs each query (and each of its variables)
//! once in-process through the real schema, with sea-orm's metric callback recording every statement sent
//! (SQL text and bound values), and the floor replays those, in order, one after another per request. The SQL
//! thus follows `graphql/lists.rs`, `graphql/loaders.rs` and the aggregates as they change, with no copy to
//! drift. The loaders' statements depend on the rows of the first one; the data does not change during the
//! load, so the captured values are the ones the previous statement would yield.
//!
//! Values are bound with the Rust types sea-query's sqlx binding uses (`i32` for `Int`, `i64` for `BigInt`
//! and for unsigned values, `&str` for strings), so PostgreSQL sees the same parameter types.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, bail};
use caresoft_bridge::config::{ConfigError, MaxRemoval};
use caresoft_bridge::events::EventBus;
use caresoft_bridge::graphql::auth::Role;
use caresoft_bridge::graphql::{ApiDeps, build_schema, with_request_data};
use caresoft_bridge::hr::HrPuller;
use caresoft_bridge::sync::{Syncer, Syncers};
use sea_orm::sqlx::{self, AssertSqlSafe, PgPool, SqlitePool};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use serde_json::{Value, json};

/// The queries under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Agents,
    UnmatchedEmployees,
    Groups,
    EmployeeSearch,
}

impl QueryKind {
    /// Every query, in the order they are measured.
    pub const ALL: [QueryKind; 4] = [
        QueryKind::Agents,
        QueryKind::UnmatchedEmployees,
        QueryKind::Groups,
        QueryKind::EmployeeSearch,
    ];

    /// The label in tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            QueryKind::Agents => "agents(first: 50) + employee, group + channelStatus filter",
            QueryKind::UnmatchedEmployees => "unmatchedEmployees(first: 50) { totalCount }",
            QueryKind::Groups => "groups { id name agentCount counts }",
            QueryKind::EmployeeSearch => "employees(search: \"nguyen\", first: 50) + totalCount",
        }
    }

    /// A short key for JSON.
    pub fn key(self) -> &'static str {
        match self {
            QueryKind::Agents => "agents",
            QueryKind::UnmatchedEmployees => "unmatched_employees",
            QueryKind::Groups => "groups",
            QueryKind::EmployeeSearch => "employee_search",
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
            // Typed without diacritics, as users do: it must find every Nguyễn of the data set.
            QueryKind::EmployeeSearch => {
                "query Search { employees(search: \"nguyen\", first: 50) { totalCount \
                 nodes { employeeCode fullName department } } }"
            }
        }
    }

    /// How many different variable sets the query rotates through.
    pub fn variants(self, groups: &[String]) -> usize {
        match self {
            QueryKind::Agents => groups.len().max(1),
            _ => 1,
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

/// A bound value, in the Rust type sea-query's sqlx binding would use.
#[derive(Debug, Clone)]
enum Arg {
    Bool(bool),
    I32(i32),
    I64(i64),
    Text(String),
}

impl Arg {
    fn from_sea(value: &sea_orm::Value) -> anyhow::Result<Arg> {
        use sea_orm::Value as V;
        Ok(match value {
            V::Bool(Some(v)) => Arg::Bool(*v),
            V::TinyInt(Some(v)) => Arg::I32(i32::from(*v)),
            V::SmallInt(Some(v)) => Arg::I32(i32::from(*v)),
            V::Int(Some(v)) => Arg::I32(*v),
            V::BigInt(Some(v)) => Arg::I64(*v),
            V::TinyUnsigned(Some(v)) => Arg::I32(i32::from(*v)),
            V::SmallUnsigned(Some(v)) => Arg::I32(i32::from(*v)),
            V::Unsigned(Some(v)) => Arg::I64(i64::from(*v)),
            V::BigUnsigned(Some(v)) => Arg::I64(i64::try_from(*v)?),
            V::String(Some(s)) => Arg::Text(s.clone()),
            other => {
                bail!("the floor cannot bind {other:?}; teach src/bin/bench/floor.rs this type")
            }
        })
    }
}

/// One statement as the resolvers issued it.
#[derive(Debug, Clone)]
pub struct Issued {
    pub sql: Arc<str>,
    args: Vec<Arg>,
}

enum Pool {
    Pg(PgPool),
    Sqlite(SqlitePool),
}

/// Runs one statement with its values; the rows are fetched and counted (decoding them is the caller's
/// business, the same on both sides, and small next to the round trip).
macro_rules! fetch {
    ($pool:expr, $issued:expr) => {{
        let mut query = sqlx::query(AssertSqlSafe(Arc::clone(&$issued.sql)));
        for arg in &$issued.args {
            query = match arg {
                Arg::Bool(v) => query.bind(*v),
                Arg::I32(v) => query.bind(*v),
                Arg::I64(v) => query.bind(*v),
                Arg::Text(s) => query.bind(s.as_str()),
            };
        }
        query.fetch_all($pool).await?.len()
    }};
}

/// The raw-SQL side of the comparison: for each query, the statements of each variant of its variables.
pub struct Floor {
    pool: Pool,
    plans: Vec<(QueryKind, Vec<Vec<Issued>>)>,
}

impl std::fmt::Debug for Floor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Floor")
            .field("queries", &self.plans.len())
            .finish_non_exhaustive()
    }
}

impl Floor {
    /// Records the statements of every query and variant, by running them in-process on `url`, and builds
    /// the floor on `db`'s own sqlx pool (`db` comes from `caresoft_bridge::store::connect`, so its pool has
    /// the size and settings of the server's).
    pub async fn capture(
        url: &str,
        db: &DatabaseConnection,
        groups: &[String],
    ) -> anyhow::Result<Floor> {
        let mut recorded = caresoft_bridge::store::connect(url).await?;
        let seen: Arc<Mutex<Vec<sea_orm::Statement>>> = Arc::default();
        let sink = Arc::clone(&seen);
        recorded.set_metric_callback(move |info| {
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(info.statement.clone());
        });
        let syncer = Syncer::new(
            recorded.clone(),
            // The benchmark's in-process schema never syncs.
            Err(ConfigError::Missing {
                name: "CARESOFT_DOMAIN",
                needed_for: "a sync",
            }
            .into()),
            "acme".into(),
            MaxRemoval::default(),
        );
        let schema = build_schema(ApiDeps {
            db: recorded.clone(),
            syncers: Arc::new(Syncers::single(Arc::new(syncer))),
            hr: Arc::new(HrPuller::new(
                recorded.clone(),
                Err(ConfigError::MissingOneOf {
                    names: "neither HR_DATABASE_URL (with HR_QUERY) nor HR_FILE",
                    needed_for: "sync-hr",
                }),
                MaxRemoval::default(),
            )),
            events: EventBus::new(),
            max_removal: MaxRemoval::default(),
            introspection: false,
            alerts: caresoft_bridge::alerts::Deliverer::new(recorded.clone(), Default::default())
                .expect("an HTTP client"),
            seat_price: None,
        });

        let mut plans = Vec::new();
        for kind in QueryKind::ALL {
            let mut variants = Vec::new();
            for i in 0..kind.variants(groups) {
                seen.lock().unwrap_or_else(PoisonError::into_inner).clear();
                let request = async_graphql::Request::new(kind.document()).variables(
                    async_graphql::Variables::from_json(kind.variables(groups, i)),
                );
                let response = schema
                    .execute(with_request_data(request, &recorded, Role::Read))
                    .await;
                if !response.errors.is_empty() {
                    bail!("{} failed in-process: {:?}", kind.label(), response.errors);
                }
                let statements =
                    std::mem::take(&mut *seen.lock().unwrap_or_else(PoisonError::into_inner));
                let issued = statements
                    .into_iter()
                    .map(|statement| {
                        let args = match &statement.values {
                            Some(values) => values
                                .0
                                .iter()
                                .map(Arg::from_sea)
                                .collect::<anyhow::Result<_>>()?,
                            None => Vec::new(),
                        };
                        Ok(Issued {
                            sql: Arc::from(statement.sql),
                            args,
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                if issued.is_empty() {
                    bail!("{} issued no statement in-process", kind.label());
                }
                variants.push(issued);
            }
            plans.push((kind, variants));
        }
        recorded.close().await?;

        let pool = match db.get_database_backend() {
            DatabaseBackend::Postgres => Pool::Pg(db.get_postgres_connection_pool().clone()),
            _ => Pool::Sqlite(db.get_sqlite_connection_pool().clone()),
        };
        Ok(Floor { pool, plans })
    }

    /// The statements of variant 0 of `kind`.
    pub fn statements(&self, kind: QueryKind) -> &[Issued] {
        self.plans
            .iter()
            .find(|(k, _)| *k == kind)
            .and_then(|(_, variants)| variants.first())
            .map_or(&[], Vec::as_slice)
    }

    /// Does the reads of request number `i` of `kind`, one statement after the other as the resolvers do;
    /// returns the rows read.
    pub async fn run(&self, kind: QueryKind, i: usize) -> anyhow::Result<usize> {
        let variants = self
            .plans
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v)
            .context("query not captured")?;
        let statements = &variants[i % variants.len()];
        let mut rows = 0;
        for issued in statements {
            rows += match &self.pool {
                Pool::Pg(pool) => fetch!(pool, issued),
                Pool::Sqlite(pool) => fetch!(pool, issued),
            };
        }
        Ok(rows)
    }
}
