//! X12 grammar model and loader: envelope, segment/element dictionaries per version, transaction sets.
//!
//! Three kinds of file live under `grammars/x12/` (format reference in docs/x12.md):
//!
//! * `kind = "envelope"`: the control segments (ISA/IEA, GS/GE, ST/SE, TA1, ISB/ISE);
//! * `kind = "dictionary"`: the segments and their elements of one version (`version = "004010"`),
//!   optionally inheriting another version's (`base = "004010"`);
//! * `kind = "set"`: one transaction set: its functional group ids (GS01) and its loop structure.
//!
//! An element is one compact string: `"REQ TYPE MIN MAX REF [@list | =A|B|C] [rep=N]"`, e.g.
//! `"M ID 2 2 35 @x407"`. A structure is a text block, one segment per line (`ID MIN MAX`) and
//! loops as `LOOP NAME MIN MAX {` ... `}`; `>1` means unbounded.
//!
//! Loader errors (stable): G101 unknown kind, G102 malformed element, G103 unknown element type,
//! G104 bad min/max, G105 code list not found, G106 duplicate, G107 structure syntax, G108 unknown
//! segment referenced, G109 dictionary base not found, G110 missing field, G111 envelope incomplete,
//! G112 set does not start with ST and end with SE.

use super::codes::CodeLists;
use super::{from_toml, GrammarError, GrammarFile};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A segment id packed into a u32 (up to 3 ASCII bytes), for fast lookup.
pub type SegId = u32;

/// Pack a segment id (2 or 3 upper-case letters/digits) into a [`SegId`]; `None` if malformed.
pub fn seg_id(id: &[u8]) -> Option<SegId> {
    if id.len() < 2 || id.len() > 3 || !id.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return None;
    }
    Some(id.iter().fold(0u32, |acc, &b| (acc << 8) | b as u32))
}

/// Unpack a [`SegId`] into its text.
pub fn seg_name(id: SegId) -> String {
    id.to_be_bytes().iter().filter(|&&b| b != 0).map(|&b| b as char).collect()
}

/// Element requirement designator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Req {
    /// Mandatory.
    M,
    /// Optional.
    O,
    /// Conditional (relational rules are not checked; treated as optional).
    X,
}

/// X12 data element types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElemType {
    /// Alphanumeric string.
    AN,
    /// Identifier (code value).
    ID,
    /// Numeric with an implied number of decimals (`N` is `N0`).
    N(u8),
    /// Decimal number.
    R,
    /// Date CCYYMMDD or YYMMDD.
    DT,
    /// Time HHMM[SS[d..]].
    TM,
    /// Binary (BIN02); never checked.
    B,
    /// Composite; min/max are the number of components.
    C,
}

/// One element of a segment definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementDef {
    pub req: Req,
    pub ty: ElemType,
    pub min: u32,
    pub max: u32,
    /// Data element reference number (AK402 / IK402).
    pub reference: String,
    /// Allowed values, sorted (from a named code list or inline); `None` = not checked.
    pub codes: Option<Vec<String>>,
    /// Name of the code list, when from `grammars/codes/`.
    pub code_list: Option<String>,
    /// Maximum repetitions (1 = not repeatable).
    pub repeat: u32,
    /// The element's name (`name=disposition_code`): interpretation reads X12 by name.
    pub name: Option<String>,
}

impl ElementDef {
    /// Is `v` one of the allowed codes (always true when there is no list)?
    pub fn code_ok(&self, v: &[u8]) -> bool {
        match &self.codes {
            None => true,
            Some(c) => c.binary_search_by(|x| x.as_bytes().cmp(v)).is_ok(),
        }
    }
}

/// A segment: its id and elements (position 1 = first element).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentDef {
    pub id: String,
    pub elements: Vec<ElementDef>,
    /// `["*"]` in a dictionary: a standard segment whose elements no source at hand describes
    /// reliably. Only its id and its place in the set are checked, never its elements.
    pub open: bool,
    /// Each element's [`Rule`], in a compact table beside `elements` (the validator's hot path
    /// reads these, a few cache lines per segment, and `elements` only for the rare cases).
    pub rules: Vec<Rule>,
    /// The number of elements up to the last mandatory one.
    pub required: usize,
}

