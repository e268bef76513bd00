//! The domain: an entry's facts (append-only, each with its source file and line) and the state
//! derived from them by folding in a canonical order (so out-of-order arrival ends right).
//!
//! Holds are a SET (design.md principle 6): a release does not clear holds; only the matching
//! removal code does, each code's effect coming from the code lists.

pub mod ace;
pub mod claims;
pub mod view;

use crate::entry_number::EntryNumber;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a code does to an entry's state (each code list entry names its effect:
/// `grammar::codes`, which re-exports this type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// The entry/bill was entered (accepted for processing).
    Entered,
    /// Cargo released (does not clear holds).
    Released,
    /// A hold is placed; it stays open until a matching removal.
    HoldPlaced,
    /// A hold is removed (the codes it lifts are in `removes`, or all holds of its agency when empty).
    HoldRemoved,
    /// An examination is ordered (also an open hold).
    Exam,
    /// Informational only.
    Advisory,
    /// A rejection (summary, batch, document).
    Rejected,
    /// An earlier release or entry is cancelled / deleted.
    Cancelled,
    /// Documents are requested.
    DocumentsRequired,
    /// Seizure or general order: the worst outcomes.
    Seizure,
    /// Anything else (plain data code: entry types, modes, fees ...).
    #[default]
    None,
}

/// Where a fact came from: the audit trail back to the byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The file's name as it arrived.
    pub file: String,
    pub inbox: String,
    /// SHA-256 of the file's bytes (hex).
    pub sha256: String,
    /// 1-based line (ABI record line or CSV row line).
    pub line: usize,
    /// 1-based record index within the file.
    pub record: usize,
}

/// One tariff (50-record) of a line, as filed. Money in cents, quantities in hundredths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Tariff {
    pub hts: String,
    pub duty_cents: i64,
    pub value_usd: i64,
    pub quantity_hundredths: i64,
    pub uom: String,
}

/// One entry line (40-record and its tariffs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Line {
    pub line: u32,
    pub country_of_origin: String,
    pub country_of_export: String,
    pub spi: String,
    pub tariffs: Vec<Tariff>,
    /// User fees on the line (class → cents).
    pub fees: BTreeMap<String, i64>,
    /// The manufacturer/supplier ID (MID) of the line: AE 47-record, Article Party Type Code
    /// `M`, Article Party Identifier positions 4-18 (02-entry-summary-create-update, page 78).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub manufacturer_id: String,
}

/// What a filed (or approved) summary says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Summary {
    /// `A`/`R` add or replace, `D` delete.
    pub action: String,
    pub port: String,
    pub broker_ref: String,
    pub entry_type: String,
    pub mode_of_transport: String,
    pub payment_type: String,
    pub importer: String,
    pub entry_date: Option<NaiveDate>,
    pub import_date: Option<NaiveDate>,
    pub statement_print_date: Option<NaiveDate>,
    pub psc: bool,
    /// Reconciliation flag (10-record 46-49): `""` not flagged, the issue code (`002`), `FTA`
    /// for a trade-agreement reconciliation, or both (`FTA 002`).
    #[serde(default)]
    pub reconciliation: String,
    /// AE 10-record pos 46 `Y` (FTA reconciliation) and pos 47–49 issue code (deadlines).
    #[serde(default)]
    pub recon_fta: bool,
    #[serde(default)]
    pub recon_issue: String,
    /// 10-record Consolidated Summary Indicator `Y` (02-entry-summary-create-update, usage
    /// note z, page 176): such a summary's MPF may exceed the maximum (usage note w, page 174).
    #[serde(default)]
    pub consolidated: bool,
    pub lines: Vec<Line>,
    /// Fee totals (89-record): class → cents.
    pub fee_totals: BTreeMap<String, i64>,
    pub total_duty_cents: i64,
    pub total_fees_cents: i64,
    /// 90-record Total IR Tax (positions 27-37), when read.
    #[serde(default)]
    pub total_tax_cents: Option<i64>,
    /// 90-record Total AD Duty + Total CV Duty (positions 39-49, 51-61), when read.
    #[serde(default)]
    pub total_adcvd_cents: Option<i64>,
    /// Bills of lading of the summary: AE 23-record Manifest Component Type `M`/`H`/`S`, issuer
    /// (4-7) and identifier (8-19) joined (02-entry-summary-create-update, page 44).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bills: Vec<String>,
    /// Containers: SE17-record Equipment Number 5-24 (02-entry-summary-create-update, page 47).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
}

