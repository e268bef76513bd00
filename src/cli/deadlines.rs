//! `entrywatch deadlines [--within DAYS] [--json] [--ics] [--remind]`: every entry's open deadlines, soonest first, or the calendar feed.

use super::dispatch::{Ctx, Io};
use super::{EXIT_INVALID, EXIT_OK};
use crate::calendar::Calendar;
use crate::deadline::scheduler::{all_deadlines, open_deadlines, remind_once};
use crate::deadline::{listing, local_today, to_ics, EntryDeadline};

/// `entrywatch deadlines`: open deadlines (overdue ones first, marked), soonest first;
/// `--within DAYS` keeps those due by today + DAYS; `--json` the interface.md array; `--ics`
/// an RFC 5545 feed of the same horizon (done deadlines included, marked); `--remind` queues
/// the reminders due now (what the daemon's scheduler does) and prints how many.
pub fn deadlines_on(ctx: &Ctx, within: Option<u32>, json: bool, ics: bool, remind: bool, io: &mut Io) -> i32 {
    let (config, store) = (&ctx.config, &ctx.store);
    let now = ctx.clock.now();
    if remind {
        return match remind_once(store, config, now) {
            Ok(n) => {
                let _ = writeln!(io.out, "{n} reminder(s) queued");
                EXIT_OK
            }
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                EXIT_INVALID
            }
        };
    }
    // The feed marks done deadlines too (computed per entry); the listing reads the index.
    let items = if ics {
        all_deadlines(store, &Calendar::from_config(&config.deadlines))
    } else {
        open_deadlines(store, None, None)
    };
    let items = match items {
        Ok(i) => i,
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            return EXIT_INVALID;
        }
    };
    let today = local_today(now, config.timezone());
    let out = &mut *io.out;
    if ics {
        let horizon = within.and_then(|n| today.checked_add_days(chrono::Days::new(u64::from(n))));
        let mut feed: Vec<EntryDeadline> =
            items.into_iter().filter(|i| horizon.is_none_or(|h| i.deadline.due <= h)).collect();
        feed.sort_by(|a, b| {
            (a.deadline.due, &a.entry, a.deadline.kind).cmp(&(b.deadline.due, &b.entry, b.deadline.kind))
        });
        let _ = out.write_all(to_ics(&feed, now).as_bytes());
        return EXIT_OK;
    }
    let rows = listing(&items, today, within, true);
    if json {
        let _ = writeln!(out, "{}", serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into()));
        return EXIT_OK;
    }
    if rows.is_empty() {
        let _ = writeln!(out, "no open deadlines");
        return EXIT_OK;
    }
    for r in &rows {
        let left = (r.due - today).num_days();
        let when = if left < 0 { format!("overdue {}d", -left) } else { format!("in {left}d") };
        let est = if r.estimated { " (estimated)" } else { "" };
        let _ = writeln!(out, "{}  {:<12} {:<15} {:<19} {}{est}", r.due, when, r.entry, r.kind.as_str(), r.rule);
    }
    EXIT_OK
}
