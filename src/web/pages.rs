//! The dashboard's HTML pages: overview, entries (filters in the query string), one entry
//! (timeline, holds, variance, deadlines, statement, liquidation, PO lines), brokers,
//! deadlines. Every string that came from a file is escaped with [`esc`].

use super::charts::{self, Series};
use super::html::{badge, date, empty, entry_link, esc, money_td, page, time, url_enc};
use super::{blocking, overview as gather, AppState};
use crate::report::brokers::{scorecard, BrokerScore};
use crate::report::Cell;
use crate::view::{EntryFilter, EntryView, ReadModel};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::Deserialize;
use std::fmt::Write;

/// Rows per page on `/entries`; rows shown in overview tables.
pub const PAGE_SIZE: usize = 100;
/// Rows of each table on `/deadlines`.
pub const DEADLINE_ROWS: usize = 500;

fn hours(minutes: Option<i64>) -> String {
    minutes.map(|m| Cell::Hours(m).render()).unwrap_or_else(|| "–".into())
}

fn table(head: &[&str], numeric: &[usize], rows: &str) -> String {
    let mut h = String::from("<div class=\"tw\"><table><thead><tr>");
    for (i, c) in head.iter().enumerate() {
        let cls = if numeric.contains(&i) { " class=\"n\"" } else { "" };
        let _ = write!(h, "<th{cls}>{c}</th>");
    }
    let _ = write!(h, "</tr></thead><tbody>{rows}</tbody></table></div>");
    h
}

fn card(title: &str, inner: &str) -> String {
    format!("<section class=\"card\"><h2>{title}</h2>{inner}</section>")
}

fn chart_card(title: &str, svg: &str) -> String {
    format!("<section class=\"card chart\"><h2>{title}</h2>{svg}</section>")
}

fn days_left(now: DateTime<FixedOffset>, due: NaiveDate) -> (i64, &'static str) {
    let d = (due - now.date_naive()).num_days();
    (
        d,
        if d < 0 {
            "overdue"
        } else if d <= 7 {
            "critical"
        } else {
            "warning"
        },
    )
}

