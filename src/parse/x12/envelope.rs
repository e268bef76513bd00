//! The X12 envelope reader: interchanges (ISA/IEA), groups (GS/GE) and sets (ST/SE), their
//! counts and control numbers (TA105 / AK905 / AK502 codes), driving the structure validator.

use super::delimiters::{check_delimiters, decode, read_isa, Encoding, IsaError, IsaRead};
use super::segment::{Segment, Tokenizer};
use super::structure::{check_elements, ElementError, SegmentError, SetContext, StructureValidator};
use super::{
    AckStatus, GroupHeader, GroupResult, InterchangeHeader, InterchangeResult, ReadOptions, ReadOutcome, Transaction,
    TransactionResult, X12Event,
};
use crate::grammar::x12::{normalize_version, seg_id, SegmentDict, SetGrammar};
use crate::grammar::Grammars;
use crate::parse::error::{not_kept, Diagnostic, Position, MAX_DIAGNOSTICS};
use std::collections::HashSet;
use std::io::Read;

fn pos(line: usize, byte: usize, segment: Option<usize>) -> Position {
    Position { line, byte, segment, record: None }
}

/// The diagnostic code for an AK304 segment error.
pub fn segment_code(ak304: u8) -> &'static str {
    match ak304 {
        1 => "X12E050",
        2 => "X12E051",
        3 => "X12E052",
        4 => "X12E053",
        5 => "X12E054",
        6 => "X12E055",
        7 => "X12E056",
        _ => "X12E057",
    }
}

/// The diagnostic code for an AK403 element error.
pub fn element_code(ak403: u8) -> &'static str {
    match ak403 {
        1 => "X12E060",
        2 => "X12E061",
        3 => "X12E062",
        4 => "X12E063",
        5 => "X12E064",
        6 => "X12E065",
        7 => "X12E066",
        8 => "X12E067",
        9 => "X12E068",
        12 => "X12E069",
        13 => "X12E070",
        _ => "X12E071",
    }
}

fn segment_text(code: u8) -> &'static str {
    match code {
        1 => "unrecognized segment id",
        2 => "unexpected segment",
        3 => "mandatory segment missing",
        4 => "loop occurs over maximum times",
        5 => "segment exceeds maximum use",
        6 => "segment not in the defined transaction set",
        7 => "segment not in proper sequence",
        _ => "segment has data element errors",
    }
}

fn element_text(code: u8) -> &'static str {
    match code {
        1 => "mandatory data element missing",
        2 => "conditional required data element missing",
        3 => "too many data elements",
        4 => "data element too short",
        5 => "data element too long",
        6 => "invalid character in data element",
        7 => "invalid code value",
        8 => "invalid date",
        9 => "invalid time",
        12 => "too many repetitions",
        13 => "too many components",
        _ => "element error",
    }
}

struct GroupState {
    header: GroupHeader,
    received: usize,
    accepted: usize,
    codes: Vec<u8>,
    st_numbers: HashSet<String>,
}

/// Keep a transaction's segment errors (its AK3/IK3 loops) within [`MAX_DIAGNOSTICS`]: the
/// set is rejected either way, and the rest are counted in the file's closing warning.
fn cap_segment_errors(t: &mut TxnState) {
    if t.errors.len() > MAX_DIAGNOSTICS {
        t.dropped += t.errors.len() - MAX_DIAGNOSTICS;
        t.errors.truncate(MAX_DIAGNOSTICS);
    }
}

struct TxnState {
    set: String,
    control_number: String,
    implementation: Option<String>,
    version: String,
    grammar_version: String,
    known: bool,
    /// CBP's own set: findings are warnings, the set is accepted with errors noted.
    cbp: bool,
    codes: Vec<u8>,
    errors: Vec<SegmentError>,
    /// Segment errors past [`MAX_DIAGNOSTICS`], counted, not kept.
    dropped: usize,
}

