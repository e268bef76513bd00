//! The reminder scheduler: reads the open deadlines near now from the query index (kept in each file's transaction), queues each due reminder as a `deadline` alert in the outbox in the same transaction that records it in the reminder ledger (`store::reminders`), then sleeps until the next reminder instant or a wake-up.
//!
//! A reminder's identity ([`ReminderKey::id`], e.g. `reminder/EEE12345673/psc/2026-11-25/7`)
//! is both its key in `reminders` and its outbox id (the mail's `X-Entrywatch-Alert-Id`), so
//! it is queued at most once, across restarts too. Reminders missed while the daemon was
//! down are produced once at the next pass (only the most recent lead of each deadline,
//! marked late): see [`super::remind`].

use super::facts::entry_deadline_items;
use super::remind::{Reminder, ReminderKey, ReminderPlan};
use super::{DeadlineKind, EntryDeadline};
use crate::alert::hook::entry_facts;
use crate::alert::outbox::OutboxItem;
use crate::alert::rules::{alert_for_event, routes_for};
use crate::alert::store::insert_new_tx;
use crate::alert::{Alert, AlertKind, CodeInfo};
use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::Entry;
use crate::entry_number::EntryNumber;
use crate::grammar::codes::AlertSeverity;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Days, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Longest sleep between passes (a safety net for clock changes; not a poll: a pass with
/// nothing due writes nothing).
pub const MAX_SLEEP: Duration = Duration::from_secs(3600);

/// Shortest time between two passes started by wake-ups (new facts): a backlog ingested batch
/// by batch costs one pass per interval, not one per batch.
pub const MIN_WAKE_INTERVAL: Duration = Duration::from_secs(30);

/// What `reminders` keeps per reminder key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderRecord {
    pub entry: EntryNumber,
    pub kind: DeadlineKind,
    pub due: chrono::NaiveDate,
    pub lead_days: u32,
    /// When it was queued (the scheduler's "now").
    pub queued_at: DateTime<FixedOffset>,
    /// When it was planned to go out.
    pub fire_at: DateTime<FixedOffset>,
    pub late: bool,
    /// The routed recipients (empty: no `[[route]]` takes `deadline` alerts; nothing was mailed).
    pub to: Vec<String>,
}

/// Every entry's deadlines, computed from its facts now (so always current); one entry in
/// memory at a time.
pub fn all_deadlines(store: &Store, cal: &Calendar) -> Result<Vec<EntryDeadline>, StoreError> {
    let mut out = Vec::new();
    for r in crate::store::entries::scan_facts(store) {
        let (k, facts) = r?;
        let Ok(en) = k.parse::<EntryNumber>() else { continue };
        out.extend(entry_deadline_items(&Entry::derive(&en, &facts), &facts, cal));
    }
    Ok(out)
}

