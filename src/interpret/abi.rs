//! ABI (CATAIR 80-column) messages → facts: AE (and approved AE-format pre-entries), AX, UC, SO, PF, MS, ER.
//!
//! Record positions follow reference/abi.md §1-§5. This reads records by position itself until
//! the grammar-driven reader (`parse::abi::read`) lands; the field positions are the same.
//!
//! Diagnostics: `I201` not ASCII, `I202` no A batch header, `I203` record outside a block,
//! `I204` bad entry number, `I205` bad number, `I206` bad date, `I207` unsupported application,
//! `I208` record before its header record (e.g. 50 before 40), `I209` no Z trailer,
//! `I210` B/Y mismatch, `I211` unknown record for its application, `I212` ACE system failure (warning).

use super::codes::{lookup, release_lifts};
use super::{FileContext, Interpretation, MonthlyLink};
use crate::config::Role;
use crate::domain::{Fact, FactKind, Line, PreEntry, PreEntryLine, Summary, Tariff};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::parse::error::{Diagnostic, Position};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// One 80-column record.
#[derive(Debug, Clone, Copy)]
pub struct Rec<'a> {
    pub text: &'a str,
    /// 1-based line.
    pub line: usize,
    /// 0-based byte offset of the record.
    pub byte: usize,
    /// 1-based record index.
    pub index: usize,
}

impl<'a> Rec<'a> {
    /// Positions `from..=to` (1-based inclusive), untrimmed; empty when the record is short.
    pub fn raw(&self, from: usize, to: usize) -> &'a str {
        let len = self.text.len();
        let s = from.saturating_sub(1).min(len);
        let e = to.min(len);
        self.text.get(s..e.max(s)).unwrap_or("")
    }
    /// Positions `from..=to`, trimmed.
    pub fn f(&self, from: usize, to: usize) -> &'a str {
        self.raw(from, to).trim()
    }
    pub fn id2(&self) -> &'a str {
        self.raw(1, 2)
    }
    pub fn pos(&self) -> Position {
        Position { line: self.line, byte: self.byte, segment: None, record: Some(self.index) }
    }
}

/// Split a file into records: newline-separated lines, or a continuous stream of 80-byte images.
pub fn records(bytes: &[u8]) -> Result<Vec<Rec<'_>>, Box<Diagnostic>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Box::new(Diagnostic::error("I201", "the file is not ASCII text", Position::at_byte(bytes, e.valid_up_to())))
    })?;
    if let Some(i) = text.bytes().position(|b| !(b.is_ascii_graphic() || b == b' ' || b == b'\n' || b == b'\r')) {
        return Err(Box::new(Diagnostic::error(
            "I201",
            "the file holds a non-printable or non-ASCII character",
            Position::at_byte(bytes, i),
        )));
    }
    let mut out = Vec::new();
    let mut byte = 0usize;
    for (n, raw_line) in text.split('\n').enumerate() {
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        if !line.trim().is_empty() {
            if !text.contains('\n') && line.len() > 80 && line.len() % 80 == 0 {
                for (k, chunk) in (0..line.len()).step_by(80).enumerate() {
                    let t = line.get(chunk..chunk + 80).unwrap_or("");
                    out.push(Rec { text: t, line: 1, byte: byte + chunk, index: out.len() + 1 });
                    let _ = k;
                }
            } else {
                out.push(Rec { text: line, line: n + 1, byte, index: out.len() + 1 });
            }
        }
        byte += raw_line.len() + 1;
    }
    Ok(out)
}

/// A field that is not a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadDate;

/// MMDDYY → date (years 2000-2099). Blank → None; invalid → error.
pub fn mmddyy(s: &str) -> Result<Option<NaiveDate>, BadDate> {
    let s = s.trim();
    if s.is_empty() || s.bytes().all(|b| b == b'0') {
        return Ok(None);
    }
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BadDate);
    }
    let n = |a: usize| s.get(a..a + 2).and_then(|x| x.parse::<u32>().ok()).ok_or(BadDate);
    NaiveDate::from_ymd_opt(2000 + n(4)? as i32, n(0)?, n(2)?).map(Some).ok_or(BadDate)
}

fn hhmm(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    if s.len() != 4 {
        return None;
    }
    NaiveTime::from_hms_opt(s.get(0..2)?.parse().ok()?, s.get(2..4)?.parse().ok()?, 0)
}

