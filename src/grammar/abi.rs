//! ABI grammar model and loader: 80-column records, fields by position, grouping rules.
//!
//! One file per application under `grammars/abi/` (plus `envelope.toml` for A/B/Y/Z and
//! X0/X1). The format is documented in docs/abi.md; in short:
//!
//! ```toml
//! application = "AE"                 # "envelope" for the batch/block control file
//! title = "Entry Summary Create/Update (as filed)"
//! source = "CATAIR ESF pp. ESF-20 to ESF-90"
//!
//! [[transaction]]
//! kind = "entry-summary"             # the `kind` in `parse --json`
//! starts = ["10"]                    # record names that start one
//! entry = { record = "10", filer = "filer_code", number = "entry_number" }
//! run = false                        # true: consecutive start records share one transaction
//!
//! [[record]]
//! name = "10"                        # unique in the file; what events call the record
//! id = "10"                          # the identifier in column 1..
//! select = { start = 4, value = "SUMMRY" }   # optional: a variant chosen by a literal
//! parent = "40"                      # optional: must follow this record in the transaction
//! max = 1                            # repeats per parent occurrence (0 = unbounded)
//! layout = "full"                    # or "recognised": body not interpreted
//! fields = [ { name = "filer_code", start = 4, length = 3, class = "AN", mandatory = true,
//!              codes = "list", decimals = 2 }, ... ]   # must tile columns 1-80 exactly
//! ```
//!
//! Loader checks (`G2xx`): G201 fields do not tile 1-80; G202 duplicate record name;
//! G203 unknown code list; G204 unknown record or field named in `starts`/`parent`/`entry`;
//! G205 application defined twice; G206 `decimals` on a non-numeric class; G207 the first
//! field is not the record identifier (`record_id`, as long as `id`) or `select` is out of
//! range; G208 no envelope grammar; G209 a record that neither starts a transaction nor has
//! a parent; G210 a record's class is filler but its name is not `filler` (or the reverse).

use super::codes::CodeLists;
use super::{from_toml, locate, GrammarError, GrammarFile};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A field's character class (CATAIR record layout key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldClass {
    /// A-Z (and space).
    A,
    /// A-Z, 0-9, space.
    AN,
    /// Digits, or all spaces when unused.
    N,
    /// `(S)N`: digits right-justified, possibly preceded by spaces (and a `-` sign).
    SN,
    /// A date, MMDDYY.
    D,
    /// Any printable keyboard character.
    X,
    /// Filler: spaces only.
    S,
}

impl FieldClass {
    /// Numeric classes may carry implied decimals.
    pub fn is_numeric(self) -> bool {
        matches!(self, FieldClass::N | FieldClass::SN)
    }
}

/// One field of a record: 1-based start column, length, class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: String,
    pub start: usize,
    pub length: usize,
    pub class: FieldClass,
    /// Implied decimal places (N/SN only).
    #[serde(default)]
    pub decimals: u8,
    #[serde(default)]
    pub mandatory: bool,
    /// Code list (grammars/codes) the value must belong to.
    #[serde(default)]
    pub codes: Option<String>,
    /// Index of `codes` in [`AbiGrammars::code_sets`] (set by the loader).
    #[serde(skip)]
    pub code_set: Option<usize>,
}

impl FieldDef {
    /// The 0-based byte range of the field within its 80-byte record.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start.saturating_sub(1)..(self.start.saturating_sub(1) + self.length)
    }
}

/// A literal that selects a record variant (e.g. the E0 whose reference type is SUMMRY).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Select {
    pub start: usize,
    pub value: String,
}

/// How much of a record's layout is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Every field is defined.
    #[default]
    Full,
    /// Known by identifier only; checked for length and characters.
    Recognised,
}

/// One record layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDef {
    pub name: String,
    pub id: String,
    #[serde(default)]
    pub select: Option<Select>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub max: u32,
    #[serde(default)]
    pub layout: Layout,
    #[serde(default)]
    pub notes: Option<String>,
    pub fields: Vec<FieldDef>,
}

impl RecordDef {
    /// The field called `name` (first one; filler is never looked up).
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether this layout (identifier and `select`) matches an 80-byte image.
    pub fn matches(&self, image: &[u8]) -> bool {
        let id = self.id.as_bytes();
        if image.len() < id.len() || !id.iter().zip(image).all(|(a, b)| a == b) {
            return false;
        }
        match &self.select {
            None => true,
            Some(s) => {
                let from = s.start.saturating_sub(1);
                image.get(from..from + s.value.len()) == Some(s.value.as_bytes())
            }
        }
    }
}

