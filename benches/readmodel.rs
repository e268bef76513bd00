//! Benchmark of the query side at scale (`StoreModel` over the store and its `index` table):
//! ready-to-serve time after opening (the first open after the writes, then a start after a
//! checkpoint), entry page, overview, `/entries` page 1 (plain and
//! filtered), deadlines, `/metrics`, a report's first page and its throughput; p50/p99 of each.
//!
//! The store holds `ENTRYWATCH_BENCH_ENTRIES` (default 1,000,000) entries whose facts are those
//! of real ingested files (the sample life of an entry through the pipeline), re-keyed and
//! written with their index entries exactly as a file's transaction writes them (one
//! transaction per 1,000 entries); every 100th entry keeps an open FDA hold, one in ten
//! declares IEEPA duty (refund program CAPE), one in twenty is liquidated higher than filed
//! (samples/abi/life-09-er-liquidated.abi) and one in twenty has its entry summary rejected
//! and not corrected (AE then a rejecting AX), so each report's first page has rows. `ENTRYWATCH_BENCH_DIR` (default target/bench-readmodel) holds the data;
//! `ENTRYWATCH_BENCH_REUSE=1` reuses a store built by an earlier run.
//!
//! Last, the start after a crash: the store closed without a checkpoint (as a SIGKILL leaves
//! it) K files after the daemon's last live checkpoint (`Store::checkpoint_live`), reopened.
//! `ENTRYWATCH_BENCH_CRASH_ONLY=1` measures only that (and the opens before it).
//!
//! Run: `cargo bench --bench readmodel` (or `ENTRYWATCH_BENCH_ENTRIES=20000 cargo bench --bench readmodel`).

#![forbid(unsafe_code)]

use entrywatch::clock::Clock;
use entrywatch::config::Config;
use entrywatch::domain::{Entry, Fact};
use entrywatch::entry_number::EntryNumber;
use entrywatch::grammar::Grammars;
use entrywatch::ingest::{load_entry, sample, Pipeline};
use entrywatch::query::{index, IndexCtx};
use entrywatch::store::entries::{self, EntryState};
use entrywatch::store::Store;
use entrywatch::view::{EntryFilter, ReadModel};
use entrywatch::web::pages;
use entrywatch::web::store_model::StoreModel;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or_default()
}

/// Entries built with the IEEPA template: one in ten (every 100th keeps the FDA hold).
fn is_cape(i: usize) -> bool {
    i % 100 != 0 && i % 10 == 5
}

/// Entries liquidated higher than filed (`report liquidation`, `report anomalies`).
fn is_liquidated(i: usize) -> bool {
    i % 100 != 0 && i % 20 == 7
}

/// Entries whose summary was rejected and not corrected (`report rejected`, `report anomalies`).
fn is_rejected(i: usize) -> bool {
    i % 100 != 0 && i % 20 == 3
}

fn number(i: usize) -> EntryNumber {
    let num = format!("{:07}", 3_000_000 + i);
    format!("EEE{num}{}", entrywatch::entry_number::check_digit("EEE", &num).unwrap_or(0)).parse().expect("entry")
}

/// The facts of one entry ingested through the real pipeline from `files`.
fn template(root: &std::path::Path, name: &str, files: Vec<(String, Vec<u8>)>, tx: u32) -> Vec<Fact> {
    let dir = root.join(name);
    let inbox = dir.join("in");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let cfg = Config::from_toml(
        &format!("data-dir = {:?}\n[[inbox]]\nname = \"b\"\npath = {inbox:?}\nrole = \"broker\"\n", dir.join("data")),
        "bench",
    )
    .expect("config");
    let clock = Clock::Fixed(chrono::DateTime::parse_from_rfc3339("2026-02-20T09:00:00-05:00").expect("time"));
    let p = Pipeline::open(&cfg, &Grammars::embedded().expect("grammars"), clock).expect("pipeline");
    let paths: Vec<PathBuf> = files
        .into_iter()
        .map(|(n, b)| {
            let path = inbox.join(n);
            std::fs::write(&path, b).expect("write");
            path
        })
        .collect();
    let ib = cfg.inbox("b").expect("inbox").clone();
    for (_, r) in p.process_batch(&ib, &paths) {
        r.expect("ingest");
    }
    let en: EntryNumber = sample::entry_display("EEE", tx).parse().expect("entry");
    load_entry(p.store(), &en).expect("load").expect("entry").1
}

