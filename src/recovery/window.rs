//! Window alerts: an entry that moves out of a refund program's window it was eligible for
//! (not excluded, carrying the refunded duty, not claimed) raises one `recovery-window` alert
//! naming the money and the remedy left, exactly once per entry and window. Driven by the
//! clock through the deadline scheduler's pass (crate::deadline::scheduler), recorded in the
//! `reminders` ledger under `recovery-window/ENTRY/PROGRAM/LAST-DAY` in the same transaction
//! that queues the alert.

use super::{evaluate, Remedies, RemedyState};
use crate::alert::hook::entry_facts;
use crate::alert::outbox::OutboxItem;
use crate::alert::rules::{alert_for_event, routes_for};
use crate::alert::{Alert, AlertKind, CodeInfo};
use crate::config::Config;
use crate::deadline::scheduler::ReminderRecord;
use crate::deadline::{Deadline, DeadlineKind};
use crate::domain::Entry;
use crate::entry_number::EntryNumber;
use crate::grammar::codes::AlertSeverity;
use crate::store::{Store, StoreError};
use chrono::{DateTime, FixedOffset, NaiveDate};

/// A window closed this long ago or less still alerts; older closures (an entry first seen
/// long after, a daemon down for months) are shown by `report recovery`, never mailed.
pub const RECENT_DAYS: i64 = 30;

/// One entry out of one program's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowLeft {
    pub entry: EntryNumber,
    pub program: String,
    pub program_name: String,
    /// The window's last day (the entry left it the day after).
    pub last_day: NaiveDate,
    /// The program's duty on the entry, in cents.
    pub amount_cents: i64,
    /// Why the window is closed, in words.
    pub why: String,
    /// The protest's last day when a protest is still open.
    pub protest_until: Option<NaiveDate>,
}

impl WindowLeft {
    /// The ledger key and alert id: `recovery-window/EEE12345673/cape/2026-08-24`.
    pub fn id(&self) -> String {
        format!("recovery-window/{}/{}/{}", self.entry.compact(), self.program, self.last_day)
    }

    /// `EEE-1234567-3 left CAPE's window on 2026-08-25: 500.00 of IEEPA additional duties;
    /// protest open until 2026-12-02`.
    pub fn sentence(&self) -> String {
        format!("{} {}", self.entry, self.meaning())
    }

    /// The sentence without the entry (the alert's code meaning: the subject names the entry).
    pub fn meaning(&self) -> String {
        let left = self.last_day.succ_opt().unwrap_or(self.last_day);
        let rest = match self.protest_until {
            Some(d) => format!("protest open until {d}"),
            None => "no protest window open".to_string(),
        };
        format!(
            "left {}'s window on {left}: {} of {}; {rest}",
            self.program.to_uppercase(),
            crate::report::money(self.amount_cents),
            self.program_name
        )
    }
}

/// The windows `e` has left on `today` within [`RECENT_DAYS`]: programs whose state is closed
/// with money at stake (an excluded, claimed or not-applicable entry was never eligible).
pub fn left_windows(rules: &Remedies, e: &Entry, deadlines: &[Deadline], today: NaiveDate) -> Vec<WindowLeft> {
    let Some(en) = e.entry.clone() else { return Vec::new() };
    let rec = evaluate(rules, e, deadlines, today);
    let protest_until = rec.remedy("protest").filter(|p| p.state == RemedyState::Open).and_then(|p| p.until);
    rules
        .programs
        .iter()
        .filter_map(|p| {
            let st = rec.remedy(&p.id)?;
            let last = st.until?;
            let ago = (today - last).num_days();
            (st.state == RemedyState::Closed && st.amount_cents > 0 && (1..=RECENT_DAYS).contains(&ago)).then(|| {
                let duty: Vec<&str> = p
                    .refunds
                    .iter()
                    .map(|d| rules.duty_programs.iter().find(|x| &x.id == d).map_or(d.as_str(), |x| x.name.as_str()))
                    .collect();
                WindowLeft {
                    entry: en.clone(),
                    program: p.id.clone(),
                    program_name: duty.join(", "),
                    last_day: last,
                    amount_cents: st.amount_cents,
                    why: st.why.clone(),
                    protest_until,
                }
            })
        })
        .collect()
}

/// The `recovery-window` alert of one closure.
pub fn window_alert(w: &WindowLeft, entry: &Entry, now: DateTime<FixedOffset>) -> Alert {
    let mut facts = entry_facts(entry);
    if let Some(d) = w.protest_until {
        facts.next_deadline = Some(format!("{d}: {}", DeadlineKind::Protest.title()));
    }
    let mut a = alert_for_event(AlertKind::RecoveryWindow, AlertSeverity::Warning, Some(&w.program), now, facts, now);
    a.id = w.id();
    a.code = Some(CodeInfo {
        list: "recovery".into(),
        list_title: "entrywatch duty recovery".into(),
        code: w.program.clone(),
        meaning: w.meaning(),
        action: Some(match w.protest_until {
            Some(d) => format!("File a protest (CBP Form 19) by {d} to recover the duty."),
            None => "Ask counsel which remedy is left.".into(),
        }),
    });
    a.narrative = Some(format!("{}.\nWhy: {}", w.sentence(), w.why));
    a
}

