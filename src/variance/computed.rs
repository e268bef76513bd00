//! Checks computed from the filing alone (no pre-entry needed): totals (90/89) against the sum
//! of lines, MPF (rate and fiscal-year minimum/maximum from grammars/codes/mpf.toml, exempt
//! lines from grammars/codes/mpf_exemptions.toml), HMF (vessel modes only), SPI claimed but
//! duty charged, the entry number check digit; and at liquidation, liquidated duty, fees,
//! taxes, AD/CVD or interest above what was filed, with CBP's reason codes in words from the
//! liquidation_reasons code list.

use super::{div_round, hts, money, money_words, Basis, Collector, Found, Reason};
use crate::domain::{Entry, LiquidationStatus, Summary};
use crate::grammar::Grammars;
use chrono::NaiveDate;

/// HMF: 0.125 % of value (reference/abi.md §8.3), in millionths.
pub const HMF_RATE_PPM: i64 = 1250;
/// Vessel modes of transport (HMF applies).
pub const VESSEL_MODES: [&str; 3] = ["10", "11", "12"];
/// Entry types with no formal MPF (informal 11/12, TIB 23).
const NO_FORMAL_MPF: [&str; 3] = ["11", "12", "23"];
/// Entry types exempt from HMF.
const NO_HMF: [&str; 8] = ["06", "11", "12", "22", "31", "32", "34", "38"];

/// One row of the MPF table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpfRow {
    pub from: NaiveDate,
    /// Inclusive; `None` = open.
    pub to: Option<NaiveDate>,
    pub rate_ppm: i64,
    pub min_cents: i64,
    pub max_cents: i64,
}

/// The MPF row for a date from the `mpf` code list's `[[table]]` rows.
pub fn mpf_row(grammars: &Grammars, day: NaiveDate) -> Option<MpfRow> {
    let list = grammars.codes.list("mpf")?;
    list.table.iter().filter_map(parse_row).find(|r| r.from <= day && r.to.is_none_or(|t| day <= t))
}

fn parse_row(t: &toml::Table) -> Option<MpfRow> {
    let date = |k: &str| t.get(k).and_then(|v| v.as_str()).and_then(|s| s.parse::<NaiveDate>().ok());
    let int = |k: &str| t.get(k).and_then(|v| v.as_integer());
    Some(MpfRow {
        from: date("from_date")?,
        to: date("to_date"),
        rate_ppm: int("rate_per_million")?,
        min_cents: int("min_cents")?,
        max_cents: int("max_cents")?,
    })
}

/// `value × rate`, rounded half-up to the cent.
pub fn fee_cents(value_usd: i64, rate_ppm: i64) -> i64 {
    div_round(i128::from(value_usd) * 100 * i128::from(rate_ppm), 1_000_000) as i64
}

/// The formal MPF of an entry: each line's `value × rate` (rounded to the cent), summed, then
/// clamped to the period's minimum and maximum. Also returns the whole-entry computation
/// (`total value × rate`, clamped), which may differ by a few cents of rounding.
pub fn mpf_expected(s: &Summary, row: &MpfRow) -> (i64, i64) {
    mpf_expected_lines(&s.lines.iter().collect::<Vec<_>>(), row)
}

fn mpf_raw(lines: &[&crate::domain::Line], row: &MpfRow) -> (i64, i64) {
    let per_line: i64 =
        lines.iter().map(|l| fee_cents(l.tariffs.iter().map(|t| t.value_usd).sum(), row.rate_ppm)).sum();
    let total_value: i64 = lines.iter().flat_map(|l| l.tariffs.iter()).map(|t| t.value_usd).sum();
    (per_line, fee_cents(total_value, row.rate_ppm))
}

/// [`mpf_expected`] over the given (MPF-liable) lines.
pub fn mpf_expected_lines(lines: &[&crate::domain::Line], row: &MpfRow) -> (i64, i64) {
    let (per_line, whole) = mpf_raw(lines, row);
    let clamp = |v: i64| v.clamp(row.min_cents, row.max_cents.max(row.min_cents));
    (clamp(per_line), clamp(whole))
}

/// The MPF exemption rules of the `mpf_exemptions` code list (usage note m, page 161).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MpfExemptions {
    pub origins: Vec<String>,
    pub spis: Vec<String>,
    pub hts_exempt: Vec<String>,
    pub hts_not_exempt: Vec<String>,
}

