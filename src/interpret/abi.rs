//! ABI (CATAIR 80-column) messages → facts: AE (and approved AE-format pre-entries), AX, UC, SO, PF, MS, ER.
//!
//! Consumes the typed records of the grammar-driven reader ([`crate::parse::abi::read`]): every value is
//! read by the field name `grammars/abi/*.toml` declares, never by column position (design principle 1).
//! The same pass validates the file (classes, dates, grouping, envelope: `ABIEnnn`); a file with an
//! error yields no facts. This module gives the records their meaning.
//!
//! Diagnostics: `I202` block before any A batch header, `I204` bad entry number, `I205` bad number,
//! `I206` bad date, `I207` unsupported application, `I208` record before its header record (e.g. 50
//! before 40), `I209` no Z trailer, `I210` B/Y mismatch or missing Y, `I211` unknown record for its
//! application, `I212` ACE system failure (warning), `I213` the grammar lacks a field this module reads,
//! `I240` an ER summary group lacks a record the structure map makes mandatory (warning), `I241` an ER
//! JZ returned condition (warning).

use super::codes::lookup;
use super::{FileContext, Interpretation, MonthlyLink};
use crate::config::Role;
use crate::domain::{Fact, FactKind, Line, PreEntry, PreEntryLine, Summary, Tariff};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::parse::abi::{self, AbiEvent, Record, Value};
use crate::parse::error::{Diagnostic, Position};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Fee class / amount field pairs of the repeating fee records (AE 89, PF/MS QA).
const FEE_PAIRS: [(&str, &str); 5] = [
    ("fee_class_1", "fee_amount_1"),
    ("fee_class_2", "fee_amount_2"),
    ("fee_class_3", "fee_amount_3"),
    ("fee_class_4", "fee_amount_4"),
    ("fee_class_5", "fee_amount_5"),
];
/// ER JC extension/suspension codes.
const EXT_SUSP_CODES: [&str; 4] = ["extension_code_1", "extension_code_2", "extension_code_3", "extension_code_4"];
/// ER JD liquidation reasons.
const LIQUIDATION_REASONS: [&str; 3] = ["liquidation_reason_1", "liquidation_reason_2", "liquidation_reason_3"];

/// Where a record is in the file (kept after the record itself is gone).
#[derive(Debug, Clone, Copy)]
struct Place {
    line: usize,
    byte: usize,
    index: usize,
}

impl Place {
    fn of(r: &Record<'_>) -> Place {
        Place { line: r.line, byte: r.byte, index: r.index }
    }
    fn pos(self) -> Position {
        Position { line: self.line, byte: self.byte, segment: None, record: Some(self.index) }
    }
}

fn hhmm(s: &str) -> Option<NaiveTime> {
    if s.len() != 4 {
        return None;
    }
    NaiveTime::from_hms_opt(s.get(0..2)?.parse().ok()?, s.get(2..4)?.parse().ok()?, 0)
}

/// Digits possibly preceded by spaces and a sign (a number held in a text-class field). Blank → 0.
fn num_text(s: &str) -> Option<i64> {
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
    /// Findings of a transaction that names no entry (MS statement items), until its
    /// application's block state takes them.
    loose: Vec<String>,
}

impl Cx<'_, '_> {
    fn err(&mut self, code: &str, msg: impl Into<String>, at: Place) {
        self.out.diagnostics.push(Diagnostic::error(code, msg, at.pos()));
    }
    /// Something wrong inside a message that is still applied (docs/abi.md, "CBP's word is
    /// never dropped"): a warning, and a finding on the entry.
    fn warn(&mut self, code: &str, msg: impl Into<String>, at: Place) {
        self.out.diagnostics.push(Diagnostic::warning(code, msg, at.pos()));
    }
    fn missing(&mut self, r: &Record<'_>, field: &str) {
        self.err("I213", format!("record {} has no field {field:?} in the grammar", r.name), Place::of(r));
    }
    /// A field as trimmed text ("" when blank).
    fn text<'r>(&mut self, r: &'r Record<'_>, field: &str) -> &'r str {
        match r.raw(field) {
            Some(raw) => std::str::from_utf8(raw).map(str::trim).unwrap_or(""),
            None => {
                self.missing(r, field);
                ""
            }
        }
    }
    fn string(&mut self, r: &Record<'_>, field: &str) -> String {
        self.text(r, field).to_string()
    }
    fn date(&mut self, r: &Record<'_>, field: &str, what: &str) -> Option<NaiveDate> {
        match r.value(field) {
            Some(Value::Date(d)) => Some(d),
            Some(Value::Blank) => None,
            Some(_) => {
                let raw = String::from_utf8_lossy(r.raw(field).unwrap_or_default()).into_owned();
                self.warn("I206", format!("{what} {raw:?} ({field}) is not a date MMDDYY"), Place::of(r));
                None
            }
            None => {
                self.missing(r, field);
                None
            }
        }
    }
    /// A numeric field in its implied-decimal units (cents for 2 decimals). Blank → 0.
    fn num(&mut self, r: &Record<'_>, field: &str, what: &str) -> i64 {
        let v = match r.value(field) {
            Some(Value::Int(i)) => i64::try_from(i).ok(),
            Some(Value::Decimal(d)) => i64::try_from(d.units).ok(),
            Some(Value::Blank) => Some(0),
            Some(Value::Text(t)) => num_text(t),
            Some(Value::Date(_) | Value::Invalid(_)) => None,
            None => {
                self.missing(r, field);
                return 0;
            }
        };
        v.unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(r.raw(field).unwrap_or_default()).into_owned();
            self.warn("I205", format!("{what} {raw:?} ({field}) is not a number"), Place::of(r));
            0
        })
    }
    fn entry(&mut self, r: &Record<'_>, filer: &str, number: &str) -> Option<EntryNumber> {
        let (f, n) = (self.text(r, filer), self.text(r, number));
        match EntryNumber::from_parts(f, n) {
            Ok(e) => Some(e),
            Err(e) => {
                self.err("I204", e.to_string(), Place::of(r));
                None
            }
        }
    }
    fn day(&self) -> NaiveDateTime {
        self.batch_date.map_or(self.ctx.received, |d| d.and_time(NaiveTime::MIN))
    }
    fn push(&mut self, e: EntryNumber, at: NaiveDateTime, kind: FactKind, place: Place) {
        let source = self.ctx.source(place.line, place.index);
        self.out.facts.push((e, Fact { at, kind, source }));
    }
}

