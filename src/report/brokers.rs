//! `report brokers`: the broker scorecard — entries, filings per entry (replacements),
//! rejection rate, messages per entry, variance rate, median and p90 cycle times (arrival →
//! release, release → summary acceptance, entry → liquidation) and how often the broker's
//! copy differs from ACE's own record (ES-003, docs/ace.md). Also served at `/brokers`.

use super::{col, Cell, Params, Report};
use crate::view::{median, minutes_between, percentile, EntryView, LiquidationStatus, VarianceStatus};
use crate::view::{EntryFilter, ReadModel};
use serde::Serialize;
use std::collections::BTreeMap;

/// One broker's scorecard. Counts are exact; cycle times are minutes (days for liquidation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BrokerScore {
    pub broker: String,
    pub entries: i64,
    pub filings: i64,
    pub rejected_entries: i64,
    pub messages: i64,
    /// Entries compared with a pre-entry (variance none, minor or major).
    pub compared_entries: i64,
    /// Compared entries with a minor or major variance.
    pub variance_entries: i64,
    pub arrival_to_release_median_minutes: Option<i64>,
    pub arrival_to_release_p90_minutes: Option<i64>,
    pub release_to_acceptance_median_minutes: Option<i64>,
    pub release_to_acceptance_p90_minutes: Option<i64>,
    pub entry_to_liquidation_median_days: Option<i64>,
    pub entry_to_liquidation_p90_days: Option<i64>,
    /// Filed entries ACE's own record (ES-003) was compared with.
    pub ace_compared_entries: i64,
    /// Of those, entries where the broker's copy and ACE differ (`ace-broker-mismatch`).
    pub ace_differs_entries: i64,
    /// Lines (entry + line number) where the broker's copy and ACE differ.
    pub ace_differs_lines: i64,
}

impl BrokerScore {
    /// Rejection rate in basis points of entries (`None` with no entries).
    pub fn rejection_bp(&self) -> Option<i64> {
        (self.entries > 0).then(|| self.rejected_entries * 10000 / self.entries)
    }
    /// Variance rate in basis points of compared entries.
    pub fn variance_bp(&self) -> Option<i64> {
        (self.compared_entries > 0).then(|| self.variance_entries * 10000 / self.compared_entries)
    }
    /// "Differs from ACE" in basis points of the entries compared with ACE.
    pub fn ace_differs_bp(&self) -> Option<i64> {
        (self.ace_compared_entries > 0).then(|| self.ace_differs_entries * 10000 / self.ace_compared_entries)
    }
}

/// One entry's share of its broker's scorecard: counters (name, amount) and the cycle-time
/// samples. The scorecard sums these; the query index keeps the same sums per broker.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScoreParts {
    pub counts: Vec<(&'static str, i64)>,
    pub release_minutes: Option<i64>,
    pub acceptance_minutes: Option<i64>,
    pub liquidation_days: Option<i64>,
}

/// The counters of [`BrokerScore`], by the names [`ScoreParts`] uses.
pub const COUNTERS: [&str; 9] = [
    "entries",
    "filings",
    "rejected_entries",
    "messages",
    "compared_entries",
    "variance_entries",
    "ace_compared_entries",
    "ace_differs_entries",
    "ace_differs_lines",
];

/// What one entry adds to its broker's scorecard.
pub fn score_parts(e: &EntryView) -> ScoreParts {
    let mut counts = vec![
        ("entries", 1),
        ("filings", e.filings() as i64),
        ("rejected_entries", i64::from(e.ever_rejected())),
        ("messages", e.messages() as i64),
    ];
    match e.variance.status {
        VarianceStatus::None => counts.push(("compared_entries", 1)),
        VarianceStatus::Minor | VarianceStatus::Major => {
            counts.push(("compared_entries", 1));
            counts.push(("variance_entries", 1));
        }
        _ => {}
    }
    // ACE's record against the broker's filing: only entries the broker filed (an entry
    // only ACE knows is an `unreported-entry`, not a broker's difference).
    if e.ace.is_some() && e.totals.is_some() {
        counts.push(("ace_compared_entries", 1));
        let lines: std::collections::BTreeSet<u32> =
            e.three_way.iter().filter(|t| t.kind == "ace-broker-mismatch").map(|t| t.line).collect();
        if !lines.is_empty() {
            counts.push(("ace_differs_entries", 1));
            counts.push(("ace_differs_lines", lines.iter().filter(|l| **l > 0).count().max(1) as i64));
        }
    }
    let liquidation_days = if e.liquidation.status == LiquidationStatus::Liquidated {
        e.liquidation
            .date
            .or(e.timestamps.liquidation.map(|t| t.date_naive()))
            .map(|d| (d - e.entry_date).num_days())
            .filter(|d| *d >= 0)
    } else {
        None
    };
    ScoreParts {
        counts,
        release_minutes: minutes_between(e.timestamps.arrival, e.timestamps.release),
        acceptance_minutes: minutes_between(e.timestamps.release, e.timestamps.summary_accepted),
        liquidation_days,
    }
}