/// What the validator's fast path does with a non-empty value (see [`Rule`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// AN, or ID without a code list: the length only (for printable ASCII values).
    Length,
    /// ID with a code list: the length, then the code.
    Code,
    /// N: digits only within the length (else the full value check).
    Number,
    /// R: digits and at most one point, the digits within the length (else the full value check).
    Real,
    /// DT: a valid date within the length.
    Date,
    /// TM: a valid time within the length.
    Time,
    /// B and C: not checked on the fast path.
    Skip,
}

/// The compact form of an [`ElementDef`] that the validator reads per element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub kind: RuleKind,
    pub mandatory: bool,
    pub min: u32,
    pub max: u32,
}

impl Rule {
    pub fn of(e: &ElementDef) -> Rule {
        let kind = match e.ty {
            ElemType::AN => RuleKind::Length,
            ElemType::ID if e.codes.is_some() => RuleKind::Code,
            ElemType::ID => RuleKind::Length,
            ElemType::N(_) => RuleKind::Number,
            ElemType::R => RuleKind::Real,
            ElemType::DT => RuleKind::Date,
            ElemType::TM => RuleKind::Time,
            ElemType::B | ElemType::C => RuleKind::Skip,
        };
        Rule { kind, mandatory: e.req == Req::M, min: e.min, max: e.max }
    }
}

impl SegmentDef {
    /// The 1-based position of the element named `name`, when the definition names it.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.name.as_deref() == Some(name)).map(|i| i + 1)
    }
}

/// Segment definitions keyed by packed id: a compact sorted key array (binary search stays in a
/// few cache lines) beside the definitions.
#[derive(Debug, Clone, Default)]
pub struct SegmentDict {
    pub version: String,
    keys: Vec<SegId>,
    defs: Vec<SegmentDef>,
}

impl SegmentDict {
    /// An empty dictionary.
    pub const fn new() -> Self {
        SegmentDict { version: String::new(), keys: Vec::new(), defs: Vec::new() }
    }
    #[inline]
    pub fn get(&self, id: SegId) -> Option<&SegmentDef> {
        if self.keys.is_empty() {
            return None;
        }
        self.keys.binary_search(&id).ok().and_then(|i| self.defs.get(i))
    }
    pub fn contains(&self, id: SegId) -> bool {
        self.get(id).is_some()
    }
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    /// Every (id, definition), sorted by id.
    pub fn iter(&self) -> impl Iterator<Item = (SegId, &SegmentDef)> {
        self.keys.iter().copied().zip(self.defs.iter())
    }
    fn insert(&mut self, id: SegId, def: SegmentDef) {
        match self.keys.binary_search(&id) {
            Ok(i) => {
                if let Some(e) = self.defs.get_mut(i) {
                    *e = def;
                }
            }
            Err(i) => {
                self.keys.insert(i, id);
                self.defs.insert(i, def);
            }
        }
    }
}

/// A node of a set's structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Segment {
        id: SegId,
        min: u32,
        max: u32,
    },
    /// A loop; its first child is the trigger segment.
    Loop {
        id: String,
        min: u32,
        max: u32,
        children: Vec<Node>,
        /// The trigger segment (first child), precomputed.
        first: SegId,
        /// Each child's first segment, for a fast search.
        firsts: Vec<SegId>,
        /// Index just past the last child with min > 0 (missing-segment checks stop there).
        required_end: usize,
    },
}

/// Each node's first segment.
pub fn firsts(nodes: &[Node]) -> Vec<SegId> {
    nodes.iter().map(Node::first_segment).collect()
}

/// Index just past the last node with min > 0.
pub fn required_end(nodes: &[Node]) -> usize {
    nodes.iter().rposition(|n| n.min() > 0).map(|i| i + 1).unwrap_or(0)
}

impl Node {
    /// The segment that starts this node.
    pub fn first_segment(&self) -> SegId {
        match self {
            Node::Segment { id, .. } => *id,
            Node::Loop { first, .. } => *first,
        }
    }
    pub fn min(&self) -> u32 {
        match self {
            Node::Segment { min, .. } | Node::Loop { min, .. } => *min,
        }
    }
    pub fn max(&self) -> u32 {
        match self {
            Node::Segment { max, .. } | Node::Loop { max, .. } => *max,
        }
    }
}