/// What a block's records add up to while the block is read.
enum Block {
    Ae(Ae),
    Ax(Ax),
    Uc(Uc),
    So(So),
    Pf(Pf),
    Ms(Ms),
    Er(Er),
    /// An application entrywatch does not interpret (reported at the B-record).
    Skip,
}

impl Block {
    fn start(cx: &mut Cx<'_, '_>, b: &Record<'_>, app: &str) -> Block {
        match app {
            "AE" => Block::Ae(Ae::default()),
            "AX" => Block::Ax(Ax::default()),
            "UC" => Block::Uc(Uc::default()),
            "SO" => Block::So(So::default()),
            "PF" => Block::Pf(Pf::start(cx, b)),
            "MS" => Block::Ms(Ms::start(cx, b)),
            "ER" => Block::Er(Er::default()),
            other => {
                cx.err("I207", format!("application {other:?} is not interpreted by entrywatch"), Place::of(b));
                Block::Skip
            }
        }
    }
    fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        match self {
            Block::Ae(s) => s.record(cx, r),
            Block::Ax(s) => s.record(cx, r),
            Block::Uc(s) => s.record(cx, r),
            Block::So(s) => s.record(cx, r),
            Block::Pf(s) => s.record(cx, r),
            Block::Ms(s) => s.record(cx, r),
            Block::Er(s) => s.record(cx, r),
            Block::Skip => {}
        }
    }
    fn finish(self, cx: &mut Cx<'_, '_>) {
        match self {
            Block::Ae(s) => s.finish(cx),
            Block::Uc(s) => s.finish(cx),
            Block::Pf(s) => s.finish(cx),
            Block::Ms(s) => s.finish(cx),
            Block::Er(s) => s.finish(cx),
            Block::Ax(_) | Block::So(_) | Block::Skip => {}
        }
    }
}

/// An open block: its state, application, B-record place, and how much output preceded it.
struct Open {
    block: Block,
    app: String,
    b: Place,
    marks: (usize, usize, usize),
}

/// Interpret an ABI file in one pass of the reader. When the reader finds an error the result holds
/// only the reader's diagnostics (no facts); otherwise the facts, this module's diagnostics, then the
/// reader's (warnings).
pub fn interpret(bytes: &[u8], ctx: &FileContext<'_>, grammars: &Grammars) -> Interpretation {
    let mut cx = Cx { ctx, grammars, out: Interpretation::default(), batch_date: None, loose: Vec::new() };
    let mut open: Option<Open> = None;
    let (mut saw_a, mut saw_z, mut stop) = (false, false, false);
    let mut untied = 0usize;
    let mut last = Place { line: 1, byte: 0, index: 1 };
    let read = abi::read(bytes, grammars, &mut |ev| {
        if stop {
            return;
        }
        match ev {
            AbiEvent::BatchStart(a) => {
                last = Place::of(a);
                saw_a = true;
                saw_z = false;
                cx.batch_date = cx.date(a, "transmission_date", "transmission date");
            }
            AbiEvent::BatchEnd(z) => {
                if let Some(z) = z {
                    last = Place::of(z);
                    saw_z = true;
                }
            }
            AbiEvent::BlockStart(b) => {
                last = Place::of(b);
                if !saw_a {
                    cx.err("I202", "an ABI file starts with an A batch header record", Place::of(b));
                    stop = true;
                    return;
                }
                let app = cx.string(b, "application_id");
                let marks = (cx.out.facts.len(), cx.out.monthly.len(), cx.out.diagnostics.len());
                let block = Block::start(&mut cx, b, &app);
                open = Some(Open { block, app, b: Place::of(b), marks });
            }
            AbiEvent::Transaction(t) => {
                if let Some(r) = t.records.last() {
                    last = Place::of(r);
                }
                if !t.ok() {
                    // The reader keeps errors only in a transaction that cannot be tied to an
                    // entry: nothing in it can be applied.
                    untied += 1;
                    return;
                }
                let mark = cx.out.diagnostics.len();
                let facts_before = cx.out.facts.len();
                // A record without a layout was kept verbatim and reported by the reader (ABIE010).
                for r in t.records.iter().filter(|r| r.def.is_some()) {
                    if let Some(o) = open.as_mut() {
                        o.block.record(&mut cx, r);
                    }
                }
                findings(&mut cx, t, mark, facts_before);
            }
            AbiEvent::BlockEnd(y) => {
                let Some(o) = open.take() else { return };
                match y {
                    Some(y) => {
                        last = Place::of(y);
                        o.block.finish(&mut cx);
                        let y_app = cx.string(y, "application_id");
                        if y_app != o.app {
                            cx.err("I210", format!("block {} ends with a Y for {y_app:?}", o.app), Place::of(y));
                        }
                    }
                    None => {
                        // A block cut short is not interpreted at all, nor anything after it.
                        cx.out.facts.truncate(o.marks.0);
                        cx.out.monthly.truncate(o.marks.1);
                        cx.out.diagnostics.truncate(o.marks.2);
                        cx.err("I210", format!("block {} has no Y trailer", o.app), o.b);
                        stop = true;
                    }
                }
            }
        }
    });
    let envelope_broken = read.iter().any(|d| d.is_error() && envelope_fault(&d.code));
    let applied = !cx.out.facts.is_empty() || !cx.out.monthly.is_empty();
    if envelope_broken || (untied > 0 && !applied) {
        // A broken envelope, or nothing in the file can be tied to an entry: no facts, only
        // what the reader found (the file is quarantined).
        return Interpretation { diagnostics: read, ..Interpretation::default() };
    }
    if saw_a && !saw_z {
        cx.err("I209", "the batch has no Z trailer (truncated file?)", last);
    }
    if untied > 0 {
        cx.warn(
            "I214",
            format!("{untied} transaction(s) could not be tied to an entry and were not applied (see the warnings)"),
            Place { line: 1, byte: 0, index: 1 },
        );
    }
    // The rest of the file is applied: what the reader found in an untied transaction is a warning.
    cx.out.diagnostics.extend(read.into_iter().map(|mut d| {
        d.severity = crate::parse::error::Severity::Warning;
        d
    }));
    cx.out
}

