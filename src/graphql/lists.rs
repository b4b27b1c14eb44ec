//! Paged lists (agents, employees) as Relay connections: filters become one SELECT with keyset
//! pagination; `totalCount` is a separate COUNT that only runs when a client asks for it, and the page
//! itself only runs when the selection asks for rows.
//!
//! A page of agents whose selection asks for match fields or the employee is read in ONE statement: the
//! page of agents as a subquery (so the join never widens the scan), left-joined to its links and their
//! employees, which each GraphQL `Agent` then carries: its match fields read them without going through
//! the loaders, and a page costs one round trip instead of three.

use async_graphql::{Context, Enum, InputObject, Lookahead, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{agent, agent_link, employee};
use sea_orm::sea_query::{
    Alias, Asterisk, Cond, Expr, ExprTrait, Func, IntoCondition, JoinType, Order, Query,
    SelectStatement, SimpleExpr,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Iterable, QueryResult, Statement,
    TryGetable, sqlx,
};

use super::errors::{ApiError, OrInternal};
use super::loaders::{Loaders, asks_for_links, prefetch_agents};
use super::pagination::{Cursor, page_size};
use super::types::{Agent, Channel, ChannelStatus, Employee, EmployeeStatus, MatchStatus};
use crate::domain;
use crate::reconcile::SEATED_EMPLOYEE_IDS;

/// Relay page information.
#[derive(Debug, Clone, SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    /// Always false: these lists page forward only.
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// A filter on one channel's status; `channel` omitted means any channel.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct ChannelStatusInput {
    pub channel: Option<Channel>,
    pub status: ChannelStatus,
}

/// Orderings of agent lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Default)]
pub enum AgentOrderBy {
    #[default]
    IdAsc,
    IdDesc,
    UsernameAsc,
    UsernameDesc,
    /// Most recently changed first.
    LastChangedDesc,
}

/// Everything an agent list can filter on.
#[derive(Debug, Clone, Default)]
pub struct AgentFilter {
    pub group: Option<String>,
    pub group_id: Option<i64>,
    pub channel_status: Option<ChannelStatusInput>,
    pub match_statuses: Vec<domain::MatchStatus>,
    pub employee_status: Option<EmployeeStatus>,
    pub search: Option<String>,
    pub include_removed: bool,
}

fn a() -> Alias {
    Alias::new("a")
}
fn l() -> Alias {
    Alias::new("l")
}
fn e() -> Alias {
    Alias::new("e")
}
fn p() -> Alias {
    Alias::new("p")
}

/// What a connection's selection asks of its page.
#[derive(Debug, Clone, Copy, Default)]
struct PageAsks {
    /// Any row-dependent field (nodes, edges, pageInfo): without one the page is not read at all.
    rows: bool,
    /// The agents' links (matchStatus, matchedBy, employee).
    link: bool,
    /// The linked employees.
    employee: bool,
}

impl PageAsks {
    /// Reads the selection of a connection field (`agents { ... }`).
    fn of(connection: Lookahead<'_>) -> PageAsks {
        let nodes = [
            connection.field("nodes"),
            connection.field("edges").field("node"),
        ];
        PageAsks {
            rows: connection.field("nodes").exists()
                || connection.field("edges").exists()
                || connection.field("pageInfo").exists(),
            link: nodes.iter().any(asks_for_links),
            employee: nodes.iter().any(|n| n.field("employee").exists()),
        }
    }
}

/// Reads a model from consecutive columns of a joined row, by position: reading by name would build the
/// prefixed name of every column of every row (a fifth of a page's CPU time in the server). Fields are
/// listed in declaration order, which is the order of the entity's `Column::iter()` that the SELECT lists;
/// a missing field does not compile, and `decoders_follow_the_select_order` checks the order.
macro_rules! positional {
    ($model:path { $($field:ident),+ $(,)? }) => {
        impl Positional for $model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];
            fn read(row: &QueryResult, start: usize) -> Result<Self, DbErr> {
                let mut at = start;
                let mut next = || {
                    at += 1;
                    at - 1
                };
                Ok(Self { $($field: column(row, next())?),+ })
            }
        }
    };
}

