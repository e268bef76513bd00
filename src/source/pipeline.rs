//! The daemon's file handler: each settled file goes through the ingest pipeline (claim, parse, store, archive).

use super::{FileHandler, HandleOutcome};
use crate::config::Inbox;
use crate::ingest::{IngestError, Outcome, Pipeline};
use std::path::Path;
use std::sync::Arc;

/// Hands every settled file to [`Pipeline::process`], the same path `entrywatch ingest` takes.
pub struct PipelineHandler {
    pipeline: Arc<Pipeline>,
}

impl PipelineHandler {
    /// Wrap a pipeline, first finishing any file an earlier run claimed but did not archive.
    pub fn new(pipeline: Arc<Pipeline>, inboxes: &[Inbox]) -> Self {
        for inbox in inboxes {
            match pipeline.recover(inbox) {
                Ok(done) if !done.is_empty() => {
                    tracing::info!(inbox = %inbox.name, files = done.len(), "WorkRecovered")
                }
                Ok(_) => {}
                Err(e) => tracing::error!(inbox = %inbox.name, error = %e, "WorkRecoveryFailed"),
            }
        }
        PipelineHandler { pipeline }
    }

    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }
}

impl FileHandler for PipelineHandler {
    fn handle(&self, inbox: &Inbox, path: &Path) -> HandleOutcome {
        if !path.exists() {
            return HandleOutcome::Gone;
        }
        match self.pipeline.process(inbox, path) {
            // The pipeline logs FileIngested / FileDuplicate / FileQuarantined itself and the
            // watcher logs FileHandled: only a debug line here, so each file is not told thrice.
            Ok(Outcome::Applied { entries }) => {
                tracing::debug!(inbox = %inbox.name, file = %path.display(), entries = entries.len(), "FileApplied");
                HandleOutcome::Processed
            }
            Ok(Outcome::Duplicate { of }) => {
                tracing::debug!(inbox = %inbox.name, file = %path.display(), of = %of, "FileDuplicate");
                HandleOutcome::Duplicate
            }
            Ok(Outcome::Quarantined { reason }) => {
                tracing::debug!(inbox = %inbox.name, file = %path.display(), reason = %reason, "FileQuarantined");
                HandleOutcome::Quarantined(reason)
            }
            Err(IngestError::Io { err, .. }) if err.kind() == std::io::ErrorKind::NotFound && !path.exists() => {
                HandleOutcome::Gone
            }
            Err(e) => {
                tracing::error!(inbox = %inbox.name, file = %path.display(), error = %e, "FileRetry");
                HandleOutcome::Retry(e.to_string())
            }
        }
    }
}
