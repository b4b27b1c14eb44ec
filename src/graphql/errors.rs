//! API errors: every one carries `extensions.code` (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, NOT_FOUND,
//! INTERNAL). Internal and database error text is logged here and never sent to the client.

use async_graphql::ErrorExtensions;

/// An error a resolver returns; its message is safe to show a client.
///
/// It deliberately does not implement `Display`: async-graphql converts any `Display` type into an error
/// without extensions, and every error here must carry its code, so the only way out is `From` below.
#[derive(Debug, Clone)]
pub enum ApiError {
    Unauthenticated,
    Forbidden,
    BadUserInput(String),
    NotFound(String),
    Internal,
}

impl ApiError {
    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "UNAUTHENTICATED",
            ApiError::Forbidden => "FORBIDDEN",
            ApiError::BadUserInput(_) => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Internal => "INTERNAL",
        }
    }

    /// The message sent to the client.
    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthenticated => {
                "authentication required: send Authorization: Bearer <token>".into()
            }
            ApiError::Forbidden => "this operation needs an admin token".into(),
            ApiError::BadUserInput(message) | ApiError::NotFound(message) => message.clone(),
            ApiError::Internal => "internal error (logged on the server)".into(),
        }
    }

    /// A bad argument.
    pub fn bad_input(message: impl Into<String>) -> Self {
        ApiError::BadUserInput(message.into())
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let code = err.code();
        async_graphql::Error::new(err.message()).extend_with(|_, e| e.set("code", code))
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        self.clone().into()
    }
}

/// Turns any failure whose text must not reach a client (database, I/O) into a logged INTERNAL error.
pub trait OrInternal<T> {
    /// Logs the error with its context and returns INTERNAL.
    fn or_internal(self) -> async_graphql::Result<T>;
}

impl<T, E: std::fmt::Display> OrInternal<T> for Result<T, E> {
    fn or_internal(self) -> async_graphql::Result<T> {
        self.map_err(|err| {
            tracing::error!(error = %err, "request failed on an internal error");
            ApiError::Internal.into()
        })
    }
}
