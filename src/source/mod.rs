//! Sources: watched inbox folders (notify + periodic rescan), settling, temporary names, completeness, ordering, and the handler seam.
//!
//! A file in an inbox is handed to the [`FileHandler`] once it is *ready*:
//! its name is not temporary ([`is_temporary_name`]), its size and mtime have been unchanged
//! for the inbox's `settle-secs` (and no write is open where inotify told us one was), and its
//! envelope is complete ([`complete::check_file`]) — or the inbox's `truncated-grace-secs`
//! ran out while it stayed incomplete, in which case it is handed over anyway and the parser
//! quarantines it as truncated. Each inbox is processed oldest first (mtime, then name), one
//! file at a time; `daemon.concurrency` bounds the files in hand across all inboxes.

pub mod complete;
pub mod demo;
pub mod pipeline;
pub mod scan;
pub mod watch;

use crate::config::Inbox;
use std::path::Path;

/// What the handler did with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandleOutcome {
    /// Claimed, processed and moved out of the inbox (archived).
    Processed,
    /// Claimed and moved to quarantine (unreadable, truncated, rejected ...), with the reason.
    Quarantined(String),
    /// The same bytes were already processed; the file was set aside without effect.
    Duplicate,
    /// The file was gone when the handler tried to claim it (someone else took it).
    Gone,
    /// A transient problem (disk full, store busy): try again after a pause.
    Retry(String),
}

impl HandleOutcome {
    /// A short word for logs.
    pub fn label(&self) -> &'static str {
        match self {
            HandleOutcome::Processed => "processed",
            HandleOutcome::Quarantined(_) => "quarantined",
            HandleOutcome::Duplicate => "duplicate",
            HandleOutcome::Gone => "gone",
            HandleOutcome::Retry(_) => "retry",
        }
    }
}

/// The seam between the daemon and the pipeline that processes one file.
///
/// Called from a blocking thread (`spawn_blocking`); never for two files of the same inbox
/// at once. It must claim the file by renaming it out of the inbox before any side effect,
/// so that a crash at any point neither loses nor repeats a file.
pub trait FileHandler: Send + Sync + 'static {
    fn handle(&self, inbox: &Inbox, path: &Path) -> HandleOutcome;

    /// How many files this handler claimed from `inbox` (moved out of it) and could not
    /// finish (disk full, a store error, a folder it could not write). The sources retry
    /// them with [`FileHandler::retry_claimed`] on a backoff schedule. Default: none.
    fn claimed(&self, _inbox: &Inbox) -> usize {
        0
    }

    /// Try the claimed, unfinished files of `inbox` again: `Retry` while any remain.
    fn retry_claimed(&self, _inbox: &Inbox) -> HandleOutcome {
        HandleOutcome::Processed
    }
}

impl<T: FileHandler + ?Sized> FileHandler for std::sync::Arc<T> {
    fn handle(&self, inbox: &Inbox, path: &Path) -> HandleOutcome {
        (**self).handle(inbox, path)
    }
    fn claimed(&self, inbox: &Inbox) -> usize {
        (**self).claimed(inbox)
    }
    fn retry_claimed(&self, inbox: &Inbox) -> HandleOutcome {
        (**self).retry_claimed(inbox)
    }
}

/// True for names that are still being written by convention: `.*`, `*.part`, `*.partial`,
/// `*.filepart`, `*.tmp` (case-insensitive suffixes). Such files are never picked up.
pub fn is_temporary_name(name: &str) -> bool {
    if name.is_empty() || name.starts_with('.') {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    [".part", ".partial", ".filepart", ".tmp"].iter().any(|s| lower.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names() {
        for n in [".hidden", ".x.txt", "a.part", "A.PART", "b.partial", "c.filepart", "d.tmp", "e.TMP", ""] {
            assert!(is_temporary_name(n), "{n:?} should be temporary");
        }
        for n in ["ae.txt", "856.x12", "part", "x.parts", "tmp", "a.tmp.txt", "pre-entry.csv"] {
            assert!(!is_temporary_name(n), "{n:?} should not be temporary");
        }
    }
}
