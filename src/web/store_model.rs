//! `StoreModel`: the dashboard's and reports' [`ReadModel`] over the entry store, and
//! [`serve_store`], the daemon's entry point for the dashboard on the store.
//!
//! Each [`EntryView`] is the domain's `entry --json` document (facts folded by
//! `domain::Entry::derive`) plus the extras the query side reads: broker, inbox, lines with
//! PO number/line and the approved HTS, filed totals, liquidated amounts and reasons, the
//! summary history, key timestamps and computed deadlines. Only the store's own interface is
//! used (never the storage engine). The aggregate queries (open holds, deadlines, message
//! volume, cycle trend) are answered from an in-memory summary built in one pass over the
//! store and rebuilt only when a file has been committed since (the `order` table moved).

use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::config::Config;
use crate::deadline::compute;
use crate::deadline::facts::deadline_facts;
use crate::domain::view::entry_json;
use crate::domain::{Entry, EntryRow, Fact, FactKind};
use crate::entry_number::EntryNumber;
use crate::grammar::codes::Effect;
use crate::ingest::{load_entry, FileRecord};
use crate::store::{Store, Table};
use crate::view::{
    self, DeadlineRow, EntryFilter, EntryView, HoldRow, Metrics, Page, ReadModel, SummaryVersion, Timestamps, Totals,
    TrendPoint,
};
use crate::web::{self, Auth, WebError};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Entries shown per link on the entry page (as `entry` shows).
const RELATED_SHOWN: usize = 20;

/// The read model over the store.
pub struct StoreModel {
    store: Store,
    tz: chrono_tz::Tz,
    calendar: Calendar,
    /// `<data-dir>/quarantine`, where quarantined files and their `.error.txt` reports go.
    quarantine_dir: Option<PathBuf>,
    /// Variance is evaluated on read, as `entry` does (tolerances and grammars from the config).
    variance: Option<(crate::config::Variance, crate::grammar::Grammars)>,
    cache: Mutex<Option<Aggregates>>,
    full_passes: AtomicUsize,
}

impl std::fmt::Debug for StoreModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreModel").field("store", &self.store).finish()
    }
}

type HoldKey = (DateTime<FixedOffset>, String, usize);
type DeadlineKey = (NaiveDate, String, usize);

/// One entry's share of the aggregates, kept so that a changed entry can be taken out again.
#[derive(Default)]
struct Contribution {
    holds: Vec<HoldKey>,
    deadlines: Vec<DeadlineKey>,
    days: Vec<NaiveDate>,
    month: Option<NaiveDate>,
    release_minutes: Option<i64>,
    acceptance_minutes: Option<i64>,
}

/// Entries and cycle times (multisets of minutes) of one month of arrival.
#[derive(Default)]
struct MonthAcc {
    entries: u64,
    release: BTreeMap<i64, u64>,
    acceptance: BTreeMap<i64, u64>,
}

/// What the overview needs, kept up to date incrementally: built in one pass over the store,
/// then, for each file committed since (a new `order` id), only the entries named by its
/// record are re-derived. `last_seq` is the highest `order` id seen.
#[derive(Default)]
struct Aggregates {
    last_seq: Option<u64>,
    /// `order` sequences already applied within [`WINDOW`] of `last_seq`: ids are taken inside
    /// transactions, so a lower id can commit after a higher one was seen.
    seen: BTreeSet<u64>,
    /// Files applied to the store (keys of `order`).
    files: u64,
    per_entry: HashMap<String, Contribution>,
    holds: BTreeMap<HoldKey, HoldRow>,
    deadlines: BTreeMap<DeadlineKey, DeadlineRow>,
    volume: BTreeMap<NaiveDate, u64>,
    months: BTreeMap<NaiveDate, MonthAcc>,
}

/// Above this many 256-id blocks of new sequence numbers, a full pass is cheaper.
const MAX_INCREMENTAL_BLOCKS: u64 = 65_536;

/// How far below the last seen `order` id a late commit is still looked for.
const WINDOW: u64 = 1_024;

