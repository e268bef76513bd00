//! Alerting benchmark: the cost of the alert hook inside ingest (same files with and without
//! it), the outbox scans the mailer does each pass, and delivery into `.eml` files through the
//! sled-backed outbox (render, build, write, `sent` mark with a flush per mail).
//!
//! Environment:
//! - `ENTRYWATCH_BENCH_ENTRIES` (default 2000): entries generated (5 files each; the SO file
//!   places and lifts a hold, so every entry raises alerts).
//! - `ENTRYWATCH_BENCH_DIR` (default target/bench-alerting): where the data dirs go.
//!
//! Run: `cargo bench --bench alerting`.

#![forbid(unsafe_code)]

use entrywatch::alert::hook::AlertHook;
use entrywatch::alert::mailer::{deliver_due, Mailer};
use entrywatch::alert::outbox::{OutboxStore, RetryPolicy};
use entrywatch::alert::render::RenderContext;
use entrywatch::alert::store::SledOutbox;
use entrywatch::clock::Clock;
use entrywatch::config::Config;
use entrywatch::grammar::Grammars;
use entrywatch::ingest::{sample, Outcome, Pipeline};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Ingest `entries` entries' files into a fresh data dir; returns (elapsed, files, pipeline).
fn ingest(root: &Path, entries: usize, with_hook: bool) -> (Duration, usize, Pipeline, Config) {
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root.join("in")).expect("inbox");
    let cfg = format!(
        "data-dir = {:?}\n[[inbox]]\nname = \"b\"\npath = {:?}\nrole = \"broker\"\n[[route]]\nto = [\"ops@example.com\"]\nmin-severity = \"info\"\n",
        root.join("data"),
        root.join("in")
    );
    let config = Config::from_toml(&cfg, "bench").expect("config");
    let grammars = Grammars::embedded().expect("grammars");
    let clock = Clock::Fixed(chrono::DateTime::parse_from_rfc3339("2026-02-20T09:00:00-05:00").expect("time"));
    let mut pipeline = Pipeline::open(&config, &grammars, clock).expect("pipeline");
    if with_hook {
        pipeline = pipeline.with_hook(Arc::new(AlertHook::new(&config, &grammars, clock)));
    }
    let mut files = Vec::new();
    for kind in 0..5 {
        for e in 0..entries {
            let (name, bytes) = sample::life_files("EEE", 1_000_000 + e as u32).swap_remove(kind);
            let p = root.join("in").join(name);
            std::fs::write(&p, bytes).expect("write");
            files.push(p);
        }
    }
    let inbox = config.inbox("b").expect("inbox").clone();
    let t0 = Instant::now();
    for chunk in files.chunks(256) {
        for (f, r) in pipeline.process_batch(&inbox, chunk) {
            match r {
                Ok(Outcome::Applied { .. }) => {}
                other => panic!("{}: {other:?}", f.display()),
            }
        }
    }
    (t0.elapsed(), files.len(), pipeline, config)
}

fn main() {
    let entries = env_usize("ENTRYWATCH_BENCH_ENTRIES", 2000);
    let root = PathBuf::from(
        std::env::var("ENTRYWATCH_BENCH_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-alerting").to_string()),
    );
    println!("alerting benchmark: {entries} entries x 5 files, data in {}", root.display());

    // Alternate the two runs twice and keep the best of each (disk caches warm up).
    let mut plain = Duration::MAX;
    let mut hooked = Duration::MAX;
    let mut n = 0;
    let mut last = None;
    for _ in 0..2 {
        let (d, files, p, _) = ingest(&root.join("plain"), entries, false);
        drop(p);
        plain = plain.min(d);
        n = files;
        drop(last.take()); // release the previous hooked store before its dir is reused
        let (d, _, p, c) = ingest(&root.join("hooked"), entries, true);
        hooked = hooked.min(d);
        last = Some((p, c));
    }
    let (pipeline, config) = last.expect("one hooked run");
    let store = pipeline.store().clone();
    let outbox = SledOutbox::new(store.clone());
    let items = outbox.all().expect("outbox").len();
    println!(
        "ingest without hook: {n} files in {:.2} s = {:.0} files/s (best of 2)",
        plain.as_secs_f64(),
        n as f64 / plain.as_secs_f64()
    );
    println!(
        "ingest with hook:    {n} files in {:.2} s = {:.0} files/s ({items} alerts queued, {:+.1}% time, best of 2)",
        hooked.as_secs_f64(),
        n as f64 / hooked.as_secs_f64(),
        (hooked.as_secs_f64() / plain.as_secs_f64() - 1.0) * 100.0
    );

    let now = chrono::DateTime::parse_from_rfc3339("2026-02-20T09:00:00-05:00").expect("time");
    let t0 = Instant::now();
    let due = outbox.due(now).expect("due").len();
    let scan = t0.elapsed();
    let t0 = Instant::now();
    let _ = outbox.next_due().expect("next due");
    let next = t0.elapsed();
    let t0 = Instant::now();
    let none = outbox.due(now - chrono::Duration::days(1)).expect("due").len();
    let scan_none = t0.elapsed();
    println!(
        "outbox scans ({items} items): due() {scan:?} with {due} due, {scan_none:?} with {none} due; next_due() {next:?}"
    );

    let mail_dir = root.join("mail");
    let _ = std::fs::remove_dir_all(&mail_dir);
    let from = "entrywatch <entrywatch@localhost>".parse().expect("mailbox");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let t0 = Instant::now();
    let report = rt.block_on(async {
        let mailer = Mailer::file(&mail_dir, from, RenderContext::from_config(&config), RetryPolicy::new(48))
            .expect("file mailer");
        deliver_due(&outbox, &mailer, now).await
    });
    let d = t0.elapsed();
    assert!(report.store_errors.is_empty() && report.failed.is_empty(), "{report:?}");
    println!(
        "delivery to .eml:    {} mails in {:.2} s = {:.0} mails/s (each marked sent + flushed)",
        report.sent.len(),
        d.as_secs_f64(),
        report.sent.len() as f64 / d.as_secs_f64()
    );
    let t0 = Instant::now();
    let after = outbox.due(now).expect("due").len();
    println!("after delivery:      due() {:?} with {after} due", t0.elapsed());
}
