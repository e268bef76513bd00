//! `entrywatch variance ENTRY [--config PATH] [--json | --csv]`: the filing against the approved
//! pre-entry, computed checks and liquidation, re-evaluated with the current `[variance]` config.

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::config::Config;
use crate::entry_number::EntryNumber;
use crate::ingest::load_entry;
use crate::store::Store;
use crate::variance::{evaluate, render_csv, render_text};
use std::path::Path;

/// Output format of `variance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
}

/// Run `variance ENTRY`; returns the exit code (0 shown, 1 no such entry, 2 usage/config).
pub fn run_variance(config: Option<&Path>, entry: &str, format: Format) -> i32 {
    let en: EntryNumber = match entry.parse() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let config = match Config::discover(config) {
        Ok((c, _)) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let problems = crate::variance::validate_config(&config.variance);
    if !problems.is_empty() {
        for p in problems {
            eprintln!("error: {p}");
        }
        return EXIT_USAGE;
    }
    let Ok(grammars) = super::parse::load_grammars(config.grammar_dir.as_deref()) else { return EXIT_USAGE };
    let store = match Store::open(&config.data_dir.join("store")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let e = match load_entry(&store, &en) {
        Ok(Some((e, _))) => e,
        Ok(None) => {
            eprintln!("error: no entry {en} in the store");
            return EXIT_INVALID;
        }
        Err(err) => {
            eprintln!("error: {err}");
            return EXIT_INVALID;
        }
    };
    let report = evaluate(&e, e.pre_entry.as_ref(), &config.variance, &grammars);
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
        Format::Csv => print!("{}", render_csv(&report)),
        Format::Text => print!("{}", render_text(&report)),
    }
    EXIT_OK
}