/// One column of a joined row, by position, decoded by the driver without its per-value type check and
/// without sea-orm's NULL error (a formatted message per NULL, turned back into `None`): together they were
/// a quarter of decoding a page. The check only repeats what the statement guarantees, since the SELECT
/// lists each entity's own columns in declaration order (`decoders_follow_the_select_order`); a value of
/// another shape still fails to decode, with the column's position in the error.
fn column<T>(row: &QueryResult, index: usize) -> Result<T, DbErr>
where
    T: TryGetable
        + for<'r> sqlx::Decode<'r, sqlx::Postgres>
        + for<'r> sqlx::Decode<'r, sqlx::Sqlite>,
{
    use sqlx::Row as _;
    let decoded = if let Some(row) = row.try_as_pg_row() {
        row.try_get_unchecked::<T, _>(index)
    } else if let Some(row) = row.try_as_sqlite_row() {
        row.try_get_unchecked::<T, _>(index)
    } else {
        return row.try_get_by_index(index);
    };
    decoded.map_err(|err| DbErr::Type(format!("column {index} of a page of agents: {err}")))
}

/// A model read by column position (see [`positional!`]).
trait Positional: Sized {
    /// Field names in the order they are read.
    const FIELDS: &'static [&'static str];
    fn read(row: &QueryResult, start: usize) -> Result<Self, DbErr>;

    /// `None` when the left join found no row (its first column, a NOT NULL key, is NULL).
    fn read_joined(row: &QueryResult, start: usize) -> Result<Option<Self>, DbErr> {
        match row.try_get_by_index::<Option<i64>>(start)? {
            Some(_) => Self::read(row, start).map(Some),
            None => Ok(None),
        }
    }
}

positional!(agent::Model {
    id,
    domain,
    username,
    email,
    phone_no,
    extension,
    group_id,
    group_name,
    role_id,
    created_at,
    updated_at,
    login_status_raw,
    call_status_raw,
    chat_status_raw,
    ticket_status_raw,
    call_status,
    chat_status,
    ticket_status,
    email_key,
    phone_key,
    first_seen_at,
    last_changed_at,
    last_seen_at,
    removed_at,
    fingerprint,
});
positional!(agent_link::Model {
    agent_id,
    status,
    method,
    employee_id,
    updated_at
});
positional!(employee::Model {
    id,
    employee_code,
    full_name,
    email,
    phone,
    department,
    status,
    email_key,
    phone_key,
    removed_at,
    created_at,
    updated_at,
});

/// `%text%` for LIKE, with the wildcards of the text escaped.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn lower_like(column: SimpleExpr, pattern: &str) -> SimpleExpr {
    Expr::expr(Func::lower(column)).like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\'))
}

fn match_status_expr() -> SimpleExpr {
    Func::coalesce([
        Expr::col((l(), agent_link::Column::Status)),
        Expr::val("UNMATCHED"),
    ])
    .into()
}

