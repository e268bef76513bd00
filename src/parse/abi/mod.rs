//! The CBP ABI (CATAIR 80-column) reader: records, fields, batches, blocks and transactions.
//!
//! Two ways in:
//!
//! * [`read`] streams a file: it calls back with [`AbiEvent`]s (batch/block start and end,
//!   one complete [`Transaction`] at a time, records borrowed from the input) and returns
//!   every [`Diagnostic`]. Memory use does not grow with the file.
//! * [`read_from`] does the same from a reader (`ingest` streams ABI files this way).
//! * [`summarize`] builds the [`AbiSummary`] printed by `entrywatch parse`.
//!
//! Diagnostic codes are `ABIEnnn` (see docs/abi.md); where CATAIR names a condition for the
//! same problem (X39, X40, X42 ...) the message starts with it.

// Untrusted input never panics: index with get(), not [] (exceptions are allowed in place,
// each with its reason).
#![deny(clippy::indexing_slicing)]

mod reader;
pub use reader::envelope_fault;
pub mod value;

use super::error::Diagnostic;
use crate::entry_number::EntryNumber;
use crate::grammar::abi::RecordDef;
use crate::grammar::Grammars;
use chrono::NaiveDate;
use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;
pub use value::{Decimal, Value};

/// One 80-column record as read, with its layout (when known) and place in the file.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// The layout name from the grammar (`10`, `E0`, `E0-REF`, `SO60` ...); `?` when unknown.
    pub name: &'a str,
    pub def: Option<&'a RecordDef>,
    /// 1-based record index in the file (envelope records included).
    pub index: usize,
    /// 1-based line (1 for every record of a continuous stream).
    pub line: usize,
    /// 0-based byte offset of the record in the file.
    pub byte: usize,
    /// Exactly 80 bytes (short records padded with spaces, lowercase folded to uppercase).
    pub image: Cow<'a, [u8]>,
}

impl<'a> Record<'a> {
    /// The raw bytes of a field, or `None` if this record has no such field.
    pub fn raw(&self, field: &str) -> Option<&[u8]> {
        let f = self.def?.field(field)?;
        self.image.get(f.range())
    }

    /// A field's typed value (`Invalid` when its bytes do not fit the class).
    pub fn value(&self, field: &str) -> Option<Value<'_>> {
        let f = self.def?.field(field)?;
        self.image.get(f.range()).map(|raw| value::lenient(raw, f))
    }

    /// A field as trimmed text; `None` when absent or blank. Numbers and dates give their digits.
    pub fn text(&self, field: &str) -> Option<&str> {
        let raw = self.raw(field)?;
        let s = std::str::from_utf8(raw).ok()?.trim();
        (!s.is_empty()).then_some(s)
    }

    /// A numeric field without implied decimals (or the units of one with them).
    pub fn int(&self, field: &str) -> Option<i128> {
        match self.value(field)? {
            Value::Int(i) => Some(i),
            Value::Decimal(d) => Some(d.units),
            _ => None,
        }
    }

    /// A numeric field as an exact decimal (scale 0 for whole numbers).
    pub fn decimal(&self, field: &str) -> Option<Decimal> {
        match self.value(field)? {
            Value::Int(i) => Some(Decimal { units: i, scale: 0 }),
            Value::Decimal(d) => Some(d),
            _ => None,
        }
    }

    /// A date field.
    pub fn date(&self, field: &str) -> Option<NaiveDate> {
        match self.value(field)? {
            Value::Date(d) => Some(d),
            _ => None,
        }
    }

    /// Every named field (filler skipped) with its typed value, in column order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, Value<'_>)> + '_ {
        self.def
            .into_iter()
            .flat_map(|d| d.fields.iter())
            .filter(|f| f.name != "filler")
            .filter_map(move |f| self.image.get(f.range()).map(|raw| (f.name.as_str(), value::lenient(raw, f))))
    }

    /// The record as text (80 characters; non-UTF-8 bytes replaced).
    pub fn as_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.image)
    }
}

/// One transaction (an entry summary, a status notification, a statement entry ...):
/// its records in order and the diagnostics found in them.
#[derive(Debug, Clone, Default)]
pub struct Transaction<'a> {
    /// Application identifier of the enclosing block (`AE`, `SO` ...).
    pub application: String,
    /// Transaction kind from the grammar (`entry-summary`, `cargo-release-status` ...);
    /// `incomplete` when it did not begin with a start record, `unknown` when nothing matched.
    pub kind: &'a str,
    /// Processing port and filer of the enclosing block (B-record 4-7, 8-10).
    pub port: String,
    pub filer: String,
    /// The entry number, when the transaction carries one and it is well formed.
    pub entry: Option<EntryNumber>,
    pub records: Vec<Record<'a>>,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Transaction<'a> {
    /// No error-severity diagnostics.
    pub fn ok(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The first record with this layout name.
    pub fn record(&self, name: &str) -> Option<&Record<'a>> {
        self.records.iter().find(|r| r.name == name)
    }

    /// Every record with this layout name.
    pub fn records_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Record<'a>> + 's {
        self.records.iter().filter(move |r| r.name == name)
    }
}

