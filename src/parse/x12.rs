//! The ANSI X12 reader: delimiters sniffed from each ISA, envelopes, segments, grammar structure.

use super::error::{Diagnostic, Position};
use crate::grammar::Grammars;
use serde::Serialize;

/// The `x12` key of `parse --json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct X12Summary {
    pub interchanges: Vec<serde_json::Value>,
}

/// Read a whole X12 file and summarise it for `parse`.
pub fn summarize(bytes: &[u8], _grammars: &Grammars) -> (X12Summary, Vec<Diagnostic>) {
    let pos = Position::at_byte(bytes, 0);
    (X12Summary::default(), vec![Diagnostic::error("P002", "the X12 reader is not built yet", pos)])
}

impl X12Summary {
    /// The short readable tree printed by `entrywatch parse`.
    pub fn tree(&self) -> String {
        String::new()
    }
}
