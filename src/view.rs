//! The read model of the query side: `EntryView` (the `entry --json` document plus optional
//! extras), the `ReadModel` trait the store implements, filters, and an in-memory model.
//!
//! Reports and the dashboard read only this module, never the store: the store implements
//! [`ReadModel`]; tests and benchmarks use [`MemoryModel`].

use crate::entry_number::EntryNumber;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub use crate::domain::{LiquidationStatus, ReleaseStatus, StatementStatus, SummaryStatus, VarianceStatus};
pub use crate::money::Cents;

/// A code with CBP's words for it (a rejection reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CodeNarrative {
    pub code: String,
    #[serde(default)]
    pub narrative: String,
}

/// The entry summary: current status and version, why it was rejected, how many filings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Summary {
    pub status: SummaryStatus,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub rejection_reasons: Vec<CodeNarrative>,
    /// Filings seen (original and replacements).
    #[serde(default)]
    pub filings: usize,
}

/// One open hold (holds are a set; a release does not clear them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Hold {
    pub code: String,
    #[serde(default)]
    pub agency: String,
    pub since: DateTime<FixedOffset>,
    /// The code list the code is from.
    #[serde(default)]
    pub list: String,
    /// CBP's words with the hold.
    #[serde(default)]
    pub narrative: String,
    /// What the hold means (CBP's words when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    /// `info | warning | critical` from the code list / rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

impl Hold {
    /// A hold counts as critical unless the rules said otherwise.
    pub fn is_critical(&self) -> bool {
        self.severity.as_deref().is_none_or(|s| s.eq_ignore_ascii_case("critical"))
    }
}

/// An agency's latest word on the cargo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AgencyState {
    pub code: String,
    #[serde(default)]
    pub narrative: String,
    pub at: DateTime<FixedOffset>,
}

/// Release status with the open holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Release {
    pub status: ReleaseStatus,
    #[serde(default)]
    pub open_holds: Vec<Hold>,
    #[serde(default)]
    pub released: bool,
    #[serde(default)]
    pub release_date: Option<NaiveDate>,
    #[serde(default)]
    pub agencies: BTreeMap<String, AgencyState>,
}

/// The daily or monthly statement the entry is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Statement {
    pub number: String,
    pub status: StatementStatus,
    #[serde(default)]
    pub due: Option<NaiveDate>,
    #[serde(default)]
    pub print_date: Option<NaiveDate>,
    #[serde(default)]
    pub duty: Cents,
    #[serde(default)]
    pub tax: Cents,
    #[serde(default)]
    pub fees: Cents,
    /// The periodic monthly statement that carries it.
    #[serde(default)]
    pub monthly: Option<String>,
    /// When it was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid: Option<NaiveDate>,
    /// The amount billed for this entry on the statement (duty + tax + fees), cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_cents: Option<i64>,
}

/// Liquidation status, date, CBP's amounts and reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Liquidation {
    pub status: LiquidationStatus,
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub protest: String,
    #[serde(default)]
    pub extension_suspension: Vec<String>,
    #[serde(default)]
    pub extension_suspension_date: Option<NaiveDate>,
    #[serde(default)]
    pub duty: Cents,
    #[serde(default)]
    pub tax: Cents,
    #[serde(default)]
    pub fees: Cents,
    #[serde(default)]
    pub interest: Cents,
    #[serde(default)]
    pub adcvd: Cents,
    /// CBP's liquidation reason codes.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Liquidated duty and fees, cents: present once an ER reported the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duty_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reason_codes: Vec<String>,
}

/// Variance against the approved pre-entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Variance {
    pub status: VarianceStatus,
    #[serde(default)]
    pub differences: u32,
    /// How many of the differences are major.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<u32>,
}

/// A computed deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Deadline {
    pub kind: String,
    pub due: NaiveDate,
    #[serde(default)]
    pub estimated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The date the rule gives, before any working-day adjustment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal: Option<NaiveDate>,
    /// Handled (PSC filed, protest filed, statement paid, ...): shown, never reminded.
    #[serde(default)]
    pub done: bool,
}