fn seq_of(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

fn bump(m: &mut BTreeMap<i64, u64>, v: i64, add: bool) {
    if add {
        *m.entry(v).or_default() += 1;
    } else if let Some(c) = m.get_mut(&v) {
        *c = c.saturating_sub(1);
        if *c == 0 {
            m.remove(&v);
        }
    }
}

/// Nearest-rank percentile of a multiset (the same rule as `view::percentile`).
fn multiset_percentile(m: &BTreeMap<i64, u64>, pct: u64) -> Option<i64> {
    let n: u64 = m.values().sum();
    if n == 0 {
        return None;
    }
    let rank = (pct * n).div_ceil(100).max(1);
    let mut seen = 0;
    for (v, c) in m {
        seen += c;
        if seen >= rank {
            return Some(*v);
        }
    }
    None
}

impl Aggregates {
    fn remove(&mut self, key: &str) {
        let Some(c) = self.per_entry.remove(key) else { return };
        for k in &c.holds {
            self.holds.remove(k);
        }
        for k in &c.deadlines {
            self.deadlines.remove(k);
        }
        for d in &c.days {
            if let Some(n) = self.volume.get_mut(d) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.volume.remove(d);
                }
            }
        }
        if let Some(m) = c.month {
            if let Some(acc) = self.months.get_mut(&m) {
                acc.entries = acc.entries.saturating_sub(1);
                if let Some(v) = c.release_minutes {
                    bump(&mut acc.release, v, false);
                }
                if let Some(v) = c.acceptance_minutes {
                    bump(&mut acc.acceptance, v, false);
                }
                if acc.entries == 0 {
                    self.months.remove(&m);
                }
            }
        }
    }

    fn add(&mut self, key: String, e: &EntryView) {
        let mut c = Contribution::default();
        for (i, row) in view::hold_rows(e).into_iter().enumerate() {
            let k = (row.hold.since, e.entry.clone(), i);
            c.holds.push(k.clone());
            self.holds.insert(k, row);
        }
        for (i, row) in view::deadline_rows(e).into_iter().enumerate() {
            let k = (row.deadline.due, e.entry.clone(), i);
            c.deadlines.push(k.clone());
            self.deadlines.insert(k, row);
        }
        for ev in &e.events {
            let d = ev.at.date_naive();
            *self.volume.entry(d).or_default() += 1;
            c.days.push(d);
        }
        let start = e.timestamps.arrival.map(|a| a.date_naive()).unwrap_or(e.entry_date);
        let month = start.with_day(1).unwrap_or(start);
        let acc = self.months.entry(month).or_default();
        acc.entries += 1;
        c.month = Some(month);
        c.release_minutes = view::minutes_between(e.timestamps.arrival, e.timestamps.release);
        c.acceptance_minutes = view::minutes_between(e.timestamps.release, e.timestamps.summary_accepted);
        if let Some(v) = c.release_minutes {
            bump(&mut acc.release, v, true);
        }
        if let Some(v) = c.acceptance_minutes {
            bump(&mut acc.acceptance, v, true);
        }
        self.per_entry.insert(key, c);
    }

    fn trend(&self) -> Vec<TrendPoint> {
        self.months
            .iter()
            .map(|(month, acc)| TrendPoint {
                month: *month,
                entries: acc.entries,
                release_median_minutes: multiset_percentile(&acc.release, 50),
                release_p90_minutes: multiset_percentile(&acc.release, 90),
                acceptance_median_minutes: multiset_percentile(&acc.acceptance, 50),
            })
            .collect()
    }
}

impl StoreModel {
    /// A model over `store`, with the time zone, deadline calendar and data dir from `cfg`.
    pub fn new(store: Store, cfg: &Config) -> StoreModel {
        StoreModel {
            store,
            tz: cfg.timezone(),
            calendar: Calendar::from_config(&cfg.deadlines),
            quarantine_dir: Some(cfg.data_dir.join("quarantine")),
            variance: crate::grammar::Grammars::load(cfg.grammar_dir.as_deref())
                .ok()
                .map(|g| (cfg.variance.clone(), g)),
            cache: Mutex::new(None),
            full_passes: AtomicUsize::new(0),
        }
    }

