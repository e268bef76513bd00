//! The real SMTP server the mail tests talk to: aiosmtpd (tests/support/smtp_server.py) as a
//! child process on a loopback port, saving each message it accepts as JSON.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

#[path = "../support/net.rs"]
mod net;
pub use net::free_port;

/// A running aiosmtpd child process, stopped by its PID on drop.
pub struct Server {
    child: Child,
    dir: PathBuf,
}

impl Server {
    pub fn start(port: u16, dir: &Path, extra: &[&str]) -> Server {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg("--port")
            .arg(port.to_string())
            .arg("--dir")
            .arg(dir)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (the SMTP test server needs python3 and aiosmtpd: python3 -m pip install aiosmtpd)");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut line = String::new();
        let n = BufReader::new(stdout).read_line(&mut line).unwrap_or(0);
        if n == 0 || line.trim() != "READY" {
            let _ = child.kill();
            let _ = child.wait();
            panic!("SMTP test server did not start (is aiosmtpd installed? python3 -m pip install aiosmtpd): {line:?}");
        }
        Server { child, dir: dir.to_path_buf() }
    }

    /// Every message received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        received(&self.dir)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
        let _ = self.child.wait();
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct Received {
    #[allow(dead_code)]
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub data: String,
}

pub fn received(dir: &Path) -> Vec<Received> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read message")).expect("message json"))
        .collect()
}

/// Header lines unfolded into (name, value) pairs (continuation lines joined with a space).
pub fn unfold(block: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.split("\r\n").flat_map(|l| l.split('\n')) {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.to_string(), v.trim().to_string()));
        }
    }
    out
}

/// The unfolded headers of a raw message (everything before the first blank line).
pub fn headers(raw: &str) -> Vec<(String, String)> {
    let raw = raw.replace("\r\n", "\n");
    unfold(raw.split_once("\n\n").map(|(h, _)| h).unwrap_or_default())
}
