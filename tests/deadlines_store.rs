//! Deadlines on the real store: ABI files through the real pipeline into sled, each deadline kind computed from the ingested facts (worked examples below), `entry --json` / `deadlines --json` / `--ics` from the binary under ENTRYWATCH_NOW, and reminders reaching a real SMTP server (aiosmtpd, tests/common/smtp_server.py, 127.0.0.1) exactly once while time moves forward across restarts, following moved deadlines, silent once done.

mod common;

use common::smtp::Server;

use chrono::{DateTime, FixedOffset};
use entrywatch::alert::mailer::Mailer;
use entrywatch::alert::service::deliver_once;
use entrywatch::clock::Clock;
use entrywatch::config::Config;
use entrywatch::deadline::scheduler::{
    next_reminder, remind_once, remind_pass, run_scheduler, Pass, ReminderRecord, Scheduler,
};
use entrywatch::grammar::Grammars;
use entrywatch::ingest::sample::{entry_display, entry_field, pf, record, AeSpec};
use entrywatch::ingest::{Outcome, Pipeline};
use entrywatch::store::{Store, Table};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const FILER: &str = "EEE";
/// Released 2026-02-09, no entry summary yet.
const A: u32 = 1_000_001;
/// Released 2026-02-09, entry summary filed 2026-02-12.
const B: u32 = 1_000_002;
/// Liquidated 2025-09-01, later reliquidated 2026-02-23.
const D: u32 = 1_000_004;
/// On daily statement 2726041A01, itself on a periodic monthly statement.
const F: u32 = 1_000_006;
/// Entry 2026-01-15 from Mexico, reconciliation flagged, liquidation scheduled then extended.
const G: u32 = 1_000_007;

// ---------------------------------------------------------------- ABI files

fn batch(app: &str, date: &str, b_extra: &[(usize, &str)], body: &[String]) -> Vec<u8> {
    entrywatch::ingest::sample::batch(app, date, b_extra, body, FILER)
}

/// An AE entry summary transmitted on `day` (MMDDYY), one line from `origin`.
fn ae(tx: u32, day: &str, entry_date: &str, import_date: &str, origin: &str, recon_issue: &str) -> Vec<u8> {
    AeSpec {
        filer: FILER,
        tx,
        recon_issue,
        day,
        statement_date: day,
        entry_date,
        import_date,
        origin,
        ..AeSpec::default()
    }
    .build()
}

/// A cargo release (SO60 98) on `day` (MMDDYY).
fn so_release(tx: u32, day: &str) -> Vec<u8> {
    let en = entry_field(FILER, tx);
    let body = vec![
        record(&[(1, "SO10"), (5, "2704"), (9, FILER), (14, &en), (23, "01"), (25, "12-345678900")]),
        record(&[(1, "SO60"), (5, day), (11, "1405"), (15, "98"), (17, "RELEASED"), (57, day), (63, "01")]),
    ];
    batch("SO", day, &[], &body)
}

/// An ESQ response (ER) sent on `day`: liquidation status (1 liquidated, 2 not yet, 3
/// reliquidated) and date, extension/suspension codes and date, protest status, CBP entry date.
#[allow(clippy::too_many_arguments)]
fn er(
    tx: u32,
    day: &str,
    status: &str,
    date: &str,
    codes: &[&str],
    ext_date: &str,
    protest: &str,
    entry: &str,
) -> Vec<u8> {
    let en = entry_field(FILER, tx);
    let mut jc =
        vec![(1, "JC"), (3, "1"), (4, "1"), (5, "020226"), (12, "1"), (20, "2"), (28, ext_date), (42, protest)];
    for (k, c) in codes.iter().enumerate() {
        jc.push((71 + 2 * k, c));
    }
    let zeros = "000000000000";
    let body = vec![
        record(&[(1, "JB"), (3, FILER), (8, &en), (16, "00100"), (43, status), (44, date), (51, "CEE001")]),
        record(&jc),
        record(&[(1, "JD"), (4, entry), (10, zeros), (22, zeros), (34, zeros), (46, zeros), (58, zeros)]),
    ];
    batch("ER", day, &[], &body)
}

