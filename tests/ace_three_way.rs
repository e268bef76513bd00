//! ACE's own record (issue 18) end to end through the real binary: ES-003 exports (CSV and
//! XLSX) on an `ace` inbox, each finding kind in `report three-way` and as an alert, duplicates
//! and superseding exports, a file of other columns quarantined, and the daemon (`entrywatch run`).

mod common;

use common::{archived, wait_until, RunningDaemon};
use common::{samples, Env, NOW};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

fn ace_samples() -> PathBuf {
    samples().parent().unwrap().join("ace")
}

/// An [`Env`] whose config adds an `ace` inbox and a route for every alert category.
fn ace_env(daemon: bool) -> Env {
    let env = Env::new();
    std::fs::create_dir_all(env.inbox("ace")).unwrap();
    let mut cfg = format!("data-dir = {:?}\n", env.data());
    if daemon {
        cfg.push_str("[daemon]\nrescan-secs = 5\n[dashboard]\nenabled = false\n");
    }
    for n in ["broker", "approved", "ace"] {
        cfg.push_str(&format!("[[inbox]]\nname = {n:?}\npath = {:?}\nrole = {n:?}\nsettle-secs = 1\n", env.inbox(n)));
    }
    cfg.push_str("[[route]]\nto = [\"compliance@example.com\"]\nmin-severity = \"info\"\n");
    std::fs::write(env.config(), cfg).unwrap();
    env
}

/// life-00 (approved) and life-01..08 (broker); life-09 (the ER) only when `with_er`.
fn ingest_life(env: &Env, with_er: bool) {
    let names = common::life_names();
    let pre = env.drop_file("approved", &names[0], &std::fs::read(samples().join(&names[0])).unwrap());
    assert!(env.ingest("approved", &[pre]).status.success());
    let broker: Vec<PathBuf> = names[1..]
        .iter()
        .filter(|n| with_er || !n.contains("-er-"))
        .map(|n| env.drop_file("broker", n, &std::fs::read(samples().join(n)).unwrap()))
        .collect();
    let o = env.ingest("broker", &broker);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn ingest_ace(env: &Env, name: &str, bytes: &[u8]) -> std::process::Output {
    let p = env.drop_file("ace", name, bytes);
    env.ingest("ace", &[p])
}

/// Ingest an export received at `now` (a later export is one received later).
fn ingest_ace_at(env: &Env, name: &str, bytes: &[u8], now: &str) -> std::process::Output {
    let p = env.drop_file("ace", name, bytes);
    let mut c = env.cmd();
    c.env("ENTRYWATCH_NOW", now).arg("ingest").arg("--config").arg(env.config()).args(["--inbox", "ace"]).arg(p);
    c.output().unwrap()
}

fn three_way(env: &Env, extra: &[&str]) -> Vec<Value> {
    let o = env
        .cmd()
        .args(["report", "three-way", "--format", "json", "--config"])
        .arg(env.config())
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<Vec<Value>>(&o.stdout).unwrap()
}

fn find<'a>(rows: &'a [Value], entry: &str, kind: &str, field: &str) -> Option<&'a Value> {
    rows.iter().find(|r| r["entry"] == entry && r["finding"] == kind && r["field"] == field)
}

fn alert_ids(env: &Env) -> Vec<String> {
    let o = env.cmd().args(["alerts", "--json", "--config"]).arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    v.iter().map(|a| a["id"].as_str().unwrap_or_default().to_string()).collect()
}

const E: &str = "EEE-1234567-3";
const Z: &str = "ZZZ-0042001-1";

