//! Reading ABI and X12 files in two streamed passes (no whole-file buffer): the validation pass
//! (diagnostics, and for X12 what the acknowledgments need, before anything is committed), then
//! the apply pass handing the facts to [`Chunks`] a transaction at a time. Other formats
//! (pre-entry CSVs, ACE exports, refund results: small by nature) are read whole
//! (docs/performance.md).

use super::apply::{Applied, Chunks};
use super::{ioe, FileRecord, IngestError};
use crate::config::Role;
use crate::grammar::Grammars;
use crate::interpret::{FileContext, Interpretation};
use crate::parse::x12::X12Event;
use crate::parse::{self, Format};
use std::collections::BTreeSet;
use std::path::Path;

/// A format read streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Streamed {
    Abi,
    X12,
}

/// Whether a file is read streamed, and as what: an ABI or X12 file (as
/// [`crate::interpret::interpret`] would tell it from the whole bytes) on an inbox that does
/// not take ACE exports or refund results.
pub(super) fn streamable(path: &Path, role: Role) -> std::io::Result<Option<Streamed>> {
    if matches!(role, Role::Ace | Role::RefundResults) {
        return Ok(None);
    }
    Ok(match parse::sniff_path(path)? {
        Some(Format::Abi) => Some(Streamed::Abi),
        Some(Format::X12) => Some(Streamed::X12),
        _ => None,
    })
}

/// Read the file once as `kind`, handing each batch of facts to `sink` and each X12 event
/// to `observe`.
fn interpret_read(
    path: &Path,
    kind: Streamed,
    ctx: &FileContext<'_>,
    grammars: &Grammars,
    observe: &mut dyn FnMut(&X12Event<'_>),
    sink: &mut crate::interpret::abi::FactSink<'_>,
) -> Result<Interpretation, IngestError> {
    let mut f = std::fs::File::open(path).map_err(ioe(path))?;
    match kind {
        Streamed::Abi => crate::interpret::abi::interpret_read(&mut f, ctx, grammars, sink),
        Streamed::X12 => crate::interpret::x12::interpret_read(&mut f, ctx, grammars, observe, sink),
    }
    .map_err(ioe(path))
}

/// Pass 1: read the file and keep its diagnostics (and monthly links, unmatched pre-entries);
/// the facts are dropped, the entries they name added to `entries` when asked (an X12 file's
/// acknowledgment record lists them). Every X12 event is shown to `observe`.
pub(super) fn validate(
    path: &Path,
    kind: Streamed,
    ctx: &FileContext<'_>,
    grammars: &Grammars,
    observe: &mut dyn FnMut(&X12Event<'_>),
    mut entries: Option<&mut BTreeSet<String>>,
) -> Result<Interpretation, IngestError> {
    let mut sink = |facts: Vec<(crate::entry_number::EntryNumber, crate::domain::Fact)>| {
        if let Some(e) = entries.as_deref_mut() {
            e.extend(facts.iter().map(|(e, _)| e.compact()));
        }
    };
    interpret_read(path, kind, ctx, grammars, observe, &mut sink)
}

/// Pass 2 of a file pass 1 found without error: read it again, hand its facts to `chunks` as
/// they come, and commit the last chunk with the file record.
pub(super) fn apply_file(
    path: &Path,
    kind: Streamed,
    ctx: &FileContext<'_>,
    grammars: &Grammars,
    mut chunks: Chunks<'_>,
    rec: FileRecord,
) -> Result<Applied, IngestError> {
    let interp = interpret_read(path, kind, ctx, grammars, &mut |_| {}, &mut |facts| chunks.add(facts))?;
    if interp.has_errors() {
        return Err(IngestError::Io {
            path: path.to_path_buf(),
            err: std::io::Error::other("the file changed between its validation and apply passes"),
        });
    }
    chunks.finish(&interp, rec)
}
