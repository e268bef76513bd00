//! `report rejected`: every rejected entry summary version, and whether and when a later
//! version was accepted (corrected); streamed.

use super::{col, Cell, Params, Report};
use crate::view::{minutes_between, EntryView, ReadModel, SummaryStatus};

/// One row per rejected version of the entry's summary.
pub fn rows(e: &EntryView) -> Vec<Vec<Cell>> {
    let mut out = Vec::new();
    for (i, v) in e.summary_history.iter().enumerate() {
        let Some(rejected) = v.rejected else { continue };
        let corrected = e.summary_history.iter().skip(i + 1).find_map(|w| w.accepted);
        out.push(vec![
            Cell::text(&e.entry),
            Cell::text(&e.importer),
            Cell::text(e.broker()),
            Cell::text(&v.version),
            Cell::text(rejected.to_rfc3339()),
            Cell::text(v.reject_codes.join(" ")),
            Cell::Bool(corrected.is_some()),
            corrected.map_or(Cell::Empty, |c| Cell::text(c.to_rfc3339())),
            Cell::opt_hours(minutes_between(Some(rejected), corrected)),
        ]);
    }
    if out.is_empty() && e.summary.status == SummaryStatus::Rejected {
        out.push(vec![
            Cell::text(&e.entry),
            Cell::text(&e.importer),
            Cell::text(e.broker()),
            Cell::text(&e.summary.version),
            Cell::Empty,
            Cell::Empty,
            Cell::Bool(false),
            Cell::Empty,
            Cell::Empty,
        ]);
    }
    out
}

pub fn report<'a>(model: &'a dyn ReadModel, p: &Params) -> Report<'a> {
    Report {
        name: "rejected",
        columns: vec![
            col("entry", 13),
            col("importer", 13),
            col("broker", 6),
            col("version", 7),
            col("rejected_at", 25),
            col("codes", 5),
            col("corrected", 9),
            col("corrected_at", 25),
            col("hours_to_correct", 16),
        ],
        // Read through the index's posting of the entries that have rows (query::index).
        rows: Box::new(model.entries_marked("report", "rejected", &p.filter).flat_map(|e| rows(&e))),
    }
}