struct Reader<'g, 'cb> {
    g: &'g Grammars,
    opts: ReadOptions,
    on: &'cb mut dyn FnMut(X12Event<'_>),
    out: ReadOutcome,
    /// Diagnostics past [`MAX_DIAGNOSTICS`], counted, not kept.
    dropped: usize,
    /// Of the file-level diagnostics past the cap, the errors.
    dropped_errors: usize,
    base: usize,
    /// Where the input buffer starts in the (decoded) file: 0 for a whole read; the start of
    /// the interchange held for a streamed one ([`read_from`]). Positions inside the buffer
    /// are local; events and diagnostics get this added, so they stay file-absolute.
    origin: usize,
    /// ISA05, ISA06 and ISA13 of the interchanges read so far, as [`isa_key`] digests (16
    /// bytes each, not the strings: a file of many interchanges keeps them all).
    seen_isa: HashSet<u128>,
    warned_versions: HashSet<String>,
    /// The last version looked up: (version as written, its dictionary, the dictionary version).
    last_dict: Option<(String, &'g SegmentDict, String)>,
    /// The last set id looked up and its grammar.
    last_set: Option<(String, Option<&'g SetGrammar>)>,
}

static EMPTY_DICT: SegmentDict = SegmentDict::new();

impl<'g, 'o> Reader<'g, 'o> {
    /// A reader at the start of a file.
    fn new(g: &'g Grammars, opts: ReadOptions, on: &'o mut dyn FnMut(X12Event<'_>)) -> Self {
        Reader {
            g,
            opts,
            on,
            out: ReadOutcome::default(),
            dropped: 0,
            dropped_errors: 0,
            base: 0,
            origin: 0,
            seen_isa: HashSet::new(),
            warned_versions: HashSet::new(),
            last_dict: None,
            last_set: None,
        }
    }
}

/// Read the whole input (see [`super::read_with`]).
pub fn read(bytes: &[u8], g: &Grammars, opts: ReadOptions, on: &mut dyn FnMut(X12Event<'_>)) -> ReadOutcome {
    let mut r = Reader::new(g, opts, on);
    let input = match decode(bytes) {
        Ok((c, enc)) => {
            match enc {
                Encoding::Utf8Bom => r.base = 3,
                Encoding::Utf16Le | Encoding::Utf16Be => r.out.diagnostics.push(Diagnostic::warning(
                    "X12E002",
                    "the file is UTF-16; decoded to UTF-8 (byte offsets refer to the decoded text)",
                    pos(1, 0, None),
                )),
                Encoding::Plain => {}
            }
            c
        }
        Err(m) => {
            r.out.diagnostics.push(Diagnostic::error("X12E003", m, pos(1, 0, None)));
            return r.out;
        }
    };
    r.file(&input);
    r.close()
}

/// An interchange's identity for the repeated-ISA13 check (X12E023): the first 16 bytes of the
/// SHA-256 of ISA05, ISA06 and ISA13, each with its length (two different triples share a key
/// with a chance of about 2^-128 per pair).
fn isa_key(qualifier: &str, sender: &str, control: &str) -> u128 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [qualifier, sender, control] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let d = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(d.get(..16).unwrap_or(&[0; 16]));
    u128::from_le_bytes(first)
}

/// The largest interchange (ISA up to its IEA, or up to the next ISA or the end of the file
/// when the IEA is missing) [`super::read_from`] holds in memory: a larger one is the error
/// `X12E025` at its ISA, and the file is not read further (never an allocation past this).
/// Real interchanges are far smaller (a CBP 350 is a few hundred bytes; a large partner batch
/// a few MB). `read` of whole bytes has no such bound: its caller's file size limit is the bound.
pub const MAX_INTERCHANGE_BYTES: usize = 64 * 1024 * 1024;

/// The most segments an interchange [`super::read_from`] holds may have (each costs about 72
/// bytes beside its text while its set is read): a larger one is `X12E025` too. Without it an
/// interchange of 8-byte bad segments at the byte bound cost about 800 MB; with it at most
/// about 150 MB beside the bytes. A 350 of 50,000 `X4` holds about 100,000.
pub const MAX_INTERCHANGE_SEGMENTS: usize = 2_000_000;

/// Bytes asked of the source at a time.
const READ_CHUNK: u64 = 256 * 1024;

/// Bytes other than CR/LF `read_isa` may look at from the ISA's first byte: 105 header
/// characters (up to 140 when the delimiters are recovered by counting separators), then the
/// terminator and one byte after it. Holding this many (or the rest of the file) makes its
/// answer the one the whole file gives.
const ISA_LOOKAHEAD: usize = 160;

/// The input of a streamed read: a buffer of what has been read and not yet handed over.
struct Feed<'r> {
    r: &'r mut dyn Read,
    buf: Vec<u8>,
    eof: bool,
    /// Bytes asked at a time ([`READ_CHUNK`]; tests use small ones).
    chunk: u64,
}

impl Feed<'_> {
    /// Append up to `chunk` bytes (fewer only at the end of the input); false when nothing
    /// more came.
    fn more(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let n = (&mut *self.r).take(self.chunk).read_to_end(&mut self.buf)?;
        self.eof = (n as u64) < self.chunk;
        Ok(n > 0)
    }
}

/// Whether decoding would take these first bytes for UTF-16 (as [`decode`] does).
fn looks_utf16(head: &[u8]) -> bool {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return false;
    }
    head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF])
        || matches!(head, [a, 0, _, 0, ..] if *a != 0)
        || matches!(head, [0, b, 0, _, ..] if *b != 0)
}

/// `rest` starts a BIN segment whose declared length runs past what is held (or whose length
/// is still being read): the tokenizer would read it otherwise than the whole file.
fn bin_beyond(rest: &[u8], element: u8, tlen: usize) -> bool {
    let Some(digits) = rest.strip_prefix(b"BIN").and_then(|r| r.strip_prefix(&[element])) else { return false };
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == digits.len() {
        return n <= 12;
    }
    if n == 0 || n > 12 || digits.get(n) != Some(&element) {
        return false;
    }
    let Some(len) = std::str::from_utf8(digits.get(..n).unwrap_or(&[])).ok().and_then(|t| t.parse::<usize>().ok())
    else {
        return false;
    };
    (4 + n + 1).saturating_add(len).saturating_add(tlen) > rest.len()
}

