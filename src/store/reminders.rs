//! The `reminders` table (the reminder ledger), declared once:
//! `reminder/<entry>/<kind>/<due>/<lead days>` (`deadline::remind::ReminderKey::id`) →
//! `deadline::scheduler::ReminderRecord`, one per reminder queued (or due with no recipient),
//! kept for years so a reminder never goes out twice.

use super::{Store, StoreError, StoreTx, Table, TxError};
use crate::deadline::remind::ReminderKey;
use crate::deadline::scheduler::ReminderRecord;

/// Whether the ledger holds the reminder. An unreadable record counts as absent.
pub fn is_recorded(store: &Store, key: &ReminderKey) -> bool {
    matches!(store.get::<ReminderRecord>(Table::Reminders, key.id().as_bytes()), Ok(Some(_)))
}

/// Record a reminder under `id` inside a transaction unless it is there already: `Ok(true)`
/// when recorded now.
pub fn record_once_tx(tx: &mut StoreTx<'_>, id: &str, rec: &ReminderRecord) -> Result<bool, TxError> {
    if tx.get::<ReminderRecord>(Table::Reminders, id.as_bytes())?.is_some() {
        return Ok(false);
    }
    tx.put(Table::Reminders, id.as_bytes(), rec)?;
    Ok(true)
}

/// The whole ledger in key order.
pub fn all(store: &Store) -> impl Iterator<Item = Result<(String, ReminderRecord), StoreError>> + '_ {
    store
        .scan::<ReminderRecord>(Table::Reminders)
        .map(|r| r.map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v)))
}
