//! Mail rendering: subject, plain text and HTML of an alert or a digest; everything from files is made header-safe and HTML-escaped.
//! Also the queue as people read it (`entrywatch alerts`: [`OutboxRow`], [`alerts_table`]).

use super::outbox::{Digest, OutboxItem, OutboxState, Payload};
use super::{Alert, AlertKind};
use crate::config::Config;
use crate::grammar::codes::AlertSeverity;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Longest subject we build (characters, before lettre's encoding).
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest narrative quoted in a mail (characters); the rest is cut with a mark.
pub const MAX_NARRATIVE_CHARS: usize = 4000;

/// What rendering needs besides the alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderContext {
    /// Dashboard base URL without a trailing slash (`http://127.0.0.1:8480`).
    pub dashboard_url: String,
}

impl RenderContext {
    /// `dashboard.public-url` when set, else `http://<dashboard.listen>`.
    pub fn from_config(cfg: &Config) -> RenderContext {
        let base = match cfg.dashboard.public_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", cfg.dashboard.listen),
        };
        RenderContext { dashboard_url: base }
    }

    /// The dashboard page of an alert's entry (or the overview when it has none).
    pub fn link(&self, alert: &Alert) -> String {
        match &alert.facts.entry {
            Some(e) => format!("{}/entries/{}", self.dashboard_url, e),
            None => format!("{}/", self.dashboard_url),
        }
    }
}

/// A rendered mail: subject (header-safe), text and HTML alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Make text safe for a header: every control character (CR, LF, TAB, NUL, DEL, C1, line
/// and paragraph separators) becomes a space, runs of spaces collapse, the ends are
/// trimmed, and the result is cut to `max` characters (ending in `...` when cut).
pub fn header_safe(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 4));
    let mut space = false;
    for c in s.chars() {
        let c = if c.is_control() || c == '\u{2028}' || c == '\u{2029}' || c.is_whitespace() { ' ' } else { c };
        if crate::logging::is_hidden_control(c) {
            // A bidi control in a subject: shown, not acted on.
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
            space = false;
            continue;
        }
        if c == ' ' {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    let trimmed = out.trim_end();
    if trimmed.chars().count() <= max {
        return trimmed.to_string();
    }
    let mut cut: String = trimmed.chars().take(max.saturating_sub(3)).collect();
    cut.push_str("...");
    cut
}

/// Escape text for HTML element content and attribute values (`& < > " '`).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // NUL, ESC, bidi overrides ...: shown, not acted on (a name cannot turn text around).
            c if c != '\n' && c != '\t' && c != '\r' && crate::logging::is_hidden_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Text from a file for a body: control characters other than newline removed (CR LF and
/// lone CR become newlines), cut to `max` characters.
pub fn body_safe(s: &str, max: usize) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(s.len().min(max + 16));
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push_str(" [...]");
            break;
        }
        if c == '\n' {
            out.push('\n');
        } else if c == '\t' {
            out.push(' ');
        } else if crate::logging::is_hidden_control(c) || c == '\u{2028}' || c == '\u{2029}' {
            // Shown, not acted on: `\u{1b}`, `\u{202e}`.
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.trim_end().to_string()
}

/// The subject's severity word: `CRITICAL`, `WARNING`, `REMINDER` (deadline reminders),
/// `INFO` (info alerts, e.g. release confirmations, which the contract does not name).
pub fn severity_label(alert: &Alert) -> &'static str {
    if alert.kind == AlertKind::DeadlineReminder {
        return "REMINDER";
    }
    match alert.severity {
        AlertSeverity::Critical => "CRITICAL",
        AlertSeverity::Warning => "WARNING",
        AlertSeverity::Info => "INFO",
    }
}

