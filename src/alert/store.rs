//! The outbox on the entry store: [`SledOutbox`] implements [`OutboxStore`] over `crate::store::Store` (table `outbox`, keys and values in `crate::store::outbox`), the in-transaction insert the ingest hook uses, alerts held for the daily digest, and a due-time index so a delivery pass reads only what is due.

use super::outbox::{group_digests, OutboxItem, OutboxState, OutboxStore, Payload};
use crate::store::outbox::{self as table, held_key, item_tx, mail_key, put_item_tx, HELD, MAIL};
use crate::store::{Store, StoreError, StoreTx, TxError};
use chrono::{DateTime, FixedOffset, NaiveDate};

/// Whether any item (mailed or held) has an identity starting with `prefix`
/// (`EEE-1234567-3/no-release/`): once per entry and kind, whatever the rest of the identity.
pub fn known_prefix(store: &crate::store::Store, prefix: &str) -> Result<bool, crate::store::StoreError> {
    for key in [mail_key(prefix), held_key(prefix)] {
        if let Some(item) = table::items(store, &key).next() {
            item?;
            return Ok(true);
        }
    }
    Ok(false)
}

fn known_tx(tx: &StoreTx<'_>, id: &str) -> Result<bool, TxError> {
    Ok(item_tx(tx, &mail_key(id))?.is_some() || item_tx(tx, &held_key(id))?.is_some())
}

/// Insert an item inside an open transaction unless one with the same id exists, mailed or
/// held (the dedup by alert identity): `Ok(true)` when it was inserted. Nothing is flushed: the
/// caller's transaction commits it together with the fact that caused it.
pub fn insert_new_tx(tx: &mut StoreTx<'_>, item: &OutboxItem) -> Result<bool, TxError> {
    if known_tx(tx, &item.id)? {
        return Ok(false);
    }
    put_item_tx(tx, &mail_key(&item.id), None, item)?;
    Ok(true)
}

/// Hold an alert item for the digest (its `next_attempt` is when the digest is made), unless
/// its identity is already known. Same contract as [`insert_new_tx`].
pub fn insert_held_tx(tx: &mut StoreTx<'_>, item: &OutboxItem) -> Result<bool, TxError> {
    if known_tx(tx, &item.id)? {
        return Ok(false);
    }
    put_item_tx(tx, &held_key(&item.id), None, item)?;
    Ok(true)
}

