//! Alerts end to end: real sled store through the real pipeline (`entrywatch ingest`), a real SMTP server (aiosmtpd, tests/common/smtp_server.py) over TCP on 127.0.0.1: one mail per exam notice, no resend on re-drop or restart, outage then delivery, give-up, hostile content; the outbox logic on the sled-backed store; the mailer loop.

mod common;

use chrono::{DateTime, Duration as CDuration, FixedOffset};
use entrywatch::alert::hook::AlertHook;
use entrywatch::alert::mailer::{deliver_due, Mailer};
use entrywatch::alert::outbox::{enqueue, OutboxState, OutboxStore, RetryPolicy};
use entrywatch::alert::render::RenderContext;
use entrywatch::alert::service::{check_no_release, MailerLoop};
use entrywatch::alert::store::SledOutbox;
use entrywatch::alert::{Alert, AlertKind};
use entrywatch::clock::Clock;
use entrywatch::config::{Config, Security, Smtp};
use entrywatch::domain::{Fact, FactKind, Source};
use entrywatch::grammar::codes::{AlertSeverity, Effect};
use entrywatch::grammar::Grammars;
use entrywatch::ingest::Pipeline;
use entrywatch::store::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

const E: &str = "EEE-1234567-3";
/// The exam in samples/abi/life-03-so-exam.abi: SO60 03 on 2026-02-05 at 09:30 (New York).
const EXAM_ID: &str = "EEE-1234567-3/exam/03/2026-02-05T09:30";
const NOW: &str = "2026-02-05T10:00:00-05:00";

// ---------------------------------------------------------------- the SMTP server

use common::ok;
use common::smtp::{body_decoded, free_port, header, html_part, Server};

// ---------------------------------------------------------------- a data dir with a config

struct Env {
    dir: tempfile::TempDir,
    port: u16,
}

const ROUTES: &str = r#"
[[route]]
to = ["compliance@example.com", "broker-desk@example.com"]
categories = ["disposition"]
min-severity = "warning"

[[route]]
to = ["rejections@example.com"]
categories = ["rejection"]
min-severity = "info"

[[route]]
to = ["other-importer@example.com"]
categories = ["disposition"]
min-severity = "info"
importers = ["99-999999999"]
"#;

impl Env {
    /// A config with `[smtp]` on `port` (nothing listens there until a test starts a server).
    fn new(extra: &str) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let root = dir.path();
        std::fs::create_dir_all(root.join("in/broker")).expect("inbox");
        let cfg = format!(
            "data-dir = {:?}\n[[inbox]]\nname = \"broker\"\npath = {:?}\nrole = \"broker\"\n\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nfrom = \"entrywatch <entrywatch@example.com>\"\ntimeout-secs = 5\n{ROUTES}\n{extra}\n",
            root.join("data"),
            root.join("in/broker"),
        );
        std::fs::write(root.join("entrywatch.toml"), cfg).expect("config");
        Env { dir, port }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn config_path(&self) -> PathBuf {
        self.root().join("entrywatch.toml")
    }

    fn config(&self) -> Config {
        let text = std::fs::read_to_string(self.config_path()).expect("config text");
        Config::from_toml(&text, "test").expect("valid config")
    }

    fn mail_dir(&self) -> PathBuf {
        self.root().join("smtp")
    }

    /// aiosmtpd on this env's port (`None`: not installed, see `common::require_aiosmtpd`).
    fn server(&self) -> Option<Server> {
        Server::start(self.port, &self.mail_dir(), &[])
    }

    fn cmd(&self, now: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_entrywatch"));
        c.env("ENTRYWATCH_NOW", now).env_remove("ENTRYWATCH_CRASH_AT").env_remove("ENTRYWATCH_CONFIG");
        c
    }

