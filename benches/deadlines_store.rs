//! Benchmark: deadlines and reminder passes on a real sled store (`cargo bench --bench deadlines_store [N]`, default 20 000 entries, each the five synthetic life files of `ingest::sample`).

#![forbid(unsafe_code)]

use chrono::DateTime;
use entrywatch::calendar::Calendar;
use entrywatch::config::{Config, Role};
use entrywatch::deadline::scheduler::{all_deadlines, remind_pass};
use entrywatch::deadline::{listing, local_today};
use entrywatch::domain::{Entry, Fact};
use entrywatch::entry_number::EntryNumber;
use entrywatch::grammar::Grammars;
use entrywatch::ingest::sample::life_files;
use entrywatch::interpret::{interpret, FileContext};
use entrywatch::store::entries::{self, EntryState};
use entrywatch::store::Store;
use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let n: u32 = std::env::args().skip(1).filter_map(|a| a.parse().ok()).next().unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = format!(
        "data-dir = {:?}\n[[route]]\nto = [\"d@example.com\"]\ncategories = [\"deadline\"]\nmin-severity = \"info\"\n",
        dir.path()
    );
    let config = Config::from_toml(&cfg, "bench").expect("config");
    let grammars = Grammars::embedded().expect("grammars");
    let store = Store::open(&dir.path().join("store")).expect("store");
    let index = entrywatch::query::IndexCtx::from_config(&config);
    let received = chrono::NaiveDate::from_ymd_opt(2026, 2, 20).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("date");

    // Facts: each entry's five files interpreted, written 1 000 entries per transaction.
    let t = Instant::now();
    let mut pending: BTreeMap<String, (EntryNumber, Vec<Fact>)> = BTreeMap::new();
    let flush = |pending: &mut BTreeMap<String, (EntryNumber, Vec<Fact>)>| {
        store
            .transaction(|tx| {
                for (k, (en, facts)) in pending.iter() {
                    let e = EntryState::unevaluated(Entry::derive(en, facts));
                    // The query index, as each file's transaction keeps it (reminders read it).
                    entrywatch::query::index::entry_tx(tx, &index, en, &e, facts)?;
                    entries::put_tx(tx, k, facts, &e)?;
                }
                Ok(())
            })
            .expect("write");
        pending.clear();
    };
    for tx in 0..n {
        for (name, bytes) in life_files("EEE", 1_000_000 + tx) {
            let sha = format!("{tx}-{name}");
            let ctx = FileContext { name: &name, inbox: "broker", role: Role::Broker, sha256: &sha, received };
            for (en, f) in interpret(&bytes, &ctx, &grammars).facts {
                pending.entry(en.compact()).or_insert_with(|| (en.clone(), Vec::new())).1.push(f);
            }
        }
        if pending.len() >= 1000 {
            flush(&mut pending);
        }
    }
    flush(&mut pending);
    store.flush().expect("flush");
    println!("store: {n} entries written in {:.1} s", t.elapsed().as_secs_f64());

    let cal = Calendar::from_config(&config.deadlines);
    let now = DateTime::parse_from_rfc3339("2026-11-20T09:00:00-05:00").expect("now");

    let t = Instant::now();
    let items = all_deadlines(&store, &cal).expect("deadlines");
    let s = t.elapsed().as_secs_f64();
    println!(
        "all_deadlines: {} deadlines of {n} entries in {:.2} s = {:.0} entries/s",
        items.len(),
        s,
        f64::from(n) / s
    );

    let t = Instant::now();
    let rows = listing(&items, local_today(now, config.timezone()), Some(30), true);
    let json = serde_json::to_string(&rows).expect("json");
    println!(
        "listing --within 30 --json: {} rows, {} bytes in {:.3} s",
        rows.len(),
        json.len(),
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let first = remind_pass(&store, &config, now).expect("pass");
    let s = t.elapsed().as_secs_f64();
    println!(
        "first reminder pass: {} reminders queued (ledger + outbox, one transaction each) in {:.2} s = {:.0} reminders/s",
        first.queued,
        s,
        first.queued as f64 / s
    );

    let t = Instant::now();
    let again = remind_pass(&store, &config, now).expect("pass");
    let s = t.elapsed().as_secs_f64();
    println!(
        "idle reminder pass (nothing new, next wake {:?}): {:.3} s for {:.0} entries",
        again.next.map(|d| d.to_rfc3339()),
        s,
        f64::from(n) / s
    );
}
