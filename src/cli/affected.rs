//! `entrywatch affected ENTRY [--json]`, the "Related entries" block of `entry`, and
//! `entrywatch report affected`: what else an entry's status touches (crate::links).

use super::dispatch::{Ctx, Io};
use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::calendar::Calendar;
use crate::config::Config;
use crate::domain::Entry;
use crate::entry_number::EntryNumber;
use crate::links::{events_of, EventRow};
use crate::store::Store;
use serde_json::{json, Value};

/// `entrywatch affected ENTRY [--json]`: the entry's links with the entries sharing them, and
/// each event in its history that touches other entries under the impact rules.
pub fn affected_on(ctx: &Ctx, entry: &str, json_out: bool, io: &mut Io) -> i32 {
    let (en, e, facts) = match super::dispatch::load_named(ctx, entry, io) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (config, store, clock) = (&ctx.config, &ctx.store, ctx.clock);
    let cal = Calendar::from_config(&config.deadlines);
    let today = crate::deadline::local_today(clock.now(), config.timezone());
    let events = match events_of(store, &config.affected, &e, &facts, &cal, today) {
        Ok(v) => v,
        Err(err) => {
            let _ = writeln!(io.err, "error: {err}");
            return EXIT_INVALID;
        }
    };
    let related = crate::query::entry::related_of(store, &e);
    let links: Vec<Value> =
        crate::links::links_of(&e).into_iter().map(|l| json!({"kind": l.kind.as_str(), "value": l.value})).collect();
    if json_out {
        let doc = json!({
            "entry": en.to_string(),
            "links": links,
            "related": related.as_ref().map_or_else(|err| json!({ "error": err.to_string() }), |r| json!(r)),
            "events": events,
        });
        let _ = writeln!(io.out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return EXIT_OK;
    }
    let mut s = format!("Entry {en}\n");
    if links.is_empty() {
        s.push_str("No links: no bill, container, PO, HTS or manufacturer known for this entry.\n");
    }
    match &related {
        Ok(r) => s.push_str(&crate::query::entry::related_text(r)),
        Err(err) => s.push_str(&format!("\nRelated entries: not readable ({err})\n")),
    }
    if events.is_empty() {
        s.push_str("\nNo event of this entry touches another entry under the impact rules.\n");
    }
    for ev in &events {
        s.push_str(&format!("\n{} {} {}\n{}", ev.at.format("%Y-%m-%d %H:%M"), ev.event, ev.code, ev.affected.text()));
    }
    let _ = write!(io.out, "{s}");
    EXIT_OK
}

/// Every stored entry's triggering events with the entries they touch, oldest first.
pub fn affected_rows(
    store: &Store,
    config: &Config,
    today: chrono::NaiveDate,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    importer: Option<&str>,
) -> Result<Vec<EventRow>, crate::store::StoreError> {
    let cal = Calendar::from_config(&config.deadlines);
    let mut rows = Vec::new();
    for item in crate::store::entries::scan_facts(store) {
        let (k, facts) = item?;
        let Ok(en) = k.parse::<EntryNumber>() else { continue };
        let e = Entry::derive(&en, &facts);
        if importer.is_some_and(|i| i.trim() != e.importer) {
            continue;
        }
        for row in events_of(store, &config.affected, &e, &facts, &cal, today)? {
            let d = row.at.date();
            if from.is_some_and(|f| d < f) || to.is_some_and(|t| d > t) {
                continue;
            }
            rows.push(row);
        }
    }
    rows.sort_by(|a, b| (a.at, &a.entry).cmp(&(b.at, &b.entry)));
    Ok(rows)
}

/// `entrywatch report affected`: one row per triggering event (text, CSV or JSON).
pub fn report_on(ctx: &Ctx, args: &super::report::ReportArgs, io: &mut Io) -> i32 {
    let today = crate::deadline::local_today(ctx.clock.now(), ctx.config.timezone());
    let rows = match affected_rows(&ctx.store, &ctx.config, today, args.from, args.to, args.importer.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return EXIT_INVALID;
        }
    };
    let out = &mut *io.out;
    let entries = |r: &EventRow| r.affected.listed.iter().map(|a| a.entry.as_str()).collect::<Vec<_>>().join(" ");
    let written = match args.format() {
        crate::report::Format::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&rows).unwrap_or_default())
        }
        crate::report::Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            let mut r = w.write_record(["entry", "at", "event", "code", "triggers", "affected", "listed"]);
            for row in &rows {
                r = r.and_then(|_| {
                    w.write_record([
                        row.entry.clone(),
                        row.at.format("%Y-%m-%dT%H:%M").to_string(),
                        row.event.clone(),
                        row.code.clone(),
                        row.affected.triggers.join(" "),
                        row.affected.matching.to_string(),
                        entries(row),
                    ])
                });
            }
            r.and_then(|_| w.flush().map_err(csv::Error::from)).map_err(std::io::Error::other)
        }
        _ => {
            let mut r =
                writeln!(out, "{:<14} {:<16} {:<18} {:<8} {:>8}  listed", "entry", "at", "event", "code", "affected");
            for row in &rows {
                r = r.and_then(|_| {
                    writeln!(
                        out,
                        "{:<14} {:<16} {:<18} {:<8} {:>8}  {}",
                        row.entry,
                        row.at.format("%Y-%m-%d %H:%M"),
                        row.event,
                        row.code,
                        row.affected.matching,
                        entries(row)
                    )
                });
            }
            r
        }
    };
    match written.and_then(|_| out.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            let _ = writeln!(io.err, "error: writing the report: {e}");
            EXIT_USAGE
        }
    }
}
