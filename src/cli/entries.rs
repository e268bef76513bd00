//! `entrywatch ingest`, `entries`, `entry` and `rebuild`: the store's command group.

use super::dispatch::{Ctx, Io};
use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::view::entry_row;
use crate::domain::EntryRow;
use crate::grammar::Grammars;
use crate::ingest::{rebuild, IngestError, Outcome, Pipeline};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Files per group commit (one flush, one journal fsync); `ENTRYWATCH_INGEST_BATCH` overrides.
const BATCH: usize = 256;

fn batch_size() -> usize {
    std::env::var("ENTRYWATCH_INGEST_BATCH").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(BATCH)
}

use super::dispatch::load_config;

fn load_grammars(config: &Config) -> Result<Grammars, i32> {
    super::parse::load_grammars(config.grammar_dir.as_deref())
}

/// `entrywatch ingest --inbox NAME FILE...`: the daemon's pipeline, once. Files claimed by an
/// interrupted earlier run are finished first. The given files are copied (`move_files`: moved,
/// the old behaviour). When a running daemon holds the store, the files are handed to it.
pub fn run_ingest(config: Option<&Path>, inbox: &str, files: &[PathBuf], json: bool, move_files: bool) -> i32 {
    let Ok(config) = load_config(config) else { return EXIT_USAGE };
    let Some(ib) = config.inbox(inbox).cloned() else {
        eprintln!("error: {}", unknown_inbox(&config, inbox));
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
        Err(IngestError::Store(e)) if super::dispatch::daemon_may_hold(&e) => {
            return crate::ipc::client::ingest(&config, clock, inbox, files, json, move_files, &e)
        }
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    Staging::clear_leftovers(&config.data_dir);
    let mut results: Vec<(String, Result<Outcome, String>)> = Vec::new();
    for i in &config.inbox {
        match pipeline.recover(i) {
            Ok(done) => results.extend(done.into_iter().map(|(p, o)| (p.display().to_string(), Ok(o)))),
            // A claimed file that still cannot be finished is reported (exit 1) and stays in
            // work/ for the next run; it does not keep the new files from being ingested.
            Err(e) => {
                results.push((format!("{}/{}", config.data_dir.join("work").display(), i.name), Err(e.to_string())))
            }
        }
    }
    let staging = Staging::new(&config.data_dir);
    let items: Vec<Item> = files
        .iter()
        .enumerate()
        .map(|(n, f)| {
            let shown = f.display().to_string();
            let path = if !f.is_file() {
                Err(format!("{shown}: not a file"))
            } else if move_files {
                Ok(f.clone())
            } else {
                staging.copy_in(n, f).map_err(|e| format!("{shown}: cannot copy it for ingest: {e}"))
            };
            Item { shown, path }
        })
        .collect();
    let tty = std::io::stderr().is_terminal();
    results.extend(ingest_items(&pipeline, &ib, &items, tty, &mut std::io::stderr()));
    drop(staging);
    super::alerts::deliver_after_ingest(&config, &grammars, pipeline.store(), clock);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    print_outcomes(&results, json, &mut Io { out: &mut out, err: &mut std::io::stderr(), tty })
}

/// The error for an inbox name the configuration does not have.
pub fn unknown_inbox(config: &Config, inbox: &str) -> String {
    let names: Vec<_> = config.inbox.iter().map(|i| i.name.as_str()).collect();
    format!("no inbox named {inbox:?} in the configuration (inboxes: {})", names.join(", "))
}

/// One file given to `ingest`: as the user named it, and the path to push through the
/// pipeline (a copy, or the file itself with `--move`), or why there is none.
pub struct Item {
    pub shown: String,
    pub path: Result<PathBuf, String>,
}

/// Push files through the pipeline in group-commit batches; results in the order given;
/// progress on a terminal.
pub fn ingest_items(
    pipeline: &Pipeline,
    ib: &crate::config::Inbox,
    items: &[Item],
    tty: bool,
    err: &mut dyn Write,
) -> Vec<(String, Result<Outcome, String>)> {
    let mut results: Vec<(String, Result<Outcome, String>)> = Vec::with_capacity(items.len());
    let mut done = 0;
    for chunk in items.chunks(batch_size()) {
        let start = results.len();
        let mut present = Vec::new();
        let mut slots = Vec::new();
        for (k, it) in chunk.iter().enumerate() {
            let r = match &it.path {
                Ok(p) => {
                    present.push(p.clone());
                    slots.push(start + k);
                    Err(String::new())
                }
                Err(e) => Err(e.clone()),
            };
            results.push((it.shown.clone(), r));
        }
        for (slot, (_, r)) in slots.into_iter().zip(pipeline.process_batch(ib, &present)) {
            results[slot].1 = r.map_err(|e| e.to_string());
        }
        // Many files: keep sled's memory and the log a crash leaves bounded.
        if let Err(e) = pipeline.store().checkpoint_if_written() {
            let _ = writeln!(err, "warning: store checkpoint: {e}");
        }
        done += chunk.len();
        if tty {
            let _ = write!(err, "\r[{done}/{}]", items.len());
        }
    }
    if tty {
        let _ = writeln!(err);
    }
    results
}

/// Print what became of each file (text lines or the JSON array); exit 1 when any file was
/// quarantined or failed.
pub fn print_outcomes(results: &[(String, Result<Outcome, String>)], json: bool, io: &mut Io) -> i32 {
    let mut code = EXIT_OK;
    let mut rows = Vec::new();
    for (f, r) in results {
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
                    let _ = writeln!(io.out, "{line}");
                }
            }
            Err(e) => {
                code = EXIT_INVALID;
                let _ = writeln!(io.err, "error: {e}");
                rows.push(serde_json::json!({"file": f, "result": {"outcome": "error", "reason": e}}));
            }
        }
    }
    if json {
        let _ = writeln!(io.out, "{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    }
    let _ = io.out.flush();
    code
}

/// A private folder under `<data-dir>/incoming/` for copies of the files given to `ingest`
/// (same file system as the work folder, so the pipeline claims them by rename). Removed
/// when dropped; the user's own files are never touched.
pub struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// Remove what an `ingest` killed mid-way left under `<data-dir>/incoming/` (copies only:
    /// the user still has every original). Called by whoever just opened the store: while it
    /// holds the store, no other process stages files.
    pub fn clear_leftovers(data_dir: &Path) {
        let dir = data_dir.join("incoming");
        if dir.exists() {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => tracing::info!(dir = %dir.display(), "IncomingCleared"),
                Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "IncomingNotCleared"),
            }
        }
    }

    pub fn new(data_dir: &Path) -> Staging {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        Staging { dir: data_dir.join("incoming").join(format!("{}-{n}-{nanos}", std::process::id())) }
    }

    /// Where the `n`th file named `name` is staged (its own folder, so equal names never meet).
    pub fn path(&self, n: usize, name: &str) -> Result<PathBuf, std::io::Error> {
        let safe = Path::new(name).file_name().and_then(|s| s.to_str()).filter(|s| !s.is_empty()).unwrap_or("file");
        let dir = self.dir.join(n.to_string());
        std::fs::create_dir_all(&dir)?;
        Ok(dir.join(safe))
    }

    /// Copy a file in (its name kept: the archive and the reports show it).
    pub fn copy_in(&self, n: usize, from: &Path) -> Result<PathBuf, std::io::Error> {
        let name = from.file_name().and_then(|s| s.to_str()).unwrap_or("file");
        let to = self.path(n, name)?;
        std::fs::copy(from, &to)?;
        std::fs::File::open(&to)?.sync_all()?;
        Ok(to)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(parent) = self.dir.parent() {
            // Only when empty: another ingest may be staging beside us.
            let _ = std::fs::remove_dir(parent);
        }
    }
}

