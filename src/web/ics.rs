//! `/deadlines.ics`: upcoming deadlines as an iCalendar feed (RFC 5545), one all-day event
//! per deadline. Private and minimal; `deadline::ics::to_ics` may replace it.

use super::{blocking, AppState};
use crate::view::DeadlineRow;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, FixedOffset, Utc};

/// TEXT escaping: backslash, semicolon, comma, newline.
fn text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            ';' => o.push_str("\\;"),
            ',' => o.push_str("\\,"),
            '\n' => o.push_str("\\n"),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
}

/// Fold a content line at 75 octets (never inside a UTF-8 character), CRLF-terminated.
fn fold(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// The calendar of the given deadlines.
pub(crate) fn to_ics(rows: &[DeadlineRow], now: DateTime<FixedOffset>, base_url: Option<&str>) -> String {
    let stamp = now.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ").to_string();
    let mut o = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//entrywatch//deadlines//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:entrywatch deadlines",
    ] {
        fold(&mut o, l);
    }
    for r in rows {
        let d = &r.deadline;
        let uid: String = format!("{}-{}-{}", r.entry, d.kind, d.due.format("%Y%m%d"))
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        fold(&mut o, "BEGIN:VEVENT");
        fold(&mut o, &format!("UID:{uid}@entrywatch"));
        fold(&mut o, &format!("DTSTAMP:{stamp}"));
        fold(&mut o, &format!("DTSTART;VALUE=DATE:{}", d.due.format("%Y%m%d")));
        fold(&mut o, &format!("DTEND;VALUE=DATE:{}", d.due.succ_opt().unwrap_or(d.due).format("%Y%m%d")));
        let est = if d.estimated { " (estimated)" } else { "" };
        fold(&mut o, &format!("SUMMARY:{}", text(&format!("{} due: {}{est}", d.kind, r.entry))));
        let desc = format!("Importer {}. {}", r.importer, d.rule.as_deref().unwrap_or(""));
        fold(&mut o, &format!("DESCRIPTION:{}", text(desc.trim())));
        if let Some(u) = base_url {
            fold(&mut o, &format!("URL:{}/entries/{}", u.trim_end_matches('/'), super::html::url_enc(&r.entry)));
        }
        fold(&mut o, "TRANSP:TRANSPARENT");
        fold(&mut o, "END:VEVENT");
    }
    fold(&mut o, "END:VCALENDAR");
    o
}

/// Most events in the feed (the soonest).
pub const ICS_MAX_EVENTS: usize = 10_000;

/// Deadlines from 30 days ago to 400 days ahead, at most [`ICS_MAX_EVENTS`].
pub async fn deadlines_ics(State(s): State<AppState>) -> Response {
    blocking(move || {
        let now = s.clock.now();
        let today = now.date_naive();
        let rows =
            s.model.deadlines_between(today - Duration::days(30), today + Duration::days(400), ICS_MAX_EVENTS).rows;
        (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "inline; filename=\"entrywatch-deadlines.ics\""),
            ],
            to_ics(&rows, now, None),
        )
            .into_response()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Deadline;
    use chrono::NaiveDate;

    #[test]
    fn events_are_escaped_and_folded() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T09:00:00-05:00").unwrap();
        let rows = vec![DeadlineRow {
            entry: "EEE-1234567-3".into(),
            importer: "12-345678900".into(),
            deadline: Deadline {
                kind: "psc".into(),
                due: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
                estimated: true,
                rule: Some(format!("a;b,c\nd {}", "x".repeat(100))),
            },
        }];
        let mut far = rows[0].clone();
        far.deadline.due = NaiveDate::MAX;
        assert!(to_ics(&[far], now, None).contains("DTEND;VALUE=DATE:"));
        let ics = to_ics(&rows, now, Some("https://dash.example/"));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(ics.contains("DTSTART;VALUE=DATE:20261126\r\n"));
        assert!(ics.contains("DTEND;VALUE=DATE:20261127\r\n"));
        assert!(ics.contains("DTSTAMP:20260301T140000Z\r\n"));
        assert!(ics.contains("UID:EEE-1234567-3-psc-20261126@entrywatch\r\n"));
        assert!(ics.contains("a\\;b\\,c\\nd"));
        assert!(ics.contains("URL:https://dash.example/entries/EEE-1234567-3"));
        assert!(ics.split("\r\n").all(|l| l.len() <= 75));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }
}
