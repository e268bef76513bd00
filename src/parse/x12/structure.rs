//! Validation of one transaction set against its grammar: loop/segment order and repeats
//! (AK304/IK304 codes) and element requirement, length, type, code, date and time (AK403/IK403).

use super::segment::Segment;
use crate::grammar::x12::{
    seg_id, seg_name, ElemType, ElementDef, Node, Req, RuleKind, SegId, SegmentDef, SegmentDict, SetGrammar,
};
use serde::Serialize;

/// An element error: the content of an AK4 / IK4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElementError {
    /// 1-based element position in the segment (AK401-1).
    pub position: usize,
    /// 1-based component position, for composites (AK401-2).
    pub component: Option<usize>,
    /// 1-based repetition, for repeated elements (AK401-3).
    pub repetition: Option<usize>,
    /// Data element reference number (AK402).
    pub reference: Option<String>,
    /// AK403 / IK403 code: 1 missing, 3 too many elements, 4 too short, 5 too long, 6 invalid
    /// character, 7 invalid code, 8 invalid date, 9 invalid time, 12 too many repetitions,
    /// 13 too many components.
    pub code: u8,
    /// Copy of the bad data (AK404), when there is any.
    pub bad_data: Option<String>,
}

/// A segment error: the content of an AK3 / IK3 and its AK4s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentError {
    /// AK301: the segment id (for a missing segment, the id of the missing one).
    pub segment_id: String,
    /// AK302: position in the set (ST = 1).
    pub position: usize,
    /// AK303: loop id where the error was found.
    pub loop_id: Option<String>,
    /// AK304 / IK304 code: 1 unrecognized, 2 unexpected, 3 mandatory missing, 4 loop over
    /// maximum, 5 segment over maximum use, 6 not in set, 7 out of sequence, 8 element errors.
    pub code: u8,
    pub elements: Vec<ElementError>,
    /// Where (of the segment that revealed it).
    pub line: usize,
    pub byte: usize,
}

fn valid_date(v: &[u8]) -> bool {
    if !v.iter().all(u8::is_ascii_digit) || (v.len() != 6 && v.len() != 8) {
        return false;
    }
    let num = |s: &[u8]| s.iter().fold(0u32, |a, &b| a * 10 + (b - b'0') as u32);
    let (y, m, d) = if v.len() == 8 {
        (num(&v[..4]), num(&v[4..6]), num(&v[6..8]))
    } else {
        (2000 + num(&v[..2]), num(&v[2..4]), num(&v[4..6]))
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=dim).contains(&d)
}

fn valid_time(v: &[u8]) -> bool {
    if !v.iter().all(u8::is_ascii_digit) || v.len() < 4 || v.len() > 8 {
        return false;
    }
    let hh = (v[0] - b'0') * 10 + (v[1] - b'0');
    let mm = (v[2] - b'0') * 10 + (v[3] - b'0');
    let ss_ok = v.len() < 6 || (v[4] - b'0') * 10 + (v[5] - b'0') < 60;
    hh < 24 && mm < 60 && ss_ok
}

/// Check one simple value (non-empty) against its definition; returns an AK403 code.
pub fn check_value(e: &ElementDef, v: &[u8]) -> Option<u8> {
    let len = match e.ty {
        ElemType::N(_) => {
            let digits = v.strip_prefix(b"-").unwrap_or(v);
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Some(6);
            }
            digits.len()
        }
        ElemType::R => {
            let body = v.strip_prefix(b"-").unwrap_or(v);
            let dots = body.iter().filter(|&&b| b == b'.').count();
            if body.is_empty() || dots > 1 || !body.iter().all(|b| b.is_ascii_digit() || *b == b'.') || body == b"." {
                return Some(6);
            }
            body.len() - dots
        }
        ElemType::DT => {
            if !valid_date(v) {
                return Some(8);
            }
            v.len()
        }
        ElemType::TM => {
            if !valid_time(v) {
                return Some(9);
            }
            v.len()
        }
        ElemType::B | ElemType::C => return None,
        ElemType::AN | ElemType::ID => {
            if v.iter().any(|&b| b < 0x20 || b == 0x7F) {
                return Some(6);
            }
            if v.is_ascii() {
                v.len()
            } else {
                String::from_utf8_lossy(v).chars().count()
            }
        }
    };
    if (len as u32) < e.min {
        return Some(4);
    }
    if len as u32 > e.max {
        return Some(5);
    }
    if e.ty == ElemType::ID && !e.code_ok(v) {
        return Some(7);
    }
    None
}

fn lossy(v: &[u8]) -> Option<String> {
    if v.is_empty() {
        None
    } else {
        Some(String::from_utf8_lossy(&v[..v.len().min(99)]).into_owned())
    }
}

type ErrFn<'x> = dyn FnMut(usize, Option<usize>, Option<usize>, &str, u8, &[u8]) + 'x;

