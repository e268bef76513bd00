//! `report recovery`: per entry, the duty a refund program can reach, the open remedy with the
//! nearest last day, and why the others are closed; with totals by program, by remedy and by
//! deadline week. Built from evaluated entries (crate::recovery), not from the read model:
//! the chapter 99 duty is only in the filings' tariff lines.

use super::{col, Cell, Report};
use crate::calendar::Calendar;
use crate::recovery::{EntryRecovery, Program, Remedies, RemedyState};
use crate::store::{Store, StoreError};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// What the dashboard's Recovery page shows for one program (the rules' first when none is
/// asked): the same totals as `report recovery`, its first rows and how many there are, from
/// the recovery index (crate::query::recovery).
#[derive(Debug, Clone)]
pub struct RecoveryData {
    pub rules: Remedies,
    /// `None` when the rules declare no refund program.
    pub program: Option<Program>,
    pub totals: Totals,
    pub rows: Vec<EntryRecovery>,
    /// Entries the program concerns (the rows are the first of them, by entry number).
    pub count: usize,
    pub today: NaiveDate,
}

impl RecoveryData {
    /// Read `program`'s figures on `today` from the store's recovery index.
    pub fn read(
        store: &Store,
        rules: Remedies,
        cal: &Calendar,
        program: Option<&str>,
        today: NaiveDate,
        rows: usize,
    ) -> Result<RecoveryData, StoreError> {
        let p = program.and_then(|p| rules.program(p)).or_else(|| rules.programs.first()).cloned();
        let (totals, rows, count) = match &p {
            Some(p) => {
                let t = crate::query::recovery::program_totals(store, &rules, cal, p, today)?;
                let rows: Vec<EntryRecovery> = crate::query::recovery::evaluated(store, &rules, cal, &p.id, today)
                    .take(rows)
                    .collect::<Result<_, _>>()?;
                let n = crate::query::recovery::concerned_count(&t);
                (t, rows, n)
            }
            None => (Totals::default(), Vec::new(), 0),
        };
        Ok(RecoveryData { rules, program: p, totals, rows, count, today })
    }
}

/// Whether the entry belongs in a report about `program`: it declares the program's duty.
pub fn concerns(r: &EntryRecovery, program: &Program) -> bool {
    r.remedy(&program.id).is_some_and(|s| s.state != RemedyState::NotApplicable)
}

/// The per-entry rows: entry, importer, type, liquidation, program duty, total duty, the
/// program's state and reason, the nearest open remedy and its last day, conflicts.
pub fn report<'a>(recs: &'a [EntryRecovery], program: &'a Program, today: NaiveDate) -> Report<'a> {
    let rows = recs.iter().filter(move |r| concerns(r, program)).map(move |r| {
        let st = r.remedy(&program.id);
        let claim = crate::recovery::result::claim(&r.claims, &program.id);
        let (nearest, until) =
            r.nearest.clone().map_or((Cell::Empty, Cell::Empty), |(id, d)| (Cell::Text(id), Cell::Date(d)));
        vec![
            Cell::text(&r.entry),
            Cell::text(&r.importer),
            Cell::text(&r.entry_type),
            Cell::text(format!("{:?}", r.liquidation).to_lowercase()),
            Cell::opt_date(r.liquidation_date),
            Cell::Money(st.map_or(0, |s| s.amount_cents)),
            Cell::Money(r.total_duty_cents),
            Cell::text(st.map_or("", |s| s.state.as_str())),
            nearest,
            until,
            Cell::opt_days(r.nearest.as_ref().map(|(_, d)| (*d - today).num_days())),
            Cell::text(st.map(|s| s.why.clone()).unwrap_or_default()),
            Cell::text(r.conflicts.join("; ")),
            Cell::text(claim.map(|c| c.summary()).unwrap_or_default()),
            claim.and_then(|c| c.refunded_cents).map_or(Cell::Empty, Cell::Money),
        ]
    });
    Report {
        name: "recovery",
        columns: vec![
            col("entry", 13),
            col("importer", 13),
            col("type", 4),
            col("liquidation", 12),
            col("liquidated", 10),
            col("refundable", 12),
            col("total_duty", 12),
            col("program_state", 13),
            col("nearest_remedy", 14),
            col("act_by", 10),
            col("days_left", 9),
            col("why", 40),
            col("conflicts", 20),
            col("claim", 20),
            col("refunded", 12),
        ],
        rows: Box::new(rows),
    }
}

/// Money and counts of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sum {
    pub entries: usize,
    pub cents: i64,
}

