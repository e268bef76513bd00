//! Duty recovery: the remedies and refund programs as data (grammars/remedies/), their loader
//! and checks (codes `G4xx`), and re-exports of the per-entry evaluation and the claim export.
//! The programs' result files in (`result`, codes `RCLxxx`) and the alert when an entry leaves
//! a window it was eligible for (`window`) live beside them.
//!
//! The rules are data so they can be kept current without code: each remedy names its window
//! (a sourced deadline entrywatch already computes, or a start fact and a length), each duty
//! program the chapter 99 headings whose duty it is, each refund program its window,
//! exclusions, upload format and sources.

pub mod evaluate;
pub mod export;
pub mod result;
pub mod window;

pub use evaluate::{evaluate, EntryRecovery, ProgramDuty, RemedyState, RemedyStatus};
pub use export::{export_chunks, ExportPlan};

use crate::deadline::DeadlineKind;
use crate::grammar::{from_toml, GrammarError, GrammarFile};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The fact a plain window starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartFact {
    /// The importation date of the filing (AE), else the entry date.
    ImportDate,
    EntryDate,
    LiquidationDate,
}

/// One remedy for duty paid (PSC, protest, 1520(d) claim, drawback).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Remedy {
    pub id: String,
    pub name: String,
    /// The window is the sourced deadline of this kind (docs/deadlines.md).
    #[serde(default)]
    pub deadline: Option<DeadlineKind>,
    /// Or a plain window: from this fact ...
    #[serde(default)]
    pub start: Option<StartFact>,
    /// ... for this many calendar days ...
    #[serde(default)]
    pub days: Option<i64>,
    /// ... or calendar years.
    #[serde(default)]
    pub years: Option<u32>,
    pub source: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Which chapter 99 headings carry a program's duty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DutyProgram {
    pub id: String,
    pub name: String,
    /// Prefixes of the HTS number as the AE 50 record reports it (digits, no dots).
    pub headings: Vec<String>,
    #[serde(default)]
    pub from: Option<NaiveDate>,
    #[serde(default)]
    pub until: Option<NaiveDate>,
    pub source: String,
}

/// A dated fact behind the programs (a decision, an ACE change), with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DatedFact {
    pub date: NaiveDate,
    pub text: String,
    pub source: String,
}

/// What keeps an entry out of a refund program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExclusionKind {
    /// Any filing flagged for reconciliation (AE 10-record).
    ReconciliationFlagged,
    /// The entry type is one of `types`.
    EntryType,
    /// A protest open or suspended (ER JJ status OP/SP, 03-entry-summary-query page 43), or
    /// ER's protest indicator `YS` with no JJ detail.
    OpenProtest,
    /// No tariff line under a heading of the refunded duty programs.
    NoRefundedDuty,
    /// Exclusions entrywatch cannot see: shown as a caution on every eligible entry.
    NotKnown,
}

/// One exclusion of a refund program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Exclusion {
    pub kind: ExclusionKind,
    #[serde(default)]
    pub types: Vec<String>,
    pub text: String,
    pub source: String,
}

/// The claim file a program takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Upload {
    pub header: String,
    pub max_rows: usize,
    /// "11": the entry number without dashes (filer code, number, check digit).
    pub entry_number: String,
    pub source: String,
}

/// A refund program of CBP's own (e.g. CAPE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Program {
    pub id: String,
    pub name: String,
    /// Duty programs whose duty it refunds.
    pub refunds: Vec<String>,
    pub opened: NaiveDate,
    pub source: String,
    /// Unliquidated entries are eligible.
    pub unliquidated: bool,
    /// Liquidated entries are eligible up to this many days after liquidation (inclusive).
    pub days_after_liquidation: i64,
    pub window_source: String,
    /// Liquidation states in which the entry is accepted but refunded only at liquidation.
    #[serde(default)]
    pub held_refund_when: Vec<String>,
    #[serde(default)]
    pub held_source: String,
    /// Remedies refused once the program accepts the entry.
    #[serde(default)]
    pub blocks: Vec<String>,
    #[serde(default)]
    pub blocks_source: String,
    #[serde(default)]
    pub payment: String,
    #[serde(default)]
    pub payment_source: String,
    pub upload: Upload,
    #[serde(default)]
    pub exclusion: Vec<Exclusion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RemediesFile {
    #[serde(default)]
    remedy: Vec<Remedy>,
    #[serde(default)]
    duty_program: Vec<DutyProgram>,
    #[serde(default)]
    fact: Vec<DatedFact>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramFile {
    program: Program,
}

/// Everything in grammars/remedies/, loaded and checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Remedies {
    pub remedies: Vec<Remedy>,
    pub duty_programs: Vec<DutyProgram>,
    pub facts: Vec<DatedFact>,
    pub programs: Vec<Program>,
}

