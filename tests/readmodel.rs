//! The read model on the real store: the sample files go through the real ingest pipeline into
//! a real sled store, then every dashboard route (over TCP on 127.0.0.1) and every report is
//! checked against what the files say (numbers worked out by hand from the samples), and
//! hostile text from files is escaped in pages.

use chrono::NaiveDate;
use entrywatch::clock::Clock;
use entrywatch::config::Config;
use entrywatch::grammar::Grammars;
use entrywatch::ingest::{sample, Outcome, Pipeline};
use entrywatch::report::NAMES;
use entrywatch::store::Store;
use entrywatch::view::{EntryFilter, MemoryModel, ReadModel};
use entrywatch::web::store_model::{bind_dashboard, serve_store_on, StoreModel};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const NOW: &str = "2026-02-20T09:00:00-05:00";
const LIFE: &str = "EEE-1234567-3";
/// Rejected by AX (with a hostile narrative), then held by FDA.
const HELD: &str = "EEE-7654321-3";
/// Known only from a UC detention notice.
const NOTICE_ONLY: &str = "EEE-5555555-0";
const HOSTILE_NARRATIVE: &str = "<SCRIPT>X()</SCRIPT>&\"'<>";
const HOSTILE_FILE: &str = "ax-<i>&\"'.abi";
const HOSTILE_PO: &str = "PO-<script>alert(1)</script>";

fn clock() -> Clock {
    Clock::Fixed(chrono::DateTime::parse_from_rfc3339(NOW).unwrap())
}

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/abi")
}

struct Ingested {
    cfg: Config,
    pipeline: Pipeline,
    _dir: tempfile::TempDir,
}

impl Ingested {
    fn store(&self) -> Store {
        self.pipeline.store().clone()
    }
}

fn config(root: &Path, listen: &str) -> Config {
    let text = format!(
        "data-dir = {:?}\n[dashboard]\nlisten = {listen:?}\n[[inbox]]\nname = \"broker\"\npath = {:?}\nrole = \"broker\"\n\
         [[inbox]]\nname = \"approved\"\npath = {:?}\nrole = \"approved\"\n",
        root.join("data"),
        root.join("in/broker"),
        root.join("in/approved")
    );
    Config::from_toml(&text, "test").unwrap()
}

