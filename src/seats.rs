//! The seat report (DESIGN.md part 2, "Seat report"): what the seats are, which could be reclaimed, and
//! what they cost a month. The lists are rules of the store ([`SeatList`]); this module names them for
//! every surface (GraphQL, `export seat-report`, the `/seats` page), counts them, prices them, and says
//! why a seat is listed.

use chrono::{DateTime, DurationRound, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::domain::MatchStatus;
use crate::store::AgentFilter;
use crate::store::pages::{self, SeatList};

/// The default window of the idle list, in days.
pub const DEFAULT_IDLE_DAYS: i32 = 30;

/// An amount of money in one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Money {
    pub amount: f64,
    /// ISO 4217 code, upper case (`VND`).
    pub currency: String,
}

impl Money {
    /// Parses `350000 VND` (also `VND 350000`, `350000VND`, `12.5 USD`); the amount must be positive and
    /// is written without thousands separators (`.` is the decimal point).
    pub fn parse(text: &str) -> Result<Money, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or_else(|| "expected an amount and a currency, e.g. 350000 VND".to_string())?;
        let (amount, currency) = if split == 0 {
            let end = text
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(text.len());
            (&text[end..], &text[..end])
        } else {
            (&text[..split], &text[split..])
        };
        let (amount, currency) = (amount.trim(), currency.trim());
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "{currency:?} is not a currency code: expected three letters such as VND or USD"
            ));
        }
        let amount: f64 = amount.parse().map_err(|_| {
            format!("{amount:?} is not an amount: write digits with an optional decimal point, e.g. 350000")
        })?;
        if !amount.is_finite() || amount <= 0.0 {
            return Err("the price must be more than zero".into());
        }
        Ok(Money {
            amount,
            currency: currency.to_ascii_uppercase(),
        })
    }

    /// `n` times this amount.
    pub fn times(&self, n: i64) -> Money {
        Money {
            amount: self.amount * n as f64,
            currency: self.currency.clone(),
        }
    }

    /// The amount as Vietnamese readers write it: `.` between thousands, `,` before decimals, the
    /// currency's symbol after (`7.000.000 ₫`, `1.234,50 US$`).
    pub fn formatted(&self) -> String {
        let (symbol, decimals) = match self.currency.as_str() {
            "VND" => ("₫", 0),
            "USD" => ("US$", 2),
            "EUR" => ("€", 2),
            "JPY" | "KRW" => (self.currency.as_str(), 0),
            other => (other, 2),
        };
        let scaled = (self.amount * 10f64.powi(decimals)).round() as i128;
        let (whole, fraction) = (
            scaled / 10i128.pow(decimals as u32),
            scaled % 10i128.pow(decimals as u32),
        );
        let digits = whole.abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push('.');
            }
            grouped.push(digit);
        }
        let sign = if whole < 0 { "-" } else { "" };
        match decimals {
            0 => format!("{sign}{grouped} {symbol}"),
            _ => format!(
                "{sign}{grouped},{:0width$} {symbol}",
                fraction.abs(),
                width = decimals as usize
            ),
        }
    }
}

/// The lists of the report for `idle_days`, at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lists {
    pub idle_days: i32,
    /// The start of the idle window, on the minute: the idle list (and its memoised counts) changes with
    /// the clock once a minute, not at every request.
    pub idle_since: DateTime<Utc>,
}

impl Lists {
    /// The lists with an idle window of `idle_days` ending at `now`; `Err` names a bad `idle_days`.
    pub fn new(idle_days: i32, now: DateTime<Utc>) -> Result<Lists, String> {
        if !(1..=3650).contains(&idle_days) {
            return Err(format!(
                "`idleDays` must be between 1 and 3650 (got {idle_days})"
            ));
        }
        let since = now - chrono::Duration::days(i64::from(idle_days));
        let since = since
            .duration_trunc(chrono::Duration::minutes(1))
            .unwrap_or(since);
        Ok(Lists {
            idle_days,
            idle_since: since,
        })
    }

    pub fn departed_staff(&self) -> AgentFilter {
        AgentFilter::seats(&[SeatList::DepartedStaff])
    }
    pub fn orphan(&self) -> AgentFilter {
        AgentFilter::seats(&[SeatList::Orphan])
    }
    pub fn duplicate(&self) -> AgentFilter {
        AgentFilter::seats(&[SeatList::Duplicate])
    }
    pub fn idle(&self) -> AgentFilter {
        AgentFilter::seats(&[self.idle_list()])
    }
    /// Seats that could be given back: departed staff's, orphan and idle ones, each once.
    pub fn reclaimable(&self) -> AgentFilter {
        AgentFilter::seats(&[SeatList::DepartedStaff, SeatList::Orphan, self.idle_list()])
    }
    /// Every current seat.
    pub fn current(&self) -> AgentFilter {
        AgentFilter::default()
    }
    /// Current MATCHED seats.
    pub fn matched(&self) -> AgentFilter {
        AgentFilter {
            match_statuses: vec![MatchStatus::Matched],
            ..AgentFilter::default()
        }
    }

    fn idle_list(&self) -> SeatList {
        SeatList::Idle {
            since: self.idle_since,
        }
    }

