//! X12 reader benchmark: a generated ≥100 MB multi-interchange file of 850/856 (HL loops);
//! MB/s for (a) envelope + segment tokenising and (b) full grammar validation, and peak memory.
//!
//! Run: `cargo bench --bench x12` (env `X12_BENCH_MB` changes the size, default 128).

use entrywatch::grammar::Grammars;
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

fn po(ctl: usize, lines: usize) -> String {
    let mut s = format!("ST*850*{ctl:04}~BEG*00*SA*PO-{ctl}**20260110~REF*IA*V0001~DTM*002*20260201~N1*ST*ENTRYWATCH IMPORTS INC*92*DC01~N3*100 WAREHOUSE WAY~N4*CARSON*CA*90745*US~");
    for i in 0..lines {
        s.push_str(&format!(
            "PO1*{}*100*DZ*12.5*PE*VP*SW-{i:05}*UP*0123456789{i:02}~PID*F****MENS SWEATERS COTTON~",
            i + 1
        ));
    }
    s.push_str(&format!("CTT*{lines}~"));
    let n = s.matches('~').count() + 1;
    s.push_str(&format!("SE*{n}*{ctl:04}~"));
    s
}

fn asn(ctl: usize, items: usize) -> String {
    let mut s = format!("ST*856*{ctl:04}~BSN*00*SH{ctl:06}*20260203*1012~HL*1**S~TD1*CTN25*10****G*250*KG~TD5*B*2*MAEU*S~REF*BM*MAEU123456789~N1*ST*ENTRYWATCH IMPORTS INC*92*DC01~HL*2*1*O~PRF*PO-4500012***20260110~");
    for i in 0..items {
        s.push_str(&format!("HL*{}*2*I~LIN*{}*VP*SW-{i:05}~SN1**24*EA~PID*F****ITEM {i}~", i + 3, i + 1));
    }
    s.push_str(&format!("CTT*{}~", items + 2));
    let n = s.matches('~').count() + 1;
    s.push_str(&format!("SE*{n}*{ctl:04}~"));
    s
}

fn interchange(n: usize) -> String {
    let mut s = format!(
        "ISA*00*          *00*          *ZZ*ENTRYWATCHTEST *ZZ*CBPTEST        *260203*1012*U*00401*{n:09}*0*T*:~\n"
    );
    s.push_str("GS*PO*ENTRYWATCHTEST*CBPTEST*20260203*1012*1*X*004010~\n");
    for t in 0..20 {
        s.push_str(&po(t + 1, 25));
        s.push('\n');
    }
    s.push_str("GE*20*1~\nGS*SH*ENTRYWATCHTEST*CBPTEST*20260203*1012*2*X*004010~\n");
    for t in 0..20 {
        s.push_str(&asn(t + 1, 30));
        s.push('\n');
    }
    s.push_str(&format!("GE*20*2~\nIEA*2*{n:09}~\n"));
    s
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
