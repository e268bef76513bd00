//! `report entry-summary`: one row per entry (its filed totals) followed by its tariff lines
//! (HTS, origin, value, duty), streamed.

use super::{col, Cell, Params, Report};
use crate::view::{EntryView, ReadModel};

/// Rows of one entry: the entry total, then the lines passing the HTS filter.
pub fn rows(e: &EntryView, p: &Params) -> Vec<Vec<Cell>> {
    let t = e.filed_totals();
    let mut out = vec![vec![
        Cell::text("entry"),
        Cell::text(&e.entry),
        Cell::Date(e.entry_date),
        Cell::text(&e.importer),
        Cell::text(&e.port),
        Cell::text(e.broker()),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Money(t.value_cents),
        Cell::Money(t.duty_cents),
        Cell::Money(t.fees_cents),
    ]];
    for l in e.lines.iter().filter(|l| p.filter.hts_matches(&l.hts)) {
        out.push(vec![
            Cell::text("line"),
            Cell::text(&e.entry),
            Cell::Date(e.entry_date),
            Cell::text(&e.importer),
            Cell::text(&e.port),
            Cell::text(e.broker()),
            Cell::Int(i64::from(l.line)),
            Cell::text(&l.hts),
            Cell::text(&l.origin),
            Cell::Money(l.value_cents),
            Cell::Money(l.duty_cents),
            Cell::Empty,
        ]);
    }
    out
}

pub fn report<'a>(model: &'a dyn ReadModel, p: &Params) -> Report<'a> {
    let p2 = p.clone();
    Report {
        name: "entry-summary",
        columns: vec![
            col("row", 5),
            col("entry", 13),
            col("entry_date", 10),
            col("importer", 13),
            col("port", 4),
            col("broker", 6),
            col("line", 4),
            col("hts", 10),
            col("origin", 6),
            col("value_usd", 12),
            col("duty_usd", 11),
            col("fees_usd", 9),
        ],
        rows: Box::new(model.entries(&p.filter).flat_map(move |e| rows(&e, &p2))),
    }
}
