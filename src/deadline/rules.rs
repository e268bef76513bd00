//! The deadline rules: a pure function from the facts known about one entry to its deadlines (reference/abi.md §5 and §6).
//!
//! Calendar arithmetic: "+ N days" counts calendar days; "+ N months/years" keeps the day
//! of month, clamped to the month's last day (2028-02-29 + 1 year = 2029-02-28, never
//! later). Action deadlines whose date falls on a weekend, federal holiday or configured
//! closure are shown on the last working day on or before it (a conservative choice: a
//! legal deadline is never moved later); the unadjusted date stays in `Deadline::legal`.
//! Liquidation events (scheduled and deemed) are shown on their own date.

use super::{Deadline, DeadlineKind};
use crate::calendar::Calendar;
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// What is known about one entry; `None` / `false` where unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineFacts {
    /// CBP entry date (ESQ JD 4–9, or the summary's entry date).
    pub entry_date: Option<NaiveDate>,
    /// Cargo release date (SO release, ESQ JC 13–18).
    pub release_date: Option<NaiveDate>,
    /// Date of importation (arrival); the entry date is used as an estimate when absent.
    pub importation_date: Option<NaiveDate>,
    /// The entry summary was not filed with the entry (cargo released first).
    pub summary_filed_separately: bool,
    /// When the entry summary was filed (done for `summary-filing`).
    pub summary_filed_date: Option<NaiveDate>,
    /// Payment due date from the statement (PF/MS).
    pub statement_due: Option<NaiveDate>,
    /// The final statement (or ESQ collection status 2) shows it paid.
    pub statement_paid: bool,
    /// An FTA/SPI preference could be claimed after importation (519/520(d)).
    pub fta_claimable: bool,
    /// The preference was claimed (at entry or after): done for `fta-claim`.
    pub fta_claimed: bool,
    /// AE 10-record pos 46 `Y`: flagged for trade-agreement (FTA) reconciliation.
    pub recon_fta: bool,
    /// AE 10-record pos 47–49 reconciliation issue code (001–007: value, classification,
    /// 9802 and their combinations); blank or `000` means none.
    pub recon_issue: Option<String>,
    /// The FTA reconciliation entry was filed.
    pub recon_fta_filed: bool,
    /// The reconciliation entry for the other issues was filed.
    pub recon_other_filed: bool,
    /// Filing date of the earliest summary flagged for the same reconciliation (21-month clock).
    pub earliest_recon_flagged_summary_date: Option<NaiveDate>,
    /// Importation date of the earliest entry flagged for FTA reconciliation (12-month clock).
    pub earliest_recon_flagged_importation_date: Option<NaiveDate>,
    /// Scheduled liquidation date (ESQ JB 44–49 with status 2).
    pub scheduled_liquidation: Option<NaiveDate>,
    /// Liquidation posting date.
    pub liquidation_date: Option<NaiveDate>,
    /// Reliquidation posting date.
    pub reliquidation_date: Option<NaiveDate>,
    /// One-year liquidation extensions granted (ESQ JC 71–78 codes 49–51); at most 3 count.
    pub extensions: u32,
    /// Liquidation suspended (ESQ JC codes 43–48, 66).
    pub suspended: bool,
    /// A post summary correction was filed: done for `psc`.
    pub psc_filed: bool,
    /// A protest is on file (ESQ JC 42–43 `YS`).
    pub protest_filed: bool,
    /// When the protest was filed, if known: it covers a reliquidation only when filed on
    /// or after the reliquidation date.
    pub protest_filed_date: Option<NaiveDate>,
    /// When CBP denied the protest (court action clock).
    pub protest_denied_date: Option<NaiveDate>,
    /// A summons was filed at the Court of International Trade: done for `court-action`.
    pub court_action_filed: bool,
}

/// Protests of entries made before this date had 90 days, later ones 180 (19 CFR 174.12(e)).
const PROTEST_180_FROM: (i32, u32, u32) = (2004, 12, 18);

fn plus_days(d: NaiveDate, n: u64) -> Option<NaiveDate> {
    d.checked_add_days(Days::new(n))
}

fn minus_days(d: NaiveDate, n: u64) -> Option<NaiveDate> {
    d.checked_sub_days(Days::new(n))
}

fn plus_months(d: NaiveDate, n: u32) -> Option<NaiveDate> {
    d.checked_add_months(Months::new(n))
}

/// An action deadline: shown on the last working day on or before the legal date.
fn action(cal: &Calendar, kind: DeadlineKind, legal: NaiveDate, estimated: bool, rule: String, done: bool) -> Deadline {
    let due = cal.working_day_on_or_before(legal);
    let rule = if due == legal {
        rule
    } else {
        let why = cal.holiday_name(legal).unwrap_or_else(|| match legal.weekday() {
            Weekday::Sat => "Saturday".to_string(),
            Weekday::Sun => "Sunday".to_string(),
            _ => "not a working day".to_string(),
        });
        format!("{rule}; {legal} is not a working day ({why}): due the working day before")
    };
    Deadline { kind, due, legal, estimated, rule, done }
}

