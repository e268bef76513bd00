//! The entry store: the ONLY module that imports sled. Logical tables with typed (serde JSON) values,
//! one multi-table transaction per file, explicit flush, schema version, open check.
//!
//! Nothing outside this module sees a sled type: another engine could replace it by keeping
//! [`Store`], [`StoreTx`], [`Table`], [`StoreError`] and [`TxError`].

pub mod acks;
pub mod entries;
pub mod files;
pub mod links;
pub mod outbox;
pub mod refs;
pub mod reminders;
pub mod statements;

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The schema version written under `meta/schema_version`. A store with another version is
/// refused at open with the advice to run `entrywatch rebuild`.
/// Version 2 added the `links` table (the affected-entries index); version 3 the `index`
/// table (the query side's indexes and aggregates, `query::index`); version 4 the recovery
/// sums in it (`query::recovery`); version 5 `report anomalies`' candidate postings in it.
pub const SCHEMA_VERSION: u32 = 5;

/// The logical tables. Values are JSON-encoded serde types; keys are UTF-8 strings or
/// big-endian integers (see each table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// entry key (`EEE12345673`) → `domain::EntryRow` ([`entries`]).
    Entries,
    /// entry key → `Vec<domain::Fact>` (append-only log; state is folded from it; [`entries`]).
    Facts,
    /// SHA-256 hex → `ingest::FileRecord` ([`files`]).
    Files,
    /// sequence (u64 big-endian) → SHA-256 hex: processing order ([`files`]).
    Order,
    /// `importer|broker_ref` → approved pre-entry facts waiting for their filing.
    PendingPreEntries,
    /// `importer|broker_ref` → entry key, written when a filing names them.
    Refs,
    /// `e|<statement>|<entry>` → 1 for each entry on a daily statement; `m|<statement>` → the
    /// monthly statements listing that daily statement.
    Statements,
    /// Alerts queued for the mailer (written by alert rules inside the same transaction); key
    /// formats in [`outbox`].
    Outbox,
    /// Deadline reminders already sent ([`reminders`]).
    Reminders,
    /// X12 acknowledgments sent and received, and our control numbers (key formats in [`acks`]).
    Acks,
    /// Store metadata: `schema_version`.
    Meta,
    /// The affected-entries index; key formats in [`links`]: `p|<kind>|<value>` → sorted
    /// entry keys sharing that link; `e|<entry>` → that entry's links.
    Links,
    /// The query side's indexes and aggregates, kept in each file's transaction; key formats
    /// in `query::index`.
    Index,
}

impl Table {
    pub const ALL: [Table; 13] = [
        Table::Entries,
        Table::Facts,
        Table::Files,
        Table::Order,
        Table::PendingPreEntries,
        Table::Refs,
        Table::Statements,
        Table::Outbox,
        Table::Reminders,
        Table::Acks,
        Table::Meta,
        Table::Links,
        Table::Index,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Entries => "entries",
            Table::Facts => "facts",
            Table::Files => "files",
            Table::Order => "order",
            Table::PendingPreEntries => "pending_pre_entries",
            Table::Refs => "refs",
            Table::Statements => "statements",
            Table::Outbox => "outbox",
            Table::Reminders => "reminders",
            Table::Acks => "acks",
            Table::Meta => "meta",
            Table::Links => "links",
            Table::Index => "index",
        }
    }

    fn index(self) -> usize {
        Table::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// A store problem. `Open` carries the operator's next step.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the entry store at {path} does not open ({reason}); run `entrywatch rebuild` to rebuild it from the archive"
    )]
    Open { path: PathBuf, reason: String },
    #[error(
        "the entry store at {path} is in use by another entrywatch process (the daemon, or an ingest in progress): \
         sled lets one process open it; while the daemon runs, the data commands ask it over its local socket \
         (and its dashboard shows the same under /api/); the store is not damaged"
    )]
    InUse { path: PathBuf },
    #[error(
        "this user may not open the entry store at {path} ({reason}); run the command as the daemon's user \
         (sudo -u entrywatch ...), or, while the daemon runs, from a user in its group"
    )]
    NoAccess { path: PathBuf, reason: String },
    #[error("the entry store at {path} has schema version {found}, this entrywatch needs {wanted}; run `entrywatch rebuild` to rebuild it from the archive")]
    Schema { path: PathBuf, found: String, wanted: u32 },
    #[error("store I/O: {0}")]
    Io(String),
    #[error("stored value in {table} under {key:?} is not readable: {err}")]
    Decode { table: &'static str, key: String, err: String },
    #[error("transaction aborted: {0}")]
    Aborted(String),
}

