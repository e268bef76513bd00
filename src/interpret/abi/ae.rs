//! AE (grammars/abi/ae.toml): entry summaries as filed, and approved AE-format pre-entries.

use super::cx::{bill_ref, Cx, Place, FEE_PAIRS};
use crate::config::Role;
use crate::domain::{FactKind, Line, PreEntry, PreEntryLine, Summary, Tariff};
use crate::entry_number::EntryNumber;
use crate::parse::abi::Record;

/// AE: entry summaries as filed, or (on an `approved` inbox) approved pre-entries.
#[derive(Default)]
pub(super) struct Ae {
    cur: Option<(EntryNumber, Summary, Place)>,
}

impl Ae {
    pub(super) fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        if r.name == "10" {
            self.finish_one(cx);
            let Some(e) = cx.entry(r, "filer_code", "entry_number") else { return };
            let (fta, issue) = (cx.text(r, "recon_indicator"), cx.string(r, "recon_issue_code"));
            let s = Summary {
                action: cx.string(r, "action_code"),
                port: cx.string(r, "port_of_entry"),
                broker_ref: cx.string(r, "broker_reference"),
                entry_type: cx.string(r, "entry_type"),
                mode_of_transport: cx.string(r, "mode_of_transport"),
                payment_type: cx.string(r, "payment_type"),
                statement_print_date: cx.date(r, "statement_print_date", "preliminary statement print date"),
                psc: cx.text(r, "psc_indicator") == "Y",
                reconciliation: reconciliation_flag(fta, &issue),
                recon_fta: fta == "Y",
                recon_issue: issue,
                // 10-record position 42, Consolidated Summary Indicator (02, usage note z).
                consolidated: cx.text(r, "consolidated_summary") == "Y",
                ..Summary::default()
            };
            self.cur = Some((e, s, Place::of(r)));
            return;
        }
        if self.cur.is_none() {
            cx.warn("I208", format!("record {:?} before any 10 record", r.name), Place::of(r));
            return;
        }
        match r.name {
            "11" => {
                let importer = cx.string(r, "importer_number");
                let ed = cx.date(r, "estimated_entry_date", "estimated entry date");
                let id = cx.date(r, "import_date", "date of importation");
                if let Some((_, s, _)) = self.cur.as_mut() {
                    s.importer = importer;
                    s.entry_date = ed;
                    s.import_date = id;
                }
            }
            "40" => {
                let n = cx.text(r, "line_number").parse::<u32>().unwrap_or(0);
                let line = Line {
                    line: n,
                    country_of_origin: cx.string(r, "country_of_origin"),
                    country_of_export: cx.string(r, "country_of_export"),
                    spi: cx.string(r, "spi"),
                    ..Line::default()
                };
                if let Some((_, s, _)) = self.cur.as_mut() {
                    s.lines.push(line);
                }
            }
            "50" => {
                let t = Tariff {
                    hts: cx.string(r, "hts_number"),
                    duty_cents: cx.num(r, "duty_amount", "duty amount"),
                    value_usd: cx.num(r, "entered_value", "value"),
                    quantity_hundredths: cx.num(r, "quantity_1", "quantity 1"),
                    uom: cx.string(r, "uom_1"),
                };
                match self.cur.as_mut().and_then(|(_, s, _)| s.lines.last_mut()) {
                    Some(l) => l.tariffs.push(t),
                    None => cx.warn("I208", "50 record before any 40 record", Place::of(r)),
                }
            }
            // 23-record (02-entry-summary-create-update, page 44): M/H/S are master, house and
            // sub-house bills; I is an in-bond number, not a bill, and is not a link.
            "23" => {
                let kind = cx.string(r, "manifest_component_type_code");
                let bill =
                    bill_ref(cx.text(r, "manifest_component_issuer_code"), cx.text(r, "manifest_component_identifier"));
                if matches!(kind.as_str(), "M" | "H" | "S") && !bill.is_empty() {
                    if let Some((_, s, _)) = self.cur.as_mut() {
                        if !s.bills.contains(&bill) {
                            s.bills.push(bill);
                        }
                    }
                }
            }
            // SE17-record Equipment Number 5-24 (02-entry-summary-create-update, page 47).
            "SE17" => {
                let c = bill_ref("", cx.text(r, "equipment_number"));
                if let Some((_, s, _)) = self.cur.as_mut() {
                    if !c.is_empty() && !s.containers.contains(&c) {
                        s.containers.push(c);
                    }
                }
            }
            // 47-record (02-entry-summary-create-update, page 78): type M is the manufacturer/
            // supplier ID of the line; C, S and E are other parties.
            "47" if cx.text(r, "article_party_type_code") == "M" => {
                let mid = bill_ref("", cx.text(r, "article_party_identifier"));
                match self.cur.as_mut().and_then(|(_, s, _)| s.lines.last_mut()) {
                    Some(l) => l.manufacturer_id = mid,
                    None => cx.warn("I208", "47 record before any 40 record", Place::of(r)),
                }
            }
            "62" => {
                let amt = cx.num(r, "fee_amount", "user fee amount");
                let class = cx.string(r, "fee_class");
                match self.cur.as_mut().and_then(|(_, s, _)| s.lines.last_mut()) {
                    Some(l) => *l.fees.entry(class).or_insert(0) += amt,
                    None => cx.warn("I208", "62 record before any 40 record", Place::of(r)),
                }
            }
            "89" => {
                for (class_field, amount_field) in FEE_PAIRS {
                    let class = cx.string(r, class_field);
                    if class.is_empty() {
                        continue;
                    }
                    let amt = cx.num(r, amount_field, "fee total");
                    if let Some((_, s, _)) = self.cur.as_mut() {
                        *s.fee_totals.entry(class).or_insert(0) += amt;
                    }
                }
            }
            "90" => {
                let duty = cx.num(r, "total_duty", "total duty");
                let fees = cx.num(r, "total_user_fees", "total user fees");
                // 90-record Total IR Tax 27-37, Total AD Duty 39-49, Total CV Duty 51-61: the
                // liquidation-increase check compares them with ER JD (docs/variance.md).
                let tax = cx.num(r, "total_ir_tax", "total IR tax");
                let adcvd = cx.num(r, "total_ad_duty", "total AD duty") + cx.num(r, "total_cv_duty", "total CV duty");
                if let Some((_, s, _)) = self.cur.as_mut() {
                    s.total_duty_cents = duty;
                    s.total_fees_cents = fees;
                    s.total_tax_cents = Some(tax);
                    s.total_adcvd_cents = Some(adcvd);
                }
            }
            _ => {}
        }
    }

    fn finish_one(&mut self, cx: &mut Cx<'_, '_>) {
        let Some((e, s, place)) = self.cur.take() else { return };
        let at = cx.day();
        if cx.ctx.role == Role::Approved {
            let lines = s
                .lines
                .iter()
                .flat_map(|l| {
                    l.tariffs.iter().map(move |t| PreEntryLine {
                        line: l.line,
                        hts: t.hts.clone(),
                        country_of_origin: l.country_of_origin.clone(),
                        spi: l.spi.clone(),
                        quantity_hundredths: t.quantity_hundredths,
                        uom: t.uom.clone(),
                        value_usd: t.value_usd,
                        duty_cents: t.duty_cents,
                        manufacturer_id: l.manufacturer_id.clone(),
                        ..PreEntryLine::default()
                    })
                })
                .collect();
            let pre = PreEntry {
                entry: Some(e.clone()),
                importer: s.importer.clone(),
                broker_ref: s.broker_ref.clone(),
                lines,
                summary: Some(s),
            };
            cx.push(e, at, FactKind::PreEntryApproved { pre_entry: pre }, place);
        } else {
            cx.push(e, at, FactKind::SummaryFiled { summary: s }, place);
        }
    }

    pub(super) fn finish(mut self, cx: &mut Cx<'_, '_>) {
        self.finish_one(cx);
    }
}

/// The 10-record reconciliation flag: trade-agreement indicator and issue code.
pub(super) fn reconciliation_flag(fta: &str, issue: &str) -> String {
    match (fta == "Y", issue.is_empty()) {
        (true, true) => "FTA".into(),
        (true, false) => format!("FTA {issue}"),
        (false, _) => issue.to_string(),
    }
}
