//! Per entry: duty paid per program from the filing's tariff lines, and each remedy's state
//! today (open until a date, closed and why, excluded and why, not yet, done), the nearest
//! deadline and the conflicts between remedies. A pure function of the entry, its computed
//! deadlines (crate::deadline) and the day.

use super::result::ClaimStatus;
use super::{ExclusionKind, Program, Remedies, Remedy, StartFact};
use crate::deadline::{Deadline, DeadlineKind};
use crate::domain::{Entry, LiquidationStatus, Summary, SummaryStatus};
use chrono::{Months, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

/// Duty on the entry under one duty program (`ordinary`: chapters 1-97; `chapter-99-other`: a
/// chapter 99 heading no program lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramDuty {
    pub program: String,
    pub duty_cents: i64,
}

/// Where a remedy stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemedyState {
    /// Can be used today, until `until` (when known).
    Open,
    /// Its window has not begun (a protest before liquidation, a program not yet opened).
    NotYet,
    /// Its window has passed.
    Closed,
    /// The entry is of a kind the remedy does not take.
    Excluded,
    /// Already used (PSC filed, protest on file, claim made).
    Done,
    /// Does not apply to this entry (no facts for it, or nothing it could recover).
    NotApplicable,
}

impl RemedyState {
    pub fn as_str(self) -> &'static str {
        match self {
            RemedyState::Open => "open",
            RemedyState::NotYet => "not-yet",
            RemedyState::Closed => "closed",
            RemedyState::Excluded => "excluded",
            RemedyState::Done => "done",
            RemedyState::NotApplicable => "not-applicable",
        }
    }
}

/// One remedy (or refund program) for one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemedyStatus {
    pub remedy: String,
    pub name: String,
    pub state: RemedyState,
    /// The last day to act (open) or the day the window closed (closed).
    pub until: Option<NaiveDate>,
    /// Days from today to `until` (negative once past).
    pub days_left: Option<i64>,
    /// Duty the remedy can reach: the refunded programs' duty for a refund program, the
    /// entry's whole duty for the others (an upper bound).
    pub amount_cents: i64,
    /// Why, in words: "liquidated 94 days ago: past CAPE's 80 days".
    pub why: String,
    pub source: String,
    /// Things entrywatch cannot see that may still exclude the entry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cautions: Vec<String>,
}

/// Recovery for one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryRecovery {
    pub entry: String,
    pub importer: String,
    pub entry_type: String,
    pub entry_date: Option<NaiveDate>,
    pub liquidation: LiquidationStatus,
    pub liquidation_date: Option<NaiveDate>,
    /// Duty per program from the filing used (the last accepted one, else the last filed).
    pub duty: Vec<ProgramDuty>,
    pub total_duty_cents: i64,
    pub remedies: Vec<RemedyStatus>,
    /// The open remedy with the nearest last day.
    pub nearest: Option<(String, NaiveDate)>,
    pub conflicts: Vec<String>,
    /// What the refund programs' result files say of the entry's claims (crate::recovery::result).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<super::result::ClaimState>,
}

impl EntryRecovery {
    /// Duty under one duty program.
    pub fn duty_of(&self, program: &str) -> i64 {
        self.duty.iter().filter(|d| d.program == program).map(|d| d.duty_cents).sum()
    }

    /// The status of one remedy or program.
    pub fn remedy(&self, id: &str) -> Option<&RemedyStatus> {
        self.remedies.iter().find(|r| r.remedy == id)
    }
}

/// The filing the duty is read from: the last accepted, else the last filed.
fn filing(e: &Entry) -> Option<&Summary> {
    e.filings
        .iter()
        .rev()
        .find(|f| f.outcome == SummaryStatus::Accepted)
        .or_else(|| e.filings.last())
        .map(|f| &f.summary)
}

fn days(a: NaiveDate, b: NaiveDate) -> i64 {
    (b - a).num_days()
}

/// The liquidation date when the entry is liquidated.
fn liquidated_on(e: &Entry) -> Option<NaiveDate> {
    (e.liquidation.status == LiquidationStatus::Liquidated).then_some(e.liquidation.date).flatten()
}

/// Duty per program on a filing, in the order of the rules' duty programs, then the rest.
pub fn duty_by_program(rules: &Remedies, s: &Summary) -> Vec<ProgramDuty> {
    let mut by: BTreeMap<String, i64> = BTreeMap::new();
    for l in &s.lines {
        for t in &l.tariffs {
            let p = match rules.duty_program_of(&t.hts) {
                Some(p) => p.id.clone(),
                None if t.hts.trim_start().starts_with("99") => "chapter-99-other".to_string(),
                None => "ordinary".to_string(),
            };
            let v = by.entry(p).or_default();
            *v = v.saturating_add(t.duty_cents);
        }
    }
    let mut out: Vec<ProgramDuty> = rules
        .duty_programs
        .iter()
        .filter_map(|p| by.remove(&p.id).map(|c| ProgramDuty { program: p.id.clone(), duty_cents: c }))
        .collect();
    out.extend(by.into_iter().map(|(program, duty_cents)| ProgramDuty { program, duty_cents }));
    out
}

