//! `rebuild` (replay the archive into a fresh store) and reading an entry back.

use super::apply::{apply, Chunks};
use super::stream::{apply_file, streamable, validate};
use super::{fsync_dir, ioe, read_journal, sha256_file, FileRecord, IngestError, Layout};
use crate::config::Config;
use crate::domain::{Entry, Fact};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::interpret::{interpret, FileContext};
use crate::store::{Store, StoreError, Table};
use serde::Serialize;

/// What `rebuild` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RebuildReport {
    pub files: usize,
    pub entries: usize,
    pub missing: Vec<String>,
    pub old_store: Option<String>,
}

/// Replay the archive, in original processing order, into a fresh store; then swap it in
/// (the old store is kept beside it as `store.old-<n>`).
pub fn rebuild(config: &Config, grammars: &Grammars) -> Result<RebuildReport, IngestError> {
    let layout = Layout { data_dir: config.data_dir.clone() };
    let fresh_path = layout.data_dir.join("store.rebuild");
    if fresh_path.exists() {
        std::fs::remove_dir_all(&fresh_path).map_err(ioe(&fresh_path))?;
    }
    let mut report = RebuildReport::default();
    let index = crate::query::IndexCtx::from_config(config).with_remedies(&grammars.remedies);
    {
        let fresh = Store::open(&fresh_path)?;
        for j in read_journal(&layout.journal()) {
            let path = layout.data_dir.join(&j.archive);
            let Ok(sha) = sha256_file(&path) else {
                report.missing.push(j.archive.clone());
                continue;
            };
            if sha != j.sha256 {
                report.missing.push(format!("{} (content changed)", j.archive));
                continue;
            }
            let ctx =
                FileContext { name: &j.name, inbox: &j.inbox, role: j.role, sha256: &j.sha256, received: j.received };
            let rec = FileRecord {
                sha256: j.sha256.clone(),
                name: j.name.clone(),
                inbox: j.inbox.clone(),
                role: j.role,
                received: j.received,
                seq: 0,
                archive: j.archive.clone(),
                entries: Vec::new(),
                duplicates: Vec::new(),
            };
            // The ingest path: ABI and X12 streamed in two passes (a file with errors today,
            // under a newer grammar, is replayed whole as before), the rest read whole.
            let streamed = match streamable(&path, j.role).map_err(ioe(&path))? {
                Some(kind) if !validate(&path, kind, &ctx, grammars, &mut |_| {}, None)?.has_errors() => Some(kind),
                _ => None,
            };
            if let Some(kind) = streamed {
                let chunks = Chunks::new(&fresh, &[], &j.sha256, (&config.variance, grammars), &index, &|| {});
                apply_file(&path, kind, &ctx, grammars, chunks, rec)?;
            } else {
                let bytes = std::fs::read(&path).map_err(ioe(&path))?;
                let interp = interpret(&bytes, &ctx, grammars);
                apply(&fresh, &[], &interp, rec, (&config.variance, grammars), &index, &|| {})?;
            }
            report.files += 1;
        }
        // What is not in the archive is kept from the old store: acknowledgment control numbers
        // and records (src/ack), the outbox (so nothing is mailed again and its history stays)
        // and the ledger of reminders sent.
        if layout.store().exists() {
            let kept = [Table::Acks, Table::Outbox, Table::Reminders];
            if let Err(e) = crate::ack::control::carry_tables(&layout.store(), &fresh, &kept) {
                tracing::warn!(target: "entrywatch", event = "TablesNotCarried", error = %e);
            }
        }
        fresh.flush()?;
        report.entries = crate::store::entries::count(&fresh);
    }
    let live = layout.store();
    if live.exists() {
        let old =
            (1..).map(|n| layout.data_dir.join(format!("store.old-{n}"))).find(|p| !p.exists()).unwrap_or(live.clone());
        std::fs::rename(&live, &old).map_err(ioe(&live))?;
        report.old_store = Some(old.display().to_string());
    }
    std::fs::rename(&fresh_path, &live).map_err(ioe(&fresh_path))?;
    fsync_dir(&layout.data_dir);
    Ok(report)
}

/// Read an entry and its facts from the store, folded without evaluations
/// (`store::entries::load` gives the state with its variance).
pub fn load_entry(store: &Store, entry: &EntryNumber) -> Result<Option<(Entry, Vec<Fact>)>, StoreError> {
    crate::store::entries::derived(store, entry)
}
