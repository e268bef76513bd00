//! The command line (interface.md "Commands"): argument types and dispatch; one file per command group.

pub mod affected;
pub mod alerts;
pub mod deadlines;
pub mod dispatch;
pub mod entries;
pub mod parse;
pub mod recovery;
pub mod report;
pub mod run;
pub mod variance;

use clap::{Parser, Subcommand};
use dispatch::Query;
use std::path::PathBuf;

/// Exit codes (interface.md): 0 success, 1 invalid input, 2 usage or configuration error.
pub const EXIT_OK: i32 = 0;
pub const EXIT_INVALID: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "entrywatch",
    version,
    about = "Customs post-entry watch: CBP ABI and X12 messages, holds, variance, deadlines, alerts"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse files without any state; no config needed. Exit 0 valid, 1 invalid.
    Parse {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Read grammars from this folder instead of the embedded copy.
        #[arg(long)]
        grammars: Option<PathBuf>,
    },
    /// Reports: entry-summary, liquidation, rejected, anomalies, statements, brokers, recovery.
    Report(report::ReportArgs),
    /// Push files through the same pipeline as the daemon, once; your files are copied (--move moves them).
    #[command(
        after_help = "Your files are left alone: ingest copies them into the data dir (archive/, or quarantine/ \
                      when they cannot be read). With --move they are moved there instead (the daemon's \
                      own inboxes always work that way). While `entrywatch run` holds the store, the files \
                      are handed to the daemon over its local socket and the outcomes printed here."
    )]
    Ingest {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The inbox (from the config) the files arrived on.
        #[arg(long)]
        inbox: String,
        /// Files to ingest (none: only finish files an interrupted run had claimed).
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Move the files into the data dir instead of copying them (removed from where they are).
        #[arg(long = "move")]
        move_files: bool,
    },
    /// List entries in the store.
    Entries {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Summary, release or liquidation status (e.g. accepted, held, liquidated).
        #[arg(long, value_parser = STATUSES)]
        status: Option<String>,
        #[arg(long)]
        importer: Option<String>,
        /// Filer code.
        #[arg(long)]
        broker: Option<String>,
    },
    /// One entry: state, open holds, deadlines and the full timeline (audit trail).
    Entry {
        entry: String,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// What else an entry's status touches: entries sharing its bill, container, PO, HTS or
    /// manufacturer, and the entries each of its events affects.
    Affected {
        entry: String,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Filed vs approved: every difference in words (or JSON / CSV).
    Variance {
        entry: String,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        #[arg(long)]
        csv: bool,
    },
    /// The outbox: queued, sent, failed.
    Alerts {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Every entry's open deadlines, soonest first (overdue first); or the calendar feed.
    Deadlines {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Only deadlines due within this many days from today.
        #[arg(long)]
        within: Option<u32>,
        #[arg(long)]
        json: bool,
        /// An RFC 5545 calendar (one all-day event per deadline).
        #[arg(long, conflicts_with = "json")]
        ics: bool,
        /// Queue the reminders due now (what the daemon's scheduler does) and say how many.
        #[arg(long, conflicts_with_all = ["json", "ics", "within"])]
        remind: bool,
    },
    /// Replay the archive into a fresh store (same state).
    Rebuild {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// The daemon, in the foreground (systemd runs this): watch the inboxes, process what is dropped.
    Run(run::RunArgs),
    /// Validate the config and every grammar; exit 0, or list all problems and exit 2.
    CheckConfig {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Duty recovery: refund program claim files (`report recovery` for the figures).
    Recovery {
        #[command(subcommand)]
        command: recovery::RecoveryCommand,
    },
    /// Grammar files.
    Grammars {
        #[command(subcommand)]
        command: GrammarsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum GrammarsCommand {
    /// Load and check grammar files (the embedded copy when DIR is not given).
    Check { dir: Option<PathBuf> },
}

/// Every value `entries --status` matches: summary, release, liquidation and variance states
/// (src/domain/view.rs, src/variance). Anything else is a usage error, not an empty list.
pub use crate::query::STATUSES;

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    // ENTRYWATCH_NOW replaces the clock for every command: a value that does not parse is a
    // usage error for all of them, not the system clock in silence.
    if let Err(e) = crate::clock::Clock::from_env() {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    match cli.command {
        Command::Parse { files, json, grammars } => parse::run_parse(&files, json, grammars.as_deref()),
        Command::Ingest { config, inbox, files, json, move_files } => {
            entries::run_ingest(config.as_deref(), &inbox, &files, json, move_files)
        }
        Command::Entries { config, json, status, importer, broker } => {
            dispatch::run(config.as_deref(), Query::Entries { json, status, importer, broker })
        }
        Command::Entry { entry, config, json } => dispatch::run(config.as_deref(), Query::Entry { entry, json }),
        Command::Affected { entry, config, json } => dispatch::run(config.as_deref(), Query::Affected { entry, json }),
        Command::Variance { entry, config, json, csv } => {
            let format = match (json, csv) {
                (true, _) => variance::Format::Json,
                (_, true) => variance::Format::Csv,
                _ => variance::Format::Text,
            };
            dispatch::run(config.as_deref(), Query::Variance { entry, format })
        }
        Command::Alerts { config, json } => dispatch::run(config.as_deref(), Query::Alerts { json }),
        Command::Deadlines { config, within, json, ics, remind } => {
            dispatch::run(config.as_deref(), Query::Deadlines { within, json, ics, remind })
        }
        Command::Rebuild { config } => entries::run_rebuild(config.as_deref()),
        Command::Run(args) => run::run_run(&args),
        Command::CheckConfig { config } => run::run_check_config(config.as_deref()),
        Command::Grammars { command: GrammarsCommand::Check { dir } } => parse::run_grammars_check(dir.as_deref()),
        Command::Report(args) => report::run(&args),
        Command::Recovery { command: recovery::RecoveryCommand::Export { config, program, out_dir } } => {
            // The daemon may run the export: give it an absolute folder.
            let out_dir = std::path::absolute(&out_dir).unwrap_or(out_dir);
            dispatch::run(config.as_deref(), Query::RecoveryExport { program, out_dir })
        }
    }
}
