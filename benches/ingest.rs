//! Ingest benchmark: generated ABI files for N entries (AE, AX, SO, PF, ER each), pushed through
//! the real pipeline with durability on (flush per file, journal fsync, renames), then `entry`
//! lookup latency.
//!
//! Environment:
//! - `ENTRYWATCH_BENCH_ENTRIES` (default 100000): entries to generate (5 files each).
//! - `ENTRYWATCH_BENCH_THREADS` (default 1): inboxes processed in parallel, one thread each.
//! - `ENTRYWATCH_INGEST_BATCH` (default 256, as `entrywatch ingest`): files per group commit
//!   (each file is still one transaction; one flush + one journal fsync per batch). 1 = flush per file.
//! - `ENTRYWATCH_BENCH_LOOKUP_ENTRIES` (default 0 = skip): also build a store of this many
//!   entries (facts written directly, one transaction per 1,000 entries) and time lookups.
//! - `ENTRYWATCH_BENCH_DIR` (default target/bench-ingest): where the data dir goes (same disk as the repo).
//!
//! Run: `cargo bench --bench ingest` (or `ENTRYWATCH_BENCH_ENTRIES=10000 cargo bench --bench ingest`).

#![forbid(unsafe_code)]

use entrywatch::clock::Clock;
use entrywatch::config::Config;
use entrywatch::domain::EntryRow;
use entrywatch::entry_number::EntryNumber;
use entrywatch::grammar::Grammars;
use entrywatch::ingest::{load_entry, sample, Outcome, Pipeline};
use entrywatch::store::{Store, Table};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn dir_size(p: &Path) -> u64 {
    let mut total = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                total += dir_size(&p);
            } else if let Ok(m) = e.metadata() {
                total += m.len();
            }
        }
    }
    total
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or_default()
}

fn lookups(store: &Store, keys: &[EntryNumber], n: usize) -> (Duration, Duration, Duration) {
    let mut times = Vec::with_capacity(n);
    let mut x: u64 = 0x2545F4914F6CDD1D;
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = &keys[(x % keys.len() as u64) as usize];
        let t = Instant::now();
        let r = load_entry(store, k).expect("lookup");
        times.push(t.elapsed());
        assert!(r.is_some(), "entry {k} present");
    }
    (percentile(&mut times, 0.5), percentile(&mut times, 0.99), percentile(&mut times, 1.0))
}