/// What to do, when the code list does not say.
fn default_action(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Exam => "Contact the broker and the CES to schedule the exam; keep the cargo available.",
        AlertKind::HoldPlaced => "Find out which agency holds the cargo and what it needs; do not move the cargo.",
        AlertKind::DocumentsRequired => "Send the requested documents to CBP through the broker.",
        AlertKind::Rejected => "Ask the broker to correct and retransmit.",
        AlertKind::Seizure => "Call the broker and your customs counsel today.",
        AlertKind::Cancelled => "Check with the broker why the release or entry was cancelled.",
        AlertKind::Variance => "Compare the filing with the approved pre-entry; ask the broker for a correction (PSC).",
        AlertKind::DeadlineReminder | AlertKind::DeadlineMissed => {
            "Open the entry on the dashboard and act before the date."
        }
        AlertKind::NoRelease => "Ask the broker why there is no release; demurrage may accrue.",
        AlertKind::UnreportedEntry => {
            "Find out who filed this entry under your importer number; ask for the filing or report the misuse to CBP."
        }
        AlertKind::AceBrokerMismatch => "Ask the broker for the filing as transmitted; a PSC may be needed.",
        AlertKind::AceApprovedMismatch => {
            "Check the ACE values against the approved pre-entry; ask the broker for a PSC."
        }
        AlertKind::AceLiquidation => "Check the liquidation in ACE; protest and payment deadlines run from its date.",
        AlertKind::AcePsc => "Ask the broker for the post summary correction it filed and why.",
        AlertKind::RefundRejected => {
            "Correct what the program names and claim the entry again on a new declaration before its window closes (`entrywatch report recovery` shows the day)."
        }
        AlertKind::RecoveryWindow => {
            "The refund program no longer takes this entry: file a protest (CBP Form 19) before its date."
        }
        _ => "No action needed.",
    }
}

/// The lines (and PO lines) affected, in words.
fn lines_text(alert: &Alert) -> Option<String> {
    if alert.facts.lines.is_empty() {
        return None;
    }
    let parts: Vec<String> = alert
        .facts
        .lines
        .iter()
        .map(|l| match (&l.po_number, &l.po_line) {
            (Some(po), Some(pl)) => format!("{} (PO {} line {})", l.line, po, pl),
            (Some(po), None) => format!("{} (PO {})", l.line, po),
            (None, Some(pl)) => format!("{} (PO line {})", l.line, pl),
            (None, None) => l.line.to_string(),
        })
        .collect();
    Some(parts.join(", "))
}

/// The labelled facts of an alert, as (label, raw value) pairs (values unescaped).
fn fact_rows(alert: &Alert) -> Vec<(&'static str, String)> {
    let f = &alert.facts;
    let mut rows = vec![("Entry", alert.entry_display())];
    let importer = match (&f.importer, &f.importer_name) {
        (Some(n), Some(name)) => Some(format!("{n} {name}")),
        (Some(n), None) => Some(n.clone()),
        (None, Some(name)) => Some(name.clone()),
        (None, None) => None,
    };
    if let Some(i) = importer {
        rows.push(("Importer", i));
    }
    if let Some(b) = &f.broker {
        rows.push(("Broker", b.clone()));
    }
    if let Some(p) = &f.port {
        rows.push(("Port", p.clone()));
    }
    if let Some(c) = &alert.code {
        let title = if c.list_title.is_empty() { String::new() } else { format!(" ({})", c.list_title) };
        rows.push(("Code", format!("{} {}: {}{}", c.list.to_uppercase(), c.code, c.meaning, title)));
    }
    rows.push(("When", alert.fact_time.format("%Y-%m-%d %H:%M %:z").to_string()));
    if let Some(i) = &alert.inbox {
        rows.push(("Inbox", i.clone()));
    }
    if let Some(l) = lines_text(alert) {
        rows.push(("Lines", l));
    }
    rows.push(("Open holds", if f.open_holds.is_empty() { "none".into() } else { f.open_holds.join("; ") }));
    if let Some(d) = &f.next_deadline {
        rows.push(("Next deadline", d.clone()));
    }
    rows
}

fn action(alert: &Alert) -> String {
    alert.code.as_ref().and_then(|c| c.action.clone()).unwrap_or_else(|| default_action(alert.kind).to_string())
}

/// The subject of one alert: `[entrywatch] CRITICAL Exam ordered: EEE-1234567-3 SO60 03 Intensive exam`.
pub fn subject(alert: &Alert) -> String {
    let mut s = format!("[entrywatch] {} {}: {}", severity_label(alert), alert.kind.what(), alert.entry_display());
    if let Some(c) = &alert.code {
        let _ = write!(s, " {} {} {}", c.list.to_uppercase(), c.code, c.meaning);
    }
    if let Some(name) = alert.facts.importer_name.as_ref().or(alert.facts.importer.as_ref()) {
        let _ = write!(s, " ({name})");
    }
    header_safe(&s, MAX_SUBJECT_CHARS)
}