/// Check one (repetition of an) element value: composite component count, components in a
/// simple element, then the value itself.
fn check_one(e: &ElementDef, v: &[u8], n: usize, rep: Option<usize>, comp: u8, err: &mut ErrFn<'_>) {
    if e.ty == ElemType::C {
        let comps = v.split(|&b| b == comp).count() as u32;
        if comps > e.max {
            err(n, Some(comps as usize), rep, &e.reference, 13, v);
        }
        return;
    }
    if memchr::memchr(comp, v).is_some() {
        err(n, Some(2), rep, &e.reference, 13, v);
        return;
    }
    if let Some(code) = check_value(e, v) {
        err(n, None, rep, &e.reference, code, v);
    }
}

/// Check a segment's elements against its definition, appending element errors.
pub fn check_elements(seg: &Segment<'_>, def: &SegmentDef, out: &mut Vec<ElementError>) {
    let mut fast = FastCheck::new(seg.delimiters);
    fast.check(seg, seg.raw(), def, def.required, out);
}

/// Byte classes of the fast element check.
const PLAIN: u8 = 0;
const ELEMENT: u8 = 1;
const SPECIAL: u8 = 2;

pub(super) const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// High bit of each byte of `t` that is zero (exact: no false positives).
#[inline(always)]
pub(super) fn zero_bytes(t: u64) -> u64 {
    !(((t & LOW7) + LOW7) | t) & HI
}

/// High bit of each byte of `v` that is not plain: below 0x20, 0x7F or above, or equal to one of
/// the (byte-replicated) element separator `e`, component separator `c` or repetition separator `r`.
#[inline(always)]
fn unusual(v: u64, e: u64, c: u64, r: u64) -> u64 {
    let below_space = !((v & LOW7) + 0x6060_6060_6060_6060) & !v & HI;
    let del_or_high = (((v & LOW7) + LO) | v) & HI;
    below_space | del_or_high | zero_bytes(v ^ e) | zero_bytes(v ^ c) | zero_bytes(v ^ r)
}

/// Slots of the structure-search cache (a power of two).
const SEARCH_SLOTS: usize = 1024;