/// What [`read`] reports, in file order.
#[derive(Debug)]
pub enum AbiEvent<'e, 'a> {
    /// An A-record.
    BatchStart(&'e Record<'a>),
    /// A B-record (its application, port, filer, and on PF/MS the statement fields).
    BlockStart(&'e Record<'a>),
    /// A complete transaction.
    Transaction(&'e Transaction<'a>),
    /// The end of a block: its Y-record, or `None` when missing.
    BlockEnd(Option<&'e Record<'a>>),
    /// The end of a batch: its Z-record, or `None` when missing.
    BatchEnd(Option<&'e Record<'a>>),
}

/// Stream an ABI file: call `on` for each batch, block and transaction; return every
/// diagnostic (file-level and per transaction, at most 10,000).
pub fn read(bytes: &[u8], grammars: &Grammars, on: &mut dyn FnMut(AbiEvent<'_, '_>)) -> Vec<Diagnostic> {
    reader::run(bytes, &grammars.abi, on)
}

/// [`read`] from a reader (a file read once, front to back): the same events and diagnostics,
/// holding a bounded read-ahead and one transaction at a time whatever the input's size (a
/// record longer than 80 columns is counted, not kept). An I/O error ends the read.
pub fn read_from(
    r: &mut dyn std::io::Read,
    grammars: &Grammars,
    on: &mut dyn FnMut(AbiEvent<'_, '_>),
) -> std::io::Result<Vec<Diagnostic>> {
    reader::run_read(r, &grammars.abi, on)
}

/// The `abi` key of `parse --json`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AbiSummary {
    pub batches: Vec<BatchSummary>,
}

/// One batch (A ... Z), or the blocks found without a batch header.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BatchSummary {
    pub application: String,
    pub blocks: Vec<BlockSummary>,
}

/// One block (B ... Y).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BlockSummary {
    pub port: String,
    pub filer: String,
    pub application: String,
    pub transactions: Vec<TransactionSummary>,
}

/// One transaction.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TransactionSummary {
    pub kind: String,
    /// `EEE-1234567-3`, or null.
    pub entry: Option<String>,
    pub records: usize,
    pub ok: bool,
}

/// Read a whole ABI file and summarise it for `parse`.
pub fn summarize(bytes: &[u8], grammars: &Grammars) -> (AbiSummary, Vec<Diagnostic>) {
    let (s, diags) = summarize_with(&mut |on| Ok(read(bytes, grammars, on)));
    (s, diags.unwrap_or_default())
}

/// [`summarize`] of a file read from `r` ([`read_from`]: the file is not held whole).
pub fn summarize_read(
    r: &mut dyn std::io::Read,
    grammars: &Grammars,
) -> std::io::Result<(AbiSummary, Vec<Diagnostic>)> {
    let (s, diags) = summarize_with(&mut |on| read_from(r, grammars, on));
    Ok((s, diags?))
}

type Events<'s> = dyn FnMut(&mut dyn FnMut(AbiEvent<'_, '_>)) -> std::io::Result<Vec<Diagnostic>> + 's;

fn summarize_with(read: &mut Events<'_>) -> (AbiSummary, std::io::Result<Vec<Diagnostic>>) {
    let mut s = AbiSummary::default();
    let mut batch_open = false;
    let diags = read(&mut |ev| match ev {
        AbiEvent::BatchStart(a) => {
            s.batches.push(BatchSummary {
                application: a.text("application_id").unwrap_or_default().to_string(),
                blocks: Vec::new(),
            });
            batch_open = true;
        }
        AbiEvent::BlockStart(b) => {
            let app = b.text("application_id").unwrap_or_default().to_string();
            if !batch_open {
                s.batches.push(BatchSummary { application: app.clone(), blocks: Vec::new() });
                batch_open = true;
            }
            if let Some(batch) = s.batches.last_mut() {
                batch.blocks.push(BlockSummary {
                    port: b.text("port").unwrap_or_default().to_string(),
                    filer: b.text("filer_code").unwrap_or_default().to_string(),
                    application: app,
                    transactions: Vec::new(),
                });
            }
        }
        AbiEvent::Transaction(t) => {
            if let Some(block) = s.batches.last_mut().and_then(|b| b.blocks.last_mut()) {
                block.transactions.push(TransactionSummary {
                    kind: t.kind.to_string(),
                    entry: t.entry.as_ref().map(ToString::to_string),
                    records: t.records.len(),
                    ok: t.ok(),
                });
            }
        }
        AbiEvent::BlockEnd(_) => {}
        AbiEvent::BatchEnd(_) => batch_open = false,
    });
    (s, diags)
}

impl AbiSummary {
    /// The short readable tree printed by `entrywatch parse`.
    pub fn tree(&self) -> String {
        let mut out = String::new();
        for b in &self.batches {
            let _ = writeln!(out, "batch {}", if b.application.is_empty() { "(none)" } else { &b.application });
            for k in &b.blocks {
                let _ = writeln!(out, "  block {} port {} filer {}", k.application, k.port, k.filer);
                for t in &k.transactions {
                    let _ = writeln!(
                        out,
                        "    {} {} ({} records){}",
                        t.kind,
                        t.entry.as_deref().unwrap_or("-"),
                        t.records,
                        if t.ok { "" } else { " ERRORS" }
                    );
                }
            }
        }
        out
    }
}
