//! Filtered, ordered pages of agents and employees with keyset pagination, and their counts: the SQL
//! behind every list of the API and every export. The list rules are constructors here:
//! [`AgentFilter::unmatched`] ("unmatched agents"), [`AgentFilter::to_review`] and
//! [`EmployeeFilter::without_seat`] ("staff without a seat").
//!
//! A page of agents that needs their links or employees is read in ONE statement: the page of agents as a
//! subquery (so the join never widens the scan), left-joined to its links and their employees.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use entity::search::fold;
use entity::{agent, agent_link, employee, status_event};
use sea_orm::sea_query::{
    Alias, Asterisk, Cond, Expr, ExprTrait, Func, IntoCondition, JoinType, LikeExpr, Order, Query,
    SelectStatement, SimpleExpr,
};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DbErr, EntityTrait, IdenStatic, Iterable, QueryResult, TryGetable,
    sqlx,
};

use super::agents::is_current;
use super::links::{match_status, seated_employee_ids};
use crate::domain::{Channel, ChannelStatus, EmployeeStatus, MatchMethod, MatchStatus};

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

/// A filter on one channel's status; `channel: None` means any channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelStatusFilter {
    pub channel: Option<Channel>,
    pub status: ChannelStatus,
}

/// Everything an agent list can filter on; the filters combine.
#[derive(Debug, Clone, Default)]
pub struct AgentFilter {
    /// Only agents of this CareSoft domain.
    pub domain: Option<String>,
    pub group: Option<String>,
    pub group_id: Option<i64>,
    pub channel_status: Option<ChannelStatusFilter>,
    /// Any of these match statuses (none: any).
    pub match_statuses: Vec<MatchStatus>,
    /// Only agents MATCHED to employees of this HR status.
    pub employee_status: Option<EmployeeStatus>,
    pub search: Option<String>,
    pub include_removed: bool,
    /// Only agents in any of these lists of the seat report.
    pub seat_lists: Vec<SeatList>,
}

/// The lists of the seat report (DESIGN.md part 2, "Seat report"), each a rule on current agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatList {
    /// "Seats of departed staff": MATCHED to an employee HR lists as TERMINATED.
    DepartedStaff,
    /// "Orphan seats": UNMATCHED.
    Orphan,
    /// "Duplicate seats": MATCHED to an employee who holds more than one current seat.
    Duplicate,
    /// "Idle seats": LOGOUT on every channel since `since` (mirrored since then at least, with no status
    /// change after it); IGNORED seats are not listed.
    Idle { since: DateTime<Utc> },
}

impl SeatList {
    /// The condition on `a` (agents), `l` (their links) and `e` (the links' employees).
    fn condition(self) -> Cond {
        let matched =
            || Expr::col((l(), agent_link::Column::Status)).eq(MatchStatus::Matched.as_str());
        match self {
            SeatList::DepartedStaff => Cond::all().add(matched()).add(
                Expr::col((e(), employee::Column::Status)).eq(EmployeeStatus::Terminated.as_str()),
            ),
            SeatList::Orphan => match_status(l())
                .eq(MatchStatus::Unmatched.as_str())
                .into_condition(),
            SeatList::Duplicate => {
                let seated = Alias::new("seated");
                let mut several = Query::select();
                several
                    .column((seated.clone(), agent_link::Column::EmployeeId))
                    .from_subquery(seated_employee_ids(), seated.clone())
                    .group_by_col((seated, agent_link::Column::EmployeeId))
                    .and_having(Expr::col(Asterisk).count().gt(1));
                Cond::all()
                    .add(matched())
                    .add(Expr::col((l(), agent_link::Column::EmployeeId)).in_subquery(several))
            }
            SeatList::Idle { since } => {
                let logout = ChannelStatus::Logout.as_str();
                let s = Alias::new("se");
                let mut changed = Query::select();
                changed
                    .expr(Expr::val(1))
                    .from_as(status_event::Entity, s.clone())
                    .and_where(
                        Expr::col((s.clone(), status_event::Column::AgentId))
                            .equals((a(), agent::Column::Id)),
                    )
                    .and_where(Expr::col((s, status_event::Column::ObservedAt)).gt(since));
                Cond::all()
                    .add(match_status(l()).ne(MatchStatus::Ignored.as_str()))
                    .add(Expr::col((a(), agent::Column::CallStatus)).eq(logout))
                    .add(Expr::col((a(), agent::Column::ChatStatus)).eq(logout))
                    .add(Expr::col((a(), agent::Column::TicketStatus)).eq(logout))
                    .add(Expr::col((a(), agent::Column::FirstSeenAt)).lte(since))
                    .add(Expr::exists(changed).not())
            }
        }
    }
}

