//! ABI and X12 files are read in two streamed passes (validation, then facts committed a chunk
//! at a time): a large file gives the store its entries in many small files give, a bad record
//! in its last batch (or a bad set in its last interchange) keeps everything out, the streamed
//! readers report what the whole-file readers do, and X12 acknowledgments are unchanged.

mod common;

use common::Env;
use entrywatch::ingest::sample;
use std::path::PathBuf;

/// `entry --json` without where each fact came from (file, line, digest): what the entry is.
fn content(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "source" | "sources" | "files" | "file" | "sha256"))
                .map(|(k, x)| (k.clone(), content(x)))
                .collect(),
        ),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(content).collect()),
        other => other.clone(),
    }
}

fn entry_content(env: &Env, entry: &str) -> serde_json::Value {
    content(&env.entry_json(entry))
}

/// AE batches for `n` entries, then an SO for the first and last (an entry whose facts come
/// from two places in the file, across chunks).
fn batches(n: u32) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = (0..n).map(|k| sample::ae("EEE", 2_000_000 + k, "A")).collect();
    v.push(sample::so_exam_fda_release("EEE", 2_000_000));
    v.push(sample::so_exam_fda_release("EEE", 2_000_000 + n - 1));
    v
}

fn ingest_ok(env: &Env, files: &[PathBuf]) -> String {
    let o = env.ingest("broker", files);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "ingest: {out}\n{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn a_large_abi_file_gives_the_store_of_many_small_files() {
    const N: u32 = 5_000;
    let all = batches(N);
    // One file of 5,000 entries (five chunks of 1,000) ...
    let big = Env::new();
    let p = big.drop_file("broker", "big.abi", &all.concat());
    let out = ingest_ok(&big, &[p]);
    assert!(!out.contains("quarantined"), "{out}");
    // ... and the same batches in 50 files.
    let small = Env::new();
    let paths: Vec<PathBuf> = all
        .chunks(101)
        .enumerate()
        .map(|(i, part)| small.drop_file("broker", &format!("part-{i:03}.abi"), &part.concat()))
        .collect();
    ingest_ok(&small, &paths);
    let entries = big.entries();
    assert_eq!(entries.len(), N as usize);
    assert_eq!(entries, small.entries());
    // Entries at the ends, across chunk boundaries and with facts from two batches.
    for k in [0, 1, 998, 999, 1000, 1001, 2500, 3999, 4000, N - 2, N - 1] {
        let e = sample::entry_display("EEE", 2_000_000 + k);
        assert_eq!(entry_content(&big, &e), entry_content(&small, &e), "{e}");
    }
    assert_eq!(big.files_under("archive").iter().filter(|f| f.ends_with(".abi")).count(), 1);
}

#[test]
fn small_chunks_give_the_same_store() {
    // Chunks of 7 entries: the streamed apply commits 43 chunks, crash-safe markers included.
    let all = batches(300);
    let one = Env::new();
    let p = one.drop_file("broker", "big.abi", &all.concat());
    let mut c = one.cmd();
    c.arg("ingest").arg("--move").arg("--config").arg(one.config()).args(["--inbox", "broker"]).arg(&p);
    c.env("ENTRYWATCH_INGEST_CHUNK", "7");
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let whole = Env::new();
    let p = whole.drop_file("broker", "big.abi", &all.concat());
    ingest_ok(&whole, &[p]);
    assert_eq!(one.entries().len(), 300);
    assert_eq!(one.dump(), whole.dump());
}

