//! Interpretation: parsed messages → domain facts. Knows the meaning of records, never bytes-on-disk or the store.
//!
//! Diagnostic codes: `I2xx` ABI interpretation, `CSVnnn` from the CSV reader,
//! `I1xx` X12 (every code is in [`crate::diag`] and docs/codes.md).

// Untrusted input never panics: index with get(), not [] (exceptions are allowed in place,
// each with its reason).
#![deny(clippy::indexing_slicing)]

pub mod abi;
pub mod codes;
pub mod x12;

use crate::config::Role;
use crate::domain::{Fact, FactKind, PreEntry, PreEntryLine, Source};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::parse::error::{Diagnostic, Position};
use crate::parse::{self, Format};
use chrono::{NaiveDate, NaiveDateTime};

/// The file being interpreted: its identity and the context facts need.
#[derive(Debug, Clone)]
pub struct FileContext<'a> {
    pub name: &'a str,
    pub inbox: &'a str,
    pub role: Role,
    pub sha256: &'a str,
    /// When the file was first processed: the time of facts whose message carries none.
    pub received: NaiveDateTime,
}

impl FileContext<'_> {
    pub fn source(&self, line: usize, record: usize) -> Source {
        Source {
            file: self.name.to_string(),
            inbox: self.inbox.to_string(),
            sha256: self.sha256.to_string(),
            line,
            record,
        }
    }
}

/// A periodic monthly statement listing a periodic daily statement (tied to entries by the store).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MonthlyLink {
    pub daily_number: String,
    pub monthly_number: String,
    pub due: Option<NaiveDate>,
    pub final_statement: bool,
    pub at: NaiveDateTime,
    pub source: Source,
    /// Findings in the statement's records (unknown code or record ...), in words: they reach
    /// each entry on the daily statement as a `finding` fact.
    #[serde(default)]
    pub findings: Vec<String>,
}

/// What a file says.
#[derive(Debug, Default)]
pub struct Interpretation {
    /// Facts about entries, by entry number.
    pub facts: Vec<(EntryNumber, Fact)>,
    /// Approved pre-entries without an entry number (matched by importer + broker reference).
    pub unmatched_pre_entries: Vec<Fact>,
    pub monthly: Vec<MonthlyLink>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Interpretation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Interpret one file's bytes.
pub fn interpret(bytes: &[u8], ctx: &FileContext<'_>, grammars: &Grammars) -> Interpretation {
    // An `ace` inbox receives the importer's ACE portal exports (CSV or XLSX), nothing else.
    if ctx.role == Role::Ace {
        return crate::ace::interpret(bytes, ctx);
    }
    // A `refund-results` inbox receives a refund program's result files (CSV), nothing else.
    if ctx.role == Role::RefundResults {
        return crate::recovery::result::interpret(bytes, ctx, grammars);
    }
    match parse::sniff(bytes) {
        // One pass of the grammar-driven reader: it validates (stable ABIE codes) and hands over the
        // typed records the facts come from.
        Format::Abi => abi::interpret(bytes, ctx, grammars),
        Format::Csv => csv_pre_entries(bytes, ctx),
        Format::X12 => x12::interpret(bytes, ctx, grammars),
        Format::Unknown => {
            let parsed = parse::parse_file(ctx.name, bytes, grammars);
            Interpretation { diagnostics: parsed.errors, ..Interpretation::default() }
        }
    }
}

/// CSV rows → pre-entries (grouped by entry number, else importer + broker reference).
fn csv_pre_entries(bytes: &[u8], ctx: &FileContext<'_>) -> Interpretation {
    let (rows, mut diagnostics) = parse::csv::read(bytes);
    let mut out = Interpretation::default();
    if ctx.role != Role::Approved {
        diagnostics.push(Diagnostic::error(
            "I001",
            format!("a pre-entry CSV arrived on inbox {:?}, whose role is not `approved`", ctx.inbox),
            Position::at_byte(bytes, 0),
        ));
    }
    let mut groups: Vec<(String, PreEntry, usize, usize)> = Vec::new();
    for r in &rows {
        let entry = if r.entry_number.is_empty() {
            None
        } else {
            match r.entry_number.parse::<EntryNumber>() {
                Ok(e) => Some(e),
                Err(e) => {
                    diagnostics.push(Diagnostic::error("CSV006", e.to_string(), Position::at_byte(bytes, r.byte)));
                    continue;
                }
            }
        };
        let key = match &entry {
            Some(e) => e.compact(),
            None => format!("{}|{}", r.importer_number, r.broker_reference),
        };
        let line = PreEntryLine {
            line: r.line_number,
            invoice_number: r.invoice_number.clone(),
            po_number: r.po_number.clone(),
            po_line: r.po_line.clone(),
            hts: r.hts.clone(),
            country_of_origin: r.country_of_origin.clone(),
            spi: r.spi.clone(),
            quantity_hundredths: r.quantity_hundredths,
            uom: r.uom.clone(),
            value_usd: r.value_cents / 100,
            duty_rate_millionths: r.duty_rate_millionths,
            duty_cents: r.duty_cents,
            bill_of_lading: r.bill_of_lading.clone(),
            container: r.container.clone(),
            manufacturer_id: r.manufacturer_id.clone(),
        };
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.lines.push(line),
            None => groups.push((
                key,
                PreEntry {
                    entry,
                    importer: r.importer_number.clone(),
                    broker_ref: r.broker_reference.clone(),
                    lines: vec![line],
                    summary: None,
                },
                r.line,
                r.line,
            )),
        }
    }
    for (_, pre, line, rec) in groups {
        let fact = Fact {
            at: ctx.received,
            kind: FactKind::PreEntryApproved { pre_entry: pre.clone() },
            source: ctx.source(line, rec),
        };
        match pre.entry {
            Some(e) => out.facts.push((e, fact)),
            None => out.unmatched_pre_entries.push(fact),
        }
    }
    out.diagnostics = diagnostics;
    out
}
