//! Alerts: the `Alert` value (stable identity, severity, category, code, entry facts) and its submodules.
//!
//! - [`rules`]: severity and category of a fact (code lists + config overrides), routing.
//! - [`render`]: subject, plain text and HTML of an alert or a digest (everything escaped).
//! - [`mailer`]: the lettre message and transports (SMTP or `.eml` files), error classes.
//! - [`outbox`]: the delivery state machine over a storage trait (retry, give-up, dedup).
//! - [`store`]: that storage on the entry store; [`hook`]: facts → alerts inside the ingest
//!   transaction; [`service`]: the mailer loop and one-shot delivery.

pub mod hook;
pub mod mailer;
pub mod outbox;
pub mod render;
pub mod rules;
pub mod service;
pub mod store;

use crate::config::Category;
use crate::entry_number::EntryNumber;
use crate::grammar::codes::{AlertSeverity, Effect};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of fact an alert reports; its kebab-case name is part of the alert identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    Entered,
    Released,
    HoldPlaced,
    HoldRemoved,
    Exam,
    Advisory,
    Rejected,
    Cancelled,
    DocumentsRequired,
    Seizure,
    /// Filed data differs from the approved pre-entry.
    Variance,
    /// A deadline comes close (sent with the REMINDER subject).
    DeadlineReminder,
    /// A deadline passed with the work not done.
    DeadlineMissed,
    /// Arrived but no release after `alerts.no-release-days` (demurrage risk).
    NoRelease,
    /// Released, no open hold, statement final (`alerts.release-confirmation`).
    ReleaseConfirmed,
    Statement,
    Liquidation,
    /// A message was applied with findings: an unknown code or record, a blank or malformed field.
    Unrecognised,
    /// ACE holds an entry no broker file and no pre-entry mention (issue 18).
    UnreportedEntry,
    /// The broker's copy and ACE differ.
    AceBrokerMismatch,
    /// ACE differs from the approved pre-entry though the broker's copy agrees.
    AceApprovedMismatch,
    /// ACE reports a liquidation not seen from an ER.
    AceLiquidation,
    /// ACE shows a post summary correction not seen from the broker.
    AcePsc,
    /// An entry left a refund program's window it was eligible for (crate::recovery::window).
    RecoveryWindow,
    /// A refund program's result file rejects an entry's claim (crate::recovery::result).
    RefundRejected,
}

impl AlertKind {
    /// The kind for a code's effect (`None` for plain data codes, which never alert).
    pub fn from_effect(effect: Effect) -> Option<AlertKind> {
        Some(match effect {
            Effect::Entered => AlertKind::Entered,
            Effect::Released => AlertKind::Released,
            Effect::HoldPlaced => AlertKind::HoldPlaced,
            Effect::HoldRemoved => AlertKind::HoldRemoved,
            Effect::Exam => AlertKind::Exam,
            Effect::Advisory => AlertKind::Advisory,
            Effect::Rejected => AlertKind::Rejected,
            Effect::Cancelled => AlertKind::Cancelled,
            Effect::DocumentsRequired => AlertKind::DocumentsRequired,
            Effect::Seizure => AlertKind::Seizure,
            Effect::None => return None,
        })
    }