impl AgentFilter {
    /// One list of the seat report (or several, any of them: the reclaimable seats).
    pub fn seats(lists: &[SeatList]) -> Self {
        Self {
            seat_lists: lists.to_vec(),
            ..Self::default()
        }
    }

    /// "Unmatched agents": current agents that are UNMATCHED (seats that belong to nobody in HR).
    pub fn unmatched() -> Self {
        Self {
            match_statuses: vec![MatchStatus::Unmatched],
            ..Self::default()
        }
    }

    /// Current AMBIGUOUS and CONFLICT agents, for an admin to resolve.
    pub fn to_review() -> Self {
        Self {
            match_statuses: vec![MatchStatus::Ambiguous, MatchStatus::Conflict],
            ..Self::default()
        }
    }

    /// Every agent ever mirrored, removed ones included.
    pub fn everyone() -> Self {
        Self {
            include_removed: true,
            ..Self::default()
        }
    }

    fn condition(&self) -> Cond {
        let mut cond = Cond::all();
        if !self.include_removed {
            cond = cond.add(is_current(a()));
        }
        if let Some(domain) = &self.domain {
            cond = cond.add(Expr::col((a(), agent::Column::Domain)).eq(domain.clone()));
        }
        if let Some(group) = &self.group {
            cond = cond.add(Expr::col((a(), agent::Column::GroupName)).eq(group.clone()));
        }
        if let Some(group_id) = self.group_id {
            cond = cond.add(Expr::col((a(), agent::Column::GroupId)).eq(group_id));
        }
        if let Some(filter) = self.channel_status {
            let status = filter.status.as_str();
            let column = |c: agent::Column| Expr::col((a(), c)).eq(status);
            cond = cond.add(match filter.channel {
                Some(Channel::Call) => column(agent::Column::CallStatus).into_condition(),
                Some(Channel::Chat) => column(agent::Column::ChatStatus).into_condition(),
                Some(Channel::Ticket) => column(agent::Column::TicketStatus).into_condition(),
                None => Cond::any()
                    .add(column(agent::Column::CallStatus))
                    .add(column(agent::Column::ChatStatus))
                    .add(column(agent::Column::TicketStatus)),
            });
        }
        if !self.match_statuses.is_empty() {
            cond =
                cond.add(match_status(l()).is_in(self.match_statuses.iter().map(|s| s.as_str())));
        }
        if let Some(status) = self.employee_status {
            cond = cond
                .add(Expr::col((l(), agent_link::Column::Status)).eq(MatchStatus::Matched.as_str()))
                .add(Expr::col((e(), employee::Column::Status)).eq(status.as_str()));
        }
        if !self.seat_lists.is_empty() {
            cond = cond.add(
                self.seat_lists
                    .iter()
                    .fold(Cond::any(), |any, list| any.add(list.condition())),
            );
        }
        if let Some(search) = self.search.as_deref().filter(|s| !s.trim().is_empty()) {
            let mut any = Cond::any().add(matches_search(
                Expr::col((a(), agent::Column::SearchText)),
                search,
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
        let departed = self.seat_lists.contains(&SeatList::DepartedStaff);
        if self.employee_status.is_some() || departed {
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

/// `%text%` for LIKE, with the wildcards of the text escaped.
/// The rule of `search:`: the row's stored search text (its fields folded by [`fold`]) contains the
/// folded term. Folding both sides in Rust gives every engine the same answers; `LIKE` then compares
/// plain lowercase text, with the term's own `%`, `_` and `\` escaped.
fn matches_search(search_text: SimpleExpr, term: &str) -> SimpleExpr {
    let escaped = fold(term)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    search_text.like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// Orderings of agent lists; the id breaks ties, so every order is total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentOrder {
    #[default]
    IdAsc,
    IdDesc,
    UsernameAsc,
    UsernameDesc,
    /// Most recently changed first.
    LastChangedDesc,
}

/// Where a page starts: after the agent `id` whose sort value was `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentAfter {
    Id(i64),
    Username(String, i64),
    LastChanged(DateTime<Utc>, i64),
}

impl AgentOrder {
    /// The sort value a cursor must carry for `row` (`None` when the id alone orders).
    pub fn cursor_value(self, row: &agent::Model) -> Option<String> {
        match self {
            AgentOrder::IdAsc | AgentOrder::IdDesc => None,
            AgentOrder::UsernameAsc | AgentOrder::UsernameDesc => {
                Some(row.username.clone().unwrap_or_default())
            }
            AgentOrder::LastChangedDesc => Some(row.last_changed_at.to_rfc3339()),
        }
    }

    /// The start of a page from a cursor's id and sort value; `Err` names what is wrong with them.
    pub fn after(self, id: i64, value: Option<&str>) -> Result<AgentAfter, &'static str> {
        let value = || value.ok_or("`after` cursor lacks its sort value");
        Ok(match self {
            AgentOrder::IdAsc | AgentOrder::IdDesc => AgentAfter::Id(id),
            AgentOrder::UsernameAsc | AgentOrder::UsernameDesc => {
                AgentAfter::Username(value()?.to_string(), id)
            }
            AgentOrder::LastChangedDesc => {
                let at = DateTime::parse_from_rfc3339(value()?)
                    .map_err(|_| "`after` cursor is damaged")?
                    .with_timezone(&Utc);
                AgentAfter::LastChanged(at, id)
            }
        })
    }

    /// `columns` and those this order sorts on (its cursors carry them).
    fn columns(self, columns: Columns<agent::Column>) -> Columns<agent::Column> {
        match self {
            AgentOrder::IdAsc | AgentOrder::IdDesc => columns,
            AgentOrder::UsernameAsc | AgentOrder::UsernameDesc => {
                columns.with(agent::Column::Username)
            }
            AgentOrder::LastChangedDesc => columns.with(agent::Column::LastChangedAt),
        }
    }

    fn descending(self) -> bool {
        matches!(
            self,
            AgentOrder::IdDesc | AgentOrder::UsernameDesc | AgentOrder::LastChangedDesc
        )
    }

    /// The ORDER BY on the agents of `table`, the id last.
    fn terms(self, table: Alias) -> Vec<(SimpleExpr, Order)> {
        let direction = if self.descending() {
            Order::Desc
        } else {
            Order::Asc
        };
        let id: SimpleExpr = Expr::col((table.clone(), agent::Column::Id));
        match self {
            AgentOrder::IdAsc | AgentOrder::IdDesc => vec![(id, direction)],
            AgentOrder::UsernameAsc | AgentOrder::UsernameDesc => {
                vec![(username_key(table), direction.clone()), (id, direction)]
            }
            AgentOrder::LastChangedDesc => vec![
                (
                    Expr::col((table, agent::Column::LastChangedAt)),
                    Order::Desc,
                ),
                (id, Order::Desc),
            ],
        }
    }

    /// The keyset condition of rows after `after`.
    fn keyset(self, after: &AgentAfter) -> Cond {
        let id = Expr::col((a(), agent::Column::Id));
        let past = |expr: SimpleExpr, value: SimpleExpr| match self.descending() {
            true => expr.lt(value),
            false => expr.gt(value),
        };
        match after {
            AgentAfter::Id(after) => past(id, Expr::val(*after)).into_condition(),
            AgentAfter::Username(name, after) => Cond::any()
                .add(past(username_key(a()), Expr::val(name.clone())))
                .add(
                    Cond::all()
                        .add(username_key(a()).eq(name.clone()))
                        .add(past(id, Expr::val(*after))),
                ),
            AgentAfter::LastChanged(at, after) => {
                let changed = Expr::col((a(), agent::Column::LastChangedAt));
                Cond::any()
                    .add(changed.clone().lt(*at))
                    .add(Cond::all().add(changed.eq(*at)).add(id.lt(*after)))
            }
        }
    }
}

fn username_key(table: Alias) -> SimpleExpr {
    Func::coalesce([Expr::col((table, agent::Column::Username)), Expr::val("")]).into()
}

/// What a page must read besides the agents, and which of the agents' and employees' columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageRead {
    /// The agents' links.
    pub links: bool,
    /// The links' employees (needs `links`).
    pub employees: bool,
    /// The agents' columns to read (the order's own are added).
    pub agent_columns: Columns<agent::Column>,
    /// The employees' columns to read.
    pub employee_columns: Columns<employee::Column>,
}

impl PageRead {
    /// Every column of the agents, their links and their employees.
    pub fn everything() -> Self {
        Self {
            links: true,
            employees: true,
            ..Self::default()
        }
    }
}

/// Which columns of an entity a page reads, by their position in the entity's `Column::iter()`. A column
/// left out is not sent by the database nor decoded: its field holds a placeholder (empty text, 0, `None`,
/// the epoch, the first variant), so whoever narrows a read must read no field it left out. The first
/// column, the key, is always read. The default is every column.
pub struct Columns<C> {
    mask: u64,
    of: PhantomData<fn() -> C>,
}

impl<C> Clone for Columns<C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C> Copy for Columns<C> {}
impl<C> PartialEq for Columns<C> {
    fn eq(&self, other: &Self) -> bool {
        self.mask == other.mask
    }
}
impl<C> Eq for Columns<C> {}
impl<C> Default for Columns<C> {
    fn default() -> Self {
        Self::all()
    }
}

impl<C: Iterable + IdenStatic + Copy> std::fmt::Debug for Columns<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_all() {
            return f.write_str("all");
        }
        f.debug_list()
            .entries(self.selected().map(|c| c.as_str()))
            .finish()
    }
}

impl<C> Columns<C> {
    /// Every column.
    pub const fn all() -> Self {
        Self {
            mask: u64::MAX,
            of: PhantomData,
        }
    }

