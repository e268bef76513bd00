//! Daemons in tests: the real `entrywatch run` as a child process (waiting for `DaemonReady`,
//! signals, stop and kill), its config text, polling until a condition holds, and the small real
//! file handler of tests/daemon.rs and tests/sftp.rs (claims by rename, logs each file's SHA-256,
//! moves it out).

use entrywatch::config::Inbox;
use entrywatch::source::complete::{check, Completeness};
use entrywatch::source::{FileHandler, HandleOutcome};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One line of the handler's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub inbox: String,
    pub name: String,
    pub sha: String,
    pub len: u64,
    pub truncated: bool,
}

/// Claims a file by renaming it into `work/`, appends `inbox name sha len truncated` to
/// `handled.log` (fsynced), then moves it to `out/`. At construction it finishes whatever a
/// killed predecessor left in `work/`: logged files are only moved on, others are processed.
pub struct LogHandler {
    pub root: PathBuf,
    log: Mutex<std::fs::File>,
    delay: Duration,
}

pub use entrywatch::ingest::sha256_hex;

impl LogHandler {
    pub fn new(root: &Path, delay: Duration) -> std::io::Result<LogHandler> {
        for d in ["work", "out"] {
            std::fs::create_dir_all(root.join(d))?;
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(root.join("handled.log"))?;
        let h = LogHandler { root: root.to_path_buf(), log: Mutex::new(log), delay };
        // Recovery: the claimed files of a run that was killed.
        let logged: Vec<(String, String)> =
            read_log(root).into_iter().map(|l| (format!("{}__{}", l.inbox, l.name), l.sha)).collect();
        for e in std::fs::read_dir(root.join("work"))?.flatten() {
            let work = e.path();
            let key = e.file_name().to_string_lossy().to_string();
            let bytes = std::fs::read(&work)?;
            let sha = sha256_hex(&bytes);
            if !logged.iter().any(|(k, s)| *k == key && *s == sha) {
                let (inbox, name) = key.split_once("__").unwrap_or(("?", key.as_str()));
                h.append(inbox, name, &bytes)?;
            }
            std::fs::rename(&work, root.join("out").join(&key))?;
        }
        Ok(h)
    }

    fn append(&self, inbox: &str, name: &str, bytes: &[u8]) -> std::io::Result<bool> {
        let truncated = check(bytes.get(..512.min(bytes.len())).unwrap_or_default(), bytes) == Completeness::Incomplete;
        let line = format!("{inbox}\t{name}\t{}\t{}\t{truncated}\n", sha256_hex(bytes), bytes.len());
        let mut f = self.log.lock().unwrap();
        f.write_all(line.as_bytes())?;
        f.sync_data()?;
        Ok(truncated)
    }
}

impl FileHandler for LogHandler {
    fn handle(&self, inbox: &Inbox, path: &Path) -> HandleOutcome {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_string()) else {
            return HandleOutcome::Gone;
        };
        let key = format!("{}__{}", inbox.name, name);
        let work = self.root.join("work").join(&key);
        match std::fs::rename(path, &work) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return HandleOutcome::Gone,
            Err(e) => return HandleOutcome::Retry(e.to_string()),
        }
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        let bytes = match std::fs::read(&work) {
            Ok(b) => b,
            Err(e) => return HandleOutcome::Retry(e.to_string()),
        };
        let truncated = match self.append(&inbox.name, &name, &bytes) {
            Ok(t) => t,
            Err(e) => return HandleOutcome::Retry(e.to_string()),
        };
        if let Err(e) = std::fs::rename(&work, self.root.join("out").join(&key)) {
            return HandleOutcome::Retry(e.to_string());
        }
        if truncated {
            HandleOutcome::Quarantined("truncated".into())
        } else {
            HandleOutcome::Processed
        }
    }
}

/// Every line of the handler's log.
pub fn read_log(root: &Path) -> Vec<Logged> {
    let text = std::fs::read_to_string(root.join("handled.log")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some(Logged {
                inbox: f.first()?.to_string(),
                name: f.get(1)?.to_string(),
                sha: f.get(2)?.to_string(),
                len: f.get(3)?.parse().ok()?,
                truncated: *f.get(4)? == "true",
            })
        })
        .collect()
}

/// How many times each (inbox, name) was logged.
pub fn counts(root: &Path) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for l in read_log(root) {
        *m.entry((l.inbox, l.name)).or_insert(0) += 1;
    }
    m
}