/// Reader codes about the file's envelope or framing (a record longer than 80 columns or with a
/// control byte in it): these make a file unreadable as a whole (docs/abi.md). Every other
/// reader finding is about one transaction.
fn envelope_fault(code: &str) -> bool {
    matches!(
        code,
        "ABIE001"
            | "ABIE003"
            | "ABIE004"
            | "ABIE041"
            | "ABIE042"
            | "ABIE044"
            | "ABIE045"
            | "ABIE046"
            | "ABIE047"
            | "ABIE048"
            | "ABIE049"
    )
}

/// Reader and interpreter codes that are a finding about what a message says (not about its
/// framing): these reach the entry as a `finding` fact and one alert. I211 (a record the
/// grammar knows but this module does not use) is not one: it is about entrywatch, not CBP;
/// nor is ABIE024 (punctuation in an A/AN field, common in broker data and harmless).
fn is_finding(code: &str) -> bool {
    matches!(
        code,
        "ABIE003"
            | "ABIE004"
            | "ABIE010"
            | "ABIE011"
            | "ABIE012"
            | "ABIE013"
            | "ABIE020"
            | "ABIE021"
            | "ABIE022"
            | "ABIE025"
            | "I204"
            | "I205"
            | "I206"
            | "I208"
            | "I215"
    )
}

/// The findings of one applied transaction (the reader's and this module's since `mark`) as one
/// `finding` fact on its entry, so that `entry` shows them in words and one alert goes out.
fn findings(cx: &mut Cx<'_, '_>, t: &abi::Transaction<'_>, mark: usize, facts_before: usize) {
    let entry = t.entry.clone().or_else(|| cx.out.facts.get(facts_before).map(|(e, _)| e.clone()));
    let line =
        |d: &Diagnostic| format!("line {}, record {}: {} ({})", d.line, d.record.unwrap_or(0), d.message, d.code);
    let notes: Vec<String> = t
        .diagnostics
        .iter()
        .chain(cx.out.diagnostics.get(mark..).unwrap_or_default())
        .filter(|d| is_finding(&d.code))
        .map(line)
        .collect();
    if notes.is_empty() {
        return;
    }
    let Some(e) = entry else {
        cx.loose.extend(notes);
        return;
    };
    let place = t.records.first().map_or(Place { line: 1, byte: 0, index: 1 }, Place::of);
    let at = cx.day();
    let kind = FactKind::Finding { application: t.application.clone(), notes };
    cx.push(e, at, kind, place);
}

/// AE: entry summaries as filed, or (on an `approved` inbox) approved pre-entries.
#[derive(Default)]
struct Ae {
    cur: Option<(EntryNumber, Summary, Place)>,
}

impl Ae {
    fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        if r.name == "10" {
            self.finish_one(cx);
            let Some(e) = cx.entry(r, "filer_code", "entry_number") else { return };
            let (fta, issue) = (cx.text(r, "recon_indicator"), cx.string(r, "recon_issue_code"));
            let s = Summary {
                action: cx.string(r, "action_code"),
                port: cx.string(r, "port_of_entry"),
                broker_ref: cx.string(r, "broker_reference"),
                entry_type: cx.string(r, "entry_type"),
                mode_of_transport: cx.string(r, "mode_of_transport"),
                payment_type: cx.string(r, "payment_type"),
                statement_print_date: cx.date(r, "statement_print_date", "preliminary statement print date"),
                psc: cx.text(r, "psc_indicator") == "Y",
                reconciliation: reconciliation_flag(fta, &issue),
                recon_fta: fta == "Y",
                recon_issue: issue,
                // 10-record position 42, Consolidated Summary Indicator (02, usage note z).
                consolidated: cx.text(r, "consolidated_summary") == "Y",
                ..Summary::default()
            };
            self.cur = Some((e, s, Place::of(r)));
            return;
        }
        if self.cur.is_none() {
            cx.warn("I208", format!("record {:?} before any 10 record", r.name), Place::of(r));
            return;
        }
        match r.name {
            "11" => {
                let importer = cx.string(r, "importer_number");
                let ed = cx.date(r, "estimated_entry_date", "estimated entry date");
                let id = cx.date(r, "import_date", "date of importation");
                if let Some((_, s, _)) = self.cur.as_mut() {
                    s.importer = importer;
                    s.entry_date = ed;
                    s.import_date = id;
                }
            }
            "40" => {
                let n = cx.text(r, "line_number").parse::<u32>().unwrap_or(0);
                let line = Line {
                    line: n,
                    country_of_origin: cx.string(r, "country_of_origin"),
                    country_of_export: cx.string(r, "country_of_export"),
                    spi: cx.string(r, "spi"),
                    ..Line::default()
                };
                if let Some((_, s, _)) = self.cur.as_mut() {
                    s.lines.push(line);
                }
            }
            "50" => {
                let t = Tariff {
                    hts: cx.string(r, "hts_number"),
                    duty_cents: cx.num(r, "duty_amount", "duty amount"),
                    value_usd: cx.num(r, "entered_value", "value"),
                    quantity_hundredths: cx.num(r, "quantity_1", "quantity 1"),
                    uom: cx.string(r, "uom_1"),
                };
                match self.cur.as_mut().and_then(|(_, s, _)| s.lines.last_mut()) {
                    Some(l) => l.tariffs.push(t),
                    None => cx.warn("I208", "50 record before any 40 record", Place::of(r)),
                }
            }
            // 23-record (02-entry-summary-create-update, page 44): M/H/S are master, house and
            // sub-house bills; I is an in-bond number, not a bill, and is not a link.
            "23" => {
                let kind = cx.string(r, "manifest_component_type_code");
                let bill =
                    bill_ref(cx.text(r, "manifest_component_issuer_code"), cx.text(r, "manifest_component_identifier"));
                if matches!(kind.as_str(), "M" | "H" | "S") && !bill.is_empty() {
                    if let Some((_, s, _)) = self.cur.as_mut() {
                        if !s.bills.contains(&bill) {
                            s.bills.push(bill);
                        }
                    }
                }
            }
            // SE17-record Equipment Number 5-24 (02-entry-summary-create-update, page 47).
            "SE17" => {
                let c = bill_ref("", cx.text(r, "equipment_number"));
                if let Some((_, s, _)) = self.cur.as_mut() {
                    if !c.is_empty() && !s.containers.contains(&c) {
                        s.containers.push(c);
                    }
                }
            }
            // 47-record (02-entry-summary-create-update, page 78): type M is the manufacturer/
            // supplier ID of the line; C, S and E are other parties.
            "47" if cx.text(r, "article_party_type_code") == "M" => {
                let mid = bill_ref("", cx.text(r, "article_party_identifier"));
                match self.cur.as_mut().and_then(|(_, s, _)| s.lines.last_mut()) {
                    Some(l) => l.manufacturer_id = mid,
                    None => cx.warn("I208", "47 record before any 40 record", Place::of(r)),
                }
            }
            "62" => {
                let amt = cx.num(r, "fee_amount", "user fee amount");
                let class = cx.string(r, "fee_class");
                match self.cur.as_mut().and_then(|(_, s, _)| s.lines.last_mut()) {
                    Some(l) => *l.fees.entry(class).or_insert(0) += amt,
                    None => cx.warn("I208", "62 record before any 40 record", Place::of(r)),
                }
            }
            "89" => {
                for (class_field, amount_field) in FEE_PAIRS {
                    let class = cx.string(r, class_field);
                    if class.is_empty() {
                        continue;
                    }
                    let amt = cx.num(r, amount_field, "fee total");
                    if let Some((_, s, _)) = self.cur.as_mut() {
                        *s.fee_totals.entry(class).or_insert(0) += amt;
                    }
                }
            }
            "90" => {
                let duty = cx.num(r, "total_duty", "total duty");
                let fees = cx.num(r, "total_user_fees", "total user fees");
                // 90-record Total IR Tax 27-37, Total AD Duty 39-49, Total CV Duty 51-61: the
                // liquidation-increase check compares them with ER JD (docs/variance.md).
                let tax = cx.num(r, "total_ir_tax", "total IR tax");
                let adcvd = cx.num(r, "total_ad_duty", "total AD duty") + cx.num(r, "total_cv_duty", "total CV duty");
                if let Some((_, s, _)) = self.cur.as_mut() {
                    s.total_duty_cents = duty;
                    s.total_fees_cents = fees;
                    s.total_tax_cents = Some(tax);
                    s.total_adcvd_cents = Some(adcvd);
                }
            }
            _ => {}
        }
    }

    fn finish_one(&mut self, cx: &mut Cx<'_, '_>) {
        let Some((e, s, place)) = self.cur.take() else { return };
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
                        manufacturer_id: l.manufacturer_id.clone(),
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
            cx.push(e, at, FactKind::PreEntryApproved { pre_entry: pre }, place);
        } else {
            cx.push(e, at, FactKind::SummaryFiled { summary: s }, place);
        }
    }

    fn finish(mut self, cx: &mut Cx<'_, '_>) {
        self.finish_one(cx);
    }
}

