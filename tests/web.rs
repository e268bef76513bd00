//! The dashboard over real TCP on 127.0.0.1: every route (status, content type, key content),
//! escaping of hostile strings from files, read-only methods, and auth when configured.

use entrywatch::clock::Clock;
use entrywatch::config::Dashboard;
use entrywatch::view::{EntryView, MemoryModel, Metrics, ReadModel};
use entrywatch::web::{self, Auth, WebError};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

const NOW: &str = "2026-03-01T09:00:00-05:00";

fn fixtures() -> Vec<EntryView> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/entries");
    let mut v = Vec::new();
    for f in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        v.push(serde_json::from_str(&text).unwrap());
    }
    v
}

fn hostile() -> EntryView {
    let mut e: EntryView = fixtures().into_iter().find(|e| e.entry == "EEE-1234567-3").unwrap();
    e.entry = "<script>alert(0)</script>".into();
    e.importer = "<script>alert(1)</script>".into();
    e.broker = Some("<img src=x onerror=alert(2)>".into());
    e.port = "27<b>04".into();
    e.release.open_holds[0].code = "<i>1H</i>".into();
    e.release.open_holds[0].agency = "C&BP".into();
    e.events[0].kind = "<svg onload=alert(3)>".into();
    e.events[0].source.file = "\"><script>alert(4)</script>".into();
    e.deadlines[1].kind = "psc<script>alert(5)</script>".into();
    e.lines[0].po_number = Some("PO'\"<x>".into());
    e.statement.as_mut().unwrap().number = "<u>stmt</u>".into();
    // Extreme instants from a file must not break the timeline chart.
    e.events[1].at = chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59+14:00").unwrap();
    e.events[2].at = chrono::DateTime::parse_from_rfc3339("0001-01-01T00:00:00-12:00").unwrap();
    e.deadlines[0].due = chrono::NaiveDate::MAX;
    e
}

fn start(model: Arc<dyn ReadModel>, auth: Auth) -> Server {
    serve(model, Clock::Fixed(chrono::DateTime::parse_from_rfc3339(NOW).unwrap()), auth)
}

fn fixture_server() -> Server {
    let m = MemoryModel::new(fixtures()).with_metrics(Metrics {
        files_processed: 42,
        files_quarantined: 2,
        alerts_queued: 1,
        alerts_sent: 9,
        alerts_failed: 0,
        parse_seconds_total: 1.5,
        store_bytes: 65536,
        entries: 0,
    });
    start(Arc::new(m), Auth::default())
}

mod common;
use common::http::{get, req, serve, Resp, Server};

fn html_ok(r: &Resp) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.ctype(), "text/html; charset=utf-8");
    assert!(r.body.starts_with("<!doctype html>"));
}

#[test]
fn overview_page_and_api() {
    let s = fixture_server();
    let r = get(s.addr, "/");
    html_ok(&r);
    assert_eq!(r.body.matches("<svg").count(), 2, "two charts");
    assert!(r.body.contains("Open critical holds"));
    assert!(r.body.contains("href=\"/entries/EEE-1234567-3\""));
    assert!(r.body.contains(">1H<"));
    assert!(!r.body.contains(">7H<"), "the FDA hold is a warning, not critical");
    for due in ["2026-03-05", "2026-03-09", "2026-03-10", "2026-03-20"] {
        assert!(r.body.contains(due), "{due}");
    }
    assert!(!r.body.contains("2026-12-18"), "outside 30 days");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.header("content-security-policy").unwrap().contains("default-src 'none'"));

    let a = get(s.addr, "/api/overview");
    assert_eq!(a.status, 200);
    assert_eq!(a.ctype(), "application/json");
    let v = a.json();
    assert_eq!(v["entries"], 7);
    assert_eq!(v["open_holds"], 2);
    assert_eq!(v["open_critical_holds"].as_array().unwrap().len(), 1);
    assert_eq!(v["open_critical_holds_total"], 1);
    assert_eq!(v["deadlines_next_30_days_total"], 4);
    assert_eq!(v["open_critical_holds"][0]["entry"], "EEE-1234567-3");
    let dl: Vec<&str> =
        v["deadlines_next_30_days"].as_array().unwrap().iter().map(|d| d["due"].as_str().unwrap()).collect();
    assert_eq!(dl, ["2026-03-05", "2026-03-09", "2026-03-10", "2026-03-20"]);
    let vol = v["message_volume"].as_array().unwrap();
    assert_eq!(vol.len(), 60);
    assert_eq!(vol[0]["day"], "2026-01-01");
    assert_eq!(vol.iter().map(|d| d["messages"].as_u64().unwrap()).sum::<u64>(), 24);
    let trend = v["cycle_trend"].as_array().unwrap();
    assert_eq!(trend.len(), 2);
    assert_eq!(trend[0]["month"], "2026-01-01");
    assert_eq!(trend[0]["entries"], 2);
    assert_eq!(trend[0]["release_median_minutes"], 360);
    assert_eq!(trend[0]["release_p90_minutes"], 2880);
    assert_eq!(trend[0]["acceptance_median_minutes"], 1500);
    assert_eq!(trend[1]["entries"], 5);
    assert_eq!(trend[1]["release_median_minutes"], 1440);
    assert_eq!(trend[1]["acceptance_median_minutes"], Value::Null);
}

