//! Grammars are data: loading and checking the TOML files in grammars/ (X12, ABI, code lists).
//!
//! Files come from a directory (`grammar-dir` in the config, or `grammars check DIR`) or from
//! the copy embedded in the binary at build time. Every problem is a [`GrammarError`] with a
//! stable code: `G0xx` common, `G1xx` X12, `G2xx` ABI, `G3xx` code lists,
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

/// A problem in a grammar file, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrammarError {
    pub code: &'static str,
    pub file: String,
    pub message: String,
}

impl GrammarError {
    pub fn new(code: &'static str, file: &str, message: impl Into<String>) -> Self {
        GrammarError { code, file: file.to_string(), message: message.into() }
    }
}

impl fmt::Display for GrammarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code, self.file, self.message)
    }
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
    toml::from_str(&file.text).map_err(|e| GrammarError::new("G002", &file.path, e.to_string().replace('\n', " ")))
}

impl Grammars {
    /// Load from the embedded copy.
    pub fn embedded() -> Result<Grammars, Vec<GrammarError>> {
        Self::from_files(&embedded_files())
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
                errors.push(GrammarError::new(
                    "G003",
                    &f.path,
                    "grammar files live under x12/, abi/, codes/ or remedies/",
                ));
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