    /// Copy files (name, bytes) into the inbox and ingest them at `now`.
    fn ingest(&self, now: &str, files: &[(&str, Vec<u8>)]) -> Output {
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|(n, b)| {
                let p = self.root().join("in/broker").join(n);
                std::fs::write(&p, b).expect("drop file");
                p
            })
            .collect();
        self.cmd(now)
            .arg("ingest")
            .arg("--config")
            .arg(self.config_path())
            .args(["--inbox", "broker"])
            .args(&paths)
            .output()
            .expect("run ingest")
    }

    /// `ingest` with no file: only the delivery pass (what a restart does first).
    fn deliver(&self, now: &str) -> Output {
        self.ingest(now, &[])
    }

    fn alerts_json(&self) -> Vec<serde_json::Value> {
        let o =
            self.cmd(NOW).args(["alerts", "--json", "--config"]).arg(self.config_path()).output().expect("run alerts");
        assert!(o.status.success(), "alerts: {}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("alerts json");
        v.as_array().expect("array").clone()
    }

    fn alerts_text(&self) -> String {
        let o = self.cmd(NOW).args(["alerts", "--config"]).arg(self.config_path()).output().expect("run alerts");
        assert!(o.status.success(), "alerts: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/abi").join(name)).expect("sample file")
}

fn life_to_exam() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("life-01-ae-filed.abi", sample("life-01-ae-filed.abi")),
        ("life-02-ax-accepted.abi", sample("life-02-ax-accepted.abi")),
        ("life-03-so-exam.abi", sample("life-03-so-exam.abi")),
    ]
}

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("rfc3339")
}

fn at(offset: CDuration) -> String {
    (t(NOW) + offset).to_rfc3339()
}

fn row<'a>(rows: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no outbox row {id} in {rows:#?}"))
}

// ---------------------------------------------------------------- end to end through the binary

