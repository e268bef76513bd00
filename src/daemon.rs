//! The supervisor: runs the long-running tasks (the sources, and those `entrywatch run` adds: command socket, store health, scheduler, dashboard, mailer) under one shutdown signal, and handles signals, config reload and sd_notify.
//!
//! - SIGTERM / SIGINT: stop taking new files, finish the files in hand, exit 0.
//! - SIGHUP: reload the config (the same file, or the same lookup); inboxes added and
//!   removed take effect at once; an invalid new config is logged and the old one kept.
//! - systemd: `READY=1` once every inbox has been scanned, `WATCHDOG=1` at half of
//!   `WATCHDOG_USEC` while the sources loop is turning, `STOPPING=1` on shutdown,
//!   `RELOADING=1`/`READY=1` around a reload. All no-ops without `NOTIFY_SOCKET`.

use crate::config::{Config, ConfigSource};
use crate::source::watch::{SourceStats, Sources};
use crate::source::FileHandler;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

/// The shutdown signal every task watches: `wait().await` returns once shutdown began.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    pub async fn wait(&mut self) {
        while !*self.0.borrow_and_update() {
            if self.0.changed().await.is_err() {
                return;
            }
        }
    }

    /// The underlying receiver.
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.0.clone()
    }
}

type TaskFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type TaskFactory = Box<dyn FnOnce(Shutdown, watch::Receiver<Arc<Config>>) -> TaskFuture + Send>;

/// A set of named tasks sharing one shutdown signal.
pub struct Supervisor {
    shutdown_tx: watch::Sender<bool>,
    tasks: JoinSet<(String, anyhow::Result<()>)>,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl Supervisor {
    pub fn new() -> Supervisor {
        let (shutdown_tx, _) = watch::channel(false);
        Supervisor { shutdown_tx, tasks: JoinSet::new() }
    }

    pub fn shutdown_signal(&self) -> Shutdown {
        Shutdown(self.shutdown_tx.subscribe())
    }

    /// Begin shutdown: every task sees its [`Shutdown`] fire.
    pub fn trigger(&self) {
        self.shutdown_tx.send_replace(true);
    }

    /// Spawn a named task; it should return soon after its shutdown signal fires.
    pub fn spawn<F>(&mut self, name: &str, fut: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let name = name.to_string();
        self.tasks.spawn(async move { (name, fut.await) });
    }

    /// Wait for the next task to end; `None` when none is left.
    pub async fn join_next(&mut self) -> Option<(String, anyhow::Result<()>)> {
        match self.tasks.join_next().await? {
            Ok(r) => Some(r),
            Err(e) => Some(("?".into(), Err(anyhow::anyhow!("task failed: {e}")))),
        }
    }
}

/// Handle to a running daemon: ask it to stop or to reload (what the signals do).
#[derive(Clone)]
pub struct Controller {
    shutdown: Arc<watch::Sender<bool>>,
    reload: mpsc::UnboundedSender<()>,
}

impl Controller {
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub fn reload(&self) {
        let _ = self.reload.send(());
    }
}

/// The daemon: sources plus whatever tasks are added, under one supervisor.
pub struct Daemon<H: FileHandler> {
    config: Config,
    /// Where the config came from, so SIGHUP reloads the same thing.
    source: ConfigSource,
    handler: Arc<H>,
    extra: Vec<(String, TaskFactory)>,
    signals: bool,
    stop_tx: Arc<watch::Sender<bool>>,
    reload_tx: mpsc::UnboundedSender<()>,
    reload_rx: mpsc::UnboundedReceiver<()>,
    ready: Option<oneshot::Sender<()>>,
    stats: Arc<SourceStats>,
}

/// Load and check a config for (re)loading: the config itself and its grammars.
pub fn load_checked(source: &ConfigSource) -> Result<Config, Vec<String>> {
    let explicit: Option<PathBuf> = match source {
        ConfigSource::File(p) => Some(p.clone()),
        ConfigSource::Embedded => None,
    };
    let cfg = match explicit {
        Some(p) => Config::discover(Some(&p)).map(|(c, _)| c),
        None => Ok(Config::embedded()),
    }
    .map_err(|e| match e {
        crate::config::ConfigError::Invalid { path, problems } => {
            problems.into_iter().map(|p| format!("config {path}: {p}")).collect()
        }
        other => vec![other.to_string()],
    })?;
    crate::grammar::Grammars::load(cfg.grammar_dir.as_deref())
        .map_err(|errs| errs.iter().map(|e| format!("grammar {e}")).collect::<Vec<_>>())?;
    Ok(cfg)
}

impl<H: FileHandler> Daemon<H> {
    pub fn new(config: Config, source: ConfigSource, handler: Arc<H>) -> Self {
        let (stop_tx, _) = watch::channel(false);
        let (reload_tx, reload_rx) = mpsc::unbounded_channel();
        Daemon {
            config,
            source,
            handler,
            extra: Vec::new(),
            signals: true,
            stop_tx: Arc::new(stop_tx),
            reload_tx,
            reload_rx,
            ready: None,
            stats: Arc::new(SourceStats::default()),
        }
    }

