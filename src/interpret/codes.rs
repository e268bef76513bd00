//! Disposition codes → effects: looked up in the grammar code lists (grammars/codes/), with a
//! built-in fallback (reference/abi.md §3.3) used only while a list is not shipped.

use crate::grammar::codes::Effect;
use crate::grammar::Grammars;

/// A disposition code's meaning for the fold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meaning {
    pub effect: Effect,
    pub agency: Option<String>,
    pub removes: Vec<String>,
    pub meaning: String,
}

/// Code list names tried for each ABI record / X12 element, in order.
pub fn list_names(list: &str) -> &'static [&'static str] {
    match list {
        "so50" => &["so50_dispositions", "so50"],
        "so60" => &["so60_dispositions", "so60"],
        "so70" => &["so70_statuses", "so70"],
        "x407" => &["x407"],
        _ => &[],
    }
}

/// Look a code up: the shipped code list first, else the built-in table.
pub fn lookup(grammars: &Grammars, list: &str, code: &str) -> Meaning {
    for name in list_names(list) {
        if let Some(c) = grammars.codes.get(name, code) {
            return Meaning {
                effect: c.effect,
                agency: c.agency.clone(),
                removes: c.removes.clone(),
                meaning: c.meaning.clone(),
            };
        }
    }
    fallback(list, code)
}

fn m(effect: Effect, agency: &str, removes: &[&str], meaning: &str) -> Meaning {
    Meaning {
        effect,
        agency: (!agency.is_empty()).then(|| agency.to_string()),
        removes: removes.iter().map(|s| s.to_string()).collect(),
        meaning: meaning.to_string(),
    }
}

/// reference/abi.md §3.3, for lists not (yet) shipped as data.
fn fallback(list: &str, code: &str) -> Meaning {
    use Effect::*;
    match (list, code) {
        ("so50", "51") => m(HoldPlaced, "CBP", &[], "MANIFEST HOLD CBP"),
        ("so50", "52") => m(HoldPlaced, "APHIS", &[], "MANIFEST HOLD AGRICULTURE"),
        ("so50", "53") => m(HoldPlaced, "CBP", &[], "CBP HOLD"),
        ("so50", "54") => m(HoldRemoved, "CBP", &["51"], "CBP MANIFEST HOLD REMOVED"),
        ("so50", "55") => m(HoldRemoved, "APHIS", &["52"], "AGRICULTURE MANIFEST HOLD REMOVED"),
        ("so50", "56") => m(HoldRemoved, "CBP", &["53"], "CBP HOLD REMOVED"),
        // A bill or in-bond deleted, not the entry (04b, page 54, WO50 Note 1).
        ("so50", "61" | "62" | "63") => m(Advisory, "CBP", &[], "BILL OR IN-BOND DELETED"),
        ("so60", "01") => m(Released, "CBP", &[], "ONE USG RELEASE"),
        ("so60", "03") => m(Exam, "CBP", &[], "PENDING INTENSIVE EXAM"),
        ("so60", "21") => m(Cancelled, "CBP", &[], "ENTRY DELETED BY CBP"),
        ("so60", "23") => m(Cancelled, "CBP", &[], "ENTRY CANCELLED"),
        ("so60", "90") => m(HoldPlaced, "CBP", &[], "UNDER CBP REVIEW"),
        ("so60", "96") => m(DocumentsRequired, "CBP", &[], "DOCUMENT REQUIRED"),
        ("so60", "98") => m(Released, "CBP", &["99", "96", "90"], "RELEASED"),
        ("so60", "99") => m(HoldPlaced, "CBP", &[], "RELEASE SUSPENDED"),
        ("so70", "02" | "06" | "08" | "13") => m(HoldPlaced, "", &[], "PGA HOLD"),
        ("so70", "04") => m(Rejected, "", &[], "DATA REJECTED PER PGA REVIEW"),
        ("so70", "10") => m(DocumentsRequired, "", &[], "DOCUMENTS REQUIRED"),
        ("so70", "11") => m(Exam, "", &[], "INTENSIVE EXAM/SAMPLE"),
        ("so70", "07") => m(HoldRemoved, "", &[], "MAY PROCEED"),
        _ => m(Advisory, "", &[], ""),
    }
}

/// What a release lifts beyond the `removes` of its code (SO60 98: CBP's own 99, 96, 90): the
/// examination it reports as completed. SO60 98 with release origin `05` "intensive exam
/// completed" lifts the SO60 03 exam; X12 X407 `1B` "released, intensive exam completed" lifts
/// the `1A` exam. Every other hold (SO50 manifest holds, PGA holds) stays open until its own
/// removal code (design principle 6).
pub fn release_lifts(list: &str, code: &str, origin: &str) -> Vec<String> {
    match (list, code, origin) {
        ("so60", _, "05") => vec!["03".to_string()],
        // 1B "released after intensive exam" lifts the exam of 1A and of the override 4A
        // (x407.toml; 04b page 40 lists 4A "Intensive Exam Required" under CBP selectivity).
        ("x407", "1B", _) => vec!["1A".to_string(), "4A".to_string()],
        // 4C "override 1A to 1C": the intensive exam is waived (reference/abi.md §3.3, secondary).
        ("x407", "4C", _) => vec!["1A".to_string(), "4A".to_string()],
        _ => Vec::new(),
    }
}
