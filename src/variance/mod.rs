//! Variance: what the broker filed against what the importer approved, checks computed from the
//! filing alone (MPF, HMF, totals, SPI, check digit), and liquidation above what was filed.
//!
//! [`evaluate`] is a pure function of the entry's derived state, the `[variance]` config and the
//! grammars (code lists, MPF table). `store::entries::EntryState` calls it every time an entry is
//! derived (new filing version, pre-entry arriving late, liquidation) and keeps the report
//! beside the entry (the domain's `Entry` does not hold it).
//!
//! Money is exact: cents and whole dollars as integers. The only rounding: a computed fee
//! (`value × rate`) is rounded half-up to the cent, per line; tolerances from the config are
//! converted once (percent → millionths, dollars → cents, half-up).

pub mod compare;
pub mod computed;

use crate::config;
use crate::domain::{Entry, PreEntry};
use crate::grammar::Grammars;
use serde::{Deserialize, Serialize};

pub use crate::config::{Severity, VARIANCE_FIELDS as FIELDS};

/// The entry's variance status (interface.md): the domain's one enum.
pub use crate::domain::VarianceStatus as Status;

/// What a difference was measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// The approved pre-entry (`approved` is the pre-entry's value).
    PreEntry,
    /// Recomputed from the filing itself (`approved` is the computed value).
    Computed,
    /// CBP's liquidation (`liquidated` is CBP's amount, `filed` what was deposited).
    Liquidation,
}

/// A liquidation reason code with its words from the code list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub meaning: String,
}

/// One difference. `approved` / `filed` are plain strings: HTS digits, money `1650.00`, whole
/// dollars `10000`, quantities `100.00`, rates `16.5%`; `null` when one side has nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Difference {
    pub line: Option<u32>,
    pub tariff: Option<u32>,
    /// interface.md field names, plus `line` (a whole line missing or extra) and
    /// `entry_number` (check digit).
    pub field: String,
    pub approved: Option<String>,
    pub filed: Option<String>,
    pub severity: Severity,
    pub basis: Basis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidated: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// The difference in a compliance analyst's words.
    pub explanation: String,
}

impl Difference {
    /// A stable key for deduplicating alerts: where, what and both values.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}/{}/{}",
            self.line.map(|l| l.to_string()).unwrap_or_default(),
            self.tariff.map(|l| l.to_string()).unwrap_or_default(),
            self.field,
            self.approved.as_deref().unwrap_or("-"),
            self.filed.as_deref().unwrap_or("-"),
            self.liquidated.as_deref().unwrap_or("-"),
        )
    }
}

/// The variance of one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VarianceReport {
    pub entry: String,
    pub status: Status,
    pub differences: Vec<Difference>,
    /// How the pre-entry was matched: `entry-number` or `importer-reference` (null: none).
    pub matched_by: Option<String>,
    /// The filing compared: CBP's version when accepted, else `filed YYYY-MM-DD`.
    pub filing: Option<String>,
    /// True while an approved pre-entry waits for the broker's filing.
    pub awaiting_filing: bool,
}

impl VarianceReport {
    /// Differences of at least this severity (what an alert route with that threshold gets).
    pub fn at_least(&self, s: Severity) -> impl Iterator<Item = &Difference> {
        self.differences.iter().filter(move |d| d.severity >= s)
    }
}

/// Differences in `after` that were not in `before`: what a new alert (category variance)
/// should list. Re-evaluating an unchanged entry yields none.
pub fn new_differences<'a>(before: Option<&VarianceReport>, after: &'a VarianceReport) -> Vec<&'a Difference> {
    let old: std::collections::HashSet<String> =
        before.map(|b| b.differences.iter().map(Difference::key).collect()).unwrap_or_default();
    after.differences.iter().filter(|d| !old.contains(&d.key())).collect()
}

/// Differences in `before` that `after` no longer has (closed by a replacement or PSC).
pub fn resolved_differences<'a>(before: Option<&'a VarianceReport>, after: &VarianceReport) -> Vec<&'a Difference> {
    let now: std::collections::HashSet<String> = after.differences.iter().map(Difference::key).collect();
    before.map(|b| b.differences.iter().filter(|d| !now.contains(&d.key())).collect()).unwrap_or_default()
}