/// A bill or container reference as one upper-case token: the issuer code (SCAC) and the
/// number joined, unless the number already starts with the issuer (spaces dropped).
pub fn bill_ref(issuer: &str, number: &str) -> String {
    let clean = |x: &str| x.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    let (i, n) = (clean(issuer), clean(number));
    if n.is_empty() {
        return String::new();
    }
    if n.starts_with(&i) {
        n
    } else {
        format!("{i}{n}")
    }
}

/// The 10-record reconciliation flag: trade-agreement indicator and issue code.
fn reconciliation_flag(fta: &str, issue: &str) -> String {
    match (fta == "Y", issue.is_empty()) {
        (true, true) => "FTA".into(),
        (true, false) => format!("FTA {issue}"),
        (false, _) => issue.to_string(),
    }
}

/// AX: entry summary responses (accepted, rejected with its conditions, deleted).
#[derive(Default)]
struct Ax {
    current: Option<EntryNumber>,
    conditions: Vec<(String, String)>,
}

impl Ax {
    fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        match r.name {
            // The E0 SUMMRY layout (the grammar selects it by its reference type).
            "E0" => {
                self.current = cx.entry(r, "filer_code", "entry_number");
                self.conditions.clear();
            }
            "E0-REF" => {}
            "E1" => {
                let disp = cx.string(r, "disposition_code");
                let cond = cx.string(r, "condition_code");
                let narrative = cx.string(r, "narrative");
                if cond == "ZZZ" {
                    cx.out.diagnostics.push(Diagnostic::warning(
                        "I212",
                        "ACE SYSTEM FAILURE: not processed, retransmit",
                        Place::of(r).pos(),
                    ));
                    return;
                }
                if disp.is_empty() {
                    // A condition: its code is one of the Error Dictionary's (ax_conditions).
                    let known = cx.grammars.codes.get("ax_conditions", &cond);
                    if known.is_none() && !cond.is_empty() {
                        cx.warn(
                            "I215",
                            format!("E1 condition_code: code {cond} is not in ax_conditions; meaning unknown"),
                            Place::of(r),
                        );
                    }
                    let narrative = match (narrative.is_empty(), known) {
                        (true, Some(c)) => c.meaning.clone(),
                        _ => narrative,
                    };
                    self.conditions.push((cond, narrative));
                    return;
                }
                // The E1's own entry number when it has a good one, else the E0 SUMMRY's.
                let own = match (cx.text(r, "filer_code"), cx.text(r, "entry_number")) {
                    (_, "") => None,
                    (f, n) => match EntryNumber::from_parts(f, n) {
                        Ok(e) => Some(e),
                        Err(err) => {
                            cx.warn("I204", format!("E1 entry number: {err}; the E0 SUMMRY's is used"), Place::of(r));
                            None
                        }
                    },
                };
                let Some(e) = own.or_else(|| self.current.clone()) else {
                    cx.err("I204", "final disposition without an entry number", Place::of(r));
                    return;
                };
                let version = cx.string(r, "version_number");
                let at = cx.day();
                let kind = if narrative.contains("DELETED") {
                    FactKind::SummaryDeleted { version }
                } else if disp == "A" {
                    FactKind::SummaryAccepted { version, condition: cond, narrative }
                } else {
                    let mut c = std::mem::take(&mut self.conditions);
                    c.push((cond, narrative));
                    FactKind::SummaryRejected { version, conditions: c }
                };
                cx.push(e, at, kind, Place::of(r));
            }
            other => cx.warn("I211", format!("record {other:?} in an AX block"), Place::of(r)),
        }
    }
}

