//! Duty recovery end to end: AE entry summaries with IEEPA chapter 99 lines (02-entry-summary-create-update, 50 record page 89; chapter 99 usage note ii pages 186-187) and ER liquidation reports through the real pipeline, then `report recovery` and `recovery export --program cape` from the binary under ENTRYWATCH_NOW, walking an entry through CAPE's 80 days and the protest's 180 days; excluded kinds (type 09, reconciliation-flagged, open protest) never exported; the upload files' shape.

mod common;

use common::Env;
use entrywatch::entry_number::EntryNumber;
use entrywatch::ingest::sample::{batch, entry_display, entry_field, record, AeSpec};
use entrywatch::recovery::{export_chunks, EntryRecovery, RemedyState, RemedyStatus};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

const FILER: &str = "EEE";
/// Type 01, IEEPA 9903.01.25 duty 500.00 beside ordinary duty 1,650.00; liquidated Fri 2026-06-05.
const LIQ: u32 = 2_000_001;
/// Type 09 (reconciliation entry) with an IEEPA line: excluded.
const T09: u32 = 2_000_002;
/// Type 01 flagged for reconciliation (issue 001): excluded.
const RECON: u32 = 2_000_003;
/// Type 01 with IEEPA duty, liquidated with a protest on file (ER JC `YS`): excluded.
const PROT: u32 = 2_000_004;
/// Type 01, no chapter 99 line: nothing for CAPE.
const PLAIN: u32 = 2_000_005;
/// Type 01 with IEEPA duty 120.00, unliquidated: open.
const OPEN: u32 = 2_000_006;

/// An AE filed on 2026-01-12: one line, an ordinary 50 record and optionally an IEEPA one.
fn ae(tx: u32, entry_type: &str, recon_issue: &str, ieepa_cents: Option<u64>) -> Vec<u8> {
    AeSpec {
        filer: FILER,
        tx,
        entry_type,
        recon_issue,
        day: "011226",
        statement_date: "011226",
        entry_date: "011226",
        import_date: "011026",
        r11_61: "CN",
        fees: false,
        ieepa_cents,
        ..AeSpec::default()
    }
    .build()
}

/// An ER (sent 2026-06-08) saying the entry liquidated on `date` (MMDDYY), protest `protest`.
fn er_liquidated(tx: u32, date: &str, protest: &str) -> Vec<u8> {
    let en = entry_field(FILER, tx);
    let jc = vec![(1, "JC"), (3, "1"), (4, "1"), (5, "020226"), (12, "1"), (20, "2"), (42, protest)];
    let zeros = "000000000000";
    let body = vec![
        record(&[(1, "JB"), (3, FILER), (8, &en), (16, "00100"), (43, "1"), (44, date), (51, "CEE001")]),
        record(&jc),
        record(&[(1, "JD"), (4, "011226"), (10, zeros), (22, zeros), (34, zeros), (46, zeros), (58, zeros)]),
    ];
    batch("ER", "060826", &[], &body, FILER)
}

fn setup() -> Env {
    let env = Env::new();
    let files: Vec<(String, Vec<u8>)> = vec![
        ("ae-liq.abi".into(), ae(LIQ, "01", "", Some(50_000))),
        ("ae-t09.abi".into(), ae(T09, "09", "", Some(70_000))),
        ("ae-recon.abi".into(), ae(RECON, "01", "001", Some(80_000))),
        ("ae-prot.abi".into(), ae(PROT, "01", "", Some(90_000))),
        ("ae-plain.abi".into(), ae(PLAIN, "01", "", None)),
        ("ae-open.abi".into(), ae(OPEN, "01", "", Some(12_000))),
        ("er-liq.abi".into(), er_liquidated(LIQ, "060526", "NO")),
        ("er-prot.abi".into(), er_liquidated(PROT, "060526", "YS")),
    ];
    let paths: Vec<PathBuf> = files.iter().map(|(n, b)| env.drop_file("broker", n, b)).collect();
    let o = env.ingest("broker", &paths);
    assert!(o.status.success(), "ingest: {}", String::from_utf8_lossy(&o.stderr));
    env
}

fn at(day: &str) -> String {
    format!("{day}T09:00:00-04:00")
}

fn report_json(env: &Env, day: &str) -> Value {
    let o = env
        .cmd()
        .env("ENTRYWATCH_NOW", at(day))
        .args(["report", "recovery", "--program", "cape", "--format", "json", "--config"])
        .arg(env.config())
        .output()
        .unwrap();
    assert!(o.status.success(), "report: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json")
}

fn entry(doc: &Value, tx: u32) -> &Value {
    let want = entry_display(FILER, tx);
    doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry"] == want.as_str())
        .unwrap_or_else(|| panic!("no {want} in {doc:#}"))
}

fn remedy<'a>(e: &'a Value, id: &str) -> &'a Value {
    e["remedies"].as_array().unwrap().iter().find(|r| r["remedy"] == id).unwrap_or_else(|| panic!("no {id} in {e:#}"))
}

