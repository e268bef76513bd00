//! `entrywatch ingest`, `entries`, `entry` and `rebuild`: the store's command group.

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::view::{entry_json, entry_row, entry_text, liquidation_status, release_status, summary_status};
use crate::domain::EntryRow;
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::ingest::{load_entry, rebuild, Outcome, Pipeline};
use crate::store::{Store, Table};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Files per group commit (one flush, one journal fsync); `ENTRYWATCH_INGEST_BATCH` overrides.
const BATCH: usize = 256;

fn batch_size() -> usize {
    std::env::var("ENTRYWATCH_INGEST_BATCH").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(BATCH)
}

fn load_config(path: Option<&Path>) -> Result<Config, i32> {
    match Config::discover(path) {
        Ok((c, _)) => Ok(c),
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_USAGE)
        }
    }
}

fn load_grammars(config: &Config) -> Result<Grammars, i32> {
    super::parse::load_grammars(config.grammar_dir.as_deref())
}

fn open_store(config: &Config) -> Result<Store, i32> {
    Store::open(&config.data_dir.join("store")).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })
}

/// `entrywatch ingest --inbox NAME FILE...`: the daemon's pipeline, once. Files claimed by an
/// interrupted earlier run are finished first.
pub fn run_ingest(config: Option<&Path>, inbox: &str, files: &[PathBuf], json: bool) -> i32 {
    let Ok(config) = load_config(config) else { return EXIT_USAGE };
    let Some(ib) = config.inbox(inbox).cloned() else {
        let names: Vec<_> = config.inbox.iter().map(|i| i.name.as_str()).collect();
        eprintln!("error: no inbox named {inbox:?} in the configuration (inboxes: {})", names.join(", "));
        return EXIT_USAGE;
    };
    let Ok(grammars) = load_grammars(&config) else { return EXIT_USAGE };
    let clock = match Clock::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let pipeline = match Pipeline::open(&config, &grammars, clock) {
        Ok(p) => super::alerts::with_alerts(p, &config, &grammars, clock),
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut results: Vec<(String, Result<Outcome, String>)> = Vec::new();
    for i in &config.inbox {
        match pipeline.recover(i) {
            Ok(done) => results.extend(done.into_iter().map(|(p, o)| (p.display().to_string(), Ok(o)))),
            Err(e) => {
                eprintln!("error: recovering {}: {e}", i.name);
                return EXIT_INVALID;
            }
        }
    }
    let tty = std::io::stderr().is_terminal();
    let mut done = 0;
    for chunk in files.chunks(batch_size()) {
        let (present, missing): (Vec<PathBuf>, Vec<PathBuf>) = chunk.iter().cloned().partition(|f| f.is_file());
        for f in missing {
            results.push((f.display().to_string(), Err(format!("{}: not a file", f.display()))));
        }
        for (f, r) in pipeline.process_batch(&ib, &present) {
            results.push((f.display().to_string(), r.map_err(|e| e.to_string())));
        }
        done += chunk.len();
        if tty {
            eprint!("\r[{done}/{}]", files.len());
        }
    }
    if tty {
        eprintln!();
    }
    super::alerts::deliver_after_ingest(&config, &grammars, pipeline.store(), clock);
    let mut code = EXIT_OK;
    let out = std::io::stdout();
    let mut out = out.lock();
    let mut rows = Vec::new();
    for (f, r) in &results {
        match r {
            Ok(o) => {
                if matches!(o, Outcome::Quarantined { .. }) {
                    code = EXIT_INVALID;
                }
                if json {
                    rows.push(serde_json::json!({"file": f, "result": o}));
                } else {
                    let line = match o {
                        Outcome::Applied { entries } => format!(
                            "applied     {f}: {}",
                            entries.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(" ")
                        ),
                        Outcome::Duplicate { of } => format!("duplicate   {f}: same bytes as {of}"),
                        Outcome::Quarantined { reason } => format!("quarantined {f}: {reason}"),
                    };
                    let _ = writeln!(out, "{line}");
                }
            }
            Err(e) => {
                code = EXIT_INVALID;
                eprintln!("error: {e}");
                rows.push(serde_json::json!({"file": f, "result": {"outcome": "error", "reason": e}}));
            }
        }
    }
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    }
    code
}

/// `entrywatch entries`.
pub fn run_entries(
    config: Option<&Path>,
    json: bool,
    status: Option<&str>,
    importer: Option<&str>,
    broker: Option<&str>,
) -> i32 {
    let Ok(config) = load_config(config) else { return EXIT_USAGE };
    let Ok(store) = open_store(&config) else { return EXIT_USAGE };
    let mut rows = Vec::new();
    let out = std::io::stdout();
    let mut out = out.lock();
    for item in store.scan::<EntryRow>(Table::Entries) {
        let e = match item {
            Ok((_, e)) => e,
            Err(err) => {
                eprintln!("error: {err}");
                return EXIT_INVALID;
            }
        };
        if let Some(s) = status {
            let st = [
                summary_status(e.summary),
                release_status(e.release),
                liquidation_status(e.liquidation),
                e.variance.as_str(),
            ];
            if !st.contains(&s) {
                continue;
            }
        }
        if importer.is_some_and(|i| i != e.importer) {
            continue;
        }
        if broker.is_some_and(|b| Some(b) != e.entry.as_ref().map(|n| n.filer.as_str())) {
            continue;
        }
        if json {
            rows.push(entry_row(&e));
        } else {
            let _ = writeln!(
                out,
                "{:<15} {:<14} {:<5} {:<9} {:<9} holds {:<2} {}",
                e.entry.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                e.importer,
                e.port,
                summary_status(e.summary),
                release_status(e.release),
                e.open_holds,
                liquidation_status(e.liquidation)
            );
        }
    }
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    }
    EXIT_OK
}

/// `entrywatch entry ENTRY`.
pub fn run_entry(config: Option<&Path>, entry: &str, json: bool) -> i32 {
    let en: EntryNumber = match entry.parse() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let Ok(config) = load_config(config) else { return EXIT_USAGE };
    let Ok(store) = open_store(&config) else { return EXIT_USAGE };
    let Ok(grammars) = load_grammars(&config) else { return EXIT_USAGE };
    match load_entry(&store, &en) {
        Ok(Some((mut e, facts))) => {
            crate::variance::annotate(&mut e, &config.variance, &grammars);
            let tz = config.timezone();
            let (deadlines, block) = super::deadlines::entry_block(&config, &e, &facts);
            if json {
                let mut v = entry_json(&e, &facts, tz);
                v["deadlines"] = deadlines;
                v["related"] = super::affected::related_json(&store, &e);
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                print!("{}", super::deadlines::with_deadlines_text(entry_text(&e, &facts, tz), &block));
                print!("{}", super::affected::related_text(&store, &e));
            }
            EXIT_OK
        }
        Ok(None) => {
            eprintln!("error: no entry {en} in the store");
            EXIT_INVALID
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INVALID
        }
    }
}

/// `entrywatch rebuild`.
pub fn run_rebuild(config: Option<&Path>) -> i32 {
    let Ok(config) = load_config(config) else { return EXIT_USAGE };
    let Ok(grammars) = load_grammars(&config) else { return EXIT_USAGE };
    match rebuild(&config, &grammars) {
        Ok(r) => {
            println!("rebuilt the store from {} archived file(s): {} entries", r.files, r.entries);
            if let Some(old) = &r.old_store {
                println!("the previous store was kept as {old}");
            }
            for m in &r.missing {
                eprintln!("warning: archived file missing or changed: {m}");
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INVALID
        }
    }
}
