//! The real SMTP server the mail tests talk to: aiosmtpd (tests/common/smtp_server.py) as a
//! child process on a loopback port, saving each message it accepts as JSON; and reading those
//! messages (the one mailbox reader, header unfolding, the one quoted-printable decoder).
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use super::net::free_port;

/// A running aiosmtpd child process, stopped by its PID on drop.
pub struct Server {
    child: Child,
    dir: PathBuf,
}

impl Server {
    /// Start aiosmtpd on `port`, saving into `dir`; `None` (after [`super::require_aiosmtpd`]:
    /// a failure under CI) when aiosmtpd is not installed.
    pub fn start(port: u16, dir: &Path, extra: &[&str]) -> Option<Server> {
        if !super::require_aiosmtpd() {
            return None;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/smtp_server.py");
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
        Some(Server { child, dir: dir.to_path_buf() })
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

/// One message aiosmtpd accepted: envelope sender and recipients, the raw message.
#[derive(Debug, serde::Deserialize)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub data: String,
}

/// The messages saved in `dir`, in arrival order (the mailbox reader).
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

/// The values of one header (unfolded) of a raw message.
pub fn header(raw: &str, name: &str) -> Vec<String> {
    headers(raw).into_iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v).collect()
}

/// Quoted-printable undone (RFC 2045 section 6.7): soft line breaks removed, `=XX` escapes
/// decoded; anything else kept as it is.
pub fn qp_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let Some(h) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(h);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The whole body of a raw message (every part) with quoted-printable undone.
pub fn body_decoded(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    qp_decode(raw.split_once("\n\n").map(|(_, b)| b).unwrap_or_default())
}

/// The HTML alternative of a decoded body.
pub fn html_part(body: &str) -> &str {
    body.find("<!DOCTYPE html>").map(|i| &body[i..]).unwrap_or("")
}

/// Headers (unfolded) and the decoded text and HTML parts of a raw message.
pub struct Mail {
    pub headers: Vec<(String, String)>,
    pub header_block: String,
    pub content_type: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// A raw message split into headers and its decoded `text/plain` and `text/html` parts
    /// (7bit or quoted-printable; base64 is refused).
    pub fn parse(raw: &str) -> Mail {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").expect("header/body separator");
        let headers = unfold(head);
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let boundary = content_type
            .split("boundary=")
            .nth(1)
            .map(|b| b.trim_matches('"').split(';').next().unwrap_or("").trim_matches('"').to_string())
            .unwrap_or_default();
        let mut text = String::new();
        let mut html = String::new();
        if !boundary.is_empty() {
            for part in body.split(&format!("--{boundary}")) {
                let Some((ph, pb)) = part.trim_start_matches('\n').split_once("\n\n") else { continue };
                let ph = unfold(ph);
                let get = |name: &str| {
                    ph.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_ascii_lowercase())
                };
                let enc = get("Content-Transfer-Encoding").unwrap_or_default();
                assert!(!enc.contains("base64"), "test decoder expects 7bit or quoted-printable, got {enc}");
                let decoded = if enc.contains("quoted-printable") { qp_decode(pb) } else { pb.to_string() };
                match get("Content-Type") {
                    Some(ct) if ct.starts_with("text/plain") => text = decoded,
                    Some(ct) if ct.starts_with("text/html") => html = decoded,
                    _ => {}
                }
            }
        }
        Mail { headers, header_block: head.to_string(), content_type, text, html }
    }

    /// Every value of one header.
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }
}
