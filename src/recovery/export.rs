//! Claim files for a refund program: the upload CSVs (the program's header, at most its
//! max-rows entries per file, no duplicates, entry numbers in the 11-character form), listing
//! only entries whose program state is open today. Excluded, closed and not-applicable
//! entries are never listed; they are counted with their reasons.

use super::{EntryRecovery, Program, RemedyState};
use crate::entry_number::EntryNumber;
use std::collections::{BTreeMap, BTreeSet};

/// What an export would write: the files' contents and what was left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportPlan {
    /// One CSV text per upload file, in order.
    pub files: Vec<String>,
    /// Entries listed, in order.
    pub listed: Vec<String>,
    /// Money the listed entries claim, in cents.
    pub claimed_cents: i64,
    /// Left out: state (excluded, closed, ...) → number of entries.
    pub left_out: BTreeMap<String, usize>,
    /// Entries whose number is not a valid 11-character entry number (never listed).
    pub invalid: Vec<String>,
}

/// Build the upload files of `program` from evaluated entries (any order, duplicates allowed:
/// each entry number is listed once).
pub fn export_chunks(program: &Program, entries: &[EntryRecovery]) -> ExportPlan {
    let mut plan = ExportPlan::default();
    let mut seen = BTreeSet::new();
    let mut rows: Vec<(String, i64)> = Vec::new();
    for e in entries {
        let Some(st) = e.remedy(&program.id) else { continue };
        if st.state != RemedyState::Open || st.amount_cents <= 0 {
            let k = if st.state == RemedyState::Open { "nothing to refund" } else { st.state.as_str() };
            *plan.left_out.entry(k.to_string()).or_default() += 1;
            continue;
        }
        let n: EntryNumber = match e.entry.parse() {
            Ok(n) => n,
            Err(_) => {
                plan.invalid.push(e.entry.clone());
                continue;
            }
        };
        let compact = n.compact();
        if compact.len() != 11 {
            plan.invalid.push(e.entry.clone());
            continue;
        }
        if seen.insert(compact.clone()) {
            rows.push((compact, st.amount_cents));
        }
    }
    rows.sort();
    let max = program.upload.max_rows.max(1);
    for chunk in rows.chunks(max) {
        let mut text = String::with_capacity(12 * (chunk.len() + 1));
        text.push_str(&program.upload.header);
        text.push_str("\r\n");
        for (n, _) in chunk {
            text.push_str(n);
            text.push_str("\r\n");
        }
        plan.files.push(text);
    }
    plan.claimed_cents = rows.iter().map(|r| r.1).fold(0i64, i64::saturating_add);
    plan.listed = rows.into_iter().map(|r| r.0).collect();
    plan
}
