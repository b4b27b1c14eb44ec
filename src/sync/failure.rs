//! Why a run did not apply, told three ways: a stable code clients may branch on, a sentence any reader
//! of the API may see (no host, address or answer excerpt), and the whole cause for administrators and
//! the log. The stored texts name no switch: each surface adds the advice in its own words
//! (`--allow-mass-removal` on the command line, `allowMassRemoval: true` in GraphQL).

use std::sync::Arc;

use sea_orm::DbErr;

use super::SourceError;
use crate::caresoft::CareSoftError;
use crate::config::MaxRemoval;
use crate::domain::{RunErrorCode, SyncOutcome, SyncSource};
use crate::hr::{HrSourceError, RowError};
pub use crate::store::runs::{INTERRUPTED, RunError};

/// Why a run did not apply. `Display` is the whole cause (the detail).
#[derive(Debug, thiserror::Error)]
pub enum SyncFailure {
    #[error("{0}")]
    NotConfigured(Arc<SourceError>),
    #[error("CareSoft fetch failed: {0}")]
    Fetch(#[from] CareSoftError),
    #[error(
        "refused: would remove {removing} of {current} mirrored agents (limit {limit}); nothing was changed"
    )]
    MassRemoval {
        removing: usize,
        current: usize,
        limit: MaxRemoval,
    },
    #[error("HR source: {0}")]
    HrSource(#[from] HrSourceError),
    #[error("{}", bad_rows(.0))]
    HrRows(Vec<RowError>),
    #[error(
        "refused: the HR source lacks {removing} of the {current} employees in HR (limit {limit}), who would be \
         marked removed; nothing was changed"
    )]
    HrMassRemoval {
        removing: usize,
        current: usize,
        limit: MaxRemoval,
    },
    // The database text is logged, not stored: its statements and values are nobody's business.
    #[error("database error (details in the server log)")]
    Database(#[from] DbErr),
}

impl SyncFailure {
    /// The outcome recorded for this failure: a guard refuses, everything else fails.
    pub fn outcome(&self) -> SyncOutcome {
        match self {
            SyncFailure::MassRemoval { .. } | SyncFailure::HrMassRemoval { .. } => {
                SyncOutcome::Refused
            }
            _ => SyncOutcome::Failed,
        }
    }

    /// The stable code of this failure.
    pub fn code(&self) -> RunErrorCode {
        match self {
            SyncFailure::NotConfigured(source) => match source.as_ref() {
                SourceError::Config(_) => RunErrorCode::NotConfigured,
                SourceError::Client(err) => caresoft_code(err),
            },
            SyncFailure::Fetch(err) => caresoft_code(err),
            SyncFailure::MassRemoval { .. } | SyncFailure::HrMassRemoval { .. } => {
                RunErrorCode::MassRemoval
            }
            SyncFailure::HrSource(_) => RunErrorCode::HrQueryFailed,
            SyncFailure::HrRows(_) => RunErrorCode::HrBadRows,
            SyncFailure::Database(_) => RunErrorCode::Database,
        }
    }

    /// A sentence any reader of the API may see. Counts, limits, column names and the settings to check
    /// are safe; what a server or a database answered, and where it lives, is not.
    pub fn safe_message(&self) -> String {
        match self {
            SyncFailure::MassRemoval { .. }
            | SyncFailure::HrMassRemoval { .. }
            | SyncFailure::Database(_) => self.to_string(),
            SyncFailure::HrSource(
                err @ (HrSourceError::Timeout(_)
                | HrSourceError::MissingColumn { .. }
                | HrSourceError::DuplicateColumn(_)
                | HrSourceError::UnreadableColumn { .. }),
            ) => format!("HR source: {err}"),
            SyncFailure::HrSource(_) => {
                "the HR source could not be read (HR_DATABASE_URL, HR_QUERY or \
                 HR_FILE); nothing was changed"
                    .to_string()
            }
            SyncFailure::HrRows(errors) => format!(
                "{} invalid rows from the HR source; nothing was changed",
                errors.len()
            ),
            SyncFailure::NotConfigured(_) | SyncFailure::Fetch(_) => {
                code_sentence(self.code()).to_string()
            }
        }
    }

    /// The three texts of this failure, to record.
    pub fn run_error(&self) -> RunError {
        RunError {
            code: self.code(),
            message: self.safe_message(),
            detail: self.to_string(),
        }
    }
}

fn caresoft_code(err: &CareSoftError) -> RunErrorCode {
    match err {
        CareSoftError::Unauthorized { .. } => RunErrorCode::CaresoftUnauthorized,
        CareSoftError::RateLimited { .. } => RunErrorCode::CaresoftRateLimited,
        CareSoftError::Server { .. }
        | CareSoftError::Timeout { .. }
        | CareSoftError::Connect { .. } => RunErrorCode::CaresoftUnreachable,
        CareSoftError::InvalidConfig(_) => RunErrorCode::NotConfigured,
        CareSoftError::Http { .. }
        | CareSoftError::Api { .. }
        | CareSoftError::Decode { .. }
        | CareSoftError::BodyTooLarge { .. }
        | CareSoftError::DuplicateAgentId { .. }
        | CareSoftError::MissingAgentId { .. }
        | CareSoftError::DuplicateGroupId { .. }
        | CareSoftError::MissingGroupId { .. }
        | CareSoftError::IncompletePaging { .. } => RunErrorCode::CaresoftBadAnswer,
    }
}

