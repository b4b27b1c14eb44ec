//! Paged lists (agents, employees) as Relay connections over the store's pages ([`store::pages`]):
//! `totalCount` is a COUNT that only runs when a client asks for it, and the page itself only runs when
//! the selection asks for rows. A page whose selection asks for match fields or the employee is read with
//! its links and employees joined, which each GraphQL `Agent` then carries.

use async_graphql::{Context, InputObject, Lookahead, Object, SimpleObject};
use entity::employee;
use sea_orm::DatabaseConnection;

use super::errors::{ApiError, OrInternal};
use super::loaders::{Loaders, SeatsKey, asks_for_links, load_one, prefetch_agents};
use super::memoised::memoised;
use super::pagination::{Cursor, page_size};
use super::types::{
    Agent, AgentOrderBy, Channel, ChannelStatus, Employee, agent_columns_read,
    employee_columns_read,
};
use crate::seats::{ListName, Lists};
use crate::store::pages::{
    self, AgentFilter, AgentOrder, ChannelStatusFilter, Columns, EmployeeFilter, PageRead,
};

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

impl From<ChannelStatusInput> for ChannelStatusFilter {
    fn from(input: ChannelStatusInput) -> Self {
        ChannelStatusFilter {
            channel: input.channel.map(Into::into),
            status: input.status.into(),
        }
    }
}

/// What a connection's selection asks of its page.
#[derive(Debug, Clone, Copy, Default)]
struct PageAsks {
    /// Any row-dependent field (nodes, edges, pageInfo): without one the page is not read at all.
    rows: bool,
    /// What to read with the agents: links (matchStatus, matchedBy, employee) and employees.
    read: PageRead,
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
            read: PageRead {
                links: nodes.iter().any(asks_for_links),
                employees: nodes.iter().any(|n| n.field("employee").exists()),
                agent_columns: agent_columns_read(&nodes),
                employee_columns: employee_columns_read(&nodes),
            },
        }
    }
}

/// A page of agents.
pub struct AgentConnection {
    nodes: Vec<Agent>,
    order: AgentOrder,
    list: String,
    has_next: bool,
    filter: AgentFilter,
    /// The seat report's list this page is of: its edges say why each seat is listed.
    seat_list: Option<(ListName, Lists)>,
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
    seat_list: Option<(ListName, Lists)>,
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
    /// Why the seat is in this list of the seat report (null in other lists).
    async fn reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some((list, lists)) = self.seat_list else {
            return Ok(None);
        };
        let employee = self.node.read_employee();
        let seats = match (list, employee) {
            (ListName::Duplicate, Some(employee)) => load_one(ctx, SeatsKey(employee.id))
                .await
                .or_internal()?
                .map(|seats| seats.len()),
            _ => None,
        };
        let named = employee.map(|e| (e.employee_code.as_str(), e.full_name.as_deref()));
        Ok(Some(lists.reason(list, named, seats)))
    }
}

impl AgentConnection {
    fn cursor(&self, agent: &Agent) -> String {
        Cursor {
            list: self.list.clone(),
            value: self.order.cursor_value(agent.row()),
            id: agent.row().id,
        }
        .encode()
    }
}

#[Object]
impl AgentConnection {
    /// Rows matching the filters, all pages together.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        memoised(ctx, format!("agents {:?}", self.filter), || {
            pages::count_agents(db, &self.filter)
        })
        .await
        .or_internal()
    }
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: false,
            start_cursor: self.nodes.first().map(|a| self.cursor(a)),
            end_cursor: self.nodes.last().map(|a| self.cursor(a)),
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
                cursor: self.cursor(agent),
                node: agent,
                seat_list: self.seat_list,
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

/// Loads one page of agents, with what the selection under `ctx` asks of it.
pub async fn agents(
    ctx: &Context<'_>,
    name: &str,
    filter: AgentFilter,
    order: AgentOrderBy,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<AgentConnection> {
    agents_of(ctx, name, filter, order, (first, after), None).await
}

/// Loads one page of a list of the seat report: its edges carry the reason, and a list whose reason
/// names the employee reads the employees with the page.
pub async fn seat_list(
    ctx: &Context<'_>,
    list: ListName,
    lists: Lists,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<AgentConnection> {
    let name = format!("seatReport.{}", list.as_str());
    agents_of(
        ctx,
        &name,
        list.filter(&lists),
        AgentOrderBy::IdAsc,
        (first, after),
        Some((list, lists)),
    )
    .await
}

async fn agents_of(
    ctx: &Context<'_>,
    name: &str,
    filter: AgentFilter,
    order: AgentOrderBy,
    (first, after): (Option<i32>, Option<&str>),
    seat_list: Option<(ListName, Lists)>,
) -> async_graphql::Result<AgentConnection> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let mut asks = PageAsks::of(ctx.look_ahead());
    if let Some((list, _)) = seat_list
        && list.names_employee()
        && ctx.look_ahead().field("edges").field("reason").exists()
    {
        asks.read.links = true;
        asks.read.employees = true;
        asks.read.employee_columns = Columns::all();
    }
    let limit = page_size(first)?;
    let order = AgentOrder::from(order);
    let list = format!("{name}:{order:?}");
    let after = match after {
        Some(text) => {
            let cursor = Cursor::decode(text, &list)?;
            Some(
                order
                    .after(cursor.id, cursor.value.as_deref())
                    .map_err(ApiError::bad_input)?,
            )
        }
        None => None,
    };
    let mut nodes: Vec<Agent> = if asks.rows {
        pages::agents(
            db,
            &filter,
            order,
            after.as_ref(),
            Some(limit + 1),
            asks.read,
        )
        .await
        .or_internal()?
        .into_iter()
        .map(Agent::from_page)
        .collect()
    } else {
        Vec::new()
    };
    let has_next = nodes.len() as u64 > limit;
    nodes.truncate(limit as usize);
    Ok(AgentConnection {
        nodes,
        order,
        list,
        has_next,
        filter,
        seat_list,
    })
}

/// A page of employees, ordered by employee code.
pub struct EmployeeConnection {
    nodes: Vec<employee::Model>,
    list: String,
    has_next: bool,
    filter: EmployeeFilter,
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
        let db = ctx.data_unchecked::<DatabaseConnection>();
        memoised(ctx, format!("employees {:?}", self.filter), || {
            pages::count_employees(db, &self.filter)
        })
        .await
        .or_internal()
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

/// Loads one page of employees (only when the selection under `ctx` asks for rows).
pub async fn employees(
    ctx: &Context<'_>,
    name: &str,
    filter: EmployeeFilter,
    first: Option<i32>,
    after: Option<&str>,
) -> async_graphql::Result<EmployeeConnection> {
    let db = ctx.data_unchecked::<DatabaseConnection>();
    let asks = PageAsks::of(ctx.look_ahead());
    let limit = page_size(first)?;
    let list = format!("{name}:CODE_ASC");
    let after = match after {
        Some(text) => Some(
            Cursor::decode(text, &list)?
                .value
                .ok_or_else(|| ApiError::bad_input("`after` cursor lacks its sort value"))?,
        ),
        None => None,
    };
    let mut nodes = if asks.rows {
        pages::employees(db, &filter, after.as_deref(), Some(limit + 1))
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
        filter,
    })
}