/// An error inside a transaction closure: a conflict/storage error (retried or reported by
/// the engine) or an abort with a reason.
#[derive(Debug)]
pub struct TxError(TxErrorInner);

#[derive(Debug)]
enum TxErrorInner {
    Engine(sled::transaction::UnabortableTransactionError),
    Abort(String),
}

impl TxError {
    /// Abort the transaction: nothing of it is written.
    pub fn abort(reason: impl Into<String>) -> TxError {
        TxError(TxErrorInner::Abort(reason.into()))
    }
}

impl From<sled::transaction::UnabortableTransactionError> for TxError {
    fn from(e: sled::transaction::UnabortableTransactionError) -> Self {
        TxError(TxErrorInner::Engine(e))
    }
}

impl std::fmt::Display for TxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            TxErrorInner::Engine(e) => write!(f, "{e}"),
            TxErrorInner::Abort(s) => write!(f, "{s}"),
        }
    }
}

/// A view of every table inside one transaction.
pub struct StoreTx<'a> {
    trees: &'a [sled::transaction::TransactionalTree],
    /// Bytes of keys and values written by this run of the closure (the checkpoint policy's
    /// measure of the log a crash would make the next start read).
    written: u64,
    /// Sorted string sets (posting lists) changed in this transaction, kept decoded and
    /// written once when the closure returns: a file adding 10,000 entries to one list costs
    /// 10,000 set inserts, not 10,000 reads and writes of a growing list.
    sets: std::collections::HashMap<(usize, Vec<u8>), std::collections::BTreeSet<String>>,
}

impl StoreTx<'_> {
    fn tree(&self, t: Table) -> Result<&sled::transaction::TransactionalTree, TxError> {
        self.trees.get(t.index()).ok_or_else(|| TxError::abort(format!("table {} missing", t.name())))
    }

    /// Read a typed value.
    pub fn get<T: DeserializeOwned>(&self, t: Table, key: &[u8]) -> Result<Option<T>, TxError> {
        match self.tree(t)?.get(key)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| TxError::abort(format!("{} {:?}: {e}", t.name(), String::from_utf8_lossy(key)))),
        }
    }

    /// Write a typed value.
    pub fn put<T: Serialize>(&mut self, t: Table, key: &[u8], value: &T) -> Result<(), TxError> {
        let bytes = serde_json::to_vec(value).map_err(|e| TxError::abort(e.to_string()))?;
        self.written += (key.len() + bytes.len()) as u64;
        self.tree(t)?.insert(key, bytes)?;
        Ok(())
    }

    pub fn remove(&mut self, t: Table, key: &[u8]) -> Result<(), TxError> {
        self.written += key.len() as u64;
        self.tree(t)?.remove(key)?;
        Ok(())
    }

    /// A sorted set of strings stored as a JSON list (a posting list), as it stands in this
    /// transaction.
    pub fn set_get(&self, t: Table, key: &[u8]) -> Result<Vec<String>, TxError> {
        match self.sets.get(&(t.index(), key.to_vec())) {
            Some(s) => Ok(s.iter().cloned().collect()),
            None => Ok(self.get::<Vec<String>>(t, key)?.unwrap_or_default()),
        }
    }

    fn set_mut(&mut self, t: Table, key: &[u8]) -> Result<&mut std::collections::BTreeSet<String>, TxError> {
        let k = (t.index(), key.to_vec());
        if !self.sets.contains_key(&k) {
            let list: Vec<String> = self.get(t, key)?.unwrap_or_default();
            self.sets.insert(k.clone(), list.into_iter().collect());
        }
        self.sets.get_mut(&k).ok_or_else(|| TxError::abort("set vanished"))
    }

    /// Add a member to a sorted string set (written when the transaction's closure returns).
    pub fn set_insert(&mut self, t: Table, key: &[u8], member: &str) -> Result<(), TxError> {
        let s = self.set_mut(t, key)?;
        if !s.contains(member) {
            s.insert(member.to_string());
        }
        Ok(())
    }

    /// Take a member out of a sorted string set; an empty set is removed.
    pub fn set_remove(&mut self, t: Table, key: &[u8], member: &str) -> Result<(), TxError> {
        self.set_mut(t, key)?.remove(member);
        Ok(())
    }

    /// Write the changed sets (sorted lists; an empty set removes its key).
    fn write_sets(&mut self) -> Result<(), TxError> {
        for ((t, key), set) in std::mem::take(&mut self.sets) {
            let tree = self.trees.get(t).ok_or_else(|| TxError::abort("table missing"))?;
            if set.is_empty() {
                self.written += key.len() as u64;
                tree.remove(key)?;
            } else {
                let list: Vec<&String> = set.iter().collect();
                let bytes = serde_json::to_vec(&list).map_err(|e| TxError::abort(e.to_string()))?;
                self.written += (key.len() + bytes.len()) as u64;
                tree.insert(key, bytes)?;
            }
        }
        Ok(())
    }

    /// A unique, increasing id (for sequence keys).
    pub fn generate_id(&self) -> Result<u64, TxError> {
        self.tree(Table::Meta)?.generate_id().map_err(|e| TxError::abort(e.to_string()))
    }
}

