//! The duty-recovery index: which entries declare each refund program's duty, what each adds to
//! `report recovery`'s totals, and the day that contribution next changes. Kept in each file's
//! transaction and rolled forward by the scheduler, so the Recovery page reads sums and the
//! first rows, never every entry.
//!
//! Keys in the `index` table (values JSON):
//! - `rp|<program>|<entry>` → 1: the entries a program concerns (`report::recovery::concerns`),
//!   in entry order. Whether a program concerns an entry depends on its facts, not on the day.
//! - `rc|<entry>` → [`Contribution`]: what the entry added to the sums, the day it was evaluated
//!   and the first later day on which its evaluation can differ.
//! - `ru|<day>|<entry>` → 1: that day, so the entries due for a new evaluation are one range.
//! - `rt|<program>|<group>|<key>` → `[entries, cents, refunded cents]`: the sums.
//! - `rh` → the latest day any entry was evaluated on (a clock moved back is detected).
//!
//! A day's totals are the kept sums, corrected by the entries whose `ru|` day has come (the
//! scheduler's roll-forward keeps that set to about a day's worth).

use crate::calendar::Calendar;
use crate::deadline::facts::entry_deadlines;
use crate::deadline::Deadline;
use crate::domain::Entry;
use crate::entry_number::EntryNumber;
use crate::recovery::{evaluate, EntryRecovery, Program, Remedies};
use crate::report::recovery::{concerns, totals, ClaimSum, Sum, Totals};
use crate::store::{Store, StoreError, StoreTx, Table, TxError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One group of the totals an entry adds to: (program, group, key) → entries, cents, refunded.
type Part = (String, String, String, [i64; 3]);

/// What one entry adds to the recovery sums, as evaluated on `on`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub on: Option<NaiveDate>,
    /// The first day after `on` on which the evaluation can differ (`None`: never by the day).
    pub until: Option<NaiveDate>,
    /// The programs that concern the entry.
    pub programs: Vec<String>,
    pub parts: Vec<Part>,
}

/// The groups of [`Totals`] flattened to parts (one entry's totals, or a page's).
fn parts_of(t: &Totals) -> Vec<Part> {
    let p = &t.program;
    let mut out = Vec::new();
    let mut push = |group: &str, key: String, v: [i64; 3]| out.push((p.clone(), group.to_string(), key, v));
    for (k, s) in &t.by_duty_program {
        push("duty", k.clone(), [s.entries as i64, s.cents, 0]);
    }
    for (k, s) in &t.by_program_state {
        push("state", k.clone(), [s.entries as i64, s.cents, 0]);
    }
    for (k, s) in &t.by_open_remedy {
        push("remedy", k.clone(), [s.entries as i64, s.cents, 0]);
    }
    for (k, s) in &t.by_deadline_week {
        push("week", k.to_string(), [s.entries as i64, s.cents, 0]);
    }
    for (k, c) in &t.claims {
        push("claims", k.clone(), [c.entries as i64, c.claimed_cents, c.refunded_cents]);
    }
    out
}

/// Add parts (each `sign` times) into totals.
fn add_parts(t: &mut Totals, parts: impl IntoIterator<Item = (String, String, [i64; 3])>, sign: i64) {
    fn sum(s: &mut Sum, v: [i64; 3], sign: i64) {
        s.entries = (s.entries as i64).saturating_add(sign * v[0]).max(0) as usize;
        s.cents = s.cents.saturating_add(sign.saturating_mul(v[1]));
    }
    for (group, key, v) in parts {
        match group.as_str() {
            "duty" => sum(t.by_duty_program.entry(key).or_default(), v, sign),
            "state" => sum(t.by_program_state.entry(key).or_default(), v, sign),
            "remedy" => sum(t.by_open_remedy.entry(key).or_default(), v, sign),
            "week" => {
                if let Ok(d) = key.parse::<NaiveDate>() {
                    sum(t.by_deadline_week.entry(d).or_default(), v, sign)
                }
            }
            "claims" => {
                let c: &mut ClaimSum = t.claims.entry(key).or_default();
                c.entries = (c.entries as i64).saturating_add(sign * v[0]).max(0) as usize;
                c.claimed_cents = c.claimed_cents.saturating_add(sign.saturating_mul(v[1]));
                c.refunded_cents = c.refunded_cents.saturating_add(sign.saturating_mul(v[2]));
            }
            _ => {}
        }
    }
    t.by_duty_program.retain(|_, s| s.entries > 0);
    t.by_program_state.retain(|_, s| s.entries > 0);
    t.by_open_remedy.retain(|_, s| s.entries > 0);
    t.by_deadline_week.retain(|_, s| s.entries > 0);
    t.claims.retain(|_, c| c.entries > 0);
}