/// Month label `2026-02` from the first day of a month.
fn month_label(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

pub fn overview_html(model: &dyn ReadModel, now: DateTime<FixedOffset>) -> String {
    let o = gather(model, now);
    let messages: u64 = o.message_volume.iter().map(|d| d.messages).sum();
    let mut b = String::from("<h1>Overview</h1><div class=\"kpis\">");
    let kpi = |cls: &str, v: String, l: &str| {
        format!("<div class=\"kpi {cls}\"><div class=\"v\">{v}</div><div class=\"l\">{l}</div></div>")
    };
    b.push_str(&kpi("", o.entries.to_string(), "entries"));
    b.push_str(&kpi(
        if o.open_critical_holds.is_empty() { "" } else { "bad" },
        o.open_critical_holds.len().to_string(),
        "open critical holds",
    ));
    b.push_str(&kpi(
        if o.deadlines_next_30_days_total == 0 { "" } else { "warn" },
        o.deadlines_next_30_days_total.to_string(),
        "deadlines in 30 days",
    ));
    b.push_str(&kpi("", messages.to_string(), "messages, last 60 days"));
    b.push_str("</div><div class=\"grid\">");
    let labels: Vec<String> = o.message_volume.iter().map(|d| d.day.format("%m-%d").to_string()).collect();
    let values: Vec<f64> = o.message_volume.iter().map(|d| d.messages as f64).collect();
    b.push_str(&chart_card(
        "Message volume per day",
        &charts::bars("Messages per day (60 days)", "messages", &labels, &values, 8, 0),
    ));
    let tl: Vec<String> = o.cycle_trend.iter().map(|t| month_label(t.month)).collect();
    let h = |m: Option<i64>| m.map(|m| m as f64 / 60.0);
    let series = vec![
        Series {
            name: "arrival→release median".into(),
            points: o.cycle_trend.iter().enumerate().map(|(i, t)| (i, h(t.release_median_minutes))).collect(),
        },
        Series {
            name: "arrival→release p90".into(),
            points: o.cycle_trend.iter().enumerate().map(|(i, t)| (i, h(t.release_p90_minutes))).collect(),
        },
        Series {
            name: "release→acceptance median".into(),
            points: o.cycle_trend.iter().enumerate().map(|(i, t)| (i, h(t.acceptance_median_minutes))).collect(),
        },
    ];
    b.push_str(&chart_card(
        "Cycle-time trend",
        &charts::lines("Cycle times by month of arrival", "hours", &tl, &series),
    ));
    b.push_str("</div><div style=\"height:16px\"></div>");

    let mut rows = String::new();
    for r in &o.open_critical_holds {
        let age = (now - r.hold.since).num_days();
        let _ = write!(
            rows,
            "<tr><td>{}</td><td><span class=\"badge bad\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{age}</td>\
             <td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
            entry_link(&r.entry),
            esc(&r.hold.code),
            esc(&r.hold.agency),
            esc(r.hold.meaning.as_deref().unwrap_or("")),
            time(r.hold.since),
            esc(&r.importer),
            esc(&r.port),
            esc(&r.broker)
        );
    }
    let more = o.open_critical_holds_total.saturating_sub(o.open_critical_holds.len());
    let holds = if o.open_critical_holds.is_empty() {
        empty("No open critical holds.")
    } else {
        let mut t =
            table(&["Entry", "Hold", "Agency", "Meaning", "Since", "Days", "Importer", "Port", "Broker"], &[5], &rows);
        if more > 0 {
            let _ = write!(t, "<p class=\"muted\">and {more} more: <a href=\"/entries?status=open-holds\">all entries with open holds</a></p>");
        }
        t
    };
    b.push_str(&card("Open critical holds", &holds));

    let mut rows = String::new();
    for d in &o.deadlines_next_30_days {
        rows.push_str(&deadline_row(d, now));
    }
    let dl = if o.deadlines_next_30_days.is_empty() {
        empty("No deadlines in the next 30 days.")
    } else {
        let mut t = table(&["Due", "In days", "Kind", "Entry", "Importer", "Basis", "Rule"], &[1], &rows);
        let more = o.deadlines_next_30_days_total.saturating_sub(o.deadlines_next_30_days.len());
        if more > 0 {
            let _ =
                write!(t, "<p class=\"muted\">and {more} more: <a href=\"/deadlines?within=30\">all deadlines</a></p>");
        }
        t
    };
    b.push_str(&card("Deadlines in the next 30 days", &dl));
    page("Overview", "/", now, &b)
}

fn deadline_row(d: &crate::view::DeadlineRow, now: DateTime<FixedOffset>) -> String {
    let (left, tone) = days_left(now, d.deadline.due);
    format!(
        "<tr><td>{}</td><td class=\"n\"><span class=\"badge {}\">{left}</span></td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"muted wrap\">{}</td></tr>",
        date(d.deadline.due),
        super::html::tone(tone),
        esc(&d.deadline.kind),
        entry_link(&d.entry),
        esc(&d.importer),
        if d.deadline.estimated { badge("estimated") } else { "fixed".into() },
        esc(d.deadline.rule.as_deref().unwrap_or("")),
    )
}

pub async fn overview(State(s): State<AppState>) -> Response {
    blocking(move || Html(overview_html(&*s.model, s.clock.now())).into_response()).await
}

/// Query string of `/entries` and `/api/entries`; kept as text so a bad value is shown, not a 400.
#[derive(Debug, Default, Deserialize)]
pub struct EntriesQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub port: Option<String>,
    pub importer: Option<String>,
    pub broker: Option<String>,
    pub hts: Option<String>,
    pub status: Option<String>,
    pub page: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
}