/// The open engine: the database and one tree per table.
struct Engine {
    db: sled::Db,
    trees: Vec<sled::Tree>,
}

impl Engine {
    fn tree(&self, t: Table) -> &sled::Tree {
        // `Engine::open` opens every table of `Table::ALL`, in that order.
        &self.trees[t.index()]
    }
}

/// What every clone of a [`Store`] shares: the open engine, which [`Store::checkpoint_live`]
/// closes and reopens in place, and what was written since it was last opened.
struct Shared {
    /// `None` only after a live checkpoint failed to reopen the store: every call is then an
    /// error (the daemon reports it and exits for systemd to restart it).
    engine: std::sync::RwLock<Option<Arc<Engine>>>,
    /// Bytes of keys and values committed since the engine was opened.
    written: AtomicU64,
    /// Transactions committed since the engine was opened.
    commits: AtomicU64,
}

/// sled's page cache for stores opened from now on (`[daemon] store-cache-mb`); sled's own
/// default is 1 GiB, and its memory grows well past the figure (docs/performance.md).
static CACHE_BYTES: AtomicU64 = AtomicU64::new(crate::config::DEFAULT_STORE_CACHE_MB << 20);

/// [`Store::checkpoint_if_written`]'s threshold in bytes (`[daemon] checkpoint-after-mb`;
/// 0: never).
static CHECKPOINT_AFTER: AtomicU64 = AtomicU64::new(crate::config::DEFAULT_CHECKPOINT_AFTER_MB << 20);

/// Take the store settings of `[daemon]` for this process: the page cache of the stores it
/// opens from now on, and the amount written after which a store is checkpointed in place.
pub fn configure(d: &crate::config::Daemon) {
    CACHE_BYTES.store(d.store_cache_mb.saturating_mul(1 << 20).max(1 << 20), Ordering::Relaxed);
    CHECKPOINT_AFTER.store(d.checkpoint_after_mb.saturating_mul(1 << 20), Ordering::Relaxed);
}

/// The entry store. Clones share one open engine.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
    path: PathBuf,
}

/// What was committed since the store was last opened (or checkpointed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    pub commits: u64,
    pub bytes: u64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// A stored value of table `t` under `key`, decoded (an error names both).
fn decode<T: DeserializeOwned>(t: Table, key: &[u8], v: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Decode {
        table: t.name(),
        key: String::from_utf8_lossy(key).into(),
        err: e.to_string(),
    })
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