    /// Open `<data-dir>/store` and build the model.
    pub fn open(cfg: &Config) -> Result<StoreModel, crate::store::StoreError> {
        Ok(StoreModel::new(Store::open(&cfg.data_dir.join("store"))?, cfg))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The view of one entry from its facts.
    pub fn view_of(&self, en: &EntryNumber, entry: &Entry, facts: &[Fact]) -> Option<EntryView> {
        build_view(en, entry, facts, self.tz, &self.calendar)
    }

    fn load(&self, key: &[u8]) -> Option<EntryView> {
        self.load_with(key, false)
    }

    /// The entry's view; with `related`, also the entries sharing each of its links.
    fn load_with(&self, key: &[u8], related: bool) -> Option<EntryView> {
        let en: EntryNumber = std::str::from_utf8(key).ok()?.parse().ok()?;
        match load_entry(&self.store, &en) {
            Ok(Some((mut e, facts))) => {
                if let Some((cfg, grammars)) = &self.variance {
                    crate::variance::annotate(&mut e, cfg, grammars);
                }
                let mut v = self.view_of(&en, &e, &facts)?;
                if related {
                    v.related = self.related_of(&en, &e);
                }
                Some(v)
            }
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(target: "entrywatch", entry = %en, error = %err, "EntryUnreadable");
                None
            }
        }
    }

    /// The entries sharing each link of `e` (docs/affected.md), as `entry` lists them.
    fn related_of(&self, en: &EntryNumber, e: &Entry) -> Vec<view::Related> {
        match crate::links::related(&self.store, e, RELATED_SHOWN) {
            Ok(rows) => rows
                .into_iter()
                .map(|(l, entries, count)| view::Related {
                    kind: l.kind.as_str().to_string(),
                    title: l.kind.title().to_string(),
                    value: l.value,
                    entries,
                    count,
                })
                .collect(),
            Err(err) => {
                tracing::warn!(target: "entrywatch", entry = %en, error = %err, "LinksUnreadable");
                Vec::new()
            }
        }
    }

    /// Run `f` over the aggregates, brought up to date with the store first.
    fn with_aggregates<T>(&self, f: impl FnOnce(&Aggregates) -> T) -> T {
        let mut guard = match self.cache.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let last = self.store.last_key(Table::Order).and_then(|k| seq_of(&k));
        let fresh = match guard.take() {
            Some(a) => self.catch_up(a, last),
            None => None,
        };
        let a = fresh.unwrap_or_else(|| self.full_pass(last));
        let out = f(&a);
        *guard = Some(a);
        out
    }

    /// Build the aggregates now (the daemon calls this at start, so the first overview does
    /// not wait for the pass over every entry).
    pub fn warm(&self) {
        self.with_aggregates(|_| ());
    }

    /// How many times the aggregates were built from every entry (the rest were incremental).
    pub fn full_passes(&self) -> usize {
        self.full_passes.load(Ordering::Relaxed)
    }

    /// `order` ids in `[lo, hi]`, visited by 256-id block (keys are 8-byte big-endian ids;
    /// values are not decoded). `None` on a store error.
    fn order_ids(&self, lo: u64, hi: u64) -> Option<Vec<u64>> {
        let mut out = Vec::new();
        for block in (lo >> 8)..=(hi >> 8) {
            let prefix = block.to_be_bytes();
            for item in self.store.scan_prefix::<serde::de::IgnoredAny>(Table::Order, prefix.get(1..)?) {
                let (k, _) = item.ok()?;
                if let Some(s) = seq_of(&k).filter(|s| (lo..=hi).contains(s)) {
                    out.push(s);
                }
            }
        }
        Some(out)
    }

    /// Every entry, once.
    fn full_pass(&self, last: Option<u64>) -> Aggregates {
        self.full_passes.fetch_add(1, Ordering::Relaxed);
        let mut a = Aggregates { last_seq: last, ..Aggregates::default() };
        if let Some(l) = last {
            a.files =
                self.store.scan::<String>(Table::Order).flatten().filter(|(k, _)| seq_of(k) <= Some(l)).count() as u64;
            a.seen = self.order_ids(l.saturating_sub(WINDOW), l).unwrap_or_default().into_iter().collect();
        }
        for e in self.entries(&EntryFilter::default()) {
            let key = entry_key_compact(&e.entry);
            a.add(key, &e);
        }
        a
    }

