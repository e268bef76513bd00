//! ES-003 reading speed: rows/s streaming a generated 1,000,000-row CSV export from disk, and the
//! process's peak resident memory before and after (flat: rows are streamed, the file is never held).
//!
//! `cargo bench --bench ace` (set `ACE_BENCH_ROWS` for another size).

#![forbid(unsafe_code)]

use entrywatch::ace::{csv_rows, RowRead};
use std::io::Write;
use std::time::Instant;

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let rows: usize = std::env::var("ACE_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("es003.csv");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        writeln!(w, "Entry Summary Number,Entry Type Code,Importer Number,Port of Entry Code,Entry Date,Liquidation Date,Liquidation Status,Entry Summary Line Number,Country of Origin Code,Manufacturer ID,Line SPI Code,Tariff Ordinal Number,HTS Number - Full,Line Tariff Quantity (1),Line Tariff UOM (1) Code,Line Tariff Goods Value Amount,Line Tariff Duty Amount").expect("write");
        for i in 0..rows {
            let n = 1_000_000 + (i / 20) % 8_000_000;
            let number = format!("{n:07}");
            let check = entrywatch::entry_number::check_digit("EEE", &number).unwrap_or(0);
            writeln!(
                w,
                "EEE-{number}-{check},01,12-345678900,2704,02/02/2026,12/11/2026,Liquidated,{},CN,CNSAMTEX123SHA,,1,6110.20.2079,100,DOZ,\"$10,000.00\",\"$1,650.00\"",
                i % 20 + 1
            )
            .expect("write");
        }
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let before = peak_rss_kib();
    let t = Instant::now();
    let (mut ok, mut warn) = (0u64, 0u64);
    for r in csv_rows(std::io::BufReader::new(std::fs::File::open(&path).expect("open"))) {
        match r {
            Ok(RowRead::Row { .. }) => ok += 1,
            Ok(RowRead::Warning { .. }) => warn += 1,
            Err(e) => panic!("{e}"),
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let after = peak_rss_kib();
    println!(
        "ace/es003-csv: {ok} rows ({warn} warnings), {:.1} MiB in {secs:.2} s = {:.0} rows/s, {:.1} MiB/s; peak RSS {} KiB before, {} KiB after",
        size as f64 / 1_048_576.0,
        ok as f64 / secs,
        size as f64 / 1_048_576.0 / secs,
        before.map_or("?".into(), |v| v.to_string()),
        after.map_or("?".into(), |v| v.to_string()),
    );
}
