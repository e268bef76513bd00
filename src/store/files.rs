//! The `files` and `order` tables, declared once:
//!
//! - `files`: `<sha256 hex>` → `ingest::FileRecord`, what the store keeps about each processed
//!   file (its name, inbox, role, archive path, entries, later duplicates);
//! - `order`: `<seq, u64 big-endian>` → the file's SHA-256 hex: the processing order.

use super::{Store, StoreError, StoreTx, Table, TxError};
use crate::ingest::FileRecord;

/// The record of a processed file by its SHA-256 (hex).
pub fn record(store: &Store, sha256: &str) -> Result<Option<FileRecord>, StoreError> {
    store.get(Table::Files, sha256.as_bytes())
}

/// The record of a processed file inside a transaction.
pub fn record_tx(tx: &StoreTx<'_>, sha256: &str) -> Result<Option<FileRecord>, TxError> {
    tx.get(Table::Files, sha256.as_bytes())
}

/// Rewrite a file's record (its duplicates), its place in the order unchanged.
pub fn update_tx(tx: &mut StoreTx<'_>, rec: &FileRecord) -> Result<(), TxError> {
    tx.put(Table::Files, rec.sha256.as_bytes(), rec)
}

/// Write a newly applied file's record and its place in the processing order (`rec.seq`).
pub fn put_tx(tx: &mut StoreTx<'_>, rec: &FileRecord) -> Result<(), TxError> {
    tx.put(Table::Files, rec.sha256.as_bytes(), rec)?;
    tx.put(Table::Order, &rec.seq.to_be_bytes(), &rec.sha256)
}

/// The SHA-256 of every applied file in processing order.
pub fn in_order(store: &Store) -> impl Iterator<Item = Result<String, StoreError>> + '_ {
    store.scan::<String>(Table::Order).map(|r| r.map(|(_, sha)| sha))
}

/// How many files the store has applied.
pub fn count(store: &Store) -> usize {
    store.len(Table::Files)
}

/// Key of the marker of one committed chunk of a file of many entries (in the `meta` table):
/// `chunk|<sha256>|<chunk size>|<index, 8 digits>` → the entry keys that chunk changed.
fn chunk_key(sha256: &str, size: usize, i: usize) -> String {
    format!("chunk|{sha256}|{size}|{i:08}")
}

/// The entries chunk `i` of a file changed, when that chunk is committed.
pub fn chunk_tx(tx: &StoreTx<'_>, sha256: &str, size: usize, i: usize) -> Result<Option<Vec<String>>, TxError> {
    tx.get(Table::Meta, chunk_key(sha256, size, i).as_bytes())
}

/// Mark chunk `i` of a file committed, with the entries it changed.
pub fn put_chunk_tx(
    tx: &mut StoreTx<'_>,
    sha256: &str,
    size: usize,
    i: usize,
    entries: &[String],
) -> Result<(), TxError> {
    tx.put(Table::Meta, chunk_key(sha256, size, i).as_bytes(), &entries)
}

/// Take chunk `i`'s marker out (the file's last transaction does), returning its entries.
pub fn take_chunk_tx(tx: &mut StoreTx<'_>, sha256: &str, size: usize, i: usize) -> Result<Vec<String>, TxError> {
    let k = chunk_key(sha256, size, i);
    let keys: Vec<String> = tx.get(Table::Meta, k.as_bytes())?.unwrap_or_default();
    tx.remove(Table::Meta, k.as_bytes())?;
    Ok(keys)
}
