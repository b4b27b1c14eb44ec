//! Reconcile: link every current agent to an HR employee by email key, then phone key, with manual
//! overrides winning, per DESIGN.md "Matching rules".
//!
//! [`recompute`] is set-based: it loads keys once, matches in hash maps, and writes only the links that
//! changed (with a history row each), so it runs inside the same transaction as the sync or import that
//! triggered it.

pub mod keys;
pub mod matching;
pub mod overrides;

pub use matching::{RecomputeCounts, recompute};

/// The ids of employees holding a seat: MATCHED to a current agent. "Staff without a seat" (the GraphQL
/// list, the export, the metric) are the ACTIVE employees not in this set. `NOT IN` over this uncorrelated
/// subquery is evaluated once (a hashed anti-join); a correlated `NOT EXISTS` probed the links per employee,
/// which took seconds on SQLite with 100,000 employees.
pub const SEATED_EMPLOYEE_IDS: &str = "SELECT l.employee_id FROM agent_links l JOIN agents a ON a.id = l.agent_id \
     WHERE l.status = 'MATCHED' AND a.removed_at IS NULL AND l.employee_id IS NOT NULL";