/// Where an event came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Source {
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub inbox: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sha256: String,
}

/// One event of the timeline (audit trail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Event {
    pub at: DateTime<FixedOffset>,
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    /// What the message said, in a line.
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub source: Source,
    /// The detail when there is one (what the dashboard shows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A CBP notice (UC) on the entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Notice {
    pub at: DateTime<FixedOffset>,
    pub disposition: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub line: String,
    #[serde(default)]
    pub remarks: Vec<String>,
}

/// One tariff of a filed line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiledTariff {
    pub hts: String,
    pub duty: Cents,
    /// Whole dollars.
    pub value: i64,
    /// Hundredths, printed as two decimals.
    pub quantity: Cents,
    #[serde(default)]
    pub uom: String,
}

/// One line of the current filing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiledLine {
    pub line: u32,
    #[serde(default)]
    pub country_of_origin: String,
    #[serde(default)]
    pub country_of_export: String,
    #[serde(default)]
    pub spi: String,
    #[serde(default)]
    pub tariffs: Vec<FiledTariff>,
}

/// The current filing as the broker filed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filing {
    #[serde(default)]
    pub broker_ref: String,
    #[serde(default)]
    pub mode_of_transport: String,
    #[serde(default)]
    pub payment_type: String,
    pub total_duty: Cents,
    pub total_fees: Cents,
    #[serde(default)]
    pub fees: BTreeMap<String, Cents>,
    #[serde(default)]
    pub lines: Vec<FiledLine>,
}

/// One line of the approved pre-entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreEntryLine {
    pub line: u32,
    #[serde(default)]
    pub po_number: String,
    #[serde(default)]
    pub po_line: String,
    #[serde(default)]
    pub invoice_number: String,
    #[serde(default)]
    pub hts: String,
    /// Whole dollars.
    #[serde(default)]
    pub value: i64,
    #[serde(default)]
    pub duty: Cents,
}

/// The importer's approved pre-entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreEntry {
    #[serde(default)]
    pub importer: String,
    #[serde(default)]
    pub broker_ref: String,
    #[serde(default)]
    pub lines: Vec<PreEntryLine>,
}

/// Extra: one tariff line of the filed summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Line {
    pub line: u32,
    pub hts: String,
    #[serde(default)]
    pub origin: String,
    #[serde(default)]
    pub value_cents: i64,
    #[serde(default)]
    pub duty_cents: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_line: Option<String>,
    /// The HTS on the approved pre-entry, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_hts: Option<String>,
    /// The HTS CBP liquidated the line under, when it changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidated_hts: Option<String>,
}

/// Extra: filed totals, cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Totals {
    #[serde(default)]
    pub duty_cents: i64,
    #[serde(default)]
    pub fees_cents: i64,
    #[serde(default)]
    pub value_cents: i64,
}

/// Extra: one version of the entry summary as filed, with CBP's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SummaryVersion {
    pub version: String,
    #[serde(default)]
    pub filed: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub accepted: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub rejected: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reject_codes: Vec<String>,
}

/// Extra: key timestamps of the entry's life.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Timestamps {
    #[serde(default)]
    pub arrival: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub release: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub summary_accepted: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub liquidation: Option<DateTime<FixedOffset>>,
}

