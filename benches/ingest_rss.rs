//! Peak memory (resident set high-water mark, `VmHWM`) of reading one large file, against its
//! size: a valid ABI file of many entries (AE batches back to back), a valid X12 file of many
//! 350 interchanges (one X4 disposition per entry) and an invalid X12 file of millions of bad
//! segments, each read by the real binary in a child process (`entrywatch
//! parse`, and with `ENTRYWATCH_BENCH_RSS_INGEST=1` also `entrywatch ingest` with
//! `max-file-bytes` raised above the file).
//!
//! Environment:
//! - `ENTRYWATCH_BENCH_RSS_MB` (default `100,1000`): file sizes in MB.
//! - `ENTRYWATCH_BENCH_RSS_INGEST` (default off): also measure `ingest`.
//! - `ENTRYWATCH_BENCH_RSS_FILES` (default `abi,x12,last,bad`): which files (valid ABI, valid
//!   X12 of 350s, the same with a bad last interchange, X12 of bad segments).
//! - `ENTRYWATCH_BENCH_DIR` (default target/bench-rss): where the files go.
//!
//! Run: `cargo bench --bench ingest_rss` (needs `/usr/bin/time`, GNU time, for the peak).

#![forbid(unsafe_code)]

use entrywatch::ingest::sample;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Write a valid ABI file of about `size` bytes: AE batches for consecutive entries. Returns
/// (bytes, entries).
fn abi_file(path: &Path, size: u64) -> (u64, u64) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let (mut n, mut tx) = (0u64, 1_000_000u32);
    while n < size {
        let b = sample::ae("EEE", tx, "A");
        w.write_all(&b).expect("write");
        n += b.len() as u64;
        tx += 1;
    }
    w.flush().expect("flush");
    (n, u64::from(tx - 1_000_000))
}

/// Write a valid X12 file of about `size` bytes: one 350 interchange per entry, each an X4 hold
/// and its K1 (samples/x12/350-holds-exam-release.x12 for the layout), each entry with a bill
/// of its own (entries sharing one bill are linked to each other, which is not what is
/// measured here). Returns (bytes, entries).
fn x12_valid_file(path: &Path, size: u64) -> (u64, u64) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let (mut n, mut k) = (0u64, 0u64);
    while n < size {
        let b = sample::x12_350_hold(k + 1, 3_000_000 + k as u32);
        w.write_all(b.as_bytes()).expect("write");
        n += b.len() as u64;
        k += 1;
    }
    w.flush().expect("flush");
    (n, k)
}

/// [`x12_valid_file`] with one more interchange at the end whose X4 has an invalid date: the
/// file is quarantined after the validation pass alone. Returns the bytes.
fn x12_bad_last_file(path: &Path, size: u64) -> u64 {
    let (n, k) = x12_valid_file(path, size);
    let tail = format!(
        "ISA*00*          *00*          *ZZ*CBPTEST        *ZZ*ENTRYWATCHTEST *260203*1012*^*00501*{:09}*0*T*:~\n\
         GS*AU*CBPTEST*ENTRYWATCHTEST*20260203*1012*1*X*005010~\nST*350*0001~\n\
         M10*MAEU*11*DK*9321483*MAERSK ESSEX*612W~\nP4*2704*20260201*100*2704~\n\
         X4*MAEU999999999*100*01*EEE{}*20261303*1012*1H**MAEU~\nK1*CBP HOLD AT PORT OF DISCHARGE~\n\
         SE*6*0001~\nGE*1*1~\nIEA*1*{:09}~\n",
        k + 1,
        sample::entry_field("EEE", 2_999_999),
        k + 1
    );
    let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("open");
    f.write_all(tail.as_bytes()).expect("write");
    n + tail.len() as u64
}

/// Write an invalid X12 file of about `size` bytes: one 350 whose body is bad `K1` segments.
fn x12_bad_file(path: &Path, size: u64) -> u64 {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let head = "ISA*00*          *00*          *ZZ*ENTRYWATCHTEST *ZZ*CBPTEST        *260203*1012*^*00501*000000101*0*T*:~\nGS*AU*ENTRYWATCHTEST*CBPTEST*20260203*1012*101*X*005010~\nST*350*0001~\nM10*MAEU*11*DK*9321483*MAERSK ESSEX*612W~\nP4*2704*20260201*100*2704~\n";
    w.write_all(head.as_bytes()).expect("write");
    let mut n = head.len() as u64;
    let mut segs = 3u64;
    while n < size {
        w.write_all(b"K1*BAD~\n").expect("write");
        n += 8;
        segs += 1;
    }
    let tail = format!("SE*{}*0001~\nGE*1*101~\nIEA*1*000000101~\n", segs + 1);
    w.write_all(tail.as_bytes()).expect("write");
    w.flush().expect("flush");
    n + tail.len() as u64
}