/// Where a transaction's entry number lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRef {
    pub record: String,
    pub filer: String,
    pub number: String,
}

/// A grouping rule: which records start a transaction of this kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionDef {
    pub kind: String,
    pub starts: Vec<String>,
    #[serde(default)]
    pub entry: Option<EntryRef>,
    #[serde(default)]
    pub run: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    application: String,
    title: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default, rename = "transaction")]
    transactions: Vec<TransactionDef>,
    #[serde(default, rename = "record")]
    records: Vec<RecordDef>,
}

/// One application's grammar (or the envelope's), with lookup indexes.
#[derive(Debug, Clone, Default)]
pub struct AppGrammar {
    pub application: String,
    pub title: String,
    pub source: Option<String>,
    pub notes: Option<String>,
    pub file: String,
    pub transactions: Vec<TransactionDef>,
    pub records: Vec<RecordDef>,
    /// Per record: index of its parent record.
    pub parent: Vec<Option<usize>>,
    /// Per record: indexes of the records whose parent it is.
    pub children: Vec<Vec<usize>>,
    /// Per record: the transaction (index into `transactions`) it starts, if any.
    pub starts: Vec<Option<usize>>,
    /// Candidate lists (record indexes, `select` variants and longer ids first).
    candidates: Vec<Vec<usize>>,
    /// 1 + index into `candidates` for each possible pair of first two identifier bytes
    /// (second byte 0 for one-byte ids); 0 when none. 65,536 entries.
    by_first2: Vec<u16>,
}

impl AppGrammar {
    /// The record layout for an 80-byte image: variants with `select` first, longest id first.
    pub fn lookup(&self, image: &[u8]) -> Option<usize> {
        let key = [image.first().copied().unwrap_or(b' '), image.get(1).copied().unwrap_or(b' ')];
        let hit = |k: [u8; 2]| {
            let slot = *self.by_first2.get(usize::from(k[0]) << 8 | usize::from(k[1]))?;
            let c = self.candidates.get(usize::from(slot).checked_sub(1)?)?;
            c.iter().copied().find(|&i| self.records.get(i).is_some_and(|r| r.matches(image)))
        };
        hit(key).or_else(|| hit([key[0], 0]))
    }

    /// The record layout called `name`.
    pub fn record(&self, name: &str) -> Option<&RecordDef> {
        self.records.iter().find(|r| r.name == name)
    }

    fn index(&mut self) {
        let names: HashMap<&str, usize> = self.records.iter().enumerate().map(|(i, r)| (r.name.as_str(), i)).collect();
        self.parent = self.records.iter().map(|r| r.parent.as_deref().and_then(|p| names.get(p).copied())).collect();
        self.children = vec![Vec::new(); self.records.len()];
        for (i, p) in self.parent.iter().enumerate() {
            if let Some(p) = p {
                if let Some(c) = self.children.get_mut(*p) {
                    c.push(i);
                }
            }
        }
        self.starts =
            self.records.iter().map(|r| self.transactions.iter().position(|t| t.starts.contains(&r.name))).collect();
        let mut order: Vec<usize> = (0..self.records.len()).collect();
        // Variants with a select literal first, then longer identifiers first.
        order.sort_by_key(|&i| {
            let r = &self.records[i];
            (r.select.is_none(), std::cmp::Reverse(r.id.len()))
        });
        let mut map: BTreeMap<[u8; 2], Vec<usize>> = BTreeMap::new();
        for i in order {
            let id = self.records[i].id.as_bytes();
            let key = match id {
                [a] => [*a, 0],
                [a, b, ..] => [*a, *b],
                [] => continue,
            };
            map.entry(key).or_default().push(i);
        }
        self.by_first2 = vec![0; 1 << 16];
        self.candidates.clear();
        for (k, v) in map {
            self.candidates.push(v);
            if let Some(slot) = self.by_first2.get_mut(usize::from(k[0]) << 8 | usize::from(k[1])) {
                *slot = u16::try_from(self.candidates.len()).unwrap_or(0);
            }
        }
    }
}

/// All ABI grammars: the envelope and one grammar per application identifier.
#[derive(Debug, Clone, Default)]
pub struct AbiGrammars {
    pub files: usize,
    pub envelope: AppGrammar,
    pub apps: BTreeMap<String, AppGrammar>,
    /// Code lists referenced by fields: (list name, its codes packed by [`pack_code`], sorted).
    pub code_sets: Vec<(String, Vec<u64>)>,
}