/// One transaction set grammar.
#[derive(Debug, Clone)]
pub struct SetGrammar {
    pub set: String,
    pub name: String,
    /// GS01 values this set may travel in.
    pub functional_ids: Vec<String>,
    pub structure: Vec<Node>,
    /// The first segment of each top-level node.
    pub root_firsts: Vec<SegId>,
    /// Index just past the last top-level node with min > 0.
    pub root_required_end: usize,
    /// Set-specific segment definitions that replace the version dictionary's.
    pub overrides: SegmentDict,
    /// Every segment id the structure names.
    pub segment_ids: Vec<SegId>,
    /// CBP's own set (`authority = "cbp"`): CBP's word is never dropped, so a code value not in
    /// our lists is a warning and the set is accepted with errors noted (AK5 E), never rejected;
    /// every other finding (structure, lengths, envelope counts) keeps its error.
    pub cbp: bool,
}

impl SetGrammar {
    pub fn uses(&self, id: SegId) -> bool {
        self.segment_ids.binary_search(&id).is_ok()
    }
}

/// All X12 grammars.
#[derive(Debug, Clone, Default)]
pub struct X12Grammars {
    pub envelope: SegmentDict,
    /// Dictionaries by version (`004010`), bases already merged.
    pub dictionaries: BTreeMap<String, SegmentDict>,
    pub sets: BTreeMap<String, SetGrammar>,
    /// Each version dictionary with every segment open (ids and order only): what a version
    /// without a dictionary of its own is read with.
    pub open_dictionaries: BTreeMap<String, SegmentDict>,
    /// Number of files loaded.
    pub files: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFile {
    kind: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    set: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    functional_ids: Vec<String>,
    /// `cbp` for CBP's own sets (350, 353, 355, 309): an unknown code inside them is a warning.
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    structure: Option<String>,
    #[serde(default)]
    segments: BTreeMap<String, Vec<String>>,
}

fn parse_count(s: &str) -> Option<u32> {
    if s == ">1" {
        Some(u32::MAX)
    } else {
        s.parse().ok()
    }
}

/// Parse one element spec string.
pub fn parse_element(spec: &str, codes: &CodeLists) -> Result<ElementDef, (&'static str, String)> {
    let toks: Vec<&str> = spec.split_whitespace().collect();
    let [req, ty, min, max, reference, rest @ ..] = toks.as_slice() else {
        return Err(("G102", format!("element {spec:?}: expected \"REQ TYPE MIN MAX REF\"")));
    };
    let req = match *req {
        "M" => Req::M,
        "O" => Req::O,
        "X" => Req::X,
        o => return Err(("G102", format!("element {spec:?}: requirement {o:?} is not M, O or X"))),
    };
    let ty = match *ty {
        "AN" => ElemType::AN,
        "ID" => ElemType::ID,
        "N" => ElemType::N(0),
        "R" => ElemType::R,
        "DT" => ElemType::DT,
        "TM" => ElemType::TM,
        "B" => ElemType::B,
        "C" => ElemType::C,
        t if t.len() == 2 && t.starts_with('N') && t.as_bytes().get(1).is_some_and(u8::is_ascii_digit) => {
            ElemType::N(t.as_bytes().get(1).map(|d| d - b'0').unwrap_or(0))
        }
        t => return Err(("G103", format!("element {spec:?}: unknown type {t:?}"))),
    };
    let (Some(min), Some(max)) = (parse_count(min), parse_count(max)) else {
        return Err(("G104", format!("element {spec:?}: min/max are not numbers")));
    };
    if max == 0 || min > max {
        return Err(("G104", format!("element {spec:?}: bad min/max {min}/{max}")));
    }
    let mut def = ElementDef {
        req,
        ty,
        min,
        max,
        reference: reference.to_string(),
        codes: None,
        code_list: None,
        repeat: 1,
        name: None,
    };
    for t in rest {
        if let Some(name) = t.strip_prefix('@') {
            let Some(list) = codes.list(name) else {
                return Err(("G105", format!("element {spec:?}: code list {name:?} not found")));
            };
            let mut v: Vec<String> = list.codes.iter().map(|c| c.code.clone()).collect();
            v.sort();
            def.codes = Some(v);
            def.code_list = Some(name.to_string());
        } else if let Some(vals) = t.strip_prefix('=') {
            let mut v: Vec<String> = vals.split('|').map(str::to_string).collect();
            v.sort();
            def.codes = Some(v);
        } else if let Some(n) = t.strip_prefix("name=") {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                return Err(("G102", format!("element {spec:?}: a name is lowercase letters, digits and _")));
            }
            def.name = Some(n.to_string());
        } else if let Some(n) = t.strip_prefix("rep=") {
            def.repeat = match parse_count(n) {
                Some(r) if r > 0 => r,
                _ => return Err(("G104", format!("element {spec:?}: bad repeat {n:?}"))),
            };
        } else {
            return Err(("G102", format!("element {spec:?}: unknown token {t:?}")));
        }
    }
    Ok(def)
}

