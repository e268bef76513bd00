//! Benchmark: deadline computation, reminder planning and the ICS feed over many entries (`cargo bench --bench deadlines`).

#![forbid(unsafe_code)]

use chrono::{DateTime, Duration, NaiveDate};
use entrywatch::calendar::Calendar;
use entrywatch::deadline::{compute, to_ics, DeadlineFacts, EntryDeadline, ReminderPlan};
use entrywatch::entry_number::EntryNumber;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let n: u32 = std::env::args().filter_map(|a| a.parse().ok()).next().unwrap_or(100_000);
    let cal = Calendar::new([NaiveDate::from_ymd_opt(2026, 12, 24).unwrap_or_default()]);
    let start = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap_or_default();
    let facts: Vec<(EntryNumber, DeadlineFacts)> = (0..n)
        .filter_map(|i| {
            let entry: EntryNumber = format!("EEE{:07}0", i).parse().ok()?;
            let e = start + Duration::days(i64::from(i % 700));
            let f = DeadlineFacts {
                entry_date: Some(e),
                release_date: Some(e),
                importation_date: Some(e - Duration::days(2)),
                summary_filed_separately: i % 2 == 0,
                statement_due: Some(e + Duration::days(14)),
                statement_paid: i % 3 == 0,
                fta_claimable: i % 5 == 0,
                recon_issue: (i % 7 == 0).then(|| "001".to_string()),
                scheduled_liquidation: (i % 4 == 0).then(|| e + Duration::days(310)),
                liquidation_date: (i % 9 == 0).then(|| e + Duration::days(314)),
                protest_denied_date: (i % 50 == 0).then(|| e + Duration::days(500)),
                ..Default::default()
            };
            Some((entry, f))
        })
        .collect();

    let t = Instant::now();
    let mut items = Vec::new();
    for (entry, f) in &facts {
        for deadline in compute(f, &cal) {
            items.push(EntryDeadline { entry: entry.clone(), deadline });
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "compute: {} entries -> {} deadlines in {:.3} s = {:.0} entries/s",
        facts.len(),
        items.len(),
        secs,
        facts.len() as f64 / secs
    );

    let plan = ReminderPlan::new(&[30, 14, 7, 3, 1], 8, chrono_tz::America::New_York);
    let now = DateTime::parse_from_rfc3339("2026-03-02T09:00:00-05:00").unwrap_or_default();
    let t = Instant::now();
    let due = plan.due(&items, now, &|_| false);
    let wake = plan.next_wake(&items, now, &|_| false);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "reminders: {} deadlines scanned (due + next_wake) in {:.3} s = {:.0} deadlines/s; {} due, next wake {:?}",
        items.len(),
        secs,
        items.len() as f64 / secs,
        due.len(),
        wake.map(|w| w.to_rfc3339())
    );

    let t = Instant::now();
    let ics = to_ics(&items, now);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "ics: {} events, {:.1} MB in {:.3} s = {:.1} MB/s",
        items.len(),
        ics.len() as f64 / 1e6,
        secs,
        ics.len() as f64 / 1e6 / secs
    );
    black_box(ics);
}
