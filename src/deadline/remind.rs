//! Reminder planning, pure: which deadline reminders are due at an instant, and when the next one becomes due.
//!
//! A reminder is identified by [`ReminderKey`] = (entry, kind, due date, lead days). The
//! caller records each produced key as sent in the store (in the same transaction that
//! queues the mail) and passes that ledger back as `sent`; so a key is produced at most
//! once, across restarts too. Because the due date is part of the key, a deadline that
//! moves (extension, reliquidation, a new scheduled date) is reminded again for its new
//! date.
//!
//! Leads are the configured `remind-days` plus 0 (on the day). Lead `L` of a deadline due
//! on `D` fires at `remind-hour` local time (configured time zone) on `D - L`. At any
//! instant only the most recent fired lead of each deadline is produced: reminders missed
//! while the daemon was down collapse into one, never a flood. Done deadlines and
//! deadlines whose due date has passed (local date) produce none.

use super::{Deadline, DeadlineKind, EntryDeadline};
use crate::entry_number::EntryNumber;
use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The identity of one reminder: never produced twice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReminderKey {
    pub entry: EntryNumber,
    pub kind: DeadlineKind,
    pub due: NaiveDate,
    pub lead_days: u32,
}

impl ReminderKey {
    /// A stable string for the store's sent-ledger and the mail's `X-Entrywatch-Alert-Id`:
    /// `reminder/EEE12345673/psc/2026-12-03/7`.
    pub fn id(&self) -> String {
        format!("reminder/{}/{}/{}/{}", self.entry.compact(), self.kind, self.due, self.lead_days)
    }
}

/// A reminder to send now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub key: ReminderKey,
    pub deadline: Deadline,
    /// When this reminder became due (remind-hour local on due - lead).
    pub fire_at: DateTime<FixedOffset>,
    /// Calendar days from today (local) to the due date.
    pub days_left: i64,
    /// Produced on a later day than planned (the daemon was down, or the deadline appeared
    /// after its lead had passed).
    pub late: bool,
}

impl Reminder {
    /// The mail subject (interface.md "Mail"):
    /// `[entrywatch] REMINDER Protest window closes in 7 days: EEE-1234567-3 (due 2027-06-09)`.
    pub fn subject(&self) -> String {
        let when = match self.days_left {
            0 => "today".to_string(),
            1 => "tomorrow".to_string(),
            n => format!("in {n} days"),
        };
        let est = if self.deadline.estimated { ", estimated" } else { "" };
        format!(
            "[entrywatch] REMINDER {} {when}: {} (due {}{est})",
            self.deadline.kind.title(),
            self.key.entry,
            self.deadline.due
        )
    }

    /// A plain-text body: what is due, when, by which rule, and what to do.
    pub fn text(&self) -> String {
        let d = &self.deadline;
        let mut t = format!(
            "Entry {}: {} on {} ({} day(s) left).\nRule: {}\n",
            self.key.entry,
            d.kind.title(),
            d.due,
            self.days_left,
            d.rule
        );
        if d.legal != d.due {
            t.push_str(&format!(
                "The rule gives {}; entrywatch shows the last working day on or before it.\n",
                d.legal
            ));
        }
        if d.estimated {
            t.push_str("This date is an estimate: a fact it depends on is not known yet.\n");
        }
        if self.late {
            t.push_str("This reminder is late: it was due while entrywatch was not running.\n");
        }
        t.push_str(match d.kind {
            DeadlineKind::SummaryFiling => "Make sure the broker files the entry summary.\n",
            DeadlineKind::StatementPayment => "Make sure the statement is paid (ACH authorization).\n",
            DeadlineKind::Psc => "File any post summary correction before this date.\n",
            DeadlineKind::FtaClaim => "File any post-importation preference claim before this date.\n",
            DeadlineKind::Reconciliation => "File the reconciliation entry before this date.\n",
            DeadlineKind::Liquidation | DeadlineKind::DeemedLiquidation => {
                "Review the entry before it liquidates; corrections after liquidation need a protest.\n"
            }
            DeadlineKind::ExtensionRequest => {
                "Request an extension of liquidation in writing before this date, if needed.\n"
            }
            DeadlineKind::Protest | DeadlineKind::ReliquidationProtest => "File any protest before this date.\n",
            DeadlineKind::TibExport => {
                "Export or destroy the goods under CBP supervision, or request an extension of the TIB period, before this date.\n"
            }
            DeadlineKind::CourtAction => {
                "Any action at the Court of International Trade must be commenced by this date.\n"
            }
            DeadlineKind::RefundClaim => {
                "Claim the refund (e.g. `entrywatch recovery export --program cape`) before this date; after it the remedy is a protest.\n"
            }
        });
        t
    }
}

