//! The impact rules (config section `[affected]`): which events name which linked entries,
//! and which of those are still worth naming (open, or inside a PSC or protest window).

use super::LinkKind;
use serde::{Deserialize, Serialize};

/// An event on an entry that can touch others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// A disposition whose code list effect is a hold (SO50/SO60/SO70, X12 350).
    HoldPlaced,
    Exam,
    Seizure,
    DocumentsRequired,
    /// A release or entry cancelled (release suspension).
    Cancelled,
    /// AX rejection, UC disposition 4, or a rejecting disposition code.
    Rejected,
    /// A UC entry summary status notification other than a rejection (CBP's review of the
    /// summary: requests for information or documents, detention, PSC by another filer).
    UcNotice,
    /// An AX acceptance that carries a condition code.
    AxCondition,
    /// A liquidation (ER status 1 or 3) whose duty differs from the filed duty.
    LiquidationDutyChange,
}

impl Trigger {
    pub const ALL: [Trigger; 9] = [
        Trigger::HoldPlaced,
        Trigger::Exam,
        Trigger::Seizure,
        Trigger::DocumentsRequired,
        Trigger::Cancelled,
        Trigger::Rejected,
        Trigger::UcNotice,
        Trigger::AxCondition,
        Trigger::LiquidationDutyChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::HoldPlaced => "hold-placed",
            Trigger::Exam => "exam",
            Trigger::Seizure => "seizure",
            Trigger::DocumentsRequired => "documents-required",
            Trigger::Cancelled => "cancelled",
            Trigger::Rejected => "rejected",
            Trigger::UcNotice => "uc-notice",
            Trigger::AxCondition => "ax-condition",
            Trigger::LiquidationDutyChange => "liquidation-duty-change",
        }
    }
}

/// Which linked entries a rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Every linked entry.
    Any,
    /// Entries not liquidated and whose summary is not deleted.
    #[default]
    Open,
    /// Entries with a PSC or protest deadline not yet passed (each listed with it).
    Window,
}

/// One impact rule: when any of `on` happens, name the entries sharing any of `links`.
/// `links = ["hts", "manufacturer"]` means the same product: same importer and HTS number,
/// and the same manufacturer ID when the entry names one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImpactRule {
    pub on: Vec<Trigger>,
    pub links: Vec<LinkKind>,
    #[serde(default)]
    pub scope: Scope,
}

/// `[affected]`: the rules and the bounds of each list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AffectedConfig {
    /// Entries listed per alert (the rest are counted).
    #[serde(default = "default_max_listed")]
    pub max_listed: usize,
    /// Linked entries loaded per event to check their scope.
    #[serde(default = "default_max_checked")]
    pub max_checked: usize,
    /// The rules; replacing them replaces all the defaults.
    #[serde(default = "default_rules", rename = "rule")]
    pub rules: Vec<ImpactRule>,
}

fn default_max_listed() -> usize {
    20
}

fn default_max_checked() -> usize {
    2000
}

/// The defaults (issue 19): a hold, exam, seizure, documents request, cancellation or
/// rejection names the other open entries on the same bill, container or purchase order; a
/// CBP change to the classification or value (UC notice, AX condition, liquidation with a duty
/// change) names the importer's other entries of the same HTS and manufacturer still inside a
/// PSC or protest window.
pub fn default_rules() -> Vec<ImpactRule> {
    vec![
        ImpactRule {
            on: vec![
                Trigger::HoldPlaced,
                Trigger::Exam,
                Trigger::Seizure,
                Trigger::DocumentsRequired,
                Trigger::Cancelled,
                Trigger::Rejected,
            ],
            links: vec![LinkKind::Bill, LinkKind::Container, LinkKind::Po],
            scope: Scope::Open,
        },
        ImpactRule {
            on: vec![Trigger::UcNotice, Trigger::AxCondition, Trigger::LiquidationDutyChange],
            links: vec![LinkKind::Hts, LinkKind::Manufacturer],
            scope: Scope::Window,
        },
    ]
}

impl Default for AffectedConfig {
    fn default() -> Self {
        AffectedConfig { max_listed: default_max_listed(), max_checked: default_max_checked(), rules: default_rules() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_with_defaults_and_refuses_unknown_keys() {
        let c: AffectedConfig = toml::from_str("max-listed = 5").unwrap();
        assert_eq!(c.max_listed, 5);
        assert_eq!(c.rules, default_rules());
        let c: AffectedConfig =
            toml::from_str("[[rule]]\non = [\"exam\"]\nlinks = [\"container\"]\nscope = \"any\"\n").unwrap();
        assert_eq!(
            c.rules,
            vec![ImpactRule { on: vec![Trigger::Exam], links: vec![LinkKind::Container], scope: Scope::Any }]
        );
        assert!(toml::from_str::<AffectedConfig>("max-listd = 5").is_err());
        assert!(toml::from_str::<AffectedConfig>("[[rule]]\non = [\"exams\"]\nlinks = []\n").is_err());
        for t in Trigger::ALL {
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.as_str()));
        }
    }
}
