//! The mailer loop: delivers due outbox items, sleeping until the next due attempt or a wake-up (new items), with an hourly no-release (demurrage) check; plus the one-shot delivery `entrywatch ingest` uses.

use super::hook::AlertHook;
use super::mailer::Mailer;
use super::mailer::{deliver_due, DeliveryReport};
use super::store::SledOutbox;
use super::{rules, AlertKind, EntryFacts};
use crate::clock::Clock;
use crate::domain::{Entry, Fact, ReleaseStatus, SummaryStatus};
use crate::entry_number::EntryNumber;
use crate::store::{Store, StoreError};
use chrono::{DateTime, FixedOffset};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Longest sleep between passes, whatever the outbox says (a safety net for a missed wake-up).
pub const MAX_SLEEP: Duration = Duration::from_secs(60);
/// Shortest sleep between passes.
pub const MIN_SLEEP: Duration = Duration::from_secs(1);
/// How often the no-release check runs in the loop.
pub const NO_RELEASE_EVERY: Duration = Duration::from_secs(3600);

/// Queue the no-release (demurrage) warning of every entry that arrived long enough ago and
/// has no release. Each warning is queued once (its identity carries the arrival time), in one
/// transaction per entry, then flushed. Returns how many were newly queued.
pub fn check_no_release(store: &Store, hook: &AlertHook, now: DateTime<FixedOffset>) -> Result<u64, StoreError> {
    let mut queued = 0;
    let mut waiting: Vec<(String, EntryNumber)> = Vec::new();
    // The entries not released yet, from the query index's status postings (not every entry).
    for status in [ReleaseStatus::Pending, ReleaseStatus::Held] {
        for key in crate::query::index::entries_with(store, "status", status.as_str()) {
            let Some(row) = crate::store::entries::row(store, &key)? else { continue };
            let open = !matches!(row.release, ReleaseStatus::Released | ReleaseStatus::Cancelled)
                && row.summary != SummaryStatus::Deleted;
            if let (true, Some(en)) = (open, row.entry) {
                waiting.push((key, en));
            }
        }
    }
    for (key, en) in waiting {
        // Once per entry: files arriving out of order move the arrival time (an earlier SO
        // after a later one), which must not warn again.
        if super::store::known_prefix(store, &format!("{en}/no-release/"))? {
            continue;
        }
        let facts: Vec<Fact> = crate::store::entries::facts_by_key(store, &key)?.unwrap_or_default();
        let entry = Entry::derive(&en, &facts);
        let Some(alert) = hook.no_release_for(&entry, &facts, now) else { continue };
        queued += store.transaction(|tx| hook.queue_tx(tx, vec![alert.clone()], now))?;
    }
    if queued > 0 {
        store.flush()?;
        tracing::info!(target: "entrywatch", event = "NoReleaseChecked", queued, "no-release warnings queued");
    }
    Ok(queued)
}

