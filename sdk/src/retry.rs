//! When to retry a failed export, and after how long.
//!
//! Retried: network errors and the answers OTLP/HTTP calls retryable (429, 502, 503, 504),
//! after exponential backoff with jitter, or after the server's `Retry-After` (seconds or an
//! HTTP date). Never retried: other answers (a 400 will not get better by waiting).

#[allow(unused_imports)]
use alloc::{borrow::ToOwned, boxed::Box, format, string::String, vec, vec::Vec};

/// Backoff settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry, in milliseconds.
    pub initial_backoff_ms: f64,
    /// Longest computed delay, in milliseconds.
    pub max_backoff_ms: f64,
    /// Growth of the delay per attempt.
    pub multiplier: f64,
    /// Longest `Retry-After` honoured, in milliseconds: a server asking for more is given up on.
    pub max_retry_after_ms: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff_ms: 1000.0,
            max_backoff_ms: 5000.0,
            multiplier: 1.5,
            max_retry_after_ms: 120_000.0,
        }
    }
}

/// Whether an answer (0 for a network error or timeout) may succeed later.
pub fn is_retryable(status: u16) -> bool {
    matches!(status, 0 | 429 | 502 | 503 | 504)
}

impl RetryPolicy {
    /// The delay in milliseconds before retrying after `attempt` (1 for the first try) failed
    /// with `status`; `None` to give up. `jitter` is a random number in [0, 1).
    pub fn delay_ms(
        &self,
        attempt: u32,
        status: u16,
        retry_after: Option<&str>,
        now_ms: f64,
        jitter: f64,
    ) -> Option<f64> {
        self.delay_after_ms(attempt, status, retry_after.and_then(|h| parse_retry_after(h, now_ms)), jitter)
    }

    /// [`RetryPolicy::delay_ms`] with `Retry-After` already read as milliseconds from now (the
    /// wasm build lets JavaScript's `Date.parse` read HTTP dates rather than carry a parser).
    pub fn delay_after_ms(&self, attempt: u32, status: u16, retry_after_ms: Option<f64>, jitter: f64) -> Option<f64> {
        if !is_retryable(status) || attempt >= self.max_attempts {
            return None;
        }
        if let Some(wait) = retry_after_ms.filter(|w| !w.is_nan()) {
            let wait = wait.max(0.0);
            return (wait <= self.max_retry_after_ms).then_some(wait);
        }
        // multiplier^(attempt - 1) by repeated multiplication: `powi` is not in `core`.
        let growth = (1..attempt).fold(1.0, |g, _| g * self.multiplier);
        let base = (self.initial_backoff_ms * growth).min(self.max_backoff_ms);
        // ±20 % so that many clients failing together do not retry together.
        Some(base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
    }
}

/// `Retry-After` as milliseconds from `now_ms`: delay-seconds or an HTTP date (IMF-fixdate,
/// RFC 850 or asctime). A date in the past means "now".
pub fn parse_retry_after(header: &str, now_ms: f64) -> Option<f64> {
    let h = header.trim();
    if !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit()) {
        // Integer parsing only: a float parser would add kilobytes to the wasm module.
        return h.parse::<u64>().ok().map(|s| s as f64 * 1000.0);
    }
    parse_http_date(h).map(|t| (t - now_ms).max(0.0))
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// An HTTP date as Unix milliseconds.
pub fn parse_http_date(s: &str) -> Option<f64> {
    let tokens: Vec<&str> = s.split([' ', ',', '-']).filter(|t| !t.is_empty()).collect();
    let month = tokens.iter().find_map(|t| MONTHS.iter().position(|m| t.eq_ignore_ascii_case(m)))? as u32 + 1;
    let time = tokens.iter().find(|t| t.contains(':'))?;
    let hms: Vec<u32> = time.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let [hour, minute, second] = hms[..] else { return None };
    let numbers: Vec<&&str> =
        tokens.iter().filter(|t| !t.contains(':') && t.bytes().all(|b| b.is_ascii_digit())).collect();
    let [day, year] = numbers[..] else { return None };
    let day: u32 = day.parse().ok()?;
    let mut year: i64 = year.parse().ok()?;
    if year < 100 {
        // RFC 850's two-digit years: the century that is not more than 50 years ahead.
        year += if year < 70 { 2000 } else { 1900 };
    }
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days since the epoch for a civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + (hour * 3600 + minute * 60 + second) as i64) * 1000) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOV_6_1994: f64 = 784_111_777_000.0;

    #[test]
    fn all_three_http_date_formats_parse_to_the_same_instant() {
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(NOV_6_1994));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(NOV_6_1994));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(NOV_6_1994));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"), Some(1_835_438_400_000.0));
        assert_eq!(parse_http_date("soon"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date_sets_the_delay() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_ms(1, 429, Some("3"), 0.0, 0.5), Some(3000.0));
        assert_eq!(p.delay_ms(1, 503, Some("Sun, 06 Nov 1994 08:49:47 GMT"), NOV_6_1994, 0.5), Some(10_000.0));
        assert_eq!(p.delay_ms(1, 503, Some("Sun, 06 Nov 1994 08:49:00 GMT"), NOV_6_1994, 0.5), Some(0.0), "past");
        assert_eq!(p.delay_ms(1, 503, Some("3600"), 0.0, 0.5), None, "longer than we are willing to wait");
        assert_eq!(p.delay_ms(1, 503, Some("garbage"), 0.0, 0.5), Some(1000.0), "falls back to backoff");
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered_and_gives_up() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_ms(1, 0, None, 0.0, 0.5), Some(1000.0));
        assert_eq!(p.delay_ms(2, 502, None, 0.0, 0.5), Some(1500.0));
        assert_eq!(p.delay_ms(4, 504, None, 0.0, 0.5), Some(3375.0));
        assert_eq!(p.delay_ms(1, 503, None, 0.0, 0.0), Some(800.0));
        assert!((p.delay_ms(1, 503, None, 0.0, 1.0).unwrap() - 1200.0).abs() < 1e-9);
        assert_eq!(RetryPolicy { max_attempts: 10, ..p }.delay_ms(9, 503, None, 0.0, 0.5), Some(5000.0), "capped");
        assert_eq!(p.delay_ms(5, 503, None, 0.0, 0.5), None, "five attempts in all");
    }

    #[test]
    fn client_errors_and_other_answers_are_not_retried() {
        let p = RetryPolicy::default();
        for status in [400, 401, 403, 404, 413, 415, 500, 501] {
            assert_eq!(p.delay_ms(1, status, Some("1"), 0.0, 0.5), None, "{status}");
        }
    }
}
