//! A temp data dir with a config (`broker` and `approved` inboxes), running the real binary on
//! it, and reading folders (files under a folder, the archive).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const NOW: &str = "2026-02-20T09:00:00-05:00";

pub struct Env {
    pub dir: tempfile::TempDir,
    /// `ENTRYWATCH_NOW` of every command run ([`NOW`] unless [`Env::at`] says otherwise).
    pub now: String,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in ["broker", "approved"] {
            std::fs::create_dir_all(root.join("in").join(d)).unwrap();
        }
        let cfg = format!(
            "data-dir = {:?}\n[[inbox]]\nname = \"broker\"\npath = {:?}\nrole = \"broker\"\n[[inbox]]\nname = \"approved\"\npath = {:?}\nrole = \"approved\"\n",
            root.join("data"),
            root.join("in/broker"),
            root.join("in/approved")
        );
        std::fs::write(root.join("entrywatch.toml"), cfg).unwrap();
        Env { dir, now: NOW.to_string() }
    }
    /// The same env with the clock of its commands at `now` (RFC 3339).
    pub fn at(mut self, now: &str) -> Env {
        self.now = now.to_string();
        self
    }
    /// A path below the env's root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }
    /// Add `keys` (TOML lines) to the `[[inbox]]` block named `inbox`.
    pub fn inbox_keys(&self, inbox: &str, keys: &str) {
        let cfg = std::fs::read_to_string(self.config()).unwrap();
        let at = cfg.find(&format!("name = {inbox:?}\n")).unwrap_or_else(|| panic!("no inbox {inbox}"));
        let role = at + cfg[at..].find("role = ").expect("role line");
        let end = role + cfg[role..].find('\n').expect("line end") + 1;
        let keys = if keys.ends_with('\n') { keys.to_string() } else { format!("{keys}\n") };
        std::fs::write(self.config(), format!("{}{keys}{}", &cfg[..end], &cfg[end..])).unwrap();
    }
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    pub fn data(&self) -> PathBuf {
        self.root().join("data")
    }
    pub fn inbox(&self, name: &str) -> PathBuf {
        self.root().join("in").join(name)
    }
    pub fn config(&self) -> PathBuf {
        self.root().join("entrywatch.toml")
    }
    /// Append TOML to the config (sections after the inboxes: routes, `[smtp]` ...).
    pub fn add_config(&self, text: &str) {
        let mut cfg = std::fs::read_to_string(self.config()).unwrap();
        cfg.push_str(text);
        std::fs::write(self.config(), cfg).unwrap();
    }
    /// Add an inbox `name` of `role` (its folder made beside the others) to the config.
    pub fn add_inbox(&self, name: &str, role: &str) {
        std::fs::create_dir_all(self.inbox(name)).unwrap();
        self.add_config(&format!("[[inbox]]\nname = {name:?}\npath = {:?}\nrole = {role:?}\n", self.inbox(name)));
    }
    /// Write a file into an inbox folder; returns its path.
    pub fn drop_file(&self, inbox: &str, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.inbox(inbox).join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_entrywatch"));
        c.env("ENTRYWATCH_NOW", &self.now).env_remove("ENTRYWATCH_CRASH_AT").env_remove("ENTRYWATCH_CONFIG");
        c
    }
    /// `ingest --move` of files in an inbox folder: claimed as the daemon claims them (moved
    /// into work/, then archive/ or quarantine/).
    pub fn ingest(&self, inbox: &str, files: &[PathBuf]) -> Output {
        let mut c = self.cmd();
        c.arg("ingest").arg("--move").arg("--config").arg(self.config()).arg("--inbox").arg(inbox).args(files);
        c.output().unwrap()
    }
    /// Run a command with `--config` at the end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).arg("--config").arg(self.config()).output().unwrap()
    }
    /// Run a command with `--config`; it must succeed and print JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e})"))
    }
    pub fn entry_json(&self, entry: &str) -> serde_json::Value {
        let o = self.cmd().args(["entry", entry, "--json", "--config"]).arg(self.config()).output().unwrap();
        assert!(o.status.success(), "entry {entry}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }
    pub fn entries(&self) -> Vec<String> {
        let o = self.cmd().args(["entries", "--json", "--config"]).arg(self.config()).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array().unwrap().iter().map(|r| r["entry"].as_str().unwrap().to_string()).collect()
    }
    /// Every entry's `entry --json`, keyed by entry.
    pub fn dump(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        self.entries().into_iter().map(|e| (e.clone(), self.entry_json(&e))).collect()
    }
    /// Files under a folder of the data dir, recursively (relative names, sorted).
    pub fn files_under(&self, rel: &str) -> Vec<String> {
        files_under(&self.data().join(rel))
    }
}

/// Asserts a command succeeded, showing its exit code, stdout and stderr when not.
pub fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The file names under `<data-dir>/archive/YYYY/MM/DD/<inbox>/`, as (inbox, name).
pub fn archived(data_dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in files_under(&data_dir.join("archive")) {
        let parts: Vec<&str> = f.split('/').collect();
        if let [_, _, _, inbox, name] = parts.as_slice() {
            out.push((inbox.to_string(), name.to_string()));
        }
    }
    out.sort();
    out
}

/// Every file under a folder, recursively, as paths relative to it (sorted; none when absent).
pub fn files_under(root: &Path) -> Vec<String> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<String>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else if let Ok(rel) = p.strip_prefix(root) {
                    out.push(rel.display().to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// The names in a folder (sorted; none when absent).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The repo's samples/abi folder.
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/abi")
}

/// The names of one entry's whole life in samples/abi, in order: life-00 (the approved
/// pre-entry) and life-01..09 (the broker's and CBP's files).
pub fn life_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(samples())
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect())
        .unwrap_or_default();
    names.retain(|n| n.starts_with("life-"));
    names.sort();
    assert_eq!(names.len(), 10, "samples/abi life-00..09 missing: {names:?}");
    names
}

/// An ABI file with `extra` records inserted after each record whose first characters are
/// `after` (the n-th such record gets `extra(n)`, which may be empty), the Y-record count
/// (positions 13-17) updated to the records between B and Y.
pub fn abi_insert(text: &str, after: &str, extra: &dyn Fn(usize) -> Vec<String>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut n = 0;
    for l in text.lines() {
        out.push(l.to_string());
        if l.starts_with(after) {
            out.extend(extra(n).into_iter().map(|r| format!("{r:<80}")));
            n += 1;
        }
    }
    let b = out.iter().position(|l| l.starts_with('B')).expect("B record");
    let y = out.iter().position(|l| l.starts_with('Y')).expect("Y record");
    let count = format!("{:05}", y - b - 1);
    out[y].replace_range(12..17, &count);
    out.join("\n") + "\n"
}
