//! Disposition codes → effects: looked up in the grammar code lists (grammars/codes/), the only
//! source. A code a list lacks is unknown: advisory here, and the reader's `ABIE025` warning
//! (or the X12 narrative) tells a person.

use crate::grammar::codes::{list_name, Effect};
use crate::grammar::Grammars;

/// A disposition code's meaning for the fold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meaning {
    pub effect: Effect,
    pub agency: Option<String>,
    pub removes: Vec<String>,
    pub meaning: String,
    /// The code is in its list.
    pub known: bool,
}

/// Look a code up in the code list of a short list name (`so60`, `x407`; see
/// [`list_name`]). A code the list lacks is advisory with no meaning.
pub fn lookup(grammars: &Grammars, list: &str, code: &str) -> Meaning {
    match grammars.codes.get(list_name(list), code) {
        Some(c) => Meaning {
            effect: c.effect,
            agency: c.agency.clone(),
            removes: c.removes.clone(),
            meaning: c.meaning.clone(),
            known: true,
        },
        None => Meaning {
            effect: Effect::Advisory,
            agency: None,
            removes: Vec::new(),
            meaning: String::new(),
            known: false,
        },
    }
}