/// An event date (liquidation): shown as is.
fn event(kind: DeadlineKind, date: NaiveDate, estimated: bool, rule: String, done: bool) -> Deadline {
    Deadline { kind, due: date, legal: date, estimated, rule, done }
}

fn has_recon_issue(code: &Option<String>) -> bool {
    code.as_deref().map(str::trim).is_some_and(|c| !c.is_empty() && c.bytes().any(|b| b != b'0'))
}

/// The deadlines of one entry, in the order of [`DeadlineKind::ALL`]. Kinds whose facts are
/// missing or that no longer apply (PSC after liquidation, deemed liquidation of a
/// liquidated or suspended entry) are left out; handled ones are kept with `done = true`.
pub fn compute(f: &DeadlineFacts, cal: &Calendar) -> Vec<Deadline> {
    let mut out = Vec::new();
    let liquidated = f.liquidation_date.is_some() || f.reliquidation_date.is_some();
    let ext = f.extensions.min(3);
    // End of the current liquidation period: 1 year from entry + 1 year per extension,
    // never more than 4 years in all (19 U.S.C. 1504(a), (b); 19 CFR 159.12(e)).
    let deemed = f.entry_date.and_then(|e| plus_months(e, 12 * (1 + ext)));

    // Entry summary: 10 working days after release when not filed with the entry (19 CFR 142.12(b)).
    if f.summary_filed_separately {
        if let Some(rel) = f.release_date {
            let due = cal.add_working_days(rel, 10);
            out.push(Deadline {
                kind: DeadlineKind::SummaryFiling,
                due,
                legal: due,
                estimated: false,
                rule: "10 working days after release (entry summary filed separately)".into(),
                done: f.summary_filed_date.is_some(),
            });
        }
    }

    // Statement payment: the due date the statement carries.
    if let Some(due) = f.statement_due {
        out.push(action(
            cal,
            DeadlineKind::StatementPayment,
            due,
            false,
            "payment due date on the statement".into(),
            f.statement_paid,
        ));
    }

    // Liquidation date used by the PSC window: ESQ's scheduled date, else an estimate.
    let liquidation: Option<(NaiveDate, bool, String)> = if liquidated || f.suspended {
        None
    } else if let Some(s) = f.scheduled_liquidation {
        Some((s, false, "scheduled liquidation date (ESQ)".into()))
    } else if ext == 0 {
        f.entry_date
            .and_then(|e| plus_days(e, 314))
            .map(|d| (d, true, "entry date + 314 days (estimate: no scheduled liquidation date known)".into()))
    } else {
        deemed.map(|d| (d, true, "end of the extended liquidation period (estimate: no scheduled date known)".into()))
    };

    // PSC: the earlier of entry date + 300 days and scheduled liquidation - 15 days
    // (84 FR 40430; CSMS #17-000397). Closed once liquidated.
    if let Some(entry) = f.entry_date {
        if !liquidated || f.psc_filed {
            let by_entry = plus_days(entry, 300);
            let by_liq = liquidation.as_ref().and_then(|(d, est, _)| minus_days(*d, 15).map(|b| (b, *est)));
            let pick = match (by_entry, by_liq) {
                (Some(a), Some((b, est))) if b < a => Some((b, est)),
                (Some(a), _) => Some((a, false)),
                (None, Some((b, est))) => Some((b, est)),
                (None, None) => None,
            };
            if let Some((legal, est)) = pick {
                let mut rule = String::from("earlier of entry date + 300 days and scheduled liquidation - 15 days");
                if let (true, Some((_, _, how))) = (est, liquidation.as_ref()) {
                    rule.push_str(&format!(" (liquidation date: {how})"));
                }
                out.push(action(cal, DeadlineKind::Psc, legal, est, rule, f.psc_filed));
            }
        }
    }

    // Post-importation FTA claim: 1 year after importation (19 CFR 182.31, 181.31).
    if f.fta_claimable {
        let base = f.importation_date.map(|d| (d, false)).or(f.entry_date.map(|d| (d, true)));
        if let Some((base, est)) = base {
            if let Some(legal) = plus_months(base, 12) {
                let rule = if est {
                    "importation date + 1 year (importation date unknown: entry date used)"
                } else {
                    "importation date + 1 year"
                };
                out.push(action(cal, DeadlineKind::FtaClaim, legal, est, rule.into(), f.fta_claimed));
            }
        }
    }

    // Reconciliation: 12 months from the earliest importation for FTA issues, 21 months from
    // the earliest flagged summary for value/classification/9802. One at a time: the earliest
    // open one (so filing the FTA reconciliation moves the deadline to the other issues).
    let mut recon: Vec<Deadline> = Vec::new();
    if f.recon_fta {
        let base = f
            .earliest_recon_flagged_importation_date
            .map(|d| (d, false))
            .or(f.importation_date.map(|d| (d, true)))
            .or(f.earliest_recon_flagged_summary_date.map(|d| (d, true)))
            .or(f.entry_date.map(|d| (d, true)));
        if let Some((legal, est)) = base.and_then(|(b, e)| plus_months(b, 12).map(|l| (l, e))) {
            let mut rule = String::from("earliest flagged importation + 12 months (FTA reconciliation)");
            if est {
                rule.push_str(" (earliest flagged importation unknown: this entry's date used)");
            }
            recon.push(action(cal, DeadlineKind::Reconciliation, legal, est, rule, f.recon_fta_filed));
        }
    }
    if has_recon_issue(&f.recon_issue) {
        let base = f
            .earliest_recon_flagged_summary_date
            .map(|d| (d, false))
            .or(f.summary_filed_date.map(|d| (d, true)))
            .or(f.entry_date.map(|d| (d, true)));
        if let Some((legal, est)) = base.and_then(|(b, e)| plus_months(b, 21).map(|l| (l, e))) {
            let mut rule = String::from("earliest flagged summary + 21 months");
            if est {
                rule.push_str(" (earliest flagged summary unknown: this entry's date used)");
            }
            recon.push(action(cal, DeadlineKind::Reconciliation, legal, est, rule, f.recon_other_filed));
        }
    }
    let open = recon.iter().filter(|d| !d.done).min_by_key(|d| d.due).cloned();
    if let Some(d) = open.or_else(|| recon.into_iter().max_by_key(|d| d.due)) {
        out.push(d);
    }

    // Scheduled liquidation (from ER; estimated when unknown), or the posted liquidation.
    if let Some(l) = f.reliquidation_date.or(f.liquidation_date) {
        let what = if f.reliquidation_date.is_some() { "reliquidated" } else { "liquidated" };
        out.push(event(DeadlineKind::Liquidation, l, false, format!("{what} (posting date)"), true));
    } else if let Some((d, est, rule)) = liquidation {
        out.push(event(DeadlineKind::Liquidation, d, est, rule, false));
    }

    // Extension request: before the current liquidation period ends (19 CFR 159.12(a)(1)(ii));
    // none once liquidated, suspended, or at the 4-year limit.
    if !liquidated && !f.suspended && ext < 3 {
        if let Some(legal) = deemed.and_then(|d| d.pred_opt()) {
            out.push(action(
                cal,
                DeadlineKind::ExtensionRequest,
                legal,
                false,
                "before the liquidation period ends (deemed liquidation date - 1 day)".into(),
                false,
            ));
        }
    }

    // Deemed liquidation: 1 year from entry, + 1 year per extension, at most 4 (19 U.S.C. 1504).
    if !liquidated && !f.suspended {
        if let Some(d) = deemed {
            let rule = match (ext, f.extensions > 3) {
                (0, _) => "entry date + 1 year".to_string(),
                (1, _) => "entry date + 2 years (1 extension)".to_string(),
                (n, false) => format!("entry date + {} years ({n} extensions)", n + 1),
                (n, true) => format!("entry date + {} years ({n} extensions; the 4-year limit)", n + 1),
            };
            out.push(event(DeadlineKind::DeemedLiquidation, d, false, rule, false));
        }
    }

    // Protest: 180 days from liquidation or reliquidation (19 CFR 174.12(e); 90 days for
    // entries before 2004-12-18).
    let base = match (f.liquidation_date, f.reliquidation_date) {
        (Some(l), Some(r)) => Some((l.max(r), r >= l)),
        (Some(l), None) => Some((l, false)),
        (None, Some(r)) => Some((r, true)),
        (None, None) => None,
    };
    if let Some((base, reliq)) = base {
        let old = NaiveDate::from_ymd_opt(PROTEST_180_FROM.0, PROTEST_180_FROM.1, PROTEST_180_FROM.2);
        let days = if f.entry_date.zip(old).is_some_and(|(e, o)| e < o) { 90 } else { 180 };
        if let Some(legal) = plus_days(base, days) {
            let rule = format!("{} date + {days} days", if reliq { "reliquidation" } else { "liquidation" });
            // A protest known only as "on file" covers the original liquidation; it covers a
            // reliquidation only when its date shows it was filed after.
            let done = f.protest_filed && (!reliq || f.protest_filed_date.is_some_and(|p| p >= base));
            out.push(action(cal, DeadlineKind::Protest, legal, false, rule, done));
        }
    }

    // Court action: 180 days after the mailing of the denial (19 CFR 174.31; 28 U.S.C. 2636(a)).
    if let Some(denied) = f.protest_denied_date {
        if let Some(legal) = plus_days(denied, 180) {
            out.push(action(
                cal,
                DeadlineKind::CourtAction,
                legal,
                false,
                "protest denial + 180 days".into(),
                f.court_action_filed,
            ));
        }
    }

    out
}
