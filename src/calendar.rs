//! The working-day calendar: weekends, US federal holidays (observed days computed per 5 U.S.C. 6103) and extra closures from config.
//!
//! Nothing here is a hard-coded list of dates: each holiday is a rule (a fixed date, or
//! the n-th / last weekday of a month), and fixed-date holidays that fall on a Saturday are
//! observed the Friday before, on a Sunday the Monday after (5 U.S.C. 6103(b); Executive
//! Order 11582). A Saturday New Year's Day is therefore observed on December 31 of the
//! year before (2022-01-01 → 2021-12-31).

use chrono::{Datelike, Days, NaiveDate, Weekday};
use std::collections::BTreeSet;

/// A holiday rule.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Month and day, moved off weekends.
    Fixed(u32, u32),
    /// The n-th (1-based) weekday of a month.
    Nth(u32, Weekday, u8),
    /// The last weekday of a month.
    Last(u32, Weekday),
}

/// The federal holidays of 5 U.S.C. 6103(a) (Inauguration Day, which applies only around
/// Washington, D.C., is left out), with the first year each applies.
const HOLIDAYS: &[(&str, Rule, i32)] = &[
    ("New Year's Day", Rule::Fixed(1, 1), i32::MIN),
    ("Birthday of Martin Luther King, Jr.", Rule::Nth(1, Weekday::Mon, 3), 1986),
    ("Washington's Birthday", Rule::Nth(2, Weekday::Mon, 3), i32::MIN),
    ("Memorial Day", Rule::Last(5, Weekday::Mon), i32::MIN),
    ("Juneteenth National Independence Day", Rule::Fixed(6, 19), 2021),
    ("Independence Day", Rule::Fixed(7, 4), i32::MIN),
    ("Labor Day", Rule::Nth(9, Weekday::Mon, 1), i32::MIN),
    ("Columbus Day", Rule::Nth(10, Weekday::Mon, 2), i32::MIN),
    ("Veterans Day", Rule::Fixed(11, 11), i32::MIN),
    ("Thanksgiving Day", Rule::Nth(11, Weekday::Thu, 4), i32::MIN),
    ("Christmas Day", Rule::Fixed(12, 25), i32::MIN),
];

/// One holiday as observed in a given year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    /// The day offices are closed.
    pub observed: NaiveDate,
    /// The statutory date (differs from `observed` when it falls on a weekend).
    pub actual: NaiveDate,
    pub name: &'static str,
}

/// The observed federal holidays whose *statutory* date is in `year`, in date order. The
/// observed day of New Year's Day may fall in the year before. Empty for years chrono
/// cannot represent.
pub fn federal_holidays(year: i32) -> Vec<Holiday> {
    let mut out = Vec::with_capacity(HOLIDAYS.len());
    for &(name, rule, since) in HOLIDAYS {
        if year < since {
            continue;
        }
        let (actual, observed) = match rule {
            Rule::Fixed(m, d) => {
                let Some(actual) = NaiveDate::from_ymd_opt(year, m, d) else { continue };
                let observed = match actual.weekday() {
                    Weekday::Sat => actual.pred_opt(),
                    Weekday::Sun => actual.succ_opt(),
                    _ => Some(actual),
                };
                let Some(observed) = observed else { continue };
                (actual, observed)
            }
            Rule::Nth(m, wd, n) => {
                let Some(d) = NaiveDate::from_weekday_of_month_opt(year, m, wd, n) else { continue };
                (d, d)
            }
            Rule::Last(m, wd) => {
                let Some(d) = NaiveDate::from_weekday_of_month_opt(year, m, wd, 5)
                    .or_else(|| NaiveDate::from_weekday_of_month_opt(year, m, wd, 4))
                else {
                    continue;
                };
                (d, d)
            }
        };
        out.push(Holiday { observed, actual, name });
    }
    out
}

/// Weekends, observed federal holidays and configured closures.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    closures: BTreeSet<NaiveDate>,
}

/// What `holiday_name` answers for a configured closure.
pub const CLOSURE_NAME: &str = "closure (config)";

impl Calendar {
    /// A calendar with extra closed days (config `[deadlines] closures`).
    pub fn new(closures: impl IntoIterator<Item = NaiveDate>) -> Calendar {
        Calendar { closures: closures.into_iter().collect() }
    }

    /// The federal holiday observed on `d` (its name, with " (observed)" when moved off a
    /// weekend), or [`CLOSURE_NAME`] for a configured closure; `None` on other days.
    pub fn holiday_name(&self, d: NaiveDate) -> Option<String> {
        // The holiday observed on d has its statutory date in d's year, or (New Year's
        // Day observed on December 31) in the next year.
        for year in [d.year(), d.year().saturating_add(1)] {
            if let Some(h) = federal_holidays(year).into_iter().find(|h| h.observed == d) {
                return Some(if h.observed == h.actual {
                    h.name.to_string()
                } else {
                    format!("{} (observed)", h.name)
                });
            }
        }
        self.closures.contains(&d).then(|| CLOSURE_NAME.to_string())
    }

    /// Whether `d` is a federal holiday (observed) or a configured closure.
    pub fn is_holiday(&self, d: NaiveDate) -> bool {
        self.closures.contains(&d)
            || [d.year(), d.year().saturating_add(1)]
                .into_iter()
                .any(|y| federal_holidays(y).iter().any(|h| h.observed == d))
    }