/// Queue one alert (category rejection, critical) per acknowledgment a trading partner sent
/// that rejects (part of) what it acknowledges (a TA1/997/999 saying R, M, W, X, or P for a
/// group). Each alert's identity names the partner, the acknowledged control number and when
/// the ack arrived, so each rejection mails once however often this runs.
pub fn check_ack_rejections(store: &Store, hook: &AlertHook, now: DateTime<FixedOffset>) -> Result<u64, StoreError> {
    use chrono::TimeZone;
    let mut alerts = Vec::new();
    for ev in crate::ack::inbound::events(store)? {
        let crate::ack::inbound::AckEvent::AckRejected { ack } = ev;
        let at = hook.timezone().from_local_datetime(&ack.received).earliest().map(|d| d.fixed_offset()).unwrap_or(now);
        let set = match (&ack.set, &ack.set_control_number) {
            (Some(s), Some(c)) => format!(" set {s} {c}"),
            _ => String::new(),
        };
        let what =
            format!("{} {} {} {}{set} from {}", ack.kind, ack.level, ack.control_number, ack.status, ack.partner);
        let mut alert = rules::alert_for_event(
            AlertKind::Rejected,
            crate::grammar::codes::AlertSeverity::Critical,
            Some(&what),
            at,
            EntryFacts::default(),
            now,
        );
        let mut lines = vec![format!(
            "Partner {} rejected {} {}{set} with a {} (status {}).",
            ack.partner, ack.level, ack.control_number, ack.kind, ack.status
        )];
        if !ack.codes.is_empty() {
            lines.push(format!("Codes: {}", ack.codes.join(" ")));
        }
        lines.extend(ack.errors.iter().map(|e| format!("Error: {e}")));
        lines.push(format!("From file {} line {}.", ack.file, ack.line));
        alert.narrative = Some(lines.join("\n"));
        alerts.push(alert);
    }
    if alerts.is_empty() {
        return Ok(0);
    }
    let queued = store.transaction(|tx| hook.queue_tx(tx, alerts.clone(), now))?;
    if queued > 0 {
        store.flush()?;
        tracing::info!(target: "entrywatch", event = "AckRejectionsChecked", queued, "partner ack rejections queued");
    }
    Ok(queued)
}

/// One delivery pass: make the digests whose time has come (dated `now`'s local day in
/// `tz`), then send every due item once. What `entrywatch ingest` does after its commit, and
/// what each turn of the loop does.
pub async fn deliver_once(
    store: &Store,
    mailer: &Mailer,
    now: DateTime<FixedOffset>,
    tz: chrono_tz::Tz,
) -> DeliveryReport {
    let outbox = SledOutbox::new(store.clone());
    let mut pre = Vec::new();
    match outbox.make_due_digests(now.with_timezone(&tz).date_naive(), now) {
        Ok(ids) if !ids.is_empty() => {
            tracing::info!(target: "entrywatch", event = "DigestQueued", digests = ids.len());
        }
        Ok(_) => {}
        Err(e) => pre.push(format!("digest: {e}")),
    }
    let mut report = deliver_due(&outbox, mailer, now).await;
    report.store_errors.extend(pre);
    report
}

/// How long the daemon holds a new alert whose entry's filing (importer of record) is not
/// known yet, waiting for it: files from CBP and from the broker land out of order (an `AX` or
/// `SO` before the `AE` it answers), and an alert mailed at once would name no importer and
/// miss the routes chosen by importer, where the same files in the clean order name both.
/// When the filing arrives in time the alert goes out with it; else it goes out as it is.
/// Measured in real time (not `ENTRYWATCH_NOW`), like an inbox's `settle-secs`;
/// `ENTRYWATCH_ALERT_SETTLE_SECS` overrides it.
pub const ALERT_SETTLE: Duration = Duration::from_secs(120);

