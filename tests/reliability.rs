//! Kill-and-restart: `entrywatch ingest` is aborted at named crash points (ENTRYWATCH_CRASH_AT)
//! and SIGKILLed after random delays, restarted until done, and the store must equal an
//! uninterrupted run's: no file lost, none applied twice. Bounded to well under 60 s. The crash
//! points need the `crash-points` feature (`cargo test --features crash-points`, as scripts/test).

mod common;

use common::Env;
use entrywatch::ingest::sample;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

const ENTRIES: u32 = 6;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for k in 0..ENTRIES {
        v.extend(sample::life_files("EEE", 2000001 + k));
    }
    // The same bytes under another name, and a malformed file.
    let dup = v[0].1.clone();
    v.push(("zz-duplicate-of-ae.txt".to_string(), dup));
    // A control byte in the JB record: broken framing, quarantined (a bad date alone is applied with a warning).
    let bad = String::from_utf8(sample::er("EEE", 2000001, true)).unwrap().replace("121126", "13\u{1}126");
    v.push(("bad-er.txt".to_string(), bad.into_bytes()));
    v.sort();
    v
}

fn remaining(env: &Env) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(env.inbox("broker")).unwrap().flatten().map(|e| e.path()).collect();
    v.sort();
    v
}

fn setup() -> Env {
    let env = Env::new();
    for (n, b) in corpus() {
        env.drop_file("broker", &n, &b);
    }
    env
}

enum Interrupt {
    CrashAt(String),
    KillAfter(Duration),
}