impl EntriesQuery {
    /// The filter, and the problems found in the query (bad dates).
    pub fn filter(&self) -> (EntryFilter, Vec<String>) {
        let mut problems = Vec::new();
        let mut d = |name: &str, v: &Option<String>| match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    problems.push(format!("{name}: {s:?} is not YYYY-MM-DD; ignored"));
                    None
                }
            },
        };
        let from = d("from", &self.from);
        let to = d("to", &self.to);
        let f = EntryFilter {
            from,
            to,
            port: self.port.clone(),
            importer: self.importer.clone(),
            broker: self.broker.clone(),
            hts: self.hts.clone(),
            status: self.status.clone(),
        };
        (f, problems)
    }
}

pub fn entries_html(model: &dyn ReadModel, now: DateTime<FixedOffset>, q: &EntriesQuery) -> String {
    let (f, problems) = q.filter();
    let pageno: usize = q.page.as_deref().and_then(|p| p.trim().parse().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let val = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
    let mut b = String::from(
        "<h1>Entries</h1><section class=\"card\"><form class=\"filters\" method=\"get\" action=\"/entries\">",
    );
    for (name, label, v, ph) in [
        ("from", "From", &q.from, "YYYY-MM-DD"),
        ("to", "To", &q.to, "YYYY-MM-DD"),
        ("importer", "Importer", &q.importer, "12-345678900"),
        ("broker", "Broker", &q.broker, "filer / inbox"),
        ("port", "Port", &q.port, "2704"),
        ("hts", "HTS", &q.hts, "6110"),
    ] {
        let _ = write!(b, "<label>{label}<input name=\"{name}\" value=\"{}\" placeholder=\"{ph}\"></label>", val(v));
    }
    b.push_str("<label>Status<select name=\"status\">");
    for s in std::iter::once("").chain(crate::query::STATUSES) {
        let sel = if q.status.as_deref() == Some(s) { " selected" } else { "" };
        let _ = write!(b, "<option value=\"{s}\"{sel}>{}</option>", if s.is_empty() { "any" } else { s });
    }
    b.push_str("</select></label><button type=\"submit\">Filter</button> <a href=\"/entries\">clear</a></form>");
    for p in &problems {
        let _ = write!(b, "<p class=\"badge warn\">{}</p>", esc(p));
    }
    b.push_str("</section>");
    let mut rows = String::new();
    let mut shown = 0;
    let mut more = false;
    for e in model.entries(&f).skip((pageno - 1).saturating_mul(PAGE_SIZE)) {
        if shown == PAGE_SIZE {
            more = true;
            break;
        }
        shown += 1;
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            entry_link(&e.entry),
            date(e.entry_date),
            esc(&e.importer),
            esc(&e.port),
            esc(e.broker()),
            badge(e.summary.status.as_str()),
            badge(e.release.status.as_str()),
            badge(e.liquidation.status.as_str()),
            badge(e.variance.status.as_str()),
            e.release.open_holds.len()
        );
    }
    if shown == 0 {
        b.push_str(&card("No entries", &empty("No entry matches these filters.")));
    } else {
        let mut t = table(
            &["Entry", "Date", "Importer", "Port", "Broker", "Summary", "Release", "Liquidation", "Variance", "Holds"],
            &[9],
            &rows,
        );
        let link = |p: usize| {
            let mut qs = String::new();
            for (k, v) in [
                ("from", &q.from),
                ("to", &q.to),
                ("importer", &q.importer),
                ("broker", &q.broker),
                ("port", &q.port),
                ("hts", &q.hts),
                ("status", &q.status),
            ] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    let _ = write!(qs, "{k}={}&amp;", url_enc(v));
                }
            }
            format!("/entries?{qs}page={p}")
        };
        t.push_str("<div class=\"pager\">");
        if pageno > 1 {
            let _ = write!(t, "<a href=\"{}\">← previous</a>", link(pageno - 1));
        }
        let _ = write!(t, "<span class=\"muted\">page {pageno}</span>");
        if more {
            let _ = write!(t, "<a href=\"{}\">next →</a>", link(pageno + 1));
        }
        t.push_str("</div>");
        b.push_str(&card(&format!("Entries, page {pageno}"), &t));
    }
    page("Entries", "/entries", now, &b)
}