/// One approved pre-entry line (CSV row), with the purchase order it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PreEntryLine {
    pub line: u32,
    pub invoice_number: String,
    pub po_number: String,
    pub po_line: String,
    pub hts: String,
    pub country_of_origin: String,
    pub spi: String,
    pub quantity_hundredths: i64,
    pub uom: String,
    pub value_usd: i64,
    /// Duty rate in millionths (0.165 → 165000).
    pub duty_rate_millionths: Option<i64>,
    pub duty_cents: i64,
    /// Optional CSV columns (docs/affected.md): the bill of lading, the container and the
    /// manufacturer ID (MID) the importer approved this line with; empty when not given.
    #[serde(default)]
    pub bill_of_lading: String,
    #[serde(default)]
    pub container: String,
    #[serde(default)]
    pub manufacturer_id: String,
}

/// An approved pre-entry (CSV rows or an AE-format file on an `approved` inbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PreEntry {
    pub entry: Option<EntryNumber>,
    pub importer: String,
    pub broker_ref: String,
    pub lines: Vec<PreEntryLine>,
    /// Present when the pre-entry came in AE format.
    pub summary: Option<Summary>,
}

impl PreEntry {
    /// The key used to match by importer + broker reference.
    pub fn ref_key(&self) -> Option<String> {
        ref_key(&self.importer, &self.broker_ref)
    }
}

/// `importer|broker_ref`, when both are present.
pub fn ref_key(importer: &str, broker_ref: &str) -> Option<String> {
    let (i, b) = (importer.trim(), broker_ref.trim());
    (!i.is_empty() && !b.is_empty()).then(|| format!("{i}|{b}"))
}

/// What happened: the kinds of facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FactKind {
    /// AE: a summary filed (add/replace/delete).
    SummaryFiled { summary: Summary },
    /// AX: accepted (version 5 digits).
    SummaryAccepted { version: String, condition: String, narrative: String },
    /// AX: rejected, with the condition codes and narratives.
    SummaryRejected { version: String, conditions: Vec<(String, String)> },
    /// AX: ENTRY SUMMARY DELETED.
    SummaryDeleted { version: String },
    /// SO10 / cargo release header data (when the release message comes first).
    CargoHeader { port: String, entry_type: String, importer: String },
    /// A disposition code (SO50, SO60, SO70, X12 350 X4) with its effect from the code lists.
    Disposition {
        list: String,
        code: String,
        agency: String,
        effect: Effect,
        removes: Vec<String>,
        narrative: String,
        release_date: Option<NaiveDate>,
        release_origin: String,
    },
    /// UC: entry summary status notification; `effect` is its disposition's in uc_dispositions.
    Notice {
        disposition: String,
        reason: String,
        line: String,
        remarks: Vec<String>,
        #[serde(default)]
        effect: Effect,
    },
    /// PF / MS: the entry is on a statement.
    Statement {
        number: String,
        final_statement: bool,
        print_date: Option<NaiveDate>,
        due: Option<NaiveDate>,
        duty_cents: i64,
        tax_cents: i64,
        fees_cents: i64,
        payment_type: String,
        monthly: Option<String>,
    },
    /// MS: the entry's periodic daily statement is on a periodic monthly statement.
    MonthlyStatement { daily_number: String, monthly_number: String, due: Option<NaiveDate>, final_statement: bool },
    /// ER: liquidation status from the entry summary query.
    Liquidation {
        status_code: String,
        date: Option<NaiveDate>,
        ext_susp_codes: Vec<String>,
        /// What the known codes among them do (their `liquidation` in extension_suspension).
        #[serde(default)]
        ext_susp: Vec<ExtSusp>,
        ext_susp_date: Option<NaiveDate>,
        protest: String,
        entry_date: Option<NaiveDate>,
        duty_cents: i64,
        tax_cents: i64,
        fees_cents: i64,
        interest_cents: i64,
        adcvd_cents: i64,
        reasons: Vec<String>,
    },
    /// ER JJ: one protest on the entry (03-entry-summary-query, page 43).
    Protest { number: String, protest_type: String, status: String, decided: Option<NaiveDate>, summons: bool },
    /// An approved pre-entry tied to this entry.
    PreEntryApproved { pre_entry: PreEntry },
    /// A message about this entry was applied with findings (unknown code or record, blank or
    /// malformed field), each in words with its line and record (docs/abi.md).
    Finding { application: String, notes: Vec<String> },
    /// ACE's own record of the entry from an ES-003 export (one fact per entry per file; the
    /// rows keep their row numbers).
    AceReported {
        #[serde(default)]
        ace: ace::AceEntry,
    },
    /// A refund program's result file (CAPE validation result or claim details) about this
    /// entry: the claim's status, errors and amounts ([`claims`]; read by crate::recovery::result).
    RefundClaim {
        #[serde(default)]
        claim: claims::ClaimRow,
    },
    /// Cargo release: the bills of lading and containers CBP names for the entry (SO40 bill,
    /// X12 350 X4 bill, master bill and equipment): links to the other entries they carry.
    CargoRefs {
        #[serde(default)]
        bills: Vec<String>,
        #[serde(default)]
        containers: Vec<String>,
    },
}

