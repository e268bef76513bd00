//! The ANSI X12 reader: delimiters sniffed from each ISA, envelopes, segments, grammar structure.
//!
//! Ways in:
//! * [`read`] / [`read_with`]: streaming; calls back with [`X12Event`]s (interchange and group
//!   headers and results, and each transaction set with its segments and its AK5/AK3/AK4 results).
//!   Only one transaction set's segments are held at a time; they borrow the input bytes.
//! * [`read_from`]: the same events from a file read in chunks, one interchange held at a time
//!   (what `ingest` and `parse` use: memory does not grow with the file).
//! * [`summarize`] / [`summarize_read`]: the `x12` object of `entrywatch parse --json`, plus
//!   every diagnostic.
//!
//! Diagnostic codes are `X12Ennn` (documented in docs/x12.md); each envelope or structure error
//! carries the acknowledgment code it maps to (`TA105:001`, `AK905:4`, `AK502:3`, `AK304:2`, `AK403:1`).

pub mod delimiters;
mod envelope;
pub mod segment;
pub mod standard;
pub mod structure;

use super::error::Diagnostic;
use crate::grammar::Grammars;
use serde::Serialize;

pub use delimiters::{Delimiters, Terminator};
pub use segment::Segment;
pub use structure::{ElementError, SegmentError};

/// An acknowledgment status (TA104, AK501, AK901).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AckStatus {
    /// `A`
    Accepted,
    /// `E`
    AcceptedWithErrors,
    /// `P` (groups only)
    PartiallyAccepted,
    /// `R`
    Rejected,
}

impl AckStatus {
    /// The one-letter code used in TA104 / AK501 / AK901.
    pub fn code(self) -> &'static str {
        match self {
            AckStatus::Accepted => "A",
            AckStatus::AcceptedWithErrors => "E",
            AckStatus::PartiallyAccepted => "P",
            AckStatus::Rejected => "R",
        }
    }
}

/// An interchange header (ISA), with trimmed fields and the delimiters it declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterchangeHeader {
    /// ISA05
    pub sender_qualifier: String,
    /// ISA06 (trimmed)
    pub sender_id: String,
    /// ISA07
    pub receiver_qualifier: String,
    /// ISA08 (trimmed)
    pub receiver_id: String,
    /// ISA09 YYMMDD
    pub date: String,
    /// ISA10 HHMM
    pub time: String,
    /// ISA11 as written (repetition separator or standards id `U`)
    pub isa11: String,
    /// ISA12 (`00401`, `00501` ...)
    pub version: String,
    /// ISA13
    pub control_number: String,
    /// ISA14 (`1` asks for a TA1)
    pub ack_requested: String,
    /// ISA15 (`P` production, `T` test)
    pub usage: String,
    /// ISA01..ISA16 exactly as written.
    pub fields: Vec<String>,
    pub delimiters: Delimiters,
    pub line: usize,
    pub byte: usize,
}

/// The result of an interchange: what a TA1 would say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterchangeResult {
    /// TA104
    pub status: AckStatus,
    /// TA105: the first note code, `000` when there is none.
    pub note_code: String,
    /// Every TA105 code found, in order.
    pub codes: Vec<String>,
    /// Functional groups read.
    pub groups: usize,
    /// IEA01 as written (`None` when the IEA is missing).
    pub declared_groups: Option<String>,
}

/// A functional group header (GS01..GS08).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupHeader {
    pub functional_id: String,
    pub application_sender: String,
    pub application_receiver: String,
    pub date: String,
    pub time: String,
    pub control_number: String,
    pub agency: String,
    /// GS08 as written (e.g. `004010VICS`, `005010X231A1`).
    pub version: String,
    pub line: usize,
    pub byte: usize,
}

/// The result of a functional group: what an AK9 would say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupResult {
    /// AK901
    pub status: AckStatus,
    /// AK902: GE01 as declared (`None` when GE is missing or not a number).
    pub declared: Option<usize>,
    /// AK903
    pub received: usize,
    /// AK904
    pub accepted: usize,
    /// AK905..AK909 codes.
    pub codes: Vec<u8>,
}

/// The result of one transaction set: what an AK2 loop (AK3/AK4 + AK5) would say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionResult {
    /// AK501
    pub status: AckStatus,
    /// AK502..AK506 codes (2 no SE, 3 control number mismatch, 4 count, 5 segment errors, 23 duplicate).
    pub codes: Vec<u8>,
    /// AK3/AK4 content (999: IK3/IK4).
    pub segment_errors: Vec<SegmentError>,
}

/// One transaction set (ST..SE) with its segments, read and checked.
#[derive(Debug, Clone)]
pub struct Transaction<'a> {
    /// ST01
    pub set: String,
    /// ST02
    pub control_number: String,
    /// ST03 if present.
    pub implementation: Option<String>,
    /// The version that governs it (ST03, else GS08, else ISA12), as written.
    pub version: String,
    /// The dictionary version it was read with (`004010`, `005010`).
    pub grammar_version: String,
    /// GS01 of its group.
    pub functional_id: String,
    /// Whether a grammar for the set exists (unknown sets are envelope-checked only).
    pub known: bool,
    /// Its segments, ST first; each has line, byte and index.
    pub segments: &'a [Segment<'a>],
    pub result: TransactionResult,
}

/// What [`read`] reports, in file order.
#[derive(Debug)]
pub enum X12Event<'e> {
    InterchangeStart(&'e InterchangeHeader),
    /// TA1, ISB, ISE (and other non-group segments) directly inside the interchange.
    InterchangeSegment(&'e Segment<'e>),
    GroupStart(&'e GroupHeader),
    Transaction(&'e Transaction<'e>),
    GroupEnd(&'e GroupHeader, &'e GroupResult),
    InterchangeEnd(&'e InterchangeHeader, &'e InterchangeResult),
}

/// Reader options.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Check each set's structure and elements against the grammar (envelope checks always run).
    pub validate: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { validate: true }
    }
}