/// UC: entry summary status notifications (notice with its remarks).
#[derive(Default)]
struct Uc {
    cur: Option<(EntryNumber, NaiveDateTime, FactKind, Place)>,
}

impl Uc {
    fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        match r.name {
            "E1" => {
                self.finish_one(cx);
                let Some(e) = cx.entry(r, "filer_code", "entry_number") else { return };
                let at = cx.date(r, "action_date", "date of action").map_or(cx.day(), |d| d.and_time(NaiveTime::MIN));
                let narrative = cx.string(r, "narrative");
                let disposition = cx.string(r, "disposition_code");
                let kind = FactKind::Notice {
                    disposition: disposition.clone(),
                    reason: cx.string(r, "reason_code"),
                    line: cx.string(r, "line_number"),
                    remarks: Some(narrative).filter(|n| !n.is_empty()).into_iter().collect(),
                    effect: lookup(cx.grammars, "uc", &disposition).effect,
                };
                self.cur = Some((e, at, kind, Place::of(r)));
            }
            "E3" => {
                let text = cx.string(r, "remarks");
                if let Some((_, _, FactKind::Notice { remarks, .. }, _)) = self.cur.as_mut() {
                    remarks.push(text);
                }
            }
            "E2" | "E4" | "SO70" | "SO71" | "SO72" => {}
            other => cx.warn("I211", format!("record {other:?} in a UC block"), Place::of(r)),
        }
    }

    fn finish_one(&mut self, cx: &mut Cx<'_, '_>) {
        if let Some((e, at, k, place)) = self.cur.take() {
            cx.push(e, at, k, place);
        }
    }

    fn finish(mut self, cx: &mut Cx<'_, '_>) {
        self.finish_one(cx);
    }
}

/// SO: cargo release status (header, SO50/SO60 CBP dispositions, SO70 PGA statuses).
#[derive(Default)]
struct So {
    current: Option<EntryNumber>,
}

/// The fields of one disposition layout.
struct DispositionFields {
    list: &'static str,
    date: &'static str,
    time: &'static str,
    code: &'static str,
    agency: Option<&'static str>,
}

const SO50: DispositionFields = DispositionFields {
    list: "so50",
    date: "disposition_date",
    time: "disposition_time",
    code: "disposition_code",
    agency: None,
};
const SO60: DispositionFields = DispositionFields { list: "so60", ..SO50 };
const SO70: DispositionFields = DispositionFields {
    list: "so70",
    date: "status_date",
    time: "status_time",
    code: "pga_status",
    agency: Some("agency_code"),
};

impl So {
    fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        let name = r.name;
        if name == "SO10" {
            self.current = cx.entry(r, "filer_code", "entry_number");
            if let Some(e) = self.current.clone() {
                let at = cx.day();
                let kind = FactKind::CargoHeader {
                    port: cx.string(r, "port_of_entry"),
                    entry_type: cx.string(r, "entry_type"),
                    importer: cx.string(r, "importer_number"),
                };
                cx.push(e, at, kind, Place::of(r));
            }
            return;
        }
        if name == "SO40" {
            // SO40 (04b, page 51, WO40 mirror): the bill the notification is about; kept as a
            // link to the other entries on the same bill (docs/affected.md).
            let bill = bill_ref(cx.text(r, "bill_issuer"), cx.text(r, "bill_number"));
            match self.current.clone() {
                Some(e) if !bill.is_empty() => {
                    let at = cx.day();
                    cx.push(e, at, FactKind::CargoRefs { bills: vec![bill], containers: Vec::new() }, Place::of(r));
                }
                Some(_) => {}
                None => cx.warn("I208", "SO40 before any SO10 record", Place::of(r)),
            }
            return;
        }
        let f = match name {
            "SO50" => &SO50,
            "SO60" => &SO60,
            "SO70" => &SO70,
            _ => {
                if !name.starts_with("SO") {
                    cx.warn("I211", format!("record {name:?} in an SO block"), Place::of(r));
                }
                return;
            }
        };
        let Some(e) = self.current.clone() else {
            cx.warn("I208", format!("{name} before any SO10 record"), Place::of(r));
            return;
        };
        let agency = f.agency.map(|a| cx.string(r, a)).unwrap_or_default();
        let day = cx.date(r, f.date, "date");
        let at = match (day, hhmm(cx.text(r, f.time))) {
            (Some(d), Some(t)) => d.and_time(t),
            (Some(d), None) => d.and_time(NaiveTime::MIN),
            _ => cx.day(),
        };
        let code = cx.string(r, f.code);
        let m = lookup(cx.grammars, f.list, &code);
        let agency = if agency.is_empty() { m.agency.clone().unwrap_or_else(|| "CBP".into()) } else { agency };
        let mut removes = m.removes.clone();
        let (mut release_date, mut release_origin) = (None, String::new());
        if f.list == "so60" && m.effect == crate::grammar::codes::Effect::Released {
            release_date = cx.date(r, "release_date", "release date");
            release_origin = cx.string(r, "release_origin");
            // What the release lifts: CBP's own SO60 holds the code list names (98: 99, 96, 90;
            // 04b, page 56, WO60 Note 1), plus what its release origin's code names
            // (release_origins.toml: 05 "intensive exam completed" lifts the 03 exam).
            let by_origin = cx.grammars.codes.get("release_origins", &release_origin).map(|o| o.removes.clone());
            for c in by_origin.unwrap_or_default() {
                if !removes.contains(&c) {
                    removes.push(c);
                }
            }
        }
        let narrative = match cx.text(r, "narrative") {
            "" => m.meaning.clone(),
            n => n.to_string(),
        };
        let kind = FactKind::Disposition {
            list: f.list.to_string(),
            code,
            agency,
            effect: m.effect,
            removes,
            narrative,
            release_date,
            release_origin,
        };
        cx.push(e, at, kind, Place::of(r));
    }
}

/// The statement fields of a PF/MS B-record.
struct StatementBlock {
    final_statement: bool,
    number: String,
}

