//! The ingest pipeline: claim → fingerprint → parse/interpret → ONE store transaction → flush →
//! journal → archive (or quarantine with `<name>.error.txt`). Also recovery of claimed files and
//! `rebuild` (replay the archive in original order into a fresh store).
//!
//! Crash points for the reliability tests: `ENTRYWATCH_CRASH_AT=<point>` aborts the process at
//! `after-claim`, `after-commit` (before flush), `after-flush` (before journal and archive),
//! `after-journal` (before archive move), `after-archive`. Optional `<point>:<n>` aborts at the
//! n-th time (1-based) the point is reached.

pub mod sample;

use crate::clock::Clock;
use crate::config::{Config, Inbox, Role};
use crate::domain::{ref_key, Entry, Fact, FactKind};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::interpret::{interpret, FileContext, Interpretation, MonthlyLink};
use crate::parse::error::{not_kept, Diagnostic, Position, MAX_DIAGNOSTICS};
use crate::store::entries::EntryState;
use crate::store::{Store, StoreError, StoreTx, Table, TxError};
use chrono::{Datelike, NaiveDateTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
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

/// One line of `archive/journal.log`: the original processing order, for `rebuild`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalLine {
    pub seq: u64,
    pub sha256: String,
    pub name: String,
    pub inbox: String,
    pub role: Role,
    pub received: NaiveDateTime,
    pub archive: String,
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
    crash: Option<(String, usize)>,
    crash_count: AtomicUsize,
    journal_lock: Mutex<()>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("data_dir", &self.layout.data_dir).finish()
    }
}

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

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn fsync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Move a file: rename, or copy + fsync + remove across filesystems. The destination's folder
/// is created and synced.
pub fn move_file(from: &Path, to: &Path) -> Result<(), IngestError> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(ioe(dir))?;
    match std::fs::rename(from, to) {
        Ok(()) => {}
        Err(e) if from.exists() && e.kind() != std::io::ErrorKind::PermissionDenied => {
            // A short temporary name: the destination's name may already be near NAME_MAX.
            static COPIES: AtomicUsize = AtomicUsize::new(0);
            let tmp = dir.join(format!(
                ".entrywatch-{}-{}.copying",
                std::process::id(),
                COPIES.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::copy(from, &tmp).map_err(ioe(&tmp))?;
            std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(ioe(&tmp))?;
            std::fs::rename(&tmp, to).map_err(ioe(to))?;
            fsync_dir(dir);
            std::fs::remove_file(from).map_err(ioe(from))?;
        }
        Err(e) => return Err(IngestError::Io { path: from.to_path_buf(), err: e }),
    }
    fsync_dir(dir);
    Ok(())
}

/// Rename, or copy + fsync + remove across filesystems; no folder fsync (the store knows every
/// committed file by content, so a rename lost in a power cut is finished at the next start).
fn rename_or_copy(from: &Path, to: &Path) -> Result<(), IngestError> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if from.exists() && e.kind() != std::io::ErrorKind::PermissionDenied => move_file(from, to),
        Err(e) => Err(IngestError::Io { path: from.to_path_buf(), err: e }),
    }
}

/// A free path `dir/name`, else `dir/name.<n>` (the name fitted to the filesystem first).
fn free_path(dir: &Path, name: &str) -> PathBuf {
    free_path_with(dir, name, None)
}

/// A free path `dir/name` (else `dir/name.<n>`) whose companion `<that name><companion>` is
/// free too: a quarantined file never takes, nor overwrites, another file's report. A
/// companion left alone by an interrupted quarantine (written, then the process died before
/// the file moved beside it) is an orphan, not another file's: it is free to be written again,
/// so a retry after a crash ends as an uninterrupted run would. A companion that is itself a
/// quarantined file (it has a companion of its own) is never taken.
fn free_path_with(dir: &Path, name: &str, companion: Option<&str>) -> PathBuf {
    let name = fit_name(name);
    let with = |p: &Path, c: &str| {
        let mut o = p.as_os_str().to_os_string();
        o.push(c);
        PathBuf::from(o)
    };
    let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    let free = |p: &PathBuf| {
        !exists(p)
            && companion.is_none_or(|c| {
                let report = with(p, c);
                !exists(&report) || (report.is_file() && !exists(&with(&report, c)))
            })
    };
    let p = dir.join(&name);
    if free(&p) {
        return p;
    }
    (1..).map(|n| dir.join(format!("{name}.{n}"))).find(free).unwrap_or(p)
}

