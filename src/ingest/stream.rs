//! Reading an ABI file in two streamed passes (no whole-file buffer): the validation pass
//! (diagnostics only, before anything is committed), then the apply pass handing the facts to
//! [`Chunks`] a transaction at a time. Other formats are read whole (docs/performance.md).

use super::apply::{Applied, Chunks};
use super::{ioe, FileRecord, IngestError};
use crate::config::Role;
use crate::grammar::Grammars;
use crate::interpret::{FileContext, Interpretation};
use crate::parse::{self, Format};
use std::io::Read;
use std::path::Path;

/// The first bytes of a file read to tell its format.
const SNIFF_BYTES: u64 = 64 * 1024;

/// Whether a file is read streamed: an ABI file (as [`crate::interpret::interpret`] would tell
/// it from the whole bytes) on an inbox that does not take ACE exports or refund results.
pub(super) fn streamable(path: &Path, role: Role) -> std::io::Result<bool> {
    if matches!(role, Role::Ace | Role::RefundResults) {
        return Ok(false);
    }
    let mut head = Vec::new();
    std::fs::File::open(path)?.take(SNIFF_BYTES).read_to_end(&mut head)?;
    let whole = (head.len() as u64) < SNIFF_BYTES;
    let b = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    // `sniff` reads at most the first 400 bytes of the first line after leading white space:
    // when those are in `head`, its answer is the one the whole file would give.
    Ok(parse::sniff(&head) == Format::Abi && (whole || start + 1024 <= b.len()))
}

/// Pass 1: read the file and keep its diagnostics (and monthly links, unmatched pre-entries);
/// the facts are counted by the interpreter and dropped.
pub(super) fn validate(path: &Path, ctx: &FileContext<'_>, grammars: &Grammars) -> Result<Interpretation, IngestError> {
    let mut f = std::fs::File::open(path).map_err(ioe(path))?;
    crate::interpret::abi::interpret_read(&mut f, ctx, grammars, &mut |_| {}).map_err(ioe(path))
}

/// Pass 2 of a file pass 1 found without error: read it again, hand its facts to `chunks` as
/// they come, and commit the last chunk with the file record.
pub(super) fn apply_file(
    path: &Path,
    ctx: &FileContext<'_>,
    grammars: &Grammars,
    mut chunks: Chunks<'_>,
    rec: FileRecord,
) -> Result<Applied, IngestError> {
    let mut f = std::fs::File::open(path).map_err(ioe(path))?;
    let interp = crate::interpret::abi::interpret_read(&mut f, ctx, grammars, &mut |facts| chunks.add(facts))
        .map_err(ioe(path))?;
    if interp.has_errors() {
        return Err(IngestError::Io {
            path: path.to_path_buf(),
            err: std::io::Error::other("the file changed between its validation and apply passes"),
        });
    }
    chunks.finish(&interp, rec)
}
