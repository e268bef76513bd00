//! The `index` table: indexes and aggregates of the query side, written in each file's
//! transaction from the entry's view (so they can never disagree with it), read by the
//! dashboard, `/api`, reports and the reminder scheduler. Key formats, declared once:
//!
//! - `c|<entry>` → [`Contribution`]: what the entry added below, taken out again when it changes.
//! - `h|<since>|<entry>|<i>` → `HoldRow`: open holds, oldest first; `k|...` the critical ones.
//! - `d|<due>|<entry>|<i>` → [`IndexedDeadline`]: open deadlines, soonest first.
//! - `v|<day>` → events (messages) on that day.
//! - `m|<month>` → entries arriving in the month; `mr|<month>|<minutes>` and
//!   `ma|<month>|<minutes>` → how many entries took that many minutes from arrival to release
//!   and from release to summary acceptance (multisets, for exact percentiles).
//! - `f|<facet>|<value>|<entry>` → `()`: entries by importer, port, broker and status (in
//!   entry order, for filtered lists).
//! - `b|<broker>|<counter>` → the broker scorecard's sums; `bm|<broker>|<metric>|<value>` →
//!   how many of the broker's entries took that many minutes (days for liquidation).
//! - `f|anomaly|liquidated-higher|<entry>`, `f|anomaly|rejection-uncorrected|<entry>` → `()`,
//!   `ah|<entry>` → the oldest open hold's start (Unix seconds), `al|<hts>|<rate bp>|<entry>`
//!   → `()`: `report anomalies`' candidates ([`anomaly_candidates`]); with `ar|<hts>|<rate
//!   bp>` → how many lines have that rate and `ac|<hts>|<entry>` → the entry whose HTS was
//!   changed, its per-HTS statistics ([`hts_stats`]).
//! - `n|<name>` and `n|<facet>|<value>` → counts: entries, files, holds, critical holds; entries
//!   by importer, port, broker, status and entry day. `nd|<due>` → open deadlines due that day.
//!
//! Days are `YYYY-MM-DD`, months `YYYY-MM-01`; signed numbers (seconds, minutes) are written
//! as 20 digits with the sign bit flipped, so key order is numeric order.

use crate::calendar::Calendar;
use crate::config::Config;
use crate::deadline::EntryDeadline;
use crate::domain::Fact;
use crate::entry_number::EntryNumber;
use crate::store::entries::EntryState;
use crate::store::{Store, StoreError, StoreTx, Table, TxError};
use crate::view::{self, DeadlineRow, EntryView, HoldRow, Page, TrendPoint};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the index needs besides the entry: the time zone, the deadline calendar, the refund
/// programs' rules (the recovery sums, `query::recovery`) and the clock that says which day
/// they are evaluated on.
#[derive(Debug, Clone)]
pub struct IndexCtx {
    pub tz: chrono_tz::Tz,
    pub calendar: Calendar,
    pub remedies: crate::recovery::Remedies,
    pub clock: crate::clock::Clock,
}

impl IndexCtx {
    /// The embedded remedies and the process's clock (`ENTRYWATCH_NOW` or the system's).
    pub fn from_config(cfg: &Config) -> IndexCtx {
        IndexCtx {
            tz: cfg.timezone(),
            calendar: Calendar::from_config(&cfg.deadlines),
            remedies: crate::deadline::facts::embedded_remedies().clone(),
            clock: crate::clock::Clock::from_env().unwrap_or(crate::clock::Clock::System),
        }
    }

    /// The remedies of the grammars in use (an operator's grammar-dir).
    pub fn with_remedies(mut self, r: &crate::recovery::Remedies) -> IndexCtx {
        self.remedies = r.clone();
        self
    }

    pub fn with_clock(mut self, clock: crate::clock::Clock) -> IndexCtx {
        self.clock = clock;
        self
    }

    /// The local day the recovery sums are evaluated on.
    pub fn today(&self) -> NaiveDate {
        crate::deadline::local_today(self.clock.now(), self.tz)
    }
}