impl MpfExemptions {
    pub fn from_grammars(grammars: &Grammars) -> MpfExemptions {
        let mut x = MpfExemptions::default();
        let Some(list) = grammars.codes.list("mpf_exemptions") else { return x };
        for t in &list.table {
            let codes: Vec<String> = t
                .get("codes")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|c| c.as_str()).map(|c| c.trim().to_string()).collect())
                .unwrap_or_default();
            match t.get("kind").and_then(|v| v.as_str()) {
                Some("origin") => x.origins.extend(codes),
                Some("spi") => x.spis.extend(codes),
                Some("hts_exempt") => x.hts_exempt.extend(codes),
                Some("hts_not_exempt") => x.hts_not_exempt.extend(codes),
                _ => {}
            }
        }
        x
    }

    /// Why a line pays no formal MPF, if it does not.
    pub fn reason(&self, l: &crate::domain::Line) -> Option<String> {
        let origin = l.country_of_origin.trim();
        if self.origins.iter().any(|o| o == origin) {
            return Some(format!("origin {origin}"));
        }
        let spi = l.spi.trim();
        if !spi.is_empty() && self.spis.iter().any(|x| x == spi) {
            return Some(format!("SPI {spi}"));
        }
        let digits = |h: &str| h.chars().filter(char::is_ascii_digit).collect::<String>();
        let ch98 = l.tariffs.iter().map(|t| digits(&t.hts)).find(|h| {
            self.hts_exempt.iter().any(|p| h.starts_with(p.as_str()))
                && !self.hts_not_exempt.iter().any(|p| h.starts_with(p.as_str()))
        });
        ch98.map(|h| format!("HTS {h} (Chapter 98)"))
    }
}

/// The MPF date: entry date, else release date, statement print date, date of importation.
fn mpf_date(e: &Entry, s: &Summary) -> Option<NaiveDate> {
    s.entry_date.or(e.entry_date).or(e.release_date).or(s.statement_print_date).or(s.import_date)
}

fn line_fee_sum(s: &Summary, class: &str) -> Option<i64> {
    let v: Vec<i64> = s.lines.iter().filter_map(|l| l.fees.get(class).copied()).collect();
    (!v.is_empty()).then(|| v.iter().sum())
}

/// A fee's filed amount: the 89 total, else the sum of the 62 line fees.
fn filed_fee(s: &Summary, class: &str) -> Option<i64> {
    s.fee_totals.get(class).copied().or_else(|| line_fee_sum(s, class))
}

pub(crate) fn checks(c: &mut Collector<'_>, e: &Entry, s: &Summary) {
    totals(c, s);
    mpf(c, e, s);
    hmf(c, s);
    spi_duty(c, s);
    liquidation(c, e, s);
}

fn totals(c: &mut Collector<'_>, s: &Summary) {
    let line_duty: i64 = s.lines.iter().flat_map(|l| l.tariffs.iter()).map(|t| t.duty_cents).sum();
    if line_duty != s.total_duty_cents {
        c.add(Found::new(
            None,
            None,
            "total_duty",
            Some(money(line_duty)),
            Some(money(s.total_duty_cents)),
            Basis::Computed,
            format!(
                "total duty (90 record) filed {}, the lines add up to {} — the summary totals do not match its lines",
                money_words(s.total_duty_cents),
                money_words(line_duty)
            ),
        ));
    }
    // Each fee class's 89 total against its 62 line fees (MPF 499 is clamped: checked by `mpf`).
    let mut classes: Vec<&String> = s.fee_totals.keys().chain(s.lines.iter().flat_map(|l| l.fees.keys())).collect();
    classes.sort();
    classes.dedup();
    for class in classes {
        if class == "499" {
            continue;
        }
        let Some(lines) = line_fee_sum(s, class) else { continue };
        let total = s.fee_totals.get(class).copied().unwrap_or(0);
        if lines != total {
            let (field, name) = if class == "501" {
                ("hmf", "harbor maintenance fee (HMF, class 501)".to_string())
            } else {
                ("fee", format!("user fee class {class}{}", fee_name(c, class)))
            };
            c.add(Found::new(
                None,
                None,
                field,
                Some(money(lines)),
                Some(money(total)),
                Basis::Computed,
                format!(
                    "{name} total (89 record) filed {}, the line fees add up to {} — fee total does not match its lines",
                    money_words(total),
                    money_words(lines)
                ),
            ));
        }
    }
    let fee_total: i64 = s.fee_totals.values().sum();
    if !s.fee_totals.is_empty() && fee_total != s.total_fees_cents {
        c.add(Found::new(
            None,
            None,
            "total_fees",
            Some(money(fee_total)),
            Some(money(s.total_fees_cents)),
            Basis::Computed,
            format!(
                "total user fees (90 record) filed {}, the fee totals (89 records) add up to {} — the summary totals do not match",
                money_words(s.total_fees_cents),
                money_words(fee_total)
            ),
        ));
    }
}