#[test]
fn csv_export_gives_each_finding_kind_in_the_report_and_as_alerts() {
    let env = ace_env(false);
    ingest_life(&env, false);
    let csv = std::fs::read(ace_samples().join("es003-life.csv")).unwrap();
    let o = ingest_ace(&env, "es003-life.csv", &csv);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = three_way(&env, &[]);

    let z = find(&rows, Z, "unreported-entry", "entry").expect("unreported entry");
    assert!(z["ace"].as_str().unwrap().contains("2 tariff rows"), "{z}");
    let duty = find(&rows, E, "ace-broker-mismatch", "duty").expect("broker/ACE duty");
    assert_eq!((duty["broker_value"].as_str(), duty["ace"].as_str()), (Some("1650.00"), Some("1750.00")));
    assert_eq!((duty["line"].as_i64(), duty["tariff"].as_i64(), duty["ace_row"].as_i64()), (Some(1), Some(1), Some(2)));
    assert_eq!(duty["ace_file"], "es003-life.csv");
    let hts = find(&rows, E, "ace-approved-mismatch", "hts").expect("approved/ACE HTS");
    assert_eq!(hts["approved"], "8471.50.0150");
    assert_eq!(hts["broker_value"], "8471.30.0100");
    assert_eq!(hts["ace"], "8471.30.0100");
    let liq = find(&rows, E, "ace-liquidation", "liquidation").expect("ACE liquidation without an ER");
    assert!(liq["ace"].as_str().unwrap().contains("12/11/2026"), "{liq}");
    // Nothing else differs on the sample entry (value, quantity, UOM and country agree).
    let e_rows: Vec<_> = rows.iter().filter(|r| r["entry"] == E).collect();
    assert_eq!(e_rows.len(), 3, "{e_rows:#?}");

    let ids = alert_ids(&env);
    for kind in ["unreported-entry", "ace-broker-mismatch", "ace-approved-mismatch", "ace-liquidation"] {
        assert!(ids.iter().any(|i| i.contains(&format!("/{kind}/"))), "no {kind} alert in {ids:#?}");
    }

    // `entry --json` carries the third side with the file and each row's number.
    let j = env.entry_json(E);
    assert_eq!(j["ace"]["file"], "es003-life.csv");
    assert_eq!(j["ace"]["rows"][1]["row"], 3);
    assert_eq!(j["ace"]["rows"][0]["duty"], "1750.00");
    // ACE's liquidation runs the protest clock like an ER's would (no ER was ingested here).
    let protest = j["deadlines"].as_array().unwrap().iter().find(|d| d["kind"] == "protest").expect("protest deadline");
    assert_eq!(protest["due"], "2027-06-09");

    // `entry` (text) shows the third column.
    let o = env.cmd().args(["entry", E, "--config"]).arg(env.config()).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("ace-broker-mismatch: line 1 tariff 1 duty: approved 1650.00, broker 1650.00, ACE 1750.00"),
        "{text}"
    );

    // Filters: --importer (dashes or not) and --broker by filer code.
    assert_eq!(three_way(&env, &["--importer", "12345678900"]).len(), rows.len());
    assert!(three_way(&env, &["--broker", "ZZZ"]).iter().all(|r| r["entry"] == Z));
    assert!(three_way(&env, &["--from", "2026-02-05"]).iter().all(|r| r["entry"] == Z));
}

#[test]
fn an_er_liquidation_agreeing_with_ace_is_no_finding() {
    let env = ace_env(false);
    ingest_life(&env, true);
    let csv = std::fs::read(ace_samples().join("es003-life.csv")).unwrap();
    assert!(ingest_ace(&env, "es003-life.csv", &csv).status.success());
    let rows = three_way(&env, &[]);
    assert!(find(&rows, E, "ace-liquidation", "liquidation").is_none(), "{rows:#?}");
    assert!(find(&rows, E, "ace-broker-mismatch", "duty").is_some());
}