#[test]
fn entries_list_filters_and_api() {
    let s = fixture_server();
    let r = get(s.addr, "/entries");
    html_ok(&r);
    assert_eq!(r.body.matches("href=\"/entries/").count(), 7);
    let r = get(s.addr, "/entries?importer=55-555555500&status=");
    html_ok(&r);
    assert_eq!(r.body.matches("href=\"/entries/KKK").count(), 3);
    assert_eq!(r.body.matches("href=\"/entries/EEE").count(), 0);
    let r = get(s.addr, "/entries?status=rejected");
    assert_eq!(r.body.matches("href=\"/entries/").count(), 1);
    assert!(r.body.contains("EEE-3456789-0"));
    let r = get(s.addr, "/entries?from=2026-99-01");
    html_ok(&r);
    assert!(r.body.contains("is not YYYY-MM-DD"));
    let r = get(s.addr, "/entries?hts=8471");
    assert_eq!(r.body.matches("href=\"/entries/").count(), 2);

    let a = get(s.addr, "/api/entries");
    assert_eq!(a.ctype(), "application/json");
    assert_eq!(a.json().as_array().unwrap().len(), 7);
    let a = get(s.addr, "/api/entries?broker=KKK");
    assert_eq!(a.json().as_array().unwrap().len(), 3);
    let a = get(s.addr, "/api/entries?limit=2&offset=1").json();
    let keys: Vec<&str> = a.as_array().unwrap().iter().map(|e| e["entry"].as_str().unwrap()).collect();
    assert_eq!(keys, ["EEE-2345678-2", "EEE-3456789-0"]);
    assert_eq!(get(s.addr, "/api/entries?to=yesterday").status, 400);
}

#[test]
fn entry_page_and_api() {
    let s = fixture_server();
    let r = get(s.addr, "/entries/EEE12345673");
    html_ok(&r);
    assert!(r.body.contains("<svg"), "timeline chart");
    for needle in [
        "Audit trail",
        "PO-4500012",
        "2726041A01",
        "R123",
        "eee/ue-0202.txt:4",
        "Hold for examination",
        "approved 6204624021",
        "psc",
    ] {
        assert!(r.body.contains(needle), "{needle}");
    }
    // The fixture's importer name and narrative carry <script>: escaped, never raw.
    assert!(!r.body.contains("<script"));
    assert!(r.body.contains("&lt;script&gt;alert(&#39;importer&#39;)&lt;/script&gt; Acme Apparel"));
    assert!(r.body.contains("&lt;script&gt;alert(&#39;narrative&#39;)&lt;/script&gt;"));

    let n = get(s.addr, "/entries/EEE-9999999-9");
    assert_eq!(n.status, 404);
    assert_eq!(n.ctype(), "text/html; charset=utf-8");

    let a = get(s.addr, "/api/entries/EEE%201234567%203");
    assert_eq!(a.status, 200);
    let e: EntryView = serde_json::from_str(&a.body).unwrap();
    let want = fixtures().into_iter().find(|e| e.entry == "EEE-1234567-3").unwrap();
    assert_eq!(e, want);
    let n = get(s.addr, "/api/entries/EEE-9999999-9");
    assert_eq!((n.status, n.ctype()), (404, "application/json"));
}

