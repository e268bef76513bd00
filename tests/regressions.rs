//! Regression pins: each test is named after a defect that was fixed (the commit is named in
//! its comment) and drives the real code path it was found on (the real binary on a real
//! store for CLI and ingest defects), asserting the fixed behaviour, never a timing.

mod common;

use common::{names_in, Env};
use entrywatch::grammar::Grammars;
use entrywatch::parse::{sniff, Format};
use entrywatch::source::complete::{check_file, Completeness};
use serde_json::Value;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The life samples' entry (samples/abi/life-*.abi).
const LIFE: &str = "EEE-1234567-3";

/// ecfcc47: an ES-003 export (CSV) was sniffed as an 80-column ABI extract, so the daemon's
/// completeness check waited for a Z record that never comes and the file was never taken.
#[test]
fn an_es003_csv_is_not_held_back_waiting_for_an_abi_z_record() {
    let csv = repo().join("samples/ace/es003-life.csv");
    let bytes = std::fs::read(&csv).unwrap();
    assert_ne!(sniff(&bytes), Format::Abi, "the ES-003 export is not an ABI extract");
    assert_eq!(check_file(&csv).unwrap(), Completeness::Complete, "a whole ES-003 export is complete");
}

/// c3af4d8: every CLI command loaded (and checked) the embedded grammars again, several times
/// per process; they are loaded once per process and shared.
#[test]
fn the_embedded_grammars_are_loaded_once_per_process() {
    let a = Grammars::embedded_shared().expect("embedded grammars load");
    let b = Grammars::embedded_shared().expect("embedded grammars load");
    assert!(std::ptr::eq(a, b), "a second load made a second copy");
}

/// aad2f6c: a quarantine interrupted after its report was written (the file not yet moved
/// beside it) left an orphan report; the retry then quarantined the file as `bad.txt.1` with a
/// second report. It now reuses the orphan, ending as an uninterrupted run would.
#[test]
fn quarantine_after_a_crash_reuses_its_orphan_report() {
    let env = Env::new();
    let work = env.data().join("work/broker");
    let quarantine = env.data().join("quarantine/broker");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&quarantine).unwrap();
    // The state a crash between the report and the move leaves: the file claimed in work/, its
    // report alone in quarantine/.
    std::fs::write(work.join("bad.txt"), b"not a customs file\n").unwrap();
    std::fs::write(quarantine.join("bad.txt.error.txt"), b"report of the interrupted run\n").unwrap();
    let o = env.ingest("broker", &[]);
    assert_eq!(o.status.code(), Some(1), "the claimed file is quarantined: {}", stderr(&o));
    assert_eq!(names_in(&quarantine), ["bad.txt", "bad.txt.error.txt"]);
    assert!(names_in(&work).is_empty());
    let report = std::fs::read_to_string(quarantine.join("bad.txt.error.txt")).unwrap();
    assert!(!report.contains("interrupted run"), "the orphan report was rewritten: {report}");

    // 92d6aa1: another file of the same name never takes, nor overwrites, a quarantined file's report.
    let p = env.drop_file("broker", "bad.txt", b"another file that is not a customs file\n");
    let o = env.ingest("broker", &[p]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(names_in(&quarantine), ["bad.txt", "bad.txt.1", "bad.txt.1.error.txt", "bad.txt.error.txt"]);
    assert_eq!(std::fs::read_to_string(quarantine.join("bad.txt.error.txt")).unwrap(), report);
}

/// aad2f6c and 454ab93: `--from` after `--to` was refused by one report only; the others
/// returned an empty report. Every report refuses it, from the store and from `--entries-dir`.
#[test]
fn every_report_refuses_from_after_to() {
    let env = Env::new();
    let docs = env.root().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let names = [
        "entry-summary",
        "liquidation",
        "rejected",
        "anomalies",
        "statements",
        "brokers",
        "recovery",
        "three-way",
        "affected",
    ];
    for name in names {
        for entries_dir in [None, Some(&docs)] {
            let mut c = env.cmd();
            c.args(["report", name, "--from", "2026-03-01", "--to", "2026-02-01", "--config"]).arg(env.config());
            if let Some(d) = entries_dir {
                c.arg("--entries-dir").arg(d);
            }
            let o = c.output().unwrap();
            let what = format!("report {name} (entries-dir: {})", entries_dir.is_some());
            assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
            assert!(stderr(&o).contains("after --to"), "{what}: {}", stderr(&o));
        }
    }
}