/// An open deadline as the index keeps it: the deadline with its entry (what reminders take)
/// and the entry's importer (what the dashboard lists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexedDeadline {
    pub importer: String,
    pub item: EntryDeadline,
}

impl IndexedDeadline {
    /// The dashboard's row.
    pub fn row(&self) -> DeadlineRow {
        let d = &self.item.deadline;
        DeadlineRow {
            entry: self.item.entry.to_string(),
            importer: self.importer.clone(),
            deadline: view::Deadline {
                kind: d.kind.as_str().to_string(),
                due: d.due,
                estimated: d.estimated,
                rule: Some(d.rule.clone()),
                legal: Some(d.legal),
                done: d.done,
            },
        }
    }
}

/// One entry's share of the index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// Keys written for this entry (holds, critical holds, deadlines, postings).
    keys: Vec<String>,
    /// Counters incremented for this entry.
    counts: Vec<String>,
}

/// A signed number as a sortable key part.
fn enc(v: i64) -> String {
    format!("{:020}", (v as u64) ^ (1u64 << 63))
}

fn dec(s: &str) -> Option<i64> {
    s.parse::<u64>().ok().map(|u| (u ^ (1u64 << 63)) as i64)
}

fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn add_count(tx: &mut StoreTx<'_>, key: &str, delta: i64) -> Result<(), TxError> {
    let kb = key.as_bytes();
    let n: i64 = tx.get::<i64>(Table::Index, kb)?.unwrap_or(0).saturating_add(delta);
    if n <= 0 {
        tx.remove(Table::Index, kb)
    } else {
        tx.put(Table::Index, kb, &n)
    }
}