/// One entry: what `entrywatch entry ENTRY --json` prints (its serde form; the interface.md
/// keys and more), what `/api/entries/ENTRY` answers, what the dashboard's pages, the reports
/// and the calendar feed render. Built once from the entry's facts by `query::entry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EntryView {
    pub entry: String,
    pub filer: String,
    pub importer: String,
    pub port: String,
    pub entry_type: String,
    /// The entry date; for an entry known only from release messages, the day of its first
    /// message (`entry_date_estimated`).
    pub entry_date: NaiveDate,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub entry_date_estimated: bool,
    #[serde(default)]
    pub broker_ref: String,
    #[serde(default)]
    pub summary: Summary,
    #[serde(default)]
    pub release: Release,
    #[serde(default)]
    pub statement: Option<Statement>,
    #[serde(default)]
    pub liquidation: Liquidation,
    #[serde(default)]
    pub notices: Vec<Notice>,
    #[serde(default)]
    pub filing: Option<Filing>,
    #[serde(default)]
    pub pre_entry: Option<PreEntry>,
    #[serde(default)]
    pub variance: Variance,
    /// Every deadline of the entry (done ones too), soonest first.
    #[serde(default)]
    pub deadlines: Vec<Deadline>,
    #[serde(default)]
    pub events: Vec<Event>,
    /// ACE's own record and the three-way comparison, once an ES-003 export listed the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ace: Option<serde_json::Value>,
    /// Refund program claims (CAPE ...), as the latest result file says (docs/recovery.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refund_claims: Vec<crate::recovery::result::ClaimState>,
    /// The broker (filer code or partner name); defaults to `filer` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
    /// The inbox the filings came through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox: Option<String>,
    /// Importer name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub summary_history: Vec<SummaryVersion>,
    #[serde(default)]
    pub timestamps: Timestamps,
    /// ACE's record in short (the export, its row, ACE's liquidation facts), for the pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ace_side: Option<AceSide>,
    /// The three-way findings: approved / broker (AE) / ACE per differing field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub three_way: Vec<ThreeWayRow>,
    /// Other entries sharing a link with this one, by link kind (docs/affected.md); filled where
    /// one entry is shown (`entry`, `/api/entries/ENTRY`, the entry page), not in lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

/// ACE's record of an entry: the export it came from and the liquidation facts it states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AceSide {
    pub file: String,
    pub inbox: String,
    /// The row of the export the entry's first tariff row was on.
    pub row: usize,
    /// How many exports listed the entry.
    pub exports: usize,
    pub rows: usize,
    pub liquidation_status: String,
    pub liquidation_date: Option<NaiveDate>,
    pub final_liquidation: String,
    pub psc: bool,
}

/// One three-way finding with the three values side by side (blank where a side has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ThreeWayRow {
    pub kind: String,
    pub severity: String,
    /// 0 for entry-level findings.
    pub line: u32,
    pub tariff: u32,
    pub field: String,
    pub approved: Option<String>,
    pub broker: Option<String>,
    pub ace: Option<String>,
    pub ace_row: usize,
}

/// The entries sharing one link (at most a bounded number shown; `count` is all of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Related {
    /// `bill`, `container`, `po`, `po-line`, `hts`, `manufacturer`.
    pub kind: String,
    /// In words: `bill of lading`.
    pub title: String,
    pub value: String,
    pub entries: Vec<String>,
    pub count: usize,
}

impl EntryView {
    /// The broker this entry is scored against: `broker`, else the filer code.
    pub fn broker(&self) -> &str {
        self.broker.as_deref().unwrap_or(&self.filer)
    }

    /// Filed totals: `totals`, else the sum of the lines.
    pub fn filed_totals(&self) -> Totals {
        self.totals.unwrap_or_else(|| Totals {
            duty_cents: self.lines.iter().map(|l| l.duty_cents).sum(),
            fees_cents: 0,
            value_cents: self.lines.iter().map(|l| l.value_cents).sum(),
        })
    }

    /// Number of summary filings (original + replacements): at least 1.
    pub fn filings(&self) -> usize {
        self.summary_history.len().max(1)
    }

    /// Number of messages about this entry: distinct (file, line) sources of its events.
    pub fn messages(&self) -> usize {
        // Quadratic without allocating: entries carry a handful of events.
        self.events
            .iter()
            .enumerate()
            .filter(|(i, e)| !self.events.iter().take(*i).any(|p| p.source == e.source))
            .count()
    }

    /// Whether the entry was ever rejected.
    pub fn ever_rejected(&self) -> bool {
        self.summary.status == SummaryStatus::Rejected || self.summary_history.iter().any(|v| v.rejected.is_some())
    }
}