/// Parse a structure text block into nodes.
pub fn parse_structure(text: &str) -> Result<Vec<Node>, String> {
    let mut stack: Vec<(String, u32, u32, Vec<Node>)> = vec![(String::new(), 1, 1, Vec::new())];
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        match toks.as_slice() {
            ["}"] => {
                if stack.len() < 2 {
                    return Err(format!("line {}: `}}` without a loop", n + 1));
                }
                let Some((id, min, max, children)) = stack.pop() else { break };
                match children.first() {
                    Some(Node::Segment { .. }) => {}
                    _ => return Err(format!("loop {id} must start with a segment")),
                }
                let first = children.first().map(Node::first_segment).unwrap_or(0);
                let (f, required_end) = (firsts(&children), required_end(&children));
                if let Some(top) = stack.last_mut() {
                    top.3.push(Node::Loop { id, min, max, children, first, firsts: f, required_end });
                }
            }
            ["LOOP", id, min, max, "{"] => {
                let (Some(min), Some(max)) = (parse_count(min), parse_count(max)) else {
                    return Err(format!("line {}: bad loop counts", n + 1));
                };
                if max == 0 || min > max {
                    return Err(format!("G104 line {}: bad min/max {min}/{max}", n + 1));
                }
                stack.push((id.to_string(), min, max, Vec::new()));
            }
            [id, min, max] => {
                let Some(sid) = seg_id(id.as_bytes()) else {
                    return Err(format!("line {}: {id:?} is not a segment id", n + 1));
                };
                let (Some(min), Some(max)) = (parse_count(min), parse_count(max)) else {
                    return Err(format!("line {}: bad counts", n + 1));
                };
                if max == 0 || min > max {
                    return Err(format!("G104 line {}: bad min/max {min}/{max}", n + 1));
                }
                if let Some(top) = stack.last_mut() {
                    top.3.push(Node::Segment { id: sid, min, max });
                }
            }
            _ => return Err(format!("line {}: cannot read {line:?}", n + 1)),
        }
    }
    if stack.len() != 1 {
        return Err("a loop is not closed with `}`".into());
    }
    Ok(stack.pop().map(|s| s.3).unwrap_or_default())
}

fn collect_ids(nodes: &[Node], out: &mut Vec<SegId>) {
    for n in nodes {
        match n {
            Node::Segment { id, .. } => out.push(*id),
            Node::Loop { children, .. } => collect_ids(children, out),
        }
    }
}

fn load_segments(
    path: &str,
    raw: &BTreeMap<String, Vec<String>>,
    codes: &CodeLists,
    errors: &mut Vec<GrammarError>,
) -> SegmentDict {
    let mut d = SegmentDict::default();
    for (id, elems) in raw {
        let Some(sid) = seg_id(id.as_bytes()) else {
            errors.push(GrammarError::new("G102", path, format!("{id:?} is not a segment id")));
            continue;
        };
        let mut def = SegmentDef { id: id.clone(), elements: Vec::new(), open: false, rules: Vec::new(), required: 0 };
        if elems.len() == 1 && elems.first().is_some_and(|e| e == "*") {
            def.open = true;
            d.insert(sid, def);
            continue;
        }
        for e in elems {
            match parse_element(e, codes) {
                Ok(el) => def.elements.push(el),
                Err((code, msg)) => errors.push(GrammarError::new(code, path, format!("{id}: {msg}"))),
            }
        }
        def.rules = def.elements.iter().map(Rule::of).collect();
        def.required = def.elements.iter().rposition(|e| e.req == Req::M).map_or(0, |i| i + 1);
        d.insert(sid, def);
    }
    d
}