/// Longest file name entrywatch writes before adding its own suffixes (`.<n>`, `.<sha12>`,
/// `.error.txt`): 255 bytes (NAME_MAX on Linux) less room for them.
pub const MAX_STORED_NAME: usize = 200;

/// A name that fits under [`MAX_STORED_NAME`] bytes: longer names keep their first bytes (on a
/// character boundary) and end in `~` and 12 hex digits of the SHA-256 of the whole name, so
/// two long names that share a start stay apart. `/` and NUL never occur (they came from a
/// directory entry).
pub fn fit_name(name: &str) -> String {
    if name.len() <= MAX_STORED_NAME {
        return name.to_string();
    }
    let mut cut = MAX_STORED_NAME - 13;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = sha256_hex(name.as_bytes());
    format!("{}~{}", &name[..cut], &digest[..12])
}

/// The result of applying one file inside the store.
enum Applied {
    Done(Vec<EntryNumber>, FileRecord),
    Duplicate,
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
        let store = Store::open(&layout.store())?;
        Ok(Pipeline {
            store,
            grammars: grammars.clone(),
            clock,
            layout,
            tz: config.timezone(),
            hooks: Vec::new(),
            variance: config.variance.clone(),
            index: crate::query::IndexCtx::from_config(config),
            crash: crash_setting(),
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

    fn crash_point(&self, point: &str) {
        if let Some((p, n)) = &self.crash {
            if p == point && self.crash_count.fetch_add(1, Ordering::SeqCst) + 1 >= *n {
                eprintln!("ENTRYWATCH_CRASH_AT={point}: aborting");
                std::process::abort();
            }
        }
    }

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
        let bytes = std::fs::read(claimed).map_err(ioe(claimed))?;
        let sha = sha256_hex(&bytes);
        if batch_shas.contains(&sha) || self.store.get::<FileRecord>(Table::Files, sha.as_bytes())?.is_some() {
            return Ok(Staged::Known);
        }
        let now = self.clock.now();
        let received = now.with_timezone(&self.tz).naive_local();
        let ctx = FileContext { name: &name, inbox: &inbox.name, role: inbox.role, sha256: &sha, received };
        let mut interp = interpret(&bytes, &ctx, &self.grammars);
        cap_diagnostics(&mut interp.diagnostics);
        // X12 acknowledgments (src/ack): partners' acks recorded; ours written when the inbox has an ack-dir.
        let mut ack_entries: Vec<String> = interp.facts.iter().map(|(e, _)| e.compact()).collect();
        ack_entries.sort();
        ack_entries.dedup();
        let ack_file = crate::ack::ReceivedFile { name: &name, sha256: &sha, received, entries: ack_entries };
        crate::ack::on_received_file(&self.store, inbox, &self.grammars, &bytes, &ack_file)
            .map_err(IngestError::from)
            .inspect_err(note_store_failure)?;
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
        match self.apply(&interp, rec).inspect_err(note_store_failure)? {
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
        let bytes = std::fs::read(claimed).map_err(ioe(claimed))?;
        let sha = sha256_hex(&bytes);
        let received = self.clock.now().with_timezone(&self.tz).naive_local();
        match self.store.get::<FileRecord>(Table::Files, sha.as_bytes())? {
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
                let mut r: FileRecord = tx.get(Table::Files, sha.as_bytes())?.unwrap_or_else(|| rec.clone());
                if !r.duplicates.iter().any(|(a, b, c)| *a == n && *b == i && *c == received) {
                    r.duplicates.push((n.clone(), i.clone(), received));
                }
                tx.put(Table::Files, sha.as_bytes(), &r)
            })
            .map_err(IngestError::from)
            .inspect_err(note_store_failure)?;
        self.flush()?;
        std::fs::remove_file(claimed).map_err(ioe(claimed))?;
        tracing::info!(target: "entrywatch", event = "FileDuplicate", file = %name, inbox = %inbox.name, of = %rec.name);
        Ok(Outcome::Duplicate { of: rec.name })
    }

    fn quarantine(
        &self,
        inbox: &Inbox,
        claimed: &Path,
        name: &str,
        interp: &Interpretation,
    ) -> Result<Outcome, IngestError> {
        let dir = self.layout.quarantine(&inbox.name);
        std::fs::create_dir_all(&dir).map_err(ioe(&dir))?;
        let target = free_path_with(&dir, name, Some(REPORT_SUFFIX));
        let report_path = report_path(&target);
        write_report(
            &report_path,
            name,
            &inbox.name,
            "cannot be read; nothing from it was applied.",
            &interp.diagnostics,
        )?;
        if let Err(e) = move_file(claimed, &target) {
            // Retried later under a fresh name: leave no report without its file.
            let _ = std::fs::remove_file(&report_path);
            return Err(e);
        }
        let first = interp.diagnostics.iter().find(|d| d.is_error()).map(|d| d.to_string()).unwrap_or_default();
        tracing::warn!(target: "entrywatch", event = "FileQuarantined", file = %name, inbox = %inbox.name, reason = %first);
        Ok(Outcome::Quarantined { reason: first })
    }

    /// A symbolic link in an inbox (or claimed earlier): never followed. The link itself (not
    /// what it points to) moves to quarantine beside a report naming its target.
    fn quarantine_link(&self, inbox: &Inbox, path: &Path, name: &str) -> Result<Outcome, IngestError> {
        let dir = self.layout.quarantine(&inbox.name);
        std::fs::create_dir_all(&dir).map_err(ioe(&dir))?;
        let to = std::fs::read_link(path).map_err(ioe(path))?;
        let target = free_path_with(&dir, name, Some(REPORT_SUFFIX));
        let d = Diagnostic::error(
            "P003",
            format!(
                "a symbolic link (to {}): links are not followed; copy the file itself into the inbox",
                to.display()
            ),
            Position::default(),
        );
        write_report(
            &report_path(&target),
            name,
            &inbox.name,
            "is a symbolic link; nothing was read.",
            std::slice::from_ref(&d),
        )?;
        match std::fs::rename(path, &target) {
            Ok(()) => {}
            // Another filesystem: make the same link there, then drop this one.
            Err(_) => {
                std::os::unix::fs::symlink(&to, &target).map_err(ioe(&target))?;
                std::fs::remove_file(path).map_err(ioe(path))?;
            }
        }
        fsync_dir(&dir);
        let reason = d.to_string();
        tracing::warn!(target: "entrywatch", event = "FileQuarantined", file = %name, inbox = %inbox.name, reason = %reason);
        Ok(Outcome::Quarantined { reason })
    }

    /// Append journal lines (one fsync for all).
    fn journal(&self, recs: &[&FileRecord]) -> Result<(), IngestError> {
        let mut text = String::new();
        for rec in recs {
            let line = JournalLine {
                seq: rec.seq,
                sha256: rec.sha256.clone(),
                name: rec.name.clone(),
                inbox: rec.inbox.clone(),
                role: rec.role,
                received: rec.received,
                archive: rec.archive.clone(),
            };
            text.push_str(&serde_json::to_string(&line).unwrap_or_default());
            text.push('\n');
        }
        let path = self.layout.journal();
        let _g = self.journal_lock.lock().unwrap_or_else(|e| e.into_inner());
        std::fs::create_dir_all(self.layout.archive_root()).map_err(ioe(&path))?;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(ioe(&path))?;
        let before = f.metadata().map_err(ioe(&path))?.len();
        if let Err(e) = f.write_all(text.as_bytes()).and_then(|_| f.sync_data()) {
            // A full disk can take part of a line: cut it off, so the journal holds whole lines
            // only and the retry appends the line once.
            let _ = f.set_len(before).and_then(|_| f.sync_data());
            return Err(IngestError::Io { path, err: e });
        }
        Ok(())
    }

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

    /// Write one file's facts in ONE transaction (not flushed).
    fn apply(&self, interp: &Interpretation, rec: FileRecord) -> Result<Applied, IngestError> {
        apply(&self.store, &self.hooks, interp, rec, (&self.variance, &self.grammars), &self.index)
    }
}

/// Record a failed store write (I/O: disk full ...) for `/healthz` and the restart.
fn note_store_failure(e: &IngestError) {
    if let IngestError::Store(StoreError::Io(msg)) = e {
        crate::health::store_write_failed(msg);
    }
}

/// The suffix of a quarantined file's report.
pub const REPORT_SUFFIX: &str = ".error.txt";

fn report_path(target: &Path) -> PathBuf {
    let mut o = target.as_os_str().to_os_string();
    o.push(REPORT_SUFFIX);
    PathBuf::from(o)
}

/// Keep at most [`MAX_DIAGNOSTICS`] diagnostics (errors first, in file order), and say how
/// many more there were.
fn cap_diagnostics(d: &mut Vec<Diagnostic>) {
    if d.len() <= MAX_DIAGNOSTICS + 1 {
        return;
    }
    let dropped = d.len() - MAX_DIAGNOSTICS;
    // Stable: errors keep their order, then warnings.
    d.sort_by_key(|x| !x.is_error());
    d.truncate(MAX_DIAGNOSTICS);
    d.push(not_kept("P099", dropped));
}

/// Write a quarantine report (created new: never over another file's), one line per problem.
fn write_report(path: &Path, name: &str, inbox: &str, what: &str, diags: &[Diagnostic]) -> Result<(), IngestError> {
    let f = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(ioe(path))?;
    let mut w = std::io::BufWriter::new(f);
    let head = format!("{name}: {what}\ninbox: {inbox}\n\n");
    let mut r = w.write_all(head.as_bytes());
    for d in diags.iter().take(MAX_DIAGNOSTICS + 1) {
        r = r.and_then(|_| writeln!(w, "{d}"));
    }
    r.and_then(|_| w.flush()).map_err(ioe(path))?;
    w.get_ref().sync_all().map_err(ioe(path))
}

fn is_temp(p: &Path) -> bool {
    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    n.starts_with('.')
}

/// The name a claimed file arrived with (work files keep it). A name that is not UTF-8 is
/// read with its invalid bytes replaced (U+FFFD): the file is still processed, under that name.
fn original_name(p: &Path) -> String {
    match p.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => "file".to_string(),
    }
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

fn apply(
    store: &Store,
    hooks: &[Arc<dyn IngestHook>],
    interp: &Interpretation,
    rec: FileRecord,
    variance: (&crate::config::Variance, &Grammars),
    index: &crate::query::IndexCtx,
) -> Result<Applied, IngestError> {
    let mut by_entry: BTreeMap<String, (EntryNumber, Vec<Fact>)> = BTreeMap::new();
    for (e, f) in &interp.facts {
        by_entry.entry(e.compact()).or_insert_with(|| (e.clone(), Vec::new())).1.push(f.clone());
    }
    let mut monthly_targets: Vec<(MonthlyLink, Vec<String>)> = Vec::new();
    for link in &interp.monthly {
        let prefix = format!("e|{}|", link.daily_number);
        let mut entries = Vec::new();
        for item in store.scan_prefix::<u8>(Table::Statements, prefix.as_bytes()) {
            let (k, _) = item?;
            if let Some(e) = k.get(prefix.len()..) {
                entries.push(String::from_utf8_lossy(e).to_string());
            }
        }
        monthly_targets.push((link.clone(), entries));
    }
    let r = store.transaction(|tx| {
        let sha = rec.sha256.as_bytes();
        if tx.get::<FileRecord>(Table::Files, sha)?.is_some() {
            return Ok(Applied::Duplicate);
        }
        let mut work = by_entry.clone();
        // Pre-entries without an entry number: attach through a known reference, else wait.
        for f in &interp.unmatched_pre_entries {
            let FactKind::PreEntryApproved { pre_entry } = &f.kind else { continue };
            let Some(key) = pre_entry.ref_key() else { continue };
            match tx.get::<String>(Table::Refs, key.as_bytes())? {
                Some(entry_key) => {
                    if let Ok(en) = entry_key.parse::<EntryNumber>() {
                        work.entry(entry_key).or_insert_with(|| (en, Vec::new())).1.push(f.clone());
                    }
                }
                None => {
                    let mut pending: Vec<Fact> = tx.get(Table::PendingPreEntries, key.as_bytes())?.unwrap_or_default();
                    add_fact(&mut pending, f.clone());
                    tx.put(Table::PendingPreEntries, key.as_bytes(), &pending)?;
                }
            }
        }
        // Monthly statements: tie to the entries on each daily statement (found before the
        // transaction, `monthly_targets`); remember the link for entries that come later.
        for (link, entries) in &monthly_targets {
            let mkey = format!("m|{}", link.daily_number);
            let mut links: Vec<MonthlyLink> = tx.get(Table::Statements, mkey.as_bytes())?.unwrap_or_default();
            if !links.contains(link) {
                links.push(link.clone());
                tx.put(Table::Statements, mkey.as_bytes(), &links)?;
            }
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
        let mut touched = Vec::new();
        for (key, (en, new_facts)) in work {
            let kb = key.as_bytes();
            let facts: Vec<Fact> = tx.get(Table::Facts, kb)?.unwrap_or_default();
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
                            tx.put(Table::Refs, rk.as_bytes(), &key)?;
                            if let Some(p) = tx.get::<Vec<Fact>>(Table::PendingPreEntries, rk.as_bytes())? {
                                extra.extend(p);
                                tx.remove(Table::PendingPreEntries, rk.as_bytes())?;
                            }
                        }
                    }
                    FactKind::Statement { number, .. } => {
                        let ekey = format!("e|{number}|{key}");
                        if tx.get::<u8>(Table::Statements, ekey.as_bytes())?.is_none() {
                            tx.put(Table::Statements, ekey.as_bytes(), &1u8)?;
                        }
                        let mkey = format!("m|{number}");
                        let links: Vec<MonthlyLink> = tx.get(Table::Statements, mkey.as_bytes())?.unwrap_or_default();
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
        let mut r = rec.clone();
        r.seq = tx.generate_id()?;
        r.entries = touched.iter().map(EntryNumber::compact).collect();
        tx.put(Table::Files, sha, &r)?;
        tx.put(Table::Order, &r.seq.to_be_bytes(), &r.sha256)?;
        crate::query::index::file_tx(tx)?;
        Ok(Applied::Done(touched, r))
    })?;
    Ok(r)
}

/// What `rebuild` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RebuildReport {
    pub files: usize,
    pub entries: usize,
    pub missing: Vec<String>,
    pub old_store: Option<String>,
}

/// Read the journal: one line per archived file, first occurrence of each SHA-256 wins.
pub fn read_journal(path: &Path) -> Vec<JournalLine> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .filter_map(|l| serde_json::from_str::<JournalLine>(l).ok())
        .filter(|j| seen.insert(j.sha256.clone()))
        .collect()
}

