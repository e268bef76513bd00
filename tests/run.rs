//! `entrywatch run` end to end: the real binary, the real ingest pipeline and sled store, files dropped into its inboxes — compared with `entrywatch ingest` of the same files; quarantine, resent bytes, SIGKILL mid-burst, and `run --demo`.
//!
//! Every wait is bounded and says what it was waiting for. The store cannot be read while the
//! daemon holds it (sled locks it), so every comparison is made after SIGTERM.

mod common;

use common::{archived, files_under, names_in, run_config_text, wait_until, RunningDaemon};
use common::{samples, Env, NOW};
use entrywatch::ingest::sample;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

const E: &str = "EEE-1234567-3";

/// A data dir and inboxes (the [`Env`] layout) whose config is made for `entrywatch run`.
fn daemon_env(settle: u64, grace: u64) -> Env {
    let env = Env::new();
    let text = run_config_text(&env.data(), &env.inbox("broker"), &env.inbox("approved"), settle, grace);
    std::fs::write(env.config(), text).unwrap();
    env
}

fn start(env: &Env) -> RunningDaemon {
    RunningDaemon::start(&env.config(), &env.root().join("run.log"), &[("ENTRYWATCH_NOW", NOW)])
}

/// A file to drop: (name, bytes).
type Dropped = (String, Vec<u8>);

