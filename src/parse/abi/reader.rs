//! The ABI reader's engine: framing 80-byte images (lines or a stream), the batch/block
//! envelope state machine, transaction grouping and field checks.

use super::value::{self, FieldFault};
use super::{AbiEvent, Record, Transaction};
use crate::entry_number::EntryNumber;
use crate::grammar::abi::{AbiGrammars, AppGrammar, FieldClass, RecordDef};
use crate::parse::error::{Diagnostic, Position, Severity};
use nom::bytes::complete::{take, take_till};
use nom::{IResult, Parser};
use std::borrow::Cow;

// Most diagnostics kept for one file (a garbage file must not use unbounded memory).
use crate::parse::error::MAX_DIAGNOSTICS;

fn line(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_till(|c| c == b'\n').parse(i)
}

fn image80(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take(80usize).parse(i)
}

/// One framed image before checks.
struct Framed<'a> {
    /// The record's bytes: all of them when it is at most 80 long, else at least its first 80.
    bytes: Cow<'a, [u8]>,
    /// The record's length as read (its line without the line break).
    len: usize,
    line: usize,
    byte: usize,
}

impl<'a> Framed<'a> {
    fn borrowed(bytes: &'a [u8], line: usize, byte: usize) -> Framed<'a> {
        Framed { bytes: Cow::Borrowed(bytes), len: bytes.len(), line, byte }
    }
}

/// Split the input into images: newline-separated when a LF appears within the first
/// 160 bytes, else a continuous stream of 80-byte images.
fn frames<'a>(input: &'a [u8], mut each: impl FnMut(Framed<'a>, bool)) {
    let lines = input.iter().take(161).any(|&c| c == b'\n');
    let mut rest = input;
    let mut line_no = 1usize;
    if lines {
        while !rest.is_empty() {
            let byte = input.len() - rest.len();
            // Fast path: an 80-byte record followed by LF or CRLF, with no LF inside.
            let fast = rest.get(..80).filter(|r| !r.contains(&b'\n')).and_then(|r| match rest.get(80..82) {
                Some([b'\n', _]) | Some([b'\n']) => Some((r, 81)),
                Some([b'\r', b'\n']) => Some((r, 82)),
                _ if rest.get(80) == Some(&b'\n') => Some((r, 81)),
                _ => None,
            });
            if let Some((r, used)) = fast {
                rest = rest.get(used..).unwrap_or_default();
                each(Framed::borrowed(r, line_no, byte), rest.is_empty());
                line_no += 1;
                continue;
            }
            let Ok((after, l)) = line(rest) else { break };
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            rest = after.strip_prefix(b"\n").unwrap_or(after);
            each(Framed::borrowed(l, line_no, byte), rest.is_empty());
            line_no += 1;
        }
    } else {
        // A stream may still end with one line break.
        let trimmed = input.strip_suffix(b"\n").unwrap_or(input);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        rest = trimmed;
        while !rest.is_empty() {
            let byte = trimmed.len() - rest.len();
            match image80(rest) {
                Ok((after, img)) => {
                    rest = after;
                    each(Framed::borrowed(img, 1, byte), rest.is_empty());
                }
                Err(_) => {
                    each(Framed::borrowed(rest, 1, byte), true);
                    break;
                }
            }
        }
    }
}

/// Bytes read ahead of the framer at most (plus one record head): the memory of
/// [`frames_read`] whatever the file's size or line lengths.
const READ_AHEAD: usize = 64 * 1024;

/// A read-ahead buffer over a reader: what is left of the input from `consumed` on.
struct Input<'r> {
    r: &'r mut dyn std::io::Read,
    buf: Vec<u8>,
    start: usize,
    eof: bool,
    consumed: usize,
}

