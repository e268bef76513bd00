//! `StoreModel`: the dashboard's and reports' [`ReadModel`] over the entry store, and
//! [`serve_store`], the daemon's entry point for the dashboard on the store.
//!
//! Each [`EntryView`] is the `entry --json` document of the entry as `store::entries::load`
//! gives it (facts folded, variance evaluated), with the extras the query side reads: broker,
//! inbox, lines with PO number/line and the approved HTS, filed totals, liquidated amounts and
//! reasons, the summary history, key timestamps and computed deadlines. Only the store's own interface is
//! used (never the storage engine). The aggregate queries (open holds, deadlines, message
//! volume, cycle trend, counts) and filtered lists read the `index` table, which each file's
//! transaction keeps up to date (src/query/index.rs): no pass over the entries, at start or
//! later.

use crate::alert::outbox::OutboxState;
use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::{EntryRow, Fact};
use crate::entry_number::EntryNumber;
use crate::store::entries::EntryState;
use crate::store::Store;
use crate::view::{DeadlineRow, EntryFilter, EntryView, HoldRow, Metrics, Page, ReadModel, TrendPoint};
use crate::web::{self, Auth, WebError};
use chrono::{DateTime, FixedOffset, NaiveDate};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The read model over the store.
pub struct StoreModel {
    store: Store,
    tz: chrono_tz::Tz,
    calendar: Calendar,
    /// `<data-dir>/quarantine`, where quarantined files and their `.error.txt` reports go.
    quarantine_dir: Option<PathBuf>,
    /// Variance is evaluated on read, as `entry` does (tolerances and grammars from the config).
    variance: Option<(crate::config::Variance, crate::grammar::Grammars)>,
}

impl std::fmt::Debug for StoreModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreModel").field("store", &self.store).finish()
    }
}

/// Log a store error of an index read and go on with an empty answer.
fn or_empty<T: Default>(r: Result<T, crate::store::StoreError>) -> T {
    r.unwrap_or_else(|err| {
        tracing::warn!(target: "entrywatch", error = %err, "IndexUnreadable");
        T::default()
    })
}

impl StoreModel {
    /// A model over `store`, with the time zone, deadline calendar and data dir from `cfg`.
    /// Nothing is read until asked: the aggregates live in the store's `index` table, kept in
    /// each file's transaction (src/query/index.rs), so there is no pass at start.
    pub fn new(store: Store, cfg: &Config) -> StoreModel {
        StoreModel {
            store,
            tz: cfg.timezone(),
            calendar: Calendar::from_config(&cfg.deadlines),
            quarantine_dir: Some(cfg.data_dir.join("quarantine")),
            variance: crate::grammar::Grammars::load(cfg.grammar_dir.as_deref())
                .ok()
                .map(|g| (cfg.variance.clone(), g)),
        }
    }

    /// Open `<data-dir>/store` and build the model.
    pub fn open(cfg: &Config) -> Result<StoreModel, crate::store::StoreError> {
        Ok(StoreModel::new(Store::open(&cfg.data_dir.join("store"))?, cfg))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The view of one entry from its state and facts.
    pub fn view_of(&self, en: &EntryNumber, state: &EntryState, facts: &[Fact]) -> Option<EntryView> {
        crate::query::entry::entry_view(en, state, facts, self.tz, &self.calendar)
    }

    /// An entry's state and facts: evaluated (`store::entries::load`) with the configured
    /// tolerances and grammars; without evaluations only when the grammars did not load.
    fn read(&self, en: &EntryNumber) -> Result<Option<(EntryState, Vec<Fact>)>, crate::store::StoreError> {
        match &self.variance {
            Some((cfg, grammars)) => crate::store::entries::load(&self.store, en, cfg, grammars),
            None => Ok(crate::store::entries::derived(&self.store, en)?.map(|(e, f)| (EntryState::unevaluated(e), f))),
        }
    }

    fn load(&self, key: &[u8]) -> Option<EntryView> {
        let en: EntryNumber = std::str::from_utf8(key).ok()?.parse().ok()?;
        match self.read(&en) {
            Ok(Some((state, facts))) => self.view_of(&en, &state, &facts),
            Ok(None) => None,
            Err(err) => {
                tracing::warn!(target: "entrywatch", entry = %en, error = %err, "EntryUnreadable");
                None
            }
        }
    }
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

/// The index posting that narrows a filter most cheaply: importer, port, status or broker.
fn posting_of(f: &EntryFilter) -> Option<(&'static str, String)> {
    let set = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    set(&f.importer)
        .map(|v| ("importer", v))
        .or_else(|| set(&f.port).map(|v| ("port", v)))
        .or_else(|| set(&f.status).map(|v| ("status", v.to_ascii_lowercase())))
        .or_else(|| set(&f.broker).map(|v| ("broker", v.to_ascii_uppercase())))
}

impl ReadModel for StoreModel {
    fn broker_scorecard(&self) -> Option<Vec<crate::report::brokers::BrokerScore>> {
        match crate::query::index::broker_scores(&self.store) {
            Ok(v) => Some(v),
            Err(err) => {
                tracing::warn!(target: "entrywatch", error = %err, "IndexUnreadable");
                None
            }
        }
    }

    fn recovery(
        &self,
        now: DateTime<FixedOffset>,
        program: Option<&str>,
        rows: usize,
    ) -> Option<crate::report::recovery::RecoveryData> {
        let rules = match &self.variance {
            Some((_, g)) => g.remedies.clone(),
            None => crate::deadline::facts::embedded_remedies().clone(),
        };
        let today = crate::deadline::local_today(now, self.tz);
        match crate::report::recovery::RecoveryData::read(&self.store, rules, &self.calendar, program, today, rows) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::warn!(error = %e, "recovery: the store could not be read");
                None
            }
        }
    }

