//! The dashboard's Recovery page `/recovery[?program=P]`: the figures of `report recovery`
//! (totals by program state, by open remedy, by deadline week, claims against refunds),
//! computed by the same code (crate::report::recovery), a chart of money by deadline week,
//! and the entries with their program state and nearest remedy. Every text is escaped.

use super::html::{badge, empty, entry_link, esc, money_td, page};
use super::{blocking, charts, AppState};
use crate::recovery::{EntryRecovery, Program};
use crate::report::recovery::{RecoveryData, Sum, Totals};
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use std::fmt::Write;

/// Entries listed on the page (all of them: `entrywatch report recovery`).
pub const ENTRY_ROWS: usize = 500;

/// `?program=cape` (default: the first program, as `report recovery`).
#[derive(Debug, Default, Deserialize)]
pub struct ProgramQuery {
    pub program: Option<String>,
}

fn table(head: &[&str], numeric: &[usize], rows: &str) -> String {
    let mut h = String::from("<div class=\"tw\"><table><thead><tr>");
    for (i, c) in head.iter().enumerate() {
        let cls = if numeric.contains(&i) { " class=\"n\"" } else { "" };
        let _ = write!(h, "<th{cls}>{}</th>", esc(c));
    }
    let _ = write!(h, "</tr></thead><tbody>{rows}</tbody></table></div>");
    h
}

fn card(title: &str, inner: &str) -> String {
    format!("<section class=\"card\"><h2>{}</h2>{inner}</section>", esc(title))
}

fn sums<'a>(title: &str, rows: impl Iterator<Item = (String, &'a Sum)>) -> String {
    let body: String = rows
        .map(|(k, v)| format!("<tr><td>{}</td><td class=\"n\">{}</td>{}</tr>", esc(&k), v.entries, money_td(v.cents)))
        .collect();
    let inner = if body.is_empty() { empty("None.") } else { table(&["", "Entries", "Money"], &[1, 2], &body) };
    card(title, &inner)
}

fn entry_row(r: &EntryRecovery, p: &Program) -> String {
    let st = r.remedy(&p.id);
    let (nearest, until) =
        r.nearest.as_ref().map_or((String::new(), String::new()), |(id, d)| (esc(id), d.to_string()));
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td>{}<td>{}</td><td>{nearest}</td><td>{until}</td><td>{}</td><td>{}</td></tr>",
        entry_link(&r.entry),
        esc(&r.importer),
        esc(r.liquidation.as_str()),
        money_td(st.map_or(0, |s| s.amount_cents)),
        badge(st.map_or("", |s| s.state.as_str())),
        esc(&st.map(|s| s.why.clone()).unwrap_or_default()),
        esc(&r.conflicts.join("; ")),
    )
}

/// The page's HTML for `program` (the rules' first when `None` or unknown).
pub fn recovery_html(data: Option<&RecoveryData>, now: DateTime<FixedOffset>) -> String {
    let Some(data) = data else {
        return page(
            "Recovery",
            "/recovery",
            now,
            &format!("<h1>Recovery</h1>{}", card("", &empty("Recovery figures need the entry store."))),
        );
    };
    let Some(p) = data.program.as_ref() else {
        return page(
            "Recovery",
            "/recovery",
            now,
            &format!("<h1>Recovery</h1>{}", card("", &empty("grammars/remedies/ declares no refund program."))),
        );
    };
    let t: &Totals = &data.totals;
    let mut b = format!(
        "<h1>Recovery: {}</h1><p class=\"muted\">As of {} · same figures as <code>entrywatch report recovery --program {}</code> · not legal advice</p>",
        esc(&p.name),
        data.today,
        esc(&p.id)
    );
    if data.rules.programs.len() > 1 {
        let links: Vec<String> = data
            .rules
            .programs
            .iter()
            .map(|x| format!("<a href=\"/recovery?program={}\">{}</a>", super::html::url_enc(&x.id), esc(&x.id)))
            .collect();
        let _ = write!(b, "<p>Programs: {}</p>", links.join(" · "));
    }
    let labels: Vec<String> = t.by_deadline_week.keys().map(|d| d.format("%m-%d").to_string()).collect();
    let values: Vec<f64> = t.by_deadline_week.values().map(|s| s.cents as f64 / 100.0).collect();
    let chart = if labels.is_empty() {
        empty("No open deadline.")
    } else {
        charts::bars("Money by deadline week (Monday)", "USD", &labels, &values, 12, 2)
    };
    let _ = write!(b, "<section class=\"card chart\"><h2>Money by deadline week</h2>{chart}</section>");
    b.push_str(&sums("Program money by state", t.by_program_state.iter().map(|(k, v)| (k.clone(), v))));
    b.push_str(&sums("Program money by open remedy", t.by_open_remedy.iter().map(|(k, v)| (k.clone(), v))));
    b.push_str(&sums(
        "Program money by deadline week",
        t.by_deadline_week.iter().map(|(k, v)| (format!("week of {k}"), v)),
    ));
    b.push_str(&sums("Duty by program", t.by_duty_program.iter().map(|(k, v)| (k.clone(), v))));
    let claims: String = t
        .claims
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><td>{}</td><td class=\"n\">{}</td>{}{}</tr>",
                badge(k),
                v.entries,
                money_td(v.claimed_cents),
                money_td(v.refunded_cents)
            )
        })
        .collect();
    let inner = if claims.is_empty() {
        empty("No result file from the program yet.")
    } else {
        table(&["Claim status", "Entries", "Claimed", "Refunded"], &[1, 2, 3], &claims)
    };
    b.push_str(&card("Claims against refunds", &inner));
    let body: String = data.rows.iter().take(ENTRY_ROWS).map(|r| entry_row(r, p)).collect();
    let mut inner = if body.is_empty() {
        empty("No entry declares this program's duty.")
    } else {
        table(
            &[
                "Entry",
                "Importer",
                "Liquidation",
                "Refundable",
                "State",
                "Nearest remedy",
                "Act by",
                "Why",
                "Conflicts",
            ],
            &[3],
            &body,
        )
    };
    if data.count > ENTRY_ROWS {
        let _ = write!(
            inner,
            "<p class=\"muted\">and {} more (all: <code>entrywatch report recovery</code>)</p>",
            data.count - ENTRY_ROWS
        );
    }
    b.push_str(&card("Entries", &inner));
    page("Recovery", "/recovery", now, &b)
}

/// `GET /recovery`.
pub async fn recovery(State(s): State<AppState>, Query(q): Query<ProgramQuery>) -> Response {
    blocking(move || {
        let now = s.clock.now();
        let data = s.model.recovery(now, q.program.as_deref(), ENTRY_ROWS);
        Html(recovery_html(data.as_ref(), now)).into_response()
    })
    .await
}