/// The periodic monthly statement of samples/abi/ms-monthly.abi (it lists daily statement
/// 2726041A01), with the PMS due date set to `due` (MMDDYY).
fn ms(due: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/abi/ms-monthly.abi"))
        .expect("ms sample");
    assert!(text.contains("Q32726P02A01031726032026"), "the sample's Q3 record changed");
    text.replace("Q32726P02A01031726032026", &format!("Q32726P02A01031726{due}")).into_bytes()
}

// ---------------------------------------------------------------- the SMTP server

/// The raw messages aiosmtpd received so far, in arrival order.
fn raw_mails(server: &Server) -> Vec<String> {
    server.received().into_iter().map(|m| m.data).collect()
}

/// One unfolded header of a raw message.
fn header(raw: &str, name: &str) -> Option<String> {
    common::smtp::header(raw, name).into_iter().next()
}

// ---------------------------------------------------------------- a data dir

struct Env {
    dir: tempfile::TempDir,
    port: u16,
    grammars: Grammars,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = common::smtp::free_port();
        let root = dir.path();
        std::fs::create_dir_all(root.join("in")).expect("inbox");
        let cfg = format!(
            r#"data-dir = {:?}
[[inbox]]
name = "broker"
path = {:?}
role = "broker"

[smtp]
host = "127.0.0.1"
port = {port}
from = "entrywatch <entrywatch@example.com>"
timeout-secs = 5

[[route]]
to = ["deadlines@example.com"]
categories = ["deadline"]
min-severity = "warning"

[deadlines]
timezone = "America/New_York"
remind-days = [7, 1]
remind-hour = 8
"#,
            root.join("data"),
            root.join("in"),
        );
        std::fs::write(root.join("entrywatch.toml"), cfg).expect("config");
        Env { dir, port, grammars: Grammars::embedded().expect("embedded grammars") }
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("entrywatch.toml")
    }

    fn config(&self) -> Config {
        Config::from_toml(&std::fs::read_to_string(self.config_path()).expect("config"), "test").expect("valid")
    }

    /// Open the pipeline (and with it the store) with the clock at `now`.
    /// (sled releases its file lock from a background thread shortly after the last handle
    /// of the previous step is dropped: retry for a moment.)
    fn open(&self, now: &str) -> Pipeline {
        let mut tries = 0;
        loop {
            match Pipeline::open(&self.config(), &self.grammars, Clock::Fixed(t(now))) {
                Ok(p) => return p,
                Err(entrywatch::ingest::IngestError::Store(entrywatch::store::StoreError::InUse { .. }))
                    if tries < 100 =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => panic!("pipeline opens: {e}"),
            }
        }
    }

    /// Push files through the pipeline at `now`; every one must apply.
    fn ingest(&self, p: &Pipeline, files: &[(&str, Vec<u8>)]) {
        let inbox = self.config().inbox("broker").cloned().expect("inbox");
        for (name, bytes) in files {
            let path = self.dir.path().join("in").join(name);
            std::fs::write(&path, bytes).expect("drop file");
            let o = p.process(&inbox, &path).expect("processed");
            assert!(matches!(o, Outcome::Applied { .. }), "{name}: {o:?}");
        }
    }

    fn cli(&self, now: &str, args: &[&str]) -> String {
        let o = Command::new(env!("CARGO_BIN_EXE_entrywatch"))
            .env("ENTRYWATCH_NOW", now)
            .env_remove("ENTRYWATCH_CONFIG")
            .args(args)
            .arg("--config")
            .arg(self.config_path())
            .output()
            .expect("run entrywatch");
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).expect("utf-8")
    }

    fn json(&self, now: &str, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.cli(now, args)).expect("json output")
    }
}

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("rfc3339")
}

fn compact(tx: u32) -> String {
    entry_display(FILER, tx).replace('-', "")
}