/// Whether `buf` holds the interchange whose ISA is read, up to the segment that ends it
/// (its IEA, or the next ISA), every segment with its terminator: then the reader, stopping
/// there, sees what it sees in the whole file. Otherwise `pos` and `line` are where to go on
/// once more is read (the start of the last segment, which is not whole yet).
fn holds_interchange(buf: &[u8], pos: &mut usize, line: &mut usize, isa: &IsaRead, segments: &mut usize) -> bool {
    let mut tok = Tokenizer::new(buf, *pos, *line, isa.delimiters);
    tok.strip_crlf = isa.wrapped;
    let (element, tlen) = (isa.delimiters.element, isa.delimiters.terminator.len());
    loop {
        let (p, l) = (tok.pos, tok.line);
        let mut peek = tok.clone();
        peek.skip_noise();
        let seg = if bin_beyond(peek.rest(), element, tlen) { None } else { tok.next_segment() };
        match seg {
            Some(seg) if !tok.unterminated => {
                if matches!(seg.id(), b"ISA" | b"IEA") {
                    return true;
                }
                *segments += 1;
            }
            _ => {
                (*pos, *line) = (p, l);
                return false;
            }
        }
    }
}

/// Read X12 from `r` (see [`super::read_from`]).
pub fn read_from(
    r: &mut dyn Read,
    g: &Grammars,
    opts: ReadOptions,
    on: &mut dyn FnMut(X12Event<'_>),
) -> std::io::Result<ReadOutcome> {
    read_from_sized(r, g, opts, on, READ_CHUNK, MAX_INTERCHANGE_BYTES)
}

/// [`read_from`] with the read size and the interchange bound as parameters (tests use
/// small ones).
pub fn read_from_sized(
    r: &mut dyn Read,
    g: &Grammars,
    opts: ReadOptions,
    on: &mut dyn FnMut(X12Event<'_>),
    chunk: u64,
    limit: usize,
) -> std::io::Result<ReadOutcome> {
    let mut feed = Feed { r, buf: Vec::new(), eof: false, chunk: chunk.max(1) };
    // The first four bytes tell a BOM or UTF-16.
    while feed.buf.len() < 4 && feed.more()? {}
    if looks_utf16(&feed.buf) {
        // UTF-16 (rare: no CBP or partner file seen so far): decoded as a whole, so read whole
        // (the caller's file size limit bounds it; docs/performance.md).
        let mut all = std::mem::take(&mut feed.buf);
        feed.r.read_to_end(&mut all)?;
        return Ok(read(&all, g, opts, on));
    }
    let mut rd = Reader::new(g, opts, on);
    if feed.buf.starts_with(b"\xEF\xBB\xBF") {
        feed.buf.drain(..3);
        rd.base = 3;
    }
    rd.stream(&mut feed, limit)?;
    Ok(rd.close())
}

impl<'g> Reader<'g, '_> {
    /// The outcome, with the closing warnings of what the cap did not keep.
    fn close(mut self) -> ReadOutcome {
        if self.dropped > 0 {
            self.out.diagnostics.push(not_kept("X12E099", self.dropped));
        }
        if self.dropped_errors > 0 {
            self.out.diagnostics.push(crate::parse::error::errors_not_kept("X12E098", self.dropped_errors));
        }
        self.out
    }

    fn diag(&mut self, d: Diagnostic) {
        let mut d = d;
        d.byte += self.base + self.origin;
        if self.out.diagnostics.len() < MAX_DIAGNOSTICS {
            self.out.diagnostics.push(d);
        } else {
            self.dropped += 1;
            self.dropped_errors += usize::from(d.is_error());
        }
    }

    fn err(&mut self, code: &str, msg: impl Into<String>, p: Position, ack: Option<String>) {
        let mut d = Diagnostic::error(code, msg, p);
        d.ack = ack;
        self.diag(d);
    }

    fn warn(&mut self, code: &str, msg: impl Into<String>, p: Position) {
        self.diag(Diagnostic::warning(code, msg, p));
    }

    /// The one structure validator of a read, before its first set.
    fn validator(&self) -> StructureValidator<'g> {
        StructureValidator::new(SetContext { set: None, dict: &EMPTY_DICT, envelope: &self.g.x12.envelope })
    }

    fn file(&mut self, input: &[u8]) {
        // One validator for the whole read: its caches (placements, definitions, code values)
        // are keyed by the grammars, which do not change during a read; `reset` at each ST
        // starts the set's own state afresh.
        let mut validator = self.validator();
        let mut at = 0usize;
        let mut line = 1usize;
        let mut first = true;
        loop {
            while let Some(&b) = input.get(at) {
                if !b.is_ascii_whitespace() && b != 0 {
                    break;
                }
                line += (b == b'\n') as usize;
                at += 1;
            }
            if at >= input.len() {
                if first {
                    self.err("X12E001", "no interchange: the file is empty", pos(line, at, None), None);
                }
                return;
            }
            match read_isa(input, at) {
                Ok(isa) => {
                    first = false;
                    let (next, next_line) = self.interchange(input, at, line, isa, &mut validator);
                    at = next;
                    line = next_line;
                }
                Err(e) => return self.isa_error(e, first, line, at),
            }
        }
    }

    /// [`Reader::file`] over a source read in chunks: one interchange held at a time (with
    /// the read-ahead of one chunk), the bytes before it dropped when more must be read
    /// (`origin` keeps positions file-absolute).
    fn stream(&mut self, feed: &mut Feed<'_>, limit: usize) -> std::io::Result<()> {
        let mut validator = self.validator();
        // Where the next interchange (or the white space before it) starts in the buffer.
        let mut at = 0usize;
        let mut line = 1usize;
        let mut first = true;
        loop {
            // White space and NULs between interchanges, read and dropped as they come.
            loop {
                while let Some(&b) = feed.buf.get(at) {
                    if !b.is_ascii_whitespace() && b != 0 {
                        break;
                    }
                    line += (b == b'\n') as usize;
                    at += 1;
                }
                if at < feed.buf.len() {
                    break;
                }
                self.compact(feed, &mut at);
                if !feed.more()? {
                    break;
                }
            }
            if at >= feed.buf.len() {
                if first {
                    self.err("X12E001", "no interchange: the file is empty", pos(line, at, None), None);
                }
                return Ok(());
            }
            // Enough of the ISA for `read_isa` to answer as on the whole file.
            let (mut scanned, mut chars) = (at, 0usize);
            loop {
                for &b in feed.buf.get(scanned..).unwrap_or(&[]) {
                    if chars >= ISA_LOOKAHEAD {
                        break;
                    }
                    scanned += 1;
                    chars += usize::from(b != b'\r' && b != b'\n');
                }
                if chars >= ISA_LOOKAHEAD || feed.eof {
                    break;
                }
                if feed.buf.len() - at > limit {
                    self.too_large(line, at, limit);
                    return Ok(());
                }
                scanned -= self.compact(feed, &mut at);
                feed.more()?;
            }
            match read_isa(&feed.buf, at) {
                Ok(mut isa) => {
                    first = false;
                    // The whole interchange in the buffer, then read as `file` reads it.
                    let (mut p, mut l) = (isa.end, line + isa.newlines);
                    let mut segments = 0usize;
                    while !holds_interchange(&feed.buf, &mut p, &mut l, &isa, &mut segments) && !feed.eof {
                        if feed.buf.len() - at > limit || segments > MAX_INTERCHANGE_SEGMENTS {
                            self.too_large(line, at, limit);
                            return Ok(());
                        }
                        let shift = self.compact(feed, &mut at);
                        p -= shift;
                        isa.end -= shift;
                        feed.more()?;
                    }
                    if segments > MAX_INTERCHANGE_SEGMENTS {
                        self.too_large(line, at, limit);
                        return Ok(());
                    }
                    let (next, next_line) = self.interchange(&feed.buf, at, line, isa, &mut validator);
                    at = next;
                    line = next_line;
                }
                Err(e) => {
                    self.isa_error(e, first, line, at);
                    return Ok(());
                }
            }
        }
    }

    /// Where an interchange was expected and no readable ISA is: the file is not read further.
    fn isa_error(&mut self, e: IsaError, first: bool, line: usize, at: usize) {
        match e {
            IsaError::NotIsa => {
                let msg = if first {
                    "the file does not start with an ISA segment"
                } else {
                    "data after the last IEA is not an interchange"
                };
                self.err("X12E001", msg, pos(line, at, None), Some("TA105:024".into()));
            }
            IsaError::Truncated => self.err(
                "X12E004",
                "the file ends inside the ISA segment",
                pos(line, at, None),
                Some("TA105:023".into()),
            ),
            IsaError::Separators(m) => self.err("X12E006", m, pos(line, at, None), Some("TA105:026".into())),
        }
    }

    /// Drop the buffer's bytes before `at` (read and handed over); returns how far positions
    /// in the buffer moved.
    fn compact(&mut self, feed: &mut Feed<'_>, at: &mut usize) -> usize {
        let n = (*at).min(feed.buf.len());
        feed.buf.drain(..n);
        self.origin += n;
        *at -= n;
        n
    }

    /// The interchange starting here is larger than a streamed read holds: an error, and the
    /// file is not read further.
    fn too_large(&mut self, line: usize, at: usize, limit: usize) {
        self.err(
            "X12E025",
            format!(
                "the interchange is larger than {limit} bytes or {MAX_INTERCHANGE_SEGMENTS} segments (the most a streamed read holds): not read; the file is not applied"
            ),
            pos(line, at, None),
            None,
        );
    }

    fn check_isa_fields(&mut self, h: &InterchangeHeader) {
        let p = pos(h.line, h.byte, None);
        let f = |i: usize| h.fields.get(i).map(String::as_str).unwrap_or("");
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        let checks: [(bool, &str, &str); 6] = [
            (digits(f(12), 9), "ISA13 control number is not 9 digits", "018"),
            (
                digits(f(8), 6) && super::structure::check_value(&date6(), f(8).as_bytes()).is_none(),
                "ISA09 is not a date YYMMDD",
                "014",
            ),
            (
                digits(f(9), 4) && super::structure::check_value(&time4(), f(9).as_bytes()).is_none(),
                "ISA10 is not a time HHMM",
                "015",
            ),
            (digits(f(11), 5), "ISA12 version is not 5 digits", "017"),
            (matches!(f(13), "0" | "1"), "ISA14 acknowledgment requested is not 0 or 1", "019"),
            (matches!(f(14), "P" | "T" | "I"), "ISA15 usage indicator is not P or T", "020"),
        ];
        for (ok, msg, ta) in checks {
            if !ok {
                self.err("X12E010", msg, p, Some(format!("TA105:{ta}")));
            }
        }
    }

    /// Read one interchange starting with its ISA; returns where to continue.
    fn interchange(
        &mut self,
        input: &[u8],
        start: usize,
        line: usize,
        isa: IsaRead,
        validator: &mut StructureValidator<'g>,
    ) -> (usize, usize) {
        let g = self.g;
        let f = |i: usize| isa.fields.get(i).cloned().unwrap_or_default();
        let header = InterchangeHeader {
            sender_qualifier: f(4).trim().to_string(),
            sender_id: f(5).trim().to_string(),
            receiver_qualifier: f(6).trim().to_string(),
            receiver_id: f(7).trim().to_string(),
            date: f(8),
            time: f(9),
            isa11: f(10),
            version: f(11),
            control_number: f(12),
            ack_requested: f(13),
            usage: f(14),
            fields: isa.fields.clone(),
            delimiters: isa.delimiters,
            line,
            byte: start + self.base + self.origin,
        };
        self.out.interchanges += 1;
        let p = pos(line, start, None);
        let mut codes: Vec<String> = Vec::new();
        if isa.wrapped {
            self.warn("X12E008", "line breaks inside the ISA were dropped (a hard-wrapped interchange)", p);
        }
        if let Some(n) = isa.recovered_length {
            self.warn(
                "X12E005",
                format!("the ISA is {n} characters, not 106; delimiters recovered by counting separators"),
                p,
            );
        }
        if header.version.as_str() >= "00402" && matches!(header.isa11.as_str(), "-" | "." | "+") {
            self.warn(
                "X12E009",
                format!("ISA11 {:?} is not used as a repetition separator: it appears inside numbers", header.isa11),
                p,
            );
        }
        if let Some((ta, m)) = check_delimiters(&isa.delimiters) {
            self.err("X12E007", m, p, Some(format!("TA105:{ta}")));
            codes.push(ta.to_string());
        }
        let before = self.out.diagnostics.len();
        self.check_isa_fields(&InterchangeHeader { byte: start, ..header.clone() });
        for d in self.out.diagnostics.get(before..).unwrap_or(&[]) {
            if let Some(a) = d.ack.as_deref().and_then(|a| a.strip_prefix("TA105:")) {
                codes.push(a.to_string());
            }
        }
        let key = isa_key(&header.sender_qualifier, &header.sender_id, &header.control_number);
        if !self.seen_isa.insert(key) {
            let mut d = Diagnostic::warning(
                "X12E023",
                format!("duplicate interchange control number {} from this sender", header.control_number),
                p,
            );
            d.ack = Some("TA105:025".into());
            self.diag(d);
        }
        (self.on)(X12Event::InterchangeStart(&header));

        let mut tok = Tokenizer::new(input, isa.end, line + isa.newlines, isa.delimiters);
        tok.strip_crlf = isa.wrapped;
        let mut group: Option<GroupState> = None;
        let mut txn: Option<TxnState> = None;
        let mut segs: Vec<Segment<'_>> = Vec::new();
        let mut groups = 0usize;
        let mut gs_numbers: HashSet<String> = HashSet::new();
        let mut skipping = false;
        let mut declared_groups = None;
        let mut resume = (input.len(), tok.line);
        let mut ended = false;
        loop {
            // Fastest path: an ordinary body segment inside a set, built in place in `segs`.
            if let Some(t) = txn.as_mut() {
                if tok.push_body(&mut segs) {
                    self.out.segments += 1;
                    if self.opts.validate {
                        if let Some(seg) = segs.last() {
                            // The input from the segment on: the element check reads whole
                            // words past the segment's end (and ignores those bytes).
                            validator.segment_in(seg, input.get(seg.byte..).unwrap_or(&[]), &mut t.errors);
                            cap_segment_errors(t);
                        }
                    }
                    continue;
                }
            }
            let Some(mut seg) = tok.next_segment() else { break };
            if tok.unterminated {
                self.warn("X12E024", "the last segment has no segment terminator", pos(seg.line, seg.byte, None));
            }
            self.out.segments += 1;
            let id = seg.id();
            // Fast path: a body segment inside a set (envelope ids start with I, G, S or T).
            if !matches!(id.first(), Some(b'I' | b'G' | b'S' | b'T')) {
                if let Some(t) = txn.as_mut() {
                    seg.index = segs.len() + 1;
                    if self.opts.validate {
                        validator.segment(&seg, &mut t.errors);
                        cap_segment_errors(t);
                    }
                    segs.push(seg);
                    continue;
                }
            }
            match id {
                b"ISA" => {
                    resume = (seg.byte, seg.line);
                    break;
                }
                b"IEA" => {
                    self.close_txn(&mut txn, &mut segs, validator, group.as_mut(), seg.byte, seg.line);
                    if let Some(gs) = group.take() {
                        self.missing_ge(gs, &seg);
                        groups += 1;
                    }
                    self.check_envelope_segment(&seg, &mut codes);
                    let iea01 = seg.element_str(1).into_owned();
                    let iea02 = seg.element_str(2).into_owned();
                    if iea01.parse::<usize>().ok() != Some(groups) {
                        self.err(
                            "X12E021",
                            format!("IEA01 says {iea01:?} functional groups, the interchange has {groups}"),
                            pos(seg.line, seg.byte, None),
                            Some("TA105:021".into()),
                        );
                        codes.push("021".into());
                    }
                    if iea02 != header.control_number {
                        self.err(
                            "X12E020",
                            format!("IEA02 {iea02:?} does not match ISA13 {:?}", header.control_number),
                            pos(seg.line, seg.byte, None),
                            Some("TA105:001".into()),
                        );
                        codes.push("001".into());
                    }
                    declared_groups = Some(iea01);
                    resume = (tok.pos, tok.line);
                    ended = true;
                    break;
                }
                b"GS" => {
                    skipping = false;
                    self.close_txn(&mut txn, &mut segs, validator, group.as_mut(), seg.byte, seg.line);
                    if let Some(gs) = group.take() {
                        self.missing_ge(gs, &seg);
                        groups += 1;
                    }
                    let mut gcodes = Vec::new();
                    self.check_envelope_segment(&seg, &mut codes);
                    let e = |n| seg.element_str(n).into_owned();
                    let gh = GroupHeader {
                        functional_id: e(1),
                        application_sender: e(2),
                        application_receiver: e(3),
                        date: e(4),
                        time: e(5),
                        control_number: e(6),
                        agency: e(7),
                        version: e(8),
                        line: seg.line,
                        byte: seg.byte + self.base + self.origin,
                    };
                    if !gs_numbers.insert(gh.control_number.clone()) {
                        self.err(
                            "X12E033",
                            format!("group control number {} is used twice in this interchange", gh.control_number),
                            pos(seg.line, seg.byte, None),
                            Some("AK905:19".into()),
                        );
                        gcodes.push(19);
                    }
                    (self.on)(X12Event::GroupStart(&gh));
                    group = Some(GroupState {
                        header: gh,
                        received: 0,
                        accepted: 0,
                        codes: gcodes,
                        st_numbers: HashSet::new(),
                    });
                }
                b"GE" => {
                    skipping = false;
                    self.close_txn(&mut txn, &mut segs, validator, group.as_mut(), seg.byte, seg.line);
                    self.check_envelope_segment(&seg, &mut codes);
                    match group.take() {
                        None => self.err(
                            "X12E037",
                            "GE without a GS",
                            pos(seg.line, seg.byte, None),
                            Some("TA105:024".into()),
                        ),
                        Some(mut gs) => {
                            groups += 1;
                            let ge01 = seg.element_str(1).into_owned();
                            let ge02 = seg.element_str(2).into_owned();
                            let declared = ge01.parse::<usize>().ok();
                            if declared != Some(gs.received) {
                                self.err(
                                    "X12E031",
                                    format!("GE01 says {ge01:?} transaction sets, the group has {}", gs.received),
                                    pos(seg.line, seg.byte, None),
                                    Some("AK905:5".into()),
                                );
                                gs.codes.push(5);
                            }
                            if ge02 != gs.header.control_number {
                                self.err(
                                    "X12E030",
                                    format!("GE02 {ge02:?} does not match GS06 {:?}", gs.header.control_number),
                                    pos(seg.line, seg.byte, None),
                                    Some("AK905:4".into()),
                                );
                                gs.codes.push(4);
                            }
                            self.end_group(gs, declared);
                        }
                    }
                }
                b"ST" => {
                    skipping = false;
                    self.close_txn(&mut txn, &mut segs, validator, group.as_mut(), seg.byte, seg.line);
                    let Some(gs) = group.as_mut() else {
                        self.err(
                            "X12E045",
                            "ST outside a functional group (no GS)",
                            pos(seg.line, seg.byte, None),
                            Some("TA105:024".into()),
                        );
                        skipping = true;
                        continue;
                    };
                    let set = seg.element_str(1).into_owned();
                    let control_number = seg.element_str(2).into_owned();
                    let implementation =
                        seg.element(3).filter(|v| !v.is_empty()).map(|v| String::from_utf8_lossy(v).into_owned());
                    let version = implementation.clone().unwrap_or_else(|| {
                        if gs.header.version.is_empty() {
                            header.version.clone()
                        } else {
                            gs.header.version.clone()
                        }
                    });
                    let mut codes_t = Vec::new();
                    if !gs.st_numbers.insert(control_number.clone()) {
                        self.err(
                            "X12E043",
                            format!("transaction set control number {control_number} is used twice in this group"),
                            pos(seg.line, seg.byte, Some(1)),
                            Some("AK502:23".into()),
                        );
                        codes_t.push(23);
                    }
                    let set_grammar = match &self.last_set {
                        Some((s, sg)) if *s == set => *sg,
                        _ => {
                            let sg = g.x12.sets.get(&set);
                            self.last_set = Some((set.clone(), sg));
                            sg
                        }
                    };
                    let fid = gs.header.functional_id.clone();
                    if set_grammar.is_none() {
                        self.warn(
                            "X12E044",
                            format!("transaction set {set:?} has no grammar: envelope checked only"),
                            pos(seg.line, seg.byte, Some(1)),
                        );
                    } else if let Some(sg) = set_grammar {
                        if !sg.functional_ids.contains(&fid) {
                            self.warn(
                                "X12E034",
                                format!(
                                    "set {set} travels in a group with GS01 {fid:?}, expected one of {:?}",
                                    sg.functional_ids
                                ),
                                pos(seg.line, seg.byte, Some(1)),
                            );
                        }
                    }
                    // A version seen before was already warned about (X12E011 is once per version).
                    let (dict, grammar_version) = match &self.last_dict {
                        Some((v, d, gv)) if *v == version => (*d, gv.clone()),
                        _ => {
                            let (d, gv) = match g.x12.dictionary(&version) {
                                Some((d, w)) => {
                                    if let Some(w) = w {
                                        if self.warned_versions.insert(version.clone()) {
                                            self.warn("X12E011", w, pos(seg.line, seg.byte, Some(1)));
                                        }
                                    }
                                    (d, d.version.clone())
                                }
                                None => (&EMPTY_DICT, normalize_version(&version)),
                            };
                            self.last_dict = Some((version.clone(), d, gv.clone()));
                            (d, gv)
                        }
                    };
                    validator.reset(SetContext { set: set_grammar, dict, envelope: &g.x12.envelope });
                    segs.clear();
                    let mut seg = seg;
                    seg.index = 1;
                    let mut errors = Vec::new();
                    if self.opts.validate {
                        validator.segment(&seg, &mut errors);
                    }
                    segs.push(seg);
                    txn = Some(TxnState {
                        set,
                        control_number,
                        implementation,
                        version,
                        grammar_version,
                        known: set_grammar.is_some(),
                        cbp: set_grammar.is_some_and(|sg| sg.cbp),
                        codes: codes_t,
                        errors,
                        dropped: 0,
                    });
                }
                b"SE" => {
                    let Some(t) = txn.as_mut() else {
                        if !skipping {
                            self.err(
                                "X12E045",
                                "SE outside a transaction set",
                                pos(seg.line, seg.byte, None),
                                Some("TA105:024".into()),
                            );
                        }
                        skipping = false;
                        continue;
                    };
                    let mut seg = seg;
                    seg.index = segs.len() + 1;
                    if self.opts.validate {
                        validator.segment(&seg, &mut t.errors);
                    }
                    let se01 = seg.element_str(1).into_owned();
                    let se02 = seg.element_str(2).into_owned();
                    if se01.parse::<usize>().ok() != Some(seg.index) {
                        self.err(
                            "X12E042",
                            format!("SE01 says {se01:?} segments, the set has {}", seg.index),
                            pos(seg.line, seg.byte, Some(seg.index)),
                            Some("AK502:4".into()),
                        );
                        t.codes.push(4);
                    }
                    if se02 != t.control_number {
                        self.err(
                            "X12E041",
                            format!("SE02 {se02:?} does not match ST02 {:?}", t.control_number),
                            pos(seg.line, seg.byte, Some(seg.index)),
                            Some("AK502:3".into()),
                        );
                        t.codes.push(3);
                    }
                    let (b, l) = (seg.byte, seg.line);
                    segs.push(seg);
                    self.finish_txn(&mut txn, &mut segs, validator, group.as_mut(), true, b, l);
                }
                _ => {
                    if let Some(t) = txn.as_mut() {
                        let mut seg = seg;
                        seg.index = segs.len() + 1;
                        if self.opts.validate {
                            validator.segment(&seg, &mut t.errors);
                            cap_segment_errors(t);
                        }
                        segs.push(seg);
                    } else if group.is_none() && matches!(id, b"TA1" | b"ISB" | b"ISE") {
                        self.check_envelope_segment(&seg, &mut codes);
                        let mut seg = seg;
                        seg.byte += self.origin;
                        (self.on)(X12Event::InterchangeSegment(&seg));
                    } else if !skipping {
                        self.err(
                            "X12E045",
                            format!("segment {} outside a transaction set", seg.id_str()),
                            pos(seg.line, seg.byte, None),
                            Some("TA105:024".into()),
                        );
                        skipping = true;
                    }
                }
            }
        }
        if !ended {
            let (b, l) = if resume.0 < input.len() { resume } else { (tok.pos, tok.line) };
            self.close_txn(&mut txn, &mut segs, validator, group.as_mut(), b, l);
            if let Some(gs) = group.take() {
                let p = pos(l, b, None);
                self.err("X12E032", "functional group has no GE trailer", p, Some("AK905:3".into()));
                let mut gs = gs;
                gs.codes.push(3);
                groups += 1;
                self.end_group(gs, None);
            }
            self.err(
                "X12E022",
                "the interchange ends without an IEA trailer",
                pos(l, b, None),
                Some("TA105:023".into()),
            );
            codes.push("023".into());
            if resume.0 >= input.len() {
                resume = (input.len(), tok.line);
            }
        }
        let status = if codes.is_empty() { AckStatus::Accepted } else { AckStatus::Rejected };
        let result = InterchangeResult {
            status,
            note_code: codes.first().cloned().unwrap_or_else(|| "000".into()),
            codes,
            groups,
            declared_groups,
        };
        (self.on)(X12Event::InterchangeEnd(&header, &result));
        resume
    }

    fn missing_ge(&mut self, mut gs: GroupState, seg: &Segment<'_>) {
        self.err(
            "X12E032",
            "functional group has no GE trailer",
            pos(seg.line, seg.byte, None),
            Some("AK905:3".into()),
        );
        gs.codes.push(3);
        self.end_group(gs, None);
    }

    fn end_group(&mut self, gs: GroupState, declared: Option<usize>) {
        self.out.groups += 1;
        let status = if !gs.codes.is_empty() || (gs.accepted == 0 && gs.received > 0) {
            AckStatus::Rejected
        } else if gs.accepted < gs.received {
            AckStatus::PartiallyAccepted
        } else {
            AckStatus::Accepted
        };
        let result = GroupResult { status, declared, received: gs.received, accepted: gs.accepted, codes: gs.codes };
        (self.on)(X12Event::GroupEnd(&gs.header, &result));
    }

    /// Check an envelope segment (GS, GE, IEA, TA1, ISB, ISE) against the envelope dictionary.
    fn check_envelope_segment(&mut self, seg: &Segment<'_>, codes: &mut Vec<String>) {
        let Some(def) = seg_id(seg.id()).and_then(|i| self.g.x12.envelope.get(i)) else { return };
        let mut errs: Vec<ElementError> = Vec::new();
        check_elements(seg, def, &mut errs);
        for e in errs {
            self.err(
                "X12E036",
                format!(
                    "{}{:02}: {}{}",
                    seg.id_str(),
                    e.position,
                    element_text(e.code),
                    e.bad_data.as_deref().map(|b| format!(" ({b:?})")).unwrap_or_default()
                ),
                pos(seg.line, seg.byte, None),
                Some("TA105:024".into()),
            );
            if !codes.iter().any(|c| c == "024") {
                codes.push("024".into());
            }
        }
    }

    /// A set is cut short by another envelope segment or the end of the file (no SE).
    fn close_txn<'a>(
        &mut self,
        txn: &mut Option<TxnState>,
        segs: &mut Vec<Segment<'a>>,
        validator: &mut StructureValidator<'_>,
        group: Option<&mut GroupState>,
        byte: usize,
        line: usize,
    ) {
        if let Some(t) = txn.as_mut() {
            self.err(
                "X12E040",
                format!("transaction set {} {} has no SE trailer", t.set, t.control_number),
                pos(line, byte, None),
                Some("AK502:2".into()),
            );
            t.codes.push(2);
            self.finish_txn(txn, segs, validator, group, false, byte, line);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_txn<'a>(
        &mut self,
        txn: &mut Option<TxnState>,
        segs: &mut Vec<Segment<'a>>,
        validator: &mut StructureValidator<'_>,
        group: Option<&mut GroupState>,
        _with_se: bool,
        _byte: usize,
        _line: usize,
    ) {
        let Some(mut t) = txn.take() else { return };
        if self.opts.validate {
            if let Some(last) = segs.last() {
                validator.finish(last, &mut t.errors);
                cap_segment_errors(&mut t);
            }
        }
        self.dropped += t.dropped;
        // CBP's own sets (`authority = "cbp"`): CBP's word is never dropped. A code value not in
        // our list (AK403 7, e.g. an X407 disposition CBP added) is a warning `X12W066` naming
        // the code, line and segment; the set is applied and acknowledged "accepted, errors
        // noted" (AK5 E with its AK3/AK4), never rejected. Every other finding keeps its error.
        let lenient = |e: &SegmentError| t.cbp && e.code == 8 && e.elements.iter().all(|el| el.code == 7);
        for e in &t.errors {
            let p = pos(e.line, e.byte, Some(e.position));
            if lenient(e) {
                for el in &e.elements {
                    self.warn(
                        "X12W066",
                        format!(
                            "{}{:02}{}: code {} is not in our list; CBP's {} set is applied, not rejected",
                            e.segment_id,
                            el.position,
                            el.reference.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
                            el.bad_data.as_deref().map(|b| format!("{b:?}")).unwrap_or_default(),
                            t.set
                        ),
                        p,
                    );
                }
                continue;
            }
            if e.code != 8 {
                self.err(
                    segment_code(e.code),
                    format!("{}: {}", e.segment_id, segment_text(e.code)),
                    p,
                    Some(format!("AK304:{}", e.code)),
                );
            }
            for el in &e.elements {
                self.err(
                    element_code(el.code),
                    format!(
                        "{}{:02}{}: {}{}",
                        e.segment_id,
                        el.position,
                        el.reference.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
                        element_text(el.code),
                        el.bad_data.as_deref().map(|b| format!(": {b:?}")).unwrap_or_default()
                    ),
                    p,
                    Some(format!("AK403:{}", el.code)),
                );
            }
        }
        let rejecting = t.errors.iter().any(|e| !lenient(e));
        if rejecting && !t.codes.contains(&5) {
            t.codes.push(5);
        }
        let status = if !t.codes.is_empty() {
            AckStatus::Rejected
        } else if t.errors.is_empty() {
            AckStatus::Accepted
        } else {
            AckStatus::AcceptedWithErrors
        };
        let fid = group.as_ref().map(|g| g.header.functional_id.clone()).unwrap_or_default();
        // File-absolute positions in what the set hands over (the diagnostics above got the
        // origin in `diag`); validation, which indexes the buffer, is done.
        if self.origin > 0 {
            for s in segs.iter_mut() {
                s.byte += self.origin;
            }
            for e in t.errors.iter_mut() {
                e.byte += self.origin;
            }
        }
        let tx = Transaction {
            set: t.set,
            control_number: t.control_number,
            implementation: t.implementation,
            version: t.version,
            grammar_version: t.grammar_version,
            functional_id: fid,
            known: t.known,
            segments: segs.as_slice(),
            result: TransactionResult { status, codes: t.codes, segment_errors: t.errors },
        };
        self.out.transactions += 1;
        (self.on)(X12Event::Transaction(&tx));
        if let Some(g) = group {
            g.received += 1;
            if status != AckStatus::Rejected {
                g.accepted += 1;
            }
        }
        segs.clear();
    }
}

fn date6() -> crate::grammar::x12::ElementDef {
    crate::grammar::x12::ElementDef {
        req: crate::grammar::x12::Req::M,
        ty: crate::grammar::x12::ElemType::DT,
        min: 6,
        max: 6,
        reference: "I08".into(),
        codes: None,
        code_list: None,
        repeat: 1,
        name: None,
    }
}

fn time4() -> crate::grammar::x12::ElementDef {
    crate::grammar::x12::ElementDef {
        ty: crate::grammar::x12::ElemType::TM,
        min: 4,
        max: 4,
        reference: "I09".into(),
        ..date6()
    }
}
