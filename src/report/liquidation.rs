//! `report liquidation`: liquidated entries, as filed or with changes, the differences in
//! duty and fees, and CBP's reason codes; streamed.

use super::{col, Cell, Params, Report};
use crate::view::{EntryView, LiquidationStatus, ReadModel};

/// The row of a liquidated entry (`None` when it is not liquidated).
pub fn row(e: &EntryView) -> Option<Vec<Cell>> {
    if e.liquidation.status != LiquidationStatus::Liquidated {
        return None;
    }
    let t = e.filed_totals();
    let duty = e.liquidation.duty_cents.unwrap_or(t.duty_cents);
    let fees = e.liquidation.fees_cents.unwrap_or(t.fees_cents);
    let changed = duty != t.duty_cents || fees != t.fees_cents || e.lines.iter().any(|l| l.liquidated_hts.is_some());
    Some(vec![
        Cell::text(&e.entry),
        Cell::text(&e.importer),
        Cell::text(e.broker()),
        Cell::opt_date(e.liquidation.date),
        Cell::text(if changed { "changed" } else { "as-filed" }),
        Cell::Money(t.duty_cents),
        Cell::Money(duty),
        Cell::Money(duty - t.duty_cents),
        Cell::Money(t.fees_cents),
        Cell::Money(fees),
        Cell::Money(fees - t.fees_cents),
        Cell::text(e.liquidation.reason_codes.join(" ")),
    ])
}

pub fn report<'a>(model: &'a dyn ReadModel, p: &Params) -> Report<'a> {
    Report {
        name: "liquidation",
        columns: vec![
            col("entry", 13),
            col("importer", 13),
            col("broker", 6),
            col("liquidated", 10),
            col("outcome", 8),
            col("filed_duty_usd", 14),
            col("liq_duty_usd", 12),
            col("duty_diff_usd", 13),
            col("filed_fees_usd", 14),
            col("liq_fees_usd", 12),
            col("fees_diff_usd", 13),
            col("reasons", 7),
        ],
        // Read through the index's posting of liquidated entries (the rows come from no other).
        rows: Box::new(model.entries_marked("status", "liquidated", &p.filter).filter_map(|e| row(&e))),
    }
}