#[test]
fn brokers_deadlines_calendar() {
    let s = fixture_server();
    let r = get(s.addr, "/brokers");
    html_ok(&r);
    assert_eq!(r.body.matches("<svg").count(), 4);
    assert!(r.body.contains("href=\"/entries?broker=EEE\""));
    assert!(r.body.contains("<td class=\"n\">66.7</td>"));
    let a = get(s.addr, "/api/brokers").json();
    assert_eq!(a[0]["broker"], "EEE");
    assert_eq!(a[0]["entries"], 4);
    assert_eq!(a[1]["arrival_to_release_median_minutes"], 2880);

    let r = get(s.addr, "/deadlines");
    html_ok(&r);
    assert!(r.body.contains("2026-03-20") && !r.body.contains("2026-08-26"), "default window is 90 days");
    let r = get(s.addr, "/deadlines?within=200");
    assert!(r.body.contains("2026-08-26"));
    assert!(r.body.contains("Overdue"), "the statement payment of 2026-02-17 is overdue");
    let r = get(s.addr, "/deadlines?within=10");
    assert!(r.body.contains("2026-03-10") && !r.body.contains("2026-03-20"));
    let a = get(s.addr, "/api/deadlines").json();
    let due: Vec<&str> = a.as_array().unwrap().iter().map(|d| d["due"].as_str().unwrap()).collect();
    assert_eq!(due, ["2026-03-05", "2026-03-09", "2026-03-10", "2026-03-20"]);
    assert_eq!(a[3]["rule"], "earlier of entry date + 300 days and scheduled liquidation - 15 days");

    let c = get(s.addr, "/deadlines.ics");
    assert_eq!(c.status, 200);
    assert_eq!(c.ctype(), "text/calendar; charset=utf-8");
    assert!(c.body.starts_with("BEGIN:VCALENDAR\r\n"));
    assert_eq!(c.body.matches("BEGIN:VEVENT").count(), 8, "1 overdue in 30 days + 7 ahead");
    // The one calendar writer (deadline::ics): the UID is the entry and kind, stable when the date moves.
    assert!(c.body.contains("UID:EEE12345673-psc@entrywatch\r\n"), "{}", c.body);
    assert!(c.body.replace("\r\n ", "").contains(": EEE-1234567-3"));
}