/// The canonical key of an entry as printed (`EEE-1234567-3`); any accepted spelling works.
pub fn entry_key(s: &str) -> String {
    s.parse::<EntryNumber>().map(|e| e.to_string()).unwrap_or_else(|_| s.trim().to_string())
}

/// `report anomalies`' statistics over the entries it reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HtsStats {
    /// Median effective rate (bp) per HTS, over lines with a value; only with at least 2 lines.
    pub median_bp: BTreeMap<String, i64>,
    /// HTS → the entries where it was changed (approved or liquidated HTS differs); only HTS
    /// changed on at least 2 entries.
    pub changed: BTreeMap<String, Vec<String>>,
}

/// A filter over entries (reports, `/entries`, `/api/entries`). Empty fields match all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntryFilter {
    /// Entry date on or after.
    pub from: Option<NaiveDate>,
    /// Entry date on or before.
    pub to: Option<NaiveDate>,
    pub port: Option<String>,
    pub importer: Option<String>,
    pub broker: Option<String>,
    /// An HTS number or prefix (digits; dots ignored) any line must start with.
    pub hts: Option<String>,
    /// A summary, release, liquidation or variance status (e.g. `rejected`, `held`).
    pub status: Option<String>,
}

fn nonempty(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl EntryFilter {
    /// Whether an entry passes the filter.
    pub fn matches(&self, e: &EntryView) -> bool {
        if self.from.is_some_and(|d| e.entry_date < d) || self.to.is_some_and(|d| e.entry_date > d) {
            return false;
        }
        if nonempty(&self.port).is_some_and(|p| p != e.port) {
            return false;
        }
        if nonempty(&self.importer).is_some_and(|p| p != e.importer) {
            return false;
        }
        if nonempty(&self.broker)
            .is_some_and(|b| !b.eq_ignore_ascii_case(e.broker()) && !b.eq_ignore_ascii_case(&e.filer))
        {
            return false;
        }
        if let Some(h) = nonempty(&self.hts) {
            let prefix: String = h.chars().filter(char::is_ascii_digit).collect();
            if !e
                .lines
                .iter()
                .any(|l| l.hts.chars().filter(char::is_ascii_digit).collect::<String>().starts_with(&prefix))
            {
                return false;
            }
        }
        if let Some(s) = nonempty(&self.status) {
            let s = s.to_ascii_lowercase();
            let any = [
                e.summary.status.as_str(),
                e.release.status.as_str(),
                e.liquidation.status.as_str(),
                e.variance.status.as_str(),
            ]
            .contains(&s.as_str())
                || (s == "open-holds" && !e.release.open_holds.is_empty());
            if !any {
                return false;
            }
        }
        true
    }

    /// Whether an HTS number passes the `hts` part of the filter (line-level reports).
    pub fn hts_matches(&self, hts: &str) -> bool {
        match nonempty(&self.hts) {
            None => true,
            Some(h) => {
                let prefix: String = h.chars().filter(char::is_ascii_digit).collect();
                hts.chars().filter(char::is_ascii_digit).collect::<String>().starts_with(&prefix)
            }
        }
    }
}

/// Operational counters for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub files_processed: u64,
    pub files_quarantined: u64,
    pub alerts_queued: u64,
    pub alerts_sent: u64,
    pub alerts_failed: u64,
    /// Total time spent parsing, seconds.
    pub parse_seconds_total: f64,
    pub store_bytes: u64,
    pub entries: u64,
}

/// An open hold with its entry (overview).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldRow {
    pub entry: String,
    pub importer: String,
    pub port: String,
    pub broker: String,
    #[serde(flatten)]
    pub hold: Hold,
}

/// A deadline with its entry (overview, `/deadlines`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlineRow {
    pub entry: String,
    pub importer: String,
    #[serde(flatten)]
    pub deadline: Deadline,
}

/// Cycle times for one month, minutes (arrival→release, release→summary acceptance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrendPoint {
    /// First day of the month.
    pub month: NaiveDate,
    pub entries: u64,
    pub release_median_minutes: Option<i64>,
    pub release_p90_minutes: Option<i64>,
    pub acceptance_median_minutes: Option<i64>,
}