impl FactKind {
    /// Rank within the same instant: filings before their responses, responses before notices.
    fn rank(&self) -> u8 {
        match self {
            FactKind::PreEntryApproved { .. } => 0,
            FactKind::SummaryFiled { .. } => 1,
            FactKind::CargoHeader { .. } => 2,
            FactKind::SummaryAccepted { .. } | FactKind::SummaryRejected { .. } | FactKind::SummaryDeleted { .. } => 3,
            FactKind::Disposition { .. } => 4,
            FactKind::Notice { .. } => 5,
            FactKind::Statement { .. } => 6,
            FactKind::MonthlyStatement { .. } => 7,
            FactKind::Liquidation { .. } => 8,
            FactKind::Protest { .. } => 9,
            FactKind::Finding { .. } => 10,
            FactKind::AceReported { .. } => 11,
            FactKind::RefundClaim { .. } => 12,
            FactKind::CargoRefs { .. } => 2,
        }
    }

    /// The short name used in the event log.
    pub fn name(&self) -> &'static str {
        match self {
            FactKind::SummaryFiled { .. } => "summary-filed",
            FactKind::SummaryAccepted { .. } => "summary-accepted",
            FactKind::SummaryRejected { .. } => "summary-rejected",
            FactKind::SummaryDeleted { .. } => "summary-deleted",
            FactKind::CargoHeader { .. } => "cargo-release-header",
            FactKind::Disposition { effect, .. } => match effect {
                Effect::HoldPlaced => "hold-placed",
                Effect::HoldRemoved => "hold-removed",
                Effect::Released => "released",
                Effect::Exam => "exam-ordered",
                Effect::Cancelled => "cancelled",
                Effect::DocumentsRequired => "documents-required",
                Effect::Seizure => "seizure",
                Effect::Rejected => "rejected",
                Effect::Entered => "entered",
                Effect::Advisory | Effect::None => "disposition",
            },
            FactKind::Notice { .. } => "notice",
            FactKind::Statement { .. } => "statement",
            FactKind::MonthlyStatement { .. } => "monthly-statement",
            FactKind::Liquidation { .. } => "liquidation",
            FactKind::Protest { .. } => "protest",
            FactKind::PreEntryApproved { .. } => "pre-entry-approved",
            FactKind::Finding { .. } => "finding",
            FactKind::AceReported { .. } => "ace-reported",
            FactKind::RefundClaim { .. } => "refund-claim",
            FactKind::CargoRefs { .. } => "cargo-refs",
        }
    }

    /// The code shown in the event log.
    pub fn code(&self) -> String {
        match self {
            FactKind::SummaryFiled { summary } => summary.action.clone(),
            FactKind::SummaryAccepted { condition, .. } => condition.clone(),
            FactKind::SummaryRejected { conditions, .. } => {
                conditions.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(",")
            }
            FactKind::SummaryDeleted { .. } => String::new(),
            FactKind::CargoHeader { .. } => String::new(),
            FactKind::Disposition { list, code, .. } => format!("{}:{code}", list.to_ascii_uppercase()),
            FactKind::Notice { disposition, reason, .. } => format!("UC{disposition}{}", reason_suffix(reason)),
            FactKind::Statement { final_statement, .. } => if *final_statement { "F" } else { "P" }.into(),
            FactKind::Liquidation { status_code, .. } => status_code.clone(),
            FactKind::Protest { status, .. } => status.clone(),
            FactKind::MonthlyStatement { final_statement, .. } => if *final_statement { "F" } else { "P" }.into(),
            FactKind::PreEntryApproved { .. } => String::new(),
            FactKind::Finding { application, .. } => application.clone(),
            FactKind::AceReported { ace } => ace.liquidation_status.clone(),
            FactKind::RefundClaim { claim } => claim.status.as_str().to_string(),
            FactKind::CargoRefs { .. } => String::new(),
        }
    }
}

fn reason_suffix(r: &str) -> String {
    if r.trim().is_empty() {
        String::new()
    } else {
        format!("/{}", r.trim())
    }
}

/// One fact about an entry: what, when (the message's own time), and where from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub at: NaiveDateTime,
    pub kind: FactKind,
    pub source: Source,
}

impl Fact {
    /// The canonical order: message time, kind rank, then file identity and line — never arrival order.
    fn order_key(&self) -> (NaiveDateTime, u8, &str, usize) {
        (self.at, self.kind.rank(), self.source.sha256.as_str(), self.source.record)
    }

    /// Identity of a fact (design principle 5): file and position.
    pub fn identity(&self) -> (String, usize, &'static str) {
        (self.source.sha256.clone(), self.source.record, self.kind.name())
    }
}

