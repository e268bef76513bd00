//! Benchmark: `variance::evaluate` on entries of 2, 100 and 999 lines (two tariffs each, a
//! Chapter 99 pair), against an AE-format approved pre-entry with one difference per 10 lines.
//! Prints evaluations/s and lines/s. Run: `cargo bench --bench variance`.

#![forbid(unsafe_code)]

use entrywatch::config::Variance;
use entrywatch::domain::{Entry, Filing, Line, PreEntry, Summary, Tariff};
use entrywatch::grammar::Grammars;
use entrywatch::variance::evaluate;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

fn summary(lines: u32, twist: bool) -> Summary {
    let mut s = Summary {
        action: "A".into(),
        port: "2704".into(),
        entry_type: "01".into(),
        mode_of_transport: "11".into(),
        payment_type: "2".into(),
        importer: "12-345678900".into(),
        entry_date: chrono::NaiveDate::from_ymd_opt(2026, 2, 2),
        ..Summary::default()
    };
    let (mut duty, mut mpf, mut hmf) = (0i64, 0i64, 0i64);
    for n in 1..=lines {
        let hts = if twist && n % 10 == 0 { "6110202080" } else { "6110202079" };
        let t = vec![
            Tariff { hts: "9903880300".into(), duty_cents: 250_000, ..Tariff::default() },
            Tariff {
                hts: hts.into(),
                duty_cents: 165_000,
                value_usd: 10_000,
                quantity_hundredths: 10_000,
                uom: "DOZ".into(),
            },
        ];
        let mut fees = BTreeMap::new();
        fees.insert("499".to_string(), 3464);
        fees.insert("501".to_string(), 1250);
        duty += 415_000;
        mpf += 3464;
        hmf += 1250;
        s.lines.push(Line {
            line: n,
            country_of_origin: "CN".into(),
            country_of_export: "CN".into(),
            spi: String::new(),
            tariffs: t,
            fees,
            ..Line::default()
        });
    }
    let mpf = mpf.clamp(3358, 65150);
    s.fee_totals.insert("499".into(), mpf);
    s.fee_totals.insert("501".into(), hmf);
    s.total_duty_cents = duty;
    s.total_fees_cents = mpf + hmf;
    s
}

fn main() {
    let g = Grammars::embedded().expect("embedded grammars");
    let cfg = Variance::default();
    for lines in [2u32, 100, 999] {
        let filed = summary(lines, true);
        let pre = PreEntry { summary: Some(summary(lines, false)), ..PreEntry::default() };
        let at = chrono::NaiveDate::from_ymd_opt(2026, 2, 2).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let e = Entry {
            entry: "EEE-1234567-3".parse().ok(),
            filings: vec![Filing { at, summary: filed, version: None, outcome: Default::default() }],
            ..Entry::default()
        };
        let iters = (200_000 / lines).max(20);
        let start = Instant::now();
        let mut diffs = 0;
        for _ in 0..iters {
            diffs += black_box(evaluate(black_box(&e), Some(&pre), &cfg, &g)).differences.len();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "variance evaluate: {lines:>4} lines x {iters:>6}: {:>10.0} evaluations/s, {:>10.0} lines/s ({} differences each)",
            f64::from(iters) / secs,
            f64::from(iters * lines) / secs,
            diffs / iters as usize
        );
    }
}