pub async fn entries(State(s): State<AppState>, Query(q): Query<EntriesQuery>) -> Response {
    blocking(move || Html(entries_html(&*s.model, s.clock.now(), &q)).into_response()).await
}

fn fact(b: &mut String, k: &str, v: &str) {
    let _ = write!(b, "<dt>{k}</dt><dd>{v}</dd>");
}

pub fn entry_html(e: &EntryView, now: DateTime<FixedOffset>) -> String {
    let mut b = format!(
        "<h1>Entry <span class=\"mono\">{}</span> {} {}</h1>",
        esc(&e.entry),
        badge(e.summary.status.as_str()),
        badge(e.release.status.as_str())
    );
    let mut f = String::from("<dl class=\"facts\">");
    fact(
        &mut f,
        "Importer",
        &format!("<span class=\"mono\">{}</span> {}", esc(&e.importer), esc(e.importer_name.as_deref().unwrap_or(""))),
    );
    fact(&mut f, "Filer / broker", &format!("{} / {}", esc(&e.filer), esc(e.broker())));
    if let Some(i) = &e.inbox {
        fact(&mut f, "Inbox", &esc(i));
    }
    fact(&mut f, "Port", &esc(&e.port));
    fact(&mut f, "Entry type", &esc(&e.entry_type));
    fact(&mut f, "Entry date", &date(e.entry_date));
    fact(&mut f, "Summary", &format!("{} version {}", badge(e.summary.status.as_str()), esc(&e.summary.version)));
    fact(&mut f, "Release", &badge(e.release.status.as_str()));
    fact(
        &mut f,
        "Variance",
        &format!("{} {} difference(s)", badge(e.variance.status.as_str()), e.variance.differences),
    );
    let t = e.filed_totals();
    fact(
        &mut f,
        "Filed value / duty / fees",
        &format!(
            "{} / {} / {}",
            crate::report::money(t.value_cents),
            crate::report::money(t.duty_cents),
            crate::report::money(t.fees_cents)
        ),
    );
    let ts = &e.timestamps;
    for (k, v) in [
        ("Arrival", ts.arrival),
        ("Released", ts.release),
        ("Summary accepted", ts.summary_accepted),
        ("Liquidated", ts.liquidation),
    ] {
        if let Some(v) = v {
            fact(&mut f, k, &time(v));
        }
    }
    f.push_str("</dl>");
    b.push_str("<div class=\"grid\">");
    b.push_str(&card("Entry", &f));

    // Holds.
    let mut rows = String::new();
    for h in &e.release.open_holds {
        let sev = h.severity.as_deref().unwrap_or("critical");
        let _ = write!(
            rows,
            "<tr><td><span class=\"badge {}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            super::html::tone(sev),
            esc(&h.code),
            esc(&h.agency),
            esc(h.meaning.as_deref().unwrap_or("")),
            time(h.since),
            (now - h.since).num_days()
        );
    }
    let holds = if rows.is_empty() {
        empty("No open holds.")
    } else {
        table(&["Hold", "Agency", "Meaning", "Since", "Days"], &[4], &rows)
    };
    b.push_str("<div>");
    b.push_str(&card("Open holds", &holds));

    // Deadlines.
    let mut rows = String::new();
    for d in &e.deadlines {
        // A handled deadline (PSC filed, statement paid, ...) is shown as done.
        let (left, tone) = match days_left(now, d.due) {
            _ if d.done => ("done".to_string(), "done"),
            (n, t) => (n.to_string(), t),
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td class=\"n\"><span class=\"badge {}\">{left}</span></td><td>{}</td><td class=\"muted wrap\">{}</td></tr>",
            esc(&d.kind),
            date(d.due),
            super::html::tone(tone),
            if d.estimated { badge("estimated") } else { "fixed".into() },
            esc(d.rule.as_deref().unwrap_or(""))
        );
    }
    let dl = if rows.is_empty() {
        empty("No deadlines.")
    } else {
        table(&["Kind", "Due", "In days", "Basis", "Rule"], &[2], &rows)
    };
    let deadlines_card = card("Deadlines", &dl);

    // Statement and liquidation.
    let mut s = String::from("<dl class=\"facts\">");
    match &e.statement {
        Some(st) => {
            fact(
                &mut s,
                "Statement",
                &format!("<span class=\"mono\">{}</span> {}", esc(&st.number), badge(st.status.as_str())),
            );
            fact(&mut s, "Due", &st.due.map(date).unwrap_or_else(|| "–".into()));
            fact(
                &mut s,
                "Paid",
                &st.paid.map(|p| format!("{} {}", badge("paid"), date(p))).unwrap_or_else(|| "not yet".into()),
            );
            if let Some(a) = st.amount_cents {
                let filed = t.duty_cents + t.fees_cents;
                let note = if a == filed {
                    badge("as-filed")
                } else {
                    format!("<span class=\"badge bad\">filed {}</span>", crate::report::money(filed))
                };
                fact(&mut s, "Billed", &format!("{} {note}", crate::report::money(a)));
            }
        }
        None => fact(&mut s, "Statement", "none yet"),
    }
    let l = &e.liquidation;
    fact(&mut s, "Liquidation", &format!("{} {}", badge(l.status.as_str()), l.date.map(date).unwrap_or_default()));
    if let Some(d) = l.duty_cents {
        fact(
            &mut s,
            "Liquidated duty",
            &format!(
                "{} (filed {}, difference {})",
                crate::report::money(d),
                crate::report::money(t.duty_cents),
                crate::report::money(d - t.duty_cents)
            ),
        );
    }
    if let Some(fees) = l.fees_cents {
        fact(
            &mut s,
            "Liquidated fees",
            &format!("{} (filed {})", crate::report::money(fees), crate::report::money(t.fees_cents)),
        );
    }
    if !l.reason_codes.is_empty() {
        fact(&mut s, "Reason codes", &esc(&l.reason_codes.join(", ")));
    }
    s.push_str("</dl>");
    b.push_str(&card("Statement and liquidation", &s));
    b.push_str("</div></div><div style=\"height:16px\"></div>");
    b.push_str(&deadlines_card);

    // Timeline chart and audit trail.
    let evs: Vec<(DateTime<FixedOffset>, String)> = e.events.iter().map(|v| (v.at, v.kind.clone())).collect();
    b.push_str(&chart_card("Timeline", &charts::timeline(&evs)));
    let mut rows = String::new();
    let mut sorted: Vec<&crate::view::Event> = e.events.iter().collect();
    sorted.sort_by_key(|v| v.at);
    for v in sorted {
        let src = match v.source.line {
            Some(l) => format!("{}:{l}", v.source.file),
            None => v.source.file.clone(),
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"wrap\">{}</td><td class=\"mono muted\">{}</td></tr>",
            time(v.at),
            esc(&v.kind),
            esc(v.code.as_deref().unwrap_or("")),
            esc(v.text.as_deref().unwrap_or("")),
            esc(&src)
        );
    }
    let trail = if rows.is_empty() {
        empty("No events.")
    } else {
        table(&["At", "Event", "Code", "Detail", "Source"], &[], &rows)
    };
    b.push_str(&card("Audit trail", &trail));

    // Lines.
    let mut rows = String::new();
    for l in &e.lines {
        let hts = match (&l.approved_hts, &l.liquidated_hts) {
            (Some(a), _) if *a != l.hts => {
                format!("{} <span class=\"badge warn\">approved {}</span>", esc(&l.hts), esc(a))
            }
            (_, Some(q)) if *q != l.hts => {
                format!("{} <span class=\"badge bad\">liquidated {}</span>", esc(&l.hts), esc(q))
            }
            _ => esc(&l.hts),
        };
        let _ = write!(
            rows,
            "<tr><td class=\"n\">{}</td><td class=\"mono\">{hts}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"n\">{}</td>{}{}</tr>",
            l.line,
            esc(&l.origin),
            esc(l.spi.as_deref().unwrap_or("")),
            esc(l.po_number.as_deref().unwrap_or("")),
            esc(l.po_line.as_deref().unwrap_or("")),
            money_td(l.value_cents),
            money_td(l.duty_cents)
        );
    }
    let lines = if rows.is_empty() {
        empty("No lines recorded.")
    } else {
        table(&["Line", "HTS", "Origin", "SPI", "PO", "PO line", "Value", "Duty"], &[0, 5, 6, 7], &rows)
    };
    b.push_str(&card("Lines and purchase orders", &lines));
    b.push_str(&ace_card(e));
    b.push_str(&related_card(e));

    // Summary history.
    if !e.summary_history.is_empty() {
        let mut rows = String::new();
        let t = |v: Option<DateTime<FixedOffset>>| v.map(time).unwrap_or_default();
        for v in &e.summary_history {
            let _ = write!(
                rows,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                esc(&v.version),
                t(v.filed),
                t(v.accepted),
                t(v.rejected),
                esc(&v.reject_codes.join(" "))
            );
        }
        b.push_str(&card(
            "Summary filings",
            &table(&["Version", "Filed", "Accepted", "Rejected", "Reject codes"], &[], &rows),
        ));
    }
    page(&format!("Entry {}", esc(&e.entry)), "/entries", now, &b)
}

