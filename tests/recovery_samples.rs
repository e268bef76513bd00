//! Duty recovery on samples/recovery (one entry per situation, README there): the window
//! edges under ENTRYWATCH_NOW (CAPE day 79/80/81, protest day 180/181, each excluded kind),
//! the export never listing an excluded or claimed entry, CAPE result files through
//! `ingest --inbox` (claim status and errors on the entry, claimed against refunded in the
//! report, a PSC conflict once accepted, dropped twice = no change, unreadable files
//! quarantined), the dashboard's /recovery page over HTTP equal to the report, and the
//! `recovery-window` alert raised exactly once per entry and window by the daemon's scheduler.

mod common;

use common::Env;
use common::{archived, wait_until, RunningDaemon};
use entrywatch::clock::Clock;
use entrywatch::config::Config;
use entrywatch::ingest::sample::entry_display;
use entrywatch::view::ReadModel;
use entrywatch::web::{store_model::StoreModel, Auth};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const FILER: &str = "EEE";
const UNLIQ: u32 = 3_000_001;
const D79: u32 = 3_000_002;
const D80: u32 = 3_000_003;
const D81: u32 = 3_000_004;
const D180: u32 = 3_000_005;
const D181: u32 = 3_000_006;
const RECON: u32 = 3_000_007;
const T09: u32 = 3_000_008;
const T47: u32 = 3_000_009;
const PROTEST: u32 = 3_000_010;
const ACCEPTED: u32 = 3_000_011;
const REJECTED: u32 = 3_000_012;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/recovery")
}

fn files(sub: &str) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir().join(sub))
        .unwrap()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

fn result_file(name: &str) -> Vec<u8> {
    std::fs::read(dir().join("results").join(name)).unwrap()
}

fn show(tx: u32) -> String {
    entry_display(FILER, tx)
}

fn compact(tx: u32) -> String {
    show(tx).replace('-', "")
}

fn at(day: &str) -> String {
    format!("{day}T09:00:00-04:00")
}

/// The common env plus a `results` inbox of role `refund-results`.
fn env_with_results() -> Env {
    let env = Env::new();
    env.add_inbox("results", "refund-results");
    env
}

fn ingest(env: &Env, inbox: &str, files: &[(String, Vec<u8>)]) -> std::process::Output {
    let paths: Vec<PathBuf> = files.iter().map(|(n, b)| env.drop_file(inbox, n, b)).collect();
    env.ingest(inbox, &paths)
}

fn setup() -> Env {
    let env = env_with_results();
    let o = ingest(&env, "broker", &files("broker"));
    assert!(o.status.success(), "ingest: {}", String::from_utf8_lossy(&o.stderr));
    env
}

fn with_results(env: &Env) {
    let ok: Vec<(String, Vec<u8>)> = files("results").into_iter().filter(|(n, _)| n.starts_with("cape-")).collect();
    assert_eq!(ok.len(), 2);
    let o = ingest(env, "results", &ok);
    assert!(o.status.success(), "ingest results: {}", String::from_utf8_lossy(&o.stderr));
}

fn run(env: &Env, day: &str, args: &[&str]) -> String {
    let o = env.cmd().env("ENTRYWATCH_NOW", at(day)).args(args).arg("--config").arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn report(env: &Env, day: &str) -> Value {
    serde_json::from_str(&run(env, day, &["report", "recovery", "--program", "cape", "--format", "json"])).unwrap()
}

fn entry(doc: &Value, tx: u32) -> &Value {
    let want = show(tx);
    doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry"] == want.as_str())
        .unwrap_or_else(|| panic!("no {want} in the report"))
}

fn remedy<'a>(e: &'a Value, id: &str) -> &'a Value {
    e["remedies"].as_array().unwrap().iter().find(|r| r["remedy"] == id).unwrap()
}

fn cape(doc: &Value, tx: u32) -> (String, Option<i64>, String) {
    let c = remedy(entry(doc, tx), "cape");
    (c["state"].as_str().unwrap().to_string(), c["days_left"].as_i64(), c["why"].as_str().unwrap().to_string())
}

