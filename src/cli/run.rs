//! `entrywatch run` (the daemon in the foreground) and `entrywatch check-config`.

use super::{EXIT_OK, EXIT_USAGE};
use crate::alert::hook::AlertHook;
use crate::alert::mailer::Mailer;
use crate::alert::service::MailerLoop;
use crate::clock::Clock;
use crate::config::{Config, ConfigError, ConfigSource};
use crate::daemon::Daemon;
use crate::deadline::facts::next_deadline_fn;
use crate::deadline::scheduler::Scheduler;
use crate::grammar::Grammars;
use crate::ingest::{IngestError, Pipeline};
use crate::ipc::server::{Backend, Server};
use crate::logging::{self, LogFormat};
use crate::source::pipeline::PipelineHandler;
use crate::source::FileHandler;
use crate::web::store_model::{bind_dashboard, serve_store_on};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arguments of `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Config file (else $ENTRYWATCH_CONFIG, ./entrywatch.toml, /etc/entrywatch/entrywatch.toml, the embedded default).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Create the inbox folders and copy the shipped samples into them.
    #[arg(long)]
    pub demo: bool,
    /// Log lines on stderr: readable text, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Every problem with a config, one per line (empty when it loads).
fn config_problems(e: &ConfigError) -> Vec<String> {
    match e {
        ConfigError::Invalid { path, problems } => problems.iter().map(|p| format!("config {path}: {p}")).collect(),
        other => vec![other.to_string()],
    }
}

/// `check-config`: load the config and every grammar, list all problems; exit 0 or 2.
pub fn run_check_config(config: Option<&Path>) -> i32 {
    let (cfg, source) = match Config::discover(config) {
        Ok(c) => c,
        Err(e) => {
            for p in config_problems(&e) {
                eprintln!("error: {p}");
            }
            return EXIT_USAGE;
        }
    };
    let mut problems = Vec::new();
    match Grammars::load(cfg.grammar_dir.as_deref()) {
        Ok(g) => {
            for w in &g.warnings {
                eprintln!("warning: grammar {w}");
            }
        }
        Err(errs) => problems.extend(errs.iter().map(|e| format!("grammar {e}"))),
    }
    problems.extend(cfg.check_files());
    for i in &cfg.inbox {
        if !i.path.is_dir() {
            eprintln!("note: inbox {} folder {} does not exist yet (run creates it)", i.name, i.path.display());
        }
    }
    if problems.is_empty() {
        let from = match &source {
            ConfigSource::File(p) => p.display().to_string(),
            ConfigSource::Embedded => "the embedded default".into(),
        };
        println!("ok: {from}: {} inbox(es), data-dir {}", cfg.inbox.len(), cfg.data_dir.display());
        EXIT_OK
    } else {
        for p in &problems {
            eprintln!("error: {p}");
        }
        EXIT_USAGE
    }
}

/// `run --demo` caps every inbox's `truncated-grace-secs` at this (until a reload).
pub const DEMO_TRUNCATED_GRACE_SECS: u64 = 5;

/// `run`: load config and grammars, optionally seed the demo, and run the daemon with the
/// given handler (built from the config and grammars) until SIGTERM/SIGINT.
pub fn run_with<H, F>(args: &RunArgs, make_handler: F) -> i32
where
    H: FileHandler,
    F: FnOnce(&Config, Grammars) -> anyhow::Result<(H, Setup<H>)>,
{
    logging::init(args.log_format);
    let (mut cfg, source) = match Config::discover(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", config_problems(&e).join("; "));
            return EXIT_USAGE;
        }
    };
    let grammars = match Grammars::load(cfg.grammar_dir.as_deref()) {
        Ok(g) => g,
        Err(errs) => {
            let list: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            eprintln!("error: grammars: {}", list.join("; "));
            return EXIT_USAGE;
        }
    };
    if let ConfigSource::Embedded = source {
        tracing::info!("ConfigEmbedded: no config file found; using the embedded default");
    }
    if args.demo {
        // The demo's deliberately truncated samples (X12 without IEA, ABI without Z, an empty
        // file) would otherwise wait out the 300 s grace meant for resumable SFTP uploads
        // before they reach quarantine; a demo shows them there within seconds.
        for i in &mut cfg.inbox {
            if i.truncated_grace_secs > DEMO_TRUNCATED_GRACE_SECS {
                i.truncated_grace_secs = DEMO_TRUNCATED_GRACE_SECS;
                tracing::info!(inbox = %i.name, secs = DEMO_TRUNCATED_GRACE_SECS, "DemoGraceShortened");
            }
        }
        match crate::source::demo::seed(&cfg) {
            Ok(w) => tracing::info!(samples = w.len(), "DemoSeeded"),
            Err(e) => {
                eprintln!("error: --demo: cannot seed the inboxes: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let (handler, setup) = match make_handler(&cfg, grammars) {
        Ok((h, setup)) => (Arc::new(h), setup),
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_USAGE;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let store_path = cfg.data_dir.join("store");
    let mut daemon = Daemon::new(cfg, source, handler.clone());
    setup(&mut daemon, &handler);
    let ran = rt.block_on(daemon.run());
    // Every task and handle is gone with the runtime: checkpoint the store so the next start
    // does not read the log written during this run (sled snapshots only when it opens).
    drop(handler);
    drop(rt);
    if ran.is_ok() && store_path.exists() {
        match crate::store::Store::checkpoint(&store_path) {
            Ok(took) => tracing::info!(target: "entrywatch", event = "StoreCheckpointed", ms = took.as_millis() as u64),
            Err(e) => tracing::warn!(target: "entrywatch", event = "StoreCheckpointFailed", error = %e),
        }
    }
    match ran {
        Ok(()) => EXIT_OK,
        Err(e) => {
            // A part that could not run (port taken, password or token file missing, the
            // mail transport refused): a configuration or environment problem, exit 2.
            tracing::error!(error = %format!("{e:#}"), "DaemonFailed");
            eprintln!("error: {e:#}");
            EXIT_USAGE
        }
    }
}

/// Adds the daemon's other tasks (mailer, scheduler, dashboard) once the handler exists.
pub type Setup<H> = Box<dyn FnOnce(&mut Daemon<H>, &Arc<H>)>;

/// The one-line reason `run` cannot open its store. A store locked by another process (a
/// daemon already running on this data dir, or an `ingest` in progress) is not damaged: say
/// so, rather than send the operator to `rebuild`.
fn store_open_error(data_dir: &Path, e: &IngestError) -> anyhow::Error {
    match e {
        // The store's own message says what to do (stop the other process, or rebuild).
        IngestError::Store(s) => anyhow::anyhow!("{s}"),
        other => anyhow::anyhow!("cannot open the store under {}: {other}", data_dir.display()),
    }
}

/// `run`: every settled file goes through the ingest pipeline, as `entrywatch ingest` does.
pub fn run_run(args: &RunArgs) -> i32 {
    run_with(args, |cfg, grammars| {
        let clock = Clock::from_env().map_err(anyhow::Error::msg)?;
        let pipeline = Pipeline::open(cfg, &grammars, clock).map_err(|e| store_open_error(&cfg.data_dir, &e))?;
        crate::cli::entries::Staging::clear_leftovers(&cfg.data_dir);
        let hook = Arc::new(AlertHook::new(cfg, &grammars, clock).with_next_deadline(next_deadline_fn(cfg)));
        let pipeline = pipeline.with_hook(hook.clone());
        let wake = Arc::new(tokio::sync::Notify::new());
        let scheduler_wake = Arc::new(tokio::sync::Notify::new());
        let handler = PipelineHandler::new(Arc::new(pipeline), &cfg.inbox)
            .with_wake(wake.clone())
            .with_wake(scheduler_wake.clone());
        let dashboard_enabled = cfg.dashboard.enabled;
        let scheduler_remedies = grammars.remedies.clone();
        // The dashboard's port is bound now, so it answers as soon as the daemon is ready. A
        // bind that fails is reported by the dashboard task (the daemon then exits 2).
        let dashboard_port = dashboard_enabled.then(|| bind_dashboard(cfg));
        // The command socket is bound now, so it answers as soon as the daemon is ready. Without
        // it files still flow; only the CLI cannot reach this daemon (logged).
        let socket = match Server::bind(&cfg.data_dir) {
            Ok(s) => Some(s),
            Err(e) => {
                let path = crate::ipc::server_path(&cfg.data_dir);
                tracing::error!(socket = %path.display(), error = %e, "SocketFailed: the CLI cannot reach this daemon");
                None
            }
        };
        let setup: Setup<PipelineHandler> = Box::new(move |daemon, handler| {
            let store = handler.pipeline().store().clone();
            let socket_pipeline = handler.pipeline().clone();
            let socket_wake = vec![wake.clone(), scheduler_wake.clone()];
            if let Some(socket) = socket {
                daemon.add_task("socket", move |mut shutdown, config| async move {
                    let backend = Arc::new(Backend { pipeline: socket_pipeline, config, wake: socket_wake });
                    socket.serve(backend, async move { shutdown.wait().await }).await;
                    Ok(())
                });
            }
            // A store write that failed (disk full) cannot be undone in this process: once
            // the data dir takes writes again, stop with a failure so systemd restarts us on
            // the store as it is on disk; the held files are then applied once.
            let probe_dir = handler.pipeline().layout().data_dir.clone();
            daemon.add_task("store-health", move |mut shutdown, _config| async move {
                loop {
                    tokio::select! {
                        _ = shutdown.wait() => return Ok(()),
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    }
                    if let Some(e) = crate::health::store_failed() {
                        let dir = probe_dir.clone();
                        if tokio::task::spawn_blocking(move || crate::health::space_is_back(&dir)).await.unwrap_or(false) {
                            return Err(anyhow::anyhow!(
                                "a store write failed ({e}); the data dir takes writes again: restarting to reopen the store"
                            ));
                        }
                    }
                }
            });
            let checkpoint_store = store.clone();
            daemon.add_task("checkpoint", move |mut shutdown, config| async move {
                checkpoint_task(checkpoint_store, config, async move { shutdown.wait().await }).await
            });
            let scheduler_store = store.clone();
            let mailer_wake = wake.clone();
            daemon.add_task("scheduler", move |mut shutdown, config| async move {
                let cfg = config.borrow().clone();
                let mut scheduler =
                    Scheduler::new(scheduler_store, (*cfg).clone(), clock).with_remedies(&scheduler_remedies);
                // Tests shorten the pause between passes started by new facts.
                if let Some(secs) =
                    std::env::var("ENTRYWATCH_SCHEDULER_WAKE_SECS").ok().and_then(|v| v.trim().parse::<u64>().ok())
                {
                    scheduler = scheduler.with_min_wake_interval(std::time::Duration::from_secs(secs));
                }
                scheduler
                    .with_wake(scheduler_wake)
                    .with_mailer_wake(mailer_wake)
                    .run(async move { shutdown.wait().await })
                    .await;
                Ok(())
            });
            if let Some(port) = dashboard_port {
                let store = store.clone();
                daemon.add_task("dashboard", move |mut shutdown, config| async move {
                    let cfg = config.borrow().clone();
                    // A dashboard that cannot bind (port taken) or read its token file stops the
                    // daemon with a non-zero exit: systemd restarts it and the operator sees why.
                    let served = match port {
                        Ok(listener) => {
                            serve_store_on(&cfg, listener, store, clock, async move { shutdown.wait().await }).await
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = served {
                        tracing::error!(error = %e, listen = %cfg.dashboard.listen, "DashboardFailed");
                        return Err(anyhow::anyhow!("dashboard on {}: {e}", cfg.dashboard.listen));
                    }
                    Ok(())
                });
            }
            daemon.add_task("mailer", move |mut shutdown, config| async move {
                // lettre's SMTP pool must be built inside the runtime.
                let cfg = config.borrow().clone();
                let mailer = Mailer::from_config(&cfg).map_err(|e| anyhow::anyhow!("mail transport: {e}"))?;
                MailerLoop::new(store, mailer, clock)
                    .with_wake(wake)
                    .with_no_release(hook)
                    .run(async move { shutdown.wait().await })
                    .await;
                Ok(())
            });
        });
        Ok((handler, setup))
    })
}

/// Why the store is checkpointed now, if it is: something was committed since the last
/// checkpoint, and either nothing more for `checkpoint-idle-secs` or at least
/// `checkpoint-after-mb` of it.
pub fn checkpoint_due(
    w: crate::store::Written,
    quiet: std::time::Duration,
    d: &crate::config::Daemon,
) -> Option<&'static str> {
    if w.commits == 0 {
        None
    } else if d.checkpoint_after_mb > 0 && w.bytes >= d.checkpoint_after_mb.saturating_mul(1 << 20) {
        Some("written")
    } else if quiet.as_secs() >= d.checkpoint_idle_secs {
        Some("idle")
    } else {
        None
    }
}

/// The daemon's store checkpoint: sled writes its snapshot only when the store opens, so a
/// start after a crash reads every write since the last open (29 s after a 1,000,000-entry
/// load; docs/performance.md). Closing and reopening the store in place when it is quiet
/// ([`crate::store::Store::checkpoint_live`]) bounds that log. A store that does not open
/// again stops the daemon with a failure (systemd restarts it).
async fn checkpoint_task(
    store: crate::store::Store,
    config: tokio::sync::watch::Receiver<Arc<Config>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use std::time::{Duration, Instant};
    tokio::pin!(shutdown);
    let mut last = store.written();
    let mut quiet_since = Instant::now();
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let now = store.written();
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
        let daemon_cfg = config.borrow().daemon.clone();
        // A reload's `checkpoint-after-mb` holds between the chunks of a file too.
        crate::store::configure(&daemon_cfg);
        let Some(reason) = checkpoint_due(now, quiet_since.elapsed(), &daemon_cfg) else { continue };
        let s = store.clone();
        let done = tokio::task::spawn_blocking(move || s.checkpoint_live(Duration::from_secs(2))).await;
        match done {
            Ok(Ok(Some(closed))) => {
                tracing::info!(
                    target: "entrywatch",
                    event = "StoreCheckpointed",
                    reason,
                    commits = now.commits,
                    bytes = now.bytes,
                    ms = closed.as_millis() as u64
                );
                last = store.written();
            }
            Ok(Ok(None)) => tracing::debug!(target: "entrywatch", event = "StoreCheckpointDeferred", reason = "busy"),
            Ok(Err(e)) => {
                tracing::error!(target: "entrywatch", event = "StoreCheckpointFailed", error = %e);
                return Err(anyhow::anyhow!("the store did not open again after a checkpoint: {e}"));
            }
            Err(e) => return Err(anyhow::anyhow!("store checkpoint: {e}")),
        }
    }
}