/// The first day after `today` on which [`evaluate`] can answer differently: every comparison
/// it makes with the day is against a deadline's legal date or due date, a remedy's last day
/// (open through it) or a program's opening day. Conservative: an extra day only costs a new
/// evaluation. A test walks the days of the sample entries to hold this to `evaluate`.
pub fn next_change(rules: &Remedies, r: &EntryRecovery, deadlines: &[Deadline], today: NaiveDate) -> Option<NaiveDate> {
    let mut days: Vec<NaiveDate> = Vec::new();
    for d in deadlines {
        days.extend([d.legal.succ_opt(), d.due.succ_opt()].into_iter().flatten());
    }
    days.extend(r.remedies.iter().filter_map(|s| s.until.and_then(|u| u.succ_opt())));
    days.extend(rules.programs.iter().map(|p| p.opened));
    days.into_iter().filter(|d| *d > today).min()
}

/// Evaluate one entry on `today` and what it adds to the sums.
pub fn contribution(
    rules: &Remedies,
    e: &Entry,
    deadlines: &[Deadline],
    today: NaiveDate,
) -> (EntryRecovery, Contribution) {
    let r = evaluate(rules, e, deadlines, today);
    let mut c = Contribution { on: Some(today), ..Contribution::default() };
    for p in rules.programs.iter().filter(|p| concerns(&r, p)) {
        c.programs.push(p.id.clone());
        c.parts.extend(parts_of(&totals(std::slice::from_ref(&r), p)));
    }
    if !c.programs.is_empty() {
        c.until = next_change(rules, &r, deadlines, today);
    }
    (r, c)
}

fn ckey(entry: &str) -> String {
    format!("rc|{entry}")
}

fn ukey(day: NaiveDate, entry: &str) -> String {
    format!("ru|{day}|{entry}")
}

fn tkey(program: &str, group: &str, key: &str) -> String {
    format!("rt|{program}|{group}|{key}")
}

/// Replace an entry's contribution inside a transaction: only what changed is written.
pub fn put_tx(tx: &mut StoreTx<'_>, entry: &str, new: &Contribution) -> Result<(), TxError> {
    let old = tx.get::<Contribution>(Table::Index, ckey(entry).as_bytes())?.unwrap_or_default();
    if old.programs == new.programs && old.parts == new.parts && old.until == new.until {
        // The same sums: keep the old evaluation day unless the high-water mark moves.
        return mark_day(tx, new.on);
    }
    let mut delta: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    for (sign, parts) in [(-1i64, &old.parts), (1, &new.parts)] {
        for (p, g, k, v) in parts {
            let d = delta.entry(tkey(p, g, k)).or_default();
            for i in 0..3 {
                d[i] = d[i].saturating_add(sign.saturating_mul(v[i]));
            }
        }
    }
    for (k, d) in delta.into_iter().filter(|(_, d)| d.iter().any(|x| *x != 0)) {
        let cur: [i64; 3] = tx.get(Table::Index, k.as_bytes())?.unwrap_or_default();
        let next = [cur[0].saturating_add(d[0]), cur[1].saturating_add(d[1]), cur[2].saturating_add(d[2])];
        if next[0] <= 0 {
            tx.remove(Table::Index, k.as_bytes())?;
        } else {
            tx.put(Table::Index, k.as_bytes(), &next)?;
        }
    }
    for p in old.programs.iter().filter(|p| !new.programs.contains(p)) {
        tx.remove(Table::Index, format!("rp|{p}|{entry}").as_bytes())?;
    }
    for p in new.programs.iter().filter(|p| !old.programs.contains(p)) {
        tx.put(Table::Index, format!("rp|{p}|{entry}").as_bytes(), &1u8)?;
    }
    if old.until != new.until {
        if let Some(u) = old.until {
            tx.remove(Table::Index, ukey(u, entry).as_bytes())?;
        }
        if let Some(u) = new.until {
            tx.put(Table::Index, ukey(u, entry).as_bytes(), &1u8)?;
        }
    }
    if new.programs.is_empty() {
        tx.remove(Table::Index, ckey(entry).as_bytes())?;
    } else {
        tx.put(Table::Index, ckey(entry).as_bytes(), new)?;
    }
    mark_day(tx, new.on)
}