impl StatementBlock {
    fn of(cx: &mut Cx<'_, '_>, b: &Record<'_>) -> StatementBlock {
        StatementBlock {
            final_statement: cx.text(b, "statement_status") == "F",
            number: cx.string(b, "statement_number"),
        }
    }
}

/// PF: daily statements (one fact per statement entry, with its fees).
struct Pf {
    head: StatementBlock,
    print_date: Option<NaiveDate>,
    payment_type: String,
    cur: Option<(EntryNumber, FactKind, Place)>,
}

impl Pf {
    fn start(cx: &mut Cx<'_, '_>, b: &Record<'_>) -> Pf {
        let head = StatementBlock::of(cx, b);
        let print_date = cx.date(b, "statement_print_date", "statement print date");
        let payment_type = cx.string(b, "payment_type");
        Pf { head, print_date, payment_type, cur: None }
    }

    fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        match r.name {
            "Q1" => {
                self.finish_one(cx);
                let Some(e) = cx.entry(r, "filer_code", "entry_number") else { return };
                let print = cx.date(r, "statement_print_date", "print date").or(self.print_date);
                let duty = cx.num(r, "duty_amount", "estimated duty");
                let tax = cx.num(r, "tax_amount", "estimated tax");
                let kind = FactKind::Statement {
                    number: self.head.number.clone(),
                    final_statement: self.head.final_statement,
                    print_date: print,
                    due: None,
                    duty_cents: duty,
                    tax_cents: tax,
                    fees_cents: 0,
                    payment_type: self.payment_type.clone(),
                    monthly: None,
                };
                self.cur = Some((e, kind, Place::of(r)));
            }
            "QA" => {
                let mut total = 0;
                for (class_field, amount_field) in FEE_PAIRS {
                    if cx.text(r, class_field).is_empty() {
                        continue;
                    }
                    total += cx.num(r, amount_field, "fee amount");
                }
                if let Some((_, FactKind::Statement { fees_cents, .. }, _)) = self.cur.as_mut() {
                    *fees_cents += total;
                }
            }
            "Q2" | "Q3" | "Q4" | "Q5" | "Q6" | "Q7" | "QE" | "QJ" => {}
            other => cx.warn("I211", format!("record {other:?} in a PF block"), Place::of(r)),
        }
    }

    fn finish_one(&mut self, cx: &mut Cx<'_, '_>) {
        push_dated(cx, self.cur.take());
    }

    fn finish(mut self, cx: &mut Cx<'_, '_>) {
        self.finish_one(cx);
    }
}

/// MS: periodic monthly statements (links from the daily statements they list).
struct Ms {
    head: StatementBlock,
    due: Option<NaiveDate>,
    dailies: Vec<(String, Place, Vec<String>)>,
}

impl Ms {
    fn start(cx: &mut Cx<'_, '_>, b: &Record<'_>) -> Ms {
        Ms { head: StatementBlock::of(cx, b), due: None, dailies: Vec::new() }
    }

    fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        match r.name {
            "Q1" => {
                self.take_loose(cx);
                let daily = cx.string(r, "daily_statement_number");
                self.dailies.push((daily, Place::of(r), Vec::new()));
            }
            "Q3" | "Q5" => {
                if self.head.number.is_empty() {
                    self.head.number = cx.string(r, "statement_number");
                }
                // 05b, pages 11 and 15: the PMS due date; the final grouping (Q5, Q6, QJ) is
                // sent only on the final, paid statement (05b, page 5).
                let due = cx.date(r, "statement_due_date", "PMS due date");
                if r.name == "Q5" {
                    self.head.final_statement = true;
                    self.due = due.or(self.due);
                } else if self.due.is_none() {
                    self.due = due;
                }
            }
            "Q2" | "Q4" | "Q6" | "Q7" | "QA" | "QE" | "QJ" => {}
            other => cx.warn("I211", format!("record {other:?} in an MS block"), Place::of(r)),
        }
    }

    /// Findings of the statement transactions read so far (they name no entry) go with the
    /// last daily statement listed.
    fn take_loose(&mut self, cx: &mut Cx<'_, '_>) {
        if let Some(d) = self.dailies.last_mut() {
            d.2.append(&mut cx.loose);
        }
    }

    fn finish(mut self, cx: &mut Cx<'_, '_>) {
        let at = cx.day();
        self.take_loose(cx);
        for (daily, place, findings) in self.dailies {
            let source = cx.ctx.source(place.line, place.index);
            cx.out.monthly.push(MonthlyLink {
                daily_number: daily,
                monthly_number: self.head.number.clone(),
                due: self.due,
                final_statement: self.head.final_statement,
                at,
                source,
                findings,
            });
        }
    }
}

/// ER summary group records the structure map makes "M" (Reporting Mandatory), with the map's
/// own words (03-entry-summary-query, page 24, Output Record Structure Map). JI is satisfied by
/// its "no bond on file" variant too.
const ER_MANDATORY: [(&str, &str); 7] = [
    ("JC", "Status and Date Information"),
    ("JD", "CBP Review Indicator, Entry Date, Liquidated Duty, Tax, Fee, and Reason Data"),
    ("JE", "Estimated Duty, Tax, Fee, and Interest Data"),
    (
        "JF",
        "Importer of Record, Entry Type, Reject Date, Accelerated Drawback Indicator, Electronic Invoice \
         Indicator, District/Port of Entry, and Entry Summary Filing Date Data",
    ),
    ("JG", "Warehouse Withdrawal, Team, Center ID, and Total Number of Line Items"),
    ("JH", "CBP Form 4811 Reference Number, Preliminary Statement Print Date, and Broker Reference Number Data"),
    ("JI", "Bond and Surety Data"),
];

/// ER: entry summary query output (liquidation status, extensions/suspensions, liquidated amounts;
/// one `Protest` fact per JJ).
#[derive(Default)]
struct Er {
    cur: Option<(EntryNumber, FactKind, Place)>,
    /// Which of [`ER_MANDATORY`] the current summary group has (bit i for entry i).
    seen: u8,
    /// JJ protests of the current summary group.
    protests: Vec<(FactKind, Place)>,
}

