//! The deadline rules: a pure function from the facts known about one entry to its deadlines, each rule citing its source (CATAIR chapter and page, CFR, USC, Federal Register); docs/deadlines.md has the same table.
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
    /// CBP entry date (ER JD 4–9, or the summary's estimated entry date, AE 11-record 42–47).
    pub entry_date: Option<NaiveDate>,
    /// The entry date is the release date standing in for it (no ER and no AE date yet): the
    /// time of entry is the release when entry documentation is filed without the summary
    /// (19 CFR 141.68(a); 02-entry-summary-create-update usage notes j and ll, pages 159, 189).
    #[serde(default)]
    pub entry_date_estimated: bool,
    /// Entry type (AE 10-record), e.g. `01`, `11`, `21` (warehouse), `23` (TIB).
    #[serde(default)]
    pub entry_type: String,
    /// Cargo release date (SO release, ESQ JC 13–18).
    pub release_date: Option<NaiveDate>,
    /// Date of importation (arrival); the entry date is used as an estimate when absent.
    pub importation_date: Option<NaiveDate>,
    /// The entry summary was not filed with the entry (cargo released first).
    pub summary_filed_separately: bool,
    /// When the entry summary was filed (done for `summary-filing`).
    pub summary_filed_date: Option<NaiveDate>,
    /// Payment due date the statement carries (MS Q3 19–24 for a periodic monthly statement;
    /// a daily statement carries none).
    pub statement_due: Option<NaiveDate>,
    /// Paid: a final daily statement (types 2, 3, 5), or the final periodic monthly statement
    /// for a periodic daily statement (types 6, 7, 8).
    pub statement_paid: bool,
    /// AE 10-record payment type of the statement (`2`, `3`, `5` daily; `6`, `7`, `8` periodic).
    #[serde(default)]
    pub payment_type: String,
    /// Preliminary statement print date (AE 10-record; PF).
    #[serde(default)]
    pub statement_print_date: Option<NaiveDate>,
    /// A post-importation preference claim (19 U.S.C. 1520(d)) is possible: a line's origin or
    /// SPI belongs to an agreement of grammars/codes/fta_1520d.toml.
    pub fta_claimable: bool,
    /// The preference was claimed (at entry, or a 520(d) petition, ER JJ protest type 3).
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
    /// One of the extensions was the importer's (JC code 50).
    #[serde(default)]
    pub importer_extension: bool,
    /// Liquidation suspended (ESQ JC codes 43–48, 65, 66).
    pub suspended: bool,
    /// The suspension is an AD/CVD one (43, 44, 45).
    #[serde(default)]
    pub adcvd_suspended: bool,
    /// A suspension reported earlier is no longer reported (on this date, the first report
    /// without it): the 6-month deemed liquidation clock of 19 U.S.C. 1504(d).
    #[serde(default)]
    pub suspension_lifted: Option<NaiveDate>,
    /// Warehouse entry (21): date of the final withdrawal (19 U.S.C. 1504(a)(1)(B)).
    #[serde(default)]
    pub final_withdrawal: Option<NaiveDate>,
    /// TIB (23): a line under the 6-month bond (HTS 9813.00.75).
    #[serde(default)]
    pub tib_six_months: bool,
    /// TIB (23): exported or destroyed (the bond is closed).
    #[serde(default)]
    pub tib_closed: bool,
    /// A post summary correction was filed: done for `psc`.
    pub psc_filed: bool,
    /// A protest is on file (ER JJ, or ESQ JC 42–43 `YS`).
    pub protest_filed: bool,
    /// When the protest was filed, if known: it covers a reliquidation only when filed on
    /// or after the reliquidation date.
    pub protest_filed_date: Option<NaiveDate>,
    /// When CBP denied (DN) or partly denied (PD) the protest (court action clock).
    pub protest_denied_date: Option<NaiveDate>,
    /// A summons was filed at the Court of International Trade: done for `court-action`.
    pub court_action_filed: bool,
}

