//! The ingest pipeline: claim → fingerprint → parse/interpret → store transaction(s) (one per
//! chunk of [`CHUNK_ENTRIES`] entries; one for most files) → flush → journal → archive (or quarantine with `<name>.error.txt`). Also recovery of claimed files and
//! `rebuild` (replay the archive in original order into a fresh store).
//!
//! ABI files are never held whole: they are read twice from disk, a validation pass (a file
//! with an error is quarantined before anything is committed) then an apply pass whose facts
//! are committed a chunk at a time ([`stream`]). Memory is one chunk and one transaction, not
//! the file.
//!
//! Crash points for the reliability tests (compiled only with the cargo feature `crash-points`,
//! never in the shipped binary): `ENTRYWATCH_CRASH_AT=<point>` aborts the process at
//! `after-claim`, `after-commit` (before flush), `after-flush` (before journal and archive),
//! `after-journal` (before archive move), `after-archive`, `after-chunk` (after each intermediate
//! chunk of a file of many entries is committed). Optional `<point>:<n>` aborts at the
//! n-th time (1-based) the point is reached.

pub mod sample;

mod apply;
mod files;
mod journal;
mod rebuild;
mod stream;

pub use apply::CHUNK_ENTRIES;
pub use files::{fit_name, move_file, sha256_file, sha256_hex, MAX_STORED_NAME, REPORT_SUFFIX};
pub use journal::{read_journal, JournalLine};
pub use rebuild::{load_entry, rebuild, RebuildReport};

use apply::{apply, Applied};
use files::{free_path, fsync_dir, is_temp, original_name, rename_or_copy};

use crate::clock::Clock;
use crate::config::{Config, Inbox, Role};
use crate::domain::Fact;
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::interpret::{interpret, FileContext, Interpretation};
use crate::parse::error::{Diagnostic, Position};
use crate::store::entries::EntryState;
use crate::store::{Store, StoreError, StoreTx, TxError};
use chrono::{Datelike, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
#[cfg(feature = "crash-points")]
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Later modules (alert rules, variance, deadlines) add their writes inside the file's transaction.
pub trait IngestHook: Send + Sync {
    /// Called once per entry the file changed, inside the transaction. An error aborts the
    /// whole file's transaction (nothing is written, the file stays claimed and is retried).
    fn on_entry_changed(
        &self,
        tx: &mut StoreTx<'_>,
        before: Option<&EntryState>,
        after: &EntryState,
        new_facts: &[Fact],
    ) -> Result<(), TxError>;
}

/// What happened to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// Facts written; the entries they touched.
    Applied { entries: Vec<EntryNumber> },
    /// The same bytes were already processed (under `of`): nothing applied.
    Duplicate { of: String },
    /// Moved to quarantine; `reason` is the first error, the full report is in `<name>.error.txt`.
    Quarantined { reason: String },
}

/// A pipeline failure (not a bad file: those are quarantined).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
}

fn ioe(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |err| IngestError::Io { path: path.to_path_buf(), err }
}

/// What the store keeps about each processed file (table `files`, keyed by SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub sha256: String,
    pub name: String,
    pub inbox: String,
    pub role: Role,
    pub received: NaiveDateTime,
    pub seq: u64,
    /// Path of the archived copy, relative to the data dir.
    pub archive: String,
    pub entries: Vec<String>,
    /// Later arrivals of the same bytes: (name, inbox, when).
    pub duplicates: Vec<(String, String, NaiveDateTime)>,
}

/// The folders under the data dir.
#[derive(Debug, Clone)]
pub struct Layout {
    pub data_dir: PathBuf,
}

impl Layout {
    pub fn store(&self) -> PathBuf {
        self.data_dir.join("store")
    }
    pub fn work(&self, inbox: &str) -> PathBuf {
        self.data_dir.join("work").join(inbox)
    }
    pub fn quarantine(&self, inbox: &str) -> PathBuf {
        self.data_dir.join("quarantine").join(inbox)
    }
    pub fn archive_root(&self) -> PathBuf {
        self.data_dir.join("archive")
    }
    pub fn journal(&self) -> PathBuf {
        self.archive_root().join("journal.log")
    }
}

/// The pipeline the daemon and `entrywatch ingest` push files through. Safe to share between
/// threads (one per inbox).
pub struct Pipeline {
    store: Store,
    grammars: Grammars,
    clock: Clock,
    layout: Layout,
    tz: chrono_tz::Tz,
    hooks: Vec<Arc<dyn IngestHook>>,
    variance: crate::config::Variance,
    index: crate::query::IndexCtx,
    #[cfg(feature = "crash-points")]
    crash: Option<(String, usize)>,
    #[cfg(feature = "crash-points")]
    crash_count: AtomicUsize,
    journal_lock: Mutex<()>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("data_dir", &self.layout.data_dir).finish()
    }
}

