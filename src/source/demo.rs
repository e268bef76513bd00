//! `run --demo`: the samples embedded at build time (samples/) and seeding them into the configured inboxes.

use crate::config::{Config, Role};
use crate::parse::{sniff, Format};
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_samples.rs"));
}

/// The samples embedded in this binary: (path relative to samples/, bytes). The generator
/// scripts shipped beside them (`make_samples.py`) are not samples and are left out.
pub fn samples() -> Vec<(&'static str, &'static [u8])> {
    embedded::SAMPLES.iter().copied().filter(|(rel, _)| is_sample(rel)).collect()
}

/// Whether a file under samples/ is a sample file (not a script or a note about the samples).
pub fn is_sample(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    ![".py", ".sh", ".md"].iter().any(|ext| name.ends_with(ext)) && !name.starts_with("readme")
}

/// Which role's inbox a sample belongs in: pre-entry CSV, or anything under a folder named
/// `approved`/`pre-entry` (folder or file name), goes to the approved inbox; everything else to the broker's.
pub fn role_for(rel: &str, bytes: &[u8]) -> Role {
    let lower = rel.to_ascii_lowercase();
    let approved_dir = lower.split('/').any(|d| d.contains("approved") || d.contains("pre-entry"));
    if approved_dir || sniff(bytes) == Format::Csv {
        Role::Approved
    } else {
        Role::Broker
    }
}

/// Create every inbox folder, then copy each sample into the first inbox of its role
/// (written under a temporary name and renamed, so the daemon never sees half a sample).
/// A sample already in its inbox, or already handled by an earlier demo (a file of that name
/// under `<data-dir>/archive/` or `<data-dir>/quarantine/`), is left alone, so running the
/// demo again adds nothing twice. Returns the paths written.
pub fn seed(config: &Config) -> std::io::Result<Vec<PathBuf>> {
    let chosen: Vec<(&str, &[u8])> = samples().iter().copied().filter(|(rel, _)| in_demo(rel)).collect();
    seed_from(config, &chosen)
}

/// The samples `run --demo` seeds: one entry's whole life (filing, acceptance, exam, agency
/// hold and release, statements, liquidation, the approved pre-entry that differs on one line),
/// a rejected summary, UC notices for other entries, a monthly statement, CBP 350 holds for a
/// second entry, the importer's own X12, and broken files that show quarantine (one truncated). The
/// quirk and error samples (which repeat the same entry) are for the tests, not the demo.
pub const DEMO: &[&str] = &[
    "abi/life-",
    "abi/ax-rejected.abi",
    "abi/ms-monthly.abi",
    "abi/broken-y-count.abi",
    "abi/broken-missing-z.abi",
    "x12/350-old-gs01-so-004010.x12",
    "x12/810-invoice.x12",
    "x12/850-po.x12",
    "x12/856-asn-hl.x12",
    "x12/err-se-count.x12",
];

/// Whether a sample (path relative to samples/) is part of the demo.
pub fn in_demo(rel: &str) -> bool {
    DEMO.iter().any(|p| rel.starts_with(p))
}

/// [`seed`] with a given set of samples.
pub fn seed_from(config: &Config, samples: &[(&str, &[u8])]) -> std::io::Result<Vec<PathBuf>> {
    for i in &config.inbox {
        std::fs::create_dir_all(&i.path)?;
    }
    let mut handled = std::collections::HashSet::new();
    for dir in ["archive", "quarantine"] {
        names_under(&config.data_dir.join(dir), &mut handled);
    }
    let mut written = Vec::new();
    for (rel, bytes) in samples {
        let role = role_for(rel, bytes);
        let Some(inbox) = config.inbox.iter().find(|i| i.role == role) else { continue };
        // Flatten the relative path into one file name: subfolders are not read.
        let name = rel.replace('/', "-");
        let dest = inbox.path.join(&name);
        if dest.exists() || handled.contains(std::ffi::OsStr::new(&name)) {
            continue;
        }
        let tmp = inbox.path.join(format!(".{name}.tmp"));
        write_then_rename(&tmp, &dest, bytes)?;
        written.push(dest);
    }
    Ok(written)
}

/// The file names anywhere under `dir` (none when it does not exist).
fn names_under(dir: &Path, out: &mut std::collections::HashSet<std::ffi::OsString>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        match e.file_type() {
            Ok(t) if t.is_dir() => names_under(&e.path(), out),
            Ok(_) => {
                out.insert(e.file_name());
            }
            Err(_) => {}
        }
    }
}

fn write_then_rename(tmp: &Path, dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(tmp, bytes)?;
    std::fs::rename(tmp, dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_by_role_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = Config::embedded();
        cfg.data_dir = dir.path().join("data");
        cfg.inbox[0].path = dir.path().join("in/broker");
        cfg.inbox[1].path = dir.path().join("in/approved");
        let samples: &[(&str, &[u8])] = &[
            ("abi/ae.txt", b"A  2704EEE...\n"),
            ("x12/856.x12", b"ISA*00*..."),
            ("csv/pre.csv", b"entry_number,hts\nEEE-1,1\n"),
            ("approved/ae.txt", b"A  2704EEE...\n"),
        ];
        let w = seed_from(&cfg, samples).unwrap();
        assert_eq!(w.len(), 4);
        let mut broker: Vec<_> =
            std::fs::read_dir(&cfg.inbox[0].path).unwrap().map(|e| e.unwrap().file_name()).collect();
        broker.sort();
        assert_eq!(broker, ["abi-ae.txt", "x12-856.x12"]);
        let mut approved: Vec<_> =
            std::fs::read_dir(&cfg.inbox[1].path).unwrap().map(|e| e.unwrap().file_name()).collect();
        approved.sort();
        assert_eq!(approved, ["approved-ae.txt", "csv-pre.csv"]);
        assert_eq!(std::fs::read(cfg.inbox[1].path.join("csv-pre.csv")).unwrap(), samples[2].1);
        assert!(seed_from(&cfg, samples).unwrap().is_empty(), "a second seed writes nothing");

        // Once the daemon has archived or quarantined a sample, the demo does not bring it back.
        let day = cfg.data_dir.join("archive/2026/02/20/broker");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::rename(cfg.inbox[0].path.join("abi-ae.txt"), day.join("abi-ae.txt")).unwrap();
        let q = cfg.data_dir.join("quarantine/broker");
        std::fs::create_dir_all(&q).unwrap();
        std::fs::rename(cfg.inbox[0].path.join("x12-856.x12"), q.join("x12-856.x12")).unwrap();
        assert!(seed_from(&cfg, samples).unwrap().is_empty(), "handled samples are not seeded again");
        std::fs::remove_file(q.join("x12-856.x12")).unwrap();
        let again = seed_from(&cfg, samples).unwrap();
        assert_eq!(again, vec![cfg.inbox[0].path.join("x12-856.x12")]);
    }

    #[test]
    fn scripts_are_not_samples() {
        assert!(!is_sample("abi/make_samples.py") && !is_sample("x12/README.md") && !is_sample("gen.sh"));
        assert!(is_sample("abi/life-01-ae-filed.abi") && is_sample("x12/850-po.x12") && is_sample("csv/pre.csv"));
        let embedded = samples();
        assert!(embedded.iter().any(|(r, _)| r.ends_with("life-01-ae-filed.abi")), "the samples are embedded");
        assert!(embedded.iter().all(|(r, _)| is_sample(r)));
    }
}