/// Poll `f` every 50 ms until it is true or `timeout` passes; returns its last value.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A config file text for the given inboxes `(name, path)`.
pub fn config_text(data_dir: &Path, inboxes: &[(&str, &Path)], settle: u64, grace: u64, rescan: u64) -> String {
    let mut s = format!(
        "data-dir = {:?}\n[daemon]\nrescan-secs = {rescan}\nconcurrency = 2\n[dashboard]\nenabled = false\n",
        data_dir.display().to_string()
    );
    for (name, path) in inboxes {
        s.push_str(&format!(
            "[[inbox]]\nname = {name:?}\npath = {:?}\nrole = \"broker\"\nsettle-secs = {settle}\ntruncated-grace-secs = {grace}\n",
            path.display().to_string()
        ));
    }
    s
}

/// A synthetic X12 interchange of about `size` bytes (whole envelope).
pub fn x12_of_size(size: usize, tag: &str) -> Vec<u8> {
    let mut s = String::from(
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260201*1200*^*00501*000000001*0*P*:~\nGS*QO*S*R*20260201*1200*1*X*005010~\nST*350*0001~\n",
    );
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!("REF*ZZ*{tag}-{i:08}~\n"));
        i += 1;
    }
    s.push_str(&format!("SE*{}*0001~\nGE*1*1~\nIEA*1*000000001~\n", i + 2));
    s.into_bytes()
}

/// The real binary, `entrywatch run --config CONFIG`, as a child process whose stderr goes to
/// a log file. Started with [`RunningDaemon::start`], which waits for `DaemonReady`; killed
/// when dropped.
pub struct RunningDaemon {
    pub child: Child,
    pub log: PathBuf,
}

impl RunningDaemon {
    /// Start `entrywatch run --config CONFIG` (stderr appended to `log`) with extra
    /// environment, and wait (bounded) until it logs `DaemonReady`.
    pub fn start(config: &Path, log: &Path, env: &[(&str, &str)]) -> RunningDaemon {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_entrywatch"));
        cmd.args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .env_remove("ENTRYWATCH_CONFIG")
            .env_remove("ENTRYWATCH_CRASH_AT")
            .env_remove("NOTIFY_SOCKET");
        for (k, v) in env {
            cmd.env(k, v);
        }
        RunningDaemon::spawn(cmd, log)
    }

    /// Spawn `cmd`, a daemon that logs `DaemonReady` on stderr, with stderr appended to `log`,
    /// and wait (bounded) until it is ready.
    pub fn spawn(mut cmd: Command, log: &Path) -> RunningDaemon {
        let stderr = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        cmd.stdout(Stdio::null()).stderr(stderr);
        let before = std::fs::read_to_string(log).map(|s| s.matches("DaemonReady").count()).unwrap_or(0);
        let d = RunningDaemon { child: cmd.spawn().unwrap(), log: log.to_path_buf() };
        let up = wait_until(Duration::from_secs(30), || d.log_text().matches("DaemonReady").count() > before);
        assert!(up, "the daemon did not become ready within 30 s:\n{}", d.log_tail());
        d
    }

    /// Wait (bounded) until the log contains `what`.
    pub fn wait_log(&self, what: &str, timeout: Duration) -> bool {
        wait_until(timeout, || self.log_text().contains(what))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last 40 lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill").args([&format!("-{sig}"), &self.child.id().to_string()]).status().unwrap();
        assert!(st.success(), "kill -{sig} failed");
    }

    /// SIGTERM, then wait (bounded) for the exit; asserts exit code 0.
    pub fn stop(mut self) {
        self.signal("TERM");
        let st = self.wait_exit(Duration::from_secs(30));
        assert_eq!(st.and_then(|s| s.code()), Some(0), "SIGTERM did not give exit 0:\n{}", self.log_tail());
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(mut self) {
        self.signal("KILL");
        assert!(self.wait_exit(Duration::from_secs(10)).is_some(), "the daemon survived SIGKILL");
    }

    /// Wait (bounded) for the exit; killed when it does not come.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Some(st);
            }
            if Instant::now() > end {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RunningDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config for `entrywatch run` with a `broker` and an `approved` inbox, the dashboard off.
pub fn run_config_text(data_dir: &Path, broker: &Path, approved: &Path, settle: u64, grace: u64) -> String {
    let mut s = format!(
        "data-dir = {:?}\n[daemon]\nrescan-secs = 5\nconcurrency = 2\n[dashboard]\nenabled = false\n",
        data_dir.display().to_string()
    );
    for (name, path) in [("broker", broker), ("approved", approved)] {
        s.push_str(&format!(
            "[[inbox]]\nname = {name:?}\npath = {:?}\nrole = {name:?}\nsettle-secs = {settle}\ntruncated-grace-secs = {grace}\n",
            path.display().to_string()
        ));
    }
    s
}
