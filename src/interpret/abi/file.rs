//! One pass over an ABI file: the reader's events routed to the block of each application,
//! transactions tied to their entries, and the reader's findings kept on the entry.

use super::ae::Ae;
use super::ax::Ax;
use super::cx::{Cx, Place};
use super::er::Er;
use super::ms::Ms;
use super::pf::Pf;
use super::so::So;
use super::uc::Uc;
use crate::domain::{Fact, FactKind};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::interpret::{FileContext, Interpretation};
use crate::parse::abi::{self, AbiEvent, Record};
use crate::parse::error::Diagnostic;

/// What a block's records add up to while the block is read.
enum Block {
    Ae(Ae),
    Ax(Ax),
    Uc(Uc),
    So(So),
    Pf(Pf),
    Ms(Ms),
    Er(Er),
    /// An application entrywatch does not interpret (reported at the B-record).
    Skip,
}

impl Block {
    fn start(cx: &mut Cx<'_, '_>, b: &Record<'_>, app: &str) -> Block {
        match app {
            "AE" => Block::Ae(Ae::default()),
            "AX" => Block::Ax(Ax::default()),
            "UC" => Block::Uc(Uc::default()),
            "SO" => Block::So(So::default()),
            "PF" => Block::Pf(Pf::start(cx, b)),
            "MS" => Block::Ms(Ms::start(cx, b)),
            "ER" => Block::Er(Er::default()),
            other => {
                cx.err("I207", format!("application {other:?} is not interpreted by entrywatch"), Place::of(b));
                Block::Skip
            }
        }
    }
    fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        match self {
            Block::Ae(s) => s.record(cx, r),
            Block::Ax(s) => s.record(cx, r),
            Block::Uc(s) => s.record(cx, r),
            Block::So(s) => s.record(cx, r),
            Block::Pf(s) => s.record(cx, r),
            Block::Ms(s) => s.record(cx, r),
            Block::Er(s) => s.record(cx, r),
            Block::Skip => {}
        }
    }
    fn finish(self, cx: &mut Cx<'_, '_>) {
        match self {
            Block::Ae(s) => s.finish(cx),
            Block::Uc(s) => s.finish(cx),
            Block::Pf(s) => s.finish(cx),
            Block::Ms(s) => s.finish(cx),
            Block::Er(s) => s.finish(cx),
            Block::Ax(_) | Block::So(_) | Block::Skip => {}
        }
    }
}

/// An open block: its state, application, B-record place, and how much output preceded it.
struct Open {
    block: Block,
    app: String,
    b: Place,
    marks: (usize, usize, usize),
}

/// Interpret an ABI file in one pass of the reader. When the reader finds an error the result holds
/// only the reader's diagnostics (no facts); otherwise the facts, this module's diagnostics, then the
/// reader's (warnings).
pub(super) fn run(bytes: &[u8], ctx: &FileContext<'_>, grammars: &Grammars) -> Interpretation {
    let mut read = |on: &mut dyn FnMut(AbiEvent<'_, '_>)| Ok(abi::read(bytes, grammars, on));
    run_with(&mut read, ctx, grammars, None).unwrap_or_default()
}

/// Where the facts of a streamed pass go, a transaction at a time (see [`run_with`]).
pub type FactSink<'s> = dyn FnMut(Vec<(EntryNumber, Fact)>) + 's;

type Source<'s> = dyn FnMut(&mut dyn FnMut(AbiEvent<'_, '_>)) -> std::io::Result<Vec<Diagnostic>> + 's;

