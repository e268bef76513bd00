//! The sources task: one notify watcher per inbox (inotify, or polling), a periodic full rescan, and dispatch of ready files to the handler under bounded concurrency.
//!
//! Events from the watchers go through a bounded queue; when it overflows, or inotify
//! reports its own overflow (`need_rescan()`), every inbox is rescanned and open-write
//! flags are dropped, so nothing is lost. A rescan also runs every `daemon.rescan-secs`.

use super::complete::{check_file, Completeness};
use super::scan::{is_link, list_dir, stat_file, Hint, InboxState};
use super::FileHandler;
use super::HandleOutcome;
use crate::config::{Config, Inbox};
use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{Event, RecursiveMode, Watcher};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Notify, Semaphore};
use tokio::task::JoinSet;

/// Capacity of the event queue between the watchers and the sources task; override with
/// `ENTRYWATCH_EVENT_QUEUE` (tests use a tiny queue to force the overflow path).
pub const DEFAULT_EVENT_QUEUE: usize = 65_536;

/// The longest the loop sleeps: it also drives the watchdog heartbeat.
const MAX_SLEEP: Duration = Duration::from_secs(1);

struct Fs {
    inbox: String,
    event: notify::Result<Event>,
}

/// Shared counters the supervisor reads (watchdog heartbeat, metrics).
#[derive(Debug, Default)]
pub struct SourceStats {
    /// Incremented on every turn of the loop.
    pub heartbeat: AtomicU64,
    pub handled: AtomicU64,
    pub rescans: AtomicU64,
    pub overflows: AtomicU64,
}

/// The name under which a retry of an inbox's claimed files is in hand (NUL never occurs in
/// a file name, so it cannot be a real file).
const CLAIMED: &str = "\0claimed";

/// The longest pause between retries of claimed files.
pub const CLAIMED_RETRY_MAX: Duration = Duration::from_secs(30 * 60);