impl AbiGrammars {
    /// Load and check the ABI grammar files against the code lists.
    pub fn load(files: &[GrammarFile], codes: &CodeLists) -> Result<(AbiGrammars, Vec<String>), Vec<GrammarError>> {
        let mut errors = Vec::new();
        let mut out = AbiGrammars { files: files.len(), ..Default::default() };
        let mut envelope = None;
        for f in files {
            let raw: RawFile = match from_toml(f) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let mut g = AppGrammar {
                application: raw.application.clone(),
                title: raw.title,
                source: raw.source,
                notes: raw.notes,
                file: f.path.clone(),
                transactions: raw.transactions,
                records: raw.records,
                ..Default::default()
            };
            check_app(&g, &f.text, codes, &mut errors);
            for r in &mut g.records {
                for fd in &mut r.fields {
                    if let Some(list) = fd.codes.as_ref().and_then(|n| codes.list(n)) {
                        let at = match out.code_sets.iter().position(|(n, _)| *n == list.name) {
                            Some(at) => at,
                            None => {
                                let mut v: Vec<u64> =
                                    list.codes.iter().map(|c| pack_code(c.code.trim().as_bytes())).collect();
                                v.sort();
                                out.code_sets.push((list.name.clone(), v));
                                out.code_sets.len() - 1
                            }
                        };
                        fd.code_set = Some(at);
                    }
                }
            }
            g.index();
            if g.application == "envelope" {
                if envelope.is_some() {
                    errors.push(
                        GrammarError::new("G205", &f.path, "the envelope grammar is defined twice").at_line(locate(
                            &f.text,
                            &[("application", "envelope")],
                            0,
                        )),
                    );
                }
                envelope = Some(g);
            } else if out.apps.contains_key(&g.application) {
                errors.push(
                    GrammarError::new(
                        "G205",
                        &f.path,
                        format!(
                            "application {:?} is defined twice (also in {})",
                            g.application,
                            out.apps.get(&g.application).map_or("", |a| a.file.as_str())
                        ),
                    )
                    .at_line(locate(&f.text, &[("application", &g.application)], 0)),
                );
            } else {
                out.apps.insert(g.application.clone(), g);
            }
        }
        match envelope {
            Some(e) => out.envelope = e,
            None if !files.is_empty() => {
                errors.push(GrammarError::new("G208", "abi/", "no envelope grammar (application = \"envelope\")"))
            }
            None => {}
        }
        if errors.is_empty() {
            Ok((out, Vec::new()))
        } else {
            Err(errors)
        }
    }

    /// The grammar of an application identifier (AE, AX, UC, SO, PF, MS, ER ...).
    pub fn app(&self, id: &str) -> Option<&AppGrammar> {
        self.apps.get(id)
    }

    /// Whether `code` belongs to the code list `list` (true when the list is unknown).
    pub fn code_ok(&self, list: &str, code: &str) -> bool {
        self.code_sets
            .iter()
            .find(|(n, _)| n == list)
            .is_none_or(|(_, v)| v.binary_search(&pack_code(code.as_bytes())).is_ok())
    }

    /// Whether `code` belongs to the code set at `index` (see [`FieldDef::code_set`]).
    pub fn code_in(&self, index: usize, code: &[u8]) -> bool {
        self.code_sets.get(index).is_none_or(|(_, v)| v.binary_search(&pack_code(code)).is_ok())
    }
}

/// A code (at most 7 bytes; longer codes are truncated, which only matters for lists no
/// ABI field uses) packed into a `u64` with its length, for allocation-free set lookups.
pub fn pack_code(code: &[u8]) -> u64 {
    let n = code.len().min(7);
    code.iter().take(7).fold(0u64, |acc, &b| acc << 8 | u64::from(b)) | ((n as u64) << 56)
}