/// [`ALERT_SETTLE`], or `ENTRYWATCH_ALERT_SETTLE_SECS` when set.
pub fn alert_settle() -> Duration {
    std::env::var("ENTRYWATCH_ALERT_SETTLE_SECS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(ALERT_SETTLE)
}

/// The due items that wait for their entry's filing: new alerts (never attempted) naming an
/// entry without an importer. Each is looked up again: once the entry has its importer, the
/// alert takes the filing's facts (importer, port, lines) and the routes they select, and is
/// released; else it waits until `settle` has passed since this process first saw it.
/// Returns the identities to leave out of this delivery pass.
fn settle_waiting(
    outbox: &SledOutbox,
    hook: &AlertHook,
    now: DateTime<FixedOffset>,
    first_seen: &mut std::collections::HashMap<String, std::time::Instant>,
    settle: Duration,
) -> std::collections::HashSet<String> {
    use super::outbox::{OutboxStore, Payload};
    let mut hold = std::collections::HashSet::new();
    let Ok(due) = outbox.due(now) else { return hold };
    let mut still: std::collections::HashSet<String> = std::collections::HashSet::new();
    for mut item in due {
        let Payload::Alert(alert) = &mut item.payload else { continue };
        if item.attempts > 0 || alert.facts.importer.is_some() {
            continue;
        }
        let Some(en) = alert.facts.entry.clone() else { continue };
        let facts: Vec<Fact> = crate::store::entries::facts(outbox.store(), &en).ok().flatten().unwrap_or_default();
        let entry = Entry::derive(&en, &facts);
        let now_known = super::hook::entry_facts(&entry);
        if now_known.importer.is_some() {
            alert.facts.importer = now_known.importer;
            alert.facts.importer_name = alert.facts.importer_name.take().or(now_known.importer_name);
            alert.facts.port = alert.facts.port.take().or(now_known.port);
            if alert.facts.lines.is_empty() {
                alert.facts.lines = now_known.lines;
            }
            let mut to = item.to.clone();
            for r in rules::routes_for(alert, hook.routes()) {
                if !to.contains(&r) {
                    to.push(r);
                }
            }
            item.to = to;
            match outbox.refresh_queued(&item) {
                Ok(()) => {
                    tracing::info!(target: "entrywatch", event = "AlertSettled", alert_id = %item.id, "the entry's filing arrived")
                }
                Err(e) => tracing::warn!(target: "entrywatch", event = "OutboxStoreError", error = %e),
            }
            first_seen.remove(&item.id);
            continue;
        }
        let seen = *first_seen.entry(item.id.clone()).or_insert_with(std::time::Instant::now);
        if seen.elapsed() < settle {
            hold.insert(item.id.clone());
            still.insert(item.id.clone());
        }
    }
    first_seen.retain(|id, _| still.contains(id));
    hold
}

/// The outbox as the delivery pass sees it, without the alerts that wait for their filing.
struct Settling<'a> {
    outbox: &'a SledOutbox,
    hold: &'a std::collections::HashSet<String>,
}

impl super::outbox::OutboxStore for Settling<'_> {
    type Error = StoreError;
    fn insert_new(&self, item: super::outbox::OutboxItem) -> Result<bool, StoreError> {
        self.outbox.insert_new(item)
    }
    fn due(&self, now: DateTime<FixedOffset>) -> Result<Vec<super::outbox::OutboxItem>, StoreError> {
        Ok(self.outbox.due(now)?.into_iter().filter(|i| !self.hold.contains(&i.id)).collect())
    }
    fn mark_sent(&self, id: &str, at: DateTime<FixedOffset>) -> Result<(), StoreError> {
        self.outbox.mark_sent(id, at)
    }
    fn mark_retry(&self, id: &str, attempts: u32, next: DateTime<FixedOffset>, error: &str) -> Result<(), StoreError> {
        self.outbox.mark_retry(id, attempts, next, error)
    }
    fn mark_failed(&self, id: &str, attempts: u32, error: &str, at: DateTime<FixedOffset>) -> Result<(), StoreError> {
        self.outbox.mark_failed(id, attempts, error, at)
    }
}

/// The mailer loop and what it needs. Build with [`MailerLoop::new`], add a wake-up handle
/// and the hook for the no-release check, then [`MailerLoop::run`].
pub struct MailerLoop {
    store: Store,
    mailer: Mailer,
    clock: Clock,
    wake: Arc<Notify>,
    hook: Option<Arc<AlertHook>>,
    tz: chrono_tz::Tz,
    max_sleep: Duration,
}

impl MailerLoop {
    pub fn new(store: Store, mailer: Mailer, clock: Clock) -> MailerLoop {
        MailerLoop {
            store,
            mailer,
            clock,
            wake: Arc::new(Notify::new()),
            hook: None,
            tz: chrono_tz::America::New_York,
            max_sleep: MAX_SLEEP,
        }
    }

    /// Wake the loop with `wake.notify_one()` after a batch of files has been committed and
    /// flushed (the pipeline's `process_batch` returned): new items go out at once.
    pub fn with_wake(mut self, wake: Arc<Notify>) -> MailerLoop {
        self.wake = wake;
        self
    }

