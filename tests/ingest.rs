//! Ingest end to end through the real binary: full-life samples, holds as a set, out-of-order
//! arrival, implicit delete, pre-entry matching, duplicates, quarantine, rebuild, store open check.

mod common;

use common::{samples, Env};
use entrywatch::ingest::sample;

const E: &str = "EEE-1234567-3";

fn life_samples() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(samples())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.starts_with("life-") && !n.contains("approved")
        })
        .map(|p| (p.file_name().unwrap().to_str().unwrap().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn full_life_samples_give_the_right_entry() {
    let env = Env::new();
    let files: Vec<_> = life_samples().iter().map(|(n, b)| env.drop_file("broker", n, b)).collect();
    assert!(files.len() >= 9, "samples/abi life files missing");
    let o = env.ingest("broker", &files);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j = env.entry_json(E);
    assert_eq!(j["entry"], E);
    assert_eq!(j["filer"], "EEE");
    assert_eq!(j["importer"], "12-345678900");
    assert_eq!(j["port"], "2704");
    assert_eq!(j["entry_type"], "01");
    assert_eq!(j["summary"]["status"], "accepted");
    assert_eq!(j["summary"]["version"], "00100");
    assert_eq!(j["release"]["status"], "released");
    assert_eq!(j["release"]["open_holds"].as_array().unwrap().len(), 0);
    assert_eq!(j["statement"]["number"], "2726041A01");
    assert_eq!(j["statement"]["status"], "final");
    assert_eq!(j["liquidation"]["status"], "liquidated");
    assert_eq!(j["variance"]["status"], "no-pre-entry");
    assert!(j["deadlines"].is_array());
    let events = j["events"].as_array().unwrap();
    assert!(events.len() >= 9);
    for ev in events {
        let f = ev["source"]["file"].as_str().unwrap();
        assert!(f.starts_with("life-"), "{ev}");
        assert!(ev["source"]["line"].as_u64().unwrap() >= 3, "{ev}");
        assert!(ev["at"].as_str().unwrap().starts_with("2026-"), "{ev}");
    }
    // Every file archived, nothing left in the inbox or work folder.
    assert_eq!(env.files_under("archive").iter().filter(|f| f.ends_with(".abi")).count(), files.len());
    assert!(env.files_under("work").is_empty());
    assert!(std::fs::read_dir(env.inbox("broker")).unwrap().next().is_none());
    // Human output names state, holds and the timeline.
    let o = env.cmd().args(["entry", E, "--config"]).arg(env.config()).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Release: released") && text.contains("Timeline:") && text.contains("life-01-ae-filed.abi"));
}

#[test]
fn holds_are_a_set_and_arrival_order_does_not_matter() {
    let files = [
        ("ae.txt".to_string(), sample::ae("EEE", 1234567, "A")),
        ("ax.txt".to_string(), sample::ax("EEE", 1234567, true, "020226")),
        ("so.txt".to_string(), sample::so_exam_fda_release("EEE", 1234567)),
        ("er.txt".to_string(), sample::er("EEE", 1234567, false)),
    ];
    let forward = Env::new();
    let paths: Vec<_> = files.iter().map(|(n, b)| forward.drop_file("broker", n, b)).collect();
    assert!(forward.ingest("broker", &paths).status.success());
    let a = forward.entry_json(E);
    // Released by CBP, exam lifted by release origin 05, but the FDA hold stays open.
    assert_eq!(a["release"]["status"], "held");
    assert_eq!(a["release"]["released"], true);
    let holds = a["release"]["open_holds"].as_array().unwrap();
    assert_eq!(holds.len(), 1, "{holds:?}");
    assert_eq!(holds[0]["code"], "02");
    assert_eq!(holds[0]["agency"], "FDA");
    assert_eq!(holds[0]["since"], "2026-02-05T10:12:00-05:00");
    assert_eq!(a["liquidation"]["status"], "scheduled");
    assert_eq!(a["liquidation"]["date"], "2026-12-11");

    // Reverse order, one file per run (SO before anything, AX before its AE).
    let backward = Env::new();
    for (n, b) in files.iter().rev() {
        let p = backward.drop_file("broker", n, b);
        assert!(backward.ingest("broker", &[p]).status.success());
    }
    assert_eq!(backward.entry_json(E), a);
}

#[test]
fn rejected_replacement_is_an_implicit_delete() {
    let env = Env::new();
    let steps = [
        ("1-ae.txt", sample::ae("EEE", 1234567, "A")),
        ("2-ax.txt", sample::ax("EEE", 1234567, true, "020226")),
        ("3-ae-r.txt", sample::ae("EEE", 1234567, "R")),
        ("4-ax-r.txt", sample::ax("EEE", 1234567, false, "020326")),
    ];
    let mut paths = Vec::new();
    for (n, b) in &steps {
        paths.push(env.drop_file("broker", n, b));
    }
    // The replacement AE has the same bytes as the first except the action code.
    assert!(env.ingest("broker", &paths).status.success());
    let j = env.entry_json(E);
    assert_eq!(j["summary"]["status"], "deleted", "{}", j["summary"]);
    assert_eq!(j["summary"]["rejection_reasons"][0]["code"], "408");
}

#[test]
fn csv_pre_entry_waits_for_its_filing_by_importer_and_reference() {
    let env = Env::new();
    let csv = "entry_number,importer_number,broker_reference,invoice_number,po_number,po_line,line_number,hts,country_of_origin,spi,quantity,uom,value_usd,duty_rate,duty_usd\n\
,12-345678900,BR1234567,INV-77,PO-4500012,10,1,6110202079,CN,,100.00,DOZ,10000,16.5%,1650.00\n";
    let p = env.drop_file("approved", "approved.csv", csv.as_bytes());
    let o = env.ingest("approved", &[p]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(env.entries().is_empty(), "a pre-entry without its filing is not an entry yet");
    let p = env.drop_file("broker", "ae.txt", &sample::ae("EEE", 1234567, "A"));
    assert!(env.ingest("broker", &[p]).status.success());
    let j = env.entry_json(E);
    assert_eq!(j["pre_entry"]["lines"][0]["po_number"], "PO-4500012");
    assert_eq!(j["pre_entry"]["lines"][0]["po_line"], "10");
    assert_eq!(j["variance"]["status"], "none");
    // And the other way round: filing first, pre-entry (by entry number) second.
    let env = Env::new();
    let p = env.drop_file("broker", "ae.txt", &sample::ae("EEE", 1234567, "A"));
    assert!(env.ingest("broker", &[p]).status.success());
    let csv2 = csv.replace(",12-345678900,BR1234567", "EEE-1234567-3,12-345678900,BR1234567");
    let p = env.drop_file("approved", "approved.csv", csv2.as_bytes());
    assert!(env.ingest("approved", &[p]).status.success());
    assert_eq!(env.entry_json(E)["pre_entry"]["lines"][0]["po_number"], "PO-4500012");
}

#[test]
fn same_bytes_under_another_name_are_a_no_op() {
    let env = Env::new();
    let bytes = sample::so_hold_release_removed("EEE", 1234567);
    let p = env.drop_file("broker", "so.txt", &bytes);
    assert!(env.ingest("broker", &[p]).status.success());
    let before = env.entry_json(E);
    let p = env.drop_file("broker", "so-again.txt", &bytes);
    let o = env.ingest("broker", std::slice::from_ref(&p));
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("duplicate"), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(!p.exists(), "the duplicate is removed from the inbox");
    assert_eq!(env.entry_json(E), before);
    assert_eq!(env.files_under("archive").iter().filter(|f| f.ends_with(".txt")).count(), 1);
}

#[test]
fn malformed_file_is_quarantined_with_a_report_and_the_next_file_is_processed() {
    let env = Env::new();
    let mut bad = sample::ae("EEE", 1234567, "A");
    // A control byte in the 50 record (line 6): the framing is broken, the file is refused (a
    // bad value alone would be applied with a warning, docs/abi.md).
    let text = String::from_utf8(bad.clone()).unwrap().replace("0000165000 0000010000", "00001\u{1}5000 0000010000");
    bad = text.into_bytes();
    let p1 = env.drop_file("broker", "bad.txt", &bad);
    let p2 = env.drop_file("broker", "good.txt", &sample::ax("EEE", 1234567, true, "020226"));
    let p3 = env.drop_file("broker", "junk.bin", b"\x00\x01 not a customs file");
    let o = env.ingest("broker", &[p1, p2, p3]);
    assert_eq!(o.status.code(), Some(1), "a quarantined file makes the run exit 1");
    let q = env.files_under("quarantine");
    assert!(q.contains(&"broker/bad.txt".to_string()) && q.contains(&"broker/bad.txt.error.txt".to_string()), "{q:?}");
    assert!(q.contains(&"broker/junk.bin.error.txt".to_string()), "{q:?}");
    let report = std::fs::read_to_string(env.data().join("quarantine/broker/bad.txt.error.txt")).unwrap();
    assert!(report.contains("line 6"), "{report}");
    assert!(report.contains("byte"), "{report}");
    // The good file after it was applied.
    assert_eq!(env.entry_json(E)["summary"]["status"], "accepted");
}

#[test]
fn rebuild_gives_the_same_entries() {
    let env = Env::new();
    let mut paths = Vec::new();
    for tx in [1000001, 1000002, 1000003] {
        for (n, b) in sample::life_files("EEE", tx) {
            paths.push(env.drop_file("broker", &n, &b));
        }
    }
    for (n, b) in life_samples() {
        paths.push(env.drop_file("broker", &n, &b));
    }
    assert!(env.ingest("broker", &paths).status.success());
    let before = env.dump();
    assert_eq!(before.len(), 4);
    let o = env.cmd().arg("rebuild").arg("--config").arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(env.dump(), before);
    assert!(env.data().join("store.old-1").exists());
}

#[test]
fn a_store_that_does_not_open_says_to_rebuild() {
    let env = Env::new();
    std::fs::create_dir_all(env.data()).unwrap();
    std::fs::write(env.data().join("store"), b"garbage where the store folder should be").unwrap();
    let o = env.cmd().args(["entries", "--config"]).arg(env.config()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("entrywatch rebuild"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn notices_monthly_statement_and_approved_ae_pre_entry() {
    let env = Env::new();
    let read = |n: &str| std::fs::read(samples().join(n)).unwrap();
    let p = env.drop_file("approved", "pre.abi", &read("life-00-approved-pre-entry.abi"));
    assert!(env.ingest("approved", &[p]).status.success());
    let mut paths: Vec<_> = life_samples().iter().map(|(n, b)| env.drop_file("broker", n, b)).collect();
    paths.push(env.drop_file("broker", "ms.abi", &read("ms-monthly.abi")));
    paths.push(env.drop_file("broker", "uc.abi", &read("uc-notifications.abi")));
    assert!(env.ingest("broker", &paths).status.success());
    let j = env.entry_json(E);
    assert_eq!(j["statement"]["monthly"], "2726P02A01");
    assert!(j["statement"]["due"].is_string());
    let notices = j["notices"].as_array().unwrap();
    assert!(notices.iter().any(|n| n["disposition"] == "4" && n["reason"] == "003"), "{notices:?}");
    assert_eq!(j["summary"]["status"], "rejected", "a UC type 4 is a rejection of the summary");
    assert!(!j["pre_entry"]["lines"].as_array().unwrap().is_empty());
    // The approved pre-entry classifies line 2 as 8471.50.0150, the broker filed 8471.30.0100.
    assert_eq!(j["variance"]["status"], "major");
    // The detention notice for another entry is kept even though its filing has not arrived.
    let d = env.entry_json("EEE-5555555-0");
    assert_eq!(d["notices"][0]["disposition"], "D");
    assert_eq!(d["notices"][0]["remarks"][0], "DETAINED");
}

mod hooks {
    use super::*;
    use entrywatch::clock::Clock;
    use entrywatch::config::Config;
    use entrywatch::domain::Fact;
    use entrywatch::grammar::Grammars;
    use entrywatch::ingest::{IngestHook, Outcome, Pipeline};
    use entrywatch::store::entries::EntryState;
    use entrywatch::store::{StoreTx, Table, TxError};
    use std::sync::Arc;

    struct Outbox {
        fail: bool,
    }
    impl IngestHook for Outbox {
        fn on_entry_changed(
            &self,
            tx: &mut StoreTx<'_>,
            before: Option<&EntryState>,
            after: &EntryState,
            new_facts: &[Fact],
        ) -> Result<(), TxError> {
            if self.fail {
                return Err(TxError::abort("hook refused"));
            }
            let key =
                format!("{}:{}", after.entry.entry.as_ref().map(|e| e.compact()).unwrap_or_default(), new_facts.len());
            tx.put(Table::Outbox, key.as_bytes(), &(before.is_some(), new_facts.len()))
        }
    }

    fn pipeline(env: &Env, fail: bool) -> (Pipeline, Config) {
        let config = Config::from_toml(&std::fs::read_to_string(env.config()).unwrap(), "t").unwrap();
        let clock = Clock::Fixed(chrono::DateTime::parse_from_rfc3339(common::NOW).unwrap());
        let p = Pipeline::open(&config, &Grammars::embedded().unwrap(), clock)
            .unwrap()
            .with_hook(Arc::new(Outbox { fail }));
        (p, config)
    }

    #[test]
    fn hook_writes_join_the_file_transaction_and_a_failing_hook_applies_nothing() {
        let env = Env::new();
        {
            let (p, config) = pipeline(&env, true);
            let f = env.drop_file("broker", "ae.txt", &sample::ae("EEE", 1234567, "A"));
            assert!(p.process(&config.inbox[0], &f).is_err());
            assert_eq!(p.store().len(Table::Entries), 0);
            assert_eq!(p.store().len(Table::Outbox), 0);
            assert_eq!(p.pending_work(&config.inbox[0]).len(), 1, "the file stays claimed for a retry");
        }
        let (p, config) = pipeline(&env, false);
        let done = p.recover(&config.inbox[0]).unwrap();
        assert!(matches!(done[0].1, Outcome::Applied { .. }));
        assert_eq!(p.store().len(Table::Entries), 1);
        assert_eq!(p.store().get::<(bool, usize)>(Table::Outbox, b"EEE12345673:1").unwrap(), Some((false, 1)));
    }

    #[test]
    fn inboxes_can_be_processed_from_several_threads() {
        let env = Env::new();
        let (p, config) = pipeline(&env, false);
        let mut per_inbox = [Vec::new(), Vec::new()];
        for k in 0..20u32 {
            let (inbox, n) = if k % 2 == 0 { ("broker", 0) } else { ("approved", 1) };
            // Both inboxes get broker-style files here; the approved one gets only AX files.
            let bytes = if n == 0 {
                sample::ae("EEE", 3000000 + k, "A")
            } else {
                sample::ax("EEE", 3000000 + k, true, "020226")
            };
            per_inbox[n].push(env.drop_file(inbox, &format!("f{k}.txt"), &bytes));
        }
        std::thread::scope(|s| {
            for (n, files) in per_inbox.iter().enumerate() {
                let (p, inbox) = (&p, &config.inbox[n]);
                s.spawn(move || {
                    for f in files {
                        assert!(matches!(p.process(inbox, f).unwrap(), Outcome::Applied { .. }));
                    }
                });
            }
        });
        assert_eq!(p.store().len(Table::Entries), 20);
        assert_eq!(p.store().len(Table::Files), 20);
    }
}

#[test]
fn x12_350_dispositions_keep_holds_as_a_set() {
    let env = Env::new();
    let x12 = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12");
    let read = |n: &str| std::fs::read(x12.join(n)).unwrap();
    let good = read("350-holds-exam-release.x12");
    let p1 = env.drop_file("broker", "350.x12", &good);
    let p2 = env.drop_file("broker", "bad.x12", &read("err-iea-count.x12"));
    let o = env.ingest("broker", &[p1, p2]);
    assert_eq!(o.status.code(), Some(1));
    let j = env.entry_json(E);
    // 1H placed and 1I removed; 1A exam lifted by 1B; 1C/1B releases: released, nothing open.
    assert_eq!(j["release"]["status"], "released", "{}", j["release"]);
    assert!(j["release"]["open_holds"].as_array().unwrap().is_empty());
    // The X4 bills are one `cargo-refs` event besides the five dispositions (docs/affected.md).
    let events = j["events"].as_array().unwrap();
    assert_eq!(events.iter().filter(|e| e["kind"] == "cargo-refs").count(), 1, "{events:?}");
    let codes: Vec<&str> =
        events.iter().filter(|e| e["kind"] != "cargo-refs").map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 5, "{codes:?}");
    assert!(codes.contains(&"X407:1H") && codes.contains(&"X407:1I"));
    // Without the 1I removal (only the hold and a release), the hold stays open.
    let env2 = Env::new();
    let text = String::from_utf8(good).unwrap();
    let sep = if text.contains("~\n") { "~\n" } else { "~" };
    let kept: Vec<&str> = text.split(sep).filter(|s| !s.contains("*1I*") && !s.contains("*1A*")).collect();
    let mut edited = kept.join(sep);
    // Keep the SE segment count right: 12 segments minus the 1A and 1I X4s.
    edited = edited.replace("SE*12*0001", "SE*10*0001");
    let p = env2.drop_file("broker", "350b.x12", edited.as_bytes());
    let o = env2.ingest("broker", &[p]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let j = env2.entry_json(E);
    assert_eq!(j["release"]["status"], "held");
    assert_eq!(j["release"]["open_holds"][0]["code"], "1H");
}

/// CBP times are local wall times without an offset. One in the spring-forward gap (02:30 on
/// 2026-03-08 in New York never happened) is shown with an offset, moved forward by the gap
/// (03:30 -04:00), and the entry stays in the reports (it used to vanish from them); one in
/// the fall-back hour (01:30 on 2026-11-01 happened twice) is its first occurrence (-04:00).
#[test]
fn event_times_in_the_dst_change_hours_carry_their_offset_and_the_entry_stays_visible() {
    use sample::{batch, entry_field, record};
    let env = Env::new();
    let en = entry_field("EEE", 1234567);
    let body = vec![
        record(&[(1, "SO10"), (5, "2704"), (9, "EEE"), (14, &en), (23, "01"), (25, "12-345678900")]),
        record(&[(1, "SO50"), (5, "030826"), (11, "0230"), (15, "53"), (17, "CBP HOLD")]),
        record(&[(1, "SO60"), (5, "110126"), (11, "0130"), (15, "98"), (17, "RELEASED"), (57, "110126"), (63, "01")]),
    ];
    let p = env.drop_file("broker", "so-dst.txt", &batch("SO", "110126", &[], &body, "EEE"));
    let o = env.ingest("broker", &[p]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j = env.entry_json(E);
    let at: Vec<&str> = j["events"].as_array().unwrap().iter().filter_map(|e| e["at"].as_str()).collect();
    assert!(at.contains(&"2026-03-08T03:30:00-04:00"), "spring gap: {at:?}");
    assert!(at.contains(&"2026-11-01T01:30:00-04:00"), "fall-back hour: {at:?}");
    for t in &at {
        assert!(chrono::DateTime::parse_from_rfc3339(t).is_ok(), "{t} has no offset");
    }
    let o = env.cmd().args(["report", "anomalies", "--format", "json", "--config"]).arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o =
        env.cmd().args(["report", "entry-summary", "--format", "csv", "--config"]).arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("EntryViewUnreadable"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(E),
        "the entry vanished from the report:\n{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
