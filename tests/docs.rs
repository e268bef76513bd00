//! The documentation holds together: every page in docs/ is reachable from the README in one
//! click, every relative link in the README, the CHANGELOG and docs/ resolves, every key the
//! configuration accepts is documented in docs/configuration.md (and its example loads), the
//! README keeps the two set-up commands and stays short.

use entrywatch::config::{Config, EMBEDDED_DEFAULT};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every `*.md` file directly in docs/, as `docs/NAME.md`.
fn doc_pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs/ entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    pages.sort();
    pages
}

/// The text outside fenced code blocks (a link-like string inside a code sample is not a link).
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The targets of the Markdown links and images in `text`: what stands between `](` and `)`.
fn link_targets(text: &str) -> Vec<String> {
    let text = prose(text);
    let mut targets = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].trim().trim_start_matches('<').trim_end_matches('>');
        // A title after the address (`(file.md "Title")`) is not part of it.
        let target = target.split_whitespace().next().unwrap_or("");
        targets.push(target.to_string());
        rest = &rest[end..];
    }
    targets
}

fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    prose(markdown).lines().filter(|l| l.starts_with('#')).map(|l| slug(l.trim_start_matches('#'))).collect()
}

#[test]
fn every_docs_page_is_linked_from_the_readme() {
    let readme = read("README.md");
    let linked: BTreeSet<String> =
        link_targets(&readme).into_iter().map(|t| t.split('#').next().unwrap_or("").to_string()).collect();
    let pages = doc_pages();
    assert!(pages.len() >= 10, "docs/ holds the topic pages: {pages:?}");
    let missing: Vec<&String> = pages.iter().filter(|p| !linked.contains(p.as_str())).collect();
    assert!(missing.is_empty(), "docs pages the README does not link: {missing:?}");
}

