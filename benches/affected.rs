//! Benchmark: the affected-entries lookup on a real sled store holding the links of N entries
//! (`cargo bench --bench affected [N]`, default 1 000 000): index lookups, never a scan.
//!
//! Each synthetic entry of importer 12-345678900 has one bill (shared by 3 entries), one
//! container (shared by 2), one PO (shared by 10) with a PO line, one HTS number (1 000
//! numbers: ~1 000 entries each) and one manufacturer (10 000 MIDs: ~100 entries each).

#![forbid(unsafe_code)]

use chrono::NaiveDate;
use entrywatch::calendar::Calendar;
use entrywatch::config::Deadlines;
use entrywatch::domain::{Entry, PreEntry, PreEntryLine};
use entrywatch::entry_number::{check_digit, EntryNumber};
use entrywatch::links::{affected, index_tx, links_of, related, AffectedConfig, ImpactRule, LinkKind, Scope, Trigger};
use entrywatch::store::links::{entry_key, posting_key};
use entrywatch::store::{Store, Table};
use std::collections::BTreeMap;
use std::time::Instant;

fn entry(i: u32) -> Entry {
    let num = format!("{:07}", i % 10_000_000);
    let filer = ["EEE", "AB1", "XY9"][(i / 10_000_000) as usize % 3];
    let cd = check_digit(filer, &num).unwrap_or(0);
    let en: Option<EntryNumber> = format!("{filer}-{num}-{cd}").parse().ok();
    let line = PreEntryLine {
        line: 1,
        po_number: format!("PO-{}", i / 10),
        po_line: format!("{}", i % 10),
        hts: format!("6110{:06}", i % 1000),
        bill_of_lading: format!("MAEU{:09}", i / 3),
        container: format!("MSKU{:07}", i / 2),
        manufacturer_id: format!("CNMID{:05}SHA", i % 10_000),
        ..PreEntryLine::default()
    };
    Entry {
        entry: en,
        importer: "12-345678900".into(),
        pre_entry: Some(PreEntry { importer: "12-345678900".into(), lines: vec![line], ..PreEntry::default() }),
        ..Entry::default()
    }
}

/// `N lookups: mean M µs, p50 P µs, p99 Q µs` from per-lookup times in µs.
fn spread(mut us: Vec<f64>) -> String {
    us.sort_by(f64::total_cmp);
    let q = |p: f64| us.get(((us.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(0.0);
    let mean = us.iter().sum::<f64>() / us.len().max(1) as f64;
    format!("{} lookups: mean {mean:.0} µs, p50 {:.0} µs, p99 {:.0} µs", us.len(), q(0.5), q(0.99))
}

fn main() {
    let n: u32 = std::env::args().skip(1).filter_map(|a| a.parse().ok()).next().unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("store")).expect("store");

    // The index as `index_tx` leaves it, written in bulk (one put per key).
    let t = Instant::now();
    let mut postings: BTreeMap<Vec<u8>, Vec<String>> = BTreeMap::new();
    let mut own: Vec<(Vec<u8>, Vec<entrywatch::links::Link>)> = Vec::new();
    let write = |items: &mut Vec<(Vec<u8>, serde_json::Value)>| {
        store
            .transaction(|tx| {
                for (k, v) in items.iter() {
                    tx.put(Table::Links, k, v)?;
                }
                Ok(())
            })
            .expect("write");
        items.clear();
    };
    let mut batch: Vec<(Vec<u8>, serde_json::Value)> = Vec::new();
    for i in 0..n {
        let e = entry(i);
        let key = e.entry.as_ref().map(EntryNumber::compact).unwrap_or_default();
        let links = links_of(&e);
        for l in &links {
            postings.entry(posting_key(l.kind.as_str(), &l.value)).or_default().push(key.clone());
        }
        own.push((entry_key(&key), links));
        if own.len() >= 20_000 {
            batch.extend(own.drain(..).map(|(k, v)| (k, serde_json::to_value(v).unwrap_or_default())));
            write(&mut batch);
        }
    }
    batch.extend(own.drain(..).map(|(k, v)| (k, serde_json::to_value(v).unwrap_or_default())));
    write(&mut batch);
    let keys = postings.len();
    for (k, mut v) in postings {
        v.sort();
        batch.push((k, serde_json::to_value(v).unwrap_or_default()));
        if batch.len() >= 20_000 {
            write(&mut batch);
        }
    }
    write(&mut batch);
    store.flush().expect("flush");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "index: {n} entries, {keys} posting lists written in {secs:.1} s ({:.0} entries/s), {} MB on disk",
        f64::from(n) / secs,
        store.size_on_disk() / 1_000_000
    );

    let cfg = AffectedConfig {
        rules: vec![
            ImpactRule {
                on: vec![Trigger::Exam],
                links: vec![LinkKind::Bill, LinkKind::Container, LinkKind::Po],
                scope: Scope::Any,
            },
            ImpactRule {
                on: vec![Trigger::UcNotice],
                links: vec![LinkKind::Hts, LinkKind::Manufacturer],
                scope: Scope::Any,
            },
        ],
        ..AffectedConfig::default()
    };
    let cal = Calendar::from_config(&Deadlines::default());
    let today = NaiveDate::from_ymd_opt(2026, 2, 20).expect("date");
    let probes: Vec<Entry> = (0..1000u32).map(|k| entry((k * 7919) % n.max(1))).collect();

    for (name, trig) in
        [("exam (bill, container, PO)", Trigger::Exam), ("UC (HTS and manufacturer)", Trigger::UcNotice)]
    {
        let mut found = 0;
        let mut each = Vec::with_capacity(probes.len());
        for e in &probes {
            let t = Instant::now();
            found += affected(&store, &cfg, e, &[trig], &cal, today).expect("lookup").matching;
            each.push(t.elapsed().as_secs_f64() * 1e6);
        }
        println!(
            "affected {name}: {}, {:.1} entries found on average",
            spread(each),
            found as f64 / probes.len() as f64
        );
    }
    let mut shown = 0;
    let mut each = Vec::with_capacity(probes.len());
    for e in &probes {
        let t = Instant::now();
        shown += related(&store, e, 20).expect("related").len();
        each.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!("related (entry page): {}, {shown} links", spread(each));

    // Indexing one more entry (what each file's transaction adds): its six posting lists.
    let t = Instant::now();
    let extra = 200u32;
    for k in 0..extra {
        let e = entry(n + k);
        let key = e.entry.as_ref().map(EntryNumber::compact).unwrap_or_default();
        store.transaction(|tx| index_tx(tx, &key, &e)).expect("index");
    }
    let s = t.elapsed().as_secs_f64();
    println!("index_tx: {extra} new entries in {:.3} s = {:.0} µs each", s, s * 1e6 / f64::from(extra));
}