impl Engine {
    /// Open (or create) the engine at `path` and check its schema version.
    fn open(path: &Path) -> Result<Engine, StoreError> {
        let open_err = |e: &dyn std::fmt::Display| StoreError::Open { path: path.to_path_buf(), reason: e.to_string() };
        // sled panics on some corrupt files: contain it so the operator gets the message.
        let p = path.to_path_buf();
        let cache = CACHE_BYTES.load(Ordering::Relaxed);
        let opened = std::panic::catch_unwind(move || {
            sled::Config::new().path(p).mode(sled::Mode::LowSpace).cache_capacity(cache).open()
        });
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(e)) if e.to_string().contains("could not acquire lock") => {
                return Err(StoreError::InUse { path: path.to_path_buf() })
            }
            Ok(Err(sled::Error::Io(e))) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(StoreError::NoAccess { path: path.to_path_buf(), reason: e.to_string() })
            }
            Ok(Err(e)) => return Err(open_err(&e)),
            Err(_) => return Err(open_err(&"the storage engine crashed while opening it")),
        };
        let mut trees = Vec::new();
        for t in Table::ALL {
            trees.push(db.open_tree(t.name()).map_err(|e| open_err(&e))?);
        }
        let engine = Engine { db, trees };
        let meta = engine.tree(Table::Meta);
        match meta.get(b"schema_version").map_err(|e| open_err(&e))? {
            None => {
                let is_empty = engine.trees.iter().all(|t| t.is_empty());
                if !is_empty {
                    return Err(StoreError::Schema {
                        path: path.to_path_buf(),
                        found: "none".into(),
                        wanted: SCHEMA_VERSION,
                    });
                }
                meta.insert(b"schema_version", SCHEMA_VERSION.to_string().as_bytes()).map_err(|e| open_err(&e))?;
                engine.db.flush().map_err(io)?;
            }
            Some(v) => {
                let found = String::from_utf8_lossy(&v).to_string();
                if found != SCHEMA_VERSION.to_string() {
                    return Err(StoreError::Schema { path: path.to_path_buf(), found, wanted: SCHEMA_VERSION });
                }
            }
        }
        Ok(engine)
    }

    /// [`Engine::open`], waiting up to `max` while the store is still locked: sled releases its
    /// file lock when its last handle is gone, and its flusher thread holds one for a moment
    /// after this process dropped its own (a reopen in the same process can race it).
    fn open_when_released(path: &Path, max: Duration) -> Result<Engine, StoreError> {
        let t = Instant::now();
        loop {
            match Engine::open(path) {
                Err(StoreError::InUse { .. }) if t.elapsed() < max => std::thread::sleep(Duration::from_millis(20)),
                r => return r,
            }
        }
    }
}

/// The items of `r`'s iterator, or `r`'s error as the one item.
fn or_error<I, X>(r: Result<I, StoreError>) -> impl Iterator<Item = Result<X, StoreError>>
where
    I: Iterator<Item = Result<X, StoreError>>,
{
    let (ok, err) = match r {
        Ok(it) => (Some(it), None),
        Err(e) => (None, Some(Err(e))),
    };
    ok.into_iter().flatten().chain(err)
}