/// The third side (docs/ace.md): ACE's record with its source and liquidation facts, and the
/// approved / broker (AE) / ACE values side by side for each differing field per line and tariff.
fn ace_card(e: &EntryView) -> String {
    let Some(a) = &e.ace_side else { return String::new() };
    let mut f = String::from("<dl class=\"facts\">");
    fact(
        &mut f,
        "Source",
        &format!(
            "<span class=\"mono\">{}</span> (ES-003, inbox {}, row {}; {} export(s), {} tariff row(s))",
            esc(&a.file),
            esc(&a.inbox),
            a.row,
            a.exports,
            a.rows
        ),
    );
    let liq = match (a.liquidation_status.trim(), a.liquidation_date) {
        ("", None) => "not in the export (add Liquidation Date and Liquidation Status to the ES-003 layout)".into(),
        (st, d) => format!("{} {}", esc(st), d.map(date).unwrap_or_default()),
    };
    fact(&mut f, "ACE liquidation", &liq);
    if !a.final_liquidation.trim().is_empty() {
        fact(&mut f, "Final liquidation", &esc(&a.final_liquidation));
    }
    fact(&mut f, "ACE PSC indicator", if a.psc { "Y" } else { "N" });
    f.push_str("</dl>");
    let mut rows = String::new();
    let cell = |v: &Option<String>| match v {
        Some(x) if !x.is_empty() => format!("<td class=\"mono wrap\">{}</td>", esc(x)),
        _ => "<td class=\"muted\">–</td>".to_string(),
    };
    for t in &e.three_way {
        let place = if t.line == 0 { "entry".to_string() } else { format!("{} / {}", t.line, t.tariff) };
        let row = if t.ace_row == 0 { "–".to_string() } else { t.ace_row.to_string() };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}{}{}<td class=\"n\">{row}</td></tr>",
            esc(&t.kind),
            badge(&t.severity),
            esc(&place),
            esc(&t.field),
            cell(&t.approved),
            cell(&t.broker),
            cell(&t.ace),
        );
    }
    let findings = if rows.is_empty() {
        empty("Approved, broker and ACE agree on every field ACE reports.")
    } else {
        table(
            &["Finding", "Severity", "Line / tariff", "Field", "Approved", "Broker (AE)", "ACE", "ACE row"],
            &[7],
            &rows,
        )
    };
    card("ACE record (three-way: approved / broker / ACE)", &format!("{f}{findings}"))
}

