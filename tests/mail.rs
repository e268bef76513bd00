//! Mail delivery against a real SMTP server (aiosmtpd, tests/common/smtp_server.py) over TCP on 127.0.0.1: routing, dedup, retry, give-up, escaping, STARTTLS, TLS, AUTH, `.eml` files.

mod common;

use chrono::{DateTime, Duration as CDuration, FixedOffset, NaiveDate};
use entrywatch::alert::mailer::{deliver_due, message_id, Mailer, SendError};
use entrywatch::alert::outbox::{enqueue, group_digests, OutboxItem, OutboxState, OutboxStore, RetryPolicy};
use entrywatch::alert::render::RenderContext;
use entrywatch::alert::rules::{alert_for_code, routes_for, CodedFact};
use entrywatch::alert::{Alert, EntryFacts, LineRef};
use entrywatch::config::{Alerts, Category, Config, Route, Security, Smtp};
use entrywatch::grammar::codes::{AlertSeverity, CodeLists};
use entrywatch::grammar::GrammarFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

// ---------------------------------------------------------------- the SMTP server

use common::smtp::{free_port, Mail, Server};

// ---------------------------------------------------------------- fixtures

const SO60: &str = r#"
name = "so60"
title = "ABI SO60 disposition codes"
[[code]]
code = "03"
meaning = "Intensive exam"
effect = "exam"
action = "Arrange the exam with the CES; keep the cargo available."
[[code]]
code = "01"
meaning = "Released"
effect = "released"
[[code]]
code = "07"
meaning = "Hold lifted"
effect = "hold-removed"
severity = "warning"
"#;

fn codes() -> CodeLists {
    CodeLists::load(&[GrammarFile { path: "codes/so60.toml".into(), text: SO60.into() }]).expect("code list")
}

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("rfc3339")
}

fn t0() -> DateTime<FixedOffset> {
    t("2026-02-03T10:15:00-05:00")
}

fn facts() -> EntryFacts {
    EntryFacts {
        entry: "EEE-1234567-3".parse().ok(),
        importer: Some("12-345678900".into()),
        importer_name: Some("ACME APPAREL INC".into()),
        broker: Some("EEE Customs Brokers".into()),
        port: Some("2704 Los Angeles".into()),
        lines: vec![
            LineRef { line: 1, po_number: Some("PO-4500012".into()), po_line: Some("10".into()) },
            LineRef { line: 2, po_number: Some("PO-4500012".into()), po_line: Some("20".into()) },
        ],
        open_holds: vec!["SO60 03: Intensive exam".into()],
        next_deadline: Some("2026-03-02: post-summary correction window closes".into()),
        affected: None,
    }
}

fn alert(code: &str, at: &str, f: EntryFacts, narrative: Option<&str>) -> Alert {
    let fact = CodedFact {
        list: "so60".into(),
        code: code.into(),
        at: t(at),
        inbox: Some("broker".into()),
        narrative: narrative.map(Into::into),
        facts: f,
        category: None,
    };
    alert_for_code(&codes(), &Alerts::default(), fact, t0()).expect("an alert")
}

fn routes() -> Vec<Route> {
    vec![
        Route {
            to: vec!["compliance@example.com".into(), "ops@example.com".into()],
            categories: vec![Category::Disposition],
            min_severity: AlertSeverity::Warning,
            importers: vec![],
            inboxes: vec![],
        },
        Route {
            to: vec!["rejections@example.com".into()],
            categories: vec![Category::Rejection],
            min_severity: AlertSeverity::Info,
            importers: vec![],
            inboxes: vec![],
        },
        Route {
            to: vec!["other-importer@example.com".into()],
            categories: vec![Category::Disposition],
            min_severity: AlertSeverity::Info,
            importers: vec!["99-999999999".into()],
            inboxes: vec![],
        },
    ]
}

fn smtp(port: u16, security: Security) -> Smtp {
    Smtp {
        host: "127.0.0.1".into(),
        port,
        security,
        username: None,
        password_file: None,
        from: "entrywatch <entrywatch@example.com>".into(),
        ca_file: None,
        timeout_secs: 10,
    }
}

fn ctx() -> RenderContext {
    RenderContext { dashboard_url: "http://127.0.0.1:8480".into() }
}

fn mailer(s: &Smtp) -> Mailer {
    Mailer::smtp(s, ctx(), RetryPolicy::new(48)).expect("mailer")
}

/// The outbox over an in-memory map (the lead runs the same logic on sled).
#[derive(Default)]
struct MemStore {
    items: Mutex<BTreeMap<String, OutboxItem>>,
}