impl Er {
    fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        let base = r.name.trim_end_matches("-NOBOND");
        if let Some(i) = ER_MANDATORY.iter().position(|(id, _)| *id == base) {
            self.seen |= 1 << i;
        }
        match r.name {
            "JB" => {
                self.finish_one(cx);
                let Some(e) = cx.entry(r, "filer_code", "entry_number") else { return };
                let date = cx.date(r, "liquidation_date", "liquidation date");
                let kind = FactKind::Liquidation {
                    status_code: cx.string(r, "liquidation_status"),
                    date,
                    ext_susp_codes: Vec::new(),
                    ext_susp: Vec::new(),
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
                self.cur = Some((e, kind, Place::of(r)));
            }
            "JC" => {
                let d = cx.date(r, "extension_date", "extension/suspension date");
                if let Some((_, FactKind::Liquidation { ext_susp_codes, ext_susp, ext_susp_date, protest, .. }, _)) =
                    self.cur.as_mut()
                {
                    *ext_susp_date = d;
                    *protest = cx.string(r, "protest_status");
                    *ext_susp_codes =
                        EXT_SUSP_CODES.iter().map(|f| cx.string(r, f)).filter(|c| !c.is_empty()).collect();
                    // What each code does, from its list (03-entry-summary-query, pages 32-33).
                    *ext_susp = cx.grammars.codes.ext_susp(ext_susp_codes);
                } else {
                    cx.warn("I208", "JC record before any JB record", Place::of(r));
                }
            }
            "JD" => {
                let ed = cx.date(r, "entry_date", "entry date");
                let vals = [
                    cx.num(r, "liquidated_duty", "liquidated duty"),
                    cx.num(r, "liquidated_tax", "liquidated tax"),
                    cx.num(r, "liquidated_fees", "liquidated fees"),
                    cx.num(r, "liquidated_interest", "interest"),
                    cx.num(r, "liquidated_adcvd", "AD/CVD"),
                ];
                let codes: Vec<String> =
                    LIQUIDATION_REASONS.iter().map(|f| cx.string(r, f)).filter(|c| !c.is_empty()).collect();
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
                )) = self.cur.as_mut()
                {
                    *entry_date = ed;
                    [*duty_cents, *tax_cents, *fees_cents, *interest_cents, *adcvd_cents] = vals;
                    *reasons = codes;
                } else {
                    cx.warn("I208", "JD record before any JB record", Place::of(r));
                }
            }
            "JE" => {
                // The estimates are read (and checked) by name; the Liquidation fact carries the
                // liquidated amounts of JD only.
                for (f, what) in [
                    ("estimated_duty", "estimated duty"),
                    ("estimated_tax", "estimated tax"),
                    ("estimated_fees", "estimated fees"),
                    ("estimated_interest", "estimated interest"),
                    ("estimated_adcvd", "estimated AD/CVD"),
                ] {
                    cx.num(r, f, what);
                }
            }
            "JJ" => {
                // Protest data (03, page 43): one Protest fact per JJ, dated with its summary.
                let kind = FactKind::Protest {
                    number: cx.string(r, "protest_number"),
                    protest_type: cx.string(r, "protest_type"),
                    status: cx.string(r, "protest_status"),
                    decided: cx.date(r, "decision_date", "protest decision date"),
                    summons: cx.text(r, "summons") == "1",
                };
                if self.cur.is_some() {
                    self.protests.push((kind, Place::of(r)));
                } else {
                    cx.warn("I208", "JJ record before any JB record", Place::of(r));
                }
            }
            "JZ" => {
                // A returned condition (03, pages 51-52): CBP's word about the query, told as a
                // warning with the entry it names, if any.
                let code = cx.string(r, "condition_code");
                let narrative = cx.string(r, "narrative");
                let entry = match (cx.text(r, "filer_code"), cx.text(r, "entry_number")) {
                    ("", "") => String::new(),
                    (f, n) => {
                        EntryNumber::from_parts(f, n).map_or_else(|_| format!(" for {f} {n}"), |e| format!(" for {e}"))
                    }
                };
                let meaning = cx.grammars.codes.get("er_conditions", &code).map(|c| c.meaning.clone());
                let text = match meaning {
                    Some(m) if narrative.is_empty() => m,
                    _ => narrative,
                };
                cx.warn("I241", format!("ER returned condition {code}{entry}: {text}"), Place::of(r));
            }
            "JA" | "JF" | "JG" | "JH" | "JI" | "JI-NOBOND" | "JK" | "JK-NODATA" | "JL" | "JL-NODATA" | "JM" | "JN"
            | "JN-NODATA" | "4A" => {}
            other if other.starts_with("detail-") => {}
            other => cx.warn("I211", format!("record {other:?} in an ER block"), Place::of(r)),
        }
    }

    fn finish_one(&mut self, cx: &mut Cx<'_, '_>) {
        let seen = std::mem::take(&mut self.seen);
        let protests = std::mem::take(&mut self.protests);
        let Some((e, k, place)) = self.cur.take() else { return };
        for (i, (id, name)) in ER_MANDATORY.iter().enumerate() {
            if seen & (1 << i) == 0 {
                cx.warn(
                    "I240",
                    format!(
                        "the summary group of {e} has no {id} record: the Output Record Structure Map makes \
                         \"{id} {name}\" M (Reporting Mandatory), 1 per entry summary (03-entry-summary-query, page 24)"
                    ),
                    place,
                );
            }
        }
        let at = cx.day();
        cx.push(e.clone(), at, k, place);
        for (p, place) in protests {
            cx.push(e.clone(), at, p, place);
        }
    }

    fn finish(mut self, cx: &mut Cx<'_, '_>) {
        self.finish_one(cx);
    }
}

