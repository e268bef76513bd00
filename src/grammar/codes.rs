//! Code lists (grammars/codes/*.toml): each code's meaning, its effect on an entry, and its default alert severity.
//!
//! Format of one file:
//!
//! ```toml
//! name = "x407"                      # the list's id, referenced from grammars as `codes = "x407"`
//! title = "CBP disposition codes (X12 350 X407)"
//! source = "CBP ACE 350 implementation guide"
//! removes-from = "so60_dispositions" # optional: the list the codes' `removes` name (default: this list)
//!
//! [[code]]
//! code = "1A"
//! meaning = "Manifest/bill on hold: intensive examination"
//! effect = "exam"                    # see `Effect`
//! agency = "CBP"                     # optional
//! severity = "critical"              # optional: info | warning | critical (default from effect)
//! removes = ["1H"]                   # optional, for hold-removed or released: the hold codes it lifts
//! liquidation = "extension"          # optional, ER JC codes: what the code does to liquidation (`ExtSusp`)
//! action = "Arrange the exam ..."    # optional: what staff should do
//! explanation = "..."                # optional: CBP's longer text (Error Dictionary)
//! source = "02-entry-summary-create-update-2026-07, page 204"   # optional, per code
//! ```

use super::{from_toml, locate, GrammarError, GrammarFile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::domain::Effect;

pub use crate::domain::ExtSusp;

/// The short list names used in facts, mails and alert overrides (`so60`), and the code list
/// each is kept under (`so60_dispositions`): the one mapping from one to the other.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("so50", "so50_dispositions"),
    ("so60", "so60_dispositions"),
    ("so70", "so70_statuses"),
    ("x407", "x407"),
    ("ax", "ax_dispositions"),
    ("uc", "uc_dispositions"),
    ("statement", "statement_status"),
    ("liquidation", "liquidation_statuses"),
];

/// The code list a short list name is kept under; a name without a short form is its own.
pub fn list_name(short: &str) -> &str {
    SHORT_NAMES.iter().find(|(s, _)| *s == short).map_or(short, |(_, l)| l)
}

/// Alert severity of a fact (declared with the configuration, which names it).
pub use crate::config::AlertSeverity;

/// The default alert severity of a code with this effect, when the list does not say.
pub fn default_severity(effect: Effect) -> AlertSeverity {
    match effect {
        Effect::HoldPlaced | Effect::Exam | Effect::Rejected | Effect::Seizure | Effect::DocumentsRequired => {
            AlertSeverity::Critical
        }
        Effect::Cancelled => AlertSeverity::Warning,
        _ => AlertSeverity::Info,
    }
}

/// One code of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Code {
    pub code: String,
    pub meaning: String,
    #[serde(default = "effect_none")]
    pub effect: Effect,
    #[serde(default)]
    pub agency: Option<String>,
    #[serde(default)]
    pub severity: Option<AlertSeverity>,
    #[serde(default)]
    pub removes: Vec<String>,
    /// For extension/suspension codes: what the code does to liquidation.
    #[serde(default)]
    pub liquidation: Option<ExtSusp>,
    #[serde(default)]
    pub action: Option<String>,
    /// CBP's longer explanation (e.g. the Error Dictionary's), when the list keeps one.
    #[serde(default)]
    pub explanation: Option<String>,
    /// Where the code is defined (chapter file and page, or the dictionary), when it differs
    /// from the list's `source`.
    #[serde(default)]
    pub source: Option<String>,
}

fn effect_none() -> Effect {
    Effect::None
}

impl Code {
    /// The severity to alert with: the list's own, else the effect's default.
    pub fn severity(&self) -> AlertSeverity {
        self.severity.unwrap_or(default_severity(self.effect))
    }
}

/// One code list file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CodeList {
    pub name: String,
    pub title: String,
    #[serde(default)]
    pub source: Option<String>,
    /// Free-form notes (e.g. where a layout is secondary).
    #[serde(default)]
    pub notes: Option<String>,
    /// The list the codes' `removes` name, when not this one (e.g. a release origin lifts an
    /// SO60 exam).
    #[serde(default)]
    pub removes_from: Option<String>,
    #[serde(default, rename = "code")]
    pub codes: Vec<Code>,
    /// Extra tables of numbers or text keyed by name (e.g. MPF minimum/maximum per fiscal year).
    #[serde(default)]
    pub table: Vec<toml::Table>,
}