#[test]
fn a_bad_record_in_the_last_batch_applies_nothing() {
    // Records padded to 80 columns (no ABIE002 warnings: the error below is among the first
    // 1,000 diagnostics the reader keeps).
    let pad = |b: &[u8]| -> Vec<u8> {
        let text = String::from_utf8(b.to_vec()).unwrap();
        text.lines().map(|l| format!("{l:<80}\n")).collect::<String>().into_bytes()
    };
    let mut all: Vec<Vec<u8>> = batches(3_000).iter().map(|b| pad(b)).collect();
    // The last AE batch: its first body record made 81 columns long (ABIE003, framing: the
    // file cannot be read as a whole).
    let k = all.len() - 3;
    let text = String::from_utf8(all[k].clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = format!("{:<80}X", lines[2]);
    all[k] = (lines.join("\n") + "\n").into_bytes();
    let env = Env::new();
    let p = env.drop_file("broker", "big.abi", &all.concat());
    let o = env.ingest("broker", &[p]);
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("quarantined"), "{}", out.get(..2000).unwrap_or(&out));
    // Nothing was committed: not one entry of the 2,999 good batches before it.
    assert!(env.entries().is_empty());
    assert!(env.files_under("archive").iter().all(|f| !f.ends_with(".abi")));
    let q = env.files_under("quarantine");
    assert!(q.iter().any(|f| f.ends_with("big.abi")), "{q:?}");
    let report = q.iter().find(|f| f.ends_with(".error.txt")).expect("a report");
    let text = std::fs::read_to_string(env.data().join("quarantine").join(report)).unwrap();
    assert!(text.contains("ABIE003"), "{text}");
}

#[test]
fn an_x12_file_of_two_interchanges_is_read_whole_as_before() {
    // A file of two interchanges gives the same entry whether its facts are committed at once
    // or one entry per transaction.
    let x12 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12");
    let first = std::fs::read_to_string(x12.join("350-holds-exam-release.x12")).unwrap();
    let second = first.replace("000000101", "000000102").replace("*101*", "*102*").replace("GE*1*101", "GE*1*102");
    let two = format!("{first}{second}");
    let whole = Env::new();
    let p = whole.drop_file("broker", "two.x12", two.as_bytes());
    ingest_ok(&whole, &[p]);
    let chunked = Env::new();
    let p = chunked.drop_file("broker", "two.x12", two.as_bytes());
    let mut c = chunked.cmd();
    c.arg("ingest").arg("--move").arg("--config").arg(chunked.config()).args(["--inbox", "broker"]).arg(&p);
    c.env("ENTRYWATCH_INGEST_CHUNK", "1");
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(whole.entries(), vec!["EEE-1234567-3".to_string()]);
    let got = whole.entry_json("EEE-1234567-3");
    assert_eq!(got["release"]["released"], serde_json::Value::Bool(true), "{got}");
    assert_eq!(got, chunked.entry_json("EEE-1234567-3"));
}

/// Everything the ABI reader reports, as text: each event with its records' places and images,
/// then the diagnostics.
fn trace(events: &mut Vec<String>, ev: entrywatch::parse::abi::AbiEvent<'_, '_>) {
    use entrywatch::parse::abi::{AbiEvent, Record};
    let rec = |r: &Record<'_>| format!("{} {} {} {} {}", r.name, r.index, r.line, r.byte, r.as_text());
    events.push(match ev {
        AbiEvent::BatchStart(r) => format!("A {}", rec(r)),
        AbiEvent::BlockStart(r) => format!("B {}", rec(r)),
        AbiEvent::Transaction(t) => format!(
            "T {} {:?} {:?} {:?}",
            t.kind,
            t.entry,
            t.records.iter().map(rec).collect::<Vec<_>>(),
            t.diagnostics
        ),
        AbiEvent::BlockEnd(r) => format!("Y {:?}", r.map(rec)),
        AbiEvent::BatchEnd(r) => format!("Z {:?}", r.map(rec)),
    });
}