/// The open deadlines due within `[from, to]` (either end open), soonest first, from the
/// query index (src/query/index.rs) that each file's transaction keeps: no entry is derived.
pub fn open_deadlines(
    store: &Store,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<EntryDeadline>, StoreError> {
    let page = crate::query::index::deadlines(
        store,
        from.unwrap_or(NaiveDate::MIN),
        to.unwrap_or(NaiveDate::MAX),
        usize::MAX,
    )?;
    Ok(page.rows.into_iter().map(|d| d.item).collect())
}

/// The deadlines a reminder pass at `now` can fire or wake for: due from yesterday (time-zone
/// slack) to twice the longest lead ahead.
fn reminder_window(
    store: &Store,
    plan: &ReminderPlan,
    now: DateTime<FixedOffset>,
) -> Result<Vec<EntryDeadline>, StoreError> {
    let today = now.date_naive();
    let lead = u64::from(plan.leads().iter().copied().max().unwrap_or(0));
    let from = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let to = today.checked_add_days(Days::new(2 * lead + 2)).unwrap_or(NaiveDate::MAX);
    open_deadlines(store, Some(from), Some(to))
}

/// Record `rec` in the reminder ledger under `id` and queue `item` for its recipients (none:
/// recorded only), in ONE transaction, unless `id` is there already. True when recorded now.
pub fn record_once(store: &Store, id: &str, rec: &ReminderRecord, item: &OutboxItem) -> Result<bool, StoreError> {
    store.transaction(|tx| {
        if !crate::store::reminders::record_once_tx(tx, id, rec)? {
            return Ok(false);
        }
        if !rec.to.is_empty() {
            insert_new_tx(tx, item)?;
        }
        Ok(true)
    })
}

/// The refund windows left within the alert horizon, from the entries whose refund-claim
/// deadline passed in it (found in the index, not by deriving every entry).
fn recovery_windows(store: &Store, config: &Config, now: DateTime<FixedOffset>) -> Result<usize, StoreError> {
    let cal = Calendar::from_config(&config.deadlines);
    let today = super::local_today(now, config.timezone());
    let horizon = Days::new(crate::recovery::window::RECENT_DAYS.unsigned_abs() + 1);
    let from = today.checked_sub_days(horizon).unwrap_or(today);
    let mut candidates: Vec<EntryNumber> = open_deadlines(store, Some(from), Some(today))?
        .into_iter()
        .filter(|d| d.deadline.kind == DeadlineKind::RefundClaim)
        .map(|d| d.entry)
        .collect();
    candidates.sort_by_key(EntryNumber::compact);
    candidates.dedup();
    let mut loaded = Vec::new();
    for en in &candidates {
        if let Some(x) = crate::store::entries::derived(store, en)? {
            loaded.push(x);
        }
    }
    let with_deadlines: Vec<(&Entry, Vec<super::Deadline>)> =
        loaded.iter().map(|(e, f)| (e, super::facts::entry_deadlines(e, f, &cal))).collect();
    crate::recovery::window::window_pass(store, config, super::facts::embedded_remedies(), &with_deadlines, now)
}

/// The `deadline` alert of one reminder: identity = the reminder id; subject
/// `[entrywatch] REMINDER Deadline coming: EEE-1234567-3 DEADLINE psc Post summary
/// correction window closes in 7 days (due 2026-11-25) (12-345678900)`.
pub fn reminder_alert(r: &Reminder, entry: Option<&Entry>, now: DateTime<FixedOffset>) -> Alert {
    let d = &r.deadline;
    let mut facts = match entry {
        Some(e) => entry_facts(e),
        None => crate::alert::EntryFacts { entry: Some(r.key.entry.clone()), ..Default::default() },
    };
    let est = if d.estimated { " (estimated)" } else { "" };
    facts.next_deadline = Some(format!("{}: {}{est}", d.due, d.kind.title()));
    // Critical on the last working days of an action the importer must take.
    let severity =
        if d.kind.is_action() && r.days_left <= 1 { AlertSeverity::Critical } else { AlertSeverity::Warning };
    let mut a = alert_for_event(AlertKind::DeadlineReminder, severity, Some(d.kind.as_str()), r.fire_at, facts, now);
    a.id = r.key.id();
    let when = match r.days_left {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        n => format!("in {n} days"),
    };
    let est = if d.estimated { ", estimated" } else { "" };
    let late = if r.late { " [late]" } else { "" };
    a.code = Some(CodeInfo {
        list: "deadline".into(),
        list_title: "entrywatch deadlines".into(),
        code: d.kind.as_str().into(),
        meaning: format!("{} {when} (due {}{est}){late}", d.kind.title(), d.due),
        action: r.text().lines().last().map(str::to_string),
    });
    a.narrative = Some(r.text());
    a
}

/// One pass: queue every reminder due at `now` that is not yet recorded. Each reminder is
/// recorded in `reminders` and its alert put in the outbox (for its routed recipients) in
/// ONE transaction; one flush at the end. Returns how many reminders were recorded.
pub fn remind_once(store: &Store, config: &Config, now: DateTime<FixedOffset>) -> Result<usize, StoreError> {
    Ok(remind_pass(store, config, now)?.queued)
}

/// What one scheduler pass did, and when the next reminder becomes due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub queued: usize,
    pub next: Option<DateTime<FixedOffset>>,
}

/// [`remind_once`] plus the next reminder instant, from one read of the store.
pub fn remind_pass(store: &Store, config: &Config, now: DateTime<FixedOffset>) -> Result<Pass, StoreError> {
    remind_pass_settled(store, config, now, &mut |_, _| true).map(|(pass, _)| pass)
}