/// The query interface of the store. Only `entries`, `entry` and `metrics` are required; the
/// aggregate queries have scanning defaults that a store with indexes should override.
pub trait ReadModel: Send + Sync {
    /// Entries passing the filter, in entry-number order, streamed.
    fn entries(&self, filter: &EntryFilter) -> Box<dyn Iterator<Item = EntryView> + '_>;
    /// Entries passing the filter that carry a mark the store indexes (a facet value such as
    /// `("status", "liquidated")` or `("report", "rejected")`), in entry-number order, so a
    /// report whose rows come from few entries reads only those. The caller still decides
    /// each row; a model without the index gives every entry passing the filter.
    fn entries_marked(
        &self,
        _facet: &str,
        _value: &str,
        filter: &EntryFilter,
    ) -> Box<dyn Iterator<Item = EntryView> + '_> {
        self.entries(filter)
    }
    /// `report anomalies`' statistics over every entry (median rate in bp per HTS, the HTS
    /// changed on two or more entries with those entries) when the model keeps them (the
    /// store's index); `None` means visit the entries.
    fn hts_stats(&self) -> Option<HtsStats> {
        None
    }
    /// `report anomalies` over every entry: the entries that can have rows (liquidated higher
    /// than filed, a rejection not corrected, a hold open since before `hold_before`, a line
    /// rate more than `tolerance_bp` from its HTS's median in `stats`), in entry-number order,
    /// when the model indexes them (a superset: the report decides each row); `None` means
    /// every entry.
    fn anomaly_candidates(
        &self,
        _stats: &HtsStats,
        _hold_before: DateTime<FixedOffset>,
        _tolerance_bp: i64,
    ) -> Option<Box<dyn Iterator<Item = EntryView> + '_>> {
        None
    }
    /// One entry by any accepted spelling of its number.
    fn entry(&self, key: &str) -> Option<EntryView>;
    fn metrics(&self) -> Metrics;

    /// Visit the entries passing the filter by reference (grouped reports, the scorecard); a
    /// model holding entries in memory overrides this to avoid a copy per entry.
    fn visit(&self, filter: &EntryFilter, f: &mut dyn FnMut(&EntryView)) {
        for e in self.entries(filter) {
            f(&e);
        }
    }

    /// Open holds, oldest first (only critical ones when asked): the first `limit` and the total.
    fn open_holds(&self, critical_only: bool, limit: usize) -> Page<HoldRow> {
        let mut v: Vec<HoldRow> = self
            .entries(&EntryFilter::default())
            .flat_map(|e| hold_rows(&e))
            .filter(|h| !critical_only || h.hold.is_critical())
            .collect();
        v.sort_by(|a, b| a.hold.since.cmp(&b.hold.since).then_with(|| a.entry.cmp(&b.entry)));
        Page::of(v, limit)
    }

    /// Deadlines due within `[from, to]`, soonest first: the first `limit` and the total.
    fn deadlines_between(&self, from: NaiveDate, to: NaiveDate, limit: usize) -> Page<DeadlineRow> {
        let mut v: Vec<DeadlineRow> = self
            .entries(&EntryFilter::default())
            .flat_map(|e| deadline_rows(&e))
            .filter(|d| d.deadline.due >= from && d.deadline.due <= to)
            .collect();
        v.sort_by(|a, b| a.deadline.due.cmp(&b.deadline.due).then_with(|| a.entry.cmp(&b.entry)));
        Page::of(v, limit)
    }

    /// Messages (events) per day within `[from, to]`, every day present (zeros included).
    fn message_volume(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, u64)> {
        let mut m: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for e in self.entries(&EntryFilter::default()) {
            for ev in &e.events {
                *m.entry(ev.at.date_naive()).or_default() += 1;
            }
        }
        fill_days(&m, from, to)
    }

    /// Cycle-time trend per month of arrival, oldest first.
    fn cycle_trend(&self) -> Vec<TrendPoint> {
        trend_from(self.entries(&EntryFilter::default()))
    }

    /// The broker scorecard of all entries from kept sums, when the model keeps them (the
    /// store's query index); `None` means visit the entries (`report::brokers::scorecard`).
    fn broker_scorecard(&self) -> Option<Vec<crate::report::brokers::BrokerScore>> {
        None
    }

    /// Duty recovery of `program` (the first when `None`) as `report recovery` computes it, on the
    /// local day of `now`, with its first `rows` entries; `None` for a
    /// model that does not hold the entries' filings (the dashboard then says so).
    fn recovery(
        &self,
        _now: DateTime<FixedOffset>,
        _program: Option<&str>,
        _rows: usize,
    ) -> Option<crate::report::recovery::RecoveryData> {
        None
    }
}

