//! Process health: problems the daemon's parts report while running (a file stuck after its
//! claim, a store write that failed, a task that stopped), read by `/healthz` and cleared when
//! the part recovers.

use std::collections::BTreeMap;
use std::sync::Mutex;

static PROBLEMS: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

/// The first store write that failed in this process (disk full, I/O error), if any.
static STORE_FAILED: Mutex<Option<String>> = Mutex::new(None);

/// The part name under which a failed store write is reported.
pub const STORE_PART: &str = "store";

/// Record that a store write (a transaction or a flush) failed. The engine (sled) keeps such
/// an error for the life of the process and what it holds in memory may no longer match the
/// disk: from now on no file is processed (they stay claimed), `/healthz` reports it, and the
/// daemon exits non-zero once space is back so that systemd restarts it on a clean store
/// ([`space_is_back`]).
pub fn store_write_failed(error: &str) {
    let mut f = STORE_FAILED.lock().unwrap_or_else(|e| e.into_inner());
    if f.is_none() {
        *f = Some(error.to_string());
        drop(f);
        tracing::error!(target: "entrywatch", event = "StoreWriteFailed", error = %error,
            "no file is processed until entrywatch restarts; it exits (for systemd to restart it) once there is space");
        set(STORE_PART, Some(format!("a store write failed ({error}); files are held in work/ until a restart")));
    }
}

/// The failed store write of this process, if any.
pub fn store_failed() -> Option<String> {
    STORE_FAILED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Bytes [`space_is_back`] writes to see whether the store's filesystem takes writes again.
pub const SPACE_PROBE_BYTES: usize = 1 << 20;

/// Whether `dir`'s filesystem takes a write again: a [`SPACE_PROBE_BYTES`] file is written,
/// synced and removed.
pub fn space_is_back(dir: &std::path::Path) -> bool {
    use std::io::Write;
    let probe = dir.join(".entrywatch-space-probe");
    let ok = std::fs::File::create(&probe)
        .and_then(|mut f| f.write_all(&vec![0u8; SPACE_PROBE_BYTES]).and_then(|_| f.sync_all()))
        .is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

/// Record (`Some`) or clear (`None`) the problem of one part (`inbox broker`, `store` ...).
pub fn set(part: &str, problem: Option<String>) {
    let mut p = PROBLEMS.lock().unwrap_or_else(|e| e.into_inner());
    match problem {
        Some(text) => {
            p.insert(part.to_string(), text);
        }
        None => {
            p.remove(part);
        }
    }
}

/// Every open problem: (part, what), sorted by part.
pub fn problems() -> Vec<(String, String)> {
    let p = PROBLEMS.lock().unwrap_or_else(|e| e.into_inner());
    p.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_clear() {
        set("test-part", Some("disk full".into()));
        assert!(problems().iter().any(|(k, v)| k == "test-part" && v == "disk full"));
        set("test-part", None);
        assert!(!problems().iter().any(|(k, _)| k == "test-part"));
    }

    #[test]
    fn a_writable_folder_has_space_and_a_missing_one_has_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(space_is_back(dir.path()));
        assert!(!dir.path().join(".entrywatch-space-probe").exists(), "the probe is removed");
        assert!(!space_is_back(&dir.path().join("absent")));
    }
}