/// A reader that hands over at most `n` bytes per read (buffer edges everywhere).
struct Trickle<'a>(&'a [u8], usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn the_streamed_abi_reader_reports_what_the_whole_file_reader_does() {
    let g = entrywatch::grammar::Grammars::embedded().expect("grammars");
    let ae = sample::ae("EEE", 2_000_001, "A");
    let text = String::from_utf8(ae.clone()).unwrap();
    let padded: String = text.lines().map(|l| format!("{l:<80}")).collect();
    let crlf = text.replace('\n', "\r\n");
    let long = text.replacen('\n', &format!("{}\n", "X".repeat(70_000)), 3);
    let blank = text.replacen('\n', "\n\n", 2);
    let lower = text.to_lowercase();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("lines", [ae.clone(), sample::so_exam_fda_release("EEE", 2_000_001)].concat()),
        ("crlf", crlf.into_bytes()),
        ("stream", padded.clone().into_bytes()),
        ("stream + LF", format!("{padded}\n").into_bytes()),
        ("stream + CRLF", format!("{padded}\r\n").into_bytes()),
        ("stream, short last", padded.as_bytes()[..padded.len() - 30].to_vec()),
        ("a 70,000-column line", long.into_bytes()),
        ("blank lines", blank.into_bytes()),
        ("lowercase", lower.into_bytes()),
        ("no final newline", text.trim_end().as_bytes().to_vec()),
        ("nothing", Vec::new()),
        ("garbage", b"\x00\x01\x02 not an ABI file\n\xff\xfe".to_vec()),
    ];
    for (what, bytes) in cases {
        let mut whole = Vec::new();
        let d = entrywatch::parse::abi::read(&bytes, &g, &mut |ev| trace(&mut whole, ev));
        whole.push(format!("{d:?}"));
        for n in [1, 7, 80, 81, 4096, usize::MAX] {
            let mut streamed = Vec::new();
            let d = entrywatch::parse::abi::read_from(&mut Trickle(&bytes, n), &g, &mut |ev| trace(&mut streamed, ev))
                .expect("read");
            streamed.push(format!("{d:?}"));
            assert_eq!(whole, streamed, "{what}, {n} bytes per read");
        }
    }
}

#[test]
fn an_error_past_the_first_thousand_warnings_still_keeps_the_file_from_being_applied() {
    // Regression: the reader keeps the first 1,000 diagnostics; a framing error after 1,000
    // short-record warnings (ABIE002) was dropped with them, and the file was applied without
    // its broken transaction. Now the dropped error is counted (ABIE098) and the file is
    // quarantined, nothing committed.
    let mut all: Vec<Vec<u8>> = batches(3_000);
    let k = all.len() - 3;
    let text = String::from_utf8(all[k].clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = format!("{:<80}X", lines[2]);
    all[k] = (lines.join("\n") + "\n").into_bytes();
    let bytes = all.concat();
    let short = String::from_utf8_lossy(&bytes).lines().filter(|l| l.len() < 80).count();
    assert!(short > 1_000, "the file must carry more than 1,000 short records ({short})");
    let env = Env::new();
    let p = env.drop_file("broker", "big.abi", &bytes);
    let o = env.ingest("broker", &[p]);
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("quarantined"), "{}", out.get(..2000).unwrap_or(&out));
    assert!(env.entries().is_empty());
    let q = env.files_under("quarantine");
    let report = q.iter().find(|f| f.ends_with(".error.txt")).expect("a report");
    let text = std::fs::read_to_string(env.data().join("quarantine").join(report)).unwrap();
    assert!(text.contains("ABIE098"), "{}", text.get(..3000).unwrap_or(&text));
}