/// Sort facts into the canonical order.
pub fn sort_facts(facts: &mut [Fact]) {
    facts.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
}

/// An open hold (one member of the holds set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub list: String,
    pub code: String,
    pub agency: String,
    pub since: NaiveDateTime,
    pub narrative: String,
}

/// Spell a status enum as JSON does (`as_str`, `Display`): the one spelling of every output.
macro_rules! status_str {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The status as spelled in JSON.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$v => $s,)* }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// The entry summary's status: `none` until a filing is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SummaryStatus {
    #[default]
    None,
    Filed,
    Accepted,
    Rejected,
    Deleted,
}

/// Cargo release status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseStatus {
    #[default]
    Pending,
    Held,
    Released,
    Cancelled,
}

/// Liquidation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LiquidationStatus {
    #[default]
    Unliquidated,
    Scheduled,
    Liquidated,
    Extended,
    Suspended,
}

/// Statement status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StatementStatus {
    #[default]
    Preliminary,
    Final,
}

/// The entry's variance status (interface.md), as `variance::evaluate` finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum VarianceStatus {
    /// No difference.
    None,
    Minor,
    Major,
    /// No approved pre-entry matched and no computed check found anything.
    #[default]
    NoPreEntry,
}

status_str!(SummaryStatus { None => "none", Filed => "filed", Accepted => "accepted", Rejected => "rejected", Deleted => "deleted" });
status_str!(ReleaseStatus { Pending => "pending", Held => "held", Released => "released", Cancelled => "cancelled" });
status_str!(StatementStatus { Preliminary => "preliminary", Final => "final" });
status_str!(LiquidationStatus {
    Unliquidated => "unliquidated",
    Scheduled => "scheduled",
    Liquidated => "liquidated",
    Extended => "extended",
    Suspended => "suspended",
});
status_str!(VarianceStatus { None => "none", Minor => "minor", Major => "major", NoPreEntry => "no-pre-entry" });

/// The statement the entry is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StatementState {
    pub number: String,
    pub final_statement: bool,
    pub print_date: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    pub duty_cents: i64,
    pub tax_cents: i64,
    pub fees_cents: i64,
    pub monthly: Option<String>,
    /// The 10-record payment type the statement was filed with (2, 3, 5 daily; 6, 7, 8
    /// periodic daily, paid with the periodic monthly statement).
    #[serde(default)]
    pub payment_type: String,
    /// The periodic monthly statement (MS) that carries this periodic daily statement is final:
    /// paid (05b-periodic-monthly-statement, page 5).
    #[serde(default)]
    pub monthly_final: bool,
}

/// What an ER JC extension/suspension status code (positions 71-78) does to liquidation
/// (03-entry-summary-query, pages 32-33), as the `liquidation` field of its code in the
/// `extension_suspension` list says (`grammar::codes` re-exports this type). The entry state and the deadline rules both read it from
/// the facts the interpreter writes, so they cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtSusp {
    /// AD/CVD suspension (43 CVD, 44 ADD, 45 AD/CVD in the shipped list).
    AdcvdSuspension,
    /// Any other suspension (court ordered, actual use, EAPA, court injunction ...).
    Suspension,
    /// An extension by CBP or another party (19 U.S.C. 1504(b)).
    Extension,
    /// An extension the importer asked for (19 CFR 159.12(a)(1)(ii)).
    ImporterExtension,
}

impl ExtSusp {
    pub fn is_suspension(self) -> bool {
        matches!(self, ExtSusp::AdcvdSuspension | ExtSusp::Suspension)
    }
}

/// True when any of the kinds suspends liquidation.
pub fn suspends(kinds: &[ExtSusp]) -> bool {
    kinds.iter().any(|k| k.is_suspension())
}

/// True when any of the kinds extends liquidation.
pub fn extends(kinds: &[ExtSusp]) -> bool {
    kinds.iter().any(|k| !k.is_suspension())
}

/// Liquidation as last reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LiquidationState {
    pub status: LiquidationStatus,
    pub date: Option<NaiveDate>,
    pub ext_susp_codes: Vec<String>,
    pub ext_susp_date: Option<NaiveDate>,
    pub protest: String,
    pub duty_cents: i64,
    pub tax_cents: i64,
    pub fees_cents: i64,
    pub interest_cents: i64,
    pub adcvd_cents: i64,
    pub reasons: Vec<String>,
}

/// One protest on the entry as last reported (ER JJ, 03-entry-summary-query, page 43), keyed by
/// its number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProtestState {
    pub number: String,
    pub protest_type: String,
    pub status: String,
    pub decided: Option<NaiveDate>,
    pub summons: bool,
}

