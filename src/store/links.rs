//! Key formats of the `links` table (the affected-entries index), declared once.
//!
//! - `p|<kind>|<value>` → `Vec<String>`: the entry keys (`EEE12345673`) sharing the link,
//!   sorted and without repeats (a posting list: one `get` finds every entry, no scan).
//! - `e|<entry>` → `Vec<(kind, value)>`: the links last indexed for the entry, so a change
//!   removes the links it no longer has.

/// Key of the posting list for one link.
pub fn posting_key(kind: &str, value: &str) -> Vec<u8> {
    format!("p|{kind}|{value}").into_bytes()
}

/// Key of an entry's own link list.
pub fn entry_key(entry: &str) -> Vec<u8> {
    format!("e|{entry}").into_bytes()
}

use super::{Store, StoreError, StoreTx, Table, TxError};
use crate::links::Link;

/// The entry keys sharing one link (sorted; empty when none).
pub fn postings(store: &Store, kind: &str, value: &str) -> Result<Vec<String>, StoreError> {
    Ok(store.get(Table::Links, &posting_key(kind, value))?.unwrap_or_default())
}

/// [`postings`] inside a transaction (the set as this transaction has changed it so far).
pub fn postings_tx(tx: &StoreTx<'_>, kind: &str, value: &str) -> Result<Vec<String>, TxError> {
    tx.set_get(Table::Links, &posting_key(kind, value))
}

/// Add an entry to one link's posting list inside a transaction. The list is kept decoded for
/// the whole transaction and written once at its end (`StoreTx::set_insert`), so a file whose
/// entries share a link costs one write of it, not one per entry.
pub fn posting_insert_tx(tx: &mut StoreTx<'_>, kind: &str, value: &str, entry: &str) -> Result<(), TxError> {
    tx.set_insert(Table::Links, &posting_key(kind, value), entry)
}

/// Take an entry out of one link's posting list inside a transaction (see [`posting_insert_tx`]).
pub fn posting_remove_tx(tx: &mut StoreTx<'_>, kind: &str, value: &str, entry: &str) -> Result<(), TxError> {
    tx.set_remove(Table::Links, &posting_key(kind, value), entry)
}

/// The links last indexed for an entry (empty when none).
pub fn entry_links_tx(tx: &StoreTx<'_>, entry: &str) -> Result<Vec<Link>, TxError> {
    Ok(tx.get(Table::Links, &entry_key(entry))?.unwrap_or_default())
}

/// Record the links indexed for an entry.
pub fn put_entry_links_tx(tx: &mut StoreTx<'_>, entry: &str, links: &[Link]) -> Result<(), TxError> {
    tx.put(Table::Links, &entry_key(entry), &links)
}
