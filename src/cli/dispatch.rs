//! Where a data command runs: against the store when this process can open it, else in the
//! running daemon that holds it, asked over its local socket ([`crate::ipc`]). Either way the
//! same function ([`exec`]) writes the output, so both print the same bytes.

use super::{affected, alerts, deadlines, entries, recovery, report, variance, EXIT_INVALID, EXIT_USAGE};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::{Entry, Fact};
use crate::entry_number::EntryNumber;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Where a command writes: this process's stdout and stderr, or the daemon's socket frames.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Progress lines may be drawn on `err` (a terminal); never when the daemon runs the command.
    pub tty: bool,
}

/// What a data command needs: the configuration, the open store and the clock.
pub struct Ctx {
    pub config: Config,
    pub store: Store,
    pub clock: Clock,
}

/// A data command with its parsed arguments: what the client sends to the daemon.
/// (`RecoveryExport`'s folder is absolute: the daemon may be the one writing it.)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Query {
    Entries { json: bool, status: Option<String>, importer: Option<String>, broker: Option<String> },
    Entry { entry: String, json: bool },
    Variance { entry: String, format: variance::Format },
    Alerts { json: bool },
    Deadlines { within: Option<u32>, json: bool, ics: bool, remind: bool },
    Report(report::ReportArgs),
    RecoveryExport { program: String, out_dir: std::path::PathBuf },
    Affected { entry: String, json: bool },
}

/// Run a data command against an open store. The one implementation of every read command.
pub fn exec(q: &Query, ctx: &Ctx, io: &mut Io) -> i32 {
    match q {
        Query::Entries { json, status, importer, broker } => {
            entries::entries_on(ctx, *json, status.as_deref(), importer.as_deref(), broker.as_deref(), io)
        }
        Query::Entry { entry, json } => entries::entry_on(ctx, entry, *json, io),
        Query::Variance { entry, format } => variance::variance_on(ctx, entry, *format, io),
        Query::Alerts { json } => alerts::alerts_on(ctx, *json, io),
        Query::Deadlines { within, json, ics, remind } => {
            deadlines::deadlines_on(ctx, *within, *json, *ics, *remind, io)
        }
        Query::Report(args) => report::report_on(ctx, args, io),
        Query::RecoveryExport { program, out_dir } => recovery::export_on(ctx, program, out_dir, io),
        Query::Affected { entry, json } => affected::affected_on(ctx, entry, *json, io),
    }
}

/// The entry a command names (`EEE-1234567-3`, `EEE12345673` ...), loaded from the store with
/// its facts; the problem printed (exit 2 for a malformed number, 1 for one not in the store).
pub fn load_named(ctx: &Ctx, entry: &str, io: &mut Io) -> Result<(EntryNumber, Entry, Vec<Fact>), i32> {
    let en = parse_named(entry, io)?;
    let (e, facts) = found(&en, crate::store::entries::derived(&ctx.store, &en), io)?;
    Ok((en, e, facts))
}

/// The entry number a command names; the problem printed (exit 2) when it is malformed.
pub fn parse_named(entry: &str, io: &mut Io) -> Result<EntryNumber, i32> {
    entry.parse().map_err(|e| {
        let _ = writeln!(io.err, "error: {e}");
        EXIT_USAGE
    })
}

/// What the store answered for a named entry; the problem printed (exit 1) when it has no such
/// entry or does not read.
pub fn found<T>(en: &EntryNumber, read: Result<Option<T>, StoreError>, io: &mut Io) -> Result<T, i32> {
    match read {
        Ok(Some(x)) => Ok(x),
        Ok(None) => {
            let _ = writeln!(io.err, "error: no entry {en} in the store");
            Err(EXIT_INVALID)
        }
        Err(err) => {
            let _ = writeln!(io.err, "error: {err}");
            Err(EXIT_INVALID)
        }
    }
}

/// True when a store that does not open here may be open in a running daemon: it is locked
/// by another process, or this user may not open it (but may reach the daemon's socket).
pub fn daemon_may_hold(e: &StoreError) -> bool {
    matches!(e, StoreError::InUse { .. } | StoreError::NoAccess { .. })
}

/// Load the configuration, printing the problem (exit 2) when it does not load.
pub fn load_config(path: Option<&Path>) -> Result<Config, i32> {
    match Config::discover(path) {
        Ok((c, _)) => {
            crate::store::configure(&c.daemon);
            Ok(c)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_USAGE)
        }
    }
}

/// The clock of this process (`ENTRYWATCH_NOW` or the system's), printing the problem.
pub fn load_clock() -> Result<Clock, i32> {
    Clock::from_env().map_err(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })
}

/// Run a data command: open the store and run it here, or, when a running daemon holds the
/// store, have the daemon run it and print what it sends back.
pub fn run(config: Option<&Path>, q: Query) -> i32 {
    let Ok(clock) = load_clock() else { return EXIT_USAGE };
    let Ok(config) = load_config(config) else { return EXIT_USAGE };
    match Store::open(&config.data_dir.join("store")) {
        Ok(store) => {
            let ctx = Ctx { config, store, clock };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut err = std::io::stderr();
            let tty = err.is_terminal();
            let code = exec(&q, &ctx, &mut Io { out: &mut out, err: &mut err, tty });
            let _ = out.flush();
            code
        }
        Err(e) if daemon_may_hold(&e) => crate::ipc::client::query(&config, clock, q, &e),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}