/// The reminder settings (config `[deadlines]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPlan {
    /// Leads in days, largest first, always including 0.
    leads: Vec<u32>,
    remind_hour: u32,
    tz: Tz,
}

impl ReminderPlan {
    /// `remind_hour` above 23 is taken as 23.
    pub fn new(remind_days: &[u32], remind_hour: u32, tz: Tz) -> ReminderPlan {
        let mut leads: Vec<u32> = remind_days.iter().copied().chain([0]).collect();
        leads.sort_unstable_by(|a, b| b.cmp(a));
        leads.dedup();
        ReminderPlan { leads, remind_hour: remind_hour.min(23), tz }
    }

    /// From config `[deadlines]` (an invalid time zone falls back to America/New_York, as
    /// `Config::timezone` does; `check-config` reports it).
    pub fn from_config(d: &crate::config::Deadlines) -> ReminderPlan {
        let tz = d.timezone.parse().unwrap_or(chrono_tz::America::New_York);
        ReminderPlan::new(&d.remind_days, d.remind_hour, tz)
    }

    /// The leads, largest first, ending with 0.
    pub fn leads(&self) -> &[u32] {
        &self.leads
    }

    /// The instant lead `lead` of a deadline due on `due` fires: `remind_hour`:00 local on
    /// `due - lead` (in a DST gap, the first valid instant after it).
    pub fn fire_at(&self, due: NaiveDate, lead: u32) -> Option<DateTime<FixedOffset>> {
        let day = due.checked_sub_days(Days::new(u64::from(lead)))?;
        let time = NaiveTime::from_hms_opt(self.remind_hour, 0, 0)?;
        let local = day.and_time(time);
        // A spring-forward gap lasts at most a few hours: step forward until valid.
        let mut probe = local;
        for _ in 0..6 {
            if let Some(t) = self.tz.from_local_datetime(&probe).earliest() {
                return Some(t.fixed_offset());
            }
            probe = probe.checked_add_signed(chrono::Duration::hours(1))?;
        }
        None
    }

    fn today(&self, now: DateTime<FixedOffset>) -> NaiveDate {
        now.with_timezone(&self.tz).date_naive()
    }

    /// The reminders due at `now` that `sent` has not recorded, ordered by fire time, entry, kind.
    pub fn due(
        &self,
        items: &[EntryDeadline],
        now: DateTime<FixedOffset>,
        sent: &impl Fn(&ReminderKey) -> bool,
    ) -> Vec<Reminder> {
        let today = self.today(now);
        let mut out = Vec::new();
        for item in items {
            let d = &item.deadline;
            if d.done || d.due < today {
                continue;
            }
            // Leads are largest first, so the last fired one is the most recent.
            let Some((lead, fire_at)) = self
                .leads
                .iter()
                .rev()
                .filter_map(|&l| self.fire_at(d.due, l).map(|t| (l, t)))
                .find(|(_, t)| *t <= now)
            else {
                continue;
            };
            let key = ReminderKey { entry: item.entry.clone(), kind: d.kind, due: d.due, lead_days: lead };
            if sent(&key) {
                continue;
            }
            let fire_day = fire_at.with_timezone(&self.tz).date_naive();
            out.push(Reminder {
                key,
                deadline: d.clone(),
                fire_at,
                days_left: (d.due - today).num_days(),
                late: today > fire_day,
            });
        }
        out.sort_by(|a, b| (a.fire_at, &a.key).cmp(&(b.fire_at, &b.key)));
        out
    }