/// Whether the filing declares any heading of the given duty programs.
fn declares(rules: &Remedies, s: &Summary, programs: &[String]) -> bool {
    s.lines
        .iter()
        .flat_map(|l| &l.tariffs)
        .any(|t| rules.duty_program_of(&t.hts).is_some_and(|p| programs.contains(&p.id)))
}

/// Whether a protest is open or suspended on the entry (ER JJ OP/SP, 03-entry-summary-query
/// page 43), or ER says one is on file (`YS`) without JJ detail.
pub fn open_protest(e: &Entry) -> bool {
    if e.protests.is_empty() {
        return e.liquidation.protest == "YS";
    }
    e.protests.iter().any(|p| matches!(p.status.as_str(), "OP" | "SP" | ""))
}

fn status(
    r: &Remedy,
    state: RemedyState,
    until: Option<NaiveDate>,
    today: NaiveDate,
    amount: i64,
    why: String,
) -> RemedyStatus {
    RemedyStatus {
        remedy: r.id.clone(),
        name: r.name.clone(),
        state,
        until,
        days_left: until.map(|u| days(today, u)),
        amount_cents: amount,
        why,
        source: r.source.clone(),
        cautions: Vec::new(),
    }
}

fn standard(
    r: &Remedy,
    e: &Entry,
    s: Option<&Summary>,
    deadlines: &[Deadline],
    today: NaiveDate,
    total: i64,
) -> RemedyStatus {
    if let Some(kind) = r.deadline {
        let Some(d) = deadlines.iter().find(|d| d.kind == kind) else {
            let why = match kind.as_str() {
                "protest" | "reliquidation-protest" if liquidated_on(e).is_none() => "opens at liquidation".to_string(),
                "psc" if liquidated_on(e).is_some() => "closed: the entry is liquidated".to_string(),
                _ => format!("no {kind} window for this entry"),
            };
            let state = if why.starts_with("opens") {
                RemedyState::NotYet
            } else if why.starts_with("closed") {
                RemedyState::Closed
            } else {
                RemedyState::NotApplicable
            };
            return status(r, state, None, today, total, why);
        };
        if d.done {
            return status(r, RemedyState::Done, Some(d.due), today, total, format!("done: {}", d.rule));
        }
        // Open while the legal date has not passed; the day to act by is `due` (moved to the
        // working day before when the legal date is not one).
        return if today <= d.legal {
            let est = if d.estimated { " (estimated)" } else { "" };
            status(r, RemedyState::Open, Some(d.due), today, total, format!("open until {}{est}: {}", d.due, d.rule))
        } else {
            status(r, RemedyState::Closed, Some(d.legal), today, total, format!("closed on {}: {}", d.legal, d.rule))
        };
    }
    let start = match r.start {
        Some(StartFact::ImportDate) => s.and_then(|s| s.import_date).or(e.entry_date),
        Some(StartFact::EntryDate) => e.entry_date,
        Some(StartFact::LiquidationDate) => liquidated_on(e),
        None => None,
    };
    let Some(start) = start else {
        return status(r, RemedyState::NotApplicable, None, today, total, "its start date is not known".into());
    };
    let end = match (r.days, r.years) {
        (Some(n), _) => chrono::Duration::try_days(n).and_then(|x| start.checked_add_signed(x)),
        (_, Some(y)) => start.checked_add_months(Months::new(y.saturating_mul(12))),
        _ => None,
    };
    let Some(end) = end else {
        return status(r, RemedyState::NotApplicable, None, today, total, "no window".into());
    };
    let mut st = if today <= end {
        status(r, RemedyState::Open, Some(end), today, total, format!("open until {end} ({start} + window)"))
    } else {
        status(r, RemedyState::Closed, Some(end), today, total, format!("closed on {end}"))
    };
    if let Some(n) = &r.note {
        st.cautions.push(n.clone());
    }
    st
}

