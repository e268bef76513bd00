//! Dashboard latency with a large in-memory read model: overview and entry pages (rendered
//! directly and over HTTP on 127.0.0.1), plus the entries list, overview JSON and the broker
//! scorecard. `ENTRYWATCH_BENCH_ENTRIES` sets the size (default 1,000,000).
//!
//! Run: `cargo bench --bench web` (prints median / p95 / max per operation).

#![forbid(unsafe_code)]

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use entrywatch::clock::Clock;
use entrywatch::view::{
    Deadline, EntryView, Event, Hold, Line, Liquidation, LiquidationStatus, MemoryModel, ReadModel, Release,
    ReleaseStatus, Source, Statement, StatementStatus, Summary, SummaryStatus, SummaryVersion, Timestamps, Totals,
    Variance, VarianceStatus,
};
use entrywatch::web::{self, pages, Auth};
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn check(filer: &str, n: &str) -> u8 {
    entrywatch::entry_number::check_digit(filer, n).unwrap_or(0)
}

fn generate(n: usize, now: DateTime<FixedOffset>) -> Vec<EntryView> {
    let mut r = Rng(42);
    let filers = ["EEE", "KKK", "B76", "ABC", "XYZ", "M12", "Q55", "ZZT"];
    let ports = ["2704", "1001", "3901", "5301", "2809", "4601"];
    let statuses = [
        SummaryStatus::Accepted,
        SummaryStatus::Accepted,
        SummaryStatus::Accepted,
        SummaryStatus::Rejected,
        SummaryStatus::Filed,
    ];
    let kinds = ["psc", "liquidation", "protest", "statement-payment"];
    let start = now - Duration::days(730);
    (0..n)
        .map(|i| {
            let filer = filers[i % filers.len()];
            let num = format!("{:07}", i);
            let entry = format!("{filer}-{num}-{}", check(filer, &num));
            let arrival = start + Duration::minutes((r.below(730 * 1440)) as i64);
            let release = arrival + Duration::minutes(60 + r.below(4000) as i64);
            let accepted = release + Duration::minutes(30 + r.below(6000) as i64);
            let held = r.below(100) == 0;
            let entry_date = arrival.date_naive();
            let liquidated = entry_date + Duration::days(314) < now.date_naive();
            let value = 100_000 + r.below(5_000_000) as i64;
            let duty = value * (r.below(2000) as i64) / 10_000;
            let src = |k: &str| Source {
                file: format!("{}/{}-{}.txt", filer.to_lowercase(), k, i),
                line: Some(1),
                ..Source::default()
            };
            EntryView {
                entry,
                filer: filer.into(),
                importer: format!("{:02}-{:09}", i % 97, i % 1013),
                port: ports[i % ports.len()].into(),
                entry_type: "01".into(),
                entry_date,
                summary: Summary {
                    status: statuses[i % statuses.len()],
                    version: "00100".into(),
                    ..Summary::default()
                },
                release: Release {
                    status: if held { ReleaseStatus::Held } else { ReleaseStatus::Released },
                    open_holds: if held {
                        vec![Hold { code: "1H".into(), agency: "CBP".into(), since: release, ..Hold::default() }]
                    } else {
                        vec![]
                    },
                    ..Release::default()
                },
                statement: Some(Statement {
                    number: format!("{}{}A01", ports[i % ports.len()], entry_date.format("%m%d")),
                    status: StatementStatus::Final,
                    due: Some(entry_date + Duration::days(15)),
                    ..Statement::default()
                }),
                liquidation: Liquidation {
                    status: if liquidated { LiquidationStatus::Liquidated } else { LiquidationStatus::Unliquidated },
                    date: Some(entry_date + Duration::days(314)),
                    ..Liquidation::default()
                },
                variance: Variance { status: VarianceStatus::None, differences: 0, major: None },
                deadlines: vec![
                    Deadline {
                        kind: kinds[i % kinds.len()].into(),
                        due: entry_date + Duration::days(300),
                        estimated: false,
                        rule: None,
                        ..Deadline::default()
                    },
                    Deadline {
                        kind: "protest".into(),
                        due: entry_date + Duration::days(494),
                        estimated: true,
                        rule: None,
                        ..Deadline::default()
                    },
                ],
                events: vec![
                    Event { at: arrival, kind: "arrival".into(), code: None, source: src("qp"), ..Event::default() },
                    Event {
                        at: release,
                        kind: "released".into(),
                        code: Some("01".into()),
                        source: src("sn"),
                        ..Event::default()
                    },
                    Event {
                        at: accepted,
                        kind: "summary-accepted".into(),
                        code: None,
                        source: src("ue"),
                        ..Event::default()
                    },
                ],
                broker: None,
                inbox: None,
                importer_name: None,
                lines: vec![Line {
                    line: 1,
                    hts: format!("6110{:06}", r.below(1_000_000)),
                    origin: "CN".into(),
                    value_cents: value,
                    duty_cents: duty,
                    ..Line::default()
                }],
                totals: Some(Totals { duty_cents: duty, fees_cents: 3464, value_cents: value }),
                summary_history: vec![SummaryVersion {
                    version: "00100".into(),
                    filed: Some(release),
                    accepted: Some(accepted),
                    ..Default::default()
                }],
                timestamps: Timestamps {
                    arrival: Some(arrival),
                    release: Some(release),
                    summary_accepted: Some(accepted),
                    liquidation: None,
                },
                ..EntryView::default()
            }
        })
        .collect()
}