/// A UC notice as kept on the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeState {
    pub at: NaiveDateTime,
    pub disposition: String,
    pub reason: String,
    pub line: String,
    pub remarks: Vec<String>,
}

/// One filing version as filed (lines, tariffs, fees, totals), with what CBP said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    pub at: NaiveDateTime,
    pub summary: Summary,
    /// CBP's version once accepted.
    pub version: Option<String>,
    pub outcome: SummaryStatus,
}

/// The short row kept per entry in the `entries` table (for listing and filters); the full
/// [`Entry`] is derived from the facts when needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EntryRow {
    pub entry: Option<EntryNumber>,
    pub importer: String,
    pub port: String,
    pub entry_type: String,
    pub entry_date: Option<NaiveDate>,
    pub summary: SummaryStatus,
    pub release: ReleaseStatus,
    pub open_holds: usize,
    pub liquidation: LiquidationStatus,
    pub liquidation_date: Option<NaiveDate>,
    pub facts: usize,
    /// Variance status and number of differences when the entry last changed.
    #[serde(default)]
    pub variance: VarianceStatus,
    #[serde(default)]
    pub variance_differences: usize,
}

/// An entry's state, derived from its facts. The evaluations of it (variance, the three-way
/// match) are not part of it: `store::entries::EntryState` carries them beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Entry {
    pub entry: Option<EntryNumber>,
    pub importer: String,
    pub port: String,
    pub entry_type: String,
    pub broker_ref: String,
    pub entry_date: Option<NaiveDate>,
    pub summary_status: SummaryStatus,
    pub version: String,
    pub filings: Vec<Filing>,
    pub rejection_reasons: Vec<(String, String)>,
    pub release: ReleaseStatus,
    pub released: bool,
    pub release_date: Option<NaiveDate>,
    pub holds: Vec<Hold>,
    /// Agency → latest (time, code, narrative).
    pub agencies: BTreeMap<String, (NaiveDateTime, String, String)>,
    pub exam_ordered: bool,
    pub notices: Vec<NoticeState>,
    pub statement: Option<StatementState>,
    pub liquidation: LiquidationState,
    /// Protests on the entry (ER JJ), one per protest number, latest report wins.
    #[serde(default)]
    pub protests: Vec<ProtestState>,
    pub pre_entry: Option<PreEntry>,
    /// ACE's own record (the latest ES-003 export that lists the entry).
    #[serde(default)]
    pub ace: Option<ace::AceRecord>,
    /// Refund program claims (CAPE ...), one per program, as the latest result file says.
    #[serde(default)]
    pub refund_claims: Vec<claims::ClaimState>,
    /// Bills of lading and containers CBP's cargo release named (SO40, X12 350 X4), sorted.
    #[serde(default)]
    pub bills: Vec<String>,
    #[serde(default)]
    pub containers: Vec<String>,
    pub facts: usize,
    pub last_at: Option<NaiveDateTime>,
}

fn remove_holds(holds: &mut Vec<Hold>, list: &str, agency: &str, removes: &[String]) {
    if removes.is_empty() {
        holds.retain(|h| !(h.list == list && h.agency == agency));
    } else {
        holds.retain(|h| !(h.list == list && removes.contains(&h.code)));
    }
}

