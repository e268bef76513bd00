//! The `refs` and `pending_pre_entries` tables, declared once: how an approved pre-entry that
//! names no entry number finds its filing.
//!
//! - `refs`: `<importer>|<broker_ref>` (`domain::ref_key`) → the entry key a filing with that
//!   importer and broker reference was stored under;
//! - `pending_pre_entries`: the same key → `Vec<domain::Fact>`, approved pre-entries waiting
//!   for their filing.

use super::{StoreTx, Table, TxError};
use crate::domain::Fact;

/// The entry key a filing named with this reference, inside a transaction.
pub fn entry_tx(tx: &StoreTx<'_>, ref_key: &str) -> Result<Option<String>, TxError> {
    tx.get(Table::Refs, ref_key.as_bytes())
}

/// Remember that a filing with this reference is stored under `entry`.
pub fn put_tx(tx: &mut StoreTx<'_>, ref_key: &str, entry: &str) -> Result<(), TxError> {
    tx.put(Table::Refs, ref_key.as_bytes(), &entry)
}

/// The pre-entries waiting for this reference (empty when none).
pub fn pending_tx(tx: &StoreTx<'_>, ref_key: &str) -> Result<Vec<Fact>, TxError> {
    Ok(tx.get(Table::PendingPreEntries, ref_key.as_bytes())?.unwrap_or_default())
}

/// Keep the pre-entries waiting for this reference.
pub fn put_pending_tx(tx: &mut StoreTx<'_>, ref_key: &str, facts: &[Fact]) -> Result<(), TxError> {
    tx.put(Table::PendingPreEntries, ref_key.as_bytes(), &facts)
}

/// Take the pre-entries waiting for this reference out of the table (`None` when none wait).
pub fn take_pending_tx(tx: &mut StoreTx<'_>, ref_key: &str) -> Result<Option<Vec<Fact>>, TxError> {
    let p = tx.get::<Vec<Fact>>(Table::PendingPreEntries, ref_key.as_bytes())?;
    if p.is_some() {
        tx.remove(Table::PendingPreEntries, ref_key.as_bytes())?;
    }
    Ok(p)
}
