//! Roles and bearer tokens: admin tokens may mutate, read tokens may query. With no token configured the
//! API is open (every caller is admin), which `serve` only allows on a loopback address.

use async_graphql::{Context, Guard};

use super::errors::ApiError;
use crate::config::{Settings, token_matches};

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Read,
    Admin,
}

/// The configured tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    admin: Vec<secrecy::SecretString>,
    read: Vec<secrecy::SecretString>,
}

impl Tokens {
    /// Tokens from the settings.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            admin: settings.admin_tokens.clone(),
            read: settings.read_tokens.clone(),
        }
    }

    /// No token configured: the open mode.
    pub fn is_open(&self) -> bool {
        self.admin.is_empty() && self.read.is_empty()
    }

    /// The role of an `Authorization` header value (or a bare token from a WebSocket payload).
    pub fn role_for(&self, authorization: Option<&str>) -> Result<Role, ApiError> {
        if self.is_open() {
            return Ok(Role::Admin);
        }
        let presented = authorization.map(bearer_token);
        match presented {
            None | Some("") => Err(ApiError::Unauthenticated),
            Some(token) if token_matches(&self.admin, token) => Ok(Role::Admin),
            Some(token) if token_matches(&self.read, token) => Ok(Role::Read),
            Some(_) => Err(ApiError::Unauthenticated),
        }
    }
}

/// The token of an `Authorization` value: after a `Bearer` scheme in any case (RFC 9110 makes schemes
/// case-insensitive), or the whole value when it has no scheme.
fn bearer_token(value: &str) -> &str {
    let value = value.trim();
    match value.split_once(char::is_whitespace) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => value,
    }
}

/// Lets only admins through.
#[derive(Debug, Clone, Copy)]
pub struct AdminOnly;

impl Guard for AdminOnly {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        match ctx.data_opt::<Role>() {
            Some(Role::Admin) => Ok(()),
            Some(Role::Read) => Err(ApiError::Forbidden.into()),
            None => Err(ApiError::Unauthenticated.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_read_in_any_case() {
        for (value, token) in [
            ("Bearer s3cr3t", "s3cr3t"),
            ("bearer s3cr3t", "s3cr3t"),
            ("BEARER  s3cr3t ", "s3cr3t"),
            ("s3cr3t", "s3cr3t"),
            ("Basic s3cr3t", "Basic s3cr3t"),
            ("", ""),
        ] {
            assert_eq!(bearer_token(value), token, "{value:?}");
        }
    }
}
