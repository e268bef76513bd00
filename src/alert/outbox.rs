//! The outbox (the alert queue): what is queued and its delivery state machine (queued → sent |
//! failed) over a small storage trait, with a deterministic backoff and give-up. Delivery is
//! `mailer` (which reads the queue), rendering `render`; the queue imports neither.

use super::{rules, Alert};
use crate::config::Route;
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::time::Duration;

/// Several non-critical alerts in one mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// `digest/<date>/<first 16 hex of sha256(recipients)>`.
    pub id: String,
    pub date: NaiveDate,
    pub alerts: Vec<Alert>,
}

/// What an outbox item sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum Payload {
    Alert(Box<Alert>),
    Digest(Digest),
}

/// Delivery state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting for its first or next attempt (`next_attempt`).
    Queued,
    /// The server accepted it.
    Sent,
    /// Given up (permanent error, or older than `alerts.give-up-hours`).
    Failed,
}

/// One mail in the outbox, keyed by `id` (the alert identity, or the digest id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: String,
    pub payload: Payload,
    /// Routed recipients, fixed when queued.
    pub to: Vec<String>,
    pub state: OutboxState,
    /// Failed attempts so far.
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt: DateTime<FixedOffset>,
    pub queued_at: DateTime<FixedOffset>,
    pub sent_at: Option<DateTime<FixedOffset>>,
}

impl OutboxItem {
    /// A new queued item for one alert, due now.
    pub fn for_alert(alert: Alert, to: Vec<String>, now: DateTime<FixedOffset>) -> OutboxItem {
        OutboxItem {
            id: alert.id.clone(),
            payload: Payload::Alert(Box::new(alert)),
            to,
            state: OutboxState::Queued,
            attempts: 0,
            last_error: None,
            next_attempt: now,
            queued_at: now,
            sent_at: None,
        }
    }

    /// A new queued digest item, due now.
    pub fn for_digest(digest: Digest, to: Vec<String>, now: DateTime<FixedOffset>) -> OutboxItem {
        OutboxItem {
            id: digest.id.clone(),
            payload: Payload::Digest(digest),
            to,
            state: OutboxState::Queued,
            attempts: 0,
            last_error: None,
            next_attempt: now,
            queued_at: now,
            sent_at: None,
        }
    }
}

/// Where outbox items live (`alert::store::SledOutbox` on the entry store; writes are durable
/// before the call returns).
pub trait OutboxStore {
    type Error: std::fmt::Display;
    /// Insert a new item unless one with the same id exists (then nothing changes and the
    /// answer is `false`): the dedup by alert identity.
    fn insert_new(&self, item: OutboxItem) -> Result<bool, Self::Error>;
    /// Queued items whose `next_attempt` is at or before `now`.
    fn due(&self, now: DateTime<FixedOffset>) -> Result<Vec<OutboxItem>, Self::Error>;
    /// The server accepted it.
    fn mark_sent(&self, id: &str, at: DateTime<FixedOffset>) -> Result<(), Self::Error>;
    /// Try again at `next_attempt`; `attempts` failed attempts so far.
    fn mark_retry(
        &self,
        id: &str,
        attempts: u32,
        next_attempt: DateTime<FixedOffset>,
        error: &str,
    ) -> Result<(), Self::Error>;
    /// Given up.
    fn mark_failed(&self, id: &str, attempts: u32, error: &str, at: DateTime<FixedOffset>) -> Result<(), Self::Error>;
}

/// The retry schedule: `first` after the first failure, doubling, capped at `cap`; give up
/// once an item has waited `give_up` since it was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub first: Duration,
    pub cap: Duration,
    pub give_up: Duration,
}

impl RetryPolicy {
    /// 30 s, 1 m, 2 m, 4 m ... capped at 30 m; give up after `give_up_hours`.
    pub fn new(give_up_hours: u64) -> RetryPolicy {
        RetryPolicy {
            first: Duration::from_secs(30),
            cap: Duration::from_secs(30 * 60),
            give_up: Duration::from_secs(give_up_hours.saturating_mul(3600)),
        }
    }