/// b418996: the index kept a key an entry no longer had (a status posting from an earlier
/// file), so `entries --status` listed the entry under an old status too. Through the whole
/// life of an entry, each status listing holds the entry exactly when `entry --json` says it
/// has that status.
#[test]
fn an_entry_is_listed_only_under_the_statuses_it_has_now() {
    let env = Env::new();
    let dimensions: [(&str, &[&str]); 3] = [
        ("summary", &["filed", "accepted", "rejected", "deleted"]),
        ("release", &["pending", "held", "released", "cancelled"]),
        ("liquidation", &["unliquidated", "scheduled", "liquidated", "extended", "suspended"]),
    ];
    let listed = |status: &str| -> bool {
        let o =
            env.cmd().args(["entries", "--json", "--status", status, "--config"]).arg(env.config()).output().unwrap();
        assert!(o.status.success(), "entries --status {status}: {}", stderr(&o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array().unwrap().iter().any(|r| r["entry"] == LIFE)
    };
    let mut seen = std::collections::BTreeSet::new();
    for name in common::life_names() {
        let inbox = if name.starts_with("life-00") { "approved" } else { "broker" };
        let p = env.drop_file(inbox, &name, &std::fs::read(common::samples().join(&name)).unwrap());
        let o = env.ingest(inbox, &[p]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        if name.starts_with("life-00") {
            continue; // a pre-entry alone is no entry yet
        }
        let doc = env.entry_json(LIFE);
        for (dim, statuses) in dimensions {
            let now = doc[dim]["status"].as_str().unwrap_or_default().to_string();
            for s in statuses {
                assert_eq!(listed(s), now == *s, "after {name}: {dim} is {now:?}; listed under {s}?");
            }
            seen.insert(format!("{dim}:{now}"));
        }
    }
    // The life moves through several statuses of each kind, so stale postings would show.
    assert!(seen.len() >= 6, "{seen:?}");
}

/// 8f40bdf: an ES-003 export none of whose rows names a readable entry was taken as an empty
/// export; it is quarantined with ACE006 (it cannot be tied to an entry).
#[test]
fn an_ace_export_that_names_no_readable_entry_is_quarantined() {
    let env = Env::new();
    env.add_inbox("ace", "ace");
    let text = std::fs::read_to_string(repo().join("samples/ace/es003-life.csv")).unwrap();
    let mut lines = text.lines();
    let mut bad = format!("{}\n", lines.next().unwrap());
    for l in lines {
        let (_, rest) = l.split_once(',').unwrap();
        bad.push_str(&format!("NOT-AN-ENTRY,{rest}\n"));
    }
    let p = env.drop_file("ace", "es003-unreadable.csv", bad.as_bytes());
    let o = env.ingest("ace", &[p]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let q = env.data().join("quarantine/ace");
    assert_eq!(names_in(&q), ["es003-unreadable.csv", "es003-unreadable.csv.error.txt"]);
    let report = std::fs::read_to_string(q.join("es003-unreadable.csv.error.txt")).unwrap();
    assert!(report.contains("ACE006"), "{report}");
    assert!(env.entries().is_empty(), "nothing applied");
}

/// f0b9e8c: hostile bytes in a refund-results inbox could panic the reader, and a result file
/// of which nothing applied was taken as done. Now: no panic, quarantined with its reason.
#[test]
fn a_refund_result_file_that_applies_nothing_is_quarantined_never_a_panic() {
    let env = Env::new();
    env.add_inbox("results", "refund-results");
    let mut hostile: Vec<u8> = b"Entry Number,Status\n".to_vec();
    hostile.extend((0..=255u8).cycle().take(4096));
    let files = [
        ("no-entries.csv", std::fs::read(repo().join("samples/recovery/results/broken-no-entries.csv")).unwrap()),
        ("hostile.csv", hostile),
        ("empty.csv", Vec::new()),
    ];
    for (name, bytes) in &files {
        let p = env.drop_file("results", name, bytes);
        let o = env.ingest("results", &[p]);
        assert_eq!(o.status.code(), Some(1), "{name}: not applied is an error: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{name}: {}", stderr(&o));
        let report = env.data().join("quarantine/results").join(format!("{name}.error.txt"));
        assert!(report.is_file(), "{name}: quarantined with a report");
    }
}

/// d270a7b: a journal line was written in pieces, so a crash could leave half a line that the
/// next start misread. Every line of the journal after a run is whole and names its file.
#[test]
fn journal_lines_are_whole_and_each_names_its_file() {
    let env = Env::new();
    let mut files = Vec::new();
    for name in common::life_names().into_iter().skip(1) {
        files.push(env.drop_file("broker", &name, &std::fs::read(common::samples().join(&name)).unwrap()));
    }
    let o = env.ingest("broker", &files);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let journals: Vec<String> = env.files_under("archive").into_iter().filter(|f| f.ends_with("journal.log")).collect();
    assert!(!journals.is_empty(), "a journal was written");
    let mut lines = 0;
    for j in journals {
        let path = env.data().join("archive").join(&j);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'), "{j}: a half-written last line");
        for l in text.lines() {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{j}: not a whole line ({e}): {l}"));
            assert!(v["name"].as_str().is_some_and(|n| n.starts_with("life-")), "{j}: {l}");
            lines += 1;
        }
        assert_eq!(entrywatch::ingest::read_journal(&path).len(), text.lines().count(), "{j}: read back");
    }
    assert_eq!(lines, files.len(), "one journal line per file");
}

/// A fact's identity is its file and record; an X12 fact's record was its segment's place in
/// its own transaction set, so in a file of two interchanges (or two sets) the second one's
/// X4 at the same place, with the same code but a later date, was taken for the first one's
/// and dropped: CBP's later release never reached the entry.
#[test]
fn a_later_disposition_in_a_second_interchange_of_one_file_is_not_dropped() {
    let first = std::fs::read_to_string(repo().join("samples/x12/350-holds-exam-release.x12")).unwrap();
    let later = "*20260210*0800*1C**";
    let second = first
        .replace("000000101", "000000102")
        .replace("*101*", "*102*")
        .replace("GE*1*101", "GE*1*102")
        .replace("*20260203*1012*1C**", later);
    assert!(second.contains(later), "the sample's 1C release moved to 2026-02-10");
    let env = Env::new();
    let p = env.drop_file("broker", "two.x12", format!("{first}{second}").as_bytes());
    let o = env.ingest("broker", &[p]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = env.entry_json(LIFE);
    let releases: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["code"] == "X407:1C")
        .filter_map(|e| e["at"].as_str())
        .collect();
    assert!(releases.iter().any(|a| a.starts_with("2026-02-03T10:12")), "{releases:?}");
    assert!(
        releases.iter().any(|a| a.starts_with("2026-02-10T08:00")),
        "the second interchange's release: {releases:?}"
    );
}

/// An X12 file of N interchanges, one entry each, on an inbox with an `ack-dir` wrote under
/// every entry the list of all N replies: N x N names (a 10 MB file of 350s, 28,000
/// interchanges: 28 GB of store, and a full disk). The per-entry index is its keys alone.
#[test]
fn the_ack_index_of_a_file_of_many_interchanges_grows_with_the_file_not_its_square() {
    const N: u32 = 300;
    let mut file = String::new();
    for k in 0..N {
        file.push_str(&entrywatch::ingest::sample::x12_350_hold(u64::from(k) + 1, 3_000_000 + k));
    }
    let env = Env::new();
    let acks = env.root().join("acks");
    std::fs::create_dir_all(&acks).unwrap();
    let cfg = std::fs::read_to_string(env.config())
        .unwrap()
        .replace("role = \"broker\"\n", &format!("role = \"broker\"\nack-dir = {:?}\n", acks.display().to_string()));
    std::fs::write(env.config(), cfg).unwrap();
    let p = env.drop_file("broker", "many.x12", file.as_bytes());
    let o = env.ingest("broker", &[p]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(names_in(&acks).len(), N as usize, "one 997 per interchange");
    let store = entrywatch::store::Store::open(&env.data().join("store")).unwrap();
    let index: Vec<(Vec<u8>, Value)> =
        store.scan_prefix::<Value>(entrywatch::store::Table::Acks, b"entry|").collect::<Result<_, _>>().unwrap();
    assert_eq!(index.len(), N as usize, "one index key per entry");
    for (k, v) in &index {
        assert!(v.to_string().len() < 16, "{}: {v}", String::from_utf8_lossy(k));
    }
    // Every entry still finds its file's acknowledgments.
    let first = entrywatch::ingest::sample::entry_field("EEE", 3_000_000);
    assert_eq!(entrywatch::ack::acks_for_entry(&store, &format!("EEE{first}")).unwrap().len(), 1);
}
