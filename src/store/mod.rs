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
        self.tree(t)?.insert(key, bytes)?;
        Ok(())
    }

    pub fn remove(&mut self, t: Table, key: &[u8]) -> Result<(), TxError> {
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
                tree.remove(key)?;
            } else {
                let list: Vec<&String> = set.iter().collect();
                let bytes = serde_json::to_vec(&list).map_err(|e| TxError::abort(e.to_string()))?;
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

/// The entry store.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    path: PathBuf,
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

impl Store {
    /// Open (or create) the store at `path` and check its schema version. A store that does
    /// not open, or has another schema version, is an error whose message says to run
    /// `entrywatch rebuild`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |e: &dyn std::fmt::Display| StoreError::Open { path: path.to_path_buf(), reason: e.to_string() };
        // sled panics on some corrupt files: contain it so the operator gets the message.
        let p = path.to_path_buf();
        let opened = std::panic::catch_unwind(move || sled::Config::new().path(p).mode(sled::Mode::LowSpace).open());
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
        let store = Store { db, trees, path: path.to_path_buf() };
        let meta = &store.trees[Table::Meta.index()];
        match meta.get(b"schema_version").map_err(|e| open_err(&e))? {
            None => {
                let is_empty = store.trees.iter().all(|t| t.is_empty());
                if !is_empty {
                    return Err(StoreError::Schema {
                        path: path.to_path_buf(),
                        found: "none".into(),
                        wanted: SCHEMA_VERSION,
                    });
                }
                meta.insert(b"schema_version", SCHEMA_VERSION.to_string().as_bytes()).map_err(|e| open_err(&e))?;
                store.flush()?;
            }
            Some(v) => {
                let found = String::from_utf8_lossy(&v).to_string();
                if found != SCHEMA_VERSION.to_string() {
                    return Err(StoreError::Schema { path: path.to_path_buf(), found, wanted: SCHEMA_VERSION });
                }
            }
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Open the store at `path` once more and close it, once every handle of this process is
    /// dropped: sled writes its snapshot when it opens, so the log written since the last
    /// open is read now (at shutdown) rather than at the next start, which then opens in a
    /// fraction of a second (`cargo bench --bench readmodel` measures both opens). sled 0.34.7
    /// writes a snapshot only in `pagecache::snapshot::read_snapshot_or_default`, called by
    /// `PageCache::start` at open; `Config::snapshot_after_ops` is a no-op there (config.rs).
    pub fn checkpoint(path: &Path) -> Result<std::time::Duration, StoreError> {
        let t = std::time::Instant::now();
        drop(Store::open_when_released(path, std::time::Duration::from_secs(5))?);
        Ok(t.elapsed())
    }

    /// [`Store::open`], waiting up to `max` while the store is still locked: sled releases its
    /// file lock when its last handle is gone, and its flusher thread holds one for a moment
    /// after this process dropped its own (a reopen in the same process can race it).
    pub fn open_when_released(path: &Path, max: std::time::Duration) -> Result<Store, StoreError> {
        let t = std::time::Instant::now();
        loop {
            match Store::open(path) {
                Err(StoreError::InUse { .. }) if t.elapsed() < max => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                r => return r,
            }
        }
    }

    /// Run `f` as ONE transaction over every table. The closure may run more than once
    /// (on conflict); it must only read and write through `tx`.
    pub fn transaction<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: Fn(&mut StoreTx<'_>) -> Result<T, TxError>,
    {
        use sled::transaction::{ConflictableTransactionError as C, TransactionError};
        use sled::Transactional;
        let r = self.trees.as_slice().transaction(|trees| {
            let mut tx = StoreTx { trees: trees.as_slice(), sets: std::collections::HashMap::new() };
            f(&mut tx).and_then(|v| tx.write_sets().map(|_| v)).map_err(|e| match e.0 {
                TxErrorInner::Engine(sled::transaction::UnabortableTransactionError::Conflict) => C::Conflict,
                TxErrorInner::Engine(sled::transaction::UnabortableTransactionError::Storage(s)) => C::Storage(s),
                TxErrorInner::Abort(s) => C::Abort(s),
            })
        });
        match r {
            Ok(v) => Ok(v),
            Err(TransactionError::Abort(s)) => Err(StoreError::Aborted(s)),
            Err(TransactionError::Storage(e)) => Err(io(e)),
        }
    }

    /// Make every committed transaction durable. Called before any side effect.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(io)
    }

    /// Read one typed value outside a transaction.
    pub fn get<T: DeserializeOwned>(&self, t: Table, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.trees[t.index()].get(key).map_err(io)? {
            None => Ok(None),
            Some(v) => decode(t, key, &v).map(Some),
        }
    }

    /// Every (key, value) of a table in key order; values that do not decode are errors.
    pub fn scan<T: DeserializeOwned>(&self, t: Table) -> impl Iterator<Item = Result<(Vec<u8>, T), StoreError>> + '_ {
        self.trees[t.index()].iter().map(move |kv| {
            let (k, v) = kv.map_err(io)?;
            Ok((k.to_vec(), decode(t, &k, &v)?))
        })
    }

    /// Keys starting with `prefix`, in order.
    pub fn scan_prefix<T: DeserializeOwned>(
        &self,
        t: Table,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, T), StoreError>> + '_ {
        self.trees[t.index()].scan_prefix(prefix).map(move |kv| {
            let (k, v) = kv.map_err(io)?;
            Ok((k.to_vec(), decode(t, &k, &v)?))
        })
    }

    /// The (key, value) pairs with `start <= key < end`, in key order.
    pub fn range<T: DeserializeOwned>(
        &self,
        t: Table,
        start: &[u8],
        end: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, T), StoreError>> + '_ {
        self.trees[t.index()].range(start.to_vec()..end.to_vec()).map(move |kv| {
            let (k, v) = kv.map_err(io)?;
            Ok((k.to_vec(), decode(t, &k, &v)?))
        })
    }

    /// The keys (values not read) starting with `prefix`, in key order.
    pub fn keys_with_prefix(&self, t: Table, prefix: &[u8]) -> impl Iterator<Item = Result<Vec<u8>, StoreError>> + '_ {
        self.trees[t.index()].scan_prefix(prefix).keys().map(|k| k.map(|k| k.to_vec()).map_err(io))
    }

    /// The greatest key of a table (a cheap change marker for append-only tables such as `order`).
    pub fn last_key(&self, t: Table) -> Option<Vec<u8>> {
        self.trees[t.index()].last().ok().flatten().map(|(k, _)| k.to_vec())
    }

    pub fn len(&self, t: Table) -> usize {
        self.trees[t.index()].len()
    }

    pub fn is_empty(&self, t: Table) -> bool {
        self.trees[t.index()].is_empty()
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
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
    fn wrong_schema_version_says_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("store");
        {
            let s = Store::open(&p).unwrap();
            s.trees[Table::Meta.index()].insert(b"schema_version", &b"999"[..]).unwrap();
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