/// The deadline of `kind` in an `entry --json` document.
fn kind<'a>(entry: &'a serde_json::Value, k: &str) -> &'a serde_json::Value {
    entry["deadlines"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["kind"] == k))
        .unwrap_or_else(|| panic!("no {k} deadline in {:#}", entry["deadlines"]))
}

fn reminder_ids(store: &Store) -> Vec<String> {
    store
        .scan::<ReminderRecord>(Table::Reminders)
        .map(|r| String::from_utf8_lossy(&r.expect("reminder record").0).into_owned())
        .collect()
}

// ---------------------------------------------------------------- each kind from ingested facts

#[test]
fn each_deadline_kind_from_ingested_files_and_the_cli() {
    let env = Env::new();
    {
        let p = env.open("2026-06-02T09:00:00-04:00");
        env.ingest(
            &p,
            &[
                ("so-a.abi", so_release(A, "020926")),
                ("so-b.abi", so_release(B, "020926")),
                ("ae-b.abi", ae(B, "021226", "020926", "020726", "CN", "")),
                ("er-d.abi", er(D, "090525", "1", "090125", &[], "", "NO", "100124")),
                ("pf-f.abi", pf(FILER, &[F], false)),
                ("ms.abi", ms("052526")),
                ("ae-g.abi", ae(G, "011526", "011526", "011826", "MX", "001")),
                ("er-g.abi", er(G, "060126", "2", "120426", &[], "", "NO", "011526")),
            ],
        );
    }
    let now = "2026-06-02T09:00:00-04:00";

    // summary-filing: released Mon 2026-02-09, no summary: 10 working days after release,
    // skipping the weekends and Washington's Birthday (Mon 2026-02-16):
    // Feb 10 11 12 13 | 17 18 19 20 | 23 24 → due Tue 2026-02-24. Open (not filed).
    let a = env.json(now, &["entry", &entry_display(FILER, A), "--json"]);
    let sf = kind(&a, "summary-filing");
    assert_eq!(
        (sf["due"].as_str(), sf["done"].as_bool(), sf["estimated"].as_bool()),
        (Some("2026-02-24"), Some(false), Some(false))
    );
    // Entry B's summary came 2026-02-12, after its release: same rule, done.
    let b = env.json(now, &["entry", &entry_display(FILER, B), "--json"]);
    let sf = kind(&b, "summary-filing");
    assert_eq!((sf["due"].as_str(), sf["done"].as_bool()), (Some("2026-02-24"), Some(true)));

    // statement-payment: daily statement 2726041A01 is on a periodic monthly statement due
    // Mon 2026-05-25 = Memorial Day (last Monday of May 2026) → due Fri 2026-05-22, legal
    // 2026-05-25; preliminary statement, so not paid.
    let f = env.json(now, &["entry", &entry_display(FILER, F), "--json"]);
    let sp = kind(&f, "statement-payment");
    assert_eq!(
        (sp["due"].as_str(), sp["legal"].as_str(), sp["done"].as_bool()),
        (Some("2026-05-22"), Some("2026-05-25"), Some(false))
    );
    assert!(sp["rule"].as_str().unwrap_or("").contains("Memorial Day"), "{sp}");

    let g = env.json(now, &["entry", &entry_display(FILER, G), "--json"]);
    // psc: entry 2026-01-15 + 300 days = Wed 2026-11-11 (Veterans Day); scheduled liquidation
    // 2026-12-04 - 15 days = 2026-11-19; the earlier is 11-11, not a working day → Tue 2026-11-10.
    let psc = kind(&g, "psc");
    assert_eq!(
        (psc["due"].as_str(), psc["legal"].as_str(), psc["estimated"].as_bool()),
        (Some("2026-11-10"), Some("2026-11-11"), Some(false))
    );
    assert!(psc["rule"].as_str().unwrap_or("").contains("Veterans Day"), "{psc}");
    // fta-claim (changed, issue 14: the day before the anniversary, 19 U.S.C. 1520(d)):
    // origin MX (USMCA) without an SPI claim; imported 2026-01-18, last day Sun 2027-01-17
    // → Fri 2027-01-15.
    let fta = kind(&g, "fta-claim");
    assert_eq!(
        (fta["due"].as_str(), fta["legal"].as_str(), fta["done"].as_bool()),
        (Some("2027-01-15"), Some("2027-01-17"), Some(false))
    );
    // reconciliation: issue code 001 (value); the importer's earliest flagged summary is not
    // known, so this summary (filed 2026-01-15) + 21 months = Fri 2027-10-15, estimated.
    let rec = kind(&g, "reconciliation");
    assert_eq!((rec["due"].as_str(), rec["estimated"].as_bool()), (Some("2027-10-15"), Some(true)));
    // liquidation: the ER's scheduled date (status 2, JB 44–49) Fri 2026-12-04, not estimated.
    let liq = kind(&g, "liquidation");
    assert_eq!((liq["due"].as_str(), liq["estimated"].as_bool()), (Some("2026-12-04"), Some(false)));
    // deemed-liquidation: entry + 1 year = Fri 2027-01-15. Changed (issue 14): the extension
    // request must come before the scheduled liquidation with a 15-day lead: Fri 2026-12-04
    // - 15 days = Thu 2026-11-19.
    assert_eq!(kind(&g, "deemed-liquidation")["due"], "2027-01-15");
    assert_eq!(kind(&g, "extension-request")["due"], "2026-11-19");
    // Entry B has no ER: entry 2026-02-09 + 314 days = Sun 2026-12-20; changed (issue 14):
    // the estimate lands on ACE's Friday cycle, Fri 2026-12-18.
    let liq = kind(&b, "liquidation");
    assert_eq!((liq["due"].as_str(), liq["estimated"].as_bool()), (Some("2026-12-18"), Some(true)));

    // protest: liquidated 2025-09-01 + 180 days = Sat 2026-02-28 → Fri 2026-02-27. No PSC
    // window once liquidated.
    let d = env.json(now, &["entry", &entry_display(FILER, D), "--json"]);
    let pr = kind(&d, "protest");
    assert_eq!(
        (pr["due"].as_str(), pr["legal"].as_str(), pr["done"].as_bool()),
        (Some("2026-02-27"), Some("2026-02-28"), Some(false))
    );
    assert!(d["deadlines"].as_array().is_some_and(|a| a.iter().all(|x| x["kind"] != "psc")), "{d:#}");

    // The human `entry` shows the same block before the timeline.
    let text = env.cli(now, &["entry", &entry_display(FILER, G)]);
    let (head, tail) = text.split_once("Timeline:").expect("timeline");
    assert!(head.contains("Deadlines:") && head.contains("2026-11-10 Tue psc"), "{text}");
    assert!(!tail.contains("Deadlines:"));

    // `deadlines --json`: open deadlines across entries, overdue first, soonest first,
    // interface.md keys; done ones (B's summary) left out.
    let rows = env.json(now, &["deadlines", "--json"]);
    let rows = rows.as_array().expect("array");
    let dues: Vec<&str> = rows.iter().map(|r| r["due"].as_str().expect("due")).collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted, "soonest first");
    for r in rows {
        for k in ["entry", "kind", "due", "estimated", "rule"] {
            assert!(r.get(k).is_some(), "{k} missing in {r}");
        }
        assert_eq!(r["done"], false);
    }
    assert_eq!(rows[0]["entry"], entry_display(FILER, A));
    assert_eq!(rows[0]["kind"], "summary-filing");
    // --within 200: due by 2026-12-19 (and overdue ones).
    let within = env.json(now, &["deadlines", "--json", "--within", "200"]);
    let within = within.as_array().expect("array");
    assert!(within.iter().all(|r| r["due"].as_str().is_some_and(|d| d <= "2026-12-19")));
    assert!(within.iter().any(|r| r["kind"] == "psc" && r["due"] == "2026-11-10"));
    assert!(within.len() < rows.len());

    // The human listing: one line per open deadline, overdue ones marked.
    let text = env.cli(now, &["deadlines"]);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.starts_with("2026-02-24  overdue 98d") && first.contains("summary-filing"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("2026-11-10  in 161d") && l.contains(" psc ")), "{text}");
    assert_eq!(text.lines().count(), rows.len());

    // --ics: one VEVENT per deadline in the horizon, stable UID per entry and kind, CRLF.
    let ics = env.cli(now, &["deadlines", "--ics", "--within", "200"]);
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
    assert!(ics.contains(&format!("UID:{}-psc@entrywatch\r\n", compact(G))), "{ics}");
    assert!(ics.contains("DTSTART;VALUE=DATE:20261110\r\n"));
    assert!(!ics.contains("DTSTART;VALUE=DATE:20270115"), "beyond the horizon");

    // An importer extension (ER code 50) with the new scheduled date 2027-12-03 moves the
    // liquidation, the deemed liquidation (entry + 2 years = Sat 2028-01-15, an event, shown
    // as is) and the extension request (2027-12-03 - 15 days = Thu 2027-11-18). Changed
    // (issue 14; 84 FR 40430): after an importer-requested extension the PSC may be filed up
    // to 15 days before the extended liquidation date, so it moves to 2027-11-18 too.
    {
        let p = env.open("2026-11-03T09:00:00-05:00");
        env.ingest(&p, &[("er-g2.abi", er(G, "110226", "2", "120327", &["50"], "110226", "NO", "011526"))]);
    }
    let g = env.json("2026-11-03T09:00:00-05:00", &["entry", &entry_display(FILER, G), "--json"]);
    assert_eq!(kind(&g, "liquidation")["due"], "2027-12-03");
    assert_eq!(kind(&g, "deemed-liquidation")["due"], "2028-01-15");
    assert_eq!(kind(&g, "extension-request")["due"], "2027-11-18");
    assert_eq!(kind(&g, "psc")["due"], "2027-11-18");

    // `deadlines --remind` at 2026-11-26 09:00: entries A (entry date estimated from its
    // release 2026-02-09, 19 CFR 141.68(a)) and B (entry 2026-02-09) have their PSC and
    // extension request on Thu 2026-12-03 (liquidation estimated Fri 12-18 - 15 days), whose
    // 7-day lead is today at 08:00; everything else is overdue (not reminded) or later.
    // Once only.
    let now = "2026-11-26T09:00:00-05:00";
    assert_eq!(env.cli(now, &["deadlines", "--remind"]).trim(), "4 reminder(s) queued");
    assert_eq!(env.cli(now, &["deadlines", "--remind"]).trim(), "0 reminder(s) queued");
    let outbox = env.json(now, &["alerts", "--json"]);
    let mut ids: Vec<&str> = outbox.as_array().expect("array").iter().filter_map(|r| r["id"].as_str()).collect();
    ids.sort();
    let mut want: Vec<String> = [A, B]
        .iter()
        .flat_map(|tx| ["psc", "extension-request"].map(|k| format!("reminder/{}/{k}/2026-12-03/7", compact(*tx))))
        .collect();
    want.sort();
    assert_eq!(ids, want);
}

