//! Benchmark of the read model on the store (`StoreModel`): entry page, overview (first full
//! pass, then cached, then after a new file), `/entries` page 1, `/metrics`, a report.
//!
//! The store holds `ENTRYWATCH_BENCH_ENTRIES` (default 100,000) entries whose facts are those
//! of real ingested files (the sample life of an entry through the pipeline), re-keyed and
//! written directly (one transaction per 1,000 entries); every 100th entry keeps an open FDA
//! hold. `ENTRYWATCH_BENCH_DIR` (default target/bench-readmodel) holds the data.
//!
//! Run: `cargo bench --bench readmodel` (or `ENTRYWATCH_BENCH_ENTRIES=20000 cargo bench --bench readmodel`).

use entrywatch::clock::Clock;
use entrywatch::config::Config;
use entrywatch::domain::{Entry, Fact};
use entrywatch::entry_number::EntryNumber;
use entrywatch::grammar::Grammars;
use entrywatch::ingest::{load_entry, sample, FileRecord, Pipeline};
use entrywatch::store::{Store, Table};
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

fn main() {
    let n = env_usize("ENTRYWATCH_BENCH_ENTRIES", 100_000).max(1);
    let root = PathBuf::from(
        std::env::var("ENTRYWATCH_BENCH_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-readmodel").to_string()),
    );
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("bench dir");
    let life = template(&root, "life", sample::life_files("EEE", 1234567), 1234567);
    let held = template(&root, "held", vec![("so.abi".into(), sample::so_exam_fda_release("EEE", 7654321))], 7654321);

    let cfg = Config::from_toml(&format!("data-dir = {:?}\n", root.join("data")), "bench").expect("config");
    let store = Store::open(&cfg.data_dir.join("store")).expect("store");
    let t0 = Instant::now();
    let mut k = 0usize;
    while k < n {
        let end = (k + 1_000).min(n);
        let batch: Vec<(EntryNumber, &Vec<Fact>)> =
            (k..end).map(|i| (number(i), if i % 100 == 0 { &held } else { &life })).collect();
        store
            .transaction(|tx| {
                for (en, facts) in &batch {
                    let key = en.compact();
                    tx.put(Table::Entries, key.as_bytes(), &Entry::derive(en, facts).row())?;
                    tx.put(Table::Facts, key.as_bytes(), *facts)?;
                }
                Ok(())
            })
            .expect("tx");
        k = end;
        if k % 50_000 == 0 {
            eprint!("\rbuilding {k}/{n}   ");
        }
    }
    store.flush().expect("flush");
    eprintln!();
    println!(
        "readmodel benchmark: {n} entries written in {:.1} s, store {} bytes",
        t0.elapsed().as_secs_f64(),
        store.size_on_disk()
    );
    let model = StoreModel::new(store.clone(), &cfg);
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-20T09:00:00-05:00").expect("time");

    // Entry page: lookup + view + render.
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut times = Vec::new();
    for _ in 0..2_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let key = number((x % n as u64) as usize).to_string();
        let t = Instant::now();
        let e = model.entry(&key).expect("entry");
        let html = pages::entry_html(&e, now);
        times.push(t.elapsed());
        assert!(html.contains("<svg"));
    }
    println!("entry page (lookup + view + render): p50 {:?}  p99 {:?}", pct(&mut times, 0.5), pct(&mut times, 0.99));

    // Overview: the first call builds the aggregates in one pass; later calls read them.
    let t = Instant::now();
    let html = pages::overview_html(&model, now);
    println!("overview, first (full pass over {n} entries): {:?}", t.elapsed());
    assert!(html.contains("<svg"));
    let mut times = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let _ = pages::overview_html(&model, now);
        times.push(t.elapsed());
    }
    println!("overview, cached: p50 {:?}  p99 {:?}", pct(&mut times, 0.5), pct(&mut times, 0.99));

    // A committed file touching one entry (as the pipeline writes it): the next overview
    // re-derives that entry only.
    let mut times = Vec::new();
    for round in 0..20u64 {
        let en = number((round as usize * 7919) % n);
        let key = en.compact();
        let sha = format!("{round:064x}");
        store
            .transaction(|tx| {
                let rec = FileRecord {
                    sha256: sha.clone(),
                    name: format!("f{round}"),
                    inbox: "b".into(),
                    role: entrywatch::config::Role::Broker,
                    received: now.naive_local(),
                    seq: round,
                    archive: String::new(),
                    entries: vec![key.clone()],
                    duplicates: Vec::new(),
                };
                tx.put(Table::Files, sha.as_bytes(), &rec)?;
                tx.put(Table::Order, &round.to_be_bytes(), &sha)?;
                Ok(())
            })
            .expect("tx");
        let t = Instant::now();
        let _ = pages::overview_html(&model, now);
        times.push(t.elapsed());
    }
    println!(
        "overview after a new file: p50 {:?}  p99 {:?}  (full passes in all: {})",
        pct(&mut times, 0.5),
        pct(&mut times, 0.99),
        model.full_passes()
    );

    // /entries page 1, unfiltered and filtered by status (a scan).
    let mut times = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let v: Vec<_> = model.entries(&EntryFilter::default()).take(100).collect();
        times.push(t.elapsed());
        assert_eq!(v.len(), 100.min(n));
    }
    println!("/entries page 1 (100 entries): p50 {:?}  p99 {:?}", pct(&mut times, 0.5), pct(&mut times, 0.99));
    let t = Instant::now();
    let held_count = model.entries(&EntryFilter { status: Some("held".into()), ..EntryFilter::default() }).count();
    let el = t.elapsed();
    println!(
        "entries filtered by status (full scan, {held_count} held): {el:?} = {:.0} entries/s",
        n as f64 / el.as_secs_f64()
    );

    let t = Instant::now();
    let m = model.metrics();
    println!("metrics: {:?} ({} entries, {} bytes)", t.elapsed(), m.entries, m.store_bytes);

    // Report throughput over the store.
    let mut out = Vec::new();
    let args = entrywatch::cli::report::ReportArgs {
        name: "entry-summary".into(),
        config: None,
        from: None,
        to: None,
        format: "csv".into(),
        json: false,
        port: None,
        importer: None,
        broker: None,
        hts: None,
        hold_days: 5,
        entries_dir: None,
        program: None,
    };
    let t = Instant::now();
    let code = entrywatch::cli::report::run_with_model(&args, &model, Clock::Fixed(now), &mut out);
    let el = t.elapsed();
    assert_eq!(code, 0);
    let rows = out.iter().filter(|b| **b == b'\n').count().saturating_sub(1);
    println!(
        "report entry-summary --format csv: {rows} rows in {el:?} = {:.0} rows/s, {:.1} MB/s",
        rows as f64 / el.as_secs_f64(),
        out.len() as f64 / 1e6 / el.as_secs_f64()
    );
}
