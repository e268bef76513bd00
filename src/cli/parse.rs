//! `entrywatch parse` and `entrywatch grammars check`.

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::grammar::Grammars;
use crate::parse::{parse_path, ParsedFile};
use std::io::Write;
use std::path::Path;

/// Load grammars, printing every problem on failure.
pub fn load_grammars(dir: Option<&Path>) -> Result<Grammars, i32> {
    load_grammars_to(dir, &mut std::io::stderr())
}

/// [`load_grammars`], writing warnings and problems to `err`.
pub fn load_grammars_to(dir: Option<&Path>, err: &mut dyn Write) -> Result<Grammars, i32> {
    match Grammars::load(dir) {
        Ok(g) => {
            for w in &g.warnings {
                let _ = writeln!(err, "warning: {w}");
            }
            Ok(g)
        }
        Err(errors) => {
            for e in &errors {
                let _ = writeln!(err, "error: grammar {e}");
            }
            Err(EXIT_USAGE)
        }
    }
}

pub fn run_parse(files: &[std::path::PathBuf], json: bool, grammar_dir: Option<&Path>) -> i32 {
    let grammars = match load_grammars(grammar_dir) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let mut results: Vec<ParsedFile> = Vec::new();
    let mut unreadable = false;
    for f in files {
        // ABI and X12 are read streamed, never held whole (docs/performance.md).
        match parse_path(&f.display().to_string(), f, &grammars) {
            Ok(parsed) => results.push(parsed),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", f.display());
                unreadable = true;
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        let text = if files.len() == 1 && results.len() == 1 {
            serde_json::to_string_pretty(&results[0])
        } else {
            serde_json::to_string_pretty(&results)
        };
        let _ = writeln!(out, "{}", text.unwrap_or_default());
    } else {
        for r in &results {
            let _ = write!(out, "{}", render_text(r));
        }
    }
    if unreadable {
        EXIT_USAGE
    } else if results.iter().all(|r| r.ok) {
        EXIT_OK
    } else {
        EXIT_INVALID
    }
}

/// The readable form of a parse result: a short tree, then the errors with their places.
pub fn render_text(r: &ParsedFile) -> String {
    let mut s = String::new();
    let verdict = if r.ok { "valid" } else { "INVALID" };
    s.push_str(&format!("{}: {} ({:?})\n", r.file, verdict, r.format));
    if let Some(x) = &r.x12 {
        s.push_str(&x.tree());
    }
    if let Some(a) = &r.abi {
        s.push_str(&a.tree());
    }
    if let Some(c) = &r.csv {
        s.push_str(&format!("  pre-entry rows: {}\n", c.rows));
    }
    for e in &r.errors {
        s.push_str(&format!("  {e}\n"));
    }
    s
}

pub fn run_grammars_check(dir: Option<&Path>) -> i32 {
    match Grammars::load(dir) {
        Ok(g) => {
            for w in &g.warnings {
                println!("warning: {w}");
            }
            let x12_sets: Vec<&str> = g.x12.sets.keys().map(String::as_str).collect();
            let x12_versions: Vec<&str> = g.x12.dictionaries.keys().map(String::as_str).collect();
            let abi_apps: Vec<&str> = g.abi.apps.keys().map(String::as_str).collect();
            println!(
                "grammars ok ({}): X12 versions {} sets {}; ABI applications {}; {} code lists",
                dir.map(|d| d.display().to_string()).unwrap_or_else(|| "embedded".into()),
                x12_versions.join(" "),
                x12_sets.join(" "),
                abi_apps.join(" "),
                g.codes.lists.len()
            );
            let programs: Vec<&str> = g.remedies.programs.iter().map(|p| p.id.as_str()).collect();
            println!(
                "remedies ok: {} remedies, {} duty programs, refund programs {}",
                g.remedies.remedies.len(),
                g.remedies.duty_programs.len(),
                if programs.is_empty() { "none".to_string() } else { programs.join(" ") }
            );
            EXIT_OK
        }
        Err(errors) => {
            for e in &errors {
                println!("{e}");
            }
            println!("{} problem(s)", errors.len());
            EXIT_INVALID
        }
    }
}
