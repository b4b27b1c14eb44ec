//! The public GraphQL types and their mapping from storage: the one place where entities become API
//! objects. `///` comments here are the schema's descriptions, written for API users.

use std::borrow::Cow;

use async_graphql::{ComplexObject, Context, Enum, ID, Lookahead, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{agent, agent_link, employee, link_history, roster_change, status_event, sync_run};
use sea_orm::{IdenStatic, Iterable};

use super::auth::Role;
use super::errors::OrInternal;
use super::loaders::{
    AgentKey, CandidatesKey, EmployeeKey, LastSuccessKey, LinkChangesKey, LinkKey, MAX_SUGGESTIONS,
    RosterChangesKey, SeatsKey, StatusEventsKey, SuggestionsKey, load_one,
};
use crate::domain;
use crate::store;
use crate::store::pages::Columns;
use crate::sync::{Surface, failure::with_advice};

/// Declares a GraphQL enum mirroring a domain enum, with conversions both ways.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident => $domain:path { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value { $(<$domain>::$variant => $name::$variant),+ }
            }
        }

        impl From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value { $($name::$variant => <$domain>::$variant),+ }
            }
        }
    };
}
pub(crate) use api_enum;

api_enum! {
    /// A CareSoft channel.
    Channel => domain::Channel { Call, Chat, Ticket }
}

api_enum! {
    /// A channel status. `UNKNOWN` covers values CareSoft did not send or that are not documented (the raw
    /// text is kept in the `*Raw` fields).
    ChannelStatus => domain::ChannelStatus {
        /// `AVAILABLE`
        Available,
        /// `NOT AVAILABLE`
        NotAvailable,
        /// `LOGOUT`
        Logout,
        /// Missing or undocumented.
        Unknown,
    }
}

api_enum! {
    /// How an agent relates to the HR table.
    MatchStatus => domain::MatchStatus {
        /// Linked to exactly one employee (see `matchedBy`).
        Matched,
        /// No employee found.
        Unmatched,
        /// Several employees share the agent's email (or, without an email hit, its phone).
        Ambiguous,
        /// The email points at one employee and the phone at another.
        Conflict,
        /// A service, test or supervisor seat an admin excluded.
        Ignored,
    }
}

api_enum! {
    /// Which rule linked an agent.
    MatchMethod => domain::MatchMethod { Email, Phone, Manual }
}

api_enum! {
    /// An employee's HR status.
    EmployeeStatus => domain::EmployeeStatus { Active, Terminated }
}

api_enum! {
    /// What started a sync.
    SyncTrigger => domain::Trigger { Cli, Schedule, Api }
}

api_enum! {
    /// How a run ended. `INTERRUPTED`: its process died before it finished (killed, crashed); the next
    /// run that took the lock recorded it.
    SyncOutcome => domain::SyncOutcome { Running, Succeeded, Failed, Refused, DryRun, Interrupted }
}

api_enum! {
    /// What a run reads.
    SyncSource => domain::SyncSource {
        /// CareSoft's agent list (`sync`, `syncNow`, the sync schedule).
        Caresoft,
        /// The enterprise's HR source, `HR_DATABASE_URL` or `HR_FILE` (`sync-hr`, `syncHrNow`, the HR schedule).
        Hr,
    }
}

api_enum! {
    /// Orderings of agent lists.
    AgentOrderBy => store::AgentOrder {
        IdAsc,
        IdDesc,
        UsernameAsc,
        UsernameDesc,
        /// Most recently changed first.
        LastChangedDesc,
    }
}

/// A CareSoft agent ("chuyên viên"): a paid seat.
#[derive(Debug, Clone)]
pub struct Agent {
    row: agent::Model,
    link: Relation<agent_link::Model>,
    employee: Relation<Employee>,
}

/// A related row the query that read an agent may already have joined.
#[derive(Debug, Clone)]
enum Relation<T> {
    /// Not read with the agent: the field resolvers ask the request's loaders.
    Unread,
    /// Read with the agent (`None`: the left join found no row).
    Read(Option<T>),
}

impl Agent {
    /// An agent whose link and employee the field resolvers load when asked.
    pub fn new(row: agent::Model) -> Agent {
        Agent {
            row,
            link: Relation::Unread,
            employee: Relation::Unread,
        }
    }