// ---------------------------------------------------------------- reminders by mail

fn deliver(env: &Env, store: &Store, now: &str) -> tokio::task::JoinHandle<usize> {
    let config = env.config();
    let mailer = Mailer::from_config(&config).expect("mailer");
    let store = store.clone();
    let now = t(now);
    tokio::spawn(async move { deliver_once(&store, &mailer, now, config.timezone()).await.sent.len() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_reach_smtp_once_across_restarts_follow_moved_deadlines_and_stop_when_done() {
    let env = Env::new();
    let Some(server) = Server::start(env.port, &env.dir.path().join("smtp"), &[]) else { return };
    let config = env.config();
    let id = |tx: u32, kind: &str, due: &str, lead: u32| format!("reminder/{}/{kind}/{due}/{lead}", compact(tx));

    // 2026-02-10: a backlog arrives. A: summary due 02-24 (reminders 02-17, 02-23, 02-24 at
    // 08:00); B: summary filed (done, silent), and (changed, issue 14) its daily statement
    // (payment type 2, no PF yet) due release + 10 working days = 02-24, estimated (02-17,
    // 02-23, 02-24); D: protest due 02-27 (02-20, 02-26, 02-27); F: statement due Fri 02-20
    // (02-13, 02-19, 02-20).
    let now = "2026-02-10T09:00:00-05:00";
    {
        let p = env.open(now);
        env.ingest(
            &p,
            &[
                ("so-a.abi", so_release(A, "020926")),
                ("so-b.abi", so_release(B, "020926")),
                ("ae-b.abi", ae(B, "021226", "020926", "020726", "CN", "")),
                ("er-d.abi", er(D, "090525", "1", "090125", &[], "", "NO", "100124")),
                ("pf-f.abi", pf(FILER, &[F], false)),
                ("ms.abi", ms("022026")),
            ],
        );
        assert_eq!(remind_once(p.store(), &config, t(now)).expect("pass"), 0, "nothing due before 02-13");
        // The scheduler would sleep until F's 7-day reminder.
        assert_eq!(next_reminder(p.store(), &config, t(now)).expect("next"), Some(t("2026-02-13T08:00:00-05:00")));
    }

    // 2026-02-13 09:00: F's 7-day reminder, mailed once; a second pass queues nothing.
    let now = "2026-02-13T09:00:00-05:00";
    {
        let p = env.open(now);
        assert_eq!(remind_once(p.store(), &config, t(now)).expect("pass"), 1);
        // A second pass queues nothing; the scheduler would sleep until A's 7-day reminder.
        let pass = remind_pass(p.store(), &config, t(now)).expect("pass");
        assert_eq!(pass, Pass { queued: 0, next: Some(t("2026-02-17T08:00:00-05:00")) });
        assert_eq!(deliver(&env, p.store(), now).await.expect("join"), 1);
    }
    let mails = raw_mails(&server);
    assert_eq!(mails.len(), 1);
    assert_eq!(header(&mails[0], "X-Entrywatch-Alert-Id"), Some(id(F, "statement-payment", "2026-02-20", 7)));
    let subject = header(&mails[0], "Subject").expect("subject");
    assert!(
        subject.starts_with(&format!("[entrywatch] REMINDER Deadline coming: {}", entry_display(FILER, F))),
        "{subject}"
    );
    assert!(subject.contains("Statement payment due in 7 days (due 2026-02-20)"), "{subject}");
    assert_eq!(header(&mails[0], "To").as_deref(), Some("deadlines@example.com"));

    // 2026-02-14: the final statement (a daily statement, payment type 2: final means paid,
    // 05-daily-statement page 6), so F's 1-day and same-day reminders never go. (Restart:
    // the store is closed and reopened between every step.)
    {
        let p = env.open("2026-02-14T10:00:00-05:00");
        let mut final_pf = String::from_utf8(pf(FILER, &[F], true)).expect("ascii");
        final_pf = final_pf.replace("021026", "021426");
        env.ingest(&p, &[("pf-f-final.abi", final_pf.into_bytes())]);
    }

    // 2026-02-17 09:00: A's and B's 7-day reminders.
    let now = "2026-02-17T09:00:00-05:00";
    {
        let p = env.open(now);
        assert_eq!(remind_once(p.store(), &config, t(now)).expect("pass"), 2);
        assert_eq!(deliver(&env, p.store(), now).await.expect("join"), 2);
    }

    // Down from 02-17 to 02-23 12:00. At start: A's and B's 1-day reminders (fired 08:00
    // today) and D's 7-day reminder missed on 02-20 (sent once, marked late); nothing for F
    // (paid) or B's summary (done).
    let now = "2026-02-23T12:00:00-05:00";
    {
        let p = env.open(now);
        assert_eq!(remind_once(p.store(), &config, t(now)).expect("pass"), 3);
        assert_eq!(deliver(&env, p.store(), now).await.expect("join"), 3);
        // D is reliquidated on 2026-02-23: a second protest window (changed, issue 14: it does
        // not replace the first) closes 2026-02-23 + 180 days = Sat 2026-08-22 → Fri 2026-08-21.
        env.ingest(&p, &[("er-d-reliq.abi", er(D, "022326", "3", "022326", &[], "", "NO", "100124"))]);
    }
    let mails = raw_mails(&server);
    assert_eq!(mails.len(), 6);
    let late = mails
        .iter()
        .find(|m| header(m, "X-Entrywatch-Alert-Id") == Some(id(D, "protest", "2026-02-27", 7)))
        .expect("D's missed 7-day reminder");
    assert!(header(late, "Subject").is_some_and(|s| s.contains("[late]")), "{late}");

    // 2026-02-26 09:00 (a restart with the real scheduler loop): the first protest window
    // still stands (changed, issue 14), so D's 1-day reminder for 02-27 is queued; A's and
    // B's have passed.
    let now = "2026-02-26T09:00:00-05:00";
    {
        let p = env.open(now);
        let store = p.store().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(run_scheduler(
            store.clone(),
            config.clone(),
            Clock::Fixed(t(now)),
            async move {
                let _ = rx.await;
            },
            Arc::new(tokio::sync::Notify::new()),
        ));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let _ = tx.send(());
        task.await.expect("scheduler stops");
        assert_eq!(reminder_ids(&store).len(), 7);
        // Next: D's same-day reminder of the first window (the reminder after it, for the
        // reliquidation window on 08-14, follows).
        assert_eq!(next_reminder(&store, &config, t(now)).expect("next"), Some(t("2026-02-27T08:00:00-05:00")));
    }

    // 2026-08-14 09:00: the scheduler loop queues D's 7-day reminder for the NEW date, once.
    let now = "2026-08-14T09:00:00-04:00";
    {
        let p = env.open(now);
        let store = p.store().clone();
        let wake = Arc::new(tokio::sync::Notify::new());
        let mailer_wake = Arc::new(tokio::sync::Notify::new());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let scheduler = Scheduler::new(store.clone(), config.clone(), Clock::Fixed(t(now)))
            .with_wake(wake.clone())
            .with_mailer_wake(mailer_wake.clone())
            .with_min_wake_interval(std::time::Duration::ZERO);
        let task = tokio::spawn(scheduler.run(async move {
            let _ = rx.await;
        }));
        // Queued, and the mailer told so.
        tokio::time::timeout(std::time::Duration::from_secs(10), mailer_wake.notified())
            .await
            .expect("the scheduler wakes the mailer after queuing");
        let want = id(D, "reliquidation-protest", "2026-08-21", 7);
        assert!(reminder_ids(&store).contains(&want));
        // New facts wake it: another pass, still nothing twice.
        wake.notify_one();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let _ = tx.send(());
        task.await.expect("scheduler stops");
        assert_eq!(reminder_ids(&store).len(), 8);
        assert_eq!(deliver(&env, &store, now).await.expect("join"), 2);
    }

    let mails = raw_mails(&server);
    let mut ids: Vec<String> = mails.iter().filter_map(|m| header(m, "X-Entrywatch-Alert-Id")).collect();
    ids.sort();
    let mut want = vec![
        id(F, "statement-payment", "2026-02-20", 7),
        id(A, "summary-filing", "2026-02-24", 7),
        id(A, "summary-filing", "2026-02-24", 1),
        id(B, "statement-payment", "2026-02-24", 7),
        id(B, "statement-payment", "2026-02-24", 1),
        id(D, "protest", "2026-02-27", 7),
        id(D, "protest", "2026-02-27", 1),
        id(D, "reliquidation-protest", "2026-08-21", 7),
    ];
    want.sort();
    assert_eq!(ids, want, "each reminder exactly once; none for done deadlines");

    // The ledger agrees, after one more reopen; a pass at the same instant sends nothing new.
    let p = env.open(now);
    let mut ledger = reminder_ids(p.store());
    ledger.sort();
    assert_eq!(ledger, want);
    assert_eq!(remind_once(p.store(), &config, t(now)).expect("pass"), 0);
    assert_eq!(deliver(&env, p.store(), now).await.expect("join"), 0);
    assert_eq!(raw_mails(&server).len(), 8);
}