/// Ingest the samples through the real pipeline: the CSV pre-entry (PO lines), the life of
/// EEE-1234567-3, a hostile AX rejection and an FDA hold for EEE-7654321-3, the UC notices,
/// a duplicate and a broken file.
fn ingest() -> Ingested {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for d in ["in/broker", "in/approved"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let cfg = config(root, "127.0.0.1:0");
    let grammars = Grammars::embedded().unwrap();
    let pipeline = Pipeline::open(&cfg, &grammars, clock()).unwrap();
    let drop = |inbox: &str, name: &str, bytes: &[u8]| {
        let p = root.join("in").join(inbox).join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let approved = cfg.inbox("approved").unwrap().clone();
    let broker = cfg.inbox("broker").unwrap().clone();
    let csv = format!(
        "entry_number,importer_number,broker_reference,invoice_number,po_number,po_line,line_number,hts,country_of_origin,spi,quantity,uom,value_usd,duty_rate,duty_usd\n\
         EEE-1234567-3,12-345678900,BR0001,INV-77,PO-4500012,10,1,6110202079,CN,,100.00,DOZ,10000,16.5%,1650.00\n\
         EEE-1234567-3,12-345678900,BR0001,INV-77,\"{HOSTILE_PO}\",20,2,8471500150,VN,,50.00,NO,5000,0%,0.00\n"
    );
    let p = drop("approved", "approved.csv", csv.as_bytes());
    assert!(matches!(pipeline.process(&approved, &p).unwrap(), Outcome::Applied { .. }));

    let mut files: Vec<PathBuf> = Vec::new();
    for i in 1..=9 {
        let name = std::fs::read_dir(samples())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .find(|n| n.starts_with(&format!("life-0{i}-")))
            .unwrap();
        files.push(drop("broker", &name, &std::fs::read(samples().join(&name)).unwrap()));
    }
    // The AX rejection with a hostile narrative (same length, so the 80 columns hold).
    let ax = std::fs::read_to_string(samples().join("ax-rejected.abi")).unwrap();
    assert!(ax.contains("COUNTRY OF ORIGIN UNKNOWN"));
    let ax = ax.replace("COUNTRY OF ORIGIN UNKNOWN", HOSTILE_NARRATIVE);
    files.push(drop("broker", HOSTILE_FILE, ax.as_bytes()));
    files.push(drop("broker", "so-7654321.abi", &sample::so_exam_fda_release("EEE", 7654321)));
    files.push(drop("broker", "uc-notifications.abi", &std::fs::read(samples().join("uc-notifications.abi")).unwrap()));
    for (p, r) in pipeline.process_batch(&broker, &files) {
        assert!(matches!(r, Ok(Outcome::Applied { .. })), "{}: {r:?}", p.display());
    }
    // The same bytes again (a duplicate) and a broken file (quarantined).
    let again = drop("broker", "life-01-again.abi", &std::fs::read(samples().join("life-01-ae-filed.abi")).unwrap());
    assert!(matches!(pipeline.process(&broker, &again).unwrap(), Outcome::Duplicate { .. }));
    let broken = drop("broker", "broken.abi", &std::fs::read(samples().join("broken-y-count.abi")).unwrap());
    assert!(matches!(pipeline.process(&broker, &broken).unwrap(), Outcome::Quarantined { .. }));
    Ingested { _dir: dir, cfg, pipeline }
}

fn model(i: &Ingested) -> StoreModel {
    StoreModel::new(i.store(), &i.cfg)
}

// ---------------------------------------------------------------- HTTP

/// The dashboard as `run` serves it (`bind_dashboard` before READY, then `serve_store_on`),
/// on a loopback port the system picks.
fn start(i: &Ingested) -> Server {
    let cfg = config(i.cfg.data_dir.parent().unwrap(), "127.0.0.1:0");
    let listener = bind_dashboard(&cfg).unwrap();
    let store = i.store();
    common::http::spawn(listener, move |listener, stop| async move {
        serve_store_on(&cfg, listener, store, clock(), stop).await.unwrap();
    })
}

mod common;
use common::http::{get, Server};

fn html(addr: SocketAddr, path: &str) -> String {
    let r = get(addr, path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert_eq!(r.ctype(), "text/html; charset=utf-8", "{path}");
    r.body
}

fn api(addr: SocketAddr, path: &str) -> Value {
    let r = get(addr, path);
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert!(r.ctype().starts_with("application/json"), "{path}: {}", r.ctype());
    r.json()
}

/// Hostile strings must never appear raw in a page.
fn no_raw_hostile(path: &str, body: &str) {
    for raw in ["<SCRIPT>", "<script>", "<i>&", HOSTILE_NARRATIVE, HOSTILE_PO, HOSTILE_FILE] {
        assert!(!body.contains(raw), "{path} contains raw {raw:?}");
    }
}

#[test]
fn every_route_shows_the_ingested_entries() {
    let i = ingest();
    let s = start(&i);

    // Overview: entries, the open critical FDA hold, two charts, message volume from the files.
    let body = html(s.addr, "/");
    no_raw_hostile("/", &body);
    assert_eq!(body.matches("<svg").count(), 2, "message volume and cycle trend charts");
    assert!(body.contains("Open critical holds"));
    assert!(body.contains(&format!("href=\"/entries/{HELD}\"")), "the FDA hold's entry is listed");
    let o = api(s.addr, "/api/overview");
    assert_eq!(o["entries"], 3);
    assert_eq!(o["open_holds"], 1, "FDA 02 stays open after the CBP release");
    assert_eq!(o["open_critical_holds"][0]["entry"], HELD);
    assert_eq!(o["open_critical_holds"][0]["agency"], "FDA");
    assert_eq!(o["open_critical_holds"][0]["since"], "2026-02-05T10:12:00-05:00");
    let volume: u64 = o["message_volume"].as_array().unwrap().iter().map(|d| d["messages"].as_u64().unwrap()).sum();
    // The chart counts the events dated within the 60 days up to 2026-02-20 (the UC notices
    // are dated in March, the ER in December: outside).
    let in_window: u64 = model(&i)
        .entries(&EntryFilter::default())
        .flat_map(|e| e.events)
        .filter(|e| {
            let d = e.at.date_naive().to_string();
            d.as_str() >= "2025-12-23" && d.as_str() <= "2026-02-20"
        })
        .count() as u64;
    assert!(in_window >= 12);
    assert_eq!(volume, in_window);
    // The cycle trend: February 2026, arrival (SO50 02/05 08:15) to release (SO60 02/09 14:05)
    // = 101 h 50 min for both entries that were released.
    let feb = o["cycle_trend"].as_array().unwrap().iter().find(|p| p["month"] == "2026-02-01").unwrap().clone();
    assert_eq!(feb["release_median_minutes"], 101 * 60 + 50);

    // Entries list and filters.
    let body = html(s.addr, "/entries");
    no_raw_hostile("/entries", &body);
    for e in [LIFE, HELD, NOTICE_ONLY] {
        assert!(body.contains(&format!("href=\"/entries/{e}\"")), "{e}");
    }
    let body = html(s.addr, "/entries?status=open-holds");
    assert!(body.contains(HELD) && !body.contains(&format!("href=\"/entries/{LIFE}\"")));
    let list = api(s.addr, "/api/entries?hts=6110.20");
    let keys: Vec<&str> = list.as_array().unwrap().iter().map(|e| e["entry"].as_str().unwrap()).collect();
    assert_eq!(keys, vec![LIFE]);

    // The entry page: timeline chart, audit trail with source files, PO lines, filed numbers.
    let body = html(s.addr, "/entries/EEE12345673");
    no_raw_hostile("/entries/LIFE", &body);
    assert!(body.contains("<svg"), "timeline chart");
    assert!(body.contains("life-01-ae-filed.abi:3"), "audit trail names the file and line");
    assert!(body.contains("life-09-er-liquidated.abi"));
    assert!(body.contains("PO-4500012") && body.contains(">10<"), "PO number and PO line");
    assert!(body.contains("PO-&lt;script&gt;alert(1)&lt;/script&gt;"), "the hostile PO is shown escaped");
    assert!(body.contains("approved 8471500150"), "line 2's HTS differs from the approved pre-entry");
    assert!(body.contains("6110202079"));
    assert!(body.contains("1,650.00") || body.contains("1650.00"), "line 1 duty");
    let e = api(s.addr, &format!("/api/entries/{LIFE}"));
    assert_eq!(e["entry"], LIFE);
    assert_eq!(e["lines"][0]["po_number"], "PO-4500012");
    assert_eq!(e["lines"][0]["value_cents"], 1_000_000);
    assert_eq!(e["lines"][0]["duty_cents"], 165_000);
    assert_eq!(e["lines"][1]["approved_hts"], "8471500150");
    assert_eq!(e["totals"]["fees_cents"], 7071);
    assert_eq!(e["liquidation"]["status"], "liquidated");
    assert_eq!(e["liquidation"]["duty_cents"], 165_000);
    assert_eq!(e["liquidation"]["reason_codes"][0], "42");
    assert_eq!(e["statement"]["amount_cents"], 172_071);
    assert_eq!(e["statement"]["paid"], "2026-02-10");
    assert_eq!(e["timestamps"]["release"], "2026-02-09T14:05:00-05:00");
    assert_eq!(e["inbox"], "broker");
    // The entry page of the held entry: the hold, and the hostile narrative and file name escaped.
    let body = html(s.addr, &format!("/entries/{HELD}"));
    no_raw_hostile("/entries/HELD", &body);
    assert!(body.contains("FDA") && body.contains("HOLD INTACT"));
    assert!(body.contains("&lt;SCRIPT&gt;X()&lt;/SCRIPT&gt;&amp;"), "narrative escaped");
    assert!(body.contains("ax-&lt;i&gt;&amp;"), "file name escaped");
    assert_eq!(get(s.addr, "/entries/EEE-0000000-0").status, 404);

    // Brokers: the scorecard with its charts.
    let body = html(s.addr, "/brokers");
    assert!(body.contains("EEE") && body.matches("<svg").count() == 4);
    let b = api(s.addr, "/api/brokers");
    assert!(b.to_string().contains("\"EEE\""), "{b}");

    // Deadlines: the computed deadlines of the store's entries, page, API and calendar feed.
    // EEE-7654321-3 was released 02/09 with no summary on file: 10 working days after release,
    // skipping the weekends and Presidents' Day (02/16) = 2026-02-24.
    let d = api(s.addr, "/api/deadlines?within=30");
    assert_eq!(d.as_array().map(Vec::len), Some(1), "{d}");
    assert_eq!(
        (d[0]["entry"].as_str(), d[0]["kind"].as_str(), d[0]["due"].as_str()),
        (Some(HELD), Some("summary-filing"), Some("2026-02-24"))
    );
    assert_eq!(o["deadlines_next_30_days_total"], 1);
    let body = html(s.addr, "/deadlines");
    assert!(body.contains(HELD) && body.contains("2026-02-24"));
    let ics = get(s.addr, "/deadlines.ics");
    assert_eq!(ics.status, 200);
    assert!(ics.ctype().starts_with("text/calendar"));
    assert!(ics.body.contains("BEGIN:VEVENT") && ics.body.contains("20260224"), "{}", ics.body);
    // The liquidated entry: its protest deadline is 180 days after liquidation (2026-12-11).
    let kinds: Vec<String> = e["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d["kind"].as_str().unwrap(), d["due"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&"protest 2027-06-09".to_string()), "{kinds:?}");

    // Metrics from the store: 13 files applied (CSV, 9 life, AX, SO, UC; the duplicate is not
    // applied again); 1 quarantined.
    let m = get(s.addr, "/metrics");
    assert_eq!(m.status, 200);
    assert!(m.body.contains("entrywatch_files_processed_total 13"), "{}", m.body);
    assert!(m.body.contains("entrywatch_files_quarantined_total 1"), "{}", m.body);
    assert!(m.body.contains("entrywatch_entries 3"), "{}", m.body);
    assert!(!m.body.contains("entrywatch_store_size_bytes 0\n"), "{}", m.body);
    assert_eq!(get(s.addr, "/healthz").body, "ok\n");
}

// ---------------------------------------------------------------- reports

fn report(i: &Ingested, name: &str, extra: &[&str]) -> String {
    use clap::Parser;
    #[derive(Parser)]
    struct P {
        #[command(flatten)]
        args: entrywatch::cli::report::ReportArgs,
    }
    let mut argv = vec!["report", name];
    argv.extend_from_slice(extra);
    let p = P::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let code = entrywatch::cli::report::run_with_model(&p.args, &model(i), clock(), &mut out);
    assert_eq!(code, 0, "report {name}");
    String::from_utf8(out).unwrap()
}

fn report_json(i: &Ingested, name: &str, extra: &[&str]) -> Vec<Value> {
    let mut a = vec!["--format", "json"];
    a.extend_from_slice(extra);
    serde_json::from_str::<Value>(&report(i, name, &a)).unwrap().as_array().unwrap().clone()
}

fn money(v: &Value) -> i64 {
    // JSON numbers with two decimals: compare in cents.
    (v.as_f64().unwrap() * 100.0).round() as i64
}

#[test]
fn reports_match_the_store() {
    let i = ingest();

    // entry-summary: life-01 line 1 HTS 6110202079 CN, value 0000010000 ($10,000), duty
    // 0000165000 ($1,650.00); line 2 8471300100 VN, $5,000, free; 90-record fees 7071 ($70.71).
    let rows = report_json(&i, "entry-summary", &[]);
    let life: Vec<&Value> = rows.iter().filter(|r| r["entry"] == LIFE).collect();
    assert_eq!(life.len(), 3, "{rows:?}");
    assert_eq!(life[0]["row"], "entry");
    assert_eq!((money(&life[0]["value_usd"]), money(&life[0]["duty_usd"])), (1_500_000, 165_000));
    assert_eq!(money(&life[0]["fees_usd"]), 7071);
    assert_eq!(
        (life[1]["line"].as_u64(), life[1]["hts"].as_str(), life[1]["origin"].as_str()),
        (Some(1), Some("6110202079"), Some("CN"))
    );
    assert_eq!((money(&life[1]["value_usd"]), money(&life[1]["duty_usd"])), (1_000_000, 165_000));
    assert_eq!(
        (life[2]["hts"].as_str(), money(&life[2]["value_usd"]), money(&life[2]["duty_usd"])),
        (Some("8471300100"), 500_000, 0)
    );
    assert_eq!(rows.iter().filter(|r| r["row"] == "entry").count(), 3);
    // Filters reach the store: HTS prefix and importer.
    let only = report_json(&i, "entry-summary", &["--hts", "8471"]);
    assert!(only.iter().all(|r| r["entry"] == LIFE) && !only.is_empty());
    assert!(report_json(&i, "entry-summary", &["--importer", "99-999999900"]).is_empty());

    // liquidation: ER JB status 1 on 12/11/26; JD duty 000000165000 and fees 0000007071 as
    // filed; reason 42.
    let rows = report_json(&i, "liquidation", &[]);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(
        (r["entry"].as_str(), r["liquidated"].as_str(), r["outcome"].as_str()),
        (Some(LIFE), Some("2026-12-11"), Some("as-filed"))
    );
    assert_eq!(
        (money(&r["filed_duty_usd"]), money(&r["liq_duty_usd"]), money(&r["duty_diff_usd"])),
        (165_000, 165_000, 0)
    );
    assert_eq!((money(&r["filed_fees_usd"]), money(&r["liq_fees_usd"])), (7071, 7071));
    assert_eq!(r["reasons"], "42");

    // rejected: the AX of 02/03/26 (F408 + R998) for 7654321; UC 4/003 of 03/10/26 for 1234567.
    let rows = report_json(&i, "rejected", &[]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let held = rows.iter().find(|r| r["entry"] == HELD).unwrap();
    assert_eq!(held["codes"], "408 998");
    assert!(held["rejected_at"].as_str().unwrap().starts_with("2026-02-03"));
    assert_eq!(held["corrected"], false);
    let life = rows.iter().find(|r| r["entry"] == LIFE).unwrap();
    assert_eq!((life["version"].as_str(), life["codes"].as_str()), (Some("00100"), Some("003")));
    assert!(life["rejected_at"].as_str().unwrap().starts_with("2026-03-10"));

    // statements: PF final 2726041A01, Q6 billed 172071 = duty 165000 + fees 7071 as filed.
    let rows = report_json(&i, "statements", &[]);
    assert_eq!(rows.len(), 1);
    let st = &rows[0];
    assert_eq!(
        (st["statement"].as_str(), st["status"].as_str(), st["paid"].as_str()),
        (Some("2726041A01"), Some("final"), Some("2026-02-10"))
    );
    assert_eq!(st["entries"], 1);
    assert_eq!(
        (money(&st["billed_usd"]), money(&st["filed_usd"]), money(&st["difference_usd"])),
        (172_071, 172_071, 0)
    );

    // anomalies: both rejections are uncorrected; the FDA hold (02/05 10:12) is open 15 days
    // at 2026-02-20 09:00, longer than 5 days but not 20.
    let rows = report_json(&i, "anomalies", &[]);
    let kinds = |rows: &[Value], k: &str| {
        rows.iter().filter(|r| r["kind"] == k).map(|r| r["entry"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(kinds(&rows, "rejection-uncorrected"), vec![LIFE.to_string(), HELD.to_string()]);
    assert_eq!(kinds(&rows, "hold-open"), vec![HELD.to_string()]);
    let rows = report_json(&i, "anomalies", &["--hold-days", "20"]);
    assert!(kinds(&rows, "hold-open").is_empty());

    // brokers: EEE has 3 entries, 2 ever rejected (66.7 %), and arrival→release 101.8 h for the two
    // released entries (SO50 02/05 08:15 → SO60 02/09 14:05).
    let rows = report_json(&i, "brokers", &[]);
    assert_eq!(rows.len(), 1);
    let b = &rows[0];
    assert_eq!((b["broker"].as_str(), b["entries"].as_u64()), (Some("EEE"), Some(3)));
    assert_eq!(money(&b["rejection_pct"]), 6670);
    assert_eq!(money(&b["release_median_h"]), 10180, "101.8 h, one decimal");

    // Every report runs in every format over the store.
    for name in NAMES {
        for f in ["text", "csv", "json"] {
            let out = report(&i, name, &["--format", f]);
            assert!(!out.is_empty(), "{name} {f}");
        }
    }
    // The CSV has a header and one row per rejected version.
    let csv = report(&i, "rejected", &["--format", "csv"]);
    assert_eq!(csv.lines().count(), 3, "{csv}");
}

#[test]
fn the_report_command_reads_the_store() {
    let i = ingest();
    let cfg_path = i.cfg.data_dir.parent().unwrap().join("entrywatch.toml");
    std::fs::write(&cfg_path, format!("data-dir = {:?}\n", i.cfg.data_dir)).unwrap();
    let _dir = i._dir;
    // The store is single-process: close ours before the command opens it.
    drop(i.pipeline);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_entrywatch"))
        .args(["report", "liquidation", "--format", "csv", "--config"])
        .arg(&cfg_path)
        .env("ENTRYWATCH_NOW", NOW)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let mut lines = out.lines();
    assert!(lines.next().unwrap().starts_with("entry,"));
    let row = lines.next().unwrap();
    assert!(
        row.starts_with(&format!("{LIFE},12-345678900,EEE,2026-12-11,as-filed,1650.00,1650.00,0.00,70.71,70.71,0.00")),
        "{row}"
    );
    assert!(lines.next().is_none());
    // An unknown report is a usage error before the store is touched.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_entrywatch"))
        .args(["report", "nope", "--config"])
        .arg(&cfg_path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn lookups_and_the_aggregates_follow_new_files() {
    let i = ingest();
    let m = model(&i);
    assert_eq!(m.entry("eee 1234567 3").map(|e| e.entry), Some(LIFE.to_string()));
    assert!(m.entry("not an entry").is_none());
    assert!(m.entry("EEE-0000000-0").is_none());
    let all: Vec<String> = m.entries(&EntryFilter::default()).map(|e| e.entry).collect();
    assert_eq!(all, vec![LIFE.to_string(), NOTICE_ONLY.to_string(), HELD.to_string()]);
    let held = EntryFilter { status: Some("held".into()), ..EntryFilter::default() };
    assert_eq!(m.entries(&held).map(|e| e.entry).collect::<Vec<_>>(), vec![HELD.to_string()]);
    assert_eq!(m.open_holds(false, 10).total, 1);
    // A new file moves the store: the next overview query sees the second held entry.
    let p = i.cfg.data_dir.parent().unwrap().join("in/broker/so-2.abi");
    std::fs::write(&p, sample::so_exam_fda_release("EEE", 2345678)).unwrap();
    let broker = i.cfg.inbox("broker").unwrap().clone();
    assert!(matches!(i.pipeline.process(&broker, &p).unwrap(), Outcome::Applied { .. }));
    let holds = m.open_holds(true, 10);
    assert_eq!(holds.total, 2);
    assert_eq!(holds.rows.len(), 2);
    assert_eq!(m.open_holds(true, 1).rows.len(), 1);
    assert_eq!(m.metrics().entries, 4);
    assert_eq!(m.metrics().files_processed, 14);
    // A replacement for an entry already counted: the incremental update takes its old share out.
    let p = i.cfg.data_dir.parent().unwrap().join("in/broker/so-3.abi");
    std::fs::write(&p, sample::so_hold_release_removed("EEE", 2345678)).unwrap();
    assert!(matches!(i.pipeline.process(&broker, &p).unwrap(), Outcome::Applied { .. }));
    // Two filings of the same HTS: `report anomalies` has a median rate to compare with.
    for (name, tx) in [("ae-2.abi", 2345678), ("ae-4.abi", 4567890)] {
        let p = i.cfg.data_dir.parent().unwrap().join("in/broker").join(name);
        std::fs::write(&p, sample::ae("EEE", tx, "A")).unwrap();
        assert!(matches!(i.pipeline.process(&broker, &p).unwrap(), Outcome::Applied { .. }));
    }
    // `report anomalies`' other kinds: a line filed at 26.5 % where the HTS's median is 16.5 %
    // (AE 50 record, duty amount at column 14), and the ER of the samples' life on another
    // entry, liquidating fees of 70.71 where 47.14 were filed (liquidated higher).
    let ae = String::from_utf8(sample::ae("EEE", 3456789, "A")).unwrap();
    let ae: String = ae
        .split_inclusive('\n')
        .map(|l| if l.starts_with("50") { l.replacen("0000165000", "0000265000", 1) } else { l.to_string() })
        .collect();
    let er = std::fs::read_to_string(samples().join("life-09-er-liquidated.abi")).unwrap();
    let er = er.replace(&sample::entry_field("EEE", 1234567), &sample::entry_field("EEE", 4567890));
    for (name, bytes) in [("ae-3.abi", ae), ("er-4.abi", er)] {
        let p = i.cfg.data_dir.parent().unwrap().join("in/broker").join(name);
        std::fs::write(&p, bytes).unwrap();
        assert!(matches!(i.pipeline.process(&broker, &p).unwrap(), Outcome::Applied { .. }), "{name}");
    }
    // The aggregates kept in each file's transaction equal a fresh in-memory model of the same entries.
    let fresh = MemoryModel::new(m.entries(&EntryFilter::default()).collect());
    assert_eq!(m.open_holds(false, 100), fresh.open_holds(false, 100));
    assert_eq!(m.open_holds(true, 100), fresh.open_holds(true, 100));
    let (from, to) = (NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2028, 12, 31).unwrap());
    assert_eq!(m.deadlines_between(from, to, 100), fresh.deadlines_between(from, to, 100));
    assert!(m.deadlines_between(from, to, 100).total >= 3);
    assert_eq!(m.message_volume(from, to), fresh.message_volume(from, to));
    assert_eq!(m.cycle_trend(), fresh.cycle_trend());
    // The broker scorecard from the index's sums equals the one that visits every entry.
    use entrywatch::report::brokers::scorecard;
    assert!(m.broker_scorecard().is_some(), "the store answers from its index");
    assert_eq!(scorecard(&m, &EntryFilter::default()), scorecard(&fresh, &EntryFilter::default()));
    assert!(!scorecard(&m, &EntryFilter::default()).is_empty());
    assert_eq!(m.deadlines_between(to, from, 10).total, 0);
    // The row reports read through the index's postings (liquidated, rejected) and give the
    // rows a visit of every entry gives.
    let csv = |model: &dyn ReadModel, name: &str| {
        let p = entrywatch::report::Params::new(EntryFilter::default(), clock().now());
        let mut out = Vec::new();
        let r = entrywatch::report::build(name, model, &p).unwrap();
        entrywatch::report::write_report(r, entrywatch::report::Format::Csv, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let stats = m.hts_stats().expect("the store keeps the anomalies' statistics");
    assert!(!stats.median_bp.is_empty(), "the samples have HTS with two rated lines");
    for name in ["liquidation", "rejected", "entry-summary", "anomalies"] {
        let (kept, visited) = (csv(&m, name), csv(&fresh, name));
        assert_eq!(kept, visited, "report {name}");
        assert!(kept.lines().count() > 1, "report {name} has rows:\n{kept}");
    }
    // `report anomalies` reads only the candidates the index names (no filter): the same rows
    // as a visit of every entry, for each kind and for other cut-offs and tolerances.
    let anomalies = |model: &dyn ReadModel, hold_days: i64, tol: i64| {
        let mut p = entrywatch::report::Params::new(EntryFilter::default(), clock().now());
        (p.hold_days, p.rate_tolerance_bp) = (hold_days, tol);
        let mut out = Vec::new();
        let r = entrywatch::report::build("anomalies", model, &p).unwrap();
        entrywatch::report::write_report(r, entrywatch::report::Format::Csv, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let kept = anomalies(&m, 5, 50);
    for kind in ["duty-rate", "liquidated-higher", "rejection-uncorrected", "hold-open"] {
        assert!(kept.lines().any(|l| l.starts_with(&format!("{kind},"))), "anomalies has {kind} rows:\n{kept}");
    }
    // The store reads only its candidates: the entry known only from a UC notice is none.
    let hold_before = clock().now() - chrono::Duration::days(5);
    let candidates: Vec<String> = m.anomaly_candidates(&stats, hold_before, 50).unwrap().map(|e| e.entry).collect();
    assert!(!candidates.is_empty() && !candidates.contains(&NOTICE_ONLY.to_string()), "{candidates:?}");
    for (hold_days, tol) in
        [(0, 0), (-1, -1), (14, 1), (15, 10_000), (20, 50), (i64::MAX, i64::MAX), (i64::MIN, i64::MIN)]
    {
        assert_eq!(
            anomalies(&m, hold_days, tol),
            anomalies(&fresh, hold_days, tol),
            "hold {hold_days} tolerance {tol}"
        );
    }
    // A filter (here one that keeps every entry) makes the store visit the entries instead.
    let every = EntryFilter { from: NaiveDate::from_ymd_opt(1900, 1, 1), ..EntryFilter::default() };
    let p = entrywatch::report::Params::new(every, clock().now());
    let mut visited = Vec::new();
    let r = entrywatch::report::build("anomalies", &m, &p).unwrap();
    entrywatch::report::write_report(r, entrywatch::report::Format::Csv, &mut visited).unwrap();
    assert_eq!(csv(&m, "anomalies"), String::from_utf8(visited).unwrap());
    let edge = NaiveDate::MAX;
    assert_eq!(m.deadlines_between(from, edge, 0).total, fresh.deadlines_between(from, edge, 0).total);
}

// ---------------------------------------------------------------- one view everywhere

/// `entry ENTRY --json` run the way the CLI runs it (dispatch::exec against the store).
fn cli_entry(i: &Ingested, entry: &str, json: bool) -> String {
    use entrywatch::cli::dispatch::{exec, Ctx, Io, Query};
    let ctx = Ctx { config: i.cfg.clone(), store: i.store(), clock: clock() };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code =
        exec(&Query::Entry { entry: entry.into(), json }, &ctx, &mut Io { out: &mut out, err: &mut err, tty: false });
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    String::from_utf8(out).unwrap()
}

#[test]
fn one_entry_reads_the_same_in_the_cli_the_api_the_dashboard_and_the_reports() {
    let i = ingest();
    let s = start(&i);
    for entry in [LIFE, HELD, NOTICE_ONLY] {
        // The CLI's document and the API's are the same value: one view, one serde form.
        let cli: Value = serde_json::from_str(&cli_entry(&i, entry, true)).unwrap();
        let api_doc = api(s.addr, &format!("/api/entries/{entry}"));
        assert_eq!(cli, api_doc, "{entry}: entry --json and /api/entries differ");
        // Every event time carries its offset.
        for ev in cli["events"].as_array().unwrap() {
            let at = ev["at"].as_str().unwrap();
            assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{entry}: {at}");
        }
        // The dashboard's page shows the same statuses and open deadlines, the text the same.
        let page = html(s.addr, &format!("/entries/{entry}"));
        let text = cli_entry(&i, entry, false);
        for key in ["summary", "release", "liquidation", "variance"] {
            let status = cli[key]["status"].as_str().unwrap();
            assert!(page.contains(&format!(">{status}<")), "{entry}: page lacks {key} {status}");
            if key != "variance" {
                assert!(text.contains(status), "{entry}: text lacks {key} {status}");
            }
        }
        for d in cli["deadlines"].as_array().unwrap().iter().filter(|d| d["done"] == false) {
            let due = d["due"].as_str().unwrap();
            assert!(page.contains(due), "{entry}: page lacks deadline {due}");
            assert!(text.contains(due), "{entry}: text lacks deadline {due}");
        }
        // The overview's deadlines list takes the same rows from the index.
        let (from, to) = (NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2035, 1, 1).unwrap());
        let listed: Vec<String> = model(&i)
            .deadlines_between(from, to, usize::MAX)
            .rows
            .into_iter()
            .filter(|r| r.entry == entry)
            .map(|r| format!("{} {}", r.deadline.kind, r.deadline.due))
            .collect();
        let own: Vec<String> = cli["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["done"] == false)
            .map(|d| format!("{} {}", d["kind"].as_str().unwrap(), d["due"].as_str().unwrap()))
            .collect();
        let mut sorted = own.clone();
        sorted.sort();
        let mut listed_sorted = listed.clone();
        listed_sorted.sort();
        assert_eq!(listed_sorted, sorted, "{entry}: the index's deadlines and the entry's");
    }
    // The entry known only from a UC notice has no summary: "none" everywhere, never "unknown".
    let notice: Value = serde_json::from_str(&cli_entry(&i, NOTICE_ONLY, true)).unwrap();
    assert_eq!(notice["summary"]["status"], "none");
    assert!(!html(s.addr, &format!("/entries/{NOTICE_ONLY}")).contains(">unknown<"));
    // The entry-summary report's rows for LIFE carry the view's totals, money by the one formatter.
    let life: Value = serde_json::from_str(&cli_entry(&i, LIFE, true)).unwrap();
    let rows = report_json(&i, "entry-summary", &[]);
    let mine: Vec<&Value> = rows.iter().filter(|r| r["entry"] == LIFE && r["row"] == "line").collect();
    assert!(!mine.is_empty());
    let duty: i64 = mine.iter().map(|r| money(&r["duty_usd"])).sum();
    let total = rows.iter().find(|r| r["entry"] == LIFE && r["row"] == "entry").unwrap();
    assert_eq!(money(&total["duty_usd"]), life["totals"]["duty_cents"].as_i64().unwrap());
    let filed: i64 = life["filing"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| l["tariffs"].as_array().unwrap().iter())
        .map(|t| {
            let s = t["duty"].as_str().unwrap();
            (s.parse::<f64>().unwrap() * 100.0).round() as i64
        })
        .sum();
    assert_eq!(duty, filed, "the report's duty and the entry's filed duty");
}