/// Protests of entries made before this date had 90 days, later ones 180 (19 CFR 174.12(e)).
const PROTEST_180_FROM: (i32, u32, u32) = (2004, 12, 18);

/// ACE liquidates an unextended entry about 314 days after entry, on its weekly (Friday)
/// liquidation cycle (secondary: ACE practice, reference/abi.md §6; no CATAIR text).
const LIQUIDATION_ESTIMATE_DAYS: u64 = 314;

/// ACE refuses a PSC when liquidation is scheduled within 14 days of the filing
/// (02-entry-summary-create-update usage note gg, page 183): the last day is 15 days before.
const PSC_LEAD_DAYS: u64 = 15;

/// A PSC may be filed up to 300 days after the entry date (84 FR 40430, 14 Aug 2019).
const PSC_DAYS: u64 = 300;

/// Lead time entrywatch gives an extension request before the scheduled (or estimated)
/// liquidation: the same 15 days after which ACE locks the summary for liquidation (usage
/// note gg, page 183). The law only says "before liquidation" (19 CFR 159.12(a)(1)(ii)).
const EXTENSION_LEAD_DAYS: u64 = 15;

/// Payment types paid with a periodic monthly statement (05-daily-statement, page 6).
pub const PERIODIC_PAYMENT_TYPES: [&str; 3] = ["6", "7", "8"];
/// Payment types of a daily statement (05-daily-statement, page 6).
pub const DAILY_PAYMENT_TYPES: [&str; 3] = ["2", "3", "5"];

fn plus_days(d: NaiveDate, n: u64) -> Option<NaiveDate> {
    d.checked_add_days(Days::new(n))
}

fn minus_days(d: NaiveDate, n: u64) -> Option<NaiveDate> {
    d.checked_sub_days(Days::new(n))
}

fn plus_months(d: NaiveDate, n: u32) -> Option<NaiveDate> {
    d.checked_add_months(Months::new(n))
}

/// The Friday on or before `d`: ACE's weekly liquidation cycle day (never a Sunday).
pub fn cycle_friday(d: NaiveDate) -> NaiveDate {
    let back = (d.weekday().num_days_from_monday() + 7 - Weekday::Fri.num_days_from_monday()) % 7;
    minus_days(d, u64::from(back)).unwrap_or(d)
}

/// The `n`-th working day of the month after `d`'s month.
pub fn nth_working_day_of_next_month(cal: &Calendar, d: NaiveDate, n: u32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).and_then(|f| plus_months(f, 1))?;
    let first_working = cal.working_day_on_or_after(first);
    Some(cal.add_working_days(first_working, n.saturating_sub(1)))
}