/// The index entries of one entry's view and deadlines: keys with their values, counters.
fn contribution_of(
    key: &str,
    v: &EntryView,
    deadlines: &[EntryDeadline],
) -> (Vec<(String, serde_json::Value)>, Vec<String>) {
    let mut keys: Vec<(String, serde_json::Value)> = Vec::new();
    let mut counts: Vec<String> = vec!["n|entries".to_string()];
    let unit = serde_json::Value::Null;
    for (i, row) in view::hold_rows(v).into_iter().enumerate() {
        let k = format!("{}|{key}|{i:04}", enc(row.hold.since.timestamp()));
        counts.push("n|holds".into());
        if row.hold.is_critical() {
            counts.push("n|holds_critical".into());
            keys.push((format!("k|{k}"), serde_json::to_value(&row).unwrap_or_default()));
        }
        keys.push((format!("h|{k}"), serde_json::to_value(&row).unwrap_or_default()));
    }
    for (i, d) in deadlines.iter().filter(|d| !d.deadline.done).enumerate() {
        let due = d.deadline.due;
        let item = IndexedDeadline { importer: v.importer.clone(), item: d.clone() };
        keys.push((format!("d|{due}|{key}|{i:03}"), serde_json::to_value(&item).unwrap_or_default()));
        counts.push(format!("nd|{due}"));
    }
    for ev in &v.events {
        counts.push(format!("v|{}", ev.at.date_naive()));
    }
    let start = v.timestamps.arrival.map(|a| a.date_naive()).unwrap_or(v.entry_date);
    let month = month_of(start);
    counts.push(format!("m|{month}"));
    if let Some(m) = view::minutes_between(v.timestamps.arrival, v.timestamps.release) {
        counts.push(format!("mr|{month}|{}", enc(m)));
    }
    if let Some(m) = view::minutes_between(v.timestamps.release, v.timestamps.summary_accepted) {
        counts.push(format!("ma|{month}|{}", enc(m)));
    }
    let mut facets: Vec<(&str, String)> = vec![
        ("importer", v.importer.trim().to_string()),
        ("port", v.port.trim().to_string()),
        ("broker", v.broker().trim().to_ascii_uppercase()),
        ("status", v.summary.status.as_str().to_string()),
        ("status", v.release.status.as_str().to_string()),
        ("status", v.liquidation.status.as_str().to_string()),
        ("status", v.variance.status.as_str().to_string()),
    ];
    if !v.release.open_holds.is_empty() {
        facets.push(("status", "open-holds".to_string()));
    }
    // `report anomalies`' per-HTS statistics: each line's effective rate as a multiset per
    // HTS, and the entries where an HTS was changed (approved or liquidated HTS differs).
    for l in &v.lines {
        if let Some(r) = crate::report::anomalies::rate_bp(l.duty_cents, l.value_cents) {
            counts.push(format!("ar|{}|{}", l.hts, enc(r)));
            // The line by (HTS, rate): a median's tails are ranges (anomaly_candidates).
            keys.push((format!("al|{}|{}|{key}", l.hts, enc(r)), unit.clone()));
        }
        let differs = |o: &Option<String>| o.as_deref().is_some_and(|h| h != l.hts);
        if differs(&l.approved_hts) || differs(&l.liquidated_hts) {
            keys.push((format!("ac|{}|{key}", l.hts), serde_json::Value::String(v.entry.clone())));
        }
    }
    // `report anomalies`' per-entry candidates: the oldest open hold (the cut-off in days is
    // the report's, applied when it is read), liquidated higher, rejection not corrected.
    if let Some(since) = v.release.open_holds.iter().map(|h| h.since.timestamp()).min() {
        keys.push((format!("ah|{key}"), serde_json::Value::from(since)));
    }
    if crate::report::anomalies::liquidated_higher(v).is_some() {
        facets.push(("anomaly", "liquidated-higher".to_string()));
    }
    if crate::report::anomalies::rejection_uncorrected(v) {
        facets.push(("anomaly", "rejection-uncorrected".to_string()));
    }
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys.dedup_by(|a, b| a.0 == b.0);
    // The entries `report rejected` has rows for (ReadModel::entries_marked).
    if !crate::report::rejected::rows(v).is_empty() {
        facets.push(("report", "rejected".to_string()));
    }
    facets.sort();
    facets.dedup();
    for (facet, value) in facets {
        keys.push((format!("f|{facet}|{value}|{key}"), unit.clone()));
        counts.push(format!("n|{facet}|{value}"));
    }
    counts.push(format!("n|day|{}", v.entry_date));
    // The broker scorecard's sums and cycle-time multisets (report::brokers::score_parts).
    let broker = v.broker();
    let parts = crate::report::brokers::score_parts(v);
    for (name, n) in parts.counts {
        for _ in 0..n.max(0) {
            counts.push(format!("b|{broker}|{name}"));
        }
    }
    for (metric, sample) in [
        ("release", parts.release_minutes),
        ("acceptance", parts.acceptance_minutes),
        ("liquidation", parts.liquidation_days),
    ] {
        if let Some(x) = sample {
            counts.push(format!("bm|{broker}|{metric}|{}", enc(x)));
        }
    }
    (keys, counts)
}

/// Bring the index up to date with one entry's new state, inside the file's transaction:
/// take out what the entry contributed before, put in what its view contributes now.
pub fn entry_tx(
    tx: &mut StoreTx<'_>,
    ctx: &IndexCtx,
    en: &EntryNumber,
    entry: &EntryState,
    facts: &[Fact],
) -> Result<(), TxError> {
    let key = en.compact();
    let ckey = format!("c|{key}");
    let old = tx.get::<Contribution>(Table::Index, ckey.as_bytes())?.unwrap_or_default();
    // The deadlines are computed once, for the view and for the deadline index.
    let ds = crate::deadline::facts::entry_deadlines(&entry.entry, facts, &ctx.calendar);
    // The recovery sums (query::recovery) from the same deadlines.
    super::recovery::entry_tx(tx, &ctx.remedies, &key, &entry.entry, &ds, ctx.today())?;
    let items: Vec<EntryDeadline> =
        ds.iter().map(|d| EntryDeadline { entry: en.clone(), deadline: d.clone() }).collect();
    let (keys, counts) = match crate::query::entry::entry_view_with(en, entry, facts, ctx.tz, ds) {
        Some(v) => contribution_of(&key, &v, &items),
        // No view (no date at all yet): not listed until it has one.
        None => (Vec::new(), Vec::new()),
    };
    // Only what changed is written: counters by their net change, keys the entry no longer
    // has removed (a file that changes one status moves one posting and two counters).
    let mut delta: BTreeMap<&str, i64> = BTreeMap::new();
    for c in &old.counts {
        *delta.entry(c.as_str()).or_default() -= 1;
    }
    for c in &counts {
        *delta.entry(c.as_str()).or_default() += 1;
    }
    for (c, d) in delta.into_iter().filter(|(_, d)| *d != 0) {
        add_count(tx, c, d)?;
    }
    let fresh: std::collections::BTreeSet<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    for k in old.keys.iter().filter(|k| !fresh.contains(k.as_str())) {
        tx.remove(Table::Index, k.as_bytes())?;
    }
    for (k, val) in &keys {
        tx.put(Table::Index, k.as_bytes(), val)?;
    }
    if keys.is_empty() && counts.is_empty() {
        return tx.remove(Table::Index, ckey.as_bytes());
    }
    let c = Contribution { keys: keys.into_iter().map(|(k, _)| k).collect(), counts };
    tx.put(Table::Index, ckey.as_bytes(), &c)
}