impl X12Grammars {
    /// Load and check the X12 grammar files against the code lists; returns warnings on success.
    pub fn load(files: &[GrammarFile], codes: &CodeLists) -> Result<(X12Grammars, Vec<String>), Vec<GrammarError>> {
        let mut errors = Vec::new();
        let mut g = X12Grammars { files: files.len(), ..Default::default() };
        let mut envelope_seen = false;
        // Where the envelope's segments are (its file and the `[segments]` line), for G111.
        let mut envelope_at: Option<(String, Option<usize>)> = None;
        let mut raw_dicts: Vec<(String, RawFile)> = Vec::new();
        let mut raw_sets: Vec<(String, RawFile)> = Vec::new();
        for f in files {
            let raw: RawFile = match from_toml(f) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let _ = (&raw.notes, &raw.name);
            match raw.kind.as_str() {
                "envelope" => {
                    if envelope_seen {
                        errors.push(GrammarError::new("G106", &f.path, "a second envelope file"));
                    }
                    envelope_seen = true;
                    let seg_line = f.text.lines().position(|l| l.trim_start().starts_with("[segments]")).map(|i| i + 1);
                    envelope_at = Some((f.path.clone(), seg_line));
                    g.envelope = load_segments(&f.path, &raw.segments, codes, &mut errors);
                    g.envelope.version = "envelope".into();
                }
                "dictionary" => raw_dicts.push((f.path.clone(), raw)),
                "set" => raw_sets.push((f.path.clone(), raw)),
                k => errors.push(GrammarError::new("G101", &f.path, format!("unknown kind {k:?}"))),
            }
        }
        if files.is_empty() {
            return Ok((g, vec!["no X12 grammar files".into()]));
        }
        let (env_file, env_line) = envelope_at.unwrap_or_else(|| ("x12/envelope.toml".to_string(), None));
        for need in ["ISA", "IEA", "GS", "GE", "ST", "SE"] {
            if !g.envelope.contains(seg_id(need.as_bytes()).unwrap_or(0)) {
                errors.push(
                    GrammarError::new("G111", &env_file, format!("envelope does not define {need}")).at_line(env_line),
                );
            }
        }
        // Dictionaries: plain ones first, then those with a base (one level of inheritance per pass).
        let mut pending = raw_dicts;
        for _ in 0..4 {
            let mut next = Vec::new();
            for (path, raw) in pending {
                let Some(version) = raw.version.clone() else {
                    errors.push(GrammarError::new("G110", &path, "a dictionary needs `version`"));
                    continue;
                };
                let mut dict = match &raw.base {
                    None => SegmentDict::default(),
                    Some(b) => match g.dictionaries.get(b) {
                        Some(d) => d.clone(),
                        None => {
                            next.push((path, raw));
                            continue;
                        }
                    },
                };
                let own = load_segments(&path, &raw.segments, codes, &mut errors);
                for (id, def) in own.keys.into_iter().zip(own.defs) {
                    dict.insert(id, def);
                }
                dict.version = version.clone();
                if g.dictionaries.insert(version.clone(), dict).is_some() {
                    errors.push(GrammarError::new("G106", &path, format!("dictionary {version} is defined twice")));
                }
            }
            pending = next;
        }
        for (path, raw) in pending {
            errors.push(GrammarError::new("G109", &path, format!("base dictionary {:?} not found", raw.base)));
        }
        if g.dictionaries.is_empty() {
            errors.push(GrammarError::new("G110", "x12/", "no X12 segment dictionary"));
        }
        for (path, raw) in raw_sets {
            let (Some(set), Some(text)) = (raw.set.clone(), raw.structure.as_deref()) else {
                errors.push(GrammarError::new("G110", &path, "a set needs `set` and `structure`"));
                continue;
            };
            let structure = match parse_structure(text) {
                Ok(s) => s,
                Err(m) => {
                    let code = if m.starts_with("G104") { "G104" } else { "G107" };
                    errors.push(GrammarError::new(code, &path, m));
                    continue;
                }
            };
            let st = seg_id(b"ST").unwrap_or(0);
            let se = seg_id(b"SE").unwrap_or(0);
            if structure.first().map(Node::first_segment) != Some(st)
                || !matches!(structure.last(), Some(Node::Segment { id, .. }) if *id == se)
            {
                errors.push(GrammarError::new("G112", &path, "a structure starts with ST and ends with SE"));
            }
            let overrides = load_segments(&path, &raw.segments, codes, &mut errors);
            let mut ids = Vec::new();
            collect_ids(&structure, &mut ids);
            ids.sort_unstable();
            ids.dedup();
            for id in &ids {
                let known = overrides.contains(*id)
                    || g.envelope.contains(*id)
                    || g.dictionaries.values().any(|d| d.contains(*id));
                if !known {
                    errors.push(GrammarError::new(
                        "G108",
                        &path,
                        format!("segment {} is not defined in any dictionary", seg_name(*id)),
                    ));
                }
            }
            if raw.functional_ids.is_empty() {
                errors.push(GrammarError::new("G110", &path, "a set needs `functional-ids`"));
            }
            let cbp = match raw.authority.as_deref() {
                None | Some("partner") => false,
                Some("cbp") => true,
                Some(a) => {
                    errors.push(GrammarError::new("G110", &path, format!("authority {a:?} is not `cbp` or `partner`")));
                    false
                }
            };
            let sg = SetGrammar {
                set: set.clone(),
                name: raw.name.clone().unwrap_or_default(),
                functional_ids: raw.functional_ids.clone(),
                root_firsts: firsts(&structure),
                root_required_end: required_end(&structure),
                structure,
                overrides,
                segment_ids: ids,
                cbp,
            };
            if g.sets.insert(set.clone(), sg).is_some() {
                errors.push(GrammarError::new("G106", &path, format!("set {set} is defined twice")));
            }
        }
        for (v, d) in &g.dictionaries {
            let mut open = d.clone();
            for def in &mut open.defs {
                def.open = true;
            }
            g.open_dictionaries.insert(v.clone(), open);
        }
        if errors.is_empty() {
            Ok((g, Vec::new()))
        } else {
            Err(errors)
        }
    }