    /// Re-derive only the entries touched by the files committed since the last update (ids
    /// above `a.last_seq`, and late commits of lower ids within [`WINDOW`], which is why the
    /// window is looked at on every query); `None` when a full pass is the better (or the
    /// only) way.
    fn catch_up(&self, mut a: Aggregates, last: Option<u64>) -> Option<Aggregates> {
        let Some(to) = last else {
            // Still no file: nothing to do. (Files gone: the store was replaced, start over.)
            return a.last_seq.is_none().then_some(a);
        };
        let lo = a.last_seq.map_or(0, |f| f.saturating_sub(WINDOW));
        if a.last_seq.is_some_and(|f| to < f) || (to >> 8).saturating_sub(lo >> 8) > MAX_INCREMENTAL_BLOCKS {
            return None;
        }
        let mut touched: Vec<String> = Vec::new();
        for seq in self.order_ids(lo, to)? {
            if !a.seen.insert(seq) {
                continue;
            }
            a.files += 1;
            let sha: String = self.store.get(Table::Order, &seq.to_be_bytes()).ok()??;
            let rec: FileRecord = self.store.get(Table::Files, sha.as_bytes()).ok()??;
            touched.extend(rec.entries);
        }
        touched.sort();
        touched.dedup();
        for key in touched {
            a.remove(&key);
            if let Some(v) = self.load(key.as_bytes()) {
                a.add(key, &v);
            }
        }
        a.last_seq = last;
        let keep_from = to.saturating_sub(WINDOW);
        a.seen = a.seen.split_off(&keep_from);
        Some(a)
    }
}

/// The store's key of an entry (`EEE12345673`).
fn entry_key_compact(s: &str) -> String {
    s.parse::<EntryNumber>().map(|e| e.compact()).unwrap_or_else(|_| s.to_string())
}

/// Whether the short row can already tell that the entry fails the filter.
fn row_rejects(f: &EntryFilter, key: &[u8], row: &EntryRow) -> bool {
    let set = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if set(&f.importer).is_some_and(|i| i != row.importer) || set(&f.port).is_some_and(|p| p != row.port) {
        return true;
    }
    if let Some(b) = set(&f.broker) {
        // The broker is the filer code (the key's first three characters).
        if key.get(..3).is_some_and(|filer| !b.as_bytes().eq_ignore_ascii_case(filer)) {
            return true;
        }
    }
    if let Some(d) = row.entry_date {
        if f.from.is_some_and(|from| d < from) || f.to.is_some_and(|to| d > to) {
            return true;
        }
    }
    false
}

