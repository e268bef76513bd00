//! `entrywatch report NAME`: arguments, filters and output of the reports in `crate::report`.

use super::dispatch::{Ctx, Io};
use super::{EXIT_OK, EXIT_USAGE};
use crate::clock::Clock;
use crate::report::{self, Format, Params};
use crate::view::{EntryFilter, MemoryModel, ReadModel};
use crate::web::store_model::StoreModel;
use chrono::NaiveDate;
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// `report NAME [--from] [--to] [--format text|csv|json] [--port] [--importer] [--broker] [--hts]`.
#[derive(Debug, Clone, Args, serde::Serialize, serde::Deserialize)]
pub struct ReportArgs {
    /// entry-summary, liquidation, rejected, anomalies, statements, brokers, recovery, three-way or
    /// affected.
    pub name: String,
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Entries dated on or after this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    pub from: Option<NaiveDate>,
    /// Entries dated on or before this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    pub to: Option<NaiveDate>,
    #[arg(long, default_value = "text", value_parser = ["text", "csv", "json"])]
    pub format: String,
    /// Shorthand for --format json.
    #[arg(long)]
    pub json: bool,
    /// Port of entry (4 digits).
    #[arg(long)]
    pub port: Option<String>,
    /// Importer of record number.
    #[arg(long)]
    pub importer: Option<String>,
    /// Broker (filer code or inbox name).
    #[arg(long)]
    pub broker: Option<String>,
    /// HTS number or prefix.
    #[arg(long)]
    pub hts: Option<String>,
    /// anomalies: holds open longer than this many days.
    #[arg(long, default_value_t = 5)]
    pub hold_days: i64,
    /// Read `entry --json` documents from this folder instead of the store.
    #[arg(long)]
    pub entries_dir: Option<PathBuf>,
    /// recovery: the refund program (grammars/remedies/; default: the first one, cape).
    #[arg(long)]
    #[serde(default)]
    pub program: Option<String>,
}

/// A date written exactly `YYYY-MM-DD` (chrono alone would read `26-02-01` as the year 26).
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let shape = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let bad = || format!("{s:?} is not a date (YYYY-MM-DD)");
    if !shape {
        return Err(bad());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())
}

impl ReportArgs {
    pub fn filter(&self) -> EntryFilter {
        EntryFilter {
            from: self.from,
            to: self.to,
            port: self.port.clone(),
            importer: self.importer.clone(),
            broker: self.broker.clone(),
            hts: self.hts.clone(),
            status: None,
        }
    }

    pub fn format(&self) -> Format {
        if self.json {
            Format::Json
        } else {
            self.format.parse().unwrap_or_default()
        }
    }
}

/// Run a report over a model, writing to `out` (problems and progress to stderr); returns
/// the exit code.
pub fn run_with_model(args: &ReportArgs, model: &dyn ReadModel, clock: Clock, out: &mut dyn Write) -> i32 {
    let mut err = std::io::stderr();
    let tty = err.is_terminal();
    report_with_model(args, model, clock, &mut Io { out, err: &mut err, tty })
}

/// Run a report over a model, writing to `io`; returns the exit code.
pub fn report_with_model(args: &ReportArgs, model: &dyn ReadModel, clock: Clock, io: &mut Io) -> i32 {
    let mut params = Params::new(args.filter(), clock.now());
    params.hold_days = args.hold_days;
    let mut rep = match report::build(&args.name, model, &params) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return EXIT_USAGE;
        }
    };
    // Progress on a terminal only (interface.md): a row count on stderr.
    let progress = io.tty;
    if progress {
        let name = rep.name;
        let mut n: u64 = 0;
        rep.rows = Box::new(rep.rows.inspect(move |_| {
            n += 1;
            if n % 50_000 == 0 {
                eprint!("\rreport {name}: {n} rows");
            }
        }));
    }
    let written = report::write_report(rep, args.format(), io.out).and_then(|n| io.out.flush().map(|()| n));
    if progress {
        let _ = write!(io.err, "\r\x1b[K");
    }
    match written {
        Ok(_) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            let _ = writeln!(io.err, "error: writing the report: {e}");
            EXIT_USAGE
        }
    }
}

/// `entrywatch report` against an open store.
pub fn report_on(ctx: &Ctx, args: &ReportArgs, io: &mut Io) -> i32 {
    if args.name == "recovery" {
        return super::recovery::report_on(ctx, args, io);
    }
    if args.name == "three-way" {
        return three_way_on(ctx, args, io);
    }
    if args.name == "affected" {
        return super::affected::report_on(ctx, args, io);
    }
    if !report::NAMES.contains(&args.name.as_str()) {
        let _ = writeln!(io.err, "error: {}", report::UnknownReport(args.name.clone()));
        return EXIT_USAGE;
    }
    let model = StoreModel::new(ctx.store.clone(), &ctx.config);
    report_with_model(args, &model, ctx.clock, io)
}

/// `entrywatch report`: the model is the folder given with `--entries-dir`, else the store
/// (`<data-dir>/store` from the configuration, or the daemon that holds it).
pub fn run(args: &ReportArgs) -> i32 {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from > to {
            eprintln!("error: --from {from} is after --to {to}");
            return EXIT_USAGE;
        }
    }
    if matches!(args.name.as_str(), "recovery" | "three-way" | "affected") && args.entries_dir.is_some() {
        eprintln!(
            "error: report {} reads the store (filings' tariff lines, ACE's record); --entries-dir is not supported",
            args.name
        );
        return EXIT_USAGE;
    }
    let Some(dir) = &args.entries_dir else {
        return super::dispatch::run(args.config.as_deref(), super::dispatch::Query::Report(args.clone()));
    };
    let clock = match Clock::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if !report::NAMES.contains(&args.name.as_str()) {
        eprintln!("error: {}", report::UnknownReport(args.name.clone()));
        return EXIT_USAGE;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match MemoryModel::from_dir(dir) {
        Ok(m) => run_with_model(args, &m, clock, &mut out),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

/// `report three-way`: approved / broker / ACE from the store's facts (issue 18); through the
/// dispatch, so it runs on the store or, while the daemon holds it, in the daemon.
fn three_way_on(ctx: &Ctx, args: &ReportArgs, io: &mut Io) -> i32 {
    let filter = report::three_way::Filter {
        from: args.from,
        to: args.to,
        importer: args.importer.clone(),
        broker: args.broker.clone(),
    };
    let rep = report::three_way::report(report::three_way::entries(&ctx.store), &ctx.config.variance, filter);
    match report::write_report(rep, args.format(), io.out).and_then(|n| io.out.flush().map(|()| n)) {
        Ok(_) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            let _ = writeln!(io.err, "error: writing the report: {e}");
            EXIT_USAGE
        }
    }
}