/// What the alert rules turn into an alert (category variance) when an entry changes: the
/// differences the new report has that the previous one had not, each with both values, its
/// severity ([`Severity::alert_severity`]) and its sentence. Empty when nothing new.
pub fn alert_differences(before: Option<&VarianceReport>, after: Option<&VarianceReport>) -> Vec<Difference> {
    let Some(now) = after else { return Vec::new() };
    new_differences(before, now).into_iter().cloned().collect()
}

/// The severity of a field: the config's (`major`, `minor`, or `ignore` to drop the field),
/// else the default. `None` means ignored.
pub fn severity_for(cfg: &config::Variance, field: &str) -> Option<Severity> {
    match cfg.severity.get(field).map(|s| s.trim().to_ascii_lowercase()) {
        Some(s) if s == "major" => Some(Severity::Major),
        Some(s) if s == "minor" => Some(Severity::Minor),
        Some(s) if s == "ignore" || s == "none" => None,
        _ => FIELDS.iter().find(|(f, _)| *f == field).map(|(_, s)| *s).or(Some(Severity::Minor)),
    }
}

/// Tolerances as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerance {
    /// Value tolerance in millionths of the approved value (1.0 % → 10 000).
    pub value_ppm: i64,
    /// Duty (and fee) tolerance in cents.
    pub duty_cents: i64,
}

impl Tolerance {
    pub fn from_config(cfg: &config::Variance) -> Tolerance {
        let pct = if cfg.value_tolerance_pct.is_finite() { cfg.value_tolerance_pct.max(0.0) } else { 0.0 };
        let usd = if cfg.duty_tolerance_usd.is_finite() { cfg.duty_tolerance_usd.max(0.0) } else { 0.0 };
        Tolerance { value_ppm: (pct * 10_000.0).round() as i64, duty_cents: (usd * 100.0).round() as i64 }
    }

    /// Whether `filed` is within the value tolerance of `approved` (whole dollars).
    pub fn value_ok(&self, approved: i64, filed: i64) -> bool {
        let diff = (i128::from(filed) - i128::from(approved)).abs();
        diff * 1_000_000 <= i128::from(approved).abs() * i128::from(self.value_ppm)
    }

    /// Whether two amounts in cents are within the duty tolerance.
    pub fn money_ok(&self, a: i64, b: i64) -> bool {
        (i128::from(a) - i128::from(b)).abs() <= i128::from(self.duty_cents)
    }
}

/// Collects differences, applying the configured severities and writing the explanation.
pub(crate) struct Collector<'a> {
    pub cfg: &'a config::Variance,
    pub tol: Tolerance,
    pub grammars: &'a Grammars,
    pub out: Vec<Difference>,
}

/// One difference before severity and wording are applied.
pub(crate) struct Found {
    pub line: Option<u32>,
    pub tariff: Option<u32>,
    pub field: &'static str,
    pub approved: Option<String>,
    pub filed: Option<String>,
    pub basis: Basis,
    pub liquidated: Option<String>,
    pub reasons: Vec<Reason>,
    /// The sentence without place and severity.
    pub sentence: String,
}

impl Found {
    pub fn new(
        line: Option<u32>,
        tariff: Option<u32>,
        field: &'static str,
        approved: Option<String>,
        filed: Option<String>,
        basis: Basis,
        sentence: String,
    ) -> Found {
        Found { line, tariff, field, approved, filed, basis, liquidated: None, reasons: Vec::new(), sentence }
    }
}

impl Collector<'_> {
    pub fn add(&mut self, f: Found) {
        let Some(severity) = severity_for(self.cfg, f.field) else { return };
        let place = match (f.line, f.tariff) {
            (Some(l), Some(t)) => format!("Line {l} tariff {t}"),
            (Some(l), None) => format!("Line {l}"),
            _ => "Entry".to_string(),
        };
        let explanation = format!("{place}: {} ({})", f.sentence, severity.as_str());
        self.out.push(Difference {
            line: f.line,
            tariff: f.tariff,
            field: f.field.to_string(),
            approved: f.approved,
            filed: f.filed,
            severity,
            basis: f.basis,
            liquidated: f.liquidated,
            reasons: f.reasons,
            explanation,
        });
    }

    /// A code's meaning from a code list (empty when unknown).
    pub fn meaning(&self, list: &str, code: &str) -> String {
        self.grammars.codes.get(list, code).map(|c| c.meaning.clone()).unwrap_or_default()
    }
}

