//! `report anomalies`: unexpected effective duty rates per HTS, liquidated higher than filed,
//! the same HTS changed repeatedly (systematic classification errors), rejections left
//! uncorrected, holds open longer than N days.
//!
//! Two passes over the model: the first keeps one rate list and one change count per HTS
//! (a store answers it from its index when the report is not filtered), the second streams
//! per-entry findings; the per-HTS findings follow. Unfiltered, a store gives the second pass
//! only the entries its index names as candidates ([`ReadModel::anomaly_candidates`]), so
//! the first page reads about as many entries as it has rows.

use super::{col, Cell, Params, Report};
use crate::view::{median, EntryView, HtsStats, ReadModel, SummaryStatus};
use std::collections::BTreeMap;

/// Effective duty rate in basis points (`None` for a zero value).
pub fn rate_bp(duty_cents: i64, value_cents: i64) -> Option<i64> {
    if value_cents <= 0 {
        return None;
    }
    let (d, v) = (i128::from(duty_cents), i128::from(value_cents));
    i64::try_from((d * 20000 + v) / (2 * v)).ok()
}

fn first_pass(model: &dyn ReadModel, p: &Params) -> HtsStats {
    // Over every entry, a store's index has them already (query::index::hts_stats).
    if p.filter == crate::view::EntryFilter::default() {
        if let Some(stats) = model.hts_stats() {
            return stats;
        }
    }
    let mut rates: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut changed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    model.visit(&p.filter, &mut |e| {
        for l in e.lines.iter().filter(|l| p.filter.hts_matches(&l.hts)) {
            if let Some(r) = rate_bp(l.duty_cents, l.value_cents) {
                rates.entry(l.hts.clone()).or_default().push(r);
            }
            let differs = |o: &Option<String>| o.as_deref().is_some_and(|h| h != l.hts);
            if differs(&l.approved_hts) || differs(&l.liquidated_hts) {
                let v = changed.entry(l.hts.clone()).or_default();
                if v.last() != Some(&e.entry) {
                    v.push(e.entry.clone());
                }
            }
        }
    });
    let median_bp = rates
        .into_iter()
        .filter(|(_, v)| v.len() >= 2)
        .filter_map(|(h, mut v)| {
            v.sort_unstable();
            median(&v).map(|m| (h, m))
        })
        .collect();
    changed.retain(|_, v| v.len() >= 2);
    HtsStats { median_bp, changed }
}

/// `liquidated-higher`: the liquidated duty and fees against the filed ones, when higher
/// (the liquidated fees default to the filed fees when the liquidation has none).
pub fn liquidated_higher(e: &EntryView) -> Option<(i64, i64)> {
    let t = e.filed_totals();
    let d = e.liquidation.duty_cents?;
    let f = e.liquidation.fees_cents.unwrap_or(t.fees_cents);
    let (liq, filed) = (d.saturating_add(f), t.duty_cents.saturating_add(t.fees_cents));
    (liq > filed).then_some((liq, filed))
}

/// `rejection-uncorrected`: the entry's summary stands rejected.
pub fn rejection_uncorrected(e: &EntryView) -> bool {
    e.summary.status == SummaryStatus::Rejected
}

fn pct_bp(bp: i64) -> String {
    Cell::pct(bp, 10000).render()
}

fn entry_rows(e: &EntryView, p: &Params, stats: &HtsStats) -> Vec<Vec<Cell>> {
    let mut out = Vec::new();
    let row = |kind: &str, hts: &str, detail: String| {
        vec![
            Cell::text(kind),
            Cell::text(&e.entry),
            Cell::text(&e.importer),
            Cell::text(e.broker()),
            Cell::text(hts),
            Cell::text(detail),
        ]
    };
    for l in e.lines.iter().filter(|l| p.filter.hts_matches(&l.hts)) {
        if let (Some(r), Some(&m)) = (rate_bp(l.duty_cents, l.value_cents), stats.median_bp.get(&l.hts)) {
            if r.saturating_sub(m).saturating_abs() > p.rate_tolerance_bp {
                out.push(row(
                    "duty-rate",
                    &l.hts,
                    format!("line {}: {}% against {}% usual for this HTS", l.line, pct_bp(r), pct_bp(m)),
                ));
            }
        }
    }
    if let Some((liq, filed)) = liquidated_higher(e) {
        out.push(row(
            "liquidated-higher",
            "",
            format!(
                "liquidated {} against filed {} (+{})",
                super::money(liq),
                super::money(filed),
                super::money(liq - filed)
            ),
        ));
    }
    if rejection_uncorrected(e) {
        let since = e.summary_history.iter().rev().find_map(|v| v.rejected);
        let detail = match since {
            Some(s) => format!("summary {} rejected {} and not corrected", e.summary.version, s.format("%Y-%m-%d")),
            None => format!("summary {} rejected and not corrected", e.summary.version),
        };
        out.push(row("rejection-uncorrected", "", detail));
    }
    for h in &e.release.open_holds {
        let days = (p.now - h.since).num_days();
        if days > p.hold_days {
            out.push(row("hold-open", "", format!("hold {} ({}) open {days} days", h.code, h.agency)));
        }
    }
    out
}

pub fn report<'a>(model: &'a dyn ReadModel, p: &Params) -> Report<'a> {
    let stats = first_pass(model, p);
    let changed: Vec<Vec<Cell>> = stats
        .changed
        .iter()
        .map(|(hts, entries)| {
            vec![
                Cell::text("hts-changed"),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::text(hts),
                Cell::text(format!("changed on {} entries: {}", entries.len(), entries.join(" "))),
            ]
        })
        .collect();
    let p2 = p.clone();
    // Unfiltered, the store's index names the entries that can have rows (a superset: each
    // candidate is still decided by `entry_rows`), in entry order.
    // (Hold dates come from files' two-digit years: a million days either side covers them.)
    let hold_before = p.now - chrono::Duration::days(p.hold_days.clamp(-1_000_000, 1_000_000));
    let candidates = if p.filter == crate::view::EntryFilter::default() {
        model.anomaly_candidates(&stats, hold_before, p.rate_tolerance_bp)
    } else {
        None
    };
    let entries = candidates.unwrap_or_else(|| model.entries(&p.filter));
    Report {
        name: "anomalies",
        columns: vec![
            col("kind", 21),
            col("entry", 13),
            col("importer", 13),
            col("broker", 6),
            col("hts", 10),
            col("detail", 6),
        ],
        rows: Box::new(entries.flat_map(move |e| entry_rows(&e, &p2, &stats)).chain(changed)),
    }
}