    /// Run the no-release check at start and every hour with this hook's config and routes
    /// (and date digests in its time zone).
    pub fn with_no_release(mut self, hook: Arc<AlertHook>) -> MailerLoop {
        self.tz = hook.timezone();
        self.hook = Some(hook);
        self
    }

    /// The time zone digests are dated in (default America/New_York, the config default).
    pub fn with_timezone(mut self, tz: chrono_tz::Tz) -> MailerLoop {
        self.tz = tz;
        self
    }

    /// Cap the sleep between passes (default [`MAX_SLEEP`]).
    pub fn with_max_sleep(mut self, d: Duration) -> MailerLoop {
        self.max_sleep = d.max(Duration::from_millis(10));
        self
    }

    /// The handle that wakes the loop.
    pub fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Deliver due items until `shutdown` completes. An attempt in progress finishes (its
    /// mark is written) before the loop stops; store errors are logged and retried.
    pub async fn run<F: Future<Output = ()>>(self, shutdown: F) {
        tokio::pin!(shutdown);
        let outbox = SledOutbox::new(self.store.clone());
        let mut last_check: Option<std::time::Instant> = None;
        let mut first_seen = std::collections::HashMap::new();
        let settle = alert_settle();
        loop {
            let now = self.clock.now();
            if let Some(hook) = &self.hook {
                if last_check.is_none_or(|t| t.elapsed() >= NO_RELEASE_EVERY) {
                    if let Err(e) = check_no_release(&self.store, hook, now) {
                        tracing::warn!(target: "entrywatch", event = "NoReleaseCheckFailed", error = %e);
                    }
                    last_check = Some(std::time::Instant::now());
                }
            }
            if let Some(hook) = &self.hook {
                if let Err(e) = check_ack_rejections(&self.store, hook, now) {
                    tracing::warn!(target: "entrywatch", event = "AckRejectionCheckFailed", error = %e);
                }
            }
            let report = match &self.hook {
                Some(hook) => {
                    let hold = settle_waiting(&outbox, hook, now, &mut first_seen, settle);
                    let mut pre = Vec::new();
                    match outbox.make_due_digests(now.with_timezone(&self.tz).date_naive(), now) {
                        Ok(ids) if !ids.is_empty() => {
                            tracing::info!(target: "entrywatch", event = "DigestQueued", digests = ids.len());
                        }
                        Ok(_) => {}
                        Err(e) => pre.push(format!("digest: {e}")),
                    }
                    let mut r = deliver_due(&Settling { outbox: &outbox, hold: &hold }, &self.mailer, now).await;
                    r.store_errors.extend(pre);
                    r
                }
                None => deliver_once(&self.store, &self.mailer, now, self.tz).await,
            };
            for e in &report.store_errors {
                tracing::warn!(target: "entrywatch", event = "OutboxStoreError", error = %e);
            }
            let sleep = match outbox.next_due() {
                Ok(Some(next)) => (next - self.clock.now()).to_std().unwrap_or(Duration::ZERO).min(self.max_sleep),
                Ok(None) => self.max_sleep,
                Err(e) => {
                    tracing::warn!(target: "entrywatch", event = "OutboxStoreError", error = %e);
                    self.max_sleep
                }
            };
            // Every due item was just tried: something still due means a store error; do not spin.
            let sleep = sleep.max(MIN_SLEEP.min(self.max_sleep));
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
        tracing::info!(target: "entrywatch", event = "MailerStopped");
    }
}

/// The loop with its defaults: `run_mailer(store, mailer, clock, shutdown)`. Use
/// [`MailerLoop`] to add a wake-up handle and the no-release check.
pub async fn run_mailer<F: Future<Output = ()>>(store: Store, mailer: Mailer, clock: Clock, shutdown: F) {
    MailerLoop::new(store, mailer, clock).run(shutdown).await
}