/// The first pause before claimed files that failed are tried again: [`super::scan::RETRY_AFTER`]
/// (30 s), or `ENTRYWATCH_RETRY_SECS` (tests).
fn claimed_retry_first() -> Duration {
    std::env::var("ENTRYWATCH_RETRY_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(super::scan::RETRY_AFTER)
}

struct InboxRt {
    state: InboxState,
    /// When the files claimed from this inbox but not finished are tried again, and the
    /// pause after that (doubling up to [`CLAIMED_RETRY_MAX`]).
    claimed_due: Option<Instant>,
    claimed_backoff: Duration,
    watcher: Option<Box<dyn Watcher + Send>>,
    dir_ok: bool,
    /// The folder as an absolute path: how the watcher names what it sees.
    abs: PathBuf,
}

/// The sources task; build it with [`Sources::new`] and drive it with [`Sources::run`].
pub struct Sources<H: FileHandler> {
    handler: Arc<H>,
    config: watch::Receiver<Arc<Config>>,
    stats: Arc<SourceStats>,
    inboxes: BTreeMap<String, InboxRt>,
    tx: mpsc::Sender<Fs>,
    rx: mpsc::Receiver<Fs>,
    overflow: Arc<AtomicBool>,
    wake: Arc<Notify>,
    sem: Arc<Semaphore>,
    permits: usize,
    jobs: JoinSet<(String, OsString, HandleOutcome)>,
    /// Where the next dispatch round starts, so no inbox is always served last.
    round: usize,
}

fn queue_capacity() -> usize {
    std::env::var("ENTRYWATCH_EVENT_QUEUE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_EVENT_QUEUE)
}

impl<H: FileHandler> Sources<H> {
    pub fn new(handler: Arc<H>, config: watch::Receiver<Arc<Config>>, stats: Arc<SourceStats>) -> Self {
        let (tx, rx) = mpsc::channel(queue_capacity());
        let permits = config.borrow().daemon.concurrency.max(1);
        Sources {
            handler,
            config,
            stats,
            inboxes: BTreeMap::new(),
            tx,
            rx,
            overflow: Arc::new(AtomicBool::new(false)),
            wake: Arc::new(Notify::new()),
            sem: Arc::new(Semaphore::new(permits)),
            permits,
            jobs: JoinSet::new(),
            round: 0,
        }
    }

    fn make_watcher(&self, inbox: &Inbox) -> notify::Result<Box<dyn Watcher + Send>> {
        let tx = self.tx.clone();
        let overflow = self.overflow.clone();
        let wake = self.wake.clone();
        let name = inbox.name.clone();
        let callback = move |event: notify::Result<Event>| {
            if tx.try_send(Fs { inbox: name.clone(), event }).is_err() {
                overflow.store(true, Ordering::SeqCst);
                wake.notify_one();
            }
        };
        let mut w: Box<dyn Watcher + Send> = if inbox.poll {
            let every = Duration::from_secs(inbox.settle_secs.clamp(1, 10));
            Box::new(notify::PollWatcher::new(callback, notify::Config::default().with_poll_interval(every))?)
        } else {
            Box::new(notify::RecommendedWatcher::new(callback, notify::Config::default())?)
        };
        w.watch(&inbox.path, RecursiveMode::NonRecursive)?;
        Ok(w)
    }

    /// Make sure the folder exists and is watched; false when it cannot be (retried at rescan).
    fn ensure_watched(&mut self, name: &str) -> bool {
        let Some(rt) = self.inboxes.get(name) else { return false };
        if rt.watcher.is_some() {
            return true;
        }
        let inbox = rt.state.inbox.clone();
        if let Err(e) = std::fs::create_dir_all(&inbox.path) {
            if rt.dir_ok {
                tracing::error!(inbox = %inbox.name, path = %inbox.path.display(), error = %e, "InboxUnavailable");
            }
            if let Some(rt) = self.inboxes.get_mut(name) {
                rt.dir_ok = false;
            }
            return false;
        }
        match self.make_watcher(&inbox) {
            Ok(w) => {
                tracing::info!(inbox = %inbox.name, path = %inbox.path.display(), poll = inbox.poll, "InboxWatched");
                if let Some(rt) = self.inboxes.get_mut(name) {
                    rt.watcher = Some(w);
                    rt.dir_ok = true;
                }
                true
            }
            Err(e) => {
                tracing::error!(inbox = %inbox.name, path = %inbox.path.display(), error = %e, "InboxUnavailable");
                if let Some(rt) = self.inboxes.get_mut(name) {
                    rt.dir_ok = false;
                }
                false
            }
        }
    }

    /// Bring the set of inboxes in line with the config (start: everything is new).
    fn apply_config(&mut self, cfg: &Config) {
        let wanted: BTreeMap<&str, &Inbox> = cfg.inbox.iter().map(|i| (i.name.as_str(), i)).collect();
        let gone: Vec<String> = self.inboxes.keys().filter(|k| !wanted.contains_key(k.as_str())).cloned().collect();
        for name in gone {
            self.inboxes.remove(&name);
            tracing::info!(inbox = %name, "InboxRemoved");
        }
        for (name, inbox) in wanted {
            match self.inboxes.get_mut(name) {
                Some(rt) if rt.state.inbox.path == inbox.path && rt.state.inbox.poll == inbox.poll => {
                    rt.state.inbox = inbox.clone();
                }
                _ => {
                    self.inboxes.insert(
                        name.to_string(),
                        InboxRt {
                            state: InboxState::new(inbox.clone()),
                            claimed_due: None,
                            claimed_backoff: claimed_retry_first(),
                            watcher: None,
                            dir_ok: true,
                            abs: std::path::absolute(&inbox.path).unwrap_or_else(|_| inbox.path.clone()),
                        },
                    );
                    self.ensure_watched(name);
                    self.rescan_one(name, false);
                }
            }
        }
        let want = cfg.daemon.concurrency.max(1);
        if want > self.permits {
            self.sem.add_permits(want - self.permits);
        } else if want < self.permits {
            let shrink = self.sem.forget_permits(self.permits - want);
            // Permits in use now are dropped as they come back: lower the target only by what was forgotten.
            self.permits -= shrink;
            return;
        }
        self.permits = want;
    }

    fn rescan_one(&mut self, name: &str, events_lost: bool) {
        if !self.ensure_watched(name) {
            return;
        }
        let Some(rt) = self.inboxes.get_mut(name) else { return };
        match list_dir(&rt.state.inbox.path) {
            Ok(listing) => rt.state.apply_listing(listing, events_lost, Instant::now()),
            Err(e) => tracing::warn!(inbox = %name, error = %e, "InboxScanFailed"),
        }
        // Files claimed and left unfinished (by this run or one before): schedule a retry.
        if rt.claimed_due.is_none() && rt.state.in_flight().is_none() && self.handler.claimed(&rt.state.inbox) > 0 {
            rt.claimed_due = Some(Instant::now());
        }
    }

    fn rescan_all(&mut self, events_lost: bool) {
        self.stats.rescans.fetch_add(1, Ordering::Relaxed);
        let names: Vec<String> = self.inboxes.keys().cloned().collect();
        for n in names {
            self.rescan_one(&n, events_lost);
        }
    }

    fn on_event(&mut self, fs: Fs) {
        let event = match fs.event {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(inbox = %fs.inbox, error = %e, "WatchError");
                self.overflow.store(true, Ordering::SeqCst);
                return;
            }
        };
        if event.need_rescan() {
            self.stats.overflows.fetch_add(1, Ordering::Relaxed);
            self.overflow.store(true, Ordering::SeqCst);
            return;
        }
        let Some(rt) = self.inboxes.get_mut(&fs.inbox) else { return };
        let hint = match event.kind {
            EventKind::Modify(ModifyKind::Data(_)) => Hint::Written,
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => Hint::Closed,
            _ => Hint::Changed,
        };
        let now = Instant::now();
        for p in &event.paths {
            // Only files directly in the inbox folder.
            if p.parent() != Some(rt.abs.as_path()) && p.parent() != Some(rt.state.inbox.path.as_path()) {
                if p.as_path() == rt.abs.as_path() && matches!(event.kind, EventKind::Remove(_)) {
                    rt.watcher = None;
                }
                continue;
            }
            let Some(name) = p.file_name().map(|n| n.to_os_string()) else { continue };
            if !InboxState::wants(&name) {
                continue;
            }
            rt.state.observe(&name, stat_file(p), now);
            rt.state.hint(&name, hint, now);
        }
    }

    /// Hand ready files to the handler while permits last; returns when to look again.
    fn dispatch(&mut self) -> Option<Instant> {
        let mut wake: Option<Instant> = None;
        let mut names: Vec<String> = self.inboxes.keys().cloned().collect();
        if !names.is_empty() {
            self.round = (self.round + 1) % names.len();
            names.rotate_left(self.round);
        }
        for name in names {
            let Some(rt) = self.inboxes.get_mut(&name) else { continue };
            if rt.state.in_flight().is_some() {
                continue;
            }
            let Ok(permit) = self.sem.clone().try_acquire_owned() else { break };
            if let Some(due) = rt.claimed_due {
                if Instant::now() >= due {
                    let sentinel = OsString::from(CLAIMED);
                    rt.state.start(&sentinel);
                    let inbox = rt.state.inbox.clone();
                    let handler = self.handler.clone();
                    self.jobs.spawn_blocking(move || {
                        let _permit = permit;
                        let outcome =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.retry_claimed(&inbox)))
                                .unwrap_or_else(|_| HandleOutcome::Retry("the handler panicked".into()));
                        (inbox.name, sentinel, outcome)
                    });
                    continue;
                }
                wake = Some(wake.map_or(due, |x: Instant| x.min(due)));
            }
            let dir = rt.state.inbox.path.clone();
            let (ready, w) = rt.state.next_ready(
                Instant::now(),
                |n| stat_file(&dir.join(n)),
                // A link is never opened: it is handed over at once and quarantined unread.
                |n| {
                    let p = dir.join(n);
                    if is_link(&p) {
                        Completeness::Complete
                    } else {
                        check_file(&p).unwrap_or(Completeness::Complete)
                    }
                },
            );
            if let Some(w) = w {
                wake = Some(wake.map_or(w, |x: Instant| x.min(w)));
            }
            let Some(ready) = ready else { continue };
            rt.state.start(&ready.name);
            let inbox = rt.state.inbox.clone();
            let path: PathBuf = dir.join(&ready.name);
            if ready.truncated {
                tracing::warn!(inbox = %inbox.name, file = %path.display(), grace_secs = inbox.truncated_grace_secs,
                    "FileTruncated: the envelope is still incomplete after the grace; handing it over");
            }
            tracing::debug!(inbox = %inbox.name, file = %path.display(), "FileReady");
            let handler = self.handler.clone();
            let fname = ready.name.clone();
            self.jobs.spawn_blocking(move || {
                let _permit = permit;
                let started = Instant::now();
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.handle(&inbox, &path)))
                    .unwrap_or_else(|_| HandleOutcome::Retry("the handler panicked".into()));
                let ms = started.elapsed().as_millis() as u64;
                match &outcome {
                    HandleOutcome::Retry(why) | HandleOutcome::Quarantined(why) => tracing::warn!(
                        inbox = %inbox.name, file = %path.display(), outcome = outcome.label(), reason = %why, ms, "FileHandled"
                    ),
                    _ => tracing::info!(inbox = %inbox.name, file = %path.display(), outcome = outcome.label(), ms, "FileHandled"),
                }
                (inbox.name, fname, outcome)
            });
        }
        wake
    }

    fn on_done(&mut self, inbox: String, name: OsString, outcome: HandleOutcome) {
        self.stats.handled.fetch_add(1, Ordering::Relaxed);
        let Some(rt) = self.inboxes.get_mut(&inbox) else { return };
        let now = Instant::now();
        let retry = matches!(outcome, HandleOutcome::Retry(_));
        if name == CLAIMED {
            rt.state.finish(&name, None, false, now);
            if let HandleOutcome::Retry(why) = &outcome {
                tracing::warn!(inbox = %inbox, retry_in_secs = rt.claimed_backoff.as_secs(), reason = %why, "ClaimedRetryScheduled");
                rt.claimed_due = Some(now + rt.claimed_backoff);
                rt.claimed_backoff = (rt.claimed_backoff * 2).min(CLAIMED_RETRY_MAX);
            } else {
                rt.claimed_due = None;
                rt.claimed_backoff = claimed_retry_first();
            }
            return;
        }
        let after = stat_file(&rt.state.inbox.path.join(&name));
        rt.state.finish(&name, after, retry, now);
        // It failed after leaving the inbox (claimed into work/): retry it from there.
        if retry && after.is_none() && rt.claimed_due.is_none() {
            rt.claimed_due = Some(now + rt.claimed_backoff);
            rt.claimed_backoff = (rt.claimed_backoff * 2).min(CLAIMED_RETRY_MAX);
        }
    }

    /// Run until `shutdown` turns true; then wait for the files in hand and return.
    /// `ready` is sent once every inbox has been scanned the first time.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>, ready: Option<tokio::sync::oneshot::Sender<()>>) {
        let cfg = self.config.borrow_and_update().clone();
        self.apply_config(&cfg);
        let mut rescan_secs = cfg.daemon.rescan_secs.max(1);
        let mut rescan = tokio::time::interval(Duration::from_secs(rescan_secs));
        rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        rescan.tick().await;
        if let Some(r) = ready {
            let _ = r.send(());
        }
        let mut wake_at: Option<Instant> = self.dispatch();
        loop {
            if *shutdown.borrow() {
                break;
            }
            self.stats.heartbeat.fetch_add(1, Ordering::Relaxed);
            let sleep_for = wake_at.map_or(MAX_SLEEP, |w| w.saturating_duration_since(Instant::now()).min(MAX_SLEEP));
            tokio::select! {
                _ = shutdown.changed() => {}
                Some(fs) = self.rx.recv() => {
                    self.on_event(fs);
                    // Drain what is queued without going round the loop for each.
                    for _ in 0..4096 {
                        match self.rx.try_recv() {
                            Ok(fs) => self.on_event(fs),
                            Err(_) => break,
                        }
                    }
                }
                Some(done) = self.jobs.join_next(), if !self.jobs.is_empty() => {
                    match done {
                        Ok((inbox, name, outcome)) => self.on_done(inbox, name, outcome),
                        Err(e) => tracing::error!(error = %e, "HandlerTaskFailed"),
                    }
                }
                Ok(()) = self.config.changed() => {
                    let cfg = self.config.borrow_and_update().clone();
                    self.apply_config(&cfg);
                    if cfg.daemon.rescan_secs.max(1) != rescan_secs {
                        rescan_secs = cfg.daemon.rescan_secs.max(1);
                        rescan = tokio::time::interval(Duration::from_secs(rescan_secs));
                        rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                        rescan.tick().await;
                    }
                }
                _ = rescan.tick() => self.rescan_all(false),
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep_for) => {}
            }
            if self.overflow.swap(false, Ordering::SeqCst) {
                tracing::warn!("EventsLost: rescanning every inbox");
                // Drain the stale queue first: the listing is the truth from here.
                while self.rx.try_recv().is_ok() {}
                self.rescan_all(true);
            }
            wake_at = self.dispatch();
        }
        let in_hand = self.jobs.len();
        if in_hand > 0 {
            tracing::info!(files = in_hand, "SourcesStopping: finishing the files in hand");
        }
        while let Some(done) = self.jobs.join_next().await {
            if let Ok((inbox, name, outcome)) = done {
                self.on_done(inbox, name, outcome);
            }
        }
        self.inboxes.clear();
    }
}
