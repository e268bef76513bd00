//! The outbox on the entry store: [`SledOutbox`] implements [`OutboxStore`] over `crate::store::Store` (table `outbox`, keyed by alert identity), plus the in-transaction insert the ingest hook uses.

use super::outbox::{OutboxItem, OutboxState, OutboxStore};
use crate::store::{Store, StoreError, StoreTx, Table, TxError};
use chrono::{DateTime, FixedOffset};

/// Insert an item inside an open transaction unless one with the same id exists (the dedup by
/// alert identity): `Ok(true)` when it was inserted. Nothing is flushed: the caller's
/// transaction commits it together with the fact that caused it.
pub fn insert_new_tx(tx: &mut StoreTx<'_>, item: &OutboxItem) -> Result<bool, TxError> {
    let key = item.id.as_bytes();
    if tx.get::<OutboxItem>(Table::Outbox, key)?.is_some() {
        return Ok(false);
    }
    tx.put(Table::Outbox, key, item)?;
    Ok(true)
}

/// The outbox kept in the entry store. Every write is one transaction followed by a flush, so
/// it is durable before the call returns (a `sent` mark survives a crash right after it).
#[derive(Debug, Clone)]
pub struct SledOutbox {
    store: Store,
}

impl SledOutbox {
    pub fn new(store: Store) -> SledOutbox {
        SledOutbox { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Every item, in key (identity) order.
    pub fn all(&self) -> Result<Vec<OutboxItem>, StoreError> {
        self.store.scan::<OutboxItem>(Table::Outbox).map(|r| r.map(|(_, v)| v)).collect()
    }

    /// One item by identity.
    pub fn get(&self, id: &str) -> Result<Option<OutboxItem>, StoreError> {
        self.store.get(Table::Outbox, id.as_bytes())
    }

    /// The earliest `next_attempt` of a queued item (when the mailer should wake next).
    pub fn next_due(&self) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        let mut next: Option<DateTime<FixedOffset>> = None;
        for r in self.store.scan::<OutboxItem>(Table::Outbox) {
            let (_, item) = r?;
            if item.state == OutboxState::Queued && next.is_none_or(|n| item.next_attempt < n) {
                next = Some(item.next_attempt);
            }
        }
        Ok(next)
    }

    /// Change one item in a transaction, then flush. A missing item is an error (it was never
    /// queued, or the store was rebuilt under the mailer).
    fn update(&self, id: &str, f: impl Fn(&mut OutboxItem)) -> Result<(), StoreError> {
        let key = id.as_bytes();
        self.store.transaction(|tx| {
            let Some(mut item) = tx.get::<OutboxItem>(Table::Outbox, key)? else {
                return Err(TxError::abort(format!("outbox item {id:?} not found")));
            };
            f(&mut item);
            tx.put(Table::Outbox, key, &item)
        })?;
        self.store.flush()
    }
}

impl OutboxStore for SledOutbox {
    type Error = StoreError;

    fn insert_new(&self, item: OutboxItem) -> Result<bool, StoreError> {
        let inserted = self.store.transaction(|tx| insert_new_tx(tx, &item))?;
        if inserted {
            self.store.flush()?;
        }
        Ok(inserted)
    }

    fn due(&self, now: DateTime<FixedOffset>) -> Result<Vec<OutboxItem>, StoreError> {
        let mut out = Vec::new();
        for r in self.store.scan::<OutboxItem>(Table::Outbox) {
            let (_, item) = r?;
            if item.state == OutboxState::Queued && item.next_attempt <= now {
                out.push(item);
            }
        }
        Ok(out)
    }

    fn mark_sent(&self, id: &str, at: DateTime<FixedOffset>) -> Result<(), StoreError> {
        self.update(id, |i| {
            i.state = OutboxState::Sent;
            i.sent_at = Some(at);
            i.last_error = None;
        })
    }

    fn mark_retry(
        &self,
        id: &str,
        attempts: u32,
        next_attempt: DateTime<FixedOffset>,
        error: &str,
    ) -> Result<(), StoreError> {
        self.update(id, |i| {
            i.state = OutboxState::Queued;
            i.attempts = attempts;
            i.next_attempt = next_attempt;
            i.last_error = Some(error.to_string());
        })
    }

    fn mark_failed(&self, id: &str, attempts: u32, error: &str, _at: DateTime<FixedOffset>) -> Result<(), StoreError> {
        self.update(id, |i| {
            i.state = OutboxState::Failed;
            i.attempts = attempts;
            i.last_error = Some(error.to_string());
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::rules::alert_for_event;
    use crate::alert::{AlertKind, EntryFacts};
    use crate::grammar::codes::AlertSeverity;

    fn item(id_code: &str) -> OutboxItem {
        let at = DateTime::parse_from_rfc3339("2026-02-05T09:30:00-05:00").expect("time");
        let f = EntryFacts { entry: "EEE-1234567-3".parse().ok(), ..Default::default() };
        let a = alert_for_event(AlertKind::Exam, AlertSeverity::Critical, Some(id_code), at, f, at);
        OutboxItem::for_alert(a, vec!["ops@example.com".into()], at)
    }

    #[test]
    fn insert_dedups_and_marks_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store");
        let a = item("03");
        let b = item("99");
        let later = a.queued_at + chrono::Duration::minutes(5);
        {
            let o = SledOutbox::new(Store::open(&path).expect("open"));
            assert!(o.insert_new(a.clone()).expect("insert"));
            assert!(!o.insert_new(a.clone()).expect("insert again"), "same identity: no second item");
            assert!(o.insert_new(b.clone()).expect("insert b"));
            assert_eq!(o.due(a.queued_at).expect("due").len(), 2);
            o.mark_sent(&a.id, later).expect("sent");
            o.mark_retry(&b.id, 1, later, "connection refused").expect("retry");
            assert!(o.due(a.queued_at).expect("due").is_empty(), "b waits until its next attempt");
            assert_eq!(o.next_due().expect("next"), Some(later));
            assert!(o.mark_sent("nope", later).is_err());
        }
        let o = SledOutbox::new(Store::open(&path).expect("reopen"));
        let got = o.get(&a.id).expect("get").expect("a kept");
        assert_eq!((got.state, got.sent_at), (OutboxState::Sent, Some(later)));
        let got = o.get(&b.id).expect("get").expect("b kept");
        assert_eq!(
            (got.state, got.attempts, got.last_error.as_deref()),
            (OutboxState::Queued, 1, Some("connection refused"))
        );
        assert!(!o.insert_new(a).expect("insert after reopen"), "a sent alert is never queued again");
        o.mark_failed(&b.id, 2, "gave up", later).expect("failed");
        assert_eq!(o.get(&b.id).expect("get").map(|i| i.state), Some(OutboxState::Failed));
        assert_eq!(o.next_due().expect("next"), None);
        assert_eq!(o.all().expect("all").len(), 2);
    }
}