/// An action deadline: shown on the last working day on or before the legal date.
pub(crate) fn action(
    cal: &Calendar,
    kind: DeadlineKind,
    legal: NaiveDate,
    estimated: bool,
    rule: String,
    done: bool,
) -> Deadline {
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

const ENTRY_DATE_NOTE: &str = " (entry date estimated: the release date, 19 CFR 141.68(a))";

/// The deadlines of one entry, in the order of [`DeadlineKind::ALL`]. Kinds whose facts are
/// missing or that no longer apply (PSC after liquidation, deemed liquidation of a
/// liquidated or suspended entry) are left out; handled ones are kept with `done = true`.
pub fn compute(f: &DeadlineFacts, cal: &Calendar) -> Vec<Deadline> {
    let mut out = Vec::new();
    let liquidated = f.liquidation_date.is_some() || f.reliquidation_date.is_some();
    let ext = f.extensions.min(3);
    let entry_type = f.entry_type.trim();
    let warehouse = entry_type == "21";
    let est_entry = f.entry_date_estimated;
    let entry_note = if est_entry { ENTRY_DATE_NOTE } else { "" };
    // The liquidation period runs from entry, or for a warehouse entry from the final
    // withdrawal (19 U.S.C. 1504(a)(1)(A), (B)); 1 year + 1 per extension, at most 4 years
    // (19 U.S.C. 1504(b); 19 CFR 159.12(e)).
    let period_start: Option<(NaiveDate, &str)> = if warehouse {
        f.final_withdrawal.map(|d| (d, "final withdrawal"))
    } else {
        f.entry_date.map(|d| (d, "entry date"))
    };
    let period_end = period_start.and_then(|(d, _)| plus_months(d, 12 * (1 + ext)));

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

    statement_payment(f, cal, &mut out);

    // The liquidation date the PSC and extension-request windows count back from: ER's
    // scheduled date, else the estimate on ACE's weekly cycle. None once liquidated, and
    // none while suspended (the period is open-ended until the suspension is lifted).
    let liquidation: Option<(NaiveDate, bool, String)> = if liquidated {
        None
    } else if let Some(s) = f.scheduled_liquidation {
        Some((s, false, "scheduled liquidation date (ER)".into()))
    } else if f.suspended {
        None
    } else if let Some(lift) = f.suspension_lifted {
        plus_months(lift, 6).map(|d| {
            (
                d,
                true,
                format!("no later than 6 months after the suspension was lifted ({lift}, first ER without it): 19 U.S.C. 1504(d)"),
            )
        })
    } else {
        period_start.and_then(|(start, what)| {
            let raw = plus_days(start, LIQUIDATION_ESTIMATE_DAYS).and_then(|d| plus_months(d, 12 * ext))?;
            let day = cycle_friday(raw);
            let ext_note = match ext {
                0 => String::new(),
                1 => " + 1 year (1 extension)".to_string(),
                n => format!(" + {n} years ({n} extensions)"),
            };
            Some((
                day,
                true,
                format!(
                    "estimated: {what} + {LIQUIDATION_ESTIMATE_DAYS} days{ext_note}, on ACE's weekly Friday liquidation cycle{}",
                    if what == "entry date" { entry_note } else { "" }
                ),
            ))
        })
    };

    psc(f, cal, entry_type, liquidated, &liquidation, &mut out);
    tib_export(f, cal, &mut out);
    fta_claim(f, cal, &mut out);
    reconciliation(f, cal, &mut out);

    // Scheduled liquidation (from ER; estimated when unknown), or the posted liquidation.
    if let Some(l) = f.reliquidation_date.or(f.liquidation_date) {
        let what = if f.reliquidation_date.is_some() { "reliquidated" } else { "liquidated" };
        out.push(event(DeadlineKind::Liquidation, l, false, format!("{what} (posting date)"), true));
    } else if let Some((d, est, rule)) = &liquidation {
        out.push(event(DeadlineKind::Liquidation, *d, *est, rule.clone(), false));
    }

    // Extension request: before liquidation (19 CFR 159.12(a)(1)(ii)) with the lead time of
    // EXTENSION_LEAD_DAYS, and never after the period ends; none once liquidated,
    // suspended, or at the 4-year limit (19 U.S.C. 1504(b)).
    if !liquidated && !f.suspended && f.suspension_lifted.is_none() && ext < 3 {
        let by_period = period_end
            .and_then(|d| d.pred_opt())
            .map(|d| (d, est_entry && !warehouse, "the liquidation period ends".to_string()));
        let by_liq = liquidation.as_ref().and_then(|(d, est, how)| {
            minus_days(*d, EXTENSION_LEAD_DAYS)
                .map(|b| (b, *est, format!("{how}; - {EXTENSION_LEAD_DAYS} days lead time")))
        });
        let pick = match (by_period, by_liq) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        };
        if let Some((legal, est, how)) = pick {
            out.push(action(
                cal,
                DeadlineKind::ExtensionRequest,
                legal,
                est,
                format!("before liquidation: {how} (19 CFR 159.12(a)(1)(ii))"),
                false,
            ));
        }
    }

    // Deemed liquidation: 1 year from entry (warehouse: final withdrawal), + 1 year per
    // extension, at most 4 (19 U.S.C. 1504(a), (b)); after a lifted suspension, 6 months
    // from the notice of its removal (19 U.S.C. 1504(d)). None while suspended.
    if !liquidated && !f.suspended {
        if let Some(lift) = f.suspension_lifted {
            if let Some(d) = plus_months(lift, 6) {
                out.push(event(
                    DeadlineKind::DeemedLiquidation,
                    d,
                    true,
                    format!("suspension lifted ({lift}, first ER without it; the notice date may be earlier) + 6 months (19 U.S.C. 1504(d))"),
                    false,
                ));
            }
        } else if let (Some(d), Some((_, what))) = (period_end, period_start) {
            let years = match (ext, f.extensions > 3) {
                (0, _) => "1 year".to_string(),
                (1, _) => "2 years (1 extension)".to_string(),
                (n, false) => format!("{} years ({n} extensions)", n + 1),
                (n, true) => format!("{} years ({n} extensions; the 4-year limit)", n + 1),
            };
            let note = if what == "entry date" { entry_note } else { "" };
            out.push(event(
                DeadlineKind::DeemedLiquidation,
                d,
                est_entry && !warehouse,
                format!("{what} + {years} (19 U.S.C. 1504){note}"),
                false,
            ));
        }
    }

    protests(f, cal, &mut out);

    // Court action: 180 days after the denial (DN) or partial denial (PD) of the protest
    // (28 U.S.C. 2636(a); 19 CFR 174.31).
    if let Some(denied) = f.protest_denied_date {
        if let Some(legal) = plus_days(denied, 180) {
            out.push(action(
                cal,
                DeadlineKind::CourtAction,
                legal,
                false,
                "protest denial + 180 days (28 U.S.C. 2636(a))".into(),
                f.court_action_filed,
            ));
        }
    }

    out.sort_by_key(|d| DeadlineKind::ALL.iter().position(|k| *k == d.kind));
    out
}