impl CodeList {
    pub fn get(&self, code: &str) -> Option<&Code> {
        self.codes.iter().find(|c| c.code == code)
    }
}

/// Every code list, by name.
#[derive(Debug, Clone, Default)]
pub struct CodeLists {
    pub lists: BTreeMap<String, CodeList>,
}

impl CodeLists {
    /// Load code list files; checks: G301 duplicate list name, G302 duplicate code in a list,
    /// G303 empty meaning, G304 `removes` on a code whose effect is not hold-removed or released,
    /// G305 a `removes` code (or `removes-from` list) that is not defined: a release names the
    /// holds it lifts, in its own list or in the list `removes-from` names.
    pub fn load(files: &[GrammarFile]) -> Result<CodeLists, Vec<GrammarError>> {
        let mut errors = Vec::new();
        let mut out = CodeLists::default();
        let mut texts: BTreeMap<String, &GrammarFile> = BTreeMap::new();
        for f in files {
            let list: CodeList = match from_toml(f) {
                Ok(l) => l,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let mut seen = std::collections::BTreeMap::new();
            for c in &list.codes {
                let n = seen.entry(c.code.as_str()).or_insert(0usize);
                // Located only when there is an error to place (a scan per code is quadratic).
                let nth = *n;
                let line = || locate(&f.text, &[("code", &c.code)], nth);
                *n += 1;
                if *n == 2 {
                    errors.push(
                        GrammarError::new(
                            "G302",
                            &f.path,
                            format!("code {:?} appears twice in list {}", c.code, list.name),
                        )
                        .at_line(line()),
                    );
                }
                if c.meaning.trim().is_empty() {
                    errors.push(
                        GrammarError::new("G303", &f.path, format!("code {:?} has no meaning", c.code)).at_line(line()),
                    );
                }
                if !c.removes.is_empty() && !matches!(c.effect, Effect::HoldRemoved | Effect::Released) {
                    errors.push(
                        GrammarError::new(
                            "G304",
                            &f.path,
                            format!(
                                "code {:?} lists `removes` but its effect is neither hold-removed nor released",
                                c.code
                            ),
                        )
                        .at_line(line()),
                    );
                }
            }
            if out.lists.contains_key(&list.name) {
                errors.push(
                    GrammarError::new(
                        "G301",
                        &f.path,
                        format!(
                            "code list {:?} is defined twice (also in {})",
                            list.name,
                            texts.get(&list.name).map_or("", |g| g.path.as_str())
                        ),
                    )
                    .at_line(locate(&f.text, &[("name", &list.name)], 0)),
                );
                continue;
            }
            texts.insert(list.name.clone(), f);
            out.lists.insert(list.name.clone(), list);
        }
        for (name, list) in &out.lists {
            let Some(f) = texts.get(name) else { continue };
            let target = list.removes_from.as_deref().unwrap_or(name);
            let Some(of) = out.lists.get(target) else {
                errors.push(
                    GrammarError::new("G305", &f.path, format!("`removes-from` names no code list: {target:?}"))
                        .at_line(locate(&f.text, &[("removes-from", target)], 0)),
                );
                continue;
            };
            for c in &list.codes {
                for r in c.removes.iter().filter(|r| of.get(r).is_none()) {
                    errors.push(
                        GrammarError::new(
                            "G305",
                            &f.path,
                            format!("code {:?} removes {r:?}, which list {target} does not define", c.code),
                        )
                        .at_line(locate(&f.text, &[("code", &c.code)], 0)),
                    );
                }
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    pub fn list(&self, name: &str) -> Option<&CodeList> {
        self.lists.get(name)
    }

    /// Look a code up in a list.
    pub fn get(&self, list: &str, code: &str) -> Option<&Code> {
        self.lists.get(list).and_then(|l| l.get(code))
    }

    /// What ER JC extension/suspension codes do to liquidation: the `liquidation` of each
    /// known code of the `extension_suspension` list (unknown codes say nothing).
    pub fn ext_susp(&self, codes: &[String]) -> Vec<ExtSusp> {
        codes.iter().filter_map(|c| self.get("extension_suspension", c.trim()).and_then(|k| k.liquidation)).collect()
    }
}