    /// The dictionary for a version (`004010`, `005010X231A1`, `00401` ...): the exact one; else,
    /// for a version without a dictionary of its own, the nearest version's dictionary with every
    /// segment open (envelope, counts, segment ids and order are checked; no element length,
    /// type, code or date rule the partner's own version might not have) plus a warning text.
    /// Dictionaries whose version is not a number (`open`) are bases only, never chosen.
    pub fn dictionary(&self, version: &str) -> Option<(&SegmentDict, Option<String>)> {
        let key = normalize_version(version);
        if let Some(d) = self.dictionaries.get(&key) {
            return Some((d, None));
        }
        let want: i64 = key.parse().unwrap_or(0);
        let (best, _) = self
            .dictionaries
            .keys()
            .filter_map(|k| k.parse::<i64>().ok().map(|n| (k, (n - want).abs())))
            .min_by_key(|(_, d)| *d)?;
        let open = self.open_dictionaries.get(best)?;
        Some((
            open,
            Some(format!(
                "version {version:?} has no dictionary: read version-independently (envelope, counts, segment ids and order from {best}); no element length, type, code or date rules"
            )),
        ))
    }
}

pub fn normalize_version(v: &str) -> String {
    let digits: String = v.chars().take_while(|c| c.is_ascii_digit()).collect();
    match digits.len() {
        5 => format!("{digits}0"),
        n if n >= 6 => digits.chars().take(6).collect(),
        _ => digits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_specs() {
        let c = CodeLists::default();
        let e = parse_element("M ID 2 3 353 =00|05 rep=2", &c).unwrap();
        assert_eq!((e.req, e.ty, e.min, e.max, e.repeat), (Req::M, ElemType::ID, 2, 3, 2));
        assert!(e.code_ok(b"00") && !e.code_ok(b"01"));
        assert_eq!(parse_element("M N2 1 15 610", &c).unwrap().ty, ElemType::N(2));
        assert_eq!(parse_element("M Q 1 2 1", &c).unwrap_err().0, "G103");
        assert_eq!(parse_element("M AN 3 2 1", &c).unwrap_err().0, "G104");
        assert_eq!(parse_element("M ID 2 2 35 @nope", &c).unwrap_err().0, "G105");
        assert_eq!(parse_element("M ID 2", &c).unwrap_err().0, "G102");
    }

    #[test]
    fn structures() {
        let s = parse_structure("ST 1 1\nLOOP HL 1 >1 {\n HL 1 1\n LIN 0 1\n}\nSE 1 1\n").unwrap();
        assert_eq!(s.len(), 3);
        assert!(matches!(&s[1], Node::Loop { id, max: u32::MAX, children, .. } if id == "HL" && children.len() == 2));
        assert!(parse_structure("LOOP A 0 1 {\nST 1 1\n").is_err());
        assert!(parse_structure("ST 1 0").is_err());
    }

    #[test]
    fn versions() {
        assert_eq!(normalize_version("004010VICS"), "004010");
        assert_eq!(normalize_version("00501"), "005010");
        assert_eq!(seg_name(seg_id(b"ISA").unwrap()), "ISA");
        assert!(seg_id(b"is").is_none());
    }
}
