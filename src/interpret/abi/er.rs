//! ER (grammars/abi/er.toml): entry summary query output (liquidation, extensions and
//! suspensions, liquidated amounts, protests, bills, returned conditions).

use super::cx::{Cx, Place};
use crate::domain::FactKind;
use crate::entry_number::EntryNumber;
use crate::parse::abi::Record;
/// ER JC extension/suspension codes.
pub(super) const EXT_SUSP_CODES: [&str; 4] =
    ["extension_code_1", "extension_code_2", "extension_code_3", "extension_code_4"];
/// ER JD liquidation reasons.
pub(super) const LIQUIDATION_REASONS: [&str; 3] =
    ["liquidation_reason_1", "liquidation_reason_2", "liquidation_reason_3"];

/// ER summary group records the structure map makes "M" (Reporting Mandatory), with the map's
/// own words (03-entry-summary-query, page 24, Output Record Structure Map). JI is satisfied by
/// its "no bond on file" variant too.
pub(super) const ER_MANDATORY: [(&str, &str); 7] = [
    ("JC", "Status and Date Information"),
    ("JD", "CBP Review Indicator, Entry Date, Liquidated Duty, Tax, Fee, and Reason Data"),
    ("JE", "Estimated Duty, Tax, Fee, and Interest Data"),
    (
        "JF",
        "Importer of Record, Entry Type, Reject Date, Accelerated Drawback Indicator, Electronic Invoice \
         Indicator, District/Port of Entry, and Entry Summary Filing Date Data",
    ),
    ("JG", "Warehouse Withdrawal, Team, Center ID, and Total Number of Line Items"),
    ("JH", "CBP Form 4811 Reference Number, Preliminary Statement Print Date, and Broker Reference Number Data"),
    ("JI", "Bond and Surety Data"),
];

/// ER: entry summary query output (liquidation status, extensions/suspensions, liquidated amounts;
/// one `Protest` fact per JJ).
#[derive(Default)]
pub(super) struct Er {
    cur: Option<(EntryNumber, FactKind, Place)>,
    /// Which of [`ER_MANDATORY`] the current summary group has (bit i for entry i).
    seen: u8,
    /// JJ protests of the current summary group.
    protests: Vec<(FactKind, Place)>,
}