    /// An agent of a page, with the link and employee the page read with it.
    pub fn from_page(row: store::pages::PageRow) -> Agent {
        Agent {
            row: row.agent,
            link: row.link.map_or(Relation::Unread, Relation::Read),
            employee: row
                .employee
                .map_or(Relation::Unread, |e| Relation::Read(e.map(Employee))),
        }
    }

    /// The stored row.
    pub fn row(&self) -> &agent::Model {
        &self.row
    }

    /// The agent's employee, when it was read with the agent.
    pub fn read_employee(&self) -> Option<&employee::Model> {
        match &self.employee {
            Relation::Read(Some(employee)) => Some(&employee.0),
            _ => None,
        }
    }

    /// The employee id of the agent's link, when the link was read with the agent and the employee was not;
    /// `None` otherwise (nothing to load, or the loaders will be asked for the link first).
    pub fn employee_to_load(&self) -> Option<i64> {
        match (&self.link, &self.employee) {
            (Relation::Read(link), Relation::Unread) => link.as_ref().and_then(|l| l.employee_id),
            _ => None,
        }
    }

    /// The employee id of the agent's link, when the link was read with the agent.
    pub fn linked_employee_id(&self) -> Option<i64> {
        match &self.link {
            Relation::Read(link) => link.as_ref().and_then(|l| l.employee_id),
            Relation::Unread => None,
        }
    }

    /// Whether the agent's link was read with it.
    pub fn has_link(&self) -> bool {
        matches!(self.link, Relation::Read(_))
    }

    /// Applies `f` to the agent's link, read with the agent or through the request's loaders.
    async fn with_link_of<R>(
        &self,
        ctx: &Context<'_>,
        f: impl FnOnce(Option<&agent_link::Model>) -> R,
    ) -> async_graphql::Result<R> {
        match &self.link {
            Relation::Read(link) => Ok(f(link.as_ref())),
            Relation::Unread => {
                let link = load_one(ctx, LinkKey(self.row.id)).await.or_internal()?;
                Ok(f(link.as_ref()))
            }
        }
    }
}

/// The columns of its row that each field of `Agent` reads, so that a page reads only what its selection
/// asks (`store::pages::Columns`); a field not listed here reads the whole row, so a new field is right
/// before it is listed. The link and employee are read apart, by whether the selection asks for them.
/// `tests/api/selections.rs` checks every listed field against a read of the whole row.
const AGENT_FIELD_COLUMNS: &[(&str, &[agent::Column])] = {
    use agent::Column as C;
    &[
        ("__typename", &[]),
        ("id", &[]),
        ("domain", &[C::Domain]),
        ("caresoftId", &[C::CaresoftId]),
        ("username", &[C::Username]),
        ("email", &[C::Email]),
        ("phoneNo", &[C::PhoneNo]),
        ("agentId", &[C::Extension]),
        ("groupId", &[C::GroupId]),
        ("groupName", &[C::GroupName]),
        ("roleId", &[C::RoleId]),
        ("callStatus", &[C::CallStatus]),
        ("chatStatus", &[C::ChatStatus]),
        ("ticketStatus", &[C::TicketStatus]),
        ("callStatusRaw", &[C::CallStatusRaw]),
        ("chatStatusRaw", &[C::ChatStatusRaw]),
        ("ticketStatusRaw", &[C::TicketStatusRaw, C::LoginStatusRaw]),
        ("createdAt", &[C::CreatedAt]),
        ("updatedAt", &[C::UpdatedAt]),
        ("firstSeenAt", &[C::FirstSeenAt]),
        ("lastSeenAt", &[C::RemovedAt, C::Domain, C::LastSeenAt]),
        ("lastChangedAt", &[C::LastChangedAt]),
        ("removedAt", &[C::RemovedAt]),
        ("matchStatus", &[]),
        ("matchedBy", &[]),
        ("employee", &[]),
        ("suggestions", &[]),
        ("candidates", &[]),
        ("rosterChanges", &[]),
        ("linkChanges", &[]),
    ]
};

/// The columns of its row that each field of `Employee` reads (as [`AGENT_FIELD_COLUMNS`]).
const EMPLOYEE_FIELD_COLUMNS: &[(&str, &[employee::Column])] = {
    use employee::Column as C;
    &[
        ("__typename", &[]),
        ("id", &[]),
        ("employeeCode", &[C::EmployeeCode]),
        ("fullName", &[C::FullName]),
        ("email", &[C::Email]),
        ("phone", &[C::Phone]),
        ("department", &[C::Department]),
        ("status", &[C::Status]),
        ("removedAt", &[C::RemovedAt]),
        ("agents", &[]),
    ]
};