#[test]
fn every_relative_link_resolves() {
    let mut files = vec!["README.md".to_string(), "CHANGELOG.md".to_string()];
    files.extend(doc_pages());
    let mut checked = 0;
    let mut broken = Vec::new();
    for file in &files {
        let text = read(file);
        let dir = Path::new(file).parent().unwrap_or(Path::new(""));
        for target in link_targets(&text) {
            if is_external(&target) {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() { PathBuf::from(file) } else { dir.join(path) };
            checked += 1;
            let full = root().join(&resolved);
            if !full.exists() {
                broken.push(format!("{file}: {target} (no {})", resolved.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let is_md = full.extension().is_some_and(|e| e == "md");
                let known = is_md && anchors(&std::fs::read_to_string(&full).unwrap_or_default()).contains(anchor);
                if !known {
                    broken.push(format!("{file}: {target} (no heading #{anchor} in {})", resolved.display()));
                }
            }
        }
    }
    assert!(checked > 50, "the README and docs link to each other: only {checked} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The path of every key the configuration accepts, found through serde (so kebab-case and
/// renames are serde's own): a config with every optional section present, serialised back.
fn config_keys() -> Vec<Vec<String>> {
    let text = format!(
        "{EMBEDDED_DEFAULT}\n\
         [smtp]\nhost = \"127.0.0.1\"\nfrom = \"entrywatch <entrywatch@example.com>\"\n\n\
         [[alerts.override]]\ncode = \"03\"\nseverity = \"critical\"\n"
    );
    let config = Config::from_toml(&text, "tests/docs.rs").expect("a config with every section");
    let value = serde_json::to_value(&config).expect("config as JSON");
    let mut keys = Vec::new();
    walk(&value, &mut Vec::new(), &mut keys);
    keys
}

fn walk(value: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                path.push(k.clone());
                out.push(path.clone());
                // `[variance] severity` is a table keyed by variance field names, not config keys.
                if path.as_slice() != ["variance", "severity"] {
                    walk(v, path, out);
                }
                path.pop();
            }
        }
        serde_json::Value::Array(items) => {
            if let Some(first) = items.first() {
                walk(first, path, out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_config_key_is_in_docs_configuration() {
    let doc = read("docs/configuration.md");
    let keys = config_keys();
    assert!(keys.len() > 40, "the walk found the configuration's keys: {keys:?}");
    let mut missing = Vec::new();
    for path in &keys {
        let key = path.last().expect("a key");
        let dotted = path.join(".");
        let table_form = format!("[{dotted}]");
        let array_form = format!("[[{dotted}]]");
        let documented = doc.contains(&format!("`{key}`"))
            || doc.contains(&format!("`{dotted}`"))
            || doc.contains(&table_form)
            || doc.contains(&array_form);
        if !documented {
            missing.push(dotted);
        }
    }
    // Every table (section) is named as TOML writes it.
    for path in keys.iter().filter(|p| p.len() == 1) {
        let name = &path[0];
        let section = format!("[{name}]");
        let array = format!("[[{name}]]");
        let is_table = !matches!(name.as_str(), "data-dir" | "grammar-dir");
        if is_table && !doc.contains(&section) && !doc.contains(&array) {
            missing.push(format!("section {name}"));
        }
    }
    assert!(missing.is_empty(), "config keys docs/configuration.md does not document: {missing:?}");
}

#[test]
fn the_configuration_example_loads() {
    let doc = read("docs/configuration.md");
    let start = doc.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the example's end");
    let example = &doc[start..end];
    let config = Config::from_toml(example, "docs/configuration.md").expect("the documented example is a valid config");
    assert!(config.smtp.is_some() && config.inbox.len() == 2 && !config.route.is_empty());
}

#[test]
fn readme_keeps_the_set_up_commands_and_stays_short() {
    let readme = read("README.md");
    assert!(readme.contains("```sh\ncargo run -- run --demo\n```"), "the daemon on its embedded default");
    assert!(readme.contains("```sh\nscripts/test\n```"), "every test");
    let lines = readme.lines().count();
    assert!(lines <= 260, "README.md has {lines} lines: move detail into docs/");
}

#[test]
fn link_parsing_finds_links_outside_code_only() {
    let text = "See [a](docs/a.md) and ![i](x.png).\n```\n[not](a link)\n```\n[b](<c.md>) [t](d.md \"T\")\n";
    assert_eq!(link_targets(text), ["docs/a.md", "x.png", "c.md", "d.md"]);
    assert_eq!(slug("Upgrades: the store schema and `rebuild`"), "upgrades-the-store-schema-and-rebuild");
}

/// The crate's modules (`pub mod NAME;` in src/lib.rs).
fn modules() -> Vec<String> {
    read("src/lib.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').trim().to_string())
        .collect()
}

#[test]
fn every_module_is_in_the_crate_map_and_the_source_layout() {
    let lib = read("src/lib.rs");
    let crate_doc: String = lib.lines().filter(|l| l.starts_with("//!")).collect::<Vec<_>>().join("\n");
    let layout = read("docs/development.md");
    let mods = modules();
    assert!(mods.len() > 20, "{mods:?}");
    for m in &mods {
        assert!(crate_doc.contains(&format!("[`{m}`]")), "src/lib.rs's module map does not name {m}");
        let file = format!("`src/{m}.rs`");
        let dir = format!("`src/{m}/`");
        assert!(layout.contains(&file) || layout.contains(&dir), "docs/development.md's layout does not list {m}");
    }
}

/// Crash injection is compiled only with the `crash-points` feature: CI (scripts/test) must
/// build the tests with it and lint with it, and every test file that sets
/// `ENTRYWATCH_CRASH_AT` must fail, saying so, in a build without it.
#[test]
fn ci_runs_the_crash_point_tests_with_the_feature() {
    let script = read("scripts/test");
    let test_line = script.lines().find(|l| l.starts_with("cargo test ")).expect("scripts/test runs cargo test");
    assert!(test_line.contains("--features crash-points"), "scripts/test: {test_line}");
    assert!(
        script.lines().any(|l| l.starts_with("cargo clippy ") && l.contains("--all-features")),
        "scripts/test lints the crash points (clippy --all-features)"
    );
    assert!(read("Cargo.toml").contains("\ncrash-points = []"), "Cargo.toml declares the crash-points feature");
    let mut setters = Vec::new();
    for e in std::fs::read_dir(root().join("tests")).expect("tests/").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rs") {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).expect("test file");
        if text.contains(".env(\"ENTRYWATCH_CRASH_AT\"") {
            assert!(
                text.contains("common::require_crash_points()"),
                "tests/{name} sets ENTRYWATCH_CRASH_AT without common::require_crash_points()"
            );
            setters.push(name);
        }
    }
    setters.sort();
    assert!(setters.contains(&"reliability.rs".to_string()), "{setters:?}");
}