/// The first rows of a longer list, and how long the list is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub total: usize,
    pub rows: Vec<T>,
}

impl<T> Page<T> {
    /// Keep the first `limit` of `all`.
    pub fn of(mut all: Vec<T>, limit: usize) -> Page<T> {
        let total = all.len();
        all.truncate(limit);
        Page { total, rows: all }
    }
}

/// The hold rows of one entry.
pub fn hold_rows(e: &EntryView) -> Vec<HoldRow> {
    e.release
        .open_holds
        .iter()
        .map(|h| HoldRow {
            entry: e.entry.clone(),
            importer: e.importer.clone(),
            port: e.port.clone(),
            broker: e.broker().to_string(),
            hold: h.clone(),
        })
        .collect()
}

/// The deadline rows of one entry.
pub fn deadline_rows(e: &EntryView) -> Vec<DeadlineRow> {
    e.deadlines
        .iter()
        .filter(|d| !d.done)
        .map(|d| DeadlineRow { entry: e.entry.clone(), importer: e.importer.clone(), deadline: d.clone() })
        .collect()
}

fn fill_days(m: &BTreeMap<NaiveDate, u64>, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, u64)> {
    from.iter_days().take_while(|d| *d <= to).map(|d| (d, m.get(&d).copied().unwrap_or(0))).collect()
}

/// Minutes between two instants (`None` when either is missing or the order is reversed).
pub fn minutes_between(a: Option<DateTime<FixedOffset>>, b: Option<DateTime<FixedOffset>>) -> Option<i64> {
    let m = (b? - a?).num_minutes();
    (m >= 0).then_some(m)
}

/// The `q` quantile (0..=100, nearest-rank) of sorted values.
pub fn percentile(sorted: &[i64], pct: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Median by the lower-middle element for even counts (so values stay integers).
pub fn median(sorted: &[i64]) -> Option<i64> {
    percentile(sorted, 50)
}

fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn trend_from<E: std::borrow::Borrow<EntryView>>(it: impl Iterator<Item = E>) -> Vec<TrendPoint> {
    let mut months: BTreeMap<NaiveDate, (u64, Vec<i64>, Vec<i64>)> = BTreeMap::new();
    for e in it {
        let e = e.borrow();
        let start = e.timestamps.arrival.map(|a| a.date_naive()).unwrap_or(e.entry_date);
        let slot = months.entry(month_of(start)).or_default();
        slot.0 += 1;
        if let Some(m) = minutes_between(e.timestamps.arrival, e.timestamps.release) {
            slot.1.push(m);
        }
        if let Some(m) = minutes_between(e.timestamps.release, e.timestamps.summary_accepted) {
            slot.2.push(m);
        }
    }
    months
        .into_iter()
        .map(|(month, (entries, mut rel, mut acc))| {
            rel.sort_unstable();
            acc.sort_unstable();
            TrendPoint {
                month,
                entries,
                release_median_minutes: median(&rel),
                release_p90_minutes: percentile(&rel, 90),
                acceptance_median_minutes: median(&acc),
            }
        })
        .collect()
}

/// Why a folder of `entry --json` documents could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not an entry document: {source}")]
    Json { path: String, source: serde_json::Error },
}