    fn entries(&self, filter: &EntryFilter) -> Box<dyn Iterator<Item = EntryView> + '_> {
        let f = filter.clone();
        if let Some((facet, value)) = posting_of(&f) {
            // The broker may be named by filer code or by name; a name has its own posting.
            return Box::new(
                crate::query::index::entries_with(&self.store, facet, &value)
                    .filter_map(move |key| self.load(key.as_bytes()).filter(|v| f.matches(v))),
            );
        }
        Box::new(crate::store::entries::rows(&self.store, "").filter_map(move |item| {
            let (key, row) = match item {
                Ok(kv) => kv,
                Err(err) => {
                    tracing::warn!(target: "entrywatch", error = %err, "EntryRowUnreadable");
                    return None;
                }
            };
            if row_rejects(&f, key.as_bytes(), &row) {
                return None;
            }
            self.load(key.as_bytes()).filter(|v| f.matches(v))
        }))
    }

    fn hts_stats(&self) -> Option<crate::view::HtsStats> {
        match crate::query::index::hts_stats(&self.store) {
            Ok(s) => Some(s),
            Err(err) => {
                tracing::warn!(target: "entrywatch", error = %err, "IndexUnreadable");
                None
            }
        }
    }

    fn anomaly_candidates(
        &self,
        stats: &crate::view::HtsStats,
        hold_before: DateTime<FixedOffset>,
        tolerance_bp: i64,
    ) -> Option<Box<dyn Iterator<Item = EntryView> + '_>> {
        match crate::query::index::anomaly_candidates(&self.store, stats, hold_before.timestamp(), tolerance_bp) {
            Ok(keys) => Some(Box::new(keys.filter_map(move |key| self.load(key.as_bytes())))),
            Err(err) => {
                tracing::warn!(target: "entrywatch", error = %err, "IndexUnreadable");
                None
            }
        }
    }

    fn entries_marked(
        &self,
        facet: &str,
        value: &str,
        filter: &EntryFilter,
    ) -> Box<dyn Iterator<Item = EntryView> + '_> {
        // A filter with its own posting (importer, port, status, broker) is read through it.
        if posting_of(filter).is_some() {
            return self.entries(filter);
        }
        let f = filter.clone();
        Box::new(
            crate::query::index::entries_with(&self.store, facet, value)
                .filter_map(move |key| self.load(key.as_bytes()).filter(|v| f.matches(v))),
        )
    }

    /// One entry, with its related entries from the links index (lists leave them out: a
    /// posting can be long, and a list shows none).
    fn entry(&self, key: &str) -> Option<EntryView> {
        let en: EntryNumber = key.trim().parse().ok()?;
        let (e, facts) = match self.read(&en) {
            Ok(Some(x)) => x,
            Ok(None) => return None,
            Err(err) => {
                tracing::warn!(target: "entrywatch", entry = %en, error = %err, "EntryUnreadable");
                return None;
            }
        };
        let mut v = self.view_of(&en, &e, &facts)?;
        if let Err(err) = crate::query::entry::with_related(&mut v, &self.store, &e.entry) {
            tracing::warn!(target: "entrywatch", entry = %en, error = %err, "LinksUnreadable");
        }
        Some(v)
    }

    fn metrics(&self) -> Metrics {
        let files_processed = or_empty(crate::query::index::count(&self.store, "n|files"));
        let entries = or_empty(crate::query::index::count(&self.store, "n|entries"));
        let mut m = Metrics { store_bytes: self.store.size_on_disk(), entries, files_processed, ..Metrics::default() };
        // Mail items and held alerts (a held alert handed to its digest counts as sent).
        let items = crate::store::outbox::items(&self.store, crate::store::outbox::MAIL)
            .chain(crate::store::outbox::items(&self.store, crate::store::outbox::HELD));
        for (_, item) in items.flatten() {
            match item.state {
                OutboxState::Queued => m.alerts_queued += 1,
                OutboxState::Sent => m.alerts_sent += 1,
                OutboxState::Failed => m.alerts_failed += 1,
            }
        }
        m.files_quarantined = self.quarantine_dir.as_deref().map_or(0, count_quarantined);
        m
    }

    fn open_holds(&self, critical_only: bool, limit: usize) -> Page<HoldRow> {
        crate::query::index::open_holds(&self.store, critical_only, limit).unwrap_or_else(|err| {
            tracing::warn!(target: "entrywatch", error = %err, "IndexUnreadable");
            Page { total: 0, rows: Vec::new() }
        })
    }

    fn deadlines_between(&self, from: NaiveDate, to: NaiveDate, limit: usize) -> Page<DeadlineRow> {
        match crate::query::index::deadlines(&self.store, from, to, limit) {
            Ok(p) => Page { total: p.total, rows: p.rows.iter().map(|d| d.row()).collect() },
            Err(err) => {
                tracing::warn!(target: "entrywatch", error = %err, "IndexUnreadable");
                Page { total: 0, rows: Vec::new() }
            }
        }
    }

    fn message_volume(&self, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, u64)> {
        or_empty(crate::query::index::message_volume(&self.store, from, to))
    }

    fn cycle_trend(&self) -> Vec<TrendPoint> {
        or_empty(crate::query::index::cycle_trend(&self.store))
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

/// Serve the dashboard over the store until `shutdown` completes: the daemon's entry point.
/// Checks `[dashboard]` (listen address, credentials off loopback) before binding.
pub async fn serve_store(
    cfg: &Config,
    store: Store,
    clock: Clock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    serve_store_on(cfg, bind_dashboard(cfg)?, store, clock, shutdown).await
}

/// Check the dashboard's config (listen rule, credentials) and bind its port. `run` binds it
/// before it tells systemd it is ready, so the dashboard answers from READY on.
pub fn bind_dashboard(cfg: &Config) -> Result<std::net::TcpListener, WebError> {
    let (addr, _) = Auth::from_config(&cfg.dashboard)?;
    let io = |source| WebError::Io { addr: addr.to_string(), source };
    let listener = std::net::TcpListener::bind(addr).map_err(io)?;
    listener.set_nonblocking(true).map_err(io)?;
    Ok(listener)
}

/// [`serve_store`] on a port [`bind_dashboard`] bound.
pub async fn serve_store_on(
    cfg: &Config,
    listener: std::net::TcpListener,
    store: Store,
    clock: Clock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    let (addr, auth): (std::net::SocketAddr, Auth) = Auth::from_config(&cfg.dashboard)?;
    let model: Arc<dyn ReadModel> = Arc::new(StoreModel::new(store, cfg));
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|source| WebError::Io { addr: addr.to_string(), source })?;
    tracing::info!(target: "entrywatch", addr = %addr, auth = auth.is_required(), "DashboardListening");
    web::serve_on(listener, web::router(model, clock, auth), shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FactKind;
    use crate::domain::Source;
    use crate::grammar::codes::Effect;
    use crate::ingest::FileRecord;
    use chrono::Datelike;

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
        let ctx = crate::query::IndexCtx {
            tz: chrono_tz::UTC,
            calendar: Calendar::default(),
            remedies: crate::recovery::Remedies::default(),
            clock: crate::clock::Clock::System,
        };
        store
            .transaction(|t| {
                let facts = vec![fact.clone()];
                let e = EntryState::unevaluated(crate::domain::Entry::derive(&en, &facts));
                crate::query::index::entry_tx(t, &ctx, &en, &e, &facts)?;
                crate::store::entries::put_tx(t, &key, &facts, &e)?;
                crate::store::files::put_tx(t, &rec)?;
                crate::query::index::file_tx(t)
            })
            .unwrap();
    }

    #[test]
    fn aggregates_follow_each_commit_from_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::from_toml(&format!("data-dir = {:?}\n", dir.path()), "test").unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let m = StoreModel::new(store.clone(), &cfg);
        assert_eq!(m.open_holds(false, 10).total, 0);
        assert_eq!(m.cycle_trend(), Vec::new());
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
        // The same entry again (a new file replacing its facts): its old share goes out.
        commit(&store, 4, 3333333, 5);
        let holds = m.open_holds(false, 10);
        assert_eq!(holds.total, 3);
        assert_eq!(holds.rows.iter().map(|h| h.hold.since.day()).collect::<Vec<_>>(), vec![2, 3, 5]);
        assert_eq!(m.message_volume(day(4), day(5)), vec![(day(4), 0), (day(5), 1)]);
        assert_eq!(m.metrics().entries, 3, "a changed entry is counted once");
    }
}