/// Other entries sharing a bill, container, PO, HTS number or manufacturer (docs/affected.md).
fn related_card(e: &EntryView) -> String {
    if e.related.is_empty() {
        return String::new();
    }
    let mut rows = String::new();
    for r in &e.related {
        let links: Vec<String> = r.entries.iter().map(|x| entry_link(x)).collect();
        let more = if r.count > r.entries.len() {
            format!(" <span class=\"muted\">and {} more</span>", r.count - r.entries.len())
        } else {
            String::new()
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td class=\"mono\">{}</td><td class=\"wrap\">{}{more}</td><td class=\"n\">{}</td></tr>",
            esc(&r.title),
            esc(&r.value),
            links.join(", "),
            r.count
        );
    }
    card("Related entries", &table(&["Link", "Value", "Entries", "Count"], &[3], &rows))
}

pub async fn entry(State(s): State<AppState>, Path(key): Path<String>) -> Response {
    blocking(move || {
        let now = s.clock.now();
        match s.model.entry(&key) {
            Some(e) => Html(entry_html(&e, now)).into_response(),
            None => not_found_html(now, &format!("No entry {key} in the store.")),
        }
    })
    .await
}

pub fn brokers_html(scores: &[BrokerScore], now: DateTime<FixedOffset>) -> String {
    let mut charts_html = String::from("<div class=\"grid\">");
    let labels: Vec<String> = scores.iter().map(|s| s.broker.clone()).collect();
    let rej: Vec<f64> = scores.iter().map(|s| s.rejection_bp().unwrap_or(0) as f64 / 100.0).collect();
    let rel: Vec<f64> = scores.iter().map(|s| s.arrival_to_release_median_minutes.unwrap_or(0) as f64 / 60.0).collect();
    let fil: Vec<f64> =
        scores.iter().map(|s| if s.entries > 0 { s.filings as f64 / s.entries as f64 } else { 0.0 }).collect();
    let var: Vec<f64> = scores.iter().map(|s| s.variance_bp().unwrap_or(0) as f64 / 100.0).collect();
    charts_html.push_str(&chart_card(
        "Rejection rate",
        &charts::bars("Entries with a rejected summary", "%", &labels, &rej, 12, 1),
    ));
    charts_html.push_str(&chart_card(
        "Arrival to release",
        &charts::bars("Median arrival → release", "hours", &labels, &rel, 12, 1),
    ));
    charts_html.push_str(&chart_card(
        "Filings per entry",
        &charts::bars("Summary filings per entry", "filings", &labels, &fil, 12, 2),
    ));
    charts_html.push_str(&chart_card(
        "Variance rate",
        &charts::bars("Entries differing from the pre-entry", "%", &labels, &var, 12, 1),
    ));
    charts_html.push_str("</div>");
    let mut rows = String::new();
    for s in scores {
        let _ = write!(
            rows,
            "<tr><td><a href=\"/entries?broker={}\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            url_enc(&s.broker),
            esc(&s.broker),
            s.entries,
            Cell::ratio(s.filings, s.entries).render(),
            Cell::pct(s.rejected_entries, s.entries).render(),
            Cell::ratio(s.messages, s.entries).render(),
            Cell::pct(s.variance_entries, s.compared_entries).render(),
            hours(s.arrival_to_release_median_minutes),
            hours(s.arrival_to_release_p90_minutes),
            hours(s.release_to_acceptance_median_minutes),
            hours(s.release_to_acceptance_p90_minutes),
            s.entry_to_liquidation_median_days.map_or("–".into(), |d| d.to_string()),
            s.entry_to_liquidation_p90_days.map_or("–".into(), |d| d.to_string()),
            s.ace_compared_entries,
            Cell::pct(s.ace_differs_entries, s.ace_compared_entries).render(),
            s.ace_differs_lines,
        );
    }
    let t = if scores.is_empty() {
        empty("No entries yet.")
    } else {
        table(
            &[
                "Broker",
                "Entries",
                "Filings / entry",
                "Rejected %",
                "Messages / entry",
                "Variance %",
                "Release med h",
                "Release p90 h",
                "Accept med h",
                "Accept p90 h",
                "Liquidation med d",
                "Liquidation p90 d",
                "ACE compared",
                "Differs from ACE %",
                "Lines differing from ACE",
            ],
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
            &rows,
        )
    };
    let b = format!("<h1>Brokers</h1>{}<div style=\"height:4px\"></div>{charts_html}", card("Scorecard", &t));
    page("Brokers", "/brokers", now, &b)
}