/// Run ingest with one interruption, then restart (no interruption) until nothing is left.
fn run_interrupted(env: &Env, how: Interrupt, batch: usize) -> bool {
    let files = remaining(env);
    let mut c = env.cmd();
    c.env("ENTRYWATCH_INGEST_BATCH", batch.to_string());
    c.arg("ingest").arg("--move").arg("--config").arg(env.config()).args(["--inbox", "broker"]).args(&files);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let interrupted = match how {
        Interrupt::CrashAt(p) => {
            let st = c.env("ENTRYWATCH_CRASH_AT", p).status().unwrap();
            st.code() != Some(0) && st.code() != Some(1)
        }
        Interrupt::KillAfter(d) => {
            let mut child = c.spawn().unwrap();
            std::thread::sleep(d);
            let done = child.try_wait().unwrap().is_some();
            let _ = child.kill();
            let _ = child.wait();
            !done
        }
    };
    for _ in 0..5 {
        let files = remaining(env);
        let o = env.ingest("broker", &files);
        assert!(matches!(o.status.code(), Some(0) | Some(1)), "restart failed: {}", String::from_utf8_lossy(&o.stderr));
        if remaining(env).is_empty() && env.files_under("work").is_empty() {
            break;
        }
    }
    interrupted
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn killed_ingest_loses_nothing_and_applies_nothing_twice() {
    common::require_crash_points();
    let start = Instant::now();
    let base = setup();
    let t0 = Instant::now();
    let mut c = base.cmd();
    c.arg("ingest").arg("--move").arg("--config").arg(base.config()).args(["--inbox", "broker"]).args(remaining(&base));
    let o = c.env("ENTRYWATCH_INGEST_BATCH", "1").output().unwrap();
    let full_run = t0.elapsed();
    assert_eq!(o.status.code(), Some(1), "the malformed file is quarantined: {}", String::from_utf8_lossy(&o.stderr));
    let expected = base.dump();
    assert_eq!(expected.len(), ENTRIES as usize);
    let expected_archive: Vec<String> =
        base.files_under("archive").into_iter().filter(|f| !f.ends_with("journal.log")).collect();
    assert_eq!(expected_archive.len(), ENTRIES as usize * 5);
    let expected_quarantine = base.files_under("quarantine");
    assert_eq!(expected_quarantine, vec!["broker/bad-er.txt", "broker/bad-er.txt.error.txt"]);

    let check = |env: &Env, what: &str| {
        assert!(remaining(env).is_empty(), "{what}: files left in the inbox");
        assert!(env.files_under("work").is_empty(), "{what}: files left in work/");
        let archive: Vec<String> =
            env.files_under("archive").into_iter().filter(|f| !f.ends_with("journal.log")).collect();
        assert_eq!(archive, expected_archive, "{what}: archive differs");
        assert_eq!(env.files_under("quarantine"), expected_quarantine, "{what}: quarantine differs");
        assert_eq!(env.dump(), expected, "{what}: store differs from the uninterrupted run");
    };

    let mut crashes = 0;
    // Per-file points with the default batch; batch points with batches of 4 files.
    for point in ["after-claim", "after-commit", "after-flush", "after-journal", "after-archive"] {
        let batch = if matches!(point, "after-flush" | "after-journal") { 4 } else { 256 };
        for n in [1, 3, 7] {
            let env = setup();
            let how = format!("{point}:{}", if batch == 4 { n } else { n * 4 - 2 });
            if run_interrupted(&env, Interrupt::CrashAt(how.clone()), batch) {
                crashes += 1;
            }
            check(&env, &how);
        }
    }
    assert!(crashes >= 12, "the crash points were reached ({crashes})");

    let mut rng = Lcg(0x5eed);
    let max_ms = (full_run.as_millis() as u64).max(20);
    eprintln!("uninterrupted run, one flush per file: {full_run:?}");
    let mut kills = 0;
    for k in 0..12 {
        let env = setup();
        let d = Duration::from_millis(rng.next() % max_ms);
        if run_interrupted(&env, Interrupt::KillAfter(d), if k % 2 == 0 { 1 } else { 8 }) {
            kills += 1;
        }
        check(&env, &format!("SIGKILL #{k} after {d:?}"));
    }
    eprintln!(
        "crash points hit: {crashes}; SIGKILLs mid-run: {kills}; full run {full_run:?}; total {:?}",
        start.elapsed()
    );
}

#[test]
fn rebuild_after_an_interrupted_run_matches() {
    common::require_crash_points();
    let env = setup();
    run_interrupted(&env, Interrupt::CrashAt("after-journal:3".into()), 2);
    let before = env.dump();
    let o = env.cmd().arg("rebuild").arg("--config").arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(env.dump(), before);
}

/// Entries in the many-entry file of the chunk tests, and the chunk size they run with.
const MANY: u32 = 130;
const CHUNK: &str = "40";

/// One entry's summary (AE) and its exam, FDA hold and release (SO: alerts), for `MANY` entries.
fn many_entries() -> Vec<(u32, Vec<u8>)> {
    (0..MANY)
        .map(|k| {
            let tx = 3000001 + k;
            let mut b = sample::ae("EEE", tx, "A");
            b.extend(sample::so_exam_fda_release("EEE", tx));
            (tx, b)
        })
        .collect()
}

/// A data dir whose config routes every alert (so the outbox fills).
fn env_with_routes() -> Env {
    let env = Env::new();
    let cfg = std::fs::read_to_string(env.config()).unwrap();
    let cfg = format!(
        "{cfg}[[route]]\nto = [\"c@example.com\"]\ncategories = [\"disposition\", \"rejection\", \"variance\", \"deadline\", \"statement\", \"liquidation\"]\nmin-severity = \"info\"\n"
    );
    std::fs::write(env.config(), cfg).unwrap();
    env
}

/// Every table of the store, key and value (read after the processes ended).
fn tables(env: &Env) -> Tables {
    use entrywatch::store::{Store, Table};
    let store = Store::open(&env.data().join("store")).unwrap();
    Table::ALL
        .iter()
        .map(|t| {
            let rows: Vec<(String, serde_json::Value)> = store
                .scan::<serde_json::Value>(*t)
                .map(|r| r.unwrap())
                .map(|(k, v)| (String::from_utf8_lossy(&k).to_string(), v))
                .collect();
            (t.name().to_string(), rows)
        })
        .map(|(t, mut rows)| {
            // The file's sequence number comes from the engine's id generator, which jumps
            // ahead after an unclean stop: its order is what counts, not its value.
            for (n, (k, v)) in rows.iter_mut().enumerate() {
                if t == "order" {
                    *k = n.to_string();
                }
                if t == "files" {
                    v.as_object_mut().map(|o| o.remove("seq"));
                }
            }
            (t, rows)
        })
        .collect()
}

type Tables = Vec<(String, Vec<(String, serde_json::Value)>)>;

/// Table by table, naming the first rows that differ.
fn same_tables(got: &Tables, want: &Tables, what: &str) {
    assert_eq!(got.len(), want.len());
    for ((t, a), (_, b)) in got.iter().zip(want) {
        let diff: Vec<_> = a.iter().zip(b).filter(|(x, y)| x != y).take(2).collect();
        assert!(
            a.len() == b.len() && diff.is_empty(),
            "{what}: table {t} differs from the clean run ({} rows, {} expected): {diff:?}",
            a.len(),
            b.len()
        );
    }
}

fn ingest_chunked(env: &Env, files: &[PathBuf], crash: Option<&str>) -> std::process::ExitStatus {
    let mut c = env.cmd();
    c.env("ENTRYWATCH_INGEST_CHUNK", CHUNK);
    if let Some(p) = crash {
        c.env("ENTRYWATCH_CRASH_AT", p);
    }
    c.arg("ingest").arg("--move").arg("--config").arg(env.config()).args(["--inbox", "broker"]).args(files);
    c.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap()
}

#[test]
fn a_file_of_many_entries_killed_between_its_chunks_ends_as_a_clean_run() {
    common::require_crash_points();
    let body: Vec<u8> = many_entries().into_iter().flat_map(|(_, b)| b).collect();
    let clean = env_with_routes();
    let f = clean.drop_file("broker", "many.abi", &body);
    assert_eq!(ingest_chunked(&clean, &[f], None).code(), Some(0));
    let expected = tables(&clean);
    let outbox = &expected.iter().find(|(t, _)| t == "outbox").unwrap().1;
    assert!(outbox.len() >= MANY as usize, "each entry's hold made an alert: {}", outbox.len());
    let files = &expected.iter().find(|(t, _)| t == "files").unwrap().1;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1["entries"].as_array().unwrap().len(), MANY as usize, "the record lists every entry");
    assert!(
        !expected.iter().any(|(t, rows)| t == "meta" && rows.iter().any(|(k, _)| k.starts_with("chunk|"))),
        "no chunk marker is left"
    );
    // 130 entries in chunks of 40: three intermediate commits, then the last with the record.
    for n in 1..=3 {
        let env = env_with_routes();
        let f = env.drop_file("broker", "many.abi", &body);
        let st = ingest_chunked(&env, &[f], Some(&format!("after-chunk:{n}")));
        assert_eq!(st.code(), None, "aborted after chunk {n}");
        assert_eq!(env.files_under("work"), vec!["broker/many.abi"], "the file stays claimed");
        assert!(env.files_under("archive").is_empty(), "nothing journaled or archived before the whole file");
        // The restart finishes the claimed file (its committed chunks are skipped).
        assert_eq!(ingest_chunked(&env, &[], None).code(), Some(0));
        assert!(env.files_under("work").is_empty());
        same_tables(&tables(&env), &expected, &format!("crash after chunk {n}"));
    }
}

