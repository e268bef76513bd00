//! `report statements`: per statement, its entries, preliminary/final, due and paid, and the
//! amount billed against the filed summaries (entries that disagree are counted).

use super::{col, Cell, Params, Report};
use crate::view::{ReadModel, StatementStatus};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// One statement's accumulated figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementRow {
    pub number: String,
    pub status: StatementStatus,
    pub due: Option<NaiveDate>,
    pub paid: Option<NaiveDate>,
    pub entries: i64,
    /// Sum of the billed amounts the statement lists (entries without an amount count as filed).
    pub billed_cents: i64,
    /// Sum of filed duty + fees.
    pub filed_cents: i64,
    /// Entries whose billed amount differs from their filed duty + fees.
    pub disagreeing: i64,
}

/// Statements of the filtered entries, by number.
pub fn statements(model: &dyn ReadModel, p: &Params) -> Vec<StatementRow> {
    let mut m: BTreeMap<String, StatementRow> = BTreeMap::new();
    model.visit(&p.filter, &mut |e| {
        let Some(s) = &e.statement else { return };
        let t = e.filed_totals();
        let filed = t.duty_cents + t.fees_cents;
        let r = m
            .entry(s.number.clone())
            .or_insert_with(|| StatementRow { number: s.number.clone(), ..Default::default() });
        // A final statement supersedes a preliminary one.
        if r.entries == 0 || s.status == StatementStatus::Final {
            r.status = s.status;
        }
        r.due = r.due.or(s.due);
        r.paid = r.paid.or(s.paid);
        r.entries += 1;
        r.filed_cents += filed;
        r.billed_cents += s.amount_cents.unwrap_or(filed);
        if s.amount_cents.is_some_and(|a| a != filed) {
            r.disagreeing += 1;
        }
    });
    m.into_values().collect()
}

pub fn report<'a>(model: &'a dyn ReadModel, p: &Params) -> Report<'a> {
    let rows = statements(model, p).into_iter().map(|r| {
        vec![
            Cell::text(&r.number),
            Cell::text(r.status.as_str()),
            Cell::opt_date(r.due),
            Cell::opt_date(r.paid),
            Cell::Int(r.entries),
            Cell::Money(r.billed_cents),
            Cell::Money(r.filed_cents),
            Cell::Money(r.billed_cents - r.filed_cents),
            Cell::Int(r.disagreeing),
        ]
    });
    Report {
        name: "statements",
        columns: vec![
            col("statement", 10),
            col("status", 11),
            col("due", 10),
            col("paid", 10),
            col("entries", 7),
            col("billed_usd", 12),
            col("filed_usd", 12),
            col("difference_usd", 14),
            col("disagreeing", 11),
        ],
        rows: Box::new(rows),
    }
}
