//! `entrywatch report NAME`: arguments, filters and output of the reports in `crate::report`.

use super::{EXIT_OK, EXIT_USAGE};
use crate::clock::Clock;
use crate::config::Config;
use crate::report::{self, Format, Params};
use crate::view::{EntryFilter, MemoryModel, ReadModel};
use crate::web::store_model::StoreModel;
use chrono::NaiveDate;
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// `report NAME [--from] [--to] [--format text|csv|json] [--port] [--importer] [--broker] [--hts]`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// entry-summary, liquidation, rejected, anomalies, statements, brokers or affected.
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
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"))
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

/// Run a report over a model, writing to `out`; returns the exit code.
pub fn run_with_model(args: &ReportArgs, model: &dyn ReadModel, clock: Clock, out: &mut dyn Write) -> i32 {
    let mut params = Params::new(args.filter(), clock.now());
    params.hold_days = args.hold_days;
    let mut rep = match report::build(&args.name, model, &params) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    // Progress on a terminal only (interface.md): a row count on stderr.
    let progress = std::io::stderr().is_terminal();
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
    let written = report::write_report(rep, args.format(), out).and_then(|n| out.flush().map(|()| n));
    if progress {
        eprint!("\r\x1b[K");
    }
    match written {
        Ok(_) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("error: writing the report: {e}");
            EXIT_USAGE
        }
    }
}

/// `entrywatch report`: the model is the folder given with `--entries-dir`, else the store
/// (`<data-dir>/store` from the configuration).
pub fn run(args: &ReportArgs) -> i32 {
    let clock = match Clock::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if args.name == "affected" {
        return super::affected::run_report(args);
    }
    if !report::NAMES.contains(&args.name.as_str()) {
        eprintln!("error: {}", report::UnknownReport(args.name.clone()));
        return EXIT_USAGE;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if let Some(dir) = &args.entries_dir {
        return match MemoryModel::from_dir(dir) {
            Ok(m) => run_with_model(args, &m, clock, &mut out),
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
        };
    }
    let cfg = match Config::discover(args.config.as_deref()) {
        Ok((c, _)) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    match StoreModel::open(&cfg) {
        Ok(m) => run_with_model(args, &m, clock, &mut out),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}
