//! Alert throughput: rendering + building the MIME message, and the `.eml` file transport, in alerts per second.

#![forbid(unsafe_code)]

use entrywatch::alert::mailer::Mailer;
use entrywatch::alert::outbox::{OutboxItem, RetryPolicy};
use entrywatch::alert::render::{render_alert, RenderContext};
use entrywatch::alert::rules::alert_for_event;
use entrywatch::alert::{Alert, AlertKind, EntryFacts, LineRef};
use entrywatch::grammar::codes::AlertSeverity;
use std::time::Instant;

fn alerts(n: usize) -> Vec<Alert> {
    let at = chrono::DateTime::parse_from_rfc3339("2026-02-03T10:12:00-05:00").expect("time");
    (0..n)
        .map(|i| {
            let facts = EntryFacts {
                entry: format!("EEE{:07}0", i % 10_000_000).parse().ok(),
                importer: Some("12-345678900".into()),
                importer_name: Some("ACME APPAREL <INC> & CO".into()),
                broker: Some("EEE Customs Brokers".into()),
                port: Some("2704 Los Angeles".into()),
                lines: (1..=5)
                    .map(|l| LineRef { line: l, po_number: Some("PO-4500012".into()), po_line: Some(format!("{l}0")) })
                    .collect(),
                open_holds: vec!["SO60 03: Intensive exam".into()],
                next_deadline: Some("2026-03-02: post-summary correction window closes".into()),
                affected: None,
            };
            let mut a = alert_for_event(
                AlertKind::Exam,
                AlertSeverity::Critical,
                Some("03"),
                at + chrono::Duration::minutes(i as i64),
                facts,
                at,
            );
            a.narrative = Some("CES: Pacific Exam Station\r\n<script>x</script>\n".repeat(5));
            a
        })
        .collect()
}

fn main() {
    let n = 20_000;
    let list = alerts(n);
    let ctx = RenderContext { dashboard_url: "http://127.0.0.1:8480".into() };
    let now = chrono::DateTime::parse_from_rfc3339("2026-02-03T10:15:00-05:00").expect("time");

    let start = Instant::now();
    let mut bytes = 0usize;
    for a in &list {
        let m = render_alert(a, &ctx);
        bytes += m.text.len() + m.html.len() + m.subject.len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "render: {n} alerts in {secs:.3} s = {:.0} alerts/s ({:.1} MB/s of text+HTML)",
        n as f64 / secs,
        bytes as f64 / secs / 1e6
    );

    let dir = std::env::temp_dir().join(format!("entrywatch-bench-mail-{}", std::process::id()));
    let m = Mailer::file(&dir, "entrywatch <entrywatch@localhost>".parse().expect("from"), ctx, RetryPolicy::new(48))
        .expect("file mailer");
    let items: Vec<OutboxItem> =
        list.into_iter().map(|a| OutboxItem::for_alert(a, vec!["compliance@example.com".into()], now)).collect();
    let start = Instant::now();
    let mut built = 0usize;
    for it in &items {
        built += m.message(it, now).map(|msg| msg.formatted().len()).unwrap_or(0);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "message build: {n} in {secs:.3} s = {:.0} messages/s ({:.1} MB/s)",
        n as f64 / secs,
        built as f64 / secs / 1e6
    );

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let k = 2_000;
    let start = Instant::now();
    rt.block_on(async {
        for it in items.iter().take(k) {
            m.send(it, now).await.expect("eml written");
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!("eml file transport: {k} in {secs:.3} s = {:.0} mails/s", k as f64 / secs);
    let _ = std::fs::remove_dir_all(&dir);
}
