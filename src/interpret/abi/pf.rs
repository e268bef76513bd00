//! PF (grammars/abi/pf.toml): daily statements; the statement block fields MS shares.

use super::cx::{push_dated, Cx, Place, FEE_PAIRS};
use crate::domain::FactKind;
use crate::entry_number::EntryNumber;
use crate::parse::abi::Record;
use chrono::NaiveDate;
/// The statement fields of a PF/MS B-record.
pub(super) struct StatementBlock {
    pub(super) final_statement: bool,
    pub(super) number: String,
}

impl StatementBlock {
    pub(super) fn of(cx: &mut Cx<'_, '_>, b: &Record<'_>) -> StatementBlock {
        StatementBlock {
            final_statement: cx.text(b, "statement_status") == "F",
            number: cx.string(b, "statement_number"),
        }
    }
}

/// PF: daily statements (one fact per statement entry, with its fees).
pub(super) struct Pf {
    head: StatementBlock,
    print_date: Option<NaiveDate>,
    payment_type: String,
    cur: Option<(EntryNumber, FactKind, Place)>,
}

impl Pf {
    pub(super) fn start(cx: &mut Cx<'_, '_>, b: &Record<'_>) -> Pf {
        let head = StatementBlock::of(cx, b);
        let print_date = cx.date(b, "statement_print_date", "statement print date");
        let payment_type = cx.string(b, "payment_type");
        Pf { head, print_date, payment_type, cur: None }
    }

    pub(super) fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
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

    pub(super) fn finish(mut self, cx: &mut Cx<'_, '_>) {
        self.finish_one(cx);
    }
}