/// Run a command under GNU time: (peak RSS in KiB, seconds, exit code).
fn peak(cmd: &mut Command) -> (u64, f64, Option<i32>) {
    let out = std::env::temp_dir().join(format!("entrywatch-bench-rss-{}.time", std::process::id()));
    let prog = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let t = Instant::now();
    let st = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&out)
        .arg(prog)
        .args(args)
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("/usr/bin/time runs");
    let secs = t.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let kib = text.lines().rev().find_map(|l| l.trim().parse().ok()).unwrap_or(0);
    (kib, secs, st.code())
}

fn main() {
    let sizes: Vec<u64> = std::env::var("ENTRYWATCH_BENCH_RSS_MB")
        .unwrap_or_else(|_| "100,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let ingest = std::env::var("ENTRYWATCH_BENCH_RSS_INGEST").is_ok_and(|v| v == "1");
    let root = PathBuf::from(
        std::env::var("ENTRYWATCH_BENCH_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-rss").to_string()),
    );
    let files = std::env::var("ENTRYWATCH_BENCH_RSS_FILES").unwrap_or_else(|_| "abi,x12,last,bad".into());
    let files: Vec<&str> = files.split(',').map(str::trim).collect();
    let exe = env!("CARGO_BIN_EXE_entrywatch");
    println!("peak memory of reading one file (VmHWM via GNU time), release build");
    println!("{:<28} {:>10} {:>12} {:>8} {:>8}", "file / command", "size MB", "peak MB", "x size", "secs");
    for mb in sizes {
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("in")).expect("dir");
        let size = mb * 1_000_000;
        for (kind, name, key) in [
            ("valid ABI", "big.abi", "abi"),
            ("valid X12 (350s)", "ok.x12", "x12"),
            ("X12 350s, bad last", "last.x12", "last"),
            ("invalid X12", "bad.x12", "bad"),
        ] {
            if !files.contains(&key) {
                continue;
            }
            let f = root.join(name);
            let (n, entries) = match kind {
                "valid ABI" => abi_file(&f, size),
                "valid X12 (350s)" => x12_valid_file(&f, size),
                "X12 350s, bad last" => (x12_bad_last_file(&f, size), 0),
                _ => (x12_bad_file(&f, size), 0),
            };
            let mut runs = vec![("parse", Command::new(exe))];
            runs[0].1.arg("parse").arg(&f);
            if ingest {
                let cfg = root.join("ew.toml");
                std::fs::write(
                    &cfg,
                    format!(
                        "data-dir = {:?}\n[[inbox]]\nname = \"b\"\npath = {:?}\nrole = \"broker\"\nmax-file-bytes = {}\n",
                        root.join(format!("data-{key}")).display().to_string(),
                        root.join("in").display().to_string(),
                        n * 2
                    ),
                )
                .expect("config");
                let dropped = root.join("in").join(name);
                std::fs::copy(&f, &dropped).expect("copy");
                let mut c = Command::new(exe);
                c.args(["ingest", "--config"]).arg(&cfg).args(["--inbox", "b"]).arg(&dropped);
                c.env("ENTRYWATCH_NOW", "2026-02-20T09:00:00-05:00");
                runs.push(("ingest", c));
            }
            for (what, mut cmd) in runs {
                let (kib, secs, code) = peak(&mut cmd);
                let peak_mb = kib as f64 * 1024.0 / 1e6;
                // A file of many entries: how fast `ingest` commits them (chunks of 1,000).
                let rate = if what == "ingest" && entries > 0 {
                    format!("   {entries} entries, {:.0} entries/s", entries as f64 / secs.max(1e-9))
                } else {
                    String::new()
                };
                println!(
                    "{:<28} {:>10.0} {:>12.0} {:>8.2} {:>8.1}   (exit {}){rate}",
                    format!("{kind} / {what}"),
                    n as f64 / 1e6,
                    peak_mb,
                    peak_mb / (n as f64 / 1e6),
                    secs,
                    code.map_or("signal".to_string(), |c| c.to_string())
                );
            }
            let _ = std::fs::remove_file(&f);
            // Each file into a store of its own (a store left by the file before would be read
            // back, and measured, by the next `ingest`).
            let _ = std::fs::remove_dir_all(root.join(format!("data-{key}")));
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}