/// The file holding remedies, duty programs and facts; every other file is one program.
pub const REMEDIES_FILE: &str = "remedies/remedies.toml";

impl Remedies {
    /// Load the files under `remedies/` and check them; every problem is reported.
    pub fn load(files: &[GrammarFile]) -> Result<Remedies, Vec<GrammarError>> {
        let mut errors = Vec::new();
        let mut r = Remedies::default();
        let mut sources: Vec<(String, &GrammarFile)> = Vec::new();
        for f in files {
            if f.path == REMEDIES_FILE {
                match from_toml::<RemediesFile>(f) {
                    Ok(x) => {
                        r.remedies.extend(x.remedy);
                        r.duty_programs.extend(x.duty_program);
                        r.facts.extend(x.fact);
                    }
                    Err(e) => errors.push(e),
                }
            } else {
                match from_toml::<ProgramFile>(f) {
                    Ok(x) => {
                        sources.push((x.program.id.clone(), f));
                        r.programs.push(x.program);
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        if !files.is_empty() && !files.iter().any(|f| f.path == REMEDIES_FILE) {
            errors.push(GrammarError::new("G401", REMEDIES_FILE, "missing: the remedies and duty programs file"));
        }
        r.check(REMEDIES_FILE, &sources, &mut errors);
        if errors.is_empty() {
            Ok(r)
        } else {
            Err(errors)
        }
    }

    fn check(&self, file: &str, programs: &[(String, &GrammarFile)], errors: &mut Vec<GrammarError>) {
        let mut err = |f: &str, code: &'static str, m: String| errors.push(GrammarError::new(code, f, m));
        let mut ids = BTreeSet::new();
        for rem in &self.remedies {
            if !ids.insert(rem.id.clone()) {
                err(file, "G402", format!("remedy {:?} is declared twice", rem.id));
            }
            let plain = rem.start.is_some();
            match (rem.deadline.is_some(), plain) {
                (true, true) | (false, false) => err(
                    file,
                    "G403",
                    format!("remedy {:?}: give either `deadline` or `start` with `days` or `years`", rem.id),
                ),
                (false, true) if rem.days.is_some() == rem.years.is_some() => err(
                    file,
                    "G403",
                    format!("remedy {:?}: a plain window needs exactly one of `days`, `years`", rem.id),
                ),
                _ => {}
            }
            if rem.days.is_some_and(|d| !(1..=36_500).contains(&d))
                || rem.years.is_some_and(|y| !(1..=100).contains(&y))
            {
                err(file, "G403", format!("remedy {:?}: the window is 1 to 36500 days or 1 to 100 years", rem.id));
            }
            if rem.source.trim().is_empty() {
                err(file, "G406", format!("remedy {:?} has no source", rem.id));
            }
        }
        let mut dp = BTreeSet::new();
        for p in &self.duty_programs {
            if !dp.insert(p.id.clone()) {
                err(file, "G402", format!("duty program {:?} is declared twice", p.id));
            }
            if p.headings.is_empty()
                || p.headings.iter().any(|h| h.len() < 4 || h.len() > 10 || !h.bytes().all(|b| b.is_ascii_digit()))
            {
                err(file, "G404", format!("duty program {:?}: headings are 4 to 10 digits, no dots", p.id));
            }
            if let (Some(a), Some(b)) = (p.from, p.until) {
                if a > b {
                    err(file, "G404", format!("duty program {:?}: `from` is after `until`", p.id));
                }
            }
            if p.source.trim().is_empty() {
                err(file, "G406", format!("duty program {:?} has no source", p.id));
            }
        }
        for f in &self.facts {
            if f.source.trim().is_empty() {
                err(file, "G406", format!("fact of {} has no source", f.date));
            }
        }
        let mut seen = BTreeSet::new();
        for prog in &self.programs {
            let pf = programs.iter().find(|(id, _)| id == &prog.id).map_or(file, |(_, f)| f.path.as_str());
            if !seen.insert(prog.id.clone()) || ids.contains(&prog.id) {
                err(pf, "G402", format!("program {:?} is declared twice (or shares a remedy's id)", prog.id));
            }
            if prog.refunds.is_empty() {
                err(pf, "G405", format!("program {:?} refunds no duty program", prog.id));
            }
            for d in &prog.refunds {
                if !dp.contains(d) {
                    err(pf, "G405", format!("program {:?} refunds unknown duty program {d:?}", prog.id));
                }
            }
            for b in &prog.blocks {
                if !ids.contains(b) {
                    err(pf, "G405", format!("program {:?} blocks unknown remedy {b:?}", prog.id));
                }
            }
            for h in &prog.held_refund_when {
                if !matches!(h.as_str(), "extended" | "suspended") {
                    err(
                        pf,
                        "G405",
                        format!("program {:?}: held-refund-when takes extended, suspended; not {h:?}", prog.id),
                    );
                }
            }
            if !(0..=36_500).contains(&prog.days_after_liquidation) {
                err(pf, "G403", format!("program {:?}: days-after-liquidation is 0 to 36500", prog.id));
            }
            let u = &prog.upload;
            if u.header.trim().is_empty() || u.header.contains([',', '"', '\n']) {
                err(pf, "G407", format!("program {:?}: the upload header must be one plain CSV field", prog.id));
            }
            if u.max_rows == 0 {
                err(pf, "G407", format!("program {:?}: upload max-rows must be at least 1", prog.id));
            }
            if u.entry_number != "11" {
                err(
                    pf,
                    "G407",
                    format!("program {:?}: entry-number form {:?} unknown (\"11\")", prog.id, u.entry_number),
                );
            }
            for x in &prog.exclusion {
                if x.kind == ExclusionKind::EntryType
                    && (x.types.is_empty()
                        || x.types.iter().any(|t| t.len() != 2 || !t.bytes().all(|b| b.is_ascii_digit())))
                {
                    err(pf, "G408", format!("program {:?}: an entry-type exclusion lists 2-digit types", prog.id));
                }
                if x.kind != ExclusionKind::EntryType && !x.types.is_empty() {
                    err(pf, "G408", format!("program {:?}: only entry-type exclusions take `types`", prog.id));
                }
                if x.source.trim().is_empty() {
                    err(pf, "G406", format!("program {:?}: exclusion {:?} has no source", prog.id, x.text));
                }
            }
            for (what, s) in
                [("source", &prog.source), ("window-source", &prog.window_source), ("upload source", &u.source)]
            {
                if s.trim().is_empty() {
                    err(pf, "G406", format!("program {:?} has no {what}", prog.id));
                }
            }
        }
    }

    /// The program with this id.
    pub fn program(&self, id: &str) -> Option<&Program> {
        self.programs.iter().find(|p| p.id.eq_ignore_ascii_case(id))
    }

    /// The duty program whose headings cover this HTS number (longest prefix wins).
    pub fn duty_program_of(&self, hts: &str) -> Option<&DutyProgram> {
        let digits: String = hts.chars().filter(char::is_ascii_digit).collect();
        self.duty_programs
            .iter()
            .filter_map(|p| {
                p.headings.iter().filter(|h| digits.starts_with(h.as_str())).map(|h| (h.len(), p)).max_by_key(|x| x.0)
            })
            .max_by_key(|x| x.0)
            .map(|x| x.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded() -> Remedies {
        crate::grammar::Grammars::embedded().expect("embedded grammars load").remedies
    }

    #[test]
    fn the_shipped_rules_load_with_cape() {
        let r = embedded();
        let cape = r.program("cape").expect("cape");
        assert_eq!((cape.days_after_liquidation, cape.upload.max_rows), (80, 9999));
        assert_eq!(cape.upload.header, "Entry Number");
        assert_eq!(r.duty_program_of("9903.01.25").map(|p| p.id.as_str()), Some("ieepa"));
        assert_eq!(r.duty_program_of("9903030100").map(|p| p.id.as_str()), Some("section-122"));
        assert_eq!(r.duty_program_of("8471300100"), None);
    }

    #[test]
    fn bad_rules_are_reported_with_codes() {
        let files = vec![
            GrammarFile {
                path: REMEDIES_FILE.into(),
                text: "[[remedy]]\nid = \"x\"\nname = \"X\"\nsource = \"\"\n\n[[duty-program]]\nid = \"d\"\nname = \"D\"\nheadings = [\"99.03\"]\nsource = \"s\"\n".into(),
            },
            GrammarFile {
                path: "remedies/p.toml".into(),
                text: "[program]\nid = \"p\"\nname = \"P\"\nrefunds = [\"nope\"]\nopened = \"2026-01-01\"\nsource = \"s\"\nunliquidated = true\ndays-after-liquidation = 80\nwindow-source = \"s\"\nblocks = [\"psc\"]\n[program.upload]\nheader = \"A,B\"\nmax-rows = 0\nentry-number = \"13\"\nsource = \"s\"\n".into(),
            },
        ];
        let errs = Remedies::load(&files).unwrap_err();
        let codes: BTreeSet<&str> = errs.iter().map(|e| e.code).collect();
        for c in ["G403", "G404", "G405", "G406", "G407"] {
            assert!(codes.contains(c), "{c} missing from {errs:?}");
        }
        let garbled = vec![GrammarFile { path: REMEDIES_FILE.into(), text: "[[remedy]\n".into() }];
        assert_eq!(Remedies::load(&garbled).unwrap_err()[0].code, "G002");
    }
}
