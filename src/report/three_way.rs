//! `report three-way`: approved pre-entry, broker's filing and ACE's own record (ES-003) side
//! by side, one row per finding (unreported entries, broker/ACE and approved/ACE differences,
//! ACE liquidations and PSCs); read straight from the store's facts, streamed entry by entry.

use super::{col, Cell, Report};
use crate::ace::compare::{evaluate, ThreeWay};
use crate::config::Variance;
use crate::domain::Entry;
use crate::entry_number::EntryNumber;
use crate::store::Store;
use chrono::NaiveDate;

/// The filters `report three-way` takes.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub importer: Option<String>,
    /// Filer code (`EEE`) or the filer name ACE shows, case-insensitive.
    pub broker: Option<String>,
}

fn key(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        let d = e.entry_date.or_else(|| e.ace.as_ref().and_then(|a| a.entry.entry_date));
        if self.from.is_some_and(|f| d.is_none_or(|d| d < f)) || self.to.is_some_and(|t| d.is_none_or(|d| d > t)) {
            return false;
        }
        if let Some(i) = self.importer.as_deref().filter(|s| !s.trim().is_empty()) {
            let ace_imp = e.ace.as_ref().map(|a| key(&a.entry.importer)).unwrap_or_default();
            if key(i) != key(&e.importer) && key(i) != ace_imp {
                return false;
            }
        }
        if let Some(b) = self.broker.as_deref().filter(|s| !s.trim().is_empty()) {
            let filer = e.entry.as_ref().map(|n| n.filer.clone()).unwrap_or_default();
            let name = e.ace.as_ref().map(|a| a.entry.filer_name.clone()).unwrap_or_default();
            if !b.trim().eq_ignore_ascii_case(&filer) && !b.trim().eq_ignore_ascii_case(name.trim()) {
                return false;
            }
        }
        true
    }
}

pub const COLUMNS: [(&str, usize); 14] = [
    ("entry", 13),
    ("importer", 13),
    ("broker", 6),
    ("entry_date", 10),
    ("finding", 21),
    ("severity", 5),
    ("line", 4),
    ("tariff", 6),
    ("field", 17),
    ("approved", 12),
    ("broker_value", 12),
    ("ace", 12),
    ("ace_file", 10),
    ("ace_row", 7),
];

/// The rows of one entry's findings.
pub fn rows(e: &Entry, t: &ThreeWay) -> Vec<Vec<Cell>> {
    let entry = e.entry.as_ref().map(|n| n.to_string()).unwrap_or_default();
    let filer = e.entry.as_ref().map(|n| n.filer.clone()).unwrap_or_default();
    let opt = |o: &Option<String>| o.clone().map_or(Cell::Empty, Cell::Text);
    t.findings
        .iter()
        .map(|f| {
            vec![
                Cell::text(&entry),
                Cell::text(&e.importer),
                Cell::text(&filer),
                Cell::opt_date(e.entry_date),
                Cell::text(f.kind.as_str()),
                Cell::text(f.severity.as_str()),
                if f.line == 0 { Cell::Empty } else { Cell::Int(i64::from(f.line)) },
                if f.ordinal == 0 { Cell::Empty } else { Cell::Int(i64::from(f.ordinal)) },
                Cell::text(&f.field),
                opt(&f.approved),
                opt(&f.broker),
                opt(&f.ace),
                Cell::text(&t.ace_file),
                if f.ace_row == 0 { Cell::Empty } else { Cell::Int(f.ace_row as i64) },
            ]
        })
        .collect()
}

/// Entries of the store with ACE's record, derived one at a time (unreadable ones are logged and skipped).
pub fn entries<'a>(store: &'a Store) -> impl Iterator<Item = Entry> + 'a {
    crate::store::entries::scan_facts(store).filter_map(|item| match item {
        Ok((k, facts)) => {
            let en: EntryNumber = k.parse().ok()?;
            facts
                .iter()
                .any(|f| matches!(f.kind, crate::domain::FactKind::AceReported { .. }))
                .then(|| Entry::derive(&en, &facts))
        }
        Err(e) => {
            tracing::warn!(target: "entrywatch", error = %e, "EntryUnreadable");
            None
        }
    })
}

/// The report over entries (each with ACE's record), evaluated with the variance settings.
pub fn report<'a>(entries: impl Iterator<Item = Entry> + 'a, cfg: &'a Variance, filter: Filter) -> Report<'a> {
    Report {
        name: "three-way",
        columns: COLUMNS.iter().map(|(n, w)| col(n, *w)).collect(),
        rows: Box::new(
            entries
                .filter(move |e| filter.matches(e))
                .flat_map(move |e| evaluate(&e, cfg).map(|t| rows(&e, &t)).unwrap_or_default()),
        ),
    }
}