/// Count one committed file (inside its transaction).
pub fn file_tx(tx: &mut StoreTx<'_>) -> Result<(), TxError> {
    add_count(tx, "n|files", 1)
}

/// A counter (0 when absent).
pub fn count(store: &Store, name: &str) -> Result<u64, StoreError> {
    Ok(store.get::<i64>(Table::Index, name.as_bytes())?.unwrap_or(0).max(0) as u64)
}

/// The key just after every key starting with `prefix`.
fn after(prefix: &str) -> Vec<u8> {
    let mut v = prefix.as_bytes().to_vec();
    v.push(0xff);
    v
}

/// Open holds, oldest first (only critical ones when asked): the first `limit` and the total.
pub fn open_holds(store: &Store, critical_only: bool, limit: usize) -> Result<Page<HoldRow>, StoreError> {
    let (prefix, counter) = if critical_only { ("k|", "n|holds_critical") } else { ("h|", "n|holds") };
    let total = count(store, counter)? as usize;
    let mut rows = Vec::new();
    for item in store.scan_prefix::<HoldRow>(Table::Index, prefix.as_bytes()).take(limit) {
        rows.push(item?.1);
    }
    Ok(Page { total, rows })
}

fn day_bounds(prefix: &str, from: NaiveDate, to: NaiveDate) -> (Vec<u8>, Vec<u8>) {
    let end = match to.succ_opt() {
        Some(next) => format!("{prefix}{next}").into_bytes(),
        None => after(prefix),
    };
    (format!("{prefix}{from}").into_bytes(), end)
}

/// Open deadlines due within `[from, to]`, soonest first, each with its entry and importer.
pub fn deadlines(
    store: &Store,
    from: NaiveDate,
    to: NaiveDate,
    limit: usize,
) -> Result<Page<IndexedDeadline>, StoreError> {
    if to < from {
        return Ok(Page { total: 0, rows: Vec::new() });
    }
    let (a, b) = day_bounds("nd|", from, to);
    let mut total = 0usize;
    for item in store.range::<i64>(Table::Index, &a, &b) {
        total = total.saturating_add(item?.1.max(0) as usize);
    }
    let (a, b) = day_bounds("d|", from, to);
    let mut rows = Vec::new();
    for item in store.range::<IndexedDeadline>(Table::Index, &a, &b).take(limit) {
        rows.push(item?.1);
    }
    Ok(Page { total, rows })
}

/// Messages (events) per day within `[from, to]`, every day present (zeros included).
pub fn message_volume(store: &Store, from: NaiveDate, to: NaiveDate) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
    let mut m: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    if to >= from {
        let (a, b) = day_bounds("v|", from, to);
        for item in store.range::<i64>(Table::Index, &a, &b) {
            let (k, n) = item?;
            if let Some(d) = std::str::from_utf8(&k).ok().and_then(|k| k.get(2..)).and_then(|d| d.parse().ok()) {
                m.insert(d, n.max(0) as u64);
            }
        }
    }
    Ok(from.iter_days().take_while(|d| *d <= to).map(|d| (d, m.get(&d).copied().unwrap_or(0))).collect())
}

