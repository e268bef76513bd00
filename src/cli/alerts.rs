//! `entrywatch alerts [--config] [--json]` (the outbox: queued, sent, failed) and the alert side of `entrywatch ingest` (the hook, then one delivery pass after the commit).

use super::dispatch::{Ctx, Io};
use super::EXIT_OK;
use crate::alert::hook::AlertHook;
use crate::alert::mailer::Mailer;
use crate::alert::render::{alerts_table, OutboxRow};
use crate::alert::service::{check_ack_rejections, check_no_release, deliver_once};
use crate::alert::store::SledOutbox;
use crate::clock::Clock;
use crate::config::Config;
use crate::grammar::Grammars;
use crate::ingest::Pipeline;
use crate::store::Store;
use std::sync::Arc;

/// The pipeline with the alert hook: alerts are queued in each file's transaction.
pub fn with_alerts(pipeline: Pipeline, config: &Config, grammars: &Grammars, clock: Clock) -> Pipeline {
    pipeline.with_hook(Arc::new(AlertHook::new(config, grammars, clock)))
}

/// After `ingest` committed (and flushed): queue the no-release warnings now due, then send
/// what is due once, so a one-shot `ingest` also mails. Mail problems never change the exit code: what could not be sent stays queued (or
/// `failed`) in the outbox, and `entrywatch alerts` shows it. Returns the number sent.
pub fn deliver_after_ingest(config: &Config, grammars: &Grammars, store: &Store, clock: Clock) -> usize {
    let hook = AlertHook::new(config, grammars, clock);
    if let Err(e) = check_no_release(store, &hook, clock.now()) {
        eprintln!("warning: no-release check: {e}");
    }
    if let Err(e) = check_ack_rejections(store, &hook, clock.now()) {
        eprintln!("warning: partner acknowledgment check: {e}");
    }
    match SledOutbox::new(store.clone()).next_due() {
        Ok(None) => return 0,
        Ok(Some(t)) if t > clock.now() => return 0,
        Ok(_) => {}
        Err(e) => {
            eprintln!("warning: outbox: {e}");
            return 0;
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("warning: alerts stay queued: no async runtime: {e}");
            return 0;
        }
    };
    // The SMTP transport (its connection pool) lives and dies inside the runtime.
    let report = rt.block_on(async {
        match Mailer::from_config(config) {
            Ok(mailer) => Some(deliver_once(store, &mailer, clock.now(), config.timezone()).await),
            Err(e) => {
                eprintln!("warning: alerts stay queued: {e}");
                None
            }
        }
    });
    let Some(report) = report else { return 0 };
    if !report.retried.is_empty() {
        eprintln!(
            "warning: {} alert(s) not sent yet (mail server unreachable?); they stay queued, see `entrywatch alerts`",
            report.retried.len()
        );
    }
    if !report.failed.is_empty() {
        eprintln!("error: {} alert(s) failed for good; see `entrywatch alerts`", report.failed.len());
    }
    for e in &report.store_errors {
        eprintln!("warning: outbox: {e}");
    }
    report.sent.len()
}

/// `entrywatch alerts` against an open store: every outbox item (failed first, then queued, then sent).
pub fn alerts_on(ctx: &Ctx, json: bool, io: &mut Io) -> i32 {
    let items = match SledOutbox::new(ctx.store.clone()).all() {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return super::EXIT_INVALID;
        }
    };
    if json {
        let mut rows: Vec<OutboxRow> = items.iter().map(OutboxRow::of).collect();
        rows.sort_by(|a, b| a.queued_at.cmp(&b.queued_at).then(a.id.cmp(&b.id)));
        let _ = writeln!(io.out, "{}", serde_json::to_string_pretty(&rows).unwrap_or_default());
    } else {
        let _ = write!(io.out, "{}", alerts_table(&items));
    }
    EXIT_OK
}