fn fee_name(c: &Collector<'_>, class: &str) -> String {
    let m = c.meaning("fee_classes", class);
    if m.is_empty() {
        String::new()
    } else {
        format!(" ({m})")
    }
}

/// MPF was filed where none is due: expected 0, filed `filed`, in `why`'s words.
fn no_mpf_due(c: &mut Collector<'_>, filed: i64, why: String) {
    c.add(Found::new(None, None, "mpf", Some(money(0)), Some(money(filed)), Basis::Computed, why));
}

/// Formal MPF (class 499): usage notes m, n, w of 02-entry-summary-create-update (pages 161,
/// 173-174). Exempt lines (usage note m) are left out; all exempt = no MPF. A consolidated
/// summary may exceed the maximum; a fixed transport (MOT 70) shipment ignores minimum and
/// maximum (usage note w, page 174). No table row for the MPF date: a warning, never the last
/// row's numbers.
fn mpf(c: &mut Collector<'_>, e: &Entry, s: &Summary) {
    let Some(filed) = filed_fee(s, "499") else { return };
    if NO_FORMAL_MPF.contains(&s.entry_type.trim()) {
        if filed != 0 {
            no_mpf_due(
                c,
                filed,
                format!(
                    "formal MPF filed {} on entry type {} — this entry type pays no formal MPF",
                    money_words(filed),
                    s.entry_type.trim()
                ),
            );
        }
        return;
    }
    let exemptions = MpfExemptions::from_grammars(c.grammars);
    let liable: Vec<&crate::domain::Line> = s.lines.iter().filter(|l| exemptions.reason(l).is_none()).collect();
    if liable.is_empty() && !s.lines.is_empty() {
        if filed != 0 {
            let why: Vec<String> =
                s.lines.iter().filter_map(|l| exemptions.reason(l).map(|r| format!("line {} {r}", l.line))).collect();
            no_mpf_due(
                c,
                filed,
                format!(
                    "formal MPF filed {}, but every line is exempt ({}; usage note m) — no MPF is due",
                    money_words(filed),
                    why.join(", ")
                ),
            );
        }
        return;
    }
    let Some(day) = mpf_date(e, s) else { return };
    let Some(row) = mpf_row(c.grammars, day) else {
        c.add(Found::new(
            None,
            None,
            "mpf",
            None,
            Some(money(filed)),
            Basis::Computed,
            format!(
                "MPF filed {} not checked: grammars/codes/mpf.toml has no fiscal-year row for {day} — add the rates from that fiscal year's Federal Register notice",
                money_words(filed)
            ),
        ));
        return;
    };
    let (by_line, by_total) = mpf_expected_lines(&liable, &row);
    let (raw_line, raw_total) = mpf_raw(&liable, &row);
    let mut accepted = vec![by_line, by_total];
    if s.consolidated {
        // Usage note w: more than the maximum is accepted for a consolidated summary.
        accepted.extend([raw_line.max(row.min_cents), raw_total.max(row.min_cents)]);
    }
    if s.mode_of_transport.trim() == "70" {
        // Usage note w: less than the minimum or more than the maximum for MOT 70.
        accepted.extend([raw_line, raw_total]);
    }
    if accepted.iter().any(|x| c.tol.money_ok(*x, filed)) {
        return;
    }
    let clamp_note = if by_line == row.min_cents {
        format!(", the minimum {}", money_words(row.min_cents))
    } else if by_line == row.max_cents {
        format!(", the maximum {}", money_words(row.max_cents))
    } else {
        String::new()
    };
    c.add(Found::new(
        None,
        None,
        "mpf",
        Some(money(by_line)),
        Some(money(filed)),
        Basis::Computed,
        format!(
            "MPF filed {}, recomputed {} ({} of value{clamp_note}; fiscal year table row from {}) — MPF is miscalculated",
            money_words(filed),
            money_words(by_line),
            super::rate(row.rate_ppm),
            row.from
        ),
    ));
}