/// Replay the archive, in original processing order, into a fresh store; then swap it in
/// (the old store is kept beside it as `store.old-<n>`).
pub fn rebuild(config: &Config, grammars: &Grammars) -> Result<RebuildReport, IngestError> {
    let layout = Layout { data_dir: config.data_dir.clone() };
    let fresh_path = layout.data_dir.join("store.rebuild");
    if fresh_path.exists() {
        std::fs::remove_dir_all(&fresh_path).map_err(ioe(&fresh_path))?;
    }
    let mut report = RebuildReport::default();
    let index = crate::query::IndexCtx::from_config(config);
    {
        let fresh = Store::open(&fresh_path)?;
        for j in read_journal(&layout.journal()) {
            let path = layout.data_dir.join(&j.archive);
            let Ok(bytes) = std::fs::read(&path) else {
                report.missing.push(j.archive.clone());
                continue;
            };
            if sha256_hex(&bytes) != j.sha256 {
                report.missing.push(format!("{} (content changed)", j.archive));
                continue;
            }
            let ctx =
                FileContext { name: &j.name, inbox: &j.inbox, role: j.role, sha256: &j.sha256, received: j.received };
            let interp = interpret(&bytes, &ctx, grammars);
            let rec = FileRecord {
                sha256: j.sha256.clone(),
                name: j.name.clone(),
                inbox: j.inbox.clone(),
                role: j.role,
                received: j.received,
                seq: 0,
                archive: j.archive.clone(),
                entries: Vec::new(),
                duplicates: Vec::new(),
            };
            apply(&fresh, &[], &interp, rec, (&config.variance, grammars), &index)?;
            report.files += 1;
        }
        // What is not in the archive is kept from the old store: acknowledgment control numbers
        // and records (src/ack), the outbox (so nothing is mailed again and its history stays)
        // and the ledger of reminders sent.
        if layout.store().exists() {
            let kept = [Table::Acks, Table::Outbox, Table::Reminders];
            if let Err(e) = crate::ack::control::carry_tables(&layout.store(), &fresh, &kept) {
                tracing::warn!(target: "entrywatch", event = "TablesNotCarried", error = %e);
            }
        }
        fresh.flush()?;
        report.entries = fresh.len(Table::Entries);
    }
    let live = layout.store();
    if live.exists() {
        let old =
            (1..).map(|n| layout.data_dir.join(format!("store.old-{n}"))).find(|p| !p.exists()).unwrap_or(live.clone());
        std::fs::rename(&live, &old).map_err(ioe(&live))?;
        report.old_store = Some(old.display().to_string());
    }
    std::fs::rename(&fresh_path, &live).map_err(ioe(&fresh_path))?;
    fsync_dir(&layout.data_dir);
    Ok(report)
}

/// Read an entry and its facts from the store, folded without evaluations
/// (`store::entries::load` gives the state with its variance).
pub fn load_entry(store: &Store, entry: &EntryNumber) -> Result<Option<(Entry, Vec<Fact>)>, StoreError> {
    crate::store::entries::derived(store, entry)
}
