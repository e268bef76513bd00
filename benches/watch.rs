//! Watcher benchmark: drop-to-handled latency (settle 0) p50/p99, and sustained files/s through the watcher.
//!
//! Run: `cargo bench --bench watch` (release). The handler claims each file by rename, as
//! the real pipeline does, and records when it was called; parsing and storing are not
//! included (the ingest benchmark measures those).

#![forbid(unsafe_code)]

use entrywatch::config::{Config, Inbox};
use entrywatch::source::{FileHandler, HandleOutcome};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Timing {
    out: PathBuf,
    seen: Mutex<HashMap<String, Instant>>,
}

impl FileHandler for Timing {
    fn handle(&self, inbox: &Inbox, path: &Path) -> HandleOutcome {
        let now = Instant::now();
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if std::fs::rename(path, self.out.join(format!("{}__{name}", inbox.name))).is_err() {
            return HandleOutcome::Gone;
        }
        self.seen.lock().unwrap().insert(name, now);
        HandleOutcome::Processed
    }
}

fn config(dir: &Path, inboxes: usize, concurrency: usize) -> (Config, Vec<PathBuf>) {
    let mut text = format!(
        "data-dir = {:?}\n[daemon]\nrescan-secs = 3600\nconcurrency = {concurrency}\n",
        dir.join("data").display().to_string()
    );
    let mut paths = Vec::new();
    for i in 0..inboxes {
        let p = dir.join(format!("in{i}"));
        std::fs::create_dir_all(&p).unwrap();
        text.push_str(&format!(
            "[[inbox]]\nname = \"in{i}\"\npath = {:?}\nrole = \"broker\"\nsettle-secs = 0\n",
            p.display().to_string()
        ));
        paths.push(p);
    }
    (Config::from_toml(&text, "bench").unwrap(), paths)
}

struct Running {
    timing: Arc<Timing>,
    control: entrywatch::daemon::Controller,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

fn start(dir: &Path, cfg: Config) -> Running {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let timing = Arc::new(Timing { out, seen: Mutex::new(HashMap::new()) });
    let (tx, rx) = tokio::sync::oneshot::channel();
    let daemon = entrywatch::daemon::Daemon::new(cfg, entrywatch::config::ConfigSource::Embedded, timing.clone())
        .without_signals()
        .on_ready(tx);
    let control = daemon.controller();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(daemon.run())
    });
    rx.blocking_recv().unwrap();
    Running { timing, control, thread }
}

/// Write a small CSV pre-entry to a temporary name, then rename it in: the way a careful
/// uploader drops a file, and a single event for the watcher.
fn drop_file(inbox: &Path, name: &str, i: usize) -> Instant {
    let tmp = inbox.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, format!("entry_number,hts\nEEE-{i:07}-0,6110202079\n")).unwrap();
    let t = Instant::now();
    std::fs::rename(&tmp, inbox.join(name)).unwrap();
    t
}

fn wait_for(t: &Timing, n: usize, timeout: Duration) {
    let end = Instant::now() + timeout;
    while t.seen.lock().unwrap().len() < n {
        assert!(Instant::now() < end, "only {} of {n} handled", t.seen.lock().unwrap().len());
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn latency(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, inboxes) = config(dir.path(), 1, 2);
    let r = start(dir.path(), cfg);
    let mut dropped = Vec::new();
    for i in 0..n {
        let name = format!("lat{i:05}.csv");
        dropped.push((name.clone(), drop_file(&inboxes[0], &name, i)));
        // One at a time: the next drop after this one was handled, plus a short pause.
        wait_for(&r.timing, i + 1, Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(2));
    }
    let seen = r.timing.seen.lock().unwrap().clone();
    let mut lat: Vec<Duration> = dropped.iter().map(|(n, t)| seen[n].saturating_duration_since(*t)).collect();
    lat.sort();
    println!(
        "latency  drop-to-handled, settle 0, {n} files one at a time: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(&lat, 0.5).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    r.control.shutdown();
    r.thread.join().unwrap().unwrap();
}

fn throughput(n: usize, inboxes_n: usize, concurrency: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, inboxes) = config(dir.path(), inboxes_n, concurrency);
    let r = start(dir.path(), cfg);
    let t0 = Instant::now();
    for i in 0..n {
        drop_file(&inboxes[i % inboxes_n], &format!("tp{i:06}.csv"), i);
    }
    let dropped = t0.elapsed();
    wait_for(&r.timing, n, Duration::from_secs(300));
    let all = t0.elapsed();
    println!(
        "sustained {n} files into {inboxes_n} inbox(es), concurrency {concurrency}: {:.0} files/s (dropping took {:.2} s, all handled after {:.2} s)",
        n as f64 / all.as_secs_f64(),
        dropped.as_secs_f64(),
        all.as_secs_f64()
    );
    r.control.shutdown();
    r.thread.join().unwrap().unwrap();
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let scale = if quick { 10 } else { 1 };
    latency(1000 / scale);
    throughput(10_000 / scale, 1, 2);
    throughput(10_000 / scale, 4, 4);
}