fn text_block(alert: &Alert, ctx: &RenderContext, out: &mut String) {
    let rows = fact_rows(alert);
    for (label, value) in &rows {
        let _ = writeln!(out, "{:<14} {}", format!("{label}:"), body_safe(value, 500).replace('\n', " "));
    }
    let _ = writeln!(out, "\nWhat to do:\n  {}", body_safe(&action(alert), 1000).replace('\n', "\n  "));
    if let Some(a) = &alert.facts.affected {
        let _ = write!(out, "\n{}", body_safe(&a.text(), 4000));
    }
    if let Some(n) = alert.narrative.as_deref().map(|n| body_safe(n, MAX_NARRATIVE_CHARS)).filter(|n| !n.is_empty()) {
        let _ = writeln!(out, "\nNarrative from the file:");
        for line in n.lines() {
            let _ = writeln!(out, "  > {line}");
        }
    }
    let _ = writeln!(out, "\nDashboard: {}", ctx.link(alert));
    let _ = writeln!(out, "Alert id: {}", header_safe(&alert.id, 300));
}

fn html_block(alert: &Alert, ctx: &RenderContext, out: &mut String) {
    let _ = writeln!(out, "<table style=\"border-collapse:collapse\">");
    for (label, value) in fact_rows(alert) {
        let _ = writeln!(
            out,
            "<tr><th style=\"text-align:left;padding:2px 12px 2px 0\">{}</th><td>{}</td></tr>",
            html_escape(label),
            html_escape(&body_safe(&value, 500))
        );
    }
    let _ = writeln!(out, "</table>");
    let _ = writeln!(out, "<p><strong>What to do:</strong> {}</p>", html_escape(&body_safe(&action(alert), 1000)));
    if let Some(a) = &alert.facts.affected {
        let _ = writeln!(out, "<pre style=\"white-space:pre-wrap\">{}</pre>", html_escape(&body_safe(&a.text(), 4000)));
    }
    if let Some(n) = alert.narrative.as_deref().map(|n| body_safe(n, MAX_NARRATIVE_CHARS)).filter(|n| !n.is_empty()) {
        let _ = writeln!(
            out,
            "<p>Narrative from the file:</p>\n<pre style=\"white-space:pre-wrap\">{}</pre>",
            html_escape(&n)
        );
    }
    let link = html_escape(&ctx.link(alert));
    let _ = writeln!(out, "<p><a href=\"{link}\">{link}</a></p>");
    let _ = writeln!(
        out,
        "<p style=\"color:#777;font-size:small\">Alert id: {}</p>",
        html_escape(&header_safe(&alert.id, 300))
    );
}

fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body style=\"font-family:sans-serif\">\n{}</body></html>\n",
        html_escape(title),
        body
    )
}

/// Render one alert.
pub fn render_alert(alert: &Alert, ctx: &RenderContext) -> RenderedMail {
    let subject = subject(alert);
    let headline = format!("{}: {}", severity_label(alert), alert.kind.what());
    let mut text = format!("{headline}\n\n");
    text_block(alert, ctx, &mut text);
    let mut body = format!("<h2>{}</h2>\n", html_escape(&headline));
    html_block(alert, ctx, &mut body);
    RenderedMail { html: html_page(&subject, &body), subject, text }
}

/// The subject of a digest: `[entrywatch] DIGEST 3 alerts on 2026-02-03: EEE-1234567-3, ... (+1 more)`.
pub fn digest_subject(d: &Digest) -> String {
    let mut entries: Vec<String> = Vec::new();
    for a in &d.alerts {
        let e = a.entry_display();
        if !entries.contains(&e) {
            entries.push(e);
        }
    }
    let shown: Vec<&str> = entries.iter().take(3).map(String::as_str).collect();
    let mut s = format!(
        "[entrywatch] DIGEST {} alert{} on {}: {}",
        d.alerts.len(),
        if d.alerts.len() == 1 { "" } else { "s" },
        d.date.format("%Y-%m-%d"),
        shown.join(", ")
    );
    if entries.len() > 3 {
        let _ = write!(s, " (+{} more)", entries.len() - 3);
    }
    header_safe(&s, MAX_SUBJECT_CHARS)
}