/// Everything the X12 reader reports, as text: each event (headers, segments with their
/// line, byte and index, results) then the outcome.
type X12Read<'r> =
    dyn FnMut(&mut dyn FnMut(entrywatch::parse::x12::X12Event<'_>)) -> entrywatch::parse::x12::ReadOutcome + 'r;

fn x12_trace(bytes: &[u8], read: &mut X12Read<'_>) -> Vec<String> {
    let mut events = Vec::new();
    let outcome = read(&mut |ev| events.push(format!("{ev:?}")));
    events.push(format!("{outcome:?}"));
    assert!(!bytes.is_empty() || events.len() == 1);
    events
}

/// X12 inputs built from the 350 sample: several interchanges, a missing IEA, garbage and
/// white space between interchanges, a BOM, other delimiters in a later interchange, errors
/// across the diagnostic cap, a truncated ISA, a BIN segment.
fn x12_cases() -> Vec<(String, Vec<u8>)> {
    let x12 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12");
    let one = std::fs::read_to_string(x12.join("350-holds-exam-release.x12")).unwrap();
    let nth = |n: u32| one.replace("000000101", &format!("{:09}", 100 + n)).replace("*101*", &format!("*{}*", 100 + n));
    let nth = |n: u32| nth(n).replace("GE*1*101", &format!("GE*1*{}", 100 + n));
    let two = format!("{}{}", nth(1), nth(2));
    let three = format!("{}{}{}", nth(1), nth(2), nth(3));
    let no_iea = format!("{}{}{}", nth(1), nth(2).replace("IEA*1*000000102~\n", ""), nth(3));
    let no_iea_last = format!("{}{}", nth(1), nth(2).replace("IEA*1*000000102~\n", ""));
    let other_delims =
        format!("{}{}", nth(1), nth(2).replace('*', "|").replace('~', "\u{85}").replace("\u{85}\n", "'\n"));
    let bad = |n: u32, k: usize| nth(n).replace("K1*INTENSIVE EXAM REQUIRED~\n", &"K1*BAD~\n".repeat(k));
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("one".into(), one.clone().into_bytes()),
        ("two interchanges".into(), two.clone().into_bytes()),
        ("three interchanges".into(), three.clone().into_bytes()),
        ("three on one line".into(), three.replace('\n', "").into_bytes()),
        ("three, CRLF".into(), three.replace('\n', "\r\n").into_bytes()),
        ("missing IEA in the middle".into(), no_iea.into_bytes()),
        ("missing IEA at the end".into(), no_iea_last.into_bytes()),
        ("garbage between".into(), format!("{}GARBAGE*1~\n{}", nth(1), nth(2)).into_bytes()),
        ("white space and NULs between".into(), format!("{}\n\n \t\0\0\r\n{}\n\n", nth(1), nth(2)).into_bytes()),
        ("BOM".into(), [b"\xEF\xBB\xBF".as_slice(), two.as_bytes()].concat()),
        ("other delimiters later".into(), other_delims.into_bytes()),
        ("repeated ISA13".into(), format!("{}{}", nth(1), nth(1)).into_bytes()),
        ("errors across the cap".into(), format!("{}{}{}", bad(1, 600), bad(2, 600), bad(3, 600)).into_bytes()),
        ("truncated ISA".into(), format!("{}{}", nth(1), &nth(2)[..60]).into_bytes()),
        ("no terminator at the end".into(), two.trim_end().trim_end_matches('~').as_bytes().to_vec()),
        ("BIN segment".into(), nth(1).replace("K1*INTENSIVE EXAM REQUIRED~", "BIN*12*AB~IEA*1*00~~").into_bytes()),
        ("100 KB of blank lines between".into(), format!("{}{}{}", nth(1), "\r\n".repeat(50_000), nth(2)).into_bytes()),
        (
            "CR/LF inside the ISA".into(),
            format!("{}{}{}", nth(1), nth(2).replacen("*00*", &format!("*00{}*", "\r\n".repeat(5_000)), 1), nth(3))
                .into_bytes(),
        ),
        ("empty".into(), Vec::new()),
        ("white space only".into(), b"\n \r\n\t".to_vec()),
        ("not X12".into(), b"hello, world\n".to_vec()),
        ("UTF-16".into(), {
            let mut v = vec![0xFF, 0xFE];
            for u in two.encode_utf16() {
                v.extend_from_slice(&u.to_le_bytes());
            }
            v
        }),
    ];
    // Every X12 file among the repository's samples and fixtures, and the shared corpus.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("samples"), root.join("tests")];
    dirs.extend(common::require_corpus());
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let corpus = !p.starts_with(root);
            if corpus || entrywatch::parse::sniff(&bytes) == entrywatch::parse::Format::X12 {
                cases.push((p.display().to_string(), bytes));
            }
        }
    }
    cases
}

/// Two traces are the same; else the first difference is shown.
fn same(whole: &[String], streamed: &[String], what: &str) {
    if let Some(i) = (0..whole.len().max(streamed.len())).find(|&i| whole.get(i) != streamed.get(i)) {
        panic!("{what}: event {i} differs\nwhole:    {:?}\nstreamed: {:?}", whole.get(i), streamed.get(i));
    }
}