    /// Why a seat of `list` is listed, in a sentence; `employee` is the seat's (code, name) where the
    /// list has one, `seats` how many seats that employee holds.
    pub fn reason(
        &self,
        list: ListName,
        employee: Option<(&str, Option<&str>)>,
        seats: Option<usize>,
    ) -> String {
        let who = |(code, name): (&str, Option<&str>)| match name {
            Some(name) => format!("{name} ({code})"),
            None => code.to_string(),
        };
        match (list, employee) {
            (ListName::DepartedStaff, Some(e)) => {
                format!("held by {}, who left: TERMINATED in HR", who(e))
            }
            (ListName::DepartedStaff, None) => {
                "held by an employee who left: TERMINATED in HR".into()
            }
            (ListName::Orphan, _) => "no employee in HR has this seat's email or phone".into(),
            (ListName::Duplicate, e) => format!(
                "{} holds {} seats",
                e.map_or("its employee".to_string(), who),
                seats.map_or("several".to_string(), |n| n.to_string())
            ),
            (ListName::Idle, _) => format!(
                "logged out on call, chat and ticket for the last {} days",
                self.idle_days
            ),
        }
    }
}

/// The four lists by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListName {
    DepartedStaff,
    Orphan,
    Duplicate,
    Idle,
}

impl ListName {
    pub const ALL: [ListName; 4] = [
        ListName::DepartedStaff,
        ListName::Orphan,
        ListName::Duplicate,
        ListName::Idle,
    ];

    /// The name exports and the page use (`departed_staff`, `orphan`, `duplicate`, `idle`).
    pub fn as_str(self) -> &'static str {
        match self {
            ListName::DepartedStaff => "departed_staff",
            ListName::Orphan => "orphan",
            ListName::Duplicate => "duplicate",
            ListName::Idle => "idle",
        }
    }

    /// The list's filter.
    pub fn filter(self, lists: &Lists) -> AgentFilter {
        match self {
            ListName::DepartedStaff => lists.departed_staff(),
            ListName::Orphan => lists.orphan(),
            ListName::Duplicate => lists.duplicate(),
            ListName::Idle => lists.idle(),
        }
    }

    /// Whether the reason names the seat's employee.
    pub fn names_employee(self) -> bool {
        matches!(self, ListName::DepartedStaff | ListName::Duplicate)
    }
}

/// The report's counts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub current: i64,
    pub matched: i64,
    pub departed_staff: i64,
    pub orphan: i64,
    pub duplicate: i64,
    pub idle: i64,
    pub reclaimable: i64,
}

impl Counts {
    /// The count of `list`.
    pub fn of(&self, list: ListName) -> i64 {
        match list {
            ListName::DepartedStaff => self.departed_staff,
            ListName::Orphan => self.orphan,
            ListName::Duplicate => self.duplicate,
            ListName::Idle => self.idle,
        }
    }
}

/// Counts every list of the report.
pub async fn counts(db: &impl ConnectionTrait, lists: &Lists) -> Result<Counts, DbErr> {
    Ok(Counts {
        current: pages::count_agents(db, &lists.current()).await?,
        matched: pages::count_agents(db, &lists.matched()).await?,
        departed_staff: pages::count_agents(db, &lists.departed_staff()).await?,
        orphan: pages::count_agents(db, &lists.orphan()).await?,
        duplicate: pages::count_agents(db, &lists.duplicate()).await?,
        idle: pages::count_agents(db, &lists.idle()).await?,
        reclaimable: pages::count_agents(db, &lists.reclaimable()).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_with_their_currency_and_name_what_is_wrong() {
        assert_eq!(
            Money::parse("350000 VND").expect("valid"),
            Money {
                amount: 350000.0,
                currency: "VND".into()
            }
        );
        assert_eq!(Money::parse("vnd 350000").expect("valid").currency, "VND");
        assert_eq!(Money::parse("12.5USD").expect("valid").amount, 12.5);
        assert!(
            Money::parse("350000")
                .expect_err("no currency")
                .contains("currency")
        );
        assert!(
            Money::parse("350.000,00 VND")
                .expect_err("separators")
                .contains("not an amount")
        );
        assert!(
            Money::parse("0 VND")
                .expect_err("zero")
                .contains("more than zero")
        );
        assert!(
            Money::parse("350000 DONG")
                .expect_err("code")
                .contains("three letters")
        );
    }

    #[test]
    fn amounts_are_written_for_vietnamese_readers() {
        let price = Money::parse("350000 VND").expect("valid");
        assert_eq!(price.times(20).formatted(), "7.000.000 ₫");
        assert_eq!(price.formatted(), "350.000 ₫");
        assert_eq!(price.times(0).formatted(), "0 ₫");
        assert_eq!(
            Money::parse("1234.5 USD").expect("valid").formatted(),
            "1.234,50 US$"
        );
        assert_eq!(
            Money::parse("999 EUR").expect("valid").formatted(),
            "999,00 €"
        );
    }

    #[test]
    fn the_idle_window_starts_on_the_minute() {
        let now = DateTime::parse_from_rfc3339("2026-12-02T10:15:42Z")
            .expect("instant")
            .with_timezone(&Utc);
        let lists = Lists::new(30, now).expect("valid");
        assert_eq!(lists.idle_since.to_rfc3339(), "2026-11-02T10:15:00+00:00");
        assert!(Lists::new(0, now).is_err());
    }
}