/// Evaluate an entry's variance: the filing against `pre_entry` (when given), the computed
/// checks on the filing, and the liquidation against the filing.
pub fn evaluate(
    entry: &Entry,
    pre_entry: Option<&PreEntry>,
    cfg: &config::Variance,
    grammars: &Grammars,
) -> VarianceReport {
    let mut c = Collector { cfg, tol: Tolerance::from_config(cfg), grammars, out: Vec::new() };
    let filing = entry.filings.iter().rev().find(|f| f.summary.action != "D");
    if let Some(f) = filing {
        if let Some(pre) = pre_entry {
            compare::compare(&mut c, pre, &f.summary);
        }
        computed::checks(&mut c, entry, &f.summary);
    }
    computed::check_digit(&mut c, entry);
    let mut differences = c.out;
    differences.sort_by(|a, b| {
        (a.line.is_some(), a.line, a.tariff, a.basis as u8).cmp(&(b.line.is_some(), b.line, b.tariff, b.basis as u8))
    });
    let worst = differences.iter().map(|d| d.severity).max();
    let status = match (worst, pre_entry.is_some()) {
        (Some(Severity::Major), _) => Status::Major,
        (Some(Severity::Minor), _) => Status::Minor,
        (None, true) => Status::None,
        (None, false) => Status::NoPreEntry,
    };
    VarianceReport {
        entry: entry.entry.as_ref().map(|e| e.to_string()).unwrap_or_default(),
        status,
        differences,
        matched_by: pre_entry
            .map(|p| if p.entry.is_some() { "entry-number" } else { "importer-reference" }.to_string()),
        filing: filing.map(|f| match &f.version {
            Some(v) => format!("version {v}"),
            None => format!("filed {}", f.at.date()),
        }),
        awaiting_filing: pre_entry.is_some() && filing.is_none(),
    }
}

// ---- formatting (exact, from integers) ----

pub use crate::money::{dollars_words, plain as money, words as money_words};

/// Hundredths → `100.00`; whole numbers print without decimals (`100`).
pub fn quantity(h: i64) -> String {
    if h % 100 == 0 {
        (h / 100).to_string()
    } else {
        money(h)
    }
}

/// Millionths → `16.5%` (up to 4 decimals of a percent, trailing zeros dropped).
pub fn rate(ppm: i64) -> String {
    let sign = if ppm < 0 { "-" } else { "" };
    let a = ppm.unsigned_abs();
    let (int, frac) = (a / 10_000, a % 10_000);
    if frac == 0 {
        format!("{sign}{int}%")
    } else {
        let f = format!("{frac:04}");
        format!("{sign}{int}.{}%", f.trim_end_matches('0'))
    }
}

/// `6204624021` → `6204.62.4021`; 8 digits → `6204.62.40`; other text unchanged.
pub fn hts(raw: &str) -> String {
    let r = raw.trim();
    if r.len() >= 8 && r.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}.{}.{}", &r[..4], &r[4..6], &r[6..])
    } else {
        r.to_string()
    }
}

/// `a / b` rounded half-up, for non-negative `b > 0` (i128 to avoid overflow).
pub fn div_round(a: i128, b: i128) -> i128 {
    if b == 0 {
        return 0;
    }
    let (q, r) = (a / b, a % b);
    if r.abs() * 2 >= b.abs() {
        q + if (a < 0) ^ (b < 0) { -1 } else { 1 }
    } else {
        q
    }
}

// ---- output ----

/// `variance ENTRY` text: a headline and one sentence per difference.
pub fn render_text(r: &VarianceReport) -> String {
    let mut s = String::new();
    let what = match r.status {
        Status::None => "no variance".to_string(),
        Status::NoPreEntry => "no approved pre-entry matched; computed checks found nothing".to_string(),
        st => format!(
            "{} variance ({} difference{})",
            st.as_str(),
            r.differences.len(),
            if r.differences.len() == 1 { "" } else { "s" }
        ),
    };
    s.push_str(&format!("Entry {}: {what}\n", r.entry));
    match (&r.matched_by, &r.filing) {
        (Some(m), Some(f)) => s.push_str(&format!(
            "Compared the filing ({f}) with the approved pre-entry (matched by {}).\n",
            m.replace('-', " ")
        )),
        (Some(m), None) => s.push_str(&format!(
            "Approved pre-entry received (matched by {}); waiting for the broker's filing.\n",
            m.replace('-', " ")
        )),
        (None, Some(f)) => s.push_str(&format!("No approved pre-entry yet; checked the filing ({f}) on its own.\n")),
        (None, None) => {}
    }
    for d in &r.differences {
        s.push_str(&format!("  {}\n", d.explanation));
    }
    s
}

