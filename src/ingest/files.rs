//! Files on disk: hashing, claim moves (rename or copy), free and fitted names, quarantine
//! and its reports.

use super::{ioe, IngestError, Outcome, Pipeline};
use crate::config::Inbox;
use crate::interpret::Interpretation;
use crate::parse::error::{Diagnostic, Position, MAX_DIAGNOSTICS};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a file's bytes, lowercase hex, read in 64 KiB pieces (the file is never held
/// whole in memory).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hex::encode(h.finalize()))
}

pub(super) fn fsync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Move a file: rename, or copy + fsync + remove across filesystems. The destination's folder
/// is created and synced.
pub fn move_file(from: &Path, to: &Path) -> Result<(), IngestError> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(ioe(dir))?;
    match std::fs::rename(from, to) {
        Ok(()) => {}
        Err(e) if from.exists() && e.kind() != std::io::ErrorKind::PermissionDenied => {
            // A short temporary name: the destination's name may already be near NAME_MAX.
            static COPIES: AtomicUsize = AtomicUsize::new(0);
            let tmp = dir.join(format!(
                ".entrywatch-{}-{}.copying",
                std::process::id(),
                COPIES.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::copy(from, &tmp).map_err(ioe(&tmp))?;
            std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(ioe(&tmp))?;
            std::fs::rename(&tmp, to).map_err(ioe(to))?;
            fsync_dir(dir);
            std::fs::remove_file(from).map_err(ioe(from))?;
        }
        Err(e) => return Err(IngestError::Io { path: from.to_path_buf(), err: e }),
    }
    fsync_dir(dir);
    Ok(())
}

/// Rename, or copy + fsync + remove across filesystems; no folder fsync (the store knows every
/// committed file by content, so a rename lost in a power cut is finished at the next start).
pub(super) fn rename_or_copy(from: &Path, to: &Path) -> Result<(), IngestError> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if from.exists() && e.kind() != std::io::ErrorKind::PermissionDenied => move_file(from, to),
        Err(e) => Err(IngestError::Io { path: from.to_path_buf(), err: e }),
    }
}

/// A free path `dir/name`, else `dir/name.<n>` (the name fitted to the filesystem first).
pub(super) fn free_path(dir: &Path, name: &str) -> PathBuf {
    free_path_with(dir, name, None)
}

/// A free path `dir/name` (else `dir/name.<n>`) whose companion `<that name><companion>` is
/// free too: a quarantined file never takes, nor overwrites, another file's report. A
/// companion left alone by an interrupted quarantine (written, then the process died before
/// the file moved beside it) is an orphan, not another file's: it is free to be written again,
/// so a retry after a crash ends as an uninterrupted run would. A companion that is itself a
/// quarantined file (it has a companion of its own) is never taken.
fn free_path_with(dir: &Path, name: &str, companion: Option<&str>) -> PathBuf {
    let name = fit_name(name);
    let with = |p: &Path, c: &str| {
        let mut o = p.as_os_str().to_os_string();
        o.push(c);
        PathBuf::from(o)
    };
    let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    let free = |p: &PathBuf| {
        !exists(p)
            && companion.is_none_or(|c| {
                let report = with(p, c);
                !exists(&report) || (report.is_file() && !exists(&with(&report, c)))
            })
    };
    let p = dir.join(&name);
    if free(&p) {
        return p;
    }
    (1..).map(|n| dir.join(format!("{name}.{n}"))).find(free).unwrap_or(p)
}

/// Longest file name entrywatch writes before adding its own suffixes (`.<n>`, `.<sha12>`,
/// `.error.txt`): 255 bytes (NAME_MAX on Linux) less room for them.
pub const MAX_STORED_NAME: usize = 200;

/// A name that fits under [`MAX_STORED_NAME`] bytes: longer names keep their first bytes (on a
/// character boundary) and end in `~` and 12 hex digits of the SHA-256 of the whole name, so
/// two long names that share a start stay apart. `/` and NUL never occur (they came from a
/// directory entry).
pub fn fit_name(name: &str) -> String {
    if name.len() <= MAX_STORED_NAME {
        return name.to_string();
    }
    let mut cut = MAX_STORED_NAME - 13;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let digest = sha256_hex(name.as_bytes());
    format!("{}~{}", &name[..cut], &digest[..12])
}