/// Push a fact collected over several records (PF statement, ER liquidation), dated the file's day.
fn push_dated(cx: &mut Cx<'_, '_>, cur: Option<(EntryNumber, FactKind, Place)>) {
    if let Some((e, k, place)) = cur {
        let at = cx.day();
        cx.push(e, at, k, place);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::{embedded_files, GrammarFile};
    use crate::ingest::sample;

    fn ctx() -> FileContext<'static> {
        let received = NaiveDate::from_ymd_opt(2026, 2, 3).and_then(|d| d.and_hms_opt(9, 0, 0)).unwrap_or_default();
        FileContext { name: "ae.abi", inbox: "broker", role: Role::Broker, sha256: "00", received }
    }

    /// The embedded grammars with `edit` applied to `abi/ae.toml`.
    fn grammars_with_ae(edit: impl Fn(&str) -> String) -> Grammars {
        let files: Vec<GrammarFile> = embedded_files()
            .into_iter()
            .map(|f| if f.path == "abi/ae.toml" { GrammarFile { text: edit(&f.text), path: f.path } } else { f })
            .collect();
        Grammars::from_files(&files).expect("edited grammars load")
    }

    fn filed(out: &Interpretation) -> Vec<&Summary> {
        out.facts
            .iter()
            .filter_map(|(_, f)| match &f.kind {
                FactKind::SummaryFiled { summary } => Some(summary),
                _ => None,
            })
            .collect()
    }

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn summary_read_by_field_name() {
        let g = Grammars::embedded().expect("embedded grammars");
        let out = interpret(&sample::ae("EEE", 1_000_001, "A"), &ctx(), &g);
        // The reader's warnings (short records) come through; nothing from the interpretation.
        assert!(!out.has_errors(), "{:?}", out.diagnostics);
        assert!(out.diagnostics.iter().all(|d| d.code.starts_with("ABIE")), "{:?}", out.diagnostics);
        let s = filed(&out);
        assert_eq!(s.len(), 1);
        let s = s[0];
        assert_eq!((s.action.as_str(), s.port.as_str(), s.broker_ref.as_str()), ("A", "2704", "BR1000001"));
        assert_eq!((s.entry_date, s.import_date), (day(2026, 2, 2), day(2026, 1, 31)));
        assert_eq!(s.statement_print_date, day(2026, 2, 10));
        let l = &s.lines[0];
        assert_eq!((l.line, l.tariffs[0].duty_cents, l.tariffs[0].quantity_hundredths), (1, 165_000, 10_000));
        assert_eq!(l.fees.get("499"), Some(&3464));
        assert_eq!((s.total_duty_cents, s.total_fees_cents), (165_000, 4714));
        assert_eq!(s.fee_totals.get("501"), Some(&1250));
        // 90-record tax and AD/CVD totals (blank: none declared) and the 10-record position 42.
        assert_eq!((s.total_tax_cents, s.total_adcvd_cents, s.consolidated), (Some(0), Some(0), false));
        let text = String::from_utf8(sample::ae("EEE", 1_000_001, "A")).unwrap_or_default();
        let lines: Vec<String> = text
            .lines()
            .map(|l| {
                let l = format!("{l:<80}");
                match l.get(..2) {
                    Some("10") => format!("{}Y{}", &l[..41], &l[42..]),
                    Some("90") => format!("{}00000012345 00000002000 00000000500{}", &l[..26], &l[61..]),
                    _ => l,
                }
            })
            .collect();
        let out = interpret(lines.join("\n").as_bytes(), &ctx(), &g);
        let s = filed(&out)[0];
        assert_eq!((s.total_tax_cents, s.total_adcvd_cents, s.consolidated), (Some(12_345), Some(2_500), true));
    }

    #[test]
    fn a_bad_field_in_a_message_tied_to_an_entry_is_a_finding_not_a_refusal() {
        let g = Grammars::embedded().expect("embedded grammars");
        // A 50-record amount with letters in it (class SN): ABIE021, now a warning; the summary is applied
        // and the finding reaches the entry in words.
        let text = String::from_utf8(sample::ae("EEE", 1_000_001, "A")).unwrap_or_default();
        let bad = text.replace("0000165000", "00001650X0");
        assert_ne!(bad, text);
        let out = interpret(bad.as_bytes(), &ctx(), &g);
        assert!(!out.has_errors(), "{:?}", out.diagnostics);
        assert!(out.diagnostics.iter().any(|d| d.code == "ABIE021"), "{:?}", out.diagnostics);
        assert_eq!(filed(&out).len(), 1);
        let notes: Vec<&Vec<String>> = out
            .facts
            .iter()
            .filter_map(|(_, f)| match &f.kind {
                FactKind::Finding { notes, .. } => Some(notes),
                _ => None,
            })
            .collect();
        assert_eq!(notes.len(), 1);
        assert!(notes[0].iter().any(|n| n.contains("ABIE021") && n.contains("duty_amount")), "{notes:?}");
    }

    #[test]
    fn a_broken_envelope_gives_only_the_reader_diagnostics() {
        let g = Grammars::embedded().expect("embedded grammars");
        let text = String::from_utf8(sample::ae("EEE", 1_000_001, "A")).unwrap_or_default();
        let bad: String = text.lines().filter(|l| !l.starts_with('Y')).map(|l| format!("{l}\n")).collect();
        let out = interpret(bad.as_bytes(), &ctx(), &g);
        assert!(out.facts.is_empty());
        assert!(out.diagnostics.iter().any(|d| d.code == "ABIE044" && d.is_error()), "{:?}", out.diagnostics);
    }

    #[test]
    fn the_grammar_decides_where_a_field_is() {
        // Swap the names of the two adjacent 11-record dates: the interpreter follows the grammar.
        let g = grammars_with_ae(|t| {
            t.replace("\"estimated_entry_date\"", "\"swap\"")
                .replace("\"import_date\"", "\"estimated_entry_date\"")
                .replace("\"swap\"", "\"import_date\"")
        });
        let out = interpret(&sample::ae("EEE", 1_000_001, "A"), &ctx(), &g);
        let s = filed(&out);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].entry_date, s[0].import_date), (day(2026, 1, 31), day(2026, 2, 2)));
    }

    #[test]
    fn a_field_missing_from_the_grammar_is_reported() {
        let g = grammars_with_ae(|t| t.replace("\"recon_issue_code\"", "\"recon_issue\""));
        let out = interpret(&sample::ae("EEE", 1_000_001, "A"), &ctx(), &g);
        let i213: Vec<_> = out.diagnostics.iter().filter(|d| d.code == "I213").collect();
        assert_eq!(i213.len(), 1, "{:?}", out.diagnostics);
        assert!(i213[0].message.contains("recon_issue_code"));
        assert!(out.has_errors());
        assert_eq!(filed(&out).len(), 1);
    }
}
