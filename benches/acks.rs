//! Acknowledgment benchmark: (a) building 997s in memory (read + plan + render) for a file of
//! many 350 interchanges, in MB of input per second and acks per second; (b) the pipeline's
//! path for small files (store record, control numbers reserved and flushed, atomic write into
//! an ack dir) in files per second, with a real sled store in a temp dir.
//!
//! Run: `cargo bench --bench acks` (env `ACKS_BENCH_MB` for (a), default 32; `ACKS_BENCH_FILES`
//! for (b), default 300).

#![forbid(unsafe_code)]

use entrywatch::ack::{self, control::Reserved, AckOptions, ReceivedFile};
use entrywatch::config::{AckKind, Inbox};
use entrywatch::grammar::Grammars;
use std::time::Instant;

fn interchange(n: usize, with_error: bool) -> String {
    let date = if with_error { "20260230" } else { "20260203" };
    let mut s = format!(
        "ISA*00*          *00*          *ZZ*BROKERTEST     *ZZ*ENTRYWATCHTEST *260203*1012*^*00501*{n:09}*0*P*:~\n"
    );
    s.push_str(&format!("GS*AU*BROKERTEST*ENTRYWATCHTEST*20260203*1012*{n}*X*005010~\n"));
    s.push_str("ST*350*0001~\nM10*MAEU*11*DK*9321483*MAERSK ESSEX*612W~\nP4*2704*20260201*100*2704~\n");
    let mut segs = 4;
    for i in 0..20 {
        s.push_str(&format!("X4*MAEU{i:09}*100*01*EEE12345673*{date}*1012*1H**MAEU~\nK1*CBP HOLD~\n"));
        segs += 2;
    }
    s.push_str(&format!("SE*{}*0001~\nGE*1*{n}~\nIEA*1*{n:09}~\n", segs));
    s
}

fn main() {
    let g = Grammars::embedded().expect("grammars");
    let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).and_then(|d| d.and_hms_opt(9, 30, 0)).expect("date");

    // (a) in-memory build
    let mb: usize = std::env::var("ACKS_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(32);
    let mut file = String::new();
    let mut n = 1;
    while file.len() < mb * 1_000_000 {
        file.push_str(&interchange(n, n % 10 == 0));
        n += 1;
    }
    let mut best = f64::MAX;
    let mut acks = 0;
    let mut out_bytes = 0;
    for _ in 0..3 {
        let t = Instant::now();
        acks = 0;
        out_bytes = 0;
        for (i, ic) in ack::collect(file.as_bytes(), &g).iter().enumerate() {
            let plan = ack::plan(ic, AckKind::Ack997, false);
            let r = Reserved { interchange: i as u64 + 1, first_group: i as u64 + 1 };
            out_bytes += ack::render(&ic.header, &plan, &AckOptions::new(AckKind::Ack997), &r, now).len();
            acks += 1;
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let size = file.len() as f64 / 1e6;
    println!(
        "build: {:.1} MB input, {acks} interchanges -> {acks} acks ({:.1} MB): {:.1} MB/s, {:.0} acks/s (best of 3)",
        size,
        out_bytes as f64 / 1e6,
        size / best,
        acks as f64 / best
    );

    // (b) pipeline path: one small file at a time, durable numbers and atomic write
    let files: usize = std::env::var("ACKS_BENCH_FILES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = entrywatch::store::Store::open(&dir.path().join("store")).expect("store");
    let inbox: Inbox = toml::from_str(&format!(
        "name = \"b\"\npath = {:?}\nrole = \"broker\"\nack-dir = {:?}\n",
        dir.path().join("in"),
        dir.path().join("out")
    ))
    .expect("inbox");
    let inputs: Vec<(String, String)> =
        (0..files).map(|i| (format!("{:064x}", i + 1), interchange(i + 1, i % 10 == 0))).collect();
    let t = Instant::now();
    for (sha, text) in &inputs {
        let f = ReceivedFile { name: "f.x12", sha256: sha, received: now, entries: Vec::new() };
        ack::on_received_file(&store, &inbox, &g, text.as_bytes(), &f).expect("ack");
    }
    let secs = t.elapsed().as_secs_f64();
    let written = std::fs::read_dir(dir.path().join("out")).map(|d| d.count()).unwrap_or(0);
    println!(
        "pipeline: {files} files -> {written} ack files in {:.2} s: {:.0} files/s ({:.2} ms per file: read twice, plan, 2 store transactions + 2 flushes, fsync + rename)",
        secs,
        files as f64 / secs,
        secs * 1000.0 / files as f64
    );
}