impl MemStore {
    fn get(&self, id: &str) -> OutboxItem {
        self.items.lock().expect("lock").get(id).cloned().expect("item present")
    }
    fn update(&self, id: &str, f: impl FnOnce(&mut OutboxItem)) -> Result<(), String> {
        let mut m = self.items.lock().map_err(|e| e.to_string())?;
        let item = m.get_mut(id).ok_or_else(|| format!("no item {id}"))?;
        f(item);
        Ok(())
    }
}

impl OutboxStore for MemStore {
    type Error = String;
    fn insert_new(&self, item: OutboxItem) -> Result<bool, String> {
        let mut m = self.items.lock().map_err(|e| e.to_string())?;
        if m.contains_key(&item.id) {
            return Ok(false);
        }
        m.insert(item.id.clone(), item);
        Ok(true)
    }
    fn due(&self, now: DateTime<FixedOffset>) -> Result<Vec<OutboxItem>, String> {
        let m = self.items.lock().map_err(|e| e.to_string())?;
        Ok(m.values().filter(|i| i.state == OutboxState::Queued && i.next_attempt <= now).cloned().collect())
    }
    fn mark_sent(&self, id: &str, at: DateTime<FixedOffset>) -> Result<(), String> {
        self.update(id, |i| {
            i.state = OutboxState::Sent;
            i.sent_at = Some(at);
        })
    }
    fn mark_retry(&self, id: &str, attempts: u32, next: DateTime<FixedOffset>, error: &str) -> Result<(), String> {
        self.update(id, |i| {
            i.attempts = attempts;
            i.next_attempt = next;
            i.last_error = Some(error.into());
        })
    }
    fn mark_failed(&self, id: &str, attempts: u32, error: &str, _at: DateTime<FixedOffset>) -> Result<(), String> {
        self.update(id, |i| {
            i.state = OutboxState::Failed;
            i.attempts = attempts;
            i.last_error = Some(error.into());
        })
    }
}

/// A CA and a leaf for 127.0.0.1 signed by it (rustls refuses a self-signed CA as the server's cert).
fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write ext");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "3650",
        "-subj",
        "/CN=entrywatch test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=127.0.0.1"]);
    run(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "3650",
        "-extfile",
        "leaf.ext",
    ]);
    (dir.join("ca.pem"), dir.join("leaf.pem"), dir.join("leaf.key"))
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn exam_alert_sends_one_mail_to_routed_recipients_and_never_twice() {
    let tmp = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let Some(server) = Server::start(port, &tmp.path().join("rx"), &[]) else { return };
    let store = MemStore::default();
    let exam = alert("03", "2026-02-03T10:12:00-05:00", facts(), Some("CES: Pacific Exam Station"));
    assert_eq!(exam.id, "EEE-1234567-3/exam/03/2026-02-03T10:12");
    assert!(enqueue(&store, exam.clone(), &routes(), t0()).expect("enqueue"));

    let m = mailer(&smtp(port, Security::None));
    let report = deliver_due(&store, &m, t0()).await;
    assert_eq!(report.sent, vec![exam.id.clone()], "{report:?}");
    let got = server.received();
    assert_eq!(got.len(), 1);
    let mut rcpts = got[0].rcpt_tos.clone();
    rcpts.sort();
    assert_eq!(rcpts, vec!["compliance@example.com", "ops@example.com"]);

    let mail = Mail::parse(&got[0].data);
    let subject = mail.header("Subject");
    assert_eq!(subject.len(), 1);
    assert!(subject[0].starts_with("[entrywatch] CRITICAL Exam ordered: EEE-1234567-3"), "subject {:?}", subject[0]);
    assert!(mail.content_type.starts_with("multipart/alternative"), "{}", mail.content_type);
    assert_eq!(mail.header("Message-ID"), vec![message_id(&exam.id).as_str()]);
    assert_eq!(mail.header("X-Entrywatch-Alert-Id"), vec![exam.id.as_str()]);
    assert_eq!(mail.header("From"), vec!["entrywatch <entrywatch@example.com>"]);
    // The Date comes from the injected clock, not the system's.
    assert_eq!(mail.header("Date"), vec!["Tue, 03 Feb 2026 15:15:00 +0000"]);
    for part in [&mail.text, &mail.html] {
        for want in [
            "Intensive exam",
            "EEE-1234567-3",
            "12-345678900",
            "EEE Customs Brokers",
            "2704 Los Angeles",
            "PO-4500012",
            "Arrange the exam with the CES",
            "2026-03-02",
            "http://127.0.0.1:8480/entries/EEE-1234567-3",
        ] {
            assert!(part.contains(want), "{want:?} missing from\n{part}");
        }
    }
    assert!(mail.html.contains("<table"));
    assert!(!mail.text.contains("<table"));

    // The same fact again (the same file dropped twice): the outbox knows it, nothing is sent.
    assert!(!enqueue(&store, exam.clone(), &routes(), t0() + CDuration::minutes(5)).expect("enqueue"));
    let again = deliver_due(&store, &m, t0() + CDuration::minutes(5)).await;
    assert!(again.sent.is_empty() && again.retried.is_empty(), "{again:?}");
    // A restart (a new mailer over the same store) does not resend either.
    let m2 = mailer(&smtp(port, Security::None));
    let after_restart = deliver_due(&store, &m2, t0() + CDuration::hours(1)).await;
    assert!(after_restart.sent.is_empty(), "{after_restart:?}");
    assert_eq!(server.received().len(), 1);
    assert_eq!(store.get(&exam.id).state, OutboxState::Sent);

    // An info alert (release) is routed nowhere by these routes: nothing is queued.
    let release = alert("01", "2026-02-04T09:00:00-05:00", facts(), None);
    assert!(routes_for(&release, &routes()).is_empty());
    assert!(!enqueue(&store, release, &routes(), t0()).expect("enqueue"));
}

