//! The CLI side of the command socket: find the daemon that holds the store, send it the parsed
//! command (or the files to ingest), and copy what it answers to stdout and stderr.

use super::{
    client_paths, frame, FileHead, Job, Request, CLIENT_IDLE_TIMEOUT, IO_TIMEOUT, MAX_FILES, PROTOCOL_VERSION,
};
use crate::cli::dispatch::Query;
use crate::cli::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::clock::Clock;
use crate::config::Config;
use crate::store::StoreError;
use std::io::{IsTerminal, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// The largest frame a client accepts (the daemon sends at most 64 KiB).
const MAX_FRAME: u32 = 16 << 20;

/// Why a command could not be handed to a daemon.
enum Unreached {
    /// No daemon answered: each place tried and what happened there.
    Nobody(Vec<(PathBuf, String)>),
    /// A daemon answered and refused (busy, too large, another version ...).
    Refused(PathBuf, String),
}

fn read_frame(s: &mut UnixStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 5];
    s.read_exact(&mut head)?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    if len > MAX_FRAME {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("a {len}-byte frame")));
    }
    let mut payload = vec![0; len as usize];
    s.read_exact(&mut payload)?;
    Ok((head[0], payload))
}

/// What a daemon said to a request.
enum Reply {
    Accepted(UnixStream),
    /// It serves another data dir (or answered oddly): try the next place.
    Elsewhere(String),
    Refused(String),
}

fn ask(path: &Path, body: &[u8]) -> std::io::Result<Reply> {
    let mut s = UnixStream::connect(path)?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    // A busy daemon refuses without reading the request and hangs up: the write may then
    // fail (broken pipe) while its answer is already waiting to be read.
    let sent = s.write_all(&len.to_be_bytes()).and_then(|()| s.write_all(body));
    let (kind, payload) = match read_frame(&mut s) {
        Ok(frame) => frame,
        Err(e) => return Err(sent.err().unwrap_or(e)),
    };
    let text = String::from_utf8_lossy(&payload).to_string();
    Ok(match kind {
        frame::ACCEPT => Reply::Accepted(s),
        frame::WRONG_STORE => Reply::Elsewhere(format!("a daemon answers there, for the data dir {text}")),
        frame::REFUSED => Reply::Refused(text),
        other => Reply::Elsewhere(format!("an unexpected answer (frame {other})")),
    })
}

/// Connect to the first daemon that serves this data dir and have it accept `req`.
fn connect(data_dir: &Path, req: &Request) -> Result<(UnixStream, PathBuf), Unreached> {
    let body = serde_json::to_vec(req).map_err(|e| Unreached::Refused(PathBuf::new(), e.to_string()))?;
    let mut tried = Vec::new();
    for path in client_paths(data_dir) {
        match ask(&path, &body) {
            Ok(Reply::Accepted(s)) => return Ok((s, path)),
            Ok(Reply::Refused(why)) => return Err(Unreached::Refused(path, why)),
            Ok(Reply::Elsewhere(why)) => tried.push((path, why)),
            Err(e) => tried.push((path, e.to_string())),
        }
    }
    Err(Unreached::Nobody(tried))
}

/// Print why neither the store nor a daemon could be reached, and what to do; exit 2.
fn unreached(store_err: &StoreError, why: Unreached) -> i32 {
    match why {
        Unreached::Refused(path, msg) => {
            eprintln!("error: the entrywatch daemon at {} refused the command: {msg}", path.display());
        }
        Unreached::Nobody(tried) => {
            let mut text = format!("error: {store_err}\nerror: and no entrywatch daemon answered for it:\n");
            for (p, why) in &tried {
                text.push_str(&format!("  {}: {why}\n", p.display()));
            }
            text.push_str(
                "what to do: if the daemon runs (systemctl status entrywatch), your user must reach its socket: \
                 add it to the daemon's group (usermod -aG entrywatch USER, then log in again) or run the command \
                 as that user; if another `entrywatch ingest` is running, wait for it to finish; otherwise stop \
                 the process that holds the store (ENTRYWATCH_SOCKET names a socket elsewhere)\n",
            );
            eprint!("{text}");
        }
    }
    EXIT_USAGE
}

fn request(config: &Config, clock: Clock, job: Job) -> Request {
    let now = match clock {
        Clock::Fixed(t) => Some(t),
        Clock::System => None,
    };
    // Absolute: the daemon's working directory is not ours.
    let data_dir = std::fs::canonicalize(&config.data_dir)
        .or_else(|_| std::path::absolute(&config.data_dir))
        .unwrap_or_else(|_| config.data_dir.clone());
    Request { version: PROTOCOL_VERSION, data_dir, now, job }
}

/// What the daemon answered: the exit code and, for ingest, which files it took.
struct Answer {
    code: i32,
    taken: Vec<bool>,
}

