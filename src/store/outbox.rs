//! The `outbox` table's key formats and values, declared once (the alert queue over them is
//! `alert::store::SledOutbox`):
//!
//! - `m/<identity>` → `alert::outbox::OutboxItem`: a mail item (one alert, or a digest
//!   `digest/<date>/<hash>`);
//! - `h/<identity>` → `OutboxItem`: an alert held for the daily digest (`queued` until grouped,
//!   then `sent` meaning "handed to its digest"; kept for the dedup);
//! - `q/<due ms, 16 digits>/<item key>` → the item key (`m/..` or `h/..`), for every `queued`
//!   item: the due index, so a delivery pass reads only what is due.

use super::{Store, StoreError, StoreTx, Table, TxError};
use crate::alert::outbox::{OutboxItem, OutboxState};
use chrono::{DateTime, FixedOffset};

/// Prefix of the mail items.
pub const MAIL: &str = "m/";
/// Prefix of the alerts held for the digest.
pub const HELD: &str = "h/";
/// Prefix of the due index.
pub const QUEUE: &str = "q/";

/// Key of a mail item.
pub fn mail_key(id: &str) -> String {
    format!("{MAIL}{id}")
}

/// Key of a held alert.
pub fn held_key(id: &str) -> String {
    format!("{HELD}{id}")
}

fn due_ms(at: DateTime<FixedOffset>) -> u64 {
    u64::try_from(at.timestamp_millis()).unwrap_or(0)
}

/// Key of an item's entry in the due index.
pub fn queue_key(at: DateTime<FixedOffset>, item_key: &str) -> String {
    format!("{QUEUE}{:016}/{item_key}", due_ms(at))
}

/// The first key after every index entry due at or before `now`.
fn queue_bound(now: DateTime<FixedOffset>) -> Vec<u8> {
    format!("{QUEUE}{:016}/\u{7f}", due_ms(now)).into_bytes()
}

/// One item (mail or held) by its key.
pub fn item(store: &Store, key: &str) -> Result<Option<OutboxItem>, StoreError> {
    store.get(Table::Outbox, key.as_bytes())
}

/// One item by its key, inside a transaction.
pub fn item_tx(tx: &StoreTx<'_>, key: &str) -> Result<Option<OutboxItem>, TxError> {
    tx.get(Table::Outbox, key.as_bytes())
}

/// The items whose key starts with `prefix` (`MAIL`, `HELD`, or either followed by the start of
/// an identity), in key order.
pub fn items<'a>(
    store: &'a Store,
    prefix: &str,
) -> impl Iterator<Item = Result<(String, OutboxItem), StoreError>> + 'a {
    store
        .scan_prefix::<OutboxItem>(Table::Outbox, prefix.as_bytes())
        .map(|r| r.map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v)))
}

/// Write an item under `key`, keeping the due index in step with its state (`old` is the item
/// the key held before, if any).
pub fn put_item_tx(tx: &mut StoreTx<'_>, key: &str, old: Option<&OutboxItem>, new: &OutboxItem) -> Result<(), TxError> {
    if let Some(o) = old.filter(|o| o.state == OutboxState::Queued) {
        tx.remove(Table::Outbox, queue_key(o.next_attempt, key).as_bytes())?;
    }
    tx.put(Table::Outbox, key.as_bytes(), new)?;
    if new.state == OutboxState::Queued {
        tx.put(Table::Outbox, queue_key(new.next_attempt, key).as_bytes(), &key.to_string())?;
    }
    Ok(())
}

/// The due index in due order: the keys of the queued items (`m/..` or `h/..`).
pub fn queued(store: &Store) -> impl Iterator<Item = Result<String, StoreError>> + '_ {
    store.scan_prefix::<String>(Table::Outbox, QUEUE.as_bytes()).map(|r| r.map(|(_, v)| v))
}

/// Keys of the queued items due at or before `now`, soonest first.
pub fn due_keys(store: &Store, now: DateTime<FixedOffset>) -> Result<Vec<String>, StoreError> {
    let bound = queue_bound(now);
    let mut keys = Vec::new();
    for r in store.scan_prefix::<String>(Table::Outbox, QUEUE.as_bytes()) {
        let (k, item_key) = r?;
        if k.as_slice() > bound.as_slice() {
            break;
        }
        keys.push(item_key);
    }
    Ok(keys)
}