impl AgentFilter {
    fn condition(&self) -> Cond {
        let mut cond = Cond::all();
        if !self.include_removed {
            cond = cond.add(Expr::col((a(), agent::Column::RemovedAt)).is_null());
        }
        if let Some(group) = &self.group {
            cond = cond.add(Expr::col((a(), agent::Column::GroupName)).eq(group.clone()));
        }
        if let Some(group_id) = self.group_id {
            cond = cond.add(Expr::col((a(), agent::Column::GroupId)).eq(group_id));
        }
        if let Some(filter) = self.channel_status {
            let status = domain::ChannelStatus::from(filter.status).as_str();
            let column = |c: agent::Column| Expr::col((a(), c)).eq(status);
            cond = cond.add(match filter.channel.map(domain::Channel::from) {
                Some(domain::Channel::Call) => column(agent::Column::CallStatus).into_condition(),
                Some(domain::Channel::Chat) => column(agent::Column::ChatStatus).into_condition(),
                Some(domain::Channel::Ticket) => {
                    column(agent::Column::TicketStatus).into_condition()
                }
                None => Cond::any()
                    .add(column(agent::Column::CallStatus))
                    .add(column(agent::Column::ChatStatus))
                    .add(column(agent::Column::TicketStatus)),
            });
        }
        if !self.match_statuses.is_empty() {
            cond =
                cond.add(match_status_expr().is_in(self.match_statuses.iter().map(|s| s.as_str())));
        }
        if let Some(status) = self.employee_status {
            cond = cond
                .add(
                    Expr::col((l(), agent_link::Column::Status))
                        .eq(domain::MatchStatus::Matched.as_str()),
                )
                .add(
                    Expr::col((e(), employee::Column::Status))
                        .eq(domain::EmployeeStatus::from(status).as_str()),
                );
        }
        if let Some(search) = self.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let pattern = like_pattern(search);
            let mut any = Cond::any()
                .add(lower_like(
                    Expr::col((a(), agent::Column::Username)),
                    &pattern,
                ))
                .add(lower_like(Expr::col((a(), agent::Column::Email)), &pattern))
                .add(lower_like(
                    Expr::col((a(), agent::Column::PhoneNo)),
                    &pattern,
                ))
                .add(lower_like(
                    Expr::col((a(), agent::Column::Extension)),
                    &pattern,
                ));
            if let Ok(id) = search.trim().parse::<i64>() {
                any = any.add(Expr::col((a(), agent::Column::Id)).eq(id));
            }
            cond = cond.add(any);
        }
        cond
    }

    fn from(&self, select: &mut SelectStatement) {
        select.from_as(agent::Entity, a()).join_as(
            JoinType::LeftJoin,
            agent_link::Entity,
            l(),
            Expr::col((l(), agent_link::Column::AgentId)).equals((a(), agent::Column::Id)),
        );
        if self.employee_status.is_some() {
            select.join_as(
                JoinType::LeftJoin,
                employee::Entity,
                e(),
                Expr::col((e(), employee::Column::Id))
                    .equals((l(), agent_link::Column::EmployeeId)),
            );
        }
    }
}

/// A page of agents.
pub struct AgentConnection {
    nodes: Vec<Agent>,
    order: AgentOrderBy,
    list: String,
    has_next: bool,
    count: Statement,
}

impl std::fmt::Debug for AgentConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentConnection")
            .field("nodes", &self.nodes.len())
            .field("list", &self.list)
            .finish()
    }
}

/// An edge of an agents page, pointing at the page's own agent rather than a copy of it.
#[derive(Debug)]
pub struct AgentEdge<'a> {
    cursor: String,
    node: &'a Agent,
}

/// An agent and its cursor.
#[Object]
impl AgentEdge<'_> {
    async fn cursor(&self) -> &str {
        &self.cursor
    }
    async fn node(&self) -> &Agent {
        self.node
    }
}

fn agent_cursor(list: &str, order: AgentOrderBy, row: &agent::Model) -> String {
    let value = match order {
        AgentOrderBy::IdAsc | AgentOrderBy::IdDesc => None,
        AgentOrderBy::UsernameAsc | AgentOrderBy::UsernameDesc => {
            Some(row.username.clone().unwrap_or_default())
        }
        AgentOrderBy::LastChangedDesc => Some(row.last_changed_at.to_rfc3339()),
    };
    Cursor {
        list: list.to_string(),
        value,
        id: row.id,
    }
    .encode()
}