/// One pass at `now`: every window left and not yet in the ledger is recorded and its alert
/// queued (for its routed recipients) in ONE transaction each. Returns how many were recorded.
pub fn window_pass(
    store: &Store,
    config: &Config,
    rules: &Remedies,
    entries: &[(&Entry, Vec<Deadline>)],
    now: DateTime<FixedOffset>,
) -> Result<usize, StoreError> {
    let today = crate::deadline::local_today(now, config.timezone());
    let mut n = 0;
    for (e, ds) in entries {
        for w in left_windows(rules, e, ds, today) {
            let id = w.id();
            let alert = window_alert(&w, e, now);
            let to = routes_for(&alert, &config.route);
            let rec = ReminderRecord {
                entry: w.entry.clone(),
                kind: DeadlineKind::RefundClaim,
                due: w.last_day,
                lead_days: 0,
                queued_at: now,
                fire_at: now,
                late: false,
                to: to.clone(),
            };
            let item = OutboxItem::for_alert(alert, to.clone(), now);
            let queued = crate::deadline::scheduler::record_once(store, &id, &rec, &item)?;
            if queued {
                n += 1;
                tracing::info!(target: "entrywatch", event = "RecoveryWindowLeft", alert = %id, recipients = to.len());
            }
        }
    }
    if n > 0 {
        store.flush()?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Filing, Line, LiquidationStatus, Summary, SummaryStatus, Tariff};
    use crate::recovery::result::{ClaimState, ClaimStatus};

    fn rules() -> Remedies {
        crate::grammar::Grammars::embedded().expect("embedded grammars").remedies
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    /// Liquidated 2026-06-05 with 500.00 of IEEPA duty (9903.01.25) beside ordinary duty.
    fn entry(entry_type: &str) -> Entry {
        let at = d("2026-01-12").and_hms_opt(0, 0, 0).expect("time");
        let tariffs = vec![
            Tariff { hts: "6110202079".into(), duty_cents: 165_000, ..Tariff::default() },
            Tariff { hts: "9903012500".into(), duty_cents: 50_000, ..Tariff::default() },
        ];
        let summary = Summary {
            action: "A".into(),
            entry_type: entry_type.into(),
            lines: vec![Line { line: 1, tariffs, ..Line::default() }],
            ..Summary::default()
        };
        let mut e = Entry {
            entry: Some("EEE-1234567-3".parse().expect("entry")),
            entry_type: entry_type.into(),
            filings: vec![Filing { at, summary, version: None, outcome: SummaryStatus::Accepted }],
            ..Entry::default()
        };
        e.liquidation.status = LiquidationStatus::Liquidated;
        e.liquidation.date = Some(d("2026-06-05"));
        e
    }

    #[test]
    fn the_day_after_the_last_day_and_thirty_days_more_then_silence() {
        let r = rules();
        let e = entry("01");
        // Day 80 (2026-08-24): still inside.
        assert!(left_windows(&r, &e, &[], d("2026-08-24")).is_empty());
        // Day 81: left, naming the money.
        let w = left_windows(&r, &e, &[], d("2026-08-25"));
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].last_day, w[0].amount_cents), (d("2026-08-24"), 50_000));
        assert_eq!(w[0].id(), "recovery-window/EEE12345673/cape/2026-08-24");
        assert_eq!(
            w[0].sentence(),
            "EEE-1234567-3 left CAPE's window on 2026-08-25: 500.00 of IEEPA additional duties; no protest window open"
        );
        // The same window for 30 days (one id: the ledger sends it once), then no more.
        let later = left_windows(&r, &e, &[], d("2026-09-23"));
        assert_eq!(later.first().map(WindowLeft::id), Some(w[0].id()));
        assert!(left_windows(&r, &e, &[], d("2026-09-24")).is_empty());
    }

    #[test]
    fn never_for_an_entry_that_was_not_eligible_or_is_claimed() {
        let r = rules();
        let day81 = d("2026-08-25");
        assert!(left_windows(&r, &entry("09"), &[], day81).is_empty(), "type 09");
        let mut flagged = entry("01");
        flagged.filings[0].summary.reconciliation = "002".into();
        assert!(left_windows(&r, &flagged, &[], day81).is_empty(), "reconciliation-flagged");
        let mut protested = entry("01");
        protested.liquidation.protest = "YS".into();
        assert!(left_windows(&r, &protested, &[], day81).is_empty(), "open protest");
        let mut claimed = entry("01");
        claimed.refund_claims =
            vec![ClaimState { program: "cape".into(), status: ClaimStatus::Accepted, ..ClaimState::default() }];
        assert!(left_windows(&r, &claimed, &[], day81).is_empty(), "accepted by CAPE");
        let mut rejected = entry("01");
        rejected.refund_claims =
            vec![ClaimState { program: "cape".into(), status: ClaimStatus::Rejected, ..ClaimState::default() }];
        assert_eq!(left_windows(&r, &rejected, &[], day81).len(), 1, "a rejected claim leaves the money open");
        let mut unliquidated = entry("01");
        unliquidated.liquidation.status = LiquidationStatus::Unliquidated;
        unliquidated.liquidation.date = None;
        assert!(left_windows(&r, &unliquidated, &[], day81).is_empty());
    }
}