/// Nearest-rank percentiles (the rule of `view::percentile`) of a multiset stored as
/// `<prefix><encoded value>` → count.
fn multiset_percentiles(store: &Store, prefix: &str, pcts: &[u64]) -> Result<Vec<Option<i64>>, StoreError> {
    let mut values: Vec<(i64, u64)> = Vec::new();
    for item in store.scan_prefix::<i64>(Table::Index, prefix.as_bytes()) {
        let (k, n) = item?;
        if let Some(v) = std::str::from_utf8(&k).ok().and_then(|k| k.get(prefix.len()..)).and_then(dec) {
            values.push((v, n.max(0) as u64));
        }
    }
    Ok(pcts.iter().map(|&pct| nearest_rank(&values, pct)).collect())
}

/// The nearest-rank percentile (`view::percentile`'s rule) of a multiset given as ascending
/// (value, count) pairs; `None` when it is empty.
fn nearest_rank(values: &[(i64, u64)], pct: u64) -> Option<i64> {
    let total: u64 = values.iter().map(|(_, c)| c).sum();
    if total == 0 {
        return None;
    }
    let rank = (pct * total).div_ceil(100).max(1);
    let mut seen = 0;
    values
        .iter()
        .find(|(_, c)| {
            seen += c;
            seen >= rank
        })
        .map(|(v, _)| *v)
}

/// `report anomalies`' statistics over every entry, from the index: the median effective
/// rate (bp) per HTS with at least two rated lines, and the HTS changed on at least two
/// entries with those entries (in entry order).
pub fn hts_stats(store: &Store) -> Result<view::HtsStats, StoreError> {
    let mut rates: BTreeMap<String, Vec<(i64, u64)>> = BTreeMap::new();
    for item in store.scan_prefix::<i64>(Table::Index, b"ar|") {
        let (k, n) = item?;
        let k = String::from_utf8_lossy(&k);
        let Some((hts, v)) = k.get(3..).and_then(|r| r.rsplit_once('|')) else { continue };
        if let Some(v) = dec(v) {
            rates.entry(hts.to_string()).or_default().push((v, n.max(0) as u64));
        }
    }
    let mut medians = BTreeMap::new();
    for (hts, values) in rates {
        if values.iter().map(|(_, c)| c).sum::<u64>() < 2 {
            continue;
        }
        // As view::median: the lower middle for an even count.
        if let Some(v) = nearest_rank(&values, 50) {
            medians.insert(hts, v);
        }
    }
    let mut changed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in store.scan_prefix::<String>(Table::Index, b"ac|") {
        let (k, entry) = item?;
        let k = String::from_utf8_lossy(&k);
        if let Some((hts, _)) = k.get(3..).and_then(|r| r.rsplit_once('|')) {
            changed.entry(hts.to_string()).or_default().push(entry);
        }
    }
    changed.retain(|_, v| v.len() >= 2);
    Ok(view::HtsStats { median_bp: medians, changed })
}