/// Copy the daemon's output frames to stdout/stderr until its exit code.
fn relay(s: &mut UnixStream) -> Answer {
    let _ = s.set_read_timeout(Some(CLIENT_IDLE_TIMEOUT));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    let mut taken = Vec::new();
    loop {
        match read_frame(s) {
            Ok((frame::OUT, data)) => {
                if let Err(e) = out.write_all(&data) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Answer { code: EXIT_OK, taken };
                    }
                    eprintln!("error: writing the output: {e}");
                    return Answer { code: EXIT_USAGE, taken };
                }
            }
            Ok((frame::ERR, data)) => {
                let _ = out.flush();
                let _ = err.write_all(&data);
            }
            Ok((frame::TAKEN, data)) => taken = serde_json::from_slice(&data).unwrap_or_default(),
            Ok((frame::EXIT, data)) => {
                let _ = out.flush();
                let code = <[u8; 4]>::try_from(data.as_slice()).map(i32::from_be_bytes).unwrap_or(EXIT_INVALID);
                return Answer { code, taken };
            }
            Ok((other, _)) => {
                let _ = out.flush();
                eprintln!("error: the daemon sent an unexpected frame ({other}); is it the same entrywatch version?");
                return Answer { code: EXIT_INVALID, taken };
            }
            Err(e) => {
                let _ = out.flush();
                eprintln!("error: the daemon stopped answering before the command finished ({e}); its log says more");
                return Answer { code: EXIT_INVALID, taken };
            }
        }
    }
}

/// Have the daemon that holds the store run a data command; print its output; its exit code.
pub fn query(config: &Config, clock: Clock, q: Query, store_err: &StoreError) -> i32 {
    let req = request(config, clock, Job::Query(q));
    match connect(&config.data_dir, &req) {
        Ok((mut s, _)) => relay(&mut s).code,
        Err(why) => unreached(store_err, why),
    }
}

/// Hand files to the daemon that holds the store (it copies them through its pipeline) and
/// print the outcomes; with `move_files`, remove each file the daemon took.
pub fn ingest(
    config: &Config,
    clock: Clock,
    inbox: &str,
    files: &[PathBuf],
    json: bool,
    move_files: bool,
    store_err: &StoreError,
) -> i32 {
    if files.len() > MAX_FILES {
        eprintln!(
            "error: {} files; the daemon takes at most {MAX_FILES} per ingest (run it in parts, or drop them into the inbox folder)",
            files.len()
        );
        return EXIT_USAGE;
    }
    let mut heads = Vec::with_capacity(files.len());
    let mut opened = Vec::with_capacity(files.len());
    for f in files {
        let shown = f.display().to_string();
        let file = if f.is_file() {
            std::fs::File::open(f)
                .and_then(|h| h.metadata().map(|m| (h, m.len())))
                .map_err(|e| format!("{shown}: cannot read it: {e}"))
        } else {
            Err(format!("{shown}: not a file"))
        };
        match file {
            Ok((h, len)) => {
                heads.push(FileHead { shown, len, problem: None });
                opened.push(Some((h, len)));
            }
            Err(problem) => {
                heads.push(FileHead { shown, len: 0, problem: Some(problem) });
                opened.push(None);
            }
        }
    }
    let req = request(config, clock, Job::Ingest { inbox: inbox.to_string(), json, files: heads });
    let (mut s, path) = match connect(&config.data_dir, &req) {
        Ok(c) => c,
        Err(why) => return unreached(store_err, why),
    };
    let _ = s.set_write_timeout(Some(IO_TIMEOUT));
    let tty = std::io::stderr().is_terminal();
    let total = files.len();
    for (n, (f, h)) in files.iter().zip(opened).enumerate() {
        if tty {
            eprint!("\r[{}/{total}] sent to the daemon", n + 1);
        }
        let Some((h, len)) = h else { continue };
        let sent = std::io::copy(&mut h.take(len), &mut s);
        match sent {
            Ok(n) if n == len => {}
            Ok(n) => {
                eprintln!(
                    "error: {} changed while it was being sent ({n} of {len} bytes); nothing was ingested",
                    f.display()
                );
                return EXIT_INVALID;
            }
            Err(e) => {
                eprintln!("error: sending {} to the daemon at {}: {e}", f.display(), path.display());
                return EXIT_INVALID;
            }
        }
    }
    if tty {
        eprintln!();
    }
    let answer = relay(&mut s);
    if move_files {
        for (f, took) in files.iter().zip(&answer.taken) {
            if *took {
                if let Err(e) = std::fs::remove_file(f) {
                    eprintln!("warning: {} was ingested but could not be removed: {e}", f.display());
                }
            }
        }
    }
    answer.code
}