fn timed<T>(label: &str, rounds: usize, mut f: impl FnMut(usize) -> T) {
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let t = Instant::now();
        let out = f(i);
        times.push(t.elapsed());
        std::hint::black_box(out);
    }
    println!("{label}: p50 {:?}  p99 {:?}", pct(&mut times, 0.5), pct(&mut times, 0.99));
}

fn main() {
    let n = env_usize("ENTRYWATCH_BENCH_ENTRIES", 1_000_000).max(1);
    let reuse = std::env::var("ENTRYWATCH_BENCH_REUSE").is_ok_and(|v| v == "1");
    let root = PathBuf::from(
        std::env::var("ENTRYWATCH_BENCH_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-readmodel").to_string()),
    );
    let cfg = Config::from_toml(&format!("data-dir = {:?}\n", root.join("data")), "bench").expect("config");
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-20T09:00:00-05:00").expect("time");
    // The recovery sums are evaluated on the day the pages are read.
    let ctx = IndexCtx::from_config(&cfg).with_clock(Clock::Fixed(now));
    let built = reuse && cfg.data_dir.join("store").exists();
    if !built {
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("bench dir");
        let life = template(&root, "life", sample::life_files("EEE", 1234567), 1234567);
        let held =
            template(&root, "held", vec![("so.abi".into(), sample::so_exam_fda_release("EEE", 7654321))], 7654321);
        // An unliquidated entry with IEEPA duty (samples/recovery): CAPE concerns it.
        let cape_ae = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/recovery/broker/ae-unliquidated.abi");
        let cape = template(
            &root,
            "cape",
            vec![("ae-unliquidated.abi".into(), std::fs::read(cape_ae).expect("samples/recovery"))],
            3_000_001,
        );
        // The life of the samples up to an ER liquidating it higher than filed.
        let abi = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/abi");
        let mut liq_files: Vec<(String, Vec<u8>)> =
            sample::life_files("EEE", 1234567).into_iter().filter(|(n, _)| !n.starts_with("er-")).collect();
        let er = std::fs::read(format!("{abi}/life-09-er-liquidated.abi")).expect("samples/abi");
        liq_files.push(("life-09-er-liquidated.abi".into(), er));
        let liquidated = template(&root, "liquidated", liq_files, 1234567);
        let rej_files = vec![
            ("ae.abi".into(), sample::ae("EEE", 2222222, "A")),
            ("ax.abi".into(), sample::ax("EEE", 2222222, false, "020226")),
        ];
        let rejected = template(&root, "rejected", rej_files, 2222222);
        let store = Store::open(&cfg.data_dir.join("store")).expect("store");
        let t0 = Instant::now();
        let mut k = 0usize;
        while k < n {
            let end = (k + 1_000).min(n);
            let batch: Vec<(EntryNumber, &Vec<Fact>, EntryState)> = (k..end)
                .map(|i| {
                    let facts = match i % 100 {
                        0 => &held,
                        _ if is_cape(i) => &cape,
                        _ if is_liquidated(i) => &liquidated,
                        _ if is_rejected(i) => &rejected,
                        _ => &life,
                    };
                    let en = number(i);
                    let e = EntryState::unevaluated(Entry::derive(&en, facts));
                    (en, facts, e)
                })
                .collect();
            store
                .transaction(|tx| {
                    for (en, facts, e) in &batch {
                        index::entry_tx(tx, &ctx, en, e, facts)?;
                        entries::put_tx(tx, &entries::key(en), facts, e)?;
                    }
                    index::file_tx(tx)
                })
                .expect("tx");
            k = end;
            if k % 50_000 == 0 {
                eprint!("\rbuilding {k}/{n}   ");
            }
        }
        store.flush().expect("flush");
        eprintln!();
        let el = t0.elapsed().as_secs_f64();
        println!(
            "readmodel benchmark: {n} entries written with their index in {el:.1} s ({:.0} entries/s), store {} bytes",
            n as f64 / el,
            store.size_on_disk()
        );
    }

    // Ready to serve: open the store and answer the first overview (no pass over the entries).
    // The first open after a long run of writes replays sled's log since its last snapshot;
    // sled writes a snapshot at every open, so a second open shows the start after a checkpoint.
    let t = Instant::now();
    let first = Store::open(&cfg.data_dir.join("store")).expect("store");
    println!("store opened (first open after the writes) in {:?}", t.elapsed());
    drop(first);
    let t = Instant::now();
    let store = Store::open(&cfg.data_dir.join("store")).expect("store");
    let opened = t.elapsed();
    let model = StoreModel::new(store.clone(), &cfg);
    let html = pages::overview_html(&model, now);
    println!("ready: store opened in {opened:?}, first overview served {:?} after start", t.elapsed());
    assert!(html.contains("<svg"));
    let entries = model.metrics().entries as usize;
    assert_eq!(entries, n, "every entry is counted");
    if std::env::var("ENTRYWATCH_BENCH_CRASH_ONLY").is_ok_and(|v| v == "1") {
        drop(model);
        crash_starts(store, &ctx, n);
        return;
    }

    // Entry page: lookup + view + render.
    let mut x: u64 = 0x2545F4914F6CDD1D;
    timed("entry page (lookup + view + render)", 2_000, |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let key = number((x % n as u64) as usize).to_string();
        let e = model.entry(&key).expect("entry");
        pages::entry_html(&e, now)
    });
    timed("overview", 50, |_| pages::overview_html(&model, now));
    timed("/deadlines page", 50, |_| pages::deadlines_html(&model, now, 90));

    // A file changing one entry, written as the pipeline writes it; then the overview.
    let life = load_entry(&store, &number(1)).expect("load").expect("entry").1;
    timed("a file committed (one entry, with its index) + overview", 20, |round| {
        commit_one(&store, &ctx, &number((round * 7919 + 1) % n), &life);
        pages::overview_html(&model, now)
    });

    // /entries page 1: plain, and filtered through an index posting.
    timed("/entries page 1 (50 entries)", 50, |_| model.entries(&EntryFilter::default()).take(50).count());
    let held = EntryFilter { status: Some("open-holds".into()), ..EntryFilter::default() };
    timed("/entries?status=open-holds page 1 (50 entries)", 50, |_| model.entries(&held).take(50).count());
    let t = Instant::now();
    let held_count = model.entries(&held).count();
    let el = t.elapsed();
    println!("entries with open holds, all of them ({held_count}): {el:?}");
    timed("/api/entries?limit=50", 50, |_| {
        serde_json::to_vec(&model.entries(&EntryFilter::default()).take(50).collect::<Vec<_>>()).expect("json")
    });
    timed("/metrics", 20, |_| model.metrics());
    // Duty recovery: every 10th entry declares IEEPA duty (CAPE concerns it), less those the
    // committed files above replaced with another life.
    let replaced: std::collections::BTreeSet<usize> = (0..20).map(|round| (round * 7919 + 1) % n).collect();
    let cape_entries = (0..n).filter(|i| is_cape(*i) && !replaced.contains(i)).count();
    timed("/recovery page (sums + first 500 rows)", 20, |_| {
        let data = model.recovery(now, None, entrywatch::web::recovery::ENTRY_ROWS);
        assert_eq!(data.as_ref().map(|d| d.count), Some(cape_entries), "CAPE's entries are counted");
        entrywatch::web::recovery::recovery_html(data.as_ref(), now)
    });

    // A report's first page (50 rows), then its throughput over every entry.
    let args_of = |name: &str, format: &str| entrywatch::cli::report::ReportArgs {
        name: name.into(),
        config: None,
        from: None,
        to: None,
        format: format.into(),
        json: false,
        port: None,
        importer: None,
        broker: None,
        hts: None,
        hold_days: 5,
        entries_dir: None,
        program: None,
    };
    let args = |format: &str| args_of("entry-summary", format);
    // The row count says what was timed: a report whose rows no entry has answers at once.
    for name in ["entry-summary", "liquidation", "rejected", "anomalies"] {
        let mut rows = 0;
        timed(&format!("report {name}, first 50 rows"), 5, |_| {
            let mut w = FirstLines { left: 51, out: Vec::new() };
            let _ = entrywatch::cli::report::run_with_model(&args_of(name, "csv"), &model, Clock::Fixed(now), &mut w);
            rows = w.out.iter().filter(|b| **b == b'\n').count().saturating_sub(1).min(50);
        });
        println!("  (report {name}: {rows} rows on the first page)");
        assert!(rows > 0, "report {name}: the first page has rows");
    }
    let mut out = Vec::new();
    let t = Instant::now();
    let code = entrywatch::cli::report::run_with_model(&args("csv"), &model, Clock::Fixed(now), &mut out);
    let el = t.elapsed();
    assert_eq!(code, 0);
    let rows = out.iter().filter(|b| **b == b'\n').count().saturating_sub(1);
    println!(
        "report entry-summary --format csv: {rows} rows in {el:?} = {:.0} rows/s, {:.1} MB/s",
        rows as f64 / el.as_secs_f64(),
        out.len() as f64 / 1e6 / el.as_secs_f64()
    );
    drop(model);
    crash_starts(store, &ctx, n);
}