impl Er {
    pub(super) fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        let base = r.name.trim_end_matches("-NOBOND");
        if let Some(i) = ER_MANDATORY.iter().position(|(id, _)| *id == base) {
            self.seen |= 1 << i;
        }
        match r.name {
            "JB" => {
                self.finish_one(cx);
                let Some(e) = cx.entry(r, "filer_code", "entry_number") else { return };
                let date = cx.date(r, "liquidation_date", "liquidation date");
                let kind = FactKind::Liquidation {
                    status_code: cx.string(r, "liquidation_status"),
                    date,
                    ext_susp_codes: Vec::new(),
                    ext_susp: Vec::new(),
                    ext_susp_date: None,
                    protest: String::new(),
                    entry_date: None,
                    duty_cents: 0,
                    tax_cents: 0,
                    fees_cents: 0,
                    interest_cents: 0,
                    adcvd_cents: 0,
                    reasons: Vec::new(),
                };
                self.cur = Some((e, kind, Place::of(r)));
            }
            "JC" => {
                let d = cx.date(r, "extension_date", "extension/suspension date");
                if let Some((_, FactKind::Liquidation { ext_susp_codes, ext_susp, ext_susp_date, protest, .. }, _)) =
                    self.cur.as_mut()
                {
                    *ext_susp_date = d;
                    *protest = cx.string(r, "protest_status");
                    *ext_susp_codes =
                        EXT_SUSP_CODES.iter().map(|f| cx.string(r, f)).filter(|c| !c.is_empty()).collect();
                    // What each code does, from its list (03-entry-summary-query, pages 32-33).
                    *ext_susp = cx.grammars.codes.ext_susp(ext_susp_codes);
                } else {
                    cx.warn("I208", "JC record before any JB record", Place::of(r));
                }
            }
            "JD" => {
                let ed = cx.date(r, "entry_date", "entry date");
                let vals = [
                    cx.num(r, "liquidated_duty", "liquidated duty"),
                    cx.num(r, "liquidated_tax", "liquidated tax"),
                    cx.num(r, "liquidated_fees", "liquidated fees"),
                    cx.num(r, "liquidated_interest", "interest"),
                    cx.num(r, "liquidated_adcvd", "AD/CVD"),
                ];
                let codes: Vec<String> =
                    LIQUIDATION_REASONS.iter().map(|f| cx.string(r, f)).filter(|c| !c.is_empty()).collect();
                if let Some((
                    _,
                    FactKind::Liquidation {
                        entry_date,
                        duty_cents,
                        tax_cents,
                        fees_cents,
                        interest_cents,
                        adcvd_cents,
                        reasons,
                        ..
                    },
                    _,
                )) = self.cur.as_mut()
                {
                    *entry_date = ed;
                    [*duty_cents, *tax_cents, *fees_cents, *interest_cents, *adcvd_cents] = vals;
                    *reasons = codes;
                } else {
                    cx.warn("I208", "JD record before any JB record", Place::of(r));
                }
            }
            "JE" => {
                // The estimates are read (and checked) by name; the Liquidation fact carries the
                // liquidated amounts of JD only.
                for (f, what) in [
                    ("estimated_duty", "estimated duty"),
                    ("estimated_tax", "estimated tax"),
                    ("estimated_fees", "estimated fees"),
                    ("estimated_interest", "estimated interest"),
                    ("estimated_adcvd", "estimated AD/CVD"),
                ] {
                    cx.num(r, f, what);
                }
            }
            "JJ" => {
                // Protest data (03, page 43): one Protest fact per JJ, dated with its summary.
                let kind = FactKind::Protest {
                    number: cx.string(r, "protest_number"),
                    protest_type: cx.string(r, "protest_type"),
                    status: cx.string(r, "protest_status"),
                    decided: cx.date(r, "decision_date", "protest decision date"),
                    summons: cx.text(r, "summons") == "1",
                };
                if self.cur.is_some() {
                    self.protests.push((kind, Place::of(r)));
                } else {
                    cx.warn("I208", "JJ record before any JB record", Place::of(r));
                }
            }
            "JZ" => {
                // A returned condition (03, pages 51-52): CBP's word about the query, told as a
                // warning with the entry it names, if any.
                let code = cx.string(r, "condition_code");
                let narrative = cx.string(r, "narrative");
                let entry = match (cx.text(r, "filer_code"), cx.text(r, "entry_number")) {
                    ("", "") => String::new(),
                    (f, n) => {
                        EntryNumber::from_parts(f, n).map_or_else(|_| format!(" for {f} {n}"), |e| format!(" for {e}"))
                    }
                };
                let meaning = cx.grammars.codes.get("er_conditions", &code).map(|c| c.meaning.clone());
                let text = match meaning {
                    Some(m) if narrative.is_empty() => m,
                    _ => narrative,
                };
                cx.warn("I241", format!("ER returned condition {code}{entry}: {text}"), Place::of(r));
            }
            "JA" | "JF" | "JG" | "JH" | "JI" | "JI-NOBOND" | "JK" | "JK-NODATA" | "JL" | "JL-NODATA" | "JM" | "JN"
            | "JN-NODATA" | "4A" => {}
            other if other.starts_with("detail-") => {}
            other => cx.warn("I211", format!("record {other:?} in an ER block"), Place::of(r)),
        }
    }

    fn finish_one(&mut self, cx: &mut Cx<'_, '_>) {
        let seen = std::mem::take(&mut self.seen);
        let protests = std::mem::take(&mut self.protests);
        let Some((e, k, place)) = self.cur.take() else { return };
        for (i, (id, name)) in ER_MANDATORY.iter().enumerate() {
            if seen & (1 << i) == 0 {
                cx.warn(
                    "I240",
                    format!(
                        "the summary group of {e} has no {id} record: the Output Record Structure Map makes \
                         \"{id} {name}\" M (Reporting Mandatory), 1 per entry summary (03-entry-summary-query, page 24)"
                    ),
                    place,
                );
            }
        }
        let at = cx.day();
        cx.push(e.clone(), at, k, place);
        for (p, place) in protests {
            cx.push(e.clone(), at, p, place);
        }
    }

    pub(super) fn finish(mut self, cx: &mut Cx<'_, '_>) {
        self.finish_one(cx);
    }
}