#[test]
fn exam_notice_mails_once_to_the_routed_recipients_and_redrops_send_nothing() {
    let env = Env::new("");
    let Some(server) = env.server() else { return };
    let o = env.ingest(NOW, &life_to_exam());
    ok(&o);
    let mails = server.received();
    assert_eq!(mails.len(), 1, "exactly one mail: the exam (bill arrived and acceptance are info, not routed)");
    let m = &mails[0];
    assert_eq!(m.rcpt_tos, vec!["compliance@example.com".to_string(), "broker-desk@example.com".to_string()]);
    let subject = header(&m.data, "Subject");
    assert_eq!(subject.len(), 1);
    assert!(
        subject[0].starts_with("[entrywatch] CRITICAL Exam ordered: EEE-1234567-3 SO60 03 PENDING INTENSIVE EXAM"),
        "{subject:?}"
    );
    assert_eq!(header(&m.data, "X-Entrywatch-Alert-Id"), vec![EXAM_ID.to_string()]);
    let body = body_decoded(&m.data);
    assert!(body.contains("Importer:      12-345678900"), "{body}");
    assert!(body.contains("Port:          2704"), "{body}");
    assert!(body.contains("Open holds:    SO60 03 (CBP)"), "{body}");
    assert!(body.contains("Arrange the exam with the broker and the CES"), "{body}");
    assert!(body.contains("<a href=\"http://127.0.0.1:8480/entries/EEE-1234567-3\">"), "{body}");

    // The same file again: a duplicate, nothing queued, nothing sent.
    let o = env.ingest(NOW, &[("life-03-so-exam.abi", sample("life-03-so-exam.abi"))]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("duplicate"), "{}", String::from_utf8_lossy(&o.stdout));
    // Other bytes repeating the same exam (a broker's resend with a changed narrative elsewhere):
    // new facts, same alert identity, still no second mail.
    let resend =
        String::from_utf8(sample("life-03-so-exam.abi")).expect("ascii").replace("BILL ARRIVED", "BILL ARRIVES");
    let o = env.ingest(&at(CDuration::minutes(5)), &[("resend-exam.abi", resend.into_bytes())]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("applied"), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(server.received().len(), 1, "no second mail for the same exam");

    let rows = env.alerts_json();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let r = row(&rows, EXAM_ID);
    assert_eq!(r["state"], "sent");
    assert_eq!(r["severity"], "critical");
    assert_eq!(r["to"], serde_json::json!(["compliance@example.com", "broker-desk@example.com"]));
    assert!(env.alerts_text().contains("0 queued, 1 sent, 0 failed"));
}

/// `rebuild` replays the archive into a fresh store but keeps the outbox (and the reminder
/// ledger): after it, nothing is mailed again and `alerts` still shows what was sent.
#[test]
fn rebuild_keeps_the_outbox_so_nothing_is_mailed_again() {
    let env = Env::new("");
    let Some(server) = env.server() else { return };
    ok(&env.ingest(NOW, &life_to_exam()));
    assert_eq!(server.received().len(), 1);
    let before = env.alerts_json();
    let o = env.cmd(NOW).arg("rebuild").output().expect("rebuild");
    ok(&o);
    assert_eq!(env.alerts_json(), before, "the outbox survives rebuild");
    ok(&env.deliver(&at(CDuration::hours(1))));
    assert_eq!(server.received().len(), 1, "no mail sent again after rebuild");
}

#[test]
fn server_down_alerts_wait_then_go_out_once_and_a_restart_does_not_resend() {
    let env = Env::new("");
    let o = env.ingest(NOW, &life_to_exam());
    ok(&o); // a mail outage is not an input error
    assert!(String::from_utf8_lossy(&o.stderr).contains("stay queued"), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = env.alerts_json();
    let r = row(&rows, EXAM_ID);
    assert_eq!(r["state"], "queued");
    assert_eq!(r["attempts"], 1);
    assert!(r["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{r}");
    assert_eq!(r["next_attempt"].as_str().map(t), Some(t(NOW) + CDuration::seconds(30)), "first retry after 30 s");
    assert!(env.alerts_text().lines().any(|l| l.starts_with("queued") && l.contains("Exam ordered")));

    // Before the next attempt is due nothing is tried, even with the server back.
    let Some(server) = env.server() else { return };
    ok(&env.deliver(&at(CDuration::seconds(10))));
    assert!(server.received().is_empty());
    assert_eq!(row(&env.alerts_json(), EXAM_ID)["attempts"], 1);

    // Due: delivered once.
    ok(&env.deliver(&at(CDuration::minutes(1))));
    let mails = server.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(header(&mails[0].data, "X-Entrywatch-Alert-Id"), vec![EXAM_ID.to_string()]);
    assert_eq!(row(&env.alerts_json(), EXAM_ID)["state"], "sent");

    // Restarts (new processes, the store reopened) later on: nothing is sent again.
    ok(&env.deliver(&at(CDuration::hours(2))));
    ok(&env.deliver(&at(CDuration::days(3))));
    let store = Store::open(&env.root().join("data/store")).expect("reopen store");
    let outbox = SledOutbox::new(store);
    assert!(outbox.due(t(NOW) + CDuration::days(30)).expect("due").is_empty());
    assert_eq!(server.received().len(), 1);
}

#[test]
fn give_up_after_the_configured_age_shows_failed() {
    let env = Env::new("[alerts]\ngive-up-hours = 2\n");
    ok(&env.ingest(NOW, &life_to_exam()));
    ok(&env.deliver(&at(CDuration::minutes(1))));
    assert_eq!(row(&env.alerts_json(), EXAM_ID)["attempts"], 2);
    let o = env.deliver(&at(CDuration::hours(3)));
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("failed for good"), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = env.alerts_json();
    let r = row(&rows, EXAM_ID);
    assert_eq!(r["state"], "failed");
    assert_eq!(r["attempts"], 3);
    assert!(r["last_error"].as_str().is_some_and(|e| e.starts_with("gave up after 3 attempts")), "{r}");
    assert!(r["next_attempt"].is_null());
    let text = env.alerts_text();
    assert!(text.lines().next().is_some_and(|l| l.starts_with("STATE")), "{text}");
    assert!(text.lines().nth(1).is_some_and(|l| l.starts_with("failed") && l.contains("Exam ordered")), "{text}");
    assert!(text.contains("0 queued, 0 sent, 1 failed"), "{text}");
    // A server back later changes nothing: failed is final.
    let Some(server) = env.server() else { return };
    ok(&env.deliver(&at(CDuration::hours(4))));
    assert!(server.received().is_empty());
}

/// An SO file whose SO60 narrative (columns 17-56) is `narrative`.
fn so_exam_with_narrative(narrative: &str) -> Vec<u8> {
    let src = String::from_utf8(sample("life-03-so-exam.abi")).expect("ascii");
    let lines: Vec<String> = src
        .split('\n')
        .map(|l| {
            if l.starts_with("SO60") {
                let padded = format!("{narrative:<40}");
                let narr: String = padded.chars().take(40).collect();
                format!("{}{}{}", &l[..16], narr, &l[56..])
            } else {
                l.to_string()
            }
        })
        .collect();
    lines.join("\n").into_bytes()
}

#[test]
fn hostile_content_from_files_is_neutralised() {
    let env = Env::new("");
    let Some(server) = env.server() else { return };
    // A CR inside a record never becomes a fact: the file is quarantined, nothing is mailed.
    let o = env.ingest(NOW, &[("cr.abi", so_exam_with_narrative("EXAM\rBcc: evil@example.com"))]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("quarantined"));
    // The same in an X12 350 K1 narrative (component separator `|` so `:` is plain data).
    let x12 =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12/350-holds-exam-release.x12"))
            .expect("x12 sample")
            .replacen(":~", "|~", 1)
            .replace("K1*INTENSIVE EXAM REQUIRED~", "K1*INTENSIVE EXAM\r\nBcc: evil@example.com\r\n<b>x</b>~");
    let o = env.ingest(NOW, &[("cr.x12", x12.into_bytes())]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("quarantined"), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(server.received().is_empty());
    // HTML and a header-looking text in a narrative arrive as text.
    let o = env.ingest(NOW, &[("html.abi", so_exam_with_narrative("<script>alert(1)</script> Bcc: x@evil.io"))]);
    ok(&o);
    let mails = server.received();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.rcpt_tos, vec!["compliance@example.com".to_string(), "broker-desk@example.com".to_string()]);
    assert!(header(&m.data, "Bcc").is_empty());
    let body = body_decoded(&m.data);
    // (The ABI reader warns about the lowercase letters and keeps them; compare without case.)
    let html = html_part(&body).to_ascii_lowercase();
    let body = body.to_ascii_lowercase();
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; bcc: x@evil.io"), "{html}");
    assert!(body.contains("  > <script>alert(1)</script> bcc: x@evil.io"), "plain text quotes it: {body}");
}

// ---------------------------------------------------------------- library level on the real store

fn grammars() -> Grammars {
    Grammars::embedded().expect("embedded grammars")
}

fn smtp(port: u16) -> Smtp {
    Smtp {
        host: "127.0.0.1".into(),
        port,
        security: Security::None,
        username: None,
        password_file: None,
        from: "entrywatch <entrywatch@example.com>".into(),
        ca_file: None,
        timeout_secs: 5,
    }
}

fn mailer(port: u16) -> Mailer {
    Mailer::smtp(&smtp(port), RenderContext { dashboard_url: "http://127.0.0.1:8480".into() }, RetryPolicy::new(48))
        .expect("mailer")
}

fn fact(at: &str, kind: FactKind) -> Fact {
    Fact {
        at: chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M").expect("naive time"),
        kind,
        source: Source { file: "x.abi".into(), inbox: "broker".into(), sha256: "00".into(), line: 5, record: 5 },
    }
}

fn disposition(list: &str, code: &str, effect: Effect, narrative: &str) -> FactKind {
    FactKind::Disposition {
        list: list.into(),
        code: code.into(),
        agency: "CBP".into(),
        effect,
        removes: vec![],
        narrative: narrative.into(),
        release_date: None,
        release_origin: String::new(),
    }
}

#[tokio::test]
async fn hostile_fact_text_cannot_inject_headers_or_html() {
    // Facts can come from other formats (X12 350 narratives) where CR/LF survive parsing:
    // the hook and the mailer must still neutralise them.
    let env = Env::new("");
    let Some(server) = env.server() else { return };
    let cfg = env.config();
    let store = Store::open(&env.root().join("data/store")).expect("store");
    let hook = AlertHook::new(&cfg, &grammars(), Clock::Fixed(t(NOW)))
        .with_next_deadline(Arc::new(|_, _, _| Some("2026-03-02: PSC <window>\r\nX-Injected: 1".to_string())));
    let entry = entrywatch::domain::Entry {
        entry: E.parse().ok(),
        importer: "12-345678900\r\nBcc: evil@example.com".into(),
        port: "2704<b>".into(),
        ..Default::default()
    };
    let f = fact(
        "2026-02-05T09:30",
        disposition("so60", "03", Effect::Exam, "line1\r\nBcc: evil@example.com\r\n\r\n<img src=x onerror=alert(1)>"),
    );
    let alerts = hook.alerts_for_change(&entry, std::slice::from_ref(&f), std::slice::from_ref(&f), t(NOW));
    assert_eq!(alerts.len(), 1);
    let n = store.transaction(|tx| hook.queue_tx(tx, alerts.clone(), t(NOW))).expect("queued");
    assert_eq!(n, 1);
    let report = deliver_due(&SledOutbox::new(store.clone()), &mailer(env.port), t(NOW)).await;
    assert_eq!(report.sent, vec![EXAM_ID.to_string()]);
    let mails = server.received();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.rcpt_tos, vec!["compliance@example.com".to_string(), "broker-desk@example.com".to_string()]);
    assert!(header(&m.data, "Bcc").is_empty(), "{}", m.data);
    assert!(header(&m.data, "X-Injected").is_empty(), "{}", m.data);
    let subject = header(&m.data, "Subject").join(" ");
    assert!(subject.contains("(12-345678900 Bcc: evil@example.com)"), "one line: {subject}");
    let body = body_decoded(&m.data);
    let html = html_part(&body);
    assert!(!html.contains("<img") && !html.contains("<b>"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;") && html.contains("2704&lt;b&gt;"), "{html}");
    assert!(html.contains("2026-03-02: PSC &lt;window&gt;"), "the next deadline line: {html}");
    assert!(body.contains("  > line1\n  > Bcc: evil@example.com\n"), "quoted in the text part: {body}");
}

#[tokio::test]
async fn outbox_logic_on_the_sled_store_dedup_retry_reopen_refusal_give_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store");
    let port = free_port();
    let env = Env::new("");
    let cfg = env.config();
    let hook = AlertHook::new(&cfg, &grammars(), Clock::Fixed(t(NOW)));
    let entry =
        entrywatch::domain::Entry { entry: E.parse().ok(), importer: "12-345678900".into(), ..Default::default() };
    let mk = |code: &str, when: &str| -> Alert {
        let f = fact(when, disposition("so60", code, Effect::Exam, ""));
        hook.alerts_for_fact(&f, &entrywatch::alert::hook::entry_facts(&entry), t(NOW)).remove(0)
    };
    let a = mk("03", "2026-02-05T09:30");
    let b = mk("03", "2026-02-06T11:00");
    let mail_dir = dir.path().join("smtp");
    {
        let outbox = SledOutbox::new(Store::open(&path).expect("store"));
        assert!(enqueue(&outbox, a.clone(), hook.routes(), t(NOW)).expect("enqueue"));
        assert!(!enqueue(&outbox, a.clone(), hook.routes(), t(NOW)).expect("again"), "dedup by identity");
        // Server down: retried with the backoff.
        let r = deliver_due(&outbox, &mailer(port), t(NOW)).await;
        assert_eq!(r.retried, vec![a.id.clone()]);
        let item = outbox.get(&a.id).expect("get").expect("item");
        assert_eq!((item.state, item.attempts), (OutboxState::Queued, 1));
        assert_eq!(item.next_attempt, t(NOW) + CDuration::seconds(30));
        let r = deliver_due(&outbox, &mailer(port), t(NOW) + CDuration::seconds(30)).await;
        assert_eq!(r.retried.len(), 1);
        assert_eq!(outbox.get(&a.id).expect("get").map(|i| i.next_attempt), Some(t(NOW) + CDuration::seconds(90)));
    }
    // Reopen (a restart) with the server up: delivered once, then never again.
    let Some(server) = Server::start(port, &mail_dir, &[]) else { return };
    {
        let outbox = SledOutbox::new(Store::open(&path).expect("reopen"));
        let r = deliver_due(&outbox, &mailer(port), t(NOW) + CDuration::minutes(2)).await;
        assert_eq!(r.sent, vec![a.id.clone()]);
        assert!(!enqueue(&outbox, a.clone(), hook.routes(), t(NOW)).expect("after sent"));
        let r = deliver_due(&outbox, &mailer(port), t(NOW) + CDuration::days(1)).await;
        assert!(r.sent.is_empty());
    }
    assert_eq!(server.received().len(), 1);
    drop(server);
    // A 5xx refusal fails at once.
    let Some(refusing) = Server::start(port, &dir.path().join("refused"), &["--reply", "554 5.7.1 refused"]) else {
        return;
    };
    let outbox = SledOutbox::new(Store::open(&path).expect("reopen"));
    assert!(enqueue(&outbox, b.clone(), hook.routes(), t(NOW)).expect("b"));
    let r = deliver_due(&outbox, &mailer(port), t(NOW)).await;
    assert_eq!(r.failed, vec![b.id.clone()]);
    let item = outbox.get(&b.id).expect("get").expect("b");
    assert_eq!(item.state, OutboxState::Failed);
    assert!(item.last_error.as_deref().is_some_and(|e| e.contains("554")), "{item:?}");
    drop(refusing);
    // Give-up by age with the server down.
    let c = mk("03", "2026-02-07T08:00");
    assert!(enqueue(&outbox, c.clone(), hook.routes(), t(NOW)).expect("c"));
    let r = deliver_due(&outbox, &mailer(port), t(NOW) + CDuration::hours(48)).await;
    assert_eq!(r.failed, vec![c.id.clone()]);
    assert_eq!(outbox.get(&c.id).expect("get").map(|i| i.state), Some(OutboxState::Failed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailer_loop_delivers_on_wake_and_stops_on_shutdown() {
    let env = Env::new("");
    let Some(server) = env.server() else { return };
    let cfg = env.config();
    let g = grammars();
    let clock = Clock::Fixed(t(NOW));
    let hook = Arc::new(AlertHook::new(&cfg, &g, clock));
    let pipeline = Pipeline::open(&cfg, &g, clock).expect("pipeline").with_hook(hook.clone());
    let store = pipeline.store().clone();
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let lp = MailerLoop::new(store.clone(), mailer(env.port), clock)
        .with_wake(wake.clone())
        .with_no_release(hook.clone())
        .with_max_sleep(std::time::Duration::from_secs(600));
    let task = tokio::spawn(lp.run(async {
        let _ = stop_rx.await;
    }));
    let inbox = cfg.inbox("broker").expect("inbox").clone();
    let paths: Vec<PathBuf> = life_to_exam()
        .into_iter()
        .map(|(n, b)| {
            let p = env.root().join("in/broker").join(n);
            std::fs::write(&p, b).expect("drop");
            p
        })
        .collect();
    let results = tokio::task::block_in_place(|| pipeline.process_batch(&inbox, &paths));
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    assert!(hook.queued() >= 1);
    wake.notify_one();
    let mut waited = 0;
    while server.received().is_empty() && waited < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(server.received().len(), 1, "delivered after the wake-up, long before the 600 s sleep");
    stop_tx.send(()).expect("stop");
    tokio::time::timeout(std::time::Duration::from_secs(10), task).await.expect("loop stops").expect("no panic");
    assert_eq!(SledOutbox::new(store).get(EXAM_ID).expect("get").map(|i| i.state), Some(OutboxState::Sent));
}

#[test]
fn no_release_warning_after_the_configured_days_and_release_confirmation_when_on() {
    let env = Env::new("[alerts]\nno-release-days = 3\nrelease-confirmation = true\n[[route]]\nto = [\"info@example.com\"]\ncategories = [\"statement\"]\nmin-severity = \"info\"\n");
    let cfg = env.config();
    let g = grammars();
    let store_path = env.root().join("data/store");
    // Arrived 2026-02-05 08:15 (SO50 95), exam, no release.
    ok(&env.ingest(NOW, &life_to_exam()));
    let store = Store::open(&store_path).expect("store");
    let hook = AlertHook::new(&cfg, &g, Clock::Fixed(t(NOW)));
    assert_eq!(check_no_release(&store, &hook, t("2026-02-07T09:00:00-05:00")).expect("check"), 0, "2 days: too early");
    assert_eq!(check_no_release(&store, &hook, t("2026-02-08T09:00:00-05:00")).expect("check"), 1);
    assert_eq!(check_no_release(&store, &hook, t("2026-02-09T09:00:00-05:00")).expect("check"), 0, "once per arrival");
    let outbox = SledOutbox::new(store.clone());
    let id = "EEE-1234567-3/no-release/-/2026-02-05T08:15";
    let item = outbox.get(id).expect("get").expect("no-release warning queued");
    let alert = match &item.payload {
        entrywatch::alert::outbox::Payload::Alert(a) => a.clone(),
        other => panic!("alert expected: {other:?}"),
    };
    assert_eq!((alert.kind, alert.severity), (AlertKind::NoRelease, AlertSeverity::Warning));
    assert_eq!(item.to, vec!["compliance@example.com".to_string(), "broker-desk@example.com".to_string()]);
    drop(outbox);
    drop(store);
    // The rest of the life: holds lifted, released, final statement → one confirmation (info).
    let rest: Vec<(&str, Vec<u8>)> = [
        "life-04-so-fda-hold.abi",
        "life-05-so-fda-may-proceed.abi",
        "life-06-so-released.abi",
        "life-07-pf-preliminary.abi",
        "life-08-pf-final.abi",
        "life-09-er-liquidated.abi",
    ]
    .into_iter()
    .map(|n| (n, sample(n)))
    .collect();
    ok(&env.ingest("2026-02-20T09:00:00-05:00", &rest));
    let rows = env.alerts_json();
    let confirmations: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r["id"].as_str().is_some_and(|i| i.contains("/release-confirmed/"))).collect();
    assert_eq!(confirmations.len(), 1, "{rows:#?}");
    assert_eq!(confirmations[0]["to"], serde_json::json!(["info@example.com"]));
    assert!(confirmations[0]["subject"].as_str().is_some_and(|s| s.contains("INFO Released and settled")));
    // Released now: no further no-release warning.
    let store = Store::open(&store_path).expect("store");
    assert_eq!(check_no_release(&store, &hook, t("2026-03-20T09:00:00-05:00")).expect("check"), 0);
}

#[test]
fn digest_holds_non_critical_alerts_until_the_daily_hour_then_sends_one_mail() {
    let env = Env::new("[alerts]\ndigest = true\n[[route]]\nto = [\"desk@example.com\"]\nmin-severity = \"info\"\n");
    let Some(server) = env.server() else { return };
    ok(&env.ingest(NOW, &life_to_exam()));
    // The exam is critical: mailed at once (to the desk too).
    let mails = server.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_tos.len(), 3, "{:?}", mails[0].rcpt_tos);
    // Bill arrived (SO50 95) and the acceptance are info: held for the 08:00 digest.
    let rows = env.alerts_json();
    let held: Vec<&serde_json::Value> = rows.iter().filter(|r| r["state"] == "queued").collect();
    assert_eq!(held.len(), 2, "{rows:#?}");
    for r in &held {
        assert_eq!(r["severity"], "info");
        assert_eq!(r["to"], serde_json::json!(["desk@example.com"]));
        assert_eq!(r["next_attempt"].as_str().map(t), Some(t("2026-02-06T08:00:00-05:00")));
    }
    ok(&env.deliver("2026-02-06T07:59:00-05:00"));
    assert_eq!(server.received().len(), 1);
    ok(&env.deliver("2026-02-06T08:00:00-05:00"));
    let mails = server.received();
    assert_eq!(mails.len(), 2);
    let d = &mails[1];
    assert_eq!(d.rcpt_tos, vec!["desk@example.com".to_string()]);
    let subject = header(&d.data, "Subject").join(" ");
    assert!(subject.starts_with("[entrywatch] DIGEST 2 alerts on 2026-02-06: EEE-1234567-3"), "{subject}");
    let rows = env.alerts_json();
    assert_eq!(rows.len(), 2, "the exam and the digest: {rows:#?}");
    assert!(rows.iter().all(|r| r["state"] == "sent"), "{rows:#?}");
    assert!(rows
        .iter()
        .any(|r| r["severity"] == "digest" && r["id"].as_str().is_some_and(|i| i.starts_with("digest/2026-02-06/"))));
    // The same facts again from other bytes: known identities, nothing held or sent.
    let resend =
        String::from_utf8(sample("life-03-so-exam.abi")).expect("ascii").replace("BILL ARRIVED", "BILL ARRIVES");
    ok(&env.ingest("2026-02-06T09:00:00-05:00", &[("resend-exam.abi", resend.into_bytes())]));
    ok(&env.deliver("2026-02-07T08:00:00-05:00"));
    assert_eq!(server.received().len(), 2);
    assert_eq!(env.alerts_json().len(), 2);
}

#[test]
fn a_crash_anywhere_in_ingest_ends_with_exactly_one_mail() {
    common::require_crash_points();
    for point in ["after-commit:3", "after-flush", "after-journal", "after-archive:3"] {
        let env = Env::new("");
        let Some(server) = env.server() else { return };
        let paths: Vec<PathBuf> = life_to_exam()
            .into_iter()
            .map(|(n, b)| {
                let p = env.root().join("in/broker").join(n);
                std::fs::write(&p, b).expect("drop");
                p
            })
            .collect();
        let o = env
            .cmd(NOW)
            .env("ENTRYWATCH_CRASH_AT", point)
            .arg("ingest")
            .arg("--config")
            .arg(env.config_path())
            .args(["--inbox", "broker"])
            .args(&paths)
            .output()
            .expect("run ingest");
        assert!(!o.status.success(), "{point}: the run aborts");
        assert!(server.received().is_empty(), "{point}: nothing is mailed before the commit is durable");
        // The next run (no new file) finishes the claimed files and delivers.
        ok(&env.deliver(&at(CDuration::minutes(1))));
        ok(&env.deliver(&at(CDuration::minutes(2))));
        let mails = server.received();
        assert_eq!(mails.len(), 1, "{point}: one mail");
        assert_eq!(header(&mails[0].data, "X-Entrywatch-Alert-Id"), vec![EXAM_ID.to_string()], "{point}");
    }
}