pub async fn brokers(State(s): State<AppState>) -> Response {
    blocking(move || {
        let scores = scorecard(&*s.model, &EntryFilter::default());
        Html(brokers_html(&scores, s.clock.now())).into_response()
    })
    .await
}

/// `?within=DAYS` (default 90; 0..=3650).
#[derive(Debug, Default, Deserialize)]
pub struct WithinQuery {
    pub within: Option<String>,
}

impl WithinQuery {
    pub fn days(&self) -> i64 {
        self.within.as_deref().and_then(|w| w.trim().parse().ok()).map(|d: i64| d.clamp(0, 3650)).unwrap_or(90)
    }
}

pub fn deadlines_html(model: &dyn ReadModel, now: DateTime<FixedOffset>, within: i64) -> String {
    let today = now.date_naive();
    let overdue = model.deadlines_between(today - Duration::days(30), today - Duration::days(1), DEADLINE_ROWS);
    let upcoming = model.deadlines_between(today, today + Duration::days(within), DEADLINE_ROWS);
    let mut b = format!(
        "<h1>Deadlines</h1><section class=\"card\"><form class=\"filters\" method=\"get\" action=\"/deadlines\">\
         <label>Within days<input name=\"within\" value=\"{within}\"></label><button type=\"submit\">Show</button>\
         <a href=\"/deadlines.ics\">Subscribe (iCalendar)</a></form></section>"
    );
    let head = ["Due", "In days", "Kind", "Entry", "Importer", "Basis", "Rule"];
    let more = |p: &crate::view::Page<crate::view::DeadlineRow>| {
        let n = p.total - p.rows.len();
        if n > 0 {
            format!("<p class=\"muted\">and {n} more (all of them: <a href=\"/api/deadlines?within={within}\">JSON</a>)</p>")
        } else {
            String::new()
        }
    };
    let rows: String = overdue.rows.iter().map(|d| deadline_row(d, now)).collect();
    if !rows.is_empty() {
        b.push_str(&card("Overdue (last 30 days)", &(table(&head, &[1], &rows) + &more(&overdue))));
    }
    let rows: String = upcoming.rows.iter().map(|d| deadline_row(d, now)).collect();
    let t = if rows.is_empty() {
        empty("No deadlines in this window.")
    } else {
        table(&head, &[1], &rows) + &more(&upcoming)
    };
    b.push_str(&card(&format!("Next {within} days"), &t));
    page("Deadlines", "/deadlines", now, &b)
}

pub async fn deadlines(State(s): State<AppState>, Query(q): Query<WithinQuery>) -> Response {
    blocking(move || Html(deadlines_html(&*s.model, s.clock.now(), q.days())).into_response()).await
}

fn not_found_html(now: DateTime<FixedOffset>, what: &str) -> Response {
    let body = format!(
        "<h1>Not found</h1>{}",
        card("", &format!("<p>{}</p><p><a href=\"/entries\">All entries</a></p>", esc(what)))
    );
    (StatusCode::NOT_FOUND, Html(page("Not found", "", now, &body))).into_response()
}

pub async fn not_found(State(s): State<AppState>) -> Response {
    not_found_html(s.clock.now(), "No such page.")
}
