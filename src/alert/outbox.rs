//! The outbox: delivery state machine (queued → sent | failed) over a small storage trait, with a deterministic backoff and give-up.

use super::mailer::{Mailer, SendError};
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

/// What one pass of [`deliver_due`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: Vec<String>,
    pub retried: Vec<String>,
    pub failed: Vec<String>,
    /// Store errors (the item stays as it was and is tried on a later pass).
    pub store_errors: Vec<String>,
}

/// Send every due item once: sent → `mark_sent` (only after the server accepted);
/// transient error → `mark_retry` at `now + delay(attempts)`, or `mark_failed` when the item
/// was queued at least `give_up` ago; permanent error (5xx, bad address, no recipient) →
/// `mark_failed`. Failures are logged at ERROR (`AlertFailed`).
pub async fn deliver_due<S: OutboxStore>(store: &S, mailer: &Mailer, now: DateTime<FixedOffset>) -> DeliveryReport {
    let mut report = DeliveryReport::default();
    let mut due = match store.due(now) {
        Ok(d) => d,
        Err(e) => {
            report.store_errors.push(e.to_string());
            return report;
        }
    };
    due.sort_by(|a, b| a.next_attempt.cmp(&b.next_attempt).then(a.id.cmp(&b.id)));
    let policy = mailer.policy();
    for item in due.into_iter().filter(|i| i.state == OutboxState::Queued) {
        let result = if item.to.is_empty() {
            Err(SendError::Permanent("no recipients".into()))
        } else {
            mailer.send(&item, now).await
        };
        let attempts = item.attempts.saturating_add(1);
        let outcome = match result {
            Ok(()) => {
                tracing::info!(event = "AlertSent", alert_id = %item.id, to = ?item.to, attempts, "alert sent");
                report.sent.push(item.id.clone());
                store.mark_sent(&item.id, now)
            }
            Err(SendError::Transient(e)) => {
                let waited = (now - item.queued_at).to_std().unwrap_or(Duration::ZERO);
                if waited >= policy.give_up {
                    let msg = format!("gave up after {attempts} attempts: {e}");
                    tracing::error!(event = "AlertFailed", alert_id = %item.id, attempts, error = %e, "alert undeliverable, gave up");
                    report.failed.push(item.id.clone());
                    store.mark_failed(&item.id, attempts, &msg, now)
                } else {
                    let delay = policy.delay(attempts);
                    let next = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(1800));
                    tracing::warn!(event = "AlertRetry", alert_id = %item.id, attempts, next_attempt = %next, error = %e, "alert not sent, will retry");
                    report.retried.push(item.id.clone());
                    store.mark_retry(&item.id, attempts, next, &e)
                }
            }
            Err(SendError::Permanent(e)) => {
                tracing::error!(event = "AlertFailed", alert_id = %item.id, attempts, error = %e, "alert refused by the server");
                report.failed.push(item.id.clone());
                store.mark_failed(&item.id, attempts, &e, now)
            }
        };
        if let Err(e) = outcome {
            report.store_errors.push(format!("{}: {e}", item.id));
        }
    }
    report
}

/// One line of `entrywatch alerts` (the `--json` output is an array of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: String,
    pub state: OutboxState,
    /// `critical`, `warning`, `info`, or `digest`.
    pub severity: String,
    pub subject: String,
    pub to: Vec<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt: Option<DateTime<FixedOffset>>,
    pub queued_at: DateTime<FixedOffset>,
    pub sent_at: Option<DateTime<FixedOffset>>,
}

impl OutboxRow {
    pub fn of(item: &OutboxItem) -> OutboxRow {
        let (severity, subject) = match &item.payload {
            Payload::Alert(a) => {
                let s = serde_json::to_value(a.severity).ok().and_then(|v| v.as_str().map(String::from));
                (s.unwrap_or_default(), super::render::subject(a))
            }
            Payload::Digest(d) => ("digest".to_string(), super::render::digest_subject(d)),
        };
        OutboxRow {
            id: item.id.clone(),
            state: item.state,
            severity,
            subject,
            to: item.to.clone(),
            attempts: item.attempts,
            last_error: item.last_error.clone(),
            next_attempt: (item.state == OutboxState::Queued).then_some(item.next_attempt),
            queued_at: item.queued_at,
            sent_at: item.sent_at,
        }
    }
}