#[test]
fn metrics_healthz_methods_and_not_found() {
    let s = fixture_server();
    let m = get(s.addr, "/metrics");
    assert_eq!(m.status, 200);
    assert_eq!(m.ctype(), "text/plain; version=0.0.4; charset=utf-8");
    for (name, value) in [
        ("entrywatch_files_processed_total", "42"),
        ("entrywatch_files_quarantined_total", "2"),
        ("entrywatch_alerts_queued", "1"),
        ("entrywatch_alerts_sent_total", "9"),
        ("entrywatch_alerts_failed_total", "0"),
        ("entrywatch_parse_seconds_total", "1.5"),
        ("entrywatch_store_size_bytes", "65536"),
        ("entrywatch_entries", "7"),
    ] {
        assert!(m.body.contains(&format!("# HELP {name} ")), "{name}");
        assert!(m.body.contains(&format!("# TYPE {name} ")), "{name}");
        assert!(m.body.contains(&format!("\n{name} {value}\n")), "{name} {value}\n{}", m.body);
    }
    let h = get(s.addr, "/healthz");
    assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));
    assert_eq!(get(s.addr, "/nope").status, 404);
    for (method, path) in
        [("POST", "/"), ("PUT", "/api/entries"), ("DELETE", "/entries/EEE-1234567-3"), ("PATCH", "/nope")]
    {
        let r = req(s.addr, method, path, &[("Content-Length", "0")]);
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
    let head = req(s.addr, "HEAD", "/", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn hostile_strings_are_escaped_everywhere() {
    let mut entries = fixtures();
    entries.push(hostile());
    let s = start(Arc::new(MemoryModel::new(entries)), Auth::default());
    let pages = [
        "/".to_string(),
        "/entries".into(),
        "/entries?importer=%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
        "/entries/%3Cscript%3Ealert(0)%3C%2Fscript%3E".into(),
        "/brokers".into(),
        "/deadlines".into(),
    ];
    for p in &pages {
        let r = get(s.addr, p);
        html_ok(&r);
        for raw in ["<script", "<img", "<svg onload", "<i>", "<b>", "<u>", "<x>"] {
            assert!(!r.body.contains(raw), "{p} contains raw {raw}");
        }
    }
    let e = get(s.addr, "/entries/%3Cscript%3Ealert(0)%3C%2Fscript%3E");
    assert!(e.body.contains("&lt;i&gt;1H&lt;/i&gt;"));
    assert!(e.body.contains("C&amp;BP"));
    assert!(e.body.contains("PO&#39;&quot;&lt;x&gt;"));
    assert!(e.body.contains("&lt;u&gt;stmt&lt;/u&gt;"));
    assert!(e.body.contains("&quot;&gt;&lt;script&gt;alert(4)"));
    let o = get(s.addr, "/");
    assert!(o.body.contains("href=\"/entries/%3Cscript%3Ealert%280%29%3C%2Fscript%3E\""));
    let f = get(s.addr, "/entries?importer=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert!(f.body.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    assert_eq!(f.body.matches("href=\"/entries/%3Cscript").count(), 1);
    let c = get(s.addr, "/deadlines.ics");
    // A row whose entry number or deadline kind is not one entrywatch knows is not a calendar
    // event (the store never holds one; only a hand-made model could).
    assert!(c.body.starts_with("BEGIN:VCALENDAR\r\n") && !c.body.contains("<script>"), "{}", c.body);
}

#[test]
fn token_and_basic_auth() {
    let model: Arc<dyn ReadModel> = Arc::new(MemoryModel::new(fixtures()));
    let s = start(model.clone(), Auth { token: Some("s3cret-token".into()), basic: None });
    for p in ["/", "/entries", "/api/overview", "/metrics", "/deadlines.ics", "/nope"] {
        let r = get(s.addr, p);
        assert_eq!(r.status, 401, "{p}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"entrywatch\""));
        assert_eq!(req(s.addr, "GET", p, &[("Authorization", "Bearer wrong")]).status, 401);
    }
    assert_eq!(get(s.addr, "/healthz").status, 200);
    let ok = req(s.addr, "GET", "/api/overview", &[("Authorization", "Bearer s3cret-token")]);
    assert_eq!(ok.status, 200);
    assert_eq!(req(s.addr, "GET", "/", &[("Authorization", "Bearer s3cret-token")]).status, 200);

    // Basic auth from a file, through the same loader serve() uses.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("basic");
    std::fs::write(&f, "ann:pa ss:word\n").unwrap();
    let cfg = Dashboard { listen: "127.0.0.1:0".into(), basic_auth_file: Some(f), ..Dashboard::default() };
    let (_, auth) = Auth::from_config(&cfg).unwrap();
    let b = start(model, auth);
    let r = get(b.addr, "/");
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic "));
    // base64("ann:pa ss:word")
    assert_eq!(req(b.addr, "GET", "/", &[("Authorization", "Basic YW5uOnBhIHNzOndvcmQ=")]).status, 200);
    assert_eq!(req(b.addr, "GET", "/", &[("Authorization", "Basic YW5uOnBhc3M=")]).status, 401);
    assert_eq!(req(b.addr, "GET", "/", &[("Authorization", "Bearer YW5uOnBhIHNzOndvcmQ=")]).status, 401);
}

#[test]
fn serve_refuses_a_public_address_without_credentials() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let model: Arc<dyn ReadModel> = Arc::new(MemoryModel::new(fixtures()));
    let cfg = Dashboard { listen: "0.0.0.0:8480".into(), ..Dashboard::default() };
    let r = rt.block_on(web::serve(&cfg, model.clone(), async {}));
    assert!(matches!(r, Err(WebError::Auth(_))), "{r:?}");
    let msg = r.unwrap_err().to_string();
    assert!(msg.contains("token-file or basic-auth-file"), "{msg}");
    // Empty token file: refused too.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("token");
    std::fs::write(&f, "\n").unwrap();
    let cfg = Dashboard { listen: "0.0.0.0:8480".into(), token_file: Some(f), ..Dashboard::default() };
    assert!(matches!(rt.block_on(web::serve(&cfg, model.clone(), async {})), Err(WebError::Auth(_))));
    // Loopback: starts and stops when told.
    let cfg = Dashboard { listen: "127.0.0.1:0".into(), ..Dashboard::default() };
    assert!(rt.block_on(web::serve(&cfg, model, async {})).is_ok());
}