/// One file's transaction changing one entry (its facts and index), as the pipeline writes it.
fn commit_one(store: &Store, ctx: &IndexCtx, en: &EntryNumber, facts: &[Fact]) {
    let e = EntryState::unevaluated(Entry::derive(en, facts));
    store
        .transaction(|tx| {
            index::entry_tx(tx, ctx, en, &e, facts)?;
            entries::put_tx(tx, &entries::key(en), facts, &e)?;
            index::file_tx(tx)
        })
        .expect("tx");
}

/// The start after a crash, K files after the daemon's last live checkpoint: a live
/// checkpoint (timed: the store is closed that long), K files committed, the store closed
/// without a checkpoint (sled writes nothing more at close than a SIGKILL after the last
/// flush leaves), then opened again (timed: the start after the crash).
fn crash_starts(mut store: Store, ctx: &IndexCtx, n: usize) {
    let path = store.path().to_path_buf();
    // Each entry is written again with its own facts, so the store stays as built (a later
    // run with ENTRYWATCH_BENCH_REUSE=1 finds every template where it was).
    let own = |store: &Store, en: &EntryNumber| load_entry(store, en).expect("load").expect("entry").1;
    let mut round = 0usize;
    for k in [0usize, 1, 10, 100, 1_000] {
        let closed = store.checkpoint_live(Duration::from_secs(10)).expect("checkpoint").expect("the store is idle");
        for _ in 0..k {
            round += 1;
            let en = number((round * 7919 + 3) % n);
            let facts = own(&store, &en);
            commit_one(&store, ctx, &en, &facts);
        }
        store.flush().expect("flush");
        let w = store.written();
        drop(store);
        let t = Instant::now();
        store = Store::open_when_released(&path, Duration::from_secs(60)).expect("store");
        let opened = t.elapsed();
        println!(
            "start after a crash {k} files after a live checkpoint ({} commits, {:.1} MB written since): store opened in {opened:?} (the live checkpoint closed the store for {closed:?})",
            w.commits,
            w.bytes as f64 / 1e6
        );
    }
    // Large files (1,000 entries each, as a broker's backfill or a big statement brings):
    // what the log costs per MB written, to set `checkpoint-after-mb`.
    for files in [5usize, 10, 50] {
        store.checkpoint_live(Duration::from_secs(10)).expect("checkpoint").expect("the store is idle");
        for f in 0..files {
            let ens: Vec<EntryNumber> = (0..1_000).map(|i| number((f * 1_000 + i) * 13 % n)).collect();
            let work: Vec<(Vec<Fact>, EntryState)> = ens
                .iter()
                .map(|en| {
                    let facts = own(&store, en);
                    let e = EntryState::unevaluated(Entry::derive(en, &facts));
                    (facts, e)
                })
                .collect();
            store
                .transaction(|tx| {
                    for (en, (facts, e)) in ens.iter().zip(&work) {
                        index::entry_tx(tx, ctx, en, e, facts)?;
                        entries::put_tx(tx, &entries::key(en), facts, e)?;
                    }
                    index::file_tx(tx)
                })
                .expect("tx");
        }
        store.flush().expect("flush");
        let w = store.written();
        drop(store);
        let t = Instant::now();
        store = Store::open_when_released(&path, Duration::from_secs(60)).expect("store");
        println!(
            "start after a crash {files} files of 1,000 entries after a live checkpoint ({:.1} MB written since): store opened in {:?}",
            w.bytes as f64 / 1e6,
            t.elapsed()
        );
    }
    // Leave the store checkpointed for the next run.
    drop(store);
    Store::checkpoint(&path).expect("checkpoint");
}

/// A writer that takes the first `left` lines, then fails (as a closed pipe does).
struct FirstLines {
    left: usize,
    out: Vec<u8>,
}

impl std::io::Write for FirstLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        }
        self.left = self.left.saturating_sub(buf.iter().filter(|b| **b == b'\n').count());
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