impl Entry {
    /// Fold facts (in any order) into the entry's state.
    pub fn derive(entry: &EntryNumber, facts: &[Fact]) -> Entry {
        let mut sorted: Vec<&Fact> = facts.iter().collect();
        sorted.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        let mut e = Entry { entry: Some(entry.clone()), facts: facts.len(), ..Entry::default() };
        let mut accepted_once = false;
        let mut cancelled = false;
        for f in sorted {
            e.last_at = Some(e.last_at.map_or(f.at, |t| t.max(f.at)));
            match &f.kind {
                FactKind::SummaryFiled { summary } => {
                    set_if(&mut e.importer, &summary.importer);
                    set_if(&mut e.port, &summary.port);
                    set_if(&mut e.entry_type, &summary.entry_type);
                    set_if(&mut e.broker_ref, &summary.broker_ref);
                    if summary.entry_date.is_some() {
                        e.entry_date = summary.entry_date;
                    }
                    if e.summary_status != SummaryStatus::Deleted || summary.action != "D" {
                        e.summary_status = SummaryStatus::Filed;
                    }
                    e.filings.push(Filing {
                        at: f.at,
                        summary: summary.clone(),
                        version: None,
                        outcome: SummaryStatus::Filed,
                    });
                }
                FactKind::SummaryAccepted { version, .. } => {
                    accepted_once = true;
                    e.summary_status = SummaryStatus::Accepted;
                    e.version = version.clone();
                    e.rejection_reasons.clear();
                    if let Some(last) = e.filings.last_mut() {
                        last.version = Some(version.clone());
                        last.outcome = SummaryStatus::Accepted;
                    }
                }
                FactKind::SummaryRejected { conditions, .. } => {
                    // CBP's implicit delete: a rejected replacement of an accepted summary
                    // leaves no summary on file (reference/abi.md §2.8).
                    e.summary_status = if accepted_once { SummaryStatus::Deleted } else { SummaryStatus::Rejected };
                    e.rejection_reasons = conditions.clone();
                    if let Some(last) = e.filings.last_mut() {
                        last.outcome = SummaryStatus::Rejected;
                    }
                }
                FactKind::SummaryDeleted { .. } => {
                    e.summary_status = SummaryStatus::Deleted;
                    if let Some(last) = e.filings.last_mut() {
                        last.outcome = SummaryStatus::Deleted;
                    }
                }
                FactKind::CargoHeader { port, entry_type, importer } => {
                    fill_if_empty(&mut e.port, port);
                    fill_if_empty(&mut e.entry_type, entry_type);
                    fill_if_empty(&mut e.importer, importer);
                }
                FactKind::Disposition {
                    list,
                    code,
                    agency,
                    effect,
                    removes,
                    narrative,
                    release_date,
                    release_origin,
                } => {
                    if !agency.is_empty() {
                        let newer = e.agencies.get(agency).is_none_or(|(t, _, _)| *t <= f.at);
                        if newer {
                            e.agencies.insert(agency.clone(), (f.at, code.clone(), narrative.clone()));
                        }
                    }
                    match effect {
                        Effect::HoldPlaced | Effect::Exam | Effect::DocumentsRequired | Effect::Seizure => {
                            if *effect == Effect::Exam {
                                e.exam_ordered = true;
                            }
                            let present =
                                e.holds.iter().any(|h| h.list == *list && h.code == *code && h.agency == *agency);
                            if !present {
                                e.holds.push(Hold {
                                    list: list.clone(),
                                    code: code.clone(),
                                    agency: agency.clone(),
                                    since: f.at,
                                    narrative: narrative.clone(),
                                });
                            }
                        }
                        Effect::HoldRemoved => remove_holds(&mut e.holds, list, agency, removes),
                        Effect::Released => {
                            e.released = true;
                            cancelled = false;
                            if release_date.is_some() {
                                e.release_date = *release_date;
                            }
                            // A release names what it lifts only through `removes` (e.g. a release
                            // after "intensive exam completed"); other holds stay open.
                            if !removes.is_empty() {
                                remove_holds(&mut e.holds, list, agency, removes);
                            }
                            let _ = release_origin;
                        }
                        Effect::Cancelled => cancelled = true,
                        _ => {}
                    }
                }
                FactKind::Notice { disposition, reason, line, remarks, effect } => {
                    e.notices.push(NoticeState {
                        at: f.at,
                        disposition: disposition.clone(),
                        reason: reason.clone(),
                        line: line.clone(),
                        remarks: remarks.clone(),
                    });
                    if *effect == Effect::Rejected {
                        e.summary_status = SummaryStatus::Rejected;
                        e.rejection_reasons = vec![(reason.clone(), remarks.join(" "))];
                    }
                }
                FactKind::Statement {
                    number,
                    final_statement,
                    print_date,
                    due,
                    duty_cents,
                    tax_cents,
                    fees_cents,
                    monthly,
                    payment_type,
                } => {
                    let prev = e.statement.take();
                    let keep_final = prev.as_ref().is_some_and(|p| p.final_statement && p.number == *number);
                    let mut s = StatementState {
                        number: number.clone(),
                        final_statement: *final_statement || keep_final,
                        print_date: *print_date,
                        due: *due,
                        duty_cents: *duty_cents,
                        tax_cents: *tax_cents,
                        fees_cents: *fees_cents,
                        monthly: monthly.clone(),
                        payment_type: payment_type.trim().to_string(),
                        monthly_final: false,
                    };
                    if let Some(p) = prev.filter(|p| p.number == *number) {
                        s.monthly = s.monthly.or(p.monthly);
                        s.due = s.due.or(p.due);
                        s.monthly_final = p.monthly_final;
                        if s.payment_type.is_empty() {
                            s.payment_type = p.payment_type;
                        }
                    }
                    e.statement = Some(s);
                }
                FactKind::MonthlyStatement { daily_number, monthly_number, due, final_statement } => {
                    if let Some(s) = e.statement.as_mut().filter(|s| s.number == *daily_number) {
                        s.monthly = Some(monthly_number.clone());
                        if due.is_some() {
                            s.due = *due;
                        }
                        s.monthly_final |= *final_statement;
                    }
                }
                FactKind::Liquidation {
                    status_code,
                    date,
                    ext_susp_codes,
                    ext_susp,
                    ext_susp_date,
                    protest,
                    entry_date,
                    duty_cents,
                    tax_cents,
                    fees_cents,
                    interest_cents,
                    adcvd_cents,
                    reasons,
                } => {
                    let suspended = suspends(ext_susp);
                    let extended = extends(ext_susp);
                    let status = match status_code.as_str() {
                        "1" | "3" => LiquidationStatus::Liquidated,
                        _ if suspended => LiquidationStatus::Suspended,
                        _ if extended => LiquidationStatus::Extended,
                        _ if date.is_some() => LiquidationStatus::Scheduled,
                        _ => LiquidationStatus::Unliquidated,
                    };
                    if e.entry_date.is_none() {
                        e.entry_date = *entry_date;
                    }
                    e.liquidation = LiquidationState {
                        status,
                        date: *date,
                        ext_susp_codes: ext_susp_codes.clone(),
                        ext_susp_date: *ext_susp_date,
                        protest: protest.clone(),
                        duty_cents: *duty_cents,
                        tax_cents: *tax_cents,
                        fees_cents: *fees_cents,
                        interest_cents: *interest_cents,
                        adcvd_cents: *adcvd_cents,
                        reasons: reasons.clone(),
                    };
                }
                FactKind::Protest { number, protest_type, status, decided, summons } => {
                    let p = ProtestState {
                        number: number.trim().to_string(),
                        protest_type: protest_type.trim().to_string(),
                        status: status.trim().to_string(),
                        decided: *decided,
                        summons: *summons,
                    };
                    match e.protests.iter_mut().find(|q| q.number == p.number) {
                        Some(q) => *q = p,
                        None => e.protests.push(p),
                    }
                }
                FactKind::CargoRefs { bills, containers } => {
                    for (dst, src) in [(&mut e.bills, bills), (&mut e.containers, containers)] {
                        for v in src {
                            if !v.trim().is_empty() && !dst.contains(v) {
                                dst.push(v.clone());
                            }
                        }
                        dst.sort();
                    }
                }
                FactKind::AceReported { ace } => {
                    fill_if_empty(&mut e.importer, &ace.importer);
                    fill_if_empty(&mut e.port, &ace.port);
                    fill_if_empty(&mut e.entry_type, &ace.entry_type);
                    if e.entry_date.is_none() {
                        e.entry_date = ace.entry_date;
                    }
                    let exports = e.ace.as_ref().map_or(0, |r| r.exports) + 1;
                    e.ace = Some(ace::AceRecord { at: f.at, source: f.source.clone(), entry: ace.clone(), exports });
                }
                FactKind::PreEntryApproved { pre_entry } => {
                    fill_if_empty(&mut e.importer, &pre_entry.importer);
                    fill_if_empty(&mut e.broker_ref, &pre_entry.broker_ref);
                    e.pre_entry = Some(pre_entry.clone());
                }
                FactKind::RefundClaim { claim } => {
                    claims::fold(&mut e.refund_claims, claim, f.at);
                }
                // Shown in the event log and alerted; it changes no status.
                FactKind::Finding { .. } => {}
            }
        }
        e.release = if cancelled {
            ReleaseStatus::Cancelled
        } else if !e.holds.is_empty() {
            ReleaseStatus::Held
        } else if e.released {
            ReleaseStatus::Released
        } else {
            ReleaseStatus::Pending
        };
        e
    }