/// `ENTRYWATCH_CRASH_AT`, read only in a build with the `crash-points` feature (tests).
#[cfg(feature = "crash-points")]
fn crash_setting() -> Option<(String, usize)> {
    let v = std::env::var("ENTRYWATCH_CRASH_AT").ok()?;
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.split_once(':') {
        Some((p, n)) => Some((p.to_string(), n.parse().unwrap_or(1))),
        None => Some((v.to_string(), 1)),
    }
}

/// How [`Pipeline::stage`] reads a file: streamed in two passes (ABI, X12), or whole.
enum Source {
    Streamed(stream::Streamed),
    Whole(Vec<u8>),
}

/// Where a claimed file stands after staging.
enum Staged {
    /// Committed (not yet flushed): archive target, record, entries.
    Committed(PathBuf, FileRecord, Vec<EntryNumber>),
    /// The store (or this batch) already has these bytes.
    Known,
    /// Finished without a commit (quarantined).
    Done(Outcome),
}

impl Pipeline {
    /// Open the store (checking it opens and has this schema version) and prepare the folders.
    pub fn open(config: &Config, grammars: &Grammars, clock: Clock) -> Result<Pipeline, IngestError> {
        let layout = Layout { data_dir: config.data_dir.clone() };
        std::fs::create_dir_all(&layout.data_dir).map_err(ioe(&layout.data_dir))?;
        crate::store::configure(&config.daemon);
        let store = Store::open(&layout.store())?;
        Ok(Pipeline {
            store,
            grammars: grammars.clone(),
            clock,
            layout,
            tz: config.timezone(),
            hooks: Vec::new(),
            variance: config.variance.clone(),
            index: crate::query::IndexCtx::from_config(config).with_remedies(&grammars.remedies).with_clock(clock),
            #[cfg(feature = "crash-points")]
            crash: crash_setting(),
            #[cfg(feature = "crash-points")]
            crash_count: AtomicUsize::new(0),
            journal_lock: Mutex::new(()),
        })
    }

