//! Parsing without state: sniff a file's format and hand it to the X12, ABI or CSV reader.
//!
//! Readers know nothing of entries; they turn bytes into messages plus [`error::Diagnostic`]s.

pub mod abi;
pub mod csv;
pub mod error;
pub mod x12;

use crate::grammar::Grammars;
use error::{Diagnostic, Position};
use serde::Serialize;

/// The formats entrywatch reads, sniffed from content (never from the file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    X12,
    Abi,
    Csv,
    Unknown,
}

/// Sniff the format of a file from its first bytes.
///
/// X12 starts with `ISA` (after an optional UTF-8 byte-order mark or white space, or in
/// UTF-16); ABI starts with an `A` batch header record (or any 80-column record stream whose
/// first record is an 80-column printable image); CSV is a header row naming `entry_number`.
pub fn sniff(bytes: &[u8]) -> Format {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let b = &b[start..];
    if b.starts_with(b"ISA") {
        return Format::X12;
    }
    // UTF-16 (with or without BOM): "I\0S\0A\0" or "\0I\0S\0A".
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Format::X12;
    }
    if b.starts_with(b"I\0S\0A\0") || b.starts_with(b"\0I\0S\0A") {
        return Format::X12;
    }
    let first_line = b.split(|&c| c == b'\n').next().unwrap_or(b);
    let lower = String::from_utf8_lossy(&first_line[..first_line.len().min(400)]).to_ascii_lowercase();
    // An ES-003 export (docs/ace.md) headed by its column names: CSV, not 80-column ABI (its
    // header line is printable and over 76 characters, which the extract rule below would take).
    if (lower.contains("entry_number") || lower.contains("entry summary number")) && lower.contains(',') {
        return Format::Csv;
    }
    if b.first() == Some(&b'A') && b.len() >= 27 {
        return Format::Abi;
    }
    // A block or transaction extract without its A record: 80-column printable records.
    let line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
    let image = if line.len() > 80 { &line[..80] } else { line };
    if (76..=80).contains(&image.len()) && image.iter().all(|c| (0x20..0x7f).contains(c)) {
        return Format::Abi;
    }
    Format::Unknown
}

/// The result of `entrywatch parse` for one file: the shape of `parse --json`.
#[derive(Debug, Clone, Serialize)]
pub struct ParsedFile {
    pub file: String,
    pub format: Format,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x12: Option<x12::X12Summary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abi: Option<abi::AbiSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv: Option<csv::CsvSummary>,
    pub errors: Vec<Diagnostic>,
}

/// The first bytes of a file [`sniff_path`] reads to tell its format.
const SNIFF_BYTES: u64 = 64 * 1024;

/// [`sniff`] of a file on disk from its first 64 KiB: `None` when those do not settle it as
/// the whole file would (a file longer than that whose first line starts too late in them).
pub fn sniff_path(path: &std::path::Path) -> std::io::Result<Option<Format>> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)?.take(SNIFF_BYTES).read_to_end(&mut head)?;
    let b = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    // `sniff` reads at most the first 400 bytes of the first line after leading white space:
    // when those are in `head`, its answer is the one the whole file would give.
    let sure = (head.len() as u64) < SNIFF_BYTES || start + 1024 <= b.len();
    Ok(sure.then(|| sniff(&head)))
}

/// [`parse_file`] of a file on disk, reporting it as `file`: an ABI or X12 file is read
/// streamed (front to back, never held whole; what is kept is the summary, which grows with
/// its transactions); other formats are read whole. The result is the one [`parse_file`] gives
/// on the file's bytes (except that an X12 interchange above the streamed reader's bounds,
/// [`x12::MAX_INTERCHANGE_BYTES`] and [`x12::MAX_INTERCHANGE_SEGMENTS`], is the error `X12E025`).
pub fn parse_path(file: &str, path: &std::path::Path, grammars: &Grammars) -> std::io::Result<ParsedFile> {
    let format = match sniff_path(path)? {
        Some(f @ (Format::X12 | Format::Abi)) => f,
        _ => return Ok(parse_file(file, &std::fs::read(path)?, grammars)),
    };
    let mut out =
        ParsedFile { file: file.to_string(), format, ok: true, x12: None, abi: None, csv: None, errors: Vec::new() };
    let mut f = std::fs::File::open(path)?;
    if format == Format::X12 {
        let (summary, errors) = x12::summarize_read(&mut f, grammars)?;
        out.x12 = Some(summary);
        out.errors = errors;
    } else {
        let (summary, errors) = abi::summarize_read(&mut f, grammars)?;
        out.abi = Some(summary);
        out.errors = errors;
    }
    out.ok = !out.errors.iter().any(Diagnostic::is_error);
    Ok(out)
}

/// Parse one file's bytes with no state: the engine behind `entrywatch parse`.
pub fn parse_file(file: &str, bytes: &[u8], grammars: &Grammars) -> ParsedFile {
    let format = sniff(bytes);
    let mut out =
        ParsedFile { file: file.to_string(), format, ok: true, x12: None, abi: None, csv: None, errors: Vec::new() };
    match format {
        Format::X12 => {
            let (summary, errors) = x12::summarize(bytes, grammars);
            out.x12 = Some(summary);
            out.errors = errors;
        }
        Format::Abi => {
            let (summary, errors) = abi::summarize(bytes, grammars);
            out.abi = Some(summary);
            out.errors = errors;
        }
        Format::Csv => {
            let (summary, errors) = csv::summarize(bytes);
            out.csv = Some(summary);
            out.errors = errors;
        }
        Format::Unknown => {
            out.errors.push(Diagnostic::error(
                "P001",
                "unknown format: not X12 (no ISA), not ABI (no A batch header), not a pre-entry CSV (no entry_number header)",
                Position { line: 1, byte: 0, segment: None, record: None },
            ));
        }
    }
    out.ok = !out.errors.iter().any(Diagnostic::is_error);
    out
}