fn sample(dir: &str, name: &str) -> Dropped {
    let p = samples().parent().unwrap().join(dir).join(name);
    (name.to_string(), std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

/// life-00 (the approved pre-entry, for the approved inbox) and life-01..09 (broker), in order.
fn life() -> (Dropped, Vec<Dropped>) {
    let names = common::life_names();
    let pre = sample("abi", &names[0]);
    assert!(pre.0.contains("approved"), "{}", pre.0);
    (pre, names[1..].iter().map(|n| sample("abi", n)).collect())
}

/// Drop files into an inbox one by one (written in place), 20 ms apart so their mtimes, which
/// set the daemon's order, follow the order given.
fn drop_in_order(env: &Env, inbox: &str, files: &[Dropped]) {
    for (n, b) in files {
        env.drop_file(inbox, n, b);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait until every `(inbox, name)` is archived; fail with what is missing and the log.
fn wait_archived(env: &Env, d: &RunningDaemon, want: &[(String, String)], secs: u64) {
    let ok = wait_until(Duration::from_secs(secs), || {
        let have = archived(&env.data());
        want.iter().all(|w| have.contains(w))
    });
    if !ok {
        let have = archived(&env.data());
        let missing: Vec<_> = want.iter().filter(|w| !have.contains(w)).collect();
        panic!(
            "not archived within {secs} s: {} of {}, e.g. {:?}\ninboxes: {:?} {:?}\nlog:\n{}",
            missing.len(),
            want.len(),
            missing.first(),
            names_in(&env.inbox("broker")),
            names_in(&env.inbox("approved")),
            d.log_tail()
        );
    }
}

fn pairs(inbox: &str, files: &[Dropped]) -> Vec<(String, String)> {
    files.iter().map(|(n, _)| (inbox.to_string(), n.clone())).collect()
}

fn entries_json(env: &Env) -> serde_json::Value {
    let o = env.cmd().args(["entries", "--json", "--config"]).arg(env.config()).output().unwrap();
    assert!(o.status.success(), "entries --json: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A second data dir fed the same files by `entrywatch ingest` (approved first, then broker).
fn ingest_reference(approved: &[Dropped], broker: &[Dropped]) -> Env {
    let r = Env::new();
    for (inbox, files) in [("approved", approved), ("broker", broker)] {
        if files.is_empty() {
            continue;
        }
        let paths: Vec<PathBuf> = files.iter().map(|(n, b)| r.drop_file(inbox, n, b)).collect();
        let o = r.ingest(inbox, &paths);
        assert!(matches!(o.status.code(), Some(0) | Some(1)), "ingest: {}", String::from_utf8_lossy(&o.stderr));
    }
    r
}

fn assert_drained(env: &Env, what: &str) {
    assert!(names_in(&env.inbox("broker")).is_empty(), "{what}: left in the broker inbox");
    assert!(names_in(&env.inbox("approved")).is_empty(), "{what}: left in the approved inbox");
    assert!(env.files_under("work").is_empty(), "{what}: left in work/: {:?}", env.files_under("work"));
}

/// The life samples (pre-entry into the approved inbox) and X12 350/355/353 samples dropped
/// into a running daemon give the same `entries --json` and `entry --json` as `ingest` of the
/// same files into another data dir, and the same archive.
#[test]
fn life_and_x12_samples_through_run_equal_ingest() {
    let env = daemon_env(0, 300);
    let d = start(&env);
    let (pre, life) = life();
    let mut broker = life;
    for n in ["350-holds-exam-release.x12", "355-acceptance.x12", "353-events.x12", "quirk-multi-interchange.x12"] {
        broker.push(sample("x12", n));
    }
    let approved = vec![pre];
    drop_in_order(&env, "approved", &approved);
    drop_in_order(&env, "broker", &broker);
    let mut want = pairs("approved", &approved);
    want.extend(pairs("broker", &broker));
    wait_archived(&env, &d, &want, 40);
    d.stop();
    assert_drained(&env, "run");
    assert!(env.files_under("quarantine").is_empty(), "quarantined: {:?}", env.files_under("quarantine"));

    let r = ingest_reference(&approved, &broker);
    let doc = env.entry_json(E);
    // Not two empty documents: the entry's whole life is there, from every ABI file.
    assert_eq!(doc["summary"]["status"], "accepted", "{doc:#}");
    let sources: Vec<&str> =
        doc["events"].as_array().unwrap().iter().filter_map(|e| e["source"]["file"].as_str()).collect();
    for (n, _) in approved.iter().chain(&broker).filter(|(n, _)| n.starts_with("life-")) {
        assert!(sources.contains(&n.as_str()), "no event from {n}: {sources:?}");
    }
    assert_eq!(doc, r.entry_json(E), "entry --json differs between run and ingest");
    assert_eq!(entries_json(&env), entries_json(&r), "entries --json differs between run and ingest");
    assert_eq!(env.dump(), r.dump(), "some entry differs between run and ingest");
    // Same clock (ENTRYWATCH_NOW), so even the dated archive paths are the same.
    assert_eq!(env.files_under("archive"), r.files_under("archive"));
}

/// The daemon serves the dashboard over its own store: after the life files are processed,
/// the overview and the entry page (over TCP on loopback) show the entry, its timeline and
/// charts, and /metrics counts the files.
#[test]
fn the_daemon_serves_the_dashboard_over_its_store() {
    let env = daemon_env(0, 300);
    let port = common::net::free_port();
    let text = std::fs::read_to_string(env.config())
        .unwrap()
        .replace("[dashboard]\nenabled = false\n", &format!("[dashboard]\nlisten = \"127.0.0.1:{port}\"\n"));
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    std::fs::write(env.config(), text).unwrap();
    let d = start(&env);
    let (pre, life) = life();
    drop_in_order(&env, "approved", std::slice::from_ref(&pre));
    drop_in_order(&env, "broker", &life);
    let mut want = pairs("approved", std::slice::from_ref(&pre));
    want.extend(pairs("broker", &life));
    wait_archived(&env, &d, &want, 40);
    let get = |path: &str| common::http::get_port(port, path);
    let (status, body) = get("/entries/EEE-1234567-3");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("EEE-1234567-3") && body.contains("<svg"), "entry page without its timeline chart");
    assert!(body.contains("life-01-ae-filed.abi"), "the audit trail names the source file");
    // The approved pre-entry differs on line 2's HTS: the page shows the variance as `entry` does.
    assert!(body.contains("major"), "the entry page shows the major variance");
    let (_, api) = get("/api/entries/EEE-1234567-3");
    assert!(api.contains("\"major\""), "the API carries the variance status: {api}");
    let (status, body) = get("/");
    assert_eq!(status, 200, "{body}");
    assert!(body.matches("<svg").count() >= 2, "overview charts");
    let (_, metrics) = get("/metrics");
    let processed = metrics
        .lines()
        .find_map(|l| l.strip_prefix("entrywatch_files_processed_total "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .expect("files processed metric");
    assert_eq!(processed, 10, "{metrics}");
    d.stop();
}

/// A malformed file among good ones goes to quarantine/<inbox>/ with its .error.txt and the
/// next file is processed; the same bytes again under another name (after a restart) leave
/// the inbox without changing the entry or adding to archive or quarantine.
#[test]
fn malformed_goes_to_quarantine_and_resent_bytes_are_a_no_op() {
    let env = daemon_env(0, 300);
    let d = start(&env);
    let (_, life) = life();
    let bad = sample("abi", "broken-y-count.abi");
    // Good, bad, good ... : the bad one is the third file.
    let mut files = life[..2].to_vec();
    files.push(bad.clone());
    files.extend(life[2..].iter().cloned());
    drop_in_order(&env, "broker", &files);
    wait_archived(&env, &d, &pairs("broker", &life), 40);
    let q = env.data().join("quarantine/broker");
    assert!(wait_until(Duration::from_secs(10), || q.join(&bad.0).is_file()), "{} not quarantined", bad.0);
    assert_eq!(names_in(&q), vec![bad.0.clone(), format!("{}.error.txt", bad.0)]);
    let report = std::fs::read_to_string(q.join(format!("{}.error.txt", bad.0))).unwrap();
    assert!(report.contains("cannot be read") && report.contains("error ABIE046"), "{report}");
    assert_eq!(std::fs::read(q.join(&bad.0)).unwrap(), bad.1, "the quarantined file is not the dropped bytes");
    d.stop();
    assert_drained(&env, "first run");
    let before = env.entry_json(E);
    let archive_before = env.files_under("archive");
    assert_eq!(before["summary"]["status"], "accepted");

    // The same bytes as life-03 under another name, to a restarted daemon.
    let d = start(&env);
    let resent = ("resent-so-exam.abi".to_string(), life[2].1.clone());
    env.drop_file("broker", &resent.0, &resent.1);
    assert!(
        wait_until(Duration::from_secs(20), || names_in(&env.inbox("broker")).is_empty()),
        "the resent file stayed in the inbox:\n{}",
        d.log_tail()
    );
    assert!(wait_until(Duration::from_secs(10), || d.log_text().contains("FileDuplicate")), "{}", d.log_tail());
    d.stop();
    assert_drained(&env, "second run");
    assert_eq!(env.entry_json(E), before, "the resent bytes changed the entry");
    assert_eq!(env.files_under("archive"), archive_before, "the resent bytes were archived again");
    assert_eq!(names_in(&q).len(), 2, "the resent bytes went to quarantine");

    // And the whole thing equals `ingest` of the good files alone.
    let r = ingest_reference(&[], &life);
    assert_eq!(env.entry_json(E), r.entry_json(E));
}

/// 60 entries' lives (AE, AX, SO, PF, ER: 300 files), the daemon SIGKILLed twice in the middle
/// of the burst (more files arriving while it is down) and restarted: every file archived
/// once, every file applied once (one processing-order record each), nothing left in the
/// inbox or work/, and every entry's facts equal to an uninterrupted `ingest` of the same files.
#[test]
fn sigkill_mid_burst_and_restart_stores_every_entry_once() {
    const ENTRIES: u32 = 60;
    let files: Vec<Dropped> = (0..ENTRIES)
        .flat_map(|k| sample::life_files("EEE", 3_000_001 + k * 7))
        .enumerate()
        .map(|(i, (n, b))| (format!("{i:03}-{n}"), b))
        .collect();
    let total = files.len();
    let env = daemon_env(0, 300);
    let mut d = start(&env);
    // The daemon takes ~650 files/s here (debug build): a big first burst and a kill as soon
    // as 20 more are archived leave plenty in flight.
    let first = 240;
    for (n, b) in &files[..first] {
        env.drop_file("broker", n, b);
    }
    let mut dropped = first;
    for round in 0..2 {
        let seen = archived(&env.data()).len();
        let end = std::time::Instant::now() + Duration::from_secs(30);
        while archived(&env.data()).len() < seen + 20 {
            assert!(std::time::Instant::now() < end, "round {round}: no progress\n{}", d.log_tail());
            std::thread::sleep(Duration::from_millis(2));
        }
        d.kill();
        let done = archived(&env.data()).len();
        assert!(done < dropped, "round {round}: the burst was over before the kill ({done} of {dropped})");
        eprintln!(
            "round {round}: SIGKILL with {done} of {dropped} files archived, {:?} in work/",
            env.files_under("work")
        );
        // More files arrive while the daemon is down.
        let more = (total - first) / 2;
        for (n, b) in &files[dropped..dropped + more] {
            env.drop_file("broker", n, b);
        }
        dropped += more;
        d = start(&env);
    }
    assert_eq!(dropped, total);
    wait_archived(&env, &d, &pairs("broker", &files), 60);
    d.stop();
    assert_drained(&env, "after the kills");
    assert!(env.files_under("quarantine").is_empty());
    let mut names: Vec<String> = archived(&env.data()).into_iter().map(|(_, n)| n).collect();
    names.sort();
    let mut want: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    want.sort();
    assert_eq!(names, want, "each file archived exactly once, under its own name");

    let r = ingest_reference(&[], &files);
    let rows = entries_json(&env);
    assert_eq!(rows.as_array().map(|a| a.len()), Some(ENTRIES as usize), "{rows:#}");
    assert_eq!(rows, entries_json(&r), "entries --json differs from the uninterrupted run");
    // Every entry's facts (its event log), read straight from both stores.
    let a = entrywatch::store::Store::open(&env.data().join("store")).unwrap();
    let b = entrywatch::store::Store::open(&r.data().join("store")).unwrap();
    use entrywatch::store::Table;
    assert_eq!(a.len(Table::Files), total, "file records");
    assert_eq!(a.len(Table::Order), total, "a file applied twice gets two processing-order records");
    assert_eq!(b.len(Table::Order), total);
    for row in rows.as_array().unwrap() {
        let en: entrywatch::entry_number::EntryNumber = row["entry"].as_str().unwrap().parse().unwrap();
        let (_, fa) = entrywatch::ingest::load_entry(&a, &en).unwrap().expect("entry in the daemon's store");
        let (_, fb) = entrywatch::ingest::load_entry(&b, &en).unwrap().expect("entry in the reference store");
        assert_eq!(fa.len(), fb.len(), "{en}: event count differs from the uninterrupted run");
        assert_eq!(serde_json::to_value(&fa).unwrap(), serde_json::to_value(&fb).unwrap(), "{en}: events differ");
        assert!(fa.len() >= 5, "{en}: {} events", fa.len());
    }
    drop((a, b));
    // And one entry through the CLI, as an operator would look.
    let one = rows[0]["entry"].as_str().unwrap();
    assert_eq!(env.entry_json(one), r.entry_json(one));
}

/// `run --demo` in an empty folder with the embedded default: the samples are seeded, every
/// one leaves the inboxes (the truncated ones after the demo's short grace), the broken ones
/// sit in quarantine with their error reports, EEE-1234567-3 is stored — the same outcome as
/// `ingest` of the same samples — and the JSON log ends with DaemonStopped and the store's
/// checkpoint (StoreCheckpointed: the next start opens without reading this run's log) on SIGTERM.
#[test]
fn run_demo_stores_the_samples_and_quarantines_the_broken_ones() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_entrywatch"))
        .args(["run", "--demo", "--log-format", "json"])
        .current_dir(dir.path())
        .env_remove("ENTRYWATCH_CONFIG")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("ENTRYWATCH_NOW")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let data = dir.path().join("entrywatch-data");
    let inboxes = [data.join("inbox/broker"), data.join("inbox/approved")];
    let samples: Vec<_> = entrywatch::source::demo::samples()
        .into_iter()
        .filter(|(rel, _)| entrywatch::source::demo::in_demo(rel))
        .collect();
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    let drained = wait_until(Duration::from_secs(60), || {
        text().contains("DaemonReady") && inboxes.iter().all(|i| names_in(i).is_empty())
    });
    if !drained {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(drained, "samples left in the inboxes after 60 s: {:?}\n{}", inboxes.map(|i| names_in(&i)), text());
    let st = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    assert_eq!(child.wait().unwrap().code(), Some(0), "{}", text());
    let err = text();
    for line in err.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"));
        // Daemon events are the message; the pipeline's carry an `event` field.
        assert!(v.get("level").is_some() && (v.get("message").is_some() || v.get("event").is_some()), "{line}");
    }
    for ev in ["DemoSeeded", "DemoGraceShortened", "DaemonReady", "FileTruncated", "DaemonStopped", "StoreCheckpointed"]
    {
        assert!(err.contains(ev), "no {ev} in the log:\n{err}");
    }

    // Every sample left the inboxes exactly once: archived, or quarantined with its report.
    let archived_names: Vec<String> = archived(&data).into_iter().map(|(_, n)| n).collect();
    let quarantined: Vec<String> = files_under(&data.join("quarantine"))
        .into_iter()
        .filter(|f| !f.ends_with(".error.txt"))
        .map(|f| f.rsplit('/').next().unwrap_or_default().to_string())
        .collect();
    for q in &quarantined {
        let report =
            files_under(&data.join("quarantine")).into_iter().find(|f| f.ends_with(&format!("/{q}.error.txt")));
        let report = report.unwrap_or_else(|| panic!("{q} quarantined without an .error.txt"));
        let body = std::fs::read_to_string(data.join("quarantine").join(report)).unwrap();
        assert!(body.contains("error "), "{q}: {body}");
    }
    for (rel, _) in &samples {
        let name = rel.replace('/', "-");
        let n =
            archived_names.iter().filter(|a| **a == name).count() + quarantined.iter().filter(|q| **q == name).count();
        assert_eq!(n, 1, "{name}: {n} times in archive + quarantine");
    }
    assert_eq!(archived_names.len() + quarantined.len(), samples.len(), "files that are not samples");
    for name in ["abi-broken-missing-z.abi", "x12-err-se-count.x12", "abi-broken-y-count.abi"] {
        assert!(quarantined.iter().any(|q| q == name), "{name} is not in quarantine: {quarantined:?}");
    }
    assert!(archived_names.iter().filter(|n| n.contains("life-")).count() == 10, "{archived_names:?}");

    // The same outcome, file by file, as `ingest` of the same samples into the same inboxes.
    let r = Env::new();
    for inbox in ["approved", "broker"] {
        let role =
            if inbox == "approved" { entrywatch::config::Role::Approved } else { entrywatch::config::Role::Broker };
        let paths: Vec<PathBuf> = samples
            .iter()
            .filter(|(rel, b)| entrywatch::source::demo::role_for(rel, b) == role)
            .map(|(rel, b)| r.drop_file(inbox, &rel.replace('/', "-"), b))
            .collect();
        let o = r.ingest(inbox, &paths);
        assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let ref_quarantined: Vec<String> = r
        .files_under("quarantine")
        .into_iter()
        .filter(|f| !f.ends_with(".error.txt"))
        .map(|f| f.rsplit('/').next().unwrap_or_default().to_string())
        .collect();
    let mut q_sorted = quarantined.clone();
    q_sorted.sort();
    let mut r_sorted = ref_quarantined;
    r_sorted.sort();
    assert_eq!(q_sorted, r_sorted, "run --demo and ingest quarantine different samples");

    // The store: entries are there, EEE-1234567-3 among them.
    let o = Command::new(env!("CARGO_BIN_EXE_entrywatch"))
        .args(["entries", "--json"])
        .current_dir(dir.path())
        .env_remove("ENTRYWATCH_CONFIG")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list: Vec<&str> = rows.as_array().unwrap().iter().filter_map(|r| r["entry"].as_str()).collect();
    assert!(list.contains(&E), "{E} not stored by the demo: {list:?}");
    let reference: Vec<String> = r.entries();
    let mut ours: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    ours.sort();
    let mut theirs = reference;
    theirs.sort();
    assert_eq!(ours, theirs, "run --demo and ingest store different entries");

    // The demo again in the same folder: nothing is seeded twice, nothing added anywhere.
    let before = (files_under(&data.join("archive")), files_under(&data.join("quarantine")));
    let log2 = dir.path().join("stderr2.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_entrywatch"))
        .args(["run", "--demo", "--log-format", "json"])
        .current_dir(dir.path())
        .env_remove("ENTRYWATCH_CONFIG")
        .env_remove("NOTIFY_SOCKET")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log2).unwrap())
        .spawn()
        .unwrap();
    let text2 = || std::fs::read_to_string(&log2).unwrap_or_default();
    let ready = wait_until(Duration::from_secs(30), || text2().contains("DaemonReady"));
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(ready, "second demo did not start:\n{}", text2());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let seeded: Vec<u64> = text2()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "DemoSeeded")
        .filter_map(|v| v["samples"].as_u64())
        .collect();
    assert_eq!(seeded, vec![0], "the second demo seeded samples again:\n{}", text2());
    assert_eq!((files_under(&data.join("archive")), files_under(&data.join("quarantine"))), before);
}

/// A second `run` on a data dir whose store a running daemon holds: one line, exit 2, and it
/// says the store is in use — not that it is damaged (no `rebuild`, which must not run then).
#[test]
fn a_second_run_on_the_same_data_dir_is_refused_clearly() {
    let env = daemon_env(0, 300);
    let d = start(&env);
    let o = env.cmd().args(["run", "--config"]).arg(env.config()).env("RUST_LOG", "error").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains("in use by another entrywatch process"), "{err}");
    assert!(!err.contains("rebuild"), "{err}");
    // A data command is not refused: the running daemon answers it (tests/cli_live.rs).
    let o = env.cmd().args(["entries", "--json", "--config"]).arg(env.config()).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "[]\n");
    // The first daemon is unaffected.
    let (_, life) = life();
    drop_in_order(&env, "broker", &life[..1]);
    wait_archived(&env, &d, &pairs("broker", &life[..1]), 20);
    d.stop();
}