/// The index of the first of `firsts[from..]` equal to `id`, remembered in a direct-mapped cache
/// keyed by the grammar slice's address (grammars do not change during a read), `from` and `id`.
#[inline]
fn search(cache: &mut [(usize, usize, SegId, usize)], firsts: &[SegId], from: usize, id: SegId) -> Option<usize> {
    let tail = firsts.get(from..)?;
    if tail.len() <= 4 {
        return tail.iter().position(|&first| first == id).map(|k| from + k);
    }
    let addr = firsts.as_ptr() as usize;
    let key = (addr as u64).rotate_left(17) ^ (from as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ id as u64;
    let h = (key.wrapping_mul(0xC2B2_AE3D_27D4_EB4F) >> 40) as usize & (SEARCH_SLOTS - 1);
    if let Some(&(a, f, i, r)) = cache.get(h) {
        if a == addr && f == from && i == id {
            return (r != usize::MAX).then_some(r);
        }
    }
    let r = tail.iter().position(|&first| first == id).map(|k| from + k);
    if let Some(slot) = cache.get_mut(h) {
        *slot = (addr, from, id, r.unwrap_or(usize::MAX));
    }
    r
}

/// Slots of the segment-definition cache (a power of two).
const DEF_SLOTS: usize = 128;

/// Slots of the code-value cache (a power of two).
const CODE_SLOTS: usize = 512;

/// State of the fast element check, reused across segments: a byte-class table for the
/// interchange's delimiters and a direct-mapped cache of code-list lookups.
#[derive(Debug, Clone)]
struct FastCheck {
    delimiters: super::delimiters::Delimiters,
    class: [u8; 256],
    /// (code list address, value packed with its length, allowed); address 0 = empty slot.
    codes: Vec<(usize, u64, bool)>,
}

impl FastCheck {
    fn new(d: super::delimiters::Delimiters) -> Self {
        let mut f = FastCheck { delimiters: d, class: [PLAIN; 256], codes: Vec::new() };
        f.set_delimiters(d);
        f
    }

    fn set_delimiters(&mut self, d: super::delimiters::Delimiters) {
        self.delimiters = d;
        for (b, c) in self.class.iter_mut().enumerate() {
            *c = if (0x20..0x7F).contains(&b) { PLAIN } else { SPECIAL };
        }
        let rep = d.repetition.unwrap_or(d.component);
        for special in [d.component, rep] {
            if let Some(c) = self.class.get_mut(special as usize) {
                *c = SPECIAL;
            }
        }
        if let Some(c) = self.class.get_mut(d.element as usize) {
            *c = ELEMENT;
        }
    }

    /// [`ElementDef::code_ok`], remembered for short values.
    #[inline]
    fn code_ok(&mut self, e: &ElementDef, v: &[u8]) -> bool {
        let Some(list) = &e.codes else { return true };
        if v.len() > 7 {
            return e.code_ok(v);
        }
        let key = v.iter().fold(v.len() as u64, |a, &b| (a << 8) | b as u64);
        let addr = list.as_ptr() as usize;
        let h = ((key ^ (addr as u64).rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 55) as usize
            & (CODE_SLOTS - 1);
        if self.codes.is_empty() {
            self.codes = vec![(0, 0, false); CODE_SLOTS];
        }
        if let Some(&(a, k, ok)) = self.codes.get(h) {
            if a == addr && k == key {
                return ok;
            }
        }
        let ok = e.code_ok(v);
        if let Some(slot) = self.codes.get_mut(h) {
            *slot = (addr, key, ok);
        }
        ok
    }

    /// Is the printable-ASCII value `v` of element `n` (1-based) clean? Reads the compact rule
    /// table; the full definition only for codes and numbers, dates and times.
    #[inline(always)]
    fn ok_value(&mut self, def: &SegmentDef, n: usize, v: &[u8]) -> bool {
        let i = n.wrapping_sub(1);
        let Some(r) = def.rules.get(i) else { return false };
        if v.is_empty() {
            return !r.mandatory;
        }
        match r.kind {
            RuleKind::Length => (r.min..=r.max).contains(&(v.len() as u32)),
            RuleKind::Skip => true,
            RuleKind::Code => {
                (r.min..=r.max).contains(&(v.len() as u32)) && def.elements.get(i).is_some_and(|e| self.code_ok(e, v))
            }
            RuleKind::Number => {
                let len = v.len() as u32;
                ((r.min..=r.max).contains(&len) && v.iter().all(u8::is_ascii_digit))
                    || def.elements.get(i).is_some_and(|e| check_value(e, v).is_none())
            }
            RuleKind::Real => {
                let (mut digits, mut dots) = (0u32, 0u32);
                for &b in v {
                    digits += b.is_ascii_digit() as u32;
                    dots += (b == b'.') as u32;
                }
                (digits + dots == v.len() as u32 && dots <= 1 && digits > 0 && (r.min..=r.max).contains(&digits))
                    || def.elements.get(i).is_some_and(|e| check_value(e, v).is_none())
            }
            RuleKind::Date => valid_date(v) && (r.min..=r.max).contains(&(v.len() as u32)),
            RuleKind::Time => valid_time(v) && (r.min..=r.max).contains(&(v.len() as u32)),
        }
    }

    /// Check a segment's elements (see [`check_elements`]).
    ///
    /// Fast path: one pass over the segment, eight bytes at a time, finds the elements; when the
    /// segment holds no component or repetition separator, control character or non-ASCII byte,
    /// values are checked without re-scanning their characters. Anything else takes the general path.
    /// `ext`: the segment's bytes and, when it is borrowed from the input, the input after it
    /// (same start), so that the last partial word is read whole and the bytes past the segment
    /// masked off; otherwise the segment's own bytes (a short last word goes byte by byte).
    /// `required`: the number of elements up to the definition's last mandatory one.
    fn check(&mut self, seg: &Segment<'_>, ext: &[u8], def: &SegmentDef, required: usize, out: &mut Vec<ElementError>) {
        let d = seg.delimiters;
        if d != self.delimiters {
            self.set_delimiters(d);
        }
        let raw = seg.raw();
        let id = seg.id();
        if id.len() == 3 && id.first() == Some(&b'B') && id.get(1..) == Some(&b"IN"[..]) {
            return check_elements_general(seg, def, out);
        }
        let ext = if ext.as_ptr() == raw.as_ptr() && ext.len() >= raw.len() { ext } else { raw };
        let end = raw.len();
        let mut n = 0usize;
        // The body (after the id's element separator), when there is one.
        let mut p = id.len() + 1;
        if p <= end {
            let mut start = p;
            let (e, c, r) =
                (d.element as u64 * LO, d.component as u64 * LO, d.repetition.unwrap_or(d.component) as u64 * LO);
            while p < end {
                let Some(chunk) = ext.get(p..p + 8) else { break };
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let v = u64::from_le_bytes(word);
                let live = end - p;
                let valid = if live >= 8 { u64::MAX } else { (1u64 << (8 * live)) - 1 };
                // Element separators, and any other byte that is not plain (see `unusual`).
                let elements = zero_bytes(v ^ e) & valid;
                if unusual(v, e, c, r) & valid & !elements != 0 {
                    return check_elements_general(seg, def, out);
                }
                let mut mask = elements;
                while mask != 0 {
                    let k = p + (mask.trailing_zeros() / 8) as usize;
                    mask &= mask - 1;
                    n += 1;
                    if !self.ok_value(def, n, raw.get(start..k).unwrap_or(&[])) {
                        return check_elements_general(seg, def, out);
                    }
                    start = k + 1;
                }
                p += 8;
            }
            // Fewer than eight bytes left in `ext`: byte by byte.
            while let Some(&b) = raw.get(p) {
                match self.class[b as usize] {
                    PLAIN => {}
                    ELEMENT => {
                        n += 1;
                        if !self.ok_value(def, n, raw.get(start..p).unwrap_or(&[])) {
                            return check_elements_general(seg, def, out);
                        }
                        start = p + 1;
                    }
                    _ => return check_elements_general(seg, def, out),
                }
                p += 1;
            }
            n += 1;
            if !self.ok_value(def, n, raw.get(start..).unwrap_or(&[])) {
                return check_elements_general(seg, def, out);
            }
        }
        if n < required {
            check_elements_general(seg, def, out);
        }
    }
}

fn check_elements_general(seg: &Segment<'_>, def: &SegmentDef, out: &mut Vec<ElementError>) {
    let d = seg.delimiters;
    let mut n = 0;
    let mut err = |position: usize,
                   component: Option<usize>,
                   repetition: Option<usize>,
                   reference: &str,
                   code: u8,
                   bad: &[u8]| {
        out.push(ElementError {
            position,
            component,
            repetition,
            reference: if reference.is_empty() { None } else { Some(reference.to_string()) },
            code,
            bad_data: lossy(bad),
        })
    };
    for (i, v) in seg.elements().enumerate() {
        n = i + 1;
        let Some(e) = def.elements.get(i) else {
            if !v.is_empty() || seg.elements().skip(i).any(|x| !x.is_empty()) {
                err(n, None, None, "", 3, v);
                return;
            }
            continue;
        };
        if v.is_empty() {
            if e.req == Req::M {
                err(n, None, None, &e.reference, 1, v);
            }
            continue;
        }
        if e.ty == ElemType::B {
            continue;
        }
        let has_rep = d.repetition.is_some_and(|r| memchr::memchr(r, v).is_some());
        if !has_rep {
            check_one(e, v, n, None, d.component, &mut err);
            continue;
        }
        let r = d.repetition.unwrap_or(0);
        for (ri, rv) in v.split(|&b| b == r).enumerate() {
            if ri as u32 >= e.repeat {
                err(n, None, Some(ri + 1), &e.reference, 12, rv);
                break;
            }
            let rep = if e.repeat > 1 { Some(ri + 1) } else { None };
            check_one(e, rv, n, rep, d.component, &mut err);
        }
    }
    for (i, e) in def.elements.iter().enumerate().skip(n) {
        if e.req == Req::M {
            err(i + 1, None, None, &e.reference, 1, &[]);
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Frame<'g> {
    nodes: &'g [Node],
    firsts: &'g [SegId],
    required_end: usize,
    pos: usize,
    base: usize,
    loop_id: &'g str,
}

/// The grammars a transaction set is read with.
#[derive(Debug, Clone, Copy)]
pub struct SetContext<'g> {
    pub set: Option<&'g SetGrammar>,
    pub dict: &'g SegmentDict,
    pub envelope: &'g SegmentDict,
}

impl<'g> SetContext<'g> {
    /// The definition of a segment: the set's override, else the version dictionary, else the envelope.
    pub fn def(&self, id: SegId) -> Option<&'g SegmentDef> {
        self.set.and_then(|s| s.overrides.get(id)).or_else(|| self.dict.get(id)).or_else(|| self.envelope.get(id))
    }
}

/// Walks one transaction set's segments through its structure.
#[derive(Debug)]
pub struct StructureValidator<'g> {
    ctx: SetContext<'g>,
    stack: Vec<Frame<'g>>,
    counts: Vec<u32>,
    scratch: Vec<ElementError>,
    /// Element-check tables and code cache, kept across sets.
    fast: FastCheck,
    /// Remembered structure searches (see [`search`]), kept across sets.
    search_cache: Vec<(usize, usize, SegId, usize)>,
    /// Direct-mapped cache of segment definitions: (id, context tag, definition).
    def_cache: [(SegId, u32, Option<&'g SegmentDef>); DEF_SLOTS],
    /// Remembered placements (see [`Step`]).
    steps: Vec<Step<'g>>,
    /// The slot of the step replayed or stored for the previous segment ([`NO_SLOT`]: none).
    prev: usize,
    /// The slot tried first for this segment: the one that followed `prev` last time.
    pred: usize,
    /// The contexts seen (set, dictionary and envelope addresses); a context's tag is one more
    /// than its index. Cached definitions and placements carry the tag of the context they were
    /// found in, so a read that alternates sets or versions keeps them all.
    contexts: Vec<(usize, usize, usize)>,
    /// The current context's tag.
    tag: u32,
}

/// Contexts remembered before the caches are cleared and tagging starts over.
const MAX_CONTEXTS: usize = 64;

/// Slots of the placement memo (a power of two).
const STEP_SLOTS: usize = 512;

/// No slot of the placement memo (see [`Step::next`]).
const NO_SLOT: usize = u16::MAX as usize;

/// A remembered placement. Where a segment goes depends only on the innermost open frame (its
/// node slice and position: the frames around it are fixed by the structure) and the segment id,
/// and so do the mandatory segments skipped on the way (a frame's nodes after its position have
/// not occurred yet). A step that skipped none (`clean`) is replayed without searching: close
/// `pops` frames, then take node `j` of the frame on top; only the repeat counts are live.
#[derive(Debug, Clone, Copy)]
struct Step<'g> {
    /// Address of the innermost frame's node slice; 0 = empty slot.
    nodes: usize,
    pos: u32,
    id: SegId,
    pops: u16,
    j: u16,
    /// The context tag (see [`StructureValidator::contexts`]; at most [`MAX_CONTEXTS`]).
    tag: u16,
    /// The slot of the step that followed this one last time ([`NO_SLOT`]: none yet): tried
    /// first for the next segment, so that its load does not wait for the next segment's id
    /// and hash. Only a guess: the slot is used only when its whole key matches.
    next: u16,
    def: Option<&'g SegmentDef>,
}

const NO_STEP: Step<'static> = Step { nodes: 0, pos: 0, id: 0, pops: 0, j: 0, tag: 0, next: NO_SLOT as u16, def: None };

/// The placement memo slot of (node slice address, position, segment id): one multiply.
#[inline]
fn step_slot(nodes: usize, pos: usize, id: SegId) -> usize {
    let key = (nodes as u64).wrapping_add((pos as u64) << 5) ^ ((id as u64) << 35);
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 55) as usize & (STEP_SLOTS - 1)
}

impl<'g> StructureValidator<'g> {
    pub fn new(ctx: SetContext<'g>) -> Self {
        let mut v = StructureValidator {
            ctx,
            stack: Vec::new(),
            counts: Vec::new(),
            scratch: Vec::new(),
            search_cache: vec![(0, 0, 0, 0); SEARCH_SLOTS],
            fast: FastCheck::new(super::delimiters::Delimiters {
                element: b'*',
                component: b':',
                repetition: None,
                terminator: super::delimiters::Terminator::new(b"~"),
            }),
            def_cache: [(0, 0, None); DEF_SLOTS],
            steps: vec![NO_STEP; STEP_SLOTS],
            prev: NO_SLOT,
            pred: NO_SLOT,
            contexts: Vec::new(),
            tag: 0,
        };
        v.reset(ctx);
        v
    }

    /// Start a new transaction set.
    pub fn reset(&mut self, ctx: SetContext<'g>) {
        let key = (
            ctx.set.map(|s| s as *const SetGrammar as usize).unwrap_or(0),
            ctx.dict as *const SegmentDict as usize,
            ctx.envelope as *const SegmentDict as usize,
        );
        let known = self.contexts.iter().position(|&c| c == key);
        let index = match known {
            Some(i) => i,
            None => {
                if self.contexts.len() >= MAX_CONTEXTS {
                    self.contexts.clear();
                    self.def_cache = [(0, 0, None); DEF_SLOTS];
                    self.steps.fill(NO_STEP);
                }
                self.contexts.push(key);
                self.contexts.len() - 1
            }
        };
        self.tag = index as u32 + 1;
        self.ctx = ctx;
        self.stack.clear();
        self.counts.clear();
        if let Some(s) = ctx.set {
            self.counts.resize(s.structure.len(), 0);
            self.stack.push(Frame {
                nodes: &s.structure,
                firsts: &s.root_firsts,
                required_end: s.root_required_end,
                pos: 0,
                base: 0,
                loop_id: "",
            });
        }
    }

    fn loop_id(&self) -> Option<String> {
        self.stack.last().map(|f| f.loop_id).filter(|s| !s.is_empty()).map(str::to_string)
    }

    fn missing(&self, f: &Frame<'g>, from: usize, to: usize, seg: &Segment<'_>, out: &mut Vec<SegmentError>) {
        let to = to.min(f.required_end);
        if from >= to {
            return;
        }
        for k in from..to {
            let (Some(node), Some(&c)) = (f.nodes.get(k), self.counts.get(f.base + k)) else { continue };
            if c < node.min() {
                out.push(SegmentError {
                    segment_id: seg_name(node.first_segment()),
                    position: seg.index,
                    loop_id: if f.loop_id.is_empty() { None } else { Some(f.loop_id.to_string()) },
                    code: 3,
                    elements: Vec::new(),
                    line: seg.line,
                    byte: seg.byte,
                });
            }
        }
    }

    fn pop(&mut self, seg: &Segment<'_>, out: &mut Vec<SegmentError>) {
        if let Some(f) = self.stack.pop() {
            self.missing(&f, f.pos + 1, f.nodes.len(), seg, out);
            self.counts.truncate(f.base);
        }
    }

    /// Feed one segment (ST first, SE last); appends its errors to `out`.
    pub fn segment(&mut self, seg: &Segment<'_>, out: &mut Vec<SegmentError>) {
        self.segment_in(seg, seg.raw(), out)
    }

    /// [`StructureValidator::segment`] for a segment borrowed from `ext`: `ext` starts with the
    /// segment's bytes and goes on with the input after it (read whole words, never used as
    /// data). Anything else in `ext` is ignored and the segment's own bytes are read.
    #[inline]
    pub fn segment_in(&mut self, seg: &Segment<'_>, ext: &[u8], out: &mut Vec<SegmentError>) {
        let raw_id = seg.id();
        let Some(id) = seg_id(raw_id) else {
            out.push(self.seg_error(seg, 1));
            return;
        };
        // The innermost frame, unless the set has not started (ST not yet counted).
        let key = match self.stack.last() {
            Some(f) if self.ctx.set.is_some() && (self.stack.len() > 1 || f.pos > 0) => {
                Some((f.nodes.as_ptr() as usize, f.pos))
            }
            _ => None,
        };
        if let Some((nodes, pos)) = key {
            let tag = self.tag;
            let matches =
                |st: &Step<'_>| st.nodes == nodes && st.pos as usize == pos && st.id == id && st.tag as u32 == tag;
            let pred = self.pred;
            let h = match self.steps.get(pred) {
                Some(st) if matches(st) => pred,
                _ => step_slot(nodes, pos, id),
            };
            if let Some(&st) = self.steps.get(h) {
                if matches(&st) {
                    self.link(h);
                    for _ in 0..st.pops {
                        if let Some(f) = self.stack.pop() {
                            self.counts.truncate(f.base);
                        }
                    }
                    self.take(st.j as usize, seg, out);
                    self.check_elements_of(st.def, seg, ext, out);
                    return;
                }
            }
        }
        let h = (id.wrapping_mul(0x9E37_79B1) >> 24) as usize & (DEF_SLOTS - 1);
        let def = match self.def_cache.get(h) {
            Some(&(k, t, d)) if k == id && t == self.tag => d,
            _ => {
                let d = self.ctx.def(id);
                if let Some(slot) = self.def_cache.get_mut(h) {
                    *slot = (id, self.tag, d);
                }
                d
            }
        };
        let mut stored = None;
        if self.ctx.set.is_some() {
            let placed = self.place(id, seg, def.is_some(), out);
            if let (Some((nodes, pos)), Some((pops, j))) = (key, placed) {
                let fits = |n: usize| u16::try_from(n).ok();
                let h = step_slot(nodes, pos, id);
                if let (Ok(pos32), Some(pops), Some(j), Some(tag), Some(slot)) =
                    (u32::try_from(pos), fits(pops), fits(j), fits(self.tag as usize), self.steps.get_mut(h))
                {
                    *slot = Step { nodes, pos: pos32, id, pops, j, tag, next: NO_SLOT as u16, def };
                    stored = Some(h);
                }
            }
        }
        match stored {
            Some(h) => self.link(h),
            None => (self.prev, self.pred) = (NO_SLOT, NO_SLOT),
        }
        self.check_elements_of(def, seg, ext, out);
    }

    /// Step slot `h` is used for this segment: remember it as the successor of the previous
    /// segment's slot, and try its own successor first for the next segment.
    #[inline]
    fn link(&mut self, h: usize) {
        if let Some(p) = self.steps.get_mut(self.prev) {
            if p.next as usize != h {
                p.next = h as u16;
            }
        }
        self.prev = h;
        self.pred = self.steps.get(h).map_or(NO_SLOT, |s| s.next as usize);
    }

    #[inline]
    fn check_elements_of(
        &mut self,
        def: Option<&SegmentDef>,
        seg: &Segment<'_>,
        ext: &[u8],
        out: &mut Vec<SegmentError>,
    ) {
        if let Some(def) = def.filter(|d| !d.open) {
            self.scratch.clear();
            self.fast.check(seg, ext, def, def.required, &mut self.scratch);
            if !self.scratch.is_empty() {
                let mut e = self.seg_error(seg, 8);
                e.elements = std::mem::take(&mut self.scratch);
                out.push(e);
            }
        }
    }

    fn seg_error(&self, seg: &Segment<'_>, code: u8) -> SegmentError {
        SegmentError {
            segment_id: seg.id_str().into_owned(),
            position: seg.index,
            loop_id: self.loop_id(),
            code,
            elements: Vec::new(),
            line: seg.line,
            byte: seg.byte,
        }
    }

    /// Place a segment in the structure. Returns `(frames closed, node taken)` when the step
    /// skipped no mandatory segment (it may then be replayed, see [`Step`]).
    fn place(
        &mut self,
        id: SegId,
        seg: &Segment<'_>,
        known: bool,
        out: &mut Vec<SegmentError>,
    ) -> Option<(usize, usize)> {
        // Search the open frames, innermost first, from each frame's position forward.
        // Repeating the node at the frame's current position of a loop trigger within its own
        // loop frame is handled by the parent (j == 0 in a loop frame is never searched).
        let mut found = None;
        for level in (0..self.stack.len()).rev() {
            let Some(&Frame { firsts, pos, .. }) = self.stack.get(level) else { continue };
            let from = if level > 0 { pos.max(1) } else { pos };
            if let Some(j) = search(&mut self.search_cache, firsts, from, id) {
                found = Some((level, j));
                break;
            }
        }
        let Some((level, j)) = found else {
            let code = if !known {
                1
            } else if !self.ctx.set.is_some_and(|s| s.uses(id)) {
                6
            } else if self.stack.iter().any(|f| f.nodes.iter().take(f.pos).any(|n| n.first_segment() == id)) {
                7
            } else {
                2
            };
            out.push(self.seg_error(seg, code));
            return None;
        };
        let before = out.len();
        let pops = self.stack.len() - (level + 1);
        while self.stack.len() > level + 1 {
            self.pop(seg, out);
        }
        let f = self.stack.last().copied()?;
        let from = if f.pos == j { j } else { f.pos + 1 };
        let from = if f.pos == 0 && self.counts.get(f.base).copied() == Some(0) { 0 } else { from };
        self.missing(&f, from, j, seg, out);
        let clean = out.len() == before;
        self.take(j, seg, out);
        clean.then_some((pops, j))
    }

    /// Take node `j` of the frame on top: count it (over its maximum: AK304 5 for a segment,
    /// 4 for a loop) and open the loop it starts.
    #[inline]
    fn take(&mut self, j: usize, seg: &Segment<'_>, out: &mut Vec<SegmentError>) {
        let Some(top) = self.stack.last_mut() else { return };
        top.pos = j;
        let f = *top;
        let Some(c) = self.counts.get_mut(f.base + j) else { return };
        *c += 1;
        let count = *c;
        match f.nodes.get(j) {
            Some(Node::Segment { max, .. }) if count > *max => out.push(self.seg_error(seg, 5)),
            Some(Node::Loop { id: lid, max, children, firsts, required_end, .. }) => {
                if count > *max {
                    out.push(self.seg_error(seg, 4));
                }
                let base = self.counts.len();
                // (`extend` of a counted run inlines to a fill; `resize` is an out-of-line call.)
                self.counts.extend(std::iter::repeat_n(0, children.len()));
                if let Some(c0) = self.counts.get_mut(base) {
                    *c0 = 1;
                }
                self.stack.push(Frame {
                    nodes: children,
                    firsts,
                    required_end: *required_end,
                    pos: 0,
                    base,
                    loop_id: lid,
                });
            }
            _ => {}
        }
    }

    /// The set ended (after SE, or cut short): close every open loop, reporting missing segments.
    pub fn finish(&mut self, last: &Segment<'_>, out: &mut Vec<SegmentError>) {
        while !self.stack.is_empty() {
            self.pop(last, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::codes::CodeLists;
    use crate::grammar::x12::{parse_element, Rule};

    fn el(spec: &str) -> ElementDef {
        parse_element(spec, &CodeLists::default()).unwrap()
    }

    #[test]
    fn unusual_bytes_mask() {
        let (e, c, r) = (b'*' as u64 * LO, b':' as u64 * LO, b'^' as u64 * LO);
        for b in 0..=255u8 {
            let v = u64::from_le_bytes([b'A', b, b'z', b'0', b' ', b'~', b, b'9']);
            let want = !(0x20..0x7F).contains(&b) || matches!(b, b'*' | b':' | b'^');
            let expect = if want { 0x80u64 << 8 | 0x80u64 << 48 } else { 0 };
            assert_eq!(unusual(v, e, c, r), expect, "byte {b:#04x}");
        }
    }

    /// Reading whole words past a segment's end (the input after it) finds exactly the element
    /// errors the general check finds, whatever follows the segment.
    #[test]
    fn element_check_past_the_segment_matches_general() {
        let elements: Vec<ElementDef> =
            ["M AN 1 5 1", "O ID 2 2 35 =AA|BB", "O N0 1 4 1", "O R 1 6 1", "O DT 8 8 373", "O AN 1 20 2"]
                .iter()
                .map(|spec| el(spec))
                .collect();
        let def = SegmentDef {
            id: "XYZ".into(),
            rules: elements.iter().map(Rule::of).collect(),
            elements,
            open: false,
            required: 1,
        };
        let d = crate::parse::x12::delimiters::Delimiters::default();
        let segments: [&[u8]; 12] = [
            b"XYZ*ab*AA*12*1.5*20260101",
            b"XYZ*ab*AA*12*1.5*20260101*ABCDEFGHIJKLMNOP",
            b"XYZ*abcdef*CC",
            b"XYZ*a:b",
            b"XYZ*a^b*AA",
            b"XYZ",
            b"XYZ*",
            b"XYZ*abcde*BB*1234*12.345*20260230",
            b"XYZ*a\x01",
            b"XYZ*ab*AA*12*1.5*20260101*x*y",
            b"XYZ**AA",
            b"XYZ*abc*AA*12345678*1.5",
        ];
        let trailers: [&[u8]; 4] = [b"", b"~", b"~\nSEG*:^\x01*~", b"~\xff\xfe:::::::::^^^^^^^^********"];
        let (mut clean, mut faulty) = (0, 0);
        for raw in segments {
            let general = {
                let seg = Segment::new(std::borrow::Cow::Borrowed(raw), d, 1, 0);
                let mut out = Vec::new();
                check_elements_general(&seg, &def, &mut out);
                out
            };
            if general.is_empty() {
                clean += 1;
            } else {
                faulty += 1;
            }
            for trailer in trailers {
                let input = [raw, trailer].concat();
                let seg = Segment::new(std::borrow::Cow::Borrowed(&input[..raw.len()]), d, 1, 0);
                for ext in [seg.raw(), &input[..]] {
                    let mut fast = FastCheck::new(d);
                    let mut out = Vec::new();
                    fast.check(&seg, ext, &def, def.required, &mut out);
                    assert_eq!(
                        out,
                        general,
                        "{:?} + {:?}",
                        String::from_utf8_lossy(raw),
                        String::from_utf8_lossy(trailer)
                    );
                }
            }
        }
        assert!(clean >= 2 && faulty >= 6, "{clean} clean, {faulty} with errors");
    }

    /// The fast rules for N, R, DT and TM accept exactly what `check_value` accepts.
    #[test]
    fn number_rules_agree_with_check_value() {
        let values: [&[u8]; 26] = [
            b"1",
            b"12",
            b"123",
            b"1234",
            b"-12",
            b"1.5",
            b"12.50",
            b".5",
            b"5.",
            b".",
            b"1.2.3",
            b"-",
            b"1a",
            b"0",
            b"99.9",
            b"1 2",
            b"20240229",
            b"20230229",
            b"260110",
            b"2026011",
            b"20261301",
            b"1012",
            b"2460",
            b"101259",
            b"10126",
            b"12345678",
        ];
        for spec in ["M N0 2 3 1", "M N2 1 4 1", "M R 1 3 1", "O R 2 4 1", "M DT 8 8 1", "M DT 6 8 1", "M TM 4 6 1"] {
            let e = el(spec);
            let def = SegmentDef {
                id: "X".into(),
                elements: vec![e.clone()],
                open: false,
                rules: vec![Rule::of(&e)],
                required: 1,
            };
            let mut fast = FastCheck::new(crate::parse::x12::delimiters::Delimiters {
                element: b'*',
                component: b':',
                repetition: None,
                terminator: crate::parse::x12::delimiters::Terminator::new(b"~"),
            });
            for v in values {
                assert_eq!(
                    fast.ok_value(&def, 1, v),
                    check_value(&e, v).is_none(),
                    "{spec} {:?}",
                    String::from_utf8_lossy(v)
                );
            }
        }
    }

    /// A validator whose placement memo and successor guesses are warm (reused across sets that
    /// share states but go different ways) reports exactly what a fresh validator reports.
    #[test]
    fn warm_validator_matches_fresh() {
        use super::super::segment::Tokenizer;
        let g = crate::grammar::Grammars::embedded_shared().expect("grammars");
        let x = &g.x12;
        let (dict, _) = x.dictionary("004010").expect("004010 dictionary");
        let ctx = SetContext { set: x.sets.get("850"), dict, envelope: &x.envelope };
        let base = crate::parse::x12::standard::purchase_order(1, 3);
        let variants = [
            base.clone(),
            base.replace("CTP*RS*RES*15.00~", ""),
            base.replace("PO4*12*1*EA~", "PO4*12*1*EA~CTP*RS*RES*15.00~"),
            base.replace("SPI*00~", "SPI*00~PO1*9*1*EA~"),
            base.replacen("MSG*LINE NOTE~", "ZZZ*1~MSG*LINE NOTE~", 2),
            base.replacen("PID*F****MENS SWEATERS COTTON~", "", 1),
            base.replace("BEG*00*SA", "BEG*00*QQ"),
            base.replacen("TD5*B*2*MAEU~", "TD5*B*2*MAEU~TD5*B*2*MAEU~", 1),
            base.replace("N1*ST*", "N1*ST*~N1*ST*"),
            base.replacen("CUR*BY*USD~", "CUR*BY*USD~BEG*00*SA*PO-2**20260110~", 1),
            base.replace("CTT*3~", "").replacen("PO1*", "CTT*3~PO1*", 1),
            base.replacen("PO1*1*", "QQ1*1*", 1),
        ];
        let run = |v: &mut StructureValidator<'_>, text: &str| {
            v.reset(ctx);
            let mut out = Vec::new();
            let mut t = Tokenizer::new(text.as_bytes(), 0, 1, crate::parse::x12::delimiters::Delimiters::default());
            let mut last = None;
            let mut index = 0;
            while let Some(mut seg) = t.next_segment() {
                index += 1;
                seg.index = index;
                v.segment(&seg, &mut out);
                last = Some(seg);
            }
            if let Some(seg) = last {
                v.finish(&seg, &mut out);
            }
            out
        };
        let mut warm = StructureValidator::new(ctx);
        let mut faulty = 0;
        for _ in 0..3 {
            for text in variants.iter().chain(variants.iter().rev()) {
                let fresh = run(&mut StructureValidator::new(ctx), text);
                assert_eq!(run(&mut warm, text), fresh, "{text}");
                faulty += usize::from(!fresh.is_empty());
            }
        }
        // Six runs of each variant: at least half of the variants have findings.
        assert!(faulty >= 6 * 6, "{faulty} faulty runs");
    }

    #[test]
    fn values() {
        assert_eq!(check_value(&el("M N0 1 3 1"), b"12a"), Some(6));
        assert_eq!(check_value(&el("M N0 1 3 1"), b"-123"), None);
        assert_eq!(check_value(&el("M N0 1 3 1"), b"1234"), Some(5));
        assert_eq!(check_value(&el("M R 1 5 1"), b"12.50"), None);
        assert_eq!(check_value(&el("M R 1 5 1"), b"1.2.3"), Some(6));
        assert_eq!(check_value(&el("M DT 8 8 373"), b"20240230"), Some(8));
        assert_eq!(check_value(&el("M DT 8 8 373"), b"20240229"), None);
        assert_eq!(check_value(&el("M TM 4 8 337"), b"2460"), Some(9));
        assert_eq!(check_value(&el("M ID 2 2 35 =1A|1C"), b"1B"), Some(7));
        assert_eq!(check_value(&el("M AN 2 5 1"), b"a"), Some(4));
        assert_eq!(check_value(&el("M AN 1 5 1"), b"a\x01"), Some(6));
    }
}