/// `variance ENTRY --csv`: a header and one row per difference.
pub fn render_csv(r: &VarianceReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "entry",
        "status",
        "line",
        "tariff",
        "field",
        "approved",
        "filed",
        "liquidated",
        "severity",
        "basis",
        "explanation",
    ]);
    for d in &r.differences {
        let basis = match d.basis {
            Basis::PreEntry => "pre-entry",
            Basis::Computed => "computed",
            Basis::Liquidation => "liquidation",
        };
        let _ = w.write_record([
            r.entry.as_str(),
            r.status.as_str(),
            &d.line.map(|l| l.to_string()).unwrap_or_default(),
            &d.tariff.map(|l| l.to_string()).unwrap_or_default(),
            &d.field,
            d.approved.as_deref().unwrap_or(""),
            d.filed.as_deref().unwrap_or(""),
            d.liquidated.as_deref().unwrap_or(""),
            d.severity.as_str(),
            basis,
            &d.explanation,
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The `variance` key of `entry --json`.
pub fn entry_summary_json(r: Option<&VarianceReport>, has_pre_entry: bool) -> serde_json::Value {
    match r {
        Some(r) => serde_json::json!({"status": r.status.as_str(), "differences": r.differences.len(),
            "major": r.differences.iter().filter(|d| d.severity == Severity::Major).count()}),
        None => serde_json::json!({"status": if has_pre_entry { "none" } else { "no-pre-entry" }, "differences": 0}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_exact() {
        assert_eq!(money(165000), "1650.00");
        assert_eq!(money(-5), "-0.05");
        assert_eq!(money_words(123456789), "$1,234,567.89");
        assert_eq!(dollars_words(10000), "$10,000");
        assert_eq!(rate(165_000), "16.5%");
        assert_eq!(rate(3464), "0.3464%");
        assert_eq!(rate(250_000), "25%");
        assert_eq!(hts("6204624021"), "6204.62.4021");
        assert_eq!(quantity(10000), "100");
        assert_eq!(quantity(10050), "100.50");
        assert_eq!(div_round(5, 2), 3);
        assert_eq!(div_round(4, 3), 1);
        assert_eq!(div_round(-5, 2), -3);
    }

    #[test]
    fn tolerances_are_integers() {
        let cfg = config::Variance { value_tolerance_pct: 1.0, duty_tolerance_usd: 1.0, ..Default::default() };
        let t = Tolerance::from_config(&cfg);
        assert_eq!(t, Tolerance { value_ppm: 10_000, duty_cents: 100 });
        assert!(t.value_ok(10_000, 10_100));
        assert!(!t.value_ok(10_000, 10_101));
        assert!(t.money_ok(165_000, 165_100));
        assert!(!t.money_ok(165_000, 165_101));
    }

    #[test]
    fn severities_default_and_override() {
        let mut cfg = config::Variance::default();
        assert_eq!(severity_for(&cfg, "hts"), Some(Severity::Major));
        assert_eq!(severity_for(&cfg, "country_of_origin"), Some(Severity::Major));
        assert_eq!(severity_for(&cfg, "spi"), Some(Severity::Major));
        assert_eq!(severity_for(&cfg, "port"), Some(Severity::Minor));
        cfg.severity.insert("hts".into(), "minor".into());
        cfg.severity.insert("port".into(), "ignore".into());
        assert_eq!(severity_for(&cfg, "hts"), Some(Severity::Minor));
        assert_eq!(severity_for(&cfg, "port"), None);
        assert!(config::validate_variance(&cfg).is_empty());
        cfg.severity.insert("colour".into(), "loud".into());
        assert_eq!(config::validate_variance(&cfg).len(), 2);
    }
}
