//! Applying one file's facts to the store: the per-entry fact log (deduplicated by identity),
//! pre-entries and statements tied to entries, derived entries, indexes and hooks.

use super::{FileRecord, IngestError, IngestHook};
use crate::domain::{ref_key, Fact, FactKind};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::interpret::{Interpretation, MonthlyLink};
use crate::store::entries::EntryState;
use crate::store::{files, refs, statements, Store, StoreTx, TxError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The result of applying one file inside the store.
pub(super) enum Applied {
    Done(Vec<EntryNumber>, FileRecord),
    Duplicate,
}

fn add_fact(facts: &mut Vec<Fact>, f: Fact) -> bool {
    if facts.iter().any(|x| x.identity() == f.identity() && x.kind == f.kind) {
        return false;
    }
    facts.push(f);
    true
}

/// An entry's fact log with an index by identity, so adding the facts of a file is linear in
/// their number (a 350 with 50,000 X4 segments), not quadratic.
struct FactLog {
    facts: Vec<Fact>,
    index: std::collections::HashMap<(String, usize, &'static str), Vec<usize>>,
}

impl FactLog {
    fn new(facts: Vec<Fact>) -> FactLog {
        let mut index: std::collections::HashMap<_, Vec<usize>> = std::collections::HashMap::new();
        for (n, f) in facts.iter().enumerate() {
            index.entry(f.identity()).or_default().push(n);
        }
        FactLog { facts, index }
    }

    /// Add a fact unless the same one (identity and content) is there already.
    fn add(&mut self, f: Fact) -> bool {
        let slot = self.index.entry(f.identity()).or_default();
        if slot.iter().any(|&n| self.facts.get(n).is_some_and(|x| x.kind == f.kind)) {
            return false;
        }
        slot.push(self.facts.len());
        self.facts.push(f);
        true
    }
}

fn monthly_fact(link: &MonthlyLink) -> Fact {
    Fact {
        at: link.at,
        kind: FactKind::MonthlyStatement {
            daily_number: link.daily_number.clone(),
            monthly_number: link.monthly_number.clone(),
            due: link.due,
            final_statement: link.final_statement,
        },
        source: link.source.clone(),
    }
}

/// Entries written per store transaction: a file touching more entries is committed in chunks
/// of this many (in entry order), so one transaction's writes stay bounded. Set
/// `ENTRYWATCH_INGEST_CHUNK=N` to change it (tests use small chunks).
pub const CHUNK_ENTRIES: usize = 1000;

/// Facts held for one chunk at most: a file whose transactions keep naming the same few
/// entries is cut into chunks by this too (memory bound; a chunk then holds fewer entries).
const CHUNK_FACTS: usize = 100_000;

fn chunk_entries() -> usize {
    std::env::var("ENTRYWATCH_INGEST_CHUNK")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(CHUNK_ENTRIES)
}

/// Entry key → (entry, the file's new facts for it).
type Work = BTreeMap<String, (EntryNumber, Vec<Fact>)>;

/// Apply one file whose facts are all in memory: its entries in entry order, fed to a
/// [`Chunks`] (so in chunks of [`CHUNK_ENTRIES`], each chunk ONE transaction).
pub(super) fn apply(
    store: &Store,
    hooks: &[Arc<dyn IngestHook>],
    interp: &Interpretation,
    rec: FileRecord,
    variance: (&crate::config::Variance, &Grammars),
    index: &crate::query::IndexCtx,
    after_chunk: &dyn Fn(),
) -> Result<Applied, IngestError> {
    let mut by_entry: Work = BTreeMap::new();
    for (e, f) in &interp.facts {
        by_entry.entry(e.compact()).or_insert_with(|| (e.clone(), Vec::new())).1.push(f.clone());
    }
    let sha = rec.sha256.clone();
    let mut chunks = Chunks::new(store, hooks, &sha, variance, index, after_chunk);
    for (_, (e, facts)) in by_entry {
        chunks.add(facts.into_iter().map(|f| (e.clone(), f)).collect());
    }
    chunks.finish(interp, rec)
}

/// One file's facts applied as they come (file order): each time the facts held cover
/// [`CHUNK_ENTRIES`] entries and one more entry's fact arrives, the held ones are committed as
/// ONE transaction (an intermediate chunk, with its marker); [`Chunks::finish`] commits the
/// rest in the last transaction, with what depends on the rest of the store (pre-entries
/// waiting for a reference, monthly statements) and the file record. A chunk whose marker is
/// there was committed by an interrupted run: it is skipped, so a retry writes (and alerts)
/// nothing twice, and the file counts as processed only once its record is written.
/// `after_chunk` runs after each intermediate commit (a crash point). Memory: one chunk's facts
/// (at most [`CHUNK_FACTS`]) and the entry numbers the file touched, for its record.
pub(super) struct Chunks<'c> {
    store: &'c Store,
    hooks: &'c [Arc<dyn IngestHook>],
    sha: &'c str,
    variance: (&'c crate::config::Variance, &'c Grammars),
    index: &'c crate::query::IndexCtx,
    after_chunk: &'c dyn Fn(),
    size: usize,
    held: Work,
    /// Facts in `held`.
    held_facts: usize,
    /// Intermediate chunks done (committed now or by an earlier run).
    done: usize,
    /// The store already has the file's record (another run finished it).
    duplicate: bool,
    error: Option<IngestError>,
}

impl<'c> Chunks<'c> {
    pub(super) fn new(
        store: &'c Store,
        hooks: &'c [Arc<dyn IngestHook>],
        sha: &'c str,
        variance: (&'c crate::config::Variance, &'c Grammars),
        index: &'c crate::query::IndexCtx,
        after_chunk: &'c dyn Fn(),
    ) -> Chunks<'c> {
        Chunks {
            store,
            hooks,
            sha,
            variance,
            index,
            after_chunk,
            size: chunk_entries(),
            held: BTreeMap::new(),
            held_facts: 0,
            done: 0,
            duplicate: false,
            error: None,
        }
    }

    /// Facts of the file, in its order. After a failure (kept for [`Chunks::finish`]) or once
    /// the file turns out to be recorded already, the rest is ignored.
    pub(super) fn add(&mut self, facts: Vec<(EntryNumber, Fact)>) {
        for (e, f) in facts {
            if self.duplicate || self.error.is_some() {
                return;
            }
            let key = e.compact();
            let full =
                (!self.held.contains_key(&key) && self.held.len() >= self.size) || self.held_facts >= CHUNK_FACTS;
            if full {
                if let Err(err) = self.commit_chunk() {
                    self.error = Some(err);
                    return;
                }
            }
            self.held.entry(key).or_insert_with(|| (e, Vec::new())).1.push(f);
            self.held_facts += 1;
        }
    }

    fn commit_chunk(&mut self) -> Result<(), IngestError> {
        let (store, sha, size, i) = (self.store, self.sha, self.size, self.done);
        let work = std::mem::take(&mut self.held);
        self.held_facts = 0;
        let (hooks, variance, index) = (self.hooks, self.variance, self.index);
        let done = store.transaction(|tx| {
            if files::record_tx(tx, sha)?.is_some() {
                return Ok(false);
            }
            if files::chunk_tx(tx, sha, size, i)?.is_some() {
                return Ok(true);
            }
            let touched = apply_entries(tx, work.clone(), hooks, variance, index)?;
            let keys: Vec<String> = touched.iter().map(EntryNumber::compact).collect();
            files::put_chunk_tx(tx, sha, size, i, &keys)?;
            Ok(true)
        })?;
        if !done {
            self.duplicate = true;
            return Ok(());
        }
        self.done += 1;
        (self.after_chunk)();
        // A file of many chunks: keep sled's memory and the log a crash leaves bounded.
        store.checkpoint_if_written()?;
        Ok(())
    }

    /// Commit the last transaction: the facts held, `interp`'s unmatched pre-entries and
    /// monthly statement links (its facts are not read: they came through [`Chunks::add`]),
    /// and the file record.
    pub(super) fn finish(self, interp: &Interpretation, rec: FileRecord) -> Result<Applied, IngestError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.duplicate {
            return Ok(Applied::Duplicate);
        }
        let (store, hooks, variance, index, size, chunks) =
            (self.store, self.hooks, self.variance, self.index, self.size, self.done);
        let held = self.held;
        // Monthly statements: the entries on each daily statement, from the store (where the
        // file's earlier chunks are, committed now or by an interrupted run) and the facts held.
        let mut monthly_targets: Vec<(MonthlyLink, Vec<String>)> = Vec::new();
        for link in &interp.monthly {
            let mut entries: std::collections::BTreeSet<String> =
                statements::entries_on(store, &link.daily_number)?.into_iter().collect();
            for (k, (_, facts)) in &held {
                if facts
                    .iter()
                    .any(|f| matches!(&f.kind, FactKind::Statement { number, .. } if *number == link.daily_number))
                {
                    entries.insert(k.clone());
                }
            }
            monthly_targets.push((link.clone(), entries.into_iter().collect()));
        }
        let r = store.transaction(|tx| {
            if files::record_tx(tx, &rec.sha256)?.is_some() {
                return Ok(Applied::Duplicate);
            }
            let mut touched: Vec<EntryNumber> = Vec::new();
            for i in 0..chunks {
                let keys = files::take_chunk_tx(tx, &rec.sha256, size, i)?;
                touched.extend(keys.iter().filter_map(|k| k.parse::<EntryNumber>().ok()));
            }
            let mut work: Work = held.clone();
            // Pre-entries without an entry number: attach through a known reference, else wait.
            for f in &interp.unmatched_pre_entries {
                let FactKind::PreEntryApproved { pre_entry } = &f.kind else { continue };
                let Some(key) = pre_entry.ref_key() else { continue };
                match refs::entry_tx(tx, &key)? {
                    Some(entry_key) => {
                        if let Ok(en) = entry_key.parse::<EntryNumber>() {
                            work.entry(entry_key).or_insert_with(|| (en, Vec::new())).1.push(f.clone());
                        }
                    }
                    None => {
                        let mut pending = refs::pending_tx(tx, &key)?;
                        add_fact(&mut pending, f.clone());
                        refs::put_pending_tx(tx, &key, &pending)?;
                    }
                }
            }
            // Monthly statements: tie to the entries on each daily statement (found before the
            // transaction, `monthly_targets`); remember the link for entries that come later.
            for (link, entries) in &monthly_targets {
                statements::add_monthly_tx(tx, link)?;
                for ek in entries {
                    if let Ok(en) = ek.parse::<EntryNumber>() {
                        let facts = &mut work.entry(ek.clone()).or_insert_with(|| (en, Vec::new())).1;
                        facts.push(monthly_fact(link));
                        // What was wrong in the statement's records reaches each entry on it.
                        if !link.findings.is_empty() {
                            let kind = FactKind::Finding { application: "MS".into(), notes: link.findings.clone() };
                            facts.push(Fact { at: link.at, kind, source: link.source.clone() });
                        }
                    }
                }
            }
            let mut seen: std::collections::HashSet<String> = touched.iter().map(EntryNumber::compact).collect();
            for en in apply_entries(tx, work, hooks, variance, index)? {
                if seen.insert(en.compact()) {
                    touched.push(en);
                }
            }
            let mut r = rec.clone();
            r.seq = tx.generate_id()?;
            r.entries = touched.iter().map(EntryNumber::compact).collect();
            files::put_tx(tx, &r)?;
            crate::query::index::file_tx(tx)?;
            Ok(Applied::Done(touched, r))
        })?;
        Ok(r)
    }
}

