//! Grammars are data: loading and checking the TOML files in grammars/ (X12, ABI, code lists).
//!
//! Files come from a directory (`grammar-dir` in the config, or `grammars check DIR`) or from
//! the copy embedded in the binary at build time. Every problem is a [`GrammarError`] with a
//! stable code (docs/codes.md) and its file and line: `G0xx` common, `G1xx` X12, `G2xx` ABI, `G3xx` code lists,
//! `G4xx` remedies (crate::recovery).

pub mod abi;
pub mod codes;
pub mod x12;

use serde::Serialize;
use std::fmt;
use std::path::Path;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_grammars.rs"));
}

/// One grammar file's text and its path relative to the grammar root (e.g. `x12/350.toml`).
#[derive(Debug, Clone)]
pub struct GrammarFile {
    pub path: String,
    pub text: String,
}

/// A problem in a grammar file, with a stable code (docs/codes.md), the file and, where the
/// problem sits on one line, that line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrammarError {
    pub code: &'static str,
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

impl GrammarError {
    pub fn new(code: &'static str, file: &str, message: impl Into<String>) -> Self {
        GrammarError { code, file: file.to_string(), line: None, message: message.into() }
    }

    /// The same error, placed on a line of its file.
    pub fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }
}

impl fmt::Display for GrammarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{} {}:{l}: {}", self.code, self.file, self.message),
            None => write!(f, "{} {}: {}", self.code, self.file, self.message),
        }
    }
}

/// Whether `line` holds `key = "value"` (spaces and quote style free), alone or inside an
/// inline table.
fn has_key_value(line: &str, key: &str, value: &str) -> bool {
    let mut rest = line;
    while let Some(i) = rest.find(key) {
        let before_ok = rest
            .get(..i)
            .and_then(|b| b.chars().next_back())
            .is_none_or(|c| !c.is_alphanumeric() && c != '_' && c != '-');
        let after = rest.get(i + key.len()..).unwrap_or_default().trim_start();
        if before_ok {
            if let Some(v) = after.strip_prefix('=') {
                let v = v.trim_start();
                for q in ['"', '\''] {
                    if let Some(tail) = v.strip_prefix(q).and_then(|t| t.strip_prefix(value)) {
                        if tail.starts_with(q) {
                            return true;
                        }
                    }
                }
            }
        }
        rest = rest.get(i + key.len()..).unwrap_or_default();
    }
    false
}

/// The 1-based line of a grammar file where a path of `key = "value"` pairs leads: the first
/// line holding the first pair, then the first line from there holding the next, and so on
/// (`[("name", "E1"), ("name", "filler")]` is the first filler field after record E1).
/// `skip` passes over that many matches of the last pair (a duplicate's second occurrence).
pub fn locate(text: &str, path: &[(&str, &str)], skip: usize) -> Option<usize> {
    let (last, head) = path.split_last()?;
    let mut want = head.iter();
    let mut next = want.next();
    let mut skip = skip;
    for (i, line) in text.lines().enumerate() {
        match next {
            Some((k, v)) => {
                if has_key_value(line, k, v) {
                    next = want.next();
                }
            }
            None => {
                if has_key_value(line, last.0, last.1) {
                    if skip == 0 {
                        return Some(i + 1);
                    }
                    skip -= 1;
                }
            }
        }
    }
    None
}

/// The 1-based line of a byte offset in a text.
pub fn line_of_byte(text: &str, byte: usize) -> usize {
    1 + text.as_bytes().iter().take(byte).filter(|&&b| b == b'\n').count()
}

/// Every grammar entrywatch reads with, loaded and cross-checked.
#[derive(Debug, Clone, Default)]
pub struct Grammars {
    pub x12: x12::X12Grammars,
    pub abi: abi::AbiGrammars,
    pub codes: codes::CodeLists,
    /// Remedies, duty programs and refund programs (grammars/remedies/, `G4xx`).
    pub remedies: crate::recovery::Remedies,
    /// Non-fatal notes from loading (e.g. a version resolved to the nearest one).
    pub warnings: Vec<String>,
}

