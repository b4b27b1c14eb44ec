//! Reconcile: link every current agent to an HR employee by email key, then phone key, with manual
//! overrides winning, per DESIGN.md "Matching rules".
//!
//! [`recompute`] is set-based: it loads keys once, matches in hash maps, and writes only the links that
//! changed (with a history row each), so it runs inside the same transaction as the sync or import that
//! triggered it.

pub mod keys;
pub mod matching;
pub mod overrides;
pub mod suggestions;

pub use matching::{LinkChange, RecomputeCounts, Recomputed, recompute};
