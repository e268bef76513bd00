//! Reports over the fixture entries (tests/fixtures/entries): every number below was worked
//! out by hand from the fixture documents.

use chrono::DateTime;
use entrywatch::report::{self, Format, Params};
use entrywatch::view::{EntryFilter, MemoryModel};
use serde_json::{json, Value};
use std::path::Path;

const NOW: &str = "2026-03-01T09:00:00-05:00";

fn model() -> MemoryModel {
    MemoryModel::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/entries")).expect("fixtures load")
}

fn run(name: &str, filter: EntryFilter, format: Format) -> String {
    let m = model();
    let p = Params::new(filter, DateTime::parse_from_rfc3339(NOW).unwrap());
    let r = report::build(name, &m, &p).unwrap();
    let mut out = Vec::new();
    report::write_report(r, format, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn json_rows(name: &str, filter: EntryFilter) -> Vec<Value> {
    let text = run(name, filter, Format::Json);
    match serde_json::from_str(&text) {
        Ok(Value::Array(v)) => v,
        other => panic!("{name}: not a JSON array: {other:?}\n{text}"),
    }
}

#[test]
fn brokers_scorecard_matches_the_fixtures() {
    let rows = json_rows("brokers", EntryFilter::default());
    assert_eq!(rows.len(), 2);
    let eee = &rows[0];
    assert_eq!(eee["broker"], "EEE");
    assert_eq!(eee["entries"], 4);
    // 2 + 1 + 1 + 1 filings over 4 entries.
    assert_eq!(eee["filings_per_entry"], json!(1.25));
    // EEE-1234567-3 (rejected then corrected) and EEE-3456789-0 (rejected).
    assert_eq!(eee["rejection_pct"], json!(50.0));
    // 6 + 4 + 3 + 1 distinct message sources.
    assert_eq!(eee["messages_per_entry"], json!(3.5));
    // Compared: major, none, minor (the fourth has no pre-entry): 2 of 3.
    assert_eq!(eee["variance_pct"], json!(66.7));
    // Arrival → release: 6 h (EEE-2345678-2) and 24 h (EEE-3456789-0).
    assert_eq!(eee["release_median_h"], json!(6.0));
    assert_eq!(eee["release_p90_h"], json!(24.0));
    // Release 01-09 14:00 → acceptance 01-11 08:00.
    assert_eq!(eee["acceptance_median_h"], json!(42.0));
    // Entry 2026-01-10 → liquidation 2026-02-27.
    assert_eq!(eee["liquidation_median_d"], json!(48));
    let kkk = &rows[1];
    assert_eq!(kkk["broker"], "KKK");
    assert_eq!(kkk["entries"], 3);
    assert_eq!(kkk["filings_per_entry"], json!(1.67));
    assert_eq!(kkk["rejection_pct"], json!(33.3));
    assert_eq!(kkk["messages_per_entry"], json!(3.33));
    assert_eq!(kkk["variance_pct"], json!(50.0));
    assert_eq!(kkk["release_median_h"], json!(48.0));
    assert_eq!(kkk["acceptance_p90_h"], json!(25.0));
    assert_eq!(kkk["liquidation_p90_d"], json!(46));
}

#[test]
fn entry_summary_rows_and_filters() {
    let all = json_rows("entry-summary", EntryFilter::default());
    // 7 entry rows + 7 line rows.
    assert_eq!(all.len(), 14);
    assert_eq!(all.iter().filter(|r| r["row"] == "entry").count(), 7);
    let e1 = &all[0];
    assert_eq!(
        (e1["entry"].as_str(), e1["duty_usd"].clone(), e1["fees_usd"].clone()),
        (Some("EEE-1234567-3"), json!(2485.0), json!(34.64))
    );
    assert_eq!(all[1]["hts"], "6110202079");
    assert_eq!(all[1]["value_usd"], json!(10000.0));
    // Totals from lines when the store gave none.
    let e4 = all.iter().find(|r| r["entry"] == "EEE-4567890-0" && r["row"] == "entry").unwrap();
    assert_eq!(e4["duty_usd"], json!(165.0));
    assert_eq!(e4["fees_usd"], json!(0.0));

    let by_importer =
        json_rows("entry-summary", EntryFilter { importer: Some("12-345678900".into()), ..Default::default() });
    assert_eq!(by_importer.len(), 3 + 4);
    let by_hts = json_rows("entry-summary", EntryFilter { hts: Some("6110.20".into()), ..Default::default() });
    assert_eq!(by_hts.iter().filter(|r| r["row"] == "line").count(), 3);
    assert_eq!(by_hts.len(), 6);
    let feb = json_rows(
        "entry-summary",
        EntryFilter {
            from: "2026-02-01".parse().ok(),
            to: "2026-02-15".parse().ok(),
            port: Some("2704".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        feb.iter().filter(|r| r["row"] == "entry").map(|r| r["entry"].clone()).collect::<Vec<_>>(),
        vec![json!("EEE-1234567-3")]
    );
    let kkk = json_rows("entry-summary", EntryFilter { broker: Some("kkk".into()), ..Default::default() });
    assert_eq!(kkk.iter().filter(|r| r["row"] == "entry").count(), 3);
}

#[test]
fn liquidation_report_differences() {
    let rows = json_rows("liquidation", EntryFilter::default());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["entry"], "EEE-2345678-2");
    assert_eq!(rows[0]["outcome"], "changed");
    assert_eq!(rows[0]["filed_duty_usd"], json!(3300.0));
    assert_eq!(rows[0]["liq_duty_usd"], json!(3450.0));
    assert_eq!(rows[0]["duty_diff_usd"], json!(150.0));
    assert_eq!(rows[0]["fees_diff_usd"], json!(0.0));
    assert_eq!(rows[0]["reasons"], "07");
    assert_eq!(rows[1]["entry"], "KKK-1111111-1");
    assert_eq!(rows[1]["outcome"], "as-filed");
    assert_eq!(rows[1]["duty_diff_usd"], json!(0.0));
}

#[test]
fn rejected_report_tracks_corrections() {
    let rows = json_rows("rejected", EntryFilter::default());
    let got: Vec<(String, String, bool, Value)> = rows
        .iter()
        .map(|r| {
            (
                r["entry"].as_str().unwrap().to_string(),
                r["version"].as_str().unwrap().to_string(),
                r["corrected"] == json!(true),
                r["hours_to_correct"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("EEE-1234567-3".into(), "00100".into(), true, json!(25.0)),
            ("EEE-3456789-0".into(), "00100".into(), false, Value::Null),
            ("KKK-1111111-1".into(), "00100".into(), true, json!(45.0)),
            ("KKK-1111111-1".into(), "00200".into(), true, json!(21.0)),
        ]
    );
    assert_eq!(rows[0]["codes"], "R123");
    assert_eq!(rows[0]["corrected_at"], "2026-02-03T10:00:00-05:00");
}

#[test]
fn anomalies_found_in_the_fixtures() {
    let rows = json_rows("anomalies", EntryFilter::default());
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().into(),
                r["entry"].as_str().unwrap_or("").into(),
                r["hts"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("hold-open".into(), "EEE-1234567-3".into(), "".into()),
            ("liquidated-higher".into(), "EEE-2345678-2".into(), "".into()),
            ("duty-rate".into(), "EEE-3456789-0".into(), "6204624011".into()),
            ("rejection-uncorrected".into(), "EEE-3456789-0".into(), "".into()),
            ("hold-open".into(), "KKK-2222222-0".into(), "".into()),
            ("hts-changed".into(), "".into(), "6204624011".into()),
        ]
    );
    assert_eq!(rows[0]["detail"], "hold 1H (CBP) open 25 days");
    assert_eq!(rows[1]["detail"], "liquidated 3510.00 against filed 3360.00 (+150.00)");
    assert_eq!(rows[2]["detail"], "line 1: 28.0% against 16.7% usual for this HTS");
    assert_eq!(rows[4]["detail"], "hold 7H (FDA) open 13 days");
    assert_eq!(rows[5]["detail"], "changed on 2 entries: EEE-1234567-3 EEE-3456789-0");
}

#[test]
fn statements_compare_billed_with_filed() {
    let rows = json_rows("statements", EntryFilter::default());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["statement"], "2726011B02");
    assert_eq!(rows[0]["status"], "final");
    assert_eq!(rows[0]["paid"], "2026-01-23");
    assert_eq!(rows[0]["difference_usd"], json!(0.0));
    let a01 = &rows[1];
    assert_eq!(a01["statement"], "2726041A01");
    assert_eq!(a01["status"], "preliminary");
    assert_eq!(a01["entries"], 2);
    assert_eq!(a01["billed_usd"], json!(2689.64));
    assert_eq!(a01["filed_usd"], json!(2684.64));
    assert_eq!(a01["difference_usd"], json!(5.0));
    assert_eq!(a01["disagreeing"], 1);
    assert_eq!(a01["paid"], Value::Null);
    assert_eq!(rows[2]["statement"], "3901011K01");
    assert_eq!(rows[2]["billed_usd"], json!(173.46));
}

#[test]
fn text_and_csv_carry_the_same_numbers() {
    let text = run("statements", EntryFilter::default(), Format::Text);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("statement   status"), "{text}");
    assert!(lines[1].chars().all(|c| c == '-'));
    let a01 = lines.iter().find(|l| l.starts_with("2726041A01")).unwrap();
    assert!(a01.contains("2689.64") && a01.contains("2684.64") && a01.ends_with('1'), "{a01}");
    let csv = run("statements", EntryFilter::default(), Format::Csv);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let headers = r.headers().unwrap().clone();
    assert_eq!(headers.get(0), Some("statement"));
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 3);
    assert_eq!(&recs[1][5], "2689.64");
    assert_eq!(&recs[1][7], "5.00");
    assert_eq!(
        run("liquidation", EntryFilter { importer: Some("nobody".into()), ..Default::default() }, Format::Text)
            .lines()
            .last(),
        Some("(no rows)")
    );
}

#[test]
fn unknown_report_is_an_error() {
    let m = model();
    let p = Params::new(EntryFilter::default(), DateTime::parse_from_rfc3339(NOW).unwrap());
    assert!(report::build("nope", &m, &p).is_err());
}

#[test]
fn cli_report_over_an_entries_folder() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/entries");
    let out = assert_cmd::Command::cargo_bin("entrywatch")
        .unwrap()
        .env("ENTRYWATCH_NOW", NOW)
        .args(["report", "brokers", "--format", "csv", "--entries-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("broker,entries,filings_per_entry,rejection_pct"), "{text}");
    // No ACE record in the fixtures: nothing compared with ACE, the rate blank.
    assert!(text.contains("\nEEE,4,1.25,50.0,3.50,66.7,6.0,24.0,42.0,42.0,48,48,0,,0\n"), "{text}");
    let bad = assert_cmd::Command::cargo_bin("entrywatch")
        .unwrap()
        .args(["report", "nope", "--entries-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let bad_date = assert_cmd::Command::cargo_bin("entrywatch")
        .unwrap()
        .args(["report", "brokers", "--from", "2026-13-01"])
        .output()
        .unwrap();
    assert_eq!(bad_date.status.code(), Some(2));
}

/// A model with only the required methods: the trait's scanning defaults (what a store
/// without indexes gets) must agree with the in-memory indexes.
struct Plain(MemoryModel);

impl entrywatch::view::ReadModel for Plain {
    fn entries(&self, f: &EntryFilter) -> Box<dyn Iterator<Item = entrywatch::view::EntryView> + '_> {
        self.0.entries(f)
    }
    fn entry(&self, key: &str) -> Option<entrywatch::view::EntryView> {
        self.0.entry(key)
    }
    fn metrics(&self) -> entrywatch::view::Metrics {
        self.0.metrics()
    }
}

#[test]
fn scanning_defaults_agree_with_the_indexes() {
    use entrywatch::view::ReadModel;
    let plain = Plain(model());
    let indexed = model();
    let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    for (critical, limit) in [(false, 10), (true, 10), (false, 1), (true, 0)] {
        assert_eq!(plain.open_holds(critical, limit), indexed.open_holds(critical, limit));
    }
    assert_eq!(indexed.open_holds(false, 10).total, 2);
    assert_eq!(indexed.open_holds(true, 10).total, 1);
    for (from, to, limit) in
        [("2026-03-01", "2026-03-31", 10), ("2026-01-01", "2026-12-31", 3), ("2026-03-21", "2026-03-01", 10)]
    {
        assert_eq!(plain.deadlines_between(d(from), d(to), limit), indexed.deadlines_between(d(from), d(to), limit));
    }
    assert_eq!(indexed.deadlines_between(d("2026-01-01"), d("2026-12-31"), 3).total, 8);
    assert_eq!(
        plain.message_volume(d("2026-01-01"), d("2026-03-01")),
        indexed.message_volume(d("2026-01-01"), d("2026-03-01"))
    );
    assert_eq!(plain.cycle_trend(), indexed.cycle_trend());
    let mut seen = Vec::new();
    plain.visit(&EntryFilter { port: Some("3901".into()), ..Default::default() }, &mut |e| seen.push(e.entry.clone()));
    assert_eq!(seen, ["KKK-1111111-1", "KKK-2222222-0", "KKK-3333333-9"]);
    let p = Params::new(EntryFilter::default(), DateTime::parse_from_rfc3339(NOW).unwrap());
    for name in report::NAMES {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        report::write_report(report::build(name, &plain, &p).unwrap(), Format::Csv, &mut a).unwrap();
        report::write_report(report::build(name, &indexed, &p).unwrap(), Format::Csv, &mut b).unwrap();
        assert_eq!(a, b, "{name}");
    }
}