/// The text table of `entrywatch alerts`: failed first, then queued, then sent; newest first within each.
pub fn alerts_table(items: &[OutboxItem]) -> String {
    use std::fmt::Write as _;
    let rank = |s: OutboxState| match s {
        OutboxState::Failed => 0,
        OutboxState::Queued => 1,
        OutboxState::Sent => 2,
    };
    let mut rows: Vec<OutboxRow> = items.iter().map(OutboxRow::of).collect();
    rows.sort_by(|a, b| rank(a.state).cmp(&rank(b.state)).then(b.queued_at.cmp(&a.queued_at)).then(a.id.cmp(&b.id)));
    let mut out =
        format!("{:<7} {:<8} {:>3} {:<16} {:<16} {}\n", "STATE", "SEVERITY", "TRY", "QUEUED", "NEXT/SENT", "SUBJECT");
    for r in &rows {
        let state = match r.state {
            OutboxState::Queued => "queued",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
        };
        let when =
            r.sent_at.or(r.next_attempt).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<7} {:<8} {:>3} {:<16} {:<16} {}",
            state,
            r.severity,
            r.attempts,
            r.queued_at.format("%Y-%m-%d %H:%M"),
            when,
            r.subject
        );
        if let (OutboxState::Failed | OutboxState::Queued, Some(e)) = (r.state, &r.last_error) {
            let _ = writeln!(out, "        error: {}", super::render::header_safe(e, 200));
        }
    }
    let count = |s: OutboxState| rows.iter().filter(|r| r.state == s).count();
    let _ = writeln!(
        out,
        "{} queued, {} sent, {} failed",
        count(OutboxState::Queued),
        count(OutboxState::Sent),
        count(OutboxState::Failed)
    );
    out
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
    fn alerts_table_lists_failed_first_with_error() {
        use crate::alert::rules::alert_for_event;
        use crate::alert::{AlertKind, EntryFacts};
        use crate::grammar::codes::AlertSeverity;
        let at = DateTime::parse_from_rfc3339("2026-02-03T10:12:00-05:00").expect("time");
        let f = EntryFacts { entry: "EEE-1234567-3".parse().ok(), ..Default::default() };
        let a = alert_for_event(AlertKind::Exam, AlertSeverity::Critical, Some("03"), at, f.clone(), at);
        let b = alert_for_event(AlertKind::NoRelease, AlertSeverity::Warning, None, at, f, at);
        let sent = OutboxItem {
            state: OutboxState::Sent,
            sent_at: Some(at),
            ..OutboxItem::for_alert(a, vec!["x@y".into()], at)
        };
        let failed = OutboxItem {
            state: OutboxState::Failed,
            attempts: 3,
            last_error: Some("gave up\r\nafter 3".into()),
            ..OutboxItem::for_alert(b, vec!["x@y".into()], at)
        };
        let t = alerts_table(&[sent.clone(), failed.clone()]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[1].starts_with("failed  warning    3"), "{t}");
        assert_eq!(lines[2], "        error: gave up after 3");
        assert!(
            lines[3].starts_with(
                "sent    critical   0 2026-02-03 10:12 2026-02-03 10:12 [entrywatch] CRITICAL Exam ordered"
            ),
            "{t}"
        );
        assert_eq!(lines[4], "0 queued, 1 sent, 1 failed");
        let json = serde_json::to_value(OutboxRow::of(&failed)).expect("json");
        assert_eq!(json["state"], "failed");
        assert_eq!(json["severity"], "warning");
        assert!(json["next_attempt"].is_null());
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