#[tokio::test]
async fn server_down_alerts_wait_then_are_delivered_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let store = MemStore::default();
    let exam = alert("03", "2026-02-03T10:12:00-05:00", facts(), None);
    assert!(enqueue(&store, exam.clone(), &routes(), t0()).expect("enqueue"));
    let m = mailer(&smtp(port, Security::None));

    let r1 = deliver_due(&store, &m, t0()).await;
    assert_eq!(r1.retried, vec![exam.id.clone()], "{r1:?}");
    let item = store.get(&exam.id);
    assert_eq!((item.state, item.attempts), (OutboxState::Queued, 1));
    assert_eq!(item.next_attempt, t0() + CDuration::seconds(30));
    assert!(item.last_error.is_some());

    // Second failure doubles the wait.
    let r2 = deliver_due(&store, &m, t0() + CDuration::seconds(30)).await;
    assert_eq!(r2.retried.len(), 1);
    assert_eq!(store.get(&exam.id).next_attempt, t0() + CDuration::seconds(90));

    // Not due yet: nothing is tried.
    let r3 = deliver_due(&store, &m, t0() + CDuration::seconds(60)).await;
    assert_eq!(r3, Default::default());

    let Some(server) = Server::start(port, &tmp.path().join("rx"), &[]) else { return };
    let r4 = deliver_due(&store, &m, t0() + CDuration::seconds(90)).await;
    assert_eq!(r4.sent, vec![exam.id.clone()], "{r4:?}");
    let r5 = deliver_due(&store, &m, t0() + CDuration::hours(2)).await;
    assert!(r5.sent.is_empty());
    assert_eq!(server.received().len(), 1);
    let item = store.get(&exam.id);
    assert_eq!(item.state, OutboxState::Sent);
    assert_eq!(item.sent_at, Some(t0() + CDuration::seconds(90)));
}

#[tokio::test]
async fn gives_up_after_the_configured_age_and_on_permanent_refusal() {
    let store = MemStore::default();
    let exam = alert("03", "2026-02-03T10:12:00-05:00", facts(), None);
    assert!(enqueue(&store, exam.clone(), &routes(), t0()).expect("enqueue"));
    let down = Mailer::smtp(&smtp(free_port(), Security::None), ctx(), RetryPolicy::new(1)).expect("mailer");
    let r1 = deliver_due(&store, &down, t0()).await;
    assert_eq!(r1.retried.len(), 1);
    let r2 = deliver_due(&store, &down, t0() + CDuration::minutes(61)).await;
    assert_eq!(r2.failed, vec![exam.id.clone()], "{r2:?}");
    let item = store.get(&exam.id);
    assert_eq!((item.state, item.attempts), (OutboxState::Failed, 2));
    assert!(item.last_error.as_deref().is_some_and(|e| e.contains("gave up")), "{:?}", item.last_error);
    // Failed items are not tried again.
    assert_eq!(deliver_due(&store, &down, t0() + CDuration::hours(5)).await, Default::default());

    // A 5xx answer is permanent: failed at once, no retry.
    let tmp = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let Some(server) = Server::start(port, &tmp.path().join("rx"), &["--reply", "554 5.7.1 message refused"]) else {
        return;
    };
    let store2 = MemStore::default();
    assert!(enqueue(&store2, exam.clone(), &routes(), t0()).expect("enqueue"));
    let m = mailer(&smtp(port, Security::None));
    let r = deliver_due(&store2, &m, t0()).await;
    assert_eq!(r.failed, vec![exam.id.clone()], "{r:?}");
    let item = store2.get(&exam.id);
    assert_eq!((item.state, item.attempts), (OutboxState::Failed, 1));
    assert!(item.last_error.as_deref().is_some_and(|e| e.contains("554")), "{:?}", item.last_error);
    assert!(server.received().is_empty());
    // A 4xx answer is transient.
    let tmp2 = tempfile::tempdir().expect("tmp");
    let port2 = free_port();
    let Some(_busy) = Server::start(port2, &tmp2.path().join("rx"), &["--reply", "451 4.3.0 try later"]) else {
        return;
    };
    let item = OutboxItem::for_alert(exam.clone(), vec!["compliance@example.com".into()], t0());
    match mailer(&smtp(port2, Security::None)).send(&item, t0()).await {
        Err(SendError::Transient(e)) => assert!(e.contains("451"), "{e}"),
        other => panic!("451 should be transient: {other:?}"),
    }
}