impl Pipeline {
    pub(super) fn quarantine(
        &self,
        inbox: &Inbox,
        claimed: &Path,
        name: &str,
        interp: &Interpretation,
    ) -> Result<Outcome, IngestError> {
        let dir = self.layout.quarantine(&inbox.name);
        std::fs::create_dir_all(&dir).map_err(ioe(&dir))?;
        let target = free_path_with(&dir, name, Some(REPORT_SUFFIX));
        let report_path = report_path(&target);
        remove_orphan_report(&report_path);
        write_report(
            &report_path,
            name,
            &inbox.name,
            "cannot be read; nothing from it was applied.",
            &interp.diagnostics,
        )?;
        if let Err(e) = move_file(claimed, &target) {
            // Retried later under a fresh name: leave no report without its file.
            let _ = std::fs::remove_file(&report_path);
            return Err(e);
        }
        let first = interp.diagnostics.iter().find(|d| d.is_error()).map(|d| d.to_string()).unwrap_or_default();
        tracing::warn!(target: "entrywatch", event = "FileQuarantined", file = %name, inbox = %inbox.name, reason = %first);
        Ok(Outcome::Quarantined { reason: first })
    }

    /// A symbolic link in an inbox (or claimed earlier): never followed. The link itself (not
    /// what it points to) moves to quarantine beside a report naming its target.
    pub(super) fn quarantine_link(&self, inbox: &Inbox, path: &Path, name: &str) -> Result<Outcome, IngestError> {
        let dir = self.layout.quarantine(&inbox.name);
        std::fs::create_dir_all(&dir).map_err(ioe(&dir))?;
        let to = std::fs::read_link(path).map_err(ioe(path))?;
        let target = free_path_with(&dir, name, Some(REPORT_SUFFIX));
        let d = Diagnostic::error(
            "P003",
            format!(
                "a symbolic link (to {}): links are not followed; copy the file itself into the inbox",
                to.display()
            ),
            Position::default(),
        );
        remove_orphan_report(&report_path(&target));
        write_report(
            &report_path(&target),
            name,
            &inbox.name,
            "is a symbolic link; nothing was read.",
            std::slice::from_ref(&d),
        )?;
        match std::fs::rename(path, &target) {
            Ok(()) => {}
            // Another filesystem: make the same link there, then drop this one.
            Err(_) => {
                std::os::unix::fs::symlink(&to, &target).map_err(ioe(&target))?;
                std::fs::remove_file(path).map_err(ioe(path))?;
            }
        }
        fsync_dir(&dir);
        let reason = d.to_string();
        tracing::warn!(target: "entrywatch", event = "FileQuarantined", file = %name, inbox = %inbox.name, reason = %reason);
        Ok(Outcome::Quarantined { reason })
    }
}

/// The suffix of a quarantined file's report.
pub const REPORT_SUFFIX: &str = ".error.txt";

fn report_path(target: &Path) -> PathBuf {
    let mut o = target.as_os_str().to_os_string();
    o.push(REPORT_SUFFIX);
    PathBuf::from(o)
}

/// A report at the path [`free_path_with`] chose is an orphan (its file never moved beside it:
/// an interrupted quarantine); remove it so the report can be written new.
fn remove_orphan_report(report: &Path) {
    if report.is_file() {
        let _ = std::fs::remove_file(report);
    }
}

/// Write a quarantine report (created new: never over another file's), one line per problem.
fn write_report(path: &Path, name: &str, inbox: &str, what: &str, diags: &[Diagnostic]) -> Result<(), IngestError> {
    let f = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(ioe(path))?;
    let mut w = std::io::BufWriter::new(f);
    let head = format!("{name}: {what}\ninbox: {inbox}\n\n");
    let mut r = w.write_all(head.as_bytes());
    for d in diags.iter().take(MAX_DIAGNOSTICS + 1) {
        r = r.and_then(|_| writeln!(w, "{d}"));
    }
    r.and_then(|_| w.flush()).map_err(ioe(path))?;
    w.get_ref().sync_all().map_err(ioe(path))
}

pub(super) fn is_temp(p: &Path) -> bool {
    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    n.starts_with('.')
}

/// The name a claimed file arrived with (work files keep it). A name that is not UTF-8 is
/// read with its invalid bytes replaced (U+FFFD): the file is still processed, under that name.
pub(super) fn original_name(p: &Path) -> String {
    match p.file_name() {
        Some(n) => n.to_string_lossy().into_owned(),
        None => "file".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_hashed_in_pieces_has_the_digest_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        // Longer than one 64 KiB piece and not a multiple of it.
        let bytes: Vec<u8> = (0..200_003u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(sha256_file(&p).unwrap(), sha256_hex(&bytes));
        std::fs::write(&p, b"").unwrap();
        assert_eq!(sha256_file(&p).unwrap(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