fn program(
    p: &Program,
    rules: &Remedies,
    e: &Entry,
    s: Option<&Summary>,
    deadlines: &[Deadline],
    today: NaiveDate,
) -> RemedyStatus {
    let amount: i64 = s.map_or(0, |s| {
        duty_by_program(rules, s).iter().filter(|d| p.refunds.contains(&d.program)).map(|d| d.duty_cents).sum()
    });
    let mk = |state, until: Option<NaiveDate>, why: String| RemedyStatus {
        remedy: p.id.clone(),
        name: p.name.clone(),
        state,
        until,
        days_left: until.map(|u| days(today, u)),
        amount_cents: amount,
        why,
        source: p.window_source.clone(),
        cautions: Vec::new(),
    };
    // What the program itself said comes first: an entry it accepted (or refunded, or holds
    // for decision) is done, whatever entrywatch computes of its window.
    let claim = super::result::claim(&e.refund_claims, &p.id);
    if let Some(c) = claim.filter(|c| c.status.holds_entry() || c.status == ClaimStatus::Submitted) {
        let what = match c.status {
            ClaimStatus::Submitted => "claim submitted, awaiting the decision",
            ClaimStatus::Refunded => "refunded",
            _ => "accepted the entry",
        };
        let mut st = mk(RemedyState::Done, None, format!("done: {} {what}: {}", p.id.to_uppercase(), c.summary()));
        st.source = "the program's result file".into();
        return st;
    }
    let rejected = claim.filter(|c| matches!(c.status, ClaimStatus::Rejected | ClaimStatus::Unknown));
    // Exclusions first: an excluded entry is never listed, whatever its window.
    for x in &p.exclusion {
        let hit = match x.kind {
            ExclusionKind::ReconciliationFlagged => {
                e.filings.iter().any(|f| !f.summary.reconciliation.trim().is_empty() || f.summary.recon_fta)
            }
            ExclusionKind::EntryType => x.types.iter().any(|t| t == e.entry_type.trim()),
            ExclusionKind::OpenProtest => open_protest(e),
            ExclusionKind::NoRefundedDuty => !s.is_some_and(|s| declares(rules, s, &p.refunds)),
            ExclusionKind::NotKnown => false,
        };
        if hit {
            let state = if x.kind == ExclusionKind::NoRefundedDuty {
                RemedyState::NotApplicable
            } else {
                RemedyState::Excluded
            };
            let mut st = mk(state, None, format!("excluded: {}", x.text));
            st.source.clone_from(&x.source);
            return st;
        }
    }
    let mut st = if let Some(liq) = liquidated_on(e) {
        let after = days(liq, today);
        let last = chrono::Duration::try_days(p.days_after_liquidation).and_then(|x| liq.checked_add_signed(x));
        if after <= p.days_after_liquidation {
            mk(
                RemedyState::Open,
                last,
                format!(
                    "liquidated {after} days ago: within {}'s {} days",
                    p.id.to_uppercase(),
                    p.days_after_liquidation
                ),
            )
        } else {
            mk(
                RemedyState::Closed,
                last,
                format!(
                    "liquidated {after} days ago: past {}'s {} days",
                    p.id.to_uppercase(),
                    p.days_after_liquidation
                ),
            )
        }
    } else if p.unliquidated {
        let held = match e.liquidation.status {
            LiquidationStatus::Extended if p.held_refund_when.iter().any(|h| h == "extended") => {
                "; extended: refunded when it liquidates"
            }
            LiquidationStatus::Suspended if p.held_refund_when.iter().any(|h| h == "suspended") => {
                "; suspended: refunded when it liquidates"
            }
            _ => "",
        };
        // The last day follows the liquidation date: scheduled (ER) or estimated (deadline rules).
        let liq = deadlines.iter().find(|d| d.kind == DeadlineKind::Liquidation);
        let last = liq.and_then(|d| d.due.checked_add_signed(chrono::Duration::try_days(p.days_after_liquidation)?));
        let basis = match liq {
            Some(d) if d.estimated => format!(" (liquidation estimated {})", d.due),
            Some(d) => format!(" (liquidation scheduled {})", d.due),
            None => String::new(),
        };
        mk(
            RemedyState::Open,
            last,
            format!("unliquidated: open until {} days after liquidation{basis}{held}", p.days_after_liquidation),
        )
    } else {
        mk(RemedyState::NotApplicable, None, "takes liquidated entries only".into())
    };
    if st.state == RemedyState::Open && today < p.opened {
        st.state = RemedyState::NotYet;
        st.why = format!("{} opens {}; {}", p.id.to_uppercase(), p.opened, st.why);
    }
    if st.state == RemedyState::Open {
        st.cautions.extend(p.exclusion.iter().filter(|x| x.kind == ExclusionKind::NotKnown).map(|x| x.text.clone()));
    }
    if let Some(c) = rejected {
        st.why = format!("{}; {} said {}", st.why, p.id.to_uppercase(), c.summary());
    }
    st
}