/// The sentence readers see for a code whose detail is not theirs to see.
fn code_sentence(code: RunErrorCode) -> &'static str {
    match code {
        RunErrorCode::CaresoftUnauthorized => {
            "CareSoft refused the API token (CARESOFT_API_TOKEN) or the domain (CARESOFT_DOMAIN); nothing \
             was changed"
        }
        RunErrorCode::CaresoftUnreachable => {
            "CareSoft could not be reached or kept failing; nothing was changed, and the next run tries again"
        }
        RunErrorCode::CaresoftRateLimited => {
            "CareSoft's rate limit was reached; nothing was changed, and the next run tries again"
        }
        RunErrorCode::CaresoftBadAnswer => {
            "CareSoft's answer could not be mirrored as it was; nothing was changed"
        }
        RunErrorCode::NotConfigured => "the source of this run is not configured on this server",
        RunErrorCode::Interrupted => INTERRUPTED,
        RunErrorCode::MassRemoval
        | RunErrorCode::HrQueryFailed
        | RunErrorCode::HrBadRows
        | RunErrorCode::Database => "the run did not apply; nothing was changed",
    }
}

/// The message of a pull with bad rows: how many, and the first of them, as the CSV import lists them.
fn bad_rows(errors: &[RowError]) -> String {
    const SHOWN: usize = 10;
    let mut message = format!(
        "{} invalid rows from the HR source; nothing was changed: ",
        errors.len()
    );
    let shown: Vec<String> = errors.iter().take(SHOWN).map(ToString::to_string).collect();
    message.push_str(&shown.join("; "));
    if errors.len() > SHOWN {
        message.push_str(&format!("; and {} more", errors.len() - SHOWN));
    }
    message
}

/// Where a message is shown, for the advice that names that surface's switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Cli,
    Graphql,
}

/// What to do about a failure with `code`, in the words of `surface`, when there is a switch for it.
pub fn advice(code: RunErrorCode, source: SyncSource, surface: Surface) -> Option<&'static str> {
    if code != RunErrorCode::MassRemoval {
        return None;
    }
    Some(match (source, surface) {
        (SyncSource::Caresoft, Surface::Cli) => {
            "If CareSoft's list is right, rerun with --allow-mass-removal"
        }
        (SyncSource::Caresoft, Surface::Graphql) => {
            "If CareSoft's list is right, run syncNow(allowMassRemoval: true)"
        }
        (SyncSource::Hr, Surface::Cli) => {
            "If the source is complete, rerun with --allow-mass-removal"
        }
        (SyncSource::Hr, Surface::Graphql) => {
            "If the source is complete, run syncHrNow(allowMassRemoval: true)"
        }
    })
}

/// `message` followed by the advice for `code` on `surface`, if any.
pub fn with_advice(
    message: &str,
    code: Option<RunErrorCode>,
    source: SyncSource,
    surface: Surface,
) -> String {
    match code.and_then(|code| advice(code, source, surface)) {
        Some(advice) => format!("{message}. {advice}"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caresoft_failures_tell_readers_no_host_and_no_excerpt() {
        let failure = SyncFailure::Fetch(CareSoftError::Connect {
            detail: "error sending request for url (http://10.1.2.3:8443/acme/api/v1/agents)"
                .into(),
            attempts: 3,
        });
        let error = failure.run_error();
        assert_eq!(error.code, RunErrorCode::CaresoftUnreachable);
        assert!(error.detail.contains("10.1.2.3"), "{}", error.detail);
        assert!(!error.message.contains("10.1.2.3"), "{}", error.message);

        let server = SyncFailure::Fetch(CareSoftError::Server {
            status: 502,
            excerpt: "<html>nginx at gw.internal</html>".into(),
            attempts: 3,
        });
        assert_eq!(server.code(), RunErrorCode::CaresoftUnreachable);
        assert!(!server.safe_message().contains("gw.internal"));
        let unauthorized = SyncFailure::Fetch(CareSoftError::Unauthorized { status: 401 });
        assert_eq!(unauthorized.code(), RunErrorCode::CaresoftUnauthorized);
    }

    #[test]
    fn the_guard_advice_names_the_switch_of_each_surface() {
        let refused = SyncFailure::MassRemoval {
            removing: 9,
            current: 10,
            limit: MaxRemoval::default(),
        };
        let message = refused.safe_message();
        assert!(!message.contains("allow"), "{message}");
        let cli = with_advice(
            &message,
            Some(refused.code()),
            SyncSource::Caresoft,
            Surface::Cli,
        );
        let api = with_advice(
            &message,
            Some(refused.code()),
            SyncSource::Caresoft,
            Surface::Graphql,
        );
        assert!(cli.ends_with("rerun with --allow-mass-removal"), "{cli}");
        assert!(api.ends_with("syncNow(allowMassRemoval: true)"), "{api}");
        assert!(!api.contains("--"), "{api}");
        let hr = with_advice(
            &message,
            Some(RunErrorCode::MassRemoval),
            SyncSource::Hr,
            Surface::Graphql,
        );
        assert!(hr.ends_with("syncHrNow(allowMassRemoval: true)"), "{hr}");
    }
}