impl Input<'_> {
    fn avail(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    /// Read until at least `want` bytes are available (`want` at most [`READ_AHEAD`]) or the input ends.
    fn fill(&mut self, want: usize) -> std::io::Result<()> {
        while !self.eof && self.avail().len() < want {
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let have = self.buf.len();
            self.buf.resize(have + READ_AHEAD, 0);
            let n = loop {
                match self.r.read(self.buf.get_mut(have..).unwrap_or_default()) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.buf.truncate(have);
                        return Err(e);
                    }
                }
            };
            self.buf.truncate(have + n);
            self.eof = n == 0;
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.avail().len());
        self.start += n;
        self.consumed += n;
    }
}

/// [`frames`] over a reader: the same images, line numbers, offsets and `last` flags, holding at
/// most [`READ_AHEAD`] bytes of input and the first 81 bytes of a record (a longer record is
/// counted, not kept: ABIE003 needs its length and first 80 columns only).
fn frames_read<'a>(r: &mut dyn std::io::Read, mut each: impl FnMut(Framed<'a>, bool)) -> std::io::Result<()> {
    let mut input = Input { r, buf: Vec::new(), start: 0, eof: false, consumed: 0 };
    input.fill(161)?;
    let lines = input.avail().iter().take(161).any(|&c| c == b'\n');
    if lines {
        let mut line_no = 1usize;
        loop {
            input.fill(1)?;
            if input.avail().is_empty() {
                break;
            }
            let byte = input.consumed;
            let mut head: Vec<u8> = Vec::with_capacity(81);
            let (mut len, mut last_byte) = (0usize, None);
            loop {
                input.fill(1)?;
                let a = input.avail();
                if a.is_empty() {
                    break;
                }
                let (part, used, nl) = match a.iter().position(|&c| c == b'\n') {
                    Some(i) => (a.get(..i).unwrap_or_default(), i + 1, true),
                    None => (a, a.len(), false),
                };
                let room = 81usize.saturating_sub(head.len());
                head.extend_from_slice(part.get(..room.min(part.len())).unwrap_or_default());
                len += part.len();
                if let Some(&b) = part.last() {
                    last_byte = Some(b);
                }
                input.consume(used);
                if nl {
                    break;
                }
            }
            if last_byte == Some(b'\r') {
                len -= 1;
                head.truncate(len);
            }
            input.fill(1)?;
            let last = input.avail().is_empty();
            each(Framed { bytes: Cow::Owned(head), len, line: line_no, byte }, last);
            line_no += 1;
        }
    } else {
        let mut byte = 0usize;
        loop {
            input.fill(83)?;
            let a = input.avail();
            if a.len() >= 83 {
                let img = a.get(..80).unwrap_or_default().to_vec();
                each(Framed { bytes: Cow::Owned(img), len: 80, line: 1, byte }, false);
                input.consume(80);
                byte += 80;
                continue;
            }
            // The end of the input: what is left, less one final line break.
            let t = a.strip_suffix(b"\n").unwrap_or(a);
            let mut rest = t.strip_suffix(b"\r").unwrap_or(t);
            while !rest.is_empty() {
                let n = rest.len().min(80);
                let img = rest.get(..n).unwrap_or_default();
                rest = rest.get(n..).unwrap_or_default();
                each(Framed { bytes: Cow::Owned(img.to_vec()), len: n, line: 1, byte }, rest.is_empty());
                byte += n;
            }
            break;
        }
    }
    Ok(())
}

struct Block<'a> {
    b: Record<'a>,
    app_id: String,
    app: Option<&'a AppGrammar>,
    images: usize,
}

struct Batch<'a> {
    a: Record<'a>,
}