    /// Whether every column is read.
    pub fn is_all(self) -> bool {
        self.mask == u64::MAX
    }

    /// The columns of both.
    pub fn union(self, other: Self) -> Self {
        Self {
            mask: self.mask | other.mask,
            of: PhantomData,
        }
    }

    fn has(self, index: usize) -> bool {
        index >= 64 || self.mask & (1 << index) != 0
    }
}

impl<C: Iterable + IdenStatic + Copy> Columns<C> {
    /// The key and `columns`.
    pub fn only(columns: impl IntoIterator<Item = C>) -> Self {
        let mut set = Self {
            mask: 1,
            of: PhantomData,
        };
        for column in columns {
            set = set.with(column);
        }
        set
    }

    /// These columns and `column`.
    pub fn with(self, column: C) -> Self {
        match C::iter().position(|c| c.as_str() == column.as_str()) {
            Some(index) if index < 64 => Self {
                mask: self.mask | 1 << index,
                of: PhantomData,
            },
            _ => self,
        }
    }

    /// The columns read, in declaration order.
    fn selected(self) -> impl Iterator<Item = C> {
        C::iter()
            .enumerate()
            .filter(move |(index, _)| self.has(*index))
            .map(|(_, c)| c)
    }
}

/// An agent of a page, with what [`PageRead`] asked to read with it.
#[derive(Debug, Clone)]
pub struct PageRow {
    pub agent: agent::Model,
    /// `None`: not read; `Some(None)`: read, the agent has no link row.
    pub link: Option<Option<agent_link::Model>>,
    /// `None`: not read; `Some(None)`: read, the link has no employee.
    pub employee: Option<Option<employee::Model>>,
}

/// Rows matching `filter`, all pages together.
pub async fn count_agents(db: &impl ConnectionTrait, filter: &AgentFilter) -> Result<i64, DbErr> {
    let mut count = Query::select();
    count.expr(Expr::col(Asterisk).count());
    filter.from(&mut count);
    count.cond_where(filter.condition());
    count_of(db, &count).await
}

/// Rows matching `filter` per match status, every status listed (0 when none).
pub async fn count_agents_by_match_status(
    db: &impl ConnectionTrait,
    filter: &AgentFilter,
) -> Result<Vec<(MatchStatus, i64)>, DbErr> {
    let status = Alias::new("match_status");
    let mut count = Query::select();
    count
        .expr_as(match_status(l()), status.clone())
        .expr(Expr::col(Asterisk).count());
    filter.from(&mut count);
    count.cond_where(filter.condition());
    count.group_by_col(status);
    let rows = db
        .query_all_raw(db.get_database_backend().build(&count))
        .await?;
    let mut counts: Vec<(MatchStatus, i64)> = MatchStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for row in rows {
        let text: String = row.try_get_by_index(0)?;
        let n: i64 = row.try_get_by_index(1)?;
        if let Some(slot) = counts.iter_mut().find(|(s, _)| s.as_str() == text) {
            slot.1 += n;
        }
    }
    Ok(counts)
}

async fn count_of(db: &impl ConnectionTrait, count: &SelectStatement) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(db.get_database_backend().build(count))
        .await?;
    match row {
        Some(row) => row.try_get_by_index::<i64>(0),
        None => Ok(0),
    }
}

