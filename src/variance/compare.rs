//! Field-by-field comparison of the broker's filing with the importer's approved pre-entry:
//! header, each line, each tariff (Chapter 99 pairs matched as pairs), fees and totals.
//!
//! An approved pre-entry is an AE-format summary (every field compared) or CSV rows (the
//! columns the CSV has: importer, HTS, origin, SPI, quantity, unit, value, duty, duty rate).

use super::{dollars_words, hts, money, money_words, quantity, rate, Basis, Collector, Found};
use crate::domain::{PreEntry, Summary, Tariff};

/// One approved tariff; `None` where the pre-entry format has no such column.
#[derive(Debug, Clone, Default)]
struct ATariff {
    hts: String,
    value_usd: i64,
    quantity: Option<i64>,
    uom: Option<String>,
    duty_cents: i64,
    rate_ppm: Option<i64>,
}

#[derive(Debug, Clone, Default)]
struct ALine {
    line: u32,
    origin: String,
    export: Option<String>,
    spi: String,
    tariffs: Vec<ATariff>,
}

fn approved_lines(pre: &PreEntry) -> Vec<ALine> {
    if let Some(s) = &pre.summary {
        return s
            .lines
            .iter()
            .map(|l| ALine {
                line: l.line,
                origin: l.country_of_origin.clone(),
                export: Some(l.country_of_export.clone()),
                spi: l.spi.clone(),
                tariffs: l
                    .tariffs
                    .iter()
                    .map(|t| ATariff {
                        hts: t.hts.clone(),
                        value_usd: t.value_usd,
                        quantity: Some(t.quantity_hundredths),
                        uom: Some(t.uom.clone()),
                        duty_cents: t.duty_cents,
                        rate_ppm: None,
                    })
                    .collect(),
            })
            .collect();
    }
    // CSV: one row per tariff; rows with the same line number are that line's tariffs in order.
    let mut out: Vec<ALine> = Vec::new();
    let mut index: std::collections::HashMap<u32, usize> = std::collections::HashMap::new();
    for r in &pre.lines {
        let t = ATariff {
            hts: r.hts.trim().replace('.', ""),
            value_usd: r.value_usd,
            quantity: Some(r.quantity_hundredths),
            uom: Some(r.uom.trim().to_ascii_uppercase()),
            duty_cents: r.duty_cents,
            rate_ppm: r.duty_rate_millionths,
        };
        match index.get(&r.line).and_then(|&i| out.get_mut(i)) {
            Some(l) => l.tariffs.push(t),
            None => {
                index.insert(r.line, out.len());
                out.push(ALine {
                    line: r.line,
                    origin: r.country_of_origin.trim().to_ascii_uppercase(),
                    export: None,
                    spi: r.spi.trim().to_ascii_uppercase(),
                    tariffs: vec![t],
                })
            }
        }
    }
    out
}

/// Chapter 99 (temporary / additional duty provisions, e.g. 9903.88.03).
pub fn is_chapter_99(hts: &str) -> bool {
    hts.trim().starts_with("99")
}