fn stats(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<34} n={:<4} median {:>8.2} ms   p95 {:>8.2} ms   max {:>8.2} ms",
        ms.len(),
        p(0.5),
        p(0.95),
        p(1.0)
    );
}

fn time<T>(name: &str, iters: usize, mut f: impl FnMut(usize) -> T) {
    let _ = black_box(f(0));
    let ms = (0..iters)
        .map(|i| {
            let t = Instant::now();
            black_box(f(i + 1));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    stats(name, ms);
}

fn http_get(addr: SocketAddr, path: &str) -> usize {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).expect("read");
    assert!(buf.starts_with(b"HTTP/1.1 200"), "{path}: {}", String::from_utf8_lossy(&buf[..buf.len().min(200)]));
    buf.len()
}

fn main() {
    let n: usize = std::env::var("ENTRYWATCH_BENCH_ENTRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let now = DateTime::parse_from_rfc3339("2026-03-01T09:00:00-05:00").expect("now");
    let t = Instant::now();
    let entries = generate(n, now);
    let keys: Vec<String> = entries.iter().step_by((n / 1000).max(1)).map(|e| e.entry.clone()).collect();
    println!("generated {n} entries in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let model = Arc::new(MemoryModel::new(entries));
    println!("indexed in {:.1} s", t.elapsed().as_secs_f64());
    let today = now.date_naive();
    println!(
        "open holds {}, deadlines in 30 days {}",
        model.open_holds(false, 0).total,
        model.deadlines_between(today, today + Duration::days(30), 0).total
    );

    time("overview page (render)", 50, |_| pages::overview_html(&*model, now).len());
    time("entry page (lookup + render)", 200, |i| {
        let e = model.entry(&keys[i % keys.len()]).expect("entry");
        pages::entry_html(&e, now).len()
    });
    time("entries page 1 (no filter)", 50, |_| {
        pages::entries_html(&*model, now, &pages::EntriesQuery::default()).len()
    });
    let by_importer = pages::EntriesQuery { importer: Some("05-000000005".into()), ..Default::default() };
    time("entries page (importer filter)", 10, |_| pages::entries_html(&*model, now, &by_importer).len());
    time("deadlines page (90 days)", 10, |_| pages::deadlines_html(&*model, now, 90).len());
    time("overview JSON", 20, |_| serde_json::to_vec(&web::overview(&*model, now)).map(|v| v.len()).unwrap_or(0));
    time("broker scorecard (full scan)", 3, |_| {
        entrywatch::report::brokers::scorecard(&*model, &Default::default()).len()
    });
    let _ = NaiveDate::default();
    let params = entrywatch::report::Params::new(Default::default(), now);
    for name in ["entry-summary", "brokers"] {
        let t = Instant::now();
        let r = entrywatch::report::build(name, &*model, &params).expect("report");
        let rows =
            entrywatch::report::write_report(r, entrywatch::report::Format::Csv, &mut std::io::sink()).expect("write");
        let s = t.elapsed().as_secs_f64();
        println!("report {name:<20} csv: {rows} rows in {s:.2} s ({:.0} rows/s)", rows as f64 / s);
    }

    // Over HTTP on loopback through the real router.
    let clock = Clock::Fixed(now);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = web::router(model.clone(), clock, Auth::default());
    let server = rt.spawn(web::serve_on(listener, app, async move {
        let _ = rx.await;
    }));
    time("HTTP GET /", 50, |_| http_get(addr, "/"));
    time("HTTP GET /entries/{entry}", 200, |i| http_get(addr, &format!("/entries/{}", keys[i % keys.len()])));
    time("HTTP GET /api/entries/{entry}", 200, |i| http_get(addr, &format!("/api/entries/{}", keys[i % keys.len()])));
    let _ = tx.send(());
    let _ = rt.block_on(server);
}