/// `report anomalies`' candidate entries over every entry, in entry order: those with a hold
/// open since before `hold_before` (Unix seconds), liquidated higher than filed, a rejection
/// not corrected, or a line whose rate is more than `tolerance_bp` from its HTS's median in
/// `stats`. A superset of the entries with rows (the report decides each). Each (HTS, rate)
/// beyond the tolerance is a posting in entry order, as are the other three; all are merged
/// lazily, so a first page stops after about as many candidates as it has rows.
pub fn anomaly_candidates<'a>(
    store: &'a Store,
    stats: &view::HtsStats,
    hold_before: i64,
    tolerance_bp: i64,
) -> Result<impl Iterator<Item = String> + 'a, StoreError> {
    // One stream per (HTS, rate) beyond the tolerance: the rates are the HTS's multiset
    // (`ar|`, a key per distinct rate), each rate's lines (`al|<hts>|<rate>|<entry>`) are in
    // entry order, so the merge below reads only as far as the page needs.
    let mut streams: Vec<Box<dyn Iterator<Item = String> + 'a>> = Vec::new();
    for (hts, &m) in &stats.median_bp {
        let rates_prefix = format!("ar|{hts}|");
        for item in store.scan_prefix::<i64>(Table::Index, rates_prefix.as_bytes()) {
            let (k, _) = item?;
            let Some(r) = k.get(rates_prefix.len()..).and_then(|r| std::str::from_utf8(r).ok()).and_then(dec) else {
                continue;
            };
            if r.saturating_sub(m).saturating_abs() <= tolerance_bp {
                continue;
            }
            let lines = format!("al|{hts}|{}|", enc(r));
            let skip = lines.len();
            streams.push(Box::new(store.scan_prefix::<()>(Table::Index, lines.as_bytes()).filter_map(move |item| {
                match item {
                    Ok((k, ())) => Some(String::from_utf8_lossy(k.get(skip..).unwrap_or_default()).into_owned()),
                    Err(err) => {
                        tracing::warn!(target: "entrywatch", error = %err, "IndexUnreadable");
                        None
                    }
                }
            })));
        }
    }
    let held = store.scan_prefix::<i64>(Table::Index, b"ah|").filter_map(move |item| match item {
        Ok((k, since)) => {
            (since < hold_before).then(|| String::from_utf8_lossy(k.get(3..).unwrap_or_default()).into_owned())
        }
        Err(err) => {
            tracing::warn!(target: "entrywatch", error = %err, "IndexUnreadable");
            None
        }
    });
    streams.push(Box::new(held));
    streams.push(Box::new(entries_with(store, "anomaly", "liquidated-higher")));
    streams.push(Box::new(entries_with(store, "anomaly", "rejection-uncorrected")));
    Ok(MergeSorted::new(streams))
}

/// The union of ascending streams, ascending, each value once (a heap of each stream's next
/// value: many rate streams cost a logarithm per value, not a pass over the streams).
struct MergeSorted<'a> {
    streams: Vec<Box<dyn Iterator<Item = String> + 'a>>,
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(String, usize)>>,
}

impl<'a> MergeSorted<'a> {
    fn new(mut streams: Vec<Box<dyn Iterator<Item = String> + 'a>>) -> MergeSorted<'a> {
        let mut heap = std::collections::BinaryHeap::new();
        for (i, s) in streams.iter_mut().enumerate() {
            if let Some(v) = s.next() {
                heap.push(std::cmp::Reverse((v, i)));
            }
        }
        MergeSorted { streams, heap }
    }
}

impl Iterator for MergeSorted<'_> {
    type Item = String;
    fn next(&mut self) -> Option<String> {
        let std::cmp::Reverse((least, _)) = self.heap.peek()?.clone();
        while let Some(std::cmp::Reverse((v, i))) = self.heap.peek().cloned() {
            if v != least {
                break;
            }
            self.heap.pop();
            // The next value of that stream greater than `least` (a stream may repeat one).
            if let Some(s) = self.streams.get_mut(i) {
                if let Some(n) = s.find(|n| *n != least) {
                    self.heap.push(std::cmp::Reverse((n, i)));
                }
            }
        }
        Some(least)
    }
}

/// Cycle-time trend per month of arrival, oldest first.
pub fn cycle_trend(store: &Store) -> Result<Vec<TrendPoint>, StoreError> {
    let mut out = Vec::new();
    for item in store.scan_prefix::<i64>(Table::Index, b"m|") {
        let (k, n) = item?;
        let Some(month) = std::str::from_utf8(&k).ok().and_then(|k| k.get(2..)).and_then(|d| d.parse().ok()) else {
            continue;
        };
        let r = multiset_percentiles(store, &format!("mr|{month}|"), &[50, 90])?;
        let a = multiset_percentiles(store, &format!("ma|{month}|"), &[50])?;
        out.push(TrendPoint {
            month,
            entries: n.max(0) as u64,
            release_median_minutes: r.first().copied().flatten(),
            release_p90_minutes: r.get(1).copied().flatten(),
            acceptance_median_minutes: a.first().copied().flatten(),
        });
    }
    Ok(out)
}

