//! The daemon's file handler: each settled file goes through the ingest pipeline (claim, parse, store, archive).

use super::{FileHandler, HandleOutcome};
use crate::config::Inbox;
use crate::ingest::{IngestError, Outcome, Pipeline};
use std::path::Path;
use std::sync::Arc;

/// Hands every settled file to [`Pipeline::process`], the same path `entrywatch ingest` takes.
pub struct PipelineHandler {
    pipeline: Arc<Pipeline>,
    /// Woken after each file whose facts were committed (the mailer sends new alerts at once,
    /// the deadline scheduler recomputes).
    wake: Vec<Arc<tokio::sync::Notify>>,
}

impl PipelineHandler {
    /// Wrap a pipeline, first finishing any file an earlier run claimed but did not archive,
    /// and writing acknowledgments recorded but not yet written.
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
        match crate::ack::send::retry_pending(pipeline.store()) {
            Ok(0) => {}
            Ok(n) => tracing::info!(acks = n, "AcksWritten"),
            Err(e) => tracing::error!(error = %e, "AckRetryFailed"),
        }
        PipelineHandler { pipeline, wake: Vec::new() }
    }

    /// Notify this after every applied file.
    pub fn with_wake(mut self, wake: Arc<tokio::sync::Notify>) -> Self {
        self.wake.push(wake);
        self
    }

    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }
}

impl FileHandler for PipelineHandler {
    fn handle(&self, inbox: &Inbox, path: &Path) -> HandleOutcome {
        // symlink_metadata: a dangling link is still there (and goes to quarantine).
        if std::fs::symlink_metadata(path).is_err() {
            return HandleOutcome::Gone;
        }
        let r = self.pipeline.process(inbox, path);
        if r.is_ok() && self.pipeline.pending_work(inbox).is_empty() {
            crate::health::set(&format!("inbox {}", inbox.name), None);
        }
        match r {
            // The pipeline logs FileIngested / FileQuarantined, the watcher FileHandled.
            Ok(Outcome::Applied { .. }) => {
                for w in &self.wake {
                    w.notify_one();
                }
                HandleOutcome::Processed
            }
            Ok(Outcome::Duplicate { .. }) => HandleOutcome::Duplicate,
            Ok(Outcome::Quarantined { reason }) => HandleOutcome::Quarantined(reason),
            Err(IngestError::Io { err, .. })
                if err.kind() == std::io::ErrorKind::NotFound
                    && std::fs::symlink_metadata(path).is_err()
                    && self.pipeline.pending_work(inbox).is_empty() =>
            {
                HandleOutcome::Gone
            }
            Err(e) => {
                tracing::error!(inbox = %inbox.name, file = %path.display(), error = %e, "FileRetry");
                crate::health::set(&format!("inbox {}", inbox.name), Some(format!("file not finished: {e}")));
                HandleOutcome::Retry(e.to_string())
            }
        }
    }

    fn claimed(&self, inbox: &Inbox) -> usize {
        self.pipeline.pending_work(inbox).len()
    }

    fn retry_claimed(&self, inbox: &Inbox) -> HandleOutcome {
        let result = self.pipeline.recover(inbox);
        let left = self.pipeline.pending_work(inbox).len();
        match result {
            Ok(done) if left == 0 => {
                tracing::info!(inbox = %inbox.name, files = done.len(), "WorkRecovered");
                crate::health::set(&format!("inbox {}", inbox.name), None);
                for w in &self.wake {
                    w.notify_one();
                }
                HandleOutcome::Processed
            }
            Ok(_) => HandleOutcome::Retry(format!("{left} claimed file(s) still unfinished")),
            Err(e) => {
                tracing::error!(inbox = %inbox.name, files = left, error = %e, "WorkRetryFailed");
                crate::health::set(
                    &format!("inbox {}", inbox.name),
                    Some(format!("{left} file(s) stuck in work/: {e}")),
                );
                HandleOutcome::Retry(e.to_string())
            }
        }
    }
}
