//! MS (grammars/abi/ms.toml): periodic monthly statements.

use super::cx::{Cx, Place};
use super::pf::StatementBlock;
use crate::interpret::MonthlyLink;
use crate::parse::abi::Record;
use chrono::NaiveDate;
/// MS: periodic monthly statements (links from the daily statements they list).
pub(super) struct Ms {
    head: StatementBlock,
    due: Option<NaiveDate>,
    dailies: Vec<(String, Place, Vec<String>)>,
}

impl Ms {
    pub(super) fn start(cx: &mut Cx<'_, '_>, b: &Record<'_>) -> Ms {
        Ms { head: StatementBlock::of(cx, b), due: None, dailies: Vec::new() }
    }

    pub(super) fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
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

    pub(super) fn finish(mut self, cx: &mut Cx<'_, '_>) {
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