/// Implied-decimal integer: digits possibly preceded by spaces and a sign. Blank → 0.
pub fn num(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() {
        return Some(0);
    }
    let (neg, d) = match t.strip_prefix('-') {
        Some(r) => (true, r.trim_start()),
        None => (false, t.strip_prefix('+').unwrap_or(t).trim_start()),
    };
    if d.is_empty() || d.len() > 17 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = d.parse().ok()?;
    Some(if neg { -v } else { v })
}

struct Cx<'a, 'b> {
    ctx: &'a FileContext<'b>,
    grammars: &'a Grammars,
    out: Interpretation,
    batch_date: Option<NaiveDate>,
}

impl Cx<'_, '_> {
    fn err(&mut self, code: &str, msg: impl Into<String>, r: &Rec<'_>) {
        self.out.diagnostics.push(Diagnostic::error(code, msg, r.pos()));
    }
    fn date(&mut self, r: &Rec<'_>, from: usize, to: usize, what: &str) -> Option<NaiveDate> {
        match mmddyy(r.raw(from, to)) {
            Ok(d) => d,
            Err(BadDate) => {
                self.err(
                    "I206",
                    format!("{what} {:?} (positions {from}-{to}) is not a date MMDDYY", r.raw(from, to)),
                    r,
                );
                None
            }
        }
    }
    fn num(&mut self, r: &Rec<'_>, from: usize, to: usize, what: &str) -> i64 {
        match num(r.raw(from, to)) {
            Some(v) => v,
            None => {
                self.err("I205", format!("{what} {:?} (positions {from}-{to}) is not a number", r.raw(from, to)), r);
                0
            }
        }
    }
    fn entry(&mut self, r: &Rec<'_>, filer: (usize, usize), number: (usize, usize)) -> Option<EntryNumber> {
        match EntryNumber::from_parts(r.f(filer.0, filer.1), r.f(number.0, number.1)) {
            Ok(e) => Some(e),
            Err(e) => {
                self.err("I204", e.to_string(), r);
                None
            }
        }
    }
    fn day(&self) -> NaiveDateTime {
        self.batch_date.map_or(self.ctx.received, |d| d.and_time(NaiveTime::MIN))
    }
    fn push(&mut self, e: EntryNumber, at: NaiveDateTime, kind: FactKind, r: &Rec<'_>) {
        let source = self.ctx.source(r.line, r.index);
        self.out.facts.push((e, Fact { at, kind, source }));
    }
}

/// Interpret an ABI file.
pub fn interpret(bytes: &[u8], ctx: &FileContext<'_>, grammars: &Grammars) -> Interpretation {
    let mut cx = Cx { ctx, grammars, out: Interpretation::default(), batch_date: None };
    let recs = match records(bytes) {
        Ok(r) => r,
        Err(d) => {
            cx.out.diagnostics.push(*d);
            return cx.out;
        }
    };
    let mut i = 0;
    let mut saw_a = false;
    let mut saw_z = false;
    while i < recs.len() {
        let r = recs[i];
        match r.raw(1, 1) {
            "A" => {
                saw_a = true;
                saw_z = false;
                cx.batch_date = cx.date(&r, 15, 20, "transmission date");
                i += 1;
            }
            "Z" => {
                saw_z = true;
                i += 1;
            }
            "B" if saw_a => {
                let app = r.f(11, 12).to_string();
                let end = recs[i + 1..].iter().position(|x| x.raw(1, 1) == "Y").map(|p| p + i + 1);
                let Some(end) = end else {
                    cx.err("I210", format!("block {app} has no Y trailer"), &r);
                    break;
                };
                if recs[end].f(11, 12) != app {
                    cx.err("I210", format!("block {app} ends with a Y for {:?}", recs[end].f(11, 12)), &recs[end]);
                }
                let body = &recs[i + 1..end];
                match app.as_str() {
                    "AE" => ae(&mut cx, body),
                    "AX" => ax(&mut cx, body),
                    "UC" => uc(&mut cx, body),
                    "SO" => so(&mut cx, body),
                    "PF" => pf(&mut cx, &r, body),
                    "MS" => ms(&mut cx, &r, body),
                    "ER" => er(&mut cx, body),
                    other => cx.err("I207", format!("application {other:?} is not interpreted by entrywatch"), &r),
                }
                i = end + 1;
            }
            _ if !saw_a => {
                cx.err("I202", "an ABI file starts with an A batch header record", &r);
                return cx.out;
            }
            _ => {
                cx.err("I203", format!("record {:?} outside a B/Y block", r.id2()), &r);
                i += 1;
            }
        }
    }
    if saw_a && !saw_z {
        let last = recs.last().copied().unwrap_or(Rec { text: "", line: 1, byte: 0, index: 1 });
        cx.err("I209", "the batch has no Z trailer (truncated file?)", &last);
    }
    cx.out
}