fn check_app(g: &AppGrammar, text: &str, codes: &CodeLists, errors: &mut Vec<GrammarError>) {
    let file = g.file.as_str();
    let mut names = HashSet::new();
    for (ri, r) in g.records.iter().enumerate() {
        // The line of this record's `name` (its n-th occurrence, for a duplicate) and of a field.
        let nth = g.records.iter().take(ri).filter(|x| x.name == r.name).count();
        // Located only when there is an error to place (a scan per record is quadratic).
        let rec_line = || locate(text, &[("name", &r.name)], nth);
        let field_line = |fi: usize, name: &str| {
            let k = r.fields.iter().take(fi).filter(|x| x.name == name).count();
            rec_line().and_then(|l| locate(text_from(text, l), &[("name", name)], k).map(|x| x + l - 1))
        };
        if !names.insert(r.name.as_str()) {
            errors.push(
                GrammarError::new("G202", file, format!("record {:?} is defined twice", r.name)).at_line(rec_line()),
            );
        }
        let before = errors.len();
        check_tiling(file, r, errors);
        for e in errors.iter_mut().skip(before) {
            e.line = rec_line();
        }
        match r.fields.first() {
            Some(f) if f.name == "record_id" && f.start == 1 && f.length == r.id.len() && !r.id.is_empty() => {}
            _ => errors.push(
                GrammarError::new(
                    "G207",
                    file,
                    format!("record {:?}: the first field must be `record_id`, columns 1-{}", r.name, r.id.len()),
                )
                .at_line(rec_line()),
            ),
        }
        if let Some(s) = &r.select {
            if s.start == 0 || s.start + s.value.len() > 81 || s.value.is_empty() {
                errors.push(
                    GrammarError::new("G207", file, format!("record {:?}: select is outside columns 1-80", r.name))
                        .at_line(rec_line()),
                );
            }
        }
        for (fi, f) in r.fields.iter().enumerate() {
            if f.decimals > 0 && !f.class.is_numeric() {
                errors.push(
                    GrammarError::new(
                        "G206",
                        file,
                        format!("record {:?} field {:?}: decimals on class {:?}", r.name, f.name, f.class),
                    )
                    .at_line(field_line(fi, &f.name)),
                );
            }
            if (f.class == FieldClass::S) != (f.name == "filler") {
                errors.push(
                    GrammarError::new(
                        "G210",
                        file,
                        format!(
                            "record {:?} field {:?}: filler must be named `filler` and have class S",
                            r.name, f.name
                        ),
                    )
                    .at_line(field_line(fi, &f.name)),
                );
            }
            if let Some(list) = &f.codes {
                if codes.list(list).is_none() {
                    errors.push(
                        GrammarError::new(
                            "G203",
                            file,
                            format!("record {:?} field {:?}: unknown code list {:?}", r.name, f.name, list),
                        )
                        .at_line(field_line(fi, &f.name)),
                    );
                }
            }
        }
        if let Some(p) = &r.parent {
            if !g.records.iter().any(|x| &x.name == p) {
                errors.push(
                    GrammarError::new("G204", file, format!("record {:?}: unknown parent {:?}", r.name, p))
                        .at_line(rec_line()),
                );
            }
        } else if !g.transactions.iter().any(|t| t.starts.contains(&r.name))
            && !matches!(r.name.as_str(), "A" | "B" | "Y" | "Z")
        {
            errors.push(
                GrammarError::new(
                    "G209",
                    file,
                    format!("record {:?} neither starts a transaction nor has a parent", r.name),
                )
                .at_line(rec_line()),
            );
        }
    }
    for t in &g.transactions {
        for s in &t.starts {
            if !g.records.iter().any(|x| &x.name == s) {
                errors.push(GrammarError::new(
                    "G204",
                    file,
                    format!("transaction {:?}: unknown start record {:?}", t.kind, s),
                ));
            }
        }
        if let Some(e) = &t.entry {
            match g.records.iter().find(|x| x.name == e.record) {
                None => errors.push(GrammarError::new(
                    "G204",
                    file,
                    format!("transaction {:?}: unknown entry record {:?}", t.kind, e.record),
                )),
                Some(r) => {
                    for fname in [&e.filer, &e.number] {
                        if r.field(fname).is_none() {
                            errors.push(GrammarError::new(
                                "G204",
                                file,
                                format!("transaction {:?}: record {:?} has no field {:?}", t.kind, e.record, fname),
                            ));
                        }
                    }
                }
            }
        }
    }
}

/// The text from a 1-based line on.
fn text_from(text: &str, line: usize) -> &str {
    let mut rest = text;
    for _ in 1..line {
        match rest.find('\n') {
            Some(i) => rest = rest.get(i + 1..).unwrap_or_default(),
            None => return "",
        }
    }
    rest
}