/// A real in-memory read model with the indexes a store would keep: entries by key, open
/// holds, deadlines by date, message volume per day, the cycle-time trend.
#[derive(Debug, Default)]
pub struct MemoryModel {
    entries: Vec<EntryView>,
    by_key: HashMap<String, usize>,
    holds: Vec<(usize, usize)>,
    deadlines: Vec<(NaiveDate, usize, usize)>,
    volume: BTreeMap<NaiveDate, u64>,
    trend: Vec<TrendPoint>,
    metrics: Metrics,
}

impl MemoryModel {
    /// Build from entries (sorted by entry number; a later duplicate replaces an earlier one).
    pub fn new(entries: Vec<EntryView>) -> MemoryModel {
        let mut map: BTreeMap<String, EntryView> = BTreeMap::new();
        for mut e in entries {
            e.entry = entry_key(&e.entry);
            map.insert(e.entry.clone(), e);
        }
        let entries: Vec<EntryView> = map.into_values().collect();
        let mut m = MemoryModel { by_key: HashMap::with_capacity(entries.len()), ..MemoryModel::default() };
        for (i, e) in entries.iter().enumerate() {
            m.by_key.insert(e.entry.clone(), i);
            for j in 0..e.release.open_holds.len() {
                m.holds.push((i, j));
            }
            for (j, d) in e.deadlines.iter().enumerate().filter(|(_, d)| !d.done) {
                m.deadlines.push((d.due, i, j));
            }
            for ev in &e.events {
                *m.volume.entry(ev.at.date_naive()).or_default() += 1;
            }
        }
        m.holds.sort_by_key(|&(i, j)| entries.get(i).and_then(|e| e.release.open_holds.get(j)).map(|h| h.since));
        m.deadlines.sort_unstable();
        m.trend = trend_from(entries.iter());
        m.metrics.entries = entries.len() as u64;
        m.entries = entries;
        m
    }

