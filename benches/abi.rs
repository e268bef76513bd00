//! ABI reader benchmark: generates ≥ 100 MB of entry summaries (several lines each) and
//! reports MB/s for `abi::read` (streaming) and `abi::summarize`, plus peak memory (VmHWM).
//!
//! Run: `cargo bench --bench abi` (set ABI_BENCH_MB to change the size).

#![forbid(unsafe_code)]

use entrywatch::entry_number::check_digit;
use entrywatch::grammar::Grammars;
use entrywatch::parse::abi::{self, AbiEvent};
use std::time::Instant;

fn vm(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// On-CPU time of this thread in seconds (Linux schedstat), to separate our work from
/// waiting for a shared, loaded machine.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn pad(s: String) -> String {
    format!("{s:<80}\n")
}

/// One entry summary with `lines` line items (10, 11, lines × (40, 50, 62, 62), 89, 90).
fn summary(out: &mut String, n: u32, lines: u32) {
    let number = format!("{:07}", n % 10_000_000);
    let check = check_digit("EEE", &number).unwrap_or(0);
    out.push_str(&pad(format!(
        "10AEEE  {number}{check} 2704BR{:<7}   0111 X           2021026",
        n % 10_000_000,
        number = number,
        check = check
    )));
    out.push_str(&pad("1112-345678900                           020226013126       CA".into()));
    for l in 1..=lines {
        out.push_str(&pad(format!("40  {l:03} CNCN010526        0000000850570350000001200")));
        out.push_str(&pad(format!(
            "506110202079 {:010} {:010} 000000010000DOZ000000120000KG",
            165000 + u64::from(l),
            10000 + u64::from(l)
        )));
        out.push_str(&pad("6249900003464".into()));
        out.push_str(&pad("6250100001250".into()));
    }
    out.push_str(&pad("894990000000346450100000001250".into()));
    out.push_str(&pad("9000000165000 00000004714".into()));
}

fn main() {
    let target_mb: usize = std::env::var("ABI_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let g = Grammars::embedded().expect("grammars");
    let mut text = String::with_capacity(target_mb * 1_000_000 + 1_000_000);
    text.push_str(&pad("A2704EEE      020226     AE                                BENCH".into()));
    let mut n = 0u32;
    let mut summaries = 0usize;
    while text.len() < target_mb * 1_000_000 {
        text.push_str(&pad("B  2704EEEAE".into()));
        let start = text.len();
        for _ in 0..500 {
            n += 1;
            summary(&mut text, n, 3 + n % 4);
            summaries += 1;
        }
        let images = (text.len() - start) / 81;
        text.push_str(&pad(format!("Y  2704EEEAE{images:05}")));
    }
    text.push_str(&pad("Z2704EEE      020226".into()));
    let bytes = text.into_bytes();
    let mb = bytes.len() as f64 / 1e6;
    let hwm_before = vm("VmHWM:").unwrap_or(0);
    println!("generated {mb:.1} MB: {summaries} entry summaries, {} records", bytes.len() / 81);

    // Streaming read, touching the entry and one typed amount per transaction.
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut txs = 0usize;
    let mut duty_cents = 0i128;
    for _ in 0..3 {
        txs = 0;
        duty_cents = 0;
        let t0 = Instant::now();
        let c0 = cpu_seconds().unwrap_or(0.0);
        let diags = abi::read(&bytes, &g, &mut |ev| {
            if let AbiEvent::Transaction(t) = ev {
                txs += 1;
                if let Some(d) = t.record("90").and_then(|r| r.decimal("total_duty")) {
                    duty_cents += d.cents();
                }
            }
        });
        let s = t0.elapsed().as_secs_f64();
        let c = cpu_seconds().unwrap_or(0.0) - c0;
        assert!(diags.is_empty(), "{:?}", diags.first());
        best = best.min(s);
        if c > 0.0 {
            best_cpu = best_cpu.min(c);
        }
    }
    assert_eq!(txs, summaries);
    println!(
        "abi::read      {:8.1} MB/s wall, {:8.1} MB/s on-CPU  ({best:.3} s, {txs} transactions, duty total {duty_cents} cents)",
        mb / best,
        mb / best_cpu
    );
    let hwm_read = vm("VmHWM:").unwrap_or(0);

    let t0 = Instant::now();
    let c0 = cpu_seconds().unwrap_or(0.0);
    let (sum, diags) = abi::summarize(&bytes, &g);
    let s = t0.elapsed().as_secs_f64();
    let c = cpu_seconds().unwrap_or(0.0) - c0;
    assert!(diags.is_empty());
    let blocks: usize = sum.batches.iter().map(|b| b.blocks.len()).sum();
    println!("abi::summarize {:8.1} MB/s wall, {:8.1} MB/s on-CPU  ({s:.3} s, {blocks} blocks)", mb / s, mb / c);
    let hwm_after = vm("VmHWM:").unwrap_or(0);
    println!(
        "peak memory (VmHWM): {:.1} MB with the input generated ({mb:.1} MB of it), {:.1} MB after abi::read (growth {:.1} MB), {:.1} MB after abi::summarize (growth {:.1} MB, the summary itself)",
        hwm_before as f64 / 1024.0,
        hwm_read as f64 / 1024.0,
        (hwm_read.saturating_sub(hwm_before)) as f64 / 1024.0,
        hwm_after as f64 / 1024.0,
        (hwm_after.saturating_sub(hwm_read)) as f64 / 1024.0
    );
}
