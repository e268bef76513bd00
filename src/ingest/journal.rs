//! The journal (`archive/journal.log`): one line per archived file in processing order, for
//! `rebuild`.

use super::{ioe, FileRecord, IngestError, Pipeline};
use crate::config::Role;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// One line of `archive/journal.log`: the original processing order, for `rebuild`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalLine {
    pub seq: u64,
    pub sha256: String,
    pub name: String,
    pub inbox: String,
    pub role: Role,
    pub received: NaiveDateTime,
    pub archive: String,
}

impl Pipeline {
    /// Append journal lines (one fsync for all).
    pub(super) fn journal(&self, recs: &[&FileRecord]) -> Result<(), IngestError> {
        let mut text = String::new();
        for rec in recs {
            let line = JournalLine {
                seq: rec.seq,
                sha256: rec.sha256.clone(),
                name: rec.name.clone(),
                inbox: rec.inbox.clone(),
                role: rec.role,
                received: rec.received,
                archive: rec.archive.clone(),
            };
            text.push_str(&serde_json::to_string(&line).unwrap_or_default());
            text.push('\n');
        }
        let path = self.layout.journal();
        let _g = self.journal_lock.lock().unwrap_or_else(|e| e.into_inner());
        std::fs::create_dir_all(self.layout.archive_root()).map_err(ioe(&path))?;
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(ioe(&path))?;
        let before = f.metadata().map_err(ioe(&path))?.len();
        if let Err(e) = f.write_all(text.as_bytes()).and_then(|_| f.sync_data()) {
            // A full disk can take part of a line: cut it off, so the journal holds whole lines
            // only and the retry appends the line once.
            let _ = f.set_len(before).and_then(|_| f.sync_data());
            return Err(IngestError::Io { path, err: e });
        }
        Ok(())
    }
}

/// Read the journal: one line per archived file, first occurrence of each SHA-256 wins.
pub fn read_journal(path: &Path) -> Vec<JournalLine> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .filter_map(|l| serde_json::from_str::<JournalLine>(l).ok())
        .filter(|j| seen.insert(j.sha256.clone()))
        .collect()
}