/// The agents matching `filter` in `order`, after `after`, at most `limit` (all without one), with what
/// `read` asks.
pub async fn agents(
    db: &impl ConnectionTrait,
    filter: &AgentFilter,
    order: AgentOrder,
    after: Option<&AgentAfter>,
    limit: Option<u64>,
    read: PageRead,
) -> Result<Vec<PageRow>, DbErr> {
    let columns = order.columns(read.agent_columns);
    let mut select = Query::select();
    select.columns(columns.selected().map(|c| (a(), c)));
    filter.from(&mut select);
    select.cond_where(filter.condition());
    if let Some(after) = after {
        select.cond_where(order.keyset(after));
    }
    for (expr, direction) in order.terms(a()) {
        select.order_by_expr(expr, direction);
    }
    if let Some(limit) = limit {
        select.limit(limit);
    }
    if read.links {
        return page_with_links(db, select, order, columns, read).await;
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&select))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(PageRow {
                agent: agent::Model::read(row, 0, columns)?,
                link: None,
                employee: None,
            })
        })
        .collect()
}

/// Runs the page `select` (of the agents' `columns`) joined to its links (and their employees when
/// `read` asks), in page order.
async fn page_with_links(
    db: &impl ConnectionTrait,
    select: SelectStatement,
    order: AgentOrder,
    columns: Columns<agent::Column>,
    read: PageRead,
) -> Result<Vec<PageRow>, DbErr> {
    let employees = read.employees;
    let mut outer = Query::select();
    outer.columns(columns.selected().map(|c| (p(), c)));
    outer.columns(agent_link::Column::iter().map(|c| (l(), c)));
    outer.from_subquery(select, p()).join_as(
        JoinType::LeftJoin,
        agent_link::Entity,
        l(),
        Expr::col((l(), agent_link::Column::AgentId)).equals((p(), agent::Column::Id)),
    );
    if employees {
        outer.columns(read.employee_columns.selected().map(|c| (e(), c)));
        outer.join_as(
            JoinType::LeftJoin,
            employee::Entity,
            e(),
            Expr::col((e(), employee::Column::Id)).equals((l(), agent_link::Column::EmployeeId)),
        );
    }
    for (expr, direction) in order.terms(p()) {
        outer.order_by_expr(expr, direction);
    }
    let rows = db
        .query_all_raw(db.get_database_backend().build(&outer))
        .await?;

    let link_at = columns.selected().count();
    let employee_at = link_at + agent_link::Model::FIELDS.len();
    rows.iter()
        .map(|row| {
            Ok(PageRow {
                agent: agent::Model::read(row, 0, columns)?,
                link: Some(agent_link::Model::read_joined(
                    row,
                    link_at,
                    Columns::all(),
                )?),
                employee: match employees {
                    true => Some(employee::Model::read_joined(
                        row,
                        employee_at,
                        read.employee_columns,
                    )?),
                    false => None,
                },
            })
        })
        .collect()
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

impl EmployeeFilter {
    /// "Staff without a seat": ACTIVE employees still in HR with no MATCHED current agent.
    pub fn without_seat() -> Self {
        Self {
            status: Some(EmployeeStatus::Active),
            without_seat: true,
            ..Self::default()
        }
    }

    fn condition(&self) -> Cond {
        let mut cond = Cond::all();
        if !self.include_removed {
            cond = cond.add(Expr::col((e(), employee::Column::RemovedAt)).is_null());
        }
        if let Some(status) = self.status {
            cond = cond.add(Expr::col((e(), employee::Column::Status)).eq(status.as_str()));
        }
        if self.without_seat {
            cond = cond
                .add(Expr::col((e(), employee::Column::Id)).not_in_subquery(seated_employee_ids()));
        }
        if let Some(search) = self.search.as_deref().filter(|s| !s.trim().is_empty()) {
            cond = cond.add(matches_search(
                Expr::col((e(), employee::Column::SearchText)),
                search,
            ));
        }
        cond
    }
}

/// Employees matching `filter`, all pages together.
pub async fn count_employees(
    db: &impl ConnectionTrait,
    filter: &EmployeeFilter,
) -> Result<i64, DbErr> {
    let mut count = Query::select();
    count
        .expr(Expr::col(Asterisk).count())
        .from_as(employee::Entity, e())
        .cond_where(filter.condition());
    count_of(db, &count).await
}

/// The employees matching `filter` by employee code, after the code `after`, at most `limit` (all without
/// one). Codes are unique, so the code alone orders the keyset.
pub async fn employees(
    db: &impl ConnectionTrait,
    filter: &EmployeeFilter,
    after: Option<&str>,
    limit: Option<u64>,
) -> Result<Vec<employee::Model>, DbErr> {
    let mut select = Query::select();
    select
        .columns(employee::Column::iter().map(|c| (e(), c)))
        .from_as(employee::Entity, e())
        .cond_where(filter.condition());
    let code = Expr::col((e(), employee::Column::EmployeeCode));
    if let Some(after) = after {
        select.and_where(code.clone().gt(after));
    }
    select.order_by_expr(code, Order::Asc);
    if let Some(limit) = limit {
        select.limit(limit);
    }
    employee::Entity::find()
        .from_raw_sql(db.get_database_backend().build(&select))
        .all(db)
        .await
}

/// A value read from a joined row by column position (see [`positional!`]).
trait ColumnValue: Sized {
    fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr>;
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

macro_rules! plain_columns {
    ($($t:ty),+) => {$(
        impl ColumnValue for $t {
            fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                column(row, index)
            }
        }
    )+};
}
plain_columns!(
    i64,
    Option<i64>,
    String,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>
);

/// Stored enums decode from their text; a value this program did not write is an error naming it.
macro_rules! enum_columns {
    ($($t:ty),+) => {$(
        impl ColumnValue for $t {
            fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                <$t>::try_from_value(&column::<String>(row, index)?)
            }
        }
        impl ColumnValue for Option<$t> {
            fn read(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                column::<Option<String>>(row, index)?
                    .map(|text| <$t>::try_from_value(&text))
                    .transpose()
            }
        }
    )+};
}
enum_columns!(ChannelStatus, MatchStatus, MatchMethod, EmployeeStatus);