struct State<'a, 'f> {
    g: &'a AbiGrammars,
    on: &'f mut dyn FnMut(AbiEvent<'_, '_>),
    diags: Vec<Diagnostic>,
    dropped: usize,
    /// Of the dropped diagnostics, the errors: one is enough to keep the file from being
    /// applied, kept or not.
    dropped_errors: usize,
    /// The open transaction's diagnostics past the cap: (all, envelope or framing errors).
    tx_dropped: (usize, usize),
    batch: Option<Batch<'a>>,
    block: Option<Block<'a>>,
    warned_no_batch: bool,
    outside_run: bool,
    tx: Transaction<'a>,
    tx_open: bool,
    tx_grammar: Option<&'a AppGrammar>,
    tx_def: Option<usize>,
    seen: Vec<bool>,
    count: Vec<u32>,
    records: usize,
}

fn pos(r: &Record<'_>, col: usize) -> Position {
    Position { line: r.line, byte: r.byte + col, segment: None, record: Some(r.index) }
}

fn is_envelope_id(c: u8) -> bool {
    matches!(c, b'A' | b'B' | b'Y' | b'Z')
}

pub(super) fn run<'a>(bytes: &'a [u8], g: &'a AbiGrammars, on: &mut dyn FnMut(AbiEvent<'_, '_>)) -> Vec<Diagnostic> {
    let mut feed = |each: &mut dyn FnMut(Framed<'a>, bool)| {
        frames(bytes, each);
        Ok(())
    };
    run_frames(g, on, &mut feed).unwrap_or_default()
}