/// The columns that the fields selected under `objects` read, by `table`; every column when one of them
/// is not in it.
fn columns_read<C: Iterable + IdenStatic + Copy>(
    table: &[(&str, &[C])],
    objects: &Lookahead<'_>,
) -> Columns<C> {
    let mut columns = Columns::only([]);
    for object in objects.selection_fields() {
        for field in object.selection_set() {
            match table.iter().find(|(name, _)| *name == field.name()) {
                Some((_, read)) => columns = columns.union(Columns::only(read.iter().copied())),
                None => return Columns::all(),
            }
        }
    }
    columns
}

/// The agent columns that the selections `nodes` (of agents) read.
pub fn agent_columns_read(nodes: &[Lookahead<'_>]) -> Columns<agent::Column> {
    nodes.iter().fold(Columns::only([]), |columns, n| {
        columns.union(columns_read(AGENT_FIELD_COLUMNS, n))
    })
}

/// The employee columns that the selections `nodes` (of agents) read of their employees.
pub fn employee_columns_read(nodes: &[Lookahead<'_>]) -> Columns<employee::Column> {
    nodes.iter().fold(Columns::only([]), |columns, n| {
        columns.union(columns_read(EMPLOYEE_FIELD_COLUMNS, &n.field("employee")))
    })
}

#[Object]
impl Agent {
    /// The agent's id in the bridge: its CareSoft id, unless another domain's agent already had that id
    /// (then a key of its own; `caresoftId` is always CareSoft's).
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    /// The CareSoft domain the agent was read from.
    async fn domain(&self) -> &str {
        &self.row.domain
    }
    /// The id CareSoft gave the agent (unique within its domain).
    async fn caresoft_id(&self) -> ID {
        ID(self.row.caresoft_id.to_string())
    }
    async fn username(&self) -> Option<&str> {
        self.row.username.as_deref()
    }
    async fn email(&self) -> Option<&str> {
        self.row.email.as_deref()
    }
    async fn phone_no(&self) -> Option<&str> {
        self.row.phone_no.as_deref()
    }
    /// The IP-phone extension.
    async fn agent_id(&self) -> Option<&str> {
        self.row.extension.as_deref()
    }
    async fn group_id(&self) -> Option<i64> {
        self.row.group_id
    }
    async fn group_name(&self) -> Option<&str> {
        self.row.group_name.as_deref()
    }
    async fn role_id(&self) -> Option<i64> {
        self.row.role_id
    }
    async fn call_status(&self) -> ChannelStatus {
        self.row.call_status.into()
    }
    async fn chat_status(&self) -> ChannelStatus {
        self.row.chat_status.into()
    }
    /// The ticket channel (CareSoft's `login_status` when an older payload has no `ticket_status`).
    async fn ticket_status(&self) -> ChannelStatus {
        self.row.ticket_status.into()
    }
    /// The call status exactly as CareSoft sent it.
    async fn call_status_raw(&self) -> Option<&str> {
        self.row.call_status_raw.as_deref()
    }
    /// The chat status exactly as CareSoft sent it.
    async fn chat_status_raw(&self) -> Option<&str> {
        self.row.chat_status_raw.as_deref()
    }
    /// The ticket status exactly as CareSoft sent it (or its `login_status`).
    async fn ticket_status_raw(&self) -> Option<&str> {
        self.row
            .ticket_status_raw
            .as_deref()
            .or(self.row.login_status_raw.as_deref())
    }
    /// CareSoft's own creation time of the seat.
    async fn created_at(&self) -> Option<DateTime<Utc>> {
        self.row.created_at
    }
    /// CareSoft's own last update time of the seat.
    async fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.row.updated_at
    }
    /// When a sync first saw this agent.
    async fn first_seen_at(&self) -> DateTime<Utc> {
        self.row.first_seen_at
    }
    /// When a sync last saw this agent in CareSoft's list.
    async fn last_seen_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime<Utc>> {
        if self.row.removed_at.is_some() {
            return Ok(self.row.last_seen_at);
        }
        let last = load_one(ctx, LastSuccessKey(self.row.domain.clone()))
            .await
            .or_internal()?;
        Ok(last.map_or(self.row.last_seen_at, |last| {
            last.started_at.max(self.row.last_seen_at)
        }))
    }
    /// When any mirrored field of this agent last changed.
    async fn last_changed_at(&self) -> DateTime<Utc> {
        self.row.last_changed_at
    }
    /// Set when the agent disappeared from CareSoft's list (the row is kept).
    async fn removed_at(&self) -> Option<DateTime<Utc>> {
        self.row.removed_at
    }
    async fn match_status(&self, ctx: &Context<'_>) -> async_graphql::Result<MatchStatus> {
        self.with_link_of(ctx, |link| store::links::status_of(link).into())
            .await
    }
    /// How the agent was linked; null unless MATCHED.
    async fn matched_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<MatchMethod>> {
        self.with_link_of(ctx, |link| link.and_then(|l| l.method).map(Into::into))
            .await
    }
    /// The employee holding this seat; null unless MATCHED.
    async fn employee(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Cow<'_, Employee>>> {
        if let Relation::Read(employee) = &self.employee {
            return Ok(employee.as_ref().map(Cow::Borrowed));
        }
        let Some(employee_id) = self
            .with_link_of(ctx, |l| l.and_then(|l| l.employee_id))
            .await?
        else {
            return Ok(None);
        };
        Ok(load_one(ctx, EmployeeKey(employee_id))
            .await
            .or_internal()?
            .map(|e| Cow::Owned(Employee(e))))
    }
    /// For UNMATCHED agents: employees this seat may belong to, best first, with why (empty for any other
    /// agent). Candidates hold no MATCHED seat; only scores of 0.5 and above are listed. Nothing is linked
    /// until an admin accepts one with `linkAgent`.
    async fn suggestions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 3)] first: i32,
    ) -> async_graphql::Result<Vec<Suggestion>> {
        let status = self.with_link_of(ctx, store::links::status_of).await?;
        if status != domain::MatchStatus::Unmatched || first <= 0 {
            return Ok(Vec::new());
        }
        let found = load_one(ctx, SuggestionsKey(self.row.id))
            .await
            .or_internal()?
            .unwrap_or_default();
        let first = usize::try_from(first).unwrap_or(0).min(MAX_SUGGESTIONS);
        Ok(found
            .into_iter()
            .take(first)
            .map(|s| Suggestion {
                employee: Employee(s.employee),
                score: s.score,
                reasons: s.reasons,
            })
            .collect())
    }
    /// For AMBIGUOUS and CONFLICT agents: the employees the keys point at.
    async fn candidates(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Candidate>> {
        let rows = load_one(ctx, CandidatesKey(self.row.id))
            .await
            .or_internal()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|(employee, via)| Candidate {
                employee: Employee(employee),
                via: via.into(),
            })
            .collect())
    }
    /// The latest channel status changes (newest first, at most 100), ending with the agent's first
    /// sighting on each channel (`from` null) when the list holds its whole history.
    async fn status_events(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<StatusEvent>> {
        let rows = load_one(ctx, StatusEventsKey(self.row.id))
            .await
            .or_internal()?;
        Ok(
            store::history::with_first_sightings(&self.row, rows.unwrap_or_default())
                .into_iter()
                .map(StatusEvent)
                .collect(),
        )
    }
    /// The latest changes of username, email, phone, group, role or extension, and removals and returns
    /// (field `presence`), newest first, at most 100.
    async fn roster_changes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RosterChange>> {
        let rows = load_one(ctx, RosterChangesKey(self.row.id))
            .await
            .or_internal()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(RosterChange)
            .collect())
    }
    /// Who held this seat, when: every change of its match, newest first, at most 100.
    async fn link_changes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LinkChange>> {
        let rows = load_one(ctx, LinkChangesKey(self.row.id))
            .await
            .or_internal()?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(LinkChange)
            .collect())
    }
}