    /// Add a hook whose writes join every file's transaction.
    pub fn with_hook(mut self, hook: Arc<dyn IngestHook>) -> Pipeline {
        self.hooks.push(hook);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// Abort here when `ENTRYWATCH_CRASH_AT` names this point (a `crash-points` build only).
    #[cfg(feature = "crash-points")]
    fn crash_point(&self, point: &str) {
        if let Some((p, n)) = &self.crash {
            if p == point && self.crash_count.fetch_add(1, Ordering::SeqCst) + 1 >= *n {
                eprintln!("ENTRYWATCH_CRASH_AT={point}: aborting");
                std::process::abort();
            }
        }
    }

    /// Without the `crash-points` feature there are no crash points: `ENTRYWATCH_CRASH_AT` is
    /// never read.
    #[cfg(not(feature = "crash-points"))]
    #[inline(always)]
    fn crash_point(&self, _point: &str) {}

    /// Files claimed by an earlier run that did not finish (under `<data-dir>/work/<inbox>/`).
    pub fn pending_work(&self, inbox: &Inbox) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.layout.work(&inbox.name))
            .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_file() && !is_temp(p)).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Finish files an earlier run claimed but did not archive or quarantine.
    pub fn recover(&self, inbox: &Inbox) -> Result<Vec<(PathBuf, Outcome)>, IngestError> {
        let mut out = Vec::new();
        for (p, r) in self.process_batch(inbox, &self.pending_work(inbox)) {
            out.push((p, r?));
        }
        Ok(out)
    }

    /// Push one file from an inbox through the pipeline.
    pub fn process(&self, inbox: &Inbox, path: &Path) -> Result<Outcome, IngestError> {
        match self.process_batch(inbox, &[path.to_path_buf()]).pop() {
            Some((_, r)) => r,
            None => Err(IngestError::Io { path: path.to_path_buf(), err: std::io::ErrorKind::NotFound.into() }),
        }
    }

    /// Push several files from one inbox through the pipeline with group commit: each file is
    /// still ONE transaction, but one flush (and one journal fsync) covers the batch, and every
    /// side effect (archive move) happens after that flush. Results are in input order.
    pub fn process_batch(&self, inbox: &Inbox, paths: &[PathBuf]) -> Vec<(PathBuf, Result<Outcome, IngestError>)> {
        let work_dir = self.layout.work(&inbox.name);
        let mut results: Vec<Option<Result<Outcome, IngestError>>> = (0..paths.len()).map(|_| None).collect();
        // (index, claimed path, archive target, record, entries)
        let mut committed: Vec<(usize, PathBuf, PathBuf, FileRecord, Vec<EntryNumber>)> = Vec::new();
        let mut deferred: Vec<(usize, PathBuf)> = Vec::new();
        let mut targets = std::collections::HashSet::new();
        let mut batch_shas = std::collections::HashSet::new();
        for (i, path) in paths.iter().enumerate() {
            let claimed = if path.parent().is_some_and(|p| p == work_dir) {
                path.clone()
            } else {
                let name = original_name(path);
                if path.file_name().is_some_and(|n| n.to_str().is_none()) {
                    tracing::warn!(target: "entrywatch", event = "FileNameNotUtf8", file = %name, inbox = %inbox.name,
                        raw = ?path.file_name().unwrap_or_default());
                }
                if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                    results[i] = Some(self.quarantine_link(inbox, path, &name));
                    continue;
                }
                let to = free_path(&work_dir, &name);
                if let Err(e) =
                    std::fs::create_dir_all(&work_dir).map_err(ioe(&work_dir)).and_then(|_| rename_or_copy(path, &to))
                {
                    results[i] = Some(Err(e));
                    continue;
                }
                tracing::debug!(target: "entrywatch", event = "FileClaimed", file = %name, inbox = %inbox.name);
                to
            };
            self.crash_point("after-claim");
            match self.stage(inbox, &claimed, &mut targets, &batch_shas) {
                Ok(Staged::Committed(target, rec, entries)) => {
                    self.crash_point("after-commit");
                    batch_shas.insert(rec.sha256.clone());
                    committed.push((i, claimed, target, rec, entries));
                }
                Ok(Staged::Known) => deferred.push((i, claimed)),
                Ok(Staged::Done(o)) => results[i] = Some(Ok(o)),
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if !committed.is_empty() {
            let durable = self.flush().and_then(|_| {
                self.crash_point("after-flush");
                let recs: Vec<&FileRecord> = committed.iter().map(|c| &c.3).collect();
                self.journal(&recs)
            });
            match durable {
                Err(e) => {
                    // Nothing moves before the flush: the files stay claimed and are finished later.
                    let msg = e.to_string();
                    for (i, ..) in &committed {
                        results[*i] = Some(Err(IngestError::Io {
                            path: paths[*i].clone(),
                            err: std::io::Error::other(msg.clone()),
                        }));
                    }
                }
                Ok(()) => {
                    self.crash_point("after-journal");
                    let mut dirs = std::collections::BTreeSet::new();
                    for (i, claimed, target, rec, entries) in committed {
                        let moved = target
                            .parent()
                            .map_or(Ok(()), |d| std::fs::create_dir_all(d).map_err(ioe(d)))
                            .and_then(|_| rename_or_copy(&claimed, &target));
                        match moved {
                            Ok(()) => {
                                self.crash_point("after-archive");
                                if let Some(d) = target.parent() {
                                    dirs.insert(d.to_path_buf());
                                }
                                tracing::info!(target: "entrywatch", event = "FileIngested", file = %rec.name,
                                    inbox = %inbox.name, sha256 = %rec.sha256, entries = entries.len());
                                results[i] = Some(Ok(Outcome::Applied { entries }));
                            }
                            Err(e) => results[i] = Some(Err(e)),
                        }
                    }
                    for d in dirs {
                        fsync_dir(&d);
                    }
                }
            }
        }
        for (i, claimed) in deferred {
            results[i] = Some(self.finish_claimed_known(inbox, &claimed));
        }
        paths
            .iter()
            .cloned()
            .zip(results)
            .map(|(p, r)| {
                (
                    p,
                    r.unwrap_or_else(|| {
                        Err(IngestError::Io { path: PathBuf::new(), err: std::io::Error::other("not processed") })
                    }),
                )
            })
            .collect()
    }

    /// Read, fingerprint, interpret and commit one claimed file (no flush, no side effect
    /// except quarantine, which writes nothing to the store).
    fn stage(
        &self,
        inbox: &Inbox,
        claimed: &Path,
        targets: &mut std::collections::HashSet<PathBuf>,
        batch_shas: &std::collections::HashSet<String>,
    ) -> Result<Staged, IngestError> {
        self.store_usable()?;
        let name = original_name(claimed);
        let meta = std::fs::symlink_metadata(claimed).map_err(ioe(claimed))?;
        if meta.file_type().is_symlink() {
            return self.quarantine_link(inbox, claimed, &name).map(Staged::Done);
        }
        if meta.len() > inbox.max_file_bytes {
            let d = Diagnostic::error(
                "P002",
                format!(
                    "the file is {} bytes, above this inbox's max-file-bytes ({}): not read",
                    meta.len(),
                    inbox.max_file_bytes
                ),
                Position::default(),
            );
            let interp = Interpretation { diagnostics: vec![d], ..Interpretation::default() };
            return self.quarantine(inbox, claimed, &name, &interp).map(Staged::Done);
        }
        // ABI and X12: streamed, two passes (no whole-file buffer). Other formats: read whole
        // (small by nature; docs/performance.md).
        let source = match stream::streamable(claimed, inbox.role).map_err(ioe(claimed))? {
            Some(kind) => Source::Streamed(kind),
            None => Source::Whole(std::fs::read(claimed).map_err(ioe(claimed))?),
        };
        let sha = match &source {
            Source::Streamed(_) => sha256_file(claimed).map_err(ioe(claimed))?,
            Source::Whole(bytes) => sha256_hex(bytes),
        };
        if batch_shas.contains(&sha) || crate::store::files::record(&self.store, &sha)?.is_some() {
            return Ok(Staged::Known);
        }
        let now = self.clock.now();
        let received = now.with_timezone(&self.tz).naive_local();
        let ctx = FileContext { name: &name, inbox: &inbox.name, role: inbox.role, sha256: &sha, received };
        // X12 acknowledgments (src/ack): partners' acks recorded; ours written when the inbox
        // has an ack-dir. A streamed X12 file's are gathered from its validation pass, with the
        // entries its facts name (the acknowledgment record lists them; gathered only when the
        // inbox writes acknowledgments).
        let mut acks = matches!(source, Source::Streamed(stream::Streamed::X12))
            .then(|| crate::ack::AckCollector::new(inbox, &name, &sha, received));
        let mut streamed_entries = std::collections::BTreeSet::new();
        let want_entries = acks.is_some() && inbox.ack_dir.is_some();
        let mut interp = match &source {
            Source::Whole(bytes) => interpret(bytes, &ctx, &self.grammars),
            Source::Streamed(kind) => stream::validate(
                claimed,
                *kind,
                &ctx,
                &self.grammars,
                &mut |ev| {
                    if let Some(a) = acks.as_mut() {
                        a.on(ev);
                    }
                },
                want_entries.then_some(&mut streamed_entries),
            )?,
        };
        let acknowledged = match &source {
            Source::Whole(bytes) => {
                let mut ack_entries: Vec<String> = interp.facts.iter().map(|(e, _)| e.compact()).collect();
                ack_entries.sort();
                ack_entries.dedup();
                let ack_file = crate::ack::ReceivedFile { name: &name, sha256: &sha, received, entries: ack_entries };
                crate::ack::on_received_file(&self.store, inbox, &self.grammars, bytes, &ack_file)
            }
            Source::Streamed(_) => match acks {
                // The reader's diagnostics, before the cap below.
                Some(collected) => {
                    let entries = streamed_entries.into_iter().collect();
                    let ack_file = crate::ack::ReceivedFile { name: &name, sha256: &sha, received, entries };
                    crate::ack::on_received_collected(&self.store, inbox, collected, &interp.diagnostics, &ack_file)
                }
                None => Ok(()),
            },
        };
        acknowledged.map_err(IngestError::from).inspect_err(note_store_failure)?;
        crate::parse::error::cap(&mut interp.diagnostics, 0);
        // The bytes of a file read whole are not needed past here.
        let streamed = match source {
            Source::Streamed(kind) => Some(kind),
            Source::Whole(_) => None,
        };
        if interp.has_errors() {
            return self.quarantine(inbox, claimed, &name, &interp).map(Staged::Done);
        }
        let day = now.with_timezone(&self.tz).date_naive();
        let dir = self
            .layout
            .archive_root()
            .join(format!("{:04}", day.year()))
            .join(format!("{:02}", day.month()))
            .join(format!("{:02}", day.day()))
            .join(&inbox.name);
        let stored = fit_name(&name);
        let mut target = dir.join(&stored);
        if target.exists() || targets.contains(&target) {
            target = dir.join(format!("{stored}.{}", sha.get(..12).unwrap_or(&sha)));
        }
        let archive_rel = target.strip_prefix(&self.layout.data_dir).unwrap_or(&target).to_string_lossy().to_string();
        let rec = FileRecord {
            sha256: sha.clone(),
            name: name.clone(),
            inbox: inbox.name.clone(),
            role: inbox.role,
            received,
            seq: 0,
            archive: archive_rel,
            entries: Vec::new(),
            duplicates: Vec::new(),
        };
        let applied = if let Some(kind) = streamed {
            drop(interp);
            let after_chunk = || self.crash_point("after-chunk");
            let chunks = apply::Chunks::new(
                &self.store,
                &self.hooks,
                &sha,
                (&self.variance, &self.grammars),
                &self.index,
                &after_chunk,
            );
            stream::apply_file(claimed, kind, &ctx, &self.grammars, chunks, rec)
        } else {
            self.apply(&interp, rec)
        };
        match applied.inspect_err(note_store_failure)? {
            Applied::Duplicate => Ok(Staged::Known),
            Applied::Done(entries, rec) => {
                targets.insert(target.clone());
                Ok(Staged::Committed(target, rec, entries))
            }
        }
    }

    /// A claimed file whose bytes the store already knows: finish its archive move, or record a duplicate.
    fn finish_claimed_known(&self, inbox: &Inbox, claimed: &Path) -> Result<Outcome, IngestError> {
        self.store_usable()?;
        let name = original_name(claimed);
        let sha = sha256_file(claimed).map_err(ioe(claimed))?;
        let received = self.clock.now().with_timezone(&self.tz).naive_local();
        match crate::store::files::record(&self.store, &sha)? {
            Some(rec) => self.finish_known(inbox, claimed, &name, rec, received),
            None => {
                Err(IngestError::Io { path: claimed.to_path_buf(), err: std::io::Error::other("file record vanished") })
            }
        }
    }

    fn finish_known(
        &self,
        inbox: &Inbox,
        claimed: &Path,
        name: &str,
        rec: FileRecord,
        received: NaiveDateTime,
    ) -> Result<Outcome, IngestError> {
        let archived = self.layout.data_dir.join(&rec.archive);
        if !archived.exists() {
            // Crash after commit, before archive: finish what that run started. The record
            // is made durable first: a commit whose flush failed (disk full) is in memory only.
            self.flush()?;
            self.journal(&[&rec])?;
            move_file(claimed, &archived)?;
            let entries = rec.entries.iter().filter_map(|e| e.parse().ok()).collect();
            return Ok(Outcome::Applied { entries });
        }
        let sha = rec.sha256.clone();
        let (n, i) = (name.to_string(), inbox.name.clone());
        self.store
            .transaction(|tx| {
                let mut r: FileRecord = crate::store::files::record_tx(tx, &sha)?.unwrap_or_else(|| rec.clone());
                if !r.duplicates.iter().any(|(a, b, c)| *a == n && *b == i && *c == received) {
                    r.duplicates.push((n.clone(), i.clone(), received));
                }
                crate::store::files::update_tx(tx, &r)
            })
            .map_err(IngestError::from)
            .inspect_err(note_store_failure)?;
        self.flush()?;
        std::fs::remove_file(claimed).map_err(ioe(claimed))?;
        tracing::info!(target: "entrywatch", event = "FileDuplicate", file = %name, inbox = %inbox.name, of = %rec.name);
        Ok(Outcome::Duplicate { of: rec.name })
    }
}