impl ReadModel for StoreModel {
    fn entries(&self, filter: &EntryFilter) -> Box<dyn Iterator<Item = EntryView> + '_> {
        let f = filter.clone();
        Box::new(self.store.scan::<EntryRow>(Table::Entries).filter_map(move |item| {
            let (key, row) = match item {
                Ok(kv) => kv,
                Err(err) => {
                    tracing::warn!(target: "entrywatch", error = %err, "EntryRowUnreadable");
                    return None;
                }
            };
            if row_rejects(&f, &key, &row) {
                return None;
            }
            self.load(&key).filter(|v| f.matches(v))
        }))
    }

    fn entry(&self, key: &str) -> Option<EntryView> {
        let en: EntryNumber = key.trim().parse().ok()?;
        // Related entries by link kind: the entry page only (one posting-list read per link).
        self.load_with(en.compact().as_bytes(), true)
    }

    fn metrics(&self) -> Metrics {
        // While the aggregates are being built (the first pass), count the tables instead of
        // waiting for it: a scrape must not hang.
        let busy = matches!(self.cache.try_lock(), Err(std::sync::TryLockError::WouldBlock));
        let (files_processed, entries) = if busy {
            (self.store.len(Table::Order) as u64, self.store.len(Table::Entries) as u64)
        } else {
            self.with_aggregates(|a| (a.files, a.per_entry.len() as u64))
        };
        let mut m = Metrics { store_bytes: self.store.size_on_disk(), entries, files_processed, ..Metrics::default() };
        for (_, item) in self.store.scan::<serde_json::Value>(Table::Outbox).flatten() {
            match item.get("state").and_then(|s| s.as_str()) {
                Some("queued") => m.alerts_queued += 1,
                Some("sent") => m.alerts_sent += 1,
                Some("failed") => m.alerts_failed += 1,
                _ => {}
            }
        }
        m.files_quarantined = self.quarantine_dir.as_deref().map_or(0, count_quarantined);
        m
    }

    fn open_holds(&self, critical_only: bool, limit: usize) -> Page<HoldRow> {
        self.with_aggregates(|a| {
            let rows = a.holds.values().filter(|h| !critical_only || h.hold.is_critical());
            let total = rows.clone().count();
            Page { total, rows: rows.take(limit).cloned().collect() }
        })
    }

    fn deadlines_between(&self, from: NaiveDate, to: NaiveDate, limit: usize) -> Page<DeadlineRow> {
        if to < from {
            return Page { total: 0, rows: Vec::new() };
        }
        self.with_aggregates(|a| {
            let start = Bound::Included((from, String::new(), 0));
            let end = match to.succ_opt() {
                Some(next) => Bound::Excluded((next, String::new(), 0)),
                None => Bound::Unbounded,
            };
            let rows = a.deadlines.range((start, end)).map(|(_, r)| r);
            let total = rows.clone().count();
            Page { total, rows: rows.take(limit).cloned().collect() }
        })
    }

    fn message_volume(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, u64)> {
        self.with_aggregates(|a| {
            from.iter_days().take_while(|d| *d <= to).map(|d| (d, a.volume.get(&d).copied().unwrap_or(0))).collect()
        })
    }

    fn cycle_trend(&self) -> Vec<TrendPoint> {
        self.with_aggregates(Aggregates::trend)
    }
}

/// Quarantined files: one `<name>.error.txt` report each, under `quarantine/<inbox>/`.
fn count_quarantined(dir: &Path) -> u64 {
    let Ok(inboxes) = std::fs::read_dir(dir) else { return 0 };
    inboxes
        .flatten()
        .filter_map(|d| std::fs::read_dir(d.path()).ok())
        .flat_map(|rd| rd.flatten())
        .filter(|f| f.file_name().to_str().is_some_and(|n| n.ends_with(".error.txt")))
        .count() as u64
}

fn fixed(t: NaiveDateTime, tz: chrono_tz::Tz) -> Option<DateTime<FixedOffset>> {
    Some(crate::clock::local_instant(tz, t))
}

fn midnight(d: NaiveDate, tz: chrono_tz::Tz) -> Option<DateTime<FixedOffset>> {
    fixed(d.and_hms_opt(0, 0, 0)?, tz)
}

