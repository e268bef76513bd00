//! The layering rules, read from the source: the domain is a leaf (it names only plain-data
//! helpers), variance, config and domain import each other in no circle, and the alert queue
//! (`alert/outbox.rs`, `alert/store.rs`), rendering (`alert/render.rs`) and delivery
//! (`alert/mailer.rs`) import each other in no circle; the configuration and the calendar
//! are in no circle at all, and the circles left among the top-level modules are the ones
//! listed, each with its reason. Test code (`#[cfg(test)]` and below)
//! and comments are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `alert/outbox.rs` → `["alert", "outbox"]`, `domain/mod.rs` →
/// `["domain"]`, `config.rs` → `["config"]`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

/// The code of a file without comments and without its test module.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        // A trailing comment (`x; // see crate::y`) is not code either.
        let code = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn ident_at(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Every module path a piece of code names through `crate::` or `super::` (groups
/// `crate::{a, b::c}` expanded), as absolute paths of identifiers.
fn paths_named(code: &str, me: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (anchor, base) in [("crate::", Vec::new()), ("super::", me[..me.len().saturating_sub(1)].to_vec())] {
        let mut rest = code;
        while let Some(i) = rest.find(anchor) {
            let before = rest[..i].chars().last();
            rest = &rest[i + anchor.len()..];
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // `foo_crate::` or `$crate::`-like: not ours
            }
            let mut path = base.clone();
            let mut s = rest;
            loop {
                if let Some(group) = s.strip_prefix('{') {
                    let close = group.find('}').unwrap_or(group.len());
                    for item in group[..close].split(',') {
                        let mut p = path.clone();
                        for seg in item.trim().split("::") {
                            let (id, _) = ident_at(seg.trim());
                            if id.is_empty() || id == "self" {
                                break;
                            }
                            p.push(id.to_string());
                        }
                        out.push(p);
                    }
                    break;
                }
                let (id, after) = ident_at(s);
                if id.is_empty() {
                    out.push(path.clone());
                    break;
                }
                path.push(id.to_string());
                match after.strip_prefix("::") {
                    Some(next) => s = next,
                    None => {
                        out.push(path.clone());
                        break;
                    }
                }
            }
        }
    }
    out
}

/// The node a module path belongs to: the top-level module, except inside `alert` where each
/// file is its own node (`alert/outbox`).
fn node_of(path: &[String], files: &BTreeSet<Vec<String>>) -> Option<String> {
    let top = path.first()?;
    if top == "alert" {
        if let Some(sub) = path.get(1) {
            if files.contains(&vec!["alert".to_string(), sub.clone()]) {
                return Some(format!("alert/{sub}"));
            }
        }
        return Some("alert".into());
    }
    files.iter().any(|f| f.first() == Some(top)).then(|| top.clone())
}

struct Graph {
    /// node → nodes it names.
    edges: BTreeMap<String, BTreeSet<String>>,
    /// node → every full path it names (for the domain's allowlist).
    named: BTreeMap<String, BTreeSet<Vec<String>>>,
}

fn graph() -> Graph {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(f)).collect();
    let mut g = Graph { edges: BTreeMap::new(), named: BTreeMap::new() };
    for f in &files {
        let me = module_of(f);
        let Some(node) = node_of(&me, &modules) else { continue };
        for p in paths_named(&code_of(f), &me) {
            let Some(to) = node_of(&p, &modules) else { continue };
            g.named.entry(node.clone()).or_default().insert(p);
            if to != node {
                g.edges.entry(node.clone()).or_default().insert(to);
            }
        }
    }
    g
}

impl Graph {
    /// Some path from `from` back to `from`, if any.
    fn cycle_through(&self, from: &str) -> Option<Vec<String>> {
        let mut stack: Vec<Vec<String>> = vec![vec![from.to_string()]];
        let mut seen = BTreeSet::new();
        while let Some(path) = stack.pop() {
            let last = path.last().unwrap().clone();
            for next in self.edges.get(&last).into_iter().flatten() {
                if next == from {
                    let mut p = path.clone();
                    p.push(next.clone());
                    return Some(p);
                }
                if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push(p);
                }
            }
        }
        None
    }

    fn uses(&self, from: &str) -> BTreeSet<String> {
        self.edges.get(from).cloned().unwrap_or_default()
    }
}