impl Pipeline {
    /// Make every commit durable; a failure is a failed store write (see [`crate::health`]).
    fn flush(&self) -> Result<(), IngestError> {
        self.store.flush().map_err(IngestError::from).inspect_err(note_store_failure)
    }

    /// Refuse to process while a store write of this process has failed: the engine keeps the
    /// error, and what it holds in memory may not be on disk (a commit whose flush failed),
    /// so a file must not be taken as known, journaled or archived on its word. Files stay
    /// claimed until the restart (`entrywatch run` exits non-zero once space is back).
    fn store_usable(&self) -> Result<(), IngestError> {
        match crate::health::store_failed() {
            None => Ok(()),
            Some(e) => Err(IngestError::Store(StoreError::Io(format!(
                "a store write failed earlier ({e}); waiting for a restart"
            )))),
        }
    }

    /// Write one file's facts: one transaction per chunk of entries, the file record in the last (not flushed).
    fn apply(&self, interp: &Interpretation, rec: FileRecord) -> Result<Applied, IngestError> {
        apply(&self.store, &self.hooks, interp, rec, (&self.variance, &self.grammars), &self.index, &|| {
            self.crash_point("after-chunk")
        })
    }
}

/// Record a failed store write (I/O: disk full ...) for `/healthz` and the restart.
fn note_store_failure(e: &IngestError) {
    if let IngestError::Store(StoreError::Io(msg)) = e {
        crate::health::store_write_failed(msg);
    }
}
