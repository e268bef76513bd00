//! The `entries` and `facts` tables, declared once, and an entry's state as loaded: its facts
//! folded by `domain::Entry::derive` with the evaluations of it (variance, the three-way match)
//! done in the same step, so no reader can forget them.
//!
//! - `facts`: `<entry>` (the compact entry number, `EEE12345673`) → `Vec<domain::Fact>`, the
//!   entry's append-only fact log (its state is folded from it).
//! - `entries`: `<entry>` → `domain::EntryRow`, the short row of the entry as of its last
//!   change (listing, filters), written with the facts in the file's transaction.

use super::{Store, StoreError, StoreTx, Table, TxError};
use crate::ace::compare::ThreeWay;
use crate::config;
use crate::domain::{Entry, EntryRow, Fact, VarianceStatus};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::variance::VarianceReport;

/// The key of an entry in both tables: its compact number (`EEE12345673`).
pub fn key(en: &EntryNumber) -> String {
    en.compact()
}

/// An entry's state with its evaluations: the derived [`Entry`] (plain data, facts folded),
/// the variance report (filed vs approved and the computed checks) and the three-way match
/// (approved / broker / ACE).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntryState {
    pub entry: Entry,
    /// `None` only for a state built with [`EntryState::unevaluated`].
    pub variance: Option<VarianceReport>,
    /// `None` when ACE has no record of the entry (or the state is unevaluated).
    pub three_way: Option<ThreeWay>,
}

impl EntryState {
    /// Evaluate a derived entry: variance against its approved pre-entry
    /// (`variance::evaluate`) and the three-way match (`ace::compare::evaluate`).
    pub fn evaluate(entry: Entry, cfg: &config::Variance, grammars: &Grammars) -> EntryState {
        let variance = crate::variance::evaluate(&entry, entry.pre_entry.as_ref(), cfg, grammars);
        let three_way = crate::ace::compare::evaluate(&entry, cfg);
        EntryState { entry, variance: Some(variance), three_way }
    }

    /// Fold `facts` and evaluate the result.
    pub fn derive(en: &EntryNumber, facts: &[Fact], cfg: &config::Variance, grammars: &Grammars) -> EntryState {
        EntryState::evaluate(Entry::derive(en, facts), cfg, grammars)
    }

    /// A state without evaluations (the row then says `no-pre-entry`, the view `none` or
    /// `no-pre-entry` from the pre-entry alone): for writers that have no variance settings.
    pub fn unevaluated(entry: Entry) -> EntryState {
        EntryState { entry, variance: None, three_way: None }
    }

    /// The entry's listing row (the `entries` table's value).
    pub fn row(&self) -> EntryRow {
        let (status, differences) =
            self.variance.as_ref().map_or((VarianceStatus::NoPreEntry, 0), |v| (v.status, v.differences.len()));
        self.entry.row(status, differences)
    }
}

/// Load an entry: its facts, folded and evaluated. `None` when the store has no fact of it.
pub fn load(
    store: &Store,
    en: &EntryNumber,
    cfg: &config::Variance,
    grammars: &Grammars,
) -> Result<Option<(EntryState, Vec<Fact>)>, StoreError> {
    let Some(facts) = facts(store, en)? else { return Ok(None) };
    Ok(Some((EntryState::derive(en, &facts, cfg, grammars), facts)))
}

/// An entry's facts folded, without the evaluations (for readers that need the plain state:
/// deadlines, links, alert facts).
pub fn derived(store: &Store, en: &EntryNumber) -> Result<Option<(Entry, Vec<Fact>)>, StoreError> {
    let Some(facts) = facts(store, en)? else { return Ok(None) };
    Ok(Some((Entry::derive(en, &facts), facts)))
}

/// An entry's fact log.
pub fn facts(store: &Store, en: &EntryNumber) -> Result<Option<Vec<Fact>>, StoreError> {
    store.get(Table::Facts, key(en).as_bytes())
}

/// An entry's fact log, by key (`EEE12345673`).
pub fn facts_by_key(store: &Store, key: &str) -> Result<Option<Vec<Fact>>, StoreError> {
    store.get(Table::Facts, key.as_bytes())
}

