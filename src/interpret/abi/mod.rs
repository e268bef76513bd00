//! ABI (CATAIR 80-column) messages → facts, one module per application as grammars/abi/ has
//! one file per application: AE (and approved AE-format pre-entries), AX, UC, SO, PF, MS, ER.
//!
//! Consumes the typed records of the grammar-driven reader ([`crate::parse::abi::read`]): every value is
//! read by the field name `grammars/abi/*.toml` declares, never by column position (design principle 1).
//! The same pass validates the file (classes, dates, grouping, envelope: `ABIEnnn`); a file with an
//! error yields no facts. These modules give the records their meaning ([`file`] runs the pass,
//! [`cx`] reads fields). Their diagnostics (`I2nn`) are listed in docs/codes.md.

use super::{FileContext, Interpretation};
use crate::grammar::Grammars;

/// Interpret an ABI file in one pass of the reader. When the reader finds an error the result holds
/// only the reader's diagnostics (no facts); otherwise the facts, this module's diagnostics, then the
/// reader's (warnings).
pub fn interpret(bytes: &[u8], ctx: &FileContext<'_>, grammars: &Grammars) -> Interpretation {
    file::run(bytes, ctx, grammars)
}

/// Interpret an ABI file read from `r` (front to back, once), handing the facts to `sink` a
/// transaction at a time: the result holds the diagnostics, monthly statement links and
/// unmatched pre-entries, never the facts. Given the same bytes, `sink` receives exactly the
/// facts [`interpret`] returns, in the same order, when the file has no error.
pub fn interpret_read(
    r: &mut dyn std::io::Read,
    ctx: &FileContext<'_>,
    grammars: &Grammars,
    sink: &mut FactSink<'_>,
) -> std::io::Result<Interpretation> {
    let mut read =
        |on: &mut dyn FnMut(crate::parse::abi::AbiEvent<'_, '_>)| crate::parse::abi::read_from(r, grammars, on);
    file::run_with(&mut read, ctx, grammars, Some(sink))
}

pub use file::FactSink;

mod ae;
mod ax;
mod cx;
mod er;
mod file;
mod ms;
mod pf;
mod so;
mod uc;

pub use cx::bill_ref;

#[cfg(test)]
// Tests index fixtures they built themselves: a panic there is a failing test, not untrusted
// input.
#[allow(clippy::indexing_slicing)]
mod tests;