    /// The stable name used in identities and logs (`hold-placed`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Entered => "entered",
            AlertKind::Released => "released",
            AlertKind::HoldPlaced => "hold-placed",
            AlertKind::HoldRemoved => "hold-removed",
            AlertKind::Exam => "exam",
            AlertKind::Advisory => "advisory",
            AlertKind::Rejected => "rejected",
            AlertKind::Cancelled => "cancelled",
            AlertKind::DocumentsRequired => "documents-required",
            AlertKind::Seizure => "seizure",
            AlertKind::Variance => "variance",
            AlertKind::DeadlineReminder => "deadline-reminder",
            AlertKind::DeadlineMissed => "deadline-missed",
            AlertKind::NoRelease => "no-release",
            AlertKind::ReleaseConfirmed => "release-confirmed",
            AlertKind::Statement => "statement",
            AlertKind::Liquidation => "liquidation",
            AlertKind::Unrecognised => "unrecognised",
            AlertKind::UnreportedEntry => "unreported-entry",
            AlertKind::AceBrokerMismatch => "ace-broker-mismatch",
            AlertKind::AceApprovedMismatch => "ace-approved-mismatch",
            AlertKind::AceLiquidation => "ace-liquidation",
            AlertKind::AcePsc => "ace-psc",
            AlertKind::RecoveryWindow => "recovery-window",
            AlertKind::RefundRejected => "refund-rejected",
        }
    }

    /// What happened, in words, for the subject line (`Exam ordered`).
    pub fn what(self) -> &'static str {
        match self {
            AlertKind::Entered => "Entry accepted",
            AlertKind::Released => "Cargo released",
            AlertKind::HoldPlaced => "Hold placed",
            AlertKind::HoldRemoved => "Hold removed",
            AlertKind::Exam => "Exam ordered",
            AlertKind::Advisory => "CBP advisory",
            AlertKind::Rejected => "Rejected",
            AlertKind::Cancelled => "Release or entry cancelled",
            AlertKind::DocumentsRequired => "Documents required",
            AlertKind::Seizure => "Seizure or general order",
            AlertKind::Variance => "Filing differs from approved pre-entry",
            AlertKind::DeadlineReminder => "Deadline coming",
            AlertKind::DeadlineMissed => "Deadline missed",
            AlertKind::NoRelease => "No release yet (demurrage risk)",
            AlertKind::ReleaseConfirmed => "Released and settled",
            AlertKind::Statement => "Statement",
            AlertKind::Liquidation => "Liquidation",
            AlertKind::Unrecognised => "CBP said something entrywatch does not know",
            AlertKind::UnreportedEntry => "Entry in ACE that no broker reported",
            AlertKind::AceBrokerMismatch => "Broker's filing differs from ACE",
            AlertKind::AceApprovedMismatch => "ACE differs from approved pre-entry",
            AlertKind::AceLiquidation => "Liquidation reported by ACE",
            AlertKind::AcePsc => "Post summary correction seen in ACE",
            AlertKind::RecoveryWindow => "Refund window closed",
            AlertKind::RefundRejected => "Refund claim rejected",
        }
    }

    /// The category used when neither the caller nor the config says otherwise.
    pub fn default_category(self) -> Category {
        match self {
            AlertKind::Rejected => Category::Rejection,
            AlertKind::Variance => Category::Variance,
            AlertKind::DeadlineReminder | AlertKind::DeadlineMissed => Category::Deadline,
            AlertKind::Statement | AlertKind::ReleaseConfirmed => Category::Statement,
            AlertKind::Liquidation => Category::Liquidation,
            AlertKind::Unrecognised => Category::UnknownCode,
            AlertKind::UnreportedEntry => Category::UnreportedEntry,
            AlertKind::AceBrokerMismatch => Category::AceBrokerMismatch,
            AlertKind::AceApprovedMismatch => Category::AceApprovedMismatch,
            AlertKind::AceLiquidation => Category::AceLiquidation,
            AlertKind::AcePsc => Category::AcePsc,
            AlertKind::RecoveryWindow => Category::RecoveryWindow,
            AlertKind::RefundRejected => Category::RecoveryClaim,
            _ => Category::Disposition,
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The code behind an alert, with its words from the code list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeInfo {
    /// Code list name (`so60`).
    pub list: String,
    /// The list's title (`ABI SO60 disposition codes`).
    pub list_title: String,
    pub code: String,
    /// What the code means, in words.
    pub meaning: String,
    /// What to do about it (from the list), if it says.
    pub action: Option<String>,
}

/// One tariff line touched by the fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LineRef {
    pub line: u32,
    pub po_number: Option<String>,
    pub po_line: Option<String>,
}

/// The entry's facts shown in the mail (all of it came from files: untrusted text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EntryFacts {
    pub entry: Option<EntryNumber>,
    /// Importer of record number (`12-345678900`).
    pub importer: Option<String>,
    pub importer_name: Option<String>,
    /// Broker / filer (name or filer code).
    pub broker: Option<String>,
    /// Port of entry (code and name).
    pub port: Option<String>,
    /// Lines (and PO lines) affected.
    pub lines: Vec<LineRef>,
    /// Open holds after this fact, in words (`SO50 A1: FDA hold`).
    pub open_holds: Vec<String>,
    /// Next deadline, in words (`2026-03-02 PSC window closes`).
    pub next_deadline: Option<String>,
    /// Other entries this event touches (impact rules, `[affected]`; docs/affected.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected: Option<crate::links::AffectedList>,
}

/// One alert: what the outbox keeps and the mailer sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable identity (`EEE-1234567-3/hold-placed/1C/2026-02-03T10:12`); see [`Alert::identity`].
    pub id: String,
    pub severity: AlertSeverity,
    pub category: Category,
    pub kind: AlertKind,
    pub code: Option<CodeInfo>,
    pub facts: EntryFacts,
    /// The inbox the fact came through.
    pub inbox: Option<String>,
    /// Free narrative from the file (untrusted; escaped when rendered).
    pub narrative: Option<String>,
    /// When the fact happened (as the file says).
    pub fact_time: DateTime<FixedOffset>,
    /// When the alert was made.
    pub created: DateTime<FixedOffset>,
}

impl Alert {
    /// The stable identity of a fact: `<entry>/<kind>/<code>/<YYYY-MM-DDTHH:MM>` (entry
    /// `-` when unknown, code `-` when none; the time as written, to the minute).
    pub fn identity(
        entry: Option<&EntryNumber>,
        kind: AlertKind,
        code: Option<&str>,
        at: DateTime<FixedOffset>,
    ) -> String {
        let entry = entry.map(|e| e.to_string()).unwrap_or_else(|| "-".into());
        let code: String = code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or("-")
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != '/')
            .collect();
        format!("{entry}/{kind}/{code}/{}", at.format("%Y-%m-%dT%H:%M"))
    }

    /// The entry as printed (`EEE-1234567-3`), or `(no entry)`.
    pub fn entry_display(&self) -> String {
        self.facts.entry.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "(no entry)".into())
    }
}