    /// Monday to Friday, not a holiday, not a closure.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(d)
    }

    /// The `n`-th working day after `d` (`d` itself is not counted; `n = 0` gives `d`).
    /// Saturates at the last date chrono can represent.
    pub fn add_working_days(&self, d: NaiveDate, n: u32) -> NaiveDate {
        let mut cur = d;
        let mut left = n;
        while left > 0 {
            match cur.succ_opt() {
                Some(next) => cur = next,
                None => return cur,
            }
            if self.is_working_day(cur) {
                left -= 1;
            }
        }
        cur
    }

    /// The last working day on or before `d` (`d` itself when it is one).
    pub fn working_day_on_or_before(&self, d: NaiveDate) -> NaiveDate {
        let mut cur = d;
        // Closures come from a finite list, so a working day is never far; the bound only
        // guards against a pathological config.
        for _ in 0..3700 {
            if self.is_working_day(cur) {
                return cur;
            }
            match cur.pred_opt() {
                Some(p) => cur = p,
                None => return cur,
            }
        }
        cur
    }

    /// The first working day on or after `d`.
    pub fn working_day_on_or_after(&self, d: NaiveDate) -> NaiveDate {
        let mut cur = d;
        for _ in 0..3700 {
            if self.is_working_day(cur) {
                return cur;
            }
            match cur.checked_add_days(Days::new(1)) {
                Some(n) => cur = n,
                None => return cur,
            }
        }
        cur
    }

    /// Working days in the half-open range `(from, to]` (0 when `to <= from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut cur = from;
        while cur < to {
            match cur.succ_opt() {
                Some(next) => cur = next,
                None => break,
            }
            if self.is_working_day(cur) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn observed(year: i32) -> Vec<(String, &'static str)> {
        federal_holidays(year).into_iter().map(|h| (h.observed.to_string(), h.name)).collect()
    }

    #[test]
    fn holidays_2026() {
        // 2026: Jan 1 is a Thursday; July 4 a Saturday (observed Friday July 3); Dec 25 a Friday.
        let days: Vec<String> = observed(2026).into_iter().map(|(d, _)| d).collect();
        assert_eq!(
            days,
            [
                "2026-01-01",
                "2026-01-19",
                "2026-02-16",
                "2026-05-25",
                "2026-06-19",
                "2026-07-03",
                "2026-09-07",
                "2026-10-12",
                "2026-11-11",
                "2026-11-26",
                "2026-12-25"
            ]
        );
    }

    #[test]
    fn holidays_2027_weekend_rules() {
        // 2027: June 19 Sat → Fri June 18; July 4 Sun → Mon July 5; Dec 25 Sat → Fri Dec 24.
        let h = observed(2027);
        assert!(h.contains(&("2027-06-18".into(), "Juneteenth National Independence Day")));
        assert!(h.contains(&("2027-07-05".into(), "Independence Day")));
        assert!(h.contains(&("2027-12-24".into(), "Christmas Day")));
        // 2028-01-01 is a Saturday: observed Friday 2027-12-31.
        assert_eq!(federal_holidays(2028)[0].observed, d("2027-12-31"));
    }

    #[test]
    fn new_year_2022_observed_on_2021_12_31() {
        let cal = Calendar::default();
        assert_eq!(cal.holiday_name(d("2021-12-31")).as_deref(), Some("New Year's Day (observed)"));
        assert!(!cal.is_working_day(d("2021-12-31")));
        // The Saturday itself is a weekend day, not the observed holiday.
        assert_eq!(cal.holiday_name(d("2022-01-01")), None);
        assert!(!cal.is_working_day(d("2022-01-01")));
        assert!(cal.is_working_day(d("2022-01-03")));
    }

    #[test]
    fn juneteenth_only_from_2021() {
        let cal = Calendar::default();
        // 2020-06-19 was a Friday and not yet a federal holiday.
        assert!(cal.is_working_day(d("2020-06-19")));
        // 2021-06-19 was a Saturday: observed Friday 2021-06-18.
        assert!(!cal.is_working_day(d("2021-06-18")));
    }

    #[test]
    fn last_monday_of_may_with_five_mondays() {
        // May 2021 has five Mondays (3, 10, 17, 24, 31).
        assert!(federal_holidays(2021).iter().any(|h| h.observed == d("2021-05-31") && h.name == "Memorial Day"));
        // May 2026 has four (4, 11, 18, 25).
        assert!(federal_holidays(2026).iter().any(|h| h.observed == d("2026-05-25")));
    }

    #[test]
    fn closures_and_working_days() {
        let cal = Calendar::new([d("2026-12-24")]);
        assert_eq!(cal.holiday_name(d("2026-12-24")).as_deref(), Some(CLOSURE_NAME));
        // Wed 2026-12-23 + 1 working day: Thu 24 closure, Fri 25 Christmas, weekend → Mon 28.
        assert_eq!(cal.add_working_days(d("2026-12-23"), 1), d("2026-12-28"));
        assert_eq!(cal.add_working_days(d("2026-12-23"), 0), d("2026-12-23"));
        assert_eq!(cal.working_day_on_or_before(d("2026-12-27")), d("2026-12-23"));
        assert_eq!(cal.working_day_on_or_after(d("2026-12-24")), d("2026-12-28"));
        assert_eq!(cal.working_days_between(d("2026-12-23"), d("2026-12-28")), 1);
    }

    #[test]
    fn from_config_takes_closures() {
        let mut cfg = crate::config::Deadlines::default();
        cfg.closures.push(d("2026-03-02"));
        assert!(!Calendar::from_config(&cfg).is_working_day(d("2026-03-02")));
        assert!(Calendar::default().is_working_day(d("2026-03-02")));
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let cal = Calendar::default();
        assert_eq!(cal.add_working_days(NaiveDate::MAX, 5), NaiveDate::MAX);
        let _ = cal.working_day_on_or_before(NaiveDate::MIN);
        let _ = cal.holiday_name(NaiveDate::MAX);
        let _ = federal_holidays(i32::MAX);
    }
}