#[test]
fn the_streamed_x12_reader_reports_what_the_whole_file_reader_does() {
    use entrywatch::parse::x12::{read_from_sized, read_with, ReadOptions, MAX_INTERCHANGE_BYTES};
    let g = entrywatch::grammar::Grammars::embedded().expect("grammars");
    let cases = x12_cases();
    assert!(cases.len() > 60, "{} inputs", cases.len());
    for (what, bytes) in &cases {
        for validate in [true, false] {
            let opts = ReadOptions { validate };
            let whole = x12_trace(bytes, &mut |on| read_with(bytes, &g, opts, on));
            // Chunks of 1, 7 and 4,096 bytes asked of the source, and a source that gives
            // short reads under the default chunk.
            for n in [1u64, 7, 4096] {
                let streamed = x12_trace(bytes, &mut |on| {
                    read_from_sized(&mut Trickle(bytes, usize::MAX), &g, opts, on, n, MAX_INTERCHANGE_BYTES)
                        .expect("read")
                });
                same(&whole, &streamed, &format!("{what}, chunks of {n} bytes"));
            }
            for n in [1usize, 7, 4096] {
                let streamed = x12_trace(bytes, &mut |on| {
                    entrywatch::parse::x12::read_from(&mut Trickle(bytes, n), &g, opts, on).expect("read")
                });
                same(&whole, &streamed, &format!("{what}, {n} bytes per read"));
            }
            if !validate && bytes.len() > 100_000 {
                break;
            }
        }
    }
}

#[test]
fn an_x12_interchange_above_the_bound_is_an_error_not_an_allocation() {
    use entrywatch::parse::x12::{read_from_sized, read_with, ReadOptions, X12Event};
    let g = entrywatch::grammar::Grammars::embedded().expect("grammars");
    let x12 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12");
    let one = std::fs::read_to_string(x12.join("350-holds-exam-release.x12")).unwrap();
    let big =
        one.replace("000000101", "000000102").replace("K1*INTENSIVE EXAM REQUIRED~\n", &"K1*FILLER~\n".repeat(400));
    let file = format!("{one}{big}{one}");
    // Whole: three interchanges read.
    let mut starts = 0;
    let whole = read_with(file.as_bytes(), &g, ReadOptions::default(), &mut |ev| {
        starts += usize::from(matches!(ev, X12Event::InterchangeStart(_)));
    });
    assert_eq!((starts, whole.interchanges), (3, 3));
    // Streamed with a 2,048-byte bound: the first is read, the second (about 4,800 bytes) is
    // X12E025 at its ISA and nothing after it is read.
    let mut starts = Vec::new();
    let out = read_from_sized(
        &mut file.as_bytes(),
        &g,
        ReadOptions::default(),
        &mut |ev| {
            if let X12Event::InterchangeStart(h) = ev {
                starts.push(h.control_number.clone());
            }
        },
        512,
        2048,
    )
    .expect("read");
    assert_eq!(starts, vec!["000000101".to_string()]);
    let e = out.diagnostics.iter().find(|d| d.code == "X12E025").expect("X12E025");
    assert!(e.is_error());
    assert_eq!((e.line, e.byte), (17, one.len()), "{e:?}");
}

/// An interchange of more segments than a streamed read holds (`MAX_INTERCHANGE_SEGMENTS`)
/// is X12E025 though its bytes are under the byte bound: 2,000,001 three-byte `K1` segments
/// would otherwise cost about 150 MB of segments in one set.
#[test]
fn an_interchange_of_too_many_segments_is_not_held() {
    use entrywatch::parse::x12::{read_from, ReadOptions, X12Event, MAX_INTERCHANGE_BYTES, MAX_INTERCHANGE_SEGMENTS};
    let g = entrywatch::grammar::Grammars::embedded().expect("grammars");
    let x12 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12");
    let one = std::fs::read_to_string(x12.join("350-holds-exam-release.x12")).unwrap();
    let filler = "K1~".repeat(MAX_INTERCHANGE_SEGMENTS + 1);
    let big = one.replace("000000101", "000000102").replace("K1*INTENSIVE EXAM REQUIRED~\n", &filler);
    assert!(big.len() < MAX_INTERCHANGE_BYTES);
    let file = format!("{one}{big}");
    let mut sets = 0;
    let out = read_from(&mut file.as_bytes(), &g, ReadOptions::default(), &mut |ev| {
        sets += usize::from(matches!(ev, X12Event::Transaction(_)));
    })
    .expect("read");
    let e = out.diagnostics.iter().find(|d| d.code == "X12E025").expect("X12E025");
    assert!(e.message.contains("segments"), "{e:?}");
    assert_eq!(e.byte, one.len(), "at the second interchange's ISA");
    assert_eq!(out.interchanges, 1, "the first interchange is read, the big one is not");
    assert!(sets >= 1);
}