#[tokio::test]
async fn hostile_content_is_neutralised_in_headers_and_html() {
    let tmp = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let Some(server) = Server::start(port, &tmp.path().join("rx"), &[]) else { return };
    let mut f = facts();
    f.importer_name = Some("ACME\r\nBcc: evil@example.net\r\nX-Evil: 1".into());
    f.broker = Some("<img src=x onerror=alert(1)> & \"brokers\"".into());
    f.port = Some("2704\u{0}\u{1b}[31m".into());
    let narrative = "line one\r\nBcc: evil@example.net\r\n\r\n<script>alert('x')</script>\nend";
    let a = alert("03\r\nX-Evil: 2", "2026-02-03T10:12:00-05:00", f, Some(narrative));
    assert!(!a.id.contains('\n') && !a.id.contains('\r'), "{:?}", a.id);
    let store = MemStore::default();
    assert!(enqueue(&store, a.clone(), &routes(), t0()).expect("enqueue"));
    let r = deliver_due(&store, &mailer(&smtp(port, Security::None)), t0()).await;
    assert_eq!(r.sent.len(), 1, "{r:?}");
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].rcpt_tos.iter().all(|r| r.ends_with("@example.com")), "{:?}", got[0].rcpt_tos);
    let mail = Mail::parse(&got[0].data);
    for line in mail.header_block.lines() {
        let l = line.to_ascii_lowercase();
        assert!(!l.starts_with("bcc") && !l.starts_with("x-evil"), "injected header line {line:?}");
    }
    assert_eq!(mail.header("Subject").len(), 1);
    assert!(mail.header("Subject")[0].contains("ACME Bcc: evil@example.net X-Evil: 1"), "{:?}", mail.header("Subject"));
    assert!(!mail.html.contains("<script") && !mail.html.contains("<img"), "{}", mail.html);
    assert!(mail.html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(mail.html.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;brokers&quot;"));
    assert!(!mail.text.contains('\u{0}') && !mail.text.contains('\u{1b}'));
    assert!(mail.text.contains("  > <script>alert('x')</script>"), "{}", mail.text);
}

#[tokio::test]
async fn starttls_with_auth_and_tls_wrapper_with_a_private_ca() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ca, leaf, key) = make_certs(tmp.path());
    let (leaf_s, key_s) = (leaf.to_string_lossy().into_owned(), key.to_string_lossy().into_owned());
    let pw = tmp.path().join("smtp-password");
    std::fs::write(&pw, "s3cret pass\n").expect("password file");
    let bad_pw = tmp.path().join("bad-password");
    std::fs::write(&bad_pw, "wrong\n").expect("password file");
    let exam = alert("03", "2026-02-03T10:12:00-05:00", facts(), None);
    let item = OutboxItem::for_alert(exam.clone(), vec!["compliance@example.com".into()], t0());

    // STARTTLS + AUTH (the server refuses mail without both).
    let port = free_port();
    let Some(server) = Server::start(
        port,
        &tmp.path().join("rx-starttls"),
        &["--starttls", &leaf_s, &key_s, "--auth", "entrywatch:s3cret pass"],
    ) else {
        return;
    };
    let mut s = smtp(port, Security::Starttls);
    s.ca_file = Some(ca.clone());
    s.username = Some("entrywatch".into());
    s.password_file = Some(pw.clone());
    mailer(&s).send(&item, t0()).await.expect("sent over STARTTLS with AUTH");
    assert_eq!(server.received().len(), 1);
    assert_eq!(server.received()[0].rcpt_tos, vec!["compliance@example.com"]);

    // Wrong password: 535, permanent.
    let mut wrong = s.clone();
    wrong.password_file = Some(bad_pw);
    match mailer(&wrong).send(&item, t0()).await {
        Err(SendError::Permanent(e)) => assert!(e.contains("535"), "{e}"),
        other => panic!("a refused login is permanent: {other:?}"),
    }
    // No credentials: the server requires AUTH (530), permanent.
    let mut anon = s.clone();
    anon.username = None;
    anon.password_file = None;
    assert!(matches!(mailer(&anon).send(&item, t0()).await, Err(SendError::Permanent(_))));
    // The private CA not trusted: the handshake fails, transient (retried until give-up).
    let mut untrusted = s.clone();
    untrusted.ca_file = None;
    assert!(matches!(mailer(&untrusted).send(&item, t0()).await, Err(SendError::Transient(_))));
    assert_eq!(server.received().len(), 1);

    // Implicit TLS (SMTPS).
    let tls_port = free_port();
    let Some(tls_server) = Server::start(tls_port, &tmp.path().join("rx-tls"), &["--tls", &leaf_s, &key_s]) else {
        return;
    };
    let mut t = smtp(tls_port, Security::Tls);
    t.ca_file = Some(ca);
    mailer(&t).send(&item, t0()).await.expect("sent over TLS");
    let got = tls_server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(Mail::parse(&got[0].data).header("X-Entrywatch-Alert-Id"), vec![exam.id.as_str()]);
}