/// The view of one entry: the `entry --json` document plus the extras.
fn build_view(en: &EntryNumber, e: &Entry, facts: &[Fact], tz: chrono_tz::Tz, cal: &Calendar) -> Option<EntryView> {
    let mut sorted: Vec<&Fact> = facts.iter().collect();
    sorted.sort_by_key(|f| f.at);
    let mut doc = entry_json(e, facts, tz);
    // An entry seen only through release messages has no entry date yet: its first message's day.
    let fallback_date = e.entry_date.or_else(|| sorted.first().map(|f| f.at.date()))?;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("entry_date".into(), serde_json::Value::String(fallback_date.to_string()));
        obj.insert("deadlines".into(), serde_json::Value::Array(Vec::new()));
        // `entry --json`'s `ace` object is not the view's: the view's is filled below.
        obj.remove("ace");
        if let Some(evs) = obj.get_mut("events").and_then(|v| v.as_array_mut()) {
            for ev in evs.iter_mut().filter_map(|v| v.as_object_mut()) {
                if let Some(d) = ev.get("detail").and_then(|d| d.as_str()).filter(|d| !d.is_empty()) {
                    let d = d.to_string();
                    ev.insert("text".into(), serde_json::Value::String(d));
                }
            }
        }
    }
    let mut v: EntryView = match serde_json::from_value(doc) {
        Ok(v) => v,
        Err(err) => {
            tracing::warn!(target: "entrywatch", entry = %en, error = %err, "EntryViewUnreadable");
            return None;
        }
    };
    v.broker = Some(en.filer.clone());
    v.inbox = sorted
        .iter()
        .find(|f| matches!(f.kind, FactKind::SummaryFiled { .. }))
        .or(sorted.first())
        .map(|f| f.source.inbox.clone());
    for h in &mut v.release.open_holds {
        if let Some(dh) = e.holds.iter().find(|d| d.code == h.code && d.agency == h.agency) {
            if !dh.narrative.trim().is_empty() {
                h.meaning = Some(dh.narrative.trim().to_string());
            }
        }
    }
    // Lines of the current filing, with the pre-entry's PO and HTS for the same line number.
    if let Some(filing) = e.current_filing() {
        let s = &filing.summary;
        let pre_lines = e.pre_entry.as_ref().map(|p| p.lines.as_slice()).unwrap_or_default();
        let pre_summary_lines = e.pre_entry.as_ref().and_then(|p| p.summary.as_ref()).map(|s| s.lines.as_slice());
        for ln in &s.lines {
            let pre = pre_lines.iter().find(|p| p.line == ln.line);
            let approved_hts = pre.map(|p| p.hts.clone()).filter(|h| !h.trim().is_empty()).or_else(|| {
                pre_summary_lines?
                    .iter()
                    .find(|p| p.line == ln.line)
                    .and_then(|p| p.tariffs.first())
                    .map(|t| t.hts.clone())
            });
            let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
            v.lines.push(view::Line {
                line: ln.line,
                hts: ln.tariffs.first().map(|t| t.hts.clone()).unwrap_or_default(),
                origin: ln.country_of_origin.clone(),
                value_cents: ln.tariffs.iter().map(|t| t.value_usd.saturating_mul(100)).fold(0, i64::saturating_add),
                duty_cents: ln.tariffs.iter().map(|t| t.duty_cents).fold(0, i64::saturating_add),
                spi: nonempty(&ln.spi),
                po_number: pre.and_then(|p| nonempty(&p.po_number)),
                po_line: pre.and_then(|p| nonempty(&p.po_line)),
                approved_hts,
                liquidated_hts: None,
            });
        }
        v.totals = Some(Totals {
            duty_cents: s.total_duty_cents,
            fees_cents: s.total_fees_cents,
            value_cents: v.lines.iter().map(|l| l.value_cents).fold(0, i64::saturating_add),
        });
    }
    // Liquidated amounts and CBP's reasons, once an ER reported the entry.
    let l = &e.liquidation;
    if facts.iter().any(|f| matches!(f.kind, FactKind::Liquidation { .. })) {
        v.liquidation.duty_cents = Some(l.duty_cents);
        v.liquidation.fees_cents = Some(l.fees_cents);
        v.liquidation.reason_codes = l.reasons.clone();
    }
    if let (Some(st), Some(s)) = (v.statement.as_mut(), e.statement.as_ref()) {
        st.amount_cents = Some(s.duty_cents.saturating_add(s.tax_cents).saturating_add(s.fees_cents));
        if s.final_statement {
            st.paid = s.print_date.or(s.due);
        }
    }
    // Summary history: each filing with the answer that followed it.
    let mut history: Vec<SummaryVersion> = Vec::new();
    let mut mut_sorted: Vec<Fact> = facts.to_vec();
    crate::domain::sort_facts(&mut mut_sorted);
    for f in &mut_sorted {
        // A response with no filing before it (the filing never reached us) gets its own row.
        let answered = |h: &SummaryVersion| h.accepted.is_some() || h.rejected.is_some();
        match &f.kind {
            FactKind::SummaryFiled { .. } => {
                history.push(SummaryVersion { filed: fixed(f.at, tz), ..SummaryVersion::default() })
            }
            FactKind::SummaryAccepted { version, .. } => {
                if history.last().is_none_or(answered) {
                    history.push(SummaryVersion::default());
                }
                if let Some(h) = history.last_mut() {
                    h.version = version.clone();
                    h.accepted = fixed(f.at, tz);
                }
            }
            FactKind::SummaryRejected { version, conditions } => {
                if history.last().is_none_or(answered) {
                    history.push(SummaryVersion::default());
                }
                if let Some(h) = history.last_mut() {
                    if !version.trim().is_empty() {
                        h.version = version.clone();
                    }
                    h.rejected = fixed(f.at, tz);
                    h.reject_codes = conditions.iter().map(|(c, _)| c.clone()).collect();
                }
            }
            // UC disposition 4: CBP rejected the summary on file after the fact.
            FactKind::Notice { disposition, reason, .. } if disposition == "4" => {
                if let Some(h) = history.last_mut().filter(|h| h.rejected.is_none()) {
                    h.rejected = fixed(f.at, tz);
                    h.reject_codes = vec![reason.trim().to_string()];
                } else {
                    history.push(SummaryVersion {
                        rejected: fixed(f.at, tz),
                        reject_codes: vec![reason.trim().to_string()],
                        ..SummaryVersion::default()
                    });
                }
            }
            _ => {}
        }
    }
    v.summary_history = history;
    let first_of = |pred: &dyn Fn(&FactKind) -> bool| mut_sorted.iter().find(|f| pred(&f.kind)).map(|f| f.at);
    v.timestamps = Timestamps {
        arrival: first_of(&|k| matches!(k, FactKind::Disposition { .. })).and_then(|t| fixed(t, tz)),
        release: first_of(&|k| matches!(k, FactKind::Disposition { effect: Effect::Released, .. }))
            .and_then(|t| fixed(t, tz)),
        summary_accepted: first_of(&|k| matches!(k, FactKind::SummaryAccepted { .. })).and_then(|t| fixed(t, tz)),
        liquidation: l
            .date
            .filter(|_| l.status == crate::domain::LiquidationStatus::Liquidated)
            .and_then(|d| midnight(d, tz)),
    };
    // ACE's record and the three-way findings (set by `variance::annotate` before this).
    v.ace = e.ace.as_ref().map(|r| view::AceSide {
        file: r.source.file.clone(),
        inbox: r.source.inbox.clone(),
        row: r.source.line,
        exports: r.exports,
        rows: r.entry.rows.len(),
        liquidation_status: r.entry.liquidation_status.clone(),
        liquidation_date: r.entry.liquidation_date,
        final_liquidation: r.entry.final_liquidation.clone(),
        psc: r.entry.psc,
    });
    v.three_way = e
        .three_way
        .as_ref()
        .map(|t| {
            t.findings
                .iter()
                .map(|f| view::ThreeWayRow {
                    kind: f.kind.as_str().to_string(),
                    severity: f.severity.as_str().to_string(),
                    line: f.line,
                    tariff: f.ordinal,
                    field: f.field.clone(),
                    approved: f.approved.clone(),
                    broker: f.broker.clone(),
                    ace: f.ace.clone(),
                    ace_row: f.ace_row,
                })
                .collect()
        })
        .unwrap_or_default();
    v.deadlines = compute(&deadline_facts(e, facts), cal)
        .into_iter()
        .filter(|d| !d.done)
        .map(|d| view::Deadline {
            kind: d.kind.as_str().to_string(),
            due: d.due,
            estimated: d.estimated,
            rule: Some(d.rule),
        })
        .collect();
    Some(v)
}