    /// The next instant after `now` at which a reminder not yet in `sent` becomes due; the
    /// scheduler sleeps until then (or until the facts change). `None` when nothing is left.
    pub fn next_wake(
        &self,
        items: &[EntryDeadline],
        now: DateTime<FixedOffset>,
        sent: &impl Fn(&ReminderKey) -> bool,
    ) -> Option<DateTime<FixedOffset>> {
        let mut best: Option<DateTime<FixedOffset>> = None;
        for item in items.iter().filter(|i| !i.deadline.done) {
            let d = &item.deadline;
            for &lead in &self.leads {
                let Some(t) = self.fire_at(d.due, lead) else { continue };
                if t <= now || best.is_some_and(|b| t >= b) {
                    continue;
                }
                let key = ReminderKey { entry: item.entry.clone(), kind: d.kind, due: d.due, lead_days: lead };
                if !sent(&key) {
                    best = Some(t);
                }
            }
        }
        best
    }
}

/// The reminders due at `now` (see the module docs): `ReminderPlan::new(..).due(..)`.
pub fn due_reminders(
    items: &[EntryDeadline],
    remind_days: &[u32],
    remind_hour: u32,
    tz: Tz,
    now: DateTime<FixedOffset>,
    sent: &impl Fn(&ReminderKey) -> bool,
) -> Vec<Reminder> {
    ReminderPlan::new(remind_days, remind_hour, tz).due(items, now, sent)
}

/// The next instant a reminder becomes due: `ReminderPlan::new(..).next_wake(..)`.
pub fn next_wake(
    items: &[EntryDeadline],
    remind_days: &[u32],
    remind_hour: u32,
    tz: Tz,
    now: DateTime<FixedOffset>,
    sent: &impl Fn(&ReminderKey) -> bool,
) -> Option<DateTime<FixedOffset>> {
    ReminderPlan::new(remind_days, remind_hour, tz).next_wake(items, now, sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leads_sorted_with_zero_and_fire_time_in_zone() {
        let p = ReminderPlan::new(&[7, 30, 7, 1], 8, chrono_tz::America::New_York);
        assert_eq!(p.leads(), &[30, 7, 1, 0]);
        let due: NaiveDate = "2026-03-10".parse().unwrap();
        // 2026-03-03 is before the DST change (March 8): 08:00 EST = 13:00 UTC.
        assert_eq!(p.fire_at(due, 7).unwrap().to_rfc3339(), "2026-03-03T08:00:00-05:00");
        // 2026-03-10 is after it: 08:00 EDT.
        assert_eq!(p.fire_at(due, 0).unwrap().to_rfc3339(), "2026-03-10T08:00:00-04:00");
    }

    #[test]
    fn subject_and_text() {
        let entry: EntryNumber = "EEE-1234567-3".parse().unwrap();
        let due: NaiveDate = "2027-06-09".parse().unwrap();
        let r = Reminder {
            key: ReminderKey { entry, kind: DeadlineKind::Protest, due, lead_days: 7 },
            deadline: Deadline {
                kind: DeadlineKind::Protest,
                due,
                legal: due,
                estimated: false,
                rule: "liquidation date + 180 days".into(),
                done: false,
            },
            fire_at: DateTime::parse_from_rfc3339("2027-06-02T08:00:00-04:00").unwrap(),
            days_left: 7,
            late: true,
        };
        assert_eq!(
            r.subject(),
            "[entrywatch] REMINDER Protest window closes in 7 days: EEE-1234567-3 (due 2027-06-09)"
        );
        assert!(r.text().contains("Rule: liquidation date + 180 days"));
        assert!(r.text().contains("late"));
        assert_eq!(r.key.id(), "reminder/EEE12345673/protest/2027-06-09/7");
    }

    #[test]
    fn dst_gap_moves_to_first_valid_instant() {
        // 2026-03-08 02:00 does not exist in New York (clocks jump to 03:00).
        let p = ReminderPlan::new(&[], 2, chrono_tz::America::New_York);
        let t = p.fire_at("2026-03-08".parse().unwrap(), 0).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-08T03:00:00-04:00");
    }
}
