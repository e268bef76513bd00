//! Diagnostics: every problem found in an inbound file, as a value with a stable code and a place.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a diagnostic is. Only `Error` makes a file invalid (`ok: false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// Where in a file a diagnostic points. All counts are 1-based except `byte` (0-based offset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// 1-based line number (lines split on LF).
    pub line: usize,
    /// 0-based byte offset into the file.
    pub byte: usize,
    /// 1-based segment index within its transaction set (X12), when known.
    pub segment: Option<usize>,
    /// 1-based record index within the file (ABI), when known.
    pub record: Option<usize>,
}

impl Position {
    /// A position from a byte offset, computing the line by counting LFs before it.
    pub fn at_byte(input: &[u8], byte: usize) -> Self {
        let end = byte.min(input.len());
        let line = 1 + input[..end].iter().filter(|&&b| b == b'\n').count();
        Position { line, byte, segment: None, record: None }
    }
}

/// One problem in a file: a stable code (registered in [`crate::diag`], listed in docs/codes.md), a severity,
/// a readable message and a place. X12 envelope and structure errors also carry the
/// acknowledgment code they map to (e.g. `TA105:021`, `AK905:5`, `AK502:4`, `AK304:2`, `AK403:1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub line: usize,
    pub byte: usize,
    pub segment: Option<usize>,
    pub record: Option<usize>,
    /// The acknowledgment code this maps to, e.g. `AK304:2` (X12 only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ack: Option<String>,
}

impl Diagnostic {
    pub fn new(code: &str, severity: Severity, message: impl Into<String>, pos: Position) -> Self {
        Diagnostic {
            code: code.to_string(),
            severity,
            message: message.into(),
            line: pos.line,
            byte: pos.byte,
            segment: pos.segment,
            record: pos.record,
            ack: None,
        }
    }
    pub fn error(code: &str, message: impl Into<String>, pos: Position) -> Self {
        Self::new(code, Severity::Error, message, pos)
    }
    pub fn warning(code: &str, message: impl Into<String>, pos: Position) -> Self {
        Self::new(code, Severity::Warning, message, pos)
    }
    /// Attach the acknowledgment code this diagnostic maps to.
    pub fn with_ack(mut self, ack: impl Into<String>) -> Self {
        self.ack = Some(ack.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev} {}: {} (line {}, byte {}", self.code, self.message, self.line, self.byte)?;
        if let Some(s) = self.segment {
            write!(f, ", segment {s}")?;
        }
        if let Some(r) = self.record {
            write!(f, ", record {r}")?;
        }
        if let Some(a) = &self.ack {
            write!(f, ", {a}")?;
        }
        write!(f, ")")
    }
}

/// At most this many diagnostics are kept per file (in `parse`, in memory and in
/// `.error.txt`); the rest are counted and reported as one closing warning, so a file of
/// millions of bad segments costs the same as one of a thousand.
pub const MAX_DIAGNOSTICS: usize = 1_000;

/// Errors among the diagnostics past the cap: an error of its own, so a file whose first
/// [`MAX_DIAGNOSTICS`] diagnostics are warnings is still not applied when a later one is an
/// error (a broken envelope after 1,000 short records).
pub fn errors_not_kept(code: &str, errors: usize) -> Diagnostic {
    Diagnostic::error(
        code,
        format!("{errors} errors past the first {MAX_DIAGNOSTICS} diagnostics were not kept: the file is not applied"),
        Position { line: 1, byte: 0, segment: None, record: None },
    )
}

/// Keep at most [`MAX_DIAGNOSTICS`] of a file's diagnostics (errors first, each kind in file
/// order) and say in a closing `P099` how many more there were: `unlisted` more were counted
/// and never held (a streamed read keeps what this keeps of the whole list, no more).
pub fn cap(d: &mut Vec<Diagnostic>, unlisted: usize) {
    if unlisted == 0 && d.len() <= MAX_DIAGNOSTICS + 1 {
        return;
    }
    let dropped = (d.len() + unlisted).saturating_sub(MAX_DIAGNOSTICS);
    // Stable: errors keep their order, then warnings.
    d.sort_by_key(|x| !x.is_error());
    d.truncate(MAX_DIAGNOSTICS);
    d.push(not_kept("P099", dropped));
}

/// The closing warning of a file whose diagnostics were capped: how many were not kept.
pub fn not_kept(code: &str, dropped: usize) -> Diagnostic {
    Diagnostic::warning(
        code,
        format!("{dropped} further diagnostics were not kept (the first {MAX_DIAGNOSTICS} are listed)"),
        Position { line: 1, byte: 0, segment: None, record: None },
    )
}