/// Serve the dashboard over the store until `shutdown` completes: the daemon's entry point.
/// Checks `[dashboard]` (listen address, credentials off loopback) before binding.
pub async fn serve_store(
    cfg: &Config,
    store: Store,
    clock: Clock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    let (addr, auth): (std::net::SocketAddr, Auth) = Auth::from_config(&cfg.dashboard)?;
    let model = Arc::new(StoreModel::new(store, cfg));
    let warm = model.clone();
    tokio::task::spawn_blocking(move || warm.warm());
    let model: Arc<dyn ReadModel> = model;
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|source| WebError::Io { addr: addr.to_string(), source })?;
    tracing::info!(target: "entrywatch", addr = %addr, auth = auth.is_required(), "DashboardListening");
    web::serve_on(listener, web::router(model, clock, auth), shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Source;

    /// Commit one file the way the pipeline does: the entry's facts and row, the file record
    /// naming the entry, and its `order` id.
    fn commit(store: &Store, seq: u64, tx: u32, day: u32) {
        let en: EntryNumber = crate::ingest::sample::entry_display("EEE", tx).parse().unwrap();
        let at = NaiveDate::from_ymd_opt(2026, 2, day).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap();
        let sha = format!("{seq:064x}");
        let fact = Fact {
            at,
            kind: FactKind::Disposition {
                list: "so70".into(),
                code: "02".into(),
                agency: "FDA".into(),
                effect: Effect::HoldPlaced,
                removes: Vec::new(),
                narrative: "HOLD INTACT".into(),
                release_date: None,
                release_origin: String::new(),
            },
            source: Source { file: format!("f{seq}"), inbox: "b".into(), sha256: sha.clone(), line: 3, record: 3 },
        };
        let key = en.compact();
        let rec = FileRecord {
            sha256: sha.clone(),
            name: format!("f{seq}"),
            inbox: "b".into(),
            role: crate::config::Role::Broker,
            received: at,
            seq,
            archive: String::new(),
            entries: vec![key.clone()],
            duplicates: Vec::new(),
        };
        store
            .transaction(|t| {
                let facts = vec![fact.clone()];
                t.put(Table::Facts, key.as_bytes(), &facts)?;
                t.put(Table::Entries, key.as_bytes(), &Entry::derive(&en, &facts).row())?;
                t.put(Table::Files, sha.as_bytes(), &rec)?;
                t.put(Table::Order, &seq.to_be_bytes(), &sha)
            })
            .unwrap();
    }

    #[test]
    fn aggregates_follow_new_and_late_commits_without_a_second_pass() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::from_toml(&format!("data-dir = {:?}\n", dir.path()), "test").unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let m = StoreModel::new(store.clone(), &cfg);
        assert_eq!(m.open_holds(false, 10).total, 0);
        assert_eq!(m.cycle_trend(), Vec::new());
        assert_eq!(m.full_passes(), 1, "an empty store is not passed over again");
        commit(&store, 1, 1111111, 2);
        assert_eq!(m.open_holds(false, 10).total, 1);
        commit(&store, 3, 3333333, 4);
        assert_eq!(m.open_holds(false, 10).total, 2);
        // Id 2 commits after id 3 was seen (ids are taken inside concurrent transactions).
        commit(&store, 2, 2222222, 3);
        let holds = m.open_holds(true, 10);
        assert_eq!(holds.total, 3);
        let since: Vec<u32> = holds.rows.iter().map(|h| h.hold.since.day()).collect();
        assert_eq!(since, vec![2, 3, 4], "oldest first");
        let day = |d| NaiveDate::from_ymd_opt(2026, 2, d).unwrap();
        assert_eq!(m.message_volume(day(1), day(4)), vec![(day(1), 0), (day(2), 1), (day(3), 1), (day(4), 1)]);
        let met = m.metrics();
        assert_eq!((met.files_processed, met.entries), (3, 3));
        // The first query on the empty store was the only full pass.
        assert_eq!(m.full_passes(), 1);
        // The same entry again (a new file replacing its facts): its old share goes out.
        commit(&store, 4, 3333333, 5);
        let holds = m.open_holds(false, 10);
        assert_eq!(holds.total, 3);
        assert_eq!(holds.rows.iter().map(|h| h.hold.since.day()).collect::<Vec<_>>(), vec![2, 3, 5]);
        assert_eq!(m.message_volume(day(4), day(5)), vec![(day(4), 0), (day(5), 1)]);
        assert_eq!(m.full_passes(), 1);
    }

    #[test]
    fn multiset_percentiles_match_the_sorted_rule() {
        let mut m = BTreeMap::new();
        let values = [5i64, 1, 9, 9, 3, 7, 2, 8, 6, 4];
        for v in values {
            bump(&mut m, v, true);
        }
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        for p in [1, 10, 50, 90, 100] {
            assert_eq!(multiset_percentile(&m, p as u64), view::percentile(&sorted, p), "p{p}");
        }
        bump(&mut m, 9, false);
        bump(&mut m, 9, false);
        bump(&mut m, 9, false);
        assert_eq!(m.get(&9), None);
        assert_eq!(multiset_percentile(&BTreeMap::new(), 50), None);
    }
}
