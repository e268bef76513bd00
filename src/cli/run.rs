//! `entrywatch run` (the daemon in the foreground) and `entrywatch check-config`.

use super::{EXIT_OK, EXIT_USAGE};
use crate::config::{Config, ConfigError, ConfigSource};
use crate::daemon::Daemon;
use crate::grammar::Grammars;
use crate::logging::{self, LogFormat};
use crate::source::{FileHandler, HandleOutcome};
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

/// The handler `run` uses until the ingest pipeline is plugged in: parses each ready file,
/// logs what it found, and leaves the file where it is (the daemon does not hand an
/// unchanged file over twice).
pub struct ParseOnlyHandler {
    grammars: Grammars,
}

impl ParseOnlyHandler {
    pub fn new(grammars: Grammars) -> Self {
        ParseOnlyHandler { grammars }
    }
}

impl FileHandler for ParseOnlyHandler {
    fn handle(&self, inbox: &crate::config::Inbox, path: &Path) -> HandleOutcome {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return HandleOutcome::Gone,
            Err(e) => return HandleOutcome::Retry(e.to_string()),
        };
        let parsed = crate::parse::parse_file(&path.display().to_string(), &bytes, &self.grammars);
        tracing::info!(inbox = %inbox.name, file = %path.display(), format = ?parsed.format, ok = parsed.ok,
            errors = parsed.errors.len(), bytes = bytes.len(), "FileParsed");
        // Nothing is moved yet: the file stays in the inbox and is not handed over again
        // until it changes.
        HandleOutcome::Processed
    }
}

/// `run`: load config and grammars, optionally seed the demo, and run the daemon with the
/// given handler (built from the config and grammars) until SIGTERM/SIGINT.
pub fn run_with<H, F>(args: &RunArgs, make_handler: F) -> i32
where
    H: FileHandler,
    F: FnOnce(&Config, Grammars) -> anyhow::Result<H>,
{
    logging::init(args.log_format);
    let (cfg, source) = match Config::discover(args.config.as_deref()) {
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
        match crate::source::demo::seed(&cfg) {
            Ok(w) => tracing::info!(samples = w.len(), "DemoSeeded"),
            Err(e) => {
                eprintln!("error: --demo: cannot seed the inboxes: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let handler = match make_handler(&cfg, grammars) {
        Ok(h) => Arc::new(h),
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
    let daemon = Daemon::new(cfg, source, handler);
    match rt.block_on(daemon.run()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            tracing::error!(error = %e, "DaemonFailed");
            1
        }
    }
}

/// `run` with the default handler.
pub fn run_run(args: &RunArgs) -> i32 {
    run_with(args, |_cfg, grammars| Ok(ParseOnlyHandler::new(grammars)))
}