/// [`remind_pass`] for entries whose facts have settled only: `settled(entry, fact count)`
/// says whether an entry's reminders may be queued now (the daemon's scheduler holds those of
/// an entry whose facts are still arriving: an `SO` release before the `AE` it follows would
/// otherwise make a "summary filing due" reminder a clean run never sends). Only the entries
/// with a reminder due are asked. The second value says whether a due reminder was held.
pub fn remind_pass_settled(
    store: &Store,
    config: &Config,
    now: DateTime<FixedOffset>,
    settled: &mut dyn FnMut(&str, usize) -> bool,
) -> Result<(Pass, bool), StoreError> {
    let plan = ReminderPlan::from_config(&config.deadlines);
    let items = reminder_window(store, &plan, now)?;
    // Looked up one by one: the ledger grows for years, the window does not.
    let is_sent = |k: &ReminderKey| crate::store::reminders::is_recorded(store, k);
    let mut due = plan.due(&items, now, &is_sent);
    let before = due.len();
    due.retain(|r| {
        let key = r.key.entry.compact();
        let facts = match crate::store::entries::row(store, &key) {
            Ok(Some(row)) => row.facts,
            _ => 0,
        };
        settled(&key, facts)
    });
    let held = due.len() < before;
    let mut n = 0;
    for r in &due {
        let id = r.key.id();
        let entry = crate::store::entries::derived(store, &r.key.entry)?.map(|(e, _)| e);
        let alert = reminder_alert(r, entry.as_ref(), now);
        let to = routes_for(&alert, &config.route);
        let rec = ReminderRecord {
            entry: r.key.entry.clone(),
            kind: r.key.kind,
            due: r.key.due,
            lead_days: r.key.lead_days,
            queued_at: now,
            fire_at: r.fire_at,
            late: r.late,
            to: to.clone(),
        };
        let item = OutboxItem::for_alert(alert, to.clone(), now);
        let queued = record_once(store, &id, &rec, &item)?;
        if queued {
            n += 1;
            tracing::info!(target: "entrywatch", event = "ReminderQueued", reminder = %id, late = r.late,
                recipients = to.len());
        }
    }
    if n > 0 {
        store.flush()?;
    }
    // Refund windows left (crate::recovery::window): once per entry and window, same ledger.
    n += recovery_windows(store, config, now)?;
    let next = plan.next_wake(&items, now, &is_sent);
    Ok((Pass { queued: n, next }, held))
}

/// Which entries' facts have settled: an entry counts as settled once its number of facts
/// has not changed for the settle time (real time, as for alerts: see
/// [`crate::alert::service::ALERT_SETTLE`]). Entries already in the store at the first pass
/// are settled.
#[derive(Debug, Default)]
struct Settle {
    seen: HashMap<String, (usize, Option<std::time::Instant>)>,
    first_pass_done: bool,
}

impl Settle {
    fn check(&mut self, key: &str, facts: usize, settle: Duration) -> bool {
        let first = !self.first_pass_done;
        let slot = self.seen.entry(key.to_string()).or_insert((facts, (!first).then(std::time::Instant::now)));
        if slot.0 != facts {
            *slot = (facts, Some(std::time::Instant::now()));
        }
        slot.1.is_none_or(|t| t.elapsed() >= settle)
    }
}

/// The next instant a reminder not yet recorded becomes due.
pub fn next_reminder(
    store: &Store,
    config: &Config,
    now: DateTime<FixedOffset>,
) -> Result<Option<DateTime<FixedOffset>>, StoreError> {
    let plan = ReminderPlan::from_config(&config.deadlines);
    let items = reminder_window(store, &plan, now)?;
    let is_sent = |k: &ReminderKey| crate::store::reminders::is_recorded(store, k);
    Ok(plan.next_wake(&items, now, &is_sent))
}

/// The scheduler and what it needs: build with [`Scheduler::new`], add wake-up handles,
/// then [`Scheduler::run`].
pub struct Scheduler {
    store: Store,
    config: Config,
    clock: Clock,
    wake: Arc<Notify>,
    mailer_wake: Option<Arc<Notify>>,
    max_sleep: Duration,
    min_wake_interval: Duration,
    remedies: crate::recovery::Remedies,
}

impl Scheduler {
    pub fn new(store: Store, config: Config, clock: Clock) -> Scheduler {
        Scheduler {
            store,
            config,
            clock,
            remedies: super::facts::embedded_remedies().clone(),
            wake: Arc::new(Notify::new()),
            mailer_wake: None,
            max_sleep: MAX_SLEEP,
            min_wake_interval: MIN_WAKE_INTERVAL,
        }
    }