/// Render a digest: a summary list, then each alert's block (most severe first, then by time).
pub fn render_digest(d: &Digest, ctx: &RenderContext) -> RenderedMail {
    let subject = digest_subject(d);
    let mut alerts: Vec<&Alert> = d.alerts.iter().collect();
    alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.fact_time.cmp(&b.fact_time)).then(a.id.cmp(&b.id)));
    let mut text = format!("DIGEST for {}: {} alerts\n\n", d.date.format("%Y-%m-%d"), alerts.len());
    let mut body = format!(
        "<h2>DIGEST for {}: {} alerts</h2>\n<ol>\n",
        html_escape(&d.date.format("%Y-%m-%d").to_string()),
        alerts.len()
    );
    for (n, a) in alerts.iter().enumerate() {
        let line = format!("{} {}: {}", severity_label(a), a.kind.what(), a.entry_display());
        let _ = writeln!(text, "{:>3}. {}", n + 1, header_safe(&line, MAX_SUBJECT_CHARS));
        let _ = writeln!(body, "<li>{}</li>", html_escape(&header_safe(&line, MAX_SUBJECT_CHARS)));
    }
    body.push_str("</ol>\n");
    for (n, a) in alerts.iter().enumerate() {
        let head = format!("{}. {}: {}", n + 1, severity_label(a), a.kind.what());
        let _ = writeln!(text, "\n---------------------------------------------\n{head}\n");
        text_block(a, ctx, &mut text);
        let _ = writeln!(body, "<hr>\n<h3>{}</h3>", html_escape(&head));
        html_block(a, ctx, &mut body);
    }
    RenderedMail { html: html_page(&subject, &body), subject, text }
}

/// Render what an outbox item carries.
pub fn render(p: &Payload, ctx: &RenderContext) -> RenderedMail {
    match p {
        Payload::Alert(a) => render_alert(a, ctx),
        Payload::Digest(d) => render_digest(d, ctx),
    }
}

/// One line of `entrywatch alerts` (the `--json` output is an array of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: String,
    pub state: OutboxState,
    /// `critical`, `warning`, `info`, or `digest`.
    pub severity: String,
    pub subject: String,
    pub to: Vec<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt: Option<DateTime<FixedOffset>>,
    pub queued_at: DateTime<FixedOffset>,
    pub sent_at: Option<DateTime<FixedOffset>>,
}

impl OutboxRow {
    pub fn of(item: &OutboxItem) -> OutboxRow {
        let (severity, subject) = match &item.payload {
            Payload::Alert(a) => {
                let s = serde_json::to_value(a.severity).ok().and_then(|v| v.as_str().map(String::from));
                (s.unwrap_or_default(), subject(a))
            }
            Payload::Digest(d) => ("digest".to_string(), digest_subject(d)),
        };
        OutboxRow {
            id: item.id.clone(),
            state: item.state,
            severity,
            subject,
            to: item.to.clone(),
            attempts: item.attempts,
            last_error: item.last_error.clone(),
            next_attempt: (item.state == OutboxState::Queued).then_some(item.next_attempt),
            queued_at: item.queued_at,
            sent_at: item.sent_at,
        }
    }
}