/// One 350 interchange (ISA13 `n`) with an X4 for each `(entry, code, time)` and its K1
/// (samples/x12/350-holds-exam-release.x12 for the layout).
fn interchange_350(n: u32, ack_requested: bool, x4s: &[(u32, &str, &str)]) -> String {
    let mut body = String::new();
    for (tx, code, time) in x4s {
        body += &format!(
            "X4*MAEU123456789*100*01*EEE{}*20260203*{time}*{code}**MAEU~\nK1*CBP {code} AT {time}~\n",
            sample::entry_field("EEE", *tx)
        );
    }
    let segs = 4 + 2 * x4s.len();
    format!(
        "ISA*00*          *00*          *ZZ*ENTRYWATCHTEST *ZZ*CBPTEST        *260203*1012*^*00501*{n:09}*{}*T*:~\n\
         GS*AU*ENTRYWATCHTEST*CBPTEST*20260203*1012*{n}*X*005010~\nST*350*0001~\n\
         M10*MAEU*11*DK*9321483*MAERSK ESSEX*612W~\nP4*2704*20260201*100*2704~\n{body}SE*{segs}*0001~\n\
         GE*1*{n}~\nIEA*1*{n:09}~\n",
        u8::from(ack_requested)
    )
}

/// Interchanges for entries 2,000,000 + 0..n: a hold for each, its release in a later
/// interchange, and one interchange naming the same entry twice with the same code (a second
/// release, which must not be taken for the first).
fn interchanges_350(n: u32) -> Vec<String> {
    let mut v: Vec<String> = (0..n).map(|k| interchange_350(k + 1, false, &[(2_000_000 + k, "1H", "1012")])).collect();
    v.extend((0..n).map(|k| interchange_350(n + k + 1, false, &[(2_000_000 + k, "1C", "1530")])));
    v.push(interchange_350(2 * n + 1, false, &[(2_000_000, "1C", "1600"), (2_000_001, "1C", "1600")]));
    v
}

#[test]
fn an_x12_file_of_many_interchanges_gives_the_store_of_separate_files() {
    const N: u32 = 25;
    let aes: Vec<Vec<u8>> = (0..N).map(|k| sample::ae("EEE", 2_000_000 + k, "A")).collect();
    let x12 = interchanges_350(N);
    // One X12 file of 51 interchanges, its facts committed in chunks of 7 entries ...
    let one = Env::new();
    let p = one.drop_file("broker", "entries.abi", &aes.concat());
    ingest_ok(&one, &[p]);
    let p = one.drop_file("broker", "all.x12", x12.concat().as_bytes());
    let mut c = one.cmd();
    c.arg("ingest").arg("--move").arg("--config").arg(one.config()).args(["--inbox", "broker"]).arg(&p);
    c.env("ENTRYWATCH_INGEST_CHUNK", "7");
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("quarantined"));
    // ... and the same interchanges in 51 files.
    let many = Env::new();
    let p = many.drop_file("broker", "entries.abi", &aes.concat());
    ingest_ok(&many, &[p]);
    let paths: Vec<PathBuf> = x12
        .iter()
        .enumerate()
        .map(|(i, ic)| many.drop_file("broker", &format!("ic-{i:03}.x12"), ic.as_bytes()))
        .collect();
    ingest_ok(&many, &paths);
    assert_eq!(one.entries().len(), N as usize);
    assert_eq!(one.entries(), many.entries());
    for k in 0..N {
        let e = sample::entry_display("EEE", 2_000_000 + k);
        let got = entry_content(&one, &e);
        assert_eq!(got["release"]["released"], serde_json::Value::Bool(true), "{e}: {got}");
        assert_eq!(got, entry_content(&many, &e), "{e}");
    }
    // The repeated release of one interchange is a fact of its own, with its own record.
    let first = one.entry_json(&sample::entry_display("EEE", 2_000_000)).to_string();
    assert!(first.matches("1600").count() >= 1, "{first}");
    assert_eq!(one.files_under("archive").iter().filter(|f| f.ends_with("all.x12")).count(), 1);
    // `rebuild` replays the archive the same streamed way: the same store, sources included.
    let before = one.dump();
    let o = one.cmd().args(["rebuild", "--config"]).arg(one.config()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(one.dump(), before);
}