fn hmf(c: &mut Collector<'_>, s: &Summary) {
    let filed = filed_fee(s, "501");
    let vessel = VESSEL_MODES.contains(&s.mode_of_transport.trim());
    let value: i64 = s.lines.iter().flat_map(|l| l.tariffs.iter()).map(|t| t.value_usd).sum();
    let per_line: i64 =
        s.lines.iter().map(|l| fee_cents(l.tariffs.iter().map(|t| t.value_usd).sum(), HMF_RATE_PPM)).sum();
    let whole = fee_cents(value, HMF_RATE_PPM);
    match (vessel, filed) {
        (false, Some(f)) if f != 0 => c.add(Found::new(
            None,
            None,
            "hmf",
            Some(money(0)),
            Some(money(f)),
            Basis::Computed,
            format!(
                "HMF filed {} on mode of transport {} — HMF applies to vessel shipments (10, 11, 12) only",
                money_words(f),
                s.mode_of_transport.trim()
            ),
        )),
        (true, Some(f)) if !c.tol.money_ok(per_line, f) && !c.tol.money_ok(whole, f) => c.add(Found::new(
            None,
            None,
            "hmf",
            Some(money(per_line)),
            Some(money(f)),
            Basis::Computed,
            format!(
                "HMF filed {}, recomputed {} (0.125% of value) — HMF is miscalculated",
                money_words(f),
                money_words(per_line)
            ),
        )),
        (true, None) if per_line > 300 && !NO_HMF.contains(&s.entry_type.trim()) => c.add(Found::new(
            None,
            None,
            "hmf",
            Some(money(per_line)),
            None,
            Basis::Computed,
            format!(
                "no HMF filed on a vessel shipment (mode {}), expected {} (0.125% of value)",
                s.mode_of_transport.trim(),
                money_words(per_line)
            ),
        )),
        _ => {}
    }
}

fn spi_duty(c: &mut Collector<'_>, s: &Summary) {
    for l in &s.lines {
        let spi = l.spi.trim();
        if spi.is_empty() {
            continue;
        }
        for (k, t) in l.tariffs.iter().enumerate() {
            // Chapter 99 duties (Section 301/232) are owed whatever the program claim.
            if super::compare::is_chapter_99(&t.hts) || t.duty_cents <= 0 {
                continue;
            }
            c.add(Found::new(
                Some(l.line),
                Some(k as u32 + 1),
                "spi",
                Some(format!("{spi}, duty 0.00")),
                Some(format!("{spi}, duty {}", money(t.duty_cents))),
                Basis::Computed,
                format!(
                    "SPI {spi} claimed on HTS {} but duty {} charged — a program claim should make the base tariff free; either the claim or the duty is wrong",
                    hts(&t.hts),
                    money_words(t.duty_cents)
                ),
            ));
        }
    }
}

fn liquidation(c: &mut Collector<'_>, e: &Entry, s: &Summary) {
    let l = &e.liquidation;
    if l.status != LiquidationStatus::Liquidated {
        return;
    }
    let reasons: Vec<Reason> = l
        .reasons
        .iter()
        .map(|code| {
            let m = c.meaning("liquidation_reasons", code);
            Reason { code: code.clone(), meaning: if m.is_empty() { "unknown reason code".into() } else { m } }
        })
        .collect();
    let why = if reasons.is_empty() {
        "CBP gave no reason code".to_string()
    } else {
        format!(
            "CBP's reasons: {}",
            reasons.iter().map(|r| format!("{} {}", r.code, r.meaning.to_lowercase())).collect::<Vec<_>>().join(", ")
        )
    };
    let date = l.date.map(|d| format!(" on {d}")).unwrap_or_default();
    // Issue 14 item 7: AD/CVD, taxes and interest are compared too (ER JD,
    // 03-entry-summary-query): the largest bills come from AD/CVD. Taxes filed: the 90-record
    // total when read, else the statement's; AD/CVD filed: the 90-record totals when read (not
    // compared until then);
    // interest is never filed, so any is a bill.
    let filed_tax = s.total_tax_cents.or(e.statement.as_ref().map(|st| st.tax_cents));
    let mut items: Vec<(&'static str, &str, i64, i64)> = vec![
        ("liquidated_duty", "duty", s.total_duty_cents, l.duty_cents),
        ("liquidated_fees", "fees", s.total_fees_cents, l.fees_cents),
        ("liquidated_interest", "interest", 0, l.interest_cents),
    ];
    if let Some(t) = filed_tax {
        items.push(("liquidated_tax", "taxes", t, l.tax_cents));
    }
    if let Some(a) = s.total_adcvd_cents {
        items.push(("liquidated_adcvd", "AD/CVD", a, l.adcvd_cents));
    }
    for (field, what, filed, liquidated) in items {
        if liquidated <= filed || c.tol.money_ok(filed, liquidated) {
            continue;
        }
        let mut f = Found::new(
            None,
            None,
            field,
            None,
            Some(money(filed)),
            Basis::Liquidation,
            format!(
                "liquidated {what} {} is {} more than filed {}{date} — {why}; a bill will follow; consider a protest (180 days from liquidation)",
                money_words(liquidated),
                money_words(liquidated.saturating_sub(filed)),
                money_words(filed)
            ),
        );
        f.liquidated = Some(money(liquidated));
        f.reasons = reasons.clone();
        c.add(f);
    }
}

