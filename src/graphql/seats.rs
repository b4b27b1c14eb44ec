//! The seat report as GraphQL: `seatReport(idleDays:)`, its counts, lists and costs.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::errors::OrInternal;
use super::lists::{self, AgentConnection};
use super::memoised::memoised;
use super::types::MatchStatus;
use crate::seats::{self, Counts, ListName, Lists};
use crate::store::pages;

/// An amount of money.
#[derive(Debug, Clone, SimpleObject)]
pub struct Money {
    pub amount: f64,
    /// ISO 4217 code, e.g. `VND`.
    pub currency: String,
    /// Written for Vietnamese readers, e.g. `7.000.000 ₫`.
    pub formatted: String,
}

impl From<seats::Money> for Money {
    fn from(money: seats::Money) -> Self {
        Money {
            formatted: money.formatted(),
            amount: money.amount,
            currency: money.currency,
        }
    }
}

/// Current seats of one match status.
#[derive(Debug, Clone, SimpleObject)]
pub struct MatchStatusCount {
    pub status: MatchStatus,
    pub count: i64,
}

/// What the seats are, which could be reclaimed, and what they cost a month (with `BRIDGE_SEAT_PRICE`).
/// Every list is of current seats; IGNORED seats (service and test seats) are in no list but count among
/// the current seats, which CareSoft bills all the same.
#[derive(Debug, Clone)]
pub struct SeatReport {
    pub lists: Lists,
    pub price: Option<seats::Money>,
}

impl SeatReport {
    async fn counts(&self, ctx: &Context<'_>) -> async_graphql::Result<Counts> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let lists = self.lists;
        memoised(ctx, format!("seat counts {lists:?}"), || {
            seats::counts(db, &lists)
        })
        .await
        .or_internal()
    }

    async fn cost(
        &self,
        ctx: &Context<'_>,
        of: impl Fn(&Counts) -> i64,
    ) -> async_graphql::Result<Option<Money>> {
        let Some(price) = &self.price else {
            return Ok(None);
        };
        let counts = self.counts(ctx).await?;
        Ok(Some(price.times(of(&counts)).into()))
    }
}

#[Object]
impl SeatReport {
    /// The window of `idleSeats`, in days.
    async fn idle_days(&self) -> i32 {
        self.lists.idle_days
    }
    /// The start of the idle window (on the minute).
    async fn idle_since(&self) -> DateTime<Utc> {
        self.lists.idle_since
    }
    /// Every current seat (CareSoft bills each).
    async fn current_seats(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.counts(ctx).await?.current)
    }
    /// Current seats MATCHED to an employee.
    async fn matched_seats(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.counts(ctx).await?.matched)
    }
    /// Seats that could be given back: departed staff's, orphan and idle seats, each seat once.
    async fn reclaimable_seats(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(self.counts(ctx).await?.reclaimable)
    }
    /// Current seats per match status, every status listed.
    async fn by_match_status(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<MatchStatusCount>> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        let current = self.lists.current();
        let counts = memoised(ctx, "seats by match status".into(), || {
            pages::count_agents_by_match_status(db, &current)
        })
        .await
        .or_internal()?;
        Ok(counts
            .into_iter()
            .map(|(status, count)| MatchStatusCount {
                status: status.into(),
                count,
            })
            .collect())
    }
    /// Seats MATCHED to employees HR lists as TERMINATED.
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn departed_staff_seats(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AgentConnection> {
        lists::seat_list(
            ctx,
            ListName::DepartedStaff,
            self.lists,
            first,
            after.as_deref(),
        )
        .await
    }
    /// Current UNMATCHED seats: no employee in HR has their email or phone.
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn orphan_seats(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AgentConnection> {
        lists::seat_list(ctx, ListName::Orphan, self.lists, first, after.as_deref()).await
    }
    /// The seats of employees holding more than one.
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn duplicate_seats(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AgentConnection> {
        lists::seat_list(
            ctx,
            ListName::Duplicate,
            self.lists,
            first,
            after.as_deref(),
        )
        .await
    }
    /// Seats LOGOUT on every channel for the whole of the last `idleDays` (from the status history; a seat
    /// mirrored for less than that is not listed).
    #[graphql(complexity = "first.unwrap_or(50).max(1) as usize * child_complexity")]
    async fn idle_seats(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AgentConnection> {
        lists::seat_list(ctx, ListName::Idle, self.lists, first, after.as_deref()).await
    }
    /// The monthly price of one seat (`BRIDGE_SEAT_PRICE`); null when not set, as every cost.
    async fn seat_price(&self) -> Option<Money> {
        self.price.clone().map(Into::into)
    }
    /// What all current seats cost a month.
    async fn monthly_cost(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Money>> {
        self.cost(ctx, |c| c.current).await
    }
    /// What the reclaimable seats cost a month.
    async fn reclaimable_monthly_cost(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Money>> {
        self.cost(ctx, |c| c.reclaimable).await
    }
    /// What the departed staff's seats cost a month.
    async fn departed_staff_monthly_cost(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Money>> {
        self.cost(ctx, |c| c.departed_staff).await
    }
    /// What the orphan seats cost a month.
    async fn orphan_monthly_cost(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Money>> {
        self.cost(ctx, |c| c.orphan).await
    }
    /// What the seats of employees holding several cost a month (all of them, the first included).
    async fn duplicate_monthly_cost(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Money>> {
        self.cost(ctx, |c| c.duplicate).await
    }
    /// What the idle seats cost a month.
    async fn idle_monthly_cost(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Money>> {
        self.cost(ctx, |c| c.idle).await
    }
}