/// [`run`] over a reader, holding one transaction (and the envelope records around it) at a time.
pub(super) fn run_read<'a>(
    r: &mut dyn std::io::Read,
    g: &'a AbiGrammars,
    on: &mut dyn FnMut(AbiEvent<'_, '_>),
) -> std::io::Result<Vec<Diagnostic>> {
    let mut feed = |each: &mut dyn FnMut(Framed<'a>, bool)| frames_read(r, each);
    run_frames(g, on, &mut feed)
}

type Feed<'x, 'a> = dyn FnMut(&mut dyn FnMut(Framed<'a>, bool)) -> std::io::Result<()> + 'x;

fn run_frames<'a>(
    g: &'a AbiGrammars,
    on: &mut dyn FnMut(AbiEvent<'_, '_>),
    feed: &mut Feed<'_, 'a>,
) -> std::io::Result<Vec<Diagnostic>> {
    let mut st = State {
        g,
        on,
        diags: Vec::new(),
        dropped: 0,
        dropped_errors: 0,
        tx_dropped: (0, 0),
        batch: None,
        block: None,
        warned_no_batch: false,
        outside_run: false,
        tx: Transaction::default(),
        tx_open: false,
        tx_grammar: None,
        tx_def: None,
        seen: Vec::new(),
        count: Vec::new(),
        records: 0,
    };
    let mut pending_blank: Option<Position> = None;
    feed(&mut |f, last| {
        if f.len == 0 {
            if !last {
                pending_blank = Some(Position { line: f.line, byte: f.byte, segment: None, record: None });
            }
            return;
        }
        if let Some(p) = pending_blank.take() {
            st.push(Diagnostic::warning("ABIE006", "empty line between records (ignored)", p));
        }
        st.image(f, last);
    })?;
    st.finish();
    if st.dropped > 0 {
        st.diags.push(crate::parse::error::not_kept("ABIE099", st.dropped));
    }
    if st.dropped_errors > 0 {
        st.diags.push(crate::parse::error::errors_not_kept("ABIE098", st.dropped_errors));
    }
    Ok(st.diags)
}

impl<'a, 'f> State<'a, 'f> {
    fn push(&mut self, d: Diagnostic) {
        if self.diags.len() < MAX_DIAGNOSTICS {
            self.diags.push(d);
        } else {
            self.dropped += 1;
            self.dropped_errors += usize::from(d.is_error() && envelope_fault(&d.code));
        }
    }

    /// A diagnostic about a record: into the open transaction when there is one.
    fn tx_push(&mut self, d: Diagnostic) {
        if self.tx_open {
            if self.tx.diagnostics.len() < MAX_DIAGNOSTICS {
                self.tx.diagnostics.push(d);
            } else {
                self.tx_dropped.0 += 1;
                self.tx_dropped.1 += usize::from(d.is_error() && envelope_fault(&d.code));
            }
        } else {
            self.push(d);
        }
    }

    /// Frame checks (length, characters) and building the 80-byte record.
    fn image(&mut self, f: Framed<'a>, last: bool) {
        self.records += 1;
        let index = self.records;
        let p = Position { line: f.line, byte: f.byte, segment: None, record: Some(index) };
        let mut early = Vec::new();
        let mut img: Cow<'a, [u8]> = f.bytes;
        if f.len < 80 {
            let what = if last { "X42 LAST RECORD LESS THAN 80-CHAR LENGTH" } else { "short record" };
            early.push(Diagnostic::warning(
                "ABIE002",
                format!("{what}: {} characters, padded with spaces to 80", f.len),
                p,
            ));
            let mut v = img.into_owned();
            v.resize(80, b' ');
            img = Cow::Owned(v);
        } else if f.len > 80 {
            early.push(Diagnostic::error(
                "ABIE003",
                format!("record longer than 80 characters ({}); columns after 80 ignored", f.len),
                p,
            ));
            img = match img {
                Cow::Borrowed(b) => Cow::Borrowed(b.get(..80).unwrap_or(b)),
                Cow::Owned(mut v) => {
                    v.truncate(80);
                    Cow::Owned(v)
                }
            };
        }
        // One branch-free pass for both checks; positions only when something is wrong.
        let (bad, lower) =
            img.iter().fold((false, false), |(b, l), &c| (b | !(0x20..0x7f).contains(&c), l | c.is_ascii_lowercase()));
        if let Some(i) = img.iter().position(|&c| bad && !(0x20..0x7f).contains(&c)) {
            let b = img.get(i).copied().unwrap_or(0);
            early.push(Diagnostic::error(
                "ABIE004",
                format!("X40 NON-STANDARD DATA: non-printable byte 0x{b:02X} at column {}", i + 1),
                Position { byte: f.byte + i, ..p },
            ));
        }
        if lower {
            early.push(Diagnostic::warning(
                "ABIE005",
                "X40 NON-STANDARD DATA: lowercase letters (read as uppercase)",
                p,
            ));
            img = Cow::Owned(img.to_ascii_uppercase());
        }
        let rec = Record { name: "?", def: None, index, line: f.line, byte: f.byte, image: img };
        self.record(rec, early);
    }

    fn record(&mut self, mut rec: Record<'a>, early: Vec<Diagnostic>) {
        let first = rec.image.first().copied().unwrap_or(b' ');
        if is_envelope_id(first) {
            if let Some(i) = self.g.envelope.lookup(&rec.image) {
                if let Some(def) = self.g.envelope.records.get(i) {
                    rec.name = def.name.as_str();
                    rec.def = Some(def);
                    for d in early {
                        self.push(d);
                    }
                    let mut field_diags = Vec::new();
                    check_fields(self.g, &rec, &mut field_diags);
                    for d in field_diags {
                        self.push(d);
                    }
                    match first {
                        b'A' => self.batch_header(rec),
                        b'B' => self.block_header(rec),
                        b'Y' => self.block_trailer(rec),
                        _ => self.batch_trailer(rec),
                    }
                    return;
                }
            }
        }
        self.body(rec, early);
    }

    fn close_block(&mut self, trailer: Option<Record<'a>>, at: Position) {
        self.flush();
        if self.block.is_some() && trailer.is_none() {
            self.push(Diagnostic::error("ABIE044", "X05 block trailer (Y) missing", at));
        }
        self.block = None;
        (self.on)(AbiEvent::BlockEnd(trailer.as_ref()));
    }

    fn batch_header(&mut self, a: Record<'a>) {
        let at = pos(&a, 0);
        if self.block.is_some() {
            self.close_block(None, at);
        }
        if self.batch.is_some() {
            self.push(Diagnostic::error("ABIE041", "X06 batch trailer (Z) missing before the next batch header", at));
            (self.on)(AbiEvent::BatchEnd(None));
        }
        self.outside_run = false;
        (self.on)(AbiEvent::BatchStart(&a));
        self.batch = Some(Batch { a });
    }

    fn block_header(&mut self, b: Record<'a>) {
        let at = pos(&b, 0);
        if self.block.is_some() {
            self.close_block(None, at);
        }
        if self.batch.is_none() && !self.warned_no_batch {
            self.warned_no_batch = true;
            self.push(Diagnostic::warning("ABIE040", "block without a batch header (A): read as a block extract", at));
        }
        let app_id = b.text("application_id").unwrap_or_default().to_string();
        let app = self.g.app(&app_id);
        if app.is_none() && !app_id.is_empty() {
            self.push(Diagnostic::error(
                "ABIE048",
                format!("X12 application identifier {app_id:?} is not one entrywatch has a grammar for"),
                pos(&b, 10),
            ));
        }
        if let Some(batch) = &self.batch {
            let batch_app = batch.a.text("application_id").unwrap_or_default();
            if batch_app != app_id {
                let d = Diagnostic::error(
                    "ABIE047",
                    format!("X19 block application id {app_id:?} conflicts with batch application id {batch_app:?}"),
                    pos(&b, 10),
                );
                self.push(d);
            }
        }
        self.outside_run = false;
        (self.on)(AbiEvent::BlockStart(&b));
        self.block = Some(Block { b, app_id, app, images: 0 });
    }

    fn block_trailer(&mut self, y: Record<'a>) {
        let Some(block) = self.block.take() else {
            self.push(Diagnostic::error("ABIE045", "X32 block trailer (Y) without a block header (B)", pos(&y, 0)));
            return;
        };
        self.block = Some(block);
        self.flush();
        if let Some(block) = &self.block {
            let mut faults = Vec::new();
            for f in ["port", "filer_code", "application_id"] {
                if y.raw(f) != block.b.raw(f) {
                    faults.push(f);
                }
            }
            let count = y.int("image_count");
            let images = block.images;
            if !faults.is_empty() {
                self.push(Diagnostic::error(
                    "ABIE045",
                    format!("X32 Y-record does not match B-record ({})", faults.join(", ")),
                    pos(&y, 3),
                ));
            }
            if let Some(n) = count {
                if n != images as i128 {
                    self.push(Diagnostic::error(
                        "ABIE046",
                        format!("Y image count is {n} but the block holds {images} records"),
                        pos(&y, 12),
                    ));
                }
            }
        }
        self.block = None;
        (self.on)(AbiEvent::BlockEnd(Some(&y)));
    }

    fn batch_trailer(&mut self, z: Record<'a>) {
        if self.block.is_some() {
            self.close_block(None, pos(&z, 0));
        }
        let Some(batch) = self.batch.take() else {
            self.push(Diagnostic::error("ABIE042", "X14 batch trailer (Z) without a batch header (A)", pos(&z, 0)));
            return;
        };
        let ace_generated = z.text("control_repeat") == Some("Z") && z.text("site_code").is_none();
        if !ace_generated {
            let faults: Vec<&str> =
                ["site_code", "sender_id", "office_code"].into_iter().filter(|f| z.raw(f) != batch.a.raw(f)).collect();
            if !faults.is_empty() {
                self.push(Diagnostic::error(
                    "ABIE042",
                    format!("X14 Z-record does not match A-record ({})", faults.join(", ")),
                    pos(&z, 1),
                ));
            }
            if z.raw("transmission_date") != batch.a.raw("transmission_date") {
                self.push(Diagnostic::warning(
                    "ABIE043",
                    "Z-record transmission date differs from the A-record's",
                    pos(&z, 14),
                ));
            }
        }
        (self.on)(AbiEvent::BatchEnd(Some(&z)));
    }

    fn finish(&mut self) {
        let at = Position { line: 1, byte: 0, segment: None, record: None };
        if self.records == 0 {
            self.push(Diagnostic::error("ABIE001", "no ABI records in the file", at));
            return;
        }
        if self.block.is_some() {
            let at = self.block.as_ref().map(|b| pos(&b.b, 0)).unwrap_or(at);
            self.close_block(None, at);
        }
        if let Some(b) = self.batch.take() {
            self.push(Diagnostic::error("ABIE041", "X06 batch trailer (Z) missing at end of file", pos(&b.a, 0)));
            (self.on)(AbiEvent::BatchEnd(None));
        }
    }

    /// Whether the open transaction can be tied to an entry: it names one, or its kind
    /// carries none (statement totals, batch conditions).
    fn tx_tied(&self) -> bool {
        if self.tx.entry.is_some() {
            return true;
        }
        match self.tx_def.and_then(|t| self.tx_grammar.and_then(|g| g.transactions.get(t))) {
            Some(def) => def.entry.is_none(),
            None => false,
        }
    }

    /// Emit the open transaction. The reader's policy (docs/abi.md, "CBP's word is never
    /// dropped"): what is wrong inside a transaction that can be tied to an entry is a
    /// warning, and the transaction is applied; only a transaction that cannot be tied
    /// keeps its errors (the interpreter then decides whether the file can be applied).
    fn flush(&mut self) {
        if !self.tx_open {
            return;
        }
        self.tx_open = false;
        let (all, envelope) = std::mem::take(&mut self.tx_dropped);
        self.dropped += all;
        self.dropped_errors += envelope;
        if self.tx_tied() {
            for d in self.tx.diagnostics.iter_mut().filter(|d| !framing_fault(&d.code)) {
                d.severity = Severity::Warning;
            }
        }
        (self.on)(AbiEvent::Transaction(&self.tx));
        let ds = std::mem::take(&mut self.tx.diagnostics);
        for d in ds {
            self.push(d);
        }
    }

    fn open(&mut self, grammar: Option<&'a AppGrammar>, def: Option<usize>, kind: &'a str) {
        self.flush();
        self.tx.records.clear();
        self.tx.diagnostics.clear();
        self.tx.entry = None;
        self.tx.kind = kind;
        self.tx.application.clear();
        self.tx.port.clear();
        self.tx.filer.clear();
        if let Some(b) = &self.block {
            self.tx.application.push_str(&b.app_id);
            self.tx.port.push_str(b.b.text("port").unwrap_or_default());
            self.tx.filer.push_str(b.b.text("filer_code").unwrap_or_default());
        }
        self.tx_open = true;
        self.tx_grammar = grammar;
        self.tx_def = def;
        let n = grammar.map_or(0, |g| g.records.len());
        self.seen.clear();
        self.seen.resize(n, false);
        self.count.clear();
        self.count.resize(n, 0);
    }

    /// A transaction record (anything but A/B/Y/Z).
    fn body(&mut self, mut rec: Record<'a>, early: Vec<Diagnostic>) {
        let Some(block) = &mut self.block else {
            for d in early {
                self.push(d);
            }
            if !self.outside_run {
                self.outside_run = true;
                let d =
                    Diagnostic::error("ABIE049", "X03 record outside a block (no B-record before it)", pos(&rec, 0));
                self.push(d);
            }
            return;
        };
        block.images += 1;
        let app = block.app;
        let env = &self.g.envelope;
        let hit =
            app.and_then(|a| a.lookup(&rec.image).map(|i| (a, i))).or_else(|| env.lookup(&rec.image).map(|i| (env, i)));
        let Some((gram, i)) = hit else {
            if !self.tx_open {
                self.open(None, None, "unknown");
            }
            for d in early {
                self.tx_push(d);
            }
            let id = String::from_utf8_lossy(rec.image.get(..2).unwrap_or_default()).into_owned();
            // Kept verbatim in the transaction; never a reason to refuse the file.
            self.tx_push(Diagnostic::warning(
                "ABIE010",
                format!(
                    "X34 unknown record identifier {id:?} for application {:?}; kept verbatim: {:?}",
                    self.tx.application,
                    String::from_utf8_lossy(&rec.image).trim_end()
                ),
                pos(&rec, 0),
            ));
            self.tx.records.push(rec);
            return;
        };
        let Some(def) = gram.records.get(i) else { return };
        rec.name = def.name.as_str();
        rec.def = Some(def);
        let same_grammar = self.tx_grammar.is_some_and(|g| std::ptr::eq(g, gram));
        match gram.starts.get(i).copied().flatten() {
            Some(t) => {
                let run = gram.transactions.get(t).is_some_and(|d| d.run);
                if !(run && self.tx_open && same_grammar && self.tx_def == Some(t)) {
                    let kind = gram.transactions.get(t).map_or("unknown", |d| d.kind.as_str());
                    self.open(Some(gram), Some(t), kind);
                }
            }
            None if !self.tx_open || !same_grammar => {
                self.open(Some(gram), None, "incomplete");
                self.tx_push(Diagnostic::error(
                    "ABIE013",
                    format!(
                        "X35 record {} does not belong after the records before it: no transaction start",
                        def.name
                    ),
                    pos(&rec, 0),
                ));
            }
            None => {}
        }
        for d in early {
            self.tx_push(d);
        }
        // Grouping: parent present, repeat limit.
        if let Some(p) = gram.parent.get(i).copied().flatten() {
            if !self.seen.get(p).copied().unwrap_or(false) {
                let pname = gram.records.get(p).map_or("?", |r| r.name.as_str());
                self.tx_push(Diagnostic::error(
                    "ABIE011",
                    format!("X35 OUT-OF-SEQUENCE RECORD: {} must follow a {pname} record", def.name),
                    pos(&rec, 0),
                ));
            }
        }
        if let Some(c) = self.count.get_mut(i) {
            *c += 1;
            let c = *c;
            if def.max > 0 && c > def.max {
                self.tx_push(Diagnostic::error(
                    "ABIE012",
                    format!("record {} repeats {c} times (at most {} allowed here)", def.name, def.max),
                    pos(&rec, 0),
                ));
            }
        }
        if let Some(s) = self.seen.get_mut(i) {
            *s = true;
        }
        if let Some(kids) = gram.children.get(i) {
            for &k in kids {
                if let Some(c) = self.count.get_mut(k) {
                    *c = 0;
                }
            }
        }
        let mut field_diags = Vec::new();
        check_fields(self.g, &rec, &mut field_diags);
        for d in field_diags {
            self.tx_push(d);
        }
        self.entry_of(gram, &rec);
        self.tx.records.push(rec);
    }

    /// Take the entry number from the record the transaction's grammar names.
    fn entry_of(&mut self, gram: &'a AppGrammar, rec: &Record<'a>) {
        let Some(e) = self.tx_def.and_then(|t| gram.transactions.get(t)).and_then(|t| t.entry.as_ref()) else {
            return;
        };
        if e.record != rec.name || self.tx.entry.is_some() {
            return;
        }
        let (Some(filer), Some(number)) = (rec.text(&e.filer), rec.text(&e.number)) else {
            return;
        };
        let col = rec.def.and_then(|d| d.field(&e.number)).map_or(0, |f| f.start.saturating_sub(1));
        match EntryNumber::from_parts(filer, number) {
            Ok(n) => {
                if !n.check_ok() {
                    let want = crate::entry_number::check_digit(&n.filer, &n.number).unwrap_or(0);
                    self.tx_push(Diagnostic::warning(
                        "ABIE030",
                        format!("entry number {n}: check digit {} but Appendix E gives {want}", n.check),
                        pos(rec, col),
                    ));
                }
                self.tx.entry = Some(n);
            }
            Err(_) => self.tx_push(Diagnostic::error(
                "ABIE031",
                format!("{filer:?} + {number:?} is not a valid entry number"),
                pos(rec, col),
            )),
        }
    }
}

/// A record the transport damaged (longer than 80 columns, a control byte in it): the file's
/// framing is broken, whatever transaction the record is in, and it stays an error.
/// Reader codes about the file's envelope or framing (a record longer than 80 columns or with a
/// control byte in it, a broken batch or block, an envelope error past the diagnostics cap):
/// these make a file unreadable as a whole (docs/abi.md). Every other reader finding is about
/// one transaction.
pub fn envelope_fault(code: &str) -> bool {
    matches!(
        code,
        "ABIE001"
            | "ABIE003"
            | "ABIE004"
            | "ABIE041"
            | "ABIE042"
            | "ABIE044"
            | "ABIE045"
            | "ABIE046"
            | "ABIE047"
            | "ABIE048"
            | "ABIE049"
            | "ABIE098"
    )
}

pub(super) fn framing_fault(code: &str) -> bool {
    matches!(code, "ABIE003" | "ABIE004")
}

/// Check every field of a known record against its class, mandatory flag and code list.
fn check_fields(g: &AbiGrammars, rec: &Record<'_>, out: &mut Vec<Diagnostic>) {
    let Some(def) = rec.def else { return };
    check_record_fields(g, def, rec, out);
}

fn check_record_fields(g: &AbiGrammars, def: &RecordDef, rec: &Record<'_>, out: &mut Vec<Diagnostic>) {
    for f in &def.fields {
        if f.class == FieldClass::X && !f.mandatory && f.code_set.is_none() {
            continue; // printable already checked for the whole record
        }
        let Some(raw) = rec.image.get(f.range()) else { continue };
        let at = pos(rec, f.start.saturating_sub(1));
        match value::check(raw, f.class) {
            Ok(true) => {
                if f.mandatory {
                    out.push(Diagnostic::error(
                        "ABIE020",
                        format!("{} {}: mandatory field is blank", def.name, f.name),
                        at,
                    ));
                }
            }
            Ok(false) => {
                if let Some(set) = f.code_set {
                    let code = raw.trim_ascii();
                    if !g.code_in(set, code) {
                        let code = String::from_utf8_lossy(code);
                        let list = f.codes.as_deref().unwrap_or_default();
                        out.push(Diagnostic::warning(
                            "ABIE025",
                            format!("{} {}: code {code} is not in {list}; meaning unknown", def.name, f.name),
                            at,
                        ));
                    }
                }
            }
            Err(FieldFault::Filler) => out.push(Diagnostic::warning(
                "ABIE023",
                format!("X39 DATA FOUND IN FILLER: {} columns {}-{}", def.name, f.start, f.start + f.length - 1),
                at,
            )),
            Err(FieldFault::Lowercase) => {}
            Err(FieldFault::Date) => out.push(Diagnostic::error(
                "ABIE022",
                format!("{} {}: {:?} is not a MMDDYY date", def.name, f.name, String::from_utf8_lossy(raw)),
                at,
            )),
            Err(FieldFault::Class) => {
                if raw.iter().any(|c| !(0x20..0x7f).contains(c)) {
                    continue; // already ABIE004 for the record
                }
                let (code, sev) = match f.class {
                    // Punctuation in AN is common in broker data: a warning.
                    FieldClass::AN | FieldClass::A => ("ABIE024", Severity::Warning),
                    _ => ("ABIE021", Severity::Error),
                };
                out.push(Diagnostic::new(
                    code,
                    sev,
                    format!(
                        "X40 NON-STANDARD DATA: {} {} ({:?}) does not fit class {:?}",
                        def.name,
                        f.name,
                        String::from_utf8_lossy(raw),
                        f.class
                    ),
                    at,
                ));
            }
        }
    }
}