/// Entries listed by `recovery export --program cape` on `day`.
// (`--out-dir`; tests/recovery.rs uses its alias `--out`, as interface.md names it.)
fn exported(env: &Env, day: &str) -> Vec<String> {
    let out = env.root().join(format!("export-{day}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = env
        .cmd()
        .env("ENTRYWATCH_NOW", at(day))
        .args(["recovery", "export", "--program", "cape", "--config"])
        .arg(env.config())
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "export: {}", String::from_utf8_lossy(&o.stderr));
    let mut all = Vec::new();
    for e in std::fs::read_dir(&out).map(|r| r.flatten().collect::<Vec<_>>()).unwrap_or_default() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        assert!(text.starts_with("Entry Number\r\n"), "{text:?}");
        all.extend(text.lines().skip(1).map(str::to_string));
    }
    all.sort();
    all
}

fn set(txs: &[u32]) -> Vec<String> {
    let mut v: Vec<String> = txs.iter().map(|t| compact(*t)).collect();
    v.sort();
    v
}

#[test]
fn every_window_edge_and_excluded_kind_on_the_samples() {
    let env = setup();
    // 2026-08-24: liquidated 79, 80, 81, 180, 181 days ago.
    let doc = report(&env, "2026-08-24");
    assert_eq!(cape(&doc, D79).0, "open");
    assert_eq!(cape(&doc, D79).1, Some(1));
    assert_eq!(cape(&doc, D80).0, "open");
    assert_eq!(cape(&doc, D80).1, Some(0), "day 80 is CAPE's last day");
    assert_eq!(cape(&doc, D81).0, "closed");
    assert_eq!(cape(&doc, D81).2, "liquidated 81 days ago: past CAPE's 80 days");
    let p180 = remedy(entry(&doc, D180), "protest");
    assert_eq!(
        (p180["state"].as_str(), p180["days_left"].as_i64()),
        (Some("open"), Some(0)),
        "day 180: protest's last day"
    );
    assert_eq!(entry(&doc, D180)["nearest"], serde_json::json!(["protest", "2026-08-24"]));
    assert_eq!(remedy(entry(&doc, D181), "protest")["state"], "closed", "day 181");
    for (tx, why) in [
        (RECON, "reconciliation"),
        (T09, "entry type 09"),
        (T47, "47 (drawback)"),
        (PROTEST, "open or suspended protest"),
    ] {
        let (state, _, w) = cape(&doc, tx);
        assert_eq!(state, "excluded", "{tx}: {w}");
        assert!(w.contains(why), "{tx}: {w}");
    }
    assert!(entry(&doc, T47)["conflicts"][0].as_str().unwrap().contains("drawback entry (type 47)"));
    // Unliquidated: open; what entrywatch cannot see (an entry designated on a drawback
    // claim, not filed in ACE, AD/CVD) is said as a caution.
    let u = remedy(entry(&doc, UNLIQ), "cape");
    assert_eq!(u["state"], "open");
    assert!(u["cautions"][0].as_str().unwrap().contains("designated on a drawback claim"), "{u}");

    // The export lists the open entries only: never an excluded, closed one.
    assert_eq!(exported(&env, "2026-08-24"), set(&[UNLIQ, D79, D80, ACCEPTED, REJECTED]));
    // A day later: day 80 of D79, day 81 of D80 and REJECTED.
    let doc = report(&env, "2026-08-25");
    assert_eq!((cape(&doc, D79).0.as_str(), cape(&doc, D79).1), ("open", Some(0)));
    assert_eq!(cape(&doc, D80).0, "closed");
    assert_eq!(remedy(entry(&doc, D180), "protest")["state"], "closed", "day 181");
    assert_eq!(exported(&env, "2026-08-25"), set(&[UNLIQ, D79, ACCEPTED]));
    assert_eq!(exported(&env, "2026-08-26"), set(&[UNLIQ, ACCEPTED]));
}

