//! Time is injected: the clock is the system's, or fixed by `ENTRYWATCH_NOW` (RFC 3339) for tests and replays.

use chrono::{DateTime, FixedOffset, Utc};

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    System,
    /// A fixed instant: every call to `now` returns it.
    Fixed(DateTime<FixedOffset>),
}

impl Clock {
    /// `ENTRYWATCH_NOW` when set (an error when it is not RFC 3339), else the system clock.
    pub fn from_env() -> Result<Clock, String> {
        match std::env::var("ENTRYWATCH_NOW") {
            Ok(v) if !v.trim().is_empty() => DateTime::parse_from_rfc3339(v.trim())
                .map(Clock::Fixed)
                .map_err(|e| format!("ENTRYWATCH_NOW={v:?} is not RFC 3339 (e.g. 2026-03-01T09:00:00-05:00): {e}")),
            _ => Ok(Clock::System),
        }
    }

    pub fn now(&self) -> DateTime<FixedOffset> {
        match self {
            Clock::System => Utc::now().fixed_offset(),
            Clock::Fixed(t) => *t,
        }
    }
}