/// Run the export on `day` into a fresh folder; returns (stdout, the files' texts).
fn export(env: &Env, day: &str) -> (String, Vec<String>) {
    let out = env.root().join(format!("export-{day}"));
    let o = env
        .cmd()
        .env("ENTRYWATCH_NOW", at(day))
        .args(["recovery", "export", "--program", "cape", "--config"])
        .arg(env.config())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "export: {}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<PathBuf> =
        std::fs::read_dir(&out).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    names.sort();
    let texts = names.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    (String::from_utf8_lossy(&o.stdout).into_owned(), texts)
}

fn listed(texts: &[String]) -> Vec<String> {
    texts.iter().flat_map(|t| t.lines().skip(1).map(str::to_string)).collect()
}

fn compact(tx: u32) -> String {
    format!("{FILER}{}", entry_field(FILER, tx))
}

#[test]
fn an_entry_walks_through_capes_80_days_and_the_protests_180() {
    let env = setup();

    // Day 80 after liquidation (2026-06-05 + 80 = 2026-08-24): CAPE still open, last day today.
    let doc = report_json(&env, "2026-08-24");
    let e = entry(&doc, LIQ);
    assert_eq!(e["duty"][0], serde_json::json!({"program": "ieepa", "duty_cents": 50_000}));
    assert_eq!(e["total_duty_cents"], 215_000);
    let cape = remedy(e, "cape");
    assert_eq!((cape["state"].as_str(), cape["until"].as_str()), (Some("open"), Some("2026-08-24")));
    assert_eq!((cape["days_left"].as_i64(), cape["amount_cents"].as_i64()), (Some(0), Some(50_000)));
    assert!(cape["why"].as_str().unwrap().contains("liquidated 80 days ago"), "{cape}");
    assert_eq!(e["nearest"], serde_json::json!(["cape", "2026-08-24"]));
    // A PSC is closed (liquidated), so no PSC/CAPE conflict is named.
    assert_eq!(remedy(e, "psc")["state"], "closed");

    let (_, files) = export(&env, "2026-08-24");
    assert_eq!(files.len(), 1);
    assert!(files[0].starts_with("Entry Number\r\n"), "{:?}", files[0]);
    let mut got = listed(&files);
    got.sort();
    assert_eq!(got, vec![compact(LIQ), compact(OPEN)]);
    assert!(got.iter().all(|n| n.len() == 11));

    // Day 81: past CAPE's 80 days; the protest is the open remedy, until 2026-12-02.
    let doc = report_json(&env, "2026-08-25");
    let e = entry(&doc, LIQ);
    let cape = remedy(e, "cape");
    assert_eq!(cape["state"], "closed");
    assert_eq!(cape["why"], "liquidated 81 days ago: past CAPE's 80 days");
    let protest = remedy(e, "protest");
    assert_eq!((protest["state"].as_str(), protest["until"].as_str()), (Some("open"), Some("2026-12-02")));
    assert_eq!(e["nearest"], serde_json::json!(["protest", "2026-12-02"]));
    let (_, files) = export(&env, "2026-08-25");
    assert_eq!(listed(&files), vec![compact(OPEN)], "day 81 is never exported");

    // Day 180 after liquidation: the protest's last day.
    let doc = report_json(&env, "2026-12-02");
    let p = remedy(entry(&doc, LIQ), "protest");
    assert_eq!((p["state"].as_str(), p["days_left"].as_i64()), (Some("open"), Some(0)));

    // Day 181: closed; only the drawback window (5 years from importation) is left open.
    let doc = report_json(&env, "2026-12-03");
    let e = entry(&doc, LIQ);
    assert_eq!(remedy(e, "protest")["state"], "closed");
    assert_eq!(e["nearest"], serde_json::json!(["drawback", "2031-01-10"]));
}

