//! Post-entry deadlines: the kinds, the computed deadline value, and re-exports of the pure rules, reminder planning and ICS feed.
//!
//! Everything here is a pure function of its inputs (facts about one entry, a
//! [`Calendar`](crate::calendar::Calendar), an injected "now"): the store decides what the
//! facts are and records which reminders were sent; the mailer delivers them.
//!
//! - [`rules::compute`]: facts → deadlines, each rule with its source (docs/deadlines.md).
//! - [`remind::due_reminders`], [`remind::next_wake`]: which reminders are due now, and when
//!   the scheduler should wake next.
//! - [`ics::to_ics`]: an RFC 5545 calendar feed.
//! - [`listing`]: the `deadlines --json` rows, soonest first.

pub mod facts;
pub mod ics;
pub mod remind;
pub mod rules;
pub mod scheduler;

pub use ics::to_ics;
pub use remind::{due_reminders, next_wake, Reminder, ReminderKey, ReminderPlan};
pub use rules::{compute, DeadlineFacts};

use crate::entry_number::EntryNumber;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of deadline, named as in interface.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadlineKind {
    SummaryFiling,
    StatementPayment,
    Psc,
    TibExport,
    FtaClaim,
    Reconciliation,
    Liquidation,
    ExtensionRequest,
    DeemedLiquidation,
    Protest,
    ReliquidationProtest,
    CourtAction,
    /// A refund program's claim window (grammars/remedies/, e.g. CAPE: liquidation + 80 days).
    RefundClaim,
}

impl DeadlineKind {
    pub const ALL: [DeadlineKind; 13] = [
        DeadlineKind::SummaryFiling,
        DeadlineKind::StatementPayment,
        DeadlineKind::Psc,
        DeadlineKind::TibExport,
        DeadlineKind::FtaClaim,
        DeadlineKind::Reconciliation,
        DeadlineKind::Liquidation,
        DeadlineKind::ExtensionRequest,
        DeadlineKind::DeemedLiquidation,
        DeadlineKind::Protest,
        DeadlineKind::ReliquidationProtest,
        DeadlineKind::CourtAction,
        DeadlineKind::RefundClaim,
    ];

    /// The interface.md name (`summary-filing`, `psc`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::SummaryFiling => "summary-filing",
            DeadlineKind::StatementPayment => "statement-payment",
            DeadlineKind::Psc => "psc",
            DeadlineKind::TibExport => "tib-export",
            DeadlineKind::FtaClaim => "fta-claim",
            DeadlineKind::Reconciliation => "reconciliation",
            DeadlineKind::Liquidation => "liquidation",
            DeadlineKind::ExtensionRequest => "extension-request",
            DeadlineKind::DeemedLiquidation => "deemed-liquidation",
            DeadlineKind::Protest => "protest",
            DeadlineKind::ReliquidationProtest => "reliquidation-protest",
            DeadlineKind::CourtAction => "court-action",
            DeadlineKind::RefundClaim => "refund-claim",
        }
    }

    /// A short phrase for mail subjects and calendar entries.
    pub fn title(self) -> &'static str {
        match self {
            DeadlineKind::SummaryFiling => "Entry summary filing due",
            DeadlineKind::StatementPayment => "Statement payment due",
            DeadlineKind::Psc => "Post summary correction window closes",
            DeadlineKind::TibExport => "TIB goods must be exported or destroyed",
            DeadlineKind::FtaClaim => "Post-importation FTA claim window closes",
            DeadlineKind::Reconciliation => "Reconciliation entry due",
            DeadlineKind::Liquidation => "Scheduled liquidation",
            DeadlineKind::ExtensionRequest => "Last day to request a liquidation extension",
            DeadlineKind::DeemedLiquidation => "Deemed liquidation",
            DeadlineKind::Protest => "Protest window closes",
            DeadlineKind::ReliquidationProtest => "Protest window of the reliquidation closes",
            DeadlineKind::CourtAction => "Court of International Trade action window closes",
            DeadlineKind::RefundClaim => "Refund program claim window closes",
        }
    }

    /// True for dates on which the importer must act (they are moved to a working day);
    /// false for events CBP or the law fixes (scheduled and deemed liquidation), which are
    /// shown on their own date.
    pub fn is_action(self) -> bool {
        !matches!(self, DeadlineKind::Liquidation | DeadlineKind::DeemedLiquidation)
    }
}

impl fmt::Display for DeadlineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DeadlineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeadlineKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown deadline kind {s:?}"))
    }
}