/// G201: the fields of a record must tile columns 1-80 exactly, in order.
fn check_tiling(file: &str, r: &RecordDef, errors: &mut Vec<GrammarError>) {
    let mut next = 1usize;
    for f in &r.fields {
        if f.length == 0 {
            errors.push(GrammarError::new(
                "G201",
                file,
                format!("record {:?} field {:?} has length 0", r.name, f.name),
            ));
        }
        if f.start != next {
            let what = if f.start > next { "gap" } else { "overlap" };
            errors.push(GrammarError::new(
                "G201",
                file,
                format!("record {:?} field {:?} starts at {} ({what}: expected {next})", r.name, f.name, f.start),
            ));
        }
        next = f.start + f.length;
    }
    if next != 81 {
        errors.push(GrammarError::new(
            "G201",
            file,
            format!("record {:?} fields end at column {} (expected 80)", r.name, next - 1),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::Grammars;

    #[test]
    fn shipped_grammars_load_and_tile() {
        let g = Grammars::embedded().expect("embedded grammars load");
        for app in ["AE", "AX", "UC", "SO", "PF", "MS", "ER"] {
            let a = g.abi.app(app).unwrap_or_else(|| panic!("application {app} missing"));
            assert!(!a.records.is_empty());
            for r in &a.records {
                let total: usize = r.fields.iter().map(|f| f.length).sum();
                assert_eq!(total, 80, "{app} {}", r.name);
            }
        }
        assert_eq!(g.abi.envelope.records.len(), 6);
    }

    fn load_one(text: &str) -> Result<(AbiGrammars, Vec<String>), Vec<GrammarError>> {
        let env = GrammarFile {
            path: "abi/envelope.toml".into(),
            text: include_str!("../../grammars/abi/envelope.toml").into(),
        };
        let f = GrammarFile { path: "abi/t.toml".into(), text: text.into() };
        let code_files: Vec<GrammarFile> =
            crate::grammar::embedded_files().into_iter().filter(|f| f.path.starts_with("codes/")).collect();
        let codes = CodeLists::load(&code_files).expect("code lists");
        AbiGrammars::load(&[env, f], &codes)
    }

    fn codes_of(r: Result<(AbiGrammars, Vec<String>), Vec<GrammarError>>) -> Vec<&'static str> {
        match r {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(|e| e.code).collect(),
        }
    }

    const HEAD: &str = "application = \"TT\"\ntitle = \"t\"\n[[transaction]]\nkind = \"k\"\nstarts = [\"T1\"]\n";

    #[test]
    fn gap_and_overlap_are_g201() {
        let gap = format!(
            "{HEAD}[[record]]\nname = \"T1\"\nid = \"T1\"\nfields = [{{ name = \"record_id\", start = 1, length = 2, class = \"AN\" }}, {{ name = \"x\", start = 4, length = 77, class = \"X\" }}]\n"
        );
        assert!(codes_of(load_one(&gap)).contains(&"G201"));
        let overlap = format!(
            "{HEAD}[[record]]\nname = \"T1\"\nid = \"T1\"\nfields = [{{ name = \"record_id\", start = 1, length = 2, class = \"AN\" }}, {{ name = \"x\", start = 2, length = 79, class = \"X\" }}]\n"
        );
        assert!(codes_of(load_one(&overlap)).contains(&"G201"));
        let good = format!(
            "{HEAD}[[record]]\nname = \"T1\"\nid = \"T1\"\nfields = [{{ name = \"record_id\", start = 1, length = 2, class = \"AN\" }}, {{ name = \"x\", start = 3, length = 78, class = \"X\" }}]\n"
        );
        assert!(codes_of(load_one(&good)).is_empty());
    }

    #[test]
    fn unknown_code_list_parent_and_decimals() {
        let bad = format!(
            "{HEAD}[[record]]\nname = \"T1\"\nid = \"T1\"\nfields = [{{ name = \"record_id\", start = 1, length = 2, class = \"AN\" }}, {{ name = \"x\", start = 3, length = 78, class = \"X\", codes = \"nope\", decimals = 2 }}]\n[[record]]\nname = \"T2\"\nid = \"T2\"\nparent = \"T9\"\nfields = [{{ name = \"record_id\", start = 1, length = 2, class = \"AN\" }}, {{ name = \"filler\", start = 3, length = 78, class = \"S\" }}]\n[[record]]\nname = \"T3\"\nid = \"T3\"\nfields = [{{ name = \"record_id\", start = 1, length = 2, class = \"AN\" }}, {{ name = \"filler\", start = 3, length = 78, class = \"S\" }}]\n"
        );
        let c = codes_of(load_one(&bad));
        for code in ["G203", "G204", "G206", "G209"] {
            assert!(c.contains(&code), "{code} in {c:?}");
        }
    }

    #[test]
    fn lookup_prefers_select_variant() {
        let g = Grammars::embedded().expect("grammars");
        let ax = g.abi.app("AX").expect("AX");
        let summ = format!("{:<80}", "E0 SUMMRY 000001 REF ID: EEE 12345673");
        let other = format!("{:<80}", "E0 LINE   000001 REF ID: 001");
        assert_eq!(ax.records[ax.lookup(summ.as_bytes()).expect("hit")].name, "E0");
        assert_eq!(ax.records[ax.lookup(other.as_bytes()).expect("hit")].name, "E0-REF");
        assert!(ax.lookup(format!("{:<80}", "ZZ").as_bytes()).is_none());
    }
}
