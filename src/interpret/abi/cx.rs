//! The interpretation context shared by the ABI applications: where a record is, reading a field
//! by its grammar name into text, numbers and dates, and pushing facts and diagnostics.

use crate::domain::{Fact, FactKind};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::interpret::{FileContext, Interpretation};
use crate::parse::abi::{Record, Value};
use crate::parse::error::{Diagnostic, Position};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Fee class / amount field pairs of the repeating fee records (AE 89, PF/MS QA).
pub(super) const FEE_PAIRS: [(&str, &str); 5] = [
    ("fee_class_1", "fee_amount_1"),
    ("fee_class_2", "fee_amount_2"),
    ("fee_class_3", "fee_amount_3"),
    ("fee_class_4", "fee_amount_4"),
    ("fee_class_5", "fee_amount_5"),
];

/// Where a record is in the file (kept after the record itself is gone).
#[derive(Debug, Clone, Copy)]
pub(super) struct Place {
    pub(super) line: usize,
    pub(super) byte: usize,
    pub(super) index: usize,
}

impl Place {
    pub(super) fn of(r: &Record<'_>) -> Place {
        Place { line: r.line, byte: r.byte, index: r.index }
    }
    pub(super) fn pos(self) -> Position {
        Position { line: self.line, byte: self.byte, segment: None, record: Some(self.index) }
    }
}

pub(super) fn hhmm(s: &str) -> Option<NaiveTime> {
    if s.len() != 4 {
        return None;
    }
    NaiveTime::from_hms_opt(s.get(0..2)?.parse().ok()?, s.get(2..4)?.parse().ok()?, 0)
}

/// Digits possibly preceded by spaces and a sign (a number held in a text-class field). Blank → 0.
pub(super) fn num_text(s: &str) -> Option<i64> {
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

pub(super) struct Cx<'a, 'b> {
    pub(super) ctx: &'a FileContext<'b>,
    pub(super) grammars: &'a Grammars,
    pub(super) out: Interpretation,
    pub(super) batch_date: Option<NaiveDate>,
    /// Findings of a transaction that names no entry (MS statement items), until its
    /// application's block state takes them.
    pub(super) loose: Vec<String>,
}

impl Cx<'_, '_> {
    pub(super) fn err(&mut self, code: &str, msg: impl Into<String>, at: Place) {
        self.out.diagnostics.push(Diagnostic::error(code, msg, at.pos()));
    }
    /// Something wrong inside a message that is still applied (docs/abi.md, "CBP's word is
    /// never dropped"): a warning, and a finding on the entry.
    pub(super) fn warn(&mut self, code: &str, msg: impl Into<String>, at: Place) {
        self.out.diagnostics.push(Diagnostic::warning(code, msg, at.pos()));
    }
    pub(super) fn missing(&mut self, r: &Record<'_>, field: &str) {
        self.err("I213", format!("record {} has no field {field:?} in the grammar", r.name), Place::of(r));
    }
    /// A field as trimmed text ("" when blank).
    pub(super) fn text<'r>(&mut self, r: &'r Record<'_>, field: &str) -> &'r str {
        match r.raw(field) {
            Some(raw) => std::str::from_utf8(raw).map(str::trim).unwrap_or(""),
            None => {
                self.missing(r, field);
                ""
            }
        }
    }
    pub(super) fn string(&mut self, r: &Record<'_>, field: &str) -> String {
        self.text(r, field).to_string()
    }
    pub(super) fn date(&mut self, r: &Record<'_>, field: &str, what: &str) -> Option<NaiveDate> {
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
    pub(super) fn num(&mut self, r: &Record<'_>, field: &str, what: &str) -> i64 {
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
    pub(super) fn entry(&mut self, r: &Record<'_>, filer: &str, number: &str) -> Option<EntryNumber> {
        let (f, n) = (self.text(r, filer), self.text(r, number));
        match EntryNumber::from_parts(f, n) {
            Ok(e) => Some(e),
            Err(e) => {
                self.err("I204", e.to_string(), Place::of(r));
                None
            }
        }
    }
    pub(super) fn day(&self) -> NaiveDateTime {
        self.batch_date.map_or(self.ctx.received, |d| d.and_time(NaiveTime::MIN))
    }
    pub(super) fn push(&mut self, e: EntryNumber, at: NaiveDateTime, kind: FactKind, place: Place) {
        let source = self.ctx.source(place.line, place.index);
        self.out.facts.push((e, Fact { at, kind, source }));
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

/// Push a fact collected over several records (PF statement, ER liquidation), dated the file's day.
pub(super) fn push_dated(cx: &mut Cx<'_, '_>, cur: Option<(EntryNumber, FactKind, Place)>) {
    if let Some((e, k, place)) = cur {
        let at = cx.day();
        cx.push(e, at, k, place);
    }
}
