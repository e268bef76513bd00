//! Hostile files through the real binary (`parse`, `ingest`, `check-config`, `rebuild`):
//! millions-of-errors files capped, oversize files refused unread, names the filesystem cannot
//! extend, names that are not UTF-8, symbolic links, reports that would overwrite each other,
//! a 350 with thousands of X4 segments, and configs with many problems.

mod common;

use common::Env;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The 350 sample: entry EEE-1234567-3 (filer EEE), five X4 dispositions.
fn sample_350() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12/350-holds-exam-release.x12")).unwrap()
}

/// A 350 for entry EEE-1234567-3 whose body is `body` (segments without terminators).
fn x12_350(body: &[String], control: u32) -> Vec<u8> {
    let mut segs = vec![
        format!("GS*AU*ENTRYWATCHTEST*CBPTEST*20260203*1012*{control}*X*005010"),
        "ST*350*0001".to_string(),
        "M10*MAEU*11*DK*9321483*MAERSK ESSEX*612W".to_string(),
        "P4*2704*20260201*100*2704".to_string(),
    ];
    segs.extend(body.iter().cloned());
    let n = segs.len() - 1 + 1; // ST..SE inclusive: the body after GS, plus SE
    segs.push(format!("SE*{n}*0001"));
    segs.push(format!("GE*1*{control}"));
    segs.push(format!("IEA*1*{control:09}"));
    let isa = format!(
        "ISA*00*          *00*          *ZZ*ENTRYWATCHTEST *ZZ*CBPTEST        *260203*1012*^*00501*{control:09}*0*T*:~"
    );
    format!("{isa}\n{}~\n", segs.join("~\n")).into_bytes()
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn five_thousand_bad_segments_keep_a_thousand_diagnostics() {
    let env = Env::new();
    let body: Vec<String> = (0..5000).map(|_| "K1*BAD".to_string()).collect();
    let bytes = x12_350(&body, 101);
    let p = env.root().join("k1.x12");
    std::fs::write(&p, &bytes).unwrap();
    // parse: at most 1,000 kept, the rest counted in one closing warning.
    let o = env.cmd().arg("parse").arg(&p).arg("--json").output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let file = if v.is_array() { v[0].clone() } else { v };
    let errors = file["errors"].as_array().unwrap();
    assert!(errors.len() <= 1_001, "{} diagnostics kept", errors.len());
    let last = errors.last().unwrap();
    assert_eq!(last["code"], "X12E099", "{last}");
    assert!(last["message"].as_str().unwrap().contains("further diagnostics were not kept"), "{last}");
    // ingest: quarantined, the report bounded too.
    let dropped = env.drop_file("broker", "k1.x12", &bytes);
    let o = env.ingest("broker", &[dropped]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let report = env.data().join("quarantine/broker/k1.x12.error.txt");
    let n = lines(&report);
    assert!((1_000..=1_010).contains(&n), "report has {n} lines");
    assert!(std::fs::read_to_string(&report).unwrap().contains("further diagnostics were not kept"));
}

#[test]
fn a_file_above_max_file_bytes_is_quarantined_unread() {
    let env = Env::new();
    let cfg = std::fs::read_to_string(env.config()).unwrap();
    let cfg = cfg.replacen("role = \"broker\"\n", "role = \"broker\"\nmax-file-bytes = 500\n", 1);
    std::fs::write(env.config(), cfg).unwrap();
    let bytes = sample_350();
    assert!(bytes.len() > 500);
    let p = env.drop_file("broker", "big.x12", &bytes);
    let o = env.ingest("broker", &[p]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("max-file-bytes"), "{}", stdout(&o));
    let q = env.data().join("quarantine/broker");
    assert_eq!(std::fs::read(q.join("big.x12")).unwrap(), bytes, "the file is kept whole");
    let report = std::fs::read_to_string(q.join("big.x12.error.txt")).unwrap();
    assert!(report.contains("P002") && report.contains("500"), "{report}");
    assert!(env.entries().is_empty(), "nothing applied");
    // The limit is per inbox: the other inbox keeps the 16 MiB default.
    let c: entrywatch::config::Config = toml::from_str(&std::fs::read_to_string(env.config()).unwrap()).unwrap();
    assert_eq!(c.inbox("approved").unwrap().max_file_bytes, entrywatch::config::DEFAULT_MAX_FILE_BYTES);
}

#[test]
fn names_at_the_filesystem_limit_are_archived_quarantined_and_rebuilt() {
    let env = Env::new();
    // 251 bytes: the name itself fits (NAME_MAX 255), `.<sha12>` or `.error.txt` would not.
    let long = format!("{}.x12", "n".repeat(247));
    assert_eq!(long.len(), 251);
    let first = sample_350();
    let p = env.drop_file("broker", &long, &first);
    let o = env.ingest("broker", &[p]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // Different bytes under the same long name, the same day: the archive must add a suffix.
    let second = x12_350(&["X4*MAEU123456789*100*01*EEE12345673*20260205*0900*1C**MAEU".to_string()], 202);
    let p = env.drop_file("broker", &long, &second);
    let o = env.ingest("broker", &[p]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    // A bad file with a long name: quarantined beside its report.
    let p = env.drop_file("broker", &long, b"not a customs file\n");
    let o = env.ingest("broker", &[p]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(env.files_under("work").is_empty(), "nothing stuck in work/: {:?}", env.files_under("work"));
    let archived = env.files_under("archive");
    assert_eq!(archived.iter().filter(|f| f.contains("nnnn")).count(), 2, "{archived:?}");
    let quarantined = env.files_under("quarantine");
    assert_eq!(quarantined.len(), 2, "{quarantined:?}");
    assert!(quarantined.iter().any(|f| f.ends_with(".error.txt")), "{quarantined:?}");
    for f in archived.iter().chain(&quarantined) {
        let name = f.rsplit('/').next().unwrap();
        assert!(name.len() <= 255, "{name}");
    }
    // rebuild finds every archived file: nothing is dropped.
    let before = env.dump();
    let o = env.cmd().arg("rebuild").arg("--config").arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(!stderr(&o).contains("missing"), "{}", stderr(&o));
    assert_eq!(env.dump(), before);
    let events = before["EEE-1234567-3"]["events"].as_array().unwrap().len();
    assert!(events >= 6, "both files' dispositions are on the entry ({events} events)");
}

#[test]
fn a_name_that_is_not_utf8_is_processed() {
    let env = Env::new();
    let name = std::ffi::OsStr::from_bytes(b"cbp-\xff\xfe-350.x12");
    let p: PathBuf = env.inbox("broker").join(name);
    std::fs::write(&p, sample_350()).unwrap();
    let o = env.ingest("broker", std::slice::from_ref(&p));
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(!p.exists(), "claimed");
    assert_eq!(env.entries(), ["EEE-1234567-3"]);
    let archived = env.files_under("archive");
    assert!(archived.iter().any(|f| f.ends_with("cbp-\u{FFFD}\u{FFFD}-350.x12")), "{archived:?}");
}

#[test]
fn a_symlink_is_quarantined_and_never_followed() {
    let env = Env::new();
    let outside = env.root().join("secret.x12");
    std::fs::write(&outside, sample_350()).unwrap();
    let link = env.inbox("broker").join("link.x12");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let o = env.ingest("broker", std::slice::from_ref(&link));
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("symbolic link"), "{}", stdout(&o));
    assert!(env.entries().is_empty(), "the link's target was not read");
    assert!(env.files_under("archive").iter().all(|f| !f.contains("link")), "nothing archived");
    let q = env.data().join("quarantine/broker");
    let kept = std::fs::symlink_metadata(q.join("link.x12")).unwrap();
    assert!(kept.file_type().is_symlink(), "the link itself is kept");
    assert_eq!(std::fs::read_link(q.join("link.x12")).unwrap(), outside);
    assert!(std::fs::read_to_string(q.join("link.x12.error.txt")).unwrap().contains("P003"));
    assert!(outside.exists(), "the target is untouched");
    assert!(std::fs::symlink_metadata(&link).is_err(), "the link left the inbox");
}

#[test]
fn a_quarantine_report_never_overwrites_another_file() {
    let env = Env::new();
    // First a bad file named like the report of the next one.
    let p = env.drop_file("broker", "x.abi.error.txt", b"first bad file\n");
    assert_eq!(env.ingest("broker", &[p]).status.code(), Some(1));
    let q = env.data().join("quarantine/broker");
    let first = std::fs::read(q.join("x.abi.error.txt")).unwrap();
    assert_eq!(first, b"first bad file\n");
    let p = env.drop_file("broker", "x.abi", b"second bad file\n");
    assert_eq!(env.ingest("broker", &[p]).status.code(), Some(1));
    assert_eq!(std::fs::read(q.join("x.abi.error.txt")).unwrap(), first, "the first file is intact");
    let names = support_names(&q);
    assert!(names.contains(&"x.abi.1".to_string()) && names.contains(&"x.abi.1.error.txt".to_string()), "{names:?}");
    assert_eq!(std::fs::read(q.join("x.abi.1")).unwrap(), b"second bad file\n");
}

fn support_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().to_string()).collect();
    v.sort();
    v
}

#[test]
fn thousands_of_dispositions_in_one_file_stay_readable_and_make_few_alerts() {
    let env = Env::new();
    let cfg = std::fs::read_to_string(env.config()).unwrap();
    let cfg = format!(
        "{cfg}[[route]]\nto = [\"c@example.com\"]\ncategories = [\"disposition\", \"rejection\", \"variance\", \"deadline\", \"statement\", \"liquidation\"]\nmin-severity = \"info\"\n"
    );
    std::fs::write(env.config(), cfg).unwrap();
    let codes = ["1H", "1A", "1B", "1C", "1I"];
    let body: Vec<String> = (0..3000)
        .map(|i| format!("X4*MAEU{i:09}*100*01*EEE12345673*20260203*{:04}*{}**MAEU", 1000 + i % 50, codes[i % 5]))
        .collect();
    let p = env.drop_file("broker", "many-x4.x12", &x12_350(&body, 303));
    let o = env.ingest("broker", &[p]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let e = env.entry_json("EEE-1234567-3");
    let events = e["events"].as_array().unwrap();
    assert!(events.len() >= 3000, "{} events", events.len());
    let o = env.cmd().args(["alerts", "--json", "--config"]).arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let alerts: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let alerts = alerts.as_array().unwrap();
    assert!(!alerts.is_empty() && alerts.len() <= 10, "{} alerts for one entry from one file", alerts.len());
    assert!(alerts.iter().all(|a| a["id"].as_str().unwrap().contains("/file-")), "{alerts:?}");
    // The mails (written as .eml files) say how many there were, by code.
    let mails: String = env
        .files_under("mail")
        .iter()
        .map(|f| std::fs::read_to_string(env.data().join("mail").join(f)).unwrap_or_default())
        .collect();
    assert!(mails.contains("grouped into this one mail"), "{}", &mails[..mails.len().min(2000)]);
    assert!(mails.contains("600 x X407 1A"), "counts per code");
}

#[test]
fn check_config_lists_every_problem() {
    let env = Env::new();
    let cfg = env.root().join("bad.toml");
    let data = env.root().join("data");
    let text = format!(
        "data-dir = {:?}\nbogus = 1\n[daemon]\nrescan-secs = \"often\"\nconcurency = 3\n",
        data.display().to_string()
    );
    std::fs::write(&cfg, text).unwrap();
    let o = env.cmd().arg("check-config").arg("--config").arg(&cfg).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 3, "{err}");
    assert!(err.contains("bogus") && err.contains("concurency") && err.contains("line 4"), "{err}");
    // Valid TOML, but an inbox in the data dir's quarantine and files that do not exist.
    let text = format!(
        "data-dir = {:?}\n[[inbox]]\nname = \"b\"\npath = {:?}\nrole = \"broker\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nfrom = \"ew <ew@example.com>\"\nusername = \"ew\"\npassword-file = {:?}\n\
         [dashboard]\nlisten = \"127.0.0.1:0\"\ntoken-file = {:?}\n",
        data.display().to_string(),
        data.join("quarantine/b").display().to_string(),
        env.root().join("no-such-password").display().to_string(),
        env.root().join("no-such-token").display().to_string(),
    );
    std::fs::write(&cfg, text).unwrap();
    let o = env.cmd().arg("check-config").arg("--config").arg(&cfg).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("overlaps data-dir"), "{err}");
    // The inbox problem is found by validation; the file checks need a config that loads.
    let text = format!(
        "data-dir = {:?}\n[smtp]\nhost = \"127.0.0.1\"\nfrom = \"ew <ew@example.com>\"\nusername = \"ew\"\npassword-file = {:?}\n\
         [dashboard]\nlisten = \"127.0.0.1:0\"\ntoken-file = {:?}\n",
        data.display().to_string(),
        env.root().join("no-such-password").display().to_string(),
        env.root().join("no-such-token").display().to_string(),
    );
    std::fs::write(&cfg, text).unwrap();
    let o = env.cmd().arg("check-config").arg("--config").arg(&cfg).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("smtp.password-file") && err.contains("dashboard.token-file"), "{err}");
}

