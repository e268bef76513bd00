//! X12 reader benchmark: a generated ≥100 MB multi-interchange file of 004010 850s and 005010
//! 856s laid out in the standard's segment order (`entrywatch::parse::x12::standard`, from the
//! x12-types facts, not from our grammar); MB/s for (a) envelope + segment tokenising and
//! (b) full grammar validation, and peak memory. The bench fails if the stream has diagnostics.
//!
//! Run: `cargo bench --bench x12` (env `X12_BENCH_MB` changes the size, default 128).

#![forbid(unsafe_code)]

use entrywatch::grammar::Grammars;
use entrywatch::parse::x12::standard::interchange;
use entrywatch::parse::x12::{read_with, ReadOptions, X12Event};
use std::io::Write;
use std::time::Instant;

fn vm_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// CPU time of this thread in seconds: the scheduler's nanosecond run time
/// (/proc/thread-self/schedstat), else utime + stime from /proc/thread-self/stat (100 Hz ticks).
fn cpu_secs() -> f64 {
    if let Some(ns) = std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
    {
        return ns as f64 / 1e9;
    }
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else { return 0.0 };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn run(bytes: &[u8], g: &Grammars, validate: bool) -> (f64, f64, usize, usize) {
    let mut txns = 0usize;
    let c = cpu_secs();
    let t = Instant::now();
    let out = read_with(bytes, g, ReadOptions { validate }, &mut |ev| {
        if let X12Event::Transaction(tx) = ev {
            txns += tx.segments.len();
        }
    });
    let secs = t.elapsed().as_secs_f64();
    (secs, cpu_secs() - c, out.segments, out.diagnostics.len())
}

fn main() {
    let mb: usize = std::env::var("X12_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(128);
    let g = Grammars::embedded().expect("grammars");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.x12");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut written = 0usize;
        let mut n = 1;
        while written < mb * 1_000_000 {
            let ic = interchange(n);
            f.write_all(ic.as_bytes()).expect("write");
            written += ic.len();
            n += 1;
        }
        f.flush().expect("flush");
    }
    let base_kb = vm_kb("VmRSS:");
    let bytes = std::fs::read(&path).expect("read back");
    let size_mb = bytes.len() as f64 / 1e6;
    println!("x12 bench: file {:.1} MB ({} bytes) in {}", size_mb, bytes.len(), path.display());
    for validate in [false, true] {
        let mut best = f64::MAX;
        let mut best_cpu = f64::MAX;
        let mut segs = 0;
        let mut diags = 0;
        for _ in 0..5 {
            let (s, c, n, d) = run(&bytes, &g, validate);
            best = best.min(s);
            best_cpu = best_cpu.min(c.max(1e-6));
            segs = n;
            diags = d;
        }
        assert_eq!(diags, 0, "the standard-order stream must read clean");
        let what = if validate { "(b) full grammar validation" } else { "(a) envelope + segment tokenising" };
        println!(
            "x12 bench: {what}: {:.0} MB/s wall, {:.0} MB/s per CPU-second ({segs} segments, {diags} diagnostics, best of 5: {:.3} s wall, {:.3} s CPU)",
            size_mb / best,
            size_mb / best_cpu,
            best,
            best_cpu
        );
    }
    let hwm = vm_kb("VmHWM:");
    println!(
        "x12 bench: peak memory (VmHWM) {:.1} MB = input buffer {:.1} MB + process/reader {:.1} MB",
        hwm as f64 / 1024.0,
        bytes.len() as f64 / 1_048_576.0,
        (hwm as f64 - bytes.len() as f64 / 1024.0) / 1024.0
    );
    let _ = base_kb;
}