/// [`run`] over any source of reader events. With a `sink`, the facts are handed over after each
/// transaction (and block end) instead of kept: the result then holds no facts, and memory
/// holds one transaction's. A block cut short takes its facts back only while they are kept:
/// the validation pass hands them to a sink that counts nothing, and the apply pass streams only
/// a file the validation pass found clean (where no block is cut short).
pub(super) fn run_with(
    read_events: &mut Source<'_>,
    ctx: &FileContext<'_>,
    grammars: &Grammars,
    mut sink: Option<&mut FactSink<'_>>,
) -> std::io::Result<Interpretation> {
    let mut cx = Cx { ctx, grammars, out: Interpretation::default(), batch_date: None, loose: Vec::new() };
    // Facts already handed to the sink.
    let mut drained = 0usize;
    let mut drain = |cx: &mut Cx<'_, '_>, drained: &mut usize| {
        if let Some(s) = sink.as_mut() {
            if !cx.out.facts.is_empty() {
                let v = std::mem::take(&mut cx.out.facts);
                *drained += v.len();
                s(v);
            }
        }
    };
    let mut open: Option<Open> = None;
    let (mut saw_a, mut saw_z, mut stop) = (false, false, false);
    let mut untied = 0usize;
    let mut last = Place { line: 1, byte: 0, index: 1 };
    let read = read_events(&mut |ev| {
        if stop {
            return;
        }
        match ev {
            AbiEvent::BatchStart(a) => {
                last = Place::of(a);
                saw_a = true;
                saw_z = false;
                cx.batch_date = cx.date(a, "transmission_date", "transmission date");
            }
            AbiEvent::BatchEnd(z) => {
                if let Some(z) = z {
                    last = Place::of(z);
                    saw_z = true;
                }
            }
            AbiEvent::BlockStart(b) => {
                last = Place::of(b);
                if !saw_a {
                    cx.err("I202", "an ABI file starts with an A batch header record", Place::of(b));
                    stop = true;
                    return;
                }
                let app = cx.string(b, "application_id");
                let marks = (drained + cx.out.facts.len(), cx.out.monthly.len(), cx.out.diagnostics.len());
                let block = Block::start(&mut cx, b, &app);
                open = Some(Open { block, app, b: Place::of(b), marks });
            }
            AbiEvent::Transaction(t) => {
                if let Some(r) = t.records.last() {
                    last = Place::of(r);
                }
                if !t.ok() {
                    // The reader keeps errors only in a transaction that cannot be tied to an
                    // entry: nothing in it can be applied.
                    untied += 1;
                    return;
                }
                let mark = cx.out.diagnostics.len();
                let facts_before = cx.out.facts.len();
                // A record without a layout was kept verbatim and reported by the reader (ABIE010).
                for r in t.records.iter().filter(|r| r.def.is_some()) {
                    if let Some(o) = open.as_mut() {
                        o.block.record(&mut cx, r);
                    }
                }
                findings(&mut cx, t, mark, facts_before);
                drain(&mut cx, &mut drained);
            }
            AbiEvent::BlockEnd(y) => {
                let Some(o) = open.take() else { return };
                match y {
                    Some(y) => {
                        last = Place::of(y);
                        o.block.finish(&mut cx);
                        let y_app = cx.string(y, "application_id");
                        if y_app != o.app {
                            cx.err("I210", format!("block {} ends with a Y for {y_app:?}", o.app), Place::of(y));
                        }
                        drain(&mut cx, &mut drained);
                    }
                    None => {
                        // A block cut short is not interpreted at all, nor anything after it.
                        // Facts of this block already handed over are taken back from the count.
                        cx.out.facts.truncate(o.marks.0.saturating_sub(drained));
                        drained = drained.min(o.marks.0);
                        cx.out.monthly.truncate(o.marks.1);
                        cx.out.diagnostics.truncate(o.marks.2);
                        cx.err("I210", format!("block {} has no Y trailer", o.app), o.b);
                        stop = true;
                    }
                }
            }
        }
    })?;
    drain(&mut cx, &mut drained);
    let envelope_broken = read.iter().any(|d| d.is_error() && crate::parse::abi::envelope_fault(&d.code));
    let applied = drained > 0 || !cx.out.facts.is_empty() || !cx.out.monthly.is_empty();
    if envelope_broken || (untied > 0 && !applied) {
        // A broken envelope, or nothing in the file can be tied to an entry: no facts, only
        // what the reader found (the file is quarantined).
        return Ok(Interpretation { diagnostics: read, ..Interpretation::default() });
    }
    if saw_a && !saw_z {
        cx.err("I209", "the batch has no Z trailer (truncated file?)", last);
    }
    if untied > 0 {
        cx.warn(
            "I214",
            format!("{untied} transaction(s) could not be tied to an entry and were not applied (see the warnings)"),
            Place { line: 1, byte: 0, index: 1 },
        );
    }
    // The rest of the file is applied: what the reader found in an untied transaction is a warning.
    cx.out.diagnostics.extend(read.into_iter().map(|mut d| {
        d.severity = crate::parse::error::Severity::Warning;
        d
    }));
    Ok(cx.out)
}

/// Reader and interpreter codes that are a finding about what a message says (not about its
/// framing): these reach the entry as a `finding` fact and one alert. I211 (a record the
/// grammar knows but this module does not use) is not one: it is about entrywatch, not CBP;
/// nor is ABIE024 (punctuation in an A/AN field, common in broker data and harmless).
fn is_finding(code: &str) -> bool {
    matches!(
        code,
        "ABIE003"
            | "ABIE004"
            | "ABIE010"
            | "ABIE011"
            | "ABIE012"
            | "ABIE013"
            | "ABIE020"
            | "ABIE021"
            | "ABIE022"
            | "ABIE025"
            | "I204"
            | "I205"
            | "I206"
            | "I208"
            | "I215"
    )
}

/// The findings of one applied transaction (the reader's and this module's since `mark`) as one
/// `finding` fact on its entry, so that `entry` shows them in words and one alert goes out.
fn findings(cx: &mut Cx<'_, '_>, t: &abi::Transaction<'_>, mark: usize, facts_before: usize) {
    let entry = t.entry.clone().or_else(|| cx.out.facts.get(facts_before).map(|(e, _)| e.clone()));
    let line =
        |d: &Diagnostic| format!("line {}, record {}: {} ({})", d.line, d.record.unwrap_or(0), d.message, d.code);
    let notes: Vec<String> = t
        .diagnostics
        .iter()
        .chain(cx.out.diagnostics.get(mark..).unwrap_or_default())
        .filter(|d| is_finding(&d.code))
        .map(line)
        .collect();
    if notes.is_empty() {
        return;
    }
    let Some(e) = entry else {
        cx.loose.extend(notes);
        return;
    };
    let place = t.records.first().map_or(Place { line: 1, byte: 0, index: 1 }, Place::of);
    let at = cx.day();
    let kind = FactKind::Finding { application: t.application.clone(), notes };
    cx.push(e, at, kind, place);
}