#[test]
fn same_export_twice_changes_nothing_and_a_newer_export_supersedes() {
    let env = ace_env(false);
    ingest_life(&env, true);
    let csv = std::fs::read(ace_samples().join("es003-life.csv")).unwrap();
    assert!(ingest_ace(&env, "es003-life.csv", &csv).status.success());
    let first = three_way(&env, &[]);
    let alerts_first = alert_ids(&env);
    let o = ingest_ace(&env, "es003-life-again.csv", &csv);
    assert!(String::from_utf8_lossy(&o.stdout).contains("duplicate"), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(three_way(&env, &[]), first);
    assert_eq!(alert_ids(&env), alerts_first);

    // The later export: duty as filed, a PSC on line 1 the broker never sent us.
    let later = std::fs::read(ace_samples().join("es003-later.csv")).unwrap();
    assert!(ingest_ace_at(&env, "es003-later.csv", &later, "2026-03-02T09:00:00-05:00").status.success());
    let rows = three_way(&env, &[]);
    assert!(find(&rows, E, "ace-broker-mismatch", "duty").is_none(), "{rows:#?}");
    let psc = find(&rows, E, "ace-psc", "psc").expect("PSC seen only in ACE");
    assert_eq!(psc["ace"], "PSC on line 1");
    assert_eq!(psc["ace_file"], "es003-later.csv");
    assert!(alert_ids(&env).iter().any(|i| i.contains("/ace-psc/")));
    // Both exports stay in the timeline.
    let j = env.entry_json(E);
    let ace_events = j["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "ace-reported").count();
    assert_eq!(ace_events, 2);
    assert_eq!(j["ace"]["exports"], 2);
}

#[test]
fn a_file_of_other_columns_is_quarantined_naming_the_columns_it_needs() {
    let env = ace_env(false);
    let o = ingest_ace(&env, "po-list.csv", b"PO Number,Line,Amount\n4500001,1,10.00\n");
    assert!(String::from_utf8_lossy(&o.stdout).contains("quarantined"), "{}", String::from_utf8_lossy(&o.stdout));
    let report = std::fs::read_to_string(env.data().join("quarantine/ace/po-list.csv.error.txt")).unwrap();
    assert!(report.contains("Entry Summary Number") && report.contains("HTS Number - Full"), "{report}");
}

/// The sample CSV as a workbook: text cells for codes, numbers for amounts, real date cells.
fn xlsx_from_csv(csv: &[u8]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(csv);
    let date_fmt = rust_xlsxwriter::Format::new().set_num_format("mm/dd/yyyy");
    for (r, rec) in rdr.records().enumerate() {
        let rec = rec.unwrap();
        for (c, v) in rec.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            let money: String = v.chars().filter(|ch| !matches!(ch, '$' | ',')).collect();
            if r > 0 && v.len() == 10 && v.as_bytes()[2] == b'/' {
                let d =
                    rust_xlsxwriter::ExcelDateTime::parse_from_str(&format!("{}-{}-{}", &v[6..], &v[..2], &v[3..5]))
                        .unwrap();
                ws.write_datetime_with_format(r, c, &d, &date_fmt).unwrap();
            } else if r > 0 && v.starts_with('$') {
                ws.write_number(r, c, money.parse::<f64>().unwrap()).unwrap();
            } else {
                ws.write_string(r, c, v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

#[test]
fn xlsx_export_reads_like_the_csv() {
    let csv = std::fs::read(ace_samples().join("es003-life.csv")).unwrap();
    let strip = |rows: Vec<Value>| -> Vec<Value> {
        rows.into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("ace_file");
                r
            })
            .collect()
    };
    let a = ace_env(false);
    ingest_life(&a, false);
    assert!(ingest_ace(&a, "es003-life.csv", &csv).status.success());
    let b = ace_env(false);
    ingest_life(&b, false);
    let o = ingest_ace(&b, "es003-life.xlsx", &xlsx_from_csv(&csv));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = strip(three_way(&a, &[]));
    assert_eq!(strip(three_way(&b, &[])), want);
    // The committed sample workbook (made by `xlsx_from_csv`, see samples/ace/README.md) too.
    let c = ace_env(false);
    ingest_life(&c, false);
    let committed = std::fs::read(ace_samples().join("es003-life.xlsx")).unwrap();
    assert!(ingest_ace(&c, "es003-life.xlsx", &committed).status.success());
    assert_eq!(strip(three_way(&c, &[])), want);
}

#[test]
fn the_daemon_applies_an_export_dropped_in_its_ace_inbox() {
    let env = ace_env(true);
    ingest_life(&env, false);
    let d = RunningDaemon::start(&env.config(), &env.root().join("run.log"), &[("ENTRYWATCH_NOW", NOW)]);
    let csv = std::fs::read(ace_samples().join("es003-life.csv")).unwrap();
    env.drop_file("ace", "es003-life.csv", &csv);
    let want = ("ace".to_string(), "es003-life.csv".to_string());
    let ok = wait_until(Duration::from_secs(60), || archived(&env.data()).contains(&want));
    assert!(ok, "not archived:\n{}", d.log_tail());
    d.stop();
    let rows = three_way(&env, &[]);
    assert!(find(&rows, Z, "unreported-entry", "entry").is_some(), "{rows:#?}");
    assert!(find(&rows, E, "ace-broker-mismatch", "duty").is_some());
    assert!(find(&rows, E, "ace-approved-mismatch", "hts").is_some());
    assert!(find(&rows, E, "ace-liquidation", "liquidation").is_some());
    let ids = alert_ids(&env);
    for kind in ["unreported-entry", "ace-broker-mismatch", "ace-approved-mismatch", "ace-liquidation"] {
        assert!(ids.iter().any(|i| i.contains(&format!("/{kind}/"))), "no {kind} alert from the daemon in {ids:#?}");
    }
    assert!(!ids.iter().any(|i| i.contains("/ace-psc/")), "{ids:#?}");

    // A later export (the daemon restarted ten days on) shows a PSC the broker never sent.
    let later = "2026-03-02T09:00:00-05:00";
    let d = RunningDaemon::start(&env.config(), &env.root().join("run.log"), &[("ENTRYWATCH_NOW", later)]);
    env.drop_file("ace", "es003-later.csv", &std::fs::read(ace_samples().join("es003-later.csv")).unwrap());
    let want = ("ace".to_string(), "es003-later.csv".to_string());
    let ok = wait_until(Duration::from_secs(60), || archived(&env.data()).contains(&want));
    assert!(ok, "not archived:\n{}", d.log_tail());
    d.stop();
    let rows = three_way(&env, &[]);
    let psc = find(&rows, E, "ace-psc", "psc").expect("PSC seen only in ACE");
    assert_eq!(psc["ace_file"], "es003-later.csv");
    let ids = alert_ids(&env);
    assert_eq!(ids.iter().filter(|i| i.contains("/ace-psc/")).count(), 1, "{ids:#?}");
}

/// The dashboard's entry page and the broker scorecard (page, `report brokers`) show the third
/// side: the three values per differing field, ACE's liquidation with its source, and how
/// often the broker's copy differs from ACE.
#[test]
fn the_entry_page_and_the_broker_scorecard_show_ace() {
    use entrywatch::view::ReadModel;
    let env = ace_env(false);
    ingest_life(&env, false);
    let csv = std::fs::read(ace_samples().join("es003-life.csv")).unwrap();
    assert!(ingest_ace(&env, "es003-life.csv", &csv).status.success());

    let o = env.cmd().args(["entry", E, "--config"]).arg(env.config()).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("ACE liquidation: Liquidated 2026-12-11 (from es003-life.csv row 2)"), "{text}");
    let o = env.cmd().args(["report", "brokers", "--format", "csv", "--config"]).arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv_out = String::from_utf8_lossy(&o.stdout);
    let head = csv_out.lines().next().unwrap_or_default();
    assert!(head.ends_with(",ace_compared,differs_from_ace_pct,differs_from_ace_lines"), "{csv_out}");
    let eee = csv_out.lines().find(|l| l.starts_with("EEE,")).unwrap_or_else(|| panic!("no EEE row: {csv_out}"));
    assert!(eee.ends_with(",1,100.0,1"), "{csv_out}");

    let cfg = entrywatch::config::Config::from_toml(&std::fs::read_to_string(env.config()).unwrap(), "test").unwrap();
    let model = entrywatch::web::store_model::StoreModel::open(&cfg).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
    let v = model.entry(E).expect("entry view");
    let html = entrywatch::web::pages::entry_html(&v, now);
    assert!(html.contains("ACE record (three-way: approved / broker / ACE)"), "{html}");
    assert!(html.contains("<span class=\"mono\">es003-life.csv</span> (ES-003, inbox ace, row 2;"), "{html}");
    assert!(html.contains("<dt>ACE liquidation</dt><dd>Liquidated 2026-12-11</dd>"), "{html}");
    // Duty of line 1 tariff 1: approved 1650.00, broker 1650.00, ACE 1750.00, from row 2.
    let cell = |x: &str| format!("<td class=\"mono wrap\">{x}</td>");
    let duty = format!(
        "<td>1 / 1</td><td>duty</td>{}{}{}<td class=\"n\">2</td>",
        cell("1650.00"),
        cell("1650.00"),
        cell("1750.00")
    );
    assert!(html.contains(&duty), "{html}");
    let hts = format!("<td>hts</td>{}{}{}", cell("8471.50.0150"), cell("8471.30.0100"), cell("8471.30.0100"));
    assert!(html.contains(&hts), "{html}");

    let scores = entrywatch::report::brokers::scorecard(&model, &entrywatch::view::EntryFilter::default());
    let by = |b: &str| scores.iter().find(|s| s.broker == b).cloned().expect("broker");
    let eee = by("EEE");
    assert_eq!((eee.ace_compared_entries, eee.ace_differs_entries, eee.ace_differs_lines), (1, 1, 1));
    // The unreported entry is ACE's alone: no broker copy to differ.
    assert_eq!(by("ZZZ").ace_compared_entries, 0);
    let page = entrywatch::web::pages::brokers_html(&scores, now);
    assert!(page.contains("Differs from ACE %") && page.contains("<td class=\"n\">100.0</td>"), "{page}");
}

/// Manufacturer ID three ways: the approved pre-entry and the broker's AE carry 47 records
/// (type M, 02-entry-summary-create-update page 78), ACE its "Manufacturer ID" column. Line 1:
/// approved and broker CNSAMTEX999SHA, ACE CNSAMTEX123SHA (broker/ACE). Line 2: broker and ACE
/// VNSAMELE456HAN, approved VNOTHER001HAN (ACE differs from approved while the broker agrees).
#[test]
fn manufacturer_ids_are_compared_three_ways() {
    let env = ace_env(false);
    let names = common::life_names();
    let with_mids = |name: &str, mids: [&str; 2]| {
        let text = std::fs::read_to_string(samples().join(name)).unwrap();
        common::abi_insert(&text, "40", &|i| vec![format!("47M{}", mids[i])]).into_bytes()
    };
    let pre = env.drop_file("approved", &names[0], &with_mids(&names[0], ["CNSAMTEX999SHA", "VNOTHER001HAN"]));
    assert!(env.ingest("approved", &[pre]).status.success());
    let ae = env.drop_file("broker", &names[1], &with_mids(&names[1], ["CNSAMTEX999SHA", "VNSAMELE456HAN"]));
    let o = env.ingest("broker", &[ae]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read(ace_samples().join("es003-life.csv")).unwrap();
    assert!(ingest_ace(&env, "es003-life.csv", &csv).status.success());
    let rows = three_way(&env, &[]);
    let mid: Vec<&Value> = rows.iter().filter(|r| r["entry"] == E && r["field"] == "manufacturer_id").collect();
    assert_eq!(mid.len(), 2, "{rows:#?}");
    assert_eq!(mid[0]["finding"], "ace-broker-mismatch");
    assert_eq!(
        (mid[0]["line"].as_i64(), mid[0]["approved"].as_str(), mid[0]["broker_value"].as_str(), mid[0]["ace"].as_str()),
        (Some(1), Some("CNSAMTEX999SHA"), Some("CNSAMTEX999SHA"), Some("CNSAMTEX123SHA"))
    );
    assert_eq!(mid[1]["finding"], "ace-approved-mismatch");
    assert_eq!(
        (mid[1]["line"].as_i64(), mid[1]["approved"].as_str(), mid[1]["broker_value"].as_str(), mid[1]["ace"].as_str()),
        (Some(2), Some("VNOTHER001HAN"), Some("VNSAMELE456HAN"), Some("VNSAMELE456HAN"))
    );
}

/// Regenerates the committed workbook when asked (`ACE_WRITE_SAMPLE_XLSX=1`); otherwise checks
/// that the committed one holds the CSV's cells.
#[test]
fn committed_sample_workbook_matches_the_csv() {
    let csv = std::fs::read(ace_samples().join("es003-life.csv")).unwrap();
    let path = ace_samples().join("es003-life.xlsx");
    if std::env::var_os("ACE_WRITE_SAMPLE_XLSX").is_some() {
        std::fs::write(&path, xlsx_from_csv(&csv)).unwrap();
    }
    let committed = std::fs::read(&path).unwrap();
    let rows = entrywatch::ace::xlsx_rows(&committed).unwrap();
    let from_csv: Vec<_> = entrywatch::ace::csv_rows(&csv[..]).map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(format!("{rows:?}"), format!("{from_csv:?}"));
}