/// Add new facts to each entry of `work` inside `tx`: its fact log (deduplicated), derived
/// entry, indexes and hooks. Returns the entries that changed (an entry whose facts were all
/// there already is not touched).
fn apply_entries(
    tx: &mut StoreTx<'_>,
    work: Work,
    hooks: &[Arc<dyn IngestHook>],
    variance: (&crate::config::Variance, &Grammars),
    index: &crate::query::IndexCtx,
) -> Result<Vec<EntryNumber>, TxError> {
    let mut touched = Vec::new();
    for (key, (en, new_facts)) in work {
        let facts: Vec<Fact> = crate::store::entries::facts_tx(tx, &key)?.unwrap_or_default();
        let before: Option<EntryState> = if facts.is_empty() || hooks.is_empty() {
            None
        } else {
            Some(EntryState::derive(&en, &facts, variance.0, variance.1))
        };
        let mut log = FactLog::new(facts);
        let mut added = Vec::new();
        let mut extra = Vec::new();
        for f in new_facts {
            match &f.kind {
                FactKind::SummaryFiled { summary } => {
                    if let Some(rk) = ref_key(&summary.importer, &summary.broker_ref) {
                        refs::put_tx(tx, &rk, &key)?;
                        if let Some(p) = refs::take_pending_tx(tx, &rk)? {
                            extra.extend(p);
                        }
                    }
                }
                FactKind::Statement { number, .. } => {
                    statements::add_entry_tx(tx, number, &key)?;
                    let links = statements::monthly_tx(tx, number)?;
                    extra.extend(links.iter().map(monthly_fact));
                }
                _ => {}
            }
            if log.add(f.clone()) {
                added.push(f);
            }
        }
        for f in extra {
            if log.add(f.clone()) {
                added.push(f);
            }
        }
        let facts = log.facts;
        if added.is_empty() {
            continue;
        }
        let after = EntryState::derive(&en, &facts, variance.0, variance.1);
        // The affected-entries index joins the file's transaction (and so `rebuild`).
        crate::links::index_tx(tx, &key, &after.entry)?;
        // So do the query side's indexes and aggregates (src/query/index.rs).
        crate::query::index::entry_tx(tx, index, &en, &after, &facts)?;
        for h in hooks {
            h.on_entry_changed(tx, before.as_ref(), &after, &added)?;
        }
        crate::store::entries::put_tx(tx, &key, &facts, &after)?;
        touched.push(en);
    }
    Ok(touched)
}