/// A possible owner of a seat nobody owns.
#[derive(Debug, Clone, SimpleObject)]
pub struct Suggestion {
    pub employee: Employee,
    /// 0..1: the name (the given name weighs most), then the email, the phone's last 7 digits and the
    /// department against the group.
    pub score: f64,
    /// Why, in words: "same name, word order differs", "last 7 digits of the phone match", …
    pub reasons: Vec<String>,
}

/// An employee an AMBIGUOUS or CONFLICT agent could belong to.
#[derive(Debug, Clone, SimpleObject)]
pub struct Candidate {
    pub employee: Employee,
    /// Which key pointed at this employee.
    pub via: MatchMethod,
}

/// An employee of the enterprise's HR table.
#[derive(Debug, Clone)]
pub struct Employee(pub employee::Model);

#[Object]
impl Employee {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn employee_code(&self) -> &str {
        &self.0.employee_code
    }
    async fn full_name(&self) -> Option<&str> {
        self.0.full_name.as_deref()
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn department(&self) -> Option<&str> {
        self.0.department.as_deref()
    }
    async fn status(&self) -> EmployeeStatus {
        self.0.status.into()
    }
    /// Set when a `--replace` import no longer listed this employee (the row is kept).
    async fn removed_at(&self) -> Option<DateTime<Utc>> {
        self.0.removed_at
    }
    /// The current seats MATCHED to this employee (people holding two seats show up here).
    async fn agents(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Agent>> {
        let seats = load_one(ctx, SeatsKey(self.0.id)).await.or_internal()?;
        Ok(seats
            .unwrap_or_default()
            .into_iter()
            .map(Agent::new)
            .collect())
    }
}

/// A change of one channel's status, as observed by a sync.
#[derive(Debug, Clone)]
pub struct StatusEvent(pub status_event::Model);

#[Object]
impl StatusEvent {
    async fn channel(&self) -> Channel {
        self.0.channel.into()
    }
    /// Null when the agent was first seen.
    async fn from(&self) -> Option<ChannelStatus> {
        self.0.old_status.map(Into::into)
    }
    async fn to(&self) -> ChannelStatus {
        self.0.new_status.into()
    }
    async fn from_raw(&self) -> Option<&str> {
        self.0.old_raw.as_deref()
    }
    async fn to_raw(&self) -> Option<&str> {
        self.0.new_raw.as_deref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.observed_at
    }
}

/// A change of a mirrored field of a seat.
#[derive(Debug, Clone)]
pub struct RosterChange(pub roster_change::Model);

#[Object]
impl RosterChange {
    /// username, email, phone_no, extension, group_id, group_name, role_id, or presence (current/removed).
    async fn field(&self) -> &str {
        &self.0.field
    }
    async fn old_value(&self) -> Option<&str> {
        self.0.old_value.as_deref()
    }
    async fn new_value(&self) -> Option<&str> {
        self.0.new_value.as_deref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
}

/// A change of an agent's match.
#[derive(Debug, Clone)]
pub struct LinkChange(pub link_history::Model);

#[Object]
impl LinkChange {
    /// Null for the agent's first match.
    async fn old_status(&self) -> Option<MatchStatus> {
        self.0.old_status.map(Into::into)
    }
    async fn old_method(&self) -> Option<MatchMethod> {
        self.0.old_method.map(Into::into)
    }
    async fn old_employee(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Employee>> {
        load_employee(ctx, self.0.old_employee_id).await
    }
    async fn new_status(&self) -> MatchStatus {
        self.0.new_status.into()
    }
    async fn new_method(&self) -> Option<MatchMethod> {
        self.0.new_method.map(Into::into)
    }
    async fn new_employee(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Employee>> {
        load_employee(ctx, self.0.new_employee_id).await
    }
    /// sync, import, override, or hr (a pull of the HR source).
    async fn cause(&self) -> &str {
        self.0.cause.as_str()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
}

async fn load_employee(
    ctx: &Context<'_>,
    id: Option<i64>,
) -> async_graphql::Result<Option<Employee>> {
    let Some(id) = id else { return Ok(None) };
    Ok(load_one(ctx, EmployeeKey(id))
        .await
        .or_internal()?
        .map(Employee))
}

/// One run, whatever its outcome: a sync of CareSoft's agents or a pull of the HR source.
#[derive(Debug, Clone)]
pub struct SyncRun(pub sync_run::Model);

#[Object]
impl SyncRun {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn trigger(&self) -> SyncTrigger {
        self.0.trigger.into()
    }
    /// What the run read.
    async fn source(&self) -> SyncSource {
        self.0.source.into()
    }
    /// The CareSoft domain it synced (null for HR pulls).
    async fn domain(&self) -> Option<&str> {
        match self.0.source {
            domain::SyncSource::Caresoft if !self.0.domain.is_empty() => Some(&self.0.domain),
            _ => None,
        }
    }
    async fn outcome(&self) -> SyncOutcome {
        self.0.outcome.into()
    }
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
    /// Seconds from start to finish; null while running.
    async fn duration_seconds(&self) -> Option<f64> {
        self.0
            .finished_at
            .map(|f| (f - self.0.started_at).num_milliseconds() as f64 / 1000.0)
    }
    /// Rows the source gave: agents in CareSoft's answer, or valid rows of the HR source.
    async fn fetched(&self) -> i64 {
        self.0.fetched
    }
    async fn added(&self) -> i64 {
        self.0.added
    }
    async fn updated(&self) -> i64 {
        self.0.updated
    }
    async fn removed(&self) -> i64 {
        self.0.removed
    }
    /// Removed agents CareSoft lists again (CareSoft runs).
    async fn returned(&self) -> i64 {
        self.0.returned
    }
    /// Removed employees the HR source lists again, also counted in `updated` (HR runs).
    async fn restored(&self) -> i64 {
        self.0.restored
    }
    async fn unchanged(&self) -> i64 {
        self.0.unchanged
    }
    async fn status_changes(&self) -> i64 {
        self.0.status_changes
    }
    /// Why the run failed, was refused or was interrupted. Read tokens get a sentence naming no host,
    /// address or answer excerpt; admin tokens get the whole cause. Both end with what to do when a
    /// switch of this API helps (`allowMassRemoval: true`).
    async fn error(&self, ctx: &Context<'_>) -> Option<String> {
        let text = match ctx.data_opt::<Role>() {
            Some(Role::Admin) => self.0.error_detail.as_deref().or(self.0.error.as_deref()),
            _ => self.0.error.as_deref(),
        }?;
        Some(with_advice(
            text,
            self.0.error_code,
            self.0.source,
            Surface::Graphql,
        ))
    }
    /// A stable code for `error`: `CARESOFT_UNAUTHORIZED`, `CARESOFT_UNREACHABLE`,
    /// `CARESOFT_RATE_LIMITED`, `CARESOFT_BAD_ANSWER`, `MASS_REMOVAL`, `HR_QUERY_FAILED`, `HR_BAD_ROWS`,
    /// `DATABASE`, `NOT_CONFIGURED` or `INTERRUPTED`; null when the run did not fail.
    async fn error_code(&self) -> Option<&'static str> {
        self.0.error_code.map(|code| code.as_str())
    }
}

/// How many current agents of a group have a status on a channel.
#[derive(Debug, Clone, SimpleObject)]
pub struct StatusCount {
    pub channel: Channel,
    pub status: ChannelStatus,
    pub count: i64,
}

/// A CareSoft group (department): listed by CareSoft's group list, or named by current agents.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Group {
    /// The CareSoft domain of the group.
    pub domain: String,
    pub id: Option<i64>,
    pub name: Option<String>,
    /// Current agents in the group.
    pub agent_count: i64,
    /// Agents per channel and status (every combination, zeros included).
    pub counts: Vec<StatusCount>,
}

/// Every channel × status count of `counts`, zeros included, in the schema's order.
pub fn status_counts(counts: &store::agents::StatusCounts) -> Vec<StatusCount> {
    let mut out = Vec::with_capacity(12);
    for ((channel, _), row) in store::agents::CHANNEL_COLUMNS.iter().zip(counts) {
        for (status, count) in store::agents::STATUSES.iter().zip(row) {
            out.push(StatusCount {
                channel: (*channel).into(),
                status: (*status).into(),
                count: *count,
            });
        }
    }
    out
}

impl From<store::agents::GroupCounts> for Group {
    fn from(group: store::agents::GroupCounts) -> Self {
        Group {
            domain: group.domain,
            id: group.group_id,
            name: group.group_name,
            agent_count: group.agents,
            counts: status_counts(&group.counts),
        }
    }
}

#[ComplexObject]
impl Group {
    /// Current agents of the group that are AVAILABLE on `channel`.
    async fn available(&self, channel: Channel) -> i64 {
        self.counts
            .iter()
            .find(|c| c.channel == channel && c.status == ChannelStatus::Available)
            .map_or(0, |c| c.count)
    }
}

/// A stored agent by id, through the request's loader.
pub async fn agent_by_id(ctx: &Context<'_>, id: i64) -> async_graphql::Result<Option<Agent>> {
    Ok(load_one(ctx, AgentKey(id))
        .await
        .or_internal()?
        .map(Agent::new))
}