impl Store {
    /// Open (or create) the store at `path` and check its schema version. A store that does
    /// not open, or has another schema version, is an error whose message says to run
    /// `entrywatch rebuild`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Engine::open(path).map(|e| Store::with_engine(path, e))
    }

    fn with_engine(path: &Path, engine: Engine) -> Store {
        Store {
            shared: Arc::new(Shared {
                engine: std::sync::RwLock::new(Some(Arc::new(engine))),
                written: AtomicU64::new(0),
                commits: AtomicU64::new(0),
            }),
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open engine (held by the caller for the length of one call or iteration).
    fn engine(&self) -> Result<Arc<Engine>, StoreError> {
        let slot = self.shared.engine.read().unwrap_or_else(|p| p.into_inner());
        slot.clone().ok_or_else(|| self.closed())
    }

    /// The error of every call once a live checkpoint could not open the store again.
    fn closed(&self) -> StoreError {
        StoreError::Open {
            path: self.path.clone(),
            reason: "it was closed for a checkpoint and did not open again".into(),
        }
    }

    /// Open the store at `path` once more and close it, once every handle of this process is
    /// dropped: sled writes its snapshot when it opens, so the log written since the last
    /// open is read now (at shutdown) rather than at the next start, which then opens in a
    /// fraction of a second (`cargo bench --bench readmodel` measures both opens). sled 0.34.7
    /// writes a snapshot only in `pagecache::snapshot::read_snapshot_or_default`, called by
    /// `PageCache::start` at open; `Config::snapshot_after_ops` is a no-op there (config.rs),
    /// and `PageCache::take_fuzzy_snapshot` is never called (pagecache/mod.rs).
    pub fn checkpoint(path: &Path) -> Result<Duration, StoreError> {
        let t = Instant::now();
        drop(Store::open_when_released(path, Duration::from_secs(5))?);
        Ok(t.elapsed())
    }

    /// The same checkpoint while the store is in use: wait (up to `wait`) for a moment when no
    /// call of any clone holds the engine, then flush, close and reopen it in place; calls
    /// made meanwhile wait for the reopen. Returns how long the store was closed, or `None`
    /// when it stayed busy for `wait` (nothing was done; try again later). A start after a
    /// crash then reads only the log written since this checkpoint ([`Store::written`]).
    /// If the store does not open again, every later call fails with [`StoreError::Open`].
    pub fn checkpoint_live(&self, wait: Duration) -> Result<Option<Duration>, StoreError> {
        let t = Instant::now();
        loop {
            let slot = match self.shared.engine.try_write() {
                Ok(g) => Some(g),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            };
            if let Some(mut slot) = slot {
                let idle = match slot.as_ref() {
                    Some(e) => Arc::strong_count(e) == 1,
                    None => return Err(self.closed()),
                };
                if idle {
                    let closed = Instant::now();
                    if let Some(e) = slot.as_ref() {
                        e.db.flush().map_err(io)?;
                    }
                    drop(slot.take());
                    let engine = Engine::open_when_released(&self.path, Duration::from_secs(30))?;
                    *slot = Some(Arc::new(engine));
                    self.shared.written.store(0, Ordering::Relaxed);
                    self.shared.commits.store(0, Ordering::Relaxed);
                    return Ok(Some(closed.elapsed()));
                }
            }
            if t.elapsed() >= wait {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A live checkpoint if at least the threshold was written since the last one, and only
    /// if no other call holds the store right now (no wait). Called between the chunks of a
    /// large file: sled's memory grows with what was written since it opened, well past its
    /// cache capacity (a 100,000-entry load without it: 1 GB and growing; with a checkpoint
    /// every 32 MiB: 370 MB, flat), and a crash then leaves a short log.
    pub fn checkpoint_if_written(&self) -> Result<Option<Duration>, StoreError> {
        let after = CHECKPOINT_AFTER.load(Ordering::Relaxed);
        if after == 0 || self.written().bytes < after {
            return Ok(None);
        }
        self.checkpoint_live(Duration::ZERO)
    }

    /// What was committed since the store was opened or last checkpointed in place.
    pub fn written(&self) -> Written {
        Written {
            commits: self.shared.commits.load(Ordering::Relaxed),
            bytes: self.shared.written.load(Ordering::Relaxed),
        }
    }

    /// [`Store::open`], waiting up to `max` while the store is still locked: sled releases its
    /// file lock when its last handle is gone, and its flusher thread holds one for a moment
    /// after this process dropped its own (a reopen in the same process can race it).
    pub fn open_when_released(path: &Path, max: Duration) -> Result<Store, StoreError> {
        Engine::open_when_released(path, max).map(|e| Store::with_engine(path, e))
    }

    /// Run `f` as ONE transaction over every table. The closure may run more than once
    /// (on conflict); it must only read and write through `tx`.
    pub fn transaction<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: Fn(&mut StoreTx<'_>) -> Result<T, TxError>,
    {
        use sled::transaction::{ConflictableTransactionError as C, TransactionError};
        use sled::Transactional;
        let engine = self.engine()?;
        let r = engine.trees.as_slice().transaction(|trees| {
            let mut tx = StoreTx { trees: trees.as_slice(), written: 0, sets: std::collections::HashMap::new() };
            f(&mut tx).and_then(|v| tx.write_sets().map(|_| (v, tx.written))).map_err(|e| match e.0 {
                TxErrorInner::Engine(sled::transaction::UnabortableTransactionError::Conflict) => C::Conflict,
                TxErrorInner::Engine(sled::transaction::UnabortableTransactionError::Storage(s)) => C::Storage(s),
                TxErrorInner::Abort(s) => C::Abort(s),
            })
        });
        match r {
            Ok((v, written)) => {
                self.shared.written.fetch_add(written, Ordering::Relaxed);
                self.shared.commits.fetch_add(1, Ordering::Relaxed);
                Ok(v)
            }
            Err(TransactionError::Abort(s)) => Err(StoreError::Aborted(s)),
            Err(TransactionError::Storage(e)) => Err(io(e)),
        }
    }

    /// Make every committed transaction durable. Called before any side effect.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.engine()?.db.flush().map(|_| ()).map_err(io)
    }

    /// Read one typed value outside a transaction.
    pub fn get<T: DeserializeOwned>(&self, t: Table, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.engine()?.tree(t).get(key).map_err(io)? {
            None => Ok(None),
            Some(v) => decode(t, key, &v).map(Some),
        }
    }

    /// The (key, value) pairs an engine iterator gives, decoded; the engine stays held (a
    /// live checkpoint waits) until the iterator is dropped.
    fn pairs<T: DeserializeOwned>(
        &self,
        t: Table,
        iter: impl FnOnce(&sled::Tree) -> sled::Iter,
    ) -> impl Iterator<Item = Result<(Vec<u8>, T), StoreError>> {
        or_error(self.engine().map(|engine| {
            let it = iter(engine.tree(t));
            it.map(move |kv| {
                let _held = &engine;
                let (k, v) = kv.map_err(io)?;
                Ok((k.to_vec(), decode(t, &k, &v)?))
            })
        }))
    }

    /// Every (key, value) of a table in key order; values that do not decode are errors.
    pub fn scan<T: DeserializeOwned>(&self, t: Table) -> impl Iterator<Item = Result<(Vec<u8>, T), StoreError>> {
        self.pairs(t, |tree| tree.iter())
    }

    /// Keys starting with `prefix`, in order.
    pub fn scan_prefix<T: DeserializeOwned>(
        &self,
        t: Table,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, T), StoreError>> {
        let prefix = prefix.to_vec();
        self.pairs(t, move |tree| tree.scan_prefix(prefix))
    }

    /// The (key, value) pairs with `start <= key < end`, in key order.
    pub fn range<T: DeserializeOwned>(
        &self,
        t: Table,
        start: &[u8],
        end: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, T), StoreError>> {
        let (start, end) = (start.to_vec(), end.to_vec());
        self.pairs(t, move |tree| tree.range(start..end))
    }

    /// The keys (values not read) starting with `prefix`, in key order.
    pub fn keys_with_prefix(&self, t: Table, prefix: &[u8]) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> {
        or_error(self.engine().map(|engine| {
            let it = engine.tree(t).scan_prefix(prefix).keys();
            it.map(move |k| {
                let _held = &engine;
                k.map(|k| k.to_vec()).map_err(io)
            })
        }))
    }

    /// The greatest key of a table (a cheap change marker for append-only tables such as `order`).
    pub fn last_key(&self, t: Table) -> Option<Vec<u8>> {
        self.engine().ok()?.tree(t).last().ok().flatten().map(|(k, _)| k.to_vec())
    }

    pub fn len(&self, t: Table) -> usize {
        self.engine().map(|e| e.tree(t).len()).unwrap_or(0)
    }

    pub fn is_empty(&self, t: Table) -> bool {
        self.engine().map(|e| e.tree(t).is_empty()).unwrap_or(true)
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.engine().ok().and_then(|e| e.db.size_on_disk().ok()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_writes_all_tables_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("store")).unwrap();
        s.transaction(|tx| {
            tx.put(Table::Entries, b"a", &1u32)?;
            tx.put(Table::Files, b"f", &"x")?;
            Ok(())
        })
        .unwrap();
        let r: Result<(), _> = s.transaction(|tx| {
            tx.put(Table::Entries, b"b", &2u32)?;
            Err(TxError::abort("no"))
        });
        assert!(matches!(r, Err(StoreError::Aborted(_))));
        s.flush().unwrap();
        assert_eq!(s.get::<u32>(Table::Entries, b"a").unwrap(), Some(1));
        assert_eq!(s.get::<u32>(Table::Entries, b"b").unwrap(), None);
        assert_eq!(s.get::<String>(Table::Files, b"f").unwrap().as_deref(), Some("x"));
    }

    #[test]
    fn a_live_checkpoint_waits_for_every_reader_and_keeps_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("store")).unwrap();
        let other = s.clone();
        assert_eq!(s.written(), Written::default());
        for i in 0..3u32 {
            s.transaction(|tx| tx.put(Table::Entries, format!("k{i}").as_bytes(), &i)).unwrap();
        }
        let w = s.written();
        assert_eq!(w.commits, 3);
        assert!(w.bytes >= 3 * 3, "{w:?}");
        // A reader in the middle of its scan holds the engine: the checkpoint waits, then gives up.
        let mut held = other.scan::<u32>(Table::Entries);
        assert_eq!(held.next().unwrap().unwrap().1, 0);
        assert_eq!(s.checkpoint_live(Duration::from_millis(50)).unwrap(), None);
        assert_eq!(s.written().commits, 3, "nothing was done");
        assert_eq!(held.next().unwrap().unwrap().1, 1, "the scan goes on over the same engine");
        drop(held);
        assert!(s.checkpoint_live(Duration::from_secs(5)).unwrap().is_some());
        assert_eq!(s.written(), Written::default());
        // Every clone reads and writes the reopened store.
        let all: Vec<u32> = other.scan::<u32>(Table::Entries).map(|r| r.unwrap().1).collect();
        assert_eq!(all, vec![0, 1, 2]);
        other.transaction(|tx| tx.put(Table::Entries, b"k3", &3u32)).unwrap();
        assert_eq!(s.get::<u32>(Table::Entries, b"k3").unwrap(), Some(3));
        assert_eq!(s.written().commits, 1);
        // Closed and opened again: everything is there.
        let path = s.path().to_path_buf();
        drop((s, other));
        let again = Store::open_when_released(&path, Duration::from_secs(10)).unwrap();
        assert_eq!(again.len(Table::Entries), 4);
    }

    #[test]
    fn a_live_checkpoint_that_cannot_reopen_fails_every_later_call() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("store");
        let s = Store::open(&p).unwrap();
        s.transaction(|tx| tx.put(Table::Entries, b"a", &1u32)).unwrap();
        // Another schema on disk: the reopen refuses it.
        s.engine().unwrap().tree(Table::Meta).insert(b"schema_version", &b"999"[..]).unwrap();
        let e = s.checkpoint_live(Duration::from_secs(5)).unwrap_err();
        assert!(e.to_string().contains("entrywatch rebuild"), "{e}");
        let again = s.checkpoint_live(Duration::from_secs(1)).unwrap_err();
        assert!(again.to_string().contains("did not open again"), "{again}");
        let later = s.get::<u32>(Table::Entries, b"a").unwrap_err();
        assert!(later.to_string().contains("did not open again"), "{later}");
        assert!(s.scan::<u32>(Table::Entries).next().unwrap().is_err());
        assert!(s.transaction(|tx| tx.put(Table::Entries, b"b", &2u32)).is_err());
    }

    #[test]
    fn wrong_schema_version_says_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("store");
        {
            let s = Store::open(&p).unwrap();
            s.engine().unwrap().tree(Table::Meta).insert(b"schema_version", &b"999"[..]).unwrap();
            s.flush().unwrap();
        }
        let e = Store::open_when_released(&p, std::time::Duration::from_secs(10)).unwrap_err();
        assert!(e.to_string().contains("entrywatch rebuild"), "{e}");
    }

    #[test]
    fn garbage_store_says_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("store");
        std::fs::write(&p, b"not a database").unwrap();
        let e = Store::open(&p).unwrap_err();
        assert!(e.to_string().contains("entrywatch rebuild"), "{e}");
    }
}