#[Object]
impl AgentConnection {
    /// Rows matching the filters, all pages together.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        count(ctx, &self.count).await
    }
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: false,
            start_cursor: self
                .nodes
                .first()
                .map(|a| agent_cursor(&self.list, self.order, a.row())),
            end_cursor: self
                .nodes
                .last()
                .map(|a| agent_cursor(&self.list, self.order, a.row())),
        }
    }
    async fn edges(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AgentEdge<'_>>> {
        prefetch_agents(
            ctx.data_unchecked::<Loaders>(),
            &self.nodes,
            ctx.look_ahead().field("node"),
        )
        .await
        .or_internal()?;
        Ok(self
            .nodes
            .iter()
            .map(|agent| AgentEdge {
                cursor: agent_cursor(&self.list, self.order, agent.row()),
                node: agent,
            })
            .collect())
    }
    async fn nodes(&self, ctx: &Context<'_>) -> async_graphql::Result<&[Agent]> {
        prefetch_agents(
            ctx.data_unchecked::<Loaders>(),
            &self.nodes,
            ctx.look_ahead(),
        )
        .await
        .or_internal()?;
        Ok(&self.nodes)
    }
}

async fn count(ctx: &Context<'_>, statement: &Statement) -> async_graphql::Result<i64> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let row = db.query_one_raw(statement.clone()).await.or_internal()?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<i64>(0).or_internal()?,
        None => 0,
    })
}

fn username_key(table: Alias) -> SimpleExpr {
    Func::coalesce([Expr::col((table, agent::Column::Username)), Expr::val("")]).into()
}

/// The ORDER BY of `order` on the agents of `table`, the id last so that the order is total.
fn order_terms(order: AgentOrderBy, table: Alias) -> Vec<(SimpleExpr, Order)> {
    let id: SimpleExpr = Expr::col((table.clone(), agent::Column::Id));
    let changed: SimpleExpr = Expr::col((table.clone(), agent::Column::LastChangedAt));
    match order {
        AgentOrderBy::IdAsc => vec![(id, Order::Asc)],
        AgentOrderBy::IdDesc => vec![(id, Order::Desc)],
        AgentOrderBy::UsernameAsc => vec![(username_key(table), Order::Asc), (id, Order::Asc)],
        AgentOrderBy::UsernameDesc => vec![(username_key(table), Order::Desc), (id, Order::Desc)],
        AgentOrderBy::LastChangedDesc => vec![(changed, Order::Desc), (id, Order::Desc)],
    }
}

/// Runs the page `select` joined to its links (and their employees when `employee`) and returns the
/// agents in page order, each carrying what was joined.
async fn page_with_links(
    db: &DatabaseConnection,
    select: SelectStatement,
    order: AgentOrderBy,
    employee: bool,
) -> async_graphql::Result<Vec<Agent>> {
    let mut outer = Query::select();
    outer.columns(agent::Column::iter().map(|c| (p(), c)));
    outer.columns(agent_link::Column::iter().map(|c| (l(), c)));
    outer.from_subquery(select, p()).join_as(
        JoinType::LeftJoin,
        agent_link::Entity,
        l(),
        Expr::col((l(), agent_link::Column::AgentId)).equals((p(), agent::Column::Id)),
    );
    if employee {
        outer.columns(employee::Column::iter().map(|c| (e(), c)));
        outer.join_as(
            JoinType::LeftJoin,
            employee::Entity,
            e(),
            Expr::col((e(), employee::Column::Id)).equals((l(), agent_link::Column::EmployeeId)),
        );
    }
    for (expr, direction) in order_terms(order, p()) {
        outer.order_by_expr(expr, direction);
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&outer))
        .await
        .or_internal()?;

    let link_at = agent::Model::FIELDS.len();
    let employee_at = link_at + agent_link::Model::FIELDS.len();
    rows.iter()
        .map(|row| {
            let agent = agent::Model::read(row, 0)?;
            let link = agent_link::Model::read_joined(row, link_at)?;
            let employee = match employee {
                true => Some(employee::Model::read_joined(row, employee_at)?),
                false => None,
            };
            Ok(Agent::with_link(agent, link, employee))
        })
        .collect::<Result<_, DbErr>>()
        .or_internal()
}