fn mark_day(tx: &mut StoreTx<'_>, on: Option<NaiveDate>) -> Result<(), TxError> {
    let Some(on) = on else { return Ok(()) };
    let hw: Option<NaiveDate> = tx.get(Table::Index, b"rh")?;
    if hw.is_none_or(|h| h < on) {
        tx.put(Table::Index, b"rh", &on)?;
    }
    Ok(())
}

/// Bring one entry's contribution up to date inside a file's transaction.
pub fn entry_tx(
    tx: &mut StoreTx<'_>,
    rules: &Remedies,
    entry: &str,
    e: &Entry,
    deadlines: &[Deadline],
    today: NaiveDate,
) -> Result<(), TxError> {
    if rules.programs.is_empty() {
        return Ok(());
    }
    let (_, c) = contribution(rules, e, deadlines, today);
    put_tx(tx, entry, &c)
}

fn load(store: &Store, key: &str, cal: &Calendar) -> Result<Option<(Entry, Vec<Deadline>)>, StoreError> {
    let Ok(en) = key.parse::<EntryNumber>() else { return Ok(None) };
    let Some((e, facts)) = crate::store::entries::derived(store, &en)? else { return Ok(None) };
    let ds = entry_deadlines(&e, &facts, cal);
    Ok(Some((e, ds)))
}

/// The entries whose evaluation may have changed by `today` (their `ru|` day has come).
fn due_keys(store: &Store, today: NaiveDate) -> Result<Vec<String>, StoreError> {
    let end = match today.succ_opt() {
        Some(d) => format!("ru|{d}"),
        None => "ru}".into(),
    };
    let mut out = Vec::new();
    for item in store.range::<u8>(Table::Index, b"ru|", end.as_bytes()) {
        let (k, _) = item?;
        let k = String::from_utf8_lossy(&k).into_owned();
        if let Some(entry) = k.splitn(3, '|').nth(2) {
            out.push(entry.to_string());
        }
    }
    Ok(out)
}

/// Re-evaluate, on `today`, the entries whose day has come and keep the result (the
/// scheduler calls this; a few hundred entries per transaction). Returns how many.
pub fn roll_forward(store: &Store, rules: &Remedies, cal: &Calendar, today: NaiveDate) -> Result<usize, StoreError> {
    if rules.programs.is_empty() || high_water(store)?.is_some_and(|h| h > today) {
        return Ok(0);
    }
    let keys = due_keys(store, today)?;
    for chunk in keys.chunks(500) {
        // Read and evaluated inside the transaction: a file committing one of these entries
        // meanwhile makes the transaction run again on its facts, never keep a stale sum.
        store.transaction(|tx| {
            for k in chunk {
                let facts = match k.parse::<EntryNumber>() {
                    Ok(en) => crate::store::entries::facts_tx(tx, &en.compact())?.map(|f| (en, f)),
                    Err(_) => None,
                };
                let c = match facts {
                    Some((en, facts)) => {
                        let e = Entry::derive(&en, &facts);
                        contribution(rules, &e, &entry_deadlines(&e, &facts, cal), today).1
                    }
                    None => Contribution::default(),
                };
                put_tx(tx, k, &c)?;
            }
            Ok(())
        })?;
    }
    Ok(keys.len())
}