/// The value of a field whose column a page did not read (see [`Columns`]).
trait Unread {
    fn unread() -> Self;
}

impl<T> Unread for Option<T> {
    fn unread() -> Self {
        None
    }
}
impl Unread for i64 {
    fn unread() -> Self {
        0
    }
}
impl Unread for String {
    fn unread() -> Self {
        String::new()
    }
}
impl Unread for DateTime<Utc> {
    fn unread() -> Self {
        DateTime::UNIX_EPOCH
    }
}
macro_rules! unread_enums {
    ($($t:ty),+) => {$(
        impl Unread for $t {
            fn unread() -> Self {
                <$t>::iter().next().expect("an enum with a variant")
            }
        }
    )+};
}
unread_enums!(ChannelStatus, MatchStatus, EmployeeStatus);

/// A model read by column position.
trait Positional: Sized {
    /// Field names in the order they are read.
    const FIELDS: &'static [&'static str];
    /// The entity's columns, in the same order.
    type Column;
    /// Reads the fields of `columns` from consecutive columns from `start`; the others are [`Unread`].
    fn read(row: &QueryResult, start: usize, columns: Columns<Self::Column>)
    -> Result<Self, DbErr>;

    /// `None` when the left join found no row (its first column, a NOT NULL key, is NULL).
    fn read_joined(
        row: &QueryResult,
        start: usize,
        columns: Columns<Self::Column>,
    ) -> Result<Option<Self>, DbErr> {
        match row.try_get_by_index::<Option<i64>>(start)? {
            Some(_) => Self::read(row, start, columns).map(Some),
            None => Ok(None),
        }
    }
}