impl BrokerScore {
    /// Add `n` to the counter called `name` (one of [`COUNTERS`]).
    pub fn add_count(&mut self, name: &str, n: i64) {
        let c = match name {
            "entries" => &mut self.entries,
            "filings" => &mut self.filings,
            "rejected_entries" => &mut self.rejected_entries,
            "messages" => &mut self.messages,
            "compared_entries" => &mut self.compared_entries,
            "variance_entries" => &mut self.variance_entries,
            "ace_compared_entries" => &mut self.ace_compared_entries,
            "ace_differs_entries" => &mut self.ace_differs_entries,
            "ace_differs_lines" => &mut self.ace_differs_lines,
            _ => return,
        };
        *c += n;
    }
}

#[derive(Default)]
struct Acc {
    score: BrokerScore,
    release: Vec<i64>,
    acceptance: Vec<i64>,
    liquidation: Vec<i64>,
}

impl Acc {
    fn add(&mut self, e: &EntryView) {
        let p = score_parts(e);
        for (name, n) in p.counts {
            self.score.add_count(name, n);
        }
        self.release.extend(p.release_minutes);
        self.acceptance.extend(p.acceptance_minutes);
        self.liquidation.extend(p.liquidation_days);
    }

    fn finish(mut self) -> BrokerScore {
        for v in [&mut self.release, &mut self.acceptance, &mut self.liquidation] {
            v.sort_unstable();
        }
        let s = &mut self.score;
        s.arrival_to_release_median_minutes = median(&self.release);
        s.arrival_to_release_p90_minutes = percentile(&self.release, 90);
        s.release_to_acceptance_median_minutes = median(&self.acceptance);
        s.release_to_acceptance_p90_minutes = percentile(&self.acceptance, 90);
        s.entry_to_liquidation_median_days = median(&self.liquidation);
        s.entry_to_liquidation_p90_days = percentile(&self.liquidation, 90);
        self.score
    }
}

/// The scorecard of every broker among the filtered entries, by broker name. Unfiltered, a
/// model that keeps the sums (the store's query index) answers without visiting the entries.
pub fn scorecard(model: &dyn ReadModel, filter: &EntryFilter) -> Vec<BrokerScore> {
    if *filter == EntryFilter::default() {
        if let Some(v) = model.broker_scorecard() {
            return v;
        }
    }
    let mut m: BTreeMap<String, Acc> = BTreeMap::new();
    model.visit(filter, &mut |e| {
        let acc = match m.get_mut(e.broker()) {
            Some(a) => a,
            None => m.entry(e.broker().to_string()).or_insert_with(|| Acc {
                score: BrokerScore { broker: e.broker().to_string(), ..BrokerScore::default() },
                ..Acc::default()
            }),
        };
        acc.add(e);
    });
    m.into_values().map(Acc::finish).collect()
}

pub fn report<'a>(model: &'a dyn ReadModel, p: &Params) -> Report<'a> {
    let rows = scorecard(model, &p.filter).into_iter().map(|s| {
        vec![
            Cell::text(&s.broker),
            Cell::Int(s.entries),
            Cell::ratio(s.filings, s.entries),
            Cell::pct(s.rejected_entries, s.entries),
            Cell::ratio(s.messages, s.entries),
            Cell::pct(s.variance_entries, s.compared_entries),
            Cell::opt_hours(s.arrival_to_release_median_minutes),
            Cell::opt_hours(s.arrival_to_release_p90_minutes),
            Cell::opt_hours(s.release_to_acceptance_median_minutes),
            Cell::opt_hours(s.release_to_acceptance_p90_minutes),
            Cell::opt_days(s.entry_to_liquidation_median_days),
            Cell::opt_days(s.entry_to_liquidation_p90_days),
            Cell::Int(s.ace_compared_entries),
            Cell::pct(s.ace_differs_entries, s.ace_compared_entries),
            Cell::Int(s.ace_differs_lines),
        ]
    });
    Report {
        name: "brokers",
        columns: vec![
            col("broker", 8),
            col("entries", 7),
            col("filings_per_entry", 17),
            col("rejection_pct", 13),
            col("messages_per_entry", 18),
            col("variance_pct", 12),
            col("release_median_h", 16),
            col("release_p90_h", 13),
            col("acceptance_median_h", 19),
            col("acceptance_p90_h", 16),
            col("liquidation_median_d", 20),
            col("liquidation_p90_d", 17),
            col("ace_compared", 12),
            col("differs_from_ace_pct", 20),
            col("differs_from_ace_lines", 22),
        ],
        rows: Box::new(rows),
    }
}