#[tokio::test]
async fn without_smtp_mail_goes_to_eml_files_and_digests_group_alerts() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut cfg = Config::embedded();
    cfg.data_dir = tmp.path().join("data");
    cfg.dashboard.public_url = Some("https://entrywatch.example.com/".into());
    let m = Mailer::from_config(&cfg).expect("file mailer");
    let store = MemStore::default();
    let exam = alert("03", "2026-02-03T10:12:00-05:00", facts(), None);
    assert!(enqueue(&store, exam.clone(), &cfg.route, t0()).expect("enqueue"));

    // Three non-critical alerts over two entries, for one recipient: one digest.
    let mut other = facts();
    other.entry = "EEE-7654321-0".parse().ok();
    let lifts = [
        alert("07", "2026-02-03T11:00:00-05:00", facts(), None),
        alert("07", "2026-02-03T12:00:00-05:00", facts(), None),
        alert("07", "2026-02-03T13:00:00-05:00", other, None),
    ];
    let pairs: Vec<(Alert, Vec<String>)> = lifts.iter().map(|a| (a.clone(), routes_for(a, &cfg.route))).collect();
    let digests = group_digests(NaiveDate::from_ymd_opt(2026, 2, 3).expect("date"), pairs, t0());
    assert_eq!(digests.len(), 1);
    let digest_id = digests[0].id.clone();
    for d in digests {
        assert!(store.insert_new(d).expect("insert"));
    }

    let r = deliver_due(&store, &m, t0()).await;
    assert_eq!(r.sent.len(), 2, "{r:?}");
    let dir = cfg.data_dir.join("mail");
    let emls: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("mail dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(emls.len(), 2);
    let mails: Vec<Mail> = emls.iter().map(|p| Mail::parse(&std::fs::read_to_string(p).expect("eml"))).collect();
    let exam_mail =
        mails.iter().find(|m| m.header("X-Entrywatch-Alert-Id") == vec![exam.id.as_str()]).expect("the exam mail");
    assert_eq!(exam_mail.header("To"), vec!["compliance@localhost"]);
    assert_eq!(exam_mail.header("From"), vec!["entrywatch <entrywatch@localhost>"]);
    assert!(exam_mail.text.contains("https://entrywatch.example.com/entries/EEE-1234567-3"));
    let digest = mails.iter().find(|m| m.header("X-Entrywatch-Alert-Id") == vec![digest_id.as_str()]).expect("digest");
    let subject = digest.header("Subject");
    assert!(
        subject[0].starts_with("[entrywatch] DIGEST 3 alerts on 2026-02-03: EEE-1234567-3, EEE-7654321-0"),
        "{subject:?}"
    );
    assert_eq!(digest.text.matches("Hold removed").count(), 6, "{}", digest.text);
    assert_eq!(digest.header("Message-ID"), vec![message_id(&digest_id).as_str()]);
    // Delivered once: a later pass writes nothing more.
    assert!(deliver_due(&store, &m, t0() + CDuration::hours(1)).await.sent.is_empty());
    assert_eq!(std::fs::read_dir(&dir).expect("mail dir").count(), 2);
}