#[test]
fn the_domain_names_only_plain_data_helpers() {
    let g = graph();
    // The leaf helpers the domain may use, each itself naming nothing of the crate.
    let allowed = ["domain", "entry_number", "money", "clock"];
    let named = g.named.get("domain").cloned().unwrap_or_default();
    assert!(!named.is_empty(), "the domain's own paths are read (super::, crate::domain)");
    for p in &named {
        let top = p.first().map(String::as_str).unwrap_or("");
        assert!(allowed.contains(&top), "src/domain names crate::{}: only {allowed:?} are allowed", p.join("::"));
    }
    for leaf in ["entry_number", "money", "clock"] {
        assert_eq!(g.uses(leaf), BTreeSet::new(), "{leaf} must stay a leaf");
    }
    // So nothing the domain reaches comes back to it.
    assert_eq!(g.cycle_through("domain"), None);
}

#[test]
fn variance_config_and_domain_import_each_other_in_no_circle() {
    let g = graph();
    let config = g.uses("config");
    for m in ["variance", "domain", "ace", "recovery", "alert", "ingest", "store", "query", "web", "cli"] {
        assert!(!config.contains(m), "config names {m}: {config:?}");
    }
    let variance = g.uses("variance");
    assert!(
        variance.contains("config") && variance.contains("domain"),
        "variance reads config and domain: {variance:?}"
    );
    // The evaluations' consumers (the three-way match, alerts, the store's loading) sit above it.
    for m in ["ace", "recovery", "alert", "ingest", "store", "query", "web", "cli", "links", "deadline"] {
        assert!(!variance.contains(m), "variance names {m}: {variance:?}");
    }
    let three = ["variance", "config", "domain"];
    let sub = Graph {
        edges: g
            .edges
            .iter()
            .filter(|(k, _)| three.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.iter().filter(|x| three.contains(&x.as_str())).cloned().collect()))
            .collect(),
        named: BTreeMap::new(),
    };
    for m in three {
        assert_eq!(sub.cycle_through(m), None, "{m}");
    }
}

#[test]
fn the_alert_queue_rendering_and_delivery_import_each_other_in_no_circle() {
    let g = graph();
    let parts = ["alert/outbox", "alert/store", "alert/render", "alert/mailer"];
    // The queue knows neither how a mail looks nor how it is sent.
    for queue in ["alert/outbox", "alert/store"] {
        let uses = g.uses(queue);
        assert!(!uses.contains("alert/render") && !uses.contains("alert/mailer"), "{queue} names {uses:?}");
    }
    assert!(!g.uses("alert/render").contains("alert/mailer"), "rendering does not send");
    for p in parts {
        // No circle among the four (a path leaving them may come back only through none of them).
        let sub = Graph {
            edges: g
                .edges
                .iter()
                .filter(|(k, _)| parts.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.iter().filter(|x| parts.contains(&x.as_str())).cloned().collect()))
                .collect(),
            named: BTreeMap::new(),
        };
        assert_eq!(sub.cycle_through(p), None, "{p}");
    }
}

/// The graph of top-level modules (`alert` as one node).
fn top_level(g: &Graph) -> BTreeMap<String, BTreeSet<String>> {
    let top = |n: &str| n.split('/').next().unwrap_or(n).to_string();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in &g.edges {
        for to in tos {
            if top(from) != top(to) {
                out.entry(top(from)).or_default().insert(top(to));
            }
        }
    }
    out
}

