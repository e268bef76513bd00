//! The three-way match: approved pre-entry, the broker's filing (AE) and ACE's own record
//! (ES-003), joined on entry + line + tariff ordinal, with the variance tolerances and severities.

pub use crate::domain::ace::AceRecord;

use super::AceRow;
use crate::config;
use crate::domain::{Entry, Summary};
use crate::variance::{severity_for, Severity, Tolerance};
use serde::{Deserialize, Serialize};

/// What kind of finding (each is an alert category and a row of `report three-way`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// ACE holds the entry under the importer's number; no broker file and no pre-entry mention it.
    UnreportedEntry,
    /// The broker's copy and ACE differ (the broker filed something else, or CBP changed it).
    AceBrokerMismatch,
    /// ACE differs from the approved pre-entry although the broker's copy agrees with ACE.
    AceApprovedMismatch,
    /// ACE reports a liquidation entrywatch has not seen from an ER (or with another date).
    AceLiquidation,
    /// ACE shows a post summary correction entrywatch did not see from the broker.
    AcePsc,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::UnreportedEntry => "unreported-entry",
            FindingKind::AceBrokerMismatch => "ace-broker-mismatch",
            FindingKind::AceApprovedMismatch => "ace-approved-mismatch",
            FindingKind::AceLiquidation => "ace-liquidation",
            FindingKind::AcePsc => "ace-psc",
        }
    }
}

/// One finding: the three values side by side (blank where a side has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// 0 for entry-level findings.
    pub line: u32,
    pub ordinal: u32,
    pub field: String,
    pub approved: Option<String>,
    pub broker: Option<String>,
    pub ace: Option<String>,
    /// The ES-003 row the ACE value came from (0 when none).
    pub ace_row: usize,
}

impl Finding {
    /// A stable key (kind, place, values): the same finding never alerts twice.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.kind.as_str(),
            self.line,
            self.ordinal,
            self.field,
            self.approved.as_deref().unwrap_or(""),
            self.broker.as_deref().unwrap_or(""),
            self.ace.as_deref().unwrap_or("")
        )
    }

    /// One line in words.
    pub fn explanation(&self) -> String {
        let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        let place = if self.line == 0 { String::new() } else { format!("line {} tariff {} ", self.line, self.ordinal) };
        match self.kind {
            FindingKind::UnreportedEntry => {
                format!("ACE holds this entry ({}) but no broker file and no pre-entry mention it", v(&self.ace))
            }
            _ => format!(
                "{}: {place}{}: approved {}, broker {}, ACE {}",
                self.kind.as_str(),
                self.field,
                v(&self.approved),
                v(&self.broker),
                v(&self.ace)
            ),
        }
    }
}

/// The three-way result of one entry (present when ACE's record is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ThreeWay {
    pub findings: Vec<Finding>,
    /// The ES-003 file the ACE side comes from.
    pub ace_file: String,
}

/// One tariff's comparable values from one side.
#[derive(Debug, Clone, Default)]
struct Vals {
    hts: String,
    /// Cents; `None` where the side gives no value (Chapter 99 rows).
    value: Option<i64>,
    duty: Option<i64>,
    country_of_origin: String,
    spi: String,
    quantity: Option<i64>,
    uom: String,
    /// Manufacturer ID (MID): ES-003 "Manufacturer ID", AE 47 type M, pre-entry `manufacturer_id`.
    manufacturer: String,
}

fn from_ace(r: &AceRow) -> Vals {
    Vals {
        hts: r.hts.clone(),
        value: r.value_cents.filter(|v| *v != 0 || !crate::variance::compare::is_chapter_99(&r.hts)),
        duty: r.duty_cents,
        country_of_origin: r.country_of_origin.clone(),
        spi: r.spi.clone(),
        quantity: r.quantity_hundredths,
        uom: r.uom.clone(),
        manufacturer: r.manufacturer.clone(),
    }
}