fn main() {
    let entries = env_usize("ENTRYWATCH_BENCH_ENTRIES", 100_000);
    let threads = env_usize("ENTRYWATCH_BENCH_THREADS", 1).max(1);
    let batch = env_usize("ENTRYWATCH_INGEST_BATCH", 256).max(1);
    let lookup_entries = env_usize("ENTRYWATCH_BENCH_LOOKUP_ENTRIES", 0);
    let root = PathBuf::from(
        std::env::var("ENTRYWATCH_BENCH_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-ingest").to_string()),
    );
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("bench dir");
    let mut cfg = format!("data-dir = {:?}\n", root.join("data"));
    for t in 0..threads {
        cfg.push_str(&format!(
            "[[inbox]]\nname = \"b{t}\"\npath = {:?}\nrole = \"broker\"\n",
            root.join(format!("in{t}"))
        ));
    }
    let config = Config::from_toml(&cfg, "bench").expect("config");
    let grammars = Grammars::embedded().expect("grammars");
    let clock = Clock::Fixed(chrono::DateTime::parse_from_rfc3339("2026-02-20T09:00:00-05:00").expect("time"));
    let pipeline = Pipeline::open(&config, &grammars, clock).expect("pipeline");
    println!(
        "ingest benchmark: {entries} entries x 5 files, {threads} thread(s), batch {batch}, data in {}",
        root.display()
    );

    let chunk = 2_000usize.min(entries.max(1));
    let mut files_done = 0usize;
    let mut bytes_done = 0u64;
    let mut busy = Duration::ZERO;
    let mut start = 0usize;
    while start < entries {
        let end = (start + chunk).min(entries);
        // Generate this chunk's files (not timed), per thread's inbox, in life order by kind.
        let mut per_thread: Vec<Vec<PathBuf>> = vec![Vec::new(); threads];
        for kind in 0..5 {
            for e in start..end {
                let t = e % threads;
                let dir = root.join(format!("in{t}"));
                std::fs::create_dir_all(&dir).expect("inbox");
                let tx = 1_000_000 + e as u32;
                let (name, bytes) = sample::life_files("EEE", tx).swap_remove(kind);
                let p = dir.join(name);
                bytes_done += bytes.len() as u64;
                std::fs::write(&p, bytes).expect("write");
                per_thread[t].push(p);
            }
        }
        let t0 = Instant::now();
        std::thread::scope(|s| {
            for (t, files) in per_thread.iter().enumerate() {
                let inbox = config.inbox.get(t).expect("inbox").clone();
                let pipeline = &pipeline;
                s.spawn(move || {
                    for chunk in files.chunks(batch) {
                        for (f, r) in pipeline.process_batch(&inbox, chunk) {
                            match r {
                                Ok(Outcome::Applied { .. }) => {}
                                other => panic!("{}: {other:?}", f.display()),
                            }
                        }
                    }
                });
            }
        });
        busy += t0.elapsed();
        files_done += per_thread.iter().map(Vec::len).sum::<usize>();
        start = end;
        eprint!("\r{files_done} files, {:.0} files/s   ", files_done as f64 / busy.as_secs_f64());
    }
    eprintln!();
    let secs = busy.as_secs_f64();
    let store = pipeline.store();
    let n_entries = store.len(Table::Entries);
    let store_bytes = dir_size(&root.join("data/store"));
    println!("files:            {files_done} in {secs:.2} s = {:.0} files/s", files_done as f64 / secs);
    println!("entries:          {n_entries} = {:.0} entries/s (5 files each)", n_entries as f64 / secs);
    println!("input:            {:.1} MB = {:.2} MB/s", bytes_done as f64 / 1e6, bytes_done as f64 / 1e6 / secs);
    println!("store on disk:    {store_bytes} bytes = {:.0} bytes/entry", store_bytes as f64 / n_entries.max(1) as f64);
    let keys: Vec<EntryNumber> =
        store.scan::<EntryRow>(Table::Entries).filter_map(|r| r.ok().and_then(|(_, e)| e.entry)).collect();
    let (p50, p99, max) = lookups(store, &keys, 10_000);
    println!("entry lookup ({n_entries} entries): p50 {p50:?}  p99 {p99:?}  max {max:?}");
    drop(pipeline);

    if lookup_entries > 0 {
        big_store_lookup(&root, lookup_entries);
    }
}

/// Build a store of `n` entries from one real entry's facts (re-keyed), then time lookups.
fn big_store_lookup(root: &Path, n: usize) {
    let src = Store::open(&root.join("data/store")).expect("store");
    let (_, (entry, facts)) = src
        .scan::<EntryRow>(Table::Entries)
        .filter_map(|r| r.ok())
        .find_map(|(k, e)| {
            let f: Vec<entrywatch::domain::Fact> = src.get(Table::Facts, &k).ok().flatten()?;
            Some((k, (e, f)))
        })
        .expect("one entry");
    drop(src);
    let path = root.join("big-store");
    let _ = std::fs::remove_dir_all(&path);
    let store = Store::open(&path).expect("big store");
    let t0 = Instant::now();
    let mut keys = Vec::new();
    let mut k = 0usize;
    while k < n {
        let end = (k + 1_000).min(n);
        let batch: Vec<(EntryNumber, EntryRow)> = (k..end)
            .map(|i| {
                let num = format!("{:07}", 3_000_000 + i);
                let en: EntryNumber =
                    format!("EEE{num}{}", entrywatch::entry_number::check_digit("EEE", &num).unwrap_or(0))
                        .parse()
                        .expect("entry");
                let mut e = entry.clone();
                e.entry = Some(en.clone());
                (en, e)
            })
            .collect();
        store
            .transaction(|tx| {
                for (en, e) in &batch {
                    let key = en.compact();
                    tx.put(Table::Entries, key.as_bytes(), e)?;
                    tx.put(Table::Facts, key.as_bytes(), &facts)?;
                }
                Ok(())
            })
            .expect("tx");
        keys.extend(batch.into_iter().map(|(en, _)| en));
        k = end;
        if k % 50_000 == 0 {
            eprint!("\rbuilding {k}/{n}   ");
        }
    }
    store.flush().expect("flush");
    eprintln!();
    let bytes = dir_size(&path);
    println!(
        "big store:        {n} entries built in {:.1} s, {bytes} bytes = {:.0} bytes/entry",
        t0.elapsed().as_secs_f64(),
        bytes as f64 / n as f64
    );
    let (p50, p99, max) = lookups(&store, &keys, 10_000);
    println!("entry lookup ({n} entries): p50 {p50:?}  p99 {p99:?}  max {max:?}");
}