/// The text table of `entrywatch alerts`: failed first, then queued, then sent; newest first within each.
pub fn alerts_table(items: &[OutboxItem]) -> String {
    use std::fmt::Write as _;
    let rank = |s: OutboxState| match s {
        OutboxState::Failed => 0,
        OutboxState::Queued => 1,
        OutboxState::Sent => 2,
    };
    let mut rows: Vec<OutboxRow> = items.iter().map(OutboxRow::of).collect();
    rows.sort_by(|a, b| rank(a.state).cmp(&rank(b.state)).then(b.queued_at.cmp(&a.queued_at)).then(a.id.cmp(&b.id)));
    let mut out =
        format!("{:<7} {:<8} {:>3} {:<16} {:<16} {}\n", "STATE", "SEVERITY", "TRY", "QUEUED", "NEXT/SENT", "SUBJECT");
    for r in &rows {
        let state = match r.state {
            OutboxState::Queued => "queued",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
        };
        let when =
            r.sent_at.or(r.next_attempt).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<7} {:<8} {:>3} {:<16} {:<16} {}",
            state,
            r.severity,
            r.attempts,
            r.queued_at.format("%Y-%m-%d %H:%M"),
            when,
            r.subject
        );
        if let (OutboxState::Failed | OutboxState::Queued, Some(e)) = (r.state, &r.last_error) {
            let _ = writeln!(out, "        error: {}", header_safe(e, 200));
        }
    }
    let count = |s: OutboxState| rows.iter().filter(|r| r.state == s).count();
    let _ = writeln!(
        out,
        "{} queued, {} sent, {} failed",
        count(OutboxState::Queued),
        count(OutboxState::Sent),
        count(OutboxState::Failed)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_table_lists_failed_first_with_error() {
        use crate::alert::outbox::OutboxItem;
        use crate::alert::rules::alert_for_event;
        use crate::alert::{AlertKind, EntryFacts};
        use crate::grammar::codes::AlertSeverity;
        let at = DateTime::parse_from_rfc3339("2026-02-03T10:12:00-05:00").expect("time");
        let f = EntryFacts { entry: "EEE-1234567-3".parse().ok(), ..Default::default() };
        let a = alert_for_event(AlertKind::Exam, AlertSeverity::Critical, Some("03"), at, f.clone(), at);
        let b = alert_for_event(AlertKind::NoRelease, AlertSeverity::Warning, None, at, f, at);
        let sent = OutboxItem {
            state: OutboxState::Sent,
            sent_at: Some(at),
            ..OutboxItem::for_alert(a, vec!["x@y".into()], at)
        };
        let failed = OutboxItem {
            state: OutboxState::Failed,
            attempts: 3,
            last_error: Some("gave up\r\nafter 3".into()),
            ..OutboxItem::for_alert(b, vec!["x@y".into()], at)
        };
        let t = alerts_table(&[sent.clone(), failed.clone()]);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[1].starts_with("failed  warning    3"), "{t}");
        assert_eq!(lines[2], "        error: gave up after 3");
        assert!(
            lines[3].starts_with(
                "sent    critical   0 2026-02-03 10:12 2026-02-03 10:12 [entrywatch] CRITICAL Exam ordered"
            ),
            "{t}"
        );
        assert_eq!(lines[4], "0 queued, 1 sent, 1 failed");
        let json = serde_json::to_value(OutboxRow::of(&failed)).expect("json");
        assert_eq!(json["state"], "failed");
        assert_eq!(json["severity"], "warning");
        assert!(json["next_attempt"].is_null());
    }

    #[test]
    fn header_safe_strips_controls_and_cuts() {
        assert_eq!(header_safe("a\r\nBcc: x@y\tz\u{0}\u{7f}\u{85}w", 100), "a Bcc: x@y z w");
        assert_eq!(header_safe("  lead  trail  ", 100), "lead trail");
        let long = "x".repeat(500);
        let cut = header_safe(&long, 20);
        assert_eq!(cut.chars().count(), 20);
        assert!(cut.ends_with("..."));
        assert!(!header_safe("é\u{2028}é", 10).contains('\u{2028}'));
    }

    #[test]
    fn html_escape_all_five() {
        assert_eq!(html_escape("<a href='x'>\"&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
    }

    #[test]
    fn body_safe_keeps_newlines_shows_controls() {
        assert_eq!(body_safe("a\r\nb\rc\u{1b}[31md\u{0}", 100), "a\nb\nc\\u{1b}[31md\\u{0}");
        assert_eq!(body_safe("abc\u{202e}exe", 100), "abc\\u{202e}exe");
        assert_eq!(html_escape("x\u{0}\u{1b}\u{202e}y\n"), "x\\u{0}\\u{1b}\\u{202e}y\n");
        assert_eq!(header_safe("Hold \u{202e}gpj.exe", 80), "Hold \\u{202e}gpj.exe");
        assert!(body_safe(&"y".repeat(50), 10).ends_with("[...]"));
    }

    #[test]
    fn subject_labels() {
        use crate::alert::rules::alert_for_event;
        use crate::alert::EntryFacts;
        let at = chrono::DateTime::parse_from_rfc3339("2026-02-03T10:12:00-05:00").expect("time");
        let f = EntryFacts { entry: "EEE12345673".parse().ok(), ..Default::default() };
        let r = alert_for_event(AlertKind::DeadlineReminder, AlertSeverity::Warning, Some("psc"), at, f.clone(), at);
        assert_eq!(subject(&r), "[entrywatch] REMINDER Deadline coming: EEE-1234567-3");
        let v = alert_for_event(AlertKind::Variance, AlertSeverity::Critical, Some("duty"), at, f, at);
        assert_eq!(subject(&v), "[entrywatch] CRITICAL Filing differs from approved pre-entry: EEE-1234567-3");
        let ctx = RenderContext { dashboard_url: "http://127.0.0.1:8480".into() };
        let mail = render_alert(&v, &ctx);
        assert!(mail.text.contains("Compare the filing with the approved pre-entry"));
        assert!(mail.html.contains("<a href=\"http://127.0.0.1:8480/entries/EEE-1234567-3\">"));
    }
}