fn high_water(store: &Store) -> Result<Option<NaiveDate>, StoreError> {
    store.get::<NaiveDate>(Table::Index, b"rh")
}

/// Every entry `program` concerns, in entry order (keys).
pub fn concerned<'a>(store: &'a Store, program: &str) -> impl Iterator<Item = Result<String, StoreError>> + 'a {
    let prefix = format!("rp|{program}|");
    let skip = prefix.len();
    store
        .keys_with_prefix(Table::Index, prefix.as_bytes())
        .map(move |k| k.map(|k| String::from_utf8_lossy(k.get(skip..).unwrap_or_default()).into_owned()))
}

/// Every entry `program` concerns, evaluated on `today`, in entry order (for `report recovery`:
/// the first rows come after reading only those entries).
pub fn evaluated<'a>(
    store: &'a Store,
    rules: &'a Remedies,
    cal: &'a Calendar,
    program: &str,
    today: NaiveDate,
) -> impl Iterator<Item = Result<EntryRecovery, StoreError>> + 'a {
    concerned(store, program).filter_map(move |k| {
        let k = match k {
            Ok(k) => k,
            Err(e) => return Some(Err(e)),
        };
        match load(store, &k, cal) {
            Ok(Some((e, ds))) => Some(Ok(evaluate(rules, &e, &ds, today))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    })
}

/// `program`'s totals on `today`: the kept sums, corrected by the entries whose day has come
/// since they were evaluated. When the clock is behind the latest evaluation (a replay with
/// `ENTRYWATCH_NOW`), every concerned entry is evaluated again instead.
pub fn program_totals(
    store: &Store,
    rules: &Remedies,
    cal: &Calendar,
    program: &Program,
    today: NaiveDate,
) -> Result<Totals, StoreError> {
    if high_water(store)?.is_some_and(|h| h > today) {
        let recs: Vec<EntryRecovery> = evaluated(store, rules, cal, &program.id, today).collect::<Result<_, _>>()?;
        return Ok(totals(&recs, program));
    }
    let mut t = Totals { program: program.id.clone(), ..Totals::default() };
    let prefix = format!("rt|{}|", program.id);
    let mut kept = Vec::new();
    for item in store.scan_prefix::<[i64; 3]>(Table::Index, prefix.as_bytes()) {
        let (k, v) = item?;
        let k = String::from_utf8_lossy(&k).into_owned();
        let mut it = k.get(prefix.len()..).unwrap_or_default().splitn(2, '|');
        if let (Some(g), Some(key)) = (it.next(), it.next()) {
            kept.push((g.to_string(), key.to_string(), v));
        }
    }
    add_parts(&mut t, kept, 1);
    for k in due_keys(store, today)? {
        let old = store.get::<Contribution>(Table::Index, ckey(&k).as_bytes())?.unwrap_or_default();
        let new = match load(store, &k, cal)? {
            Some((e, ds)) => contribution(rules, &e, &ds, today).1,
            None => Contribution::default(),
        };
        let mine = |c: &Contribution| -> Vec<(String, String, [i64; 3])> {
            c.parts.iter().filter(|p| p.0 == program.id).map(|(_, g, k, v)| (g.clone(), k.clone(), *v)).collect()
        };
        add_parts(&mut t, mine(&old), -1);
        add_parts(&mut t, mine(&new), 1);
    }
    Ok(t)
}

/// The number of entries `program` concerns (each has exactly one program state).
pub fn concerned_count(t: &Totals) -> usize {
    t.by_program_state.values().map(|s| s.entries).sum()
}