#[test]
fn a_bad_set_in_the_last_x12_interchange_applies_nothing() {
    let mut x12 = interchanges_350(20);
    // The last interchange's X4 has an invalid date (X12E067): the file is quarantined.
    let last = x12.pop().unwrap().replace("*20260203*1600*", "*20261303*1600*");
    x12.push(last);
    let env = Env::new();
    let p = env.drop_file("broker", "all.x12", x12.concat().as_bytes());
    let mut c = env.cmd();
    c.arg("ingest").arg("--move").arg("--config").arg(env.config()).args(["--inbox", "broker"]).arg(&p);
    c.env("ENTRYWATCH_INGEST_CHUNK", "1");
    let o = c.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("quarantined"), "{out}");
    assert!(env.entries().is_empty(), "nothing of the 40 good interchanges was committed");
    assert!(env.files_under("archive").iter().all(|f| !f.ends_with(".x12")));
    let q = env.files_under("quarantine");
    let report = q.iter().find(|f| f.ends_with(".error.txt")).expect("a report");
    let text = std::fs::read_to_string(env.data().join("quarantine").join(report)).unwrap();
    assert!(text.contains("X12E067"), "{text}");
}

#[test]
fn acks_of_a_streamed_x12_file_are_those_of_the_whole_file() {
    // Several interchanges: plain, one asking for a TA1, one with a set error (AK3/AK4, the
    // file is quarantined but acknowledged), one without its IEA, a segment outside a set
    // (TA105 024 from a diagnostic), a repeated ISA13 (TA105 025).
    let plain = interchange_350(1, false, &[(2_000_000, "1H", "1012")]);
    let ta1 = interchange_350(2, true, &[(2_000_001, "1H", "1012")]);
    let bad = interchange_350(3, false, &[(2_000_002, "1H", "1012")]).replace("*20260203*1012*1H", "*20261303*1012*1H");
    let stray = interchange_350(4, false, &[(2_000_003, "1H", "1012")]).replace("GE*1*4~\n", "GE*1*4~\nREF*XX~\n");
    let no_iea = interchange_350(5, false, &[(2_000_004, "1C", "1012")]).replace("IEA*1*000000005~\n", "");
    let repeated = interchange_350(1, true, &[(2_000_005, "1H", "1012")]);
    let file = [plain, ta1, bad, stray, no_iea, repeated].concat();
    let env = Env::new().at("2026-03-02T09:30:00-05:00");
    env.inbox_keys("broker", &format!("ack-dir = {:?}\nack-kind = \"997\"", env.path("out")));
    let p = env.drop_file("broker", "many.x12", file.as_bytes());
    let o = env.ingest("broker", &[p]);
    assert_eq!(o.status.code(), Some(1), "quarantined: {}", String::from_utf8_lossy(&o.stderr));
    let streamed: Vec<(String, Vec<u8>)> = common::names_in(&env.path("out"))
        .into_iter()
        .map(|n| {
            let b = std::fs::read(env.path("out").join(&n)).unwrap();
            (n, b)
        })
        .collect();
    // The whole-file path: the bytes handed to the acknowledgment module, into a fresh store.
    let dir = tempfile::tempdir().unwrap();
    let store = entrywatch::store::Store::open(&dir.path().join("store")).unwrap();
    let inbox: entrywatch::config::Inbox = toml::from_str(&format!(
        "name = \"broker\"\npath = \"/nonexistent\"\nrole = \"broker\"\nack-dir = {:?}\nack-kind = \"997\"\n",
        dir.path().join("out")
    ))
    .unwrap();
    let received = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).and_then(|d| d.and_hms_opt(9, 30, 0)).unwrap();
    let sha = entrywatch::ingest::sha256_hex(file.as_bytes());
    let g = entrywatch::grammar::Grammars::embedded().expect("grammars");
    let f = entrywatch::ack::ReceivedFile { name: "many.x12", sha256: &sha, received, entries: Vec::new() };
    let sent = entrywatch::ack::acknowledge_file(&store, &inbox, &g, file.as_bytes(), &f).unwrap();
    let mut whole: Vec<(String, Vec<u8>)> = sent.into_iter().map(|a| (a.file, a.bytes)).collect();
    whole.sort();
    assert!(whole.len() >= 5, "{:?}", whole.iter().map(|w| &w.0).collect::<Vec<_>>());
    let text = |v: &[(String, Vec<u8>)]| -> Vec<(String, String)> {
        v.iter().map(|(n, b)| (n.clone(), String::from_utf8_lossy(b).to_string())).collect()
    };
    assert_eq!(text(&streamed), text(&whole));
    let all: String = whole.iter().map(|(_, b)| String::from_utf8_lossy(b).to_string()).collect();
    assert!(all.contains("TA1*000000002") && all.contains("*025~") && all.contains("*024~"), "{all}");
    assert!(all.contains("AK5*R"), "{all}");
}