/// The entry number's check digit (Appendix E). A mismatch is minor: CBP may authorise
/// +1..+9 for filers that exhausted their numbers.
pub(crate) fn check_digit(c: &mut Collector<'_>, e: &Entry) {
    let Some(n) = &e.entry else { return };
    let Some(expected) = crate::entry_number::check_digit(&n.filer, &n.number) else { return };
    if expected != n.check {
        c.add(Found::new(
            None,
            None,
            "entry_number",
            Some(expected.to_string()),
            Some(n.check.to_string()),
            Basis::Computed,
            format!(
                "entry number {n} has check digit {}, Appendix E gives {expected} — a typing error, unless CBP authorised this filer an offset",
                n.check
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Line, Tariff};

    fn summary(values: &[i64]) -> Summary {
        Summary {
            lines: values
                .iter()
                .enumerate()
                .map(|(i, v)| Line {
                    line: i as u32 + 1,
                    tariffs: vec![Tariff { value_usd: *v, ..Tariff::default() }],
                    ..Line::default()
                })
                .collect(),
            ..Summary::default()
        }
    }

    #[test]
    fn a_wrong_check_digit_is_a_minor_difference() {
        let g = Grammars::embedded().unwrap();
        let cfg = crate::config::Variance::default();
        let mut e = Entry {
            entry: Some(crate::entry_number::EntryNumber { filer: "B76".into(), number: "0324527".into(), check: 8 }),
            ..Entry::default()
        };
        let r = crate::variance::evaluate(&e, None, &cfg, &g);
        assert!(r.differences.is_empty(), "CBP's worked example B76-0324527-8 is right: {r:?}");
        if let Some(n) = e.entry.as_mut() {
            n.check = 9;
        }
        let r = crate::variance::evaluate(&e, None, &cfg, &g);
        assert_eq!(r.differences.len(), 1);
        let d = &r.differences[0];
        assert_eq!(
            (d.field.as_str(), d.approved.as_deref(), d.filed.as_deref()),
            ("entry_number", Some("8"), Some("9"))
        );
        assert_eq!(d.severity, crate::variance::Severity::Minor);
    }

    #[test]
    fn mpf_rows_follow_the_fiscal_year() {
        let g = Grammars::embedded().unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let fy26 = mpf_row(&g, d("2025-10-01")).unwrap();
        assert_eq!((fy26.min_cents, fy26.max_cents, fy26.rate_ppm), (3358, 65150, 3464));
        let fy25 = mpf_row(&g, d("2025-09-30")).unwrap();
        assert_eq!((fy25.min_cents, fy25.max_cents), (3271, 63462));
        assert!(mpf_row(&g, d("2005-01-01")).is_none());
    }

    #[test]
    fn mpf_is_rounded_per_line_and_clamped() {
        let row = MpfRow { from: NaiveDate::MIN, to: None, rate_ppm: 3464, min_cents: 3358, max_cents: 65150 };
        // 10,000 → 34.64; 5,000 → 17.32.
        assert_eq!(mpf_expected(&summary(&[10_000, 5_000]), &row), (5196, 5196));
        // Small entry: the minimum.
        assert_eq!(mpf_expected(&summary(&[1_000]), &row).0, 3358);
        // Large entry: the maximum.
        assert_eq!(mpf_expected(&summary(&[1_000_000]), &row).0, 65150);
        // Rounding half-up per line: 145 × 0.3464% = 0.50228 → 0.50; 3 lines of 145.
        assert_eq!(fee_cents(145, 3464), 50);
        assert_eq!(fee_cents(10_000, HMF_RATE_PPM), 1250);
    }
}
