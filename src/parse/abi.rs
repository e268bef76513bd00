//! The CBP ABI (CATAIR 80-column) reader: records, fields, batches and blocks.

use super::error::{Diagnostic, Position};
use crate::grammar::Grammars;
use serde::Serialize;

/// The `abi` key of `parse --json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AbiSummary {
    pub batches: Vec<serde_json::Value>,
}

/// Read a whole ABI file and summarise it for `parse`.
pub fn summarize(bytes: &[u8], _grammars: &Grammars) -> (AbiSummary, Vec<Diagnostic>) {
    let pos = Position::at_byte(bytes, 0);
    (AbiSummary::default(), vec![Diagnostic::error("P003", "the ABI reader is not built yet", pos)])
}

impl AbiSummary {
    /// The short readable tree printed by `entrywatch parse`.
    pub fn tree(&self) -> String {
        String::new()
    }
}
