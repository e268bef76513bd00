//! Time is injected: the clock is the system's, or fixed by `ENTRYWATCH_NOW` (RFC 3339) for tests and replays.

use chrono::{DateTime, FixedOffset, MappedLocalTime, NaiveDateTime, Offset, TimeZone, Utc};

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

/// A wall time in `tz` (as CBP and brokers send times: local, no offset) as an instant that
/// always carries its offset. In the autumn overlap (an hour that happens twice) it is the
/// earlier instant (chrono's `MappedLocalTime::Ambiguous`, first value); in the spring gap (a
/// wall time that did not exist, chrono's `MappedLocalTime::None`) the wall time is read with
/// the offset in force before the change, i.e. moved forward by the gap: 02:30 on the
/// spring-forward day in New York is 03:30 -04:00.
pub fn local_instant(tz: chrono_tz::Tz, at: NaiveDateTime) -> DateTime<FixedOffset> {
    match tz.from_local_datetime(&at) {
        MappedLocalTime::Single(t) | MappedLocalTime::Ambiguous(t, _) => t.fixed_offset(),
        MappedLocalTime::None => {
            let before = tz.offset_from_utc_datetime(&(at - chrono::Duration::days(1))).fix();
            let utc = at - chrono::Duration::seconds(i64::from(before.local_minus_utc()));
            tz.from_utc_datetime(&utc).fixed_offset()
        }
    }
}

#[cfg(test)]
mod dst_tests {
    use super::local_instant;
    use chrono::NaiveDateTime;

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }

    fn at(tz: chrono_tz::Tz, s: &str) -> String {
        local_instant(tz, naive(s)).to_rfc3339()
    }

    #[test]
    fn the_spring_forward_hour_moves_forward_by_the_gap_and_keeps_an_offset() {
        let ny = chrono_tz::America::New_York;
        // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT; 02:00..02:59 never happened.
        assert_eq!(at(ny, "2026-03-08T01:59"), "2026-03-08T01:59:00-05:00");
        assert_eq!(at(ny, "2026-03-08T02:00"), "2026-03-08T03:00:00-04:00");
        assert_eq!(at(ny, "2026-03-08T02:30"), "2026-03-08T03:30:00-04:00");
        assert_eq!(at(ny, "2026-03-08T03:00"), "2026-03-08T03:00:00-04:00");
        // Half-hour gap (Lord Howe Island, 2026-10-04 02:00 -> 02:30).
        let lh = chrono_tz::Australia::Lord_Howe;
        assert_eq!(at(lh, "2026-10-04T02:15"), "2026-10-04T02:45:00+11:00");
    }

    #[test]
    fn the_fall_back_hour_is_its_first_occurrence() {
        let ny = chrono_tz::America::New_York;
        // 2026-11-01: 01:00..01:59 happens twice (EDT, then EST); the first is taken.
        assert_eq!(at(ny, "2026-11-01T00:59"), "2026-11-01T00:59:00-04:00");
        assert_eq!(at(ny, "2026-11-01T01:30"), "2026-11-01T01:30:00-04:00");
        assert_eq!(at(ny, "2026-11-01T02:00"), "2026-11-01T02:00:00-05:00");
    }
}