/// Statement payment.
///
/// - Periodic daily statement (payment types 6, 7, 8): paid with the periodic monthly
///   statement (05-daily-statement, page 6; 05b-periodic-monthly-statement, page 5), due on
///   the date the MS carries (Q3 19–24, 05b page 11); before an MS arrives, estimated as the
///   15th working day of the month after the print date (the NCAP periodic monthly statement
///   test, 70 FR 45736 of 8 Aug 2005, as reproduced in 90 FR 48314 of 16 Oct 2025). Done only
///   when the final periodic monthly statement arrives: a final *periodic daily* statement is
///   not a payment.
/// - Daily statement (2, 3, 5): no due date in the statement (chapter 05); estimated duties
///   are deposited within 10 working days after release (19 CFR 142.12(b); 142.23 for a
///   release under immediate delivery; 24.25 statement processing) and the
///   statement is paid by the ACH debit on it; done when the final daily statement arrives,
///   which CBP generates after the payment is received (05-daily-statement, page 6).
/// - Other payment types: the statement's due date when it carries one.
fn statement_payment(f: &DeadlineFacts, cal: &Calendar, out: &mut Vec<Deadline>) {
    let pt = f.payment_type.trim();
    if PERIODIC_PAYMENT_TYPES.contains(&pt) {
        let due = f.statement_due.map(|d| (d, false, "due date on the periodic monthly statement (MS)".to_string()));
        let due = due.or_else(|| {
            let base = f.statement_print_date.or(f.release_date).or(f.entry_date)?;
            nth_working_day_of_next_month(cal, base, 15).map(|d| {
                (
                    d,
                    true,
                    format!("estimated: 15th working day of the month after {base} (periodic monthly statement: 70 FR 45736, 90 FR 48314)"),
                )
            })
        });
        if let Some((legal, est, rule)) = due {
            out.push(action(
                cal,
                DeadlineKind::StatementPayment,
                legal,
                est,
                format!("payment type {pt}: paid with the periodic monthly statement; {rule}"),
                f.statement_paid,
            ));
        }
    } else if DAILY_PAYMENT_TYPES.contains(&pt) {
        let due = f.statement_due.map(|d| (d, false, "due date on the statement".to_string())).or_else(|| {
            f.release_date.map(|r| {
                (
                    cal.add_working_days(r, 10),
                    true,
                    "basis: release + 10 working days (estimated duties deposited within 10 working days after release: 19 CFR 142.12(b), 142.23, 24.25; a daily statement carries no due date)"
                        .to_string(),
                )
            })
        });
        if let Some((legal, est, rule)) = due {
            out.push(action(
                cal,
                DeadlineKind::StatementPayment,
                legal,
                est,
                format!("payment type {pt}: daily statement; {rule}"),
                f.statement_paid,
            ));
        }
    } else if let Some(due) = f.statement_due {
        out.push(action(
            cal,
            DeadlineKind::StatementPayment,
            due,
            false,
            "payment due date on the statement".into(),
            f.statement_paid,
        ));
    }
}