/// One `entries` row read from the store, with its key.
type RowItem = Result<(String, EntryRow), crate::store::StoreError>;

/// The row of one entry key (absent rows are skipped: the index and the table commit together).
fn row_of(store: &crate::store::Store, key: String) -> Option<RowItem> {
    match crate::store::entries::row(store, &key) {
        Ok(Some(r)) => Some(Ok((key, r))),
        Ok(None) => None,
        Err(e) => Some(Err(e)),
    }
}

/// `entrywatch entries` against an open store.
pub fn entries_on(
    ctx: &Ctx,
    json: bool,
    status: Option<&str>,
    importer: Option<&str>,
    broker: Option<&str>,
    io: &mut Io,
) -> i32 {
    let mut rows = Vec::new();
    // A filter narrows through the query index (importer or status postings) or the key
    // (the filer code leads it); the row check below stays the rule.
    let index = crate::query::index::entries_with;
    let candidates: Box<dyn Iterator<Item = RowItem>> =
        match (importer.map(str::trim).filter(|s| !s.is_empty()), status.map(str::trim).filter(|s| !s.is_empty())) {
            (Some(i), _) => Box::new(index(&ctx.store, "importer", i).filter_map(|k| row_of(&ctx.store, k))),
            (None, Some(s)) => {
                Box::new(index(&ctx.store, "status", &s.to_ascii_lowercase()).filter_map(|k| row_of(&ctx.store, k)))
            }
            (None, None) => match broker.map(str::trim).filter(|b| b.len() == 3) {
                Some(b) => Box::new(crate::store::entries::rows(&ctx.store, &b.to_ascii_uppercase())),
                None => Box::new(crate::store::entries::rows(&ctx.store, "")),
            },
        };
    for item in candidates {
        let e = match item {
            Ok((_, e)) => e,
            Err(err) => {
                let _ = writeln!(io.err, "error: {err}");
                return EXIT_INVALID;
            }
        };
        if let Some(s) = status {
            let st = [e.summary.as_str(), e.release.as_str(), e.liquidation.as_str(), e.variance.as_str()];
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
                io.out,
                "{:<15} {:<14} {:<5} {:<9} {:<9} holds {:<2} {}",
                e.entry.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                e.importer,
                e.port,
                e.summary.as_str(),
                e.release.as_str(),
                e.open_holds,
                e.liquidation.as_str()
            );
        }
    }
    if json {
        let _ = writeln!(io.out, "{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    }
    EXIT_OK
}

/// `entrywatch entry ENTRY` against an open store.
pub fn entry_on(ctx: &Ctx, entry: &str, json: bool, io: &mut Io) -> i32 {
    let en = match super::dispatch::parse_named(entry, io) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let config = &ctx.config;
    let Ok(grammars) = super::parse::load_grammars_to(config.grammar_dir.as_deref(), io.err) else {
        return EXIT_USAGE;
    };
    // Loading evaluates the variance and the three-way match (store::entries).
    let read = crate::store::entries::load(&ctx.store, &en, &config.variance, &grammars);
    let (e, facts) = match super::dispatch::found(&en, read, io) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let tz = config.timezone();
    let cal = crate::calendar::Calendar::from_config(&config.deadlines);
    // The one view of the entry (query::entry): `--json` is its serde form, the text renders it.
    let Some(mut v) = crate::query::entry::entry_view(&en, &e, &facts, tz, &cal) else {
        let _ = writeln!(io.err, "error: {en} has no facts");
        return EXIT_INVALID;
    };
    if let Err(err) = crate::query::entry::with_related(&mut v, &ctx.store, &e.entry) {
        let _ = writeln!(io.err, "warning: related entries not readable: {err}");
    }
    if json {
        let _ = writeln!(io.out, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let today = crate::deadline::local_today(ctx.clock.now(), tz);
        let _ = write!(io.out, "{}", crate::query::entry::entry_text(&v, today));
    }
    EXIT_OK
}

/// `entrywatch rebuild`.
pub fn run_rebuild(config: Option<&Path>) -> i32 {
    let Ok(config) = load_config(config) else { return EXIT_USAGE };
    let Ok(grammars) = load_grammars(&config) else { return EXIT_USAGE };
    match rebuild(&config, &grammars) {
        Ok(r) => {
            // The fresh store was written in one open: checkpoint it now, so that the daemon's
            // next start does not read that whole log (docs/performance.md).
            if let Err(e) = crate::store::Store::checkpoint(&config.data_dir.join("store")) {
                eprintln!("warning: the rebuilt store was not checkpointed ({e}); the next start reads its log");
            }
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

#[cfg(test)]
mod tests {
    use super::Staging;

    #[test]
    fn staged_names_stay_inside_their_own_folder() {
        let root = tempfile::tempdir().unwrap();
        let st = Staging::new(root.path());
        let inside = root.path().join("incoming");
        for (n, name) in ["../../etc/passwd", "/abs/x.abi", "..", "", "a/b/../c.txt", "plain.abi"].iter().enumerate() {
            let p = st.path(n, name).unwrap();
            assert!(p.starts_with(&inside), "{name:?} -> {}", p.display());
            assert!(!p.components().any(|c| c == std::path::Component::ParentDir), "{name:?} -> {}", p.display());
        }
        assert!(st.path(0, "../../etc/passwd").unwrap().ends_with("0/passwd"));
        assert!(st.path(3, "").unwrap().ends_with("3/file"));
        drop(st);
        assert!(!inside.exists(), "the staging folder outlived its ingest");
    }
}