impl Sum {
    fn add(&mut self, cents: i64) {
        self.entries += 1;
        self.cents = self.cents.saturating_add(cents);
    }
}

/// The totals of `report recovery`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub program: String,
    /// Duty per duty program over the entries concerned.
    pub by_duty_program: BTreeMap<String, Sum>,
    /// The program's money by its state today (open, closed, excluded, not-yet).
    pub by_program_state: BTreeMap<String, Sum>,
    /// Open remedies: entries and the program money they can still reach.
    pub by_open_remedy: BTreeMap<String, Sum>,
    /// Program money by the week (Monday) of the entry's nearest open deadline.
    pub by_deadline_week: BTreeMap<NaiveDate, Sum>,
    /// Claims by the status the program's result files give (accepted, rejected ...): the
    /// money claimed (the file's amount, else the program duty entrywatch computed) and the
    /// refunds received.
    pub claims: BTreeMap<String, ClaimSum>,
}

/// Claimed against refunded, for one claim status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClaimSum {
    pub entries: usize,
    pub claimed_cents: i64,
    pub refunded_cents: i64,
}

/// Totals over the entries concerned by `program`.
pub fn totals(recs: &[EntryRecovery], program: &Program) -> Totals {
    let mut t = Totals { program: program.id.clone(), ..Totals::default() };
    for r in recs.iter().filter(|r| concerns(r, program)) {
        let money = r.remedy(&program.id).map_or(0, |s| s.amount_cents);
        for d in &r.duty {
            t.by_duty_program.entry(d.program.clone()).or_default().add(d.duty_cents);
        }
        if let Some(s) = r.remedy(&program.id) {
            t.by_program_state.entry(s.state.as_str().to_string()).or_default().add(money);
        }
        for s in r.remedies.iter().filter(|s| s.state == RemedyState::Open) {
            t.by_open_remedy.entry(s.remedy.clone()).or_default().add(money);
        }
        if let Some((_, d)) = &r.nearest {
            let monday = *d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
            t.by_deadline_week.entry(monday).or_default().add(money);
        }
        if let Some(c) = crate::recovery::result::claim(&r.claims, &program.id) {
            let s = t.claims.entry(c.status.as_str().to_string()).or_default();
            s.entries += 1;
            s.claimed_cents = s.claimed_cents.saturating_add(c.claimed_cents.unwrap_or(money));
            s.refunded_cents = s.refunded_cents.saturating_add(c.refunded_cents.unwrap_or(0));
        }
    }
    t
}

/// The totals as text, after the rows.
pub fn write_totals_text(t: &Totals, out: &mut dyn Write) -> io::Result<()> {
    let m = super::money;
    writeln!(out)?;
    writeln!(out, "totals ({}):", t.program)?;
    let groups: [(&str, Vec<(String, &Sum)>); 4] = [
        ("duty by program", t.by_duty_program.iter().map(|(k, v)| (k.clone(), v)).collect()),
        ("program money by state", t.by_program_state.iter().map(|(k, v)| (k.clone(), v)).collect()),
        ("program money by open remedy", t.by_open_remedy.iter().map(|(k, v)| (k.clone(), v)).collect()),
        (
            "program money by deadline week",
            t.by_deadline_week.iter().map(|(k, v)| (format!("week of {k}"), v)).collect(),
        ),
    ];
    for (title, rows) in groups {
        writeln!(out, "  {title}:")?;
        if rows.is_empty() {
            writeln!(out, "    none")?;
        }
        for (k, v) in rows {
            writeln!(out, "    {k:<28} {:>6} entries {:>16}", v.entries, m(v.cents))?;
        }
    }
    writeln!(out, "  claims (from the program's result files): claimed / refunded:")?;
    if t.claims.is_empty() {
        writeln!(out, "    none")?;
    }
    for (k, v) in &t.claims {
        writeln!(out, "    {k:<28} {:>6} entries {:>16} {:>16}", v.entries, m(v.claimed_cents), m(v.refunded_cents))?;
    }
    Ok(())
}

/// `--format json`: the entries (every remedy with its state and reason) and the totals.
pub fn write_json(recs: &[EntryRecovery], program: &Program, today: NaiveDate, out: &mut dyn Write) -> io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        program: &'a str,
        today: NaiveDate,
        entries: Vec<&'a EntryRecovery>,
        totals: Totals,
    }
    let doc = Doc {
        program: &program.id,
        today,
        entries: recs.iter().filter(|r| concerns(r, program)).collect(),
        totals: totals(recs, program),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}