#[test]
fn a_file_of_many_entries_gives_the_entries_of_one_file_per_entry() {
    let big = env_with_routes();
    let body: Vec<u8> = many_entries().into_iter().flat_map(|(_, b)| b).collect();
    let f = big.drop_file("broker", "many.abi", &body);
    assert_eq!(ingest_chunked(&big, &[f], None).code(), Some(0));
    let small = env_with_routes();
    let files: Vec<PathBuf> =
        many_entries().into_iter().map(|(tx, b)| small.drop_file("broker", &format!("e{tx}.abi"), &b)).collect();
    assert_eq!(ingest_chunked(&small, &files, None).code(), Some(0));
    let pick = |env: &Env, t: &str| tables(env).into_iter().find(|(n, _)| n == t).unwrap().1;
    // The entries' state and the links between them are the same; so is the number of alerts.
    let entries = pick(&big, "entries");
    assert_eq!(entries.len(), MANY as usize);
    assert_eq!(entries, pick(&small, "entries"));
    assert_eq!(pick(&big, "links"), pick(&small, "links"));
    assert_eq!(pick(&big, "outbox").len(), pick(&small, "outbox").len());
    let listed = |env: &Env| -> serde_json::Value {
        let o = env.cmd().args(["entries", "--json", "--config"]).arg(env.config()).output().unwrap();
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let rows = listed(&big);
    assert_eq!(rows.as_array().unwrap().len(), MANY as usize);
    assert_eq!(rows, listed(&small));
}