/// The grammar files embedded in this binary.
pub fn embedded_files() -> Vec<GrammarFile> {
    embedded::EMBEDDED.iter().map(|(p, t)| GrammarFile { path: p.to_string(), text: t.to_string() }).collect()
}

/// Read every `*.toml` below `dir` (recursively) as grammar files.
pub fn read_dir(dir: &Path) -> Result<Vec<GrammarFile>, GrammarError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<GrammarFile>) -> Result<(), GrammarError> {
        let rd = std::fs::read_dir(dir)
            .map_err(|e| GrammarError::new("G001", &dir.display().to_string(), format!("cannot read folder: {e}")))?;
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out)?;
            } else if p.extension().is_some_and(|x| x == "toml") {
                let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| GrammarError::new("G001", &rel, format!("cannot read file: {e}")))?;
                out.push(GrammarFile { path: rel, text });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

/// Parse TOML text into `T`, mapping syntax and shape errors to `G002`.
pub fn from_toml<T: serde::de::DeserializeOwned>(file: &GrammarFile) -> Result<T, GrammarError> {
    toml::from_str(&file.text).map_err(|e| {
        let line = e.span().map(|s| line_of_byte(&file.text, s.start));
        GrammarError::new("G002", &file.path, e.message().replace('\n', " ")).at_line(line)
    })
}

impl Grammars {
    /// Load from the embedded copy.
    pub fn embedded() -> Result<Grammars, Vec<GrammarError>> {
        Self::embedded_shared().cloned()
    }

    /// The embedded grammars, loaded once per process (a load checks every file, which costs
    /// milliseconds in a release build and far more in a debug one).
    pub fn embedded_shared() -> Result<&'static Grammars, Vec<GrammarError>> {
        static SHARED: std::sync::OnceLock<Result<Grammars, Vec<GrammarError>>> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| Self::from_files(&embedded_files())).as_ref().map_err(Clone::clone)
    }

    /// Load from a folder, or from the embedded copy when `dir` is `None`.
    pub fn load(dir: Option<&Path>) -> Result<Grammars, Vec<GrammarError>> {
        match dir {
            None => Self::embedded(),
            Some(d) => Self::from_files(&read_dir(d).map_err(|e| vec![e])?),
        }
    }

    /// Load and cross-check a set of files; returns every problem found, not just the first.
    pub fn from_files(files: &[GrammarFile]) -> Result<Grammars, Vec<GrammarError>> {
        let mut errors = Vec::new();
        let mut g = Grammars::default();
        let pick = |prefix: &str| -> Vec<GrammarFile> {
            files.iter().filter(|f| f.path.starts_with(prefix)).cloned().collect()
        };
        for f in files {
            if !["x12/", "abi/", "codes/", "remedies/"].iter().any(|p| f.path.starts_with(p)) {
                errors.push(
                    GrammarError::new("G003", &f.path, "grammar files live under x12/, abi/, codes/ or remedies/")
                        .at_line(Some(1)),
                );
            }
        }
        match codes::CodeLists::load(&pick("codes/")) {
            Ok(c) => g.codes = c,
            Err(mut e) => errors.append(&mut e),
        }
        match crate::recovery::Remedies::load(&pick("remedies/")) {
            Ok(r) => g.remedies = r,
            Err(mut e) => errors.append(&mut e),
        }
        match x12::X12Grammars::load(&pick("x12/"), &g.codes) {
            Ok((x, mut w)) => {
                g.x12 = x;
                g.warnings.append(&mut w);
            }
            Err(mut e) => errors.append(&mut e),
        }
        match abi::AbiGrammars::load(&pick("abi/"), &g.codes) {
            Ok((a, mut w)) => {
                g.abi = a;
                g.warnings.append(&mut w);
            }
            Err(mut e) => errors.append(&mut e),
        }
        if errors.is_empty() {
            Ok(g)
        } else {
            Err(errors)
        }
    }
}