#[test]
fn cape_result_files_become_claim_facts_and_totals() {
    let env = setup();
    let before = report(&env, "2026-08-24");
    // Before any result: CAPE open on the accepted-to-be entry, PSC open beside it, and the
    // conflict says to file the PSC first.
    assert_eq!(cape(&before, ACCEPTED).0, "open");
    assert_eq!(remedy(entry(&before, ACCEPTED), "psc")["state"], "open");
    with_results(&env);

    let a = env.entry_json(&show(ACCEPTED));
    let c = &a["refund_claims"][0];
    assert_eq!((c["program"].as_str(), c["status"].as_str()), (Some("cape"), Some("accepted")), "{a:#}");
    assert_eq!(c["claim_number"], "C26-000123");
    assert_eq!((c["claimed_cents"].as_i64(), c["refunded_cents"].as_i64()), (Some(1_234_567), Some(1_200_000)));
    let events: Vec<&Value> = a["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "refund-claim").collect();
    assert_eq!(events.len(), 2, "one fact per result file");
    assert!(events.iter().any(|e| e["detail"].as_str().unwrap().contains("refunded 12000.00")), "{events:?}");

    let r = env.entry_json(&show(REJECTED));
    let c = &r["refund_claims"][0];
    assert_eq!(c["status"], "rejected");
    assert_eq!(c["errors"][0]["text"], "Statement processing not complete");
    let text = run(&env, "2026-08-24", &["entry", &show(REJECTED)]);
    assert!(text.contains("Refund claim CAPE: rejected (claim C26-000123): "), "{text}");
    assert!(text.lines().any(|l| l.starts_with("Refund claim") && l.contains("Statement processing not complete")));
    assert!(text.contains("refund-claim"), "the timeline shows the result: {text}");

    let doc = report(&env, "2026-08-24");
    let (state, _, why) = cape(&doc, ACCEPTED);
    assert_eq!(state, "done", "{why}");
    assert!(why.contains("CAPE accepted the entry"), "{why}");
    let conflicts = entry(&doc, ACCEPTED)["conflicts"].as_array().unwrap();
    assert!(
        conflicts.iter().any(|c| c
            .as_str()
            .unwrap()
            .starts_with("CAPE accepted the entry (claim C26-000123): a psc on it is refused")),
        "{conflicts:?}"
    );
    let (state, _, why) = cape(&doc, REJECTED);
    assert_eq!(state, "open", "a rejected entry can be claimed again, inside the window");
    assert!(why.contains("CAPE said rejected"), "{why}");
    let claims = &doc["totals"]["claims"];
    assert_eq!(
        claims["accepted"],
        serde_json::json!({"entries": 1, "claimed_cents": 1_234_567, "refunded_cents": 1_200_000})
    );
    assert_eq!(claims["rejected"], serde_json::json!({"entries": 1, "claimed_cents": 65_000, "refunded_cents": 0}));
    // Accepted: never exported again; rejected: still listed while its window is open.
    assert_eq!(exported(&env, "2026-08-24"), set(&[UNLIQ, D79, D80, REJECTED]));
    let csv = run(&env, "2026-08-24", &["report", "recovery", "--format", "csv"]);
    assert!(csv.lines().next().unwrap().ends_with(",conflicts,claim,refunded"), "{csv}");
    let row = csv.lines().find(|l| l.starts_with(&show(ACCEPTED))).unwrap();
    assert!(row.ends_with(",accepted (claim C26-000123),12000.00"), "{row}");
    let t = run(&env, "2026-08-24", &["report", "recovery"]);
    assert!(t.contains("claims (from the program's result files)") && t.contains("12000.00"), "{t}");

    // Dropped twice (another name, same bytes): nothing changes.
    let dump = env.dump();
    let again = vec![("again.csv".to_string(), result_file("cape-validation-result.csv"))];
    let o = ingest(&env, "results", &again);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(env.dump(), dump);

    // Files that cannot be read are quarantined with a report; nothing from them is applied.
    let broken: Vec<(String, Vec<u8>)> =
        files("results").into_iter().filter(|(n, _)| n.starts_with("broken-")).collect();
    let o = ingest(&env, "results", &broken);
    assert!(!o.status.success());
    let q = env.files_under("quarantine/results");
    assert_eq!(q.len(), 4, "{q:?}");
    let report_of = |name: &str| std::fs::read_to_string(env.data().join("quarantine/results").join(name)).unwrap();
    assert!(report_of("broken-no-header.csv.error.txt").contains("RCL002"));
    assert!(report_of("broken-no-header.csv.error.txt").contains("\"Entry Number\" column"));
    assert!(report_of("broken-no-entries.csv.error.txt").contains("RCL006"));
    assert_eq!(env.dump(), dump);
}

fn start_web(model: Arc<dyn ReadModel>, now: &str, auth: Auth) -> common::http::Server {
    common::http::serve(model, Clock::Fixed(chrono::DateTime::parse_from_rfc3339(now).unwrap()), auth)
}

fn money(cents: i64) -> String {
    entrywatch::report::money(cents)
}

#[test]
fn the_recovery_page_shows_the_reports_figures_escaped_and_behind_auth() {
    let env = setup();
    with_results(&env);
    // A hostile error text from a result file.
    let hostile =
        format!("Entry Number,Status,Error Description\n{},Rejected,<script>alert(1)</script>\n", compact(D79));
    let o = ingest(&env, "results", &[("hostile.csv".into(), hostile.into_bytes())]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc = report(&env, "2026-08-24");
    let totals = &doc["totals"];
    assert!(!totals["by_deadline_week"].as_object().unwrap().is_empty());

    let config = Config::from_toml(&std::fs::read_to_string(env.config()).unwrap(), "test").unwrap();
    let model: Arc<dyn ReadModel> = Arc::new(StoreModel::open(&config).unwrap());
    let server = start_web(model.clone(), &at("2026-08-24"), Auth::default());
    let addr = server.addr;
    let r = common::http::get(addr, "/recovery");
    assert_eq!(r.status, 200, "{}", r.body);
    let b = &r.body;
    assert!(b.contains("<a href=\"/recovery\" class=\"on\">Recovery</a>"), "nav link");
    assert!(b.contains("<svg"), "the chart");
    let row = |k: &str, v: &Value| {
        format!(
            "<tr><td>{k}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            v["entries"],
            money(v["cents"].as_i64().unwrap())
        )
    };
    let mut checked = 0;
    for group in ["by_program_state", "by_open_remedy", "by_duty_program"] {
        for (k, v) in totals[group].as_object().unwrap() {
            assert!(b.contains(&row(k, v)), "{group} {k}: {} not on the page", row(k, v));
            checked += 1;
        }
    }
    for (k, v) in totals["by_deadline_week"].as_object().unwrap() {
        assert!(b.contains(&row(&format!("week of {k}"), v)), "week {k}");
        checked += 1;
    }
    for (k, v) in totals["claims"].as_object().unwrap() {
        let want = format!(
            "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            v["entries"],
            money(v["claimed_cents"].as_i64().unwrap()),
            money(v["refunded_cents"].as_i64().unwrap())
        );
        assert!(b.contains(&format!("{k}</span></td>{want}")), "claims {k}");
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
    assert!(b.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !b.contains("<script>alert(1)"), "escaped");
    // The entry page's timeline shows each result file's word on the claim.
    let e = common::http::get(addr, &format!("/entries/{}", show(REJECTED)));
    assert_eq!(e.status, 200);
    assert!(e.body.contains("refund-claim") && e.body.contains("Statement processing not complete"), "{}", e.body);
    drop(server);

    let server = start_web(model, &at("2026-08-24"), Auth { token: Some("t0ken".into()), basic: None });
    let addr = server.addr;
    assert_eq!(common::http::get(addr, "/recovery").status, 401);
    assert_eq!(common::http::req(addr, "GET", "/recovery", &[("Authorization", "Bearer t0ken")]).status, 200);
}

/// The daemon's config: broker and results inboxes, a mail route for `recovery-window`
/// alerts (to a closed port on 127.0.0.1: the alerts stay queued, which `alerts --json` shows).
fn daemon_config(env: &Env) {
    std::fs::create_dir_all(env.inbox("results")).unwrap();
    let port = common::net::free_port();
    let mut s = common::run_config_text(&env.data(), &env.inbox("broker"), &env.inbox("approved"), 0, 300);
    s.push_str(&format!(
        "[[inbox]]\nname = \"results\"\npath = {:?}\nrole = \"refund-results\"\nsettle-secs = 0\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {port}\nfrom = \"entrywatch <ew@example.com>\"\ntimeout-secs = 1\n\
         [[route]]\nto = [\"refunds@example.com\"]\ncategories = [\"recovery-window\", \"recovery-claim\"]\n",
        env.inbox("results").display().to_string()
    ));
    std::fs::write(env.config(), s).unwrap();
}

fn window_alerts(env: &Env) -> Vec<Value> {
    let v: Value = serde_json::from_str(&run(env, "2026-08-25", &["alerts", "--json"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["id"].as_str().unwrap().starts_with("recovery-window/"))
        .cloned()
        .collect()
}

#[test]
fn the_daemon_alerts_once_per_window_left_and_ingests_results() {
    let env = Env::new();
    daemon_config(&env);
    let o = ingest(&env, "broker", &files("broker"));
    assert!(o.status.success(), "ingest: {}", String::from_utf8_lossy(&o.stderr));
    let log = env.root().join("run.log");

    // 2026-08-25: D81 left on 08-24, D80 and REJECTED today; D79 is on its last day; D180's
    // window closed in May (long before: the report shows it, no mail).
    let d = RunningDaemon::start(&env.config(), &log, &[("ENTRYWATCH_NOW", &at("2026-08-25"))]);
    assert!(
        wait_until(Duration::from_secs(30), || d.log_text().matches("RecoveryWindowLeft").count() >= 3),
        "{}",
        d.log_tail()
    );
    let ids: Vec<String> = window_alerts(&env).iter().map(|a| a["id"].as_str().unwrap().to_string()).collect();
    let want = |tx: u32, last: &str| format!("recovery-window/{}/cape/{last}", compact(tx));
    let mut expect = vec![want(D81, "2026-08-23"), want(D80, "2026-08-24"), want(REJECTED, "2026-08-24")];
    expect.sort();
    let mut got = ids.clone();
    got.sort();
    assert_eq!(got, expect);
    let a = window_alerts(&env).into_iter().find(|a| a["id"] == want(D80, "2026-08-24").as_str()).unwrap();
    let subject = a["subject"].as_str().unwrap();
    assert!(
        subject.contains(
            "left CAPE's window on 2026-08-25: 600.00 of IEEPA additional duties; protest open until 2026-12-02"
        ),
        "{subject}"
    );
    assert_eq!(a["to"], serde_json::json!(["refunds@example.com"]));

    // A CAPE result through the daemon's results inbox: applied, on the entry.
    env.drop_file("results", "cape-validation-result.csv", &result_file("cape-validation-result.csv"));
    let applied = wait_until(Duration::from_secs(30), || {
        archived(&env.data()).contains(&("results".to_string(), "cape-validation-result.csv".to_string()))
    });
    assert!(applied, "{}", d.log_tail());
    let e = env.entry_json(&show(ACCEPTED));
    assert_eq!(e["refund_claims"][0]["status"], "accepted");
    // The rejected entry: one `recovery-claim` alert naming what CAPE said.
    let v: Value = serde_json::from_str(&run(&env, "2026-08-25", &["alerts", "--json"])).unwrap();
    let rejected: Vec<&Value> =
        v.as_array().unwrap().iter().filter(|a| a["id"].as_str().unwrap().contains("/refund-rejected/")).collect();
    assert_eq!(rejected.len(), 1, "{v:#}");
    assert!(rejected[0]["id"].as_str().unwrap().starts_with(&format!("{}/refund-rejected/cape-", show(REJECTED))));
    assert!(rejected[0]["subject"].as_str().unwrap().contains("Refund claim rejected"), "{}", rejected[0]);
    d.stop();

    // A restart on the same day: nothing again.
    let d = RunningDaemon::start(&env.config(), &log, &[("ENTRYWATCH_NOW", &at("2026-08-25"))]);
    std::thread::sleep(Duration::from_millis(500));
    d.stop();
    assert_eq!(window_alerts(&env).len(), 3);
    // The next day D79 leaves: one more, once.
    let d = RunningDaemon::start(&env.config(), &log, &[("ENTRYWATCH_NOW", &at("2026-08-26"))]);
    assert!(
        wait_until(Duration::from_secs(30), || d.log_text().matches("RecoveryWindowLeft").count() >= 4),
        "{}",
        d.log_tail()
    );
    d.stop();
    let all = window_alerts(&env);
    assert_eq!(all.len(), 4);
    assert!(all.iter().any(|a| a["id"] == want(D79, "2026-08-25").as_str()));
    assert_eq!(std::fs::read_to_string(&log).unwrap().matches("RecoveryWindowLeft").count(), 4);
}

/// The recovery sums the index keeps (each file's transaction, then the scheduler's daily
/// roll-forward) equal a fresh evaluation of every concerned entry on every day for two and a
/// half years, whether or not the roll-forward ran: `query::recovery::next_change` names every
/// day on which an entry's evaluation can change.
#[test]
fn the_recovery_sums_kept_in_the_index_equal_a_fresh_evaluation_every_day() {
    use entrywatch::calendar::Calendar;
    use entrywatch::query::recovery::{evaluated, program_totals, roll_forward};
    use entrywatch::report::recovery::totals;
    let env = env_with_results();
    let start = chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    for (inbox, files) in [
        ("broker", files("broker")),
        ("results", files("results").into_iter().filter(|(n, _)| n.starts_with("cape-")).collect()),
    ] {
        let paths: Vec<PathBuf> = files.iter().map(|(n, b)| env.drop_file(inbox, n, b)).collect();
        let o = env
            .cmd()
            .env("ENTRYWATCH_NOW", at(&start.to_string()))
            .arg("ingest")
            .arg("--config")
            .arg(env.config())
            .arg("--inbox")
            .arg(inbox)
            .args(&paths)
            .output()
            .unwrap();
        assert!(o.status.success(), "ingest {inbox}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let config = Config::from_toml(&std::fs::read_to_string(env.config()).unwrap(), "test").unwrap();
    let store = entrywatch::store::Store::open(&config.data_dir.join("store")).unwrap();
    let rules = entrywatch::grammar::Grammars::embedded().unwrap().remedies;
    let cal = Calendar::from_config(&config.deadlines);
    let program = rules.program("cape").unwrap().clone();
    let mut compared = 0;
    let mut states = std::collections::BTreeSet::new();
    for (i, day) in start.iter_days().take(900).enumerate() {
        let fresh: Vec<_> = evaluated(&store, &rules, &cal, "cape", day).collect::<Result<_, _>>().unwrap();
        assert!(fresh.len() >= 10, "the samples' concerned entries: {}", fresh.len());
        let want = totals(&fresh, &program);
        let kept = program_totals(&store, &rules, &cal, &program, day).unwrap();
        assert_eq!(kept, want, "{day}: kept sums differ from a fresh evaluation");
        states.extend(want.by_program_state.keys().cloned());
        compared += 1;
        // The scheduler rolls forward most days, not all (a daemon stopped over a weekend).
        if i % 7 != 3 {
            roll_forward(&store, &rules, &cal, day).unwrap();
        }
    }
    assert_eq!(compared, 900);
    // The walk saw the program open, closed and excluded.
    for s in ["open", "closed", "excluded"] {
        assert!(states.contains(s), "{s} never seen: {states:?}");
    }
}