    /// Parse each JSON document (one entry each, or an array of entries).
    pub fn from_json_docs<'a>(docs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<MemoryModel, LoadError> {
        let mut out = Vec::new();
        for (name, text) in docs {
            let v: serde_json::Value =
                serde_json::from_str(text).map_err(|source| LoadError::Json { path: name.to_string(), source })?;
            if v.is_array() {
                let many: Vec<EntryView> =
                    serde_json::from_value(v).map_err(|source| LoadError::Json { path: name.to_string(), source })?;
                out.extend(many);
            } else {
                out.push(
                    serde_json::from_value(v).map_err(|source| LoadError::Json { path: name.to_string(), source })?,
                );
            }
        }
        Ok(MemoryModel::new(out))
    }

    /// Load every `*.json` file of a folder (each an `entry --json` document or an array).
    pub fn from_dir(dir: &Path) -> Result<MemoryModel, LoadError> {
        let io = |source| LoadError::Io { path: dir.display().to_string(), source };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|d| d.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        let mut texts = Vec::new();
        for p in &paths {
            let t =
                std::fs::read_to_string(p).map_err(|source| LoadError::Io { path: p.display().to_string(), source })?;
            texts.push((p.display().to_string(), t));
        }
        MemoryModel::from_json_docs(texts.iter().map(|(a, b)| (a.as_str(), b.as_str())))
    }

    /// Replace the operational counters served at `/metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> MemoryModel {
        self.metrics = Metrics { entries: self.entries.len() as u64, ..metrics };
        self
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl ReadModel for MemoryModel {
    fn entries(&self, filter: &EntryFilter) -> Box<dyn Iterator<Item = EntryView> + '_> {
        let f = filter.clone();
        Box::new(self.entries.iter().filter(move |e| f.matches(e)).cloned())
    }

    fn entry(&self, key: &str) -> Option<EntryView> {
        self.by_key.get(&entry_key(key)).and_then(|&i| self.entries.get(i)).cloned()
    }

    fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    fn visit(&self, filter: &EntryFilter, f: &mut dyn FnMut(&EntryView)) {
        self.entries.iter().filter(|e| filter.matches(e)).for_each(f);
    }

    fn open_holds(&self, critical_only: bool, limit: usize) -> Page<HoldRow> {
        let holds = self.holds.iter().filter_map(|&(i, j)| {
            let e = self.entries.get(i)?;
            let h = e.release.open_holds.get(j)?;
            (!critical_only || h.is_critical()).then_some((e, h))
        });
        let total = holds.clone().count();
        let rows = holds
            .take(limit)
            .map(|(e, h)| HoldRow {
                entry: e.entry.clone(),
                importer: e.importer.clone(),
                port: e.port.clone(),
                broker: e.broker().to_string(),
                hold: h.clone(),
            })
            .collect();
        Page { total, rows }
    }

    fn deadlines_between(&self, from: NaiveDate, to: NaiveDate, limit: usize) -> Page<DeadlineRow> {
        let start = self.deadlines.partition_point(|(d, _, _)| *d < from);
        let end = self.deadlines.partition_point(|(d, _, _)| *d <= to).max(start);
        let rows = self.deadlines[start..end]
            .iter()
            .take(limit)
            .filter_map(|&(_, i, j)| {
                let e = self.entries.get(i)?;
                Some(DeadlineRow {
                    entry: e.entry.clone(),
                    importer: e.importer.clone(),
                    deadline: e.deadlines.get(j)?.clone(),
                })
            })
            .collect();
        Page { total: end - start, rows }
    }

    fn message_volume(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, u64)> {
        fill_days(&self.volume, from, to)
    }

    fn cycle_trend(&self) -> Vec<TrendPoint> {
        self.trend.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{
      "entry": "EEE12345673", "filer": "EEE", "importer": "12-345678900", "port": "2704",
      "entry_type": "01", "entry_date": "2026-02-02",
      "summary": { "status": "accepted", "version": "00100" },
      "release": { "status": "held",
                   "open_holds": [ { "code": "1H", "agency": "CBP", "since": "2026-02-03T10:12:00-05:00" } ] },
      "statement": { "number": "2726041A01", "status": "preliminary", "due": "2026-02-17" },
      "liquidation": { "status": "unliquidated", "date": null },
      "variance": { "status": "no-pre-entry", "differences": 0 },
      "deadlines": [ { "kind": "psc", "due": "2026-11-26", "estimated": false } ],
      "events": [ { "at": "2026-02-03T10:12:00-05:00", "kind": "hold-placed", "code": "1H",
                    "source": { "file": "a.txt", "line": 3 } } ]
    }"#;

    #[test]
    fn interface_document_deserialises_and_keys_are_canonical() {
        let m = MemoryModel::from_json_docs([("doc", DOC)]).unwrap();
        let e = m.entry("EEE 1234567 3").unwrap();
        assert_eq!(e.entry, "EEE-1234567-3");
        assert_eq!(e.release.status, ReleaseStatus::Held);
        assert_eq!(e.variance.status, VarianceStatus::NoPreEntry);
        assert_eq!(e.broker(), "EEE");
        assert_eq!(e.messages(), 1);
        assert_eq!(m.open_holds(false, 10).total, 1);
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(m.deadlines_between(d, d, 10).rows.len(), 1);
        assert_eq!(m.deadlines_between(d, d, 0), Page { total: 1, rows: vec![] });
        let next = d.succ_opt().unwrap();
        assert_eq!(m.deadlines_between(next, next, 10).total, 0);
        assert_eq!(m.deadlines_between(next, d, 10).total, 0);
    }

    #[test]
    fn a_status_no_version_writes_is_an_error_naming_the_document() {
        // One status enum (the domain's): a document from elsewhere with another spelling is
        // refused with its name, never shown as a status that does not exist.
        let doc = DOC.replace("\"held\"", "\"something-new\"");
        let err = MemoryModel::from_json_docs([("doc", doc.as_str())]).unwrap_err().to_string();
        assert!(err.contains("doc") && err.contains("something-new"), "{err}");
    }

    #[test]
    fn percentiles_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(median(&v), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }
}