/// Totals and diagnostics of a whole read.
#[derive(Debug, Clone, Default)]
pub struct ReadOutcome {
    pub diagnostics: Vec<Diagnostic>,
    pub interchanges: usize,
    pub groups: usize,
    pub transactions: usize,
    pub segments: usize,
}

/// Read X12 bytes with full validation, calling `on` for each event.
pub fn read(bytes: &[u8], g: &Grammars, on: &mut dyn FnMut(X12Event<'_>)) -> ReadOutcome {
    read_with(bytes, g, ReadOptions::default(), on)
}

/// Read X12 bytes with options, calling `on` for each event.
pub fn read_with(bytes: &[u8], g: &Grammars, opts: ReadOptions, on: &mut dyn FnMut(X12Event<'_>)) -> ReadOutcome {
    envelope::read(bytes, g, opts, on)
}

/// Read X12 from a source in chunks, holding at most one interchange (ISA..IEA, or up to the
/// next ISA or the end when the IEA is missing) and the read-ahead of one chunk: memory does not
/// grow with the file. Positions (line, byte) are the file's; the per-file state (the cap of
/// [`crate::parse::error::MAX_DIAGNOSTICS`] and its closing warnings, repeated ISA control
/// numbers, versions warned about, the validator's caches) carries across interchanges, so the
/// outcome and the events are exactly those of [`read_with`] on the whole bytes, except that an
/// interchange larger than [`MAX_INTERCHANGE_BYTES`] is the error `X12E025` (the file is then
/// not read further). UTF-16 input (decoded as a whole) is read whole.
pub fn read_from(
    r: &mut dyn std::io::Read,
    g: &Grammars,
    opts: ReadOptions,
    on: &mut dyn FnMut(X12Event<'_>),
) -> std::io::Result<ReadOutcome> {
    envelope::read_from(r, g, opts, on)
}

pub use envelope::{MAX_INTERCHANGE_BYTES, MAX_INTERCHANGE_SEGMENTS};

/// [`read_from`] asking the source for `chunk` bytes at a time and holding interchanges of up to
/// `limit` bytes: for tests of the chunk boundaries and the bound.
#[doc(hidden)]
pub use envelope::read_from_sized;

/// One transaction set in the summary.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TransactionSummary {
    pub set: String,
    pub control_number: String,
    pub segments: usize,
    pub ok: bool,
}

/// One functional group in the summary.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct GroupSummary {
    pub functional_id: String,
    pub control_number: String,
    pub version: String,
    pub transactions: Vec<TransactionSummary>,
}

/// One interchange in the summary.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct InterchangeSummary {
    pub control_number: String,
    pub sender: String,
    pub receiver: String,
    pub version: String,
    pub groups: Vec<GroupSummary>,
}

/// The `x12` key of `parse --json`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct X12Summary {
    pub interchanges: Vec<InterchangeSummary>,
}

/// Read a whole X12 file and summarise it for `parse`.
pub fn summarize(bytes: &[u8], grammars: &Grammars) -> (X12Summary, Vec<Diagnostic>) {
    let mut s = X12Summary::default();
    let outcome = read(bytes, grammars, &mut |ev| s.add(ev));
    (s, outcome.diagnostics)
}

/// [`summarize`] of a file read from `r` ([`read_from`]: one interchange held at a time).
pub fn summarize_read(
    r: &mut dyn std::io::Read,
    grammars: &Grammars,
) -> std::io::Result<(X12Summary, Vec<Diagnostic>)> {
    let mut s = X12Summary::default();
    let outcome = read_from(r, grammars, ReadOptions::default(), &mut |ev| s.add(ev))?;
    Ok((s, outcome.diagnostics))
}

impl X12Summary {
    /// One reader event into the summary.
    fn add(&mut self, ev: X12Event<'_>) {
        let s = self;
        match ev {
            X12Event::InterchangeStart(h) => s.interchanges.push(InterchangeSummary {
                control_number: h.control_number.clone(),
                sender: h.sender_id.clone(),
                receiver: h.receiver_id.clone(),
                version: h.version.clone(),
                groups: Vec::new(),
            }),
            X12Event::GroupStart(gh) => {
                if let Some(i) = s.interchanges.last_mut() {
                    i.groups.push(GroupSummary {
                        functional_id: gh.functional_id.clone(),
                        control_number: gh.control_number.clone(),
                        version: gh.version.clone(),
                        transactions: Vec::new(),
                    });
                }
            }
            X12Event::Transaction(t) => {
                if let Some(gs) = s.interchanges.last_mut().and_then(|i| i.groups.last_mut()) {
                    gs.transactions.push(TransactionSummary {
                        set: t.set.clone(),
                        control_number: t.control_number.clone(),
                        segments: t.segments.len(),
                        ok: t.result.status != AckStatus::Rejected,
                    });
                }
            }
            _ => {}
        }
    }
}

impl X12Summary {
    /// The short readable tree printed by `entrywatch parse`.
    pub fn tree(&self) -> String {
        let mut out = String::new();
        for i in &self.interchanges {
            out.push_str(&format!("  ISA {} {} -> {} ({})\n", i.control_number, i.sender, i.receiver, i.version));
            for g in &i.groups {
                out.push_str(&format!("    GS {} {} ({})\n", g.functional_id, g.control_number, g.version));
                for t in &g.transactions {
                    let v = if t.ok { "ok" } else { "REJECTED" };
                    out.push_str(&format!("      ST {} {}: {} segments, {v}\n", t.set, t.control_number, t.segments));
                }
            }
        }
        out
    }
}