/// Loads one page of agents, with what the selection under `ctx` asks of it.
pub async fn agents(
    ctx: &Context<'_>,
    name: &str,
    filter: &AgentFilter,
    order: AgentOrderBy,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<AgentConnection> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let asks = PageAsks::of(ctx.look_ahead());
    let limit = page_size(first)?;
    let list = format!("{name}:{order:?}");
    let backend = db.get_database_backend();

    let mut count = Query::select();
    count.expr(Expr::col(Asterisk).count());
    filter.from(&mut count);
    count.cond_where(filter.condition());

    let mut select = Query::select();
    select.columns(agent::Column::iter().map(|c| (a(), c)));
    filter.from(&mut select);
    select.cond_where(filter.condition());
    let id = Expr::col((a(), agent::Column::Id));
    let username = username_key(a());
    let changed = Expr::col((a(), agent::Column::LastChangedAt));
    if let Some(after) = after {
        let cursor = Cursor::decode(after, &list)?;
        let value = || {
            cursor
                .value
                .clone()
                .ok_or_else(|| ApiError::bad_input("`after` cursor lacks its sort value"))
        };
        let keyset = match order {
            AgentOrderBy::IdAsc => id.clone().gt(cursor.id).into_condition(),
            AgentOrderBy::IdDesc => id.clone().lt(cursor.id).into_condition(),
            AgentOrderBy::UsernameAsc => Cond::any().add(username.clone().gt(value()?)).add(
                Cond::all()
                    .add(username.clone().eq(value()?))
                    .add(id.clone().gt(cursor.id)),
            ),
            AgentOrderBy::UsernameDesc => Cond::any().add(username.clone().lt(value()?)).add(
                Cond::all()
                    .add(username.clone().eq(value()?))
                    .add(id.clone().lt(cursor.id)),
            ),
            AgentOrderBy::LastChangedDesc => {
                let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&value()?)
                    .map_err(|_| ApiError::bad_input("`after` cursor is damaged"))?
                    .with_timezone(&Utc);
                Cond::any().add(changed.clone().lt(at)).add(
                    Cond::all()
                        .add(changed.clone().eq(at))
                        .add(id.clone().lt(cursor.id)),
                )
            }
        };
        select.cond_where(keyset);
    }
    for (expr, direction) in order_terms(order, a()) {
        select.order_by_expr(expr, direction);
    }
    select.limit(limit + 1);

    let mut nodes = if !asks.rows {
        Vec::new()
    } else if asks.link {
        page_with_links(db, select, order, asks.employee).await?
    } else {
        agent::Entity::find()
            .from_raw_sql(backend.build(&select))
            .all(db)
            .await
            .or_internal()?
            .into_iter()
            .map(Agent::new)
            .collect()
    };
    let has_next = nodes.len() as u64 > limit;
    nodes.truncate(limit as usize);
    Ok(AgentConnection {
        nodes,
        order,
        list,
        has_next,
        count: backend.build(&count),
    })
}

/// Which employees an employee list shows.
#[derive(Debug, Clone, Default)]
pub struct EmployeeFilter {
    pub search: Option<String>,
    pub status: Option<EmployeeStatus>,
    pub include_removed: bool,
    /// Only employees without a MATCHED current agent.
    pub without_seat: bool,
}

/// A page of employees, ordered by employee code.
pub struct EmployeeConnection {
    nodes: Vec<employee::Model>,
    list: String,
    has_next: bool,
    count: Statement,
}

impl std::fmt::Debug for EmployeeConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmployeeConnection")
            .field("nodes", &self.nodes.len())
            .field("list", &self.list)
            .finish()
    }
}

/// An employee and its cursor.
#[derive(Debug, Clone, SimpleObject)]
pub struct EmployeeEdge {
    pub cursor: String,
    pub node: Employee,
}

fn employee_cursor(list: &str, row: &employee::Model) -> String {
    Cursor {
        list: list.to_string(),
        value: Some(row.employee_code.clone()),
        id: row.id,
    }
    .encode()
}

#[Object]
impl EmployeeConnection {
    /// Rows matching the filters, all pages together.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        count(ctx, &self.count).await
    }
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: false,
            start_cursor: self.nodes.first().map(|r| employee_cursor(&self.list, r)),
            end_cursor: self.nodes.last().map(|r| employee_cursor(&self.list, r)),
        }
    }
    async fn edges(&self) -> Vec<EmployeeEdge> {
        self.nodes
            .iter()
            .map(|row| EmployeeEdge {
                cursor: employee_cursor(&self.list, row),
                node: Employee(row.clone()),
            })
            .collect()
    }
    async fn nodes(&self) -> Vec<Employee> {
        self.nodes.iter().cloned().map(Employee).collect()
    }
}