fn ae(cx: &mut Cx<'_, '_>, body: &[Rec<'_>]) {
    let mut cur: Option<(EntryNumber, Summary, Rec<'_>)> = None;
    let flush = |cx: &mut Cx<'_, '_>, cur: Option<(EntryNumber, Summary, Rec<'_>)>| {
        if let Some((e, s, r)) = cur {
            let at = cx.day();
            if cx.ctx.role == Role::Approved {
                let lines = s
                    .lines
                    .iter()
                    .flat_map(|l| {
                        l.tariffs.iter().map(move |t| PreEntryLine {
                            line: l.line,
                            hts: t.hts.clone(),
                            country_of_origin: l.country_of_origin.clone(),
                            spi: l.spi.clone(),
                            quantity_hundredths: t.quantity_hundredths,
                            uom: t.uom.clone(),
                            value_usd: t.value_usd,
                            duty_cents: t.duty_cents,
                            ..PreEntryLine::default()
                        })
                    })
                    .collect();
                let pre = PreEntry {
                    entry: Some(e.clone()),
                    importer: s.importer.clone(),
                    broker_ref: s.broker_ref.clone(),
                    lines,
                    summary: Some(s),
                };
                cx.push(e, at, FactKind::PreEntryApproved { pre_entry: pre }, &r);
            } else {
                cx.push(e, at, FactKind::SummaryFiled { summary: s }, &r);
            }
        }
    };
    for r in body {
        let id = r.id2();
        if id == "10" {
            flush(cx, cur.take());
            let Some(e) = cx.entry(r, (4, 6), (9, 16)) else { continue };
            let s = Summary {
                action: r.f(3, 3).to_string(),
                port: r.f(18, 21).to_string(),
                broker_ref: r.f(22, 30).to_string(),
                entry_type: r.f(34, 35).to_string(),
                mode_of_transport: r.f(36, 37).to_string(),
                payment_type: r.f(51, 51).to_string(),
                statement_print_date: cx.date(r, 52, 57, "preliminary statement print date"),
                psc: r.f(65, 65) == "Y",
                reconciliation: reconciliation_flag(r.f(46, 46), r.f(47, 49)),
                recon_fta: r.f(46, 46) == "Y",
                recon_issue: r.f(47, 49).to_string(),
                ..Summary::default()
            };
            cur = Some((e, s, *r));
            continue;
        }
        let Some((_, s, _)) = cur.as_mut() else {
            cx.err("I208", format!("record {id:?} before any 10 record"), r);
            continue;
        };
        match id {
            "11" => {
                s.importer = r.f(3, 14).to_string();
                let (ed, id_) = (cx.date(r, 42, 47, "estimated entry date"), cx.date(r, 48, 53, "date of importation"));
                let Some((_, s, _)) = cur.as_mut() else { continue };
                s.entry_date = ed;
                s.import_date = id_;
            }
            "40" => {
                let n = r.f(5, 7).parse::<u32>().unwrap_or(0);
                s.lines.push(Line {
                    line: n,
                    country_of_origin: r.f(9, 10).to_string(),
                    country_of_export: r.f(11, 12).to_string(),
                    spi: r.f(25, 26).to_string(),
                    ..Line::default()
                });
            }
            "50" => {
                let t = Tariff {
                    hts: r.f(3, 12).to_string(),
                    duty_cents: cx.num(r, 14, 23, "duty amount"),
                    value_usd: cx.num(r, 25, 34, "value"),
                    quantity_hundredths: cx.num(r, 36, 47, "quantity 1"),
                    uom: r.f(48, 50).to_string(),
                };
                let Some((_, s, _)) = cur.as_mut() else { continue };
                match s.lines.last_mut() {
                    Some(l) => l.tariffs.push(t),
                    None => cx.err("I208", "50 record before any 40 record", r),
                }
            }
            "62" => {
                let amt = cx.num(r, 6, 13, "user fee amount");
                let Some((_, s, _)) = cur.as_mut() else { continue };
                match s.lines.last_mut() {
                    Some(l) => *l.fees.entry(r.f(3, 5).to_string()).or_insert(0) += amt,
                    None => cx.err("I208", "62 record before any 40 record", r),
                }
            }
            "89" => {
                for (cs, ce, a_s, a_e) in
                    [(3, 5, 6, 16), (17, 19, 20, 30), (31, 33, 34, 44), (45, 47, 48, 58), (59, 61, 62, 72)]
                {
                    let class = r.f(cs, ce).to_string();
                    if class.is_empty() {
                        continue;
                    }
                    let amt = cx.num(r, a_s, a_e, "fee total");
                    if let Some((_, s, _)) = cur.as_mut() {
                        *s.fee_totals.entry(class).or_insert(0) += amt;
                    }
                }
            }
            "90" => {
                let duty = cx.num(r, 3, 13, "total duty");
                let fees = cx.num(r, 15, 25, "total user fees");
                if let Some((_, s, _)) = cur.as_mut() {
                    s.total_duty_cents = duty;
                    s.total_fees_cents = fees;
                }
            }
            _ => {}
        }
    }
    flush(cx, cur.take());
}

/// The 10-record reconciliation flag: trade-agreement indicator (46) and issue code (47-49).
fn reconciliation_flag(fta: &str, issue: &str) -> String {
    match (fta == "Y", issue.is_empty()) {
        (true, true) => "FTA".into(),
        (true, false) => format!("FTA {issue}"),
        (false, _) => issue.to_string(),
    }
}

fn ax(cx: &mut Cx<'_, '_>, body: &[Rec<'_>]) {
    let mut current: Option<EntryNumber> = None;
    let mut conditions: Vec<(String, String)> = Vec::new();
    for r in body {
        match r.id2() {
            "E0" => {
                if r.f(4, 9) == "SUMMRY" {
                    current = cx.entry(r, (26, 28), (30, 37));
                    conditions.clear();
                }
            }
            "E1" => {
                let disp = r.f(3, 3);
                let cond = r.f(5, 7).to_string();
                let narrative = r.f(11, 50).to_string();
                if cond == "ZZZ" {
                    cx.out.diagnostics.push(Diagnostic::warning(
                        "I212",
                        "ACE SYSTEM FAILURE: not processed, retransmit",
                        r.pos(),
                    ));
                    continue;
                }
                if disp.is_empty() {
                    conditions.push((cond, narrative));
                    continue;
                }
                let entry = if r.f(56, 63).is_empty() { current.clone() } else { cx.entry(r, (51, 53), (56, 63)) };
                let Some(e) = entry else {
                    cx.err("I204", "final disposition without an entry number", r);
                    continue;
                };
                let version = r.f(64, 68).to_string();
                let at = cx.day();
                let kind = if narrative.contains("DELETED") {
                    FactKind::SummaryDeleted { version }
                } else if disp == "A" {
                    FactKind::SummaryAccepted { version, condition: cond, narrative }
                } else {
                    let mut c = std::mem::take(&mut conditions);
                    c.push((cond, narrative));
                    FactKind::SummaryRejected { version, conditions: c }
                };
                cx.push(e, at, kind, r);
            }
            other => cx.err("I211", format!("record {other:?} in an AX block"), r),
        }
    }
}

fn uc(cx: &mut Cx<'_, '_>, body: &[Rec<'_>]) {
    let mut cur: Option<(EntryNumber, NaiveDateTime, FactKind, Rec<'_>)> = None;
    for r in body {
        match r.id2() {
            "E1" => {
                if let Some((e, at, k, rr)) = cur.take() {
                    cx.push(e, at, k, &rr);
                }
                let Some(e) = cx.entry(r, (51, 53), (56, 63)) else { continue };
                let at = cx.date(r, 11, 16, "date of action").map_or(cx.day(), |d| d.and_time(NaiveTime::MIN));
                let kind = FactKind::Notice {
                    disposition: r.f(3, 3).to_string(),
                    reason: r.f(8, 10).to_string(),
                    line: r.f(66, 68).to_string(),
                    remarks: Some(r.f(17, 50)).filter(|n| !n.is_empty()).map(str::to_string).into_iter().collect(),
                };
                cur = Some((e, at, kind, *r));
            }
            "E3" => {
                if let Some((_, _, FactKind::Notice { remarks, .. }, _)) = cur.as_mut() {
                    remarks.push(r.f(3, 80).to_string());
                }
            }
            "E2" | "E4" | "SO70" | "SO" => {}
            other => cx.err("I211", format!("record {other:?} in a UC block"), r),
        }
    }
    if let Some((e, at, k, rr)) = cur.take() {
        cx.push(e, at, k, &rr);
    }
}

fn so(cx: &mut Cx<'_, '_>, body: &[Rec<'_>]) {
    let mut current: Option<EntryNumber> = None;
    for r in body {
        let id = r.raw(1, 4);
        if id == "SO10" {
            current = cx.entry(r, (9, 11), (14, 21));
            if let Some(e) = current.clone() {
                let at = cx.day();
                let kind = FactKind::CargoHeader {
                    port: r.f(5, 8).to_string(),
                    entry_type: r.f(23, 24).to_string(),
                    importer: r.f(25, 36).to_string(),
                };
                cx.push(e, at, kind, r);
            }
            continue;
        }
        if !matches!(id, "SO50" | "SO60" | "SO70") {
            if !id.starts_with("SO") {
                cx.err("I211", format!("record {id:?} in an SO block"), r);
            }
            continue;
        }
        let Some(e) = current.clone() else {
            cx.err("I208", format!("{id} before any SO10 record"), r);
            continue;
        };
        let (list, date_at, time_at, code_at, narr, agency) = match id {
            "SO50" => ("so50", (5, 10), (11, 14), (15, 16), (17, 56), String::new()),
            "SO60" => ("so60", (5, 10), (11, 14), (15, 16), (17, 56), String::new()),
            _ => ("so70", (11, 16), (17, 20), (21, 22), (23, 50), r.f(5, 7).to_string()),
        };
        let day = cx.date(r, date_at.0, date_at.1, "date");
        let at = match (day, hhmm(r.raw(time_at.0, time_at.1))) {
            (Some(d), Some(t)) => d.and_time(t),
            (Some(d), None) => d.and_time(NaiveTime::MIN),
            _ => cx.day(),
        };
        let code = r.f(code_at.0, code_at.1).to_string();
        let m = lookup(cx.grammars, list, &code);
        let agency = if agency.is_empty() { m.agency.clone().unwrap_or_else(|| "CBP".into()) } else { agency };
        let mut removes = m.removes.clone();
        let (mut release_date, mut release_origin) = (None, String::new());
        if list == "so60" && m.effect == crate::grammar::codes::Effect::Released {
            release_date = cx.date(r, 57, 62, "release date");
            release_origin = r.f(63, 64).to_string();
            removes = release_lifts("so60", &code, &release_origin);
        }
        let narrative =
            if r.f(narr.0, narr.1).is_empty() { m.meaning.clone() } else { r.f(narr.0, narr.1).to_string() };
        let kind = FactKind::Disposition {
            list: list.to_string(),
            code,
            agency,
            effect: m.effect,
            removes,
            narrative,
            release_date,
            release_origin,
        };
        cx.push(e, at, kind, r);
    }
}

fn pf(cx: &mut Cx<'_, '_>, b: &Rec<'_>, body: &[Rec<'_>]) {
    let final_statement = b.f(13, 13) == "F";
    let number = b.f(14, 23).to_string();
    let block_print = cx.date(b, 24, 29, "statement print date");
    let payment_type = b.f(30, 30).to_string();
    let mut cur: Option<(EntryNumber, FactKind, Rec<'_>)> = None;
    let emit = |cx: &mut Cx<'_, '_>, cur: Option<(EntryNumber, FactKind, Rec<'_>)>| {
        if let Some((e, k, r)) = cur {
            let at = cx.day();
            cx.push(e, at, k, &r);
        }
    };
    for r in body {
        match r.id2() {
            "Q1" => {
                emit(cx, cur.take());
                let Some(e) = cx.entry(r, (7, 9), (12, 19)) else { continue };
                let print = cx.date(r, 34, 39, "print date").or(block_print);
                let duty = cx.num(r, 40, 50, "estimated duty");
                let tax = cx.num(r, 51, 61, "estimated tax");
                let kind = FactKind::Statement {
                    number: number.clone(),
                    final_statement,
                    print_date: print,
                    due: None,
                    duty_cents: duty,
                    tax_cents: tax,
                    fees_cents: 0,
                    payment_type: payment_type.clone(),
                    monthly: None,
                };
                cur = Some((e, kind, *r));
            }
            "QA" => {
                let mut total = 0;
                for k in 0..5 {
                    let s = 5 + k * 14;
                    if r.f(s, s + 2).is_empty() {
                        continue;
                    }
                    total += cx.num(r, s + 3, s + 13, "fee amount");
                }
                if let Some((_, FactKind::Statement { fees_cents, .. }, _)) = cur.as_mut() {
                    *fees_cents += total;
                }
            }
            "Q2" | "Q3" | "Q4" | "Q5" | "Q6" | "Q7" | "QE" | "QJ" => {}
            other => cx.err("I211", format!("record {other:?} in a PF block"), r),
        }
    }
    emit(cx, cur.take());
}

fn ms(cx: &mut Cx<'_, '_>, b: &Rec<'_>, body: &[Rec<'_>]) {
    let final_statement = b.f(13, 13) == "F";
    let mut monthly_number = b.f(14, 23).to_string();
    let mut due = None;
    let mut dailies: Vec<(String, Rec<'_>)> = Vec::new();
    for r in body {
        match r.id2() {
            "Q1" => dailies.push((r.f(3, 12).to_string(), *r)),
            "Q3" | "Q5" => {
                if monthly_number.is_empty() {
                    monthly_number = r.f(3, 12).to_string();
                }
                due = cx.date(r, 19, 24, "PMS due date");
            }
            "Q2" | "Q4" | "Q6" | "Q7" | "QA" | "QE" | "QJ" => {}
            other => cx.err("I211", format!("record {other:?} in an MS block"), r),
        }
    }
    let at = cx.day();
    for (daily, r) in dailies {
        let source = cx.ctx.source(r.line, r.index);
        cx.out.monthly.push(MonthlyLink {
            daily_number: daily,
            monthly_number: monthly_number.clone(),
            due,
            final_statement,
            at,
            source,
        });
    }
}

fn er(cx: &mut Cx<'_, '_>, body: &[Rec<'_>]) {
    let mut cur: Option<(EntryNumber, FactKind, Rec<'_>)> = None;
    let emit = |cx: &mut Cx<'_, '_>, cur: Option<(EntryNumber, FactKind, Rec<'_>)>| {
        if let Some((e, k, r)) = cur {
            let at = cx.day();
            cx.push(e, at, k, &r);
        }
    };
    for r in body {
        match r.id2() {
            "JB" => {
                emit(cx, cur.take());
                let Some(e) = cx.entry(r, (3, 5), (8, 15)) else { continue };
                let date = cx.date(r, 44, 49, "liquidation date");
                let kind = FactKind::Liquidation {
                    status_code: r.f(43, 43).to_string(),
                    date,
                    ext_susp_codes: Vec::new(),
                    ext_susp_date: None,
                    protest: String::new(),
                    entry_date: None,
                    duty_cents: 0,
                    tax_cents: 0,
                    fees_cents: 0,
                    interest_cents: 0,
                    adcvd_cents: 0,
                    reasons: Vec::new(),
                };
                cur = Some((e, kind, *r));
            }
            "JC" => {
                let d = cx.date(r, 28, 33, "extension/suspension date");
                if let Some((_, FactKind::Liquidation { ext_susp_codes, ext_susp_date, protest, .. }, _)) = cur.as_mut()
                {
                    *ext_susp_date = d;
                    *protest = r.f(42, 43).to_string();
                    *ext_susp_codes =
                        (0..4).map(|k| r.f(71 + 2 * k, 72 + 2 * k).to_string()).filter(|c| !c.is_empty()).collect();
                } else {
                    cx.err("I208", "JC record before any JB record", r);
                }
            }
            "JD" => {
                let ed = cx.date(r, 4, 9, "entry date");
                let vals = [
                    cx.num(r, 10, 21, "liquidated duty"),
                    cx.num(r, 22, 33, "liquidated tax"),
                    cx.num(r, 34, 45, "liquidated fees"),
                    cx.num(r, 46, 57, "interest"),
                    cx.num(r, 58, 69, "AD/CVD"),
                ];
                if let Some((
                    _,
                    FactKind::Liquidation {
                        entry_date,
                        duty_cents,
                        tax_cents,
                        fees_cents,
                        interest_cents,
                        adcvd_cents,
                        reasons,
                        ..
                    },
                    _,
                )) = cur.as_mut()
                {
                    *entry_date = ed;
                    [*duty_cents, *tax_cents, *fees_cents, *interest_cents, *adcvd_cents] = vals;
                    *reasons =
                        (0..3).map(|k| r.f(70 + 2 * k, 71 + 2 * k).to_string()).filter(|c| !c.is_empty()).collect();
                } else {
                    cx.err("I208", "JD record before any JB record", r);
                }
            }
            "JE" | "JF" | "JK" | "JM" | "JZ" => {}
            other => cx.err("I211", format!("record {other:?} in an ER block"), r),
        }
    }
    emit(cx, cur.take());
}
