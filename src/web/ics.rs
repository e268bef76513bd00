//! `/deadlines.ics`: upcoming deadlines as an iCalendar feed (RFC 5545), written by the one
//! calendar writer (`deadline::ics`), so the dashboard's feed and `deadlines --ics` keep the
//! same stable UIDs (entry and kind: a moved deadline moves its event).

use super::{blocking, AppState};
use crate::deadline::{Deadline, DeadlineKind, EntryDeadline};
use crate::view::DeadlineRow;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, FixedOffset};

/// The calendar items of the dashboard's rows (open deadlines: none is done).
fn items(rows: &[DeadlineRow]) -> Vec<EntryDeadline> {
    rows.iter()
        .filter_map(|r| {
            let d = &r.deadline;
            Some(EntryDeadline {
                entry: r.entry.parse().ok()?,
                deadline: Deadline {
                    kind: d.kind.parse::<DeadlineKind>().ok()?,
                    due: d.due,
                    legal: d.due,
                    estimated: d.estimated,
                    rule: d.rule.clone().unwrap_or_default(),
                    done: false,
                },
            })
        })
        .collect()
}

/// The calendar of the given deadlines.
pub(crate) fn to_ics(rows: &[DeadlineRow], now: DateTime<FixedOffset>, base_url: Option<&str>) -> String {
    crate::deadline::ics::to_ics_linked(&items(rows), now, base_url)
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
    fn events_are_escaped_folded_and_keep_their_uid_when_the_date_moves() {
        let now = DateTime::parse_from_rfc3339("2026-03-01T09:00:00-05:00").unwrap();
        let rows = vec![DeadlineRow {
            entry: "EEE-1234567-3".into(),
            importer: "12-345678900".into(),
            deadline: Deadline {
                kind: "psc".into(),
                due: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
                estimated: true,
                rule: Some(format!("a;b,c\nd {}", "x".repeat(100))),
                legal: None,
                done: false,
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
        assert!(ics.contains("UID:EEE12345673-psc@entrywatch\r\n"));
        assert!(ics.replace("\r\n ", "").contains("a\\;b\\,c\\nd"));
        assert!(ics.replace("\r\n ", "").contains("URL:https://dash.example/entries/EEE-1234567-3"));
        assert!(ics.split("\r\n").all(|l| l.len() <= 75));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        // The same deadline moved: the same UID (a subscribed calendar moves the event),
        // exactly the UID `deadlines --ics` gives it.
        let mut moved = rows.clone();
        moved[0].deadline.due = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let uid = |s: &str| s.lines().find(|l| l.starts_with("UID:")).map(str::to_string);
        assert_eq!(uid(&to_ics(&moved, now, None)), uid(&ics));
        let cli = crate::deadline::ics::to_ics(&items(&moved), now);
        assert_eq!(uid(&cli), uid(&ics));
    }
}