impl EmployeeFilter {
    fn condition(&self) -> Cond {
        let mut cond = Cond::all();
        if !self.include_removed {
            cond = cond.add(Expr::col((e(), employee::Column::RemovedAt)).is_null());
        }
        if let Some(status) = self.status {
            cond = cond.add(
                Expr::col((e(), employee::Column::Status))
                    .eq(domain::EmployeeStatus::from(status).as_str()),
            );
        }
        if self.without_seat {
            cond = cond.add(Expr::cust(format!("e.id NOT IN ({SEATED_EMPLOYEE_IDS})")));
        }
        if let Some(search) = self.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let pattern = like_pattern(search);
            cond = cond.add(
                Cond::any()
                    .add(lower_like(
                        Expr::col((e(), employee::Column::EmployeeCode)),
                        &pattern,
                    ))
                    .add(lower_like(
                        Expr::col((e(), employee::Column::FullName)),
                        &pattern,
                    ))
                    .add(lower_like(
                        Expr::col((e(), employee::Column::Email)),
                        &pattern,
                    ))
                    .add(lower_like(
                        Expr::col((e(), employee::Column::Phone)),
                        &pattern,
                    ))
                    .add(lower_like(
                        Expr::col((e(), employee::Column::Department)),
                        &pattern,
                    )),
            );
        }
        cond
    }
}

/// Loads one page of employees (only when the selection under `ctx` asks for rows).
pub async fn employees(
    ctx: &Context<'_>,
    name: &str,
    filter: &EmployeeFilter,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<EmployeeConnection> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let asks = PageAsks::of(ctx.look_ahead());
    let limit = page_size(first)?;
    let list = format!("{name}:CODE_ASC");
    let backend = db.get_database_backend();

    let mut count = Query::select();
    count
        .expr(Expr::col(Asterisk).count())
        .from_as(employee::Entity, e())
        .cond_where(filter.condition());

    let mut select = Query::select();
    select
        .columns(employee::Column::iter().map(|c| (e(), c)))
        .from_as(employee::Entity, e())
        .cond_where(filter.condition());
    let code = Expr::col((e(), employee::Column::EmployeeCode));
    if let Some(after) = after {
        let cursor = Cursor::decode(after, &list)?;
        let value = cursor
            .value
            .clone()
            .ok_or_else(|| ApiError::bad_input("`after` cursor lacks its sort value"))?;
        // Codes are unique, so the code alone orders the keyset.
        select.and_where(code.clone().gt(value));
    }
    select.order_by_expr(code, Order::Asc).limit(limit + 1);

    let mut nodes = if asks.rows {
        employee::Entity::find()
            .from_raw_sql(backend.build(&select))
            .all(db)
            .await
            .or_internal()?
    } else {
        Vec::new()
    };
    let has_next = nodes.len() as u64 > limit;
    nodes.truncate(limit as usize);
    Ok(EmployeeConnection {
        nodes,
        list,
        has_next,
        count: backend.build(&count),
    })
}

/// Match statuses accepted as a filter.
pub fn match_status_filter(status: Option<MatchStatus>) -> Vec<domain::MatchStatus> {
    status.map(|s| vec![s.into()]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use sea_orm::IdenStatic;

    use super::*;

    fn names<C: IdenStatic + Iterable>() -> Vec<&'static str> {
        C::iter().map(|c| c.as_str()).collect()
    }

    #[test]
    fn decoders_follow_the_select_order() {
        assert_eq!(agent::Model::FIELDS, names::<agent::Column>());
        assert_eq!(agent_link::Model::FIELDS, names::<agent_link::Column>());
        assert_eq!(employee::Model::FIELDS, names::<employee::Column>());
    }
}