/// Reads a model from consecutive columns of a joined row, by position: reading by name would build the
/// prefixed name of every column of every row (a fifth of a page's CPU time in the server). Fields are
/// listed in declaration order, which is the order of the entity's `Column::iter()` that the SELECT lists;
/// a missing field does not compile, and `decoders_follow_the_select_order` checks the order.
macro_rules! positional {
    ($model:path, $column:path { $($field:ident),+ $(,)? }) => {
        impl Positional for $model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];
            type Column = $column;
            fn read(
                row: &QueryResult,
                start: usize,
                columns: Columns<$column>,
            ) -> Result<Self, DbErr> {
                let mut at = start;
                let mut index = 0;
                let mut next = || {
                    index += 1;
                    columns.has(index - 1).then(|| {
                        at += 1;
                        at - 1
                    })
                };
                Ok(Self {
                    $($field: match next() {
                        Some(at) => ColumnValue::read(row, at)?,
                        None => Unread::unread(),
                    }),+
                })
            }
        }
    };
}

positional!(
    agent::Model,
    agent::Column {
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
        search_text,
        caresoft_id,
    }
);
positional!(
    agent_link::Model,
    agent_link::Column {
        agent_id,
        status,
        method,
        employee_id,
        updated_at
    }
);
positional!(
    employee::Model,
    employee::Column {
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
        fingerprint,
        search_text,
        given_name,
    }
);

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