/// Post summary correction window.
///
/// - Informal entries (11, 12) are not eligible: none (usage note gg, page 184).
/// - Closed once liquidated (unless a PSC was filed: shown done).
/// - After an importer-requested extension (JC 50): up to 15 days before the extended
///   liquidation date (84 FR 40430; CSMS #43528998).
/// - AD/CVD-suspended entries need not be scheduled for liquidation (usage note gg, page
///   183): up to 15 days before the scheduled liquidation date once ER gives one; no date
///   while suspended without one.
/// - Otherwise: the earlier of entry date + 300 days (84 FR 40430) and liquidation - 15 days
///   (usage note gg, page 183: not accepted within 14 days of scheduled liquidation).
fn psc(
    f: &DeadlineFacts,
    cal: &Calendar,
    entry_type: &str,
    liquidated: bool,
    liquidation: &Option<(NaiveDate, bool, String)>,
    out: &mut Vec<Deadline>,
) {
    if matches!(entry_type, "11" | "12") || (liquidated && !f.psc_filed) {
        return;
    }
    let Some(entry) = f.entry_date else { return };
    let by_liq =
        liquidation.as_ref().and_then(|(d, est, how)| minus_days(*d, PSC_LEAD_DAYS).map(|b| (b, *est, how.clone())));
    let entry_note = if f.entry_date_estimated { ENTRY_DATE_NOTE } else { "" };
    let pick: Option<(NaiveDate, bool, String)> = if f.adcvd_suspended && f.suspended {
        by_liq.map(|(b, est, how)| {
            (b, est, format!("AD/CVD suspended entry: scheduled liquidation - 15 days ({how}; usage note gg)"))
        })
    } else if f.importer_extension && f.extensions > 0 {
        by_liq.map(|(b, est, how)| {
            (b, est, format!("importer-requested extension: extended liquidation - 15 days ({how}; 84 FR 40430)"))
        })
    } else {
        let by_entry = plus_days(entry, PSC_DAYS);
        match (by_entry, by_liq) {
            (Some(a), Some((b, est, how))) if b < a => Some((
                b,
                est,
                format!("earlier of entry date + 300 days and liquidation - 15 days: liquidation - 15 days ({how})"),
            )),
            (Some(a), _) => Some((
                a,
                f.entry_date_estimated,
                format!(
                    "earlier of entry date + 300 days and liquidation - 15 days: entry date + 300 days{entry_note}"
                ),
            )),
            (None, Some((b, est, how))) => Some((b, est, format!("liquidation - 15 days ({how})"))),
            (None, None) => None,
        }
    };
    if let Some((legal, est, rule)) = pick {
        out.push(action(cal, DeadlineKind::Psc, legal, est, rule, f.psc_filed));
    }
}