#[test]
fn parse_of_a_file_on_disk_is_parse_of_its_bytes() {
    // `entrywatch parse` reads ABI and X12 streamed: its result (text and JSON) is the one of
    // the whole bytes, for every X12 input above and the ABI samples.
    let g = entrywatch::grammar::Grammars::embedded().expect("grammars");
    let dir = tempfile::tempdir().unwrap();
    let mut cases = x12_cases();
    let abi = std::fs::read_dir(common::samples()).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_file());
    cases.extend(abi.map(|p| (p.display().to_string(), std::fs::read(&p).unwrap())));
    cases.push(("many ABI batches".into(), batches(300).concat()));
    for (i, (what, bytes)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("f{i}"));
        std::fs::write(&p, bytes).unwrap();
        let whole = entrywatch::parse::parse_file("f", bytes, &g);
        let streamed = entrywatch::parse::parse_path("f", &p, &g).expect("read");
        assert_eq!(serde_json::to_string(&whole).unwrap(), serde_json::to_string(&streamed).unwrap(), "{what}");
        assert_eq!(
            entrywatch::cli::parse::render_text(&whole),
            entrywatch::cli::parse::render_text(&streamed),
            "{what}"
        );
    }
}

#[test]
fn an_x12_interchange_above_64_mib_is_quarantined_unread() {
    // A good interchange, then one 350 of 66 MiB of filler K1 segments, on an inbox whose
    // max-file-bytes lets the file in: the streamed reader stops at the bound (X12E025), the
    // file is quarantined, nothing is applied.
    let env = Env::new();
    env.inbox_keys("broker", "max-file-bytes = 104857600");
    let good = interchange_350(1, false, &[(2_000_000, "1H", "1012")]);
    let mut big = interchange_350(2, false, &[(2_000_001, "1H", "1012")]);
    let filler = "K1*FILLER~\n".repeat(66 * 1024 * 1024 / 11);
    big = big.replacen("M10*", &format!("{filler}M10*"), 1);
    let p = env.drop_file("broker", "huge.x12", format!("{good}{big}").as_bytes());
    let o = env.ingest("broker", &[p]);
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("quarantined"), "{out}");
    assert!(env.entries().is_empty());
    let q = env.files_under("quarantine");
    let report = q.iter().find(|f| f.ends_with(".error.txt")).expect("a report");
    let text = std::fs::read_to_string(env.data().join("quarantine").join(report)).unwrap();
    assert!(text.contains("X12E025"), "{text}");
    assert!(q.iter().any(|f| f.ends_with("huge.x12")), "the file is kept whole: {q:?}");
}