/// A summary's values for one line and tariff ordinal (1 = the commodity tariff).
fn summary_vals(s: &Summary, line: u32, ordinal: u32) -> Option<Vals> {
    let l = s.lines.iter().find(|l| l.line == line)?;
    let t = l.tariffs.get(usize::try_from(ordinal).ok()?.checked_sub(1)?)?;
    Some(Vals {
        hts: t.hts.clone(),
        value: Some(t.value_usd.saturating_mul(100)),
        duty: Some(t.duty_cents),
        country_of_origin: l.country_of_origin.clone(),
        spi: l.spi.clone(),
        quantity: Some(t.quantity_hundredths),
        uom: t.uom.clone(),
        manufacturer: l.manufacturer_id.clone(),
    })
}

fn broker_vals(e: &Entry, line: u32, ordinal: u32) -> Option<Vals> {
    summary_vals(&e.current_filing()?.summary, line, ordinal)
}

fn approved_vals(e: &Entry, line: u32, ordinal: u32) -> Option<Vals> {
    let p = e.pre_entry.as_ref()?;
    if let Some(s) = &p.summary {
        return summary_vals(s, line, ordinal);
    }
    // A CSV pre-entry carries one tariff per line (the commodity tariff).
    if ordinal != 1 {
        return None;
    }
    let l = p.lines.iter().find(|l| l.line == line)?;
    Some(Vals {
        hts: l.hts.clone(),
        value: Some(l.value_usd.saturating_mul(100)),
        duty: Some(l.duty_cents),
        country_of_origin: l.country_of_origin.clone(),
        spi: l.spi.clone(),
        quantity: Some(l.quantity_hundredths),
        uom: l.uom.clone(),
        manufacturer: l.manufacturer_id.clone(),
    })
}

fn money(c: i64) -> String {
    crate::variance::money(c)
}

/// Field by field: `(field, rendered value, equal-within-tolerance)`, for fields ACE reports.
fn differs(field: &str, a: &Vals, b: &Vals, tol: &Tolerance) -> bool {
    match field {
        "hts" => hts_digits10(&a.hts) != hts_digits10(&b.hts),
        "value" => matches!((a.value, b.value), (Some(x), Some(y)) if !tol.value_ok(x, y)),
        "duty" => matches!((a.duty, b.duty), (Some(x), Some(y)) if !tol.money_ok(x, y)),
        "country_of_origin" => a.country_of_origin.trim() != b.country_of_origin.trim(),
        "spi" => a.spi.trim() != b.spi.trim(),
        "quantity" => matches!((a.quantity, b.quantity), (Some(x), Some(y)) if x != y),
        "uom" => a.uom.trim() != b.uom.trim(),
        // A side that names no MID (an older pre-entry CSV, an AE without a 47 record) is not
        // compared: only two named MIDs can differ.
        "manufacturer_id" => {
            let (x, y) = (mid(&a.manufacturer), mid(&b.manufacturer));
            !x.is_empty() && !y.is_empty() && x != y
        }
        _ => false,
    }
}

fn hts_digits10(s: &str) -> String {
    super::hts_digits(s).chars().take(10).collect()
}

fn render(field: &str, v: &Vals) -> Option<String> {
    match field {
        "hts" => Some(crate::variance::hts(&v.hts)),
        "value" => v.value.map(money),
        "duty" => v.duty.map(money),
        "country_of_origin" => Some(v.country_of_origin.clone()),
        "spi" => Some(v.spi.clone()),
        "quantity" => v.quantity.map(crate::variance::quantity),
        "uom" => Some(v.uom.clone()),
        "manufacturer_id" => Some(v.manufacturer.clone()),
        _ => None,
    }
}

/// Whether ACE reports the field for this row (a blank or absent column is not a value).
fn ace_has(field: &str, v: &Vals) -> bool {
    match field {
        "hts" => !v.hts.is_empty(),
        "value" => v.value.is_some(),
        "duty" => v.duty.is_some(),
        "country_of_origin" => !v.country_of_origin.is_empty(),
        "spi" => !v.spi.is_empty(),
        "quantity" => v.quantity.is_some(),
        "uom" => !v.uom.is_empty(),
        "manufacturer_id" => !v.manufacturer.trim().is_empty(),
        _ => false,
    }
}

