//! When to wait and for how long between attempts: `Retry-After` parsing and the choice between CareSoft's
//! requested wait and our own backoff. The backoff sequence itself comes from `backon`.

use std::time::{Duration, SystemTime};

/// What to do after a retryable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Sleep this long, then try again.
    For(Duration),
    /// CareSoft asked for a longer pause than we are willing to hold a sync open for: stop now.
    GiveUp,
}

/// Waits `max(retry_after, backoff)`, unless `retry_after` exceeds `max_retry_after`.
/// Honouring the server's wait keeps us from hammering; never waiting less than our backoff keeps a
/// `Retry-After: 0` from turning into a tight loop.
pub(crate) fn choose_wait(
    backoff: Duration,
    retry_after: Option<Duration>,
    max_retry_after: Duration,
) -> Wait {
    match retry_after {
        Some(asked) if asked > max_retry_after => Wait::GiveUp,
        Some(asked) => Wait::For(asked.max(backoff)),
        None => Wait::For(backoff),
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date (a date in the past means "now").
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long digit strings saturate rather than fail: they still mean "a long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(60);

    #[test]
    fn the_longer_of_retry_after_and_backoff_is_waited() {
        let backoff = Duration::from_millis(500);
        assert_eq!(
            choose_wait(backoff, Some(Duration::from_secs(2)), MAX),
            Wait::For(Duration::from_secs(2))
        );
        assert_eq!(
            choose_wait(backoff, Some(Duration::ZERO), MAX),
            Wait::For(backoff)
        );
        assert_eq!(choose_wait(backoff, None, MAX), Wait::For(backoff));
        assert_eq!(choose_wait(backoff, Some(MAX), MAX), Wait::For(MAX));
    }

    #[test]
    fn a_retry_after_beyond_the_limit_gives_up_at_once() {
        let wait = choose_wait(
            Duration::from_millis(500),
            Some(Duration::from_secs(15 * 60)),
            MAX,
        );
        assert_eq!(wait, Wait::GiveUp);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(120))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(120));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
