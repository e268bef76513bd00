//! The calendar feed: deadlines as an RFC 5545 VCALENDAR, one all-day VEVENT per deadline.
//!
//! Lines end in CRLF and are folded at 75 octets (never inside a UTF-8 character); TEXT
//! values escape `\`, `;`, `,` and newlines (RFC 5545 §3.1, §3.3.11). The UID is stable per
//! entry and kind, so a subscribed calendar moves an event when its date changes instead of
//! adding a second one; DTSTAMP is the injected clock's "now".

use super::EntryDeadline;
use chrono::{DateTime, Days, FixedOffset, Utc};

/// Escape a TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Append one content line, folded to at most 75 octets per physical line, CRLF-terminated.
fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            // The leading space of a continuation line counts toward its 75 octets.
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// The stable UID of an entry's deadline of one kind.
pub fn uid(item: &EntryDeadline) -> String {
    format!("{}-{}@entrywatch", item.entry.compact(), item.deadline.kind)
}

/// A VCALENDAR with one all-day VEVENT per item (done ones too, marked as such).
pub fn to_ics(items: &[EntryDeadline], stamp: DateTime<FixedOffset>) -> String {
    to_ics_linked(items, stamp, None)
}

/// [`to_ics`], each event with a URL to its entry's page under `base_url` (the dashboard's
/// feed): the one calendar writer of the CLI's and the dashboard's feeds.
pub fn to_ics_linked(items: &[EntryDeadline], stamp: DateTime<FixedOffset>, base_url: Option<&str>) -> String {
    let mut out = String::new();
    let dtstamp = stamp.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ").to_string();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//entrywatch//deadlines//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:entrywatch deadlines",
    ] {
        push_line(&mut out, l);
    }
    for item in items {
        let d = &item.deadline;
        let start = d.due.format("%Y%m%d").to_string();
        let end = d.due.checked_add_days(Days::new(1)).unwrap_or(d.due).format("%Y%m%d").to_string();
        let mut summary = format!("{}: {}", d.kind.title(), item.entry);
        if d.estimated {
            summary.push_str(" (estimated)");
        }
        if d.done {
            summary.push_str(" [done]");
        }
        let mut desc = format!(
            "Entry {}\nDeadline: {} ({})\nDue: {}\nRule: {}",
            item.entry,
            d.kind.title(),
            d.kind,
            d.due,
            d.rule
        );
        if d.legal != d.due {
            desc.push_str(&format!("\nDate from the rule: {}", d.legal));
        }
        if d.estimated {
            desc.push_str("\nEstimated: a fact the rule needs is not known yet.");
        }
        if d.done {
            desc.push_str("\nDone.");
        }
        push_line(&mut out, "BEGIN:VEVENT");
        push_line(&mut out, &format!("UID:{}", uid(item)));
        push_line(&mut out, &format!("DTSTAMP:{dtstamp}"));
        push_line(&mut out, &format!("DTSTART;VALUE=DATE:{start}"));
        push_line(&mut out, &format!("DTEND;VALUE=DATE:{end}"));
        push_line(&mut out, &format!("SUMMARY:{}", escape_text(&summary)));
        push_line(&mut out, &format!("DESCRIPTION:{}", escape_text(&desc)));
        push_line(&mut out, &format!("CATEGORIES:{}", escape_text(d.kind.as_str())));
        if let Some(u) = base_url {
            let page = format!("{}/entries/{}", u.trim_end_matches('/'), item.entry);
            push_line(&mut out, &format!("URL:{page}"));
        }
        push_line(&mut out, "TRANSP:TRANSPARENT");
        push_line(&mut out, "END:VEVENT");
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_specials() {
        assert_eq!(escape_text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
        assert_eq!(escape_text("bell\u{7}"), "bell");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_utf8() {
        let mut out = String::new();
        let long = format!("DESCRIPTION:{}", "é".repeat(100));
        push_line(&mut out, &long);
        for phys in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(phys.len() <= 75, "{} octets", phys.len());
        }
        // Unfolding (remove CRLF + space) gives back the line.
        assert_eq!(out.trim_end_matches("\r\n").replace("\r\n ", ""), long);
    }
}