    /// The refund programs' rules of the grammars in use (the recovery sums are rolled
    /// forward with the rules the pipeline keeps them with).
    pub fn with_remedies(mut self, r: &crate::recovery::Remedies) -> Scheduler {
        self.remedies = r.clone();
        self
    }

    /// Wake the scheduler with `wake.notify_one()` when new facts were committed.
    pub fn with_wake(mut self, wake: Arc<Notify>) -> Scheduler {
        self.wake = wake;
        self
    }

    /// Notify the mailer loop when reminders were queued (so they go out at once).
    pub fn with_mailer_wake(mut self, wake: Arc<Notify>) -> Scheduler {
        self.mailer_wake = Some(wake);
        self
    }

    /// Cap the sleep between passes (default [`MAX_SLEEP`]).
    pub fn with_max_sleep(mut self, d: Duration) -> Scheduler {
        self.max_sleep = d.max(Duration::from_millis(10));
        self
    }

    /// The shortest time between passes started by wake-ups (default [`MIN_WAKE_INTERVAL`]).
    pub fn with_min_wake_interval(mut self, d: Duration) -> Scheduler {
        self.min_wake_interval = d;
        self
    }

    /// The handle that wakes the scheduler.
    pub fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Queue due reminders (missed ones once, at start), then sleep until the next reminder
    /// instant, a wake-up or `shutdown`; store errors are logged and retried after a minute.
    pub async fn run<F: Future<Output = ()>>(self, shutdown: F) {
        tokio::pin!(shutdown);
        let settle_for = crate::alert::service::alert_settle();
        let mut settle = Settle::default();
        loop {
            let started = std::time::Instant::now();
            let now = self.clock.now();
            let pass = remind_pass_settled(&self.store, &self.config, now, &mut |k, n| settle.check(k, n, settle_for));
            settle.first_pass_done = true;
            // The recovery sums of entries whose day has come (query::recovery), so the
            // Recovery page reads them instead of evaluating those entries itself.
            let today = super::local_today(now, self.config.timezone());
            let cal = Calendar::from_config(&self.config.deadlines);
            match crate::query::recovery::roll_forward(&self.store, &self.remedies, &cal, today) {
                Ok(0) => {}
                Ok(n) => tracing::debug!(target: "entrywatch", event = "RecoveryRolledForward", entries = n),
                Err(e) => tracing::warn!(target: "entrywatch", event = "SchedulerStoreError", error = %e),
            }
            let sleep = match pass {
                Ok((pass, held)) => {
                    if held {
                        tracing::debug!(target: "entrywatch", event = "RemindersHeld", "an entry's facts are still arriving");
                    }
                    let held_wake = held.then(|| settle_for.min(self.max_sleep).max(Duration::from_secs(1)));
                    if pass.queued > 0 {
                        if let Some(w) = &self.mailer_wake {
                            w.notify_one();
                        }
                    }
                    let next = match pass.next {
                        Some(next) => (next - self.clock.now()).to_std().unwrap_or(Duration::ZERO),
                        None => self.max_sleep,
                    };
                    // A held reminder is due already (the plan's next instant is a later one):
                    // look again when its entry may have settled.
                    match held_wake {
                        Some(w) => next.min(w),
                        None => next,
                    }
                }
                Err(e) => {
                    tracing::warn!(target: "entrywatch", event = "SchedulerStoreError", error = %e);
                    Duration::from_secs(60)
                }
            };
            // A reminder instant just reached is handled by the pass after this short wait.
            let sleep = sleep.clamp(Duration::from_millis(10), self.max_sleep);
            tracing::debug!(target: "entrywatch", event = "SchedulerSleeping", secs = sleep.as_secs());
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.notified() => {
                    // Woken by new facts: not more often than the minimum interval.
                    let wait = self.min_wake_interval.saturating_sub(started.elapsed()).min(sleep);
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                _ = tokio::time::sleep(sleep) => {}
            }
        }
        tracing::info!(target: "entrywatch", event = "SchedulerStopped");
    }
}

/// The scheduler with its defaults: reminders for every entry, woken by `wake` (new facts).
pub async fn run_scheduler<F: Future<Output = ()>>(
    store: Store,
    config: Config,
    clock: Clock,
    shutdown: F,
    wake: Arc<Notify>,
) {
    Scheduler::new(store, config, clock).with_wake(wake).run(shutdown).await
}