    /// The wait after the `attempts`-th failure (1-based).
    pub fn delay(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(30);
        self.first.saturating_mul(1u32 << shift).min(self.cap)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new(48)
    }
}

/// Queue one alert for its routed recipients. `Ok(false)` when it had no recipient (nothing
/// queued) or was already queued (same identity: dedup).
pub fn enqueue<S: OutboxStore>(
    store: &S,
    alert: Alert,
    routes: &[Route],
    now: DateTime<FixedOffset>,
) -> Result<bool, S::Error> {
    let to = rules::routes_for(&alert, routes);
    if to.is_empty() {
        return Ok(false);
    }
    store.insert_new(OutboxItem::for_alert(alert, to, now))
}

/// Group alerts (each with its routed recipients) into digests: one per distinct recipient
/// set, alerts in the given order.
pub fn group_digests(
    date: NaiveDate,
    alerts: Vec<(Alert, Vec<String>)>,
    now: DateTime<FixedOffset>,
) -> Vec<OutboxItem> {
    let mut groups: Vec<(Vec<String>, Vec<Alert>)> = Vec::new();
    for (alert, to) in alerts {
        let mut key: Vec<String> = to.iter().map(|t| t.to_ascii_lowercase()).collect();
        key.sort();
        key.dedup();
        if key.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(alert),
            None => groups.push((key, vec![alert])),
        }
    }
    groups
        .into_iter()
        .map(|(to, alerts)| {
            let h = hex::encode(Sha256::digest(to.join(",").as_bytes()));
            let id = format!("digest/{}/{}", date.format("%Y-%m-%d"), h.get(..16).unwrap_or(&h));
            OutboxItem::for_digest(Digest { id, date, alerts }, to, now)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::new(48);
        let secs: Vec<u64> = (1..=9).map(|n| p.delay(n).as_secs()).collect();
        assert_eq!(secs, vec![30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
        assert_eq!(p.delay(u32::MAX).as_secs(), 1800);
        assert_eq!(p.give_up.as_secs(), 48 * 3600);
    }

    #[test]
    fn items_round_trip_through_json_and_digests_group_by_recipients() {
        use crate::alert::rules::alert_for_event;
        use crate::alert::{AlertKind, EntryFacts, LineRef};
        use crate::grammar::codes::AlertSeverity;
        let at = DateTime::parse_from_rfc3339("2026-02-03T10:12:00-05:00").expect("time");
        let f = EntryFacts {
            entry: "EEE-1234567-3".parse().ok(),
            lines: vec![LineRef { line: 1, po_number: Some("PO-1".into()), po_line: None }],
            ..Default::default()
        };
        let a = alert_for_event(AlertKind::HoldRemoved, AlertSeverity::Info, Some("07"), at, f, at);
        let item = OutboxItem::for_alert(a.clone(), vec!["x@example.com".into()], at);
        let back: OutboxItem = serde_json::from_str(&serde_json::to_string(&item).expect("ser")).expect("de");
        assert_eq!(back, item);
        let date = NaiveDate::from_ymd_opt(2026, 2, 3).expect("date");
        let ds = group_digests(
            date,
            vec![
                (a.clone(), vec!["X@example.com".into(), "y@example.com".into()]),
                (a.clone(), vec!["y@example.com".into(), "x@example.com".into()]),
                (a.clone(), vec!["z@example.com".into()]),
                (a, vec![]),
            ],
            at,
        );
        assert_eq!(ds.len(), 2);
        assert!(ds[0].id.starts_with("digest/2026-02-03/"));
        assert_ne!(ds[0].id, ds[1].id);
        assert_eq!(ds[0].to, vec!["x@example.com".to_string(), "y@example.com".to_string()]);
        match (&ds[0].payload, &ds[1].payload) {
            (Payload::Digest(d0), Payload::Digest(d1)) => assert_eq!((d0.alerts.len(), d1.alerts.len()), (2, 1)),
            other => panic!("digests expected: {other:?}"),
        }
        let back: OutboxItem = serde_json::from_str(&serde_json::to_string(&ds[0]).expect("ser")).expect("de");
        assert_eq!(back, ds[0]);
    }
}