/// An entry's fact log inside a transaction, by key.
pub fn facts_tx(tx: &StoreTx<'_>, key: &str) -> Result<Option<Vec<Fact>>, TxError> {
    tx.get(Table::Facts, key.as_bytes())
}

/// Every entry's fact log, in key order: `(key, facts)`.
pub fn scan_facts(store: &Store) -> impl Iterator<Item = Result<(String, Vec<Fact>), StoreError>> + '_ {
    store.scan::<Vec<Fact>>(Table::Facts).map(|r| r.map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v)))
}

/// An entry's listing row, by key.
pub fn row(store: &Store, key: &str) -> Result<Option<EntryRow>, StoreError> {
    store.get(Table::Entries, key.as_bytes())
}

/// The listing rows whose key starts with `prefix` (`""` for all), in key order: `(key, row)`.
pub fn rows<'a>(store: &'a Store, prefix: &str) -> impl Iterator<Item = Result<(String, EntryRow), StoreError>> + 'a {
    store
        .scan_prefix::<EntryRow>(Table::Entries, prefix.as_bytes())
        .map(|r| r.map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v)))
}

/// How many entries the store holds.
pub fn count(store: &Store) -> usize {
    store.len(Table::Entries)
}

/// Write an entry's fact log and its listing row (from its new state) in the file's transaction.
pub fn put_tx(tx: &mut StoreTx<'_>, key: &str, facts: &[Fact], state: &EntryState) -> Result<(), TxError> {
    tx.put(Table::Facts, key.as_bytes(), &facts)?;
    tx.put(Table::Entries, key.as_bytes(), &state.row())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{FactKind, PreEntry, Source, Summary};
    use chrono::NaiveDate;

    fn fact(kind: FactKind) -> Fact {
        let at = NaiveDate::from_ymd_opt(2026, 2, 2).and_then(|d| d.and_hms_opt(9, 0, 0)).unwrap();
        Fact {
            at,
            kind,
            source: Source { file: "f".into(), inbox: "b".into(), sha256: "0".into(), line: 1, record: 1 },
        }
    }

    /// What `put_tx` writes is what the tables held before the repository (same keys, same
    /// JSON), and `load` gives back the state with its variance evaluated.
    #[test]
    fn load_returns_the_evaluated_state_and_rows_keep_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let en: EntryNumber = "EEE-1234567-3".parse().unwrap();
        let summary = Summary { action: "A".into(), importer: "12-3456789".into(), ..Summary::default() };
        let pre = PreEntry { importer: "12-3456789".into(), ..PreEntry::default() };
        let facts = vec![fact(FactKind::SummaryFiled { summary }), fact(FactKind::PreEntryApproved { pre_entry: pre })];
        let (cfg, grammars) = (config::Variance::default(), Grammars::embedded().unwrap());
        let state = EntryState::derive(&en, &facts, &cfg, &grammars);
        let k = key(&en);
        assert_eq!(k, "EEE12345673");
        store.transaction(|tx| put_tx(tx, &k, &facts, &state)).unwrap();

        let raw_row: serde_json::Value = store.get(Table::Entries, b"EEE12345673").unwrap().unwrap();
        assert_eq!(raw_row, serde_json::to_value(state.row()).unwrap());
        assert_eq!(raw_row["variance"], serde_json::json!(state.variance.as_ref().unwrap().status.as_str()));
        let raw_facts: Vec<Fact> = store.get(Table::Facts, b"EEE12345673").unwrap().unwrap();
        assert_eq!(raw_facts, facts);

        let (loaded, lf) = load(&store, &en, &cfg, &grammars).unwrap().unwrap();
        assert_eq!(loaded, state);
        assert!(loaded.variance.is_some(), "loading evaluates the variance");
        assert_eq!(lf, facts);
        assert_eq!(row(&store, &k).unwrap(), Some(state.row()));
        assert_eq!(rows(&store, "EEE").map(|r| r.unwrap().0).collect::<Vec<_>>(), vec![k.clone()]);
        assert_eq!(count(&store), 1);
        let other: EntryNumber = "EEE-2000001-6".parse().unwrap();
        assert!(load(&store, &other, &cfg, &grammars).unwrap().is_none());
    }
}
