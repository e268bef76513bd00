//! Embeds every file under grammars/ into the binary so `entrywatch run` works with no files beside it,
//! and every file under samples/ so `entrywatch run --demo` can seed its inboxes.

use std::fs;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>, keep: &dyn Fn(&Path) -> bool) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out, keep);
        } else if keep(&p) {
            out.push(p);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());

    let root = manifest.join("grammars");
    println!("cargo:rerun-if-changed=grammars");
    let mut files = Vec::new();
    walk(&root, &mut files, &|p| p.extension().is_some_and(|x| x == "toml"));
    files.sort();
    let mut src = String::from("/// Every grammar file shipped in grammars/, as (path relative to grammars/, text).\npub static EMBEDDED: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        src.push_str(&format!("    ({:?}, include_str!({:?})),\n", rel, f.display().to_string()));
    }
    src.push_str("];\n");
    fs::write(out_dir.join("embedded_grammars.rs"), src).unwrap();

    // Samples for `run --demo`: every file under samples/ except READMEs and the generator scripts.
    let samples = manifest.join("samples");
    println!("cargo:rerun-if-changed=samples");
    let mut files = Vec::new();
    walk(&samples, &mut files, &|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        !name.starts_with('.') && !name.starts_with("readme") && !name.ends_with(".py")
    });
    files.sort();
    let mut src = String::from("/// Every sample shipped in samples/, as (path relative to samples/, bytes).\npub static SAMPLES: &[(&str, &[u8])] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&samples).unwrap().to_string_lossy().replace('\\', "/");
        src.push_str(&format!("    ({:?}, include_bytes!({:?})),\n", rel, f.display().to_string()));
    }
    src.push_str("];\n");
    fs::write(out_dir.join("embedded_samples.rs"), src).unwrap();
}