#[test]
fn excluded_kinds_are_named_and_never_exported() {
    let env = setup();
    let doc = report_json(&env, "2026-08-24");
    for (tx, why) in [(T09, "entry type 09"), (RECON, "reconciliation"), (PROT, "protest")] {
        let c = remedy(entry(&doc, tx), "cape");
        assert_eq!(c["state"], "excluded", "{c}");
        assert!(c["why"].as_str().unwrap().contains(why), "{c}");
    }
    // Unliquidated: open; its last day follows the estimated liquidation (entry 2026-01-12
    // + 314 days on ACE's Friday cycle: 2026-11-20, docs/deadlines.md) + 80 days.
    let c = remedy(entry(&doc, OPEN), "cape");
    assert_eq!((c["state"].as_str(), c["until"].as_str()), (Some("open"), Some("2027-02-08")));
    assert!(c["why"].as_str().unwrap().contains("liquidation estimated 2026-11-20"), "{c}");
    assert!(!c["cautions"].as_array().unwrap().is_empty(), "what entrywatch cannot see is said: {c}");
    // An entry with no chapter 99 line is not in a CAPE report at all.
    let plain = entry_display(FILER, PLAIN);
    assert!(doc["entries"].as_array().unwrap().iter().all(|e| e["entry"] != plain.as_str()));
    // Totals: the excluded money is counted as excluded, the open as open.
    assert_eq!(doc["totals"]["by_program_state"]["excluded"], serde_json::json!({"entries": 3, "cents": 240_000}));
    assert_eq!(doc["totals"]["by_program_state"]["open"], serde_json::json!({"entries": 2, "cents": 62_000}));

    let (stdout, files) = export(&env, "2026-08-24");
    let all = listed(&files);
    for tx in [T09, RECON, PROT, PLAIN] {
        assert!(!all.contains(&compact(tx)), "{tx} exported: {all:?}");
    }
    assert!(stdout.contains("left out: 3 excluded"), "{stdout}");

    // Text report: the rows and the totals.
    let o = env
        .cmd()
        .env("ENTRYWATCH_NOW", at("2026-08-25"))
        .args(["report", "recovery", "--config"])
        .arg(env.config())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(text.contains("past CAPE's 80 days") && text.contains("totals (cape):"), "{text}");

    // CSV: the same rows, one header.
    let o = env
        .cmd()
        .env("ENTRYWATCH_NOW", at("2026-08-25"))
        .args(["report", "recovery", "--format", "csv", "--config"])
        .arg(env.config())
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&o.stdout);
    assert!(csv.starts_with("entry,importer,type,liquidation,liquidated,refundable,total_duty,"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 5, "{csv}");

    // An unknown program is a usage error naming the known ones.
    let o = env.cmd().args(["report", "recovery", "--program", "nope", "--config"]).arg(env.config()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("programs: cape"));
}

fn rec(n: &EntryNumber, state: RemedyState, cents: i64) -> EntryRecovery {
    EntryRecovery {
        entry: n.to_string(),
        importer: String::new(),
        entry_type: "01".into(),
        entry_date: None,
        liquidation: Default::default(),
        liquidation_date: None,
        duty: Vec::new(),
        total_duty_cents: cents,
        remedies: vec![RemedyStatus {
            remedy: "cape".into(),
            name: "CAPE".into(),
            state,
            until: None,
            days_left: None,
            amount_cents: cents,
            why: String::new(),
            source: String::new(),
            cautions: Vec::new(),
        }],
        nearest: None,
        conflicts: Vec::new(),
        claims: Vec::new(),
    }
}

#[test]
fn upload_files_hold_at_most_9999_distinct_entries_each() {
    let rules = entrywatch::grammar::Grammars::embedded().unwrap().remedies;
    let cape = rules.program("cape").unwrap();
    let mut recs = Vec::new();
    for tx in 0..10_005u32 {
        let n: EntryNumber = entry_display(FILER, 3_000_000 + tx).parse().unwrap();
        recs.push(rec(&n, RemedyState::Open, 100));
        if tx % 1000 == 0 {
            recs.push(rec(&n, RemedyState::Open, 100)); // the same entry twice
        }
    }
    let closed: EntryNumber = entry_display(FILER, 3_999_999).parse().unwrap();
    recs.push(rec(&closed, RemedyState::Closed, 100));
    let plan = export_chunks(cape, &recs);
    assert_eq!(plan.files.len(), 2);
    let sizes: Vec<usize> = plan.files.iter().map(|f| f.lines().count() - 1).collect();
    assert_eq!(sizes, vec![9_999, 6]);
    let all: Vec<&str> = plan.files.iter().flat_map(|f| f.lines().skip(1)).collect();
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 10_005, "no duplicates");
    assert!(all.iter().all(|n| n.len() == 11 && !n.contains('-')));
    assert!(!all.contains(&closed.compact().as_str()));
    assert!(plan.files.iter().all(|f| f.starts_with("Entry Number\r\n")));
    assert_eq!(plan.claimed_cents, 1_000_500);
    assert_eq!(plan.left_out.get("closed"), Some(&1));
}

#[test]
fn the_claim_window_is_a_deadline_for_the_entries_a_program_takes() {
    let env = setup();
    let kinds = |tx: u32| -> Vec<Value> {
        let o = env
            .cmd()
            .env("ENTRYWATCH_NOW", at("2026-08-20"))
            .args(["entry", &entry_display(FILER, tx), "--json", "--config"])
            .arg(env.config())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["deadlines"].as_array().unwrap().iter().filter(|d| d["kind"] == "refund-claim").cloned().collect()
    };
    let liq = kinds(LIQ);
    assert_eq!(liq.len(), 1, "{liq:?}");
    assert_eq!((liq[0]["due"].as_str(), liq[0]["estimated"].as_bool()), (Some("2026-08-24"), Some(false)));
    assert!(liq[0]["rule"].as_str().unwrap().contains("500.00 at stake"), "{}", liq[0]);
    let open = kinds(OPEN);
    assert_eq!((open[0]["due"].as_str(), open[0]["estimated"].as_bool()), (Some("2027-02-08"), Some(true)));
    for tx in [T09, RECON, PROT, PLAIN] {
        assert!(kinds(tx).is_empty(), "{tx} has a refund-claim deadline");
    }
}