    /// The listing row of this entry, with the variance status and number of differences
    /// its evaluation found (`store::entries::EntryState::row` passes them).
    pub fn row(&self, variance: VarianceStatus, variance_differences: usize) -> EntryRow {
        EntryRow {
            entry: self.entry.clone(),
            importer: self.importer.clone(),
            port: self.port.clone(),
            entry_type: self.entry_type.clone(),
            entry_date: self.entry_date,
            summary: self.summary_status,
            release: self.release,
            open_holds: self.holds.len(),
            liquidation: self.liquidation.status,
            liquidation_date: self.liquidation.date,
            facts: self.facts,
            variance,
            variance_differences,
        }
    }

    /// The current (latest) filing, if any.
    pub fn current_filing(&self) -> Option<&Filing> {
        self.filings.last()
    }
}

fn set_if(dst: &mut String, src: &str) {
    if !src.trim().is_empty() {
        *dst = src.trim().to_string();
    }
}

fn fill_if_empty(dst: &mut String, src: &str) {
    if dst.is_empty() && !src.trim().is_empty() {
        *dst = src.trim().to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 2, d).and_then(|x| x.and_hms_opt(h, 0, 0)).unwrap()
    }
    fn fact(sha: &str, t: NaiveDateTime, kind: FactKind) -> Fact {
        Fact {
            at: t,
            kind,
            source: Source { file: format!("{sha}.txt"), inbox: "b".into(), sha256: sha.into(), line: 1, record: 1 },
        }
    }
    fn disp(list: &str, code: &str, agency: &str, effect: Effect, removes: &[&str]) -> FactKind {
        FactKind::Disposition {
            list: list.into(),
            code: code.into(),
            agency: agency.into(),
            effect,
            removes: removes.iter().map(|s| s.to_string()).collect(),
            narrative: String::new(),
            release_date: None,
            release_origin: String::new(),
        }
    }
    fn en() -> EntryNumber {
        "EEE-1234567-3".parse().unwrap()
    }

    #[test]
    fn release_does_not_clear_holds_and_removal_does() {
        let mut facts = vec![
            fact("a", at(3, 10), disp("so50", "53", "CBP", Effect::HoldPlaced, &[])),
            fact("b", at(3, 11), disp("so70", "02", "FDA", Effect::HoldPlaced, &[])),
            fact("c", at(4, 9), disp("so60", "98", "CBP", Effect::Released, &[])),
        ];
        let e = Entry::derive(&en(), &facts);
        assert!(e.released);
        assert_eq!(e.release, ReleaseStatus::Held);
        assert_eq!(e.holds.len(), 2);
        facts.push(fact("d", at(5, 9), disp("so50", "56", "CBP", Effect::HoldRemoved, &["53"])));
        let e = Entry::derive(&en(), &facts);
        assert_eq!(e.holds.iter().map(|h| h.agency.as_str()).collect::<Vec<_>>(), vec!["FDA"]);
        facts.push(fact("e", at(5, 10), disp("so70", "07", "FDA", Effect::HoldRemoved, &[])));
        let e = Entry::derive(&en(), &facts);
        assert_eq!(e.release, ReleaseStatus::Released);
    }

    #[test]
    fn out_of_order_arrival_gives_the_same_state() {
        let filed = FactKind::SummaryFiled { summary: Summary { action: "A".into(), ..Summary::default() } };
        let acc =
            FactKind::SummaryAccepted { version: "00100".into(), condition: "995".into(), narrative: String::new() };
        let a = vec![fact("ae", at(2, 0), filed.clone()), fact("ax", at(2, 0), acc.clone())];
        let b = vec![fact("ax", at(2, 0), acc), fact("ae", at(2, 0), filed)];
        let (x, y) = (Entry::derive(&en(), &a), Entry::derive(&en(), &b));
        assert_eq!(x, y);
        assert_eq!(x.summary_status, SummaryStatus::Accepted);
        assert_eq!(x.version, "00100");
    }

    #[test]
    fn rejected_replacement_is_an_implicit_delete() {
        let filed = |a: &str| FactKind::SummaryFiled { summary: Summary { action: a.into(), ..Summary::default() } };
        let facts = vec![
            fact("1", at(2, 0), filed("A")),
            fact(
                "2",
                at(2, 0),
                FactKind::SummaryAccepted {
                    version: "00100".into(),
                    condition: "995".into(),
                    narrative: String::new(),
                },
            ),
            fact("3", at(6, 0), filed("R")),
            fact(
                "4",
                at(6, 0),
                FactKind::SummaryRejected {
                    version: String::new(),
                    conditions: vec![("408".into(), "COUNTRY OF ORIGIN UNKNOWN".into())],
                },
            ),
        ];
        let e = Entry::derive(&en(), &facts);
        assert_eq!(e.summary_status, SummaryStatus::Deleted);
        let only_first_two = Entry::derive(&en(), &facts[..2]);
        assert_eq!(only_first_two.summary_status, SummaryStatus::Accepted);
        let rejected_first = Entry::derive(&en(), &[facts[0].clone(), facts[3].clone()]);
        assert_eq!(rejected_first.summary_status, SummaryStatus::Rejected);
    }

    #[test]
    fn protests_fold_by_number_and_round_trip_through_serde() {
        let p = |status: &str, decided: Option<NaiveDate>| FactKind::Protest {
            number: "270426100123".into(),
            protest_type: "1".into(),
            status: status.into(),
            decided,
            summons: false,
        };
        let json = serde_json::to_string(&p("DN", None)).unwrap();
        assert!(json.contains("\"type\":\"protest\""), "{json}");
        assert_eq!(serde_json::from_str::<FactKind>(&json).unwrap(), p("DN", None));
        let decided = NaiveDate::from_ymd_opt(2026, 2, 20);
        let facts = vec![fact("j1", at(3, 0), p("OP", None)), fact("j2", at(9, 0), p("DN", decided))];
        let e = Entry::derive(&en(), &facts);
        assert_eq!(e.protests.len(), 1);
        assert_eq!(e.protests[0].status, "DN");
        assert_eq!(e.protests[0].decided, decided);
        assert_eq!(facts[1].kind.name(), "protest");
    }
}
