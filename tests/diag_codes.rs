//! The diagnostic code registry (src/diag.rs), docs/codes.md and the codes the sources emit
//! are one set: a code added in src/ without a registry line, a registry line no source emits,
//! or a docs/codes.md that is not the registry's fails here.

use entrywatch::diag;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every string literal in src/ (outside the registry itself) that has a code's shape.
fn emitted() -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let registry = root().join("src/diag.rs");
    let mut out = BTreeSet::new();
    for f in files.iter().filter(|f| **f != registry) {
        let text = std::fs::read_to_string(f).expect("source");
        // A piece between two quote marks that is exactly a code's shape is a code literal
        // (no parity: an escaped quote or a '"' char would shift it).
        for piece in text.split('"') {
            if diag::is_code_shape(piece) {
                out.insert(piece.to_string());
            }
        }
    }
    out
}

fn registered() -> BTreeSet<String> {
    diag::CODES.iter().map(|c| c.code.to_string()).collect()
}

/// The codes a docs/codes.md table row starts with.
fn documented(md: &str) -> BTreeSet<String> {
    md.lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .filter(|c| diag::is_code_shape(c))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_registry_lists_exactly_the_codes_the_sources_emit() {
    let (src, reg) = (emitted(), registered());
    let missing: Vec<_> = src.difference(&reg).collect();
    let unused: Vec<_> = reg.difference(&src).collect();
    assert!(missing.is_empty(), "emitted in src/ but not in src/diag.rs: {missing:?}");
    assert!(unused.is_empty(), "in src/diag.rs but emitted nowhere in src/: {unused:?}");
    assert!(src.len() > 150, "the scan found only {} codes", src.len());
}

#[test]
fn docs_codes_md_is_the_registry() {
    let path = root().join("docs/codes.md");
    let want = diag::markdown();
    if std::env::var_os("UPDATE_CODES_MD").is_some() {
        std::fs::write(&path, &want).expect("write docs/codes.md");
    }
    let have = std::fs::read_to_string(&path).expect("docs/codes.md");
    assert_eq!(documented(&have), registered(), "docs/codes.md lists other codes than src/diag.rs");
    assert!(
        have == want,
        "docs/codes.md is not the registry's text: run UPDATE_CODES_MD=1 cargo test --test diag_codes"
    );
}