/// The fields compared per tariff (variance field names, so `[variance.severity]` applies).
pub const FIELDS: [&str; 8] =
    ["hts", "value", "duty", "country_of_origin", "spi", "quantity", "uom", "manufacturer_id"];

/// A MID as compared: upper case, spaces dropped.
fn mid(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase()
}

/// The three-way findings of an entry; `None` when ACE's record of it has not arrived.
pub fn evaluate(e: &Entry, cfg: &config::Variance) -> Option<ThreeWay> {
    let rec = e.ace.as_ref()?;
    let ace = &rec.entry;
    let tol = Tolerance::from_config(cfg);
    let mut out = ThreeWay { findings: Vec::new(), ace_file: rec.source.file.clone() };
    let filed = e.current_filing().is_some();
    if !filed && e.pre_entry.is_none() {
        let what = format!(
            "importer {}, port {}, type {}, entry date {}, {} tariff row{}",
            ace.importer,
            ace.port,
            ace.entry_type,
            ace.entry_date.map(|d| d.format("%m/%d/%Y").to_string()).unwrap_or_default(),
            ace.rows.len(),
            if ace.rows.len() == 1 { "" } else { "s" }
        );
        out.findings.push(Finding {
            kind: FindingKind::UnreportedEntry,
            severity: Severity::Major,
            line: 0,
            ordinal: 0,
            field: "entry".into(),
            approved: None,
            broker: None,
            ace: Some(what),
            ace_row: rec.source.line,
        });
    }
    for r in &ace.rows {
        let a = from_ace(r);
        let broker = broker_vals(e, r.line, r.ordinal);
        let approved = approved_vals(e, r.line, r.ordinal);
        if filed && broker.is_none() {
            if let Some(sev) = severity_for(cfg, "line") {
                out.findings.push(Finding {
                    kind: FindingKind::AceBrokerMismatch,
                    severity: sev,
                    line: r.line,
                    ordinal: r.ordinal,
                    field: "line".into(),
                    approved: approved.as_ref().map(|v| crate::variance::hts(&v.hts)),
                    broker: None,
                    ace: Some(crate::variance::hts(&a.hts)),
                    ace_row: r.row,
                });
            }
            continue;
        }
        for field in FIELDS {
            if !ace_has(field, &a) {
                continue;
            }
            let Some(sev) = severity_for(cfg, field) else { continue };
            let kind = match (&broker, &approved) {
                (Some(b), _) if differs(field, b, &a, &tol) => FindingKind::AceBrokerMismatch,
                (_, Some(p)) if differs(field, p, &a, &tol) => FindingKind::AceApprovedMismatch,
                _ => continue,
            };
            out.findings.push(Finding {
                kind,
                severity: sev,
                line: r.line,
                ordinal: r.ordinal,
                field: field.into(),
                approved: approved.as_ref().and_then(|v| render(field, v)),
                broker: broker.as_ref().and_then(|v| render(field, v)),
                ace: render(field, &a),
                ace_row: r.row,
            });
        }
    }
    // Filed lines ACE does not show (only when ACE's export carries lines of the entry).
    if let (Some(f), false) = (e.current_filing(), ace.rows.is_empty()) {
        for l in &f.summary.lines {
            for (i, t) in l.tariffs.iter().enumerate() {
                let ord = u32::try_from(i + 1).unwrap_or(u32::MAX);
                if ace.rows.iter().any(|r| r.line == l.line && r.ordinal == ord) {
                    continue;
                }
                if let Some(sev) = severity_for(cfg, "line") {
                    out.findings.push(Finding {
                        kind: FindingKind::AceBrokerMismatch,
                        severity: sev,
                        line: l.line,
                        ordinal: ord,
                        field: "line".into(),
                        approved: None,
                        broker: Some(crate::variance::hts(&t.hts)),
                        ace: None,
                        ace_row: 0,
                    });
                }
            }
        }
    }
    // Liquidation: ACE's word against what the ER reports said.
    if ace.liquidation_date.is_some() || !ace.liquidation_status.is_empty() {
        let ace_says = format!(
            "{} {}",
            if ace.liquidation_status.is_empty() { "scheduled/liquidation" } else { ace.liquidation_status.as_str() },
            ace.liquidation_date.map(|d| d.format("%m/%d/%Y").to_string()).unwrap_or_default()
        )
        .trim()
        .to_string();
        let seen = e.liquidation.date;
        if seen != ace.liquidation_date
            || (ace.liquidated() && e.liquidation.status != crate::domain::LiquidationStatus::Liquidated)
        {
            out.findings.push(Finding {
                kind: FindingKind::AceLiquidation,
                severity: if ace.liquidated() { Severity::Major } else { Severity::Minor },
                line: 0,
                ordinal: 0,
                field: "liquidation".into(),
                approved: None,
                broker: seen.map(|d| format!("ER {}", d.format("%m/%d/%Y"))),
                ace: Some(ace_says),
                ace_row: rec.source.line,
            });
        }
    }
    // PSC: ACE shows a correction the broker's files did not.
    let ace_psc_lines: Vec<u32> = ace.rows.iter().filter(|r| r.line_psc).map(|r| r.line).collect();
    if (ace.psc || !ace_psc_lines.is_empty()) && !e.filings.iter().any(|f| f.summary.psc) {
        let mut lines = ace_psc_lines;
        lines.dedup();
        let what = if lines.is_empty() {
            "PSC indicator Y".to_string()
        } else {
            format!("PSC on line {}", lines.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))
        };
        out.findings.push(Finding {
            kind: FindingKind::AcePsc,
            severity: Severity::Major,
            line: 0,
            ordinal: 0,
            field: "psc".into(),
            approved: None,
            broker: Some(if filed { "no PSC filed".into() } else { "-".into() }),
            ace: Some(what),
            ace_row: rec.source.line,
        });
    }
    Some(out)
}

