//! AX (grammars/abi/ax.toml): entry summary responses.

use super::cx::{Cx, Place};
use crate::domain::FactKind;
use crate::entry_number::EntryNumber;
use crate::parse::abi::Record;
use crate::parse::error::Diagnostic;
/// AX: entry summary responses (accepted, rejected with its conditions, deleted).
#[derive(Default)]
pub(super) struct Ax {
    current: Option<EntryNumber>,
    conditions: Vec<(String, String)>,
}

impl Ax {
    pub(super) fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
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