/// TIB (entry type 23): export or destroy within 1 year from the date of importation (6 months
/// for HTS 9813.00.75), unless extended (19 CFR 10.31; 02-entry-summary-create-update, 10-record
/// TIB Declaration Indicator, page 34; usage note j, page 159; AE Table 9, page 219).
fn tib_export(f: &DeadlineFacts, cal: &Calendar, out: &mut Vec<Deadline>) {
    if f.entry_type.trim() != "23" {
        return;
    }
    let base = f.importation_date.map(|d| (d, false)).or(f.entry_date.map(|d| (d, true)));
    let Some((base, est)) = base else { return };
    let (months, what) = if f.tib_six_months { (6, "6 months (9813.00.75)") } else { (12, "1 year") };
    if let Some(legal) = plus_months(base, months) {
        let mut rule = format!("importation date + {what}: export or destroy under the TIB bond (19 CFR 10.31)");
        if est {
            rule.push_str(" (importation date unknown: entry date used)");
        }
        out.push(action(cal, DeadlineKind::TibExport, legal, est, rule, f.tib_closed));
    }
}

/// Post-importation preference claim (19 U.S.C. 1520(d)): within 1 year from the date of
/// importation, under the agreements of grammars/codes/fta_1520d.toml. The last day shown is
/// the day before the anniversary: CBP denies claims filed on the anniversary itself.
fn fta_claim(f: &DeadlineFacts, cal: &Calendar, out: &mut Vec<Deadline>) {
    if !f.fta_claimable {
        return;
    }
    let base = f.importation_date.map(|d| (d, false)).or(f.entry_date.map(|d| (d, true)));
    let Some((base, est)) = base else { return };
    if let Some(legal) = plus_months(base, 12).and_then(|d| d.pred_opt()) {
        let rule = if est {
            "day before the 1st anniversary of importation (importation date unknown: entry date used; 19 U.S.C. 1520(d))"
        } else {
            "day before the 1st anniversary of importation (19 U.S.C. 1520(d))"
        };
        out.push(action(cal, DeadlineKind::FtaClaim, legal, est, rule.into(), f.fta_claimed));
    }
}

/// Reconciliation: 12 months from the earliest importation for FTA issues, 21 months from
/// the earliest flagged summary for value/classification/9802. One at a time: the earliest
/// open one (so filing the FTA reconciliation moves the deadline to the other issues).
fn reconciliation(f: &DeadlineFacts, cal: &Calendar, out: &mut Vec<Deadline>) {
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
}

/// Protest: 180 days from liquidation (19 U.S.C. 1514(c)(3); 19 CFR 174.12(e); 90 days for
/// entries before 2004-12-18); a reliquidation opens its own window (`reliquidation-protest`)
/// and does not replace the first. A protest on file (ER JJ or JC `YS`) marks the liquidation
/// window done; it covers the reliquidation only when filed on or after it.
fn protests(f: &DeadlineFacts, cal: &Calendar, out: &mut Vec<Deadline>) {
    let old = NaiveDate::from_ymd_opt(PROTEST_180_FROM.0, PROTEST_180_FROM.1, PROTEST_180_FROM.2);
    let days = if f.entry_date.zip(old).is_some_and(|(e, o)| e < o) { 90 } else { 180 };
    if let Some(l) = f.liquidation_date {
        if let Some(legal) = plus_days(l, days) {
            out.push(action(
                cal,
                DeadlineKind::Protest,
                legal,
                false,
                format!("liquidation date + {days} days (19 U.S.C. 1514(c)(3))"),
                f.protest_filed,
            ));
        }
    }
    if let Some(r) = f.reliquidation_date {
        if let Some(legal) = plus_days(r, days) {
            let done =
                f.protest_filed && (f.liquidation_date.is_none() || f.protest_filed_date.is_some_and(|p| p >= r));
            out.push(action(
                cal,
                DeadlineKind::ReliquidationProtest,
                legal,
                false,
                format!("reliquidation date + {days} days (19 U.S.C. 1514(c)(3))"),
                done,
            ));
        }
    }
}