/// How many outbox rows are in each state (what `entrywatch alerts` sums up; for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
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

    /// Every mail item and every alert still waiting for its digest, in identity order
    /// (alerts already handed to a digest are shown by that digest's item).
    pub fn all(&self) -> Result<Vec<OutboxItem>, StoreError> {
        let mut out = Vec::new();
        for r in table::items(&self.store, MAIL) {
            out.push(r?.1);
        }
        for r in table::items(&self.store, HELD) {
            let (_, item) = r?;
            if item.state == OutboxState::Queued {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// Rows per state, as `entrywatch alerts` lists them (alerts held for a digest count as
    /// queued until grouped; a digest counts once).
    pub fn counts(&self) -> Result<OutboxCounts, StoreError> {
        let mut c = OutboxCounts::default();
        for item in self.all()? {
            match item.state {
                OutboxState::Queued => c.queued += 1,
                OutboxState::Sent => c.sent += 1,
                OutboxState::Failed => c.failed += 1,
            }
        }
        Ok(c)
    }

    /// Group the held alerts whose digest time has come into digest items (one per recipient
    /// set, dated `date`), in one transaction, then flush. Returns the digest ids queued.
    pub fn make_due_digests(&self, date: NaiveDate, now: DateTime<FixedOffset>) -> Result<Vec<String>, StoreError> {
        let mut held: Vec<OutboxItem> = Vec::new();
        for key in table::due_keys(&self.store, now)?.into_iter().filter(|k| k.starts_with(HELD)) {
            if let Some(item) = table::item(&self.store, &key)? {
                if item.state == OutboxState::Queued {
                    held.push(item);
                }
            }
        }
        if held.is_empty() {
            return Ok(Vec::new());
        }
        held.sort_by(|a, b| a.queued_at.cmp(&b.queued_at).then(a.id.cmp(&b.id)));
        let pairs = held
            .iter()
            .filter_map(|i| match &i.payload {
                Payload::Alert(a) => Some(((**a).clone(), i.to.clone())),
                Payload::Digest(_) => None,
            })
            .collect();
        let digests = group_digests(date, pairs, now);
        let ids = self.store.transaction(|tx| {
            let mut ids = Vec::new();
            for d in &digests {
                let mut d = d.clone();
                // A second digest for the same day and recipients (the daemon was down): new id.
                let base = d.id.clone();
                let mut n = 1;
                while item_tx(tx, &mail_key(&d.id))?.is_some() {
                    n += 1;
                    d.id = format!("{base}-{n}");
                    if let Payload::Digest(g) = &mut d.payload {
                        g.id = d.id.clone();
                    }
                }
                put_item_tx(tx, &mail_key(&d.id), None, &d)?;
                ids.push(d.id.clone());
            }
            for h in &held {
                let mut grouped = h.clone();
                grouped.state = OutboxState::Sent;
                grouped.sent_at = Some(now);
                put_item_tx(tx, &held_key(&h.id), Some(h), &grouped)?;
            }
            Ok(ids)
        })?;
        self.store.flush()?;
        Ok(ids)
    }

    /// One mail item by identity.
    pub fn get(&self, id: &str) -> Result<Option<OutboxItem>, StoreError> {
        table::item(&self.store, &mail_key(id))
    }

    /// The earliest `next_attempt` of a queued or held item (when the mailer should wake next).
    pub fn next_due(&self) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
        for item_key in table::queued(&self.store) {
            if let Some(item) = table::item(&self.store, &item_key?)? {
                return Ok(Some(item.next_attempt));
            }
        }
        Ok(None)
    }

    /// Change one mail item in a transaction (index kept in step), then flush. A missing item
    /// is an error (it was never queued, or the store was rebuilt under the mailer).
    fn update(&self, id: &str, f: impl Fn(&mut OutboxItem)) -> Result<(), StoreError> {
        let key = mail_key(id);
        self.store.transaction(|tx| {
            let Some(old) = item_tx(tx, &key)? else {
                return Err(TxError::abort(format!("outbox item {id:?} not found")));
            };
            let mut new = old.clone();
            f(&mut new);
            put_item_tx(tx, &key, Some(&old), &new)
        })?;
        self.store.flush()
    }
}

impl SledOutbox {
    /// Rewrite a queued item (its payload and recipients) in place; its due time is kept.
    pub fn refresh_queued(&self, item: &OutboxItem) -> Result<(), StoreError> {
        let (to, payload) = (item.to.clone(), item.payload.clone());
        self.update(&item.id, |i| {
            if i.state == OutboxState::Queued {
                i.to = to.clone();
                i.payload = payload.clone();
            }
        })
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
        for key in table::due_keys(&self.store, now)?.into_iter().filter(|k| k.starts_with(MAIL)) {
            if let Some(item) = table::item(&self.store, &key)? {
                if item.state == OutboxState::Queued && item.next_attempt <= now {
                    out.push(item);
                }
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
        assert_eq!(o.counts().expect("counts"), OutboxCounts { queued: 0, sent: 1, failed: 1 });
        let index = crate::store::outbox::queued(o.store()).count();
        assert_eq!(index, 0, "nothing queued: the due index is empty");
    }

    #[test]
    fn held_alerts_wait_for_their_digest_and_keep_their_identity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let o = SledOutbox::new(Store::open(&dir.path().join("store")).expect("open"));
        let mut a = item("07");
        let digest_at = a.queued_at + chrono::Duration::hours(20);
        a.next_attempt = digest_at;
        let b = OutboxItem { next_attempt: digest_at, ..item("08") };
        for h in [&a, &b] {
            assert!(o.store().transaction(|tx| insert_held_tx(tx, h)).expect("hold"));
        }
        assert!(!o.store().transaction(|tx| insert_held_tx(tx, &a)).expect("again"));
        assert!(!o.insert_new(a.clone()).expect("as mail"), "a held identity is known");
        assert!(o.due(digest_at).expect("due").is_empty(), "held items are not mailed one by one");
        assert_eq!(o.next_due().expect("next"), Some(digest_at));
        let day = digest_at.date_naive();
        assert!(o.make_due_digests(day, a.queued_at).expect("early").is_empty());
        let ids = o.make_due_digests(day, digest_at).expect("digest");
        assert_eq!(ids.len(), 1, "same recipients: one digest");
        let due = o.due(digest_at).expect("due");
        assert_eq!(due.len(), 1);
        match &due[0].payload {
            Payload::Digest(d) => assert_eq!(d.alerts.len(), 2),
            other => panic!("digest expected: {other:?}"),
        }
        assert!(o.make_due_digests(day, digest_at).expect("again").is_empty(), "grouped once");
        assert_eq!(o.all().expect("all").len(), 1, "the digest stands for its alerts");
        assert!(!o.insert_new(b).expect("after grouping"), "still known");
    }
}
