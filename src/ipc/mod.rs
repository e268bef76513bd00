//! The daemon's local command socket: where it lives, the wire protocol and its limits. The
//! CLI asks the running daemon to run a data command (or ingest files) against the store it
//! holds; [`server`] runs in the daemon, [`client`] in `entrywatch entry ...`.
//!
//! Protocol (one request per connection, Unix stream socket, never TCP):
//!
//! ```text
//! client → u32 BE length, JSON Request (at most MAX_HEADER_BYTES)
//! server → frame ACCEPT, or WRONG_STORE (payload: the daemon's data dir), or REFUSED (why)
//! client → for ingest only: each file's bytes, exactly FileHead.len each, in order
//! server → frames OUT / ERR (stdout / stderr bytes), TAKEN (ingest: JSON [bool] per file),
//!          then EXIT (i32 BE), and closes
//! frame  = kind u8, u32 BE length, payload
//! ```

pub mod client;
pub mod server;

use crate::cli::dispatch::Query;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The socket's file name, in the runtime directory or the data dir.
pub const SOCKET_NAME: &str = "entrywatch.sock";
/// Where systemd's `RuntimeDirectory=entrywatch` puts it (clients look here too).
pub const SYSTEM_RUNTIME_DIR: &str = "/run/entrywatch";
/// Bumped when the request or frames change shape.
pub const PROTOCOL_VERSION: u32 = 1;
/// The largest request header (the command and its arguments, the names of files to ingest).
pub const MAX_HEADER_BYTES: u32 = 1 << 20;
/// The most files one `ingest` may hand over.
pub const MAX_FILES: usize = 10_000;
/// The largest file one `ingest` may hand over (CBP files are far smaller).
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// Commands the daemon runs at once; more are refused with "busy".
pub const MAX_CLIENTS: usize = 16;
/// A client that sends nothing (or reads nothing) for this long is dropped.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// A client waits this long for the daemon's next frame (a report over a large store may
/// take minutes before its first line).
pub const CLIENT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// The most bytes of output sent in one frame.
pub const FRAME_CHUNK: usize = 64 * 1024;

/// Frame kinds.
pub mod frame {
    pub const ACCEPT: u8 = b'A';
    pub const WRONG_STORE: u8 = b'W';
    pub const REFUSED: u8 = b'R';
    pub const OUT: u8 = b'O';
    pub const ERR: u8 = b'E';
    pub const TAKEN: u8 = b'T';
    pub const EXIT: u8 = b'X';
}

/// What the client asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub version: u32,
    /// The data dir the client's configuration names: a daemon serving another one says so.
    pub data_dir: PathBuf,
    /// The client's `ENTRYWATCH_NOW`, when set (else the system clock).
    pub now: Option<DateTime<FixedOffset>>,
    pub job: Job,
}

/// A data command, or files to ingest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Job {
    Query(Query),
    Ingest { inbox: String, json: bool, files: Vec<FileHead> },
}

/// One file handed over by `ingest`: its name as the user gave it, and its length (the bytes
/// follow the header), or why the client could not read it (then no bytes follow).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileHead {
    pub shown: String,
    pub len: u64,
    pub problem: Option<String>,
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The runtime directory systemd gave the service (`$RUNTIME_DIRECTORY`, the first when
/// several are listed).
fn runtime_dir() -> Option<PathBuf> {
    let v = std::env::var("RUNTIME_DIRECTORY").ok()?;
    v.split(':').find(|s| !s.is_empty()).map(PathBuf::from)
}

/// Where the daemon listens: `$ENTRYWATCH_SOCKET`, else `$RUNTIME_DIRECTORY/entrywatch.sock`
/// (systemd's `RuntimeDirectory=entrywatch`), else `<data-dir>/entrywatch.sock`.
pub fn server_path(data_dir: &Path) -> PathBuf {
    env_path("ENTRYWATCH_SOCKET")
        .or_else(|| runtime_dir().map(|d| d.join(SOCKET_NAME)))
        .unwrap_or_else(|| data_dir.join(SOCKET_NAME))
}

/// Where a client looks, in order: `$ENTRYWATCH_SOCKET`, `$RUNTIME_DIRECTORY`, `/run/entrywatch`,
/// then the data dir (where a daemon listening elsewhere leaves a link to its socket).
pub fn client_paths(data_dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    for p in [
        env_path("ENTRYWATCH_SOCKET"),
        runtime_dir().map(|d| d.join(SOCKET_NAME)),
        Some(Path::new(SYSTEM_RUNTIME_DIR).join(SOCKET_NAME)),
        Some(data_dir.join(SOCKET_NAME)),
    ]
    .into_iter()
    .flatten()
    {
        if !v.contains(&p) {
            v.push(p);
        }
    }
    v
}

/// The same folder, however it is written (symlinks, `..`); the path itself when it cannot
/// be resolved.
pub fn same_dir(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(a) == canon(b)
}

/// A frame header: kind and payload length.
pub fn frame_header(kind: u8, len: usize) -> [u8; 5] {
    let n = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    [kind, n[0], n[1], n[2], n[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_survives_the_wire_as_json() {
        let r = Request {
            version: PROTOCOL_VERSION,
            data_dir: "/var/lib/entrywatch".into(),
            now: Some(DateTime::parse_from_rfc3339("2026-03-08T02:30:00-05:00").unwrap()),
            job: Job::Query(Query::Deadlines { within: Some(30), json: true, ics: false, remind: false }),
        };
        let back: Request = serde_json::from_slice(&serde_json::to_vec(&r).unwrap()).unwrap();
        assert_eq!(back.now, r.now);
        assert_eq!(back.data_dir, r.data_dir);
        match back.job {
            Job::Query(Query::Deadlines { within, json, ics, remind }) => {
                assert_eq!((within, json, ics, remind), (Some(30), true, false, false))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_client_looks_in_the_data_dir_last() {
        let paths = client_paths(Path::new("/srv/ew"));
        assert_eq!(paths.last().unwrap(), &Path::new("/srv/ew").join(SOCKET_NAME));
        assert!(paths.contains(&Path::new("/run/entrywatch/entrywatch.sock").to_path_buf()));
    }

    #[test]
    fn frame_headers_carry_kind_and_big_endian_length() {
        assert_eq!(frame_header(frame::OUT, 0x0102), [b'O', 0, 0, 1, 2]);
    }
}