/// The broker scorecard of every entry, from the sums kept per broker (no entry is read).
pub fn broker_scores(store: &Store) -> Result<Vec<crate::report::brokers::BrokerScore>, StoreError> {
    let mut by_broker: BTreeMap<String, crate::report::brokers::BrokerScore> = BTreeMap::new();
    for item in store.scan_prefix::<i64>(Table::Index, b"b|") {
        let (k, n) = item?;
        let key = String::from_utf8_lossy(&k).into_owned();
        let Some((broker, name)) = key.get(2..).and_then(|r| r.rsplit_once('|')) else { continue };
        by_broker
            .entry(broker.to_string())
            .or_insert_with(|| crate::report::brokers::BrokerScore { broker: broker.to_string(), ..Default::default() })
            .add_count(name, n);
    }
    for (broker, s) in by_broker.iter_mut() {
        let r = multiset_percentiles(store, &format!("bm|{broker}|release|"), &[50, 90])?;
        let a = multiset_percentiles(store, &format!("bm|{broker}|acceptance|"), &[50, 90])?;
        let l = multiset_percentiles(store, &format!("bm|{broker}|liquidation|"), &[50, 90])?;
        s.arrival_to_release_median_minutes = r[0];
        s.arrival_to_release_p90_minutes = r[1];
        s.release_to_acceptance_median_minutes = a[0];
        s.release_to_acceptance_p90_minutes = a[1];
        s.entry_to_liquidation_median_days = l[0];
        s.entry_to_liquidation_p90_days = l[1];
    }
    Ok(by_broker.into_values().collect())
}

/// The keys (`EEE12345673`) of the entries with `facet` = `value`, in entry order.
pub fn entries_with<'a>(store: &'a Store, facet: &str, value: &str) -> impl Iterator<Item = String> + 'a {
    let prefix = format!("f|{facet}|{value}|");
    let skip = prefix.len();
    store.keys_with_prefix(Table::Index, prefix.as_bytes()).filter_map(move |k| match k {
        Ok(k) => k.get(skip..).map(|e| String::from_utf8_lossy(e).into_owned()),
        Err(err) => {
            tracing::warn!(target: "entrywatch", error = %err, "IndexUnreadable");
            None
        }
    })
}

/// How many entries have `facet` = `value`.
pub fn facet_count(store: &Store, facet: &str, value: &str) -> Result<u64, StoreError> {
    count(store, &format!("n|{facet}|{value}"))
}

/// Every counter of one facet (`importer`, `port`, `broker`, `status`, `day`), by value.
pub fn facet_counts(store: &Store, facet: &str) -> Result<Vec<(String, u64)>, StoreError> {
    let prefix = format!("n|{facet}|");
    let mut out = Vec::new();
    for item in store.scan_prefix::<i64>(Table::Index, prefix.as_bytes()) {
        let (k, n) = item?;
        let v = String::from_utf8_lossy(k.get(prefix.len()..).unwrap_or_default()).into_owned();
        out.push((v, n.max(0) as u64));
    }
    Ok(out)
}

/// Whether the store's index has been written (a store filled before the index existed would
/// need `rebuild`; schema version 3 makes that explicit).
pub fn is_empty(store: &Store) -> bool {
    store.keys_with_prefix(Table::Index, b"").next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_streams_merge_in_order_once_each() {
        let s = |v: &[&str]| -> Box<dyn Iterator<Item = String>> {
            Box::new(v.iter().map(|x| x.to_string()).collect::<Vec<_>>().into_iter())
        };
        let m = MergeSorted::new(vec![
            s(&["b", "d", "f"]),
            s(&[]),
            s(&["a", "b", "c", "f"]),
            s(&["f", "g"]),
            s(&["a", "a", "g"]),
        ]);
        assert_eq!(m.collect::<Vec<_>>(), ["a", "b", "c", "d", "f", "g"]);
    }

    #[test]
    fn signed_numbers_sort_as_numbers() {
        let vals = [-5_000_000_000i64, -61, -1, 0, 1, 59, 60, 1_000_000];
        let keys: Vec<String> = vals.iter().map(|v| enc(*v)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        for v in vals {
            assert_eq!(dec(&enc(v)), Some(v));
        }
    }
}