/// Pair approved and filed tariffs of one line: the same HTS first, then in order within the
/// same kind (Chapter 99 with Chapter 99, base with base); the rest are missing or extra.
fn pair(approved: &[ATariff], filed: &[Tariff]) -> Vec<(Option<usize>, Option<usize>)> {
    let mut a_used = vec![false; approved.len()];
    let mut f_used = vec![false; filed.len()];
    let mut pairs = Vec::new();
    for (fi, f) in filed.iter().enumerate() {
        if let Some(ai) = (0..approved.len()).find(|&ai| !a_used[ai] && approved[ai].hts == f.hts.trim()) {
            a_used[ai] = true;
            f_used[fi] = true;
            pairs.push((Some(ai), Some(fi)));
        }
    }
    for (fi, f) in filed.iter().enumerate() {
        if f_used[fi] {
            continue;
        }
        let kind = is_chapter_99(&f.hts);
        if let Some(ai) = (0..approved.len()).find(|&ai| !a_used[ai] && is_chapter_99(&approved[ai].hts) == kind) {
            a_used[ai] = true;
            f_used[fi] = true;
            pairs.push((Some(ai), Some(fi)));
        }
    }
    pairs.extend((0..filed.len()).filter(|&fi| !f_used[fi]).map(|fi| (None, Some(fi))));
    pairs.extend((0..approved.len()).filter(|&ai| !a_used[ai]).map(|ai| (Some(ai), None)));
    pairs
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn or_none(s: &str) -> String {
    if s.trim().is_empty() {
        "none".into()
    } else {
        s.trim().to_string()
    }
}

/// A code with its meaning: `11 (Vessel, container)`.
fn coded(c: &Collector<'_>, list: &str, code: &str) -> String {
    let m = c.meaning(list, code.trim());
    if code.trim().is_empty() {
        "blank".into()
    } else if m.is_empty() {
        code.trim().to_string()
    } else {
        format!("{} ({m})", code.trim())
    }
}

fn recon_words(r: &str) -> String {
    let r = r.trim();
    if r.is_empty() {
        return "not flagged".into();
    }
    let issue = |c: &str| match c {
        "001" => "value",
        "002" => "classification",
        "003" => "9802",
        "004" => "value and classification",
        "005" => "value and 9802",
        "006" => "classification and 9802",
        "007" => "value, classification and 9802",
        _ => "other",
    };
    let parts: Vec<String> = r
        .split_whitespace()
        .map(|p| if p == "FTA" { "trade agreement".to_string() } else { format!("{} ({p})", issue(p)) })
        .collect();
    format!("flagged for {}", parts.join(" and "))
}

/// Compare the filing with the approved pre-entry.
pub(crate) fn compare(c: &mut Collector<'_>, pre: &PreEntry, filed: &Summary) {
    header(c, pre, filed);
    let approved = approved_lines(pre);
    // By line number (the first line of a number wins when a file repeats it).
    let mut by_no: std::collections::BTreeMap<u32, (Option<&ALine>, Option<&crate::domain::Line>)> =
        std::collections::BTreeMap::new();
    for l in &approved {
        let slot = by_no.entry(l.line).or_default();
        slot.0 = slot.0.or(Some(l));
    }
    for l in &filed.lines {
        let slot = by_no.entry(l.line).or_default();
        slot.1 = slot.1.or(Some(l));
    }
    for (n, (a, f)) in by_no {
        match (a, f) {
            (Some(a), Some(f)) => line(c, a, f),
            (Some(a), None) => c.add(Found::new(
                Some(n),
                None,
                "line",
                Some(a.tariffs.iter().map(|t| t.hts.clone()).collect::<Vec<_>>().join(" ")),
                None,
                Basis::PreEntry,
                format!(
                    "approved line ({}) is not on the filing — goods left off the entry",
                    a.tariffs.iter().map(|t| hts(&t.hts)).collect::<Vec<_>>().join(" + ")
                ),
            )),
            (None, Some(f)) => c.add(Found::new(
                Some(n),
                None,
                "line",
                None,
                Some(f.tariffs.iter().map(|t| t.hts.clone()).collect::<Vec<_>>().join(" ")),
                Basis::PreEntry,
                format!(
                    "filed line ({}) is not in the approved pre-entry",
                    f.tariffs.iter().map(|t| hts(&t.hts)).collect::<Vec<_>>().join(" + ")
                ),
            )),
            (None, None) => {}
        }
    }
    if let Some(a) = &pre.summary {
        fees_and_totals(c, a, filed);
    }
}

fn header(c: &mut Collector<'_>, pre: &PreEntry, filed: &Summary) {
    let approved_importer = pre.summary.as_ref().map_or(pre.importer.as_str(), |s| s.importer.as_str());
    // Importer numbers compare on letters and digits (`12-345678900` = `1234567890 0`).
    let ior = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase();
    if !approved_importer.trim().is_empty() && ior(approved_importer) != ior(&filed.importer) {
        c.add(Found::new(
            None,
            None,
            "importer",
            opt(approved_importer),
            opt(&filed.importer),
            Basis::PreEntry,
            format!(
                "importer of record filed {}, approved {} — the entry is filed under another importer",
                or_none(&filed.importer),
                approved_importer.trim()
            ),
        ));
    }
    let Some(a) = &pre.summary else { return };
    let fields: [(&'static str, &str, &str, &str, &str); 4] = [
        ("entry_type", "entry type", "entry_types", &a.entry_type, &filed.entry_type),
        ("port", "port of entry", "", &a.port, &filed.port),
        (
            "mode_of_transport",
            "mode of transport",
            "modes_of_transport",
            &a.mode_of_transport,
            &filed.mode_of_transport,
        ),
        ("payment_type", "payment type", "payment_types", &a.payment_type, &filed.payment_type),
    ];
    for (field, label, list, av, fv) in fields {
        if av.trim() == fv.trim() {
            continue;
        }
        let (aw, fw) =
            if list.is_empty() { (or_none(av), or_none(fv)) } else { (coded(c, list, av), coded(c, list, fv)) };
        c.add(Found::new(
            None,
            None,
            field,
            opt(av),
            opt(fv),
            Basis::PreEntry,
            format!("{label} filed {fw}, approved {aw} — {label} differs"),
        ));
    }
    if a.reconciliation.trim() != filed.reconciliation.trim() {
        c.add(Found::new(
            None,
            None,
            "reconciliation",
            opt(&a.reconciliation),
            opt(&filed.reconciliation),
            Basis::PreEntry,
            format!(
                "reconciliation {}, approved {} — the reconciliation flag differs",
                recon_words(&filed.reconciliation),
                recon_words(&a.reconciliation)
            ),
        ));
    }
}

fn line(c: &mut Collector<'_>, a: &ALine, f: &crate::domain::Line) {
    let n = Some(a.line);
    if a.origin != f.country_of_origin.trim() {
        c.add(Found::new(
            n,
            None,
            "country_of_origin",
            opt(&a.origin),
            opt(&f.country_of_origin),
            Basis::PreEntry,
            format!(
                "country of origin filed {}, approved {} — origin differs (duty rates, AD/CVD and Section 301 depend on it)",
                or_none(&f.country_of_origin),
                or_none(&a.origin)
            ),
        ));
    }
    if let Some(ae) = &a.export {
        if ae.trim() != f.country_of_export.trim() {
            c.add(Found::new(
                n,
                None,
                "country_of_export",
                opt(ae),
                opt(&f.country_of_export),
                Basis::PreEntry,
                format!(
                    "country of export filed {}, approved {} — country of export differs",
                    or_none(&f.country_of_export),
                    or_none(ae)
                ),
            ));
        }
    }
    if a.spi != f.spi.trim() {
        let words = match (a.spi.is_empty(), f.spi.trim().is_empty()) {
            (true, false) => "a program claim was filed that the importer did not approve".to_string(),
            (false, true) => "the approved program claim was not made — duty may be overpaid".to_string(),
            _ => "program claim differs".to_string(),
        };
        c.add(Found::new(
            n,
            None,
            "spi",
            opt(&a.spi),
            opt(&f.spi),
            Basis::PreEntry,
            format!("SPI filed {}, approved {} — {words}", or_none(&f.spi), or_none(&a.spi)),
        ));
    }
    let line_value: i64 = f.tariffs.iter().map(|t| t.value_usd).sum();
    for (ai, fi) in pair(&a.tariffs, &f.tariffs) {
        match (ai.and_then(|i| a.tariffs.get(i)), fi.and_then(|i| f.tariffs.get(i).map(|t| (i, t)))) {
            (Some(at), Some((i, ft))) => tariff(c, a.line, i as u32 + 1, at, ft, line_value),
            (Some(at), None) => {
                let k = ai.map_or(0, |i| i as u32 + 1);
                let what = if is_chapter_99(&at.hts) {
                    "the approved Chapter 99 provision is missing from the filing"
                } else {
                    "the approved tariff number is missing from the filing"
                };
                c.add(Found::new(
                    n,
                    Some(k),
                    "hts",
                    opt(&at.hts),
                    None,
                    Basis::PreEntry,
                    format!("HTS approved {}, not filed — {what}", hts(&at.hts)),
                ));
            }
            (None, Some((i, ft))) => {
                let what = if is_chapter_99(&ft.hts) {
                    "a Chapter 99 provision was filed that the importer did not approve"
                } else {
                    "a tariff number was filed that the importer did not approve"
                };
                c.add(Found::new(
                    n,
                    Some(i as u32 + 1),
                    "hts",
                    None,
                    opt(&ft.hts),
                    Basis::PreEntry,
                    format!("HTS filed {}, not approved — {what}", hts(&ft.hts)),
                ));
            }
            (None, None) => {}
        }
    }
}

fn tariff(c: &mut Collector<'_>, line: u32, k: u32, a: &ATariff, f: &Tariff, line_value: i64) {
    let (n, t) = (Some(line), Some(k));
    if a.hts != f.hts.trim() {
        c.add(Found::new(
            n,
            t,
            "hts",
            opt(&a.hts),
            opt(&f.hts),
            Basis::PreEntry,
            format!("HTS filed {}, approved {} — classification differs", hts(&f.hts), hts(&a.hts)),
        ));
    }
    if !c.tol.value_ok(a.value_usd, f.value_usd) {
        let diff = f.value_usd.saturating_sub(a.value_usd);
        let pct = if a.value_usd != 0 {
            format!(
                " ({}{})",
                if diff > 0 { "+" } else { "-" },
                rate(super::div_round(
                    i128::from(diff.unsigned_abs()) * 1_000_000,
                    i128::from(a.value_usd.unsigned_abs())
                ) as i64)
            )
        } else {
            String::new()
        };
        c.add(Found::new(
            n,
            t,
            "value",
            Some(a.value_usd.to_string()),
            Some(f.value_usd.to_string()),
            Basis::PreEntry,
            format!(
                "value filed {}, approved {} — entered value differs by {}{pct}, beyond the {} tolerance",
                dollars_words(f.value_usd),
                dollars_words(a.value_usd),
                dollars_words(diff.saturating_abs()),
                rate(c.tol.value_ppm)
            ),
        ));
    }
    if let Some(q) = a.quantity {
        if q != f.quantity_hundredths {
            c.add(Found::new(
                n,
                t,
                "quantity",
                Some(quantity(q)),
                Some(quantity(f.quantity_hundredths)),
                Basis::PreEntry,
                format!(
                    "quantity filed {}, approved {} — reported quantity differs",
                    quantity(f.quantity_hundredths),
                    quantity(q)
                ),
            ));
        }
    }
    if let Some(u) = &a.uom {
        if u.trim() != f.uom.trim() {
            c.add(Found::new(
                n,
                t,
                "uom",
                opt(u),
                opt(&f.uom),
                Basis::PreEntry,
                format!("unit of measure filed {}, approved {} — unit differs", or_none(&f.uom), or_none(u)),
            ));
        }
    }
    if !c.tol.money_ok(a.duty_cents, f.duty_cents) {
        let diff = f.duty_cents.saturating_sub(a.duty_cents);
        c.add(Found::new(
            n,
            t,
            "duty",
            Some(money(a.duty_cents)),
            Some(money(f.duty_cents)),
            Basis::PreEntry,
            format!(
                "duty filed {}, approved {} — duty {} by {}, beyond the {} tolerance",
                money_words(f.duty_cents),
                money_words(a.duty_cents),
                if diff > 0 { "overpaid" } else { "underpaid" },
                money_words(diff.saturating_abs()),
                money_words(c.tol.duty_cents)
            ),
        ));
    }
    // Effective rate against the approved rate: the duty the approved rate gives on the filed
    // value (a Chapter 99 tariff without its own value uses the line's value), within the duty
    // tolerance.
    if let Some(r) = a.rate_ppm {
        let base = if f.value_usd > 0 { f.value_usd } else { line_value };
        let expected = super::div_round(i128::from(base) * 100 * i128::from(r), 1_000_000) as i64;
        if base > 0 && !c.tol.money_ok(expected, f.duty_cents) {
            let eff = super::div_round(i128::from(f.duty_cents) * 10_000, i128::from(base)) as i64;
            c.add(Found::new(
                n,
                t,
                "duty_rate",
                Some(rate(r)),
                Some(rate(eff)),
                Basis::PreEntry,
                format!(
                    "effective duty rate filed {} ({} on {}), approved rate {} gives {} — the rate applied differs",
                    rate(eff),
                    money_words(f.duty_cents),
                    dollars_words(base),
                    rate(r),
                    money_words(expected)
                ),
            ));
        }
    }
}

fn fees_and_totals(c: &mut Collector<'_>, a: &Summary, f: &Summary) {
    let fee = |s: &Summary, class: &str| s.fee_totals.get(class).copied().unwrap_or(0);
    let items: [(&'static str, &str, i64, i64); 4] = [
        ("mpf", "merchandise processing fee (MPF)", fee(a, "499"), fee(f, "499")),
        ("hmf", "harbor maintenance fee (HMF)", fee(a, "501"), fee(f, "501")),
        ("total_duty", "total duty", a.total_duty_cents, f.total_duty_cents),
        ("total_fees", "total fees", a.total_fees_cents, f.total_fees_cents),
    ];
    for (field, label, av, fv) in items {
        if !c.tol.money_ok(av, fv) {
            c.add(Found::new(
                None,
                None,
                field,
                Some(money(av)),
                Some(money(fv)),
                Basis::PreEntry,
                format!(
                    "{label} filed {}, approved {} — differs by {}",
                    money_words(fv),
                    money_words(av),
                    money_words(fv.saturating_sub(av).saturating_abs())
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: &str) -> ATariff {
        ATariff { hts: h.into(), ..ATariff::default() }
    }
    fn ft(h: &str) -> Tariff {
        Tariff { hts: h.into(), ..Tariff::default() }
    }

    #[test]
    fn chapter_99_pairs_match_as_pairs() {
        // Same numbers, other order: matched by number.
        let p = pair(&[at("9903880300"), at("6110202079")], &[ft("6110202079"), ft("9903880300")]);
        assert!(p.contains(&(Some(1), Some(0))) && p.contains(&(Some(0), Some(1))), "{p:?}");
        // Missing Chapter 99 line: the base still pairs; the 99 is missing.
        let p = pair(&[at("9903880300"), at("6110202079")], &[ft("6110202079")]);
        assert!(p.contains(&(Some(1), Some(0))) && p.contains(&(Some(0), None)), "{p:?}");
        // Other base number: paired with the base, not with the 99.
        let p = pair(&[at("9903880300"), at("6110202079")], &[ft("9903880300"), ft("6110202080")]);
        assert!(p.contains(&(Some(1), Some(1))) && p.contains(&(Some(0), Some(0))), "{p:?}");
    }
}