/// Findings in `after` that `before` did not have (by key): what a change newly raised.
pub fn new_findings<'a>(before: Option<&ThreeWay>, after: Option<&'a ThreeWay>) -> Vec<&'a Finding> {
    let old: std::collections::HashSet<String> =
        before.map(|t| t.findings.iter().map(Finding::key).collect()).unwrap_or_default();
    after.map_or_else(Vec::new, |t| t.findings.iter().filter(|f| !old.contains(&f.key())).collect())
}

/// `entry --json` `ace`: ACE's record (file, row of each tariff) and the three-way findings.
pub fn ace_json(rec: &AceRecord, three_way: Option<&ThreeWay>) -> serde_json::Value {
    let a = &rec.entry;
    let d = |x: Option<chrono::NaiveDate>| x.map(|d| d.to_string());
    serde_json::json!({
        "file": rec.source.file, "inbox": rec.source.inbox, "sha256": rec.source.sha256,
        "exports": rec.exports,
        "importer": a.importer, "port": a.port, "entry_type": a.entry_type, "filer_name": a.filer_name,
        "entry_date": d(a.entry_date), "summary_date": d(a.summary_date),
        "psc": a.psc, "liquidation_date": d(a.liquidation_date), "liquidation_status": a.liquidation_status,
        "final_liquidation": a.final_liquidation, "protest_number": a.protest_number,
        "rows": a.rows.iter().map(|r| serde_json::json!({
            "row": r.row, "line": r.line, "ordinal": r.ordinal, "hts": r.hts,
            "value": r.value_cents.map(money), "duty": r.duty_cents.map(money),
            "country_of_origin": r.country_of_origin, "manufacturer": r.manufacturer, "spi": r.spi,
            "quantity": r.quantity_hundredths.map(crate::variance::quantity), "uom": r.uom, "psc": r.line_psc,
        })).collect::<Vec<_>>(),
        "findings": three_way.map(|t| t.findings.iter().map(|f| serde_json::json!({
            "kind": f.kind.as_str(), "severity": f.severity.as_str(), "line": f.line, "ordinal": f.ordinal,
            "field": f.field, "approved": f.approved, "broker": f.broker, "ace": f.ace, "ace_row": f.ace_row,
        })).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

/// The alerts a change raises: one per finding kind with new findings, listing them; its
/// identity names the set of findings, so the same findings never alert twice. `before` and
/// `three_way` are the match before and after the change, `after` the entry's new state.
pub fn alerts(
    before: Option<&ThreeWay>,
    after: &Entry,
    three_way: Option<&ThreeWay>,
    now: chrono::DateTime<chrono::FixedOffset>,
) -> Vec<crate::alert::Alert> {
    use crate::alert::AlertKind;
    let fresh = new_findings(before, three_way);
    let mut out = Vec::new();
    for (kind, ak) in [
        (FindingKind::UnreportedEntry, AlertKind::UnreportedEntry),
        (FindingKind::AceBrokerMismatch, AlertKind::AceBrokerMismatch),
        (FindingKind::AceApprovedMismatch, AlertKind::AceApprovedMismatch),
        (FindingKind::AceLiquidation, AlertKind::AceLiquidation),
        (FindingKind::AcePsc, AlertKind::AcePsc),
    ] {
        let these: Vec<&&Finding> = fresh.iter().filter(|f| f.kind == kind).collect();
        let Some(sev) = these.iter().map(|f| f.severity.alert_severity()).max() else { continue };
        let keys: Vec<String> = these.iter().map(|f| f.key()).collect();
        let digest = crate::ingest::sha256_hex(keys.join("\n").as_bytes());
        let what = format!("{} finding{} {}", these.len(), if these.len() == 1 { "" } else { "s" }, &digest[..12]);
        let facts = crate::alert::hook::entry_facts(after);
        let mut a = crate::alert::rules::alert_for_event(ak, sev, Some(&what), now, facts, now);
        a.inbox = after.ace.as_ref().map(|r| r.source.inbox.clone());
        let mut lines: Vec<String> = these.iter().map(|f| f.explanation()).collect();
        if let Some(r) = &after.ace {
            lines.push(format!("ACE record: {} (ES-003)", r.source.file));
        }
        a.narrative = Some(lines.join("\n"));
        out.push(a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ace::AceEntry;
    use crate::domain::Source;
    use crate::domain::{Filing, Line, Summary, SummaryStatus, Tariff};
    use chrono::NaiveDateTime;

    fn at() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 2, 2).and_then(|d| d.and_hms_opt(9, 0, 0)).unwrap()
    }

    fn entry(rows: Vec<AceRow>) -> Entry {
        let summary = Summary {
            lines: vec![Line {
                line: 1,
                country_of_origin: "CN".into(),
                tariffs: vec![
                    Tariff {
                        hts: "9403608081".into(),
                        value_usd: 2400,
                        duty_cents: 0,
                        quantity_hundredths: 4000,
                        uom: "NO".into(),
                    },
                    Tariff { hts: "9903880300".into(), duty_cents: 60_000, ..Tariff::default() },
                ],
                ..Line::default()
            }],
            ..Summary::default()
        };
        let source = Source { file: "es003.csv".into(), inbox: "ace".into(), sha256: "00".into(), line: 2, record: 2 };
        Entry {
            filings: vec![Filing { at: at(), summary, version: None, outcome: SummaryStatus::Accepted }],
            ace: Some(AceRecord { at: at(), source, entry: AceEntry { rows, ..AceEntry::default() }, exports: 1 }),
            ..Entry::default()
        }
    }

    fn row(ordinal: u32, hts: &str, value: Option<i64>, duty: i64) -> AceRow {
        AceRow {
            row: 1 + ordinal as usize,
            line: 1,
            ordinal,
            hts: hts.into(),
            country_of_origin: "CN".into(),
            value_cents: value,
            duty_cents: Some(duty),
            ..AceRow::default()
        }
    }

    #[test]
    fn chapter_99_rows_carry_duty_and_no_value_and_tolerances_apply() {
        let cfg = config::Variance::default();
        // Duty $0.80 off on the Chapter 99 row: inside the $1.00 tolerance; no value on it.
        let e = entry(vec![row(1, "9403608081", Some(240_000), 0), row(2, "9903880300", None, 60_080)]);
        let t = evaluate(&e, &cfg).unwrap();
        assert!(t.findings.is_empty(), "{:?}", t.findings);
        // $5.00 off is a finding, with the three values side by side.
        let e = entry(vec![row(1, "9403608081", Some(240_000), 0), row(2, "9903880300", None, 60_500)]);
        let t = evaluate(&e, &cfg).unwrap();
        assert_eq!(t.findings.len(), 1, "{:?}", t.findings);
        let f = &t.findings[0];
        assert_eq!((f.kind, f.field.as_str(), f.ordinal, f.ace_row), (FindingKind::AceBrokerMismatch, "duty", 2, 3));
        assert_eq!(
            (f.broker.as_deref(), f.ace.as_deref(), f.approved.as_deref()),
            (Some("600.00"), Some("605.00"), None)
        );
    }

    #[test]
    fn manufacturer_ids_compare_only_where_both_sides_name_one() {
        let cfg = config::Variance::default();
        let mut e = entry(vec![
            AceRow { manufacturer: "CNABCFOO123SHA".into(), ..row(1, "9403608081", Some(240_000), 0) },
            row(2, "9903880300", None, 60_000),
        ]);
        // The broker's AE carries no 47 record: nothing to compare.
        assert!(evaluate(&e, &cfg).unwrap().findings.is_empty());
        // The broker's 47 names another MID (spacing and case folded).
        if let Some(l) = e.filings[0].summary.lines.first_mut() {
            l.manufacturer_id = "cnabcfoo999sha".into();
        }
        let t = evaluate(&e, &cfg).unwrap();
        assert_eq!(t.findings.len(), 1, "{:?}", t.findings);
        let f = &t.findings[0];
        assert_eq!(
            (f.kind, f.field.as_str(), f.line, f.ordinal),
            (FindingKind::AceBrokerMismatch, "manufacturer_id", 1, 1)
        );
        assert_eq!((f.broker.as_deref(), f.ace.as_deref()), (Some("cnabcfoo999sha"), Some("CNABCFOO123SHA")));
        if let Some(l) = e.filings[0].summary.lines.first_mut() {
            l.manufacturer_id = " CNABCFOO123SHA ".into();
        }
        assert!(evaluate(&e, &cfg).unwrap().findings.is_empty());
    }

    #[test]
    fn a_missing_tariff_and_ignored_fields() {
        let mut cfg = config::Variance::default();
        // ACE shows only the commodity row: the filed Chapter 99 tariff is missing from ACE.
        let e = entry(vec![row(1, "9403608081", Some(240_000), 0)]);
        let t = evaluate(&e, &cfg).unwrap();
        assert_eq!(t.findings.len(), 1);
        assert_eq!((t.findings[0].field.as_str(), t.findings[0].ace.as_deref()), ("line", None));
        // Severity `ignore` drops a field from the comparison.
        cfg.severity.insert("hts".into(), "ignore".into());
        let e = entry(vec![row(1, "9403608099", Some(240_000), 0), row(2, "9903880300", None, 60_000)]);
        assert!(evaluate(&e, &cfg).unwrap().findings.is_empty());
        // No ACE record: nothing to compare.
        assert!(evaluate(&Entry::default(), &cfg).is_none());
    }
}