/// One computed deadline of one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    /// The date to act by: for action deadlines the last working day on or before `legal`;
    /// for liquidation events the event date itself.
    pub due: NaiveDate,
    /// The date the rule itself gives, before any working-day adjustment.
    pub legal: NaiveDate,
    /// True when a fact the rule needs was unknown and an estimate was used.
    pub estimated: bool,
    /// The rule in words (interface.md style), with any estimate or adjustment explained.
    pub rule: String,
    /// Handled (PSC filed, protest filed, statement paid, ...): shown, never reminded.
    pub done: bool,
}

/// A deadline with the entry it belongs to: what reminders, listings and the feed take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDeadline {
    pub entry: EntryNumber,
    #[serde(flatten)]
    pub deadline: Deadline,
}

/// Today's date in the configured time zone: what `listing` and the overdue checks take.
pub fn local_today(now: chrono::DateTime<chrono::FixedOffset>, tz: chrono_tz::Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// One row of `entrywatch deadlines --json` (interface.md), plus `legal` and `done`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRow {
    /// Printed as `EEE-1234567-3`.
    pub entry: String,
    pub kind: DeadlineKind,
    pub due: NaiveDate,
    pub estimated: bool,
    pub rule: String,
    pub legal: NaiveDate,
    pub done: bool,
}

/// The `deadlines` listing: open deadlines (not done) due on or after `today` and, when
/// `within_days` is given, no later than `today + within_days`; soonest first, then entry,
/// then kind. Overdue open deadlines (due before `today`) are kept at the top when
/// `include_overdue` is set.
pub fn listing(
    items: &[EntryDeadline],
    today: NaiveDate,
    within_days: Option<u32>,
    include_overdue: bool,
) -> Vec<DeadlineRow> {
    let horizon = within_days.and_then(|n| today.checked_add_days(chrono::Days::new(u64::from(n))));
    let mut rows: Vec<&EntryDeadline> = items
        .iter()
        .filter(|i| !i.deadline.done)
        .filter(|i| include_overdue || i.deadline.due >= today)
        .filter(|i| match (within_days, horizon) {
            (None, _) => true,
            (Some(_), Some(h)) => i.deadline.due <= h,
            (Some(_), None) => true,
        })
        .collect();
    rows.sort_by(|a, b| (a.deadline.due, &a.entry, a.deadline.kind).cmp(&(b.deadline.due, &b.entry, b.deadline.kind)));
    rows.into_iter()
        .map(|i| DeadlineRow {
            entry: i.entry.to_string(),
            kind: i.deadline.kind,
            due: i.deadline.due,
            estimated: i.deadline.estimated,
            rule: i.deadline.rule.clone(),
            legal: i.deadline.legal,
            done: i.deadline.done,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_serialize() {
        for k in DeadlineKind::ALL {
            assert_eq!(k.as_str().parse::<DeadlineKind>(), Ok(k));
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.as_str()));
        }
        assert!("nope".parse::<DeadlineKind>().is_err());
    }

    #[test]
    fn local_today_uses_the_zone() {
        // 03:30 UTC on March 2 is still March 1 in New York.
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-02T03:30:00+00:00").unwrap();
        assert_eq!(local_today(now, chrono_tz::America::New_York).to_string(), "2026-03-01");
        assert_eq!(local_today(now, chrono_tz::UTC).to_string(), "2026-03-02");
    }

    #[test]
    fn listing_filters_and_sorts() {
        let e: EntryNumber = "EEE-1234567-3".parse().unwrap();
        let mk = |kind, due: &str, done| EntryDeadline {
            entry: e.clone(),
            deadline: Deadline {
                kind,
                due: due.parse().unwrap(),
                legal: due.parse().unwrap(),
                estimated: false,
                rule: "r".into(),
                done,
            },
        };
        let items = vec![
            mk(DeadlineKind::Protest, "2026-06-01", false),
            mk(DeadlineKind::Psc, "2026-03-10", false),
            mk(DeadlineKind::StatementPayment, "2026-03-05", true),
            mk(DeadlineKind::SummaryFiling, "2026-02-20", false),
        ];
        let today: NaiveDate = "2026-03-01".parse().unwrap();
        let rows = listing(&items, today, Some(30), false);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].kind, DeadlineKind::Psc);
        let all = listing(&items, today, None, true);
        let kinds: Vec<_> = all.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [DeadlineKind::SummaryFiling, DeadlineKind::Psc, DeadlineKind::Protest]);
        let json = serde_json::to_value(&all[1]).unwrap();
        assert_eq!(json["entry"], "EEE-1234567-3");
        assert_eq!(json["kind"], "psc");
        assert_eq!(json["due"], "2026-03-10");
    }
}