    /// Do not install signal handlers (embedding in tests or another program); use the
    /// [`Controller`] instead.
    pub fn without_signals(mut self) -> Self {
        self.signals = false;
        self
    }

    /// Be told when every inbox has been scanned once.
    pub fn on_ready(mut self, tx: oneshot::Sender<()>) -> Self {
        self.ready = Some(tx);
        self
    }

    pub fn controller(&self) -> Controller {
        Controller { shutdown: self.stop_tx.clone(), reload: self.reload_tx.clone() }
    }

    pub fn stats(&self) -> Arc<SourceStats> {
        self.stats.clone()
    }

    /// Add a task (mailer, scheduler, dashboard ...): it gets the shutdown signal and the
    /// live config (updated on reload) and should return soon after shutdown.
    pub fn add_task<F, Fut>(&mut self, name: &str, f: F)
    where
        F: FnOnce(Shutdown, watch::Receiver<Arc<Config>>) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.extra.push((name.to_string(), Box::new(move |s, c| Box::pin(f(s, c)) as TaskFuture)));
    }

    /// Run until asked to stop (signal or controller). Errors only when setting up fails.
    pub async fn run(mut self) -> anyhow::Result<()> {
        let mut sup = Supervisor::new();
        let (cfg_tx, cfg_rx) = watch::channel(Arc::new(self.config.clone()));
        let names: Vec<&str> = self.config.inbox.iter().map(|i| i.name.as_str()).collect();
        tracing::info!(inboxes = ?names, data_dir = %self.config.data_dir.display(), "DaemonStarting");

        let (ready_tx, ready_rx) = oneshot::channel();
        let sources = Sources::new(self.handler.clone(), cfg_rx.clone(), self.stats.clone());
        let sh = sup.shutdown_signal().receiver();
        sup.spawn("sources", async move {
            sources.run(sh, Some(ready_tx)).await;
            Ok(())
        });
        for (name, f) in self.extra.drain(..) {
            let fut = f(sup.shutdown_signal(), cfg_rx.clone());
            sup.spawn(&name, fut);
        }

        // Watchdog: ping while the sources loop is turning.
        if let Some(every) = sd_notify::watchdog_enabled() {
            let stats = self.stats.clone();
            let mut sh = sup.shutdown_signal();
            let half = (every / 2).max(Duration::from_millis(100));
            sup.spawn("watchdog", async move {
                let mut last = u64::MAX;
                let mut tick = tokio::time::interval(half);
                tick.tick().await; // the immediate first tick: the first ping comes after READY
                loop {
                    tokio::select! {
                        _ = sh.wait() => return Ok(()),
                        _ = tick.tick() => {
                            let beat = stats.heartbeat.load(Ordering::Relaxed);
                            if beat != last {
                                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                                last = beat;
                            } else {
                                tracing::warn!("WatchdogMissed: the sources loop has not turned");
                            }
                        }
                    }
                }
            });
        }

        let mut sigs = if self.signals { Some(Signals::new()?) } else { None };
        let mut ready_rx = Some(ready_rx);
        let mut stop_rx = self.stop_tx.subscribe();
        let mut current = self.config.clone();
        let mut early_failure: Option<anyhow::Error> = None;
        loop {
            tokio::select! {
                r = async { match ready_rx.as_mut() { Some(rx) => rx.await, None => std::future::pending().await } }, if ready_rx.is_some() => {
                    ready_rx = None;
                    if r.is_ok() {
                        tracing::info!("DaemonReady");
                        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
                        if let Some(tx) = self.ready.take() {
                            let _ = tx.send(());
                        }
                    }
                }
                s = async { match sigs.as_mut() { Some(s) => s.next().await, None => std::future::pending().await } }, if sigs.is_some() => match s {
                    Sig::Stop(name) => {
                        tracing::info!(signal = name, "ShutdownRequested");
                        break;
                    }
                    Sig::Reload => self.reload(&cfg_tx, &mut current),
                },
                Some(()) = self.reload_rx.recv() => self.reload(&cfg_tx, &mut current),
                _ = stop_rx.changed() => {
                    if *stop_rx.borrow() {
                        tracing::info!("ShutdownRequested");
                        break;
                    }
                }
                ended = sup.join_next() => {
                    // A task that stops while the daemon runs is a failure (exit non-zero, so
                    // systemd restarts it), whether it returned an error or nothing.
                    match ended {
                        Some((name, Ok(()))) => {
                            tracing::error!(task = %name, "TaskEnded unexpectedly; stopping");
                            crate::health::set(&format!("task {name}"), Some("ended".into()));
                            early_failure = Some(anyhow::anyhow!("task {name} ended unexpectedly"));
                        }
                        Some((name, Err(e))) => {
                            tracing::error!(task = %name, error = %e, "TaskFailed; stopping");
                            crate::health::set(&format!("task {name}"), Some(e.to_string()));
                            early_failure = Some(e.context(format!("task {name}")));
                        }
                        None => {}
                    }
                    break;
                }
            }
        }
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        sup.trigger();
        let mut failed = early_failure;
        while let Some((name, r)) = sup.join_next().await {
            if let Err(e) = r {
                tracing::error!(task = %name, error = %e, "TaskFailed");
                failed.get_or_insert(e);
            }
        }
        tracing::info!(handled = self.stats.handled.load(Ordering::Relaxed), "DaemonStopped");
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn reload(&self, cfg_tx: &watch::Sender<Arc<Config>>, current: &mut Config) {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Reloading]);
        match load_checked(&self.source) {
            Ok(cfg) => {
                let before: Vec<String> = current.inbox.iter().map(|i| i.name.clone()).collect();
                let after: Vec<String> = cfg.inbox.iter().map(|i| i.name.clone()).collect();
                tracing::info!(inboxes_before = ?before, inboxes_after = ?after, "ConfigReloaded");
                *current = cfg.clone();
                cfg_tx.send_replace(Arc::new(cfg));
            }
            Err(problems) => {
                tracing::error!(problems = %problems.join("; "), "ConfigReloadFailed: keeping the old config");
            }
        }
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    }
}