/// Evaluate one entry's recovery on `today`, given its computed deadlines.
pub fn evaluate(rules: &Remedies, e: &Entry, deadlines: &[Deadline], today: NaiveDate) -> EntryRecovery {
    let s = filing(e);
    let duty = s.map(|s| duty_by_program(rules, s)).unwrap_or_default();
    let total: i64 = duty.iter().map(|d| d.duty_cents).fold(0i64, i64::saturating_add);
    let mut remedies: Vec<RemedyStatus> =
        rules.programs.iter().map(|p| program(p, rules, e, s, deadlines, today)).collect();
    remedies.extend(rules.remedies.iter().map(|r| standard(r, e, s, deadlines, today, total)));
    let nearest = remedies
        .iter()
        .filter(|r| r.state == RemedyState::Open)
        .filter_map(|r| r.until.map(|u| (u, r.remedy.clone())))
        .min()
        .map(|(u, id)| (id, u));
    let mut conflicts = Vec::new();
    for p in &rules.programs {
        let Some(ps) = remedies.iter().find(|r| r.remedy == p.id) else { continue };
        if matches!(ps.state, RemedyState::Open | RemedyState::NotYet) && ps.amount_cents > 0 {
            for b in &p.blocks {
                if remedies.iter().any(|r| &r.remedy == b && r.state == RemedyState::Open) {
                    conflicts.push(format!(
                        "once {} accepts the entry a {b} on it is refused until liquidation ({}): file the {b} first",
                        p.id.to_uppercase(),
                        p.blocks_source
                    ));
                }
            }
        }
        if let Some(c) = super::result::claim(&e.refund_claims, &p.id).filter(|c| c.status.holds_entry()) {
            for b in &p.blocks {
                if remedies.iter().any(|r| &r.remedy == b && r.state == RemedyState::Open) {
                    let n =
                        if c.claim_number.is_empty() { String::new() } else { format!(" (claim {})", c.claim_number) };
                    conflicts.push(format!(
                        "{} accepted the entry{n}: a {b} on it is refused until liquidation ({})",
                        p.id.to_uppercase(),
                        p.blocks_source
                    ));
                }
            }
        }
        if ps.state == RemedyState::Excluded && open_protest(e) && ps.why.contains("protest") {
            conflicts.push(format!("an open protest keeps the entry out of {}", p.id.to_uppercase()));
        }
    }
    if e.entry_type.trim() == "47" {
        conflicts.push("a drawback entry (type 47): its designated import entries are out of refund programs".into());
    }
    EntryRecovery {
        entry: e.entry.as_ref().map(ToString::to_string).unwrap_or_default(),
        importer: e.importer.clone(),
        entry_type: e.entry_type.clone(),
        entry_date: e.entry_date,
        liquidation: e.liquidation.status,
        liquidation_date: e.liquidation.date,
        duty,
        total_duty_cents: total,
        remedies,
        nearest,
        conflicts,
        claims: e.refund_claims.clone(),
    }
}

/// The claim-window deadlines (`refund-claim`) of the refund programs this entry can use:
/// not excluded, declaring a refunded duty, with a known last day (liquidation + the
/// program's days; for an unliquidated entry the scheduled or estimated liquidation, marked
/// estimated when that is). Shown on the last working day on or before the last day.
pub fn refund_deadlines(
    rules: &Remedies,
    e: &Entry,
    deadlines: &[Deadline],
    cal: &crate::calendar::Calendar,
) -> Vec<Deadline> {
    let s = filing(e);
    let liq = deadlines.iter().find(|d| d.kind == DeadlineKind::Liquidation);
    rules
        .programs
        .iter()
        .filter_map(|p| {
            // Evaluated as of the earliest day: the window's last day does not depend on today.
            let st = program(p, rules, e, s, deadlines, NaiveDate::MIN);
            let last = st.until?;
            if !matches!(st.state, RemedyState::Open | RemedyState::NotYet) || st.amount_cents <= 0 {
                return None;
            }
            let estimated = liquidated_on(e).is_none() && liq.is_none_or(|d| d.estimated);
            let basis = match liquidated_on(e) {
                Some(l) => format!("liquidation {l}"),
                None => format!("liquidation {}", liq.map_or("unknown".to_string(), |d| d.due.to_string())),
            };
            let rule = format!(
                "{}: {basis} + {} days ({}); {} at stake",
                p.name,
                p.days_after_liquidation,
                p.window_source,
                crate::report::money(st.amount_cents)
            );
            Some(crate::deadline::rules::action(cal, DeadlineKind::RefundClaim, last, estimated, rule, false))
        })
        .collect()
}