#[test]
fn cli_edges_are_refused_and_a_closed_pipe_is_quiet() {
    let env = Env::new();
    let run = |args: &[&str]| {
        let o = env.cmd().args(args).arg("--config").arg(env.config()).output().unwrap();
        (o.status.code(), stderr(&o))
    };
    let (code, err) = run(&["report", "entry-summary", "--from", "26-02-01"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let (code, err) = run(&["report", "entry-summary", "--from", "2026-03-01", "--to", "2026-02-01"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("after --to"), "{err}");
    let (code, err) = run(&["entries", "--status", "helld"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("helld"), "{err}");
    assert_eq!(run(&["entries", "--status", "held"]).0, Some(0));
    let o =
        env.cmd().env("ENTRYWATCH_NOW", "yesterday").args(["entries", "--config"]).arg(env.config()).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("ENTRYWATCH_NOW"), "{}", stderr(&o));
    // A long timeline piped into a reader that goes away (`entry ... | head`).
    let codes = ["1H", "1A", "1B", "1C", "1I"];
    let body: Vec<String> = (0..2000)
        .map(|i| format!("X4*MAEU{i:09}*100*01*EEE12345673*20260203*{:04}*{}**MAEU", 1000 + i % 50, codes[i % 5]))
        .collect();
    let p = env.drop_file("broker", "long.x12", &x12_350(&body, 404));
    assert!(env.ingest("broker", &[p]).status.success());
    let mut child = env
        .cmd()
        .args(["entry", "EEE-1234567-3", "--config"])
        .arg(env.config())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut out, &mut first).unwrap();
    drop(out);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}

/// The outbox as identities, the no-release warning's arrival time left out (it names the
/// arrival known when it was raised), counted.
fn mails(env: &Env) -> std::collections::BTreeMap<String, usize> {
    let o = env.cmd().args(["alerts", "--json", "--config"]).arg(env.config()).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for r in rows.as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        let key = match id.find("/no-release/") {
            Some(i) => format!("{}/no-release", &id[..i]),
            None => id.to_string(),
        };
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

#[test]
fn files_in_any_order_raise_the_same_mails_once_per_entry_and_kind() {
    let files = ["life-01-ae-filed.abi", "life-02-ax-accepted.abi", "life-03-so-exam.abi", "life-04-so-fda-hold.abi"];
    let orders: [[usize; 4]; 3] = [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]];
    let mut seen = Vec::new();
    for order in orders {
        let env = Env::new();
        let cfg = std::fs::read_to_string(env.config()).unwrap();
        let cfg = format!(
            "{cfg}[alerts]\nno-release-days = 1\n[[route]]\nto = [\"c@example.com\"]\ncategories = [\"disposition\", \"rejection\", \"variance\", \"deadline\", \"statement\", \"liquidation\"]\nmin-severity = \"info\"\n"
        );
        std::fs::write(env.config(), cfg).unwrap();
        // One `ingest` per file, each followed by its no-release check (as the daemon does
        // after every commit), all long after the cargo arrived.
        for i in order {
            let p = env.drop_file("broker", files[i], &std::fs::read(common::samples().join(files[i])).unwrap());
            let o = env.ingest("broker", &[p]);
            assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        }
        let m = mails(&env);
        assert!(m.values().all(|&n| n == 1), "a mail twice in order {order:?}: {m:#?}");
        assert!(m.keys().any(|k| k.ends_with("/no-release")), "the no-release warning: {m:#?}");
        seen.push((order, m));
    }
    for (order, m) in &seen[1..] {
        assert_eq!(m, &seen[0].1, "order {order:?} against {:?}", seen[0].0);
    }
}

#[test]
fn a_claimed_file_that_cannot_be_finished_does_not_block_ingest() {
    let env = Env::new();
    // A bad file left claimed in work/ whose quarantine folder cannot be made.
    let work = env.data().join("work/broker");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("stuck.txt"), b"not a customs file\n").unwrap();
    std::fs::create_dir_all(env.data().join("quarantine")).unwrap();
    std::fs::write(env.data().join("quarantine/broker"), b"in the way").unwrap();
    let p = env.drop_file("broker", "good.x12", &sample_350());
    let o = env.ingest("broker", &[p]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("applied") && stdout(&o).contains("good.x12"), "{}", stdout(&o));
    assert!(stderr(&o).contains("error:"), "the stuck file is reported: {}", stderr(&o));
    assert_eq!(env.entries(), ["EEE-1234567-3"]);
    assert!(work.join("stuck.txt").exists(), "kept for the next run");
    // The obstacle gone, the next run finishes it.
    std::fs::remove_file(env.data().join("quarantine/broker")).unwrap();
    let o = env.ingest("broker", &[]);
    assert_eq!(o.status.code(), Some(1), "quarantined: {}{}", stdout(&o), stderr(&o));
    assert!(!work.join("stuck.txt").exists());
    assert!(env.data().join("quarantine/broker/stuck.txt.error.txt").exists());
}