/// The strongly connected groups of more than one module (Tarjan's algorithm, iterative
/// enough for a crate's module count).
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct T<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on: BTreeSet<String>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit(t: &mut T<'_>, v: &str) {
        let i = t.index.len();
        t.index.insert(v.to_string(), i);
        t.low.insert(v.to_string(), i);
        t.stack.push(v.to_string());
        t.on.insert(v.to_string());
        for w in t.edges.get(v).cloned().unwrap_or_default() {
            if !t.index.contains_key(&w) {
                visit(t, &w);
                let l = t.low[v].min(t.low[&w]);
                t.low.insert(v.to_string(), l);
            } else if t.on.contains(&w) {
                let l = t.low[v].min(t.index[&w]);
                t.low.insert(v.to_string(), l);
            }
        }
        if t.low[v] == t.index[v] {
            let mut group = BTreeSet::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(&w);
                let done = w == v;
                group.insert(w);
                if done {
                    break;
                }
            }
            if group.len() > 1 {
                t.out.push(group);
            }
        }
    }
    let mut t = T {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    let nodes: BTreeSet<String> =
        edges.iter().flat_map(|(k, v)| std::iter::once(k.clone()).chain(v.iter().cloned())).collect();
    for n in nodes {
        if !t.index.contains_key(&n) {
            visit(&mut t, &n);
        }
    }
    t.out
}

/// The circles allowed among the top-level modules, each a group no new module may join:
/// its members and why they still import each other. A circle inside a group (or a group
/// that splits) passes; a module outside every group that joins a circle fails.
const ALLOWED_CIRCLES: &[(&[&str], &str)] = &[
    (
        &[
            "ace",
            "ack",
            "alert",
            "deadline",
            "grammar",
            "ingest",
            "interpret",
            "links",
            "parse",
            "query",
            "recovery",
            "report",
            "store",
            "variance",
            "view",
        ],
        "the file pipeline and its consumers: the store loads an entry with its variance evaluated \
         and keeps the alert outbox, acks and reminders; ingest, alerts, deadlines and the refund \
         windows write through the store; the grammars carry the refund programs' rules and the \
         parsers the grammars; the reports and views name each other's row types. Splitting it \
         needs the store's table types moved below the modules whose values they hold (issue 15, \
         item 3), not an import.",
    ),
    (&["cli", "ipc"], "the daemon's socket serves the CLI's own commands, and the CLI asks the daemon"),
];

#[test]
fn config_and_calendar_are_in_no_circle_and_the_rest_are_listed() {
    let g = top_level(&graph());
    // The two circles of issue 15: config → links → calendar → config, and config → grammar
    // → recovery → store → variance → config. The configuration and the calendar are plain
    // data: the calendar names nothing of the crate, the configuration only the calendar.
    assert_eq!(g.get("calendar").cloned().unwrap_or_default(), BTreeSet::new(), "calendar names nothing");
    let config = g.get("config").cloned().unwrap_or_default();
    assert!(config.iter().all(|m| m == "calendar"), "config names only the calendar: {config:?}");
    let found = circles(&g);
    for group in &found {
        assert!(!group.contains("config") && !group.contains("calendar") && !group.contains("domain"), "{group:?}");
        let allowed = ALLOWED_CIRCLES.iter().find(|(members, _)| group.iter().all(|m| members.contains(&m.as_str())));
        assert!(allowed.is_some(), "a circle among the top-level modules that no allowed group holds: {group:?}");
    }
    // The reader finds circles (the allowed list is not vacuous).
    let two: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "a"), ("c", "a")]
        .into_iter()
        .map(|(x, y)| (x.to_string(), BTreeSet::from([y.to_string()])))
        .collect();
    assert_eq!(circles(&two), vec![BTreeSet::from(["a".to_string(), "b".to_string()])]);
}

#[test]
fn the_reader_sees_groups_super_and_skips_comments() {
    let me = vec!["alert".to_string(), "outbox".to_string()];
    let code = code_of(&src().join("domain/ace.rs"));
    assert!(!code.contains("crate::ace"), "the module comment naming crate::ace is not code");
    let p = paths_named(
        "use super::{rules, Alert};\nuse crate::config::{Route, x::Y};\nlet a = crate::money::plain(1);",
        &me,
    );
    let s: Vec<String> = p.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        s,
        ["config::Route", "config::x::Y", "money::plain", "alert::rules", "alert::Alert"].map(String::from).to_vec()
    );
}