enum Sig {
    Stop(&'static str),
    Reload,
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    async fn next(&mut self) -> Sig {
        tokio::select! {
            _ = self.term.recv() => Sig::Stop("SIGTERM"),
            _ = self.int.recv() => Sig::Stop("SIGINT"),
            _ = self.hup.recv() => Sig::Reload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn supervisor_stops_every_task() {
        let mut sup = Supervisor::new();
        for n in ["a", "b", "c"] {
            let mut sh = sup.shutdown_signal();
            sup.spawn(n, async move {
                sh.wait().await;
                Ok(())
            });
        }
        sup.trigger();
        let mut ended = Vec::new();
        while let Some((name, r)) = sup.join_next().await {
            assert!(r.is_ok());
            ended.push(name);
        }
        ended.sort();
        assert_eq!(ended, ["a", "b", "c"]);
    }

    #[test]
    fn reload_refuses_an_invalid_config() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "data-dir = \"x\"\n[daemon]\nconcurrency = 0\n").unwrap();
        let e = load_checked(&ConfigSource::File(p.clone())).unwrap_err();
        assert!(e.iter().any(|m| m.contains("concurrency")), "{e:?}");
        std::fs::write(&p, "data-dir = \"x\"\n").unwrap();
        assert!(load_checked(&ConfigSource::File(p)).is_ok());
    }
}
